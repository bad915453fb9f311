//! A declaration's lifecycle beyond its first version, on every backend: drafts of the
//! declare form (each person's own, kept as typed, never audited, deleted), and reviewers'
//! requests for changes (audited, notified, answered by a new version).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a failing test stops at the error"
)]

use std::sync::Arc;

use anyhow::ensure;
use chrono::TimeDelta;
use greenlight_core::Answer;
use greenlight_store::{
    AssetScope, Contact, DraftId, Event, Ledger, MAX_DRAFT_FIELDS, Member, NewDraft, NewProduction,
    NewReview, OutboxChannels, Production, Role, Rule, Store, StoreError, Verdict,
};
use greenlight_store_tests::{Fixture, declaration, triage};

type Story = anyhow::Result<()>;

use greenlight_store_tests::contract;

contract!(
    drafts_are_their_authors_own_and_kept_as_typed,
    drafts_are_not_audited_and_are_bounded,
    changes_are_requested_by_reviewers_with_a_note,
    a_request_for_changes_stands_until_a_review_or_a_new_version,
);

async fn production(ledger: &Ledger<dyn Store>) -> anyhow::Result<Production> {
    let member = |person: &str, roles: Vec<Role>| Member {
        person: person.to_owned(),
        name: person.to_owned(),
        roles,
    };
    Ok(ledger
        .create_production(
            "admin",
            NewProduction {
                title: "The Long Night".to_owned(),
                kind: greenlight_core::ProductionKind::Scripted,
                studio_contact: Contact {
                    name: "Sam Studio".to_owned(),
                    email: "sam@studio.example".to_owned(),
                },
                members: vec![
                    member("cora@studio.example", vec![Role::Coordinator]),
                    member("rita", vec![Role::Reviewer]),
                    member("lee", vec![Role::Legal]),
                    member("vic", vec![Role::Vendor]),
                ],
            },
        )
        .await?)
}

fn escalated(title: &str) -> greenlight_core::Declaration {
    let mut d = declaration("The Long Night", title);
    d.output.final_deliverable = Answer::Yes;
    d
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

fn not_found<T: std::fmt::Debug>(result: Result<T, StoreError>) -> anyhow::Result<()> {
    ensure!(
        matches!(result, Err(StoreError::NotFound { kind: "draft", .. })),
        "expected no such draft, got {result:?}"
    );
    Ok(())
}

fn refused_by<T: std::fmt::Debug>(result: Result<T, StoreError>, rule: Rule) -> Story {
    match result {
        Err(error) if error.rule() == Some(rule) => Ok(()),
        other => anyhow::bail!("expected a refusal under {rule}, got {other:?}"),
    }
}

async fn drafts_are_their_authors_own_and_kept_as_typed(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    // As typed: an invalid answer, an empty field, a repeated one, in order.
    let typed = pairs(&[
        ("title", "  The captain's letter "),
        ("inputs.personal_data", "perhaps"),
        ("media", "image"),
        ("media", "video"),
        ("description", "line one\nline two <b>"),
        ("tool_other", ""),
    ]);
    let saved = ledger
        .save_draft(
            "cora",
            NewDraft {
                fields: typed.clone(),
                ..NewDraft::default()
            },
        )
        .await?;
    ensure!(saved.fields == typed && saved.author == "cora");
    ensure!(saved.title == "The captain's letter", "{}", saved.title);
    ensure!(saved.declaration_id.is_none());
    ensure!(ledger.draft("cora", saved.id).await? == saved);
    ensure!(ledger.drafts("cora").await? == vec![saved.clone()]);

    // Nobody else sees, replaces or deletes it.
    ensure!(ledger.drafts("rita").await?.is_empty());
    not_found(ledger.draft("rita", saved.id).await)?;
    not_found(
        ledger
            .save_draft(
                "rita",
                NewDraft {
                    id: Some(saved.id),
                    fields: pairs(&[("title", "mine now")]),
                    ..NewDraft::default()
                },
            )
            .await,
    )?;
    not_found(ledger.delete_draft("rita", saved.id).await)?;
    ensure!(ledger.draft("cora", saved.id).await? == saved);

    // Saved again: the same draft, first saved when it was.
    f.clock.advance(TimeDelta::minutes(5));
    let p = production(&ledger).await?;
    let s = ledger
        .submit_declaration("cora", p.id, escalated("final shot"), triage)
        .await?;
    let again = ledger
        .save_draft(
            "cora",
            NewDraft {
                id: Some(saved.id),
                declaration_id: Some(s.declaration.id),
                fields: pairs(&[("title", "final shot, v2")]),
            },
        )
        .await?;
    ensure!(again.id == saved.id && again.created_at == saved.created_at);
    ensure!(again.updated_at > saved.updated_at);
    ensure!(again.declaration_id == Some(s.declaration.id));
    let second = ledger.save_draft("cora", NewDraft::default()).await?;
    ensure!(second.title.is_empty() && second.fields.is_empty());
    let listed: Vec<DraftId> = ledger.drafts("cora").await?.iter().map(|d| d.id).collect();
    ensure!(listed == vec![saved.id, second.id], "{listed:?}");
    ensure!(ledger.draft("cora", saved.id).await? == again);

    // Deleted: gone, once.
    ledger.delete_draft("cora", saved.id).await?;
    not_found(ledger.draft("cora", saved.id).await)?;
    not_found(ledger.delete_draft("cora", saved.id).await)?;
    not_found(
        ledger
            .save_draft(
                "cora",
                NewDraft {
                    id: Some(saved.id),
                    ..NewDraft::default()
                },
            )
            .await,
    )?;
    ensure!(ledger.drafts("cora").await?.len() == 1);
    Ok(())
}

async fn drafts_are_not_audited_and_are_bounded(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let before = ledger.audit_entries(None, 1_000).await?.len();
    let d = ledger
        .save_draft(
            "cora",
            NewDraft {
                fields: pairs(&[("title", "x")]),
                ..NewDraft::default()
            },
        )
        .await?;
    ledger.delete_draft("cora", d.id).await?;
    ensure!(ledger.audit_entries(None, 1_000).await?.len() == before);

    let many = vec![("media".to_owned(), "image".to_owned()); MAX_DRAFT_FIELDS + 1];
    refused_by(
        ledger
            .save_draft(
                "cora",
                NewDraft {
                    fields: many,
                    ..NewDraft::default()
                },
            )
            .await,
        Rule::BadInput,
    )?;
    let long = vec![(
        "description".to_owned(),
        "x".repeat(greenlight_store::MAX_DRAFT_BYTES + 1),
    )];
    refused_by(
        ledger
            .save_draft(
                "cora",
                NewDraft {
                    fields: long,
                    ..NewDraft::default()
                },
            )
            .await,
        Rule::BadInput,
    )?;
    refused_by(
        ledger.save_draft(" ", NewDraft::default()).await,
        Rule::BadInput,
    )?;
    ensure!(ledger.drafts("cora").await?.is_empty());
    ensure!(ledger.verify().await?.is_ok());
    Ok(())
}

async fn changes_are_requested_by_reviewers_with_a_note(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger().with_outbox(OutboxChannels {
        email: true,
        webhook: true,
    });
    let p = production(&ledger).await?;
    let s = ledger
        .submit_declaration("cora@studio.example", p.id, escalated("final shot"), triage)
        .await?;
    let id = s.declaration.id;
    let before = ledger.audit_entries(None, 1_000).await?.len();

    // Not a reviewer, the submitter, no note: refused, nothing written.
    refused_by(
        ledger.request_changes("vic", id, "change it").await,
        Rule::NotReviewer,
    )?;
    refused_by(
        ledger
            .request_changes("cora@studio.example", id, "change it")
            .await,
        Rule::SelfReview,
    )?;
    refused_by(
        ledger.request_changes("rita", id, " \n ").await,
        Rule::BadInput,
    )?;
    let long = "x".repeat(greenlight_store::MAX_CHANGE_NOTE + 1);
    refused_by(
        ledger.request_changes("rita", id, &long).await,
        Rule::BadInput,
    )?;
    ensure!(ledger.audit_entries(None, 1_000).await?.len() == before);
    ensure!(ledger.changes_requested(id).await?.is_none());

    // A reviewer asks: one audited record, the note trimmed, notified.
    let asked = ledger
        .request_changes("rita", id, "  name the generator's version \n")
        .await?;
    ensure!(asked.note == "name the generator's version");
    ensure!(asked.reviewer == "rita" && asked.declaration_version == 1);
    ensure!(asked.decision_id == s.decision.id);
    let entries = ledger.audit_entries(None, 1_000).await?;
    ensure!(entries.len() == before + 1);
    let last = entries.last().unwrap();
    ensure!(last.kind == "change_request" && last.record_id == asked.id.to_string());
    ensure!(ledger.change_requests(id).await? == vec![asked.clone()]);
    ensure!(ledger.changes_requested(id).await? == Some(asked.clone()));
    let rows = ledger.outbox(None, None, 100).await?;
    let rows: Vec<_> = rows
        .iter()
        .filter(|r| r.event == Event::ChangesRequested)
        .collect();
    let mut recipients: Vec<&str> = rows.iter().map(|r| r.recipient.as_str()).collect();
    recipients.sort();
    ensure!(
        recipients == ["cora@studio.example", "webhook"],
        "{recipients:?}"
    );
    ensure!(rows[0].body.contains("name the generator's version"));

    // Still undecided: no approval, and a notify-level use takes no request.
    ensure!(ledger.approvals(id).await?.is_empty());
    let low = ledger
        .submit_declaration(
            "cora@studio.example",
            p.id,
            declaration("The Long Night", "mood"),
            triage,
        )
        .await?;
    refused_by(
        ledger
            .request_changes("rita", low.declaration.id, "why")
            .await,
        Rule::NotEscalated,
    )?;
    ensure!(ledger.verify().await?.is_ok());
    Ok(())
}

async fn a_request_for_changes_stands_until_a_review_or_a_new_version(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let p = production(&ledger).await?;
    let s = ledger
        .submit_declaration("cora@studio.example", p.id, escalated("final shot"), triage)
        .await?;
    let id = s.declaration.id;
    ledger
        .request_changes("rita", id, "the prompt, please")
        .await?;

    // A new version answers it.
    f.clock.advance(TimeDelta::minutes(1));
    ledger
        .revise_declaration(
            "cora@studio.example",
            id,
            escalated("final shot v2"),
            triage,
        )
        .await?;
    ensure!(ledger.changes_requested(id).await?.is_none());
    ensure!(ledger.change_requests(id).await?.len() == 1);

    // Asked again of version 2, then approved: the approval answers it.
    f.clock.advance(TimeDelta::minutes(1));
    let again = ledger.request_changes("lee", id, "and the seed").await?;
    ensure!(again.declaration_version == 2);
    ensure!(ledger.changes_requested(id).await? == Some(again));
    f.clock.advance(TimeDelta::minutes(1));
    ledger
        .review(
            "rita",
            NewReview {
                declaration_id: id,
                verdict: Verdict::Approved,
                conditions: Vec::new(),
                scope: vec![AssetScope::Glob("VFX/**".to_owned())],
                expires_at: None,
                note: String::new(),
            },
        )
        .await?;
    ensure!(ledger.changes_requested(id).await?.is_none());
    // A reviewed version takes no more.
    refused_by(
        ledger.request_changes("lee", id, "one more").await,
        Rule::AlreadyDone,
    )?;
    ensure!(ledger.verify().await?.is_ok());
    Ok(())
}
