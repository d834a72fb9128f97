import { describe, expect, it } from 'vitest';
import { parseConfig } from '../lib/config';

const parse = (ctx: Record<string, unknown>) => parseConfig((k) => ctx[k]);

describe('context parsing', () => {
  it('defaults to a dev stack with serverless Valkey and no reserved concurrency', () => {
    expect(parse({})).toMatchObject({
      stage: 'dev',
      redis: true,
      redisMode: 'serverless',
      redisEngine: 'valkey',
      natGateways: 1,
      arch: 'arm64',
      maxReceiveCount: 5,
      persistBatchSize: 25,
      reservedConcurrency: {},
      corsOrigins: ['*'],
      nag: true,
    });
  });

  it('reads CLI strings and cdk.json values alike', () => {
    expect(parse({ redis: 'false', maxReceiveCount: '3' })).toMatchObject({ redis: false, maxReceiveCount: 3 });
    expect(parse({ redis: false, maxReceiveCount: 3 })).toMatchObject({ redis: false, maxReceiveCount: 3 });
  });

  it('gives prod its own defaults', () => {
    expect(parse({ stage: 'prod' })).toMatchObject({ natGateways: 2, logRetentionDays: 90 });
  });

  it.each([
    [{ stage: 'staging' }, /"stage": expected one of dev, prod/],
    [{ redis: 'yes' }, /"redis": expected true or false/],
    [{ maxReceiveCount: '0' }, /"maxReceiveCount"/],
    [{ persistMaxConcurrency: 1 }, /"persistMaxConcurrency"/],
    [{ logRetentionDays: 10 }, /"logRetentionDays": CloudWatch Logs accepts only/],
    [{ jwtIssuer: 'https://x.example.com' }, /"jwtAudience": jwtIssuer and jwtAudience go together/],
    [{ jwtIssuer: 'http://x.example.com', jwtAudience: 'a' }, /"jwtIssuer": must be an https/],
    [{ jwksUrl: 'https://x.example.com/jwks' }, /"jwksUrl": only meaningful with jwtIssuer/],
    [{ alarmEmail: 'not-an-email' }, /"alarmEmail"/],
    [{ reservedConcurrency: 'nope' }, /"reservedConcurrency": expected a JSON object/],
    [{ persistBatchSize: 25, persistBatchWindowSecs: 0 }, /"persistBatchWindowSecs"/],
  ])('rejects %j naming the key', (ctx, message) => {
    expect(() => parse(ctx)).toThrow(message);
  });
});
