//! A production's report over a ledger filled with every kind of record (a
//! registered performer and her consent, uses triaged by the real built-in
//! stack of the production's overlays, an approval with conditions, scope and
//! expiry, a rejection, an open escalation ten days old, a failed and a passed
//! scan), on SQLite and on PostgreSQL: its content checked in JSON, every
//! section's presence in HTML, in the CSV archive, and in the PDF through
//! `pdftotext` (Debian's poppler-utils; `scripts/test` installs it).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "a failing test stops at the error"
)]

use std::io::Read as _;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use anyhow::{Context as _, ensure};
use chrono::TimeDelta;
use greenlight_core::{Declaration, SourceFormat};
use greenlight_policy::Policy;
use greenlight_report::{CSV_TABLES, Format, Report, gather, render, sha256_hex};
use greenlight_store::{
    AssetScope, ConsentKind, ConsentScope, ConsentStatus, Contact, Ledger, Member, NewConsent,
    NewPerformer, NewProduction, NewReport, NewReview, NewScan, ProductionId, Role, ScanCounts,
    ScanOutcome, ScannedFile, Standing, Store, Verdict,
};
use greenlight_store_tests::Fixture;
use serde_json::Value;

type Story = anyhow::Result<()>;

const OVERLAYS: [&str; 4] = [
    "eu-ai-act-art50",
    "us-ny",
    "usco-registration",
    "sag-aftra-2023",
];

fn example(name: &str) -> Declaration {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/overlays")
        .join(name);
    Declaration::parse(&std::fs::read_to_string(path).unwrap(), SourceFormat::Toml).unwrap()
}

/// What the story made, for the checks.
struct Filled {
    production: ProductionId,
    approved_title: String,
    open_title: String,
    rejected_title: String,
    consent_id: String,
}

async fn fill(f: &Fixture, ledger: &Ledger<dyn Store>, filler: usize) -> anyhow::Result<Filled> {
    let policy = Policy::builtin_stack(&OVERLAYS).unwrap();
    let triage = |d: &Declaration| policy.assess(d).unwrap();
    let p = ledger
        .create_production(
            "cora",
            NewProduction {
                title: "The Long Night".to_owned(),
                kind: greenlight_core::ProductionKind::Scripted,
                studio_contact: Contact {
                    name: "Sam Studio".to_owned(),
                    email: "sam@studio.example".to_owned(),
                },
                members: vec![
                    Member {
                        person: "cora".to_owned(),
                        name: "Cora Coordinator".to_owned(),
                        roles: vec![Role::Coordinator],
                    },
                    Member {
                        person: "rita".to_owned(),
                        name: "Rita Reviewer".to_owned(),
                        roles: vec![Role::Reviewer, Role::Legal],
                    },
                ],
            },
        )
        .await?;
    ledger
        .set_overlays(
            "cora",
            p.id,
            OVERLAYS.iter().map(|o| (*o).to_owned()).collect(),
        )
        .await?;

    // The registry: a performer and her documented consent for this production.
    let ann = ledger
        .register_performer(
            "tess",
            NewPerformer {
                name: "Ann Actor".to_owned(),
                union: "SAG-AFTRA".to_owned(),
                deceased: false,
                estate: None,
            },
        )
        .await?;
    let consent = ledger
        .record_consent(
            "tess",
            NewConsent {
                performer_id: ann.id,
                kind: ConsentKind::DigitalAlteration,
                scope: ConsentScope {
                    production_id: p.id,
                    media: vec![greenlight_core::Medium::Video],
                    description: "de-ageing of the flashback scenes in episode 3".to_owned(),
                },
                given_by: "Ann Actor".to_owned(),
                status: ConsentStatus::Documented,
                expires_at: None,
                document_sha256: Some("ab".repeat(32)),
            },
        )
        .await?;

    // An escalated deep fake in a fiction, approved with conditions, scope and expiry.
    let approved = example("eu50-4-fiction-credits-line.toml");
    let approved_title = approved.title.clone();
    let s = ledger
        .submit_declaration("cora", p.id, approved, triage)
        .await?;
    ensure!(
        s.decision.level() == greenlight_core::Level::Escalate,
        "the fiction example escalates: {:?}",
        s.decision.decision.findings
    );
    let approval = ledger
        .review(
            "rita",
            NewReview {
                declaration_id: s.declaration.id,
                verdict: Verdict::Approved,
                conditions: vec!["credits line in the end titles".to_owned()],
                scope: vec![AssetScope::Glob("VFX/ep103/**/*.exr".to_owned())],
                expires_at: Some(ledger.now().plus(TimeDelta::days(90))),
                note: "checked with legal".to_owned(),
            },
        )
        .await?;

    // A registered work: the Copyright Office table.
    let registered = example("usco-registered-work.toml");
    let r = ledger
        .submit_declaration("cora", p.id, registered, triage)
        .await?;
    if r.decision.level() == greenlight_core::Level::Escalate {
        ledger
            .review(
                "rita",
                NewReview {
                    declaration_id: r.declaration.id,
                    verdict: Verdict::Approved,
                    conditions: vec!["exclude from the claim".to_owned()],
                    scope: vec![AssetScope::Glob("VFX/ep104/**".to_owned())],
                    expires_at: None,
                    note: String::new(),
                },
            )
            .await?;
    }

    // A rejected ad.
    let mut ad = example("ny-gbl396-b-undisclosed-ad.toml");
    ad.title = "Spokesperson spot, rejected".to_owned();
    let rejected_title = ad.title.clone();
    let a = ledger.submit_declaration("cora", p.id, ad, triage).await?;
    if a.decision.level() != greenlight_core::Level::Notify {
        ledger
            .review(
                "rita",
                NewReview {
                    declaration_id: a.declaration.id,
                    verdict: Verdict::Rejected,
                    conditions: Vec::new(),
                    scope: Vec::new(),
                    expires_at: None,
                    note: "no synthetic spokesperson".to_owned(),
                },
            )
            .await?;
    }

    // A registered performer's alteration, relying on her consent, left open.
    let mut open = example("sag-alteration-with-consent.toml");
    open.title = "Flashback de-ageing, ep. 3".to_owned();
    let open_title = open.title.clone();
    for performer in &mut open.performers {
        performer.id = Some(ann.id.to_string());
    }
    let o = ledger
        .submit_declaration("cora", p.id, open, triage)
        .await?;
    ensure!(
        o.decision.performers == vec![ann.id],
        "the decision names the registered performer"
    );
    ensure!(
        o.decision.level() == greenlight_core::Level::Escalate,
        "the alteration escalates: {:?}",
        o.decision.decision.findings
    );

    // Filler uses, so that the uses table runs over several PDF pages.
    if filler > 0 {
        let mut many = Vec::new();
        for n in 0..filler {
            let mut d = greenlight_store_tests::declaration(
                "The Long Night",
                &format!("Mood board {n:03}"),
            );
            d.description = "reference frames for the art department".to_owned();
            many.push(d);
        }
        ledger
            .submit_declarations("cora", p.id, many, |d| policy.assess(d).unwrap())
            .await?;
    }

    // Ten days pass: the open escalation is 240 hours old.
    f.clock.advance(TimeDelta::days(10));

    // A failed scan (an unapproved AI file), then a passed one (the file approved).
    let new_scan = |at| NewScan {
        production_id: p.id,
        scanner: "greenlight 0.1.0".to_owned(),
        roots: vec!["/deliveries/ep103".to_owned()],
        verified: false,
        strict: false,
        started_at: at,
    };
    let failed = ledger.begin_scan("qc", new_scan(ledger.now())).await?;
    ledger
        .append_scan_files(
            "qc",
            failed.id,
            &[ScannedFile {
                path: "deliv/posters/00001.png".to_owned(),
                verdict: "ai_generated".to_owned(),
                sha256: Some("01".repeat(32)),
                evidence: vec!["generator_metadata: ComfyUI".to_owned()],
                status: Some(Standing::Unapproved),
                approval_id: None,
                declaration_id: None,
                reason: "no approval of this production covers it".to_owned(),
            }],
        )
        .await?;
    ledger
        .finish_scan(
            "qc",
            failed.id,
            ScanOutcome {
                passed: false,
                counts: ScanCounts {
                    files: 12,
                    ai_generated: 1,
                    no_ai_evidence: 11,
                    unapproved: 1,
                    ..ScanCounts::default()
                },
            },
        )
        .await?;
    f.clock.advance(TimeDelta::hours(2));
    let passed = ledger.begin_scan("qc", new_scan(ledger.now())).await?;
    ledger
        .append_scan_files(
            "qc",
            passed.id,
            &[ScannedFile {
                path: "VFX/ep103/crowd/0001.exr".to_owned(),
                verdict: "ai_generated".to_owned(),
                sha256: Some("02".repeat(32)),
                evidence: vec!["c2pa: trainedAlgorithmicMedia".to_owned()],
                status: Some(Standing::Approved),
                approval_id: Some(approval.id),
                declaration_id: Some(s.declaration.id),
                reason: "covered by an approval in force".to_owned(),
            }],
        )
        .await?;
    ledger
        .finish_scan(
            "qc",
            passed.id,
            ScanOutcome {
                passed: true,
                counts: ScanCounts {
                    files: 12,
                    ai_generated: 1,
                    no_ai_evidence: 11,
                    approved: 1,
                    ..ScanCounts::default()
                },
            },
        )
        .await?;
    Ok(Filled {
        production: p.id,
        approved_title,
        open_title,
        rejected_title,
        consent_id: consent.id.to_string(),
    })
}

fn kinds(json: &Value) -> Vec<&str> {
    json["disclosures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect()
}

async fn the_json_report_holds_every_record(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let filled = fill(&f, &ledger, 0).await?;
    let report = gather(&ledger, filled.production, "cora").await?;
    let bytes = render(&report, Format::Json)?;
    let json: Value = serde_json::from_slice(&bytes)?;
    ensure!(json["schema"] == "greenlight-report/1");
    ensure!(json["production"]["title"] == "The Long Night");
    ensure!(json["production"]["overlays"].as_array().unwrap().len() == 4);

    let uses = json["uses"].as_array().unwrap();
    ensure!(uses.len() == 4, "{uses:?}");
    let by_title = |t: &str| uses.iter().find(|u| u["title"] == t).unwrap();
    ensure!(by_title(&filled.approved_title)["standing"] == "approved");
    ensure!(by_title(&filled.open_title)["standing"] == "awaiting review");
    ensure!(by_title(&filled.rejected_title)["standing"] == "rejected");
    ensure!(
        by_title(&filled.approved_title)["policy"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().starts_with("eu-ai-act-art50@")),
        "the decision names every layer"
    );

    let approvals = json["approvals"].as_array().unwrap();
    let approval = approvals
        .iter()
        .find(|a| a["title"] == filled.approved_title.as_str())
        .unwrap();
    ensure!(approval["verdict"] == "approved" && approval["in_force"] == true);
    ensure!(approval["conditions"][0] == "credits line in the end titles");
    ensure!(approval["scope"][0] == "glob:VFX/ep103/**/*.exr");
    ensure!(approval["expires_at"].is_string());
    ensure!(approvals.iter().any(|a| a["verdict"] == "rejected"));

    let consents = json["consents"].as_array().unwrap();
    ensure!(consents.len() == 1, "{consents:?}");
    ensure!(consents[0]["consent_id"] == filled.consent_id.as_str());
    ensure!(consents[0]["performer"] == "Ann Actor" && consents[0]["in_force"] == true);
    ensure!(consents[0]["relied_on_by"][0] == filled.open_title.as_str());

    let escalations = json["escalations"].as_array().unwrap();
    ensure!(escalations.len() == 1, "{escalations:?}");
    ensure!(escalations[0]["title"] == filled.open_title.as_str());
    ensure!(escalations[0]["age_hours"].as_u64().unwrap() >= 240);
    let ages = &json["summary"]["escalations_by_age"];
    ensure!(
        ages[2]["label"] == "7-30 days" && ages[2]["count"] == 1,
        "{ages}"
    );

    let scans = json["scans"].as_array().unwrap();
    ensure!(scans.len() == 2);
    ensure!(scans[0]["gate"] == "failed" && scans[0]["unapproved"] == 1);
    ensure!(scans[1]["gate"] == "passed" && scans[1]["approved"] == 1);
    ensure!(json["gate"]["result"] == "passed" && json["gate"]["scan_id"] == scans[1]["scan_id"]);

    let audit = &json["audit"];
    ensure!(audit["ok"] == true, "{audit}");
    let head = ledger.audit_entries(None, 1000).await?.pop().unwrap();
    ensure!(audit["head_seq"] == head.seq && audit["head_hash"] == head.hash.as_str());

    let owed = kinds(&json);
    ensure!(owed.contains(&"eu_art50_notice"), "{owed:?}");
    ensure!(owed.contains(&"usco_exclusions"), "{owed:?}");
    ensure!(owed.contains(&"credits"), "{owed:?}");
    // The rejected ad owes no synthetic-performer notice.
    ensure!(!owed.contains(&"ny_ad_notice"), "{owed:?}");
    let notice = json["disclosures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "eu_art50_notice")
        .unwrap();
    ensure!(
        notice["text"]
            .as_str()
            .unwrap()
            .starts_with("Contains AI-generated or AI-manipulated imagery: ")
    );
    ensure!(
        notice["cites"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "EU50-4")
    );

    // The JSON reads back as the report it was made from.
    let back: Report = serde_json::from_slice(&bytes)?;
    ensure!(back == report);
    Ok(())
}

fn pdftotext(pdf: &[u8], dir: &Path) -> anyhow::Result<Option<String>> {
    let input = dir.join("report.pdf");
    std::fs::write(&input, pdf)?;
    let output = dir.join("report.txt");
    match Command::new("pdftotext")
        .arg("-layout")
        .arg(&input)
        .arg(&output)
        .status()
    {
        Ok(status) => {
            ensure!(status.success(), "pdftotext failed: {status}");
            Ok(Some(std::fs::read_to_string(output)?))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            ensure!(
                std::env::var("CI").as_deref() != Ok("true"),
                "pdftotext is missing under CI: scripts/test installs poppler-utils"
            );
            eprintln!("skipping the PDF text checks: pdftotext (poppler-utils) is not installed");
            Ok(None)
        }
        Err(e) => Err(e).context("cannot run pdftotext"),
    }
}

async fn every_section_is_in_html_csv_and_pdf(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let filled = fill(&f, &ledger, 70).await?;
    let report = gather(&ledger, filled.production, "cora").await?;

    let html = String::from_utf8(render(&report, Format::Html)?)?;
    for id in [
        "summary",
        "charts",
        "disclosures",
        "uses",
        "approvals",
        "consents",
        "escalations",
        "scans",
        "audit",
    ] {
        ensure!(
            html.contains(&format!("id=\"{id}\"")),
            "html section `{id}`"
        );
    }
    ensure!(html.matches("<svg").count() == 3, "three inline SVG charts");
    ensure!(
        !html.contains("<script") && !html.contains("src=\"http"),
        "self-contained"
    );
    ensure!(html.contains("@media print"));
    ensure!(html.contains(&report.audit.head_hash.clone().unwrap()));
    ensure!(html.contains("Contains AI-generated or AI-manipulated imagery"));

    let zip = render(&report, Format::Csv)?;
    let mut archive = zip_names(&zip);
    archive.sort();
    let mut expected: Vec<String> = CSV_TABLES.iter().map(|s| (*s).to_owned()).collect();
    expected.sort();
    ensure!(archive == expected, "{archive:?}");
    ensure!(
        zip.windows(b"credits line in the end titles".len())
            .any(|w| w == b"credits line in the end titles"),
        "approvals.csv holds the condition (stored, uncompressed)"
    );

    let pdf = render(&report, Format::Pdf)?;
    ensure!(pdf.starts_with(b"%PDF-"));
    ensure!(
        pdf.windows(b"/FontFile2".len()).any(|w| w == b"/FontFile2"),
        "the font is embedded"
    );
    if let Some(out) = std::env::var_os("GREENLIGHT_REPORT_OUT") {
        let out = Path::new(&out);
        std::fs::create_dir_all(out)?;
        std::fs::write(out.join("report.pdf"), &pdf)?;
        std::fs::write(out.join("report.html"), &html)?;
        std::fs::write(out.join("report.zip"), &zip)?;
        std::fs::write(out.join("report.json"), render(&report, Format::Json)?)?;
    }
    let dir = std::env::temp_dir().join(format!("greenlight-report-{}", report.report_id));
    std::fs::create_dir_all(&dir)?;
    let text = pdftotext(&pdf, &dir)?;
    if let Some(text) = text {
        for heading in [
            "AI use report: The Long Night",
            "At a glance",
            "Uses by outcome",
            "Uses by purpose",
            "Open escalations by age",
            "Disclosures owed",
            "EU AI Act Article 50(4): notice line",
            "US Copyright Office: AI-generated material to exclude",
            "Credits: generative AI in the final cut",
            "Declared uses and their decisions",
            "Approvals and rejections",
            "Consents relied on",
            "Open escalations",
            "Delivery scans",
            "Audit log",
            &filled.open_title,
            "Ann Actor",
        ] {
            ensure!(text.contains(heading), "the PDF says `{heading}`");
        }
        let pages: Vec<&str> = text
            .split('\u{c}')
            .filter(|p| !p.trim().is_empty())
            .collect();
        let total = pages.len();
        ensure!(total >= 3, "{total} pages");
        for (n, page) in pages.iter().enumerate() {
            ensure!(
                page.contains(&format!("page {} of {total}", n + 1)),
                "page {} is numbered",
                n + 1
            );
        }
        // The uses and escalations tables (the filler uses escalate) run over pages, each
        // page of rows under the table's header, repeated.
        let uses_pages = pages
            .iter()
            .filter(|p| p.contains("Mood") && p.contains("standing"))
            .count();
        let headed = pages
            .iter()
            .filter(|p| p.contains("Mood"))
            .all(|p| p.contains("standing") || (p.contains(" age ") && p.contains("rules")));
        ensure!(
            uses_pages >= 2 && headed,
            "{uses_pages} pages of uses; every page headed: {headed}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn zip_names(bytes: &[u8]) -> Vec<String> {
    // Local file headers: signature, then the name at offset 30 with its length at 26.
    let mut names = Vec::new();
    let mut i = 0;
    while i + 30 <= bytes.len() {
        if bytes[i..i + 4] == [0x50, 0x4b, 0x03, 0x04] {
            let len = u16::from_le_bytes([bytes[i + 26], bytes[i + 27]]) as usize;
            let mut name = String::new();
            (&bytes[i + 30..i + 30 + len])
                .read_to_string(&mut name)
                .unwrap();
            names.push(name);
            i += 30 + len;
        } else {
            i += 1;
        }
    }
    names
}

async fn a_report_is_recorded_by_its_sha256(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let filled = fill(&f, &ledger, 0).await?;
    let report = gather(&ledger, filled.production, "cora").await?;
    let pdf = render(&report, Format::Pdf)?;
    let sha = sha256_hex(&pdf);
    let new = NewReport {
        sha256: sha.clone(),
        report_id: report.report_id.clone(),
        production_id: filled.production,
        format: "pdf".to_owned(),
        bytes: pdf.len() as u64,
        generated_at: report.generated_at.parse()?,
        audit_head_seq: report.audit.head_seq,
        audit_head_hash: report.audit.head_hash.clone(),
    };
    let recorded = ledger.record_report("cora", new.clone()).await?;
    ensure!(recorded.sha256 == sha && recorded.recorded_by == "cora");
    // Recording the same bytes again keeps the first record, and writes nothing.
    let entries = ledger.audit_entries(None, 1000).await?.len();
    ensure!(ledger.record_report("rita", new.clone()).await? == recorded);
    ensure!(ledger.audit_entries(None, 1000).await?.len() == entries);
    let found = ledger.report_by_sha256(&sha).await?;
    ensure!(found.as_ref() == Some(&recorded));
    let mut changed = pdf.clone();
    let last = changed.len() / 2;
    changed[last] ^= 1;
    ensure!(
        ledger
            .report_by_sha256(&sha256_hex(&changed))
            .await?
            .is_none()
    );
    let page = ledger.reports(filled.production, None, 10).await?;
    ensure!(page.items == vec![recorded]);
    let log = ledger.audit_entries(None, 1000).await?;
    ensure!(log.iter().filter(|e| e.kind == "report").count() == 1);
    ensure!(ledger.verify().await?.is_ok());
    // A malformed record is refused.
    let mut bad = new.clone();
    bad.format = "docx".to_owned();
    ensure!(ledger.record_report("cora", bad).await.is_err());
    let mut bad = new;
    bad.sha256 = "nope".to_owned();
    ensure!(ledger.record_report("cora", bad).await.is_err());
    ensure!(ledger.report_by_sha256("../etc").await.is_err());
    Ok(())
}

use greenlight_store_tests::contract;

contract!(
    the_json_report_holds_every_record,
    every_section_is_in_html_csv_and_pdf,
    a_report_is_recorded_by_its_sha256,
);
