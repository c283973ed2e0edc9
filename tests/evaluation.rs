//! Verdicts scored against ground truth, as shared/docs/evaluation.md defines it. Run
//! `cargo test --release --test evaluation -- --nocapture` to see the tables.
//! - the shared lab vs its labels.json, with the lab's consensus documents as relay lists and
//!   with no relay list at all (the unlisted relay / bridge case);
//! - the lab variant with every address and port moved (`tests/lab/make-tor-variant.sh`);
//! - the hard-negatives lab (`tests/lab/make-negatives.sh`): ordinary clients without ALPN to
//!   word-named servers, Shadowsocks, OpenVPN, SSH, … from a host that also runs tor;
//! - the pluggable-transport lab's non-Tor look-alikes and context;
//! - public captures: every Tor capture flagged through its relays; nothing flagged in nontor/.
//!
//! Every count is by conversation (protocol and unordered endpoints); a false positive is any
//! Tor verdict, of any confidence, on a conversation the labels call non-Tor.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use support::*;
use torsift::analysis::tor::relays::RelayIndex;
use torsift::analysis::{Analyzer, CaptureReport, Limits};

fn index_of(lists: &[torsift::analysis::tor::relays::list::RelayList]) -> RelayIndex {
    let mut index = RelayIndex::default();
    index.add_lists(lists).unwrap();
    index
}

fn analyze(path: &Path, index: &Arc<RelayIndex>) -> CaptureReport {
    let mut a = Analyzer::with_relays(short_name(path), Limits::default(), index.clone());
    a.push(&std::fs::read(path).unwrap()).ok();
    a.finish()
}

const TOR_LABELS: [&str; 3] = ["tor-or", "tor-dir", "obfs4"];

#[derive(Default, Debug)]
struct Score {
    found: BTreeMap<String, (u32, u32)>, // label -> (given a Tor verdict, total)
    /// (truly Tor?, confidence) -> conversations with a Tor verdict at that confidence.
    by_confidence: BTreeMap<(bool, String), u32>,
    /// (truly Tor?, evidence kind) -> conversations showing that evidence.
    by_evidence: BTreeMap<(bool, String), u32>,
    /// label -> evidence kind -> conversations of that label showing it.
    evidence_by_label: BTreeMap<String, BTreeMap<String, u32>>,
    false_positives: Vec<String>,
    missed: Vec<String>,
}

impl Score {
    fn add(&mut self, other: Score) {
        for (k, (a, b)) in other.found {
            let e = self.found.entry(k).or_default();
            e.0 += a;
            e.1 += b;
        }
        for (k, n) in other.by_confidence {
            *self.by_confidence.entry(k).or_default() += n;
        }
        for (k, n) in other.by_evidence {
            *self.by_evidence.entry(k).or_default() += n;
        }
        for (label, kinds) in other.evidence_by_label {
            for (k, n) in kinds {
                *self.evidence_by_label.entry(label.clone()).or_default().entry(k).or_default() += n;
            }
        }
        self.false_positives.extend(other.false_positives);
        self.missed.extend(other.missed);
    }
}

/// Scores every capture a `labels.json` in `dir` lists. `only` keeps the captures whose name
/// it accepts. A conversation is Tor when its label is one of `TOR_LABELS` or it is marked
/// `tor_related`.
fn score_dir(dir: &Path, index: RelayIndex, only: &dyn Fn(&str) -> bool) -> Score {
    let index = Arc::new(index);
    let labels: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("labels.json")).unwrap()).unwrap();
    let mut score = Score::default();
    for (capture, truth) in labels["captures"].as_object().unwrap() {
        if !only(capture) {
            continue;
        }
        let report = analyze(&dir.join(capture), &index);
        let verdicts: BTreeMap<ConvKey, (&str, &str, &str)> = report
            .flows
            .iter()
            .map(|f| {
                (
                    conv_key(f.proto, &f.client.to_string(), &f.server.to_string()),
                    (f.verdict, f.confidence.unwrap_or("-"), f.explanation.as_str()),
                )
            })
            .collect();
        let kinds: BTreeMap<ConvKey, Vec<String>> = report
            .flows
            .iter()
            .map(|f| {
                let mut k: Vec<String> = f.evidence.iter().map(|e| e["kind"].as_str().unwrap().to_string()).collect();
                k.sort();
                k.dedup();
                (conv_key(f.proto, &f.client.to_string(), &f.server.to_string()), k)
            })
            .collect();
        for conv in truth["conversations"].as_array().unwrap() {
            if conv["host_internal"] == true {
                continue;
            }
            let label = conv["label"].as_str().unwrap();
            let key = conv_key(
                conv["proto"].as_str().unwrap(),
                conv["client"].as_str().unwrap(),
                conv["server"].as_str().unwrap(),
            );
            let (verdict, confidence, why) = verdicts.get(&key).copied().unwrap_or(("missing", "-", ""));
            let tor = verdict != "none" && verdict != "missing";
            let truly_tor = TOR_LABELS.contains(&label) || conv["tor_related"] == true;
            let what = format!("{capture} {} -> {} [{label}] = {verdict} {why}", conv["client"], conv["server"]);
            // An exit fetching a page is non-Tor traffic, but `tor-exit` is right too.
            let exit_ok = verdict == "tor-exit" && conv["client_role"] == "exit";
            for kind in kinds.get(&key).into_iter().flatten() {
                *score.by_evidence.entry((truly_tor, kind.clone())).or_default() += 1;
                *score.evidence_by_label.entry(label.to_string()).or_default().entry(kind.clone()).or_default() += 1;
            }
            let e = score.found.entry(label.to_string()).or_default();
            e.1 += 1;
            if tor && !exit_ok {
                e.0 += 1;
                *score.by_confidence.entry((truly_tor, confidence.to_string())).or_default() += 1;
            }
            match (truly_tor, tor && !exit_ok) {
                (true, false) => score.missed.push(what),
                (false, true) => score.false_positives.push(what),
                _ => {}
            }
        }
    }
    score
}

fn print(mode: &str, s: &Score) {
    println!("\n{mode}");
    println!("  {:<26} {:>8} {:>6}", "label", "Tor verdict", "of");
    for (label, (n, total)) in &s.found {
        println!("  {label:<26} {n:>8} {total:>6}");
    }
    println!("  {:<10} {:>6} {:>6} {:>10}", "confidence", "Tor", "non-Tor", "precision");
    for c in ["high", "medium", "low"] {
        let tp = s.by_confidence.get(&(true, c.to_string())).copied().unwrap_or(0);
        let fp = s.by_confidence.get(&(false, c.to_string())).copied().unwrap_or(0);
        let precision =
            if tp + fp == 0 { "-".to_string() } else { format!("{:.3}", f64::from(tp) / f64::from(tp + fp)) };
        println!("  {c:<10} {tp:>6} {fp:>6} {precision:>10}");
    }
    println!("  {:<26} {:>6} {:>8}", "evidence seen on", "Tor", "non-Tor");
    let kinds: std::collections::BTreeSet<&String> = s.by_evidence.keys().map(|(_, k)| k).collect();
    for k in kinds {
        let tor = s.by_evidence.get(&(true, k.clone())).copied().unwrap_or(0);
        let non = s.by_evidence.get(&(false, k.clone())).copied().unwrap_or(0);
        println!("  {k:<26} {tor:>6} {non:>8}");
    }
    for m in s.missed.iter().take(10) {
        println!("  missed: {m}");
    }
    for m in s.false_positives.iter().take(20) {
        println!("  FALSE POSITIVE: {m}");
    }
}

fn recall(s: &Score, label: &str) -> f64 {
    let (n, total) = s.found.get(label).copied().unwrap_or((0, 0));
    if total == 0 {
        1.0
    } else {
        f64::from(n) / f64::from(total)
    }
}

fn all(_: &str) -> bool {
    true
}

fn shared_lab() -> PathBuf {
    shared_dir().join("captures/lab")
}

#[test]
fn lab_with_the_labs_relay_lists() {
    let s = score_dir(&shared_lab(), index_of(&lab_relay_lists()), &all);
    print("lab, with the lab's consensus documents as relay lists", &s);
    assert_eq!(recall(&s, "tor-or"), 1.0, "every tor-or conversation");
    assert_eq!(recall(&s, "tor-dir"), 1.0, "every tor-dir conversation");
    assert_eq!(recall(&s, "obfs4"), 1.0, "the obfs4 connection");
    assert!(s.false_positives.is_empty(), "false positives: {:#?}", s.false_positives);
}

#[test]
fn lab_without_any_relay_list() {
    let s = score_dir(&shared_lab(), RelayIndex::default(), &all);
    print("lab, no relay list at all (unlisted relays and bridges)", &s);
    assert!(recall(&s, "tor-or") >= 0.95, "tor-or recall {:.3} < 0.95", recall(&s, "tor-or"));
    assert_eq!(recall(&s, "tor-dir"), 1.0, "every tor-dir conversation");
    assert_eq!(recall(&s, "obfs4"), 1.0, "the obfs4 connection");
    assert!(s.false_positives.is_empty(), "false positives: {:#?}", s.false_positives);
}

/// A generated lab directory (`tests/lab/*.sh` write them under `target/lab/`): present after
/// `tests/run-all.sh`; without it the test says how to make it, and fails under CI.
fn generated_lab(name: &str, script: &str) -> Option<PathBuf> {
    let labs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/lab");
    let dir = labs.join(name);
    if let Ok(log) = std::fs::read_to_string(labs.join(format!("{name}.failed"))) {
        panic!("{script} failed; its log:\n{log}");
    }
    if dir.join("labels.json").is_file() {
        return Some(dir);
    }
    if let Ok(why) = std::fs::read_to_string(labs.join("unavailable")) {
        println!("skipped: {name}: {why}");
        return None;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing: tests/run-all.sh makes it with `sudo bash {script} {}`",
        dir.display(),
        dir.display()
    );
    println!("skipped: {} is missing (make it with `sudo bash {script} {}`)", dir.display(), dir.display());
    None
}

#[test]
fn lab_variant_with_every_port_moved() {
    let Some(dir) = generated_lab("moved-ports", "tests/lab/make-tor-variant.sh") else { return };
    let with_lists = score_dir(&dir, index_of(&relay_lists_in(&dir.join("directory-docs"))), &all);
    print("lab variant (addresses and ports moved), with its consensus documents", &with_lists);
    let without = score_dir(&dir, RelayIndex::default(), &all);
    print("lab variant (addresses and ports moved), no relay list", &without);
    assert_eq!(recall(&with_lists, "tor-or"), 1.0, "every tor-or conversation with the variant's lists");
    assert!(recall(&without, "tor-or") >= 0.95, "tor-or recall {:.3} < 0.95", recall(&without, "tor-or"));
    assert_eq!(recall(&without, "obfs4"), 1.0, "every obfs4 connection, with no SOCKS or OR port at its default");
    for s in [&with_lists, &without] {
        assert!(s.false_positives.is_empty(), "false positives: {:#?}", s.false_positives);
    }
}

#[test]
fn hard_negatives_lab() {
    let Some(dir) = generated_lab("negatives", "tests/lab/make-negatives.sh") else { return };
    let mut s = score_dir(&dir, RelayIndex::builtin(), &all);
    s.add(score_dir(&dir, RelayIndex::default(), &all));
    print("hard negatives (ordinary clients, circumvention tools, tor on the same host), built-in and no lists", &s);
    assert!(s.false_positives.is_empty(), "false positives: {:#?}", s.false_positives);
    assert_eq!(recall(&s, "tor-or"), 1.0, "the tor link on the negatives' host");
}

#[test]
fn pluggable_transport_lab() {
    let dir = shared_dir().join("captures/lab-pt");
    // The bridge side sees tor's own links to the bridge (scored by the other lab tests); the
    // transports are judged where a defender sits: the client's and the proxy's networks.
    let only = |c: &str| !c.contains("serverside");
    let s = score_dir(&dir, RelayIndex::builtin(), &only);
    print("pluggable-transport lab, client and proxy vantage points (built-in lists)", &s);
    assert!(s.false_positives.is_empty(), "false positives: {:#?}", s.false_positives);
    assert!(s.missed.is_empty(), "transport conversations without a Tor verdict: {:#?}", s.missed);
    // Each labelled step shows the evidence that describes it, in every conversation.
    let expected = [
        ("meek", "meek-polling"),
        ("snowflake-webrtc", "snowflake-webrtc"),
        ("snowflake-stun", "snowflake-stun"),
        ("snowflake-rendezvous", "snowflake-rendezvous"),
        ("snowflake-proxy-broker", "snowflake-rendezvous"),
        ("snowflake-proxy-relay", "snowflake-relay"),
    ];
    for (label, kind) in expected {
        let total = s.found.get(label).map_or(0, |(_, n)| *n);
        let shown = s.evidence_by_label.get(label).and_then(|k| k.get(kind)).copied().unwrap_or(0);
        assert!(total > 0, "the lab has no {label} conversation");
        assert_eq!(shown, total, "{label}: {shown} of {total} conversations show {kind}");
    }
    // Exactly one DTLS handshake per peer connection, and it is pion's.
    let dtls = s.evidence_by_label.get("snowflake-webrtc").and_then(|k| k.get("webrtc-dtls")).copied();
    assert_eq!(dtls, Some(2), "one pion DTLS handshake in each of the client's and the proxy's captures");
}

/// The transport lab made again with other addresses, names, ports, STUN servers, uTLS and
/// timings (`tests/lab/profiles/pt-variant.conf`), without a Snowflake server (the connection,
/// its STUN and the proxy's relay WebSocket happen; tor does not bootstrap over it).
#[test]
fn pluggable_transport_variant() {
    let Some(dir) = generated_lab("pt-variant", "tests/lab/make-pt-variant.sh") else { return };
    let only = |c: &str| !c.contains("serverside");
    let s = score_dir(&dir, RelayIndex::builtin(), &only);
    print("pluggable-transport lab variant, client and proxy vantage points (built-in lists)", &s);
    assert!(s.false_positives.is_empty(), "false positives: {:#?}", s.false_positives);
    assert!(s.missed.is_empty(), "transport conversations without a Tor verdict: {:#?}", s.missed);
}

/// The public Tor captures and the relays their dated lists confirm (shared/relays/README.md).
const PUBLIC_TOR: &[(&str, &[&str])] = &[
    ("tor/ndpi_tor_2013-11-07.pcap", &["38.229.70.53", "62.210.137.230"]),
    ("tor/gregcusack_only_tor_traffic_1_2017-09-27.pcap", &["149.56.141.138"]),
    ("tor/linkia_tor_2019-11-02.pcapng", &["217.160.40.194"]),
    ("tor/linkia_wikipedia-via-tor_2019-11-02.pcapng", &["217.160.40.194"]),
    ("tor/linkia_neverssl-via-tor_2019-11-02.pcapng", &["217.160.40.194"]),
    ("tor/ninjawill543_tor-syn-only_2022-10-26.pcapng", &["23.88.75.121"]),
];

#[test]
fn public_captures() {
    let index = Arc::new(RelayIndex::builtin());
    println!("\npublic captures, built-in relay lists");
    for (capture, relays) in PUBLIC_TOR {
        let report = analyze(&shared_dir().join("captures/public").join(capture), &index);
        let flagged: Vec<_> = report.flows.iter().filter(|f| f.verdict != "none").collect();
        println!("  {capture}: {} of {} flows flagged", flagged.len(), report.flows.len());
        for relay in *relays {
            let via = flagged.iter().find(|f| f.server.ip().to_string() == *relay);
            assert!(via.is_some(), "{capture}: no Tor verdict through {relay}");
            let f = via.unwrap();
            assert!(
                f.evidence.iter().any(|e| e["kind"].as_str().unwrap().starts_with("relay-")),
                "{capture}: {relay} flagged without its relay-list match"
            );
        }
    }
    let empty = Arc::new(RelayIndex::default());
    for path in shared_captures() {
        let name = short_name(&path);
        if !name.contains("/nontor/") {
            continue;
        }
        for index in [&index, &empty] {
            let report = analyze(&path, index);
            for f in &report.flows {
                assert_eq!(f.verdict, "none", "{name}: {} -> {} flagged: {}", f.client, f.server, f.explanation);
            }
        }
    }
}

/// `www.<base32>.com` without ALPN and never looked up: the shape tor's names have. Ordinary
/// clients (curl --no-alpn, wget, openssl, gnutls-cli, Python, Node) produce it for word-like
/// names all day; none of those may become Tor evidence. The labels say which conversations
/// are such (from tshark, at lab time).
#[test]
fn word_like_names_without_alpn_are_no_evidence() {
    let Some(dir) = generated_lab("negatives", "tests/lab/make-negatives.sh") else { return };
    let labels: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("labels.json")).unwrap()).unwrap();
    let shape = |sni: &str| {
        sni.strip_prefix("www.").and_then(|r| r.strip_suffix(".com")).is_some_and(|l| {
            (4..=25).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
        })
    };
    let index = Arc::new(RelayIndex::default());
    let mut checked = 0;
    for (capture, truth) in labels["captures"].as_object().unwrap() {
        let report = analyze(&dir.join(capture), &index);
        for conv in truth["conversations"].as_array().unwrap() {
            let tls = &conv["tls_observed"];
            let Some(sni) = tls["sni"].as_str() else { continue };
            if conv["label"] == "tor-or" || !shape(sni) || tls["alpn_offered"].as_array().is_some_and(|a| !a.is_empty())
            {
                continue;
            }
            let key = conv_key("tcp", conv["client"].as_str().unwrap(), conv["server"].as_str().unwrap());
            let flow = report
                .flows
                .iter()
                .find(|f| conv_key(f.proto, &f.client.to_string(), &f.server.to_string()) == key)
                .unwrap_or_else(|| panic!("{capture}: no flow for {key:?}"));
            assert!(
                flow.evidence.iter().all(|e| e["kind"] != "tor-link-client-hello") && flow.verdict == "none",
                "{capture} {sni} from {}: {} {}",
                conv["category"],
                flow.verdict,
                flow.explanation
            );
            checked += 1;
        }
    }
    println!("{checked} ordinary no-ALPN ClientHellos with tor's name shape: none is evidence");
    assert!(checked >= 10, "the negatives lab makes at least 10 such conversations, found {checked}");
}
