//! The flow table: filter, sort, paginate (fast at 100k+ flows: only one page is rendered).

use super::format::{s, thousands, u};
use crate::browser::state::{filtered_flows, FlowFilter, FlowSort, FLOWS_PER_PAGE};
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

#[function_component(FlowTable)]
pub fn flow_table(props: &Props) -> Html {
    let flows = filtered_flows(&props.report, &props.filter);
    let pages = flows.len().div_ceil(FLOWS_PER_PAGE).max(1);
    let page = props.filter.page.min(pages - 1);
    let shown = flows.iter().skip(page * FLOWS_PER_PAGE).take(FLOWS_PER_PAGE);
    let f = props.filter.clone();
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
    let on_sort = select(|f, v| FlowFilter {
        sort: match v.as_str() {
            "bytes" => FlowSort::BytesDesc,
            "packets" => FlowSort::PacketsDesc,
            _ => FlowSort::Start,
        },
        ..f
    });
    let go = |to: usize| {
        let (f, cb) = (f.clone(), props.on_filter.clone());
        Callback::from(move |_| cb.emit(FlowFilter { page: to, ..f.clone() }))
    };
    html! {
        <section class="flows" aria-label="flows">
            <div class="toolbar">
                <input type="search" placeholder="filter: address, port, protocol" aria-label="filter flows"
                    data-testid="flow-filter" value={props.filter.text.clone()} oninput={on_text} />
                <select aria-label="verdict" data-testid="verdict-filter" onchange={on_verdict}>
                    <option value="all" selected={f.verdict.is_empty() || f.verdict == "all"}>{ "all verdicts" }</option>
                    <option value="tor" selected={f.verdict == "tor"}>{ "any Tor verdict" }</option>
                    <option value="none" selected={f.verdict == "none"}>{ "no Tor" }</option>
                </select>
                <select aria-label="protocol" onchange={on_proto}>
                    <option value="all" selected={f.proto.is_empty() || f.proto == "all"}>{ "tcp + udp" }</option>
                    <option value="tcp" selected={f.proto == "tcp"}>{ "tcp" }</option>
                    <option value="udp" selected={f.proto == "udp"}>{ "udp" }</option>
                </select>
                <select aria-label="sort" onchange={on_sort}>
                    <option value="start" selected={f.sort == FlowSort::Start}>{ "by start time" }</option>
                    <option value="bytes" selected={f.sort == FlowSort::BytesDesc}>{ "most bytes" }</option>
                    <option value="packets" selected={f.sort == FlowSort::PacketsDesc}>{ "most packets" }</option>
                </select>
                <span class="numbers" data-testid="flow-count">{ format!("{} flows", thousands(flows.len() as u64)) }</span>
            </div>
            <table>
                <thead><tr>
                    <th>{ "verdict" }</th><th>{ "proto" }</th><th>{ "client" }</th><th>{ "server" }</th>
                    <th class="num">{ "packets" }</th><th class="num">{ "bytes" }</th><th>{ "first seen" }</th><th>{ "evidence" }</th>
                </tr></thead>
                <tbody>
                    { for shown.map(|flow| html!{ <FlowRow flow={(*flow).clone()} /> }) }
                </tbody>
            </table>
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
            { row(&props.flow, toggle, *open) }
            if *open {
                <tr class="detail" data-testid="flow-detail"><td colspan="8">{ detail(&props.flow) }</td></tr>
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
                { for evidence.iter().map(|e| html!{
                    <dl class="facts">
                        { for e.as_object().into_iter().flatten().map(|(k, v)| fact(k, v)) }
                    </dl>
                }) }
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

fn row(flow: &Value, on_toggle: Callback<MouseEvent>, open: bool) -> Html {
    let verdict = flow["verdict"].as_str().unwrap_or("none").to_string();
    let explanation = flow["explanation"].as_str().unwrap_or("").to_string();
    // A UDP flow without a verdict still says what its datagrams were (STUN, a DTLS handshake).
    let explanation = if explanation.is_empty() { datagram_summary(&flow["datagrams"]) } else { explanation };
    html! {
        <tr data-testid="flow-row" onclick={on_toggle} aria-expanded={open.to_string()} tabindex="0" data-verdict={verdict.clone()} data-client={s(&flow["client"])} data-server={s(&flow["server"])}
            class={classes!((verdict != "none").then_some("tor"))}>
            <td><span class={classes!("verdict", verdict.clone())}>{ verdict.clone() }</span>
                { flow["confidence"].as_str().map(|c| html!{ <small>{ format!(" {c}") }</small> }) }</td>
            <td>{ s(&flow["proto"]) }</td>
            <td class="addr">{ s(&flow["client"]) }</td>
            <td class="addr">{ s(&flow["server"]) }</td>
            <td class="num">{ thousands(u(&flow["packets"])) }</td>
            <td class="num">{ thousands(u(&flow["bytes"])) }</td>
            <td>{ s(&flow["first_seen"]) }</td>
            <td class="evidence">{ explanation }</td>
        </tr>
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
