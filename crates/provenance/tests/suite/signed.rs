//! C2PA-signed fixtures made at test time with the c2pa crate's builder and a certificate chain
//! generated here (a CA and an end-entity certificate that meets the C2PA profile).

use super::fixtures::{png, scan};
use greenlight_provenance::{Integrity, Kind, ScanOptions, Scanner, Trust, Verdict};
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
    let signer = c2pa::create_signer::from_keys(
        chain.chain_pem.as_bytes(),
        chain.key_pem.as_bytes(),
        c2pa::SigningAlg::Es256,
        None,
    )
    .unwrap();
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
    let mut builder = c2pa::Builder::from_context(c2pa::Context::new())
        .with_definition(def.to_string().as_str())
        .unwrap();
    if let Some(parent) = ingredient {
        let ing = serde_json::json!({ "title": "generated.png", "relationship": "componentOf" });
        builder
            .add_ingredient_from_stream(ing.to_string(), "image/png", &mut Cursor::new(parent))
            .unwrap();
    }
    let mut src = Cursor::new(png(&[], &[]));
    let mut dest = Cursor::new(Vec::new());
    builder
        .sign(signer.as_ref(), "image/png", &mut src, &mut dest)
        .unwrap();
    dest.into_inner()
}

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
