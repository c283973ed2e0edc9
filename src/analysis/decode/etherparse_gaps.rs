//! Where etherparse 0.21 is stricter than the captures torsift reads, and what it does instead.
//! Every workaround for the crate lives here; the README's "etherparse gaps" section carries the
//! same list.
//!
//! 1. `TcpHeaderSlice::from_slice` wants the whole header, options included. A snap length that
//!    ends inside the options, or a first IP fragment that ends inside the header (RFC 1858's
//!    tiny fragments), still names the flow, and Wireshark counts such a segment in its
//!    conversation table; etherparse has no lax TCP slice for it.

use crate::analysis::bytes::{be16, be32, u8_at};
use etherparse::TcpHeaderSlice;

/// The TCP fields a flow needs.
pub struct TcpFixed {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    /// FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20, ECE 0x40, CWR 0x80.
    pub flags: u8,
    /// The data offset in bytes (the caller rejects one under 20).
    pub header_len: usize,
}

impl TcpFixed {
    pub fn from_header(h: &TcpHeaderSlice<'_>) -> Self {
        let flags = [h.fin(), h.syn(), h.rst(), h.psh(), h.ack(), h.urg(), h.ece(), h.cwr()]
            .iter()
            .enumerate()
            .fold(0u8, |acc, (bit, &set)| acc | (u8::from(set) << bit));
        TcpFixed {
            sport: h.source_port(),
            dport: h.destination_port(),
            seq: h.sequence_number(),
            flags,
            header_len: usize::from(h.data_offset()) * 4,
        }
    }

    /// Gap 1: the fixed fields of a header etherparse rejected (for its length, or for a data
    /// offset under 20 bytes, which the caller reports). The whole fixed
    /// header must be there, as Wireshark requires before it counts a segment, except in a first
    /// fragment, where ports and flags (14 bytes) are all a flow needs.
    pub fn lax(d: &[u8], first_fragment: bool) -> Option<Self> {
        if d.len() < 20 && !(first_fragment && d.len() >= 14) {
            return None;
        }
        let header_len = usize::from(u8_at(d, 12)? >> 4) * 4;
        Some(TcpFixed { sport: be16(d, 0)?, dport: be16(d, 2)?, seq: be32(d, 4)?, flags: u8_at(d, 13)?, header_len })
    }
}
