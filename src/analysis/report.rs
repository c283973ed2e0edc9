//! The report model: what the CLI prints as JSON (`torsift.report/1`) and the page renders.
//! Fields may be added; existing ones are never renamed or removed (that would be a new schema).

use super::anomaly::AnomalySample;
use super::capture::{Comment, Interface};
use super::decode::DecodeStats;
use super::error::CaptureError;
use super::flow::{DirectionStats, Flow, FlowTableStats};
use super::time::Timestamp;
use super::tor::relays::{RelayIndex, Snapshot};
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;

pub const SCHEMA: &str = "torsift.report/1";

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub generator: String,
    /// Every relay list used for matching: built-in and loaded, with its own date.
    pub relay_lists: Vec<Snapshot>,
    /// Plain-language remarks about the whole run (e.g. no built-in relay list).
    pub notes: Vec<String>,
    pub captures: Vec<CaptureReport>,
}

impl Report {
    pub fn new(captures: Vec<CaptureReport>, relays: &RelayIndex) -> Self {
        let mut notes = Vec::new();
        if !relays.has_builtin() {
            notes.push(
                "No built-in relay list is present in this build (run relays/fetch before building): \
                 relay matches come only from lists loaded with --relays."
                    .to_string(),
            );
        }
        Report {
            schema: SCHEMA,
            generator: format!("torsift {}", env!("CARGO_PKG_VERSION")),
            relay_lists: relays.snapshots().cloned().collect(),
            notes,
            captures,
        }
    }
}

/// Which relay history was used: the years loaded (all in the CLI; the capture's in the page),
/// its sources and the days they cover.
#[derive(Clone, Debug, Serialize)]
pub struct HistorySummary {
    pub years: Vec<i64>,
    pub sources: Vec<String>,
    pub coverage: super::tor::history::Coverage,
}

impl HistorySummary {
    /// The history years a capture's days were matched against (`RelayHistory::years_near` of
    /// its first and last day); `None` when the history has none of them.
    pub fn for_capture(
        history: &super::tor::history::RelayHistory,
        first: Option<Timestamp>,
        last: Option<Timestamp>,
    ) -> Option<Self> {
        let near = super::tor::history::RelayHistory::years_near;
        let (from, to) = (*near(first?.day_number()).start(), *near(last?.day_number()).end());
        let used = history.restricted(from..=to.min(from + 200));
        (!used.is_empty()).then(|| HistorySummary {
            years: used.years(),
            sources: used.source_names(),
            coverage: used.coverage(),
        })
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct CaptureReport {
    pub file: String,
    /// `pcap` or `pcapng`, with `.gz` appended when the file was gzip-compressed; `unknown` when
    /// the file is not a capture.
    pub format: String,
    /// Bytes of the file as given (compressed size for `.gz`).
    pub file_bytes: u64,
    /// Every frame in the file.
    pub packets: u64,
    /// Sum of the frames' on-wire lengths.
    pub bytes: u64,
    pub captured_bytes: u64,
    pub first_seen: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
    pub link_types: Vec<LinkTypeReport>,
    pub interfaces: Vec<Interface>,
    /// Counts of non-fatal problems by kind (malformed headers, undecoded link types, ...).
    pub anomalies: BTreeMap<&'static str, u64>,
    pub anomaly_samples: Vec<AnomalySample>,
    pub decode: DecodeStats,
    pub flow_table: FlowTableStats,
    /// Local hosts that used Tor: when, how much, through which relays or bridges.
    pub hosts: Vec<crate::analysis::tor::hosts::HostSummary>,
    /// The relay history years this capture's flows were dated against, their sources and the
    /// days they cover (`null` when the history has none of them).
    pub relay_history: Option<HistorySummary>,
    pub comments: Vec<Comment>,
    /// Why reading stopped early, with the byte offset; `null` when the file was read whole.
    pub error: Option<CaptureError>,
    pub flows: Vec<FlowReport>,
}

/// Frames per link type, and whether torsift decodes that link type.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct LinkTypeReport {
    pub link_type: u32,
    pub name: &'static str,
    pub decoded: bool,
    pub interfaces: usize,
    pub packets: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct FlowReport {
    pub proto: &'static str,
    pub client: SocketAddr,
    pub server: SocketAddr,
    /// Community ID v1, seed 0 (`flow/community_id.rs`): the same string Zeek, Suricata and
    /// Wireshark compute for this flow, to join their logs.
    pub community_id: String,
    /// Frames in both directions.
    pub packets: u64,
    /// On-wire frame bytes in both directions (as Wireshark's conversation table counts).
    pub bytes: u64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// `none` until Tor evidence is found; see the README for every value.
    pub verdict: &'static str,
    pub confidence: Option<&'static str>,
    /// For `tor-transport`: the pluggable transport the evidence names (`obfs4`, `meek`,
    /// `snowflake`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport: Option<&'static str>,
    pub evidence: Vec<serde_json::Value>,
    /// One line for people: the verdict and the evidence that decided it.
    pub explanation: String,
    pub to_server: DirectionStats,
    pub to_client: DirectionStats,
    /// TCP flags seen from each side, as letters (S SYN, A ACK, F FIN, R RST, P PSH, U URG).
    pub tcp_flags: Option<TcpFlags>,
    /// True when the client was identified by its SYN; otherwise it is the first sender.
    pub oriented_by_syn: bool,
    /// Tunnels enclosing the flow (0 = none).
    pub tunnel_depth: u8,
    /// Non-first IP fragments counted into this flow, and their frame bytes.
    pub fragments: u64,
    pub fragment_bytes: u64,
    /// What the start of a TCP flow showed: TLS hellos, certificates, records, HTTP request.
    /// Boxed, as `datagrams` below: most flows have neither, and a report holds every flow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<Box<StreamSummary>>,
    /// DNS names this flow asked about.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_names: Vec<String>,
    /// What a UDP flow's datagrams showed: STUN requests, ICE checks, a DTLS ClientHello.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datagrams: Option<Box<crate::analysis::udp::DatagramFacts>>,
    /// The flow left a full flow table before the capture ended and was reported then
    /// (`--format ndjson`); a later packet of it is another flow. Absent otherwise.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub evicted: bool,
}

/// The report's compact view of [`crate::analysis::tls::StreamFacts`].
#[derive(Clone, Debug, Serialize)]
pub struct StreamSummary {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alpn: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ja4: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ja3_hash: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<crate::analysis::tls::cert::Certificate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_request: Option<crate::analysis::tls::HttpRequest>,
    pub to_server_records: RecordSummary,
    pub to_client_records: RecordSummary,
    pub first_client_segment_len: u32,
    pub first_client_segment_entropy: f64,
    pub server_spoke_first: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct RecordSummary {
    pub records: u64,
    pub application_data_records: u64,
    /// The most frequent application-data record lengths: (length, count).
    pub top_lengths: Vec<(u16, u32)>,
}

impl StreamSummary {
    pub fn from_facts(f: &crate::analysis::tls::StreamFacts) -> Self {
        let version = f.server_hello.as_ref().map(|s| s.version).or(f.client_hello.as_ref().map(|c| c.version));
        let records = |r: &crate::analysis::tls::records::RecordStats| RecordSummary {
            records: r.records,
            application_data_records: r.application_data_records,
            top_lengths: r.application_data_lengths.iter().take(8).copied().collect(),
        };
        StreamSummary {
            tls_version: version.map(|v| match v {
                0x0304 => "1.3".to_string(),
                0x0303 => "1.2".to_string(),
                0x0302 => "1.1".to_string(),
                0x0301 => "1.0".to_string(),
                v => format!("{v:#06x}"),
            }),
            sni: f.client_hello.as_ref().and_then(|c| c.sni.clone()),
            alpn: f.client_hello.as_ref().map(|c| c.alpn.clone()).unwrap_or_default(),
            ja4: f.client_hello.as_ref().map(|c| c.ja4.clone()),
            ja3_hash: f.client_hello.as_ref().map(|c| c.ja3_hash.clone()),
            certificates: f.certificates.clone(),
            http_request: f.http_request.clone(),
            to_server_records: records(&f.to_server_records),
            to_client_records: records(&f.to_client_records),
            first_client_segment_len: f.first_client_segment_len,
            first_client_segment_entropy: (f64::from(f.first_client_segment_entropy) * 100.0).round() / 100.0,
            server_spoke_first: f.server_spoke_first,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct TcpFlags {
    pub client: String,
    pub server: String,
}

fn flag_letters(bits: u8) -> String {
    [(0x02, 'S'), (0x10, 'A'), (0x08, 'P'), (0x01, 'F'), (0x04, 'R'), (0x20, 'U')]
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|&(_, c)| c)
        .collect()
}

impl FlowReport {
    pub fn from_flow(f: &Flow) -> Self {
        let tcp = f.transport == super::decode::Transport::Tcp;
        FlowReport {
            proto: f.transport.name(),
            client: f.client,
            server: f.server,
            community_id: super::flow::community_id::v1(
                match f.transport {
                    super::decode::Transport::Tcp => super::flow::community_id::TCP,
                    super::decode::Transport::Udp => super::flow::community_id::UDP,
                },
                f.client,
                f.server,
                0,
            ),
            packets: f.packets(),
            bytes: f.bytes(),
            first_seen: f.first_seen,
            last_seen: f.last_seen,
            verdict: "none",
            confidence: None,
            transport: None,
            evidence: Vec::new(),
            explanation: String::new(),
            to_server: f.to_server,
            to_client: f.to_client,
            tcp_flags: tcp.then(|| TcpFlags {
                client: flag_letters(f.to_server.tcp_flags),
                server: flag_letters(f.to_client.tcp_flags),
            }),
            oriented_by_syn: f.oriented_by_syn,
            tunnel_depth: f.tunnel_depth,
            fragments: f.fragments,
            fragment_bytes: f.fragment_bytes,
            stream: None,
            dns_names: f.dns_names.clone(),
            datagrams: None,
            evicted: false,
        }
    }
}
