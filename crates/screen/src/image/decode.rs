//! Decoding images handed in as bytes, through the `image` crate, with
//! limits that hostile files cannot talk past.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits};

use super::pdq::Luma;

/// The widest or tallest image decoded, in pixels.
pub const MAX_DIMENSION: u32 = 20_000;

/// The most memory one decode may allocate.
pub const MAX_ALLOC: u64 = 1 << 30;

/// Why an image could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not a format this build reads (JPEG, PNG, WebP, TIFF).
    #[error("not an image format greenlight reads (JPEG, PNG, WebP, TIFF)")]
    Unsupported,
    /// Larger than the limits.
    #[error("image too large: {0}")]
    TooLarge(String),
    /// Damaged or not what it claims to be.
    #[error("cannot decode the image: {0}")]
    Malformed(String),
}

impl From<image::ImageError> for DecodeError {
    fn from(error: image::ImageError) -> Self {
        match error {
            image::ImageError::Unsupported(_) => DecodeError::Unsupported,
            image::ImageError::Limits(e) => DecodeError::TooLarge(e.to_string()),
            other => DecodeError::Malformed(other.to_string()),
        }
    }
}

/// Whether the bytes start like an image this build decodes.
pub fn is_image(bytes: &[u8]) -> bool {
    image::guess_format(bytes).is_ok_and(|f| {
        matches!(
            f,
            image::ImageFormat::Jpeg
                | image::ImageFormat::Png
                | image::ImageFormat::WebP
                | image::ImageFormat::Tiff
        )
    })
}

/// Decodes an image, turned upright as its EXIF orientation says (as a
/// viewer shows it).
pub fn decode(bytes: &[u8]) -> Result<DynamicImage, DecodeError> {
    if !is_image(bytes) {
        return Err(DecodeError::Unsupported);
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| DecodeError::Malformed(e.to_string()))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let mut decoder = reader.into_decoder()?;
    let orientation = decoder.orientation().ok();
    let mut image = DynamicImage::from_decoder(decoder)?;
    if let Some(orientation) = orientation {
        image.apply_orientation(orientation);
    }
    Ok(image)
}

/// The luminance of a decoded image (alpha ignored).
pub fn luma(image: &DynamicImage) -> Luma {
    let rgb = image.to_rgb8();
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    Luma::from_rgb8(w, h, rgb.as_raw())
        .unwrap_or_else(|| Luma::new(1, 1, vec![0.0]).unwrap_or_else(|| unreachable!()))
}

/// Decodes and converts to luminance in one step.
pub fn decode_luma(bytes: &[u8]) -> Result<Luma, DecodeError> {
    let image = decode(bytes)?;
    if image.width() == 0 || image.height() == 0 {
        return Err(DecodeError::Malformed("the image has no pixels".to_owned()));
    }
    Ok(luma(&image))
}
