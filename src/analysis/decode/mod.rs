//! Frame decoding: link layer → (VLAN, MPLS, PPPoE, tunnels)* → IP → TCP/UDP segments.
//! Mechanism only: the decoder knows packet formats, nothing about Tor.
//!
//! One frame can yield several segments: a VXLAN frame is a UDP segment of the outer flow and a
//! segment of each inner flow, as in Wireshark's conversation tables. Every frame that yields no
//! segment is accounted for in [`DecodeStats`] or as an anomaly.

mod etherparse_gaps;
mod fragment;
mod ip;
mod link;
mod tunnel;

use super::anomaly::Anomalies;
use super::limits::Limits;
use super::time::Timestamp;
use fragment::Fragments;
use std::net::IpAddr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    Tcp,
    Udp,
}

impl Transport {
    pub fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        }
    }
}

/// A TCP or UDP segment found in a frame.
#[derive(Debug)]
pub struct Segment<'a> {
    pub transport: Transport,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    /// TCP flag bits (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20, ECE, CWR).
    pub tcp_flags: u8,
    pub tcp_seq: u32,
    /// Captured payload bytes (may be shorter than `wire_payload_len` under a small snaplen).
    pub payload: &'a [u8],
    /// Payload length as the IP and transport headers declare it.
    pub wire_payload_len: u32,
    /// How many tunnels enclose this segment (0 = outermost IP).
    pub tunnel_depth: u8,
    /// A non-first IP fragment, attributed to the flow its first fragment named.
    pub is_fragment: bool,
}

/// Counters for frames that carry no TCP/UDP flow, by reason. These are not errors.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct DecodeStats {
    /// Frames with at least one TCP or UDP segment.
    pub frames_with_flows: u64,
    /// IP frames whose transport is neither TCP nor UDP (ICMP, ESP, OSPF, ...).
    pub frames_other_ip: u64,
    /// Frames that are not IP at all (ARP, LLDP, STP, ...).
    pub frames_not_ip: u64,
    /// Frames on interfaces whose link type torsift does not decode.
    pub frames_undecoded_link_type: u64,
    /// Non-first IP fragments counted toward the flow of their datagram.
    pub fragments_attributed: u64,
}

/// Per-frame context threaded through the decoders.
struct Ctx {
    frame: u64,
    depth: usize,
    segments: usize,
    ip_seen: bool,
    /// Tunnels entered so far (GRE, VXLAN, Geneve, Teredo, IP-in-IP).
    tunnels: u8,
    /// Decoding the transport header inside the first fragment of a datagram.
    first_fragment: bool,
}

impl Ctx {
    fn tunnel_depth(&self) -> u8 {
        self.tunnels
    }
}

pub struct Decoder {
    pub stats: DecodeStats,
    pub anomalies: Anomalies,
    fragments: Fragments,
    max_depth: usize,
}

/// Whether a link type is decoded at all (frames of other link types are only counted).
pub fn is_link_type_decoded(link_type: u32) -> bool {
    link::is_decoded(link_type)
}

impl Decoder {
    pub fn new(limits: &Limits) -> Self {
        Decoder {
            stats: DecodeStats::default(),
            anomalies: Anomalies::new(limits.max_anomaly_samples),
            fragments: Fragments::new(limits.max_pending_fragments),
            max_depth: limits.max_encapsulation_depth,
        }
    }

    /// Decodes one frame and hands every TCP/UDP segment in it to `on_segment`.
    pub fn decode(
        &mut self,
        frame: u64,
        link_type: u32,
        ts: Timestamp,
        data: &[u8],
        on_segment: &mut dyn FnMut(&Segment<'_>),
    ) {
        let mut ctx = Ctx { frame, depth: 0, segments: 0, ip_seen: false, tunnels: 0, first_fragment: false };
        if !link::is_decoded(link_type) {
            self.stats.frames_undecoded_link_type += 1;
            return;
        }
        self.link(&mut ctx, link_type, data, ts, on_segment);
        if ctx.segments > 0 {
            self.stats.frames_with_flows += 1;
        } else if ctx.ip_seen {
            self.stats.frames_other_ip += 1;
        } else {
            self.stats.frames_not_ip += 1;
        }
    }

    /// Fragments still waiting for their first fragment when the capture ended.
    pub fn finish(&mut self) {
        let (datagrams, fragments) = self.fragments.unmatched();
        if fragments > 0 {
            self.anomalies.add_n("ip_fragments_without_first", 0, fragments, || {
                format!("{fragments} fragments of {datagrams} datagrams whose first fragment never arrived")
            });
        }
    }

    /// Descends one encapsulation level; false (and an anomaly) when nesting is too deep.
    fn enter(&mut self, ctx: &mut Ctx) -> bool {
        ctx.depth += 1;
        if ctx.depth > self.max_depth {
            let max = self.max_depth;
            self.anomalies.add("encapsulation_too_deep", ctx.frame, || {
                format!("more than {max} nested headers; the rest of the frame was not decoded")
            });
            return false;
        }
        true
    }
}
