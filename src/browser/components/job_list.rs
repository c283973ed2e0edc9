//! The files being analysed: progress (bytes, packets, MB/s, ETA), cancel, and the outcome.

use super::format::{duration_ms, human_bytes, thousands};
use crate::browser::state::{Job, JobStatus};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub jobs: Vec<Job>,
    pub selected: Option<u32>,
    pub on_cancel: Callback<u32>,
    pub on_select: Callback<u32>,
}

#[function_component(JobList)]
pub fn job_list(props: &Props) -> Html {
    if props.jobs.is_empty() {
        return html! {};
    }
    html! {
        <ul class="jobs" aria-label="captures">
            { for props.jobs.iter().map(|job| row(job, props)) }
        </ul>
    }
}

fn row(job: &Job, props: &Props) -> Html {
    let id = job.id;
    let selected = props.selected == Some(id);
    let on_select = props.on_select.reform(move |_| id);
    let on_cancel = props.on_cancel.reform(move |_| id);
    let (state, detail) = match &job.status {
        JobStatus::Queued => ("queued", html! { <span>{ "waiting" }</span> }),
        JobStatus::Running { bytes, total, packets, flows, elapsed_ms } => {
            let pct = if *total > 0 { *bytes as f64 * 100.0 / *total as f64 } else { 0.0 };
            let secs = elapsed_ms / 1000.0;
            let rate = if secs > 0.0 { *bytes as f64 / 1e6 / secs } else { 0.0 };
            let eta = if rate > 0.0 { (*total - *bytes) as f64 / 1e6 / rate * 1000.0 } else { 0.0 };
            (
                "running",
                html! {
                    <>
                        <progress max="100" value={format!("{pct:.1}")} aria-label={format!("{pct:.0}% of {}", job.name)}></progress>
                        <span class="numbers">
                            { format!("{} of {} · {} packets · {} flows · {rate:.0} MB/s · {} left",
                                human_bytes(*bytes), human_bytes(*total), thousands(*packets), thousands(*flows), duration_ms(eta)) }
                        </span>
                        <button class="secondary" data-testid="cancel" onclick={on_cancel}>{ "Cancel" }</button>
                    </>
                },
            )
        }
        JobStatus::Done { report, elapsed_ms, .. } => {
            let error = report.capture["error"]["message"].as_str().map(|m| {
                html! { <span class="error" role="alert">{ format!("{m} (at byte {})", report.capture["error"]["offset"]) }</span> }
            });
            (
                if error.is_some() { "partial" } else { "done" },
                html! {
                    <>
                        <span class="numbers">{ format!("{} packets · {} flows · {}",
                            thousands(report.capture["packets"].as_u64().unwrap_or(0)),
                            thousands(report.flows.len() as u64),
                            duration_ms(*elapsed_ms)) }</span>
                        { for error }
                    </>
                },
            )
        }
        JobStatus::Failed { message } => {
            ("failed", html! { <span class="error" role="alert">{ message.clone() }</span> })
        }
        JobStatus::Cancelled => ("cancelled", html! { <span>{ "cancelled" }</span> }),
    };
    html! {
        <li class={classes!("job", state, selected.then_some("selected"))} data-testid="job" data-file={job.name.clone()} data-state={state}>
            <button class="link" onclick={on_select} aria-pressed={selected.to_string()}>{ job.name.clone() }</button>
            <span class="size">{ human_bytes(job.size) }</span>
            { detail }
        </li>
    }
}
