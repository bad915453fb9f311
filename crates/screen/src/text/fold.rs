//! Folding: the one normal form that watchlist names and screened text are both brought to
//! before they are compared, with a map from every folded byte back to the original text.
//!
//! Per character, in this order:
//! 1. apostrophe variants (`’ ‘ ʼ ′ ` ´ ＇ …`) become `'`, dash variants (`‐ ‑ – — − …`) `-`,
//!    and any run of white space one space;
//! 2. compatibility decomposition (NFKD: ligatures, full-width and styled letters, `ſ`) with
//!    the combining marks dropped, so diacritics do not count (`Amélie` = `Amelie`);
//! 3. full case folding: lower case plus the foldings that lower case does not do (`ß`→`ss`,
//!    final `ς`→`σ`, …);
//! 4. look-alike characters: the common Cyrillic and Greek letters that look like Latin ones
//!    ([`CONFUSABLES`]) become the Latin letter, so `Ваtmаn` typed with Cyrillic `В`, `а` is
//!    `batman`. A character changed here is recorded, and a hit that relies on one says so.
//!
//! ASCII takes a fast path (a table lookup per byte); the rest goes through
//! `unicode-normalization`. The map back is kept as breakpoints (a folded offset where the
//! distance to the original changes), so it costs memory only where the text is not plain
//! lower-case ASCII with single spaces.

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// Look-alike characters: a Cyrillic or Greek letter (lower case: folding runs first) and the
/// Latin letter it is taken for. From the common entries of Unicode's confusables data
/// (UTS #39), limited to letters a reader cannot tell apart in ordinary fonts.
pub const CONFUSABLES: &[(char, char)] = &[
    ('ı', 'i'), // U+0131
    ('ɑ', 'a'), // U+0251
    ('ɡ', 'g'), // U+0261
    ('ʏ', 'y'), // U+028F
    ('α', 'a'), // U+03B1
    ('β', 'b'), // U+03B2
    ('γ', 'y'), // U+03B3
    ('ε', 'e'), // U+03B5
    ('η', 'n'), // U+03B7
    ('ι', 'i'), // U+03B9
    ('κ', 'k'), // U+03BA
    ('μ', 'u'), // U+03BC
    ('ν', 'v'), // U+03BD
    ('ο', 'o'), // U+03BF
    ('ρ', 'p'), // U+03C1
    ('τ', 't'), // U+03C4
    ('υ', 'u'), // U+03C5
    ('χ', 'x'), // U+03C7
    ('а', 'a'), // U+0430
    ('в', 'b'), // U+0432
    ('е', 'e'), // U+0435
    ('к', 'k'), // U+043A
    ('м', 'm'), // U+043C
    ('н', 'h'), // U+043D
    ('о', 'o'), // U+043E
    ('р', 'p'), // U+0440
    ('с', 'c'), // U+0441
    ('т', 't'), // U+0442
    ('у', 'y'), // U+0443
    ('х', 'x'), // U+0445
    ('ё', 'e'), // U+0451
    ('ѕ', 's'), // U+0455
    ('і', 'i'), // U+0456
    ('ї', 'i'), // U+0457
    ('ј', 'j'), // U+0458
    ('ү', 'y'), // U+04AF
    ('һ', 'h'), // U+04BB
    ('ӏ', 'l'), // U+04CF
    ('ԁ', 'd'), // U+0501
    ('ԛ', 'q'), // U+051B
    ('ԝ', 'w'), // U+051D
];

/// The look-alike a folded character stands for, if any.
fn confusable(c: char) -> Option<char> {
    CONFUSABLES
        .binary_search_by_key(&c, |&(from, _)| from)
        .ok()
        .and_then(|i| CONFUSABLES.get(i))
        .map(|&(_, to)| to)
}

fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\'' | '\u{2019}'
            | '\u{2018}'
            | '\u{201B}'
            | '\u{02BC}'
            | '\u{02BB}'
            | '\u{2032}'
            | '`'
            | '\u{00B4}'
            | '\u{FF07}'
            | '\u{02B9}'
    )
}

fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'
            | '\u{2011}'
            | '\u{2012}'
            | '\u{2013}'
            | '\u{2014}'
            | '\u{2015}'
            | '\u{2212}'
            | '\u{FE63}'
            | '\u{FF0D}'
    )
}

/// ASCII lower case with every white-space byte as a space, and the backtick as an apostrophe.
#[expect(
    clippy::indexing_slicing,
    reason = "a constant table: i < 128 is the loop's bound"
)]
static ASCII: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut i = 0;
    while i < 128 {
        let b = i as u8;
        t[i] = match b {
            b'A'..=b'Z' => b + 32,
            b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => b' ',
            b'`' => b'\'',
            _ => b,
        };
        i += 1;
    }
    t
};

/// Folded text and the way back to the original.
#[derive(Debug, Default, Clone)]
pub struct Folded {
    /// The folded text.
    pub text: String,
    /// Breakpoints `(folded offset, original offset)`, ascending: from a breakpoint up to the
    /// next, folded byte `f` comes from original byte `o + (f - fo)`, or from the one source
    /// character at `o` when the source was not ASCII.
    points: Vec<(u32, u32, bool)>,
    /// Folded byte ranges whose character was a look-alike, ascending.
    confused: Vec<u32>,
    /// The original text's length.
    original_len: usize,
}

impl Folded {
    /// Folds `text` (see the module docs).
    pub fn new(text: &str) -> Folded {
        let mut f = Folded::default();
        f.fold(text);
        f
    }

    /// Folds `text` into this buffer, reusing its memory.
    pub fn fold(&mut self, text: &str) {
        self.text.clear();
        self.points.clear();
        self.confused.clear();
        self.original_len = text.len();
        self.text.reserve(text.len());
        // SAFETY-free byte building: everything pushed is valid UTF-8 (ASCII bytes from the
        // table, or whole `char`s).
        let mut out = std::mem::take(&mut self.text).into_bytes();
        let bytes = text.as_bytes();
        let mut last_space = true; // drop leading white space
        let mut linear = false; // the current breakpoint maps byte for byte
        let mut i = 0usize;
        while i < bytes.len() {
            let b = bytes.get(i).copied().unwrap_or(0);
            if b < 128 {
                let m = ASCII.get(usize::from(b)).copied().unwrap_or(b);
                if m == b' ' {
                    if last_space {
                        i += 1;
                        linear = false;
                        continue;
                    }
                    last_space = true;
                } else {
                    last_space = false;
                }
                if !linear {
                    self.points.push((len32(out.len()), len32(i), true));
                    linear = true;
                }
                out.push(m);
                i += 1;
                continue;
            }
            // a non-ASCII character
            let rest = text.get(i..).unwrap_or_default();
            let Some(c) = rest.chars().next() else { break };
            let width = c.len_utf8();
            linear = false;
            let start = out.len();
            self.points.push((len32(start), len32(i), false));
            if c.is_whitespace() {
                if !last_space {
                    out.push(b' ');
                    last_space = true;
                }
            } else if is_apostrophe(c) {
                out.push(b'\'');
                last_space = false;
            } else if is_dash(c) {
                out.push(b'-');
                last_space = false;
            } else {
                let mut pushed = false;
                let mut confused = false;
                decompose_compatible(c, |d| {
                    if is_combining_mark(d) {
                        return;
                    }
                    for l in fold_case(d) {
                        let l = match confusable(l) {
                            Some(latin) => {
                                confused = true;
                                latin
                            }
                            None => l,
                        };
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(l.encode_utf8(&mut buf).as_bytes());
                        pushed = true;
                    }
                });
                if confused {
                    self.confused.push(len32(start));
                }
                if pushed {
                    last_space = out.last() == Some(&b' ');
                }
            }
            i += width;
        }
        // A trailing space is harmless: names never end in one.
        self.text = String::from_utf8(out).unwrap_or_default();
    }

    /// The original byte offset that folded byte `f` comes from (the start of its source
    /// character). `f == text.len()` maps to the original length.
    pub fn original(&self, f: usize) -> usize {
        if f >= self.text.len() {
            return self.original_len;
        }
        let f32_ = len32(f);
        let idx = self.points.partition_point(|&(fo, _, _)| fo <= f32_);
        match idx.checked_sub(1).and_then(|i| self.points.get(i)) {
            Some(&(fo, o, true)) => o as usize + (f - fo as usize),
            Some(&(_, o, false)) => o as usize,
            None => 0,
        }
    }

    /// The folded offset where the character at original byte `original` begins, if that
    /// character is kept (not white space folded away, nor inside another character).
    pub fn folded_offset(&self, original: usize) -> Option<usize> {
        let o32 = len32(original);
        let idx = self.points.partition_point(|&(_, o, _)| o <= o32);
        let &(fo, o, linear) = self.points.get(idx.checked_sub(1)?)?;
        let f = if linear {
            fo as usize + (original - o as usize)
        } else if o == o32 {
            fo as usize
        } else {
            return None;
        };
        let next = self
            .points
            .get(idx)
            .map_or(self.text.len(), |&(nf, _, _)| nf as usize);
        (f < next).then_some(f)
    }

    /// The original byte range of the folded range `start..end`: from the start of the first
    /// source character to the end of the last.
    pub fn original_range(&self, start: usize, end: usize, source: &str) -> (usize, usize) {
        let s = self.original(start);
        let last = self.original(end.saturating_sub(1).max(start));
        let e = source
            .get(last..)
            .and_then(|r| r.chars().next())
            .map_or(last, |c| last + c.len_utf8())
            .max(s);
        (s, e.min(source.len()))
    }

    /// Whether a character in the folded range `start..end` was a look-alike.
    pub fn has_confusable(&self, start: usize, end: usize) -> bool {
        let (s, e) = (len32(start), len32(end));
        let i = self.confused.partition_point(|&c| c < s);
        self.confused.get(i).is_some_and(|&c| c < e)
    }
}

/// Offsets are kept in 32 bits: the screen works on texts under 4 GiB (callers split longer
/// input), and clamps rather than wraps beyond.
fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Full case folding of one character (Unicode `CaseFolding.txt`, status C and F): lower case,
/// plus the foldings lower case leaves out.
fn fold_case(c: char) -> impl Iterator<Item = char> {
    let special: Option<&'static [char]> = match c {
        'ß' | 'ẞ' => Some(&['s', 's']),
        'ς' => Some(&['σ']),
        'ϐ' => Some(&['β']),
        'ϑ' => Some(&['θ']),
        'ϕ' => Some(&['φ']),
        'ϖ' => Some(&['π']),
        'ϰ' => Some(&['κ']),
        'ϱ' => Some(&['ρ']),
        'ϵ' => Some(&['ε']),
        'ſ' => Some(&['s']),
        'ŉ' => Some(&['\'', 'n']),
        _ => None,
    };
    let (a, b) = match special {
        Some(s) => (Some(s.iter().copied()), None),
        None => (None, Some(c.to_lowercase())),
    };
    a.into_iter().flatten().chain(b.into_iter().flatten())
}

/// Folds a watchlist name (no map needed), trimmed.
pub fn fold_name(name: &str) -> String {
    let f = Folded::new(name);
    f.text.trim().to_owned()
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, reason = "test code")]
mod tests {
    use super::*;

    #[test]
    fn confusables_are_sorted() {
        let mut sorted = CONFUSABLES.to_vec();
        sorted.sort_by_key(|&(f, _)| f);
        assert_eq!(sorted, CONFUSABLES.to_vec(), "keep CONFUSABLES sorted");
    }

    #[test]
    fn folds_and_maps_back() {
        let src = "Hi  Amélie’s\nSTRASSE Straße";
        let f = Folded::new(src);
        assert_eq!(f.text, "hi amelie's strasse strasse");
        let at = f.text.find("amelie").unwrap_or(0);
        let (s, e) = f.original_range(at, at + 6, src);
        assert_eq!(&src[s..e], "Amélie");
        let at = f.text.rfind("strasse").unwrap_or(0);
        let (s, e) = f.original_range(at, at + 7, src);
        assert_eq!(&src[s..e], "Straße");
    }

    #[test]
    fn look_alikes_are_marked() {
        let src = "Ваtmаn";
        let f = Folded::new(src);
        assert_eq!(f.text, "batman");
        assert!(f.has_confusable(0, 6));
        assert!(!Folded::new("Batman").has_confusable(0, 6));
    }
}
