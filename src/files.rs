//! Capture files through the core: the CLI and the Python package read a path the same way,
//! in fixed-size chunks (the core's memory does not depend on them), and turn an unreadable or
//! unopenable file into a report with `error` rather than a failure of the whole run.

use crate::analysis::report::FlowReport;
use crate::analysis::tor::relays::RelayIndex;
use crate::analysis::{Analyzer, CaptureError, CaptureReport, Limits};
use std::io::Read;
use std::sync::Arc;

/// Bytes handed to the core per step.
const READ_CHUNK: usize = 1 << 20;
/// The same when evicted flows are taken after each step (`read_path_streaming`).
const STREAMING_READ_CHUNK: usize = 64 << 10;

/// Analyses the file at `path` (`-`: standard input); the report names it `path`.
pub fn analyze_path(path: &str, limits: &Limits, relays: &Arc<RelayIndex>) -> CaptureReport {
    read_path(path, limits, relays).finish()
}

/// A capture file read to its end (or to the error that stopped it), its report not yet made.
pub struct ReadCapture {
    analyzer: Analyzer,
    /// The file could not be opened.
    open_error: Option<CaptureError>,
    /// Reading the file failed part way.
    read_error: Option<CaptureError>,
}

/// Reads the file at `path` (`-`: standard input) through the core.
pub fn read_path(path: &str, limits: &Limits, relays: &Arc<RelayIndex>) -> ReadCapture {
    read_path_with(Analyzer::with_relays(path, limits.clone(), relays.clone()), path, None)
}

/// Reads the file at `path` like `read_path`, and hands each flow evicted from the full flow
/// table to `on_evicted` as soon as it leaves (`Analyzer::report_evicted_flows`), so that memory
/// holds the table and never more, whatever the file's size; the rest come from `finish_with_flows`.
/// Before each step `keep_reading` is asked: once it says no (nobody takes the flows any more:
/// a closed pipe, a dropped iterator), reading stops there and the file is closed.
pub fn read_path_streaming(
    path: &str,
    limits: &Limits,
    relays: &Arc<RelayIndex>,
    on_evicted: &mut dyn FnMut(FlowReport),
    keep_reading: &dyn Fn() -> bool,
) -> ReadCapture {
    let mut analyzer = Analyzer::with_relays(path, limits.clone(), relays.clone());
    analyzer.report_evicted_flows();
    read_path_with(analyzer, path, Some(Streaming { on_evicted, keep_reading }))
}

/// What a streaming read does between steps.
struct Streaming<'a> {
    on_evicted: &'a mut dyn FnMut(FlowReport),
    keep_reading: &'a dyn Fn() -> bool,
}

fn read_path_with(analyzer: Analyzer, path: &str, streaming: Option<Streaming<'_>>) -> ReadCapture {
    if path == "-" {
        return read(analyzer, std::io::stdin(), streaming);
    }
    match std::fs::File::open(path) {
        Ok(f) => read(analyzer, f, streaming),
        Err(e) => ReadCapture {
            analyzer,
            open_error: Some(CaptureError::new(0, format!("cannot open the file: {e}"))),
            read_error: None,
        },
    }
}

/// Streams `input` through `analyzer` and makes the report; a read error ends the report with
/// its byte offset.
pub fn analyze_reader(analyzer: Analyzer, input: impl Read + Send) -> CaptureReport {
    read(analyzer, input, None).finish()
}

fn read(mut analyzer: Analyzer, input: impl Read + Send, mut streaming: Option<Streaming<'_>>) -> ReadCapture {
    // A reader that takes evicted flows between chunks takes them in smaller steps: what one
    // step evicts is held until then.
    let chunk = if streaming.is_some() { STREAMING_READ_CHUNK } else { READ_CHUNK };
    let mut read_error = None;
    std::thread::scope(|scope| {
        // The next chunk is read on another thread while the core takes this one: the copy out
        // of the page cache (about 6 % of a run on a cached file) leaves the core's path.
        let (chunks, read) = std::sync::mpsc::sync_channel::<std::io::Result<(Vec<u8>, usize)>>(1);
        let (spent, reuse) = std::sync::mpsc::channel::<Vec<u8>>();
        scope.spawn(move || read_ahead(input, chunk, &chunks, &reuse));
        loop {
            if streaming.as_ref().is_some_and(|s| !(s.keep_reading)()) {
                break;
            }
            // A closed channel is the end of the input.
            let Ok(next) = read.recv() else { break };
            match next {
                Ok((buf, n)) => {
                    let pushed = analyzer.push(buf.get(..n).unwrap_or_default());
                    let _ = spent.send(buf);
                    if let Some(s) = streaming.as_mut() {
                        analyzer.take_evicted_reports(s.on_evicted);
                    }
                    if pushed.is_err() {
                        break;
                    }
                }
                Err(e) => {
                    read_error =
                        Some(CaptureError::new(analyzer.progress().bytes, format!("reading the file failed: {e}")));
                    break;
                }
            }
        }
        // Dropping the receiver stops the reading thread at its next chunk.
        drop(read);
    });
    ReadCapture { analyzer, open_error: None, read_error }
}

/// Reads `input` in chunks of up to `chunk` bytes into buffers (reused once `reuse` gives them
/// back) and sends each with the bytes it holds, then an error if reading fails; stops at the
/// end of the input or once nobody receives.
fn read_ahead(
    mut input: impl Read,
    chunk: usize,
    chunks: &std::sync::mpsc::SyncSender<std::io::Result<(Vec<u8>, usize)>>,
    reuse: &std::sync::mpsc::Receiver<Vec<u8>>,
) {
    loop {
        // A returned buffer keeps its length: it is not zeroed again.
        let mut buf = reuse.try_recv().unwrap_or_else(|_| vec![0; chunk]);
        let n = loop {
            match input.read(&mut buf) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                other => break other,
            }
        };
        match n {
            Ok(0) => return,
            Ok(n) => {
                if chunks.send(Ok((buf, n))).is_err() {
                    return;
                }
            }
            Err(e) => {
                let _ = chunks.send(Err(e));
                return;
            }
        }
    }
}

impl ReadCapture {
    /// The whole report, flows included.
    pub fn finish(self) -> CaptureReport {
        let mut flows = Vec::new();
        let mut report = self.finish_with_flows(&mut |flow| flows.push(flow));
        report.flows = flows;
        report
    }

    /// The report without its flows, each handed to `on_flow` as it is made
    /// (`Analyzer::finish_with_flows`).
    pub fn finish_with_flows(self, on_flow: &mut dyn FnMut(FlowReport)) -> CaptureReport {
        let mut report = self.analyzer.finish_with_flows(on_flow);
        // A file that could not be opened says so, not that it is empty; a read that failed
        // part way is the error only if framing found none before it.
        report.error = self.open_error.or(report.error).or(self.read_error);
        report
    }
}
