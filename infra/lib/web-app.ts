/**
 * The web app (local/web), hosted by the stack:
 *
 *   browser ──https──▶ CloudFront ──OAC (SigV4)──▶ S3 bucket (private)
 *                         │ security headers + a CSP naming the stack's endpoints
 *   browser ──▶ Cognito hosted UI (code + PKCE) ──▶ back to the CloudFront URL
 *
 * The same files chat-local serves, never rebuilt per stage: the endpoints
 * reach the app as `config.json`, written next to it at deploy time with the
 * stack's values (the WebSocket and HTTP API URLs, the hosted UI domain, the
 * app client id, the redirect URI). local/web/config.js reads it; chat-local
 * serves its own in the same shape.
 *
 * The bucket is private (all public access blocked, TLS only, S3-managed
 * encryption) and only this distribution may read it: its bucket policy
 * names the distribution (`AWS:SourceArn`), never a public principal.
 * Everything is served `no-cache` (CloudFront revalidates with the ETag):
 * the file names carry no content hash, so a deploy must show at once.
 */
import { Aws, CfnOutput, DefaultStackSynthesizer, Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import * as path from 'node:path';
import type { Stage } from './config';
import { acknowledgeManagedPolicy, acknowledgeWildcardResource } from './nag';

/** The app's files: what chat-local embeds and serves. */
export const WEB_DIR = path.join(__dirname, '../../local/web');

/**
 * The TypeScript SDK's compiled ESM, which the app imports as `./sdk/index.js`
 * (chat-local serves the same files at `/sdk/`). Its `.d.ts` files are for
 * compilers, not browsers: not uploaded.
 */
export const SDK_DIR = path.join(__dirname, '../../sdk/ts/dist');
export const SDK_PREFIX = 'sdk/';

/** The OAuth scopes the app asks for (the app client allows exactly these). */
export const WEB_SCOPES = ['openid', 'email', 'profile'];

export interface WebAppProps {
  readonly stage: Stage;
  /** The WebSocket stage's URL (`wss://…/<stage>`). */
  readonly webSocketUrl: string;
  /** The HTTP API stage's URL (`https://…/`). */
  readonly restUrl: string;
  /** The Cognito hosted UI's base URL (`https://<prefix>.auth.<region>.amazoncognito.com`). */
  readonly authDomainUrl: string;
  /** The attachments bucket's origin (`https://<bucket>.s3.<region>.amazonaws.com`): uploads and downloads. */
  readonly attachmentsUrl: string;
  /** The public app client the app signs in with. */
  readonly clientId: string;
  /** The VAPID public key the app subscribes to Web Push with (`vapidPublicKey`); absent: no notifications. */
  readonly vapidPublicKey?: string;
}

/** The Content-Security-Policy: the app's own files, and only the stack's endpoints to talk to. */
export function contentSecurityPolicy(
  p: Pick<WebAppProps, 'webSocketUrl' | 'restUrl' | 'authDomainUrl' | 'attachmentsUrl'>,
): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    // Avatars are https URLs users give; images run no code.
    // blob: the decrypted files of encrypted rooms, in page memory.
    "img-src 'self' https: data: blob:",
    `connect-src 'self' ${p.webSocketUrl} ${p.restUrl} ${p.authDomainUrl} ${p.attachmentsUrl}`,
    // Attachments play from their presigned URLs.
    "media-src 'self' https:",
    "manifest-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; ');
}

export class WebApp extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly headers: cloudfront.ResponseHeadersPolicy;
  readonly deployment: s3deploy.BucketDeployment;
  /** The SDK's files, under `sdk/` beside the app's. */
  readonly sdkDeployment: s3deploy.BucketDeployment;
  /** `https://<distribution>.cloudfront.net/`: the app, and the OAuth redirect URI. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: WebAppProps) {
    super(scope, id);
    const prod = props.stage === 'prod';

    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      // The files are rebuilt from the repository on every deploy: nothing
      // to keep but in prod, where a stack deletion must never take data.
      removalPolicy: prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      autoDeleteObjects: !prod,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'The bucket holds only the public web app, written by the deployment; it is read only through CloudFront ' +
        '(origin access control), whose requests are what matters to audit.',
    });

    this.headers = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      comment: `chat ${props.stage} web app: security headers and a CSP naming the stack's endpoints`,
      securityHeadersBehavior: {
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(730),
          includeSubdomains: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        // The address bar carries the OAuth code on the way back: never send it on.
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
        contentSecurityPolicy: { contentSecurityPolicy: contentSecurityPolicy(props), override: true },
      },
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `chat ${props.stage} web app`,
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket, {
          originAccessLevels: [cloudfront.AccessLevel.READ],
        }),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.headers,
        compress: true,
      },
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
    });
    this.url = `https://${this.distribution.distributionDomainName}/`;

    const distribution = this.distribution;
    const acknowledge = (id: string, reason: string) => Validations.of(distribution).acknowledge({ id, reason });
    acknowledge('AwsSolutions-CFR1', 'A chat app for anyone who is signed in: no country is excluded.');
    acknowledge(
      'AwsSolutions-CFR2',
      'The distribution serves four static files; the APIs behind them have their own throttling and a JWT or ' +
        'Lambda authorizer. A WAF web ACL (billed per ACL and rule) can be added per account.',
    );
    acknowledge(
      'AwsSolutions-CFR3',
      'Access logs of four static files carry no audit value: who signs in is logged by Cognito, what they do by ' +
        'the APIs’ access logs.',
    );
    acknowledge(
      'AwsSolutions-CFR4',
      'The default *.cloudfront.net certificate: CloudFront then negotiates TLSv1 or later for SNI clients and ' +
        'the minimum cannot be raised without a custom domain and certificate (set one to enforce TLS 1.2).',
    );

    const config = {
      region: Aws.REGION,
      wsUrl: props.webSocketUrl,
      restUrl: props.restUrl,
      auth: {
        domain: props.authDomainUrl,
        clientId: props.clientId,
        redirectUri: this.url,
        logoutUri: this.url,
        scopes: WEB_SCOPES,
      },
      ...(props.vapidPublicKey ? { vapidPublicKey: props.vapidPublicKey } : {}),
    };
    this.deployment = new s3deploy.BucketDeployment(this, 'Files', {
      destinationBucket: this.bucket,
      sources: [s3deploy.Source.asset(WEB_DIR), s3deploy.Source.jsonData('config.json', config)],
      cacheControl: [s3deploy.CacheControl.noCache()],
      prune: true,
      // The SDK's deployment owns `sdk/`: this one's prune leaves it be.
      exclude: [`${SDK_PREFIX}*`],
      memoryLimit: 256,
    });
    // BucketDeployment has no prefix per source: the SDK goes in a second
    // one, pruning only under its prefix.
    this.sdkDeployment = new s3deploy.BucketDeployment(this, 'Sdk', {
      destinationBucket: this.bucket,
      destinationKeyPrefix: SDK_PREFIX,
      sources: [s3deploy.Source.asset(SDK_DIR, { exclude: ['*.d.ts', '**/*.d.ts'] })],
      cacheControl: [s3deploy.CacheControl.noCache()],
      prune: true,
      memoryLimit: 256,
    });

    this.acknowledgeDeploymentHandler();

    const output = new CfnOutput(this, 'Url', {
      description: 'The web app: open it in a browser',
      value: this.url,
    });
    output.overrideLogicalId('WebAppUrl');
  }

  /**
   * BucketDeployment's handler (one per stack, written by the CDK) copies
   * the asset into the bucket: its role gets the CDK's read grant on the
   * asset and read-write on this bucket, and nothing else. The findings on
   * it are acknowledged one by one, so a new grant on that role fails nag.
   */
  private acknowledgeDeploymentHandler(): void {
    const role = this.deployment.handlerRole;
    const stack = Stack.of(this);
    acknowledgeManagedPolicy(
      role,
      'service-role/AWSLambdaBasicExecutionRole',
      'The CDK’s BucketDeployment handler writes its logs with the managed basic execution policy; it has no ' +
        'other managed policy.',
    );
    for (const action of ['s3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:Abort*', 's3:DeleteObject*']) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason:
          'The CDK’s grantRead (asset) and grantReadWrite (web app bucket) action groups for the deployment ' +
          'handler, which copies, overwrites and prunes the app’s files; scoped to those two buckets.',
      });
    }
    const qualifier =
      (this.node.tryGetContext('@aws-cdk/core:bootstrapQualifier') as string | undefined) ??
      DefaultStackSynthesizer.DEFAULT_QUALIFIER;
    acknowledgeWildcardResource(
      role,
      `arn:${stack.partition}:s3:::cdk-${qualifier}-assets-${Aws.ACCOUNT_ID}-${stack.region}/*`,
      'The bootstrap asset bucket’s objects: the asset’s key is known only at deploy time.',
    );
    acknowledgeWildcardResource(
      role,
      this.bucket.arnForObjects('*'),
      'Every object of the web app bucket: the handler replaces the app’s files and prunes the old ones.',
    );
    const handler = stack.node.children.find(
      (c) => c.node.id.startsWith('Custom::CDKBucketDeployment') && c.node.tryFindChild('ServiceRole') !== undefined,
    );
    if (handler) {
      Validations.of(handler).acknowledge({
        id: 'AwsSolutions-L1',
        reason: 'The CDK pins the BucketDeployment handler’s Python runtime (with its AWS CLI layer).',
      });
    }
  }
}

/** The hosted UI prefix used when none is given: unique per account and stage. */
export function defaultDomainPrefix(stage: Stage): string {
  return Fn.join('-', ['chat', stage, Aws.ACCOUNT_ID]);
}

