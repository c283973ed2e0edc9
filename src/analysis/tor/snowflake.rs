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

/// Flows of one kind in the order they began (first packets come in capture order, nearly
/// always time order), so that the steps of a connection are looked up in their time windows:
/// a capture of a busy proxy (thousands of connections among hundreds of thousands of flows)
/// costs about one window per connection. A running maximum and a suffix minimum of the
/// first-packet times bound each window exactly even where the order is not time order.
struct Timeline {
    flows: Vec<usize>,
    running_max: Vec<i64>,
    suffix_min: Vec<i64>,
}

impl Timeline {
    fn new(all: &[FlowView], keep: impl Fn(&FlowView) -> bool) -> Self {
        let flows: Vec<usize> = (0..all.len()).filter(|&i| all.get(i).is_some_and(&keep)).collect();
        let first = |i: &usize| all.get(*i).map_or(0, |f| f.first_seen);
        let mut max = i64::MIN;
        let running_max = flows.iter().map(|i| {
            max = max.max(first(i));
            max
        });
        let running_max = running_max.collect();
        let mut min = i64::MAX;
        let mut suffix_min: Vec<i64> = flows
            .iter()
            .rev()
            .map(|i| {
                min = min.min(first(i));
                min
            })
            .collect();
        suffix_min.reverse();
        Timeline { flows, running_max, suffix_min }
    }

    /// The flows of `host` (as their client) that began in `from..=to`.
    fn window<'a>(&'a self, all: &'a [FlowView], host: IpAddr, from: i64, to: i64) -> impl Iterator<Item = usize> + 'a {
        // Before `lo` every flow began before `from`; from `hi` on, every flow begins after `to`.
        let lo = self.running_max.partition_point(|&t| t < from);
        let hi = self.suffix_min.partition_point(|&t| t <= to);
        self.flows.get(lo..hi.max(lo)).unwrap_or_default().iter().copied().filter(move |&i| {
            all.get(i).is_some_and(|f| f.client.is_some_and(|c| c.ip() == host) && (from..=to).contains(&f.first_seen))
        })
    }
}

/// ICE connections: UDP flows grouped by host pair and ufrag pair (one connection's candidate
/// pairs share its ufrags), and the connections each flow belongs to.
fn ice_connections(flows: &[FlowView]) -> (Vec<Vec<usize>>, Vec<Vec<usize>>) {
    let mut by_key: BTreeMap<(IpAddr, IpAddr, String, String), Vec<usize>> = BTreeMap::new();
    for (i, f) in flows.iter().enumerate() {
        let Some((c, s)) = f.ends().filter(|_| f.udp) else { continue };
        let hosts = if c.ip() <= s.ip() { (c.ip(), s.ip()) } else { (s.ip(), c.ip()) };
        for (a, b) in f.ice_usernames.iter().filter_map(|u| ufrag_pair(u)) {
            let members = by_key.entry((hosts.0, hosts.1, a, b)).or_default();
            if !members.contains(&i) {
                members.push(i);
            }
        }
    }
    let members: Vec<Vec<usize>> = by_key.into_values().collect();
    let mut of_flow: Vec<Vec<usize>> = vec![Vec::new(); flows.len()];
    for (id, m) in members.iter().enumerate() {
        for &i in m {
            if let Some(o) = of_flow.get_mut(i) {
                o.push(id);
            }
        }
    }
    (members, of_flow)
}

/// One finding of each kind per flow: the strongest (a NAT test before a gathering before the
/// same server again), then the nearest in time. A STUN server or a broker session near many
/// connections is not evidence many times over.
fn strongest_per_flow(mut found: Vec<(usize, Found)>) -> Vec<(usize, Found)> {
    let millis = |s: f64| (s.abs() * 1000.0) as u64;
    let rank = |f: &Found| match f {
        Found::Session(_) => (0u8, 0u8, 0u64),
        Found::Relay(_) => (1, 0, 0),
        Found::Stun(s) => {
            let role = match s.role {
                "nat-mapping-test" => 0,
                "candidate-gathering" => 1,
                _ => 2,
            };
            (2, role, millis(s.seconds_before_connection))
        }
        Found::Rendezvous(r) => (3, 0, millis(r.seconds_before_connection)),
    };
    found.sort_unstable_by_key(|(i, f)| (*i, rank(f)));
    found.dedup_by_key(|(i, f)| (*i, rank(f).0));
    found
}

/// Finds Snowflake peer connections and the flows that belong to them.
pub fn correlate(flows: &[FlowView]) -> Vec<(usize, Found)> {
    strongest_per_flow(connections_and_steps(flows))
}

fn connections_and_steps(flows: &[FlowView]) -> Vec<(usize, Found)> {
    let mut out = Vec::new();
    let (connections, connections_of) = ice_connections(flows);
    let stun = Timeline::new(flows, |g| g.udp && g.bare_binding_requests > 0);
    let tcp = Timeline::new(flows, |g| !g.udp);
    let requests: Vec<usize> = (0..flows.len())
        .filter(|&j| flows.get(j).is_some_and(|g| g.tls && !g.udp && !g.large_requests.is_empty()))
        .collect();
    let at = |i: usize| flows.get(i);
    let mut done = vec![false; flows.len()];
    for (i, f) in flows.iter().enumerate() {
        let Some((extensions, ja4, from)) = &f.dtls_hello else { continue };
        if !pion_extension_order(extensions) || done.get(i).copied().unwrap_or(true) {
            continue;
        }
        let Some((c, s)) = f.ends() else { continue };
        let mut members: Vec<usize> = connections_of
            .get(i)
            .into_iter()
            .flatten()
            .filter_map(|&id| connections.get(id))
            .flatten()
            .copied()
            .collect();
        members.push(i);
        members.sort_unstable();
        members.dedup();
        for &m in &members {
            if let Some(d) = done.get_mut(m) {
                *d = true;
            }
        }
        let start = members.iter().filter_map(|&m| at(m)).map(|m| m.first_seen).min().unwrap_or(f.first_seen);
        let end = members.iter().filter_map(|&m| at(m)).map(|m| m.last_seen).max().unwrap_or(f.last_seen);
        let mut found = Vec::new();
        let mut relays: Vec<(usize, SnowflakeRelay)> = Vec::new();
        let mut nat_test_host = None;
        let mut relay_host = None;
        // Local sockets of the connection: where gathering happened.
        let sockets: Vec<SocketAddr> =
            members.iter().filter_map(|&m| at(m)?.ends()).flat_map(|(a, b)| [a, b]).collect();
        for host in [c.ip(), s.ip()] {
            // Bytes this host received and sent over the connection.
            let (mut came_in, mut went_out) = (0u64, 0u64);
            for m in members.iter().filter_map(|&m| at(m)) {
                let Some((mc, _)) = m.ends() else { continue };
                if mc.ip() == host {
                    went_out += m.payload_to_server;
                    came_in += m.payload_to_client;
                } else {
                    went_out += m.payload_to_client;
                    came_in += m.payload_to_server;
                }
            }
            let stun_window: Vec<usize> = stun.window(flows, host, start - STUN_BEFORE_NANOS, end).collect();
            // The NAT-mapping test: socket X asks S, S names O, X asks O.
            let mut servers_used: Vec<SocketAddr> = Vec::new();
            for &j in &stun_window {
                let Some((gc, gs)) = at(j).and_then(FlowView::ends) else { continue };
                for other in at(j).map(|g| g.other_addresses.as_slice()).unwrap_or_default() {
                    let second = stun_window.iter().copied().find(|&k| {
                        at(k).is_some_and(|h| h.client == Some(gc) && h.server == Some(*other) && h.server != Some(gs))
                    });
                    if let Some(k) = second {
                        nat_test_host = Some(host);
                        for (idx, server) in [(j, gs), (k, *other)] {
                            servers_used.push(server);
                            found.push((idx, "nat-mapping-test", server, at(idx).map_or(start, |g| g.first_seen)));
                        }
                    }
                }
            }
            for &j in &stun_window {
                let Some((gc, gs)) = at(j).and_then(FlowView::ends) else { continue };
                if sockets.contains(&gc) && !found.iter().any(|(idx, ..)| *idx == j) {
                    servers_used.push(gs);
                    found.push((j, "candidate-gathering", gs, at(j).map_or(start, |g| g.first_seen)));
                }
            }
            for &j in &stun_window {
                let Some((_, gs)) = at(j).and_then(FlowView::ends) else { continue };
                if servers_used.contains(&gs) && !found.iter().any(|(idx, ..)| *idx == j) {
                    found.push((j, "same-stun-server", gs, at(j).map_or(start, |g| g.first_seen)));
                }
            }
            // The proxy's relay leg: TCP from this host, opened as the connection started,
            // carrying the connection's bytes.
            for j in tcp.window(flows, host, start, start + RELAY_AFTER_NANOS) {
                let Some(g) = at(j) else { continue };
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
        // The rendezvous: the host's HTTPS request that carried the offer or the answer (on a
        // session that may have begun long before: a proxy polls the broker on one).
        let window = start - RENDEZVOUS_BEFORE_NANOS..=start + RENDEZVOUS_AFTER_NANOS;
        for host in [c.ip(), s.ip()] {
            let best = requests
                .iter()
                .filter(|&&j| {
                    at(j).is_some_and(|g| g.client.is_some_and(|c| c.ip() == host)) && !relay_flows.contains(&j)
                })
                .filter_map(|&j| {
                    let (t, bytes) = at(j)?
                        .large_requests
                        .iter()
                        .filter(|(t, _)| window.contains(t))
                        .min_by_key(|(t, _)| (start - t).abs())?;
                    Some((j, *t, *bytes))
                })
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

    const SEC: i64 = 1_000_000_000;

    fn udp(client: &str, server: &str, at: i64) -> FlowView {
        FlowView {
            udp: true,
            client: client.parse().ok(),
            server: server.parse().ok(),
            first_seen: at,
            last_seen: at + SEC,
            ..FlowView::default()
        }
    }

    /// A proxy serving `n` clients one after another, each connection a minute apart, among
    /// unrelated flows: every connection is found with its own STUN gathering and relay leg,
    /// and nothing of one is credited to another.
    #[test]
    fn a_busy_proxy_gets_each_connection_right() {
        let n = 50;
        let mut flows = Vec::new();
        for k in 0..n {
            let t = k * 60 * SEC;
            let (proxy_port, client) = (40_000 + k, format!("198.51.100.{}:5000", 1 + k % 200));
            let proxy = format!("203.0.113.45:{proxy_port}");
            let mut stun = udp(&proxy, "192.0.2.30:3478", t);
            stun.bare_binding_requests = 1;
            flows.push(stun);
            let mut dtls = udp(&proxy, &client, t + SEC / 10);
            dtls.ice_usernames = vec![format!("a{k}:b{k}")];
            dtls.dtls_hello = Some((vec![13, 65281, 10, 11, 14, 23], "dd2i060600_x".into(), End::Client));
            dtls.payload_to_server = 20_000;
            dtls.payload_to_client = 90_000;
            flows.push(dtls);
            let mut relay = udp(&format!("203.0.113.45:{}", 50_000 + k), "192.0.2.40:443", t + SEC / 5);
            relay.udp = false;
            relay.payload_to_server = 95_000;
            relay.payload_to_client = 21_000;
            flows.push(relay);
            // An unrelated HTTPS download of the proxy in the same minute: not a relay leg.
            let mut other = udp(&format!("203.0.113.45:{}", 60_000 + k), "192.0.2.99:443", t + 2 * SEC);
            other.udp = false;
            other.payload_to_server = 900;
            other.payload_to_client = 5_000_000;
            flows.push(other);
        }
        // Flows out of time order (a capture merged from several files) find the same.
        let reversed: Vec<FlowView> = flows.iter().rev().cloned().collect();
        let found_reversed = correlate(&reversed);
        let found = correlate(&flows);
        assert_eq!(found.len(), found_reversed.len());
        // One finding of a kind per flow: 50 connections, their 50 STUN flows and 50 relays.
        assert_eq!(found.len(), 150);
        let count = |pred: &dyn Fn(&Found) -> bool| found.iter().filter(|(_, f)| pred(f)).count();
        assert_eq!(count(&|f| matches!(f, Found::Session(_))), 50);
        assert_eq!(count(&|f| matches!(f, Found::Relay(_))), 50);
        assert_eq!(count(&|f| matches!(f, Found::Stun(s) if s.role == "candidate-gathering")), 50);
        for (i, f) in &found {
            let flow = &flows[*i];
            match f {
                Found::Relay(r) => {
                    assert_eq!(flow.server.unwrap().to_string(), "192.0.2.40:443");
                    let session = r.session.as_ref().unwrap();
                    // The relay leg opened in the same minute as its connection.
                    assert_eq!(flow.first_seen / (60 * SEC), flows[*i - 1].first_seen / (60 * SEC), "{session:?}");
                }
                Found::Stun(st) if st.role == "candidate-gathering" => {
                    // Its own connection's socket, never another's.
                    assert_eq!(flow.client, flows[*i + 1].client);
                    assert!(st.session.dtls_flow.starts_with(&flow.client.unwrap().to_string()));
                }
                Found::Stun(st) => {
                    assert_eq!(st.role, "same-stun-server");
                    assert!(st.seconds_before_connection >= 0.0 && st.seconds_before_connection <= 600.0);
                }
                _ => {}
            }
        }
    }

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
