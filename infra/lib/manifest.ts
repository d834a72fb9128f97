/**
 * The two files in `deploy/` that the Rust code reads too (`chat_core::deploy`):
 *
 * - `deploy/functions.json`: per function, the ports it is wired with; each port
 *   names the environment it needs and the IAM actions it is granted on which
 *   resource. The stack sets every function's environment and grants from it, and
 *   the Rust side refuses to start a function whose binary disagrees with it.
 * - `deploy/settings.json`: every tunable's variable, default, bounds and meaning.
 *   A context key of the same name is validated against it (config.ts) and passed
 *   to the functions that read it.
 *
 * Nothing here is written twice: infra reads what Rust reads.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

export const DEPLOY_DIR = path.join(__dirname, '../../deploy');

export type PortName = 'stores' | 'queue' | 'pusher' | 'verifier' | 'blobs' | 'webpush' | 'mobilePush';
export type GrantResource = 'table' | 'queue' | 'connections' | 'bucket' | 'vapidSecret' | 'mobilePush';

export interface Grant {
  readonly resource: GrantResource;
  /**
   * IAM actions, or `tableActions` / `bucketActions`: the function's `table`
   * / `bucket` groups.
   */
  readonly actions: string[] | 'tableActions' | 'bucketActions' | 'mobilePushActions';
}

/**
 * Actions on the SNS platform applications (`application`) or on their
 * endpoints (`endpoint`: `…:endpoint/<PLATFORM>/<name>/*`).
 */
export interface SnsGrant {
  readonly on: 'application' | 'endpoint';
  readonly actions: string[];
}

/** Actions on the bucket's objects under `prefix`, or on the bucket itself (`null`). */
export interface BucketGrant {
  readonly prefix: string | null;
  readonly actions: string[];
}

export interface PortSpec {
  readonly what: string;
  readonly env: string[];
  readonly optionalEnv: string[];
  readonly grants: Grant[];
}

export interface FunctionSpec {
  readonly description: string;
  readonly ports: PortName[];
  readonly table: string[];
  /** Groups of `bucketActions` (functions with the `blobs` port). */
  readonly bucket?: string[];
  /** Groups of `mobilePushActions` (functions with the `mobilePush` port). */
  readonly mobilePush?: string[];
}

export interface Manifest {
  readonly commonEnv: string[];
  readonly localOnlyEnv: string[];
  /** Set by Lambda itself (and by `cargo lambda watch`), never by infra. */
  readonly runtimeEnv: string[];
  readonly ports: Record<PortName, PortSpec>;
  readonly tableActions: Record<string, string[]>;
  readonly bucketActions: Record<string, BucketGrant[]>;
  readonly mobilePushActions: Record<string, SnsGrant[]>;
  readonly functions: Record<string, FunctionSpec>;
}

export interface Setting {
  readonly env: string;
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly unit: string;
  readonly meaning: string;
}

const read = <T>(file: string): T => JSON.parse(readFileSync(path.join(DEPLOY_DIR, file), 'utf8')) as T;

export const MANIFEST: Manifest = read<Manifest>('functions.json');

/** Every setting by its context key (`connectionTtlSecs`, …). */
export const SETTINGS: Record<string, Setting> = read<{ settings: Record<string, Setting> }>('settings.json').settings;

/** The table actions of a function: the union of its `table` groups, sorted. */
export function tableActions(spec: FunctionSpec): string[] {
  const all = spec.table.flatMap((group) => {
    const actions = MANIFEST.tableActions[group];
    if (!actions) throw new Error(`deploy/functions.json: unknown table group ${JSON.stringify(group)}`);
    return actions;
  });
  return [...new Set(all)].sort();
}

/**
 * The bucket statements of a function: per key prefix (`null`: the bucket
 * itself), the union of its `bucket` groups' actions, sorted.
 */
export function bucketGrants(spec: FunctionSpec): BucketGrant[] {
  const byPrefix = new Map<string | null, Set<string>>();
  for (const group of spec.bucket ?? []) {
    const grants = MANIFEST.bucketActions[group];
    if (!grants) throw new Error(`deploy/functions.json: unknown bucket group ${JSON.stringify(group)}`);
    for (const g of grants) {
      const set = byPrefix.get(g.prefix) ?? new Set<string>();
      g.actions.forEach((a) => set.add(a));
      byPrefix.set(g.prefix, set);
    }
  }
  return [...byPrefix.entries()]
    .sort(([a], [b]) => String(a).localeCompare(String(b)))
    .map(([prefix, actions]) => ({ prefix, actions: [...actions].sort() }));
}

/** The SNS statements of a function: per target, the union of its `mobilePush` groups' actions, sorted. */
export function snsGrants(spec: FunctionSpec): SnsGrant[] {
  const byTarget = new Map<SnsGrant['on'], Set<string>>();
  for (const group of spec.mobilePush ?? []) {
    const grants = MANIFEST.mobilePushActions[group];
    if (!grants) throw new Error(`deploy/functions.json: unknown mobilePush group ${JSON.stringify(group)}`);
    for (const g of grants) {
      const set = byTarget.get(g.on) ?? new Set<string>();
      g.actions.forEach((a) => set.add(a));
      byTarget.set(g.on, set);
    }
  }
  return [...byTarget.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([on, actions]) => ({ on, actions: [...actions].sort() }));
}

/**
 * The IAM statements a function's ports grant, with `tableActions` and
 * `bucketActions` resolved (`prefix`: for the bucket, which objects).
 */
export function grantsOf(
  spec: FunctionSpec,
): { resource: GrantResource; actions: string[]; prefix?: string | null; on?: SnsGrant['on'] }[] {
  return spec.ports.flatMap((port) =>
    MANIFEST.ports[port].grants.flatMap((g) => {
      if (g.actions === 'mobilePushActions') {
        return snsGrants(spec).map((s) => ({ resource: g.resource, actions: s.actions, on: s.on }));
      }
      if (g.actions === 'bucketActions') {
        return bucketGrants(spec).map((b) => ({ resource: g.resource, actions: b.actions, prefix: b.prefix }));
      }
      return [{ resource: g.resource, actions: g.actions === 'tableActions' ? tableActions(spec) : [...g.actions] }];
    }),
  );
}

export function has(spec: FunctionSpec, port: PortName): boolean {
  return spec.ports.includes(port);
}
