//! Bounds-checked reads of fixed-size integers. Every accessor returns `None` past the end, so
//! parsers built on them cannot index out of bounds whatever the input says.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endian {
    Little,
    Big,
}

pub fn array<const N: usize>(buf: &[u8], at: usize) -> Option<[u8; N]> {
    buf.get(at..at.checked_add(N)?)?.try_into().ok()
}

pub fn u8_at(buf: &[u8], at: usize) -> Option<u8> {
    buf.get(at).copied()
}

pub fn be16(buf: &[u8], at: usize) -> Option<u16> {
    array(buf, at).map(u16::from_be_bytes)
}

pub fn be32(buf: &[u8], at: usize) -> Option<u32> {
    array(buf, at).map(u32::from_be_bytes)
}

impl Endian {
    pub fn u16(self, buf: &[u8], at: usize) -> Option<u16> {
        let a = array(buf, at)?;
        Some(match self {
            Endian::Little => u16::from_le_bytes(a),
            Endian::Big => u16::from_be_bytes(a),
        })
    }

    pub fn u32(self, buf: &[u8], at: usize) -> Option<u32> {
        let a = array(buf, at)?;
        Some(match self {
            Endian::Little => u32::from_le_bytes(a),
            Endian::Big => u32::from_be_bytes(a),
        })
    }

    pub fn i32(self, buf: &[u8], at: usize) -> Option<i32> {
        self.u32(buf, at).map(|v| v as i32)
    }

    pub fn i64(self, buf: &[u8], at: usize) -> Option<i64> {
        let a = array(buf, at)?;
        Some(match self {
            Endian::Little => i64::from_le_bytes(a),
            Endian::Big => i64::from_be_bytes(a),
        })
    }
}
