//! Relay lists: load dated lists for the capture's time, and see which are in use.

use serde_json::Value;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    /// `relay_lists` of the latest report: built-in and loaded, with dates.
    pub in_use: Vec<Value>,
    pub loaded: Vec<String>,
    pub on_pick: Callback<Event>,
}

#[function_component(RelayLists)]
pub fn relay_lists(props: &Props) -> Html {
    let builtin = props.in_use.iter().filter(|l| l["builtin"] == true).count();
    html! {
        <details class="relay-lists" data-testid="relay-lists">
            <summary>
                { format!("Relay lists: {builtin} built-in") }
                { if props.loaded.is_empty() { String::new() } else { format!(", {} loaded", props.loaded.len()) } }
            </summary>
            <p>
                { "Load the consensus (or Onionoo details, exit list, IP list) of your capture's date: a list of the capture's own day beats an older built-in one. " }
                <label class="button secondary">
                    { "load relay list" }
                    <input type="file" multiple=true data-testid="relay-list-input" onchange={props.on_pick.clone()} />
                </label>
            </p>
            if !props.loaded.is_empty() {
                <p>{ format!("Loaded for the next analyses: {}", props.loaded.join(", ")) }</p>
            }
            if !props.in_use.is_empty() {
                <table>
                    <thead><tr><th>{ "list" }</th><th>{ "kind" }</th><th>{ "date" }</th><th class="num">{ "relays" }</th><th>{ "origin" }</th></tr></thead>
                    <tbody>
                        { for props.in_use.iter().map(|l| html!{
                            <tr data-testid="relay-list">
                                <td>{ l["source"].as_str().unwrap_or("") }</td>
                                <td>{ l["kind"].as_str().unwrap_or("") }</td>
                                <td>{ l["date"].as_str().unwrap_or("undated") }</td>
                                <td class="num">{ l["relays"].as_u64().unwrap_or(0) }</td>
                                <td>{ if l["builtin"] == true { "built-in" } else { "loaded" } }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            } else {
                <p class="numbers">{ "Which lists are used shows here after the first analysis." }</p>
            }
        </details>
    }
}
