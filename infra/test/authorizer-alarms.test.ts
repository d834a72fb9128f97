import { describe, expect, it } from 'vitest';
import { TOKENS_REFUSED_ALARM } from '../lib/monitoring';
import { logicalId, resources, synth } from './helpers';

describe('authorizer alarms: refused tokens are not failures', () => {
  const s = synth();
  const alarms = resources(s.template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
  const authorizer = logicalId(s.stack, s.stack.functions['chat-authorizer'].fn);
  const isAuthorizer = (dims: any[] | undefined, name: string) =>
    dims?.some((d) => d.Name === name && d.Value?.Ref === authorizer) ?? false;

  it('alarms on the authorizer errors minus its refused tokens, never on raw Errors', () => {
    const raw = alarms.filter((a) => a.MetricName === 'Errors' && isAuthorizer(a.Dimensions, 'FunctionName'));
    expect(raw).toEqual([]);
    const failures = alarms.filter((a) =>
      a.Metrics?.some((m: any) => m.MetricStat?.Metric?.MetricName === 'Errors' && isAuthorizer(m.MetricStat.Metric.Dimensions, 'FunctionName')),
    );
    expect(failures).toHaveLength(1);
    const [alarm] = failures;
    const byId = Object.fromEntries(alarm.Metrics.map((m: any) => [m.Id, m]));
    const expr = alarm.Metrics.find((m: any) => m.Expression);
    expect(expr.Expression).toBe('errors - FILL(refused, 0)');
    expect(expr.ReturnData ?? true).toBe(true);
    expect(byId.errors.MetricStat).toMatchObject({ Metric: { Namespace: 'AWS/Lambda', MetricName: 'Errors' }, Stat: 'Sum', Period: 300 });
    expect(byId.refused.MetricStat).toMatchObject({
      Metric: { Namespace: 'Chat', MetricName: 'TokensRefused', Dimensions: [{ Name: 'Function', Value: { Ref: authorizer } }] },
      Stat: 'Sum',
      Period: 300,
    });
    expect(byId.errors.ReturnData).toBe(false);
    expect(byId.refused.ReturnData).toBe(false);
    expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
  });

  it('alarms separately on a surge of refused tokens, at a high threshold', () => {
    const surge = alarms.filter((a) => a.MetricName === 'TokensRefused');
    expect(surge).toHaveLength(1);
    expect(surge[0]).toMatchObject({
      Namespace: 'Chat',
      Dimensions: [{ Name: 'Function', Value: { Ref: authorizer } }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: TOKENS_REFUSED_ALARM,
    });
    expect(TOKENS_REFUSED_ALARM).toBeGreaterThanOrEqual(100);
  });

  it('graphs refused tokens by reason, counting only the per-reason series', () => {
    const [, dash] = resources(s.template, 'AWS::CloudWatch::Dashboard')[0];
    const body = JSON.stringify(s.stack.resolve(dash.Properties.DashboardBody));
    expect(body).toContain('{Chat,Function,Reason} MetricName=');
    expect(body).toContain('Refused $connect tokens, by reason');
    expect(body).toContain('Authorizer failures (ours)');
  });
});
