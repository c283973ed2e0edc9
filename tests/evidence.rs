//! Each evidence kind on byte-exact inputs cut from real captures at test time. tshark does the
//! cutting (frames and TCP payloads by its own dissection) and gives the independent facts (SNI,
//! certificate names); torsift's parsers and Tor checks run on the same bytes.
//! Provenance: shared/captures/lab (real tor 0.4.9.11 on a private network, see its README) and
//! shared/captures/public/nontor (see MANIFEST.md).

mod support;

use std::process::Command;
use support::*;
use torsift::analysis::tls::{cert, handshake};
use torsift::analysis::tor::{cells, link};

/// tshark's hex dump of bytes (`tcp.payload`, `tls.handshake.certificate`) → bytes.
fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap()).collect()
}

/// (frame, TCP payload bytes, fields…) of frames matching `filter`, from tshark.
fn cut(capture: &str, filter: &str, fields: &[&str]) -> Vec<(u64, Vec<u8>, Vec<String>)> {
    require_tool("tshark");
    let path = shared_dir().join("captures").join(capture);
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(&path).args([
        "-Y",
        filter,
        "-T",
        "fields",
        "-E",
        "separator=/t",
        "-e",
        "frame.number",
        "-e",
        "tcp.payload",
    ]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            // A tunnelled frame lists each TCP layer's payload: the innermost is last.
            let bytes = hex_bytes(cols[1].rsplit(',').next().unwrap());
            (cols[0].parse().unwrap(), bytes, cols[2..].iter().map(|s| s.to_string()).collect())
        })
        .collect()
}

fn hellos(capture: &str) -> Vec<(u64, handshake::ClientHello, String)> {
    cut(capture, "tls.handshake.type == 1 && !tcp.analysis.retransmission", &["tls.handshake.extensions_server_name"])
        .into_iter()
        .filter_map(|(frame, payload, f)| {
            let msgs = handshake::handshake_messages(&payload);
            let body = msgs.iter().find(|(t, _)| *t == 1)?.1.clone();
            Some((frame, handshake::parse_client_hello(&body)?, f[0].clone()))
        })
        .collect()
}

#[test]
fn tor_client_hellos_from_the_lab() {
    let found = hellos("lab/tor-01-bootstrap.pcap");
    assert!(found.len() >= 20, "tshark found {} ClientHellos", found.len());
    for (frame, hello, tshark_sni) in &found {
        assert_eq!(hello.sni.as_deref(), Some(tshark_sni.as_str()), "frame {frame}: SNI as tshark reads it");
        assert!(hello.alpn.is_empty());
        let tor = link::tor_client_hello(hello, |_| false);
        assert!(tor.is_some(), "frame {frame}: {tshark_sni} is tor's link ClientHello");
        assert!(tor.unwrap().ja4.starts_with("t1"), "TLS 1.2 or 1.3 JA4");
        // Had the name been looked up in DNS, it would not count.
        assert!(link::tor_client_hello(hello, |_| true).is_none());
    }
}

#[test]
fn ordinary_client_hellos_are_not_tor() {
    for capture in [
        "lab/nontor-05-control.pcap",
        "public/nontor/ndpi_443-firefox.pcap",
        "public/nontor/zeek_tls13-ech.pcap",
        "public/nontor/zeek_tls_chrome-1250-x25519-kyber.pcap",
        "public/nontor/ndpi_443-curl.pcap",
    ] {
        let found = hellos(capture);
        assert!(!found.is_empty(), "{capture}: tshark found ClientHellos");
        for (frame, hello, tshark_sni) in found {
            if !tshark_sni.is_empty() {
                assert_eq!(hello.sni.as_deref(), Some(tshark_sni.as_str()), "{capture} frame {frame}");
            }
            assert!(link::tor_client_hello(&hello, |_| false).is_none(), "{capture} frame {frame}: {tshark_sni}");
        }
    }
}

/// Certificate chains as tshark reassembles and cuts them (DER of each certificate), with the
/// names tshark reads from them.
fn certificates(capture: &str) -> Vec<(u64, Vec<cert::Certificate>, String)> {
    cut(capture, "tls.handshake.type == 11", &["tls.handshake.certificate", "x509sat.uTF8String"])
        .into_iter()
        .map(|(frame, _, f)| {
            let chain = f[0]
                .split(',')
                .filter_map(|hex| {
                    let der: Vec<u8> = hex_bytes(hex);
                    cert::parse_certificate(&der)
                })
                .collect();
            (frame, chain, f.get(1).cloned().unwrap_or_default())
        })
        .collect()
}

#[test]
fn tor_link_certificate_from_the_lab_tls12_relay() {
    // middle2 ran with OpenSSL capped at TLS 1.2, so its link certificate is visible.
    let found = certificates("lab/tor-01-bootstrap.pcap");
    assert!(!found.is_empty(), "tshark found certificate messages");
    for (frame, chain, tshark_names) in found {
        let leaf = chain.first().unwrap_or_else(|| panic!("frame {frame}: no certificate parsed"));
        // tshark lists issuer then subject names: "www.<x>.com,www.<y>.net"
        let (issuer, subject) = tshark_names.split_once(',').unwrap();
        assert_eq!(leaf.subject_cn.as_deref(), Some(subject), "frame {frame}");
        assert_eq!(leaf.issuer_cn.as_deref(), Some(issuer), "frame {frame}");
        let tor = link::tor_certificate(&chain)
            .unwrap_or_else(|| panic!("frame {frame}: {leaf:?} is tor's link certificate"));
        assert!(tor.not_before.unwrap().ends_with("T00:00:00Z"));
    }
}

#[test]
fn ordinary_certificates_are_not_tor() {
    for capture in [
        "lab/nontor-05-control.pcap",
        "public/nontor/ndpi_selfsigned_null-loopback.pcap",
        "public/nontor/ndpi_443-curl.pcap",
    ] {
        let found = certificates(capture);
        assert!(!found.is_empty(), "{capture}: tshark found certificates");
        for (frame, chain, names) in found {
            assert!(!chain.is_empty(), "{capture} frame {frame}: parsed");
            assert!(link::tor_certificate(&chain).is_none(), "{capture} frame {frame}: {names}");
        }
    }
}

#[test]
fn cell_sized_records_need_the_pattern() {
    use torsift::analysis::tls::records::RecordStats;
    let stats = |lengths: Vec<(u16, u32)>| RecordStats {
        application_data_records: lengths.iter().map(|(_, n)| u64::from(*n)).sum(),
        application_data_lengths: lengths,
        ..Default::default()
    };
    // A Tor flow seen mid-stream in tor-04-mixed.pcap (lengths as torsift and tshark's
    // tls.record.length agree): mostly 4065 and 531 with chunk tails.
    let tor = cells::cell_records(
        &stats(vec![(4065, 20), (531, 11), (595, 11), (81, 1)]),
        &stats(vec![(531, 14), (1045, 2), (1559, 1)]),
    );
    assert!(tor.is_some_and(|c| !c.few && c.share > 0.75));
    // Ordinary HTTPS downloads (nontor-05-control.pcap): full 16401-byte records.
    assert!(cells::cell_records(&stats(vec![(16401, 64), (266, 2), (38, 1)]), &stats(vec![(19, 1), (69, 1)])).is_none());
    // One stray 531 among many ordinary records is not enough.
    assert!(cells::cell_records(&stats(vec![(531, 1), (1200, 30)]), &stats(vec![])).is_none());
}

/// tor's TLS stack across versions: the lab's tor 0.4.9 (OpenSSL 3), and the public captures of
/// 2013 (tor 0.2.4-era Firefox-8 list with 0xfeff) and 2017 (OpenSSL 1.0.2, no ChaCha20).
#[test]
fn tor_stack_traits_across_tor_versions() {
    for (capture, expect_groups) in [
        ("lab/tor-01-bootstrap.pcap", true),
        ("public/tor/ndpi_tor_2013-11-07.pcap", false),
        ("public/tor/gregcusack_only_tor_traffic_1_2017-09-27.pcap", false),
    ] {
        let found = hellos(capture);
        assert!(!found.is_empty(), "{capture}: tshark found ClientHellos");
        for (frame, hello, tshark_sni) in found {
            let traits = link::tor_stack_traits(&hello);
            assert!(traits.contains(&"tor-cipher-list"), "{capture} frame {frame} ({tshark_sni}): {traits:?}");
            assert_eq!(traits.contains(&"tor-groups"), expect_groups, "{capture} frame {frame}: {traits:?}");
        }
    }
}

#[test]
fn ordinary_client_hellos_have_no_tor_stack_traits() {
    for path in shared_captures() {
        let name = short_name(&path);
        if !name.contains("nontor") || !name.contains(".pcap") {
            continue;
        }
        let capture = name.trim_start_matches("captures/");
        for (frame, hello, sni) in hellos(capture) {
            assert!(link::tor_stack_traits(&hello).is_empty(), "{capture} frame {frame} ({sni})");
        }
    }
}

/// The SNI label model: tor's names of 8 or more characters from the lab and the public
/// captures look random; brand and dictionary names look like words (none of these is in the
/// training word list as such: it has no brand names).
#[test]
fn sni_label_randomness() {
    use torsift::analysis::tor::name_model::{looks_random, word_likeness};
    let mut tor_names = Vec::new();
    for capture in ["lab/tor-01-bootstrap.pcap", "public/tor/ndpi_tor_2013-11-07.pcap"] {
        tor_names.extend(hellos(capture).into_iter().map(|(_, _, sni)| sni));
    }
    let labels: Vec<&str> = tor_names.iter().map(|s| s.trim_start_matches("www.").trim_end_matches(".com")).collect();
    let long: Vec<&&str> = labels.iter().filter(|l| l.len() >= 8).collect();
    assert!(long.len() >= 20, "{} long tor labels", long.len());
    for l in long {
        assert!(looks_random(l), "{l}: {:?}", word_likeness(l));
    }
    for name in ["stackoverflow", "wikipedia", "marketplace", "dragonfly", "sunshine", "pinterest", "linkedin"] {
        assert!(!looks_random(name), "{name}: {:?}", word_likeness(name));
        assert!(word_likeness(name).unwrap() > 0.5, "{name}: {:?}", word_likeness(name));
    }
    // Short names are not judged, whatever they score.
    for name in ["google", "amazon", "reddit", "github", "cnn", "imdb"] {
        assert!(!looks_random(name), "{name}");
    }
}

/// Tor Browser's built-in bridges, read straight from the configuration files (string search,
/// not torsift's parser): the first file naming `bridge` and the first later file of the
/// complete generation (`pt_config.json`) that does not.
fn builtin_listing(bridge: &str) -> (String, Option<String>) {
    let dir = shared_dir().join("relays/bridges");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".md"))
        .collect();
    files.sort();
    let names = |f: &String| std::fs::read_to_string(dir.join(f)).unwrap().contains(bridge);
    let first = files.iter().position(names).expect("the bridge is in a configuration");
    let last = files.iter().rposition(names).unwrap();
    let removed = files[last + 1..].iter().find(|f| f.ends_with("pt_config.json")).map(|f| f[..10].to_string());
    (files[first][..10].to_string(), removed)
}

fn capture_at(date: &str, server: [u8; 4], port: u16) -> Vec<u8> {
    use torsift::analysis::time::Timestamp;
    let t = Timestamp::parse_utc(&format!("{date}T12:00:00Z")).unwrap().secs() as u32;
    let client = [10, 0, 0, 5];
    // obfs4's client handshake: random bytes (here a fixed pseudo-random pattern).
    let hello: Vec<u8> = (0..1200u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    pcap_of(&[
        (t, tcp_frame(client, server, 40_000, port, 1000, true, &[])),
        (t, tcp_frame(client, server, 40_000, port, 1001, false, &hello)),
    ])
}

#[test]
fn builtin_bridge_is_dated_against_the_capture() {
    // An obfs4 bridge Tor Browser shipped for years and removed in 2025-12 (relays/bridges/README.md).
    let (address, port, fingerprint) = ([192, 95, 36, 142], 443, "CDF2E852BF539B82BD10E27E9115A31734E378C2");
    let (first, removed) = builtin_listing(&format!("obfs4 192.95.36.142:443 {fingerprint}"));
    let removed = removed.expect("removed before the newest configuration");
    let bridge_of = |report: &torsift::analysis::report::CaptureReport| {
        let flow = report.flows.iter().find(|f| f.server.port() == port).unwrap().clone();
        let e = flow.evidence.iter().find(|e| e["kind"] == "builtin-bridge").cloned();
        (flow, e)
    };

    let listed = analyze_chunked("listed", &capture_at("2020-06-01", address, port), 1 << 20);
    let (flow, e) = bridge_of(&listed);
    let e = e.expect("builtin-bridge evidence on a date the bridge was listed");
    assert_eq!(e["fingerprint"], fingerprint);
    assert_eq!(e["transport"], "obfs4");
    assert_eq!(e["first_listed"], first.as_str());
    assert_eq!(e["removed"], removed.as_str());
    assert_eq!(e["day_gap"], 0);
    assert_eq!((flow.verdict, flow.confidence, flow.transport), ("tor-transport", Some("high"), Some("obfs4")));

    let later = analyze_chunked("later", &capture_at("2029-01-01", address, port), 1 << 20);
    let (flow, e) = bridge_of(&later);
    let e = e.expect("the nearest listing is still named");
    let days_after = torsift::analysis::time::Timestamp::parse_utc("2029-01-01T00:00:00Z").unwrap().day_number()
        - torsift::analysis::time::Timestamp::parse_utc(&format!("{removed}T00:00:00Z")).unwrap().day_number()
        + 1;
    assert_eq!(e["day_gap"], days_after);
    assert_eq!((flow.verdict, flow.confidence), ("tor-transport", Some("low")));
    assert!(flow.explanation.contains(&format!("{days_after} days after it was removed")), "{}", flow.explanation);

    // The same address on another port is not the bridge.
    let other_port = analyze_chunked("other-port", &capture_at("2020-06-01", address, 8443), 1 << 20);
    assert!(other_port.flows.iter().all(|f| f.evidence.iter().all(|e| e["kind"] != "builtin-bridge")));
}
