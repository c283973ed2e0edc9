//! Relay-list documents → relay records. Four formats, each dated from the document itself:
//! network-status consensus (full `ns` and microdesc flavours; `valid-after`), Onionoo `details`
//! JSON (`relays_published`), TorDNSEL exit lists (newest `LastStatus`) and plain IP lists (a
//! `# Last updated:` comment, else a YYYY-MM-DD in the file name). Shared with the build script.
//! References: dir-spec.txt §3.4.1 (consensus), Onionoo protocol (details documents),
//! TorDNSEL's exit-addresses format.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// Relay flags, as bits (the ones a verdict or an analyst cares about).
pub mod flags {
    pub const EXIT: u16 = 1;
    pub const GUARD: u16 = 2;
    pub const AUTHORITY: u16 = 4;
    pub const BAD_EXIT: u16 = 8;
    pub const FAST: u16 = 16;
    pub const STABLE: u16 = 32;
    pub const HSDIR: u16 = 64;
    pub const V2DIR: u16 = 128;
    pub const RUNNING: u16 = 256;
    pub const VALID: u16 = 512;
    pub const MIDDLE_ONLY: u16 = 1024;
    pub const NAMES: [(u16, &str); 11] = [
        (EXIT, "Exit"),
        (GUARD, "Guard"),
        (AUTHORITY, "Authority"),
        (BAD_EXIT, "BadExit"),
        (FAST, "Fast"),
        (STABLE, "Stable"),
        (HSDIR, "HSDir"),
        (V2DIR, "V2Dir"),
        (RUNNING, "Running"),
        (VALID, "Valid"),
        (MIDDLE_ONLY, "MiddleOnly"),
    ];

    pub fn from_name(name: &str) -> u16 {
        NAMES.iter().find(|(_, n)| *n == name).map_or(0, |(b, _)| *b)
    }

    pub fn names(bits: u16) -> Vec<&'static str> {
        NAMES.iter().filter(|(b, _)| bits & b != 0).map(|(_, n)| *n).collect()
    }
}

/// What a listed port is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PortKind {
    /// The address is listed with no port (plain IP lists, exit addresses).
    AddressOnly = 0,
    OrPort = 1,
    DirPort = 2,
}

impl PortKind {
    pub fn from_u8(v: u8) -> PortKind {
        match v {
            1 => PortKind::OrPort,
            2 => PortKind::DirPort,
            _ => PortKind::AddressOnly,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListKind {
    Consensus,
    MicrodescConsensus,
    Onionoo,
    ExitList,
    IpList,
}

impl ListKind {
    pub fn name(self) -> &'static str {
        match self {
            ListKind::Consensus => "consensus",
            ListKind::MicrodescConsensus => "microdesc-consensus",
            ListKind::Onionoo => "onionoo",
            ListKind::ExitList => "tordnsel-exit-list",
            ListKind::IpList => "ip-list",
        }
    }

    pub fn from_u8(v: u8) -> ListKind {
        match v {
            0 => ListKind::Consensus,
            1 => ListKind::MicrodescConsensus,
            2 => ListKind::Onionoo,
            3 => ListKind::ExitList,
            _ => ListKind::IpList,
        }
    }

    pub fn to_u8(self) -> u8 {
        match self {
            ListKind::Consensus => 0,
            ListKind::MicrodescConsensus => 1,
            ListKind::Onionoo => 2,
            ListKind::ExitList => 3,
            ListKind::IpList => 4,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Relay {
    pub nickname: String,
    /// 40 upper-case hex digits, or empty when the list does not say.
    pub fingerprint: String,
    pub country: String,
    pub flags: u16,
    pub endpoints: Vec<(IpAddr, u16, PortKind)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelayList {
    /// File name of the source document.
    pub source: String,
    pub kind: ListKind,
    /// Days since 1970-01-01 (UTC) of the document's date; None when it carries none.
    pub day: Option<i64>,
    /// The date as the document gives it (for display).
    pub date: Option<String>,
    pub relays: Vec<Relay>,
}

/// `file:line: reason`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListError {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for ListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.reason)
    }
}

impl std::error::Error for ListError {}

/// Days since the epoch of a `YYYY-MM-DD` prefix (the rest of the text is ignored).
pub fn day_of(text: &str) -> Option<i64> {
    let t = text.trim();
    let y: i64 = t.get(0..4)?.parse().ok()?;
    let m: i64 = t.get(5..7)?.parse().ok()?;
    let d: i64 = t.get(8..10)?.parse().ok()?;
    if t.get(4..5)? != "-" || t.get(7..8)? != "-" || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + (153 * mp + 2) / 5 + d - 1;
    Some(era * 146_097 + doe - 719_468)
}

/// Recognises the format from the content and parses it.
pub fn parse(source: &str, text: &str) -> Result<RelayList, ListError> {
    let start = text.trim_start();
    if start.starts_with('{') {
        parse_onionoo(source, text)
    } else if text.lines().take(50).any(|l| l.starts_with("network-status-version")) {
        parse_consensus(source, text)
    } else if text.lines().take(20).any(|l| l.starts_with("ExitNode ")) {
        parse_exit_list(source, text)
    } else {
        parse_ip_list(source, text)
    }
}

fn err(source: &str, line: usize, reason: impl Into<String>) -> ListError {
    ListError { file: source.to_string(), line, reason: reason.into() }
}

/// Base64 (unpadded, standard alphabet) → bytes.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn parse_ip(source: &str, line: usize, text: &str) -> Result<IpAddr, ListError> {
    text.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| err(source, line, format!("`{text}` is not an IP address")))
}

fn parse_port(source: &str, line: usize, text: &str) -> Result<u16, ListError> {
    text.parse().map_err(|_| err(source, line, format!("`{text}` is not a port number")))
}

fn parse_consensus(source: &str, text: &str) -> Result<RelayList, ListError> {
    let mut kind = ListKind::Consensus;
    let mut date = None;
    let mut relays: Vec<Relay> = Vec::new();
    let mut authorities: Vec<(String, String, IpAddr, u16, u16)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let lineno = n + 1;
        let mut parts = line.split_whitespace();
        let Some(keyword) = parts.next() else { continue };
        let args: Vec<&str> = parts.collect();
        match keyword {
            "network-status-version" if args.get(1) == Some(&"microdesc") => {
                kind = ListKind::MicrodescConsensus;
            }
            "valid-after" => {
                let value = args.join(" ");
                if day_of(&value).is_none() {
                    return Err(err(source, lineno, format!("valid-after `{value}` is not a date")));
                }
                date = Some(value);
            }
            "dir-source" => {
                // dir-source nickname identity hostname IP dirport orport
                if let [nick, id, _host, ip, dirport, orport, ..] = args.as_slice() {
                    let ip = parse_ip(source, lineno, ip)?;
                    authorities.push((
                        nick.trim_end_matches("-legacy").to_string(),
                        id.to_string(),
                        ip,
                        parse_port(source, lineno, dirport)?,
                        parse_port(source, lineno, orport)?,
                    ));
                } else {
                    return Err(err(source, lineno, "dir-source needs nickname, identity, host, IP, DirPort, ORPort"));
                }
            }
            "r" => {
                // ns:       r nickname identity digest date time IP ORPort DirPort
                // microdesc: r nickname identity date time IP ORPort DirPort
                let (nickname, identity, ip, orport, dirport) = match args.as_slice() {
                    [nick, id, _, _, _, ip, or, dir] | [nick, id, _, _, ip, or, dir] => (*nick, *id, *ip, *or, *dir),
                    _ => {
                        return Err(err(
                            source,
                            lineno,
                            format!("an `r` line has {} fields, expected 7 or 8", args.len()),
                        ))
                    }
                };
                let id = base64_decode(identity)
                    .filter(|b| b.len() == 20)
                    .ok_or_else(|| err(source, lineno, format!("identity `{identity}` is not 20 bytes of base64")))?;
                let ip = parse_ip(source, lineno, ip)?;
                let orport = parse_port(source, lineno, orport)?;
                let dirport = parse_port(source, lineno, dirport)?;
                let mut endpoints = vec![(ip, orport, PortKind::OrPort)];
                if dirport != 0 {
                    endpoints.push((ip, dirport, PortKind::DirPort));
                }
                relays.push(Relay {
                    nickname: nickname.to_string(),
                    fingerprint: hex_upper(&id),
                    endpoints,
                    ..Relay::default()
                });
            }
            "a" => {
                let Some(relay) = relays.last_mut() else {
                    return Err(err(source, lineno, "an `a` line before any `r` line"));
                };
                let addr = args.first().copied().unwrap_or("");
                let sa: SocketAddr =
                    addr.parse().map_err(|_| err(source, lineno, format!("`{addr}` is not an [address]:port")))?;
                relay.endpoints.push((sa.ip(), sa.port(), PortKind::OrPort));
            }
            "s" => {
                if let Some(relay) = relays.last_mut() {
                    relay.flags = args.iter().fold(0, |acc, f| acc | flags::from_name(f));
                }
            }
            _ => {}
        }
    }
    // Authorities are relays too (with their `r` line); their dir-source adds the DirPort and
    // marks them, which matters for directory traffic.
    for (nick, id, ip, dirport, orport) in authorities {
        match relays
            .iter_mut()
            .find(|r| r.fingerprint == id || (r.nickname == nick && r.endpoints.iter().any(|e| e.0 == ip)))
        {
            Some(r) => {
                r.flags |= flags::AUTHORITY;
                if dirport != 0 && !r.endpoints.contains(&(ip, dirport, PortKind::DirPort)) {
                    r.endpoints.push((ip, dirport, PortKind::DirPort));
                }
            }
            None => relays.push(Relay {
                nickname: nick,
                fingerprint: String::new(),
                flags: flags::AUTHORITY,
                endpoints: [(ip, orport, PortKind::OrPort), (ip, dirport, PortKind::DirPort)]
                    .into_iter()
                    .filter(|e| e.1 != 0)
                    .collect(),
                ..Relay::default()
            }),
        }
    }
    let day = date.as_deref().and_then(day_of);
    if day.is_none() {
        return Err(err(source, 1, "the consensus has no valid-after line, so its date is unknown"));
    }
    Ok(RelayList { source: source.to_string(), kind, day, date, relays })
}

// serde_json's `value["key"]` yields Null for a missing key or a non-object; it never panics.
#[allow(clippy::indexing_slicing)]
fn parse_onionoo(source: &str, text: &str) -> Result<RelayList, ListError> {
    let doc: serde_json::Value =
        serde_json::from_str(text).map_err(|e| err(source, e.line(), format!("not valid JSON: {e}")))?;
    let date = doc["relays_published"].as_str().map(str::to_string);
    let day = date.as_deref().and_then(day_of);
    let list =
        doc["relays"].as_array().ok_or_else(|| err(source, 1, "an Onionoo details document needs a `relays` array"))?;
    let mut relays = Vec::with_capacity(list.len());
    for r in list {
        let mut endpoints = Vec::new();
        for a in r["or_addresses"].as_array().map(Vec::as_slice).unwrap_or_default() {
            let text = a.as_str().unwrap_or("");
            let sa: SocketAddr =
                text.parse().map_err(|_| err(source, 1, format!("or_address `{text}` is not address:port")))?;
            endpoints.push((sa.ip(), sa.port(), PortKind::OrPort));
        }
        if let Some(dir) = r["dir_address"].as_str() {
            if let Ok(sa) = dir.parse::<SocketAddr>() {
                endpoints.push((sa.ip(), sa.port(), PortKind::DirPort));
            }
        }
        for a in r["exit_addresses"].as_array().map(Vec::as_slice).unwrap_or_default() {
            if let Ok(ip) = a.as_str().unwrap_or("").parse::<IpAddr>() {
                endpoints.push((ip, 0, PortKind::AddressOnly));
            }
        }
        let flag_bits = r["flags"]
            .as_array()
            .map(|f| f.iter().fold(0, |acc, f| acc | flags::from_name(f.as_str().unwrap_or(""))))
            .unwrap_or(0);
        relays.push(Relay {
            nickname: r["nickname"].as_str().unwrap_or("").to_string(),
            fingerprint: r["fingerprint"].as_str().unwrap_or("").to_ascii_uppercase(),
            country: r["country"].as_str().unwrap_or("").to_ascii_lowercase(),
            flags: flag_bits,
            endpoints,
        });
    }
    Ok(RelayList { source: source.to_string(), kind: ListKind::Onionoo, day, date, relays })
}

fn parse_exit_list(source: &str, text: &str) -> Result<RelayList, ListError> {
    let mut relays: Vec<Relay> = Vec::new();
    let mut newest: Option<String> = None;
    for (n, line) in text.lines().enumerate() {
        let lineno = n + 1;
        let mut parts = line.splitn(2, ' ');
        let (key, value) = (parts.next().unwrap_or(""), parts.next().unwrap_or("").trim());
        match key {
            "ExitNode" => {
                relays.push(Relay { fingerprint: value.to_ascii_uppercase(), flags: flags::EXIT, ..Relay::default() })
            }
            "LastStatus" => {
                if day_of(value).is_none() {
                    return Err(err(source, lineno, format!("LastStatus `{value}` is not a date")));
                }
                if newest.as_deref().is_none_or(|n| value > n) {
                    newest = Some(value.to_string());
                }
            }
            "ExitAddress" => {
                let ip_text = value.split_whitespace().next().unwrap_or("");
                let ip = parse_ip(source, lineno, ip_text)?;
                let relay = relays.last_mut().ok_or_else(|| err(source, lineno, "ExitAddress before any ExitNode"))?;
                relay.endpoints.push((ip, 0, PortKind::AddressOnly));
            }
            _ => {}
        }
    }
    let day = newest.as_deref().and_then(day_of);
    Ok(RelayList { source: source.to_string(), kind: ListKind::ExitList, day, date: newest, relays })
}

fn parse_ip_list(source: &str, text: &str) -> Result<RelayList, ListError> {
    let exits = source.to_ascii_lowercase().contains("exit");
    let mut date = None;
    let mut relays = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if let Some(comment) = line.strip_prefix('#') {
            if let Some(d) = comment.trim().strip_prefix("Last updated:") {
                date = Some(d.trim().to_string());
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        let ip = parse_ip(source, n + 1, line.split_whitespace().next().unwrap_or(""))?;
        relays.push(Relay {
            flags: if exits { flags::EXIT } else { 0 },
            endpoints: vec![(ip, 0, PortKind::AddressOnly)],
            ..Relay::default()
        });
    }
    // No date inside: take the YYYY-MM-DD the file is named with, as lists are published.
    if date.is_none() {
        let name = source.rsplit('/').next().unwrap_or(source);
        date = (0..name.len().saturating_sub(9)).find_map(|i| {
            let candidate = name.get(i..i + 10)?;
            day_of(candidate).map(|_| candidate.to_string())
        });
    }
    let day = date.as_deref().and_then(day_of);
    Ok(RelayList { source: source.to_string(), kind: ListKind::IpList, day, date, relays })
}
