/** The repository wiring that makes `npx cdk …` work from the root. */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CARGO_PROFILE, WORKSPACE_MANIFEST } from '../lib/rust-function';
import { FUNCTION_NAMES } from '../lib/config';
import { cdkJson, REPO_ROOT } from './helpers';

describe('repository wiring', () => {
  it('cdk.json runs the app with the tsx installed in infra/', () => {
    const [runner, entry] = cdkJson.app.split(' ');
    expect(runner).toBe('infra/node_modules/.bin/tsx');
    accessSync(path.join(REPO_ROOT, runner), constants.X_OK);
    expect(existsSync(path.join(REPO_ROOT, entry))).toBe(true);
  });

  it('the root package.json points npx at the CDK CLI in infra/', () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
    expect(existsSync(path.join(REPO_ROOT, pkg.bin.cdk))).toBe(true);
    expect(pkg.dependencies).toBeUndefined();
    expect(pkg.devDependencies).toBeUndefined();
  });

  it('builds from the workspace root manifest, which has a binary for every function', () => {
    expect(WORKSPACE_MANIFEST).toBe(path.join(REPO_ROOT, 'Cargo.toml'));
    const manifest = readFileSync(WORKSPACE_MANIFEST, 'utf8');
    expect(manifest).toMatch(/^\[workspace\]/m);
    const membersBlock = /members\s*=\s*\[([^\]]*)\]/.exec(manifest)?.[1] ?? '';
    const members = [...membersBlock.matchAll(/"(functions\/[^"]+)"/g)].map((m) => m[1]);
    const bins = members.flatMap((m) => {
      const crate = readFileSync(path.join(REPO_ROOT, m, 'Cargo.toml'), 'utf8');
      return [...crate.matchAll(/\[\[bin\]\]\s*\nname\s*=\s*"([^"]+)"/g)].map((x) => x[1]);
    });
    expect(bins.sort()).toEqual([...FUNCTION_NAMES].sort());
  });

  it('bundles with a Cargo profile the manifest defines, optimised for size', () => {
    // cargo lambda fails at deploy time on an unknown profile; catch it here.
    const manifest = readFileSync(WORKSPACE_MANIFEST, 'utf8');
    const block = new RegExp(`^\\[profile\\.${CARGO_PROFILE}\\]\\n((?:[^\\[\\n][^\\n]*\\n|\\n)*)`, 'm').exec(manifest)?.[1];
    expect(block, `[profile.${CARGO_PROFILE}] in Cargo.toml`).toBeDefined();
    expect(block).toMatch(/^inherits\s*=\s*"release"/m);
    expect(block).toMatch(/^opt-level\s*=\s*"[sz]"/m);
  });
});
