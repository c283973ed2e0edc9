//! DTLS (RFC 6347) records and the ClientHello in them: the handshake of every WebRTC data
//! channel, sent in the clear. A DTLS ClientHello is TLS's plus a cookie field and a 12-byte
//! handshake header (message sequence, fragment offset and length); with the cookie taken
//! out, TLS's parser reads it, and its JA4 uses the `d` protocol letter.

use crate::analysis::bytes::{array, be16};
use crate::analysis::tls::handshake::{parse_client_hello, ClientHello};

const CONTENT_HANDSHAKE: u8 = 22;
const CLIENT_HELLO: u8 = 1;

/// RFC 7983's demultiplexing: a datagram starting with 20–63 is DTLS.
pub fn may_be_dtls(payload: &[u8]) -> bool {
    payload.first().is_some_and(|b| (20..=63).contains(b)) && payload.get(1) == Some(&0xFE)
}

/// The first ClientHello in a datagram (which may hold several records), when it comes whole
/// in one fragment.
pub fn client_hello(payload: &[u8]) -> Option<ClientHello> {
    let mut at = 0;
    while let (Some(&content), Some(length)) = (payload.get(at), be16(payload, at + 11)) {
        let record = payload.get(at + 13..at + 13 + usize::from(length))?;
        if content == CONTENT_HANDSHAKE && record.first() == Some(&CLIENT_HELLO) {
            return hello_in(record);
        }
        at += 13 + usize::from(length);
    }
    None
}

fn be24(buf: &[u8], at: usize) -> Option<usize> {
    let [a, b, c] = array::<3>(buf, at)?;
    Some(usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c))
}

fn hello_in(record: &[u8]) -> Option<ClientHello> {
    let (length, offset, fragment) = (be24(record, 1)?, be24(record, 6)?, be24(record, 9)?);
    if offset != 0 || fragment != length {
        return None;
    }
    let body = record.get(12..12 + length)?;
    // version(2) random(32) session_id<1> | cookie<1> | the rest as in TLS.
    let session_len = usize::from(*body.get(34)?);
    let cookie_at = 35 + session_len;
    let cookie_len = usize::from(*body.get(cookie_at)?);
    let mut tls_body = body.get(..cookie_at)?.to_vec();
    tls_body.extend_from_slice(body.get(cookie_at + 1 + cookie_len..)?);
    let mut hello = parse_client_hello(&tls_body)?;
    // JA4's first letter is the protocol: `t` for TLS, `d` for DTLS.
    hello.ja4 = format!("d{}", hello.ja4.get(1..).unwrap_or_default());
    Some(hello)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// pion/dtls's first ClientHello as snowflake-proxy 2.5.1 sends it (lab-pt, FINDINGS.md):
    /// DTLS 1.2, six ECDHE suites, extensions 13, 65281, 10, 11, 14, 23.
    fn pion_hello(cookie: &[u8]) -> Vec<u8> {
        let mut body = vec![0xFE, 0xFD];
        body.extend_from_slice(&[0x11; 32]);
        body.push(0);
        body.push(cookie.len() as u8);
        body.extend_from_slice(cookie);
        let suites: [u16; 6] = [0xc02b, 0xc02f, 0xc00a, 0xc014, 0xc02c, 0xc030];
        body.extend_from_slice(&12u16.to_be_bytes());
        suites.iter().for_each(|s| body.extend_from_slice(&s.to_be_bytes()));
        body.extend_from_slice(&[1, 0]);
        let exts: Vec<(u16, Vec<u8>)> = vec![
            (13, vec![0, 4, 4, 3, 8, 4]),
            (65281, vec![0]),
            (10, vec![0, 6, 0, 0x1d, 0, 0x17, 0, 0x18]),
            (11, vec![1, 0]),
            (14, vec![0, 4, 0, 7, 0, 1, 0]),
            (23, vec![]),
        ];
        let mut block = Vec::new();
        for (t, d) in exts {
            block.extend_from_slice(&t.to_be_bytes());
            block.extend_from_slice(&(d.len() as u16).to_be_bytes());
            block.extend_from_slice(&d);
        }
        body.extend_from_slice(&(block.len() as u16).to_be_bytes());
        body.extend_from_slice(&block);
        let n = body.len() as u32;
        let mut handshake = vec![CLIENT_HELLO];
        handshake.extend_from_slice(&n.to_be_bytes()[1..]);
        handshake.extend_from_slice(&[0, 0, 0, 0, 0]);
        handshake.extend_from_slice(&n.to_be_bytes()[1..]);
        handshake.extend_from_slice(&body);
        let mut record = vec![CONTENT_HANDSHAKE, 0xFE, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0];
        record.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
        record.extend_from_slice(&handshake);
        record
    }

    #[test]
    fn reads_a_pion_client_hello_with_and_without_cookie() {
        for cookie in [&[][..], &[9; 20][..]] {
            let datagram = pion_hello(cookie);
            assert!(may_be_dtls(&datagram));
            let hello = client_hello(&datagram).unwrap();
            assert_eq!(hello.extensions, vec![13, 65281, 10, 11, 14, 23]);
            assert_eq!(hello.cipher_suites.len(), 6);
            assert!(hello.ja4.starts_with("dd2i060600_"), "{}", hello.ja4);
        }
    }

    #[test]
    fn fragments_and_truncations_are_not_read() {
        let mut datagram = pion_hello(&[]);
        datagram[13 + 8] = 1; // fragment offset 1
        assert_eq!(client_hello(&datagram), None);
        let whole = pion_hello(&[]);
        for cut in 0..whole.len() {
            assert_eq!(client_hello(&whole[..cut]), None);
        }
    }
}
