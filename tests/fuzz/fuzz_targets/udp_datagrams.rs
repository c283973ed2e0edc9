//! STUN and DTLS decoding over arbitrary datagrams, both directions.
#![no_main]
use libfuzzer_sys::fuzz_target;
use torsift::analysis::flow::Direction;
use torsift::analysis::udp::{dtls, stun, DatagramObserver};

fuzz_target!(|data: &[u8]| {
    let mut observer = DatagramObserver::default();
    // The first byte picks the datagram size, so the same bytes are also cut other ways.
    let size = usize::from(data.first().copied().unwrap_or(1)).max(1);
    for (i, datagram) in data.chunks(size).enumerate() {
        let direction = if i % 2 == 0 { Direction::ToServer } else { Direction::ToClient };
        if DatagramObserver::wants(datagram) {
            observer.datagram(direction, datagram);
        }
    }
    let _ = torsift::analysis::tor::snowflake::pion_dtls(&observer.facts);
    let _ = stun::parse(data);
    let _ = dtls::client_hello(data);
});
