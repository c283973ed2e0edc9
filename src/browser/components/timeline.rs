//! The capture at a glance: a verdict summary (flows and bytes per verdict and confidence), then
//! one row per local host that used Tor and one for all other hosts, their flows as bars over the
//! capture's time, coloured by verdict and fading with confidence. Dragging across the rows (the
//! brush) filters the flow table to that time window.
//!
//! Bars are binned (at most `BINS` per row, each showing the strongest verdict in it) so a
//! capture of 100k flows draws a few thousand rectangles, not 100k. SVG geometry attributes only:
//! the page's CSP forbids style attributes.

use super::format::{human_bytes, thousands};
use crate::browser::report::{FlowRow, Report};
use crate::browser::state::{report_seconds, FlowFilter};
use serde_json::Value;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use yew::prelude::*;

const BINS: usize = 200;
const MAX_ROWS: usize = 24;
const CONFIDENCE_CLASS: [&str; 4] = ["c0", "c1", "c2", "c3"];
const VERDICTS: [&str; 5] = ["tor", "tor-transport", "tor-directory", "tor-exit", "none"];

#[derive(Properties, PartialEq)]
pub struct Props {
    pub report: Rc<Report>,
    pub filter: FlowFilter,
    pub on_filter: Callback<FlowFilter>,
}

/// One bin of a host's row: the strongest verdict in it and that verdict's best confidence.
#[derive(Clone, Copy, Default)]
struct Bin {
    rank: Option<usize>,
    confidence: u8,
}

struct Row {
    host: String,
    tor: bool,
    flows: u64,
    bytes: u64,
    bins: Vec<Bin>,
}

fn confidence_level(c: Option<&str>) -> u8 {
    match c {
        Some("high") => 3,
        Some("medium") => 2,
        Some("low") => 1,
        _ => 0,
    }
}

/// One row per host the report names as a Tor user (they come sorted by bytes), then one row
/// for every other host together: a capture of thousands of ordinary hosts stays readable.
fn rows(report: &Value, flows: &[FlowRow], start: f64, span: f64) -> Vec<Row> {
    let row = |host: String, tor: bool| Row { host, tor, flows: 0, bytes: 0, bins: vec![Bin::default(); BINS] };
    let mut rows: Vec<Row> = report["hosts"]
        .as_array()
        .into_iter()
        .flatten()
        .take(MAX_ROWS)
        .map(|h| row(h["host"].as_str().unwrap_or("").to_string(), true))
        .collect();
    rows.push(row("other hosts".to_string(), false));
    let other = rows.len() - 1;
    for f in flows {
        let rank = VERDICTS.iter().position(|v| *v == f.verdict).unwrap_or(0);
        let host = f.local_host();
        let i = rows.iter().take(other).position(|r| r.host == host).unwrap_or(other);
        let Some(row) = rows.get_mut(i) else { continue };
        row.flows += 1;
        row.bytes += f.bytes;
        let bin = |t: Option<f64>| (((t.unwrap_or(start) - start) / span * BINS as f64) as usize).min(BINS - 1);
        let (first, last) = (bin(f.first), bin(f.last));
        for b in row.bins.iter_mut().skip(first).take(last - first + 1) {
            // Lower rank is stronger (Tor verdicts first, `none` last).
            if b.rank.is_none_or(|r| rank < r) {
                b.rank = Some(rank);
                b.confidence = 0;
            }
            if b.rank == Some(rank) {
                b.confidence = b.confidence.max(confidence_level(f.confidence.as_deref()));
            }
        }
    }
    rows.retain(|r| r.flows > 0);
    rows
}

/// Flows and bytes per verdict and confidence.
fn summary(flows: &[FlowRow]) -> Html {
    let mut counts = [[(0u64, 0u64); 4]; VERDICTS.len()];
    for f in flows {
        let rank = VERDICTS.iter().position(|v| f.verdict == *v).unwrap_or(0);
        if let Some(c) =
            counts.get_mut(rank).and_then(|r| r.get_mut(usize::from(3 - confidence_level(f.confidence.as_deref()))))
        {
            c.0 += 1;
            c.1 += f.bytes;
        }
    }
    let cells = counts.iter().zip(VERDICTS).flat_map(|(row, verdict)| {
        row.iter()
            .zip(["high", "medium", "low", "—"])
            .filter(|(c, _)| c.0 > 0)
            .map(move |(c, confidence)| (verdict, confidence, *c))
    });
    html! {
        <table class="verdict-summary" data-testid="verdict-summary">
            <thead><tr><th>{ "verdict" }</th><th>{ "confidence" }</th><th class="num">{ "flows" }</th><th class="num">{ "bytes" }</th></tr></thead>
            <tbody>
                { for cells.map(|(verdict, confidence, (n, bytes))| html!{ <tr data-verdict={verdict}>
                    <td><span class={classes!("verdict", verdict)}>{ verdict }</span></td><td>{ confidence }</td>
                    <td class="num">{ thousands(n) }</td><td class="num">{ human_bytes(bytes) }</td></tr> }) }
            </tbody>
        </table>
    }
}

#[function_component(Timeline)]
pub fn timeline(props: &Props) -> Html {
    let drag = use_state(|| None::<f64>);
    let r = &props.report.capture;
    let flows = &props.report.flows;
    let (Some(start), Some(end)) =
        (r["first_seen"].as_str().and_then(report_seconds), r["last_seen"].as_str().and_then(report_seconds))
    else {
        return html! {};
    };
    let span = (end - start).max(1e-6);
    let rows = rows(r, flows, start, span);
    // Where a pointer event falls, as a time, from the row's box.
    let time_at = move |e: &MouseEvent| {
        // Yew delegates events to its root: the row is the svg around what was hit.
        let target = e.target()?.dyn_into::<web_sys::Element>().ok()?.closest("svg").ok()??;
        let rect = target.get_bounding_client_rect();
        let x = ((f64::from(e.client_x()) - rect.left()) / rect.width().max(1.0)).clamp(0.0, 1.0);
        Some(start + x * span)
    };
    let on_down = {
        let drag = drag.clone();
        Callback::from(move |e: MouseEvent| {
            e.prevent_default();
            drag.set(time_at(&e));
        })
    };
    let on_up = {
        let (drag, f, cb) = (drag.clone(), props.filter.clone(), props.on_filter.clone());
        Callback::from(move |e: MouseEvent| {
            if let (Some(from), Some(to)) = (*drag, time_at(&e)) {
                let (from, to) = (from.min(to), from.max(to));
                // A click without a drag clears the window.
                let window = (to - from > span / 1000.0).then_some((from, to));
                cb.emit(FlowFilter { window, ..f.clone() });
            }
            drag.set(None);
        })
    };
    // The window in bin units, for the highlight drawn over every row.
    let selection = props.filter.window.map(|(from, to)| {
        let x = |t: f64| ((t - start) / span * BINS as f64).clamp(0.0, BINS as f64);
        (x(from), (x(to) - x(from)).max(0.2))
    });
    html! {
        <section class="timeline-view" aria-label="timeline" data-testid="timeline"
            data-start={start.to_string()} data-end={end.to_string()}>
            <div class="toolbar"><h2>{ "Timeline" }</h2>
                <span class="numbers">{ "drag across the rows to show only the flows of a time window" }</span></div>
            { summary(flows) }
            <div class="tl-rows" role="img" aria-label="flows per host over the capture's time, coloured by verdict">
                { for rows.iter().map(|row| html!{
                    <div class="tl-row">
                        <span class="tl-host" title={format!("{}: {} flows, {}", row.host, thousands(row.flows), human_bytes(row.bytes))}>{ row.host.clone() }
                            if row.tor { <strong class="tl-tor">{ " Tor" }</strong> }</span>
                        <svg class="tl-bars" viewBox={format!("0 0 {BINS} 10")} preserveAspectRatio="none"
                            onmousedown={on_down.clone()} onmouseup={on_up.clone()} data-testid="timeline-row">
                            { for row.bins.iter().enumerate().filter(|(_, b)| b.rank.is_some()).map(|(i, b)| {
                                let verdict = VERDICTS.get(b.rank.unwrap_or(4)).copied().unwrap_or("none");
                                html!{ <rect class={classes!("bar", verdict, CONFIDENCE_CLASS.get(usize::from(b.confidence)).copied())}
                                    x={i.to_string()} y="1" width="1" height="8"></rect> }
                            }) }
                            if let Some((x, w)) = selection {
                                <rect class="brush" x={format!("{x:.2}")} y="0" width={format!("{w:.2}")} height="10"></rect>
                            }
                        </svg>
                    </div>
                }) }
            </div>
        </section>
    }
}
