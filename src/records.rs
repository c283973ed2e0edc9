//! Flat flow records and the newline-delimited report (`--format ndjson`): one JSON object per
//! line, so a report of any size streams to its reader, and each flow is one row a SIEM, Spark
//! or Parquet table takes as it is.
//!
//! Lines, in order: `{"type": "header", …}` (schema, generator, relay lists, notes), then per
//! capture its flows `{"type": "flow", …flat record…, "flow": {the torsift.report/1 flow}}` and
//! `{"type": "capture", …}` (the capture object of `torsift.report/1` without `flows`, plus
//! `flow_count`).

use crate::analysis::report::{CaptureReport, FlowReport};
use crate::analysis::time::Timestamp;
use crate::analysis::Report;
use serde::Serialize;
use std::io::{self, Write};

/// One flow as one flat row: the columns other tools join and filter on.
#[derive(Clone, Debug, Serialize)]
pub struct FlowRecord<'a> {
    pub capture: &'a str,
    pub proto: &'static str,
    pub client_ip: String,
    pub client_port: u16,
    pub server_ip: String,
    pub server_port: u16,
    /// Community ID v1, seed 0: the join key with Zeek conn.log and Suricata EVE.
    pub community_id: &'a str,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub packets: u64,
    pub bytes: u64,
    pub client_bytes: u64,
    pub server_bytes: u64,
    pub verdict: &'static str,
    pub confidence: Option<&'static str>,
    pub transport: Option<&'static str>,
    /// The evidence kinds, in report order (`relay-orport`, `cell-sized-records`, …).
    pub evidence_kinds: Vec<String>,
    /// The relay or bridge a relay-list or built-in-bridge match names, if any.
    pub relay_nickname: Option<String>,
    pub relay_fingerprint: Option<String>,
    pub sni: Option<&'a str>,
    pub ja4: Option<&'a str>,
    /// The flow left a full flow table before the capture ended and was written then; a later
    /// packet of it is another row (`--format ndjson`, `flow_records`).
    pub evicted: bool,
}

impl<'a> FlowRecord<'a> {
    pub fn new(capture: &'a str, f: &'a FlowReport) -> Self {
        let text = |e: &serde_json::Value, k: &str| e[k].as_str().filter(|s| !s.is_empty()).map(str::to_string);
        let named = f.evidence.iter().find(|e| text(e, "fingerprint").is_some() || text(e, "nickname").is_some());
        FlowRecord {
            capture,
            proto: f.proto,
            client_ip: f.client.ip().to_string(),
            client_port: f.client.port(),
            server_ip: f.server.ip().to_string(),
            server_port: f.server.port(),
            community_id: &f.community_id,
            first_seen: f.first_seen,
            last_seen: f.last_seen,
            packets: f.packets,
            bytes: f.bytes,
            client_bytes: f.to_server.bytes,
            server_bytes: f.to_client.bytes,
            verdict: f.verdict,
            confidence: f.confidence,
            transport: f.transport,
            evidence_kinds: f.evidence.iter().filter_map(|e| e["kind"].as_str().map(str::to_string)).collect(),
            relay_nickname: named.and_then(|e| text(e, "nickname")),
            relay_fingerprint: named.and_then(|e| text(e, "fingerprint")),
            sni: f.stream.as_ref().and_then(|s| s.sni.as_deref()),
            ja4: f.stream.as_ref().and_then(|s| s.ja4.as_deref()),
            evicted: f.evicted,
        }
    }
}

#[derive(Serialize)]
struct Tagged<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    body: &'a T,
}

#[derive(Serialize)]
struct FlowLine<'a> {
    #[serde(flatten)]
    record: FlowRecord<'a>,
    flow: &'a FlowReport,
}

fn line<T: Serialize>(out: &mut dyn Write, kind: &'static str, body: &T) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &Tagged { kind, body }).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

/// The header line: what `torsift.report/1` says before its captures.
pub fn write_header(report_without_captures: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut header = serde_json::to_value(report_without_captures).map_err(io::Error::other)?;
    if let Some(o) = header.as_object_mut() {
        o.remove("captures");
    }
    line(out, "header", &header)
}

/// One capture: a line per flow, then the capture's own line (its report object without
/// `flows`, with `flow_count`). Takes the capture so each flow is dropped once written.
pub fn write_capture(mut capture: CaptureReport, out: &mut dyn Write) -> io::Result<()> {
    let flows = std::mem::take(&mut capture.flows);
    for f in &flows {
        write_flow(&capture.file, f, out)?;
    }
    let count = flows.len();
    drop(flows);
    write_capture_line(&capture, count, out)
}

/// One flow's line, for a capture whose report is made a flow at a time.
pub fn write_flow(file: &str, f: &FlowReport, out: &mut dyn Write) -> io::Result<()> {
    line(out, "flow", &FlowLine { record: FlowRecord::new(file, f), flow: f })
}

/// The capture's own line, after its `flow_count` flow lines.
pub fn write_capture_line(capture: &CaptureReport, flow_count: usize, out: &mut dyn Write) -> io::Result<()> {
    let mut summary = serde_json::to_value(capture).map_err(io::Error::other)?;
    if let Some(o) = summary.as_object_mut() {
        o.remove("flows");
        o.insert("flow_count".into(), flow_count.into());
    }
    line(out, "capture", &summary)
}
