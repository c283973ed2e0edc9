//! The relay history by day (`tor/history`) against its own input files: the oracle is
//! `../shared/relays/history` read here with a few lines of plain code (the interval files say
//! which source listed which address on which days; `coverage.tsv` which source had a snapshot
//! of which day), never torsift's parser or index. Answers come from the built binary's
//! `torsift lookup --format json` and from analysing captures with the built-in index.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::process::Command;
use support::*;
use torsift::analysis::tor::relays::RelayIndex;
use torsift::analysis::{Analyzer, Limits};

fn gunzip(name: &str) -> String {
    let bytes = std::fs::read(shared_dir().join("relays/history").join(name)).unwrap();
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(&bytes[..]).read_to_string(&mut text).unwrap();
    text
}

/// The files as rows: (ip, port or "", first, last, source); dates stay `YYYY-MM-DD` strings,
/// which order like the days they name.
struct Oracle {
    rows: Vec<(String, String, String, String, String)>,
    /// day → sources with a snapshot that day.
    snapshots: BTreeMap<String, BTreeSet<String>>,
    /// Sources that give ORPorts.
    port_sources: BTreeSet<String>,
}

impl Oracle {
    fn load() -> Oracle {
        let mut rows = Vec::new();
        let mut port_sources = BTreeSet::new();
        for line in gunzip("relay-history-ip.tsv.gz").lines().filter(|l| !l.starts_with('#')) {
            let c: Vec<&str> = line.split('\t').collect();
            rows.push((c[0].into(), String::new(), c[1].into(), c[2].into(), c[3].into()));
        }
        for line in gunzip("relay-history-orport.tsv.gz").lines().filter(|l| !l.starts_with('#')) {
            let c: Vec<&str> = line.split('\t').collect();
            port_sources.insert(c[4].to_string());
            rows.push((c[0].into(), c[1].into(), c[2].into(), c[3].into(), c[4].into()));
        }
        let mut snapshots: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for line in gunzip("coverage.tsv.gz").lines().filter(|l| !l.starts_with('#')) {
            let c: Vec<&str> = line.split('\t').collect();
            if c[2] == "1" {
                snapshots.entry(c[1].to_string()).or_default().insert(c[0].to_string());
            }
        }
        Oracle { rows, snapshots, port_sources }
    }

    /// The README's meaning: listed when a run covers the day; not listed when a source of
    /// every relay (not an exit list; with ORPorts for a port) had a snapshot that day; else
    /// no data.
    fn listed(&self, ip: &str, port: &str, day: &str) -> Option<bool> {
        let hit =
            self.rows.iter().any(|(i, p, f, l, _)| i == ip && p == port && f.as_str() <= day && day <= l.as_str());
        if hit {
            return Some(true);
        }
        let vouching = self.snapshots.get(day).is_some_and(|sources| {
            sources.iter().any(|s| !s.contains("exit") && (port.is_empty() || self.port_sources.contains(s)))
        });
        vouching.then_some(false)
    }
}

fn shift(day: &str, by: i64) -> String {
    use torsift::analysis::tor::history::tsv;
    tsv::format_day(tsv::parse_day(day).unwrap() + by)
}

fn lookup_json(date: &str, endpoints: &[String]) -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_torsift"))
        .args(["lookup", "--format", "json", "--date", date])
        .args(endpoints)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["lookups"].as_array().unwrap().clone()
}

#[test]
fn lookups_match_the_history_files() {
    let oracle = Oracle::load();
    assert!(oracle.rows.len() > 1_000_000, "the history files hold {} runs", oracle.rows.len());
    // Every 9973rd run, IPv4 and IPv6, address and address+ORPort: its first and last day
    // (listed), the days just outside (listed by another run, not listed, or no data) and the
    // middle.
    let mut by_date: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut kinds = BTreeSet::new();
    for (ip, port, first, last, _) in oracle.rows.iter().step_by(9973) {
        kinds.insert((ip.contains(':'), port.is_empty()));
        let endpoint = match (port.is_empty(), ip.contains(':')) {
            (true, _) => ip.clone(),
            (false, true) => format!("[{ip}]:{port}"),
            (false, false) => format!("{ip}:{port}"),
        };
        for day in [first.clone(), last.clone(), shift(first, -1), shift(last, 1)] {
            by_date.entry(day).or_default().push((endpoint.clone(), ip.clone() + "|" + port));
        }
    }
    assert_eq!(kinds.len(), 4, "samples cover IPv4/IPv6 × address/ORPort: {kinds:?}");
    let (mut checked, mut answers) = (0, BTreeMap::new());
    for (date, samples) in &by_date {
        let endpoints: Vec<String> = samples.iter().map(|(e, _)| e.clone()).collect();
        for (answer, (endpoint, key)) in lookup_json(date, &endpoints).iter().zip(samples) {
            let (ip, port) = key.split_once('|').unwrap();
            let want = oracle.listed(ip, port, date);
            let got = answer["listed"].as_bool();
            assert_eq!(got, want, "{endpoint} on {date}: {}", answer["answer"]);
            assert_eq!(answer["date"], date.as_str());
            if want == Some(true) {
                // The answer names the sources that listed it.
                let listing: Vec<&str> = oracle
                    .rows
                    .iter()
                    .filter(|(i, p, f, l, _)| i == ip && p == port && f <= date && date <= l)
                    .map(|r| r.4.as_str())
                    .collect();
                for s in listing {
                    assert!(
                        answer["sources"].as_array().unwrap().iter().any(|x| x["source"] == s && x["listed"] == true),
                        "{endpoint} on {date}: {s} missing from {}",
                        answer["sources"]
                    );
                }
            }
            *answers.entry(format!("{want:?}")).or_insert(0) += 1;
            checked += 1;
        }
    }
    // The sample reaches all three answers.
    assert_eq!(answers.len(), 3, "{answers:?}");
    assert!(checked > 400, "{checked} lookups");
}

#[test]
fn runs_are_those_of_the_files() {
    let oracle = Oracle::load();
    // An address's runs over the whole history, per source, exactly as the files give them.
    for (ip, port, _, _, _) in oracle.rows.iter().step_by(49_999) {
        let endpoint = if port.is_empty() {
            ip.clone()
        } else if ip.contains(':') {
            format!("[{ip}]:{port}")
        } else {
            format!("{ip}:{port}")
        };
        let want: BTreeSet<(String, String, String)> = oracle
            .rows
            .iter()
            .filter(|(i, p, ..)| i == ip && p == port)
            .map(|(_, _, f, l, s)| (f.clone(), l.clone(), s.clone()))
            .collect();
        let out = Command::new(env!("CARGO_BIN_EXE_torsift"))
            .args(["lookup", "--format", "json", &endpoint])
            .output()
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let got: BTreeSet<(String, String, String)> = doc["lookups"][0]["intervals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["first_day"].as_str().unwrap().into(),
                    p["last_day"].as_str().unwrap().into(),
                    p["source"].as_str().unwrap().into(),
                )
            })
            .collect();
        assert_eq!(got, want, "{endpoint}");
    }
}

/// Every key of the files — each address, each address+ORPort — read back from the built-in
/// shards: the same runs, per source, joined across New Year as the files give them.
#[test]
fn every_key_reads_back_its_runs() {
    use std::collections::HashMap;
    use torsift::analysis::tor::history::{tsv, RelayHistory};
    let oracle = Oracle::load();
    let history = RelayHistory::builtin();
    type Runs<'a> = BTreeSet<(i64, i64, &'a str)>;
    let mut want: HashMap<(&str, &str), Runs> = HashMap::new();
    for (ip, port, first, last, source) in &oracle.rows {
        let run = (tsv::parse_day(first).unwrap(), tsv::parse_day(last).unwrap(), source.as_str());
        want.entry((ip.as_str(), port.as_str())).or_default().insert(run);
    }
    let mut ports = 0;
    for ((ip, port), runs) in &want {
        let port = (!port.is_empty()).then(|| port.parse::<u16>().unwrap());
        ports += usize::from(port.is_some());
        let got: Runs = history
            .presences(ip.parse().unwrap(), port)
            .iter()
            .map(|p| (p.first_day, p.last_day, runs.iter().find(|r| r.2 == p.source).map_or("?", |r| r.2)))
            .collect();
        assert_eq!(&got, runs, "{ip} port {port:?}");
    }
    // 551,751 addresses and 150,357 address+ORPort pairs (the history's README).
    assert_eq!((want.len() - ports, ports), (551_751, 150_357));
}

#[test]
fn a_day_without_data_is_not_an_absence() {
    let oracle = Oracle::load();
    let (ip, ..) = oracle.rows.first().cloned().unwrap();
    // 2014: before every source of the history.
    assert!(!oracle.snapshots.keys().any(|d| d.starts_with("2014")));
    let answer = &lookup_json("2014-06-01", std::slice::from_ref(&ip))[0];
    assert_eq!(answer["listed"], serde_json::Value::Null, "{answer}");
    assert!(answer["answer"].as_str().unwrap().starts_with("no data for 2014-06-01"), "{answer}");
    // The day after the last snapshot of any source.
    let after = shift(oracle.snapshots.keys().next_back().unwrap(), 1);
    assert_eq!(lookup_json(&after, &[ip])[0]["listed"], serde_json::Value::Null);
}

/// A SYN to `server:port` at noon on `date`.
fn syn_at(date: &str, server: [u8; 4], port: u16) -> Vec<u8> {
    let t = torsift::analysis::time::Timestamp::parse_utc(&format!("{date}T12:00:00Z")).unwrap().secs() as u32;
    pcap_of(&[(t, tcp_frame([10, 0, 0, 5], server, 40_000, port, 1000, true, &[]))])
}

fn analyze_with_history(name: &str, data: &[u8]) -> torsift::analysis::CaptureReport {
    let mut a = Analyzer::with_relays(name, Limits::default(), std::sync::Arc::new(RelayIndex::builtin()));
    a.push(data).unwrap();
    a.finish()
}

#[test]
fn flows_are_dated_on_the_capture_day() {
    let oracle = Oracle::load();
    // An IPv4 address+ORPort run of a source with ports, at least 3 days long: a SYN to it on its
    // middle day is a relay-orport match of the capture's own day, naming the source.
    let (ip, port, first, last, source) = oracle
        .rows
        .iter()
        .filter(|(i, p, f, l, _)| !p.is_empty() && !i.contains(':') && shift(f, 2) <= *l)
        .nth(1000)
        .cloned()
        .unwrap();
    let day = shift(&first, 1);
    let octets: Vec<u8> = ip.split('.').map(|o| o.parse().unwrap()).collect();
    let port: u16 = port.parse().unwrap();
    let report = analyze_with_history("orport", &syn_at(&day, [octets[0], octets[1], octets[2], octets[3]], port));
    let flow = &report.flows[0];
    let e = flow
        .evidence
        .iter()
        .find(|e| e["kind"] == "relay-orport" && e["list_kind"] == "relay-history")
        .unwrap_or_else(|| panic!("{ip}:{port} on {day}: {:?}", flow.evidence));
    assert_eq!(e["day_gap"], 0);
    // The run is the file's: it starts on or before the day and names the source.
    let run_first = e["history"]["first_day"].as_str().unwrap();
    assert!(run_first <= day.as_str() && run_first >= first.as_str() || run_first <= first.as_str(), "{e}");
    assert!(day <= last, "{day} {last}");
    assert!(oracle.rows.iter().any(|r| r.0 == ip && r.4 == e["list"].as_str().unwrap()), "{e}");
    assert!(flow.explanation.contains("on the capture's day"), "{}", flow.explanation);
    let _ = source;
}

#[test]
fn public_tor_captures_are_dated_on_their_day() {
    let oracle = Oracle::load();
    let dir = shared_dir().join("captures/public/tor");
    let mut dated = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let report = analyze_with_history(&short_name(&path), &std::fs::read(&path).unwrap());
        for flow in report.flows.iter().filter(|f| f.verdict == "tor") {
            let day = flow.first_seen.to_rfc3339()[..10].to_string();
            let ip = flow.server.ip().to_string();
            if oracle.listed(&ip, "", &day) != Some(true) {
                continue;
            }
            // Listed by the history on the capture's day: some relay evidence of the server is
            // within a day, and says which list or source it is.
            let near = flow.evidence.iter().find(|e| {
                e["kind"].as_str().unwrap().starts_with("relay-")
                    && e["endpoint"] == "server"
                    && e["day_gap"].as_i64().is_some_and(|g| g.abs() <= 1)
            });
            let near = near.unwrap_or_else(|| panic!("{}: {ip} on {day}: {:?}", report.file, flow.evidence));
            assert!(!near["list"].as_str().unwrap().is_empty());
            dated += 1;
        }
    }
    assert!(dated >= 4, "{dated} Tor flows dated by the history");
}

#[test]
fn an_unlisted_tor_server_on_a_covered_day_says_so() {
    let oracle = Oracle::load();
    // A day every relay was listed by a source; a documentation address no list names.
    let day = oracle
        .snapshots
        .iter()
        .find(|(d, s)| d.starts_with("2021-06") && s.contains("secops-tor-nodes"))
        .unwrap()
        .0
        .clone();
    for d in [shift(&day, -1), shift(&day, 1)] {
        assert!(oracle.snapshots.get(&d).is_some_and(|s| s.contains("secops-tor-nodes")));
    }
    assert_eq!(oracle.listed("192.0.2.77", "", &day), Some(false));
    // A Tor link by its handshake: the lab's real tor ClientHello, replayed to that server.
    let hello = lab_tor_client_hello();
    let t = torsift::analysis::time::Timestamp::parse_utc(&format!("{day}T12:00:00Z")).unwrap().secs() as u32;
    let server = [192, 0, 2, 77];
    let capture = pcap_of(&[
        (t, tcp_frame([10, 0, 0, 5], server, 40_000, 443, 1000, true, &[])),
        (t, tcp_frame([10, 0, 0, 5], server, 40_000, 443, 1001, false, &hello)),
    ]);
    let report = analyze_with_history("unlisted", &capture);
    let flow = &report.flows[0];
    assert_eq!(flow.verdict, "tor", "{}", flow.explanation);
    let e =
        flow.evidence.iter().find(|e| e["kind"] == "relay-unlisted").unwrap_or_else(|| panic!("{:?}", flow.evidence));
    assert_eq!(e["day"], day.as_str());
    assert!(e["sources"].as_array().unwrap().iter().any(|s| s == "secops-tor-nodes"));
    assert!(flow.explanation.contains("was not a listed relay"), "{}", flow.explanation);
}

/// The first Tor ClientHello of the lab's client capture, as tshark cuts it.
fn lab_tor_client_hello() -> Vec<u8> {
    require_tool("tshark");
    let lab = shared_dir().join("captures/lab");
    let capture = std::fs::read_dir(&lab)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("tor-")))
        .min()
        .unwrap();
    let out = Command::new("tshark")
        .args(["-r", capture.to_str().unwrap(), "-Y", "tls.handshake.type == 1", "-T", "fields", "-e", "tcp.payload"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    // A tunnelled frame lists each TCP layer's payload: the innermost is last.
    let hex =
        text.lines().next().expect("a ClientHello in the lab capture").rsplit(',').next().unwrap().replace(':', "");
    (0..hex.len() / 2).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap()).collect()
}

/// history_shard fuzz target: a damaged shard (one byte changed anywhere) is refused or answers,
/// never panics (the first format's fst node decoder once did; shards now have no fst).
#[test]
fn a_damaged_shard_is_refused_or_answers() {
    use torsift::analysis::tor::history::RelayHistory;
    let (_, bytes) = RelayHistory::builtin_shards().into_iter().min_by_key(|(_, b)| b.len()).unwrap();
    let probes: Vec<std::net::IpAddr> =
        ["1.1.1.1", "23.88.75.121", "2001:db8::1"].iter().map(|a| a.parse().unwrap()).collect();
    let (mut refused, mut read) = (0, 0);
    for at in (0..bytes.len()).step_by((bytes.len() / 700).max(1)) {
        let mut damaged = bytes.to_vec();
        damaged[at] ^= 0x5a;
        let mut history = RelayHistory::default();
        if !history.add_shard(damaged) {
            refused += 1;
            continue;
        }
        read += 1;
        for ip in &probes {
            let _ = history.presences(*ip, None);
            let _ = history.on_day(*ip, Some(443), 17_000);
        }
    }
    assert!(refused > 0 && read > 0, "refused {refused}, read {read}");
}
