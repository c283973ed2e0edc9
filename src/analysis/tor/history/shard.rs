//! One year of relay history as one byte blob: written by [`write_years`] at build time, read in
//! place by [`Shard::parse`]. A capture needs only its own year, so the page fetches one shard
//! (`history-YYYY.idx`) rather than the whole history.
//!
//! Layout (little-endian): magic `TSRH3`, year u16, first day i32 (1 January, days since
//! 1970-01-01), days u16, then
//! - sources: u8 count; each: name (u8 length + UTF-8), flags u8 (bit 0: exit addresses only,
//!   bit 1: gives ORPorts), one bit per day of the year: a snapshot of that day was used;
//! - the port table: u8 count, then each ORPort that more than one key has (the most used first),
//!   u16 big-endian; a port's rank in it is one byte in `PORT_STREAM`;
//! - the span table: u32 count, then five columns (u32 length + bytes each; see `put_span`) of
//!   each run of days that more than one key has (the most used first): first day minus
//!   1 January (high byte, low byte), last day minus first day (high, low), and the bit mask of
//!   the sources that listed exactly this run (LEB128); span id `i + 1` names entry `i`;
//! - twenty-one streams, each u32 length + bytes, read side by side in key order (keys sorted as
//!   in `key.rs`: family ‖ address ‖ port, address-only keys with port 0 first):
//!   - `BLOCKS`: per block of keys that share a prefix (an IPv4 /16, or an IPv6 /32 numbered
//!     after every IPv4 /16), the prefix minus the previous block's and the block's key count;
//!   - `FLAGS`, one byte per key: bit 0 a port follows (its rank in `PORT_STREAM`, or 255 and the
//!     port in `PORT_ESCAPED`); bit 5 the key's address is the previous key's (an address's
//!     ORPort keys: no address bytes); bit 1 the key's runs are its address's runs as listed by
//!     the sources that give ports (an address+ORPort key whose relay kept one ORPort: no runs of
//!     its own); bit 4 the key's runs are those last written (neighbours that came and went
//!     together); otherwise bits 2–3 the number of runs, 1–3, or 0 for four or more (the count
//!     minus four in `COUNTS`);
//!   - unless bit 5, the address bits after the prefix minus the previous key's in the block:
//!     IPv4 as two bytes apart (`KEY_HI`, `KEY_LO`); IPv6 as the bits above the interface
//!     identifier (LEB128 in `KEY_V6`) and the identifier by its kind (`V6_KIND`, see
//!     `IID_NEXT`…`IID_RAW`);
//!   - per run, its span id: below 128 one `ID_HI` byte; else `ID_HI` 128 + the id's high bits
//!     and `ID_LO`; from 32,640 on `ID_HI` 255 and the id in `ID_ESCAPED` (LEB128); id 0: a run
//!     no other key has, written in place in the five `INLINE` columns as the table writes its
//!     entries.
//!
//! Why this shape (measured on the 2016–2026 history; sizes are each year's gzip file as the
//! CLI exports it): one fst entry per key cost 8 bytes a key (765 KB for 2018, against a 400 KB
//! budget for the whole shard); an fst over the blocks still cost 40–53 KB a year, a delta-coded
//! block list 5–10 KB. Bytes that mean the same thing sit in one stream, so deflate's Huffman
//! codes see one distribution each (an address delta split into its high and low byte: 167 KB →
//! 130 KB in 2018). Address+ORPort keys with their address's runs cost one flag byte and the
//! port (−65 KB in 2025); runs that only one key has are written in place rather than through
//! the table (−13 KB); a key with the runs written last says so in its flags (−10 KB in 2025).
//! Then, all years together (3.22 MB → 2.98 MB): spans as five columns rather than interleaved
//! LEB128, and the 127 most used span ids as one byte (−110 KB); no address bytes for an
//! address's ORPort keys (−62 KB); ports by rank (−14 KB); IPv6 interface identifiers by kind,
//! since half of them are EUI-64 (2 of their 8 bytes always `ff:fe`, 3 a vendor) or small
//! (−50 KB). Measured and not kept: block numbers and key counts in two streams (+3 KB), span
//! ids split by the run's place in its key (no gain), an adaptive binary context coder over the
//! streams (2022 within 1.2 % of zopfli's deflate): what is left is the information itself —
//! two runs in five are a single day, and half the IPv6 relays have random identifiers.
//!
//! The reader walks every stream once when it parses a shard: it checks that every byte decodes
//! to keys in strictly increasing order and that every stream ends where the last key does (a
//! damaged download fails here, not in a lookup), and keeps a checkpoint every
//! [`CHECKPOINT_KEYS`] keys, so a lookup decodes at most that many keys (a hosting provider's
//! /16 holds up to 1,650 relay addresses in a year).
//!
//! Shared with the build script.

use super::tsv::HistoryInput;
use std::borrow::Cow;
use std::collections::BTreeMap;

pub const MAGIC: &[u8; 5] = b"TSRH3";
pub const EXITS_ONLY: u8 = 1;
pub const PORTS: u8 = 2;

const BLOCKS: usize = 0;
const KEY_HI: usize = 1;
const KEY_LO: usize = 2;
const KEY_V6: usize = 3;
const FLAGS: usize = 4;
const PORT_STREAM: usize = 5;
const COUNTS: usize = 6;
const ID_HI: usize = 7;
const ID_LO: usize = 8;
const ID_ESCAPED: usize = 9;
/// The five columns of the runs written in place (see [`SPAN_COLUMNS`]).
const INLINE: usize = 10;
/// Ports not in the shard's port table, two bytes each (high, low).
const PORT_ESCAPED: usize = 15;
/// An IPv6 key's interface identifier (its low 64 bits; `KEY_V6` has the bits between the block
/// prefix and it): its kind, one byte, then its bytes in the kind's stream.
const V6_KIND: usize = 16;
const V6_SMALL: usize = 17;
const V6_OUI: usize = 18;
const V6_NIC: usize = 19;
const V6_RAW: usize = 20;
const STREAMS: usize = 21;

/// Interface identifier kinds: the previous key's plus a LEB128 delta (`V6_SMALL`; another
/// address in the same /64), below 2^32 (LEB128 in `V6_SMALL`: `::1`, `::a:b`), EUI-64 (a MAC
/// address with `ff:fe` in its middle: vendor 3 bytes in `V6_OUI`, serial 3 in `V6_NIC`), or
/// anything else (8 bytes in `V6_RAW`: random and privacy addresses).
const IID_NEXT: u8 = 0;
const IID_SMALL: u8 = 1;
const IID_EUI64: u8 = 2;
const IID_RAW: u8 = 3;
const IID_BITS: u32 = 64;
const IID_MASK: u128 = (1 << IID_BITS) - 1;
/// A span as five columns, each its own stream: first day after 1 January (high, low byte),
/// last day minus first (high, low byte), source mask (LEB128).
const SPAN_COLUMNS: usize = 5;

const FLAG_PORT: u8 = 1;
const FLAG_ADDRESS_RUNS: u8 = 2;
const FLAG_PREVIOUS_RUNS: u8 = 16;
const FLAG_SAME_ADDRESS: u8 = 32;
/// A port rank that says the port follows in `PORT_ESCAPED`; the port table holds at most this
/// many ports.
const PORT_ESCAPE: u8 = 255;
/// Span ids below this are one `ID_HI` byte; up to [`ID_ESCAPE`] they are `ID_HI` (this plus the
/// id's high bits) and `ID_LO`; from there on `ID_HI` 255 and the id in `ID_ESCAPED`.
const ID_ONE_BYTE: u64 = 128;
const ID_ESCAPE: u64 = ID_ONE_BYTE + (255 - ID_ONE_BYTE) * 256;
/// IPv6 block prefixes are numbered after every IPv4 /16.
const V6_BLOCKS: u128 = 1 << 16;
/// Keys decoded at most per lookup.
pub const CHECKPOINT_KEYS: u32 = 16;

fn put_varint(out: &mut Vec<u8>, mut v: u128) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(buf: &[u8], at: &mut usize) -> Option<u128> {
    let mut v = 0u128;
    for shift in (0..128).step_by(7) {
        let b = *buf.get(*at)?;
        *at += 1;
        v |= u128::from(b & 0x7f).checked_shl(shift)?;
        if b < 0x80 {
            return Some(v);
        }
    }
    None
}

/// 1 January of `year` and the number of days in it.
fn year_span(year: i64) -> (i64, i64) {
    let first = super::tsv::parse_day(&format!("{year:04}-01-01")).unwrap_or(0);
    let next = super::tsv::parse_day(&format!("{:04}-01-01", year + 1)).unwrap_or(first + 365);
    (first, next - first)
}

/// Writes a span (first, last, sources) clipped to a year starting at `first_day` as its five
/// columns: days apart split into a high and a low byte, so each column's bytes mean one thing.
fn put_span(columns: &mut [Vec<u8>], first_day: i64, (f, l, m): (i64, i64, u64)) {
    if let [first_hi, first_lo, length_hi, length_lo, mask] = columns {
        let (first, length) = ((f - first_day) as u16, (l - f) as u16);
        first_hi.push((first >> 8) as u8);
        first_lo.push(first as u8);
        length_hi.push((length >> 8) as u8);
        length_lo.push(length as u8);
        put_varint(mask, u128::from(m));
    }
}

/// Writes an IPv6 key's bits after its block prefix: the bits above the interface identifier
/// as a delta from the previous key's in `KEY_V6`, then the identifier by its kind.
fn put_v6_rest(s: &mut [Vec<u8>; STREAMS], rest: u128, previous: u128) {
    put_varint(&mut s[KEY_V6], (rest >> IID_BITS) - (previous >> IID_BITS));
    let (iid, previous_iid) = (rest & IID_MASK, previous & IID_MASK);
    if rest >> IID_BITS == previous >> IID_BITS && iid > previous_iid && iid - previous_iid < 1 << 16 {
        s[V6_KIND].push(IID_NEXT);
        put_varint(&mut s[V6_SMALL], iid - previous_iid);
    } else if iid >> 32 == 0 {
        s[V6_KIND].push(IID_SMALL);
        put_varint(&mut s[V6_SMALL], iid);
    } else if (iid >> 24) & 0xffff == 0xfffe {
        s[V6_KIND].push(IID_EUI64);
        s[V6_OUI].extend_from_slice(&((iid >> 40) as u32).to_be_bytes()[1..]);
        s[V6_NIC].extend_from_slice(&(iid as u32).to_be_bytes()[1..]);
    } else {
        s[V6_KIND].push(IID_RAW);
        s[V6_RAW].extend_from_slice(&(iid as u64).to_be_bytes());
    }
}

/// One shard per year that any interval or snapshot touches, in year order.
pub fn write_years(input: &HistoryInput) -> Result<Vec<(i64, Vec<u8>)>, String> {
    let year_of = |day: i64| super::tsv::civil(day).0;
    let mut years: Vec<i64> = input
        .intervals
        .iter()
        .flat_map(|i| year_of(i.first_day)..=year_of(i.last_day))
        .chain(input.sources.iter().flat_map(|s| s.snapshot_days.iter().map(|&d| year_of(d))))
        .collect();
    years.sort_unstable();
    years.dedup();
    let runs = merged_runs(&input.intervals);
    let sorted: Vec<&super::tsv::Interval> = runs.iter().collect();
    years.into_iter().map(|year| Ok((year, write_year(input, &sorted, year)?))).collect()
}

/// The runs of each key and source with overlapping or adjacent runs joined, sorted by key and
/// day. A history file should hold one line per contiguous run, but one that repeats a run or
/// splits it must still read back as the days it lists (a key's runs across years are joined
/// at lookup by source, which overlaps would defeat).
fn merged_runs(intervals: &[super::tsv::Interval]) -> Vec<super::tsv::Interval> {
    let mut by_source: Vec<&super::tsv::Interval> = intervals.iter().collect();
    by_source.sort_unstable_by(|a, b| (&a.key, a.source, a.first_day).cmp(&(&b.key, b.source, b.first_day)));
    let mut runs: Vec<super::tsv::Interval> = Vec::with_capacity(by_source.len());
    for run in by_source {
        match runs.last_mut() {
            Some(last) if last.key == run.key && last.source == run.source && run.first_day <= last.last_day + 1 => {
                last.last_day = last.last_day.max(run.last_day);
            }
            _ => runs.push(run.clone()),
        }
    }
    runs.sort_unstable();
    runs
}

/// A history key as numbers: family (4 or 6), address, port (0: the address on any port).
type Key = (u8, u128, u16);

/// Reads a `key.rs` key: `family ‖ address ‖ port` (address-only keys carry port 0).
pub fn parse_key(key: &[u8]) -> Option<Key> {
    let (&family, rest) = key.split_first()?;
    let len = match family {
        4 => 4,
        6 => 16,
        _ => return None,
    };
    if rest.len() != len + 2 {
        return None;
    }
    let address = rest.get(..len)?.iter().fold(0u128, |acc, &b| (acc << 8) | u128::from(b));
    let port = u16::from_be_bytes(rest.get(len..)?.try_into().ok()?);
    Some((family, address, port))
}

/// Bits of an address after its block prefix.
fn rest_bits(family: u8) -> u32 {
    if family == 4 {
        16
    } else {
        96
    }
}

/// The block number of an address: its /16 (IPv4) or, after all of those, its /32 (IPv6).
fn block_of(family: u8, address: u128) -> u128 {
    let prefix = address >> rest_bits(family);
    if family == 4 {
        prefix
    } else {
        V6_BLOCKS + prefix
    }
}

/// One key's runs in a year: (first day, last day) → the sources that listed exactly that run.
type Runs = BTreeMap<(i64, i64), u64>;

/// The runs an address+ORPort key has when its relay kept one ORPort: the address's runs as the
/// sources that give ports listed them.
fn address_runs_with_ports(runs: &Runs, port_mask: u64) -> impl Iterator<Item = ((i64, i64), u64)> + '_ {
    runs.iter().filter(move |(_, m)| *m & port_mask != 0).map(move |(&r, &m)| (r, m & port_mask))
}

fn write_year(input: &HistoryInput, sorted: &[&super::tsv::Interval], year: i64) -> Result<Vec<u8>, String> {
    let (first_day, days) = year_span(year);
    let last_day = first_day + days - 1;
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&(year as u16).to_le_bytes());
    out.extend_from_slice(&(first_day as i32).to_le_bytes());
    out.extend_from_slice(&(days as u16).to_le_bytes());
    if input.sources.len() > 64 {
        return Err(format!("{} history sources: at most 64 fit a source mask", input.sources.len()));
    }
    out.push(input.sources.len() as u8);
    let mut port_mask = 0u64;
    for (i, source) in input.sources.iter().enumerate() {
        let name = source.name.get(..source.name.len().min(255)).unwrap_or("");
        out.push(name.len() as u8);
        out.extend_from_slice(name.as_bytes());
        out.push(if source.exits_only { EXITS_ONLY } else { 0 } | if source.ports { PORTS } else { 0 });
        if source.ports {
            port_mask |= 1 << i;
        }
        let mut bits = vec![0u8; (days as usize).div_ceil(8)];
        for d in source.snapshot_days.iter().filter(|&&d| (first_day..=last_day).contains(&d)) {
            let i = (d - first_day) as usize;
            if let Some(b) = bits.get_mut(i / 8) {
                *b |= 1 << (i % 8);
            }
        }
        out.extend_from_slice(&bits);
    }
    // key → runs (first, last, sources); `sorted` is in key order, so the map fills in order.
    let mut keys: BTreeMap<Key, Runs> = BTreeMap::new();
    for i in sorted.iter().filter(|i| i.first_day <= last_day && i.last_day >= first_day) {
        let key = parse_key(&i.key).ok_or_else(|| format!("history key {:?} is not family ‖ address ‖ port", i.key))?;
        let span = (i.first_day.max(first_day), i.last_day.min(last_day));
        *keys.entry(key).or_default().entry(span).or_insert(0) |= 1u64 << i.source;
    }
    // Keys whose runs are their address's runs as the port-giving sources listed them.
    let mut same_as_address = std::collections::BTreeSet::new();
    let mut address: Option<(Key, &Runs)> = None;
    for (key, runs) in &keys {
        if key.2 == 0 {
            address = Some((*key, runs));
        } else if let Some((_, address_runs)) = address.filter(|(a, _)| (a.0, a.1) == (key.0, key.1)) {
            if address_runs_with_ports(address_runs, port_mask).eq(runs.iter().map(|(&r, &m)| (r, m))) {
                same_as_address.insert(*key);
            }
        }
    }
    // Runs repeat across keys (relays that stayed all year, days a source missed): one table of
    // the runs that more than one key has, the most used first, so most ids are small.
    let mut uses: BTreeMap<(i64, i64, u64), u64> = BTreeMap::new();
    for (key, runs) in &keys {
        if !same_as_address.contains(key) {
            for (&(f, l), &m) in runs {
                *uses.entry((f, l, m)).or_insert(0) += 1;
            }
        }
    }
    let mut table: Vec<((i64, i64, u64), u64)> = uses.into_iter().filter(|(_, n)| *n > 1).collect();
    table.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let span_id: BTreeMap<(i64, i64, u64), u64> =
        table.iter().enumerate().map(|(i, (span, _))| (*span, i as u64 + 1)).collect();
    // Relays use a few ORPorts (9001, 443, …): the ports more than one key has, the most used
    // first, so a port is one byte that is mostly the same few values.
    let mut port_uses: BTreeMap<u16, u64> = BTreeMap::new();
    for (_, _, port) in keys.keys().filter(|k| k.2 != 0) {
        *port_uses.entry(*port).or_insert(0) += 1;
    }
    let mut ports: Vec<(u16, u64)> = port_uses.into_iter().filter(|(_, n)| *n > 1).collect();
    ports.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ports.truncate(usize::from(PORT_ESCAPE));
    let port_rank: BTreeMap<u16, u8> = ports.iter().enumerate().map(|(i, (port, _))| (*port, i as u8)).collect();
    out.push(ports.len() as u8);
    for (port, _) in &ports {
        out.extend_from_slice(&port.to_be_bytes());
    }
    let mut table_columns: [Vec<u8>; SPAN_COLUMNS] = Default::default();
    for (span, _) in &table {
        put_span(&mut table_columns, first_day, *span);
    }
    let mut s: [Vec<u8>; STREAMS] = Default::default();
    let entries: Vec<(&Key, &Runs)> = keys.iter().collect();
    let mut previous_block = 0u128;
    let mut last_written: Option<&Runs> = None;
    for block in entries.chunk_by(|a, b| block_of(a.0 .0, a.0 .1) == block_of(b.0 .0, b.0 .1)) {
        let Some(((family, first_address, _), _)) = block.first() else { continue };
        let number = block_of(*family, *first_address);
        put_varint(&mut s[BLOCKS], number - previous_block);
        put_varint(&mut s[BLOCKS], block.len() as u128);
        previous_block = number;
        let mask = (1u128 << rest_bits(*family)) - 1;
        let mut previous = 0u128;
        let mut previous_v6 = 0u128;
        for (n, ((family, address, port), runs)) in block.iter().enumerate() {
            let delta = (address & mask) - previous;
            previous = address & mask;
            let mut flags = if *port != 0 { FLAG_PORT } else { 0 };
            if delta == 0 && n > 0 {
                // An address's ORPort keys follow it: the address is not written again.
                flags |= FLAG_SAME_ADDRESS;
            } else if *family == 4 {
                s[KEY_HI].push((delta >> 8) as u8);
                s[KEY_LO].push(delta as u8);
            } else {
                put_v6_rest(&mut s, address & mask, previous_v6);
            }
            previous_v6 = address & mask;
            if *port != 0 {
                match port_rank.get(port) {
                    Some(&rank) => s[PORT_STREAM].push(rank),
                    None => {
                        s[PORT_STREAM].push(PORT_ESCAPE);
                        s[PORT_ESCAPED].extend_from_slice(&port.to_be_bytes());
                    }
                }
            }
            if same_as_address.contains(&(*family, *address, *port)) {
                s[FLAGS].push(flags | FLAG_ADDRESS_RUNS);
                continue;
            }
            if last_written == Some(*runs) {
                s[FLAGS].push(flags | FLAG_PREVIOUS_RUNS);
                continue;
            }
            last_written = Some(*runs);
            flags |= (if runs.len() <= 3 { runs.len() as u8 } else { 0 }) << 2;
            s[FLAGS].push(flags);
            if runs.len() > 3 {
                put_varint(&mut s[COUNTS], runs.len() as u128 - 4);
            }
            for (&(f, l), &m) in runs.iter() {
                let id = span_id.get(&(f, l, m)).copied().unwrap_or(0);
                if id < ID_ONE_BYTE {
                    s[ID_HI].push(id as u8);
                } else if id < ID_ESCAPE {
                    let k = id - ID_ONE_BYTE;
                    s[ID_HI].push((ID_ONE_BYTE + (k >> 8)) as u8);
                    s[ID_LO].push(k as u8);
                } else {
                    s[ID_HI].push(255);
                    put_varint(&mut s[ID_ESCAPED], u128::from(id));
                }
                if id == 0 {
                    put_span(&mut s[INLINE..INLINE + SPAN_COLUMNS], first_day, (f, l, m));
                }
            }
        }
    }
    out.extend_from_slice(&(table.len() as u32).to_le_bytes());
    for part in table_columns.iter().chain(s.iter()) {
        out.extend_from_slice(&(part.len() as u32).to_le_bytes());
        out.extend_from_slice(part);
    }
    Ok(out)
}

/// A source as one shard describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardSource {
    pub name: String,
    pub flags: u8,
    coverage: Vec<u8>,
}

impl ShardSource {
    pub fn exits_only(&self) -> bool {
        self.flags & EXITS_ONLY != 0
    }

    pub fn ports(&self) -> bool {
        self.flags & PORTS != 0
    }
}

/// Where the streams stand before one key: enough to decode from there on.
#[derive(Clone, Copy, Debug, Default)]
struct Cursor {
    at: [u32; STREAMS],
    /// Block number and keys left in it (this one included).
    block: u128,
    left: u32,
    /// The previous key's address bits after the block prefix.
    previous: u128,
}

/// A checkpoint: the key a cursor stands before.
#[derive(Clone, Copy, Debug)]
struct Checkpoint {
    key: Key,
    cursor: Cursor,
}

/// One year of history, read in place.
pub struct Shard {
    pub year: i64,
    pub first_day: i64,
    pub days: i64,
    pub sources: Vec<ShardSource>,
    port_mask: u64,
    spans: Vec<(i64, i64, u64)>,
    /// The port table: a port rank is an index into it.
    ports: Vec<u16>,
    blob: Cow<'static, [u8]>,
    streams: [std::ops::Range<usize>; STREAMS],
    /// Built on first use: a process that embeds every year walks only the years it looks up.
    index: std::sync::OnceLock<Option<Index>>,
}

/// What a walk over every key found: the checkpoints, how many blocks there are, and which
/// addresses there are.
struct Index {
    checkpoints: Vec<Checkpoint>,
    blocks: usize,
    addresses: AddressFilter,
}

/// A one-hash Bloom filter of the shard's addresses, 32 bits an address (4 bytes): most
/// addresses looked up (every flow's two ends) are no relay's, and one bit answers those
/// without decoding the keys after a checkpoint; 1 in about 32 misses still walks.
struct AddressFilter {
    bits: Vec<u64>,
}

impl AddressFilter {
    /// A filter of the addresses with these hashes ([`AddressFilter::hash`]).
    fn new(hashes: &[u64]) -> Self {
        let len = (hashes.len() * 32).next_power_of_two().max(64);
        let mut bits = vec![0u64; len / 64];
        for &hash in hashes {
            let bit = Self::bit(hash, len);
            if let Some(word) = bits.get_mut(bit / 64) {
                *word |= 1 << (bit % 64);
            }
        }
        AddressFilter { bits }
    }

    fn may_have(&self, family: u8, address: u128) -> bool {
        let bit = Self::bit(Self::hash(family, address), self.bits.len() * 64);
        self.bits.get(bit / 64).is_some_and(|word| word & (1 << (bit % 64)) != 0)
    }

    fn hash(family: u8, address: u128) -> u64 {
        let folded = (address as u64) ^ ((address >> 64) as u64).rotate_left(29) ^ u64::from(family);
        folded.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }

    /// Where an address falls in a filter of `len` bits (a power of two).
    fn bit(hash: u64, len: usize) -> usize {
        (hash >> 32) as usize & (len - 1)
    }
}

impl std::fmt::Debug for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shard").field("year", &self.year).field("blocks", &self.blocks()).finish()
    }
}

fn take<'a>(buf: &'a [u8], at: &mut usize, n: usize) -> Option<&'a [u8]> {
    let out = buf.get(*at..at.checked_add(n)?)?;
    *at += n;
    Some(out)
}

fn le32(buf: &[u8], at: &mut usize) -> Option<u32> {
    Some(u32::from_le_bytes(take(buf, at, 4)?.try_into().ok()?))
}

/// The runs decoded last: the last address-only key's, and the last key's; and where the last
/// runs written in the streams start (a key may say it has those).
#[derive(Default)]
struct Scratch {
    address: Vec<(i64, i64, u64)>,
    key: Vec<(i64, i64, u64)>,
    written: Option<(Cursor, usize)>,
}

/// Where a key's runs are: its own in the streams, its address's (as the sources that give
/// ports listed them), or the previous key's that had its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RunsFrom {
    Own,
    Address,
    Previous,
}

impl Shard {
    /// Reads a shard; `None` when the bytes are not one (wrong magic, truncated, damaged).
    pub fn parse(blob: Cow<'static, [u8]>) -> Option<Shard> {
        let bytes: &[u8] = &blob;
        let mut at = 0;
        if take(bytes, &mut at, 5)? != MAGIC {
            return None;
        }
        let year = i64::from(u16::from_le_bytes(take(bytes, &mut at, 2)?.try_into().ok()?));
        let first_day = i64::from(i32::from_le_bytes(take(bytes, &mut at, 4)?.try_into().ok()?));
        let days = i64::from(u16::from_le_bytes(take(bytes, &mut at, 2)?.try_into().ok()?));
        let mut sources = Vec::new();
        let mut port_mask = 0u64;
        for i in 0..*take(bytes, &mut at, 1)?.first()? {
            let n = usize::from(*take(bytes, &mut at, 1)?.first()?);
            let name = String::from_utf8_lossy(take(bytes, &mut at, n)?).into_owned();
            let flags = *take(bytes, &mut at, 1)?.first()?;
            let coverage = take(bytes, &mut at, (days as usize).div_ceil(8))?.to_vec();
            if flags & PORTS != 0 {
                port_mask |= 1u64.checked_shl(u32::from(i))?;
            }
            sources.push(ShardSource { name, flags, coverage });
        }
        let mut ports = Vec::new();
        for _ in 0..*take(bytes, &mut at, 1)?.first()? {
            ports.push(u16::from_be_bytes(take(bytes, &mut at, 2)?.try_into().ok()?));
        }
        let count = le32(bytes, &mut at)? as usize;
        let mut columns: [&[u8]; SPAN_COLUMNS] = Default::default();
        for column in &mut columns {
            let len = le32(bytes, &mut at)? as usize;
            *column = take(bytes, &mut at, len)?;
        }
        let mut column_at = [0u32; SPAN_COLUMNS];
        let mut spans = Vec::with_capacity(count.min(1 << 20));
        for _ in 0..count {
            spans.push(read_span(&columns, &mut column_at, first_day)?);
        }
        if column_at.iter().zip(&columns).any(|(&at, column)| at as usize != column.len()) {
            return None;
        }
        let mut streams: [std::ops::Range<usize>; STREAMS] = Default::default();
        for stream in &mut streams {
            let len = le32(bytes, &mut at)? as usize;
            let start = at;
            take(bytes, &mut at, len)?;
            *stream = start..at;
        }
        if at != bytes.len() || bytes.len() > u32::MAX as usize {
            return None;
        }
        Some(Shard {
            year,
            first_day,
            days,
            sources,
            port_mask,
            spans,
            ports,
            blob,
            streams,
            index: Default::default(),
        })
    }

    /// Whether every key decodes (walks them the first time): a damaged shard is refused here,
    /// and answers no lookup.
    pub fn is_intact(&self) -> bool {
        self.index().is_some()
    }

    fn index(&self) -> Option<&Index> {
        self.index.get_or_init(|| self.walk()).as_ref()
    }

    /// Walks every key once: checks the streams and keeps the checkpoints.
    fn walk(&self) -> Option<Index> {
        let streams = self.streams();
        let mut cursor = Cursor::default();
        let mut scratch = Scratch::default();
        let mut last: Option<Key> = None;
        let mut last_address_only: Option<(u8, u128)> = None;
        let mut since = CHECKPOINT_KEYS;
        let mut checkpoints = Vec::new();
        let mut blocks = 0;
        let mut addresses = Vec::new();
        loop {
            let before = cursor;
            let Some((key, from)) = streams.next_key(&mut cursor, &mut scratch, |_| false)? else { break };
            if last.is_some_and(|l| l >= key) {
                return None;
            }
            // An address+ORPort key that takes its address's runs needs that address first.
            if from == RunsFrom::Address && last_address_only != Some((key.0, key.1)) {
                return None;
            }
            blocks += usize::from(before.left == 0);
            // Checkpoints stand before the first key of an address, with runs of its own: a
            // lookup starting there has what the keys after it refer to.
            let first_of_address = last.is_none_or(|l| (l.0, l.1) != (key.0, key.1));
            if first_of_address {
                addresses.push(AddressFilter::hash(key.0, key.1));
            }
            if since >= CHECKPOINT_KEYS && first_of_address && from == RunsFrom::Own {
                checkpoints.push(Checkpoint { key, cursor: before });
                since = 0;
            }
            since += 1;
            last = Some(key);
            if key.2 == 0 {
                last_address_only = Some((key.0, key.1));
            }
        }
        // Every stream ends where the last key does.
        if cursor.at.iter().zip(&streams.bytes).any(|(&at, bytes)| at as usize != bytes.len()) {
            return None;
        }
        Some(Index { checkpoints, blocks, addresses: AddressFilter::new(&addresses) })
    }

    /// The streams as slices, once per walk.
    fn streams(&self) -> Streams<'_> {
        Streams { bytes: self.streams.clone().map(|r| self.blob.get(r).unwrap_or(&[])), shard: self }
    }

    /// Whether source `s` had a snapshot on `day` (false outside this shard's year).
    pub fn has_snapshot(&self, s: usize, day: i64) -> bool {
        let Some(source) = self.sources.get(s) else { return false };
        if day < self.first_day || day >= self.first_day + self.days {
            return false;
        }
        let i = (day - self.first_day) as usize;
        source.coverage.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0)
    }

    /// Days of this year with at least one snapshot of a source that `wanted` accepts.
    pub fn covered_days(&self, wanted: impl Fn(&ShardSource) -> bool) -> i64 {
        (self.first_day..self.first_day + self.days)
            .filter(|&d| self.sources.iter().enumerate().any(|(s, src)| wanted(src) && self.has_snapshot(s, d)))
            .count() as i64
    }

    /// The runs of one key in this year: (first day, last day, source mask), by first day.
    pub fn intervals(&self, key: &[u8]) -> Vec<(i64, i64, u64)> {
        let mut out = Vec::new();
        let Some(want) = parse_key(key) else { return out };
        let Some(index) = self.index() else { return out };
        if !index.addresses.may_have(want.0, want.1) {
            return out;
        }
        let start = index.checkpoints.partition_point(|c| c.key <= want);
        let Some(checkpoint) = start.checked_sub(1).and_then(|i| index.checkpoints.get(i)) else { return out };
        let mut cursor = checkpoint.cursor;
        let mut scratch = Scratch::default();
        let streams = self.streams();
        // Runs are kept only for the wanted address (its address+ORPort keys may take them).
        let keep = |key: Key| (key.0, key.1) == (want.0, want.1);
        while let Some(Some((key, _))) = streams.next_key(&mut cursor, &mut scratch, keep) {
            if key == want {
                out = if key.2 == 0 { scratch.address } else { scratch.key };
                break;
            }
            if key > want {
                break;
            }
        }
        // Written in (first, last) order: no sort needed.
        out
    }

    /// Blocks in this shard (for size reports).
    pub fn blocks(&self) -> usize {
        self.index().map_or(0, |i| i.blocks)
    }
}

/// A shard's streams for one walk over its keys.
struct Streams<'a> {
    bytes: [&'a [u8]; STREAMS],
    shard: &'a Shard,
}

impl Streams<'_> {
    fn byte(&self, cursor: &mut Cursor, i: usize) -> Option<u8> {
        let at = cursor.at.get_mut(i)?;
        let b = *self.bytes.get(i)?.get(*at as usize)?;
        *at += 1;
        Some(b)
    }

    fn varint(&self, cursor: &mut Cursor, i: usize) -> Option<u128> {
        let at = cursor.at.get_mut(i)?;
        let mut next = *at as usize;
        let v = get_varint(self.bytes.get(i)?, &mut next)?;
        *at = next as u32;
        Some(v)
    }

    /// An IPv6 key's bits after its block prefix, as a delta from the previous key's (see
    /// `put_v6_rest`).
    fn v6_delta(&self, cursor: &mut Cursor) -> Option<u128> {
        let previous = cursor.previous;
        let high = (previous >> IID_BITS).checked_add(self.varint(cursor, KEY_V6)?).filter(|h| h >> 32 == 0)?;
        let bytes = |cursor: &mut Cursor, stream: usize, n: usize| -> Option<u128> {
            (0..n).try_fold(0u128, |v, _| Some(v << 8 | u128::from(self.byte(cursor, stream)?)))
        };
        let iid = match self.byte(cursor, V6_KIND)? {
            IID_NEXT => (previous & IID_MASK).checked_add(self.varint(cursor, V6_SMALL)?)?,
            IID_SMALL => self.varint(cursor, V6_SMALL)?,
            IID_EUI64 => bytes(cursor, V6_OUI, 3)? << 40 | 0xfffe << 24 | bytes(cursor, V6_NIC, 3)?,
            IID_RAW => bytes(cursor, V6_RAW, 8)?,
            _ => return None,
        };
        if iid > IID_MASK {
            return None;
        }
        (high.checked_shl(IID_BITS)? | iid).checked_sub(previous)
    }

    /// Decodes the key at `cursor` and moves past it; when `keep` wants the key, its runs go to
    /// `scratch` (`address` for an address-only key, `key` for an address+ORPort key). Also
    /// where its runs came from. `Some(None)` at the end of the blocks; `None` on bytes that do
    /// not decode.
    fn next_key(
        &self,
        cursor: &mut Cursor,
        scratch: &mut Scratch,
        keep: impl Fn(Key) -> bool,
    ) -> Option<Option<(Key, RunsFrom)>> {
        if cursor.left == 0 {
            if cursor.at[BLOCKS] as usize == self.bytes[BLOCKS].len() {
                return Some(None);
            }
            // Blocks strictly increase: only the first may start at 0 (0.0.0.0/16).
            let first_block = cursor.at[BLOCKS] == 0;
            let delta = self.varint(cursor, BLOCKS)?;
            if delta == 0 && !first_block {
                return None;
            }
            cursor.block = cursor.block.checked_add(delta)?;
            cursor.left = u32::try_from(self.varint(cursor, BLOCKS)?).ok().filter(|&n| n > 0)?;
            cursor.previous = 0;
        }
        let (family, prefix) =
            if cursor.block < V6_BLOCKS { (4u8, cursor.block) } else { (6u8, cursor.block - V6_BLOCKS) };
        if family == 6 && prefix > u128::from(u32::MAX) {
            return None;
        }
        let flags = self.byte(cursor, FLAGS)?;
        if flags >> 6 != 0 {
            return None;
        }
        let delta = if flags & FLAG_SAME_ADDRESS != 0 {
            0
        } else if family == 4 {
            u128::from(self.byte(cursor, KEY_HI)?) << 8 | u128::from(self.byte(cursor, KEY_LO)?)
        } else {
            self.v6_delta(cursor)?
        };
        let rest = cursor.previous.checked_add(delta).filter(|&r| r >> rest_bits(family) == 0)?;
        cursor.previous = rest;
        cursor.left -= 1;
        let port = if flags & FLAG_PORT != 0 {
            let port = match self.byte(cursor, PORT_STREAM)? {
                PORT_ESCAPE => u16::from_be_bytes([self.byte(cursor, PORT_ESCAPED)?, self.byte(cursor, PORT_ESCAPED)?]),
                rank => *self.shard.ports.get(usize::from(rank))?,
            };
            Some(port).filter(|&p| p != 0)?
        } else {
            0
        };
        let key = (family, prefix << rest_bits(family) | rest, port);
        let keep = keep(key);
        let count_bits = (flags >> 2) & 3;
        let Scratch { address, key: key_runs, written } = scratch;
        match flags & (FLAG_ADDRESS_RUNS | FLAG_PREVIOUS_RUNS) {
            FLAG_ADDRESS_RUNS => {
                if port == 0 || count_bits != 0 {
                    return None;
                }
                if keep {
                    let mask = self.shard.port_mask;
                    key_runs.clear();
                    key_runs.extend(address.iter().filter(|r| r.2 & mask != 0).map(|&(f, l, m)| (f, l, m & mask)));
                }
                Some(Some((key, RunsFrom::Address)))
            }
            FLAG_PREVIOUS_RUNS => {
                let (mut at, count) = (*written)?;
                if count_bits != 0 {
                    return None;
                }
                if keep {
                    self.runs(&mut at, count, Some(if port == 0 { address } else { key_runs }))?;
                }
                Some(Some((key, RunsFrom::Previous)))
            }
            0 => {
                let count = match count_bits {
                    0 => usize::try_from(self.varint(cursor, COUNTS)?).ok()?.checked_add(4)?,
                    n => usize::from(n),
                };
                *written = Some((*cursor, count));
                self.runs(cursor, count, keep.then_some(if port == 0 { address } else { key_runs }))?;
                Some(Some((key, RunsFrom::Own)))
            }
            _ => None,
        }
    }

    /// Reads `count` runs at `cursor` (into `out` when given).
    fn runs(&self, cursor: &mut Cursor, count: usize, mut out: Option<&mut Vec<(i64, i64, u64)>>) -> Option<()> {
        if let Some(out) = out.as_deref_mut() {
            out.clear();
        }
        for _ in 0..count {
            let hi = u64::from(self.byte(cursor, ID_HI)?);
            let id = match hi {
                0..ID_ONE_BYTE => hi,
                255 => u64::try_from(self.varint(cursor, ID_ESCAPED)?).ok().filter(|&id| id >= ID_ESCAPE)?,
                _ => ID_ONE_BYTE + ((hi - ID_ONE_BYTE) << 8 | u64::from(self.byte(cursor, ID_LO)?)),
            };
            let span = if id == 0 {
                let columns = self.bytes.get(INLINE..INLINE + SPAN_COLUMNS)?;
                let at = cursor.at.get_mut(INLINE..INLINE + SPAN_COLUMNS)?;
                read_span(columns, at, self.shard.first_day)?
            } else {
                *self.shard.spans.get(usize::try_from(id - 1).ok()?)?
            };
            if let Some(out) = out.as_deref_mut() {
                out.push(span);
            }
        }
        Some(())
    }
}

/// Reads a span written by [`put_span`] from its five columns, moving `at` past it.
fn read_span(columns: &[&[u8]], at: &mut [u32], first_day: i64) -> Option<(i64, i64, u64)> {
    let mut byte = |i: usize| -> Option<i64> {
        let at = at.get_mut(i)?;
        let b = *columns.get(i)?.get(*at as usize)?;
        *at += 1;
        Some(i64::from(b))
    };
    let first = first_day.checked_add(byte(0)? << 8 | byte(1)?)?;
    let last = first.checked_add(byte(2)? << 8 | byte(3)?)?;
    let column = columns.get(4)?;
    let at = at.get_mut(4)?;
    let mut next = *at as usize;
    let mask = u64::try_from(get_varint(column, &mut next)?).ok()?;
    *at = u32::try_from(next).ok()?;
    Some((first, last, mask))
}
