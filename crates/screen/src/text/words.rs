//! The word index: how the [`Screener`](super::Screener) finds names without folding the whole
//! text first.
//!
//! A folded name is a run of *tokens*: words (letters, digits, `_`) and single punctuation
//! characters, some with a space between them. The text is cut into the same tokens as it is
//! read. A run of plain ASCII is not folded at all: its words are lower-cased as they are hashed
//! (`| 0x20` on an ASCII word byte is its lower case), so no folded copy is written. Only a run
//! that holds a non-ASCII character (`Amélie`, `don’t`, `Ваtmаn`) is folded, on its own, and its
//! folded tokens mapped back to the original bytes.
//!
//! Each token's hash is tested in a bit set of the names' first tokens; the few that pass are
//! compared token by token with the names that start so, longest first (a name's last word may
//! carry a plural `s` or `es`). A candidate is then judged exactly, as before: the few dozen
//! characters around it are folded and the folded text must equal the name, stand on word
//! boundaries and pass the common-word rule. Hashes only choose what to check; they never
//! decide a hit.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::fold::Folded;

const K: u64 = 0x9E37_79B9_7F4A_7C15;
const K2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const ASCII_20: u64 = 0x2020_2020_2020_2020;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// Bits of the first-token filter: 2^21 bits, 256 KiB, about 5% full with 100,000 names.
const FILTER_BITS: u32 = 21;

/// Lower-cases the ASCII bytes of eight: `| 0x20` on each byte whose high bit is clear (for an
/// ASCII letter its lower case, for a digit itself; `_` becomes DEL, which is never in a word,
/// so nothing collides). Bytes of non-ASCII characters are kept as they are.
#[inline]
fn lower8(x: u64) -> u64 {
    x | (ASCII_20 & !((x & HIGH_BITS) >> 2))
}

/// The hash of a token's bytes, the same for a word as written in ASCII and as folded.
#[inline]
pub(crate) fn hash(bytes: &[u8]) -> u64 {
    let mut h = (bytes.len() as u64).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        h = (h ^ lower8(u64::from_le_bytes(b))).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        // built in a register: a copy into a buffer would be a `memcpy` call, and reading the
        // buffer back as one word would wait on its byte stores
        let mut v = 0u64;
        for (i, &b) in rest.iter().enumerate() {
            v |= u64::from(b) << (8 * i);
        }
        h = (h ^ lower8(v)).wrapping_mul(K);
    }
    h = (h ^ (h >> 29)).wrapping_mul(K2);
    h ^ (h >> 32)
}

/// What an ASCII byte is to the tokenizer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// A letter, digit or `_`.
    Word,
    /// White space that folding turns into a space.
    Space,
    /// Anything else: a token of its own.
    Punct,
    /// A byte of a non-ASCII character, or the backtick (folded to an apostrophe): the run
    /// around it is folded.
    Fold,
}

#[expect(
    clippy::indexing_slicing,
    reason = "a constant table: i < 256 is the loop's bound"
)]
static CLASS: [Class; 256] = {
    let mut t = [Class::Punct; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' => Class::Word,
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => Class::Space,
            b'`' | 0x80..=0xff => Class::Fold,
            _ => Class::Punct,
        };
        i += 1;
    }
    t
};

#[inline]
fn class(b: u8) -> Class {
    CLASS.get(usize::from(b)).copied().unwrap_or(Class::Punct)
}

/// One token of the text.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tok {
    /// Original byte range.
    pub start: usize,
    pub end: usize,
    /// The hash of its folded bytes.
    pub hash: u64,
    /// The hashes without a trailing `s`, and without a trailing `es`, when it ends so.
    pub less_s: Option<u64>,
    pub less_es: Option<u64>,
}

impl Tok {
    fn new(folded: &[u8], start: usize, end: usize) -> Tok {
        let (less_s, less_es) = match folded {
            [head @ .., b'e' | b'E', b's' | b'S'] if !head.is_empty() => (
                Some(hash(folded.get(..folded.len() - 1).unwrap_or_default())),
                Some(hash(head)),
            ),
            [head @ .., b's' | b'S'] if !head.is_empty() => (Some(hash(head)), None),
            _ => (None, None),
        };
        Tok {
            start,
            end,
            hash: hash(folded),
            less_s,
            less_es,
        }
    }

    fn punct(folded: &[u8], start: usize, end: usize) -> Tok {
        Tok {
            start,
            end,
            hash: hash(folded),
            less_s: None,
            less_es: None,
        }
    }
}

/// Cuts folded text into tokens (for names, and for the folded runs of the text), calling
/// `f(folded range)` for each with whether it is a word.
fn folded_tokens(text: &str, mut f: impl FnMut(usize, usize, bool)) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b < 0x80 {
            match class(b) {
                Class::Space => i += 1,
                Class::Word => {
                    let e = word_end(text, i);
                    f(i, e, true);
                    i = e;
                }
                _ => {
                    f(i, i + 1, false);
                    i += 1;
                }
            }
        } else {
            let c = text.get(i..).and_then(|t| t.chars().next()).unwrap_or(' ');
            if super::is_word(c) {
                let e = word_end(text, i);
                f(i, e, true);
                i = e;
            } else {
                f(i, i + c.len_utf8(), false);
                i += c.len_utf8();
            }
        }
    }
}

/// The end of the folded word that starts at `i`.
fn word_end(text: &str, mut i: usize) -> usize {
    let bytes = text.as_bytes();
    while let Some(&b) = bytes.get(i) {
        if b < 0x80 {
            if class(b) != Class::Word {
                break;
            }
            i += 1;
        } else {
            match text.get(i..).and_then(|t| t.chars().next()) {
                Some(c) if super::is_word(c) => i += c.len_utf8(),
                _ => break,
            }
        }
    }
    i
}

/// The end of the run of ASCII word bytes from `i` on.
#[inline]
fn ascii_word_end(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(|&x| class(x) == Class::Word) {
        i += 1;
    }
    i
}

/// The tokens of a text, read left to right.
#[derive(Clone, Debug)]
pub(crate) struct Tokens<'a> {
    text: &'a str,
    at: usize,
    /// Tokens of a folded run not yet given out, last first.
    pending: Vec<Tok>,
}

impl<'a> Tokens<'a> {
    pub fn new(text: &'a str) -> Tokens<'a> {
        Tokens {
            text,
            at: 0,
            pending: Vec::new(),
        }
    }

    /// Reads the word that starts at `self.at`: its end when it is plain ASCII (and moves past
    /// it), or `None` when a non-ASCII byte follows, after folding the run into `pending`.
    #[inline]
    fn ascii_word(&mut self, scratch: &mut Folded) -> Option<(usize, usize)> {
        let bytes = self.text.as_bytes();
        let s = self.at;
        let e = ascii_word_end(bytes, s + 1);
        if bytes.get(e).is_some_and(|&x| class(x) == Class::Fold) {
            self.fold_run(s, scratch);
            return None;
        }
        self.at = e;
        Some((s, e))
    }

    /// The next token; `scratch` is a buffer for folding non-ASCII runs.
    #[inline]
    pub fn next(&mut self, scratch: &mut Folded) -> Option<Tok> {
        if let Some(t) = self.pending.pop() {
            return Some(t);
        }
        let bytes = self.text.as_bytes();
        loop {
            let b = *bytes.get(self.at)?;
            match class(b) {
                Class::Space => self.at += 1,
                Class::Word => match self.ascii_word(scratch) {
                    Some((s, e)) => {
                        return Some(Tok::new(bytes.get(s..e).unwrap_or_default(), s, e));
                    }
                    None => {
                        if let Some(t) = self.pending.pop() {
                            return Some(t);
                        }
                    }
                },
                Class::Punct => {
                    let s = self.at;
                    self.at += 1;
                    return Some(Tok::punct(
                        bytes.get(s..s + 1).unwrap_or_default(),
                        s,
                        s + 1,
                    ));
                }
                Class::Fold => {
                    // a run may fold to nothing (combining marks alone): read on
                    self.fold_run(self.at, scratch);
                    if let Some(t) = self.pending.pop() {
                        return Some(t);
                    }
                }
            }
        }
    }

    /// The next token that a form may start at ([`WordIndex::may_start_at`]); the tokens
    /// before it are read past without being built. The same as calling [`Tokens::next`] until
    /// one passes.
    #[inline]
    pub fn next_start(&mut self, index: &WordIndex, scratch: &mut Folded) -> Option<Tok> {
        let bytes = self.text.as_bytes();
        loop {
            if let Some(t) = self.pending.pop() {
                if index.may_start_at(&t) {
                    return Some(t);
                }
                continue;
            }
            let b = *bytes.get(self.at)?;
            match class(b) {
                Class::Space => self.at += 1,
                Class::Word => {
                    let Some((s, e)) = self.ascii_word(scratch) else {
                        continue;
                    };
                    let word = bytes.get(s..e).unwrap_or_default();
                    if matches!(word.last(), Some(b's' | b'S')) {
                        // its hashes without the ending are tested too
                        let t = Tok::new(word, s, e);
                        if index.may_start_at(&t) {
                            return Some(t);
                        }
                    } else if index.may_start(hash(word)) {
                        return Some(Tok::new(word, s, e));
                    }
                }
                Class::Punct => {
                    let s = self.at;
                    self.at += 1;
                    if index.punct_may_start(b) {
                        return Some(Tok::punct(
                            bytes.get(s..s + 1).unwrap_or_default(),
                            s,
                            s + 1,
                        ));
                    }
                }
                Class::Fold => self.fold_run(self.at, scratch),
            }
        }
    }

    /// Folds the run of word and non-ASCII bytes from `s` on into `pending`, and moves past it.
    #[cold]
    fn fold_run(&mut self, s: usize, scratch: &mut Folded) {
        let bytes = self.text.as_bytes();
        let mut e = s;
        while let Some(&x) = bytes.get(e) {
            if !matches!(class(x), Class::Word | Class::Fold) {
                break;
            }
            e += 1;
        }
        // `e` stops at an ASCII byte, so it is a character boundary.
        let run = self.text.get(s..e).unwrap_or_default();
        self.at = e.max(s + 1);
        scratch.fold(run);
        let folded = scratch.text.as_bytes();
        let mut out = std::mem::take(&mut self.pending);
        folded_tokens(&scratch.text, |fs, fe, word| {
            let (os, oe) = scratch.original_range(fs, fe, run);
            let piece = folded.get(fs..fe).unwrap_or_default();
            out.push(if word {
                Tok::new(piece, s + os, s + oe)
            } else {
                Tok::punct(piece, s + os, s + oe)
            });
        });
        out.reverse();
        self.pending = out;
    }
}

/// A `Hasher` for keys that are already good hashes.
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type ByHash<V> = HashMap<u64, V, BuildHasherDefault<Identity>>;

/// Sets the filter bit of a hash (its top bits).
fn set(filter: &mut [u64], h: u64) {
    let bit = h >> (64 - FILTER_BITS);
    if let Some(w) = filter.get_mut((bit >> 6) as usize) {
        *w |= 1 << (bit & 63);
    }
}

/// Whether the filter bit of a hash is set.
#[inline]
fn test(filter: &[u64], h: u64) -> bool {
    let bit = h >> (64 - FILTER_BITS);
    filter
        .get((bit >> 6) as usize)
        .is_some_and(|w| w & (1 << (bit & 63)) != 0)
}

/// The hash of a form's first two tokens together.
#[inline]
fn pair(first: u64, second: u64) -> u64 {
    let h = (first ^ second.rotate_left(23)).wrapping_mul(K2);
    h ^ (h >> 31)
}

/// One folded form: its tokens' place in [`WordIndex::tokens`].
#[derive(Debug, Clone, Copy)]
struct Form {
    at: u32,
    count: u32,
    /// Its folded length in bytes (longer forms are tried first).
    len: u32,
}

/// The folded forms of a watchlist, indexed by their first token.
#[derive(Debug, Default)]
pub(crate) struct WordIndex {
    filter: Box<[u64]>,
    /// The first tokens of one-token forms (a filter as `filter` is).
    single: Box<[u64]>,
    /// The first two tokens of longer forms, hashed together ([`pair`]).
    pairs: Box<[u64]>,
    /// The ASCII punctuation bytes that are a form's first token.
    punct: [u64; 2],
    /// First token's hash: where in `ids` the forms that start with it are.
    starts: ByHash<(u32, u32)>,
    /// Form ids, grouped by first token, longest first within a group.
    ids: Box<[u32]>,
    /// Every form's token hashes, one after another.
    tokens: Box<[u64]>,
    forms: Box<[Form]>,
}

impl WordIndex {
    /// Indexes the distinct folded forms (their index is their id).
    pub fn new(forms: &[String]) -> WordIndex {
        let mut filter = vec![0u64; 1 << (FILTER_BITS - 6)].into_boxed_slice();
        let mut single = filter.clone();
        let mut pairs = filter.clone();
        let mut punct = [0u64; 2];
        let mut tokens: Vec<u64> = Vec::with_capacity(forms.len() * 2);
        let mut out = Vec::with_capacity(forms.len());
        // (first token, -length, id) of every form, to group and order them
        let mut by_first: Vec<(u64, std::cmp::Reverse<u32>, u32)> = Vec::with_capacity(forms.len());
        for (id, form) in forms.iter().enumerate() {
            let bytes = form.as_bytes();
            let at = tokens.len();
            folded_tokens(form, |s, e, _| {
                tokens.push(hash(bytes.get(s..e).unwrap_or_default()));
            });
            let len = u32::try_from(form.len()).unwrap_or(u32::MAX);
            let mine = tokens.get(at..).unwrap_or_default();
            if let Some(&first) = mine.first() {
                set(&mut filter, first);
                match mine.get(1) {
                    None => set(&mut single, first),
                    Some(&second) => set(&mut pairs, pair(first, second)),
                }
                if let [b] = bytes.get(..1).unwrap_or_default()
                    && b.is_ascii()
                    && class(*b) == Class::Punct
                    && let Some(w) = punct.get_mut(usize::from(*b >> 6))
                {
                    *w |= 1 << (b & 63);
                }
                by_first.push((
                    first,
                    std::cmp::Reverse(len),
                    u32::try_from(id).unwrap_or(u32::MAX),
                ));
            }
            out.push(Form {
                at: u32::try_from(at).unwrap_or(u32::MAX),
                count: u32::try_from(tokens.len() - at).unwrap_or(u32::MAX),
                len,
            });
        }
        by_first.sort_unstable();
        let mut starts: ByHash<(u32, u32)> = ByHash::default();
        starts.reserve(by_first.len());
        let mut i = 0;
        while let Some(&(h, _, _)) = by_first.get(i) {
            let n = by_first
                .get(i..)
                .map_or(1, |r| r.iter().take_while(|x| x.0 == h).count());
            starts.insert(
                h,
                (
                    u32::try_from(i).unwrap_or(u32::MAX),
                    u32::try_from(n).unwrap_or(u32::MAX),
                ),
            );
            i += n.max(1);
        }
        WordIndex {
            filter,
            single,
            pairs,
            punct,
            starts,
            ids: by_first.into_iter().map(|(_, _, id)| id).collect(),
            tokens: tokens.into_boxed_slice(),
            forms: out.into_boxed_slice(),
        }
    }

    /// The ids of the forms whose first token has this hash, longest first.
    #[inline]
    fn starting(&self, h: u64) -> &[u32] {
        self.starts
            .get(&h)
            .and_then(|&(at, n)| self.ids.get(at as usize..(at + n) as usize))
            .unwrap_or_default()
    }

    /// A form's token hashes.
    #[inline]
    fn tokens_of(&self, id: u32) -> &[u64] {
        self.forms
            .get(id as usize)
            .and_then(|f| self.tokens.get(f.at as usize..(f.at + f.count) as usize))
            .unwrap_or_default()
    }

    #[inline]
    fn may_start(&self, h: u64) -> bool {
        test(&self.filter, h)
    }

    /// Whether a form may start with this ASCII punctuation byte.
    #[inline]
    fn punct_may_start(&self, b: u8) -> bool {
        self.punct
            .get(usize::from(b >> 6))
            .is_some_and(|w| w & (1 << (b & 63)) != 0)
    }

    /// Whether any form could start at this token (the filter: no false negatives).
    #[inline]
    pub fn may_start_at(&self, t: &Tok) -> bool {
        self.may_start(t.hash)
            || t.less_s.is_some_and(|h| self.may_start(h))
            || t.less_es.is_some_and(|h| self.may_start(h))
    }

    /// The forms whose tokens match the text's tokens from `first` on (`rest` gives the tokens
    /// after it), longest first, into `out`.
    pub fn candidates(
        &self,
        first: &Tok,
        rest: &mut Tokens<'_>,
        scratch: &mut Folded,
        ahead: &mut Vec<Tok>,
        out: &mut Vec<u32>,
    ) {
        out.clear();
        ahead.clear();
        // Most tokens that pass the first filter start only longer forms (`the`, `captain`):
        // the next token must make a pair that some form starts with.
        let single = |h: Option<u64>| h.is_some_and(|h| test(&self.single, h));
        if !single(Some(first.hash)) && !single(first.less_s) && !single(first.less_es) {
            let Some(next) = rest.next(scratch) else {
                return;
            };
            let paired = |h: Option<u64>| h.is_some_and(|h| test(&self.pairs, pair(first.hash, h)));
            if !paired(Some(next.hash)) && !paired(next.less_s) && !paired(next.less_es) {
                return;
            }
            ahead.push(next);
        }
        let one_token = |h: Option<u64>, out: &mut Vec<u32>| {
            if let Some(h) = h {
                out.extend(
                    self.starting(h)
                        .iter()
                        .filter(|&&id| self.tokens_of(id).len() == 1),
                );
            }
        };
        for &id in self.starting(first.hash) {
            let Some((_, later)) = self.tokens_of(id).split_first() else {
                continue;
            };
            if later.is_empty() {
                out.push(id);
                continue;
            }
            while ahead.len() < later.len() {
                match rest.next(scratch) {
                    Some(t) => ahead.push(t),
                    None => break,
                }
            }
            let matches = later.len() <= ahead.len()
                && later
                    .iter()
                    .zip(ahead.iter())
                    .enumerate()
                    .all(|(i, (&h, t))| {
                        t.hash == h
                            || (i + 1 == later.len()
                                && (t.less_s == Some(h) || t.less_es == Some(h)))
                    });
            if matches {
                out.push(id);
            }
        }
        // a one-word name with a plural ending
        one_token(first.less_s, out);
        one_token(first.less_es, out);
        if first.less_s.is_some() {
            out.sort_by_key(|&id| {
                std::cmp::Reverse(self.forms.get(id as usize).map_or(0, |f| f.len))
            });
            out.dedup();
        }
    }

    /// The heap memory held, in bytes (roughly).
    pub fn memory_usage(&self) -> usize {
        (self.filter.len() + self.single.len() + self.pairs.len() + self.tokens.len()) * 8
            + self.starts.capacity() * (8 + 8 + 8)
            + self.ids.len() * 4
            + self.forms.len() * size_of::<Form>()
    }
}

/// Characters on each side of a candidate enough for its word boundaries and an ending.
pub(crate) const NEAR: usize = 8;
/// Characters on each side of a candidate enough for a cue too (40 folded bytes).
pub(crate) const WIDE: usize = 64;

/// The original range `[a, b)` around `start..end` that is folded to judge a candidate: `need`
/// characters other than white space on each side ([`NEAR`] or [`WIDE`]), cut at character
/// boundaries.
pub(crate) fn context(text: &str, start: usize, end: usize, need: usize) -> (usize, usize) {
    const MOST: usize = 4096;
    let bytes = text.as_bytes();
    let mut a = start;
    let mut seen = 0;
    while a > 0 && seen < need && start - a < MOST {
        a -= 1;
        let b = bytes.get(a).copied().unwrap_or(0);
        if b & 0xC0 != 0x80 && class(b) != Class::Space {
            seen += 1;
        }
    }
    while a > 0 && !text.is_char_boundary(a) {
        a -= 1;
    }
    let mut b = end;
    let mut seen = 0;
    while b < bytes.len() && seen < need && b - end < MOST {
        let x = bytes.get(b).copied().unwrap_or(0);
        if x & 0xC0 != 0x80 && class(x) != Class::Space {
            seen += 1;
        }
        b += 1;
    }
    while b < bytes.len() && !text.is_char_boundary(b) {
        b += 1;
    }
    (a, b)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, reason = "test code")]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<(String, u64)> {
        let mut scratch = Folded::default();
        let mut t = Tokens::new(text);
        let mut out = Vec::new();
        while let Some(tok) = t.next(&mut scratch) {
            out.push((text[tok.start..tok.end].to_owned(), tok.hash));
        }
        out
    }

    #[test]
    fn ascii_words_hash_as_their_folded_form() {
        assert_eq!(hash(b"Batman"), hash(b"batman"));
        assert_eq!(hash(b"SPIDER"), hash("spider".as_bytes()));
        assert_ne!(hash(b"batman"), hash(b"batmen"));
        assert_ne!(hash(b"a_b"), hash(b"a b"));
        // longer than eight bytes, and the padding is not a letter
        assert_eq!(hash(b"Supercalifragilistic"), hash(b"supercalifragilistic"));
        assert_ne!(hash(b"abc"), hash(b"abc   "));
    }

    #[test]
    fn text_is_cut_into_the_tokens_of_its_folded_form() {
        let t = tokens("Hi,  AMÉLIE’s\tSpider-Man 42x ﬁne");
        let pieces: Vec<&str> = t.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            pieces,
            [
                "Hi", ",", "AMÉLIE", "’", "s", "Spider", "-", "Man", "42x", "ﬁne"
            ]
        );
        let folded = Folded::new("Hi,  AMÉLIE’s\tSpider-Man 42x ﬁne");
        let mut expect = Vec::new();
        folded_tokens(&folded.text, |s, e, _| {
            expect.push(hash(&folded.text.as_bytes()[s..e]));
        });
        let got: Vec<u64> = t.iter().map(|(_, h)| *h).collect();
        assert_eq!(got, expect);
    }

    #[test]
    fn a_run_that_folds_to_nothing_does_not_end_the_text() {
        let t = tokens("a-\u{301} Baxter");
        let pieces: Vec<&str> = t.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(pieces, ["a", "-", "Baxter"]);
    }

    #[test]
    fn the_filter_has_no_false_negatives() {
        let forms: Vec<String> = (0..5000).map(|i| format!("name{i} surname{i}")).collect();
        let index = WordIndex::new(&forms);
        let mut scratch = Folded::default();
        for f in &forms {
            let mut t = Tokens::new(f);
            let first = t.next(&mut scratch).expect("a token");
            assert!(index.may_start_at(&first), "{f}");
        }
    }
}
