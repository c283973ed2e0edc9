//! Snowflake (snowflake-client / snowflake-proxy, Tor's WebRTC transport) across the flows of a
//! capture. No single flow shows Snowflake: what the software fixes is a *sequence* on one host,
//! and each step is checked against the protocol, never a port or a name:
//!
//! 1. A WebRTC peer connection whose DTLS ClientHello was written by pion/dtls, the Go library
//!    both snowflake-client and snowflake-proxy use (`webrtc-dtls`): pion writes its extensions
//!    in a fixed order that starts `signature_algorithms, renegotiation_info`, then
//!    `supported_groups, ec_point_formats` (pion/dtls `flight1handler.go`); browsers' BoringSSL
//!    and NSS and OpenSSL do not. Its ICE connectivity checks (STUN with USERNAME
//!    `remote-ufrag:local-ufrag`, RFC 8445 §7.2.2) tie every candidate pair of the connection
//!    together, so the pairs that only carried checks belong to it too.
//! 2. On the client: the RFC 5780 NAT-mapping test snowflake-client runs before it asks for a
//!    proxy — a Binding Request to a STUN server, then a second one from the same socket to the
//!    OTHER-ADDRESS the first answer named (`snowflake-stun`); and its server-reflexive gathering
//!    from the socket that then carries the peer connection.
//! 3. On a proxy: the WebSocket (TLS) to the Snowflake relay that opens as the peer connection
//!    starts and carries its bytes both ways (`snowflake-relay`): what the proxy receives over
//!    DTLS it sends to the relay, and back.
//! 4. The rendezvous: the HTTPS request of the host that carried the SDP offer or answer
//!    (≥ 600 bytes) just before the connectivity checks began (`snowflake-rendezvous`).
//!
//! A peer connection counts as Snowflake when its DTLS is pion's **and** step 2 or 3 is seen on
//! one of its two hosts; only then do the other steps become evidence. Other pion applications
//! (Go WebRTC services) show step 1 alone; browsers' and aiortc's calls show STUN and DTLS but
//! not pion's ClientHello.

use super::evidence::End;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

/// How long before a peer connection the client's NAT test and STUN gathering may run: the
/// client tests its NAT once at start-up and then asks for proxies as it needs them.
const STUN_BEFORE_NANOS: i64 = 600 * 1_000_000_000;
/// The SDP exchange precedes the connectivity checks: the broker holds a client's offer until a
/// proxy polls (its poll interval is 10 s; 20 s covers a poll and the answer's way back).
const RENDEZVOUS_BEFORE_NANOS: i64 = 20 * 1_000_000_000;
/// The checks can begin a moment before the client has read the answer (the proxy starts them).
const RENDEZVOUS_AFTER_NANOS: i64 = 2 * 1_000_000_000;
/// The proxy dials the relay when the data channel opens.
const RELAY_AFTER_NANOS: i64 = 30 * 1_000_000_000;
/// Bytes relayed each way must match the peer connection's within this factor (framing differs:
/// SCTP/DTLS on one side, WebSocket/TLS on the other), be at least `MIRROR_MIN_BYTES` each way
/// and `MIRROR_MIN_TOTAL` together: tor's first cells down the relay are ~2.7 KB when the bridge
/// side answers little (the transport-lab variant without a Snowflake server), while a
/// coincidence of small flows must not count.
const MIRROR_FACTOR: f64 = 2.0;
const MIRROR_MIN_BYTES: u64 = 1024;
const MIRROR_MIN_TOTAL: u64 = 8192;

/// pion/dtls's ClientHello extension order (flight1handler.go): a ClientHello's extensions must
/// appear in this order, starting with the first two.
const PION_EXTENSION_ORDER: [u16; 11] = [13, 65281, 50, 10, 11, 14, 23, 0, 16, 54, 61];

/// The DTLS ClientHello's extensions were written by pion/dtls.
pub fn pion_extension_order(extensions: &[u16]) -> bool {
    if extensions.get(..2) != Some(&[13, 65281]) {
        return false;
    }
    let mut order = PION_EXTENSION_ORDER.iter();
    extensions.iter().all(|e| order.any(|o| o == e))
}

/// What this module needs to know of one flow.
#[derive(Clone, Debug, Default)]
pub struct FlowView {
    pub udp: bool,
    pub client: Option<SocketAddr>,
    pub server: Option<SocketAddr>,
    pub first_seen: i64,
    pub last_seen: i64,
    pub payload_to_server: u64,
    pub payload_to_client: u64,
    /// STUN Binding Requests without attributes sent by the flow's client.
    pub bare_binding_requests: u32,
    /// OTHER-ADDRESS / CHANGED-ADDRESS that answers to the client named.
    pub other_addresses: Vec<SocketAddr>,
    /// ICE usernames seen in connectivity checks (`ufragA:ufragB`).
    pub ice_usernames: Vec<String>,
    /// The DTLS ClientHello's extensions in order, its JA4, and which end sent it.
    pub dtls_hello: Option<(Vec<u16>, String, End)>,
    /// A TLS ClientHello was seen (HTTPS), and the flow's large requests (start, bytes).
    pub tls: bool,
    pub large_requests: Vec<(i64, u32)>,
}

impl FlowView {
    /// The facts of one flow of the capture that this module reads.
    pub fn of(flow: &crate::analysis::flow::Flow, stream: Option<&crate::analysis::tls::StreamFacts>) -> FlowView {
        let datagrams = flow.datagrams.as_ref().map(|d| &d.facts);
        FlowView {
            udp: flow.transport == crate::analysis::decode::Transport::Udp,
            client: Some(flow.client),
            server: Some(flow.server),
            first_seen: flow.first_seen.0,
            last_seen: flow.last_seen.0,
            payload_to_server: flow.to_server.payload_bytes,
            payload_to_client: flow.to_client.payload_bytes,
            bare_binding_requests: datagrams.map_or(0, |d| d.stun_binding_requests),
            other_addresses: datagrams.map(|d| d.other_addresses.clone()).unwrap_or_default(),
            ice_usernames: datagrams.map(|d| d.ice_usernames.clone()).unwrap_or_default(),
            dtls_hello: datagrams.and_then(|d| {
                let hello = d.dtls_client_hello.as_ref()?;
                let from = if d.dtls_client_hello_from_client? { End::Client } else { End::Server };
                Some((hello.extensions.clone(), hello.ja4.clone(), from))
            }),
            tls: stream.is_some_and(|s| s.client_hello.is_some()),
            large_requests: stream.map(|s| s.turns.large_requests.clone()).unwrap_or_default(),
        }
    }

    fn ends(&self) -> Option<(SocketAddr, SocketAddr)> {
        Some((self.client?, self.server?))
    }
}

/// A DTLS ClientHello written by pion/dtls (alone: any Go WebRTC application).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PionDtls {
    pub ja4: String,
    pub extensions: Vec<u16>,
    /// Which end of the flow sent the ClientHello (Snowflake's proxy usually does).
    pub client_hello_from: End,
}

pub fn pion_dtls(facts: &crate::analysis::udp::DatagramFacts) -> Option<PionDtls> {
    let hello = facts.dtls_client_hello.as_ref().filter(|h| pion_extension_order(&h.extensions))?;
    Some(PionDtls {
        ja4: hello.ja4.clone(),
        extensions: hello.extensions.clone(),
        client_hello_from: if facts.dtls_client_hello_from_client? { End::Client } else { End::Server },
    })
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WebrtcSession {
    /// The two hosts of the peer connection, and which of them showed the Snowflake step.
    pub peers: [IpAddr; 2],
    /// The flow that carried DTLS, the ClientHello's JA4 and which end sent it.
    pub dtls_flow: String,
    pub dtls_ja4: String,
    pub dtls_client_hello_from: End,
    /// Candidate pairs (UDP flows) of this connection, linked by their ICE usernames.
    pub candidate_pairs: usize,
    /// The host that ran the RFC 5780 NAT-mapping test (the Snowflake client), if seen.
    pub nat_test_host: Option<IpAddr>,
    /// The host whose relay WebSocket mirrored the connection (the Snowflake proxy), if seen.
    pub relay_host: Option<IpAddr>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SnowflakeStun {
    /// `nat-mapping-test`, `candidate-gathering` (the socket that then carried the connection)
    /// or `same-stun-server` (another Binding Request of the host to a server the test or the
    /// gathering used).
    pub role: &'static str,
    pub stun_server: SocketAddr,
    pub seconds_before_connection: f64,
    pub session: WebrtcSession,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SnowflakeRendezvous {
    pub request_bytes: u32,
    pub seconds_before_connection: f64,
    pub session: WebrtcSession,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SnowflakeRelay {
    /// Payload bytes the WebSocket carried each way, and the peer connection's.
    pub relayed_up: u64,
    pub relayed_down: u64,
    pub connection_in: u64,
    pub connection_out: u64,
    /// Set once the connection is known to be Snowflake's.
    pub session: Option<WebrtcSession>,
}

/// Evidence this module adds to flows, by flow index.
#[derive(Clone, Debug, PartialEq)]
pub enum Found {
    Session(WebrtcSession),
    Stun(SnowflakeStun),
    Rendezvous(SnowflakeRendezvous),
    Relay(SnowflakeRelay),
}

fn secs(nanos: i64) -> f64 {
    (nanos as f64 / 1e9 * 1000.0).round() / 1000.0
}

fn ufrag_pair(username: &str) -> Option<(String, String)> {
    let (a, b) = username.split_once(':')?;
    Some(if a <= b { (a.to_string(), b.to_string()) } else { (b.to_string(), a.to_string()) })
}

fn ratio_ok(a: u64, b: u64) -> bool {
    a >= MIRROR_MIN_BYTES && b >= MIRROR_MIN_BYTES && {
        let r = a as f64 / b as f64;
        (1.0 / MIRROR_FACTOR..=MIRROR_FACTOR).contains(&r)
    }
}

fn flow_name(f: &FlowView) -> String {
    match f.ends() {
        Some((c, s)) => format!("{c} -> {s}"),
        None => String::new(),
    }
}

/// Finds Snowflake peer connections and the flows that belong to them.
pub fn correlate(flows: &[FlowView]) -> Vec<(usize, Found)> {
    let mut out = Vec::new();
    // ICE connections: UDP flows grouped by host pair and ufrag pair.
    let mut connections: BTreeMap<(IpAddr, IpAddr, String, String), Vec<usize>> = BTreeMap::new();
    for (i, f) in flows.iter().enumerate() {
        let Some((c, s)) = f.ends().filter(|_| f.udp) else { continue };
        let hosts = if c.ip() <= s.ip() { (c.ip(), s.ip()) } else { (s.ip(), c.ip()) };
        for (a, b) in f.ice_usernames.iter().filter_map(|u| ufrag_pair(u)) {
            let members = connections.entry((hosts.0, hosts.1, a, b)).or_default();
            if !members.contains(&i) {
                members.push(i);
            }
        }
    }
    let mut dtls_flows_done = Vec::new();
    for (i, f) in flows.iter().enumerate() {
        let Some((extensions, ja4, from)) = &f.dtls_hello else { continue };
        if !pion_extension_order(extensions) || dtls_flows_done.contains(&i) {
            continue;
        }
        let Some((c, s)) = f.ends() else { continue };
        let mut members: Vec<usize> =
            connections.iter().filter(|(_, m)| m.contains(&i)).flat_map(|(_, m)| m.iter().copied()).collect();
        members.push(i);
        members.sort_unstable();
        members.dedup();
        dtls_flows_done.extend(members.iter().copied());
        let start = members.iter().filter_map(|&m| flows.get(m)).map(|m| m.first_seen).min().unwrap_or(f.first_seen);
        let end = members.iter().filter_map(|&m| flows.get(m)).map(|m| m.last_seen).max().unwrap_or(f.last_seen);
        let mut found = Vec::new();
        let mut relays: Vec<(usize, SnowflakeRelay)> = Vec::new();
        let mut nat_test_host = None;
        let mut relay_host = None;
        // Local sockets of the connection: where gathering happened.
        let sockets: Vec<SocketAddr> =
            members.iter().filter_map(|&m| flows.get(m)?.ends()).flat_map(|(a, b)| [a, b]).collect();
        for host in [c.ip(), s.ip()] {
            // Bytes this host received and sent over the connection.
            let (mut came_in, mut went_out) = (0u64, 0u64);
            for m in members.iter().filter_map(|&m| flows.get(m)) {
                let Some((mc, _)) = m.ends() else { continue };
                if mc.ip() == host {
                    went_out += m.payload_to_server;
                    came_in += m.payload_to_client;
                } else {
                    went_out += m.payload_to_client;
                    came_in += m.payload_to_server;
                }
            }
            let stun_from_host = |g: &FlowView| {
                g.udp
                    && g.bare_binding_requests > 0
                    && g.client.is_some_and(|a| a.ip() == host)
                    && (start - STUN_BEFORE_NANOS..=end).contains(&g.first_seen)
            };
            // The NAT-mapping test: socket X asks S, S names O, X asks O.
            let mut servers_used: Vec<SocketAddr> = Vec::new();
            for (j, g) in flows.iter().enumerate().filter(|(_, g)| stun_from_host(g)) {
                let Some((gc, gs)) = g.ends() else { continue };
                for other in &g.other_addresses {
                    if let Some((k, h)) = flows.iter().enumerate().find(|(_, h)| {
                        stun_from_host(h) && h.client == Some(gc) && h.server == Some(*other) && h.server != Some(gs)
                    }) {
                        nat_test_host = Some(host);
                        for (idx, flow, server) in [(j, g, gs), (k, h, *other)] {
                            servers_used.push(server);
                            found.push((idx, "nat-mapping-test", server, flow.first_seen));
                        }
                    }
                }
            }
            for (j, g) in flows.iter().enumerate().filter(|(_, g)| stun_from_host(g)) {
                let Some((gc, gs)) = g.ends() else { continue };
                if sockets.contains(&gc) && !found.iter().any(|(idx, ..)| *idx == j) {
                    servers_used.push(gs);
                    found.push((j, "candidate-gathering", gs, g.first_seen));
                }
            }
            for (j, g) in flows.iter().enumerate().filter(|(_, g)| stun_from_host(g)) {
                let Some((_, gs)) = g.ends() else { continue };
                if servers_used.contains(&gs) && !found.iter().any(|(idx, ..)| *idx == j) {
                    found.push((j, "same-stun-server", gs, g.first_seen));
                }
            }
            // The proxy's relay leg: TCP from this host, opened as the connection started,
            // carrying the connection's bytes.
            for (j, g) in flows.iter().enumerate() {
                let Some((gc, _)) = g.ends() else { continue };
                if g.udp || gc.ip() != host || !(start..=start + RELAY_AFTER_NANOS).contains(&g.first_seen) {
                    continue;
                }
                if ratio_ok(g.payload_to_server, came_in)
                    && ratio_ok(g.payload_to_client, went_out)
                    && g.payload_to_server + g.payload_to_client >= MIRROR_MIN_TOTAL
                {
                    relay_host = Some(host);
                    relays.push((
                        j,
                        SnowflakeRelay {
                            relayed_up: g.payload_to_server,
                            relayed_down: g.payload_to_client,
                            connection_in: came_in,
                            connection_out: went_out,
                            session: None,
                        },
                    ));
                }
            }
        }
        if nat_test_host.is_none() && relay_host.is_none() {
            continue; // pion's DTLS alone: a Go WebRTC application, not necessarily Snowflake
        }
        let session = WebrtcSession {
            peers: [c.ip(), s.ip()],
            dtls_flow: flow_name(f),
            dtls_ja4: ja4.clone(),
            dtls_client_hello_from: *from,
            candidate_pairs: members.len(),
            nat_test_host,
            relay_host,
        };
        let relay_flows: Vec<usize> = relays.iter().map(|(j, _)| *j).collect();
        for (j, mut relay) in relays {
            relay.session = Some(session.clone());
            out.push((j, Found::Relay(relay)));
        }
        for &m in &members {
            out.push((m, Found::Session(session.clone())));
        }
        for (j, role, server, when) in found {
            out.push((
                j,
                Found::Stun(SnowflakeStun {
                    role,
                    stun_server: server,
                    seconds_before_connection: secs(start - when),
                    session: session.clone(),
                }),
            ));
        }
        // The rendezvous: the host's HTTPS request that carried the offer or the answer.
        for host in [c.ip(), s.ip()] {
            let best = flows
                .iter()
                .enumerate()
                .filter(|(_, g)| g.tls && !g.udp && g.client.is_some_and(|a| a.ip() == host))
                .filter_map(|(j, g)| {
                    let (t, bytes) = g
                        .large_requests
                        .iter()
                        .filter(|(t, _)| (start - RENDEZVOUS_BEFORE_NANOS..=start + RENDEZVOUS_AFTER_NANOS).contains(t))
                        .min_by_key(|(t, _)| (start - t).abs())?;
                    Some((j, *t, *bytes))
                })
                .filter(|(j, ..)| !relay_flows.contains(j))
                .min_by_key(|(_, t, _)| (start - t).abs());
            if let Some((j, t, bytes)) = best {
                out.push((
                    j,
                    Found::Rendezvous(SnowflakeRendezvous {
                        request_bytes: bytes,
                        seconds_before_connection: secs(start - t),
                        session: session.clone(),
                    }),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pion_order_is_recognised_and_others_are_not() {
        assert!(pion_extension_order(&[13, 65281, 10, 11, 14, 23]));
        assert!(pion_extension_order(&[13, 65281, 50, 10, 11, 14, 23, 54]));
        // aiortc (OpenSSL) and a BoringSSL-like order.
        assert!(!pion_extension_order(&[65281, 11, 10, 14, 22, 23, 13]));
        assert!(!pion_extension_order(&[23, 65281, 10, 11, 35, 13, 14]));
        assert!(!pion_extension_order(&[13, 65281, 11, 10]));
    }
}
