//! Text screening over real files: the watchlists, scripts and prompt logs in `tests/data`
//! (written for the tests), the superhero names of the npm package `superheroes` (MIT), and a
//! PDF built here.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test: a failure panics with its message"
)]

use greenlight_screen::text::{Category, Hit, InputFormat, Match, Screener, Watchlist, input};

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn watchlist() -> Watchlist {
    let mut w = Watchlist::new();
    for file in ["watchlist.toml", "watchlist.csv"] {
        let text = String::from_utf8(data(file)).unwrap();
        let errors = w.load(file, &text);
        assert!(errors.is_empty(), "{errors:?}");
    }
    w
}

fn screen(text: &str) -> Vec<Hit> {
    Screener::new(&watchlist()).screen_str(text)
}

fn names(hits: &[Hit]) -> Vec<(&str, &str)> {
    hits.iter().map(|h| (&*h.entry, h.text.as_str())).collect()
}

#[test]
fn folding_case_diacritics_apostrophes() {
    let hits = screen(
        "AMELIE POULAIN’s cafe; jonas müller-strauss; JONAS MULLER STRASSE no; JONAS MÜLLER–STRAUSS",
    );
    assert_eq!(
        names(&hits),
        [
            ("Amélie Poulain", "AMELIE POULAIN’s"),
            ("Jonas Müller-Strauß", "jonas müller-strauss"),
            ("Jonas Müller-Strauß", "JONAS MÜLLER–STRAUSS"),
        ]
    );
    assert_eq!(hits[0].how, Match::Folded);
    assert_eq!(hits[0].suffix.as_deref(), Some("’s"));
}

#[test]
fn look_alike_letters_match_and_say_so() {
    // Cyrillic а and е in "Pеtеr Pаrkеr"
    let hits = screen("a photo of P\u{435}t\u{435}r P\u{430}rk\u{435}r on a roof");
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(&*hits[0].entry, "Spider-Man");
    assert_eq!(hits[0].how, Match::LookAlike);
    assert_eq!(hits[0].text, "P\u{435}t\u{435}r P\u{430}rk\u{435}r");
}

#[test]
fn word_boundaries() {
    assert!(screen("Spider-Mania, pineapples, Zorblaxian, xZorblax").is_empty());
    let hits = screen("(Spider-Man) spider man, SPIDERMAN.");
    assert_eq!(hits.len(), 3, "{hits:?}");
    assert!(hits.iter().all(|h| &*h.entry == "Spider-Man"));
}

#[test]
fn possessives_and_plurals() {
    let hits =
        screen("Zorblax's plant, two Zorblaxes, the Peter Parkers, the O’Brien Quartets' album");
    assert_eq!(
        hits.iter()
            .map(|h| (h.text.as_str(), h.suffix.as_deref()))
            .collect::<Vec<_>>(),
        [
            ("Zorblax's", Some("'s")),
            ("Zorblaxes", Some("es")),
            ("Peter Parkers", Some("s")),
            ("O’Brien Quartets'", Some("s'")),
        ]
    );
}

#[test]
fn common_words_need_case_or_a_cue() {
    // "apple" is a common English word: the brand only counts as written, or with a cue
    let hits = screen("an apple on a table. An Apple laptop. the apple logo. APPLE PIE.");
    assert_eq!(
        hits.iter()
            .map(|h| (h.text.as_str(), h.how.clone()))
            .collect::<Vec<_>>(),
        [
            ("Apple", Match::CommonWordCaseSensitive),
            ("apple", Match::CommonWordCue("logo".to_owned())),
        ]
    );
    let hits = screen("in the style of apple");
    assert_eq!(hits[0].how, Match::CommonWordCue("style of".to_owned()));
}

#[test]
fn offsets_map_back_to_the_original() {
    let text = "first line\n  Ünïcode ☃ then Grëta\n Rasmussen’s work\n";
    let hits = screen(text);
    assert_eq!(hits.len(), 1, "{hits:?}");
    let h = &hits[0];
    assert_eq!(h.text, "Grëta\n Rasmussen’s");
    assert_eq!((h.line, h.column), (2, 18));
    assert_eq!(&text[h.bytes.0..h.bytes.1], h.text);
    assert_eq!(h.category, Category::LivingArtist);
    assert_eq!(h.rule.id, "screen-living-artist");
    assert_eq!(h.rule.cites, ["C1b", "P1"]);
}

#[test]
fn fountain_script_with_elements() {
    let bytes = data("station.fountain");
    let doc = input::read("station.fountain", &bytes, None);
    assert!(doc.problems.is_empty());
    let hits = Screener::new(&watchlist()).screen(&doc);
    let got: Vec<_> = hits
        .iter()
        .map(|h| (&*h.entry, h.element.as_deref().unwrap(), h.line, h.column))
        .collect();
    assert_eq!(
        got,
        [
            ("Spider-Man", "action", 7, 13),
            ("Greta Rasmussen", "dialogue", 11, 17),
            ("Apple", "dialogue", 11, 54),
            ("The Night Harbour", "boneyard", 17, 32),
            ("Amélie Poulain", "note", 19, 15),
            ("Spider-Man", "action", 21, 39),
        ]
    );
    let text = std::str::from_utf8(&bytes).unwrap();
    for h in &hits {
        assert_eq!(&text[h.bytes.0..h.bytes.1], h.text, "{h:?}");
    }
    assert_eq!(hits[5].text, "Peter Parkers");
}

#[test]
fn fdx_script_paragraphs() {
    let bytes = data("station.fdx");
    let doc = input::read("station.fdx", &bytes, None);
    assert!(doc.problems.is_empty(), "{:?}", doc.problems);
    let kinds: Vec<_> = doc
        .segments
        .iter()
        .map(|s| s.element.as_deref().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "scene_heading",
            "action",
            "character",
            "dialogue",
            "title_page"
        ]
    );
    let hits = Screener::new(&watchlist()).screen(&doc);
    assert_eq!(
        names(&hits),
        [
            ("Spider-Man", "Spider-Man"),
            ("Marlon Okafor", "Marlon Okafor's"),
            ("Jonas Müller-Strauß", "Jonas Muller-Strauss"),
        ]
    );
    assert_eq!(
        (hits[0].line, hits[0].element.as_deref()),
        (7, Some("action"))
    );
    assert_eq!(hits[2].line, 15);
    assert_eq!(hits[1].rule.cites, ["C2b", "C3a"]);
}

#[test]
fn fdx_that_is_not_xml_is_a_problem_not_a_panic() {
    let doc = input::read(
        "x.fdx",
        b"<FinalDraft><Paragraph Type=\"Action\"><Text>Apple</Text></Paragraph>\n<oops",
        None,
    );
    assert_eq!(doc.segments.len(), 1);
    assert_eq!(doc.problems.len(), 1, "{:?}", doc.problems);
    assert_eq!(doc.problems[0].line, 2);
}

#[test]
fn jsonl_prompt_log_reports_bad_lines() {
    let bytes = data("prompts.jsonl");
    let doc = input::read("prompts.jsonl", &bytes, None);
    let problems: Vec<_> = doc.problems.iter().map(|p| p.line).collect();
    assert_eq!(problems, [3, 4]);
    assert!(doc.problems[0].message.starts_with("not a JSON object"));
    assert!(
        doc.problems[1]
            .message
            .starts_with("no prompt on this line")
    );
    let hits = Screener::new(&watchlist()).screen(&doc);
    let got: Vec<_> = hits
        .iter()
        .map(|h| (&*h.entry, h.line, h.element.as_deref().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("Greta Rasmussen", 1, "prompt"),
            ("Spider-Man", 5, "positive"),
            ("Apple", 5, "positive"),
            ("Amélie Poulain", 7, "comfyui_text"),
        ]
    );
    // "apple on a table" (line 2) is the fruit: no hit
}

#[test]
fn generator_metadata_prompts() {
    let a1111 = "portrait of Greta Rasmussen\nNegative prompt: Apple\nSteps: 20, Sampler: Euler a";
    assert_eq!(
        input::generator_prompts(a1111),
        ["portrait of Greta Rasmussen"]
    );
    let comfy = r#"{"3": {"class_type": "KSampler", "inputs": {"seed": 1}}, "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "Spider-Man"}}}"#;
    assert_eq!(input::generator_prompts(comfy), ["Spider-Man"]);
}

#[test]
fn performers_without_consent_are_blocked() {
    let mut w = Watchlist::new();
    w.add_performer(
        "Dana Whitcombe",
        Some("no consent for The Long Night".into()),
    );
    let hits = Screener::new(&w).screen_str("voice clone of dana whitcombe");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].category, Category::Performer);
    assert_eq!(hits[0].rule.level, greenlight_core::Level::Blocked);
    assert_eq!(hits[0].rule.cites, ["C3a", "P5"]);
}

/// A one-page PDF with the text in a standard font.
fn pdf_with(text: &str) -> Vec<u8> {
    let content = format!("BT /F1 12 Tf 72 720 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_owned(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

#[test]
fn pdf_text_is_screened_per_page() {
    let pdf = pdf_with("Scene 4: Maya paints like Greta Rasmussen.");
    let doc = input::read("script.pdf", &pdf, None);
    assert!(doc.problems.is_empty(), "{:?}", doc.problems);
    let hits = Screener::new(&watchlist()).screen(&doc);
    assert_eq!(names(&hits), [("Greta Rasmussen", "Greta Rasmussen")]);
    assert_eq!(hits[0].page, Some(1));
    let broken = input::read(
        "broken.pdf",
        b"%PDF-1.4\nnot really",
        Some(InputFormat::Pdf),
    );
    assert!(broken.segments.is_empty());
    assert!(
        broken.problems[0]
            .message
            .starts_with("cannot read the PDF")
    );
}

/// The superhero names of the `superheroes` npm package as a watchlist of characters.
fn superheroes() -> (Watchlist, Vec<String>) {
    let names: Vec<String> = serde_json::from_slice(&data("superheroes.json")).unwrap();
    let mut w = Watchlist::new();
    let mut csv = String::from("name,category\n");
    for n in &names {
        csv.push_str(&format!("\"{}\",character\n", n.replace('"', "\"\"")));
    }
    let errors = w.load("superheroes.csv", &csv);
    assert!(errors.is_empty(), "{errors:?}");
    (w, names)
}

#[test]
fn real_names_are_all_found_as_written() {
    let (w, names) = superheroes();
    let screener = Screener::new(&w);
    let mut missed = Vec::new();
    for n in &names {
        let prompt = format!("a poster of {n} on a wall");
        let hits = screener.screen_str(&prompt);
        if !hits.iter().any(|h| *h.entry == **n && h.text == *n) {
            missed.push(n.clone());
        }
    }
    assert!(
        missed.is_empty(),
        "missed {} of {}: {missed:?}",
        missed.len(),
        names.len()
    );
}

#[test]
fn real_names_that_are_common_words_stay_quiet_in_ordinary_text() {
    let (w, _) = superheroes();
    let screener = Screener::new(&w);
    // every word here is a common English word; several are also superhero names
    // (Agent, Abbey, Man-Thing's parts…), which must not fire in lower case without a cue
    let text = "the agent walked to the abbey with a man and a thing, then the black cat slept";
    let hits = screener.screen_str(text);
    let common: Vec<_> = hits
        .iter()
        .filter(|h| greenlight_screen::text::is_common(&h.entry.to_lowercase()))
        .collect();
    assert!(common.is_empty(), "{common:?}");
    // written as a name, it counts
    let hits = screener.screen_str("Agent Zero meets Abbey");
    assert!(
        hits.iter()
            .any(|h| &*h.entry == "Abbey" && h.how == Match::CommonWordCaseSensitive)
    );
    assert!(hits.iter().any(|h| &*h.entry == "Agent Zero"));
}

/// A small deterministic generator (xorshift), so a failing case can be run again.
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

/// The two searches (the word index, and the reference automaton over a folded copy) give the
/// same hits, field for field.
fn same_hits(word: &Screener, reference: &Screener, doc: &input::Document<'_>, what: &str) {
    let a = word.screen(doc);
    let b = reference.screen(doc);
    if a != b {
        let only_a: Vec<_> = a.iter().filter(|h| !b.contains(h)).collect();
        let only_b: Vec<_> = b.iter().filter(|h| !a.contains(h)).collect();
        panic!(
            "{what}: {} hits against the reference's {}\nonly the word index: {only_a:#?}\nonly the reference: {only_b:#?}",
            a.len(),
            b.len()
        );
    }
}

#[test]
fn the_word_index_finds_what_the_reference_automaton_finds_in_the_test_files() {
    let lists = [watchlist(), superheroes().0];
    for list in &lists {
        let word = Screener::new(list);
        let reference = Screener::reference(list, None);
        for file in ["station.fountain", "station.fdx", "prompts.jsonl"] {
            let bytes = data(file);
            let doc = input::read(file, &bytes, None);
            same_hits(&word, &reference, &doc, file);
        }
    }
}

#[test]
fn the_word_index_finds_what_the_reference_automaton_finds_in_generated_text() {
    let (mut list, names) = superheroes();
    for extra in [
        "Amélie Poulain",
        "D'Artagnan",
        "Ant-Man",
        "Mr. Fantastic",
        "Ваtmаn",
        "Straße",
        "Jean-Luc Picard",
        "ﬁnn",
    ] {
        let errors = list.load(
            "extra.csv",
            &format!("name,category\n\"{extra}\",character\n"),
        );
        assert!(errors.is_empty(), "{errors:?}");
    }
    let word = Screener::new(&list);
    let reference = Screener::reference(&list, None);
    // Ordinary prose with names dropped in, written in the ways people write them: cased,
    // accented, with curly apostrophes, possessives and plurals, split across lines.
    let filler = [
        "the",
        "a",
        "of",
        "in",
        "style",
        "Style",
        "OF",
        "logo",
        "inspired by",
        "art  by",
        "feat.",
        "starring",
        "-style",
        "-esque",
        "movie",
        "poster",
        "with",
        "and",
        "neon",
        "rain",
        "man",
        "black",
        "cat",
        "agent",
        "thing",
        "’s",
        "—",
        "“quoted”",
        "don’t",
        "café",
        "naïve",
        "x",
        "42",
        "\n",
        "\n\n",
        "  ",
        "\t",
        ",",
        ".",
        "-",
        "'",
        "s",
        "es",
        "Ж",
        "日本",
    ];
    let extras = [
        "AMELIE POULAIN’s",
        "amélie  poulain",
        "d’artagnan",
        "ant man",
        "antman",
        "Ant‑Man’s",
        "mr. fantastic",
        "Batmans",
        "batman's",
        "STRASSE",
        "jean luc picard",
        "Jean-Luc\nPicard",
        "FINN",
        "in the style of Thor",
        "Thor-esque",
    ];
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut cued = 0;
    for round in 0..300 {
        let mut text = String::new();
        for _ in 0..200 {
            match rng.below(10) {
                0 => {
                    let n = &names[rng.below(names.len())];
                    let n = match rng.below(4) {
                        0 => n.to_uppercase(),
                        1 => n.to_lowercase(),
                        _ => n.clone(),
                    };
                    text.push_str(&n);
                }
                1 => text.push_str(extras[rng.below(extras.len())]),
                _ => text.push_str(filler[rng.below(filler.len())]),
            }
            match rng.below(6) {
                0 => {}
                1 => text.push('\n'),
                _ => text.push(' '),
            }
        }
        let doc = input::read("generated.txt", text.as_bytes(), None);
        same_hits(&word, &reference, &doc, &format!("round {round}:\n{text}"));
        cued += word
            .screen(&doc)
            .iter()
            .filter(|h| matches!(h.how, Match::CommonWordCue(_)))
            .count();
    }
    // the rounds reach the common-word rule's cues, before and after a name
    assert!(cued > 50, "only {cued} hits by a cue");
}

#[test]
fn the_word_index_holds_on_arbitrary_bytes() {
    let (list, names) = superheroes();
    let word = Screener::new(&list);
    let reference = Screener::reference(&list, None);
    let mut rng = Rng(0x0dd_ba11);
    let alphabet: Vec<char> = "aAbBtTmMnN sS'’-–\n\t.é\u{301}ẞßΑαВаɑ_0日"
        .chars()
        .collect();
    for _ in 0..2000 {
        let mut text = String::new();
        for _ in 0..rng.below(80) {
            if rng.below(8) == 0 {
                text.push_str(&names[rng.below(names.len())]);
            } else {
                text.push(alphabet[rng.below(alphabet.len())]);
            }
        }
        let doc = input::read("noise.txt", text.as_bytes(), None);
        same_hits(&word, &reference, &doc, &format!("{text:?}"));
        for h in word.screen_str(&text) {
            // every hit is the text it says, at the place it says
            assert_eq!(&text[h.bytes.0..h.bytes.1], h.text, "{text:?}");
            let folded = greenlight_screen::text::fold::fold_name(&h.text);
            let name = greenlight_screen::text::fold::fold_name(&h.matched);
            assert!(
                folded.starts_with(&name)
                    || folded
                        .replace('-', " ")
                        .starts_with(&name.replace('-', " "))
                    || folded.starts_with(&name.replace('-', "")),
                "{:?} does not fold to {:?} in {text:?}",
                h.text,
                h.matched
            );
        }
    }
}
