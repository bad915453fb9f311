//! The disclosures a production owes (overlays-spec, "Disclosure texts the
//! reports produce"), from its uses as triaged and the overlays it records.
//!
//! Pure: no I/O, no clock. A disclosure is owed by what is released, so it is
//! computed from the declaration's answers with the same triggers as the
//! overlay's rules (which fire while the disclosure is not yet made, and fall
//! silent once `output.disclosed` is `yes`: the disclosure is owed all the
//! same). A blocked or rejected use cannot be released and owes nothing.
//! Each disclosure cites the overlay's rule ids and the spec ids they cite.

use greenlight_core::{
    Answer, Declaration, Level, Medium, ProductionKind, Purpose, ReplicaKind, Stage, Territory,
};

use crate::model::{Disclosure, DisclosureItem};
use crate::names::name;

/// The EU AI Act Article 50 overlay's id.
pub const EU_ART50: &str = "eu-ai-act-art50";
/// The New York overlay's id.
pub const US_NY: &str = "us-ny";
/// The Copyright Office registration overlay's id.
pub const USCO: &str = "usco-registration";

/// One use, as the disclosures read it.
#[derive(Clone, Debug)]
pub struct UseFacts<'a> {
    /// The declaration's id.
    pub declaration_id: String,
    /// Its title.
    pub title: String,
    /// The declaration as triaged (registry answers filled in).
    pub declaration: &'a Declaration,
    /// The level in force, `None` when undecided.
    pub level: Option<Level>,
    /// Its latest review on the current decision is a rejection.
    pub rejected: bool,
}

impl UseFacts<'_> {
    /// May reach what is released: not blocked, not rejected, not certainly kept out of the
    /// deliverables.
    fn released(&self) -> bool {
        self.level != Some(Level::Blocked)
            && !self.rejected
            && self.declaration.output.final_deliverable != Answer::No
    }

    fn in_territory(&self, territory: Territory) -> bool {
        let t = &self.declaration.release_territories;
        t.is_empty() || t.contains(&territory)
    }

    fn item(&self, human_contribution: String) -> DisclosureItem {
        let d = self.declaration;
        let media: Vec<String> = d.media.iter().map(name::<Medium>).collect();
        let mut material = format!("{} ({})", self.title, name(&d.purpose).replace('_', " "));
        if !media.is_empty() {
            material.push_str(", ");
            material.push_str(&media.join(", "));
        }
        if !d.description.trim().is_empty() {
            material.push_str(": ");
            material.push_str(d.description.trim());
        }
        DisclosureItem {
            declaration_id: self.declaration_id.clone(),
            title: self.title.clone(),
            material,
            tools: tools(d),
            human_contribution,
        }
    }
}

/// Every tool of a declaration as `name (vendor)`.
pub fn tools(d: &Declaration) -> Vec<String> {
    d.tools
        .iter()
        .map(|t| match (t.name.trim(), t.vendor.trim()) {
            ("", "") => "unnamed tool".to_owned(),
            (n, "") => n.to_owned(),
            ("", v) => format!("a tool by {v}"),
            (n, v) => format!("{n} ({v})"),
        })
        .collect()
}

fn non_fiction(kind: ProductionKind) -> bool {
    matches!(
        kind,
        ProductionKind::Documentary | ProductionKind::Unscripted
    )
}

/// The disclosures owed, in a fixed order: EU notice line, EU labels, NY ad notice,
/// Copyright Office table, credits list. A disclosure with nothing to cover is left out.
pub fn disclosures(
    kind: ProductionKind,
    overlays: &[String],
    uses: &[UseFacts<'_>],
) -> Vec<Disclosure> {
    let has = |id: &str| overlays.iter().any(|o| o == id);
    let mut out = Vec::new();
    if has(EU_ART50) {
        let deep_fakes: Vec<&UseFacts<'_>> = uses
            .iter()
            .filter(|u| {
                let o = &u.declaration.output;
                u.released()
                    && u.in_territory(Territory::Eu)
                    && (o.depicts_real_people != Answer::No || o.depicts_real_events != Answer::No)
            })
            .collect();
        let (labelled, noticed): (Vec<&UseFacts<'_>>, Vec<&UseFacts<'_>>) = deep_fakes
            .into_iter()
            .partition(|u| non_fiction(kind) || u.declaration.output.could_mislead == Answer::Yes);
        // A labelled use is in the credits line too.
        let credited: Vec<&UseFacts<'_>> = noticed.iter().chain(labelled.iter()).copied().collect();
        if !credited.is_empty() {
            let titles: Vec<&str> = credited.iter().map(|u| u.title.as_str()).collect();
            out.push(Disclosure {
                kind: "eu_art50_notice".to_owned(),
                title: "EU AI Act Article 50(4): notice line".to_owned(),
                overlay: Some(EU_ART50.to_owned()),
                cites: vec!["eu50-4-deep-fake-fiction".to_owned(), "EU50-4".to_owned()],
                text: format!(
                    "Contains AI-generated or AI-manipulated imagery: {}.",
                    titles.join("; ")
                ),
                placement: "the credits or the platform's description, at the latest at first \
                            exposure, without hampering the work"
                    .to_owned(),
                items: credited.iter().map(|u| u.item(String::new())).collect(),
            });
        }
        if !labelled.is_empty() {
            out.push(Disclosure {
                kind: "eu_art50_label".to_owned(),
                title: "EU AI Act Article 50(4): visible label".to_owned(),
                overlay: Some(EU_ART50.to_owned()),
                cites: vec![
                    "eu50-4-deep-fake-misleading".to_owned(),
                    "EU50-4".to_owned(),
                ],
                text: "AI-generated or AI-manipulated content".to_owned(),
                placement: if non_fiction(kind) {
                    "on the content itself, visible at first exposure (non-fiction), and in the \
                     credits line"
                        .to_owned()
                } else {
                    "on the content itself, visible at first exposure (it could be taken for \
                     authentic), and in the credits line"
                        .to_owned()
                },
                items: labelled.iter().map(|u| u.item(String::new())).collect(),
            });
        }
    }
    if has(US_NY) {
        let ads: Vec<&UseFacts<'_>> = uses
            .iter()
            .filter(|u| {
                let d = u.declaration;
                let ad = d.output.advertisement == Answer::Yes
                    || (d.output.advertisement == Answer::Unsure && d.stage == Stage::Marketing);
                let synthetic = d.purpose == Purpose::SyntheticPerformer
                    || d.performers
                        .iter()
                        .any(|p| p.replica_kind == ReplicaKind::Synthetic);
                u.released() && u.in_territory(Territory::UsNy) && ad && synthetic
            })
            .collect();
        if !ads.is_empty() {
            out.push(Disclosure {
                kind: "ny_ad_notice".to_owned(),
                title: "New York General Business Law §396-b: synthetic performer notice"
                    .to_owned(),
                overlay: Some(US_NY.to_owned()),
                cites: vec![
                    "ny-gbl396-b-ad-disclosure".to_owned(),
                    "NY-GBL396-B".to_owned(),
                ],
                text: "This advertisement features a synthetic performer: a digitally created \
                       likeness made with generative AI, not a real person."
                    .to_owned(),
                placement: "conspicuously in each advertisement (exemptions for audio-only ads, \
                            translation only and ads for expressive works are to be confirmed \
                            by legal)"
                    .to_owned(),
                items: ads.iter().map(|u| u.item(String::new())).collect(),
            });
        }
    }
    if has(USCO) {
        let registered: Vec<&UseFacts<'_>> = uses
            .iter()
            .filter(|u| u.released() && u.declaration.copyright_registration != Answer::No)
            .collect();
        if !registered.is_empty() {
            out.push(Disclosure {
                kind: "usco_exclusions".to_owned(),
                title: "US Copyright Office: AI-generated material to exclude".to_owned(),
                overlay: Some(USCO.to_owned()),
                cites: vec![
                    "usco-disclose".to_owned(),
                    "usco-registration-unsure".to_owned(),
                    "USCO-DISCLOSE".to_owned(),
                ],
                text: "Material generated by AI, to be disclosed and excluded from the claim; \
                       the claim rests on the human contribution. No AI is named as an author."
                    .to_owned(),
                placement: "the registration application (Limitation of the Claim: material \
                            excluded, new material included); a use whose registration is \
                            unsure is listed until it is answered"
                    .to_owned(),
                items: registered
                    .iter()
                    .map(|u| u.item(human_contribution(u.declaration)))
                    .collect(),
            });
        }
    }
    let credits: Vec<&UseFacts<'_>> = uses
        .iter()
        .filter(|u| u.released() && u.declaration.output.final_deliverable == Answer::Yes)
        .collect();
    if !credits.is_empty() {
        out.push(Disclosure {
            kind: "credits".to_owned(),
            title: "Credits: generative AI in the final cut".to_owned(),
            overlay: None,
            cites: Vec::new(),
            text: "Generative AI was used in the making of this work as listed, with the tools \
                   and vendors named."
                .to_owned(),
            placement: "the end credits and the delivery paperwork (trade practice); a use \
                        still awaiting review is listed until it is decided, and drops out if \
                        it is rejected or blocked"
                .to_owned(),
            items: credits.iter().map(|u| u.item(String::new())).collect(),
        });
    }
    out
}

/// The human contribution claimed around a generated element: the declaration's own words,
/// or, when it describes none, what its purpose usually leaves to people, marked as a
/// suggestion for legal to confirm or replace before filing.
fn human_contribution(d: &Declaration) -> String {
    let declared = d.human_contribution.trim();
    if !declared.is_empty() {
        return declared.to_owned();
    }
    let around = match d.purpose {
        Purpose::Vfx | Purpose::BackgroundElement | Purpose::Prop | Purpose::Restoration => {
            "compositing, selection and arrangement of the generated elements in human-shot \
             footage"
        }
        Purpose::ScriptDevelopment => "the writers' text, as revised and arranged by them",
        Purpose::VoiceSynthesis | Purpose::Localization => {
            "the human-written dialogue and the direction and editing of the performance"
        }
        Purpose::TalentReplica
        | Purpose::TalentAlteration
        | Purpose::DeAging
        | Purpose::SyntheticPerformer
        | Purpose::CrowdReplication => {
            "the human performances, direction and editing around the generated likeness"
        }
        _ => {
            "the selection, arrangement and modification of the generated material by the \
              production's crew"
        }
    };
    format!("not described in the declaration; suggested: {around} (to be confirmed by legal)")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing, reason = "a failing test stops at the error")]
    use super::*;

    fn decl(text: &str) -> Declaration {
        match Declaration::parse(text, greenlight_core::SourceFormat::Toml) {
            Ok(d) => d,
            Err(e) => unreachable!("test declaration: {e:?}"),
        }
    }

    const BASE: &str = "title = \"x\"\nproduction = \"p\"\nproduction_kind = \"scripted\"\nstage = \"post_production\"\npurpose = \"vfx\"\n";

    fn facts<'a>(d: &'a Declaration, level: Level) -> UseFacts<'a> {
        UseFacts {
            declaration_id: "d1".to_owned(),
            title: "Crowd".to_owned(),
            declaration: d,
            level: Some(level),
            rejected: false,
        }
    }

    #[test]
    fn a_blocked_or_rejected_use_owes_nothing() {
        let d = decl(&format!("{BASE}[output]\nfinal_deliverable = \"yes\"\n"));
        let all = vec![EU_ART50.to_owned(), US_NY.to_owned(), USCO.to_owned()];
        assert!(
            disclosures(ProductionKind::Scripted, &all, &[facts(&d, Level::Blocked)]).is_empty()
        );
        let mut rejected = facts(&d, Level::Escalate);
        rejected.rejected = true;
        assert!(disclosures(ProductionKind::Scripted, &all, &[rejected]).is_empty());
        let owed = disclosures(
            ProductionKind::Scripted,
            &all,
            &[facts(&d, Level::Escalate)],
        );
        assert!(owed.iter().any(|o| o.kind == "credits"));
    }

    #[test]
    fn without_the_overlay_there_is_no_overlay_disclosure() {
        let d = decl(&format!("{BASE}[output]\nfinal_deliverable = \"yes\"\n"));
        let owed = disclosures(ProductionKind::Scripted, &[], &[facts(&d, Level::Notify)]);
        assert_eq!(owed.len(), 1);
        assert_eq!(owed[0].kind, "credits");
    }
}
