//! Colours, shown on a terminal only (anstream strips them elsewhere and
//! honours NO_COLOR).

use anstyle::{AnsiColor, Style};
use greenlight_core::Level;

pub const ERROR: Style = AnsiColor::Red.on_default().bold();
pub const BOLD: Style = Style::new().bold();
pub const DIM: Style = Style::new().dimmed();
pub const WARNING: Style = AnsiColor::Yellow.on_default().bold();

pub fn level(level: Level) -> Style {
    match level {
        Level::Notify => AnsiColor::Green.on_default().bold(),
        Level::Escalate => AnsiColor::Yellow.on_default().bold(),
        Level::Blocked => AnsiColor::Red.on_default().bold(),
    }
}
