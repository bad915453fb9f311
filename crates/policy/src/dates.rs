//! A pack's dates (`effective`, `expires`): calendar days, no clock.
//!
//! The crate never reads the time: the caller says on which day an
//! assessment is made ([`crate::Policy::assess_on`]), and a layer applied
//! outside its dates says so in the decision.

use std::fmt;
use std::str::FromStr;

/// A calendar day (proleptic Gregorian), e.g. `2026-06-30`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PackDate {
    year: u16,
    month: u8,
    day: u8,
}

impl PackDate {
    /// The day, when `year-month-day` is a real date (years 1000 to 9999).
    pub fn new(year: u16, month: u8, day: u8) -> Option<PackDate> {
        if !(1000..=9999).contains(&year) || !(1..=12).contains(&month) || day == 0 {
            return None;
        }
        let leap =
            (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        (day <= days).then_some(PackDate { year, month, day })
    }
}

impl fmt::Display for PackDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Why a text is not a day.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a date (YYYY-MM-DD)")]
pub struct BadDate(pub String);

impl FromStr for PackDate {
    type Err = BadDate;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || BadDate(text.to_owned());
        let mut parts = text.split('-');
        let (Some(y), Some(m), Some(d), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return Err(bad());
        }
        let year = y.parse().map_err(|_| bad())?;
        let month = m.parse().map_err(|_| bad())?;
        let day = d.parse().map_err(|_| bad())?;
        PackDate::new(year, month, day).ok_or_else(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::PackDate;

    #[test]
    fn days_parse_and_print_and_order() {
        let a: PackDate = "2026-06-30".parse().unwrap();
        let b: PackDate = "2026-08-02".parse().unwrap();
        assert!(a < b);
        assert_eq!(a.to_string(), "2026-06-30");
        assert!("2024-02-29".parse::<PackDate>().is_ok());
        for bad in [
            "2023-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-6-30",
            "26-06-30",
            "2026-06-31",
            "soon",
            "",
            "+026-06-30",
        ] {
            assert!(bad.parse::<PackDate>().is_err(), "{bad}");
        }
    }
}
