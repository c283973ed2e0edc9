//! The page's state and its one reducer. Every change the UI makes goes through
//! [`AppState::apply`]; components only render state and emit [`Action`]s. Pure, host-tested.

use super::protocol::FromWorker;
use super::report::{FlowRow, Report};
use serde_json::Value;
use std::rc::Rc;

#[derive(Clone, Debug, PartialEq)]
pub enum JobStatus {
    Queued,
    Running { bytes: u64, total: u64, packets: u64, flows: u64, elapsed_ms: f64 },
    Done { report: Rc<Report>, elapsed_ms: f64 },
    Failed { message: String },
    Cancelled,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    pub id: u32,
    pub name: String,
    pub size: u64,
    pub status: JobStatus,
}

impl Job {
    pub fn is_finished(&self) -> bool {
        matches!(self.status, JobStatus::Done { .. } | JobStatus::Failed { .. } | JobStatus::Cancelled)
    }
}

/// What the flow table shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FlowFilter {
    /// Free text matched against client, server and protocol.
    pub text: String,
    /// `all`, `tor` (any Tor verdict) or one verdict value; empty until the user picks: then
    /// `tor` when the capture has Tor flows, `all` otherwise (`verdict_shown`).
    pub verdict: String,
    pub proto: String,
    pub sort: FlowSort,
    /// Times in the browser's time zone instead of UTC.
    pub local_time: bool,
    /// Only flows active in this window (seconds since the epoch), from the timeline's brush.
    pub window: Option<(f64, f64)>,
}

/// A column of the flow table and the direction it is sorted in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowSort {
    pub column: FlowColumn,
    pub descending: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FlowColumn {
    #[default]
    Start,
    Verdict,
    Proto,
    Client,
    Server,
    Packets,
    Bytes,
    Duration,
}

/// The verdict filter in force: the user's choice, or Tor-only when the capture has Tor flows.
pub fn verdict_shown<'a>(report: &Report, filter: &'a FlowFilter) -> &'a str {
    match filter.verdict.as_str() {
        "" if report.flows.iter().any(FlowRow::is_tor) => "tor",
        "" => "all",
        v => v,
    }
}

/// Seconds since the epoch of a report time (RFC 3339, UTC), its fraction kept.
pub fn report_seconds(t: &str) -> Option<f64> {
    let whole = crate::analysis::time::Timestamp::parse_utc(t)?.secs() as f64;
    let frac = t.get(19..).map(|f| f.trim_end_matches('Z')).filter(|f| f.starts_with('.'));
    Some(whole + frac.and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0))
}

/// `2019-11-02 14:53:22`: a time to the second, shifted `offset_minutes` east of UTC.
pub fn clock(seconds: f64, offset_minutes: i64) -> String {
    let t = crate::analysis::time::Timestamp::from_parts(seconds.floor() as i64 + offset_minutes * 60, 0);
    let text = t.to_rfc3339();
    text.get(..19).unwrap_or(&text).replace('T', " ")
}

/// An address as 16 bytes (IPv4 mapped into IPv6), so that addresses sort numerically.
fn ip_key(ip: std::net::IpAddr) -> [u8; 16] {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        std::net::IpAddr::V6(v6) => v6.octets(),
    }
}

/// Whole microseconds of a time in seconds: a key that sorts like the time.
fn micros(seconds: f64) -> i64 {
    (seconds * 1e6) as i64
}

/// A flow's start and end, seconds since the epoch.
fn flow_times(f: &FlowRow) -> (f64, f64) {
    (f.first.unwrap_or(0.0), f.last.unwrap_or(0.0))
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct AppState {
    pub jobs: Vec<Job>,
    pub next_id: u32,
    pub selected: Option<u32>,
    pub filter: FlowFilter,
    /// The analysis worker has loaded and listens.
    pub worker_ready: bool,
    /// Past analyses kept in the browser (newest first).
    pub history: Vec<HistoryItem>,
    /// Names of the relay lists the user loaded (sent with every job).
    pub loaded_lists: Vec<String>,
    /// The last "was it a relay?" answer (JSON), and whether one is being looked up.
    pub lookup: Option<String>,
    pub looking_up: bool,
    /// Relay history years fetched for offline use (and how many failed), once asked.
    pub history_offline: Option<(u32, u32)>,
}

/// One saved analysis (the report, never the capture).
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryItem {
    pub id: f64,
    pub date: String,
    pub file: String,
    pub size: u64,
    pub tor_flows: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// A "was it a relay?" lookup was sent to the worker.
    LookupStarted,
    /// Files chosen or dropped: (name, size) each, queued in order.
    Enqueue(Vec<(String, u64)>),
    Started(u32),
    Worker(FromWorker),
    /// The worker died (crash, out of memory) while running this job.
    WorkerDied {
        job: u32,
        message: String,
    },
    Cancel(u32),
    Select(u32),
    Filter(FlowFilter),
    /// A report reopened from history.
    Reopen {
        name: String,
        size: u64,
        json: String,
    },
    ClearJobs,
    /// The worker was stopped (cancel) or died: a new one must load before the next job.
    WorkerGone,
    History(Vec<HistoryItem>),
    RelayListsLoaded(Vec<String>),
}

impl AppState {
    pub fn apply(&self, action: Action) -> AppState {
        let mut s = self.clone();
        match action {
            Action::Enqueue(files) => {
                for (name, size) in files {
                    let id = s.next_id;
                    s.next_id += 1;
                    s.jobs.push(Job { id, name, size, status: JobStatus::Queued });
                }
            }
            Action::Started(id) => s.set(id, |job| {
                if job.status == JobStatus::Queued {
                    job.status =
                        JobStatus::Running { bytes: 0, total: job.size, packets: 0, flows: 0, elapsed_ms: 0.0 };
                }
            }),
            Action::Worker(FromWorker::Ready) => s.worker_ready = true,
            Action::Worker(FromWorker::Lookup { answer_json }) => {
                s.lookup = Some(answer_json);
                s.looking_up = false;
            }
            Action::Worker(FromWorker::HistoryCached { years, failed }) => s.history_offline = Some((years, failed)),
            Action::LookupStarted => s.looking_up = true,
            Action::WorkerGone => s.worker_ready = false,
            Action::History(items) => s.history = items,
            Action::RelayListsLoaded(names) => s.loaded_lists = names,
            Action::Worker(msg) => {
                let id = msg.job();
                s.set(id, |job| {
                    if job.is_finished() {
                        return; // a late message for a cancelled job
                    }
                    job.status = match msg {
                        FromWorker::Progress { bytes, total, packets, flows, elapsed_ms, .. } => {
                            JobStatus::Running { bytes, total, packets, flows, elapsed_ms }
                        }
                        FromWorker::Done { report_json, elapsed_ms, .. } => done_status(report_json, elapsed_ms),
                        FromWorker::Failed { message, .. } => JobStatus::Failed { message },
                        FromWorker::Ready | FromWorker::Lookup { .. } | FromWorker::HistoryCached { .. } => return,
                    };
                });
                if s.selected.is_none() && s.job(id).is_some_and(|j| matches!(j.status, JobStatus::Done { .. })) {
                    s.selected = Some(id);
                }
            }
            Action::WorkerDied { job, message } => s.set(job, |j| {
                if !j.is_finished() {
                    j.status = JobStatus::Failed { message };
                }
            }),
            Action::Cancel(id) => s.set(id, |job| {
                if !job.is_finished() {
                    job.status = JobStatus::Cancelled;
                }
            }),
            Action::Select(id) => {
                s.selected = Some(id);
                // A time window is one capture's.
                s.filter.window = None;
            }
            Action::Filter(f) => s.filter = f,
            Action::Reopen { name, size, json } => {
                let id = s.next_id;
                s.next_id += 1;
                s.jobs.push(Job { id, name, size, status: done_status(json, 0.0) });
                s.selected = Some(id);
            }
            Action::ClearJobs => {
                s.jobs.retain(|j| !j.is_finished());
                s.selected = None;
            }
        }
        s
    }

    fn set(&mut self, id: u32, f: impl FnOnce(&mut Job)) {
        if let Some(job) = self.jobs.iter_mut().find(|j| j.id == id) {
            f(job);
        }
    }

    pub fn job(&self, id: u32) -> Option<&Job> {
        self.jobs.iter().find(|j| j.id == id)
    }

    /// The next job to hand to the worker, if none is running (whether or not the worker is
    /// ready yet: the page loads one when needed).
    pub fn next_to_run(&self) -> Option<&Job> {
        if self.jobs.iter().any(|j| matches!(j.status, JobStatus::Running { .. })) {
            return None;
        }
        self.jobs.iter().find(|j| j.status == JobStatus::Queued)
    }

    /// `idle` | `running` | `done` | `failed` — the page's `analysis-status` hook.
    pub fn overall(&self) -> &'static str {
        if self.jobs.is_empty() {
            "idle"
        } else if self.jobs.iter().any(|j| !j.is_finished()) {
            "running"
        } else if self.jobs.iter().any(|j| matches!(j.status, JobStatus::Done { .. })) {
            "done"
        } else {
            "failed"
        }
    }
}

/// A one-capture `torsift.report/1` document, as the worker posted it or the history kept it.
fn done_status(json: String, elapsed_ms: f64) -> JobStatus {
    match Report::parse(json) {
        Ok(report) => JobStatus::Done { report: Rc::new(report), elapsed_ms },
        Err(e) => JobStatus::Failed { message: format!("the worker's report could not be read: {e}") },
    }
}

/// Flows of a capture report that pass the filter, sorted.
pub fn filtered_flows<'a>(report: &'a Report, filter: &FlowFilter) -> Vec<&'a FlowRow> {
    let text = filter.text.trim().to_lowercase();
    let verdict_filter = verdict_shown(report, filter);
    let mut out: Vec<&FlowRow> = report
        .flows
        .iter()
        .filter(|f| {
            let verdict_ok = match verdict_filter {
                "all" => true,
                "tor" => f.is_tor(),
                v => f.verdict == v,
            };
            let proto_ok = filter.proto.is_empty() || filter.proto == "all" || f.proto == filter.proto;
            let text_ok = text.is_empty()
                || [&f.client, &f.server, &f.proto, &f.verdict].iter().any(|s| s.to_lowercase().contains(&text));
            // A flow is in the window when it was active at any moment of it.
            let window_ok = filter.window.is_none_or(|(from, to)| {
                let (first, last) = flow_times(f);
                first <= to && last >= from
            });
            verdict_ok && proto_ok && text_ok && window_ok
        })
        .collect();
    // One key type for every column (a number, then text), so the page's wasm carries one sort.
    let endpoint = |s: &str| match s.parse::<std::net::SocketAddr>() {
        Ok(a) => (i64::from(a.port()), ip_key(a.ip()).iter().map(|b| format!("{b:02x}")).collect()),
        Err(_) => (0, s.to_string()),
    };
    out.sort_by_cached_key(|f| -> (String, i64, String) {
        match filter.sort.column {
            FlowColumn::Start => (String::new(), micros(flow_times(f).0), String::new()),
            FlowColumn::Verdict => (f.verdict.clone(), 0, f.confidence.clone().unwrap_or_default()),
            FlowColumn::Proto => (f.proto.clone(), 0, String::new()),
            FlowColumn::Client | FlowColumn::Server => {
                let (port, ip) = endpoint(if filter.sort.column == FlowColumn::Client { &f.client } else { &f.server });
                (ip, port, String::new())
            }
            FlowColumn::Packets => (String::new(), f.packets as i64, String::new()),
            FlowColumn::Bytes => (String::new(), f.bytes as i64, String::new()),
            FlowColumn::Duration => {
                let (first, last) = flow_times(f);
                (String::new(), micros(last - first), String::new())
            }
        }
    });
    if filter.sort.descending {
        out.reverse();
    }
    out
}

/// The export document: every finished capture in one `torsift.report/1`, as the CLI prints it
/// (header fields — schema, generator, relay lists, notes — from the latest capture; the page
/// offers the export once a capture is finished). Each flow is read from its text as it is
/// written.
pub fn export_json(jobs: &[Job]) -> String {
    let reports: Vec<&Report> = jobs
        .iter()
        .filter_map(|j| match &j.status {
            JobStatus::Done { report, .. } => Some(&**report),
            _ => None,
        })
        .collect();
    let header = reports.last().map_or(&Value::Null, |r| &r.header);
    serde_json::to_string_pretty(&ExportDocument { header, reports: &reports }).unwrap_or_default()
}

struct ExportDocument<'a> {
    header: &'a Value,
    reports: &'a [&'a Report],
}

impl serde::Serialize for ExportDocument<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        for (k, v) in self.header.as_object().into_iter().flatten() {
            map.serialize_entry(k, v)?;
        }
        let captures: Vec<_> = self.reports.iter().map(|r| r.capture_with_flows()).collect();
        map.serialize_entry("captures", &captures)?;
        map.end()
    }
}

/// An address and the captures it appears in.
pub type Recurring = (String, Vec<String>);

/// Tor hosts and their peers (relays, bridges, exits) that appear in more than one finished
/// capture: (address, files it appears in), for the batch view.
pub fn cross_capture(jobs: &[Job]) -> (Vec<Recurring>, Vec<Recurring>) {
    use std::collections::BTreeMap;
    let mut hosts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut peers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for j in jobs {
        let JobStatus::Done { report, .. } = &j.status else { continue };
        for h in report.capture["hosts"].as_array().map(Vec::as_slice).unwrap_or_default() {
            let files = hosts.entry(h["host"].as_str().unwrap_or("").to_string()).or_default();
            if !files.contains(&j.name) {
                files.push(j.name.clone());
            }
            for p in h["peers"].as_array().map(Vec::as_slice).unwrap_or_default() {
                let ip = p["endpoint"].as_str().unwrap_or("").rsplit_once(':').map_or("", |(ip, _)| ip).to_string();
                let files = peers.entry(ip).or_default();
                if !files.contains(&j.name) {
                    files.push(j.name.clone());
                }
            }
        }
    }
    let several = |m: BTreeMap<String, Vec<String>>| m.into_iter().filter(|(_, f)| f.len() > 1).collect();
    (several(hosts), several(peers))
}

/// The relay lists the latest finished capture was matched against.
pub fn relay_lists_in_use(jobs: &[Job]) -> Vec<Value> {
    jobs.iter()
        .rev()
        .find_map(|j| match &j.status {
            JobStatus::Done { report, .. } => report.header["relay_lists"].as_array().cloned(),
            _ => None,
        })
        .unwrap_or_default()
}

/// Flows of every finished capture as CSV, the same table as `torsift analyze --format csv`.
pub fn export_csv(jobs: &[Job]) -> String {
    let mut out = String::from(crate::output::CSV_HEADER);
    out.push('\n');
    for job in jobs {
        let JobStatus::Done { report, .. } = &job.status else { continue };
        let file = report.capture["file"].as_str().unwrap_or(&job.name);
        for f in &report.flows {
            out.push_str(&crate::output::csv_row_from_json(file, &report.flow(f)));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-capture report with these flows.
    fn capture(flows: Value) -> Report {
        Report::parse(serde_json::json!({"schema": "torsift.report/1", "captures": [{"flows": flows}]}).to_string())
            .unwrap()
    }

    fn done(job: u32, capture: &str) -> Action {
        let json = format!(r#"{{"schema":"torsift.report/1","relay_lists":[],"notes":[],"captures":[{capture}]}}"#);
        Action::Worker(FromWorker::Done { job, report_json: json, elapsed_ms: 1.0, tor_flows: 0 })
    }

    #[test]
    fn jobs_run_one_at_a_time_in_order() {
        let s = AppState::default().apply(Action::Enqueue(vec![("a.pcap".into(), 10), ("b.pcap".into(), 20)]));
        assert_eq!(s.overall(), "running");
        assert_eq!(s.next_to_run().map(|j| j.id), Some(0));
        let s = s.apply(Action::Started(0));
        assert_eq!(s.next_to_run(), None);
        let s = s.apply(done(0, r#"{"packets":3,"flows":[]}"#));
        assert_eq!(s.selected, Some(0));
        assert_eq!(s.next_to_run().map(|j| j.id), Some(1));
        let s = s.apply(Action::Started(1)).apply(Action::Cancel(1));
        assert_eq!(s.overall(), "done");
        // A late message for the cancelled job changes nothing.
        let after = s.apply(done(1, r#"{"flows":[]}"#));
        assert_eq!(after.job(1).unwrap().status, JobStatus::Cancelled);
    }

    #[test]
    fn failures_and_idle() {
        assert_eq!(AppState::default().overall(), "idle");
        let s = AppState::default().apply(Action::Enqueue(vec![("x".into(), 1)])).apply(Action::Started(0));
        let s = s.apply(Action::WorkerDied { job: 0, message: "out of memory".into() });
        assert_eq!(s.overall(), "failed");
        let s = s.apply(done(7, "{}")); // unknown job: ignored
        assert_eq!(s.jobs.len(), 1);
    }

    #[test]
    fn filter_and_sort_flows() {
        let report = capture(serde_json::json!([
            {"proto":"tcp","client":"10.0.0.1:5000","server":"1.2.3.4:443","bytes":10,"packets":1,"verdict":"none"},
            {"proto":"udp","client":"10.0.0.2:53","server":"8.8.8.8:53","bytes":30,"packets":3,"verdict":"none"},
            {"proto":"tcp","client":"10.0.0.1:5001","server":"5.6.7.8:9001","bytes":20,"packets":9,"verdict":"tor"}
        ]));
        let f = FlowFilter { verdict: "tor".into(), ..Default::default() };
        assert_eq!(filtered_flows(&report, &f).len(), 1);
        let f = FlowFilter { verdict: "all".into(), ..Default::default() };
        let sort = FlowSort { column: FlowColumn::Bytes, descending: true };
        let bytes: Vec<u64> =
            filtered_flows(&report, &FlowFilter { sort, ..f.clone() }).iter().map(|f| f.bytes).collect();
        assert_eq!(bytes, vec![30, 20, 10]);
        let sort = FlowSort { column: FlowColumn::Server, descending: false };
        let servers: Vec<&str> =
            filtered_flows(&report, &FlowFilter { sort, ..f.clone() }).iter().map(|f| f.server.as_str()).collect();
        assert_eq!(servers, vec!["1.2.3.4:443", "5.6.7.8:9001", "8.8.8.8:53"]);
        let clients: Vec<&str> = filtered_flows(
            &report,
            &FlowFilter { sort: FlowSort { column: FlowColumn::Client, descending: true }, ..f.clone() },
        )
        .iter()
        .map(|f| f.client.as_str())
        .collect();
        assert_eq!(clients, vec!["10.0.0.2:53", "10.0.0.1:5001", "10.0.0.1:5000"]);
        let f = FlowFilter { text: "8.8.8".into(), verdict: "all".into(), ..Default::default() };
        assert_eq!(filtered_flows(&report, &f).len(), 1);
        // Until the user picks, a capture with Tor flows shows them only.
        assert_eq!(filtered_flows(&report, &FlowFilter::default()).len(), 1);
        assert_eq!(report.tor_flows(), 1);
    }

    #[test]
    fn hosts_and_relays_seen_in_several_captures() {
        let cap = |host: &str, peer: &str| {
            format!(r#"{{"flows":[],"hosts":[{{"host":"{host}","peers":[{{"endpoint":"{peer}"}}]}}]}}"#)
        };
        let s = AppState::default()
            .apply(Action::Enqueue(vec![("a".into(), 1), ("b".into(), 1), ("c".into(), 1)]))
            .apply(done(0, &cap("10.0.0.1", "1.2.3.4:443")))
            .apply(done(1, &cap("10.0.0.2", "1.2.3.4:9001")))
            .apply(done(2, &cap("10.0.0.1", "5.6.7.8:443")));
        let (hosts, relays) = cross_capture(&s.jobs);
        assert_eq!(hosts, vec![("10.0.0.1".to_string(), vec!["a".to_string(), "c".to_string()])]);
        assert_eq!(relays, vec![("1.2.3.4".to_string(), vec!["a".to_string(), "b".to_string()])]);
    }

    #[test]
    fn export_is_one_report_of_finished_captures() {
        let s = AppState::default()
            .apply(Action::Enqueue(vec![("a".into(), 1), ("b".into(), 1)]))
            .apply(done(0, r#"{"file":"a","flows":[]}"#));
        let v: Value = serde_json::from_str(&export_json(&s.jobs)).unwrap();
        assert_eq!(v["schema"], "torsift.report/1");
        assert_eq!(v["captures"].as_array().unwrap().len(), 1);
        // Every member of every capture and flow comes back as the worker sent it.
        let second = r#"{"file":"b","hosts":[{"host":"10.0.0.1"}],"flows":[{"proto":"tcp","verdict":"tor","evidence":[{"kind":"relay-address","n":1}]},{"proto":"udp","stream":null}]}"#;
        let v: Value = serde_json::from_str(&export_json(&s.apply(done(1, second)).jobs)).unwrap();
        assert_eq!(v["captures"][1], serde_json::from_str::<Value>(second).unwrap());
        assert_eq!(v["relay_lists"], serde_json::json!([]));
    }

    #[test]
    fn times_and_windows() {
        let t = report_seconds("2019-11-02T14:53:22.250000Z").unwrap();
        assert_eq!(t.fract(), 0.25);
        assert_eq!(clock(t, 0), "2019-11-02 14:53:22");
        assert_eq!(clock(t, 60), "2019-11-02 15:53:22");
        assert_eq!(clock(t, -900), "2019-11-01 23:53:22");
        let report = capture(serde_json::json!([
            {"client":"10.0.0.1:1","server":"1.1.1.1:443","verdict":"none",
             "first_seen":"2020-01-01T00:00:00.000000Z","last_seen":"2020-01-01T00:00:10.000000Z"},
            {"client":"10.0.0.1:2","server":"1.1.1.1:443","verdict":"none",
             "first_seen":"2020-01-01T00:00:20.000000Z","last_seen":"2020-01-01T00:00:30.000000Z"}
        ]));
        let start = report_seconds("2020-01-01T00:00:00Z").unwrap();
        let window = |from: f64, to: f64| {
            let f = FlowFilter { window: Some((start + from, start + to)), ..Default::default() };
            filtered_flows(&report, &f).iter().map(|f| f.client.clone()).collect::<Vec<_>>()
        };
        assert_eq!(window(5.0, 6.0), vec!["10.0.0.1:1"]);
        assert_eq!(window(9.0, 21.0).len(), 2);
        assert!(window(11.0, 19.0).is_empty());
    }
}
