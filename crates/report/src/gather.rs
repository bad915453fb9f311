//! Gathering a production's report from the ledger: every read is a
//! [`Ledger`] call, paged by key; nothing is written.

use std::collections::BTreeMap;

use greenlight_core::{Level, Medium};
use greenlight_store::{
    Approval, AssetScope, ConsentStatus, Ledger, MAX_PAGE, Production, ProductionId, ScanState,
    Store, StoreError, Verdict, consent_for,
};

use crate::disclose::{self, UseFacts};
use crate::model::{
    ApprovalRow, AuditStatus, ConsentRow, Count, EscalationRow, Gate, ProductionInfo, Report,
    SCHEMA, ScanRow, Summary, Use,
};
use crate::names::name;

/// The most audit problems a report lists (the count is always given).
const MAX_PROBLEMS: usize = 20;

/// Gathers the report on `production` as the ledger stands now, made by `by`.
///
/// The report's id is fresh (a UUID v7); its time is the ledger's clock.
pub async fn gather<S: Store + ?Sized>(
    ledger: &Ledger<S>,
    production: ProductionId,
    by: &str,
) -> Result<Report, StoreError> {
    let production: Production = ledger.production(production).await?;
    let now = ledger.now();
    let mut uses = Vec::new();
    let mut approvals = Vec::new();
    let mut escalations = Vec::new();
    // Triaged declarations, kept for the disclosures: (id, title, declaration, level, rejected).
    let mut triaged = Vec::new();
    // Performer id -> declarations relying on each of its consents (consent id -> titles).
    let mut relied: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    let mut in_force_total = 0u64;

    let mut after: Option<String> = None;
    loop {
        let page = ledger
            .declarations(production.id, after.as_deref(), MAX_PAGE)
            .await?;
        for stored in page.items {
            let id = stored.id;
            let current = match ledger.current_decision(id).await {
                Ok(decision) => Some(decision),
                Err(StoreError::NotFound { .. }) => None,
                Err(other) => return Err(other),
            };
            let all_approvals: Vec<Approval> = ledger.approvals(id).await?;
            let in_force: Vec<Approval> = ledger.approvals_in_force(id).await?;
            in_force_total += in_force.len() as u64;
            let title = stored.declaration.title.clone();
            let level = current.as_ref().map(|d| d.level());
            let on_current: Vec<&Approval> = all_approvals
                .iter()
                .filter(|a| current.as_ref().is_some_and(|d| d.id == a.decision_id))
                .collect();
            let rejected = on_current
                .last()
                .is_some_and(|a| a.verdict == Verdict::Rejected);
            let expired = on_current.iter().any(|a| {
                a.verdict == Verdict::Approved && a.expires_at.is_some_and(|end| end <= now)
            });
            let standing = match level {
                None => "undecided",
                Some(Level::Blocked) => "blocked",
                Some(_) if rejected => "rejected",
                Some(_) if !in_force.is_empty() => "approved",
                Some(Level::Escalate) if expired => "approval expired",
                Some(Level::Escalate) => "awaiting review",
                Some(Level::Notify) => "notify",
            };
            for a in &all_approvals {
                approvals.push(ApprovalRow {
                    approval_id: a.id.to_string(),
                    declaration_id: id.to_string(),
                    title: title.clone(),
                    declaration_version: a.declaration_version,
                    verdict: name(&a.verdict),
                    reviewer: a.reviewer.clone(),
                    conditions: a.conditions.clone(),
                    scope: a
                        .scope
                        .iter()
                        .map(|s| match s {
                            AssetScope::Glob(g) => format!("glob:{g}"),
                            AssetScope::Sha256(h) => format!("sha256:{h}"),
                        })
                        .collect(),
                    expires_at: a.expires_at.map(|t| t.to_string()),
                    in_force: in_force.iter().any(|f| f.id == a.id),
                    decided_at: a.decided_at.to_string(),
                    note: a.note.clone(),
                });
            }
            if let Some(decision) = &current {
                if standing == "awaiting review" || standing == "approval expired" {
                    let age = now.as_datetime() - decision.decided_at.as_datetime();
                    escalations.push(EscalationRow {
                        declaration_id: id.to_string(),
                        title: title.clone(),
                        decided_at: decision.decided_at.to_string(),
                        age_hours: u64::try_from(age.num_hours()).unwrap_or(0),
                        rules: decision
                            .decision
                            .findings
                            .iter()
                            .filter(|f| f.level == Level::Escalate)
                            .map(|f| f.rule.clone())
                            .collect(),
                    });
                }
                let seen = decision.triaged(&stored.declaration);
                for pid in &decision.performers {
                    let consents = ledger.consents(*pid).await?;
                    let entry = relied.entry(pid.to_string()).or_default();
                    for performer in seen
                        .performers
                        .iter()
                        .filter(|p| p.id.as_deref() == Some(pid.to_string().as_str()))
                    {
                        if let (_, Some(consent)) =
                            consent_for(&consents, production.id, performer, &seen.media, now)
                        {
                            entry
                                .entry(consent.id.to_string())
                                .or_default()
                                .push(title.clone());
                        }
                    }
                }
            }
            let policy = current
                .as_ref()
                .map(|d| {
                    let p = &d.decision.policy;
                    // The layers end with the stack's top pack; a single pack has none.
                    let top = p
                        .layers
                        .last()
                        .is_none_or(|l| l.id != p.id || l.version != p.version)
                        .then(|| format!("{}@{}", p.id, p.version));
                    p.layers
                        .iter()
                        .map(|l| format!("{}@{}", l.id, l.version))
                        .chain(top)
                        .collect()
                })
                .unwrap_or_default();
            let d = &stored.declaration;
            uses.push(Use {
                declaration_id: id.to_string(),
                version: stored.version,
                title: title.clone(),
                purpose: name(&d.purpose),
                stage: name(&d.stage),
                media: d.media.iter().map(name::<Medium>).collect(),
                tools: disclose::tools(d),
                final_deliverable: name(&d.output.final_deliverable),
                level: level.map_or_else(|| "none".to_owned(), |l| l.as_str().to_owned()),
                standing: standing.to_owned(),
                decision_id: current.as_ref().map(|c| c.id.to_string()),
                decided_at: current.as_ref().map(|c| c.decided_at.to_string()),
                policy,
                rules: current
                    .as_ref()
                    .map(|c| c.decision.findings.iter().map(|f| f.rule.clone()).collect())
                    .unwrap_or_default(),
                blocks: current
                    .as_ref()
                    .map(|c| c.blocks.iter().map(|b| b.reason.clone()).collect())
                    .unwrap_or_default(),
                submitted_by: stored.submitted_by.clone(),
                submitted_at: stored.submitted_at.to_string(),
            });
            let seen = current.as_ref().map_or_else(
                || stored.declaration.clone(),
                |c| c.triaged(&stored.declaration).clone(),
            );
            triaged.push((id.to_string(), title, seen, level, rejected));
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }

    // The consents of every registered performer the decisions name, for this production.
    let mut consents = Vec::new();
    for (pid, by_consent) in &relied {
        let Ok(performer_id) = pid.parse() else {
            continue;
        };
        let performer = ledger.performer(performer_id).await?;
        for c in ledger.consents(performer_id).await? {
            if c.scope.production_id != production.id {
                continue;
            }
            consents.push(ConsentRow {
                consent_id: c.id.to_string(),
                performer_id: pid.clone(),
                performer: performer.name.clone(),
                kind: c.kind.as_str().to_owned(),
                media: c.scope.media.iter().map(name::<Medium>).collect(),
                description: c.scope.description.clone(),
                given_by: c.given_by.clone(),
                status: name(&c.status),
                expires_at: c.expires_at.map(|t| t.to_string()),
                in_force: c.status == ConsentStatus::Documented && c.in_force(now),
                relied_on_by: by_consent
                    .get(&c.id.to_string())
                    .cloned()
                    .unwrap_or_default(),
            });
        }
    }

    let mut scans = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = ledger
            .scans(production.id, after.as_deref(), MAX_PAGE)
            .await?;
        for s in page.items {
            let c = &s.counts;
            scans.push(ScanRow {
                scan_id: s.id.to_string(),
                recorded_at: s.recorded_at.to_string(),
                recorded_by: s.recorded_by.clone(),
                state: s.state.as_str().to_owned(),
                gate: match (s.state, s.passed) {
                    (ScanState::InProgress, _) => "unfinished",
                    (ScanState::Complete, true) => "passed",
                    (ScanState::Complete, false) => "failed",
                }
                .to_owned(),
                strict: s.scan.strict,
                files: c.files,
                flagged: c.ai_generated + c.ai_edited + c.ai_possible,
                approved: c.approved,
                unapproved: c.unapproved,
                approval_expired: c.approval_expired,
                roots: s.scan.roots.clone(),
            });
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    // Scans are listed by id (UUID v7, so in time order); the gate is the latest complete one.
    let gate = scans
        .iter()
        .rev()
        .find(|s| s.state == ScanState::Complete.as_str())
        .map_or(
            Gate {
                result: "no scan".to_owned(),
                scan_id: None,
            },
            |s| Gate {
                result: s.gate.clone(),
                scan_id: Some(s.scan_id.clone()),
            },
        );

    let verified = ledger.verify().await?;
    let head = match i64::try_from(verified.entries) {
        Ok(n) if n > 0 => ledger
            .audit_entries(Some(n - 1), 1)
            .await?
            .into_iter()
            .last(),
        _ => None,
    };
    let audit = AuditStatus {
        ok: verified.is_ok(),
        entries: verified.entries,
        checkpoints: verified.checkpoints,
        records: verified.records,
        problems: verified
            .problems
            .iter()
            .take(MAX_PROBLEMS)
            .map(ToString::to_string)
            .collect(),
        head_seq: head.as_ref().map(|e| e.seq),
        head_hash: head.map(|e| e.hash),
    };

    let facts: Vec<UseFacts<'_>> = triaged
        .iter()
        .map(|(id, title, d, level, rejected)| UseFacts {
            declaration_id: id.clone(),
            title: title.clone(),
            declaration: d,
            level: *level,
            rejected: *rejected,
        })
        .collect();
    let disclosures = disclose::disclosures(production.kind, &production.overlays, &facts);

    escalations.sort_by_key(|e| std::cmp::Reverse(e.age_hours));
    let summary = summarise(&uses, &escalations, in_force_total, scans.len() as u64);
    Ok(Report {
        schema: SCHEMA.to_owned(),
        report_id: uuid::Uuid::now_v7().to_string(),
        generated_at: now.to_string(),
        generated_by: by.to_owned(),
        production: ProductionInfo {
            id: production.id.to_string(),
            title: production.title.clone(),
            kind: name(&production.kind),
            overlays: production.overlays.clone(),
            studio_contact: production.studio_contact.name.clone(),
        },
        summary,
        uses,
        approvals,
        consents,
        escalations,
        scans,
        gate,
        audit,
        disclosures,
    })
}

/// The age buckets of open escalations, in hours: (label, upper bound).
const AGE_BUCKETS: [(&str, u64); 4] = [
    ("< 1 day", 24),
    ("1-7 days", 24 * 7),
    ("7-30 days", 24 * 30),
    ("> 30 days", u64::MAX),
];

fn summarise(uses: &[Use], escalations: &[EscalationRow], in_force: u64, scans: u64) -> Summary {
    let by_outcome = Level::ALL
        .iter()
        .map(|l| Count {
            label: l.as_str().to_owned(),
            count: uses.iter().filter(|u| u.level == l.as_str()).count() as u64,
        })
        .collect();
    let mut purposes: BTreeMap<&str, u64> = BTreeMap::new();
    for u in uses {
        *purposes.entry(u.purpose.as_str()).or_default() += 1;
    }
    let mut by_purpose: Vec<Count> = purposes
        .into_iter()
        .map(|(label, count)| Count {
            label: label.to_owned(),
            count,
        })
        .collect();
    by_purpose.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.label.cmp(&b.label)));
    let mut lower = 0u64;
    let escalations_by_age = AGE_BUCKETS
        .iter()
        .map(|(label, upper)| {
            let count = escalations
                .iter()
                .filter(|e| e.age_hours >= lower && e.age_hours < *upper)
                .count() as u64;
            lower = *upper;
            Count {
                label: (*label).to_owned(),
                count,
            }
        })
        .collect();
    Summary {
        uses: uses.len() as u64,
        by_outcome,
        by_purpose,
        escalations_by_age,
        approvals_in_force: in_force,
        scans,
    }
}
