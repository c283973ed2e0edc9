//! Shared test helpers: where the shared data lives, running torsift in-process, and tshark as
//! the independent oracle for packets, flows and bytes.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use torsift::analysis::{Analyzer, CaptureReport, Limits};

/// `../shared` beside the repository (read-only; never written).
pub fn shared_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    assert!(dir.is_dir(), "../shared (captures, relay lists) must sit beside the repository: {}", dir.display());
    dir
}

/// Every capture file under `shared/captures` (sorted), skipping documentation and labels.
pub fn shared_captures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![shared_dir().join("captures")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                // Lab side files: directory documents, configurations, TLS keys, logs, tshark dumps.
                if !["directory-docs", "torrc", "keys", "logs", "tshark"].iter().any(|d| path.ends_with(d)) {
                    stack.push(path);
                }
            } else if !matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("md" | "json" | "txt" | "pem" | "env" | "conf" | "log")
            ) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

pub fn short_name(path: &Path) -> String {
    let s = path.to_string_lossy();
    s.split("captures/").last().unwrap_or(&s).to_string()
}

/// Runs the core over a file, pushing it in chunks of `chunk` bytes.
pub fn analyze_file(path: &Path, chunk: usize) -> CaptureReport {
    let data = std::fs::read(path).unwrap();
    analyze_chunked(&short_name(path), &data, chunk)
}

pub fn analyze_chunked(name: &str, data: &[u8], chunk: usize) -> CaptureReport {
    let mut a = Analyzer::new(name, Limits::default());
    for piece in data.chunks(chunk.max(1)) {
        if a.push(piece).is_err() {
            break;
        }
    }
    a.finish()
}

pub fn require_tool(tool: &str) {
    let ok = Command::new(tool).arg("--version").output().map(|o| o.status.success()).unwrap_or(false);
    assert!(ok, "`{tool}` is the test oracle and must be installed (apt-get install tshark); .ci/run installs it");
}

/// `capinfos -c -M`: the packet count, or None when capinfos cannot read the file.
pub fn capinfos_packets(path: &Path) -> Option<u64> {
    let out = Command::new("capinfos").args(["-c", "-M"]).arg(path).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().find_map(|l| l.strip_prefix("Number of packets:")).and_then(|v| v.trim().parse().ok())
}

/// A conversation as both sides name it: protocol and the two endpoints, sorted.
pub type ConvKey = (String, String, String);

pub fn conv_key(proto: &str, a: &str, b: &str) -> ConvKey {
    let (a, b) = (normalise_endpoint(a), normalise_endpoint(b));
    if a <= b {
        (proto.to_string(), a, b)
    } else {
        (proto.to_string(), b, a)
    }
}

/// "1.2.3.4:80" and "[fe80::1]:80" and tshark's "fe80::1:80" all become "ip|port".
fn normalise_endpoint(e: &str) -> String {
    let (addr, port) = e.rsplit_once(':').unwrap();
    let addr = addr.trim_start_matches('[').trim_end_matches(']');
    let addr: std::net::IpAddr = addr.parse().unwrap_or_else(|_| panic!("bad address in {e}"));
    format!("{addr}|{port}")
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub frames: u64,
    pub bytes: u64,
}

/// Frame counts per conversation from `tshark -q -z conv,tcp -z conv,udp` (its byte columns are
/// rounded to kB for big flows, so only frames are taken from here).
pub fn tshark_conv_frames(path: &Path, defragment: bool) -> BTreeMap<ConvKey, u64> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(path)
        .args(defrag_args(defragment))
        .args(["-q", "-z", "conv,tcp", "-z", "conv,udp"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut proto = "";
    let mut map = BTreeMap::new();
    for line in text.lines() {
        if line.starts_with("TCP Conversations") {
            proto = "tcp";
        } else if line.starts_with("UDP Conversations") {
            proto = "udp";
        } else if line.contains("<->") {
            let t: Vec<&str> = line.split_whitespace().collect();
            let frames: u64 = t[9].parse().unwrap();
            *map.entry(conv_key(proto, t[0], t[2])).or_insert(0) += frames;
        }
    }
    map
}

/// Exact frames and on-wire bytes per conversation, rebuilt from tshark's per-frame fields the
/// way its conversation table counts them: every TCP/UDP layer of a frame (outer and tunnelled)
/// adds the frame once to the conversation of that layer and of the IP layer just above it.
pub fn tshark_conversations(path: &Path, defragment: bool) -> BTreeMap<ConvKey, Counts> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(path)
        .args(defrag_args(defragment))
        .args(["-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"])
        .args(["-e", "frame.len", "-e", "frame.protocols"])
        .args(["-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst"])
        .args(["-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "udp.srcport", "-e", "udp.dstport"])
        .args(["-e", "tcp.hdr_len", "-e", "tcp.urgent_pointer"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut map: BTreeMap<ConvKey, Counts> = BTreeMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let list = |i: usize| -> Vec<&str> {
            f.get(i).map(|s| s.split(',').filter(|x| !x.is_empty()).collect()).unwrap_or_default()
        };
        let len: u64 = f[0].parse().unwrap();
        let (ip_src, ip_dst, ip6_src, ip6_dst) = (list(2), list(3), list(4), list(5));
        let (tcp_s, tcp_d, udp_s, udp_d) = (list(6), list(7), list(8), list(9));
        // tshark stops before its conversation tap when a TCP header is cut short (its last
        // fixed field, the urgent pointer, is missing) or claims a length below 20.
        let (tcp_hlen, tcp_urg) = (list(10), list(11));
        let (mut n4, mut n6, mut nt, mut nu) = (0, 0, 0, 0);
        let mut last_ip: Option<(String, String)> = None;
        for layer in f[1].split(':') {
            match layer {
                "ip" if n4 < ip_src.len() => {
                    last_ip = Some((ip_src[n4].to_string(), ip_dst[n4].to_string()));
                    n4 += 1;
                }
                "ipv6" if n6 < ip6_src.len() => {
                    last_ip = Some((ip6_src[n6].to_string(), ip6_dst[n6].to_string()));
                    n6 += 1;
                }
                // A transport header quoted inside an ICMP error is not a conversation packet.
                "icmp" | "icmpv6" => break,
                "tcp" | "udp" => {
                    let (srcs, dsts, n) =
                        if layer == "tcp" { (&tcp_s, &tcp_d, &mut nt) } else { (&udp_s, &udp_d, &mut nu) };
                    let bogus = layer == "tcp"
                        && (tcp_hlen.get(*n).and_then(|h| h.parse::<u32>().ok()).is_none_or(|h| h < 20)
                            || tcp_urg.len() < tcp_hlen.len());
                    if let (false, Some((s, d)), Some(sp), Some(dp)) = (bogus, &last_ip, srcs.get(*n), dsts.get(*n)) {
                        let key = conv_key(layer, &endpoint(s, sp), &endpoint(d, dp));
                        let c = map.entry(key).or_default();
                        c.frames += 1;
                        c.bytes += len;
                    }
                    *n += 1;
                }
                _ => {}
            }
        }
    }
    map
}

fn endpoint(addr: &str, port: &str) -> String {
    if addr.contains(':') {
        format!("[{addr}]:{port}")
    } else {
        format!("{addr}:{port}")
    }
}

/// torsift's flows in the same shape.
pub fn torsift_conversations(report: &CaptureReport) -> BTreeMap<ConvKey, Counts> {
    let mut map: BTreeMap<ConvKey, Counts> = BTreeMap::new();
    for f in &report.flows {
        let c = map.entry(conv_key(f.proto, &f.client.to_string(), &f.server.to_string())).or_default();
        c.frames += f.packets;
        c.bytes += f.bytes;
    }
    map
}

/// tshark options for IP reassembly: on (its default) or off, where the first fragment of a
/// datagram is dissected as TCP/UDP and later fragments as data.
fn defrag_args(defragment: bool) -> Vec<&'static str> {
    if defragment {
        vec![]
    } else {
        vec!["-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE"]
    }
}

/// torsift's flows without the non-first fragments it attributed, for comparison with tshark
/// running without reassembly.
pub fn torsift_conversations_without_fragments(report: &CaptureReport) -> BTreeMap<ConvKey, Counts> {
    let mut map: BTreeMap<ConvKey, Counts> = BTreeMap::new();
    for f in &report.flows {
        let c = map.entry(conv_key(f.proto, &f.client.to_string(), &f.server.to_string())).or_default();
        c.frames += f.packets - f.fragments;
        c.bytes += f.bytes - f.fragment_bytes;
    }
    map
}

/// A little-endian microsecond pcap of Ethernet frames with the given (seconds, frame) records.
pub fn pcap_of(frames: &[(u32, Vec<u8>)]) -> Vec<u8> {
    pcap_with_header(frames, 65_535, 1)
}

pub fn pcap_with_header(frames: &[(u32, Vec<u8>)], snaplen: u32, link_type: u32) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&snaplen.to_le_bytes());
    out.extend_from_slice(&link_type.to_le_bytes());
    for (secs, frame) in frames {
        out.extend_from_slice(&secs.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(frame);
    }
    out
}

/// An Ethernet/IPv4/UDP frame.
pub fn udp_frame(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4(src, dst, 64)
        .udp(sport, dport)
        .write(&mut out, payload)
        .unwrap();
    out
}

/// An Ethernet/IPv4/TCP frame.
pub fn tcp_frame(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, seq: u32, syn: bool, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let b = etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4(src, dst, 64)
        .tcp(sport, dport, seq, 65_535);
    let b = if syn { b.syn() } else { b.ack(1) };
    b.write(&mut out, payload).unwrap();
    out
}

/// The lab network's own consensus documents (ns and microdesc flavours), parsed.
pub fn lab_relay_lists() -> Vec<torsift::analysis::tor::relays::list::RelayList> {
    relay_lists_in(&shared_dir().join("captures/lab/directory-docs"))
}

/// The consensus documents (ns and microdesc) a lab run left in its `directory-docs/`.
pub fn relay_lists_in(dir: &Path) -> Vec<torsift::analysis::tor::relays::list::RelayList> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with("cached-consensus") || name.ends_with("cached-microdesc-consensus") {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push(torsift::analysis::tor::relays::list::parse(&name, &text).unwrap());
        }
    }
    out.sort_by(|a, b| a.source.cmp(&b.source));
    out
}
