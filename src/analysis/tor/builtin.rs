//! Evidence from Tor Browser's built-in bridge configurations (`bridges`), dated against the
//! capture: a flow to a built-in bridge's exact address:port, and the names the built-in meek,
//! Snowflake and Conjure lines make clients use (TLS SNI fronts, broker hosts, STUN servers).
//!
//! A bridge address is specific: it was handed out to run a Tor bridge. The names are not:
//! fronts are popular CDN names (`ajax.aspnetcdn.com`, `cdn.sstatic.net`), STUN servers serve
//! every WebRTC application and Conjure's registrar serves other circumvention tools (Psiphon).
//! So a name is only evidence near the dates Tor Browser used it, and never a verdict alone
//! (`verdict.rs`): it lifts a verdict the flow's behaviour already earned.

use super::bridges::listing::{Listings, NameRole};
use super::bridges::{self, config::date_of};
use super::evidence::End;
use crate::analysis::flow::Flow;
use serde::Serialize;
use std::net::SocketAddr;

/// A name counts within this many days of the interval Tor Browser listed it: releases follow
/// the configuration by weeks and users update over months.
pub const NEAR_NAME_DAYS: i64 = 90;

/// A flow's end at the exact address:port of a built-in bridge.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BuiltinBridge {
    pub endpoint: End,
    pub address: SocketAddr,
    pub transport: String,
    pub fingerprint: String,
    /// The configuration dates of its listing: first listed, and the first configuration
    /// without it (None: still in the newest configuration the index holds).
    pub first_listed: String,
    pub removed: Option<String>,
    pub newest_configuration: Option<String>,
    /// Capture day minus the listing: 0 inside it, negative before it, positive after it (days
    /// after the last day it was listed, or after the newest configuration).
    pub day_gap: i64,
}

/// A name of a built-in transport line, seen in this flow.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BuiltinName {
    pub name: String,
    /// What the line makes it (`meek front`, `snowflake STUN server`, …) and the transport.
    pub role: &'static str,
    pub transport: String,
    /// Where the flow showed it: `sni` (TLS ClientHello) or `dns` (the server's address was
    /// looked up under this name).
    pub seen_as: &'static str,
    pub first_listed: String,
    pub removed: Option<String>,
    pub day_gap: i64,
    /// The TLS fingerprint the line tells the client to imitate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub utls: Option<String>,
}

fn gap(index: &Listings, day: i64, first: i64, removed: Option<i64>) -> i64 {
    // A listing still open ends, as far as the index knows, with its newest configuration.
    let until = removed.or(index.last_day.map(|d| d + 1));
    bridges::gap_to(day, first, until)
}

/// The built-in bridge at the flow's listening end, nearest the flow's day.
pub fn bridge(index: &Listings, flow: &Flow) -> Option<BuiltinBridge> {
    let day = flow.first_seen.day_number();
    // Without a SYN the first sender may be the bridge.
    let ends = if flow.oriented_by_syn {
        vec![(End::Server, flow.server)]
    } else {
        vec![(End::Server, flow.server), (End::Client, flow.client)]
    };
    ends.into_iter().find_map(|(end, address)| {
        let b = bridges::bridge_at(index, address, day)?;
        Some(BuiltinBridge {
            endpoint: end,
            address,
            transport: b.transport.clone(),
            fingerprint: b.fingerprint.clone(),
            first_listed: b.first_listed_date.clone(),
            removed: b.removed_date.clone(),
            newest_configuration: index.last_day.map(date_of),
            day_gap: gap(index, day, b.first_listed, b.removed),
        })
    })
}

/// The roles `name` had in built-in lines within [`NEAR_NAME_DAYS`] of `day`. STUN roles count
/// only at their port (`port`: the flow's server port; None for names seen in TLS).
pub fn names(
    index: &Listings,
    name: &str,
    day: i64,
    port: Option<u16>,
    seen_as: &'static str,
) -> Vec<(NameRole, BuiltinName)> {
    bridges::names_for(index, name, day)
        .into_iter()
        .filter(|n| n.role.port().is_none() || n.role.port() == port)
        .map(|n| {
            (
                n.role,
                BuiltinName {
                    name: n.name.clone(),
                    role: n.role.label(),
                    transport: n.transport.clone(),
                    seen_as,
                    first_listed: n.first_listed_date.clone(),
                    removed: n.removed_date.clone(),
                    day_gap: gap(index, day, n.first_listed, n.removed),
                    utls: n.utls.clone(),
                },
            )
        })
        .filter(|(_, n)| n.day_gap.abs() <= NEAR_NAME_DAYS)
        .collect()
}
