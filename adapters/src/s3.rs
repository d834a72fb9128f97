//! The attachments' object store on S3 ([`BlobStore`]).
//!
//! Bytes never pass through here: clients upload and download with
//! presigned requests, signed locally by the SDK's SigV4 presigner with the
//! function's own credentials (no request is made to sign). A presigned PUT
//! signs `Content-Type`, `Content-Length` and the `x-amz-meta-*` headers, so
//! S3 refuses an upload of another type, size or metadata. In Lambda the
//! credentials are a role session: a URL stops working when that session
//! expires, even before its own expiry (docs/PROTOCOL.md says clients get
//! fresh URLs from history or sync).
//!
//! The requests this makes: HeadObject (an upload's head at send), and
//! CopyObject then DeleteObject (claiming an upload for a message). A head
//! of a missing key is `None`: that needs `s3:ListBucket`, without which S3
//! answers 403 for a missing key rather than 404.
//!
//! The client asks for checksums only when an operation requires them: the
//! SDK's default adds a CRC32 header to a PutObject, which a presigned PUT
//! would then require of the browser. Path-style addressing is used with an
//! endpoint override (emulators: moto answers path-style only).

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, UNIX_EPOCH};

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_s3::config::RequestChecksumCalculation;
use aws_sdk_s3::presigning::{PresignedRequest, PresigningConfig};
use aws_sdk_s3::types::MetadataDirective;
use aws_sdk_s3::Client;
use chat_core::error::StoreError;
use chat_core::ids::Millis;
use chat_core::ports::{BlobHead, BlobStore, DownloadSpec, Presigned, UploadSpec};

/// The attachments' bucket.
#[derive(Clone, Debug)]
pub struct S3Blobs {
    client: Client,
    bucket: String,
}

impl S3Blobs {
    /// A store on `bucket`. `path_style` for an emulator endpoint.
    pub fn new(sdk: &SdkConfig, bucket: &str, path_style: bool) -> Self {
        let conf = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(path_style)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .build();
        Self {
            client: Client::from_conf(conf),
            bucket: bucket.to_owned(),
        }
    }

    /// The client, for whoever creates the bucket (the local platform and
    /// tests, against an emulator).
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

fn presigning(now: Millis, ttl_ms: i64) -> Result<PresigningConfig, StoreError> {
    PresigningConfig::builder()
        .start_time(UNIX_EPOCH + Duration::from_millis(u64::try_from(now).unwrap_or(0)))
        .expires_in(Duration::from_millis(u64::try_from(ttl_ms).unwrap_or(0)))
        .build()
        .map_err(StoreError::unavailable)
}

/// The headers the client must send: those signed, less what its HTTP
/// client sets itself (`host`, `content-length`).
fn client_headers(p: &PresignedRequest) -> Vec<(String, String)> {
    p.headers()
        .filter(|(k, _)| {
            !k.eq_ignore_ascii_case("host") && !k.eq_ignore_ascii_case("content-length")
        })
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
        .collect()
}

/// Creates `bucket` unless it exists (the local platform and tests, on an
/// emulator; in AWS the stack creates it). Path-style, as emulators answer.
pub async fn create_bucket(sdk: &SdkConfig, bucket: &str) -> Result<(), StoreError> {
    let blobs = S3Blobs::new(sdk, bucket, true);
    match blobs.client.create_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error().is_some_and(|e| {
                e.is_bucket_already_owned_by_you() || e.is_bucket_already_exists()
            }) =>
        {
            Ok(())
        }
        Err(e) => Err(StoreError::unavailable(e)),
    }
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn presign_put(
        &self,
        key: &str,
        spec: &UploadSpec,
        now: Millis,
        ttl_ms: i64,
    ) -> Result<Presigned, StoreError> {
        let metadata: HashMap<String, String> = spec.metadata.clone().into_iter().collect();
        let p = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(&spec.content_type)
            .content_length(i64::try_from(spec.content_length).map_err(StoreError::unavailable)?)
            .set_metadata(Some(metadata))
            .presigned(presigning(now, ttl_ms)?)
            .await
            .map_err(StoreError::unavailable)?;
        Ok(Presigned {
            url: p.uri().to_owned(),
            headers: client_headers(&p),
        })
    }

    async fn presign_get(
        &self,
        key: &str,
        spec: &DownloadSpec,
        now: Millis,
        ttl_ms: i64,
    ) -> Result<String, StoreError> {
        let p = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_type(&spec.content_type)
            .response_content_disposition(&spec.disposition)
            .presigned(presigning(now, ttl_ms)?)
            .await
            .map_err(StoreError::unavailable)?;
        Ok(p.uri().to_owned())
    }

    async fn head(&self, key: &str) -> Result<Option<BlobHead>, StoreError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(h) => Ok(Some(BlobHead {
                content_type: h.content_type().unwrap_or_default().to_owned(),
                size: h
                    .content_length()
                    .and_then(|l| u64::try_from(l).ok())
                    .unwrap_or(0),
                metadata: h
                    .metadata()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                            .collect()
                    })
                    .unwrap_or_default(),
            })),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(e) => Err(StoreError::unavailable(e)),
        }
    }

    async fn promote(
        &self,
        from: &str,
        to: &str,
        content_type: &str,
        metadata: &BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        // Keys are ours: ids and room ids only, nothing to URL-encode.
        self.client
            .copy_object()
            .bucket(&self.bucket)
            .key(to)
            .copy_source(format!("{}/{from}", self.bucket))
            .metadata_directive(MetadataDirective::Replace)
            .content_type(content_type)
            .set_metadata(Some(metadata.clone().into_iter().collect()))
            .send()
            .await
            .map_err(StoreError::unavailable)?;
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(from)
            .send()
            .await
            .map_err(StoreError::unavailable)?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        // S3 answers 204 for a key that does not exist: idempotent.
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(StoreError::unavailable)?;
        Ok(())
    }
}
