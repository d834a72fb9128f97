use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::lock;
use crate::error::PushError;
use crate::ids::ConnectionId;
use crate::ports::Pusher;

struct Sink {
    tx: mpsc::UnboundedSender<String>,
    /// Transient failures still to inject on this connection.
    failures: u32,
}

/// Connections as channels: `open` gives the receiving end (a test inbox, or
/// the local gateway's socket writer), `post` answers `Gone` like API Gateway's
/// 410 for an id that is unknown or whose receiver was dropped.
#[derive(Default)]
pub struct MemoryPusher {
    sinks: Mutex<HashMap<ConnectionId, Sink>>,
    posts: AtomicU64,
}

impl MemoryPusher {
    pub fn open(&self, conn: &ConnectionId) -> mpsc::UnboundedReceiver<String> {
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&self.sinks).insert(conn.clone(), Sink { tx, failures: 0 });
        rx
    }

    /// Forgets the connection, as when its socket died without a word.
    pub fn drop_connection(&self, conn: &ConnectionId) {
        lock(&self.sinks).remove(conn);
    }

    /// The next `n` posts to `conn` fail with a transient error.
    pub fn fail_next_posts(&self, conn: &ConnectionId, n: u32) {
        if let Some(s) = lock(&self.sinks).get_mut(conn) {
            s.failures = n;
        }
    }

    /// Posts attempted so far (the PostToConnection count in AWS).
    pub fn posts(&self) -> u64 {
        self.posts.load(Ordering::Relaxed)
    }

    pub fn is_open(&self, conn: &ConnectionId) -> bool {
        lock(&self.sinks)
            .get(conn)
            .is_some_and(|s| !s.tx.is_closed())
    }
}

#[async_trait]
impl Pusher for MemoryPusher {
    async fn post(&self, conn: &ConnectionId, frame: &[u8]) -> Result<(), PushError> {
        self.posts.fetch_add(1, Ordering::Relaxed);
        let text = String::from_utf8_lossy(frame).into_owned();
        let mut g = lock(&self.sinks);
        let Some(sink) = g.get_mut(conn) else {
            return Err(PushError::Gone);
        };
        if sink.failures > 0 {
            sink.failures -= 1;
            return Err(PushError::Transient("injected failure: throttled".into()));
        }
        if sink.tx.send(text).is_err() {
            g.remove(conn);
            return Err(PushError::Gone);
        }
        Ok(())
    }

    async fn disconnect(&self, conn: &ConnectionId) -> Result<(), PushError> {
        match lock(&self.sinks).remove(conn) {
            Some(_) => Ok(()),
            None => Err(PushError::Gone),
        }
    }
}
