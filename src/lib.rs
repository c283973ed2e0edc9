//! # torsift
//!
//! Did anything in this capture use Tor — who, when, through which relays, and how sure are we?
//!
//! The crate is one pipeline, in data order (module order = data order):
//!
//! ```text
//! capture → decode → flow → report
//! (pcap,    (link, VLAN,  (table,    (serde model,
//!  pcapng,   MPLS, PPPoE,  direction, JSON / CSV /
//!  gzip)     IP, frags,    counters)  text)
//!            tunnels)
//! ```
//!
//! [`analysis`] is the pure core: bytes go in with [`analysis::Analyzer::push`] in chunks of any
//! size, [`analysis::Analyzer::finish`] returns a [`analysis::CaptureReport`]. It does no I/O,
//! reads no clock (times come from packets) and never panics on input. The CLI (`src/bin/cli.rs`)
//! and the browser worker drive the same core.
//!
//! # Limits
//!
//! Every buffer has a named bound in [`analysis::Limits`]; hitting one is counted in the report.
//!
//! # Blind spots
//!
//! - Link types other than those listed in the README are counted, not decoded.
//! - Flows evicted from a full table are counted (`flow_table.flows_evicted`), not listed.
//! - A frame cut short by a small snaplen still counts, with the bytes it declares on the wire.

#![forbid(unsafe_code)]

pub mod analysis;
pub mod browser;
pub mod output;
pub mod synth;
