//! Mobile push devices: an FCM or APNs token a native app registers
//! (`POST /users/me/devices` with `{"kind": "fcm"|"apns", "token"}`), sent
//! to through an SNS platform endpoint in AWS ([`crate::ports::MobilePush`]).
//!
//! - [`MobileToken::parse`] is the one decoder of a token: FCM registration
//!   tokens are 32–4096 characters of `[A-Za-z0-9_:-]`; APNs device tokens
//!   64–200 hex digits. The device id derives from kind and token, so
//!   registering the same token again replaces it (and SNS's
//!   CreatePlatformEndpoint is idempotent per token too).
//! - [`sns_message`] is what is published: SNS's JSON message structure
//!   with one payload per platform (`GCM`, `APNS`, `APNS_SANDBOX`), built
//!   from the same [`Payload`] as a Web Push, so the body is there only
//!   when the deployment includes bodies and the room is not end-to-end
//!   encrypted.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::ChatError;
use crate::notify::{DeviceId, Payload};

/// The mobile push services a deployment may have an SNS platform
/// application for.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MobilePlatform {
    /// Firebase Cloud Messaging (SNS platform `GCM`).
    Fcm,
    /// Apple Push Notification service (SNS platform `APNS`).
    Apns,
}

impl MobilePlatform {
    pub const ALL: [MobilePlatform; 2] = [MobilePlatform::Fcm, MobilePlatform::Apns];

    pub fn as_str(self) -> &'static str {
        match self {
            MobilePlatform::Fcm => "fcm",
            MobilePlatform::Apns => "apns",
        }
    }

    /// SNS's name of the platform, in its platform application and
    /// endpoint ARNs (`app/GCM/…`, `endpoint/APNS/…`).
    pub fn sns_platform(self) -> &'static str {
        match self {
            MobilePlatform::Fcm => "GCM",
            MobilePlatform::Apns => "APNS",
        }
    }

    pub fn parse(kind: &str) -> Result<Self, ChatError> {
        match kind {
            "fcm" => Ok(MobilePlatform::Fcm),
            "apns" => Ok(MobilePlatform::Apns),
            _ => Err(ChatError::BadRequest(
                "kind must be \"fcm\" or \"apns\"".into(),
            )),
        }
    }
}

impl std::fmt::Display for MobilePlatform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Longest FCM registration token accepted.
pub const MAX_FCM_TOKEN: usize = 4096;

/// A validated mobile push token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MobileToken {
    pub platform: MobilePlatform,
    pub token: String,
}

impl MobileToken {
    pub fn parse(kind: &str, token: &str) -> Result<Self, ChatError> {
        let platform = MobilePlatform::parse(kind)?;
        let bad = |m: &str| Err(ChatError::BadRequest(m.to_owned()));
        match platform {
            MobilePlatform::Fcm => {
                if !(32..=MAX_FCM_TOKEN).contains(&token.len()) {
                    return bad("an fcm token is 32 to 4096 characters");
                }
                let ok = token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':'));
                if !ok {
                    return bad("an fcm token holds only letters, digits, '_', '-' and ':'");
                }
            }
            MobilePlatform::Apns => {
                let ok = (64..=200).contains(&token.len())
                    && token.len() % 2 == 0
                    && token.bytes().all(|b| b.is_ascii_hexdigit());
                if !ok {
                    return bad("an apns token is 64 to 200 hex digits");
                }
            }
        }
        Ok(Self {
            platform,
            // APNs tokens are case-insensitive hex: one device, one id.
            token: match platform {
                MobilePlatform::Apns => token.to_ascii_lowercase(),
                MobilePlatform::Fcm => token.to_owned(),
            },
        })
    }

    pub fn device_id(&self) -> DeviceId {
        DeviceId::of_endpoint(&format!("{}:{}", self.platform, self.token))
    }

    /// What the owner sees of it in a device list: the kind and the
    /// token's first characters.
    pub fn display(&self) -> String {
        let head: String = self.token.chars().take(8).collect();
        format!("{}:{head}…", self.platform)
    }
}

/// A registered mobile device: its token and the SNS platform endpoint
/// created for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MobileEndpoint {
    #[serde(flatten)]
    pub token: MobileToken,
    pub endpoint_arn: String,
}

/// What `POST /users/me/devices` registers, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Registration {
    WebPush(crate::notify::PushSubscription),
    Mobile(MobileToken),
}

impl Registration {
    /// The one decoder of a device registration: a Web Push subscription
    /// (`endpoint` and `keys`) or a mobile token (`kind` and `token`),
    /// never a mix of both.
    pub fn parse(
        req: &crate::protocol::rest::RegisterDeviceRequest,
        rules: crate::notify::EndpointRules,
    ) -> Result<Self, ChatError> {
        let bad = |m: &str| Err(ChatError::BadRequest(m.to_owned()));
        let web = req.endpoint.is_some() || req.keys.is_some();
        let mobile = req.kind.is_some() || req.token.is_some();
        match (web, mobile) {
            (true, true) => bad("a device is a Web Push subscription (endpoint, keys) or a mobile token (kind, token), not both"),
            (false, false) => bad("endpoint and keys (Web Push) or kind and token (mobile) are required"),
            (true, false) => {
                let (Some(endpoint), Some(keys)) = (&req.endpoint, &req.keys) else {
                    return bad("a Web Push subscription needs endpoint and keys");
                };
                crate::notify::PushSubscription::parse(endpoint, &keys.p256dh, &keys.auth, rules)
                    .map(Registration::WebPush)
            }
            (false, true) => {
                let (Some(kind), Some(token)) = (&req.kind, &req.token) else {
                    return bad("a mobile device needs kind and token");
                };
                MobileToken::parse(kind, token).map(Registration::Mobile)
            }
        }
    }
}

/// The SNS `Message` (with `MessageStructure=json`) for `payload`: a
/// data-only FCM message the app shows, and an APNs alert that names no
/// message text unless the payload carries a body.
pub fn sns_message(payload: &Payload) -> String {
    let data = json!({
        "roomId": payload.room_id,
        "senderId": payload.sender_id,
        "count": payload.count.to_string(),
        "seq": payload.seq.to_string(),
    });
    let mut data = data;
    if let Some(body) = &payload.body {
        data["body"] = json!(body);
    }
    let gcm = json!({ "data": data });
    let text = match &payload.body {
        Some(body) => body.clone(),
        None if payload.count > 1 => format!("{} new messages", payload.count),
        None => "New message".to_owned(),
    };
    let apns = json!({
        "aps": {
            "alert": { "title": payload.sender_id, "body": text },
            "thread-id": payload.room_id,
        },
        "roomId": payload.room_id,
        "seq": payload.seq,
        "count": payload.count,
    });
    json!({
        "default": "New message",
        "GCM": gcm.to_string(),
        "APNS": apns.to_string(),
        "APNS_SANDBOX": apns.to_string(),
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{RoomId, UserId};

    const FCM: &str = "dQw4w9WgXcQ:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx";
    const APNS: &str = "740F4707BEBCF74F9B7C25D48E3358945F6AA01DA5DDB387462C7EAF61BB78AD";

    #[test]
    fn tokens_of_each_kind_parse_and_their_id_is_stable() {
        let f = MobileToken::parse("fcm", FCM).unwrap();
        assert_eq!(f.platform, MobilePlatform::Fcm);
        assert_eq!(
            f.device_id(),
            MobileToken::parse("fcm", FCM).unwrap().device_id()
        );
        let a = MobileToken::parse("apns", APNS).unwrap();
        // One device whatever the hex case.
        let lower = MobileToken::parse("apns", &APNS.to_ascii_lowercase()).unwrap();
        assert_eq!(a.device_id(), lower.device_id());
        assert_ne!(a.device_id(), f.device_id());
        assert!(DeviceId::parse(a.device_id().as_str()).is_ok());
        assert_eq!(f.display(), "fcm:dQw4w9Wg…");
    }

    #[test]
    fn an_unknown_kind_and_malformed_tokens_are_refused() {
        for (kind, token) in [
            ("gcm", FCM),
            ("FCM", FCM),
            ("", FCM),
            ("webpush", FCM),
            ("fcm", "short"),
            (
                "fcm",
                "has spaces in it and is long enough to pass the length",
            ),
            ("fcm", "a/b.c+d=e0123456789012345678901234567890"),
            ("apns", "xyz"),
            ("apns", &APNS[1..]),
            ("apns", &APNS.replace('F', "G")),
        ] {
            assert!(
                matches!(
                    MobileToken::parse(kind, token),
                    Err(ChatError::BadRequest(_))
                ),
                "{kind} {token}"
            );
        }
        let long = "a".repeat(MAX_FCM_TOKEN + 1);
        assert!(MobileToken::parse("fcm", &long).is_err());
    }

    fn payload(body: Option<&str>, count: u32) -> Payload {
        Payload::new(
            RoomId::parse("r_1").unwrap(),
            UserId::parse("alice").unwrap(),
            count,
            7,
            body.unwrap_or(""),
            body.is_some(),
            false,
        )
    }

    #[test]
    fn the_sns_message_has_a_payload_per_platform_and_a_body_only_when_the_payload_has_one() {
        let m: serde_json::Value = serde_json::from_str(&sns_message(&payload(None, 3))).unwrap();
        let gcm: serde_json::Value = serde_json::from_str(m["GCM"].as_str().unwrap()).unwrap();
        assert_eq!(gcm["data"]["roomId"], "r_1");
        assert_eq!(gcm["data"]["count"], "3");
        assert!(gcm["data"].get("body").is_none());
        let apns: serde_json::Value = serde_json::from_str(m["APNS"].as_str().unwrap()).unwrap();
        assert_eq!(apns["aps"]["alert"]["body"], "3 new messages");
        assert_eq!(m["APNS"], m["APNS_SANDBOX"]);
        assert!(!sns_message(&payload(None, 1)).contains("secret"));

        let m: serde_json::Value =
            serde_json::from_str(&sns_message(&payload(Some("secret"), 1))).unwrap();
        let gcm: serde_json::Value = serde_json::from_str(m["GCM"].as_str().unwrap()).unwrap();
        assert_eq!(gcm["data"]["body"], "secret");
        // An encrypted room's payload has no body, whatever the deployment says.
        let sealed = Payload::new(
            RoomId::parse("r_1").unwrap(),
            UserId::parse("alice").unwrap(),
            1,
            7,
            "secret",
            true,
            true,
        );
        assert!(!sns_message(&sealed).contains("secret"));
    }
}
