//! Evidence kinds: each states an observation, never a conclusion (conclusions live in
//! `verdict.rs`). Every kind says what it observes and where the fact about Tor comes from.

use super::relays::list::{flags, PortKind};
use super::relays::{RelayHit, RelayIndex};
use crate::analysis::flow::Flow;
use crate::analysis::tls::StreamFacts;
use serde::Serialize;
use std::net::SocketAddr;

/// Which end of the flow an observation is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum End {
    Client,
    Server,
}

/// A relay list entry that matches one end of a flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RelayMatch {
    pub endpoint: End,
    pub address: SocketAddr,
    /// The port the list gives for this relay at this address (0 when it gives none).
    pub listed_port: u16,
    pub nickname: String,
    pub fingerprint: String,
    pub flags: Vec<&'static str>,
    pub country: String,
    /// The list (file name), its kind and date.
    pub list: String,
    pub list_kind: &'static str,
    pub list_date: Option<String>,
    pub builtin_list: bool,
    /// List date minus capture date, in days (negative: the list is older than the packets).
    pub day_gap: Option<i64>,
    /// ExoneraTor's rule: listed on, or within a day of, the capture date.
    pub within_a_day: bool,
    /// Other lists that also name this address (all dates are in `relay_lists`).
    pub other_lists: usize,
}

impl RelayMatch {
    pub fn is_exit(&self) -> bool {
        self.flags.contains(&"Exit") || self.list_kind == "tordnsel-exit-list" || self.list.contains("exit")
    }
}

/// Observations about a flow. Serialised as `{"kind": "...", ...facts}` in the report.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Evidence {
    /// The listening end is a relay's ORPort in a relay list (dir-spec §3.4.1 `r`/`a` lines).
    RelayOrport(RelayMatch),
    /// The listening end is a relay's DirPort in a relay list.
    RelayDirport(RelayMatch),
    /// An end's address is listed as a relay, but not with this port (or the list gives no
    /// port). Weaker: relays share addresses with ordinary servers.
    RelayAddress(RelayMatch),
    /// A ClientHello shaped like tor's link handshake (`link.rs`).
    TorLinkClientHello(super::link::LinkClientHello),
    /// A TLS ≤ 1.2 certificate shaped like tor's link certificate (`link.rs`).
    TorLinkCertificate(super::link::LinkCertificate),
    /// Application-data records sized as whole 514-byte cells (`cells.rs`).
    CellSizedRecords(super::cells::CellRecords),
    /// A plain-HTTP request for a Tor directory document (`directory.rs`).
    DirectoryRequest(super::directory::DirectoryRequest),
    /// A first flight of random-looking bytes with no protocol structure, and whether both
    /// flights fit obfs4's handshake (`transport.rs`).
    RandomFirstFlight(super::transport::RandomFirstFlight),
    /// Segment lengths modulo obfs4's 1448-byte segment share residues between the directions
    /// far beyond chance: obfs4's length padding (`transport.rs`).
    Obfs4Padding(super::transport::Obfs4Padding),
    /// One TLS session of equal-sized requests whose think times back off ×1.5 from 100 ms:
    /// meek's polling timer (`meek.rs`).
    MeekPolling(super::meek::MeekPolling),
    /// A DTLS ClientHello in pion/dtls's extension order: the WebRTC library of Snowflake's
    /// client and proxy (`snowflake.rs`). Alone it names a Go WebRTC application.
    WebrtcDtls(super::snowflake::PionDtls),
    /// A candidate pair of a pion WebRTC connection whose hosts also ran Snowflake's NAT test or
    /// relayed it to a WebSocket (`snowflake.rs`).
    SnowflakeWebrtc(super::snowflake::WebrtcSession),
    /// A STUN Binding Request of a Snowflake host before its connection: the RFC 5780
    /// NAT-mapping test, the gathering of the connection's candidates, or the same server again.
    SnowflakeStun(super::snowflake::SnowflakeStun),
    /// The HTTPS request that carried the SDP offer or answer just before the connection.
    SnowflakeRendezvous(super::snowflake::SnowflakeRendezvous),
    /// A proxy's WebSocket to the Snowflake relay, carrying the connection's bytes both ways.
    SnowflakeRelay(super::snowflake::SnowflakeRelay),
    /// The listening end is Tor Browser's built-in bridge at this address:port (`builtin.rs`).
    BuiltinBridge(super::builtin::BuiltinBridge),
    /// The TLS SNI is a front domain of Tor Browser's built-in meek line near the capture date.
    MeekFront(super::builtin::BuiltinName),
    /// The TLS SNI is a built-in Snowflake broker front or broker host near the capture date.
    SnowflakeFront(super::builtin::BuiltinName),
    /// The UDP server was looked up under a STUN server name of the built-in Snowflake line.
    SnowflakeIceServer(super::builtin::BuiltinName),
    /// The TLS SNI is the built-in Conjure line's registration host (shared with other
    /// circumvention tools that use Conjure).
    ConjureRegistration(super::builtin::BuiltinName),
    /// A SOCKS greeting to tor's SocksPort (`context.rs`).
    SocksToTorPort { port: u16 },
    /// A DNS lookup of a torproject.org host or an onion name (`context.rs`).
    DnsTorName { name: String },
}

impl Evidence {
    pub fn relay_match(&self) -> Option<&RelayMatch> {
        match self {
            Evidence::RelayOrport(m) | Evidence::RelayDirport(m) | Evidence::RelayAddress(m) => Some(m),
            _ => None,
        }
    }
}

fn to_match(end: End, address: SocketAddr, hit: &RelayHit<'_>, capture_day: i64, others: usize) -> RelayMatch {
    let day_gap = hit.snapshot.day.map(|d| d - capture_day);
    RelayMatch {
        endpoint: end,
        address,
        listed_port: hit.listed_port,
        nickname: hit.relay.map(|r| r.nickname.clone()).unwrap_or_default(),
        fingerprint: hit.relay.map(|r| r.fingerprint.clone()).unwrap_or_default(),
        flags: flags::names(hit.flags),
        country: hit.relay.map(|r| r.country.clone()).unwrap_or_default(),
        list: hit.snapshot.source.clone(),
        list_kind: hit.snapshot.kind,
        list_date: hit.snapshot.date.clone(),
        builtin_list: hit.snapshot.builtin,
        day_gap,
        within_a_day: day_gap.is_some_and(|g| g.abs() <= 1),
        other_lists: others,
    }
}

/// The best entry for one end: the strongest match kind, then the list nearest the capture
/// date (a list of the capture's own date beats an older one), then user-loaded lists and full
/// consensuses before other list kinds.
fn best<'a>(hits: &'a [RelayHit<'a>], capture_day: i64, kind: PortKind) -> Option<&'a RelayHit<'a>> {
    hits.iter().filter(|h| h.matched == kind).min_by_key(|h| {
        (
            h.snapshot.day.map_or(i64::MAX, |d| (d - capture_day).abs()),
            h.snapshot.builtin,
            !h.snapshot.kind.contains("consensus"),
            h.relay.is_none(),
        )
    })
}

/// Relay-list evidence for both ends of a flow, dated against the flow's first packet.
pub fn relay_evidence(index: &RelayIndex, flow: &Flow) -> Vec<Evidence> {
    let capture_day = flow.first_seen.day_number();
    let mut out = Vec::new();
    for (end, addr) in [(End::Server, flow.server), (End::Client, flow.client)] {
        let hits = index.lookup(addr.ip(), addr.port());
        if hits.is_empty() {
            continue;
        }
        let lists = {
            let mut names: Vec<&str> = hits.iter().map(|h| h.snapshot.source.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            names.len()
        };
        let found = [PortKind::OrPort, PortKind::DirPort, PortKind::AddressOnly]
            .into_iter()
            .find_map(|kind| best(&hits, capture_day, kind).map(|h| (kind, h)));
        let Some((kind, hit)) = found else { continue };
        let m = to_match(end, addr, hit, capture_day, lists.saturating_sub(1));
        // A flow seen mid-stream (no SYN) is oriented by its first packet, which may come from
        // the server: then the listed port is on the "client" end. With a SYN, a client's port
        // is ephemeral and a listed client is an address match (a relay or exit connecting in).
        let listening_end = end == End::Server || !flow.oriented_by_syn;
        out.push(match (listening_end, kind) {
            (true, PortKind::OrPort) => Evidence::RelayOrport(m),
            (true, PortKind::DirPort) => Evidence::RelayDirport(m),
            _ => Evidence::RelayAddress(m),
        });
    }
    out
}

/// Everything the flow's own bytes show (TLS handshake, records, HTTP, first flight, DNS,
/// DTLS).
pub fn content_evidence(
    flow: &Flow,
    facts: Option<&StreamFacts>,
    was_resolved: &dyn Fn(&str) -> bool,
) -> Vec<Evidence> {
    let mut out = Vec::new();
    for name in flow.dns_names.iter().filter(|n| super::context::is_tor_name(n)) {
        out.push(Evidence::DnsTorName { name: name.clone() });
    }
    if let Some(dtls) = flow.datagrams.as_ref().and_then(|d| super::snowflake::pion_dtls(&d.facts)) {
        out.push(Evidence::WebrtcDtls(dtls));
    }
    let Some(f) = facts else { return out };
    let tor_hello = f.client_hello.as_ref().and_then(|h| super::link::tor_client_hello(h, was_resolved));
    let ordinary_hello = f.client_hello.is_some() && tor_hello.is_none();
    if let Some(h) = tor_hello {
        out.push(Evidence::TorLinkClientHello(h));
    }
    if let Some(c) = super::link::tor_certificate(&f.certificates) {
        out.push(Evidence::TorLinkCertificate(c));
    }
    if let Some(cells) = super::cells::cell_records(&f.to_server_records, &f.to_client_records) {
        // A handful of cell-sized records is weak; it counts only when no ordinary handshake
        // was seen (a flow that began before the capture).
        if !(cells.few && ordinary_hello) {
            out.push(Evidence::CellSizedRecords(cells));
        }
    }
    if let Some(d) = f.http_request.as_ref().and_then(super::directory::directory_request) {
        out.push(Evidence::DirectoryRequest(d));
    }
    if let Some(r) = super::transport::random_first_flight(f) {
        if r.obfs4_handshake_shape {
            if let Some(p) = f.segment_lengths.as_ref().and_then(super::transport::obfs4_padding) {
                out.push(Evidence::Obfs4Padding(p));
            }
        }
        out.push(Evidence::RandomFirstFlight(r));
    }
    if let Some(p) = super::meek::meek_polling(&f.turns) {
        out.push(Evidence::MeekPolling(p));
    }
    if super::context::socks_to_tor(flow.server.port(), f) {
        out.push(Evidence::SocksToTorPort { port: flow.server.port() });
    }
    out
}

/// Snowflake's sequence across flows (`snowflake.rs`), as evidence by flow index.
pub fn snowflake_evidence(flows: &[Flow], facts: &[Option<StreamFacts>]) -> Vec<(usize, Evidence)> {
    use super::snowflake::{correlate, FlowView, Found};
    // Only captures with a pion DTLS handshake can hold a Snowflake connection.
    let pion = |f: &Flow| f.datagrams.as_ref().is_some_and(|d| super::snowflake::pion_dtls(&d.facts).is_some());
    if !flows.iter().any(pion) {
        return Vec::new();
    }
    let views: Vec<FlowView> = flows.iter().zip(facts).map(|(f, s)| FlowView::of(f, s.as_ref())).collect();
    correlate(&views)
        .into_iter()
        .map(|(i, found)| {
            let e = match found {
                Found::Session(s) => Evidence::SnowflakeWebrtc(s),
                Found::Stun(s) => Evidence::SnowflakeStun(s),
                Found::Rendezvous(r) => Evidence::SnowflakeRendezvous(r),
                Found::Relay(r) => Evidence::SnowflakeRelay(r),
            };
            (i, e)
        })
        .collect()
}

/// Matches against Tor Browser's built-in bridge configurations (`builtin.rs`): the flow's
/// address:port, its TLS SNI, and the name its server address was looked up as.
pub fn builtin_evidence(
    index: &super::bridges::listing::Listings,
    flow: &Flow,
    facts: Option<&StreamFacts>,
    resolved_name: Option<&str>,
) -> Vec<Evidence> {
    use super::bridges::listing::NameRole;
    let mut out = Vec::new();
    if let Some(b) = super::builtin::bridge(index, flow) {
        out.push(Evidence::BuiltinBridge(b));
    }
    let day = flow.first_seen.day_number();
    let sni = facts.and_then(|f| f.client_hello.as_ref()).and_then(|h| h.sni.as_deref());
    let udp = flow.transport == crate::analysis::decode::Transport::Udp;
    let mut seen = Vec::new();
    if let Some(sni) = sni {
        seen.extend(super::builtin::names(index, sni, day, None, "sni"));
    }
    if let Some(name) = resolved_name.filter(|_| udp) {
        seen.extend(super::builtin::names(index, name, day, Some(flow.server.port()), "dns"));
    }
    for (role, name) in seen {
        out.push(match role {
            NameRole::MeekFront => Evidence::MeekFront(name),
            NameRole::SnowflakeFront | NameRole::SnowflakeBrokerUrlHost => Evidence::SnowflakeFront(name),
            NameRole::SnowflakeStun { .. } => Evidence::SnowflakeIceServer(name),
            NameRole::ConjureRegistration => Evidence::ConjureRegistration(name),
            _ => continue,
        });
    }
    out
}
