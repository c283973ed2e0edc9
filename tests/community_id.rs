//! Community ID v1 of every flow against Wireshark's own Community ID dissector (tshark
//! `--enable-protocol communityid`, seed 0) on real captures: for each frame tshark names the
//! flow's hash; every untunnelled torsift flow must carry the hash tshark gives that flow's
//! frames. The spec's vectors are pinned in `src/analysis/flow/community_id.rs`.

mod support;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::process::Command;
use support::*;

/// (proto, unordered endpoints) → the Community IDs tshark gave their frames.
fn tshark_ids(path: &std::path::Path) -> BTreeMap<(String, SocketAddr, SocketAddr), Vec<String>> {
    require_tool("tshark");
    let out = Command::new("tshark")
        .arg("-r")
        .arg(path)
        .args([
            "--enable-protocol",
            "communityid",
            "-Y",
            "(tcp || udp) && !icmp && !icmpv6",
            "-T",
            "fields",
            "-E",
            "separator=/t",
        ])
        .args(["-e", "communityid", "-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst"])
        .args(["-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "udp.srcport", "-e", "udp.dstport"])
        .output()
        .unwrap();
    let mut ids: BTreeMap<(String, SocketAddr, SocketAddr), Vec<String>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let c: Vec<&str> = line.split('\t').collect();
        // Tunnelled frames list several layers: compare plain flows only.
        // An IPv4 and an IPv6 layer in one frame is a tunnel too (Teredo, 6in4): Wireshark
        // hashes the inner packet there.
        if c.len() < 9 || c.iter().any(|f| f.contains(',')) || c[0].is_empty() || (!c[1].is_empty() && !c[3].is_empty())
        {
            continue;
        }
        let (src, dst) = if c[1].is_empty() { (c[3], c[4]) } else { (c[1], c[2]) };
        let (proto, sport, dport) = if c[5].is_empty() { ("udp", c[7], c[8]) } else { ("tcp", c[5], c[6]) };
        let (Ok(src), Ok(dst), Ok(sport), Ok(dport)) =
            (src.parse::<IpAddr>(), dst.parse::<IpAddr>(), sport.parse::<u16>(), dport.parse::<u16>())
        else {
            continue;
        };
        let (a, b) = (SocketAddr::new(src, sport), SocketAddr::new(dst, dport));
        let key = if a <= b { (proto.to_string(), a, b) } else { (proto.to_string(), b, a) };
        let v = ids.entry(key).or_default();
        if !v.contains(&c[0].to_string()) {
            v.push(c[0].to_string());
        }
    }
    ids
}

#[test]
fn community_ids_are_wiresharks() {
    let mut compared = 0;
    let captures: Vec<_> = shared_captures()
        .into_iter()
        .filter(|p| {
            p.to_string_lossy().contains("captures/public/") || p.to_string_lossy().contains("captures/lab-pt/")
        })
        .filter(|p| std::fs::metadata(p).map(|m| m.len() < 20 << 20).unwrap_or(false))
        .collect();
    for path in &captures {
        let ids = tshark_ids(path);
        let report = analyze_file(path, 1 << 20);
        for flow in report.flows.iter().filter(|f| f.tunnel_depth == 0 && f.fragments == 0) {
            let (a, b) = (flow.client, flow.server);
            let key = if a <= b { (flow.proto.to_string(), a, b) } else { (flow.proto.to_string(), b, a) };
            let Some(want) = ids.get(&key) else { continue };
            assert_eq!(want.len(), 1, "{}: tshark gave {key:?} several ids: {want:?}", short_name(path));
            assert_eq!(flow.community_id, want[0], "{}: {} {} → {}", short_name(path), flow.proto, a, b);
            compared += 1;
        }
    }
    assert!(compared > 1000, "{compared} flows compared over {} captures", captures.len());
}
