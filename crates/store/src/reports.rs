//! Reports handed over: each report a production makes is recorded by the
//! sha256 of its bytes, with the production, the report's own id, its format,
//! when it was made and by whom, and the audit log's head at that time, in an
//! audited write. A report handed over later is checked by hashing it and
//! looking the digest up ([`Ledger::report_by_sha256`]).
//! Rendering is `greenlight-report`'s job: this module only checks and stores.

use serde::{Deserialize, Serialize};

use crate::backend::{Kind, Store};
use crate::error::{Result, Rule, StoreError};
use crate::ids::ProductionId;
use crate::ledger::Ledger;
use crate::records::{Page, Production, Record};
use crate::time::Timestamp;

/// The formats a report is rendered in, as their names are recorded.
pub const REPORT_FORMATS: [&str; 4] = ["json", "csv", "html", "pdf"];

/// A report recorded in the ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportRecord {
    /// The sha256 of the report's bytes, 64 lowercase hex digits: its key.
    pub sha256: String,
    /// The report's own id, printed in the report.
    pub report_id: String,
    /// The production it reports on.
    pub production_id: ProductionId,
    /// `json`, `csv`, `html` or `pdf`.
    pub format: String,
    /// Its length in bytes.
    pub bytes: u64,
    /// When its content was gathered (the time printed in it).
    pub generated_at: Timestamp,
    /// The audit log's head entry when it was gathered (`seq`), if the log had one.
    pub audit_head_seq: Option<i64>,
    /// That entry's hash.
    pub audit_head_hash: Option<String>,
    /// When it was recorded.
    pub recorded_at: Timestamp,
    /// Who made it.
    pub recorded_by: String,
}

impl Record for ReportRecord {
    const KIND: Kind = Kind::Report;
    fn key(&self) -> String {
        self.sha256.clone()
    }
    fn parent(&self) -> Option<String> {
        Some(self.production_id.to_string())
    }
}

/// A rendered report to record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewReport {
    /// The sha256 of its bytes.
    pub sha256: String,
    /// The report's own id.
    pub report_id: String,
    /// The production.
    pub production_id: ProductionId,
    /// Its format (one of [`REPORT_FORMATS`]).
    pub format: String,
    /// Its length in bytes.
    pub bytes: u64,
    /// When its content was gathered.
    pub generated_at: Timestamp,
    /// The audit log's head entry then.
    pub audit_head_seq: Option<i64>,
    /// That entry's hash.
    pub audit_head_hash: Option<String>,
}

fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn check(new: &NewReport) -> Result<()> {
    let bad = |message: String| Err(StoreError::invalid(Rule::BadInput, message));
    if !is_hex(&new.sha256, 64) {
        return bad(format!(
            "`{}` is not a sha256 (64 lowercase hex digits)",
            new.sha256.chars().take(80).collect::<String>()
        ));
    }
    if new.report_id.is_empty()
        || new.report_id.len() > 100
        || new
            .report_id
            .chars()
            .any(|c| c.is_control() || c.is_whitespace())
    {
        return bad("a report id is 1 to 100 printable characters".to_owned());
    }
    if !REPORT_FORMATS.contains(&new.format.as_str()) {
        return bad(format!(
            "`{}` is not a report format (json, csv, html or pdf)",
            new.format.chars().take(40).collect::<String>()
        ));
    }
    match (&new.audit_head_seq, &new.audit_head_hash) {
        (None, None) => {}
        (Some(seq), Some(hash)) if *seq >= 1 && is_hex(hash, 64) => {}
        _ => {
            return bad(
                "the audit head is a positive entry number with its 64-digit hash, or absent"
                    .to_owned(),
            );
        }
    }
    Ok(())
}

impl<S: Store + ?Sized> Ledger<S> {
    /// Records a rendered report under the sha256 of its bytes, audited. The
    /// same bytes recorded again keep their first record (which is returned).
    pub async fn record_report(&self, actor: &str, new: NewReport) -> Result<ReportRecord> {
        check(&new)?;
        let mut w = self.begin(actor).await?;
        let _: Production = w.must(new.production_id).await?;
        if let Some(old) = w.load::<ReportRecord>(&new.sha256).await? {
            return Ok(old);
        }
        let record = ReportRecord {
            sha256: new.sha256,
            report_id: new.report_id,
            production_id: new.production_id,
            format: new.format,
            bytes: new.bytes,
            generated_at: new.generated_at,
            audit_head_seq: new.audit_head_seq,
            audit_head_hash: new.audit_head_hash,
            recorded_at: w.at,
            recorded_by: w.actor.clone(),
        };
        w.save(&record).await?;
        w.commit(self.audit_key()).await?;
        Ok(record)
    }

    /// The report recorded under `sha256`, if any. A malformed digest is refused.
    pub async fn report_by_sha256(&self, sha256: &str) -> Result<Option<ReportRecord>> {
        if !is_hex(sha256, 64) {
            return Err(StoreError::invalid(
                Rule::BadInput,
                "a report is looked up by its sha256 (64 lowercase hex digits)",
            ));
        }
        match self.get::<ReportRecord>(sha256).await {
            Ok(record) => Ok(Some(record)),
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// A page of a production's recorded reports, in digest order.
    pub async fn reports(
        &self,
        production: ProductionId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<ReportRecord>> {
        self.page_of(Some(&production.to_string()), after, limit)
            .await
    }
}
