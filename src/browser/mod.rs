//! The browser shell: a Yew page that hands files to a Web Worker running the analysis core,
//! and renders the reports. `protocol`, `report` and `state` are pure and host-tested; the rest is
//! compiled for wasm32 only.

pub mod protocol;
pub mod report;
pub mod state;

#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(target_arch = "wasm32")]
mod components;
#[cfg(target_arch = "wasm32")]
mod download;
#[cfg(target_arch = "wasm32")]
mod storage;
#[cfg(target_arch = "wasm32")]
pub mod worker;
