//! Classic libpcap framing: a 24-byte file header, then records of a 16-byte header (24 bytes in
//! Alexey Kuznetzov's "modified" variant) plus the captured bytes.
//! Reference: draft-ietf-opsawg-pcap, and libpcap's sf-pcap.c for the variants.

use super::{new_interface, Frame, Interface, TsResolution};
use crate::analysis::bytes::Endian;
use crate::analysis::error::CaptureError;

const FILE_HEADER_LEN: usize = 24;

#[derive(Debug)]
pub struct PcapState {
    endian: Endian,
    resolution: TsResolution,
    record_header_len: usize,
    header_done: bool,
}

impl PcapState {
    /// Recognises the six pcap magics: µs, ns and "modified", each in both byte orders.
    pub fn from_magic(magic: &[u8]) -> Option<Self> {
        let (endian, nanos, modified) = match magic {
            [0xd4, 0xc3, 0xb2, 0xa1] => (Endian::Little, false, false),
            [0xa1, 0xb2, 0xc3, 0xd4] => (Endian::Big, false, false),
            [0x4d, 0x3c, 0xb2, 0xa1] => (Endian::Little, true, false),
            [0xa1, 0xb2, 0x3c, 0x4d] => (Endian::Big, true, false),
            [0x34, 0xcd, 0xb2, 0xa1] => (Endian::Little, false, true),
            [0xa1, 0xb2, 0xcd, 0x34] => (Endian::Big, false, true),
            _ => return None,
        };
        Some(PcapState {
            endian,
            resolution: TsResolution::Decimal(if nanos { 9 } else { 6 }),
            record_header_len: if modified { 24 } else { 16 },
            header_done: false,
        })
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
    let e = state.endian;
    if !state.header_done {
        if buf.len() < FILE_HEADER_LEN {
            return Ok(0);
        }
        let snaplen = e.u32(buf, 16).unwrap_or(0);
        // The upper bits of the link-type field carry FCS information (LT_FCS_*); the link type
        // itself is the low 26 bits.
        let link_type = e.u32(buf, 20).unwrap_or(0) & 0x03ff_ffff;
        new_interface(interfaces, 0, link_type, snaplen, state.resolution);
        state.header_done = true;
        return Ok(FILE_HEADER_LEN);
    }
    let hl = state.record_header_len;
    if buf.len() < hl {
        return Ok(0);
    }
    let (Some(secs), Some(frac), Some(caplen), Some(orig_len)) =
        (e.u32(buf, 0), e.u32(buf, 4), e.u32(buf, 8), e.u32(buf, 12))
    else {
        return Ok(0);
    };
    let caplen_usize = caplen as usize;
    if caplen_usize > max_record_bytes {
        return Err(CaptureError::new(
            offset,
            format!(
                "packet record {} claims {caplen} captured bytes, more than the {max_record_bytes}-byte \
                 limit for one packet: the record header is corrupt, so reading stops here",
                *frames + 1
            ),
        ));
    }
    let total = hl + caplen_usize;
    let Some(data) = buf.get(hl..total) else {
        return Ok(0);
    };
    let resolution = state.resolution;
    let ts = match resolution {
        TsResolution::Decimal(9) => crate::analysis::time::Timestamp::from_parts(i64::from(secs), i64::from(frac)),
        _ => crate::analysis::time::Timestamp::from_parts(i64::from(secs), i64::from(frac).saturating_mul(1000)),
    };
    *frames += 1;
    if let Some(iface) = interfaces.first_mut() {
        iface.packets += 1;
        let link_type = iface.link_type;
        on_frame(Frame { number: *frames, interface: 0, link_type, ts, data, orig_len });
    }
    Ok(total)
}
