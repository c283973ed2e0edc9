//! The capture variants torsift reads where `pcap-parser` falls short (src/analysis/capture/
//! crate_gaps.rs): a real capture rewritten, by this test's own writer, as big-endian "modified"
//! pcap, and as big-endian pcapng with obsolete Packet Blocks, nanosecond resolution, a clock
//! offset and a packet comment. tshark reads every variant; its packet count, timestamps,
//! comments and conversations are the expected values.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

const SOURCE: &str = "captures/public/formats/zeek_mixed-vlan-mpls.pcap";
/// The clock offset the pcapng variant's interface declares (`if_tsoffset`, seconds).
const TS_OFFSET: i64 = 1_000_000;

struct Record {
    secs: u32,
    micros: u32,
    orig_len: u32,
    data: Vec<u8>,
}

/// Reads a little-endian microsecond pcap (the source is one) without torsift's code.
fn read_le_pcap(bytes: &[u8]) -> (u32, Vec<Record>) {
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    assert_eq!(u32_at(0), 0xa1b2_c3d4, "the source is a little-endian microsecond pcap");
    let link_type = u32_at(20);
    let (mut at, mut records) = (24, Vec::new());
    while at < bytes.len() {
        let caplen = u32_at(at + 8) as usize;
        records.push(Record {
            secs: u32_at(at),
            micros: u32_at(at + 4),
            orig_len: u32_at(at + 12),
            data: bytes[at + 16..at + 16 + caplen].to_vec(),
        });
        at += 16 + caplen;
    }
    (link_type, records)
}

/// Big-endian "modified" pcap (Kuznetzov): 24-byte record headers.
fn modified_big_endian(link_type: u32, records: &[Record]) -> Vec<u8> {
    let mut out = vec![0xa1, 0xb2, 0xcd, 0x34];
    out.extend_from_slice(&[0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&65_535u32.to_be_bytes());
    out.extend_from_slice(&link_type.to_be_bytes());
    for r in records {
        for v in [r.secs, r.micros, r.data.len() as u32, r.orig_len, 7] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out.extend_from_slice(&[0x08, 0x00, 0, 0]); // protocol, packet type, padding
        out.extend_from_slice(&r.data);
    }
    out
}

fn be_option(out: &mut Vec<u8>, code: u16, value: &[u8]) {
    out.extend_from_slice(&code.to_be_bytes());
    out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    out.extend_from_slice(value);
    out.resize(out.len().next_multiple_of(4), 0);
}

fn be_block(out: &mut Vec<u8>, block_type: u32, body: &[u8]) {
    let len = (12 + body.len()) as u32;
    out.extend_from_slice(&block_type.to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(&len.to_be_bytes());
}

/// Big-endian pcapng: one interface with nanosecond timestamps and a clock offset, every packet
/// in an obsolete Packet Block (type 2), the second one with a comment.
fn pcapng_obsolete_big_endian(link_type: u32, records: &[Record], comment: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut shb = vec![0x1a, 0x2b, 0x3c, 0x4d, 0, 1, 0, 0];
    shb.extend_from_slice(&(-1i64).to_be_bytes());
    be_block(&mut out, 0x0a0d_0d0a, &shb);
    let mut idb = Vec::new();
    idb.extend_from_slice(&(link_type as u16).to_be_bytes());
    idb.extend_from_slice(&[0, 0]);
    idb.extend_from_slice(&65_535u32.to_be_bytes());
    be_option(&mut idb, 9, &[9]); // if_tsresol: nanoseconds
    be_option(&mut idb, 14, &TS_OFFSET.to_be_bytes()); // if_tsoffset
    be_option(&mut idb, 0, &[]);
    be_block(&mut out, 1, &idb);
    for (i, r) in records.iter().enumerate() {
        let ts = u64::from(r.secs) * 1_000_000_000 + u64::from(r.micros) * 1000;
        let mut pb = Vec::new();
        pb.extend_from_slice(&0u16.to_be_bytes()); // interface
        pb.extend_from_slice(&0u16.to_be_bytes()); // drops
        pb.extend_from_slice(&((ts >> 32) as u32).to_be_bytes());
        pb.extend_from_slice(&(ts as u32).to_be_bytes());
        pb.extend_from_slice(&(r.data.len() as u32).to_be_bytes());
        pb.extend_from_slice(&r.orig_len.to_be_bytes());
        pb.extend_from_slice(&r.data);
        pb.resize(pb.len().next_multiple_of(4), 0);
        if i == 1 {
            be_option(&mut pb, 1, comment.as_bytes());
            be_option(&mut pb, 0, &[]);
        }
        be_block(&mut out, 2, &pb);
    }
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// tshark's per-frame epoch timestamps (nanoseconds) and packet comments.
fn tshark_frames(path: &Path) -> (Vec<i128>, Vec<String>) {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(path)
        .args(["-T", "fields", "-e", "frame.time_epoch", "-e", "frame.comment"])
        .output()
        .unwrap();
    assert!(out.status.success(), "tshark cannot read {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    let (mut times, mut comments) = (Vec::new(), Vec::new());
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let (time, comment) = line.split_once('\t').unwrap_or((line, ""));
        let (secs, frac) = time.split_once('.').unwrap();
        let nanos: i128 = format!("{frac:0<9}")[..9].parse().unwrap();
        times.push(secs.parse::<i128>().unwrap() * 1_000_000_000 + nanos);
        if !comment.is_empty() {
            comments.push(comment.to_string());
        }
    }
    (times, comments)
}

#[test]
fn variants_read_as_tshark_reads_them() {
    require_tool("tshark");
    let (link_type, records) = read_le_pcap(&std::fs::read(shared_dir().join(SOURCE)).unwrap());
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("format_variants");
    std::fs::create_dir_all(&dir).unwrap();
    let comment = "handed over to the incident team";
    let variants = [
        write(&dir, "modified-big-endian.pcap", &modified_big_endian(link_type, &records)),
        write(&dir, "obsolete-blocks-big-endian.pcapng", &pcapng_obsolete_big_endian(link_type, &records, comment)),
    ];
    for path in &variants {
        let name = short_name(path);
        let report = analyze_file(path, 1000);
        assert!(report.error.is_none(), "{name}: {:?}", report.error);
        let (times, comments) = tshark_frames(path);
        assert_eq!(report.packets, times.len() as u64, "{name}: packets");
        assert_eq!(report.packets, records.len() as u64, "{name}: every record of the source");
        let first = report.first_seen.map(|t| i128::from(t.0));
        let last = report.last_seen.map(|t| i128::from(t.0));
        assert_eq!(first, times.iter().min().copied(), "{name}: first timestamp");
        assert_eq!(last, times.iter().max().copied(), "{name}: last timestamp");
        let ours: Vec<&str> = report.comments.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(ours, comments, "{name}: packet comments");
        assert_eq!(torsift_conversations(&report), tshark_conversations(path, true), "{name}: conversations");
    }
    // The offset moved the clock, as tshark applies it: both variants hold the same packets.
    let shifted = analyze_file(&variants[1], 1 << 20).first_seen.unwrap().0;
    let plain = analyze_file(&variants[0], 1 << 20).first_seen.unwrap().0;
    assert_eq!(shifted - plain, TS_OFFSET * 1_000_000_000);
}
