import { describe, expect, it } from 'vitest';
import { FUNCTION_NAMES, type FunctionName } from '../lib/config';
import { MANIFEST, SETTINGS } from '../lib/manifest';
import { fnResource, logicalId, resources, synth } from './helpers';

const AUTH = ['CHAT_AUTH_MODE', 'CHAT_JWKS_URL', 'CHAT_JWT_ISSUER', 'CHAT_JWT_AUDIENCE'];
const STORES = ['CHAT_BACKEND', 'CHAT_TABLE_NAME', 'CHAT_REDIS_URL', 'CHAT_REDIS_MODE'];
const LOG = ['RUST_LOG'];

/**
 * Which function reads which variables (with Redis deployed), written out so a
 * change to deploy/functions.json shows up here; the Rust side checks the same
 * file against what each binary reads (chat-local's functions tests).
 */
const EXPECTED_ENV: Record<FunctionName, string[]> = {
  'chat-authorizer': [...LOG, ...AUTH],
  'chat-connect': [...LOG, ...STORES, 'CHAT_QUEUE_URL', 'CHAT_WS_ENDPOINT', ...AUTH],
  // The bucket: the message function checks and claims uploads, and every
  // function that hands out messages signs their download URLs.
  'chat-message': [...LOG, ...STORES, 'CHAT_QUEUE_URL', 'CHAT_WS_ENDPOINT', 'CHAT_BUCKET_NAME'],
  'chat-disconnect': [...LOG, ...STORES, 'CHAT_QUEUE_URL', 'CHAT_WS_ENDPOINT'],
  // Persist notifies offline members: the VAPID secret's ARN, nothing else does.
  'chat-persist': [...LOG, ...STORES, 'CHAT_WS_ENDPOINT', 'CHAT_BUCKET_NAME', 'CHAT_VAPID_SECRET_ARN'],
  'chat-history': [...LOG, ...STORES, ...AUTH, 'CHAT_BUCKET_NAME'],
  'chat-users': [...LOG, ...STORES, ...AUTH],
  // Rooms tells members roomAdded/roomRemoved: it pushes.
  'chat-rooms': [...LOG, ...STORES, 'CHAT_WS_ENDPOINT', ...AUTH, 'CHAT_BUCKET_NAME'],
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
    if (env.CHAT_TABLE_NAME) expect(env.CHAT_BACKEND).toBe('aws');
    if (env.CHAT_AUTH_MODE) expect(env.CHAT_AUTH_MODE).toBe('jwks');
  });

  it.each(FUNCTION_NAMES)('%s gets every required variable of the ports deploy/functions.json gives it, and no other', (name) => {
    const env = Object.keys(fnResource(s, name).Properties.Environment.Variables);
    const spec = MANIFEST.functions[name];
    const required = spec.ports.flatMap((p) => MANIFEST.ports[p].env);
    const allowed = new Set([
      ...MANIFEST.commonEnv,
      ...spec.ports.flatMap((p) => [...MANIFEST.ports[p].env, ...MANIFEST.ports[p].optionalEnv]),
    ]);
    expect(env).toEqual(expect.arrayContaining(required));
    expect(env.filter((k) => !allowed.has(k))).toEqual([]);
    expect(fnResource(s, name).Properties.Description).toBe(spec.description);
  });

  it('passes a setting given by context to the functions with the stores, within the bounds Rust enforces', () => {
    const ttl = SETTINGS.connectionTtlSecs;
    expect([ttl.env, ttl.default, ttl.min, ttl.max]).toEqual(['CHAT_CONNECTION_TTL_SECS', 1200, 10, 7200]);
    const r = synth({ connectionTtlSecs: '600', maxBodyBytes: 8192 });
    for (const name of FUNCTION_NAMES) {
      const env = fnResource(r, name).Properties.Environment.Variables;
      if (MANIFEST.functions[name].ports.includes('stores')) {
        expect(env.CHAT_CONNECTION_TTL_SECS, name).toBe('600');
        expect(env.CHAT_MAX_BODY_BYTES, name).toBe('8192');
      } else {
        expect(env.CHAT_CONNECTION_TTL_SECS, name).toBeUndefined();
      }
    }
    // 10000 once synthesized and then failed every cold start.
    expect(() => synth({ connectionTtlSecs: '10000' })).toThrow(/"connectionTtlSecs": expected an integer in 10\.\.7200/);
    expect(() => synth({ rateMsgConnBurst: '0' })).toThrow(/"rateMsgConnBurst"/);
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
    // Unset settings take deploy/settings.json's default on the Rust side.
    expect(env.CHAT_CONNECTION_TTL_SECS).toBeUndefined();
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

  it('has no Lambda besides the eight chat binaries, CDK\'s default-security-group cleaner and the web app\'s deployment', () => {
    const fns = resources(s.template, 'AWS::Lambda::Function');
    const ours = new Set(FUNCTION_NAMES.map((n) => logicalId(s.stack, s.stack.functions[n].fn)));
    const others = fns.filter(([id]) => !ours.has(id));
    // The web app's BucketDeployment handler and, in dev, the bucket's
    // auto-delete handler (lib/web-app.ts); none runs a custom runtime.
    expect(others.map(([id]) => id).sort()).toEqual([
      expect.stringMatching(/^CustomCDKBucketDeployment/),
      expect.stringMatching(/^CustomS3AutoDeleteObjects/),
      expect.stringMatching(/CustomVpcRestrictDefaultSG/),
    ]);
    for (const [, r] of others) expect(r.Properties.Runtime).not.toMatch(/^provided/);
  });
});
