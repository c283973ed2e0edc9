//! `--format json` with each capture's flows rendered while they are made: the report's bytes
//! are exactly `serde_json::to_writer_pretty(report with its flows)`, but the flows can be
//! serialised on another thread as the core finishes them, rather than after the whole report
//! exists (the CLI overlaps the two on a second core).
//!
//! Why this is exact: in pretty JSON every line break is structure (a string's own newlines are
//! escaped as `\n`), so an object rendered at depth 0 is the same object at depth `d` once each
//! line break is followed by `d` indents; an empty array is `[]`; and `flows` is the last field
//! of a capture, as `captures` is of the report. The tests compare the bytes with serde_json's.

use crate::analysis::report::FlowReport;
use crate::analysis::Report;
use std::io::{self, Read, Write};

/// serde_json's pretty indent.
const INDENT: &[u8] = b"  ";
/// Depth of a capture object (`report.captures[i]`) and of a flow object inside it.
const CAPTURE_DEPTH: usize = 2;
const FLOW_DEPTH: usize = 4;

/// Writes one capture's flows as the elements of its `flows` array (each with the line break
/// and indents before it, and the comma after the one before), in the order they are pushed.
pub struct FlowElements<W: Write> {
    out: W,
    count: usize,
    /// One flow at depth 0, before it is indented into `out`.
    scratch: Vec<u8>,
    indented: Vec<u8>,
}

impl<W: Write> FlowElements<W> {
    pub fn new(out: W) -> Self {
        FlowElements { out, count: 0, scratch: Vec::new(), indented: Vec::new() }
    }

    /// Appends one flow.
    pub fn push(&mut self, flow: &FlowReport) -> io::Result<()> {
        self.scratch.clear();
        serde_json::to_writer_pretty(&mut self.scratch, flow).map_err(io::Error::other)?;
        self.indented.clear();
        if self.count > 0 {
            self.indented.push(b',');
        }
        indented_line(&mut self.indented, FLOW_DEPTH);
        indent_into(&mut self.indented, &self.scratch, FLOW_DEPTH);
        self.out.write_all(&self.indented)?;
        self.count += 1;
        Ok(())
    }

    /// The sink and how many flows went into it.
    pub fn finish(self) -> (W, usize) {
        (self.out, self.count)
    }
}

/// A capture's flows as [`FlowElements`] wrote them, to be read back into the report.
pub struct RenderedFlows<'a> {
    pub count: usize,
    pub elements: Box<dyn Read + Send + 'a>,
}

/// Writes `report` followed by a newline, as `serde_json::to_writer_pretty` and `writeln!`
/// would with capture `i`'s flows taken from `flows[i]`. Every capture's own `flows` must be
/// empty (their flows are the rendered ones), and `flows` must have one entry per capture.
pub fn write_pretty(report: &Report, flows: Vec<RenderedFlows<'_>>, out: &mut dyn Write) -> io::Result<()> {
    if flows.len() != report.captures.len() || report.captures.iter().any(|c| !c.flows.is_empty()) {
        return Err(io::Error::other("each capture needs its rendered flows, and no flows of its own"));
    }
    if report.captures.is_empty() {
        serde_json::to_writer_pretty(&mut *out, report).map_err(io::Error::other)?;
        return out.write_all(b"\n");
    }
    // The report without its captures ends `"captures": []\n}`: everything before the `[]`.
    let outer = Report { captures: Vec::new(), ..report.clone() };
    let outer = serde_json::to_vec_pretty(&outer).map_err(io::Error::other)?;
    out.write_all(strip_suffix(&outer, b"[]\n}")?)?;
    let mut capture = Vec::new();
    let mut indented = Vec::new();
    for (i, (report, mut flows)) in report.captures.iter().zip(flows).enumerate() {
        // A capture without flows ends `"flows": []\n}`.
        capture.clear();
        serde_json::to_writer_pretty(&mut capture, report).map_err(io::Error::other)?;
        indented.clear();
        indented.push(if i == 0 { b'[' } else { b',' });
        indented_line(&mut indented, CAPTURE_DEPTH);
        indent_into(&mut indented, strip_suffix(&capture, b"[]\n}")?, CAPTURE_DEPTH);
        out.write_all(&indented)?;
        if flows.count == 0 {
            out.write_all(b"[]")?;
        } else {
            out.write_all(b"[")?;
            io::copy(&mut flows.elements, out)?;
            indented.clear();
            indented_line(&mut indented, FLOW_DEPTH - 1);
            indented.push(b']');
            out.write_all(&indented)?;
        }
        indented.clear();
        indented_line(&mut indented, CAPTURE_DEPTH);
        indented.push(b'}');
        out.write_all(&indented)?;
    }
    out.write_all(b"\n  ]\n}\n")
}

fn strip_suffix<'a>(bytes: &'a [u8], suffix: &[u8]) -> io::Result<&'a [u8]> {
    bytes
        .strip_suffix(suffix)
        .ok_or_else(|| io::Error::other("the report's last field is not the expected empty array"))
}

/// A line break and `depth` indents.
fn indented_line(out: &mut Vec<u8>, depth: usize) {
    out.push(b'\n');
    for _ in 0..depth {
        out.extend_from_slice(INDENT);
    }
}

/// Copies pretty JSON rendered at depth 0 as the same JSON at `depth`.
fn indent_into(out: &mut Vec<u8>, json: &[u8], depth: usize) {
    let mut lines = json.split(|&b| b == b'\n');
    if let Some(first) = lines.next() {
        out.extend_from_slice(first);
    }
    for line in lines {
        indented_line(out, depth);
        out.extend_from_slice(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::tor::relays::RelayIndex;
    use crate::analysis::{Analyzer, Limits};
    use crate::synth::{generate, SynthFormat, SynthSpec};

    fn capture(name: &str, bytes: &[u8]) -> crate::analysis::CaptureReport {
        let mut analyzer = Analyzer::new(name, Limits::default());
        let _ = analyzer.push(bytes);
        analyzer.finish()
    }

    /// The bytes `write_pretty` gives for `captures` against serde_json's own.
    fn check(captures: Vec<crate::analysis::CaptureReport>) {
        let whole = Report::new(captures, &RelayIndex::default());
        let mut expected = serde_json::to_vec_pretty(&whole).unwrap();
        expected.push(b'\n');
        let mut rendered = Vec::new();
        let mut split = whole.clone();
        for capture in &mut split.captures {
            let mut flows = FlowElements::new(Vec::new());
            for flow in std::mem::take(&mut capture.flows) {
                flows.push(&flow).unwrap();
            }
            let (bytes, count) = flows.finish();
            rendered.push(RenderedFlows { count, elements: Box::new(io::Cursor::new(bytes)) });
        }
        let mut got = Vec::new();
        write_pretty(&split, rendered, &mut got).unwrap();
        assert_eq!(String::from_utf8(got).unwrap(), String::from_utf8(expected).unwrap());
    }

    #[test]
    fn the_bytes_are_serde_jsons_for_captures_with_and_without_flows() {
        let mut pcap = Vec::new();
        let spec = SynthSpec { format: SynthFormat::Pcap, packets: 400, flows: 30, payload: 200, seed: 7 };
        generate(&spec, &mut pcap).unwrap();
        let many = capture("many \"quoted\"\nname.pcap", &pcap);
        assert_eq!(many.flows.len(), 30);
        let cut = capture("cut.pcap", &pcap[..pcap.len() / 3]);
        let empty = capture("empty.pcap", &[]);
        assert!(empty.flows.is_empty() && empty.error.is_some());
        check(vec![many.clone()]);
        check(vec![empty.clone()]);
        check(vec![many, empty, cut]);
        check(Vec::new());
    }

    #[test]
    fn flows_of_their_own_are_refused() {
        let mut pcap = Vec::new();
        let spec = SynthSpec { format: SynthFormat::Pcap, packets: 20, flows: 2, payload: 20, seed: 1 };
        generate(&spec, &mut pcap).unwrap();
        let report = Report::new(vec![capture("a.pcap", &pcap)], &RelayIndex::default());
        let none = RenderedFlows { count: 0, elements: Box::new(io::empty()) };
        let result = write_pretty(&report, vec![none], &mut Vec::new());
        assert!(result.is_err());
    }
}
