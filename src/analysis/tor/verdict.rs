//! Verdicts: conclusions drawn only from evidence. Thresholds are named, with their reasons.

use super::evidence::{End, Evidence, RelayMatch};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// A Tor link (OR) connection.
    Tor,
    /// A plain-HTTP request to a relay's or authority's DirPort.
    TorDirectory,
    /// A pluggable transport (bridge) is suspected.
    TorTransport,
    /// An exit relay connecting out to a service: a Tor user reaching this server.
    TorExit,
    None,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Tor => "tor",
            Verdict::TorDirectory => "tor-directory",
            Verdict::TorTransport => "tor-transport",
            Verdict::TorExit => "tor-exit",
            Verdict::None => "none",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn name(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// A relay list this many days from the packets still supports a medium-confidence verdict:
/// most relays keep their address and ORPort for months (Tor Metrics' relay-stability data),
/// but the further the list, the more addresses have changed hands.
pub const NEAR_LIST_DAYS: i64 = 31;

#[derive(Clone, Debug, PartialEq)]
pub struct Conclusion {
    pub verdict: Verdict,
    pub confidence: Option<Confidence>,
    pub explanation: String,
}

fn dated(m: &RelayMatch) -> String {
    let name = if m.nickname.is_empty() { String::new() } else { format!(" {}", m.nickname) };
    let when = match (m.list_date.as_deref(), m.day_gap) {
        (Some(d), Some(0)) => format!("{d}, the capture's day"),
        (Some(d), Some(g)) if g < 0 => format!("{d}, {} days before the capture", -g),
        (Some(d), Some(g)) => format!("{d}, {g} days after the capture"),
        _ => "an undated list".to_string(),
    };
    format!("relay{name} in the {} of {when}", m.list_kind)
}

fn end_name(end: End) -> &'static str {
    match end {
        End::Client => "client",
        End::Server => "server",
    }
}

fn list_confidence(m: &RelayMatch) -> Confidence {
    match m.day_gap.map(i64::abs) {
        Some(g) if g <= 1 => Confidence::High,
        Some(g) if g <= NEAR_LIST_DAYS => Confidence::Medium,
        _ => Confidence::Low,
    }
}

/// Draws the verdict of one flow from its evidence.
pub fn conclude(evidence: &[Evidence]) -> Conclusion {
    let mut best: Option<(Verdict, Confidence, String)> = None;
    let mut consider = |v: Verdict, c: Confidence, why: String| {
        if best.as_ref().is_none_or(|(_, bc, _)| c > *bc) {
            best = Some((v, c, why));
        }
    };
    for e in evidence {
        match e {
            Evidence::RelayOrport(m) => consider(
                Verdict::Tor,
                list_confidence(m),
                format!("{} {} is the ORPort of {}", end_name(m.endpoint), m.address, dated(m)),
            ),
            Evidence::RelayDirport(m) => consider(
                Verdict::TorDirectory,
                list_confidence(m),
                format!("{} {} is the DirPort of {}", end_name(m.endpoint), m.address, dated(m)),
            ),
            Evidence::RelayAddress(m) if m.endpoint == End::Client && m.is_exit() => consider(
                Verdict::TorExit,
                list_confidence(m).min(Confidence::Medium),
                format!("client {} is an exit: {}", m.address.ip(), dated(m)),
            ),
            // An address-only match alone is not enough: relays share addresses with ordinary
            // servers. It supports other evidence (see the evidence list) but decides nothing.
            Evidence::RelayAddress(_) => {}
        }
    }
    match best {
        Some((verdict, confidence, why)) => Conclusion { verdict, confidence: Some(confidence), explanation: why },
        None => Conclusion { verdict: Verdict::None, confidence: None, explanation: String::new() },
    }
}
