//! Community ID v1 (corelight/community-id-spec): the flow hash Zeek (`community_id_v1`),
//! Suricata (`community-id: yes`), Wireshark and Arkime write into their logs, so a torsift flow
//! joins a conn.log or EVE record on one string.
//!
//! `"1:" + base64(SHA-1(seed ‖ a ‖ b ‖ proto ‖ 0 ‖ port a ‖ port b))`, all in network byte order,
//! with the endpoints ordered so that (address, port) of `a` is the smaller: both directions of
//! a flow hash the same.

use sha1::{Digest, Sha1};
use std::net::{IpAddr, SocketAddr};

/// IANA protocol numbers of the transports torsift keeps flows for.
pub const TCP: u8 = 6;
pub const UDP: u8 = 17;

fn octets(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// The Community ID of a TCP or UDP flow between `x` and `y` (either order).
pub fn v1(proto: u8, x: SocketAddr, y: SocketAddr, seed: u16) -> String {
    let (ox, oy) = (octets(x.ip()), octets(y.ip()));
    // The spec orders by address bytes, then port; an IPv4 flow never meets an IPv6 one.
    let ((a, pa), (b, pb)) = if (&ox, x.port()) <= (&oy, y.port()) {
        ((ox, x.port()), (oy, y.port()))
    } else {
        ((oy, y.port()), (ox, x.port()))
    };
    let mut h = Sha1::new();
    h.update(seed.to_be_bytes());
    h.update(&a);
    h.update(&b);
    h.update([proto, 0]);
    h.update(pa.to_be_bytes());
    h.update(pb.to_be_bytes());
    format!("1:{}", base64(&h.finalize()))
}

/// Standard base64 with padding (RFC 4648 §4).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        for i in 0..4 {
            if i <= chunk.len() {
                let sextet = ((n >> (18 - 6 * i)) & 63) as usize;
                out.push(char::from(ALPHABET.get(sextet).copied().unwrap_or(b'=')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    /// The spec's vectors, as Zeek's own test suite pins them (`community_id_v1` btest).
    #[test]
    fn spec_vectors() {
        let (x, y) = (sa("1.2.3.4:1122"), sa("5.6.7.8:3344"));
        assert_eq!(v1(TCP, x, y, 0), "1:wCb3OG7yAFWelaUydu0D+125CLM=");
        assert_eq!(v1(UDP, x, y, 0), "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=");
        assert_eq!(v1(TCP, x, y, 1), "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk=");
        assert_eq!(v1(UDP, x, y, 1), "1:OShq+iKDAMVouh/4bMxB9Sz4amw=");
        // Both directions of a flow hash the same.
        assert_eq!(v1(TCP, y, x, 0), v1(TCP, x, y, 0));
    }

    #[test]
    fn base64_pads() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
