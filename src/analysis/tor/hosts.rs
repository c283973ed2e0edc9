//! Per host: which local hosts used Tor, when, how much, through which relays or bridges.

use crate::analysis::report::FlowReport;
use crate::analysis::time::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::IpAddr;

#[derive(Clone, Debug, Serialize)]
pub struct PeerSummary {
    pub endpoint: String,
    /// Relay nickname and fingerprint when a list names it.
    pub nickname: String,
    pub fingerprint: String,
    /// Two-letter country code when the list gives one.
    pub country: String,
    pub flows: u64,
    pub bytes: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct HostSummary {
    pub host: IpAddr,
    /// Flows per verdict (tor, tor-directory, tor-transport, tor-exit).
    pub verdicts: BTreeMap<&'static str, u64>,
    /// Pluggable transports this host used (`obfs4`, `meek`, `snowflake`, …), by name.
    pub transports: Vec<&'static str>,
    pub flows: u64,
    pub packets: u64,
    pub bytes: u64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// The relays, bridges or exits this host talked to (by bytes).
    pub peers: Vec<PeerSummary>,
    /// When each Tor flow was active (for a timeline; at most 500, the largest).
    pub spans: Vec<Span>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Span {
    pub verdict: &'static str,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub bytes: u64,
}

/// Spans kept per host: enough for a readable timeline.
const MAX_SPANS: usize = 500;

/// The host summaries of a capture, built one flow report at a time: Tor-verdict flows grouped
/// by local host (the client, except for `tor-exit` flows, where the local host is the server
/// an exit connected to).
#[derive(Default)]
pub struct HostSummaries {
    hosts: BTreeMap<IpAddr, HostSummary>,
}

impl HostSummaries {
    pub fn add(&mut self, f: &FlowReport) {
        if f.verdict == "none" {
            return;
        }
        let hosts = &mut self.hosts;
        let (local, peer) = if f.verdict == "tor-exit" { (f.server, f.client) } else { (f.client, f.server) };
        let h = hosts.entry(local.ip()).or_insert_with(|| HostSummary {
            host: local.ip(),
            verdicts: BTreeMap::new(),
            transports: Vec::new(),
            flows: 0,
            packets: 0,
            bytes: 0,
            first_seen: f.first_seen,
            last_seen: f.last_seen,
            peers: Vec::new(),
            spans: Vec::new(),
        });
        push_span(
            &mut h.spans,
            Span { verdict: f.verdict, first_seen: f.first_seen, last_seen: f.last_seen, bytes: f.bytes },
        );
        *h.verdicts.entry(f.verdict).or_insert(0) += 1;
        if let Some(t) = f.transport.filter(|t| !h.transports.contains(t)) {
            h.transports.push(t);
        }
        h.flows += 1;
        h.packets += f.packets;
        h.bytes += f.bytes;
        h.first_seen = h.first_seen.min(f.first_seen);
        h.last_seen = h.last_seen.max(f.last_seen);
        let relay = f.evidence.iter().find(|e| e.get("nickname").is_some() || e.get("fingerprint").is_some());
        let text = |key: &str| relay.and_then(|r| r.get(key)).and_then(|v| v.as_str()).unwrap_or("").to_string();
        let endpoint = peer.to_string();
        match h.peers.iter_mut().find(|p| p.endpoint == endpoint) {
            Some(p) => {
                p.flows += 1;
                p.bytes += f.bytes;
            }
            None => h.peers.push(PeerSummary {
                endpoint,
                nickname: text("nickname"),
                fingerprint: text("fingerprint"),
                country: text("country"),
                flows: 1,
                bytes: f.bytes,
            }),
        }
    }

    pub fn finish(self) -> Vec<HostSummary> {
        let mut out: Vec<HostSummary> = self.hosts.into_values().collect();
        for h in &mut out {
            h.transports.sort_unstable();
            h.peers.sort_by_key(|p| std::cmp::Reverse(p.bytes));
            keep_largest(&mut h.spans);
            h.spans.sort_by_key(|s| s.first_seen);
        }
        out.sort_by_key(|h| std::cmp::Reverse(h.bytes));
        out
    }
}

/// Adds a span; only the largest are kept in the end, so past twice that many the rest go
/// (a stream of flow reports must not grow this): a stable sort keeps the same ones, in the same
/// order, as one sort at the end would.
fn push_span(spans: &mut Vec<Span>, span: Span) {
    spans.push(span);
    if spans.len() >= 2 * MAX_SPANS {
        keep_largest(spans);
    }
}

/// The `MAX_SPANS` largest spans, largest first (ties in the order they came).
fn keep_largest(spans: &mut Vec<Span>) {
    spans.sort_by_key(|s| std::cmp::Reverse(s.bytes));
    spans.truncate(MAX_SPANS);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_pruned_as_they_come_are_those_one_sort_at_the_end_keeps() {
        // 2,500 spans of 613 sizes: many ties, several prunings.
        let spans: Vec<Span> = (0..2_500i64)
            .map(|i| Span {
                verdict: "tor",
                first_seen: Timestamp(i),
                last_seen: Timestamp(i),
                bytes: (i as u64 * 7_919) % 613,
            })
            .collect();
        let mut once = spans.clone();
        keep_largest(&mut once);
        let mut streamed = Vec::new();
        for span in spans {
            push_span(&mut streamed, span);
            assert!(streamed.len() < 2 * MAX_SPANS);
        }
        keep_largest(&mut streamed);
        let key = |v: &[Span]| v.iter().map(|s| (s.first_seen, s.bytes)).collect::<Vec<_>>();
        assert_eq!(once.len(), MAX_SPANS);
        assert_eq!(key(&streamed), key(&once));
    }
}
