//! pcapng framing on `pcap-parser`: Section Header, Interface Description, Enhanced / Simple /
//! obsolete Packet blocks; every other block is skipped by its length without being parsed.
//! Reference: draft-ietf-opsawg-pcapng.
//!
//! This module reads each block's type and lengths itself (the byte order, the limits and the
//! exact offset of every error are the streaming reader's business), then hands the whole block
//! to the crate's parser for its fields and options.

use super::crate_gaps;
use super::{new_interface, Sink, TsResolution};
use crate::analysis::bytes::{array, Endian};
use crate::analysis::error::CaptureError;
use crate::analysis::time::Timestamp;
use pcap_parser::pcapng::{
    parse_enhancedpacketblock_be, parse_enhancedpacketblock_le, parse_interfacedescriptionblock_be,
    parse_interfacedescriptionblock_le, parse_sectionheaderblock, parse_simplepacketblock_be,
    parse_simplepacketblock_le, PcapNGOption,
};
use pcap_parser::traits::PcapNGPacketBlock;

const SHB: u32 = 0x0a0d_0d0a;
const IDB: u32 = 1;
const OBSOLETE_PB: u32 = 2;
const SPB: u32 = 3;
const EPB: u32 = 6;
const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;

const OPT_END: u16 = 0;
const OPT_COMMENT: u16 = 1;
const IF_NAME: u16 = 2;
const IF_TSRESOL: u16 = 9;
const IF_TSOFFSET: u16 = 14;

#[derive(Debug)]
pub struct PcapngState {
    endian: Endian,
    section: usize,
    seen_section: bool,
    /// Interface ids of the current section → indexes into the capture's interface list.
    section_interfaces: Vec<Option<usize>>,
}

impl Default for PcapngState {
    fn default() -> Self {
        PcapngState { endian: Endian::Little, section: 0, seen_section: false, section_interfaces: Vec::new() }
    }
}

/// Frames the next block in `buf`; returns the bytes consumed (0 = need more).
pub(super) fn next_block(
    state: &mut PcapngState,
    buf: &[u8],
    offset: u64,
    max_record_bytes: usize,
    sink: &mut Sink<'_, '_>,
) -> Result<usize, CaptureError> {
    let Some(raw_type) = array::<4>(buf, 0) else {
        return Ok(0);
    };
    if u32::from_le_bytes(raw_type) == SHB {
        // The Section Header fixes the byte order of everything up to the next one.
        let Some(bom) = array::<4>(buf, 8) else {
            return Ok(0);
        };
        state.endian = if u32::from_le_bytes(bom) == BYTE_ORDER_MAGIC {
            Endian::Little
        } else if u32::from_be_bytes(bom) == BYTE_ORDER_MAGIC {
            Endian::Big
        } else {
            return Err(CaptureError::new(
                offset + 8,
                format!(
                    "pcapng section header has byte-order magic {:02x}{:02x}{:02x}{:02x}, expected \
                     1a2b3c4d in either byte order: the file is corrupt here",
                    bom[0], bom[1], bom[2], bom[3]
                ),
            ));
        };
    } else if !state.seen_section {
        return Err(CaptureError::new(offset, "pcapng data does not start with a Section Header Block"));
    }
    let e = state.endian;
    let (Some(block_type), Some(len)) = (e.u32(buf, 0), e.u32(buf, 4)) else {
        return Ok(0);
    };
    let len_usize = len as usize;
    if len < 12 || len % 4 != 0 {
        return Err(CaptureError::new(
            offset,
            format!(
                "pcapng block of type {block_type:#x} says its length is {len} bytes, which is not a \
                 multiple of 4 of at least 12: the file is corrupt here"
            ),
        ));
    }
    if len_usize > max_record_bytes {
        return Err(CaptureError::new(
            offset,
            format!(
                "pcapng block of type {block_type:#x} claims {len} bytes, more than the \
                 {max_record_bytes}-byte limit: the block length is corrupt, so reading stops here"
            ),
        ));
    }
    let Some(block) = buf.get(..len_usize) else {
        return Ok(0);
    };
    if e.u32(block, len_usize - 4) != Some(len) {
        return Err(CaptureError::new(
            offset,
            format!(
                "pcapng block of type {block_type:#x} has length {len} at its start but {} at its end: \
                 the block length lies, so reading stops here",
                e.u32(block, len_usize - 4).unwrap_or(0)
            ),
        ));
    }
    match block_type {
        SHB => {
            let Ok((_, shb)) = parse_sectionheaderblock(block) else {
                return Err(too_short(offset, block_type, len));
            };
            if state.seen_section {
                state.section += 1;
            }
            state.seen_section = true;
            state.section_interfaces.clear();
            for (code, value, at) in options(block, &shb.options) {
                if code == OPT_COMMENT {
                    sink.comment(offset + at, "section".into(), value);
                }
            }
        }
        IDB => {
            let parsed = match e {
                Endian::Little => parse_interfacedescriptionblock_le(block),
                Endian::Big => parse_interfacedescriptionblock_be(block),
            };
            let Ok((_, idb)) = parsed else {
                return Err(too_short(offset, block_type, len));
            };
            let mut resolution = TsResolution::Decimal(6);
            let mut ts_offset = 0;
            let mut name = None;
            for (code, value, _) in options(block, &idb.options) {
                match code {
                    IF_TSRESOL => {
                        if let Some(&v) = value.first() {
                            resolution = TsResolution::from_tsresol(v);
                        }
                    }
                    IF_TSOFFSET => ts_offset = crate_gaps::if_tsoffset(e, value),
                    IF_NAME => name = Some(String::from_utf8_lossy(value).trim_end_matches('\0').to_string()),
                    _ => {}
                }
            }
            // The link type is 16 bits in an IDB; the crate widens it to a signed 32-bit field.
            let link_type = u32::from(idb.linktype.0 as u16);
            let id = new_interface(sink.interfaces, state.section, link_type, idb.snaplen, resolution);
            if let Some(iface) = id.and_then(|i| sink.interfaces.get_mut(i)) {
                iface.ts_offset_secs = ts_offset;
                iface.name = name;
            }
            state.section_interfaces.push(id);
        }
        EPB => {
            let parsed = match e {
                Endian::Little => parse_enhancedpacketblock_le(block),
                Endian::Big => parse_enhancedpacketblock_be(block),
            };
            let Ok((_, epb)) = parsed else {
                return Err(bad_packet_block(e, block, offset, block_type, len));
            };
            let frame_no = *sink.frames + 1;
            for (code, value, at) in options(block, &epb.options) {
                if code == OPT_COMMENT {
                    sink.comment(offset + at, format!("packet {frame_no}"), value);
                }
            }
            let raw = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
            emit(state, sink, epb.if_id as usize, Some(raw), epb.packet_data(), epb.origlen);
        }
        OBSOLETE_PB => {
            let Some(pb) = crate_gaps::parse_obsolete_packet_block(e, block) else {
                return Err(bad_packet_block(e, block, offset, block_type, len));
            };
            let frame_no = *sink.frames + 1;
            for (code, value, at) in options(block, &pb.options) {
                if code == OPT_COMMENT {
                    sink.comment(offset + at, format!("packet {frame_no}"), value);
                }
            }
            emit(state, sink, pb.if_id, Some(pb.raw_ts), pb.data, pb.orig_len);
        }
        SPB => {
            // Simple Packet Block: origlen(4) data; always interface 0, no timestamp.
            let parsed = match e {
                Endian::Little => parse_simplepacketblock_le(block),
                Endian::Big => parse_simplepacketblock_be(block),
            };
            let Ok((_, spb)) = parsed else {
                return Err(too_short(offset, block_type, len));
            };
            // The captured length is the original length cut to the block and the interface's
            // snap length (the crate cuts to the block only).
            let snaplen = state
                .section_interfaces
                .first()
                .copied()
                .flatten()
                .and_then(|i| sink.interfaces.get(i))
                .map_or(0, |iface| iface.snaplen);
            let mut data = spb.packet_data();
            if snaplen > 0 {
                data = data.get(..snaplen as usize).unwrap_or(data);
            }
            emit(state, sink, 0, None, data, spb.origlen);
        }
        // Name resolution, statistics, secrets, custom and unknown blocks carry no packets.
        _ => {}
    }
    Ok(len_usize)
}

fn too_short(offset: u64, block_type: u32, len: u32) -> CaptureError {
    CaptureError::new(
        offset,
        format!("pcapng block of type {block_type:#x} is only {len} bytes, too short for its fields"),
    )
}

/// A packet block the crate rejected although its length fields agree: its captured length
/// runs past the block (the usual corruption), or the block is too short for its fields. Both
/// packet block layouts keep the captured length at byte 20.
fn bad_packet_block(e: Endian, block: &[u8], offset: u64, block_type: u32, len: u32) -> CaptureError {
    match e.u32(block, 20) {
        Some(caplen) if block.len() >= 32 => CaptureError::new(
            offset,
            format!(
                "packet block claims {caplen} captured bytes but the block is only {len} bytes \
                 long: the block is corrupt, so reading stops here"
            ),
        ),
        _ => too_short(offset, block_type, len),
    }
}

fn emit(state: &PcapngState, sink: &mut Sink<'_, '_>, if_id: usize, raw_ts: Option<u64>, data: &[u8], orig_len: u32) {
    *sink.frames += 1;
    let global = state.section_interfaces.get(if_id).copied().flatten();
    let Some(iface) = global.and_then(|g| sink.interfaces.get_mut(g)) else {
        sink.stats.packets_on_unknown_interface += 1;
        return;
    };
    iface.packets += 1;
    let ts = raw_ts.map_or(Timestamp(0), |raw| iface.ts_resolution.to_timestamp(raw, iface.ts_offset_secs));
    let frame =
        super::Frame { number: *sink.frames, interface: iface.id, link_type: iface.link_type, ts, data, orig_len };
    (sink.on_frame)(frame);
}

/// The options the crate parsed, up to the end-of-options marker, as (code, value cut to its
/// declared length, offset of the option in the block). The crate borrows each value from the
/// block, so its position gives the offset an analyst can look up in a hex editor.
fn options<'a>(block: &'a [u8], parsed: &'a [PcapNGOption<'a>]) -> impl Iterator<Item = (u16, &'a [u8], u64)> + 'a {
    let start = block.as_ptr() as usize;
    parsed.iter().take_while(|o| o.code.0 != OPT_END).filter_map(move |o| {
        let value = o.as_bytes().ok()?;
        let at = (o.value.as_ptr() as usize).checked_sub(start)?.checked_sub(4)?;
        Some((o.code.0, value, at as u64))
    })
}
