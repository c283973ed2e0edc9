//! TLS handshake messages from the first bytes of a stream: ClientHello (with JA4 and JA3) and
//! ServerHello. References: RFC 8446 §4.1, RFC 5246 §7.4, FoxIO's JA4 specification, JA3.

use crate::analysis::bytes::{be16, u8_at, Cursor};
use md5::Md5;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Handshake messages carried by the leading handshake records of `head`: (type, body).
/// Stops at the first record that is not handshake (or change_cipher_spec) or is incomplete.
pub fn handshake_messages(head: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut joined = Vec::new();
    let mut at = 0;
    while let (Some(ct), Some(len)) = (u8_at(head, at), be16(head, at + 3)) {
        let Some(body) = head.get(at + 5..at + 5 + usize::from(len)) else {
            // The last record is cut off by the head bound: use what is there.
            joined.extend_from_slice(head.get(at + 5..).unwrap_or_default());
            break;
        };
        match ct {
            22 => joined.extend_from_slice(body),
            20 => {}
            _ => break,
        }
        at += 5 + usize::from(len);
    }
    let mut messages = Vec::new();
    let mut at = 0;
    while let (Some(t), Some(hi), Some(lo)) = (u8_at(&joined, at), u8_at(&joined, at + 1), be16(&joined, at + 2)) {
        let len = (usize::from(hi) << 16) | usize::from(lo);
        let Some(body) = joined.get(at + 4..at + 4 + len) else {
            // A truncated final message (e.g. a long certificate chain) is still useful.
            messages.push((t, joined.get(at + 4..).unwrap_or_default().to_vec()));
            break;
        };
        messages.push((t, body.to_vec()));
        at += 4 + len;
    }
    messages
}

/// GREASE values (RFC 8701) are ignored by fingerprints.
fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

fn u16_list(data: &[u8]) -> Vec<u16> {
    data.chunks_exact(2)
        .map(|c| u16::from_be_bytes([c.first().copied().unwrap_or(0), c.get(1).copied().unwrap_or(0)]))
        .collect()
}

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct ClientHello {
    pub legacy_version: u16,
    /// Highest version offered (supported_versions when present).
    pub version: u16,
    pub cipher_suites: Vec<u16>,
    /// Extension types in the order sent.
    pub extensions: Vec<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    pub alpn: Vec<String>,
    pub supported_groups: Vec<u16>,
    pub signature_algorithms: Vec<u16>,
    pub ec_point_formats: Vec<u8>,
    pub ja4: String,
    pub ja3: String,
    pub ja3_hash: String,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct ServerHello {
    /// The negotiated version (supported_versions when present).
    pub version: u16,
    pub cipher_suite: u16,
    pub extensions: Vec<u16>,
}

/// Extensions as (type, data), in order.
fn extensions(c: &mut Cursor<'_>) -> Vec<(u16, Vec<u8>)> {
    let mut out = Vec::new();
    let Some(block) = c.vec16() else { return out };
    let mut e = Cursor::new(block);
    while let (Some(t), Some(data)) = (e.be16(), e.vec16()) {
        out.push((t, data.to_vec()));
    }
    out
}

pub fn parse_client_hello(body: &[u8]) -> Option<ClientHello> {
    let mut c = Cursor::new(body);
    let legacy_version = c.be16()?;
    c.take(32)?;
    c.vec8()?;
    let cipher_suites = u16_list(c.vec16()?);
    c.vec8()?;
    let exts = extensions(&mut c);
    let mut hello = ClientHello { legacy_version, version: legacy_version, cipher_suites, ..Default::default() };
    for (t, data) in &exts {
        hello.extensions.push(*t);
        let mut d = Cursor::new(data);
        match t {
            0 => {
                // server_name_list: name_type(1) + host_name<2>
                if let Some(list) = d.vec16() {
                    let mut l = Cursor::new(list);
                    if let (Some(0), Some(name)) = (l.u8(), l.vec16()) {
                        hello.sni = Some(String::from_utf8_lossy(name).chars().take(255).collect());
                    }
                }
            }
            16 => {
                if let Some(list) = d.vec16() {
                    let mut l = Cursor::new(list);
                    while let Some(p) = l.vec8() {
                        hello.alpn.push(String::from_utf8_lossy(p).chars().take(64).collect());
                    }
                }
            }
            10 => hello.supported_groups = d.vec16().map(u16_list).unwrap_or_default(),
            13 => hello.signature_algorithms = d.vec16().map(u16_list).unwrap_or_default(),
            11 => hello.ec_point_formats = d.vec8().map(<[u8]>::to_vec).unwrap_or_default(),
            43 => {
                if let Some(best) = d.vec8().map(u16_list).and_then(|v| v.into_iter().filter(|v| !is_grease(*v)).max())
                {
                    hello.version = best;
                }
            }
            _ => {}
        }
    }
    hello.ja4 = ja4(&hello);
    hello.ja3 = ja3(&hello);
    hello.ja3_hash = Md5::digest(hello.ja3.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    Some(hello)
}

fn version_code(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        // DTLS (JA4 gives these their own codes).
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

fn sha12(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// JA4 (FoxIO): `t{version}{d|i}{ciphers:02}{extensions:02}{alpn}_{sha(ciphers)}_{sha(exts_sigalgs)}`.
fn ja4(h: &ClientHello) -> String {
    let ciphers: Vec<u16> = h.cipher_suites.iter().copied().filter(|c| !is_grease(*c)).collect();
    let exts: Vec<u16> = h.extensions.iter().copied().filter(|e| !is_grease(*e)).collect();
    let alpn = match h.alpn.first().map(|a| a.as_bytes()) {
        Some([]) | None => "00".to_string(),
        Some(a) => {
            let (first, last) = (a.first().copied().unwrap_or(b'0'), a.last().copied().unwrap_or(b'0'));
            if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() {
                format!("{}{}", char::from(first), char::from(last))
            } else {
                format!("{:x}{:x}", first >> 4, last & 0xf)
            }
        }
    };
    let a = format!(
        "t{}{}{:02}{:02}{alpn}",
        version_code(h.version),
        if h.sni.is_some() { 'd' } else { 'i' },
        ciphers.len().min(99),
        exts.len().min(99)
    );
    let mut sorted_ciphers = ciphers.clone();
    sorted_ciphers.sort_unstable();
    let b = if sorted_ciphers.is_empty() {
        "000000000000".to_string()
    } else {
        sha12(&sorted_ciphers.iter().map(|c| format!("{c:04x}")).collect::<Vec<_>>().join(","))
    };
    let mut sorted_exts: Vec<u16> = exts.iter().copied().filter(|e| *e != 0 && *e != 16).collect();
    sorted_exts.sort_unstable();
    let mut c_text = sorted_exts.iter().map(|e| format!("{e:04x}")).collect::<Vec<_>>().join(",");
    if !h.signature_algorithms.is_empty() {
        c_text.push('_');
        c_text.push_str(&h.signature_algorithms.iter().map(|s| format!("{s:04x}")).collect::<Vec<_>>().join(","));
    }
    let c = if sorted_exts.is_empty() { "000000000000".to_string() } else { sha12(&c_text) };
    format!("{a}_{b}_{c}")
}

/// JA3 string: `version,ciphers,extensions,groups,point_formats` in decimal, GREASE removed.
fn ja3(h: &ClientHello) -> String {
    let join = |v: &[u16]| v.iter().filter(|x| !is_grease(**x)).map(u16::to_string).collect::<Vec<_>>().join("-");
    format!(
        "{},{},{},{},{}",
        h.legacy_version,
        join(&h.cipher_suites),
        join(&h.extensions),
        join(&h.supported_groups),
        h.ec_point_formats.iter().map(u8::to_string).collect::<Vec<_>>().join("-")
    )
}

pub fn parse_server_hello(body: &[u8]) -> Option<ServerHello> {
    let mut c = Cursor::new(body);
    let legacy = c.be16()?;
    c.take(32)?;
    c.vec8()?;
    let cipher_suite = c.be16()?;
    c.u8()?;
    let exts = extensions(&mut c);
    let version = exts.iter().find(|(t, _)| *t == 43).and_then(|(_, d)| be16(d, 0)).unwrap_or(legacy);
    Some(ServerHello { version, cipher_suite, extensions: exts.iter().map(|(t, _)| *t).collect() })
}
