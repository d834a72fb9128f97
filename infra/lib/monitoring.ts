/**
 * Alarms and the dashboard.
 *
 * Alarms (all "missing data = OK"): DLQ not empty, persist queue backlog age,
 * errors and throttles of every function, WebSocket execution/integration
 * errors and HTTP 5xx, and (with Redis) the cache's circuit opening in any
 * function: then the functions serve from DynamoDB alone and each instance
 * rate-limits on its own, which nothing else would show. The authorizer's
 * errors alarm leaves out refused tokens (see `authorizerFailures`), which
 * get their own high threshold. With `alarmEmail` they notify an SNS topic with an
 * email subscription; without it they still show in the console.
 *
 * The dashboard also graphs the functions' own EMF metrics (namespace `Chat`).
 * Those are read with SEARCH expressions summed over whatever dimensions the
 * functions attach, so the Rust side may add dimensions (function, room
 * type, ...) without breaking a widget.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ChatConfig } from './config';
import type { ChatFunction } from './rust-function';

export const EMF_NAMESPACE = 'Chat';
export const EMF_METRICS = [
  'MessagesAccepted',
  'FanoutSize',
  'PushesFailed',
  'PushesGone',
  'PersistBatchSize',
  'PersistLatencyMs',
  'RateLimited',
  'CacheCircuitOpened',
  'TokensRefused',
  'AuthFailures',
  'NotificationsSent',
  'NotificationFailures',
  'WebPushDisabled',
  'MobilePushFailures',
] as const;

/**
 * Publishes to mobile devices (SNS platform endpoints) that failed in 5
 * minutes that raise an alarm, when a platform application is configured:
 * a steady stream means the application's FCM key or APNs certificate is
 * broken or expired, or SNS refuses the function.
 */
export const MOBILE_PUSH_FAILURES_ALARM = 5;

/**
 * Offline notifications that failed in 5 minutes (the push service refused
 * them or could not be reached) that raise an alarm: a few transient
 * failures are normal, a steady stream means the VAPID key or the sender is
 * broken.
 */
export const NOTIFICATION_FAILURES_ALARM = 10;

/**
 * Refused `$connect` tokens in 5 minutes that raise an alarm: far above
 * everyday expiries, so it means a client bug (a token never refreshed) or
 * someone guessing.
 */
export const TOKENS_REFUSED_ALARM = 200;

/**
 * The authorizer's real failures as metric math. It answers every refused
 * token with the error `Unauthorized` (the only way to get a 401 from API
 * Gateway), so its Lambda `Errors` count expired tokens too; it also writes
 * `TokensRefused` (EMF, dimension `Function` = the function name) for each.
 * What remains is JWKS outages, crashes and timeouts. `FILL` makes a period
 * without refusals subtract 0 rather than drop the period.
 */
export function authorizerFailures(authorizer: ChatFunction, period = Duration.minutes(5)): cw.MathExpression {
  return new cw.MathExpression({
    expression: 'errors - FILL(refused, 0)',
    usingMetrics: {
      errors: authorizer.fn.metricErrors({ period, statistic: 'Sum' }),
      refused: tokensRefused(authorizer, period),
    },
    period,
    label: `${authorizer.binaryName} errors other than refused tokens`,
  });
}

/** Refused tokens of one authorizer, every reason together. */
export function tokensRefused(authorizer: ChatFunction, period = Duration.minutes(5)): cw.Metric {
  return new cw.Metric({
    namespace: EMF_NAMESPACE,
    metricName: 'TokensRefused',
    dimensionsMap: { Function: authorizer.fn.functionName },
    statistic: 'Sum',
    period,
  });
}

export interface ChatMonitoringProps {
  readonly config: ChatConfig;
  readonly functions: ChatFunction[];
  readonly persist: ChatFunction;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly webSocketApi: apigw.WebSocketApi;
  readonly webSocketStage: apigw.WebSocketStage;
  readonly httpApi: apigw.HttpApi;
  readonly httpStage: apigw.HttpStage;
}

const MINUTE = Duration.minutes(1);
const FIVE_MINUTES = Duration.minutes(5);

export class ChatMonitoring extends Construct {
  readonly alarms: cw.Alarm[] = [];
  readonly topic?: sns.Topic;
  readonly dashboard: cw.Dashboard;

  constructor(scope: Construct, id: string, props: ChatMonitoringProps) {
    super(scope, id);
    const { config } = props;

    if (config.alarmEmail) {
      this.topic = new sns.Topic(this, 'AlarmTopic', { displayName: `chat-${config.stage} alarms`, enforceSSL: true });
      this.topic.addSubscription(new subs.EmailSubscription(config.alarmEmail));
      Validations.of(this.topic).acknowledge({
        id: 'AwsSolutions-SNS2',
        reason:
          'CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed SNS key, and alarm ' +
          'notifications carry only alarm names and states; a customer-managed key is not worth its cost here.',
      });
    }

    const ws = (metricName: string, statistic = 'Sum', period = MINUTE) =>
      new cw.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: props.webSocketApi.apiId, Stage: props.webSocketStage.stageName },
        statistic,
        period,
      });
    const http = (metricName: string, statistic = 'Sum', period = MINUTE) =>
      new cw.Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: props.httpApi.apiId, Stage: props.httpStage.stageName },
        statistic,
        period,
      });
    // Sums add up across dimension sets; averages and percentiles cannot be
    // added, so those show the worst (MAX) series instead.
    const emf = (name: (typeof EMF_METRICS)[number], statistic: string, label: string) =>
      new cw.MathExpression({
        expression: `${statistic === 'Sum' ? 'SUM' : 'MAX'}(SEARCH('Namespace="${EMF_NAMESPACE}" MetricName="${name}"', '${statistic}', 60))`,
        usingMetrics: {},
        label,
        period: MINUTE,
      });

    // ---- alarms --------------------------------------------------------------
    this.alarm('DlqNotEmpty', 'Persist jobs were dead-lettered: messages may be missing from history', {
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: MINUTE, statistic: 'Maximum' }),
      threshold: 1,
    });
    this.alarm('QueueBacklogAge', `Oldest persist job is older than ${config.queueAgeAlarmSecs}s`, {
      metric: props.queue.metricApproximateAgeOfOldestMessage({ period: MINUTE, statistic: 'Maximum' }),
      threshold: config.queueAgeAlarmSecs,
      evaluationPeriods: 3,
    });
    for (const f of props.functions) {
      const authorizer = f.binaryName === 'chat-authorizer';
      this.alarm(`${f.node.id}Errors`, `${f.binaryName} invocations failed${authorizer ? ' (refused tokens not counted)' : ''}`, {
        metric: authorizer ? authorizerFailures(f) : f.fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
        threshold: 1,
      });
      if (authorizer) {
        this.alarm('TokensRefusedSurge', `${f.binaryName} refused ${TOKENS_REFUSED_ALARM}+ tokens in 5 minutes`, {
          metric: tokensRefused(f),
          threshold: TOKENS_REFUSED_ALARM,
        });
      }
      this.alarm(`${f.node.id}Throttles`, `${f.binaryName} was throttled`, {
        metric: f.fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
        threshold: 1,
      });
    }
    this.alarm('WebSocketServerErrors', 'WebSocket API execution or integration errors', {
      metric: new cw.MathExpression({
        expression: 'exec + integ',
        usingMetrics: { exec: ws('ExecutionError', 'Sum', FIVE_MINUTES), integ: ws('IntegrationError', 'Sum', FIVE_MINUTES) },
        period: FIVE_MINUTES,
        label: 'WebSocket server-side errors',
      }),
      threshold: 5,
    });
    this.alarm('HttpApi5xx', 'HTTP API answered 5xx', {
      metric: http('5xx', 'Sum', FIVE_MINUTES),
      threshold: 5,
    });
    this.alarm('NotificationFailures', `${NOTIFICATION_FAILURES_ALARM}+ offline notifications failed in 5 minutes`, {
      metric: new cw.Metric({
        namespace: EMF_NAMESPACE,
        metricName: 'NotificationFailures',
        dimensionsMap: { Function: props.persist.fn.functionName },
        statistic: 'Sum',
        period: FIVE_MINUTES,
      }),
      threshold: NOTIFICATION_FAILURES_ALARM,
    });
    // A cold start of the persist function without a usable VAPID key: Web
    // Push is off (the secret missing or still the placeholder).
    this.alarm('WebPushDisabled', 'the persist function started without a usable VAPID key: Web Push is off (scripts/vapid-keys.sh)', {
      metric: new cw.Metric({
        namespace: EMF_NAMESPACE,
        metricName: 'WebPushDisabled',
        dimensionsMap: { Function: props.persist.fn.functionName },
        statistic: 'Sum',
        period: FIVE_MINUTES,
      }),
      threshold: 1,
    });
    if (config.snsFcmPlatformApplicationArn || config.snsApnsPlatformApplicationArn) {
      this.alarm('MobilePushFailures', `${MOBILE_PUSH_FAILURES_ALARM}+ mobile push publishes (SNS) failed in 5 minutes`, {
        metric: new cw.Metric({
          namespace: EMF_NAMESPACE,
          metricName: 'MobilePushFailures',
          dimensionsMap: { Function: props.persist.fn.functionName },
          statistic: 'Sum',
          period: FIVE_MINUTES,
        }),
        threshold: MOBILE_PUSH_FAILURES_ALARM,
      });
    }
    if (config.redis) {
      // EMF lines carry the dimension Function (the Lambda's name); an alarm
      // cannot use SEARCH, so it adds up the series of every function.
      const opened = Object.fromEntries(
        props.functions.map((f, i) => [
          `opened${i}`,
          new cw.Metric({
            namespace: EMF_NAMESPACE,
            metricName: 'CacheCircuitOpened',
            dimensionsMap: { Function: f.fn.functionName },
            statistic: 'Sum',
            period: FIVE_MINUTES,
          }),
        ]),
      );
      this.alarm('CacheCircuitOpened', 'The Redis cache circuit opened: serving from DynamoDB alone, rate limits per instance', {
        metric: new cw.MathExpression({
          expression: Object.keys(opened).map((id) => `FILL(${id}, 0)`).join(' + '),
          usingMetrics: opened,
          period: FIVE_MINUTES,
          label: 'cache circuit openings',
        }),
        threshold: 1,
      });
    }

    // ---- dashboard -------------------------------------------------------------
    const persist = props.persist.fn;
    this.dashboard = new cw.Dashboard(this, 'Dashboard', {
      dashboardName: `chat-${config.stage}`,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cw.GraphWidget({
        title: 'Messages in',
        left: [emf('MessagesAccepted', 'Sum', 'accepted'), ws('MessageCount')],
        right: [emf('RateLimited', 'Sum', 'rate limited'), emf('CacheCircuitOpened', 'Sum', 'cache circuit opened')],
        width: 8,
      }),
      new cw.GraphWidget({
        title: 'Fan-out deliveries',
        left: [emf('FanoutSize', 'Sum', 'pushes attempted')],
        right: [
          emf('PushesFailed', 'Sum', 'failed'),
          emf('PushesGone', 'Sum', 'gone (410)'),
          emf('NotificationsSent', 'Sum', 'offline notifications sent'),
          emf('NotificationFailures', 'Sum', 'offline notifications failed'),
          emf('WebPushDisabled', 'Sum', 'cold starts without a VAPID key'),
          emf('MobilePushFailures', 'Sum', 'mobile push publishes failed (SNS)'),
        ],
        width: 8,
      }),
      new cw.GraphWidget({
        title: 'Connections',
        left: [ws('ConnectCount')],
        right: [ws('ClientError'), ws('ExecutionError'), ws('IntegrationError')],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cw.GraphWidget({
        title: 'Persist latency (accept → stored)',
        left: [emf('PersistLatencyMs', 'p50', 'p50 ms'), emf('PersistLatencyMs', 'p99', 'p99 ms')],
        right: [emf('PersistBatchSize', 'Average', 'batch size')],
        width: 8,
      }),
      new cw.GraphWidget({
        title: 'Persist function duration',
        left: [
          persist.metricDuration({ statistic: 'p50', period: MINUTE }),
          persist.metricDuration({ statistic: 'p99', period: MINUTE }),
        ],
        right: [persist.metricErrors({ period: MINUTE })],
        width: 8,
      }),
      new cw.GraphWidget({
        title: 'Persist queue and DLQ',
        left: [
          props.queue.metricApproximateNumberOfMessagesVisible({ period: MINUTE, statistic: 'Maximum', label: 'queue depth' }),
          props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: MINUTE, statistic: 'Maximum', label: 'DLQ depth' }),
        ],
        right: [props.queue.metricApproximateAgeOfOldestMessage({ period: MINUTE, statistic: 'Maximum', label: 'oldest (s)' })],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cw.GraphWidget({
        title: 'Lambda errors',
        left: props.functions.map((f) => f.fn.metricErrors({ period: FIVE_MINUTES, label: f.binaryName })),
        width: 8,
      }),
      new cw.GraphWidget({
        title: 'Lambda throttles',
        left: props.functions.map((f) => f.fn.metricThrottles({ period: FIVE_MINUTES, label: f.binaryName })),
        width: 8,
      }),
      new cw.GraphWidget({
        title: 'HTTP API',
        left: [http('Count'), http('4xx'), http('5xx')],
        right: [http('Latency', 'p99')],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cw.GraphWidget({
        title: 'Refused $connect tokens, by reason (the client\'s fault)',
        left: [
          new cw.MathExpression({
            // Only the {Function, Reason} series: each refusal is also
            // published under {Function} alone, which would count it twice.
            expression: `SEARCH('{${EMF_NAMESPACE},Function,Reason} MetricName="TokensRefused"', 'Sum', 60)`,
            usingMetrics: {},
            label: '',
            period: MINUTE,
          }),
        ],
        stacked: true,
        width: 12,
      }),
      new cw.GraphWidget({
        title: 'Authorizer failures (ours)',
        left: [emf('AuthFailures', 'Sum', 'JWKS unavailable')],
        right: props.functions
          .filter((f) => f.binaryName === 'chat-authorizer')
          .map((f) => authorizerFailures(f, MINUTE)),
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cw.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }),
    );
  }

  private alarm(id: string, description: string, opts: { metric: cw.IMetric; threshold: number; evaluationPeriods?: number }) {
    const alarm = new cw.Alarm(this, id, {
      alarmDescription: description,
      metric: opts.metric,
      threshold: opts.threshold,
      evaluationPeriods: opts.evaluationPeriods ?? 1,
      comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });
    if (this.topic) {
      const action = new cwActions.SnsAction(this.topic);
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
    this.alarms.push(alarm);
    return alarm;
  }
}
