//! X.509 certificates from a TLS ≤ 1.2 Certificate message: just the facts an analyst compares
//! (names, serial length, validity, key size, whether extensions exist), read with a small
//! bounds-checked DER walker. Reference: RFC 5280 §4.1.

use serde::Serialize;

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Certificate {
    /// Subject and issuer as `CN=…, O=…` (attribute order as encoded).
    pub subject: String,
    pub issuer: String,
    pub subject_cn: Option<String>,
    pub issuer_cn: Option<String>,
    /// Number of attributes in the subject and issuer names.
    pub subject_attributes: usize,
    pub issuer_attributes: usize,
    pub serial_bytes: usize,
    pub not_before: Option<String>,
    pub not_after: Option<String>,
    pub key_bits: Option<u32>,
    pub has_extensions: bool,
}

/// One DER element: (tag, contents, rest).
fn der(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *data.first()?;
    let first = *data.get(1)?;
    let (len, hdr) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | usize::from(*data.get(2 + i)?);
        }
        (len, 2 + n)
    };
    let content = data.get(hdr..hdr.checked_add(len)?)?;
    Some((tag, content, data.get(hdr + len..)?))
}

fn attribute_name(oid: &[u8]) -> String {
    match oid {
        [0x55, 0x04, 0x03] => "CN".into(),
        [0x55, 0x04, 0x06] => "C".into(),
        [0x55, 0x04, 0x07] => "L".into(),
        [0x55, 0x04, 0x08] => "ST".into(),
        [0x55, 0x04, 0x0a] => "O".into(),
        [0x55, 0x04, 0x0b] => "OU".into(),
        _ => oid.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join("."),
    }
}

/// A Name: (printable form, CN, attribute count).
fn name(mut data: &[u8]) -> (String, Option<String>, usize) {
    let mut parts = Vec::new();
    let mut cn = None;
    while let Some((_, set, rest)) = der(data) {
        data = rest;
        let mut set = set;
        while let Some((_, atv, more)) = der(set) {
            set = more;
            if let Some((_, oid, value_rest)) = der(atv) {
                if let Some((_, value, _)) = der(value_rest) {
                    let value: String = String::from_utf8_lossy(value).chars().take(256).collect();
                    let key = attribute_name(oid);
                    if key == "CN" {
                        cn = Some(value.clone());
                    }
                    parts.push(format!("{key}={value}"));
                }
            }
        }
    }
    let count = parts.len();
    (parts.join(", "), cn, count)
}

/// UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ) → RFC 3339.
fn time(tag: u8, v: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(v).ok()?;
    let (year, rest) = match tag {
        0x17 => {
            let yy: i32 = s.get(0..2)?.parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, s.get(2..)?)
        }
        0x18 => (s.get(0..4)?.parse().ok()?, s.get(4..)?),
        _ => return None,
    };
    let f = |a: usize| rest.get(a..a + 2);
    Some(format!("{year:04}-{}-{}T{}:{}:{}Z", f(0)?, f(2)?, f(4)?, f(6)?, f(8)?))
}

fn rsa_bits(spki: &[u8]) -> Option<u32> {
    let (_, _alg, rest) = der(spki)?;
    let (tag, bits, _) = der(rest)?;
    if tag != 0x03 {
        return None;
    }
    let (_, key, _) = der(bits.get(1..)?)?;
    let (tag, modulus, _) = der(key)?;
    if tag != 0x02 {
        return None;
    }
    let m: &[u8] = match modulus.iter().position(|&b| b != 0) {
        Some(p) => modulus.get(p..)?,
        None => return None,
    };
    let lead = *m.first()?;
    Some((m.len() as u32 - 1) * 8 + (8 - lead.leading_zeros()))
}

pub fn parse_certificate(der_bytes: &[u8]) -> Option<Certificate> {
    let (_, cert, _) = der(der_bytes)?;
    let (_, tbs, _) = der(cert)?;
    let mut rest = tbs;
    let (mut tag, mut el, mut next) = der(rest)?;
    if tag == 0xa0 {
        rest = next;
        (tag, el, next) = der(rest)?;
    }
    let serial_bytes = if tag == 0x02 { el.len() } else { 0 };
    let (_, _sig_alg, after_sig) = der(next)?;
    let (_, issuer, after_issuer) = der(after_sig)?;
    let (_, validity, after_validity) = der(after_issuer)?;
    let (_, subject, after_subject) = der(after_validity)?;
    let (_, spki, mut tail) = der(after_subject)?;
    let mut has_extensions = false;
    while let Some((t, _, more)) = der(tail) {
        has_extensions |= t == 0xa3;
        tail = more;
    }
    let (nb_tag, nb, validity_rest) = der(validity)?;
    let not_after = der(validity_rest).and_then(|(t, v, _)| time(t, v));
    let (subject, subject_cn, subject_attributes) = name(subject);
    let (issuer, issuer_cn, issuer_attributes) = name(issuer);
    Some(Certificate {
        subject,
        issuer,
        subject_cn,
        issuer_cn,
        subject_attributes,
        issuer_attributes,
        serial_bytes,
        not_before: time(nb_tag, nb),
        not_after,
        key_bits: rsa_bits(spki),
        has_extensions,
    })
}

/// The chain of a TLS ≤ 1.2 Certificate message body (leaf first).
pub fn parse_chain(body: &[u8]) -> Vec<Certificate> {
    let mut out = Vec::new();
    let mut at = 3; // certificate_list<0..2^24-1> length
    while let (Some(&a), Some(&b), Some(&c)) = (body.get(at), body.get(at + 1), body.get(at + 2)) {
        let len = (usize::from(a) << 16) | (usize::from(b) << 8) | usize::from(c);
        let Some(der_bytes) = body.get(at + 3..at + 3 + len) else { break };
        if let Some(cert) = parse_certificate(der_bytes) {
            out.push(cert);
        }
        at += 3 + len;
        if out.len() >= 8 {
            break;
        }
    }
    out
}
