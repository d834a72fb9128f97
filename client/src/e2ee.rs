//! The client side of end-to-end encrypted direct rooms (docs/PROTOCOL.md,
//! "End-to-end encrypted direct rooms"): a device's P-256 key, sealing a
//! message to every device of both members, opening it, and the safety
//! number two people compare. The web app (`local/web/ui/e2ee.js`) does the
//! same with WebCrypto; a vector made with Python's `cryptography`
//! (`client/tests/vectors/`) pins all three to one format.
//!
//! Sealing: a fresh 32-byte message key `K` and nonce; the content (JSON,
//! [`Content`]) encrypted with AES-256-GCM under `K`, the associated data
//! binding room, sender and `clientMsgId` ([`chat_core::e2ee::aad`]). For each
//! device: a fresh ephemeral key `e`, `Z = ECDH(e, device)` (the x
//! coordinate), `W = HKDF-SHA256(ikm = Z, salt = e.pub ‖ device.pub, info =
//! "chat-e2ee/v1 wrap")`, and `K` encrypted with AES-256-GCM under `W`, the
//! associated data the message's followed by `"\n{userId}\n{deviceId}"`.
//!
//! Files ([`seal_file`], [`open_file`]): each file is encrypted before
//! upload with its own fresh key and nonce (AES-256-GCM, associated data
//! [`file_aad`]: room and sender), the ciphertext uploaded to an
//! `application/octet-stream` slot named `"sealed"`, and the key, nonce,
//! real name, type and size travel inside the sealed message
//! ([`Content::files`], [`SealedFile`]).

use aes_gcm::aead::{Aead, OsRng, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chat_core::e2ee::{aad, Sealed};
use chat_core::ids::{ClientMsgId, RoomId, UserId};
use hkdf::Hkdf;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};

/// What can go wrong sealing or opening.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("malformed: {0}")]
    Malformed(String),
    #[error("no envelope for this device")]
    NotForMe,
    #[error("the message does not open (wrong key, or moved to another room, sender or id)")]
    Forged,
}

mod edits;
pub use edits::{open_edit, seal_edit};

const WRAP_INFO: &[u8] = b"chat-e2ee/v1 wrap";

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(what: &str, s: &str) -> Result<Vec<u8>, CryptoError> {
    URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| CryptoError::Malformed(format!("{what} is not base64url")))
}

fn point(what: &str, s: &str) -> Result<PublicKey, CryptoError> {
    PublicKey::from_sec1_bytes(&unb64(what, s)?)
        .map_err(|_| CryptoError::Malformed(format!("{what} is not a P-256 point")))
}

fn point_bytes(k: &PublicKey) -> Vec<u8> {
    k.to_encoded_point(false).as_bytes().to_vec()
}

/// What a sealed message holds (JSON inside the ciphertext).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Content {
    pub body: String,
    /// The message's encrypted files, in the order of its `attachments`;
    /// absent when it has none (so a text message seals as `{"body":…}`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<SealedFile>,
}

impl Content {
    /// A text message without files.
    pub fn text(body: &str) -> Self {
        Self {
            body: body.to_owned(),
            files: Vec::new(),
        }
    }
}

/// One encrypted file as the sealed content describes it: where its
/// ciphertext is (`attachmentId`), what opens it (`key`, `nonce`, unpadded
/// base64url), and what the server never sees (the real `name`,
/// `contentType`, `size` of the plaintext, an image's `width`/`height`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SealedFile {
    pub attachment_id: String,
    pub key: String,
    pub nonce: String,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

/// A file's fresh key and nonce.
#[derive(Clone)]
pub struct FileKey {
    pub key: [u8; 32],
    pub nonce: [u8; 12],
}

impl FileKey {
    pub fn fresh() -> Self {
        use aes_gcm::aead::rand_core::RngCore;
        let mut k = Self {
            key: [0; 32],
            nonce: [0; 12],
        };
        OsRng.fill_bytes(&mut k.key);
        OsRng.fill_bytes(&mut k.nonce);
        k
    }
}

/// The associated data of a file's ciphertext: the room and the sender, so
/// a file moved to another room or claimed by another sender fails its tag.
pub fn file_aad(room: &RoomId, sender: &UserId) -> Vec<u8> {
    format!("chat-e2ee/v1 file\n{room}\n{sender}").into_bytes()
}

/// Encrypts a file's bytes from `sender` in `room` under a fresh key: the
/// ciphertext to upload (the bytes and the 16-byte tag) and the key.
pub fn seal_file(room: &RoomId, sender: &UserId, plaintext: &[u8]) -> (Vec<u8>, FileKey) {
    let k = FileKey::fresh();
    let ct = seal_file_with(room, sender, plaintext, &k);
    (ct, k)
}

/// [`seal_file`] under a given key (tests).
pub fn seal_file_with(room: &RoomId, sender: &UserId, plaintext: &[u8], k: &FileKey) -> Vec<u8> {
    gcm(&k.key)
        .encrypt(
            &Nonce::from(k.nonce),
            Payload {
                msg: plaintext,
                aad: &file_aad(room, sender),
            },
        )
        // AES-GCM encryption fails only past 64 GiB, far above any file
        // the server takes.
        .unwrap_or_else(|_| unreachable!("AES-GCM encrypts any file under 64 GiB"))
}

impl SealedFile {
    /// What the sealed content says of a file sealed with `k` and uploaded
    /// as `attachment_id`.
    pub fn describe(
        attachment_id: &str,
        k: &FileKey,
        name: &str,
        content_type: &str,
        size: u64,
    ) -> Self {
        Self {
            attachment_id: attachment_id.to_owned(),
            key: b64(&k.key),
            nonce: b64(&k.nonce),
            name: name.to_owned(),
            content_type: content_type.to_owned(),
            size,
            width: None,
            height: None,
        }
    }

    /// Opens the downloaded ciphertext of this file, sent by `sender` in
    /// `room`: the plaintext, or [`CryptoError::Forged`] when a byte was
    /// changed or the file was moved to another room or sender.
    pub fn open(
        &self,
        room: &RoomId,
        sender: &UserId,
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let key: [u8; 32] = unb64("key", &self.key)?
            .try_into()
            .map_err(|_| CryptoError::Malformed("a file key is 32 bytes".into()))?;
        let plain = open_file(
            room,
            sender,
            ciphertext,
            &FileKey {
                key,
                nonce: unb64("nonce", &self.nonce)?
                    .try_into()
                    .map_err(|_| CryptoError::Malformed("a nonce is 12 bytes".into()))?,
            },
        )?;
        if plain.len() as u64 != self.size {
            return Err(CryptoError::Malformed(
                "the file is not of the size its message says".into(),
            ));
        }
        Ok(plain)
    }
}

/// Decrypts a file's ciphertext sealed with `k` from `sender` in `room`.
pub fn open_file(
    room: &RoomId,
    sender: &UserId,
    ciphertext: &[u8],
    k: &FileKey,
) -> Result<Vec<u8>, CryptoError> {
    gcm(&k.key)
        .decrypt(
            &Nonce::from(k.nonce),
            Payload {
                msg: ciphertext,
                aad: &file_aad(room, sender),
            },
        )
        .map_err(|_| CryptoError::Forged)
}

/// One device's key pair. The secret never leaves the device.
#[derive(Clone)]
pub struct DeviceKeys {
    pub device_id: String,
    secret: SecretKey,
}

impl std::fmt::Debug for DeviceKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceKeys")
            .field("device_id", &self.device_id)
            .finish_non_exhaustive()
    }
}

impl DeviceKeys {
    pub fn generate(device_id: &str) -> Self {
        Self {
            device_id: device_id.to_owned(),
            secret: SecretKey::random(&mut OsRng),
        }
    }

    /// A key from its 32-byte scalar (test vectors).
    pub fn from_scalar(device_id: &str, scalar: &[u8]) -> Result<Self, CryptoError> {
        Ok(Self {
            device_id: device_id.to_owned(),
            secret: SecretKey::from_slice(scalar)
                .map_err(|_| CryptoError::Malformed("not a P-256 scalar".into()))?,
        })
    }

    /// The public key as published: the uncompressed point, base64url.
    pub fn public_key(&self) -> String {
        b64(&point_bytes(&self.secret.public_key()))
    }
}

/// A device to seal to, as `GET /users/{userId}/keys` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    pub user_id: String,
    pub device_id: String,
    pub public_key: String,
}

/// The random values of one seal: drawn fresh by [`seal`], fixed by tests.
pub struct SealRandom {
    pub message_key: [u8; 32],
    pub nonce: [u8; 12],
    /// One ephemeral scalar and envelope nonce per recipient, in order.
    pub ephemerals: Vec<([u8; 32], [u8; 12])>,
}

impl SealRandom {
    fn fresh(n: usize) -> Self {
        use aes_gcm::aead::rand_core::RngCore;
        let mut r = Self {
            message_key: [0; 32],
            nonce: [0; 12],
            ephemerals: Vec::with_capacity(n),
        };
        OsRng.fill_bytes(&mut r.message_key);
        OsRng.fill_bytes(&mut r.nonce);
        for _ in 0..n {
            let e: [u8; 32] = SecretKey::random(&mut OsRng).to_bytes().into();
            let mut nonce = [0u8; 12];
            OsRng.fill_bytes(&mut nonce);
            r.ephemerals.push((e, nonce));
        }
        r
    }
}

fn envelope_aad(message_aad: &[u8], user: &str, device: &str) -> Vec<u8> {
    let mut a = message_aad.to_vec();
    a.extend_from_slice(format!("\n{user}\n{device}").as_bytes());
    a
}

fn wrap_key(shared: &[u8], eph_pub: &[u8], device_pub: &[u8]) -> [u8; 32] {
    let mut salt = eph_pub.to_vec();
    salt.extend_from_slice(device_pub);
    let hk = Hkdf::<Sha256>::new(Some(&salt), shared);
    let mut out = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's limit: this cannot fail.
    hk.expand(WRAP_INFO, &mut out)
        .unwrap_or_else(|_| unreachable!("32 bytes is a valid HKDF-SHA256 length"));
    out
}

fn nonce(b: &[u8]) -> Result<Nonce<aes_gcm::aead::consts::U12>, CryptoError> {
    let a: [u8; 12] = b
        .try_into()
        .map_err(|_| CryptoError::Malformed("a nonce is 12 bytes".into()))?;
    Ok(a.into())
}

fn gcm(key: &[u8; 32]) -> Aes256Gcm {
    Aes256Gcm::new(key.into())
}

/// Seals `content` from `sender` in `room` to every recipient device.
pub fn seal(
    room: &RoomId,
    sender: &UserId,
    client_msg_id: &ClientMsgId,
    content: &Content,
    recipients: &[Recipient],
) -> Result<Sealed, CryptoError> {
    seal_with(
        room,
        sender,
        client_msg_id,
        content,
        recipients,
        &SealRandom::fresh(recipients.len()),
    )
}

/// [`seal`] with the random values given (test vectors).
pub fn seal_with(
    room: &RoomId,
    sender: &UserId,
    client_msg_id: &ClientMsgId,
    content: &Content,
    recipients: &[Recipient],
    random: &SealRandom,
) -> Result<Sealed, CryptoError> {
    seal_aad(
        &aad(room, sender, client_msg_id),
        content,
        recipients,
        random,
    )
}

/// Seals `content` under the associated data `a` (a send's or an edit's).
fn seal_aad(
    a: &[u8],
    content: &Content,
    recipients: &[Recipient],
    random: &SealRandom,
) -> Result<Sealed, CryptoError> {
    if random.ephemerals.len() != recipients.len() {
        return Err(CryptoError::Malformed(
            "one ephemeral key per recipient".into(),
        ));
    }
    let plaintext =
        serde_json::to_vec(content).map_err(|e| CryptoError::Malformed(e.to_string()))?;
    let ciphertext = gcm(&random.message_key)
        .encrypt(
            &nonce(&random.nonce)?,
            Payload {
                msg: &plaintext,
                aad: a,
            },
        )
        .map_err(|_| CryptoError::Malformed("encryption failed".into()))?;
    let mut envelopes = Vec::with_capacity(recipients.len());
    for (r, (eph, env_nonce)) in recipients.iter().zip(&random.ephemerals) {
        let device = point("publicKey", &r.public_key)?;
        let eph = SecretKey::from_slice(eph)
            .map_err(|_| CryptoError::Malformed("ephemeral scalar".into()))?;
        let shared = p256::ecdh::diffie_hellman(eph.to_nonzero_scalar(), device.as_affine());
        let eph_pub = point_bytes(&eph.public_key());
        let w = wrap_key(
            &shared.raw_secret_bytes()[..],
            &eph_pub,
            &point_bytes(&device),
        );
        let wrapped = gcm(&w)
            .encrypt(
                &nonce(env_nonce)?,
                Payload {
                    msg: &random.message_key,
                    aad: &envelope_aad(a, &r.user_id, &r.device_id),
                },
            )
            .map_err(|_| CryptoError::Malformed("wrapping failed".into()))?;
        envelopes.push(serde_json::json!({
            "userId": r.user_id,
            "deviceId": r.device_id,
            "ephemeralKey": b64(&eph_pub),
            "nonce": b64(env_nonce),
            "wrappedKey": b64(&wrapped),
        }));
    }
    serde_json::from_value(serde_json::json!({
        "v": 1,
        "nonce": b64(&random.nonce),
        "ciphertext": b64(&ciphertext),
        "envelopes": envelopes,
    }))
    .map_err(|e| CryptoError::Malformed(e.to_string()))
}

/// Opens a sealed message as device `me` of user `me_user`, checking it
/// was sealed for `room`, `sender` and `client_msg_id`.
pub fn open(
    sealed: &Sealed,
    room: &RoomId,
    sender: &UserId,
    client_msg_id: &ClientMsgId,
    me_user: &UserId,
    me: &DeviceKeys,
) -> Result<Content, CryptoError> {
    open_aad(sealed, &aad(room, sender, client_msg_id), me_user, me)
}

/// Opens `sealed` under the associated data `a` (a send's or an edit's).
fn open_aad(
    sealed: &Sealed,
    a: &[u8],
    me_user: &UserId,
    me: &DeviceKeys,
) -> Result<Content, CryptoError> {
    let env = sealed
        .envelopes
        .iter()
        .find(|e| &e.user_id == me_user && e.device_id.as_str() == me.device_id)
        .ok_or(CryptoError::NotForMe)?;
    let eph = point("ephemeralKey", env.ephemeral_key.as_str())?;
    let shared = p256::ecdh::diffie_hellman(me.secret.to_nonzero_scalar(), eph.as_affine());
    let w = wrap_key(
        &shared.raw_secret_bytes()[..],
        &point_bytes(&eph),
        &point_bytes(&me.secret.public_key()),
    );
    let key = gcm(&w)
        .decrypt(
            &nonce(&unb64("nonce", env.nonce.as_str())?)?,
            Payload {
                msg: &unb64("wrappedKey", env.wrapped_key.as_str())?,
                aad: &envelope_aad(a, me_user.as_str(), &me.device_id),
            },
        )
        .map_err(|_| CryptoError::Forged)?;
    let key: [u8; 32] = key
        .try_into()
        .map_err(|_| CryptoError::Malformed("message key length".into()))?;
    let plaintext = gcm(&key)
        .decrypt(
            &nonce(&unb64("nonce", sealed.nonce.as_str())?)?,
            Payload {
                msg: &unb64("ciphertext", sealed.ciphertext.as_str())?,
                aad: a,
            },
        )
        .map_err(|_| CryptoError::Forged)?;
    serde_json::from_slice(&plaintext).map_err(|e| CryptoError::Malformed(e.to_string()))
}

/// 30 digits for one user's keys: SHA-512 of
/// `"chat-safety/v1\n{userId}\n"` and the sorted public keys joined by
/// `"\n"`; the first 30 bytes in six 5-byte big-endian chunks, each
/// modulo 100000, zero-padded to 5 digits.
fn user_digits(user: &str, keys: &[String]) -> String {
    let mut sorted: Vec<&str> = keys.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    let digest =
        Sha512::digest(format!("chat-safety/v1\n{user}\n{}", sorted.join("\n")).as_bytes());
    digest[..30]
        .chunks(5)
        .map(|c| {
            let n = c.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
            format!("{:05}", n % 100_000)
        })
        .collect()
}

/// The safety number of two users' keys: the same for both of them (the
/// user whose id sorts first comes first), 60 digits in 12 groups of 5.
/// It changes whenever either user's set of keys does.
pub fn safety_number(user_a: &str, keys_a: &[String], user_b: &str, keys_b: &[String]) -> String {
    let (a, b) = (user_digits(user_a, keys_a), user_digits(user_b, keys_b));
    let all = if user_a <= user_b { a + &b } else { b + &a };
    all.as_bytes()
        .chunks(5)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn ids() -> (RoomId, UserId, UserId, ClientMsgId) {
        let (a, b) = (
            UserId::parse("alice").unwrap(),
            UserId::parse("bob").unwrap(),
        );
        (
            RoomId::direct_encrypted(&a, &b),
            a,
            b,
            ClientMsgId::parse("c-1").unwrap(),
        )
    }

    pub(super) fn to(user: &UserId, k: &DeviceKeys) -> Recipient {
        Recipient {
            user_id: user.to_string(),
            device_id: k.device_id.clone(),
            public_key: k.public_key(),
        }
    }

    #[test]
    fn every_device_opens_what_was_sealed_and_nothing_moved_opens() {
        let (room, alice, bob, c) = ids();
        let (a1, a2, b1) = (
            DeviceKeys::generate("a1"),
            DeviceKeys::generate("a2"),
            DeviceKeys::generate("b1"),
        );
        let content = Content::text("the plan is at noon");
        let sealed = seal(
            &room,
            &alice,
            &c,
            &content,
            &[to(&alice, &a1), to(&alice, &a2), to(&bob, &b1)],
        )
        .unwrap();
        for (u, k) in [(&alice, &a1), (&alice, &a2), (&bob, &b1)] {
            assert_eq!(open(&sealed, &room, &alice, &c, u, k).unwrap(), content);
        }
        // Moved to another room, sender or id: it does not open.
        let other = RoomId::direct_encrypted(&alice, &UserId::parse("carol").unwrap());
        assert_eq!(
            open(&sealed, &other, &alice, &c, &bob, &b1),
            Err(CryptoError::Forged)
        );
        assert_eq!(
            open(&sealed, &room, &bob, &c, &bob, &b1),
            Err(CryptoError::Forged)
        );
        let c2 = ClientMsgId::parse("c-2").unwrap();
        assert_eq!(
            open(&sealed, &room, &alice, &c2, &bob, &b1),
            Err(CryptoError::Forged)
        );
        // A device it was not sealed to, or the right id with another key.
        let stranger = DeviceKeys::generate("b2");
        assert_eq!(
            open(&sealed, &room, &alice, &c, &bob, &stranger),
            Err(CryptoError::NotForMe)
        );
        let imposter = DeviceKeys::generate("b1");
        assert_eq!(
            open(&sealed, &room, &alice, &c, &bob, &imposter),
            Err(CryptoError::Forged)
        );
        // An envelope moved to another device id does not open either.
        let mut moved = serde_json::to_value(&sealed).unwrap();
        moved["envelopes"][2]["deviceId"] = "b9".into();
        let moved: Sealed = serde_json::from_value(moved).unwrap();
        let b9 = DeviceKeys {
            device_id: "b9".into(),
            secret: b1.secret.clone(),
        };
        assert_eq!(
            open(&moved, &room, &alice, &c, &bob, &b9),
            Err(CryptoError::Forged)
        );
    }

    #[test]
    fn a_file_opens_only_with_its_key_in_its_room_from_its_sender() {
        let (room, alice, bob, c) = ids();
        let png = b"\x89PNG\r\n\x1a\n a picture".to_vec();
        let (ct, k) = seal_file(&room, &alice, &png);
        assert_eq!(ct.len(), png.len() + 16, "the bytes and the tag");
        assert!(!ct.windows(4).any(|w| w == b"\x89PNG"), "not the plaintext");
        let mut file = SealedFile::describe("a1", &k, "cat.png", "image/png", png.len() as u64);
        file.width = Some(1);
        file.height = Some(1);
        assert_eq!(file.open(&room, &alice, &ct).unwrap(), png);
        // A byte flipped anywhere, tag included.
        for i in [0, ct.len() / 2, ct.len() - 1] {
            let mut bad = ct.clone();
            bad[i] ^= 1;
            assert_eq!(file.open(&room, &alice, &bad), Err(CryptoError::Forged));
        }
        // Moved to another room, or claimed by the other member.
        let other = RoomId::direct_encrypted(&alice, &UserId::parse("carol").unwrap());
        assert_eq!(file.open(&other, &alice, &ct), Err(CryptoError::Forged));
        assert_eq!(file.open(&room, &bob, &ct), Err(CryptoError::Forged));
        // Another file's key, or the right key with another nonce.
        let (_, k2) = seal_file(&room, &alice, &png);
        let wrong = SealedFile::describe("a1", &k2, "cat.png", "image/png", png.len() as u64);
        assert_eq!(wrong.open(&room, &alice, &ct), Err(CryptoError::Forged));
        let mut renonced = file.clone();
        renonced.nonce = b64(&k2.nonce);
        assert_eq!(renonced.open(&room, &alice, &ct), Err(CryptoError::Forged));
        // A size that does not match what opened is refused too.
        let mut lying = file.clone();
        lying.size += 1;
        assert!(matches!(
            lying.open(&room, &alice, &ct),
            Err(CryptoError::Malformed(_))
        ));
        // Fresh key and nonce per file: the same bytes seal differently.
        let (again, _) = seal_file(&room, &alice, &png);
        assert_ne!(again, ct);

        // The key travels only inside the sealed message, and opens there.
        let b1 = DeviceKeys::generate("b1");
        let content = Content {
            body: String::new(),
            files: vec![file.clone()],
        };
        let sealed = seal(&room, &alice, &c, &content, &[to(&bob, &b1)]).unwrap();
        assert!(!serde_json::to_string(&sealed).unwrap().contains(&file.key));
        let opened = open(&sealed, &room, &alice, &c, &bob, &b1).unwrap();
        assert_eq!(opened, content);
        assert_eq!(opened.files[0].open(&room, &alice, &ct).unwrap(), png);
    }

    #[test]
    fn sealed_content_decodes_files_strictly_and_text_as_before() {
        // A text message seals exactly as before files existed.
        assert_eq!(
            serde_json::to_string(&Content::text("hi")).unwrap(),
            r#"{"body":"hi"}"#
        );
        let ok = r#"{"body":"","files":[{"attachmentId":"x","key":"k","nonce":"n","name":"a.pdf","contentType":"application/pdf","size":3}]}"#;
        assert_eq!(
            serde_json::from_str::<Content>(ok).unwrap().files[0].name,
            "a.pdf"
        );
        for bad in [
            r#"{"body":"","files":[{"attachmentId":"x"}]}"#,
            r#"{"body":"","files":[{"attachmentId":"x","key":"k","nonce":"n","name":"a","contentType":"t","size":-1}]}"#,
            r#"{"body":"","files":[{"attachmentId":"x","key":"k","nonce":"n","name":"a","contentType":"t","size":1,"url":"u"}]}"#,
            r#"{"body":"","files":{}}"#,
        ] {
            assert!(serde_json::from_str::<Content>(bad).is_err(), "{bad}");
        }
        // A key or nonce of the wrong length is malformed, not a panic.
        let (room, alice, _, _) = ids();
        let mut f = SealedFile::describe("x", &FileKey::fresh(), "a", "t", 1);
        f.key = b64(&[1; 31]);
        assert!(matches!(
            f.open(&room, &alice, &[0; 17]),
            Err(CryptoError::Malformed(_))
        ));
        let mut f = SealedFile::describe("x", &FileKey::fresh(), "a", "t", 1);
        f.nonce = "!".into();
        assert!(matches!(
            f.open(&room, &alice, &[0; 17]),
            Err(CryptoError::Malformed(_))
        ));
    }

    #[test]
    fn both_sides_compute_the_same_safety_number_and_it_follows_the_keys() {
        let (a, b) = (DeviceKeys::generate("a"), DeviceKeys::generate("b"));
        let (ka, kb) = (vec![a.public_key()], vec![b.public_key()]);
        let n = safety_number("alice", &ka, "bob", &kb);
        assert_eq!(n, safety_number("bob", &kb, "alice", &ka));
        assert_eq!(n.len(), 60 + 11);
        assert!(n.chars().all(|c| c.is_ascii_digit() || c == ' '));
        let more = vec![a.public_key(), DeviceKeys::generate("c").public_key()];
        assert_ne!(n, safety_number("alice", &more, "bob", &kb));
        // Key order does not matter.
        let rev: Vec<String> = more.iter().rev().cloned().collect();
        assert_eq!(
            safety_number("alice", &more, "bob", &kb),
            safety_number("alice", &rev, "bob", &kb)
        );
    }

    /// A vector made with Python's `cryptography`
    /// (`client/tests/vectors/make_e2ee_vector.py`): this implementation
    /// opens it, seals the same bytes from the same random values, and
    /// computes the same safety number.
    #[test]
    fn the_python_vector_opens_and_reseals_byte_for_byte() {
        let v: serde_json::Value =
            serde_json::from_str(include_str!("../tests/vectors/e2ee-v1.json")).unwrap();
        let s = |k: &str| v[k].as_str().unwrap().to_owned();
        let hex = |k: &str| {
            let h = s(k);
            (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                .collect::<Vec<u8>>()
        };
        let room = RoomId::parse(&s("roomId")).unwrap();
        let sender = UserId::parse(&s("senderId")).unwrap();
        let c = ClientMsgId::parse(&s("clientMsgId")).unwrap();
        let bob = UserId::parse(&s("recipientUserId")).unwrap();
        let me =
            DeviceKeys::from_scalar(&s("recipientDeviceId"), &hex("recipientPrivate")).unwrap();
        assert_eq!(me.public_key(), s("recipientPublic"));
        let sealed: Sealed = serde_json::from_value(v["sealed"].clone()).unwrap();
        let content = open(&sealed, &room, &sender, &c, &bob, &me).unwrap();
        assert_eq!(content.body, s("body"));

        let random = SealRandom {
            message_key: hex("messageKey").try_into().unwrap(),
            nonce: hex("nonce").try_into().unwrap(),
            ephemerals: vec![(
                hex("ephemeralPrivate").try_into().unwrap(),
                hex("envelopeNonce").try_into().unwrap(),
            )],
        };
        let again = seal_with(&room, &sender, &c, &content, &[to(&bob, &me)], &random).unwrap();
        assert_eq!(again, sealed);

        let keys = |k: &str| -> Vec<String> {
            v[k].as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(
            safety_number(
                &s("senderId"),
                &keys("senderKeys"),
                &s("recipientUserId"),
                &keys("recipientKeys")
            ),
            s("safetyNumber")
        );
    }
}
