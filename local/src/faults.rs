//! `POST /dev/faults` (and `GET`): the fault lab of the local platform. Faults are staged
//! in front of the ports the in-process functions use (chat-twin's
//! [`FaultLab`] and [`FailingPuts`]), whatever the backend, and consumed as
//! calls come. Functions under `cargo lambda watch` run in other processes,
//! out of its reach.

use std::sync::Arc;

use chat_core::ids::{ConnectionId, UserId};
use chat_core::ports::ConnectionStore;
use chat_core::Chat;
use chat_twin::{FailingPuts, FaultLab, PushFailure, StoreOp};
use serde::Deserialize;
use serde_json::{json, Value};

/// The faults staged in front of one platform's ports.
pub struct Faults {
    puts: Arc<FailingPuts>,
    /// Pushes, queue sends and named store operations.
    pub lab: Arc<FaultLab>,
    /// Resolves a `userId` target to that user's connections.
    connections: Arc<dyn ConnectionStore>,
}

/// Why a staging request was refused.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error("{0}")]
    BadRequest(String),
    #[error("could not look up the user's connections")]
    Lookup(#[source] chat_core::error::StoreError),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Stage {
    fail_next_puts: Option<u32>,
    fail_pushes: Option<PushStage>,
    refuse_enqueues: Option<u32>,
    fail_records: Option<u32>,
    fail_claims: Option<u32>,
    fail_store: Option<StoreStage>,
    index_lag_ms: Option<u64>,
    #[serde(default)]
    clear: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PushStage {
    n: u32,
    /// `transient` (default) or `gone`.
    #[serde(default, rename = "as")]
    failure: Option<String>,
    connection_id: Option<String>,
    user_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreStage {
    op: String,
    n: u32,
    /// Calls to let through before the `n` that fail.
    #[serde(default)]
    after: u32,
}

impl Faults {
    /// Puts the fault decorators around `chat`'s ports; the index lag too,
    /// unless `lag_beneath` says it is beneath the cache already
    /// ([`FaultLab::beneath_cache`]).
    pub fn install(chat: &mut Chat, lab: Arc<FaultLab>, lag_beneath: bool) -> Self {
        let puts = Arc::new(FailingPuts::new(chat.messages.clone()));
        chat.messages = puts.clone();
        lab.install_on(chat, !lag_beneath);
        Self {
            puts,
            lab,
            connections: chat.connections.clone(),
        }
    }

    /// Makes the next `n` message writes fail (the persistence worker's).
    pub fn fail_next_puts(&self, n: u32) {
        self.puts.fail_next_puts(n);
    }

    /// What is still staged: the push failures, queue refusals, record
    /// failures, message write failures and store failures (by operation)
    /// to come, and the index writes the lag still hides.
    pub fn pending(&self) -> Value {
        let store: serde_json::Map<String, Value> = self
            .lab
            .store_pending()
            .into_iter()
            .map(|(op, n)| (op.name().to_owned(), json!(n)))
            .collect();
        json!({
            "pushesPending": self.lab.pushes_pending(),
            "enqueuesPending": self.lab.enqueues_pending(),
            "recordsPending": self.lab.records_pending(),
            "claimsPending": self.lab.claims_pending(),
            "putsPending": self.puts.pending(),
            "storePending": store,
            "indexPending": self.lab.index_pending(),
        })
    }

    /// Stages what `body` asks for; answers what was staged.
    pub async fn stage(&self, body: &[u8]) -> Result<Value, StageError> {
        let stage: Stage = chat_core::protocol::decode::from_slice(body).map_err(|e| {
            StageError::BadRequest(format!("invalid faults request: {}", e.public_message()))
        })?;
        let mut staged = serde_json::Map::new();
        if stage.clear {
            self.lab.clear();
            self.puts.fail_next_puts(0);
            staged.insert("clear".into(), json!(true));
        }
        if let Some(n) = stage.fail_next_puts {
            self.puts.fail_next_puts(n);
            staged.insert("failNextPuts".into(), json!(n));
        }
        if let Some(p) = stage.fail_pushes {
            let failure = match p.failure.as_deref() {
                None | Some("transient") => PushFailure::Transient,
                Some("gone") => PushFailure::Gone,
                Some(_) => {
                    return Err(StageError::BadRequest(
                        "failPushes.as must be \"transient\" or \"gone\"".into(),
                    ))
                }
            };
            let targets: Vec<Option<ConnectionId>> = match (p.connection_id, p.user_id) {
                (Some(_), Some(_)) => {
                    return Err(StageError::BadRequest(
                        "failPushes takes connectionId or userId, not both".into(),
                    ))
                }
                (Some(c), None) => vec![Some(ConnectionId::parse(&c).map_err(|_| {
                    StageError::BadRequest("failPushes.connectionId is not a connection id".into())
                })?)],
                (None, Some(u)) => {
                    let user = UserId::parse(&u).map_err(|_| {
                        StageError::BadRequest("failPushes.userId is not a user id".into())
                    })?;
                    self.connections
                        .for_users(&[user])
                        .await
                        .map_err(StageError::Lookup)?
                        .into_iter()
                        .map(|c| Some(c.connection_id))
                        .collect()
                }
                (None, None) => vec![None],
            };
            let mut ids = Vec::new();
            for t in targets {
                ids.push(t.as_ref().map_or("*".to_owned(), |c| c.to_string()));
                self.lab.fail_pushes(t, failure, p.n);
            }
            staged.insert(
                "failPushes".into(),
                json!({"n": p.n, "as": if failure == PushFailure::Gone { "gone" } else { "transient" }, "connections": ids}),
            );
        }
        if let Some(n) = stage.refuse_enqueues {
            self.lab.refuse_enqueues(n);
            staged.insert("refuseEnqueues".into(), json!(n));
        }
        if let Some(n) = stage.fail_records {
            self.lab.fail_records(n);
            staged.insert("failRecords".into(), json!(n));
        }
        if let Some(n) = stage.fail_claims {
            self.lab.fail_claims(n);
            staged.insert("failClaims".into(), json!(n));
        }
        if let Some(s) = stage.fail_store {
            let op = StoreOp::parse(&s.op).ok_or_else(|| {
                let names: Vec<&str> = StoreOp::ALL.iter().map(|(_, n)| *n).collect();
                StageError::BadRequest(format!("failStore.op must be one of {}", names.join(", ")))
            })?;
            self.lab.fail_store_after(op, s.after, s.n);
            staged.insert(
                "failStore".into(),
                json!({"op": op.name(), "n": s.n, "after": s.after}),
            );
        }
        if let Some(ms) = stage.index_lag_ms {
            self.lab.lag_index(std::time::Duration::from_millis(ms));
            staged.insert("indexLagMs".into(), json!(ms));
        }
        if staged.is_empty() {
            return Err(StageError::BadRequest(
                "expected failNextPuts, failPushes, refuseEnqueues, failRecords, failClaims, failStore, indexLagMs or clear"
                    .into(),
            ));
        }
        Ok(Value::Object(staged))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_core::config::Limits;

    #[tokio::test]
    async fn a_bad_staging_request_is_refused_by_what_was_wrong_never_by_what_was_sent() {
        let (mut chat, _) = Chat::in_memory(Limits::default());
        let faults = Faults::install(&mut chat, FaultLab::new(), false);
        for (body, want) in [
            (
                r#"{"<img src=x>": 1}"#,
                "invalid faults request: ?: unknown field",
            ),
            (
                r#"{"refuseEnqueues": "<img src=x>"}"#,
                "invalid faults request: refuseEnqueues: wrong type, expected u32",
            ),
            (
                r#"{"failStore": {"op": 1"#,
                "invalid faults request: JSON ends",
            ),
        ] {
            let err = faults.stage(body.as_bytes()).await.unwrap_err();
            let shown = err.to_string();
            assert!(shown.starts_with(want), "{body}: {shown}");
            assert!(!shown.contains("img"), "{shown}");
        }
        // A good one is staged.
        let staged = faults
            .stage(br#"{"refuseEnqueues": 2}"#)
            .await
            .expect("staged");
        assert!(staged.to_string().contains("refuseEnqueues"), "{staged}");
    }
}
