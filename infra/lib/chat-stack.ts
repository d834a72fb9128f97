/**
 * The whole platform in one stack:
 *
 *   browser ──wss──▶ WebSocket API ──▶ connect / message / disconnect ──▶ DynamoDB, Redis
 *                       │ $connect: REQUEST authorizer          │ SendMessage
 *                       ▼                                       ▼
 *                 (PostToConnection) ◀── persist ◀── SQS (+ DLQ)
 *   browser ──https─▶ HTTP API (JWT) ──▶ history / users / rooms ──▶ DynamoDB, Redis
 *   browser ──https─▶ CloudFront ──▶ S3: the web app + config.json (lib/web-app.ts);
 *                     it signs in at the Cognito hosted UI (code + PKCE)
 *
 * Replies reach clients only through the API Gateway Management API, never
 * as route responses. Every function gets exactly the table, queue and
 * `@connections` actions its ports need (deploy/functions.json), never `dynamodb:Scan`.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as apigwv1 from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer, WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration, WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { Attachments } from './attachments';
import { ChatAuth } from './auth';
import { FUNCTION_NAMES, type ChatConfig, type FunctionName } from './config';
import { grantsOf, has, MANIFEST, SETTINGS, type GrantResource, type PortName } from './manifest';
import { ChatMonitoring } from './monitoring';
import { acknowledgeManagedPolicy, acknowledgeWildcardResource } from './nag';
import { ChatNetwork } from './network';
import { ChatFunction } from './rust-function';
import { ChatTable, GSI1 } from './table';
import { WebApp } from './web-app';

/** The WebSocket action routes; all of them, and `$default`, go to chat-message. */
export const WS_ACTION_ROUTES = [
  'sendMessage',
  'markRead',
  'typing',
  'sync',
  'ping',
  'editMessage',
  'deleteMessage',
  'react',
] as const;

export interface ChatStackProps extends StackProps {
  readonly config: ChatConfig;
}

export class ChatStack extends Stack {
  readonly config: ChatConfig;
  readonly functions: Record<FunctionName, ChatFunction>;
  readonly webSocketApi: apigw.WebSocketApi;
  readonly webSocketStage: apigw.WebSocketStage;
  readonly httpApi: apigw.HttpApi;
  readonly httpStage: apigw.HttpStage;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly network?: ChatNetwork;
  /** The attachments' bucket (infra/lib/attachments.ts). */
  readonly attachmentsBucket: s3.Bucket;
  /** The hosted web app (`config.webApp`). */
  readonly webApp?: WebApp;

  constructor(scope: Construct, id: string, props: ChatStackProps) {
    super(scope, id, props);
    const config = (this.config = props.config);
    const prod = config.stage === 'prod';
    const logRemoval = prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    const { table } = new ChatTable(this, 'Data', config);
    const auth = new ChatAuth(this, 'Auth', config);
    const network = (this.network = config.redis ? new ChatNetwork(this, 'Network', config) : undefined);
    const attachments = new Attachments(this, 'Attachments', { stage: config.stage, corsOrigins: config.corsOrigins });
    this.attachmentsBucket = attachments.bucket;

    // ---- queue -----------------------------------------------------------
    const persistTimeout = Duration.seconds(config.persistTimeoutSecs);
    this.deadLetterQueue = new sqs.Queue(this, 'PersistDlq', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.queue = new sqs.Queue(this, 'PersistQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
      // AWS: at least 6x the consumer's timeout (plus the batching window),
      // so a batch still being retried is not handed to a second poller.
      visibilityTimeout: Duration.seconds(6 * config.persistTimeoutSecs + config.persistBatchWindowSecs),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: config.maxReceiveCount },
    });

    // ---- the VAPID key pair of Web Push ---------------------------------------
    // Secrets Manager cannot generate EC keys: the stack creates the secret
    // with a placeholder, and scripts/vapid-keys.sh puts a pair made with
    // openssl. Until then (or if it is deleted) the persist function sends
    // no Web Push, reports WebPushDisabled (alarmed), and runs on.
    const vapidSecret = new secretsmanager.Secret(this, 'VapidKeys', {
      description: `chat ${config.stage}: the VAPID key pair of Web Push ({"publicKey","privateKey","subject"}); set it with scripts/vapid-keys.sh`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ placeholder: 'run scripts/vapid-keys.sh to put a key pair here' }),
        generateStringKey: 'filler',
        excludePunctuation: true,
      },
      removalPolicy: prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    Validations.of(vapidSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'A VAPID key pair cannot rotate by itself: every browser subscription is bound to its public key, so a new ' +
        'pair means every user subscribes again. scripts/vapid-keys.sh replaces it by hand when that is wanted.',
    });

    // ---- APIs (created before the functions: their env names the endpoint) -
    this.webSocketApi = new apigw.WebSocketApi(this, 'WebSocketApi', {
      apiName: `chat-${config.stage}-ws`,
      description: 'Chat real-time API',
      routeSelectionExpression: '$request.body.action',
    });
    const wsEndpoint = `https://${this.webSocketApi.apiId}.execute-api.${this.region}.${this.urlSuffix}/${config.stage}`;

    // ---- functions -----------------------------------------------------------
    // Each function gets the environment and the grants of the ports
    // deploy/functions.json gives it, and nothing else: the Rust side reads the
    // same file and refuses to start a binary that disagrees with it.
    const authEnv = {
      CHAT_AUTH_MODE: 'jwks',
      CHAT_JWKS_URL: auth.jwksUrl,
      CHAT_JWT_ISSUER: auth.issuer,
      CHAT_JWT_AUDIENCE: auth.audience,
    };
    const redisEnv: Record<string, string> = network
      ? { CHAT_REDIS_URL: network.redisUrl, CHAT_REDIS_MODE: network.redisClientMode }
      : {};
    const settingsEnv = Object.fromEntries(
      Object.entries(config.settings).map(([key, value]) => [SETTINGS[key].env, String(value)]),
    );
    const portEnv: Record<PortName, Record<string, string>> = {
      stores: { CHAT_BACKEND: 'aws', CHAT_TABLE_NAME: table.tableName, ...redisEnv, ...settingsEnv },
      queue: { CHAT_QUEUE_URL: this.queue.queueUrl },
      pusher: { CHAT_WS_ENDPOINT: wsEndpoint },
      verifier: authEnv,
      blobs: { CHAT_BUCKET_NAME: attachments.bucket.bucketName },
      webpush: { CHAT_VAPID_SECRET_ARN: vapidSecret.secretArn },
      // Optional: only the platforms whose application the operator named.
      mobilePush: {
        ...(config.snsFcmPlatformApplicationArn ? { CHAT_SNS_FCM_APP_ARN: config.snsFcmPlatformApplicationArn } : {}),
        ...(config.snsApnsPlatformApplicationArn ? { CHAT_SNS_APNS_APP_ARN: config.snsApnsPlatformApplicationArn } : {}),
      },
    };
    for (const [port, env] of Object.entries(portEnv) as [PortName, Record<string, string>][]) {
      const spec = MANIFEST.ports[port];
      const settingVars = port === 'stores' ? Object.values(SETTINGS).map((x) => x.env) : [];
      const allowed = new Set([...spec.env, ...spec.optionalEnv, ...settingVars]);
      const unknown = Object.keys(env).filter((k) => !allowed.has(k));
      const missing = spec.env.filter((k) => !(k in env));
      if (unknown.length > 0 || missing.length > 0) {
        throw new Error(`the ${port} port's environment disagrees with deploy/functions.json: ` +
          `unlisted ${JSON.stringify(unknown)}, unset ${JSON.stringify(missing)}`);
      }
    }
    const netProps = network
      ? { vpc: network.vpc, subnets: network.lambdaSubnets, securityGroup: network.lambdaSecurityGroup }
      : undefined;

    const make = (id: string, binaryName: FunctionName, timeout: Duration) => {
      const spec = MANIFEST.functions[binaryName];
      const environment = Object.assign({}, ...spec.ports.map((port) => portEnv[port]));
      // Only the functions with the stores reach Redis; the authorizer needs
      // only the JWKS endpoint and stays outside the VPC.
      const inVpc = has(spec, 'stores');
      return new ChatFunction(this, id, {
        binaryName, description: spec.description, config, environment, timeout, network: inVpc ? netProps : undefined,
      });
    };

    this.functions = {
      'chat-authorizer': make('Authorizer', 'chat-authorizer', Duration.seconds(5)),
      'chat-connect': make('Connect', 'chat-connect', Duration.seconds(10)),
      'chat-message': make('Message', 'chat-message', Duration.seconds(15)),
      'chat-disconnect': make('Disconnect', 'chat-disconnect', Duration.seconds(10)),
      'chat-persist': make('Persist', 'chat-persist', persistTimeout),
      'chat-history': make('History', 'chat-history', Duration.seconds(10)),
      'chat-users': make('Users', 'chat-users', Duration.seconds(10)),
      'chat-rooms': make('Rooms', 'chat-rooms', Duration.seconds(10)),
    };
    const fns = this.functions;

    // ---- least-privilege grants, from the ports -------------------------------
    // The Pusher port posts frames and may close a connection: POST and DELETE
    // on this API's own stage, nothing else (no GET, no other API or stage).
    const connectionsArn = (method: string) =>
      this.formatArn({ service: 'execute-api', resource: this.webSocketApi.apiId, resourceName: `${config.stage}/${method}/@connections/*` });
    // Mobile push: CreatePlatformEndpoint on the applications themselves, the
    // rest on their endpoints only (`…:endpoint/GCM/<name>/<id>`). No
    // application named: nothing granted.
    const snsApps = [config.snsFcmPlatformApplicationArn, config.snsApnsPlatformApplicationArn].filter(
      (a): a is string => a !== undefined,
    );
    const snsEndpoints = snsApps.map((app) => `${app.replace(/:app\//, ':endpoint/')}/*`);
    const snsTarget = (on: 'application' | 'endpoint' | undefined) =>
      on === 'application'
        ? { sid: 'CreateMobileEndpoints', resources: snsApps }
        : { sid: 'MobileEndpoints', resources: snsEndpoints };
    const grantTargets: Record<Exclude<GrantResource, 'bucket' | 'mobilePush'>, { sid: string; resources: string[] }> = {
      table: { sid: 'ChatTable', resources: [table.tableArn, `${table.tableArn}/index/${GSI1}`] },
      queue: { sid: 'EnqueuePersistJobs', resources: [this.queue.queueArn] },
      connections: { sid: 'PushToConnections', resources: [connectionsArn('POST'), connectionsArn('DELETE')] },
      // GetSecretValue on this one secret (its full ARN, with its suffix).
      vapidSecret: { sid: 'ReadVapidKeys', resources: [vapidSecret.secretArn] },
    };
    // The bucket is granted per key prefix (deploy/functions.json, bucketActions).
    const bucketTarget = (prefix: string | null | undefined) =>
      prefix
        ? { sid: `Attachments${prefix.replace(/[^A-Za-z0-9]/g, '')}`, resources: [attachments.bucket.arnForObjects(`${prefix}*`)] }
        : { sid: 'AttachmentsBucket', resources: [attachments.bucket.bucketArn] };
    for (const name of FUNCTION_NAMES) {
      for (const grant of grantsOf(MANIFEST.functions[name])) {
        const { sid, resources } =
          grant.resource === 'bucket'
            ? bucketTarget(grant.prefix)
            : grant.resource === 'mobilePush'
              ? snsTarget(grant.on)
              : grantTargets[grant.resource];
        if (resources.length === 0) continue;
        fns[name].role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions: grant.actions, resources }));
        if (grant.resource === 'mobilePush' && grant.on === 'endpoint') {
          for (const endpoint of snsEndpoints) {
            acknowledgeWildcardResource(
              fns[name].role,
              endpoint,
              'The trailing * is the endpoint id: SNS creates one per device token at run time. The ARN is pinned to ' +
                'this one platform application.',
            );
          }
        }
        if (grant.resource === 'bucket' && grant.prefix) {
          acknowledgeWildcardResource(
            fns[name].role,
            attachments.bucket.arnForObjects(`${grant.prefix}*`),
            'The trailing * is the attachment id (and room id): objects are created at run time. The ARN is pinned ' +
              'to this bucket and one key prefix.',
          );
        }
        if (grant.resource === 'connections') {
          for (const method of ['POST', 'DELETE']) {
            acknowledgeWildcardResource(
              fns[name].role,
              connectionsArn(method),
              'The trailing * is the connection id: connections are created at run time. The ARN is pinned to this ' +
                'API, this stage and the one method.',
            );
          }
        }
      }
    }

    fns['chat-persist'].fn.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: config.persistBatchSize,
        maxBatchingWindow: Duration.seconds(config.persistBatchWindowSecs),
        reportBatchItemFailures: true,
        maxConcurrency: config.persistMaxConcurrency,
      }),
    );

    // ---- WebSocket API -------------------------------------------------------
    // Identity source: browsers cannot set headers on a WebSocket handshake, so
    // the token travels as `?token=`. API Gateway requires *every* listed
    // identity source to be present (they are ANDed), so listing the header as
    // well would reject browsers; listing the query string alone means a
    // handshake without a token gets 401 from API Gateway without invoking
    // (or paying for) the authorizer. Header-only clients must use `?token=` too.
    // (WebSocket authorizers cannot cache, so the source is no cache key.)
    const authorizer = new WebSocketLambdaAuthorizer('TokenAuthorizer', fns['chat-authorizer'].fn, {
      identitySource: ['route.request.querystring.token'],
    });
    this.webSocketApi.addRoute('$connect', {
      integration: new WebSocketLambdaIntegration('ConnectIntegration', fns['chat-connect'].fn),
      authorizer,
    });
    this.webSocketApi.addRoute('$disconnect', {
      integration: new WebSocketLambdaIntegration('DisconnectIntegration', fns['chat-disconnect'].fn),
    });
    const messageIntegration = new WebSocketLambdaIntegration('MessageIntegration', fns['chat-message'].fn);
    for (const route of ['$default', ...WS_ACTION_ROUTES]) {
      this.webSocketApi.addRoute(route, { integration: messageIntegration });
    }

    const accountRole = config.apigwAccountRole ? this.apiGatewayLoggingRole() : undefined;
    const wsAccessLogs = new logs.LogGroup(this, 'WebSocketAccessLogs', {
      retention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy: logRemoval,
    });
    this.webSocketStage = new apigw.WebSocketStage(this, 'WebSocketStage', {
      webSocketApi: this.webSocketApi,
      stageName: config.stage,
      autoDeploy: true,
      throttle: { rateLimit: config.wsThrottleRate, burstLimit: config.wsThrottleBurst },
      detailedMetricsEnabled: prod,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(wsAccessLogs),
        // No query string in the log: it carries the token.
        format: apigwv1.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTimeEpoch',
            eventType: '$context.eventType',
            routeKey: '$context.routeKey',
            connectionId: '$context.connectionId',
            status: '$context.status',
            principalId: '$context.authorizer.principalId',
            authorizerError: '$context.authorizer.error',
            error: '$context.error.message',
            integrationError: '$context.integration.error',
            integrationLatency: '$context.integration.latency',
          }),
        ),
      },
    });
    if (accountRole) this.webSocketStage.node.addDependency(accountRole);
    Validations.of(this.webSocketApi).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'WebSocket APIs authorize only at $connect (Lambda REQUEST authorizer on the $connect route); every other ' +
        'route runs on that already-authorized connection and API Gateway accepts no authorizer on it.',
    });

    // ---- HTTP API --------------------------------------------------------------
    const jwt = new HttpJwtAuthorizer('Jwt', auth.issuer, {
      jwtAudience: [auth.audience],
      identitySource: ['$request.header.Authorization'],
    });
    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      apiName: `chat-${config.stage}-http`,
      description: 'Chat REST API',
      defaultAuthorizer: jwt,
      createDefaultStage: false,
      corsPreflight: {
        // The web app's origin cannot be added here by itself: its CSP names
        // this API, so the API cannot name its distribution (a cycle). With a
        // restricted list, add the WebAppUrl origin (infra/README.md).
        allowOrigins: config.corsOrigins,
        allowMethods: [
          apigw.CorsHttpMethod.GET,
          apigw.CorsHttpMethod.POST,
          apigw.CorsHttpMethod.PATCH,
          apigw.CorsHttpMethod.PUT,
          apigw.CorsHttpMethod.DELETE,
          apigw.CorsHttpMethod.OPTIONS,
        ],
        allowHeaders: ['authorization', 'content-type'],
        maxAge: Duration.hours(1),
      },
    });
    const history = new HttpLambdaIntegration('HistoryIntegration', fns['chat-history'].fn);
    const users = new HttpLambdaIntegration('UsersIntegration', fns['chat-users'].fn);
    const rooms = new HttpLambdaIntegration('RoomsIntegration', fns['chat-rooms'].fn);
    const M = apigw.HttpMethod;
    const routes: [apigw.HttpMethod, string, HttpLambdaIntegration][] = [
      [M.GET, '/rooms/{roomId}/messages', history],
      // A message's thread: its replies (a Query of the table's GSI1).
      [M.GET, '/rooms/{roomId}/messages/{seq}/replies', history],
      // Message search (the index the persist function writes).
      [M.GET, '/rooms/{roomId}/search', history],
      [M.GET, '/search', history],
      [M.GET, '/users/me', users],
      [M.PATCH, '/users/me', users],
      [M.GET, '/users/{userId}', users],
      // Push devices and notification policy (offline notifications).
      [M.POST, '/users/me/devices', users],
      [M.GET, '/users/me/devices', users],
      [M.DELETE, '/users/me/devices/{deviceId}', users],
      [M.GET, '/users/me/notifications', users],
      [M.PUT, '/users/me/notifications', users],
      [M.PUT, '/rooms/{roomId}/notifications', users],
      // Blocks (docs/SECURITY.md).
      [M.GET, '/users/me/blocks', users],
      [M.PUT, '/users/me/blocks/{userId}', users],
      [M.DELETE, '/users/me/blocks/{userId}', users],
      [M.PUT, '/users/me/mutes/{userId}', users],
      [M.DELETE, '/users/me/mutes/{userId}', users],
      // Device keys of end-to-end encrypted direct rooms (served with
      // the rooms: the pusher tells peers their keys changed).
      [M.PUT, '/users/me/keys/{deviceId}', rooms],
      [M.DELETE, '/users/me/keys/{deviceId}', rooms],
      [M.GET, '/users/{userId}/keys', rooms],
      [M.POST, '/rooms', rooms],
      [M.GET, '/rooms', rooms],
      [M.GET, '/rooms/{roomId}', rooms],
      [M.POST, '/rooms/{roomId}/members', rooms],
      [M.DELETE, '/rooms/{roomId}/members/{userId}', rooms],
      [M.POST, '/rooms/{roomId}/attachments', rooms],
      [M.GET, '/channels', rooms],
    ];
    for (const [method, path, integration] of routes) {
      this.httpApi.addRoutes({ path, methods: [method], integration });
    }
    // The API's OpenAPI document (docs/openapi.json, which lists every route
    // above: test/http.test.ts checks both ways), public like any API
    // description, served by the users function as `chat-local` serves it.
    const [openApiRoute] = this.httpApi.addRoutes({
      path: '/openapi.json',
      methods: [M.GET],
      integration: users,
      authorizer: new apigw.HttpNoneAuthorizer(),
    });
    Validations.of(openApiRoute).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'GET /openapi.json serves the API description (public by nature, as any published API reference); the ' +
        'function answers it before reading a token and it is throttled with the stage. Every other route has the JWT authorizer.',
    });
    const httpAccessLogs = new logs.LogGroup(this, 'HttpAccessLogs', {
      retention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy: logRemoval,
    });
    this.httpStage = new apigw.HttpStage(this, 'HttpStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: config.httpThrottleRate, burstLimit: config.httpThrottleBurst },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(httpAccessLogs),
        format: apigwv1.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTimeEpoch',
            routeKey: '$context.routeKey',
            status: '$context.status',
            sub: '$context.authorizer.claims.sub',
            authorizerError: '$context.authorizer.error',
            error: '$context.error.message',
            integrationError: '$context.integrationErrorMessage',
            latency: '$context.responseLatency',
          }),
        ),
      },
    });

    // ---- web app ------------------------------------------------------------------
    if (config.webApp) {
      if (!auth.client || !auth.domain) throw new Error('the web app needs the stack\'s user pool client and hosted UI domain');
      this.webApp = new WebApp(this, 'WebApp', {
        stage: config.stage,
        webSocketUrl: this.webSocketStage.url,
        restUrl: this.httpStage.url,
        authDomainUrl: auth.domain.baseUrl(),
        attachmentsUrl: `https://${attachments.bucket.bucketRegionalDomainName}`,
        clientId: auth.client.userPoolClientId,
        vapidPublicKey: config.vapidPublicKey,
      });
      auth.webAppUrl = this.webApp.url;
    }

    // ---- operations ------------------------------------------------------------
    new ChatMonitoring(this, 'Monitoring', {
      config,
      functions: Object.values(fns),
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      persist: fns['chat-persist'],
      webSocketApi: this.webSocketApi,
      webSocketStage: this.webSocketStage,
      httpApi: this.httpApi,
      httpStage: this.httpStage,
    });

    // ---- outputs -----------------------------------------------------------------
    new CfnOutput(this, 'WebSocketUrl', { value: this.webSocketStage.url, description: 'wss:// URL clients connect to (add ?token=<Cognito ID token>)' });
    new CfnOutput(this, 'ManagementEndpoint', { value: wsEndpoint, description: 'API Gateway Management API endpoint (CHAT_WS_ENDPOINT)' });
    new CfnOutput(this, 'RestApiUrl', { value: this.httpStage.url, description: 'HTTP API base URL' });
    new CfnOutput(this, 'TableName', { value: table.tableName });
    new CfnOutput(this, 'VapidSecretArn', { value: vapidSecret.secretArn, description: 'The VAPID key pair\'s secret: scripts/vapid-keys.sh <this ARN> puts a pair in it' });
    new CfnOutput(this, 'AttachmentsBucketName', { value: attachments.bucket.bucketName });
    if (auth.userPool && auth.client) {
      new CfnOutput(this, 'UserPoolId', { value: auth.userPool.userPoolId });
      new CfnOutput(this, 'UserPoolClientId', { value: auth.client.userPoolClientId });
    }
    new CfnOutput(this, 'JwtIssuer', { value: auth.issuer });
  }

  /**
   * WebSocket stages can write access logs only when the *account* has an API
   * Gateway CloudWatch Logs role; fresh accounts have none and the stage
   * deployment would fail. This sets it. The role is retained on destroy, since
   * the account setting would otherwise point at a deleted role.
   */
  private apiGatewayLoggingRole(): Construct {
    const role = new iam.Role(this, 'ApiGatewayLoggingRole', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs')],
    });
    role.applyRemovalPolicy(RemovalPolicy.RETAIN);
    acknowledgeManagedPolicy(
      role,
      'service-role/AmazonAPIGatewayPushToCloudWatchLogs',
      'The policy AWS documents for the account-level API Gateway logging role. The role serves every API in the ' +
        'account and API Gateway names the execution log groups itself, so no narrower resource list exists.',
    );
    const account = new apigwv1.CfnAccount(this, 'ApiGatewayAccount', { cloudWatchRoleArn: role.roleArn });
    account.node.addDependency(role);
    return account;
  }
}
