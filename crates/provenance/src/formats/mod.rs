//! Container readers: one module per container behind [`FormatReader`], one registry list.
//!
//! A reader is stateless. It is chosen by magic bytes (never by file extension), then walks the
//! container's structure through a bounded [`Source`], seeking past media data, and records what
//! it finds in [`Metadata`]: C2PA manifest stores, XMP packets, EXIF blocks and text fields.

use crate::source::{ReadError, Source};

pub mod bmff;
pub mod c2pa_store;
pub mod dpx;
pub mod exr;
pub mod gif;
pub mod id3;
pub mod jpeg;
pub mod jxl;
pub mod mxf;
pub mod pdf;
pub mod png;
pub mod riff;
pub mod svg;
pub mod tiff;

/// How many leading bytes are handed to [`FormatReader::sniff`].
pub const SNIFF_LEN: usize = 64;

/// Where a C2PA manifest store was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// The raw JUMBF bytes of the store, cut out of the container.
    Bytes(Vec<u8>),
    /// The container holds a store that only the c2pa crate's own handler can extract
    /// (used for PDF, whose embedded-file streams need object resolution).
    InAsset,
}

/// A metadata block as a reader found it, with the name of where it was found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Block<T> {
    /// Where the block sits, as evidence sources name it ("EXIF (APP1)", "XMP (iTXt)", …).
    pub source: &'static str,
    /// The block's content.
    pub data: T,
}

/// A metadata block that could not be read, in whole or in part. Reported as context
/// evidence ([`crate::Kind::MetadataMalformed`]), never silently dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// The block, named as evidence sources name it ("EXIF (APP1)", "PNG zTXt `parameters`",
    /// "ID3v2", …).
    pub source: String,
    /// What is wrong with it, for people: "EXIF block malformed: truncated IFD".
    pub detail: String,
}

/// Everything a reader found in one file. Readers only record; judging happens later.
#[derive(Debug, Default, Clone)]
pub struct Metadata {
    /// Embedded C2PA manifest stores.
    pub c2pa: Vec<StoreLocation>,
    /// XMP packets (UTF-8 text).
    pub xmp: Vec<Block<String>>,
    /// EXIF blocks in TIFF layout (starting at the byte-order mark).
    pub exif: Vec<Block<Vec<u8>>>,
    /// Text fields as (key, value), such as PNG text chunks or header strings.
    pub text: Vec<(String, String)>,
    /// Metadata blocks that could not be read, in whole or in part.
    pub malformed: Vec<Malformed>,
    /// Malformations beyond the first [`MAX_MALFORMED`], counted only.
    pub malformed_unlisted: u64,
    /// Facts worth reporting that are not evidence (such as "cannot carry C2PA").
    pub notes: Vec<String>,
    /// A more precise format found while reading (for example DNG inside TIFF).
    pub refined: Option<Format>,
}

/// Most malformations listed for one file; the rest are counted.
pub const MAX_MALFORMED: usize = 32;

impl Metadata {
    /// Adds a text field, skipping empty values.
    pub fn add_text(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let value = value.into();
        if !value.trim().is_empty() {
            self.text.push((key.into(), value));
        }
    }

    /// Adds an XMP packet given as bytes, from a block without a more precise name.
    pub fn add_xmp(&mut self, bytes: &[u8]) {
        self.add_xmp_in("XMP", bytes);
    }

    /// Adds an XMP packet given as bytes, found in `source` ("XMP (APP1)"). Bytes that are not
    /// UTF-8 are read with replacement characters, and the packet is noted as malformed.
    pub fn add_xmp_in(&mut self, source: &'static str, bytes: &[u8]) {
        // Valid UTF-8 (the usual case) is checked by the faster validator.
        let s = match std::str::from_utf8(bytes) {
            Ok(s) => s.trim_matches(char::from(0)).to_string(),
            Err(e) => {
                self.malformed(
                    source,
                    "XMP packet",
                    format!("not UTF-8 at byte {}", e.valid_up_to()),
                );
                String::from_utf8_lossy(bytes)
                    .trim_matches(char::from(0))
                    .to_string()
            }
        };
        if !s.trim().is_empty() {
            self.xmp.push(Block { source, data: s });
        }
    }

    /// Adds an EXIF block (TIFF layout, from the byte-order mark) found in `source`.
    pub fn add_exif(&mut self, source: &'static str, tiff: Vec<u8>) {
        self.exif.push(Block { source, data: tiff });
    }

    /// Records that the `what` ("EXIF block", "text chunk") in `source` is malformed, and why.
    /// Past [`MAX_MALFORMED`] items per file, the rest are only counted.
    pub fn malformed(
        &mut self,
        source: impl Into<String>,
        what: &str,
        problem: impl std::fmt::Display,
    ) {
        if self.malformed.len() >= MAX_MALFORMED {
            self.malformed_unlisted = self.malformed_unlisted.saturating_add(1);
            return;
        }
        self.malformed.push(Malformed {
            source: source.into(),
            detail: format!("{what} malformed: {problem}"),
        });
    }
}

/// What the project calls each container; the `format` of a scan result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Format {
    /// JPEG / JFIF / EXIF.
    Jpeg,
    /// PNG.
    Png,
    /// WebP (RIFF).
    Webp,
    /// GIF.
    Gif,
    /// TIFF.
    Tiff,
    /// Adobe DNG (a TIFF).
    Dng,
    /// MPEG-4 video.
    Mp4,
    /// QuickTime movie.
    Mov,
    /// MPEG-4 audio.
    M4a,
    /// HEIF image.
    Heif,
    /// HEIC image.
    Heic,
    /// AVIF image.
    Avif,
    /// Another ISO base media file (for example a DASH segment).
    Bmff,
    /// WAV / BWF audio (RIFF).
    Wav,
    /// AVI video (RIFF).
    Avi,
    /// MP3 audio (ID3).
    Mp3,
    /// FLAC audio.
    Flac,
    /// PDF document.
    Pdf,
    /// SVG image.
    Svg,
    /// JPEG XL image.
    Jxl,
    /// A raw C2PA manifest store (`.c2pa` sidecar).
    C2pa,
    /// OpenEXR image (no C2PA embedding exists).
    Openexr,
    /// DPX image (no C2PA embedding exists).
    Dpx,
    /// MXF media (no C2PA embedding exists).
    Mxf,
}

impl Format {
    /// The name used in scan results.
    pub fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Webp => "webp",
            Format::Gif => "gif",
            Format::Tiff => "tiff",
            Format::Dng => "dng",
            Format::Mp4 => "mp4",
            Format::Mov => "mov",
            Format::M4a => "m4a",
            Format::Heif => "heif",
            Format::Heic => "heic",
            Format::Avif => "avif",
            Format::Bmff => "bmff",
            Format::Wav => "wav",
            Format::Avi => "avi",
            Format::Mp3 => "mp3",
            Format::Flac => "flac",
            Format::Pdf => "pdf",
            Format::Svg => "svg",
            Format::Jxl => "jxl",
            Format::C2pa => "c2pa",
            Format::Openexr => "openexr",
            Format::Dpx => "dpx",
            Format::Mxf => "mxf",
        }
    }

    /// The MIME type handed to the c2pa crate.
    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
            Format::Gif => "image/gif",
            Format::Tiff => "image/tiff",
            Format::Dng => "image/x-adobe-dng",
            Format::Mp4 | Format::Bmff => "video/mp4",
            Format::Mov => "video/quicktime",
            Format::M4a => "audio/mp4",
            Format::Heif => "image/heif",
            Format::Heic => "image/heic",
            Format::Avif => "image/avif",
            Format::Wav => "audio/wav",
            Format::Avi => "video/avi",
            Format::Mp3 => "audio/mpeg",
            Format::Flac => "audio/flac",
            Format::Pdf => "application/pdf",
            Format::Svg => "image/svg+xml",
            Format::Jxl => "image/jxl",
            Format::C2pa => "application/c2pa",
            Format::Openexr => "image/x-exr",
            Format::Dpx => "image/x-dpx",
            Format::Mxf => "application/mxf",
        }
    }

    /// Whether the C2PA specification defines an embedding for this container.
    pub fn can_carry_c2pa(self) -> bool {
        !matches!(self, Format::Openexr | Format::Dpx | Format::Mxf)
    }
}

/// One container reader.
pub trait FormatReader: Send + Sync {
    /// A short name for the reader (documentation and fuzz targets).
    fn name(&self) -> &'static str;

    /// The formats this reader can report.
    fn formats(&self) -> &'static [Format];

    /// Recognises the container from its first bytes (up to [`SNIFF_LEN`]).
    fn sniff(&self, head: &[u8]) -> Option<Format>;

    /// Walks the container and records metadata. The source is positioned at 0.
    fn read(
        &self,
        format: Format,
        src: &mut Source<'_>,
        out: &mut Metadata,
    ) -> Result<(), ReadError>;
}

/// The registry: every container reader, in sniffing order.
pub static READERS: &[&dyn FormatReader] = &[
    &jpeg::JpegReader,
    &png::PngReader,
    &riff::RiffReader,
    &gif::GifReader,
    &tiff::TiffReader,
    &jxl::JxlReader,
    &bmff::BmffReader,
    &id3::Id3Reader,
    &pdf::PdfReader,
    &exr::ExrReader,
    &dpx::DpxReader,
    &mxf::MxfReader,
    &c2pa_store::C2paStoreReader,
    &svg::SvgReader,
];

/// Finds the reader for a file from its first bytes.
pub fn sniff(head: &[u8]) -> Option<(&'static dyn FormatReader, Format)> {
    READERS.iter().find_map(|r| r.sniff(head).map(|f| (*r, f)))
}

/// Runs the reader called `name` over bytes in memory (fuzzing and tests). `None` when no
/// reader has that name.
pub fn read_bytes(name: &str, data: &[u8]) -> Option<(Metadata, Result<(), ReadError>)> {
    let reader = READERS.iter().find(|r| r.name() == name)?;
    let format = reader
        .sniff(data)
        .or_else(|| reader.formats().first().copied())?;
    let mut cursor = std::io::Cursor::new(data);
    let mut meta = Metadata::default();
    let result = Source::new(&mut cursor, 64 << 20, None)
        .and_then(|mut src| reader.read(format, &mut src, &mut meta));
    Some((meta, result))
}
