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

/// A bounds-checked reader that moves forward through a buffer; every read returns `None`
/// past the end.
pub struct Cursor<'a> {
    buf: &'a [u8],
    pub at: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Cursor { buf, at: 0 }
    }

    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.buf.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }

    pub fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }

    pub fn be16(&mut self) -> Option<u16> {
        self.array().map(u16::from_be_bytes)
    }

    pub fn le16(&mut self) -> Option<u16> {
        self.array().map(u16::from_le_bytes)
    }

    pub fn le32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }

    pub fn le_i32(&mut self) -> Option<i32> {
        self.array().map(i32::from_le_bytes)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    /// A vector with a one-byte length prefix (TLS `<0..2^8-1>`).
    pub fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = usize::from(self.u8()?);
        self.take(n)
    }

    /// A vector with a two-byte big-endian length prefix (TLS `<0..2^16-1>`).
    pub fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = usize::from(self.be16()?);
        self.take(n)
    }
}
