/**
 * Deploy safety for synths that skip bundling.
 *
 * `SKIP_BUNDLING=1` (and every infra test) sets `aws:cdk:bundling-stacks` to
 * `[]` so that a synth needs no cargo-lambda. cargo-lambda-cdk's
 * `RustFunction` always stages the **workspace root** as its asset and lets
 * bundling replace it with the built binary; with bundling skipped the root
 * stays the asset, and a `cdk deploy` would zip and upload the whole
 * repository (target/, .git, local secrets) as every function's code.
 *
 * The app cannot see which CLI command runs it, so the refusal lives in the
 * template instead:
 *
 * - the functions get a tiny placeholder asset ([`UNBUILT_ASSET_DIR`]: a
 *   `bootstrap` that only prints why it cannot run), never the repository;
 * - the stack gets a CloudFormation rule whose assertion is always false.
 *   CloudFormation evaluates `Rules` when a stack or change set is created or
 *   updated, before any resource is touched, and fails with the assertion's
 *   description: [`NOT_DEPLOYABLE`]. The assertion reads a parameter (as the
 *   CDK's own bootstrap-version rule does) whose only allowed value makes it
 *   false, so it cannot be overridden with `--parameters` either.
 *
 * Both hinge on one decision, `Stack.bundlingRequired` (the CDK's own reading
 * of `aws:cdk:bundling-stacks` for this stack), so a bundled synth has neither.
 */
import * as path from 'node:path';
import { CfnParameter, CfnRule, Fn, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct, type IConstruct } from 'constructs';

/** The placeholder code of a function whose binary was not built. */
export const UNBUILT_ASSET_DIR = path.join(__dirname, '../assets/unbuilt');

/** What CloudFormation answers when asked to deploy an unbundled template. */
export const NOT_DEPLOYABLE =
  'Synthesized with SKIP_BUNDLING=1: not deployable (the functions have no code). ' +
  'Build with cargo-lambda: unset SKIP_BUNDLING and run cdk deploy again (see infra/README.md).';

/** Logical ids of the guard's parameter and rule. */
export const GUARD_PARAMETER = 'SkipBundling';
export const GUARD_RULE = 'RefuseUnbundledDeploy';

const GUARD_SCOPE = 'UnbundledDeployGuard';

/** Whether this synth builds the assets of `scope`'s stack. */
export function bundlesAssets(scope: IConstruct): boolean {
  return Stack.of(scope).bundlingRequired;
}

/**
 * Adds the refusing rule to `scope`'s stack when its assets are not built
 * (once per stack; nothing at all when they are). Returns whether the stack
 * is deployable.
 */
export function guardUnbundledDeploy(scope: IConstruct): boolean {
  const stack = Stack.of(scope);
  if (bundlesAssets(stack)) return true;
  if (stack.node.tryFindChild(GUARD_SCOPE)) return false;

  const guard = new Construct(stack, GUARD_SCOPE);
  const skipped = new CfnParameter(guard, 'Parameter', {
    type: 'String',
    default: 'true',
    allowedValues: ['true'],
    description: 'This template was synthesized without building the Lambda assets; it cannot be deployed.',
  });
  skipped.overrideLogicalId(GUARD_PARAMETER);
  const rule = new CfnRule(guard, 'Rule', {
    assertions: [{ assert: Fn.conditionEquals(skipped.valueAsString, 'false'), assertDescription: NOT_DEPLOYABLE }],
  });
  rule.overrideLogicalId(GUARD_RULE);
  return false;
}

/** The placeholder code, for a function of a stack whose assets are not built (adds the guard). */
export function unbuiltCode(scope: IConstruct): lambda.Code {
  guardUnbundledDeploy(scope);
  return lambda.Code.fromAsset(UNBUILT_ASSET_DIR);
}
