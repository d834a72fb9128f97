//! In-memory adapters: one beside every port. They are the embedded default of
//! the local platform and the fast backend of unit tests, and they pass the
//! same contract suite as the AWS/Redis adapters ([`crate::contract`]).
//!
//! Each keeps its state behind one `std::sync::Mutex` that is never held across
//! an `.await`, which makes every operation atomic: exactly the guarantees the
//! real adapters get from conditional writes and transactions.

mod blobs;
mod blocks;
mod changes;
mod clock;
mod connections;
mod keys;
mod messages;
mod mobile;
mod notify;
mod outbox;
mod profiles;
mod pusher;
mod queue;
mod rooms;
mod search;

pub use blobs::{BlobRefusal, Download, MemoryBlobs, BLOB_PATH, META_PREFIX};
pub use blocks::MemoryBlocks;
pub use changes::MemoryChanges;
pub use clock::ManualClock;
pub use connections::MemoryConnections;
pub use keys::MemoryKeys;
pub use messages::MemoryMessages;
pub use mobile::{MemoryMobile, Published};
pub use notify::MemoryNotify;
pub use outbox::{MemoryOutbox, OutboxEntry};
pub use profiles::MemoryProfiles;
pub use pusher::MemoryPusher;
pub use queue::{MemoryQueue, QueuedJob};
pub use rooms::MemoryRooms;
pub use search::MemorySearch;

use std::sync::{Mutex, MutexGuard};

/// Locks, recovering the data of a poisoned mutex: a panic elsewhere must not
/// take the whole embedded platform down with it, and every critical section
/// here leaves the state consistent before anything that could panic.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
