import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { FUNCTION_NAMES } from '../lib/config';
import { fnResource, logicalId, resources, synth } from './helpers';

describe('with Redis (default): serverless Valkey in a VPC', () => {
  const s = synth();
  const t = s.template;

  it('creates a serverless Valkey cache in the isolated subnets behind its own security group', () => {
    t.resourceCountIs('AWS::ElastiCache::ServerlessCache', 1);
    t.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 0);
    const cacheSg = logicalId(s.stack, s.stack.network!.cacheSecurityGroup);
    t.hasResourceProperties('AWS::ElastiCache::ServerlessCache', {
      Engine: 'valkey',
      SecurityGroupIds: [{ 'Fn::GetAtt': [cacheSg, 'GroupId'] }],
      SubnetIds: [{ Ref: Match.stringLikeRegexp('cacheSubnet1') }, { Ref: Match.stringLikeRegexp('cacheSubnet2') }],
      CacheUsageLimits: Match.objectLike({ DataStorage: { Maximum: 1, Unit: 'GB' } }),
    });
  });

  it('tells every function using the cache to speak the cluster protocol (Serverless speaks nothing else)', () => {
    for (const name of FUNCTION_NAMES.filter((n) => n !== 'chat-authorizer')) {
      expect(fnResource(s, name).Properties.Environment.Variables.CHAT_REDIS_MODE, name).toBe('cluster');
    }
  });

  it('admits Redis traffic to the cache only from the Lambdas\' security group', () => {
    const lambdaSg = logicalId(s.stack, s.stack.network!.lambdaSecurityGroup);
    const cacheSg = logicalId(s.stack, s.stack.network!.cacheSecurityGroup);
    const ingress = resources(t, 'AWS::EC2::SecurityGroupIngress').filter(
      ([, r]) => JSON.stringify(r.Properties.GroupId) === JSON.stringify({ 'Fn::GetAtt': [cacheSg, 'GroupId'] }),
    );
    expect(ingress).toHaveLength(1);
    expect(ingress[0][1].Properties).toMatchObject({
      IpProtocol: 'tcp',
      FromPort: 6379,
      ToPort: 6380,
      SourceSecurityGroupId: { 'Fn::GetAtt': [lambdaSg, 'GroupId'] },
    });
    const cacheGroup = t.toJSON().Resources[cacheSg].Properties;
    expect(cacheGroup.SecurityGroupIngress).toBeUndefined();
  });

  it('reaches DynamoDB through a gateway endpoint and has no execute-api endpoint (it cannot reach public APIs)', () => {
    const endpoints = resources(t, 'AWS::EC2::VPCEndpoint').map(([, r]) => JSON.stringify(r.Properties.ServiceName));
    expect(endpoints).toHaveLength(1);
    expect(endpoints[0]).toMatch(/dynamodb/);
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
    t.resourceCountIs('AWS::EC2::NatGateway', 1);
  });

  it('adds an SQS interface endpoint and more NAT gateways on request', () => {
    const v = synth({ sqsEndpoint: 'true', natGateways: 2 }).template;
    v.resourceCountIs('AWS::EC2::NatGateway', 2);
    const services = resources(v, 'AWS::EC2::VPCEndpoint').map(([, r]) => JSON.stringify(r.Properties.ServiceName));
    expect(services.some((x) => x.includes('sqs'))).toBe(true);
    expect(services.some((x) => x.includes('execute-api'))).toBe(false);
  });

  it('logs rejected flows', () => {
    t.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT', LogDestinationType: 'cloud-watch-logs' });
  });
});

describe('redisMode=cluster', () => {
  const s = synth({ redisMode: 'cluster' });
  const t = s.template;

  it('creates a two-node, multi-AZ, encrypted replication group instead', () => {
    t.resourceCountIs('AWS::ElastiCache::ServerlessCache', 0);
    t.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      Engine: 'valkey',
      CacheNodeType: 'cache.t4g.micro',
      NumCacheClusters: 2,
      AutomaticFailoverEnabled: true,
      MultiAZEnabled: true,
      TransitEncryptionEnabled: true,
      AtRestEncryptionEnabled: true,
    });
    // No NumNodeGroups: cluster mode disabled, one shard behind the primary endpoint.
    const [, group] = resources(t, 'AWS::ElastiCache::ReplicationGroup')[0];
    expect(group.Properties.NumNodeGroups).toBeUndefined();
  });

  it('tells the functions to speak to it as one shard', () => {
    for (const name of FUNCTION_NAMES.filter((n) => n !== 'chat-authorizer')) {
      expect(fnResource(s, name).Properties.Environment.Variables.CHAT_REDIS_MODE, name).toBe('single');
    }
  });
});

describe('redis=false: the cheap DynamoDB-only stack', () => {
  const s = synth({ redis: 'false' });
  const t = s.template;

  it('has no VPC, no cache, no NAT and no security groups', () => {
    for (const type of [
      'AWS::EC2::VPC',
      'AWS::EC2::Subnet',
      'AWS::EC2::NatGateway',
      'AWS::EC2::VPCEndpoint',
      'AWS::EC2::SecurityGroup',
      'AWS::ElastiCache::ServerlessCache',
      'AWS::ElastiCache::ReplicationGroup',
      'AWS::ElastiCache::SubnetGroup',
    ]) {
      t.resourceCountIs(type, 0);
    }
    expect(s.stack.network).toBeUndefined();
  });

  it('runs no function in a VPC and tells none of them about Redis', () => {
    for (const name of FUNCTION_NAMES) {
      const p = fnResource(s, name).Properties;
      expect(p.VpcConfig, name).toBeUndefined();
      expect(p.Environment.Variables.CHAT_REDIS_URL, name).toBeUndefined();
      expect(p.Environment.Variables.CHAT_REDIS_MODE, name).toBeUndefined();
    }
  });

  it('still has everything else: table, queue, both APIs', () => {
    t.resourceCountIs('AWS::DynamoDB::Table', 1);
    t.resourceCountIs('AWS::SQS::Queue', 2);
    t.resourceCountIs('AWS::ApiGatewayV2::Api', 2);
    const custom = resources(t, 'AWS::Lambda::Function').filter(([, r]) => String(r.Properties.Runtime).startsWith('provided'));
    expect(custom).toHaveLength(8);
  });
});
