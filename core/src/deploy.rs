//! What deploys, read from the two files in `deploy/` that both this crate
//! and the CDK app (`infra/lib/manifest.ts`) read, so the two cannot drift:
//!
//! - `deploy/settings.json`: every tunable's environment variable, default,
//!   bounds and meaning. [`crate::config`] parses values against it; infra
//!   validates the context key of the same name against it.
//! - `deploy/functions.json`: per function, the ports it is wired with.
//!   Each port names the environment it needs and the IAM actions it is
//!   granted on which resource. infra grants and sets the environment from
//!   it; `chat_adapters::wiring` refuses to start a function whose compiled
//!   port list disagrees with it; the local platform wires each function
//!   from it, so a function that lacks a port in AWS lacks it locally too.
//!
//! Both files are compiled in (`include_str!`): a function never reads the
//! file system at cold start. Their shape is checked by this module's tests,
//! so a malformed file fails the build's tests, never a cold start.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

const SETTINGS_JSON: &str = include_str!("../../deploy/settings.json");
const FUNCTIONS_JSON: &str = include_str!("../../deploy/functions.json");

/// One bounded integer setting.
#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Setting {
    /// The environment variable the functions read.
    pub env: String,
    pub default: u64,
    /// Inclusive bounds.
    pub min: u64,
    pub max: u64,
    pub unit: String,
    pub meaning: String,
}

/// Every setting, by its infra context key. Typed, so a setting the code
/// reads cannot be missing from the file (the tests parse it).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Settings {
    pub max_body_bytes: Setting,
    pub max_body_chars: Setting,
    pub connection_ttl_secs: Setting,
    pub presence_refresh_secs: Setting,
    pub fanout_concurrency: Setting,
    pub fanout_inline_max: Setting,
    pub fanout_shard_size: Setting,
    pub push_retries: Setting,
    pub history_page_max: Setting,
    pub max_room_members: Setting,
    pub rate_msg_conn_per_sec: Setting,
    pub rate_msg_conn_burst: Setting,
    pub rate_msg_user_per_sec: Setting,
    pub rate_msg_user_burst: Setting,
    pub rate_typing_per_sec: Setting,
    pub rate_typing_burst: Setting,
    pub rate_rest_per_sec: Setting,
    pub rate_rest_burst: Setting,
    pub redis_timeout_ms: Setting,
    pub redis_index_hold_ms: Setting,
    pub max_attachment_bytes: Setting,
    pub max_attachments_per_message: Setting,
    pub upload_url_ttl_secs: Setting,
    pub attachment_url_ttl_secs: Setting,
    pub search_index: Setting,
    pub notify_window_secs: Setting,
    pub notify_bodies: Setting,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsFile {
    #[serde(rename = "$comment")]
    _comment: String,
    settings: Settings,
}

/// A port a function can be wired with.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "camelCase")]
pub enum PortName {
    /// The DynamoDB stores (behind Redis when deployed) and the limits.
    Stores,
    /// The SQS job queue.
    Queue,
    /// The API Gateway Management API.
    Pusher,
    /// Token verification.
    Verifier,
    /// The attachments' object store (S3).
    Blobs,
    /// Web Push (offline notifications), signed with the VAPID key read
    /// from Secrets Manager at cold start.
    #[serde(rename = "webpush")]
    WebPush,
    /// Mobile push (FCM, APNs) through SNS platform endpoints; optional
    /// per platform (its platform application's ARN).
    MobilePush,
}

/// What a port needs from the deployment.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PortSpec {
    pub what: String,
    /// Set for every function with this port; the cold start fails without.
    pub env: Vec<String>,
    /// Set when the deployment has the resource (Redis) or a non-default value.
    pub optional_env: Vec<String>,
    /// IAM statements: infra resolves `resource` to an ARN.
    pub grants: Vec<Grant>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// `table`, `queue`, `connections`, `bucket`, `vapidSecret` or
    /// `mobilePush`.
    pub resource: String,
    /// A list of actions, or `"tableActions"`: the function's `table` groups.
    pub actions: serde_json::Value,
}

/// One deployed function.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionSpec {
    pub description: String,
    pub ports: Vec<PortName>,
    /// Groups of `tableActions` this function is granted on the table.
    pub table: Vec<String>,
    /// Groups of `bucketActions` this function is granted on the bucket.
    #[serde(default)]
    pub bucket: Vec<String>,
    /// Groups of `mobilePushActions` this function is granted on the SNS
    /// platform applications and their endpoints.
    #[serde(default, rename = "mobilePush")]
    pub mobile_push: Vec<String>,
}

/// Actions on the SNS platform applications (`on: application`) or on
/// their endpoints (`on: endpoint`, `…:endpoint/<platform>/<app>/*`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnsGrant {
    pub on: SnsTarget,
    pub actions: Vec<String>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SnsTarget {
    Application,
    Endpoint,
}

/// Actions on the bucket's objects under `prefix` (on the bucket itself
/// when `None`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BucketGrant {
    pub prefix: Option<String>,
    pub actions: Vec<String>,
}

impl FunctionSpec {
    pub fn has(&self, port: PortName) -> bool {
        self.ports.contains(&port)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Manifest {
    #[serde(rename = "$comment")]
    _comment: String,
    /// Given to every function (`RUST_LOG`, read by the log filter).
    pub common_env: Vec<String>,
    /// Read by the code but never set in AWS: emulator endpoints, the
    /// local platform's DLQ tools, the HS256 secret of local tokens.
    pub local_only_env: Vec<String>,
    /// Set by Lambda itself (and by `cargo lambda watch`), never by infra.
    pub runtime_env: Vec<String>,
    pub ports: BTreeMap<PortName, PortSpec>,
    pub table_actions: BTreeMap<String, Vec<String>>,
    pub bucket_actions: BTreeMap<String, Vec<BucketGrant>>,
    pub mobile_push_actions: BTreeMap<String, Vec<SnsGrant>>,
    pub functions: BTreeMap<String, FunctionSpec>,
}

impl Manifest {
    pub fn function(&self, name: &str) -> Option<&FunctionSpec> {
        self.functions.get(name)
    }

    /// Every variable function `name` may be given in AWS: the common ones,
    /// its ports' required and optional environment, and the settings when
    /// it has the stores.
    pub fn env_of(&self, name: &str) -> Vec<&str> {
        let Some(f) = self.function(name) else {
            return Vec::new();
        };
        let mut env: Vec<&str> = f
            .ports
            .iter()
            .filter_map(|p| self.ports.get(p))
            .flat_map(|p| p.env.iter().chain(&p.optional_env))
            .chain(&self.common_env)
            .map(String::as_str)
            .collect();
        if f.has(PortName::Stores) {
            env.extend(settings().all().map(|s| s.env.as_str()));
        }
        env.sort_unstable();
        env.dedup();
        env
    }
}

impl Settings {
    /// Every setting, in no particular order.
    pub fn all(&self) -> impl Iterator<Item = &Setting> {
        [
            &self.max_body_bytes,
            &self.max_body_chars,
            &self.connection_ttl_secs,
            &self.presence_refresh_secs,
            &self.fanout_concurrency,
            &self.fanout_inline_max,
            &self.fanout_shard_size,
            &self.push_retries,
            &self.history_page_max,
            &self.max_room_members,
            &self.rate_msg_conn_per_sec,
            &self.rate_msg_conn_burst,
            &self.rate_msg_user_per_sec,
            &self.rate_msg_user_burst,
            &self.rate_typing_per_sec,
            &self.rate_typing_burst,
            &self.rate_rest_per_sec,
            &self.rate_rest_burst,
            &self.redis_timeout_ms,
            &self.redis_index_hold_ms,
            &self.max_attachment_bytes,
            &self.max_attachments_per_message,
            &self.upload_url_ttl_secs,
            &self.attachment_url_ttl_secs,
            &self.search_index,
            &self.notify_window_secs,
            &self.notify_bodies,
        ]
        .into_iter()
    }
}

static SETTINGS: LazyLock<Settings> = LazyLock::new(|| {
    parse::<SettingsFile>(SETTINGS_JSON)
        .unwrap_or_else(|e| panic!("deploy/settings.json: {e}"))
        .settings
});

static MANIFEST: LazyLock<Manifest> = LazyLock::new(|| {
    parse::<Manifest>(FUNCTIONS_JSON).unwrap_or_else(|e| panic!("deploy/functions.json: {e}"))
});

fn parse<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, String> {
    let de = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(de).map_err(|e| format!("{} at {}", e.inner(), e.path()))
}

/// `deploy/settings.json`, parsed once.
pub fn settings() -> &'static Settings {
    &SETTINGS
}

/// `deploy/functions.json`, parsed once.
pub fn manifest() -> &'static Manifest {
    &MANIFEST
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_files_parse_with_every_field_the_code_reads() {
        parse::<SettingsFile>(SETTINGS_JSON).unwrap();
        parse::<Manifest>(FUNCTIONS_JSON).unwrap();
    }

    #[test]
    fn every_default_lies_within_its_bounds_and_every_variable_is_unique() {
        let mut seen = std::collections::HashSet::new();
        for s in settings().all() {
            assert!(s.min <= s.default && s.default <= s.max, "{s:?}");
            assert!(s.env.starts_with("CHAT_"), "{s:?}");
            assert!(seen.insert(&s.env), "{} twice", s.env);
            assert!(!s.meaning.is_empty());
        }
    }

    #[test]
    fn the_presence_ttl_means_presence_and_outlives_the_refresh_window() {
        let ttl = &settings().connection_ttl_secs;
        assert_eq!((ttl.default, ttl.min, ttl.max), (1200, 10, 7200));
        assert!(ttl.meaning.starts_with("Presence TTL"), "{}", ttl.meaning);
        // Every open socket pings within API Gateway's 600 s idle timeout,
        // so a refresh window of at least that never lets a live client
        // lapse; the web app's ping after a refresh (540 s) finds more than
        // the window left and writes nothing.
        let refresh = &settings().presence_refresh_secs;
        assert!(refresh.default >= 600 && ttl.default - 540 > refresh.default);
    }

    #[test]
    fn every_function_names_known_ports_and_table_groups() {
        let m = manifest();
        assert_eq!(m.functions.len(), 8);
        for (name, f) in &m.functions {
            assert!(name.starts_with("chat-"), "{name}");
            for p in &f.ports {
                assert!(m.ports.contains_key(p), "{name}: {p:?}");
            }
            for g in &f.table {
                assert!(m.table_actions.contains_key(g), "{name}: {g}");
            }
            for g in &f.bucket {
                assert!(m.bucket_actions.contains_key(g), "{name}: {g}");
            }
            for g in &f.mobile_push {
                assert!(m.mobile_push_actions.contains_key(g), "{name}: {g}");
            }
            // SNS groups exactly for the functions with mobile push.
            assert_eq!(
                f.has(PortName::MobilePush),
                !f.mobile_push.is_empty(),
                "{name}"
            );
            // Bucket groups exactly for the functions with the bucket.
            assert_eq!(f.has(PortName::Blobs), !f.bucket.is_empty(), "{name}");
            // A function with the stores is granted at least reads, and
            // one without them is granted nothing on the table.
            assert_eq!(
                f.has(PortName::Stores),
                f.table.iter().any(|g| g == "read"),
                "{name}"
            );
        }
    }

    #[test]
    fn only_the_users_function_creates_endpoints_and_only_persist_publishes() {
        let m = manifest();
        let actions = |name: &str| -> Vec<&str> {
            m.function(name)
                .unwrap()
                .mobile_push
                .iter()
                .flat_map(|g| &m.mobile_push_actions[g])
                .flat_map(|g| g.actions.iter().map(String::as_str))
                .collect()
        };
        for (name, f) in &m.functions {
            let a = actions(name);
            assert_eq!(
                a.contains(&"sns:CreatePlatformEndpoint"),
                name == "chat-users",
                "{name}"
            );
            assert_eq!(a.contains(&"sns:Publish"), name == "chat-persist", "{name}");
            assert_eq!(f.has(PortName::MobilePush), !a.is_empty(), "{name}");
        }
        // Application ARNs get only CreatePlatformEndpoint; the rest is on
        // endpoints.
        for g in m.mobile_push_actions.values().flatten() {
            let on_app = g.on == SnsTarget::Application;
            for a in &g.actions {
                assert_eq!(on_app, a == "sns:CreatePlatformEndpoint", "{a}");
            }
        }
        // The ARNs are optional: a stack without them still deploys.
        let env = m.env_of("chat-users");
        assert!(env.contains(&"CHAT_SNS_FCM_APP_ARN") && env.contains(&"CHAT_SNS_APNS_APP_ARN"));
        assert!(m.ports[&PortName::MobilePush].env.is_empty());
    }

    #[test]
    fn a_function_that_tells_members_about_rooms_has_the_pusher() {
        let rooms = manifest().function("chat-rooms").unwrap();
        assert!(rooms.has(PortName::Pusher));
        let env = manifest().env_of("chat-rooms");
        assert!(env.contains(&"CHAT_WS_ENDPOINT"), "{env:?}");
        assert!(!env.contains(&"CHAT_QUEUE_URL"), "{env:?}");
    }
}
