//! What the ledger verbs share: argument parsers, looking records up by id
//! or title, and plain text rendering (aligned tables, labelled fields).

use std::io::Write;

use anstream::AutoStream;
use anyhow::bail;
use chrono::{NaiveDate, TimeZone as _, Utc};
use clap::Args;
use greenlight_store::{
    Kind, Ledger, MAX_PAGE, Production, ProductionId, Store, StoreError, Timestamp,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Format;

/// `--format`, for every ledger verb.
#[derive(Clone, Copy, Debug, Args)]
pub struct Output {
    /// Output format: text for people, json for programs (one object per line).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

impl Output {
    pub fn json(&self) -> bool {
        self.format == Format::Json
    }
}

/// The standard output, with colour only on a terminal.
pub fn stdout() -> AutoStream<std::io::StdoutLock<'static>> {
    AutoStream::auto(std::io::stdout().lock())
}

/// Writes one JSON value on one line.
pub fn json_line(out: &mut impl Write, value: &impl Serialize) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Parses one of a closed set of snake_case names (`scripted`, `de_aging`, …),
/// naming the accepted ones when the text is not one of them.
pub fn parse_name<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(text.trim().to_owned()))
        .map_err(|e| e.to_string())
}

/// The snake_case name of an enum value, as stored.
pub fn name_of(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// Parses a record id (a UUID), with the ledger's message when it is not one.
pub fn parse_id<T: std::str::FromStr<Err = StoreError>>(text: &str) -> Result<T, String> {
    text.trim().parse().map_err(|e| match e {
        StoreError::Invalid { message, .. } => message,
        other => other.to_string(),
    })
}

/// Parses a time: an RFC 3339 instant, or a date (the start of that day, UTC).
pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let midnight = date.and_hms_opt(0, 0, 0).map(|t| Utc.from_utc_datetime(&t));
        return midnight
            .map(Timestamp::from_datetime)
            .ok_or_else(|| format!("`{text}` is not a date"));
    }
    text.parse::<Timestamp>().map_err(|_| {
        format!("`{text}` is not a date (2027-06-30) or a time (2027-06-30T18:00:00Z)")
    })
}

/// A production by id, or by its exact title.
pub async fn production(ledger: &Ledger<dyn Store>, text: &str) -> anyhow::Result<Production> {
    if let Ok(id) = text.parse::<ProductionId>() {
        return Ok(ledger.production(id).await?);
    }
    let all = all_productions(ledger).await?;
    let mut matches: Vec<Production> = all.into_iter().filter(|p| p.title == text).collect();
    match matches.len() {
        0 => bail!(
            "no production is titled `{text}` (`greenlight production list` shows them; \
             `greenlight production create` makes one)"
        ),
        1 => Ok(matches.remove(0)),
        _ => {
            let ids: Vec<String> = matches.iter().map(|p| p.id.to_string()).collect();
            bail!(
                "several productions are titled `{text}`: name one by its id ({})",
                ids.join(", ")
            )
        }
    }
}

/// Every production, in creation order.
pub async fn all_productions(ledger: &Ledger<dyn Store>) -> anyhow::Result<Vec<Production>> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = ledger.productions(after.as_deref(), MAX_PAGE).await?;
        out.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    Ok(out)
}

/// Every record of a kind (under `parent`, when given), read straight from
/// the store in id order: for the kinds the ledger has no listing of its own.
pub async fn all_of<R: DeserializeOwned>(
    ledger: &Ledger<dyn Store>,
    kind: Kind,
    parent: Option<&str>,
) -> anyhow::Result<Vec<R>> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let rows = ledger
            .store()
            .page(kind, parent, after.as_deref(), MAX_PAGE)
            .await?;
        let Some(last) = rows.last() else { break };
        after = Some(last.id.clone());
        for row in rows {
            let record = serde_json::from_str(&row.body).map_err(|e| {
                StoreError::Other(format!("{kind} `{}` is unreadable: {e}", row.id))
            })?;
            out.push(record);
        }
    }
    Ok(out)
}

/// Writes rows as columns aligned under a header; the last column is not padded.
pub fn table(out: &mut impl Write, header: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
    let columns = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |out: &mut dyn Write, cells: Vec<&str>| -> std::io::Result<()> {
        let mut text = String::new();
        for (i, (cell, width)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == columns {
                text.push_str(cell);
            } else {
                let pad = width.saturating_sub(cell.chars().count());
                text.push_str(cell);
                text.push_str(&" ".repeat(pad + 2));
            }
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(
        out,
        header
            .iter()
            .map(|h| h.to_uppercase())
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    )?;
    for row in rows {
        line(out, row.iter().map(String::as_str).collect())?;
    }
    Ok(())
}

/// Writes `label` and `value` as one line of a record's fields.
pub fn field(
    out: &mut impl Write,
    label: &str,
    value: impl std::fmt::Display,
) -> std::io::Result<()> {
    writeln!(out, "  {label:<12}{value}")
}

/// Yes, no or unsure, as stored.
pub fn answer(value: greenlight_core::Answer) -> String {
    name_of(&value)
}
