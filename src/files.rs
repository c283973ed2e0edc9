//! Capture files through the core: the CLI and the Python package read a path the same way,
//! in fixed-size chunks (the core's memory does not depend on them), and turn an unreadable or
//! unopenable file into a report with `error` rather than a failure of the whole run.

use crate::analysis::tor::relays::RelayIndex;
use crate::analysis::{Analyzer, CaptureError, CaptureReport, Limits};
use std::io::Read;
use std::sync::Arc;

/// Bytes handed to the core per step.
const READ_CHUNK: usize = 1 << 20;

/// Analyses the file at `path` (`-`: standard input); the report names it `path`.
pub fn analyze_path(path: &str, limits: &Limits, relays: &Arc<RelayIndex>) -> CaptureReport {
    let analyzer = Analyzer::with_relays(path, limits.clone(), relays.clone());
    if path == "-" {
        return analyze_reader(analyzer, std::io::stdin().lock());
    }
    match std::fs::File::open(path) {
        Ok(f) => analyze_reader(analyzer, f),
        Err(e) => {
            let mut report = analyzer.finish();
            report.error = Some(CaptureError::new(0, format!("cannot open the file: {e}")));
            report
        }
    }
}

/// Streams `input` through `analyzer`; a read error ends the report with its byte offset.
pub fn analyze_reader(mut analyzer: Analyzer, mut input: impl Read) -> CaptureReport {
    let mut buf = vec![0u8; READ_CHUNK];
    let mut read_error = None;
    loop {
        match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if analyzer.push(buf.get(..n).unwrap_or_default()).is_err() {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                read_error =
                    Some(CaptureError::new(analyzer.progress().bytes, format!("reading the file failed: {e}")));
                break;
            }
        }
    }
    let mut report = analyzer.finish();
    if report.error.is_none() {
        report.error = read_error;
    }
    report
}
