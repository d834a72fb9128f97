import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { fnResource, logicalId, resources, synth } from './helpers';

describe('persist queue', () => {
  const s = synth();
  const t = s.template;
  const queueId = logicalId(s.stack, s.stack.queue);
  const dlqId = logicalId(s.stack, s.stack.deadLetterQueue);
  const queue = () => t.toJSON().Resources[queueId].Properties;

  it('dead-letters a job after 5 receives', () => {
    expect(queue().RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 5 });
  });

  it('takes maxReceiveCount from context', () => {
    synth({ maxReceiveCount: '7' }).template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 7 }),
    });
  });

  it('encrypts both queues and refuses plain-HTTP access', () => {
    for (const [, q] of resources(t, 'AWS::SQS::Queue')) expect(q.Properties.SqsManagedSseEnabled).toBe(true);
    const policies = resources(t, 'AWS::SQS::QueuePolicy');
    expect(policies).toHaveLength(2);
    for (const [, p] of policies) {
      expect(p.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });

  it('sets the visibility timeout to at least 6x the persist timeout plus the batching window', () => {
    const persist = fnResource(s, 'chat-persist').Properties;
    expect(persist.Timeout).toBe(30);
    expect(queue().VisibilityTimeout).toBeGreaterThanOrEqual(6 * persist.Timeout + 1);

    const slow = synth({ persistTimeoutSecs: 60, persistBatchWindowSecs: 5 });
    expect(fnResource(slow, 'chat-persist').Properties.Timeout).toBe(60);
    slow.template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 6 * 60 + 5 });
  });

  it('feeds chat-persist in batches of 25 with a window, reporting partial batch failures', () => {
    t.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionName: { Ref: logicalId(s.stack, s.stack.functions['chat-persist'].fn) },
      BatchSize: 25,
      MaximumBatchingWindowInSeconds: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 10 },
    });
  });

  it('refuses a batch above 10 without a batching window (Lambda would reject it at deploy)', () => {
    expect(() => synth({ persistBatchWindowSecs: 0 })).toThrow(/persistBatchWindowSecs/);
    expect(() => synth({ persistBatchSize: 10, persistBatchWindowSecs: 0 })).not.toThrow();
  });
});
