//! The ledger's protected reference images, on every backend: added in one
//! audited write, listed by label, kept once per file and label, refused when
//! malformed, and a hash edited behind the ledger's back is found.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a failing test stops at the error"
)]

use std::sync::Arc;

use anyhow::ensure;
use greenlight_store::{NewImageReference, Problem, ReferenceHash, StoreError, reference_id};
use greenlight_store_tests::Fixture;

type Story = anyhow::Result<()>;

use greenlight_store_tests::contract;

contract!(
    references_are_added_audited_and_listed_by_label,
    malformed_references_are_refused_and_leave_no_trace,
    an_edited_reference_hash_is_found,
);

fn reference(label: &str, n: u8) -> NewImageReference {
    NewImageReference {
        label: label.to_owned(),
        source_path: format!("refs/poster-{n}.jpg"),
        file_sha256: format!("{n:02x}").repeat(32),
        hashes: vec![
            ReferenceHash {
                variant: "original".to_owned(),
                hash: format!("{:02x}", n.wrapping_mul(7)).repeat(32),
                quality: 100,
            },
            ReferenceHash {
                variant: "crop:l5,t0,r0,b0".to_owned(),
                hash: format!("{:02x}", n.wrapping_mul(11)).repeat(32),
                quality: 90,
            },
        ],
    }
}

async fn references_are_added_audited_and_listed_by_label(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let added = ledger
        .add_image_references(
            "clearance",
            vec![
                reference("Franchise A", 1),
                reference("Franchise A", 2),
                reference("Studio B", 3),
            ],
        )
        .await?;
    ensure!(added.added.len() == 3 && added.unchanged.is_empty());
    ensure!(added.added[0].id == reference_id("Franchise A", &"01".repeat(32)));
    ensure!(added.added[0].added_by == "clearance");
    let entries = ledger.audit_entries(None, 100).await?;
    let created: Vec<_> = entries
        .iter()
        .filter(|e| e.kind == "image_reference")
        .collect();
    ensure!(
        created.len() == 3
            && created
                .iter()
                .all(|e| e.action == "create" && e.actor == "clearance")
    );

    let all = ledger.image_references(None, None, 100).await?;
    ensure!(all.items.len() == 3 && all.next.is_none());
    let a = ledger
        .image_references(Some("Franchise A"), None, 100)
        .await?;
    ensure!(a.items.len() == 2 && a.items.iter().all(|r| r.label == "Franchise A"));
    let page = ledger.image_references(None, None, 2).await?;
    ensure!(page.items.len() == 2 && page.next.is_some());
    let rest = ledger
        .image_references(None, page.next.as_deref(), 2)
        .await?;
    ensure!(rest.items.len() == 1);

    // The same files again: nothing written. A changed hash: one update.
    let again = ledger
        .add_image_references("clearance", vec![reference("Franchise A", 1)])
        .await?;
    ensure!(again.added.is_empty() && again.unchanged.len() == 1);
    let mut changed = reference("Franchise A", 2);
    changed.hashes[0].hash = "ff".repeat(32);
    let again = ledger
        .add_image_references("clearance", vec![changed])
        .await?;
    ensure!(again.added.len() == 1);
    let entries = ledger.audit_entries(None, 100).await?;
    let refs: Vec<_> = entries
        .iter()
        .filter(|e| e.kind == "image_reference")
        .collect();
    ensure!(refs.len() == 4 && refs[3].action == "update");
    let report = ledger.verify().await?;
    ensure!(report.problems.is_empty(), "{report}");
    Ok(())
}

async fn malformed_references_are_refused_and_leave_no_trace(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let cases: Vec<(NewImageReference, &str)> = vec![
        (
            NewImageReference {
                label: " ".to_owned(),
                ..reference("x", 1)
            },
            "label",
        ),
        (
            NewImageReference {
                label: "a\nb".to_owned(),
                ..reference("x", 1)
            },
            "control",
        ),
        (
            NewImageReference {
                file_sha256: "abc".to_owned(),
                ..reference("x", 1)
            },
            "sha256",
        ),
        (
            NewImageReference {
                hashes: vec![],
                ..reference("x", 1)
            },
            "hashes",
        ),
        (
            NewImageReference {
                hashes: vec![ReferenceHash {
                    variant: "original".to_owned(),
                    hash: "G".repeat(64),
                    quality: 1,
                }],
                ..reference("x", 1)
            },
            "hex",
        ),
        (
            NewImageReference {
                hashes: vec![ReferenceHash {
                    variant: "original".to_owned(),
                    hash: "0".repeat(64),
                    quality: 101,
                }],
                ..reference("x", 1)
            },
            "quality",
        ),
    ];
    for (bad, word) in cases {
        // A good one beside it: the whole write is refused.
        let result = ledger
            .add_image_references("clearance", vec![reference("ok", 9), bad])
            .await;
        match result {
            Err(StoreError::Invalid { message, .. }) => {
                ensure!(message.contains(word), "{message}")
            }
            other => anyhow::bail!("expected a refusal naming {word}, got {other:?}"),
        }
    }
    ensure!(
        ledger
            .image_references(None, None, 10)
            .await?
            .items
            .is_empty()
    );
    ensure!(ledger.audit_entries(None, 10).await?.is_empty());
    Ok(())
}

async fn an_edited_reference_hash_is_found(f: Arc<Fixture>) -> Story {
    let ledger = f.ledger();
    let added = ledger
        .add_image_references("clearance", vec![reference("Franchise A", 1)])
        .await?;
    let id = added.added[0].id.clone();
    let body = f
        .raw_text(&format!(
            "SELECT body FROM image_references WHERE id = '{id}'"
        ))
        .await;
    let edited = body.replace(&"07".repeat(32), &"00".repeat(32));
    ensure!(edited != body);
    f.raw_sql(&format!(
        "UPDATE image_references SET body = '{edited}' WHERE id = '{id}'"
    ))
    .await;
    let report = ledger.verify().await?;
    ensure!(
        report
            .problems
            .iter()
            .any(|p| matches!(p, Problem::RecordChanged { kind, .. } if kind == "image_reference")),
        "{report}"
    );
    Ok(())
}
