//! Tor findings grouped by local host: when, how much, through which relays or bridges.

use super::format::{human_bytes, s, thousands, u, when};
use crate::browser::report::Report;
use serde_json::Value;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub report: Rc<Report>,
}

#[function_component(Findings)]
pub fn findings(props: &Props) -> Html {
    let report = &props.report;
    let hosts = report.capture["hosts"].as_array().cloned().unwrap_or_default();
    if hosts.is_empty() {
        return html! {};
    }
    // Each Tor flow's object is read once, for its host's evidence.
    let tor_flows: Vec<(&str, Value)> =
        report.flows.iter().filter(|f| f.is_tor()).map(|f| (f.local_host(), report.flow(f))).collect();
    html! {
        <section class="findings" aria-label="Tor findings by host" data-testid="findings">
            <h2>{ "Who used Tor" }</h2>
            { for hosts.iter().map(|h| host(h, &tor_flows)) }
        </section>
    }
}

fn host(h: &Value, tor_flows: &[(&str, Value)]) -> Html {
    let verdicts = h["verdicts"].as_object().cloned().unwrap_or_default();
    let peers = h["peers"].as_array().cloned().unwrap_or_default();
    html! {
        <article class="host" data-testid="host" data-host={s(&h["host"])}>
            <h3>{ s(&h["host"]) }</h3>
            <p class="numbers">
                { format!("{} flows · {} · {} → {}", thousands(u(&h["flows"])), human_bytes(u(&h["bytes"])), when(&s(&h["first_seen"])), when(&s(&h["last_seen"]))) }
            </p>
            <p>{ for verdicts.iter().map(|(k, v)| html!{ <span class="tag">{ format!("{k}: {}", u(v)) }</span> }) }</p>
            if let Some(t) = h["transports"].as_array().filter(|t| !t.is_empty()) {
                <p data-testid="host-transports">{ "Pluggable transports: " }
                    { for t.iter().map(|name| html!{ <span class="tag transport">{ s(name) }</span> }) }</p>
            }
            { host_evidence(h, tor_flows) }
            <table>
                <thead><tr><th>{ "peer (relay, bridge or exit)" }</th><th>{ "nickname" }</th><th>{ "fingerprint" }</th><th>{ "country" }</th>
                    <th class="num">{ "flows" }</th><th class="num">{ "bytes" }</th></tr></thead>
                <tbody>
                    { for peers.iter().take(50).map(|p| html!{
                        <tr>
                            <td class="addr">{ s(&p["endpoint"]) }</td>
                            <td>{ s(&p["nickname"]) }</td>
                            <td class="addr">{ s(&p["fingerprint"]) }</td>
                            <td>{ s(&p["country"]) }</td>
                            <td class="num">{ thousands(u(&p["flows"])) }</td>
                            <td class="num">{ human_bytes(u(&p["bytes"])) }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
        </article>
    }
}

/// The evidence behind a host's Tor verdicts: a card per kind (as its first flow showed it),
/// with how many of the host's Tor flows showed that kind.
fn host_evidence(h: &Value, tor_flows: &[(&str, Value)]) -> Html {
    let host = h["host"].as_str().unwrap_or("");
    let mut kinds: Vec<(&Value, u64)> = Vec::new();
    for (_, f) in tor_flows.iter().filter(|(local, _)| *local == host) {
        for e in f["evidence"].as_array().into_iter().flatten() {
            match kinds.iter_mut().find(|(k, _)| k["kind"] == e["kind"]) {
                Some((_, n)) => *n += 1,
                None => kinds.push((e, 1)),
            }
        }
    }
    html! {
        <details class="host-evidence" data-testid="host-evidence">
            <summary>{ format!("Evidence: {} kinds", kinds.len()) }</summary>
            <div class="cards">
                { for kinds.iter().map(|(e, n)| html!{
                    <div>{ super::evidence_card::card(e) }<p class="numbers">{ format!("in {n} of its Tor flows") }</p></div>
                }) }
            </div>
        </details>
    }
}
