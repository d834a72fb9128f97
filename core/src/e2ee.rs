//! End-to-end encrypted direct rooms: the values the server sees and the
//! rules it checks. The server never holds a key that opens a message: it
//! stores each device's public key, checks the shape and bounds of what a
//! sender seals, and relays the opaque result.
//!
//! - A device publishes a P-256 public key ([`DeviceKey`], `PUT
//!   /users/me/keys/{deviceId}`), at most [`MAX_DEVICES_PER_USER`] per user.
//!   A point that is not on the curve is refused when it is parsed.
//! - A message of an encrypted room ([`RoomId::is_encrypted`]) has no body:
//!   it carries a [`Sealed`] payload (AES-256-GCM of the content under a
//!   fresh message key, the room, sender and `clientMsgId` bound as
//!   associated data, see [`aad`]) and one [`Envelope`] per device of both
//!   members (the message key wrapped with ephemeral-static ECDH, HKDF-SHA256
//!   and AES-256-GCM). The envelopes must name exactly the members' current
//!   devices ([`check_envelopes`]): a deleted or unknown device, or a device
//!   left out, is refused naming them, and the client fetches the keys again.
//! - The same nonce and ciphertext may be stored once per room: a replay
//!   under another `clientMsgId` is refused ([`seal_digest`], claimed through
//!   [`crate::ports::KeyStore::claim_seal`]).
//!
//! The wire format and the client's algorithm are in docs/PROTOCOL.md
//! ("End-to-end encrypted direct rooms"); what this protects and what it
//! does not, in docs/SECURITY.md.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ChatError;
use crate::ids::{ClientMsgId, Millis, RoomId, UserId};

/// Most device keys one user may publish.
pub const MAX_DEVICES_PER_USER: usize = 8;
/// Most envelopes one message carries: every device of both members.
pub const MAX_ENVELOPES: usize = 2 * MAX_DEVICES_PER_USER;
/// Largest sealed ciphertext, decoded (the content and its 16-byte tag).
pub const MAX_SEALED_BYTES: usize = 16 * 1024;
/// An AES-GCM nonce.
pub const NONCE_LEN: usize = 12;
/// A wrapped message key: 32 key bytes and the 16-byte tag.
pub const WRAPPED_KEY_LEN: usize = 48;
/// An uncompressed SEC1 P-256 point.
pub const POINT_LEN: usize = 65;
/// The AES-GCM tag, the least a ciphertext can be.
pub const TAG_LEN: usize = 16;
/// The only sealed format there is.
pub const SEALED_VERSION: u8 = 1;

fn b64(kind: &'static str, raw: &str) -> Result<Vec<u8>, ChatError> {
    URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| ChatError::BadRequest(format!("{kind} is not unpadded base64url")))
}

/// A device's id, chosen by the device (`[A-Za-z0-9_-]`, 1 to 64 bytes).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct DeviceId(String);

impl DeviceId {
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, ChatError> {
        let ok = !raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ChatError::BadRequest(
                "deviceId must be 1 to 64 characters of [A-Za-z0-9_-]".into(),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for DeviceId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for DeviceId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "KeyDeviceId".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "minLength": 1,
            "maxLength": 64,
            "pattern": "^[A-Za-z0-9_-]+$",
        })
    }
}

/// A P-256 public key: the uncompressed SEC1 point (65 bytes) in unpadded
/// base64url, checked to be on the curve (and not the identity) on parse.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct PublicKey(String);

impl PublicKey {
    pub fn parse(raw: &str) -> Result<Self, ChatError> {
        let bytes = b64("publicKey", raw)?;
        if bytes.len() != POINT_LEN || bytes[0] != 4 {
            return Err(ChatError::BadRequest(
                "publicKey must be an uncompressed P-256 point (65 bytes)".into(),
            ));
        }
        p256::PublicKey::from_sec1_bytes(&bytes)
            .map_err(|_| ChatError::BadRequest("publicKey is not a point of P-256".into()))?;
        // One spelling per key: fingerprints compare strings.
        Ok(Self(URL_SAFE_NO_PAD.encode(&bytes)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for PublicKey {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PublicKey".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "An uncompressed SEC1 P-256 point, unpadded base64url (87 characters)",
            "minLength": 87,
            "maxLength": 87,
            "pattern": "^[A-Za-z0-9_-]+$",
        })
    }
}

/// Bytes of a fixed length, unpadded base64url on the wire.
macro_rules! fixed_bytes {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $len:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, ChatError> {
                let bytes = b64($kind, raw)?;
                if bytes.len() != $len {
                    return Err(ChatError::BadRequest(format!(
                        "{} must be {} bytes",
                        $kind, $len
                    )));
                }
                Ok(Self(URL_SAFE_NO_PAD.encode(&bytes)))
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

        #[cfg(feature = "schema")]
        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                let chars = ($len * 4).div_ceil(3);
                schemars::json_schema!({
                    "type": "string",
                    "description": format!("{} bytes, unpadded base64url", $len),
                    "minLength": chars,
                    "maxLength": chars,
                    "pattern": "^[A-Za-z0-9_-]+$",
                })
            }
        }
    };
}

fixed_bytes!(
    /// An AES-GCM nonce (12 bytes).
    Nonce, "nonce", NONCE_LEN
);
fixed_bytes!(
    /// A message key wrapped to one device (32 bytes and the tag).
    WrappedKey, "wrappedKey", WRAPPED_KEY_LEN
);

/// A sealed ciphertext: at least the tag, at most [`MAX_SEALED_BYTES`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Ciphertext(String);

impl Ciphertext {
    pub fn parse(raw: &str) -> Result<Self, ChatError> {
        // Checked before decoding: an oversize string costs nothing more.
        if raw.len() > (MAX_SEALED_BYTES * 4).div_ceil(3) {
            return Err(ChatError::TooLarge(format!(
                "a sealed payload is at most {MAX_SEALED_BYTES} bytes"
            )));
        }
        let bytes = b64("ciphertext", raw)?;
        if bytes.len() < TAG_LEN {
            return Err(ChatError::BadRequest(
                "ciphertext is shorter than its tag".into(),
            ));
        }
        Ok(Self(URL_SAFE_NO_PAD.encode(&bytes)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Ciphertext {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Ciphertext {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Ciphertext".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "AES-256-GCM ciphertext with its tag, unpadded base64url, at most 16 KiB decoded",
            "minLength": 22,
            "maxLength": (MAX_SEALED_BYTES * 4).div_ceil(3),
            "pattern": "^[A-Za-z0-9_-]+$",
        })
    }
}

/// The message key wrapped to one device: ECDH of a fresh ephemeral key
/// with the device's key, HKDF-SHA256, AES-256-GCM (docs/PROTOCOL.md).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Envelope {
    pub user_id: UserId,
    pub device_id: DeviceId,
    pub ephemeral_key: PublicKey,
    pub nonce: Nonce,
    pub wrapped_key: WrappedKey,
}

/// What an encrypted room's message carries instead of a body.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Sealed {
    /// Always 1.
    pub v: u8,
    pub nonce: Nonce,
    pub ciphertext: Ciphertext,
    /// One per current device of both members: 1 to [`MAX_ENVELOPES`]
    /// (checked by the server, not the schema: a bounded array becomes a
    /// tuple type in generated TypeScript).
    pub envelopes: Vec<Envelope>,
}

impl Sealed {
    /// The checks that need nothing but the value: version, envelope count,
    /// no device twice.
    pub fn check_shape(&self) -> Result<(), ChatError> {
        if self.v != SEALED_VERSION {
            return Err(ChatError::BadRequest(format!(
                "sealed.v must be {SEALED_VERSION}"
            )));
        }
        if self.envelopes.is_empty() {
            return Err(ChatError::BadRequest("sealed has no envelopes".into()));
        }
        if self.envelopes.len() > MAX_ENVELOPES {
            return Err(ChatError::TooLarge(format!(
                "a sealed message has at most {MAX_ENVELOPES} envelopes"
            )));
        }
        let mut seen = BTreeSet::new();
        for e in &self.envelopes {
            if !seen.insert((&e.user_id, &e.device_id)) {
                return Err(ChatError::BadRequest(format!(
                    "two envelopes for device {}/{}",
                    e.user_id, e.device_id
                )));
            }
        }
        Ok(())
    }
}

/// The associated data of a message's ciphertext: moving it to another
/// room, sender or `clientMsgId` makes it fail to open. Ids cannot hold a
/// newline, so the join is unambiguous.
pub fn aad(room: &RoomId, sender: &UserId, client_msg_id: &ClientMsgId) -> Vec<u8> {
    format!("chat-e2ee/v1\n{room}\n{sender}\n{client_msg_id}").into_bytes()
}

/// The associated data of an edit's ciphertext (`editMessage` with
/// `sealed`): bound to the room, the sender and the edited message's `seq`,
/// under another label than a send's ([`aad`]), so an edit opens neither as
/// another message's edit nor as a send, and a send never as an edit.
pub fn edit_aad(room: &RoomId, sender: &UserId, seq: crate::ids::Seq) -> Vec<u8> {
    format!("chat-e2ee/v1 edit\n{room}\n{sender}\n{seq}").into_bytes()
}

/// What identifies a ciphertext for the replay guard: SHA-256 of the
/// nonce and the ciphertext, hex.
pub fn seal_digest(sealed: &Sealed) -> String {
    let mut h = Sha256::new();
    h.update(sealed.nonce.as_str().as_bytes());
    h.update([0u8]);
    h.update(sealed.ciphertext.as_str().as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// One published device key.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceKey {
    pub user_id: UserId,
    pub device_id: DeviceId,
    pub public_key: PublicKey,
    pub created_at: Millis,
}

/// `PUT /users/me/keys/{deviceId}`: the device's public key, and whose it
/// is. `userId` must be the caller's (identity comes from the token only:
/// a bundle naming anyone else is refused).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublishKeyRequest {
    pub user_id: UserId,
    pub public_key: PublicKey,
}

/// `GET /users/{userId}/keys`: a user's current device keys, and their
/// fingerprint ([`keys_fingerprint`]), which clients pin.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyList {
    pub user_id: UserId,
    pub fingerprint: String,
    pub devices: Vec<DeviceKey>,
}

/// The fingerprint of a user's set of device keys: what a client pins and
/// compares to see that the keys changed (hex SHA-256 of the sorted
/// `deviceId:publicKey` lines; empty set, empty string).
pub fn keys_fingerprint(keys: &[DeviceKey]) -> String {
    if keys.is_empty() {
        return String::new();
    }
    let mut lines: Vec<String> = keys
        .iter()
        .map(|k| format!("{}:{}", k.device_id, k.public_key.as_str()))
        .collect();
    lines.sort();
    let digest = Sha256::digest(lines.join("\n").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks that `envelopes` name exactly the current devices of the room's
/// members (`keys`, every member's): none unknown, none missing. The error
/// names the devices, so the client refetches the keys and seals again.
pub fn check_envelopes(
    envelopes: &[Envelope],
    keys: &BTreeMap<UserId, Vec<DeviceKey>>,
) -> Result<(), ChatError> {
    let current: BTreeSet<(&UserId, &DeviceId)> = keys
        .values()
        .flatten()
        .map(|k| (&k.user_id, &k.device_id))
        .collect();
    let named: BTreeSet<(&UserId, &DeviceId)> = envelopes
        .iter()
        .map(|e| (&e.user_id, &e.device_id))
        .collect();
    let list = |s: Vec<&(&UserId, &DeviceId)>| {
        s.iter()
            .map(|(u, d)| format!("{u}/{d}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let unknown: Vec<_> = named.difference(&current).collect();
    let missing: Vec<_> = current.difference(&named).collect();
    match (unknown.is_empty(), missing.is_empty()) {
        (true, true) => Ok(()),
        (false, _) => Err(ChatError::Conflict(format!(
            "stale keys: no such device {}; fetch the members' keys again",
            list(unknown)
        ))),
        (true, false) => Err(ChatError::Conflict(format!(
            "stale keys: no envelope for device {}; fetch the members' keys again",
            list(missing)
        ))),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A valid point: the generator of P-256.
    pub(crate) const G: &str =
        "BGsX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKWT-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU";

    pub(crate) fn envelope(user: &str, device: &str) -> Envelope {
        Envelope {
            user_id: UserId::parse(user).unwrap(),
            device_id: DeviceId::parse(device).unwrap(),
            ephemeral_key: PublicKey::parse(G).unwrap(),
            nonce: Nonce::parse("AAAAAAAAAAAAAAAA").unwrap(),
            wrapped_key: WrappedKey::parse(&URL_SAFE_NO_PAD.encode([7u8; 48])).unwrap(),
        }
    }

    fn key(user: &str, device: &str) -> DeviceKey {
        DeviceKey {
            user_id: UserId::parse(user).unwrap(),
            device_id: DeviceId::parse(device).unwrap(),
            public_key: PublicKey::parse(G).unwrap(),
            created_at: 1,
        }
    }

    #[test]
    fn public_keys_must_be_points_of_the_curve() {
        assert!(PublicKey::parse(G).is_ok());
        // The generator with its last byte changed is off the curve.
        let mut bytes = URL_SAFE_NO_PAD.decode(G).unwrap();
        bytes[64] ^= 1;
        let off = URL_SAFE_NO_PAD.encode(&bytes);
        assert!(
            matches!(PublicKey::parse(&off), Err(ChatError::BadRequest(m)) if m.contains("not a point"))
        );
        // Compressed, short, padded, not base64.
        bytes[0] = 2;
        assert!(PublicKey::parse(&URL_SAFE_NO_PAD.encode(&bytes[..33])).is_err());
        assert!(PublicKey::parse(&format!("{G}=")).is_err());
        assert!(PublicKey::parse("not base64!").is_err());
        assert!(PublicKey::parse("").is_err());
        // The point at infinity.
        assert!(PublicKey::parse(&URL_SAFE_NO_PAD.encode([0u8; 1])).is_err());
        assert!(PublicKey::parse(&URL_SAFE_NO_PAD.encode([4u8; 65])).is_err());
    }

    #[test]
    fn fixed_sizes_and_the_sealed_bound_are_enforced() {
        assert!(Nonce::parse(&URL_SAFE_NO_PAD.encode([0u8; 11])).is_err());
        assert!(Nonce::parse(&URL_SAFE_NO_PAD.encode([0u8; 12])).is_ok());
        assert!(WrappedKey::parse(&URL_SAFE_NO_PAD.encode([0u8; 32])).is_err());
        assert!(Ciphertext::parse(&URL_SAFE_NO_PAD.encode([0u8; 15])).is_err());
        assert!(Ciphertext::parse(&URL_SAFE_NO_PAD.encode(vec![0u8; MAX_SEALED_BYTES])).is_ok());
        assert!(matches!(
            Ciphertext::parse(&URL_SAFE_NO_PAD.encode(vec![0u8; MAX_SEALED_BYTES + 1])),
            Err(ChatError::TooLarge(_))
        ));
        assert!(DeviceId::parse("phone-1_a").is_ok());
        assert!(DeviceId::parse("a/b").is_err());
        assert!(DeviceId::parse(&"x".repeat(65)).is_err());
    }

    #[test]
    fn a_sealed_shape_is_checked() {
        let sealed = |envelopes: Vec<Envelope>, v: u8| Sealed {
            v,
            nonce: Nonce::parse("AAAAAAAAAAAAAAAA").unwrap(),
            ciphertext: Ciphertext::parse(&URL_SAFE_NO_PAD.encode([1u8; 20])).unwrap(),
            envelopes,
        };
        assert!(sealed(vec![envelope("a", "d")], 1).check_shape().is_ok());
        assert!(sealed(vec![envelope("a", "d")], 2).check_shape().is_err());
        assert!(sealed(vec![], 1).check_shape().is_err());
        assert!(sealed(vec![envelope("a", "d"), envelope("a", "d")], 1)
            .check_shape()
            .is_err());
        let many = (0..=MAX_ENVELOPES)
            .map(|i| envelope("a", &format!("d{i}")))
            .collect();
        assert!(matches!(
            sealed(many, 1).check_shape(),
            Err(ChatError::TooLarge(_))
        ));
        // Unknown fields are refused: nothing rides along unchecked.
        let v = serde_json::json!({"v":1,"nonce":"AAAAAAAAAAAAAAAA","ciphertext":URL_SAFE_NO_PAD.encode([1u8; 20]),"envelopes":[],"body":"hi"});
        assert!(serde_json::from_value::<Sealed>(v).is_err());
    }

    #[test]
    fn envelopes_must_name_exactly_the_current_devices() {
        let mut keys = BTreeMap::new();
        keys.insert(
            UserId::parse("a").unwrap(),
            vec![key("a", "1"), key("a", "2")],
        );
        keys.insert(UserId::parse("b").unwrap(), vec![key("b", "1")]);
        let all = vec![envelope("a", "1"), envelope("a", "2"), envelope("b", "1")];
        assert!(check_envelopes(&all, &keys).is_ok());
        let mut extra = all.clone();
        extra.push(envelope("b", "gone"));
        let e = check_envelopes(&extra, &keys).unwrap_err();
        assert!(
            matches!(&e, ChatError::Conflict(m) if m.contains("no such device b/gone")),
            "{e}"
        );
        let e = check_envelopes(&all[..2], &keys).unwrap_err();
        assert!(
            matches!(&e, ChatError::Conflict(m) if m.contains("no envelope for device b/1")),
            "{e}"
        );
    }

    #[test]
    fn the_fingerprint_changes_with_the_keys_not_their_order() {
        let (a, b) = (key("u", "1"), key("u", "2"));
        assert_eq!(
            keys_fingerprint(&[a.clone(), b.clone()]),
            keys_fingerprint(&[b.clone(), a.clone()])
        );
        assert_ne!(
            keys_fingerprint(std::slice::from_ref(&a)),
            keys_fingerprint(&[a, b])
        );
        assert_eq!(keys_fingerprint(&[]), "");
    }

    #[test]
    fn the_aad_binds_room_sender_and_client_msg_id() {
        let r = RoomId::parse("dme_1").unwrap();
        let (a, b) = (UserId::parse("a").unwrap(), UserId::parse("b").unwrap());
        let c = ClientMsgId::parse("c1").unwrap();
        assert_ne!(aad(&r, &a, &c), aad(&r, &b, &c));
        assert_ne!(
            aad(&r, &a, &c),
            aad(&RoomId::parse("dme_2").unwrap(), &a, &c)
        );
        assert_eq!(aad(&r, &a, &c), b"chat-e2ee/v1\ndme_1\na\nc1".to_vec());
    }

    #[test]
    fn the_edit_aad_binds_room_sender_and_seq_apart_from_a_send() {
        let r = RoomId::parse("dme_1").unwrap();
        let (a, b) = (UserId::parse("a").unwrap(), UserId::parse("b").unwrap());
        assert_eq!(
            edit_aad(&r, &a, 7),
            b"chat-e2ee/v1 edit\ndme_1\na\n7".to_vec()
        );
        assert_ne!(edit_aad(&r, &a, 7), edit_aad(&r, &a, 8));
        assert_ne!(edit_aad(&r, &a, 7), edit_aad(&r, &b, 7));
        // A send whose clientMsgId is the seq does not share the AAD.
        let c = ClientMsgId::parse("7").unwrap();
        assert_ne!(edit_aad(&r, &a, 7), aad(&r, &a, &c));
    }
}
