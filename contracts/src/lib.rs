//! The machine-readable contracts, generated from the Rust types and the
//! REST route table, never written by hand:
//!
//! - `docs/schema/frames.schema.json`: every WebSocket frame, both
//!   directions ([`chat_core::protocol::schema::frames`]);
//! - `docs/openapi.json`: the REST API ([`chat_lambda::openapi::document`]).
//!
//! `cargo run -p chat-contracts` rewrites both; the tests of this crate fail
//! when a committed one differs from what the code generates, and validate
//! real frames and bodies against them.

use std::path::{Path, PathBuf};

/// The command that regenerates the committed documents.
pub const REGENERATE: &str = "cargo run -p chat-contracts";

/// One generated document and where it is committed.
pub struct Document {
    /// Path from the repository root.
    pub path: &'static str,
    /// Its text as committed: pretty JSON and a final newline.
    pub text: String,
}

/// Every contract document, freshly generated.
pub fn documents() -> Result<Vec<Document>, String> {
    Ok(vec![
        Document {
            path: "docs/schema/frames.schema.json",
            text: pretty(&chat_core::protocol::schema::frames()?)?,
        },
        Document {
            path: "docs/openapi.json",
            text: pretty(&chat_lambda::openapi::document()?)?,
        },
    ])
}

fn pretty(value: &serde_json::Value) -> Result<String, String> {
    serde_json::to_string_pretty(value)
        .map(|t| t + "\n")
        .map_err(|e| e.to_string())
}

/// The repository root (this crate lives in `contracts/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}
