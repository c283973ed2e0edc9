//! The relay index on real documents: the lab network's own consensus documents against the
//! lab labels, the public Tor captures against the dated lists that shared/relays/README.md
//! names for them, and the non-Tor captures against every list.

mod support;

use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use support::*;
use torsift::analysis::tor::relays::{key, list, RelayIndex};
use torsift::analysis::{Analyzer, CaptureReport, Limits};

fn load(path: &Path) -> list::RelayList {
    let text = std::fs::read_to_string(path).unwrap();
    list::parse(&path.file_name().unwrap().to_string_lossy(), &text).unwrap()
}

fn analyze_with(path: &Path, index: RelayIndex) -> CaptureReport {
    let mut a = Analyzer::with_relays(short_name(path), Limits::default(), Arc::new(index));
    a.push(&std::fs::read(path).unwrap()).ok();
    a.finish()
}

#[test]
fn lab_consensus_names_every_relay_the_labels_know() {
    let labels: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(shared_dir().join("captures/lab/labels.json")).unwrap()).unwrap();
    let nodes: BTreeMap<String, (String, String)> = labels["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["nickname"].as_str().unwrap().to_string(),
                (n["nickname"].as_str().unwrap().to_string(), n["fingerprint"].as_str().unwrap_or("").to_string()),
            )
        })
        .collect();
    let lists = lab_relay_lists();
    assert_eq!(lists.len(), 4, "the lab has four consensus documents");
    for l in &lists {
        assert!(l.day.is_some(), "{} has a date", l.source);
    }
    let mut checked = 0;
    for (capture, truth) in labels["captures"].as_object().unwrap() {
        let mut index = RelayIndex::default();
        index.add_lists(&lists).unwrap();
        let report = analyze_with(&shared_dir().join("captures/lab").join(capture), index);
        for conv in truth["conversations"].as_array().unwrap() {
            let published = matches!(conv["server_role"].as_str(), Some("authority" | "relay" | "exit"));
            if conv["label"] != "tor-or" || !published || conv["host_internal"] == true {
                continue;
            }
            let (client, server) = (conv["client"].as_str().unwrap(), conv["server"].as_str().unwrap());
            let flow = report
                .flows
                .iter()
                .find(|f| {
                    f.proto == "tcp"
                        && conv_key("tcp", &f.client.to_string(), &f.server.to_string())
                            == conv_key("tcp", client, server)
                })
                .unwrap_or_else(|| panic!("{capture}: no flow {client} -> {server}"));
            let m =
                flow.evidence.iter().find(|e| e["kind"] == "relay-orport" && e["address"] == server).unwrap_or_else(
                    || panic!("{capture}: {client} -> {server} has no ORPort match: {:?}", flow.evidence),
                );
            let (nick, fp) = &nodes[conv["server_node"].as_str().unwrap()];
            assert_eq!(m["nickname"], nick.as_str(), "{capture}: {server}");
            assert_eq!(m["fingerprint"], fp.as_str(), "{capture}: {server}");
            assert_eq!(flow.verdict, "tor");
            checked += 1;
        }
    }
    assert!(checked > 40, "only {checked} lab ORPort conversations checked");
}

/// The capture, the list shared/relays/README.md names for its date, and the relay endpoints
/// that list confirms (from that README).
const PUBLIC: &[(&str, &str, &[&str])] = &[
    (
        "tor/ndpi_tor_2013-11-07.pcap",
        "consensus/2015-10-10-02-00-00-consensus-microdesc",
        &["38.229.70.53", "62.210.137.230"],
    ),
    (
        "tor/gregcusack_only_tor_traffic_1_2017-09-27.pcap",
        "iplists/gregcusack_2017-09-27_tor_ips.txt",
        &["149.56.141.138"],
    ),
    ("tor/linkia_tor_2019-11-02.pcapng", "iplists/secops_2019-11-02T0030Z_tor-nodes.lst", &["217.160.40.194"]),
    (
        "tor/linkia_wikipedia-via-tor_2019-11-02.pcapng",
        "iplists/secops_2019-11-02T0030Z_tor-nodes.lst",
        &["217.160.40.194"],
    ),
    (
        "tor/linkia_neverssl-via-tor_2019-11-02.pcapng",
        "iplists/secops_2019-11-02T0030Z_tor-nodes.lst",
        &["217.160.40.194"],
    ),
    (
        "tor/ninjawill543_tor-syn-only_2022-10-26.pcapng",
        "consensus/2022-11-19-10-00-00-consensus",
        &["23.88.75.121:19001"],
    ),
];

#[test]
fn public_tor_captures_match_their_dated_lists() {
    for (capture, list_file, endpoints) in PUBLIC {
        let path = shared_dir().join("captures/public").join(capture);
        let mut index = RelayIndex::default();
        index.add_lists(&[load(&shared_dir().join("relays").join(list_file))]).unwrap();
        let report = analyze_with(&path, index);
        for endpoint in *endpoints {
            let matched = report.flows.iter().any(|f| {
                let server = f.server.to_string();
                (server == *endpoint || f.server.ip().to_string() == *endpoint)
                    && f.evidence
                        .iter()
                        .any(|e| e["endpoint"] == "server" && e["kind"].as_str().unwrap().starts_with("relay-"))
            });
            assert!(matched, "{capture}: {endpoint} not matched in {list_file}");
        }
        if capture.contains("ninjawill") {
            let f = &report.flows[0];
            assert_eq!(f.evidence[0]["kind"], "relay-orport");
            assert_eq!(f.evidence[0]["nickname"], "SanMarino");
            assert_eq!(f.evidence[0]["day_gap"], 24, "the list is 24 days after the SYN");
        }
    }
}

#[test]
fn built_in_index_holds_every_shared_snapshot_with_its_date() {
    let index = RelayIndex::builtin();
    let mut files = Vec::new();
    for dir in ["consensus", "onionoo", "tordnsel", "exits", "iplists"] {
        for e in std::fs::read_dir(shared_dir().join("relays").join(dir)).unwrap() {
            files.push(format!("{dir}/{}", e.unwrap().file_name().to_string_lossy()));
        }
    }
    files.sort();
    let mut sources: Vec<String> = index.snapshots().map(|s| s.source.clone()).collect();
    sources.sort();
    assert_eq!(sources, files, "run relays/fetch before building");
    // Counts and dates from shared/relays/README.md.
    let expect = [
        ("consensus/2022-11-19-10-00-00-consensus", 6088, "2022-11-19 10:00:00"),
        ("consensus/2024-05-17-17-00-00-consensus-microdesc", 7195, "2024-05-17 17:00:00"),
        ("consensus/2015-10-10-02-00-00-consensus-microdesc", 6498, "2015-10-10 02:00:00"),
        ("onionoo/2026-08-22T1100Z_running-relays_fingerprint-oraddr-country.json", 10157, "2026-08-22 11:00:00"),
        ("tordnsel/2024-03-12-exit-addresses", 2372, "2024-03-12 14:00:00"),
        ("exits/2026-08-22T1618Z_tor-exit-nodes.list", 1372, "2026-08-22T16:18:35.025Z"),
    ];
    for (source, relays, date) in expect {
        let s = index.snapshots().find(|s| s.source == source).unwrap();
        assert_eq!((s.relays, s.date.as_deref()), (relays, Some(date)), "{source}");
    }
}

#[test]
fn non_tor_captures_match_no_relay_at_all() {
    let index = Arc::new(RelayIndex::builtin());
    assert!(!index.is_empty());
    for path in shared_captures() {
        let name = short_name(&path);
        if !(name.contains("/nontor/") || name.contains("/formats/")) {
            continue;
        }
        let mut a = Analyzer::with_relays(&name, Limits::default(), index.clone());
        a.push(&std::fs::read(&path).unwrap()).ok();
        let report = a.finish();
        for f in &report.flows {
            let relay = f.evidence.iter().find(|e| e["kind"].as_str().unwrap().starts_with("relay-"));
            assert!(relay.is_none(), "{name}: {} -> {} matched {:?}", f.client, f.server, relay);
            assert_eq!(f.verdict, "none", "{name}");
        }
    }
}

#[test]
fn malformed_lines_name_file_and_line() {
    let text = "network-status-version 3\nvalid-after 2024-01-01 00:00:00\nr good AAoQ1DAR6kkoo19hBAX5K0QztNw 2038-01-01 00:00:00 1.2.3.4 9001 0\nr bad AAoQ1DAR6kkoo19hBAX5K0QztNw 2038-01-01 00:00:00 1.2.3.999 9001 0\n";
    let e = list::parse("cons.txt", text).unwrap_err();
    assert_eq!(e.to_string(), "cons.txt:4: `1.2.3.999` is not an IP address");
    let e = list::parse("cons.txt", "network-status-version 3\nr short x\n").unwrap_err();
    assert_eq!(e.line, 2);
    let e = list::parse("ips.lst", "# list\n1.2.3.4\nnot-an-ip\n").unwrap_err();
    assert_eq!(e.to_string(), "ips.lst:3: `not-an-ip` is not an IP address");
    let e = list::parse("x.json", "{\"relays\": [ {\"or_addresses\": [\"1.2.3.4\"]} ]}").unwrap_err();
    assert!(e.reason.contains("address:port"), "{e}");
}

proptest! {
    #[test]
    fn key_encoding_round_trips_and_keeps_order(a in any::<[u8; 16]>(), b in any::<[u8; 16]>(), pa: u16, pb: u16, v4a: bool, v4b: bool) {
        let ip = |bytes: [u8; 16], v4: bool| -> std::net::IpAddr {
            if v4 { std::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).into() } else { std::net::Ipv6Addr::from(bytes).into() }
        };
        let (ia, ib) = (ip(a, v4a), ip(b, v4b));
        let (ka, kb) = (key::encode(ia, pa), key::encode(ib, pb));
        let canon = |i: std::net::IpAddr| match i { std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(i, Into::into), _ => i };
        prop_assert_eq!(key::decode(&ka), Some((canon(ia), pa)));
        // Same family: byte order of keys is the numeric order of (address, port).
        if canon(ia).is_ipv4() == canon(ib).is_ipv4() {
            prop_assert_eq!(ka.cmp(&kb), (canon(ia), pa).cmp(&(canon(ib), pb)));
        }
        prop_assert!(ka.starts_with(&key::address_prefix(ia)));
    }
}
