//! The outbox on every backend: the expiry sweep enqueues `expiring` once per record and
//! expiry date (again and again, from two ledgers at once, it stays once), only for approvals
//! in force and documented consents within the window; a failed row is made due again, and
//! a row that is not failed, or no row, is refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a failing test stops at the error"
)]

use std::sync::Arc;

use anyhow::ensure;
use chrono::TimeDelta;
use greenlight_core::{Answer, Level, Medium};
use greenlight_store::{
    AssetScope, Channel, ConsentKind, ConsentScope, ConsentStatus, Contact, Event, Ledger, Member,
    NewConsent, NewPerformer, NewProduction, NewReview, OutboxChannels, OutboxEvent, OutboxRow,
    OutboxStatus, Role, Rule, Settle, Store, StoreError, Verdict,
};
use greenlight_store_tests::{Fixture, declaration, triage};

type Story = anyhow::Result<()>;

use greenlight_store_tests::contract;

contract!(
    expiring_is_enqueued_once_per_record_and_expiry_date,
    two_ledgers_sweeping_at_once_enqueue_once,
    a_failed_row_is_due_again_and_nothing_else_is_retried,
);

const BOTH: OutboxChannels = OutboxChannels {
    email: true,
    webhook: true,
};

fn ledger(f: &Fixture) -> Ledger<dyn Store> {
    f.ledger().with_outbox(BOTH)
}

fn new_production() -> NewProduction {
    let member = |person: &str, role: Role| Member {
        person: person.to_owned(),
        name: person.to_owned(),
        roles: vec![role],
    };
    NewProduction {
        title: "The Long Night".to_owned(),
        kind: greenlight_core::ProductionKind::Scripted,
        studio_contact: Contact {
            name: "Sam Studio".to_owned(),
            email: "sam@studio.example".to_owned(),
        },
        members: vec![
            member("cora@studio.example", Role::Coordinator),
            member("sam@studio.example", Role::Reviewer),
            member("tess@studio.example", Role::TalentRelations),
            member("lee@studio.example", Role::Legal),
        ],
    }
}

/// A production, a consent expiring in `consent_days` and an approval expiring in
/// `approval_days` (from the fixture's clock).
async fn world(
    f: &Fixture,
    consent_days: i64,
    approval_days: i64,
) -> anyhow::Result<(greenlight_store::Consent, greenlight_store::Approval)> {
    let ledger = ledger(f);
    let now = ledger.now();
    let p = ledger.create_production("admin", new_production()).await?;
    let ann = ledger
        .register_performer(
            "admin",
            NewPerformer {
                name: "Ann Actor".to_owned(),
                union: String::new(),
                deceased: false,
                estate: None,
            },
        )
        .await?;
    let consent = ledger
        .record_consent(
            "tess@studio.example",
            NewConsent {
                performer_id: ann.id,
                kind: ConsentKind::DigitalAlteration,
                scope: ConsentScope {
                    production_id: p.id,
                    media: vec![Medium::Video],
                    description: "de-ageing of the flashback scenes in episode 3".to_owned(),
                },
                given_by: "Ann Actor".to_owned(),
                status: ConsentStatus::Documented,
                expires_at: Some(now.plus(TimeDelta::days(consent_days))),
                document_sha256: Some("ab".repeat(32)),
            },
        )
        .await?;
    let mut d = declaration("The Long Night", "final shot");
    d.output.final_deliverable = Answer::Yes;
    let s = ledger
        .submit_declaration("cora@studio.example", p.id, d, triage)
        .await?;
    ensure!(s.decision.level() == Level::Escalate);
    let approval = ledger
        .review(
            "sam@studio.example",
            NewReview {
                declaration_id: s.declaration.id,
                verdict: Verdict::Approved,
                conditions: Vec::new(),
                scope: vec![AssetScope::Glob("VFX/**".to_owned())],
                expires_at: Some(now.plus(TimeDelta::days(approval_days))),
                note: String::new(),
            },
        )
        .await?;
    Ok((consent, approval))
}

/// Every `expiring` row of the outbox.
async fn expiring_rows(ledger: &Ledger<dyn Store>) -> anyhow::Result<Vec<OutboxRow>> {
    Ok(ledger
        .outbox(None, None, 1_000)
        .await?
        .into_iter()
        .filter(|r| r.event == Event::Expiring)
        .collect())
}

async fn expiring_is_enqueued_once_per_record_and_expiry_date(f: Arc<Fixture>) -> Story {
    let ledger = ledger(&f);
    let (consent, approval) = world(&f, 10, 20).await?;
    let ahead = TimeDelta::days(14);

    // The consent is within 14 days, the approval not yet.
    ensure!(ledger.sweep_expiring("greenlight", ahead).await? == 1);
    let rows = expiring_rows(&ledger).await?;
    let mut recipients: Vec<(Channel, &str)> = rows
        .iter()
        .map(|r| (r.channel, r.recipient.as_str()))
        .collect();
    recipients.sort_by_key(|(c, r)| (c.as_str(), *r));
    ensure!(
        recipients
            == vec![
                (Channel::Email, "lee@studio.example"),
                (Channel::Email, "tess@studio.example"),
                (Channel::Webhook, "webhook"),
            ],
        "talent relations and legal, and the webhook: {recipients:?}"
    );
    let event: OutboxEvent = serde_json::from_str(&rows[0].body)?;
    ensure!(event.consent.as_ref().map(|c| c.id.clone()) == Some(consent.id.to_string()));
    ensure!(event.expires_at == consent.expires_at);
    ensure!(event.summary.contains("Ann Actor") && event.summary.contains("expires on"));
    ensure!(rows.iter().all(|r| r.event_id == event.id));

    // Sweeping again, or after a restart (a new ledger on the same database), sends nothing.
    ensure!(ledger.sweep_expiring("greenlight", ahead).await? == 0);
    ensure!(self::ledger(&f).sweep_expiring("greenlight", ahead).await? == 0);
    ensure!(expiring_rows(&ledger).await?.len() == 3);

    // Seven days on, the approval is within 14 days: its submitter and reviewer are told.
    f.clock.advance(TimeDelta::days(7));
    ensure!(ledger.sweep_expiring("greenlight", ahead).await? == 1);
    let rows = expiring_rows(&ledger).await?;
    ensure!(rows.len() == 6);
    let approval_rows: Vec<&OutboxRow> = rows
        .iter()
        .filter(|r| r.body.contains("\"declaration\""))
        .collect();
    let mut to: Vec<&str> = approval_rows.iter().map(|r| r.recipient.as_str()).collect();
    to.sort_unstable();
    ensure!(
        to == vec!["cora@studio.example", "sam@studio.example", "webhook"],
        "{to:?}"
    );
    let event: OutboxEvent = serde_json::from_str(&approval_rows[0].body)?;
    ensure!(event.expires_at == approval.expires_at);
    ensure!(
        event.declaration.as_ref().map(|d| d.id.clone())
            == Some(approval.declaration_id.to_string())
    );

    // A consent given again with a later expiry is a new date: told once more.
    let renewed = ledger
        .record_consent(
            "tess@studio.example",
            NewConsent {
                performer_id: consent.performer_id,
                kind: consent.kind,
                scope: consent.scope.clone(),
                given_by: consent.given_by.clone(),
                status: ConsentStatus::Documented,
                expires_at: Some(ledger.now().plus(TimeDelta::days(12))),
                document_sha256: Some("cd".repeat(32)),
            },
        )
        .await?;
    ensure!(ledger.sweep_expiring("greenlight", ahead).await? == 1);
    ensure!(ledger.sweep_expiring("greenlight", ahead).await? == 0);
    let rows = expiring_rows(&ledger).await?;
    ensure!(rows.len() == 9);
    ensure!(
        rows.iter()
            .filter(|r| r.body.contains(&renewed.id.to_string()))
            .count()
            == 3
    );

    // Past its expiry nothing more is said (the consent sweep blocks what relied on it).
    f.clock.advance(TimeDelta::days(30));
    ensure!(ledger.sweep_expiring("greenlight", ahead).await? == 0);

    // A ledger without channels enqueues nothing, and the sweep writes no audit entry.
    ensure!(f.ledger().sweep_expiring("greenlight", ahead).await? == 0);
    let entries = ledger.audit_entries(None, 1_000).await?;
    ensure!(entries.iter().all(|e| e.actor != "greenlight"));
    let report = ledger.verify().await?;
    ensure!(report.is_ok(), "{report}");
    Ok(())
}

async fn two_ledgers_sweeping_at_once_enqueue_once(f: Arc<Fixture>) -> Story {
    world(&f, 3, 5).await?;
    let ahead = TimeDelta::days(14);
    let (a, b) = (ledger(&f), ledger(&f));
    let mut total = 0;
    for _ in 0..5 {
        let (x, y) = tokio::join!(
            a.sweep_expiring("greenlight", ahead),
            b.sweep_expiring("greenlight", ahead)
        );
        total += x? + y?;
    }
    ensure!(
        total == 2,
        "one consent and one approval, once each: {total}"
    );
    ensure!(expiring_rows(&a).await?.len() == 6);
    Ok(())
}

async fn a_failed_row_is_due_again_and_nothing_else_is_retried(f: Arc<Fixture>) -> Story {
    let ledger = ledger(&f);
    world(&f, 3, 60).await?;
    ensure!(
        ledger
            .sweep_expiring("greenlight", TimeDelta::days(14))
            .await?
            == 1
    );
    let claim = ledger.claim_outbox(100, TimeDelta::seconds(60)).await?;
    ensure!(!claim.rows.is_empty());
    let (first, second) = (&claim.rows[0], &claim.rows[1]);
    ensure!(
        ledger
            .settle_outbox(
                first,
                &claim.lease,
                Settle::Failed {
                    error: "the mail server refused it".to_owned()
                }
            )
            .await?
    );
    ensure!(
        ledger
            .settle_outbox(second, &claim.lease, Settle::Sent)
            .await?
    );

    f.clock.advance(TimeDelta::minutes(5));
    let again = ledger.retry_outbox(&first.id).await?;
    ensure!(again.status == OutboxStatus::Pending);
    ensure!(again.attempts == 0, "attempts start afresh");
    ensure!(again.last_error.as_deref() == Some("the mail server refused it"));
    ensure!(again.next_at == ledger.now(), "due now");
    // It is claimed again, by whoever looks next.
    let claim = ledger.claim_outbox(100, TimeDelta::seconds(60)).await?;
    ensure!(claim.rows.iter().any(|r| r.id == first.id));

    // A pending or sent row is not retried; an unknown id is not found.
    for id in [&first.id, &second.id] {
        let err = ledger.retry_outbox(id).await.unwrap_err();
        ensure!(err.rule() == Some(Rule::AlreadyDone), "{err}");
        ensure!(err.to_string().contains("not failed"), "{err}");
    }
    let err = ledger
        .retry_outbox("0190c0de-0000-7000-8000-000000000000")
        .await
        .unwrap_err();
    ensure!(matches!(err, StoreError::NotFound { .. }), "{err}");
    Ok(())
}
