#!/usr/bin/env node
/**
 * CDK entry point (cdk.json at the repository root runs it with tsx).
 *
 *   npx cdk synth                      # dev stage, with Redis
 *   npx cdk deploy -c stage=prod       # every option: infra/README.md
 *   SKIP_BUNDLING=1 npx cdk synth      # no cargo-lambda needed: assets are not built
 *
 * The CLI refuses `aws:` context keys on the command line, hence SKIP_BUNDLING
 * sets `aws:cdk:bundling-stacks` through postCliContext. Such a template is
 * for reading and testing only: the functions get a placeholder asset (never
 * the repository root, which RustFunction would otherwise upload as their
 * code) and the stack a CloudFormation rule that makes every deploy fail
 * before anything changes (lib/deploy-guard.ts). `cdk deploy --hotswap` and
 * `cdk watch` bypass CloudFormation and so the rule: never combine them with
 * SKIP_BUNDLING.
 */
import { App, Validations } from 'aws-cdk-lib';
import { cargoLambdaVersion } from 'cargo-lambda-cdk';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp } from '../lib/app';

const app = new App(process.env.SKIP_BUNDLING ? { postCliContext: { 'aws:cdk:bundling-stacks': [] } } : {});
// `cdk synth`/`deploy` build the Rust binaries; `cdk ls`/`destroy` do not.
// Assets are built while the stack is constructed. Without cargo-lambda the
// construct falls back to Docker, whose error hides the real cause: say it first.
const bundlingStacks: string[] = app.node.tryGetContext('aws:cdk:bundling-stacks') ?? ['**'];
if (bundlingStacks.length > 0 && !cargoLambdaVersion()) {
  process.stderr.write(
    'chat infra: `cargo lambda` was not found, so the Lambda binaries cannot be built here.\n' +
      '  Install it (pip install ziglang && cargo install --locked cargo-lambda; see infra/README.md),\n' +
      '  or set SKIP_BUNDLING=1 to synthesize without building assets (not deployable).\n',
  );
}

// Only for SKIP_BUNDLING: the CLI itself skips bundling for `cdk ls`/`destroy`.
if (process.env.SKIP_BUNDLING) {
  process.stderr.write(
    'chat infra: SKIP_BUNDLING is set: the Lambda binaries are not built and the template is NOT deployable\n' +
      '  (CloudFormation refuses it with rule RefuseUnbundledDeploy). Unset SKIP_BUNDLING to deploy.\n',
  );
}

const { config } = buildApp(app);
if (config.nag) {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}
