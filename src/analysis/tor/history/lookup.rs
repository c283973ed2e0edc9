//! "Was it a relay?" without a capture: one answer per `ADDRESS[:PORT]`, on a day or over the
//! whole history. The CLI (`torsift lookup`) and the page's lookup box print the same object.

use super::{tsv, DayAnswer, Presence, RelayHistory, SourceOnDay};
use serde::Serialize;
use std::net::{IpAddr, SocketAddr};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Lookup {
    pub address: String,
    /// With a port, the answer is about address+ORPort (sources that give ORPorts only).
    pub port: Option<u16>,
    pub date: Option<String>,
    /// On `date`: `true` listed, `false` not listed although a source of every relay had a
    /// snapshot that day, `null` no such snapshot ("no data for that day", never "not a
    /// relay"). Without a date: whether any run of the history lists it.
    pub listed: Option<bool>,
    /// Every run of days in the loaded history, by first day.
    pub intervals: Vec<Presence>,
    /// On `date`: the sources that listed it or had a snapshot that day.
    pub sources: Vec<SourceOnDay>,
    /// A sentence for people.
    pub answer: String,
}

/// `1.2.3.4`, `1.2.3.4:9001`, `2001:db8::1`, `[2001:db8::1]:443`.
pub fn parse_endpoint(text: &str) -> Result<(IpAddr, Option<u16>), String> {
    let text = text.trim();
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok((ip, None));
    }
    if let Ok(sa) = text.parse::<SocketAddr>() {
        return Ok((sa.ip(), Some(sa.port())));
    }
    Err(format!("`{text}` is not an address or address:port (IPv6 with a port: [2001:db8::1]:443)"))
}

/// `YYYY-MM-DD` → day number, with a message that says what to type.
pub fn parse_date(text: &str) -> Result<i64, String> {
    tsv::parse_day(text.trim()).ok_or_else(|| format!("`{text}` is not a date: use YYYY-MM-DD"))
}

/// The years a lookup on `day` needs loaded (the page fetches only these).
pub fn years_for(day: Option<i64>) -> Option<i64> {
    day.map(|d| tsv::civil(d).0)
}

#[inline(never)] // one copy: it is called from loops the optimiser would unroll
pub fn lookup(history: &RelayHistory, endpoint: &str, day: Option<i64>) -> Result<Lookup, String> {
    let (ip, port) = parse_endpoint(endpoint)?;
    let intervals = history.presences(ip, port);
    let what = match port {
        Some(p) => format!("{}:{p}", if ip.is_ipv6() { format!("[{ip}]") } else { ip.to_string() }),
        None => ip.to_string(),
    };
    let kind = if port.is_some() { "a relay's ORPort" } else { "a relay address" };
    let (listed, sources, answer) = match day {
        Some(day) => {
            let DayAnswer { listed, sources } = history.on_day(ip, port, day);
            let date = tsv::format_day(day);
            let listing: Vec<&str> = sources.iter().filter(|s| s.listed).map(|s| s.source.as_str()).collect();
            let answer = match listed {
                Some(true) => format!("{what} was {kind} on {date}: listed by {}", listing.join(", ")),
                Some(false) => format!(
                    "{what} was not {kind} on {date}: {} had a snapshot of every relay that day and did not list it",
                    sources
                        .iter()
                        .filter(|s| s.snapshot && s.lists == "all relays")
                        .map(|s| s.source.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None => format!(
                    "no data for {date}: no source {}had a snapshot of every relay that day, so the history cannot say",
                    if port.is_some() { "with ORPorts " } else { "" }
                ),
            };
            (listed, sources, answer)
        }
        None => {
            let answer = match (intervals.first(), intervals.last()) {
                (Some(first), Some(last)) => format!(
                    "{what} was {kind} in {} runs of days between {} and {}",
                    intervals.len(),
                    tsv::format_day(first.first_day),
                    tsv::format_day(intervals.iter().map(|p| p.last_day).max().unwrap_or(last.last_day))
                ),
                _ => format!("{what} is in no run of the loaded history"),
            };
            let listed = (!history.is_empty()).then_some(!intervals.is_empty());
            (listed, Vec::new(), answer)
        }
    };
    Ok(Lookup { address: ip.to_string(), port, date: day.map(tsv::format_day), listed, intervals, sources, answer })
}
