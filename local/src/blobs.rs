//! The attachments' object store over HTTP, as S3 serves presigned
//! requests: `PUT /blobs/<key>?…` and `GET /blobs/<key>?…`, verified by the
//! in-memory store ([`chat_core::memory::MemoryBlobs`]: signature, expiry,
//! method, content type, length and metadata). With `--backend aws` the
//! functions sign for S3 (moto) instead and nothing is served here.
//!
//! Answers like S3's: 200 on a stored upload, 403 for a bad signature or an
//! expired URL, 404 for a missing object, and a download with the
//! `Content-Type` and `Content-Disposition` its URL signed, plus
//! `X-Content-Type-Options: nosniff` so a browser never guesses a type.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chat_core::memory::{BlobRefusal, MemoryBlobs, BLOB_PATH, META_PREFIX};
use chat_core::ports::Clock;

/// What the handlers need.
#[derive(Clone)]
pub struct BlobServer {
    pub store: Arc<MemoryBlobs>,
    pub clock: Arc<dyn Clock>,
}

fn key_of(uri: &Uri) -> &str {
    uri.path().strip_prefix(BLOB_PATH).unwrap_or_default()
}

fn refusal(r: &BlobRefusal) -> Response {
    let status = match r {
        BlobRefusal::NotFound => StatusCode::NOT_FOUND,
        BlobRefusal::BadSignature | BlobRefusal::Expired => StatusCode::FORBIDDEN,
    };
    tracing::info!(reason = %r, "blob request refused");
    (status, r.to_string()).into_response()
}

impl BlobServer {
    pub fn put(&self, uri: &Uri, headers: &HeaderMap, body: Bytes) -> Response {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let meta: BTreeMap<String, String> = headers
            .iter()
            .filter(|(k, _)| k.as_str().starts_with(META_PREFIX))
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        match self.store.put_signed(
            key_of(uri),
            uri.query().unwrap_or_default(),
            content_type,
            &meta,
            body.to_vec(),
            self.clock.now(),
        ) {
            Ok(()) => StatusCode::OK.into_response(),
            Err(r) => refusal(&r),
        }
    }

    pub fn get(&self, uri: &Uri) -> Response {
        match self.store.get_signed(
            key_of(uri),
            uri.query().unwrap_or_default(),
            self.clock.now(),
        ) {
            Ok(d) => {
                let mut resp = d.bytes.into_response();
                let h = resp.headers_mut();
                if let Ok(v) = HeaderValue::from_str(&d.content_type) {
                    h.insert(header::CONTENT_TYPE, v);
                }
                if let Some(v) = d.disposition.and_then(|d| HeaderValue::from_str(&d).ok()) {
                    h.insert(header::CONTENT_DISPOSITION, v);
                }
                h.insert(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                );
                resp
            }
            Err(r) => refusal(&r),
        }
    }
}
