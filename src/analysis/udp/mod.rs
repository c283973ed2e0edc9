//! UDP flows' contents that WebRTC and NAT tests show in the clear: STUN messages (`stun`) and
//! DTLS ClientHellos (`dtls`). Mechanism only; `tor::snowflake` decides what they mean.
//!
//! An observer exists only for a flow whose datagrams looked like STUN or DTLS (RFC 7983's
//! first-byte ranges), and it stops reading after [`MAX_DATAGRAMS`]: ICE checks and the DTLS
//! handshake come first, and consent checks repeat what they said.

pub mod dtls;
pub mod stun;

use crate::analysis::flow::Direction;
use serde::Serialize;
use std::net::SocketAddr;

/// Datagrams an observer reads before it settles.
pub const MAX_DATAGRAMS: u32 = 256;
/// Distinct ICE usernames and other addresses kept per flow.
const MAX_KEPT: usize = 4;

/// What a UDP flow's datagrams showed.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DatagramFacts {
    /// STUN Binding Requests from the flow's client without USERNAME: address discovery or
    /// NAT tests, not ICE connectivity checks.
    pub stun_binding_requests: u32,
    /// STUN Binding Requests with USERNAME (ICE connectivity checks), either way.
    pub ice_checks: u32,
    pub stun_binding_responses: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ice_usernames: Vec<String>,
    /// OTHER-ADDRESS / CHANGED-ADDRESS the server's answers named (RFC 5780 / 3489).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_addresses: Vec<SocketAddr>,
    /// The first DTLS ClientHello, and whether the flow's client sent it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dtls_client_hello: Option<DtlsHello>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dtls_client_hello_from_client: Option<bool>,
    pub dtls_datagrams: u32,
}

impl DatagramFacts {
    pub fn shows_something(&self) -> bool {
        self.stun_binding_requests + self.ice_checks + self.stun_binding_responses + self.dtls_datagrams > 0
    }
}

/// What identifies a DTLS client's library: the fields of its ClientHello that JA4 and the
/// extension order are drawn from (DTLS ClientHellos carry no SNI or ALPN in WebRTC).
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct DtlsHello {
    pub version: u16,
    pub cipher_suites: Vec<u16>,
    pub extensions: Vec<u16>,
    pub supported_groups: Vec<u16>,
    pub ja4: String,
}

#[derive(Clone, Debug, Default)]
pub struct DatagramObserver {
    datagrams: u32,
    pub facts: DatagramFacts,
}

impl DatagramObserver {
    /// Worth starting an observer for this datagram.
    pub fn wants(payload: &[u8]) -> bool {
        stun::may_be_stun(payload) || dtls::may_be_dtls(payload)
    }

    pub fn settled(&self) -> bool {
        self.datagrams >= MAX_DATAGRAMS
    }

    pub fn datagram(&mut self, direction: Direction, payload: &[u8]) {
        self.datagrams += 1;
        let facts = &mut self.facts;
        if stun::may_be_stun(payload) {
            let Some(m) = stun::parse(payload) else { return };
            match (&m.username, m.binding_request) {
                (Some(name), true) => {
                    facts.ice_checks += 1;
                    if facts.ice_usernames.len() < MAX_KEPT && !facts.ice_usernames.contains(name) {
                        facts.ice_usernames.push(name.clone());
                    }
                }
                (None, true) if direction == Direction::ToServer => facts.stun_binding_requests += 1,
                _ => {}
            }
            if m.binding_success {
                facts.stun_binding_responses += 1;
            }
            if let Some(other) = m.other_address.filter(|_| direction == Direction::ToClient) {
                if facts.other_addresses.len() < MAX_KEPT && !facts.other_addresses.contains(&other) {
                    facts.other_addresses.push(other);
                }
            }
        } else if dtls::may_be_dtls(payload) {
            facts.dtls_datagrams += 1;
            if facts.dtls_client_hello.is_none() {
                if let Some(h) = dtls::client_hello(payload) {
                    facts.dtls_client_hello = Some(DtlsHello {
                        version: h.version,
                        cipher_suites: h.cipher_suites,
                        extensions: h.extensions,
                        supported_groups: h.supported_groups,
                        ja4: h.ja4,
                    });
                    facts.dtls_client_hello_from_client = Some(direction == Direction::ToServer);
                }
            }
        }
    }
}
