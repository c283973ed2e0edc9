//! Messages between the page and the analysis worker. The page posts `{job, file}` (a `File`
//! object: structured clone copies no bytes); the worker reads it slice by slice and answers
//! with these, serialised by serde-wasm-bindgen.

use serde::{Deserialize, Serialize};

/// Bytes read from the file per step. 4 MiB measured best here (1 MiB was clearly slower,
/// 16 MiB no faster); memory in the worker stays near one slice plus the flow table.
pub const SLICE_BYTES: u64 = 4 << 20;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker's wasm is loaded, the built-in relay index fetched, and it listens: messages
    /// posted before this would be lost. `relay_lists` is how many built-in lists it holds.
    Ready,
    Progress {
        job: u32,
        bytes: u64,
        total: u64,
        packets: u64,
        flows: u64,
        elapsed_ms: f64,
    },
    /// The report of this one capture (`torsift.report/1` as JSON, exactly what the CLI prints
    /// for it with the same relay lists), and its count of Tor flows (for the history list).
    Done {
        job: u32,
        report_json: String,
        elapsed_ms: f64,
        tor_flows: u64,
    },
    Failed {
        job: u32,
        message: String,
    },
    /// The answer to a "was it a relay?" lookup: `torsift lookup --format json`'s object for
    /// one address (or `{"error": "…"}`).
    Lookup {
        answer_json: String,
    },
    /// Every year of the relay history was fetched (and so is cached for offline use).
    HistoryCached {
        years: u32,
        failed: u32,
    },
}

impl FromWorker {
    pub fn job(&self) -> u32 {
        match self {
            FromWorker::Progress { job, .. } | FromWorker::Done { job, .. } | FromWorker::Failed { job, .. } => *job,
            FromWorker::Ready | FromWorker::Lookup { .. } | FromWorker::HistoryCached { .. } => u32::MAX,
        }
    }
}
