//! Stamps: a local test chain signs an approval into real corpus files (JPEG, PNG, MP4, PDF,
//! WAV) and files made here; the c2pa crate's own `Reader` validates them; the scanner shows
//! the stamp with its approval and signer, trusted only through the trust list; one byte of
//! media changed is tampered; formats without an embedding get a sidecar.

use std::path::{Path, PathBuf};

use greenlight_provenance::stamp::{
    self, APPROVAL_LABEL, Algorithm, SigningKey, TrustList, Verifier, create_test_chain,
};
use greenlight_provenance::{Kind, ScanOptions, Scanner, Verdict};
use serde_json::json;

use crate::fixtures;

const APPROVAL: &str = "0192e3a4-5b6c-7d8e-9f00-112233445566";

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/c2pa-rs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "greenlight-stamp-{name}-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Keys {
    key: SigningKey,
    trust: TrustList,
    root_pem: String,
}

fn keys(algorithm: Algorithm) -> Keys {
    let chain = create_test_chain("Post Signer", "Studio Test", 30, algorithm).unwrap();
    Keys {
        key: SigningKey::from_pem(chain.chain_pem.as_bytes(), chain.key_pem.as_bytes()).unwrap(),
        trust: TrustList::from_pem(chain.root_pem.as_bytes()).unwrap(),
        root_pem: chain.root_pem,
    }
}

fn assertion() -> serde_json::Value {
    json!({
        "approval_id": APPROVAL,
        "declaration_id": "0192e3a4-0000-7000-8000-000000000001",
        "reviewer": "rae@studio.example",
        "conditions": ["credit the concept artists"],
        "scope": ["VFX/**"],
        "expires_at": null,
        "decision": { "level": "escalate" },
        "pack": { "id": "netflix-2025", "version": "1", "sha256": "00".repeat(32) },
    })
}

fn scanner(trust: Option<&TrustList>) -> Scanner {
    let s = Scanner::new(ScanOptions {
        threads: 1,
        ..ScanOptions::default()
    })
    .unwrap();
    match trust {
        Some(t) => s.with_stamp_trust(t).unwrap(),
        None => s,
    }
}

fn stamp_detail(path: &Path, trust: Option<&TrustList>) -> Option<String> {
    let report = scanner(trust).scan_file(path);
    report
        .evidence
        .iter()
        .find(|e| e.kind == Kind::GreenlightStamp)
        .map(|e| e.detail.clone())
}

/// The file read back with the c2pa crate's Reader: its assertion and validation state.
fn read_back(
    path: &Path,
    sidecar: Option<&Path>,
    root_pem: &str,
) -> (serde_json::Value, c2pa::ValidationState, usize) {
    let settings = json!({
        "verify": { "verify_trust": true, "ocsp_fetch": false, "remote_manifest_fetch": false },
        "trust": { "trust_anchors": root_pem },
    });
    let context = c2pa::Context::new()
        .with_settings(settings.to_string().as_str())
        .unwrap();
    let format = c2pa::format_from_path(path).unwrap_or_else(|| "image/x-exr".to_string());
    let file = std::fs::File::open(path).unwrap();
    let reader = c2pa::Reader::from_context(context);
    let reader = match sidecar {
        Some(s) => reader.with_manifest_data_and_stream(&std::fs::read(s).unwrap(), &format, file),
        None => reader.with_stream(&format, file),
    }
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let manifest = reader.active_manifest().unwrap();
    let assertion = manifest.find_assertion(APPROVAL_LABEL).unwrap();
    (
        assertion,
        reader.validation_state(),
        reader.manifests().len(),
    )
}

#[test]
fn a_test_chain_is_fit_for_c2pa_and_a_wrong_key_is_refused() {
    let a = create_test_chain("Signer A", "Studio", 10, Algorithm::Es256).unwrap();
    let b = create_test_chain("Signer B", "Studio", 10, Algorithm::Ed25519).unwrap();
    let key = SigningKey::from_pem(a.chain_pem.as_bytes(), a.key_pem.as_bytes()).unwrap();
    assert_eq!(key.algorithm(), Algorithm::Es256);
    assert!(
        key.signer().subject.contains("CN=Signer A"),
        "{:?}",
        key.signer()
    );
    assert_eq!(key.signer().sha256.len(), 64);
    let ed = SigningKey::from_pem(b.chain_pem.as_bytes(), b.key_pem.as_bytes()).unwrap();
    assert_eq!(ed.algorithm(), Algorithm::Ed25519);
    let wrong = SigningKey::from_pem(a.chain_pem.as_bytes(), b.key_pem.as_bytes()).unwrap_err();
    assert!(wrong.to_string().contains("does not belong"), "{wrong}");
    // The root alone is a CA certificate: C2PA signs with an end-entity one.
    let ca = SigningKey::from_pem(a.root_pem.as_bytes(), a.key_pem.as_bytes()).unwrap_err();
    assert!(!ca.to_string().is_empty());
    let certs = stamp::certificates(a.chain_pem.as_bytes()).unwrap();
    assert_eq!(certs.len(), 2);
    assert!(!certs[0].is_ca && certs[1].is_ca);
    assert!(stamp::certificates(b"not pem").is_err());
    assert!(TrustList::from_pem(b"").is_err());
}

#[test]
fn a_made_png_is_stamped_read_back_and_tampering_is_found() {
    let dir = temp_dir("png");
    let k = keys(Algorithm::Es256);
    let input = dir.join("poster.png");
    let original = fixtures::png(
        &[(
            b"tEXt",
            fixtures::text(
                "parameters",
                "a lighthouse, Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512, Model: sd_xl",
            ),
        )],
        &[],
    );
    std::fs::write(&input, &original).unwrap();
    let out = dir.join("out.png");
    let done = stamp::stamp_file(&input, Some(&out), false, &k.key, &assertion()).unwrap();
    assert_eq!(
        std::fs::read(&input).unwrap(),
        original,
        "the input is untouched"
    );
    assert_eq!(done.media.as_deref(), Some(out.as_path()));
    assert!(done.sidecar.is_none());
    assert_ne!(done.sha256_before, done.sha256_after);
    assert!(done.manifest.is_some());
    let (a, state, _) = read_back(&out, None, &k.root_pem);
    assert_eq!(a["approval_id"], APPROVAL);
    assert_eq!(state, c2pa::ValidationState::Trusted);

    // The scanner: the verdict stands (generator metadata), the stamp is context evidence.
    let report = scanner(Some(&k.trust)).scan_file(&out);
    assert_eq!(report.verdict, Verdict::AiGenerated, "{report}");
    let detail = stamp_detail(&out, Some(&k.trust)).unwrap();
    assert!(
        detail.starts_with(&format!("approval {APPROVAL}, signature valid, signer trusted, signed by CN=Post Signer, O=Studio Test (sha256 {})", k.key.signer().sha256)),
        "{detail}"
    );
    let untrusted = stamp_detail(&out, None).unwrap();
    assert!(
        untrusted.contains("signature valid, signer untrusted"),
        "{untrusted}"
    );
    // Another studio's root does not make this signer trusted.
    let other = keys(Algorithm::Es256);
    let foreign = stamp_detail(&out, Some(&other.trust)).unwrap();
    assert!(foreign.contains("signer untrusted"), "{foreign}");

    // The unstamped original carries no stamp evidence.
    assert!(stamp_detail(&input, Some(&k.trust)).is_none());

    // Refusals: the original as the output, an existing output.
    let err = stamp::stamp_file(&input, Some(&input), false, &k.key, &assertion()).unwrap_err();
    assert!(
        err.to_string().contains("never modifies it in place"),
        "{err}"
    );
    let err = stamp::stamp_file(&input, Some(&out), false, &k.key, &assertion()).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");

    // One byte of the image data changed.
    let mut bytes = std::fs::read(&out).unwrap();
    let idat = bytes.windows(4).position(|w| w == b"IDAT").unwrap();
    bytes[idat + 6] ^= 0x01;
    let bad = dir.join("bad.png");
    std::fs::write(&bad, &bytes).unwrap();
    let detail = stamp_detail(&bad, Some(&k.trust)).unwrap();
    assert!(detail.contains("signature tampered"), "{detail}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn formats_without_an_embedding_get_a_sidecar() {
    let dir = temp_dir("exr");
    let k = keys(Algorithm::Ed25519);
    let input = dir.join("sh010.exr");
    let mut exr = vec![0x76, 0x2f, 0x31, 0x01, 2, 0, 0, 0];
    exr.extend_from_slice(b"owner\0string\0");
    exr.extend_from_slice(&7u32.to_le_bytes());
    exr.extend_from_slice(b"studio1\0");
    exr.extend_from_slice(&[7u8; 256]);
    std::fs::write(&input, &exr).unwrap();
    // Asked to embed, it still gets a sidecar beside the copy.
    let copy = dir.join("out").join("sh010.exr");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    let done = stamp::stamp_file(&input, Some(&copy), false, &k.key, &assertion()).unwrap();
    assert_eq!(std::fs::read(&copy).unwrap(), exr, "an unchanged copy");
    assert_eq!(done.sha256_before, done.sha256_after);
    let side = done.sidecar.clone().unwrap();
    assert_eq!(side, dir.join("out").join("sh010.c2pa"));
    let detail = stamp_detail(&copy, Some(&k.trust)).unwrap();
    assert!(
        detail.contains("signature valid, signer trusted"),
        "{detail}"
    );
    let facts = Verifier::new(Some(&k.trust))
        .unwrap()
        .inspect_file(&copy)
        .unwrap()
        .unwrap();
    assert_eq!(facts.approval_id.as_deref(), Some(APPROVAL));
    // Without --out the sidecar goes beside the original, which is untouched.
    let err = stamp::stamp_file(&input, None, false, &k.key, &assertion()).unwrap_err();
    assert!(err.to_string().contains("ask for a sidecar"), "{err}");
    let beside = stamp::stamp_file(&input, None, true, &k.key, &assertion()).unwrap();
    assert_eq!(
        beside.sidecar.as_deref(),
        Some(dir.join("sh010.c2pa").as_path())
    );
    assert!(beside.media.is_none());
    assert_eq!(std::fs::read(&input).unwrap(), exr);
    // The last byte changed.
    let mut bytes = exr.clone();
    *bytes.last_mut().unwrap() ^= 0xff;
    std::fs::write(&copy, &bytes).unwrap();
    let detail = stamp_detail(&copy, Some(&k.trust)).unwrap();
    assert!(detail.contains("signature tampered"), "{detail}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn corpus_files_are_stamped_and_read_back() {
    let corpus = corpus_dir();
    if !corpus.is_dir() {
        eprintln!(
            "SKIPPED stamp corpus test: no corpus at {} (it is there in CI)",
            corpus.display()
        );
        return;
    }
    let dir = temp_dir("corpus");
    let k = keys(Algorithm::Es256);
    for (name, verdict) in [
        ("ocsp.jpg", Verdict::AiEdited),
        ("sample1.png", Verdict::NoAiEvidence),
        ("video1.mp4", Verdict::NoAiEvidence),
        ("sample1.wav", Verdict::NoAiEvidence),
    ] {
        let input = corpus.join(name);
        let out = dir.join(name);
        let before_scan = scanner(None).scan_file(&input);
        let done = stamp::stamp_file(&input, Some(&out), false, &k.key, &assertion())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        // PDF gets a sidecar: the c2pa crate cannot write into it.
        assert_eq!(done.sidecar.is_some(), name.ends_with(".pdf"), "{name}");
        let (a, state, manifests) = read_back(&out, done.sidecar.as_deref(), &k.root_pem);
        assert_eq!(a["approval_id"], APPROVAL, "{name}");
        // The whole store is trusted only when the original's own signers are too: the
        // stamp's signer is checked on its own below.
        let expected = if before_scan.c2pa.manifests == 0 {
            c2pa::ValidationState::Trusted
        } else {
            c2pa::ValidationState::Valid
        };
        assert!(
            state == expected || state == c2pa::ValidationState::Trusted,
            "{name}: {state:?}"
        );
        // The original's manifests are kept: the new one is added on top.
        let had = before_scan.c2pa.manifests;
        assert!(
            manifests > had,
            "{name}: {manifests} manifests, the original had {had}"
        );
        let report = scanner(Some(&k.trust)).scan_file(&out);
        assert_eq!(report.verdict, verdict, "{name}: {report}");
        let detail = stamp_detail(&out, Some(&k.trust)).unwrap();
        assert!(
            detail.contains("signature valid, signer trusted"),
            "{name}: {detail}"
        );
    }
    // One byte of JPEG scan data changed.
    let mut bytes = std::fs::read(dir.join("ocsp.jpg")).unwrap();
    let at = bytes.len() - 200;
    bytes[at] ^= 0x01;
    let bad = dir.join("ocsp-edited.jpg");
    std::fs::write(&bad, &bytes).unwrap();
    let detail = stamp_detail(&bad, Some(&k.trust)).unwrap();
    assert!(detail.contains("signature tampered"), "{detail}");
    let _ = std::fs::remove_dir_all(&dir);
}
