//! Near-copies of protected reference images.
//!
//! A reference is hashed with PDQ ([`pdq`]) as it is and as a grid of crops and
//! rotations of it ([`variants`]), each after its uniform borders are
//! trimmed. An output is hashed once, in all eight flips and rotations from
//! one DCT, and looked up in a [`ReferenceIndex`]: every reference with a
//! variant within the match distance of any of the eight, nearest first,
//! with the distance and both qualities. A hash below [`pdq::MIN_QUALITY`]
//! (a flat or nearly flat image) is reported as low-quality and never
//! matched: a blank frame must not "match" a blank reference.
//!
//! Nothing here reads files: callers hand in bytes ([`decode`]) or luma.
//!
//! ```
//! use greenlight_screen::image::{pdq::Luma, ReferenceIndex, hash_query, hash_reference};
//! let data = (0..256 * 192).map(|k| ((k % 256) ^ (k / 256)) as f32).collect();
//! let picture = Luma::new(256, 192, data).unwrap();
//! let mut index = ReferenceIndex::new();
//! index.add("poster.png", &hash_reference(&picture));
//! index.build();
//! let found = index.nearest(&hash_query(&picture), 31);
//! assert_eq!(found[0].reference, &"poster.png");
//! assert_eq!(found[0].distance, 0);
//! ```

pub mod decode;
pub mod index;
pub mod pdq;
pub mod variants;

use serde::Serialize;

pub use index::{HashIndex, Hit};
pub use pdq::{Dihedral, Hash256, Luma, MIN_QUALITY, PdqHash};
pub use variants::Variant;

/// The default match distance (bits of 256). PDQ's authors match at 31; at
/// this distance unrelated photographs stay far apart (the benchmark measures
/// the precision) while re-encodes, resizes, blur and the indexed crops and
/// rotations land within it.
pub const MATCH_DISTANCE: u32 = 31;

fn variant_list() -> &'static [Variant] {
    static LIST: std::sync::OnceLock<Vec<Variant>> = std::sync::OnceLock::new();
    LIST.get_or_init(Variant::all)
}

/// One hash of a reference: which variant it was cut from, and the hash.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VariantHash {
    /// The variant's name ([`Variant::name`]).
    pub variant: String,
    /// Its hash and quality.
    pub pdq: PdqHash,
}

/// Hashes a reference image, shrunk to at most [`variants::VARIANT_SIDE`]
/// pixels: the original (borders trimmed; and untrimmed, when trimming
/// changed it) and every [`Variant`], duplicates dropped.
pub fn hash_reference(image: &Luma) -> Vec<VariantHash> {
    let image = &variants::shrink(image, variants::VARIANT_SIDE);
    let trimmed = variants::trim_borders(image);
    let mut out = vec![VariantHash {
        variant: Variant::Original.name(),
        pdq: pdq::hash(&trimmed),
    }];
    if trimmed != *image {
        // Borders that an output blurs or recolours no longer trim alike:
        // keep the untrimmed image's hash too.
        let pdq = pdq::hash(image);
        if out.iter().all(|v| v.pdq.hash != pdq.hash) {
            out.push(VariantHash {
                variant: "untrimmed".to_owned(),
                pdq,
            });
        }
    }
    // The eight orientations, turned pixel by pixel: PDQ's one-DCT dihedral
    // hashes of the output differ from these by a few bits, which matters
    // for outputs already near the match distance.
    for turn in Dihedral::ALL.iter().skip(1) {
        let pdq = pdq::hash(&trimmed.transformed(*turn));
        if out.iter().all(|v| v.pdq.hash != pdq.hash) {
            out.push(VariantHash {
                variant: turn.as_str().to_owned(),
                pdq,
            });
        }
    }
    // Each variant is cut from the trimmed image and, when trimming changed it, from the
    // untrimmed one too, then trimmed as a query is: an output rotated or cropped with its
    // frame keeps a frame that no longer trims to the same rectangle.
    let untrimmed = (trimmed != *image).then_some(image);
    for variant in variant_list() {
        if *variant == Variant::Original {
            continue;
        }
        let bases = std::iter::once((&trimmed, "")).chain(untrimmed.map(|u| (u, "untrimmed+")));
        for (base, prefix) in bases {
            let pdq = pdq::hash(&variants::trim_borders(&variant.apply(base)));
            if out.iter().all(|v| v.pdq.hash != pdq.hash) {
                out.push(VariantHash {
                    variant: format!("{prefix}{}", variant.name()),
                    pdq,
                });
            }
        }
    }
    out
}

/// An output's hashes: one per flip and rotation, in [`Dihedral::ALL`] order,
/// and the quality they share; then, when trimming its borders changed it,
/// eight more of the untrimmed image.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueryHashes {
    /// The quality (0..=100) of the trimmed image.
    pub quality: u8,
    /// The hashes, [`Dihedral::Original`] first: 8 or 16.
    pub hashes: Vec<Hash256>,
}

impl QueryHashes {
    /// Whether the hash is good enough to match on.
    pub fn is_usable(&self) -> bool {
        self.quality >= MIN_QUALITY
    }

    /// The hash as the image is (borders trimmed).
    pub fn original(&self) -> Hash256 {
        self.hashes.first().copied().unwrap_or_default()
    }

    /// How the `k`th hash is turned or flipped.
    fn orientation(k: usize) -> Dihedral {
        Dihedral::ALL
            .get(k % 8)
            .copied()
            .unwrap_or(Dihedral::Original)
    }
}

/// Hashes an output to look it up: borders trimmed, all eight orientations
/// (and the untrimmed image's eight when trimming changed it).
pub fn hash_query(image: &Luma) -> QueryHashes {
    let image = &variants::shrink(image, variants::VARIANT_SIDE);
    let trimmed = variants::trim_borders(image);
    let all = pdq::dihedral(&trimmed);
    let mut hashes: Vec<Hash256> = all.iter().map(|h| h.hash).collect();
    if trimmed != *image {
        hashes.extend(pdq::dihedral(image).iter().map(|h| h.hash));
    }
    QueryHashes {
        quality: all[0].quality,
        hashes,
    }
}

/// One reference found near a query.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Match<'a, T> {
    /// The reference, as the caller added it.
    pub reference: &'a T,
    /// The variant of it that came nearest.
    pub variant: &'a str,
    /// Bits apart (of 256).
    pub distance: u32,
    /// The quality of the reference's hash.
    pub quality: u8,
    /// How the output is turned or flipped relative to the reference.
    pub orientation: Dihedral,
}

#[derive(Clone, Debug)]
struct Entry {
    reference: u32,
    variant: String,
    quality: u8,
}

/// References and their variant hashes, searchable by distance.
#[derive(Clone, Debug)]
pub struct ReferenceIndex<T> {
    references: Vec<T>,
    entries: Vec<Entry>,
    hashes: HashIndex,
    low_quality: usize,
}

impl<T> Default for ReferenceIndex<T> {
    fn default() -> Self {
        ReferenceIndex {
            references: Vec::new(),
            entries: Vec::new(),
            hashes: HashIndex::new(),
            low_quality: 0,
        }
    }
}

impl<T> ReferenceIndex<T> {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a reference with its hashes; those below [`MIN_QUALITY`] are
    /// left out (counted in [`ReferenceIndex::low_quality`]).
    pub fn add(&mut self, reference: T, hashes: &[VariantHash]) {
        let Ok(number) = u32::try_from(self.references.len()) else {
            return;
        };
        self.references.push(reference);
        for h in hashes {
            if !h.pdq.is_usable() {
                self.low_quality += 1;
                continue;
            }
            if self.hashes.push(h.pdq.hash).is_some() {
                self.entries.push(Entry {
                    reference: number,
                    variant: h.variant.clone(),
                    quality: h.pdq.quality,
                });
            }
        }
    }

    /// Builds the lookup tables; call once after adding.
    pub fn build(&mut self) {
        self.hashes.build();
    }

    /// References added.
    pub fn references(&self) -> usize {
        self.references.len()
    }

    /// Hashes indexed.
    pub fn hashes(&self) -> usize {
        self.hashes.len()
    }

    /// Hashes left out for low quality.
    pub fn low_quality(&self) -> usize {
        self.low_quality
    }

    /// Every reference within `max_distance` of the query in any
    /// orientation, nearest first, each once (its nearest variant). A
    /// low-quality query matches nothing.
    pub fn nearest(&self, query: &QueryHashes, max_distance: u32) -> Vec<Match<'_, T>> {
        self.collect(query, self.hashes.search(&query.hashes, max_distance))
    }

    /// The same answer by linear scan: the oracle for [`ReferenceIndex::nearest`].
    pub fn nearest_by_scan(&self, query: &QueryHashes, max_distance: u32) -> Vec<Match<'_, T>> {
        self.collect(query, self.hashes.scan(&query.hashes, max_distance))
    }

    fn collect(&self, query: &QueryHashes, hits: Vec<Hit>) -> Vec<Match<'_, T>> {
        if !query.is_usable() {
            return Vec::new();
        }
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for hit in hits {
            let (Some(entry), Some(hash)) = (
                self.entries.get(hit.entry as usize),
                self.hashes.hash(hit.entry),
            ) else {
                continue;
            };
            if !seen.insert(entry.reference) {
                continue;
            }
            let Some(reference) = self.references.get(entry.reference as usize) else {
                continue;
            };
            let orientation = query
                .hashes
                .iter()
                .enumerate()
                .min_by_key(|(_, q)| q.distance(&hash))
                .map_or(Dihedral::Original, |(k, _)| QueryHashes::orientation(k));
            out.push(Match {
                reference,
                variant: &entry.variant,
                distance: hit.distance,
                quality: entry.quality,
                orientation,
            });
        }
        out
    }
}
