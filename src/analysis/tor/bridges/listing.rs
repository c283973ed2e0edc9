//! What the bridge index holds (dated listings of bridge addresses and of DNS names) and the rule
//! that derives them from the dated configuration files.
//!
//! # When is something "built in"?
//!
//! Items: a bridge (transport, address:port, fingerprint) of a line with a real address
//! (obfs4, obfs3, scramblesuit, fte, webtunnel, … — not meek or snowflake, whose addresses are
//! placeholders, nor any address in 0.0.0.0/8, 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 or
//! 2001:db8::/32), and a name: a `front=` / `fronts=` domain (the TLS SNI), the host of `url=`, a
//! STUN server of `ice=` (per port), or a host in a `ClientTransportPlugin` option (`-url`,
//! `-front(s)`, `-ice`, conjure's `-registerURL`). A name listing also carries the line's
//! `utls-imitate=` / `utls=` value; a change of it starts a new listing.
//!
//! Rule, per transport family (`meek_lite` counts as `meek`):
//! 1. A configuration file *speaks for* a family when it has a bridge line or a
//!    `ClientTransportPlugin` line of that family, or when it is *complete*: a file of an
//!    all-types generation (`bridge_prefs.js`, `pt_config.json`) that lists at least one bridge.
//!    So `bridges_list.obfs4.txt` says nothing about snowflake, and a transport dropped from
//!    `bridge_prefs.js` (fte, obfs3, scramblesuit in 2017–2019) ends there, while the empty
//!    `bridge_prefs.js` stub of 2022-02-23 ends nothing.
//! 2. Files that speak for the family are ordered by their commit date; files of one date count
//!    as one configuration listing the union of what they list (the order of two commits of a
//!    day is not in the file names; 2019-05-09 and 2024-12-19 have two each).
//! 3. An item is listed from the first date whose configuration lists it (`first_listed`) until
//!    the first later date, speaking for its family, whose configuration does not
//!    (`removed`, exclusive; `None` = still listed in the newest file). An item that comes back
//!    gets a second listing.
//!
//! The dates are commits to the build repository: a release carrying the change followed days to
//! weeks later, and users update over the following weeks.
//! Shared with the build script (`relays/build.rs`), so it uses nothing else of the crate.

use super::config::{date_of, family, BridgeLine, Config};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};

/// What a listed name is to its transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NameRole {
    /// meek's `front=`: the domain in the TLS SNI towards the CDN.
    MeekFront,
    /// meek's `url=` host: the real endpoint behind the CDN (in the HTTP Host header).
    MeekUrlHost,
    /// snowflake's `front=` / `fronts=`: the SNI of the broker rendezvous.
    SnowflakeFront,
    /// snowflake's `url=` host: the broker behind the CDN.
    SnowflakeBrokerUrlHost,
    /// snowflake's `ice=` STUN (or TURN) server, with its port.
    SnowflakeStun { port: u16 },
    /// conjure's `-registerURL` host.
    ConjureRegistration,
    /// Another transport's front domain.
    Front,
    /// Another transport's URL host.
    UrlHost,
    /// Another transport's STUN server.
    Stun { port: u16 },
}

impl NameRole {
    /// A short label (`meek front`, `snowflake STUN server`, …).
    pub fn label(self) -> &'static str {
        match self {
            NameRole::MeekFront => "meek front",
            NameRole::MeekUrlHost => "meek URL host",
            NameRole::SnowflakeFront => "snowflake front",
            NameRole::SnowflakeBrokerUrlHost => "snowflake broker URL host",
            NameRole::SnowflakeStun { .. } => "snowflake STUN server",
            NameRole::ConjureRegistration => "conjure registration host",
            NameRole::Front => "front",
            NameRole::UrlHost => "URL host",
            NameRole::Stun { .. } => "STUN server",
        }
    }

    /// The STUN server's port, for the STUN roles.
    pub fn port(self) -> Option<u16> {
        match self {
            NameRole::SnowflakeStun { port } | NameRole::Stun { port } => Some(port),
            _ => None,
        }
    }

    /// Serialised form (`packed.rs`): a code, plus the port for STUN roles.
    pub fn code(self) -> u8 {
        match self {
            NameRole::MeekFront => 0,
            NameRole::MeekUrlHost => 1,
            NameRole::SnowflakeFront => 2,
            NameRole::SnowflakeBrokerUrlHost => 3,
            NameRole::SnowflakeStun { .. } => 4,
            NameRole::ConjureRegistration => 5,
            NameRole::Front => 6,
            NameRole::UrlHost => 7,
            NameRole::Stun { .. } => 8,
        }
    }

    pub fn from_code(code: u8, port: u16) -> Option<NameRole> {
        Some(match code {
            0 => NameRole::MeekFront,
            1 => NameRole::MeekUrlHost,
            2 => NameRole::SnowflakeFront,
            3 => NameRole::SnowflakeBrokerUrlHost,
            4 => NameRole::SnowflakeStun { port },
            5 => NameRole::ConjureRegistration,
            6 => NameRole::Front,
            7 => NameRole::UrlHost,
            8 => NameRole::Stun { port },
            _ => return None,
        })
    }
}

impl std::fmt::Display for NameRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.port() {
            Some(port) => write!(f, "{} (port {port})", self.label()),
            None => f.write_str(self.label()),
        }
    }
}

/// A bridge at a real address, over one listing interval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BridgeListing {
    /// As in the bridge line (`obfs4`, `obfs3`, `scramblesuit`, `fte`, …).
    pub transport: String,
    pub address: SocketAddr,
    /// 40 upper-case hex digits, or empty when the line gives none.
    pub fingerprint: String,
    /// Day number (days since 1970-01-01) of the first configuration listing it.
    pub first_listed: i64,
    /// Day number of the first later configuration without it; `None`: still in the newest.
    pub removed: Option<i64>,
    pub first_listed_date: String,
    pub removed_date: Option<String>,
}

impl BridgeListing {
    pub fn new(
        transport: &str,
        address: SocketAddr,
        fingerprint: &str,
        first_listed: i64,
        removed: Option<i64>,
    ) -> Self {
        BridgeListing {
            transport: transport.to_string(),
            address,
            fingerprint: fingerprint.to_string(),
            first_listed,
            removed,
            first_listed_date: date_of(first_listed),
            removed_date: removed.map(date_of),
        }
    }
}

/// A DNS name (or STUN host) over one listing interval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameListing {
    /// Lower case, without a trailing dot.
    pub name: String,
    pub role: NameRole,
    /// The transport family (`meek`, `snowflake`, `conjure`, …).
    pub transport: String,
    /// The TLS fingerprint the client imitates (`utls-imitate=` / `utls=`), when the line says.
    pub utls: Option<String>,
    pub first_listed: i64,
    pub removed: Option<i64>,
    pub first_listed_date: String,
    pub removed_date: Option<String>,
}

impl NameListing {
    pub fn new(
        name: &str,
        role: NameRole,
        transport: &str,
        utls: Option<&str>,
        first_listed: i64,
        removed: Option<i64>,
    ) -> Self {
        NameListing {
            name: normalise_name(name),
            role,
            transport: transport.to_string(),
            utls: utls.map(str::to_string),
            first_listed,
            removed,
            first_listed_date: date_of(first_listed),
            removed_date: removed.map(date_of),
        }
    }
}

/// Everything the index holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listings {
    /// Configuration files read.
    pub configurations: u32,
    /// Day numbers of the oldest and newest configuration.
    pub first_day: Option<i64>,
    pub last_day: Option<i64>,
    /// Sorted by address, then first listing.
    pub bridges: Vec<BridgeListing>,
    /// Sorted by name, then first listing.
    pub names: Vec<NameListing>,
}

impl Listings {
    /// Restores the orders the lookups rely on.
    pub fn sort(&mut self) {
        self.bridges.sort_by(|a, b| {
            (a.address, a.first_listed, &a.transport, &a.fingerprint).cmp(&(
                b.address,
                b.first_listed,
                &b.transport,
                &b.fingerprint,
            ))
        });
        self.names.sort_by(|a, b| (&a.name, a.first_listed, a.role).cmp(&(&b.name, b.first_listed, b.role)));
    }
}

/// Lower case, without a trailing dot: how names are stored and looked up.
pub fn normalise_name(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Addresses of documentation ranges and "this network": meek/snowflake/webtunnel placeholders.
pub fn is_placeholder(address: SocketAddr) -> bool {
    let documentation = match address.ip() {
        IpAddr::V4(ip) => {
            let o = ip.octets();
            o[0] == 0 || matches!((o[0], o[1], o[2]), (192, 0, 2) | (198, 51, 100) | (203, 0, 113))
        }
        IpAddr::V6(ip) => ip.is_unspecified() || ip.segments()[..2] == [0x2001, 0x0db8],
    };
    documentation || address.port() == 0
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum NameKind {
    Front,
    Url,
    Registration,
    Stun(u16),
}

fn role(family: &str, kind: NameKind) -> NameRole {
    match (family, kind) {
        ("meek", NameKind::Front) => NameRole::MeekFront,
        ("meek", NameKind::Url) => NameRole::MeekUrlHost,
        ("snowflake", NameKind::Front) => NameRole::SnowflakeFront,
        ("snowflake", NameKind::Url) => NameRole::SnowflakeBrokerUrlHost,
        ("snowflake", NameKind::Stun(port)) => NameRole::SnowflakeStun { port },
        ("conjure", NameKind::Registration) => NameRole::ConjureRegistration,
        (_, NameKind::Front) => NameRole::Front,
        (_, NameKind::Url | NameKind::Registration) => NameRole::UrlHost,
        (_, NameKind::Stun(port)) => NameRole::Stun { port },
    }
}

/// The host of an URL (`https://host[:port]/path` → `host`), lower case.
pub fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    let host =
        if let Some(v6) = host_port.strip_prefix('[') { v6.split(']').next()? } else { host_port.split(':').next()? };
    let host = normalise_name(host);
    (!host.is_empty()).then_some(host)
}

/// `stun:host[:port]` (also `stuns:`, `turn:`, `turns:`) → host and port (default 3478, 5349
/// for the TLS schemes).
pub fn ice_server(entry: &str) -> Option<(String, u16)> {
    let (scheme, rest) = entry.split_once(':')?;
    let default = match scheme.to_ascii_lowercase().as_str() {
        "stun" | "turn" => 3478,
        "stuns" | "turns" => 5349,
        _ => return None,
    };
    let rest = rest.trim_start_matches("//").split('?').next()?;
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    let port = match port {
        Some(p) => p.parse().ok()?,
        None => default,
    };
    let host = normalise_name(host);
    (!host.is_empty()).then_some((host, port))
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Item {
    Bridge { transport: String, address: SocketAddr, fingerprint: String },
    Name { name: String, kind: NameKind, utls: Option<String> },
}

/// `(family, item)` pairs of one file; `Err` is `line: reason`.
fn items(config: &Config) -> Result<Vec<(String, Item)>, (usize, String)> {
    let mut out = Vec::new();
    let names = |out: &mut Vec<(String, Item)>,
                 fam: &str,
                 line: usize,
                 get: &dyn Fn(&str) -> Option<String>|
     -> Result<(), (usize, String)> {
        let utls = get("utls-imitate").or_else(|| get("utls")).filter(|u| !u.is_empty());
        let mut push = |name: String, kind: NameKind| {
            let utls = if matches!(kind, NameKind::Stun(_)) { None } else { utls.clone() };
            out.push((fam.to_string(), Item::Name { name, kind, utls }));
        };
        for key in ["front", "fronts"] {
            for front in get(key).iter().flat_map(|v| v.split(',').map(str::to_string).collect::<Vec<_>>()) {
                let front = normalise_name(&front);
                if !front.is_empty() {
                    push(front, NameKind::Front);
                }
            }
        }
        for (key, kind) in [("url", NameKind::Url), ("registerurl", NameKind::Registration)] {
            if let Some(url) = get(key) {
                let host = url_host(&url).ok_or((line, format!("{key}: no host in `{url}`")))?;
                push(host, kind);
            }
        }
        if let Some(ice) = get("ice") {
            for entry in ice.split(',').filter(|e| !e.is_empty()) {
                let (host, port) = ice_server(entry).ok_or((line, format!("ice: cannot read `{entry}`")))?;
                push(host, NameKind::Stun(port));
            }
        }
        Ok(())
    };
    for b in &config.bridges {
        let fam = family(&b.transport);
        if !matches!(fam, "meek" | "snowflake") && !is_placeholder(b.address) {
            out.push((
                fam.to_string(),
                Item::Bridge {
                    transport: b.transport.clone(),
                    address: b.address,
                    fingerprint: b.fingerprint.clone().unwrap_or_default(),
                },
            ));
        }
        let get = |k: &str| -> Option<String> { bridge_arg(b, k) };
        names(&mut out, fam, b.line, &get)?;
    }
    for p in &config.plugins {
        let Some(transport) = p.transports.first() else { continue };
        let get = |k: &str| -> Option<String> { p.option(k).map(str::to_string) };
        names(&mut out, family(transport), p.line, &get)?;
    }
    Ok(out)
}

fn bridge_arg(b: &BridgeLine, key: &str) -> Option<String> {
    b.args.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.clone())
}

/// The families a file speaks for (rule 1); `None` = every family (a complete file).
fn speaks_for(config: &Config) -> Option<BTreeSet<String>> {
    if config.is_complete() {
        return None;
    }
    let mut out: BTreeSet<String> = config.bridges.iter().map(|b| family(&b.transport).to_string()).collect();
    out.extend(config.plugins.iter().flat_map(|p| p.transports.iter().map(|t| family(t).to_string())));
    Some(out)
}

/// Compiles dated configurations into listings (see the module documentation for the rule).
/// Errors read `file:line: reason`.
pub fn compile(configs: &[Config]) -> Result<Listings, String> {
    let mut per_config = Vec::new();
    let mut families = BTreeSet::new();
    for c in configs {
        let items = items(c).map_err(|(line, reason)| format!("{}:{line}: {reason}", c.file))?;
        families.extend(items.iter().map(|(f, _)| f.clone()));
        per_config.push((c.day, speaks_for(c), items));
    }
    let mut listings = Listings {
        configurations: u32::try_from(configs.len()).unwrap_or(u32::MAX),
        first_day: configs.iter().map(|c| c.day).min(),
        last_day: configs.iter().map(|c| c.day).max(),
        ..Listings::default()
    };
    for fam in &families {
        // Rule 2: one configuration per date, the union of that date's files.
        let mut days: BTreeMap<i64, BTreeSet<&Item>> = BTreeMap::new();
        for (day, speaks, items) in &per_config {
            if speaks.as_ref().is_some_and(|s| !s.contains(fam)) {
                continue;
            }
            days.entry(*day).or_default().extend(items.iter().filter(|(f, _)| f == fam).map(|(_, i)| i));
        }
        // Rule 3.
        let mut open: BTreeMap<&Item, i64> = BTreeMap::new();
        let mut closed: Vec<(&Item, i64, Option<i64>)> = Vec::new();
        for (day, present) in &days {
            open.retain(|item, first| {
                let keep = present.contains(item);
                if !keep {
                    closed.push((item, *first, Some(*day)));
                }
                keep
            });
            for item in present {
                open.entry(item).or_insert(*day);
            }
        }
        closed.extend(open.into_iter().map(|(item, first)| (item, first, None)));
        for (item, first, removed) in closed {
            match item {
                Item::Bridge { transport, address, fingerprint } => {
                    listings.bridges.push(BridgeListing::new(transport, *address, fingerprint, first, removed));
                }
                Item::Name { name, kind, utls } => {
                    listings.names.push(NameListing::new(name, role(fam, *kind), fam, utls.as_deref(), first, removed))
                }
            }
        }
    }
    listings.sort();
    Ok(listings)
}

#[cfg(test)]
mod tests {
    use super::super::config::parse;
    use super::*;

    #[test]
    fn hosts_and_stun_servers() {
        assert_eq!(url_host("https://meek.azureedge.net/").as_deref(), Some("meek.azureedge.net"));
        assert_eq!(url_host("https://1603026938.rsc.cdn77.org").as_deref(), Some("1603026938.rsc.cdn77.org"));
        assert_eq!(
            url_host("https://Registration.Refraction.network:443/api").as_deref(),
            Some("registration.refraction.network")
        );
        assert_eq!(ice_server("stun:stun.l.google.com:19302"), Some(("stun.l.google.com".into(), 19302)));
        assert_eq!(ice_server("stun:stun.example.org"), Some(("stun.example.org".into(), 3478)));
        assert_eq!(ice_server("stun:[2001:db8::1]:3479"), Some(("2001:db8::1".into(), 3479)));
        assert_eq!(ice_server("http://x"), None);
        assert!(is_placeholder("192.0.2.3:80".parse().unwrap()));
        assert!(is_placeholder("0.0.2.0:2".parse().unwrap()));
        assert!(is_placeholder("[2001:db8::5]:443".parse().unwrap()));
        assert!(!is_placeholder("192.95.36.142:443".parse().unwrap()));
    }

    fn cfg(name: &str, text: &str) -> Config {
        parse(name, text).unwrap()
    }

    #[test]
    fn intervals_follow_the_files_that_speak_for_a_family() {
        let a = "pref(\"extensions.torlauncher.default_bridge.obfs4.1\", \"obfs4 1.1.1.1:443 CDF2E852BF539B82BD10E27E9115A31734E378C2\");\n\
                 pref(\"extensions.torlauncher.default_bridge.fte.1\", \"fte 2.2.2.2:8080\");\n\
                 pref(\"extensions.torlauncher.default_bridge.meek-azure.1\", \"meek_lite 192.0.2.2:2 url=https://meek.azureedge.net/ front=ajax.aspnetcdn.com\");\n";
        // fte dropped from a complete file: it ends here.
        let b = "pref(\"extensions.torlauncher.default_bridge.obfs4.1\", \"obfs4 1.1.1.1:443 CDF2E852BF539B82BD10E27E9115A31734E378C2\");\n\
                 pref(\"extensions.torlauncher.default_bridge.meek-azure.1\", \"meek_lite 192.0.2.2:2 url=https://meek.azureedge.net/ front=ajax.aspnetcdn.com\");\n";
        let configs = [
            cfg("2017-01-01_a_bridge_prefs.js", a),
            cfg("2018-01-01_b_bridge_prefs.js", b),
            // The empty stub says nothing.
            cfg(
                "2022-02-23_c_bridge_prefs.js",
                "pref(\"extensions.torlauncher.default_bridge_recommended_type\", \"obfs4\");\n",
            ),
            // A per-type list speaks for obfs4 only: meek stays listed.
            cfg("2022-02-23_c_bridges_list.obfs4.txt", "obfs4 3.3.3.3:443\n"),
            // Two files of one date: their union.
            cfg("2023-01-01_d_bridges_list.obfs4.txt", "obfs4 3.3.3.3:443\n"),
            cfg("2023-01-01_e_bridges_list.obfs4.txt", "obfs4 1.1.1.1:443 CDF2E852BF539B82BD10E27E9115A31734E378C2\n"),
        ];
        let l = compile(&configs).unwrap();
        let day = |d| super::super::config::day_of(d).unwrap();
        let at = |a: &str| l.bridges.iter().filter(|b| b.address == a.parse().unwrap()).collect::<Vec<_>>();
        assert_eq!(at("2.2.2.2:8080")[0].removed, Some(day("2018-01-01")));
        let one = at("1.1.1.1:443");
        assert_eq!(one.len(), 2, "{one:?}");
        assert_eq!((one[0].first_listed, one[0].removed), (day("2017-01-01"), Some(day("2022-02-23"))));
        assert_eq!((one[1].first_listed, one[1].removed_date.as_deref()), (day("2023-01-01"), None));
        assert_eq!(at("3.3.3.3:443")[0].first_listed_date, "2022-02-23");
        let front = l.names.iter().find(|n| n.name == "ajax.aspnetcdn.com").unwrap();
        assert_eq!((front.role, front.transport.as_str(), front.removed), (NameRole::MeekFront, "meek", None));
        assert_eq!((l.configurations, l.first_day, l.last_day), (6, Some(day("2017-01-01")), Some(day("2023-01-01"))));
    }
}
