//! A production's report: what it declared and how each use stands, what it
//! must disclose, and whether its ledger holds, in the four formats a
//! production hands over.
//!
//! This crate's single job is the report. [`gather`] reads everything from a
//! [`greenlight_store::Ledger`] (every declared use with its current decision,
//! the approvals with conditions, scope and expiry, the consents relied on, the
//! open escalations and their age, the delivery scans and the gate's result,
//! the audit log's verification with the head entry's hash) and computes the
//! disclosures owed from the uses and the production's overlays
//! ([`disclose::disclosures`], pure). [`render`] writes a [`Report`] as:
//!
//! | format | what | shape |
//! |---|---|---|
//! | `json` | one JSON document | [`Report`], `schema` = [`SCHEMA`]; fields are added, never renamed |
//! | `csv` | a zip archive of one CSV per table | [`CSV_TABLES`], each with a header row |
//! | `html` | one self-contained page | inline CSS and SVG charts, print CSS, no scripts or links out |
//! | `pdf` | A4, DejaVu Sans embedded | page numbers, tables that break across pages with their header repeated, vector charts |
//!
//! A rendered report is recorded in the ledger by its sha256
//! ([`greenlight_store::Ledger::record_report`]); nothing here writes.
//!
//! ```no_run
//! # async fn doc(ledger: &greenlight_store::Ledger<dyn greenlight_store::Store>,
//! #              production: greenlight_store::ProductionId) -> Result<(), Box<dyn std::error::Error>> {
//! let report = greenlight_report::gather(ledger, production, "ana").await?;
//! let pdf = greenlight_report::render(&report, greenlight_report::Format::Pdf)?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod chart;
mod csv_zip;
pub mod disclose;
mod gather;
mod html;
mod model;
mod names;
mod pdf;

use std::fmt;
use std::str::FromStr;

pub use csv_zip::CSV_TABLES;
pub use gather::gather;
pub use model::{
    ApprovalRow, AuditStatus, ConsentRow, Count, Disclosure, DisclosureItem, EscalationRow, Gate,
    ProductionInfo, Report, SCHEMA, ScanRow, Summary, Use,
};

/// A report's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// One JSON document.
    Json,
    /// A zip archive of one CSV file per table.
    Csv,
    /// One self-contained HTML page.
    Html,
    /// A PDF document.
    Pdf,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 4] = [Format::Json, Format::Csv, Format::Html, Format::Pdf];

    /// The format's name (`json`, `csv`, `html`, `pdf`), as recorded in the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Html => "html",
            Format::Pdf => "pdf",
        }
    }

    /// The file name extension a report in this format gets.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "zip",
            Format::Html => "html",
            Format::Pdf => "pdf",
        }
    }

    /// The media type served.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "application/zip",
            Format::Html => "text/html; charset=utf-8",
            Format::Pdf => "application/pdf",
        }
    }

    /// Binary formats are not for a terminal.
    pub fn is_binary(self) -> bool {
        matches!(self, Format::Csv | Format::Pdf)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == text)
            .ok_or_else(|| Error::UnknownFormat(text.chars().take(40).collect()))
    }
}

/// A report could not be rendered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A format name that is not one of the four.
    #[error("`{0}` is not a report format (json, csv, html or pdf)")]
    UnknownFormat(String),
    /// The JSON could not be written.
    #[error("cannot write the report as JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The CSV archive could not be written.
    #[error("cannot write the report's CSV archive: {0}")]
    Csv(String),
    /// The PDF could not be written.
    #[error("cannot write the report as PDF: {0}")]
    Pdf(String),
}

/// Renders a report in `format`.
pub fn render(report: &Report, format: Format) -> Result<Vec<u8>, Error> {
    match format {
        Format::Json => {
            let mut out = serde_json::to_vec_pretty(report)?;
            out.push(b'\n');
            Ok(out)
        }
        Format::Csv => csv_zip::render(report),
        Format::Html => Ok(html::render(report).into_bytes()),
        Format::Pdf => pdf::render(report),
    }
}

/// The sha256 of a rendered report, in lowercase hex: what the ledger records.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A table of the report: its name, header and rows of text (shared by CSV, HTML and PDF).
pub(crate) struct Table {
    pub name: &'static str,
    pub title: &'static str,
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// A table as a page shows it: the columns every row shares, as (header, value), then the
/// header and the rows of the rest.
pub(crate) type Hoisted = (
    Vec<(&'static str, String)>,
    Vec<&'static str>,
    Vec<Vec<String>>,
);

impl Table {
    /// The table as a page shows it: a column of long text (24 characters or more) with one
    /// and the same value in every one of several rows is taken out and given once, as
    /// (header, value), above the table (the policy stack every use was triaged with, say).
    /// Short values stay in their columns; CSV and JSON keep every column.
    pub(crate) fn hoisted(&self) -> Hoisted {
        let same = |i: usize| -> Option<&String> {
            let first = self.rows.first()?.get(i)?;
            (self.rows.len() > 1
                && first.chars().count() >= 24
                && self.rows.iter().all(|r| r.get(i) == Some(first)))
            .then_some(first)
        };
        let mut common = Vec::new();
        let mut kept = Vec::new();
        for (i, head) in self.header.iter().enumerate() {
            match same(i) {
                Some(value) => common.push((*head, value.clone())),
                None => kept.push(i),
            }
        }
        let header = kept
            .iter()
            .filter_map(|&i| self.header.get(i).copied())
            .collect();
        let rows = self
            .rows
            .iter()
            .map(|r| kept.iter().filter_map(|&i| r.get(i).cloned()).collect())
            .collect();
        (common, header, rows)
    }
}

fn list(items: &[String]) -> String {
    items.join("; ")
}

fn opt(value: Option<&String>) -> String {
    value.cloned().unwrap_or_default()
}

/// Every table of a report, in order.
pub(crate) fn tables(r: &Report) -> Vec<Table> {
    vec![
        Table {
            name: "uses",
            title: "Declared uses and their decisions",
            header: vec![
                "declaration",
                "version",
                "title",
                "purpose",
                "stage",
                "media",
                "tools",
                "final deliverable",
                "level",
                "standing",
                "decided at",
                "policy",
                "rules",
                "blocks",
            ],
            rows: r
                .uses
                .iter()
                .map(|u| {
                    vec![
                        u.declaration_id.clone(),
                        u.version.to_string(),
                        u.title.clone(),
                        u.purpose.clone(),
                        u.stage.clone(),
                        list(&u.media),
                        list(&u.tools),
                        u.final_deliverable.clone(),
                        u.level.clone(),
                        u.standing.clone(),
                        opt(u.decided_at.as_ref()),
                        list(&u.policy),
                        list(&u.rules),
                        list(&u.blocks),
                    ]
                })
                .collect(),
        },
        Table {
            name: "approvals",
            title: "Approvals and rejections",
            header: vec![
                "approval",
                "declaration",
                "title",
                "version",
                "verdict",
                "reviewer",
                "conditions",
                "scope",
                "expires at",
                "in force",
                "decided at",
                "note",
            ],
            rows: r
                .approvals
                .iter()
                .map(|a| {
                    vec![
                        a.approval_id.clone(),
                        a.declaration_id.clone(),
                        a.title.clone(),
                        a.declaration_version.to_string(),
                        a.verdict.clone(),
                        a.reviewer.clone(),
                        list(&a.conditions),
                        list(&a.scope),
                        opt(a.expires_at.as_ref()),
                        yes_no(a.in_force),
                        a.decided_at.clone(),
                        a.note.clone(),
                    ]
                })
                .collect(),
        },
        Table {
            name: "consents",
            title: "Consents relied on",
            header: vec![
                "consent",
                "performer",
                "kind",
                "media",
                "description",
                "given by",
                "status",
                "expires at",
                "in force",
                "relied on by",
            ],
            rows: r
                .consents
                .iter()
                .map(|c| {
                    vec![
                        c.consent_id.clone(),
                        c.performer.clone(),
                        c.kind.clone(),
                        list(&c.media),
                        c.description.clone(),
                        c.given_by.clone(),
                        c.status.clone(),
                        opt(c.expires_at.as_ref()),
                        yes_no(c.in_force),
                        list(&c.relied_on_by),
                    ]
                })
                .collect(),
        },
        Table {
            name: "escalations",
            title: "Open escalations",
            header: vec!["declaration", "title", "decided at", "age", "rules"],
            rows: r
                .escalations
                .iter()
                .map(|e| {
                    vec![
                        e.declaration_id.clone(),
                        e.title.clone(),
                        e.decided_at.clone(),
                        age(e.age_hours),
                        list(&e.rules),
                    ]
                })
                .collect(),
        },
        Table {
            name: "scans",
            title: "Delivery scans",
            header: vec![
                "scan",
                "recorded at",
                "recorded by",
                "state",
                "gate",
                "strict",
                "files",
                "flagged",
                "approved",
                "unapproved",
                "approval expired",
                "roots",
            ],
            rows: r
                .scans
                .iter()
                .map(|s| {
                    vec![
                        s.scan_id.clone(),
                        s.recorded_at.clone(),
                        s.recorded_by.clone(),
                        s.state.clone(),
                        s.gate.clone(),
                        yes_no(s.strict),
                        s.files.to_string(),
                        s.flagged.to_string(),
                        s.approved.to_string(),
                        s.unapproved.to_string(),
                        s.approval_expired.to_string(),
                        list(&s.roots),
                    ]
                })
                .collect(),
        },
        Table {
            name: "disclosures",
            title: "Disclosures owed",
            header: vec![
                "disclosure",
                "overlay",
                "cites",
                "text",
                "placement",
                "declaration",
                "title",
                "material",
                "tools",
                "human contribution",
            ],
            rows: r
                .disclosures
                .iter()
                .flat_map(|d| {
                    d.items.iter().map(move |i| {
                        vec![
                            d.kind.clone(),
                            opt(d.overlay.as_ref()),
                            list(&d.cites),
                            d.text.clone(),
                            d.placement.clone(),
                            i.declaration_id.clone(),
                            i.title.clone(),
                            i.material.clone(),
                            list(&i.tools),
                            i.human_contribution.clone(),
                        ]
                    })
                })
                .collect(),
        },
    ]
}

fn yes_no(value: bool) -> String {
    if value { "yes" } else { "no" }.to_owned()
}

/// An age in hours as `3 d 4 h`.
pub(crate) fn age(hours: u64) -> String {
    match (hours / 24, hours % 24) {
        (0, h) => format!("{h} h"),
        (d, h) => format!("{d} d {h} h"),
    }
}

/// The report's facts in key/value lines (the header block of HTML and PDF, and
/// `report.csv`).
pub(crate) fn facts(r: &Report) -> Vec<(&'static str, String)> {
    let a = &r.audit;
    vec![
        (
            "Production",
            format!("{} ({})", r.production.title, r.production.id),
        ),
        ("Kind", r.production.kind.clone()),
        (
            "Overlays",
            if r.production.overlays.is_empty() {
                "none".to_owned()
            } else {
                r.production.overlays.join(", ")
            },
        ),
        ("Report", r.report_id.clone()),
        (
            "Generated",
            format!("{} by {}", r.generated_at, r.generated_by),
        ),
        ("Declared uses", r.summary.uses.to_string()),
        (
            "Approvals in force",
            r.summary.approvals_in_force.to_string(),
        ),
        ("Open escalations", r.escalations.len().to_string()),
        (
            "Delivery gate",
            match &r.gate.scan_id {
                Some(scan) => format!("{} (scan {scan})", r.gate.result),
                None => r.gate.result.clone(),
            },
        ),
        (
            "Audit log",
            if a.ok {
                format!(
                    "verified: {} entries, {} signed checkpoints, {} records match",
                    a.entries, a.checkpoints, a.records
                )
            } else {
                format!("NOT VERIFIED: {} problem(s)", a.problems.len())
            },
        ),
        (
            "Audit head",
            match (&a.head_seq, &a.head_hash) {
                (Some(seq), Some(hash)) => format!("entry {seq}, sha256 {hash}"),
                _ => "no entries".to_owned(),
            },
        ),
    ]
}
