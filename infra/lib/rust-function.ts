/**
 * One Lambda per workspace binary, all built the same way: `cargo lambda
 * build --profile lambda-release` of the Cargo workspace at the repository
 * root (the release profile optimised for size: see the root Cargo.toml), arm64 by
 * default, on `provided.al2023`, with X-Ray tracing, its own log group (with
 * retention) and its own role.
 *
 * The role is written out rather than taken from `AWSLambdaBasicExecutionRole`
 * / `AWSLambdaVPCAccessExecutionRole`: the managed policies allow writing to
 * any log group in the account; ours may write only to the function's own.
 */
import * as path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { RustFunction } from 'cargo-lambda-cdk';
import { Construct } from 'constructs';
import type { ChatConfig, FunctionName } from './config';
import { bundlesAssets, unbuiltCode } from './deploy-guard';

/** The workspace root manifest; every function is a binary of this workspace. */
export const WORKSPACE_MANIFEST = path.join(__dirname, '../../Cargo.toml');

/** The Cargo profile the functions are built with, defined in that manifest. */
export const CARGO_PROFILE = 'lambda-release';

export interface ChatFunctionProps {
  readonly binaryName: FunctionName;
  readonly description: string;
  readonly config: ChatConfig;
  readonly environment: Record<string, string>;
  readonly timeout: Duration;
  /** Present when the function must reach Redis: it then runs in these subnets. */
  readonly network?: { vpc: ec2.IVpc; subnets: ec2.SubnetSelection; securityGroup: ec2.ISecurityGroup };
}

export class ChatFunction extends Construct {
  readonly fn: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly binaryName: FunctionName;

  constructor(scope: Construct, id: string, props: ChatFunctionProps) {
    super(scope, id);
    const { config } = props;
    this.binaryName = props.binaryName;

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.config.logRetentionDays as logs.RetentionDays,
      removalPolicy: config.stage === 'prod' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.binaryName}`,
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'OwnLogGroupOnly',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    if (props.network) {
      // What AWSLambdaVPCAccessExecutionRole grants: Lambda manages the
      // function's network interfaces with these, and EC2 offers no
      // resource-level scoping for the Describe calls.
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'VpcNetworkInterfaces',
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
    }

    const reserved = config.reservedConcurrency[props.binaryName];
    const architecture = config.arch === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64;
    const common: lambda.FunctionOptions = {
      architecture,
      description: props.description,
      memorySize: config.memoryMb,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      reservedConcurrentExecutions: reserved,
      environment: {
        RUST_LOG: config.rustLog,
        ...props.environment,
      },
      ...(props.network
        ? {
            vpc: props.network.vpc,
            vpcSubnets: props.network.subnets,
            securityGroups: [props.network.securityGroup],
          }
        : {}),
    };
    // Without bundling, RustFunction's asset would be the workspace root
    // itself (deploy-guard.ts): give the function a placeholder instead, and
    // the stack a rule that refuses to deploy it.
    this.fn = bundlesAssets(this)
      ? new RustFunction(this, 'Function', {
          ...common,
          manifestPath: WORKSPACE_MANIFEST,
          binaryName: props.binaryName,
          runtime: 'provided.al2023',
          bundling: { profile: CARGO_PROFILE, architecture },
        })
      : new lambda.Function(this, 'Function', {
          ...common,
          runtime: lambda.Runtime.PROVIDED_AL2023,
          handler: 'bootstrap',
          code: unbuiltCode(this),
        });

    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only actions without resource-level permissions use "*": X-Ray PutTraceSegments/PutTelemetryRecords ' +
        '(added by tracing: ACTIVE) and, for VPC functions, the EC2 network-interface actions Lambda needs. ' +
        'Every data-plane action (DynamoDB, SQS, execute-api) is scoped to its resource.',
    });
  }
}
