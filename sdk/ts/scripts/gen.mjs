// Generates src/generated/*.ts from the contracts the Rust types generate:
//   docs/schema/frames.schema.json (every WebSocket frame, both directions)
//     -> src/generated/frames.ts   (json-schema-to-typescript)
//   docs/openapi.json (the REST API, OpenAPI 3.1)
//     -> src/generated/openapi.ts  (openapi-typescript)
// The output is committed; CI regenerates it and fails on any difference
// (scripts/test.sh), so the SDK's types never drift from the server's.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from 'json-schema-to-typescript';
import openapiTS, { astToString } from 'openapi-typescript';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..', '..');
const out = resolve(here, '..', 'src', 'generated');
const banner = (from) =>
  `// GENERATED from ${from} by sdk/ts/scripts/gen.mjs: do not edit.\n` +
  '// Regenerate with `npm run gen --prefix sdk/ts`; CI fails when this file differs.\n';

await mkdir(out, { recursive: true });

/**
 * In JSON Schema 2020-12 a `$ref` beside other keywords applies them all
 * (schemars writes a tagged enum's variant as `{"$ref": …, "properties":
 * {"action": …}}`); json-schema-to-typescript reads only the `$ref` there.
 * Say the same as `allOf`, which it reads as an intersection.
 */
function refSiblingsToAllOf(node) {
  if (Array.isArray(node)) return node.map(refSiblingsToAllOf);
  if (!node || typeof node !== 'object') return node;
  const out = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, refSiblingsToAllOf(v)]));
  if (typeof out.$ref === 'string' && Object.keys(out).some((k) => k !== '$ref' && k !== 'description')) {
    const { $ref, description, ...rest } = out;
    return { ...(description === undefined ? {} : { description }), allOf: [{ $ref }, rest] };
  }
  return out;
}

const schema = refSiblingsToAllOf(JSON.parse(await readFile(resolve(root, 'docs/schema/frames.schema.json'), 'utf8')));
const frames = await compile(schema, 'Frame', {
  bannerComment: banner('docs/schema/frames.schema.json'),
  additionalProperties: false,
  unreachableDefinitions: true,
  strictIndexSignatures: true,
  format: false,
  cwd: resolve(root, 'docs/schema'),
});
await writeFile(resolve(out, 'frames.ts'), frames);

const doc = JSON.parse(await readFile(resolve(root, 'docs/openapi.json'), 'utf8'));
// Fields with a default are optional in a request (the server fills them in).
const ast = await openapiTS(doc, { exportType: false, alphabetize: true, defaultNonNullable: false });
await writeFile(resolve(out, 'openapi.ts'), banner('docs/openapi.json') + astToString(ast));
console.log(`sdk/ts: generated ${out}/frames.ts and openapi.ts`);
