//! One capture: the answer first (verdict banner), then the facts of the file.

use super::format::{human_bytes, s, thousands, u, when};
use crate::browser::report::Report;
use std::rc::Rc;
use yew::prelude::*;

/// The batch table: one summary row per analysed capture (the page's `capture-summary` hook).
#[derive(Properties, PartialEq)]
pub struct SummaryProps {
    pub name: String,
    pub report: Rc<Report>,
    pub selected: bool,
    pub on_select: Callback<()>,
}

#[function_component(CaptureSummary)]
pub fn capture_summary(props: &SummaryProps) -> Html {
    let r = &props.report.capture;
    let flows = props.report.flows.len();
    let tor = props.report.tor_flows();
    let onclick = props.on_select.reform(|_| ());
    html! {
        <tr data-testid="capture-summary" data-file={props.name.clone()} data-packets={u(&r["packets"]).to_string()}
            data-flows={flows.to_string()} data-tor-flows={tor.to_string()}
            class={classes!(props.selected.then_some("selected"), (tor > 0).then_some("tor"))}>
            <td><button class="link" {onclick}>{ props.name.clone() }</button></td>
            <td>{ s(&r["format"]) }</td>
            <td class="num">{ thousands(u(&r["packets"])) }</td>
            <td class="num">{ thousands(flows as u64) }</td>
            <td class="num">{ if tor > 0 { html!{ <strong>{ thousands(tor as u64) }</strong> } } else { html!{ "0" } } }</td>
            <td>{ if r["error"].is_null() { html!{ "complete" } } else { html!{ <span class="error">{ "cut short" }</span> } } }</td>
        </tr>
    }
}

#[derive(Properties, PartialEq)]
pub struct DetailProps {
    pub name: String,
    pub report: Rc<Report>,
}

/// The verdict banner and capture facts of the selected capture.
#[function_component(CaptureDetail)]
pub fn capture_detail(props: &DetailProps) -> Html {
    let r = &props.report.capture;
    let flows = &props.report.flows;
    let tor = props.report.tor_flows();
    let hosts = r["hosts"].as_array().cloned().unwrap_or_default();
    let best = ["high", "medium", "low"]
        .into_iter()
        .find(|c| flows.iter().any(|f| f.confidence.as_deref() == Some(*c)))
        .unwrap_or("low");
    let tor_bytes: u64 = hosts.iter().map(|h| u(&h["bytes"])).sum();
    let first = when(hosts.iter().filter_map(|h| h["first_seen"].as_str()).min().unwrap_or(""));
    let last = when(hosts.iter().filter_map(|h| h["last_seen"].as_str()).max().unwrap_or(""));
    let banner = if tor > 0 {
        html! { <div class="banner tor" role="status" data-testid="verdict-banner" data-verdict="tor">
            <strong>{ format!("Tor seen: {tor} flow(s) from {} host(s)", hosts.len()) }</strong>
            { format!(" ({}), {first} → {last}; strongest evidence: {best} confidence. Who, through which relays, and why: below.",
                human_bytes(tor_bytes)) }
        </div> }
    } else {
        html! { <div class="banner clean" role="status" data-testid="verdict-banner" data-verdict="none">
            <strong>{ "No Tor evidence found" }</strong>
            { format!(" in {} flows.", thousands(flows.len() as u64)) }
        </div> }
    };
    let link_types = r["link_types"].as_array().cloned().unwrap_or_default();
    let anomalies = r["anomalies"].as_object().cloned().unwrap_or_default();
    html! {
        <section class="capture" aria-label={format!("capture {}", props.name)}>
            <h2>{ props.name.clone() }</h2>
            { banner }
            <dl class="facts">
                <dt>{ "Format" }</dt><dd>{ s(&r["format"]) }</dd>
                <dt>{ "Packets" }</dt><dd>{ thousands(u(&r["packets"])) }</dd>
                <dt>{ "Bytes on wire" }</dt><dd>{ human_bytes(u(&r["bytes"])) }</dd>
                <dt>{ "First packet" }</dt><dd title={s(&r["first_seen"])}>{ when(&s(&r["first_seen"])) }</dd>
                <dt>{ "Last packet" }</dt><dd title={s(&r["last_seen"])}>{ when(&s(&r["last_seen"])) }</dd>
                <dt>{ "Link types" }</dt>
                <dd>{ for link_types.iter().map(|l| html!{
                    <span class={classes!("tag", (!l["decoded"].as_bool().unwrap_or(false)).then_some("warn"))}>
                        { format!("{} ({}): {} packets{}", s(&l["name"]), u(&l["link_type"]), thousands(u(&l["packets"])),
                            if l["decoded"].as_bool().unwrap_or(false) { "" } else { ", not decoded" }) }
                    </span> }) }</dd>
                if !anomalies.is_empty() {
                    <dt>{ "Anomalies" }</dt>
                    <dd>{ for anomalies.iter().map(|(k, v)| html!{ <span class="tag warn">{ format!("{k}: {}", thousands(u(v))) }</span> }) }</dd>
                }
                if let Some(msg) = r["error"]["message"].as_str() {
                    <dt>{ "Error" }</dt>
                    <dd class="error" role="alert">{ format!("{msg} (byte offset {}); everything before it is shown", r["error"]["offset"]) }</dd>
                }
            </dl>
        </section>
    }
}
