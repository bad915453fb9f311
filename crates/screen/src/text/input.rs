//! Inputs: the text of prompts, prompt logs and scripts, cut into [`Segment`]s that know where
//! they sit in the file. Reading never fails and never panics: what cannot be read is a
//! [`Problem`] with its line, and the rest is still screened.
//!
//! | format | how it is chosen | segments |
//! |---|---|---|
//! | plain text | anything else | the whole text, exact offsets |
//! | prompt log (JSONL) | `.jsonl`, `.ndjson` | one per line: the first of [`PROMPT_FIELDS`] that holds a string (or a ComfyUI graph's text inputs); a line that is not JSON or has no prompt is a problem with its line number |
//! | Fountain | `.fountain`, `.spmd` | one per line with its element (scene heading, action, character, dialogue, parenthetical, transition, lyrics, note, section, synopsis, title page), exact offsets |
//! | Final Draft | `.fdx` | one per paragraph with its `Type` (action, character, dialogue, …); line of the paragraph in the XML |
//! | PDF | `.pdf`, or `%PDF-` at the start | one per page (its extracted text), lines within the page |

use std::borrow::Cow;

use quick_xml::events::Event;
use serde_json::Value;

/// Fields of a prompt-log line that hold the prompt, in the order they are tried.
pub const PROMPT_FIELDS: &[&str] = &[
    "prompt",
    "positive",
    "positive_prompt",
    "text",
    "caption",
    "input",
    "query",
    "content",
    "message",
];

/// Longest input read, in bytes; the rest of a longer one is a problem, not read.
pub const MAX_INPUT: usize = 1 << 30;

/// The kind of input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputFormat {
    /// Plain text or a single prompt.
    Text,
    /// A prompt log: one JSON object per line.
    Jsonl,
    /// A Fountain screenplay.
    Fountain,
    /// A Final Draft (FDX) screenplay.
    Fdx,
    /// The text of a PDF.
    Pdf,
}

impl InputFormat {
    /// The format a file's name (and first bytes) say.
    pub fn detect(name: &str, bytes: &[u8]) -> InputFormat {
        let lower = name.to_ascii_lowercase();
        let ext = lower.rsplit_once('.').map_or("", |(_, e)| e);
        match ext {
            "jsonl" | "ndjson" => InputFormat::Jsonl,
            "fountain" | "spmd" => InputFormat::Fountain,
            "fdx" => InputFormat::Fdx,
            "pdf" => InputFormat::Pdf,
            _ if bytes.starts_with(b"%PDF-") => InputFormat::Pdf,
            _ => InputFormat::Text,
        }
    }

    /// The name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            InputFormat::Text => "text",
            InputFormat::Jsonl => "jsonl",
            InputFormat::Fountain => "fountain",
            InputFormat::Fdx => "fdx",
            InputFormat::Pdf => "pdf",
        }
    }
}

/// A piece of text to screen and where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment<'a> {
    /// The text.
    pub text: Cow<'a, str>,
    /// The line it starts on, 1-based.
    pub line: usize,
    /// The column its first character is at on that line, 1-based.
    pub column: usize,
    /// Its byte offset in the file, when [`Segment::exact`]; else 0.
    pub byte: usize,
    /// Whether the text is the file's bytes as they are (so offsets are the file's), rather
    /// than decoded from JSON or XML escapes or extracted from PDF.
    pub exact: bool,
    /// The page (PDF).
    pub page: Option<u32>,
    /// The part of the input it is (`dialogue`, `prompt`, …).
    pub element: Option<String>,
}

impl<'a> Segment<'a> {
    /// A segment that is the file's own bytes from `byte` on.
    pub fn exact(text: &'a str, line: usize, column: usize, byte: usize) -> Segment<'a> {
        Segment {
            text: Cow::Borrowed(text),
            line,
            column,
            byte,
            exact: true,
            page: None,
            element: None,
        }
    }

    fn decoded(text: String, line: usize, element: &str) -> Segment<'a> {
        Segment {
            text: Cow::Owned(text),
            line,
            column: 1,
            byte: 0,
            exact: false,
            page: None,
            element: Some(element.to_owned()),
        }
    }
}

/// Something in the input that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// The line, 1-based (0: the whole input).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// An input cut into segments.
#[derive(Clone, Debug, Default)]
pub struct Document<'a> {
    /// The text to screen.
    pub segments: Vec<Segment<'a>>,
    /// What could not be read.
    pub problems: Vec<Problem>,
}

/// Reads an input of the given format (`None`: by its name and first bytes).
pub fn read<'a>(name: &str, bytes: &'a [u8], format: Option<InputFormat>) -> Document<'a> {
    let format = format.unwrap_or_else(|| InputFormat::detect(name, bytes));
    let mut doc = Document::default();
    let bytes = if bytes.len() > MAX_INPUT {
        doc.problems.push(Problem {
            line: 0,
            message: format!("input longer than {MAX_INPUT} bytes: only the start is read"),
        });
        bytes.get(..MAX_INPUT).unwrap_or(bytes)
    } else {
        bytes
    };
    if format == InputFormat::Pdf {
        pdf(bytes, &mut doc);
        return doc;
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => parse_text(text, format, &mut doc),
        Err(e) => {
            let line = bytes
                .get(..e.valid_up_to())
                .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
                + 1;
            doc.problems.push(Problem {
                line,
                message: "not valid UTF-8: invalid bytes are read as U+FFFD".to_owned(),
            });
            let owned = String::from_utf8_lossy(bytes).into_owned();
            let mut inner = Document::default();
            parse_text(&owned, format, &mut inner);
            let inner = inner.into_owned();
            doc.segments = inner.segments;
            doc.problems.extend(inner.problems);
        }
    }
    doc
}

fn parse_text<'a>(text: &'a str, format: InputFormat, doc: &mut Document<'a>) {
    // a byte-order mark is skipped; exact offsets still count it
    let (text, base) = match text.strip_prefix('\u{feff}') {
        Some(t) => (t, 3),
        None => (text, 0),
    };
    match format {
        InputFormat::Text => doc.segments.push(Segment::exact(text, 1, 1, base)),
        InputFormat::Jsonl => jsonl(text, doc),
        InputFormat::Fountain => fountain(text, base, doc),
        InputFormat::Fdx => fdx(text, doc),
        InputFormat::Pdf => {}
    }
}

impl<'a> Document<'a> {
    /// Makes every segment own its text.
    pub fn into_owned(self) -> Document<'static> {
        Document {
            segments: self
                .segments
                .into_iter()
                .map(|s| Segment {
                    text: Cow::Owned(s.text.into_owned()),
                    line: s.line,
                    column: s.column,
                    byte: s.byte,
                    exact: s.exact,
                    page: s.page,
                    element: s.element,
                })
                .collect(),
            problems: self.problems,
        }
    }
}

/// Lines of `text` with their 1-based number and byte offset (without the line end).
fn lines(text: &str) -> impl Iterator<Item = (usize, usize, &str)> {
    let mut offset = 0usize;
    text.split_inclusive('\n').enumerate().map(move |(i, raw)| {
        let at = offset;
        offset += raw.len();
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        let line = line.strip_suffix('\r').unwrap_or(line);
        (i + 1, at, line)
    })
}

fn jsonl<'a>(text: &'a str, doc: &mut Document<'a>) {
    for (n, _, line) in lines(text) {
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                doc.problems.push(Problem {
                    line: n,
                    message: format!("not a JSON object: {e}"),
                });
                continue;
            }
        };
        let before = doc.segments.len();
        prompts_in_json(&value, n, doc, 0);
        if doc.segments.len() == before {
            doc.problems.push(Problem {
                line: n,
                message: format!(
                    "no prompt on this line (looked for a string in: {})",
                    PROMPT_FIELDS.join(", ")
                ),
            });
        }
    }
}

/// The prompts in one JSON value: the first prompt field holding a string; a nested object
/// under it (`{"prompt": {"text": …}}`); or a ComfyUI graph, whose nodes' `inputs.text`.
fn prompts_in_json(value: &Value, line: usize, doc: &mut Document<'_>, depth: usize) {
    if depth > 4 {
        return;
    }
    match value {
        Value::String(s) => doc
            .segments
            .push(Segment::decoded(s.clone(), line, "prompt")),
        Value::Object(map) => {
            for field in PROMPT_FIELDS {
                match map.get(*field) {
                    Some(Value::String(s)) => {
                        doc.segments.push(Segment::decoded(s.clone(), line, field));
                        return;
                    }
                    Some(v @ (Value::Object(_) | Value::Array(_))) => {
                        let before = doc.segments.len();
                        prompts_in_json(v, line, doc, depth + 1);
                        if doc.segments.len() > before {
                            return;
                        }
                    }
                    _ => {}
                }
            }
            // a ComfyUI API graph: {"6": {"class_type": "CLIPTextEncode", "inputs": {"text": …}}}
            for node in map.values() {
                if let Some(Value::String(s)) = node
                    .get("inputs")
                    .filter(|_| node.get("class_type").is_some())
                    .and_then(|i| i.get("text"))
                {
                    doc.segments
                        .push(Segment::decoded(s.clone(), line, "comfyui_text"));
                }
            }
        }
        Value::Array(items) => {
            for item in items.iter().take(1000) {
                prompts_in_json(item, line, doc, depth + 1);
            }
        }
        _ => {}
    }
}

/// The prompts in one generator metadata field as the scanner reports it: an A1111-style
/// `parameters` text (the positive prompt, before `Negative prompt:`), a ComfyUI graph or a
/// JSON object with a prompt field, or else the whole value.
pub fn generator_prompts(value: &str) -> Vec<String> {
    let trimmed = value.trim();
    if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && let Ok(v) = serde_json::from_str::<Value>(trimmed)
    {
        {
            let mut doc = Document::default();
            prompts_in_json(&v, 1, &mut doc, 0);
            return doc
                .segments
                .into_iter()
                .map(|s| s.text.into_owned())
                .collect();
        }
    }
    let positive = match trimmed.find("Negative prompt:") {
        Some(i) => trimmed.get(..i).unwrap_or(trimmed),
        None => match trimmed.find("\nSteps: ") {
            Some(i) => trimmed.get(..i).unwrap_or(trimmed),
            None => trimmed,
        },
    };
    vec![positive.trim().to_owned()]
}

/// The element of each line of a Fountain script (the common elements of the Fountain 1.1
/// syntax; emphasis markup is left in the text, where it does not change matching).
fn fountain<'a>(text: &'a str, base: usize, doc: &mut Document<'a>) {
    let all: Vec<(usize, usize, &str)> = lines(text).collect();
    let mut title_page = all.first().is_some_and(|(_, _, l)| is_title_key(l));
    let mut in_dialogue = false;
    let mut in_boneyard = false;
    let mut in_note = false;
    for (i, &(n, at, line)) in all.iter().enumerate() {
        let trimmed = line.trim();
        let blank_before = i == 0 || all.get(i - 1).is_some_and(|(_, _, l)| l.trim().is_empty());
        let next_blank = all.get(i + 1).is_none_or(|(_, _, l)| l.trim().is_empty());
        if trimmed.is_empty() {
            if title_page {
                title_page = false;
            }
            in_dialogue = false;
            continue;
        }
        let element = if title_page {
            "title_page"
        } else if in_boneyard || trimmed.starts_with("/*") {
            in_boneyard = !trimmed.contains("*/");
            "boneyard"
        } else if in_note || trimmed.starts_with("[[") {
            in_note = !trimmed.contains("]]");
            "note"
        } else if trimmed.starts_with('#') {
            "section"
        } else if trimmed.starts_with('=') && !trimmed.starts_with("===") {
            "synopsis"
        } else if trimmed.starts_with('~') {
            "lyrics"
        } else if trimmed.starts_with('>') && trimmed.ends_with('<') {
            "centered"
        } else if trimmed.starts_with('>') || (is_upper(trimmed) && trimmed.ends_with("TO:")) {
            "transition"
        } else if in_dialogue {
            if trimmed.starts_with('(') && trimmed.ends_with(')') {
                "parenthetical"
            } else {
                "dialogue"
            }
        } else if blank_before && is_scene_heading(trimmed) {
            "scene_heading"
        } else if blank_before
            && !next_blank
            && (trimmed.starts_with('@') || (is_upper(trimmed) && !trimmed.starts_with('!')))
        {
            in_dialogue = true;
            "character"
        } else {
            "action"
        };
        let lead = line.len() - line.trim_start().len();
        let column = line.get(..lead).map_or(0, |l| l.chars().count()) + 1;
        let mut segment = Segment::exact(trimmed, n, column, base + at + lead);
        segment.element = Some(element.to_owned());
        doc.segments.push(segment);
    }
}

fn is_title_key(line: &str) -> bool {
    line.split_once(':').is_some_and(|(k, _)| {
        !k.is_empty() && k.len() < 40 && k.chars().all(|c| c.is_alphanumeric() || c == ' ')
    })
}

fn is_upper(s: &str) -> bool {
    let name = s.split('(').next().unwrap_or(s);
    name.chars().any(char::is_alphabetic) && !name.chars().any(char::is_lowercase)
}

fn is_scene_heading(s: &str) -> bool {
    if s.starts_with('.') && !s.starts_with("..") {
        return true;
    }
    let upper: String = s.chars().take(9).collect::<String>().to_uppercase();
    [
        "INT.", "EXT.", "EST.", "INT/EXT", "INT./EXT", "I/E", "INT ", "EXT ", "EST ",
    ]
    .iter()
    .any(|p| upper.starts_with(p))
}

/// Final Draft: the text of each `<Paragraph>` with its `Type`, at the paragraph's line.
fn fdx<'a>(text: &'a str, doc: &mut Document<'a>) {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut line_at = LineCounter::default();
    let mut paragraph: Option<(usize, String, String)> = None; // line, type, text
    let mut in_text = 0usize;
    let mut in_title_page = false;
    loop {
        let position = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                doc.problems.push(Problem {
                    line: line_at.line(
                        text,
                        usize::try_from(reader.error_position()).unwrap_or(position),
                    ),
                    message: format!("not well-formed XML: {e}; the rest is not read"),
                });
                break;
            }
        };
        match event {
            Event::Start(e) => match e.local_name().as_ref() {
                b"Paragraph" => {
                    let kind = e
                        .try_get_attribute("Type")
                        .ok()
                        .flatten()
                        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
                        .unwrap_or_else(|| "General".to_owned());
                    let kind = if in_title_page {
                        "title_page".to_owned()
                    } else {
                        kind.to_lowercase().replace(' ', "_")
                    };
                    paragraph = Some((line_at.line(text, position), kind, String::new()));
                }
                b"Text" => in_text += 1,
                b"TitlePage" => in_title_page = true,
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                b"Paragraph" => {
                    if let Some((line, kind, t)) = paragraph.take()
                        && !t.trim().is_empty()
                    {
                        doc.segments.push(Segment::decoded(t, line, &kind));
                    }
                }
                b"Text" => in_text = in_text.saturating_sub(1),
                b"TitlePage" => in_title_page = false,
                _ => {}
            },
            Event::Text(t) if in_text > 0 => {
                if let Some((_, _, buf)) = &mut paragraph {
                    match t.decode() {
                        Ok(s) => buf.push_str(&unescape(&s)),
                        Err(_) => buf.push('\u{fffd}'),
                    }
                }
            }
            Event::GeneralRef(r) if in_text > 0 => {
                if let Some((_, _, buf)) = &mut paragraph {
                    let name = r.decode().unwrap_or_default();
                    buf.push_str(&unescape(&format!("&{name};")));
                }
            }
            Event::CData(t) if in_text > 0 => {
                if let Some((_, _, buf)) = &mut paragraph {
                    buf.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
}

fn unescape(s: &str) -> String {
    quick_xml::escape::unescape(s).map_or_else(|_| s.to_owned(), |c| c.into_owned())
}

/// Line numbers of byte offsets, counted forward.
#[derive(Default)]
struct LineCounter {
    at: usize,
    line: usize,
}

impl LineCounter {
    fn line(&mut self, text: &str, offset: usize) -> usize {
        let offset = offset.min(text.len());
        if offset < self.at {
            self.at = 0;
            self.line = 0;
        }
        self.line += text
            .as_bytes()
            .get(self.at..offset)
            .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count());
        self.at = offset;
        self.line + 1
    }
}

/// Most bytes a PDF's page streams may decompress to.
const PDF_MAX_DECOMPRESSED: usize = 256 << 20;

/// The text of each page, through `lopdf`.
fn pdf(bytes: &[u8], doc: &mut Document<'_>) {
    // lopdf is not fuzzed here: a panic inside it is caught and reported as a problem.
    let result = std::panic::catch_unwind(|| {
        let pdf = lopdf::Document::load_mem(bytes).map_err(|e| e.to_string())?;
        let mut pages = Vec::new();
        for (number, _) in pdf.get_pages() {
            let text = pdf
                .extract_text_with_limit(&[number], PDF_MAX_DECOMPRESSED)
                .map_err(|e| format!("page {number}: {e}"));
            pages.push((number, text));
        }
        Ok::<_, String>(pages)
    });
    match result {
        Ok(Ok(pages)) => {
            for (number, text) in pages {
                match text {
                    Ok(t) => {
                        let mut s = Segment::decoded(t, 1, "page");
                        s.page = Some(number);
                        doc.segments.push(s);
                    }
                    Err(message) => doc.problems.push(Problem { line: 0, message }),
                }
            }
        }
        Ok(Err(message)) => doc.problems.push(Problem {
            line: 0,
            message: format!("cannot read the PDF: {message}"),
        }),
        Err(_) => doc.problems.push(Problem {
            line: 0,
            message: "cannot read the PDF: the PDF reader failed on it".to_owned(),
        }),
    }
}
