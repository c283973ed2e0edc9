//! Classic libpcap framing on `pcap-parser`: a 24-byte file header, then records of a 16-byte
//! header (24 bytes in Alexey Kuznetzov's "modified" variant) plus the captured bytes.
//! Reference: draft-ietf-opsawg-pcap, and libpcap's sf-pcap.c for the variants.
//!
//! The crate parses the header and each record in place; this module adds what a push-driven
//! reader needs around it: "need more bytes" versus a record too large to ever buffer, the exact
//! offset of every error, the timestamp resolution, and the link type's FCS bits.

use super::crate_gaps;
use super::{new_interface, Frame, Interface, TsResolution};
use crate::analysis::error::CaptureError;
use crate::analysis::time::Timestamp;
use pcap_parser::nom;
use pcap_parser::pcap::{parse_pcap_frame, parse_pcap_frame_be, parse_pcap_frame_modified, LegacyPcapBlock};
use pcap_parser::PcapError;

const FILE_HEADER_LEN: usize = 24;

/// The record layout the file's magic number announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    Little,
    Big,
    ModifiedLittle,
    ModifiedBig,
}

impl Layout {
    fn record_header_len(self) -> usize {
        match self {
            Layout::Little | Layout::Big => 16,
            Layout::ModifiedLittle | Layout::ModifiedBig => 24,
        }
    }
}

#[derive(Debug)]
pub struct PcapState {
    layout: Layout,
    resolution: TsResolution,
    header_done: bool,
}

impl PcapState {
    /// Recognises the six pcap magics: µs, ns and "modified", each in both byte orders.
    pub fn from_magic(magic: &[u8]) -> Option<Self> {
        let (layout, nanos) = match magic {
            [0xd4, 0xc3, 0xb2, 0xa1] => (Layout::Little, false),
            [0xa1, 0xb2, 0xc3, 0xd4] => (Layout::Big, false),
            [0x4d, 0x3c, 0xb2, 0xa1] => (Layout::Little, true),
            [0xa1, 0xb2, 0x3c, 0x4d] => (Layout::Big, true),
            [0x34, 0xcd, 0xb2, 0xa1] => (Layout::ModifiedLittle, false),
            [0xa1, 0xb2, 0xcd, 0x34] => (Layout::ModifiedBig, false),
            _ => return None,
        };
        Some(PcapState { layout, resolution: TsResolution::Decimal(if nanos { 9 } else { 6 }), header_done: false })
    }

    pub fn header_done(&self) -> bool {
        self.header_done
    }
}

/// Frames the next header or record in `buf`; returns the bytes consumed (0 = need more).
pub fn next_record(
    state: &mut PcapState,
    buf: &[u8],
    offset: u64,
    max_record_bytes: usize,
    interfaces: &mut Vec<Interface>,
    frames: &mut u64,
    on_frame: &mut dyn FnMut(Frame<'_>),
) -> Result<usize, CaptureError> {
    if !state.header_done {
        let Some((snaplen, network)) = crate_gaps::pcap_file_header(buf) else {
            return Ok(0);
        };
        // The upper bits of the link-type field carry FCS information (LT_FCS_*); the link type
        // itself is the low 26 bits.
        let link_type = network & 0x03ff_ffff;
        new_interface(interfaces, 0, link_type, snaplen, state.resolution);
        state.header_done = true;
        return Ok(FILE_HEADER_LEN);
    }
    let header_len = state.layout.record_header_len();
    let parsed = match state.layout {
        Layout::Little => parse_pcap_frame(buf),
        Layout::Big => parse_pcap_frame_be(buf),
        Layout::ModifiedLittle => parse_pcap_frame_modified(buf),
        Layout::ModifiedBig => crate_gaps::parse_pcap_frame_modified_be(buf),
    };
    let (rest, record) = match parsed {
        Ok(parsed) => parsed,
        Err(nom::Err::Incomplete(needed)) => {
            // The crate says how many more bytes the record needs: a record that could never fit
            // the buffer is a corrupt header, not a short read.
            let wanted = match needed {
                nom::Needed::Size(n) => buf.len().saturating_add(n.get()),
                nom::Needed::Unknown => 0,
            };
            if wanted > header_len.saturating_add(max_record_bytes) {
                let caplen = wanted - header_len;
                return Err(CaptureError::new(
                    offset,
                    format!(
                        "packet record {} claims {caplen} captured bytes, more than the {max_record_bytes}-byte \
                         limit for one packet: the record header is corrupt, so reading stops here",
                        *frames + 1
                    ),
                ));
            }
            return Ok(0);
        }
        // The record parsers fail only by running out of input, but a future release may check
        // more: say what the crate said, where.
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => {
            return Err(CaptureError::new(
                offset,
                format!("packet record {} is malformed: {}", *frames + 1, describe(&e)),
            ))
        }
    };
    emit(state, &record, interfaces, frames, on_frame);
    Ok(buf.len() - rest.len())
}

fn emit(
    state: &PcapState,
    record: &LegacyPcapBlock<'_>,
    interfaces: &mut [Interface],
    frames: &mut u64,
    on_frame: &mut dyn FnMut(Frame<'_>),
) {
    let (secs, frac) = (i64::from(record.ts_sec), i64::from(record.ts_usec));
    let ts = match state.resolution {
        TsResolution::Decimal(9) => Timestamp::from_parts(secs, frac),
        _ => Timestamp::from_parts(secs, frac.saturating_mul(1000)),
    };
    *frames += 1;
    if let Some(iface) = interfaces.first_mut() {
        iface.packets += 1;
        let link_type = iface.link_type;
        on_frame(Frame { number: *frames, interface: 0, link_type, ts, data: record.data, orig_len: record.origlen });
    }
}

fn describe(e: &PcapError<&[u8]>) -> String {
    match e {
        PcapError::NomError(_, kind) => format!("pcap-parser rejected it ({kind:?})"),
        other => format!("pcap-parser rejected it ({other})"),
    }
}
