//! Hostile and broken input: every case terminates quickly without a panic, keeps what was read
//! before the damage, and counts what it could not use.

mod support;

use support::*;
use torsift::analysis::{analyze_bytes, Analyzer, CaptureReport, Limits};

fn run(data: &[u8]) -> CaptureReport {
    analyze_bytes("robust", data, Limits::default())
}

const SMALL: &[&str] = &[
    "public/formats/zeek_tunnels_vxlan.pcap",
    "public/formats/pcapparser_test016-be.pcapng",
    "public/formats/zeek_ipv6-fragmented-dns.pcap",
    "public/formats/ndpi_tls_2_reasms_shb-comment.pcapng",
];

#[test]
fn every_truncation_point_of_small_real_captures() {
    for name in SMALL {
        let data = std::fs::read(shared_dir().join("captures").join(name)).unwrap();
        let whole = run(&data);
        let mut last = 0;
        for cut in 0..=data.len() {
            let r = run(&data[..cut]);
            assert!(r.packets >= last, "{name}: cut at {cut} lost packets read before it");
            assert!(r.packets <= whole.packets, "{name}: cut at {cut}");
            if let Some(e) = &r.error {
                assert!(e.offset <= cut as u64, "{name}: error offset {} beyond the cut {cut}", e.offset);
            }
            last = r.packets;
        }
        assert_eq!(last, whole.packets);
    }
}

#[test]
fn bit_flips_in_headers() {
    for name in SMALL {
        let data = std::fs::read(shared_dir().join("captures").join(name)).unwrap();
        for byte in 0..data.len().min(96) {
            for bit in 0..8 {
                let mut d = data.clone();
                d[byte] ^= 1 << bit;
                let _ = run(&d);
            }
        }
    }
}

#[test]
fn lying_pcap_record_lengths() {
    let frames: Vec<(u32, Vec<u8>)> =
        (0..5).map(|i| (i, udp_frame([10, 0, 0, 1], [10, 0, 0, 2], 1000 + i as u16, 53, b"hello"))).collect();
    let data = pcap_of(&frames);
    let second = 24 + 16 + frames[0].1.len();
    for lie in [0u32, 1, 13, 0x0100_0000, 0x7fff_ffff, u32::MAX, 1_000_000] {
        let mut d = data.clone();
        d[second + 8..second + 12].copy_from_slice(&lie.to_le_bytes());
        let r = run(&d);
        assert!(r.packets >= 1, "caplen {lie}: the record before the lie is kept");
        if lie > (d.len() - second) as u32 {
            let e = r.error.expect("a lie beyond the file is an error");
            assert_eq!(e.offset, second as u64, "caplen {lie}");
        }
    }
}

#[test]
fn lying_pcapng_block_lengths() {
    let data = std::fs::read(shared_dir().join("captures/public/formats/pcapparser_test001-le.pcapng")).unwrap();
    let shb = u32::from_le_bytes(data[4..8].try_into().unwrap()) as usize;
    for lie in [0u32, 4, 12, 13, 0xffff_fff0, data.len() as u32 * 2] {
        let mut d = data.clone();
        d[shb + 4..shb + 8].copy_from_slice(&lie.to_le_bytes());
        let r = run(&d);
        let e = r.error.unwrap_or_else(|| panic!("block length {lie} must be an error"));
        assert_eq!(e.offset, shb as u64, "block length {lie}: {}", e.message);
    }
}

#[test]
fn snaplen_extremes_and_backward_time() {
    let frames = vec![
        (200, udp_frame([10, 0, 0, 1], [10, 0, 0, 2], 1, 2, b"a")),
        (100, udp_frame([10, 0, 0, 2], [10, 0, 0, 1], 2, 1, b"b")),
    ];
    for snaplen in [0, u32::MAX] {
        let r = run(&pcap_with_header(&frames, snaplen, 1));
        assert_eq!((r.packets, r.flows.len()), (2, 1), "snaplen {snaplen}");
        assert!(r.error.is_none());
        assert_eq!(r.first_seen.unwrap().secs(), 100, "the earliest packet, though it came second");
        assert_eq!(r.last_seen.unwrap().secs(), 200);
    }
}

#[test]
fn packets_on_interfaces_that_do_not_exist() {
    let data = std::fs::read(shared_dir().join("captures/public/formats/pcapparser_test001-le.pcapng")).unwrap();
    let whole = run(&data);
    // Point every Enhanced Packet Block at interface 7 (the file declares one).
    let mut d = data.clone();
    let mut at = 0;
    while at + 12 <= d.len() {
        let t = u32::from_le_bytes(d[at..at + 4].try_into().unwrap());
        let len = u32::from_le_bytes(d[at + 4..at + 8].try_into().unwrap()) as usize;
        if t == 6 {
            d[at + 8..at + 12].copy_from_slice(&7u32.to_le_bytes());
        }
        at += len.max(12);
    }
    let r = run(&d);
    assert_eq!(r.packets, whole.packets);
    assert_eq!(r.anomalies.get("packets_on_unknown_interface").copied(), Some(whole.packets));
    assert!(r.flows.is_empty());
}

#[test]
fn deep_vlan_nesting_stops_at_the_limit() {
    let inner = udp_frame([10, 0, 0, 1], [10, 0, 0, 2], 1, 2, b"x");
    let mut frame = inner[..12].to_vec();
    for _ in 0..1000 {
        frame.extend_from_slice(&[0x81, 0x00, 0x00, 0x01]);
    }
    frame.extend_from_slice(&inner[12..]);
    let r = run(&pcap_of(&[(1, frame)]));
    assert_eq!(r.anomalies.get("encapsulation_too_deep").copied(), Some(1));
    assert_eq!(r.packets, 1);
}

/// An IPv4 fragment (offset in 8-byte units) of a UDP datagram.
fn fragment(id: u16, offset: u16, more: bool, payload: &[u8]) -> Vec<u8> {
    let mut f = udp_frame([10, 0, 0, 1], [10, 0, 0, 2], 5000, 53, b"");
    f.truncate(14 + 20);
    let total = (20 + payload.len()) as u16;
    f[16..18].copy_from_slice(&total.to_be_bytes());
    f[18..20].copy_from_slice(&id.to_be_bytes());
    let flags = if more { 0x2000 } else { 0 } | offset;
    f[20..22].copy_from_slice(&flags.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

#[test]
fn fragment_floods_are_bounded_and_counted() {
    let limits = Limits { max_pending_fragments: 64, ..Limits::default() };
    let frames: Vec<(u32, Vec<u8>)> = (0..5000u16).map(|id| (1, fragment(id, 10, true, &[0u8; 16]))).collect();
    let r = analyze_bytes("flood", &pcap_of(&frames), limits);
    assert_eq!(r.packets, 5000);
    assert_eq!(r.anomalies.get("ip_fragments_without_first").copied(), Some(5000));
}

#[test]
fn overlapping_and_out_of_order_fragments() {
    let udp_header = [0x13, 0x88, 0x00, 0x35, 0x00, 0x30, 0x00, 0x00];
    let mut first_payload = udp_header.to_vec();
    first_payload.extend_from_slice(&[1u8; 16]);
    let frames = vec![
        (1, fragment(9, 3, true, &[2u8; 16])), // later fragment first
        (1, fragment(9, 0, true, &first_payload)),
        (1, fragment(9, 2, true, &[3u8; 16])), // overlaps
        (1, fragment(9, 4, false, &[4u8; 8])),
    ];
    let r = run(&pcap_of(&frames));
    assert_eq!(r.flows.len(), 1);
    assert_eq!(r.flows[0].packets, 4, "every fragment counts toward the datagram's flow");
    assert_eq!(r.flows[0].fragments, 3);
}

#[test]
fn tcp_handshake_out_of_order_and_overlapping() {
    // A TLS ClientHello-like record split in three segments, delivered out of order, with an
    // overlapping retransmission.
    let mut hello = vec![22, 3, 1, 0, 60, 1, 0, 0, 56, 3, 3];
    hello.resize(65, 0x41);
    let c = [10, 0, 0, 1];
    let s = [10, 0, 0, 2];
    let frames = vec![
        (1, tcp_frame(c, s, 4000, 443, 100, true, b"")),
        (1, tcp_frame(c, s, 4000, 443, 131, false, &hello[30..])),
        (1, tcp_frame(c, s, 4000, 443, 101, false, &hello[..40])),
        (1, tcp_frame(c, s, 4000, 443, 111, false, &hello[10..])),
    ];
    let r = run(&pcap_of(&frames));
    assert_eq!(r.flows.len(), 1);
    assert_eq!(r.flows[0].packets, 4);
}

#[test]
fn a_scan_of_many_flows_is_bounded() {
    let frames: Vec<(u32, Vec<u8>)> = (0..20_000u32)
        .map(|i| (i, tcp_frame([10, 0, (i >> 8) as u8, i as u8], [192, 0, 2, 1], 40_000, 443, i, true, b"")))
        .collect();
    let limits = Limits { max_flows: 1000, ..Limits::default() };
    let mut a = Analyzer::new("scan", limits);
    let _ = a.push(&pcap_of(&frames));
    let r = a.finish();
    assert!(r.flows.len() <= 1000);
    assert_eq!(r.flow_table.flows_evicted + r.flows.len() as u64, 20_000);
    assert_eq!(r.flow_table.packets_in_evicted_flows + r.flows.iter().map(|f| f.packets).sum::<u64>(), 20_000);
}

#[test]
fn hostile_strings_stay_data() {
    // An SNI with markup is reported as text, exactly as sent (the page renders it as text; see
    // the e2e test), and never breaks the JSON.
    let sni = "<img src=x onerror=alert(1)>";
    let mut ext = vec![0, 0];
    let name_list_len = (sni.len() + 3) as u16;
    ext.extend_from_slice(&(name_list_len + 2).to_be_bytes());
    ext.extend_from_slice(&name_list_len.to_be_bytes());
    ext.push(0);
    ext.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    ext.extend_from_slice(sni.as_bytes());
    let mut body = vec![3, 3];
    body.extend_from_slice(&[0u8; 32]);
    body.push(0);
    body.extend_from_slice(&[0, 2, 0x13, 0x01, 1, 0]);
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut hs = vec![1, 0, (body.len() >> 8) as u8, body.len() as u8];
    hs.extend_from_slice(&body);
    let mut record = vec![22, 3, 1, (hs.len() >> 8) as u8, hs.len() as u8];
    record.extend_from_slice(&hs);
    let (c, s) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    let frames =
        vec![(1, tcp_frame(c, s, 4000, 443, 100, true, b"")), (1, tcp_frame(c, s, 4000, 443, 101, false, &record))];
    let r = run(&pcap_of(&frames));
    let json = serde_json::to_string(&r).unwrap();
    let back: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(back["flows"][0]["stream"]["sni"], sni);
    assert_eq!(r.flows[0].verdict, "none");
}
