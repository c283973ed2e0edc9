//! The analyzer: bytes pushed in chunks of any size, a report out. Stages run in data order —
//! gzip → capture framing → decode → flow table — and the result does not depend on how the
//! input was chunked.

use super::capture::{is_gzip, link_type_name, CaptureReader, Frame, GzipStream};
use super::decode::{is_link_type_decoded, Decoder, Segment, Transport};
use super::dns;
use super::error::CaptureError;
use super::flow::FlowTable;
use super::flow::{Direction, Flow};
use super::limits::Limits;
use super::report::{CaptureReport, FlowReport, LinkTypeReport};
use super::time::Timestamp;
use super::tls::StreamObserver;
use super::tor::relays::RelayIndex;
use super::tor::{bridges, evidence, hosts, verdict};
use super::udp::DatagramObserver;
use std::sync::Arc;

/// How far the analysis has got, after a push.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Progress {
    /// Input bytes accepted so far (compressed bytes for `.gz`).
    pub bytes: u64,
    pub packets: u64,
    pub flows: u64,
}

enum Input {
    /// Fewer than two bytes seen: gzip or not is still open.
    Sniffing(Vec<u8>),
    Plain,
    Gzip(Box<GzipStream>),
}

/// Everything downstream of decompression.
struct Stages {
    limits: Limits,
    reader: CaptureReader,
    decoder: Decoder,
    flows: FlowTable,
    /// Bytes of a record split across pushes, starting at stream offset `offset`.
    pending: Vec<u8>,
    offset: u64,
    totals: Totals,
}

#[derive(Default)]
struct Totals {
    /// Bytes handed to stream heads so far, less those of flows reported when evicted
    /// (bounded by `Limits::max_head_bytes_total`).
    head_bytes: usize,
    heads_refused: u64,
    /// Segments read while the budget was spent, by flows that already had a head (which then
    /// grew no more).
    heads_held: u64,
    /// Every DNS name looked up in the capture (bounded by `Limits::max_dns_names`).
    dns_names: std::collections::HashSet<String>,
    /// The name each answered address was looked up as (same bound).
    resolved: std::collections::HashMap<std::net::IpAddr, String>,
    bytes: u64,
    captured_bytes: u64,
    first_seen: Option<Timestamp>,
    last_seen: Option<Timestamp>,
}

pub struct Analyzer {
    file: String,
    relays: Arc<RelayIndex>,
    input: Input,
    stages: Stages,
    error: Option<CaptureError>,
    input_bytes: u64,
    /// The hosts of the flows reported so far (evicted flows reported early, then the rest).
    hosts: hosts::HostSummaries,
}

impl Analyzer {
    /// An analyzer with no relay lists (flows, no relay evidence).
    pub fn new(file: impl Into<String>, limits: Limits) -> Self {
        Self::with_relays(file, limits, Arc::new(RelayIndex::default()))
    }

    /// An analyzer that matches flows against `relays` (built-in and loaded lists).
    pub fn with_relays(file: impl Into<String>, limits: Limits, relays: Arc<RelayIndex>) -> Self {
        Analyzer {
            file: file.into(),
            relays,
            input: Input::Sniffing(Vec::new()),
            stages: Stages {
                limits: limits.clone(),
                reader: CaptureReader::new(&limits),
                decoder: Decoder::new(&limits),
                flows: FlowTable::new(limits.max_flows),
                pending: Vec::new(),
                offset: 0,
                totals: Totals::default(),
            },
            error: None,
            input_bytes: 0,
            hosts: hosts::HostSummaries::default(),
        }
    }

    /// Flows evicted from a full table are reported, by `take_evicted_reports`, rather than
    /// only counted: with it a reader that streams reports holds no more than the table,
    /// however many flows the capture has (`--format ndjson`). An evicted flow's report is
    /// made when it leaves the table: it has no Snowflake evidence (that ties flows together)
    /// and knows the DNS answers seen until then.
    pub fn report_evicted_flows(&mut self) {
        self.stages.flows.keep_evicted();
    }

    /// Hands the reports of the flows evicted since the last call to `on_flow`, in eviction
    /// order (see `report_evicted_flows`).
    pub fn take_evicted_reports(&mut self, on_flow: &mut dyn FnMut(FlowReport)) {
        for mut flow in self.stages.flows.take_evicted() {
            // Its head leaves with it: the head budget bounds the heads held, not those seen.
            let head = flow.stream.as_ref().map_or(0, |s| s.head_bytes());
            self.stages.totals.head_bytes = self.stages.totals.head_bytes.saturating_sub(head);
            let mut report = lone_flow_report(&self.relays, &self.stages.totals, &mut flow);
            report.evicted = true;
            self.hosts.add(&report);
            on_flow(report);
        }
    }

    /// The first and last day (days since 1970-01-01, UTC) of the packets read so far: the
    /// page fetches the relay history of those years before `finish`.
    pub fn day_span(&self) -> Option<(i64, i64)> {
        let t = &self.stages.totals;
        Some((t.first_seen?.day_number(), t.last_seen?.day_number()))
    }

    /// Replaces the relay index (e.g. once the page has fetched the capture's history years);
    /// matching happens in `finish`, so any time before it counts.
    pub fn set_relays(&mut self, relays: Arc<RelayIndex>) {
        self.relays = relays;
    }

    pub fn progress(&self) -> Progress {
        Progress { bytes: self.input_bytes, packets: self.stages.reader.frames, flows: self.stages.flows.len() as u64 }
    }

    /// Feeds the next chunk of the file. After an error, further chunks are ignored and the same
    /// error is returned; `finish` still reports everything read before it.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Progress, CaptureError> {
        // Counted even after an error: `file_bytes` is the size of the file as given.
        self.input_bytes += chunk.len() as u64;
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let result = self.route(chunk);
        if let Err(e) = result {
            self.error = Some(e.clone());
            return Err(e);
        }
        Ok(self.progress())
    }

    fn route(&mut self, chunk: &[u8]) -> Result<(), CaptureError> {
        let stages = &mut self.stages;
        match &mut self.input {
            Input::Plain => stages.feed(chunk),
            // Framing errors are offsets into the decompressed stream; the inflater's own are
            // offsets into the file.
            Input::Gzip(gz) => gz.push(chunk, &mut |out| stages.feed(out).map_err(mark_decompressed)),
            Input::Sniffing(prefix) => {
                prefix.extend_from_slice(chunk);
                if prefix.len() < 2 {
                    return Ok(());
                }
                let prefix = std::mem::take(prefix);
                self.input = if is_gzip(&prefix) { Input::Gzip(Box::default()) } else { Input::Plain };
                self.route(&prefix)
            }
        }
    }

    /// Ends the input and builds the report of this capture.
    pub fn finish(self) -> CaptureReport {
        let mut flows = Vec::new();
        let mut report = self.finish_with_flows(&mut |flow| flows.push(flow));
        report.flows = flows;
        report
    }

    /// Ends the input and hands each flow's report to `on_flow` as it is made, in report order;
    /// the returned report has every field but `flows` (empty). Memory then holds one flow
    /// report at a time, whatever the number of flows (`--format ndjson`).
    pub fn finish_with_flows(mut self, on_flow: &mut dyn FnMut(FlowReport)) -> CaptureReport {
        if self.error.is_none() {
            let stages = &mut self.stages;
            let result = match &mut self.input {
                Input::Sniffing(prefix) => stages.feed(&std::mem::take(prefix)),
                Input::Plain => Ok(()),
                Input::Gzip(gz) => gz.finish(&mut |out| stages.feed(out).map_err(mark_decompressed)),
            };
            self.error = result.err();
        }
        if self.error.is_none() {
            let s = &self.stages;
            self.error = s.reader.finish(s.pending.len(), s.offset).map(|e| match self.input {
                Input::Gzip(_) => mark_decompressed(e),
                _ => e,
            });
        }
        self.stages.decoder.finish();
        // Flows evicted by the last bytes (when they are reported at all) come first.
        self.take_evicted_reports(on_flow);
        self.build_report(on_flow)
    }

    fn build_report(self, on_flow: &mut dyn FnMut(FlowReport)) -> CaptureReport {
        let Stages { reader, mut decoder, flows, totals, .. } = self.stages;
        let format = match (reader.format(), &self.input) {
            (None, _) => "unknown".to_string(),
            (Some(f), Input::Gzip(_)) => format!("{}.gz", format_name(f)),
            (Some(f), _) => format_name(f).to_string(),
        };
        if reader.stats.packets_on_unknown_interface > 0 {
            let n = reader.stats.packets_on_unknown_interface;
            decoder.anomalies.add_n("packets_on_unknown_interface", 0, n, || {
                format!("{n} packets name an interface that no Interface Description Block declared")
            });
        }
        let mut link_types: Vec<LinkTypeReport> = Vec::new();
        for iface in &reader.interfaces {
            match link_types.iter_mut().find(|l| l.link_type == iface.link_type) {
                Some(l) => {
                    l.interfaces += 1;
                    l.packets += iface.packets;
                }
                None => link_types.push(LinkTypeReport {
                    link_type: iface.link_type,
                    name: link_type_name(iface.link_type),
                    decoded: is_link_type_decoded(iface.link_type),
                    interfaces: 1,
                    packets: iface.packets,
                }),
            }
        }
        for l in link_types.iter().filter(|l| !l.decoded && l.packets > 0) {
            let (lt, name, packets) = (l.link_type, l.name, l.packets);
            decoder.anomalies.add_n("undecoded_link_type", 0, packets, || {
                format!("link type {lt} ({name}) is not decoded; its {packets} packets were counted but not analysed")
            });
        }
        let flow_table = flows.stats.clone();
        let relays = &self.relays;
        let flows = flows.into_flows();
        let mut hosts = self.hosts;
        let mut emit = |report: FlowReport| {
            hosts.add(&report);
            on_flow(report);
        };
        if evidence::snowflake_possible(&flows) {
            // Snowflake's evidence takes several flows to see: every flow's view first, then
            // the reports.
            let mut flows = flows;
            let mut found = Vec::with_capacity(flows.len());
            let mut views = Vec::with_capacity(flows.len());
            for flow in &mut flows {
                let mut findings = flow_findings(relays, &totals, flow);
                views.push(crate::analysis::tor::snowflake::FlowView::of(flow, findings.facts.take().as_ref()));
                found.push(findings);
            }
            for (i, e) in evidence::snowflake_evidence(&views) {
                if let Some(findings) = found.get_mut(i) {
                    findings.evidence.push(e);
                }
            }
            drop(views);
            for (flow, findings) in flows.into_iter().zip(found) {
                emit(flow_report(relays, &flow, findings));
            }
        } else {
            // Nothing ties flows together: each flow's report is made and handed on before the
            // next flow's stream is read, so the pass holds one report at a time.
            for mut flow in flows {
                emit(lone_flow_report(relays, &totals, &mut flow));
            }
        }
        let hosts = hosts.finish();
        if totals.heads_refused + totals.heads_held > 0 {
            let (refused, held) = (totals.heads_refused, totals.heads_held);
            decoder.anomalies.add_n("stream_head_budget_exhausted", 0, refused + held, || {
                format!(
                    "the stream-head budget was spent: {refused} TCP segments of flows opened after it were not \
                     inspected, {held} of flows opened before it were read without growing their heads or \
                     length tables"
                )
            });
        }
        CaptureReport {
            file: self.file,
            format,
            file_bytes: self.input_bytes,
            packets: reader.frames,
            bytes: totals.bytes,
            captured_bytes: totals.captured_bytes,
            first_seen: totals.first_seen,
            last_seen: totals.last_seen,
            link_types,
            interfaces: reader.interfaces,
            anomalies: decoder.anomalies.counts.clone(),
            anomaly_samples: decoder.anomalies.samples.clone(),
            decode: decoder.stats.clone(),
            flow_table,
            hosts,
            relay_history: super::report::HistorySummary::for_capture(
                self.relays.history(),
                totals.first_seen,
                totals.last_seen,
            ),
            comments: reader.comments,
            error: self.error,
            flows: Vec::new(),
        }
    }
}

/// What one flow's stream and addresses showed, before its verdict.
struct FlowFindings {
    evidence: Vec<evidence::Evidence>,
    summary: Option<Box<super::report::StreamSummary>>,
    /// The stream's facts, kept only until the Snowflake view is made.
    facts: Option<crate::analysis::tls::StreamFacts>,
}

/// What one flow's stream and addresses showed. Each flow's stream is read once: its facts
/// become the flow's evidence and its stream summary, and the stream's buffers are freed.
fn flow_findings(relays: &RelayIndex, totals: &Totals, flow: &mut Flow) -> FlowFindings {
    let facts = flow.stream.take().map(|s| s.facts());
    let was_resolved = |name: &str| totals.dns_names.contains(&name.to_ascii_lowercase());
    let mut evidence = evidence::relay_evidence(relays, flow);
    evidence.extend(evidence::content_evidence(flow, facts.as_ref(), &was_resolved));
    let resolved_name = totals.resolved.get(&flow.server.ip()).map(String::as_str);
    evidence.extend(evidence::builtin_evidence(bridges::builtin(), flow, facts.as_ref(), resolved_name));
    // Streams that showed nothing (no TLS, no HTTP) get no summary: it would only repeat zeros
    // for every bulk flow.
    let summary =
        facts.as_ref().filter(|f| f.shows_something()).map(|f| Box::new(super::report::StreamSummary::from_facts(f)));
    FlowFindings { evidence, summary, facts }
}

/// The report of a flow that no other flow's evidence can touch (no Snowflake correlation).
fn lone_flow_report(relays: &RelayIndex, totals: &Totals, flow: &mut Flow) -> FlowReport {
    let findings = flow_findings(relays, totals, flow);
    flow_report(relays, flow, findings)
}

/// A flow's report: its verdict from its evidence, and the facts that go with it.
fn flow_report(relays: &RelayIndex, flow: &Flow, findings: FlowFindings) -> FlowReport {
    let FlowFindings { evidence: mut found, summary, .. } = findings;
    let mut conclusion = verdict::conclude(&found);
    // A Tor link's server that was no listed relay that day is itself a finding (meek and
    // Snowflake talk to a CDN or a proxy, never to tor's first hop).
    let tor_first_hop = matches!(conclusion.verdict, verdict::Verdict::Tor | verdict::Verdict::TorTransport)
        && !matches!(conclusion.transport, Some("meek" | "snowflake"));
    if tor_first_hop {
        if let Some(e @ evidence::Evidence::RelayUnlisted(u)) =
            evidence::unlisted_evidence(relays, flow, &found).as_ref()
        {
            conclusion.explanation.push_str(&format!("; {}", verdict::unlisted_sentence(u)));
            found.push(e.clone());
        }
    }
    let mut report = FlowReport::from_flow(flow);
    report.stream = summary;
    report.verdict = conclusion.verdict.name();
    report.confidence = conclusion.confidence.map(|c| c.name());
    report.transport = conclusion.transport;
    report.explanation = conclusion.explanation;
    report.datagrams = flow.datagrams.as_ref().filter(|d| d.facts.shows_something()).map(|d| Box::new(d.facts.clone()));
    report.evidence = found.iter().filter_map(|e| serde_json::to_value(e).ok()).collect();
    report
}

fn format_name(f: super::capture::Format) -> &'static str {
    match f {
        super::capture::Format::Pcap => "pcap",
        super::capture::Format::Pcapng => "pcapng",
    }
}

fn mark_decompressed(mut e: CaptureError) -> CaptureError {
    e.in_decompressed = true;
    e
}

impl Stages {
    /// Frames the decompressed stream with as little copying as possible: records are read
    /// straight from the chunk, and only a record split across chunks is assembled in `pending`.
    fn feed(&mut self, mut data: &[u8]) -> Result<(), CaptureError> {
        let Stages { limits, reader, decoder, flows, pending, offset, totals } = self;
        let mut on_frame = |frame: Frame<'_>| {
            totals.bytes += u64::from(frame.orig_len);
            totals.captured_bytes += frame.data.len() as u64;
            totals.first_seen = Some(totals.first_seen.map_or(frame.ts, |t| t.min(frame.ts)));
            totals.last_seen = Some(totals.last_seen.map_or(frame.ts, |t| t.max(frame.ts)));
            let (ts, len) = (frame.ts, frame.orig_len);
            decoder.decode(frame.number, frame.link_type, ts, frame.data, &mut |seg| {
                if let Some((flow, direction)) = flows.observe(ts, len, seg) {
                    observe_contents(limits, totals, flow, direction, ts, seg);
                }
            });
        };
        while !pending.is_empty() && !data.is_empty() {
            let old = pending.len();
            // Grow the assembled record geometrically so a large record costs O(n) copying.
            let take = data.len().min(old.max(64 * 1024));
            let (head, tail) = data.split_at(take);
            pending.extend_from_slice(head);
            let used = reader.feed(pending, *offset, &mut on_frame)?;
            *offset += used as u64;
            if used >= old {
                data = data.get(used - old..).unwrap_or_default();
                pending.clear();
            } else {
                pending.drain(..used);
                data = tail;
            }
        }
        if !data.is_empty() {
            let used = reader.feed(data, *offset, &mut on_frame)?;
            *offset += used as u64;
            pending.extend_from_slice(data.get(used..).unwrap_or_default());
        }
        Ok(())
    }
}

/// Hands a segment's bytes to the content observers: TCP stream heads and TLS records, DNS,
/// STUN and DTLS.
fn observe_contents(
    limits: &Limits,
    totals: &mut Totals,
    flow: &mut Flow,
    direction: Direction,
    ts: Timestamp,
    seg: &Segment<'_>,
) {
    match seg.transport {
        // Segments without payload (pure ACKs) show nothing to the observers.
        Transport::Tcp if !seg.is_fragment && !flow.stream_settled && !seg.payload.is_empty() => {
            if flow.stream.is_none() {
                if totals.head_bytes >= limits.max_head_bytes_total {
                    totals.heads_refused += 1;
                    return;
                }
                flow.stream =
                    Some(Box::new(StreamObserver::new(limits.max_handshake_bytes, limits.max_plain_head_bytes)));
            }
            if let Some(stream) = flow.stream.as_mut() {
                let before = stream.head_bytes();
                // Over the budget, flows that have a head keep it but grow nothing more: the
                // budget bounds the heads and length tables of flows already open, too.
                let room = totals.head_bytes < limits.max_head_bytes_total;
                if !room {
                    totals.heads_held += 1;
                }
                stream.segment(direction, ts.0, seg.tcp_seq, seg.tcp_flags & 0x02 != 0, seg.payload, room);
                // Heads grow and, once closed, shrink to what they hold: the budget follows both.
                totals.head_bytes = (totals.head_bytes + stream.head_bytes()).saturating_sub(before);
                flow.stream_settled = stream.settled();
            }
        }
        Transport::Udp if seg.sport == 53 || seg.dport == 53 => {
            if let Some(name) = dns::question_name(seg.payload) {
                if flow.dns_names.len() < 4 && !flow.dns_names.contains(&name) {
                    flow.dns_names.push(name.clone());
                }
                for address in dns::answer_addresses(seg.payload) {
                    if totals.resolved.len() < limits.max_dns_names {
                        totals.resolved.insert(address, name.clone());
                    }
                }
                if totals.dns_names.len() < limits.max_dns_names {
                    totals.dns_names.insert(name);
                }
            }
        }
        Transport::Udp if !seg.is_fragment && !seg.payload.is_empty() => {
            if flow.datagrams.is_none() && DatagramObserver::wants(seg.payload) {
                flow.datagrams = Some(Box::default());
            }
            if let Some(observer) = flow.datagrams.as_mut().filter(|o| !o.settled()) {
                observer.datagram(direction, seg.payload);
            }
        }
        _ => {}
    }
}

/// Analyses a whole capture held in memory (tests, small files).
pub fn analyze_bytes(file: &str, data: &[u8], limits: Limits) -> CaptureReport {
    let mut analyzer = Analyzer::new(file, limits);
    let _ = analyzer.push(data);
    analyzer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pcap of Ethernet frames, one per `frames` entry.
    fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
        let mut out = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0];
        for (i, f) in frames.iter().enumerate() {
            for word in [1_700_000_000 + i as u32, 0, f.len() as u32, f.len() as u32] {
                out.extend(word.to_le_bytes());
            }
            out.extend(f);
        }
        out
    }

    /// A TCP segment from client `10.0.0.c:40000` to `192.0.2.1:443`.
    fn to_server(c: u8, seq: u32, payload: &[u8]) -> Vec<u8> {
        let b = etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4([10, 0, 0, c], [192, 0, 2, 1], 64)
            .tcp(40000, 443, seq, 65535);
        let mut out = Vec::new();
        b.write(&mut out, payload).unwrap();
        out
    }

    /// The stream-head budget bounds what flows opened before it was spent go on to hold, not
    /// only which flows get a head: past it, a segment grows no head and no length table. The
    /// capture: 64 TLS clients each send a record header (a handshake record of 16 KB is coming),
    /// all before any sends more, then 4 KB of the record each, twice. Each head would grow to
    /// 8 KB (512 KB in all) against a budget of 16 KB.
    #[test]
    fn the_head_budget_bounds_flows_already_open() {
        let header = [0x16, 0x03, 0x01, 0x40, 0x00];
        let mut frames: Vec<Vec<u8>> = (0..64).map(|c| to_server(c, 1, &header)).collect();
        for step in 0..2u32 {
            frames.extend((0..64).map(|c| to_server(c, 6 + step * 4000, &[7; 4000])));
        }
        let budget = 16 << 10;
        let limits = Limits { max_head_bytes_total: budget, ..Limits::default() };
        let mut analyzer = Analyzer::new("budget", limits.clone());
        let data = pcap(&frames);
        let mut peak = 0;
        // A frame at a time, so the count is seen after every segment.
        analyzer.push(&data[..24]).unwrap();
        let mut at = 24;
        for f in &frames {
            analyzer.push(&data[at..at + 16 + f.len()]).unwrap();
            at += 16 + f.len();
            peak = peak.max(analyzer.stages.totals.head_bytes);
        }
        // One segment may start over the line: at most one head's worth.
        let one_step = limits.max_handshake_bytes;
        assert!(peak <= budget + one_step, "peak {peak} over {budget} + {one_step}");
        assert_eq!(analyzer.stages.totals.heads_refused, 0, "every client had a head before the budget was spent");
        assert!(analyzer.stages.totals.heads_held > 0);
        // The count is what the flows hold.
        let counted = analyzer.stages.totals.head_bytes;
        let flows = std::mem::replace(&mut analyzer.stages.flows, FlowTable::new(1));
        let held: usize = flows.into_flows().iter().map(|f| f.stream.as_ref().map_or(0, |s| s.head_bytes())).sum();
        assert_eq!(held, counted);
        let report = analyzer.finish();
        assert!(report.anomalies.contains_key("stream_head_budget_exhausted"));
    }
}
