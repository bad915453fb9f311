//! The dashboard (`GET /`), per person: what waits for me (escalations to review, blocked
//! uses to fix, consents expiring within 30 days), per production the counts by outcome and
//! how long escalations have waited, the gate failures of recent scans, and two charts (uses
//! by outcome per week, uses by purpose). Every part shows only what the caller's roles let
//! them read, asked through the same `authorize` as the API: declarations
//! (`ReadDeclarations`), consents (`ReadConsents`) and scans (`ReadScans`), production by
//! production.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Datelike, TimeDelta};
use greenlight_core::Level;
use greenlight_store::{Action, ScanState, Timestamp};

use super::charts::{ACCENT, OUTCOMES, bars, stacked_columns};
use super::drafts::{DraftItem, my_drafts};
use super::review::{QueueItem, Row, changes_for_me, json_name, load_rows, waiting, when};
use super::{Chrome, MaybeWeb, WebError, page, productions_for, see_other};
use crate::AppState;

/// How far ahead the dashboard lists expiring consents.
const EXPIRING_WITHIN_DAYS: i64 = 30;
/// How far back "recent" scans go.
const RECENT_SCAN_DAYS: i64 = 30;
/// The most failed scans listed.
const MAX_FAILED_SCANS: usize = 10;
/// The weeks the outcome chart covers, this one included.
const WEEKS: i64 = 8;

/// One production's counts on the dashboard.
pub struct Counts {
    /// The production's id.
    pub id: String,
    /// The production's title.
    pub title: String,
    /// Declarations whose decision in force is notify.
    pub notify: usize,
    /// … escalate (approved or not).
    pub escalate: usize,
    /// … of those, approved and in force.
    pub approved: usize,
    /// … blocked.
    pub blocked: usize,
    /// Escalations not reviewed yet.
    pub waiting: usize,
    /// How long the oldest of those has waited (empty when none waits).
    pub oldest: String,
    /// The median wait.
    pub median: String,
}

/// A consent nearing its expiry.
pub struct ExpiringConsent {
    /// The performer's id (the consent is on the performer's page).
    pub performer_id: String,
    /// The performer's name.
    pub performer: String,
    /// The kind of use consented to.
    pub kind: String,
    /// The production's title.
    pub production: String,
    /// When it expires.
    pub expires: String,
    /// In how many days.
    pub days: i64,
}

/// A recent scan whose gate failed.
pub struct FailedScan {
    /// The scan's id.
    pub id: String,
    /// When it was recorded.
    pub when: String,
    /// The production's title.
    pub production: String,
    /// The files the gate stopped.
    pub flagged: u64,
    /// Who recorded it.
    pub recorded_by: String,
}

/// One week of the outcome chart, as its table shows it.
pub struct Week {
    /// The week's Monday.
    pub label: String,
    /// Uses that notify.
    pub notify: u64,
    /// … escalate.
    pub escalate: u64,
    /// … are blocked.
    pub blocked: u64,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    to_review: Vec<QueueItem>,
    to_fix: Vec<QueueItem>,
    /// No review, no blocked use and no expiring consent.
    nothing_waits: bool,
    /// `None` when the caller reads no production's consents.
    expiring: Option<Vec<ExpiringConsent>>,
    counts: Vec<Counts>,
    /// `None` when the caller reads no production's scans; else (recent scans, failed ones).
    scans: Option<(usize, Vec<FailedScan>)>,
    weeks: Vec<Week>,
    weeks_chart: String,
    weeks_summary: String,
    purposes: Vec<(String, u64)>,
    purposes_chart: String,
    purposes_summary: String,
    /// The caller's declarations whose reviewer asked for changes.
    changes: Vec<QueueItem>,
    /// The caller's drafts.
    drafts: Vec<DraftItem>,
}

/// A length of time, roughly: `40 min`, `5 h`, `3 days`.
pub fn span(delta: TimeDelta) -> String {
    let minutes = delta.num_minutes().max(0);
    match minutes {
        0..60 => format!("{minutes} min"),
        60..2880 => format!("{} h", minutes / 60),
        _ => format!("{} days", minutes / 1440),
    }
}

/// The oldest and the median of some waits (`None` for none).
pub fn oldest_and_median(mut waits: Vec<TimeDelta>) -> Option<(TimeDelta, TimeDelta)> {
    waits.sort();
    let oldest = *waits.last()?;
    let mid = waits.len() / 2;
    let median = if waits.len() % 2 == 1 {
        *waits.get(mid)?
    } else {
        let (a, b) = (*waits.get(mid - 1)?, *waits.get(mid)?);
        a + (b - a) / 2
    };
    Some((oldest, median))
}

/// The Monday of `at`'s week.
fn monday(at: Timestamp) -> chrono::NaiveDate {
    let date = at.as_datetime().date_naive();
    date - TimeDelta::days(i64::from(date.weekday().num_days_from_monday()))
}

/// The counts per production, with the escalations' waits.
fn counts(rows: &[Row], now: Timestamp) -> Vec<Counts> {
    let mut out: Vec<(Counts, Vec<TimeDelta>)> = Vec::new();
    for row in rows {
        let id = row.production.id.to_string();
        let index = match out.iter().position(|(c, _)| c.id == id) {
            Some(i) => i,
            None => {
                out.push((
                    Counts {
                        id,
                        title: row.production.title.clone(),
                        notify: 0,
                        escalate: 0,
                        approved: 0,
                        blocked: 0,
                        waiting: 0,
                        oldest: String::new(),
                        median: String::new(),
                    },
                    Vec::new(),
                ));
                out.len() - 1
            }
        };
        let Some((count, waits)) = out.get_mut(index) else {
            continue;
        };
        match row.level() {
            Some(Level::Notify) => count.notify += 1,
            Some(Level::Escalate) => {
                count.escalate += 1;
                if row.approved {
                    count.approved += 1;
                }
                if !row.reviewed
                    && let Some(decision) = &row.decision
                {
                    waits.push(now.as_datetime() - decision.decided_at.as_datetime());
                }
            }
            Some(Level::Blocked) => count.blocked += 1,
            None => {}
        }
    }
    out.into_iter()
        .map(|(mut count, waits)| {
            count.waiting = waits.len();
            if let Some((oldest, median)) = oldest_and_median(waits) {
                count.oldest = span(oldest);
                count.median = span(median);
            }
            count
        })
        .collect()
}

/// The weeks of the outcome chart, oldest first.
fn weeks(rows: &[Row], now: Timestamp) -> Vec<Week> {
    let this = monday(now);
    let mut out: Vec<(chrono::NaiveDate, Week)> = (0..WEEKS)
        .rev()
        .map(|back| {
            let start = this - TimeDelta::weeks(back);
            (
                start,
                Week {
                    label: start.format("%d %b").to_string(),
                    notify: 0,
                    escalate: 0,
                    blocked: 0,
                },
            )
        })
        .collect();
    for row in rows {
        let start = monday(row.declaration.submitted_at);
        let Some((_, week)) = out.iter_mut().find(|(s, _)| *s == start) else {
            continue;
        };
        match row.level() {
            Some(Level::Notify) => week.notify += 1,
            Some(Level::Escalate) => week.escalate += 1,
            Some(Level::Blocked) => week.blocked += 1,
            None => {}
        }
    }
    out.into_iter().map(|(_, w)| w).collect()
}

/// Uses by purpose, most first.
fn purposes(rows: &[Row]) -> Vec<(String, u64)> {
    let mut by: BTreeMap<String, u64> = BTreeMap::new();
    for row in rows {
        *by.entry(json_name(&row.declaration.declaration.purpose))
            .or_default() += 1;
    }
    let mut out: Vec<(String, u64)> = by.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

/// `GET /`: what waits for me, counts and waits per production, failed gates and charts.
pub async fn dashboard(
    State(state): State<AppState>,
    MaybeWeb(web): MaybeWeb,
) -> Result<Response, WebError> {
    let Some(web) = web else {
        return Ok(see_other("/sign-in"));
    };
    let ledger = state.ledger.get().await?;
    let now = ledger.now();
    let rows = load_rows(&state, &web, Action::ReadDeclarations).await?;
    let to_review = waiting(&rows, &web, None)
        .into_iter()
        .filter(|item| item.level == "escalate")
        .collect();
    let to_fix = rows
        .iter()
        .filter(|row| {
            row.level() == Some(Level::Blocked)
                && row.declaration.submitted_by == web.caller.login()
        })
        .map(QueueItem::from)
        .collect();

    let consent_productions = productions_for(&state, &web, Action::ReadConsents).await?;
    let expiring = if consent_productions.is_empty() {
        None
    } else {
        let mut list = Vec::new();
        for consent in ledger
            .expiring_consents(TimeDelta::days(EXPIRING_WITHIN_DAYS))
            .await?
        {
            let Some(production) = consent_productions
                .iter()
                .find(|p| p.id == consent.scope.production_id)
            else {
                continue;
            };
            let Some(end) = consent.expires_at else {
                continue;
            };
            let performer = ledger
                .performer(consent.performer_id)
                .await
                .map_or_else(|_| consent.performer_id.to_string(), |p| p.name);
            list.push(ExpiringConsent {
                performer_id: consent.performer_id.to_string(),
                performer,
                kind: consent.kind.as_str().replace('_', " "),
                production: production.title.clone(),
                expires: when(end),
                days: (end.as_datetime() - now.as_datetime()).num_days(),
            });
        }
        Some(list)
    };

    let to_review: Vec<QueueItem> = to_review;
    let to_fix: Vec<QueueItem> = to_fix;
    let changes = changes_for_me(&rows, &web);
    let drafts = my_drafts(&state, &web).await?;
    let nothing_waits = to_review.is_empty()
        && to_fix.is_empty()
        && changes.is_empty()
        && drafts.is_empty()
        && expiring.as_ref().is_none_or(Vec::is_empty);

    let scan_productions = productions_for(&state, &web, Action::ReadScans).await?;
    let scans = if scan_productions.is_empty() {
        None
    } else {
        let since = now.plus(TimeDelta::days(-RECENT_SCAN_DAYS));
        let mut recent = 0;
        let mut failed: Vec<(Timestamp, FailedScan)> = Vec::new();
        for production in &scan_productions {
            let mut after: Option<String> = None;
            loop {
                let page = ledger.scans(production.id, after.as_deref(), 1_000).await?;
                for scan in page.items {
                    if scan.recorded_at < since {
                        continue;
                    }
                    recent += 1;
                    if scan.state == ScanState::Complete && !scan.passed {
                        let c = &scan.counts;
                        failed.push((
                            scan.recorded_at,
                            FailedScan {
                                id: scan.id.to_string(),
                                when: when(scan.recorded_at),
                                production: production.title.clone(),
                                flagged: c.unapproved + c.approval_expired + c.error,
                                recorded_by: scan.recorded_by.clone(),
                            },
                        ));
                    }
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
        failed.sort_by_key(|f| std::cmp::Reverse(f.0));
        failed.truncate(MAX_FAILED_SCANS);
        Some((recent, failed.into_iter().map(|(_, f)| f).collect()))
    };

    let weeks = weeks(&rows, now);
    let columns: Vec<(String, Vec<u64>)> = weeks
        .iter()
        .map(|w| (w.label.clone(), vec![w.notify, w.escalate, w.blocked]))
        .collect();
    let total: u64 = weeks
        .iter()
        .map(|w| w.notify + w.escalate + w.blocked)
        .sum();
    let weeks_summary = if total == 0 {
        format!("No use was declared in the last {WEEKS} weeks.")
    } else {
        let sum = |f: fn(&Week) -> u64| weeks.iter().map(f).sum::<u64>();
        format!(
            "{total} use(s) declared in the last {WEEKS} weeks: {} notify, {} escalate, {} blocked.",
            sum(|w| w.notify),
            sum(|w| w.escalate),
            sum(|w| w.blocked)
        )
    };
    let weeks_chart = stacked_columns(
        "chart-weeks",
        "Uses by outcome per week",
        &weeks_summary,
        &OUTCOMES,
        &columns,
    );
    let purposes = purposes(&rows);
    let purposes_summary = match purposes.first() {
        None => "No use is declared yet.".to_owned(),
        Some((name, count)) => format!(
            "{} use(s) over {} purpose(s); the most: {name} ({count}).",
            purposes.iter().map(|(_, c)| c).sum::<u64>(),
            purposes.len()
        ),
    };
    let purposes_chart = bars(
        "chart-purposes",
        "Uses by purpose",
        &purposes_summary,
        ACCENT,
        &purposes,
    );
    page(
        StatusCode::OK,
        &DashboardPage {
            chrome: web.chrome("Dashboard", "/"),
            to_review,
            to_fix,
            nothing_waits,
            expiring,
            counts: counts(&rows, now),
            scans,
            weeks,
            weeks_chart,
            weeks_summary,
            purposes,
            purposes_chart,
            purposes_summary,
            changes,
            drafts,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_have_an_oldest_and_a_median() {
        let h = TimeDelta::hours;
        assert_eq!(oldest_and_median(vec![]), None);
        assert_eq!(oldest_and_median(vec![h(3)]), Some((h(3), h(3))));
        assert_eq!(
            oldest_and_median(vec![h(5), h(1), h(3)]),
            Some((h(5), h(3)))
        );
        assert_eq!(oldest_and_median(vec![h(4), h(2)]), Some((h(4), h(3))));
        assert_eq!(span(TimeDelta::minutes(5)), "5 min");
        assert_eq!(span(h(30)), "30 h");
        assert_eq!(span(TimeDelta::days(4)), "4 days");
    }
}
