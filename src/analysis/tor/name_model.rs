//! How random a DNS label looks: a character-bigram model of English words against uniform
//! base32, the alphabet tor draws its fake server names from (`crypto_random_hostname`).
//!
//! The model is trained at build time (`relays/build.rs`) on Debian's English word list
//! (`/usr/share/dict/words`, package `wamerican`) and embedded as a 34 × 34 table of quantised
//! log-likelihood ratios. A label's score is the mean, per transition (including the end of the
//! label), of log2 P(next | previous) under the word model minus log2 (1/32) under uniform
//! base32: words and word-like brand names score above zero, random strings below.
//!
//! Measured on 5,000 random base32 labels per length: below zero for 92 % of 4-character
//! labels, 97 % of 6, 99.1 % of 8 and 99.8 % of 10 or more. Short labels are genuinely ambiguous
//! (acronyms such as `cnn` or `imdb` score like random strings), so a random-looking label counts
//! only from `MIN_RANDOM_LABEL` characters on, and never alone (see `link.rs`).

/// Labels shorter than this are not judged: too few characters for the statistic.
pub const MIN_RANDOM_LABEL: usize = 8;
/// Mean log-likelihood ratio (bits per transition) below which a label looks random.
pub const RANDOM_BELOW: f64 = 0.0;

use super::name_training::{symbol, ALPHABET, UNITS_PER_BIT};

static TABLE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/name_bigrams.bin"));

/// Mean log-likelihood ratio, in bits per transition, of `label` under the word model versus
/// uniform base32. `None` for characters outside a–z and 2–7.
pub fn word_likeness(label: &str) -> Option<f64> {
    let mut prev = symbol(b'^')?;
    let mut total = 0i64;
    let mut n = 0i64;
    for b in label.bytes().chain(std::iter::once(b'$')) {
        if b == b'^' {
            return None;
        }
        let next = symbol(b)?;
        let cell = TABLE.get(prev * ALPHABET.len() + next).copied().unwrap_or(0);
        total += i64::from(cell as i8);
        n += 1;
        prev = next;
    }
    Some(total as f64 / n as f64 / UNITS_PER_BIT)
}

/// The label is long enough to judge and scores like a random string.
pub fn looks_random(label: &str) -> bool {
    label.len() >= MIN_RANDOM_LABEL && word_likeness(label).is_some_and(|s| s < RANDOM_BELOW)
}
