//! DNS question names from UDP port 53 (queries and answers alike), and the addresses answers
//! gave for them; mechanism only: which names the capture shows being looked up, and where they
//! pointed. Reference: RFC 1035 §4.1, RFC 3596 (AAAA).

use crate::analysis::bytes::{array, be16, u8_at};
use std::net::IpAddr;

/// Answers read per response: enough for any real resolver answer.
const MAX_ANSWERS: usize = 16;

/// Skips a (possibly compressed) name starting at `at`; returns the offset after it.
fn skip_name(payload: &[u8], mut at: usize) -> Option<usize> {
    for _ in 0..128 {
        let len = u8_at(payload, at)?;
        match len {
            0 => return Some(at + 1),
            l if l & 0xc0 == 0xc0 => return Some(at + 2), // a pointer ends the name
            l if l <= 63 => at += 1 + usize::from(l),
            _ => return None,
        }
    }
    None
}

/// The IPv4 and IPv6 addresses in a response's answer section (A and AAAA records, whatever
/// owner name a CNAME chain gave them: they answer the question).
pub fn answer_addresses(payload: &[u8]) -> Vec<IpAddr> {
    let mut out = Vec::new();
    let (Some(flags), Some(qdcount), Some(ancount)) = (be16(payload, 2), be16(payload, 4), be16(payload, 6)) else {
        return out;
    };
    if flags & 0x8000 == 0 || qdcount == 0 || qdcount > 16 {
        return out;
    }
    let mut at = 12;
    for _ in 0..qdcount {
        let Some(next) = skip_name(payload, at) else { return out };
        at = next + 4;
    }
    for _ in 0..usize::from(ancount).min(MAX_ANSWERS) {
        let Some(next) = skip_name(payload, at) else { return out };
        let (Some(rtype), Some(rdlen)) = (be16(payload, next), be16(payload, next + 8)) else { return out };
        let rdata = next + 10;
        match (rtype, rdlen) {
            (1, 4) => {
                if let Some(a) = array::<4>(payload, rdata) {
                    out.push(IpAddr::from(a));
                }
            }
            (28, 16) => {
                if let Some(a) = array::<16>(payload, rdata) {
                    out.push(IpAddr::from(a));
                }
            }
            _ => {}
        }
        at = rdata + usize::from(rdlen);
    }
    out
}

/// The first question's name, lower-cased, if `payload` is a plausible DNS message.
pub fn question_name(payload: &[u8]) -> Option<String> {
    let qdcount = be16(payload, 4)?;
    if qdcount == 0 || qdcount > 16 {
        return None;
    }
    let mut at = 12;
    let mut labels: Vec<String> = Vec::new();
    loop {
        let len = usize::from(u8_at(payload, at)?);
        if len == 0 {
            break;
        }
        if len > 63 || labels.len() >= 64 {
            return None; // compression pointers never start a question name; anything else is junk
        }
        let label = payload.get(at + 1..at + 1 + len)?;
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        at += 1 + len;
    }
    be16(payload, at + 1)?; // QTYPE present
    (!labels.is_empty()).then(|| labels.join("."))
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_a_query() {
        let q = [
            0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, b'w', b'w', b'w', 3, b'F', b'o', b'o', 3, b'c', b'o', b'm', 0,
            0, 1, 0, 1,
        ];
        assert_eq!(super::question_name(&q).as_deref(), Some("www.foo.com"));
        assert_eq!(super::question_name(&q[..20]), None);
    }

    #[test]
    fn reads_answers_through_a_cname() {
        let mut r = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
        r.extend([3, b'f', b'o', b'o', 3, b'c', b'o', b'm', 0, 0, 1, 0, 1]);
        // foo.com CNAME bar.com (pointer to offset 12 for the owner), then bar.com A 192.0.2.7
        r.extend([0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 9, 3, b'b', b'a', b'r', 3, b'c', b'o', b'm', 0]);
        r.extend([0xc0, 37, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7]);
        assert_eq!(super::answer_addresses(&r), vec![std::net::IpAddr::from([192, 0, 2, 7])]);
        assert!(super::answer_addresses(&r[..r.len() - 2]).is_empty());
    }
}
