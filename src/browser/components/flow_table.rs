//! The flow table: filter, sort by any column, paginate (fast at 100k+ flows: only one page of
//! rows is rendered). Endpoints never wrap (monospace, cut with an ellipsis, whole on hover,
//! copied with one click); times are UTC or local, with the offset from the capture's start.

use super::format::{duration_ms, s, thousands, u};
use crate::browser::state::{
    clock, filtered_flows, report_seconds, verdict_shown, FlowColumn, FlowFilter, FlowSort, FLOWS_PER_PAGE,
};
use serde_json::Value;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub report: Rc<Value>,
    pub filter: FlowFilter,
    pub on_filter: Callback<FlowFilter>,
}

/// How the table shows times: the capture's start (for offsets) and the zone.
#[derive(Clone, Copy, PartialEq)]
struct Clock {
    start: f64,
    local: bool,
}

impl Clock {
    /// Minutes east of UTC at `seconds`, in the browser's zone when local time is asked for.
    fn offset_minutes(self, seconds: f64) -> i64 {
        if !self.local {
            return 0;
        }
        -(js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(seconds * 1000.0)).get_timezone_offset() as i64)
    }

    fn show(self, seconds: f64) -> String {
        clock(seconds, self.offset_minutes(seconds))
    }
}

const COLUMNS: [(FlowColumn, &str, bool); 8] = [
    (FlowColumn::Verdict, "verdict", false),
    (FlowColumn::Proto, "proto", false),
    (FlowColumn::Client, "client", false),
    (FlowColumn::Server, "server", false),
    (FlowColumn::Packets, "packets", true),
    (FlowColumn::Bytes, "bytes", true),
    (FlowColumn::Start, "start", false),
    (FlowColumn::Duration, "duration", true),
];

#[function_component(FlowTable)]
pub fn flow_table(props: &Props) -> Html {
    let flows = filtered_flows(&props.report, &props.filter);
    let pages = flows.len().div_ceil(FLOWS_PER_PAGE).max(1);
    let page = props.filter.page.min(pages - 1);
    let shown = flows.iter().skip(page * FLOWS_PER_PAGE).take(FLOWS_PER_PAGE);
    let f = props.filter.clone();
    let verdict = verdict_shown(&props.report, &f).to_string();
    let clock = Clock {
        start: props.report["first_seen"].as_str().and_then(report_seconds).unwrap_or(0.0),
        local: f.local_time,
    };
    let on_text = {
        let (f, cb) = (f.clone(), props.on_filter.clone());
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) {
                cb.emit(FlowFilter { text: input.value(), page: 0, ..f.clone() });
            }
        })
    };
    let select = |apply: fn(FlowFilter, String) -> FlowFilter| {
        let (f, cb) = (f.clone(), props.on_filter.clone());
        Callback::from(move |e: Event| {
            if let Some(sel) = e.target().and_then(|t| t.dyn_into::<HtmlSelectElement>().ok()) {
                cb.emit(apply(FlowFilter { page: 0, ..f.clone() }, sel.value()));
            }
        })
    };
    let on_verdict = select(|f, v| FlowFilter { verdict: v, ..f });
    let on_proto = select(|f, v| FlowFilter { proto: v, ..f });
    let on_zone = select(|f, v| FlowFilter { local_time: v == "local", ..f });
    let go = |to: usize| {
        let (f, cb) = (f.clone(), props.on_filter.clone());
        Callback::from(move |_| cb.emit(FlowFilter { page: to, ..f.clone() }))
    };
    let clear_window = {
        let (f, cb) = (f.clone(), props.on_filter.clone());
        Callback::from(move |_| cb.emit(FlowFilter { window: None, page: 0, ..f.clone() }))
    };
    let header = |(column, label, numeric): (FlowColumn, &'static str, bool)| {
        let sorted = f.sort.column == column;
        // A first click sorts numbers from the largest, text from the start; a second reverses.
        let next = FlowSort { column, descending: if sorted { !f.sort.descending } else { numeric } };
        let onclick = {
            let (f, cb) = (f.clone(), props.on_filter.clone());
            Callback::from(move |_| cb.emit(FlowFilter { sort: next, page: 0, ..f.clone() }))
        };
        let aria_sort = match (sorted, f.sort.descending) {
            (false, _) => "none",
            (true, false) => "ascending",
            (true, true) => "descending",
        };
        let arrow = match aria_sort {
            "ascending" => " ▲",
            "descending" => " ▼",
            _ => "",
        };
        html! {
            <th class={classes!(numeric.then_some("num"))} aria-sort={aria_sort}>
                <button class="sort" {onclick} data-testid={format!("sort-{label}")}>{ label }{ arrow }</button>
            </th>
        }
    };
    html! {
        <section class="flows" aria-label="flows">
            <div class="toolbar">
                <input type="search" placeholder="filter: address, port, protocol" aria-label="filter flows"
                    data-testid="flow-filter" value={props.filter.text.clone()} oninput={on_text} />
                <select aria-label="verdict" data-testid="verdict-filter" onchange={on_verdict}>
                    <option value="all" selected={verdict == "all"}>{ "all verdicts" }</option>
                    <option value="tor" selected={verdict == "tor"}>{ "Tor only" }</option>
                    <option value="none" selected={verdict == "none"}>{ "no Tor" }</option>
                </select>
                <select aria-label="protocol" onchange={on_proto}>
                    <option value="all" selected={f.proto.is_empty() || f.proto == "all"}>{ "tcp + udp" }</option>
                    <option value="tcp" selected={f.proto == "tcp"}>{ "tcp" }</option>
                    <option value="udp" selected={f.proto == "udp"}>{ "udp" }</option>
                </select>
                <select aria-label="time zone" data-testid="time-zone" onchange={on_zone}>
                    <option value="utc" selected={!f.local_time}>{ "times in UTC" }</option>
                    <option value="local" selected={f.local_time}>{ "local time" }</option>
                </select>
                if let Some((from, to)) = f.window {
                    <button class="secondary" data-testid="time-window" onclick={clear_window}
                        data-from={from.to_string()} data-to={to.to_string()}>{ "time window ✕" }</button>
                }
                <span class="numbers" data-testid="flow-count" role="status">{ format!("{} flows", thousands(flows.len() as u64)) }</span>
            </div>
            <div class="table-scroll">
                <table>
                    <thead><tr>
                        { for COLUMNS.into_iter().map(header) }
                        <th>{ "evidence" }</th>
                    </tr></thead>
                    <tbody>
                        { for shown.map(|flow| html!{ <FlowRow flow={(*flow).clone()} {clock} /> }) }
                    </tbody>
                </table>
            </div>
            if pages > 1 {
                <nav class="pager" aria-label="pages">
                    <button class="secondary" disabled={page == 0} onclick={go(page.saturating_sub(1))}>{ "‹ previous" }</button>
                    <span>{ format!("page {} of {}", page + 1, pages) }</span>
                    <button class="secondary" disabled={page + 1 >= pages} onclick={go(page + 1)}>{ "next ›" }</button>
                </nav>
            }
        </section>
    }
}

/// One flow: a summary row, and its evidence and stream facts in a disclosure below.
#[derive(Properties, PartialEq)]
struct RowProps {
    flow: Value,
    clock: Clock,
}

#[function_component(FlowRow)]
fn flow_row(props: &RowProps) -> Html {
    let open = use_state(|| false);
    let toggle = {
        let open = open.clone();
        Callback::from(move |_| open.set(!*open))
    };
    html! {
        <>
            { row(&props.flow, props.clock, toggle, *open) }
            if *open {
                <tr class="detail" data-testid="flow-detail"><td colspan="9">{ detail(&props.flow) }</td></tr>
            }
        </>
    }
}

/// Evidence in plain words with its raw facts, then what the stream's start showed.
fn detail(flow: &Value) -> Html {
    let evidence = flow["evidence"].as_array().cloned().unwrap_or_default();
    let stream = &flow["stream"];
    let datagrams = &flow["datagrams"];
    let fact = |k: &str, v: &Value| -> Html {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Null => return html! {},
            other => other.to_string(),
        };
        html! { <><dt>{ k.to_string() }</dt><dd>{ text }</dd></> }
    };
    html! {
        <div class="flow-detail">
            if !evidence.is_empty() {
                <h4>{ "Evidence" }</h4>
                <div class="cards">{ for evidence.iter().map(super::evidence_card::card) }</div>
            }
            if datagrams.is_object() {
                <h4>{ "Datagrams (STUN, DTLS)" }</h4>
                <dl class="facts" data-testid="flow-datagrams">
                    { for datagrams.as_object().into_iter().flatten().filter(|(k, _)| *k != "dtls_client_hello").map(|(k, v)| fact(k, v)) }
                    { for ["ja4", "extensions", "cipher_suites", "supported_groups"].iter().map(|k| fact(&format!("dtls {k}"), &datagrams["dtls_client_hello"][*k])) }
                </dl>
            }
            if stream.is_object() {
                <h4>{ "Stream" }</h4>
                <dl class="facts">
                    { for stream.as_object().into_iter().flatten().map(|(k, v)| fact(k, v)) }
                </dl>
            }
            <h4>{ "Counters" }</h4>
            <dl class="facts">
                { fact("to server", &flow["to_server"]) }
                { fact("to client", &flow["to_client"]) }
                { fact("tcp flags", &flow["tcp_flags"]) }
                { fact("last seen", &flow["last_seen"]) }
            </dl>
        </div>
    }
}

fn row(flow: &Value, clock: Clock, on_toggle: Callback<MouseEvent>, open: bool) -> Html {
    let verdict = flow["verdict"].as_str().unwrap_or("none").to_string();
    let explanation = flow["explanation"].as_str().unwrap_or("").to_string();
    // A UDP flow without a verdict still says what its datagrams were (STUN, a DTLS handshake).
    let explanation = if explanation.is_empty() { datagram_summary(&flow["datagrams"]) } else { explanation };
    let (client, server) = (s(&flow["client"]), s(&flow["server"]));
    let first = flow["first_seen"].as_str().and_then(report_seconds).unwrap_or(clock.start);
    let last = flow["last_seen"].as_str().and_then(report_seconds).unwrap_or(first);
    // The row opens on a click anywhere; the disclosure button is its keyboard and screen-reader
    // handle (a click on it reaches the row).
    html! {
        <tr data-testid="flow-row" onclick={on_toggle} data-verdict={verdict.clone()} data-client={client.clone()} data-server={server.clone()}
            class={classes!((verdict != "none").then_some("tor"))}>
            <td class="nowrap"><button class="disclose" aria-expanded={open.to_string()}
                    aria-label={format!("details of {client} to {server}")}>{ if open { "▾" } else { "▸" } }</button>
                <span class={classes!("verdict", verdict.clone())}>{ verdict.clone() }</span>
                { flow["confidence"].as_str().map(|c| html!{ <small>{ format!(" {c}") }</small> }) }</td>
            <td>{ s(&flow["proto"]) }</td>
            { endpoint(&client, "client") }
            { endpoint(&server, "server") }
            <td class="num">{ thousands(u(&flow["packets"])) }</td>
            <td class="num">{ thousands(u(&flow["bytes"])) }</td>
            <td class="nowrap"><time datetime={s(&flow["first_seen"])} title={s(&flow["first_seen"])}>{ clock.show(first) }</time>
                <small class="numbers">{ format!(" +{}", duration_ms((first - clock.start) * 1000.0)) }</small></td>
            <td class="num nowrap">{ duration_ms((last - first) * 1000.0) }</td>
            <td class="evidence">{ explanation }</td>
        </tr>
    }
}

/// An endpoint that never wraps: cut with an ellipsis, whole on hover, copied with one click.
fn endpoint(text: &str, role: &str) -> Html {
    let copy = {
        let text = text.to_string();
        Callback::from(move |e: MouseEvent| {
            // Copying is not opening the row.
            e.stop_propagation();
            let _ = gloo::utils::window().navigator().clipboard().write_text(&text);
        })
    };
    html! {
        <td class="addr"><span class="endpoint" title={text.to_string()}>{ text.to_string() }</span>
            <button class="copy" onclick={copy} aria-label={format!("copy {role} {text}")}>{ "copy" }</button></td>
    }
}

/// `STUN requests 2, ICE checks 14, DTLS ClientHello dd2i060600_… (from server)`.
fn datagram_summary(d: &Value) -> String {
    let mut parts = Vec::new();
    for (key, label) in [("stun_binding_requests", "STUN requests"), ("ice_checks", "ICE checks")] {
        if u(&d[key]) > 0 {
            parts.push(format!("{label} {}", u(&d[key])));
        }
    }
    if let Some(ja4) = d["dtls_client_hello"]["ja4"].as_str() {
        let from = if d["dtls_client_hello_from_client"] == Value::Bool(false) { "server" } else { "client" };
        parts.push(format!("DTLS ClientHello {ja4} (from {from})"));
    }
    parts.join(", ")
}
