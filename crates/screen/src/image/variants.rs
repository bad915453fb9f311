//! What makes PDQ survive crops and small rotations: uniform borders are
//! trimmed before hashing, and each reference is indexed with hashes of its
//! own crops and rotations, so an output cropped or straightened from it
//! lands near one of them.
//!
//! Plain PDQ loses a cropped or rotated copy quickly (its authors report 9%
//! recall at a 5% crop and 55% at a 4° rotation). Flips and 90° turns need no
//! variants: queries are hashed in all eight orientations ([`super::pdq::dihedral`]).

use serde::Serialize;

use super::pdq::Luma;

/// The longest side every image is brought to before hashing (as the
/// reference's Python implementation does): PDQ samples a 64 × 64 grid, so a
/// 512-pixel copy keeps all it looks at. Hashing every image, reference,
/// variant and output, through the same shrink keeps their sampling alike:
/// PDQ moves by 10–40 bits between a full-size and a shrunk hash of one image.
pub const VARIANT_SIDE: usize = 512;

/// The crop offsets indexed on each side, as fractions of the dimension.
/// PDQ moves by 20–35 bits at a 1% crop, so the grid is fine, finest where
/// most crops are small (a 1.5% trim on each side lies between 0 and 2.5%
/// and came nearer neither).
pub const CROP_STEPS: [f32; 6] = [0.0, 0.0125, 0.025, 0.05, 0.075, 0.10];

/// The most cropped from one axis, both sides together.
pub const MAX_CROP: f32 = 0.10;

/// The rotations indexed, in degrees (each way).
pub const ROTATIONS: [f32; 6] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];

/// One way a reference is cut before hashing.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Variant {
    /// The image as it is (borders trimmed).
    Original,
    /// Cropped by these fractions of width and height from each side.
    Crop {
        /// From the left.
        left: f32,
        /// From the top.
        top: f32,
        /// From the right.
        right: f32,
        /// From the bottom.
        bottom: f32,
    },
    /// Turned by this many degrees (counter-clockwise positive) and cut to
    /// the largest rectangle of the same shape inside it.
    Rotate {
        /// Degrees.
        degrees: f32,
    },
}

impl Variant {
    /// Every variant indexed for a reference: the original, each crop with
    /// at most [`MAX_CROP`] off each axis, and each rotation both ways.
    pub fn all() -> Vec<Variant> {
        let mut out = vec![Variant::Original];
        let pairs: Vec<(f32, f32)> = CROP_STEPS
            .iter()
            .flat_map(|a| CROP_STEPS.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| a + b <= MAX_CROP + 1e-6)
            .collect();
        for (left, right) in &pairs {
            for (top, bottom) in &pairs {
                if left + right + top + bottom > 0.0 {
                    out.push(Variant::Crop {
                        left: *left,
                        top: *top,
                        right: *right,
                        bottom: *bottom,
                    });
                }
            }
        }
        for degrees in ROTATIONS {
            out.push(Variant::Rotate { degrees });
            out.push(Variant::Rotate { degrees: -degrees });
        }
        out
    }

    /// A short name for reports and the ledger: `original`, `crop:l5,t0,r2.5,b0`, `rotate:-4`.
    pub fn name(&self) -> String {
        let pct = |f: f32| (f * 1000.0).round() / 10.0;
        match self {
            Variant::Original => "original".to_owned(),
            Variant::Crop {
                left,
                top,
                right,
                bottom,
            } => format!(
                "crop:l{},t{},r{},b{}",
                pct(*left),
                pct(*top),
                pct(*right),
                pct(*bottom)
            ),
            Variant::Rotate { degrees } => format!("rotate:{degrees}"),
        }
    }

    /// Applies the variant to an image.
    pub fn apply(&self, image: &Luma) -> Luma {
        match self {
            Variant::Original => image.clone(),
            Variant::Crop {
                left,
                top,
                right,
                bottom,
            } => crop_fraction(image, *left, *top, *right, *bottom),
            Variant::Rotate { degrees } => rotate_inscribed(image, *degrees),
        }
    }
}

/// Cuts a rectangle given as fractions off each side.
pub fn crop_fraction(image: &Luma, left: f32, top: f32, right: f32, bottom: f32) -> Luma {
    let (w, h) = (image.width() as f32, image.height() as f32);
    let x0 = (left * w).round() as usize;
    let y0 = (top * h).round() as usize;
    let x1 = ((1.0 - right) * w).round() as usize;
    let y1 = ((1.0 - bottom) * h).round() as usize;
    crop(image, x0, y0, x1, y1)
}

/// The pixels in `[x0, x1) × [y0, y1)`, clamped to the image; at least one pixel.
pub fn crop(image: &Luma, x0: usize, y0: usize, x1: usize, y1: usize) -> Luma {
    let x1 = x1.clamp(1, image.width());
    let y1 = y1.clamp(1, image.height());
    let x0 = x0.min(x1 - 1);
    let y0 = y0.min(y1 - 1);
    let mut data = Vec::with_capacity((x1 - x0) * (y1 - y0));
    for y in y0..y1 {
        data.extend_from_slice(image.row(y).get(x0..x1).unwrap_or(&[]));
    }
    Luma::new(x1 - x0, y1 - y0, data).unwrap_or_else(|| image.clone())
}

/// Bilinear sample at `(x, y)` (pixel centres at integers), clamped at the edges.
fn sample(image: &Luma, x: f32, y: f32) -> f32 {
    let max_x = (image.width() - 1) as f32;
    let max_y = (image.height() - 1) as f32;
    let x = x.clamp(0.0, max_x);
    let y = y.clamp(0.0, max_y);
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let (x0, y0) = (x0 as usize, y0 as usize);
    let x1 = (x0 + 1).min(image.width() - 1);
    let y1 = (y0 + 1).min(image.height() - 1);
    let top = image.get(x0, y0) * (1.0 - fx) + image.get(x1, y0) * fx;
    let bottom = image.get(x0, y1) * (1.0 - fx) + image.get(x1, y1) * fx;
    top * (1.0 - fy) + bottom * fy
}

/// Turns the image by `degrees` about its centre (counter-clockwise as
/// seen) and keeps the largest centred rectangle of the same shape that lies
/// wholly inside the turned image: what "straighten" does in an editor.
pub fn rotate_inscribed(image: &Luma, degrees: f32) -> Luma {
    let (w, h) = (image.width() as f32, image.height() as f32);
    let theta = degrees.to_radians();
    let (sin, cos) = (theta.sin().abs(), theta.cos().abs());
    let scale = (w / (w * cos + h * sin)).min(h / (w * sin + h * cos));
    let out_w = ((w * scale).floor() as usize).max(1);
    let out_h = ((h * scale).floor() as usize).max(1);
    let (cx, cy) = ((w - 1.0) / 2.0, (h - 1.0) / 2.0);
    let (ox, oy) = ((out_w as f32 - 1.0) / 2.0, (out_h as f32 - 1.0) / 2.0);
    let (s, c) = theta.sin_cos();
    let mut data = Vec::with_capacity(out_w * out_h);
    for y in 0..out_h {
        for x in 0..out_w {
            let (dx, dy) = (x as f32 - ox, y as f32 - oy);
            // Inverse rotation: where in the source this output pixel comes from.
            let sx = cx + dx * c - dy * s;
            let sy = cy + dx * s + dy * c;
            data.push(sample(image, sx, sy));
        }
    }
    Luma::new(out_w, out_h, data).unwrap_or_else(|| image.clone())
}

/// Shrinks the image by area averaging (each output pixel the mean of the
/// input area it covers, fractions of pixels weighted) so its longer side is
/// at most `side`; smaller images are returned as they are. Area weights
/// make the shrink commute with flips and 90° turns.
pub fn shrink(image: &Luma, side: usize) -> Luma {
    let (w, h) = (image.width(), image.height());
    let longest = w.max(h);
    if longest <= side || side == 0 {
        return image.clone();
    }
    let scale = longest as f64 / side as f64;
    let out_w = ((w as f64 / scale).round() as usize).max(1);
    let out_h = ((h as f64 / scale).round() as usize).max(1);
    // Rows first: w → out_w, then columns: h → out_h.
    let weights_x = area_weights(w, out_w);
    let weights_y = area_weights(h, out_h);
    let mut rows = vec![0f32; out_w * h];
    for y in 0..h {
        let src = image.row(y);
        for (ox, taps) in weights_x.iter().enumerate() {
            let value: f32 = taps
                .iter()
                .map(|(x, wt)| src.get(*x).copied().unwrap_or(0.0) * wt)
                .sum();
            if let Some(slot) = rows.get_mut(y * out_w + ox) {
                *slot = value;
            }
        }
    }
    let mut data = vec![0f32; out_w * out_h];
    for (oy, taps) in weights_y.iter().enumerate() {
        for (y, wt) in taps {
            let src = rows.get(y * out_w..(y + 1) * out_w).unwrap_or(&[]);
            if let Some(out) = data.get_mut(oy * out_w..(oy + 1) * out_w) {
                for (o, v) in out.iter_mut().zip(src) {
                    *o += v * wt;
                }
            }
        }
    }
    Luma::new(out_w, out_h, data).unwrap_or_else(|| image.clone())
}

/// For each of `out` cells over `n` inputs, the inputs it covers and their
/// weights (summing to 1).
fn area_weights(n: usize, out: usize) -> Vec<Vec<(usize, f32)>> {
    let step = n as f64 / out as f64;
    (0..out)
        .map(|i| {
            let (a, b) = (i as f64 * step, (i + 1) as f64 * step);
            let mut taps = Vec::new();
            let mut x = a.floor() as usize;
            while (x as f64) < b && x < n {
                let cover = (b.min(x as f64 + 1.0) - a.max(x as f64)).max(0.0);
                if cover > 1e-9 {
                    taps.push((x, (cover / step) as f32));
                }
                x += 1;
            }
            taps
        })
        .collect()
}

/// How far a border line may stray from the border's colour and still be
/// trimmed: the mean and the largest absolute difference, in luma levels.
const BORDER_MEAN: f32 = 3.0;
const BORDER_MAX: f32 = 24.0;

/// Trims uniform borders (letterboxing, pillarboxing, frames, padding): lines
/// at the edges whose values all stay close to the corner's colour. At most
/// 45% of each dimension goes from each side; a wholly uniform image is left
/// as it is (its hash will be low-quality anyway).
pub fn trim_borders(image: &Luma) -> Luma {
    let (w, h) = (image.width(), image.height());
    if w < 8 || h < 8 {
        return image.clone();
    }
    let uniform = |values: &mut dyn Iterator<Item = f32>, colour: f32| {
        let (mut n, mut sum, mut max) = (0f32, 0f32, 0f32);
        for v in values {
            let d = (v - colour).abs();
            n += 1.0;
            sum += d;
            max = max.max(d);
        }
        n > 0.0 && sum / n <= BORDER_MEAN && max <= BORDER_MAX
    };
    let row_uniform = |y: usize, x0: usize, x1: usize, colour: f32| {
        uniform(
            &mut image.row(y).get(x0..x1).unwrap_or(&[]).iter().copied(),
            colour,
        )
    };
    let col_uniform = |x: usize, y0: usize, y1: usize, colour: f32| {
        uniform(&mut (y0..y1).map(|y| image.get(x, y)), colour)
    };
    let max_x = w * 45 / 100;
    let max_y = h * 45 / 100;
    let (mut top, mut bottom, mut left, mut right) = (0usize, 0usize, 0usize, 0usize);
    let top_colour = image.get(w / 2, 0);
    while top < max_y && row_uniform(top, 0, w, top_colour) {
        top += 1;
    }
    let bottom_colour = image.get(w / 2, h - 1);
    while bottom < max_y && row_uniform(h - 1 - bottom, 0, w, bottom_colour) {
        bottom += 1;
    }
    let (y0, y1) = (top, h - bottom);
    let left_colour = image.get(0, (y0 + y1) / 2);
    while left < max_x && col_uniform(left, y0, y1, left_colour) {
        left += 1;
    }
    let right_colour = image.get(w - 1, (y0 + y1) / 2);
    while right < max_x && col_uniform(w - 1 - right, y0, y1, right_colour) {
        right += 1;
    }
    if top + bottom + left + right == 0 {
        return image.clone();
    }
    crop(image, left, top, w - right, h - bottom)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(w: usize, h: usize) -> Luma {
        let data = (0..w * h)
            .map(|k| (((k % w) * 7 + (k / w) * 13) % 200) as f32 + 20.0)
            .collect();
        Luma::new(w, h, data).unwrap_or_else(|| unreachable!())
    }

    #[test]
    fn letterbox_bars_are_trimmed() {
        let inner = pattern(100, 60);
        let mut data = vec![0f32; 100 * 20];
        data.extend_from_slice(inner.data());
        data.extend(std::iter::repeat_n(0.0, 100 * 20));
        let boxed = Luma::new(100, 100, data).unwrap_or_else(|| unreachable!());
        let trimmed = trim_borders(&boxed);
        assert_eq!((trimmed.width(), trimmed.height()), (100, 60));
        assert_eq!(trimmed.data(), inner.data());
    }

    #[test]
    fn variants_keep_within_the_image() {
        let image = pattern(300, 200);
        let all = Variant::all();
        assert_eq!(all.len(), 1 + 24 * 24 - 1 + 12);
        for v in &all {
            let out = v.apply(&image);
            assert!(out.width() >= 200 && out.height() >= 150, "{}", v.name());
        }
        let r = rotate_inscribed(&image, 6.0);
        assert!(r.width() < 300 && r.height() < 200);
        let small = shrink(&pattern(2000, 1000), 512);
        assert_eq!((small.width(), small.height()), (512, 256));
    }
}
