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
