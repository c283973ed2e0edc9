//! Tor policy: what counts as evidence of Tor (`evidence`), and what it adds up to (`verdict`).
//! Built on the mechanism stages; nothing here parses packets.

pub mod evidence;
pub mod relays;
pub mod verdict;
