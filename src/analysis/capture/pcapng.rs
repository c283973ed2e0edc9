//! pcapng framing: Section Header, Interface Description, Enhanced / Simple / obsolete Packet
//! blocks; every other block is skipped by its length. Reference: draft-ietf-opsawg-pcapng.

use super::{new_interface, Sink, TsResolution};
use crate::analysis::bytes::{array, Endian};
use crate::analysis::error::CaptureError;
use crate::analysis::time::Timestamp;

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
    let body = block.get(8..len_usize - 4).unwrap_or_default();
    let body_offset = offset + 8;
    match block_type {
        SHB => {
            if state.seen_section {
                state.section += 1;
            }
            state.seen_section = true;
            state.section_interfaces.clear();
            // body: bom(4) major(2) minor(2) section_length(8) options
            for (code, value, at) in options(e, body, 16) {
                if code == OPT_COMMENT {
                    sink.comment(body_offset + at as u64, "section".into(), value);
                }
            }
        }
        IDB => {
            let link_type = u32::from(e.u16(body, 0).unwrap_or(0));
            let snaplen = e.u32(body, 4).unwrap_or(0);
            let mut resolution = TsResolution::Decimal(6);
            let mut ts_offset = 0;
            let mut name = None;
            for (code, value, _) in options(e, body, 8) {
                match code {
                    IF_TSRESOL => {
                        if let Some(&v) = value.first() {
                            resolution = TsResolution::from_tsresol(v);
                        }
                    }
                    IF_TSOFFSET => ts_offset = e.i64(value, 0).unwrap_or(0),
                    IF_NAME => name = Some(String::from_utf8_lossy(value).trim_end_matches('\0').to_string()),
                    _ => {}
                }
            }
            let id = new_interface(sink.interfaces, state.section, link_type, snaplen, resolution);
            if let Some(iface) = id.and_then(|i| sink.interfaces.get_mut(i)) {
                iface.ts_offset_secs = ts_offset;
                iface.name = name;
            }
            state.section_interfaces.push(id);
        }
        EPB | OBSOLETE_PB => {
            // EPB: if_id(4) ts_hi(4) ts_lo(4) caplen(4) origlen(4) data
            // obsolete PB: if_id(2) drops(2) ts_hi(4) ts_lo(4) caplen(4) origlen(4) data
            let if_id = if block_type == EPB {
                e.u32(body, 0).unwrap_or(u32::MAX) as usize
            } else {
                usize::from(e.u16(body, 0).unwrap_or(u16::MAX))
            };
            let (Some(hi), Some(lo), Some(caplen), Some(orig_len)) =
                (e.u32(body, 4), e.u32(body, 8), e.u32(body, 12), e.u32(body, 16))
            else {
                return Err(too_short(offset, block_type, len));
            };
            let Some(data) = body.get(20..20 + caplen as usize) else {
                return Err(CaptureError::new(
                    offset,
                    format!(
                        "packet block claims {caplen} captured bytes but the block is only {len} bytes \
                         long: the block is corrupt, so reading stops here"
                    ),
                ));
            };
            let raw = (u64::from(hi) << 32) | u64::from(lo);
            let options_at = 20 + (caplen as usize).div_ceil(4) * 4;
            let frame_no = *sink.frames + 1;
            for (code, value, at) in options(e, body, options_at) {
                if code == OPT_COMMENT {
                    sink.comment(body_offset + at as u64, format!("packet {frame_no}"), value);
                }
            }
            emit(state, sink, if_id, raw, data, orig_len);
        }
        SPB => {
            // Simple Packet Block: origlen(4) data; always interface 0, no timestamp.
            let orig_len = e.u32(body, 0).unwrap_or(0);
            let snaplen = state
                .section_interfaces
                .first()
                .copied()
                .flatten()
                .and_then(|i| sink.interfaces.get(i))
                .map_or(0, |iface| iface.snaplen);
            let mut caplen = (orig_len as usize).min(body.len().saturating_sub(4));
            if snaplen > 0 {
                caplen = caplen.min(snaplen as usize);
            }
            let data = body.get(4..4 + caplen).unwrap_or_default();
            emit_at(state, sink, 0, None, data, orig_len);
        }
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

fn emit(state: &PcapngState, sink: &mut Sink<'_, '_>, if_id: usize, raw_ts: u64, data: &[u8], orig_len: u32) {
    emit_at(state, sink, if_id, Some(raw_ts), data, orig_len);
}

fn emit_at(
    state: &PcapngState,
    sink: &mut Sink<'_, '_>,
    if_id: usize,
    raw_ts: Option<u64>,
    data: &[u8],
    orig_len: u32,
) {
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

/// Iterates the options of a block body starting at `at`: (code, value, offset of the option).
fn options(e: Endian, body: &[u8], mut at: usize) -> impl Iterator<Item = (u16, &[u8], usize)> + '_ {
    std::iter::from_fn(move || {
        let code = e.u16(body, at)?;
        let len = usize::from(e.u16(body, at + 2)?);
        if code == OPT_END {
            return None;
        }
        let value = body.get(at + 4..at + 4 + len)?;
        let here = at;
        at += 4 + len.div_ceil(4) * 4;
        Some((code, value, here))
    })
}
