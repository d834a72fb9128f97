// Runtime configuration of the web app: `/config.json`, served next to the
// page. `cdk deploy` writes it with the stack's endpoints (infra/lib/web-app.ts)
// and chat-local serves its own, in the same shape, so one build of the app
// runs against every stage and locally:
//
//   {
//     "region": "eu-west-1",
//     "wsUrl": "wss://….execute-api…/dev",       // WebSocket stage
//     "restUrl": "https://….execute-api…/",      // HTTP API
//     "auth": {                                  // Cognito hosted UI (OAuth 2.0)
//       "domain": "https://<prefix>.auth.<region>.amazoncognito.com",
//       "clientId": "…",                         // the public app client (no secret)
//       "redirectUri": "https://<app>/",         // where the code comes back
//       "logoutUri": "https://<app>/",
//       "scopes": ["openid", "email", "profile"]
//     },
//     "vapidPublicKey": "B…",                    // Web Push (absent: none offered)
//     "dev": true                                // chat-local only: development panels
//   }

export class ConfigError extends Error {
  constructor(field, problem) {
    super(field ? `config.json: ${field} ${problem}` : `config.json ${problem}`);
    this.name = 'ConfigError';
  }
}

function url(raw, field, schemes) {
  if (typeof raw !== 'string') throw new ConfigError(field, 'is missing');
  let u;
  try { u = new URL(raw); } catch { throw new ConfigError(field, `is not a URL: ${JSON.stringify(raw)}`); }
  if (!schemes.includes(u.protocol)) throw new ConfigError(field, `must be ${schemes.join(' or ')}`);
  return raw;
}

const noTrailingSlash = (s) => s.replace(/\/+$/, '');

/** Checks a parsed config.json; throws ConfigError naming the bad field. */
export function parseConfig(raw) {
  if (!raw || typeof raw !== 'object') throw new ConfigError('(root)', 'is not an object');
  const a = raw.auth;
  if (!a || typeof a !== 'object') throw new ConfigError('auth', 'is missing');
  if (typeof a.clientId !== 'string' || a.clientId === '') throw new ConfigError('auth.clientId', 'is missing');
  const scopes = Array.isArray(a.scopes) && a.scopes.every((s) => typeof s === 'string') ? a.scopes : null;
  if (!scopes || !scopes.includes('openid')) throw new ConfigError('auth.scopes', 'must list openid');
  return {
    region: typeof raw.region === 'string' ? raw.region : '',
    wsUrl: url(raw.wsUrl, 'wsUrl', ['wss:', 'ws:']),
    restUrl: noTrailingSlash(url(raw.restUrl, 'restUrl', ['https:', 'http:'])),
    auth: {
      domain: noTrailingSlash(url(a.domain, 'auth.domain', ['https:', 'http:'])),
      clientId: a.clientId,
      redirectUri: url(a.redirectUri, 'auth.redirectUri', ['https:', 'http:']),
      logoutUri: url(a.logoutUri, 'auth.logoutUri', ['https:', 'http:']),
      scopes,
    },
    // The key the browser subscribes to Web Push with: base64url of an
    // uncompressed P-256 point (65 bytes).
    vapidPublicKey: typeof raw.vapidPublicKey === 'string' && /^B[A-Za-z0-9_-]{86}$/.test(raw.vapidPublicKey)
      ? raw.vapidPublicKey : null,
    // Only chat-local says so; the deployed config.json never does.
    dev: raw.dev === true,
  };
}

/** Fetches and checks `/config.json`. */
export async function loadConfig() {
  let res;
  try {
    res = await fetch('/config.json', { cache: 'no-store' });
  } catch {
    throw new ConfigError('', 'could not be fetched');
  }
  if (!res.ok) throw new ConfigError('', `answered ${res.status}`);
  let raw;
  try { raw = await res.json(); } catch { throw new ConfigError('', 'is not JSON'); }
  return parseConfig(raw);
}
