//! One component per file; each takes props and emits callbacks, nothing else.

pub mod capture_view;
pub mod evidence_card;
pub mod findings;
pub mod flow_table;
pub mod format;
pub mod history;
pub mod job_list;
pub mod relay_lists;
pub mod relay_lookup;
pub mod timeline;
