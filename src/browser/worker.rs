//! The analysis worker: receives `{job, file, relays}`, reads the capture in 4 MiB slices
//! (never the whole file in memory; the next slice is read while this one is parsed), pushes
//! each slice into the core, and posts progress and the final report back. At start it fetches
//! the built-in relay index (`relays.idx`, next to the page) once, and the relay history's
//! year list (`history/history.json`); a year of history (`history/history-YYYY.idx.gz`) is
//! fetched the first time a capture or a lookup needs it (the service worker then keeps it for
//! offline use). Relay lists are read with `FileReaderSync`.

use super::protocol::{FromWorker, SLICE_BYTES};
use crate::analysis::tor::history::{lookup, tsv, RelayHistory};
use crate::analysis::tor::relays::{list, RelayIndex};
use crate::analysis::{Analyzer, Limits, Report};
use js_sys::{Array, Reflect, Uint8Array};
use std::cell::RefCell;
use std::sync::Arc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{DedicatedWorkerGlobalScope, File, FileReaderSync, MessageEvent};

thread_local! {
    static BUILTIN: RefCell<RelayIndex> = RefCell::new(RelayIndex::default());
    /// The history years fetched so far, the years the site has, and the years already tried.
    static HISTORY: RefCell<RelayHistory> = RefCell::new(RelayHistory::default());
    static HISTORY_YEARS: RefCell<Vec<i64>> = const { RefCell::new(Vec::new()) };
    static HISTORY_TRIED: RefCell<Vec<i64>> = const { RefCell::new(Vec::new()) };
}

pub fn start() {
    console_error_panic_hook::set_once();
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    wasm_bindgen_futures::spawn_local(async move {
        if let Some(index) = fetch_builtin(&scope).await {
            BUILTIN.with(|b| *b.borrow_mut() = index);
        }
        let years = fetch_history_years(&scope).await;
        HISTORY_YEARS.with(|y| *y.borrow_mut() = years);
        listen(scope);
    });
}

async fn fetch_builtin(scope: &DedicatedWorkerGlobalScope) -> Option<RelayIndex> {
    let response: web_sys::Response =
        JsFuture::from(scope.fetch_with_str("./relays.idx")).await.ok()?.dyn_into().ok()?;
    if !response.ok() {
        return None;
    }
    let buffer = JsFuture::from(response.array_buffer().ok()?).await.ok()?;
    RelayIndex::from_blob(Uint8Array::new(&buffer).to_vec(), true)
}

async fn fetch_bytes(scope: &DedicatedWorkerGlobalScope, url: &str) -> Option<Vec<u8>> {
    let response: web_sys::Response = JsFuture::from(scope.fetch_with_str(url)).await.ok()?.dyn_into().ok()?;
    if !response.ok() {
        return None;
    }
    let buffer = JsFuture::from(response.array_buffer().ok()?).await.ok()?;
    Some(Uint8Array::new(&buffer).to_vec())
}

/// The years of relay history next to the page (`history/history.json`, written by
/// `torsift history --export`); none when the site has no history.
async fn fetch_history_years(scope: &DedicatedWorkerGlobalScope) -> Vec<i64> {
    let Some(bytes) = fetch_bytes(scope, "./history/history.json").await else { return Vec::new() };
    let manifest: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    manifest["years"]
        .as_array()
        .map(|years| years.iter().filter_map(|y| y["year"].as_i64()).collect())
        .unwrap_or_default()
}

/// Fetches the history of these years (those the site has and not tried yet); returns how many
/// could not be read.
async fn ensure_history(scope: &DedicatedWorkerGlobalScope, years: impl IntoIterator<Item = i64>) -> u32 {
    use std::io::Read;
    let mut failed = 0;
    for year in years {
        let wanted =
            HISTORY_YEARS.with(|y| y.borrow().contains(&year)) && !HISTORY_TRIED.with(|t| t.borrow().contains(&year));
        if !wanted {
            continue;
        }
        HISTORY_TRIED.with(|t| t.borrow_mut().push(year));
        let mut raw = Vec::new();
        let read = match fetch_bytes(scope, &format!("./history/history-{year}.idx.gz")).await {
            Some(gz) => flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut raw).is_ok(),
            None => false,
        };
        if !(read && HISTORY.with(|h| h.borrow_mut().add_shard(raw))) {
            failed += 1;
            // Tried again next time (the network may be back).
            HISTORY_TRIED.with(|t| t.borrow_mut().retain(|&y| y != year));
        }
    }
    failed
}

/// Answers a lookup from the history years it needs (all of them without a date).
async fn answer_lookup(scope: &DedicatedWorkerGlobalScope, endpoint: &str, date: &str) -> String {
    let day = if date.trim().is_empty() { Ok(None) } else { lookup::parse_date(date).map(Some) };
    let result = match day {
        Ok(day) => {
            let years = match day {
                Some(d) => vec![tsv::civil(d).0],
                None => HISTORY_YEARS.with(|y| y.borrow().clone()),
            };
            ensure_history(scope, years).await;
            HISTORY.with(|h| lookup::lookup(&h.borrow(), endpoint, day))
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(answer) => serde_json::to_string(&answer).unwrap_or_default(),
        Err(error) => format!("{{\"error\":{}}}", serde_json::to_string(&error).unwrap_or_default()),
    }
}

fn listen(scope: DedicatedWorkerGlobalScope) {
    let replies = scope.clone();
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let data = event.data();
        let text = |key: &str| Reflect::get(&data, &key.into()).ok().and_then(|v| v.as_string());
        if let Some(endpoint) = text("lookup") {
            let (scope, date) = (replies.clone(), text("date").unwrap_or_default());
            wasm_bindgen_futures::spawn_local(async move {
                let answer_json = answer_lookup(&scope, &endpoint, &date).await;
                post(&scope, &FromWorker::Lookup { answer_json });
            });
            return;
        }
        if Reflect::get(&data, &"prefetch_history".into()).ok().is_some_and(|v| v.is_truthy()) {
            let scope = replies.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let all = HISTORY_YEARS.with(|y| y.borrow().clone());
                let failed = ensure_history(&scope, all.clone()).await;
                post(
                    &scope,
                    &FromWorker::HistoryCached { years: all.len() as u32 - failed.min(all.len() as u32), failed },
                );
            });
            return;
        }
        let job = Reflect::get(&data, &"job".into()).ok().and_then(|v| v.as_f64()).unwrap_or(0.0) as u32;
        let file = Reflect::get(&data, &"file".into()).ok().and_then(|v| v.dyn_into::<File>().ok());
        let lists: Vec<File> = Reflect::get(&data, &"relays".into())
            .ok()
            .and_then(|v| v.dyn_into::<Array>().ok())
            .map(|a| a.iter().filter_map(|f| f.dyn_into::<File>().ok()).collect())
            .unwrap_or_default();
        let scope = replies.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let reply = match file {
                Some(file) => analyze(&scope, job, &file, &lists).await,
                None => FromWorker::Failed { job, message: "the page sent no file".into() },
            };
            post(&scope, &reply);
        });
    });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    post(&scope, &FromWorker::Ready);
}

fn post(scope: &DedicatedWorkerGlobalScope, msg: &FromWorker) {
    let FromWorker::Done { job, report_json, elapsed_ms, tor_flows } = msg else {
        if let Ok(value) = serde_wasm_bindgen::to_value(msg) {
            let _ = scope.post_message(&value);
        }
        return;
    };
    // The report goes as UTF-8 bytes in a buffer handed over to the page (transferred, not
    // copied), not as a JS string: a string is one copy in this worker's heap and another in
    // the page's (two bytes a character if one of them is not Latin-1).
    let done =
        FromWorker::Done { job: *job, report_json: String::new(), elapsed_ms: *elapsed_ms, tor_flows: *tor_flows };
    if let Ok(value) = serde_wasm_bindgen::to_value(&done) {
        let bytes = Uint8Array::from(report_json.as_bytes());
        let _ = Reflect::set(&value, &"report_json".into(), &bytes);
        let _ = scope.post_message_with_transfer(&value, &Array::of1(&bytes.buffer()));
    }
}

fn now(scope: &DedicatedWorkerGlobalScope) -> f64 {
    scope.performance().map(|p| p.now()).unwrap_or(0.0)
}

/// The built-in index plus the user's lists, parsed here (a bad line fails the job with
/// `file:line: reason`).
fn relay_index(reader: &FileReaderSync, lists: &[File]) -> Result<RelayIndex, String> {
    let mut index = BUILTIN.with(|b| b.borrow().clone());
    let mut parsed = Vec::new();
    for f in lists {
        let text =
            reader.read_as_text(f).map_err(|_| format!("{}: the browser could not read the relay list", f.name()))?;
        parsed.push(list::parse(&f.name(), &text).map_err(|e| e.to_string())?);
    }
    index.add_lists(&parsed)?;
    Ok(index)
}

/// Starts reading bytes `pos..end` of the file; the browser reads while the caller parses.
fn read_slice(file: &File, pos: u64, end: u64) -> Option<JsFuture> {
    let blob = file.slice_with_f64_and_f64(pos as f64, end as f64).ok()?;
    Some(JsFuture::from(blob.array_buffer()))
}

async fn analyze(scope: &DedicatedWorkerGlobalScope, job: u32, file: &File, lists: &[File]) -> FromWorker {
    let started = now(scope);
    let reader = match FileReaderSync::new() {
        Ok(r) => r,
        Err(_) => return FromWorker::Failed { job, message: "this browser cannot read files in a worker".into() },
    };
    let mut index = match relay_index(&reader, lists) {
        Ok(index) => Arc::new(index),
        Err(message) => return FromWorker::Failed { job, message },
    };
    let total = file.size() as u64;
    let mut analyzer = Analyzer::with_relays(file.name(), Limits::default(), index.clone());
    let mut buf = Vec::new();
    let mut pos = 0u64;
    // One slice is read ahead: the browser fetches slice n+1 while slice n is parsed.
    let mut pending = read_slice(file, 0, SLICE_BYTES.min(total));
    while pos < total {
        let end = (pos + SLICE_BYTES).min(total);
        let read = match pending.take() {
            Some(read) => read.await.ok(),
            None => None,
        };
        let Some(buffer) = read else {
            return FromWorker::Failed {
                job,
                message: format!("{}: the browser could not read bytes {pos}..{end} of the file", file.name()),
            };
        };
        if end < total {
            pending = read_slice(file, end, (end + SLICE_BYTES).min(total));
        }
        let array = Uint8Array::new(&buffer);
        buf.resize(array.length() as usize, 0);
        array.copy_to(&mut buf);
        let stopped = analyzer.push(&buf).is_err();
        pos = end;
        let p = analyzer.progress();
        post(
            scope,
            &FromWorker::Progress {
                job,
                bytes: pos,
                total,
                packets: p.packets,
                flows: p.flows,
                elapsed_ms: now(scope) - started,
            },
        );
        if stopped {
            break;
        }
    }
    // The relay history of the capture's days (and a day either side: ExoneraTor's rule).
    if let Some((first, last)) = analyzer.day_span() {
        let (from, to) = (tsv::civil(first - 1).0, tsv::civil(last + 1).0);
        ensure_history(scope, from..=to).await;
        let mut with_history = (*index).clone();
        *with_history.history_mut() = HISTORY.with(|h| h.borrow().clone());
        index = Arc::new(with_history);
        analyzer.set_relays(index.clone());
    }
    let capture = analyzer.finish();
    let tor_flows = capture.flows.iter().filter(|f| f.verdict != "none").count() as u64;
    let report = Report::new(vec![capture], &index);
    match serde_json::to_string(&report) {
        Ok(report_json) => FromWorker::Done { job, report_json, elapsed_ms: now(scope) - started, tor_flows },
        Err(e) => FromWorker::Failed { job, message: format!("the report could not be encoded: {e}") },
    }
}
