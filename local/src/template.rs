//! The platform as a synthesized CloudFormation template describes it
//! (`chat-local --template cdk.out/<Stack>.template.json`).
//!
//! [`Stack::parse`] reads what the local twin runs from the template: the
//! WebSocket API's stage, route selection expression, routes and REQUEST
//! authorizer (with its identity source); the HTTP API's routes and JWT
//! authorizer; each function's environment, timeout, memory and the
//! identity policies of its execution role; the SQS event source mapping
//! and its queue's visibility timeout and redrive policy; the table's keys,
//! GSIs and TTL attribute. A template it cannot run (an intrinsic it does
//! not resolve, a route selection expression other than
//! `$request.body.<field>`, a table the adapters cannot use, a function it
//! does not host) fails with the resource and the reason.
//!
//! Functions are told apart by their execution role, whose description
//! infra writes as `Execution role of <binary>` (`infra/lib/rust-function.ts`).
//! [`Stack::resolve`] turns `Ref`, `Fn::GetAtt`, `Fn::Join` and `Fn::Sub` into
//! the local equivalents ([`Locals`]): the table, the queue, the API and its
//! `@connections` endpoint of this machine.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::cors::Cors;
use crate::iam::LOCAL_ACCOUNT;
use crate::throttle::StageLimits;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a CloudFormation template: at {at}: {reason}")]
    Json {
        path: String,
        at: String,
        reason: String,
    },
    /// The template describes something the local twin cannot run.
    #[error("cannot run this template: {resource}: {reason}")]
    Unsupported { resource: String, reason: String },
}

/// Why `chat-local --stack` could not get the stack's template.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("no cdk.json in {start} or any directory above it: give the CDK app's directory (--cdk-app DIR)")]
    NoApp { start: String },
    #[error("cannot run `{command}` in {dir}: {source}")]
    Spawn {
        command: String,
        dir: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{command}` failed ({status}):\n{stderr}")]
    Failed {
        command: String,
        status: std::process::ExitStatus,
        stderr: String,
    },
    #[error("the CDK app has no stack {stack:?}; its stacks: {}", if available.is_empty() { "none".to_owned() } else { available.join(", ") })]
    NoSuchStack {
        stack: String,
        available: Vec<String>,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Template(#[from] TemplateError),
}

/// The directory of the CDK app: `dir` when given, else the nearest
/// directory from the current one up that holds a `cdk.json`.
pub fn cdk_app_dir(dir: Option<&Path>) -> Result<PathBuf, SynthError> {
    if let Some(d) = dir {
        return Ok(d.to_owned());
    }
    let start = std::env::current_dir()?;
    start
        .ancestors()
        .find(|d| d.join("cdk.json").is_file())
        .map(Path::to_owned)
        .ok_or_else(|| SynthError::NoApp {
            start: start.display().to_string(),
        })
}

/// Synthesizes the CDK app in `app_dir` with bundling skipped
/// (`SKIP_BUNDLING=1 npx cdk synth -q -o <tmp>`) and reads stack `name`
/// from it. The synth's stderr is the error if it fails; a name the app
/// does not have lists those it has.
pub fn synth(app_dir: &Path, name: &str) -> Result<Stack, SynthError> {
    synth_with(app_dir, name, &["npx", "cdk", "synth", "-q", "-o"])
}

/// [`synth`] with `command` (the output directory appended) as the synth.
pub fn synth_with(app_dir: &Path, name: &str, command: &[&str]) -> Result<Stack, SynthError> {
    let out = std::env::temp_dir().join(format!("chat-local-synth-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&out)?;
    let result = synth_into(app_dir, name, command, &out);
    if let Err(e) = std::fs::remove_dir_all(&out) {
        tracing::debug!(dir = %out.display(), error = %e, "could not remove the synth's output");
    }
    result
}

fn synth_into(
    app_dir: &Path,
    name: &str,
    command: &[&str],
    out: &Path,
) -> Result<Stack, SynthError> {
    let shown = format!("{} {}", command.join(" "), out.display());
    let (program, args) = command.split_first().ok_or_else(|| SynthError::Spawn {
        command: shown.clone(),
        dir: app_dir.display().to_string(),
        source: std::io::Error::other("empty command"),
    })?;
    tracing::info!(dir = %app_dir.display(), command = %shown, "synthesizing the CDK app");
    let output = std::process::Command::new(program)
        .args(args)
        .arg(out)
        .current_dir(app_dir)
        .env("SKIP_BUNDLING", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|source| SynthError::Spawn {
            command: shown.clone(),
            dir: app_dir.display().to_string(),
            source,
        })?;
    if !output.status.success() {
        return Err(SynthError::Failed {
            command: shown,
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr)
                .trim_end()
                .to_owned(),
        });
    }
    let path = out.join(format!("{name}.template.json"));
    if !path.is_file() {
        let mut available: Vec<String> = std::fs::read_dir(out)?
            .filter_map(|e| {
                let file = e.ok()?.file_name().into_string().ok()?;
                file.strip_suffix(".template.json").map(str::to_owned)
            })
            .collect();
        available.sort();
        return Err(SynthError::NoSuchStack {
            stack: name.to_owned(),
            available,
        });
    }
    Ok(Stack::load(&path.to_string_lossy())?)
}

fn unsupported(resource: &str, reason: impl Into<String>) -> TemplateError {
    TemplateError::Unsupported {
        resource: resource.into(),
        reason: reason.into(),
    }
}

#[derive(Deserialize)]
struct RawTemplate {
    #[serde(rename = "Resources")]
    resources: BTreeMap<String, RawResource>,
}

#[derive(Clone, Debug, Deserialize)]
struct RawResource {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(rename = "Properties", default)]
    properties: Value,
}

/// Where a REQUEST authorizer finds its identity: API Gateway refuses the
/// connection with 401, without invoking the authorizer, when one is missing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdentitySource {
    Query(String),
    Header(String),
}

#[derive(Clone, Debug)]
pub struct WsAuthorizer {
    pub logical_id: String,
    pub function: String,
    pub identity_source: Vec<IdentitySource>,
}

/// The WebSocket API: route key → function.
#[derive(Clone, Debug)]
pub struct WsApi {
    pub logical_id: String,
    pub stage: String,
    /// `<field>` of `$request.body.<field>`.
    pub selection_field: String,
    pub routes: BTreeMap<String, String>,
    /// The authorizer of `$connect`, if it has one.
    pub authorizer: Option<WsAuthorizer>,
    /// Its stage's throttling.
    pub throttle: StageLimits,
}

/// The HTTP API's JWT authorizer (`JwtConfiguration`), unresolved: see
/// [`Stack::jwt`].
#[derive(Clone, Debug)]
pub struct HttpJwtAuthorizer {
    pub logical_id: String,
    issuer: Value,
    audience: Vec<Value>,
}

/// What the HTTP API's JWT authorizer accepts, resolved: a token's `iss`
/// must be `issuer` and its `aud` one of `audience`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwtConfig {
    pub issuer: String,
    pub audience: Vec<String>,
}

/// One HTTP API route, `GET /rooms/{roomId}/messages`.
#[derive(Clone, Debug)]
pub struct HttpRoute {
    pub method: String,
    pub path: String,
    pub function: String,
    /// What API Gateway invokes the function from (`aws:SourceArn`).
    pub source_arn: String,
    /// Behind the JWT authorizer (mapped to the local token verifier).
    pub jwt: bool,
}

impl HttpRoute {
    /// Its route key, `GET /rooms/{roomId}/messages`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// Whether this route serves `method` `path` (`{param}` matches one
    /// segment, `{proxy+}` the rest, `ANY` every method).
    pub fn matches(&self, method: &str, path: &str) -> bool {
        if self.method != "ANY" && !self.method.eq_ignore_ascii_case(method) {
            return false;
        }
        let want: Vec<&str> = self.path.trim_matches('/').split('/').collect();
        let got: Vec<&str> = path.trim_matches('/').split('/').collect();
        for (i, w) in want.iter().enumerate() {
            if w.starts_with('{') && w.ends_with("+}") {
                return got.len() > i;
            }
            match got.get(i) {
                Some(g) if w.starts_with('{') && w.ends_with('}') && !g.is_empty() => {}
                Some(g) if g == w => {}
                _ => return false,
            }
        }
        want.len() == got.len()
    }
}

#[derive(Clone, Debug)]
pub struct FunctionDef {
    pub name: String,
    pub logical_id: String,
    pub role: String,
    pub timeout: Duration,
    pub memory_mb: u64,
    /// Unresolved: see [`Stack::environment`].
    env: BTreeMap<String, Value>,
    /// `(policy name, unresolved document)`.
    policies: Vec<(String, Value)>,
}

#[derive(Clone, Debug)]
pub struct QueueDef {
    pub logical_id: String,
    pub visibility_timeout: Duration,
    pub max_receive_count: Option<u32>,
    /// The function the event source mapping invokes.
    pub function: String,
    pub batch_size: usize,
    pub batch_window: Duration,
    pub max_concurrency: Option<usize>,
    pub report_batch_item_failures: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableDef {
    pub logical_id: String,
    pub partition_key: String,
    pub sort_key: Option<String>,
    /// `(index name, partition key, sort key)`.
    pub gsis: Vec<(String, String, Option<String>)>,
    pub ttl_attribute: Option<String>,
}

/// What the local platform runs, read from a synthesized template.
#[derive(Clone, Debug)]
pub struct Stack {
    pub region: String,
    pub ws: WsApi,
    pub http: Vec<HttpRoute>,
    /// The JWT authorizer of the HTTP API's routes (at most one).
    pub http_jwt: Option<HttpJwtAuthorizer>,
    /// The HTTP API's `CorsConfiguration`.
    pub http_cors: Option<Cors>,
    /// The HTTP API's stage throttling.
    pub http_throttle: StageLimits,
    pub functions: BTreeMap<String, FunctionDef>,
    pub queue: QueueDef,
    pub table: TableDef,
    /// `(function, unresolved AWS::Lambda::Permission properties)`.
    permissions: Vec<(String, Value)>,
    resources: BTreeMap<String, RawResource>,
}

/// This machine's equivalents of the template's resources.
#[derive(Clone, Debug)]
pub struct Locals {
    pub table_name: String,
    pub queue_url: String,
    pub queue_name: String,
    /// The WebSocket API's id (what `Ref` to it gives).
    pub api_id: String,
    /// `http://host:port`, where both APIs and `@connections` listen.
    pub base_url: String,
    /// The local Redis (`host`, `port`) standing for the stack's cache
    /// (`CHAT_REDIS_URL` of the aws backend); none: the cache's endpoint
    /// resolves to a port nothing listens on, so a function that used it
    /// would find the cache down, which the platform lives with.
    pub redis: Option<(String, u16)>,
    /// The attachments bucket (what `Ref` to it gives; its ARN's name).
    pub bucket_name: String,
}

impl Locals {
    /// `(host, port)` of a `redis://` or `rediss://` URL.
    pub fn redis_endpoint(url: &str) -> Option<(String, u16)> {
        let u = reqwest::Url::parse(url).ok()?;
        if !matches!(u.scheme(), "redis" | "rediss") {
            return None;
        }
        Some((u.host_str()?.to_owned(), u.port().unwrap_or(6379)))
    }
}

impl Default for Locals {
    /// What `chat-local --template` gives the resources by default, on
    /// 127.0.0.1:8080 (for what needs the template but no running platform,
    /// such as `chat-local token`).
    fn default() -> Self {
        Self {
            table_name: "chat-local".into(),
            queue_url: format!("http://127.0.0.1:8080/{LOCAL_ACCOUNT}/chat-local-messages"),
            queue_name: "chat-local-messages".into(),
            api_id: "local".into(),
            base_url: "http://127.0.0.1:8080".into(),
            redis: None,
            bucket_name: "chat-local-attachments".into(),
        }
    }
}

const DEFAULT_REGION: &str = "us-east-1";

fn as_str<'a>(v: &'a Value, resource: &str, what: &str) -> Result<&'a str, TemplateError> {
    v.as_str()
        .ok_or_else(|| unsupported(resource, format!("{what} is not a plain string: {v}")))
}

/// `{"Ref": id}` or `{"Fn::GetAtt": [id, attr]}` → the logical id.
fn referenced(v: &Value) -> Option<&str> {
    if let Some(r) = v.get("Ref").and_then(Value::as_str) {
        return Some(r);
    }
    v.get("Fn::GetAtt")
        .and_then(|a| a.get(0))
        .and_then(Value::as_str)
}

/// The logical id an integration URI or `Target` (`integrations/<id>`) names.
fn refs_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            if let Some(id) = referenced(v) {
                out.push(id.to_owned());
            }
            for x in o.values() {
                refs_in(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs_in(x, out)),
        _ => {}
    }
}

fn secs(v: Option<&Value>, default: u64) -> Duration {
    Duration::from_secs(
        v.and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
            .unwrap_or(default),
    )
}

impl Stack {
    pub fn load(path: &str) -> Result<Self, TemplateError> {
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Io {
            path: path.into(),
            source,
        })?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &str, text: &str) -> Result<Self, TemplateError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let raw: RawTemplate =
            serde_path_to_error::deserialize(&mut de).map_err(|e| TemplateError::Json {
                path: path.into(),
                at: e.path().to_string(),
                reason: e.inner().to_string(),
            })?;
        let resources = raw.resources;
        let of_type = |t: &'static str| {
            resources
                .iter()
                .filter(move |(_, r)| r.kind == t)
                .map(|(id, r)| (id.as_str(), r))
        };
        let region = of_type("AWS::ApiGatewayV2::Integration")
            .filter_map(|(_, r)| {
                let mut s = String::new();
                flatten_literals(&r.properties["IntegrationUri"], &mut s);
                s.split("arn:aws:apigateway:")
                    .nth(1)
                    .and_then(|rest| rest.split(':').next())
                    .map(str::to_owned)
            })
            .next()
            .unwrap_or_else(|| DEFAULT_REGION.to_owned());

        // Functions: ours run a custom runtime and have a role infra named.
        let mut functions = BTreeMap::new();
        let mut by_logical = BTreeMap::new();
        for (id, r) in of_type("AWS::Lambda::Function") {
            let p = &r.properties;
            if !p["Runtime"]
                .as_str()
                .is_some_and(|rt| rt.starts_with("provided"))
            {
                continue;
            }
            let role = referenced(&p["Role"])
                .ok_or_else(|| unsupported(id, "its Role is not a role of this template"))?;
            let role_res = resources.get(role).ok_or_else(|| {
                unsupported(id, format!("its role {role} is not in the template"))
            })?;
            let name = role_res.properties["Description"]
                .as_str()
                .and_then(|d| d.strip_prefix("Execution role of "))
                .ok_or_else(|| {
                    unsupported(
                        role,
                        "no description `Execution role of <binary>`: which function is this?",
                    )
                })?
                .to_owned();
            if !crate::functions::ALL.iter().any(|f| f.name == name) {
                return Err(unsupported(
                    id,
                    format!("{name} is not a function this platform hosts"),
                ));
            }
            if role_res.properties.get("ManagedPolicyArns").is_some() {
                return Err(unsupported(
                    role,
                    "managed policies (ManagedPolicyArns) cannot be read locally",
                ));
            }
            let mut policies = Vec::new();
            if let Some(inline) = role_res.properties["Policies"].as_array() {
                for p in inline {
                    let n = p["PolicyName"].as_str().unwrap_or(role).to_owned();
                    policies.push((n, p["PolicyDocument"].clone()));
                }
            }
            for (pid, pr) in resources.iter().filter(|(_, r)| {
                r.kind == "AWS::IAM::Policy" || r.kind == "AWS::IAM::ManagedPolicy"
            }) {
                let attached = pr.properties["Roles"]
                    .as_array()
                    .is_some_and(|roles| roles.iter().any(|x| referenced(x) == Some(role)));
                if attached {
                    policies.push((pid.clone(), pr.properties["PolicyDocument"].clone()));
                }
            }
            let env = p["Environment"]["Variables"]
                .as_object()
                .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default();
            by_logical.insert(id.to_owned(), name.clone());
            functions.insert(
                name.clone(),
                FunctionDef {
                    name,
                    logical_id: id.to_owned(),
                    role: role.to_owned(),
                    timeout: secs(p.get("Timeout"), 3),
                    memory_mb: p["MemorySize"].as_u64().unwrap_or(128),
                    env,
                    policies,
                },
            );
        }
        // The function an integration or authorizer URI names.
        let function_in = |resource: &str, v: &Value| -> Result<String, TemplateError> {
            let mut ids = Vec::new();
            refs_in(v, &mut ids);
            ids.iter()
                .find_map(|i| by_logical.get(i).cloned())
                .ok_or_else(|| {
                    unsupported(resource, "its target is not a function of this platform")
                })
        };

        // Who may invoke each function (AWS::Lambda::Permission).
        let mut permissions: Vec<(String, Value)> = Vec::new();
        for (id, r) in of_type("AWS::Lambda::Permission") {
            let mut ids = Vec::new();
            refs_in(&r.properties["FunctionName"], &mut ids);
            if let Some(name) = ids.iter().find_map(|i| by_logical.get(i)) {
                permissions.push((name.clone(), r.properties.clone()));
            } else {
                tracing::debug!(
                    permission = id,
                    "a permission of a function not hosted here"
                );
            }
        }

        // The WebSocket API.
        let mut ws_apis = of_type("AWS::ApiGatewayV2::Api")
            .filter(|(_, r)| r.properties["ProtocolType"] == "WEBSOCKET");
        let (api_id, api) = ws_apis
            .next()
            .ok_or_else(|| unsupported("Resources", "no WebSocket API (AWS::ApiGatewayV2::Api)"))?;
        if ws_apis.next().is_some() {
            return Err(unsupported("Resources", "more than one WebSocket API"));
        }
        let expr = as_str(
            &api.properties["RouteSelectionExpression"],
            api_id,
            "RouteSelectionExpression",
        )?;
        let selection_field = expr
            .strip_prefix("$request.body.")
            .filter(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .ok_or_else(|| {
                unsupported(
                    api_id,
                    format!("route selection expression {expr:?}: only $request.body.<field> is supported"),
                )
            })?
            .to_owned();
        let on_api = |r: &RawResource, api: &str| referenced(&r.properties["ApiId"]) == Some(api);
        let (stage_id, stage_res) = of_type("AWS::ApiGatewayV2::Stage")
            .find(|(_, r)| on_api(r, api_id))
            .ok_or_else(|| unsupported(api_id, "no stage"))?;
        let stage = as_str(&stage_res.properties["StageName"], stage_id, "StageName")?.to_owned();
        let ws_throttle = StageLimits::from_stage(&stage_res.properties);
        let integration_function = |target: &Value, route: &str| -> Result<String, TemplateError> {
            let mut ids = Vec::new();
            refs_in(target, &mut ids);
            let integ = ids
                .iter()
                .find_map(|i| {
                    resources
                        .get(i)
                        .filter(|r| r.kind == "AWS::ApiGatewayV2::Integration")
                })
                .ok_or_else(|| unsupported(route, "its Target is not an integration"))?;
            if integ.properties["IntegrationType"] != "AWS_PROXY" {
                return Err(unsupported(
                    route,
                    "only AWS_PROXY (Lambda proxy) integrations run locally",
                ));
            }
            function_in(route, &integ.properties["IntegrationUri"])
        };
        let mut routes = BTreeMap::new();
        let mut authorizer = None;
        for (id, r) in of_type("AWS::ApiGatewayV2::Route").filter(|(_, r)| on_api(r, api_id)) {
            let key = as_str(&r.properties["RouteKey"], id, "RouteKey")?.to_owned();
            let function = integration_function(&r.properties["Target"], id)?;
            match r.properties["AuthorizationType"].as_str() {
                None | Some("NONE") => {}
                Some("CUSTOM") if key == "$connect" => {
                    let auth_id = referenced(&r.properties["AuthorizerId"]).ok_or_else(|| {
                        unsupported(id, "CUSTOM authorization without an authorizer")
                    })?;
                    let a = resources.get(auth_id).ok_or_else(|| {
                        unsupported(id, format!("authorizer {auth_id} is not in the template"))
                    })?;
                    if a.properties["AuthorizerType"] != "REQUEST" {
                        return Err(unsupported(auth_id, "only REQUEST authorizers run locally"));
                    }
                    let identity_source = a.properties["IdentitySource"]
                        .as_array()
                        .map(|s| {
                            s.iter()
                                .filter_map(Value::as_str)
                                .map(|s| identity_source(auth_id, s))
                                .collect::<Result<Vec<_>, _>>()
                        })
                        .transpose()?
                        .unwrap_or_default();
                    authorizer = Some(WsAuthorizer {
                        logical_id: auth_id.to_owned(),
                        function: function_in(auth_id, &a.properties["AuthorizerUri"])?,
                        identity_source,
                    });
                }
                Some(other) => {
                    return Err(unsupported(
                        id,
                        format!("authorization {other} on route {key}"),
                    ))
                }
            }
            routes.insert(key, function);
        }

        // The HTTP API.
        let mut http = Vec::new();
        let mut http_jwt: Option<HttpJwtAuthorizer> = None;
        let mut http_cors = None;
        let mut http_throttle = StageLimits::default();
        let mut http_apis = of_type("AWS::ApiGatewayV2::Api")
            .filter(|(_, r)| r.properties["ProtocolType"] == "HTTP")
            .peekable();
        if let (Some(_), Some((second, _))) = (http_apis.next(), http_apis.peek()) {
            return Err(unsupported(second, "more than one HTTP API"));
        }
        for (api, api_res) in of_type("AWS::ApiGatewayV2::Api")
            .filter(|(_, r)| r.properties["ProtocolType"] == "HTTP")
        {
            http_cors = Cors::from_api(&api_res.properties);
            let http_stage_res = of_type("AWS::ApiGatewayV2::Stage").find(|(_, r)| on_api(r, api));
            if let Some((_, r)) = http_stage_res {
                http_throttle = StageLimits::from_stage(&r.properties);
            }
            let http_stage = http_stage_res
                .and_then(|(_, r)| r.properties["StageName"].as_str())
                .unwrap_or("$default")
                .to_owned();
            for (id, r) in of_type("AWS::ApiGatewayV2::Route").filter(|(_, r)| on_api(r, api)) {
                let key = as_str(&r.properties["RouteKey"], id, "RouteKey")?;
                let (method, path) = key.split_once(' ').ok_or_else(|| {
                    unsupported(
                        id,
                        format!("route key {key:?}: `$default` routes are not supported"),
                    )
                })?;
                let jwt = match r.properties["AuthorizationType"].as_str() {
                    None | Some("NONE") => false,
                    Some("JWT") => {
                        let auth_id =
                            referenced(&r.properties["AuthorizerId"]).ok_or_else(|| {
                                unsupported(id, "JWT authorization without an authorizer")
                            })?;
                        match &http_jwt {
                            Some(a) if a.logical_id != auth_id => {
                                return Err(unsupported(
                                    auth_id,
                                    format!(
                                    "a second JWT authorizer (besides {}): only one runs locally",
                                    a.logical_id
                                ),
                                ))
                            }
                            Some(_) => {}
                            None => {
                                let a = resources.get(auth_id).ok_or_else(|| {
                                    unsupported(
                                        id,
                                        format!("authorizer {auth_id} is not in the template"),
                                    )
                                })?;
                                let c = &a.properties["JwtConfiguration"];
                                if a.properties["AuthorizerType"] != "JWT" || c["Issuer"].is_null()
                                {
                                    return Err(unsupported(
                                        auth_id,
                                        "a JWT route's authorizer has no JwtConfiguration.Issuer",
                                    ));
                                }
                                http_jwt = Some(HttpJwtAuthorizer {
                                    logical_id: auth_id.to_owned(),
                                    issuer: c["Issuer"].clone(),
                                    audience: c["Audience"].as_array().cloned().unwrap_or_default(),
                                });
                            }
                        }
                        true
                    }
                    Some(other) => return Err(unsupported(id, format!("authorization {other}"))),
                };
                http.push(HttpRoute {
                    // A `Ref` to the HTTP API resolves to its logical id.
                    source_arn: format!(
                        "arn:aws:execute-api:{region}:{LOCAL_ACCOUNT}:{api}/{http_stage}/{method}{path}"
                    ),
                    method: method.to_owned(),
                    path: path.to_owned(),
                    function: integration_function(&r.properties["Target"], id)?,
                    jwt,
                });
            }
        }
        // Most specific first: literal segments before parameters.
        http.sort_by_key(|r| {
            std::cmp::Reverse(r.path.split('/').filter(|s| !s.starts_with('{')).count())
        });

        // The SQS event source and its queue.
        let mut esms = of_type("AWS::Lambda::EventSourceMapping");
        let (esm_id, esm) = esms
            .next()
            .ok_or_else(|| unsupported("Resources", "no SQS event source mapping"))?;
        if esms.next().is_some() {
            return Err(unsupported(
                "Resources",
                "more than one event source mapping",
            ));
        }
        let p = &esm.properties;
        let queue_id = referenced(&p["EventSourceArn"]).ok_or_else(|| {
            unsupported(esm_id, "its EventSourceArn is not a queue of this template")
        })?;
        let q = resources
            .get(queue_id)
            .filter(|r| r.kind == "AWS::SQS::Queue")
            .ok_or_else(|| unsupported(esm_id, "its event source is not an SQS queue"))?;
        if q.properties["FifoQueue"] == json!(true) {
            return Err(unsupported(queue_id, "FIFO queues are not supported"));
        }
        let report = p["FunctionResponseTypes"]
            .as_array()
            .is_some_and(|a| a.iter().any(|t| t == "ReportBatchItemFailures"));
        let queue = QueueDef {
            logical_id: queue_id.to_owned(),
            visibility_timeout: secs(q.properties.get("VisibilityTimeout"), 30),
            max_receive_count: q.properties["RedrivePolicy"]["maxReceiveCount"]
                .as_u64()
                .and_then(|n| u32::try_from(n).ok()),
            function: function_in(esm_id, &p["FunctionName"])?,
            batch_size: p["BatchSize"].as_u64().map_or(10, |n| n as usize),
            batch_window: secs(p.get("MaximumBatchingWindowInSeconds"), 0),
            max_concurrency: p["ScalingConfig"]["MaximumConcurrency"]
                .as_u64()
                .map(|n| n as usize),
            report_batch_item_failures: report,
        };
        // Lambda refuses an event source whose queue's visibility timeout is
        // below the function's timeout: a record would come back while its
        // invocation still runs. The stack would not deploy.
        if let Some(f) = functions.get(&queue.function) {
            if queue.visibility_timeout < f.timeout {
                return Err(unsupported(
                    esm_id,
                    format!(
                        "Queue visibility timeout: {} seconds is less than Function timeout: {} seconds",
                        queue.visibility_timeout.as_secs(),
                        f.timeout.as_secs()
                    ),
                ));
            }
        }

        // The table.
        let mut tables = of_type("AWS::DynamoDB::Table");
        let (table_id, t) = tables
            .next()
            .ok_or_else(|| unsupported("Resources", "no DynamoDB table"))?;
        if tables.next().is_some() {
            return Err(unsupported("Resources", "more than one DynamoDB table"));
        }
        let keys = |schema: &Value| {
            let find = |kt: &str| {
                schema.as_array().and_then(|a| {
                    a.iter()
                        .find(|k| k["KeyType"] == kt)
                        .and_then(|k| k["AttributeName"].as_str())
                        .map(str::to_owned)
                })
            };
            (find("HASH"), find("RANGE"))
        };
        let (pk, sk) = keys(&t.properties["KeySchema"]);
        let table = TableDef {
            logical_id: table_id.to_owned(),
            partition_key: pk.ok_or_else(|| unsupported(table_id, "no partition key"))?,
            sort_key: sk,
            gsis: t.properties["GlobalSecondaryIndexes"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|g| {
                            let (pk, sk) = keys(&g["KeySchema"]);
                            Some((g["IndexName"].as_str()?.to_owned(), pk?, sk))
                        })
                        .collect()
                })
                .unwrap_or_default(),
            ttl_attribute: (t.properties["TimeToLiveSpecification"]["Enabled"] == json!(true))
                .then(|| {
                    t.properties["TimeToLiveSpecification"]["AttributeName"]
                        .as_str()
                        .map(str::to_owned)
                })
                .flatten(),
        };
        let stack = Stack {
            region,
            ws: WsApi {
                logical_id: api_id.to_owned(),
                stage,
                selection_field,
                routes,
                authorizer,
                throttle: ws_throttle,
            },
            http,
            http_jwt,
            http_cors,
            http_throttle,
            functions,
            queue,
            table,
            permissions,
            resources,
        };
        stack.check_table()?;
        Ok(stack)
    }

    /// The adapters' key design (`chat_adapters::dynamo::schema`) must be
    /// the table's: a renamed key or index breaks every query in AWS.
    fn check_table(&self) -> Result<(), TemplateError> {
        use chat_adapters::dynamo::schema;
        let t = &self.table;
        let id = t.logical_id.as_str();
        if t.partition_key != schema::PK || t.sort_key.as_deref() != Some(schema::SK) {
            return Err(unsupported(
                id,
                format!(
                    "keys ({}, {:?}) are not the adapters' ({}, {})",
                    t.partition_key,
                    t.sort_key,
                    schema::PK,
                    schema::SK
                ),
            ));
        }
        let gsi = (
            schema::GSI1.to_owned(),
            schema::GSI1PK.to_owned(),
            Some(schema::GSI1SK.to_owned()),
        );
        if !t.gsis.contains(&gsi) {
            return Err(unsupported(
                id,
                format!(
                    "no index {} on ({}, {}), which the adapters query",
                    schema::GSI1,
                    schema::GSI1PK,
                    schema::GSI1SK
                ),
            ));
        }
        if t.ttl_attribute.as_deref() != Some(schema::TTL) {
            return Err(unsupported(
                id,
                format!(
                    "the TTL attribute is {:?}, the adapters write {}",
                    t.ttl_attribute,
                    schema::TTL
                ),
            ));
        }
        Ok(())
    }

    /// What the HTTP API's JWT authorizer accepts, resolved (its issuer is
    /// the user pool's: `https://cognito-idp.<region>.amazonaws.com/<pool>`,
    /// the pool's logical id standing for its id; its audience the app
    /// client's logical id).
    pub fn jwt(&self, l: &Locals) -> Result<Option<JwtConfig>, TemplateError> {
        let Some(a) = &self.http_jwt else {
            return Ok(None);
        };
        let text = |v: &Value, what: &str| -> Result<String, TemplateError> {
            match self.resolve(v, l, &a.logical_id)? {
                Value::String(s) => Ok(s),
                other => Err(unsupported(
                    &a.logical_id,
                    format!("{what} is not a string: {other}"),
                )),
            }
        };
        Ok(Some(JwtConfig {
            issuer: text(&a.issuer, "JwtConfiguration.Issuer")?,
            audience: a
                .audience
                .iter()
                .map(|v| text(v, "JwtConfiguration.Audience"))
                .collect::<Result<_, _>>()?,
        }))
    }

    /// The function `name`'s environment, resolved to this machine's
    /// resources.
    pub fn environment(
        &self,
        name: &str,
        locals: &Locals,
    ) -> Result<BTreeMap<String, String>, TemplateError> {
        let Some(f) = self.functions.get(name) else {
            return Ok(BTreeMap::new());
        };
        f.env
            .iter()
            .map(|(k, v)| {
                let at = format!("{}.Environment.{k}", f.logical_id);
                match self.resolve(v, locals, &at)? {
                    Value::String(s) => Ok((k.clone(), s)),
                    other => Ok((k.clone(), other.to_string())),
                }
            })
            .collect()
    }

    /// Why function `name` would fail its cold start with `env` (resolved):
    /// a variable one of its ports needs is missing, or names another
    /// resource than the one this stack gives the port.
    pub fn environment_problem(
        &self,
        name: &str,
        env: &BTreeMap<String, String>,
        l: &Locals,
    ) -> Option<String> {
        use chat_core::config::vars;
        let m = chat_core::deploy::manifest();
        let spec = m.function(name)?;
        for port in &spec.ports {
            for var in m
                .ports
                .get(port)
                .map(|p| p.env.as_slice())
                .unwrap_or_default()
            {
                if !env.contains_key(var) {
                    return Some(format!("{var} is not set (its {port:?} port needs it)"));
                }
            }
        }
        let endpoint = self.connections_endpoint(l);
        let expected = [
            (vars::TABLE_NAME, l.table_name.as_str(), "the table"),
            (
                vars::QUEUE_URL,
                l.queue_url.as_str(),
                "the queue the event source reads",
            ),
            (
                vars::WS_ENDPOINT,
                endpoint.as_str(),
                "the WebSocket stage's @connections endpoint",
            ),
            (
                vars::BUCKET_NAME,
                l.bucket_name.as_str(),
                "the attachments bucket",
            ),
        ];
        for (var, want, what) in expected {
            match env.get(var) {
                Some(v) if v != want => {
                    return Some(format!("{var} is {v:?}, which is not {what} ({want:?})"))
                }
                _ => {}
            }
        }
        None
    }

    /// The WebSocket stage's `@connections` endpoint as AWS names it
    /// (`https://{api}.execute-api.{region}.amazonaws.com/{stage}`).
    pub fn connections_endpoint(&self, l: &Locals) -> String {
        format!(
            "https://{}.execute-api.{}.amazonaws.com/{}",
            l.api_id, self.region, self.ws.stage
        )
    }

    /// Who may invoke function `name`: its `AWS::Lambda::Permission`s,
    /// resolved.
    pub fn invoke_permissions(
        &self,
        name: &str,
        l: &Locals,
    ) -> Result<Vec<crate::iam::InvokePermission>, TemplateError> {
        self.permissions
            .iter()
            .filter(|(f, _)| f == name)
            .map(|(f, p)| {
                let at = format!("{f}'s permission");
                let text = |v: &Value| -> Result<String, TemplateError> {
                    match self.resolve(v, l, &at)? {
                        Value::String(s) => Ok(s),
                        other => Err(unsupported(&at, format!("not a string: {other}"))),
                    }
                };
                Ok(crate::iam::InvokePermission {
                    action: text(&p["Action"])?,
                    principal: text(&p["Principal"])?,
                    source_arn: p.get("SourceArn").map(text).transpose()?,
                })
            })
            .collect()
    }

    /// The ARN function `name` has locally.
    pub fn function_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:lambda:{}:{LOCAL_ACCOUNT}:function:{name}",
            self.region
        )
    }

    /// The function `name`'s role and its policy documents, resolved.
    pub fn policies(
        &self,
        name: &str,
        locals: &Locals,
    ) -> Result<(String, Vec<(String, Value)>), TemplateError> {
        let f = self
            .functions
            .get(name)
            .ok_or_else(|| unsupported(name, "no such function in the template"))?;
        let docs = f
            .policies
            .iter()
            .map(|(n, d)| Ok((n.clone(), self.resolve(d, locals, n)?)))
            .collect::<Result<_, TemplateError>>()?;
        Ok((f.role.clone(), docs))
    }

    /// `v` with every intrinsic function replaced by its local value.
    pub fn resolve(&self, v: &Value, l: &Locals, at: &str) -> Result<Value, TemplateError> {
        match v {
            Value::Array(a) => a
                .iter()
                .map(|x| self.resolve(x, l, at))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Value::Object(o)
                if o.len() == 1 && o.keys().all(|k| k == "Ref" || k.starts_with("Fn::")) =>
            {
                let Some((k, arg)) = o.iter().next() else {
                    return Ok(Value::Object(o.clone()));
                };
                match k.as_str() {
                    "Ref" => Ok(Value::String(self.reference(
                        as_str(arg, at, "Ref")?,
                        l,
                        at,
                    )?)),
                    "Fn::GetAtt" => {
                        let id = as_str(&arg[0], at, "Fn::GetAtt")?;
                        let attr = as_str(&arg[1], at, "Fn::GetAtt")?;
                        Ok(Value::String(self.attribute(id, attr, l, at)?))
                    }
                    "Fn::Join" => {
                        let sep = as_str(&arg[0], at, "Fn::Join separator")?;
                        let parts = self.resolve(&arg[1], l, at)?;
                        let parts = parts
                            .as_array()
                            .ok_or_else(|| unsupported(at, "Fn::Join of something not a list"))?
                            .iter()
                            .map(|p| as_str(p, at, "Fn::Join part").map(str::to_owned))
                            .collect::<Result<Vec<_>, _>>()?;
                        Ok(Value::String(parts.join(sep)))
                    }
                    "Fn::Sub" => {
                        let text = as_str(arg, at, "Fn::Sub (only the one-string form)")?;
                        Ok(Value::String(self.substitute(text, l, at)?))
                    }
                    k => Err(unsupported(at, format!("{k} is not resolved locally"))),
                }
            }
            Value::Object(o) => o
                .iter()
                .map(|(k, x)| Ok((k.clone(), self.resolve(x, l, at)?)))
                .collect::<Result<serde_json::Map<_, _>, _>>()
                .map(Value::Object),
            other => Ok(other.clone()),
        }
    }

    fn substitute(&self, text: &str, l: &Locals, at: &str) -> Result<String, TemplateError> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..]
                .find('}')
                .ok_or_else(|| unsupported(at, "Fn::Sub with an unclosed ${"))?;
            let name = &rest[start + 2..start + end];
            let value = match name.split_once('.') {
                Some((id, attr)) if !id.starts_with("AWS::") => self.attribute(id, attr, l, at)?,
                _ => self.reference(name, l, at)?,
            };
            out.push_str(&value);
            rest = &rest[start + end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn reference(&self, id: &str, l: &Locals, at: &str) -> Result<String, TemplateError> {
        Ok(match id {
            "AWS::AccountId" => LOCAL_ACCOUNT.into(),
            "AWS::Region" => self.region.clone(),
            "AWS::Partition" => "aws".into(),
            "AWS::URLSuffix" => "amazonaws.com".into(),
            "AWS::StackName" => "local".into(),
            _ => {
                let r = self.resources.get(id).ok_or_else(|| {
                    unsupported(at, format!("Ref to {id}, which is not in the template"))
                })?;
                match r.kind.as_str() {
                    "AWS::DynamoDB::Table" if id == self.table.logical_id => l.table_name.clone(),
                    "AWS::SQS::Queue" if id == self.queue.logical_id => l.queue_url.clone(),
                    "AWS::ApiGatewayV2::Api" if id == self.ws.logical_id => l.api_id.clone(),
                    "AWS::S3::Bucket" if self.is_attachments_bucket(id) => l.bucket_name.clone(),
                    "AWS::Lambda::Function" => self.function_name(id),
                    // A secret's `Ref` is its ARN (the VAPID key pair's):
                    // what a function reads it by and a policy names.
                    "AWS::SecretsManager::Secret" => format!(
                        "arn:aws:secretsmanager:{}:{LOCAL_ACCOUNT}:secret:{id}",
                        self.region
                    ),
                    // Anything else (a user pool, a log group, a role): its
                    // logical id stands for its name; nothing local reaches it.
                    _ => id.to_owned(),
                }
            }
        })
    }

    /// Whether `id` is the bucket the functions get as `CHAT_BUCKET_NAME`.
    fn is_attachments_bucket(&self, id: &str) -> bool {
        self.functions.values().any(|f| {
            f.env.get(chat_core::config::vars::BUCKET_NAME)
                == Some(&serde_json::json!({ "Ref": id }))
        })
    }

    fn function_name(&self, id: &str) -> String {
        self.functions
            .values()
            .find(|f| f.logical_id == id)
            .map_or_else(|| id.to_owned(), |f| f.name.clone())
    }

    fn attribute(
        &self,
        id: &str,
        attr: &str,
        l: &Locals,
        at: &str,
    ) -> Result<String, TemplateError> {
        let r = self.resources.get(id).ok_or_else(|| {
            unsupported(
                at,
                format!("Fn::GetAtt of {id}, which is not in the template"),
            )
        })?;
        let (region, acct) = (&self.region, LOCAL_ACCOUNT);
        Ok(match (r.kind.as_str(), attr) {
            ("AWS::DynamoDB::Table", "Arn") if id == self.table.logical_id => {
                format!("arn:aws:dynamodb:{region}:{acct}:table/{}", l.table_name)
            }
            ("AWS::SQS::Queue", "Arn") if id == self.queue.logical_id => {
                format!("arn:aws:sqs:{region}:{acct}:{}", l.queue_name)
            }
            ("AWS::SQS::Queue", "Arn") => format!("arn:aws:sqs:{region}:{acct}:{id}"),
            ("AWS::SQS::Queue", "QueueUrl") if id == self.queue.logical_id => l.queue_url.clone(),
            ("AWS::ApiGatewayV2::Api", "ApiEndpoint") => l.base_url.replacen("http", "ws", 1),
            ("AWS::Lambda::Function", "Arn") => {
                format!(
                    "arn:aws:lambda:{region}:{acct}:function:{}",
                    self.function_name(id)
                )
            }
            ("AWS::Logs::LogGroup", "Arn") => {
                format!("arn:aws:logs:{region}:{acct}:log-group:{id}:*")
            }
            ("AWS::IAM::Role", "Arn") => format!("arn:aws:iam::{acct}:role/{id}"),
            // The attachments bucket: the local store (or moto's bucket).
            ("AWS::S3::Bucket", "Arn") if self.is_attachments_bucket(id) => {
                format!("arn:aws:s3:::{}", l.bucket_name)
            }
            ("AWS::S3::Bucket", "RegionalDomainName") if self.is_attachments_bucket(id) => {
                l.base_url.clone()
            }
            // The cache: the local Redis, if one is given.
            (
                "AWS::ElastiCache::ServerlessCache" | "AWS::ElastiCache::ReplicationGroup",
                "Endpoint.Address" | "ConfigurationEndPoint.Address",
            ) => l
                .redis
                .as_ref()
                .map_or("127.0.0.1".into(), |(h, _)| h.clone()),
            (
                "AWS::ElastiCache::ServerlessCache" | "AWS::ElastiCache::ReplicationGroup",
                "Endpoint.Port" | "ConfigurationEndPoint.Port",
            ) => l.redis.as_ref().map_or("0".into(), |(_, p)| p.to_string()),
            (kind, attr) => {
                return Err(unsupported(
                    at,
                    format!("Fn::GetAtt {id}.{attr} ({kind}) has no local equivalent"),
                ))
            }
        })
    }
}

fn identity_source(resource: &str, s: &str) -> Result<IdentitySource, TemplateError> {
    if let Some(q) = s.strip_prefix("route.request.querystring.") {
        Ok(IdentitySource::Query(q.to_owned()))
    } else if let Some(h) = s.strip_prefix("route.request.header.") {
        Ok(IdentitySource::Header(h.to_ascii_lowercase()))
    } else {
        Err(unsupported(resource, format!("identity source {s:?}")))
    }
}

/// The string literals of `v`, concatenated (to find the region in a URI).
fn flatten_literals(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => out.push_str(s),
        Value::Array(a) => a.iter().for_each(|x| flatten_literals(x, out)),
        Value::Object(o) => o.values().for_each(|x| flatten_literals(x, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The template CI synthesizes is tested in template mode end to end;
    /// these use a checked-in copy (`local/tests/fixtures/`), refreshed with
    /// `SKIP_BUNDLING=1 npx cdk synth -o /tmp/cdk.out` and a copy.
    const TEMPLATE: &str = include_str!("../tests/fixtures/Chat-dev.template.json");

    fn stack() -> Stack {
        Stack::parse("fixture", TEMPLATE).unwrap_or_else(|e| panic!("{e}"))
    }

    fn locals() -> Locals {
        Locals {
            table_name: "chat-local".into(),
            queue_url: "http://127.0.0.1:5000/123456789012/q".into(),
            queue_name: "q".into(),
            api_id: "local".into(),
            base_url: "http://127.0.0.1:8080".into(),
            redis: Some(("127.0.0.1".into(), 7001)),
            bucket_name: "files".into(),
        }
    }

    #[test]
    fn the_synthesized_stack_is_read_as_it_deploys() {
        let s = stack();
        assert_eq!(s.region, "us-east-1");
        assert_eq!(s.ws.stage, "dev");
        assert_eq!(s.ws.selection_field, "action");
        assert_eq!(s.ws.routes["$connect"], "chat-connect");
        assert_eq!(s.ws.routes["$disconnect"], "chat-disconnect");
        assert_eq!(s.ws.routes["sendMessage"], "chat-message");
        assert_eq!(s.ws.routes["$default"], "chat-message");
        let a = s.ws.authorizer.as_ref().expect("authorizer");
        assert_eq!(a.function, "chat-authorizer");
        assert_eq!(
            a.identity_source,
            vec![IdentitySource::Query("token".into())]
        );
        let history = s
            .http
            .iter()
            .find(|r| r.matches("GET", "/rooms/r_1/messages"))
            .expect("history route");
        assert_eq!(
            (history.function.as_str(), history.jwt),
            ("chat-history", true)
        );
        assert_eq!(s.functions.len(), 8);
        assert_eq!(s.functions["chat-message"].timeout, Duration::from_secs(15));
        assert_eq!(s.queue.function, "chat-persist");
        assert!(s.queue.report_batch_item_failures);
        assert_eq!(s.queue.max_receive_count, Some(5));
        assert_eq!(s.table.ttl_attribute.as_deref(), Some("expiresAt"));
        let cors = s.http_cors.as_ref().expect("CORS");
        assert_eq!(cors.allow_origins, ["*"]);
        assert_eq!(cors.max_age, Some(3600));
        let limit = |l: &StageLimits| l.default.map(|d| (d.burst, d.rate));
        assert_eq!(limit(&s.http_throttle), Some((Some(400), Some(200.0))));
        assert_eq!(limit(&s.ws.throttle), Some((Some(1000), Some(500.0))));
        let jwt = s.jwt(&locals()).unwrap().expect("JWT authorizer");
        assert_eq!(
            jwt,
            JwtConfig {
                issuer: "https://cognito-idp.us-east-1.amazonaws.com/AuthUserPool8115E87F".into(),
                audience: vec!["AuthUserPoolWebClient147E4E38".into()],
            }
        );
    }

    #[test]
    fn environments_and_policies_resolve_to_the_local_resources() {
        let s = stack();
        let l = locals();
        let env = s.environment("chat-message", &l).unwrap();
        assert_eq!(env["CHAT_TABLE_NAME"], "chat-local");
        // The cache is the local Redis, with the scheme the stack gives it.
        assert_eq!(env["CHAT_REDIS_URL"], "rediss://127.0.0.1:7001");
        let without = Locals {
            redis: None,
            ..l.clone()
        };
        let env_without = s.environment("chat-message", &without).unwrap();
        assert_eq!(env_without["CHAT_REDIS_URL"], "rediss://127.0.0.1:0");
        assert_eq!(
            Locals::redis_endpoint("redis://10.0.0.5:7000"),
            Some(("10.0.0.5".into(), 7000))
        );
        assert_eq!(Locals::redis_endpoint("http://x"), None);
        assert_eq!(env["CHAT_QUEUE_URL"], l.queue_url);
        assert_eq!(
            env["CHAT_WS_ENDPOINT"],
            "https://local.execute-api.us-east-1.amazonaws.com/dev"
        );
        assert_eq!(s.environment_problem("chat-message", &env, &l), None);
        let mut renamed = env.clone();
        let v = renamed.remove("CHAT_QUEUE_URL").unwrap();
        renamed.insert("CHAT_QUEUE".into(), v);
        let why = s
            .environment_problem("chat-message", &renamed, &l)
            .expect("fails");
        assert!(why.contains("CHAT_QUEUE_URL is not set"), "{why}");
        let mut elsewhere = env.clone();
        elsewhere.insert("CHAT_TABLE_NAME".into(), "other".into());
        let why = s
            .environment_problem("chat-message", &elsewhere, &l)
            .expect("fails");
        assert!(why.contains("CHAT_TABLE_NAME"), "{why}");
        let (_, docs) = s.policies("chat-rooms", &l).unwrap();
        let text = serde_json::to_string(&docs).unwrap();
        assert!(
            text.contains(
                "arn:aws:execute-api:us-east-1:123456789012:local/dev/POST/@connections/*"
            ),
            "{text}"
        );
        assert!(
            text.contains("arn:aws:dynamodb:us-east-1:123456789012:table/chat-local/index/GSI1")
        );
    }

    #[test]
    fn http_routes_match_parameters_and_literals_only() {
        let r = HttpRoute {
            source_arn: String::new(),
            method: "DELETE".into(),
            path: "/rooms/{roomId}/members/{userId}".into(),
            function: "chat-rooms".into(),
            jwt: true,
        };
        assert!(r.matches("DELETE", "/rooms/r1/members/bob"));
        assert!(!r.matches("GET", "/rooms/r1/members/bob"));
        assert!(!r.matches("DELETE", "/rooms/r1/members"));
        assert!(!r.matches("DELETE", "/rooms/r1/members/bob/x"));
    }

    #[test]
    fn a_template_the_twin_cannot_run_is_refused_naming_the_resource() {
        let edit = |from: &str, to: &str| {
            assert!(TEMPLATE.contains(from), "fixture lacks {from}");
            Stack::parse("t", &TEMPLATE.replacen(from, to, 1))
                .expect_err("refused")
                .to_string()
        };
        let e = edit("\"$request.body.action\"", "\"${request.header.x}\"");
        assert!(e.contains("route selection expression"), "{e}");
        let e = edit(
            "\"AttributeName\": \"expiresAt\"",
            "\"AttributeName\": \"ttl\"",
        );
        assert!(e.contains("TTL"), "{e}");
        let e = edit("\"IndexName\": \"GSI1\"", "\"IndexName\": \"ByUser\"");
        assert!(e.contains("GSI1"), "{e}");
        let e = edit("\"VisibilityTimeout\": 181", "\"VisibilityTimeout\": 29");
        assert!(
            e.contains(
                "Queue visibility timeout: 29 seconds is less than Function timeout: 30 seconds"
            ),
            "{e}"
        );
        let e = Stack::parse("t", "{\"Resources\": 3}")
            .expect_err("refused")
            .to_string();
        assert!(e.contains("Resources"), "{e}");
    }

    /// A stand-in for `npx cdk synth -q -o DIR`: `sh -c SCRIPT sh DIR`.
    fn fake_synth(script: &str, name: &str) -> Result<Stack, SynthError> {
        let dir = std::env::temp_dir();
        synth_with(&dir, name, &["sh", "-c", script, "sh"])
    }

    #[test]
    fn a_synth_yields_the_named_stack_and_a_wrong_name_lists_the_stacks() {
        let copy = format!(
            "cp {}/tests/fixtures/Chat-dev.template.json \"$1\"/ && echo '{{}}' > \"$1\"/Other.template.json && echo '{{}}' > \"$1\"/manifest.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let s = fake_synth(&copy, "Chat-dev").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.ws.stage, "dev");
        let e = fake_synth(&copy, "Chat-prod").unwrap_err();
        assert!(
            matches!(&e, SynthError::NoSuchStack { available, .. } if available == &["Chat-dev", "Other"]),
            "{e}"
        );
        assert!(e.to_string().contains("Chat-dev, Other"), "{e}");
    }

    #[test]
    fn a_failed_synth_says_what_it_printed_on_stderr() {
        let e = fake_synth(
            "echo 'Error: jwtIssuer needs jwtAudience' >&2; exit 3",
            "Chat-dev",
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(
            matches!(e, SynthError::Failed { .. }) && text.contains("jwtIssuer needs jwtAudience"),
            "{text}"
        );
    }

    #[test]
    fn the_cdk_app_is_found_above_the_current_directory() {
        // Tests run in local/; cdk.json is at the repository root.
        let dir = cdk_app_dir(None).unwrap_or_else(|e| panic!("{e}"));
        assert!(dir.join("cdk.json").is_file());
        assert_eq!(cdk_app_dir(Some(Path::new("/x"))).unwrap(), Path::new("/x"));
    }

    #[test]
    fn an_intrinsic_without_a_local_equivalent_is_refused() {
        let s = stack();
        let e = s
            .resolve(
                &json!({"Fn::ImportValue": "x"}),
                &locals(),
                "X.Environment.Y",
            )
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("Fn::ImportValue") && e.contains("X.Environment.Y"),
            "{e}"
        );
        let e = s
            .resolve(&json!({"Ref": "Nope"}), &locals(), "at")
            .unwrap_err()
            .to_string();
        assert!(e.contains("Nope"), "{e}");
    }
}
