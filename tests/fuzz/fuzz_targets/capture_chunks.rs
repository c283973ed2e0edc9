//! Capture reading fed in fuzzer-chosen chunk sizes: never panics, and the report does not
//! depend on the chunking.
#![no_main]
use libfuzzer_sys::fuzz_target;
use torsift::analysis::{Analyzer, Limits};

fuzz_target!(|data: &[u8]| {
    let Some((&seed, capture)) = data.split_first() else { return };
    let chunk = usize::from(seed) * 7 + 1;
    let mut a = Analyzer::new("fuzz", Limits::default());
    for piece in capture.chunks(chunk) {
        let _ = a.push(piece);
    }
    let chunked = serde_json::to_string(&a.finish()).unwrap();
    let mut b = Analyzer::new("fuzz", Limits::default());
    let _ = b.push(capture);
    let whole = serde_json::to_string(&b.finish()).unwrap();
    assert_eq!(chunked, whole, "chunking changed the report");
});
