//! A bounded view of one file: every read is checked against the stream length, a byte budget
//! and a deadline, so no input can make a reader allocate or read without limit.

use std::io::{Read, Seek, SeekFrom};
use std::time::Instant;

/// Anything a reader can pull bytes from.
pub trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

/// Why a read was refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The underlying stream failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// A length or offset in the file points outside the file.
    #[error("malformed {format}: {what}")]
    Malformed {
        /// Container being read.
        format: &'static str,
        /// What was wrong.
        what: String,
    },
    /// The per-file byte budget is spent.
    #[error("per-file read limit of {0} bytes reached")]
    ByteLimit(u64),
    /// The per-file time budget is spent.
    #[error("per-file time limit reached")]
    TimeLimit,
    /// Memory for a region could not be reserved.
    #[error("cannot reserve {0} bytes")]
    Alloc(u64),
}

/// Shorthand for a malformed-input error.
pub(crate) fn malformed(format: &'static str, what: impl Into<String>) -> ReadError {
    ReadError::Malformed {
        format,
        what: what.into(),
    }
}

/// A bounded reader over one stream.
pub struct Source<'a> {
    inner: &'a mut dyn ReadSeek,
    len: u64,
    pos: u64,
    budget: u64,
    used: u64,
    deadline: Option<Instant>,
}

impl<'a> Source<'a> {
    /// Wraps `inner`; `budget` caps the bytes read (skips are free), `deadline` the time.
    pub fn new(
        inner: &'a mut dyn ReadSeek,
        budget: u64,
        deadline: Option<Instant>,
    ) -> Result<Self, ReadError> {
        let len = inner.seek(SeekFrom::End(0))?;
        inner.seek(SeekFrom::Start(0))?;
        Ok(Self {
            inner,
            len,
            pos: 0,
            budget,
            used: 0,
            deadline,
        })
    }

    /// Length of the stream in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the stream is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Current position.
    pub fn pos(&self) -> u64 {
        self.pos
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.used
    }

    /// Bytes left between the position and the end of the stream.
    pub fn remaining(&self) -> u64 {
        self.len.saturating_sub(self.pos)
    }

    fn check_time(&self) -> Result<(), ReadError> {
        match self.deadline {
            Some(d) if Instant::now() > d => Err(ReadError::TimeLimit),
            _ => Ok(()),
        }
    }

    /// Moves to an absolute offset, which must lie within the stream.
    pub fn seek_to(&mut self, offset: u64) -> Result<(), ReadError> {
        self.check_time()?;
        if offset > self.len {
            return Err(malformed(
                "stream",
                format!("offset {offset} beyond end {}", self.len),
            ));
        }
        if offset != self.pos {
            self.inner.seek(SeekFrom::Start(offset))?;
            self.pos = offset;
        }
        Ok(())
    }

    /// Skips `n` bytes forward, which must stay within the stream.
    pub fn skip(&mut self, n: u64) -> Result<(), ReadError> {
        let to = self
            .pos
            .checked_add(n)
            .ok_or_else(|| malformed("stream", "offset overflow"))?;
        self.seek_to(to)
    }

    fn charge(&mut self, n: u64) -> Result<(), ReadError> {
        self.check_time()?;
        let used = self
            .used
            .checked_add(n)
            .ok_or(ReadError::ByteLimit(self.budget))?;
        if used > self.budget {
            return Err(ReadError::ByteLimit(self.budget));
        }
        self.used = used;
        Ok(())
    }

    /// Reads exactly `buf.len()` bytes.
    pub fn read_into(&mut self, buf: &mut [u8]) -> Result<(), ReadError> {
        let n = buf.len() as u64;
        if n > self.remaining() {
            return Err(malformed(
                "stream",
                format!("read of {n} bytes past end at {}", self.pos),
            ));
        }
        self.charge(n)?;
        self.inner.read_exact(buf)?;
        self.pos = self.pos.saturating_add(n);
        Ok(())
    }

    /// Reads a fixed-size array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], ReadError> {
        let mut b = [0u8; N];
        self.read_into(&mut b)?;
        Ok(b)
    }

    /// Reads `n` bytes into a new vector, refusing lengths beyond the stream or the budget.
    pub fn vec(&mut self, n: u64) -> Result<Vec<u8>, ReadError> {
        if n > self.remaining() {
            return Err(malformed(
                "stream",
                format!("region of {n} bytes past end at {}", self.pos),
            ));
        }
        if self.used.saturating_add(n) > self.budget {
            return Err(ReadError::ByteLimit(self.budget));
        }
        let size = usize::try_from(n).map_err(|_| ReadError::Alloc(n))?;
        let mut v = Vec::new();
        v.try_reserve_exact(size).map_err(|_| ReadError::Alloc(n))?;
        v.resize(size, 0);
        self.read_into(&mut v)?;
        Ok(v)
    }

    /// Reads up to `n` bytes (fewer at the end of the stream).
    pub fn vec_upto(&mut self, n: u64) -> Result<Vec<u8>, ReadError> {
        let n = n.min(self.remaining());
        self.vec(n)
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8, ReadError> {
        let [b] = self.array::<1>()?;
        Ok(b)
    }

    /// Reads a big-endian u16.
    pub fn u16_be(&mut self) -> Result<u16, ReadError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// Reads a big-endian u32.
    pub fn u32_be(&mut self) -> Result<u32, ReadError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// Reads a little-endian u32.
    pub fn u32_le(&mut self) -> Result<u32, ReadError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// Reads a big-endian u64.
    pub fn u64_be(&mut self) -> Result<u64, ReadError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// Checks that `start + len` lies within the stream and returns the end offset.
    pub fn end_of(&self, start: u64, len: u64, format: &'static str) -> Result<u64, ReadError> {
        let end = start
            .checked_add(len)
            .ok_or_else(|| malformed(format, "length overflow"))?;
        if end > self.len {
            return Err(malformed(
                format,
                format!("region {start}+{len} past end {}", self.len),
            ));
        }
        Ok(end)
    }
}

/// Bounds-checked little helpers over byte slices.
pub(crate) mod bytes {
    /// `b[start..start+len]` or `None`.
    pub fn slice(b: &[u8], start: usize, len: usize) -> Option<&[u8]> {
        b.get(start..start.checked_add(len)?)
    }

    /// Big-endian u16 at `at`.
    pub fn be16(b: &[u8], at: usize) -> Option<u16> {
        let s = slice(b, at, 2)?;
        Some(u16::from_be_bytes(s.try_into().ok()?))
    }

    /// Big-endian u32 at `at`.
    pub fn be32(b: &[u8], at: usize) -> Option<u32> {
        let s = slice(b, at, 4)?;
        Some(u32::from_be_bytes(s.try_into().ok()?))
    }

    /// Little-endian u32 at `at`.
    pub fn le32(b: &[u8], at: usize) -> Option<u32> {
        let s = slice(b, at, 4)?;
        Some(u32::from_le_bytes(s.try_into().ok()?))
    }

    /// The bytes up to the first NUL (or all), and the rest after the NUL.
    pub fn cstr(b: &[u8]) -> (&[u8], &[u8]) {
        match b.iter().position(|&c| c == 0) {
            Some(i) => (
                b.get(..i).unwrap_or_default(),
                b.get(i.saturating_add(1)..).unwrap_or_default(),
            ),
            None => (b, &[]),
        }
    }

    /// UTF-16 text (big- or little-endian), trimmed of NULs and spaces.
    pub fn utf16(b: &[u8], be: bool) -> String {
        let units: Vec<u16> = b
            .chunks_exact(2)
            .map(|c| {
                let p = [
                    c.first().copied().unwrap_or(0),
                    c.get(1).copied().unwrap_or(0),
                ];
                if be {
                    u16::from_be_bytes(p)
                } else {
                    u16::from_le_bytes(p)
                }
            })
            .collect();
        String::from_utf16_lossy(&units)
            .trim_matches(char::from(0))
            .trim()
            .to_string()
    }

    /// Lossy text with NULs and surrounding whitespace trimmed.
    pub fn text(b: &[u8]) -> String {
        let (s, _) = cstr(b);
        String::from_utf8_lossy(s).trim().to_string()
    }

    /// Position of `needle` in `hay` at or after `from`.
    pub fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
        let h = hay.get(from..)?;
        memchr::memmem::find(h, needle).map(|i| i.saturating_add(from))
    }
}
