//! Relay index lookup cost on the built-in index (all shared snapshots):
//! `cargo bench --bench relay_lookup`. Criterion prints the time per lookup; lookups per second
//! is its inverse.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use torsift::analysis::tor::relays::RelayIndex;

fn lookups(c: &mut Criterion) {
    let index = RelayIndex::builtin();
    // A listed relay ORPort (SanMarino in the 2022-11-19 consensus), a listed address on
    // another port, and an address in no list.
    let cases: [(&str, IpAddr, u16); 3] = [
        ("listed ORPort", Ipv4Addr::new(23, 88, 75, 121).into(), 19001),
        ("listed address, other port", Ipv4Addr::new(23, 88, 75, 121).into(), 443),
        ("not listed", Ipv4Addr::new(192, 0, 2, 77).into(), 443),
    ];
    let mut group = c.benchmark_group("relay lookup");
    group.throughput(Throughput::Elements(1));
    for (name, ip, port) in cases {
        group.bench_function(name, |b| b.iter(|| black_box(index.lookup(black_box(ip), black_box(port))).len()));
    }
    // Many different addresses: the cost when every flow needs its own lookup.
    let ips: Vec<IpAddr> = (0..4096u32).map(|i| Ipv4Addr::from(0x0a00_0000 + i * 7919).into()).collect();
    group.bench_function("4096 unlisted addresses", |b| {
        b.iter(|| ips.iter().map(|ip| index.lookup(*ip, 443).len()).sum::<usize>())
    });
    group.finish();
}

/// The relay history (one year shard per lookup, as a flow's day needs): the raw key lookup and
/// the "was it listed on that day?" answer.
fn history_lookups(c: &mut Criterion) {
    use torsift::analysis::tor::history::{tsv, RelayHistory};
    let history = RelayHistory::builtin();
    let day = tsv::parse_day("2022-10-26").unwrap();
    let one_year = history.restricted([2022]);
    let cases: [(&str, IpAddr, Option<u16>); 4] = [
        ("listed address", Ipv4Addr::new(23, 88, 75, 121).into(), None),
        // 92.117.0.0/16 holds 1,019 relay addresses in 2022, the most of any /16 that year.
        ("listed address in the densest /16", Ipv4Addr::new(92, 117, 217, 198).into(), None),
        ("listed address+ORPort", Ipv4Addr::new(23, 88, 75, 121).into(), Some(19001)),
        ("not listed", Ipv4Addr::new(192, 0, 2, 77).into(), None),
    ];
    let mut group = c.benchmark_group("relay history");
    group.throughput(Throughput::Elements(1));
    for (name, ip, port) in cases {
        group.bench_function(format!("runs of one year: {name}"), |b| {
            b.iter(|| black_box(one_year.presences(black_box(ip), port)).len())
        });
        group.bench_function(format!("nearest run to a day: {name}"), |b| {
            b.iter(|| black_box(history.nearest(black_box(ip), port, day)).is_some())
        });
    }
    group.finish();
}

criterion_group!(benches, lookups, history_lookups);
criterion_main!(benches);
