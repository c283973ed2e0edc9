//! IPv4 and IPv6 (with extension headers), and the transport switch: TCP, UDP, tunnels.

use super::fragment::{FragmentKey, FragmentVerdict};
use super::{Ctx, Decoder, Segment, Transport};
use crate::analysis::bytes::{array, be16, be32, u8_at};
use crate::analysis::time::Timestamp;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

type OnSegment<'f> = dyn FnMut(&Segment<'_>) + 'f;

const TCP: u8 = 6;
const UDP: u8 = 17;
const IPIP: u8 = 4;
const IPV6_IN_IP: u8 = 41;
const GRE: u8 = 47;

/// Addresses and protocol of an IP packet, for the transport decoders.
#[derive(Clone, Copy)]
pub(super) struct IpInfo {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: u8,
}

impl Decoder {
    pub(super) fn ipv4(&mut self, ctx: &mut Ctx, d: &[u8], ts: Timestamp, out: &mut OnSegment<'_>) {
        if !self.enter(ctx) {
            return;
        }
        ctx.ip_seen = true;
        let (Some(vihl), Some(src), Some(dst)) = (u8_at(d, 0), array::<4>(d, 12), array::<4>(d, 16)) else {
            return self.truncated(ctx, "IPv4 header");
        };
        let ihl = usize::from(vihl & 0x0f) * 4;
        if vihl >> 4 != 4 || ihl < 20 {
            return self
                .anomalies
                .add("bad_ipv4_header", ctx.frame, || format!("IPv4 version/IHL byte {vihl:#04x} is invalid"));
        }
        let total = usize::from(be16(d, 2).unwrap_or(0));
        // A total length of 0 is what TCP segmentation offload leaves in captures taken on the
        // sending host: the packet runs to the end of the frame.
        let end = if total == 0 { d.len() } else { total };
        if end < ihl {
            return self.anomalies.add("bad_ipv4_header", ctx.frame, || {
                format!("IPv4 total length {total} is shorter than its {ihl}-byte header")
            });
        }
        let Some(payload) = d.get(ihl..end.min(d.len())) else {
            return self.truncated(ctx, "IPv4 header options");
        };
        let info = IpInfo {
            src: IpAddr::V4(Ipv4Addr::from(src)),
            dst: IpAddr::V4(Ipv4Addr::from(dst)),
            proto: u8_at(d, 9).unwrap_or(0),
        };
        let wire_len = (end - ihl) as u32;
        let frag = be16(d, 6).unwrap_or(0);
        let more = frag & 0x2000 != 0;
        let offset = u32::from(frag & 0x1fff) * 8;
        if more || offset != 0 {
            let key = FragmentKey::new(info.src, info.dst, u32::from(be16(d, 4).unwrap_or(0)), info.proto);
            return self.fragment(ctx, key, info, offset, more, payload, wire_len, ts, out);
        }
        self.transport(ctx, info, payload, wire_len, ts, out)
    }

    pub(super) fn ipv6(&mut self, ctx: &mut Ctx, d: &[u8], ts: Timestamp, out: &mut OnSegment<'_>) {
        if !self.enter(ctx) {
            return;
        }
        ctx.ip_seen = true;
        let (Some(v), Some(src), Some(dst)) = (u8_at(d, 0), array::<16>(d, 8), array::<16>(d, 24)) else {
            return self.truncated(ctx, "IPv6 header");
        };
        if v >> 4 != 6 {
            return self.anomalies.add("bad_ipv6_header", ctx.frame, || format!("IPv6 version nibble is {}", v >> 4));
        }
        let plen = usize::from(be16(d, 4).unwrap_or(0));
        // Payload length 0 means a jumbogram (or offload): the packet runs to the frame's end.
        let end = if plen == 0 { d.len() } else { 40 + plen };
        let mut next = u8_at(d, 6).unwrap_or(0);
        let mut at = 40;
        let mut fragment = None;
        loop {
            let ext_len = match next {
                // hop-by-hop, routing, destination options, mobility, HIP, shim6
                0 | 43 | 60 | 135 | 139 | 140 => u8_at(d, at + 1).map(|l| (usize::from(l) + 1) * 8),
                // authentication header counts in 4-byte words
                51 => u8_at(d, at + 1).map(|l| (usize::from(l) + 2) * 4),
                44 => {
                    let (Some(off), Some(id)) = (be16(d, at + 2), be32(d, at + 4)) else {
                        return self.truncated(ctx, "IPv6 fragment header");
                    };
                    fragment = Some((u32::from(off & 0xfff8), off & 1 != 0, id));
                    Some(8)
                }
                _ => break,
            };
            let (Some(len), Some(n)) = (ext_len, u8_at(d, at)) else {
                return self.truncated(ctx, "IPv6 extension header");
            };
            next = n;
            at += len;
            if !self.enter(ctx) {
                return;
            }
        }
        let payload = d.get(at..end.min(d.len())).unwrap_or_default();
        let wire_len = end.saturating_sub(at) as u32;
        let info = IpInfo { src: IpAddr::V6(Ipv6Addr::from(src)), dst: IpAddr::V6(Ipv6Addr::from(dst)), proto: next };
        match fragment {
            Some((offset, more, id)) if more || offset != 0 => {
                let key = FragmentKey::new(info.src, info.dst, id, 0);
                self.fragment(ctx, key, info, offset, more, payload, wire_len, ts, out)
            }
            _ => self.transport(ctx, info, payload, wire_len, ts, out),
        }
    }

    /// A fragment: the first carries the transport header and names the flow; later ones are
    /// counted toward that flow (or held, bounded, until the first one arrives).
    #[allow(clippy::too_many_arguments)]
    fn fragment(
        &mut self,
        ctx: &mut Ctx,
        key: FragmentKey,
        info: IpInfo,
        offset: u32,
        more: bool,
        payload: &[u8],
        wire_len: u32,
        ts: Timestamp,
        out: &mut OnSegment<'_>,
    ) {
        if offset == 0 {
            let before = ctx.segments;
            let mut flow = None;
            ctx.first_fragment = true;
            self.transport(ctx, info, payload, wire_len, ts, &mut |s: &Segment<'_>| {
                if flow.is_none() {
                    flow = Some((s.transport, s.src, s.dst, s.sport, s.dport, s.tunnel_depth));
                }
                out(s)
            });
            ctx.first_fragment = false;
            if ctx.segments > before {
                if let Some(flow) = flow {
                    for held in self.fragments.first_arrived(key, flow) {
                        self.stats.fragments_attributed += 1;
                        let (transport, src, dst, sport, dport, tunnel_depth) = flow;
                        out(&Segment {
                            transport,
                            src,
                            dst,
                            sport,
                            dport,
                            tcp_flags: 0,
                            tcp_seq: 0,
                            payload: &[],
                            wire_payload_len: held.wire_len,
                            tunnel_depth,
                            is_fragment: true,
                        });
                    }
                }
            }
            return;
        }
        match self.fragments.later(key, wire_len, more) {
            FragmentVerdict::Attributed((transport, src, dst, sport, dport, tunnel_depth)) => {
                ctx.segments += 1;
                self.stats.fragments_attributed += 1;
                out(&Segment {
                    transport,
                    src,
                    dst,
                    sport,
                    dport,
                    tcp_flags: 0,
                    tcp_seq: 0,
                    payload,
                    wire_payload_len: wire_len,
                    tunnel_depth,
                    is_fragment: true,
                });
            }
            FragmentVerdict::Held => {}
            FragmentVerdict::Dropped => self.anomalies.add("ip_fragments_overflow", ctx.frame, || {
                "too many datagrams awaiting their first fragment; this fragment was not attributed".into()
            }),
        }
    }

    pub(super) fn transport(
        &mut self,
        ctx: &mut Ctx,
        info: IpInfo,
        d: &[u8],
        wire_len: u32,
        ts: Timestamp,
        out: &mut OnSegment<'_>,
    ) {
        match info.proto {
            TCP => {
                // The whole fixed header must be there, as Wireshark requires before it counts a
                // segment in a conversation; except in a first fragment, where the header may
                // legitimately continue in the next fragment (RFC 1858's tiny fragments) and the
                // ports and flags are all a flow needs.
                let full = d.len() >= 20 || (ctx.first_fragment && d.len() >= 14);
                let (Some(sport), Some(dport), Some(seq), Some(off), Some(flags), true) =
                    (be16(d, 0), be16(d, 2), be32(d, 4), u8_at(d, 12), u8_at(d, 13), full)
                else {
                    return self.truncated(ctx, "TCP header");
                };
                let hlen = usize::from(off >> 4) * 4;
                if hlen < 20 {
                    return self.anomalies.add("bad_tcp_header", ctx.frame, || {
                        format!("TCP data offset {hlen} is shorter than the 20-byte minimum")
                    });
                }
                let payload = d.get(hlen..).unwrap_or_default();
                ctx.segments += 1;
                out(&Segment {
                    transport: Transport::Tcp,
                    src: info.src,
                    dst: info.dst,
                    sport,
                    dport,
                    tcp_flags: flags,
                    tcp_seq: seq,
                    payload,
                    wire_payload_len: wire_len.saturating_sub(hlen as u32),
                    tunnel_depth: ctx.tunnel_depth(),
                    is_fragment: false,
                });
            }
            UDP => {
                let (Some(sport), Some(dport), Some(ulen)) = (be16(d, 0), be16(d, 2), be16(d, 4)) else {
                    return self.truncated(ctx, "UDP header");
                };
                if d.len() < 8 {
                    return self.truncated(ctx, "UDP header");
                }
                let declared = usize::from(ulen);
                let end = if declared >= 8 { declared.min(d.len()) } else { d.len() };
                let payload = d.get(8..end).unwrap_or_default();
                ctx.segments += 1;
                out(&Segment {
                    transport: Transport::Udp,
                    src: info.src,
                    dst: info.dst,
                    sport,
                    dport,
                    tcp_flags: 0,
                    tcp_seq: 0,
                    payload,
                    wire_payload_len: (declared.max(8) - 8) as u32,
                    tunnel_depth: ctx.tunnel_depth(),
                    is_fragment: false,
                });
                self.udp_tunnel(ctx, sport, dport, payload, ts, out);
            }
            IPIP => {
                ctx.tunnels += 1;
                self.ipv4(ctx, d, ts, out)
            }
            IPV6_IN_IP => {
                ctx.tunnels += 1;
                self.ipv6(ctx, d, ts, out)
            }
            GRE => self.gre(ctx, d, ts, out),
            _ => {}
        }
    }
}
