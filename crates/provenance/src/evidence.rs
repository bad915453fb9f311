//! Evidence items and their extraction from what the container readers found: XMP (IPTC digital
//! source type, IPTC AI fields, remote and stripped manifest pointers), EXIF (through
//! `kamadak-exif`) and text fields (through the generator table in [`crate::generators`]).

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

/// Extracts evidence from XMP, EXIF and text fields.
pub fn from_metadata(meta: &Metadata, evidence: &mut Vec<Evidence>) -> Pointers {
    let mut ptr = Pointers::default();
    let mut text: Vec<(String, String, String)> = Vec::new(); // (source, key, value)
    for packet in &meta.xmp {
        for (k, v) in crate::xmp::fields(packet) {
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
        exif_fields(blob, &mut text);
    }
    for (k, v) in &meta.text {
        text.push(("text".to_string(), k.clone(), v.clone()));
    }
    for (source, k, v) in &text {
        crate::generators::check(source, k, v, evidence);
    }
    ptr
}

fn exif_fields(blob: &[u8], out: &mut Vec<(String, String, String)>) {
    let Ok(ex) = exif::Reader::new().read_raw(blob.to_vec()) else {
        return;
    };
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
