/**
 * Who issues the tokens: a Cognito user pool + app client created here, or an
 * existing OIDC issuer given by context (`jwtIssuer`, `jwtAudience`, optional
 * `jwksUrl`). Either way the rest of the stack sees only issuer, audience and
 * JWKS URL — the same three values the Rust verifier reads.
 *
 * Clients send the Cognito **ID token**: its `aud` claim is the app client id,
 * which is what both the WebSocket authorizer and the HTTP API JWT authorizer
 * check, and it carries `name`.
 */
import { CfnOutput, Duration, Lazy, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import type { ChatConfig } from './config';
import { defaultDomainPrefix, WEB_SCOPES } from './web-app';

export class ChatAuth extends Construct {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUrl: string;
  readonly userPool?: cognito.UserPool;
  readonly client?: cognito.UserPoolClient;
  /** The hosted UI's domain, when configured (`hostedUiDomainPrefix`) or the web app is on. */
  readonly domain?: cognito.UserPoolDomain;
  /**
   * The web app's URL, the app client's first callback and logout URL
   * (`config.webApp`). Set once the web app exists: its distribution needs
   * the APIs, which need this client, so the client reads it lazily.
   */
  webAppUrl?: string;

  constructor(scope: Construct, id: string, config: ChatConfig) {
    super(scope, id);

    if (config.jwtIssuer && config.jwtAudience) {
      this.issuer = config.jwtIssuer.replace(/\/+$/, '');
      this.audience = config.jwtAudience;
      this.jwksUrl = config.jwksUrl ?? `${this.issuer}/.well-known/jwks.json`;
      return;
    }

    const prod = config.stage === 'prod';
    this.userPool = new cognito.UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      standardAttributes: {
        email: { required: true, mutable: true },
        fullname: { required: false, mutable: true },
      },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      deletionProtection: prod,
      removalPolicy: prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const hostedUi = config.hostedUi;
    const appUrl = config.webApp
      ? Lazy.string({
          produce: () => {
            if (!this.webAppUrl) throw new Error('ChatAuth: webApp is on but no web app URL was set');
            return this.webAppUrl;
          },
        })
      : undefined;
    const withApp = (urls: string[]) => (appUrl ? [appUrl, ...urls] : urls);
    const callbackUrls = withApp(hostedUi?.callbackUrls ?? []);
    const logoutUrls = withApp(hostedUi?.logoutUrls ?? []);
    this.client = this.userPool.addClient('WebClient', {
      // SRP (what browser SDKs use) never sends the password. Plain
      // USER_PASSWORD_AUTH lets the README fetch a token with the AWS CLI:
      // dev only.
      authFlows: { userSrp: true, userPassword: !prod },
      // No OAuth unless a hosted UI is configured or the web app is on
      // (its CloudFront URL first among the URLs); then only the
      // authorization-code grant. The client has no secret (a browser cannot
      // keep one), so it must send a PKCE code_challenge: Cognito has no
      // switch to demand it, the clients' OAuth libraries do. Never the
      // implicit grant, which hands tokens over in the URL.
      ...(callbackUrls.length > 0
        ? {
            oAuth: {
              flows: { authorizationCodeGrant: true, implicitCodeGrant: false, clientCredentials: false },
              scopes: WEB_SCOPES.map((s) => cognito.OAuthScope.custom(s)),
              callbackUrls,
              logoutUrls: logoutUrls.length > 0 ? logoutUrls : undefined,
            },
            supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
          }
        : { disableOAuth: true }),
      generateSecret: false,
      preventUserExistenceErrors: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
      enableTokenRevocation: true,
    });

    if (hostedUi || config.webApp) {
      const domainPrefix = hostedUi?.domainPrefix ?? defaultDomainPrefix(config.stage);
      this.domain = this.userPool.addDomain('HostedUi', { cognitoDomain: { domainPrefix } });
      const output = new CfnOutput(this, 'HostedUiUrl', {
        description: 'Base URL of the Cognito hosted UI (/oauth2/authorize, /oauth2/token, /logout)',
        value: this.domain.baseUrl(),
      });
      output.overrideLogicalId('HostedUiUrl');
    }

    const { region, urlSuffix } = Stack.of(this);
    this.issuer = `https://cognito-idp.${region}.${urlSuffix}/${this.userPool.userPoolId}`;
    this.audience = this.client.userPoolClientId;
    this.jwksUrl = `${this.issuer}/.well-known/jwks.json`;

    Validations.of(this.userPool).acknowledge({
      id: 'AwsSolutions-COG2',
      reason:
        'MFA is OPTIONAL (TOTP) rather than REQUIRED: a consumer chat sign-in cannot demand a second factor from ' +
        'every user; operators can require it per user.',
    });
    const plusTier =
      'Threat protection (COG3: advanced security ENFORCED) needs the Cognito Plus feature plan (COG8), billed per ' +
      'monthly active user; self sign-up is disabled and users are created by an administrator. Revisit when ' +
      'self sign-up opens.';
    Validations.of(this.userPool).acknowledge({ id: 'AwsSolutions-COG3', reason: plusTier });
    Validations.of(this.userPool).acknowledge({ id: 'AwsSolutions-COG8', reason: plusTier });
  }
}
