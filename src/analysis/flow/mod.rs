//! The flow table: TCP and UDP conversations keyed by protocol and unordered endpoints, with
//! client/server orientation and per-direction counters. Mechanism only.

pub mod community_id;
mod table;

pub use table::{Direction, DirectionStats, Flow, FlowTable, FlowTableStats};
