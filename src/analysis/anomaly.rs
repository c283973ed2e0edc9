//! Non-fatal problems: a frame that could not be fully decoded is counted under a named kind,
//! a few samples are kept, and analysis goes on.

use serde::Serialize;
use std::collections::BTreeMap;

/// One example of an anomaly: which frame, and what was wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AnomalySample {
    pub kind: &'static str,
    /// 1-based frame number, as Wireshark numbers frames.
    pub frame: u64,
    pub detail: String,
}

#[derive(Clone, Debug, Default)]
pub struct Anomalies {
    pub counts: BTreeMap<&'static str, u64>,
    pub samples: Vec<AnomalySample>,
    max_samples_per_kind: usize,
}

impl Anomalies {
    pub fn new(max_samples_per_kind: usize) -> Self {
        Anomalies { max_samples_per_kind, ..Default::default() }
    }

    pub fn add(&mut self, kind: &'static str, frame: u64, detail: impl FnOnce() -> String) {
        self.add_n(kind, frame, 1, detail);
    }

    pub fn add_n(&mut self, kind: &'static str, frame: u64, n: u64, detail: impl FnOnce() -> String) {
        let count = self.counts.entry(kind).or_insert(0);
        *count += n;
        if *count <= self.max_samples_per_kind as u64 {
            self.samples.push(AnomalySample { kind, frame, detail: detail() });
        }
    }
}
