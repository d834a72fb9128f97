//! Validated newtypes: every identifier and user-supplied text that crosses a
//! boundary is parsed once into one of these, so the rest of the code cannot
//! see an unchecked value ("parse, don't validate").

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ChatError;

fn is_id_char(c: char, extra: &str) -> bool {
    c.is_ascii_alphanumeric() || extra.contains(c)
}

fn parse_id(kind: &'static str, raw: &str, max: usize, extra: &str) -> Result<String, ChatError> {
    if raw.is_empty() {
        return Err(ChatError::BadRequest(format!("{kind} must not be empty")));
    }
    if raw.len() > max {
        return Err(ChatError::BadRequest(format!(
            "{kind} is longer than {max} bytes"
        )));
    }
    if !raw.chars().all(|c| is_id_char(c, extra)) {
        return Err(ChatError::BadRequest(format!(
            "{kind} has characters outside [A-Za-z0-9{extra}]"
        )));
    }
    Ok(raw.to_owned())
}

/// The JSON Schema `pattern` of an id whose characters are `[A-Za-z0-9]`
/// and `extra` (an ECMA-262 character class, as JSON Schema patterns are).
#[cfg(feature = "schema")]
fn id_pattern(extra: &str) -> String {
    format!("^[A-Za-z0-9{}]+$", extra.replace('-', "\\-"))
}

/// Unicode's control characters (what `char::is_control` refuses) and the
/// bidirectional controls [`is_bidi_control`] refuses, as a JSON Schema
/// `pattern` that refuses them.
#[cfg(feature = "schema")]
const NO_CONTROLS: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]*$";

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $max:expr, $extra:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Longest accepted value, in bytes.
            pub const MAX_LEN: usize = $max;

            pub fn parse(raw: &str) -> Result<Self, ChatError> {
                parse_id($kind, raw, $max, $extra).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }

        #[cfg(feature = "schema")]
        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "string",
                    "minLength": 1,
                    "maxLength": $max,
                    "pattern": id_pattern($extra),
                })
            }
        }
    };
}

id_type!(
    /// A user's stable id: the `sub` claim of their verified token
    /// (a Cognito sub is a UUID; local dev tokens use names like `alice`).
    UserId, "userId", 128, "-_.@"
);
id_type!(
    /// A room id, minted by the server (`r_…` for groups/channels, `dm_…` for direct rooms).
    RoomId, "roomId", 64, "-_"
);
id_type!(
    /// An API Gateway connection id (base64-like, e.g. `L0SM9cOFvHcCIhw=`).
    ConnectionId, "connectionId", 128, "-_=+/"
);
id_type!(
    /// A server-assigned message id (UUIDv7, time ordered).
    MessageId, "messageId", 64, "-_"
);
id_type!(
    /// The client's idempotency key for one message.
    ClientMsgId, "clientMsgId", 64, "-_.:"
);
id_type!(
    /// A server-assigned attachment id (UUIDv7), handed out with an upload
    /// slot and referenced by the message that carries the attachment.
    AttachmentId, "attachmentId", 64, "-_"
);

impl AttachmentId {
    /// A fresh, unguessable id.
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().simple().to_string())
    }
}

impl MessageId {
    /// A fresh, time-ordered id.
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().simple().to_string())
    }
}

impl RoomId {
    /// A fresh id for a group or channel.
    pub fn generate() -> Self {
        Self(format!("r_{}", uuid::Uuid::now_v7().simple()))
    }

    /// Whether the id is of a direct room (minted by [`RoomId::direct`]).
    /// The room's `kind` is the authority; this lets a reader start work
    /// for a direct room before the room is read.
    pub fn is_direct(&self) -> bool {
        self.0.starts_with("dm_") || self.is_encrypted()
    }

    /// Whether the id is of an end-to-end encrypted direct room (minted by
    /// [`RoomId::direct_encrypted`]): chosen at creation and never changed,
    /// since the id says it ([`crate::e2ee`]).
    pub fn is_encrypted(&self) -> bool {
        self.0.starts_with("dme_")
    }

    /// Whether this is a direct room (plain or encrypted) of the pair `a`, `b`.
    pub fn is_direct_of(&self, a: &UserId, b: &UserId) -> bool {
        *self == Self::direct(a, b) || *self == Self::direct_encrypted(a, b)
    }

    /// The one end-to-end encrypted direct room of a pair, beside (and
    /// distinct from) its plain one ([`RoomId::direct`]).
    pub fn direct_encrypted(a: &UserId, b: &UserId) -> Self {
        let plain = Self::direct(a, b);
        Self(format!("dme_{}", &plain.0["dm_".len()..]))
    }

    /// The one room id a pair of users shares for their direct conversation,
    /// whatever order they are given in: this is what makes "one direct room
    /// per pair" a key constraint rather than a lookup.
    pub fn direct(a: &UserId, b: &UserId) -> Self {
        use sha2::{Digest, Sha256};
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let mut h = Sha256::new();
        h.update(lo.as_str().as_bytes());
        h.update([0u8]);
        h.update(hi.as_str().as_bytes());
        let digest = h.finalize();
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        Self(format!("dm_{hex}"))
    }
}

/// A per-room sequence number: strictly increasing, never reused.
pub type Seq = u64;

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// Unicode's explicit embedding, override and isolate controls.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn clean_text(kind: &'static str, raw: &str, max_chars: usize) -> Result<String, ChatError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(ChatError::BadRequest(format!("{kind} must not be empty")));
    }
    if trimmed.chars().count() > max_chars {
        return Err(ChatError::BadRequest(format!(
            "{kind} is longer than {max_chars} characters"
        )));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ChatError::BadRequest(format!(
            "{kind} must not contain control characters"
        )));
    }
    // Names are shown beside other people's words: an override or isolate
    // could make one name read as another ("Trojan Source" style spoofing).
    if trimmed.chars().any(is_bidi_control) {
        return Err(ChatError::BadRequest(format!(
            "{kind} must not contain bidirectional control characters"
        )));
    }
    Ok(trimmed.to_owned())
}

/// A message body: UTF-8 text (JSON strings are always valid UTF-8), not blank,
/// at most the configured number of bytes (default 4 KB) and characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageBody(String);

impl MessageBody {
    pub fn parse(raw: &str, max_bytes: usize, max_chars: usize) -> Result<Self, ChatError> {
        if raw.trim().is_empty() {
            return Err(ChatError::BadRequest("body must not be empty".into()));
        }
        if raw.len() > max_bytes {
            return Err(ChatError::TooLarge(format!(
                "body is longer than {max_bytes} bytes"
            )));
        }
        if raw.chars().count() > max_chars {
            return Err(ChatError::TooLarge(format!(
                "body is longer than {max_chars} characters"
            )));
        }
        // Newlines and tabs are text; other control characters are not.
        if raw
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
        {
            return Err(ChatError::BadRequest(
                "body must not contain control characters".into(),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The empty body of a message that carries attachments only.
    pub fn empty() -> Self {
        Self(String::new())
    }

    /// A body read back from storage: validated on the way in, so only
    /// checked to be text (empty for an attachments-only message).
    pub fn stored(raw: &str) -> Result<Self, ChatError> {
        if raw.is_empty() {
            return Ok(Self::empty());
        }
        Self::parse(raw, usize::MAX, usize::MAX)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            pub fn parse(raw: &str) -> Result<Self, ChatError> {
                clean_text($kind, raw, $max).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }

        /// Characters as JSON Schema counts them (code points), as
        /// [`clean_text`] does, after trimming.
        #[cfg(feature = "schema")]
        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "string",
                    "minLength": 1,
                    "maxLength": $max,
                    "pattern": NO_CONTROLS,
                })
            }
        }
    };
}

text_type!(
    /// A display name: trimmed, 1–64 characters, no control characters.
    DisplayName, "displayName", 64
);
text_type!(
    /// A room name: trimmed, 1–100 characters, no control characters.
    RoomName, "name", 100
);
text_type!(
    /// An attachment's file name as its sender named it: trimmed, 1–255
    /// characters, no control or bidirectional control characters (a
    /// right-to-left override would make `gnp.exe` read as `exe.png`).
    FileName, "fileName", 255
);

impl DisplayName {
    /// The name shown for a user who has not chosen one: their id, cut to
    /// the display-name length (user id characters are all valid here).
    pub fn for_user(user: &UserId) -> Self {
        Self(user.as_str().chars().take(Self::MAX_CHARS).collect())
    }
}

/// An avatar URL: absolute `https://` (or `http://` for local development),
/// at most 1024 bytes, no whitespace or quotes (it ends up in an `src` attribute).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct AvatarUrl(String);

impl AvatarUrl {
    pub const MAX_LEN: usize = 1024;

    pub fn parse(raw: &str) -> Result<Self, ChatError> {
        let ok_scheme = raw.starts_with("https://") || raw.starts_with("http://");
        if !ok_scheme {
            return Err(ChatError::BadRequest(
                "avatarUrl must be an http(s) URL".into(),
            ));
        }
        if raw.len() > Self::MAX_LEN {
            return Err(ChatError::BadRequest(format!(
                "avatarUrl is longer than {} bytes",
                Self::MAX_LEN
            )));
        }
        if raw.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '<' | '>' | '`')
        }) {
            return Err(ChatError::BadRequest(
                "avatarUrl has characters not allowed in a URL".into(),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for AvatarUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// `maxLength` counts characters where [`AvatarUrl::parse`] counts bytes:
/// the same for the ASCII URLs are in practice, never stricter.
#[cfg(feature = "schema")]
impl schemars::JsonSchema for AvatarUrl {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AvatarUrl".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "maxLength": AvatarUrl::MAX_LEN,
            "pattern": "^https?://[^\\s\\u0000-\\u001f\\u007f-\\u009f\"'<>`]*$",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_reject_empty_long_and_foreign_characters() {
        assert!(UserId::parse("alice").is_ok());
        assert!(UserId::parse("").is_err());
        assert!(UserId::parse(&"a".repeat(129)).is_err());
        assert!(UserId::parse("al ice").is_err());
        assert!(UserId::parse("<script>").is_err());
        assert!(RoomId::parse("r_0190").is_ok());
        assert!(RoomId::parse("r/../x").is_err());
        assert!(ConnectionId::parse("L0SM9cOFvHcCIhw=").is_ok());
    }

    #[test]
    fn direct_room_id_is_the_same_for_both_orders_and_differs_per_pair() {
        let a = UserId::parse("alice").unwrap();
        let b = UserId::parse("bob").unwrap();
        let c = UserId::parse("carol").unwrap();
        assert_eq!(RoomId::direct(&a, &b), RoomId::direct(&b, &a));
        assert_ne!(RoomId::direct(&a, &b), RoomId::direct(&a, &c));
        assert!(RoomId::parse(RoomId::direct(&a, &b).as_str()).is_ok());
        let e = RoomId::direct_encrypted(&a, &b);
        assert!(RoomId::parse(e.as_str()).is_ok());
        assert_eq!(e, RoomId::direct_encrypted(&b, &a));
        assert_ne!(e, RoomId::direct(&a, &b));
        assert!(e.is_direct() && e.is_encrypted() && e.is_direct_of(&b, &a));
        assert!(RoomId::direct(&a, &b).is_direct_of(&a, &b));
        assert!(!RoomId::direct(&a, &b).is_encrypted());
        assert!(!e.is_direct_of(&a, &c));
        assert!(!RoomId::generate().is_direct());
    }

    #[test]
    fn body_limits_count_bytes_and_characters() {
        assert!(MessageBody::parse("hi", 10, 10).is_ok());
        assert!(matches!(
            MessageBody::parse("   ", 10, 10),
            Err(ChatError::BadRequest(_))
        ));
        // 4 characters, 12 bytes.
        assert!(matches!(
            MessageBody::parse("€€€€", 10, 10),
            Err(ChatError::TooLarge(_))
        ));
        assert!(matches!(
            MessageBody::parse("abcdef", 100, 5),
            Err(ChatError::TooLarge(_))
        ));
        assert!(MessageBody::parse("line\nnext", 100, 100).is_ok());
        assert!(MessageBody::parse("bell\u{7}", 100, 100).is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(DisplayName::parse("  Alice ").unwrap().as_str(), "Alice");
        assert!(DisplayName::parse(&"x".repeat(65)).is_err());
        assert!(RoomName::parse("\t").is_err());
        // A right-to-left override would make "alice\u{202E}gnp.exe" read otherwise.
        assert!(DisplayName::parse("alice\u{202E}gnp.exe").is_err());
        assert!(RoomName::parse("\u{2067}team").is_err());
        assert!(
            DisplayName::parse("שלום").is_ok(),
            "right-to-left text itself is fine"
        );
    }

    #[test]
    fn avatar_urls_must_be_http_and_attribute_safe() {
        assert!(AvatarUrl::parse("https://cdn.example.com/a.png").is_ok());
        assert!(AvatarUrl::parse("javascript:alert(1)").is_err());
        assert!(AvatarUrl::parse("https://x/\" onerror=\"x").is_err());
    }
}
