//! The charts a report draws (uses by outcome, by purpose, escalations by age):
//! horizontal bars, laid out once here and drawn as SVG in HTML and as vector
//! paths in the PDF.

use crate::{Count, Report};

/// A bar chart.
pub(crate) struct Chart {
    pub title: &'static str,
    pub bars: Vec<Bar>,
}

/// One bar: its label, count and colour.
pub(crate) struct Bar {
    pub label: String,
    pub count: u64,
    pub colour: (u8, u8, u8),
}

const GREY: (u8, u8, u8) = (0x55, 0x66, 0x77);

fn level_colour(label: &str) -> (u8, u8, u8) {
    match label {
        "notify" => (0x2e, 0x7d, 0x32),
        "escalate" => (0xef, 0x8f, 0x00),
        "blocked" => (0xc6, 0x28, 0x28),
        _ => GREY,
    }
}

fn bars(counts: &[Count], colour: impl Fn(&str) -> (u8, u8, u8)) -> Vec<Bar> {
    counts
        .iter()
        .map(|c| Bar {
            label: c.label.replace('_', " "),
            count: c.count,
            colour: colour(&c.label),
        })
        .collect()
}

/// The report's charts, in order.
pub(crate) fn charts(r: &Report) -> Vec<Chart> {
    vec![
        Chart {
            title: "Uses by outcome",
            bars: bars(&r.summary.by_outcome, level_colour),
        },
        Chart {
            title: "Uses by purpose",
            bars: bars(&r.summary.by_purpose, |_| (0x1f, 0x5f, 0x99)),
        },
        Chart {
            title: "Open escalations by age",
            bars: bars(&r.summary.escalations_by_age, |_| (0xef, 0x8f, 0x00)),
        },
    ]
}

impl Chart {
    /// The largest count, at least 1 (the scale).
    pub fn scale(&self) -> u64 {
        self.bars.iter().map(|b| b.count).max().unwrap_or(0).max(1)
    }
}
