//! Pluggable transports (a lower-confidence tier). obfs4 (obfs4-spec.txt §4) makes every byte
//! look random from the first one: the client's first flight is an Elligator2 representative,
//! random padding, a mark and a MAC, 64 to 8192 bytes, with no protocol structure. Per-flow
//! entropy tests have real false-positive rates (other obfuscated protocols, compressed or
//! encrypted custom protocols), so this observation alone never decides: the verdict needs Tor
//! context on the same host.

use crate::analysis::tls::StreamFacts;
use serde::Serialize;

/// obfs4's handshake length bounds (obfs4 clientMinHandshakeLength … maxHandshakeLength).
const MIN_FLIGHT: u32 = 64;
const MAX_FLIGHT: u32 = 8192;
/// Bits per byte: random data of a few hundred bytes or more measures above 7.3 (the maximum is
/// log2 of the sample size for small samples); text and protocol headers stay well below.
const MIN_ENTROPY: f32 = 7.3;
/// Entropy needs enough bytes to mean anything.
const MIN_SAMPLE: u32 = 256;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RandomFirstFlight {
    pub first_flight_bytes: u32,
    pub entropy_bits_per_byte: f64,
}

pub fn random_first_flight(f: &StreamFacts) -> Option<RandomFirstFlight> {
    let recognised = f.client_hello.is_some()
        || f.http_request.is_some()
        || f.to_server_records.records > 0
        || f.to_client_records.records > 0;
    let len = f.first_client_segment_len;
    (!recognised
        && !f.server_spoke_first
        && (MIN_FLIGHT.max(MIN_SAMPLE)..=MAX_FLIGHT).contains(&len)
        && f.first_client_segment_entropy >= MIN_ENTROPY)
        .then(|| RandomFirstFlight {
            first_flight_bytes: len,
            entropy_bits_per_byte: (f64::from(f.first_client_segment_entropy) * 100.0).round() / 100.0,
        })
}
