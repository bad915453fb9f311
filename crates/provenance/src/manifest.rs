//! C2PA: detection parses only the manifest store the container readers cut out (no asset
//! hashing, no network), on the fast path ([`crate::c2pa_fast`]) or, for a store it does not
//! handle, with the `c2pa` crate's `Reader`; both give the reader's JSON shape and one judge
//! ([`judge_value`]) reads it. Verification is a separate, opt-in pass through the `c2pa` crate
//! that re-hashes the asset and reports integrity (hashes, signature) apart from signer trust.
//!
//! Judging follows the C2PA asset-signals rubric: every manifest in the store is read, the
//! active one and each ingredient's reported separately; `c2pa.created`/`c2pa.opened` with a
//! trained-model source type means generated, composite types or a generative transformation
//! mean edited, and non-editorial actions (converted, transcoded, watermarked, …) never count.
//! Each manifest whose history the rubric calls ambiguous (no actions, `allActionsIncluded` not
//! true, custom or `c2pa.unknown` actions, actions only gathered) gets one context item saying
//! why, and so does each ingredient without a manifest (unknown provenance); neither changes a
//! verdict.

use crate::dst;
use crate::evidence::{Evidence, Kind, Signal, Strength, clip, dst_signal};
use serde::Serialize;
use serde_json::Value;
use std::io::{Cursor, Read, Seek};
use std::sync::Arc;

/// UUID of a C2PA manifest store superbox (`c2pa` + the common suffix).
pub const STORE_UUID: [u8; 16] = [
    0x63, 0x32, 0x70, 0x61, 0x00, 0x11, 0x00, 0x10, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];

/// Whether `b` starts with a JUMBF superbox whose description box has the C2PA store UUID.
pub fn is_c2pa_store(b: &[u8]) -> bool {
    b.get(4..8) == Some(b"jumb")
        && b.get(12..16) == Some(b"jumd")
        && b.get(16..32) == Some(&STORE_UUID)
}

/// Actions that never count as a perceptible generative transformation.
const NON_EDITORIAL: &[&str] = &[
    "c2pa.converted",
    "c2pa.published",
    "c2pa.repackaged",
    "c2pa.transcoded",
    "c2pa.resized.proportional",
    "c2pa.enhanced",
    "c2pa.edited.metadata",
    "c2pa.redacted",
];

/// Integrity of the manifest store (hashes and signature), apart from trust.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Integrity {
    /// Hashes and signature check out.
    Valid,
    /// A hash or signature fails.
    Invalid,
    /// A store is present but cannot be parsed.
    Unreadable,
    /// Only a reference to a remote manifest (never fetched).
    Remote,
    /// A pointer to an embedded manifest that is no longer there.
    Stripped,
    /// No manifest.
    None,
    /// A store is present; verification was not requested.
    NotChecked,
}

/// Trust in the signer, apart from integrity. Without a trust list `untrusted` is normal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trust {
    /// The signing certificate chains to a configured trust anchor.
    Trusted,
    /// The certificate does not chain to a configured anchor.
    Untrusted,
    /// The certificate was revoked.
    Revoked,
    /// The certificate had expired at signing time.
    Expired,
    /// The certificate does not meet the C2PA certificate profile.
    InvalidCredential,
    /// Not checked (no manifest, or no verification requested).
    NotChecked,
}

/// The C2PA part of a scan result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct C2paSummary {
    /// A manifest store was found (embedded or sidecar).
    pub present: bool,
    /// Integrity of the store.
    pub integrity: Integrity,
    /// Trust in the signer.
    pub trust: Trust,
    /// The active manifest's claim generator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generator: Option<String>,
    /// The active manifest's label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_manifest: Option<String>,
    /// Number of manifests in the store.
    #[serde(skip_serializing_if = "is_zero")]
    pub manifests: usize,
    /// Where the store came from: `embedded` or `sidecar`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// A remote manifest reference (reported, never fetched).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_url: Option<String>,
    /// Failure codes from verification.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
    /// Why the store could not be read or verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Default for C2paSummary {
    fn default() -> Self {
        Self {
            present: false,
            integrity: Integrity::None,
            trust: Trust::NotChecked,
            generator: None,
            active_manifest: None,
            manifests: 0,
            location: None,
            remote_url: None,
            failures: Vec::new(),
            error: None,
        }
    }
}

/// Why the C2PA engine could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("c2pa settings rejected: {0}")]
pub struct EngineError(String);

/// Shared c2pa contexts: one for detection (no verification), one for verification; and
/// whether detection reads stores on the fast path ([`crate::c2pa_fast`]) first.
pub struct Engine {
    detect: Arc<c2pa::Context>,
    verify: Arc<c2pa::Context>,
    fast: bool,
}

/// What parsing a store found.
pub struct StoreFacts {
    /// Evidence from all manifests.
    pub evidence: Vec<Evidence>,
    /// Active manifest label.
    pub active: Option<String>,
    /// Active manifest's claim generator.
    pub generator: Option<String>,
    /// Number of manifests.
    pub manifests: usize,
}

/// What verification found.
pub struct VerifyFacts {
    /// Integrity of hashes and signature.
    pub integrity: Integrity,
    /// Signer trust.
    pub trust: Trust,
    /// All failure codes.
    pub failures: Vec<String>,
    /// Error text when the reader failed.
    pub error: Option<String>,
    /// Remarks on the verification (such as a re-checked signature).
    pub notes: Vec<String>,
}

impl Engine {
    /// Builds the contexts; `trust_anchors` is a PEM bundle of trusted roots. Detection reads
    /// each store on the fast path and hands the c2pa crate only the stores it does not handle.
    pub fn new(trust_anchors: Option<&str>) -> Result<Self, EngineError> {
        Self::build(trust_anchors, true)
    }

    /// As [`Engine::new`], but detection reads every store with the c2pa crate's `Reader`: the
    /// reference the fast path is checked against.
    pub fn reference(trust_anchors: Option<&str>) -> Result<Self, EngineError> {
        Self::build(trust_anchors, false)
    }

    fn build(trust_anchors: Option<&str>, fast: bool) -> Result<Self, EngineError> {
        let detect = serde_json::json!({
            "verify": { "verify_after_reading": false, "remote_manifest_fetch": false, "ocsp_fetch": false }
        });
        let mut verify = serde_json::json!({
            "verify": { "verify_after_reading": true, "verify_trust": true, "remote_manifest_fetch": false, "ocsp_fetch": false }
        });
        if let (Some(pem), Some(obj)) = (trust_anchors, verify.as_object_mut()) {
            obj.insert(
                "trust".to_string(),
                serde_json::json!({ "trust_anchors": pem }),
            );
        }
        let ctx = |v: Value| -> Result<Arc<c2pa::Context>, EngineError> {
            let c = c2pa::Context::new()
                .with_settings(v.to_string().as_str())
                .map_err(|e| EngineError(e.to_string()))?;
            Ok(c.into_shared())
        };
        Ok(Self {
            detect: ctx(detect)?,
            verify: ctx(verify)?,
            fast,
        })
    }

    /// Parses a raw manifest store (JUMBF) without touching the asset: on the fast path when it
    /// handles the store, else with the c2pa crate.
    pub fn read_store(&self, store: &[u8]) -> Result<StoreFacts, String> {
        if self.fast
            && let Ok(v) = crate::c2pa_fast::read(store)
        {
            return Ok(judge_value(&v));
        }
        guarded(|| {
            let reader = c2pa::Reader::from_shared_context(&self.detect)
                .with_stream("application/c2pa", Cursor::new(store))
                .map_err(|e| e.to_string())?;
            Ok(judge_json(&reader.json()))
        })
    }

    /// Lets the c2pa crate find and parse the store inside an asset (PDF), without verification.
    pub fn read_asset(
        &self,
        mime: &str,
        stream: impl Read + Seek + Send,
    ) -> Result<StoreFacts, String> {
        let reader = c2pa::Reader::from_shared_context(&self.detect)
            .with_stream(mime, stream)
            .map_err(|e| e.to_string())?;
        Ok(judge_json(&reader.json()))
    }

    /// Full validation of an asset's store (embedded, or `sidecar` bytes against the asset).
    /// `store` is the raw store when the container walk found one (used to re-check a reported
    /// signature mismatch, see [`recheck_claim_signature`]).
    pub fn verify(
        &self,
        mime: &str,
        stream: impl Read + Seek + Send,
        sidecar: Option<&[u8]>,
        store: Option<&[u8]>,
    ) -> VerifyFacts {
        let reader = c2pa::Reader::from_shared_context(&self.verify);
        let result = guarded(|| {
            match sidecar {
                Some(store) => reader.with_manifest_data_and_stream(store, mime, stream),
                None => reader.with_stream(mime, stream),
            }
            .map_err(|e| e.to_string())
        });
        match result {
            Ok(r) => {
                let mut facts = verify_json(&r.json());
                let only_signature = facts
                    .failures
                    .iter()
                    .all(|c| c == "claimSignature.mismatch" || is_trust_code(c));
                if facts.integrity == Integrity::Invalid
                    && only_signature
                    && let Some((true, has_org)) =
                        store.and_then(|s| recheck_claim_signature(s, r.active_label()))
                {
                    facts.integrity = Integrity::Valid;
                    if !has_org {
                        facts.trust = Trust::InvalidCredential;
                    }
                    facts.notes.push(format!(
                            "the c2pa crate reports claimSignature.mismatch, but the claim signature verifies{}",
                            if has_org { "" } else { ": the signing certificate's subject has no organization" }
                        ));
                }
                facts
            }
            Err(e) => VerifyFacts {
                integrity: Integrity::Invalid,
                trust: Trust::NotChecked,
                failures: Vec::new(),
                error: Some(e),
                notes: Vec::new(),
            },
        }
    }
}

/// Runs a call into the c2pa crate so that a panic inside it becomes an error for this file
/// instead of ending the scan.
fn guarded<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err("the c2pa crate failed on this manifest store (internal panic)".to_string())
    })
}

fn codes(v: Option<&Value>, out: &mut Vec<String>) {
    for item in v.and_then(Value::as_array).into_iter().flatten() {
        if let Some(c) = item.get("code").and_then(Value::as_str)
            && !out.iter().any(|x| x == c)
        {
            out.push(c.to_string());
        }
    }
}

/// Reads integrity and trust from a verified reader's JSON.
pub fn verify_json(json: &str) -> VerifyFacts {
    let v: Value = serde_json::from_str(json).unwrap_or(Value::Null);
    let mut failures = Vec::new();
    let results = v.get("validation_results");
    codes(
        results
            .and_then(|r| r.get("activeManifest"))
            .and_then(|m| m.get("failure")),
        &mut failures,
    );
    for d in results
        .and_then(|r| r.get("ingredientDeltas"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        codes(
            d.get("validationDeltas").and_then(|m| m.get("failure")),
            &mut failures,
        );
    }
    if results.is_none() {
        for item in v
            .get("validation_status")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(c) = item.get("code").and_then(Value::as_str)
                && !c.ends_with(".validated")
                && !c.ends_with(".match")
                && !c.ends_with(".trusted")
            {
                failures.push(c.to_string());
            }
        }
    }
    let integrity = if failures.iter().any(|c| !is_trust_code(c)) {
        Integrity::Invalid
    } else {
        Integrity::Valid
    };
    let state = v
        .get("validation_state")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let has = |c: &str| failures.iter().any(|x| x == c);
    let trust = if state.eq_ignore_ascii_case("trusted") {
        Trust::Trusted
    } else if has("signingCredential.revoked") {
        Trust::Revoked
    } else if has("signingCredential.expired") {
        Trust::Expired
    } else if has("signingCredential.invalid") {
        Trust::InvalidCredential
    } else {
        Trust::Untrusted
    };
    VerifyFacts {
        integrity,
        trust,
        failures,
        error: None,
        notes: Vec::new(),
    }
}

/// Codes about the signer's credential or time-stamp, or CAWG identity: trust, not integrity.
fn is_trust_code(c: &str) -> bool {
    c.starts_with("signingCredential.") || c.starts_with("timeStamp.") || c.starts_with("cawg.")
}

fn agent_name(a: Option<&Value>) -> Option<String> {
    match a? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => {
            let name = o.get("name").and_then(Value::as_str)?;
            Some(match o.get("version").and_then(Value::as_str) {
                Some(v) => format!("{name} {v}"),
                None => name.to_string(),
            })
        }
        _ => None,
    }
}

fn generator_of(m: &Value) -> Option<String> {
    let info = m.get("claim_generator_info").and_then(|i| match i {
        Value::Array(a) => a.first(),
        other => Some(other),
    });
    agent_name(info).or_else(|| {
        m.get("claim_generator")
            .and_then(Value::as_str)
            .map(str::to_string)
    })
}

/// Judges a reader's JSON: every manifest, the active one and ingredients apart.
pub fn judge_json(json: &str) -> StoreFacts {
    judge_value(&serde_json::from_str(json).unwrap_or(Value::Null))
}

/// Judges a store in the reader's JSON shape (from the c2pa crate or the fast path). Manifests
/// are judged active first, then by label, so the evidence comes in the same order whichever
/// path read the store (the reader's map has no fixed order).
pub fn judge_value(v: &Value) -> StoreFacts {
    let active = v
        .get("active_manifest")
        .and_then(Value::as_str)
        .map(str::to_string);
    let empty = serde_json::Map::new();
    let manifests = v
        .get("manifests")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut order: Vec<(&String, &Value)> = manifests.iter().collect();
    order.sort_by_key(|(l, _)| (active.as_deref() != Some(l.as_str()), l.as_str()));
    // ingredients that have a manifest of their own, to name the source of that manifest
    let refs: Vec<IngredientRef<'_>> = order
        .iter()
        .flat_map(|(_, m)| ingredients(m))
        .filter(|i| i.manifest.is_some())
        .collect();
    let mut evidence = Vec::new();
    for (label, m) in order {
        let is_active = active.as_deref() == Some(label.as_str());
        let (source, cap) = if is_active {
            ("active manifest".to_string(), Signal::Generated)
        } else {
            match refs.iter().find(|i| i.manifest == Some(label.as_str())) {
                Some(i) => (
                    format!("ingredient manifest `{}` ({})", i.title, i.relationship),
                    if i.relationship == "parentOf" {
                        Signal::Generated
                    } else {
                        Signal::Edited
                    },
                ),
                None => (format!("manifest `{label}`"), Signal::Edited),
            }
        };
        judge_manifest(m, &source, cap, &mut evidence);
        let conditions = ambiguity(m);
        if !conditions.is_empty() {
            evidence.push(Evidence {
                kind: Kind::C2paAmbiguous,
                detail: format!("manifest `{}`: {}", clip(label), conditions.join("; ")),
                source: source.clone(),
                strength: Strength::Definitive,
                signal: Signal::Context,
            });
        }
        for i in ingredients(m) {
            let Some(detail) = unknown_provenance(&i, manifests) else {
                continue;
            };
            evidence.push(Evidence {
                kind: Kind::C2paIngredientUnknownProvenance,
                detail,
                source: source.clone(),
                strength: Strength::Definitive,
                signal: Signal::Context,
            });
        }
    }
    let generator = active
        .as_deref()
        .and_then(|a| manifests.get(a))
        .and_then(generator_of);
    StoreFacts {
        evidence,
        active,
        generator,
        manifests: manifests.len(),
    }
}

/// An ingredient as a manifest lists it.
struct IngredientRef<'a> {
    /// The label of the ingredient's own manifest (`activeManifest`/`c2pa_manifest`).
    manifest: Option<&'a str>,
    title: &'a str,
    relationship: &'a str,
}

/// The ingredients that manifest `m` lists.
fn ingredients(m: &Value) -> impl Iterator<Item = IngredientRef<'_>> {
    m.get("ingredients")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|ing| IngredientRef {
            manifest: ing
                .get("active_manifest")
                .or_else(|| ing.get("manifest"))
                .and_then(Value::as_str),
            title: ing
                .get("title")
                .and_then(Value::as_str)
                .unwrap_or("untitled"),
            relationship: ing
                .get("relationship")
                .and_then(Value::as_str)
                .unwrap_or("componentOf"),
        })
}

/// Why an ingredient's provenance is unknown: it has no manifest of its own (no
/// `activeManifest`/`c2pa_manifest`), or names one that is not in the store. `None` when its
/// manifest is there.
fn unknown_provenance(
    i: &IngredientRef<'_>,
    manifests: &serde_json::Map<String, Value>,
) -> Option<String> {
    let what = match i.manifest {
        Some(label) if manifests.contains_key(label) => return None,
        Some(label) => format!(
            "names manifest `{}`, which is not in the store",
            clip(label)
        ),
        None => "has no manifest".to_string(),
    };
    let (title, rel) = (clip(i.title), i.relationship);
    Some(if rel == "inputTo" {
        format!(
            "ingredient `{title}` ({rel}) {what}: input to an AI/ML process, provenance unknown"
        )
    } else {
        format!("ingredient `{title}` ({rel}) {what}: provenance unknown")
    })
}

/// Actions defined by the C2PA specification (2.2, plus the bound/unbound watermark and the
/// proportional resize refinements). Anything else is a custom action.
const STANDARD_ACTIONS: &[&str] = &[
    "c2pa.addedText",
    "c2pa.adjustedColor",
    "c2pa.changedSpeed",
    "c2pa.color_adjustments",
    "c2pa.converted",
    "c2pa.created",
    "c2pa.cropped",
    "c2pa.deleted",
    "c2pa.drawing",
    "c2pa.dubbed",
    "c2pa.edited",
    "c2pa.edited.metadata",
    "c2pa.enhanced",
    "c2pa.filtered",
    "c2pa.opened",
    "c2pa.orientation",
    "c2pa.placed",
    "c2pa.published",
    "c2pa.redacted",
    "c2pa.removed",
    "c2pa.repackaged",
    "c2pa.resized",
    "c2pa.resized.proportional",
    "c2pa.transcoded",
    "c2pa.translated",
    "c2pa.trimmed",
    "c2pa.unknown",
    "c2pa.watermarked",
    "c2pa.watermarked.bound",
    "c2pa.watermarked.unbound",
];

/// The most custom action names one ambiguity detail lists.
const MAX_LISTED: usize = 5;

/// Why manifest `m` is "ambiguous" under the asset-signals rubric: no actions,
/// `allActionsIncluded` not true, custom or `c2pa.unknown` actions, or actions in
/// `gathered_assertions` (which the signer does not vouch for). Empty when none applies.
fn ambiguity(m: &Value) -> Vec<String> {
    let actions: Vec<&Value> = m
        .get("assertions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|a| {
            a.get("label")
                .and_then(Value::as_str)
                .is_some_and(|l| l.starts_with("c2pa.actions"))
        })
        .collect();
    let names: Vec<&str> = actions
        .iter()
        .filter_map(|a| a.get("data")?.get("actions")?.as_array())
        .flatten()
        .map(|act| {
            act.get("action")
                .and_then(Value::as_str)
                .unwrap_or("(no name)")
        })
        .collect();
    let mut out = Vec::new();
    if names.is_empty() {
        out.push("no actions".to_string());
    } else if !actions.iter().any(|a| {
        a.get("data")
            .and_then(|d| d.get("allActionsIncluded"))
            .and_then(Value::as_bool)
            == Some(true)
    }) {
        out.push("allActionsIncluded is not true".to_string());
    }
    if names.contains(&"c2pa.unknown") {
        out.push("c2pa.unknown action".to_string());
    }
    let mut custom: Vec<&str> = Vec::new();
    for &n in &names {
        if !STANDARD_ACTIONS.contains(&n) && !custom.contains(&n) {
            custom.push(n);
        }
    }
    if !custom.is_empty() {
        let mut listed: Vec<String> = custom
            .iter()
            .take(MAX_LISTED)
            .map(|n| format!("`{}`", clip(n)))
            .collect();
        if custom.len() > MAX_LISTED {
            listed.push(format!("{} more", custom.len().saturating_sub(MAX_LISTED)));
        }
        out.push(format!(
            "custom action{} {}",
            if custom.len() == 1 { "" } else { "s" },
            listed.join(", ")
        ));
    }
    // Claims v2 split assertions into created (the signer's own) and gathered ones; the c2pa
    // crate marks the created ones `"created": true`. Claims v1 make no such split.
    let v2 = m
        .get("claim_version")
        .and_then(Value::as_u64)
        .is_some_and(|v| v >= 2);
    if v2
        && actions
            .iter()
            .any(|a| a.get("created").and_then(Value::as_bool) != Some(true))
    {
        out.push("actions in gathered_assertions (not vouched for by the signer)".to_string());
    }
    out
}

fn judge_manifest(m: &Value, source: &str, cap: Signal, out: &mut Vec<Evidence>) {
    let mut push = |kind, detail: String, strength, signal: Signal| {
        out.push(Evidence {
            kind,
            detail,
            source: source.to_string(),
            strength,
            signal: signal.min(cap),
        });
    };
    for a in m
        .get("assertions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let label = a.get("label").and_then(Value::as_str).unwrap_or_default();
        let data = a.get("data");
        if label.starts_with("c2pa.actions") {
            for act in data
                .and_then(|d| d.get("actions"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = act
                    .get("action")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown");
                let agent = agent_name(act.get("softwareAgent"));
                let Some(d) = act.get("digitalSourceType").and_then(Value::as_str) else {
                    if let Some(ag) = &agent
                        && let Some((n, _)) = crate::generators::NAMES
                            .iter()
                            .find(|(n, _)| crate::generators::contains_name(ag, n))
                    {
                        push(
                            Kind::C2paGenerator,
                            format!("{name} by {ag} ({n})"),
                            Strength::Weak,
                            Signal::Possible,
                        );
                    }
                    continue;
                };
                let class = dst::classify(d);
                let inception = name == "c2pa.created" || name == "c2pa.opened";
                let non_editorial =
                    NON_EDITORIAL.contains(&name) || name.starts_with("c2pa.watermarked");
                let signal = match dst_signal(class) {
                    Some(s) if inception => s,
                    Some(_) if non_editorial => continue,
                    Some(Signal::Generated) => Signal::Edited,
                    Some(s) => s,
                    None => continue,
                };
                let by = agent.map(|g| format!(" by {g}")).unwrap_or_default();
                push(
                    Kind::C2paAction,
                    format!("{name} {}{by}", dst::term(d)),
                    Strength::Definitive,
                    signal,
                );
            }
        } else if matches!(
            label,
            "c2pa.metadata" | "cawg.metadata" | "stds.iptc.photo-metadata" | "stds.iptc"
        ) {
            let mut found = Vec::new();
            find_dst(data, &mut found, 0);
            // metadata maps have no fixed key order in the reader's JSON
            found.sort();
            for d in found {
                if let Some(s) = dst_signal(dst::classify(&d)) {
                    push(
                        Kind::C2paMetadata,
                        format!("{label} DigitalSourceType {}", dst::term(&d)),
                        Strength::Definitive,
                        s,
                    );
                }
            }
        }
    }
    if let Some(g) = generator_of(m)
        && let Some((n, _)) = crate::generators::NAMES
            .iter()
            .find(|(n, _)| crate::generators::contains_name(&g, n))
    {
        push(
            Kind::C2paGenerator,
            format!("claim generator {g} ({n})"),
            Strength::Weak,
            Signal::Possible,
        );
    }
}

fn find_dst(v: Option<&Value>, out: &mut Vec<String>, depth: usize) {
    if depth > 16 {
        return;
    }
    match v {
        Some(Value::Object(o)) => {
            for (k, x) in o {
                if k.ends_with("DigitalSourceType") {
                    match x {
                        Value::String(s) => out.push(s.clone()),
                        Value::Object(inner) => {
                            if let Some(Value::String(s)) = inner.get("@id") {
                                out.push(s.clone());
                            }
                        }
                        _ => {}
                    }
                } else {
                    find_dst(Some(x), out, depth.saturating_add(1));
                }
            }
        }
        Some(Value::Array(a)) => a
            .iter()
            .for_each(|x| find_dst(Some(x), out, depth.saturating_add(1))),
        _ => {}
    }
}

/// JUMBF boxes in `b`: (type, payload). Stops at the first malformed box.
fn jumbf_boxes(mut b: &[u8]) -> Vec<([u8; 4], &[u8])> {
    use crate::source::bytes;
    let mut out = Vec::new();
    while b.len() >= 8 && out.len() < 10_000 {
        let Some(lbox) = bytes::be32(b, 0) else { break };
        let Some(kind) = b.get(4..8).and_then(|k| <[u8; 4]>::try_from(k).ok()) else {
            break;
        };
        let (header, len) = match lbox {
            1 => {
                let Some(x) = bytes::slice(b, 8, 8).and_then(|s| <[u8; 8]>::try_from(s).ok())
                else {
                    break;
                };
                (
                    16usize,
                    usize::try_from(u64::from_be_bytes(x)).unwrap_or(usize::MAX),
                )
            }
            0 => (8, b.len()),
            n => (8, usize::try_from(n).unwrap_or(usize::MAX)),
        };
        let (Some(payload), Some(rest)) = (b.get(header..len), b.get(len..)) else {
            break;
        };
        out.push((kind, payload));
        b = rest;
    }
    out
}

/// The label of a JUMBF superbox payload (from its `jumd` description box).
fn jumbf_label(superbox: &[u8]) -> Option<String> {
    let boxes = jumbf_boxes(superbox);
    let (kind, desc) = boxes.first()?;
    if kind != b"jumd" {
        return None;
    }
    let (label, _) = crate::source::bytes::cstr(desc.get(17..)?);
    Some(String::from_utf8_lossy(label).to_string())
}

/// The content box payload of the child superbox of `manifest` labelled one of `labels`.
fn jumbf_child<'a>(manifest: &'a [u8], labels: &[&str]) -> Option<&'a [u8]> {
    jumbf_boxes(manifest)
        .into_iter()
        .filter(|(k, _)| k == b"jumb")
        .find(|(_, p)| jumbf_label(p).is_some_and(|l| labels.contains(&l.as_str())))
        .and_then(|(_, p)| jumbf_boxes(p).get(1).map(|(_, c)| *c))
}

/// Re-checks the active manifest's claim signature with the c2pa crate's own COSE parsing
/// and raw signature validator. c2pa 0.90.22 reports `claimSignature.mismatch` not only for a
/// bad signature but also when a good signature's certificate subject has no organization;
/// this tells the two apart. `Some((verifies, subject_has_organization))`.
pub fn recheck_claim_signature(store: &[u8], active: Option<&str>) -> Option<(bool, bool)> {
    let top = jumbf_boxes(store);
    let (_, store_payload) = top.first().filter(|(k, _)| k == b"jumb")?;
    let manifests: Vec<&[u8]> = jumbf_boxes(store_payload)
        .into_iter()
        .filter(|(k, _)| k == b"jumb")
        .map(|(_, p)| p)
        .collect();
    let manifest = match active {
        Some(label) => manifests
            .iter()
            .find(|m| jumbf_label(m).as_deref() == Some(label))
            .copied(),
        None => manifests.last().copied(),
    }?;
    let claim = jumbf_child(manifest, &["c2pa.claim.v2", "c2pa.claim"])?;
    let cose = jumbf_child(manifest, &["c2pa.signature"])?;
    let mut log = c2pa::status_tracker::StatusTracker::default();
    let mut sign1 = c2pa::crypto::cose::parse_cose_sign1(cose, claim, &mut log).ok()?;
    let alg = c2pa::crypto::cose::signing_alg_from_sign1(&sign1).ok()?;
    let certs = c2pa::crypto::cose::cert_chain_from_sign1(&sign1).ok()?;
    let (_, cert) = x509_parser::parse_x509_certificate(certs.first()?).ok()?;
    let has_org = cert.subject().iter_organization().next().is_some();
    sign1.payload = Some(claim.to_vec());
    let tbs = sign1.tbs_data(&[]);
    let validator = c2pa::crypto::raw_signature::validator_for_signing_alg(alg)?;
    Some((
        validator
            .validate(&sign1.signature, &tbs, cert.public_key().raw)
            .is_ok(),
        has_org,
    ))
}

#[cfg(test)]
#[allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code"
)]
mod tests {
    use super::*;
    use serde_json::json;

    fn store(manifests: Value) -> String {
        let active = manifests
            .as_object()
            .and_then(|m| m.keys().next().cloned())
            .unwrap();
        json!({ "active_manifest": active, "manifests": manifests }).to_string()
    }

    fn actions(list: Value, all: Option<bool>, created: bool) -> Value {
        let mut data = json!({ "actions": list });
        if let Some(all) = all {
            data["allActionsIncluded"] = json!(all);
        }
        let mut a = json!({ "label": "c2pa.actions.v2", "data": data });
        if created {
            a["created"] = json!(true);
        }
        a
    }

    fn of_kind(f: &StoreFacts, kind: Kind) -> Vec<&Evidence> {
        f.evidence.iter().filter(|e| e.kind == kind).collect()
    }

    #[test]
    fn a_complete_created_history_is_not_ambiguous() {
        let f = judge_json(&store(json!({ "urn:a": {
            "claim_version": 2,
            "assertions": [actions(json!([{ "action": "c2pa.created" }, { "action": "c2pa.cropped" }]), Some(true), true)]
        }})));
        assert!(
            of_kind(&f, Kind::C2paAmbiguous).is_empty(),
            "{:?}",
            f.evidence
        );
    }

    #[test]
    fn all_conditions_make_one_item_per_manifest() {
        let f = judge_json(&store(json!({ "urn:a": {
            "claim_version": 2,
            "assertions": [actions(json!([
                { "action": "c2pa.created" },
                { "action": "c2pa.unknown" },
                { "action": "com.example.retouch" },
                { "action": "com.example.retouch" }
            ]), None, false)]
        }})));
        let a = of_kind(&f, Kind::C2paAmbiguous);
        assert_eq!(a.len(), 1, "{:?}", f.evidence);
        let d = &a[0].detail;
        assert!(d.starts_with("manifest `urn:a`: "), "{d}");
        assert!(d.contains("allActionsIncluded is not true"), "{d}");
        assert!(d.contains("c2pa.unknown action"), "{d}");
        assert!(d.contains("custom action `com.example.retouch`;"), "{d}");
        assert!(d.contains("gathered_assertions"), "{d}");
        assert_eq!(a[0].signal, Signal::Context);
        assert_eq!(a[0].source, "active manifest");
    }

    #[test]
    fn no_actions_and_v1_claims() {
        // no actions at all: says so, and not also that allActionsIncluded is missing
        let f = judge_json(&store(
            json!({ "urn:a": { "claim_version": 2, "assertions": [] } }),
        ));
        assert_eq!(
            of_kind(&f, Kind::C2paAmbiguous)[0].detail,
            "manifest `urn:a`: no actions"
        );
        // a v1 claim has no created/gathered split
        let f = judge_json(&store(json!({ "urn:a": {
            "claim_version": 1,
            "assertions": [actions(json!([{ "action": "c2pa.created" }]), Some(true), false)]
        }})));
        assert!(
            of_kind(&f, Kind::C2paAmbiguous).is_empty(),
            "{:?}",
            f.evidence
        );
    }

    #[test]
    fn many_custom_actions_are_listed_in_part() {
        let list: Vec<Value> = (0..9)
            .map(|i| json!({ "action": format!("org.example.a{i}") }))
            .collect();
        let f = judge_json(&store(json!({ "urn:a": {
            "claim_version": 1,
            "assertions": [actions(json!(list), Some(true), false)]
        }})));
        let d = &of_kind(&f, Kind::C2paAmbiguous)[0].detail;
        assert!(d.ends_with("`org.example.a4`, 4 more"), "{d}");
    }

    #[test]
    fn ingredients_without_a_manifest_have_unknown_provenance() {
        let f = judge_json(&store(json!({
            "urn:a": {
                "claim_version": 2,
                "assertions": [actions(json!([{ "action": "c2pa.placed" }]), Some(true), true)],
                "ingredients": [
                    { "title": "prompt.png", "relationship": "inputTo" },
                    { "title": "photo.jpg", "relationship": "componentOf" },
                    { "title": "gone.jpg", "relationship": "parentOf", "active_manifest": "urn:gone" },
                    { "title": "known.jpg", "relationship": "componentOf", "active_manifest": "urn:b" }
                ]
            },
            "urn:b": {
                "claim_version": 2,
                "assertions": [actions(json!([{ "action": "c2pa.created" }]), Some(true), true)],
                "ingredients": [{ "title": "inner.jpg" }]
            }
        })));
        let u: Vec<(&str, &str)> = of_kind(&f, Kind::C2paIngredientUnknownProvenance)
            .iter()
            .map(|e| (e.detail.as_str(), e.source.as_str()))
            .collect();
        assert_eq!(
            u,
            [
                (
                    "ingredient `prompt.png` (inputTo) has no manifest: input to an AI/ML process, provenance unknown",
                    "active manifest"
                ),
                (
                    "ingredient `photo.jpg` (componentOf) has no manifest: provenance unknown",
                    "active manifest"
                ),
                (
                    "ingredient `gone.jpg` (parentOf) names manifest `urn:gone`, which is not in the store: provenance unknown",
                    "active manifest"
                ),
                (
                    "ingredient `inner.jpg` (componentOf) has no manifest: provenance unknown",
                    "ingredient manifest `known.jpg` (componentOf)"
                ),
            ]
        );
        assert!(f.evidence.iter().all(|e| e.signal == Signal::Context));
    }

    #[test]
    fn odd_json_shapes_do_not_panic() {
        for j in [
            "null",
            "{}",
            r#"{"manifests":{"a":{"assertions":[{"label":"c2pa.actions","data":{"actions":7}}]}}}"#,
            r#"{"manifests":{"a":{"claim_version":"2","assertions":[{"label":"c2pa.actions","data":[]}],"ingredients":{"x":1}}}}"#,
            r#"{"manifests":{"a":{"ingredients":[1,null,{"title":5}]}}}"#,
        ] {
            let _ = judge_json(j);
        }
    }
}
