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
    /// Small reads and seeks since the clock was last read.
    unclocked: u32,
}

/// Small reads and seeks between two readings of the clock; a read of at least
/// [`CLOCKED_READ`] bytes always reads it. Small reads are mostly served from memory, so the
/// deadline is still met within a few microseconds.
const CLOCK_EVERY: u32 = 32;
/// Reads at least this large always check the deadline first.
const CLOCKED_READ: u64 = 4096;

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
            unclocked: 0,
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

    /// Bytes the per-file budget still allows.
    pub fn budget_left(&self) -> u64 {
        self.budget.saturating_sub(self.used)
    }

    /// Bytes left between the position and the end of the stream.
    pub fn remaining(&self) -> u64 {
        self.len.saturating_sub(self.pos)
    }

    fn check_time(&mut self) -> Result<(), ReadError> {
        self.unclocked = 0;
        match self.deadline {
            Some(d) if Instant::now() > d => Err(ReadError::TimeLimit),
            _ => Ok(()),
        }
    }

    /// Checks the deadline for an operation touching `n` bytes: always for large reads and on
    /// the first operation, otherwise every [`CLOCK_EVERY`] operations.
    fn tick(&mut self, n: u64) -> Result<(), ReadError> {
        if self.deadline.is_none() {
            return Ok(());
        }
        if n >= CLOCKED_READ || self.unclocked == 0 || self.unclocked >= CLOCK_EVERY {
            self.check_time()?;
        }
        self.unclocked = self.unclocked.saturating_add(1);
        Ok(())
    }

    /// Moves to an absolute offset, which must lie within the stream.
    pub fn seek_to(&mut self, offset: u64) -> Result<(), ReadError> {
        self.tick(0)?;
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

    /// Counts `n` bytes against the per-file budget: bytes read, or bytes made from them
    /// (decompressed metadata, for example).
    pub fn charge(&mut self, n: u64) -> Result<(), ReadError> {
        self.tick(n)?;
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
        self.charge(n)?;
        // One read of the whole region (not `read_to_end`'s growing chunks), so a
        // [`FileReader`] can hand a large region straight from the file to `v`.
        v.resize(size, 0);
        self.inner.read_exact(&mut v)?;
        self.pos = self.pos.saturating_add(n);
        Ok(v)
    }

    /// Reads `n` bytes onto the end of `out`, with the checks of [`Source::vec`]: for a region
    /// assembled from pieces (a JUMBF store split over segments) without a copy of each piece.
    pub fn append_to(&mut self, out: &mut Vec<u8>, n: u64) -> Result<(), ReadError> {
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
        out.try_reserve(size).map_err(|_| ReadError::Alloc(n))?;
        self.charge(n)?;
        let before = out.len();
        out.resize(before.saturating_add(size), 0);
        // one read of the whole piece, as in [`Source::vec`]
        let read = match out.get_mut(before..) {
            Some(piece) => self.inner.read_exact(piece),
            None => Ok(()),
        };
        if let Err(e) = read {
            out.truncate(before);
            return Err(e.into());
        }
        self.pos = self.pos.saturating_add(n);
        Ok(())
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

/// How many bytes a [`FileReader`] keeps in memory by default.
pub const FILE_BUFFER_LEN: usize = 64 << 10;

/// Reads at least this large that miss a [`FileReader`]'s window go straight from the file to
/// the caller's buffer, instead of through the window (a copy more, and the window's bytes past
/// the read fetched for nothing when the caller seeks on).
const DIRECT_READ: usize = 16 << 10;

/// How many bytes a [`FileReader`] fetches into its window right after a direct read: the
/// caller is reading regions, each after a small header (a JPEG's APP11 segments, a JUMBF
/// store's pieces), and a full window would fetch most of the next region twice.
const SHORT_FILL: usize = 4 << 10;

/// A file read through a window that survives seeks.
///
/// A scan sniffs a file's first bytes, asks for its length, then walks its structure from the
/// start. Through a plain `BufReader` every seek drops the buffer and reads the same bytes again;
/// here reads inside the window are served from memory and seeks only move a position, so a file
/// that fits in the window costs one read. The window is a buffer the caller owns, reused from
/// file to file. Reads outside the window refill it at the position; reads at least as large as
/// the window go straight to the file.
pub struct FileReader<'b> {
    file: std::fs::File,
    /// The window; its length is its capacity, `filled` bytes of it are valid.
    buf: &'b mut Vec<u8>,
    /// File offset of the window's first byte.
    start: u64,
    filled: usize,
    /// Logical position.
    pos: u64,
    /// Position of the open file description.
    file_pos: u64,
    /// Length learnt by reading to the end of a regular file.
    len: Option<u64>,
    /// Whether the file is known to be a regular file (a short read is its end).
    regular: bool,
    /// The last read from the file went straight to the caller: the next window fill is short.
    after_direct: bool,
}

impl<'b> FileReader<'b> {
    /// Wraps `file`, positioned at its start, with `buf` as the window (grown to
    /// [`FILE_BUFFER_LEN`] if smaller). `regular` says the file is known to be a regular file,
    /// whose length can then be learnt from reading its end instead of seeking there.
    pub fn new(file: std::fs::File, buf: &'b mut Vec<u8>, regular: bool) -> Self {
        if buf.len() < FILE_BUFFER_LEN {
            buf.resize(FILE_BUFFER_LEN, 0);
        }
        Self {
            file,
            buf,
            start: 0,
            filled: 0,
            pos: 0,
            file_pos: 0,
            len: None,
            regular,
            after_direct: false,
        }
    }

    /// The valid part of the window at the position, if the position lies inside it.
    fn window_at_pos(&self) -> Option<&[u8]> {
        let off = usize::try_from(self.pos.checked_sub(self.start)?).ok()?;
        let valid = self.buf.get(..self.filled)?;
        valid.get(off..).filter(|rest| !rest.is_empty())
    }

    /// Moves the open file description to the logical position.
    fn sync(&mut self) -> std::io::Result<()> {
        if self.file_pos != self.pos {
            self.file_pos = self.file.seek(SeekFrom::Start(self.pos))?;
        }
        Ok(())
    }

    /// Reads from the file at the position into `out` until `out` is full or the file ends;
    /// returns the bytes read and records the length when the end of a regular file was met.
    fn fill_from_file(file: &mut std::fs::File, out: &mut [u8]) -> std::io::Result<(usize, bool)> {
        let mut n = 0usize;
        while let Some(rest) = out.get_mut(n..) {
            if rest.is_empty() {
                return Ok((n, false));
            }
            match file.read(rest) {
                Ok(0) => return Ok((n, true)),
                Ok(k) => n = n.saturating_add(k),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok((n, false))
    }

    /// Records a read of `n` bytes from the file; `at_end` says it stopped at the end of the
    /// file. A read that got nothing past the start says only that the end is not beyond it,
    /// so it does not give the length.
    fn advance(&mut self, n: usize, at_end: bool) {
        let from = self.file_pos;
        self.file_pos = from.saturating_add(n as u64);
        if at_end && self.regular && (n > 0 || from == 0) {
            self.len = Some(self.file_pos);
        }
    }
}

impl Read for FileReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        if self.window_at_pos().is_none() {
            if self.len.is_some_and(|len| self.pos >= len) {
                return Ok(0);
            }
            self.sync()?;
            if out.len() >= DIRECT_READ.min(self.buf.len()) {
                let (n, at_end) = Self::fill_from_file(&mut self.file, out)?;
                self.advance(n, at_end);
                self.pos = self.file_pos;
                self.after_direct = true;
                return Ok(n);
            }
            self.filled = 0;
            self.start = self.pos;
            let fill = if std::mem::take(&mut self.after_direct) {
                SHORT_FILL.max(out.len())
            } else {
                self.buf.len()
            };
            let window = match self.buf.get_mut(..fill) {
                Some(w) => w,
                None => self.buf.as_mut_slice(),
            };
            let (n, at_end) = Self::fill_from_file(&mut self.file, window)?;
            self.filled = n;
            self.advance(n, at_end);
        }
        let Some(window) = self.window_at_pos() else {
            return Ok(0);
        };
        let n = window.len().min(out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..n), window.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.pos = self.pos.saturating_add(n as u64);
        Ok(n)
    }
}

impl Seek for FileReader<'_> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let invalid = || {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "invalid seek to a negative or overflowing position",
            )
        };
        let pos = match to {
            SeekFrom::Start(n) => n,
            SeekFrom::Current(d) => self.pos.checked_add_signed(d).ok_or_else(invalid)?,
            SeekFrom::End(d) => {
                let len = match self.len {
                    Some(len) => len,
                    None => {
                        let len = self.file.seek(SeekFrom::End(0))?;
                        self.file_pos = len;
                        len
                    }
                };
                len.checked_add_signed(d).ok_or_else(invalid)?
            }
        };
        if !self.regular {
            // Not known to be a regular file (a pipe, a device): let the system say whether it
            // can seek, as a plain reader would.
            self.file_pos = self.file.seek(SeekFrom::Start(pos))?;
        }
        self.pos = pos;
        Ok(pos)
    }
}

#[cfg(test)]
#[allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code"
)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A file of `len` pseudo-random bytes in the temp dir, removed on drop.
    struct TempFile(std::path::PathBuf, Vec<u8>);

    impl TempFile {
        fn new(tag: &str, len: usize) -> Self {
            let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ len as u64;
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            let p = std::env::temp_dir().join(format!(
                "greenlight-filereader-{tag}-{}-{len}",
                std::process::id()
            ));
            std::fs::write(&p, &data).unwrap();
            Self(p, data)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    /// Runs the same seeks and reads on a `FileReader` and on a `Cursor` over the same bytes.
    fn same_as_cursor(len: usize, regular: bool) {
        let f = TempFile::new(if regular { "reg" } else { "any" }, len);
        let mut buf = Vec::new();
        let mut a = FileReader::new(std::fs::File::open(&f.0).unwrap(), &mut buf, regular);
        let mut b = Cursor::new(f.1.clone());
        let mut x = 12345u64;
        let mut next = |m: u64| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % m.max(1)
        };
        let span = len as u64 + 100;
        for step in 0..400 {
            let to = match next(4) {
                0 => SeekFrom::Start(next(span)),
                1 => SeekFrom::Current(next(200) as i64 - 100),
                2 => SeekFrom::End(-(next(span) as i64)),
                _ => SeekFrom::Current(0),
            };
            let (ra, rb) = (a.seek(to), b.seek(to));
            assert_eq!(ra.is_ok(), rb.is_ok(), "step {step}: seek {to:?}");
            if let (Ok(pa), Ok(pb)) = (ra, rb) {
                assert_eq!(pa, pb, "step {step}: seek {to:?}");
            } else {
                // a refused seek leaves both where they were
                a.seek(SeekFrom::Start(b.position())).unwrap();
            }
            let n = match next(3) {
                0 => next(16) as usize,
                1 => next(5000) as usize,
                _ => next(200_000) as usize,
            };
            let (mut va, mut vb) = (vec![0u8; n], vec![0u8; n]);
            let ka = a.read_exact(&mut va).is_ok();
            let kb = b.read_exact(&mut vb).is_ok();
            assert_eq!(ka, kb, "step {step}: read_exact of {n}");
            if ka {
                assert_eq!(va, vb, "step {step}: bytes of a read of {n}");
            } else {
                // a short read_exact leaves the position unspecified: realign
                a.seek(SeekFrom::Start(b.position())).unwrap();
            }
        }
    }

    #[test]
    fn file_reader_reads_and_seeks_like_a_cursor() {
        for len in [
            0,
            1,
            63,
            4096,
            FILE_BUFFER_LEN - 1,
            FILE_BUFFER_LEN,
            300_000,
        ] {
            same_as_cursor(len, true);
            same_as_cursor(len, false);
        }
    }

    #[test]
    fn a_small_file_is_measured_from_its_window() {
        let f = TempFile::new("measured", 1000);
        let mut buf = Vec::new();
        let mut r = FileReader::new(std::fs::File::open(&f.0).unwrap(), &mut buf, true);
        let mut head = [0u8; 64];
        r.read_exact(&mut head).unwrap();
        assert_eq!(r.len, Some(1000));
        let mut src = Source::new(&mut r, 1 << 20, None).unwrap();
        assert_eq!(src.len(), 1000);
        src.seek_to(990).unwrap();
        assert_eq!(src.vec(10).unwrap(), f.1[990..].to_vec());
        assert_eq!(src.bytes_read(), 10);
    }
}
