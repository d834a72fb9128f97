import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { WS_ACTION_ROUTES } from '../lib/chat-stack';
import { logicalId, resources, synth } from './helpers';

describe('WebSocket API', () => {
  const s = synth();
  const t = s.template;
  const wsApiId = logicalId(s.stack, s.stack.webSocketApi);
  const routes = resources(t, 'AWS::ApiGatewayV2::Route').filter(([, r]) => r.Properties.ApiId.Ref === wsApiId);
  const route = (key: string) => {
    const found = routes.filter(([, r]) => r.Properties.RouteKey === key);
    expect(found, `route ${key}`).toHaveLength(1);
    return found[0][1].Properties;
  };
  const integrationTarget = (routeProps: any) => {
    const integrationId = routeProps.Target['Fn::Join'][1][1].Ref;
    return t.toJSON().Resources[integrationId].Properties.IntegrationUri['Fn::Join'][1][1]['Fn::GetAtt'][0];
  };

  it('selects routes by the action field of the JSON body', () => {
    t.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: '$request.body.action',
    });
  });

  it('has exactly $connect, $disconnect, $default and the action routes', () => {
    expect(routes.map(([, r]) => r.Properties.RouteKey).sort()).toEqual(
      ['$connect', '$disconnect', '$default', ...WS_ACTION_ROUTES].sort(),
    );
  });

  it('authorizes $connect with the Lambda REQUEST authorizer reading ?token=', () => {
    const authorizers = resources(t, 'AWS::ApiGatewayV2::Authorizer').filter(([, a]) => a.Properties.ApiId.Ref === wsApiId);
    expect(authorizers).toHaveLength(1);
    const [authorizerId, authorizer] = authorizers[0];
    expect(authorizer.Properties.AuthorizerType).toBe('REQUEST');
    expect(authorizer.Properties.IdentitySource).toEqual(['route.request.querystring.token']);
    const authorizerFn = logicalId(s.stack, s.stack.functions['chat-authorizer'].fn);
    expect(JSON.stringify(authorizer.Properties.AuthorizerUri)).toContain(authorizerFn);

    const connect = route('$connect');
    expect(connect.AuthorizationType).toBe('CUSTOM');
    expect(connect.AuthorizerId).toEqual({ Ref: authorizerId });
  });

  it('sends every other route to its function without an authorizer (the connection is already authorized)', () => {
    for (const [, r] of routes.filter(([, r]) => r.Properties.RouteKey !== '$connect')) {
      expect(r.Properties.AuthorizationType ?? 'NONE').toBe('NONE');
    }
    expect(integrationTarget(route('$connect'))).toBe(logicalId(s.stack, s.stack.functions['chat-connect'].fn));
    expect(integrationTarget(route('$disconnect'))).toBe(logicalId(s.stack, s.stack.functions['chat-disconnect'].fn));
    const message = logicalId(s.stack, s.stack.functions['chat-message'].fn);
    for (const key of ['$default', ...WS_ACTION_ROUTES]) {
      expect(integrationTarget(route(key)), key).toBe(message);
    }
  });

  it('does not reply through route responses (replies go through @connections)', () => {
    expect(resources(t, 'AWS::ApiGatewayV2::RouteResponse')).toHaveLength(0);
    for (const [, r] of routes) expect(r.Properties.RouteResponseSelectionExpression).toBeUndefined();
  });

  it('deploys a stage named after the stage, throttled, with JSON access logs that omit the query string', () => {
    t.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: wsApiId },
      StageName: 'dev',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('connectionId') },
    });
    const stage = resources(t, 'AWS::ApiGatewayV2::Stage').find(([, r]) => r.Properties.ApiId.Ref === wsApiId)![1];
    expect(stage.Properties.AccessLogSettings.Format).not.toMatch(/querystring|token/i);
  });

  it('takes throttling from context', () => {
    synth({ wsThrottleRate: '50', wsThrottleBurst: 100 }).template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: 'dev',
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
  });

  it('sets the account API Gateway logging role (needed for WebSocket access logs) unless told not to', () => {
    t.resourceCountIs('AWS::ApiGateway::Account', 1);
    t.hasResource('AWS::IAM::Role', {
      DeletionPolicy: 'Retain',
      Properties: { AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'apigateway.amazonaws.com' } })] }) },
    });
    synth({ apigwAccountRole: 'false' }).template.resourceCountIs('AWS::ApiGateway::Account', 0);
  });

  it('outputs the wss:// URL of the stage and the management endpoint', () => {
    const outputs = t.toJSON().Outputs;
    expect(JSON.stringify(outputs.WebSocketUrl.Value)).toMatch(/"wss:\/\/".*execute-api\.eu-west-1\..*\/dev/);
    expect(JSON.stringify(outputs.ManagementEndpoint.Value)).toMatch(/"https:\/\/".*execute-api\.eu-west-1\..*\/dev/);
  });
});
