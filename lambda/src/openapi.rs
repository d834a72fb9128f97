//! The OpenAPI 3.1 document of the REST API, generated from the route table
//! ([`ENDPOINTS`]: paths, methods, parameters, bodies, statuses) and the
//! body types (schemars, `components/schemas`). Error statuses come from
//! [`ErrorCode::http_status`], the mapping the handlers answer with.
//! `chat-contracts` commits it as `docs/openapi.json`.

use schemars::generate::Contract;
use schemars::JsonSchema;
use serde_json::{json, Map, Value};

use chat_core::error::ErrorCode;
use chat_core::ids::{RoomId, UserId};
use chat_core::protocol::cursor;
use chat_core::protocol::rest::{ErrorBody, GatewayMessage};
use chat_core::protocol::schema::{generator, merge_definitions, DIALECT};

use crate::http::{Endpoint, QueryKind, ENDPOINTS};

const SCHEMAS: &str = "/components/schemas";

/// The statuses API Gateway may answer itself (with a [`GatewayMessage`]).
const GATEWAY_STATUSES: [ErrorCode; 4] = [
    ErrorCode::Unauthorized,
    ErrorCode::TooLarge,
    ErrorCode::RateLimited,
    ErrorCode::Internal,
];

fn response_name(code: ErrorCode) -> String {
    // `bad_request` -> `BadRequest`.
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn schema_ref<T: JsonSchema>(gen: &mut schemars::SchemaGenerator) -> Value {
    gen.subschema_for::<T>().to_value()
}

/// The schema of path parameter `name`.
fn path_param(gen: &mut schemars::SchemaGenerator, name: &str) -> Result<Value, String> {
    match name {
        "roomId" => Ok(schema_ref::<RoomId>(gen)),
        "userId" => Ok(schema_ref::<UserId>(gen)),
        "deviceId" => Ok(schema_ref::<chat_core::notify::DeviceId>(gen)),
        "seq" => Ok(json!({"type": "integer", "minimum": 1})),
        other => Err(format!("path parameter {{{other}}} has no type")),
    }
}

fn operation(
    e: &Endpoint,
    req: &mut schemars::SchemaGenerator,
    resp: &mut schemars::SchemaGenerator,
) -> Result<Value, String> {
    let mut parameters = Vec::new();
    for name in e.path_params() {
        parameters.push(json!({
            "name": name, "in": "path", "required": true, "schema": path_param(req, name)?,
        }));
    }
    for q in e.query {
        let schema = match q.kind {
            QueryKind::Cursor => {
                json!({
                    "type": "string",
                    "maxLength": cursor::MAX_LEN,
                    "pattern": cursor::Cursor::pattern(),
                })
            }
            QueryKind::Count { minimum } => json!({"type": "integer", "minimum": minimum}),
            QueryKind::SearchCursor => json!({
                "type": "string",
                "maxLength": chat_core::search::MAX_CURSOR_LEN,
                "pattern": chat_core::search::SearchKey::pattern(),
            }),
            QueryKind::SearchText => json!({
                "type": "string",
                "minLength": 1,
                "maxLength": chat_core::search::MAX_QUERY_CHARS,
            }),
        };
        parameters.push(json!({
            "name": q.name, "in": "query", "required": q.kind == QueryKind::SearchText,
            "description": q.description, "schema": schema,
        }));
    }
    let mut responses = Map::new();
    for s in e.success {
        let mut r = json!({"description": s.description});
        if let Some(body) = s.body {
            r["content"] = json!({"application/json": {"schema": (body.schema)(resp).to_value()}});
            if !e.links.is_empty() {
                let links: Map<String, Value> = e
                    .links
                    .iter()
                    .map(|l| {
                        let params: Map<String, Value> = l
                            .parameters
                            .iter()
                            .map(|(k, v)| ((*k).to_owned(), json!(v)))
                            .collect();
                        (
                            l.name.to_owned(),
                            json!({"operationId": l.operation, "parameters": params}),
                        )
                    })
                    .collect();
                r["links"] = Value::Object(links);
            }
        }
        responses.insert(s.status.to_string(), r);
    }
    for code in e.errors() {
        responses.insert(
            code.http_status().to_string(),
            json!({"$ref": format!("#/components/responses/{}", response_name(code))}),
        );
    }
    let mut op = json!({
        "operationId": e.operation,
        "summary": e.summary,
        "responses": responses,
    });
    if !parameters.is_empty() {
        op["parameters"] = Value::Array(parameters);
    }
    if let Some(body) = e.request {
        op["requestBody"] = json!({
            "required": true,
            "content": {"application/json": {"schema": (body.schema)(req).to_value()}},
        });
    }
    if !e.authenticated {
        op["security"] = json!([]);
    }
    Ok(op)
}

/// The shared error responses, one per code.
fn error_responses(gen: &mut schemars::SchemaGenerator) -> Map<String, Value> {
    let error_body = schema_ref::<ErrorBody>(gen);
    let gateway = schema_ref::<GatewayMessage>(gen);
    let mut out = Map::new();
    for code in ErrorCode::ALL {
        let schema = if GATEWAY_STATUSES.contains(&code) {
            json!({"anyOf": [error_body, gateway]})
        } else {
            error_body.clone()
        };
        let mut r = json!({
            "description": format!("`{}`", serde_json::to_value(code).unwrap_or_default().as_str().unwrap_or_default()),
            "content": {"application/json": {"schema": schema}},
        });
        if code == ErrorCode::RateLimited {
            r["headers"] = json!({"Retry-After": {
                "description": "Seconds to wait before the same request succeeds (absent when the gateway throttled).",
                "schema": {"type": "integer", "minimum": 1},
            }});
        }
        out.insert(response_name(code), r);
    }
    out
}

/// The document.
pub fn document() -> Result<Value, String> {
    // What clients send is described as serde accepts it, what they
    // receive as serde produces it.
    let mut req = generator(Contract::Deserialize, SCHEMAS);
    let mut resp = generator(Contract::Serialize, SCHEMAS);
    let mut paths: Map<String, Value> = Map::new();
    for e in ENDPOINTS {
        let method = e.method.as_str().to_ascii_lowercase();
        let item = paths.entry(e.path.to_owned()).or_insert_with(|| json!({}));
        if item.get(&method).is_some() {
            return Err(format!("{} {} is declared twice", e.method, e.path));
        }
        item[method] = operation(e, &mut req, &mut resp)?;
    }
    for e in ENDPOINTS {
        for l in e.links {
            if !ENDPOINTS.iter().any(|t| t.operation == l.operation) {
                return Err(format!(
                    "{} links to no operation {}",
                    e.operation, l.operation
                ));
            }
        }
    }
    let responses = error_responses(&mut resp);
    let mut schemas = Map::new();
    merge_definitions(&mut schemas, req.take_definitions(true))?;
    merge_definitions(&mut schemas, resp.take_definitions(true))?;
    let mut sorted: Vec<(String, Value)> = schemas.into_iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": DIALECT,
        "info": {
            "title": "Chat REST API",
            "version": "1",
            "description": "The REST half of the chat platform (docs/PROTOCOL.md); the WebSocket \
                frames are described by docs/schema/frames.schema.json. Every endpoint but this \
                document needs `Authorization: Bearer <jwt>` (a Cognito ID token; locally, one \
                from `POST /dev/token`). Errors answer `{\"error\": {\"code\", \"message\"}}`; \
                API Gateway's own refusals answer `{\"message\"}`. Generated from the route \
                table and the Rust types by chat-contracts: do not edit.",
        },
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
            "responses": responses,
            "schemas": Value::Object(sorted.into_iter().collect()),
        },
    }))
}
