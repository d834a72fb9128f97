/**
 * The wire types of protocol v1 (docs/PROTOCOL.md), named as the SDK uses
 * them.
 *
 * GAP (temporary): written by hand from core/src/protocol/{ws,rest}.rs until
 * docs/schema/frames.schema.json and docs/openapi.json exist; then these
 * names become aliases of src/generated/*.ts and nothing here is typed twice.
 */
export {};
