//! Evidence kinds: each states an observation, never a conclusion (conclusions live in
//! `verdict.rs`). Every kind says what it observes and where the fact about Tor comes from.

use super::history;
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
    /// For a match in the relay history (`list_kind` `relay-history`): the run of days in which
    /// the source listed it; `list_date` is the run's day nearest the capture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<HistoryRun>,
}

/// A run of days of the relay history (`tor/history`): `source` listed the address (or the
/// address+ORPort) on every day from `first_day` to `last_day`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HistoryRun {
    pub source: String,
    pub first_day: String,
    pub last_day: String,
    /// `all relays` or `exit relays`: what the source lists.
    pub source_lists: &'static str,
}

/// The server was in no run of the relay history within a day of the capture, although
/// sources of every relay had snapshots of each of those days: ExoneraTor's negative answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RelayUnlisted {
    pub endpoint: End,
    pub address: SocketAddr,
    /// The capture's day, and the days on either side that were checked.
    pub day: String,
    pub window_days: i64,
    /// The sources whose snapshots vouch for the absence.
    pub sources: Vec<String>,
    /// The nearest listing of the address, if any: its date and day gap.
    pub nearest_listed: Option<String>,
    pub nearest_gap: Option<i64>,
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
    /// Application-data records sized as whole inner TLS records of whole cells: Tor's link
    /// TLS inside another TLS session, as WebTunnel carries it (`tls_tunnel.rs`).
    TlsTunnelCells(super::tls_tunnel::TunnelledCells),
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
    /// The server of a flow with a Tor verdict was not a listed relay on the capture's day,
    /// although the history covers that day (`history`): a bridge or a relay not yet listed.
    RelayUnlisted(RelayUnlisted),
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

#[inline(never)] // one copy: it is called from loops the optimiser would unroll
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
        history: None,
    }
}

/// The relay history's nearest run for one end: the address+ORPort (`OrPort`) or the address
/// (`AddressOnly`).
#[inline(never)] // one copy: it is called from loops the optimiser would unroll
fn history_match(
    index: &RelayIndex,
    end: End,
    address: SocketAddr,
    capture_day: i64,
    kind: PortKind,
) -> Option<RelayMatch> {
    let port = (kind == PortKind::OrPort).then_some(address.port());
    let n = index.history().nearest(address.ip(), port, capture_day)?;
    let p = &n.presence;
    let exits = p.exits_only;
    let listed_day = capture_day + n.day_gap;
    Some(RelayMatch {
        endpoint: end,
        address,
        listed_port: port.unwrap_or(0),
        nickname: String::new(),
        fingerprint: String::new(),
        flags: if exits { vec!["Exit"] } else { Vec::new() },
        country: String::new(),
        list: p.source.clone(),
        list_kind: "relay-history",
        list_date: Some(history::tsv::format_day(listed_day)),
        builtin_list: true,
        day_gap: Some(n.day_gap),
        within_a_day: n.day_gap.abs() <= 1,
        other_lists: 0,
        history: Some(HistoryRun {
            source: p.source.clone(),
            first_day: history::tsv::format_day(p.first_day),
            last_day: history::tsv::format_day(p.last_day),
            source_lists: if exits { "exit relays" } else { "all relays" },
        }),
    })
}

/// How near a dated match is, in the steps confidence follows: within a day, within
/// `NEAR_LIST_DAYS`, further or undated.
fn nearness(m: &RelayMatch) -> u8 {
    match m.day_gap.map(i64::abs) {
        Some(g) if g <= 1 => 0,
        Some(g) if g <= super::verdict::NEAR_LIST_DAYS => 1,
        _ => 2,
    }
}

fn kind_rank(kind: PortKind) -> u8 {
    match kind {
        PortKind::OrPort => 0,
        PortKind::DirPort => 1,
        PortKind::AddressOnly => 2,
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
        let lists = {
            let mut names: Vec<&str> = hits.iter().map(|h| h.snapshot.source.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            names.len()
        };
        // Candidates of every kind from the dated lists and from the history.
        let mut candidates: Vec<(PortKind, RelayMatch)> = Vec::new();
        for kind in [PortKind::OrPort, PortKind::DirPort, PortKind::AddressOnly] {
            if let Some(h) = best(&hits, capture_day, kind) {
                candidates.push((kind, to_match(end, addr, h, capture_day, lists.saturating_sub(1))));
            }
            if kind != PortKind::DirPort {
                candidates.extend(history_match(index, end, addr, capture_day, kind).map(|m| (kind, m)));
            }
        }
        // The nearest in time first (a listing on the capture's day beats an older ORPort
        // match), then the strongest kind, then the smallest gap; lists before the history on
        // a tie (they carry the relay's identity).
        let Some((kind, m)) = candidates
            .iter()
            .min_by_key(|(kind, m)| {
                (nearness(m), kind_rank(*kind), m.day_gap.map_or(i64::MAX, i64::abs), m.history.is_some())
            })
            .cloned()
        else {
            continue;
        };
        // When the nearest is a weaker kind, the strongest kind is kept too: a port matched at
        // another date still says which service the address ran.
        let stronger = candidates
            .iter()
            .filter(|(k, _)| kind_rank(*k) < kind_rank(kind))
            .min_by_key(|(k, m)| (kind_rank(*k), m.day_gap.map_or(i64::MAX, i64::abs)))
            .cloned();
        // A flow seen mid-stream (no SYN) is oriented by its first packet, which may come from
        // the server: then the listed port is on the "client" end. With a SYN, a client's port
        // is ephemeral and a listed client is an address match (a relay or exit connecting in).
        let listening_end = end == End::Server || !flow.oriented_by_syn;
        for (kind, m) in stronger.into_iter().chain(std::iter::once((kind, m))) {
            out.push(match (listening_end, kind) {
                (true, PortKind::OrPort) => Evidence::RelayOrport(m),
                (true, PortKind::DirPort) => Evidence::RelayDirport(m),
                _ => Evidence::RelayAddress(m),
            });
        }
    }
    out
}

/// For a flow with a Tor verdict: the server's absence from the relay history within a day of
/// the capture, when sources of every relay had snapshots of each of those days.
#[inline(never)] // one copy: it is called from loops the optimiser would unroll
pub fn unlisted_evidence(index: &RelayIndex, flow: &Flow, found: &[Evidence]) -> Option<Evidence> {
    let listed_near =
        found.iter().filter_map(Evidence::relay_match).any(|m| m.endpoint == End::Server && m.within_a_day);
    if listed_near || index.history().is_empty() {
        return None;
    }
    let day = flow.first_seen.day_number();
    const WINDOW: i64 = 1;
    let sources = index.history().vouching_sources(day, WINDOW, false)?;
    let nearest = index.history().nearest(flow.server.ip(), None, day);
    Some(Evidence::RelayUnlisted(RelayUnlisted {
        endpoint: End::Server,
        address: flow.server,
        day: history::tsv::format_day(day),
        window_days: WINDOW,
        sources,
        nearest_listed: nearest.as_ref().map(|n| history::tsv::format_day(day + n.day_gap)),
        nearest_gap: nearest.map(|n| n.day_gap),
    }))
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
    if let Some(t) =
        super::tls_tunnel::tunnelled_cells(&f.to_server_records, &f.to_client_records, f.client_hello.as_ref())
    {
        out.push(Evidence::TlsTunnelCells(t));
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
/// Whether any flow holds a pion DTLS handshake: only then can the capture hold a Snowflake
/// connection, and only then is each flow's view for the correlation worth making.
pub fn snowflake_possible(flows: &[Flow]) -> bool {
    flows.iter().any(|f| f.datagrams.as_ref().is_some_and(|d| super::snowflake::pion_dtls(&d.facts).is_some()))
}

/// Snowflake's evidence, from every flow's view (`snowflake::FlowView`), by flow index.
pub fn snowflake_evidence(views: &[super::snowflake::FlowView]) -> Vec<(usize, Evidence)> {
    use super::snowflake::{correlate, Found};
    if views.is_empty() {
        return Vec::new();
    }
    correlate(views)
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
