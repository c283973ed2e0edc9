//! DNS question names from UDP port 53 (queries and answers alike), mechanism only: which
//! names the capture shows being looked up. Reference: RFC 1035 §4.1.

use crate::analysis::bytes::{be16, u8_at};

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
}
