//! One card per piece of evidence, written for a person: what it is, why it points to Tor, what
//! it cannot tell, then the facts as the report states them. The flow's one-line explanation
//! stays in the report (and the table); these cards are the page's long form of it.

use serde_json::Value;
use yew::prelude::*;

/// (title, why it points to Tor, blind spot) for each evidence kind of the README's table.
fn describe(kind: &str) -> (&'static str, &'static str, &'static str) {
    match kind {
        "relay-orport" => (
            "Relay ORPort",
            "The server was a relay's ORPort in a relay list of about the capture's day.",
            "A list far from the capture's day; addresses get reused.",
        ),
        "relay-dirport" => (
            "Relay DirPort",
            "The server was a relay's or authority's DirPort.",
            "Relays' addresses can host other services.",
        ),
        "relay-address" => (
            "Relay address",
            "An address of this flow was listed as a relay, on another port.",
            "Relays share addresses with other servers: decides nothing alone.",
        ),
        "relay-unlisted" => (
            "Not a listed relay that day",
            "No source listed this server within a day of the capture, though all had data then.",
            "Context: a bridge or a new relay looks like this.",
        ),
        "tor-link-client-hello" => (
            "Tor's TLS ClientHello",
            "Tor's TLS stack (cipher and group lists) and a random www.….com name never looked up in DNS.",
            "A client imitating tor's stack; a name alone is never enough.",
        ),
        "tor-link-certificate" => (
            "Tor's link certificate",
            "A certificate made the way tor makes its own (random names, no extensions, midnight start).",
            "Visible in TLS 1.2 and older only.",
        ),
        "cell-sized-records" => (
            "Cell-sized TLS records",
            "Record lengths are whole 514-byte Tor cells plus TLS overhead.",
            "Few records prove little.",
        ),
        "tls-tunnel-cells" => (
            "Tor's TLS inside TLS",
            "Outer records that each carry whole inner TLS records of 514-byte cells: Tor tunnelled in TLS, as WebTunnel does (no ALPN).",
            "Sizes only: a tunnel that pads or re-cuts what tor writes hides it.",
        ),
        "directory-request" => (
            "Tor directory request",
            "A plain-HTTP request for a Tor directory document.",
            "Anyone can fetch these; tor's encodings make it specific.",
        ),
        "random-first-flight" => (
            "Random first bytes",
            "The client opened with random bytes, as obfs4 does.",
            "Shadowsocks and VPNs look the same: never decides alone.",
        ),
        "obfs4-padding" => (
            "obfs4 padding",
            "Segment lengths share residues both ways far beyond chance, as obfs4's padding makes them.",
            "Needs many segments.",
        ),
        "meek-polling" => (
            "meek polling",
            "Equal requests whose pauses grow ×1.5 from 100 ms: meek's polling timer.",
            "A busy session hides the pauses.",
        ),
        "meek-front" => (
            "meek front domain",
            "The TLS name is a front of a Tor Browser meek bridge of that time.",
            "Popular CDN names: context only.",
        ),
        "builtin-bridge" => (
            "Tor Browser built-in bridge",
            "The server is the address and port of a bridge Tor Browser shipped.",
            "Confidence falls with the days from the bridge's listing.",
        ),
        "webrtc-dtls" => (
            "pion WebRTC (DTLS)",
            "A DTLS ClientHello in pion's extension order, Snowflake's WebRTC library.",
            "Any Go WebRTC program uses pion: decides nothing alone.",
        ),
        "snowflake-webrtc" => (
            "Snowflake connection",
            "A pion WebRTC connection whose host ran Snowflake's NAT test or relayed it.",
            "Needs the STUN steps or the relay leg.",
        ),
        "snowflake-stun" => (
            "Snowflake STUN",
            "STUN requests of the host, with the RFC 5780 NAT test.",
            "Video calls use STUN too: never alone.",
        ),
        "snowflake-rendezvous" => (
            "Snowflake rendezvous",
            "An HTTPS request the size of an SDP offer, just before.",
            "Tied by time only: low confidence.",
        ),
        "snowflake-relay" => (
            "Snowflake relay",
            "The proxy's TCP flow carrying the connection's bytes.",
            "Only the proxy's side shows it.",
        ),
        "snowflake-front" | "snowflake-ice-server" => (
            "Snowflake built-in server",
            "A broker front or STUN server of Tor Browser's Snowflake line.",
            "Public names: context only.",
        ),
        "conjure-registration" => (
            "Conjure registration",
            "The TLS name is Tor Browser's Conjure registrar.",
            "It also serves Psiphon: context only.",
        ),
        "socks-to-tor-port" => (
            "SOCKS to a Tor port",
            "A SOCKS greeting to tor's default port.",
            "A port proves nothing: never used by a verdict.",
        ),
        "dns-tor-name" => {
            ("Tor name lookup", "A lookup of a torproject.org or .onion name.", "Never used by a verdict.")
        }
        _ => ("Evidence", "", ""),
    }
}

pub fn card(e: &Value) -> Html {
    let kind = e["kind"].as_str().unwrap_or("");
    let (title, why, blind) = describe(kind);
    let fingerprint = e["fingerprint"].as_str().filter(|f| f.len() == 40 && f.bytes().all(|b| b.is_ascii_hexdigit()));
    html! {
        <article class="card" data-testid="evidence-card" data-kind={kind.to_string()}>
            <h5>{ title }<small>{ format!(" {kind}") }</small></h5>
            if !why.is_empty() { <p>{ why }</p> }
            <dl class="facts">
                { for e.as_object().into_iter().flatten().filter(|(k, _)| *k != "kind").map(|(k, v)| {
                    html!{ <><dt>{ k.replace('_', " ") }</dt><dd>{ super::format::readable(v) }</dd></> }
                }) }
            </dl>
            if let Some(fp) = fingerprint {
                <p><a href={format!("https://metrics.torproject.org/rs.html#details/{fp}")} target="_blank" rel="noopener noreferrer">
                    { "public record (Tor Metrics, online)" }</a></p>
            }
            if !blind.is_empty() { <p class="blind"><strong>{ "Blind spot: " }</strong>{ blind }</p> }
        </article>
    }
}
