//! Tor Browser's built-in bridges as dated listings: which bridge addresses, front domains,
//! broker hosts and STUN servers Tor Browser shipped, from when to when. Compiled at build time
//! (`relays/build.rs`) from the configuration files in `relays/sources/bridges` (`config`
//! parses them, `listing` derives the intervals, `packed` stores them) and embedded: the whole
//! index is a few KB.

pub mod config;
pub mod listing;
pub mod packed;

use listing::{BridgeListing, Listings, NameListing};
use std::net::SocketAddr;
use std::sync::OnceLock;

static BUILTIN: &str = include_str!(concat!(env!("OUT_DIR"), "/bridges.tsv"));

/// The built-in listings (empty when the build had no configuration files).
pub fn builtin() -> &'static Listings {
    static INDEX: OnceLock<Listings> = OnceLock::new();
    // The build script wrote this text with `packed::write`; a failure here is a build bug, and
    // an empty index is the safe answer.
    INDEX.get_or_init(|| packed::read(BUILTIN).unwrap_or_default())
}

/// Days from `day` to a listing interval `[first, removed)`: 0 inside it, negative before it,
/// positive after it (counted from the last listed day).
pub fn gap_to(day: i64, first: i64, removed: Option<i64>) -> i64 {
    if day < first {
        day - first
    } else {
        match removed {
            Some(r) if day >= r => day - (r - 1),
            _ => 0,
        }
    }
}

/// The listing of a bridge at exactly this address:port nearest to `day`.
pub fn bridge_at(index: &Listings, address: SocketAddr, day: i64) -> Option<&BridgeListing> {
    index.bridges.iter().filter(|b| b.address == address).min_by_key(|b| gap_to(day, b.first_listed, b.removed).abs())
}

/// The listings of this DNS name nearest to `day`, one per role.
pub fn names_for<'a>(index: &'a Listings, name: &str, day: i64) -> Vec<&'a NameListing> {
    let name = listing::normalise_name(name);
    let mut found: Vec<&NameListing> = Vec::new();
    for n in index.names.iter().filter(|n| n.name == name) {
        match found.iter_mut().find(|f| f.role == n.role) {
            Some(f) if gap_to(day, n.first_listed, n.removed).abs() < gap_to(day, f.first_listed, f.removed).abs() => {
                *f = n
            }
            Some(_) => {}
            None => found.push(n),
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_count_from_the_interval() {
        assert_eq!(gap_to(10, 10, Some(20)), 0);
        assert_eq!(gap_to(19, 10, Some(20)), 0);
        assert_eq!(gap_to(20, 10, Some(20)), 1);
        assert_eq!(gap_to(5, 10, None), -5);
        assert_eq!(gap_to(5000, 10, None), 0);
    }
}
