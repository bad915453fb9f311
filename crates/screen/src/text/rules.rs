//! The rule a hit raises, by category, with the ids of the policy specification it cites.
//!
//! | category | rule | cites | level | basis |
//! |---|---|---|---|---|
//! | copyrighted work | `screen-copyrighted-work` | C2b, P1 | escalate | guidance: C2b names prompts that reference copyrighted works; P1 outputs must not recreate them |
//! | character | `screen-character` | C2b, P1 | escalate | interpretation: a character is copyrighted material (C2b, P1) |
//! | living artist | `screen-living-artist` | C1b, P1 | escalate | guidance: C1b's example is mimicking an artist's style; P1 |
//! | public figure | `screen-public-figure` | C2b, C3a | escalate | guidance: C2b names the likeness of public figures; C3a real talent |
//! | deceased personality | `screen-deceased-personality` | C2b, C3a | escalate | guidance: C2b names deceased people (estate consent) |
//! | brand or trademark | `screen-brand` | P1 | escalate | interpretation: a mark is unowned material under P1 |
//! | performer without consent | `screen-performer-without-consent` | C3a, P5 | blocked | guidance: C3a needs documented consent, which no approval replaces |
//!
//! A hit is a name in the text, not a finding that the use is wrong: escalate means "a
//! reviewer looks before this goes on", as for any other reference the declaration lists.

use greenlight_core::{Basis, Level};
use serde::Serialize;

use super::Category;

/// The rule a hit raises.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// The rule's id.
    pub id: &'static str,
    /// The ids of the policy specification it rests on.
    pub cites: &'static [&'static str],
    /// The level it raises.
    pub level: Level,
    /// Whether the guidance says it, or it is our reading.
    pub basis: Basis,
    /// What it means, for people.
    pub reason: &'static str,
}

/// The rule for a category (see the module docs for the table).
pub fn rule_for(category: Category) -> Rule {
    use Category as C;
    let (id, cites, level, basis, reason): (_, &'static [&'static str], _, _, _) = match category {
        C::CopyrightedWork => (
            "screen-copyrighted-work",
            &["C2b", "P1"],
            Level::Escalate,
            Basis::Guidance,
            "references a copyrighted work: needs permission, and the output must not recreate it",
        ),
        C::Character => (
            "screen-character",
            &["C2b", "P1"],
            Level::Escalate,
            Basis::Interpretation,
            "references a protected character: needs permission, and the output must not recreate it",
        ),
        C::LivingArtist => (
            "screen-living-artist",
            &["C1b", "P1"],
            Level::Escalate,
            Basis::Guidance,
            "names a living artist: imitating an artist's style or work needs legal clearance",
        ),
        C::PublicFigure => (
            "screen-public-figure",
            &["C2b", "C3a"],
            Level::Escalate,
            Basis::Guidance,
            "names a public figure: their likeness needs permission and documented consent",
        ),
        C::DeceasedPersonality => (
            "screen-deceased-personality",
            &["C2b", "C3a"],
            Level::Escalate,
            Basis::Guidance,
            "names a deceased personality: their likeness needs the estate's consent",
        ),
        C::Brand => (
            "screen-brand",
            &["P1"],
            Level::Escalate,
            Basis::Interpretation,
            "names a brand or trademark: unowned material the output must not recreate",
        ),
        C::Performer => (
            "screen-performer-without-consent",
            &["C3a", "P5"],
            Level::Blocked,
            Basis::Guidance,
            "names a performer with no documented consent for this production",
        ),
    };
    Rule {
        id,
        cites,
        level,
        basis,
        reason,
    }
}
