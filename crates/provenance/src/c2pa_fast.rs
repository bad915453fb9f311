//! The fast C2PA detection path: a manifest store read straight from its JUMBF boxes, decoding
//! only the claims and the assertions the verdict needs, into the same JSON shape the c2pa
//! crate's `Reader::json()` gives (only the fields [`crate::manifest`] judges). No hashing, no
//! signature or certificate parsing, no copies of thumbnails.
//!
//! CBOR is decoded with `c2pa_cbor`, the decoder the c2pa crate itself uses (a `serde_cbor`
//! fork, already built for it), so a byte string the reference accepts or rejects is accepted
//! or rejected here the same way; the actions and metadata assertions are decoded into the c2pa
//! crate's own public types (`c2pa::assertions::Actions`, `Metadata`) and turned into JSON the
//! way it does, so their data is the same value.
//!
//! The reference semantics followed (c2pa 0.90.22, verification off): the store superbox must
//! carry the `c2pa` UUID; manifest boxes with the `c2ma`, `c2md` and `c2um` (update) UUIDs are
//! read, others skipped; the active manifest is the last one read; a claim is v1 (`assertions`)
//! or v2 (`created_assertions`, optional `gathered_assertions`) by its fields, with the fields of
//! its version only, and must name an `alg`; every assertion box must be named by the claim (by
//! the reference's substring match of the label with its `__N` instance), and its CBOR or JSON
//! must parse; the JSON lists the claim's assertions in claim order, actions under the
//! `c2pa.actions.v2` label with `created` set for a v2 claim's `created_assertions`, ingredients
//! (v1/v2/v3, with the fields each version requires) with the manifest label of their
//! `activeManifest`/`c2pa_manifest` URI; a manifest whose actions, ingredient or metadata
//! assertion does not decode is left out of the JSON (the reference logs it and goes on).
//!
//! A compressed manifest (a superbox whose first box is Brotli data, `c2cm`) is read from its
//! data decompressed with the reference's decoder and size limit; a data box store
//! (`c2pa.databoxes`) is checked as the reference loads it (each box's CBOR a `DataBox`) and
//! otherwise not read; update manifests (`c2um`) are read like any other. The reference's
//! refusal of pre-1.0 stores (the claim hashing a manifest's first assertion's bare data) is
//! checked last, once the store has passed every other check, and the digest is only computed
//! when the claim's hash has the length of its algorithm's.
//!
//! Whatever this path does not handle, it does not guess: [`read`] answers [`Unsupported`] and
//! the caller reads that store with the c2pa crate instead. That covers UUID assertions
//! (redactions), icons, templates in actions,
//! `c2pa.assertion.metadata`, duplicate labels, extended box sizes, assertion URIs into another
//! manifest, and every store the reference would refuse (so a refusal is always the reference's
//! own error text). `cawg.identity` assertions are decoded as the reference decodes them but not
//! validated (validation only rewrites their value, which the judge does not read).

use crate::jumbf::{self, Child, SuperBox, Unsupported};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

type Cbor = c2pa_cbor::Value;

/// Claim v1 fields (anything else makes the reference refuse the claim).
const V1_FIELDS: &[&str] = &[
    "claim_generator",
    "claim_generator_hints",
    "claim_generator_info",
    "signature",
    "assertions",
    "dc:format",
    "instanceID",
    "dc:title",
    "redacted_assertions",
    "alg",
    "alg_soft",
    "metadata",
];

/// Claim v2 fields.
const V2_FIELDS: &[&str] = &[
    "instanceID",
    "claim_generator_info",
    "signature",
    "created_assertions",
    "gathered_assertions",
    "dc:title",
    "redacted_assertions",
    "alg",
    "alg_soft",
    "metadata",
];

/// Most assertion boxes one manifest may hold on this path.
const MAX_ASSERTIONS: usize = 10_000;

/// Reads a raw manifest store into the reader-shaped JSON the judge takes, or says the store
/// needs the c2pa crate.
pub fn read(store: &[u8]) -> Result<Value, Unsupported> {
    let root = jumbf::parse(store)?;
    if root.uuid != jumbf::uuid(b"c2pa") {
        return Err(Unsupported);
    }
    let known = [
        jumbf::uuid(b"c2ma"),
        jumbf::uuid(b"c2md"),
        jumbf::uuid(b"c2um"),
    ];
    // A manifest superbox whose first box is Brotli data (`c2cm`, whatever its UUID says) is
    // read from that data decompressed, as the reference reads it; decompressed first, so the
    // boxes parsed from it can borrow it.
    let inflated: Vec<Option<Vec<u8>>> = root
        .children
        .iter()
        .map(|child| match child {
            Child::Super(m) => match m.first() {
                Some(Child::Content([b'b', b'r', b'o', b'b'], body)) => unbrotli(body).map(Some),
                _ => Ok(None),
            },
            Child::Content(..) => Err(Unsupported),
        })
        .collect::<Result<_, _>>()?;
    let unpacked: Vec<Option<SuperBox<'_>>> = inflated
        .iter()
        .map(|i| i.as_deref().map(jumbf::parse).transpose())
        .collect::<Result<_, _>>()?;
    let mut labels: Vec<&str> = Vec::new();
    let mut manifests = Map::new();
    let mut prerelease = Vec::new();
    for (child, unpacked) in root.children.iter().zip(&unpacked) {
        let Child::Super(outer) = child else {
            return Err(Unsupported);
        };
        let m = unpacked.as_ref().unwrap_or(outer);
        if !known.contains(&m.uuid) {
            continue;
        }
        // a label with `/` or `=` breaks the reference's URIs into it; duplicates replace each other
        if labels.contains(&m.label) || m.label.contains(['/', '=']) {
            return Err(Unsupported);
        }
        labels.push(m.label);
        let loaded = manifest(m)?;
        if let Some(v) = loaded.json()? {
            manifests.insert(m.label.to_string(), v);
        }
        prerelease.extend(loaded.first);
    }
    // Last, once every other check has passed (a store going to the reference pays no hash
    // here): the reference's refusal of pre-1.0 stores.
    for first in &prerelease {
        if first.is_old()? {
            return Err(Unsupported);
        }
    }
    // a store without a manifest: whatever the reference makes of it, it is its call
    let Some(active) = labels.last() else {
        return Err(Unsupported);
    };
    let mut out = Map::new();
    out.insert(
        "active_manifest".into(),
        Value::String((*active).to_string()),
    );
    out.insert("manifests".into(), Value::Object(manifests));
    Ok(Value::Object(out))
}

/// What one assertion box holds.
enum Data<'a> {
    Cbor(&'a [u8]),
    Json(&'a [u8]),
    /// Embedded file content (thumbnails): never decoded for the reference's reader JSON.
    Binary,
}

/// One assertion box, as the reference indexes it.
struct Assertion<'a> {
    /// The label without its instance (`c2pa.actions.v2`).
    label: String,
    instance: usize,
    data: Data<'a>,
    /// In a v2 claim's `created_assertions`.
    created: bool,
}

/// A manifest whose boxes and claim passed the reference's store checks.
struct Loaded<'a> {
    label: &'a str,
    version: u8,
    generator: Option<String>,
    generator_info: Option<Value>,
    /// The claim's assertion URIs in order (v2: created, then gathered).
    uris: Vec<String>,
    assertions: Vec<Assertion<'a>>,
    /// The first assertion box, when there is one.
    first: Option<FirstAssertion<'a>>,
}

fn only_content<'a>(b: &SuperBox<'a>, kind: &[u8; 4]) -> Result<&'a [u8], Unsupported> {
    match b.children.as_slice() {
        [Child::Content(k, body)] if k == kind => Ok(body),
        _ => Err(Unsupported),
    }
}

/// The reference's split of a manifest child box label into name and `.vN` version.
fn box_name(label: &str) -> &str {
    if let Some((l, v)) = label.rsplit_once('.')
        && v.len() == 2
        && v.starts_with('v')
        && v.get(1..).is_some_and(|d| d.parse::<usize>().is_ok())
    {
        return l;
    }
    label
}

fn manifest<'a>(m: &SuperBox<'a>) -> Result<Loaded<'a>, Unsupported> {
    let (mut claim, mut signature, mut assertions, mut credentials) = (None, None, None, None);
    let mut databoxes = None;
    for child in &m.children {
        let Child::Super(b) = child else {
            return Err(Unsupported);
        };
        let slot = match (box_name(b.label), &b.uuid) {
            ("c2pa.claim", u) if *u == jumbf::uuid(b"c2cl") => &mut claim,
            ("c2pa.signature", u) if *u == jumbf::uuid(b"c2cs") => &mut signature,
            ("c2pa.assertions", u) if *u == jumbf::uuid(b"c2as") => &mut assertions,
            ("c2pa.credentials", u) if *u == jumbf::uuid(b"c2vc") => &mut credentials,
            ("c2pa.databoxes", u) if *u == jumbf::uuid(b"c2db") => &mut databoxes,
            _ => return Err(Unsupported),
        };
        if slot.replace(b).is_some() {
            return Err(Unsupported);
        }
    }
    let (Some(claim_box), Some(sig_box), Some(store)) = (claim, signature, assertions) else {
        return Err(Unsupported);
    };
    if !matches!(claim_box.label, "c2pa.claim" | "c2pa.claim.v2") {
        return Err(Unsupported);
    }
    only_content(sig_box, b"cbor")?;
    let claim: Cbor =
        c2pa_cbor::from_slice(only_content(claim_box, b"cbor")?).map_err(|_| Unsupported)?;
    let Cbor::Map(fields) = &claim else {
        return Err(Unsupported);
    };
    let has = |k: &str| field::<Vec<c2pa::HashedUri>>(&claim, k).is_some();
    let version: u8 = match (has("assertions"), has("created_assertions")) {
        (true, false) => 1,
        (false, true) => 2,
        _ => return Err(Unsupported),
    };
    let allowed = if version == 1 { V1_FIELDS } else { V2_FIELDS };
    for k in fields.keys() {
        match k {
            Cbor::Text(t) if allowed.contains(&t.as_str()) => {}
            _ => return Err(Unsupported),
        }
    }
    field::<String>(&claim, "instanceID").ok_or(Unsupported)?;
    field::<String>(&claim, "signature").ok_or(Unsupported)?;
    field::<String>(&claim, "alg").ok_or(Unsupported)?;
    let (generator, infos, uris, gathered_from) = if version == 1 {
        field::<String>(&claim, "dc:format").ok_or(Unsupported)?;
        let generator = field::<String>(&claim, "claim_generator").ok_or(Unsupported)?;
        let infos = field::<Vec<c2pa::ClaimGeneratorInfo>>(&claim, "claim_generator_info");
        let uris = field::<Vec<c2pa::HashedUri>>(&claim, "assertions").ok_or(Unsupported)?;
        let n = uris.len();
        (Some(generator), infos, uris, n)
    } else {
        let info =
            field::<c2pa::ClaimGeneratorInfo>(&claim, "claim_generator_info").ok_or(Unsupported)?;
        let mut uris =
            field::<Vec<c2pa::HashedUri>>(&claim, "created_assertions").ok_or(Unsupported)?;
        let n = uris.len();
        if let Some(g) = field::<Vec<c2pa::HashedUri>>(&claim, "gathered_assertions") {
            uris.extend(g);
        }
        (None, Some(vec![info]), uris, n)
    };
    if infos.iter().flatten().any(|i| i.icon.is_some()) {
        return Err(Unsupported);
    }
    let generator_info = match infos {
        Some(i) => Some(serde_json::to_value(i).map_err(|_| Unsupported)?),
        None => None,
    };
    if let Some(vcs) = credentials {
        // verifiable credentials: v1 claims only, each JSON naming its subject's id
        if version != 1 {
            return Err(Unsupported);
        }
        for vc in &vcs.children {
            let Child::Super(vc) = vc else {
                return Err(Unsupported);
            };
            let body = first_content(vc, b"json")?;
            let v: Value = serde_json::from_slice(body).map_err(|_| Unsupported)?;
            std::str::from_utf8(body).map_err(|_| Unsupported)?;
            v.get("credentialSubject")
                .and_then(|c| c.get("id"))
                .and_then(Value::as_str)
                .ok_or(Unsupported)?;
        }
    }
    if let Some(store) = databoxes {
        // data boxes: each a superbox whose first box is CBOR of the reference's `DataBox`;
        // the judge reads none of them
        for db in &store.children {
            let Child::Super(db) = db else {
                return Err(Unsupported);
            };
            let body = first_content(db, b"cbor")?;
            c2pa_cbor::from_slice::<c2pa::assertions::DataBox>(body).map_err(|_| Unsupported)?;
        }
    }
    let alg = field::<String>(&claim, "alg").unwrap_or_default();
    let hashed = uris;
    let uris: Vec<String> = hashed.iter().map(c2pa::HashedUri::url).collect();
    // v1 claims have no created/gathered split; v2: the first `gathered_from` URIs are created
    let created_count = if version == 1 { 0 } else { gathered_from };

    let boxes: Vec<&SuperBox<'a>> = store
        .children
        .iter()
        .map(|c| match c {
            Child::Super(s) => Ok(s),
            Child::Content(..) => Err(Unsupported),
        })
        .collect::<Result<_, _>>()?;
    if boxes.len() > MAX_ASSERTIONS {
        return Err(Unsupported);
    }
    let mut list: Vec<Assertion<'a>> = Vec::with_capacity(boxes.len());
    let mut first_data = None;
    for b in boxes {
        if b.label.contains(['/', '=']) {
            return Err(Unsupported);
        }
        let (label, instance) = label_from_link(b.label);
        let with_instance = label_with_instance(&label, instance);
        // the reference finds the box's URI by substring, created before gathered
        let at = uris
            .iter()
            .position(|u| u.contains(with_instance.as_str()))
            .ok_or(Unsupported)?;
        let created = at < created_count;
        let first = list.is_empty();
        let (data, raw) = if b.uuid == jumbf::uuid(b"cbor") {
            let body = first_content(b, b"cbor")?;
            c2pa_cbor::from_slice::<Cbor>(body).map_err(|_| Unsupported)?;
            (Data::Cbor(body), body)
        } else if b.uuid == jumbf::uuid(b"json") {
            let body = first_content(b, b"json")?;
            let text = std::str::from_utf8(body).map_err(|_| Unsupported)?;
            serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|_| Unsupported)?;
            (Data::Json(body), body)
        } else if b.uuid == EMBEDDED_FILE {
            match b.children.as_slice() {
                [Child::Content(d, _), Child::Content(c, body), ..]
                    if d == b"bfdb" && c == b"bidb" =>
                {
                    (Data::Binary, *body)
                }
                _ => return Err(Unsupported),
            }
        } else {
            // UUID content (a redaction among them) and anything else: the reference's way
            return Err(Unsupported);
        };
        if first {
            let h = hashed.get(at).ok_or(Unsupported)?;
            first_data = Some(FirstAssertion {
                alg: h.alg().unwrap_or_else(|| alg.clone()),
                data: raw,
                hash: h.hash(),
            });
        }
        if list
            .iter()
            .any(|a| a.label == label && a.instance == instance)
        {
            return Err(Unsupported);
        }
        list.push(Assertion {
            label,
            instance,
            data,
            created,
        });
    }
    Ok(Loaded {
        label: m.label,
        version,
        generator,
        generator_info,
        uris,
        assertions: list,
        first: first_data,
    })
}

/// A manifest's first assertion, for the reference's pre-1.0 check.
struct FirstAssertion<'a> {
    /// The algorithm of its hash in the claim (the URI's, else the claim's).
    alg: String,
    /// Its bare data, as the reference hashes it for the check.
    data: &'a [u8],
    /// Its hash in the claim.
    hash: Vec<u8>,
}

impl FirstAssertion<'_> {
    /// Whether the claim hashes the first assertion's bare data rather than its box: how the
    /// reference recognises a pre-1.0 store (`Store::is_old_assertion`), which it refuses.
    /// The digest is only computed when the claim's hash has the algorithm's length: a hash
    /// of another length cannot equal it.
    fn is_old(&self) -> Result<bool, Unsupported> {
        let len = match self.alg.as_str() {
            "sha256" => 32,
            "sha384" => 48,
            "sha512" => 64,
            _ => return Err(Unsupported),
        };
        if self.hash.len() != len {
            return Ok(false);
        }
        Ok(digest(&self.alg, self.data)? == self.hash)
    }
}

/// Most bytes a compressed manifest may decompress to: the reference's default
/// (`core.max_decompressed_manifest_size_in_mb`, 32 MiB).
const MAX_DECOMPRESSED: usize = 32 << 20;

/// Brotli data decompressed as the reference decompresses a compressed manifest (the same
/// decoder, writes refused past [`MAX_DECOMPRESSED`]).
fn unbrotli(body: &[u8]) -> Result<Vec<u8>, Unsupported> {
    struct Bounded(Vec<u8>);
    impl std::io::Write for Bounded {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.0.len().saturating_add(buf.len()) > MAX_DECOMPRESSED {
                return Err(std::io::Error::other("output exceeds maximum size"));
            }
            self.0.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = Bounded(Vec::new());
    brotli_decompressor::BrotliDecompress(&mut &body[..], &mut out).map_err(|_| Unsupported)?;
    Ok(out.0)
}

/// The digest of `data` with the claim's algorithm name.
fn digest(alg: &str, data: &[u8]) -> Result<Vec<u8>, Unsupported> {
    use sha2::Digest;
    Ok(match alg {
        "sha256" => sha2::Sha256::digest(data).to_vec(),
        "sha384" => sha2::Sha384::digest(data).to_vec(),
        "sha512" => sha2::Sha512::digest(data).to_vec(),
        _ => return Err(Unsupported),
    })
}

/// The type UUID of embedded-file assertions (thumbnails): `40CB0C32-BB8A-489D-A70B-2AD6F47F4369`.
const EMBEDDED_FILE: [u8; 16] = [
    0x40, 0xCB, 0x0C, 0x32, 0xBB, 0x8A, 0x48, 0x9D, 0xA7, 0x0B, 0x2A, 0xD6, 0xF4, 0x7F, 0x43, 0x69,
];

fn first_content<'a>(b: &SuperBox<'a>, kind: &[u8; 4]) -> Result<&'a [u8], Unsupported> {
    match b.first() {
        Some(Child::Content(k, body)) if k == kind => Ok(body),
        _ => Err(Unsupported),
    }
}

/// A field of a CBOR map decoded as `T` the way the reference does (re-encoded and decoded;
/// `None` when absent or of another type).
fn field<T: DeserializeOwned>(map: &Cbor, key: &str) -> Option<T> {
    let Cbor::Map(m) = map else { return None };
    let v = m.get(&Cbor::Text(key.to_string()))?;
    let bytes = c2pa_cbor::ser::to_vec(v).ok()?;
    c2pa_cbor::from_slice(&bytes).ok()
}

/// The reference's JUMBF URI normalisation: the part after `=`, with a leading `/` before
/// `c2pa/`.
fn normalized(uri: &str) -> String {
    let mut parts = uri.split('=');
    let first = parts.next().unwrap_or_default();
    let out = parts.next().unwrap_or(first);
    if out.starts_with("c2pa/") {
        format!("/{out}")
    } else {
        out.to_string()
    }
}

/// The manifest label a JUMBF URI names (`self#jumbf=/c2pa/<label>/...`).
fn manifest_label_from_uri(uri: &str) -> Option<String> {
    let n = normalized(uri);
    let mut parts = n.split('/');
    let _ = parts.next();
    match (parts.next(), parts.next()) {
        (Some("c2pa"), Some(label)) => Some(label.to_string()),
        _ => None,
    }
}

const INGREDIENT_THUMBNAIL: &str = "c2pa.thumbnail.ingredient";

/// An assertion label and instance from a link or box label, as the reference splits them
/// (ingredient thumbnails keep their image type after the instance).
fn label_from_link(link: &str) -> (String, usize) {
    let n = normalized(link);
    let last = n.rsplit('/').next().unwrap_or_default();
    if last.starts_with(INGREDIENT_THUMBNAIL) {
        let parts: Vec<&str> = last.split("__").collect();
        let instance = match parts.as_slice() {
            [_, tail] => tail
                .split('.')
                .next()
                .and_then(|s| s.parse::<usize>().ok())
                .unwrap_or(0),
            _ => 0,
        };
        let label = match thumbnail_image_type(last) {
            Some(t) => format!("{INGREDIENT_THUMBNAIL}.{t}"),
            None => INGREDIENT_THUMBNAIL.to_string(),
        };
        (label, instance)
    } else {
        let parts: Vec<&str> = last.split("__").collect();
        let instance = match parts.as_slice() {
            [_, i] => i.parse::<usize>().unwrap_or(0),
            _ => 0,
        };
        (
            parts.first().copied().unwrap_or_default().to_string(),
            instance,
        )
    }
}

fn thumbnail_image_type(label: &str) -> Option<String> {
    let c: Vec<&str> = label.split('.').collect();
    if label.contains("thumbnail") && c.len() >= 4 {
        c.get(3)
            .and_then(|s| s.split('_').next())
            .map(str::to_ascii_lowercase)
    } else {
        None
    }
}

fn label_with_instance(label: &str, instance: usize) -> String {
    if instance == 0 {
        label.to_string()
    } else if label.starts_with(INGREDIENT_THUMBNAIL) {
        match thumbnail_image_type(label) {
            Some(t) => format!("{INGREDIENT_THUMBNAIL}__{instance}.{t}"),
            None => format!("{INGREDIENT_THUMBNAIL}__{instance}"),
        }
    } else {
        format!("{label}__{instance}")
    }
}

/// The version an assertion label carries (`.vN`, default 1), as the reference parses it.
fn label_version(label: &str) -> usize {
    let without = label
        .rfind("__")
        .and_then(|p| label.get(..p))
        .unwrap_or(label);
    match without.rsplit_once('.') {
        Some((base, v))
            if !base.is_empty()
                && v.len() > 1
                && v.starts_with('v')
                && v.bytes().skip(1).all(|b| b.is_ascii_digit()) =>
        {
            v.get(1..)
                .and_then(|d| d.parse::<usize>().ok())
                .unwrap_or(1)
        }
        _ => 1,
    }
}

/// A manifest the reference could not turn into its JSON: left out of it.
struct Dropped;

impl Loaded<'_> {
    /// The manifest's JSON, `None` when the reference would leave it out.
    fn json(&self) -> Result<Option<Value>, Unsupported> {
        match self.judged() {
            Ok(v) => Ok(Some(v)),
            Err(Ok(Dropped)) => Ok(None),
            Err(Err(u)) => Err(u),
        }
    }

    fn judged(&self) -> Result<Value, Result<Dropped, Unsupported>> {
        let mut assertions = Vec::new();
        let mut ingredients = Vec::new();
        for uri in &self.uris {
            if manifest_label_from_uri(uri).is_some_and(|l| l != self.label) {
                return Err(Err(Unsupported));
            }
            let (label, instance) = label_from_link(uri);
            let Some(a) = self
                .assertions
                .iter()
                .find(|a| a.label == label && a.instance == instance)
            else {
                continue; // missing: the reference notes it and goes on
            };
            let l = a.label.as_str();
            if l.starts_with("c2pa.actions") {
                let Data::Cbor(body) = a.data else {
                    return Err(Ok(Dropped));
                };
                if label_version(l) > 2 {
                    return Err(Ok(Dropped));
                }
                let actions: c2pa::assertions::Actions =
                    c2pa_cbor::from_slice(body).map_err(|_| Ok(Dropped))?;
                if actions.templates.is_some()
                    || actions.actions().iter().any(|act| {
                        matches!(
                            act.software_agent(),
                            Some(c2pa::assertions::SoftwareAgent::ClaimGeneratorInfo(i)) if i.icon.is_some()
                        )
                    })
                {
                    return Err(Err(Unsupported));
                }
                let ma =
                    c2pa::ManifestAssertion::from_assertion(&actions).map_err(|_| Ok(Dropped))?;
                let data = ma.value().map_err(|_| Ok(Dropped))?.clone();
                assertions.push(json!({ "label": ma.label(), "data": data, "created": a.created }));
            } else if l.starts_with("c2pa.ingredient") {
                ingredients.push(ingredient(a)?);
            } else if matches!(
                l,
                "c2pa.hash.data"
                    | "c2pa.hash.bmff"
                    | "c2pa.hash.boxes"
                    | "c2pa.hash.collection.data"
            ) {
            } else if l.starts_with("c2pa.thumbnail.claim") {
                if !matches!(a.data, Data::Binary) {
                    return Err(Err(Unsupported));
                }
            } else if l == "c2pa.assertion.metadata" {
                return Err(Err(Unsupported));
            } else if l == "cawg.identity" || l.starts_with("cawg.identity__") {
                // the reference decodes it as an identity assertion (a failure leaves the
                // manifest out) and validates it, which only rewrites this assertion's value;
                // the judge does not read it, so it is not validated here
                if matches!(a.data, Data::Binary) {
                    return Err(Err(Unsupported));
                }
                let data = as_json(&a.data).ok_or(Ok(Dropped))?;
                c2pa::ManifestAssertion::new(l.to_string(), data.clone())
                    .to_assertion::<c2pa::identity::IdentityAssertion>()
                    .map_err(|_| Ok(Dropped))?;
                assertions.push(json!({ "label": l, "data": data, "created": a.created }));
            } else if l.ends_with(".metadata") {
                if label_version(l) > 1 {
                    return Err(Ok(Dropped));
                }
                let m: c2pa::assertions::Metadata = match a.data {
                    Data::Json(b) => serde_json::from_slice(b).map_err(|_| Ok(Dropped))?,
                    Data::Cbor(b) => c2pa_cbor::from_slice(b).map_err(|_| Ok(Dropped))?,
                    Data::Binary => return Err(Ok(Dropped)),
                };
                let data = serde_json::to_value(&m).map_err(|_| Ok(Dropped))?;
                assertions.push(json!({ "label": l, "data": data }));
            } else {
                if matches!(a.data, Data::Binary) {
                    continue;
                }
                if matches!(l, "stds.iptc.photo-metadata" | "stds.iptc") {
                    let data = as_json(&a.data).ok_or(Ok(Dropped))?;
                    assertions.push(json!({ "label": l, "data": data, "created": a.created }));
                } else if !converts(&a.data) {
                    // the judge reads nothing else, but a failed conversion leaves the manifest out
                    return Err(Ok(Dropped));
                }
            }
        }
        let mut m = Map::new();
        m.insert("label".into(), Value::String(self.label.to_string()));
        m.insert("claim_version".into(), Value::from(self.version));
        if let Some(g) = &self.generator {
            m.insert("claim_generator".into(), Value::String(g.clone()));
        }
        if let Some(i) = &self.generator_info {
            m.insert("claim_generator_info".into(), i.clone());
        }
        m.insert("assertions".into(), Value::Array(assertions));
        m.insert("ingredients".into(), Value::Array(ingredients));
        Ok(Value::Object(m))
    }
}

/// A CBOR or JSON assertion as JSON, the way the reference converts it (CBOR transcoded).
fn as_json(data: &Data<'_>) -> Option<Value> {
    match data {
        Data::Cbor(b) => {
            let mut out = Vec::new();
            let mut from = c2pa_cbor::Deserializer::from_slice(b);
            let mut to = serde_json::Serializer::new(&mut out);
            serde_transcode::transcode(&mut from, &mut to).ok()?;
            serde_json::from_slice(&out).ok()
        }
        Data::Json(b) => serde_json::from_slice(b).ok(),
        Data::Binary => None,
    }
}

/// Whether [`as_json`] would succeed, without building the value.
fn converts(data: &Data<'_>) -> bool {
    use serde::de::IgnoredAny;
    match data {
        Data::Cbor(b) => {
            let mut out = Vec::new();
            let mut from = c2pa_cbor::Deserializer::from_slice(b);
            let mut to = serde_json::Serializer::new(&mut out);
            serde_transcode::transcode(&mut from, &mut to).is_ok()
                && serde_json::from_slice::<IgnoredAny>(&out).is_ok()
        }
        Data::Json(b) => serde_json::from_slice::<IgnoredAny>(b).is_ok(),
        Data::Binary => false,
    }
}

/// An ingredient assertion as the reference reads it: the fields its version requires, and
/// the manifest its `activeManifest`/`c2pa_manifest` URI names.
fn ingredient(a: &Assertion<'_>) -> Result<Value, Result<Dropped, Unsupported>> {
    let Data::Cbor(body) = a.data else {
        return Err(Err(Unsupported));
    };
    let v: Cbor = c2pa_cbor::from_slice(body).map_err(|_| Ok(Dropped))?;
    let version = label_version(&a.label);
    let relationship: c2pa::assertions::Relationship =
        field(&v, "relationship").ok_or(Ok(Dropped))?;
    let title: Option<String> = field(&v, "dc:title");
    let manifest: Option<c2pa::HashedUri> = match version {
        1 | 2 => {
            if title.is_none() || field::<String>(&v, "dc:format").is_none() {
                return Err(Ok(Dropped));
            }
            if version == 1 && field::<String>(&v, "instanceID").is_none() {
                return Err(Ok(Dropped));
            }
            field(&v, "c2pa_manifest")
        }
        3 => field(&v, "activeManifest"),
        _ => return Err(Ok(Dropped)),
    };
    let mut out = Map::new();
    if let Some(t) = title {
        out.insert("title".into(), Value::String(t));
    }
    out.insert(
        "relationship".into(),
        serde_json::to_value(relationship).map_err(|_| Ok(Dropped))?,
    );
    if let Some(l) = manifest.and_then(|h| manifest_label_from_uri(&h.url())) {
        out.insert("active_manifest".into(), Value::String(l));
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "test code")]
mod tests {
    use super::*;

    #[test]
    fn labels_split_as_the_reference_splits_them() {
        assert_eq!(
            label_from_link("self#jumbf=c2pa.assertions/c2pa.ingredient__2"),
            ("c2pa.ingredient".into(), 2)
        );
        assert_eq!(
            label_from_link("c2pa.actions.v2"),
            ("c2pa.actions.v2".into(), 0)
        );
        assert_eq!(
            label_from_link("c2pa.thumbnail.ingredient__1.jpeg"),
            ("c2pa.thumbnail.ingredient.jpeg".into(), 1)
        );
        assert_eq!(
            label_with_instance("c2pa.thumbnail.ingredient.jpeg", 1),
            "c2pa.thumbnail.ingredient__1.jpeg"
        );
        assert_eq!(label_version("c2pa.actions.v2"), 2);
        assert_eq!(label_version("c2pa.actions"), 1);
        assert_eq!(label_version("c2pa.ingredient.v3__2"), 3);
        assert_eq!(label_version("v3"), 1);
        assert_eq!(
            manifest_label_from_uri("self#jumbf=/c2pa/urn:uuid:1/c2pa.claim").as_deref(),
            Some("urn:uuid:1")
        );
        assert_eq!(
            manifest_label_from_uri("self#jumbf=c2pa/urn:a").as_deref(),
            Some("urn:a")
        );
        assert_eq!(
            manifest_label_from_uri("self#jumbf=c2pa.assertions/x"),
            None
        );
    }
}
