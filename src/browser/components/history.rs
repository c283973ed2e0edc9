//! Past analyses kept in this browser: reopen, delete one, clear all.

use super::format::{human_bytes, thousands};
use crate::browser::state::HistoryItem;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub items: Vec<HistoryItem>,
    pub on_reopen: Callback<HistoryItem>,
    pub on_delete: Callback<f64>,
    pub on_clear: Callback<()>,
}

#[function_component(History)]
pub fn history(props: &Props) -> Html {
    html! {
        <section class="history" aria-label="history" data-testid="history">
            <div class="toolbar">
                <h2>{ "History" }</h2>
                <span class="numbers">{ "reports only, kept in this browser" }</span>
                if !props.items.is_empty() {
                    <button class="secondary" data-testid="history-clear" onclick={props.on_clear.reform(|_| ())}>{ "Clear all" }</button>
                }
            </div>
            if props.items.is_empty() {
                <p class="numbers">{ "No past analyses." }</p>
            } else {
                <table>
                    <thead><tr><th>{ "analysed" }</th><th>{ "file" }</th><th class="num">{ "size" }</th><th>{ "verdict" }</th><th></th></tr></thead>
                    <tbody>
                        { for props.items.iter().map(|item| {
                            let (reopen, delete) = (item.clone(), item.id);
                            html! {
                                <tr data-testid="history-item" data-file={item.file.clone()}>
                                    <td>{ item.date.clone() }</td>
                                    <td>{ item.file.clone() }</td>
                                    <td class="num">{ human_bytes(item.size) }</td>
                                    <td>{ if item.tor_flows > 0 { format!("Tor: {} flows", thousands(item.tor_flows)) } else { "no Tor".to_string() } }</td>
                                    <td>
                                        <button class="link" data-testid="history-reopen" onclick={props.on_reopen.reform(move |_| reopen.clone())}>{ "reopen" }</button>
                                        { " · " }
                                        <button class="link" data-testid="history-delete" onclick={props.on_delete.reform(move |_| delete)}>{ "delete" }</button>
                                    </td>
                                </tr>
                            }
                        }) }
                    </tbody>
                </table>
            }
        </section>
    }
}
