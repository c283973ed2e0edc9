//! "Was it a relay?": an address (and ORPort) on a day, answered by the worker from the relay
//! history, offline once the year is cached — the same answer as `torsift lookup`.

use serde_json::Value;
use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    /// The last answer (`torsift lookup --format json`'s object for one address).
    pub answer: Option<String>,
    pub busy: bool,
    /// Years fetched for offline use, and failures, once asked.
    pub offline: Option<(u32, u32)>,
    /// (address[:port], date or "").
    pub on_lookup: Callback<(String, String)>,
    pub on_offline: Callback<()>,
}

fn verdict_text(listed: &Value) -> (&'static str, &'static str) {
    match listed {
        Value::Bool(true) => ("listed", "✔ listed"),
        Value::Bool(false) => ("unlisted", "✘ not listed"),
        _ => ("no-data", "? no data"),
    }
}

#[function_component(RelayLookup)]
pub fn relay_lookup(props: &Props) -> Html {
    let address = use_node_ref();
    let date = use_node_ref();
    let submit = {
        let (address, date, on_lookup) = (address.clone(), date.clone(), props.on_lookup.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let value = |r: &NodeRef| r.cast::<HtmlInputElement>().map(|i| i.value()).unwrap_or_default();
            let a = value(&address);
            if !a.trim().is_empty() {
                on_lookup.emit((a.trim().to_string(), value(&date)));
            }
        })
    };
    let answer: Option<Value> = props.answer.as_deref().and_then(|a| serde_json::from_str(a).ok());
    html! {
        <details class="relay-lookup" data-testid="relay-lookup">
            <summary>{ "Was it a relay? — look up an address in the relay history" }</summary>
            <form onsubmit={submit} aria-label="relay history lookup">
                <label>{ "address or address:port " }
                    <input type="text" ref={address} data-testid="relay-lookup-address" placeholder="203.0.113.5 or [2001:db8::1]:443" spellcheck="false" />
                </label>
                <label>{ " on " }
                    <input type="date" ref={date} data-testid="relay-lookup-date" />
                </label>
                <button type="submit" data-testid="relay-lookup-submit" disabled={props.busy}>{ if props.busy { "looking up…" } else { "look up" } }</button>
            </form>
            { match &answer {
                Some(a) if a.get("error").is_some() => html! {
                    <p class="error" role="alert" data-testid="relay-lookup-answer" data-listed="error">{ a["error"].as_str().unwrap_or("") }</p>
                },
                Some(a) => {
                    let (state, label) = verdict_text(&a["listed"]);
                    let address = a["address"].as_str().unwrap_or("");
                    let endpoint = match a["port"].as_u64() {
                        Some(p) if address.contains(':') => format!("[{address}]:{p}"),
                        Some(p) => format!("{address}:{p}"),
                        None => address.to_string(),
                    };
                    let runs = a["intervals"].as_array().cloned().unwrap_or_default();
                    html! {
                        <div class="lookup-answer" data-testid="relay-lookup-answer" data-listed={state} role="status"
                            data-endpoint={endpoint} data-date={a["date"].as_str().unwrap_or("").to_string()}>
                            <p><strong class={classes!("badge", state)}>{ label }</strong>{ " " }{ a["answer"].as_str().unwrap_or("") }</p>
                            if !runs.is_empty() {
                                <table>
                                    <caption>{ format!("{} run{} of days in the history", runs.len(), if runs.len() == 1 { "" } else { "s" }) }</caption>
                                    <thead><tr><th>{ "from" }</th><th>{ "to" }</th><th>{ "source" }</th></tr></thead>
                                    <tbody>{ for runs.iter().rev().take(50).map(|r| html! {
                                        <tr data-testid="relay-lookup-run"><td class="mono">{ r["first_day"].as_str().unwrap_or("") }</td>
                                            <td class="mono">{ r["last_day"].as_str().unwrap_or("") }</td><td>{ r["source"].as_str().unwrap_or("") }</td></tr>
                                    }) }</tbody>
                                </table>
                            }
                        </div>
                    }
                }
                None => html! {
                    <p class="numbers">{ "Answers come from the relay history shipped with this page (the years you ask about are fetched once, then work offline). \"No data\" means no source had a snapshot of every relay that day — never \"not a relay\"." }</p>
                },
            } }
            <p>
                <button type="button" class="secondary" data-testid="history-offline" onclick={props.on_offline.reform(|_| ())}>
                    { "make all years available offline" }
                </button>
                { match props.offline {
                    Some((years, 0)) => html! { <span data-testid="history-offline-status">{ format!(" {years} years cached for offline use") }</span> },
                    Some((years, failed)) => html! { <span data-testid="history-offline-status">{ format!(" {years} years cached, {failed} could not be fetched") }</span> },
                    None => html! {},
                } }
            </p>
        </details>
    }
}
