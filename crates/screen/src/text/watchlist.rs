//! Watchlists: the names a clearance team keeps, as TOML or CSV, and the ledger's performers.
//!
//! TOML:
//! ```toml
//! [[entry]]
//! name = "Batman"
//! aliases = ["The Dark Knight", "Bruce Wayne"]
//! category = "character"
//! note = "DC Comics"
//! ```
//! CSV (a header row naming the columns, in any order; `aliases` separated by `;`):
//! ```text
//! name,aliases,category,note
//! Batman,The Dark Knight;Bruce Wayne,character,DC Comics
//! ```
//! Every problem is reported with the file, the line and the field, and loading goes on so that
//! one run reports them all.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What kind of protected name an entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// A copyrighted work: a film, series, book, photograph, painting, song.
    CopyrightedWork,
    /// A fictional character.
    Character,
    /// A living artist, whose style or work a prompt may try to imitate.
    LivingArtist,
    /// A living public figure: an actor, a politician, a journalist.
    PublicFigure,
    /// A deceased personality, whose likeness an estate controls.
    DeceasedPersonality,
    /// A brand or trademark.
    Brand,
    /// A performer in the ledger without documented consent for the production.
    Performer,
}

impl Category {
    /// Every category a watchlist may name (performers come from the ledger).
    pub const LISTED: [Category; 6] = [
        Category::CopyrightedWork,
        Category::Character,
        Category::LivingArtist,
        Category::PublicFigure,
        Category::DeceasedPersonality,
        Category::Brand,
    ];

    /// The name used in files and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::CopyrightedWork => "copyrighted_work",
            Category::Character => "character",
            Category::LivingArtist => "living_artist",
            Category::PublicFigure => "public_figure",
            Category::DeceasedPersonality => "deceased_personality",
            Category::Brand => "brand",
            Category::Performer => "performer",
        }
    }

    /// Reads a category as people write it: `living artist`, `Living-Artist`, `trademark`, …
    pub fn parse(s: &str) -> Option<Category> {
        let k: String = s
            .trim()
            .chars()
            .map(|c| {
                if c == ' ' || c == '-' {
                    '_'
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect();
        Some(match k.as_str() {
            "copyrighted_work" | "work" | "copyright" => Category::CopyrightedWork,
            "character" | "fictional_character" => Category::Character,
            "living_artist" | "artist" => Category::LivingArtist,
            "public_figure" | "person" | "celebrity" => Category::PublicFigure,
            "deceased_personality" | "deceased" | "deceased_person" => {
                Category::DeceasedPersonality
            }
            "brand" | "trademark" | "brand_or_trademark" => Category::Brand,
            _ => return None,
        })
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One protected name and its aliases.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The name, as the team writes it.
    pub name: String,
    /// Other names for the same thing.
    pub aliases: Vec<String>,
    /// What it is.
    pub category: Category,
    /// The team's note (who holds the rights, what is cleared).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Where the entry comes from: `file:line`, or `ledger` for performers.
    pub origin: String,
}

/// A problem in a watchlist file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {}{message}", field.as_ref().map(|f| format!("`{f}`: ")).unwrap_or_default())]
pub struct WatchlistError {
    /// The file, as named by the caller.
    pub file: String,
    /// The line (1-based; 0 when the whole file is at fault).
    pub line: usize,
    /// The field at fault, when one is.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// The names to screen for.
#[derive(Clone, Debug, Default)]
pub struct Watchlist {
    entries: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlFile {
    #[serde(default)]
    entry: Vec<toml::Spanned<TomlEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlEntry {
    name: toml::Spanned<String>,
    #[serde(default)]
    aliases: Vec<String>,
    category: toml::Spanned<String>,
    #[serde(default)]
    note: Option<String>,
}

/// The 1-based line of byte `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text.get(..at.min(text.len()))
        .map_or(0, |t| t.bytes().filter(|&b| b == b'\n').count())
        + 1
}

fn categories() -> String {
    Category::LISTED
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Watchlist {
    /// An empty watchlist.
    pub fn new() -> Watchlist {
        Watchlist::default()
    }

    /// The entries.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Adds an entry.
    pub fn push(&mut self, entry: Entry) {
        self.entries.push(entry);
    }

    /// Adds a performer from the ledger who has no documented consent for the production:
    /// any mention of them is a hit.
    pub fn add_performer(&mut self, name: &str, note: Option<String>) {
        self.entries.push(Entry {
            name: name.to_owned(),
            aliases: Vec::new(),
            category: Category::Performer,
            note,
            origin: "ledger".to_owned(),
        });
    }

    /// Reads a watchlist file, TOML or CSV by its name (`.csv` is CSV, anything else TOML),
    /// adding its entries. Returns every problem found; the entries that are sound are kept.
    pub fn load(&mut self, file: &str, text: &str) -> Vec<WatchlistError> {
        if file.to_ascii_lowercase().ends_with(".csv") {
            self.load_csv(file, text)
        } else {
            self.load_toml(file, text)
        }
    }

    /// Reads TOML entries (see the module docs).
    pub fn load_toml(&mut self, file: &str, text: &str) -> Vec<WatchlistError> {
        let parsed: TomlFile = match toml::from_str(text) {
            Ok(p) => p,
            Err(e) => {
                let line = e.span().map_or(0, |s| line_of(text, s.start));
                return vec![WatchlistError {
                    file: file.to_owned(),
                    line,
                    field: None,
                    message: e.message().to_owned(),
                }];
            }
        };
        let mut errors = Vec::new();
        for spanned in parsed.entry {
            let line = line_of(text, spanned.span().start);
            let raw = spanned.into_inner();
            let category_line = line_of(text, raw.category.span().start);
            let Some(category) = Category::parse(raw.category.get_ref()) else {
                errors.push(WatchlistError {
                    file: file.to_owned(),
                    line: category_line,
                    field: Some("category".to_owned()),
                    message: format!(
                        "unknown category `{}` (expected one of: {})",
                        raw.category.get_ref(),
                        categories()
                    ),
                });
                continue;
            };
            let name_line = line_of(text, raw.name.span().start);
            let name = raw.name.into_inner();
            if let Err(message) = check_name(&name) {
                errors.push(WatchlistError {
                    file: file.to_owned(),
                    line: name_line,
                    field: Some("name".to_owned()),
                    message,
                });
                continue;
            }
            let aliases: Vec<String> = raw
                .aliases
                .into_iter()
                .filter(|a| check_name(a).is_ok())
                .collect();
            self.entries.push(Entry {
                name,
                aliases,
                category,
                note: raw.note,
                origin: format!("{file}:{line}"),
            });
        }
        errors
    }

    /// Reads CSV entries (see the module docs).
    pub fn load_csv(&mut self, file: &str, text: &str) -> Vec<WatchlistError> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let error = |line: usize, field: Option<&str>, message: String| WatchlistError {
            file: file.to_owned(),
            line,
            field: field.map(str::to_owned),
            message,
        };
        let headers = match reader.headers() {
            Ok(h) => h.clone(),
            Err(e) => return vec![error(1, None, format!("cannot read the header row: {e}"))],
        };
        let column = |name: &str| {
            headers
                .iter()
                .position(|h| h.trim_start_matches('\u{feff}').eq_ignore_ascii_case(name))
        };
        let (Some(name_col), Some(cat_col)) = (column("name"), column("category")) else {
            return vec![error(
                1,
                None,
                "the header row must name the columns `name` and `category` (and may name `aliases` and `note`)".to_owned(),
            )];
        };
        let (alias_col, note_col) = (column("aliases"), column("note"));
        let mut errors = Vec::new();
        for record in reader.records() {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    let line = e
                        .position()
                        .map_or(0, |p| usize::try_from(p.line()).unwrap_or(0));
                    errors.push(error(line, None, e.to_string()));
                    continue;
                }
            };
            let line = record
                .position()
                .map_or(0, |p| usize::try_from(p.line()).unwrap_or(0));
            if record.iter().all(str::is_empty) {
                continue;
            }
            let name = record.get(name_col).unwrap_or_default().to_owned();
            if let Err(message) = check_name(&name) {
                errors.push(error(line, Some("name"), message));
                continue;
            }
            let raw_category = record.get(cat_col).unwrap_or_default();
            let Some(category) = Category::parse(raw_category) else {
                errors.push(error(
                    line,
                    Some("category"),
                    format!(
                        "unknown category `{raw_category}` (expected one of: {})",
                        categories()
                    ),
                ));
                continue;
            };
            let aliases = alias_col
                .and_then(|c| record.get(c))
                .map(|a| {
                    a.split([';', '|'])
                        .map(str::trim)
                        .filter(|a| check_name(a).is_ok())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            let note = note_col
                .and_then(|c| record.get(c))
                .filter(|n| !n.is_empty())
                .map(str::to_owned);
            self.entries.push(Entry {
                name,
                aliases,
                category,
                note,
                origin: format!("{file}:{line}"),
            });
        }
        errors
    }
}

/// A name must have a letter or digit once folded, and stay short enough to be a name.
fn check_name(name: &str) -> Result<(), String> {
    let folded = super::fold::fold_name(name);
    if !folded.chars().any(char::is_alphanumeric) {
        return Err(if name.trim().is_empty() {
            "a name is required".to_owned()
        } else {
            format!("`{name}` has no letter or digit to match on")
        });
    }
    if folded.len() > 200 {
        return Err("a name is at most 200 bytes once folded".to_owned());
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, reason = "test code")]
mod tests {
    use super::*;

    #[test]
    fn toml_errors_name_file_line_field() {
        let mut w = Watchlist::new();
        let text = "[[entry]]\nname = \"Batman\"\ncategory = \"character\"\n\n[[entry]]\nname = \"X\"\ncategory = \"villain\"\n";
        let errors = w.load("w.toml", text);
        assert_eq!(w.entries().len(), 1);
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].to_string(),
            "w.toml:7: `category`: unknown category `villain` (expected one of: copyrighted_work, character, living_artist, public_figure, deceased_personality, brand)"
        );
    }

    #[test]
    fn csv_errors_name_file_line_field() {
        let mut w = Watchlist::new();
        let text = "name,aliases,category,note\nBatman,The Dark Knight;Bruce Wayne,character,DC\n,,brand,\nAcme,,trade mark,\n";
        let errors = w.load("w.csv", text);
        assert_eq!(w.entries().len(), 1);
        assert_eq!(w.entries()[0].aliases, ["The Dark Knight", "Bruce Wayne"]);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!(errors[0].to_string(), "w.csv:3: `name`: a name is required");
        assert!(
            errors[1]
                .to_string()
                .starts_with("w.csv:4: `category`: unknown category `trade mark`")
        );
    }
}
