//! A PDF read through its cross-reference table: `startxref` at the end, the classic `xref`
//! sections it and their `/Prev` chain name, and the objects they locate, each read as a small
//! region. Only what the verdict needs is read: the catalog, its `/Metadata` stream and the
//! file spec of the C2PA store among its associated files (`/AF`), with that spec's embedded
//! file stream.
//!
//! Whatever this does not handle answers [`Unfollowed`], and the caller reads the file whole
//! instead: an xref stream (or a hybrid file's `/XRefStm`), an entry that is not the
//! fixed 20-byte form, a `/Prev` chain longer than [`MAX_SECTIONS`] or with a loop, an object
//! that is not where its entry says.

use crate::source::{ReadError, Source, bytes};

/// Most xref sections followed through `/Prev` (incremental updates).
const MAX_SECTIONS: usize = 32;
/// Most subsections read in one section.
const MAX_SUBSECTIONS: usize = 4096;
/// Bytes read at the end of the file to find `startxref`: one read window, which usually
/// also holds the last xref section and the objects an incremental update appended.
pub const TAIL: u64 = 64 << 10;
/// Longest object text (from `N G obj` to its dictionary's end) read for one object.
const MAX_OBJECT: u64 = 16 << 10;
/// The first read of an object: enough for most dictionaries.
const FIRST_READ: u64 = 1 << 10;
/// Deepest nesting of arrays and dictionaries parsed.
const MAX_DEPTH: usize = 32;

/// The file's cross-reference could not be followed; read it whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unfollowed;

/// Why a followed read stopped.
#[derive(Debug)]
pub enum Stop {
    /// Not followable: the caller reads the file whole.
    Unfollowed,
    /// The source refused a read (budget, time, i/o): the read ends with this error.
    Read(ReadError),
}

impl From<Unfollowed> for Stop {
    fn from(_: Unfollowed) -> Self {
        Stop::Unfollowed
    }
}

impl From<ReadError> for Stop {
    fn from(e: ReadError) -> Self {
        match e {
            // a region the table points outside the file: the table is not to be trusted
            ReadError::Malformed { .. } => Stop::Unfollowed,
            e => Stop::Read(e),
        }
    }
}

/// A PDF object, as far as this reader needs one.
#[derive(Debug, Clone, PartialEq)]
pub enum Obj {
    /// `null`, booleans, reals and strings: read past, their value unused.
    Other,
    /// An integer.
    Int(i64),
    /// A name, `#xx` escapes decoded, without its `/`.
    Name(Vec<u8>),
    /// An array.
    Array(Vec<Obj>),
    /// A dictionary, its keys in order.
    Dict(Vec<(Vec<u8>, Obj)>),
    /// An indirect reference `N G R`.
    Ref(u64, u64),
}

impl Obj {
    /// The value of `key` in a dictionary.
    pub fn get(&self, key: &[u8]) -> Option<&Obj> {
        match self {
            Obj::Dict(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// One subsection of a classic xref section: `count` entries for objects `first..`, the first
/// entry at file offset `at`.
#[derive(Debug, Clone, Copy)]
struct Subsection {
    first: u64,
    count: u64,
    at: u64,
}

/// The cross-reference of a PDF: its sections newest first, and the newest trailer.
#[derive(Debug)]
pub struct Xref {
    sections: Vec<Vec<Subsection>>,
    /// The newest trailer dictionary.
    pub trailer: Obj,
}

/// One object as read: its value, and where its stream data starts if it is a stream.
#[derive(Debug)]
pub struct Object {
    /// The object's value (a stream's dictionary).
    pub value: Obj,
    /// File offset of the stream data (after `stream` and its end of line).
    pub stream_at: Option<u64>,
}

/// Reads `n` bytes at `at`, fewer at the end of the file.
fn region(src: &mut Source<'_>, at: u64, n: u64) -> Result<Vec<u8>, Stop> {
    src.seek_to(at)?;
    Ok(src.vec_upto(n)?)
}

impl Xref {
    /// Finds and reads the cross-reference from the end of the file.
    pub fn open(src: &mut Source<'_>) -> Result<Self, Stop> {
        let len = src.len();
        let tail_at = len.saturating_sub(TAIL);
        let tail = region(src, tail_at, TAIL)?;
        let sx = memchr::memmem::rfind(&tail, b"startxref").ok_or(Unfollowed)?;
        let (mut at, _) =
            integer(tail.get(sx.saturating_add(9)..).unwrap_or_default()).ok_or(Unfollowed)?;
        let mut sections = Vec::new();
        let mut seen = Vec::new();
        let mut trailer = None;
        loop {
            if sections.len() >= MAX_SECTIONS || seen.contains(&at) {
                return Err(Stop::Unfollowed);
            }
            seen.push(at);
            let (subs, t) = section(src, at)?;
            sections.push(subs);
            if t.get(b"XRefStm").is_some() {
                // a hybrid file: some objects are only in its xref stream
                return Err(Stop::Unfollowed);
            }
            let prev = match t.get(b"Prev") {
                Some(Obj::Int(p)) => Some(u64::try_from(*p).map_err(|_| Unfollowed)?),
                Some(_) => return Err(Stop::Unfollowed),
                None => None,
            };
            if trailer.is_none() {
                trailer = Some(t);
            }
            match prev {
                Some(p) => at = p,
                None => break,
            }
        }
        Ok(Self {
            sections,
            trailer: trailer.ok_or(Unfollowed)?,
        })
    }

    /// The file offset of the newest definition of object `num gen`, `None` when it is free
    /// or not in the table.
    fn offset(&self, src: &mut Source<'_>, num: u64, gen_: u64) -> Result<Option<u64>, Stop> {
        for subs in &self.sections {
            for s in subs {
                let Some(i) = num.checked_sub(s.first).filter(|i| *i < s.count) else {
                    continue;
                };
                let at = i
                    .checked_mul(20)
                    .and_then(|o| o.checked_add(s.at))
                    .ok_or(Unfollowed)?;
                let e = region(src, at, 20)?;
                let (offset, g, kind) = entry(&e).ok_or(Unfollowed)?;
                return Ok((kind == b'n' && g == gen_).then_some(offset));
            }
        }
        Ok(None)
    }

    /// Reads object `num gen`; `None` when the table does not have it.
    pub fn object(
        &self,
        src: &mut Source<'_>,
        num: u64,
        gen_: u64,
    ) -> Result<Option<Object>, Stop> {
        let Some(at) = self.offset(src, num, gen_)? else {
            return Ok(None);
        };
        let head = format!("{num} {gen_} obj");
        // most objects are short: a small read first, the longest only when it is cut
        let mut parsed = None;
        for n in [FIRST_READ, MAX_OBJECT] {
            let text = region(src, at, n)?;
            let full = (text.len() as u64) < n;
            let rest = text.strip_prefix(head.as_bytes()).ok_or(Unfollowed)?;
            let mut p = Parser { b: rest, at: 0 };
            if let Some(value) = p.value(0) {
                p.space();
                let after = rest.get(p.at..).unwrap_or_default();
                // enough bytes to see the `stream` keyword and its end of line
                if after.len() >= 8 || full {
                    parsed = Some((
                        value,
                        p.at,
                        after.get(..8.min(after.len())).unwrap_or_default().to_vec(),
                    ));
                    break;
                }
            }
            if full {
                break;
            }
        }
        let (value, end, after) = parsed.ok_or(Unfollowed)?;
        let after = after.as_slice();
        let stream_at = if let Some(s) = after.strip_prefix(b"stream") {
            let eol = if s.starts_with(b"\r\n") {
                2
            } else if s.starts_with(b"\n") || s.starts_with(b"\r") {
                1
            } else {
                return Err(Stop::Unfollowed);
            };
            let off = head.len() + end + 6 + eol;
            Some(at.checked_add(off as u64).ok_or(Unfollowed)?)
        } else {
            None
        };
        Ok(Some(Object { value, stream_at }))
    }

    /// Follows a reference (one level); any other value is itself.
    pub fn resolve(&self, src: &mut Source<'_>, v: &Obj) -> Result<Option<Obj>, Stop> {
        match v {
            Obj::Ref(n, g) => Ok(self.object(src, *n, *g)?.map(|o| o.value)),
            v => Ok(Some(v.clone())),
        }
    }

    /// The raw data of a stream object (`/Length` direct or by reference), and its dictionary.
    pub fn stream(
        &self,
        src: &mut Source<'_>,
        num: u64,
        gen_: u64,
    ) -> Result<Option<(Obj, Vec<u8>)>, Stop> {
        let Some(Object {
            value,
            stream_at: Some(at),
        }) = self.object(src, num, gen_)?
        else {
            return Ok(None);
        };
        let length = match value.get(b"Length") {
            Some(l) => self.resolve(src, l)?,
            None => None,
        };
        let Some(Obj::Int(length)) = length else {
            return Err(Stop::Unfollowed);
        };
        let length = u64::try_from(length).map_err(|_| Unfollowed)?;
        if at.checked_add(length).is_none_or(|end| end > src.len()) {
            return Err(Stop::Unfollowed);
        }
        src.seek_to(at)?;
        let data = src.vec(length)?;
        Ok(Some((value, data)))
    }
}

/// One classic xref section at `at`: its subsections and its trailer.
fn section(src: &mut Source<'_>, at: u64) -> Result<(Vec<Subsection>, Obj), Stop> {
    let head = region(src, at, 64)?;
    let mut pos = at
        .checked_add(after_keyword(&head, b"xref").ok_or(Unfollowed)? as u64)
        .ok_or(Unfollowed)?;
    let mut subs = Vec::new();
    loop {
        if subs.len() >= MAX_SUBSECTIONS {
            return Err(Stop::Unfollowed);
        }
        let line = region(src, pos, 64)?;
        let skip = line.iter().take_while(|c| c.is_ascii_whitespace()).count();
        let line = line.get(skip..).unwrap_or_default();
        pos = pos.checked_add(skip as u64).ok_or(Unfollowed)?;
        if line.starts_with(b"trailer") {
            pos = pos.checked_add(7).ok_or(Unfollowed)?;
            break;
        }
        let (first, rest) = integer(line).ok_or(Unfollowed)?;
        let (count, rest2) = integer(rest).ok_or(Unfollowed)?;
        // the end of the header line: white space up to the first entry
        let used = line.len() - rest2.len();
        let eol = rest2
            .iter()
            .take_while(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
            .count();
        let first_entry = pos.checked_add((used + eol) as u64).ok_or(Unfollowed)?;
        subs.push(Subsection {
            first,
            count,
            at: first_entry,
        });
        pos = count
            .checked_mul(20)
            .and_then(|n| n.checked_add(first_entry))
            .filter(|e| *e <= src.len())
            .ok_or(Unfollowed)?;
    }
    let mut trailer = None;
    for n in [FIRST_READ, MAX_OBJECT] {
        let text = region(src, pos, n)?;
        trailer = Parser { b: &text, at: 0 }.value(0);
        if trailer.is_some() || (text.len() as u64) < n {
            break;
        }
    }
    let trailer = trailer.ok_or(Unfollowed)?;
    if !matches!(trailer, Obj::Dict(_)) {
        return Err(Stop::Unfollowed);
    }
    Ok((subs, trailer))
}

/// The offset in `b` just after `keyword`, which must come first (after white space) and end
/// there.
fn after_keyword(b: &[u8], keyword: &[u8]) -> Option<usize> {
    let skip = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    let rest = b.get(skip..)?.strip_prefix(keyword)?;
    if rest.first().is_some_and(|c| !c.is_ascii_whitespace()) {
        return None;
    }
    Some(skip + keyword.len())
}

/// A 20-byte xref entry: `oooooooooo ggggg n` and a two-byte end of line.
fn entry(e: &[u8]) -> Option<(u64, u64, u8)> {
    let digits = |r: std::ops::Range<usize>| -> Option<u64> {
        let d = e.get(r)?;
        if !d.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(d).ok()?.parse().ok()
    };
    let offset = digits(0..10)?;
    let gen_ = digits(11..16)?;
    let kind = *e.get(17)?;
    let ok = e.get(10) == Some(&b' ')
        && e.get(16) == Some(&b' ')
        && matches!(kind, b'n' | b'f')
        && matches!(e.get(18..20), Some(b" \r" | b" \n" | b"\r\n"));
    ok.then_some((offset, gen_, kind))
}

/// A non-negative integer at the start of `b` (after white space), and what follows it.
fn integer(b: &[u8]) -> Option<(u64, &[u8])> {
    let b = b.trim_ascii_start();
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || n > 15 {
        return None;
    }
    let v = std::str::from_utf8(b.get(..n)?).ok()?.parse().ok()?;
    Some((v, b.get(n..)?))
}

fn is_delimiter(c: u8) -> bool {
    matches!(
        c,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

fn is_regular(c: u8) -> bool {
    !c.is_ascii_whitespace() && c != 0 && !is_delimiter(c)
}

/// A parser of PDF object syntax over one region.
struct Parser<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.at).copied()
    }

    fn bump(&mut self) {
        self.at = self.at.saturating_add(1);
    }

    /// Skips white space and comments.
    fn space(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_ascii_whitespace() || c == 0 {
                self.bump();
            } else if c == b'%' {
                while self.peek().is_some_and(|c| c != b'\r' && c != b'\n') {
                    self.bump();
                }
            } else {
                break;
            }
        }
    }

    fn token(&mut self) -> &'a [u8] {
        let start = self.at;
        while self.peek().is_some_and(is_regular) {
            self.bump();
        }
        self.b.get(start..self.at).unwrap_or_default()
    }

    fn value(&mut self, depth: usize) -> Option<Obj> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.space();
        match self.peek()? {
            b'/' => {
                self.bump();
                name(self.token())
            }
            b'<' if self.b.get(self.at.saturating_add(1)) == Some(&b'<') => {
                self.at = self.at.saturating_add(2);
                let mut entries = Vec::new();
                loop {
                    self.space();
                    match self.peek()? {
                        b'>' => {
                            if self.b.get(self.at.saturating_add(1)) != Some(&b'>') {
                                return None;
                            }
                            self.at = self.at.saturating_add(2);
                            return Some(Obj::Dict(entries));
                        }
                        b'/' => {
                            self.bump();
                            let Obj::Name(k) = name(self.token())? else {
                                return None;
                            };
                            let v = self.value(depth.saturating_add(1))?;
                            entries.push((k, v));
                        }
                        _ => return None,
                    }
                }
            }
            b'<' => {
                // a hex string
                let end = memchr::memchr(b'>', self.b.get(self.at..)?)?;
                self.at = self.at.saturating_add(end).saturating_add(1);
                Some(Obj::Other)
            }
            b'(' => {
                self.literal_string()?;
                Some(Obj::Other)
            }
            b'[' => {
                self.bump();
                let mut items = Vec::new();
                loop {
                    self.space();
                    if self.peek()? == b']' {
                        self.bump();
                        return Some(Obj::Array(items));
                    }
                    items.push(self.value(depth.saturating_add(1))?);
                }
            }
            c if c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.') => self.number(),
            _ => match self.token() {
                b"true" | b"false" | b"null" => Some(Obj::Other),
                _ => None,
            },
        }
    }

    /// A number, or the reference `N G R` it starts.
    fn number(&mut self) -> Option<Obj> {
        let t = self.token();
        let Some(n) = std::str::from_utf8(t)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
        else {
            // a real (or a malformed number, read as one)
            return t
                .iter()
                .all(|c| c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.'))
                .then_some(Obj::Other);
        };
        if t.first().is_some_and(u8::is_ascii_digit) {
            let save = self.at;
            self.space();
            let g = self.token();
            if !g.is_empty() && g.iter().all(u8::is_ascii_digit) {
                self.space();
                if self.token() == b"R"
                    && let (Ok(num), Some(gen_)) = (
                        u64::try_from(n),
                        std::str::from_utf8(g).ok().and_then(|s| s.parse().ok()),
                    )
                {
                    return Some(Obj::Ref(num, gen_));
                }
            }
            self.at = save;
        }
        Some(Obj::Int(n))
    }

    fn literal_string(&mut self) -> Option<()> {
        self.bump();
        let mut depth = 1usize;
        while depth > 0 {
            match self.peek()? {
                b'\\' => self.bump(),
                b'(' => depth = depth.saturating_add(1),
                b')' => depth = depth.saturating_sub(1),
                _ => {}
            }
            self.bump();
        }
        Some(())
    }
}

/// A name token with its `#xx` escapes decoded.
fn name(t: &[u8]) -> Option<Obj> {
    let mut out = Vec::with_capacity(t.len());
    let mut i = 0usize;
    while let Some(&c) = t.get(i) {
        if c == b'#' {
            let h = bytes::slice(t, i.saturating_add(1), 2)?;
            let v = u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()?;
            out.push(v);
            i = i.saturating_add(3);
        } else {
            out.push(c);
            i = i.saturating_add(1);
        }
    }
    Some(Obj::Name(out))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "test code")]
mod tests {
    use super::*;

    fn parse(s: &str) -> Option<Obj> {
        Parser {
            b: s.as_bytes(),
            at: 0,
        }
        .value(0)
    }

    #[test]
    fn objects_parse() {
        let d =
            parse("<</AF[4 0 R 5 0 R]/Metadata 5 0 R/N 3/S(a(b)\\)c)/H<ab>/T/#20x/R 1.5/B true>>")
                .unwrap();
        assert_eq!(
            d.get(b"AF"),
            Some(&Obj::Array(vec![Obj::Ref(4, 0), Obj::Ref(5, 0)]))
        );
        assert_eq!(d.get(b"Metadata"), Some(&Obj::Ref(5, 0)));
        assert_eq!(d.get(b"N"), Some(&Obj::Int(3)));
        assert_eq!(d.get(b"S"), Some(&Obj::Other));
        assert_eq!(d.get(b"T x"), None);
        assert_eq!(d.get(b"T"), Some(&Obj::Name(b" x".to_vec())));
        assert_eq!(
            parse("[1 2]"),
            Some(Obj::Array(vec![Obj::Int(1), Obj::Int(2)]))
        );
        assert_eq!(parse("<</A 1"), None);
        assert_eq!(parse(&"[".repeat(100)), None);
    }

    #[test]
    fn entries_are_the_fixed_form() {
        assert_eq!(entry(b"0000000016 00000 n\r\n"), Some((16, 0, b'n')));
        assert_eq!(entry(b"0000000000 65535 f \n"), Some((0, 65535, b'f')));
        assert_eq!(entry(b"000000016 00000 n\r\n"), None);
        assert_eq!(entry(b"0000000016 00000 x\r\n"), None);
    }
}
