//! The object store in memory, behind presigned-style URLs it verifies
//! itself: the local platform serves them (`/blobs/<key>`), so a client
//! uploads and downloads exactly as it does against S3.
//!
//! A URL carries its expiry and an HMAC-SHA256 signature (a secret of this
//! process) over the method, the key, the expiry, and what the request must
//! be: for a PUT the content type, the length and the metadata headers
//! (`x-amz-meta-*`), which the client sends as S3 would need them; for a
//! GET the response headers it asks for. Anything else, or anything later
//! than the expiry, is refused, which is what S3 does with a SigV4
//! presigned request whose signed headers differ.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, RwLock};

use async_trait::async_trait;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::lock;
use crate::error::StoreError;
use crate::ids::Millis;
use crate::ports::{BlobHead, BlobStore, DownloadSpec, Presigned, UploadSpec};

/// The path under which the local platform serves the store.
pub const BLOB_PATH: &str = "/blobs/";

const EXPIRES: &str = "X-Chat-Expires";
const SIGNATURE: &str = "X-Chat-Signature";
const RESPONSE_TYPE: &str = "response-content-type";
const RESPONSE_DISPOSITION: &str = "response-content-disposition";
/// The metadata header prefix, as S3 names it.
pub const META_PREFIX: &str = "x-amz-meta-";

#[derive(Clone, Debug)]
struct Object {
    bytes: Vec<u8>,
    content_type: String,
    metadata: BTreeMap<String, String>,
}

/// Why a presigned request was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum BlobRefusal {
    #[error("the request is not signed, or its signature does not match")]
    BadSignature,
    #[error("the presigned URL has expired")]
    Expired,
    #[error("no such object")]
    NotFound,
}

/// A download's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Download {
    pub bytes: Vec<u8>,
    pub content_type: String,
    pub disposition: Option<String>,
}

pub struct MemoryBlobs {
    objects: Mutex<HashMap<String, Object>>,
    key: [u8; 32],
    /// `http://host:port`, where the local platform listens.
    base_url: RwLock<String>,
}

impl Default for MemoryBlobs {
    fn default() -> Self {
        // A secret per process: 2 × 74 random bits of UUIDv7, hashed.
        let mut h = Sha256::new();
        h.update(uuid::Uuid::now_v7().as_bytes());
        h.update(uuid::Uuid::now_v7().as_bytes());
        Self {
            objects: Mutex::default(),
            key: h.finalize().into(),
            base_url: RwLock::new("http://127.0.0.1".into()),
        }
    }
}

fn canonical_put(
    key: &str,
    expires: Millis,
    ct: &str,
    len: u64,
    meta: &BTreeMap<String, String>,
) -> String {
    let mut s = format!("PUT\n{key}\n{expires}\n{ct}\n{len}\n");
    for (k, v) in meta {
        s.push_str(&format!("{META_PREFIX}{k}:{v}\n"));
    }
    s
}

fn canonical_get(key: &str, expires: Millis, ct: &str, disposition: &str) -> String {
    format!("GET\n{key}\n{expires}\n{ct}\n{disposition}\n")
}

impl MemoryBlobs {
    /// Where the URLs point: the local platform's address.
    pub fn set_base_url(&self, base: &str) {
        *self.base_url.write().unwrap_or_else(|p| p.into_inner()) =
            base.trim_end_matches('/').to_owned();
    }

    fn mac(&self, canonical: &str) -> Hmac<Sha256> {
        // HMAC takes a key of any length: this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(canonical.as_bytes());
        mac
    }

    fn sign(&self, canonical: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(self.mac(canonical).finalize().into_bytes())
    }

    fn verify(&self, canonical: &str, signature: &str) -> Result<(), BlobRefusal> {
        let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| BlobRefusal::BadSignature)?;
        // Constant time.
        self.mac(canonical)
            .verify_slice(&sig)
            .map_err(|_| BlobRefusal::BadSignature)
    }

    fn url(&self, key: &str, query: &[(&str, String)]) -> String {
        let base = self
            .base_url
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let q = serde_urlencoded::to_string(query).unwrap_or_default();
        format!("{base}{BLOB_PATH}{key}?{q}")
    }

    /// A presigned PUT, as the local platform receives it: the key (path
    /// after [`BLOB_PATH`]), the query string, the `Content-Type` header,
    /// the `x-amz-meta-*` headers (names lower case, prefix included) and
    /// the body.
    pub fn put_signed(
        &self,
        key: &str,
        query: &str,
        content_type: &str,
        meta_headers: &BTreeMap<String, String>,
        body: Vec<u8>,
        now: Millis,
    ) -> Result<(), BlobRefusal> {
        let q: HashMap<String, String> =
            serde_urlencoded::from_str(query).map_err(|_| BlobRefusal::BadSignature)?;
        let expires: Millis = q
            .get(EXPIRES)
            .and_then(|e| e.parse().ok())
            .ok_or(BlobRefusal::BadSignature)?;
        let metadata: BTreeMap<String, String> = meta_headers
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(META_PREFIX)?.to_owned(), v.clone())))
            .collect();
        let canonical = canonical_put(key, expires, content_type, body.len() as u64, &metadata);
        self.verify(
            &canonical,
            q.get(SIGNATURE).ok_or(BlobRefusal::BadSignature)?,
        )?;
        if now > expires {
            return Err(BlobRefusal::Expired);
        }
        lock(&self.objects).insert(
            key.to_owned(),
            Object {
                bytes: body,
                content_type: content_type.to_owned(),
                metadata,
            },
        );
        Ok(())
    }

    /// A presigned GET: the key and the query string.
    pub fn get_signed(&self, key: &str, query: &str, now: Millis) -> Result<Download, BlobRefusal> {
        let q: HashMap<String, String> =
            serde_urlencoded::from_str(query).map_err(|_| BlobRefusal::BadSignature)?;
        let expires: Millis = q
            .get(EXPIRES)
            .and_then(|e| e.parse().ok())
            .ok_or(BlobRefusal::BadSignature)?;
        let ct = q.get(RESPONSE_TYPE).cloned().unwrap_or_default();
        let disposition = q.get(RESPONSE_DISPOSITION).cloned().unwrap_or_default();
        let canonical = canonical_get(key, expires, &ct, &disposition);
        self.verify(
            &canonical,
            q.get(SIGNATURE).ok_or(BlobRefusal::BadSignature)?,
        )?;
        if now > expires {
            return Err(BlobRefusal::Expired);
        }
        let o = lock(&self.objects)
            .get(key)
            .cloned()
            .ok_or(BlobRefusal::NotFound)?;
        Ok(Download {
            bytes: o.bytes,
            content_type: if ct.is_empty() { o.content_type } else { ct },
            disposition: (!disposition.is_empty()).then_some(disposition),
        })
    }

    /// The keys stored, sorted (tests).
    pub fn keys(&self) -> Vec<String> {
        let mut k: Vec<String> = lock(&self.objects).keys().cloned().collect();
        k.sort();
        k
    }
}

#[async_trait]
impl BlobStore for MemoryBlobs {
    async fn presign_put(
        &self,
        key: &str,
        spec: &UploadSpec,
        now: Millis,
        ttl_ms: i64,
    ) -> Result<Presigned, StoreError> {
        let expires = now.saturating_add(ttl_ms);
        let sig = self.sign(&canonical_put(
            key,
            expires,
            &spec.content_type,
            spec.content_length,
            &spec.metadata,
        ));
        let mut headers = vec![("content-type".to_owned(), spec.content_type.clone())];
        headers.extend(
            spec.metadata
                .iter()
                .map(|(k, v)| (format!("{META_PREFIX}{k}"), v.clone())),
        );
        Ok(Presigned {
            url: self.url(key, &[(EXPIRES, expires.to_string()), (SIGNATURE, sig)]),
            headers,
        })
    }

    async fn presign_get(
        &self,
        key: &str,
        spec: &DownloadSpec,
        now: Millis,
        ttl_ms: i64,
    ) -> Result<String, StoreError> {
        let expires = now.saturating_add(ttl_ms);
        let sig = self.sign(&canonical_get(
            key,
            expires,
            &spec.content_type,
            &spec.disposition,
        ));
        Ok(self.url(
            key,
            &[
                (EXPIRES, expires.to_string()),
                (RESPONSE_TYPE, spec.content_type.clone()),
                (RESPONSE_DISPOSITION, spec.disposition.clone()),
                (SIGNATURE, sig),
            ],
        ))
    }

    async fn head(&self, key: &str) -> Result<Option<BlobHead>, StoreError> {
        Ok(lock(&self.objects).get(key).map(|o| BlobHead {
            content_type: o.content_type.clone(),
            size: o.bytes.len() as u64,
            metadata: o.metadata.clone(),
        }))
    }

    async fn promote(
        &self,
        from: &str,
        to: &str,
        content_type: &str,
        metadata: &BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        let mut objects = lock(&self.objects);
        let mut o = objects
            .remove(from)
            .ok_or_else(|| StoreError::unavailable(format!("no object at {from}")))?;
        o.metadata = metadata.clone();
        o.content_type = content_type.to_owned();
        objects.insert(to.to_owned(), o);
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        lock(&self.objects).remove(key);
        Ok(())
    }
}
