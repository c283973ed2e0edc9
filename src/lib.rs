//! # torsift
//!
//! Did anything in this capture use Tor — who, when, through which relays, and how sure are we?
//!
//! The crate is one pipeline, in data order (module order = data order):
//!
//! ```text
//! capture → decode → flow → tls / udp / dns → tor: evidence → verdict → report
//! (pcap,    (link,   (table,  (hellos,       (relay lists,  (per flow,  (serde model,
//!  pcapng,   VLAN,    dir,     certs,         relay history  per host,   JSON / CSV /
//!                                             by day, built-in
//!  gzip)     IP,      stats)   records,       bridges, link  confidence) text)
//!            frags,            flights,       traits, cells,
//!            tunnels)          turns; STUN,   dir, obfs4,
//!                              DTLS)          meek, Snowflake)
//! ```
//!
//! `capture`, `decode`, `flow`, `tls`, `udp` and `dns` are mechanism and know nothing about Tor;
//! `tor` is policy and parses no packets.
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
//! - Bridges and pluggable transports are in no public relay list (Tor Browser's built-in bridges
//!   are compiled in, dated); obfs4 is recognised by its handshake and padding only where segment
//!   boundaries survive, meek by its idle back-off, Snowflake by its STUN → pion DTLS → relay
//!   sequence, WebTunnel only by the sizes of Tor's TLS inside its TLS (at most `medium`);
//!   Conjure is not recognised.
//! - No verdict rests on one weak trait or on other flows of the same host (see the README's
//!   evidence table, which says how specific each kind measured). Snowflake's steps are tied to
//!   one WebRTC connection by protocol facts (ICE usernames, the same socket, mirrored bytes), not
//!   by the host.
//! - Relay lists age (the relay history dates a match on the capture's own day where it has a
//!   snapshot of that day, and says "no data" where it has none); TLS 1.3 hides certificates; a
//!   snaplen that cuts payloads hides handshakes.
//! - Flows evicted from a full table are counted (`flow_table.flows_evicted`), not listed —
//!   unless the reader asks for their reports as they leave (`Analyzer::report_evicted_flows`,
//!   the CLI's `--format ndjson`).
//! - A frame cut short by a small snaplen still counts, with the bytes it declares on the wire.

#![forbid(unsafe_code)]

pub mod analysis;
pub mod browser;
pub mod files;
pub mod json_report;
pub mod output;
pub mod records;
pub mod synth;
