//! IPv4 and IPv6 (with extension headers) on etherparse's lax slices, and the transport switch:
//! TCP and UDP headers on etherparse's header slices, tunnels on the hand-written decoders.
//! Lax parsing keeps what a capture really holds: packets cut by a snap length, and the zero
//! length fields that segmentation offload leaves in captures taken on the sending host.

use super::etherparse_gaps;
use super::fragment::{FragmentKey, FragmentVerdict};
use super::{Ctx, Decoder, Segment, Transport};
use crate::analysis::time::Timestamp;
use etherparse::err::{ipv4, ipv6, ipv6_exts};
use etherparse::{IpNumber, Ipv6ExtensionSlice, LaxIpv4Slice, LaxIpv6Slice, TcpHeaderSlice, UdpHeaderSlice};
use std::net::IpAddr;

type OnSegment<'f> = dyn FnMut(&Segment<'_>) + 'f;

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
        let ip = match LaxIpv4Slice::from_slice(d) {
            Ok((ip, _)) => ip,
            Err(ipv4::HeaderSliceError::Len(_)) => return self.truncated(ctx, "IPv4 header"),
            Err(ipv4::HeaderSliceError::Content(e)) => {
                return self.anomalies.add("bad_ipv4_header", ctx.frame, || match e {
                    ipv4::HeaderError::UnexpectedVersion { version_number } => {
                        format!("IPv4 version field is {version_number}")
                    }
                    ipv4::HeaderError::HeaderLengthSmallerThanHeader { ihl } => {
                        format!("IPv4 header length (IHL) is {ihl} words, under the minimum of 5")
                    }
                })
            }
        };
        let header = ip.header();
        let ihl = usize::from(header.ihl()) * 4;
        let total = usize::from(header.total_len());
        // A total length of 0 is what TCP segmentation offload leaves in captures taken on the
        // sending host: the packet runs to the end of the frame (etherparse does the same). Any
        // other total shorter than the header is corrupt, and Wireshark counts no flow in it.
        if total != 0 && total < ihl {
            return self.anomalies.add("bad_ipv4_header", ctx.frame, || {
                format!("IPv4 total length {total} is shorter than its {ihl}-byte header")
            });
        }
        let payload = ip.payload();
        let wire_len = wire_len(d, if total == 0 { d.len() } else { total }, payload.payload);
        let info = IpInfo {
            src: IpAddr::V4(header.source_addr()),
            dst: IpAddr::V4(header.destination_addr()),
            proto: payload.ip_number.0,
        };
        if payload.fragmented {
            let key = FragmentKey::new(info.src, info.dst, u32::from(header.identification()), info.proto);
            let offset = u32::from(header.fragments_offset().byte_offset());
            let more = header.more_fragments();
            return self.fragment(ctx, key, info, offset, more, payload.payload, wire_len, ts, out);
        }
        self.transport(ctx, info, payload.payload, wire_len, ts, out)
    }

    pub(super) fn ipv6(&mut self, ctx: &mut Ctx, d: &[u8], ts: Timestamp, out: &mut OnSegment<'_>) {
        if !self.enter(ctx) {
            return;
        }
        ctx.ip_seen = true;
        let (ip, ext_error) = match LaxIpv6Slice::from_slice(d) {
            Ok(parsed) => parsed,
            Err(ipv6::HeaderSliceError::Len(_)) => return self.truncated(ctx, "IPv6 header"),
            Err(ipv6::HeaderSliceError::Content(ipv6::HeaderError::UnexpectedVersion { version_number })) => {
                return self
                    .anomalies
                    .add("bad_ipv6_header", ctx.frame, || format!("IPv6 version field is {version_number}"))
            }
        };
        match ext_error {
            Some((ipv6_exts::HeaderSliceError::Len(_), _)) => return self.truncated(ctx, "IPv6 extension header"),
            Some((ipv6_exts::HeaderSliceError::Content(e), _)) => {
                return self
                    .anomalies
                    .add("bad_ipv6_header", ctx.frame, || format!("invalid IPv6 extension header: {e}"))
            }
            None => {}
        }
        let header = ip.header();
        let plen = usize::from(header.payload_length());
        // Payload length 0 means a jumbogram (or offload): the packet runs to the frame's end.
        let payload = ip.payload();
        let wire_len = wire_len(d, if plen == 0 { d.len() } else { 40 + plen }, payload.payload);
        let info = IpInfo {
            src: IpAddr::V6(header.source_addr()),
            dst: IpAddr::V6(header.destination_addr()),
            proto: payload.ip_number.0,
        };
        // etherparse says whether a fragment header fragments the payload; only then is it looked up.
        let fragment = payload.fragmented.then(|| {
            ip.extensions().clone().into_iter().find_map(|ext| match ext {
                Ipv6ExtensionSlice::Fragment(f) if f.is_fragmenting_payload() => Some(f),
                _ => None,
            })
        });
        match fragment.flatten() {
            Some(f) => {
                let key = FragmentKey::new(info.src, info.dst, f.identification(), 0);
                let offset = u32::from(f.fragment_offset().byte_offset());
                self.fragment(ctx, key, info, offset, f.more_fragments(), payload.payload, wire_len, ts, out)
            }
            None => self.transport(ctx, info, payload.payload, wire_len, ts, out),
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
        match IpNumber(info.proto) {
            IpNumber::TCP => {
                let tcp = match TcpHeaderSlice::from_slice(d) {
                    Ok(h) => etherparse_gaps::TcpFixed::from_header(&h),
                    // Options cut by the snap length, or a first fragment that ends inside the
                    // header: Wireshark still counts the segment, from the fixed fields alone; a
                    // data offset under 20 bytes is reported below, as for a whole header.
                    Err(_) => match etherparse_gaps::TcpFixed::lax(d, ctx.first_fragment) {
                        Some(fixed) => fixed,
                        None => return self.truncated(ctx, "TCP header"),
                    },
                };
                if tcp.header_len < 20 {
                    return self.anomalies.add("bad_tcp_header", ctx.frame, || {
                        format!("TCP data offset {} is shorter than the 20-byte minimum", tcp.header_len)
                    });
                }
                let payload = d.get(tcp.header_len..).unwrap_or_default();
                ctx.segments += 1;
                out(&Segment {
                    transport: Transport::Tcp,
                    src: info.src,
                    dst: info.dst,
                    sport: tcp.sport,
                    dport: tcp.dport,
                    tcp_flags: tcp.flags,
                    tcp_seq: tcp.seq,
                    payload,
                    wire_payload_len: wire_len.saturating_sub(tcp.header_len as u32),
                    tunnel_depth: ctx.tunnel_depth(),
                    is_fragment: false,
                });
            }
            IpNumber::UDP => {
                let Ok(udp) = UdpHeaderSlice::from_slice(d) else {
                    return self.truncated(ctx, "UDP header");
                };
                let (sport, dport) = (udp.source_port(), udp.destination_port());
                // A length below 8 (0 in IPv6 jumbograms and under offload) says nothing: the
                // datagram runs to the end of the IP payload.
                let declared = usize::from(udp.length());
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
            IpNumber::IPV4 => {
                ctx.tunnels += 1;
                self.ipv4(ctx, d, ts, out)
            }
            IpNumber::IPV6 => {
                ctx.tunnels += 1;
                self.ipv6(ctx, d, ts, out)
            }
            IpNumber::GRE => self.gre(ctx, d, ts, out),
            _ => {}
        }
    }
}

/// The payload length the IP header declares (`declared_end`, counted from the start of the IP
/// header `d`), whatever the snap length left of it: from where etherparse's `payload` subslice
/// starts, so an authentication header it stepped over is not counted.
fn wire_len(d: &[u8], declared_end: usize, payload: &[u8]) -> u32 {
    let start = (payload.as_ptr() as usize).saturating_sub(d.as_ptr() as usize);
    declared_end.saturating_sub(start) as u32
}
