//! The pure analysis core: no I/O, no clock, no panics on input. See the crate docs for the map.

// No panics by construction: input decides every index, so every access is checked.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic))]

pub mod anomaly;
pub mod bytes;
pub mod capture;
pub mod decode;
pub mod dns;
pub mod error;
pub mod flow;
pub mod limits;
pub mod pipeline;
pub mod report;
pub mod time;
pub mod tls;
pub mod tor;
pub mod udp;

pub use error::CaptureError;
pub use limits::Limits;
pub use pipeline::{analyze_bytes, Analyzer, Progress};
pub use report::{CaptureReport, Report};
