/**
 * Typed deployment configuration, read once from CDK context (`-c key=value`
 * on the command line, or the `context` block of cdk.json) and validated up
 * front: a bad value fails the synth with the name of the key, never later as
 * a half-built template.
 *
 * Values from `-c` always arrive as strings; values from cdk.json or from
 * tests may be typed. Every reader below accepts both.
 */
import type { Node } from 'constructs';
import { SETTINGS } from './manifest';

export type Stage = 'dev' | 'prod';
export type RedisMode = 'serverless' | 'cluster';
export type RedisEngine = 'valkey' | 'redis';
export type Arch = 'arm64' | 'x86_64';

/** The eight Lambda binaries of the Cargo workspace (package name == binary name). */
export const FUNCTION_NAMES = [
  'chat-authorizer',
  'chat-connect',
  'chat-message',
  'chat-disconnect',
  'chat-persist',
  'chat-history',
  'chat-users',
  'chat-rooms',
] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

export interface ChatConfig {
  readonly stage: Stage;
  /** Deploy ElastiCache + VPC. `false` gives the cheap DynamoDB-only stack. */
  readonly redis: boolean;
  readonly redisMode: RedisMode;
  readonly redisEngine: RedisEngine;
  /** Node type for `redisMode=cluster`. */
  readonly redisNodeType: string;
  /** NAT gateways for the VPC (only with Redis). 1 = cheapest, one per AZ = zonal HA. */
  readonly natGateways: number;
  /** Add an SQS interface endpoint (traffic to SQS stays off the NAT). */
  readonly sqsEndpoint: boolean;
  readonly arch: Arch;
  readonly logRetentionDays: number;
  readonly rustLog: string;
  /**
   * The function settings given by context (keys and bounds from deploy/settings.json,
   * e.g. `connectionTtlSecs`), passed to the functions as their variables. Unset
   * ones take the file's default on the Rust side too.
   */
  readonly settings: Record<string, number>;
  readonly wsThrottleRate: number;
  readonly wsThrottleBurst: number;
  readonly httpThrottleRate: number;
  readonly httpThrottleBurst: number;
  readonly corsOrigins: string[];
  readonly maxReceiveCount: number;
  readonly persistBatchSize: number;
  readonly persistBatchWindowSecs: number;
  readonly persistTimeoutSecs: number;
  /** SQS event source `MaximumConcurrency` (2..1000): caps persist fan-in without reserving account concurrency. */
  readonly persistMaxConcurrency: number;
  /** Reserved concurrency per function; empty (the default) reserves nothing. */
  readonly reservedConcurrency: Partial<Record<FunctionName, number>>;
  readonly memoryMb: number;
  /** Alarm threshold for the age of the oldest message in the persist queue. */
  readonly queueAgeAlarmSecs: number;
  readonly alarmEmail?: string;
  /** Use an existing OIDC issuer instead of creating a Cognito user pool. */
  readonly jwtIssuer?: string;
  readonly jwtAudience?: string;
  readonly jwksUrl?: string;
  /** Create the account-level API Gateway CloudWatch Logs role (needed for WebSocket access logs). */
  readonly apigwAccountRole: boolean;
  /** Run cdk-nag's AwsSolutions pack during synth. */
  readonly nag: boolean;
  /**
   * The Cognito hosted UI (managed login), when `hostedUiDomainPrefix` and
   * `oauthCallbackUrls` are given. Absent: the app client has no OAuth flows.
   */
  readonly hostedUi?: HostedUiConfig;
  /**
   * Host the web app (S3 + CloudFront, lib/web-app.ts) and let it sign in
   * through the user pool's hosted UI. On by default with the stack's own
   * user pool; `webApp=false` turns it off. Not with `jwtIssuer`.
   */
  readonly webApp: boolean;
  /**
   * The VAPID public key (base64url of the 65-byte P-256 point) that
   * `scripts/vapid-keys.sh` printed and put in the stack's VAPID secret:
   * the web app subscribes to Web Push with it. Absent: the app offers no
   * notifications (the secret alone does not reach the app).
   */
  readonly vapidPublicKey?: string;
  /**
   * The SNS platform applications of mobile push, created by the operator
   * (CloudFormation has no resource for them; README, "Mobile push"):
   * `arn:aws:sns:<region>:<account>:app/GCM/<name>` for FCM,
   * `…:app/APNS/<name>` (or `APNS_SANDBOX`) for APNs. Each optional: a
   * platform without its application is refused at registration (409) and
   * granted nothing.
   */
  readonly snsFcmPlatformApplicationArn?: string;
  readonly snsApnsPlatformApplicationArn?: string;
}

export interface HostedUiConfig {
  /** `https://<prefix>.auth.<region>.amazoncognito.com`. */
  readonly domainPrefix: string;
  readonly callbackUrls: string[];
  readonly logoutUrls: string[];
}

export class ConfigError extends Error {
  constructor(key: string, problem: string) {
    super(`context "${key}": ${problem}`);
    this.name = 'ConfigError';
  }
}

type Raw = (key: string) => unknown;

function str(raw: Raw, key: string): string | undefined {
  const v = raw(key);
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new ConfigError(key, `expected a string, got ${JSON.stringify(v)}`);
  return v;
}

function bool(raw: Raw, key: string, dflt: boolean): boolean {
  const v = raw(key);
  if (v === undefined || v === null || v === '') return dflt;
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new ConfigError(key, `expected true or false, got ${JSON.stringify(v)}`);
}

function int(raw: Raw, key: string, dflt: number, min: number, max: number): number {
  const v = raw(key);
  if (v === undefined || v === null || v === '') return dflt;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(key, `expected an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** The retention periods CloudWatch Logs accepts. */
const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

function retention(raw: Raw, key: string, dflt: number): number {
  const n = int(raw, key, dflt, 1, 3653);
  if (!RETENTION_DAYS.includes(n)) {
    throw new ConfigError(key, `CloudWatch Logs accepts only ${RETENTION_DAYS.join(', ')} days`);
  }
  return n;
}

function oneOf<T extends string>(raw: Raw, key: string, allowed: readonly T[], dflt: T): T {
  const v = str(raw, key) ?? dflt;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new ConfigError(key, `expected one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

function reserved(raw: Raw, key: string): Partial<Record<FunctionName, number>> {
  let v = raw(key);
  if (v === undefined || v === null || v === '') return {};
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      throw new ConfigError(key, 'expected a JSON object such as {"chat-persist":5}');
    }
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new ConfigError(key, 'expected an object mapping function name to a number');
  }
  const out: Partial<Record<FunctionName, number>> = {};
  for (const [name, n] of Object.entries(v)) {
    if (!(FUNCTION_NAMES as readonly string[]).includes(name)) {
      throw new ConfigError(key, `unknown function ${JSON.stringify(name)}; known: ${FUNCTION_NAMES.join(', ')}`);
    }
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
      throw new ConfigError(key, `${name}: expected a non-negative integer`);
    }
    out[name as FunctionName] = n;
  }
  return out;
}

/** The settings of deploy/settings.json given by context, validated against its bounds. */
function functionSettings(raw: Raw): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, s] of Object.entries(SETTINGS)) {
    const v = raw(key);
    if (v === undefined || v === null || v === '') continue;
    out[key] = int(raw, key, s.default, s.min, s.max);
  }
  return out;
}

function urls(raw: Raw, key: string, prod: boolean): string[] {
  const list = (str(raw, key) ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u.length > 0);
  for (const u of list) {
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      throw new ConfigError(key, `not a URL: ${JSON.stringify(u)}`);
    }
    // Cognito accepts plain http only for localhost, and never a fragment.
    const local = url.protocol === 'http:' && url.hostname === 'localhost';
    if (url.protocol !== 'https:' && !local) {
      throw new ConfigError(key, `${JSON.stringify(u)}: must be https:// (http:// only for localhost)`);
    }
    if (local && prod) throw new ConfigError(key, `${JSON.stringify(u)}: no localhost URLs in prod`);
    if (url.hash) throw new ConfigError(key, `${JSON.stringify(u)}: a redirect URL cannot have a #fragment`);
  }
  return list;
}

/**
 * `hostedUiDomainPrefix` + `oauthCallbackUrls` (+ optional `oauthLogoutUrls`):
 * both or neither, unless the web app is on (its URL is a callback URL itself).
 */
function hostedUi(raw: Raw, prod: boolean, externalIssuer: boolean, withWebApp: boolean): HostedUiConfig | undefined {
  const domainPrefix = str(raw, 'hostedUiDomainPrefix');
  const callbackUrls = urls(raw, 'oauthCallbackUrls', prod);
  const logoutUrls = urls(raw, 'oauthLogoutUrls', prod);
  if (!domainPrefix) {
    for (const [k, v] of [['oauthCallbackUrls', callbackUrls], ['oauthLogoutUrls', logoutUrls]] as const) {
      if (v.length > 0) throw new ConfigError(k, 'only meaningful with hostedUiDomainPrefix');
    }
    return undefined;
  }
  if (externalIssuer) {
    throw new ConfigError('hostedUiDomainPrefix', 'the stack creates no user pool with jwtIssuer: configure the hosted UI there');
  }
  // Cognito's rules for a prefix domain: lowercase letters, digits and
  // hyphens, 1-63 characters, no hyphen at either end, no reserved words.
  if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(domainPrefix)) {
    throw new ConfigError(
      'hostedUiDomainPrefix',
      `expected 1-63 lowercase letters, digits or hyphens (no hyphen at either end), got ${JSON.stringify(domainPrefix)}`,
    );
  }
  if (/aws|amazon|cognito/.test(domainPrefix)) {
    throw new ConfigError('hostedUiDomainPrefix', 'Cognito reserves "aws", "amazon" and "cognito" in domain prefixes');
  }
  if (callbackUrls.length === 0 && !withWebApp) {
    throw new ConfigError('oauthCallbackUrls', 'the hosted UI needs at least one callback URL (comma-separated)');
  }
  return { domainPrefix, callbackUrls, logoutUrls };
}

/** `webApp`: default on, except with an external issuer, which has no hosted UI here. */
function webApp(raw: Raw, externalIssuer: boolean): boolean {
  const on = bool(raw, 'webApp', !externalIssuer);
  if (on && externalIssuer) {
    throw new ConfigError('webApp', 'the web app signs in through the user pool this stack creates: not with jwtIssuer');
  }
  return on;
}

/** Reads and validates the configuration from a construct node's context. */
export function loadConfig(node: Node): ChatConfig {
  return parseConfig((key) => node.tryGetContext(key));
}

export function parseConfig(raw: Raw): ChatConfig {
  const stage = oneOf(raw, 'stage', ['dev', 'prod'] as const, 'dev');
  const prod = stage === 'prod';
  const redis = bool(raw, 'redis', true);

  const persistBatchSize = int(raw, 'persistBatchSize', 25, 1, 10000);
  const persistBatchWindowSecs = int(raw, 'persistBatchWindowSecs', 1, 0, 300);
  if (persistBatchSize > 10 && persistBatchWindowSecs < 1) {
    // Lambda rejects a standard-queue batch size above 10 without a window.
    throw new ConfigError('persistBatchWindowSecs', 'must be at least 1 when persistBatchSize > 10');
  }

  const jwtIssuer = str(raw, 'jwtIssuer');
  const jwtAudience = str(raw, 'jwtAudience');
  if ((jwtIssuer === undefined) !== (jwtAudience === undefined)) {
    throw new ConfigError(jwtIssuer ? 'jwtAudience' : 'jwtIssuer', 'jwtIssuer and jwtAudience go together');
  }
  const jwksUrl = str(raw, 'jwksUrl');
  if (jwksUrl && !jwtIssuer) throw new ConfigError('jwksUrl', 'only meaningful with jwtIssuer');
  for (const [k, v] of [['jwtIssuer', jwtIssuer], ['jwksUrl', jwksUrl]] as const) {
    if (v && !v.startsWith('https://')) throw new ConfigError(k, 'must be an https:// URL');
  }

  const withWebApp = webApp(raw, jwtIssuer !== undefined);

  const alarmEmail = str(raw, 'alarmEmail');
  if (alarmEmail && !/^[^@\s]+@[^@\s]+$/.test(alarmEmail)) {
    throw new ConfigError('alarmEmail', `not an email address: ${JSON.stringify(alarmEmail)}`);
  }

  const corsOrigins = (str(raw, 'corsOrigins') ?? '*')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (corsOrigins.length === 0) throw new ConfigError('corsOrigins', 'at least one origin (or *)');

  return {
    stage,
    redis,
    redisMode: oneOf(raw, 'redisMode', ['serverless', 'cluster'] as const, 'serverless'),
    redisEngine: oneOf(raw, 'redisEngine', ['valkey', 'redis'] as const, 'valkey'),
    redisNodeType: str(raw, 'redisNodeType') ?? 'cache.t4g.micro',
    natGateways: int(raw, 'natGateways', prod ? 2 : 1, 1, 3),
    sqsEndpoint: bool(raw, 'sqsEndpoint', false),
    arch: oneOf(raw, 'arch', ['arm64', 'x86_64'] as const, 'arm64'),
    logRetentionDays: retention(raw, 'logRetentionDays', prod ? 90 : 14),
    rustLog: str(raw, 'rustLog') ?? 'info',
    settings: functionSettings(raw),
    wsThrottleRate: int(raw, 'wsThrottleRate', 500, 1, 100000),
    wsThrottleBurst: int(raw, 'wsThrottleBurst', 1000, 1, 100000),
    httpThrottleRate: int(raw, 'httpThrottleRate', 200, 1, 100000),
    httpThrottleBurst: int(raw, 'httpThrottleBurst', 400, 1, 100000),
    corsOrigins,
    maxReceiveCount: int(raw, 'maxReceiveCount', 5, 1, 1000),
    persistBatchSize,
    persistBatchWindowSecs,
    persistTimeoutSecs: int(raw, 'persistTimeoutSecs', 30, 3, 900),
    persistMaxConcurrency: int(raw, 'persistMaxConcurrency', 10, 2, 1000),
    reservedConcurrency: reserved(raw, 'reservedConcurrency'),
    memoryMb: int(raw, 'memoryMb', 256, 128, 10240),
    queueAgeAlarmSecs: int(raw, 'queueAgeAlarmSecs', 300, 60, 1209600),
    alarmEmail,
    jwtIssuer,
    jwtAudience,
    jwksUrl,
    apigwAccountRole: bool(raw, 'apigwAccountRole', true),
    nag: bool(raw, 'nag', true),
    hostedUi: hostedUi(raw, prod, jwtIssuer !== undefined, withWebApp),
    webApp: withWebApp,
    vapidPublicKey: vapidPublicKey(raw),
    snsFcmPlatformApplicationArn: platformApplicationArn(raw, 'snsFcmPlatformApplicationArn', ['GCM']),
    snsApnsPlatformApplicationArn: platformApplicationArn(raw, 'snsApnsPlatformApplicationArn', ['APNS', 'APNS_SANDBOX']),
  };
}

/** `vapidPublicKey`: base64url (no padding) of an uncompressed P-256 point. */
function vapidPublicKey(raw: Raw): string | undefined {
  const key = str(raw, 'vapidPublicKey');
  if (key === undefined) return undefined;
  const bytes = /^[A-Za-z0-9_-]+$/.test(key) ? Buffer.from(key, 'base64url') : Buffer.alloc(0);
  if (bytes.length !== 65 || bytes[0] !== 0x04) {
    throw new ConfigError('vapidPublicKey', 'base64url of a 65-byte uncompressed P-256 point (scripts/vapid-keys.sh prints it)');
  }
  return key;
}

/**
 * An SNS platform application's ARN (`arn:<partition>:sns:<region>:<account>:app/<PLATFORM>/<name>`)
 * of one of `platforms`.
 */
function platformApplicationArn(raw: Raw, key: string, platforms: string[]): string | undefined {
  const arn = str(raw, key);
  if (arn === undefined) return undefined;
  const m = /^arn:aws(?:-[a-z]+)*:sns:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:app\/([A-Z_]+)\/[A-Za-z0-9_.-]{1,256}$/.exec(arn);
  if (!m || !platforms.includes(m[1])) {
    throw new ConfigError(
      key,
      `an SNS platform application ARN, arn:aws:sns:<region>:<account>:app/${platforms.join('|')}/<name>: ${JSON.stringify(arn)}`,
    );
  }
  return arn;
}
