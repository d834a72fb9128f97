//! The S3 adapter against moto's S3: the blob store contract, with the
//! presigned requests sent over HTTP as a client sends them. moto checks
//! neither signatures nor expiry (docs/TOOLING); that presigned URLs carry
//! both is checked below on the URL itself, and enforced end to end by the
//! local platform's own store.

use chat_adapters::s3::{create_bucket, S3Blobs};
use chat_core::ports::{BlobStore, DownloadSpec, Presigned, UploadSpec};

async fn store() -> S3Blobs {
    let sdk = crate::support::sdk().await;
    let bucket = format!("contract-{}", uuid::Uuid::now_v7().simple());
    create_bucket(&sdk, &bucket).await.expect("bucket");
    S3Blobs::new(&sdk, &bucket, true)
}

async fn upload(p: Presigned, content_type: &str, body: Vec<u8>) -> bool {
    let mut req = reqwest::Client::new().put(&p.url).body(body);
    for (k, v) in &p.headers {
        if !k.eq_ignore_ascii_case("content-type") {
            req = req.header(k, v);
        }
    }
    req.header("content-type", content_type)
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

async fn download(url: String) -> Option<(Vec<u8>, String)> {
    let r = reqwest::get(&url).await.ok()?;
    if !r.status().is_success() {
        return None;
    }
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    Some((r.bytes().await.ok()?.to_vec(), ct))
}

chat_core::blob_store_contract!(store(), upload, download);

#[tokio::test]
async fn presigned_urls_sign_the_type_length_metadata_and_expiry() {
    let s = store().await;
    let mut metadata = std::collections::BTreeMap::new();
    metadata.insert("owner".to_owned(), "alice".to_owned());
    let spec = UploadSpec {
        content_type: "image/png".into(),
        content_length: 5,
        metadata,
    };
    let now = chat_core::contract::wall_clock();
    let p = s
        .presign_put("pending/x", &spec, now, 900_000)
        .await
        .unwrap();
    let q = p.url.split_once('?').unwrap().1.to_owned();
    assert!(q.contains("X-Amz-Expires=900"), "{q}");
    assert!(q.contains("X-Amz-Signature="), "{q}");
    let signed = q
        .split('&')
        .find_map(|kv| kv.strip_prefix("X-Amz-SignedHeaders="))
        .unwrap()
        .replace("%3B", ";");
    for h in ["content-length", "content-type", "host", "x-amz-meta-owner"] {
        assert!(
            signed.split(';').any(|s| s == h),
            "{h} not signed: {signed}"
        );
    }
    assert!(p
        .headers
        .iter()
        .any(|(k, v)| k == "x-amz-meta-owner" && v == "alice"));
    assert!(
        !p.headers
            .iter()
            .any(|(k, _)| k.starts_with("x-amz-checksum")),
        "{:?}",
        p.headers
    );
    let get = DownloadSpec {
        content_type: "image/png".into(),
        disposition: "attachment".into(),
    };
    let url = s.presign_get("rooms/r/x", &get, now, 60_000).await.unwrap();
    assert!(
        url.contains("X-Amz-Expires=60") && url.contains("response-content-disposition=attachment"),
        "{url}"
    );
}
