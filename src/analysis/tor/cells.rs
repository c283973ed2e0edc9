//! Cell-sized TLS records. Tor sends fixed 514-byte cells (tor-spec §3, link protocol ≥ 4:
//! 4-byte circuit id + 1 command + 509 payload), batched into TLS records, so application-data
//! record lengths are whole cells plus the record overhead: TLS 1.3 AEAD adds 17 (the content
//! type byte and a 16-byte tag: 531, 1045, …), TLS 1.2 AES-GCM adds 24 (an 8-byte explicit
//! nonce and the tag: 538, …).
//! Tor also writes in 4048-byte chunks (a full 4096-byte buffer less TLS overhead), which give
//! 4065-byte records under TLS 1.3 and 4072 under TLS 1.2.

use crate::analysis::tls::records::RecordStats;
use serde::Serialize;

const CELL: usize = 514;
const TLS13_OVERHEAD: usize = 17;
const TLS12_AEAD_OVERHEAD: usize = 24;
const CHUNK_PLAINTEXT: usize = 4048;

pub fn is_cell_sized(len: u16) -> bool {
    let len = usize::from(len);
    [TLS13_OVERHEAD, TLS12_AEAD_OVERHEAD]
        .iter()
        .any(|&o| len > o && ((len - o) % CELL == 0 || len - o == CHUNK_PLAINTEXT))
}

/// With at least this many application-data records, the share decides (below, only a flow
/// whose every record is cell-sized counts, as weak evidence).
pub const MIN_RECORDS: u64 = 8;
/// Share of records that must be cell-sized. Tor flows carry some records of other lengths (the
/// tails of chunked writes: 81, 273, 595, …); ordinary TLS almost never hits cell sizes at all.
pub const MIN_SHARE: f64 = 0.6;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CellRecords {
    pub records: u64,
    pub cell_sized: u64,
    pub share: f64,
    /// Too few records for the share to mean much: all were cell-sized.
    pub few: bool,
}

pub fn cell_records(a: &RecordStats, b: &RecordStats) -> Option<CellRecords> {
    let records = a.application_data_records + b.application_data_records;
    let cell_sized: u64 = a
        .application_data_lengths
        .iter()
        .chain(b.application_data_lengths.iter())
        .filter(|(len, _)| is_cell_sized(*len))
        .map(|(_, n)| u64::from(*n))
        .sum();
    if records == 0 || cell_sized == 0 {
        return None;
    }
    let share = cell_sized as f64 / records as f64;
    let share_rounded = (share * 1000.0).round() / 1000.0;
    if records >= MIN_RECORDS && share >= MIN_SHARE {
        Some(CellRecords { records, cell_sized, share: share_rounded, few: false })
    } else if records < MIN_RECORDS && cell_sized == records {
        Some(CellRecords { records, cell_sized, share: share_rounded, few: true })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::is_cell_sized;

    #[test]
    fn cell_lengths() {
        for len in [531, 1045, 1559, 4065, 538, 1052, 4072] {
            assert!(is_cell_sized(len), "{len}");
        }
        for len in [19, 69, 266, 16401, 530, 1044, 595] {
            assert!(!is_cell_sized(len), "{len}");
        }
    }
}
