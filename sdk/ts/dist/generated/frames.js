// GENERATED from docs/schema/frames.schema.json by sdk/ts/scripts/gen.mjs: do not edit.
// Regenerate with `npm run gen --prefix sdk/ts`; CI fails when this file differs.
export {};
