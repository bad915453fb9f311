//! Filling a declaration in from the registry: a registered tool's data terms
//! and a registered performer's consent replace what the declaration says.
//! Pure: the registry and the time are arguments.

use std::collections::HashMap;

use greenlight_core::{Answer, Declaration};

use crate::error::{Result, Rule, StoreError};
use crate::ids::{PerformerId, ProductionId, ToolId};
use crate::records::{Consent, ConsentStatus, Performer, Tool, needs_consent};
use crate::time::Timestamp;

/// The registry records a declaration names.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    /// Registered tools by id.
    pub tools: HashMap<ToolId, Tool>,
    /// Registered performers by id, each with all their consents.
    pub performers: HashMap<PerformerId, (Performer, Vec<Consent>)>,
    /// The registered performers whose names the declaration gives without an id, by the
    /// name as [`fold_name`] folds it (several when more than one performer has the name).
    pub by_name: HashMap<String, Vec<PerformerId>>,
}

impl Registry {
    /// Notes, by name, the performers among `registered` whose names `declaration` gives
    /// without an id, and returns them: the caller adds each, with its consents, to
    /// [`Registry::performers`].
    pub fn add_named<'p>(
        &mut self,
        declaration: &Declaration,
        registered: impl IntoIterator<Item = &'p Performer>,
    ) -> Vec<&'p Performer> {
        let wanted = unnamed_performers(declaration);
        let mut found = Vec::new();
        if wanted.is_empty() {
            return found;
        }
        for performer in registered {
            let folded = fold_name(&performer.name);
            if wanted.contains(&folded) {
                let ids = self.by_name.entry(folded).or_default();
                if !ids.contains(&performer.id) {
                    ids.push(performer.id);
                    found.push(performer);
                }
            }
        }
        found
    }
}

/// A performer's name as names are matched: case folded, spaces trimmed and runs of
/// white space made one space.
pub fn fold_name(name: &str) -> String {
    name.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The names (folded) of the performers a declaration gives without a registry id.
pub fn unnamed_performers(declaration: &Declaration) -> Vec<String> {
    let mut names: Vec<String> = declaration
        .performers
        .iter()
        .filter(|p| p.id.is_none())
        .map(|p| fold_name(&p.name))
        .filter(|n| !n.is_empty())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// A declaration as triage sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolution {
    /// The declaration with the registry's terms and consents in place.
    pub declaration: Declaration,
    /// What the registry supplied, in words.
    pub notes: Vec<String>,
    /// The registered performers it names.
    pub performers: Vec<PerformerId>,
}

/// The registered tool ids a declaration names.
pub fn named_tools(declaration: &Declaration) -> Result<Vec<ToolId>> {
    declaration
        .tools
        .iter()
        .filter_map(|t| t.id.as_deref())
        .map(str::parse)
        .collect()
}

/// The registered performer ids a declaration names.
pub fn named_performers(declaration: &Declaration) -> Result<Vec<PerformerId>> {
    declaration
        .performers
        .iter()
        .filter_map(|p| p.id.as_deref())
        .map(str::parse)
        .collect()
}

/// The consent state of a registered performer for a use, at `now`, and the
/// consent in force that gives it.
pub fn consent_for<'c>(
    consents: &'c [Consent],
    production: ProductionId,
    performer: &greenlight_core::Performer,
    media: &[greenlight_core::Medium],
    now: Timestamp,
) -> (greenlight_core::Consent, Option<&'c Consent>) {
    let applicable = || {
        consents
            .iter()
            .filter(move |c| c.applies_to(production, performer.use_, media))
    };
    if let Some(consent) = applicable().find(|c| c.in_force(now)) {
        return (greenlight_core::Consent::Documented, Some(consent));
    }
    if applicable().any(|c| c.status == ConsentStatus::Pending && !c.expired(now)) {
        return (greenlight_core::Consent::Pending, None);
    }
    (greenlight_core::Consent::None, None)
}

/// Fills `declaration` in from `registry` for `production` at `now`.
///
/// A tool or performer id that is not in the registry is refused, naming it.
pub fn resolve(
    declaration: &Declaration,
    production: ProductionId,
    registry: &Registry,
    now: Timestamp,
) -> Result<Resolution> {
    let mut resolved = declaration.clone();
    let mut notes = Vec::new();
    let mut performers = Vec::new();

    for tool in &mut resolved.tools {
        let Some(id) = tool.id.as_deref() else {
            continue;
        };
        let id: ToolId = id.parse()?;
        let registered = registry.tools.get(&id).ok_or_else(|| {
            StoreError::invalid(
                Rule::UnknownReference,
                format!("tool `{id}` is not registered"),
            )
        })?;
        let terms = &registered.terms;
        if tool.name.is_empty() {
            tool.name = registered.product.clone();
        }
        tool.vendor = registered.vendor.clone();
        tool.licence_tier = registered.licence_tier.clone();
        tool.enterprise_agreement = terms.enterprise_agreement;
        tool.trains_on_inputs = terms.trains_on_inputs;
        tool.retains_inputs = terms.retains_inputs;
        tool.resells_inputs = terms.resells_inputs;
        let reviewed = match (&terms.reviewed_by, &terms.reviewed_at) {
            (Some(by), Some(at)) => format!(", terms reviewed by {by} on {at}"),
            (Some(by), None) => format!(", terms reviewed by {by}"),
            _ => ", terms not reviewed".to_owned(),
        };
        notes.push(format!(
            "tool `{id}` ({} {} {}): data terms from the registry{reviewed}",
            registered.vendor, registered.product, registered.version
        ));
    }

    // A performer given by name alone is the registered performer of that name, when
    // exactly one is registered under it; the declaration's own answers stand otherwise.
    for performer in &mut resolved.performers {
        if performer.id.is_some() {
            continue;
        }
        match registry
            .by_name
            .get(&fold_name(&performer.name))
            .map(Vec::as_slice)
        {
            Some([id]) => {
                notes.push(format!(
                    "performer `{}`, named without an id, is the registered performer `{id}`",
                    performer.name
                ));
                performer.id = Some(id.to_string());
            }
            Some(ids) if ids.len() > 1 => {
                let ids: Vec<String> = ids.iter().map(|id| format!("`{id}`")).collect();
                notes.push(format!(
                    "performer `{}`: {} registered performers have this name ({}); the \
                     declaration's own consent answers stand until it gives one's id",
                    performer.name,
                    ids.len(),
                    ids.join(", ")
                ));
            }
            _ => {}
        }
    }

    let media = resolved.media.clone();
    for performer in &mut resolved.performers {
        let Some(id) = performer.id.as_deref() else {
            continue;
        };
        let id: PerformerId = id.parse()?;
        let (registered, consents) = registry.performers.get(&id).ok_or_else(|| {
            StoreError::invalid(
                Rule::UnknownReference,
                format!("performer `{id}` is not registered"),
            )
        })?;
        performer.name = registered.name.clone();
        performer.union = registered.union.clone();
        performer.deceased = if registered.deceased {
            Answer::Yes
        } else {
            Answer::No
        };
        performers.push(id);
        if !needs_consent(performer.use_) {
            notes.push(format!(
                "performer `{id}` ({}): a customary alteration needs no consent",
                registered.name
            ));
            continue;
        }
        let (state, by) = consent_for(consents, production, performer, &media, now);
        performer.consent = state;
        if let Some(consent) = by {
            fill_from_terms(performer, consent);
        }
        let note = match by {
            Some(consent) => format!(
                "performer `{id}` ({}): consent `{}` ({}) documented, given by {}",
                registered.name,
                consent.id,
                consent.kind.as_str(),
                consent.given_by
            ),
            None if state == greenlight_core::Consent::Pending => format!(
                "performer `{id}` ({}): consent pending in the registry",
                registered.name
            ),
            None => format!(
                "performer `{id}` ({}): no consent in force in the registry for this production, use and media",
                registered.name
            ),
        };
        notes.push(note);
    }
    performers.sort();
    performers.dedup();
    Ok(Resolution {
        declaration: resolved,
        notes,
        performers,
    })
}

/// What a registered consent in force says of the replica, written into the
/// declaration where the declaration left it unsure: the registry's record
/// fills what would otherwise be repeated, and an answer the production gave
/// is kept. The scope's description is required when a consent is recorded,
/// so a registered consent has a specific description.
fn fill_from_terms(performer: &mut greenlight_core::Performer, consent: &Consent) {
    use greenlight_core::ReplicaKind;
    let terms = &consent.terms;
    if performer.replica_kind == ReplicaKind::Unsure {
        // The consent's kind names the replica when the terms do not.
        performer.replica_kind = match (terms.replica_kind, consent.kind) {
            (ReplicaKind::Unsure, crate::records::ConsentKind::EmploymentReplica) => {
                ReplicaKind::EmploymentBased
            }
            (ReplicaKind::Unsure, crate::records::ConsentKind::IndependentReplica) => {
                ReplicaKind::IndependentlyCreated
            }
            (ReplicaKind::Unsure, crate::records::ConsentKind::BackgroundReplica) => {
                ReplicaKind::Background
            }
            (ReplicaKind::Unsure, crate::records::ConsentKind::SyntheticPerformer) => {
                ReplicaKind::Synthetic
            }
            (ReplicaKind::Unsure, crate::records::ConsentKind::DigitalAlteration) => {
                ReplicaKind::None
            }
            (kind, _) => kind,
        };
    }
    if performer.consent_separately_signed == Answer::Unsure {
        performer.consent_separately_signed = terms.separately_signed;
    }
    if performer.representation == greenlight_core::Representation::Unsure {
        performer.representation = terms.representation;
    }
    if performer.consent_description_specific == Answer::Unsure
        && !consent.scope.description.trim().is_empty()
    {
        performer.consent_description_specific = Answer::Yes;
    }
}
