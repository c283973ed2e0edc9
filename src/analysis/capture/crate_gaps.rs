//! Where `pcap-parser` 0.17 is wrong or silent, and what torsift does instead. Every workaround
//! for the crate lives here, so that each can be deleted when the crate is fixed; the README's
//! "pcap-parser gaps" section carries the same list as upstream-style issue text.
//!
//! 1. Big-endian "modified" pcap (magic `a1 b2 cd 34`, Kuznetzov's patches on a big-endian host):
//!    `parse_pcap_header` does not recognise the magic and `parse_pcap_frame_modified` reads
//!    little-endian only. libpcap reads both byte orders.
//! 2. `if_tsoffset` is decoded little-endian whatever the section's byte order
//!    (`if_extract_tsoffset_and_tsresol`), so big-endian captures get a wrong clock offset.
//! 3. The obsolete Packet Block (type 2, pcapng 1.0, still written by old tools) has no parser;
//!    it arrives as an unknown block. Wireshark reads it.

use crate::analysis::bytes::Endian;
use pcap_parser::nom::{self, IResult};
use pcap_parser::pcap::{parse_pcap_header, LegacyPcapBlock};
use pcap_parser::pcapng::{parse_option_be, parse_option_le, PcapNGOption};
use pcap_parser::PcapError;

/// Gap 1: the pcap file header's snap length and link-type field, for every magic libpcap knows.
/// `None` until all 24 bytes are there (the caller has already checked the magic).
pub fn pcap_file_header(buf: &[u8]) -> Option<(u32, u32)> {
    if buf.get(..4)? == [0xa1, 0xb2, 0xcd, 0x34] {
        return Some((Endian::Big.u32(buf, 16)?, Endian::Big.u32(buf, 20)?));
    }
    let (_, header) = parse_pcap_header(buf).ok()?;
    Some((header.snaplen, header.network.0 as u32))
}

/// Gap 1: a big-endian "modified" record: the 16-byte header of the standard format, then 8
/// bytes (interface index, protocol, packet type, padding) torsift does not use, then the data.
/// Same contract as the crate's record parsers, `Incomplete` included.
pub fn parse_pcap_frame_modified_be(i: &[u8]) -> IResult<&[u8], LegacyPcapBlock<'_>, PcapError<&[u8]>> {
    const HEADER: usize = 24;
    let (Some(ts_sec), Some(ts_usec), Some(caplen), Some(origlen), true) = (
        Endian::Big.u32(i, 0),
        Endian::Big.u32(i, 4),
        Endian::Big.u32(i, 8),
        Endian::Big.u32(i, 12),
        i.len() >= HEADER,
    ) else {
        return Err(nom::Err::Incomplete(nom::Needed::new(HEADER.saturating_sub(i.len()).max(1))));
    };
    let end = HEADER.saturating_add(caplen as usize);
    let (Some(data), Some(rest)) = (i.get(HEADER..end), i.get(end..)) else {
        return Err(nom::Err::Incomplete(nom::Needed::new(end - i.len())));
    };
    Ok((rest, LegacyPcapBlock { ts_sec, ts_usec, caplen, origlen, data }))
}

/// Gap 2: `if_tsoffset`, a signed 64-bit count of seconds, in the section's byte order.
pub fn if_tsoffset(e: Endian, value: &[u8]) -> i64 {
    e.i64(value, 0).unwrap_or(0)
}

/// Gap 3: an obsolete Packet Block, parsed as the crate parses an Enhanced Packet Block.
pub struct ObsoletePacketBlock<'a> {
    pub if_id: usize,
    pub raw_ts: u64,
    pub data: &'a [u8],
    pub orig_len: u32,
    pub options: Vec<PcapNGOption<'a>>,
}

/// Gap 3: `block` is the whole block, lengths already checked:
/// type(4) len(4) if_id(2) drops(2) ts_hi(4) ts_lo(4) caplen(4) origlen(4) data options len(4).
pub fn parse_obsolete_packet_block(e: Endian, block: &[u8]) -> Option<ObsoletePacketBlock<'_>> {
    let if_id = usize::from(e.u16(block, 8)?);
    let (hi, lo, caplen, orig_len) = (e.u32(block, 12)?, e.u32(block, 16)?, e.u32(block, 20)?, e.u32(block, 24)?);
    let body_end = block.len().checked_sub(4)?;
    let data_end = 28usize.checked_add(caplen as usize)?;
    let data = block.get(28..data_end).filter(|_| data_end <= body_end)?;
    let mut rest = block.get(28 + (caplen as usize).div_ceil(4) * 4..body_end).unwrap_or_default();
    let mut options = Vec::new();
    while !rest.is_empty() {
        let parsed = match e {
            Endian::Little => parse_option_le::<PcapError<&[u8]>>(rest),
            Endian::Big => parse_option_be::<PcapError<&[u8]>>(rest),
        };
        let Ok((after, option)) = parsed else { break };
        options.push(option);
        rest = after;
    }
    Some(ObsoletePacketBlock { if_id, raw_ts: (u64::from(hi) << 32) | u64::from(lo), data, orig_len, options })
}
