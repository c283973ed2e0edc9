//! The bridge index as the build script writes it and the runtime reads it: tab-separated text
//! (a few hundred lines; gzip makes it a few KB), one listing per line.
//!
//! ```text
//! configurations  <files>  <first day>  <last day>
//! bridge  <transport>  <address:port>  <fingerprint or ->  <first listed day>  <removed day or ->
//! name    <name>  <role code>  <port>  <family>  <utls or ->  <first listed day>  <removed day or ->
//! ```
//! Shared with the build script (`relays/build.rs`), so it uses nothing else of the crate.

use super::listing::{BridgeListing, Listings, NameListing, NameRole};
use std::fmt::Write;

fn opt(v: Option<impl ToString>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

pub fn write(l: &Listings) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "configurations\t{}\t{}\t{}", l.configurations, opt(l.first_day), opt(l.last_day));
    for b in &l.bridges {
        let fingerprint = if b.fingerprint.is_empty() { "-" } else { b.fingerprint.as_str() };
        let _ = writeln!(
            out,
            "bridge\t{}\t{}\t{fingerprint}\t{}\t{}",
            b.transport,
            b.address,
            b.first_listed,
            opt(b.removed)
        );
    }
    for n in &l.names {
        let _ = writeln!(
            out,
            "name\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            n.name,
            n.role.code(),
            n.role.port().unwrap_or(0),
            n.transport,
            opt(n.utls.as_deref()),
            n.first_listed,
            opt(n.removed)
        );
    }
    out
}

pub fn read(text: &str) -> Result<Listings, String> {
    let mut l = Listings::default();
    for (i, line) in text.lines().enumerate() {
        let bad = |what: &str| format!("bridge index line {}: {what}: {line}", i + 1);
        let f: Vec<&str> = line.split('\t').collect();
        let day = |s: &str| -> Result<Option<i64>, String> {
            if s == "-" {
                Ok(None)
            } else {
                s.parse().map(Some).map_err(|_| bad("bad day"))
            }
        };
        match f.as_slice() {
            ["configurations", n, first, last] => {
                l.configurations = n.parse().map_err(|_| bad("bad count"))?;
                l.first_day = day(first)?;
                l.last_day = day(last)?;
            }
            ["bridge", transport, address, fingerprint, first, removed] => {
                let address = address.parse().map_err(|_| bad("bad address"))?;
                let fingerprint = if *fingerprint == "-" { "" } else { fingerprint };
                let first = day(first)?.ok_or_else(|| bad("no first day"))?;
                l.bridges.push(BridgeListing::new(transport, address, fingerprint, first, day(removed)?));
            }
            ["name", name, code, port, family, utls, first, removed] => {
                let code: u8 = code.parse().map_err(|_| bad("bad role"))?;
                let port: u16 = port.parse().map_err(|_| bad("bad port"))?;
                let role = NameRole::from_code(code, port).ok_or_else(|| bad("unknown role"))?;
                let utls = if *utls == "-" { None } else { Some(*utls) };
                let first = day(first)?.ok_or_else(|| bad("no first day"))?;
                l.names.push(NameListing::new(name, role, family, utls, first, day(removed)?));
            }
            [""] => {}
            _ => return Err(bad("unknown line")),
        }
    }
    // `write` wrote the listings in `Listings::sort`'s order; the runtime keeps it (and so
    // carries no sort code).
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let mut l = Listings { configurations: 3, first_day: Some(17000), last_day: Some(20000), ..Default::default() };
        l.bridges.push(BridgeListing::new(
            "obfs4",
            "192.95.36.142:443".parse().unwrap(),
            "CDF2E852BF539B82BD10E27E9115A31734E378C2",
            17186,
            Some(20436),
        ));
        l.bridges.push(BridgeListing::new("fte", "128.105.214.161:8080".parse().unwrap(), "", 17186, None));
        l.names.push(NameListing::new("ajax.aspnetcdn.com", NameRole::MeekFront, "meek", None, 17186, None));
        l.names.push(NameListing::new(
            "stun.l.google.com",
            NameRole::SnowflakeStun { port: 19302 },
            "snowflake",
            Some("hellorandomizedalpn"),
            18000,
            Some(19000),
        ));
        l.sort();
        assert_eq!(read(&write(&l)), Ok(l));
        assert!(read("bridge\tobfs4\tnot-an-address\t-\t1\t-").unwrap_err().contains("line 1: bad address"));
    }
}
