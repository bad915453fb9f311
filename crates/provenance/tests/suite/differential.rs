//! The fast C2PA path against the reference: every corpus file, and a few thousand seeded
//! mutations of the corpus's manifest stores, scanned by a `Scanner` on the fast path and by
//! one that reads every store with the c2pa crate's `Reader`, must give the same report
//! (evidence with kind, detail, source, strength and signal; verdict; C2PA summary). A mutated
//! store the fast path declines is read by the c2pa crate on both sides, so only those it
//! reads itself are compared; the test requires enough of them. Skipped,
//! with a printed message, when `../shared/corpus` is not there.

use greenlight_provenance::formats::{self, StoreLocation};
use greenlight_provenance::{FileReport, ScanOptions, Scanner, c2pa_fast};
use std::path::PathBuf;

fn corpus_dir() -> Option<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/c2pa-rs");
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!(
            "SKIPPED: no corpus at {} (the differential C2PA test needs it)",
            d.display()
        );
        None
    }
}

fn files(dir: &PathBuf) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

fn scanners() -> (Scanner, Scanner) {
    let opts = ScanOptions {
        threads: 1,
        ..ScanOptions::default()
    };
    (
        Scanner::new(opts.clone()).unwrap(),
        Scanner::reference(opts).unwrap(),
    )
}

/// The report as JSON: everything a user reads.
fn shown(r: &FileReport) -> serde_json::Value {
    serde_json::to_value(r).unwrap()
}

/// The raw stores the container readers cut out of `data`.
fn stores(data: &[u8]) -> Vec<Vec<u8>> {
    let Some((reader, _)) = formats::sniff(data) else {
        return Vec::new();
    };
    let Some((meta, _)) = formats::read_bytes(reader.name(), data) else {
        return Vec::new();
    };
    meta.c2pa
        .into_iter()
        .filter_map(|l| match l {
            StoreLocation::Bytes(b) => Some(b),
            StoreLocation::InAsset => None,
        })
        .collect()
}

#[test]
fn the_fast_path_reports_what_the_c2pa_reader_reports_on_every_corpus_file() {
    let Some(dir) = corpus_dir() else { return };
    let (fast, reference) = scanners();
    let (mut with_store, mut on_fast_path) = (0, 0);
    let (mut diffs, mut declined) = (Vec::new(), Vec::new());
    for path in files(&dir) {
        let a = shown(&fast.scan_file(&path));
        let b = shown(&reference.scan_file(&path));
        if a != b {
            diffs.push(format!(
                "{}:\n  fast:      {a}\n  reference: {b}",
                path.display()
            ));
        }
        for s in stores(&std::fs::read(&path).unwrap()) {
            with_store += 1;
            if c2pa_fast::read(&s).is_ok() {
                on_fast_path += 1;
            } else {
                declined.push(path.file_name().unwrap().to_string_lossy().to_string());
            }
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    eprintln!(
        "{on_fast_path} of {with_store} corpus stores read on the fast path; declined: {}",
        declined.join(", ")
    );
    // the comparison means something only if the fast path did the reading
    assert!(
        with_store >= 20 && on_fast_path * 4 >= with_store * 3,
        "only {on_fast_path} of {with_store} stores on the fast path"
    );
}

/// A small deterministic generator (xorshift64*), so every run checks the same cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Offsets of plausible box headers in `s` (size then a known type), for targeted mutations.
fn box_starts(s: &[u8]) -> Vec<(usize, usize)> {
    let kinds: [&[u8; 4]; 6] = [b"jumb", b"jumd", b"cbor", b"json", b"bfdb", b"bidb"];
    (0..s.len().saturating_sub(8))
        .filter(|&i| kinds.iter().any(|k| &s[i + 4..i + 8] == *k))
        .filter_map(|i| {
            let n = u32::from_be_bytes(s[i..i + 4].try_into().unwrap()) as usize;
            (n >= 8 && i + n <= s.len()).then_some((i, n))
        })
        .collect()
}

/// Sets the 32-bit size of the box at `at` to `size`.
fn set_size(s: &mut [u8], at: usize, size: usize) {
    s[at..at + 4].copy_from_slice(&u32::try_from(size).unwrap().to_be_bytes());
}

/// One mutation of store `s` (whose [`box_starts`] are `boxes`), chosen by `rng`, and its
/// name.
fn mutate(s: &[u8], boxes: &[(usize, usize)], rng: &mut Rng) -> (&'static str, Vec<u8>) {
    let mut m = s.to_vec();
    match rng.below(7) {
        0 => {
            m.truncate(rng.below(s.len()));
            ("truncated", m)
        }
        1 => {
            // a flip in a box header (size or type) or a description box (UUID, toggles, label)
            let (at, n) = boxes[rng.below(boxes.len())];
            let i = at + rng.below(n.min(48));
            m[i] ^= 1 << rng.below(8);
            ("header flip", m)
        }
        2 => {
            // a flip inside a CBOR or JSON payload
            let payloads: Vec<&(usize, usize)> = boxes
                .iter()
                .filter(|(at, n)| matches!(&s[at + 4..at + 8], b"cbor" | b"json") && *n > 8)
                .collect();
            let (at, n) = *payloads[rng.below(payloads.len())];
            let i = at + 8 + rng.below(n - 8);
            m[i] ^= 1 << rng.below(8);
            ("payload flip", m)
        }
        3 => {
            // a flip in a label: within the NUL-terminated text after a description's toggles
            let descs: Vec<&(usize, usize)> = boxes
                .iter()
                .filter(|(at, n)| &s[at + 4..at + 8] == b"jumd" && *n > 26)
                .collect();
            let (at, n) = *descs[rng.below(descs.len())];
            let i = at + 25 + rng.below(n - 26);
            m[i] ^= 1 << rng.below(7);
            ("label flip", m)
        }
        4 => {
            // a removed box, with every enclosing box's size made to fit
            let (at, n) = boxes[1 + rng.below(boxes.len() - 1)];
            m.drain(at..at + n);
            for &(o, on) in boxes {
                if o < at && at + n <= o + on {
                    set_size(&mut m, o, on - n);
                }
            }
            ("removed box", m)
        }
        5 => {
            // a manifest duplicated at the end of the store
            let manifests: Vec<&(usize, usize)> = boxes
                .iter()
                .filter(|(at, _)| &s[at + 4..at + 8] == b"jumb" && is_top_level(s, *at))
                .collect();
            if manifests.is_empty() {
                m.truncate(s.len() / 2);
                return ("truncated", m);
            }
            let (at, n) = *manifests[rng.below(manifests.len())];
            let copy = s[at..at + n].to_vec();
            let store_len = u32::from_be_bytes(s[0..4].try_into().unwrap()) as usize;
            m.splice(store_len..store_len, copy);
            set_size(&mut m, 0, store_len + n);
            ("duplicated manifest", m)
        }
        _ => {
            // two flips anywhere
            for _ in 0..2 {
                let i = rng.below(m.len());
                m[i] ^= 1 << rng.below(8);
            }
            ("random flips", m)
        }
    }
}

/// Offset of the store's first child box (after its description box).
fn first_child(s: &[u8]) -> usize {
    8 + u32::from_be_bytes(s[8..12].try_into().unwrap()) as usize
}

/// Whether `at` starts a direct child of the store superbox.
fn is_top_level(s: &[u8], at: usize) -> bool {
    let end = (u32::from_be_bytes(s[0..4].try_into().unwrap()) as usize).min(s.len());
    let mut i = first_child(s);
    while i + 8 <= end {
        if i == at {
            return true;
        }
        let n = u32::from_be_bytes(s[i..i + 4].try_into().unwrap()) as usize;
        if n < 8 {
            return false;
        }
        i += n;
    }
    false
}

/// The corpus's stores of at least 64 and at most `max` bytes, each named `file#index`.
fn corpus_stores(dir: &PathBuf, max: usize) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for path in files(dir) {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        for (i, s) in stores(&std::fs::read(&path).unwrap())
            .into_iter()
            .enumerate()
        {
            if (64..=max).contains(&s.len()) {
                out.push((format!("{name}#{i}"), s));
            }
        }
    }
    out
}

#[test]
fn the_fast_path_reports_what_the_c2pa_reader_reports_on_mutated_stores() {
    let Some(dir) = corpus_dir() else { return };
    let originals = corpus_stores(&dir, usize::MAX);
    assert!(originals.len() >= 20, "{} stores", originals.len());
    let (fast, reference) = scanners();
    let boxes: Vec<_> = originals.iter().map(|(_, s)| box_starts(s)).collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut cases, mut on_fast_path) = (0, 0);
    let mut diffs = Vec::new();
    for round in 0..120 {
        for ((name, s), boxes) in originals.iter().zip(&boxes) {
            let (how, m) = mutate(s, boxes, &mut rng);
            cases += 1;
            // a store the fast path declines goes to the same reader on both sides
            if c2pa_fast::read(&m).is_err() {
                continue;
            }
            on_fast_path += 1;
            let a = shown(&fast.scan_bytes("store.c2pa", &m));
            let b = shown(&reference.scan_bytes("store.c2pa", &m));
            if a != b && diffs.len() < 10 {
                diffs.push(format!(
                    "{name} round {round} ({how}):\n  fast:      {a}\n  reference: {b}"
                ));
            }
        }
    }
    eprintln!("{cases} mutated stores, {on_fast_path} read on the fast path");
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    assert!(
        cases >= 2500 && on_fast_path >= 600,
        "{on_fast_path} of {cases}"
    );
}

#[test]
fn pdf_stores_cut_out_here_read_as_the_c2pa_pdf_handler_reads_them() {
    use greenlight_provenance::manifest::{Engine, StoreFacts};
    let Some(dir) = corpus_dir() else { return };
    let engine = Engine::new(None).unwrap();
    let facts = |f: StoreFacts| (f.evidence, f.active, f.generator, f.manifests);
    let mut cut = 0;
    for path in files(&dir) {
        let data = std::fs::read(&path).unwrap();
        if !data.starts_with(b"%PDF") || memchr_find(&data, b"/C2PA_Manifest").is_none() {
            continue;
        }
        let (meta, _) = formats::read_bytes("pdf", &data).unwrap();
        let [StoreLocation::Bytes(store)] = meta.c2pa.as_slice() else {
            panic!(
                "{}: the store was not cut out: {:?}",
                path.display(),
                meta.c2pa.len()
            );
        };
        cut += 1;
        assert!(c2pa_fast::read(store).is_ok(), "{}", path.display());
        let ours = facts(engine.read_store(store).unwrap());
        let theirs = facts(
            engine
                .read_asset("application/pdf", std::io::Cursor::new(&data))
                .unwrap(),
        );
        assert_eq!(ours, theirs, "{}", path.display());
    }
    assert!(cut >= 1, "no corpus PDF with a manifest store");
}

fn memchr_find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The direct children of the store superbox (offset and size of each), when they tile it.
fn top_level(s: &[u8]) -> Option<Vec<(usize, usize)>> {
    let end = u32::from_be_bytes(s.get(0..4)?.try_into().ok()?) as usize;
    if end > s.len() || s.len() < 12 {
        return None;
    }
    let mut i = 8 + u32::from_be_bytes(s[8..12].try_into().ok()?) as usize;
    let mut out = Vec::new();
    while i < end {
        let n = u32::from_be_bytes(s.get(i..i + 4)?.try_into().ok()?) as usize;
        if n < 8 || i + n > end || s.get(i + 4..i + 8)? != b"jumb" {
            return None;
        }
        out.push((i, n));
        i += n;
    }
    (i == end && !out.is_empty()).then_some(out)
}

/// A box of `kind` around `payload`.
fn boxed(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut v = u32::try_from(payload.len() + 8)
        .unwrap()
        .to_be_bytes()
        .to_vec();
    v.extend_from_slice(kind);
    v.extend_from_slice(payload);
    v
}

/// A description box: the type UUID `code` + the JUMBF suffix, requestable and labelled.
fn description(code: &[u8; 4], label: &[u8]) -> Vec<u8> {
    let mut d = code.to_vec();
    d.extend_from_slice(&[
        0x00, 0x11, 0x00, 0x10, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71, 0x03,
    ]);
    d.extend_from_slice(label);
    d.push(0);
    boxed(b"jumd", &d)
}

/// The label of the superbox at `at` (from its description box).
fn label_at(s: &[u8], at: usize) -> Option<Vec<u8>> {
    let d = s.get(at + 8 + 8 + 17..)?;
    let end = d.iter().position(|&c| c == 0)?;
    Some(d[..end].to_vec())
}

/// The store with each of its manifests replaced by `f(manifest box)`.
fn each_manifest(s: &[u8], f: impl Fn(&[u8]) -> Option<Vec<u8>>) -> Option<Vec<u8>> {
    let children = top_level(s)?;
    let head = &s[8..children[0].0];
    let mut body = head.to_vec();
    for &(at, n) in &children {
        body.extend(f(&s[at..at + n])?);
    }
    Some(boxed(b"jumb", &body))
}

/// Every manifest Brotli-compressed into a `c2cm` superbox with its label, as the c2pa crate
/// writes a compressed manifest.
fn compressed(s: &[u8]) -> Option<Vec<u8>> {
    each_manifest(s, |m| {
        let mut z = Vec::new();
        // a low quality: the data only has to be Brotli, and debug builds compress slowly
        let params = brotli::enc::BrotliEncoderParams {
            quality: 1,
            ..Default::default()
        };
        brotli::BrotliCompress(&mut &m[..], &mut z, &params).ok()?;
        let label = label_at(m, 0)?;
        Some(boxed(
            b"jumb",
            &[description(b"c2cm", &label), boxed(b"brob", &z)].concat(),
        ))
    })
}

/// Every manifest with a data box store of one data box appended.
fn with_databoxes(s: &[u8]) -> Option<Vec<u8>> {
    let data = c2pa::assertions::DataBox {
        format: "text/plain".to_string(),
        data: b"notes kept beside the claim".to_vec(),
        data_types: None,
    };
    let cbor = c2pa_cbor::to_vec(&data).ok()?;
    let databox = boxed(
        b"jumb",
        &[description(b"cbor", b"c2pa.data"), boxed(b"cbor", &cbor)].concat(),
    );
    let store = boxed(
        b"jumb",
        &[description(b"c2db", b"c2pa.databoxes"), databox].concat(),
    );
    each_manifest(s, |m| {
        let mut payload = m.get(8..)?.to_vec();
        payload.extend_from_slice(&store);
        Some(boxed(b"jumb", &payload))
    })
}

/// The active (last) manifest made an update manifest (`c2um`).
fn as_update(s: &[u8]) -> Option<Vec<u8>> {
    let &(at, _) = top_level(s)?.last()?;
    let mut m = s.to_vec();
    let uuid = m.get_mut(at + 16..at + 20)?;
    if uuid != b"c2ma" {
        return None;
    }
    uuid.copy_from_slice(b"c2um");
    Some(m)
}

/// A rewriting of a store, `None` when it does not apply.
type Transform = fn(&[u8]) -> Option<Vec<u8>>;

#[test]
fn compressed_manifests_databoxes_and_update_manifests_read_as_the_c2pa_reader_reads_them() {
    let Some(dir) = corpus_dir() else { return };
    // the smaller stores: the reference decompresses each case into a 32 MiB buffer
    let originals = corpus_stores(&dir, 256 << 10);
    let (fast, reference) = scanners();
    let transforms: [(&str, Transform); 3] = [
        ("compressed", compressed),
        ("databoxes", with_databoxes),
        ("update", as_update),
    ];
    let boxes: Vec<_> = originals.iter().map(|(_, s)| box_starts(s)).collect();
    let mut rng = Rng(0x0DDB_1A5E_5BAD_5EED);
    let mut diffs = Vec::new();
    for (how, transform) in transforms {
        let (mut whole, mut whole_fast, mut cases, mut cases_fast) = (0, 0, 0, 0);
        for ((name, s), boxes) in originals.iter().zip(&boxes) {
            // the store itself, then mutations of it, each transformed
            for round in 0..=8 {
                let (what, m) = if round == 0 {
                    ("as it is", s.clone())
                } else {
                    mutate(s, boxes, &mut rng)
                };
                let Some(t) = transform(&m) else { continue };
                if round == 0 {
                    whole += 1;
                } else {
                    cases += 1;
                }
                if c2pa_fast::read(&t).is_err() {
                    continue;
                }
                if round == 0 {
                    whole_fast += 1;
                } else {
                    cases_fast += 1;
                }
                let a = shown(&fast.scan_bytes("store.c2pa", &t));
                let b = shown(&reference.scan_bytes("store.c2pa", &t));
                if a != b && diffs.len() < 10 {
                    diffs.push(format!(
                        "{name} {how}, {what}:\n  fast:      {a}\n  reference: {b}"
                    ));
                }
            }
        }
        eprintln!(
            "{how}: {whole_fast} of {whole} stores and {cases_fast} of {cases} mutated ones on the fast path"
        );
        assert!(
            whole >= 10 && whole_fast * 4 >= whole * 3 && cases_fast >= 30,
            "{how}: {whole_fast} of {whole}, {cases_fast} of {cases} on the fast path"
        );
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}
