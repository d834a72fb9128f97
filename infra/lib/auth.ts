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
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import type { ChatConfig } from './config';

export class ChatAuth extends Construct {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUrl: string;
  readonly userPool?: cognito.UserPool;
  readonly client?: cognito.UserPoolClient;

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
    this.client = this.userPool.addClient('WebClient', {
      // USER_PASSWORD_AUTH lets the README fetch a token with the AWS CLI;
      // SRP is what browser SDKs use.
      authFlows: { userPassword: true, userSrp: true },
      generateSecret: false,
      preventUserExistenceErrors: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
      enableTokenRevocation: true,
    });

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
