//! Offline notifications: the devices a user registers (Web Push
//! subscriptions), their notification policy, and the decision of whether a
//! stored message notifies a member who has no live connection.
//!
//! - [`PushSubscription::parse`] is the one decoder of a subscription: an
//!   `https` endpoint whose host is a public name or address (never
//!   loopback, private, link-local, CGNAT, multicast or a bare local name:
//!   the push is a server-side request to a URL the user chose, so an
//!   unchecked endpoint would be an SSRF into the VPC), a `p256dh` key that
//!   is an uncompressed P-256 point (65 bytes) and an `auth` secret of 16
//!   bytes, both base64url (RFC 8291 §2). Loopback endpoints are allowed
//!   only when [`EndpointRules::allow_loopback`] says so (the local
//!   platform's dev flag; never in AWS).
//! - [`NotifyPolicy`] is per user: do-not-disturb (on, or until a time),
//!   mentions only (everywhere or per room), muted rooms, muted people.
//!   [`NotifyPolicy::allows`] decides one message for one recipient.
//! - Coalescing ([`crate::ports::NotifyStore::claim`]): at most one
//!   notification per (user, room) per window. The first message after a
//!   quiet window notifies at once; messages inside the window are counted,
//!   and the next notification carries that count. Messages of one persist
//!   batch for the same (user, room) are counted together first, so a burst
//!   that lands in one batch gives one notification with its whole count.
//! - Privacy: a notification carries the room and the sender by default;
//!   the body only when the deployment enables it, and never for a room
//!   whose messages are end-to-end encrypted ([`Payload::new`] takes that
//!   flag; the caller asks [`encrypted_room`], the one rule for it).

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ChatError;
use crate::ids::{Millis, RoomId, UserId};

/// Length of an uncompressed P-256 public key (`0x04 || X || Y`).
pub const P256DH_LEN: usize = 65;
/// Length of the Web Push authentication secret.
pub const AUTH_LEN: usize = 16;
/// Longest accepted endpoint URL, in bytes.
pub const MAX_ENDPOINT_LEN: usize = 2048;
/// Most devices one user may register (a new one past it is refused).
pub const MAX_DEVICES: usize = 20;

/// What endpoints a deployment accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EndpointRules {
    /// Accept `http://127.0.0.1:…` / `http://[::1]:…` / `http://localhost:…`
    /// endpoints: only the local platform's tests set it.
    pub allow_loopback: bool,
}

/// A device's id: derived from its endpoint, so registering the same
/// subscription again replaces it instead of adding a copy.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeviceId(String);

impl DeviceId {
    pub fn of_endpoint(endpoint: &str) -> Self {
        let digest = Sha256::digest(endpoint.as_bytes());
        Self(format!("d_{}", URL_SAFE_NO_PAD.encode(&digest[..16])))
    }

    pub fn parse(raw: &str) -> Result<Self, ChatError> {
        let ok = raw.len() == 24
            && raw.starts_with("d_")
            && raw[2..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ChatError::BadRequest("deviceId is not a device id".into()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DeviceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for DeviceId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DeviceId".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^d_[A-Za-z0-9_-]{22}$",
            "description": "A push device's id (derived from its endpoint)."
        })
    }
}

/// A validated Web Push subscription (keys kept as their base64url text).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushSubscription {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

fn bad(msg: &str) -> ChatError {
    ChatError::BadRequest(msg.to_owned())
}

/// Decodes base64url (padded or not) into exactly `len` bytes.
fn key_bytes(raw: &str, len: usize, name: &str) -> Result<Vec<u8>, ChatError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(raw.trim_end_matches('='))
        .map_err(|_| bad(&format!("keys.{name} is not base64url")))?;
    if bytes.len() != len {
        return Err(bad(&format!(
            "keys.{name} must decode to {len} bytes, not {}",
            bytes.len()
        )));
    }
    Ok(bytes)
}

impl PushSubscription {
    pub fn parse(
        endpoint: &str,
        p256dh: &str,
        auth: &str,
        rules: EndpointRules,
    ) -> Result<Self, ChatError> {
        check_endpoint(endpoint, rules)?;
        let point = key_bytes(p256dh, P256DH_LEN, "p256dh")?;
        if point[0] != 0x04 {
            return Err(bad("keys.p256dh must be an uncompressed P-256 point"));
        }
        key_bytes(auth, AUTH_LEN, "auth")?;
        Ok(Self {
            endpoint: endpoint.to_owned(),
            p256dh: URL_SAFE_NO_PAD.encode(point),
            auth: auth.trim_end_matches('=').to_owned(),
        })
    }

    pub fn device_id(&self) -> DeviceId {
        DeviceId::of_endpoint(&self.endpoint)
    }

    /// The subscription's public key (65 bytes).
    pub fn p256dh_bytes(&self) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(&self.p256dh).unwrap_or_default()
    }

    /// The subscription's authentication secret (16 bytes).
    pub fn auth_bytes(&self) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(&self.auth).unwrap_or_default()
    }
}

/// Refuses an endpoint that is not `https` to a public host.
pub fn check_endpoint(raw: &str, rules: EndpointRules) -> Result<(), ChatError> {
    if raw.len() > MAX_ENDPOINT_LEN {
        return Err(bad("endpoint is too long"));
    }
    let url = url::Url::parse(raw).map_err(|_| bad("endpoint is not a URL"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("endpoint must not carry credentials"));
    }
    let host = url.host().ok_or_else(|| bad("endpoint has no host"))?;
    let loopback = match &host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    if loopback && rules.allow_loopback && matches!(url.scheme(), "http" | "https") {
        return Ok(());
    }
    if url.scheme() != "https" {
        return Err(bad("endpoint must be an https URL"));
    }
    match host {
        url::Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            let local = !d.contains('.')
                || [
                    ".localhost",
                    ".local",
                    ".internal",
                    ".localdomain",
                    ".home.arpa",
                ]
                .iter()
                .any(|s| d.ends_with(s));
            if local {
                return Err(bad("endpoint must be a public host"));
            }
        }
        url::Host::Ipv4(ip) => {
            if !public_v4(ip) {
                return Err(bad("endpoint must not point at a private address"));
            }
        }
        url::Host::Ipv6(ip) => {
            if !public_v6(ip) {
                return Err(bad("endpoint must not point at a private address"));
            }
        }
    }
    Ok(())
}

/// Whether an address may be the target of a push: the HTTP adapter asks it
/// again of every resolved address, so a public name that resolves to a
/// private address is refused too.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => public_v6(v6),
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return public_v4(v4);
    }
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || first == 0x2001 && ip.segments()[1] == 0x0db8
        || first == 0x0064)
}

/// A registered device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    pub device_id: DeviceId,
    pub user_id: UserId,
    /// How it is reached (stored flattened: a Web Push device's document
    /// keeps its `subscription` field as before mobile devices existed).
    #[serde(flatten)]
    pub channel: Channel,
    pub created_at: Millis,
}

/// How a device is reached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Channel {
    /// A browser's Web Push subscription.
    WebPush { subscription: PushSubscription },
    /// A native app's FCM or APNs token, behind an SNS platform endpoint.
    Mobile {
        mobile: crate::mobile::MobileEndpoint,
    },
}

impl Device {
    /// The Web Push subscription, when it is a browser.
    pub fn web_push(&self) -> Option<&PushSubscription> {
        match &self.channel {
            Channel::WebPush { subscription } => Some(subscription),
            Channel::Mobile { .. } => None,
        }
    }

    /// The mobile endpoint, when it is a native app.
    pub fn mobile(&self) -> Option<&crate::mobile::MobileEndpoint> {
        match &self.channel {
            Channel::Mobile { mobile } => Some(mobile),
            Channel::WebPush { .. } => None,
        }
    }
}

/// Do-not-disturb.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "mode")]
pub enum Dnd {
    #[default]
    Off,
    On,
    /// Until this time (ms since the epoch), then off by itself.
    Until {
        until: Millis,
    },
}

/// A user's notification policy (`GET`/`PUT /users/me/notifications`,
/// every field required: a `PUT` replaces the whole policy). The default
/// notifies of every message.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotifyPolicy {
    pub dnd: Dnd,
    /// Only messages that mention the user (`@userId`), in every room.
    pub mentions_only: bool,
    /// Only mentions, in these rooms.
    pub mentions_only_rooms: BTreeSet<RoomId>,
    pub muted_rooms: BTreeSet<RoomId>,
    /// People whose messages never notify.
    pub muted_users: BTreeSet<UserId>,
}

/// Most rooms or people one policy lists (each list).
pub const MAX_POLICY_ENTRIES: usize = 500;

impl NotifyPolicy {
    /// Refuses a policy with oversize lists.
    pub fn validate(&self) -> Result<(), ChatError> {
        let lists = [
            self.mentions_only_rooms.len(),
            self.muted_rooms.len(),
            self.muted_users.len(),
        ];
        if lists.iter().any(|n| *n > MAX_POLICY_ENTRIES) {
            return Err(ChatError::BadRequest(format!(
                "a notification policy lists at most {MAX_POLICY_ENTRIES} rooms or people each"
            )));
        }
        Ok(())
    }

    /// Whether a message by `sender` in `room` with `body` notifies
    /// `recipient` at `now`.
    pub fn allows(
        &self,
        recipient: &UserId,
        room: &RoomId,
        sender: &UserId,
        body: &str,
        now: Millis,
    ) -> bool {
        let dnd = match self.dnd {
            Dnd::Off => false,
            Dnd::On => true,
            Dnd::Until { until } => now < until,
        };
        if dnd || self.muted_rooms.contains(room) || self.muted_users.contains(sender) {
            return false;
        }
        if self.mentions_only || self.mentions_only_rooms.contains(room) {
            return mentions(body, recipient);
        }
        true
    }
}

/// Whether `body` mentions `user` as `@userId`, the id ending at the end
/// of the text or at a character that cannot be part of an id.
pub fn mentions(body: &str, user: &UserId) -> bool {
    let needle = format!("@{}", user.as_str());
    body.match_indices(&needle).any(|(i, _)| {
        let before_ok = body[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let after = body[i + needle.len()..].chars().next();
        let after_ok = after
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@')))
            || (after == Some('.')
                && body[i + needle.len() + 1..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_ascii_alphanumeric()));
        before_ok && after_ok
    })
}

/// What a notification says (the plaintext of the Web Push payload).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    pub room_id: RoomId,
    pub sender_id: UserId,
    /// Messages since the last notification of this room, this one included.
    pub count: u32,
    /// Only when the deployment includes bodies and the room is not encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    pub seq: u64,
}

impl Payload {
    pub fn new(
        room_id: RoomId,
        sender_id: UserId,
        count: u32,
        seq: u64,
        body: &str,
        include_body: bool,
        encrypted_room: bool,
    ) -> Self {
        Self {
            room_id,
            sender_id,
            count,
            seq,
            body: (include_body && !encrypted_room).then(|| truncate(body, MAX_PAYLOAD_BODY)),
        }
    }
}

/// Whether `msg` is a message of an end-to-end encrypted room: then no
/// notification carries its body, on any channel (Web Push and mobile
/// build their payloads through [`Payload::new`] with this flag). The room
/// id says it (`dme_…`, [`crate::ids::RoomId::is_encrypted`]), so a message
/// whose stored body is empty anyway can never leak one by mistake either.
pub fn encrypted_room(msg: &crate::model::Message) -> bool {
    msg.room_id.is_encrypted()
}

/// Most bytes of a body in a notification: a Web Push payload holds about
/// 4 KB, and a notification shows a line or two.
pub const MAX_PAYLOAD_BODY: usize = 1024;

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    const P256: &str =
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";

    fn parse(endpoint: &str) -> Result<PushSubscription, ChatError> {
        PushSubscription::parse(endpoint, P256, AUTH, EndpointRules::default())
    }

    #[test]
    fn a_public_https_endpoint_with_good_keys_is_accepted_and_its_id_is_stable() {
        let s = parse("https://fcm.googleapis.com/fcm/send/abc").unwrap();
        assert_eq!(s.p256dh_bytes().len(), 65);
        assert_eq!(s.auth_bytes().len(), 16);
        let again = parse("https://fcm.googleapis.com/fcm/send/abc").unwrap();
        assert_eq!(s.device_id(), again.device_id());
        assert_ne!(
            s.device_id(),
            parse("https://fcm.googleapis.com/fcm/send/abd")
                .unwrap()
                .device_id()
        );
        assert!(DeviceId::parse(s.device_id().as_str()).is_ok());
        // Padded base64url is accepted and normalized.
        let padded = PushSubscription::parse(
            "https://push.example.com/x",
            P256,
            "BTBZMqHH6r4Tts7J_aSIgg==",
            EndpointRules::default(),
        )
        .unwrap();
        assert_eq!(padded.auth, AUTH);
    }

    #[test]
    fn endpoints_that_are_not_https_to_a_public_host_are_refused() {
        for e in [
            "http://push.example.com/x",
            "ftp://push.example.com/x",
            "https://127.0.0.1/x",
            "https://localhost/x",
            "https://10.0.0.8/x",
            "https://172.16.3.4/x",
            "https://192.168.1.1/x",
            "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/x",
            "https://0.0.0.0/x",
            "https://[::1]/x",
            "https://[fd00::1]/x",
            "https://[fe80::1]/x",
            "https://[::ffff:10.0.0.1]/x",
            "https://metadata/x",
            "https://printer.local/x",
            "https://svc.internal/x",
            "https://user:pw@push.example.com/x",
            "not a url",
            "",
        ] {
            assert!(
                matches!(parse(e), Err(ChatError::BadRequest(_))),
                "{e} accepted"
            );
        }
        let long = format!("https://push.example.com/{}", "a".repeat(MAX_ENDPOINT_LEN));
        assert!(parse(&long).is_err());
    }

    #[test]
    fn loopback_is_accepted_only_when_the_rules_allow_it() {
        let dev = EndpointRules {
            allow_loopback: true,
        };
        for e in [
            "http://127.0.0.1:9999/push",
            "http://localhost:1/p",
            "http://[::1]:2/p",
        ] {
            assert!(parse(e).is_err(), "{e}");
            assert!(PushSubscription::parse(e, P256, AUTH, dev).is_ok(), "{e}");
        }
        // Never a private network address, even then.
        assert!(PushSubscription::parse("http://10.0.0.1/p", P256, AUTH, dev).is_err());
        assert!(PushSubscription::parse("https://10.0.0.1/p", P256, AUTH, dev).is_err());
    }

    #[test]
    fn keys_of_the_wrong_length_or_encoding_are_refused() {
        let e = "https://push.example.com/x";
        let r = EndpointRules::default();
        let short = URL_SAFE_NO_PAD.encode([4u8; 64]);
        let compressed = URL_SAFE_NO_PAD.encode([2u8; 65]);
        for (p, a) in [
            (short.as_str(), AUTH),
            (compressed.as_str(), AUTH),
            ("not base64!", AUTH),
            (P256, "AAAA"),
            (P256, "not*base64"),
            (P256, ""),
        ] {
            assert!(
                matches!(
                    PushSubscription::parse(e, p, a, r),
                    Err(ChatError::BadRequest(_))
                ),
                "{p} {a}"
            );
        }
    }

    #[test]
    fn private_addresses_are_not_public() {
        assert!(is_public("8.8.8.8".parse().unwrap()));
        assert!(is_public("2606:4700::1111".parse().unwrap()));
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "169.254.0.1",
            "::1",
            "fc00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    fn u(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }
    fn r(s: &str) -> RoomId {
        RoomId::parse(s).unwrap()
    }

    #[test]
    fn the_policy_decides_by_dnd_mutes_and_mentions() {
        let (bob, alice, carol, room, other) =
            (u("bob"), u("alice"), u("carol"), r("r_1"), r("r_2"));
        let allows = |p: &NotifyPolicy, room: &RoomId, sender: &UserId, body: &str, now| {
            p.allows(&bob, room, sender, body, now)
        };
        let p = NotifyPolicy::default();
        assert!(allows(&p, &room, &alice, "hi", 0));

        let dnd = NotifyPolicy {
            dnd: Dnd::On,
            ..Default::default()
        };
        assert!(!allows(&dnd, &room, &alice, "hi @bob", 0));
        let until = NotifyPolicy {
            dnd: Dnd::Until { until: 1_000 },
            ..Default::default()
        };
        assert!(!allows(&until, &room, &alice, "hi", 999));
        assert!(allows(&until, &room, &alice, "hi", 1_000));

        let muted = NotifyPolicy {
            muted_rooms: [room.clone()].into(),
            muted_users: [carol.clone()].into(),
            ..Default::default()
        };
        assert!(!allows(&muted, &room, &alice, "hi @bob", 0));
        assert!(allows(&muted, &other, &alice, "hi", 0));
        assert!(!allows(&muted, &other, &carol, "hi @bob", 0));

        let mentions = NotifyPolicy {
            mentions_only_rooms: [room.clone()].into(),
            ..Default::default()
        };
        assert!(!allows(&mentions, &room, &alice, "hi bob", 0));
        assert!(allows(&mentions, &room, &alice, "hi @bob!", 0));
        assert!(allows(&mentions, &other, &alice, "hi bob", 0));
        let everywhere = NotifyPolicy {
            mentions_only: true,
            ..Default::default()
        };
        assert!(!allows(&everywhere, &other, &alice, "hi", 0));
        assert!(allows(&everywhere, &other, &alice, "@bob", 0));
    }

    #[test]
    fn a_mention_is_the_whole_id() {
        let bob = u("bob");
        assert!(mentions("@bob", &bob));
        assert!(mentions("hey @bob, look", &bob));
        assert!(mentions("(@bob)", &bob));
        assert!(mentions("see @bob.", &bob));
        assert!(!mentions("@bobby", &bob));
        assert!(!mentions("@bob-2", &bob));
        assert!(!mentions("mail@bob", &bob));
        assert!(!mentions("@bob.smith", &bob));
        assert!(!mentions("bob", &bob));
    }

    #[test]
    fn bodies_only_when_enabled_and_never_for_encrypted_rooms() {
        let p = |inc, enc| Payload::new(r("r_1"), u("alice"), 1, 7, "secret", inc, enc).body;
        assert_eq!(p(false, false), None);
        assert_eq!(p(true, false).as_deref(), Some("secret"));
        assert_eq!(p(true, true), None);
    }

    #[test]
    fn policy_json_round_trips_and_oversize_lists_are_refused() {
        let p: NotifyPolicy = serde_json::from_str(
            r#"{"dnd":{"mode":"until","until":5},"mutedRooms":["r_1"],"mentionsOnly":true,
                "mentionsOnlyRooms":[],"mutedUsers":[]}"#,
        )
        .unwrap();
        assert_eq!(p.dnd, Dnd::Until { until: 5 });
        assert!(p.validate().is_ok());
        let big = NotifyPolicy {
            muted_users: (0..=MAX_POLICY_ENTRIES)
                .map(|i| u(&format!("u{i}")))
                .collect(),
            ..Default::default()
        };
        assert!(big.validate().is_err());
    }
}
