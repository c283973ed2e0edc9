//! The relay index: which IP:port was a Tor relay, in which dated list. The built-in index is
//! compiled from `relays/sources` at build time (relays/build.rs) and embedded; lists loaded at
//! run time (`--relays`, the page's "load relay list") are compiled the same way and layered on
//! top, so one lookup answers from all of them.

pub mod blob;
pub mod key;
pub mod list;

use crate::analysis::bytes::Cursor;
use fst::{IntoStreamer, Streamer};
use list::{ListKind, PortKind, RelayList};
use std::borrow::Cow;
use std::net::IpAddr;

/// The embedded index (empty when the build found no relay sources). The page does not embed
/// it: its worker fetches the same blob as a file (`relays.idx`), keeping the wasm small.
#[cfg(not(target_arch = "wasm32"))]
static BUILTIN: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/relays.idx"));
#[cfg(target_arch = "wasm32")]
static BUILTIN: &[u8] = &[];

/// One dated list in the index.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Snapshot {
    pub source: String,
    pub kind: &'static str,
    /// The document's own date, as it gives it.
    pub date: Option<String>,
    #[serde(skip)]
    pub day: Option<i64>,
    pub relays: u32,
    /// Compiled into torsift (true) or loaded by the user for this run (false).
    pub builtin: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelayMeta {
    pub fingerprint: String,
    pub nickname: String,
    pub country: String,
}

/// One list entry matching an endpoint.
#[derive(Clone, Debug)]
pub struct RelayHit<'a> {
    /// `OrPort`/`DirPort` when address and port matched; `AddressOnly` when only the address
    /// did (the list gives no port, or the relay's port is another one: `listed_port`).
    pub matched: PortKind,
    pub listed_port: u16,
    pub snapshot: &'a Snapshot,
    pub relay: Option<&'a RelayMeta>,
    pub flags: u16,
}

struct Layer {
    snapshots: Vec<Snapshot>,
    map: fst::Map<Cow<'static, [u8]>>,
    postings: Cow<'static, [u8]>,
    relays: Vec<RelayMeta>,
}

/// Built-in and loaded lists, and the relay history by day; cloning shares the compiled layers
/// and history shards.
#[derive(Clone, Default)]
pub struct RelayIndex {
    layers: Vec<std::sync::Arc<Layer>>,
    history: super::history::RelayHistory,
}

impl std::fmt::Debug for RelayIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayIndex").field("snapshots", &self.snapshots().count()).finish()
    }
}

/// Length-prefixed UTF-8 strings of the blob.
fn str16(r: &mut Cursor<'_>) -> Option<String> {
    let n = usize::from(r.le16()?);
    Some(String::from_utf8_lossy(r.take(n)?).into_owned())
}

fn str8(r: &mut Cursor<'_>) -> Option<String> {
    let n = usize::from(r.u8()?);
    Some(String::from_utf8_lossy(r.take(n)?).into_owned())
}

fn parse_layer(blob: Cow<'static, [u8]>, builtin: bool) -> Option<Layer> {
    let bytes: &[u8] = &blob;
    let mut r = Cursor::new(bytes);
    if r.take(5)? != blob::MAGIC {
        return None;
    }
    let mut snapshots = Vec::new();
    for _ in 0..r.le16()? {
        let kind = ListKind::from_u8(r.u8()?);
        let day = r.le_i32()?;
        let relays = r.le32()?;
        let source = str16(&mut r)?;
        let date = str16(&mut r)?;
        snapshots.push(Snapshot {
            source,
            kind: kind.name(),
            date: (!date.is_empty()).then_some(date),
            day: (day != i32::MIN).then_some(i64::from(day)),
            relays,
            builtin,
        });
    }
    let fst_len = r.le32()? as usize;
    let fst_start = r.at;
    r.take(fst_len)?;
    let postings_count = r.le32()? as usize;
    let postings_start = r.at;
    r.take(postings_count.checked_mul(blob::POSTING_BYTES)?)?;
    let postings_end = r.at;
    let mut relays = Vec::new();
    for _ in 0..r.le32()? {
        let fp = r.take(20)?;
        let cc = r.take(2)?;
        let nickname = str8(&mut r)?;
        relays.push(RelayMeta {
            fingerprint: if fp.iter().all(|&b| b == 0) {
                String::new()
            } else {
                fp.iter().map(|b| format!("{b:02X}")).collect()
            },
            country: cc.iter().filter(|&&c| c != 0).map(|&c| char::from(c)).collect(),
            nickname,
        });
    }
    let (map_bytes, postings): (Cow<'static, [u8]>, Cow<'static, [u8]>) = match blob {
        Cow::Borrowed(b) => {
            (Cow::Borrowed(b.get(fst_start..fst_start + fst_len)?), Cow::Borrowed(b.get(postings_start..postings_end)?))
        }
        Cow::Owned(ref b) => (
            Cow::Owned(b.get(fst_start..fst_start + fst_len)?.to_vec()),
            Cow::Owned(b.get(postings_start..postings_end)?.to_vec()),
        ),
    };
    let map = fst::Map::new(map_bytes).ok()?;
    Some(Layer { snapshots, map, postings, relays })
}

impl RelayIndex {
    /// The index compiled into this build (possibly empty: see [`RelayIndex::is_empty`]).
    pub fn builtin() -> RelayIndex {
        let mut index = RelayIndex { history: super::history::RelayHistory::builtin(), ..RelayIndex::default() };
        if let Some(layer) = parse_layer(Cow::Borrowed(BUILTIN), true) {
            index.layers.push(std::sync::Arc::new(layer));
        }
        index
    }

    /// Bytes of the embedded index (for size reports).
    pub fn builtin_size() -> usize {
        BUILTIN.len()
    }

    /// The embedded index blob, as the build compiled it.
    pub fn builtin_blob() -> &'static [u8] {
        BUILTIN
    }

    /// An index from a blob written by `blob::build` (the page fetches the built-in one).
    pub fn from_blob(bytes: Vec<u8>, builtin: bool) -> Option<RelayIndex> {
        Some(RelayIndex {
            layers: vec![std::sync::Arc::new(parse_layer(Cow::Owned(bytes), builtin)?)],
            history: super::history::RelayHistory::default(),
        })
    }

    /// The relay history by day (every year in the CLI; the years the page fetched).
    pub fn history(&self) -> &super::history::RelayHistory {
        &self.history
    }

    pub fn history_mut(&mut self) -> &mut super::history::RelayHistory {
        &mut self.history
    }

    /// Adds lists loaded at run time.
    pub fn add_lists(&mut self, lists: &[RelayList]) -> Result<(), String> {
        for chunk in lists.chunks(blob::MAX_SNAPSHOTS) {
            let blob = blob::build(chunk)?;
            let layer = parse_layer(Cow::Owned(blob), false).ok_or("the compiled relay list could not be read back")?;
            self.layers.push(std::sync::Arc::new(layer));
        }
        Ok(())
    }

    pub fn snapshots(&self) -> impl Iterator<Item = &Snapshot> {
        self.layers.iter().flat_map(|l| l.snapshots.iter())
    }

    pub fn is_empty(&self) -> bool {
        self.snapshots().next().is_none()
    }

    pub fn has_builtin(&self) -> bool {
        self.snapshots().any(|s| s.builtin)
    }

    /// Every list entry for this endpoint: exact address+port matches first, then entries of the
    /// same address on other ports or with no port.
    pub fn lookup(&self, ip: IpAddr, port: u16) -> Vec<RelayHit<'_>> {
        let mut hits = Vec::new();
        let exact = key::encode(ip, port);
        let prefix = key::address_prefix(ip);
        for layer in &self.layers {
            // Keys of one address are contiguous and start with its fixed-length prefix.
            let mut stream = layer.map.range().ge(&prefix).into_stream();
            while let Some((k, v)) = stream.next() {
                if !k.starts_with(&prefix) {
                    break;
                }
                let listed_port = key::decode(k).map_or(0, |(_, p)| p);
                let is_exact = k == exact.as_slice();
                let (start, count) = ((v >> 16) as usize, (v & 0xffff) as usize);
                for i in start..start + count {
                    let at = i * blob::POSTING_BYTES;
                    let Some(p) = layer.postings.get(at..at + blob::POSTING_BYTES) else { break };
                    let byte = |n: usize| p.get(n).copied().unwrap_or(0);
                    let mask = u32::from_le_bytes([byte(0), byte(1), byte(2), byte(3)]);
                    let kind_flags = u16::from_le_bytes([byte(4), byte(5)]);
                    let relay_id = u32::from_le_bytes([byte(6), byte(7), byte(8), 0]);
                    let kind = PortKind::from_u8((kind_flags >> 14) as u8);
                    for (snap, snapshot) in layer.snapshots.iter().enumerate() {
                        if mask & (1u32 << snap) == 0 {
                            continue;
                        }
                        hits.push(RelayHit {
                            matched: if is_exact { kind } else { PortKind::AddressOnly },
                            listed_port,
                            snapshot,
                            relay: layer.relays.get(relay_id as usize),
                            flags: kind_flags & 0x3fff,
                        });
                    }
                }
            }
        }
        hits.sort_by_key(|h| h.matched == PortKind::AddressOnly);
        hits
    }
}
