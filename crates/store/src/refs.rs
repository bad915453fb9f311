//! Protected reference images: the perceptual hashes an output is checked
//! against for near-copies. The ledger keeps each reference image's hashes
//! (one per variant: crops, rotations, orientations) with its label, source
//! path and file digest; adding references is audited like every change.
//! Hashing is `greenlight-screen`'s job: this module only checks and stores.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::backend::{Kind, Store};
use crate::error::{Result, Rule, StoreError};
use crate::ledger::{Ledger, MAX_PAGE};
use crate::records::{Page, Record};
use crate::time::Timestamp;

/// The most hashes one reference holds.
pub const MAX_REFERENCE_HASHES: usize = 1_000;

/// The longest label, in characters.
pub const MAX_LABEL: usize = 200;

/// One perceptual hash of a reference image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceHash {
    /// Which variant of the image it hashes (`original`, `crop:…`, `rotate:…`).
    pub variant: String,
    /// The 256-bit PDQ hash, 64 lowercase hex digits.
    pub hash: String,
    /// PDQ's quality, 0..=100.
    pub quality: u8,
}

/// A protected reference image as the ledger keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageReference {
    /// The id: the sha256 of the label and the file's digest, so one file is
    /// kept once per label.
    pub id: String,
    /// The set it belongs to (a franchise, a rights holder, a film).
    pub label: String,
    /// Where the file was read from, as given.
    pub source_path: String,
    /// The file's sha256.
    pub file_sha256: String,
    /// Its hashes.
    pub hashes: Vec<ReferenceHash>,
    /// When it was added.
    pub added_at: Timestamp,
    /// Who added it.
    pub added_by: String,
}

impl Record for ImageReference {
    const KIND: Kind = Kind::ImageReference;
    fn key(&self) -> String {
        self.id.clone()
    }
    fn parent(&self) -> Option<String> {
        Some(self.label.clone())
    }
}

/// A reference image to add.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewImageReference {
    /// The set it belongs to.
    pub label: String,
    /// Where the file was read from.
    pub source_path: String,
    /// The file's sha256.
    pub file_sha256: String,
    /// Its hashes.
    pub hashes: Vec<ReferenceHash>,
}

/// The id a reference gets: the sha256 of `label`, a NUL and the file's digest.
pub fn reference_id(label: &str, file_sha256: &str) -> String {
    let mut digest = Sha256::new();
    digest.update(label.as_bytes());
    digest.update([0u8]);
    digest.update(file_sha256.as_bytes());
    hex::encode(digest.finalize())
}

fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn check(new: &NewImageReference) -> Result<()> {
    let bad = |message: String| Err(StoreError::invalid(Rule::BadInput, message));
    let label = new.label.trim();
    if label.is_empty() || label.chars().count() > MAX_LABEL {
        return bad(format!("a reference label is 1 to {MAX_LABEL} characters"));
    }
    if new.label.chars().any(char::is_control) {
        return bad("a reference label holds no control characters".to_owned());
    }
    if new.source_path.chars().any(|c| c == '\0') || new.source_path.len() > 4096 {
        return bad("the source path is not a path".to_owned());
    }
    if !is_hex(&new.file_sha256, 64) {
        return bad(format!(
            "`{}` is not a sha256 (64 lowercase hex digits)",
            new.file_sha256.chars().take(80).collect::<String>()
        ));
    }
    if new.hashes.is_empty() || new.hashes.len() > MAX_REFERENCE_HASHES {
        return bad(format!(
            "a reference has 1 to {MAX_REFERENCE_HASHES} hashes, not {}",
            new.hashes.len()
        ));
    }
    for (n, h) in new.hashes.iter().enumerate() {
        if !is_hex(&h.hash, 64) {
            return bad(format!("hash {} is not 64 lowercase hex digits", n + 1));
        }
        if h.quality > 100 {
            return bad(format!(
                "hash {}: quality {} is above 100",
                n + 1,
                h.quality
            ));
        }
        if h.variant.is_empty() || h.variant.len() > 100 || h.variant.chars().any(char::is_control)
        {
            return bad(format!(
                "hash {}: the variant name is empty or too long",
                n + 1
            ));
        }
    }
    Ok(())
}

/// What adding references did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddedReferences {
    /// The references written (new, or with changed hashes or path).
    pub added: Vec<ImageReference>,
    /// Those already in the ledger as given, left as they were.
    pub unchanged: Vec<ImageReference>,
}

impl<S: Store + ?Sized> Ledger<S> {
    /// Adds reference images in one write, one audit entry each. A file
    /// already kept under the same label keeps its record when nothing
    /// changed, and is updated (audited) when its hashes or path did. At
    /// most [`MAX_PAGE`] at a time.
    pub async fn add_image_references(
        &self,
        actor: &str,
        new: Vec<NewImageReference>,
    ) -> Result<AddedReferences> {
        if new.len() > MAX_PAGE as usize {
            return Err(StoreError::invalid(
                Rule::BadInput,
                format!("at most {MAX_PAGE} references at a time, not {}", new.len()),
            ));
        }
        for n in &new {
            check(n)?;
        }
        let mut w = self.begin(actor).await?;
        let mut out = AddedReferences {
            added: Vec::new(),
            unchanged: Vec::new(),
        };
        for n in new {
            let id = reference_id(n.label.trim(), &n.file_sha256);
            let before: Option<ImageReference> = w.load(&id).await?;
            if let Some(old) = &before
                && old.hashes == n.hashes
                && old.source_path == n.source_path
            {
                out.unchanged.push(old.clone());
                continue;
            }
            let record = ImageReference {
                id,
                label: n.label.trim().to_owned(),
                source_path: n.source_path,
                file_sha256: n.file_sha256,
                hashes: n.hashes,
                added_at: w.at,
                added_by: w.actor.clone(),
            };
            w.save(&record).await?;
            out.added.push(record);
        }
        w.commit(self.audit_key()).await?;
        Ok(out)
    }

    /// One page of reference images, in id order; all labels when `label` is `None`.
    pub async fn image_references(
        &self,
        label: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<ImageReference>> {
        self.page_of(label, after, limit).await
    }
}
