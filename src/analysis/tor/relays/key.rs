//! The relay index key: `family ‖ address ‖ port`, big-endian, so byte order is numeric order.
//! A prefix lookup on `family ‖ address` finds an address on every port; the full key finds one
//! endpoint. Port 0 stands for "this address, no port known" (plain IP and exit lists).
//! This file is shared verbatim by the build script (relays/build.rs) and the runtime.

use std::net::IpAddr;

pub const FAMILY_V4: u8 = 4;
pub const FAMILY_V6: u8 = 6;
/// The port of address-only entries.
pub const ANY_PORT: u16 = 0;

/// `family ‖ address` — the prefix shared by every key of one address.
pub fn address_prefix(ip: IpAddr) -> Vec<u8> {
    let mut key = Vec::with_capacity(19);
    match ip {
        IpAddr::V4(a) => {
            key.push(FAMILY_V4);
            key.extend_from_slice(&a.octets());
        }
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            // An IPv4-mapped IPv6 address is the IPv4 relay.
            Some(v4) => return address_prefix(IpAddr::V4(v4)),
            None => {
                key.push(FAMILY_V6);
                key.extend_from_slice(&a.octets());
            }
        },
    }
    key
}

pub fn encode(ip: IpAddr, port: u16) -> Vec<u8> {
    let mut key = address_prefix(ip);
    key.extend_from_slice(&port.to_be_bytes());
    key
}

pub fn decode(key: &[u8]) -> Option<(IpAddr, u16)> {
    let (ip, rest) = match key.split_first()? {
        (&FAMILY_V4, rest) => {
            let octets: [u8; 4] = rest.get(..4)?.try_into().ok()?;
            (IpAddr::from(octets), rest.get(4..)?)
        }
        (&FAMILY_V6, rest) => {
            let octets: [u8; 16] = rest.get(..16)?.try_into().ok()?;
            (IpAddr::from(octets), rest.get(16..)?)
        }
        _ => return None,
    };
    let port: [u8; 2] = rest.try_into().ok()?;
    Some((ip, u16::from_be_bytes(port)))
}
