/**
 * The VPC and the Redis-compatible cache, deployed only with `redis=true`.
 *
 * Subnets: public (NAT gateways only), private-with-egress (the Lambdas'
 * network interfaces) and isolated (the cache: no route out at all).
 *
 * Why the functions need a NAT and not only VPC endpoints: they push to
 * clients through the API Gateway Management API at
 * `https://{apiId}.execute-api.{region}.amazonaws.com/{stage}/@connections`.
 * That is a *public* regional endpoint. An `execute-api` interface endpoint
 * only reaches *private* REST APIs, and with private DNS on it even captures
 * the public hostname and answers 403 — so there is deliberately no
 * execute-api endpoint here, and the management API is reached through the
 * NAT. DynamoDB goes through the free gateway endpoint (no NAT data charge);
 * SQS through the NAT, or an interface endpoint with `sqsEndpoint=true`.
 */
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ChatConfig } from './config';

const REDIS_PORT = 6379;
/** Serverless caches also serve reads on 6380. */
const REDIS_READER_PORT = 6380;

/** Why neither cache flavour uses AUTH/RBAC yet (cdk-nag checks only the node-based one). */
const NO_REDIS_AUTH =
  'Access is confined by the network: the cache sits in isolated subnets and its security group admits only the ' +
  'chat Lambdas\' security group; traffic is TLS. A shared AUTH token would have to sit in the functions\' ' +
  'environment; IAM authentication (RBAC user group) needs token signing in the Rust Redis adapter, a follow-up.';

export class ChatNetwork extends Construct {
  readonly vpc: ec2.Vpc;
  /** Attached to every Lambda that talks to Redis; the cache admits only it. */
  readonly lambdaSecurityGroup: ec2.SecurityGroup;
  readonly cacheSecurityGroup: ec2.SecurityGroup;
  readonly lambdaSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  /** `rediss://host:port` (TLS is always on). */
  readonly redisUrl: string;
  /**
   * The protocol the cache speaks, for `CHAT_REDIS_MODE`: `cluster` for
   * ElastiCache Serverless (Redis Cluster protocol only: MOVED/ASK, one hash
   * slot per multi-key command), `single` for the replication group below
   * (cluster mode disabled, one shard behind its primary endpoint).
   */
  readonly redisClientMode: 'single' | 'cluster';

  constructor(scope: Construct, id: string, config: ChatConfig) {
    super(scope, id);
    const prod = config.stage === 'prod';

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: config.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: 'cache', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      gatewayEndpoints: {
        DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
    });

    // Rejected flows only: what you need to debug a security group, at a
    // fraction of the ingestion cost of logging everything.
    this.vpc.addFlowLog('RejectedFlows', {
      trafficType: ec2.FlowLogTrafficType.REJECT,
      destination: ec2.FlowLogDestination.toCloudWatchLogs(
        new logs.LogGroup(this, 'FlowLogs', {
          retention: config.logRetentionDays as logs.RetentionDays,
          removalPolicy: prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        }),
      ),
    });


    this.lambdaSecurityGroup = new ec2.SecurityGroup(this, 'LambdaSg', {
      vpc: this.vpc,
      description: 'Chat Lambdas: HTTPS out (AWS APIs, management API, JWKS) and Redis to the cache',
      allowAllOutbound: false,
    });
    this.cacheSecurityGroup = new ec2.SecurityGroup(this, 'CacheSg', {
      vpc: this.vpc,
      description: 'Chat cache: Redis from the chat Lambdas only',
      allowAllOutbound: false,
    });
    this.lambdaSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to AWS APIs via NAT or endpoints');
    this.lambdaSecurityGroup.addEgressRule(
      this.cacheSecurityGroup,
      ec2.Port.tcpRange(REDIS_PORT, REDIS_READER_PORT),
      'Redis (TLS)',
    );
    this.cacheSecurityGroup.addIngressRule(
      this.lambdaSecurityGroup,
      ec2.Port.tcpRange(REDIS_PORT, REDIS_READER_PORT),
      'Redis (TLS) from the chat Lambdas',
    );

    if (config.sqsEndpoint) {
      const endpointSg = new ec2.SecurityGroup(this, 'SqsEndpointSg', {
        vpc: this.vpc,
        description: 'SQS interface endpoint: HTTPS from the chat Lambdas only',
        allowAllOutbound: false,
      });
      endpointSg.addIngressRule(this.lambdaSecurityGroup, ec2.Port.tcp(443), 'HTTPS from the chat Lambdas');
      this.vpc.addInterfaceEndpoint('Sqs', {
        service: ec2.InterfaceVpcEndpointAwsService.SQS,
        subnets: this.lambdaSubnets,
        privateDnsEnabled: true,
        securityGroups: [endpointSg],
        open: false,
      });
    }

    const cacheSubnetIds = this.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }).subnetIds;
    const name = `chat-${config.stage}`;

    if (config.redisMode === 'serverless') {
      const cache = new elasticache.CfnServerlessCache(this, 'Cache', {
        serverlessCacheName: name,
        engine: config.redisEngine,
        majorEngineVersion: config.redisEngine === 'valkey' ? '8' : '7',
        description: 'Chat presence, rate limits and fan-out cache',
        subnetIds: cacheSubnetIds,
        securityGroupIds: [this.cacheSecurityGroup.securityGroupId],
        // Caps bound the bill if something loops; the chat data set is tiny.
        cacheUsageLimits: {
          dataStorage: { maximum: prod ? 10 : 1, unit: 'GB' },
          ecpuPerSecond: { maximum: prod ? 100000 : 5000 },
        },
        snapshotRetentionLimit: prod ? 1 : 0,
      });
      cache.applyRemovalPolicy(RemovalPolicy.DESTROY);
      this.redisUrl = `rediss://${cache.attrEndpointAddress}:${cache.attrEndpointPort}`;
      this.redisClientMode = 'cluster';
    } else {
      const subnetGroup = new elasticache.CfnSubnetGroup(this, 'CacheSubnets', {
        description: 'Chat cache (isolated subnets)',
        subnetIds: cacheSubnetIds,
      });
      const group = new elasticache.CfnReplicationGroup(this, 'Cache', {
        replicationGroupDescription: 'Chat presence, rate limits and fan-out cache',
        engine: config.redisEngine,
        engineVersion: config.redisEngine === 'valkey' ? '8.0' : '7.1',
        cacheNodeType: config.redisNodeType,
        // A primary and one replica in another AZ, failing over on their own.
        numCacheClusters: 2,
        automaticFailoverEnabled: true,
        multiAzEnabled: true,
        transitEncryptionEnabled: true,
        atRestEncryptionEnabled: true,
        port: REDIS_PORT,
        cacheSubnetGroupName: subnetGroup.ref,
        securityGroupIds: [this.cacheSecurityGroup.securityGroupId],
        snapshotRetentionLimit: prod ? 1 : 0,
        autoMinorVersionUpgrade: true,
      });
      this.redisUrl = `rediss://${group.attrPrimaryEndPointAddress}:${group.attrPrimaryEndPointPort}`;
      this.redisClientMode = 'single';
      Validations.of(group).acknowledge({ id: 'AwsSolutions-AEC6', reason: NO_REDIS_AUTH });
      Validations.of(group).acknowledge({
        id: 'AwsSolutions-AEC5',
        reason:
          'A non-default port only hides the service; the cache security group already admits only the chat ' +
          'Lambdas, and the port travels in CHAT_REDIS_URL either way.',
      });
    }
  }
}
