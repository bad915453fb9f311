//! Exit codes, one per outcome.

use std::process::ExitCode;

use greenlight_core::Level;

/// How the command ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// 0: success, or the strictest decision was notify.
    Notify,
    /// 3: the strictest decision was escalate.
    Escalate,
    /// 4: the strictest decision was blocked.
    Blocked,
    /// 1: something could not be read, checked or assessed.
    Error,
}

impl From<Level> for Exit {
    fn from(level: Level) -> Exit {
        match level {
            Level::Notify => Exit::Notify,
            Level::Escalate => Exit::Escalate,
            Level::Blocked => Exit::Blocked,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(match exit {
            Exit::Notify => 0,
            Exit::Escalate => 3,
            Exit::Blocked => 4,
            Exit::Error => 1,
        })
    }
}
