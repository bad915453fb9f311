//! Text screening speed: 100,000 watchlist terms over a 100 MB corpus of scripts and prompts,
//! folding on, against baselines measured in the same run.
//!
//! The terms are the superhero names of `tests/data/superheroes.json` plus made-up two-word
//! names up to 100,000; the corpus repeats the test scripts and prompt log with a term put in
//! about every 2 KB. `GREENLIGHT_BENCH_MB` sets the corpus size (default 100).
//!
//! Groups:
//! - `build`: building the screener (folding every term, the automaton);
//! - `corpus`: `screen` (the word index + checks + hits, the shipped path) against
//!   `screen-reference` (the same screener on one Aho-Corasick automaton over a folded copy:
//!   fold + aho-corasick + checks + hits), `daachorse-folded` (the same folding, then
//!   daachorse, a double-array Aho-Corasick),
//!   `fold-only`, `aho-corasick-unfolded` (plain aho-corasick, no folding, no checks) and
//!   `memmem-one-term` (memchr's single-needle search: a floor no multi-term search beats);
//! - `prompt-4k`: one 4 KB prompt through `screen`.
//!
//! Run: `cargo bench -p greenlight-screen --bench text`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs,
    reason = "a benchmark"
)]

use std::hint::black_box;
use std::time::Duration;

use aho_corasick::AhoCorasick;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use daachorse::{CharwiseDoubleArrayAhoCorasick, CharwiseDoubleArrayAhoCorasickBuilder, MatchKind};
use greenlight_screen::text::{Category, Entry, Folded, Screener, Watchlist, fold};

const TERMS: usize = 100_000;

fn data(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// A small deterministic generator (xorshift), so every run screens the same corpus.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn made_up_word(rng: &mut Rng) -> String {
    const ONSETS: &[&str] = &[
        "b", "br", "c", "d", "dr", "f", "g", "gr", "h", "j", "k", "kl", "l", "m", "n", "p", "r",
        "s", "st", "t", "tr", "v", "w", "z",
    ];
    const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ae", "ou", "y"];
    const CODAS: &[&str] = &["", "n", "r", "s", "th", "x", "ll", "nd", "rk", "sk"];
    let syllables = 2 + rng.below(2);
    let mut w = String::new();
    for _ in 0..syllables {
        w.push_str(ONSETS[rng.below(ONSETS.len())]);
        w.push_str(VOWELS[rng.below(VOWELS.len())]);
    }
    w.push_str(CODAS[rng.below(CODAS.len())]);
    let mut c = w.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn terms() -> Vec<String> {
    let mut names: Vec<String> = serde_json::from_str(&data("superheroes.json")).unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut seen: std::collections::HashSet<String> =
        names.iter().map(|n| fold::fold_name(n)).collect();
    while names.len() < TERMS {
        let n = format!("{} {}", made_up_word(&mut rng), made_up_word(&mut rng));
        if seen.insert(fold::fold_name(&n)) {
            names.push(n);
        }
    }
    names
}

fn watchlist(terms: &[String]) -> Watchlist {
    let mut w = Watchlist::new();
    let categories = Category::LISTED;
    for (i, t) in terms.iter().enumerate() {
        w.push(Entry {
            name: t.clone(),
            aliases: Vec::new(),
            category: categories[i % categories.len()],
            note: None,
            origin: "bench".to_owned(),
        });
    }
    w
}

fn corpus(terms: &[String], bytes: usize) -> String {
    let pieces = [
        data("station.fountain"),
        data("prompts.jsonl"),
        data("station.fdx"),
    ];
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut out = String::with_capacity(bytes + 4096);
    while out.len() < bytes {
        let piece = &pieces[rng.below(pieces.len())];
        for line in piece.lines() {
            out.push_str(line);
            if rng.below(30) == 0 {
                out.push_str(" with ");
                out.push_str(&terms[rng.below(terms.len())]);
            }
            out.push('\n');
        }
    }
    out
}

/// 1 MiB windows cut at character boundaries.
fn windows(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= text.len() {
            return None;
        }
        let mut end = (start + (1 << 20)).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        let w = &text[start..end];
        start = end;
        Some(w)
    })
}

fn bench(c: &mut Criterion) {
    let mb: usize = std::env::var("GREENLIGHT_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let terms = terms();
    let list = watchlist(&terms);
    let text = corpus(&terms, mb << 20);
    let screener = Screener::new(&list);
    let reference = Screener::reference(&list, None);
    let mut folded_terms: Vec<String> = terms.iter().map(|t| fold::fold_name(t)).collect();
    folded_terms.sort();
    folded_terms.dedup();
    let daac: CharwiseDoubleArrayAhoCorasick<u32> = CharwiseDoubleArrayAhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostLongest)
        .build(&folded_terms)
        .unwrap();
    let plain = AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostLongest)
        .build(&terms)
        .unwrap();
    eprintln!(
        "terms {} (forms {}), corpus {} bytes; memory: screener {} bytes, daachorse {} bytes, \
         plain aho-corasick {} bytes; hits in corpus: {}",
        terms.len(),
        screener.pattern_count(),
        text.len(),
        screener.memory_usage(),
        daac.heap_bytes(),
        plain.memory_usage(),
        screener.count(&text),
    );
    assert_eq!(
        screener.count(&text),
        reference.count(&text),
        "the word index and the reference automaton find the same hits"
    );

    let mut g = c.benchmark_group("build");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.bench_function("screener-100k", |b| {
        b.iter(|| black_box(Screener::new(&list)))
    });
    g.bench_function("reference-100k", |b| {
        b.iter(|| black_box(Screener::reference(&list, None)))
    });
    g.bench_function("daachorse-100k", |b| {
        b.iter(|| {
            black_box(
                CharwiseDoubleArrayAhoCorasickBuilder::new()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build::<_, _, u32>(&folded_terms)
                    .unwrap(),
            )
        })
    });
    g.finish();

    let mut g = c.benchmark_group("corpus");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Bytes(text.len() as u64));
    let mut buf = Folded::default();
    g.bench_function("screen", |b| b.iter(|| black_box(screener.count(&text))));
    g.bench_function("screen-reference", |b| {
        b.iter(|| black_box(reference.count(&text)))
    });
    g.bench_function("daachorse-folded", |b| {
        b.iter(|| {
            // the same folding, in the same windows, then daachorse
            let mut n = 0usize;
            for chunk in windows(&text) {
                buf.fold(chunk);
                n += daac.leftmost_find_iter(&buf.text).count();
            }
            black_box(n)
        })
    });
    g.bench_function("fold-only", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for chunk in windows(&text) {
                buf.fold(chunk);
                n += buf.text.len();
            }
            black_box(n)
        })
    });
    g.bench_function("aho-corasick-unfolded", |b| {
        b.iter(|| black_box(plain.find_iter(&text).count()))
    });
    let needle = memchr::memmem::Finder::new(terms[TERMS / 2].as_bytes());
    g.bench_function("memmem-one-term", |b| {
        b.iter(|| black_box(needle.find_iter(text.as_bytes()).count()))
    });
    g.finish();

    let prompt: String = {
        let mut p = String::new();
        let mut rng = Rng(7);
        let words = [
            "a",
            "portrait",
            "of",
            "cinematic",
            "lighting",
            "in",
            "the",
            "style",
            "neon",
            "city",
            "rain",
            "at",
            "night",
            "wide",
            "shot",
        ];
        while p.len() < 4096 - 40 {
            p.push_str(words[rng.below(words.len())]);
            p.push(' ');
            if rng.below(60) == 0 {
                p.push_str(&terms[rng.below(terms.len())]);
                p.push(' ');
            }
        }
        p
    };
    let mut g = c.benchmark_group("prompt-4k");
    g.throughput(Throughput::Bytes(prompt.len() as u64));
    g.bench_function("screen", |b| {
        b.iter(|| black_box(screener.screen_str(&prompt)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
