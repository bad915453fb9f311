//! The ledger's verbs as people use them: the real `greenlight` binary on a
//! real ledger, a temporary SQLite file always, and a PostgreSQL database
//! when `GREENLIGHT_TEST_POSTGRES_URL` is set (see `scripts/postgres.sh`).
//!
//! A production coordinator declares uses, a studio reviewer approves one,
//! the audit log verifies; then someone edits the database behind the
//! ledger's back and verification names the entry.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test: a failure panics with its message"
)]

use std::process::Command;
use std::sync::Arc;

use greenlight_store_tests::{Backend, Fixture};

mod support;
use support::ledger::{Cli, bare, finish, root};

const COORDINATOR: &str = "cam@prod.example";
const REVIEWER: &str = "rae@studio.example";

fn one_line(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr, got:\n{stderr}");
    lines[0]
}

async fn story(fixture: Arc<Fixture>) -> anyhow::Result<()> {
    let cli = Cli { fixture: &fixture };
    let member = format!("{COORDINATOR}=coordinator=Cam Ortiz");
    let reviewer = format!("{REVIEWER}=reviewer,legal=Rae Tan");
    let mut productions = Vec::new();
    for title in [
        "The Salt Road (limited series, 6 x 50')",
        "Meridian (sci-fi series, season 1)",
        "The Long Night (feature)",
    ] {
        productions.push(cli.id_of(
            COORDINATOR,
            &[
                "production",
                "create",
                title,
                "--contact",
                "Dana Price <dana@studio.example>",
                "--member",
                &member,
                "--member",
                &reviewer,
            ],
        ));
    }
    let shown = cli
        .run(
            COORDINATOR,
            &["production", "show", "Meridian (sci-fi series, season 1)"],
        )
        .expect(0, "production show");
    assert!(
        shown
            .stdout
            .contains("rae@studio.example (Rae Tan): reviewer, legal")
    );
    assert!(shown.stdout.contains("Dana Price <dana@studio.example>"));
    let listed = cli.run(COORDINATOR, &["production", "list", "--format", "json"]);
    assert_eq!(listed.expect(0, "production list").json_lines().len(), 3);

    // The registry: a tool, a performer and her documented consent.
    let tool = cli.id_of(
        "legal@studio.example",
        &[
            "tool",
            "register",
            "--vendor",
            "Lumenworks Inc.",
            "--product",
            "Lumen Canvas",
            "--enterprise-agreement",
            "yes",
            "--trains-on-inputs",
            "no",
        ],
    );
    let terms = cli.run(REVIEWER, &["tool", "show", &tool, "--format", "json"]);
    assert_eq!(
        terms.expect(0, "tool show").json()["terms"]["trains_on_inputs"],
        "no"
    );
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
    // Named without an id, she is the registered performer; with no consent on record yet, the
    // declaration's own "pending" stands and de-ageing is blocked.
    // The same de-ageing, declared before and after her consent is recorded.
    let declare_m4 = |code: i32, what: &str| {
        cli.run(
            COORDINATOR,
            &[
                "declare",
                "examples/m4-de-aging-no-consent.toml",
                "--format",
                "json",
            ],
        )
        .expect(code, what)
        .json()
    };
    let blocked = declare_m4(4, "declare m4 (blocked)");
    assert_eq!(blocked["level"], "blocked");
    assert_eq!(blocked["production_id"], productions[2]);
    let resolution = blocked["resolution"].to_string();
    assert!(resolution.contains(&performer), "{resolution}");
    let blocked = blocked["declaration_id"].as_str().unwrap().to_owned();
    let document = fixture.key_path.with_file_name("consent-ruth-calder.pdf");
    std::fs::write(&document, b"signed consent: de-ageing, flashback scenes")?;
    let consent = cli.run(
        "talent@prod.example",
        &[
            "consent",
            "record",
            "--performer",
            &performer,
            "--production",
            "The Long Night (feature)",
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
            "--expires",
            "2099-12-31",
            "--format",
            "json",
        ],
    );
    let consent = consent.expect(0, "consent record").json();
    assert_eq!(
        consent["document_sha256"],
        greenlight_store::sha256_hex(&std::fs::read(&document)?)
    );
    assert_eq!(consent["scope"]["production_id"], productions[2]);
    let consents = cli.run(REVIEWER, &["consent", "list", "--performer", &performer]);
    assert!(
        consents
            .expect(0, "consent list")
            .stdout
            .contains("documented")
    );
    // Her documented consent, found by her name alone, now clears what blocked: the same use
    // escalates for written approval.
    let cleared = declare_m4(3, "declare m4 with her consent on record (escalate)");
    let resolution = cleared["resolution"].to_string();
    assert!(
        resolution.contains(consent["id"].as_str().unwrap()),
        "{resolution}"
    );

    // Declarations, each stored with its decision; the exit code is the level's.
    let notify = cli
        .run(
            COORDINATOR,
            &[
                "declare",
                "examples/m1-mood-board.toml",
                "--production",
                &productions[0],
            ],
        )
        .expect(0, "declare m1 (notify)");
    assert!(notify.stdout.contains("NOTIFY"), "{}", notify.stdout);
    assert!(notify.stdout.contains("recorded declaration"));
    assert!(
        notify
            .stdout
            .contains("shared with the studio contact Dana Price")
    );
    let escalated = cli
        .run(
            COORDINATOR,
            &[
                "declare",
                "examples/m3-key-art-poster.toml",
                "--production",
                "Meridian (sci-fi series, season 1)",
                "--format",
                "json",
            ],
        )
        .expect(3, "declare m3 (escalate)")
        .json();
    assert_eq!(escalated["level"], "escalate");
    assert_eq!(escalated["version"], 1);
    let escalated = escalated["declaration_id"].as_str().unwrap().to_owned();
    let wrong = cli
        .run(
            COORDINATOR,
            &[
                "declare",
                "examples/m3-key-art-poster.toml",
                "--production",
                &productions[0],
            ],
        )
        .expect(1, "declare into another production");
    assert!(
        one_line(&wrong.stderr).contains("not for production"),
        "{}",
        wrong.stderr
    );

    let list = cli
        .run(REVIEWER, &["declaration", "list"])
        .expect(0, "declaration list");
    assert!(list.stdout.contains("awaiting review"), "{}", list.stdout);
    assert_eq!(list.stdout.lines().count(), 5, "{}", list.stdout);

    // Reviews: never one's own declaration, never a blocked one.
    let own = cli
        .run(
            COORDINATOR,
            &["approve", &escalated, "--scope", "Marketing/**"],
        )
        .expect(1, "approving one's own declaration");
    assert!(
        one_line(&own.stderr).contains("cannot review it"),
        "{}",
        own.stderr
    );
    let refused = cli
        .run(REVIEWER, &["approve", &blocked, "--scope", "VFX/**"])
        .expect(1, "approving a blocked declaration");
    assert!(
        one_line(&refused.stderr).contains("is blocked"),
        "{}",
        refused.stderr
    );
    let missing = cli
        .run(
            REVIEWER,
            &[
                "approve",
                "01a21d2c-0000-7000-8000-000000000000",
                "--scope",
                "VFX/**",
            ],
        )
        .expect(1, "approving a declaration that does not exist");
    assert!(
        one_line(&missing.stderr).contains("not found"),
        "{}",
        missing.stderr
    );
    let approval = cli
        .run(
            REVIEWER,
            &[
                "approve",
                &escalated,
                "--scope",
                "Marketing/S1/keyart/**",
                "--scope",
                &format!("sha256:{}", "ab".repeat(32)),
                "--conditions",
                "credit the concept painters",
                "--expires",
                "2099-06-30",
                "--format",
                "json",
            ],
        )
        .expect(0, "approve m3")
        .json();
    assert_eq!(approval["verdict"], "approved");
    assert_eq!(approval["reviewer"], REVIEWER);
    assert_eq!(approval["scope"][0]["glob"], "Marketing/S1/keyart/**");
    let shown = cli
        .run(
            REVIEWER,
            &["declaration", "show", &escalated, "--format", "json"],
        )
        .expect(0, "declaration show")
        .json();
    assert_eq!(shown["approvals_in_force"].as_array().unwrap().len(), 1);
    assert_eq!(shown["versions"].as_array().unwrap().len(), 1);
    let text = cli.run(REVIEWER, &["declaration", "show", &escalated]);
    let text = text.expect(0, "declaration show (text)").stdout;
    assert!(text.contains("in force") && text.contains("condition: credit the concept painters"));

    let verified = cli
        .run(REVIEWER, &["audit", "verify"])
        .expect(0, "audit verify");
    assert!(
        verified.stdout.starts_with("audit log ok"),
        "{}",
        verified.stdout
    );
    // A compliance reviewer verifies with the public half only, without the key file.
    let public = cli.run(REVIEWER, &["audit", "key"]).expect(0, "audit key");
    let public = public.stdout.trim();
    assert_eq!(public.len(), 64, "{public}");
    let elsewhere = bare()
        .arg("--db")
        .arg(&fixture.target)
        .arg("--audit-key")
        .arg(fixture.key_path.with_file_name("not-here.key"))
        .args(["audit", "verify", "--public-key", public])
        .output()?;
    finish(elsewhere).expect(0, "audit verify --public-key");
    let forged = greenlight_store::AuditKey::generate()?.key_id();
    let wrong = cli
        .run(REVIEWER, &["audit", "verify", "--public-key", &forged])
        .expect(1, "audit verify with another public key");
    assert!(
        one_line(&wrong.stderr).contains("entry 1: checkpoint signature does not verify"),
        "{}",
        wrong.stderr
    );

    // Impact analysis: the overlay adds a marketing rule; nothing is written
    // until --apply.
    let overlay = "crates/policy/tests/data/packs/ok/overlay.toml";
    let entries = cli.audit_entries(REVIEWER).len();
    let preview = cli
        .run(
            REVIEWER,
            &["reassess", "--policy", overlay, "--format", "json"],
        )
        .expect(0, "reassess")
        .json_lines();
    // Two would change: the key art gains the marketing rule, and the de-ageing declared
    // before her consent was recorded is triaged against the registry as it stands now,
    // where the consent clears it.
    assert_eq!(preview.len(), 2, "{preview:?}");
    let change = |id: &str| {
        preview
            .iter()
            .find(|c| c["declaration_id"] == id)
            .unwrap_or_else(|| panic!("no change for {id}: {preview:?}"))
    };
    let marketing = change(&escalated);
    assert_eq!(marketing["rules_added"], serde_json::json!(["marketing"]));
    assert_eq!(marketing["approvals_in_force"], 1);
    assert_eq!(marketing["applied"], false);
    let cleared = change(&blocked);
    assert_eq!(
        (&cleared["from"], &cleared["to"]),
        (&"blocked".into(), &"escalate".into())
    );
    assert_eq!(
        cleared["rules_removed"],
        serde_json::json!(["replica-without-consent"])
    );
    assert_eq!(
        cli.audit_entries(REVIEWER).len(),
        entries,
        "a preview writes nothing"
    );
    let text = cli.run(REVIEWER, &["reassess", "--policy", overlay]);
    assert!(
        text.expect(0, "reassess (text)")
            .stdout
            .contains("nothing recorded")
    );

    let applied = cli
        .run(
            REVIEWER,
            &[
                "reassess", "--policy", overlay, "--apply", "--format", "json",
            ],
        )
        .expect(0, "reassess --apply")
        .json_lines();
    assert_eq!(applied.len(), 2);
    assert!(applied.iter().all(|c| c["applied"] == true), "{applied:?}");
    let applied = applied
        .iter()
        .find(|c| c["declaration_id"] == escalated.as_str())
        .unwrap();
    let shown = cli
        .run(
            REVIEWER,
            &["declaration", "show", &escalated, "--format", "json"],
        )
        .expect(0, "declaration show after --apply")
        .json();
    let decisions = shown["decisions"].as_array().unwrap();
    assert_eq!(decisions.len(), 2);
    assert_eq!(decisions[1]["decision"]["policy"]["id"], "studio-overlay");
    assert_eq!(decisions[1]["id"], applied["decision_id"]);
    assert!(shown["approvals_in_force"].as_array().unwrap().is_empty());
    let again = cli
        .run(
            REVIEWER,
            &["reassess", "--policy", overlay, "--format", "json"],
        )
        .expect(0, "reassess after --apply");
    assert!(again.stdout.is_empty(), "{}", again.stdout);
    cli.run(REVIEWER, &["audit", "verify"])
        .expect(0, "audit verify after --apply");

    // Someone edits the approval in the database, around the ledger.
    let entry = cli
        .audit_entries(REVIEWER)
        .into_iter()
        .find(|e| e["kind"] == "approval")
        .unwrap();
    let seq = entry["seq"].as_i64().unwrap();
    fixture
        .raw_sql("UPDATE approvals SET body = replace(body, 'Marketing/S1/keyart/**', '**')")
        .await;
    let broken = cli
        .run(REVIEWER, &["audit", "verify"])
        .expect(1, "audit verify after tampering");
    let message = one_line(&broken.stderr);
    assert!(
        message.contains(&format!("entry {seq}:")) && message.contains("approval"),
        "{message}"
    );
    let report = cli
        .run(REVIEWER, &["audit", "verify", "--format", "json"])
        .expect(1, "audit verify --format json after tampering")
        .json();
    assert_eq!(report["ok"], false);
    assert_eq!(report["first_bad_entry"], seq);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn story_on_sqlite() {
    greenlight_store_tests::run(Backend::Sqlite, story).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn story_on_postgres() {
    greenlight_store_tests::run(Backend::Postgres, story).await;
}

/// An edited audit entry is found, and named, on the SQLite file itself.
#[tokio::test(flavor = "multi_thread")]
async fn an_edited_entry_is_named() {
    greenlight_store_tests::run(Backend::Sqlite, |fixture| async move {
        let cli = Cli { fixture: &fixture };
        for title in ["One", "Two", "Three"] {
            cli.id_of(
                COORDINATOR,
                &[
                    "production",
                    "create",
                    title,
                    "--contact",
                    "dana@studio.example",
                ],
            );
        }
        cli.run(COORDINATOR, &["audit", "verify"])
            .expect(0, "verify");
        fixture
            .raw_sql("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2")
            .await;
        let broken = cli
            .run(COORDINATOR, &["audit", "verify"])
            .expect(1, "verify after editing entry 2");
        let message = one_line(&broken.stderr);
        assert!(message.contains("entry 2:"), "{message}");
        Ok(())
    })
    .await;
}

/// With no --db and no --audit-key, the ledger and its key are created in
/// the user's data directory on first use, side by side.
#[test]
fn the_default_ledger_is_created_on_first_use() {
    let dir = std::env::temp_dir().join(format!("greenlight-cli-default-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let run = |args: &[&str]| {
        finish(
            bare()
                .env("XDG_DATA_HOME", &dir)
                .env("GREENLIGHT_USER", COORDINATOR)
                .args(args)
                .output()
                .unwrap(),
        )
    };
    run(&["production", "list"]).expect(0, "list on a new ledger");
    let created = run(&[
        "production",
        "create",
        "The Salt Road (limited series, 6 x 50')",
        "--contact",
        "dana@studio.example",
    ])
    .expect(0, "create");
    assert!(
        created.stderr.contains("created audit key"),
        "{}",
        created.stderr
    );
    let home = dir.join("greenlight");
    assert!(home.join("ledger.sqlite3").is_file());
    assert!(home.join("audit.key").is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(home.join("audit.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the key is readable by its owner only");
    }
    run(&["declare", "examples/m1-mood-board.toml"]).expect(0, "declare by the named production");
    run(&["audit", "verify"]).expect(0, "verify");

    // A ledger signed by one key does not take a new one silently.
    let other = dir.join("elsewhere.key");
    let create_with_other_key = || {
        finish(
            bare()
                .env("XDG_DATA_HOME", &dir)
                .env("GREENLIGHT_USER", COORDINATOR)
                .arg("--audit-key")
                .arg(&other)
                .args([
                    "production",
                    "create",
                    "Other",
                    "--contact",
                    "dana@studio.example",
                ])
                .output()
                .unwrap(),
        )
    };
    let refused = create_with_other_key().expect(1, "writing with a missing key");
    assert!(
        one_line(&refused.stderr).contains("does not exist"),
        "{}",
        refused.stderr
    );
    assert!(!other.exists());
    std::fs::write(&other, format!("{}\n", "7".repeat(64))).unwrap();
    let refused = create_with_other_key().expect(1, "writing with another key");
    assert!(
        one_line(&refused.stderr).contains("is not the key that signs this ledger"),
        "{}",
        refused.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every change records who made it: by default, the operating system's user.
#[cfg(unix)]
#[test]
fn the_actor_defaults_to_the_os_user() {
    let id = Command::new("id").arg("-un").output().unwrap();
    let me = String::from_utf8(id.stdout).unwrap().trim().to_owned();
    let dir = std::env::temp_dir().join(format!("greenlight-cli-actor-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let run = |args: &[&str]| {
        let output = bare()
            .env_remove("USER")
            .env_remove("LOGNAME")
            .arg("--db")
            .arg(dir.join("ledger.sqlite3"))
            .arg("--audit-key")
            .arg(dir.join("audit.key"))
            .args(args)
            .output()
            .unwrap();
        finish(output)
    };
    run(&[
        "production",
        "create",
        "X",
        "--contact",
        "dana@studio.example",
    ])
    .expect(0, "create");
    let log = run(&["audit", "log", "--format", "json"]).expect(0, "audit log");
    assert_eq!(log.json_lines()[0]["actor"], me.as_str());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A declaration naming a registered performer is triaged with the
/// registry's consent; revoking it, or its expiry, blocks the use again.
#[tokio::test(flavor = "multi_thread")]
async fn revocation_and_expiry_take_effect() {
    greenlight_store_tests::run(Backend::Sqlite, |fixture| async move {
        let cli = Cli { fixture: &fixture };
        let talent = "talent@prod.example";
        cli.id_of(
            COORDINATOR,
            &[
                "production",
                "create",
                "The Long Night (feature)",
                "--contact",
                "dana@studio.example",
                "--member",
                &format!("{REVIEWER}=reviewer=Rae Tan"),
            ],
        );
        let example = std::fs::read_to_string(root().join("examples/m4-de-aging-no-consent.toml"))?;
        let document = fixture.key_path.with_file_name("signed.pdf");
        std::fs::write(&document, b"signed")?;
        let declare = |expires: &str| -> anyhow::Result<(String, String)> {
            let performer = cli.id_of(talent, &["performer", "register", "Ruth Calder"]);
            let consent = cli.id_of(
                talent,
                &[
                    "consent",
                    "record",
                    "--performer",
                    &performer,
                    "--production",
                    "The Long Night (feature)",
                    "--kind",
                    "digital_alteration",
                    "--description",
                    "de-ageing in the flashback scenes",
                    "--given-by",
                    "Ruth Calder",
                    "--document",
                    document.to_str().unwrap(),
                    "--expires",
                    expires,
                ],
            );
            let file = fixture.key_path.with_file_name(format!("{performer}.toml"));
            let text = example.replace("name = \"Ruth Calder\"", &format!("id = \"{performer}\""));
            assert_ne!(text, example);
            std::fs::write(&file, text)?;
            let run = cli
                .run(
                    COORDINATOR,
                    &["declare", file.to_str().unwrap(), "--format", "json"],
                )
                .expect(3, "declare with documented consent (escalate)");
            let declaration = run.json()["declaration_id"].as_str().unwrap().to_owned();
            Ok((declaration, consent))
        };
        let level = |declaration: &str| {
            cli.run(
                REVIEWER,
                &["declaration", "show", declaration, "--format", "json"],
            )
            .expect(0, "declaration show")
            .json()["level"]
                .clone()
        };

        let (revoked, consent) = declare("2099-01-01")?;
        // Long enough for the steps before the sweep on a slow, loaded machine.
        let soon = chrono::Utc::now() + chrono::TimeDelta::seconds(20);
        let (expiring, _) = declare(&soon.to_rfc3339())?;
        assert_eq!(level(&revoked), "escalate");
        let run = cli
            .run(
                talent,
                &[
                    "consent",
                    "revoke",
                    &consent,
                    "--reason",
                    "withdrawn by the performer",
                ],
            )
            .expect(0, "consent revoke");
        assert!(
            run.stdout
                .contains(&format!("declaration {revoked} is blocked again")),
            "{}",
            run.stdout
        );
        assert_eq!(level(&revoked), "blocked");
        assert_eq!(level(&expiring), "escalate");

        let wait = soon - chrono::Utc::now() + chrono::TimeDelta::milliseconds(200);
        tokio::time::sleep(wait.to_std().unwrap_or_default()).await;
        let run = cli
            .run(REVIEWER, &["consent", "sweep"])
            .expect(0, "consent sweep");
        assert!(run.stdout.contains(&expiring), "{}", run.stdout);
        assert_eq!(level(&expiring), "blocked");
        let refused = cli
            .run(REVIEWER, &["approve", &expiring, "--scope", "VFX/**"])
            .expect(1, "approving after the consent expired");
        assert!(
            one_line(&refused.stderr).contains("blocked"),
            "{}",
            refused.stderr
        );
        cli.run(REVIEWER, &["audit", "verify"]).expect(0, "verify");
        Ok(())
    })
    .await;
}

/// A registered performer's documented consent for the production clears a
/// voice model trained on their own recordings (escalate, the reason naming
/// them, the resolution naming the consent); pending or revoked, it does not.
#[tokio::test(flavor = "multi_thread")]
async fn a_registered_performers_consent_clears_training_on_their_own_recordings() {
    greenlight_store_tests::run(Backend::Sqlite, |fixture| async move {
        let cli = Cli { fixture: &fixture };
        let talent = "talent@prod.example";
        let production = "Meridian (sci-fi series, season 1)";
        cli.id_of(
            COORDINATOR,
            &[
                "production",
                "create",
                production,
                "--contact",
                "dana@studio.example",
            ],
        );
        let performer = cli.id_of(talent, &["performer", "register", "Jonah Whitlock"]);
        let consent = cli.id_of(
            talent,
            &[
                "consent",
                "record",
                "--performer",
                &performer,
                "--production",
                production,
                "--kind",
                "employment_replica",
                "--description",
                "a voice model trained on his sessions for the ship's announcements",
                "--given-by",
                "Jonah Whitlock",
                "--pending",
                "--expires",
                "2099-12-31",
            ],
        );
        // The file says documented; the registry's pending consent is what counts.
        let example =
            std::fs::read_to_string(root().join("examples/m4-voice-model-own-recordings.toml"))?;
        let text = example.replace(
            "name = \"Jonah Whitlock\"",
            &format!("id = \"{performer}\""),
        );
        assert!(text.contains("consent = \"documented\"") && text != example);
        let file = fixture.key_path.with_file_name("voice-model.toml");
        std::fs::write(&file, text)?;
        let declare = |code: i32, what: &str| {
            cli.run(
                COORDINATOR,
                &["declare", file.to_str().unwrap(), "--format", "json"],
            )
            .expect(code, what)
            .json()
        };
        let fired = |declared: &serde_json::Value, rule: &str| {
            declared["decision"]["findings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["rule"] == rule)
                .cloned()
        };

        let pending = declare(4, "declare with the consent pending (blocked)");
        assert!(
            fired(&pending, "training-on-unowned-uncleared").is_some(),
            "{pending}"
        );
        assert!(fired(&pending, "training-on-consenting-performers").is_none());

        let document = fixture.key_path.with_file_name("signed.pdf");
        std::fs::write(&document, b"signed: voice model, ship's announcements")?;
        cli.run(
            talent,
            &[
                "consent",
                "document",
                &consent,
                "--document",
                document.to_str().unwrap(),
            ],
        )
        .expect(0, "consent document");
        let cleared = declare(3, "declare with the consent documented (escalate)");
        assert!(
            fired(&cleared, "training-on-unowned-uncleared").is_none(),
            "{cleared}"
        );
        let finding = fired(&cleared, "training-on-consenting-performers").unwrap();
        let reason = finding["reason"].as_str().unwrap();
        assert!(
            reason.contains("consent on record for: Jonah Whitlock."),
            "{reason}"
        );
        let resolution = cleared["resolution"].to_string();
        assert!(
            resolution.contains(&performer) && resolution.contains(&consent),
            "{resolution}"
        );

        let id = cleared["declaration_id"].as_str().unwrap().to_owned();
        cli.run(
            talent,
            &["consent", "revoke", &consent, "--reason", "withdrawn"],
        )
        .expect(0, "consent revoke");
        let shown = cli
            .run(REVIEWER, &["declaration", "show", &id, "--format", "json"])
            .expect(0, "declaration show")
            .json();
        assert_eq!(shown["level"], "blocked", "{shown}");
        cli.run(REVIEWER, &["audit", "verify"]).expect(0, "verify");
        Ok(())
    })
    .await;
}

/// A PostgreSQL URL nobody answers is named (without its password) with the reason.
#[test]
fn an_unreachable_postgres_is_named_without_its_password() {
    // A port nothing listens on: bind one, note it, let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://gl:s3cret@127.0.0.1:{port}/greenlight");
    let run = finish(
        bare()
            .args(["--db", &url, "production", "list"])
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "cannot connect to PostgreSQL at postgres://gl:***@127.0.0.1:{port}/greenlight"
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("refused"), "{}", run.stderr);
    assert!(!run.stderr.contains("s3cret"), "{}", run.stderr);
}
