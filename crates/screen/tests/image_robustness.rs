//! Recall and precision of the near-copy check on real photographs, per
//! transform, at the match distance.
//!
//! The photographs are the corpus's (`../shared/corpus/c2pa-rs`, files made
//! by others; never copied into the repository); the test says so and skips
//! when it is absent. Files that are copies of one photograph (the corpus
//! signs one picture many ways) are kept once. Each photograph becomes a
//! reference; each transform of each photograph is a query; a query's hit on
//! its own photograph is a true positive, any other hit a false positive.
//!
//! The transforms are the test's own (the `image` crate's resize, blur,
//! flips and turns, JPEG at quality 50; crops and rotations written here
//! on full-size RGB), so they share no code with the variants indexed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::type_complexity,
    reason = "a test: a failure panics with its message"
)]

use std::path::PathBuf;

use greenlight_screen::image::{
    MATCH_DISTANCE, ReferenceIndex, decode, hash_query, hash_reference, pdq,
};
use image::{DynamicImage, RgbImage};

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/c2pa-rs");
    dir.is_dir().then_some(dir)
}

/// The corpus's distinct photographs: decodable, PDQ quality high enough to
/// match, and not within twice the match distance of a variant of one
/// already kept (the corpus holds one picture signed many ways, and the same
/// picture in lossy and lossless WebP).
fn photographs(dir: &PathBuf) -> Vec<(String, DynamicImage)> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| r.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    names.sort();
    let mut kept: Vec<(String, DynamicImage)> = Vec::new();
    let mut seen = ReferenceIndex::new();
    for path in names {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let Ok(image) = decode::decode(&bytes) else {
            continue;
        };
        if image.width() < 128 || image.height() < 128 {
            continue;
        }
        let luma = decode::luma(&image);
        let query = hash_query(&luma);
        let again = hash_query(&decode::luma(&jpeg(&image, 50)));
        if !query.is_usable()
            || !seen.nearest(&query, 2 * MATCH_DISTANCE).is_empty()
            || !seen.nearest(&again, 2 * MATCH_DISTANCE).is_empty()
        {
            continue;
        }
        seen.add((), &hash_reference(&luma));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        kept.push((name, image));
    }
    kept
}

fn jpeg(image: &DynamicImage, quality: u8) -> DynamicImage {
    let mut out = Vec::new();
    let rgb = image.to_rgb8();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    rgb.write_with_encoder(encoder)
        .unwrap_or_else(|e| panic!("encode: {e}"));
    decode::decode(&out).unwrap_or_else(|e| panic!("decode: {e}"))
}

/// Cuts `fraction` of each dimension, split between the sides as `anchor`
/// says (0.0: all from the right/bottom, 0.5: centred, 1.0: all from the left/top).
fn crop(image: &DynamicImage, fraction: f32, anchor_x: f32, anchor_y: f32) -> DynamicImage {
    let (w, h) = (image.width() as f32, image.height() as f32);
    let (cw, ch) = (w * (1.0 - fraction), h * (1.0 - fraction));
    let x = ((w - cw) * anchor_x).round() as u32;
    let y = ((h - ch) * anchor_y).round() as u32;
    image.crop_imm(x, y, cw.round() as u32, ch.round() as u32)
}

/// Turns by `degrees` (bilinear) and keeps the largest centred rectangle of
/// the same shape with no corner showing, as an editor's straighten does.
fn rotate(image: &DynamicImage, degrees: f32) -> DynamicImage {
    let src = image.to_rgb8();
    let (w, h) = (src.width() as f32, src.height() as f32);
    let t = degrees.to_radians();
    let (s, c) = (t.sin().abs(), t.cos().abs());
    let k = (w / (w * c + h * s)).min(h / (w * s + h * c)) * 0.995;
    let (ow, oh) = ((w * k) as u32, (h * k) as u32);
    let (sin, cos) = t.sin_cos();
    let pixel = |x: f32, y: f32, ch: usize| -> f32 {
        let x = x.clamp(0.0, w - 1.0);
        let y = y.clamp(0.0, h - 1.0);
        let (x0, y0) = (x.floor() as u32, y.floor() as u32);
        let (x1, y1) = (
            (x0 + 1).min(src.width() - 1),
            (y0 + 1).min(src.height() - 1),
        );
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let p = |x, y| f32::from(src.get_pixel(x, y).0[ch]);
        (p(x0, y0) * (1.0 - fx) + p(x1, y0) * fx) * (1.0 - fy)
            + (p(x0, y1) * (1.0 - fx) + p(x1, y1) * fx) * fy
    };
    let out = RgbImage::from_fn(ow, oh, |x, y| {
        let dx = x as f32 - ow as f32 / 2.0;
        let dy = y as f32 - oh as f32 / 2.0;
        let sx = w / 2.0 + dx * cos + dy * sin;
        let sy = h / 2.0 - dx * sin + dy * cos;
        image::Rgb([0, 1, 2].map(|ch| pixel(sx, sy, ch).round().clamp(0.0, 255.0) as u8))
    });
    DynamicImage::ImageRgb8(out)
}

type Transform = (
    &'static str,
    Box<dyn Fn(&DynamicImage) -> Vec<DynamicImage>>,
);

fn transforms() -> Vec<Transform> {
    let crops = |f: f32| -> Box<dyn Fn(&DynamicImage) -> Vec<DynamicImage>> {
        Box::new(move |i: &DynamicImage| {
            [(0.5, 0.5), (0.0, 0.0), (1.0, 0.5)]
                .iter()
                .map(|(ax, ay)| crop(i, f, *ax, *ay))
                .collect()
        })
    };
    let turns = |d: f32| -> Box<dyn Fn(&DynamicImage) -> Vec<DynamicImage>> {
        Box::new(move |i: &DynamicImage| vec![jpeg(&rotate(i, d), 90), jpeg(&rotate(i, -d), 90)])
    };
    vec![
        ("jpeg q50", Box::new(|i: &DynamicImage| vec![jpeg(i, 50)])),
        (
            "resize 50%",
            Box::new(|i: &DynamicImage| {
                vec![i.resize_exact(
                    i.width() / 2,
                    i.height() / 2,
                    image::imageops::FilterType::Triangle,
                )]
            }),
        ),
        ("blur", Box::new(|i: &DynamicImage| vec![i.blur(2.0)])),
        (
            "flips",
            Box::new(|i: &DynamicImage| vec![i.fliph(), i.flipv()]),
        ),
        (
            "90° turns",
            Box::new(|i: &DynamicImage| vec![i.rotate90(), i.rotate180(), i.rotate270()]),
        ),
        ("crop 5%", crops(0.05)),
        ("crop 10%", crops(0.10)),
        ("crop 3%", crops(0.03)),
        ("crop 7%", crops(0.07)),
        ("rotate 2°", turns(2.0)),
        ("rotate 4°", turns(4.0)),
        ("rotate 6°", turns(6.0)),
        ("rotate 3.5°", turns(3.5)),
    ]
}

#[test]
fn recall_and_precision_per_transform_on_real_photographs() {
    let Some(dir) = corpus() else {
        eprintln!(
            "SKIPPED: ../shared/corpus is absent; the near-copy recall test needs real photographs"
        );
        return;
    };
    let photos = photographs(&dir);
    eprintln!(
        "{} distinct photographs from {}",
        photos.len(),
        dir.display()
    );
    assert!(
        photos.len() >= 5,
        "the corpus should hold at least five distinct photographs"
    );

    let mut index = ReferenceIndex::new();
    for (number, (_, image)) in photos.iter().enumerate() {
        index.add(number, &hash_reference(&decode::luma(image)));
    }
    index.build();
    let plain: Vec<pdq::Hash256> = photos
        .iter()
        .map(|(_, i)| pdq::hash(&decode::luma(i)).hash)
        .collect();

    let mut failures = Vec::new();
    for (name, transform) in transforms() {
        let (mut queries, mut found, mut plain_found, mut false_hits) = (0u32, 0u32, 0u32, 0u32);
        for (number, ((file, image), plain)) in photos.iter().zip(&plain).enumerate() {
            for output in transform(image) {
                queries += 1;
                let query = hash_query(&decode::luma(&output));
                let hits = index.nearest(&query, MATCH_DISTANCE);
                assert_eq!(hits, index.nearest_by_scan(&query, MATCH_DISTANCE));
                if hits.iter().any(|m| *m.reference == number) {
                    found += 1;
                } else {
                    let own = index
                        .nearest(&query, 256)
                        .into_iter()
                        .find(|m| *m.reference == number)
                        .map_or_else(String::new, |m| {
                            format!(" (nearest: {} at {})", m.variant, m.distance)
                        });
                    eprintln!("  {name}: {file} missed{own}");
                }
                for m in hits.iter().filter(|m| *m.reference != number) {
                    false_hits += 1;
                    let other = photos
                        .get(*m.reference)
                        .map(|p| p.0.as_str())
                        .unwrap_or("?");
                    eprintln!(
                        "  {name}: {file} matched {other} ({} at {})",
                        m.variant, m.distance
                    );
                }
                // Plain PDQ: the reference's own hash against the output's, as it is.
                if pdq::hash(&decode::luma(&output)).hash.distance(plain) <= MATCH_DISTANCE {
                    plain_found += 1;
                }
            }
        }
        let recall = f64::from(found) / f64::from(queries);
        let precision = f64::from(found) / f64::from((found + false_hits).max(1));
        eprintln!(
            "{name:>10}: recall {:.1}% (plain PDQ {:.1}%), precision {:.2}% over {queries} queries",
            100.0 * recall,
            100.0 * f64::from(plain_found) / f64::from(queries),
            100.0 * precision
        );
        if false_hits > 0 {
            failures.push(format!("{name}: {false_hits} hits on other photographs"));
        }
        // Floors just under what this index reaches on the corpus (measured: crops 3% 93.8%,
        // 5% 95.8%, 7% 93.8%, 10% 93.8%; rotations 2° 96.9%, 3.5° 90.6%, 4° 93.8%, 6°
        // 87.5%). The aim is 90% for crops up to 10% and rotations up to 6°: rotations of 6°
        // are still short of it.
        let floor = match name {
            "crop 3%" | "crop 5%" | "crop 7%" | "crop 10%" => 0.9,
            "rotate 2°" => 0.95,
            "rotate 4°" | "rotate 3.5°" => 0.9,
            "rotate 6°" => 0.85,
            _ => 1.0,
        };
        if recall < floor {
            failures.push(format!("{name}: recall {recall:.3} below {floor}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn flat_images_are_low_quality_and_never_match() {
    let flat = DynamicImage::ImageRgb8(RgbImage::from_pixel(640, 480, image::Rgb([90, 90, 90])));
    let luma = decode::luma(&flat);
    let hashes = hash_reference(&luma);
    assert!(hashes.iter().all(|h| !h.pdq.is_usable()));
    let mut index = ReferenceIndex::new();
    index.add("flat", &hashes);
    index.build();
    assert_eq!(index.hashes(), 0);
    assert!(index.low_quality() > 0);
    let query = hash_query(&luma);
    assert!(!query.is_usable());
    assert!(index.nearest(&query, 256).is_empty());
}
