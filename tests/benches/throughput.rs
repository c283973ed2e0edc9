//! Core throughput on real files: streams each file through the analyzer in 4 MiB chunks and
//! prints MB/s, packets/s and peak memory. Used by `tests/benches/bench.sh`.
//!
//!     cargo run --release --example throughput -- FILE...
//!
//! With `NO_STREAMS=1` the TCP stream observer (heads, TLS records) is switched off through
//! `Limits::max_head_bytes_total`, to show what framing, decoding and the flow table cost alone.

use std::io::Read;
use std::time::Instant;
use torsift::analysis::{Analyzer, Limits};

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 =
        status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    let mut buf = vec![0u8; 4 << 20];
    for path in files {
        let mut file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let start = Instant::now();
        let limits = if std::env::var_os("NO_STREAMS").is_some() {
            Limits { max_head_bytes_total: 0, ..Limits::default() }
        } else {
            Limits::default()
        };
        let mut analyzer = Analyzer::new(&path, limits);
        loop {
            let n = file.read(&mut buf).unwrap_or_else(|e| panic!("{path}: {e}"));
            if n == 0 {
                break;
            }
            let _ = analyzer.push(&buf[..n]);
        }
        let report = analyzer.finish();
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{path}: {:.1} MB in {secs:.3} s = {:.0} MB/s, {:.2} M packets/s ({} packets, {} flows), peak RSS {:.0} MiB",
            report.file_bytes as f64 / 1e6,
            report.file_bytes as f64 / 1e6 / secs,
            report.packets as f64 / 1e6 / secs,
            report.packets,
            report.flows.len(),
            peak_rss_mib().unwrap_or(0.0)
        );
    }
}
