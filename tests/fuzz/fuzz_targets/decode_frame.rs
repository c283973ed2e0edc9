//! Link, IP, tunnel and fragment decoding of one frame under any link type.
#![no_main]
use libfuzzer_sys::fuzz_target;
use torsift::analysis::decode::Decoder;
use torsift::analysis::time::Timestamp;
use torsift::analysis::Limits;

fuzz_target!(|data: &[u8]| {
    let Some((&lt, frame)) = data.split_first() else { return };
    let link_types = [0u32, 1, 9, 12, 14, 50, 51, 101, 104, 108, 113, 204, 228, 229, 239, 258, 276];
    let link_type = link_types[usize::from(lt) % link_types.len()];
    let mut d = Decoder::new(&Limits::default());
    // Twice: the second pass meets fragment state left by the first.
    for n in 1..=2 {
        d.decode(n, link_type, Timestamp(0), frame, &mut |_| {});
    }
    d.finish();
});
