//! Relay-list parsing (consensus, Onionoo JSON, TorDNSEL, IP list), index compilation and
//! lookups of whatever parsed.
#![no_main]
use libfuzzer_sys::fuzz_target;
use torsift::analysis::tor::relays::{list, RelayIndex};

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else { return };
    let body = String::from_utf8_lossy(rest);
    let text = match kind % 4 {
        0 => format!("network-status-version 3\nvalid-after 2024-01-01 00:00:00\n{body}"),
        1 => format!("{{\"relays_published\":\"2024-01-01 00:00:00\",\"relays\":[{body}]}}"),
        2 => format!("ExitNode {body}"),
        _ => body.to_string(),
    };
    if let Ok(parsed) = list::parse("fuzz", &text) {
        let mut index = RelayIndex::default();
        if index.add_lists(&[parsed.clone()]).is_ok() {
            for relay in parsed.relays.iter().take(8) {
                for &(ip, port, _) in relay.endpoints.iter().take(4) {
                    let _ = index.lookup(ip, port);
                }
            }
        }
    }
});
