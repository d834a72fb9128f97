//! The OpenAPI document holds: it is what the route table and the types
//! generate, every route the router matches is documented and every
//! documented operation is routed, and real answers of the handlers
//! validate against their documented schemas.

use chat_contracts::{documents, repo_root, REGENERATE};
use chat_lambda::http::{Route, ENDPOINTS};
use serde_json::{json, Value};

const OPENAPI: &str = "docs/openapi.json";

fn committed() -> String {
    std::fs::read_to_string(repo_root().join(OPENAPI))
        .unwrap_or_else(|e| panic!("cannot read {OPENAPI}: {e}; run `{REGENERATE}`"))
}

fn doc() -> Value {
    serde_json::from_str(&committed()).expect("the OpenAPI document is JSON")
}

#[test]
fn the_committed_openapi_document_is_what_the_code_generates() {
    let generated = documents()
        .expect("the contracts generate")
        .into_iter()
        .find(|d| d.path == OPENAPI)
        .expect("the OpenAPI document is one of the documents");
    assert!(
        committed() == generated.text,
        "{OPENAPI} differs from the route table or the types: run `{REGENERATE}` and commit it"
    );
    // What the functions serve at /openapi.json is the committed file.
    assert_eq!(chat_lambda::http::OPENAPI_JSON, committed());
}

/// `/rooms/{roomId}` with a valid value for each parameter.
fn concrete(template: &str) -> String {
    template
        .replace("{roomId}", "r_0190a3f1")
        .replace("{userId}", "bob")
        .replace("{deviceId}", "d_AAAAAAAAAAAAAAAAAAAAAA")
        .replace("{seq}", "7")
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

#[test]
fn every_documented_operation_is_routed_and_every_route_is_documented() {
    let doc = doc();
    let paths = doc["paths"].as_object().expect("paths");
    let mut documented = Vec::new();
    for (template, item) in paths {
        for method in METHODS {
            if item.get(method).is_none() {
                continue;
            }
            documented.push(format!("{} {template}", method.to_uppercase()));
            let m: http::Method = method.to_uppercase().parse().unwrap();
            let route = Route::parse(&m, &concrete(template));
            assert!(
                route.is_ok(),
                "{method} {template} is documented but not routed"
            );
        }
    }
    // The other way: every route the router matches, with every method,
    // is documented (by the endpoint that matched it).
    let mut routed = Vec::new();
    for e in ENDPOINTS {
        for method in METHODS {
            let m: http::Method = method.to_uppercase().parse().unwrap();
            if Route::parse(&m, &concrete(e.path)).is_ok() {
                let key = format!("{} {}", method.to_uppercase(), e.path);
                assert!(
                    paths.get(e.path).and_then(|i| i.get(method)).is_some(),
                    "{key} is routed but not documented"
                );
                routed.push(key);
            }
        }
    }
    documented.sort();
    routed.sort();
    routed.dedup();
    assert_eq!(documented, routed);
    // And paths nothing documents are not routed.
    for (method, path) in [
        (http::Method::PUT, "/rooms"),
        (http::Method::GET, "/rooms/r_1/members"),
        (http::Method::GET, "/openapi.yaml"),
        (http::Method::POST, "/openapi.json"),
    ] {
        assert!(
            Route::parse(&method, path).is_err(),
            "{method} {path} is routed"
        );
    }
}

#[test]
fn every_operation_documents_the_errors_its_handler_may_answer() {
    let doc = doc();
    for e in ENDPOINTS {
        let op = &doc["paths"][e.path][e.method.as_str().to_ascii_lowercase()];
        let responses = op["responses"].as_object().expect("responses");
        // Every endpoint: the rate limit and our own failures.
        for status in ["429", "500"] {
            assert!(
                responses.contains_key(status),
                "{} {} lacks {status}",
                e.method,
                e.path
            );
        }
        assert_eq!(
            responses.contains_key("401"),
            e.authenticated,
            "{} {}: 401 exactly when a token is needed",
            e.method,
            e.path
        );
        assert_eq!(op.get("security") == Some(&json!([])), !e.authenticated);
    }
}

fn validator(schema_ref: &Value) -> jsonschema::Validator {
    let doc = doc();
    // The document's components, reachable from a standalone schema.
    let mut schema = schema_ref.clone();
    schema["$schema"] = doc["jsonSchemaDialect"].clone();
    schema["components"] = doc["components"].clone();
    jsonschema::validator_for(&schema).expect("the schema compiles")
}

fn response_schema(path: &str, method: &str, status: &str) -> Value {
    let doc = doc();
    let mut r = doc["paths"][path][method]["responses"][status].clone();
    if let Some(reference) = r["$ref"].as_str() {
        let pointer = reference.trim_start_matches('#');
        r = doc
            .pointer(pointer)
            .cloned()
            .expect("the reference resolves");
    }
    r["content"]["application/json"]["schema"].clone()
}

fn assert_valid(path: &str, method: &str, status: &str, body: &Value) {
    let v = validator(&response_schema(path, method, status));
    let errs: Vec<String> = v.iter_errors(body).map(|e| e.to_string()).collect();
    assert!(
        errs.is_empty(),
        "{method} {path} {status}: {body} does not match: {errs:?}"
    );
}

#[test]
fn error_bodies_of_the_one_mapping_and_of_the_gateway_validate() {
    use chat_core::error::ChatError;
    for (e, status) in [
        (
            ChatError::BadRequest("roomId must not be empty".into()),
            "400",
        ),
        (ChatError::Unauthorized, "401"),
        (ChatError::NotFound("room"), "404"),
        (
            ChatError::RateLimited {
                retry_after_ms: 900,
            },
            "429",
        ),
        (ChatError::Internal("cause".into()), "500"),
    ] {
        let resp = chat_lambda::http::error(&e);
        assert_eq!(resp.status().as_str(), status);
        let body: Value = serde_json::from_slice(resp.body().as_ref()).unwrap();
        assert_valid("/rooms/{roomId}", "get", status, &body);
    }
    assert_valid(
        "/rooms/{roomId}",
        "get",
        "401",
        &json!({"message": "Unauthorized"}),
    );
    assert_valid(
        "/rooms/{roomId}",
        "get",
        "429",
        &json!({"message": "Too Many Requests"}),
    );
    let v = validator(&response_schema("/rooms/{roomId}", "get", "404"));
    assert!(!v.is_valid(&json!({"error": {"code": "nope", "message": "x"}})));
}
