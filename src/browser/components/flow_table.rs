//! The flow table: filter, sort by any column, scroll through every flow (virtualised: only the
//! rows around the visible ones are in the page, so 100k+ flows scroll as fast as ten), move
//! between rows with the arrow keys. Endpoints never wrap (monospace, cut with an ellipsis, whole
//! on hover, copied with one click); times are UTC or local, with the offset from the capture's
//! start.

use super::format::{duration_ms, readable, s, thousands, u};
use crate::browser::report::{FlowRow, Report};
use crate::browser::state::{clock, filtered_flows, report_seconds, verdict_shown, FlowColumn, FlowFilter, FlowSort};
use serde_json::Value;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub report: Rc<Report>,
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

/// Rows in the page at once: a few screens' worth, so a capture of up to this many flows has
/// every row in the page (and in print).
const WINDOW_ROWS: usize = 100;
/// Rows kept above the first visible one, so scrolling up shows rows already drawn.
const LEAD_ROWS: usize = 30;
/// The window moves in steps of this many rows: a small scroll does not redraw.
const WINDOW_STEP: usize = 10;
/// A row's height in CSS pixels until one is measured.
const ROW_HEIGHT_GUESS: f64 = 33.0;

/// The first row to draw when the table is scrolled `scroll_top` pixels down.
fn window_start(scroll_top: f64, row_height: f64, rows: usize) -> usize {
    let first_visible = (scroll_top / row_height.max(1.0)).max(0.0) as usize;
    let start = first_visible.saturating_sub(LEAD_ROWS) / WINDOW_STEP * WINDOW_STEP;
    start.min(rows.saturating_sub(WINDOW_ROWS).div_ceil(WINDOW_STEP) * WINDOW_STEP)
}

#[function_component(FlowTable)]
pub fn flow_table(props: &Props) -> Html {
    let flows = filtered_flows(&props.report, &props.filter);
    let scroller = use_node_ref();
    let start = use_state_eq(|| 0usize);
    let row_height = use_state_eq(|| ROW_HEIGHT_GUESS);
    // A new list (another capture, filter, sort or window) starts at its top.
    {
        let (scroller, start) = (scroller.clone(), start.clone());
        let f = &props.filter;
        let list = (
            Rc::as_ptr(&props.report) as usize,
            f.text.clone(),
            f.verdict.clone(),
            f.proto.clone(),
            f.sort,
            f.window.map(|(a, b)| (a.to_bits(), b.to_bits())),
        );
        use_effect_with(list, move |_| {
            if let Some(el) = scroller.cast::<Element>() {
                el.set_scroll_top(0);
            }
            start.set(0);
        });
    }
    // Spacers stand in for the rows not drawn, at the height a drawn row has.
    {
        let (scroller, row_height) = (scroller.clone(), row_height.clone());
        use_effect(move || {
            let measured = scroller
                .cast::<Element>()
                .and_then(|el| el.query_selector("tr[data-testid=flow-row]").ok().flatten())
                .and_then(|row| row.dyn_into::<HtmlElement>().ok())
                .map(|row| f64::from(row.offset_height()))
                .filter(|h| *h > 0.0);
            if let Some(h) = measured {
                row_height.set(h);
            }
        });
    }
    // The row whose button has (or, after an arrow key, should have) the keyboard focus, by
    // `aria-rowindex`: when the window moves, Yew re-inserts the rows it keeps, and a re-inserted
    // element loses the focus. After every redraw the focus is put back on that row when it is
    // on no element, or on another row of this table.
    let focused_row: FocusedRow = use_mut_ref(|| None::<String>);
    {
        let (scroller, focused_row) = (scroller.clone(), focused_row.clone());
        use_effect(move || {
            // Cloned out: focusing fires `focusin`, which writes the cell.
            let want = focused_row.borrow().clone();
            let (Some(want), Some(table)) = (want, scroller.cast::<Element>()) else { return };
            let document = gloo::utils::document();
            let active = document.active_element().filter(|el| Some(el) != document.body().map(Element::from).as_ref());
            let misplaced = match &active {
                None => true,
                Some(el) => {
                    table.contains(Some(el))
                        && el
                            .closest("tr[data-testid=flow-row]")
                            .ok()
                            .flatten()
                            .and_then(|r| r.get_attribute("aria-rowindex"))
                            .is_some_and(|row| row != want)
                }
            };
            if misplaced {
                let _ = focus_row(&table, &want);
            }
        });
    }
    // A key pressed between a redraw that dropped the focus and the effect that gives it back
    // reaches the document, not the row: it still moves from the remembered row.
    {
        let (scroller, focused_row) = (scroller.clone(), focused_row.clone());
        use_effect_with((), move |_| {
            let document = gloo::utils::document();
            let body = document.body().map(Element::from);
            let listener = {
                let (scroller, focused_row) = (scroller.clone(), focused_row.clone());
                let active_listener = gloo::events::EventListenerOptions::enable_prevent_default();
                gloo::events::EventListener::new_with_options(&document, "keydown", active_listener, move |e| {
                    let Some(e) = e.dyn_ref::<KeyboardEvent>() else { return };
                    let Some(step) = arrow_step(e) else { return };
                    let active = gloo::utils::document().active_element();
                    if active.is_some() && active != body {
                        return;
                    }
                    let from = focused_row.borrow().as_ref().and_then(|r| r.parse::<i64>().ok());
                    if let (Some(from), Some(table)) = (from, scroller.cast::<Element>()) {
                        step_focus(&table, from, step, &focused_row, e);
                    }
                })
            };
            // A click outside the table ends its claim on the focus: arrow keys scroll the page again.
            let forget = {
                gloo::events::EventListener::new(&gloo::utils::document(), "mousedown", move |e| {
                    let target = e.target().and_then(|t| t.dyn_into::<web_sys::Node>().ok());
                    if !scroller.cast::<Element>().is_some_and(|table| table.contains(target.as_ref())) {
                        *focused_row.borrow_mut() = None;
                    }
                })
            };
            move || drop((listener, forget))
        });
    }
    let on_focus = {
        let focused_row = focused_row.clone();
        Callback::from(move |e: FocusEvent| {
            let row = e
                .target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                .and_then(|el| el.closest("tr[data-testid=flow-row]").ok().flatten());
            *focused_row.borrow_mut() = row.and_then(|r| r.get_attribute("aria-rowindex"));
        })
    };
    let rows = flows.len();
    let first = (*start).min(rows);
    let end = (first + WINDOW_ROWS).min(rows);
    let above = first as f64 * *row_height;
    let below = (rows - end) as f64 * *row_height;
    let on_scroll = {
        let (start, row_height) = (start.clone(), *row_height);
        Callback::from(move |e: Event| {
            if let Some(el) = e.target().and_then(|t| t.dyn_into::<Element>().ok()) {
                start.set(window_start(f64::from(el.scroll_top()), row_height, rows));
            }
        })
    };
    let base = props.report.flows.as_ptr() as usize;
    let f = props.filter.clone();
    let verdict = verdict_shown(&props.report, &f).to_string();
    let clock = Clock {
        start: props.report.capture["first_seen"].as_str().and_then(report_seconds).unwrap_or(0.0),
        local: f.local_time,
    };
    let on_text = {
        let (f, cb) = (f.clone(), props.on_filter.clone());
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e.target().and_then(|t| t.dyn_into::<HtmlInputElement>().ok()) {
                cb.emit(FlowFilter { text: input.value(), ..f.clone() });
            }
        })
    };
    let select = |apply: fn(FlowFilter, String) -> FlowFilter| {
        let (f, cb) = (f.clone(), props.on_filter.clone());
        Callback::from(move |e: Event| {
            if let Some(sel) = e.target().and_then(|t| t.dyn_into::<HtmlSelectElement>().ok()) {
                cb.emit(apply(f.clone(), sel.value()));
            }
        })
    };
    let on_verdict = select(|f, v| FlowFilter { verdict: v, ..f });
    let on_proto = select(|f, v| FlowFilter { proto: v, ..f });
    let on_zone = select(|f, v| FlowFilter { local_time: v == "local", ..f });
    let clear_window = {
        let (f, cb) = (f.clone(), props.on_filter.clone());
        Callback::from(move |_| cb.emit(FlowFilter { window: None, ..f.clone() }))
    };
    let header = |(column, label, numeric): (FlowColumn, &'static str, bool)| {
        let sorted = f.sort.column == column;
        // A first click sorts numbers from the largest, text from the start; a second reverses.
        let next = FlowSort { column, descending: if sorted { !f.sort.descending } else { numeric } };
        let onclick = {
            let (f, cb) = (f.clone(), props.on_filter.clone());
            Callback::from(move |_| cb.emit(FlowFilter { sort: next, ..f.clone() }))
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
            <div class="table-scroll" ref={scroller} onscroll={on_scroll}>
                <table aria-rowcount={(rows + 1).to_string()}>
                    <thead><tr aria-rowindex="1">
                        { for COLUMNS.into_iter().map(header) }
                        <th>{ "evidence" }</th>
                    </tr></thead>
                    <tbody onkeydown={move_between_rows(focused_row.clone())} onfocusin={on_focus}>
                        { spacer(above) }
                        { for flows[first..end].iter().zip(first..).map(|(flow, i)| {
                            // The flow's place in the report: unique and stable while the report is.
                            let key = (*flow as *const FlowRow as usize - base) / std::mem::size_of::<FlowRow>();
                            // Only the drawn rows' objects are read from the report's text.
                            html!{ <FlowRowView {key} flow={props.report.flow(flow)} {clock} row={i + 2} /> }
                        }) }
                        { spacer(below) }
                    </tbody>
                </table>
            </div>
        </section>
    }
}

/// The height of the rows not drawn, as an SVG's height: the page's CSP forbids style attributes.
/// Always there, even at 0 px: the drawn rows keep their place among the tbody's children, so
/// Yew moves them rather than rebuilding them (which would drop the keyboard focus).
fn spacer(height: f64) -> Html {
    html! {
        <tr class="spacer" aria-hidden="true"><td colspan="9"><svg width="1" height={format!("{height:.0}")}></svg></td></tr>
    }
}

/// Focuses the disclosure button of the drawn row `aria-rowindex` = `row`; false when that row
/// is not drawn.
fn focus_row(table: &Element, row: &str) -> bool {
    let selector = format!("tr[aria-rowindex=\"{row}\"] button.disclose");
    match table.query_selector(&selector).ok().flatten().and_then(|b| b.dyn_into::<HtmlElement>().ok()) {
        Some(button) => button.focus().is_ok(),
        None => false,
    }
}

/// The remembered focused row (`aria-rowindex`), shared by the handlers and the redraw effect.
type FocusedRow = std::rc::Rc<std::cell::RefCell<Option<String>>>;

/// +1 for ArrowDown, -1 for ArrowUp.
fn arrow_step(e: &KeyboardEvent) -> Option<i64> {
    match e.key().as_str() {
        "ArrowDown" => Some(1),
        "ArrowUp" => Some(-1),
        _ => None,
    }
}

/// Moves the focus from row `from` one step, when the target row is drawn in `table`; the row is
/// remembered first, so the redraw that follows keeps the focus on it.
fn step_focus(table: &Element, from: i64, step: i64, focused_row: &FocusedRow, e: &KeyboardEvent) {
    let target = (from + step).to_string();
    if table.query_selector(&format!("tr[aria-rowindex=\"{target}\"]")).ok().flatten().is_some() {
        e.prevent_default();
        *focused_row.borrow_mut() = Some(target.clone());
        focus_row(table, &target);
    }
}

/// ArrowDown / ArrowUp move the focus to the next or previous flow's disclosure button (Enter
/// or Space opens it); focusing scrolls the row into view, which moves the drawn window along.
fn move_between_rows(focused_row: FocusedRow) -> Callback<KeyboardEvent> {
    Callback::from(move |e: KeyboardEvent| {
        let Some(step) = arrow_step(&e) else { return };
        let Some(row) = e
            .target()
            .and_then(|t| t.dyn_into::<Element>().ok())
            .and_then(|el| el.closest("tr[data-testid=flow-row]").ok().flatten())
        else {
            return;
        };
        let (Some(table), Some(at)) = (
            row.closest("tbody").ok().flatten(),
            row.get_attribute("aria-rowindex").and_then(|r| r.parse::<i64>().ok()),
        ) else {
            return;
        };
        step_focus(&table, at, step, &focused_row, &e);
    })
}

/// One flow: a summary row, and its evidence and stream facts in a disclosure below.
#[derive(Properties, PartialEq)]
struct RowProps {
    flow: Value,
    clock: Clock,
    /// The row's place in the whole table (1 is the header), for screen readers.
    row: usize,
}

#[function_component(FlowRowView)]
fn flow_row(props: &RowProps) -> Html {
    let open = use_state(|| false);
    let toggle = {
        let open = open.clone();
        Callback::from(move |_| open.set(!*open))
    };
    html! {
        <>
            { row(&props.flow, props.clock, toggle, *open, props.row) }
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
        if v.is_null() {
            return html! {};
        }
        html! { <><dt>{ k.replace('_', " ") }</dt><dd>{ readable(v) }</dd></> }
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

fn row(flow: &Value, clock: Clock, on_toggle: Callback<MouseEvent>, open: bool, index: usize) -> Html {
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
        <tr data-testid="flow-row" aria-rowindex={index.to_string()} onclick={on_toggle} data-verdict={verdict.clone()} data-client={client.clone()} data-server={server.clone()}
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
            <td class="evidence"><span class="clip" title={explanation.clone()}>{ explanation }</span></td>
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
