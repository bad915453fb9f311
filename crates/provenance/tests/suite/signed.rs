//! C2PA-signed fixtures made at test time with the c2pa crate's builder and a certificate chain
//! generated here (a CA and an end-entity certificate that meets the C2PA profile).

use super::fixtures::{png, scan};
use greenlight_provenance::{
    Evidence, Integrity, Kind, ScanOptions, Scanner, Signal, Trust, Verdict,
};
use std::io::Cursor;

struct Chain {
    ca_pem: String,
    chain_pem: String,
    key_pem: String,
}

fn chain() -> Chain {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name
        .push(DnType::CommonName, "greenlight test CA");
    ca.distinguished_name
        .push(DnType::OrganizationName, "greenlight tests");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);

    let key = KeyPair::generate().unwrap();
    let mut ee = CertificateParams::new(Vec::<String>::new()).unwrap();
    ee.distinguished_name
        .push(DnType::CommonName, "greenlight test signer");
    ee.distinguished_name
        .push(DnType::OrganizationName, "greenlight tests");
    ee.is_ca = IsCa::ExplicitNoCa;
    ee.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    ee.extended_key_usages = vec![ExtendedKeyUsagePurpose::EmailProtection];
    ee.use_authority_key_identifier_extension = true;
    let ee_cert = ee.signed_by(&key, &issuer).unwrap();
    Chain {
        ca_pem: ca_cert.pem(),
        chain_pem: format!("{}{}", ee_cert.pem(), ca_cert.pem()),
        key_pem: key.serialize_pem(),
    }
}

/// Signs a PNG whose first action has the given digital source type; optionally adds an
/// ingredient manifest (itself signed with `ingredient_dst`).
fn sign_png(chain: &Chain, dst: &str, ingredient: Option<&[u8]>) -> Vec<u8> {
    let def = serde_json::json!({
        "claim_generator_info": [{ "name": "greenlight-test", "version": "1.0" }],
        "title": "fixture.png",
        "assertions": [{
            "label": "c2pa.actions",
            "data": { "actions": [{
                "action": if ingredient.is_some() { "c2pa.opened" } else { "c2pa.created" },
                "digitalSourceType": format!("http://cv.iptc.org/newscodes/digitalsourcetype/{dst}"),
                "softwareAgent": "greenlight fixture generator"
            }] }
        }]
    });
    let ing = serde_json::json!({ "title": "generated.png", "relationship": "componentOf" });
    sign_definition(chain, &def, ingredient.map(|b| (ing, b)))
}

/// Signs a PNG with a whole manifest definition and optionally one ingredient (its JSON and
/// its bytes, which may or may not carry a manifest).
fn sign_definition(
    chain: &Chain,
    def: &serde_json::Value,
    ingredient: Option<(serde_json::Value, &[u8])>,
) -> Vec<u8> {
    let signer = c2pa::create_signer::from_keys(
        chain.chain_pem.as_bytes(),
        chain.key_pem.as_bytes(),
        c2pa::SigningAlg::Es256,
        None,
    )
    .unwrap();
    let mut builder = c2pa::Builder::from_context(c2pa::Context::new())
        .with_definition(def.to_string().as_str())
        .unwrap();
    if let Some((ing, bytes)) = ingredient {
        builder
            .add_ingredient_from_stream(ing.to_string(), "image/png", &mut Cursor::new(bytes))
            .unwrap();
    }
    let mut src = Cursor::new(png(&[], &[]));
    let mut dest = Cursor::new(Vec::new());
    builder
        .sign(signer.as_ref(), "image/png", &mut src, &mut dest)
        .unwrap();
    dest.into_inner()
}

/// A definition whose actions assertion is the signer's own (`created`), lists every action
/// (`allActionsIncluded`) and holds `actions`.
fn vouched_actions(actions: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "claim_generator_info": [{ "name": "greenlight-test", "version": "1.0" }],
        "title": "fixture.png",
        "assertions": [{
            "label": "c2pa.actions.v2",
            "created": true,
            "data": { "actions": actions, "allActionsIncluded": true }
        }]
    })
}

fn of_kind(r: &greenlight_provenance::FileReport, kind: Kind) -> Vec<&Evidence> {
    r.evidence.iter().filter(|e| e.kind == kind).collect()
}

const CAPTURE: &str = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture";

fn verify(bytes: &[u8], anchors: Option<String>) -> greenlight_provenance::FileReport {
    let s = Scanner::new(ScanOptions {
        verify: true,
        trust_anchors: anchors,
        ..ScanOptions::default()
    })
    .unwrap();
    s.scan_bytes("signed.png", bytes)
}

#[test]
fn signed_png_generated_edited_and_algorithmic() {
    let chain = chain();
    let generated = sign_png(&chain, "trainedAlgorithmicMedia", None);
    let r = scan("g.png", &generated);
    assert!(r.c2pa.present);
    assert_eq!(
        r.c2pa.integrity,
        Integrity::NotChecked,
        "detection does not validate"
    );
    assert_eq!(r.verdict, Verdict::AiGenerated, "{:?}", r.evidence);
    assert_eq!(r.evidence[0].kind, Kind::C2paAction);
    assert_eq!(r.c2pa.generator.as_deref(), Some("greenlight-test 1.0"));

    let r = scan("a.png", &sign_png(&chain, "algorithmicMedia", None));
    assert_eq!(
        r.verdict,
        Verdict::NoAiEvidence,
        "algorithmicMedia is not generative AI: {:?}",
        r.evidence
    );

    let r = scan(
        "c.png",
        &sign_png(&chain, "compositeWithTrainedAlgorithmicMedia", None),
    );
    assert_eq!(r.verdict, Verdict::AiEdited);

    // a capture that takes a generated image as a component: the ingredient's generation counts
    let r = scan(
        "i.png",
        &sign_png(&chain, "digitalCapture", Some(&generated)),
    );
    assert_eq!(r.verdict, Verdict::AiEdited, "{:?}", r.evidence);
    assert!(
        r.evidence
            .iter()
            .any(|e| e.source.starts_with("ingredient manifest `generated.png`")),
        "{:?}",
        r.evidence
    );
    assert_eq!(r.c2pa.manifests, 2);
}

#[test]
fn verify_separates_integrity_from_trust() {
    let chain = chain();
    let signed = sign_png(&chain, "trainedAlgorithmicMedia", None);
    let r = verify(&signed, None);
    assert_eq!(r.c2pa.integrity, Integrity::Valid, "{:?}", r.c2pa);
    assert_eq!(
        r.c2pa.trust,
        Trust::Untrusted,
        "no trust list: untrusted is normal"
    );

    let r = verify(&signed, Some(chain.ca_pem.clone()));
    assert_eq!(r.c2pa.integrity, Integrity::Valid, "{:?}", r.c2pa);
    assert_eq!(r.c2pa.trust, Trust::Trusted, "{:?}", r.c2pa);

    // change one pixel byte inside IDAT: the data hash fails, the verdict stays
    let mut tampered = signed.clone();
    let idat = tampered.windows(4).position(|w| w == b"IDAT").unwrap();
    tampered[idat + 6] ^= 0x55;
    let r = verify(&tampered, None);
    assert_eq!(r.c2pa.integrity, Integrity::Invalid, "{:?}", r.c2pa);
    assert!(
        r.c2pa.failures.iter().any(|c| c.contains("dataHash")),
        "{:?}",
        r.c2pa.failures
    );
    assert_eq!(r.verdict, Verdict::AiGenerated);
}

#[test]
fn a_tree_scan_finds_sidecars_from_the_directory_listing() {
    let chain = chain();
    let signed = sign_png(&chain, "trainedAlgorithmicMedia", None);
    let at = signed.windows(4).position(|w| w == b"caBX").unwrap();
    let len = u32::from_be_bytes(signed[at - 4..at].try_into().unwrap()) as usize;
    let store = signed[at + 4..at + 4 + len].to_vec();
    let dir = super::walk::TempDir::new("tree-sidecar");
    let sub = dir.path().join("plates");
    std::fs::create_dir_all(&sub).unwrap();
    for d in [dir.path(), sub.as_path()] {
        std::fs::write(d.join("shot.png"), png(&[], &[])).unwrap();
        std::fs::write(d.join("shot.c2pa"), &store).unwrap();
        std::fs::write(d.join("other.png"), png(&[], &[])).unwrap();
        // a sidecar name differing only in case is another file on a case-sensitive disk
        std::fs::write(d.join("upper.png"), png(&[], &[])).unwrap();
        std::fs::write(d.join("upper.C2PA"), &store).unwrap();
    }
    let s = Scanner::new(ScanOptions {
        threads: 2,
        ..ScanOptions::default()
    })
    .unwrap();
    let mut reports = Vec::new();
    let summary = s.scan_tree(&[dir.path().to_path_buf()], |r| reports.push(r));
    assert_eq!(summary.files, 10);
    for r in &reports {
        let name = std::path::Path::new(&r.path).file_name().unwrap();
        let by_file = s.scan_file(std::path::Path::new(&r.path));
        assert_eq!(
            *r, by_file,
            "{} differs from a scan of the file alone",
            r.path
        );
        match name.to_str().unwrap() {
            "shot.png" => {
                assert_eq!(r.c2pa.location.as_deref(), Some("sidecar"), "{}", r.path);
                assert_eq!(r.verdict, Verdict::AiGenerated);
            }
            "shot.c2pa" | "upper.C2PA" => assert_eq!(r.format, Some("c2pa")),
            _ => {
                assert!(!r.c2pa.present, "{}", r.path);
                assert!(r.evidence.iter().all(|e| e.kind != Kind::SidecarManifest));
            }
        }
    }
    let no_sidecars = Scanner::new(ScanOptions {
        sidecars: false,
        ..ScanOptions::default()
    })
    .unwrap();
    let summary = no_sidecars.scan_tree(&[dir.path().to_path_buf()], |r| {
        assert!(r.evidence.iter().all(|e| e.kind != Kind::SidecarManifest))
    });
    assert_eq!(summary.files, 10);
}

#[test]
fn sidecar_store_next_to_a_file_is_read() {
    let chain = chain();
    let signed = sign_png(&chain, "trainedAlgorithmicMedia", None);
    // cut the caBX chunk out: that is the raw store a sidecar would hold
    let at = signed.windows(4).position(|w| w == b"caBX").unwrap();
    let len = u32::from_be_bytes(signed[at - 4..at].try_into().unwrap()) as usize;
    let store = signed[at + 4..at + 4 + len].to_vec();
    let dir = super::walk::TempDir::new("sidecar");
    std::fs::write(dir.path().join("shot.png"), png(&[], &[])).unwrap();
    std::fs::write(dir.path().join("shot.c2pa"), &store).unwrap();
    let s = Scanner::new(ScanOptions::default()).unwrap();
    let r = s.scan_file(&dir.path().join("shot.png"));
    assert_eq!(r.c2pa.location.as_deref(), Some("sidecar"));
    assert_eq!(r.verdict, Verdict::AiGenerated, "{:?}", r.evidence);
    assert!(r.evidence.iter().any(|e| e.kind == Kind::SidecarManifest));
    let r = s.scan_file(&dir.path().join("shot.c2pa"));
    assert_eq!((r.format, r.verdict), (Some("c2pa"), Verdict::AiGenerated));
}

#[test]
fn a_complete_vouched_history_is_not_ambiguous() {
    let chain = chain();
    let def = vouched_actions(serde_json::json!([
        { "action": "c2pa.created", "digitalSourceType": CAPTURE },
        { "action": "c2pa.cropped" }
    ]));
    let r = scan("v.png", &sign_definition(&chain, &def, None));
    assert_eq!(r.verdict, Verdict::NoAiEvidence, "{:?}", r.evidence);
    assert!(
        of_kind(&r, Kind::C2paAmbiguous).is_empty(),
        "{:?}",
        r.evidence
    );
    assert!(
        of_kind(&r, Kind::C2paIngredientUnknownProvenance).is_empty(),
        "{:?}",
        r.evidence
    );
}

#[test]
fn unknown_and_custom_actions_are_ambiguous_context() {
    let chain = chain();
    let def = vouched_actions(serde_json::json!([
        { "action": "c2pa.created", "digitalSourceType": CAPTURE },
        { "action": "c2pa.unknown" },
        { "action": "org.greenlight.retouched" }
    ]));
    let r = scan("u.png", &sign_definition(&chain, &def, None));
    assert_eq!(r.verdict, Verdict::NoAiEvidence, "{:?}", r.evidence);
    let a = of_kind(&r, Kind::C2paAmbiguous);
    assert_eq!(a.len(), 1, "one item per manifest: {:?}", r.evidence);
    let label = r.c2pa.active_manifest.clone().unwrap();
    assert_eq!(
        a[0].detail,
        format!(
            "manifest `{label}`: c2pa.unknown action; custom action `org.greenlight.retouched`"
        )
    );
    assert_eq!(
        (a[0].source.as_str(), a[0].signal),
        ("active manifest", Signal::Context)
    );

    // the same in JSON: the kind string a scan result carries
    let json = serde_json::to_value(&r).unwrap();
    assert!(
        json["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "c2pa_ambiguous" && e["signal"] == "context"),
        "{json}"
    );

    // an AI verdict stays what the actions say
    let def = vouched_actions(serde_json::json!([
        { "action": "c2pa.created", "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia" },
        { "action": "c2pa.unknown" }
    ]));
    let r = scan("g.png", &sign_definition(&chain, &def, None));
    assert_eq!(r.verdict, Verdict::AiGenerated, "{:?}", r.evidence);
    assert_eq!(of_kind(&r, Kind::C2paAmbiguous).len(), 1);
}

#[test]
fn gathered_actions_without_all_actions_included_are_one_ambiguous_item() {
    let chain = chain();
    // what sign_png makes: the builder files actions under gathered_assertions unless told
    // otherwise, and allActionsIncluded is absent
    let r = scan("g.png", &sign_png(&chain, "digitalCapture", None));
    assert_eq!(r.verdict, Verdict::NoAiEvidence, "{:?}", r.evidence);
    let a = of_kind(&r, Kind::C2paAmbiguous);
    assert_eq!(a.len(), 1, "{:?}", r.evidence);
    assert!(
        a[0].detail.contains("allActionsIncluded is not true")
            && a[0].detail.contains("actions in gathered_assertions"),
        "{}",
        a[0].detail
    );
}

#[test]
fn ingredients_without_a_manifest_have_unknown_provenance() {
    let chain = chain();
    let plain = png(&[], &[]);
    let def = vouched_actions(serde_json::json!([
        { "action": "c2pa.created", "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia" }
    ]));
    let ing = serde_json::json!({ "title": "sketch.png", "relationship": "inputTo" });
    let r = scan("p.png", &sign_definition(&chain, &def, Some((ing, &plain))));
    assert_eq!(r.verdict, Verdict::AiGenerated, "{:?}", r.evidence);
    let u = of_kind(&r, Kind::C2paIngredientUnknownProvenance);
    assert_eq!(u.len(), 1, "{:?}", r.evidence);
    assert_eq!(
        u[0].detail,
        "ingredient `sketch.png` (inputTo) has no manifest: input to an AI/ML process, provenance unknown"
    );
    assert_eq!(
        (u[0].source.as_str(), u[0].signal),
        ("active manifest", Signal::Context)
    );
    let json = serde_json::to_value(&r).unwrap();
    assert!(
        json["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "c2pa_ingredient_unknown_provenance"),
        "{json}"
    );

    // a component without a manifest in a capture: context only, the verdict stays clean
    let def = vouched_actions(serde_json::json!([
        { "action": "c2pa.created", "digitalSourceType": CAPTURE },
        { "action": "c2pa.placed" }
    ]));
    let ing = serde_json::json!({ "title": "logo.png", "relationship": "componentOf" });
    let r = scan("c.png", &sign_definition(&chain, &def, Some((ing, &plain))));
    assert_eq!(r.verdict, Verdict::NoAiEvidence, "{:?}", r.evidence);
    let u = of_kind(&r, Kind::C2paIngredientUnknownProvenance);
    assert_eq!(u.len(), 1, "{:?}", r.evidence);
    assert_eq!(
        u[0].detail,
        "ingredient `logo.png` (componentOf) has no manifest: provenance unknown"
    );

    // an ingredient that has a manifest is not reported
    let generated = sign_png(&chain, "trainedAlgorithmicMedia", None);
    let r = scan(
        "i.png",
        &sign_png(&chain, "digitalCapture", Some(&generated)),
    );
    assert!(
        of_kind(&r, Kind::C2paIngredientUnknownProvenance).is_empty(),
        "{:?}",
        r.evidence
    );
}

#[test]
fn jxl_brotli_compressed_manifest_store_is_read() {
    use super::fixtures::{brob, jxl};
    let chain = chain();
    let signed = sign_png(&chain, "trainedAlgorithmicMedia", None);
    let at = signed.windows(4).position(|w| w == b"caBX").unwrap();
    let len = u32::from_be_bytes(signed[at - 4..at].try_into().unwrap()) as usize;
    let store = &signed[at + 4..at + 4 + len];
    assert_eq!(&store[4..8], b"jumb");
    // a `brob` box holds the `jumb` superbox's payload, after its 8-byte header
    let r = scan("c.jxl", &jxl(&[brob(b"jumb", &store[8..])]));
    assert!(r.c2pa.present, "{r:?}");
    assert_eq!(r.c2pa.location.as_deref(), Some("embedded"));
    assert_eq!(r.verdict, Verdict::AiGenerated, "{:?}", r.evidence);
    assert_eq!(r.evidence[0].kind, Kind::C2paAction);
}
