//! The flow table: TCP and UDP conversations keyed by protocol and unordered endpoints, with
//! client/server orientation and per-direction counters. Mechanism only.

mod table;

pub use table::{Direction, DirectionStats, Flow, FlowTable, FlowTableStats};
