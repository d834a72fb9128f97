import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { FUNCTION_NAMES } from '../lib/config';
import { EMF_METRICS } from '../lib/monitoring';
import { logicalId, resources, synth } from './helpers';

describe('alarms and dashboard', () => {
  const s = synth();
  const t = s.template;
  const alarms = resources(t, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);

  it('alarms when the DLQ holds anything', () => {
    const dlq = logicalId(s.stack, s.stack.deadLetterQueue);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('alarms on the age of the oldest persist job', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(s.stack, s.stack.queue), 'QueueName'] } }],
      Threshold: 300,
    });
  });

  it.each(FUNCTION_NAMES)('alarms on errors and throttles of %s', (name) => {
    const fn = logicalId(s.stack, s.stack.functions[name].fn);
    // The authorizer's errors alarm is metric math: authorizer-alarms.test.ts.
    for (const metric of name === 'chat-authorizer' ? ['Throttles'] : ['Errors', 'Throttles']) {
      expect(
        alarms.filter((a) => a.MetricName === metric && a.Dimensions?.[0]?.Value?.Ref === fn),
        `${name} ${metric}`,
      ).toHaveLength(1);
    }
  });

  it('alarms on WebSocket server-side errors and HTTP 5xx', () => {
    const ws = alarms.find((a) => a.Metrics?.some((m: any) => m.MetricStat?.Metric?.MetricName === 'ExecutionError'));
    expect(ws).toBeDefined();
    expect(ws!.Metrics.map((m: any) => m.MetricStat?.Metric?.MetricName).filter(Boolean).sort()).toEqual(['ExecutionError', 'IntegrationError']);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: '5xx',
      Namespace: 'AWS/ApiGateway',
      Dimensions: Match.arrayWith([{ Name: 'ApiId', Value: { Ref: logicalId(s.stack, s.stack.httpApi) } }]),
    });
  });

  it('alarms when the Redis cache circuit opens in any function, and not without Redis', () => {
    const cache = alarms.filter((a) =>
      a.Metrics?.some((m: any) => m.MetricStat?.Metric?.MetricName === 'CacheCircuitOpened'),
    );
    expect(cache).toHaveLength(1);
    const series = cache[0].Metrics.filter((m: any) => m.MetricStat);
    expect(series.map((m: any) => m.MetricStat.Metric.Namespace)).toEqual(FUNCTION_NAMES.map(() => 'Chat'));
    const fns = series.map((m: any) => m.MetricStat.Metric.Dimensions[0]);
    for (const name of FUNCTION_NAMES) {
      const fn = logicalId(s.stack, s.stack.functions[name].fn);
      expect(fns, name).toContainEqual({ Name: 'Function', Value: { Ref: fn } });
    }
    expect(cache[0].Threshold).toBe(1);
    expect(cache[0].TreatMissingData).toBe('notBreaching');

    const noRedis = resources(synth({ redis: 'false' }).template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    expect(noRedis.filter((a) => JSON.stringify(a).includes('CacheCircuitOpened'))).toHaveLength(0);
  });

  it('alarms on offline notification failures of the persist function', () => {
    const failures = alarms.filter((a) => a.MetricName === 'NotificationFailures');
    expect(failures).toHaveLength(1);
    expect(failures[0].Namespace).toBe('Chat');
    expect(failures[0].Dimensions).toEqual([
      { Name: 'Function', Value: { Ref: logicalId(s.stack, s.stack.functions['chat-persist'].fn) } },
    ]);
    expect(failures[0].Threshold).toBe(10);
    expect(failures[0].Statistic).toBe('Sum');
  });

  it('sends no notifications unless an email is configured', () => {
    t.resourceCountIs('AWS::SNS::Topic', 0);
    for (const a of alarms) expect(a.AlarmActions).toBeUndefined();
  });

  it('notifies the alarm email through an SNS topic when configured', () => {
    const n = synth({ alarmEmail: 'oncall@example.com' }).template;
    n.resourceCountIs('AWS::SNS::Topic', 1);
    n.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    const withActions = resources(n, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    expect(withActions.length).toBe(alarms.length);
    for (const a of withActions) expect(a.AlarmActions).toHaveLength(1);
  });

  it('has a dashboard graphing the Chat EMF metrics, the queues and the connections', () => {
    const [, dash] = resources(t, 'AWS::CloudWatch::Dashboard')[0];
    const body = JSON.stringify(s.stack.resolve(dash.Properties.DashboardBody));
    for (const m of EMF_METRICS) expect(body, m).toContain(`MetricName=\\\\\\"${m}\\\\\\"`);
    expect(body).toContain('Namespace=\\\\\\"Chat\\\\\\"');
    for (const m of ['ConnectCount', 'MessageCount', 'ApproximateNumberOfMessagesVisible', 'Duration']) expect(body, m).toContain(m);
  });
});
