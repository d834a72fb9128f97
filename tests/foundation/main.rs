//! Acceptance tests of the foundation: the domain rules of the chat platform,
//! proven through the real Lambda handlers over the in-memory adapters.

mod attachments;
mod bigrooms;
mod e2ee;
mod fuzz;
mod history;
mod identity;
mod messaging;
mod persistence;
mod presence;
mod profiles;
mod ratelimit;
mod receipts;
mod replies;
mod retries;
mod rooms;
mod security;
mod sync;
