//! Gzip-wrapped input: the inflater and what follows it never panic or hang.
#![no_main]
use libfuzzer_sys::fuzz_target;
use torsift::analysis::{analyze_bytes, Limits};

fuzz_target!(|data: &[u8]| {
    let mut input = vec![0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0xff];
    input.extend_from_slice(data);
    let _ = analyze_bytes("fuzz.gz", &input, Limits::default());
});
