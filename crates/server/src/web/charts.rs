//! Small charts drawn on the server as inline SVG: stacked columns (uses by outcome per week)
//! and horizontal bars (uses by purpose). No script and no style attribute (the pages'
//! Content-Security-Policy allows neither): shapes and text with presentation attributes
//! only. Each chart is an image with a `<title>` and a `<desc>` (`role="img"`), and the page
//! shows the same numbers as a summary line and a table; every text is escaped here. No
//! data, or a single point, draws an empty frame or one bar, never a division by zero.

use std::fmt::Write as _;

/// The text colour of labels (the stylesheet's `--ink`).
const INK: &str = "#1b1f23";
/// The axis and grid colour (the stylesheet's `--muted`, 3:1 or more on white).
const AXIS: &str = "#4a535c";

/// A series of a stacked chart: its name and its colour (4.5:1 or more on white).
pub struct Series {
    /// What it counts.
    pub label: &'static str,
    /// Its fill.
    pub colour: &'static str,
}

/// The outcomes' series, in the order they stack (the stylesheet's level colours).
pub const OUTCOMES: [Series; 3] = [
    Series {
        label: "notify",
        colour: "#1d6b35",
    },
    Series {
        label: "escalate",
        colour: "#8a4b00",
    },
    Series {
        label: "blocked",
        colour: "#a4161a",
    },
];

/// The bars' colour of a one-series chart (the stylesheet's `--accent`).
pub const ACCENT: &str = "#0b5cad";

/// Text made safe for SVG (and HTML) content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A length as SVG writes it: one decimal.
fn n(value: f64) -> String {
    format!("{value:.1}")
}

/// The opening of a chart: an image `id` titled `title`, described by `desc`.
fn open(out: &mut String, id: &str, width: u32, height: u32, title: &str, desc: &str) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" \
         width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" \
         aria-labelledby=\"{id}-title {id}-desc\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>",
        escape(title),
        escape(desc)
    );
}

/// Stacked columns: one column per `(label, values)`, the values in `series`' order.
pub fn stacked_columns(
    id: &str,
    title: &str,
    desc: &str,
    series: &[Series],
    columns: &[(String, Vec<u64>)],
) -> String {
    let (width, height) = (560_u32, 240_u32);
    let (left, right, top, bottom) = (44.0, 12.0, 34.0, 40.0);
    let plot_w = f64::from(width) - left - right;
    let plot_h = f64::from(height) - top - bottom;
    let max = columns
        .iter()
        .map(|(_, v)| v.iter().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut out = String::new();
    open(&mut out, id, width, height, title, desc);
    // The legend, across the top.
    let mut x = left;
    for s in series {
        let _ = write!(
            out,
            "<rect x=\"{}\" y=\"8\" width=\"14\" height=\"14\" fill=\"{}\"/>\
             <text x=\"{}\" y=\"20\" font-size=\"13\" fill=\"{INK}\">{}</text>",
            n(x),
            s.colour,
            n(x + 19.0),
            escape(s.label)
        );
        x += 34.0 + 8.0 * s.label.len() as f64;
    }
    // The axis: zero and the largest total.
    let base = top + plot_h;
    let _ = write!(
        out,
        "<line x1=\"{l}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"{AXIS}\"/>\
         <line x1=\"{l}\" y1=\"{t}\" x2=\"{r}\" y2=\"{t}\" stroke=\"{AXIS}\" stroke-dasharray=\"3 3\"/>\
         <text x=\"{lx}\" y=\"{by}\" font-size=\"12\" text-anchor=\"end\" fill=\"{INK}\">0</text>\
         <text x=\"{lx}\" y=\"{ty}\" font-size=\"12\" text-anchor=\"end\" fill=\"{INK}\">{max}</text>",
        l = n(left),
        r = n(left + plot_w),
        b = n(base),
        t = n(top),
        lx = n(left - 6.0),
        by = n(base + 4.0),
        ty = n(top + 4.0),
    );
    let count = columns.len().max(1) as f64;
    let slot = plot_w / count;
    let bar = (slot * 0.6).min(48.0);
    for (i, (label, values)) in columns.iter().enumerate() {
        let cx = left + slot * (i as f64 + 0.5);
        let mut y = base;
        for (s, value) in series.iter().zip(values) {
            if *value == 0 {
                continue;
            }
            let h = plot_h * (*value as f64) / (max as f64);
            y -= h;
            let _ = write!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"#ffffff\" \
                 stroke-width=\"1\"><title>{}: {value} {}</title></rect>",
                n(cx - bar / 2.0),
                n(y),
                n(bar),
                n(h),
                s.colour,
                escape(label),
                escape(s.label)
            );
        }
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\" fill=\"{INK}\">{}</text>",
            n(cx),
            n(base + 18.0),
            escape(label)
        );
    }
    out.push_str("</svg>");
    out
}

/// Horizontal bars, one per `(label, value)`, largest first as given.
pub fn bars(id: &str, title: &str, desc: &str, colour: &str, items: &[(String, u64)]) -> String {
    let width = 560_u32;
    let row = 26.0;
    let (label_w, value_w) = (170.0, 40.0);
    let rows = items.len().max(1);
    let height = (row * rows as f64 + 12.0).ceil() as u32;
    let plot_w = f64::from(width) - label_w - value_w - 8.0;
    let max = items.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let mut out = String::new();
    open(&mut out, id, width, height, title, desc);
    let _ = write!(
        out,
        "<line x1=\"{x}\" y1=\"4\" x2=\"{x}\" y2=\"{}\" stroke=\"{AXIS}\"/>",
        height.saturating_sub(4),
        x = n(label_w),
    );
    if items.is_empty() {
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"22\" font-size=\"13\" fill=\"{INK}\">no use yet</text>",
            n(label_w + 8.0)
        );
    }
    for (i, (label, value)) in items.iter().enumerate() {
        let y = 6.0 + row * i as f64;
        let w = plot_w * (*value as f64) / (max as f64);
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" font-size=\"13\" text-anchor=\"end\" fill=\"{INK}\">{}</text>\
             <rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{colour}\">\
             <title>{}: {value}</title></rect>\
             <text x=\"{}\" y=\"{}\" font-size=\"13\" fill=\"{INK}\">{value}</text>",
            n(label_w - 6.0),
            n(y + 15.0),
            escape(label),
            n(label_w),
            n(y + 2.0),
            n(w),
            n(row - 8.0),
            escape(label),
            n(label_w + w + 6.0),
            n(y + 15.0),
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<b a=\"1\">&'</b>"),
            "&lt;b a=&quot;1&quot;&gt;&amp;&#39;&lt;/b&gt;"
        );
        let svg = bars("p", "<t>", "d&", ACCENT, &[("<x>".to_owned(), 2)]);
        assert!(svg.contains("&lt;x&gt;"));
        assert!(!svg.contains("<x>"));
        assert!(svg.contains("<title id=\"p-title\">&lt;t&gt;</title>"));
    }

    #[test]
    fn no_data_and_one_point_draw() {
        for svg in [
            stacked_columns("a", "t", "d", &OUTCOMES, &[]),
            stacked_columns("a", "t", "d", &OUTCOMES, &[("w".to_owned(), vec![0, 0, 0])]),
            bars("b", "t", "d", ACCENT, &[]),
            bars("b", "t", "d", ACCENT, &[("x".to_owned(), 0)]),
        ] {
            assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{svg}");
            assert!(svg.contains("role=\"img\""));
            assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        }
        let one = stacked_columns("a", "t", "d", &OUTCOMES, &[("w".to_owned(), vec![1, 2, 3])]);
        assert_eq!(
            one.matches("<rect").count(),
            3 + 3,
            "legend and three segments"
        );
        assert!(
            one.contains(">6</text>"),
            "the axis shows the largest total"
        );
    }

    #[test]
    fn segments_stack_to_the_total() {
        let svg = stacked_columns(
            "a",
            "t",
            "d",
            &OUTCOMES,
            &[
                ("w1".to_owned(), vec![2, 0, 2]),
                ("w2".to_owned(), vec![1, 0, 0]),
            ],
        );
        // The tallest column fills the plot: 166 units high from y = 34.
        assert!(
            svg.contains("y=\"117.0\"") && svg.contains("height=\"83.0\""),
            "{svg}"
        );
        assert!(svg.contains("<title>w2: 1 notify</title>"));
    }
}
