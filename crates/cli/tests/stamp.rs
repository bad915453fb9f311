//! Stamping approved assets, as a studio does it with the real binary on a real ledger:
//! `greenlight keys create`, `greenlight stamp` of real files from the shared C2PA corpus
//! (JPEG, PNG, MP4, PDF, WAV) and of files made here, read back with the c2pa crate's own
//! `Reader`, then moved and renamed into a delivery that `greenlight scan --gate` passes by
//! the stamps alone; a byte of media changed is tampered, a revised declaration fails the
//! gate and says why.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test: a failure panics with its message"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use greenlight_store_tests::{Backend, Fixture};
use serde_json::Value;

mod support;
use support::ledger::{Cli, root};
use support::media::{A1111, png};

const COORDINATOR: &str = "cam@prod.example";
const REVIEWER: &str = "rae@studio.example";
const QC: &str = "qc@post.example";
const TITLE: &str = "Deepwater Gate (animated series)";

/// The corpus files stamped, with whether the scanner flags them as AI. The PDF (Adobe
/// Express, with its own manifest) gets a sidecar: the c2pa crate cannot write into a PDF.
const CORPUS: [(&str, bool); 5] = [
    ("ocsp.jpg", true),
    ("sample1.png", false),
    ("video1.mp4", false),
    ("sample1.wav", false),
    ("express-signed.pdf", true),
];

fn corpus() -> Option<PathBuf> {
    let dir = root().join("../shared/corpus/c2pa-rs");
    dir.is_dir().then_some(dir)
}

/// The scan's NDJSON, by file name.
fn by_name(stdout: &str) -> BTreeMap<String, Value> {
    stdout
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let name = Path::new(v["path"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (name, v)
        })
        .collect()
}

fn stamp_item(file: &Value) -> String {
    file["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "greenlight_stamp")
        .unwrap_or_else(|| panic!("no stamp evidence: {file}"))["detail"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The stamped file read back with the c2pa crate's own Reader, trusting `trust`.
fn read_back(path: &Path, sidecar: Option<&Path>, trust: &str) -> (Value, c2pa::ValidationState) {
    let settings = serde_json::json!({
        "verify": { "verify_trust": true, "ocsp_fetch": false, "remote_manifest_fetch": false },
        "trust": { "trust_anchors": trust },
    });
    let context = c2pa::Context::new()
        .with_settings(settings.to_string().as_str())
        .unwrap();
    let format = c2pa::format_from_path(path).unwrap();
    let file = std::fs::File::open(path).unwrap();
    let reader = c2pa::Reader::from_context(context);
    let reader = match sidecar {
        Some(s) => reader.with_manifest_data_and_stream(&std::fs::read(s).unwrap(), &format, file),
        None => reader.with_stream(&format, file),
    }
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // What the c2pa crate's Reader makes of the file (shown with `--nocapture`).
    eprintln!("{}: {}", path.display(), reader.json());
    let manifest = reader.active_manifest().expect("an active manifest");
    let assertion: Value = manifest
        .find_assertion("org.greenlight.approval")
        .unwrap_or_else(|e| panic!("{}: no approval assertion: {e}", path.display()));
    assert!(
        manifest.parent().is_some(),
        "{}: the original is the parent ingredient",
        path.display()
    );
    (assertion, reader.validation_state())
}

/// A production with REVIEWER as its reviewer, an escalated declaration in it and
/// REVIEWER's approval of it for `scope` (with `conditions`): the declaration's id and the
/// approval's.
fn approved(cli: &Cli<'_>, scope: &str, conditions: Option<&str>) -> (String, String) {
    let reviewer = format!("{REVIEWER}=reviewer=Rae Tan");
    let production = cli.id_of(
        COORDINATOR,
        &[
            "production",
            "create",
            TITLE,
            "--contact",
            "dana@studio.example",
            "--member",
            &reviewer,
        ],
    );
    let declared = cli
        .run(
            COORDINATOR,
            &[
                "declare",
                "examples/m3-final-character-design.toml",
                "--production",
                &production,
                "--format",
                "json",
            ],
        )
        .expect(3, "declare (escalate)");
    let declaration = declared.json()["declaration_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut args = vec!["approve", declaration.as_str(), "--scope", scope];
    if let Some(c) = conditions {
        args.extend(["--conditions", c]);
    }
    args.extend(["--format", "json"]);
    let approval = cli.run(REVIEWER, &args).expect(0, "approve").json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (declaration, approval)
}

async fn story(fixture: Arc<Fixture>) -> anyhow::Result<()> {
    let Some(corpus) = corpus() else {
        eprintln!("SKIPPED stamp story: no corpus at ../shared/corpus (it is there in CI)");
        return Ok(());
    };
    let cli = Cli { fixture: &fixture };
    let base = fixture.key_path.with_file_name("stamping");
    let keys = base.join("keys");
    let keys_arg = keys.to_str().unwrap();
    let originals = base.join("originals");
    let stamped = base.join("stamped");
    let delivery = base.join("delivery/ep101");
    std::fs::create_dir_all(&originals)?;

    // The studio's key: a local test chain, its key private to the user.
    let created = cli
        .run(COORDINATOR, &["keys", "create", "--keys", keys_arg])
        .expect(0, "keys create");
    assert!(
        created.stdout.contains("algorithm:   es256"),
        "{}",
        created.stdout
    );
    assert!(
        created.stdout.contains("fingerprint: sha256 "),
        "{}",
        created.stdout
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(keys.join("signer.key"))?
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    cli.run(COORDINATOR, &["keys", "create", "--keys", keys_arg])
        .expect(1, "a second key never replaces the first");
    let shown = cli
        .run(
            COORDINATOR,
            &["keys", "show", "--keys", keys_arg, "--format", "json"],
        )
        .expect(0, "keys show")
        .json();
    assert_eq!(shown["algorithm"], "es256");
    assert_eq!(shown["chain"].as_array().unwrap().len(), 2);
    assert_eq!(shown["trust"][0]["is_ca"], true);
    let trust_path = keys.join("trust.pem");
    let trust = std::fs::read_to_string(&trust_path)?;

    // An escalated declaration, approved for the originals only.
    let (declaration, approval) =
        approved(&cli, "originals/**", Some("credit the concept artists"));

    // The originals: real corpus files and a generated poster with A1111 parameters.
    let mut names = Vec::new();
    for (name, _) in CORPUS {
        std::fs::copy(corpus.join(name), originals.join(name))?;
        names.push(name.to_owned());
    }
    std::fs::write(originals.join("poster.png"), png(&[("parameters", A1111)]))?;
    names.push("poster.png".to_owned());
    let before: BTreeMap<String, Vec<u8>> = names
        .iter()
        .map(|n| (n.clone(), std::fs::read(originals.join(n)).unwrap()))
        .collect();

    let mut args = vec!["stamp".to_owned()];
    args.extend(
        names
            .iter()
            .map(|n| originals.join(n).display().to_string()),
    );
    args.extend(
        [
            "--approval",
            &approval,
            "--out",
            stamped.to_str().unwrap(),
            "--keys",
            keys_arg,
            "--format",
            "json",
        ]
        .map(str::to_owned),
    );
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = cli.run(COORDINATOR, &argv).expect(0, "stamp");
    let records = run.json_lines();
    assert_eq!(records.len(), names.len(), "{}", run.stdout);
    for (name, original) in &before {
        // The original is never modified.
        assert_eq!(&std::fs::read(originals.join(name))?, original, "{name}");
        let record = records
            .iter()
            .find(|r| r["source_path"].as_str().unwrap().ends_with(name.as_str()))
            .unwrap();
        assert_eq!(record["approval_id"], approval.as_str());
        assert_eq!(
            record["sha256_before"],
            greenlight_store::sha256_hex(original).as_str()
        );
        let out = stamped.join(name);
        assert_eq!(
            record["sha256_after"],
            greenlight_store::sha256_hex(&std::fs::read(&out)?).as_str()
        );
        // PDF gets a sidecar (the c2pa crate cannot write into it): an unchanged copy.
        let pdf = name.ends_with(".pdf");
        assert_eq!(
            record["sha256_before"] == record["sha256_after"],
            pdf,
            "{name}"
        );
        assert_eq!(record["sidecar_path"].is_string(), pdf, "{name}");
        // The c2pa crate's own Reader validates the stamp and trusts its signer.
        let side = pdf.then(|| out.with_extension("c2pa"));
        let (assertion, state) = read_back(&out, side.as_deref(), &trust);
        // Trusted as a whole unless the original's own signers are not on the list.
        assert_ne!(state, c2pa::ValidationState::Invalid, "{name}");
        assert_eq!(assertion["approval_id"], approval.as_str());
        assert_eq!(assertion["declaration_id"], declaration.as_str());
        assert_eq!(assertion["reviewer"], REVIEWER);
        assert_eq!(assertion["conditions"][0], "credit the concept artists");
        assert_eq!(assertion["scope"][0], "originals/**");
        assert_eq!(assertion["pack"]["id"], "netflix-2025");
        assert_eq!(assertion["decision"]["level"], "escalate");
    }
    let audit = cli.audit_entries(REVIEWER);
    let stamps = audit.iter().filter(|e| e["kind"] == "stamp").count();
    assert_eq!(stamps, names.len(), "one audited entry per stamped file");

    // Moved and renamed at the vendor: no glob of the approval matches, the stamps carry it.
    std::fs::create_dir_all(&delivery)?;
    for name in &names {
        std::fs::rename(stamped.join(name), delivery.join(format!("final_{name}")))?;
        // A sidecar travels with its file, under the file's new name.
        let side = stamped.join(name).with_extension("c2pa");
        if side.exists() {
            std::fs::rename(
                &side,
                delivery
                    .join(format!("final_{name}"))
                    .with_extension("c2pa"),
            )?;
        }
    }
    let deliv = base.join("delivery");
    let scan = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            deliv.to_str().unwrap(),
            "--production",
            TITLE,
            "--gate",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        cli.run(QC, &args)
    };
    let trusted = ["--stamp-trust", trust_path.to_str().unwrap()];
    let run = scan(&trusted).expect(0, "gate passes on the stamps");
    let files = by_name(&run.stdout);
    for name in &names {
        let file = &files[&format!("final_{name}")];
        let detail = stamp_item(file);
        assert!(
            detail.starts_with(&format!(
                "approval {approval}, signature valid, signer trusted, signed by "
            )),
            "{name}: {detail}"
        );
    }
    for name in ["final_ocsp.jpg", "final_poster.png"] {
        let judged = &files[name]["approval"];
        assert_eq!(judged["status"], "approved", "{name}: {judged}");
        assert_eq!(judged["approval_id"], approval.as_str());
        assert!(
            judged["reason"]
                .as_str()
                .unwrap()
                .contains("stamp signed by"),
            "{judged}"
        );
    }
    // Every stamped file is judged by its stamp, whether or not it shows other AI evidence.
    for (name, _) in CORPUS {
        let file = &files[&format!("final_{name}")];
        assert_eq!(file["approval"]["status"], "approved", "{name}: {file}");
    }
    // A sidecar is scanned too, and holds the stamp verified against its PDF beside it: it
    // is judged by that stamp, not as a separate AI-flagged file no approval covers.
    let side = &files["final_express-signed.c2pa"];
    assert!(
        stamp_item(side).contains("signature valid, signer trusted"),
        "{side}"
    );
    assert_eq!(side["approval"]["status"], "approved", "{side}");

    // Without the trust list the signer is unknown: the stamps do not count.
    let untrusted = scan(&["--stamp-trust", base.join("other.pem").to_str().unwrap()]);
    assert_eq!(
        untrusted.code, 1,
        "a trust list that is not there: {}",
        untrusted.stderr
    );
    let other = base.join("other-keys");
    let other_arg = other.to_str().unwrap();
    cli.run(
        COORDINATOR,
        &[
            "keys",
            "create",
            "--keys",
            other_arg,
            "--name",
            "Vendor Signer",
        ],
    )
    .expect(0, "another studio's key");
    let run = scan(&["--stamp-trust", other.join("trust.pem").to_str().unwrap()])
        .expect(4, "a stamp from a signer not on the trust list");
    let files = by_name(&run.stdout);
    assert!(stamp_item(&files["final_poster.png"]).contains("signer untrusted"));
    assert_eq!(
        files["final_poster.png"]["approval"]["status"],
        "unapproved"
    );
    let reason = files["final_sample1.wav"]["approval"]["reason"]
        .as_str()
        .unwrap();
    assert!(reason.starts_with("untrusted signer"), "{reason}");

    // A file with no other AI evidence, one byte of its media changed: tampered, and the
    // gate fails and says so.
    let plain = delivery.join("final_sample1.png");
    let original = std::fs::read(&plain)?;
    let mut bytes = original.clone();
    let at = bytes.len() - 200;
    bytes[at] ^= 0x01;
    std::fs::write(&plain, &bytes)?;
    let run = scan(&trusted).expect(4, "a tampered stamp on a file with no AI evidence");
    let files = by_name(&run.stdout);
    let file = &files["final_sample1.png"];
    assert_eq!(file["verdict"], "no_ai_evidence", "{file}");
    assert!(stamp_item(file).contains("signature tampered"), "{file}");
    assert_eq!(file["approval"]["status"], "unapproved");
    assert!(
        file["approval"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("tampered"),
        "{file}"
    );
    std::fs::write(&plain, &original)?;

    // The same for the PDF, whose stamp is in its sidecar: both fail as tampered.
    let pdf = delivery.join("final_express-signed.pdf");
    let original = std::fs::read(&pdf)?;
    let mut bytes = original.clone();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&pdf, &bytes)?;
    let run = scan(&trusted).expect(4, "a tampered PDF beside its stamp");
    let files = by_name(&run.stdout);
    for name in ["final_express-signed.pdf", "final_express-signed.c2pa"] {
        let file = &files[name];
        assert!(stamp_item(file).contains("signature tampered"), "{file}");
        assert_eq!(file["approval"]["status"], "unapproved", "{file}");
    }
    std::fs::write(&pdf, &original)?;

    // A file stamped with a key the studio does not trust fails, naming the signer; on the
    // trust list it passes, and off it again it fails.
    let vendor = base.join("vendor");
    cli.run(
        COORDINATOR,
        &[
            "stamp",
            originals.join("sample1.png").to_str().unwrap(),
            "--approval",
            &approval,
            "--out",
            vendor.to_str().unwrap(),
            "--keys",
            other_arg,
        ],
    )
    .expect(0, "stamp with the vendor's key");
    std::fs::rename(
        vendor.join("sample1.png"),
        delivery.join("vendor_sample1.png"),
    )?;
    let run = scan(&trusted).expect(4, "a stamp by an untrusted key");
    let files = by_name(&run.stdout);
    let judged = &files["vendor_sample1.png"]["approval"];
    assert_eq!(judged["status"], "unapproved", "{judged}");
    let reason = judged["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("untrusted signer") && reason.contains("Vendor Signer"),
        "{reason}"
    );
    let keys_of = |args: &[&str]| {
        let mut all = vec!["keys", "trust"];
        all.extend_from_slice(args);
        all.extend(["--keys", keys_arg]);
        cli.run(COORDINATOR, &all)
    };
    let fingerprints = |listed: &[Value]| -> Vec<String> {
        listed
            .iter()
            .map(|c| c["sha256"].as_str().unwrap().to_owned())
            .collect()
    };
    let before = fingerprints(
        &keys_of(&["list", "--format", "json"])
            .expect(0, "keys trust list")
            .json_lines(),
    );
    keys_of(&["add", other.join("signer.pem").to_str().unwrap()]).expect(0, "keys trust add");
    let listed = keys_of(&["list", "--format", "json"])
        .expect(0, "keys trust list")
        .json_lines();
    // signer.pem is the vendor's chain: its signer and its root both go on the list
    let added: Vec<String> = fingerprints(&listed)
        .into_iter()
        .filter(|f| !before.contains(f))
        .collect();
    assert_eq!(added.len(), 2, "{listed:?}");
    let vendor_signer = listed
        .iter()
        .find(|c| c["subject"].as_str().unwrap().contains("Vendor Signer"))
        .unwrap_or_else(|| panic!("the vendor's signer is listed: {listed:?}"));
    assert_eq!(vendor_signer["is_ca"], false);
    let fingerprint = vendor_signer["sha256"].as_str().unwrap().to_owned();
    scan(&trusted).expect(0, "the vendor's signer on the trust list");
    assert!(added.contains(&fingerprint));
    for f in &added {
        keys_of(&["remove", f]).expect(0, "keys trust remove");
    }
    keys_of(&["remove", &fingerprint]).expect(1, "a certificate not on the list");
    scan(&trusted).expect(4, "the vendor's signer off the trust list again");
    std::fs::remove_file(delivery.join("vendor_sample1.png"))?;

    // Every stamp is an audited entry the ledger lists: file, hash before and after, approval.
    let listed = cli
        .run(
            QC,
            &["stamps", "list", "--production", TITLE, "--format", "json"],
        )
        .expect(0, "stamps list")
        .json_lines();
    assert_eq!(listed.len(), names.len() + 1, "{listed:?}");
    for s in &listed {
        assert_eq!(s["approval_id"], approval.as_str());
        assert!(
            s["sha256_before"].is_string() && s["sha256_after"].is_string(),
            "{s}"
        );
    }
    let text = cli
        .run(QC, &["stamps", "list"])
        .expect(0, "stamps list (text)");
    assert!(text.stdout.contains("poster.png"), "{}", text.stdout);

    // One byte of media changed: tampered, and the gate fails.
    let victim = delivery.join("final_ocsp.jpg");
    let mut bytes = std::fs::read(&victim)?;
    let at = bytes.len() - 200;
    bytes[at] ^= 0x01;
    let tampered = delivery.join("final_ocsp_edit.jpg");
    std::fs::write(&tampered, &bytes)?;
    let run = scan(&trusted).expect(4, "a tampered stamp");
    let files = by_name(&run.stdout);
    let file = &files["final_ocsp_edit.jpg"];
    assert!(stamp_item(file).contains("signature tampered"), "{file}");
    assert_eq!(file["approval"]["status"], "unapproved");
    assert!(
        file["approval"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("tampered"),
        "{file}"
    );
    assert_eq!(files["final_ocsp.jpg"]["approval"]["status"], "approved");
    std::fs::remove_file(&tampered)?;

    // The declaration is declared again: the approval is superseded, the stamps fail the
    // gate and say why, and the approval can no longer be stamped.
    cli.run(
        COORDINATOR,
        &[
            "declare",
            "examples/m3-final-character-design.toml",
            "--revises",
            &declaration,
        ],
    )
    .expect(3, "declare again");
    let run = scan(&trusted).expect(4, "a superseded approval");
    let files = by_name(&run.stdout);
    let judged = &files["final_poster.png"]["approval"];
    assert_eq!(judged["status"], "unapproved");
    assert!(
        judged["reason"].as_str().unwrap().contains("superseded"),
        "{judged}"
    );
    let refused = cli
        .run(
            COORDINATOR,
            &[
                "stamp",
                originals.join("poster.png").to_str().unwrap(),
                "--approval",
                &approval,
                "--out",
                base.join("again").to_str().unwrap(),
                "--keys",
                keys_arg,
            ],
        )
        .expect(1, "stamping a superseded approval");
    assert!(
        refused.stderr.contains("not in force") || refused.stderr.contains("superseded"),
        "{}",
        refused.stderr
    );
    assert!(!base.join("again/poster.png").exists());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stamps_on_sqlite() {
    greenlight_store_tests::run(Backend::Sqlite, story).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stamps_on_postgres() {
    greenlight_store_tests::run(Backend::Postgres, story).await;
}

/// Formats that cannot embed a manifest get a sidecar; the scanner finds and verifies it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exr_gets_a_sidecar() {
    greenlight_store_tests::run(Backend::Sqlite, |fixture| async move {
        let cli = Cli { fixture: &fixture };
        let base = fixture.key_path.with_file_name("sidecars");
        let keys = base.join("keys");
        std::fs::create_dir_all(&base)?;
        cli.run(
            COORDINATOR,
            &[
                "keys",
                "create",
                "--keys",
                keys.to_str().unwrap(),
                "--alg",
                "ed25519",
            ],
        )
        .expect(0, "keys create (Ed25519)");
        let (_, approval) = approved(&cli, "none/**", None);
        let shot = base.join("sh010.exr");
        std::fs::write(&shot, exr())?;
        let original = std::fs::read(&shot)?;
        let run = cli
            .run(
                COORDINATOR,
                &[
                    "stamp",
                    shot.to_str().unwrap(),
                    "--approval",
                    &approval,
                    "--sidecar",
                    "--keys",
                    keys.to_str().unwrap(),
                    "--format",
                    "json",
                ],
            )
            .expect(0, "stamp an EXR");
        let record = run.json();
        assert_eq!(record["format"], "openexr");
        assert!(record["output_path"].is_null(), "{record}");
        assert_eq!(
            record["sidecar_path"],
            base.join("sh010.c2pa").to_str().unwrap()
        );
        assert_eq!(std::fs::read(&shot)?, original, "the original is untouched");
        let scan = cli
            .run(
                QC,
                &[
                    "scan",
                    shot.to_str().unwrap(),
                    "--stamp-trust",
                    keys.join("trust.pem").to_str().unwrap(),
                    "--format",
                    "json",
                ],
            )
            .expect(0, "scan");
        let file: Value = serde_json::from_str(scan.stdout.trim())?;
        let detail = stamp_item(&file);
        assert!(
            detail.contains("signature valid, signer trusted"),
            "{detail}"
        );
        let mut changed = original.clone();
        let last = changed.len() - 1;
        changed[last] ^= 0xff;
        std::fs::write(&shot, &changed)?;
        let scan = cli
            .run(
                QC,
                &[
                    "scan",
                    shot.to_str().unwrap(),
                    "--stamp-trust",
                    keys.join("trust.pem").to_str().unwrap(),
                    "--format",
                    "json",
                ],
            )
            .expect(0, "scan");
        let file: Value = serde_json::from_str(scan.stdout.trim())?;
        assert!(stamp_item(&file).contains("signature tampered"), "{file}");
        Ok(())
    })
    .await;
}

/// A minimal OpenEXR file: magic, version, a header with one string attribute, its end.
fn exr() -> Vec<u8> {
    let mut out = vec![0x76, 0x2f, 0x31, 0x01, 2, 0, 0, 0];
    out.extend_from_slice(b"owner\0string\0");
    out.extend_from_slice(&(7u32).to_le_bytes());
    out.extend_from_slice(b"studio1");
    out.push(0);
    out.extend_from_slice(&[0u8; 64]);
    out
}
