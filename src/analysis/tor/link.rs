//! Tor's link handshake as seen on the wire (tor-spec §2 "Connections", tortls.c).
//! - ClientHello: tor names a fake server, `www.` + 4–25 base32 characters + `.com`
//!   (crypto_random_hostname in src/lib/crypt_ops/crypto_rand.c), offers no ALPN, and the name
//!   is never looked up in DNS, because no such host exists.
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

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LinkClientHello {
    pub sni: String,
    pub ja4: String,
    pub ja3_hash: String,
    pub tls_version: u16,
}

/// A ClientHello with Tor's fake server name, no ALPN, and a name the capture never resolved.
pub fn tor_client_hello(hello: &ClientHello, was_resolved: impl Fn(&str) -> bool) -> Option<LinkClientHello> {
    let sni = hello.sni.as_deref()?;
    (random_www_name(sni, 4, 25, "com") && hello.alpn.is_empty() && !was_resolved(sni)).then(|| LinkClientHello {
        sni: sni.to_string(),
        ja4: hello.ja4.clone(),
        ja3_hash: hello.ja3_hash.clone(),
        tls_version: hello.version,
    })
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
