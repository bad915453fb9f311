//! The ledger's stamps, on every backend: a stamp of an approval in force is recorded in one
//! audited write and listed under its approval; a stamp of an expired, superseded or
//! rejected approval is refused and leaves no trace; malformed fields are named; the
//! delivery gate reads a stamp's evidence against the approval's state.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a failing test stops at the error"
)]

use std::sync::Arc;

use anyhow::ensure;
use chrono::TimeDelta;
use greenlight_core::{Answer, Level};
use greenlight_store::Clock as _;
use greenlight_store::{
    ApprovalState, AssetScope, Contact, EvidenceItem, FileEvidence, FileVerdict, GateRun,
    GateTally, Look, Member, NewProduction, NewReview, NewStamp, Role, Rule, STAMP_EVIDENCE,
    Standing, StoreError, Verdict,
};
use greenlight_store_tests::{Fixture, at, declaration, triage};

type Story = anyhow::Result<()>;

use greenlight_store_tests::contract;

contract!(
    stamps_of_an_approval_in_force_are_recorded_and_audited,
    stamps_of_an_approval_not_in_force_are_refused,
    the_gate_reads_stamps_against_the_approval,
);

fn new_production() -> NewProduction {
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
                person: "sam".to_owned(),
                name: "Sam Studio".to_owned(),
                roles: vec![Role::Reviewer],
            },
        ],
    }
}

fn review(
    declaration: greenlight_store::DeclarationId,
    expires: Option<&str>,
    verdict: Verdict,
) -> NewReview {
    NewReview {
        declaration_id: declaration,
        verdict,
        conditions: vec!["credit the concept artists".to_owned()],
        scope: vec![AssetScope::Glob("VFX/**".to_owned())],
        expires_at: expires.map(at),
        note: String::new(),
    }
}

fn stamp(n: u8) -> NewStamp {
    NewStamp {
        source_path: format!("originals/shot-{n}.png"),
        output_path: Some(format!("stamped/shot-{n}.png")),
        sidecar_path: None,
        format: "png".to_owned(),
        sha256_before: format!("{n:02x}").repeat(32),
        sha256_after: format!("{:02x}", n.wrapping_add(1)).repeat(32),
        sidecar_sha256: None,
        manifest: Some("urn:c2pa:0000".to_owned()),
        signer: "CN=Post Signer, O=Studio".to_owned(),
        signer_sha256: "cd".repeat(32),
    }
}

/// A production with one escalated declaration (submitted by cora) and sam's review of it.
async fn approved(
    f: &Fixture,
    expires: Option<&str>,
    verdict: Verdict,
) -> anyhow::Result<(greenlight_store::Approval, greenlight_store::DeclarationId)> {
    let ledger = f.ledger();
    let p = ledger.create_production("cora", new_production()).await?;
    let mut d = declaration("The Long Night", "final shot");
    d.output.final_deliverable = Answer::Yes;
    let s = ledger.submit_declaration("cora", p.id, d, triage).await?;
    ensure!(s.decision.level() == Level::Escalate);
    let a = ledger
        .review("sam", review(s.declaration.id, expires, verdict))
        .await?;
    Ok((a, s.declaration.id))
}

async fn stamps_of_an_approval_in_force_are_recorded_and_audited(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let (a, declaration) = approved(&f, None, Verdict::Approved).await?;
    let standing = ledger.approval_standing(a.id).await?;
    ensure!(standing.state == ApprovalState::InForce);
    ensure!(standing.declaration.id == declaration);
    ensure!(standing.decision.as_ref().map(|d| d.id) == Some(a.decision_id));
    greenlight_store::require_in_force(&standing)?;

    let recorded = ledger
        .record_stamps("cora", a.id, vec![stamp(1), stamp(2)])
        .await?;
    ensure!(recorded.len() == 2);
    ensure!(recorded[0].approval_id == a.id && recorded[0].declaration_id == declaration);
    ensure!(recorded[0].stamped_by == "cora");
    let page = ledger.stamps(Some(a.id), None, 10).await?;
    ensure!(
        page.items == recorded,
        "listed under the approval: {page:?}"
    );
    ensure!(ledger.stamps(None, None, 10).await?.items.len() == 2);
    let entries = ledger.audit_entries(None, 100).await?;
    let stamps: Vec<_> = entries.iter().filter(|e| e.kind == "stamp").collect();
    ensure!(stamps.len() == 2, "one audit entry per stamp");
    ensure!(
        stamps
            .iter()
            .all(|e| e.actor == "cora" && e.action == "create")
    );
    let report = ledger.verify().await?;
    ensure!(report.is_ok(), "{report}");

    // Malformed fields are named, and nothing is written.
    let mut bad = stamp(3);
    bad.sha256_after = "XYZ".to_owned();
    let err = ledger
        .record_stamps("cora", a.id, vec![bad])
        .await
        .unwrap_err();
    ensure!(err.rule() == Some(Rule::BadInput) && err.to_string().contains("sha256 after"));
    let mut nowhere = stamp(4);
    nowhere.output_path = None;
    let err = ledger
        .record_stamps("cora", a.id, vec![nowhere])
        .await
        .unwrap_err();
    ensure!(
        err.to_string().contains("neither a copy nor a sidecar"),
        "{err}"
    );
    ensure!(ledger.stamps(Some(a.id), None, 10).await?.items.len() == 2);
    Ok(())
}

async fn stamps_of_an_approval_not_in_force_are_refused(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    // A rejection is not an approval.
    let (rejected, _) = approved(&f, None, Verdict::Rejected).await?;
    let err = ledger
        .record_stamps("cora", rejected.id, vec![stamp(1)])
        .await
        .unwrap_err();
    ensure!(err.rule() == Some(Rule::NotInForce), "{err}");

    // An approval whose expiry passes.
    let soon = f.clock.now().plus(TimeDelta::hours(1)).to_string();
    let (lapsing, declaration) = approved(&f, Some(&soon), Verdict::Approved).await?;
    ledger
        .record_stamps("cora", lapsing.id, vec![stamp(2)])
        .await?;
    f.clock.advance(TimeDelta::hours(2));
    let standing = ledger.approval_standing(lapsing.id).await?;
    ensure!(matches!(standing.state, ApprovalState::Expired { .. }));
    let err = greenlight_store::require_in_force(&standing).unwrap_err();
    ensure!(err.to_string().contains("expired"), "{err}");
    let err = ledger
        .record_stamps("cora", lapsing.id, vec![stamp(3)])
        .await
        .unwrap_err();
    ensure!(err.rule() == Some(Rule::NotInForce), "{err}");

    // Superseded by a revision of its declaration.
    let (live, live_declaration) = approved(&f, None, Verdict::Approved).await?;
    let mut d = declaration_of("final shot v2");
    d.output.final_deliverable = Answer::Yes;
    ledger
        .revise_declaration("cora", live_declaration, d, triage)
        .await?;
    let err = ledger
        .record_stamps("cora", live.id, vec![stamp(4)])
        .await
        .unwrap_err();
    ensure!(err.to_string().contains("superseded"), "{err}");
    ensure!(declaration != live_declaration);
    // Only the stamp made while in force is there.
    ensure!(ledger.stamps(None, None, 10).await?.items.len() == 1);
    match ledger
        .approval_standing(greenlight_store::ApprovalId::generate())
        .await
    {
        Err(StoreError::NotFound { .. }) => Ok(()),
        other => anyhow::bail!("an unknown approval: {other:?}"),
    }
}

fn declaration_of(title: &str) -> greenlight_core::Declaration {
    declaration("The Long Night", title)
}

fn stamped_file(detail: String) -> FileEvidence {
    FileEvidence {
        path: "delivery/renamed.png".to_owned(),
        relative_path: Some("renamed.png".to_owned()),
        verdict: FileVerdict::AiGenerated,
        sha256: None,
        evidence: vec![EvidenceItem {
            kind: STAMP_EVIDENCE.to_owned(),
            detail,
            source: "active manifest".to_owned(),
        }],
        error: None,
        notes: Vec::new(),
    }
}

async fn the_gate_reads_stamps_against_the_approval(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let (a, _) = approved(&f, None, Verdict::Approved).await?;
    let production = ledger
        .approval_standing(a.id)
        .await?
        .declaration
        .production_id;
    let by = "signed by CN=Post Signer, O=Studio (sha256 cd)";
    let judge = |detail: String| {
        let ledger = f.ledger();
        async move {
            let index = ledger.approval_index(production).await?;
            let mut run = GateRun::new(index, false);
            anyhow::Ok(run.judge(&stamped_file(detail)).unwrap())
        }
    };
    let ok = judge(format!(
        "approval {}, signature valid, signer trusted, {by}",
        a.id
    ))
    .await?;
    ensure!(
        ok.status == Standing::Approved && ok.approval_id == Some(a.id),
        "{ok:?}"
    );
    ensure!(
        ok.reason.contains("stamp signed by CN=Post Signer"),
        "{}",
        ok.reason
    );
    ensure!(!ok.fails_gate);
    let untrusted = judge(format!(
        "approval {}, signature valid, signer untrusted, {by}",
        a.id
    ))
    .await?;
    ensure!(untrusted.status == Standing::Unapproved && untrusted.fails_gate);
    let tampered = judge(format!(
        "approval {}, signature tampered, signer untrusted, {by}: assertion.dataHash.mismatch",
        a.id
    ))
    .await?;
    ensure!(tampered.status == Standing::Unapproved && tampered.fails_gate);
    ensure!(
        tampered.reason.starts_with("tampered"),
        "{}",
        tampered.reason
    );
    let other = judge(format!(
        "approval {}, signature valid, signer trusted, {by}",
        greenlight_store::ApprovalId::generate()
    ))
    .await?;
    ensure!(
        other.status == Standing::Unapproved && other.fails_gate,
        "{other:?}"
    );
    ensure!(
        other.reason.contains("not an approval of this production"),
        "{}",
        other.reason
    );

    // A stamped file with no other evidence of AI is judged by its stamp all the same.
    let plain = |detail: String| FileEvidence {
        verdict: FileVerdict::NoAiEvidence,
        ..stamped_file(detail)
    };
    let index = ledger.approval_index(production).await?;
    let mut run = GateRun::new(index, false);
    let file = plain(format!(
        "approval {}, signature tampered, signer trusted, {by}: assertion.dataHash.mismatch",
        a.id
    ));
    ensure!(file.look(false) == Look::Judged { gated: true });
    let tampered = run.judge(&file).unwrap();
    ensure!(tampered.fails_gate && tampered.reason.starts_with("tampered"));
    let untrusted = run
        .judge(&plain(format!(
            "approval {}, signature valid, signer untrusted, {by}",
            a.id
        )))
        .unwrap();
    ensure!(untrusted.fails_gate, "{untrusted:?}");
    ensure!(
        untrusted.reason.contains("untrusted signer")
            && untrusted.reason.contains("CN=Post Signer, O=Studio"),
        "{}",
        untrusted.reason
    );
    ensure!(!run.passed());
    // The recorded rows count again as they were judged.
    let mut again = GateTally::default();
    for detail in ["tampered", "untrusted"] {
        let file = plain(format!(
            "approval {}, signature {}, signer {}, {by}",
            a.id,
            if detail == "tampered" {
                "tampered"
            } else {
                "valid"
            },
            if detail == "tampered" {
                "trusted"
            } else {
                "untrusted"
            },
        ));
        let judgement = run.judge(&file);
        let row = GateRun::row(&file, judgement.as_ref()).unwrap();
        again.count_row(&row, false);
    }
    ensure!(again.failing == 2, "{again:?}");

    // Evidence from a remote scanner: its word that the signer is trusted counts for
    // nothing; the signers the server names do.
    let fingerprint = "cd".repeat(32);
    let remote = plain(format!(
        "approval {}, signature valid, signer trusted, signed by CN=Post Signer, O=Studio (sha256 {fingerprint})",
        a.id
    ));
    let nobody = greenlight_store::StampSigners::default();
    let judged = ledger
        .judge_files(production, false, std::slice::from_ref(&remote), &nobody)
        .await?;
    let refused = judged[0].as_ref().unwrap();
    ensure!(
        refused.fails_gate && refused.reason.contains("untrusted signer"),
        "{refused:?}"
    );
    let signers = greenlight_store::StampSigners::from_fingerprints([&fingerprint])
        .map_err(anyhow::Error::msg)?;
    let judged = ledger
        .judge_files(production, false, &[remote], &signers)
        .await?;
    let trusted = judged[0].as_ref().unwrap();
    ensure!(
        trusted.status == Standing::Approved && !trusted.fails_gate,
        "{trusted:?}"
    );

    // The declaration is revised: the stamped approval is superseded, and the gate says so.
    let mut d = declaration_of("final shot v2");
    d.output.final_deliverable = Answer::Yes;
    ledger
        .revise_declaration("cora", a.declaration_id, d, triage)
        .await?;
    let superseded = judge(format!(
        "approval {}, signature valid, signer trusted, {by}",
        a.id
    ))
    .await?;
    ensure!(superseded.status == Standing::Unapproved && superseded.fails_gate);
    ensure!(
        superseded.reason.contains("superseded"),
        "{}",
        superseded.reason
    );
    Ok(())
}
