//! The HTML format: one self-contained page (inline CSS, inline SVG charts, no
//! script, no link out), with print CSS (tables break across pages with their
//! header repeated). Every text from the ledger is escaped.

use std::fmt::Write as _;

use crate::chart::{Chart, charts};
use crate::{Report, facts, tables};

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; font-size: 14px; color: #1b1f24; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 2px solid #1f5f99; padding-bottom: .2rem; }
h3 { font-size: 1rem; margin: 1rem 0 .3rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dl.facts dt { font-weight: bold; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.bad { color: #c62828; font-weight: bold; }
.charts { display: flex; flex-wrap: wrap; gap: 1.5rem; }
.charts figure { margin: 0; }
.charts figcaption { font-weight: bold; margin-bottom: .3rem; }
table { border-collapse: collapse; width: 100%; font-size: 12px; }
th, td { border: 1px solid #c9d1d9; padding: .25rem .4rem; text-align: left; vertical-align: top; overflow-wrap: break-word; }
td:first-child { overflow-wrap: anywhere; min-width: 8em; }
thead th { background: #eef3f8; }
tbody tr:nth-child(even) { background: #f8fafc; }
.empty { color: #57606a; font-style: italic; }
.common { color: #57606a; margin: 0.2em 0; }
.notice { border-left: 4px solid #1f5f99; background: #f3f7fb; padding: .5rem .8rem; margin: .4rem 0; }
.cites { color: #57606a; font-size: 12px; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { break-after: avoid; }
  thead { display: table-header-group; }
  tr, .notice, figure { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  @page { size: A4; margin: 15mm; @bottom-right { content: "page " counter(page) " of " counter(pages); } }
}
"#;

fn svg(chart: &Chart) -> String {
    let row = 22u32;
    let label_w = 150u32;
    let bar_w = 260u32;
    let height = row * u32::try_from(chart.bars.len().max(1)).unwrap_or(1) + 8;
    let scale = chart.scale() as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" viewBox="0 0 {w} {height}" role="img" aria-label="{title}">"#,
        w = label_w + bar_w + 50,
        title = escape(chart.title)
    );
    if chart.bars.is_empty() {
        s.push_str(r##"<text x="0" y="16" font-size="12" fill="#57606a">none</text>"##);
    }
    for (i, bar) in chart.bars.iter().enumerate() {
        let y = row * u32::try_from(i).unwrap_or(0) + 4;
        let w = (bar.count as f64 / scale * f64::from(bar_w)).round();
        let (r, g, b) = bar.colour;
        let _ = write!(
            s,
            r##"<text x="{lx}" y="{ty}" font-size="12" text-anchor="end" fill="#1b1f24">{label}</text><rect x="{label_w}" y="{y}" width="{w}" height="{h}" fill="#{r:02x}{g:02x}{b:02x}"/><text x="{cx}" y="{ty}" font-size="12" fill="#1b1f24">{count}</text>"##,
            lx = label_w - 6,
            ty = y + 13,
            label = escape(&bar.label),
            h = row - 6,
            cx = f64::from(label_w) + w + 4.0,
            count = bar.count
        );
    }
    s.push_str("</svg>");
    s
}

/// Renders the page.
pub(crate) fn render(r: &Report) -> String {
    let mut h = String::new();
    let title = format!("AI use report: {}", r.production.title);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"greenlight\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&title)
    );
    let _ = writeln!(h, "<header id=\"summary\"><h1>{}</h1>", escape(&title));
    h.push_str("<dl class=\"facts\">");
    for (k, v) in facts(r) {
        let class = if k == "Audit log" && !r.audit.ok
            || k == "Delivery gate" && r.gate.result == "failed"
        {
            " class=\"bad\""
        } else {
            ""
        };
        let _ = write!(h, "<dt>{}</dt><dd{class}>{}</dd>", escape(k), escape(&v));
    }
    h.push_str("</dl></header>\n");

    h.push_str("<section id=\"charts\"><h2>At a glance</h2><div class=\"charts\">");
    for chart in charts(r) {
        let _ = write!(
            h,
            "<figure><figcaption>{}</figcaption>{}</figure>",
            escape(chart.title),
            svg(&chart)
        );
    }
    h.push_str("</div></section>\n");

    h.push_str("<section id=\"disclosures\"><h2>Disclosures owed</h2>");
    if r.disclosures.is_empty() {
        h.push_str("<p class=\"empty\">None owed by the uses and overlays recorded.</p>");
    }
    for d in &r.disclosures {
        let _ = write!(
            h,
            "<article class=\"disclosure\" id=\"disclosure-{}\"><h3>{}</h3><div class=\"notice\">{}</div><p><b>Where:</b> {}</p>",
            escape(&d.kind),
            escape(&d.title),
            escape(&d.text),
            escape(&d.placement)
        );
        if !d.cites.is_empty() {
            let _ = write!(
                h,
                "<p class=\"cites\">Overlay {}; rules and ids: {}</p>",
                escape(d.overlay.as_deref().unwrap_or("")),
                escape(&d.cites.join(", "))
            );
        }
        let usco = d.kind == "usco_exclusions";
        h.push_str("<table><thead><tr><th>Use</th><th>Material</th><th>Tools and vendors</th>");
        if usco {
            h.push_str("<th>Human contribution</th>");
        }
        h.push_str("</tr></thead><tbody>");
        for i in &d.items {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td>",
                escape(&i.title),
                escape(&i.material),
                escape(&i.tools.join("; "))
            );
            if usco {
                let _ = write!(h, "<td>{}</td>", escape(&i.human_contribution));
            }
            h.push_str("</tr>");
        }
        h.push_str("</tbody></table></article>");
    }
    h.push_str("</section>\n");

    for table in tables(r) {
        if table.name == "disclosures" {
            continue;
        }
        let _ = write!(
            h,
            "<section id=\"{}\"><h2>{}</h2>",
            table.name,
            escape(table.title)
        );
        if table.rows.is_empty() {
            h.push_str("<p class=\"empty\">None.</p></section>\n");
            continue;
        }
        let (common, header, rows) = table.hoisted();
        for (head, value) in &common {
            let _ = write!(
                h,
                "<p class=\"common\"><b>{}</b> (every row): {}</p>",
                escape(head),
                escape(value)
            );
        }
        h.push_str("<table><thead><tr>");
        for c in &header {
            let _ = write!(h, "<th>{}</th>", escape(c));
        }
        h.push_str("</tr></thead><tbody>");
        for row in &rows {
            h.push_str("<tr>");
            for cell in row {
                let _ = write!(h, "<td>{}</td>", escape(cell));
            }
            h.push_str("</tr>");
        }
        h.push_str("</tbody></table></section>\n");
    }

    h.push_str("<section id=\"audit\"><h2>Audit log</h2>");
    let a = &r.audit;
    let _ = write!(
        h,
        "<p>{}</p>",
        escape(&if a.ok {
            format!(
                "Verified at {}: {} entries, {} signed checkpoints, {} records match the log.",
                r.generated_at, a.entries, a.checkpoints, a.records
            )
        } else {
            format!(
                "Verification at {} found {} problem(s):",
                r.generated_at,
                a.problems.len()
            )
        })
    );
    if !a.problems.is_empty() {
        h.push_str("<ul class=\"bad\">");
        for p in &a.problems {
            let _ = write!(h, "<li>{}</li>", escape(p));
        }
        h.push_str("</ul>");
    }
    if let (Some(seq), Some(hash)) = (&a.head_seq, &a.head_hash) {
        let _ = write!(h, "<p>Head entry {seq}: <code>{}</code></p>", escape(hash));
    }
    h.push_str("</section>\n");
    let _ = write!(
        h,
        "<footer><p class=\"cites\">Report {} made with greenlight. Check this file with <code>greenlight report verify FILE</code>.</p></footer>\n</body>\n</html>\n",
        escape(&r.report_id)
    );
    h
}
