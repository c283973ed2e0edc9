//! One component per file; each takes props and emits callbacks, nothing else.

pub mod capture_view;
pub mod flow_table;
pub mod format;
pub mod job_list;
