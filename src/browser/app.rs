//! The page: pick or drop captures (or try the sample), watch progress, read the answer.

use super::components::capture_view::{CaptureDetail, CaptureSummary};
use super::components::findings::Findings;
use super::components::flow_table::FlowTable;
use super::components::history::History;
use super::components::job_list::JobList;
use super::components::relay_lists::RelayLists;
use super::components::relay_lookup::RelayLookup;
use super::components::timeline::Timeline;
use super::download::save_text;
use super::protocol::FromWorker;
use super::state::{
    cross_capture, export_json, relay_lists_in_use, Action, AppState, FlowFilter, HistoryItem, JobStatus,
};
use super::storage;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DragEvent, File, HtmlInputElement, MessageEvent, Worker};
use yew::prelude::*;

pub fn start() {
    console_error_panic_hook::set_once();
    // Offline once loaded: the service worker caches the page's own files.
    let _ = gloo::utils::window().navigator().service_worker().register("./sw.js");
    yew::Renderer::<App>::new().render();
}

/// Yew's handle on the pure reducer.
#[derive(Default, PartialEq)]
struct Store(AppState);

impl Reducible for Store {
    type Action = Action;
    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        Rc::new(Store(self.0.apply(action)))
    }
}

/// A worker with the closures that must live as long as it does.
type LiveWorker = (Worker, Closure<dyn FnMut(MessageEvent)>, Closure<dyn FnMut(web_sys::ErrorEvent)>);

/// The worker and what it is doing; not part of the rendered state.
#[derive(Default)]
struct Runner {
    worker: Option<LiveWorker>,
    running: Option<u32>,
    files: HashMap<u32, File>,
    /// Relay lists the user loaded, sent with every job.
    relay_lists: Vec<File>,
    /// Messages (lookups) waiting for the worker's Ready.
    pending: Vec<JsValue>,
    ready: bool,
}

/// Sends a message that is not a job (a lookup, a prefetch) to the worker, starting it if
/// needed; messages wait for its Ready.
fn send_to_worker(runner: &Rc<RefCell<Runner>>, dispatch: UseReducerDispatcher<Store>, msg: JsValue) {
    let worker = {
        let r = runner.borrow();
        r.worker.as_ref().map(|(w, _, _)| w.clone()).filter(|_| r.ready)
    };
    match worker {
        Some(w) => {
            let _ = w.post_message(&msg);
        }
        None => {
            runner.borrow_mut().pending.push(msg);
            if runner.borrow().worker.is_none() {
                spawn_worker(runner, dispatch);
            }
        }
    }
}

/// Reloads the history list from IndexedDB into the state.
fn refresh_history(dispatch: UseReducerDispatcher<Store>) {
    wasm_bindgen_futures::spawn_local(async move {
        if let Ok(entries) = storage::list().await {
            let items = entries
                .into_iter()
                .map(|e| HistoryItem { id: e.id, date: e.date, file: e.file, size: e.size, tor_flows: e.tor_flows })
                .collect();
            dispatch.dispatch(Action::History(items));
        }
    });
}

/// Saves a finished report in the history (the report only, never the capture).
/// `report_json` is the report as the worker posted it (UTF-8 bytes): handed to IndexedDB as it
/// is, never copied into the wasm memory a second time (the page keeps one copy there, to parse).
fn save_history(file: String, size: u64, tor: u64, report_json: JsValue, dispatch: UseReducerDispatcher<Store>) {
    wasm_bindgen_futures::spawn_local(async move {
        let date = String::from(js_sys::Date::new_0().to_iso_string());
        if storage::add(&date, &file, size, tor, &report_json).await.is_ok() {
            refresh_history(dispatch);
        }
    });
}

/// A message as the worker posted it (`FromWorker` through serde-wasm-bindgen: a plain object
/// tagged by `kind`), read field by field: the derived deserializer and serde-wasm-bindgen's
/// reading half cost the page 11.8 KiB of its gzipped download (401 against 389 KiB).
fn from_worker(v: &JsValue) -> Option<FromWorker> {
    let field = |k: &str| js_sys::Reflect::get(v, &JsValue::from_str(k)).ok();
    let number = |k: &str| field(k).and_then(|f| f.as_f64().or_else(|| f.as_string()?.parse().ok()));
    let text = |k: &str| field(k).and_then(|f| f.as_string());
    let job = || number("job").map(|n| n as u32);
    let count = |k: &str| number(k).map(|n| n as u64);
    Some(match text("kind")?.as_str() {
        "ready" => FromWorker::Ready,
        "progress" => FromWorker::Progress {
            job: job()?,
            bytes: count("bytes")?,
            total: count("total")?,
            packets: count("packets")?,
            flows: count("flows")?,
            elapsed_ms: number("elapsed_ms")?,
        },
        "done" => FromWorker::Done {
            job: job()?,
            report_json: field("report_json").and_then(|r| storage::report_text(&r))?,
            elapsed_ms: number("elapsed_ms")?,
            tor_flows: count("tor_flows")?,
        },
        "failed" => FromWorker::Failed { job: job()?, message: text("message")? },
        "lookup" => FromWorker::Lookup { answer_json: text("answer_json")? },
        "history_cached" => {
            FromWorker::HistoryCached { years: count("years")? as u32, failed: count("failed")? as u32 }
        }
        _ => return None,
    })
}

/// The page's own module, started in a worker (web/worker.js): an ES module, so a module worker.
const WORKER_URL: &str = "./worker.js";

fn spawn_worker(runner: &Rc<RefCell<Runner>>, dispatch: UseReducerDispatcher<Store>) -> Option<Worker> {
    let options = web_sys::WorkerOptions::new();
    options.set_type(web_sys::WorkerType::Module);
    let worker = Worker::new_with_options(WORKER_URL, &options).ok()?;
    let on_message = {
        let (runner, dispatch) = (runner.clone(), dispatch.clone());
        Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let Some(msg) = from_worker(&e.data()) else { return };
            if matches!(msg, FromWorker::Ready) {
                let (worker, pending) = {
                    let mut r = runner.borrow_mut();
                    r.ready = true;
                    (r.worker.as_ref().map(|(w, _, _)| w.clone()), std::mem::take(&mut r.pending))
                };
                if let Some(w) = worker {
                    for m in pending {
                        let _ = w.post_message(&m);
                    }
                }
            }
            if matches!(msg, FromWorker::Done { .. } | FromWorker::Failed { .. }) {
                let mut r = runner.borrow_mut();
                if r.running == Some(msg.job()) {
                    r.running = None;
                    let file = r.files.remove(&msg.job());
                    if let (FromWorker::Done { tor_flows, .. }, Some(file)) = (&msg, file) {
                        let report_json = js_sys::Reflect::get(&e.data(), &JsValue::from_str("report_json")).ok();
                        if let Some(report_json) = report_json.filter(|r| !r.is_undefined()) {
                            save_history(file.name(), file.size() as u64, *tor_flows, report_json, dispatch.clone());
                        }
                    }
                }
            }
            dispatch.dispatch(Action::Worker(msg));
        })
    };
    let on_error = {
        let runner = runner.clone();
        Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |e: web_sys::ErrorEvent| {
            // The worker died (a bug or out of memory): report it next to the file, start afresh.
            let mut r = runner.borrow_mut();
            if let Some((w, _, _)) = r.worker.take() {
                w.terminate();
            }
            r.ready = false;
            dispatch.dispatch(Action::WorkerGone);
            if let Some(job) = r.running.take() {
                r.files.remove(&job);
                dispatch.dispatch(Action::WorkerDied {
                    job,
                    message: format!(
                        "the analysis worker stopped unexpectedly ({}); try again or use the CLI",
                        e.message()
                    ),
                });
            }
        })
    };
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    runner.borrow_mut().worker = Some((worker.clone(), on_message, on_error));
    Some(worker)
}

fn files_of(list: Option<web_sys::FileList>) -> Vec<File> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

#[function_component(App)]
pub fn app() -> Html {
    let store = use_reducer(Store::default);
    let runner = use_mut_ref(Runner::default);
    let dragging = use_state(|| false);
    let state = &store.0;

    // Hand the next queued file to the worker whenever it is free, loading one if needed
    // (its Ready message re-runs this).
    {
        let (runner, dispatch) = (runner.clone(), store.dispatcher());
        let next = state.next_to_run().map(|j| j.id);
        use_effect_with((next, state.worker_ready), move |(next, ready)| {
            let Some(id) = *next else { return };
            let (busy, file, worker) = {
                let r = runner.borrow();
                (r.running.is_some(), r.files.get(&id).cloned(), r.worker.as_ref().map(|(w, _, _)| w.clone()))
            };
            match (worker, *ready, busy, file) {
                (None, _, _, _) => {
                    spawn_worker(&runner, dispatch);
                }
                (Some(worker), true, false, Some(file)) => {
                    let msg = js_sys::Object::new();
                    let lists: js_sys::Array = runner.borrow().relay_lists.iter().collect();
                    let _ = js_sys::Reflect::set(&msg, &"job".into(), &JsValue::from(id));
                    let _ = js_sys::Reflect::set(&msg, &"file".into(), &file);
                    let _ = js_sys::Reflect::set(&msg, &"relays".into(), &lists);
                    if worker.post_message(&msg).is_ok() {
                        runner.borrow_mut().running = Some(id);
                        dispatch.dispatch(Action::Started(id));
                    }
                }
                (Some(_), true, false, None) => dispatch.dispatch(Action::WorkerDied {
                    job: id,
                    message: "the file is no longer available to the page; choose it again".into(),
                }),
                _ => {}
            }
        });
    }

    let enqueue = {
        let (runner, dispatch) = (runner.clone(), store.dispatcher());
        let first_id = state.next_id;
        Callback::from(move |files: Vec<File>| {
            if files.is_empty() {
                return;
            }
            let mut r = runner.borrow_mut();
            for (i, f) in files.iter().enumerate() {
                r.files.insert(first_id + i as u32, f.clone());
            }
            dispatch.dispatch(Action::Enqueue(files.iter().map(|f| (f.name(), f.size() as u64)).collect()));
        })
    };
    let on_pick = {
        let enqueue = enqueue.clone();
        Callback::from(move |e: Event| {
            if let Some(input) = e.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) {
                enqueue.emit(files_of(input.files()));
                input.set_value("");
            }
        })
    };
    let on_drop = {
        let (enqueue, dragging) = (enqueue.clone(), dragging.clone());
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            dragging.set(false);
            enqueue.emit(files_of(e.data_transfer().and_then(|d| d.files())));
        })
    };
    let on_drag_over = {
        let dragging = dragging.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            dragging.set(true);
        })
    };
    let on_drag_leave = {
        let dragging = dragging.clone();
        Callback::from(move |_: DragEvent| dragging.set(false))
    };
    let on_sample = {
        let enqueue = enqueue.clone();
        Callback::from(move |_: ()| {
            let enqueue = enqueue.clone();
            wasm_bindgen_futures::spawn_local(async move {
                if let Some(file) = fetch_sample().await {
                    enqueue.emit(vec![file]);
                }
            });
        })
    };
    // `#sample` in the address opens the built-in sample as the demo.
    {
        let on_sample = on_sample.clone();
        use_effect_with((), move |_| {
            if gloo::utils::window().location().hash().is_ok_and(|h| h == "#sample") {
                on_sample.emit(());
            }
        });
    }
    let on_cancel = {
        let (runner, dispatch) = (runner.clone(), store.dispatcher());
        Callback::from(move |id: u32| {
            let mut r = runner.borrow_mut();
            if r.running == Some(id) {
                // The worker reads synchronously; stopping it is the only way to stop at once.
                if let Some((w, _, _)) = r.worker.take() {
                    w.terminate();
                }
                r.ready = false;
                r.running = None;
                dispatch.dispatch(Action::WorkerGone);
            }
            r.files.remove(&id);
            dispatch.dispatch(Action::Cancel(id));
        })
    };
    // History survives reloads: load it once at start.
    {
        let dispatch = store.dispatcher();
        use_effect_with((), move |_| refresh_history(dispatch));
    }
    let on_relay_pick = {
        let (runner, dispatch) = (runner.clone(), store.dispatcher());
        Callback::from(move |e: Event| {
            if let Some(input) = e.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) {
                let files = files_of(input.files());
                dispatch.dispatch(Action::RelayListsLoaded(files.iter().map(|f| f.name()).collect()));
                runner.borrow_mut().relay_lists = files;
                input.set_value("");
            }
        })
    };
    let on_reopen = {
        let dispatch = store.dispatcher();
        Callback::from(move |item: HistoryItem| {
            let dispatch = dispatch.clone();
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(json) = storage::report(item.id).await {
                    dispatch.dispatch(Action::Reopen { name: item.file, size: item.size, json });
                }
            });
        })
    };
    let on_delete = {
        let dispatch = store.dispatcher();
        Callback::from(move |id: f64| {
            let dispatch = dispatch.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let _ = storage::delete(id).await;
                refresh_history(dispatch);
            });
        })
    };
    let on_clear = {
        let dispatch = store.dispatcher();
        Callback::from(move |()| {
            let dispatch = dispatch.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let _ = storage::clear().await;
                refresh_history(dispatch);
            });
        })
    };
    let on_select = {
        let dispatch = store.dispatcher();
        Callback::from(move |id: u32| dispatch.dispatch(Action::Select(id)))
    };
    let on_filter = {
        let dispatch = store.dispatcher();
        Callback::from(move |f: FlowFilter| dispatch.dispatch(Action::Filter(f)))
    };
    let on_export_json = {
        let jobs = state.jobs.clone();
        Callback::from(move |_| save_text("torsift-report.json", "application/json", &export_json(&jobs)))
    };
    let on_export_csv = {
        let jobs = state.jobs.clone();
        Callback::from(move |_| save_text("torsift-flows.csv", "text/csv", &super::state::export_csv(&jobs)))
    };
    let on_lookup = {
        let (runner, dispatch) = (runner.clone(), store.dispatcher());
        Callback::from(move |(address, date): (String, String)| {
            let msg = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&msg, &"lookup".into(), &address.into());
            let _ = js_sys::Reflect::set(&msg, &"date".into(), &date.into());
            dispatch.dispatch(Action::LookupStarted);
            send_to_worker(&runner, dispatch.clone(), msg.into());
        })
    };
    let on_offline = {
        let (runner, dispatch) = (runner.clone(), store.dispatcher());
        Callback::from(move |()| {
            let msg = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&msg, &"prefetch_history".into(), &JsValue::TRUE);
            send_to_worker(&runner, dispatch.clone(), msg.into());
        })
    };
    let on_print = Callback::from(|_| {
        let _ = gloo::utils::window().print();
    });

    let done: Vec<(u32, String, Rc<super::report::Report>)> = state
        .jobs
        .iter()
        .filter_map(|j| match &j.status {
            JobStatus::Done { report, .. } => Some((j.id, j.name.clone(), report.clone())),
            _ => None,
        })
        .collect();
    let selected = state.selected.and_then(|id| done.iter().find(|(jid, _, _)| *jid == id)).cloned();

    html! {
        <main>
            <header>
                <h1>{ "torsift" }</h1>
                <p class="tagline">{ "Did anything in this capture use Tor? Everything runs in this page: your captures never leave this machine." }</p>
            </header>
            <section class={classes!("drop", (*dragging).then_some("dragging"))} id="drop-zone" data-testid="drop-zone"
                ondrop={on_drop} ondragover={on_drag_over} ondragleave={on_drag_leave}>
                <p>{ "Drop pcap / pcapng files here (gzip is fine), or" }</p>
                <label class="button">
                    { "choose files" }
                    <input type="file" multiple=true data-testid="file-input" id="file-input" accept=".pcap,.pcapng,.cap,.gz,.pcap.gz,.pcapng.gz" onchange={on_pick} />
                </label>
                <button class="secondary" data-testid="try-sample" onclick={on_sample.reform(|_| ())}>{ "try the sample" }</button>
            </section>
            <RelayLists in_use={relay_lists_in_use(&state.jobs)} loaded={state.loaded_lists.clone()} on_pick={on_relay_pick} />
            <RelayLookup answer={state.lookup.clone()} busy={state.looking_up} offline={state.history_offline}
                on_lookup={on_lookup} on_offline={on_offline} />
            <div data-testid="analysis-status" data-state={state.overall()} class="status" role="status" aria-live="polite">
                { match state.overall() {
                    "idle" => "Nothing analysed yet.",
                    "running" => "Analysing…",
                    "done" => "Done.",
                    _ => "Analysis failed.",
                } }
            </div>
            <JobList jobs={state.jobs.clone()} selected={state.selected} on_cancel={on_cancel} on_select={on_select.clone()} />
            if !done.is_empty() {
                <section class="batch" aria-label="analysed captures">
                    <div class="toolbar">
                        <h2>{ "Captures" }</h2>
                        <button data-testid="export-json" onclick={on_export_json}>{ "Export JSON" }</button>
                        <button class="secondary" data-testid="export-csv" onclick={on_export_csv}>{ "Export flows CSV" }</button>
                        <button class="secondary" data-testid="print" onclick={on_print}>{ "Print report" }</button>
                    </div>
                    <table>
                        <thead><tr><th>{ "file" }</th><th>{ "format" }</th><th class="num">{ "packets" }</th>
                            <th class="num">{ "flows" }</th><th class="num">{ "Tor flows" }</th><th>{ "read" }</th></tr></thead>
                        <tbody>
                            { for done.iter().map(|(id, name, report)| {
                                let id = *id;
                                html!{ <CaptureSummary name={name.clone()} report={report.clone()}
                                    selected={state.selected == Some(id)} on_select={on_select.reform(move |_| id)} /> }
                            }) }
                        </tbody>
                    </table>
                    { cross_view(&state.jobs) }
                </section>
            }
            if let Some((_, name, report)) = selected {
                <CaptureDetail name={name.clone()} report={report.clone()} />
                <Timeline report={report.clone()} filter={state.filter.clone()} on_filter={on_filter.clone()} />
                <Findings report={report.clone()} />
                <FlowTable report={report} filter={state.filter.clone()} on_filter={on_filter} />
            }
            <History items={state.history.clone()} on_reopen={on_reopen} on_delete={on_delete} on_clear={on_clear} />
            <footer>{ format!("torsift {} · no network requests · ", env!("CARGO_PKG_VERSION")) }
                <a href="https://github.com/" rel="noreferrer">{ "source" }</a></footer>
        </main>
    }
}

/// The built-in sample capture, served next to the page.
async fn fetch_sample() -> Option<File> {
    let window = gloo::utils::window();
    let response: web_sys::Response =
        wasm_bindgen_futures::JsFuture::from(window.fetch_with_str("./sample.pcap")).await.ok()?.dyn_into().ok()?;
    if !response.ok() {
        return None;
    }
    let blob: web_sys::Blob =
        wasm_bindgen_futures::JsFuture::from(response.blob().ok()?).await.ok()?.dyn_into().ok()?;
    File::new_with_blob_sequence(&js_sys::Array::of1(&blob), "sample.pcap").ok()
}

/// Hosts and relays that appear in more than one capture of the batch.
fn cross_view(jobs: &[super::state::Job]) -> Html {
    let (hosts, relays) = cross_capture(jobs);
    if hosts.is_empty() && relays.is_empty() {
        return html! {};
    }
    let rows = |kind: &'static str, items: Vec<(String, Vec<String>)>| {
        items
            .into_iter()
            .map(move |(addr, files)| html! { <tr><td>{ kind }</td><td class="addr">{ addr }</td><td>{ files.join(", ") }</td></tr> })
    };
    html! {
        <div class="cross" data-testid="cross-capture">
            <h3>{ "In more than one capture" }</h3>
            <table>
                <thead><tr><th>{ "what" }</th><th>{ "address" }</th><th>{ "captures" }</th></tr></thead>
                <tbody>{ for rows("Tor host", hosts) }{ for rows("relay / bridge", relays) }</tbody>
            </table>
        </div>
    }
}
