//! obfs4 (obfs4-spec.txt; obfs4proxy/lyrebird `transports/obfs4`) by its own wire shape, never by
//! a port number. What the protocol fixes:
//! - Handshake: the client speaks first with one message of 64 bytes (Elligator2 representative,
//!   mark, MAC) plus 77–8128 bytes of random padding, 141–8192 bytes in all, and waits; the
//!   server answers with 96 bytes plus 0–8051 bytes of padding and a 45-byte seed frame, again
//!   141–8192 bytes. Every byte of both looks random: no header, no length prefix, no text.
//! - After it, each write is cut into frames and padded so that its length modulo 1448
//!   (`framing.MaximumSegmentLength`) is drawn from a table of at most 100 values, seeded by the
//!   server and shared with the client in the seed frame: the same residues recur in both
//!   directions' segment lengths.
//!
//! Other fully encrypted protocols (Shadowsocks, VMess) also begin with random bytes, so the
//! handshake shape alone decides nothing: the verdict needs the padding residues too, or
//! independent Tor evidence from the same host.

use crate::analysis::tls::segment_lengths::SegmentLengths;
use crate::analysis::tls::StreamFacts;
use serde::Serialize;

/// obfs4's handshake length bounds: clientMinHandshakeLength + clientMinPadLength (and the
/// server's equivalent) to maxHandshakeLength.
const MIN_HANDSHAKE: u32 = 141;
const MAX_HANDSHAKE: u32 = 8192;
/// obfs4's `framing.MaximumSegmentLength`: bursts are padded modulo this.
const SEGMENT: u32 = 1448;
/// Residues seen in both directions needed at least, and how far beyond chance their number
/// must be. Measured: obfs4 flows of three lab bridges share 8, 6 and 26 residues where chance
/// gives 0.1, 0.0 and 1.3; Shadowsocks flows share at most 1.
const MIN_SHARED_RESIDUES: usize = 3;
const CHANCE_FACTOR: f64 = 4.0;

/// Entropy (bits per byte) that `n` random bytes reach, less a margin: the plug-in estimate is
/// biased low for small samples by about 255 / (2 n ln 2) bits (Miller–Madow). Measured on
/// random data: the 1st percentile sits above this bound for every n from 141 to 1448.
fn random_entropy_floor(n: u32) -> f32 {
    let n = n.max(1) as f32;
    8.0 - 255.0 / (2.0 * n * std::f32::consts::LN_2) - 0.35
}

/// Structure that random bytes would not have: a big-endian length prefix that counts the rest
/// of the segment (2 bytes as in OpenVPN over TCP, 3 as in WhatsApp's Noise frames — nDPI's
/// `wa_video.pcap` opened a call's chat channel with 548 such bytes, 4 as in Kerberos and
/// SASL-wrapped LDAP), or leading zeros.
fn has_structure(prefix: &[u8], segment_len: u32) -> bool {
    let length = |n: usize| prefix.get(..n).map(|b| b.iter().fold(0u32, |l, &x| (l << 8) | u32::from(x)));
    [2usize, 3, 4].iter().any(|&n| length(n).is_some_and(|l| l + n as u32 == segment_len))
        || matches!(prefix, [0, 0, ..])
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RandomFirstFlight {
    /// The client's first flight (all it sent before the server spoke).
    pub first_flight_bytes: u32,
    pub entropy_bits_per_byte: f64,
    /// The server's answering flight, and how random its first segment looks.
    pub server_flight_bytes: u32,
    pub server_entropy_bits_per_byte: f64,
    /// Both flights fit obfs4's handshake: 141–8192 random bytes each way.
    pub obfs4_handshake_shape: bool,
}

fn round2(x: f32) -> f64 {
    (f64::from(x) * 100.0).round() / 100.0
}

/// A client that opens with random-looking bytes (no TLS, HTTP, SOCKS or length prefix).
pub fn random_first_flight(f: &StreamFacts) -> Option<RandomFirstFlight> {
    let recognised = f.client_hello.is_some()
        || f.http_request.is_some()
        || f.to_server_records.records > 0
        || f.to_client_records.records > 0;
    if recognised || f.server_spoke_first || has_structure(&f.client_prefix, f.first_client_segment_len) {
        return None;
    }
    let (first, second) = (f.flights.first()?, f.flights.get(1));
    let random = |entropy: f32, segment: u32| segment >= MIN_HANDSHAKE && entropy >= random_entropy_floor(segment);
    if !first.to_server || !random(f.first_client_segment_entropy, f.first_client_segment_len) {
        return None;
    }
    let in_range = |b: u32| (MIN_HANDSHAKE..=MAX_HANDSHAKE).contains(&b);
    let server_bytes = second.map_or(0, |s| s.bytes);
    let server_random = second.is_some() && random(f.first_server_segment_entropy, f.first_server_segment_len);
    Some(RandomFirstFlight {
        first_flight_bytes: first.bytes,
        entropy_bits_per_byte: round2(f.first_client_segment_entropy),
        server_flight_bytes: server_bytes,
        server_entropy_bits_per_byte: round2(f.first_server_segment_entropy),
        obfs4_handshake_shape: in_range(first.bytes) && in_range(server_bytes) && server_random,
    })
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Obfs4Padding {
    /// Segments examined per direction (to server, to client).
    pub segments: [u64; 2],
    /// Distinct residues (segment length modulo 1448, 0 excluded) per direction.
    pub distinct_residues: [usize; 2],
    /// Residues seen in both directions, and how many chance alone would give if residues
    /// spread evenly over 1448 values.
    pub shared_residues: usize,
    pub shared_by_chance: f64,
    /// The most frequent shared residues (at most 8).
    pub top_shared: Vec<u32>,
}

/// Segment lengths modulo obfs4's 1448-byte segment: each write ends in a tail drawn from the
/// connection's length table, which both directions share, so the same residues recur on both
/// sides far beyond chance. A residue of 0 (a full segment) says nothing.
pub fn obfs4_padding(lengths: &[SegmentLengths; 2]) -> Option<Obfs4Padding> {
    let residues = |l: &SegmentLengths| {
        let mut m: std::collections::BTreeMap<u32, u64> = std::collections::BTreeMap::new();
        for (len, n) in &l.counts {
            if len % SEGMENT != 0 {
                *m.entry(len % SEGMENT).or_default() += u64::from(*n);
            }
        }
        m
    };
    let (up, down) = (residues(&lengths[0]), residues(&lengths[1]));
    let mut shared: Vec<(u32, u64)> = up.iter().filter_map(|(r, n)| down.get(r).map(|m| (*r, n + m))).collect();
    shared.sort_by_key(|(r, n)| (std::cmp::Reverse(*n), *r));
    let by_chance = (up.len() * down.len()) as f64 / f64::from(SEGMENT);
    let found = shared.len() >= MIN_SHARED_RESIDUES && shared.len() as f64 >= CHANCE_FACTOR * by_chance + 2.0;
    found.then(|| Obfs4Padding {
        segments: [lengths[0].segments(), lengths[1].segments()],
        distinct_residues: [up.len(), down.len()],
        shared_residues: shared.len(),
        shared_by_chance: (by_chance * 10.0).round() / 10.0,
        top_shared: shared.iter().take(8).map(|(r, _)| *r).collect(),
    })
}

#[cfg(test)]
mod structure_tests {
    use super::has_structure;

    #[test]
    fn length_prefixes_of_two_three_and_four_bytes() {
        let rest = [0x5a; 16];
        for (prefix, len) in
            [(&[0x02u8, 0x21][..], 547u32), (&[0x00, 0x02, 0x21][..], 548), (&[0, 0, 2, 0x20][..], 548)]
        {
            assert!(has_structure(&[prefix, &rest].concat(), len), "{prefix:?}");
        }
        // Random-looking bytes whose first bytes count nothing.
        assert!(!has_structure(&[0x8e, 0x13, 0x77, 0x01, 0x5a], 548));
    }
}
