//! A finished capture's report as the page holds it: the report's text as the worker sent it,
//! the capture's own fields (hosts, link types, error…) as JSON values, and per flow one compact
//! row with what the table, timeline and summaries need and where the flow's object is in the
//! text, read again only when the flow is drawn or exported.
//!
//! Why: the budget capture's 50 k-flow report, 30 MB of JSON as the worker writes it, is 252 MB
//! as one tree of `serde_json::Value`s; as its text and rows (about 280 bytes a flow) it is
//! about 45 MB. The text's structure (members, array elements) is found by a small scanner;
//! every value is read by serde_json (serde_json itself gives no positions, short of its
//! `raw_value` feature, 9 KiB of download).

use serde_json::Value;
use std::ops::Range;

/// What the page's views need of one flow, read once when the report arrives.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowRow {
    /// Where the flow's object is in the report's text.
    span: Range<usize>,
    pub proto: String,
    pub client: String,
    pub server: String,
    /// `none` or a Tor verdict.
    pub verdict: String,
    pub confidence: Option<String>,
    pub packets: u64,
    pub bytes: u64,
    /// First and last packet, seconds since the epoch.
    pub first: Option<f64>,
    pub last: Option<f64>,
}

impl FlowRow {
    /// A flow object's row; `span` is where the object is in the report's text.
    fn of(f: &Value, span: Range<usize>) -> FlowRow {
        let text = |k: &str| f[k].as_str().unwrap_or("").to_string();
        FlowRow {
            span,
            proto: text("proto"),
            client: text("client"),
            server: text("server"),
            verdict: f["verdict"].as_str().unwrap_or("none").to_string(),
            confidence: f["confidence"].as_str().map(str::to_string),
            packets: f["packets"].as_u64().unwrap_or(0),
            bytes: f["bytes"].as_u64().unwrap_or(0),
            first: f["first_seen"].as_str().and_then(super::state::report_seconds),
            last: f["last_seen"].as_str().and_then(super::state::report_seconds),
        }
    }

    pub fn is_tor(&self) -> bool {
        self.verdict != "none"
    }

    /// The local host of a flow: the client, except for `tor-exit` flows (an exit reaching a
    /// local server), as in the report's `hosts`.
    pub fn local_host(&self) -> &str {
        let end = if self.verdict == "tor-exit" { &self.server } else { &self.client };
        // `1.2.3.4:80` or `[2001:db8::1]:80`: the address is everything before the last colon.
        end.rsplit_once(':').map_or(end, |(a, _)| a.trim_start_matches('[').trim_end_matches(']'))
    }
}

pub struct Report {
    /// The report as the worker wrote it.
    text: String,
    /// The capture's entry without its `flows`.
    pub capture: Value,
    /// The report's own members: schema, generator, relay lists, notes.
    pub header: Value,
    pub flows: Vec<FlowRow>,
}

/// One report is one analysis: two are the same only if they are the same object (comparing
/// 50 k flows to decide whether to redraw would cost more than the redraw).
impl PartialEq for Report {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl std::fmt::Debug for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Report({} flows)", self.flows.len())
    }
}

impl Report {
    /// Reads a one-capture `torsift.report/1` document (as the worker posts it, or as stored in
    /// the history), one flow's tree at a time; the text is kept.
    pub fn parse(text: String) -> Result<Report, String> {
        let (header, capture, flows) = read_parts(&text).map_err(|e| format!("{e} (byte {})", e.at))?;
        if !header["schema"].as_str().is_some_and(|s| s.starts_with("torsift.report/")) {
            return Err("not a torsift.report document (no schema)".to_string());
        }
        Ok(Report { text, capture, header, flows })
    }

    /// A flow's whole object (evidence, stream facts, counters by direction).
    pub fn flow(&self, row: &FlowRow) -> Value {
        self.text.get(row.span.clone()).and_then(|t| serde_json::from_str(t).ok()).unwrap_or(Value::Null)
    }

    pub fn tor_flows(&self) -> usize {
        self.flows.iter().filter(|f| f.is_tor()).count()
    }

    /// The capture's entry with its flows, as a serializer writes it (the flows read one at a
    /// time, so exporting holds one flow's tree, not the report's).
    pub fn capture_with_flows(&self) -> CaptureWithFlows<'_> {
        CaptureWithFlows(self)
    }
}

pub struct CaptureWithFlows<'a>(&'a Report);

impl serde::Serialize for CaptureWithFlows<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let report = self.0;
        let fields = report.capture.as_object();
        let mut map = s.serialize_map(None)?;
        for (k, v) in fields.into_iter().flatten() {
            map.serialize_entry(k, v)?;
        }
        map.serialize_entry("flows", &Flows(report))?;
        map.end()
    }
}

struct Flows<'a>(&'a Report);

impl serde::Serialize for Flows<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.flows.iter().map(|f| self.0.flow(f)))
    }
}

/// A place in the text where it is not the JSON the reader expects.
#[derive(Debug)]
struct ScanError {
    at: usize,
    what: &'static str,
}

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.what)
    }
}

/// The report's members but `captures` (as one value), the last capture's members but `flows`,
/// and a row per flow.
fn read_parts(text: &str) -> Result<(Value, Value, Vec<FlowRow>), ScanError> {
    let mut scan = Scan { text: text.as_bytes(), at: 0 };
    let (mut header, mut capture, mut flows) = (Vec::new(), None, Vec::new());
    scan.members(|scan, key, start| {
        if key != "\"captures\"" {
            header.push(start..scan.value()?.end);
            return Ok(());
        }
        scan.elements(|scan| {
            let (mut fields, mut rows) = (Vec::new(), Vec::new());
            scan.members(|scan, key, start| {
                if key != "\"flows\"" {
                    fields.push(start..scan.value()?.end);
                    return Ok(());
                }
                scan.elements(|scan| {
                    let span = scan.value()?;
                    let flow = text.get(span.clone()).and_then(|t| serde_json::from_str(t).ok());
                    let flow = flow.ok_or(ScanError { at: span.start, what: "a flow that is not JSON" })?;
                    rows.push(FlowRow::of(&flow, span));
                    Ok(())
                })
            })?;
            capture = Some(fields);
            flows = rows;
            Ok(())
        })
    })?;
    scan.space();
    if scan.at < text.len() {
        return Err(scan.error("text after the report"));
    }
    let capture = match capture {
        Some(fields) => object(text, &fields)?,
        None => Value::Null,
    };
    Ok((object(text, &header)?, capture, flows))
}

/// The object made of these members (each a span `"key": value` of the text).
fn object(text: &str, members: &[Range<usize>]) -> Result<Value, ScanError> {
    let joined: Vec<&str> = members.iter().filter_map(|m| text.get(m.clone())).collect();
    let at = members.first().map_or(0, |m| m.start);
    serde_json::from_str(&format!("{{{}}}", joined.join(",")))
        .map_err(|_| ScanError { at, what: "a member that is not JSON" })
}

/// The structure of JSON text: where objects' members and arrays' elements are, and where a
/// value ends (strings with their escapes, nesting), without reading the values.
struct Scan<'a> {
    text: &'a [u8],
    at: usize,
}

impl Scan<'_> {
    fn error(&self, what: &'static str) -> ScanError {
        ScanError { at: self.at, what }
    }

    fn space(&mut self) {
        while self.text.get(self.at).is_some_and(|b| b.is_ascii_whitespace()) {
            self.at += 1;
        }
    }

    /// After blanks, the byte `b` (taken) or false.
    fn take(&mut self, b: u8) -> bool {
        self.space();
        let found = self.text.get(self.at) == Some(&b);
        self.at += usize::from(found);
        found
    }

    /// Skips one value; its span.
    fn value(&mut self) -> Result<Range<usize>, ScanError> {
        self.space();
        let start = self.at;
        let mut depth = 0usize;
        loop {
            let Some(&b) = self.text.get(self.at) else { return Err(self.error("the report ends inside a value")) };
            match b {
                b'"' => self.string()?,
                b'{' | b'[' => {
                    depth += 1;
                    self.at += 1;
                }
                b'}' | b']' if depth > 0 => {
                    depth -= 1;
                    self.at += 1;
                }
                b',' | b'}' | b']' if depth == 0 => break,
                _ if depth == 0 && b.is_ascii_whitespace() => break,
                _ => self.at += 1,
            }
            if depth == 0 && matches!(b, b'"' | b'}' | b']') {
                break;
            }
        }
        if self.at == start {
            return Err(self.error("a value is missing"));
        }
        Ok(start..self.at)
    }

    /// Skips a string (at its opening quote).
    fn string(&mut self) -> Result<(), ScanError> {
        self.at += 1;
        loop {
            match self.text.get(self.at) {
                None => return Err(self.error("the report ends inside a string")),
                Some(b'\\') => self.at += 2,
                Some(b'"') => {
                    self.at += 1;
                    return Ok(());
                }
                Some(_) => self.at += 1,
            }
        }
    }

    /// An object's members: `each(scan, key with its quotes, where the member starts)` with the
    /// scan just after the colon; `each` skips or reads the value.
    fn members(
        &mut self,
        mut each: impl FnMut(&mut Self, &str, usize) -> Result<(), ScanError>,
    ) -> Result<(), ScanError> {
        if !self.take(b'{') {
            return Err(self.error("an object is expected"));
        }
        if self.take(b'}') {
            return Ok(());
        }
        loop {
            self.space();
            let start = self.at;
            if self.text.get(self.at) != Some(&b'"') {
                return Err(self.error("a member's name is expected"));
            }
            self.string()?;
            let key = std::str::from_utf8(self.text.get(start..self.at).unwrap_or_default()).unwrap_or("");
            if !self.take(b':') {
                return Err(self.error("a colon is expected"));
            }
            each(self, key, start)?;
            if self.take(b'}') {
                return Ok(());
            }
            if !self.take(b',') {
                return Err(self.error("a comma or the object's end is expected"));
            }
        }
    }

    /// An array's elements: `each(scan)` at each, which must skip or read it.
    fn elements(&mut self, mut each: impl FnMut(&mut Self) -> Result<(), ScanError>) -> Result<(), ScanError> {
        if !self.take(b'[') {
            return Err(self.error("an array is expected"));
        }
        if self.take(b']') {
            return Ok(());
        }
        loop {
            each(self)?;
            if self.take(b']') {
                return Ok(());
            }
            if !self.take(b',') {
                return Err(self.error("a comma or the array's end is expected"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{"schema":"torsift.report/1","relay_lists":[{"name":"a"}],"captures":[{"file":"x.pcap","packets":5,
        "flows":[{"proto":"tcp","client":"10.0.0.1:5000","server":"[2001:db8::1]:443","packets":3,"bytes":300,
                  "first_seen":"2020-01-01T00:00:01.500000Z","last_seen":"2020-01-01T00:00:03Z","verdict":"tor-exit",
                  "confidence":"high","evidence":[{"kind":"relay-address"}]},
                 {"proto":"udp","client":"10.0.0.2:53","server":"8.8.8.8:53","packets":2,"bytes":90,"verdict":"none","confidence":null}],
        "hosts":[]}],"notes":["n"]}"#;

    #[test]
    fn rows_spans_and_the_rest_of_the_report() {
        let r = Report::parse(DOC.to_string()).unwrap();
        assert_eq!(r.header["schema"], "torsift.report/1");
        assert_eq!(r.header["notes"][0], "n");
        assert!(r.header.get("captures").is_none());
        assert_eq!(r.capture["file"], "x.pcap");
        assert_eq!(r.capture["packets"], 5);
        assert!(r.capture.get("flows").is_none());
        assert_eq!(r.flows.len(), 2);
        let (a, b) = (&r.flows[0], &r.flows[1]);
        assert_eq!((a.proto.as_str(), a.packets, a.bytes, a.confidence.as_deref()), ("tcp", 3, 300, Some("high")));
        assert_eq!(a.first, Some(1577836801.5));
        assert_eq!(a.last, Some(1577836803.0));
        assert_eq!(a.local_host(), "2001:db8::1");
        assert_eq!(b.local_host(), "10.0.0.2");
        assert_eq!((b.confidence.as_deref(), b.first), (None, None));
        assert_eq!(r.tor_flows(), 1);
        assert_eq!(r.flow(a)["evidence"][0]["kind"], "relay-address");
        assert_eq!(r.flow(b)["server"], "8.8.8.8:53");
    }

    #[test]
    fn the_capture_with_its_flows_is_the_reports_entry() {
        let r = Report::parse(DOC.to_string()).unwrap();
        let whole: Value = serde_json::from_str(DOC).unwrap();
        let written = serde_json::to_value(r.capture_with_flows()).unwrap();
        assert_eq!(written, whole["captures"][0]);
    }

    #[test]
    fn any_layout_and_any_string_content() {
        // Pretty-printed (as the CLI writes), and strings holding quotes, brackets and braces.
        let mut doc: Value = serde_json::from_str(DOC).unwrap();
        doc["captures"][0]["flows"][1]["explanation"] = Value::from("a \"quoted\" ] } [ { \\ end");
        let pretty = serde_json::to_string_pretty(&doc).unwrap();
        let r = Report::parse(pretty).unwrap();
        assert_eq!(r.flows.len(), 2);
        let written = serde_json::to_value(r.capture_with_flows()).unwrap();
        assert_eq!(written, doc["captures"][0]);
        assert_eq!(r.flow(&r.flows[1])["explanation"], "a \"quoted\" ] } [ { \\ end");
        assert_eq!(r.header["relay_lists"], doc["relay_lists"]);
    }

    #[test]
    fn damaged_reports_are_errors() {
        let schema = r#"{"schema":"torsift.report/1","#;
        let damaged = [
            format!(r#"{schema}"captures":[{{"flows":[{{"proto":1]}}]}}"#),
            format!(r#"{schema}"captures":[{{"flows":[1,]}}]}}"#),
            format!(r#"{schema}"captures":[{{"flows":["open]}}]}}"#),
            format!(r#"{schema}"captures":[{{"flows":{{"a":1}}}}]}}"#),
            format!(r#"{schema}"captures":[3]}}"#),
            format!(r#"{schema}"captures":[]}} x"#),
            format!(r#"{schema}"captures":"#),
            format!(r#"{schema}"notes":}}"#),
            "[]".to_string(),
            r#"{"captures":[]}"#.to_string(),
        ];
        for text in damaged {
            let e = Report::parse(text.clone()).err();
            assert!(e.is_some(), "{text}");
        }
        let e = Report::parse(format!(r#"{schema}"captures":[{{"flows":[1,]}}]}}"#)).unwrap_err();
        assert_eq!(e, "a value is missing (byte 53)"); // the `]` after `1,`
                                                       // A flow of another shape is a flow with nothing known.
        let odd = Report::parse(format!(r#"{schema}"captures":[{{"flows":[7, {{"proto":"tcp"}}]}}]}}"#)).unwrap();
        assert_eq!(odd.flows.iter().map(|f| f.proto.as_str()).collect::<Vec<_>>(), ["", "tcp"]);
        let empty = Report::parse(r#"{"schema":"torsift.report/1"}"#.to_string()).unwrap();
        assert_eq!((empty.flows.len(), empty.capture.is_null()), (0, true));
    }
}
