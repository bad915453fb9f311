//! Any bytes, read as each text input the screen knows (plain text, prompt log, Fountain,
//! Final Draft) and screened: segments and problems, never a panic; every hit's text is the
//! segment's own bytes at the hit's range, exact segments sit inside the input, and the word
//! index finds the same hits as the reference automaton.
#![no_main]

use std::sync::OnceLock;

use greenlight_screen::text::{InputFormat, Screener, Watchlist, input};
use libfuzzer_sys::fuzz_target;

/// The screener, and the reference screener over the same watchlist.
fn screeners() -> &'static (Screener, Screener) {
    static S: OnceLock<(Screener, Screener)> = OnceLock::new();
    S.get_or_init(|| {
        let mut w = Watchlist::new();
        let errors = w.load(
            "fuzz.csv",
            "name,aliases,category\nSpider-Man,Peter Parker,character\nApple,,brand\nAmélie Poulain,,character\nStraße,,brand\nPеtеr,,public figure\nStorm,,character\nThe Thing,,character\nAnn's,,brand\nX,,brand\n",
        );
        assert!(errors.is_empty());
        (Screener::new(&w), Screener::reference(&w, None))
    })
}

fuzz_target!(|data: &[u8]| {
    for format in [InputFormat::Text, InputFormat::Jsonl, InputFormat::Fountain, InputFormat::Fdx] {
        let doc = input::read("fuzz", data, Some(format));
        for segment in &doc.segments {
            if segment.exact && std::str::from_utf8(data).is_ok() {
                let end = segment.byte + segment.text.len();
                assert_eq!(data.get(segment.byte..end), Some(segment.text.as_bytes()));
            }
            let (screener, reference) = screeners();
            let one = input::Document {
                segments: vec![segment.clone()],
                problems: Vec::new(),
            };
            let hits = screener.screen(&one);
            assert_eq!(hits, reference.screen(&one), "the word index and the reference differ");
            for hit in hits {
                let (s, e) = (hit.bytes.0 - segment.byte, hit.bytes.1 - segment.byte);
                assert_eq!(segment.text.get(s..e), Some(hit.text.as_str()));
                assert!(hit.line >= segment.line && hit.column >= 1);
            }
        }
    }
});
