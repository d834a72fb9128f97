//! Web Push: the [`WebPush`] port over a browser vendor's push service.
//!
//! - Payload encryption per RFC 8291 (`aes128gcm`, RFC 8188): an
//!   ephemeral P-256 key per message, ECDH with the subscription's `p256dh`,
//!   HKDF-SHA256 with its `auth` secret, AES-128-GCM, one record. The
//!   primitives are aws-lc-rs's (already linked for TLS): no hand-written
//!   cryptography beyond the RFC's key schedule.
//! - VAPID (RFC 8292): an ES256 JWT for the endpoint's origin, 12 h valid,
//!   in `Authorization: vapid t=…, k=…`.
//! - The request: `POST` the endpoint with `TTL`, `Urgency`,
//!   `Content-Encoding: aes128gcm`. 201/200/202 are delivered; 404 and 410
//!   mean the subscription is gone ([`WebPushError::Gone`]: the device is
//!   removed); 429 and 5xx are transient; other answers refuse it.
//! - SSRF: the endpoint passed [`check_endpoint`] when registered; it is
//!   checked again here, every name is resolved by a resolver that drops
//!   non-public addresses ([`is_public`]), and redirects are not followed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM};
use aws_lc_rs::agreement::{self, UnparsedPublicKey, ECDH_P256};
use aws_lc_rs::hkdf::{KeyType, Salt, HKDF_SHA256};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chat_core::error::WebPushError;
use chat_core::notify::{check_endpoint, is_public, Device, EndpointRules, Payload};
use chat_core::ports::WebPush;

/// The record size announced in the header (one record holds the payload).
const RECORD_SIZE: u32 = 4096;
/// How long the push service keeps an undelivered notification.
pub const TTL_SECS: u32 = 24 * 3600;
/// The VAPID token's validity (RFC 8292 allows up to 24 h).
const VAPID_VALIDITY_SECS: u64 = 12 * 3600;

/// Why a payload could not be encrypted or decrypted.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("bad key material: {0}")]
    Key(&'static str),
    #[error("payload too large for one record")]
    TooLarge,
    #[error("cryptographic operation failed")]
    Failed,
}

impl From<aws_lc_rs::error::Unspecified> for CryptoError {
    fn from(_: aws_lc_rs::error::Unspecified) -> Self {
        CryptoError::Failed
    }
}

struct Len(usize);

impl KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn hkdf(salt: &[u8], ikm: &[u8], info: &[&[u8]], len: usize) -> Result<Vec<u8>, CryptoError> {
    let prk = Salt::new(HKDF_SHA256, salt).extract(ikm);
    let mut out = vec![0u8; len];
    prk.expand(info, Len(len))?.fill(&mut out)?;
    Ok(out)
}

/// The content encryption key and nonce of RFC 8291 §3.3–3.4 / RFC 8188 §2.2.
fn key_schedule(
    ecdh_secret: &[u8],
    auth: &[u8],
    ua_public: &[u8],
    as_public: &[u8],
    salt: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
    let ikm = hkdf(
        auth,
        ecdh_secret,
        &[b"WebPush: info\0", ua_public, as_public],
        32,
    )?;
    let cek = hkdf(salt, &ikm, &[b"Content-Encoding: aes128gcm\0"], 16)?;
    let nonce = hkdf(salt, &ikm, &[b"Content-Encoding: nonce\0"], 12)?;
    Ok((cek, nonce))
}

fn aead_key(cek: &[u8], nonce: &[u8]) -> Result<(LessSafeKey, Nonce), CryptoError> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, cek)?);
    let nonce = Nonce::try_assume_unique_for_key(nonce)?;
    Ok((key, nonce))
}

/// Encrypts `plaintext` for the subscription (`ua_public`: its `p256dh`,
/// 65 bytes; `auth`: 16 bytes): the body of the push request.
pub fn encrypt(ua_public: &[u8], auth: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if ua_public.len() != 65 || auth.len() != 16 {
        return Err(CryptoError::Key("p256dh must be 65 bytes and auth 16"));
    }
    // One record: the plaintext, the last-record delimiter, the tag.
    if plaintext.len() + 1 + 16 > RECORD_SIZE as usize {
        return Err(CryptoError::TooLarge);
    }
    let rng = SystemRandom::new();
    let as_private = agreement::PrivateKey::generate(&ECDH_P256)?;
    let as_public = as_private.compute_public_key()?;
    let as_public = as_public.as_ref().to_vec();
    let peer = UnparsedPublicKey::new(&ECDH_P256, ua_public);
    let ecdh = agreement::agree(
        &as_private,
        peer,
        CryptoError::Key("p256dh is not a P-256 point"),
        |s| Ok(s.to_vec()),
    )?;
    let mut salt = [0u8; 16];
    rng.fill(&mut salt)?;
    let (cek, nonce) = key_schedule(&ecdh, auth, ua_public, &as_public, &salt)?;
    let (key, nonce) = aead_key(&cek, &nonce)?;
    let mut record = plaintext.to_vec();
    record.push(2);
    key.seal_in_place_append_tag(nonce, Aad::empty(), &mut record)?;
    let mut body = Vec::with_capacity(16 + 4 + 1 + as_public.len() + record.len());
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(as_public.len() as u8);
    body.extend_from_slice(&as_public);
    body.extend_from_slice(&record);
    Ok(body)
}

/// Decrypts a push body with the subscription's private key and `auth`:
/// what the browser does. Tests only: nothing deployed decrypts.
#[cfg(test)]
pub fn decrypt(
    ua_private: &agreement::PrivateKey,
    auth: &[u8],
    body: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let malformed = CryptoError::Key("malformed aes128gcm body");
    let header = body.get(..21).ok_or(CryptoError::Key("short body"))?;
    let (salt, idlen) = (&header[..16], header[20] as usize);
    let as_public = body
        .get(21..21 + idlen)
        .ok_or(CryptoError::Key("short body"))?;
    let mut record = body.get(21 + idlen..).ok_or(malformed)?.to_vec();
    let ua_public = ua_private.compute_public_key()?;
    let peer = UnparsedPublicKey::new(&ECDH_P256, as_public);
    let ecdh = agreement::agree(ua_private, peer, CryptoError::Key("bad keyid"), |s| {
        Ok(s.to_vec())
    })?;
    let (cek, nonce) = key_schedule(&ecdh, auth, ua_public.as_ref(), as_public, salt)?;
    let (key, nonce) = aead_key(&cek, &nonce)?;
    let plain = key.open_in_place(nonce, Aad::empty(), &mut record)?;
    // Strip the padding: zeros, then the delimiter (2 for the last record).
    let end = plain
        .iter()
        .rposition(|b| *b != 0)
        .ok_or(CryptoError::Key("no delimiter"))?;
    if plain[end] != 2 {
        return Err(CryptoError::Key("not the last record"));
    }
    Ok(plain[..end].to_vec())
}

/// The application server's VAPID identity.
pub struct Vapid {
    key: EcdsaKeyPair,
    public_b64: String,
    /// `mailto:` or `https:` contact of the operator.
    subject: String,
}

impl std::fmt::Debug for Vapid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vapid")
            .field("public_key", &self.public_b64)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// The local platform's VAPID key pair (public, committed, for development
/// only: a deployment reads its own from Secrets Manager).
pub const DEV_VAPID_PRIVATE: &str = "NKvGhP3aYh78NpxM5lMlf2Zv6nqeLpge0y5B9wMsbrk";
pub const DEV_VAPID_PUBLIC: &str =
    "BD_I1SQZxI-pRwd7bq7drpmRR442seg6V2P12Nvnnt92X-RggmgGtUi6jCwEvxGstST8iwDJ1EOksExmK39zyMQ";

impl Vapid {
    /// From the base64url raw private scalar (32 bytes) and public point
    /// (65 bytes), as web-push tools print them.
    pub fn new(private_b64: &str, public_b64: &str, subject: &str) -> Result<Self, CryptoError> {
        let private = URL_SAFE_NO_PAD
            .decode(private_b64.trim())
            .map_err(|_| CryptoError::Key("VAPID private key is not base64url"))?;
        let public = URL_SAFE_NO_PAD
            .decode(public_b64.trim())
            .map_err(|_| CryptoError::Key("VAPID public key is not base64url"))?;
        let key = EcdsaKeyPair::from_private_key_and_public_key(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &private,
            &public,
        )
        .map_err(|_| CryptoError::Key("VAPID keys are not a P-256 key pair"))?;
        if !(subject.starts_with("mailto:") || subject.starts_with("https://")) {
            return Err(CryptoError::Key("VAPID subject must be mailto: or https:"));
        }
        Ok(Self {
            public_b64: URL_SAFE_NO_PAD.encode(key.public_key().as_ref()),
            key,
            subject: subject.to_owned(),
        })
    }

    pub fn public_key(&self) -> &str {
        &self.public_b64
    }

    /// The `Authorization` header for a push to `endpoint` at `now_secs`.
    pub fn authorization(&self, endpoint: &url::Url, now_secs: u64) -> Result<String, CryptoError> {
        let aud = endpoint.origin().ascii_serialization();
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({
            "aud": aud,
            "exp": now_secs + VAPID_VALIDITY_SECS,
            "sub": self.subject,
        });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{header}.{claims}");
        let sig = self
            .key
            .sign(&SystemRandom::new(), signing_input.as_bytes())?;
        let jwt = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()));
        Ok(format!("vapid t={jwt}, k={}", self.public_b64))
    }
}

/// Resolves names to public addresses only (loopback too when the rules
/// allow it: the local platform's tests).
struct PublicOnly(EndpointRules);

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let rules = self.0;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()) || (rules.allow_loopback && a.ip().is_loopback()))
                .collect();
            if addrs.is_empty() {
                return Err("the push endpoint resolves to no public address".into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The Web Push sender over HTTPS.
pub struct HttpWebPush {
    client: reqwest::Client,
    vapid: Arc<Vapid>,
    rules: EndpointRules,
}

impl HttpWebPush {
    pub fn new(vapid: Vapid, rules: EndpointRules) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(PublicOnly(rules))
            .build()?;
        Ok(Self {
            client,
            vapid: Arc::new(vapid),
            rules,
        })
    }
}

fn transient(e: impl Into<chat_core::error::BoxError>) -> WebPushError {
    WebPushError::Transient(e.into())
}

#[async_trait]
impl WebPush for HttpWebPush {
    async fn send(&self, device: &Device, payload: &Payload) -> Result<(), WebPushError> {
        let subscription = device
            .web_push()
            .ok_or_else(|| transient("not a Web Push device"))?;
        let endpoint = &subscription.endpoint;
        check_endpoint(endpoint, self.rules).map_err(transient)?;
        let url = url::Url::parse(endpoint).map_err(transient)?;
        let plaintext = serde_json::to_vec(payload).map_err(transient)?;
        let body = encrypt(
            &subscription.p256dh_bytes(),
            &subscription.auth_bytes(),
            &plaintext,
        )
        .map_err(transient)?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let auth = self.vapid.authorization(&url, now).map_err(transient)?;
        let resp = self
            .client
            .post(url)
            .header("authorization", auth)
            .header("ttl", TTL_SECS.to_string())
            .header("urgency", "normal")
            .header("content-encoding", "aes128gcm")
            .header("content-type", "application/octet-stream")
            .body(body)
            .send()
            .await
            .map_err(transient)?;
        match resp.status().as_u16() {
            200..=299 => Ok(()),
            404 | 410 => Err(WebPushError::Gone),
            429 | 500..=599 => Err(transient(format!(
                "push service answered {}",
                resp.status()
            ))),
            other => Err(WebPushError::Refused(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_core::ids::{RoomId, UserId};
    use chat_core::notify::PushSubscription;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A browser's subscription: its private key, and what it registers.
    fn subscription(endpoint: &str) -> (agreement::PrivateKey, [u8; 16], PushSubscription) {
        let key = agreement::PrivateKey::generate(&ECDH_P256).unwrap();
        let public = key.compute_public_key().unwrap();
        let mut auth = [0u8; 16];
        SystemRandom::new().fill(&mut auth).unwrap();
        let sub = PushSubscription::parse(
            endpoint,
            &URL_SAFE_NO_PAD.encode(public.as_ref()),
            &URL_SAFE_NO_PAD.encode(auth),
            EndpointRules {
                allow_loopback: true,
            },
        )
        .unwrap();
        (key, auth, sub)
    }

    #[test]
    fn a_payload_decrypts_with_the_subscription_keys_only_and_tampering_is_detected() {
        let (key, auth, sub) = subscription("https://push.example.com/x");
        let body = encrypt(&sub.p256dh_bytes(), &auth, br#"{"roomId":"r_1"}"#).unwrap();
        // salt(16) rs(4) idlen(1) keyid(65) ciphertext(plaintext + 1 + 16)
        assert_eq!(body.len(), 16 + 4 + 1 + 65 + 16 + 1 + 16);
        assert_eq!(&body[16..20], &4096u32.to_be_bytes());
        assert_eq!(decrypt(&key, &auth, &body).unwrap(), br#"{"roomId":"r_1"}"#);
        // Two encryptions differ (fresh salt and key each time).
        assert_ne!(
            body,
            encrypt(&sub.p256dh_bytes(), &auth, br#"{"roomId":"r_1"}"#).unwrap()
        );
        // Another subscription's keys, another auth, a flipped bit: refused.
        let (other, other_auth, _) = subscription("https://push.example.com/y");
        assert!(decrypt(&other, &auth, &body).is_err());
        assert!(decrypt(&key, &other_auth, &body).is_err());
        let mut tampered = body.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(decrypt(&key, &auth, &tampered).is_err());
        assert!(matches!(
            encrypt(&sub.p256dh_bytes(), &auth, &[b'x'; 4080]),
            Err(CryptoError::TooLarge)
        ));
    }

    #[test]
    fn the_vapid_token_is_signed_for_the_endpoint_origin() {
        let v = Vapid::new(
            DEV_VAPID_PRIVATE,
            DEV_VAPID_PUBLIC,
            "mailto:ops@example.com",
        )
        .unwrap();
        assert_eq!(v.public_key(), DEV_VAPID_PUBLIC);
        let url = url::Url::parse("https://push.example.com:8443/send/abc").unwrap();
        let header = v.authorization(&url, 1_000).unwrap();
        let rest = header.strip_prefix("vapid t=").unwrap();
        let (jwt, k) = rest.split_once(", k=").unwrap();
        assert_eq!(k, DEV_VAPID_PUBLIC);
        let parts: Vec<&str> = jwt.split('.').collect();
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["aud"], "https://push.example.com:8443");
        assert_eq!(claims["exp"], 1_000 + VAPID_VALIDITY_SECS);
        assert_eq!(claims["sub"], "mailto:ops@example.com");
        let public = URL_SAFE_NO_PAD.decode(DEV_VAPID_PUBLIC).unwrap();
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        let verifier = aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED,
            &public,
        );
        let input = format!("{}.{}", parts[0], parts[1]);
        verifier.verify(input.as_bytes(), &sig).unwrap();
        assert!(verifier.verify(b"other", &sig).is_err());
        assert!(Vapid::new(DEV_VAPID_PRIVATE, DEV_VAPID_PUBLIC, "ops@example.com").is_err());
        assert!(Vapid::new("AAAA", DEV_VAPID_PUBLIC, "mailto:a@b").is_err());
    }

    /// A push service on loopback: answers each request with the next
    /// status, and hands back what it received (headers, body).
    async fn push_service(
        statuses: Vec<u16>,
    ) -> (
        String,
        tokio::sync::mpsc::UnboundedReceiver<(String, Vec<u8>)>,
    ) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://127.0.0.1:{}/push/abc",
            listener.local_addr().unwrap().port()
        );
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            for status in statuses {
                let (mut sock, _) = listener.accept().await.unwrap();
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head, body) = loop {
                    let n = sock.read(&mut chunk).await.unwrap();
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..i]).to_lowercase();
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length: "))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        while buf.len() < i + 4 + len {
                            let n = sock.read(&mut chunk).await.unwrap();
                            buf.extend_from_slice(&chunk[..n]);
                        }
                        break (head, buf[i + 4..i + 4 + len].to_vec());
                    }
                };
                tx.send((head, body)).unwrap();
                let resp = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                sock.write_all(resp.as_bytes()).await.unwrap();
            }
        });
        (url, rx)
    }

    fn device(sub: PushSubscription) -> Device {
        Device {
            device_id: sub.device_id(),
            user_id: UserId::parse("bob").unwrap(),
            channel: chat_core::notify::Channel::WebPush { subscription: sub },
            created_at: 0,
        }
    }

    fn payload() -> Payload {
        Payload::new(
            RoomId::parse("r_1").unwrap(),
            UserId::parse("alice").unwrap(),
            3,
            7,
            "secret body",
            false,
            false,
        )
    }

    #[tokio::test]
    async fn the_http_sender_posts_an_encrypted_vapid_request_and_410_means_gone() {
        let (url, mut got) = push_service(vec![201, 410, 400, 503]).await;
        let (key, auth, sub) = subscription(&url);
        let dev = device(sub);
        let vapid = Vapid::new(
            DEV_VAPID_PRIVATE,
            DEV_VAPID_PUBLIC,
            "mailto:ops@example.com",
        )
        .unwrap();
        let push = HttpWebPush::new(
            vapid,
            EndpointRules {
                allow_loopback: true,
            },
        )
        .unwrap();
        push.send(&dev, &payload()).await.unwrap();
        let (head, body) = got.recv().await.unwrap();
        assert!(head.starts_with("post /push/abc "), "{head}");
        for h in [
            "content-encoding: aes128gcm",
            "ttl: 86400",
            "authorization: vapid t=",
        ] {
            assert!(head.contains(h), "{h} missing in {head}");
        }
        let plain: Payload = serde_json::from_slice(&decrypt(&key, &auth, &body).unwrap()).unwrap();
        assert_eq!(plain, payload());
        assert_eq!(plain.body, None);
        assert!(matches!(
            push.send(&dev, &payload()).await,
            Err(WebPushError::Gone)
        ));
        assert!(matches!(
            push.send(&dev, &payload()).await,
            Err(WebPushError::Refused(400))
        ));
        assert!(matches!(
            push.send(&dev, &payload()).await,
            Err(WebPushError::Transient(_))
        ));
    }

    #[tokio::test]
    async fn without_the_dev_flag_a_loopback_endpoint_is_never_contacted() {
        let (url, mut got) = push_service(vec![201]).await;
        let (_, _, sub) = subscription(&url);
        let vapid = Vapid::new(
            DEV_VAPID_PRIVATE,
            DEV_VAPID_PUBLIC,
            "mailto:ops@example.com",
        )
        .unwrap();
        let push = HttpWebPush::new(vapid, EndpointRules::default()).unwrap();
        assert!(matches!(
            push.send(&device(sub), &payload()).await,
            Err(WebPushError::Transient(_))
        ));
        assert!(got.try_recv().is_err(), "the service was contacted");
    }

    #[tokio::test]
    async fn the_resolver_drops_private_addresses_unless_loopback_is_allowed() {
        use reqwest::dns::Resolve;
        let name = |s: &str| s.parse::<reqwest::dns::Name>().unwrap();
        assert!(PublicOnly(EndpointRules::default())
            .resolve(name("localhost"))
            .await
            .is_err());
        let dev = PublicOnly(EndpointRules {
            allow_loopback: true,
        });
        let addrs: Vec<SocketAddr> = dev.resolve(name("localhost")).await.unwrap().collect();
        assert!(!addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()));
    }
}
