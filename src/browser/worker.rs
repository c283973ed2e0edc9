//! The analysis worker: receives `{job, file}`, reads the file in slices with `FileReaderSync`
//! (never the whole file in memory), pushes each slice into the core, and posts progress and the
//! final report back.

use super::protocol::{FromWorker, SLICE_BYTES};
use crate::analysis::{Analyzer, Limits};
use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, File, FileReaderSync, MessageEvent};

pub fn start() {
    console_error_panic_hook::set_once();
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let replies = scope.clone();
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let data = event.data();
        let job = Reflect::get(&data, &"job".into()).ok().and_then(|v| v.as_f64()).unwrap_or(0.0) as u32;
        let file = Reflect::get(&data, &"file".into()).ok().and_then(|v| v.dyn_into::<File>().ok());
        let reply = match file {
            Some(file) => analyze(&replies, job, &file),
            None => FromWorker::Failed { job, message: "the page sent no file".into() },
        };
        post(&replies, &reply);
    });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    post(&scope, &FromWorker::Ready);
}

fn post(scope: &DedicatedWorkerGlobalScope, msg: &FromWorker) {
    if let Ok(value) = serde_wasm_bindgen::to_value(msg) {
        let _ = scope.post_message(&value);
    }
}

fn now(scope: &DedicatedWorkerGlobalScope) -> f64 {
    scope.performance().map(|p| p.now()).unwrap_or(0.0)
}

fn analyze(scope: &DedicatedWorkerGlobalScope, job: u32, file: &File) -> FromWorker {
    let started = now(scope);
    let reader = match FileReaderSync::new() {
        Ok(r) => r,
        Err(_) => return FromWorker::Failed { job, message: "this browser cannot read files in a worker".into() },
    };
    let total = file.size() as u64;
    let mut analyzer = Analyzer::new(file.name(), Limits::default());
    let mut buf = Vec::new();
    let mut pos = 0u64;
    while pos < total {
        let end = (pos + SLICE_BYTES).min(total);
        let bytes =
            file.slice_with_f64_and_f64(pos as f64, end as f64).and_then(|blob| reader.read_as_array_buffer(&blob));
        let array = match bytes {
            Ok(buffer) => Uint8Array::new(&buffer),
            Err(_) => {
                return FromWorker::Failed {
                    job,
                    message: format!("{}: the browser could not read bytes {pos}..{end} of the file", file.name()),
                }
            }
        };
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
    let report = analyzer.finish();
    match serde_json::to_string(&report) {
        Ok(report_json) => FromWorker::Done { job, report_json, elapsed_ms: now(scope) - started },
        Err(e) => FromWorker::Failed { job, message: format!("the report could not be encoded: {e}") },
    }
}
