//! Tor's TLS inside TLS (WebTunnel's shape, `tls_tunnel.rs`), checked on captures made from the
//! lab's own tor write boundaries: the lab's tor client → pluggable-transport stream is exactly
//! what a WebTunnel client reads from tor, and the bridge's tor → ExtORPort stream what the
//! WebTunnel server reads from the bridge. Each write (a run of full segments and the short one
//! that ends it) becomes one outer TLS 1.3 record, as the tunnel seals what it reads, behind a
//! ClientHello and an HTTP Upgrade exchange. No WebTunnel capture exists in `../shared`; the
//! inner bytes and their boundaries are real, the outer layer is built here.
//!
//! The expected count comes from the inner bytes themselves: an outer record fits when what it
//! carries parses as at most three complete inner application-data records of whole cells.
//! The hard negative is the same tunnel around the lab's ordinary HTTPS download.

mod support;

use std::path::Path;
use std::process::Command;
use support::{analyze_chunked, pcap_of, require_tool, shared_dir, tcp_frame};
use torsift::analysis::report::CaptureReport;

const CLIENT: [u8; 4] = [192, 0, 2, 10];
const SERVER: [u8; 4] = [198, 51, 100, 20];
const CLIENT_PORT: u16 = 51_000;
/// Any port: nothing here may depend on it.
const SERVER_PORT: u16 = 8443;

/// One read of the tunnel: who wrote it and its bytes.
struct Write {
    from_client: bool,
    bytes: Vec<u8>,
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap()).collect()
}

/// The largest conversation of `capture` whose label entry satisfies `pick`: (client, server).
fn labelled(set: &str, capture: &str, pick: impl Fn(&serde_json::Value) -> bool) -> (String, String) {
    let labels: serde_json::Value =
        serde_json::from_slice(&std::fs::read(shared_dir().join("captures").join(set).join("labels.json")).unwrap())
            .unwrap();
    let conversations = labels["captures"][capture]["conversations"].as_array().unwrap();
    let c = conversations.iter().filter(|c| pick(c)).max_by_key(|c| c["bytes"].as_u64()).unwrap();
    (c["client"].as_str().unwrap().to_string(), c["server"].as_str().unwrap().to_string())
}

/// The writes of one direction of a TCP conversation (tshark), from the first segment that
/// starts a TLS record: a write is a run of full-sized segments and the shorter one ending it.
fn writes(capture: &Path, from: &str, to: &str) -> Vec<(f64, Vec<u8>)> {
    require_tool("tshark");
    let (fa, fp) = from.rsplit_once(':').unwrap();
    let (ta, tp) = to.rsplit_once(':').unwrap();
    let filter = format!(
        "ip.src=={fa} && tcp.srcport=={fp} && ip.dst=={ta} && tcp.dstport=={tp} && tcp.len>0 && !tcp.analysis.retransmission"
    );
    let out = Command::new("tshark")
        .arg("-r")
        .arg(capture)
        .args(["-Y", &filter, "-T", "fields", "-e", "frame.time_epoch", "-e", "tcp.payload"])
        .output()
        .unwrap();
    let segments: Vec<(f64, Vec<u8>)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let (t, hex) = l.split_once('\t').unwrap();
            (t.parse().unwrap(), hex_bytes(hex))
        })
        .collect();
    let start = segments.iter().position(|(_, b)| b.len() > 5 && matches!(b[0], 22 | 23) && b[1] == 3).unwrap();
    let full = segments.iter().map(|(_, b)| b.len()).max().unwrap();
    let mut out = Vec::new();
    let mut current: Option<(f64, Vec<u8>)> = None;
    for (t, b) in &segments[start..] {
        let w = current.get_or_insert_with(|| (*t, Vec::new()));
        w.1.extend_from_slice(b);
        if b.len() < full {
            out.extend(current.take());
        }
    }
    out.extend(current);
    out
}

/// Both directions' writes in time order.
fn interleave(client: Vec<(f64, Vec<u8>)>, server: Vec<(f64, Vec<u8>)>) -> Vec<Write> {
    let mut all: Vec<(f64, bool, Vec<u8>)> = client.into_iter().map(|(t, b)| (t, true, b)).collect();
    all.extend(server.into_iter().map(|(t, b)| (t, false, b)));
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    all.into_iter().map(|(_, from_client, bytes)| Write { from_client, bytes }).collect()
}

fn u16be(v: usize) -> [u8; 2] {
    (v as u16).to_be_bytes()
}

fn record(content_type: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![content_type, 3, 3];
    r.extend_from_slice(&u16be(body.len()));
    r.extend_from_slice(body);
    r
}

fn extension(kind: u16, body: &[u8]) -> Vec<u8> {
    let mut e = kind.to_be_bytes().to_vec();
    e.extend_from_slice(&u16be(body.len()));
    e.extend_from_slice(body);
    e
}

/// A TLS 1.3 ClientHello record with `sni`, offering `alpn` (none when empty).
fn client_hello(sni: &str, alpn: &[&str]) -> Vec<u8> {
    let mut exts = Vec::new();
    let mut name = vec![0];
    name.extend_from_slice(&u16be(sni.len()));
    name.extend_from_slice(sni.as_bytes());
    let mut list = u16be(name.len()).to_vec();
    list.extend_from_slice(&name);
    exts.extend(extension(0, &list));
    exts.extend(extension(10, &[0, 4, 0, 0x1d, 0, 0x17]));
    exts.extend(extension(13, &[0, 6, 4, 3, 8, 4, 4, 1]));
    exts.extend(extension(43, &[4, 3, 4, 3, 3]));
    let mut share = vec![0, 36, 0, 0x1d, 0, 32];
    share.extend_from_slice(&[7; 32]);
    exts.extend(extension(51, &share));
    if !alpn.is_empty() {
        let mut protos = Vec::new();
        for p in alpn {
            protos.push(p.len() as u8);
            protos.extend_from_slice(p.as_bytes());
        }
        let mut body = u16be(protos.len()).to_vec();
        body.extend_from_slice(&protos);
        exts.extend(extension(16, &body));
    }
    let mut hello = vec![3, 3];
    hello.extend_from_slice(&[0x42; 32]);
    hello.push(32);
    hello.extend_from_slice(&[0x24; 32]);
    hello.extend_from_slice(&[0, 6, 0x13, 1, 0x13, 2, 0x13, 3, 1, 0]);
    hello.extend_from_slice(&u16be(exts.len()));
    hello.extend_from_slice(&exts);
    let mut hs = vec![1, 0];
    hs.extend_from_slice(&u16be(hello.len()));
    hs.extend_from_slice(&hello);
    record(22, &hs)
}

fn server_hello() -> Vec<u8> {
    let mut hello = vec![3, 3];
    hello.extend_from_slice(&[0x51; 32]);
    hello.push(32);
    hello.extend_from_slice(&[0x24; 32]);
    hello.extend_from_slice(&[0x13, 1, 0]);
    let mut exts = extension(43, &[3, 4]);
    let mut share = vec![0, 0x1d, 0, 32];
    share.extend_from_slice(&[9; 32]);
    exts.extend(extension(51, &share));
    hello.extend_from_slice(&u16be(exts.len()));
    hello.extend_from_slice(&exts);
    let mut hs = vec![2, 0];
    hs.extend_from_slice(&u16be(hello.len()));
    hs.extend_from_slice(&hello);
    record(22, &hs)
}

/// An encrypted TLS 1.3 record carrying `plaintext` bytes (content type and tag added).
fn sealed(plaintext: usize) -> Vec<u8> {
    record(23, &vec![0xa5; plaintext + 17])
}

/// How the tunnel cuts what it reads into outer records.
#[derive(Clone, Copy)]
enum Sealing {
    /// One record per read (up to 16 KiB), as a tunnel that seals each read.
    PerRead,
    /// Go's crypto/tls dynamic record sizing on the client (records grow from 1,186 bytes by
    /// 1,186 a record until 128 KiB are sent) and a server behind a proxy that reads 4 KiB at a
    /// time (nginx's default proxy buffer).
    GoClientProxiedServer,
    /// A CDN in front of the server: the server's byte stream re-cut into 1,360-byte records
    /// whatever its writes were; the client's records as the client sealed them.
    CdnServer,
}

/// The tunnel's TCP session: a ClientHello, the server's flight, the HTTP Upgrade exchange, then
/// every write sealed in outer records. Returns the capture and, for the oracle, the plaintext
/// of every outer application-data record after the upgrade and whether the client sent it.
fn tunnel_capture(writes: &[Write], alpn: &[&str], sealing: Sealing) -> (Vec<u8>, Vec<(bool, Vec<u8>)>) {
    let mut flights: Vec<(bool, Vec<u8>)> = vec![
        (true, client_hello("cdn.example-tunnel.net", alpn)),
        (false, [server_hello(), record(20, &[1]), sealed(2_410), sealed(264), sealed(52)].concat()),
        (true, [record(20, &[1]), sealed(52)].concat()),
    ];
    let upgrade = "GET /6d1f0c29e4b8 HTTP/1.1\r\nHost: cdn.example-tunnel.net\r\nUser-Agent: Go-http-client/1.1\r\n\
                   Connection: upgrade\r\nUpgrade: websocket\r\n\r\n";
    let switching = "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n";
    flights.push((true, sealed(upgrade.len())));
    flights.push((false, [sealed(switching.len()), sealed(233), sealed(233)].concat()));
    let mut plaintexts = Vec::new();
    let (mut client_sent, mut client_records) = (0usize, 0usize);
    // The CDN's bytes not yet sealed: it seals full 1,360-byte records as bytes arrive.
    let mut cdn_buffer: Vec<u8> = Vec::new();
    for w in writes {
        let mut flight = Vec::new();
        if let (Sealing::CdnServer, false) = (sealing, w.from_client) {
            cdn_buffer.extend_from_slice(&w.bytes);
            while cdn_buffer.len() >= 1_360 {
                let piece: Vec<u8> = cdn_buffer.drain(..1_360).collect();
                flight.extend(record(23, &[&piece[..], &[0x17], &[0xa5; 16]].concat()));
                plaintexts.push((false, piece));
            }
            flights.push((false, flight));
            continue;
        }
        let mut rest: &[u8] = &w.bytes;
        while !rest.is_empty() {
            let cap = match (sealing, w.from_client) {
                (Sealing::GoClientProxiedServer, true) if client_sent < 128 * 1024 => {
                    (1_186 * (client_records + 1)).min(16_384)
                }
                (Sealing::GoClientProxiedServer, false) => 4_096,
                _ => 16_384,
            };
            let (piece, tail) = rest.split_at(rest.len().min(cap));
            flight.extend(record(23, &[piece, &[0x17], &[0xa5; 16]].concat()));
            plaintexts.push((w.from_client, piece.to_vec()));
            if w.from_client {
                client_sent += piece.len();
                client_records += 1;
            }
            rest = tail;
        }
        flights.push((w.from_client, flight));
    }
    // TCP: a SYN, then each flight in segments of at most 1,448 bytes.
    let mut frames = vec![(0u32, tcp_frame(CLIENT, SERVER, CLIENT_PORT, SERVER_PORT, 999, true, &[]))];
    let (mut client_seq, mut server_seq) = (1_000u32, 5_000u32);
    for (i, (from_client, bytes)) in flights.iter().enumerate() {
        for seg in bytes.chunks(1_448) {
            let frame = if *from_client {
                let f = tcp_frame(CLIENT, SERVER, CLIENT_PORT, SERVER_PORT, client_seq, false, seg);
                client_seq = client_seq.wrapping_add(seg.len() as u32);
                f
            } else {
                let f = tcp_frame(SERVER, CLIENT, SERVER_PORT, CLIENT_PORT, server_seq, false, seg);
                server_seq = server_seq.wrapping_add(seg.len() as u32);
                f
            };
            frames.push((1 + i as u32 / 50, frame));
        }
    }
    (pcap_of(&frames), plaintexts)
}

/// The oracle: outer records whose plaintext is one to three complete inner TLS
/// application-data records, each a whole number of cells (or tor's 4,048-byte chunk).
fn whole_cell_records<'a>(plaintexts: impl IntoIterator<Item = &'a (bool, Vec<u8>)>) -> u64 {
    let whole = |p: &[u8]| {
        let mut at = 0;
        let mut inner = 0;
        while at < p.len() {
            let Some(h) = p.get(at..at + 5) else { return false };
            let len = usize::from(u16::from_be_bytes([h[3], h[4]]));
            let cells = len.checked_sub(17).is_some_and(|c| c > 0 && (c % 514 == 0 || c == 4_048));
            if h[0] != 23 || h[1] != 3 || !cells || at + 5 + len > p.len() {
                return false;
            }
            at += 5 + len;
            inner += 1;
        }
        (1..=3).contains(&inner)
    };
    plaintexts.into_iter().filter(|(_, p)| whole(p)).count() as u64
}

fn tunnel_flow(report: &CaptureReport) -> &torsift::analysis::report::FlowReport {
    report.flows.iter().find(|f| f.server.port() == SERVER_PORT).expect("the tunnel's flow")
}

fn tunnel_evidence(flow: &torsift::analysis::report::FlowReport) -> Option<serde_json::Value> {
    flow.evidence.iter().find(|e| e["kind"] == "tls-tunnel-cells").cloned()
}

/// The lab's tor writes through the tunnel, analysed: the report and the oracle's plaintexts.
fn analysed_tunnel(alpn: &[&str], sealing: Sealing) -> (CaptureReport, Vec<(bool, Vec<u8>)>) {
    let (pcap, plaintexts) = tunnel_capture(&lab_tor_writes(), alpn, sealing);
    (analyze_chunked("tunnel.pcap", &pcap, 1 << 16), plaintexts)
}

fn lab_tor_writes() -> Vec<Write> {
    let capture = "tor-03-obfs4-bridge.pcap";
    let path = shared_dir().join("captures/lab").join(capture);
    // tor client → its own pluggable transport: SOCKS, then tor's TLS as tor writes it.
    let (tor, pt) = labelled("lab", capture, |c| c["server_role"] == "bridge-client-pt");
    // the bridge's pluggable transport → the bridge's tor (ExtORPort): the bridge's writes.
    let (bridge_pt, bridge_tor) = labelled("lab", capture, |c| c["service"] == "ExtORPort");
    interleave(writes(&path, &tor, &pt), writes(&path, &bridge_tor, &bridge_pt))
}

#[test]
fn tor_tls_inside_tls_without_alpn_is_webtunnel_shaped() {
    let (report, plaintexts) = analysed_tunnel(&[], Sealing::PerRead);
    let flow = tunnel_flow(&report);
    let json = tunnel_evidence(flow).expect("tls-tunnel-cells evidence");
    // Every record after the upgrade that carries whole inner cell records, and no other.
    assert_eq!(json["cell_sized"], whole_cell_records(&plaintexts));
    let from_client = || plaintexts.iter().filter(|(c, _)| *c);
    assert_eq!(json["to_server"][0], whole_cell_records(from_client()));
    // The handshake's sealed records and the upgrade exchange count in `records` too.
    assert_eq!(json["records"], plaintexts.len() as u64 + 8);
    assert_eq!(json["layering"], "TLS 1.3 in TLS 1.3");
    assert_eq!(json["alpn_offered"], false);
    assert_eq!((flow.verdict, flow.confidence), ("tor-transport", Some("medium")));
    assert_eq!(flow.transport, Some("webtunnel"));
}

#[test]
fn with_alpn_the_tunnel_is_tor_at_low_confidence() {
    let (report, _) = analysed_tunnel(&["h2", "http/1.1"], Sealing::PerRead);
    let flow = tunnel_flow(&report);
    assert_eq!((flow.verdict, flow.confidence), ("tor-transport", Some("low")));
    assert_eq!(flow.transport, Some("tls-tunnel"));
}

#[test]
fn go_record_sizing_and_a_proxied_server_still_show_the_cells() {
    let (report, plaintexts) = analysed_tunnel(&[], Sealing::GoClientProxiedServer);
    let flow = tunnel_flow(&report);
    let json = tunnel_evidence(flow).expect("tls-tunnel-cells evidence");
    assert_eq!(json["cell_sized"], whole_cell_records(&plaintexts));
    assert_eq!(flow.transport, Some("webtunnel"));
}

#[test]
fn a_cdn_recutting_the_server_leaves_the_client_direction_to_decide() {
    let (report, plaintexts) = analysed_tunnel(&[], Sealing::CdnServer);
    let flow = tunnel_flow(&report);
    let json = tunnel_evidence(flow).expect("tls-tunnel-cells evidence");
    let from_client = plaintexts.iter().filter(|(c, _)| *c);
    assert_eq!(json["to_server"][0], whole_cell_records(from_client));
    // The session as a whole is below the share: the server's records are 1,360 bytes.
    let (fit, records) = (json["cell_sized"].as_u64().unwrap(), json["records"].as_u64().unwrap());
    assert!((fit as f64) < 0.4 * records as f64, "{fit} of {records}");
    assert_eq!(flow.transport, Some("webtunnel"));
}

#[test]
fn ordinary_tls_inside_the_same_tunnel_is_not_tor() {
    // The lab's HTTPS download (bulk) and the transport lab's WebSocket over TLS and HTTPS
    // long-polling (chatty), each as the inner stream of the same tunnel.
    let sessions = [
        ("lab", "nontor-05-control.pcap", "non-tor-tls"),
        ("lab-pt", "nontor-03-lookalikes-client.pcap", "non-tor-websocket"),
        ("lab-pt", "nontor-03-lookalikes-client.pcap", "non-tor-https-longpoll"),
    ];
    for (set, capture, label) in sessions {
        let path = shared_dir().join("captures").join(set).join(capture);
        let (client, server) = labelled(set, capture, |c| c["label"] == label);
        let writes = interleave(writes(&path, &client, &server), writes(&path, &server, &client));
        for sealing in [Sealing::PerRead, Sealing::GoClientProxiedServer, Sealing::CdnServer] {
            let (pcap, plaintexts) = tunnel_capture(&writes, &[], sealing);
            assert!(plaintexts.len() >= 8, "{label}: {} records, enough to decide", plaintexts.len());
            assert_eq!(whole_cell_records(&plaintexts), 0, "{label}: the oracle finds no cells");
            let report = analyze_chunked("tls-in-tls.pcap", &pcap, 1 << 16);
            let flow = tunnel_flow(&report);
            assert_eq!(tunnel_evidence(flow), None, "{label}");
            assert_eq!(flow.verdict, "none", "{label}: {}", flow.explanation);
        }
    }
}
