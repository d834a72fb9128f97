/**
 * Builds the app's one stack from context. Shared by the CLI entry point and
 * the tests, so both synthesize exactly the same thing.
 */
import type { App } from 'aws-cdk-lib';
import { ChatStack } from './chat-stack';
import { loadConfig, type ChatConfig } from './config';

/**
 * The region to synthesize for: the CLI's (CDK_DEFAULT_REGION, set from the
 * AWS profile when there is one), else AWS_REGION, else us-east-1, so a synth
 * never needs a configured AWS environment. The account is left to deploy
 * time: nothing here looks anything up.
 */
export function synthRegion(): string {
  return process.env.CDK_DEFAULT_REGION || process.env.AWS_REGION || 'us-east-1';
}

export function buildApp(app: App, opts: { region?: string } = {}): { stack: ChatStack; config: ChatConfig } {
  const config = loadConfig(app.node);
  const stack = new ChatStack(app, `Chat-${config.stage}`, {
    config,
    env: { region: opts.region ?? synthRegion() },
    description: `Serverless chat platform (${config.stage}${config.redis ? `, ${config.redisMode} ${config.redisEngine}` : ', no Redis'})`,
    tags: { app: 'chat', stage: config.stage },
  });
  return { stack, config };
}
