//! IAM on the function **processes** (template mode under `cargo lambda
//! watch`): the AWS endpoint they are given (`AWS_ENDPOINT_URL`), which
//! reads each request in the service's own wire protocol, decides it with
//! the calling function's role ([`crate::iam`], the evaluator the in-process
//! guard uses) and forwards what is allowed, unchanged, to the emulator.
//!
//! Who calls: each function process gets its own credentials, its access key
//! id being its name (what Lambda's role session would be), and the SigV4
//! `Authorization` header names it in every request
//! (`Credential=<key>/<date>/<region>/<service>/aws4_request`). A key that is
//! no function's (a developer's own script) is forwarded unchecked, as an
//! administrator's would be.
//!
//! What it asks: both services the adapters use speak JSON 1.0 here
//! (`aws-sdk-sqs` 1.x sends `X-Amz-Target: AmazonSQS.<Op>`, DynamoDB
//! `DynamoDB_20120810.<Op>`), so [`decode`] reads the operation from the
//! target and the resources from the body, as IAM does: the action is the
//! operation's name, on the table (or `…/index/<IndexName>`) or on the queue
//! its `QueueUrl` names; `TransactWriteItems` and `TransactGetItems` need the
//! action of each item on its table (`PutItem`, `UpdateItem`, `DeleteItem`,
//! `ConditionCheckItem`, `GetItem`); `BatchWriteItem` and `BatchGetItem`
//! need themselves on each table they name; SQS's `…Batch` operations need
//! their single-message action.
//!
//! S3 speaks REST: its requests are told apart by the SigV4 scope's service
//! (`s3`) and decoded from the method, the path-style `/<bucket>/<key>` and
//! `x-amz-copy-source` ([`decode_s3`]). A presigned request (a client's
//! upload or download of an attachment) is signed in its query
//! (`X-Amz-Credential`) with the role of the function that signed it, and
//! is checked as that function's.
//!
//! What it answers on a refusal is what the service answers, so the SDK
//! decodes the same error: DynamoDB `400` with
//! `{"__type":"com.amazon.coral.service#AccessDeniedException","Message":…}`,
//! SQS (JSON protocol) `403` with `x-amzn-query-error: AccessDenied;Sender`
//! and the same `__type`, both with AWS's message (`User: <role session> is
//! not authorized to perform: <action> on resource: <arn> because …`).
//! Every refusal is logged and listed by [`crate::iam::RolePolicies::check`],
//! as the in-process guard's are.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::Response;
use axum::Router;
use serde_json::{json, Value};

use crate::enforce::Guard;
use crate::iam::{lock, AccessDenied, LOCAL_ACCOUNT};

/// The SigV4 credential of a request: who signed it, for which region and
/// service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    pub access_key: String,
    pub region: String,
    pub service: String,
}

/// The credential of `Authorization: AWS4-HMAC-SHA256 Credential=…, …`.
/// The signature is not verified (the emulator does not either): the local
/// twin asks only who the caller says it is.
pub fn credential(headers: &HeaderMap) -> Option<Credential> {
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let scope = auth
        .strip_prefix("AWS4-HMAC-SHA256")?
        .split(',')
        .find_map(|p| p.trim().strip_prefix("Credential="))?;
    scope_credential(scope)
}

/// The credential of a presigned request: its `X-Amz-Credential` query
/// parameter (a client sends it, signed by a function's role).
pub fn presigned_credential(query: &str) -> Option<Credential> {
    let params: HashMap<String, String> = serde_urlencoded::from_str(query).ok()?;
    scope_credential(params.get("X-Amz-Credential")?)
}

fn scope_credential(scope: &str) -> Option<Credential> {
    let mut parts = scope.split('/');
    let access_key = parts.next()?.to_owned();
    let _date = parts.next()?;
    let region = parts.next()?.to_owned();
    let service = parts.next()?.to_owned();
    Some(Credential {
        access_key,
        region,
        service,
    })
}

/// Each function's role, by the access key id its process signs with.
#[derive(Default)]
pub struct Roles {
    by_key: HashMap<String, Arc<Guard>>,
}

impl Roles {
    pub fn new(by_key: HashMap<String, Arc<Guard>>) -> Self {
        Self { by_key }
    }

    /// The role of the function whose process signed with `headers`; `None`
    /// for an unsigned request or a key that is no function's.
    pub fn of(&self, headers: &HeaderMap) -> Option<(&Arc<Guard>, Credential)> {
        let c = credential(headers)?;
        self.by_key.get(&c.access_key).map(|g| (g, c))
    }

    /// The role that signed a request, in its header or its presigned query.
    fn of_request(&self, headers: &HeaderMap, query: &str) -> Option<(&Arc<Guard>, Credential)> {
        let c = credential(headers).or_else(|| presigned_credential(query))?;
        self.by_key.get(&c.access_key).map(|g| (g, c))
    }
}

/// The service a request is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    DynamoDb,
    Sqs,
    S3,
    SecretsManager,
    /// SNS's query protocol: a form-encoded body (`Action=Publish&…`).
    Sns,
}

/// One IAM request a call needs: an action on a resource.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Needs {
    pub action: String,
    pub resource: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("no X-Amz-Target: not a JSON 1.0 request")]
    NoTarget,
    #[error("X-Amz-Target {0:?} is no DynamoDB, SQS or Secrets Manager operation")]
    UnknownTarget(String),
    #[error("{op}: {what} missing from the request")]
    Missing { op: String, what: &'static str },
}

fn missing(op: &str, what: &'static str) -> DecodeError {
    DecodeError::Missing {
        op: op.into(),
        what,
    }
}

fn table_arn(region: &str, table: &str) -> String {
    format!("arn:aws:dynamodb:{region}:{LOCAL_ACCOUNT}:table/{table}")
}

/// `https://sqs.<region>.amazonaws.com/<account>/<name>` (or the emulator's
/// `http://host:port/<account>/<name>`) → the queue's ARN.
pub fn queue_arn(region: &str, queue_url: &str) -> Option<String> {
    let path = queue_url.split("://").nth(1)?.split_once('/')?.1;
    let mut segs = path.trim_end_matches('/').split('/');
    let (account, name) = (segs.next()?, segs.next()?);
    if segs.next().is_some() || account.is_empty() || name.is_empty() {
        return None;
    }
    Some(format!("arn:aws:sqs:{region}:{account}:{name}"))
}

/// What the JSON 1.0 request with `target` and `body` asks IAM for.
pub fn decode(
    target: &str,
    body: &Value,
    region: &str,
) -> Result<(Service, Vec<Needs>), DecodeError> {
    let needs = |action: String, resource: String| Needs { action, resource };
    if let Some(op) = target.strip_prefix("DynamoDB_20120810.") {
        let table = |v: &Value| v["TableName"].as_str().map(|t| table_arn(region, t));
        let out = match op {
            "TransactWriteItems" | "TransactGetItems" => {
                let items = body["TransactItems"]
                    .as_array()
                    .ok_or_else(|| missing(op, "TransactItems"))?;
                let mut out = Vec::new();
                for item in items {
                    let (kind, action) = [
                        ("Put", "PutItem"),
                        ("Update", "UpdateItem"),
                        ("Delete", "DeleteItem"),
                        ("ConditionCheck", "ConditionCheckItem"),
                        ("Get", "GetItem"),
                    ]
                    .into_iter()
                    .find(|(k, _)| item.get(k).is_some())
                    .ok_or_else(|| {
                        missing(op, "an item's Put, Update, Delete, ConditionCheck or Get")
                    })?;
                    let resource =
                        table(&item[kind]).ok_or_else(|| missing(op, "an item's TableName"))?;
                    out.push(needs(format!("dynamodb:{action}"), resource));
                }
                out
            }
            "BatchWriteItem" | "BatchGetItem" => body["RequestItems"]
                .as_object()
                .ok_or_else(|| missing(op, "RequestItems"))?
                .keys()
                .map(|t| needs(format!("dynamodb:{op}"), table_arn(region, t)))
                .collect(),
            _ => {
                let mut resource = table(body).unwrap_or_else(|| table_arn(region, "*"));
                if let Some(index) = body["IndexName"].as_str() {
                    resource = format!("{resource}/index/{index}");
                }
                vec![needs(format!("dynamodb:{op}"), resource)]
            }
        };
        return Ok((Service::DynamoDb, out));
    }
    if let Some(op) = target.strip_prefix("AmazonSQS.") {
        let action = op.strip_suffix("Batch").unwrap_or(op);
        let resource = match (body["QueueUrl"].as_str(), body["QueueName"].as_str()) {
            (Some(url), _) => queue_arn(region, url)
                .ok_or_else(|| missing(op, "a QueueUrl of the form …/<account>/<name>"))?,
            (None, Some(name)) => {
                let account = body["QueueOwnerAWSAccountId"]
                    .as_str()
                    .unwrap_or(LOCAL_ACCOUNT);
                format!("arn:aws:sqs:{region}:{account}:{name}")
            }
            (None, None) => format!("arn:aws:sqs:{region}:{LOCAL_ACCOUNT}:*"),
        };
        return Ok((Service::Sqs, vec![needs(format!("sqs:{action}"), resource)]));
    }
    if let Some(op) = target.strip_prefix("secretsmanager.") {
        // `SecretId` is the ARN or the name; IAM authorizes on the ARN.
        let id = body["SecretId"]
            .as_str()
            .ok_or_else(|| missing(op, "SecretId"))?;
        let resource = if id.starts_with("arn:") {
            id.to_owned()
        } else {
            format!("arn:aws:secretsmanager:{region}:{LOCAL_ACCOUNT}:secret:{id}")
        };
        return Ok((
            Service::SecretsManager,
            vec![needs(format!("secretsmanager:{op}"), resource)],
        ));
    }
    Err(DecodeError::UnknownTarget(target.into()))
}

/// What the S3 REST request (path-style: `/<bucket>/<key>`) needs, as S3
/// authorizes it: HeadObject and GetObject `s3:GetObject`, PutObject
/// `s3:PutObject`, CopyObject (`x-amz-copy-source`) `s3:GetObject` on the
/// source and `s3:PutObject` on the target, DeleteObject `s3:DeleteObject`,
/// on the object; CreateBucket and a listing, on the bucket. A HEAD or GET
/// of a missing key needs `s3:ListBucket` too ([`handle`] asks it after
/// the emulator answered 404, as S3 does).
pub fn decode_s3(method: &http::Method, path: &str, headers: &HeaderMap) -> Vec<Needs> {
    let needs = |action: &str, resource: String| Needs {
        action: format!("s3:{action}"),
        resource,
    };
    let path = path.trim_start_matches('/');
    let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
    let object = |k: &str| format!("arn:aws:s3:::{bucket}/{k}");
    let on_bucket = format!("arn:aws:s3:::{bucket}");
    match (method.as_str(), key.is_empty()) {
        ("PUT", true) => vec![needs("CreateBucket", on_bucket)],
        ("GET" | "HEAD", true) => vec![needs("ListBucket", on_bucket)],
        ("HEAD" | "GET", false) => vec![needs("GetObject", object(key))],
        ("DELETE", false) => vec![needs("DeleteObject", object(key))],
        ("PUT", false) => match headers
            .get("x-amz-copy-source")
            .and_then(|v| v.to_str().ok())
        {
            Some(source) => vec![
                needs(
                    "GetObject",
                    format!("arn:aws:s3:::{}", source.trim_start_matches('/')),
                ),
                needs("PutObject", object(key)),
            ],
            None => vec![needs("PutObject", object(key))],
        },
        (m, _) => vec![needs(m, on_bucket)],
    }
}

/// What an SNS request (query protocol, form-encoded) needs: its
/// `Action` on the resource IAM authorizes it on, the platform application
/// of `CreatePlatformEndpoint`, the endpoint of the endpoint operations
/// and the target (or topic) of `Publish`.
pub fn decode_sns(body: &[u8]) -> Result<Vec<Needs>, DecodeError> {
    let form: HashMap<String, String> =
        serde_urlencoded::from_bytes(body).map_err(|_| DecodeError::NoTarget)?;
    let action = form.get("Action").ok_or(DecodeError::NoTarget)?;
    let param = match action.as_str() {
        "CreatePlatformEndpoint" => "PlatformApplicationArn",
        "SetEndpointAttributes" | "GetEndpointAttributes" | "DeleteEndpoint" => "EndpointArn",
        "Publish" if form.contains_key("TopicArn") => "TopicArn",
        "Publish" => "TargetArn",
        other => return Err(DecodeError::UnknownTarget(format!("sns {other}"))),
    };
    let resource = form.get(param).ok_or_else(|| DecodeError::Missing {
        op: action.clone(),
        what: param,
    })?;
    Ok(vec![Needs {
        action: format!("sns:{action}"),
        resource: resource.clone(),
    }])
}

/// AWS's wording of a refusal. SQS writes the action in lower case.
fn denial_message(e: &AccessDenied, service: Service) -> String {
    let action = match service {
        Service::Sqs => e.action.to_ascii_lowercase(),
        Service::DynamoDb | Service::S3 | Service::SecretsManager | Service::Sns => {
            e.action.clone()
        }
    };
    format!(
        "User: {} is not authorized to perform: {action} on resource: {} because {}",
        e.role_session, e.resource, e.why
    )
}

fn json_error(status: StatusCode, body: Value) -> Response {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    r.headers_mut().insert(
        "x-amzn-requestid",
        HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
            .unwrap_or(HeaderValue::from_static("local")),
    );
    r
}

/// The refusal as `service` sends it.
pub fn access_denied(e: &AccessDenied, service: Service) -> Response {
    let message = denial_message(e, service);
    let ty = "com.amazon.coral.service#AccessDeniedException";
    match service {
        Service::S3 => {
            let xml = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>{}</Message></Error>",
                message.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
            );
            let mut r = Response::new(Body::from(xml));
            *r.status_mut() = StatusCode::FORBIDDEN;
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/xml"),
            );
            r
        }
        // SNS (query protocol): an XML ErrorResponse, 403
        // `AuthorizationError`, which the SDK decodes as
        // `AuthorizationErrorException`.
        Service::Sns => {
            let xml = format!(
                "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>Sender</Type><Code>AuthorizationError</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
                message.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;"),
                uuid::Uuid::new_v4()
            );
            let mut r = Response::new(Body::from(xml));
            *r.status_mut() = StatusCode::FORBIDDEN;
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
            r
        }
        Service::DynamoDb => json_error(
            StatusCode::BAD_REQUEST,
            json!({ "__type": ty, "Message": message }),
        ),
        Service::SecretsManager => json_error(
            StatusCode::BAD_REQUEST,
            json!({ "__type": "AccessDeniedException", "Message": message }),
        ),
        Service::Sqs => {
            let mut r = json_error(
                StatusCode::FORBIDDEN,
                json!({ "__type": ty, "message": message }),
            );
            r.headers_mut().insert(
                "x-amzn-query-error",
                HeaderValue::from_static("AccessDenied;Sender"),
            );
            r
        }
    }
}

/// What the proxy checked, in order (its record, for tests that compare
/// it with the in-process guard's table).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    pub function: String,
    pub needs: Needs,
}

struct Proxy {
    roles: Arc<Roles>,
    upstream: String,
    http: reqwest::Client,
    record: Option<Arc<Mutex<Vec<Checked>>>>,
}

/// The proxy, listening; stops with the platform.
pub struct AwsProxy {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl AwsProxy {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for AwsProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves the proxy on a free loopback port, forwarding to `upstream` (the
/// emulator). With `record`, every check is appended to it.
pub async fn serve(
    roles: Arc<Roles>,
    upstream: &str,
    record: Option<Arc<Mutex<Vec<Checked>>>>,
) -> std::io::Result<AwsProxy> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let state = Arc::new(Proxy {
        roles,
        upstream: upstream.trim_end_matches('/').to_owned(),
        http: reqwest::Client::new(),
        record,
    });
    let router = Router::new().fallback(handle).with_state(state);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "the AWS proxy failed");
        }
    });
    Ok(AwsProxy { addr, task })
}

/// Largest request forwarded: an attachment upload (a single PUT carries
/// at most 5 GiB in S3; the chat's own limit is far lower).
const MAX_BODY: usize = 256 * 1024 * 1024;

async fn handle(State(p): State<Arc<Proxy>>, req: Request<Body>) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = to_bytes(body, MAX_BODY).await else {
        return json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"__type": "RequestEntityTooLarge", "message": "request too large"}),
        );
    };
    let query = parts.uri.query().unwrap_or_default().to_owned();
    let caller = p.roles.of_request(&parts.headers, &query);
    if let Some((guard, cred)) = &caller {
        if cred.service == "s3" {
            let needs = decode_s3(&parts.method, parts.uri.path(), &parts.headers);
            if let Some(refusal) = check(&p, guard, needs, Service::S3) {
                return refusal;
            }
        } else if cred.service == "sns" {
            match decode_sns(&body) {
                Ok(needs) => {
                    if let Some(refusal) = check(&p, guard, needs, Service::Sns) {
                        return refusal;
                    }
                }
                Err(e) => {
                    tracing::warn!(function = %guard.policies.function(), error = %e, "AWS proxy: cannot tell what this SNS request needs");
                    return json_error(
                        StatusCode::BAD_REQUEST,
                        json!({"__type": "InvalidAction", "message": e.to_string()}),
                    );
                }
            }
        } else if let Some(refusal) = authorize(&p, guard, cred, &parts.headers, &body) {
            return refusal;
        }
    }
    let (method, path) = (parts.method.clone(), parts.uri.path().to_owned());
    let answer = forward(&p, parts, body).await;
    // S3 tells a missing key (404) only to who may list the bucket.
    if let Some((guard, cred)) = caller {
        let read = method == http::Method::HEAD || method == http::Method::GET;
        if cred.service == "s3" && read && answer.status() == StatusCode::NOT_FOUND {
            let bucket = path
                .trim_start_matches('/')
                .split('/')
                .next()
                .unwrap_or_default();
            let needs = vec![Needs {
                action: "s3:ListBucket".into(),
                resource: format!("arn:aws:s3:::{bucket}"),
            }];
            if let Some(refusal) = check(&p, guard, needs, Service::S3) {
                return refusal;
            }
        }
    }
    answer
}

/// Records and checks each of `needs`; the first refusal, answered as
/// `service` answers it.
fn check(p: &Proxy, guard: &Guard, needs: Vec<Needs>, service: Service) -> Option<Response> {
    for n in needs {
        if let Some(r) = &p.record {
            lock(r).push(Checked {
                function: guard.policies.function().to_owned(),
                needs: n.clone(),
            });
        }
        if let Err(e) = guard.policies.check(&n.action, &n.resource) {
            return Some(access_denied(&e, service));
        }
    }
    None
}

/// The service's answer when the caller's role refuses any of what the
/// request needs.
fn authorize(
    p: &Proxy,
    guard: &Guard,
    cred: &Credential,
    headers: &HeaderMap,
    body: &Bytes,
) -> Option<Response> {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .ok_or(DecodeError::NoTarget);
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let decoded = target.and_then(|t| decode(t, &value, &cred.region));
    let (service, needs) = match decoded {
        Ok(d) => d,
        Err(e) => {
            // Nothing to ask IAM: a request the adapters never send. Refuse
            // it rather than let it through unchecked.
            tracing::warn!(function = %guard.policies.function(), error = %e, "AWS proxy: cannot tell what this request needs");
            return Some(json_error(
                StatusCode::BAD_REQUEST,
                json!({"__type": "com.amazon.coral.service#UnknownOperationException", "message": e.to_string()}),
            ));
        }
    };
    check(p, guard, needs, service)
}

async fn forward(p: &Proxy, parts: http::request::Parts, body: Bytes) -> Response {
    let path = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let mut req = p
        .http
        .request(parts.method.clone(), format!("{}{path}", p.upstream));
    for (k, v) in &parts.headers {
        if k != header::HOST && k != header::CONTENT_LENGTH {
            req = req.header(k, v);
        }
    }
    let resp = match req.body(body).send().await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "AWS proxy: the emulator did not answer");
            return json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"__type": "ServiceUnavailable", "message": e.to_string()}),
            );
        }
    };
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.unwrap_or_default();
    let mut out = Response::new(Body::from(bytes));
    *out.status_mut() = status;
    // A HEAD answer has no body: its Content-Length is the object's size
    // (S3's HeadObject), which the body cannot recompute.
    let head = parts.method == http::Method::HEAD;
    for (k, v) in &headers {
        let length = k == header::CONTENT_LENGTH && !head;
        if k != header::TRANSFER_ENCODING && !length && k != header::CONNECTION {
            out.headers_mut().append(k, v.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: &str = "us-east-1";
    const TABLE: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/chat";
    const QUEUE: &str = "http://127.0.0.1:5000/123456789012/chat-messages";
    const QUEUE_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:chat-messages";

    fn n(action: &str, resource: &str) -> Needs {
        Needs {
            action: action.into(),
            resource: resource.into(),
        }
    }

    fn dynamo(op: &str, body: Value) -> Vec<Needs> {
        let (s, needs) = decode(&format!("DynamoDB_20120810.{op}"), &body, R).unwrap();
        assert_eq!(s, Service::DynamoDb);
        needs
    }

    fn sqs(op: &str, body: Value) -> Vec<Needs> {
        let (s, needs) = decode(&format!("AmazonSQS.{op}"), &body, R).unwrap();
        assert_eq!(s, Service::Sqs);
        needs
    }

    #[test]
    fn the_sigv4_credential_names_the_caller_region_and_service() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=chat-rooms/20261202/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"),
        );
        assert_eq!(
            credential(&h),
            Some(Credential {
                access_key: "chat-rooms".into(),
                region: "us-east-1".into(),
                service: "dynamodb".into()
            })
        );
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        assert_eq!(credential(&h), None);
        assert_eq!(credential(&HeaderMap::new()), None);
    }

    #[test]
    fn single_item_operations_need_themselves_on_the_table_or_the_index() {
        for op in ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"] {
            assert_eq!(
                dynamo(op, json!({"TableName": "chat", "Key": {}})),
                vec![n(&format!("dynamodb:{op}"), TABLE)],
                "{op}"
            );
        }
        assert_eq!(
            dynamo("Query", json!({"TableName": "chat", "IndexName": "GSI1"})),
            vec![n("dynamodb:Query", &format!("{TABLE}/index/GSI1"))]
        );
    }

    #[test]
    fn a_transaction_needs_each_items_action_on_its_table() {
        let body = json!({"TransactItems": [
            {"ConditionCheck": {"TableName": "chat", "Key": {}, "ConditionExpression": "x"}},
            {"Put": {"TableName": "chat", "Item": {}}},
            {"Update": {"TableName": "other", "Key": {}}},
            {"Delete": {"TableName": "chat", "Key": {}}}
        ]});
        assert_eq!(
            dynamo("TransactWriteItems", body),
            vec![
                n("dynamodb:ConditionCheckItem", TABLE),
                n("dynamodb:PutItem", TABLE),
                n(
                    "dynamodb:UpdateItem",
                    "arn:aws:dynamodb:us-east-1:123456789012:table/other"
                ),
                n("dynamodb:DeleteItem", TABLE),
            ]
        );
        assert_eq!(
            dynamo(
                "TransactGetItems",
                json!({"TransactItems": [{"Get": {"TableName": "chat", "Key": {}}}]})
            ),
            vec![n("dynamodb:GetItem", TABLE)]
        );
        assert!(matches!(
            decode(
                "DynamoDB_20120810.TransactWriteItems",
                &json!({"TransactItems": [{"Put": {"Item": {}}}]}),
                R
            ),
            Err(DecodeError::Missing { .. })
        ));
    }

    #[test]
    fn batches_need_themselves_on_every_table_they_name() {
        assert_eq!(
            dynamo(
                "BatchWriteItem",
                json!({"RequestItems": {"chat": [{"PutRequest": {"Item": {}}}]}})
            ),
            vec![n("dynamodb:BatchWriteItem", TABLE)]
        );
        assert_eq!(
            dynamo(
                "BatchGetItem",
                json!({"RequestItems": {"chat": {"Keys": []}, "b": {"Keys": []}}})
            ),
            vec![
                n(
                    "dynamodb:BatchGetItem",
                    "arn:aws:dynamodb:us-east-1:123456789012:table/b"
                ),
                n("dynamodb:BatchGetItem", TABLE)
            ]
        );
    }

    #[test]
    fn sqs_operations_need_their_single_message_action_on_the_queue_of_the_url() {
        for (op, action) in [
            ("SendMessage", "sqs:SendMessage"),
            ("SendMessageBatch", "sqs:SendMessage"),
            ("ReceiveMessage", "sqs:ReceiveMessage"),
            ("DeleteMessage", "sqs:DeleteMessage"),
            ("DeleteMessageBatch", "sqs:DeleteMessage"),
            (
                "ChangeMessageVisibilityBatch",
                "sqs:ChangeMessageVisibility",
            ),
            ("GetQueueAttributes", "sqs:GetQueueAttributes"),
        ] {
            assert_eq!(
                sqs(op, json!({"QueueUrl": QUEUE})),
                vec![n(action, QUEUE_ARN)],
                "{op}"
            );
        }
        assert_eq!(
            sqs("GetQueueUrl", json!({"QueueName": "chat-messages"})),
            vec![n("sqs:GetQueueUrl", QUEUE_ARN)]
        );
        assert_eq!(
            queue_arn(R, "https://sqs.us-east-1.amazonaws.com/111122223333/q"),
            Some("arn:aws:sqs:us-east-1:111122223333:q".into())
        );
        assert_eq!(queue_arn(R, "http://127.0.0.1:5000/q"), None);
    }

    #[test]
    fn a_secret_read_needs_get_secret_value_on_the_secrets_arn() {
        let arn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:VapidKeys";
        assert_eq!(
            decode(
                "secretsmanager.GetSecretValue",
                &json!({"SecretId": arn}),
                R
            ),
            Ok((
                Service::SecretsManager,
                vec![n("secretsmanager:GetSecretValue", arn)]
            ))
        );
        // By name: the ARN of that name in this account and region.
        let (_, needs) = decode(
            "secretsmanager.GetSecretValue",
            &json!({"SecretId": "VapidKeys"}),
            R,
        )
        .unwrap();
        assert_eq!(
            needs[0].resource,
            format!("arn:aws:secretsmanager:{R}:{LOCAL_ACCOUNT}:secret:VapidKeys")
        );
        assert!(decode("secretsmanager.GetSecretValue", &json!({}), R).is_err());
    }

    #[test]
    fn sns_calls_need_their_action_on_the_application_endpoint_or_target() {
        let app = "arn:aws:sns:us-east-1:000000000000:app/GCM/chat-fcm";
        let ep = "arn:aws:sns:us-east-1:000000000000:endpoint/GCM/chat-fcm/1";
        let form = |pairs: &[(&str, &str)]| serde_urlencoded::to_string(pairs).unwrap();
        assert_eq!(
            decode_sns(
                form(&[
                    ("Action", "CreatePlatformEndpoint"),
                    ("PlatformApplicationArn", app),
                    ("Token", "t")
                ])
                .as_bytes()
            ),
            Ok(vec![n("sns:CreatePlatformEndpoint", app)])
        );
        for op in [
            "SetEndpointAttributes",
            "DeleteEndpoint",
            "GetEndpointAttributes",
        ] {
            assert_eq!(
                decode_sns(form(&[("Action", op), ("EndpointArn", ep)]).as_bytes()),
                Ok(vec![n(&format!("sns:{op}"), ep)])
            );
        }
        assert_eq!(
            decode_sns(
                form(&[("Action", "Publish"), ("TargetArn", ep), ("Message", "{}")]).as_bytes()
            ),
            Ok(vec![n("sns:Publish", ep)])
        );
        assert!(decode_sns(form(&[("Action", "Publish")]).as_bytes()).is_err());
        assert!(decode_sns(form(&[("Action", "ListTopics")]).as_bytes()).is_err());
    }

    #[test]
    fn an_sns_refusal_is_an_xml_authorization_error_403() {
        let e = AccessDenied {
            function: "chat-persist".into(),
            role_session: "PersistRole/chat-persist".into(),
            action: "sns:Publish".into(),
            resource: "arn:aws:sns:us-east-1:000000000000:endpoint/GCM/a/1".into(),
            why: "no identity-based policy allows the sns:Publish action",
        };
        let r = access_denied(&e, Service::Sns);
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }

    #[test]
    fn other_targets_are_not_decoded() {
        assert_eq!(
            decode("Kinesis_20131202.PutRecord", &json!({}), R),
            Err(DecodeError::UnknownTarget(
                "Kinesis_20131202.PutRecord".into()
            ))
        );
    }

    fn denied(action: &str, resource: &str) -> AccessDenied {
        AccessDenied {
            function: "chat-rooms".into(),
            role_session: "arn:aws:sts::123456789012:assumed-role/R/chat-rooms".into(),
            action: action.into(),
            resource: resource.into(),
            why: "no identity-based policy allows the action",
        }
    }

    async fn body_of(r: Response) -> Value {
        serde_json::from_slice(&to_bytes(r.into_body(), 1 << 20).await.unwrap()).unwrap()
    }

    #[tokio::test]
    async fn a_refusal_is_answered_in_each_services_own_shape() {
        let r = access_denied(&denied("dynamodb:Query", TABLE), Service::DynamoDb);
        assert_eq!(r.status(), 400);
        let b = body_of(r).await;
        assert_eq!(
            b["__type"],
            "com.amazon.coral.service#AccessDeniedException"
        );
        assert_eq!(
            b["Message"],
            format!("User: arn:aws:sts::123456789012:assumed-role/R/chat-rooms is not authorized to perform: dynamodb:Query on resource: {TABLE} because no identity-based policy allows the action")
        );
        let r = access_denied(&denied("sqs:SendMessage", QUEUE_ARN), Service::Sqs);
        assert_eq!(r.status(), 403);
        assert_eq!(r.headers()["x-amzn-query-error"], "AccessDenied;Sender");
        let b = body_of(r).await;
        assert!(
            b["message"]
                .as_str()
                .unwrap()
                .contains("perform: sqs:sendmessage on resource"),
            "{b}"
        );
    }
}
