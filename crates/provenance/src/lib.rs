//! greenlight-provenance: finds evidence of generative AI in media files, fast.
//!
//! Its single job: given files or trees, say per file whether it carries evidence of
//! generative AI, and which. Evidence is C2PA manifest stores (every manifest, ingredients
//! included), the IPTC digital source type in XMP (exact terms; `algorithmicMedia` is not
//! generative AI), IPTC 2025.1 AI fields, generator metadata (a table in
//! [`generators`]), sidecar `.c2pa` stores, and references to remote or stripped manifests
//! (reported, never fetched).
//!
//! Containers are recognised by magic bytes, never by extension. Each reader reads only the
//! regions its format needs (seeking past media data) through a bounded [`source::Source`]:
//! every length is checked against the stream, every allocation is fallible and capped, and a
//! per-file byte and time budget applies (the time budget bounds the container walk; the c2pa
//! crate's parse of a store that was found is not interruptible). Nothing here panics on any
//! input, and files are only ever opened for reading. PDF and SVG are text formats without a
//! fixed metadata location: their readers scan the file, within the byte cap. A metadata block
//! that cannot be parsed in full gives what can be read, plus a [`Kind::MetadataMalformed`]
//! context item naming the block; a path that is not a regular file (a FIFO, a device) is
//! [`Verdict::Skipped`], never opened.
//!
//! Detection never hashes a file: a store found by the container walk is read on the fast path
//! ([`c2pa_fast`]: the JUMBF boxes, the claims and the CBOR of the assertions the verdict needs),
//! and a store it does not handle is handed to the c2pa crate as raw JUMBF with verification off;
//! [`Scanner::reference`] reads every store with the c2pa crate, the reference the fast path is
//! tested against. [`ScanOptions::verify`] adds full validation for
//! files that carry a manifest and reports integrity (hashes, signature) apart from signer
//! trust; without a trust list `untrusted` is the normal outcome, not a sign of tampering.
//!
//! | format | reader | C2PA location | other evidence |
//! |---|---|---|---|
//! | jpeg | jpeg | APP11 `JP` JUMBF segments | XMP (APP1, extended), EXIF, COM |
//! | png | png | `caBX` chunk | iTXt XMP, tEXt/zTXt/iTXt generator keys, eXIf |
//! | webp | riff | `C2PA` chunk | `XMP `, `EXIF` |
//! | wav | riff | `C2PA` chunk | `LIST INFO`, `bext`, `iXML`, `_PMX` XMP |
//! | avi | riff | `C2PA` chunk | `LIST INFO`, `_PMX` XMP |
//! | gif | gif | `C2PA_GIF` application extension | `XMP DataXMP`, comments |
//! | tiff | tiff | tag 0xCD41 (last IFD) | tag 0x02BC XMP, text tags, EXIF IFD |
//! | dng | tiff | tag 0xCD41 (last IFD) | as TIFF |
//! | mp4 | bmff | `uuid` box D8FEC3D6 | XMP `uuid`, `moov/udta` text |
//! | mov | bmff | `uuid` box D8FEC3D6 | `moov/udta/XMP_`, `©swr`/`©too`/`©cmt` |
//! | m4a | bmff | `uuid` box D8FEC3D6 | `moov/udta/meta/ilst` text |
//! | heif | bmff | `uuid` box D8FEC3D6 | Exif and XMP items (`meta/iinf` + `iloc`), XMP `uuid` |
//! | heic | bmff | `uuid` box D8FEC3D6 | Exif and XMP items (`meta/iinf` + `iloc`), XMP `uuid` |
//! | avif | bmff | `uuid` box D8FEC3D6 | Exif and XMP items (`meta/iinf` + `iloc`), XMP `uuid` |
//! | bmff | bmff | `uuid` box D8FEC3D6 (fragments: merkle only) | |
//! | mp3 | id3 | ID3v2 `GEOB` `application/c2pa` | ID3 text frames, `PRIV` XMP |
//! | flac | id3 | ID3v2 `GEOB` before `fLaC` | Vorbis comments |
//! | pdf | pdf | embedded file `/AFRelationship /C2PA_Manifest` (plain or Flate; else extracted by c2pa) | XMP metadata streams |
//! | svg | svg | base64 `<c2pa:manifest>` | XMP in `<metadata>` |
//! | jxl | jxl | top-level `jumb` box, plain or in a Brotli `brob` box | `xml ` XMP, `Exif`, plain or in `brob` |
//! | c2pa | c2pa | the whole file (sidecar store) | |
//! | openexr | openexr | none defined | string header attributes |
//! | dpx | dpx | none defined | header text fields, user-data id |
//! | mxf | mxf | none defined | Identification sets (company, product, version) |
//!
//! ```no_run
//! use greenlight_provenance::{ScanOptions, scan_path};
//! let summary = scan_path("DELIVERABLES".as_ref(), &ScanOptions::default(), |report| {
//!     if report.verdict.is_ai() {
//!         println!("{}", serde_json::to_string(&report).unwrap_or_default());
//!     }
//! })?;
//! eprintln!("{} files, {} AI-generated", summary.files, summary.ai_generated);
//! # Ok::<(), greenlight_provenance::ScanError>(())
//! ```
#![deny(missing_docs)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod c2pa_fast;
pub mod dst;
pub mod evidence;
pub mod formats;
pub mod generators;
pub mod jumbf;
pub mod manifest;
pub mod report;
pub mod scan;
pub mod source;
pub mod stamp;
pub mod xmp;

pub use evidence::{Evidence, Kind, Signal, Strength};
pub use formats::{Format, FormatReader, Metadata, READERS};
pub use manifest::{C2paSummary, Integrity, Trust};
pub use report::{FileReport, Summary, Verdict};
pub use scan::{ScanError, ScanOptions, Scanner, scan_path};

/// The version of the C2PA SDK that reads and validates manifests, for scan records.
pub const C2PA_SDK_VERSION: &str = c2pa::VERSION;
