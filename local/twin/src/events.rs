//! Builders of AWS event payloads, with the exact JSON shapes API Gateway and
//! SQS send. The local platform's gateway twin and the tests build events
//! here, then decode them with the same `aws_lambda_events` / `lambda_http`
//! types the Lambdas use, so a shape mistake fails locally too.

use std::sync::atomic::{AtomicU64, Ordering};

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use aws_lambda_events::sqs::SqsEvent;
use serde_json::{json, Map, Value};
use time::format_description::FormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

use chat_core::ids::Millis;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A unique id for requests and messages (API Gateway uses base64-ish ids).
pub fn request_id() -> String {
    format!(
        "{}{:06}",
        uuid::Uuid::now_v7().simple(),
        COUNTER.fetch_add(1, Ordering::Relaxed) % 1_000_000
    )
}

/// Where a WebSocket API lives: what API Gateway puts in every request context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WsApi {
    pub api_id: String,
    pub stage: String,
    pub domain_name: String,
}

impl Default for WsApi {
    fn default() -> Self {
        Self {
            api_id: "local".into(),
            stage: "local".into(),
            domain_name: "127.0.0.1".into(),
        }
    }
}

/// What the gateway knows about one connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WsConn {
    pub connection_id: String,
    pub connected_at: Millis,
    pub source_ip: String,
}

fn utc(ms: Millis) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// API Gateway's `requestTime` format, e.g. "28/Nov/2026:04:23:30 +0000".
fn http_date(ms: Millis) -> String {
    const FORMAT: &[FormatItem<'_>] =
        format_description!("[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000");
    utc(ms).format(FORMAT).unwrap_or_default()
}

/// ISO 8601 in UTC with milliseconds, e.g. "2026-11-28T04:23:30.012Z": the
/// timestamp format of the Management API's `GetConnection`.
pub fn iso8601(ms: Millis) -> String {
    const FORMAT: &[FormatItem<'_>] =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    utc(ms).format(FORMAT).unwrap_or_default()
}

fn ws_context(
    api: &WsApi,
    conn: &WsConn,
    route_key: &str,
    event_type: &str,
    now: Millis,
) -> Map<String, Value> {
    let mut ctx = Map::new();
    ctx.insert("routeKey".into(), json!(route_key));
    ctx.insert("eventType".into(), json!(event_type));
    ctx.insert("extendedRequestId".into(), json!(request_id()));
    ctx.insert("requestTime".into(), json!(http_date(now)));
    ctx.insert("messageDirection".into(), json!("IN"));
    ctx.insert("stage".into(), json!(api.stage));
    ctx.insert("connectedAt".into(), json!(conn.connected_at));
    ctx.insert("requestTimeEpoch".into(), json!(now));
    ctx.insert("identity".into(), json!({ "sourceIp": conn.source_ip }));
    ctx.insert("requestId".into(), json!(request_id()));
    ctx.insert("domainName".into(), json!(api.domain_name));
    ctx.insert("connectionId".into(), json!(conn.connection_id));
    ctx.insert("apiId".into(), json!(api.api_id));
    ctx
}

fn decode_ws(v: Value) -> ApiGatewayWebsocketProxyRequest {
    // Every field we build is one the type declares with the right JSON type.
    serde_json::from_value(v)
        .unwrap_or_else(|e| panic!("event builder produced an invalid WebSocket event: {e}"))
}

/// A `$connect` event: the handshake's query string and headers are included
/// (they are only ever sent on `$connect`). `authorizer` is the context a
/// REQUEST authorizer returned, if one ran.
pub fn ws_connect(
    api: &WsApi,
    conn: &WsConn,
    query: &[(String, String)],
    headers: &[(String, String)],
    authorizer: Option<Value>,
    now: Millis,
) -> ApiGatewayWebsocketProxyRequest {
    let mut ctx = ws_context(api, conn, "$connect", "CONNECT", now);
    if let Some(a) = authorizer {
        ctx.insert("authorizer".into(), a);
    }
    let mut hdrs = Map::new();
    let mut multi_hdrs = Map::new();
    hdrs.insert("Host".into(), json!(api.domain_name));
    multi_hdrs.insert("Host".into(), json!([api.domain_name]));
    for (k, v) in headers {
        hdrs.insert(k.clone(), json!(v));
        multi_hdrs.insert(k.clone(), json!([v]));
    }
    let mut qs = Map::new();
    let mut multi_qs = Map::new();
    for (k, v) in query {
        qs.insert(k.clone(), json!(v));
        if let Some(values) = multi_qs
            .entry(k.clone())
            .or_insert_with(|| json!([]))
            .as_array_mut()
        {
            values.push(json!(v));
        }
    }
    let mut ev = json!({
        "headers": hdrs,
        "multiValueHeaders": multi_hdrs,
        "requestContext": ctx,
        "isBase64Encoded": false
    });
    if !qs.is_empty() {
        ev["queryStringParameters"] = Value::Object(qs);
        ev["multiValueQueryStringParameters"] = Value::Object(multi_qs);
    }
    decode_ws(ev)
}

/// A message event routed to `route_key` (an action or `$default`).
pub fn ws_message(
    api: &WsApi,
    conn: &WsConn,
    route_key: &str,
    body: &str,
    authorizer: Option<Value>,
    now: Millis,
) -> ApiGatewayWebsocketProxyRequest {
    let mut ctx = ws_context(api, conn, route_key, "MESSAGE", now);
    ctx.insert("messageId".into(), json!(request_id()));
    if let Some(a) = authorizer {
        ctx.insert("authorizer".into(), a);
    }
    decode_ws(json!({ "requestContext": ctx, "body": body, "isBase64Encoded": false }))
}

/// A `$disconnect` event with the close code and reason.
pub fn ws_disconnect(
    api: &WsApi,
    conn: &WsConn,
    status_code: u16,
    reason: &str,
    now: Millis,
) -> ApiGatewayWebsocketProxyRequest {
    let mut ctx = ws_context(api, conn, "$disconnect", "DISCONNECT", now);
    ctx.insert("disconnectStatusCode".into(), json!(status_code));
    ctx.insert("disconnectReason".into(), json!(reason));
    decode_ws(json!({
        "headers": { "Host": api.domain_name },
        "multiValueHeaders": { "Host": [api.domain_name] },
        "requestContext": ctx,
        "isBase64Encoded": false
    }))
}

/// API Gateway's route selection on `$request.body.action`: the action when
/// the body is JSON with a string `action` naming a route, else `$default`.
pub fn select_route<'a>(body: &str, routes: &[&'a str]) -> &'a str {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("action").and_then(Value::as_str).map(str::to_owned))
        .and_then(|a| routes.iter().find(|r| **r == a).copied())
        .unwrap_or("$default")
}

/// One SQS record as the event source mapping delivers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqsRecord {
    pub message_id: String,
    pub body: String,
    pub receive_count: u32,
    pub sent_at: Millis,
}

/// An SQS event for a batch of records from `queue_arn`.
pub fn sqs_event(queue_arn: &str, records: &[SqsRecord], now: Millis) -> SqsEvent {
    let records: Vec<Value> = records
        .iter()
        .map(|r| {
            json!({
                "messageId": r.message_id,
                "receiptHandle": format!("{}-{}", r.message_id, r.receive_count),
                "body": r.body,
                "attributes": {
                    "ApproximateReceiveCount": r.receive_count.to_string(),
                    "SentTimestamp": r.sent_at.to_string(),
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": now.to_string()
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records }))
        .unwrap_or_else(|e| panic!("event builder produced an invalid SQS event: {e}"))
}

/// An HTTP API (payload 2.0) request, decoded by `lambda_http` exactly as in
/// Lambda. `path` may carry a query string.
pub fn http_request(
    method: &str,
    path_and_query: &str,
    headers: &[(String, String)],
    body: Option<&str>,
    now: Millis,
) -> lambda_http::Request {
    let ev = http_event(method, path_and_query, headers, body, now);
    lambda_http::request::from_str(&ev.to_string())
        .unwrap_or_else(|e| panic!("event builder produced an invalid HTTP API event: {e}"))
}

/// The JSON of an HTTP API (payload 2.0) event, as API Gateway sends it.
pub fn http_event(
    method: &str,
    path_and_query: &str,
    headers: &[(String, String)],
    body: Option<&str>,
    now: Millis,
) -> Value {
    let (path, raw_query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut qs = Map::new();
    for (k, v) in parse_query(raw_query) {
        // API Gateway joins repeated keys with commas in queryStringParameters.
        match qs.get_mut(&k) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                qs.insert(k, json!(v));
            }
        }
    }
    let mut hdrs = Map::new();
    for (k, v) in headers {
        hdrs.insert(k.to_ascii_lowercase(), json!(v));
    }
    let mut ev = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": hdrs,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "local",
            "http": { "method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "chat-local" },
            "requestId": request_id(),
            "routeKey": "$default",
            "stage": "$default",
            "time": http_date(now),
            "timeEpoch": now
        },
        "isBase64Encoded": false
    });
    if !qs.is_empty() {
        ev["queryStringParameters"] = Value::Object(qs);
    }
    if let Some(b) = body {
        ev["body"] = json!(b);
    }
    ev
}

/// The `key=value` pairs of a raw query string, percent-decoded (`+` is a
/// space), in order: `application/x-www-form-urlencoded` parsing.
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The JSON of the REQUEST authorizer event API Gateway sends before
/// `$connect`: the handshake's headers and query string and the request
/// context, with the `methodArn` of this stage's `$connect` route.
pub fn ws_authorizer_request(
    api: &WsApi,
    conn: &WsConn,
    query: &[(String, String)],
    headers: &[(String, String)],
    now: Millis,
) -> Value {
    let connect = ws_connect(api, conn, query, headers, None, now);
    let mut v = serde_json::to_value(&connect).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut v {
        map.insert("type".into(), json!("REQUEST"));
        let arn = format!(
            "arn:aws:execute-api:local:000000000000:{}/{}/$connect",
            api.api_id, api.stage
        );
        map.insert("methodArn".into(), json!(arn));
        map.insert("stageVariables".into(), json!({}));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_time_has_api_gateways_format() {
        assert_eq!(http_date(0), "01/Jan/1970:00:00:00 +0000");
        assert_eq!(http_date(1_795_839_010_000), "28/Nov/2026:04:10:10 +0000");
        assert_eq!(iso8601(1_795_839_010_012), "2026-11-28T04:10:10.012Z");
    }

    #[test]
    fn route_selection_matches_action_else_default() {
        let routes = ["sendMessage", "ping"];
        assert_eq!(select_route(r#"{"action":"ping"}"#, &routes), "ping");
        assert_eq!(select_route(r#"{"action":"nope"}"#, &routes), "$default");
        assert_eq!(select_route(r#"{"action":5}"#, &routes), "$default");
        assert_eq!(select_route("not json", &routes), "$default");
    }

    #[test]
    fn query_strings_decode_escapes_and_keep_garbage() {
        let one = |raw: &str| parse_query(&format!("k={raw}"))[0].1.clone();
        assert_eq!(one("a%20b+c"), "a b c");
        assert_eq!(one("%zz%"), "%zz%");
        assert_eq!(one("%2"), "%2");
        // Regression (fuzz harness): a sign is not a hex digit.
        assert_eq!(one("%+a"), "% a");
        assert_eq!(one("%-1x"), "%-1x");
        assert_eq!(
            parse_query("token=a%3Db&&flag&x=1"),
            vec![
                ("token".to_owned(), "a=b".to_owned()),
                ("flag".to_owned(), String::new()),
                ("x".to_owned(), "1".to_owned())
            ]
        );
    }

    #[test]
    fn an_authorizer_context_reaches_the_fields_handlers_read() {
        let api = WsApi::default();
        let conn = WsConn {
            connection_id: "abc=".into(),
            connected_at: 1,
            source_ip: "127.0.0.1".into(),
        };
        let ctx = json!({"principalId": "alice", "userId": "alice", "name": "Alice"});
        let ev = ws_message(&api, &conn, "ping", "{}", Some(ctx), 2);
        let id = chat_lambda::ws::authorizer_identity(&ev).unwrap().unwrap();
        assert_eq!(
            (id.user_id.as_str(), id.name.as_deref()),
            ("alice", Some("Alice"))
        );
    }

    #[test]
    fn builders_produce_decodable_events() {
        let api = WsApi::default();
        let conn = WsConn {
            connection_id: "abc=".into(),
            connected_at: 1,
            source_ip: "127.0.0.1".into(),
        };
        let ev = ws_connect(&api, &conn, &[("token".into(), "t".into())], &[], None, 2);
        assert_eq!(ev.request_context.event_type.as_deref(), Some("CONNECT"));
        assert_eq!(ev.query_string_parameters.first("token"), Some("t"));
        let ev = ws_disconnect(&api, &conn, 1001, "Going away", 3);
        assert_eq!(ev.request_context.disconnect_status_code, Some(1001));
        let req = http_request(
            "GET",
            "/rooms/r_1/messages?limit=2&before=abc",
            &[],
            None,
            4,
        );
        assert_eq!(req.uri().path(), "/rooms/r_1/messages");
        use lambda_http::RequestExt;
        assert_eq!(
            req.query_string_parameters_ref()
                .and_then(|q| q.first("limit")),
            Some("2")
        );
    }
}
