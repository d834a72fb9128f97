import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { App, CfnWaitConditionHandle, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { FUNCTION_NAMES } from '../lib/config';
import { GUARD_PARAMETER, GUARD_RULE, NOT_DEPLOYABLE, UNBUILT_ASSET_DIR, guardUnbundledDeploy } from '../lib/deploy-guard';
import { REPO_ROOT, cdkJson, fnResource, synth } from './helpers';

/** A bare stack in an app with the given bundling context (absent = the CLI default, bundle everything). */
function guarded(bundlingStacks?: string[], stackName = 'Chat-dev'): Template {
  const context: Record<string, unknown> = { ...cdkJson.context };
  if (bundlingStacks) context['aws:cdk:bundling-stacks'] = bundlingStacks;
  const stack = new Stack(new App({ context }), stackName);
  new CfnWaitConditionHandle(stack, 'Something'); // CloudFormation wants one resource
  guardUnbundledDeploy(stack);
  guardUnbundledDeploy(stack); // once per stack, however many functions ask
  return Template.fromStack(stack);
}

describe('deploy safety when bundling is skipped', () => {
  const s = synth(); // the helpers skip bundling, as SKIP_BUNDLING=1 does
  const template = s.template.toJSON();

  it('refuses every deploy with a CloudFormation rule that can never hold', () => {
    expect(Object.keys(template.Rules)).toContain(GUARD_RULE);
    expect(template.Rules[GUARD_RULE]).toEqual({
      Assertions: [{ Assert: { 'Fn::Equals': [{ Ref: GUARD_PARAMETER }, 'false'] }, AssertDescription: NOT_DEPLOYABLE }],
    });
    // The one value the parameter may take makes the assertion false: no
    // `--parameters` override gets past it.
    expect(template.Parameters[GUARD_PARAMETER]).toMatchObject({ Type: 'String', Default: 'true', AllowedValues: ['true'] });
    expect(NOT_DEPLOYABLE).toMatch(/^Synthesized with SKIP_BUNDLING=1: not deployable.*cargo-lambda/);
  });

  /** The zip assets of the synthesized stack, from its asset manifest. */
  function zipAssets(): { hash: string; dir: string }[] {
    const assembly = s.app.synth();
    const manifest = JSON.parse(readFileSync(path.join(assembly.directory, `${s.stack.artifactId}.assets.json`), 'utf8')) as {
      files: Record<string, { source: { path: string; packaging?: string } }>;
    };
    return Object.entries(manifest.files)
      .filter(([, f]) => f.source.packaging === 'zip')
      .map(([hash, f]) => ({ hash, dir: path.resolve(assembly.directory, f.source.path) }));
  }

  it('stages no asset that is the repository root', () => {
    const zips = zipAssets();
    expect(zips.length).toBeGreaterThan(0);
    for (const { dir } of zips) {
      expect(path.resolve(dir)).not.toBe(path.resolve(REPO_ROOT));
      expect(existsSync(path.join(dir, 'Cargo.toml')), dir).toBe(false);
      expect(existsSync(path.join(dir, '.git')), dir).toBe(false);
    }
  });

  it('gives every function the one tiny placeholder asset', () => {
    const keys = new Set(FUNCTION_NAMES.map((name) => fnResource(s, name).Properties.Code.S3Key as string));
    expect(keys.size).toBe(1);
    const [key] = [...keys];
    const placeholder = zipAssets().find((z) => `${z.hash}.zip` === key);
    expect(placeholder, key).toBeDefined();
    expect(readdirSync(placeholder!.dir)).toEqual(['bootstrap']);
    expect(statSync(path.join(placeholder!.dir, 'bootstrap')).size).toBeLessThan(1024);
    expect(readdirSync(UNBUILT_ASSET_DIR)).toEqual(['bootstrap']);
    for (const name of FUNCTION_NAMES) {
      const p = fnResource(s, name).Properties;
      expect([p.Handler, p.Runtime], name).toEqual(['bootstrap', 'provided.al2023']);
    }
  });
});

describe('the guard follows the CDK reading of aws:cdk:bundling-stacks', () => {
  it('adds nothing to a stack whose assets are built (the CLI default)', () => {
    const t = guarded().toJSON();
    expect(t.Rules?.[GUARD_RULE]).toBeUndefined();
    expect(t.Parameters?.[GUARD_PARAMETER]).toBeUndefined();
    expect(guarded(['**']).toJSON().Rules?.[GUARD_RULE]).toBeUndefined();
    expect(guarded(['Chat-dev']).toJSON().Rules?.[GUARD_RULE]).toBeUndefined();
  });

  it('refuses a stack that bundling skips, even when another stack is bundled', () => {
    expect(guarded([]).toJSON().Rules[GUARD_RULE]).toBeDefined();
    expect(guarded(['Chat-prod']).toJSON().Rules[GUARD_RULE]).toBeDefined();
  });
});
