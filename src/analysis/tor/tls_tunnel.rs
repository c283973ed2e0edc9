//! Tor's link TLS carried inside another TLS session: WebTunnel (an HTTPS request upgraded to a
//! raw byte stream at the bridge's secret path, then tor's own TLS to the bridge inside it), or
//! any TLS tunnel or HTTPS proxy a tor client goes through. Nothing in the outer session names
//! Tor; what shows through is sizes. The tunnel reads what tor wrote (whole inner TLS records
//! when tor's writes reach it intact) and seals each read as one outer record, so an outer
//! application-data record measures
//!
//! `cells × 514 + n × inner record overhead + outer record overhead`
//!
//! for the `n` inner records it carries (tor-spec §3: fixed 514-byte cells, batched per record;
//! a record may instead be one of tor's 4,048-byte chunks).
//! An inner TLS 1.3 record adds 22 bytes (5-byte header, content type, 16-byte tag), a TLS 1.2
//! AES-GCM record 29 (8-byte explicit nonce); the outer record adds 17 or 24 to its length field.
//! A single cell inside TLS 1.3 inside TLS 1.3 is the 553-byte record; tor's 4,048-byte chunks
//! give 4,087. Plain Tor records (`cells.rs`, 531, 1045, …) never have these lengths.
//!
//! Measured on tor's own write boundaries (the lab's tor → pluggable-transport stream, one
//! outer record per write, `tests/tls_tunnel.rs`): 95 % of the client's records and 65 % of the
//! bridge's (bulk downloads fill 16 KiB records that cut cells) fit. Ordinary TLS lands on one
//! of these lengths by chance about once in 90 records (six residues modulo 514 per layering).
//!
//! WebTunnel's client offers no ALPN (Go's TLS without `NextProtos`, and lyrebird's
//! `HelloRandomizedNoALPN`), while browsers always offer `h2`/`http/1.1`: a tunnel under a
//! ClientHello without ALPN is WebTunnel's shape; with ALPN, some other TLS tunnel (an HTTPS
//! proxy, a VPN over TLS) carrying Tor.
//!
//! A proxy or CDN in front of the server re-cuts what the server sends (nginx at its buffer
//! size, a CDN at its own record sizes), so one direction may fit while the other does not:
//! either direction's share decides, as does the session's.
//!
//! Blind spot: a tunnel that pads, splits or coalesces what the client writes as well shows
//! fewer fitting records; one that pads every record (meek's HTTP framing, Snowflake's
//! WebSocket + KCP) shows none.

use crate::analysis::tls::handshake::ClientHello;
use crate::analysis::tls::records::RecordStats;
use serde::Serialize;

const CELL: usize = 514;
/// tor's link chunk: a 4,096-byte buffer less TLS overhead (`cells.rs`).
const CHUNK_PLAINTEXT: usize = 4048;
/// Inner record overhead on the wire (header included): TLS 1.3 AEAD, TLS 1.2 AES-GCM.
const INNER: [(usize, &str); 2] = [(22, "TLS 1.3"), (29, "TLS 1.2")];
/// Outer record overhead in the length field: TLS 1.3 AEAD, TLS 1.2 AES-GCM.
const OUTER: [(usize, &str); 2] = [(17, "TLS 1.3"), (24, "TLS 1.2")];
/// Inner records one outer record may carry (tor flushes a few records in one write).
const MAX_INNER_RECORDS: usize = 3;

/// Fitting records needed, and their share of the application-data records: of the session, or
/// of one direction (a CDN or proxy in front of the server re-cuts what the server sends, but
/// the client's records reach the capture as the client sealed them).
pub const MIN_RECORDS: u64 = 8;
pub const MIN_SHARE: f64 = 0.4;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TunnelledCells {
    /// Application-data records of the outer session, both directions.
    pub records: u64,
    /// Of those, records whose length is whole inner records of whole cells.
    pub cell_sized: u64,
    pub share: f64,
    /// Per direction: [fitting records, application-data records].
    pub to_server: [u64; 2],
    pub to_client: [u64; 2],
    /// `TLS 1.3 in TLS 1.3`: the inner and outer record overheads that fit best.
    pub layering: String,
    /// The most common fitting lengths, most frequent first.
    pub lengths: Vec<u16>,
    /// Whether the outer ClientHello offered ALPN (`None`: no ClientHello in the capture).
    pub alpn_offered: Option<bool>,
}

impl TunnelledCells {
    /// WebTunnel's shape: the outer ClientHello was seen and offered no ALPN.
    pub fn webtunnel_shape(&self) -> bool {
        self.alpn_offered == Some(false)
    }
}

/// Whether an outer record of `len` carries `n` ≤ 3 whole inner records, `chunks` of them tor's
/// 4,048-byte chunks and the others whole cells (at least one each).
fn fits(len: u16, inner: usize, outer: usize) -> bool {
    let len = usize::from(len);
    (1..=MAX_INNER_RECORDS).any(|n| {
        (0..=n).any(|chunks| {
            let Some(cells_bytes) = len.checked_sub(outer + n * inner + chunks * CHUNK_PLAINTEXT) else { return false };
            let cell_records = n - chunks;
            cells_bytes % CELL == 0 && cells_bytes >= cell_records * CELL && (cell_records > 0 || cells_bytes == 0)
        })
    })
}

/// Application-data records of one direction that fit the layering.
fn fitting(stats: &RecordStats, inner: usize, outer: usize) -> u64 {
    stats.application_data_lengths.iter().filter(|(len, _)| fits(*len, inner, outer)).map(|(_, n)| u64::from(*n)).sum()
}

/// Enough fitting records, and a large enough share of `records`.
fn enough(fit: u64, records: u64) -> bool {
    fit >= MIN_RECORDS && fit as f64 >= MIN_SHARE * records as f64
}

pub fn tunnelled_cells(a: &RecordStats, b: &RecordStats, hello: Option<&ClientHello>) -> Option<TunnelledCells> {
    let records = a.application_data_records + b.application_data_records;
    let lengths = || a.application_data_lengths.iter().chain(b.application_data_lengths.iter());
    // One layering per session: the inner and outer TLS versions do not change mid-flow.
    let (fit_a, fit_b, inner, outer) = INNER
        .iter()
        .flat_map(|&inner| OUTER.iter().map(move |&outer| (inner, outer)))
        .map(|(inner, outer)| (fitting(a, inner.0, outer.0), fitting(b, inner.0, outer.0), inner, outer))
        .max_by_key(|(fa, fb, _, _)| fa + fb)?;
    let cell_sized = fit_a + fit_b;
    let (records_a, records_b) = (a.application_data_records, b.application_data_records);
    if !(enough(cell_sized, records) || enough(fit_a, records_a) || enough(fit_b, records_b)) {
        return None;
    }
    let share = cell_sized as f64 / records.max(1) as f64;
    let mut fitting: Vec<(u16, u32)> = lengths().filter(|(len, _)| fits(*len, inner.0, outer.0)).copied().collect();
    fitting.sort_unstable_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    Some(TunnelledCells {
        records,
        cell_sized,
        share: (share * 1000.0).round() / 1000.0,
        to_server: [fit_a, records_a],
        to_client: [fit_b, records_b],
        layering: format!("{} in {}", inner.1, outer.1),
        lengths: fitting.iter().take(5).map(|(len, _)| *len).collect(),
        alpn_offered: hello.map(|h| !h.alpn.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::fits;

    #[test]
    fn tunnelled_cell_lengths() {
        // One cell, two, tor's chunk, two chunks, a chunk and a cell; two inner records of one
        // cell each; TLS 1.2 outside.
        for len in [553, 1067, 4087, 8157, 4623, 1089, 560] {
            assert!(fits(len, 22, 17) || fits(len, 22, 24), "{len}");
        }
        // Plain Tor records, ordinary lengths, too short for a cell.
        for len in [531, 1045, 4065, 538, 100, 16401, 552, 554] {
            assert!(!fits(len, 22, 17), "{len}");
        }
    }
}
