//! The contract suite: every story runs on SQLite, and on PostgreSQL when
//! `GREENLIGHT_TEST_POSTGRES_URL` is set (required under CI).
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests: a failure should stop the test where it happens"
)]

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, ensure};
use chrono::TimeDelta;
use greenlight_core::{Answer, Consent as DeclaredConsent, Level, Medium, PerformerUse};
use greenlight_store::Clock as _;
use greenlight_store::{
    AssetScope, AuditEntry, AuditKey, ConsentKind, ConsentScope, ConsentStatus, Contact, DataTerms,
    Kind, Ledger, MAX_SCAN_BATCH, Member, NewConsent, NewPerformer, NewProduction, NewReview,
    NewScan, NewTool, Problem, Production, Role, Row, Rule, ScanCounts, ScanFile, ScanOutcome,
    ScanState, ScannedFile, Standing, Store, StoreError, Timestamp, Verdict, verify,
};
use greenlight_store::{
    GlobalRole, Login, MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS, NewToken, NewUser,
    Principal, REDACTED, SignedIn, TOKEN_PREFIX, TokenRole, sha256_hex,
};
use greenlight_store::{NewOidcRequest, OIDC_REQUEST_LIFETIME, OidcIdentity, OidcStart};
use greenlight_store_tests::{Backend, Fixture, declaration, triage};

type Story = anyhow::Result<()>;

macro_rules! contract {
    ($($story:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    greenlight_store_tests::run(
                        greenlight_store_tests::Backend::Sqlite,
                        super::$story,
                    )
                    .await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    greenlight_store_tests::run(
                        greenlight_store_tests::Backend::Postgres,
                        super::$story,
                    )
                    .await;
                }
            )*
        }
    };
}

contract!(
    records_round_trip_and_every_change_is_logged,
    declarations_keep_every_version_and_page_by_key,
    notify_level_uses_are_shared_with_the_studio_contact,
    registered_tools_and_consents_feed_triage,
    reviewers_cannot_review_their_own_declarations,
    only_reviewers_of_the_production_review,
    users_are_audited_records_without_their_password,
    sessions_begin_end_and_lapse,
    tokens_are_kept_as_hashes_and_stop_when_revoked,
    sign_ins_are_limited_per_account_and_per_address,
    a_swapped_password_hash_is_found,
    oidc_sign_ins_are_taken_once_and_expire,
    oidc_identities_link_by_verified_email_then_by_subject,
    oidc_refusals_are_recorded_and_limited_per_address,
    blocked_declarations_cannot_be_approved,
    approvals_need_scope_and_a_future_expiry,
    the_gate_sees_each_approval_in_its_state,
    scans_are_recorded_against_a_production_and_audited,
    large_scans_are_written_in_batches_and_paged,
    scans_recorded_before_file_rows_still_read,
    revoking_a_consent_blocks_the_decisions_that_relied_on_it,
    a_performer_named_without_an_id_is_the_registered_one,
    expired_consents_block_decisions,
    a_deceased_performers_consent_comes_from_the_estate,
    a_refused_change_leaves_no_trace,
    concurrent_writers_keep_one_chain,
    audit_verify_finds_an_edited_entry,
    audit_verify_finds_a_deleted_entry,
    audit_verify_finds_reordered_entries,
    audit_verify_finds_a_rewritten_chain,
    audit_verify_finds_an_appended_entry,
    audit_verify_finds_an_edited_record,
    audit_verify_finds_a_deleted_record,
    audit_verify_finds_an_inserted_record,
    audit_verify_rejects_another_key,
    tampering_with_the_sqlite3_or_psql_shell_is_found,
    tampering_with_a_scans_file_rows_is_found,
    acknowledged_writes_survive_sigkill,
    two_processes_share_one_chain,
);

fn new_production(title: &str) -> NewProduction {
    NewProduction {
        title: title.to_owned(),
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
            Member {
                person: "sam".to_owned(),
                name: "Sam Studio".to_owned(),
                roles: vec![Role::Reviewer],
            },
        ],
    }
}

async fn production(ledger: &Ledger<dyn Store>) -> anyhow::Result<Production> {
    Ok(ledger
        .create_production("cora", new_production("The Long Night"))
        .await?)
}

fn escalated(title: &str) -> greenlight_core::Declaration {
    let mut d = declaration("The Long Night", title);
    d.output.final_deliverable = Answer::Yes;
    d
}

fn with_performer(id: &str, use_: PerformerUse) -> greenlight_core::Declaration {
    let mut d = declaration("The Long Night", "de-ageing in ep. 3");
    d.media = vec![Medium::Video];
    d.performers.push(greenlight_core::Performer {
        id: Some(id.to_owned()),
        name: String::new(),
        union: String::new(),
        use_,
        recognizable: Answer::Yes,
        consent: DeclaredConsent::None,
        deceased: Answer::Unsure,
        same_production: Answer::Yes,
        as_scripted: Answer::No,
        unsafe_action: Answer::No,
        existing_agreement: Answer::No,
        own_material_only: Answer::Unsure,
        replica_kind: Default::default(),
        consent_separately_signed: Answer::Unsure,
        consent_description_specific: Answer::Unsure,
        representation: Default::default(),
        scan_notice_hours: None,
        compensation_terms_recorded: Answer::Unsure,
    });
    d
}

fn consent_for(
    performer: greenlight_store::PerformerId,
    production: greenlight_store::ProductionId,
) -> NewConsent {
    NewConsent {
        performer_id: performer,
        kind: ConsentKind::DigitalAlteration,
        scope: ConsentScope {
            production_id: production,
            media: vec![Medium::Video],
            description: "de-ageing of the flashback scenes in episode 3".to_owned(),
        },
        given_by: "Ann Actor".to_owned(),
        status: ConsentStatus::Documented,
        expires_at: None,
        document_sha256: Some("ab".repeat(32)),
    }
}

/// Registers the performer the consent stories use, as the talent office ("tess") would.
async fn register_ann(
    ledger: &Ledger<dyn Store>,
    union: &str,
) -> anyhow::Result<greenlight_store::Performer> {
    Ok(ledger
        .register_performer(
            "tess",
            NewPerformer {
                name: "Ann Actor".to_owned(),
                union: union.to_owned(),
                deceased: false,
                estate: None,
            },
        )
        .await?)
}

fn approval(declaration: greenlight_store::DeclarationId) -> NewReview {
    NewReview {
        declaration_id: declaration,
        verdict: Verdict::Approved,
        conditions: vec!["disclose in the end credits".to_owned()],
        scope: vec![AssetScope::Glob("VFX/ep103/**/*.exr".to_owned())],
        expires_at: None,
        note: String::new(),
    }
}

fn refused_by(
    result: Result<impl std::fmt::Debug, StoreError>,
    rule: Rule,
) -> anyhow::Result<String> {
    match result {
        Err(error) if error.rule() == Some(rule) => Ok(error.to_string()),
        other => anyhow::bail!("expected a refusal under {rule}, got {other:?}"),
    }
}

async fn verified(ledger: &Ledger<dyn Store>) -> anyhow::Result<greenlight_store::VerifyReport> {
    let report = ledger.verify().await?;
    ensure!(report.is_ok(), "audit verify failed:\n{report}");
    Ok(report)
}

// ----- records --------------------------------------------------------------

async fn records_round_trip_and_every_change_is_logged(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let created = production(&ledger).await?;
    ensure!(ledger.production(created.id).await? == created);

    f.clock.advance(TimeDelta::minutes(5));
    let mut members = created.members.clone();
    members.push(Member {
        person: "tess".to_owned(),
        name: "Tess Talent".to_owned(),
        roles: vec![Role::TalentRelations],
    });
    let updated = ledger.set_members("cora", created.id, members).await?;
    ensure!(ledger.production(created.id).await?.members.len() == 4);

    let tool = ledger
        .register_tool(
            "cora",
            NewTool {
                vendor: "ExampleAI".to_owned(),
                product: "ExampleGen".to_owned(),
                version: "4.1".to_owned(),
                licence_tier: "enterprise".to_owned(),
                terms: DataTerms::default(),
            },
        )
        .await?;
    let reviewed = DataTerms {
        trains_on_inputs: Answer::No,
        retains_inputs: Answer::No,
        resells_inputs: Answer::No,
        enterprise_agreement: Answer::Yes,
        terms_negotiated: Answer::Yes,
        reviewed_by: Some("legal@studio.example".to_owned()),
        reviewed_at: Some(f.clock.now_for_test()),
    };
    let tool = ledger
        .update_tool_terms("rita", tool.id, reviewed.clone())
        .await?;
    ensure!(ledger.tool(tool.id).await?.terms == reviewed);
    let performer = register_ann(&ledger, "SAG-AFTRA").await?;
    ensure!(ledger.performer(performer.id).await? == performer);
    ensure!(ledger.tools(None, 10).await?.items == vec![tool.clone()]);
    ensure!(ledger.productions(None, 10).await?.items == vec![updated.clone()]);

    // Every change is one entry: who, when, what, before and after.
    let entries = ledger.audit_entries(None, 100).await?;
    ensure!(entries.len() == 5, "{} entries", entries.len());
    let members_change = &entries[1];
    ensure!(members_change.actor == "cora" && members_change.action == "update");
    ensure!(members_change.kind == "production");
    ensure!(members_change.at == "2026-11-27T09:05:00.000000Z");
    ensure!(members_change.before == entries[0].after);
    ensure!(members_change.after.as_deref() == Some(greenlight_store::body_of(&updated)?.as_str()));
    ensure!(entries[3].actor == "rita" && entries[3].before == entries[2].after);
    let report = verified(&ledger).await?;
    ensure!(report.entries == 5 && report.checkpoints == 5 && report.records == 3);

    // Bad input is refused, naming the field.
    let mut nameless = new_production("");
    nameless.title = " ".to_owned();
    refused_by(
        ledger.create_production("cora", nameless).await,
        Rule::BadInput,
    )?;
    let missing = ledger
        .production(greenlight_store::ProductionId::generate())
        .await;
    ensure!(matches!(
        missing,
        Err(StoreError::NotFound {
            kind: "production",
            ..
        })
    ));
    Ok(())
}

trait ClockExt {
    fn now_for_test(&self) -> Timestamp;
}

impl ClockExt for greenlight_store::ManualClock {
    fn now_for_test(&self) -> Timestamp {
        greenlight_store::Clock::now(self)
    }
}

async fn declarations_keep_every_version_and_page_by_key(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let p = production(&ledger).await?;
    let other = ledger
        .create_production("cora", new_production("Another Show"))
        .await?;
    let mut ids = Vec::new();
    for n in 0..25 {
        let s = ledger
            .submit_declaration(
                "cora",
                p.id,
                declaration("The Long Night", &format!("use {n}")),
                triage,
            )
            .await?;
        ids.push(s.declaration.id);
        if n == 3 {
            ledger
                .submit_declaration(
                    "cora",
                    other.id,
                    declaration("Another Show", "elsewhere"),
                    triage,
                )
                .await?;
        }
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = ledger.declarations(p.id, after.as_deref(), 10).await?;
        pages += 1;
        seen.extend(page.items.iter().map(|d| d.id));
        ensure!(page.items.iter().all(|d| d.production_id == p.id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    ensure!(
        seen == ids,
        "pages list every declaration once, in submission order"
    );
    ensure!(pages == 3);

    let first = ids[0];
    let mut revised = declaration("The Long Night", "use 0, now in the final cut");
    revised.output.final_deliverable = Answer::Yes;
    let v2 = ledger
        .revise_declaration("cora", first, revised, triage)
        .await?;
    ensure!(v2.declaration.version == 2 && v2.declaration.id == first);
    ensure!(v2.decision.level() == Level::Escalate && v2.notification.is_none());
    let versions = ledger.declaration_versions(first).await?;
    ensure!(versions.iter().map(|v| v.version).collect::<Vec<_>>() == vec![1, 2]);
    ensure!(versions[0].declaration.title == "use 0");
    ensure!(
        ledger
            .declaration_version(first, 1)
            .await?
            .declaration
            .title
            == "use 0"
    );
    ensure!(ledger.declaration(first).await?.version == 2);
    ensure!(ledger.current_decision(first).await?.declaration_version == 2);
    ensure!(ledger.decisions(first).await?.len() == 2);
    ensure!(ledger.declarations(p.id, None, 100).await?.items.len() == 25);

    let wrong = ledger
        .submit_declaration("cora", p.id, declaration("Some Other Title", "x"), triage)
        .await;
    refused_by(wrong, Rule::WrongProduction)?;
    verified(&ledger).await?;
    Ok(())
}

async fn notify_level_uses_are_shared_with_the_studio_contact(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let p = production(&ledger).await?;
    let low = ledger
        .submit_declaration(
            "cora",
            p.id,
            declaration("The Long Night", "mood boards"),
            triage,
        )
        .await?;
    ensure!(low.decision.level() == Level::Notify);
    let shared = low.notification.context("a notify-level use is shared")?;
    ensure!(shared.contact == p.studio_contact && shared.decision_id == low.decision.id);
    ensure!(ledger.notifications(low.declaration.id).await? == vec![shared]);

    let high = ledger
        .submit_declaration("cora", p.id, escalated("final shot"), triage)
        .await?;
    ensure!(high.notification.is_none());
    ensure!(ledger.notifications(high.declaration.id).await?.is_empty());
    ensure!(high.decision.decision.policy.id == "test-pack");
    verified(&ledger).await?;
    Ok(())
}

async fn registered_tools_and_consents_feed_triage(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let p = production(&ledger).await?;
    let other = ledger
        .create_production("cora", new_production("Another Show"))
        .await?;
    let tool = ledger
        .register_tool(
            "cora",
            NewTool {
                vendor: "ExampleAI".to_owned(),
                product: "ExampleGen".to_owned(),
                version: "4.1".to_owned(),
                licence_tier: "enterprise".to_owned(),
                terms: DataTerms {
                    trains_on_inputs: Answer::No,
                    enterprise_agreement: Answer::Yes,
                    ..DataTerms::default()
                },
            },
        )
        .await?;
    let seen = Arc::new(Mutex::new(None));
    let mut d = declaration("The Long Night", "with a registered tool");
    d.tools.push(greenlight_core::Tool {
        id: Some(tool.id.to_string()),
        trains_on_inputs: Answer::Yes,
        ..Default::default()
    });
    let probe = Arc::clone(&seen);
    let s = ledger
        .submit_declaration("cora", p.id, d.clone(), move |resolved| {
            *probe.lock().unwrap() = Some(resolved.clone());
            triage(resolved)
        })
        .await?;
    let triaged = seen.lock().unwrap().take().context("triage ran")?;
    ensure!(
        triaged.tools[0].trains_on_inputs == Answer::No,
        "the registry's terms win"
    );
    ensure!(triaged.tools[0].enterprise_agreement == Answer::Yes);
    ensure!(triaged.tools[0].name == "ExampleGen");
    ensure!(
        s.declaration.declaration == d,
        "the declaration is kept as submitted"
    );
    ensure!(s.decision.triaged(&s.declaration.declaration) == &triaged);
    ensure!(
        s.decision
            .resolution
            .iter()
            .any(|n| n.contains("terms not reviewed"))
    );

    let mut unknown = declaration("The Long Night", "unknown tool");
    unknown.tools.push(greenlight_core::Tool {
        id: Some(greenlight_store::ToolId::generate().to_string()),
        ..Default::default()
    });
    refused_by(
        ledger
            .submit_declaration("cora", p.id, unknown, triage)
            .await,
        Rule::UnknownReference,
    )?;

    let ann = register_ann(&ledger, "SAG-AFTRA").await?;
    let use_ = with_performer(&ann.id.to_string(), PerformerUse::DeAging);
    let none = ledger.resolve(p.id, &use_).await?;
    ensure!(none.declaration.performers[0].consent == DeclaredConsent::None);
    ensure!(none.declaration.performers[0].union == "SAG-AFTRA");

    let mut pending = consent_for(ann.id, p.id);
    pending.status = ConsentStatus::Pending;
    pending.document_sha256 = None;
    let pending = ledger.record_consent("tess", pending).await?;
    ensure!(
        ledger.resolve(p.id, &use_).await?.declaration.performers[0].consent
            == DeclaredConsent::Pending
    );

    // Consent for another production does not count here (O4), nor one of another kind.
    ledger
        .record_consent("tess", consent_for(ann.id, other.id))
        .await?;
    let mut replica = consent_for(ann.id, p.id);
    replica.kind = ConsentKind::EmploymentReplica;
    ledger.record_consent("tess", replica).await?;
    ensure!(
        ledger.resolve(p.id, &use_).await?.declaration.performers[0].consent
            == DeclaredConsent::Pending
    );

    let documented = ledger
        .document_consent("tess", pending.id, &"cd".repeat(32))
        .await?;
    ensure!(documented.status == ConsentStatus::Documented);
    let s = ledger
        .submit_declaration("cora", p.id, use_, triage)
        .await?;
    ensure!(s.decision.level() == Level::Escalate);
    ensure!(
        s.decision.triaged(&s.declaration.declaration).performers[0].consent
            == DeclaredConsent::Documented
    );
    ensure!(ledger.consents(ann.id).await?.len() == 3);
    refused_by(
        ledger
            .document_consent("tess", pending.id, &"cd".repeat(32))
            .await,
        Rule::AlreadyDone,
    )?;
    let mut undocumented = consent_for(ann.id, p.id);
    undocumented.document_sha256 = None;
    refused_by(
        ledger.record_consent("tess", undocumented).await,
        Rule::BadInput,
    )?;
    verified(&ledger).await?;
    Ok(())
}

// ----- accounts -----------------------------------------------------------------

const PASSWORD: &str = "correct horse battery staple";

fn new_user(login: &str, roles: Vec<GlobalRole>) -> NewUser {
    NewUser {
        login: login.to_owned(),
        name: format!("{login} name"),
        roles,
        password: PASSWORD.to_owned(),
    }
}

async fn audit_text(ledger: &Ledger<dyn Store>) -> anyhow::Result<String> {
    Ok(ledger
        .audit_entries(None, 1_000)
        .await?
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {:?} {:?}\n",
                e.actor, e.action, e.kind, e.before, e.after
            )
        })
        .collect())
}

fn signed_in(login: Login) -> anyhow::Result<Box<SignedIn>> {
    match login {
        Login::SignedIn(signed) => Ok(signed),
        other => anyhow::bail!("expected a sign-in, got {other:?}"),
    }
}

async fn users_are_audited_records_without_their_password(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    ensure!(!ledger.has_users().await?);
    let ada = ledger
        .create_user(
            "setup",
            new_user("ada", vec![GlobalRole::Admin, GlobalRole::Admin]),
        )
        .await?;
    ensure!(ledger.has_users().await?);
    ensure!(ada.roles == vec![GlobalRole::Admin], "roles deduplicated");
    ensure!(ada.password_hash.starts_with("$argon2id$"));
    ensure!(ledger.user("ada").await? == ada);
    let redacted = ada.redacted_body()?;
    ensure!(!redacted.contains("argon2") && redacted.contains(REDACTED));
    ensure!(matches!(
        ledger
            .create_user("setup", new_user("ada", Vec::new()))
            .await,
        Err(StoreError::Conflict(_))
    ));
    refused_by(
        ledger
            .create_user("setup", new_user("Ada Lovelace", Vec::new()))
            .await,
        Rule::BadInput,
    )?;
    let mut short = new_user("bob", Vec::new());
    short.password = "short".to_owned();
    let why = refused_by(ledger.create_user("setup", short).await, Rule::BadInput)?;
    ensure!(why.contains("12"), "{why}");
    let ada = ledger
        .set_user_roles("setup", "ada", vec![GlobalRole::Auditor, GlobalRole::Admin])
        .await?;
    ensure!(ada.roles == vec![GlobalRole::Admin, GlobalRole::Auditor]);
    let page = ledger.users(None, 10).await?;
    ensure!(page.items.len() == 1 && page.next.is_none());
    let entries = ledger.audit_entries(None, 1_000).await?;
    ensure!(entries.len() == 2 && entries.iter().all(|e| e.kind == "user"));
    ensure!(entries[1].action == "update" && entries[1].actor == "setup");
    let served = entries[1].redacted();
    ensure!(!format!("{served:?}").contains("argon2"), "{served:?}");
    ensure!(!audit_text(&ledger).await?.contains(PASSWORD));
    verified(&ledger).await?;
    Ok(())
}

async fn sessions_begin_end_and_lapse(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    ledger
        .create_user("setup", new_user("rae", vec![GlobalRole::Auditor]))
        .await?;
    let signed = signed_in(ledger.login("rae", PASSWORD, "10.0.0.1").await?)?;
    ensure!(signed.session.id == sha256_hex(signed.cookie.as_bytes()));
    ensure!(signed.session.expires_at == f.clock.now().plus(TimeDelta::hours(12)));
    ensure!(signed.session.csrf_matches(&signed.csrf_token));
    ensure!(!signed.session.csrf_matches("forged"));
    let auth = ledger.session(&signed.cookie).await?;
    ensure!(auth.principal == Principal::session("rae", vec![GlobalRole::Auditor]));
    refused_by(
        ledger.session("no such cookie").await,
        Rule::Unauthenticated,
    )?;
    // Used within the minute: nothing written; later: its last use is.
    let entries = ledger.audit_entries(None, 1_000).await?.len();
    ledger.session(&signed.cookie).await?;
    ensure!(ledger.audit_entries(None, 1_000).await?.len() == entries);
    f.clock.advance(TimeDelta::minutes(2));
    let touched = ledger.session(&signed.cookie).await?.session;
    ensure!(touched.last_seen_at == f.clock.now());
    ensure!(ledger.audit_entries(None, 1_000).await?.len() == entries + 1);
    // Signing out ends it.
    let ended = ledger.logout(&signed.cookie).await?;
    ensure!(ended.revoked_at == Some(f.clock.now()));
    refused_by(ledger.session(&signed.cookie).await, Rule::Unauthenticated)?;
    // An hour unused ends another.
    let other = signed_in(ledger.login("rae", PASSWORD, "10.0.0.1").await?)?;
    f.clock.advance(TimeDelta::minutes(60));
    refused_by(ledger.session(&other.cookie).await, Rule::Unauthenticated)?;
    let text = audit_text(&ledger).await?;
    ensure!(
        text.matches("rae create login_attempt").count() == 2,
        "{text}"
    );
    ensure!(text.matches("rae create session").count() == 2, "{text}");
    for secret in [
        &signed.cookie,
        &signed.csrf_token,
        &other.cookie,
        &PASSWORD.to_owned(),
    ] {
        ensure!(!text.contains(secret.as_str()), "a secret in the audit log");
    }
    verified(&ledger).await?;
    Ok(())
}

async fn tokens_are_kept_as_hashes_and_stop_when_revoked(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    ledger
        .create_user("setup", new_user("vic", Vec::new()))
        .await?;
    let p = production(&ledger).await?;
    let new = |role: TokenRole, days: i64| NewToken {
        user_login: "vic".to_owned(),
        name: "post house scanner".to_owned(),
        productions: vec![p.id],
        role,
        expires_at: f.clock.now().plus(TimeDelta::days(days)),
    };
    let why = refused_by(
        ledger
            .create_token("vic", new(TokenRole::Global(GlobalRole::Admin), 1))
            .await,
        Rule::BadInput,
    )?;
    ensure!(why.contains("cannot do more than its account"), "{why}");
    refused_by(
        ledger
            .create_token("vic", new(TokenRole::Production(Role::Vendor), -1))
            .await,
        Rule::BadInput,
    )?;
    let issued = ledger
        .create_token("vic", new(TokenRole::Production(Role::Vendor), 30))
        .await?;
    ensure!(issued.secret.starts_with(TOKEN_PREFIX));
    ensure!(issued.token.id == sha256_hex(issued.secret.as_bytes()));
    let principal = ledger.authenticate_token(&issued.secret).await?;
    ensure!(principal.login == "vic");
    let grant = principal.token.clone().context("a token grant")?;
    ensure!(grant.productions == vec![p.id] && grant.role == TokenRole::Production(Role::Vendor));
    ensure!(ledger.token(&issued.token.id).await?.last_used_at == Some(f.clock.now()));
    refused_by(
        ledger.authenticate_token("glt_unknown").await,
        Rule::Unauthenticated,
    )?;
    refused_by(
        ledger.authenticate_token("not even a token").await,
        Rule::Unauthenticated,
    )?;
    ensure!(ledger.tokens_of("vic").await?.len() == 1);
    let revoked = ledger.revoke_token("vic", &issued.token.id).await?;
    ensure!(revoked.revoked.as_ref().map(|r| r.by.as_str()) == Some("vic"));
    refused_by(
        ledger.revoke_token("vic", &issued.token.id).await,
        Rule::AlreadyDone,
    )?;
    refused_by(
        ledger.authenticate_token(&issued.secret).await,
        Rule::Unauthenticated,
    )?;
    // Expiry.
    let short = ledger
        .create_token("vic", new(TokenRole::Production(Role::Vendor), 1))
        .await?;
    ledger.authenticate_token(&short.secret).await?;
    f.clock.advance(TimeDelta::days(1));
    refused_by(
        ledger.authenticate_token(&short.secret).await,
        Rule::Unauthenticated,
    )?;
    // A disabled account's token stops.
    let live = ledger
        .create_token("vic", new(TokenRole::Production(Role::Vendor), 5))
        .await?;
    ledger.set_user_disabled("setup", "vic", true).await?;
    refused_by(
        ledger.authenticate_token(&live.secret).await,
        Rule::Unauthenticated,
    )?;
    let text = audit_text(&ledger).await?;
    for secret in [&issued.secret, &short.secret, &live.secret] {
        ensure!(
            !text.contains(secret.as_str()),
            "a token secret in the audit log"
        );
    }
    ensure!(text.contains("vic create api_token") && text.contains("vic update api_token"));
    verified(&ledger).await?;
    Ok(())
}

async fn sign_ins_are_limited_per_account_and_per_address(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    ledger
        .create_user("setup", new_user("rae", Vec::new()))
        .await?;
    ledger
        .create_user("setup", new_user("cam", Vec::new()))
        .await?;
    for _ in 0..MAX_FAILURES_PER_ACCOUNT {
        ensure!(matches!(
            ledger.login("rae", "wrong password!!", "10.0.0.1").await?,
            Login::Refused { .. }
        ));
        f.clock.advance(TimeDelta::minutes(1));
    }
    // The account waits until its oldest failure leaves the window: 15 - 5 minutes.
    match ledger.login("rae", PASSWORD, "10.0.0.2").await? {
        Login::Throttled {
            retry_after,
            message,
        } => {
            ensure!(retry_after == 600, "{retry_after}");
            ensure!(message.contains("10 minutes"), "{message}");
        }
        other => anyhow::bail!("expected a throttle, got {other:?}"),
    }
    // Another account from the same address is not held back by it.
    signed_in(ledger.login("cam", PASSWORD, "10.0.0.1").await?)?;
    f.clock.advance(TimeDelta::minutes(11));
    signed_in(ledger.login("rae", PASSWORD, "10.0.0.2").await?)?;

    // One address guessing many logins is held back on all of them.
    for n in 0..MAX_FAILURES_PER_ADDRESS {
        ledger
            .login(&format!("guess{n}"), "wrong password!!", "10.6.6.6")
            .await?;
    }
    ensure!(matches!(
        ledger.login("cam", PASSWORD, "10.6.6.6").await?,
        Login::Throttled { .. }
    ));
    signed_in(ledger.login("cam", PASSWORD, "10.0.0.9").await?)?;
    let text = audit_text(&ledger).await?;
    ensure!(text.contains("guess0 create login_attempt"));
    ensure!(
        text.matches(r#"\"outcome\":\"throttled\""#).count() == 2,
        "{text}"
    );
    verified(&ledger).await?;
    Ok(())
}

const ISSUER: &str = "https://studio.okta.example";

fn oidc_request(state: &str, address: &str) -> NewOidcRequest {
    NewOidcRequest {
        state: state.to_owned(),
        issuer: ISSUER.to_owned(),
        nonce: format!("nonce-of-{state}"),
        pkce_verifier: format!("{state}-verifier-{}", "v".repeat(43)),
        address: address.to_owned(),
    }
}

fn identity(subject: &str, email: &str, verified: bool) -> OidcIdentity {
    OidcIdentity {
        issuer: ISSUER.to_owned(),
        subject: subject.to_owned(),
        email: Some(email.to_owned()),
        email_verified: verified,
        name: Some("Rae Fox".to_owned()),
    }
}

fn refused(login: Login) -> anyhow::Result<String> {
    match login {
        Login::Refused { message } => Ok(message),
        other => anyhow::bail!("expected a refusal, got {other:?}"),
    }
}

async fn oidc_sign_ins_are_taken_once_and_expire(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let state = "state-0123456789abcdef";
    let OidcStart::Begun(begun) = ledger.begin_oidc(oidc_request(state, "10.0.0.1")).await? else {
        anyhow::bail!("a first sign-in is not throttled");
    };
    ensure!(begun.id == sha256_hex(state.as_bytes()));
    // Another instance (another ledger on the same database) takes it, once.
    let other = f.ledger();
    let taken = other.take_oidc_request(state, ISSUER, "10.0.0.1").await?;
    ensure!(taken.nonce == format!("nonce-of-{state}") && taken.used_at.is_some());
    let again = ledger
        .take_oidc_request(state, ISSUER, "10.0.0.1")
        .await
        .unwrap_err();
    ensure!(again.to_string().contains("already completed"), "{again}");
    let unknown = ledger
        .take_oidc_request("never-issued-state-000", ISSUER, "10.0.0.1")
        .await
        .unwrap_err();
    ensure!(unknown.to_string().contains("unknown"), "{unknown}");
    // One begun at another provider is not completed at this one.
    let state2 = "state-another-provider-0";
    ledger.begin_oidc(oidc_request(state2, "10.0.0.1")).await?;
    let elsewhere = ledger
        .take_oidc_request(state2, "https://other.example", "10.0.0.1")
        .await
        .unwrap_err();
    ensure!(
        elsewhere.to_string().contains("another provider"),
        "{elsewhere}"
    );
    // A sign-in lasts OIDC_REQUEST_LIFETIME.
    let state3 = "state-that-lapses-000000";
    ledger.begin_oidc(oidc_request(state3, "10.0.0.1")).await?;
    f.clock.advance(OIDC_REQUEST_LIFETIME);
    let late = ledger
        .take_oidc_request(state3, ISSUER, "10.0.0.1")
        .await
        .unwrap_err();
    ensure!(late.to_string().contains("too long"), "{late}");
    // Concurrent callbacks with one state: exactly one takes it.
    let state4 = "state-raced-by-two-0000";
    ledger.begin_oidc(oidc_request(state4, "10.0.0.1")).await?;
    let (a, b) = tokio::join!(
        ledger.take_oidc_request(state4, ISSUER, "10.0.0.1"),
        other.take_oidc_request(state4, ISSUER, "10.0.0.1"),
    );
    ensure!(a.is_ok() != b.is_ok(), "{a:?} {b:?}");
    // The verifier is in the stored entry (verify covers it) but not in a served one.
    let entries = ledger.audit_entries(None, 1_000).await?;
    let request = entries
        .iter()
        .find(|e| e.kind == "oidc_request")
        .context("an audited request")?;
    ensure!(
        request
            .after
            .as_deref()
            .unwrap_or_default()
            .contains("-verifier-")
    );
    let served = request.redacted();
    ensure!(
        !served
            .after
            .as_deref()
            .unwrap_or_default()
            .contains("-verifier-")
    );
    ensure!(
        served
            .after
            .as_deref()
            .unwrap_or_default()
            .contains(REDACTED)
    );
    let text = audit_text(&ledger).await?;
    ensure!(
        text.matches(r#"\"outcome\":\"failed\""#).count() == 5,
        "{text}"
    );
    verified(&ledger).await?;
    Ok(())
}

async fn oidc_identities_link_by_verified_email_then_by_subject(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    ledger
        .create_user("setup", new_user("rae@studio.example", Vec::new()))
        .await?;
    // An unverified email links nothing.
    let message = refused(
        ledger
            .oidc_sign_in(
                &identity("sub-rae", "rae@studio.example", false),
                "10.0.0.1",
                false,
            )
            .await?,
    )?;
    ensure!(
        message.contains("not say the email is verified"),
        "{message}"
    );
    ensure!(ledger.oidc_links_of("rae@studio.example").await?.is_empty());
    // A verified one equal to the login links the subject (in any case).
    let signed = signed_in(
        ledger
            .oidc_sign_in(
                &identity("sub-rae", "Rae@Studio.example", true),
                "10.0.0.1",
                false,
            )
            .await?,
    )?;
    ensure!(signed.user.login == "rae@studio.example");
    ensure!(ledger.session(&signed.cookie).await?.principal.login == "rae@studio.example");
    let links = ledger.oidc_links_of("rae@studio.example").await?;
    ensure!(links.len() == 1 && links[0].subject == "sub-rae" && links[0].issuer == ISSUER);
    // Then the subject counts: a changed email still signs in the same account...
    let moved = signed_in(
        ledger
            .oidc_sign_in(
                &identity("sub-rae", "fox@elsewhere.example", true),
                "10.0.0.1",
                false,
            )
            .await?,
    )?;
    ensure!(moved.user.login == "rae@studio.example");
    // ... and another subject with the account's email does not take it.
    let hijack = refused(
        ledger
            .oidc_sign_in(
                &identity("sub-mallory", "rae@studio.example", true),
                "10.0.0.1",
                false,
            )
            .await?,
    )?;
    ensure!(hijack.contains("linked to another identity"), "{hijack}");
    // An unknown identity is refused, unless accounts are provisioned (with no roles).
    let unknown = refused(
        ledger
            .oidc_sign_in(
                &identity("sub-new", "new@studio.example", true),
                "10.0.0.1",
                false,
            )
            .await?,
    )?;
    ensure!(unknown.contains("no greenlight account"), "{unknown}");
    let err = ledger.user("new@studio.example").await.unwrap_err();
    ensure!(matches!(err, StoreError::NotFound { .. }), "{err}");
    let provisioned = signed_in(
        ledger
            .oidc_sign_in(
                &identity("sub-new", "new@studio.example", true),
                "10.0.0.1",
                true,
            )
            .await?,
    )?;
    ensure!(provisioned.user.roles.is_empty() && provisioned.user.name == "Rae Fox");
    ensure!(ledger.oidc_links_of("new@studio.example").await?.len() == 1);
    // A disabled account cannot sign in, linked or not.
    ledger
        .set_user_disabled("setup", "rae@studio.example", true)
        .await?;
    let disabled = refused(
        ledger
            .oidc_sign_in(
                &identity("sub-rae", "rae@studio.example", true),
                "10.0.0.1",
                false,
            )
            .await?,
    )?;
    ensure!(disabled.contains("disabled"), "{disabled}");
    let text = audit_text(&ledger).await?;
    ensure!(text.contains("oidc:sub-rae create oidc_link"), "{text}");
    ensure!(
        text.matches(r#"\"outcome\":\"succeeded\""#).count() == 3,
        "{text}"
    );
    ensure!(text.contains(r#"\"oidc_issuer\":\"https://studio.okta.example\""#));
    verified(&ledger).await?;
    Ok(())
}

async fn oidc_refusals_are_recorded_and_limited_per_address(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    ledger
        .create_user("setup", new_user("rae@studio.example", Vec::new()))
        .await?;
    for n in 0..MAX_FAILURES_PER_ADDRESS {
        ledger
            .record_oidc_failure("10.6.6.6", ISSUER, &format!("bad token {n}"))
            .await?;
    }
    let start = ledger
        .begin_oidc(oidc_request("state-throttled-0000", "10.6.6.6"))
        .await?;
    ensure!(matches!(start, OidcStart::Throttled { .. }), "{start:?}");
    ensure!(matches!(
        ledger
            .oidc_sign_in(
                &identity("sub-rae", "rae@studio.example", true),
                "10.6.6.6",
                false
            )
            .await?,
        Login::Throttled { .. }
    ));
    // The account itself is not held back: another address signs in.
    signed_in(
        ledger
            .oidc_sign_in(
                &identity("sub-rae", "rae@studio.example", true),
                "10.0.0.2",
                false,
            )
            .await?,
    )?;
    // Failed password sign-ins for the account do not lock its provider sign-in.
    for _ in 0..MAX_FAILURES_PER_ACCOUNT {
        ledger
            .login("rae@studio.example", "wrong password!!", "10.0.0.3")
            .await?;
    }
    signed_in(
        ledger
            .oidc_sign_in(
                &identity("sub-rae", "rae@studio.example", true),
                "10.0.0.4",
                false,
            )
            .await?,
    )?;
    let text = audit_text(&ledger).await?;
    ensure!(text.contains(r#"\"reason\":\"bad token 0\""#), "{text}");
    verified(&ledger).await?;
    Ok(())
}

async fn a_swapped_password_hash_is_found(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    ledger
        .create_user("setup", new_user("ada", vec![GlobalRole::Admin]))
        .await?;
    ledger
        .create_user("setup", new_user("eve", Vec::new()))
        .await?;
    // Eve copies her own hash (she knows its password) over the admin's.
    let eve = ledger.user("eve").await?.password_hash;
    let ada = ledger.user("ada").await?.password_hash;
    f.raw_sql(&format!(
        "UPDATE users SET body = replace(body, '{ada}', '{eve}') WHERE id = 'ada'"
    ))
    .await;
    ensure!(ledger.user("ada").await?.password_hash == eve);
    let report = ledger.verify().await?;
    ensure!(
        report.problems.iter().any(
            |p| matches!(p, Problem::RecordChanged { kind, id, .. } if kind == "user" && id == "ada")
        ),
        "{report}"
    );
    Ok(())
}

// ----- reviews ----------------------------------------------------------------

async fn reviewers_cannot_review_their_own_declarations(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let p = production(&ledger).await?;
    let s = ledger
        .submit_declaration("rita", p.id, escalated("final shot"), triage)
        .await?;
    refused_by(
        ledger.review("rita", approval(s.declaration.id)).await,
        Rule::SelfReview,
    )?;
    // Nor after someone else submits a later version.
    ledger
        .revise_declaration("cora", s.declaration.id, escalated("final shot v2"), triage)
        .await?;
    refused_by(
        ledger.review("rita", approval(s.declaration.id)).await,
        Rule::SelfReview,
    )?;
    let mut reject = approval(s.declaration.id);
    reject.verdict = Verdict::Rejected;
    refused_by(ledger.review("rita", reject).await, Rule::SelfReview)?;

    let approved = ledger.review("sam", approval(s.declaration.id)).await?;
    ensure!(approved.reviewer == "sam" && approved.declaration_version == 2);
    ensure!(ledger.approvals(s.declaration.id).await? == vec![approved]);

    let low = ledger
        .submit_declaration("cora", p.id, declaration("The Long Night", "mood"), triage)
        .await?;
    refused_by(
        ledger.review("sam", approval(low.declaration.id)).await,
        Rule::NotEscalated,
    )?;
    verified(&ledger).await?;
    Ok(())
}

async fn only_reviewers_of_the_production_review(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let p = production(&ledger).await?;
    let s = ledger
        .submit_declaration("sam", p.id, escalated("final shot"), triage)
        .await?;
    let entries = ledger.audit_entries(None, 1_000).await?.len();
    // Not a member at all; a member without the reviewer or legal role.
    let why = refused_by(
        ledger.review("olga", approval(s.declaration.id)).await,
        Rule::NotReviewer,
    )?;
    ensure!(
        why.contains("olga") && why.contains("The Long Night") && why.contains(&p.id.to_string()),
        "{why}"
    );
    let mut reject = approval(s.declaration.id);
    reject.verdict = Verdict::Rejected;
    refused_by(ledger.review("cora", reject).await, Rule::NotReviewer)?;
    ensure!(ledger.audit_entries(None, 1_000).await?.len() == entries);
    // A reviewer of another production is not one of this one's.
    let mut other = new_production("Another Show");
    other.members.retain(|m| m.person != "sam");
    other.members.push(Member {
        person: "olga".to_owned(),
        name: "Olga Other".to_owned(),
        roles: vec![Role::Reviewer],
    });
    ledger.create_production("cora", other).await?;
    refused_by(
        ledger.review("olga", approval(s.declaration.id)).await,
        Rule::NotReviewer,
    )?;
    // Made a member with the legal role, she may.
    let mut members = p.members.clone();
    members.push(Member {
        person: "olga".to_owned(),
        name: "Olga Other".to_owned(),
        roles: vec![Role::Legal],
    });
    ledger.set_members("cora", p.id, members).await?;
    ensure!(
        ledger
            .review("olga", approval(s.declaration.id))
            .await?
            .reviewer
            == "olga"
    );
    verified(&ledger).await?;
    Ok(())
}

async fn blocked_declarations_cannot_be_approved(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let p = production(&ledger).await?;
    let ann = register_ann(&ledger, "SAG-AFTRA").await?;
    let s = ledger
        .submit_declaration(
            "cora",
            p.id,
            with_performer(&ann.id.to_string(), PerformerUse::DeAging),
            triage,
        )
        .await?;
    ensure!(s.decision.level() == Level::Blocked);
    let why = refused_by(
        ledger.review("sam", approval(s.declaration.id)).await,
        Rule::Blocked,
    )?;
    ensure!(why.contains("no documented consent"), "{why}");
    // A rejection of a blocked declaration is allowed.
    let mut reject = approval(s.declaration.id);
    reject.verdict = Verdict::Rejected;
    reject.scope.clear();
    ensure!(ledger.review("sam", reject).await?.verdict == Verdict::Rejected);

    // Once the precondition is recorded and triage runs again, it can be approved.
    ledger
        .record_consent("tess", consent_for(ann.id, p.id))
        .await?;
    let again = ledger.retriage("cora", s.declaration.id, triage).await?;
    ensure!(again.decision.level() == Level::Escalate);
    ensure!(ledger.current_decision(s.declaration.id).await?.id == again.decision.id);
    let approved = ledger.review("sam", approval(s.declaration.id)).await?;
    ensure!(approved.decision_id == again.decision.id);
    verified(&ledger).await?;
    Ok(())
}

async fn approvals_need_scope_and_a_future_expiry(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let p = production(&ledger).await?;
    let s = ledger
        .submit_declaration("cora", p.id, escalated("final shot"), triage)
        .await?;
    let mut unscoped = approval(s.declaration.id);
    unscoped.scope.clear();
    refused_by(ledger.review("sam", unscoped).await, Rule::BadInput)?;
    let mut bad_hash = approval(s.declaration.id);
    bad_hash.scope = vec![AssetScope::Sha256("xyz".to_owned())];
    refused_by(ledger.review("sam", bad_hash).await, Rule::BadInput)?;
    let mut past = approval(s.declaration.id);
    past.expires_at = Some(greenlight_store_tests::at("2026-01-01T00:00:00Z"));
    refused_by(ledger.review("sam", past).await, Rule::BadInput)?;

    let mut full = approval(s.declaration.id);
    full.scope.push(AssetScope::Sha256("ef".repeat(32)));
    full.expires_at = Some(greenlight_store_tests::at("2027-06-30T00:00:00Z"));
    let approved = ledger.review("sam", full.clone()).await?;
    ensure!(approved.scope == full.scope && approved.expires_at == full.expires_at);
    ensure!(approved.conditions == full.conditions);
    ensure!(ledger.approvals_in_force(s.declaration.id).await? == vec![approved.clone()]);
    f.clock
        .set(greenlight_store_tests::at("2027-07-01T00:00:00Z"));
    ensure!(
        ledger
            .approvals_in_force(s.declaration.id)
            .await?
            .is_empty(),
        "expired"
    );
    // A new version needs a new approval.
    f.clock
        .set(greenlight_store_tests::at("2026-12-01T00:00:00Z"));
    ledger
        .revise_declaration("cora", s.declaration.id, escalated("final shot v2"), triage)
        .await?;
    ensure!(
        ledger
            .approvals_in_force(s.declaration.id)
            .await?
            .is_empty(),
        "new version"
    );
    verified(&ledger).await?;
    Ok(())
}

// ----- the delivery gate ----------------------------------------------------------

async fn the_gate_sees_each_approval_in_its_state(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let p = production(&ledger).await?;
    let glob = |g: &str| AssetScope::Glob(g.to_owned());
    let review = |d, scope: Vec<AssetScope>, expires: Option<&str>| NewReview {
        scope,
        expires_at: expires.map(greenlight_store_tests::at),
        ..approval(d)
    };
    let live = ledger
        .submit_declaration("cora", p.id, escalated("key art"), triage)
        .await?;
    let live_ok = ledger
        .review(
            "rita",
            review(
                live.declaration.id,
                vec![glob("posters/*.png"), AssetScope::Sha256("ab".repeat(32))],
                None,
            ),
        )
        .await?;
    let lapsing = ledger
        .submit_declaration("cora", p.id, escalated("teaser"), triage)
        .await?;
    let lapsing_ok = ledger
        .review(
            "rita",
            review(
                lapsing.declaration.id,
                vec![glob("teaser/**")],
                Some("2026-12-01T00:00:00Z"),
            ),
        )
        .await?;
    let revised = ledger
        .submit_declaration("cora", p.id, escalated("titles"), triage)
        .await?;
    ledger
        .review(
            "rita",
            review(revised.declaration.id, vec![glob("titles/*.mov")], None),
        )
        .await?;
    ledger
        .revise_declaration(
            "cora",
            revised.declaration.id,
            escalated("titles, new cut"),
            triage,
        )
        .await?;
    // A glob the gate cannot use is refused when the approval is given.
    let why = refused_by(
        ledger
            .review(
                "rita",
                review(live.declaration.id, vec![glob("posters/[x")], None),
            )
            .await,
        Rule::BadInput,
    )?;
    ensure!(why.contains("posters/[x"), "{why}");
    // Another production's approvals never count.
    let other = ledger
        .create_production("cora", new_production("Another Show"))
        .await?;
    let mut elsewhere = escalated("their poster");
    elsewhere.production = "Another Show".to_owned();
    let theirs = ledger
        .submit_declaration("cora", other.id, elsewhere, triage)
        .await?;
    ledger
        .review(
            "rita",
            review(theirs.declaration.id, vec![glob("**")], None),
        )
        .await?;

    let index = ledger.approval_index(p.id).await?;
    ensure!(index.len() == 3 && index.in_force() == 2, "{index:?}");
    ensure!(index.has_hashes() && index.problems().is_empty());
    let poster = index.cover(&["posters/a.png"], None);
    ensure!(poster.standing == Standing::Approved && poster.approval_id == Some(live_ok.id));
    let by_hash = index.cover(&["elsewhere/a.jpg"], Some(&"ab".repeat(32)));
    ensure!(by_hash.approval_id == Some(live_ok.id), "{by_hash:?}");
    let titles = index.cover(&["titles/main.mov"], None);
    ensure!(titles.standing == Standing::Unapproved, "{titles:?}");
    ensure!(titles.reason.contains("superseded"), "{}", titles.reason);
    ensure!(index.cover(&["teaser/t.mp4"], None).standing == Standing::Approved);
    ensure!(index.cover(&["trailer/t.mp4"], None).standing == Standing::Unapproved);

    f.clock
        .set(greenlight_store_tests::at("2026-12-02T00:00:00Z"));
    let index = ledger.approval_index(p.id).await?;
    let teaser = index.cover(&["teaser/t.mp4"], None);
    ensure!(teaser.standing == Standing::ApprovalExpired, "{teaser:?}");
    ensure!(teaser.approval_id == Some(lapsing_ok.id));
    Ok(())
}

fn scanned_file(n: usize) -> ScannedFile {
    ScannedFile {
        path: format!("deliv/posters/{n:05}.png"),
        verdict: "ai_generated".to_owned(),
        sha256: Some(format!("{n:064x}")),
        evidence: vec!["generator_metadata: ComfyUI workflow [text `prompt`]".to_owned()],
        status: Some(Standing::Unapproved),
        approval_id: None,
        declaration_id: None,
        reason: "no approval of this production covers it".to_owned(),
    }
}

fn new_scan(production: greenlight_store::ProductionId, started_at: Timestamp) -> NewScan {
    NewScan {
        production_id: production,
        scanner: "greenlight 0.1.0 (c2pa-rs 0.90.22)".to_owned(),
        roots: vec!["/deliveries/ep103".to_owned()],
        verified: false,
        strict: false,
        started_at,
    }
}

fn outcome(files: u64, flagged: u64) -> ScanOutcome {
    ScanOutcome {
        passed: false,
        counts: ScanCounts {
            files,
            ai_generated: flagged,
            no_ai_evidence: files - flagged,
            unapproved: flagged,
            ..ScanCounts::default()
        },
    }
}

/// Every file of a scan, read a page of `limit` at a time.
async fn all_files(
    ledger: &Ledger<dyn Store>,
    scan: greenlight_store::ScanId,
    limit: u32,
) -> anyhow::Result<Vec<ScanFile>> {
    let mut files = Vec::new();
    let mut after = None;
    loop {
        let page = ledger.scan_files(scan, after, limit).await?;
        ensure!(page.items.len() <= limit as usize);
        files.extend(page.items);
        match page.next {
            Some(next) => after = Some(next.parse()?),
            None => break,
        }
    }
    Ok(files)
}

async fn scans_are_recorded_against_a_production_and_audited(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let p = production(&ledger).await?;
    let new = new_scan(p.id, ledger.now());
    let mut nameless = new.clone();
    nameless.scanner = " ".to_owned();
    refused_by(ledger.begin_scan("qc", nameless).await, Rule::BadInput)?;
    let mut nowhere = new.clone();
    nowhere.production_id = greenlight_store::ProductionId::generate();
    ensure!(matches!(
        ledger.begin_scan("qc", nowhere).await,
        Err(StoreError::NotFound { .. })
    ));

    let scan = ledger.begin_scan("qc", new.clone()).await?;
    ensure!(scan.state == ScanState::InProgress && !scan.passed);
    let mut bad_hash = scanned_file(1);
    bad_hash.sha256 = Some("nope".to_owned());
    refused_by(
        ledger.append_scan_files("qc", scan.id, &[bad_hash]).await,
        Rule::BadInput,
    )?;
    refused_by(
        ledger.append_scan_files("qc", scan.id, &[]).await,
        Rule::BadInput,
    )?;
    let too_many: Vec<ScannedFile> = (0..=MAX_SCAN_BATCH).map(scanned_file).collect();
    refused_by(
        ledger.append_scan_files("qc", scan.id, &too_many).await,
        Rule::BadInput,
    )?;
    let batch = ledger
        .append_scan_files("qc", scan.id, &[scanned_file(1)])
        .await?;
    ensure!(batch.first == 1 && batch.last == 1, "{batch:?}");
    // A scan cannot count fewer files than it lists.
    refused_by(
        ledger.finish_scan("qc", scan.id, outcome(0, 0)).await,
        Rule::BadInput,
    )?;
    let first = ledger.finish_scan("qc", scan.id, outcome(40, 1)).await?;
    ensure!(first.state == ScanState::Complete && first.finished_at.is_some());
    ensure!(first.recorded_by == "qc" && first.counts.files == 40 && first.files.is_empty());
    // Finished is final: no more files, no second finish.
    refused_by(
        ledger
            .append_scan_files("qc", scan.id, &[scanned_file(2)])
            .await,
        Rule::AlreadyDone,
    )?;
    refused_by(
        ledger.finish_scan("qc", scan.id, outcome(40, 1)).await,
        Rule::AlreadyDone,
    )?;

    let begun = ledger.begin_scan("qc", new).await?;
    let second = ledger
        .finish_scan(
            "qc",
            begun.id,
            ScanOutcome {
                passed: true,
                ..outcome(40, 0)
            },
        )
        .await?;
    ensure!(ledger.scan(first.id).await? == first);
    let files = ledger.scan_files(first.id, None, 10).await?;
    ensure!(files.next.is_none() && files.items.len() == 1);
    ensure!(files.items[0].seq == 1 && files.items[0].file == scanned_file(1));
    ensure!(
        ledger
            .scan_files(second.id, None, 10)
            .await?
            .items
            .is_empty()
    );
    let page = ledger.scans(p.id, None, 1).await?;
    ensure!(page.items == vec![first.clone()] && page.next.is_some());
    let rest = ledger.scans(p.id, page.next.as_deref(), 10).await?;
    ensure!(rest.items == vec![second]);
    let log = ledger.audit_entries(None, 100).await?;
    let kinds: Vec<(&str, &str)> = log
        .iter()
        .filter(|e| e.record_id.starts_with(&first.id.to_string()))
        .map(|e| (e.kind.as_str(), e.action.as_str()))
        .collect();
    ensure!(
        kinds
            == [
                ("scan", "create"),
                ("scan_batch", "create"),
                ("scan", "update")
            ],
        "{kinds:?}"
    );
    ensure!(
        log.iter()
            .all(|e| e.actor != "qc" || e.kind.starts_with("scan"))
    );
    verified(&ledger).await?;
    Ok(())
}

/// A scan of 2,500 flagged files written in three batches; a second scan that never
/// finished; both paged by row number.
async fn large_scans_are_written_in_batches_and_paged(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let p = production(&ledger).await?;
    let scan = ledger
        .begin_scan("qc", new_scan(p.id, ledger.now()))
        .await?;
    let files: Vec<ScannedFile> = (0..2_500).map(scanned_file).collect();
    let mut batches = Vec::new();
    for chunk in files.chunks(MAX_SCAN_BATCH) {
        batches.push(ledger.append_scan_files("qc", scan.id, chunk).await?);
    }
    let ranges: Vec<(u64, u64)> = batches.iter().map(|b| (b.first, b.last)).collect();
    ensure!(
        ranges == [(1, 1_000), (1_001, 2_000), (2_001, 2_500)],
        "{ranges:?}"
    );
    // Another scan, begun and left: it never looks finished, and its files stay its own.
    let left = ledger
        .begin_scan("qc", new_scan(p.id, ledger.now()))
        .await?;
    ledger
        .append_scan_files("qc", left.id, &files[..10])
        .await?;
    ledger
        .finish_scan("qc", scan.id, outcome(1_000_000, 2_500))
        .await?;

    let paged = all_files(&ledger, scan.id, 700).await?;
    ensure!(paged.len() == 2_500, "{} files", paged.len());
    for (n, (got, want)) in paged.iter().zip(&files).enumerate() {
        ensure!(
            got.seq == n as u64 + 1 && &got.file == want,
            "file {n}: {got:?}"
        );
    }
    let tail = ledger.scan_files(scan.id, Some(2_400), 1_000).await?;
    ensure!(tail.items.len() == 100 && tail.next.is_none());
    ensure!(tail.items[0].seq == 2_401);
    let unfinished = ledger.scan(left.id).await?;
    ensure!(unfinished.state == ScanState::InProgress && !unfinished.passed);
    ensure!(all_files(&ledger, left.id, 1_000).await?.len() == 10);
    let listed = ledger.scans(p.id, None, 10).await?.items;
    let states: Vec<ScanState> = listed.iter().map(|s| s.state).collect();
    ensure!(states == [ScanState::Complete, ScanState::InProgress]);
    // One entry per batch, not per file: 1 production, 2 scans begun, 4 batches, 1 finish.
    let report = verified(&ledger).await?;
    ensure!(report.entries == 1 + 2 + 4 + 1, "{report}");
    let batch_entries = ledger
        .audit_entries(None, 100)
        .await?
        .into_iter()
        .filter(|e| e.kind == "scan_batch")
        .count();
    ensure!(batch_entries == 4);
    Ok(())
}

/// A scan as a ledger wrote it before files were kept as rows: every file in the record's
/// body. It still reads, pages and verifies.
async fn scans_recorded_before_file_rows_still_read(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let p = production(&ledger).await?;
    let id = greenlight_store::ScanId::generate();
    let files: Vec<ScannedFile> = (0..5).map(scanned_file).collect();
    let body = serde_json::json!({
        "id": id,
        "production_id": p.id,
        "scanner": "greenlight 0.1.0 (c2pa-rs 0.90.22)",
        "roots": ["/deliveries/ep103"],
        "verified": false,
        "strict": false,
        "passed": false,
        "counts": outcome(40, 5).counts,
        "files": files,
        "started_at": "2026-11-27T08:59:00.000000Z",
        "recorded_at": "2026-11-27T09:00:00.000000Z",
        "recorded_by": "qc",
    })
    .to_string();
    // Written as the ledger wrote it then: the record and its entry, signed, in one
    // transaction.
    let key = AuditKey::load(&f.key_path)?;
    let mut tx = f.store.begin().await?;
    let (last, prev_hash) = tx.head().await?.context("the production's entry")?;
    tx.put(
        Kind::Scan,
        &Row {
            id: id.to_string(),
            parent: Some(p.id.to_string()),
            body: body.clone(),
        },
    )
    .await?;
    let mut entry = AuditEntry {
        seq: last + 1,
        at: "2026-11-27T09:00:00.000000Z".to_owned(),
        actor: "qc".to_owned(),
        action: "create".to_owned(),
        kind: "scan".to_owned(),
        record_id: id.to_string(),
        before: None,
        after: Some(body),
        prev_hash,
        hash: String::new(),
    };
    entry.hash = entry.compute_hash();
    tx.append(&entry).await?;
    tx.add_checkpoint(&key.checkpoint(entry.seq, &entry.hash, &entry.at))
        .await?;
    tx.commit().await?;

    let old = ledger.scan(id).await?;
    ensure!(old.state == ScanState::Complete && old.files == files);
    let paged = all_files(&ledger, id, 2).await?;
    let seqs: Vec<u64> = paged.iter().map(|f| f.seq).collect();
    ensure!(seqs == [1, 2, 3, 4, 5], "{seqs:?}");
    ensure!(paged.into_iter().map(|f| f.file).collect::<Vec<_>>() == files);
    let rest = ledger.scan_files(id, Some(3), 10).await?;
    ensure!(rest.items.len() == 2 && rest.items[0].seq == 4 && rest.next.is_none());
    refused_by(
        ledger.append_scan_files("qc", id, &[scanned_file(9)]).await,
        Rule::AlreadyDone,
    )?;
    verified(&ledger).await?;
    Ok(())
}

// ----- consents -----------------------------------------------------------------

async fn a_performer_named_without_an_id_is_the_registered_one(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let p = production(&ledger).await?;
    let ann = register_ann(&ledger, "SAG-AFTRA").await?;
    let consent = ledger
        .record_consent("tess", consent_for(ann.id, p.id))
        .await?;
    // Named as people write names: another case, spaces around and between.
    let mut by_name = with_performer("", PerformerUse::DeAging);
    by_name.performers[0].id = None;
    by_name.performers[0].name = "  ann   ACTOR ".to_owned();
    let resolved = ledger.resolve(p.id, &by_name).await?;
    ensure!(resolved.performers == vec![ann.id], "{:?}", resolved.notes);
    ensure!(resolved.declaration.performers[0].consent == DeclaredConsent::Documented);
    ensure!(
        resolved
            .notes
            .iter()
            .any(|n| n.contains("named without an id")),
        "{:?}",
        resolved.notes
    );
    let submitted = ledger
        .submit_declaration("cora", p.id, by_name.clone(), triage)
        .await?;
    ensure!(submitted.decision.performers == vec![ann.id]);
    // What was submitted is kept as written; the registry's reading is the decision's.
    ensure!(submitted.declaration.declaration.performers[0].id.is_none());
    let seen = submitted
        .decision
        .triaged(&submitted.declaration.declaration);
    ensure!(seen.performers[0].id == Some(ann.id.to_string()));
    // The link is real: revoking the consent blocks the decision.
    let (_, blocked) = ledger
        .revoke_consent("tess", consent.id, "the performer withdrew consent")
        .await?;
    ensure!(blocked.len() == 1 && blocked[0].declaration_id == submitted.declaration.id);

    // Two performers of one name: neither is assumed, and the note names both.
    let twin = register_ann(&ledger, "Equity").await?;
    let resolved = ledger.resolve(p.id, &by_name).await?;
    ensure!(resolved.performers.is_empty(), "{:?}", resolved.performers);
    ensure!(resolved.declaration.performers[0].consent == DeclaredConsent::None);
    let note = resolved.notes.join("\n");
    ensure!(
        note.contains(&ann.id.to_string()) && note.contains(&twin.id.to_string()),
        "{note}"
    );
    // A name nobody registered is the declaration's own performer, with no note.
    by_name.performers[0].name = "Someone Else".to_owned();
    let resolved = ledger.resolve(p.id, &by_name).await?;
    ensure!(resolved.performers.is_empty() && resolved.notes.is_empty());
    Ok(())
}

async fn revoking_a_consent_blocks_the_decisions_that_relied_on_it(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let p = production(&ledger).await?;
    let ann = register_ann(&ledger, "SAG-AFTRA").await?;
    let consent = ledger
        .record_consent("tess", consent_for(ann.id, p.id))
        .await?;
    let aging = ledger
        .submit_declaration(
            "cora",
            p.id,
            with_performer(&ann.id.to_string(), PerformerUse::DeAging),
            triage,
        )
        .await?;
    let customary = ledger
        .submit_declaration(
            "cora",
            p.id,
            with_performer(&ann.id.to_string(), PerformerUse::AlterationCustomary),
            triage,
        )
        .await?;
    ensure!(aging.decision.level() == Level::Escalate);
    ledger.review("sam", approval(aging.declaration.id)).await?;
    ensure!(ledger.approvals_in_force(aging.declaration.id).await?.len() == 1);

    f.clock.advance(TimeDelta::days(1));
    let (revoked, blocked) = ledger
        .revoke_consent("tess", consent.id, "the performer withdrew consent")
        .await?;
    ensure!(revoked.status == ConsentStatus::Revoked);
    ensure!(blocked.len() == 1 && blocked[0].declaration_id == aging.declaration.id);
    let current = ledger.current_decision(aging.declaration.id).await?;
    ensure!(current.level() == Level::Blocked);
    let reason = &current.blocks[0].reason;
    ensure!(
        reason.contains(&consent.id.to_string()) && reason.contains("withdrew"),
        "{reason}"
    );
    ensure!(current.blocks[0].consent_id == Some(consent.id));
    ensure!(
        ledger
            .approvals_in_force(aging.declaration.id)
            .await?
            .is_empty()
    );
    // The delivery gate no longer counts its approval, and says why.
    let gate = ledger
        .approval_index(p.id)
        .await?
        .cover(&["VFX/ep103/sh010/v1.exr"], None);
    ensure!(gate.standing == Standing::Unapproved, "{gate:?}");
    ensure!(gate.reason.contains("withdrawn"), "{}", gate.reason);
    // A customary alteration needs no consent and is not affected.
    ensure!(
        ledger
            .current_decision(customary.declaration.id)
            .await?
            .blocks
            .is_empty()
    );
    refused_by(
        ledger.review("sam", approval(aging.declaration.id)).await,
        Rule::Blocked,
    )?;
    refused_by(
        ledger.revoke_consent("tess", consent.id, "again").await,
        Rule::AlreadyDone,
    )?;
    // The index that traces a consent to its decisions is checked too.
    verified(&ledger).await?;
    f.raw_sql("DELETE FROM declaration_performers").await;
    let report = ledger.verify().await?;
    let named: HashSet<String> = report
        .problems
        .iter()
        .filter_map(|p| match p {
            Problem::IndexChanged { declaration, .. } => Some(declaration.clone()),
            _ => None,
        })
        .collect();
    let expected: HashSet<String> = [aging.declaration.id, customary.declaration.id]
        .iter()
        .map(|id| id.to_string())
        .collect();
    ensure!(report.problems.len() == 2 && named == expected, "{report}");
    f.raw_sql(&format!(
        "INSERT INTO declaration_performers (declaration_id, performer_id) VALUES ('{}', '{}'), ('{}', '{}')",
        aging.declaration.id, ann.id, customary.declaration.id, ann.id
    ))
    .await;
    // The block is in the audit log, with the decision before and after.
    let entries = ledger.audit_entries(None, 1000).await?;
    let last = entries.last().context("entries")?;
    ensure!(last.kind == "decision" && last.action == "update" && last.before.is_some());
    verified(&ledger).await?;
    Ok(())
}

async fn expired_consents_block_decisions(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let p = production(&ledger).await?;
    let ann = register_ann(&ledger, "").await?;
    let mut expiring = consent_for(ann.id, p.id);
    expiring.expires_at = Some(greenlight_store_tests::at("2026-11-28T09:00:00Z"));
    let consent = ledger.record_consent("tess", expiring).await?;
    let s = ledger
        .submit_declaration(
            "cora",
            p.id,
            with_performer(&ann.id.to_string(), PerformerUse::DeAging),
            triage,
        )
        .await?;
    ensure!(s.decision.level() == Level::Escalate);
    ensure!(ledger.sweep_expired_consents("system").await?.is_empty());

    f.clock.advance(TimeDelta::days(2));
    // Even before the sweep records it, an approval is refused.
    let why = refused_by(
        ledger.review("sam", approval(s.declaration.id)).await,
        Rule::Blocked,
    )?;
    ensure!(why.contains("no longer in force"), "{why}");
    let blocked = ledger.sweep_expired_consents("system").await?;
    ensure!(blocked.len() == 1);
    ensure!(blocked[0].blocks[0].reason.contains("expired"));
    ensure!(blocked[0].blocks[0].consent_id == Some(consent.id));
    ensure!(ledger.current_decision(s.declaration.id).await?.level() == Level::Blocked);
    ensure!(
        ledger.sweep_expired_consents("system").await?.is_empty(),
        "a sweep is idempotent"
    );
    verified(&ledger).await?;
    Ok(())
}

async fn a_deceased_performers_consent_comes_from_the_estate(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let p = production(&ledger).await?;
    let late = ledger
        .register_performer(
            "tess",
            NewPerformer {
                name: "Lee Late".to_owned(),
                union: "SAG-AFTRA".to_owned(),
                deceased: true,
                estate: Some("The Lee Late Estate".to_owned()),
            },
        )
        .await?;
    let mut from_someone = consent_for(late.id, p.id);
    from_someone.given_by = "A Cousin".to_owned();
    let why = refused_by(
        ledger.record_consent("tess", from_someone).await,
        Rule::BadInput,
    )?;
    ensure!(why.contains("estate"), "{why}");
    let mut from_estate = consent_for(late.id, p.id);
    from_estate.given_by = "The Lee Late Estate".to_owned();
    ledger.record_consent("tess", from_estate).await?;
    let resolved = ledger
        .resolve(
            p.id,
            &with_performer(&late.id.to_string(), PerformerUse::DeAging),
        )
        .await?;
    ensure!(resolved.declaration.performers[0].deceased == Answer::Yes);
    ensure!(resolved.declaration.performers[0].consent == DeclaredConsent::Documented);
    refused_by(
        ledger
            .register_performer(
                "tess",
                NewPerformer {
                    name: "Living".to_owned(),
                    union: String::new(),
                    deceased: false,
                    estate: Some("Estate".to_owned()),
                },
            )
            .await,
        Rule::BadInput,
    )?;
    Ok(())
}

// ----- atomicity and concurrency ----------------------------------------------------

async fn a_refused_change_leaves_no_trace(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let p = production(&ledger).await?;
    let before = ledger.audit_entries(None, 1000).await?;
    // The declaration row is written before resolution fails on the unknown
    // tool: the whole change must roll back.
    let mut d = declaration("The Long Night", "bad tool");
    d.tools.push(greenlight_core::Tool {
        id: Some(greenlight_store::ToolId::generate().to_string()),
        ..Default::default()
    });
    refused_by(
        ledger.submit_declaration("cora", p.id, d, triage).await,
        Rule::UnknownReference,
    )?;
    ensure!(ledger.audit_entries(None, 1000).await? == before);
    ensure!(ledger.declarations(p.id, None, 10).await?.items.is_empty());
    let report = verified(&ledger).await?;
    ensure!(report.records == 1);
    Ok(())
}

async fn concurrent_writers_keep_one_chain(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let p = production(&ledger).await?;
    let mut tasks = Vec::new();
    for writer in 0..4 {
        let ledger = ledger.clone();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for n in 0..15 {
                let s = ledger
                    .submit_declaration(
                        &format!("writer{writer}"),
                        p.id,
                        declaration("The Long Night", &format!("{writer}/{n}")),
                        triage,
                    )
                    .await?;
                ids.push(s.declaration.id);
            }
            anyhow::Ok(ids)
        }));
    }
    let mut all = HashSet::new();
    for task in tasks {
        all.extend(task.await??);
    }
    ensure!(all.len() == 60);
    let listed: HashSet<_> = ledger
        .declarations(p.id, None, 100)
        .await?
        .items
        .into_iter()
        .map(|d| d.id)
        .collect();
    ensure!(listed == all);
    let report = verified(&ledger).await?;
    // production + 60 × (declaration, version, decision, notification)
    ensure!(report.entries == 1 + 60 * 4, "{} entries", report.entries);
    Ok(())
}

// ----- tampering --------------------------------------------------------------------

/// A small ledger to tamper with: 1 production, 1 tool, 3 notify-level
/// declarations (4 entries each) = entries 1..=14.
async fn tamper_setup(f: &Fixture) -> anyhow::Result<Ledger<dyn Store>> {
    let ledger = f.ledger();
    let p = production(&ledger).await?;
    ledger
        .register_tool(
            "cora",
            NewTool {
                vendor: "ExampleAI".to_owned(),
                product: "ExampleGen".to_owned(),
                ..Default::default()
            },
        )
        .await?;
    for n in 0..3 {
        ledger
            .submit_declaration(
                "cora",
                p.id,
                declaration("The Long Night", &format!("use {n}")),
                triage,
            )
            .await?;
    }
    let report = verified(&ledger).await?;
    ensure!(report.entries == 14);
    Ok(ledger)
}

async fn first_bad(ledger: &Ledger<dyn Store>) -> anyhow::Result<(Option<i64>, Problem)> {
    let report = ledger.verify().await?;
    ensure!(!report.is_ok(), "tampering went unnoticed");
    eprintln!("{report}");
    Ok((
        report.first_bad_entry(),
        report.first_problem().cloned().context("a problem")?,
    ))
}

/// The first problem verification finds after `sql` ran behind the ledger's back on the
/// tamper stories' ledger.
async fn after_sql(f: &Fixture, sql: &str) -> anyhow::Result<(Option<i64>, Problem)> {
    let ledger = tamper_setup(f).await?;
    f.raw_sql(sql).await;
    first_bad(&ledger).await
}

async fn audit_verify_finds_an_edited_entry(f: Arc<Fixture>) -> Story {
    let (seq, problem) =
        after_sql(&f, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 7").await?;
    ensure!(
        seq == Some(7) && problem == Problem::HashMismatch { seq: 7 },
        "{problem}"
    );
    Ok(())
}

async fn audit_verify_finds_a_deleted_entry(f: Arc<Fixture>) -> Story {
    let (seq, problem) = after_sql(&f, "DELETE FROM audit_log WHERE seq = 5").await?;
    ensure!(seq == Some(5), "{problem}");
    ensure!(
        problem == Problem::Missing { seq: 5, found: 6 }
            || matches!(problem, Problem::CheckpointWithoutEntry { seq: 5 }),
        "{problem}"
    );
    Ok(())
}

async fn audit_verify_finds_reordered_entries(f: Arc<Fixture>) -> Story {
    let (seq, problem) = after_sql(
        &f,
        "UPDATE audit_log SET seq = -1 WHERE seq = 9; \
         UPDATE audit_log SET seq = 9 WHERE seq = 10; \
         UPDATE audit_log SET seq = 10 WHERE seq = -1;",
    )
    .await?;
    ensure!(
        seq == Some(9) && problem == Problem::HashMismatch { seq: 9 },
        "{problem}"
    );
    Ok(())
}

async fn audit_verify_finds_a_rewritten_chain(f: Arc<Fixture>) -> Story {
    // Someone edits entry 6 and the record it wrote, and recomputes the hashes
    // of entry 6 onwards so that the chain is whole again: only the signed
    // checkpoints can tell.
    let ledger = tamper_setup(&f).await?;
    let store = f.store.clone();
    let mut entries = store.audit_page(None, 100).await?;
    let mut prev = entries[4].hash.clone();
    let mut sql = String::new();
    for entry in entries.iter_mut().skip(5) {
        if entry.seq == 6 {
            entry.actor = "mallory".to_owned();
        }
        entry.prev_hash = prev.clone();
        entry.hash = entry.compute_hash();
        prev = entry.hash.clone();
        sql.push_str(&format!(
            "UPDATE audit_log SET actor = '{}', prev_hash = '{}', hash = '{}' WHERE seq = {};",
            entry.actor, entry.prev_hash, entry.hash, entry.seq
        ));
    }
    f.raw_sql(&sql).await;
    let (seq, problem) = first_bad(&ledger).await?;
    ensure!(
        seq == Some(6) && problem == Problem::CheckpointMismatch { seq: 6 },
        "{problem}"
    );
    Ok(())
}

async fn audit_verify_finds_an_appended_entry(f: Arc<Fixture>) -> Story {
    let ledger = tamper_setup(&f).await?;
    let entries = f.store.audit_page(None, 100).await?;
    let mut forged = entries.last().context("entries")?.clone();
    forged.seq = 15;
    forged.actor = "mallory".to_owned();
    forged.prev_hash = forged.hash.clone();
    forged.hash = forged.compute_hash();
    f.raw_sql(&format!(
        "INSERT INTO audit_log (seq, at, actor, action, kind, record_id, before_body, after_body, prev_hash, hash) \
         SELECT 15, at, 'mallory', action, kind, record_id, before_body, after_body, '{}', '{}' FROM audit_log WHERE seq = 14",
        forged.prev_hash, forged.hash
    ))
    .await;
    let (seq, problem) = first_bad(&ledger).await?;
    ensure!(
        seq == Some(15) && problem == Problem::Unsigned { from: 15, to: 15 },
        "{problem}"
    );
    Ok(())
}

async fn audit_verify_finds_an_edited_record(f: Arc<Fixture>) -> Story {
    let (seq, problem) = after_sql(
        &f,
        "UPDATE productions SET body = replace(body, 'The Long Night', 'The Short Night')",
    )
    .await?;
    ensure!(seq == Some(1), "{problem}");
    ensure!(
        matches!(&problem, Problem::RecordChanged { kind, seq: 1, .. } if kind == "production"),
        "{problem}"
    );
    Ok(())
}

async fn audit_verify_finds_a_deleted_record(f: Arc<Fixture>) -> Story {
    let ledger = tamper_setup(&f).await?;
    let tool_id = f.raw_text("SELECT id FROM tools").await;
    f.raw_sql("DELETE FROM tools").await;
    let (seq, problem) = first_bad(&ledger).await?;
    ensure!(seq == Some(2), "{problem}");
    ensure!(
        problem
            == Problem::RecordMissing {
                kind: "tool".to_owned(),
                id: tool_id,
                seq: 2
            },
        "{problem}"
    );
    Ok(())
}

async fn audit_verify_finds_an_inserted_record(f: Arc<Fixture>) -> Story {
    let ledger = tamper_setup(&f).await?;
    f.raw_sql(
        "INSERT INTO tools (id, body) SELECT '00000000-0000-7000-8000-000000000000', body FROM tools",
    )
    .await;
    let report = ledger.verify().await?;
    ensure!(!report.is_ok());
    ensure!(
        report.problems
            == vec![Problem::RecordUnlogged {
                kind: "tool".to_owned(),
                id: "00000000-0000-7000-8000-000000000000".to_owned()
            }],
        "{report}"
    );
    Ok(())
}

async fn audit_verify_rejects_another_key(f: Arc<Fixture>) -> Story {
    let _ledger = tamper_setup(&f).await?;
    let stranger = AuditKey::generate()?;
    let report = verify(&*f.store, &stranger.verifying_key()).await?;
    ensure!(
        report.first_problem() == Some(&Problem::BadSignature { seq: 1 }),
        "{report}"
    );
    // A checkpoint signed with another key is caught as well.
    let forged = stranger.checkpoint(14, "00", "2026-11-27T09:00:00.000000Z");
    f.raw_sql(&format!(
        "UPDATE audit_checkpoints SET key_id = '{}', signature = '{}' WHERE seq = 14",
        forged.key_id, forged.signature
    ))
    .await;
    let (seq, problem) = first_bad(&f.ledger()).await?;
    ensure!(
        seq == Some(14) && problem == Problem::BadSignature { seq: 14 },
        "{problem}"
    );
    Ok(())
}

// ----- crash ------------------------------------------------------------------------

async fn acknowledged_writes_survive_sigkill(f: Arc<Fixture>) -> Story {
    use std::io::BufRead as _;
    use std::process::{Command, Stdio};

    // 16 concurrent writers: on SQLite, writes are grouped, so the kill lands with
    // groups in flight (released writes waiting for their COMMIT, unanswered).
    let mut child = Command::new(env!("CARGO_BIN_EXE_ledger-burst"))
        .arg(&f.target)
        .arg(&f.key_path)
        .arg("100000")
        .arg("16")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().context("stdout")?;
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut acknowledged = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while acknowledged.len() < 150 && std::time::Instant::now() < deadline {
        match lines_rx.recv_timeout(std::time::Duration::from_secs(30)) {
            Ok(line) => acknowledged.push(line),
            Err(_) => break,
        }
    }
    // SIGKILL in the middle of the burst.
    child.kill()?;
    let status = child.wait()?;
    ensure!(!status.success(), "the writer was killed, not finished");
    reader.join().ok();
    acknowledged.extend(lines_rx.try_iter());
    ensure!(
        acknowledged.len() > 100,
        "only {} writes before the kill",
        acknowledged.len()
    );

    // Reopen from scratch, as after a crash.
    f.store.close().await;
    let store = greenlight_store_tests::open(&f.target).await?;
    let ledger = Ledger::new(
        store.clone(),
        Arc::new(greenlight_store::SystemClock),
        AuditKey::load(&f.key_path)?,
    );
    let mut production = None;
    let mut declarations = 0;
    for line in &acknowledged {
        let (what, id) = line.split_once(' ').context("a line is `what id`")?;
        match what {
            "production" => {
                production = Some(ledger.production(id.parse()?).await?.id);
            }
            "declaration" => {
                let d = ledger.declaration(id.parse()?).await?;
                ensure!(Some(d.production_id) == production);
                ledger.current_decision(d.id).await?;
                declarations += 1;
            }
            other => anyhow::bail!("unexpected line `{other}`"),
        }
    }
    ensure!(declarations + 1 == acknowledged.len());
    let report = ledger.verify().await?;
    ensure!(report.is_ok(), "after SIGKILL:\n{report}");
    eprintln!(
        "{} acknowledged writes survived SIGKILL; {report}",
        acknowledged.len()
    );
    store.close().await;
    Ok(())
}

async fn two_processes_share_one_chain(f: Arc<Fixture>) -> Story {
    use std::process::{Command, Stdio};
    // Two processes, each with 8 concurrent writers, at the same time.
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_ledger-burst"))
            .arg(&f.target)
            .arg(&f.key_path)
            .arg("80")
            .arg("8")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
    };
    let (a, b) = (spawn()?, spawn()?);
    let (a_pid, b_pid) = (a.id(), b.id());
    let (a, b) = (a.wait_with_output()?, b.wait_with_output()?);
    ensure!(a.status.success() && b.status.success());
    let ids = |o: &std::process::Output| -> HashSet<String> {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("declaration ").map(str::to_owned))
            .collect()
    };
    let (a_ids, b_ids) = (ids(&a), ids(&b));
    ensure!(a_ids.len() == 80 && b_ids.len() == 80);
    let ledger = f.ledger();
    let report = verified(&ledger).await?;
    // 2 productions; 160 declarations, half notify-level (4 entries), half escalated (3).
    ensure!(report.entries == 2 + 80 * 4 + 80 * 3, "{report}");
    ensure!(ledger.productions(None, 10).await?.items.len() == 2);
    // Every declaration each process acknowledged is in the ledger, under its actor.
    let entries = ledger.audit_entries(None, 1000).await?;
    for (pid, ids) in [(a_pid, &a_ids), (b_pid, &b_ids)] {
        let actor = format!("burst-{pid}");
        let created: HashSet<String> = entries
            .iter()
            .filter(|e| e.actor == actor && e.kind == "declaration" && e.action == "create")
            .map(|e| e.record_id.clone())
            .collect();
        ensure!(
            &created == ids,
            "{actor}: the chain holds other declarations"
        );
    }
    // The writes really ran concurrently: the chain switches between the processes.
    let switches = entries
        .windows(2)
        .filter(|w| w[0].actor != w[1].actor)
        .count();
    eprintln!(
        "{:?}: the chain switches {switches} times between the two processes",
        f.backend
    );
    if f.backend == Backend::Postgres {
        ensure!(
            switches >= 3,
            "only {switches} switches: the bursts did not overlap"
        );
    }
    Ok(())
}

#[test]
fn both_backends_name_their_migrations_alike() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let names = |backend: &str| {
        let mut names: Vec<String> = std::fs::read_dir(root.join(backend).join("migrations"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let sqlite = names("store-sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, names("store-postgres"));
}

/// Runs SQL through the database's own shell: `sqlite3` or `psql`.
fn shell(f: &Fixture, sql: &str) -> anyhow::Result<String> {
    let output = match f.backend {
        Backend::Sqlite => std::process::Command::new("sqlite3")
            .arg(&f.target)
            .arg(sql)
            .output()
            .context("running sqlite3 (Debian package sqlite3)")?,
        Backend::Postgres => std::process::Command::new("psql")
            .arg(&f.target)
            .args(["-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql])
            .output()
            .context("running psql (Debian package postgresql-client)")?,
    };
    ensure!(
        output.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

async fn tampering_with_the_sqlite3_or_psql_shell_is_found(f: Arc<Fixture>) -> Story {
    let ledger = tamper_setup(&f).await?;

    // An edited row: the record no longer matches entry 2, which wrote it.
    let tool = shell(&f, "SELECT id FROM tools")?;
    shell(
        &f,
        "UPDATE tools SET body = replace(body, 'ExampleAI', 'OtherAI')",
    )?;
    let (seq, problem) = first_bad(&ledger).await?;
    ensure!(seq == Some(2), "{problem}");
    ensure!(
        problem
            == Problem::RecordChanged {
                kind: "tool".to_owned(),
                id: tool.clone(),
                seq: 2
            },
        "{problem}"
    );
    shell(
        &f,
        "UPDATE tools SET body = replace(body, 'OtherAI', 'ExampleAI')",
    )?;
    verified(&ledger).await?;

    // A deleted audit entry.
    shell(&f, "DELETE FROM audit_log WHERE seq = 11")?;
    let (seq, problem) = first_bad(&ledger).await?;
    ensure!(seq == Some(11), "{problem}");

    // An inserted entry, in the hole, copied from its neighbour.
    shell(
        &f,
        "INSERT INTO audit_log (seq, at, actor, action, kind, record_id, before_body, after_body, prev_hash, hash) \
         SELECT 11, at, actor, action, kind, record_id, before_body, after_body, prev_hash, hash FROM audit_log WHERE seq = 12",
    )?;
    let (seq, problem) = first_bad(&ledger).await?;
    ensure!(
        seq == Some(11) && problem == Problem::HashMismatch { seq: 11 },
        "{problem}"
    );
    Ok(())
}

/// A scan of 2,500 files in three batches (entries 3, 4 and 5), tampered with through the
/// database's own shell: each change names the entry of the batch it touched.
async fn tampering_with_a_scans_file_rows_is_found(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let p = production(&ledger).await?;
    let scan = ledger
        .begin_scan("qc", new_scan(p.id, ledger.now()))
        .await?;
    let files: Vec<ScannedFile> = (0..2_500).map(scanned_file).collect();
    for chunk in files.chunks(MAX_SCAN_BATCH) {
        ledger.append_scan_files("qc", scan.id, chunk).await?;
    }
    ledger
        .finish_scan("qc", scan.id, outcome(10_000, 2_500))
        .await?;
    verified(&ledger).await?;
    let id = scan.id;
    let second = format!("{id}/0000001001");

    // A file row edited: the unapproved poster made to look approved.
    shell(
        &f,
        &format!(
            "UPDATE scan_files SET body = replace(body, 'unapproved', 'approved') \
             WHERE scan_id = '{id}' AND seq = 1500"
        ),
    )?;
    let (seq, problem) = first_bad(&ledger).await?;
    ensure!(
        seq == Some(4)
            && problem
                == Problem::ScanFilesChanged {
                    batch: second.clone(),
                    seq: 4
                },
        "{problem}"
    );
    shell(
        &f,
        &format!(
            "UPDATE scan_files SET body = replace(body, '\"approved', '\"unapproved') \
             WHERE scan_id = '{id}' AND seq = 1500"
        ),
    )?;
    verified(&ledger).await?;

    // A file row removed from the first batch.
    let kept = shell(
        &f,
        &format!("SELECT body FROM scan_files WHERE scan_id = '{id}' AND seq = 7"),
    )?;
    shell(
        &f,
        &format!("DELETE FROM scan_files WHERE scan_id = '{id}' AND seq = 7"),
    )?;
    let (seq, problem) = first_bad(&ledger).await?;
    ensure!(
        seq == Some(3)
            && problem
                == Problem::ScanFilesChanged {
                    batch: format!("{id}/0000000001"),
                    seq: 3
                },
        "{problem}"
    );
    shell(
        &f,
        &format!(
            "INSERT INTO scan_files (scan_id, seq, body) VALUES ('{id}', 7, '{}')",
            kept.replace('\'', "''")
        ),
    )?;
    verified(&ledger).await?;

    // Two rows swapped within the second batch.
    shell(
        &f,
        &format!(
            "UPDATE scan_files SET seq = -1 WHERE scan_id = '{id}' AND seq = 1001; \
             UPDATE scan_files SET seq = 1001 WHERE scan_id = '{id}' AND seq = 1002; \
             UPDATE scan_files SET seq = 1002 WHERE scan_id = '{id}' AND seq = -1"
        ),
    )?;
    let (seq, problem) = first_bad(&ledger).await?;
    ensure!(
        seq == Some(4)
            && problem
                == Problem::ScanFilesChanged {
                    batch: second,
                    seq: 4
                },
        "{problem}"
    );
    shell(
        &f,
        &format!(
            "UPDATE scan_files SET seq = -1 WHERE scan_id = '{id}' AND seq = 1001; \
             UPDATE scan_files SET seq = 1001 WHERE scan_id = '{id}' AND seq = 1002; \
             UPDATE scan_files SET seq = 1002 WHERE scan_id = '{id}' AND seq = -1"
        ),
    )?;
    verified(&ledger).await?;

    // A file row added after the last batch: no entry wrote it.
    shell(
        &f,
        &format!(
            "INSERT INTO scan_files (scan_id, seq, body) \
             SELECT scan_id, 2501, body FROM scan_files WHERE scan_id = '{id}' AND seq = 2500"
        ),
    )?;
    let report = ledger.verify().await?;
    ensure!(
        report.problems
            == vec![Problem::RecordUnlogged {
                kind: "scan_file".to_owned(),
                id: format!("{id}/0000002501"),
            }],
        "{report}"
    );
    Ok(())
}
