//! Context: not Tor traffic itself, but signs that a host runs Tor.
//! - a SOCKS greeting to tor's SocksPort (9050 for tor, 9150 for Tor Browser), which only
//!   crosses a capture taken on the Tor user's own machine (the port alone never counts: the
//!   bytes must be a SOCKS4/5 greeting);
//! - DNS lookups of torproject.org hosts (downloads, bridges.torproject.org) or of `.onion`
//!   names (leaked by applications that do not know Tor).

use crate::analysis::tls::StreamFacts;

pub const TOR_SOCKS_PORTS: [u16; 2] = [9050, 9150];

/// A SOCKS5 greeting (version 5, n methods, n bytes) or a SOCKS4/4a CONNECT.
pub fn is_socks_greeting(prefix: &[u8]) -> bool {
    match prefix {
        [5, n, rest @ ..] => usize::from(*n) == rest.len() && *n > 0,
        [4, 1 | 2, _, _, _, _, _, _, ..] => true,
        _ => false,
    }
}

pub fn socks_to_tor(server_port: u16, facts: &StreamFacts) -> bool {
    TOR_SOCKS_PORTS.contains(&server_port) && is_socks_greeting(&facts.client_prefix)
}

pub fn is_tor_name(name: &str) -> bool {
    name == "torproject.org" || name.ends_with(".torproject.org") || name.ends_with(".onion")
}
