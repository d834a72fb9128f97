#!/usr/bin/env node
/**
 * CDK entry point (cdk.json at the repository root runs it with tsx).
 *
 *   npx cdk synth                      # dev stage, with Redis
 *   npx cdk deploy -c stage=prod       # every option: infra/README.md
 *   SKIP_BUNDLING=1 npx cdk synth      # no cargo-lambda needed: assets are not built
 *
 * The CLI refuses `aws:` context keys on the command line, hence SKIP_BUNDLING
 * sets `aws:cdk:bundling-stacks` through postCliContext.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp } from '../lib/app';

const app = new App(process.env.SKIP_BUNDLING ? { postCliContext: { 'aws:cdk:bundling-stacks': [] } } : {});
const { config } = buildApp(app);
if (config.nag) {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}
