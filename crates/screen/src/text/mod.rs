//! Text screening: protected names in prompts, prompt logs and scripts.
//!
//! ```
//! use greenlight_screen::text::{Screener, Watchlist, input};
//!
//! let mut list = Watchlist::new();
//! let errors = list.load("list.toml", "[[entry]]\nname = \"Amélie Poulain\"\ncategory = \"character\"\n");
//! assert!(errors.is_empty());
//! let screener = Screener::new(&list);
//! let doc = input::read("prompt.txt", "a girl like AMELIE POULAIN’s friend".as_bytes(), None);
//! let hits = screener.screen(&doc);
//! assert_eq!(hits.len(), 1);
//! assert_eq!(hits[0].text, "AMELIE POULAIN’s");
//! assert_eq!((hits[0].line, hits[0].column), (1, 13));
//! assert_eq!(hits[0].rule.cites, ["C2b", "P1"]);
//! ```
//!
//! How it works: every watchlist name and alias is [folded](fold) (case, diacritics,
//! apostrophes, dashes, white space, look-alike letters) and indexed by its words (see
//! `words.rs`: the text is cut into the same words as it is read, plain ASCII without being
//! folded at all, and each word is tested against the names' first words); every candidate is
//! folded with its surroundings and checked exactly: equal to the folded name, on word
//! boundaries (a possessive `'s` or a plural `s`/`es` may follow), then mapped back to the
//! bytes, line and column of the original. [`Screener::reference`] does the same search with one
//! Aho-Corasick automaton over a folded copy of the text; the tests hold the two to the same
//! hits. An entry whose every word is a common English word
//! ([`COMMON_WORDS`]) only counts when the text has it exactly as the watchlist writes it, or
//! folded with a cue next to it ("in the style of", "logo", …); the hit says which.

pub mod fold;
pub mod input;
mod rules;
pub mod watchlist;
mod words;

use std::sync::Arc;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use rustc_hash::FxHashMap;
use serde::Serialize;

pub use fold::Folded;
pub use input::{Document, InputFormat, Problem, Segment};
pub use rules::{Rule, rule_for};
pub use watchlist::{Category, Entry, Watchlist, WatchlistError};

/// Common English words, most frequent first (see `data/SOURCE.md`), with their rank.
pub static COMMON_WORDS: LazyLock<FxHashMap<&'static str, usize>> = LazyLock::new(|| {
    include_str!("data/common-words.txt")
        .lines()
        .enumerate()
        .map(|(rank, w)| (w, rank))
        .collect()
});

/// A name of several words is a common phrase only when each word is among the most common
/// ones: the list has many first names and surnames (`peter`, `parker`), which together are a
/// name, not a phrase.
const PHRASE_RANK: usize = 1000;

/// Whether a folded name is a common word, or a phrase of very common words.
pub fn is_common(folded: &str) -> bool {
    let mut words = folded.split([' ', '-']).filter(|w| !w.is_empty());
    let (Some(first), second) = (words.next(), words.next()) else {
        return false;
    };
    let Some(second) = second else {
        return COMMON_WORDS.contains_key(first);
    };
    [first, second]
        .into_iter()
        .chain(words)
        .all(|w| COMMON_WORDS.get(w).is_some_and(|&r| r < PHRASE_RANK))
}

/// Words that, next to a common-word name, show it is meant as a name: before it.
const CUES_BEFORE: &[&str] = &[
    "style of",
    "styled after",
    "in the manner of",
    "inspired by",
    "art by",
    "artwork by",
    "painted by",
    "drawn by",
    "illustrated by",
    "photographed by",
    "photo by",
    "shot by",
    "directed by",
    "portrait of",
    "likeness of",
    "voice of",
    "dressed as",
    "cosplay of",
    "starring",
    "featuring",
    "feat.",
    "as played by",
];

/// Words that, next to a common-word name, show it is meant as a name: after it.
const CUES_AFTER: &[&str] = &[
    "style",
    "-style",
    "-esque",
    "logo",
    "brand",
    "trademark",
    "character",
    "franchise",
    "movie",
    "film",
    "series",
    "cosplay",
    "costume",
    "painting",
    "artwork",
    "aesthetic",
];

/// How a hit was matched: what folding or rule it relied on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "detail")]
pub enum Match {
    /// Exactly as the watchlist writes it.
    Exact,
    /// Equal once folded (case, diacritics, apostrophes, dashes, white space).
    Folded,
    /// Equal only once look-alike letters (Cyrillic, Greek) are read as Latin ones.
    LookAlike,
    /// A common word, matched case-sensitively as the watchlist writes it.
    CommonWordCaseSensitive,
    /// A common word, matched folded because this cue stands next to it.
    CommonWordCue(String),
}

/// One name found. The entry's strings are shared with the screener, so a hit costs one
/// allocation for its text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Hit {
    /// The entry's name.
    pub entry: Arc<str>,
    /// The name or alias that matched, as the watchlist writes it.
    pub matched: Arc<str>,
    /// The entry's category.
    pub category: Category,
    /// The entry's note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<Arc<str>>,
    /// Where the entry comes from (`file:line`, or `ledger`).
    pub origin: Arc<str>,
    /// The text as written, with a possessive or plural ending if it has one.
    pub text: String,
    /// Line, 1-based (in the file; within the page for PDF text).
    pub line: usize,
    /// Column, 1-based, in characters.
    pub column: usize,
    /// Byte range in the segment's source: the file for plain text, Fountain and JSONL lines
    /// read exactly; the field or paragraph's text otherwise (see [`Segment::exact`]).
    pub bytes: (usize, usize),
    /// The page, for PDF text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// What part of the input the text is in (`dialogue`, `action`, `prompt`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element: Option<String>,
    /// How it was matched.
    #[serde(rename = "match")]
    pub how: Match,
    /// A possessive (`'s`) or plural (`s`, `es`) ending that followed the name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    /// The rule the hit raises.
    pub rule: Rule,
}

/// One folded form of a name in the automaton.
#[derive(Debug)]
struct Pattern {
    entry: u32,
    /// The name or alias as written.
    written: Arc<str>,
    /// Whether every word of it is a common word.
    common: bool,
}

/// Screens text against a watchlist. Built once, then shared (it is `Send + Sync`).
#[derive(Debug)]
pub struct Screener {
    /// The reference search, when built with [`Screener::reference`].
    ac: Option<AhoCorasick>,
    words: words::WordIndex,
    /// The distinct folded forms.
    folded: Vec<String>,
    /// Per folded form: the names that fold to it.
    forms: Vec<Vec<u32>>,
    patterns: Vec<Pattern>,
    /// Per entry: what its hits say of it, their strings shared.
    entries: Vec<Shared>,
}

/// A watchlist entry as its hits hold it.
#[derive(Debug)]
struct Shared {
    category: Category,
    name: Arc<str>,
    origin: Arc<str>,
    note: Option<Arc<str>>,
}

/// Segments longer than this are screened in windows cut at white space by the reference
/// search, so its folded copy stays small whatever the input.
const WINDOW: usize = 1 << 20;

/// Buffers reused across the segments of a document.
#[derive(Default)]
struct Scratch {
    /// Folds the non-ASCII runs as they are cut into words.
    run: Folded,
    /// Folds a candidate's surroundings.
    around: Folded,
    ahead: Vec<words::Tok>,
    ids: Vec<u32>,
    found: Vec<Found>,
}

impl Screener {
    /// Builds the screener for a watchlist.
    pub fn new(list: &Watchlist) -> Screener {
        Screener::build(list, None)
    }

    /// Builds the reference screener: one Aho-Corasick automaton (of the given kind; `None`
    /// lets `aho-corasick` choose by size) over a folded copy of the text. It finds the same
    /// names, more slowly; for the tests and benchmarks.
    pub fn reference(list: &Watchlist, kind: Option<AhoCorasickKind>) -> Screener {
        Screener::build(list, Some(kind))
    }

    fn build(list: &Watchlist, reference: Option<Option<AhoCorasickKind>>) -> Screener {
        let entries = list.entries();
        let mut folded: Vec<String> = Vec::new();
        let mut forms: Vec<Vec<u32>> = Vec::new();
        let mut form_index: FxHashMap<String, usize> = FxHashMap::default();
        let mut patterns = Vec::new();
        let mut buf = Folded::default();
        // this entry's forms so far: a name and an alias may fold alike
        let mut mine: Vec<String> = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            mine.clear();
            for written in std::iter::once(&entry.name).chain(&entry.aliases) {
                buf.fold(written);
                let f = buf.text.trim();
                let common = is_common(f);
                let mut variants = vec![f.to_owned()];
                if f.contains('-') {
                    variants.push(f.replace('-', " "));
                    variants.push(f.replace('-', ""));
                }
                let written: Arc<str> = Arc::from(written.as_str());
                for form in variants {
                    if form.is_empty() || mine.contains(&form) {
                        continue;
                    }
                    mine.push(form.clone());
                    let slot = match form_index.get(&form) {
                        Some(&slot) => slot,
                        None => {
                            form_index.insert(form.clone(), folded.len());
                            folded.push(form);
                            forms.push(Vec::new());
                            forms.len() - 1
                        }
                    };
                    if let Some(list) = forms.get_mut(slot) {
                        list.push(u32::try_from(patterns.len()).unwrap_or(u32::MAX));
                    }
                    patterns.push(Pattern {
                        entry: i,
                        written: Arc::clone(&written),
                        common,
                    });
                }
            }
        }
        let ac = match reference {
            Some(kind) if !folded.is_empty() => AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .kind(kind)
                .build(&folded)
                .ok(),
            _ => None,
        };
        let words = words::WordIndex::new(&folded);
        Screener {
            ac,
            words,
            folded,
            forms,
            patterns,
            entries: entries
                .iter()
                .map(|e| Shared {
                    category: e.category,
                    name: Arc::from(e.name.as_str()),
                    origin: Arc::from(e.origin.as_str()),
                    note: e.note.as_deref().map(Arc::from),
                })
                .collect(),
        }
    }

    /// How many folded forms the screener holds.
    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// The screener's heap memory, in bytes (roughly: its index, names and entries).
    pub fn memory_usage(&self) -> usize {
        self.ac.as_ref().map_or(0, AhoCorasick::memory_usage)
            + self.words.memory_usage()
            + self
                .folded
                .iter()
                .map(|f| f.capacity() + size_of::<String>())
                .sum::<usize>()
            + self
                .forms
                .iter()
                .map(|f| f.capacity() * 4 + size_of::<Vec<u32>>())
                .sum::<usize>()
            + self
                .patterns
                .iter()
                .map(|p| p.written.len() + size_of::<Pattern>())
                .sum::<usize>()
            + self
                .entries
                .iter()
                .map(|e| {
                    size_of::<Shared>()
                        + e.name.len()
                        + e.origin.len()
                        + e.note.as_ref().map_or(0, |n| n.len())
                })
                .sum::<usize>()
    }

    /// Screens every segment of a document; hits in document order.
    pub fn screen(&self, doc: &Document<'_>) -> Vec<Hit> {
        let mut hits = Vec::new();
        self.screen_each(doc, |h| hits.push(h));
        hits
    }

    /// Screens every segment of a document, handing each hit to `f` in document order as it
    /// is found: memory stays the same however many hits a long text holds.
    pub fn screen_each(&self, doc: &Document<'_>, mut f: impl FnMut(Hit)) {
        let mut scratch = Scratch::default();
        for segment in &doc.segments {
            self.screen_segment(segment, &mut scratch, &mut f);
        }
    }

    /// Screens one piece of text as a plain-text document would be.
    pub fn screen_str(&self, text: &str) -> Vec<Hit> {
        let segment = Segment::exact(text, 1, 1, 0);
        let mut hits = Vec::new();
        self.screen_segment(&segment, &mut Scratch::default(), &mut |h| hits.push(h));
        hits
    }

    /// Counts the hits in a text, each made and dropped as it is found: for the benchmarks.
    pub fn count(&self, text: &str) -> usize {
        let segment = Segment::exact(text, 1, 1, 0);
        let mut n = 0;
        self.screen_segment(&segment, &mut Scratch::default(), &mut |h| {
            std::hint::black_box(h);
            n += 1;
        });
        n
    }

    fn screen_segment(
        &self,
        segment: &Segment<'_>,
        scratch: &mut Scratch,
        hits: &mut impl FnMut(Hit),
    ) {
        let text: &str = &segment.text;
        let mut pos = Position::new(segment);
        if let Some(ac) = &self.ac {
            let mut start = 0usize;
            while start < text.len() {
                let end = window_end(text, start);
                let window = text.get(start..end).unwrap_or_default();
                scratch.run.fold(window);
                scratch.found.clear();
                self.find(ac, &scratch.run, window, &mut scratch.found);
                for m in scratch.found.drain(..) {
                    self.hit(segment, &mut pos, start, m, hits);
                }
                start = end;
            }
            return;
        }
        let mut tokens = words::Tokens::new(text);
        let mut skip_until = 0usize;
        while let Some(t) = tokens.next_start(&self.words, &mut scratch.run) {
            if t.start < skip_until {
                continue;
            }
            let mut rest = tokens.clone();
            self.words.candidates(
                &t,
                &mut rest,
                &mut scratch.run,
                &mut scratch.ahead,
                &mut scratch.ids,
            );
            if scratch.ids.is_empty() {
                continue;
            }
            let end = scratch.ahead.last().map_or(t.end, |a| a.end.max(t.end));
            let longest = scratch
                .ids
                .iter()
                .filter_map(|&id| self.folded.get(id as usize))
                .map(String::len)
                .max()
                .unwrap_or(0);
            // Judge on a few characters around the candidate; only a common-word name that
            // needs a cue, or an edge that folded to too little, takes the wider view.
            for need in [words::NEAR, words::WIDE] {
                let (a, b) = words::context(text, t.start, end, need);
                let around = text.get(a..b).unwrap_or_default();
                scratch.around.fold(around);
                let Some(fs) = scratch.around.folded_offset(t.start - a) else {
                    break;
                };
                let wide = need == words::WIDE || (a == 0 && b == text.len());
                if !wide
                    && ((a > 0 && fs == 0)
                        || (b < text.len() && scratch.around.text.len() < fs + longest + 6))
                {
                    continue;
                }
                scratch.found.clear();
                let mut narrow = false;
                for &id in &scratch.ids {
                    let Some(form) = self.folded.get(id as usize) else {
                        continue;
                    };
                    let fe = fs + form.len();
                    if scratch.around.text.get(fs..fe) != Some(form.as_str()) {
                        continue;
                    }
                    if !self.judge(
                        &scratch.around,
                        around,
                        (fs, fe),
                        id as usize,
                        (!wide).then_some((text, a)),
                        &mut scratch.found,
                    ) {
                        narrow = true;
                        break;
                    }
                    if !scratch.found.is_empty() {
                        break;
                    }
                }
                if narrow {
                    continue;
                }
                for m in scratch.found.drain(..) {
                    skip_until = skip_until.max(a + m.end);
                    self.hit(segment, &mut pos, a, m, hits);
                }
                break;
            }
        }
    }

    /// Makes the hit of a match found at `offset` in the segment's text.
    fn hit(
        &self,
        segment: &Segment<'_>,
        pos: &mut Position,
        offset: usize,
        m: Found,
        hits: &mut impl FnMut(Hit),
    ) {
        let text: &str = &segment.text;
        let (s, e) = (offset + m.start, offset + m.end);
        let (line, column) = pos.at(text, s);
        let p = self.patterns.get(m.pattern);
        let Some((p, shared)) = p.and_then(|p| Some((p, self.entries.get(p.entry as usize)?)))
        else {
            return;
        };
        hits(Hit {
            entry: Arc::clone(&shared.name),
            matched: Arc::clone(&p.written),
            category: shared.category,
            note: shared.note.clone(),
            origin: Arc::clone(&shared.origin),
            text: text.get(s..e).unwrap_or_default().to_owned(),
            line,
            column,
            bytes: (segment.byte + s, segment.byte + e),
            page: segment.page,
            element: segment.element.clone(),
            how: m.how,
            suffix: m.suffix,
            rule: rule_for(shared.category),
        });
    }

    /// The reference search's matches in one folded window, as original byte ranges within
    /// `source`: every place a folded form occurs, left to right and longest first at each
    /// place, judged; a match taken hides the places it covers.
    fn find(&self, ac: &AhoCorasick, f: &Folded, source: &str, out: &mut Vec<Found>) {
        let mut places: Vec<(usize, usize, usize)> = ac
            .find_overlapping_iter(f.text.as_str())
            .map(|m| (m.start(), m.end(), m.pattern().as_usize()))
            .collect();
        places.sort_by_key(|&(s, e, _)| (s, std::cmp::Reverse(e)));
        let mut taken_until = 0usize;
        let mut i = 0;
        while let Some(&(s, _, _)) = places.get(i) {
            let same = places
                .get(i..)
                .map_or(0, |p| p.iter().take_while(|m| m.0 == s).count());
            if f.original(s) >= taken_until {
                for &(s, e, form) in places.get(i..i + same).unwrap_or_default() {
                    let before = out.len();
                    self.judge(f, source, (s, e), form, None, out);
                    if let Some(end) = out
                        .get(before..)
                        .and_then(|o| o.iter().map(|m| m.end).max())
                    {
                        taken_until = end;
                        break;
                    }
                }
            }
            i += same.max(1);
        }
    }

    /// Judges the folded form `form` found at folded `s..e` of `f` (the fold of `source`): if it
    /// stands on word boundaries, a match for each name that folds to it and passes the
    /// common-word rule, as original byte ranges within `source`.
    ///
    /// `near` is `None` when `f` holds enough text around the form to look for a cue (the wide
    /// view); otherwise it is the whole text and the offset of `source` in it, and a cue is
    /// looked for there ([`ascii_cue`]). When that cannot tell, nothing is judged and the
    /// answer is `false`: judge again on the wide view.
    fn judge(
        &self,
        f: &Folded,
        source: &str,
        (s, e): (usize, usize),
        form: usize,
        near: Option<(&str, usize)>,
        out: &mut Vec<Found>,
    ) -> bool {
        let text = f.text.as_str();
        let bytes = text.as_bytes();
        if !boundary_before(text, s) {
            return true;
        }
        let Some(suffix_len) = suffix_after(bytes, e) else {
            return true;
        };
        let (os, oe) = f.original_range(s, e, source);
        let core = source.get(os..oe).unwrap_or_default();
        let full_end = if suffix_len > 0 {
            f.original_range(s, e + suffix_len, source).1
        } else {
            oe
        };
        let suffix = (suffix_len > 0)
            .then(|| source.get(oe..full_end).map(str::to_owned))
            .flatten();
        let first = out.len();
        for &pi in self.forms.get(form).into_iter().flatten() {
            let Some(p) = self.patterns.get(pi as usize) else {
                continue;
            };
            let how = if p.common {
                if core == &*p.written {
                    Match::CommonWordCaseSensitive
                } else if let Some((whole, at)) = near {
                    match ascii_cue(whole, at + os, at + full_end) {
                        Some(Some(cue)) => Match::CommonWordCue(cue.to_owned()),
                        Some(None) => continue,
                        None => {
                            out.truncate(first);
                            return false;
                        }
                    }
                } else if let Some(cue) = cue_near(text, s, e + suffix_len) {
                    Match::CommonWordCue(cue.to_owned())
                } else {
                    continue;
                }
            } else if core == &*p.written {
                Match::Exact
            } else if f.has_confusable(s, e) {
                Match::LookAlike
            } else {
                Match::Folded
            };
            let same_entry = out.get(first..).is_some_and(|done| {
                done.iter()
                    .any(|o| self.patterns.get(o.pattern).map(|q| q.entry) == Some(p.entry))
            });
            if same_entry {
                continue; // another name of the same entry, folded alike
            }
            out.push(Found {
                start: os,
                end: full_end,
                pattern: pi as usize,
                how,
                suffix: suffix.clone(),
            });
        }
        true
    }
}

struct Found {
    start: usize,
    end: usize,
    pattern: usize,
    how: Match,
    suffix: Option<String>,
}

/// The end of the window that starts at `start`: the whole rest when short, else cut after a
/// blank line, a line end or a space near [`WINDOW`].
fn window_end(text: &str, start: usize) -> usize {
    if text.len() - start <= WINDOW {
        return text.len();
    }
    let limit = start + WINDOW;
    let slice = text.as_bytes().get(start..limit).unwrap_or_default();
    let cut = memchr_rev_pair(slice)
        .or_else(|| slice.iter().rposition(|&b| b == b'\n'))
        .or_else(|| slice.iter().rposition(|&b| b == b' '))
        .map_or(limit, |i| start + i + 1);
    // never cut inside a character
    let mut cut = cut.max(start + 1);
    while cut < text.len() && !text.is_char_boundary(cut) {
        cut += 1;
    }
    cut
}

/// The last blank line (`\n\n`) in the second half of `slice`.
fn memchr_rev_pair(slice: &[u8]) -> Option<usize> {
    let half = slice.len() / 2;
    slice
        .windows(2)
        .enumerate()
        .skip(half)
        .rev()
        .find(|(_, w)| w == b"\n\n")
        .map(|(i, _)| i + 1)
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether a name may start at folded byte `s`: the character before is not part of a word
/// (or the name itself starts with something that is not).
fn boundary_before(text: &str, s: usize) -> bool {
    let before = text.get(..s).and_then(|t| t.chars().next_back());
    let first = text.get(s..).and_then(|t| t.chars().next());
    match (before, first) {
        (Some(b), Some(f)) => !(is_word(b) && is_word(f)),
        _ => true,
    }
}

/// Whether a name may end at folded byte `e`, and how many bytes of ending (`'s`, `s'`, `s`,
/// `es`) it takes with it; `None` when the name runs on into a longer word.
fn suffix_after(bytes: &[u8], e: usize) -> Option<usize> {
    let last = e.checked_sub(1).and_then(|i| bytes.get(i)).copied();
    let last_is_word = last.is_some_and(|b| b.is_ascii_alphanumeric() || b >= 0x80);
    if !last_is_word {
        return Some(0);
    }
    let at = |n: usize| bytes.get(e + n).copied();
    let word = |n: usize| word_at(bytes, e + n);
    if !word(0) {
        return Some(if at(0) == Some(b'\'') && at(1) == Some(b's') && !word(2) {
            2
        } else {
            0
        });
    }
    match (at(0), at(1)) {
        (Some(b's'), Some(b'\'')) if !word(2) => Some(2),
        (Some(b's'), _) if !word(1) => Some(1),
        (Some(b'e'), Some(b's')) if !word(2) => Some(2),
        _ => None,
    }
}

/// Whether a word character starts at byte `i` of folded text.
fn word_at(bytes: &[u8], i: usize) -> bool {
    match bytes.get(i) {
        None => false,
        Some(&b) if b < 0x80 => b.is_ascii_alphanumeric() || b == b'_',
        Some(_) => {
            let tail = bytes.get(i..i + 4.min(bytes.len() - i)).unwrap_or_default();
            let s = match std::str::from_utf8(tail) {
                Ok(s) => s,
                Err(e) => std::str::from_utf8(tail.get(..e.valid_up_to()).unwrap_or_default())
                    .unwrap_or_default(),
            };
            s.chars().next().is_some_and(is_word)
        }
    }
}

/// [`cue_near`] decided on the original text, for the near view: the cue next to the original
/// span `s..e` of `text`, when the bytes it takes to tell are plain ASCII (whose fold is their
/// lower case, with each run of white space one space); `None` when some are not, so only
/// the folded wide view can tell.
fn ascii_cue(text: &str, s: usize, e: usize) -> Option<Option<&'static str>> {
    let bytes = text.as_bytes();
    // Matches `cue` ending at `j` (a space in it is a run of white space), then the byte before
    // must not be a letter or digit; `Some(false)` when it does not match.
    let ends_at = |cue: &str, mut j: usize| -> Option<bool> {
        for &c in cue.as_bytes().iter().rev() {
            if c == b' ' {
                let mut n = 0;
                while let Some(&b) = j.checked_sub(1).and_then(|i| bytes.get(i)) {
                    if b >= 0x80 {
                        return None;
                    }
                    if !b.is_ascii_whitespace() {
                        break;
                    }
                    j -= 1;
                    n += 1;
                }
                if n == 0 {
                    return Some(false);
                }
                continue;
            }
            match j.checked_sub(1).and_then(|i| bytes.get(i)) {
                None => return Some(false),
                Some(&b) if b >= 0x80 => return None,
                Some(&b) if b.to_ascii_lowercase() != c => return Some(false),
                Some(_) => j -= 1,
            }
        }
        match j.checked_sub(1).and_then(|i| bytes.get(i)) {
            None => Some(true),
            Some(&b) if b >= 0x80 => None,
            Some(&b) => Some(!b.is_ascii_alphanumeric()),
        }
    };
    // Matches `cue` starting at `k`, then the byte after must not be a letter or digit.
    let starts_at = |cue: &str, k: usize| -> Option<bool> {
        for (n, &c) in cue.as_bytes().iter().enumerate() {
            match bytes.get(k + n) {
                None => return Some(false),
                Some(&b) if b >= 0x80 => return None,
                Some(&b) if b.to_ascii_lowercase() != c => return Some(false),
                Some(_) => {}
            }
        }
        match bytes.get(k + cue.len()) {
            None => Some(true),
            Some(&b) if b >= 0x80 => None,
            Some(&b) => Some(!b.is_ascii_alphanumeric()),
        }
    };
    // before: white space between the cue and the name is trimmed
    let mut j = s;
    loop {
        match j.checked_sub(1).and_then(|i| bytes.get(i)) {
            Some(&b) if b >= 0x80 => return None,
            Some(b) if b.is_ascii_whitespace() => j -= 1,
            _ => break,
        }
    }
    for cue in CUES_BEFORE {
        if ends_at(cue, j)? {
            return Some(Some(cue));
        }
    }
    // after: glued on with `-`, or after white space
    let mut k = e;
    loop {
        match bytes.get(k) {
            Some(&b) if b >= 0x80 => return None,
            Some(b) if b.is_ascii_whitespace() => k += 1,
            _ => break,
        }
    }
    for cue in CUES_AFTER {
        let found = if cue.starts_with('-') {
            starts_at(cue, e)?
        } else {
            k > e && starts_at(cue, k)?
        };
        if found {
            return Some(Some(cue));
        }
    }
    Some(None)
}

/// A cue within a few words of the folded span `s..e`.
fn cue_near(text: &str, s: usize, e: usize) -> Option<&'static str> {
    let before = text.get(..s).unwrap_or_default().trim_end();
    let before = before
        .get(before.len().saturating_sub(40)..)
        .unwrap_or(before);
    let after = text.get(e..).unwrap_or_default();
    let after = after.get(..after.len().min(40)).unwrap_or(after);
    let after_trim = after.trim_start();
    CUES_BEFORE
        .iter()
        .find(|c| {
            before.ends_with(*c)
                && before
                    .len()
                    .checked_sub(c.len() + 1)
                    .and_then(|i| before.as_bytes().get(i))
                    .is_none_or(|b| !b.is_ascii_alphanumeric())
        })
        .or_else(|| {
            CUES_AFTER.iter().find(|c| {
                let (t, glued) = if c.starts_with('-') {
                    (after, true)
                } else {
                    (after_trim, false)
                };
                t.starts_with(*c)
                    && (glued || after.len() > after_trim.len())
                    && t.as_bytes()
                        .get(c.len())
                        .is_none_or(|b| !b.is_ascii_alphanumeric())
            })
        })
        .copied()
}

/// Line and column of byte offsets, counted forward as hits come in order.
struct Position {
    line: usize,
    first_column: usize,
    at: usize,
    line_start: usize,
}

impl Position {
    fn new(segment: &Segment<'_>) -> Position {
        Position {
            line: segment.line,
            first_column: segment.column,
            at: 0,
            line_start: 0,
        }
    }

    /// Line and column of `offset`; offsets come in ascending order (an earlier one is
    /// answered as the last one asked).
    fn at(&mut self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.max(self.at);
        let gap = text.get(self.at..offset).unwrap_or_default();
        for (i, b) in gap.bytes().enumerate() {
            if b == b'\n' {
                self.line += 1;
                self.line_start = self.at + i + 1;
                self.first_column = 1;
            }
        }
        self.at = offset;
        let column = text
            .get(self.line_start..offset)
            .map_or(0, |t| t.chars().count());
        (self.line, self.first_column + column)
    }
}
