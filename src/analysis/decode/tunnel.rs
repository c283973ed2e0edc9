//! Tunnels whose inner flows are analysed as flows too: GRE (incl. PPTP's enhanced GRE and
//! ERSPAN), VXLAN (udp/4789), Geneve (udp/6081) and Teredo (udp/3544). IP-in-IP and 6in4 are
//! plain IP protocol numbers, handled in `ip.rs`.

use super::link::ethertype;
use super::{Ctx, Decoder, Segment};
use crate::analysis::bytes::{be16, u8_at};
use crate::analysis::time::Timestamp;

type OnSegment<'f> = dyn FnMut(&Segment<'_>) + 'f;

const VXLAN_PORT: u16 = 4789;
const GENEVE_PORT: u16 = 6081;
const TEREDO_PORT: u16 = 3544;

impl Decoder {
    pub(super) fn udp_tunnel(
        &mut self,
        ctx: &mut Ctx,
        sport: u16,
        dport: u16,
        d: &[u8],
        ts: Timestamp,
        out: &mut OnSegment<'_>,
    ) {
        let either = |p: u16| sport == p || dport == p;
        if either(VXLAN_PORT) {
            // RFC 7348: flags (0x08 = VNI valid), 3 reserved, VNI(3), reserved; Ethernet follows.
            if d.len() >= 8 && u8_at(d, 0).is_some_and(|f| f & 0x08 != 0) {
                ctx.tunnels += 1;
                self.ethernet(ctx, d.get(8..).unwrap_or_default(), ts, out);
            }
        } else if either(GENEVE_PORT) {
            // RFC 8926: ver(2 bits) + option length in 4-byte words, flags, protocol type, VNI.
            if let (Some(b0), Some(proto)) = (u8_at(d, 0), be16(d, 2)) {
                if b0 >> 6 == 0 {
                    let start = 8 + usize::from(b0 & 0x3f) * 4;
                    ctx.tunnels += 1;
                    self.ethertype(ctx, proto, d.get(start..).unwrap_or_default(), ts, out);
                }
            }
        } else if either(TEREDO_PORT) {
            self.teredo(ctx, d, ts, out);
        }
    }

    /// Teredo (RFC 4380): optional authentication and origin-indication headers, then IPv6.
    fn teredo(&mut self, ctx: &mut Ctx, d: &[u8], ts: Timestamp, out: &mut OnSegment<'_>) {
        let mut at = 0;
        if be16(d, at) == Some(0x0001) {
            let (Some(id_len), Some(auth_len)) = (u8_at(d, at + 2), u8_at(d, at + 3)) else {
                return;
            };
            at += 4 + usize::from(id_len) + usize::from(auth_len) + 8 + 1;
        }
        if be16(d, at) == Some(0x0000) {
            at += 8;
        }
        let inner = d.get(at..).unwrap_or_default();
        // Only an IPv6 header with a payload length that fits is Teredo; anything else on the
        // port is left alone rather than invented into flows.
        if u8_at(inner, 0).is_some_and(|b| b >> 4 == 6)
            && inner.len() >= 40
            && be16(inner, 4).is_some_and(|plen| usize::from(plen) + 40 <= inner.len())
        {
            ctx.tunnels += 1;
            self.ipv6(ctx, inner, ts, out);
        }
    }

    /// GRE (RFC 2784/2890) and PPTP's enhanced GRE (RFC 2637, version 1).
    pub(super) fn gre(&mut self, ctx: &mut Ctx, d: &[u8], ts: Timestamp, out: &mut OnSegment<'_>) {
        let (Some(flags), Some(proto)) = (be16(d, 0), be16(d, 2)) else {
            return self.truncated(ctx, "GRE header");
        };
        let version = flags & 0x7;
        let mut len = 4;
        if flags & 0xc000 != 0 {
            len += 4; // checksum (+ offset when routing is present)
        }
        if flags & 0x2000 != 0 {
            len += 4; // key (or payload length + call id in enhanced GRE)
        }
        if flags & 0x1000 != 0 {
            len += 4; // sequence number
        }
        if version == 1 && flags & 0x0080 != 0 {
            len += 4; // acknowledgment number
        }
        if flags & 0x4000 != 0 || version > 1 {
            return self.anomalies.add("gre_unsupported", ctx.frame, || {
                format!("GRE flags/version {flags:#06x} (source routing or unknown version) not decoded")
            });
        }
        let mut payload = d.get(len..).unwrap_or_default();
        ctx.tunnels += 1;
        match proto {
            ethertype::ERSPAN_2 => {
                // ERSPAN type II has an 8-byte header; type I (no sequence number) has none.
                if flags & 0x1000 != 0 {
                    payload = payload.get(8..).unwrap_or_default();
                }
                self.ethernet(ctx, payload, ts, out)
            }
            ethertype::ERSPAN_3 => {
                // ERSPAN type III: 12-byte header, plus 8 bytes of platform data when O is set.
                let extra = if u8_at(payload, 11).is_some_and(|b| b & 1 != 0) { 8 } else { 0 };
                self.ethernet(ctx, payload.get(12 + extra..).unwrap_or_default(), ts, out)
            }
            _ => self.ethertype(ctx, proto, payload, ts, out),
        }
    }
}
