//! Capture framing: turns the bytes of a pcap or pcapng file, pushed in chunks of any size, into
//! frames (link type, timestamp, captured bytes, on-wire length). Mechanism only.
//!
//! The framer is push-driven and never buffers more than one record: the caller hands it a
//! buffer, it emits every complete record in it and says how many bytes it consumed; the rest
//! waits for the next chunk. The records and blocks themselves are parsed in place by the
//! `pcap-parser` crate; this module keeps the streaming, the limits and the exact byte offset of
//! every error, and applies `if_tsresol` for both decimal and power-of-two resolutions.
//! Where the crate falls short, `crate_gaps` says how and works around it.

mod crate_gaps;
mod gzip;
mod linktype;
mod pcap;
mod pcapng;

pub use gzip::{is_gzip, GzipStream};
pub use linktype::link_type_name;

use super::error::CaptureError;
use super::limits::Limits;
use super::time::Timestamp;
use serde::Serialize;

/// One captured frame, borrowed from the chunk it was read from.
#[derive(Debug)]
pub struct Frame<'a> {
    /// 1-based frame number in the file, as Wireshark numbers frames.
    pub number: u64,
    /// Index into [`CaptureReader::interfaces`] (unique across pcapng sections).
    pub interface: usize,
    pub link_type: u32,
    pub ts: Timestamp,
    pub data: &'a [u8],
    /// Length on the wire, as the capturing host saw it.
    pub orig_len: u32,
}

/// What the file's magic number says it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Pcap,
    Pcapng,
}

/// A capture interface: the pcap file itself, or one pcapng Interface Description Block.
#[derive(Clone, Debug, Serialize)]
pub struct Interface {
    pub id: usize,
    /// pcapng section number (0 for pcap).
    pub section: usize,
    pub link_type: u32,
    pub link_type_name: &'static str,
    pub snaplen: u32,
    /// Timestamp units per second (1e6 for microseconds, 1e9 for nanoseconds, 2^n for binary).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub ts_units_per_sec: f64,
    pub packets: u64,
    #[serde(skip)]
    pub ts_resolution: TsResolution,
    #[serde(skip)]
    pub ts_offset_secs: i64,
}

/// A comment stored in the capture (pcapng `opt_comment`), with where it was found.
#[derive(Clone, Debug, Serialize)]
pub struct Comment {
    pub offset: u64,
    /// `section` or `packet N` (1-based frame number, as in Wireshark).
    pub on: String,
    pub text: String,
}

/// How to turn a raw timestamp count into nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TsResolution {
    /// Units of 10^-n seconds.
    Decimal(u8),
    /// Units of 2^-n seconds.
    Binary(u8),
}

impl TsResolution {
    /// pcapng `if_tsresol`: the high bit picks a power of two, otherwise a power of ten.
    pub fn from_tsresol(v: u8) -> Self {
        if v & 0x80 != 0 {
            TsResolution::Binary(v & 0x7f)
        } else {
            TsResolution::Decimal(v)
        }
    }

    pub fn units_per_sec(self) -> f64 {
        match self {
            TsResolution::Decimal(n) => 10f64.powi(i32::from(n)),
            TsResolution::Binary(n) => 2f64.powi(i32::from(n)),
        }
    }

    /// Nanoseconds since the epoch for a raw count, saturating on absurd values.
    pub fn to_timestamp(self, raw: u64, offset_secs: i64) -> Timestamp {
        let raw = u128::from(raw);
        let nanos: u128 = match self {
            TsResolution::Decimal(n) if n <= 9 => raw * 10u128.pow(9 - u32::from(n)),
            TsResolution::Decimal(n) => match 10u128.checked_pow(u32::from(n) - 9) {
                Some(div) => raw / div,
                None => 0,
            },
            TsResolution::Binary(n) => (raw * 1_000_000_000) >> n.min(127),
        };
        let nanos = i64::try_from(nanos).unwrap_or(i64::MAX);
        Timestamp(nanos.saturating_add(offset_secs.saturating_mul(Timestamp::NANOS_PER_SEC)))
    }
}

/// Counts of frames that were framed but could not be attributed, and similar per-file facts.
#[derive(Clone, Debug, Default)]
pub struct FramingStats {
    pub packets_on_unknown_interface: u64,
}

#[derive(Debug)]
enum State {
    /// Waiting for the first bytes.
    Magic,
    Pcap(pcap::PcapState),
    Pcapng(pcapng::PcapngState),
}

/// Push-driven reader of pcap and pcapng framing.
#[derive(Debug)]
pub struct CaptureReader {
    state: State,
    pub interfaces: Vec<Interface>,
    pub comments: Vec<Comment>,
    pub stats: FramingStats,
    /// Frames emitted so far (1-based number of the next frame is `frames + 1`).
    pub frames: u64,
    max_record_bytes: usize,
}

/// Comments kept per capture; more are counted but not stored.
const MAX_COMMENTS: usize = 64;
/// pcapng interfaces kept per capture. Each Interface Description Block costs a few dozen bytes;
/// the bound keeps a crafted file of millions of IDBs from growing memory without limit.
const MAX_INTERFACES: usize = 65_536;

impl CaptureReader {
    pub fn new(limits: &Limits) -> Self {
        CaptureReader {
            state: State::Magic,
            interfaces: Vec::new(),
            comments: Vec::new(),
            stats: FramingStats::default(),
            frames: 0,
            max_record_bytes: limits.max_record_bytes,
        }
    }

    pub fn format(&self) -> Option<Format> {
        match self.state {
            State::Magic => None,
            State::Pcap(_) => Some(Format::Pcap),
            State::Pcapng(_) => Some(Format::Pcapng),
        }
    }

    /// Frames every complete record at the start of `buf` (which begins at stream offset `base`)
    /// and returns how many bytes were consumed. Bytes after that wait for the next call, which
    /// must start with them.
    pub fn feed(&mut self, buf: &[u8], base: u64, on_frame: &mut dyn FnMut(Frame<'_>)) -> Result<usize, CaptureError> {
        let mut used = 0;
        if let State::Magic = self.state {
            let Some(magic) = buf.get(..4) else {
                return Ok(0);
            };
            self.state = match magic {
                [0x0a, 0x0d, 0x0d, 0x0a] => State::Pcapng(pcapng::PcapngState::default()),
                _ => match pcap::PcapState::from_magic(magic) {
                    Some(state) => State::Pcap(state),
                    None => {
                        return Err(CaptureError::new(
                            base,
                            format!(
                                "not a pcap or pcapng capture: it starts with bytes {}, \
                                 which is no capture magic number; save the capture as pcap or pcapng \
                                 (gzip-compressed is fine) and try again",
                                magic.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
                            ),
                        ))
                    }
                },
            };
        }
        loop {
            let rest = buf.get(used..).unwrap_or_default();
            let offset = base + used as u64;
            let step = match &mut self.state {
                State::Magic => return Ok(used),
                State::Pcap(state) => pcap::next_record(
                    state,
                    rest,
                    offset,
                    self.max_record_bytes,
                    &mut self.interfaces,
                    &mut self.frames,
                    on_frame,
                )?,
                State::Pcapng(state) => pcapng::next_block(
                    state,
                    rest,
                    offset,
                    self.max_record_bytes,
                    &mut Sink {
                        interfaces: &mut self.interfaces,
                        comments: &mut self.comments,
                        stats: &mut self.stats,
                        frames: &mut self.frames,
                        on_frame,
                    },
                )?,
            };
            match step {
                0 => return Ok(used),
                n => used += n,
            }
        }
    }

    /// Called at end of input with the number of bytes still unconsumed: anything left over is a
    /// record cut short.
    pub fn finish(&self, leftover: usize, offset: u64) -> Option<CaptureError> {
        match (&self.state, leftover) {
            (State::Magic, 0) => Some(CaptureError::new(0, "the file is empty: no capture header")),
            (State::Magic, n) => {
                Some(CaptureError::new(0, format!("only {n} bytes: too short for any capture header")))
            }
            (_, 0) => None,
            (State::Pcap(state), n) => Some(CaptureError::new(
                offset,
                if state.header_done() {
                    format!(
                        "the capture was cut short in the middle of a packet record ({n} bytes of it \
                         present); every packet before it was analysed"
                    )
                } else {
                    format!("the pcap file header is cut short ({n} of 24 bytes present)")
                },
            )),
            (State::Pcapng(_), n) => Some(CaptureError::new(
                offset,
                format!(
                    "the capture was cut short in the middle of a pcapng block ({n} bytes of it \
                     present); every packet before it was analysed"
                ),
            )),
        }
    }
}

/// Where pcapng framing puts what it reads.
struct Sink<'s, 'f> {
    interfaces: &'s mut Vec<Interface>,
    comments: &'s mut Vec<Comment>,
    stats: &'s mut FramingStats,
    frames: &'s mut u64,
    on_frame: &'f mut dyn FnMut(Frame<'_>),
}

impl Sink<'_, '_> {
    fn comment(&mut self, offset: u64, on: String, text: &[u8]) {
        if self.comments.len() < MAX_COMMENTS {
            let text = String::from_utf8_lossy(text).trim_end_matches('\0').to_string();
            self.comments.push(Comment { offset, on, text });
        }
    }
}

fn new_interface(
    interfaces: &mut Vec<Interface>,
    section: usize,
    link_type: u32,
    snaplen: u32,
    ts_resolution: TsResolution,
) -> Option<usize> {
    if interfaces.len() >= MAX_INTERFACES {
        return None;
    }
    let id = interfaces.len();
    interfaces.push(Interface {
        id,
        section,
        link_type,
        link_type_name: link_type_name(link_type),
        snaplen,
        name: None,
        ts_units_per_sec: ts_resolution.units_per_sec(),
        packets: 0,
        ts_resolution,
        ts_offset_secs: 0,
    });
    Some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_of_two_resolution_is_exact() {
        // if_tsresol 0x94 = 2^-20 s units: 2^20 units are exactly one second.
        let r = TsResolution::from_tsresol(0x94);
        assert_eq!(r.to_timestamp(1 << 20, 0), Timestamp(1_000_000_000));
        assert_eq!(TsResolution::from_tsresol(6).to_timestamp(1_500_000, 0), Timestamp(1_500_000_000));
        assert_eq!(TsResolution::from_tsresol(9).to_timestamp(7, 2), Timestamp(2_000_000_007));
    }
}
