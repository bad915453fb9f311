//! The delivery gate's question: does an approval cover this file?
//!
//! An [`ApprovalIndex`] holds every approval of one production with its state
//! at one instant (in force, expired, superseded by a newer version of its
//! declaration, or withdrawn because the declaration is blocked since) and its
//! scope compiled: path globs into one matcher each, content hashes as they
//! are. [`ApprovalIndex::cover`] answers for one file; it does no I/O.
//!
//! A glob matches a path with `/` separators; `*` and `?` never cross a `/`,
//! `**` does (`VFX/ep103/**/*.exr`). The caller passes every form of the path
//! it knows (relative to the scanned directory, and as printed); any match
//! counts.

use std::fmt;

use globset::{Glob, GlobBuilder, GlobMatcher};

use crate::ids::{ApprovalId, DeclarationId};
use crate::records::{Approval, AssetScope, Standing, Verdict};
use crate::time::Timestamp;

/// Compiles an approval's path glob as the gate matches it.
pub fn compile_glob(glob: &str) -> Result<Glob, String> {
    // `./VFX/**` means what `VFX/**` means: paths are matched without a leading `./`.
    let mut text = glob.trim();
    while let Some(rest) = text.strip_prefix("./") {
        text = rest;
    }
    GlobBuilder::new(text)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| format!("`{glob}` is not a path glob: {}", e.kind()))
}

/// Where an approval stands at the instant the index was built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApprovalState {
    /// Approved, unexpired, on its declaration's current decision.
    InForce,
    /// Its expiry has passed.
    Expired {
        /// When it lapsed.
        at: Timestamp,
    },
    /// Its declaration was declared again, or triaged again, since.
    Superseded,
    /// Its declaration's current decision is blocked (e.g. a consent was revoked).
    Withdrawn,
    /// A rejection, not an approval.
    Rejected,
}

impl fmt::Display for ApprovalState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApprovalState::InForce => f.write_str("in force"),
            ApprovalState::Expired { at } => write!(f, "expired {at}"),
            ApprovalState::Superseded => {
                f.write_str("superseded: its declaration was declared or triaged again since")
            }
            ApprovalState::Withdrawn => f.write_str("withdrawn: its declaration is blocked since"),
            ApprovalState::Rejected => f.write_str("a rejection"),
        }
    }
}

/// How one file stands, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coverage {
    /// Approved, unapproved or approval expired.
    pub standing: Standing,
    /// The approval that covers the file (for an expired one, that approval).
    pub approval_id: Option<ApprovalId>,
    /// That approval's declaration.
    pub declaration_id: Option<DeclarationId>,
    /// One sentence for people.
    pub reason: String,
}

struct Entry {
    approval: Approval,
    state: ApprovalState,
    globs: Vec<(String, GlobMatcher)>,
    hashes: Vec<String>,
}

impl Entry {
    /// The scope item that covers the file, if any.
    fn covers(&self, paths: &[&str], sha256: Option<&str>) -> Option<String> {
        if let Some(hash) = sha256
            && self.hashes.iter().any(|h| h.eq_ignore_ascii_case(hash))
        {
            return Some(format!("sha256:{hash}"));
        }
        self.globs
            .iter()
            .find(|(_, m)| paths.iter().any(|p| m.is_match(p)))
            .map(|(text, _)| format!("glob `{text}`"))
    }
}

/// Every approval of a production, ready to match files against.
#[derive(Default)]
pub struct ApprovalIndex {
    entries: Vec<Entry>,
    problems: Vec<String>,
}

impl fmt::Debug for ApprovalIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApprovalIndex")
            .field("approvals", &self.entries.len())
            .field("problems", &self.problems)
            .finish()
    }
}

impl ApprovalIndex {
    /// Adds an approval in its state. A stored glob that does not compile is
    /// left out and named in [`ApprovalIndex::problems`].
    pub fn add(&mut self, approval: Approval, state: ApprovalState) {
        let mut globs = Vec::new();
        let mut hashes = Vec::new();
        for scope in &approval.scope {
            match scope {
                AssetScope::Glob(text) => match compile_glob(text) {
                    Ok(glob) => globs.push((text.clone(), glob.compile_matcher())),
                    Err(e) => self
                        .problems
                        .push(format!("approval {}: {e}; it covers nothing", approval.id)),
                },
                AssetScope::Sha256(hash) => hashes.push(hash.clone()),
            }
        }
        self.entries.push(Entry {
            approval,
            state,
            globs,
            hashes,
        });
    }

    /// How many approvals and rejections the index holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many are in force.
    pub fn in_force(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.state == ApprovalState::InForce)
            .count()
    }

    /// Whether some approval is scoped by content hash (so files need hashing).
    pub fn has_hashes(&self) -> bool {
        self.entries.iter().any(|e| !e.hashes.is_empty())
    }

    /// Stored scopes that could not be used.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// How a file stands. `paths` are the forms of its path to match globs
    /// against; `sha256` its content hash, when known.
    pub fn cover(&self, paths: &[&str], sha256: Option<&str>) -> Coverage {
        let mut lapsed: Option<(&Entry, String)> = None;
        let mut void: Option<(&Entry, String)> = None;
        for entry in &self.entries {
            let Some(by) = entry.covers(paths, sha256) else {
                continue;
            };
            match entry.state {
                ApprovalState::InForce => {
                    let a = &entry.approval;
                    let until = a
                        .expires_at
                        .map_or_else(String::new, |end| format!(", until {end}"));
                    return Coverage {
                        standing: Standing::Approved,
                        approval_id: Some(a.id),
                        declaration_id: Some(a.declaration_id),
                        reason: format!(
                            "approved by {} on {} ({by}{until})",
                            a.reviewer, a.decided_at
                        ),
                    };
                }
                ApprovalState::Expired { .. } => {
                    if lapsed.is_none() {
                        lapsed = Some((entry, by));
                    }
                }
                _ => {
                    if void.is_none() {
                        void = Some((entry, by));
                    }
                }
            }
        }
        if let Some((entry, by)) = lapsed {
            let a = &entry.approval;
            return Coverage {
                standing: Standing::ApprovalExpired,
                approval_id: Some(a.id),
                declaration_id: Some(a.declaration_id),
                reason: format!(
                    "approval {} ({by}) {}; the declaration needs a new review",
                    a.id, entry.state
                ),
            };
        }
        if let Some((entry, by)) = void {
            let a = &entry.approval;
            let reason = if a.verdict == Verdict::Rejected {
                format!(
                    "rejected by {} on {} ({by}): {}",
                    a.reviewer, a.decided_at, a.note
                )
            } else {
                format!(
                    "approval {} ({by}) is {}; the declaration needs a new review",
                    a.id, entry.state
                )
            };
            return Coverage {
                standing: Standing::Unapproved,
                approval_id: None,
                declaration_id: Some(a.declaration_id),
                reason,
            };
        }
        Coverage {
            standing: Standing::Unapproved,
            approval_id: None,
            declaration_id: None,
            reason: "no approval of this production covers it".to_owned(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing test stops at the error")]
mod tests {
    use super::*;
    use crate::ids::DecisionId;

    fn approval(scope: Vec<AssetScope>) -> Approval {
        Approval {
            id: ApprovalId::generate(),
            declaration_id: DeclarationId::generate(),
            declaration_version: 1,
            decision_id: DecisionId::generate(),
            verdict: Verdict::Approved,
            reviewer: "rita".to_owned(),
            conditions: Vec::new(),
            scope,
            expires_at: None,
            note: String::new(),
            decided_at: "2026-11-27T09:00:00Z".parse().unwrap(),
        }
    }

    fn glob(text: &str) -> AssetScope {
        AssetScope::Glob(text.to_owned())
    }

    #[test]
    fn globs_match_whole_paths_and_star_stays_in_its_directory() {
        let mut index = ApprovalIndex::default();
        let a = approval(vec![glob("VFX/ep103/**/*.exr"), glob("posters/*.png")]);
        let id = a.id;
        index.add(a, ApprovalState::InForce);
        let cover = |p: &str| index.cover(&[p], None);
        assert_eq!(cover("VFX/ep103/sh0420/v3.exr").approval_id, Some(id));
        assert_eq!(cover("VFX/ep103/v3.exr").standing, Standing::Approved);
        assert_eq!(cover("VFX/ep104/v3.exr").standing, Standing::Unapproved);
        assert_eq!(cover("posters/key.png").standing, Standing::Approved);
        assert_eq!(cover("posters/old/key.png").standing, Standing::Unapproved);
        assert_eq!(cover("x/posters/key.png").standing, Standing::Unapproved);
    }

    #[test]
    fn a_leading_dot_slash_is_not_part_of_the_pattern() {
        let mut index = ApprovalIndex::default();
        index.add(
            approval(vec![glob("./posters/*.png")]),
            ApprovalState::InForce,
        );
        assert_eq!(
            index.cover(&["posters/key.png"], None).standing,
            Standing::Approved
        );
    }

    #[test]
    fn a_hash_covers_the_file_wherever_it_lies() {
        let hash = "ab".repeat(32);
        let mut index = ApprovalIndex::default();
        index.add(
            approval(vec![AssetScope::Sha256(hash.clone())]),
            ApprovalState::InForce,
        );
        assert!(index.has_hashes());
        let c = index.cover(&["any/where.png"], Some(&hash));
        assert_eq!(c.standing, Standing::Approved);
        assert!(c.reason.contains("sha256:"), "{}", c.reason);
        let other = "cd".repeat(32);
        assert_eq!(
            index.cover(&["any/where.png"], Some(&other)).standing,
            Standing::Unapproved
        );
        assert_eq!(
            index.cover(&["any/where.png"], None).standing,
            Standing::Unapproved
        );
    }

    #[test]
    fn in_force_wins_over_expired_and_expired_over_void() {
        let at: Timestamp = "2026-11-20T00:00:00Z".parse().unwrap();
        let expired = approval(vec![glob("**/*.png")]);
        let superseded = approval(vec![glob("**/*.png")]);
        let expired_id = expired.id;
        let mut index = ApprovalIndex::default();
        index.add(superseded, ApprovalState::Superseded);
        index.add(expired, ApprovalState::Expired { at });
        let c = index.cover(&["a.png"], None);
        assert_eq!(c.standing, Standing::ApprovalExpired);
        assert_eq!(c.approval_id, Some(expired_id));
        assert!(c.reason.contains("expired"), "{}", c.reason);

        let live = approval(vec![glob("a.png")]);
        let live_id = live.id;
        index.add(live, ApprovalState::InForce);
        assert_eq!(index.cover(&["a.png"], None).approval_id, Some(live_id));
        assert_eq!(index.in_force(), 1);
    }

    #[test]
    fn a_superseded_approval_leaves_the_file_unapproved_and_says_why() {
        let mut index = ApprovalIndex::default();
        index.add(approval(vec![glob("*.png")]), ApprovalState::Withdrawn);
        let c = index.cover(&["a.png"], None);
        assert_eq!(c.standing, Standing::Unapproved);
        assert!(c.declaration_id.is_some());
        assert!(c.reason.contains("withdrawn"), "{}", c.reason);
    }

    #[test]
    fn a_bad_stored_glob_is_named_not_fatal() {
        let mut index = ApprovalIndex::default();
        index.add(approval(vec![glob("VFX/[ep")]), ApprovalState::InForce);
        assert_eq!(index.problems().len(), 1);
        assert!(index.problems()[0].contains("VFX/[ep"));
        assert_eq!(
            index.cover(&["VFX/[ep"], None).standing,
            Standing::Unapproved
        );
    }
}
