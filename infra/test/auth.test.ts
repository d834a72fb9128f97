import { describe, expect, it } from 'vitest';
import { parseConfig } from '../lib/config';
import { nagReport, resources, summarize, synth, type Ctx } from './helpers';

const HOSTED_UI: Ctx = {
  hostedUiDomainPrefix: 'chat-example-dev',
  oauthCallbackUrls: 'https://chat.example.com/callback, http://localhost:5173/callback',
  oauthLogoutUrls: 'https://chat.example.com/',
};

/** The one app client's properties, and the Cognito domains, of a synth with `ctx`. */
function cognito(ctx: Ctx = {}) {
  const t = synth(ctx).template;
  const clients = resources(t, 'AWS::Cognito::UserPoolClient').map(([, r]) => r.Properties);
  expect(clients).toHaveLength(1);
  return { client: clients[0], domains: resources(t, 'AWS::Cognito::UserPoolDomain').map(([, r]) => r.Properties), t };
}

const OAUTH_KEYS = ['AllowedOAuthFlows', 'AllowedOAuthScopes', 'CallbackURLs', 'LogoutURLs'];

describe('the Cognito app client', () => {
  it('without the web app, in dev: no OAuth at all, SRP plus the password flow the README recipe uses', () => {
    const { client, domains } = cognito({ webApp: 'false' });
    expect(client.AllowedOAuthFlowsUserPoolClient).toBe(false);
    for (const k of OAUTH_KEYS) expect(client[k], k).toBeUndefined();
    expect([...client.ExplicitAuthFlows].sort()).toEqual(['ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH']);
    expect(client.GenerateSecret).toBe(false);
    expect(domains).toEqual([]);
  });

  it('without the web app, in prod: no OAuth and SRP only, never the password in the request', () => {
    const { client, domains } = cognito({ stage: 'prod', webApp: 'false' });
    expect(client.AllowedOAuthFlowsUserPoolClient).toBe(false);
    for (const k of OAUTH_KEYS) expect(client[k], k).toBeUndefined();
    expect([...client.ExplicitAuthFlows].sort()).toEqual(['ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_SRP_AUTH']);
    expect(domains).toEqual([]);
  });

  it('with a hosted UI: the authorization-code grant only, OIDC scopes, the given URLs and the Cognito domain', () => {
    const { client, domains, t } = cognito({ ...HOSTED_UI, webApp: 'false' });
    expect(client.AllowedOAuthFlowsUserPoolClient).toBe(true);
    expect(client.AllowedOAuthFlows).toEqual(['code']);
    expect([...client.AllowedOAuthScopes].sort()).toEqual(['email', 'openid', 'profile']);
    expect(client.CallbackURLs).toEqual(['https://chat.example.com/callback', 'http://localhost:5173/callback']);
    expect(client.LogoutURLs).toEqual(['https://chat.example.com/']);
    expect(client.SupportedIdentityProviders).toEqual(['COGNITO']);
    expect(client.GenerateSecret).toBe(false); // a public client: PKCE is its only proof
    expect(domains).toHaveLength(1);
    expect(domains[0].Domain).toBe('chat-example-dev');
    expect(t.toJSON().Outputs.HostedUiUrl).toBeDefined();
  });

  it('with a hosted UI in prod: still code grant only, and SRP only', () => {
    const { client } = cognito({ ...HOSTED_UI, stage: 'prod', oauthCallbackUrls: 'https://chat.example.com/callback' });
    expect(client.AllowedOAuthFlows).toEqual(['code']);
    expect([...client.ExplicitAuthFlows].sort()).toEqual(['ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_SRP_AUTH']);
  });
});

describe('cdk-nag AwsSolutions with a hosted UI', () => {
  it('reports nothing unacknowledged for prod with a hosted UI', () => {
    const { violations, error } = nagReport({ ...HOSTED_UI, stage: 'prod', oauthCallbackUrls: 'https://chat.example.com/callback' });
    expect(summarize(violations)).toEqual([]);
    expect(error).toBeUndefined();
  });
});

describe('hosted UI context', () => {
  const parse = (ctx: Record<string, unknown>) => parseConfig((k) => ctx[k]);

  it('is off unless asked for', () => {
    expect(parse({}).hostedUi).toBeUndefined();
  });

  it('needs no callback URL of its own with the web app, whose URL is one', () => {
    expect(parse({ hostedUiDomainPrefix: 'chat-example' }).hostedUi).toEqual({ domainPrefix: 'chat-example', callbackUrls: [], logoutUrls: [] });
  });

  it('reads the prefix and comma-separated URLs', () => {
    expect(parse(HOSTED_UI).hostedUi).toEqual({
      domainPrefix: 'chat-example-dev',
      callbackUrls: ['https://chat.example.com/callback', 'http://localhost:5173/callback'],
      logoutUrls: ['https://chat.example.com/'],
    });
  });

  it.each([
    [{ hostedUiDomainPrefix: 'chat', webApp: 'false' }, /"oauthCallbackUrls": the hosted UI needs at least one callback URL/],
    [{ oauthCallbackUrls: 'https://a.example.com/cb' }, /"oauthCallbackUrls": only meaningful with hostedUiDomainPrefix/],
    [{ oauthLogoutUrls: 'https://a.example.com/' }, /"oauthLogoutUrls": only meaningful with hostedUiDomainPrefix/],
    [{ ...HOSTED_UI, hostedUiDomainPrefix: 'Chat' }, /"hostedUiDomainPrefix": expected 1-63 lowercase/],
    [{ ...HOSTED_UI, hostedUiDomainPrefix: '-chat' }, /"hostedUiDomainPrefix": expected 1-63 lowercase/],
    [{ ...HOSTED_UI, hostedUiDomainPrefix: 'my-cognito-chat' }, /"hostedUiDomainPrefix": Cognito reserves/],
    [{ ...HOSTED_UI, oauthCallbackUrls: 'http://chat.example.com/cb' }, /"oauthCallbackUrls": .*must be https:\/\//],
    [{ ...HOSTED_UI, oauthCallbackUrls: 'https://chat.example.com/#cb' }, /"oauthCallbackUrls": .*#fragment/],
    [{ ...HOSTED_UI, oauthCallbackUrls: 'not a url' }, /"oauthCallbackUrls": not a URL/],
    [{ ...HOSTED_UI, stage: 'prod' }, /"oauthCallbackUrls": .*no localhost URLs in prod/],
    [{ ...HOSTED_UI, jwtIssuer: 'https://x.example.com', jwtAudience: 'a' }, /"hostedUiDomainPrefix": the stack creates no user pool/],
  ])('refuses %j', (ctx, message) => {
    expect(() => parse(ctx)).toThrow(message);
  });
});
