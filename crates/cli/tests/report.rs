//! `greenlight report` and `greenlight report verify` as people use them: the
//! real binary on a real ledger (SQLite always, PostgreSQL when configured).
//! A report in every format is written and recorded; `verify` names its
//! production, report and time, and refuses the file with one byte changed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test: a failure panics with its message"
)]

use std::sync::Arc;

use greenlight_store_tests::{Backend, Fixture};

mod support;
use support::ledger::Cli;

const COORDINATOR: &str = "cam@prod.example";
const REVIEWER: &str = "rae@studio.example";

async fn story(fixture: Arc<Fixture>) -> anyhow::Result<()> {
    let cli = Cli { fixture: &fixture };
    let member = format!("{COORDINATOR}=coordinator=Cam Ortiz");
    let reviewer = format!("{REVIEWER}=reviewer,legal=Rae Tan");
    let production = cli.id_of(
        COORDINATOR,
        &[
            "production",
            "create",
            "The Long Night",
            "--contact",
            "Dana Price <dana@studio.example>",
            "--member",
            &member,
            "--member",
            &reviewer,
            "--overlay",
            "eu-ai-act-art50",
            "--overlay",
            "usco-registration",
        ],
    );
    for example in [
        "examples/overlays/eu50-4-fiction-credits-line.toml",
        "examples/overlays/usco-registered-work.toml",
    ] {
        let run = cli.run(
            COORDINATOR,
            &["declare", example, "--production", &production],
        );
        assert!(
            [0, 3].contains(&run.code),
            "declare {example}: {}",
            run.stderr
        );
    }

    // A consent recorded with its terms.
    let performer = cli.id_of(
        "talent@prod.example",
        &[
            "performer",
            "register",
            "Ruth Calder",
            "--union",
            "SAG-AFTRA",
        ],
    );
    let document = fixture.key_path.with_file_name("consent.pdf");
    std::fs::write(&document, b"signed consent: de-ageing, flashback scenes")?;
    let consent = cli
        .run(
            "talent@prod.example",
            &[
                "consent",
                "record",
                "--performer",
                &performer,
                "--production",
                &production,
                "--kind",
                "digital_alteration",
                "--media",
                "video",
                "--description",
                "de-ageing in the four 1986 flashback scenes",
                "--given-by",
                "Ruth Calder",
                "--document",
                document.to_str().unwrap(),
                "--replica-kind",
                "employment_based",
                "--separately-signed",
                "yes",
                "--representation",
                "union",
                "--format",
                "json",
            ],
        )
        .expect(0, "consent record with terms")
        .json();
    assert_eq!(consent["terms"]["replica_kind"], "employment_based");
    assert_eq!(consent["terms"]["separately_signed"], "yes");
    assert_eq!(consent["terms"]["representation"], "union");
    let bad = cli.run(
        "talent@prod.example",
        &[
            "consent",
            "record",
            "--performer",
            &performer,
            "--production",
            &production,
            "--kind",
            "digital_alteration",
            "--description",
            "x",
            "--given-by",
            "R",
            "--pending",
            "--representation",
            "lawyer",
        ],
    );
    assert_eq!(
        bad.code, 2,
        "an unknown representation is a usage error: {}",
        bad.stderr
    );

    let dir = fixture.key_path.with_file_name("reports");
    std::fs::create_dir_all(&dir)?;
    for format in ["pdf", "html", "json", "csv"] {
        let out = dir.join(format!("report.{format}"));
        let made = cli
            .run(
                COORDINATOR,
                &[
                    "report",
                    "--production",
                    "The Long Night",
                    "--format",
                    format,
                    "--out",
                    out.to_str().unwrap(),
                ],
            )
            .expect(0, &format!("report --format {format}"));
        assert!(
            made.stderr.contains("recorded in the ledger"),
            "{}",
            made.stderr
        );
        let verified = cli
            .run(REVIEWER, &["report", "verify", out.to_str().unwrap()])
            .expect(0, "report verify");
        assert!(
            verified.stdout.contains("on production `The Long Night`")
                && verified.stdout.contains(&production)
                && verified.stdout.contains(&format!(" {format} made at ")),
            "{}",
            verified.stdout
        );

        // One byte changed: refused.
        let mut bytes = std::fs::read(&out)?;
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x01;
        let changed = dir.join(format!("changed.{format}"));
        std::fs::write(&changed, &bytes)?;
        let refused = cli
            .run(REVIEWER, &["report", "verify", changed.to_str().unwrap()])
            .expect(1, "report verify of a changed file");
        assert!(
            refused
                .stderr
                .contains("is not a report this ledger recorded"),
            "{}",
            refused.stderr
        );
    }

    // JSON to standard output is recorded too, and verify answers in JSON.
    let json = cli
        .run(
            COORDINATOR,
            &["report", "--production", &production, "--format", "json"],
        )
        .expect(0, "report to stdout");
    let report: serde_json::Value = serde_json::from_str(&json.stdout)?;
    assert_eq!(report["schema"], "greenlight-report/1");
    let file = dir.join("stdout.json");
    std::fs::write(&file, json.stdout.as_bytes())?;
    let answer = cli
        .run(
            REVIEWER,
            &[
                "report",
                "verify",
                file.to_str().unwrap(),
                "--format",
                "json",
            ],
        )
        .expect(0, "verify --format json");
    let answer = answer.json();
    assert_eq!(answer["ok"], true);
    assert_eq!(answer["report"]["report_id"], report["report_id"]);

    // Every report is an audited entry.
    let reports = cli
        .audit_entries(REVIEWER)
        .into_iter()
        .filter(|e| e["kind"] == "report")
        .count();
    assert_eq!(reports, 5);
    cli.run(REVIEWER, &["audit", "verify"])
        .expect(0, "audit verify");

    // Bad input: an unknown production, a missing file.
    let unknown = cli.run(
        COORDINATOR,
        &["report", "--production", "Nope", "--format", "json"],
    );
    assert_eq!(unknown.code, 1, "{}", unknown.stderr);
    let missing = cli.run(REVIEWER, &["report", "verify", "/nonexistent/report.pdf"]);
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("cannot open"), "{}", missing.stderr);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn report_story_on_sqlite() {
    greenlight_store_tests::run(Backend::Sqlite, story).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn report_story_on_postgres() {
    greenlight_store_tests::run(Backend::Postgres, story).await;
}
