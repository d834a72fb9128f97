/**
 * Synthesizes the app the way the CLI does (same feature flags from the
 * root cdk.json, same `buildApp`), minus asset bundling, so tests need
 * neither cargo-lambda nor AWS credentials.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp } from '../lib/app';
import type { ChatStack } from '../lib/chat-stack';
import type { FunctionName } from '../lib/config';
import type { IConstruct } from 'constructs';

export const REPO_ROOT = path.join(__dirname, '../..');
export const TEST_REGION = 'eu-west-1';

const cdkJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
  app: string;
  context: Record<string, unknown>;
};

export type Ctx = Record<string, unknown>;

export interface Synth {
  app: App;
  stack: ChatStack;
  template: Template;
}

export function makeApp(ctx: Ctx = {}): App {
  return new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], ...ctx } });
}

const cache = new Map<string, Synth>();

/** Synthesizes (once per distinct context within a test file) and returns the template. */
export function synth(ctx: Ctx = {}): Synth {
  const key = JSON.stringify(ctx);
  let s = cache.get(key);
  if (!s) {
    const app = makeApp(ctx);
    const { stack } = buildApp(app, { region: TEST_REGION });
    s = { app, stack, template: Template.fromStack(stack) };
    cache.set(key, s);
  }
  return s;
}

/** Synthesizes with cdk-nag's AwsSolutions pack and returns the validation report (empty when clean). */
export function nagReport(ctx: Ctx = {}, extend?: (stack: ChatStack) => void): { violations: NagViolation[]; error?: Error } {
  const app = makeApp(ctx);
  const { stack } = buildApp(app, { region: TEST_REGION });
  extend?.(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  let error: Error | undefined;
  try {
    app.synth();
  } catch (e) {
    error = e as Error;
  }
  const reportPath = path.join(app.outdir, 'validation-report.json');
  let violations: NagViolation[] = [];
  try {
    const report = JSON.parse(readFileSync(reportPath, 'utf8')) as {
      pluginReports: { pluginName: string; violations: NagViolation[] }[];
    };
    violations = report.pluginReports.flatMap((r) => r.violations);
  } catch {
    // No report file: nothing was reported.
  }
  return { violations, error };
}

export interface NagViolation {
  ruleName: string;
  description: string;
  severity: string;
  violatingConstructs: { constructPath: string }[];
}

export function summarize(vs: NagViolation[]): string[] {
  return vs.flatMap((v) => v.violatingConstructs.map((c) => `${v.severity} ${v.ruleName} at ${c.constructPath}: ${v.description}`));
}

/** All resources of a type as [logicalId, resource] pairs. */
export function resources(template: Template, type: string): [string, { Properties?: any; [k: string]: any }][] {
  return Object.entries(template.findResources(type));
}

/** Logical id of a construct's CloudFormation resource. */
export function logicalId(stack: Stack, construct: IConstruct): string {
  return stack.resolve(stack.getLogicalId(construct.node.defaultChild as CfnElement)) as string;
}

/** The synthesized AWS::Lambda::Function of one chat binary. */
export function fnResource(s: Synth, name: FunctionName): { Properties: any } {
  const id = logicalId(s.stack, s.stack.functions[name].fn);
  return s.template.toJSON().Resources[id];
}

/** The synthesized execution-role policy statements of one chat binary. */
export function fnStatements(s: Synth, name: FunctionName): any[] {
  const roleId = logicalId(s.stack, s.stack.functions[name].role);
  return resources(s.template, 'AWS::IAM::Policy')
    .filter(([, p]) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
}

export { cdkJson };
