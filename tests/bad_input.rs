//! Bad input: clear errors naming the byte offset, never a panic, and nothing read before the
//! damage is lost.

mod support;

use support::*;
use torsift::analysis::{analyze_bytes, Limits};
use torsift::synth::{generate, SynthFormat, SynthSpec};

fn edge(name: &str) -> std::path::PathBuf {
    shared_dir().join("captures/public/edge").join(name)
}

#[test]
fn not_a_capture_is_refused_at_offset_zero() {
    let r = analyze_file(&edge("pcapparser_err-eof_not-a-capture.bin"), 4096);
    let e = r.error.expect("an error");
    assert_eq!(e.offset, 0);
    assert!(e.message.contains("not a pcap or pcapng capture"), "{}", e.message);
    assert_eq!(r.format, "unknown");
    assert_eq!(r.packets, 0);
}

#[test]
fn record_longer_than_the_file_is_reported_as_cut_short() {
    // The only record claims 524501 captured bytes in a 239-byte file (tshark: "cut short in the
    // middle of a packet"). The record starts right after the 24-byte header.
    let r = analyze_file(&edge("ndpi_fuzz-2021-10-13_truncated-nsec-null.pcap"), 4096);
    let e = r.error.expect("an error");
    assert_eq!(e.offset, 24);
    assert!(e.message.contains("cut short"), "{}", e.message);
    assert_eq!(r.packets, 0);
}

#[test]
fn empty_captures_are_fine() {
    for f in ["tcpdump_empty.pcap", "tcpdump_empty.pcapng"] {
        let r = analyze_file(&edge(f), 4096);
        assert!(r.error.is_none(), "{f}: {:?}", r.error);
        assert_eq!((r.packets, r.flows.len()), (0, 0), "{f}");
    }
    let r = analyze_bytes("zero", &[], Limits::default());
    assert!(r.error.unwrap().message.contains("empty"));
}

/// Cutting a capture anywhere keeps every packet before the cut: the packet count is exactly
/// the number of records that end at or before the cut, and the error points at the cut record.
#[test]
fn every_truncation_point_keeps_what_came_before() {
    let mut data = Vec::new();
    generate(&SynthSpec { format: SynthFormat::Pcap, packets: 20, flows: 5, payload: 100, seed: 3 }, &mut data)
        .unwrap();
    // Record boundaries from the pcap framing itself: 24-byte header, then 16 + caplen each.
    let mut ends = vec![];
    let mut at = 24;
    while at < data.len() {
        let caplen = u32::from_le_bytes(data[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + caplen;
        ends.push(at);
    }
    for cut in 0..data.len() {
        let r = analyze_bytes("cut", &data[..cut], Limits::default());
        let complete = ends.iter().filter(|&&e| e <= cut).count() as u64;
        assert_eq!(r.packets, complete, "cut at {cut}");
        let boundary = cut == 24 || ends.contains(&cut);
        assert_eq!(r.error.is_none(), boundary, "cut at {cut}: {:?}", r.error);
        if let Some(e) = r.error {
            let start = if cut < 24 { 0 } else { ends.iter().copied().filter(|&e| e <= cut).max().unwrap_or(24) };
            assert_eq!(e.offset, start as u64, "cut at {cut}");
        }
    }
}

#[test]
fn pcapng_truncations_and_lying_lengths() {
    let data =
        std::fs::read(shared_dir().join("captures/public/formats/ndpi_rtp_pkt-comments_2-ifaces.pcapng")).unwrap();
    let whole = analyze_bytes("whole", &data, Limits::default());
    assert!(whole.error.is_none());
    for cut in (0..data.len()).step_by(97) {
        let r = analyze_bytes("cut", &data[..cut], Limits::default());
        assert!(r.packets <= whole.packets);
        if r.error.is_none() {
            assert!(cut == 0 || r.packets > 0 || cut < 200, "cut at {cut}");
        }
    }
    // Make the first block's trailing length lie.
    let mut lying = data.clone();
    let len = u32::from_le_bytes(lying[4..8].try_into().unwrap()) as usize;
    lying[len - 4] ^= 0x10;
    let r = analyze_bytes("lying", &lying, Limits::default());
    let e = r.error.unwrap();
    assert_eq!(e.offset, 0);
    assert!(e.message.contains("lies"), "{}", e.message);
    // A block length that is absurd.
    let mut huge = data.clone();
    let second = len;
    huge[second + 4..second + 8].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    let r = analyze_bytes("huge", &huge, Limits::default());
    let e = r.error.unwrap();
    assert_eq!(e.offset, second as u64);
    assert!(e.message.contains("limit"), "{}", e.message);
}

#[test]
fn truncated_gzip_keeps_packets_and_says_so() {
    let path = shared_dir().join("captures/public/formats/zeek_tls-fragmented-handshake.pcap.gz");
    let data = std::fs::read(&path).unwrap();
    let whole = analyze_bytes("gz", &data, Limits::default());
    assert!(whole.error.is_none(), "{:?}", whole.error);
    assert_eq!(whole.format, "pcap.gz");
    let r = analyze_bytes("gz-cut", &data[..data.len() / 2], Limits::default());
    let e = r.error.expect("an error for a cut gzip");
    assert!(e.in_decompressed || e.message.contains("gzip"), "{e:?}");
    assert!(r.packets > 0 && r.packets < whole.packets, "{} of {}", r.packets, whole.packets);
    let mut corrupt = data.clone();
    for b in corrupt.iter_mut().skip(200).take(64) {
        *b ^= 0x5a;
    }
    let r = analyze_bytes("gz-corrupt", &corrupt, Limits::default());
    assert!(r.error.is_some());
}

#[test]
fn garbage_never_panics() {
    // Deterministic pseudo-random garbage behind each valid magic.
    let magics: [&[u8]; 5] = [
        &[0xd4, 0xc3, 0xb2, 0xa1],
        &[0xa1, 0xb2, 0x3c, 0x4d],
        &[0x34, 0xcd, 0xb2, 0xa1],
        &[0x0a, 0x0d, 0x0d, 0x0a],
        &[0x1f, 0x8b],
    ];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for magic in magics {
        for len in [0usize, 3, 20, 24, 100, 5000] {
            let mut data = magic.to_vec();
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                data.push(x as u8);
            }
            let _ = analyze_bytes("garbage", &data, Limits::default());
        }
    }
}
