import { describe, expect, it } from 'vitest';
import { FUNCTION_NAMES, type FunctionName } from '../lib/config';
import { fnResource, logicalId, resources, synth } from './helpers';

const AUTH = ['CHAT_AUTH_MODE', 'CHAT_JWKS_URL', 'CHAT_JWT_ISSUER', 'CHAT_JWT_AUDIENCE'];
const COMMON = ['CHAT_BACKEND', 'RUST_LOG'];
const WS = ['CHAT_TABLE_NAME', 'CHAT_QUEUE_URL', 'CHAT_WS_ENDPOINT', 'CHAT_CONNECTION_TTL_SECS'];
const REDIS = ['CHAT_REDIS_URL', 'CHAT_REDIS_MODE'];

/** Which function reads which variables (with Redis deployed). */
const EXPECTED_ENV: Record<FunctionName, string[]> = {
  'chat-authorizer': [...COMMON, ...AUTH],
  'chat-connect': [...COMMON, ...WS, ...REDIS, ...AUTH],
  'chat-message': [...COMMON, ...WS, ...REDIS],
  'chat-disconnect': [...COMMON, ...WS, ...REDIS],
  'chat-persist': [...COMMON, 'CHAT_TABLE_NAME', 'CHAT_WS_ENDPOINT', ...REDIS],
  'chat-history': [...COMMON, 'CHAT_TABLE_NAME', ...REDIS, ...AUTH],
  'chat-users': [...COMMON, 'CHAT_TABLE_NAME', ...REDIS, ...AUTH],
  'chat-rooms': [...COMMON, 'CHAT_TABLE_NAME', ...REDIS, ...AUTH],
};

describe('Rust functions', () => {
  const s = synth();

  it.each(FUNCTION_NAMES)('%s is an arm64 provided.al2023 function with X-Ray and its own log group', (name) => {
    const p = fnResource(s, name).Properties;
    expect(p.Runtime).toBe('provided.al2023');
    expect(p.Architectures).toEqual(['arm64']);
    expect(p.Handler).toBe('bootstrap');
    expect(p.TracingConfig).toEqual({ Mode: 'Active' });
    const logGroupId = logicalId(s.stack, s.stack.functions[name].logGroup);
    expect(p.LoggingConfig.LogGroup).toEqual({ Ref: logGroupId });
    expect(s.template.toJSON().Resources[logGroupId].Properties.RetentionInDays).toBe(14);
  });

  it.each(FUNCTION_NAMES)('%s gets exactly the environment it reads', (name) => {
    const env = fnResource(s, name).Properties.Environment.Variables;
    expect(Object.keys(env).sort()).toEqual([...EXPECTED_ENV[name]].sort());
    expect(env.CHAT_BACKEND).toBe('aws');
    if (env.CHAT_AUTH_MODE) expect(env.CHAT_AUTH_MODE).toBe('jwks');
  });

  it('points auth at the Cognito pool: issuer, its JWKS document and the app client as audience', () => {
    const env = fnResource(s, 'chat-authorizer').Properties.Environment.Variables;
    const pool = logicalId(s.stack, s.stack.node.findChild('Auth').node.findChild('UserPool'));
    const issuer = { 'Fn::Join': ['', ['https://cognito-idp.eu-west-1.', { Ref: 'AWS::URLSuffix' }, '/', { Ref: pool }]] };
    expect(env.CHAT_JWT_ISSUER).toEqual(issuer);
    expect(env.CHAT_JWKS_URL).toEqual({
      'Fn::Join': ['', ['https://cognito-idp.eu-west-1.', { Ref: 'AWS::URLSuffix' }, '/', { Ref: pool }, '/.well-known/jwks.json']],
    });
    expect(JSON.stringify(env.CHAT_JWT_AUDIENCE)).toMatch(/WebClient/);
  });

  it('gives the management endpoint of this API and stage, and a TLS Redis URL', () => {
    const env = fnResource(s, 'chat-message').Properties.Environment.Variables;
    const api = logicalId(s.stack, s.stack.webSocketApi);
    expect(env.CHAT_WS_ENDPOINT).toEqual({
      'Fn::Join': ['', ['https://', { Ref: api }, '.execute-api.eu-west-1.', { Ref: 'AWS::URLSuffix' }, '/dev']],
    });
    expect(env.CHAT_REDIS_URL['Fn::Join'][1][0]).toBe('rediss://');
    expect(env.CHAT_CONNECTION_TTL_SECS).toBe('7200');
  });

  it('runs every function but the authorizer in the VPC when Redis is deployed', () => {
    for (const name of FUNCTION_NAMES) {
      const vpc = fnResource(s, name).Properties.VpcConfig;
      if (name === 'chat-authorizer') expect(vpc, name).toBeUndefined();
      else expect(vpc?.SubnetIds, name).toHaveLength(2);
    }
  });

  it('reserves no concurrency by default, and what context asks for when set', () => {
    for (const name of FUNCTION_NAMES) {
      expect(fnResource(s, name).Properties.ReservedConcurrentExecutions, name).toBeUndefined();
    }
    const r = synth({ reservedConcurrency: '{"chat-persist":5,"chat-message":50}' });
    expect(fnResource(r, 'chat-persist').Properties.ReservedConcurrentExecutions).toBe(5);
    expect(fnResource(r, 'chat-message').Properties.ReservedConcurrentExecutions).toBe(50);
    expect(fnResource(r, 'chat-connect').Properties.ReservedConcurrentExecutions).toBeUndefined();
    expect(() => synth({ reservedConcurrency: '{"chat-nope":1}' })).toThrow(/unknown function/);
  });

  it('builds x86_64 when asked, and uses prod log retention in prod', () => {
    expect(fnResource(synth({ arch: 'x86_64' }), 'chat-rooms').Properties.Architectures).toEqual(['x86_64']);
    const prod = synth({ stage: 'prod' });
    const logGroup = prod.template.toJSON().Resources[logicalId(prod.stack, prod.stack.functions['chat-rooms'].logGroup)];
    expect(logGroup.Properties.RetentionInDays).toBe(90);
    expect(logGroup.DeletionPolicy).toBe('Retain');
  });

  it('has no Lambda besides the eight chat binaries and CDK\'s default-security-group cleaner', () => {
    const fns = resources(s.template, 'AWS::Lambda::Function');
    const ours = new Set(FUNCTION_NAMES.map((n) => logicalId(s.stack, s.stack.functions[n].fn)));
    const others = fns.filter(([id]) => !ours.has(id));
    expect(others.map(([id]) => id)).toEqual([expect.stringMatching(/CustomVpcRestrictDefaultSG/)]);
  });
});
