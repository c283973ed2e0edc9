//! Verdicts scored against ground truth, as shared/docs/evaluation.md defines it. Run
//! `cargo test --release --test evaluation -- --nocapture` to see the tables.
//! - lab captures vs labels.json, with the lab's consensus documents as relay lists and with no
//!   relay list at all (the unlisted relay / bridge case);
//! - public captures: every Tor capture flagged through its relays; nothing flagged in nontor/.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use support::*;
use torsift::analysis::tor::relays::RelayIndex;
use torsift::analysis::{Analyzer, CaptureReport, Limits};

fn lab_index() -> RelayIndex {
    let mut index = RelayIndex::default();
    index.add_lists(&lab_relay_lists()).unwrap();
    index
}

fn analyze(path: &std::path::Path, index: &Arc<RelayIndex>) -> CaptureReport {
    let mut a = Analyzer::with_relays(short_name(path), Limits::default(), index.clone());
    a.push(&std::fs::read(path).unwrap()).ok();
    a.finish()
}

#[derive(Default, Debug)]
struct Score {
    found: BTreeMap<String, (u32, u32)>, // label -> (flagged, total)
    false_positives: Vec<String>,
    missed: Vec<String>,
}

fn score_lab(index: RelayIndex) -> Score {
    let index = Arc::new(index);
    let labels: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(shared_dir().join("captures/lab/labels.json")).unwrap()).unwrap();
    let mut score = Score::default();
    for (capture, truth) in labels["captures"].as_object().unwrap() {
        let report = analyze(&shared_dir().join("captures/lab").join(capture), &index);
        let verdicts: BTreeMap<ConvKey, (&str, &str)> = report
            .flows
            .iter()
            .map(|f| {
                (conv_key(f.proto, &f.client.to_string(), &f.server.to_string()), (f.verdict, f.explanation.as_str()))
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
            let (verdict, why) = verdicts.get(&key).copied().unwrap_or(("missing", ""));
            let tor = verdict != "none" && verdict != "missing";
            let what = format!("{capture} {} -> {} [{label}] = {verdict} {why}", conv["client"], conv["server"]);
            match label {
                "tor-or" | "tor-dir" | "obfs4" => {
                    let e = score.found.entry(label.to_string()).or_default();
                    e.1 += 1;
                    if tor {
                        e.0 += 1;
                    } else {
                        score.missed.push(what);
                    }
                }
                _ => {
                    // An exit fetching a page is non-Tor traffic, but `tor-exit` is right too.
                    let exit_ok = verdict == "tor-exit" && conv["client_role"] == "exit";
                    let e = score.found.entry(label.to_string()).or_default();
                    e.1 += 1;
                    if tor && !exit_ok {
                        e.0 += 1;
                        score.false_positives.push(what);
                    }
                }
            }
        }
    }
    score
}

fn print(mode: &str, s: &Score) {
    println!("\n{mode}");
    println!("  {:<15} {:>8} {:>6}", "label", "flagged", "of");
    for (label, (n, total)) in &s.found {
        println!("  {label:<15} {n:>8} {total:>6}");
    }
    for m in s.missed.iter().take(10) {
        println!("  missed: {m}");
    }
    for m in s.false_positives.iter().take(10) {
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

#[test]
fn lab_with_the_labs_relay_lists() {
    let s = score_lab(lab_index());
    print("lab, with the lab's consensus documents as relay lists", &s);
    assert_eq!(recall(&s, "tor-or"), 1.0, "every tor-or conversation");
    assert_eq!(recall(&s, "tor-dir"), 1.0, "every tor-dir conversation");
    assert!(s.false_positives.is_empty(), "false positives: {:#?}", s.false_positives);
}

#[test]
fn lab_without_any_relay_list() {
    let s = score_lab(RelayIndex::default());
    print("lab, no relay list at all (unlisted relays and bridges)", &s);
    assert!(recall(&s, "tor-or") >= 0.95, "tor-or recall {:.3} < 0.95", recall(&s, "tor-or"));
    assert_eq!(recall(&s, "tor-dir"), 1.0, "every tor-dir conversation");
    assert_eq!(recall(&s, "obfs4"), 1.0, "the obfs4 connection");
    assert!(s.false_positives.is_empty(), "false positives: {:#?}", s.false_positives);
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
    for path in shared_captures() {
        let name = short_name(&path);
        if !name.contains("/nontor/") {
            continue;
        }
        let report = analyze(&path, &index);
        for f in &report.flows {
            assert_eq!(f.verdict, "none", "{name}: {} -> {} flagged: {}", f.client, f.server, f.explanation);
        }
    }
}
