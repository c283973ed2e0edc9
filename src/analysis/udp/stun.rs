//! STUN messages (RFC 5389 / 8489, and RFC 3489's CHANGED-ADDRESS): the fields WebRTC and NAT
//! tests show in the clear. Only what the analysis reads: message class and method, USERNAME
//! (an ICE connectivity check carries `remote-ufrag:local-ufrag`, RFC 8445 §7.2.2), and the
//! other address a server offers for RFC 5780's behaviour tests.

use crate::analysis::bytes::{array, be16};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

const MAGIC_COOKIE: u32 = 0x2112_A442;
const BINDING_REQUEST: u16 = 0x0001;
const BINDING_SUCCESS: u16 = 0x0101;
const ATTR_USERNAME: u16 = 0x0006;
const ATTR_CHANGED_ADDRESS: u16 = 0x0005;
const ATTR_OTHER_ADDRESS: u16 = 0x802C;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StunMessage {
    pub binding_request: bool,
    pub binding_success: bool,
    pub username: Option<String>,
    /// OTHER-ADDRESS (RFC 5780) or CHANGED-ADDRESS (RFC 3489) of a response.
    pub other_address: Option<SocketAddr>,
}

/// RFC 7983's demultiplexing: a datagram starting with 0–3 may be STUN.
pub fn may_be_stun(payload: &[u8]) -> bool {
    payload.first().is_some_and(|b| *b < 4)
}

/// A STUN message with the RFC 5389 magic cookie and a length that matches the datagram.
pub fn parse(payload: &[u8]) -> Option<StunMessage> {
    let kind = be16(payload, 0)?;
    let length = usize::from(be16(payload, 2)?);
    let cookie = u32::from_be_bytes(array::<4>(payload, 4)?);
    if kind & 0xC000 != 0 || cookie != MAGIC_COOKIE || length % 4 != 0 || payload.len() != 20 + length {
        return None;
    }
    let mut message = StunMessage {
        binding_request: kind == BINDING_REQUEST,
        binding_success: kind == BINDING_SUCCESS,
        ..StunMessage::default()
    };
    let mut at = 20;
    while let (Some(t), Some(len)) = (be16(payload, at), be16(payload, at + 2)) {
        let len = usize::from(len);
        let Some(value) = payload.get(at + 4..at + 4 + len) else { break };
        match t {
            ATTR_USERNAME => message.username = Some(String::from_utf8_lossy(value).chars().take(128).collect()),
            ATTR_OTHER_ADDRESS => message.other_address = address(value).or(message.other_address),
            ATTR_CHANGED_ADDRESS if message.other_address.is_none() => message.other_address = address(value),
            _ => {}
        }
        at += 4 + len.div_ceil(4) * 4;
    }
    Some(message)
}

/// A (non-XOR) address attribute: reserved, family (1 IPv4, 2 IPv6), port, address.
fn address(value: &[u8]) -> Option<SocketAddr> {
    let port = be16(value, 2)?;
    let ip = match value.get(1)? {
        1 => IpAddr::V4(Ipv4Addr::from(array::<4>(value, 4)?)),
        2 => IpAddr::V6(Ipv6Addr::from(array::<16>(value, 4)?)),
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: u16, attrs: &[(u16, &[u8])]) -> Vec<u8> {
        let mut body = Vec::new();
        for (t, v) in attrs {
            body.extend_from_slice(&t.to_be_bytes());
            body.extend_from_slice(&(v.len() as u16).to_be_bytes());
            body.extend_from_slice(v);
            body.resize(body.len().div_ceil(4) * 4, 0);
        }
        let mut m = kind.to_be_bytes().to_vec();
        m.extend_from_slice(&(body.len() as u16).to_be_bytes());
        m.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
        m.extend_from_slice(&[7; 12]);
        m.extend_from_slice(&body);
        m
    }

    #[test]
    fn reads_binding_requests_usernames_and_other_addresses() {
        let bare = parse(&message(BINDING_REQUEST, &[])).unwrap();
        assert!(bare.binding_request && bare.username.is_none());
        let check = parse(&message(BINDING_REQUEST, &[(ATTR_USERNAME, b"abcd:efgh")])).unwrap();
        assert_eq!(check.username.as_deref(), Some("abcd:efgh"));
        let other = [0, 1, 0x0d, 0x97, 192, 0, 2, 31];
        let answer = parse(&message(BINDING_SUCCESS, &[(0x0020, &[0; 8]), (ATTR_OTHER_ADDRESS, &other)])).unwrap();
        assert!(answer.binding_success);
        assert_eq!(answer.other_address, Some("192.0.2.31:3479".parse().unwrap()));
    }

    #[test]
    fn rejects_what_is_not_stun() {
        let mut m = message(BINDING_REQUEST, &[]);
        m[4] ^= 1;
        assert_eq!(parse(&m), None);
        assert_eq!(parse(&message(BINDING_REQUEST, &[])[..19]), None);
        let mut long = message(BINDING_REQUEST, &[]);
        long.push(0);
        assert_eq!(parse(&long), None);
    }
}
