//! Deterministic synthetic captures for tests and benchmarks: TCP and UDP flows between
//! generated hosts, written as pcap or pcapng with etherparse's `PacketBuilder`.
//! Same parameters, same bytes.

use etherparse::PacketBuilder;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SynthFormat {
    Pcap,
    Pcapng,
}

#[derive(Clone, Debug)]
pub struct SynthSpec {
    pub format: SynthFormat,
    pub packets: u64,
    pub flows: u64,
    /// Payload bytes per packet.
    pub payload: usize,
    pub seed: u64,
}

/// What the generator wrote, for tests to compare against.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SynthTruth {
    pub packets: u64,
    pub flows: u64,
    pub bytes: u64,
}

/// xorshift64*: tiny, deterministic, good enough to spread addresses and ports.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Endpoints of flow `i`: TCP for even flows, UDP for odd, distinct for every `i`.
fn flow_endpoints(i: u64) -> ([u8; 4], [u8; 4], u16, u16) {
    let client = [10, (i >> 16) as u8, (i >> 8) as u8, i as u8];
    let server = [192, 0, 2, (i % 200) as u8 + 1];
    let sport = 1024 + (i % 60_000) as u16;
    let dport = match i % 4 {
        0 => 443,
        1 => 80,
        2 => 9001,
        _ => 53,
    };
    (client, server, sport, dport)
}

/// Writes the capture into `out` (streamed: callers can pass a file) and returns what it holds.
pub fn generate(spec: &SynthSpec, out: &mut dyn std::io::Write) -> std::io::Result<SynthTruth> {
    let flows = spec.flows.max(1).min(spec.packets.max(1));
    let mut rng = Rng(spec.seed | 1);
    let payload: Vec<u8> = (0..spec.payload).map(|i| (i as u8).wrapping_mul(31)).collect();
    match spec.format {
        SynthFormat::Pcap => {
            out.write_all(&0xa1b2_c3d4u32.to_le_bytes())?;
            out.write_all(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0])?;
            out.write_all(&65_535u32.to_le_bytes())?;
            out.write_all(&1u32.to_le_bytes())?;
        }
        SynthFormat::Pcapng => {
            // SHB (28 bytes, no options) and one Ethernet IDB with microsecond stamps.
            let mut shb = Vec::new();
            shb.extend_from_slice(&0x0a0d_0d0au32.to_le_bytes());
            shb.extend_from_slice(&28u32.to_le_bytes());
            shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
            shb.extend_from_slice(&[1, 0, 0, 0]);
            shb.extend_from_slice(&u64::MAX.to_le_bytes());
            shb.extend_from_slice(&28u32.to_le_bytes());
            out.write_all(&shb)?;
            let mut idb = Vec::new();
            idb.extend_from_slice(&1u32.to_le_bytes());
            idb.extend_from_slice(&20u32.to_le_bytes());
            idb.extend_from_slice(&[1, 0, 0, 0]);
            idb.extend_from_slice(&65_535u32.to_le_bytes());
            idb.extend_from_slice(&20u32.to_le_bytes());
            out.write_all(&idb)?;
        }
    }
    let mut truth = SynthTruth { flows, ..Default::default() };
    let mut frame = Vec::with_capacity(spec.payload + 64);
    let base_us: u64 = 1_700_000_000_000_000;
    for n in 0..spec.packets {
        // The first `flows` packets open each flow once; the rest pick flows at random.
        let i = if n < flows { n } else { rng.next() % flows };
        let (client, server, sport, dport) = flow_endpoints(i);
        let reply = n >= flows && rng.next() % 2 == 0;
        let (src, dst, sp, dp) = if reply { (server, client, dport, sport) } else { (client, server, sport, dport) };
        let builder = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]).ipv4(src, dst, 64);
        frame.clear();
        if i % 2 == 0 {
            let b = builder.tcp(sp, dp, n as u32, 65_535);
            let b = if n < flows { b.syn() } else { b.ack(1) };
            b.write(&mut frame, &payload).map_err(std::io::Error::other)?;
        } else {
            builder.udp(sp, dp).write(&mut frame, &payload).map_err(std::io::Error::other)?;
        }
        let ts = base_us + n * 10;
        let len = frame.len() as u32;
        match spec.format {
            SynthFormat::Pcap => {
                out.write_all(&((ts / 1_000_000) as u32).to_le_bytes())?;
                out.write_all(&((ts % 1_000_000) as u32).to_le_bytes())?;
                out.write_all(&len.to_le_bytes())?;
                out.write_all(&len.to_le_bytes())?;
                out.write_all(&frame)?;
            }
            SynthFormat::Pcapng => {
                let padded = frame.len().div_ceil(4) * 4;
                let block_len = (32 + padded) as u32;
                out.write_all(&6u32.to_le_bytes())?;
                out.write_all(&block_len.to_le_bytes())?;
                out.write_all(&0u32.to_le_bytes())?;
                out.write_all(&((ts >> 32) as u32).to_le_bytes())?;
                out.write_all(&(ts as u32).to_le_bytes())?;
                out.write_all(&len.to_le_bytes())?;
                out.write_all(&len.to_le_bytes())?;
                out.write_all(&frame)?;
                out.write_all(&vec![0u8; padded - frame.len()])?;
                out.write_all(&block_len.to_le_bytes())?;
            }
        }
        truth.packets += 1;
        truth.bytes += u64::from(len);
    }
    Ok(truth)
}
