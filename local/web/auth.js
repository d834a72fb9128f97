// Sign-in through the Cognito hosted UI: OAuth 2.0 authorization code with
// PKCE (S256), from the browser, with a public app client (no secret).
// Locally chat-local serves a twin of the same endpoints (local/src/oauth.rs),
// so this file runs unchanged against both.
//
//   signIn()        -> {domain}/oauth2/authorize?…&code_challenge=S256(verifier)
//   (the user signs in; the browser comes back to redirectUri?code=…&state=…)
//   handleRedirect() -> POST {domain}/oauth2/token  grant_type=authorization_code + code_verifier
//   refresh()        -> POST {domain}/oauth2/token  grant_type=refresh_token
//   signOut()        -> POST {domain}/oauth2/revoke, then {domain}/logout?client_id&logout_uri
//
// The ID token is what the platform verifies (its `aud` is the app client id;
// infra/lib/auth.ts). Tokens live in sessionStorage: per tab (another tab can
// be someone else), gone with the tab. The refresh token is revoked on sign-out.

const TOKENS_KEY = 'chat.auth.v1';
const PENDING_KEY = 'chat.auth.pending';
const MAX_MARGIN_MS = 60_000;

const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
  .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

function randomString(bytes = 32) {
  return b64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** BASE64URL(SHA-256(verifier)): the S256 code challenge (RFC 7636). */
export async function s256(verifier) {
  return b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
}

/** The claims of a JWT, unverified (the platform verifies; this only reads). */
export function claimsOf(jwt) {
  try {
    const part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = decodeURIComponent(Array.from(atob(part), (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join(''));
    const claims = JSON.parse(json);
    return claims && typeof claims === 'object' ? claims : null;
  } catch {
    return null;
  }
}

export class AuthError extends Error {
  constructor(code, message) { super(message || code); this.name = 'AuthError'; this.code = code; }
}

export class Auth extends EventTarget {
  /** `config` is config.json's `auth` (config.js). */
  constructor(config, { storage = sessionStorage } = {}) {
    super();
    this.config = config;
    this.storage = storage;
    this.timer = null;
    this.inflight = null;
    this.tokens = this.load();
  }

  load() {
    try {
      const t = JSON.parse(this.storage.getItem(TOKENS_KEY) || 'null');
      if (t && typeof t.idToken === 'string' && typeof t.refreshToken === 'string') return t;
    } catch { /* ignore */ }
    return null;
  }

  save(t) {
    this.tokens = t;
    this.storage.setItem(TOKENS_KEY, JSON.stringify(t));
    this.schedule();
  }

  /** Forgets the tokens here (no network). */
  clear() {
    clearTimeout(this.timer);
    this.timer = null;
    this.tokens = null;
    this.storage.removeItem(TOKENS_KEY);
  }

  /** The current ID token, or null when signed out. */
  token() { return this.tokens ? this.tokens.idToken : null; }

  /** {userId, name} from the ID token, or null. */
  session() {
    const c = this.tokens && claimsOf(this.tokens.idToken);
    if (!c || typeof c.sub !== 'string') return null;
    return { userId: c.sub, name: typeof c.name === 'string' ? c.name : null };
  }

  /** Sends the browser to the hosted UI. */
  async signIn() {
    const { domain, clientId, redirectUri, scopes } = this.config;
    const verifier = randomString(32); // 43 characters
    const state = randomString(16);
    this.storage.setItem(PENDING_KEY, JSON.stringify({ verifier, state }));
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirectUri,
      scope: scopes.join(' '),
      state,
      code_challenge: await s256(verifier),
      code_challenge_method: 'S256',
    });
    location.assign(`${domain}/oauth2/authorize?${q}`);
  }

  /**
   * Finishes a sign-in when this page is the redirect back from the hosted
   * UI (`?code=…&state=…` or `?error=…`): exchanges the code and takes the
   * parameters out of the address bar. Resolves to the session, or null when
   * this page is no redirect. Throws AuthError when the sign-in failed.
   */
  async handleRedirect() {
    const url = new URL(location.href);
    const code = url.searchParams.get('code');
    const error = url.searchParams.get('error');
    if (!code && !error) return null;
    const returned = url.searchParams.get('state');
    for (const k of ['code', 'state', 'error', 'error_description']) url.searchParams.delete(k);
    history.replaceState(null, '', url.pathname + url.search + url.hash);
    let pending = null;
    try { pending = JSON.parse(this.storage.getItem(PENDING_KEY) || 'null'); } catch { /* ignore */ }
    this.storage.removeItem(PENDING_KEY);
    if (error) throw new AuthError(error, `Sign-in failed: ${url.searchParams.get('error_description') || error}`);
    if (!pending || pending.state !== returned) throw new AuthError('state_mismatch', 'Sign-in failed: this answer is not for a sign-in started here. Try again.');
    const t = await this.tokenRequest({
      grant_type: 'authorization_code',
      client_id: this.config.clientId,
      code,
      redirect_uri: this.config.redirectUri,
      code_verifier: pending.verifier,
    });
    this.save(this.fromResponse(t, null));
    return this.session();
  }

  /**
   * New ID and access tokens from the refresh token. Single flight: callers
   * at the same time share one request. Resolves to the new ID token, or
   * null when the refresh token is refused (signed out: 'expired' fires).
   * Throws on a network failure (the tokens are kept for a retry).
   */
  refresh() {
    if (!this.tokens) return Promise.resolve(null);
    if (!this.inflight) {
      const rt = this.tokens.refreshToken;
      this.inflight = this.tokenRequest({ grant_type: 'refresh_token', client_id: this.config.clientId, refresh_token: rt })
        .then((t) => {
          this.save(this.fromResponse(t, rt));
          this.dispatchEvent(new Event('token'));
          return this.tokens.idToken;
        }, (e) => {
          if (!(e instanceof AuthError) || e.code === 'network') throw e;
          this.clear();
          this.dispatchEvent(new Event('expired'));
          return null;
        })
        .finally(() => { this.inflight = null; });
    }
    return this.inflight;
  }

  /** The ID token, refreshed first if it expires within the margin. */
  async freshToken() {
    if (!this.tokens) return null;
    if (Date.now() < this.tokens.expiresAt - this.margin()) return this.tokens.idToken;
    return this.refresh();
  }

  /** Refreshes before expiry: a minute ahead, or a quarter of a short lifetime. */
  start() { this.schedule(); }

  margin() {
    const t = this.tokens;
    return t ? Math.min(MAX_MARGIN_MS, (t.expiresAt - t.issuedAt) / 4) : 0;
  }

  schedule() {
    clearTimeout(this.timer);
    if (!this.tokens) return;
    const delay = Math.max(1_000, this.tokens.expiresAt - this.margin() - Date.now());
    this.timer = setTimeout(() => {
      this.refresh().catch(() => { this.timer = setTimeout(() => this.schedule(), 5_000); });
    }, delay);
  }

  /** Revokes the refresh token, forgets the tokens, and ends the hosted UI session. */
  async signOut() {
    const { domain, clientId, logoutUri } = this.config;
    const rt = this.tokens && this.tokens.refreshToken;
    this.clear();
    if (rt) {
      try {
        await fetch(`${domain}/oauth2/revoke`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token: rt, client_id: clientId }),
        });
      } catch { /* the refresh token expires by itself */ }
    }
    location.assign(`${domain}/logout?${new URLSearchParams({ client_id: clientId, logout_uri: logoutUri })}`);
  }

  fromResponse(t, refreshToken) {
    const claims = claimsOf(t.id_token) || {};
    const now = Date.now();
    const issuedAt = typeof claims.iat === 'number' ? claims.iat * 1000 : now;
    const expiresAt = typeof claims.exp === 'number' ? claims.exp * 1000 : now + t.expires_in * 1000;
    return {
      idToken: t.id_token,
      accessToken: t.access_token,
      // Cognito answers a refresh without a new refresh token.
      refreshToken: typeof t.refresh_token === 'string' ? t.refresh_token : refreshToken,
      issuedAt,
      expiresAt,
    };
  }

  async tokenRequest(params) {
    let res;
    try {
      res = await fetch(`${this.config.domain}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(params),
        cache: 'no-store',
      });
    } catch {
      throw new AuthError('network', 'Cannot reach the sign-in service.');
    }
    const data = await res.json().catch(() => null);
    if (!res.ok || !data || typeof data.id_token !== 'string') {
      if (res.status >= 500) throw new AuthError('network', `The sign-in service failed (${res.status}).`);
      const code = data && typeof data.error === 'string' ? data.error : `http_${res.status}`;
      throw new AuthError(code, `Sign-in failed: ${(data && data.error_description) || code}`);
    }
    return data;
  }
}
