//! Evidence items and their extraction from what the container readers found: XMP (IPTC digital
//! source type, IPTC AI fields, remote and stripped manifest pointers), EXIF (through
//! `kamadak-exif`) and text fields (through the generator table in [`crate::generators`]).
//! A block that cannot be read in full gives what can be read, and a
//! [`Kind::MetadataMalformed`] item saying what is wrong.

use crate::dst::{self, DstClass};
use crate::formats::Metadata;
use serde::Serialize;

/// What a piece of evidence says about generative AI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// Context only: says nothing about generative AI by itself.
    Context,
    /// Generative AI may have been involved.
    Possible,
    /// Generative AI edited or contributed part of the content.
    Edited,
    /// The content was made by generative AI.
    Generated,
}

/// How much a piece of evidence can be relied on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strength {
    /// A signed statement (C2PA) or an unambiguous standard field.
    Definitive,
    /// Unsigned metadata written by a known tool or standard.
    Strong,
    /// A heuristic.
    Weak,
}

/// The kind of a piece of evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Kind {
    /// A C2PA action with its digital source type.
    C2paAction,
    /// A digital source type in a C2PA metadata assertion.
    C2paMetadata,
    /// A generator named in a C2PA claim or action's software agent.
    C2paGenerator,
    /// A C2PA manifest whose account of the asset's history is ambiguous: no actions,
    /// `allActionsIncluded` not true, custom or `c2pa.unknown` actions, or actions the signer
    /// only gathered. Context, never AI evidence by itself.
    C2paAmbiguous,
    /// A C2PA ingredient without a manifest of its own (or whose manifest is not in the
    /// store): its provenance is unknown. Context, never AI evidence by itself.
    C2paIngredientUnknownProvenance,
    /// An IPTC digital source type in XMP.
    IptcDigitalSourceType,
    /// IPTC 2025.1 AI fields in XMP (system used, prompt).
    IptcAiField,
    /// Parameters written by a known generator.
    GeneratorMetadata,
    /// A software name field naming a generator.
    SoftwareName,
    /// A reference to a remote manifest (not fetched).
    RemoteManifest,
    /// A pointer to an embedded manifest that is no longer there.
    StrippedManifest,
    /// A sidecar `.c2pa` manifest store next to the file.
    SidecarManifest,
    /// A metadata block (EXIF, XMP, a text chunk, an ID3 tag, a C2PA store) that could not be
    /// read, in whole or in part; what could be read is still used. Context, never AI
    /// evidence by itself.
    MetadataMalformed,
    /// A greenlight stamp: an approval signed into the file's Content Credentials (see
    /// [`crate::stamp`]), with its approval id, signer and whether it verifies. Context, never
    /// AI evidence by itself.
    GreenlightStamp,
}

/// One piece of evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// What kind of evidence this is.
    pub kind: Kind,
    /// Human-readable detail (the action, term, key or value found).
    pub detail: String,
    /// Where it was found ("active manifest", "XMP", "PNG text `parameters`", …).
    pub source: String,
    /// How much it can be relied on.
    pub strength: Strength,
    /// What it says about generative AI.
    pub signal: Signal,
}

/// The most that any item of `evidence` says.
pub fn strongest(evidence: &[Evidence]) -> Signal {
    evidence
        .iter()
        .map(|e| e.signal)
        .max()
        .unwrap_or(Signal::Context)
}

/// Maps a digital source type class to a signal.
pub fn dst_signal(c: DstClass) -> Option<Signal> {
    match c {
        DstClass::Generated => Some(Signal::Generated),
        DstClass::Composite => Some(Signal::Edited),
        DstClass::Possible => Some(Signal::Possible),
        DstClass::NotAi | DstClass::Unknown => None,
    }
}

/// Decodes an EXIF UserComment: an 8-byte charset prefix, then text (UTF-16 in either byte
/// order for `UNICODE`).
pub fn decode_user_comment(b: &[u8]) -> String {
    let (prefix, body) = (
        b.get(..8).unwrap_or_default(),
        b.get(8..).unwrap_or_default(),
    );
    match prefix {
        b"UNICODE\0" => {
            let be = crate::source::bytes::utf16(body, true);
            let le = crate::source::bytes::utf16(body, false);
            // pick the decoding with more ASCII characters
            let ascii = |s: &str| {
                s.chars()
                    .filter(|c| c.is_ascii_graphic() || *c == ' ')
                    .count()
            };
            if ascii(&le) > ascii(&be) { le } else { be }
        }
        b"ASCII\0\0\0" | b"\0\0\0\0\0\0\0\0" => crate::source::bytes::text(body),
        _ => crate::source::bytes::text(b),
    }
}

/// What the XMP packets point at, besides evidence.
#[derive(Debug, Default, Clone)]
pub struct Pointers {
    /// `dcterms:provenance` URLs of remote manifests.
    pub remote: Vec<String>,
    /// `self#jumbf=` pointers to embedded manifests.
    pub embedded: Vec<String>,
}

/// Extracts evidence from XMP, EXIF and text fields, then one context item per malformed
/// metadata block (found by the readers, or here while parsing XMP and EXIF).
pub fn from_metadata(meta: &Metadata, evidence: &mut Vec<Evidence>) -> Pointers {
    let mut ptr = Pointers::default();
    let mut text: Vec<(String, String, String)> = Vec::new(); // (source, key, value)
    let mut malformed: Vec<(String, String)> = Vec::new(); // (source, detail)
    for packet in &meta.xmp {
        let read = crate::xmp::read(&packet.data);
        if let Some(problem) = read.problem {
            malformed.push((
                packet.source.to_string(),
                format!("XMP packet malformed: {problem}"),
            ));
        }
        for (k, v) in read.fields {
            match k.as_str() {
                "DigitalSourceType" => {
                    if let Some(signal) = dst_signal(dst::classify(&v)) {
                        evidence.push(Evidence {
                            kind: Kind::IptcDigitalSourceType,
                            detail: dst::term(&v).to_string(),
                            source: "XMP Iptc4xmpExt:DigitalSourceType".to_string(),
                            strength: Strength::Strong,
                            signal,
                        });
                    }
                }
                "AISystemUsed"
                | "AIPromptInformation"
                | "AISystemVersionUsed"
                | "AIPromptWriterName" => {
                    evidence.push(Evidence {
                        kind: Kind::IptcAiField,
                        detail: format!("{k}: {}", clip(&v)),
                        source: format!("XMP Iptc4xmpExt:{k}"),
                        strength: Strength::Strong,
                        signal: Signal::Generated,
                    });
                }
                "provenance" => {
                    let v = v.trim().to_string();
                    if v.starts_with("self#jumbf=") {
                        ptr.embedded.push(v);
                    } else if !v.is_empty() {
                        ptr.remote.push(v);
                    }
                }
                _ => text.push(("XMP".to_string(), k, v)),
            }
        }
    }
    for blob in &meta.exif {
        exif_fields(blob.source, &blob.data, &mut text, &mut malformed);
    }
    for (k, v) in &meta.text {
        text.push(("text".to_string(), k.clone(), v.clone()));
    }
    for (source, k, v) in &text {
        crate::generators::check(source, k, v, evidence);
    }
    let listed = meta
        .malformed
        .iter()
        .map(|m| (m.source.clone(), m.detail.clone()))
        .chain(malformed);
    let mut unlisted = meta.malformed_unlisted;
    for (n, (source, detail)) in listed.enumerate() {
        if n >= crate::formats::MAX_MALFORMED {
            unlisted = unlisted.saturating_add(1);
            continue;
        }
        evidence.push(malformed_item(source, &detail));
    }
    if unlisted > 0 {
        evidence.push(malformed_item(
            "metadata".to_string(),
            &format!("{unlisted} more malformed metadata problems not listed"),
        ));
    }
    ptr
}

/// The context item saying that a metadata block in `source` is malformed.
pub fn malformed_item(source: String, detail: &str) -> Evidence {
    Evidence {
        kind: Kind::MetadataMalformed,
        detail: clip(detail),
        source,
        strength: Strength::Definitive,
        signal: Signal::Context,
    }
}

/// Most problems reported for one EXIF block; the rest are counted.
const MAX_EXIF_PROBLEMS: usize = 8;

/// Reads the text fields of an EXIF block, keeping every field that parses; each problem
/// `kamadak-exif` meets (and an IFD0 whose next-IFD link points back into IFD0's own entries
/// or values, which the crate would read as garbage) becomes a malformation of `source`.
fn exif_fields(
    source: &'static str,
    blob: &[u8],
    out: &mut Vec<(String, String, String)>,
    malformed: &mut Vec<(String, String)>,
) {
    let mut problems: Vec<String> = Vec::new();
    let mut data = blob.to_vec();
    if let Some(problem) = cut_self_link(&mut data) {
        problems.push(problem);
    }
    let mut errors = Vec::new();
    let exif = exif::Reader::new()
        .continue_on_error(true)
        .read_raw(data)
        .or_else(|e| e.distill_partial_result(|v| errors = v));
    let ex = match exif {
        Ok(ex) => Some(ex),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    for e in errors {
        let msg = lowercase_first(&e.to_string());
        if !problems.contains(&msg) {
            problems.push(msg);
        }
    }
    let unlisted = problems.len().saturating_sub(MAX_EXIF_PROBLEMS);
    for (i, p) in problems.iter().take(MAX_EXIF_PROBLEMS).enumerate() {
        let more = if unlisted > 0 && i.saturating_add(1) == MAX_EXIF_PROBLEMS {
            format!(" (and {unlisted} more problems)")
        } else {
            String::new()
        };
        malformed.push((
            source.to_string(),
            format!("EXIF block malformed: {p}{more}"),
        ));
    }
    let Some(ex) = ex else { return };
    for f in ex.fields() {
        let key = match f.tag {
            exif::Tag::Software => "Software",
            exif::Tag::ImageDescription => "ImageDescription",
            exif::Tag::Make => "Make",
            exif::Tag::Model => "Model",
            exif::Tag::Artist => "Artist",
            exif::Tag::UserComment => "UserComment",
            _ => continue,
        };
        let value = match &f.value {
            exif::Value::Ascii(parts) => parts
                .iter()
                .map(|p| crate::source::bytes::text(p))
                .collect::<Vec<_>>()
                .join(" "),
            exif::Value::Undefined(b, _) => decode_user_comment(b),
            exif::Value::Byte(b) => crate::source::bytes::text(b),
            _ => continue,
        };
        out.push(("EXIF".to_string(), key.to_string(), value));
    }
}

/// `s` with its first character in lower case (`kamadak-exif` capitalises its messages).
fn lowercase_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Bytes of one value of each TIFF field type (0 for unknown types).
fn tiff_type_size(t: u16) -> usize {
    match t {
        1 | 2 | 6 | 7 => 1,
        3 | 8 => 2,
        4 | 9 | 11 | 13 => 4,
        5 | 10 | 12 => 8,
        _ => 0,
    }
}

/// The byte ranges an IFD at `at` occupies: its entry table (with the next-IFD link) and the
/// values its entries point at; also the offset of its EXIF sub-IFD, if it has one.
fn ifd_ranges(
    b: &[u8],
    le: bool,
    at: usize,
    ranges: &mut Vec<(usize, usize)>,
) -> Option<(usize, Option<usize>)> {
    use crate::source::bytes;
    let u16_at = |i: usize| {
        bytes::slice(b, i, 2).map(|s| {
            let a = [
                s.first().copied().unwrap_or(0),
                s.get(1).copied().unwrap_or(0),
            ];
            if le {
                u16::from_le_bytes(a)
            } else {
                u16::from_be_bytes(a)
            }
        })
    };
    let u32_at = |i: usize| {
        bytes::slice(b, i, 4)
            .and_then(|s| <[u8; 4]>::try_from(s).ok())
            .map(|a| {
                if le {
                    u32::from_le_bytes(a)
                } else {
                    u32::from_be_bytes(a)
                }
            })
    };
    let count = usize::from(u16_at(at)?);
    let table_end = at.checked_add(2)?.checked_add(count.checked_mul(12)?)?;
    let link_at = table_end;
    ranges.push((at, link_at.checked_add(4)?));
    let mut sub = None;
    for i in 0..count {
        let e = at.checked_add(2)?.checked_add(i.checked_mul(12)?)?;
        let tag = u16_at(e)?;
        let size = tiff_type_size(u16_at(e.checked_add(2)?)?)
            .saturating_mul(usize::try_from(u32_at(e.checked_add(4)?)?).unwrap_or(usize::MAX));
        let value = usize::try_from(u32_at(e.checked_add(8)?)?).ok()?;
        if tag == 0x8769 {
            sub = Some(value);
        } else if size > 4 {
            ranges.push((value, value.saturating_add(size)));
        }
    }
    Some((link_at, sub))
}

/// When IFD0's next-IFD link points into IFD0's own entries or values (or those of its EXIF
/// sub-IFD), cuts the chain there (the link is set to 0 in `data`) and says so.
fn cut_self_link(data: &mut [u8]) -> Option<String> {
    let le = match data.get(..4)? {
        b"II*\0" => true,
        b"MM\0*" => false,
        _ => return None,
    };
    let word = |b: &[u8], i: usize| {
        crate::source::bytes::slice(b, i, 4)
            .and_then(|s| <[u8; 4]>::try_from(s).ok())
            .map(|a| {
                if le {
                    u32::from_le_bytes(a)
                } else {
                    u32::from_be_bytes(a)
                }
            })
    };
    let ifd0 = usize::try_from(word(data, 4)?).ok()?;
    let mut ranges = Vec::new();
    let (link_at, sub) = ifd_ranges(data, le, ifd0, &mut ranges)?;
    if let Some(sub) = sub {
        let _ = ifd_ranges(data, le, sub, &mut ranges);
    }
    let next = usize::try_from(word(data, link_at)?).ok()?;
    if next == 0 || !ranges.iter().any(|&(s, e)| s <= next && next < e) {
        return None;
    }
    let link = data.get_mut(link_at..link_at.checked_add(4)?)?;
    link.fill(0);
    Some(format!(
        "IFD0's next-IFD link (offset {next}) points into IFD0's own entries or values; the chain is cut there"
    ))
}

/// Shortens a value for a detail line.
pub fn clip(s: &str) -> String {
    const MAX: usize = 160;
    let s = s.trim();
    if s.chars().count() <= MAX {
        return s.to_string();
    }
    let mut t: String = s.chars().take(MAX).collect();
    t.push('…');
    t
}
