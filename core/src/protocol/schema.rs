//! JSON Schema (2020-12, the dialect of OpenAPI 3.1) of the wire types,
//! generated from the types themselves with `schemars`, which reads the same
//! serde attributes (tags, renames, defaults, skipped fields) the codec uses.
//! Bounds come from the constants the parsers use (`ids`, [`super::ws`]).
//!
//! Two contracts: what a client sends is described as serde *accepts* it
//! ([`Contract::Deserialize`]: a defaulted field is optional), what the
//! server sends as serde *produces* it ([`Contract::Serialize`]: a field
//! skipped when empty is optional, every other one is required).
//!
//! `chat-contracts` writes the documents (docs/schema/frames.schema.json,
//! docs/openapi.json) and fails a test when the committed ones drift.

use schemars::generate::{Contract, SchemaSettings};
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{json, Map, Value};

use super::ws::{ClientFrame, ServerFrame, ACTIONS};

/// The JSON Schema dialect of every document generated here.
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// A generator for one contract, its definitions referenced under
/// `definitions_path` (`/$defs` in a schema, `/components/schemas` in
/// OpenAPI).
pub fn generator(contract: Contract, definitions_path: &str) -> SchemaGenerator {
    let mut settings = SchemaSettings::draft2020_12();
    settings.contract = contract;
    settings.definitions_path = definitions_path.to_owned().into();
    settings.meta_schema = None;
    settings.into_generator()
}

/// Adds `from`'s definitions to `into`. Both contracts name a shared type
/// the same, so a name defined twice must be defined the same: an `Err`
/// names a type whose two contracts differ (it would need two names).
pub fn merge_definitions(
    into: &mut Map<String, Value>,
    from: Map<String, Value>,
) -> Result<(), String> {
    for (name, schema) in from {
        match into.get(&name) {
            Some(existing) if *existing != schema => {
                return Err(format!(
                    "{name} is described differently as sent and as received"
                ))
            }
            Some(_) => {}
            None => {
                into.insert(name, schema);
            }
        }
    }
    Ok(())
}

/// Sorts `$defs` keys so the committed document diffs cleanly.
fn sorted(map: Map<String, Value>) -> Map<String, Value> {
    let mut entries: Vec<(String, Value)> = map.into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries.into_iter().collect()
}

/// The WebSocket frames, both directions, as one document:
/// `$defs/ClientFrame` (one of every frame a client may send, told apart by
/// `action`) and `$defs/ServerFrame` (one of every frame the server sends,
/// told apart by `type`). The document itself accepts either.
pub fn frames() -> Result<Value, String> {
    let mut defs = Map::new();
    merge_definitions(
        &mut defs,
        definitions_of::<ClientFrame>(Contract::Deserialize)?,
    )?;
    merge_definitions(
        &mut defs,
        definitions_of::<ServerFrame>(Contract::Serialize)?,
    )?;
    let actions = client_actions(&defs);
    if actions != ACTIONS {
        return Err(format!(
            "ClientFrame's schema names the actions {actions:?}, the decoder {ACTIONS:?}"
        ));
    }
    Ok(json!({
        "$schema": DIALECT,
        "title": "Chat WebSocket frames, protocol v1",
        "description": "Every WebSocket frame, both directions (docs/PROTOCOL.md). \
            A client sends a ClientFrame (routed by `action`) as a text frame of at most \
            128 KiB; the server sends a ServerFrame (told apart by `type`). Unknown fields \
            are ignored in both directions: a client must ignore fields and frame types it \
            does not know. Generated from the Rust types by chat-contracts: do not edit.",
        "oneOf": [
            {"$ref": "#/$defs/ClientFrame"},
            {"$ref": "#/$defs/ServerFrame"},
        ],
        "$defs": Value::Object(sorted(defs)),
    }))
}

/// `T` and everything it references, as definitions, `T` among them.
fn definitions_of<T: JsonSchema>(contract: Contract) -> Result<Map<String, Value>, String> {
    let mut gen = generator(contract, "/$defs");
    let schema = gen.subschema_for::<T>();
    if schema.get("$ref").is_none() {
        return Err(format!("{} was inlined", T::schema_name()));
    }
    Ok(gen.take_definitions(true))
}

/// The `action` of each alternative of `ClientFrame`, in order.
fn client_actions(defs: &Map<String, Value>) -> Vec<String> {
    defs.get("ClientFrame")
        .and_then(|f| f.get("oneOf"))
        .and_then(Value::as_array)
        .map(|alternatives| {
            alternatives
                .iter()
                .filter_map(|a| {
                    a.pointer("/properties/action/const")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default()
}
