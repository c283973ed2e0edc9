//! The compiled index: one byte blob, written by [`build`] (at build time for the built-in
//! index, at run time for lists loaded with `--relays`) and read in place by `RelayIndex`.
//!
//! Layout (little-endian): magic `TSRI1`, then
//! - snapshots: u16 count; each: kind u8, day i32 (i32::MIN = undated), relay count u32,
//!   source (u16 length + UTF-8), date text (u16 length + UTF-8);
//! - fst: u32 length + bytes; a map from key (`key.rs`) to `start << 16 | count` into postings;
//! - postings: u32 count; each 9 bytes: snapshot bitmask u32 (the lists that say the same
//!   thing share one posting), port kind (2 bits) and flags (14 bits) u16, relay u24
//!   (0xffffff = a list entry without relay identity);
//! - relays: u32 count; each: fingerprint (20 bytes, zeros when unknown), country (2 bytes),
//!   nickname (u8 length + UTF-8).
//!
//! Shared with the build script.

use super::key;
use super::list::{PortKind, RelayList};
use std::collections::BTreeMap;

pub const MAGIC: &[u8; 5] = b"TSRI1";
pub const NO_RELAY: u32 = 0x00ff_ffff;
pub const POSTING_BYTES: usize = 9;
/// Lists per blob: one bit each in a posting's snapshot mask.
pub const MAX_SNAPSHOTS: usize = 32;

fn put_str(out: &mut Vec<u8>, s: &str, max: usize) {
    let s = s.get(..s.len().min(max)).unwrap_or("");
    if max <= 255 {
        out.push(s.len() as u8);
    } else {
        out.extend_from_slice(&(s.len() as u16).to_le_bytes());
    }
    out.extend_from_slice(s.as_bytes());
}

fn fingerprint_bytes(hex: &str) -> [u8; 20] {
    let mut out = [0u8; 20];
    if hex.len() == 40 {
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = hex.get(2 * i..2 * i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()).unwrap_or(0);
        }
    }
    out
}

/// Compiles relay lists into one index blob.
pub fn build(lists: &[RelayList]) -> Result<Vec<u8>, String> {
    if lists.len() > MAX_SNAPSHOTS {
        return Err(format!("{} relay lists in one index; at most {MAX_SNAPSHOTS}", lists.len()));
    }
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&(lists.len() as u16).to_le_bytes());
    for list in lists {
        out.push(list.kind.to_u8());
        let day = list.day.and_then(|d| i32::try_from(d).ok()).unwrap_or(i32::MIN);
        out.extend_from_slice(&day.to_le_bytes());
        out.extend_from_slice(&(list.relays.len() as u32).to_le_bytes());
        put_str(&mut out, &list.source, 1024);
        put_str(&mut out, list.date.as_deref().unwrap_or(""), 1024);
    }
    // Relays with an identity are stored once across snapshots, keyed by fingerprint (or by
    // nickname for authorities known only from dir-source lines).
    let mut relay_ids: BTreeMap<String, u32> = BTreeMap::new();
    let mut relays: Vec<([u8; 20], [u8; 2], String)> = Vec::new();
    // key → (port kind + flags, relay) → snapshot mask
    let mut postings: BTreeMap<Vec<u8>, BTreeMap<(u16, u32), u32>> = BTreeMap::new();
    for (snapshot, list) in lists.iter().enumerate() {
        for relay in &list.relays {
            let identity =
                if relay.fingerprint.is_empty() { relay.nickname.clone() } else { relay.fingerprint.clone() };
            let relay_id = if identity.is_empty() {
                NO_RELAY
            } else {
                let next = relays.len() as u32;
                let id = *relay_ids.entry(identity).or_insert_with(|| {
                    relays.push((fingerprint_bytes(&relay.fingerprint), [0, 0], String::new()));
                    next
                });
                if let Some(meta) = relays.get_mut(id as usize) {
                    // Later lists fill in what earlier ones lacked (Onionoo has no nickname here).
                    if meta.2.is_empty() {
                        meta.2 = relay.nickname.clone();
                    }
                    let cc = relay.country.as_bytes();
                    if meta.1 == [0, 0] && cc.len() == 2 {
                        meta.1 = [cc.first().copied().unwrap_or(0), cc.get(1).copied().unwrap_or(0)];
                    }
                }
                id
            };
            for &(ip, port, kind) in &relay.endpoints {
                let port = if kind == PortKind::AddressOnly { key::ANY_PORT } else { port };
                let kind_flags = ((kind as u16) << 14) | (relay.flags & 0x3fff);
                *postings.entry(key::encode(ip, port)).or_default().entry((kind_flags, relay_id)).or_insert(0) |=
                    1u32 << snapshot;
            }
        }
    }
    let mut relay_table = Vec::new();
    for (fp, cc, nickname) in &relays {
        relay_table.extend_from_slice(fp);
        relay_table.extend_from_slice(cc);
        put_str(&mut relay_table, nickname, 255);
    }
    let mut map = fst::MapBuilder::memory();
    let mut flat: Vec<u8> = Vec::new();
    let mut count = 0u64;
    for (k, entries) in &postings {
        let n = entries.len().min(u16::MAX as usize);
        map.insert(k, (count << 16) | n as u64).map_err(|e| e.to_string())?;
        for (&(kind_flags, relay), &mask) in entries.iter().take(n) {
            flat.extend_from_slice(&mask.to_le_bytes());
            flat.extend_from_slice(&kind_flags.to_le_bytes());
            flat.extend_from_slice(&relay.to_le_bytes()[..3]);
        }
        count += n as u64;
    }
    let fst_bytes = map.into_inner().map_err(|e| e.to_string())?;
    out.extend_from_slice(&(fst_bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(&fst_bytes);
    out.extend_from_slice(&(count as u32).to_le_bytes());
    out.extend_from_slice(&flat);
    out.extend_from_slice(&(relays.len() as u32).to_le_bytes());
    out.extend_from_slice(&relay_table);
    Ok(out)
}
