//! Verdicts: conclusions drawn only from evidence. Thresholds are named, with their reasons.

use super::evidence::{End, Evidence, RelayMatch};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// A Tor link (OR) connection.
    Tor,
    /// A plain-HTTP request to a relay's or authority's DirPort.
    TorDirectory,
    /// A pluggable transport (bridge) is suspected.
    TorTransport,
    /// An exit relay connecting out to a service: a Tor user reaching this server.
    TorExit,
    None,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Tor => "tor",
            Verdict::TorDirectory => "tor-directory",
            Verdict::TorTransport => "tor-transport",
            Verdict::TorExit => "tor-exit",
            Verdict::None => "none",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn name(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// A relay list this many days from the packets still supports a medium-confidence verdict:
/// most relays keep their address and ORPort for months (Tor Metrics' relay-stability data),
/// but the further the list, the more addresses have changed hands.
pub const NEAR_LIST_DAYS: i64 = 31;

#[derive(Clone, Debug, PartialEq)]
pub struct Conclusion {
    pub verdict: Verdict,
    /// For `tor-transport`: which pluggable transport (`obfs4`, `meek`, `snowflake`, …).
    pub transport: Option<&'static str>,
    pub confidence: Option<Confidence>,
    pub explanation: String,
}

fn dated(m: &RelayMatch) -> String {
    if let Some(run) = &m.history {
        let gap = m.day_gap.unwrap_or(0);
        let when = if gap == 0 {
            format!("on the capture's day (listed {} to {})", run.first_day, run.last_day)
        } else if gap < 0 {
            format!("until {}, {} days before the capture", run.last_day, -gap)
        } else {
            format!("from {}, {gap} days after the capture", run.first_day)
        };
        let what = if run.source_lists == "exit relays" { "exit relay" } else { "relay" };
        return format!("a {what} listed by {} in the daily relay history {when}", run.source);
    }
    let name = if m.nickname.is_empty() { String::new() } else { format!(" {}", m.nickname) };
    let when = match (m.list_date.as_deref(), m.day_gap) {
        (Some(d), Some(0)) => format!("{d}, the capture's day"),
        (Some(d), Some(g)) if g < 0 => format!("{d}, {} days before the capture", -g),
        (Some(d), Some(g)) => format!("{d}, {g} days after the capture"),
        _ => "an undated list".to_string(),
    };
    format!("relay{name} in the {} of {when}", m.list_kind)
}

fn end_name(end: End) -> &'static str {
    match end {
        End::Client => "client",
        End::Server => "server",
    }
}

fn list_confidence(m: &RelayMatch) -> Confidence {
    gap_confidence(m.day_gap)
}

/// How sure a dated list makes us, by its distance in days from the capture.
fn gap_confidence(day_gap: Option<i64>) -> Confidence {
    match day_gap.map(i64::abs) {
        Some(g) if g <= 1 => Confidence::High,
        Some(g) if g <= NEAR_LIST_DAYS => Confidence::Medium,
        _ => Confidence::Low,
    }
}

/// Of two matches of one kind, the one nearer the capture.
fn nearer<'a>(held: Option<&'a RelayMatch>, m: &'a RelayMatch) -> Option<&'a RelayMatch> {
    let gap = |m: &RelayMatch| m.day_gap.map_or(i64::MAX, i64::abs);
    match held {
        Some(h) if gap(h) <= gap(m) => Some(h),
        _ => Some(m),
    }
}

/// The sentence a `relay-unlisted` observation adds to a Tor verdict.
#[inline(never)] // one copy: it is called from loops the optimiser would unroll
pub fn unlisted_sentence(u: &super::evidence::RelayUnlisted) -> String {
    let nearest = match (&u.nearest_listed, u.nearest_gap) {
        (Some(d), Some(g)) => {
            format!(" (its address was listed on {d}, {} days {})", g.abs(), if g < 0 { "before" } else { "after" })
        }
        _ => String::new(),
    };
    format!(
        "server {} was not a listed relay within {} day of {} although {} had snapshots of every relay on \
         each of those days{nearest}: a bridge, or a relay not yet in the public lists",
        u.address.ip(),
        u.window_days,
        u.day,
        u.sources.join(", ")
    )
}

/// Accept-Encoding tokens only tor sends (dir-spec §6.1: compression methods tor offers).
const TOR_ENCODINGS: [&str; 2] = ["x-tor-lzma", "x-zstd"];

/// Draws the verdict of one flow from its own evidence. Host context (other flows of the same
/// host) never lifts a verdict: a host that runs tor can run Shadowsocks too, and the hard-
/// negatives lab shows exactly that (its Shadowsocks flows have obfs4's handshake shape).
pub fn conclude(evidence: &[Evidence]) -> Conclusion {
    let mut orport = None;
    let mut dirport = None;
    let mut listed_server = None;
    let mut exit_client = None;
    let (mut hello, mut cert, mut cells, mut dir, mut random) = (None, None, None, None, None);
    let mut obfs4_padding = None;
    let mut meek = None;
    let mut tunnel = None;
    let mut snowflake = Vec::new();
    let (mut builtin_bridge, mut meek_front, mut snowflake_name) = (None, None, None);
    for e in evidence {
        match e {
            Evidence::RelayOrport(m) => orport = nearer(orport, m),
            Evidence::RelayDirport(m) => dirport = nearer(dirport, m),
            Evidence::RelayAddress(m) if m.endpoint == End::Client && m.is_exit() => {
                exit_client = nearer(exit_client, m)
            }
            Evidence::RelayAddress(m) => listed_server = nearer(listed_server, m),
            Evidence::TorLinkClientHello(h) => hello = Some(h),
            Evidence::TorLinkCertificate(c) => cert = Some(c),
            Evidence::CellSizedRecords(c) => cells = Some(c),
            Evidence::DirectoryRequest(d) => dir = Some(d),
            Evidence::RandomFirstFlight(r) => random = Some(r),
            Evidence::Obfs4Padding(p) => obfs4_padding = Some(p),
            Evidence::MeekPolling(p) => meek = Some(p),
            Evidence::TlsTunnelCells(t) => tunnel = Some(t),
            Evidence::SnowflakeWebrtc(_)
            | Evidence::SnowflakeStun(_)
            | Evidence::SnowflakeRendezvous(_)
            | Evidence::SnowflakeRelay(_) => snowflake.push(e),
            Evidence::BuiltinBridge(b) => builtin_bridge = Some(b),
            Evidence::MeekFront(n) => meek_front = Some(n),
            Evidence::SnowflakeFront(n) | Evidence::SnowflakeIceServer(n) => snowflake_name = Some(n),
            Evidence::WebrtcDtls(_)
            | Evidence::ConjureRegistration(_)
            | Evidence::RelayUnlisted(_)
            | Evidence::SocksToTorPort { .. }
            | Evidence::DnsTorName { .. } => {}
        }
    }
    // The listing that dates the flow best: an ORPort match, unless the address alone is
    // listed nearer the capture (the relay history has no ports for most days).
    let listed = match (orport, listed_server) {
        (Some(o), Some(a)) if list_confidence(a) > list_confidence(o) => Some(a),
        (o, a) => o.or(a),
    };
    let mut why: Vec<String> = Vec::new();
    if let Some(c) = cert {
        why.push(format!("Tor link certificate ({} issued by {})", c.subject, c.issuer));
    }
    if let Some(h) = hello {
        let stack = if h.stack_traits.is_empty() {
            "not tor's TLS stack".to_string()
        } else {
            format!("tor's TLS stack: {}", h.stack_traits.join(", "))
        };
        let label = if h.label_looks_random { "random-looking" } else { "short or word-like" };
        why.push(format!(
            "Tor link ClientHello (SNI {} never looked up, {label} name, no ALPN, {stack}; JA4 {})",
            h.sni, h.ja4
        ));
    }
    if let Some(c) = cells {
        why.push(format!("{} of {} TLS records cell-sized", c.cell_sized, c.records));
    }
    if let Some(m) = orport {
        why.push(format!("{} {} is the ORPort of {}", end_name(m.endpoint), m.address, dated(m)));
    }
    if let Some(m) = listed_server.filter(|a| orport.is_none_or(|o| list_confidence(a) > list_confidence(o))) {
        why.push(format!("{} {} is the address of {}", end_name(m.endpoint), m.address.ip(), dated(m)));
    }
    let corroborated = cells.is_some_and(|c| !c.few) || listed.is_some();
    let link = if cert.is_some() {
        Some(Confidence::High)
    } else if let Some(h) = hello {
        // tor's stack and a random name are two independent traits; either alone is one.
        Some(match (h.tor_stack(), h.label_looks_random, corroborated) {
            (true, true, _) | (true, false, true) => Confidence::High,
            (true, false, false) | (false, true, true) => Confidence::Medium,
            (false, true, false) => Confidence::Low,
            (false, false, _) => Confidence::Low, // not emitted by link.rs; kept total
        })
    } else if let Some(c) = cells {
        let base = if c.few { Confidence::Low } else { Confidence::Medium };
        // A relay list naming the server lifts cell evidence to at least medium.
        Some(match listed {
            Some(m) => base.max(Confidence::Medium).max(list_confidence(m)),
            None => base,
        })
    } else {
        // An ORPort matched at another date, with the address listed nearer the capture, is as
        // sure as the address listing allows up to medium (the port may have changed hands).
        orport.map(|o| {
            list_confidence(o)
                .max(listed_server.map_or(Confidence::Low, |a| list_confidence(a).min(Confidence::Medium)))
        })
    };
    if let Some(confidence) = link {
        return Conclusion {
            transport: None,
            verdict: Verdict::Tor,
            confidence: Some(confidence),
            explanation: why.join("; "),
        };
    }
    if let Some(b) = builtin_bridge {
        return bridge_conclusion(b, random.is_some_and(|r| r.obfs4_handshake_shape));
    }
    if let Some(d) = dir {
        let tor_encoding = d.accept_encoding.as_deref().is_some_and(|a| TOR_ENCODINGS.iter().any(|t| a.contains(t)));
        let mut why = vec![format!("plain-HTTP request for Tor directory document {} {}", d.method, d.path)];
        if let Some(m) = dirport {
            why.push(format!("server {} is the DirPort of {}", m.address, dated(m)));
        }
        let confidence = if dirport.is_some() || tor_encoding { Confidence::High } else { Confidence::Medium };
        return Conclusion {
            transport: None,
            verdict: Verdict::TorDirectory,
            confidence: Some(confidence),
            explanation: why.join("; "),
        };
    }
    if let Some(m) = dirport {
        return Conclusion {
            transport: None,
            verdict: Verdict::TorDirectory,
            confidence: Some(list_confidence(m).min(Confidence::Medium)),
            explanation: format!("server {} is the DirPort of {}", m.address, dated(m)),
        };
    }
    if let Some(m) = exit_client {
        return Conclusion {
            transport: None,
            verdict: Verdict::TorExit,
            confidence: Some(list_confidence(m).min(Confidence::Medium)),
            explanation: format!(
                "client {} is an exit relay ({}): a Tor user reaching this server",
                m.address.ip(),
                dated(m)
            ),
        };
    }
    if let Some(p) = meek {
        let think: Vec<String> = p.think_ms.iter().map(|t| format!("{t}")).collect();
        // The front alone is a popular CDN name; with meek's timer it names the deployment.
        let (confidence, front) = match meek_front {
            Some(n) => (Confidence::High, format!("; SNI {} is {}", n.name, builtin_name_dated(n))),
            None => (Confidence::Medium, String::new()),
        };
        return Conclusion {
            transport: Some("meek"),
            verdict: Verdict::TorTransport,
            confidence: Some(confidence),
            explanation: format!(
                "meek polling: one TLS session of {} requests, {} runs of identical {}-byte requests whose \
                 wait grew ×1.5 from about 100 ms ({} ms), meek's idle back-off{front}",
                p.requests,
                p.backoff_runs.max(1),
                p.poll_bytes,
                think.join(", ")
            ),
        };
    }
    if let Some(mut c) = snowflake_conclusion(&snowflake) {
        // A built-in front or STUN server of Tor Browser's Snowflake line lifts the step one
        // level: the behaviour is Snowflake's, the name says it is Tor Browser's deployment.
        if let Some(n) = snowflake_name {
            c.confidence = c.confidence.map(|c| match c {
                Confidence::Low => Confidence::Medium,
                _ => Confidence::High,
            });
            c.explanation.push_str(&format!("; {} is {}", n.name, builtin_name_dated(n)));
        }
        return c;
    }
    if let Some(t) = tunnel {
        return tunnel_conclusion(t);
    }
    if let Some(r) = random.filter(|r| r.obfs4_handshake_shape) {
        let handshake = format!(
            "client opened with {} random-looking bytes ({:.2} bits/byte) and the server answered with {} \
             ({:.2} bits/byte), no protocol structure: obfs4's handshake shape",
            r.first_flight_bytes, r.entropy_bits_per_byte, r.server_flight_bytes, r.server_entropy_bits_per_byte
        );
        if let Some(p) = obfs4_padding {
            return Conclusion {
                transport: Some("obfs4"),
                verdict: Verdict::TorTransport,
                confidence: Some(Confidence::Medium),
                explanation: format!(
                    "{handshake}; then segment lengths modulo 1448 share {} residues between the directions \
                     (chance: {:.1}; e.g. {}): obfs4's length padding",
                    p.shared_residues,
                    p.shared_by_chance,
                    p.top_shared.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
                ),
            };
        }
    }
    Conclusion { transport: None, verdict: Verdict::None, confidence: None, explanation: String::new() }
}

/// Tor's TLS inside another TLS session: WebTunnel's shape when the outer ClientHello offered
/// no ALPN (`medium`: sizes and one ClientHello trait, nothing that names Tor), some other TLS
/// tunnel otherwise (`low`).
fn tunnel_conclusion(t: &super::tls_tunnel::TunnelledCells) -> Conclusion {
    let lengths: Vec<String> = t.lengths.iter().map(u16::to_string).collect();
    let hello = match t.alpn_offered {
        Some(false) => "; the ClientHello offered no ALPN, as WebTunnel's client (browsers always do)",
        Some(true) => "; the ClientHello offered ALPN, unlike WebTunnel's client: another TLS tunnel or proxy",
        None => "; no ClientHello in the capture",
    };
    let webtunnel = t.webtunnel_shape();
    Conclusion {
        transport: Some(if webtunnel { "webtunnel" } else { "tls-tunnel" }),
        verdict: Verdict::TorTransport,
        confidence: Some(if webtunnel { Confidence::Medium } else { Confidence::Low }),
        explanation: format!(
            "{} of {} TLS records are whole inner TLS records of 514-byte cells ({}: {}, …): Tor's link TLS \
             tunnelled in TLS{hello}",
            t.cell_sized,
            t.records,
            t.layering,
            lengths.join(", ")
        ),
    }
}

/// `12 ms before`, `5.1 s before`, `3 ms after`.
fn before(seconds: f64) -> String {
    let side = if seconds < 0.0 { "after" } else { "before" };
    let s = seconds.abs();
    if s < 1.0 {
        format!("{:.0} ms {side}", s * 1000.0)
    } else {
        format!("{s:.1} s {side}")
    }
}

/// Who the connection's hosts were, for explanations.
fn session_roles(s: &super::snowflake::WebrtcSession) -> String {
    let mut roles = Vec::new();
    if let Some(h) = s.nat_test_host {
        roles.push(format!("{h} ran Snowflake's NAT-mapping test"));
    }
    if let Some(h) = s.relay_host {
        roles.push(format!("{h} relayed it to a WebSocket"));
    }
    format!("pion WebRTC connection {} (DTLS JA4 {}; {})", s.dtls_flow, s.dtls_ja4, roles.join(", "))
}

/// Snowflake: the strongest step this flow took part in. The connection itself and the steps
/// tied to it by protocol facts (NAT test, candidate gathering, relayed bytes) are medium, high
/// when both of Snowflake's roles were seen; a step tied only by time is low.
fn snowflake_conclusion(found: &[&Evidence]) -> Option<Conclusion> {
    let (confidence, explanation) = found
        .iter()
        .filter_map(|e| match e {
            Evidence::SnowflakeWebrtc(s) => {
                let both = s.nat_test_host.is_some() && s.relay_host.is_some();
                let c = if both { Confidence::High } else { Confidence::Medium };
                Some((c, format!("candidate pair (of {}) of the Snowflake {}", s.candidate_pairs, session_roles(s))))
            }
            Evidence::SnowflakeRelay(r) => {
                let s = r.session.as_ref()?;
                Some((
                    Confidence::Medium,
                    format!(
                        "Snowflake proxy's relay WebSocket: it carried {} B up and {} B down as the {} \
                         brought in {} B and took out {} B",
                        r.relayed_up,
                        r.relayed_down,
                        session_roles(s),
                        r.connection_in,
                        r.connection_out
                    ),
                ))
            }
            Evidence::SnowflakeStun(st) => {
                let c = if st.role == "same-stun-server" { Confidence::Low } else { Confidence::Medium };
                Some((
                    c,
                    format!(
                        "STUN Binding Request to {} ({}) {} the {}",
                        st.stun_server,
                        st.role,
                        before(st.seconds_before_connection),
                        session_roles(&st.session)
                    ),
                ))
            }
            Evidence::SnowflakeRendezvous(r) => Some((
                Confidence::Low,
                format!(
                    "HTTPS request of {} B {} the {}: Snowflake's rendezvous (SDP offer or answer)",
                    r.request_bytes,
                    before(r.seconds_before_connection),
                    session_roles(&r.session)
                ),
            )),
            _ => None,
        })
        .max_by_key(|(c, _)| *c)?;
    Some(Conclusion {
        transport: Some("snowflake"),
        verdict: Verdict::TorTransport,
        confidence: Some(confidence),
        explanation,
    })
}

/// `Tor Browser's built-in snowflake front (listed 2023-09-12 to 2024-03-05, 3 days after)`.
fn builtin_name_dated(n: &super::builtin::BuiltinName) -> String {
    let until = n.removed.as_deref().map_or("the newest configuration".to_string(), str::to_string);
    let when = match n.day_gap {
        0 => "the capture is inside it".to_string(),
        g if g < 0 => format!("the capture is {} days before it", -g),
        g => format!("the capture is {g} days after it"),
    };
    format!("Tor Browser's built-in {} (listed {} to {until}; {when})", n.role, n.first_listed)
}

/// Transport names the report uses (`Conclusion::transport` is static).
fn transport_name(transport: &str) -> &'static str {
    match transport {
        "obfs4" => "obfs4",
        "obfs3" => "obfs3",
        "scramblesuit" => "scramblesuit",
        "fte" => "fte",
        "webtunnel" => "webtunnel",
        "meek" | "meek_lite" => "meek",
        "snowflake" => "snowflake",
        _ => "bridge",
    }
}

/// A built-in bridge's exact address:port: as sure as its listing is near the capture, like
/// a relay list (`list_confidence`); obfs4's handshake shape in the same flow confirms a
/// listing months away.
fn bridge_conclusion(b: &super::builtin::BuiltinBridge, obfs4_shape: bool) -> Conclusion {
    let by_date = gap_confidence(Some(b.day_gap));
    let shape_fits = obfs4_shape && b.transport == "obfs4";
    let confidence = if shape_fits { by_date.max(Confidence::Medium) } else { by_date };
    let until = match &b.removed {
        Some(r) => format!("until {r}"),
        None => format!("still in the newest configuration ({})", b.newest_configuration.as_deref().unwrap_or("-")),
    };
    let when = match b.day_gap {
        0 => "listed on the capture's day".to_string(),
        g if g < 0 => format!("the capture is {} days before it was listed", -g),
        g if b.removed.is_some() => format!("the capture is {g} days after it was removed"),
        g => format!("the capture is {g} days after the newest configuration"),
    };
    let shape = if shape_fits { "; the flow opens with obfs4's handshake shape" } else { "" };
    Conclusion {
        transport: Some(transport_name(&b.transport)),
        verdict: Verdict::TorTransport,
        confidence: Some(confidence),
        explanation: format!(
            "{} {} is Tor Browser's built-in {} bridge {} (configurations from {} {until}; {when}){shape}",
            end_name(b.endpoint),
            b.address,
            b.transport,
            b.fingerprint,
            b.first_listed
        ),
    }
}
