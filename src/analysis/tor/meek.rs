//! meek (meek-client, and meek_lite in obfs4proxy/lyrebird) by its polling timer. What the
//! code fixes (obfs4proxy `transports/meeklite/meek.go`, `ioWorker`; meek-client's
//! `meek-client.go` has the same constants): every request is an HTTP POST on one long TLS
//! session; after a request that sent or received data the next one goes at once, and while
//! the tunnel is idle the client waits `initPollInterval` = 100 ms, then ×`pollIntervalMultiplier`
//! = 1.5 after every empty exchange, up to `maxPollInterval` = 5 s. Idle polls carry no body,
//! so they are requests of one fixed size. On the wire: runs of equal-sized requests whose
//! think times grow 100, 150, 225, 337, 506, 759, 1139 … ms.
//!
//! Ordinary long-polling re-requests at once (the server holds the request) and other timers
//! are fixed, doubling or jittered, so a ×1.5 run of identical requests is meek's signature.
//! The front domain (the TLS SNI) is only context: front domains are popular CDN names.

use crate::analysis::tls::turns::TurnSummary;
use serde::Serialize;

/// A back-off run this long (six ×1.5 steps: 100 ms → 1.1 s) happens once the tunnel idles for
/// three seconds; two shorter runs of four steps count as much.
const MIN_LONGEST_STEPS: u32 = 5;
const MIN_RUNS: u32 = 2;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MeekPolling {
    /// Requests that followed a response.
    pub requests: u32,
    /// Runs of identical requests whose think times grew ×1.5, and the longest one.
    pub backoff_runs: u32,
    pub longest_backoff_steps: u32,
    pub poll_bytes: u32,
    pub think_ms: Vec<u32>,
}

pub fn meek_polling(turns: &TurnSummary) -> Option<MeekPolling> {
    (turns.longest_backoff_steps >= MIN_LONGEST_STEPS || turns.backoff_runs >= MIN_RUNS).then(|| MeekPolling {
        requests: turns.client_turns,
        backoff_runs: turns.backoff_runs,
        longest_backoff_steps: turns.longest_backoff_steps,
        poll_bytes: turns.backoff_request_bytes,
        think_ms: turns.backoff_think_ms.clone(),
    })
}
