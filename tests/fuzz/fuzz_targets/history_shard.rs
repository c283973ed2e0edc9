//! The relay history: shard bytes as the page fetches them (mode 0), and the history's TSV input
//! compiled into shards and read back (mode 1); then lookups of addresses named by the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use torsift::analysis::tor::history::{lookup, shard, tsv, RelayHistory};
use torsift::analysis::tor::relays::key;

fn probe(history: &RelayHistory, seed: &[u8]) {
    let b = |i: usize| seed.get(i).copied().unwrap_or(0);
    let v4 = IpAddr::V4(Ipv4Addr::new(b(0), b(1), b(2), b(3)));
    let v6 = IpAddr::V6(Ipv6Addr::from([b(0), b(1), b(2), b(3), b(4), b(5), b(6), b(7), 0, 0, 0, 0, 0, 0, 0, b(8)]));
    let day = 16_000 + i64::from(u16::from_le_bytes([b(9), b(10)]) % 6_000);
    for ip in [v4, v6] {
        for port in [None, Some(u16::from_le_bytes([b(11), b(12)]))] {
            let _ = history.presences(ip, port);
            let _ = history.on_day(ip, port, day);
            let _ = history.nearest(ip, port, day);
        }
    }
    let _ = history.vouching_sources(day, 1, b(13) & 1 == 1);
    let _ = history.coverage();
    let _ = lookup::lookup(history, &String::from_utf8_lossy(seed), Some(day));
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let mut history = RelayHistory::default();
    if mode % 2 == 0 {
        history.add_shard(rest.to_vec());
    } else {
        // ip lines, a blank line, orport lines, a blank line, coverage lines.
        let text = String::from_utf8_lossy(rest);
        let mut parts = text.splitn(3, "\n\n");
        let mut input = tsv::HistoryInput::default();
        let (ip, orport, coverage) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        if input.add_coverage("fuzz", coverage).is_err()
            || input.add_intervals("fuzz", ip, false, key::encode).is_err()
            || input.add_intervals("fuzz", orport, true, key::encode).is_err()
        {
            return;
        }
        // Keep the fuzzer's years few: a shard per year of every interval.
        if input.intervals.iter().any(|i| i.last_day - i.first_day > 3_000 || i.first_day < 0 || i.last_day > 40_000) {
            return;
        }
        let Ok(shards) = shard::write_years(&input) else { return };
        for (_, bytes) in shards {
            assert!(history.add_shard(bytes), "a shard the writer made must read back");
        }
        // Every run of the input is found again (clipped to years, joined across them).
        for i in input.intervals.iter().take(16) {
            let Some((ip, port)) = key::decode(&i.key) else { continue };
            let port = (port != key::ANY_PORT).then_some(port);
            let found = history.presences(ip, port);
            assert!(
                found.iter().any(|p| p.first_day <= i.first_day && i.last_day <= p.last_day),
                "run {}..{} of {ip} {port:?} lost: {found:?}",
                i.first_day,
                i.last_day
            );
        }
    }
    probe(&history, rest);
});
