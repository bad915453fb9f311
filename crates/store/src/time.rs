//! Time as an argument: a [`Timestamp`] in UTC and the [`Clock`] that gives it.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

use chrono::{DateTime, Timelike, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::StoreError;

/// An instant in UTC, kept to the microsecond.
///
/// Its text form is fixed (`2026-11-27T12:00:00.000000Z`), so that what is
/// hashed in the audit log is the same on every backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// The instant, truncated to the microsecond.
    pub fn from_datetime(at: DateTime<Utc>) -> Self {
        let micros = at.nanosecond() / 1_000 * 1_000;
        Timestamp(at.with_nanosecond(micros).unwrap_or(at))
    }

    /// The instant as a chrono value.
    pub fn as_datetime(&self) -> DateTime<Utc> {
        self.0
    }

    /// This instant moved by `delta` (negative moves it back).
    pub fn plus(&self, delta: chrono::TimeDelta) -> Self {
        Timestamp::from_datetime(self.0 + delta)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%dT%H:%M:%S%.6fZ"))
    }
}

impl FromStr for Timestamp {
    type Err = StoreError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        DateTime::parse_from_rfc3339(text)
            .map(|at| Timestamp::from_datetime(at.with_timezone(&Utc)))
            .map_err(|e| StoreError::Other(format!("bad timestamp `{text}`: {e}")))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Where the ledger reads the time. Tests pass a [`ManualClock`].
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_datetime(Utc::now())
    }
}

/// A clock that shows what it is set to, for tests and replays.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    /// A clock stopped at `at`.
    pub fn new(at: Timestamp) -> Self {
        ManualClock(Mutex::new(at))
    }

    /// Sets the clock to `at`.
    pub fn set(&self, at: Timestamp) {
        if let Ok(mut now) = self.0.lock() {
            *now = at;
        }
    }

    /// Moves the clock on by `delta`.
    pub fn advance(&self, delta: chrono::TimeDelta) {
        if let Ok(mut now) = self.0.lock() {
            *now = now.plus(delta);
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        match self.0.lock() {
            Ok(now) => *now,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing test stops at the error")]
mod tests {
    use super::*;

    #[test]
    fn text_form_is_fixed_and_round_trips() {
        let at: Timestamp = "2026-11-27T12:00:00.123456789+01:00".parse().unwrap();
        assert_eq!(at.to_string(), "2026-11-27T11:00:00.123456Z");
        assert_eq!(at.to_string().parse::<Timestamp>().unwrap(), at);
    }
}
