//! Tor's link handshake as seen on the wire (tor-spec §2 "Connections", tortls.c).
//! - ClientHello: tor names a fake server, `www.` + 4–25 base32 characters + `.com`
//!   (crypto_random_hostname in src/lib/crypt_ops/crypto_rand.c), offers no ALPN, and the name
//!   is never looked up in DNS, because no such host exists. The shape alone is weak (`google`
//!   is valid base32): the ClientHello must also come from tor's TLS stack (its Firefox-derived
//!   cipher list through OpenSSL, its P-224 group choice) or carry a long random-looking label.
//! - Certificate (visible only under TLS ≤ 1.2): the link certificate has a CN-only subject
//!   `www.<random>.net`, issued by a different CN-only `www.<random>.com`, no extensions, a short
//!   serial, and a notBefore at midnight UTC (tor_tls_create_certificate in tortls_openssl.c).

use crate::analysis::tls::cert::Certificate;
use crate::analysis::tls::handshake::ClientHello;
use serde::Serialize;

/// `www.` + `[a-z2-7]{min,max}` + `.` + `tld`.
fn random_www_name(name: &str, min: usize, max: usize, tld: &str) -> bool {
    let Some(middle) = name.strip_prefix("www.").and_then(|r| r.strip_suffix(tld)).and_then(|r| r.strip_suffix('.'))
    else {
        return false;
    };
    (min..=max).contains(&middle.len()) && middle.bytes().all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
}

/// Tor's client cipher lists, TLS ≤ 1.2 suites in order: `ciphers.inc`, which tor generates
/// from Firefox's list of the day (`get_mozilla_ciphers.py`), in each generation of tor's git
/// history, and the list of tor 0.4.9 (seen in the lab's captures of 0.4.9.11). OpenSSL leaves
/// out suites it does not implement and appends the renegotiation SCSV (0x00ff), so a tor
/// ClientHello carries an in-order subsequence of one of these, then 0x00ff.
const TOR_CIPHER_LISTS: [&[u16]; 4] = [
    // 2012 (Firefox 8; tor 0.2.3–0.2.4)
    &[
        0xc00a, 0xc014, 0x0088, 0x0087, 0x0039, 0x0038, 0xc00f, 0xc005, 0x0084, 0x0035, 0xc007, 0xc009, 0xc011, 0xc013,
        0x0045, 0x0044, 0x0033, 0x0032, 0xc00c, 0xc00e, 0xc002, 0xc004, 0x0096, 0x0041, 0x0004, 0x0005, 0x002f, 0xc008,
        0xc012, 0x0016, 0x0013, 0xc00d, 0xc003, 0xfeff, 0x000a,
    ],
    // 2014 (Firefox 28; tor 0.2.5–0.3.5)
    &[
        0xc02b, 0xc02f, 0xc00a, 0xc009, 0xc013, 0xc014, 0xc012, 0xc007, 0xc011, 0x0033, 0x0032, 0x0045, 0x0039, 0x0038,
        0x0088, 0x0016, 0x002f, 0x0041, 0x0035, 0x0084, 0x000a, 0x0005, 0x0004,
    ],
    // 2017 (regenerated; tor 0.3.0–0.4.8)
    &[
        0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc02c, 0xc030, 0xc00a, 0xc009, 0xc013, 0xc014, 0x0033, 0x0039, 0x002f, 0x0035,
        0x000a,
    ],
    // tor 0.4.9
    &[0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc02c, 0xc030, 0xc00a, 0xc009, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035],
];
/// A cipher list this short says too little about its order to count as tor's.
const MIN_TOR_CIPHERS: usize = 8;
/// OpenSSL's TLS_EMPTY_RENEGOTIATION_INFO_SCSV.
const RENEGOTIATION_SCSV: u16 = 0x00ff;
/// secp256r1 and secp224r1 (RFC 8422 NamedCurve numbers).
const P256: u16 = 0x0017;
const P224: u16 = 0x0015;

fn is_tls13_suite(c: u16) -> bool {
    c >> 8 == 0x13
}

fn is_subsequence(needle: &[u16], hay: &[u16]) -> bool {
    let mut hay = hay.iter();
    needle.iter().all(|n| hay.any(|h| h == n))
}

/// Traits of the ClientHello that match what tor's TLS code sends (tortls_openssl.c), by name.
/// - `tor-cipher-list`: the TLS ≤ 1.2 suites are, in order, a subsequence of a tor cipher list
///   (at least `MIN_TOR_CIPHERS` of them), followed by OpenSSL's renegotiation SCSV;
/// - `tor-groups`: tor's own `SSL_CTX_set1_groups_list` choice, a short list that opens with
///   P-256 and offers P-224 ("P-256:P-224", "P-256:X25519:P-224"); P-224 is in no default list of
///   today's TLS stacks (OpenSSL ≥ 1.1, BoringSSL, NSS, GnuTLS, Go, SChannel).
pub fn tor_stack_traits(hello: &ClientHello) -> Vec<&'static str> {
    let mut traits = Vec::new();
    let suites: Vec<u16> =
        hello.cipher_suites.iter().copied().filter(|&c| !is_tls13_suite(c) && c != RENEGOTIATION_SCSV).collect();
    let scsv_last = hello.cipher_suites.last() == Some(&RENEGOTIATION_SCSV);
    if scsv_last && suites.len() >= MIN_TOR_CIPHERS && TOR_CIPHER_LISTS.iter().any(|list| is_subsequence(&suites, list))
    {
        traits.push("tor-cipher-list");
    }
    let g = &hello.supported_groups;
    if g.len() <= 3 && g.first() == Some(&P256) && g.contains(&P224) {
        traits.push("tor-groups");
    }
    traits
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LinkClientHello {
    pub sni: String,
    pub ja4: String,
    pub ja3_hash: String,
    pub tls_version: u16,
    /// Which of tor's TLS-stack traits the ClientHello shows (`tor_stack_traits`).
    pub stack_traits: Vec<&'static str>,
    /// The name's label scored against English words (`name_model.rs`), bits per character:
    /// below 0 looks random, above looks word-like.
    pub label_word_likeness: f64,
    /// Long enough to judge and random-looking.
    pub label_looks_random: bool,
}

impl LinkClientHello {
    /// The ClientHello is tor's own (its TLS stack), not just its name's shape.
    pub fn tor_stack(&self) -> bool {
        self.stack_traits.contains(&"tor-cipher-list")
    }
}

/// A ClientHello with Tor's fake server name shape, no ALPN, a name the capture never resolved,
/// and something beyond the shape: tor's TLS stack, or a long random-looking label. A
/// word-like name from a client that does not look like tor is no evidence (`curl --no-alpn
/// https://www.google.com/` has the shape).
pub fn tor_client_hello(hello: &ClientHello, was_resolved: impl Fn(&str) -> bool) -> Option<LinkClientHello> {
    let sni = hello.sni.as_deref()?;
    if !(random_www_name(sni, 4, 25, "com") && hello.alpn.is_empty() && !was_resolved(sni)) {
        return None;
    }
    let label = sni.trim_start_matches("www.").trim_end_matches(".com");
    let stack_traits = tor_stack_traits(hello);
    let label_looks_random = super::name_model::looks_random(label);
    let found = LinkClientHello {
        sni: sni.to_string(),
        ja4: hello.ja4.clone(),
        ja3_hash: hello.ja3_hash.clone(),
        tls_version: hello.version,
        label_word_likeness: super::name_model::word_likeness(label).map_or(0.0, |s| (s * 100.0).round() / 100.0),
        label_looks_random,
        stack_traits,
    };
    (found.tor_stack() || label_looks_random).then_some(found)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LinkCertificate {
    pub subject: String,
    pub issuer: String,
    pub serial_bytes: usize,
    pub not_before: Option<String>,
}

/// Longest serial tor writes: it uses a random 64-bit serial (8 bytes, 9 with DER's sign byte).
const MAX_TOR_SERIAL_BYTES: usize = 9;

pub fn tor_certificate(chain: &[Certificate]) -> Option<LinkCertificate> {
    let c = chain.first()?;
    let (subject, issuer) = (c.subject_cn.as_deref()?, c.issuer_cn.as_deref()?);
    let midnight = c.not_before.as_deref().is_some_and(|t| t.ends_with("T00:00:00Z"));
    (c.subject_attributes == 1
        && c.issuer_attributes == 1
        && random_www_name(subject, 8, 20, "net")
        && random_www_name(issuer, 8, 20, "com")
        && subject != issuer
        && !c.has_extensions
        && c.serial_bytes <= MAX_TOR_SERIAL_BYTES
        && midnight)
        .then(|| LinkCertificate {
            subject: c.subject.clone(),
            issuer: c.issuer.clone(),
            serial_bytes: c.serial_bytes,
            not_before: c.not_before.clone(),
        })
}

#[cfg(test)]
mod tests {
    use super::random_www_name;

    #[test]
    fn tor_names() {
        assert!(random_www_name("www.wmey.com", 4, 25, "com"));
        assert!(random_www_name("www.eii75xqo42bfnedgimryrw.com", 4, 25, "com"));
        assert!(!random_www_name("www.google.com", 8, 20, "com"));
        assert!(!random_www_name("www.exam-ple.com", 4, 25, "com"));
        assert!(!random_www_name("www.abc1defg.com", 4, 25, "com"), "1 is not base32");
        assert!(!random_www_name("mail.abcdefgh.com", 4, 25, "com"));
    }
}
