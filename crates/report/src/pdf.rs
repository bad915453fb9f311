//! The PDF format, written with krilla: A4 landscape, DejaVu Sans (regular and
//! bold) embedded and subset, text kept as text (searchable, `pdftotext`
//! reads it), charts as vector paths, tables that break across pages with
//! their header row repeated, and `page N of M` on every page.
//!
//! The document is laid out first into a list of pages of drawing operations
//! (so the page count is known), then drawn.

use std::sync::LazyLock;

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::text::{Font, TextDirection};
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

use crate::chart::charts;
use crate::{Error, Report, age, facts, tables};

static REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

const PAGE_W: f32 = 841.89;
const PAGE_H: f32 = 595.28;
const MARGIN: f32 = 36.0;
const BOTTOM: f32 = PAGE_H - MARGIN - 18.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
const TABLE_SIZE: f32 = 6.8;
const TEXT_SIZE: f32 = 9.0;
const INK: (u8, u8, u8) = (0x1b, 0x1f, 0x24);
const MUTED: (u8, u8, u8) = (0x57, 0x60, 0x6a);
const RULE: (u8, u8, u8) = (0xc9, 0xd1, 0xd9);
const HEAD_BG: (u8, u8, u8) = (0xee, 0xf3, 0xf8);
const ACCENT: (u8, u8, u8) = (0x1f, 0x5f, 0x99);
const BAD: (u8, u8, u8) = (0xc6, 0x28, 0x28);

/// Advance widths of one font at size 1, by character.
struct Metrics {
    font: Option<FontRef<'static>>,
}

impl Metrics {
    fn new(data: &'static [u8]) -> Metrics {
        Metrics {
            font: FontRef::new(data).ok(),
        }
    }

    /// The width of `text` at `size` points (kerning aside).
    fn width(&self, text: &str, size: f32) -> f32 {
        let Some(font) = &self.font else {
            return text.chars().count() as f32 * size * 0.6;
        };
        let charmap = font.charmap();
        let metrics = font.glyph_metrics(Size::new(size), LocationRef::default());
        text.chars()
            .map(|c| {
                charmap
                    .map(c)
                    .and_then(|g| metrics.advance_width(g))
                    .unwrap_or(size * 0.6)
            })
            .sum()
    }
}

static METRICS: LazyLock<[Metrics; 2]> =
    LazyLock::new(|| [Metrics::new(REGULAR), Metrics::new(BOLD)]);

fn width(text: &str, size: f32, bold: bool) -> f32 {
    let [regular, bold_m] = &*METRICS;
    if bold { bold_m } else { regular }.width(text, size)
}

/// Characters the font has no glyph for are drawn as `?`; control characters are dropped.
fn printable(text: &str) -> String {
    let [regular, _] = &*METRICS;
    text.chars()
        .filter(|c| !c.is_control())
        .map(|c| match &regular.font {
            Some(f) if f.charmap().map(c).is_none() => '?',
            _ => c,
        })
        .collect()
}

/// Breaks `text` into lines no wider than `max` (words first, then characters).
fn wrap(text: &str, size: f32, bold: bool, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split(' ') {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if width(&candidate, size, bold) <= max {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // The word alone: cut it where it overflows.
            for c in word.chars() {
                let mut next = line.clone();
                next.push(c);
                if width(&next, size, bold) > max && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    line.push(c);
                } else {
                    line = next;
                }
            }
        }
        lines.push(line);
    }
    lines
}

/// One drawing operation, in page coordinates (origin top left, y down).
enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        colour: (u8, u8, u8),
        text: String,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        colour: (u8, u8, u8),
    },
}

/// Lays out pages top to bottom.
struct Layout {
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl Layout {
    fn new() -> Layout {
        Layout {
            pages: vec![Vec::new()],
            y: MARGIN,
        }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        match self.pages.get_mut(last) {
            Some(page) => page,
            None => unreachable!("a page was just pushed"),
        }
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
    }

    /// Makes room for `h` points, starting a page when they do not fit.
    fn room(&mut self, h: f32) {
        if self.y + h > BOTTOM && self.y > MARGIN {
            self.new_page();
        }
    }

    fn text(&mut self, x: f32, size: f32, bold: bool, colour: (u8, u8, u8), text: &str) {
        let y = self.y + size;
        self.ops().push(Op::Text {
            x,
            y,
            size,
            bold,
            colour,
            text: printable(text),
        });
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, colour: (u8, u8, u8)) {
        self.ops().push(Op::Rect { x, y, w, h, colour });
    }

    fn heading(&mut self, text: &str) {
        self.room(60.0);
        self.y += 10.0;
        self.text(MARGIN, 13.0, true, INK, text);
        self.y += 17.0;
        let y = self.y;
        self.rect(MARGIN, y, CONTENT_W, 1.2, ACCENT);
        self.y += 6.0;
    }

    fn paragraph(&mut self, text: &str, size: f32, bold: bool, colour: (u8, u8, u8), indent: f32) {
        for line in wrap(&printable(text), size, bold, CONTENT_W - indent) {
            self.room(size * 1.35);
            self.text(MARGIN + indent, size, bold, colour, &line);
            self.y += size * 1.35;
        }
    }

    /// A table: column widths from the content, rows wrapped, the header repeated on
    /// every page the table runs onto.
    fn table(&mut self, header: &[&str], rows: &[Vec<String>]) {
        let n = header.len().max(1);
        let pad = 2.5;
        // Each column's natural width, capped, and the least it may have: its header's
        // longest word and its body's longest word (up to a cap), so that no word breaks.
        let longest_word = |text: &str, bold: bool| {
            text.split_whitespace()
                .map(|w| width(w, TABLE_SIZE, bold))
                .fold(0.0f32, f32::max)
        };
        let (natural, least): (Vec<f32>, Vec<f32>) = (0..n)
            .map(|i| {
                let head = header.get(i).copied().unwrap_or("");
                let body = rows.iter().filter_map(|r| r.get(i));
                let widest = body
                    .clone()
                    .map(|c| width(c, TABLE_SIZE, false))
                    .fold(width(head, TABLE_SIZE, true), f32::max);
                let word = body
                    .map(|c| longest_word(c, false))
                    .fold(longest_word(head, true), f32::max)
                    .min(60.0);
                let natural = widest.clamp(24.0, 130.0) + 2.0 * pad;
                (natural, word.max(12.0).min(natural - 2.0 * pad) + 2.0 * pad)
            })
            .unzip();
        let total: f32 = natural.iter().sum();
        let floor: f32 = least.iter().sum();
        let widths: Vec<f32> = if total <= CONTENT_W || floor >= CONTENT_W {
            // Room for all, or not even for the least: scale every column alike.
            natural
                .iter()
                .map(|w| w * CONTENT_W / total.max(1.0))
                .collect()
        } else {
            // Each column keeps its least and shares the rest by what it would want beyond.
            let share = (CONTENT_W - floor) / (total - floor).max(1.0);
            natural
                .iter()
                .zip(&least)
                .map(|(w, l)| l + (w - l) * share)
                .collect()
        };
        let line_h = TABLE_SIZE * 1.3;
        let cells = |row: &[String], bold: bool| -> Vec<Vec<String>> {
            widths
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    let text = row.get(i).map(String::as_str).unwrap_or("");
                    wrap(&printable(text), TABLE_SIZE, bold, w - 2.0 * pad)
                })
                .collect()
        };
        let head_row: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
        let head_cells = cells(&head_row, true);
        let head_h = head_cells.iter().map(Vec::len).max().unwrap_or(1) as f32 * line_h + 2.0 * pad;
        let draw_row = |layout: &mut Layout,
                        cells: &[Vec<String>],
                        h: f32,
                        bold: bool,
                        bg: Option<(u8, u8, u8)>| {
            let y0 = layout.y;
            if let Some(bg) = bg {
                layout.rect(MARGIN, y0, CONTENT_W, h, bg);
            }
            let mut x = MARGIN;
            for (i, lines) in cells.iter().enumerate() {
                let w = widths.get(i).copied().unwrap_or(0.0);
                for (k, line) in lines.iter().enumerate() {
                    layout.ops().push(Op::Text {
                        x: x + pad,
                        y: y0 + pad + TABLE_SIZE + k as f32 * line_h,
                        size: TABLE_SIZE,
                        bold,
                        colour: INK,
                        text: line.clone(),
                    });
                }
                layout.rect(x, y0, 0.4, h, RULE);
                x += w;
            }
            layout.rect(MARGIN + CONTENT_W, y0, 0.4, h, RULE);
            layout.rect(MARGIN, y0, CONTENT_W, 0.4, RULE);
            layout.rect(MARGIN, y0 + h, CONTENT_W, 0.4, RULE);
            layout.y += h;
        };
        self.room(head_h + line_h * 2.0 + 2.0 * pad);
        draw_row(self, &head_cells, head_h, true, Some(HEAD_BG));
        for row in rows {
            let body = cells(row, false);
            let h = body.iter().map(Vec::len).max().unwrap_or(1) as f32 * line_h + 2.0 * pad;
            if self.y + h > BOTTOM {
                self.new_page();
                draw_row(self, &head_cells, head_h, true, Some(HEAD_BG));
            }
            draw_row(self, &body, h, false, None);
        }
        self.y += 8.0;
    }
}

fn lay_out(r: &Report) -> Vec<Vec<Op>> {
    let mut l = Layout::new();
    l.text(
        MARGIN,
        18.0,
        true,
        INK,
        &format!("AI use report: {}", r.production.title),
    );
    l.y += 28.0;
    let key_w = 120.0;
    for (k, v) in facts(r) {
        let bad =
            k == "Audit log" && !r.audit.ok || k == "Delivery gate" && r.gate.result == "failed";
        let lines = wrap(&printable(&v), TEXT_SIZE, bad, CONTENT_W - key_w);
        l.room(TEXT_SIZE * 1.4 * lines.len() as f32);
        l.text(MARGIN, TEXT_SIZE, true, INK, k);
        for line in lines {
            l.text(
                MARGIN + key_w,
                TEXT_SIZE,
                bad,
                if bad { BAD } else { INK },
                &line,
            );
            l.y += TEXT_SIZE * 1.4;
        }
    }

    l.heading("At a glance");
    let charts = charts(r);
    let col_w = CONTENT_W / 3.0;
    let row_h = 15.0;
    let tallest = charts
        .iter()
        .map(|c| c.bars.len().max(1))
        .max()
        .unwrap_or(1) as f32;
    l.room(tallest * row_h + 24.0);
    let top = l.y;
    for (i, chart) in charts.iter().enumerate() {
        let x0 = MARGIN + col_w * i as f32;
        l.y = top;
        l.text(x0, 9.5, true, INK, chart.title);
        l.y += 16.0;
        let label_w = 80.0;
        let bar_max = col_w - label_w - 36.0;
        let scale = chart.scale() as f32;
        if chart.bars.is_empty() {
            l.text(x0, 8.0, false, MUTED, "none");
        }
        for bar in &chart.bars {
            let label = printable(&bar.label);
            let lw = width(&label, 8.0, false);
            l.text(
                x0 + label_w - 4.0 - lw.min(label_w - 4.0),
                8.0,
                false,
                INK,
                &label,
            );
            let w = bar.count as f32 / scale * bar_max;
            let y = l.y;
            if w > 0.0 {
                l.rect(x0 + label_w, y + 1.0, w, row_h - 5.0, bar.colour);
            }
            l.text(
                x0 + label_w + w + 3.0,
                8.0,
                false,
                INK,
                &bar.count.to_string(),
            );
            l.y += row_h;
        }
    }
    l.y = top + tallest * row_h + 24.0;

    l.heading("Disclosures owed");
    if r.disclosures.is_empty() {
        l.paragraph(
            "None owed by the uses and overlays recorded.",
            TEXT_SIZE,
            false,
            MUTED,
            0.0,
        );
    }
    for d in &r.disclosures {
        l.room(60.0);
        l.paragraph(&d.title, 10.5, true, INK, 0.0);
        l.y += 2.0;
        l.paragraph(&d.text, TEXT_SIZE + 0.5, true, ACCENT, 8.0);
        l.paragraph(
            &format!("Where: {}", d.placement),
            TEXT_SIZE,
            false,
            INK,
            8.0,
        );
        if !d.cites.is_empty() {
            l.paragraph(
                &format!(
                    "Overlay {}; rules and ids: {}",
                    d.overlay.as_deref().unwrap_or(""),
                    d.cites.join(", ")
                ),
                8.0,
                false,
                MUTED,
                8.0,
            );
        }
        l.y += 3.0;
        let usco = d.kind == "usco_exclusions";
        let mut header = vec!["Use", "Material", "Tools and vendors"];
        if usco {
            header.push("Human contribution");
        }
        let rows: Vec<Vec<String>> = d
            .items
            .iter()
            .map(|i| {
                let mut row = vec![i.title.clone(), i.material.clone(), i.tools.join("; ")];
                if usco {
                    row.push(i.human_contribution.clone());
                }
                row
            })
            .collect();
        l.table(&header, &rows);
    }

    for table in tables(r) {
        if table.name == "disclosures" {
            continue;
        }
        l.heading(table.title);
        if table.rows.is_empty() {
            l.paragraph("None.", TEXT_SIZE, false, MUTED, 0.0);
            continue;
        }
        let (common, header, rows) = table.hoisted();
        for (head, value) in &common {
            l.paragraph(
                &format!("{head} (every row): {value}"),
                TABLE_SIZE,
                false,
                MUTED,
                0.0,
            );
        }
        l.table(&header, &rows);
    }

    l.heading("Audit log");
    let a = &r.audit;
    if a.ok {
        l.paragraph(
            &format!(
                "Verified at {}: {} entries, {} signed checkpoints, {} records match the log.",
                r.generated_at, a.entries, a.checkpoints, a.records
            ),
            TEXT_SIZE,
            false,
            INK,
            0.0,
        );
    } else {
        l.paragraph(
            &format!(
                "Verification at {} found {} problem(s):",
                r.generated_at,
                a.problems.len()
            ),
            TEXT_SIZE,
            true,
            BAD,
            0.0,
        );
        for p in &a.problems {
            l.paragraph(&format!("- {p}"), TEXT_SIZE, false, BAD, 8.0);
        }
    }
    if let (Some(seq), Some(hash)) = (&a.head_seq, &a.head_hash) {
        l.paragraph(
            &format!("Head entry {seq}: {hash}"),
            TEXT_SIZE,
            false,
            INK,
            0.0,
        );
    }
    l.y += 6.0;
    l.paragraph(
        &format!(
            "Report {} made with greenlight. Check this file with `greenlight report verify FILE`. Open escalations are aged at the report's time ({}).",
            r.report_id,
            r.escalations.first().map_or_else(|| "none open".to_owned(), |e| format!("oldest {}", age(e.age_hours)))
        ),
        8.0,
        false,
        MUTED,
        0.0,
    );
    l.pages
}

fn colour((r, g, b): (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(r, g, b).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

pub(crate) fn render(r: &Report) -> Result<Vec<u8>, Error> {
    let regular = Font::new(REGULAR.into(), 0)
        .ok_or_else(|| Error::Pdf("the bundled regular font does not load".to_owned()))?;
    let bold = Font::new(BOLD.into(), 0)
        .ok_or_else(|| Error::Pdf("the bundled bold font does not load".to_owned()))?;
    let pages = lay_out(r);
    let total = pages.len();
    let mut doc = Document::new();
    doc.set_metadata(
        Metadata::new()
            .title(format!("AI use report: {}", r.production.title))
            .creator("greenlight".to_owned())
            .document_id(r.report_id.clone()),
    );
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H)
        .ok_or_else(|| Error::Pdf("bad page size".to_owned()))?;
    for (n, ops) in pages.iter().enumerate() {
        let mut page = doc.start_page_with(settings.clone());
        let mut surface = page.surface();
        for op in ops {
            match op {
                Op::Text {
                    x,
                    y,
                    size,
                    bold: b,
                    colour: c,
                    text,
                } => {
                    if text.is_empty() {
                        continue;
                    }
                    surface.set_fill(Some(colour(*c)));
                    surface.draw_text(
                        Point::from_xy(*x, *y),
                        if *b { bold.clone() } else { regular.clone() },
                        *size,
                        text,
                        false,
                        TextDirection::Auto,
                    );
                }
                Op::Rect {
                    x,
                    y,
                    w,
                    h,
                    colour: c,
                } => {
                    let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) else {
                        continue;
                    };
                    let mut pb = PathBuilder::new();
                    pb.push_rect(rect);
                    if let Some(path) = pb.finish() {
                        surface.set_fill(Some(colour(*c)));
                        surface.draw_path(&path);
                    }
                }
            }
        }
        let footer = format!("page {} of {total}", n + 1);
        let fw = width(&footer, 8.0, false);
        surface.set_fill(Some(colour(MUTED)));
        surface.draw_text(
            Point::from_xy(PAGE_W - MARGIN - fw, PAGE_H - MARGIN + 4.0),
            regular.clone(),
            8.0,
            &footer,
            false,
            TextDirection::Auto,
        );
        let left = printable(&format!("{} · report {}", r.production.title, r.report_id));
        surface.draw_text(
            Point::from_xy(MARGIN, PAGE_H - MARGIN + 4.0),
            regular.clone(),
            8.0,
            &left,
            false,
            TextDirection::Auto,
        );
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| Error::Pdf(format!("{e:?}")))
}
