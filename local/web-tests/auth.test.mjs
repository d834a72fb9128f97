// Unit tests of the web app's runtime configuration and sign-in helpers
// (local/web/config.js, local/web/auth.js) under Node: what needs no browser.
// The whole flow runs in the browser test (chat.test.mjs).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../web/config.js';
import { Auth, claimsOf, s256 } from '../web/auth.js';

const GOOD = {
  region: 'eu-west-1',
  wsUrl: 'wss://abc.execute-api.eu-west-1.amazonaws.com/dev',
  restUrl: 'https://def.execute-api.eu-west-1.amazonaws.com/',
  auth: {
    domain: 'https://chat-dev-1.auth.eu-west-1.amazoncognito.com',
    clientId: 'client',
    redirectUri: 'https://d1.cloudfront.net/',
    logoutUri: 'https://d1.cloudfront.net/',
    scopes: ['openid', 'email', 'profile'],
  },
};

test('config.json as the stack writes it is accepted, trailing slashes dropped', () => {
  const c = parseConfig(GOOD);
  assert.equal(c.restUrl, 'https://def.execute-api.eu-west-1.amazonaws.com');
  assert.equal(c.auth.domain, GOOD.auth.domain);
  assert.equal(c.auth.redirectUri, GOOD.auth.redirectUri, 'the redirect URI is sent as registered, slash included');
});

test('the VAPID key and the dev flag are read only when well-formed and exactly so', () => {
  const key = `B${'A'.repeat(86)}`;
  assert.deepEqual([parseConfig(GOOD).vapidPublicKey, parseConfig(GOOD).dev], [null, false]);
  const local = parseConfig({ ...GOOD, vapidPublicKey: key, dev: true });
  assert.deepEqual([local.vapidPublicKey, local.dev], [key, true]);
  const odd = parseConfig({ ...GOOD, vapidPublicKey: 'not a key', dev: 'true' });
  assert.deepEqual([odd.vapidPublicKey, odd.dev], [null, false]);
});

test('a bad config.json is refused naming the field', () => {
  const cases = [
    [{ ...GOOD, wsUrl: 'https://x' }, /wsUrl must be wss: or ws:/],
    [{ ...GOOD, restUrl: undefined }, /restUrl is missing/],
    [{ ...GOOD, auth: { ...GOOD.auth, clientId: '' } }, /auth.clientId is missing/],
    [{ ...GOOD, auth: { ...GOOD.auth, domain: 'javascript:alert(1)' } }, /auth.domain must be https: or http:/],
    [{ ...GOOD, auth: { ...GOOD.auth, scopes: ['email'] } }, /auth.scopes must list openid/],
    [{ ...GOOD, auth: undefined }, /auth is missing/],
    [null, /is not an object/],
  ];
  for (const [raw, message] of cases) assert.throws(() => parseConfig(raw), message);
});

test('the S256 challenge is RFC 7636\'s example', async () => {
  assert.equal(await s256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
});

test('claims are read from a JWT, unicode names included; garbage is null', () => {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const jwt = `${b64({ alg: 'HS256' })}.${b64({ sub: 'zoe', name: 'Zoë', exp: 2 })}.sig`;
  assert.deepEqual(claimsOf(jwt), { sub: 'zoe', name: 'Zoë', exp: 2 });
  assert.equal(claimsOf('not a jwt'), null);
});

test('tokens from a response: expiry from the ID token, the refresh token kept across refreshes', () => {
  const store = new Map();
  const storage = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, v), removeItem: (k) => store.delete(k) };
  const auth = new Auth(parseConfig(GOOD).auth, { storage });
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const id = `${b64({})}.${b64({ sub: 'zoe', iat: 1000, exp: 1060 })}.s`;
  const t = auth.fromResponse({ id_token: id, access_token: 'a', expires_in: 60 }, 'rt-1');
  assert.deepEqual(t, { idToken: id, accessToken: 'a', refreshToken: 'rt-1', issuedAt: 1_000_000, expiresAt: 1_060_000 });
  auth.tokens = t;
  assert.equal(auth.margin(), 15_000, 'a quarter of a short lifetime');
  assert.deepEqual(auth.session(), { userId: 'zoe', name: null });
  auth.clear();
  assert.equal(auth.token(), null);
  assert.equal(store.size, 0);
});
