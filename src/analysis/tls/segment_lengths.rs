//! Segment payload lengths of a TCP flow, per direction, counted by length (bounded). Kept only
//! for flows that open with random-looking bytes: for an encrypted protocol without visible
//! framing, the lengths its writes produce are what the wire still shows. Mechanism only.

/// Distinct lengths counted per direction; rarer ones after that are counted together.
pub const MAX_DISTINCT: usize = 256;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SegmentLengths {
    /// (payload length, segments), in order of first appearance.
    pub counts: Vec<(u32, u32)>,
    /// Segments whose length did not fit in `counts`.
    pub other: u32,
}

impl SegmentLengths {
    /// Counts one segment of `len` bytes; a length not seen yet takes a new entry only when
    /// `grow` (else it is counted with the others).
    pub fn add(&mut self, len: usize, grow: bool) {
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        if let Some(entry) = self.counts.iter_mut().find(|(l, _)| *l == len) {
            entry.1 = entry.1.saturating_add(1);
        } else if grow && self.counts.len() < MAX_DISTINCT {
            self.counts.push((len, 1));
        } else {
            self.other = self.other.saturating_add(1);
        }
    }

    /// Bytes the table holds.
    pub fn table_bytes(&self) -> usize {
        self.counts.capacity() * std::mem::size_of::<(u32, u32)>()
    }

    pub fn segments(&self) -> u64 {
        self.counts.iter().map(|(_, n)| u64::from(*n)).sum::<u64>() + u64::from(self.other)
    }
}
