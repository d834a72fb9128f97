/**
 * cdk-nag's AwsSolutions pack over every deployment shape. cdk-nag v3 is a
 * CDK policy-validation plugin: findings land in the assembly's
 * validation-report.json (and make an in-memory synth throw). Everything
 * left after the acknowledgments — each with its reason, next to the
 * resource — fails the test, warnings included.
 */
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { type Ctx, nagReport, summarize } from './helpers';

const SHAPES: [string, Ctx][] = [
  ['dev, serverless Valkey', {}],
  ['dev without Redis', { redis: 'false' }],
  ['prod', { stage: 'prod' }],
  ['cluster Redis OSS, SQS endpoint, alarm email', { redisMode: 'cluster', redisEngine: 'redis', sqsEndpoint: 'true', alarmEmail: 'ops@example.com' }],
  ['external issuer, no account logging role', { jwtIssuer: 'https://issuer.example.com', jwtAudience: 'web', apigwAccountRole: 'false' }],
];

describe('cdk-nag AwsSolutions', () => {
  it.each(SHAPES)('reports nothing unacknowledged for %s', (_, ctx) => {
    const { violations, error } = nagReport(ctx);
    expect(summarize(violations)).toEqual([]);
    expect(error).toBeUndefined();
  });

  it('does report a finding that is not acknowledged (the harness is live)', () => {
    const { violations, error } = nagReport({ redis: 'false' }, (stack) => {
      new sqs.Queue(stack, 'Unencrypted', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    });
    const rules = violations.map((v) => v.ruleName);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-SQS2', 'AwsSolutions-SQS3', 'AwsSolutions-SQS4']));
    expect(error?.message).toMatch(/AwsSolutions-SQS/);
  });
});
