//! The baseline the core is measured against: the least a 5-tuple flow counter can do on an
//! Ethernet/IPv4 pcap (fixed offsets, no validation, no tunnels, no report). Used by
//! `tests/benches/bench.sh` to put torsift's throughput next to it on the same machine.

use std::collections::HashMap;

type FiveTuple = (u8, [u8; 4], [u8; 4], u16, u16);
use std::io::Read;
use std::time::Instant;

fn main() {
    let path = std::env::args().nth(1).expect("usage: minimal_extractor FILE.pcap");
    let start = Instant::now();
    let mut data = Vec::new();
    std::fs::File::open(&path).unwrap().read_to_end(&mut data).unwrap();
    let mut flows: HashMap<FiveTuple, (u64, u64)> = HashMap::new();
    let mut at = 24;
    let mut packets = 0u64;
    while at + 16 <= data.len() {
        let caplen = u32::from_le_bytes(data[at + 8..at + 12].try_into().unwrap()) as usize;
        let len = u32::from_le_bytes(data[at + 12..at + 16].try_into().unwrap()) as u64;
        let p = &data[at + 16..at + 16 + caplen];
        at += 16 + caplen;
        packets += 1;
        if p.len() < 38 || p[12..14] != [8, 0] {
            continue;
        }
        let ip = &p[14..];
        let ihl = usize::from(ip[0] & 15) * 4;
        let (proto, mut a, mut b) = (ip[9], [ip[12], ip[13], ip[14], ip[15]], [ip[16], ip[17], ip[18], ip[19]]);
        let mut pa = u16::from_be_bytes([ip[ihl], ip[ihl + 1]]);
        let mut pb = u16::from_be_bytes([ip[ihl + 2], ip[ihl + 3]]);
        if (a, pa) > (b, pb) {
            std::mem::swap(&mut a, &mut b);
            std::mem::swap(&mut pa, &mut pb);
        }
        let e = flows.entry((proto, a, b, pa, pb)).or_default();
        e.0 += 1;
        e.1 += len;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "minimal extractor: {:.0} MB/s, {:.2} M packets/s ({packets} packets, {} flows)",
        data.len() as f64 / 1e6 / secs,
        packets as f64 / 1e6 / secs,
        flows.len()
    );
}
