//! Tor findings grouped by local host: when, how much, through which relays or bridges.

use super::format::{human_bytes, s, thousands, u};
use serde_json::Value;
use std::rc::Rc;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub report: Rc<Value>,
}

#[function_component(Findings)]
pub fn findings(props: &Props) -> Html {
    let hosts = props.report["hosts"].as_array().cloned().unwrap_or_default();
    if hosts.is_empty() {
        return html! {};
    }
    html! {
        <section class="findings" aria-label="Tor findings by host" data-testid="findings">
            <h2>{ "Who used Tor" }</h2>
            { for hosts.iter().map(host) }
        </section>
    }
}

fn host(h: &Value) -> Html {
    let verdicts = h["verdicts"].as_object().cloned().unwrap_or_default();
    let peers = h["peers"].as_array().cloned().unwrap_or_default();
    html! {
        <article class="host" data-testid="host" data-host={s(&h["host"])}>
            <h3>{ s(&h["host"]) }</h3>
            <p class="numbers">
                { format!("{} flows · {} · {} → {}", thousands(u(&h["flows"])), human_bytes(u(&h["bytes"])), s(&h["first_seen"]), s(&h["last_seen"])) }
            </p>
            <p>{ for verdicts.iter().map(|(k, v)| html!{ <span class="tag">{ format!("{k}: {}", u(v)) }</span> }) }</p>
            if let Some(t) = h["transports"].as_array().filter(|t| !t.is_empty()) {
                <p data-testid="host-transports">{ "Pluggable transports: " }
                    { for t.iter().map(|name| html!{ <span class="tag transport">{ s(name) }</span> }) }</p>
            }
            { timeline(h) }
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

/// Seconds since the epoch of an RFC 3339 UTC time (enough precision for a timeline).
fn seconds(t: &str) -> Option<f64> {
    let day = crate::analysis::tor::relays::list::day_of(t)?;
    let hms = t.get(11..19)?;
    let mut parts = hms.split(':').map(|p| p.parse::<f64>().ok());
    let (h, m, sec) = (parts.next()??, parts.next()??, parts.next()??);
    let frac: f64 = t.get(19..).and_then(|f| f.trim_end_matches('Z').parse::<f64>().ok()).unwrap_or(0.0);
    Some(day as f64 * 86_400.0 + h * 3600.0 + m * 60.0 + sec + frac)
}

/// A bar per peer across the host's Tor activity: when each connection was active.
fn timeline(h: &Value) -> Html {
    let (Some(start), Some(end)) =
        (h["first_seen"].as_str().and_then(seconds), h["last_seen"].as_str().and_then(seconds))
    else {
        return html! {};
    };
    let span = (end - start).max(0.001);
    let spans = h["spans"].as_array().cloned().unwrap_or_default();
    // SVG geometry attributes, not inline styles: the page's CSP forbids style attributes.
    html! {
        <svg class="timeline" viewBox="0 0 100 10" preserveAspectRatio="none" role="img"
            aria-label={format!("Tor activity over {:.1} s", span)}>
            { for spans.iter().filter_map(|s| {
                let (a, b) = (seconds(s["first_seen"].as_str()?)?, seconds(s["last_seen"].as_str()?)?);
                let left = ((a - start) / span * 100.0).clamp(0.0, 100.0);
                let width = ((b - a) / span * 100.0).clamp(0.4, (100.0 - left).max(0.4));
                Some(html!{ <rect class={classes!("span", s["verdict"].as_str().unwrap_or("tor").to_string())}
                    x={format!("{left:.2}")} y="1" width={format!("{width:.2}")} height="8"></rect> })
            }) }
        </svg>
    }
}
