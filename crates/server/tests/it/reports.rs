//! `GET /api/v1/productions/{id}/report` over real HTTP, on both backends: each format
//! fetched and read (the PDF through `pdftotext`, Debian's poppler-utils), its sha256
//! recorded in the ledger as an audited entry, and refused to whoever may not read the
//! production's declarations, consents and scans.

use std::path::Path;
use std::process::Command;

use axum::http::Method;

use crate::world::{Who, World};

fn pdftotext(pdf: &[u8], dir: &Path) -> Option<String> {
    let input = dir.join("report.pdf");
    std::fs::write(&input, pdf).unwrap();
    let output = dir.join("report.txt");
    match Command::new("pdftotext")
        .arg("-layout")
        .arg(&input)
        .arg(&output)
        .status()
    {
        Ok(status) => {
            assert!(status.success(), "pdftotext failed: {status}");
            Some(std::fs::read_to_string(output).unwrap())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert_ne!(
                std::env::var("CI").as_deref(),
                Ok("true"),
                "pdftotext is missing under CI: scripts/test installs poppler-utils"
            );
            eprintln!("skipping the PDF text checks: pdftotext (poppler-utils) is not installed");
            None
        }
        Err(e) => panic!("cannot run pdftotext: {e}"),
    }
}

#[tokio::test]
async fn a_report_comes_in_each_format_and_is_recorded_by_its_sha256() {
    World::each(|world| async move {
        let world = world;
        let dir = tempfile::tempdir().unwrap();
        let path = |format: &str| {
            format!(
                "/api/v1/productions/{}/report?format={format}",
                world.production.id
            )
        };
        for (format, media_type, extension) in [
            ("json", "application/json", "json"),
            ("html", "text/html; charset=utf-8", "html"),
            ("pdf", "application/pdf", "pdf"),
            ("csv", "application/zip", "zip"),
        ] {
            let entries = world.audit_len().await;
            let reply = world
                .send(Who::Reviewer, Method::GET, &path(format), None)
                .await;
            let body = &reply.body;
            assert_eq!(
                reply.status,
                200,
                "{format}: {}",
                String::from_utf8_lossy(body)
            );
            assert_eq!(reply.content_type(), media_type, "{format}");
            assert_eq!(
                reply.headers["content-disposition"],
                format!("attachment; filename=\"greenlight-report-the-long-night.{extension}\""),
                "{format}"
            );
            match format {
                "json" => {
                    let report = reply.json();
                    assert_eq!(report["schema"], greenlight_report::SCHEMA);
                    assert_eq!(report["production"]["title"], "The Long Night");
                    assert_eq!(report["generated_by"], "rae");
                    let uses = report["uses"].as_array().unwrap();
                    assert_eq!(uses.len(), 1, "{report}");
                    assert_eq!(uses[0]["declaration_id"], world.declaration.as_str());
                    assert_eq!(report["escalations"].as_array().unwrap().len(), 1);
                    assert_eq!(report["scans"].as_array().unwrap().len(), 1);
                    assert_eq!(report["audit"]["ok"], true, "{report}");
                }
                "html" => {
                    let html = String::from_utf8(body.to_vec()).unwrap();
                    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
                    for section in ["At a glance", "Disclosures owed", "Audit log"] {
                        assert!(html.contains(section), "{section} missing");
                    }
                    assert!(html.contains("The Long Night"));
                }
                "pdf" => {
                    assert!(body.starts_with(b"%PDF-"));
                    if let Some(text) = pdftotext(body, dir.path()) {
                        for wanted in ["The Long Night", "Disclosures owed", "Audit log"] {
                            assert!(text.contains(wanted), "{wanted} not in the PDF: {text}");
                        }
                    }
                }
                _ => {
                    assert!(body.starts_with(b"PK\x03\x04"), "a zip archive");
                    for name in greenlight_report::CSV_TABLES {
                        assert!(
                            body.windows(name.len()).any(|w| w == name.as_bytes()),
                            "{name} not in the archive"
                        );
                    }
                }
            }
            // The file handed over is the one the ledger recorded, in an audited write.
            let sha256 = greenlight_report::sha256_hex(body);
            assert_eq!(reply.headers["x-greenlight-report-sha256"], sha256.as_str());
            let record = world
                .ledger
                .report_by_sha256(&sha256)
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("the {format} report is not recorded"));
            assert_eq!(record.format, format);
            assert_eq!(record.production_id, world.production.id);
            assert_eq!(record.recorded_by, "rae");
            assert_eq!(record.bytes, body.len() as u64);
            let written = world
                .ledger
                .audit_entries(Some(i64::try_from(entries).unwrap()), 1_000)
                .await
                .unwrap();
            assert!(
                written
                    .iter()
                    .any(|e| e.record_id == sha256 && e.actor == "rae"),
                "{format}: no audit entry for the report: {written:?}"
            );
        }

        // Legal and the auditor may have it too; the default format is HTML.
        for who in [Who::Legal, Who::Auditor] {
            let reply = world
                .send(
                    who,
                    Method::GET,
                    &format!("/api/v1/productions/{}/report", world.production.id),
                    None,
                )
                .await;
            assert_eq!(reply.status, 200, "{who:?}");
            assert_eq!(reply.content_type(), "text/html; charset=utf-8");
        }

        // Whoever may not read its consents and scans (a coordinator reads no consents,
        // another production's coordinator nothing of it, an admin no declarations) gets
        // a 403, and nothing is recorded.
        let recorded = || async {
            world
                .ledger
                .reports(world.production.id, None, 1_000)
                .await
                .unwrap()
                .items
                .len()
        };
        let before = recorded().await;
        assert_eq!(
            before, 6,
            "four formats, then legal's and the auditor's HTML"
        );
        for who in [Who::Other, Who::Coordinator, Who::Vendor, Who::Admin] {
            let reply = world.send(who, Method::GET, &path("pdf"), None).await;
            reply.problem(403);
        }
        let reply = world
            .send(Who::Nobody, Method::GET, &path("pdf"), None)
            .await;
        reply.problem(401);
        assert_eq!(recorded().await, before);

        // A format that is not one is named; an unknown parameter too; an unknown
        // production is a 404.
        let reply = world
            .send(Who::Reviewer, Method::GET, &path("docx"), None)
            .await;
        let problem = reply.problem(422);
        assert!(
            problem["detail"].as_str().unwrap().contains("`docx`"),
            "{problem}"
        );
        let reply = world
            .send(
                Who::Reviewer,
                Method::GET,
                &format!(
                    "/api/v1/productions/{}/report?fromat=pdf",
                    world.production.id
                ),
                None,
            )
            .await;
        reply.problem(400);
        let reply = world
            .send(
                Who::Reviewer,
                Method::GET,
                "/api/v1/productions/0190b5c8-0000-7000-8000-000000000000/report",
                None,
            )
            .await;
        reply.problem(404);
        assert_eq!(recorded().await, before);
    })
    .await;
}
