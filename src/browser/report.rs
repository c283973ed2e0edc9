//! A finished capture's report as the page holds it: the capture's own fields (hosts, link
//! types, error…) as JSON values, and per flow one compact row with what the table, timeline and
//! summaries need plus the flow's object as JSON text, read again only when the flow is drawn or
//! exported.
//!
//! Why: the budget capture's 50 k-flow report, 35 MB of JSON as the worker writes it, is 252 MB
//! as one tree of `serde_json::Value`s; as rows and flow texts it is 40 MB. (Each flow's text is
//! written anew from its value as it is read: keeping spans of the worker's text would need
//! serde_json's `raw_value`, which adds 9 KiB to the page's download.)

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// What the page's views need of one flow, read once when the report arrives.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowRow {
    /// The flow's whole object, as JSON.
    text: Box<str>,
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
    /// A flow object's row.
    fn of(f: &Value) -> FlowRow {
        let text = |k: &str| f[k].as_str().unwrap_or("").to_string();
        FlowRow {
            proto: text("proto"),
            client: text("client"),
            server: text("server"),
            verdict: f["verdict"].as_str().unwrap_or("none").to_string(),
            confidence: f["confidence"].as_str().map(str::to_string),
            packets: f["packets"].as_u64().unwrap_or(0),
            bytes: f["bytes"].as_u64().unwrap_or(0),
            first: f["first_seen"].as_str().and_then(super::state::report_seconds),
            last: f["last_seen"].as_str().and_then(super::state::report_seconds),
            text: f.to_string().into_boxed_str(),
        }
    }

    /// The flow's whole object (evidence, stream facts, counters by direction).
    pub fn object(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
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
    /// the history), one flow's tree at a time.
    pub fn parse(text: &str) -> Result<Report, String> {
        let mut reader = serde_json::Deserializer::from_str(text);
        let document = Part::Document.deserialize(&mut reader).map_err(|e| e.to_string())?;
        reader.end().map_err(|e| e.to_string())?;
        if !document.rest.get("schema").and_then(Value::as_str).is_some_and(|s| s.starts_with("torsift.report/")) {
            return Err("not a torsift.report document (no schema)".to_string());
        }
        let (capture, flows) = match document.capture {
            Some(c) => (Value::Object(c.rest), c.flows),
            None => (Value::Null, Vec::new()),
        };
        Ok(Report { capture, header: Value::Object(document.rest), flows })
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
        s.collect_seq(self.0.flows.iter().map(FlowRow::object))
    }
}

/// The parts of a report the reader tells apart; every other member is read as a value. One
/// visitor for all of them keeps one copy of serde_json's object and array readers in the page.
#[derive(Clone, Copy, PartialEq)]
enum Part {
    /// The document: its `captures` are read as `Captures`.
    Document,
    /// `captures`: the last one is kept (a one-capture report).
    Captures,
    /// A capture: its `flows` are read as `Flows`.
    Capture,
    /// `flows`: each a row and its text.
    Flows,
}

#[derive(Default)]
struct Parsed {
    rest: Map<String, Value>,
    capture: Option<Box<Parsed>>,
    flows: Vec<FlowRow>,
}

impl<'de> DeserializeSeed<'de> for Part {
    type Value = Parsed;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Parsed, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Part {
    type Value = Parsed;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a torsift.report/1 document")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Parsed, A::Error> {
        let mut out = Parsed::default();
        while let Some(key) = map.next_key::<String>()? {
            match (self, key.as_str()) {
                (Part::Document, "captures") => out.capture = map.next_value_seed(Part::Captures)?.capture,
                (Part::Capture, "flows") => out.flows = map.next_value_seed(Part::Flows)?.flows,
                _ => {
                    let value = map.next_value()?;
                    // Through `entry`, as serde_json's own reader of objects: one copy of the
                    // insertion code in the page.
                    out.rest.entry(key).or_insert(value);
                }
            }
        }
        Ok(out)
    }
    // Any other JSON type (or an object or array where the other is expected) reads as nothing:
    // whether the whole is a report is checked after (an error made here would bring serde_json's
    // error formatting into the page, 2 KiB of its download, for documents its own worker wrote).
    fn visit_unit<E: serde::de::Error>(self) -> Result<Parsed, E> {
        Ok(Parsed::default())
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Parsed, E> {
        Ok(Parsed::default())
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Parsed, E> {
        Ok(Parsed::default())
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Parsed, E> {
        Ok(Parsed::default())
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Parsed, E> {
        Ok(Parsed::default())
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Parsed, E> {
        Ok(Parsed::default())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Parsed, A::Error> {
        let mut out = Parsed::default();
        match self {
            Part::Captures => {
                while let Some(capture) = seq.next_element_seed(Part::Capture)? {
                    out.capture = Some(Box::new(capture));
                }
            }
            Part::Flows => {
                while let Some(f) = seq.next_element::<Value>()? {
                    out.flows.push(FlowRow::of(&f));
                }
            }
            Part::Document | Part::Capture => while seq.next_element::<Value>()?.is_some() {},
        }
        Ok(out)
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
        let r = Report::parse(DOC).unwrap();
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
        assert_eq!(a.object()["evidence"][0]["kind"], "relay-address");
        assert_eq!(b.object()["server"], "8.8.8.8:53");
    }

    #[test]
    fn the_capture_with_its_flows_is_the_reports_entry() {
        let r = Report::parse(DOC).unwrap();
        let whole: Value = serde_json::from_str(DOC).unwrap();
        let written = serde_json::to_value(r.capture_with_flows()).unwrap();
        assert_eq!(written, whole["captures"][0]);
    }

    #[test]
    fn damaged_reports_are_errors() {
        let schema = r#"{"schema":"torsift.report/1","#;
        assert!(Report::parse(&format!(r#"{schema}"captures":[{{"flows":[{{"proto":1]}}]}}"#)).is_err());
        assert!(Report::parse(&format!(r#"{schema}"captures":[]}} x"#)).is_err());
        assert!(Report::parse("[]").is_err());
        assert!(Report::parse(r#"{"captures":[]}"#).is_err());
        // Members of another shape than the worker writes read as nothing.
        let odd = Report::parse(&format!(r#"{schema}"captures":[{{"flows":{{"a":1}}}}, 3]}}"#)).unwrap();
        assert_eq!((odd.flows.len(), odd.capture.as_object().map(|c| c.len())), (0, Some(0)));
        let odd = Report::parse(&format!(r#"{schema}"captures":[{{"flows":[7, {{"proto":"tcp"}}]}}]}}"#)).unwrap();
        assert_eq!(odd.flows.iter().map(|f| f.proto.as_str()).collect::<Vec<_>>(), ["", "tcp"]);
        let empty = Report::parse(r#"{"schema":"torsift.report/1"}"#).unwrap();
        assert_eq!((empty.flows.len(), empty.capture.is_null()), (0, true));
    }
}
