//! Reports handed over, on every backend: recorded by their sha256 in one
//! audited write, found again by it, kept once, refused when malformed or
//! about no production, and a record edited behind the ledger's back is found.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a failing test stops at the error"
)]

use std::sync::Arc;

use anyhow::ensure;
use greenlight_store::{Contact, NewProduction, NewReport, Problem, ProductionId, StoreError};
use greenlight_store_tests::Fixture;

type Story = anyhow::Result<()>;

use greenlight_store_tests::contract;

contract!(
    reports_are_recorded_by_sha256_and_found_again,
    malformed_reports_are_refused_and_leave_no_trace,
    an_edited_report_record_is_found,
);

async fn production(f: &Fixture) -> anyhow::Result<ProductionId> {
    let p = f
        .ledger()
        .create_production(
            "cora",
            NewProduction {
                title: "The Long Night".to_owned(),
                kind: greenlight_core::ProductionKind::Scripted,
                studio_contact: Contact {
                    name: "Sam Studio".to_owned(),
                    email: "sam@studio.example".to_owned(),
                },
                members: Vec::new(),
            },
        )
        .await?;
    Ok(p.id)
}

fn report(production: ProductionId, n: u8, f: &Fixture) -> NewReport {
    NewReport {
        sha256: format!("{n:02x}").repeat(32),
        report_id: format!("0190f0e0-0000-7000-8000-0000000000{n:02x}"),
        production_id: production,
        format: "pdf".to_owned(),
        bytes: 1234,
        generated_at: f.ledger().now(),
        audit_head_seq: Some(1),
        audit_head_hash: Some("ab".repeat(32)),
    }
}

async fn reports_are_recorded_by_sha256_and_found_again(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let p = production(&f).await?;
    let first = ledger.record_report("cora", report(p, 1, &f)).await?;
    ensure!(first.recorded_by == "cora" && first.sha256 == "01".repeat(32));
    let second = ledger.record_report("rita", report(p, 2, &f)).await?;
    let entries = ledger.audit_entries(None, 1000).await?;
    let logged: Vec<_> = entries.iter().filter(|e| e.kind == "report").collect();
    ensure!(logged.len() == 2 && logged[0].record_id == first.sha256);
    // The same bytes again: the first record stands, nothing is written.
    ensure!(ledger.record_report("rita", report(p, 1, &f)).await? == first);
    ensure!(ledger.audit_entries(None, 1000).await?.len() == entries.len());
    ensure!(ledger.report_by_sha256(&first.sha256).await? == Some(first.clone()));
    ensure!(ledger.report_by_sha256(&"ff".repeat(32)).await?.is_none());
    let page = ledger.reports(p, None, 1).await?;
    ensure!(page.items == vec![first.clone()] && page.next.is_some());
    let rest = ledger.reports(p, page.next.as_deref(), 10).await?;
    ensure!(rest.items == vec![second]);
    ensure!(ledger.verify().await?.is_ok());
    Ok(())
}

async fn malformed_reports_are_refused_and_leave_no_trace(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let p = production(&f).await?;
    let before = ledger.audit_entries(None, 1000).await?.len();
    let bad = |change: &dyn Fn(&mut NewReport)| {
        let mut r = report(p, 3, &f);
        change(&mut r);
        r
    };
    for (what, new) in [
        ("sha256", bad(&|r| r.sha256 = "XY".repeat(32))),
        ("short sha256", bad(&|r| r.sha256 = "ab".to_owned())),
        ("format", bad(&|r| r.format = "docx".to_owned())),
        ("report id", bad(&|r| r.report_id = "two words".to_owned())),
        ("audit head", bad(&|r| r.audit_head_hash = None)),
        ("head seq", bad(&|r| r.audit_head_seq = Some(0))),
    ] {
        let refused = ledger.record_report("cora", new).await;
        ensure!(
            matches!(refused, Err(StoreError::Invalid { .. })),
            "{what}: {refused:?}"
        );
    }
    let nowhere = bad(&|r| r.production_id = ProductionId::generate());
    ensure!(matches!(
        ledger.record_report("cora", nowhere).await,
        Err(StoreError::NotFound { .. })
    ));
    ensure!(matches!(
        ledger.report_by_sha256("../../etc/passwd").await,
        Err(StoreError::Invalid { .. })
    ));
    ensure!(ledger.audit_entries(None, 1000).await?.len() == before);
    Ok(())
}

async fn an_edited_report_record_is_found(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let p = production(&f).await?;
    let recorded = ledger.record_report("cora", report(p, 4, &f)).await?;
    ensure!(ledger.verify().await?.is_ok());
    // Someone with the database shell changes the recorded format.
    f.raw_sql(&format!(
        "UPDATE reports SET body = replace(body, '\"format\":\"pdf\"', '\"format\":\"csv\"') WHERE id = '{}'",
        recorded.sha256
    ))
    .await;
    let report = ledger.verify().await?;
    ensure!(
        report.problems.iter().any(|problem| matches!(
            problem,
            Problem::RecordChanged { kind, id, .. }
                if kind.as_str() == "report" && id.as_str() == recorded.sha256
        )),
        "{report}"
    );
    Ok(())
}
