//! `greenlight refs add`, `greenlight similar` and `greenlight scan --similar` as a user runs
//! them: the real binary on a real SQLite ledger, over real photographs (the corpus's, when
//! `../shared/corpus` is present; the test says so when it is not) and pictures the test
//! draws, each copy made here: re-encoded, cropped and flipped.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test: a failure panics with its message"
)]

use std::path::{Path, PathBuf};

use image::{DynamicImage, Rgb, RgbImage};
use serde_json::Value;

mod support;
use support::ledger::{Run, bare, finish, root};

/// A directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!(
            "greenlight-cli-similar-{tag}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Two distinct photographs of the corpus (a reference and an unrelated one), when it is here.
fn corpus_photographs() -> Option<(DynamicImage, DynamicImage)> {
    let dir = root().join("../shared/corpus/c2pa-rs");
    let open = |name: &str| image::open(dir.join(name)).ok();
    match (open("earth_apollo17.jpg"), open("P1000827.jpg")) {
        (Some(a), Some(b)) => Some((a, b)),
        _ => {
            eprintln!(
                "SKIPPED (in part): ../shared/corpus is absent; only the test's own pictures are checked"
            );
            None
        }
    }
}

/// A picture with structure at several scales, different for each `seed`: waves, discs and
/// bars in colour, nothing a flat or periodic image would hash alike.
fn drawn(seed: u32, w: u32, h: u32) -> DynamicImage {
    let s = seed as f32;
    let discs: Vec<(f32, f32, f32, [u8; 3])> = (0..9u32)
        .map(|k| {
            let k = k as f32;
            let x = ((k * 0.37 + s * 0.61).sin() * 0.5 + 0.5) * w as f32;
            let y = ((k * 0.73 + s * 1.37).cos() * 0.5 + 0.5) * h as f32;
            let r = 20.0 + 60.0 * ((k + s).sin() * 0.5 + 0.5);
            let c = [
                (k * 40.0 + s * 70.0) as u8,
                (255.0 - k * 25.0 - s * 30.0) as u8,
                (k * 90.0 + s * 20.0) as u8,
            ];
            (x, y, r, c)
        })
        .collect();
    DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32, y as f32);
        for (cx, cy, r, c) in &discs {
            if (fx - cx).powi(2) + (fy - cy).powi(2) < r * r {
                return Rgb(*c);
            }
        }
        let v = 128.0
            + 50.0 * (fx / (17.0 + 5.0 * s) + fy / 41.0).sin()
            + 40.0 * (fy / (23.0 + 3.0 * s) - fx / 97.0).cos()
            + if (x / (30 + seed * 7) + y / 50).is_multiple_of(2) {
                25.0
            } else {
                -25.0
            };
        let v = v.clamp(0.0, 255.0) as u8;
        Rgb([v, v.wrapping_add((s * 40.0) as u8) / 2 + 60, 255 - v])
    }))
}

/// A copy as an output would carry it: cropped (5% off the left, 3% off the top), flipped
/// left to right, and re-encoded as JPEG at quality 70.
fn copied(image: &DynamicImage) -> Vec<u8> {
    let (w, h) = (image.width(), image.height());
    let (x, y) = (w * 5 / 100, h * 3 / 100);
    let cropped = image.crop_imm(x, y, w - x, h - y).fliph();
    jpeg(&cropped, 70)
}

fn jpeg(image: &DynamicImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    image.to_rgb8().write_with_encoder(encoder).unwrap();
    out
}

fn png(image: &DynamicImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A ledger in `dir`, reached with `--db` and `--audit-key` as `ana`.
fn ledger(dir: &Path, args: &[&str]) -> Run {
    let db = dir.join("ledger.sqlite3");
    let key = dir.join("audit.key");
    let mut cmd = bare();
    cmd.arg("--db")
        .arg(&db)
        .arg("--audit-key")
        .arg(&key)
        .args(["--as", "ana"])
        .args(args);
    finish(cmd.output().unwrap())
}

fn by_name<'a>(lines: &'a [Value], name: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["path"].as_str().unwrap().ends_with(name))
        .unwrap_or_else(|| panic!("no line for {name}: {lines:#?}"))
}

#[test]
fn near_copies_are_found_by_similar_and_by_scan() {
    let dir = TempDir::new("e2e");
    let refs = dir.path().join("protected");
    let outs = dir.path().join("outputs");
    std::fs::create_dir_all(&refs).unwrap();
    std::fs::create_dir_all(&outs).unwrap();

    // References: a drawn picture (always) and a real photograph (with the corpus).
    let drawn_ref = drawn(1, 640, 480);
    std::fs::write(refs.join("drawn.png"), png(&drawn_ref)).unwrap();
    std::fs::write(outs.join("drawn-copy.jpg"), copied(&drawn_ref)).unwrap();
    std::fs::write(outs.join("drawn-other.png"), png(&drawn(2, 640, 480))).unwrap();
    let corpus = corpus_photographs();
    if let Some((photo, other)) = &corpus {
        std::fs::write(refs.join("photo.jpg"), jpeg(photo, 95)).unwrap();
        std::fs::write(outs.join("photo-copy.jpg"), copied(photo)).unwrap();
        std::fs::write(outs.join("photo-other.jpg"), jpeg(other, 90)).unwrap();
    }
    let flat = DynamicImage::ImageRgb8(RgbImage::from_pixel(320, 240, Rgb([90, 90, 90])));
    std::fs::write(outs.join("flat.png"), png(&flat)).unwrap();

    let added = ledger(
        dir.path(),
        &[
            "refs",
            "add",
            refs.to_str().unwrap(),
            "--label",
            "Franchise A",
        ],
    )
    .expect(0, "refs add");
    let n = if corpus.is_some() { 2 } else { 1 };
    assert!(
        added
            .stdout
            .contains(&format!("{n} references added to `Franchise A`")),
        "{}",
        added.stdout
    );

    // `similar`: every output, one JSON object each; a near-copy exits 3.
    let run = ledger(
        dir.path(),
        &["similar", outs.to_str().unwrap(), "--format", "json"],
    )
    .expect(3, "similar finds the near-copies");
    let lines = run.json_lines();
    let check_found = |line: &Value, reference: &str| {
        assert_eq!(line["status"], "near_copy", "{line:#}");
        let m = &line["matches"][0];
        assert_eq!(m["label"], "Franchise A");
        assert!(
            m["source_path"].as_str().unwrap().ends_with(reference),
            "{line:#}"
        );
        assert!(m["distance"].as_u64().unwrap() <= 31, "{line:#}");
        assert!(m["variant"].is_string() && m["orientation"].is_string());
        assert!(m["reference_quality"].as_u64().unwrap() >= 50);
        assert!(line["quality"].as_u64().unwrap() >= 50);
        assert_eq!(line["matches"].as_array().unwrap().len(), 1, "{line:#}");
    };
    check_found(by_name(&lines, "drawn-copy.jpg"), "drawn.png");
    let other = by_name(&lines, "drawn-other.png");
    assert_eq!(other["status"], "no_match", "{other:#}");
    let flat_line = by_name(&lines, "flat.png");
    assert_eq!(flat_line["status"], "low_quality", "{flat_line:#}");
    assert!(flat_line["quality"].as_u64().unwrap() < 50);
    assert!(flat_line["matches"].as_array().unwrap().is_empty());
    if corpus.is_some() {
        let copy = by_name(&lines, "photo-copy.jpg");
        check_found(copy, "photo.jpg");
        // Flipped left to right: found through a mirrored orientation.
        assert_ne!(copy["matches"][0]["orientation"], "original", "{copy:#}");
        let other = by_name(&lines, "photo-other.jpg");
        assert_eq!(other["status"], "no_match", "{other:#}");
    }

    // Text, as a person reads it.
    let text = ledger(dir.path(), &["similar", outs.to_str().unwrap()]).expect(3, "text");
    assert!(
        text.stdout.contains("drawn-copy.jpg: NEAR-COPY"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("flat.png: low-quality hash"),
        "{}",
        text.stdout
    );

    // `scan --similar`: the same findings under each file, and the scan's exit code.
    let scan = ledger(
        dir.path(),
        &[
            "scan",
            "--similar",
            "--format",
            "json",
            "--no-progress",
            outs.to_str().unwrap(),
        ],
    )
    .expect(0, "a scan that ran exits 0 with near-copies too");
    let lines = scan.json_lines();
    let found = |line: &Value, reference: &str| {
        let s = &line["similar"];
        assert_eq!(s["status"], "near_copy", "{line:#}");
        assert!(
            s["matches"][0]["source_path"]
                .as_str()
                .unwrap()
                .ends_with(reference),
            "{line:#}"
        );
        assert_eq!(s["matches"][0]["label"], "Franchise A");
        assert!(s["matches"][0]["distance"].as_u64().unwrap() <= 31);
    };
    found(by_name(&lines, "drawn-copy.jpg"), "drawn.png");
    assert_eq!(
        by_name(&lines, "drawn-other.png")["similar"]["status"],
        "no_match"
    );
    assert_eq!(
        by_name(&lines, "flat.png")["similar"]["status"],
        "low_quality"
    );
    if corpus.is_some() {
        found(by_name(&lines, "photo-copy.jpg"), "photo.jpg");
        assert_eq!(
            by_name(&lines, "photo-other.jpg")["similar"]["status"],
            "no_match"
        );
    }

    let scan = ledger(
        dir.path(),
        &["scan", "--similar", "--no-progress", outs.to_str().unwrap()],
    )
    .expect(0, "text scan");
    let out = &scan.stdout;
    let near = out
        .lines()
        .position(|l| l.contains("drawn-copy.jpg"))
        .unwrap_or_else(|| panic!("the near-copy is listed: {out}"));
    let below = out.lines().nth(near + 1).unwrap();
    assert!(
        below.contains("similar  NEAR-COPY of") && below.contains("drawn.png [Franchise A]"),
        "{out}"
    );
    assert!(
        out.contains("similar  low-quality hash"),
        "the flat image is listed as such: {out}"
    );
    assert!(
        !out.contains("drawn-other.png"),
        "an unrelated image is not listed without --all: {out}"
    );
    let near_copies = if corpus.is_some() { 2 } else { 1 };
    assert!(
        out.lines()
            .any(|l| l.trim_start().starts_with("near-copies")
                && l.trim_end().ends_with(&near_copies.to_string())),
        "{out}"
    );

    // A scan without --similar opens no ledger and says nothing of near-copies.
    let plain = ledger(
        dir.path(),
        &[
            "scan",
            "--format",
            "json",
            "--no-progress",
            outs.to_str().unwrap(),
        ],
    )
    .expect(0, "plain scan");
    assert!(
        plain
            .json_lines()
            .iter()
            .all(|l| l.get("similar").is_none())
    );

    // An unreadable image is named, with exit 1; the others are still checked.
    std::fs::write(outs.join("broken.png"), b"\x89PNG\r\n\x1a\nnot really").unwrap();
    let run = ledger(
        dir.path(),
        &["similar", outs.to_str().unwrap(), "--format", "json"],
    )
    .expect(1, "an unreadable image");
    let lines = run.json_lines();
    let broken = by_name(&lines, "broken.png");
    assert_eq!(broken["status"], "error", "{broken:#}");
    assert!(!broken["error"].as_str().unwrap().is_empty());
    assert_eq!(by_name(&lines, "drawn-copy.jpg")["status"], "near_copy");
    let text = ledger(dir.path(), &["similar", outs.to_str().unwrap()]).expect(1, "text");
    assert!(
        text.stdout
            .lines()
            .any(|l| l.contains("broken.png: error:")),
        "{}",
        text.stdout
    );
    let missing = dir.path().join("nowhere.png");
    let run = ledger(dir.path(), &["similar", missing.to_str().unwrap()]).expect(1, "missing");
    assert!(run.stdout.contains("nowhere.png: error"), "{}", run.stdout);

    // The scan names it too, under the file, with its own exit code unchanged.
    let scan = ledger(
        dir.path(),
        &[
            "scan",
            "--similar",
            "--format",
            "json",
            "--no-progress",
            outs.to_str().unwrap(),
        ],
    )
    .expect(0, "scan with an unreadable image");
    let lines = scan.json_lines();
    assert_eq!(
        by_name(&lines, "broken.png")["similar"]["status"],
        "error",
        "{lines:#?}"
    );
}

#[test]
fn scan_similar_needs_the_local_ledger() {
    let r = finish(
        bare()
            .args([
                "scan",
                "--similar",
                "--production",
                "P",
                "--server",
                "http://127.0.0.1:9",
                "--token",
                "glt_x",
                ".",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("--similar") && r.stderr.contains("cannot be used with"),
        "{}",
        r.stderr
    );
}
