//! The web app in a real headless Chromium, through chromedriver (`scripts/browser.sh` starts
//! it and sets `GREENLIGHT_TEST_WEBDRIVER`): the whole story of declaring, reviewing,
//! approving and auditing a use (and printing its approval; a draft saved and resumed;
//! changes requested and answered by a revision), the form's errors, axe-core's accessibility check on every
//! page (`GREENLIGHT_TEST_AXE`, the script `browser.sh` installs from npm) and screenshots
//! of the main pages, the dashboard's charts and the admins' outbox among them (into `target/screenshots/`; into `docs/screenshots/` as well with
//! `GREENLIGHT_UPDATE_SCREENSHOTS=1`).
//!
//! Without chromedriver the test says so and passes, except under CI (`CI` set), where it
//! fails.

use std::path::PathBuf;

use chrono::TimeDelta;
use fantoccini::{Client, ClientBuilder, Locator};
use greenlight_store::{
    ConsentKind, ConsentScope, ConsentStatus, NewConsent, OutboxChannels, Settle,
};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use crate::support::root;
use crate::world::{PASSWORD, World};

/// The WebDriver URL and axe-core's script, or `None` (with the reason printed) when the
/// browser is not set up.
fn setup() -> Option<(String, String)> {
    let webdriver = std::env::var("GREENLIGHT_TEST_WEBDRIVER").ok();
    let axe = std::env::var("GREENLIGHT_TEST_AXE").ok();
    match (webdriver, axe) {
        (Some(webdriver), Some(axe)) => {
            let script = std::fs::read_to_string(&axe)
                .unwrap_or_else(|e| panic!("GREENLIGHT_TEST_AXE={axe}: {e}"));
            Some((webdriver, script))
        }
        _ if std::env::var_os("CI").is_some() => panic!(
            "CI: the browser test needs GREENLIGHT_TEST_WEBDRIVER and GREENLIGHT_TEST_AXE \
             (eval \"$(scripts/browser.sh)\")"
        ),
        _ => {
            eprintln!(
                "SKIP: no browser (GREENLIGHT_TEST_WEBDRIVER, GREENLIGHT_TEST_AXE unset): \
                 run eval \"$(scripts/browser.sh)\" first"
            );
            None
        }
    }
}

/// A fresh headless Chromium with its own profile.
async fn chromium(webdriver: &str, profile: &std::path::Path) -> Client {
    let mut options = json!({
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--window-size=1280,1000",
            format!("--user-data-dir={}", profile.display()),
        ]
    });
    if std::path::Path::new("/usr/bin/chromium").exists() {
        options["binary"] = json!("/usr/bin/chromium");
    }
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".to_owned(), json!("chrome"));
    capabilities.insert("goog:chromeOptions".to_owned(), options);
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(webdriver)
        .await
        .unwrap_or_else(|e| panic!("cannot start Chromium through {webdriver}: {e}"))
}

struct Tour {
    client: Client,
    base: String,
    axe: String,
    shots: Vec<PathBuf>,
    violations: Vec<String>,
}

impl Tour {
    async fn go(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    async fn source(&self) -> String {
        self.client.source().await.unwrap()
    }

    async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    async fn css(&self, selector: &str) -> fantoccini::elements::Element {
        match self.client.find(Locator::Css(selector)).await {
            Ok(element) => element,
            Err(e) => panic!("no `{selector}` on {}: {e}", self.path().await),
        }
    }

    async fn click(&self, selector: &str) {
        self.css(selector).await.click().await.unwrap();
    }

    /// Clicks what loads a new page (a link, a form's button) and waits until the old
    /// page is gone and the new one has loaded: a form that redirects to the page it was
    /// on shows no change of address to wait for.
    async fn load_by(&self, selector: &str) {
        let old = self.css("html").await;
        self.click(selector).await;
        let started = std::time::Instant::now();
        while old.tag_name().await.is_ok() {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(20),
                "clicking `{selector}` on {} loaded no new page",
                self.path().await
            );
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        while self
            .client
            .execute("return document.readyState", Vec::new())
            .await
            .ok()
            .and_then(|state| state.as_str().map(|s| s == "complete"))
            != Some(true)
        {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(20),
                "the page after `{selector}` did not finish loading"
            );
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }

    async fn type_into(&self, selector: &str, text: &str) {
        let element = self.css(selector).await;
        element.clear().await.unwrap();
        element.send_keys(text).await.unwrap();
    }

    async fn choose(&self, selector: &str, value: &str) {
        self.css(selector)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("`{selector}` has no option `{value}`: {e}"));
    }

    /// axe-core on the page: every serious or critical violation is kept.
    async fn check(&mut self, page: &str) {
        self.client
            .execute(&format!("{}\nreturn true;", self.axe), Vec::new())
            .await
            .unwrap();
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                   .then(r => done(r.violations
                     .filter(v => v.impact === 'serious' || v.impact === 'critical')
                     .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' at '
                        + v.nodes.map(n => n.target.join(' ')).join(', '))))
                   .catch(e => done(['axe failed: ' + e]));",
                Vec::new(),
            )
            .await
            .unwrap();
        let Value::Array(found) = found else {
            panic!("axe answered {found}");
        };
        for violation in found {
            self.violations.push(format!(
                "{page}: {}",
                violation.as_str().unwrap_or_default()
            ));
        }
    }

    /// The accessibility check, then a screenshot of the page as `name`.png at `height`.
    async fn shoot(&mut self, name: &str, height: u32) {
        self.check(name).await;
        self.client.set_window_size(1280, height).await.unwrap();
        let png = self.client.screenshot().await.unwrap();
        self.client.set_window_size(1280, 1000).await.unwrap();
        let dir = root().join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, &png).unwrap();
        if std::env::var_os("GREENLIGHT_UPDATE_SCREENSHOTS").is_some() {
            let docs = root().join("docs/screenshots");
            std::fs::create_dir_all(&docs).unwrap();
            std::fs::write(docs.join(format!("{name}.png")), &png).unwrap();
        }
        self.shots.push(path);
    }

    async fn sign_in(&mut self, login: &str) {
        self.go("/sign-in").await;
        self.type_into("#login", login).await;
        self.type_into("#password", PASSWORD).await;
        self.load_by("form[action='/sign-in'] button[type=submit]")
            .await;
        self.arrive("/").await;
    }

    async fn sign_out(&self) {
        self.load_by("form[action='/sign-out'] button").await;
        self.arrive("/sign-in").await;
    }

    /// Waits for the navigation a click began to reach `path`.
    async fn arrive(&self, path: &str) {
        let url = url::Url::parse(&format!("{}{path}", self.base)).unwrap();
        if let Err(e) = self.client.wait().for_url(&url).await {
            panic!(
                "not at {path} but {}: {e}\n{}",
                self.path().await,
                self.source().await
            );
        }
    }

    /// Answers every question of the declaration form (the escalating prop of the web
    /// tests), leaving out `skip`.
    async fn fill_declaration(&self, production: &str, tool: &str, title: &str, skip: &str) {
        self.type_into("#f-title", title).await;
        self.choose("#f-production", production).await;
        self.choose("#f-stage", "production").await;
        self.choose("#f-purpose", "prop").await;
        self.click("#f-media-image").await;
        self.type_into(
            "#f-description",
            "The captain's letter, read aloud in close-up.",
        )
        .await;
        self.click(&format!("#f-tools-{tool}")).await;
        self.choose("#f-output-prominence", "story_relevant").await;
        for (name, answer) in crate::web::declaration_form("", "", "", "") {
            let is_answer =
                matches!(answer, "yes" | "no" | "unsure") && !matches!(name, "stage" | "purpose");
            if is_answer && name != skip {
                let id = format!("#f-{}-{answer}", name.replace(['.', '_'], "-"));
                self.click(&id).await;
            }
        }
    }
}

#[tokio::test]
async fn the_story_in_chromium_with_no_serious_accessibility_violation() {
    let Some((webdriver, axe)) = setup() else {
        return;
    };
    World::each(|world| {
        let (webdriver, axe) = (webdriver.clone(), axe.clone());
        async move {
            let world = world;
            let profile = tempfile::tempdir().unwrap();
            let client = chromium(&webdriver, profile.path()).await;
            let mut tour = Tour {
                client,
                base: world.app.base.clone(),
                axe,
                shots: Vec::new(),
                violations: Vec::new(),
            };
            let production = world.production.id.to_string();

            // Signed out, a page's link leads to the sign-in page.
            tour.go(&format!("/declarations/{}", world.declaration))
                .await;
            assert_eq!(tour.path().await, "/sign-in");
            tour.shoot("sign-in", 700).await;

            // The coordinator: a missing answer and an unknown tool first.
            tour.sign_in("cam").await;
            tour.shoot("dashboard-coordinator", 800).await;
            tour.go("/declare").await;
            tour.shoot("declare", 1400).await;
            tour.fill_declaration(
                &production,
                &world.tool,
                "The captain's letter",
                "inputs.personal_data",
            )
            .await;
            tour.type_into("#f-tool-other", "Imaginary Generator 9")
                .await;
            tour.load_by("form[action='/declare'] button[type=submit]")
                .await;
            assert_eq!(tour.path().await, "/declare");
            let error = tour
                .css("#f-inputs-personal-data-error")
                .await
                .text()
                .await
                .unwrap();
            assert!(error.contains("answer yes, no or unsure"), "{error}");
            let error = tour.css("#f-tool-other-error").await.text().await.unwrap();
            assert!(error.contains("unknown tool"), "{error}");
            let kept = tour.css("#f-title").await.prop("value").await.unwrap();
            assert_eq!(kept.as_deref(), Some("The captain's letter"));
            let kept = tour
                .css("#f-inputs-contracts-no")
                .await
                .prop("checked")
                .await
                .unwrap();
            assert_eq!(kept.as_deref(), Some("true"));
            tour.shoot("declare-errors", 1000).await;

            // Fixed: the decision at once, escalated, with what to do next.
            tour.click("#f-inputs-personal-data-no").await;
            tour.type_into("#f-tool-other", "").await;
            tour.load_by("form[action='/declare'] button[type=submit]")
                .await;
            let path = tour.path().await;
            assert!(path.starts_with("/declarations/"), "{path}");
            let id = path.trim_start_matches("/declarations/").to_owned();
            let page = tour.source().await;
            assert!(page.contains("level-escalate\">escalate"), "{page}");
            assert!(page.contains("Wait for written approval"));
            tour.shoot("decision-escalated", 1400).await;
            tour.sign_out().await;

            // The reviewer finds it in the queue and approves it with a scope.
            tour.sign_in("rae").await;
            tour.shoot("dashboard-reviewer", 800).await;
            tour.go("/queue").await;
            assert!(tour.source().await.contains(&id));
            tour.shoot("queue", 800).await;
            tour.load_by(&format!("a[href='/declarations/{id}']")).await;
            tour.type_into("#scope", "GFX/ep105/letter_*.exr").await;
            tour.type_into("#conditions", "not in the trailer").await;
            tour.type_into("#note", "approved for the insert close-up")
                .await;
            tour.shoot("review-panel", 1800).await;
            tour.load_by("form.panel button[type=submit]").await;
            assert_eq!(tour.path().await, format!("/declarations/{id}"));
            assert!(tour.source().await.contains("Approved by rae"));
            tour.sign_out().await;

            // The coordinator sees the approval.
            tour.sign_in("cam").await;
            tour.go(&format!("/declarations/{id}")).await;
            let page = tour.source().await;
            assert!(page.contains("Approved by rae") && page.contains("GFX/ep105/letter_*.exr"));
            tour.shoot("declaration-approved", 1400).await;

            // The written approval prints as a page to file: the pack, its hash, the audit
            // entry's hash, the scope and conditions.
            tour.load_by(&format!("a[href='/declarations/{id}/approval']"))
                .await;
            assert_eq!(tour.path().await, format!("/declarations/{id}/approval"));
            let page = tour.source().await;
            for expected in [
                "Written approval",
                "GFX/ep105/letter_*.exr",
                "not in the trailer",
                "rae",
                "Audit entry hash",
                "netflix-2025",
            ] {
                assert!(page.contains(expected), "no `{expected}` in {page}");
            }
            let hash = tour.css("dd.hash").await.text().await.unwrap();
            assert_eq!(hash.trim().len(), 64, "{hash}");
            tour.shoot("approval-print", 1300).await;
            tour.go("/tokens").await;
            tour.type_into("#name", "delivery pipeline").await;
            tour.load_by("form[action='/tokens'] button[type=submit]")
                .await;
            assert!(
                tour.css("#secret")
                    .await
                    .text()
                    .await
                    .unwrap()
                    .starts_with("glt_")
            );
            tour.shoot("tokens", 900).await;
            tour.sign_out().await;

            // A draft: saved with an answer missing, listed, resumed as typed, submitted (and
            // then gone).
            tour.sign_in("cam").await;
            tour.go("/declare").await;
            tour.fill_declaration(
                &production,
                &world.tool,
                "The second letter",
                "inputs.personal_data",
            )
            .await;
            tour.load_by("form[action='/declare'] button[value=draft]")
                .await;
            assert_eq!(tour.path().await, "/drafts");
            assert!(tour.source().await.contains("The second letter"));
            tour.shoot("drafts", 700).await;
            tour.go("/").await;
            assert!(tour.source().await.contains("My drafts (1)"));
            tour.go("/drafts").await;
            tour.load_by("a[href^='/declare?draft=']").await;
            assert_eq!(tour.path().await, "/declare");
            let kept = tour.css("#f-title").await.prop("value").await.unwrap();
            assert_eq!(kept.as_deref(), Some("The second letter"));
            let kept = tour
                .css("#f-inputs-contracts-no")
                .await
                .prop("checked")
                .await
                .unwrap();
            assert_eq!(kept.as_deref(), Some("true"));
            tour.click("#f-inputs-personal-data-no").await;
            tour.load_by("form[action='/declare'] button[value=submit]")
                .await;
            let path = tour.path().await;
            assert!(path.starts_with("/declarations/"), "{path}");
            let second = path.trim_start_matches("/declarations/").to_owned();
            tour.go("/drafts").await;
            assert!(tour.source().await.contains("You have no draft"));
            tour.sign_out().await;

            // The reviewer requests changes, with a note.
            tour.sign_in("rae").await;
            tour.go(&format!("/declarations/{second}")).await;
            tour.click("#verdict-changes").await;
            tour.load_by("form.panel button[type=submit]").await;
            assert_eq!(tour.path().await, format!("/declarations/{second}/review"));
            let error = tour.css("#note-error").await.text().await.unwrap();
            assert!(error.contains("say what to change"), "{error}");
            tour.click("#verdict-changes").await;
            tour.type_into("#note", "Say which generator version made the letter.")
                .await;
            tour.load_by("form.panel button[type=submit]").await;
            assert!(tour.source().await.contains("Changes requested by rae"));
            tour.go("/queue").await;
            assert!(tour.source().await.contains("changes requested by rae"));
            tour.shoot("queue-changes", 800).await;
            tour.sign_out().await;

            // The coordinator sees the request, revises, and the new version clears it.
            tour.sign_in("cam").await;
            let page = tour.source().await;
            assert!(page.contains("Changes requested (1)"), "{page}");
            assert!(page.contains("Say which generator version made the letter."));
            tour.load_by(&format!("a[href='/declarations/{second}']"))
                .await;
            let page = tour.source().await;
            assert!(
                page.contains("Changes requested: read the reviewer"),
                "{page}"
            );
            tour.shoot("declaration-changes", 1400).await;
            tour.load_by(&format!("a[href='/declarations/{second}/revise']"))
                .await;
            assert_eq!(tour.path().await, format!("/declarations/{second}/revise"));
            let kept = tour.css("#f-title").await.prop("value").await.unwrap();
            assert_eq!(kept.as_deref(), Some("The second letter"));
            let kept = tour
                .css("#f-inputs-personal-data-no")
                .await
                .prop("checked")
                .await
                .unwrap();
            assert_eq!(kept.as_deref(), Some("true"));
            tour.type_into(
                "#f-description",
                "The captain's letter, written with Generator 4.2, read aloud in close-up.",
            )
            .await;
            tour.shoot("revise", 1400).await;
            // Saved as a draft of the revision, resumed, then submitted.
            tour.load_by(&format!(
                "form[action='/declarations/{second}/revise'] button[value=draft]"
            ))
            .await;
            assert_eq!(tour.path().await, "/drafts");
            assert!(tour.source().await.contains("a new version of"));
            tour.load_by(&format!("a[href^='/declarations/{second}/revise?draft=']"))
                .await;
            let kept = tour
                .css("#f-description")
                .await
                .prop("value")
                .await
                .unwrap()
                .unwrap_or_default();
            assert!(kept.contains("Generator 4.2"), "{kept}");
            tour.load_by(&format!(
                "form[action='/declarations/{second}/revise'] button[value=submit]"
            ))
            .await;
            let page = tour.source().await;
            assert_eq!(
                tour.path().await,
                format!("/declarations/{second}"),
                "{page}"
            );
            assert!(page.contains("version 2, submitted by cam"), "{page}");
            assert!(page.contains("changes requested by rae"), "{page}");
            assert!(
                !page.contains("Changes requested: read the reviewer"),
                "{page}"
            );
            assert!(page.contains("Wait for written approval"));
            tour.shoot("declaration-revised", 1400).await;
            tour.go("/drafts").await;
            assert!(tour.source().await.contains("You have no draft"));
            tour.sign_out().await;

            // The auditor sees both in the log and runs the verification.
            tour.sign_in("aud").await;
            tour.go(&format!("/audit?record={id}")).await;
            assert!(tour.source().await.contains("cam"));
            tour.go("/audit").await;
            tour.load_by("form[action='/audit/verify'] button").await;
            let result = tour.css("#verify-result").await.text().await.unwrap();
            assert!(result.contains("Verified"), "{result}");
            tour.shoot("audit", 1000).await;
            tour.sign_out().await;

            // The registries, as legal sees them (the consents' forms, the report links).
            tour.sign_in("lee").await;
            tour.go("/productions").await;
            tour.shoot("productions", 700).await;
            tour.click(&format!("a[href='/productions/{production}']"))
                .await;
            tour.arrive(&format!("/productions/{production}")).await;
            assert!(tour.source().await.contains("Download report (PDF)"));
            tour.shoot("production", 1300).await;
            tour.go("/tools").await;
            tour.check("tools-legal").await;
            tour.go("/performers").await;
            tour.check("performers-legal").await;
            tour.go(&format!("/performers/{}", world.performer)).await;
            assert!(tour.source().await.contains("Record a consent"));
            tour.shoot("performer", 1500).await;
            tour.go("/scans").await;
            tour.shoot("scans", 700).await;
            tour.go(&format!("/scans/{}", world.scan)).await;
            tour.shoot("scan", 1100).await;
            tour.go("/policy").await;
            // Legal previews an overlay on the production: the page says what it laid over
            // which stack and lists the decisions that would change.
            tour.choose("#p-production", &production).await;
            tour.choose("#p-overlay", "eu-ai-act-art50").await;
            tour.load_by("form[action='/policy'] button[type='submit']")
                .await;
            let shown = tour.source().await;
            assert!(shown.contains("+ eu-ai-act-art50 "), "{shown}");
            assert!(shown.contains("nothing is recorded"), "{shown}");
            assert!(
                shown.contains("What eu-ai-act-art50 would change on"),
                "{shown}"
            );
            tour.shoot("policy", 1400).await;

            // Legal's dashboard: a consent expiring within 30 days, the counts with the
            // escalations' waits, the failed gates and the two charts, each an image with a
            // title and its numbers beside it. No outbox for legal.
            let now = world.ledger.now();
            world
                .ledger
                .record_consent(
                    "setup",
                    NewConsent {
                        performer_id: world.performer.parse().unwrap(),
                        kind: ConsentKind::DigitalAlteration,
                        scope: ConsentScope {
                            production_id: world.production.id,
                            media: Vec::new(),
                            description: "the crowd scenes of episode 2".to_owned(),
                        },
                        given_by: "A. Performer".to_owned(),
                        status: ConsentStatus::Documented,
                        expires_at: Some(now.plus(TimeDelta::days(20))),
                        document_sha256: Some("ab".repeat(32)),
                    },
                )
                .await
                .unwrap();
            tour.go("/").await;
            let page = tour.source().await;
            assert!(
                page.contains("Consents expiring within 30 days (1)"),
                "{page}"
            );
            assert!(
                page.contains("A. Performer") && page.contains("(in 20 days)"),
                "{page}"
            );
            assert!(page.contains("Median wait") && page.contains("Gate failures of recent scans"));
            for chart in ["chart-weeks", "chart-purposes"] {
                tour.css(&format!(
                    "svg[role='img'][aria-labelledby~='{chart}-title']"
                ))
                .await;
                assert!(
                    page.contains(&format!("<title id=\"{chart}-title\">Uses by")),
                    "{page}"
                );
            }
            assert!(
                page.contains("use(s) declared in the last 8 weeks"),
                "{page}"
            );
            assert!(
                !page.contains("href=\"/outbox\""),
                "no outbox link for legal"
            );
            tour.shoot("dashboard-legal", 1700).await;
            tour.go("/outbox").await;
            assert!(tour.source().await.contains("Error 403"));
            tour.go("/").await;
            tour.sign_out().await;

            // The admin's outbox: the expiring consent told by e-mail and webhook, one failed
            // delivery with its error, retried from the page.
            let outboxed = world.ledger.clone().with_outbox(OutboxChannels {
                email: true,
                webhook: true,
            });
            assert_eq!(
                outboxed
                    .sweep_expiring("greenlight", TimeDelta::days(30))
                    .await
                    .unwrap(),
                1
            );
            let claim = outboxed
                .claim_outbox(10, TimeDelta::seconds(600))
                .await
                .unwrap();
            let hook = claim
                .rows
                .iter()
                .find(|r| r.recipient == "webhook")
                .unwrap();
            outboxed
                .settle_outbox(
                    hook,
                    &claim.lease,
                    Settle::Failed {
                        error: "http://hooks.example answered HTTP 503".to_owned(),
                    },
                )
                .await
                .unwrap();
            tour.sign_in("ada").await;
            // The admin registers a tool with its data terms, then a deceased performer with
            // the estate that consents, through the registries' forms.
            tour.go("/tools").await;
            tour.type_into("#t-vendor", "Lumen Labs").await;
            tour.type_into("#t-product", "Frames").await;
            tour.type_into("#t-version", "4.2").await;
            tour.type_into("#t-tier", "enterprise").await;
            for (question, answer) in [
                ("trains_on_inputs", "no"),
                ("retains_inputs", "no"),
                ("resells_inputs", "no"),
                ("enterprise_agreement", "yes"),
                ("terms_negotiated", "yes"),
            ] {
                tour.click(&format!("#t-{question}-{answer}")).await;
            }
            tour.type_into("#t-reviewed-by", "lee@studio.example").await;
            tour.client
                .execute(
                    "document.querySelector('#t-reviewed-on').value = '2026-11-30'; return true;",
                    Vec::new(),
                )
                .await
                .unwrap();
            tour.shoot("tools", 1700).await;
            tour.load_by("form[action='/tools'] button[type='submit']")
                .await;
            assert!(tour.path().await.starts_with("/tools/"));
            let page = tour.source().await;
            assert!(page.contains("<h1>Lumen Labs Frames</h1>"), "{page}");
            assert!(page.contains("2026-11-30 by lee@studio.example"), "{page}");
            tour.shoot("tool", 1900).await;
            tour.go("/performers").await;
            tour.type_into("#p-name", "Ida Lorne").await;
            tour.type_into("#p-union", "SAG-AFTRA").await;
            tour.click("#p-deceased").await;
            tour.load_by("form[action='/performers'] button[type='submit']")
                .await;
            let page = tour.source().await;
            assert!(page.contains("name the estate or representative"), "{page}");
            assert!(page.contains("value=\"Ida Lorne\""), "kept: {page}");
            tour.shoot("performers", 1400).await;
            tour.type_into("#p-estate", "The Lorne Estate").await;
            tour.load_by("form[action='/performers'] button[type='submit']")
                .await;
            let page = tour.source().await;
            assert!(page.contains("<h1>Ida Lorne</h1>"), "{page}");
            assert!(tour.path().await.starts_with("/performers/"));
            // The admin makes an account (its password generated and shown once), a
            // production with its overlays, and puts the new person on it.
            tour.go("/accounts").await;
            tour.type_into("#a-login", "nia@studio.example").await;
            tour.type_into("#a-name", "Nia Okafor").await;
            tour.load_by("form[action='/accounts'] button[type='submit']")
                .await;
            let page = tour.source().await;
            assert!(page.contains("id=\"password\""), "{page}");
            tour.shoot("accounts", 1200).await;
            tour.go("/productions").await;
            tour.type_into("#n-title", "The Salt Road").await;
            tour.choose("#n-kind", "documentary").await;
            tour.type_into("#n-contact-name", "Dana").await;
            tour.type_into("#n-contact-email", "dana@studio.example")
                .await;
            tour.click("#o-us-ny").await;
            tour.shoot("productions-create", 1500).await;
            tour.load_by("form[action='/productions'] button[type='submit']")
                .await;
            assert!(tour.path().await.starts_with("/productions/"));
            tour.type_into("#m-person", "nia@studio.example").await;
            tour.type_into("#m-name", "Nia Okafor").await;
            tour.click("#m-coordinator").await;
            tour.load_by("form[action$='/members'] button[type='submit']")
                .await;
            let page = tour.source().await;
            assert!(page.contains("<h1>The Salt Road</h1>"), "{page}");
            assert!(page.contains("<td>Nia Okafor</td>"), "{page}");
            tour.shoot("production-members", 1500).await;
            tour.go("/").await;
            assert!(tour.source().await.contains("href=\"/outbox\""));
            tour.go("/outbox").await;
            let page = tour.source().await;
            assert!(
                page.contains("answered HTTP 503") && page.contains("expiring"),
                "{page}"
            );
            assert!(page.contains("format=csv&amp;table=outbox"), "{page}");
            tour.shoot("outbox", 900).await;
            tour.go("/outbox?status=failed").await;
            tour.load_by(&format!("form[action='/outbox/{}/retry'] button", hook.id))
                .await;
            let page = tour.source().await;
            assert!(page.contains("No notification matches."), "{page}");
            tour.go("/outbox?status=pending").await;
            assert!(
                tour.source().await.contains("answered HTTP 503"),
                "pending again, its error kept"
            );
            tour.check("outbox-pending").await;
            tour.sign_out().await;

            // A coordinator of another production cannot open it, by link either.
            tour.sign_in("oto").await;
            tour.go(&format!("/declarations/{id}")).await;
            let page = tour.source().await;
            assert!(!page.contains("captain"), "{page}");
            assert!(page.contains("Error 403"));
            tour.shoot("forbidden", 600).await;
            tour.go("/queue").await;
            assert!(!tour.source().await.contains(&id));
            tour.go(&format!("/productions/{production}")).await;
            assert!(tour.source().await.contains("Error 403"));

            tour.client.close().await.unwrap();
            assert!(
                tour.violations.is_empty(),
                "serious or critical accessibility violations:\n{}",
                tour.violations.join("\n")
            );
            eprintln!("screenshots: {:?}", tour.shots);
        }
    })
    .await;
}
