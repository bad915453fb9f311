//! The CSV format: a zip archive (stored, not compressed) of one CSV file per
//! table, each with a header row, UTF-8, comma-separated, quoted where needed
//! (RFC 4180). A spreadsheet opens each file; a program reads the archive.
//! Lists inside a cell are joined with `; `. Every entry carries the report's
//! time, so the same report gives the same bytes.

use std::io::{Cursor, Write as _};

use chrono::{DateTime, Datelike, Timelike, Utc};
use zip::write::SimpleFileOptions;

use crate::{Error, Report, facts, tables};

/// The files in the archive, in order: `report.csv` (the report's facts as
/// `field,value` rows) and one per table.
pub const CSV_TABLES: [&str; 7] = [
    "report.csv",
    "uses.csv",
    "approvals.csv",
    "consents.csv",
    "escalations.csv",
    "scans.csv",
    "disclosures.csv",
];

fn csv_bytes(header: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header)
        .map_err(|e| Error::Csv(e.to_string()))?;
    for row in rows {
        w.write_record(row).map_err(|e| Error::Csv(e.to_string()))?;
    }
    w.into_inner().map_err(|e| Error::Csv(e.to_string()))
}

pub(crate) fn render(report: &Report) -> Result<Vec<u8>, Error> {
    let at = report
        .generated_at
        .parse::<DateTime<Utc>>()
        .ok()
        .and_then(|t| {
            zip::DateTime::from_date_and_time(
                u16::try_from(t.year()).ok()?,
                u8::try_from(t.month()).ok()?,
                u8::try_from(t.day()).ok()?,
                u8::try_from(t.hour()).ok()?,
                u8::try_from(t.minute()).ok()?,
                u8::try_from(t.second()).ok()?,
            )
            .ok()
        })
        .unwrap_or_default();
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(at);
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let mut files = Vec::new();
    let fact_rows: Vec<Vec<String>> = facts(report)
        .into_iter()
        .map(|(k, v)| vec![k.to_owned(), v])
        .collect();
    files.push((
        "report.csv".to_owned(),
        csv_bytes(&["field", "value"], &fact_rows)?,
    ));
    for table in tables(report) {
        files.push((
            format!("{}.csv", table.name),
            csv_bytes(&table.header, &table.rows)?,
        ));
    }
    for (name, bytes) in files {
        zip.start_file(name, options)
            .map_err(|e| Error::Csv(e.to_string()))?;
        zip.write_all(&bytes)
            .map_err(|e| Error::Csv(e.to_string()))?;
    }
    let out = zip.finish().map_err(|e| Error::Csv(e.to_string()))?;
    Ok(out.into_inner())
}
