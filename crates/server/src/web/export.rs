//! The tables the registry pages show, and their CSV export (`?format=csv`): one writer
//! (the `csv` crate's quoting) and a guard against formula injection, since a CSV file is
//! opened in a spreadsheet: a cell beginning with `=`, `+`, `-`, `@`, a tab or a carriage
//! return is prefixed with `'`, so it is shown as text and never evaluated.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::WebError;
use crate::error::{ApiError, Cause};

/// One cell: its text, and where it links to when it does.
pub struct Cell {
    /// What it says.
    pub text: String,
    /// A path of this site it links to.
    pub href: Option<String>,
}

impl Cell {
    /// A cell of plain text.
    pub fn text(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            href: None,
        }
    }

    /// A cell that links to `href`.
    pub fn link(text: impl Into<String>, href: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            href: Some(href.into()),
        }
    }
}

/// A table of a page: a name (its CSV file's and the `table` parameter's), a caption, a
/// header and rows; the first cell of a row is its heading.
pub struct Table {
    /// Its name, `[a-z-]+`.
    pub name: &'static str,
    /// What it shows.
    pub caption: String,
    /// The columns' names.
    pub header: Vec<&'static str>,
    /// The rows, one cell per column.
    pub rows: Vec<Vec<Cell>>,
    /// The link to its CSV export.
    pub csv: String,
    /// What the page says when it has no row.
    pub empty: &'static str,
}

impl Table {
    /// A table of the page at `path` (its query string, if any, kept in the export link).
    pub fn new(
        path: &str,
        name: &'static str,
        caption: impl Into<String>,
        header: Vec<&'static str>,
        empty: &'static str,
    ) -> Table {
        let join = if path.contains('?') { '&' } else { '?' };
        Table {
            name,
            caption: caption.into(),
            header,
            rows: Vec::new(),
            csv: format!("{path}{join}format=csv&table={name}"),
            empty,
        }
    }
}

/// A cell as a spreadsheet may read it: text that would start a formula gets a `'` first.
pub fn defuse(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

/// The table's CSV: a header row, then a row per row, every cell defused and quoted as
/// needed (RFC 4180).
pub fn to_csv(table: &Table) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(table.header.iter().map(|h| defuse(h)))?;
    for row in &table.rows {
        writer.write_record(row.iter().map(|cell| defuse(&cell.text)))?;
    }
    writer.flush()?;
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

/// What a page's query asks for its tables: the page, or one table as CSV.
pub fn wants_csv(format: Option<&str>) -> Result<bool, WebError> {
    match format {
        None | Some("" | "html") => Ok(false),
        Some("csv") => Ok(true),
        Some(other) => Err(WebError::Api(ApiError::invalid_field(
            "format",
            format!(
                "`{}` is not a page format (html or csv)",
                other.chars().take(40).collect::<String>()
            ),
        ))),
    }
}

/// The CSV download of the table named `name` (the first when none is), as `page-name.csv`.
pub fn csv_response(
    page: &str,
    tables: &[Table],
    name: Option<&str>,
) -> Result<Response, WebError> {
    let table = match name {
        None | Some("") => tables.first(),
        Some(name) => tables.iter().find(|t| t.name == name),
    };
    let Some(table) = table else {
        let names: Vec<&str> = tables.iter().map(|t| t.name).collect();
        return Err(WebError::Api(ApiError::invalid_field(
            "table",
            format!(
                "`{}` is not a table of this page ({})",
                name.unwrap_or_default()
                    .chars()
                    .take(40)
                    .collect::<String>(),
                names.join(", ")
            ),
        )));
    };
    let bytes = to_csv(table).map_err(|e| WebError::Api(ApiError::Internal(Cause::new(e))))?;
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let disposition = format!("attachment; filename=\"{page}-{}.csv\"", table.name);
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing test stops at the error")]
mod tests {
    use super::*;

    #[test]
    fn a_cell_that_would_start_a_formula_is_text() {
        for (cell, shown) in [
            (
                "=HYPERLINK(\"http://evil.example\")",
                "'=HYPERLINK(\"http://evil.example\")",
            ),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("plain", "plain"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(defuse(cell), shown, "{cell:?}");
        }
    }

    #[test]
    fn cells_are_quoted_as_rfc_4180_says() {
        let mut table = Table::new("/tools", "tools", "Tools", vec!["name", "note"], "none");
        table
            .rows
            .push(vec![Cell::text("Gen, \"Pro\""), Cell::text("two\nlines")]);
        table.rows.push(vec![
            Cell::link("=cmd|' /C calc'!A0", "/x"),
            Cell::text("@x"),
        ]);
        let csv = String::from_utf8(to_csv(&table).unwrap()).unwrap();
        assert_eq!(
            csv,
            "name,note\n\"Gen, \"\"Pro\"\"\",\"two\nlines\"\n'=cmd|' /C calc'!A0,'@x\n"
        );
        assert_eq!(table.csv, "/tools?format=csv&table=tools");
        let other = Table::new("/scans?production=1", "scans", "Scans", vec![], "none");
        assert_eq!(other.csv, "/scans?production=1&format=csv&table=scans");
    }
}
