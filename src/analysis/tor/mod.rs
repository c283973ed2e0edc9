//! Tor policy: what counts as evidence of Tor (`evidence`), and what it adds up to (`verdict`).
//! Built on the mechanism stages; nothing here parses packets.

pub mod bridges;
pub mod builtin;
pub mod cells;
pub mod context;
pub mod directory;
pub mod evidence;
pub mod history;
pub mod hosts;
pub mod link;
pub mod meek;
pub mod name_model;
pub mod name_training;
pub mod relays;
pub mod snowflake;
pub mod tls_tunnel;
pub mod transport;
pub mod verdict;
