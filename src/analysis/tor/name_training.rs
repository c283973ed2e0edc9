//! Training of the label model in `name_model.rs`: shared by the build script, which writes the
//! table into the binary, and the tests.

/// Symbols of the model: start of label, a–z, 2–7, end of label.
pub const ALPHABET: &[u8; 34] = b"^abcdefghijklmnopqrstuvwxyz234567$";
/// Quantisation of the table: score units per bit.
pub const UNITS_PER_BIT: f64 = 16.0;

pub fn symbol(b: u8) -> Option<usize> {
    ALPHABET.iter().position(|&a| a == b)
}

/// Builds the table from a word list (one word per line); used by the build script.
pub fn train(words: &str) -> Vec<u8> {
    let n = ALPHABET.len();
    let mut counts = vec![0u64; n * n];
    for word in words.lines().map(str::trim) {
        let word = word.to_ascii_lowercase();
        if word.is_empty() || !word.bytes().all(|b| b.is_ascii_lowercase()) {
            continue;
        }
        let mut prev = 0usize;
        for b in word.bytes().chain(std::iter::once(b'$')) {
            let Some(next) = symbol(b) else { break };
            if let Some(c) = counts.get_mut(prev * n + next) {
                *c += 1;
            }
            prev = next;
        }
    }
    // Additive smoothing: unseen transitions are rare, not impossible.
    const K: f64 = 0.1;
    let mut table = vec![0u8; n * n];
    for prev in 0..n {
        let row: Vec<u64> = (0..n).map(|next| counts.get(prev * n + next).copied().unwrap_or(0)).collect();
        let total: f64 = row.iter().map(|&c| c as f64 + K).sum::<f64>() - K; // no transition to '^'
        for (next, &c) in row.iter().enumerate().skip(1) {
            let p = (c as f64 + K) / total;
            let llr = (p.log2() + 5.0) * UNITS_PER_BIT; // log2(1/32) = -5
            if let Some(cell) = table.get_mut(prev * n + next) {
                *cell = llr.round().clamp(-128.0, 127.0) as i8 as u8;
            }
        }
    }
    table
}
