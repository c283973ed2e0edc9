//! Every buffer the core keeps has a named bound here, with the reason for its default.
//! Hitting a bound is counted in the report; nothing is dropped silently.

use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct Limits {
    /// Live flows in the table. Each costs roughly 200 bytes plus its handshake buffers, so the
    /// default keeps the table near 100 MB even for scans; when full, the idlest eighth is evicted
    /// (counted in `flows_evicted`) and a later packet of an evicted flow starts a new flow.
    pub max_flows: usize,
    /// Largest capture record (pcap record or pcapng block) accepted. Wireshark refuses packets
    /// over 256 KiB and blocks over 16 MiB; anything bigger is a lying length, not a packet.
    pub max_record_bytes: usize,
    /// Encapsulations followed inside one frame (VLAN tags, MPLS labels, tunnels together).
    /// Real traffic rarely exceeds 6; the bound stops crafted nesting from costing more.
    pub max_encapsulation_depth: usize,
    /// IP datagrams awaiting their first fragment at once. Fragments beyond this are counted
    /// as `fragments_unattributed`.
    pub max_pending_fragments: usize,
    /// Samples of each anomaly kept for display (the counts are always exact).
    pub max_anomaly_samples: usize,
    /// Bytes kept from the start of each TCP direction while it is still a TLS handshake: a
    /// ClientHello and a TLS 1.2 certificate chain fit (Tor's link chain is ~1.5 KB, a
    /// typical web chain 3–6 KB). Streams that are not TLS keep `max_plain_head_bytes`.
    pub max_handshake_bytes: usize,
    /// Bytes kept from the start of a non-TLS TCP direction: an HTTP request line and headers.
    pub max_plain_head_bytes: usize,
    /// All stream heads together. Beyond it, new flows keep no head (counted as
    /// `stream_head_budget_exhausted`): a scan of a million connections cannot exhaust memory.
    pub max_head_bytes_total: usize,
    /// DNS names remembered per capture (to tell whether a TLS server name was ever looked up).
    pub max_dns_names: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_flows: 500_000,
            max_record_bytes: 16 * 1024 * 1024,
            max_encapsulation_depth: 16,
            max_pending_fragments: 4096,
            max_anomaly_samples: 5,
            max_handshake_bytes: 8 * 1024,
            max_plain_head_bytes: 1024,
            max_head_bytes_total: 256 * 1024 * 1024,
            max_dns_names: 100_000,
        }
    }
}

impl Limits {
    /// The bounds for a reader that streams flow reports and reports the flows a full table
    /// evicts (`Analyzer::report_evicted_flows`: the CLI's `--format ndjson`, Python's
    /// `flow_records`). An evicted flow is then reported, not lost, so the table is sized for
    /// memory rather than completeness: 64,000 live flows (up to ~850 bytes each with their TCP
    /// stream state, ~55 MiB) and 32 MiB of stream heads, so that reading one file stays under
    /// 128 MiB whatever its size. The same for every file on every machine, so a file's flow
    /// lines do not depend on where or with what else it was read.
    pub fn streaming() -> Limits {
        Limits { max_flows: 64_000, max_head_bytes_total: 32 << 20, ..Limits::default() }
    }
}
