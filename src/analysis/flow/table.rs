//! Flow table bounded by `Limits::max_flows`; when full, the idlest flows are evicted and counted.

use crate::analysis::decode::{Segment, Transport};
use crate::analysis::time::Timestamp;
use serde::Serialize;
use std::collections::HashMap;
use std::net::SocketAddr;

const TCP_SYN: u8 = 0x02;
const TCP_ACK: u8 = 0x10;

/// An endpoint packed for hashing: IPv4 as IPv4-mapped IPv6 (the `v6` flag of the key keeps
/// a real `::ffff:a.b.c.d` IPv6 address apart), then the port.
type PackedEndpoint = ([u8; 16], u16);

fn pack(addr: SocketAddr) -> PackedEndpoint {
    match addr {
        SocketAddr::V4(a) => (a.ip().to_ipv6_mapped().octets(), a.port()),
        SocketAddr::V6(a) => (a.ip().octets(), a.port()),
    }
}

/// Direction-independent key: the two endpoints in a fixed (sorted) order, packed into plain
/// bytes so hashing and comparing cost little on the per-packet path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct FlowKey {
    transport: Transport,
    v6: bool,
    low: PackedEndpoint,
    high: PackedEndpoint,
}

impl FlowKey {
    fn new(transport: Transport, a: SocketAddr, b: SocketAddr) -> Self {
        let (pa, pb) = (pack(a), pack(b));
        let (low, high) = if pa <= pb { (pa, pb) } else { (pb, pa) };
        FlowKey { transport, v6: a.is_ipv6(), low, high }
    }

    /// A flow's own key (the key is the same whichever end comes first).
    fn of(flow: &Flow) -> Self {
        FlowKey::new(flow.transport, flow.client, flow.server)
    }
}

/// foldhash: fast on small keys and seeded per table, so crafted captures cannot aim
/// collisions at a known seed.
type Hasher = foldhash::fast::RandomState;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    ToServer,
    ToClient,
}

#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct DirectionStats {
    pub packets: u64,
    /// Frame bytes as on the wire (the frame's original length), as Wireshark counts them.
    pub bytes: u64,
    /// Transport payload bytes as the headers declare them.
    pub payload_bytes: u64,
    /// OR of every TCP flag byte seen in this direction.
    #[serde(skip)]
    pub tcp_flags: u8,
}

#[derive(Clone, Debug)]
pub struct Flow {
    /// Creation order, for a report order that does not depend on hashing.
    pub seq: u64,
    pub transport: Transport,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub to_server: DirectionStats,
    pub to_client: DirectionStats,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// Orientation is settled by a SYN (client = SYN sender); otherwise it is the first sender.
    pub oriented_by_syn: bool,
    /// Smallest tunnel depth the flow was seen at (0 = not tunnelled).
    pub tunnel_depth: u8,
    pub fragments: u64,
    pub fragment_bytes: u64,
    /// The start of each TCP direction and its TLS records (None for UDP, or when the head
    /// budget was spent).
    pub stream: Option<Box<crate::analysis::tls::StreamObserver>>,
    /// The stream observer has seen all it can use (see `StreamObserver::settled`).
    pub stream_settled: bool,
    /// DNS names this flow asked about (UDP port 53; a few).
    pub dns_names: Vec<String>,
    /// STUN and DTLS seen in a UDP flow (None until a datagram looks like either).
    pub datagrams: Option<Box<crate::analysis::udp::DatagramObserver>>,
}

impl Flow {
    pub fn packets(&self) -> u64 {
        self.to_server.packets + self.to_client.packets
    }
    pub fn bytes(&self) -> u64 {
        self.to_server.bytes + self.to_client.bytes
    }
    fn swap_roles(&mut self) {
        std::mem::swap(&mut self.client, &mut self.server);
        std::mem::swap(&mut self.to_server, &mut self.to_client);
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct FlowTableStats {
    pub max_flows: usize,
    /// Flows removed from a full table; a later packet of one starts a new flow.
    pub flows_evicted: u64,
    pub packets_in_evicted_flows: u64,
    pub bytes_in_evicted_flows: u64,
}

/// Flows live in one vector in creation order; the hash map holds only each key's place in it.
/// The map's buckets stay small (a key and an index, 44 bytes, against 256 with the flow inline),
/// so growing it copies little and briefly doubles little (at 300k flows an inline table peaked
/// at 200 MB while it grew), and the vector grows in place (a large `realloc` remaps pages rather
/// than copying them) and is the report's list of flows at the end, not a copy of it.
pub struct FlowTable {
    index: HashMap<FlowKey, u32, Hasher>,
    flows: Vec<Flow>,
    next_seq: u64,
    pub stats: FlowTableStats,
    /// Evicted flows kept for their reports (see `keep_evicted`), in eviction order; `None`: evicted
    /// flows are only counted.
    evicted: Option<Vec<Flow>>,
}

impl FlowTable {
    pub fn new(max_flows: usize) -> Self {
        FlowTable {
            index: HashMap::default(),
            flows: Vec::new(),
            next_seq: 0,
            stats: FlowTableStats { max_flows: max_flows.max(1), ..Default::default() },
            evicted: None,
        }
    }

    /// Keeps each evicted flow until `take_evicted` hands it on, so that a reader streaming
    /// reports can report it (still counted in `stats`); by default evicted flows are dropped.
    pub fn keep_evicted(&mut self) {
        self.evicted.get_or_insert_with(Vec::new);
    }

    /// The flows evicted since the last call, in eviction order.
    pub fn take_evicted(&mut self) -> Vec<Flow> {
        self.evicted.as_mut().map(std::mem::take).unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// Adds one segment of a frame of `frame_len` on-wire bytes; returns the flow and the
    /// direction the segment travelled.
    pub fn observe(&mut self, ts: Timestamp, frame_len: u32, seg: &Segment<'_>) -> Option<(&mut Flow, Direction)> {
        let src = SocketAddr::new(seg.src, seg.sport);
        let dst = SocketAddr::new(seg.dst, seg.dport);
        let key = FlowKey::new(seg.transport, src, dst);
        if self.flows.len() >= self.stats.max_flows && !self.index.contains_key(&key) {
            self.evict_idle();
        }
        let at = match self.index.get(&key) {
            Some(&at) => at as usize,
            None => {
                let seq = self.next_seq;
                self.next_seq += 1;
                self.index.insert(key, self.flows.len() as u32);
                self.flows.push(new_flow(seq, ts, seg, src, dst));
                self.flows.len() - 1
            }
        };
        // Always there: the index only names places in the vector.
        let flow = self.flows.get_mut(at)?;
        let pure_syn = seg.transport == Transport::Tcp && seg.tcp_flags & (TCP_SYN | TCP_ACK) == TCP_SYN;
        if pure_syn && !flow.oriented_by_syn {
            if flow.client != src {
                flow.swap_roles();
            }
            flow.oriented_by_syn = true;
        }
        let direction = if flow.client == src { Direction::ToServer } else { Direction::ToClient };
        let stats = match direction {
            Direction::ToServer => &mut flow.to_server,
            Direction::ToClient => &mut flow.to_client,
        };
        stats.packets += 1;
        stats.bytes += u64::from(frame_len);
        stats.payload_bytes += u64::from(seg.wire_payload_len);
        stats.tcp_flags |= seg.tcp_flags;
        flow.first_seen = flow.first_seen.min(ts);
        flow.last_seen = flow.last_seen.max(ts);
        flow.tunnel_depth = flow.tunnel_depth.min(seg.tunnel_depth);
        if seg.is_fragment {
            flow.fragments += 1;
            flow.fragment_bytes += u64::from(frame_len);
        }
        Some((flow, direction))
    }

    /// Evicts the idlest eighth of the table (by last packet time), counting what leaves.
    fn evict_idle(&mut self) {
        let mut last: Vec<(Timestamp, u64)> = self.flows.iter().map(|f| (f.last_seen, f.seq)).collect();
        let cut = (last.len() / 8).max(1).min(last.len().saturating_sub(1));
        let (_, threshold, _) = last.select_nth_unstable(cut);
        let threshold = *threshold;
        let mut at = 0;
        while at < self.flows.len() {
            let Some(f) = self.flows.get(at) else { break };
            if (f.last_seen, f.seq) > threshold {
                at += 1;
                continue;
            }
            self.stats.flows_evicted += 1;
            self.stats.packets_in_evicted_flows += f.packets();
            self.stats.bytes_in_evicted_flows += f.bytes();
            // The last flow takes the evicted one's place; its index entry follows it.
            let gone = self.flows.swap_remove(at);
            self.index.remove(&FlowKey::of(&gone));
            if let Some(moved) = self.flows.get(at) {
                self.index.insert(FlowKey::of(moved), at as u32);
            }
            if let Some(kept) = &mut self.evicted {
                kept.push(gone);
            }
        }
    }

    /// All live flows in creation order.
    pub fn into_flows(self) -> Vec<Flow> {
        let mut flows = self.flows;
        // Creation order already, unless eviction moved flows; seq is unique.
        if flows.windows(2).any(|w| w.first().map(|f| f.seq) > w.get(1).map(|f| f.seq)) {
            flows.sort_unstable_by_key(|f| f.seq);
        }
        flows
    }
}

/// A flow's first packet: its orientation, as far as that packet tells.
fn new_flow(seq: u64, ts: Timestamp, seg: &Segment<'_>, src: SocketAddr, dst: SocketAddr) -> Flow {
    // A SYN-ACK seen first means the SYN was missed: its receiver is the client.
    let syn_ack = seg.transport == Transport::Tcp && seg.tcp_flags & (TCP_SYN | TCP_ACK) == TCP_SYN | TCP_ACK;
    let (client, server) = if syn_ack { (dst, src) } else { (src, dst) };
    Flow {
        seq,
        transport: seg.transport,
        client,
        server,
        to_server: DirectionStats::default(),
        to_client: DirectionStats::default(),
        first_seen: ts,
        last_seen: ts,
        oriented_by_syn: syn_ack,
        tunnel_depth: seg.tunnel_depth,
        fragments: 0,
        fragment_bytes: 0,
        stream: None,
        stream_settled: false,
        dns_names: Vec::new(),
        datagrams: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn seg(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, flags: u8) -> Segment<'static> {
        Segment {
            transport: Transport::Tcp,
            src: IpAddr::V4(Ipv4Addr::from(src)),
            dst: IpAddr::V4(Ipv4Addr::from(dst)),
            sport,
            dport,
            tcp_flags: flags,
            tcp_seq: 0,
            payload: &[],
            wire_payload_len: 0,
            tunnel_depth: 0,
            is_fragment: false,
        }
    }

    #[test]
    fn syn_sender_is_client_even_when_seen_second() {
        let mut t = FlowTable::new(10);
        t.observe(Timestamp(1), 60, &seg([10, 0, 0, 2], 443, [10, 0, 0, 1], 5000, TCP_ACK));
        t.observe(Timestamp(2), 60, &seg([10, 0, 0, 1], 5000, [10, 0, 0, 2], 443, TCP_SYN));
        let flows = t.into_flows();
        assert_eq!(flows.len(), 1);
        assert_eq!(flows[0].client.port(), 5000);
        assert_eq!(flows[0].to_server.packets, 1);
        assert_eq!(flows[0].to_client.packets, 1);
    }

    #[test]
    fn eviction_is_counted_and_bounded() {
        let mut t = FlowTable::new(8);
        for i in 0..100u16 {
            t.observe(Timestamp(i64::from(i)), 100, &seg([10, 0, 0, 1], 1000 + i, [10, 0, 0, 2], 80, 0));
        }
        assert!(t.len() <= 8);
        assert_eq!(t.stats.flows_evicted + t.len() as u64, 100);
        assert_eq!(t.stats.packets_in_evicted_flows + t.len() as u64, 100);
    }

    #[test]
    fn evicted_flows_are_handed_on_when_kept() {
        let mut t = FlowTable::new(8);
        t.keep_evicted();
        for i in 0..100u16 {
            t.observe(Timestamp(i64::from(i)), 100, &seg([10, 0, 0, 1], 1000 + i, [10, 0, 0, 2], 80, 0));
        }
        let evicted = t.take_evicted();
        assert_eq!(evicted.len() as u64, t.stats.flows_evicted);
        assert!(t.take_evicted().is_empty(), "handed on once");
        // Every flow is either evicted or live, once.
        let mut ports: Vec<u16> = evicted.iter().chain(&t.flows).map(|f| f.client.port()).collect();
        ports.sort_unstable();
        assert_eq!(ports, (1000..1100).collect::<Vec<u16>>());
    }

    #[test]
    fn eviction_keeps_every_survivor_reachable() {
        // Eviction moves flows inside the vector: a later packet of a survivor must still find
        // its own flow, not another one or a new one.
        let mut t = FlowTable::new(8);
        for i in 0..20u16 {
            t.observe(Timestamp(i64::from(i)), 100, &seg([10, 0, 0, 1], 1000 + i, [10, 0, 0, 2], 80, 0));
        }
        let survivors: Vec<u16> = t.flows.iter().map(|f| f.client.port()).collect();
        let evicted = t.stats.flows_evicted;
        for (n, port) in survivors.iter().enumerate() {
            t.observe(Timestamp(100 + n as i64), 100, &seg([10, 0, 0, 1], *port, [10, 0, 0, 2], 80, 0));
        }
        assert_eq!(t.stats.flows_evicted, evicted, "no flow was created, so none was evicted");
        assert_eq!(t.len(), survivors.len());
        for f in &t.flows {
            assert_eq!(f.to_server.packets, 2, "port {}", f.client.port());
        }
        let seqs: Vec<u64> = t.into_flows().iter().map(|f| f.seq).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "creation order: {seqs:?}");
    }
}
