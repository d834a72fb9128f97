import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { FUNCTION_NAMES } from '../lib/config';
import { fnStatements, nagReport, synth, TEST_REGION } from './helpers';

const ACCOUNT = '123456789012';
const FCM = `arn:aws:sns:${TEST_REGION}:${ACCOUNT}:app/GCM/chat-fcm`;
const APNS = `arn:aws:sns:${TEST_REGION}:${ACCOUNT}:app/APNS/chat-apns`;
const WITH = { snsFcmPlatformApplicationArn: FCM, snsApnsPlatformApplicationArn: APNS };

const snsStatements = (s: ReturnType<typeof synth>, name: (typeof FUNCTION_NAMES)[number]) =>
  fnStatements(s, name).filter((st) => JSON.stringify(st.Action).includes('sns:'));

const envOf = (s: ReturnType<typeof synth>, name: (typeof FUNCTION_NAMES)[number]) => {
  const fns = s.template.findResources('AWS::Lambda::Function');
  const id = s.stack.getLogicalId(s.stack.functions[name].fn.node.defaultChild as never);
  return fns[id].Properties.Environment.Variables as Record<string, unknown>;
};

describe('SNS mobile push', () => {
  it('without the context: no SNS grant, no application variable, no alarm', () => {
    const s = synth();
    for (const name of FUNCTION_NAMES) {
      expect(snsStatements(s, name), name).toEqual([]);
      expect(Object.keys(envOf(s, name)).filter((k) => k.startsWith('CHAT_SNS_')), name).toEqual([]);
    }
    expect(Object.keys(s.template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'MobilePushFailures' } }))).toEqual([]);
  });

  it('with both applications: the users function creates endpoints, persist publishes, each on its own ARNs only', () => {
    const s = synth(WITH);
    // (CDK sorts a statement's resources.)
    const endpoints = [`arn:aws:sns:${TEST_REGION}:${ACCOUNT}:endpoint/APNS/chat-apns/*`, `arn:aws:sns:${TEST_REGION}:${ACCOUNT}:endpoint/GCM/chat-fcm/*`];
    expect(snsStatements(s, 'chat-users')).toEqual([
      { Sid: 'CreateMobileEndpoints', Effect: 'Allow', Action: 'sns:CreatePlatformEndpoint', Resource: [APNS, FCM] },
      { Sid: 'MobileEndpoints', Effect: 'Allow', Action: ['sns:DeleteEndpoint', 'sns:SetEndpointAttributes'], Resource: endpoints },
    ]);
    expect(snsStatements(s, 'chat-persist')).toEqual([
      { Sid: 'MobileEndpoints', Effect: 'Allow', Action: ['sns:DeleteEndpoint', 'sns:Publish'], Resource: endpoints },
    ]);
    for (const name of FUNCTION_NAMES.filter((n) => n !== 'chat-users' && n !== 'chat-persist')) {
      expect(snsStatements(s, name), name).toEqual([]);
      expect(Object.keys(envOf(s, name)).filter((k) => k.startsWith('CHAT_SNS_')), name).toEqual([]);
    }
    for (const name of ['chat-users', 'chat-persist'] as const) {
      expect(envOf(s, name)).toMatchObject({ CHAT_SNS_FCM_APP_ARN: FCM, CHAT_SNS_APNS_APP_ARN: APNS });
    }
    // No topic, no wildcard: nothing of SNS beyond these applications.
    const all = JSON.stringify(s.template.findResources('AWS::IAM::Policy'));
    expect(all).not.toMatch(/"sns:\*"|"arn:aws:sns:[^"]*:\*"/);
  });

  it('with FCM only: APNs is granted nothing', () => {
    const s = synth({ snsFcmPlatformApplicationArn: FCM });
    expect(snsStatements(s, 'chat-persist')).toEqual([
      {
        Sid: 'MobileEndpoints',
        Effect: 'Allow',
        Action: ['sns:DeleteEndpoint', 'sns:Publish'],
        Resource: `arn:aws:sns:${TEST_REGION}:${ACCOUNT}:endpoint/GCM/chat-fcm/*`,
      },
    ]);
    expect(envOf(s, 'chat-users')).not.toHaveProperty('CHAT_SNS_APNS_APP_ARN');
  });

  it('alarms on MobilePushFailures of the persist function and graphs it', () => {
    const s = synth(WITH);
    const t = Template.fromJSON(s.template.toJSON());
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'MobilePushFailures',
      Namespace: 'Chat',
      Statistic: 'Sum',
      Threshold: 5,
    });
    const dashboards = JSON.stringify(s.template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboards).toContain('MobilePushFailures');
  });

  it('refuses an ARN of another shape or platform', () => {
    for (const [key, arn] of [
      ['snsFcmPlatformApplicationArn', APNS],
      ['snsApnsPlatformApplicationArn', FCM],
      ['snsFcmPlatformApplicationArn', `arn:aws:sns:${TEST_REGION}:${ACCOUNT}:chat-topic`],
      ['snsFcmPlatformApplicationArn', `arn:aws:sns:${TEST_REGION}:${ACCOUNT}:app/GCM/*`],
      ['snsApnsPlatformApplicationArn', 'chat-apns'],
    ]) {
      expect(() => synth({ [key]: arn }), `${key}=${arn}`).toThrow(new RegExp(key));
    }
    expect(() => synth({ snsApnsPlatformApplicationArn: APNS.replace('APNS', 'APNS_SANDBOX') })).not.toThrow();
  });

  it('passes cdk-nag with both applications', () => {
    const { violations, error } = nagReport(WITH);
    expect(error).toBeUndefined();
    expect(violations).toEqual([]);
  });
});
