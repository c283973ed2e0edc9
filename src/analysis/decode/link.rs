//! Link layers and the EtherType switch: Ethernet, 802.1Q/QinQ, MPLS, PPP/PPPoE, Linux cooked
//! (SLL, SLL2), BSD loopback, raw IP, NFLOG and PKTAP.

use super::{Ctx, Decoder, Segment};
use crate::analysis::bytes::{be16, be32, u8_at, Endian};
use crate::analysis::time::Timestamp;

const ETHERNET: u32 = 1;
const NULL: u32 = 0;
const PPP: u32 = 9;
const RAW_12: u32 = 12;
const RAW_14: u32 = 14;
const PPP_HDLC: u32 = 50;
const PPP_ETHER: u32 = 51;
const RAW: u32 = 101;
const C_HDLC: u32 = 104;
const LOOP: u32 = 108;
const LINUX_SLL: u32 = 113;
const PPP_WITH_DIR: u32 = 204;
const IPV4: u32 = 228;
const IPV6: u32 = 229;
const NFLOG: u32 = 239;
const PKTAP: u32 = 258;
const LINUX_SLL2: u32 = 276;

pub fn is_decoded(link_type: u32) -> bool {
    matches!(
        link_type,
        ETHERNET
            | NULL
            | PPP
            | RAW_12
            | RAW_14
            | PPP_HDLC
            | PPP_ETHER
            | RAW
            | C_HDLC
            | LOOP
            | LINUX_SLL
            | PPP_WITH_DIR
            | IPV4
            | IPV6
            | NFLOG
            | PKTAP
            | LINUX_SLL2
    )
}

pub(super) mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const VLAN: u16 = 0x8100;
    pub const IPV6: u16 = 0x86dd;
    pub const MPLS: u16 = 0x8847;
    pub const MPLS_MULTICAST: u16 = 0x8848;
    pub const PPPOE_SESSION: u16 = 0x8864;
    pub const QINQ: u16 = 0x88a8;
    pub const QINQ_OLD_9100: u16 = 0x9100;
    pub const QINQ_OLD_9200: u16 = 0x9200;
    pub const VN_TAG: u16 = 0x8926;
    pub const E_TAG: u16 = 0x893f;
    pub const TRANSPARENT_ETHERNET: u16 = 0x6558;
    pub const PPP: u16 = 0x880b;
    pub const ERSPAN_2: u16 = 0x88be;
    pub const ERSPAN_3: u16 = 0x22eb;
}

type OnSegment<'f> = dyn FnMut(&Segment<'_>) + 'f;

impl Decoder {
    pub(super) fn link(&mut self, ctx: &mut Ctx, link_type: u32, d: &[u8], ts: Timestamp, out: &mut OnSegment<'_>) {
        match link_type {
            ETHERNET => self.ethernet(ctx, d, ts, out),
            NULL | LOOP => self.bsd_loopback(ctx, d, ts, out),
            RAW | RAW_12 | RAW_14 => self.ip_by_version(ctx, d, ts, out),
            IPV4 => self.ipv4(ctx, d, ts, out),
            IPV6 => self.ipv6(ctx, d, ts, out),
            LINUX_SLL => match be16(d, 14) {
                Some(proto) => self.sll_protocol(ctx, proto, d.get(16..).unwrap_or_default(), ts, out),
                None => self.truncated(ctx, "Linux cooked (SLL) header"),
            },
            LINUX_SLL2 => match be16(d, 0) {
                Some(proto) => self.sll_protocol(ctx, proto, d.get(20..).unwrap_or_default(), ts, out),
                None => self.truncated(ctx, "Linux cooked v2 (SLL2) header"),
            },
            PPP | PPP_HDLC => self.ppp(ctx, d, ts, out),
            PPP_WITH_DIR => self.ppp(ctx, d.get(1..).unwrap_or_default(), ts, out),
            PPP_ETHER => self.pppoe_session(ctx, d, ts, out),
            C_HDLC => match be16(d, 2) {
                Some(et) => self.ethertype(ctx, et, d.get(4..).unwrap_or_default(), ts, out),
                None => self.truncated(ctx, "Cisco HDLC header"),
            },
            NFLOG => self.nflog(ctx, d, ts, out),
            PKTAP => self.pktap(ctx, d, ts, out),
            _ => {}
        }
    }

    pub(super) fn truncated(&mut self, ctx: &Ctx, what: &'static str) {
        self.anomalies.add("truncated_header", ctx.frame, || format!("{what} cut short"));
    }

    pub(super) fn ethernet(&mut self, ctx: &mut Ctx, d: &[u8], ts: Timestamp, out: &mut OnSegment<'_>) {
        match be16(d, 12) {
            Some(et) => self.ethertype(ctx, et, d.get(14..).unwrap_or_default(), ts, out),
            None => self.truncated(ctx, "Ethernet header"),
        }
    }

    /// Dispatches on an EtherType (or an 802.3 length, for LLC/SNAP frames).
    pub(super) fn ethertype(&mut self, ctx: &mut Ctx, et: u16, d: &[u8], ts: Timestamp, out: &mut OnSegment<'_>) {
        use ethertype::*;
        match et {
            IPV4 => self.ipv4(ctx, d, ts, out),
            IPV6 => self.ipv6(ctx, d, ts, out),
            VLAN | QINQ | QINQ_OLD_9100 | QINQ_OLD_9200 => {
                if !self.enter(ctx) {
                    return;
                }
                match be16(d, 2) {
                    Some(inner) => self.ethertype(ctx, inner, d.get(4..).unwrap_or_default(), ts, out),
                    None => self.truncated(ctx, "802.1Q VLAN tag"),
                }
            }
            VN_TAG if self.enter(ctx) => match be16(d, 4) {
                Some(inner) => self.ethertype(ctx, inner, d.get(6..).unwrap_or_default(), ts, out),
                None => self.truncated(ctx, "VN-Tag"),
            },
            E_TAG if self.enter(ctx) => match be16(d, 6) {
                Some(inner) => self.ethertype(ctx, inner, d.get(8..).unwrap_or_default(), ts, out),
                None => self.truncated(ctx, "802.1BR E-Tag"),
            },
            MPLS | MPLS_MULTICAST => self.mpls(ctx, d, ts, out),
            PPPOE_SESSION => self.pppoe_session(ctx, d, ts, out),
            TRANSPARENT_ETHERNET if self.enter(ctx) => self.ethernet(ctx, d, ts, out),
            PPP => self.ppp(ctx, d, ts, out),
            0..=1500 => self.llc(ctx, d, ts, out),
            _ => {}
        }
    }

    /// 802.2 LLC; only SNAP-encapsulated EtherTypes can carry IP here.
    fn llc(&mut self, ctx: &mut Ctx, d: &[u8], ts: Timestamp, out: &mut OnSegment<'_>) {
        if d.get(..3) == Some(&[0xaa, 0xaa, 0x03]) {
            if let Some(et) = be16(d, 6) {
                if self.enter(ctx) {
                    self.ethertype(ctx, et, d.get(8..).unwrap_or_default(), ts, out);
                }
            }
        }
    }

    /// Linux cooked captures: the protocol field is an EtherType, or a small ARPHRD-specific
    /// value (1 = 802.3, 4 = 802.2 LLC) for non-Ethernet devices.
    fn sll_protocol(&mut self, ctx: &mut Ctx, proto: u16, d: &[u8], ts: Timestamp, out: &mut OnSegment<'_>) {
        match proto {
            0x0004 => self.llc(ctx, d, ts, out),
            0x0001..=0x05ff => {}
            _ => self.ethertype(ctx, proto, d, ts, out),
        }
    }

    /// MPLS label stack; what follows the bottom label is guessed from its first nibble, as
    /// Wireshark does: 4 or 6 is IP, 0 is a pseudowire control word before Ethernet.
    fn mpls(&mut self, ctx: &mut Ctx, d: &[u8], ts: Timestamp, out: &mut OnSegment<'_>) {
        let mut at = 0;
        loop {
            if !self.enter(ctx) {
                return;
            }
            let Some(label) = be32(d, at) else {
                return self.truncated(ctx, "MPLS label stack");
            };
            at += 4;
            if label & 0x100 != 0 {
                break;
            }
        }
        let rest = d.get(at..).unwrap_or_default();
        match u8_at(rest, 0).map(|b| b >> 4) {
            Some(4) => self.ipv4(ctx, rest, ts, out),
            Some(6) => self.ipv6(ctx, rest, ts, out),
            Some(0) => self.ethernet(ctx, rest.get(4..).unwrap_or_default(), ts, out),
            _ => {}
        }
    }

    /// PPPoE session header (RFC 2516): ver/type, code, session id, length, then PPP.
    fn pppoe_session(&mut self, ctx: &mut Ctx, d: &[u8], ts: Timestamp, out: &mut OnSegment<'_>) {
        if !self.enter(ctx) {
            return;
        }
        match (u8_at(d, 1), be16(d, 4)) {
            (Some(0), Some(len)) => {
                let end = (6 + usize::from(len)).min(d.len());
                self.ppp_protocol(ctx, d.get(6..end).unwrap_or_default(), ts, out)
            }
            (Some(_), Some(_)) => {}
            _ => self.truncated(ctx, "PPPoE header"),
        }
    }

    /// PPP with optional HDLC address/control bytes (0xff 0x03).
    fn ppp(&mut self, ctx: &mut Ctx, d: &[u8], ts: Timestamp, out: &mut OnSegment<'_>) {
        let d = if d.get(..2) == Some(&[0xff, 0x03]) { d.get(2..).unwrap_or_default() } else { d };
        // Enhanced GRE (PPTP) sends acknowledgment-only packets with no PPP frame at all.
        if d.is_empty() || !self.enter(ctx) {
            return;
        }
        self.ppp_protocol(ctx, d, ts, out)
    }

    /// A PPP protocol field (1 byte when compressed: odd first byte) and its payload.
    fn ppp_protocol(&mut self, ctx: &mut Ctx, d: &[u8], ts: Timestamp, out: &mut OnSegment<'_>) {
        let (proto, rest) = match u8_at(d, 0) {
            Some(b) if b & 1 == 1 => (u16::from(b), d.get(1..).unwrap_or_default()),
            Some(_) => match be16(d, 0) {
                Some(p) => (p, d.get(2..).unwrap_or_default()),
                None => return self.truncated(ctx, "PPP protocol field"),
            },
            None => return self.truncated(ctx, "PPP protocol field"),
        };
        match proto {
            0x0021 => self.ipv4(ctx, rest, ts, out),
            0x0057 => self.ipv6(ctx, rest, ts, out),
            0x0281 => self.mpls(ctx, rest, ts, out),
            _ => {}
        }
    }

    /// BSD loopback: a 4-byte address family in the capturing host's byte order (NULL) or in
    /// network order (LOOP). IPv6's family number differs per OS (10, 24, 28, 30), so fall back
    /// to the IP version nibble.
    fn bsd_loopback(&mut self, ctx: &mut Ctx, d: &[u8], ts: Timestamp, out: &mut OnSegment<'_>) {
        if d.len() < 4 {
            return self.truncated(ctx, "loopback header");
        }
        self.ip_by_version(ctx, d.get(4..).unwrap_or_default(), ts, out)
    }

    pub(super) fn ip_by_version(&mut self, ctx: &mut Ctx, d: &[u8], ts: Timestamp, out: &mut OnSegment<'_>) {
        match u8_at(d, 0).map(|b| b >> 4) {
            Some(4) => self.ipv4(ctx, d, ts, out),
            Some(6) => self.ipv6(ctx, d, ts, out),
            Some(_) => {}
            None => self.truncated(ctx, "IP header"),
        }
    }

    /// Linux NFLOG: a 4-byte header then TLVs in the host's byte order; type 9 holds the packet.
    fn nflog(&mut self, ctx: &mut Ctx, d: &[u8], ts: Timestamp, out: &mut OnSegment<'_>) {
        let family = u8_at(d, 0);
        let tlvs = d.get(4..).unwrap_or_default();
        // The TLV byte order is the capturing host's; the first TLV's length tells which.
        let endian = match Endian::Little.u16(tlvs, 0) {
            Some(len) if usize::from(len) >= 4 && usize::from(len) <= tlvs.len() => Endian::Little,
            _ => Endian::Big,
        };
        let mut at = 0;
        while let (Some(len), Some(kind)) = (endian.u16(tlvs, at), endian.u16(tlvs, at + 2)) {
            let len = usize::from(len);
            if len < 4 {
                break;
            }
            if kind & 0x7fff == 9 {
                let payload = tlvs.get(at + 4..(at + len).min(tlvs.len())).unwrap_or_default();
                return match family {
                    Some(2) => self.ipv4(ctx, payload, ts, out),
                    Some(10) => self.ipv6(ctx, payload, ts, out),
                    _ => self.ip_by_version(ctx, payload, ts, out),
                };
            }
            at += len.div_ceil(4) * 4;
        }
    }

    /// Apple PKTAP: a header whose first field is its own length (host byte order, in practice
    /// little-endian) and whose second is the DLT of the packet that follows.
    fn pktap(&mut self, ctx: &mut Ctx, d: &[u8], ts: Timestamp, out: &mut OnSegment<'_>) {
        let (Some(hdr_len), Some(dlt)) = (Endian::Little.u32(d, 0), Endian::Little.u32(d, 4)) else {
            return self.truncated(ctx, "PKTAP header");
        };
        if !self.enter(ctx) || dlt == PKTAP {
            return;
        }
        let payload = d.get(hdr_len as usize..).unwrap_or_default();
        // PKTAP carries DLT values; on Apple systems DLT_RAW is 12 and DLT_NULL 0, as handled.
        self.link(ctx, dlt, payload, ts, out)
    }
}
