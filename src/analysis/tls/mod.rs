//! TLS and first-bytes observation per TCP flow, mechanism only (no Tor knowledge):
//! - the first bytes of each direction are reassembled in order (bounded by
//!   `Limits::max_stream_bytes`) and parsed for ClientHello, ServerHello and, under TLS ≤ 1.2,
//!   the certificate chain; or for a plain HTTP request line;
//! - TLS record boundaries are followed through the whole stream, resynchronising on plausible
//!   record headers when the handshake is not in the capture, and the lengths of
//!   application-data records are counted per direction.

pub mod cert;
pub mod flights;
pub mod handshake;
pub mod records;
pub mod segment_lengths;
pub mod turns;

use crate::analysis::flow::Direction;
use records::RecordTracker;
use serde::Serialize;

/// One direction of a TCP stream, as far as this module cares.
#[derive(Clone, Debug, Default)]
pub struct StreamDirection {
    /// The first bytes of the stream, in order (bounded).
    pub head: Vec<u8>,
    /// Next expected sequence number, once the direction has carried payload.
    next_seq: Option<u32>,
    /// The head stopped growing: full, or a gap made later bytes unusable.
    head_closed: bool,
    pub records: RecordTracker,
    /// Length of the first payload-carrying segment (a client's first flight).
    pub first_segment_len: u32,
    /// Shannon entropy (bits per byte) of the first payload segment.
    pub first_segment_entropy: f32,
    pub out_of_order: u32,
}

/// What a TCP flow showed at the start of each direction.
#[derive(Clone, Debug, Default)]
pub struct StreamObserver {
    pub to_server: StreamDirection,
    pub to_client: StreamDirection,
    max_head: usize,
    max_plain_head: usize,
    /// The server sent payload before the client did (a server-speaks-first protocol, or a
    /// flow seen mid-stream).
    pub server_spoke_first: bool,
    payload_segments: u32,
    /// Payload lengths per flight, in order (bounded).
    pub flights: flights::Flights,
    /// Segment lengths per direction (to server, to client), only for streams that open with
    /// random-looking bytes.
    pub segment_lengths: Option<Box<[segment_lengths::SegmentLengths; 2]>>,
    /// Request/response turns and the client's think times (`turns.rs`).
    pub turns: turns::Turns,
}

/// Payload segments after which a stream that never showed a TLS record is left alone: its head
/// is kept, but nothing later can change what it shows (saves the per-packet work on bulk
/// non-TLS transfers).
const GIVE_UP_AFTER_SEGMENTS: u32 = 8;
/// A first segment at least this close to random (bits per byte) keeps its segment lengths counted:
/// random data measures about 7 bits per byte from 150 bytes, 7.8 from 1,500; text and protocol
/// headers stay far below.
const RANDOM_LOOKING_ENTROPY: f32 = 6.5;
/// Payload segments after which even a random-looking stream is left alone: its segment lengths
/// have shown whatever pattern they have.
const MAX_RANDOM_STREAM_SEGMENTS: u32 = 4096;

/// Shannon entropy in bits per byte, as H = log2(n) - (1/n) * sum(c * log2(c)) over the byte
/// counts c: one table lookup per distinct byte instead of a logarithm (computed once per flow
/// direction, it was a sixth of the core's instructions on captures of many short flows).
fn entropy(bytes: &[u8]) -> f32 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        if let Some(c) = counts.get_mut(usize::from(b)) {
            *c += 1;
        }
    }
    let table = c_log2_c_table();
    let c_log2_c = |c: u32| table.get(c as usize).copied().unwrap_or_else(|| f64::from(c) * f64::from(c).log2());
    let n = bytes.len() as f64;
    let sum: f64 = counts.iter().filter(|&&c| c > 1).map(|&c| c_log2_c(c)).sum();
    (n.log2() - sum / n).max(0.0) as f32
}

/// c * log2(c) for the counts a full-size segment gives (a 1,500-byte segment has none above
/// 1,500); larger counts are computed.
fn c_log2_c_table() -> &'static [f64] {
    static TABLE: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| (0..=2048u32).map(|c| if c < 2 { 0.0 } else { f64::from(c) * f64::from(c).log2() }).collect())
}

/// Sequence-space comparison (RFC 1982 style): a is before b.
fn seq_lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

impl StreamObserver {
    pub fn new(max_head: usize, max_plain_head: usize) -> Self {
        StreamObserver { max_head, max_plain_head, ..Default::default() }
    }

    /// True once the stream can show nothing new: no TLS record in its first segments, its
    /// heads are complete, and, if it began with random-looking bytes, enough of its segment
    /// lengths are counted (they are all that an encrypted, unframed protocol shows).
    pub fn settled(&self) -> bool {
        self.payload_segments >= GIVE_UP_AFTER_SEGMENTS
            && self.to_server.records.stats_records() == 0
            && self.to_client.records.stats_records() == 0
            && (self.segment_lengths.is_none() || self.payload_segments >= MAX_RANDOM_STREAM_SEGMENTS)
    }

    /// Bytes held in the heads of both directions and in the tables of record and segment
    /// lengths: what the stream-head budget counts.
    pub fn head_bytes(&self) -> usize {
        let lengths = self.segment_lengths.as_deref().map_or(0, |[a, b]| a.table_bytes() + b.table_bytes());
        self.to_server.head.capacity()
            + self.to_client.head.capacity()
            + self.to_server.records.table_bytes()
            + self.to_client.records.table_bytes()
            + lengths
    }

    /// A TCP segment of this flow, captured at `ts` (nanoseconds). `syn` segments take one
    /// sequence number. Without `room` (the stream-head budget is spent) nothing grows: the
    /// head is closed where it is, and lengths not seen yet are counted with the others.
    pub fn segment(&mut self, direction: Direction, ts: i64, seq: u32, syn: bool, payload: &[u8], room: bool) {
        let first_payload = self.to_server.next_seq.is_none() && self.to_client.next_seq.is_none();
        let (max_handshake, max_plain) = (self.max_head, self.max_plain_head);
        let flights = &mut self.flights;
        let lengths = &mut self.segment_lengths;
        let d = match direction {
            Direction::ToServer => &mut self.to_server,
            Direction::ToClient => &mut self.to_client,
        };
        let seq = if syn { seq.wrapping_add(1) } else { seq };
        if payload.is_empty() {
            return;
        }
        self.payload_segments = self.payload_segments.saturating_add(1);
        if first_payload && direction == Direction::ToClient {
            self.server_spoke_first = true;
        }
        let mut data = payload;
        match d.next_seq {
            None => {
                d.first_segment_len = payload.len() as u32;
                d.first_segment_entropy = entropy(payload);
                if first_payload
                    && direction == Direction::ToServer
                    && d.first_segment_entropy >= RANDOM_LOOKING_ENTROPY
                    && payload.first() != Some(&0x16)
                    && room
                {
                    *lengths = Some(Box::default());
                }
                d.next_seq = Some(seq.wrapping_add(payload.len() as u32));
            }
            Some(next) => {
                let end = seq.wrapping_add(payload.len() as u32);
                if !seq_lt(next, end) {
                    return; // a retransmission of bytes already seen
                }
                if seq_lt(seq, next) {
                    // Overlap: keep only the new bytes.
                    data = payload.get(next.wrapping_sub(seq) as usize..).unwrap_or_default();
                } else if seq != next {
                    // A gap (lost or reordered segment): the head ends here and the record
                    // tracker must find its footing again.
                    d.out_of_order += 1;
                    d.head_closed = true;
                    d.records.lost_sync();
                }
                d.next_seq = Some(end);
            }
        }
        d.records.feed(data, room);
        flights.add(direction == Direction::ToServer, data.len());
        self.turns.add(direction == Direction::ToServer, ts, data.len());
        if let Some(l) = lengths.as_deref_mut() {
            let [to_server, to_client] = l;
            match direction {
                Direction::ToServer => to_server.add(data.len(), room),
                Direction::ToClient => to_client.add(data.len(), room),
            }
        }
        if !d.head_closed && !room {
            d.head_closed = true;
            d.head.shrink_to_fit();
        }
        if !d.head_closed {
            // Keep a handshake whole; of anything else (or once application data flows) only
            // enough to read a client's request line, and nothing of a server's.
            let plain = if direction == Direction::ToServer { max_plain } else { 0 };
            let max_head = if d.records.in_handshake() { max_handshake } else { plain };
            let room = max_head.saturating_sub(d.head.len());
            d.head.extend_from_slice(data.get(..data.len().min(room)).unwrap_or_default());
            if d.head.len() >= max_head || !d.records.in_handshake() && d.head.len() >= plain {
                d.head_closed = true;
                d.head.shrink_to_fit();
            }
        }
    }
}

/// The parsed beginning of a TCP flow.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StreamFacts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_hello: Option<handshake::ClientHello>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_hello: Option<handshake::ServerHello>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<cert::Certificate>,
    /// `METHOD target` of a plain HTTP request at the start of the client's stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_request: Option<HttpRequest>,
    pub to_server_records: records::RecordStats,
    pub to_client_records: records::RecordStats,
    pub first_client_segment_len: u32,
    pub first_client_segment_entropy: f32,
    pub server_spoke_first: bool,
    /// Length and entropy (bits per byte) of the server's first payload segment.
    pub first_server_segment_len: u32,
    pub first_server_segment_entropy: f32,
    /// Payload bytes per flight, in order (`flights.rs`).
    #[serde(skip)]
    pub flights: Vec<flights::Flight>,
    /// Segment lengths (to server, to client) of a stream that opened with random-looking bytes.
    #[serde(skip)]
    pub segment_lengths: Option<[segment_lengths::SegmentLengths; 2]>,
    /// The client's first segment (up to 16 bytes of it), for recognising short greetings.
    #[serde(skip)]
    pub client_prefix: Vec<u8>,
    /// Request/response turns and the client's timer, if it polls (`turns.rs`).
    #[serde(skip)]
    pub turns: turns::TurnSummary,
}

impl StreamFacts {
    /// A TLS handshake or record, or an HTTP request, was seen.
    pub fn shows_something(&self) -> bool {
        self.client_hello.is_some()
            || self.server_hello.is_some()
            || !self.certificates.is_empty()
            || self.http_request.is_some()
            || self.to_server_records.records > 0
            || self.to_client_records.records > 0
    }
}

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accept_encoding: Option<String>,
}

fn http_request(head: &[u8]) -> Option<HttpRequest> {
    let end = head.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(head.get(..end)?).ok()?;
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if !matches!(method, "GET" | "POST" | "HEAD" | "PUT") || !version.starts_with("HTTP/1.") {
        return None;
    }
    let headers = String::from_utf8_lossy(head.get(end..)?.get(2..)?);
    let accept_encoding = headers
        .split("\r\n")
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("accept-encoding")))
        .map(|(_, v)| v.trim().to_string());
    Some(HttpRequest { method: method.into(), target: target.chars().take(512).collect(), accept_encoding })
}

impl StreamObserver {
    pub fn facts(&self) -> StreamFacts {
        let client = handshake::handshake_messages(&self.to_server.head);
        let server = handshake::handshake_messages(&self.to_client.head);
        let client_hello =
            client.iter().find_map(|(t, body)| (*t == 1).then(|| handshake::parse_client_hello(body)).flatten());
        let server_hello =
            server.iter().find_map(|(t, body)| (*t == 2).then(|| handshake::parse_server_hello(body)).flatten());
        let certificates =
            server.iter().find_map(|(t, body)| (*t == 11).then(|| cert::parse_chain(body))).unwrap_or_default();
        StreamFacts {
            client_hello,
            server_hello,
            certificates,
            http_request: http_request(&self.to_server.head),
            to_server_records: self.to_server.records.stats(),
            to_client_records: self.to_client.records.stats(),
            first_client_segment_len: self.to_server.first_segment_len,
            first_client_segment_entropy: self.to_server.first_segment_entropy,
            server_spoke_first: self.server_spoke_first,
            first_server_segment_len: self.to_client.first_segment_len,
            first_server_segment_entropy: self.to_client.first_segment_entropy,
            flights: self.flights.as_slice().to_vec(),
            segment_lengths: self.segment_lengths.as_deref().cloned(),
            client_prefix: {
                let n = (self.to_server.first_segment_len as usize).min(16).min(self.to_server.head.len());
                self.to_server.head.get(..n).unwrap_or_default().to_vec()
            },
            turns: self.turns.summary(),
        }
    }
}
