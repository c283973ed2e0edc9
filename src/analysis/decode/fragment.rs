//! IP fragment attribution. Only the first fragment of a datagram carries the TCP/UDP header, so
//! later fragments are matched to it by (source, destination, identification, protocol) and
//! counted toward its flow. Fragments that arrive before their first one are held (as counts,
//! not bytes) up to a bound, then attributed when it arrives.

use super::Transport;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FragmentKey {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    proto: u8,
}

impl FragmentKey {
    pub fn new(src: IpAddr, dst: IpAddr, id: u32, proto: u8) -> Self {
        FragmentKey { src, dst, id, proto }
    }
}

/// The flow a datagram belongs to: transport, src, dst, sport, dport, tunnel depth.
pub type FlowOfDatagram = (Transport, IpAddr, IpAddr, u16, u16, u8);

#[derive(Clone, Copy, Debug)]
pub struct HeldFragment {
    pub wire_len: u32,
}

enum Entry {
    Known(FlowOfDatagram),
    Waiting(Vec<HeldFragment>),
}

pub enum FragmentVerdict {
    Attributed(FlowOfDatagram),
    Held,
    Dropped,
}

pub struct Fragments {
    entries: HashMap<FragmentKey, Entry>,
    order: VecDeque<FragmentKey>,
    max_entries: usize,
    expired_fragments: u64,
}

/// Held fragments per datagram: a 64 KiB datagram has at most 8192 eight-byte fragments.
const MAX_HELD_PER_DATAGRAM: usize = 8192;

impl Fragments {
    pub fn new(max_entries: usize) -> Self {
        Fragments { entries: HashMap::new(), order: VecDeque::new(), max_entries, expired_fragments: 0 }
    }

    fn make_room(&mut self) {
        // Completed datagrams leave stale keys in `order`; drop them before they pile up.
        if self.order.len() >= self.max_entries.max(1) * 2 {
            let entries = &self.entries;
            self.order.retain(|k| entries.contains_key(k));
        }
        while self.entries.len() >= self.max_entries.max(1) {
            match self.order.pop_front() {
                Some(old) => {
                    if let Some(Entry::Waiting(held)) = self.entries.remove(&old) {
                        self.expired_fragments += held.len() as u64;
                    }
                }
                None => break,
            }
        }
    }

    /// The first fragment arrived: remember its flow and release fragments that came early.
    pub fn first_arrived(&mut self, key: FragmentKey, flow: FlowOfDatagram) -> Vec<HeldFragment> {
        if !self.entries.contains_key(&key) {
            self.make_room();
            self.order.push_back(key);
        }
        match self.entries.insert(key, Entry::Known(flow)) {
            Some(Entry::Waiting(held)) => held,
            _ => Vec::new(),
        }
    }

    /// A later fragment (offset > 0) arrived.
    pub fn later(&mut self, key: FragmentKey, wire_len: u32, more: bool) -> FragmentVerdict {
        match self.entries.get_mut(&key) {
            Some(Entry::Known(flow)) => {
                let flow = *flow;
                if !more {
                    // The last fragment: later duplicates are rare enough to be held, not kept.
                    self.entries.remove(&key);
                }
                FragmentVerdict::Attributed(flow)
            }
            Some(Entry::Waiting(held)) => {
                if held.len() >= MAX_HELD_PER_DATAGRAM {
                    return FragmentVerdict::Dropped;
                }
                held.push(HeldFragment { wire_len });
                FragmentVerdict::Held
            }
            None => {
                self.make_room();
                self.order.push_back(key);
                self.entries.insert(key, Entry::Waiting(vec![HeldFragment { wire_len }]));
                FragmentVerdict::Held
            }
        }
    }

    /// (datagrams, fragments) still waiting for their first fragment, plus those expired.
    pub fn unmatched(&self) -> (u64, u64) {
        let mut datagrams = 0;
        let mut fragments = self.expired_fragments;
        for entry in self.entries.values() {
            if let Entry::Waiting(held) = entry {
                datagrams += 1;
                fragments += held.len() as u64;
            }
        }
        (datagrams, fragments)
    }
}
