//! TLS record boundaries through a whole stream, and the lengths of application-data records.
//! When a capture starts mid-stream (or a segment is lost) the tracker resynchronises on a
//! segment that starts with a plausible record header.

use serde::Serialize;

/// Largest record length field accepted as plausible: 2^14 plaintext plus the 2048 bytes of
/// expansion RFC 5246 §6.2.3 allows.
const MAX_RECORD: usize = 16_384 + 2048;
/// Distinct application-data record lengths counted per direction; rarer lengths beyond this
/// are counted together in `other_lengths`.
const MAX_DISTINCT_LENGTHS: usize = 256;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
enum State {
    /// Nothing seen yet: the first byte may or may not start a record.
    #[default]
    Start,
    /// At a record boundary, with `have` bytes of the next 5-byte header.
    Header { buf: [u8; 5], have: usize },
    /// Inside a record body.
    Body { remaining: usize },
    /// Lost: waiting for a segment that starts with a plausible header.
    Lost,
}

#[derive(Clone, Debug, Default)]
pub struct RecordTracker {
    state: State,
    records: u64,
    app_records: u64,
    handshake_records: u64,
    resyncs: u32,
    lengths: Vec<(u16, u32)>,
    other_lengths: u64,
}

/// Per-direction record facts, for the report and for policy.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct RecordStats {
    pub records: u64,
    pub application_data_records: u64,
    pub handshake_records: u64,
    /// Times the tracker found record boundaries again after losing them (or mid-stream start).
    pub resyncs: u32,
    /// (record length, count) of application-data records, most frequent first.
    pub application_data_lengths: Vec<(u16, u32)>,
    pub other_lengths: u64,
}

fn plausible(header: &[u8]) -> Option<(u8, usize)> {
    let (&ct, &major, &minor) = (header.first()?, header.get(1)?, header.get(2)?);
    let len = usize::from(u16::from_be_bytes([*header.get(3)?, *header.get(4)?]));
    ((20..=23).contains(&ct) && major == 3 && (1..=4).contains(&minor) && (1..=MAX_RECORD).contains(&len))
        .then_some((ct, len))
}

impl RecordTracker {
    /// Records seen so far.
    pub fn stats_records(&self) -> u64 {
        self.records
    }

    /// Still in the handshake: in sync and no application data yet.
    pub fn in_handshake(&self) -> bool {
        self.app_records == 0 && !matches!(self.state, State::Lost)
    }

    pub fn lost_sync(&mut self) {
        self.state = State::Lost;
    }

    fn count(&mut self, content_type: u8, len: usize, grow: bool) {
        self.records += 1;
        match content_type {
            22 => self.handshake_records += 1,
            23 => {
                self.app_records += 1;
                let len = len as u16;
                if let Some((_, n)) = self.lengths.iter_mut().find(|(l, _)| *l == len) {
                    *n += 1;
                } else if grow && self.lengths.len() < MAX_DISTINCT_LENGTHS {
                    self.lengths.push((len, 1));
                } else {
                    self.other_lengths += 1;
                }
            }
            _ => {}
        }
    }

    /// Whether a segment starting here starts a record: a plausible header whose record either
    /// runs past the segment, ends exactly with it, or is followed by another plausible header.
    fn starts_record(segment: &[u8]) -> bool {
        let Some((_, len)) = segment.get(..5).and_then(plausible) else { return false };
        let next = 5 + len;
        next >= segment.len() || segment.get(next..).is_some_and(|rest| rest.len() < 5 || plausible(rest).is_some())
    }

    /// Bytes the table of record lengths holds.
    pub fn table_bytes(&self) -> usize {
        self.lengths.capacity() * std::mem::size_of::<(u16, u32)>()
    }

    /// The next in-order bytes of the stream (one segment, or its new part); a record length
    /// not seen yet takes a new entry only when `grow` (else it is counted with the others).
    pub fn feed(&mut self, mut data: &[u8], grow: bool) {
        match self.state {
            State::Start | State::Lost => {
                if !Self::starts_record(data) {
                    self.state = State::Lost;
                    return;
                }
                if self.state == State::Lost {
                    self.resyncs += 1;
                }
                self.state = State::Header { buf: [0; 5], have: 0 };
            }
            _ => {}
        }
        while !data.is_empty() {
            match &mut self.state {
                State::Body { remaining } => {
                    let n = (*remaining).min(data.len());
                    *remaining -= n;
                    data = data.get(n..).unwrap_or_default();
                    if *remaining == 0 {
                        self.state = State::Header { buf: [0; 5], have: 0 };
                    }
                }
                State::Header { buf, have } => {
                    let n = (5 - *have).min(data.len());
                    if let (Some(dst), Some(src)) = (buf.get_mut(*have..*have + n), data.get(..n)) {
                        dst.copy_from_slice(src);
                    }
                    *have += n;
                    data = data.get(n..).unwrap_or_default();
                    if *have == 5 {
                        match plausible(buf) {
                            Some((ct, len)) => {
                                self.count(ct, len, grow);
                                self.state = State::Body { remaining: len };
                            }
                            None => {
                                self.state = State::Lost;
                                return;
                            }
                        }
                    }
                }
                State::Start | State::Lost => return,
            }
        }
    }

    pub fn stats(&self) -> RecordStats {
        let mut lengths = self.lengths.clone();
        lengths.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        RecordStats {
            records: self.records,
            application_data_records: self.app_records,
            handshake_records: self.handshake_records,
            resyncs: self.resyncs,
            application_data_lengths: lengths,
            other_lengths: self.other_lengths,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(ct: u8, len: usize) -> Vec<u8> {
        let mut r = vec![ct, 3, 3, (len >> 8) as u8, len as u8];
        r.resize(5 + len, 0xab);
        r
    }

    #[test]
    fn follows_records_across_segment_boundaries() {
        let mut stream = record(22, 100);
        stream.extend(record(23, 531));
        stream.extend(record(23, 1045));
        let mut t = RecordTracker::default();
        for piece in stream.chunks(7) {
            t.feed(piece, true);
        }
        let s = t.stats();
        assert_eq!((s.records, s.application_data_records, s.handshake_records), (3, 2, 1));
        assert_eq!(s.application_data_lengths, vec![(531, 1), (1045, 1)]);
    }

    #[test]
    fn resynchronises_mid_stream() {
        let mut t = RecordTracker::default();
        t.feed(&[0x17, 0x99, 0x01, 0x02], true); // the tail of a record: not a header
        let mut seg = record(23, 531);
        seg.extend(record(23, 531));
        t.feed(&seg, true);
        let s = t.stats();
        assert_eq!((s.application_data_records, s.resyncs), (2, 1));
    }
}
