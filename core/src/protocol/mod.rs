//! The wire contracts: WebSocket frames ([`ws`]) and REST bodies ([`rest`]).
//! `docs/PROTOCOL.md` is the prose version of these types.

pub mod cursor;
pub mod decode;
pub mod rest;
#[cfg(feature = "schema")]
pub mod schema;
pub mod ws;
