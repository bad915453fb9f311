//! PDQ, the perceptual image hash Meta published for sharing hashes of known
//! images between platforms, implemented from its published description
//! ("The TMK+PDQF Video-Hashing Algorithm and the PDQ Image Similarity
//! Algorithm", Meta, 2019, `hashing/hashing.pdf` in github.com/facebook/ThreatExchange).
//!
//! The algorithm, step by step:
//! 1. Luminance `Y = 0.299 R + 0.587 G + 0.114 B` at the image's full size.
//! 2. A tent filter made of two X-then-Y passes of one-dimensional box filters
//!    (Jarosz, "Fast Image Convolutions", SIGGRAPH 2001), each window
//!    `ceil(dimension / 128)` pixels.
//! 3. Decimation to 64 × 64 by sampling the centre of each cell.
//! 4. A quality from 0 to 100: the sum of the quantised gradients between
//!    neighbouring cells, over 90, capped at 100. Flat images score near 0.
//! 5. A two-dimensional DCT-II, keeping coefficients 1..=16 in each axis (the
//!    DC term dropped): a 16 × 16 block.
//! 6. Bit `16 i + j` is set when coefficient `(i, j)` is above the block's
//!    median (the 128th smallest of the 256).
//!
//! Flipping an axis of the input multiplies the odd-order basis functions by
//! −1 and a turn by 90° transposes the block, so the hashes of all eight
//! flips and rotations (the dihedral group) come from the one DCT
//! ([`dihedral`]).

use std::fmt;
use std::str::FromStr;

/// Below this quality a hash says little about its image: PDQ's authors
/// advise against matching on it. Such hashes are reported, never matched.
pub const MIN_QUALITY: u8 = 50;

/// A 256-bit PDQ hash. Bit `k` is bit `k % 64` of word `k / 64`; the hex
/// form is the reference implementation's (most significant word first).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash256(pub [u64; 4]);

impl Hash256 {
    /// The number of bits in which the two hashes differ (0..=256).
    #[inline]
    pub fn distance(&self, other: &Hash256) -> u32 {
        let [a0, a1, a2, a3] = self.0;
        let [b0, b1, b2, b3] = other.0;
        (a0 ^ b0).count_ones()
            + (a1 ^ b1).count_ones()
            + (a2 ^ b2).count_ones()
            + (a3 ^ b3).count_ones()
    }

    /// The 16-bit substring `i` (bits `16 i .. 16 i + 16`), for `i` in `0..16`.
    /// Out-of-range `i` reads as 0.
    #[inline]
    pub fn chunk(&self, i: usize) -> u16 {
        match self.0.get(i / 4) {
            Some(word) => (word >> ((i % 4) * 16)) as u16,
            None => 0,
        }
    }

    /// The number of bits set.
    pub fn ones(&self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }

    fn set_bit(&mut self, k: usize) {
        if let Some(word) = self.0.get_mut(k / 64) {
            *word |= 1u64 << (k % 64);
        }
    }
}

impl fmt::Display for Hash256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for word in self.0.iter().rev() {
            write!(f, "{word:016x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Hash256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash256({self})")
    }
}

/// A PDQ hash written wrongly.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a PDQ hash is 64 hex digits, not `{0}`")]
pub struct BadHash(String);

impl FromStr for Hash256 {
    type Err = BadHash;

    fn from_str(text: &str) -> Result<Self, BadHash> {
        let bad = || BadHash(text.chars().take(80).collect());
        if text.len() != 64 || !text.is_ascii() {
            return Err(bad());
        }
        let mut words = [0u64; 4];
        for (n, word) in words.iter_mut().rev().enumerate() {
            let digits = text.get(n * 16..n * 16 + 16).ok_or_else(bad)?;
            *word = u64::from_str_radix(digits, 16).map_err(|_| bad())?;
        }
        Ok(Hash256(words))
    }
}

impl serde::Serialize for Hash256 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Hash256 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A hash and its quality (0..=100).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PdqHash {
    /// The hash.
    pub hash: Hash256,
    /// How much the image had to say: below [`MIN_QUALITY`] it is not matched.
    pub quality: u8,
}

impl PdqHash {
    /// Whether the hash is good enough to match on.
    pub fn is_usable(&self) -> bool {
        self.quality >= MIN_QUALITY
    }
}

/// The eight flips and rotations of an image, in the reference
/// implementation's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dihedral {
    /// As it is.
    Original,
    /// Turned a quarter (the reference's `rotate-90`: the input's top-right
    /// corner comes to the top left).
    Rotate90,
    /// Turned 180°.
    Rotate180,
    /// Turned three quarters (the input's bottom-left corner comes to the top left).
    Rotate270,
    /// Mirrored top to bottom (the reference's `flipx`).
    FlipX,
    /// Mirrored left to right (the reference's `flipy`).
    FlipY,
    /// Mirrored across the main diagonal (transposed).
    FlipPlus1,
    /// Mirrored across the anti-diagonal.
    FlipMinus1,
}

impl Dihedral {
    /// All eight, [`Dihedral::Original`] first.
    pub const ALL: [Dihedral; 8] = [
        Dihedral::Original,
        Dihedral::Rotate90,
        Dihedral::Rotate180,
        Dihedral::Rotate270,
        Dihedral::FlipX,
        Dihedral::FlipY,
        Dihedral::FlipPlus1,
        Dihedral::FlipMinus1,
    ];

    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Dihedral::Original => "original",
            Dihedral::Rotate90 => "rotate_90",
            Dihedral::Rotate180 => "rotate_180",
            Dihedral::Rotate270 => "rotate_270",
            Dihedral::FlipX => "flip_x",
            Dihedral::FlipY => "flip_y",
            Dihedral::FlipPlus1 => "flip_plus_1",
            Dihedral::FlipMinus1 => "flip_minus_1",
        }
    }

    /// Whether the transform transposes the block, and the sign it gives
    /// coefficient `(i, j)` (rows `i`, columns `j`, both from 0 for
    /// frequency 1).
    fn action(self, i: usize, j: usize) -> (bool, f32) {
        let odd = |n: usize| n % 2 == 1;
        let sign = |negate: bool| if negate { -1.0 } else { 1.0 };
        match self {
            Dihedral::Original => (false, 1.0),
            Dihedral::Rotate90 => (true, sign(!odd(j))),
            Dihedral::Rotate180 => (false, sign(odd(i + j))),
            Dihedral::Rotate270 => (true, sign(!odd(i))),
            Dihedral::FlipX => (false, sign(!odd(i))),
            Dihedral::FlipY => (false, sign(!odd(j))),
            Dihedral::FlipPlus1 => (true, 1.0),
            Dihedral::FlipMinus1 => (true, sign(odd(i + j))),
        }
    }
}

impl Luma {
    /// The image flipped or turned as `transform` says, pixel by pixel.
    pub fn transformed(&self, transform: Dihedral) -> Luma {
        let (w, h) = (self.width, self.height);
        let transposed = matches!(
            transform,
            Dihedral::Rotate90 | Dihedral::Rotate270 | Dihedral::FlipPlus1 | Dihedral::FlipMinus1
        );
        let (out_w, out_h) = if transposed { (h, w) } else { (w, h) };
        let mut data = Vec::with_capacity(w * h);
        for y in 0..out_h {
            for x in 0..out_w {
                let (sx, sy) = match transform {
                    Dihedral::Original => (x, y),
                    Dihedral::Rotate90 => (w - 1 - y, x),
                    Dihedral::Rotate180 => (w - 1 - x, h - 1 - y),
                    Dihedral::Rotate270 => (y, h - 1 - x),
                    Dihedral::FlipX => (x, h - 1 - y),
                    Dihedral::FlipY => (w - 1 - x, y),
                    Dihedral::FlipPlus1 => (y, x),
                    Dihedral::FlipMinus1 => (w - 1 - y, h - 1 - x),
                };
                data.push(self.get(sx, sy));
            }
        }
        Luma {
            width: out_w,
            height: out_h,
            data,
        }
    }
}

/// A single-channel image of luminance values (0.0..=255.0), row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Luma {
    width: usize,
    height: usize,
    data: Vec<f32>,
}

impl Luma {
    /// A luma image from its rows; `None` when `data` is not `width × height`
    /// values or the image is empty.
    pub fn new(width: usize, height: usize, data: Vec<f32>) -> Option<Luma> {
        (width > 0 && height > 0 && width.checked_mul(height) == Some(data.len())).then_some(Luma {
            width,
            height,
            data,
        })
    }

    /// Luminance from packed 8-bit RGB, with PDQ's coefficients.
    pub fn from_rgb8(width: usize, height: usize, rgb: &[u8]) -> Option<Luma> {
        let data = rgb
            .chunks_exact(3)
            .map(|p| match p {
                [r, g, b] => 0.299 * f32::from(*r) + 0.587 * f32::from(*g) + 0.114 * f32::from(*b),
                _ => 0.0,
            })
            .collect();
        Luma::new(width, height, data)
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// The values, row-major.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// The value at `(x, y)`, 0 outside.
    pub fn get(&self, x: usize, y: usize) -> f32 {
        if x >= self.width {
            return 0.0;
        }
        self.data.get(y * self.width + x).copied().unwrap_or(0.0)
    }

    /// One row, empty outside.
    pub fn row(&self, y: usize) -> &[f32] {
        self.data
            .get(y * self.width..(y + 1) * self.width)
            .unwrap_or(&[])
    }
}

/// The 16 × 16 DCT block of an image, before thresholding, and its quality.
#[derive(Clone, Debug)]
pub struct Spectrum {
    block: [[f32; 16]; 16],
    quality: u8,
}

impl Spectrum {
    /// The quality (0..=100).
    pub fn quality(&self) -> u8 {
        self.quality
    }

    /// The hash of the image as transformed by `transform`.
    pub fn hash(&self, transform: Dihedral) -> PdqHash {
        let mut block = [[0f32; 16]; 16];
        for (i, row) in self.block.iter().enumerate() {
            for (j, value) in row.iter().enumerate() {
                let (transpose, sign) = transform.action(i, j);
                let (r, c) = if transpose { (j, i) } else { (i, j) };
                if let Some(slot) = block.get_mut(r).and_then(|row| row.get_mut(c)) {
                    *slot = sign * value;
                }
            }
        }
        PdqHash {
            hash: threshold(&block),
            quality: self.quality,
        }
    }
}

/// The PDQ hash of an image and its quality.
pub fn hash(luma: &Luma) -> PdqHash {
    spectrum(luma).hash(Dihedral::Original)
}

/// The hashes of all eight flips and rotations of an image, in
/// [`Dihedral::ALL`] order, from one DCT.
pub fn dihedral(luma: &Luma) -> [PdqHash; 8] {
    let spectrum = spectrum(luma);
    Dihedral::ALL.map(|d| spectrum.hash(d))
}

/// Steps 2 to 5: filter, decimate, measure quality, transform.
pub fn spectrum(luma: &Luma) -> Spectrum {
    let mut buffer = luma.data.clone();
    let mut scratch = vec![0f32; buffer.len()];
    let (w, h) = (luma.width, luma.height);
    let window_x = w.div_ceil(128).max(1);
    let window_y = h.div_ceil(128).max(1);
    for _ in 0..2 {
        for (src, dst) in buffer.chunks_exact(w).zip(scratch.chunks_exact_mut(w)) {
            box_row(src, dst, window_x);
        }
        box_columns(&scratch, &mut buffer, w, h, window_y);
    }
    let mut cells = [[0f32; 64]; 64];
    for (i, row) in cells.iter_mut().enumerate() {
        let y = sample_index(i, h);
        for (j, cell) in row.iter_mut().enumerate() {
            let x = sample_index(j, w);
            *cell = buffer.get(y * w + x).copied().unwrap_or(0.0);
        }
    }
    Spectrum {
        quality: quality(&cells),
        block: dct16(&cells),
    }
}

/// The centre of cell `i` of 64 along a dimension of `n` pixels.
fn sample_index(i: usize, n: usize) -> usize {
    let at = ((i as f64 + 0.5) * n as f64 / 64.0) as usize;
    at.min(n.saturating_sub(1))
}

/// A box filter of `window` values along one row: the reference's four
/// phases (grow, slide, shrink), each output the mean of the values in its
/// window, which is centred and clipped at the ends.
fn box_row(src: &[f32], dst: &mut [f32], window: usize) {
    let n = src.len().min(dst.len());
    let window = window.clamp(1, n.max(1));
    let half = (window + 2) / 2;
    let mut sum = 0f32;
    let mut count = 0f32;
    let mut right = 0usize;
    let mut left = 0usize;
    let mut out = 0usize;
    let add = |right: &mut usize, sum: &mut f32| {
        *sum += src.get(*right).copied().unwrap_or(0.0);
        *right += 1;
    };
    for _ in 0..half - 1 {
        add(&mut right, &mut sum);
        count += 1.0;
    }
    for _ in 0..window + 1 - half {
        add(&mut right, &mut sum);
        count += 1.0;
        if let Some(slot) = dst.get_mut(out) {
            *slot = sum / count;
        }
        out += 1;
    }
    for _ in 0..n - window {
        add(&mut right, &mut sum);
        sum -= src.get(left).copied().unwrap_or(0.0);
        left += 1;
        if let Some(slot) = dst.get_mut(out) {
            *slot = sum / count;
        }
        out += 1;
    }
    for _ in 0..half - 1 {
        sum -= src.get(left).copied().unwrap_or(0.0);
        left += 1;
        count -= 1.0;
        if let Some(slot) = dst.get_mut(out) {
            *slot = sum / count;
        }
        out += 1;
    }
}

/// The same filter down every column at once, a row at a time (so it reads
/// memory in order).
fn box_columns(src: &[f32], dst: &mut [f32], w: usize, h: usize, window: usize) {
    let window = window.clamp(1, h.max(1));
    let half = (window + 2) / 2;
    let mut sum = vec![0f32; w];
    let mut count = 0f32;
    let rows = |y: usize| src.get(y * w..(y + 1) * w).unwrap_or(&[]);
    let add = |sum: &mut [f32], row: &[f32]| {
        for (s, v) in sum.iter_mut().zip(row) {
            *s += v;
        }
    };
    let sub = |sum: &mut [f32], row: &[f32]| {
        for (s, v) in sum.iter_mut().zip(row) {
            *s -= v;
        }
    };
    let mut write = |y: usize, sum: &[f32], count: f32| {
        if let Some(out) = dst.get_mut(y * w..(y + 1) * w) {
            let inv = 1.0 / count;
            for (o, s) in out.iter_mut().zip(sum) {
                *o = s * inv;
            }
        }
    };
    let (mut right, mut left, mut out) = (0usize, 0usize, 0usize);
    for _ in 0..half - 1 {
        add(&mut sum, rows(right));
        right += 1;
        count += 1.0;
    }
    for _ in 0..window + 1 - half {
        add(&mut sum, rows(right));
        right += 1;
        count += 1.0;
        write(out, &sum, count);
        out += 1;
    }
    for _ in 0..h - window {
        add(&mut sum, rows(right));
        right += 1;
        sub(&mut sum, rows(left));
        left += 1;
        write(out, &sum, count);
        out += 1;
    }
    for _ in 0..half - 1 {
        sub(&mut sum, rows(left));
        left += 1;
        count -= 1.0;
        write(out, &sum, count);
        out += 1;
    }
}

/// Step 4: the sum of quantised gradients between neighbouring cells.
fn quality(cells: &[[f32; 64]; 64]) -> u8 {
    let step = |u: f32, v: f32| (((u - v) * 100.0) / 255.0) as i32;
    let mut sum: i64 = 0;
    for pair in cells.windows(2) {
        if let [above, below] = pair {
            for (u, v) in above.iter().zip(below) {
                sum += i64::from(step(*u, *v).abs());
            }
        }
    }
    for row in cells {
        for pair in row.windows(2) {
            if let [u, v] = pair {
                sum += i64::from(step(*u, *v).abs());
            }
        }
    }
    (sum / 90).clamp(0, 100) as u8
}

/// The DCT-II basis rows 1..=16 over 64 samples, scaled by sqrt(2 / 64).
fn dct_matrix() -> &'static [[f32; 64]; 16] {
    static MATRIX: std::sync::OnceLock<[[f32; 64]; 16]> = std::sync::OnceLock::new();
    MATRIX.get_or_init(|| {
        let scale = (2.0f64 / 64.0).sqrt();
        let mut m = [[0f32; 64]; 16];
        for (i, row) in m.iter_mut().enumerate() {
            for (j, value) in row.iter_mut().enumerate() {
                let angle =
                    std::f64::consts::PI / 2.0 / 64.0 * (i as f64 + 1.0) * (2.0 * j as f64 + 1.0);
                *value = (scale * angle.cos()) as f32;
            }
        }
        m
    })
}

/// Step 5: `B = D A Dᵀ`, only the 16 × 16 coefficients kept.
fn dct16(cells: &[[f32; 64]; 64]) -> [[f32; 16]; 16] {
    let d = dct_matrix();
    // T = D A: 16 × 64.
    let mut t = [[0f32; 64]; 16];
    for (t_row, d_row) in t.iter_mut().zip(d) {
        for (weight, a_row) in d_row.iter().zip(cells) {
            for (acc, a) in t_row.iter_mut().zip(a_row) {
                *acc += weight * a;
            }
        }
    }
    // B = T Dᵀ: 16 × 16.
    let mut b = [[0f32; 16]; 16];
    for (b_row, t_row) in b.iter_mut().zip(&t) {
        for (value, d_row) in b_row.iter_mut().zip(d) {
            *value = t_row.iter().zip(d_row).map(|(x, y)| x * y).sum();
        }
    }
    b
}

/// Step 6: one bit per coefficient, set when above the median.
fn threshold(block: &[[f32; 16]; 16]) -> Hash256 {
    let mut values: Vec<f32> = block.iter().flatten().copied().collect();
    let (_, median, _) = values.select_nth_unstable_by(127, f32::total_cmp);
    let median = *median;
    let mut hash = Hash256::default();
    for (k, value) in block.iter().flatten().enumerate() {
        if *value > median {
            hash.set_bit(k);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: usize, h: usize) -> Luma {
        let data = (0..w * h)
            .map(|k| {
                let (x, y) = ((k % w) as f32, (k / w) as f32);
                (127.0 + 100.0 * (x / 7.0).sin() * (y / 11.0).cos()).clamp(0.0, 255.0)
            })
            .collect();
        Luma::new(w, h, data).unwrap_or_else(|| unreachable!())
    }

    #[test]
    fn hex_round_trips_and_rejects_junk() {
        let text = "d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22";
        let hash: Hash256 = text.parse().unwrap_or_default();
        assert_eq!(hash.to_string(), text);
        assert!("xyz".parse::<Hash256>().is_err());
        assert!(format!("{text}0").parse::<Hash256>().is_err());
        assert!("é".repeat(32).parse::<Hash256>().is_err());
    }

    #[test]
    fn a_flat_image_has_no_quality() {
        let flat = Luma::new(100, 80, vec![128.0; 8000]).unwrap_or_else(|| unreachable!());
        assert_eq!(hash(&flat).quality, 0);
        assert!(!hash(&flat).is_usable());
    }

    #[test]
    fn tiny_and_thin_images_hash_without_panicking() {
        for (w, h) in [(1, 1), (1, 500), (500, 1), (2, 3), (63, 65), (129, 257)] {
            let _ = dihedral(&gradient(w, h));
        }
    }

    #[test]
    fn dihedral_hashes_match_the_transformed_image() {
        // A square image whose size is a multiple of 64 transforms exactly.
        let image = gradient(256, 256);
        let n = 256;
        let at = |x: usize, y: usize| image.get(x, y);
        type Map<'a> = Box<dyn Fn(usize, usize) -> f32 + 'a>;
        let transforms: [(Dihedral, Map<'_>); 8] = [
            (Dihedral::Original, Box::new(at)),
            (Dihedral::Rotate90, Box::new(|x, y| at(n - 1 - y, x))),
            (
                Dihedral::Rotate180,
                Box::new(|x, y| at(n - 1 - x, n - 1 - y)),
            ),
            (Dihedral::Rotate270, Box::new(|x, y| at(y, n - 1 - x))),
            (Dihedral::FlipX, Box::new(|x, y| at(x, n - 1 - y))),
            (Dihedral::FlipY, Box::new(|x, y| at(n - 1 - x, y))),
            (Dihedral::FlipPlus1, Box::new(|x, y| at(y, x))),
            (
                Dihedral::FlipMinus1,
                Box::new(|x, y| at(n - 1 - y, n - 1 - x)),
            ),
        ];
        let all = dihedral(&image);
        let mut report = Vec::new();
        for (k, (which, f)) in transforms.iter().enumerate() {
            let data = (0..n * n).map(|i| f(i % n, i / n)).collect();
            let turned = Luma::new(n, n, data).unwrap_or_else(|| unreachable!());
            assert_eq!(image.transformed(*which), turned, "{which:?}");
            let direct = hash(&turned).hash;
            let from_one = all.get(k).map(|h| h.hash).unwrap_or_default();
            report.push((*which, direct.distance(&from_one)));
        }
        assert!(report.iter().all(|(_, d)| *d <= 4), "{report:?}");
    }
}
