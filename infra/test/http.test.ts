import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { logicalId, resources, synth } from './helpers';

const ROUTES: [string, string][] = [
  ['GET /rooms/{roomId}/messages', 'chat-history'],
  ['GET /rooms/{roomId}/messages/{seq}/replies', 'chat-history'],
  ['GET /rooms/{roomId}/search', 'chat-history'],
  ['GET /search', 'chat-history'],
  ['GET /users/me', 'chat-users'],
  ['PATCH /users/me', 'chat-users'],
  ['GET /users/{userId}', 'chat-users'],
  ['POST /users/me/devices', 'chat-users'],
  ['GET /users/me/devices', 'chat-users'],
  ['DELETE /users/me/devices/{deviceId}', 'chat-users'],
  ['GET /users/me/blocks', 'chat-users'],
  ['PUT /users/me/blocks/{userId}', 'chat-users'],
  ['DELETE /users/me/blocks/{userId}', 'chat-users'],
  ['PUT /users/me/keys/{deviceId}', 'chat-rooms'],
  ['DELETE /users/me/keys/{deviceId}', 'chat-rooms'],
  ['GET /users/{userId}/keys', 'chat-rooms'],
  ['PUT /users/me/mutes/{userId}', 'chat-users'],
  ['DELETE /users/me/mutes/{userId}', 'chat-users'],
  ['GET /users/me/notifications', 'chat-users'],
  ['PUT /users/me/notifications', 'chat-users'],
  ['PUT /rooms/{roomId}/notifications', 'chat-users'],
  ['POST /rooms', 'chat-rooms'],
  ['GET /rooms', 'chat-rooms'],
  ['GET /rooms/{roomId}', 'chat-rooms'],
  ['POST /rooms/{roomId}/members', 'chat-rooms'],
  ['DELETE /rooms/{roomId}/members/{userId}', 'chat-rooms'],
  ['POST /rooms/{roomId}/attachments', 'chat-rooms'],
  ['GET /channels', 'chat-rooms'],
  ['GET /openapi.json', 'chat-users'],
];

/** Served without a token (the API's description). */
const PUBLIC = ['GET /openapi.json'];

/** Every operation of the committed OpenAPI document, as route keys. */
function documentedRoutes(): string[] {
  const doc = JSON.parse(readFileSync(join(__dirname, '..', '..', 'docs', 'openapi.json'), 'utf8'));
  return Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
    Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
  );
}

describe('HTTP API', () => {
  const s = synth();
  const t = s.template;
  const httpApiId = logicalId(s.stack, s.stack.httpApi);
  const routes = resources(t, 'AWS::ApiGatewayV2::Route').filter(([, r]) => r.Properties.ApiId.Ref === httpApiId);

  it('validates Cognito ID tokens with a JWT authorizer (issuer = this pool, audience = this client)', () => {
    const userPool = logicalId(s.stack, s.stack.node.findChild('Auth').node.findChild('UserPool'));
    t.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      ApiId: { Ref: httpApiId },
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Audience: [{ Ref: Match.stringLikeRegexp('WebClient') }],
        Issuer: { 'Fn::Join': ['', ['https://cognito-idp.eu-west-1.', { Ref: 'AWS::URLSuffix' }, '/', { Ref: userPool }]] },
      },
    });
  });

  it('routes exactly the operations docs/openapi.json documents (what chat-local routes)', () => {
    expect(routes.map(([, r]) => r.Properties.RouteKey).sort()).toEqual(documentedRoutes().sort());
  });

  it('routes every REST endpoint to its function, each behind the JWT authorizer but the OpenAPI document', () => {
    expect(routes.map(([, r]) => r.Properties.RouteKey).sort()).toEqual(ROUTES.map(([k]) => k).sort());
    const integrations = t.toJSON().Resources;
    for (const [key, fnName] of ROUTES) {
      const route = routes.find(([, r]) => r.Properties.RouteKey === key)![1].Properties;
      expect(route.AuthorizationType, key).toBe(PUBLIC.includes(key) ? 'NONE' : 'JWT');
      const integrationId = route.Target['Fn::Join'][1][1].Ref;
      const target = integrations[integrationId].Properties.IntegrationUri['Fn::GetAtt'][0];
      expect(target, key).toBe(logicalId(s.stack, s.stack.functions[fnName as 'chat-rooms'].fn));
    }
  });

  it('allows CORS from any origin by default and from the given origins by context', () => {
    t.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: Match.objectLike({
        AllowOrigins: ['*'],
        AllowHeaders: ['authorization', 'content-type'],
        AllowMethods: Match.arrayWith(['GET', 'POST', 'PATCH', 'PUT', 'DELETE']),
      }),
    });
    synth({ corsOrigins: 'https://chat.example.com, https://admin.example.com' }).template.hasResourceProperties(
      'AWS::ApiGatewayV2::Api',
      { ProtocolType: 'HTTP', CorsConfiguration: Match.objectLike({ AllowOrigins: ['https://chat.example.com', 'https://admin.example.com'] }) },
    );
  });

  it('has a throttled $default stage with access logs', () => {
    t.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: httpApiId },
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 },
      AccessLogSettings: Match.objectLike({ Format: Match.stringLikeRegexp('routeKey') }),
    });
  });

  it('creates the Cognito pool and a client that allows USER_PASSWORD_AUTH, and outputs their ids', () => {
    t.resourceCountIs('AWS::Cognito::UserPool', 1);
    t.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      ExplicitAuthFlows: Match.arrayWith(['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH']),
      GenerateSecret: false,
    });
    const outputs = t.toJSON().Outputs;
    expect(outputs.UserPoolId).toBeDefined();
    expect(outputs.UserPoolClientId).toBeDefined();
    expect(outputs.RestApiUrl).toBeDefined();
  });

  it('uses an existing issuer from context instead of creating a pool', () => {
    const ext = synth({ jwtIssuer: 'https://login.example.com/realm/', jwtAudience: 'chat-web' });
    ext.template.resourceCountIs('AWS::Cognito::UserPool', 0);
    ext.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Audience: ['chat-web'], Issuer: 'https://login.example.com/realm' },
    });
    expect(ext.template.toJSON().Outputs.UserPoolId).toBeUndefined();
  });
});
