//! Inputs the fuzzers found, minimised, kept as named regression tests. Each file's name says
//! what went wrong; the fuzz target's property must hold for it.

mod support;

use torsift::analysis::{Analyzer, Limits};

/// capture_chunks: the report must not depend on the chunking. This not-a-capture input made
/// `file_bytes` count only the chunks pushed before the error.
#[test]
fn file_bytes_counts_the_whole_file_after_an_error() {
    let data = include_bytes!("fixtures/fuzz/capture_chunks-file-bytes-after-error.bin");
    let (seed, capture) = data.split_first().unwrap();
    let chunk = usize::from(*seed) * 7 + 1;
    let mut a = Analyzer::new("fuzz", Limits::default());
    for piece in capture.chunks(chunk) {
        let _ = a.push(piece);
    }
    let chunked = a.finish();
    let mut b = Analyzer::new("fuzz", Limits::default());
    let _ = b.push(capture);
    let whole = b.finish();
    assert_eq!(chunked.file_bytes, capture.len() as u64);
    assert_eq!(serde_json::to_string(&chunked).unwrap(), serde_json::to_string(&whole).unwrap());
}

/// history_shard: every run of the input reads back. Two runs of one address from one source
/// that overlap and cross a year (the same start, ends a day apart) came back as a run ending
/// a day early plus a run that began on 1 January.
#[test]
fn overlapping_runs_of_one_source_read_back_whole() {
    use torsift::analysis::tor::history::{shard, tsv, RelayHistory};
    use torsift::analysis::tor::relays::key;
    let mut input = tsv::HistoryInput::default();
    let lines = "1.1.168.51\t2024-02-27\t2025-02-28\tsecops-tor-nodes\n\
                 1.1.168.51\t2024-02-27\t2025-02-27\tsecops-tor-nodes\n\
                 1.1.168.51\t2025-02-20\t2025-03-03\tsecops-tor-nodes\n";
    input.add_intervals("fuzz", lines, false, key::encode).unwrap();
    let mut history = RelayHistory::default();
    for (_, bytes) in shard::write_years(&input).unwrap() {
        assert!(history.add_shard(bytes));
    }
    let runs: Vec<(i64, i64)> =
        history.presences("1.1.168.51".parse().unwrap(), None).iter().map(|p| (p.first_day, p.last_day)).collect();
    let day = |d: &str| tsv::parse_day(d).unwrap();
    assert_eq!(runs, vec![(day("2024-02-27"), day("2025-03-03"))]);
}

/// capture_chunks: a gzip stream whose header is corrupt (compression method 0) was reported at
/// an offset that depended on how the bytes were chunked, and as an offset into the
/// decompressed stream although it is one into the file.
#[test]
fn a_corrupt_gzip_header_is_reported_the_same_however_chunked() {
    let mut data = vec![0x1f, 0x8b, 0x00, 0x04];
    data.resize(81, 0);
    let errors: Vec<_> = [1, 8, 13, 81]
        .into_iter()
        .map(|chunk| support::analyze_chunked("fuzz", &data, chunk).error.expect("a corrupt gzip header is an error"))
        .collect();
    for e in &errors {
        assert_eq!(e, &errors[0]);
    }
    assert_eq!((errors[0].offset, errors[0].in_decompressed), (0, false), "{:?}", errors[0]);
    assert!(errors[0].message.contains("gzip data is corrupt"), "{}", errors[0].message);
}
