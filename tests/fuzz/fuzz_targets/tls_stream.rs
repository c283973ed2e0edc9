//! TLS handshake and record extraction over arbitrary segments, both directions; without room
//! in the stream-head budget the observer holds no more bytes than before.
#![no_main]
use libfuzzer_sys::fuzz_target;
use torsift::analysis::flow::Direction;
use torsift::analysis::tls::{cert, handshake, StreamObserver};

fuzz_target!(|data: &[u8]| {
    let mut s = StreamObserver::new(8192, 1024);
    let mut seq = [1000u32, 5000u32];
    let mut now = 0i64;
    for (i, piece) in data.chunks(97).enumerate() {
        let dir = if i % 3 == 2 { 1 } else { 0 };
        let direction = if dir == 0 { Direction::ToServer } else { Direction::ToClient };
        // Occasionally jump the sequence number to exercise gaps and overlaps.
        let jump = piece.first().map_or(0, |b| u32::from(*b % 8)).wrapping_sub(2);
        seq[dir] = seq[dir].wrapping_add(jump);
        // Times step by an amount the input picks, so think-time arithmetic sees odd values too.
        now = now.wrapping_add(i64::from(piece.last().copied().unwrap_or(0)) * 7_000_000);
        // Now and then the stream-head budget is spent: the observer must then grow nothing.
        let room = i % 7 != 6;
        let before = s.head_bytes();
        s.segment(direction, now, seq[dir], i == 0, piece, room);
        assert!(room || s.head_bytes() <= before, "grew without room: {before} -> {}", s.head_bytes());
        seq[dir] = seq[dir].wrapping_add(piece.len() as u32);
    }
    let _ = s.facts();
    let _ = handshake::parse_client_hello(data);
    let _ = handshake::parse_server_hello(data);
    let _ = handshake::handshake_messages(data);
    let _ = cert::parse_certificate(data);
    let _ = cert::parse_chain(data);
});
