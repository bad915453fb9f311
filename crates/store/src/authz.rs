//! Who may do what: the role table, once, for every surface (the API, the web pages).
//!
//! A [`Principal`] is who is calling: an account's login and global roles, and, when the call
//! comes with an API token, the token's productions and role ceiling. [`authorize`] answers
//! whether it may take an [`Action`], on a production when the action is about one, from one
//! table ([`row`]): every action has exactly one row, listing the production roles
//! ([`Role`], from the production's members) and the global roles ([`GlobalRole`]) that allow
//! it.
//!
//! The table, in words:
//!
//! - `coordinator`, `vendor`: declare and see their own productions only; a vendor *token* may
//!   post scans (a vendor signed in with a password may not).
//! - `reviewer`: the productions they review: approve and reject (never their own submissions:
//!   that rule is [`crate::Ledger::review`]'s, which also refuses a reviewer who is not a member).
//! - `legal`: as reviewer, plus consents and the reassessment of packs.
//! - `post_supervisor`: the production's scans (record and read).
//! - `talent_relations`: the production's consents.
//! - `compliance`: reads the production, its declarations, scans and the audit log.
//! - `auditor` (global): reads everything, changes nothing.
//! - `admin` (global): users, tokens, registries (productions and their members, tools,
//!   performers), packs; does not approve unless also a reviewer of the production.
//!
//! Rules about records (self-review, blocked approvals) stay in [`crate::Ledger`]; this module
//! only says who may ask.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::ProductionId;
use crate::records::{Production, Role};

/// A role an account holds everywhere, not on one production.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GlobalRole {
    /// Users, tokens, registries and packs; approves nothing unless also a reviewer.
    Admin,
    /// Reads everything, changes nothing.
    Auditor,
}

impl GlobalRole {
    /// Every global role.
    pub const ALL: [GlobalRole; 2] = [GlobalRole::Admin, GlobalRole::Auditor];

    /// The role's name, as written in records and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            GlobalRole::Admin => "admin",
            GlobalRole::Auditor => "auditor",
        }
    }
}

impl fmt::Display for GlobalRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Role {
    /// Every production role.
    pub const ALL: [Role; 7] = [
        Role::Coordinator,
        Role::Vendor,
        Role::Reviewer,
        Role::Legal,
        Role::PostSupervisor,
        Role::TalentRelations,
        Role::Compliance,
    ];

    /// The role's name, as written in records and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Coordinator => "coordinator",
            Role::Vendor => "vendor",
            Role::Reviewer => "reviewer",
            Role::Legal => "legal",
            Role::PostSupervisor => "post_supervisor",
            Role::TalentRelations => "talent_relations",
            Role::Compliance => "compliance",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The role an API token acts with: its ceiling. The token never does more than its user
/// could, and never more than this role allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum TokenRole {
    /// The user's global role.
    Global(GlobalRole),
    /// The user's role on the productions of the token's scope.
    Production(Role),
}

impl TokenRole {
    /// The role's name (`admin`, `vendor`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            TokenRole::Global(role) => role.as_str(),
            TokenRole::Production(role) => role.as_str(),
        }
    }
}

impl fmt::Display for TokenRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<TokenRole> for String {
    fn from(role: TokenRole) -> String {
        role.as_str().to_owned()
    }
}

impl TryFrom<String> for TokenRole {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl std::str::FromStr for TokenRole {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if let Some(role) = GlobalRole::ALL.into_iter().find(|r| r.as_str() == text) {
            return Ok(TokenRole::Global(role));
        }
        if let Some(role) = Role::ALL.into_iter().find(|r| r.as_str() == text) {
            return Ok(TokenRole::Production(role));
        }
        let known: Vec<&str> = GlobalRole::ALL
            .iter()
            .map(|r| r.as_str())
            .chain(Role::ALL.iter().map(|r| r.as_str()))
            .collect();
        Err(format!(
            "`{text}` is not a role: use one of {}",
            known.join(", ")
        ))
    }
}

/// What a token allows, on top of its user's roles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenGrant {
    /// The token's id (the sha256 of its secret).
    pub token_id: String,
    /// The productions it may act on; empty: every production its user is a member of.
    pub productions: Vec<ProductionId>,
    /// The most it may do.
    pub role: TokenRole,
}

/// Who is calling: an account, and the token it called with, if any.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The account's login: the actor every change it makes records.
    pub login: String,
    /// The account's global roles.
    pub roles: Vec<GlobalRole>,
    /// Set when the call came with an API token rather than a signed-in session.
    pub token: Option<TokenGrant>,
}

impl Principal {
    /// A signed-in account (a session).
    pub fn session(login: impl Into<String>, roles: Vec<GlobalRole>) -> Principal {
        Principal {
            login: login.into(),
            roles,
            token: None,
        }
    }

    /// The global roles in force: the account's, within the token's ceiling.
    pub fn global_roles(&self) -> Vec<GlobalRole> {
        match &self.token {
            None => self.roles.clone(),
            Some(grant) => match grant.role {
                TokenRole::Global(role) if self.roles.contains(&role) => vec![role],
                _ => Vec::new(),
            },
        }
    }

    /// Whether a global role is in force.
    pub fn has(&self, role: GlobalRole) -> bool {
        self.global_roles().contains(&role)
    }

    /// The roles in force on a production: the account's membership, within the token's
    /// productions and ceiling.
    pub fn roles_on(&self, production: &Production) -> Vec<Role> {
        let member: Vec<Role> = production
            .members
            .iter()
            .filter(|m| m.person == self.login)
            .flat_map(|m| m.roles.iter().copied())
            .collect();
        match &self.token {
            None => member,
            Some(grant) => {
                let in_scope =
                    grant.productions.is_empty() || grant.productions.contains(&production.id);
                match grant.role {
                    TokenRole::Production(role) if in_scope && member.contains(&role) => {
                        vec![role]
                    }
                    _ => Vec::new(),
                }
            }
        }
    }

    /// Whether the call came with an API token.
    pub fn is_token(&self) -> bool {
        self.token.is_some()
    }
}

/// Every verb of the ledger and the server, as authorization sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// See a production, its members and its notifications.
    ReadProduction,
    /// Create a production.
    CreateProduction,
    /// Replace a production's members.
    SetMembers,
    /// See the registries: tools with their terms, performers.
    ReadRegistry,
    /// Register a tool.
    RegisterTool,
    /// Record a new review of a tool's data terms.
    UpdateToolTerms,
    /// Register a performer.
    RegisterPerformer,
    /// See the consents given for a production.
    ReadConsents,
    /// Record a consent for a production.
    RecordConsent,
    /// Record the signed document of a pending consent.
    DocumentConsent,
    /// Revoke a consent.
    RevokeConsent,
    /// Block the decisions that relied on expired consents (every production).
    SweepConsents,
    /// See a production's declarations, their versions, decisions and reviews.
    ReadDeclarations,
    /// Submit a declaration.
    SubmitDeclaration,
    /// Submit a new version of a declaration.
    ReviseDeclaration,
    /// Triage a declaration again against the registry as it stands.
    RetriageDeclaration,
    /// Approve or reject a declaration.
    Review,
    /// See a production's recorded scans.
    ReadScans,
    /// Record a delivery scan: begin it, append its files, finish it.
    RecordScan,
    /// Read the audit log.
    ReadAudit,
    /// Verify the audit log.
    VerifyAudit,
    /// Create users and change their roles; see and revoke anyone's tokens.
    ManageUsers,
    /// Create, list and revoke one's own API tokens (signed in, not with a token).
    ManageOwnTokens,
    /// See the server's policy packs.
    ShowPacks,
    /// Check a policy pack.
    CheckPack,
    /// Preview how a production's declarations would fare under another pack.
    ReassessPreview,
    /// See the notification outbox: what is pending, sent and failed.
    ReadOutbox,
    /// Make a failed notification of the outbox due again.
    RetryOutbox,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 28] = [
        Action::ReadProduction,
        Action::CreateProduction,
        Action::SetMembers,
        Action::ReadRegistry,
        Action::RegisterTool,
        Action::UpdateToolTerms,
        Action::RegisterPerformer,
        Action::ReadConsents,
        Action::RecordConsent,
        Action::DocumentConsent,
        Action::RevokeConsent,
        Action::SweepConsents,
        Action::ReadDeclarations,
        Action::SubmitDeclaration,
        Action::ReviseDeclaration,
        Action::RetriageDeclaration,
        Action::Review,
        Action::ReadScans,
        Action::RecordScan,
        Action::ReadAudit,
        Action::VerifyAudit,
        Action::ManageUsers,
        Action::ManageOwnTokens,
        Action::ShowPacks,
        Action::CheckPack,
        Action::ReassessPreview,
        Action::ReadOutbox,
        Action::RetryOutbox,
    ];

    /// What the action does, in words ("approve or reject a declaration").
    pub fn describe(self) -> &'static str {
        match self {
            Action::ReadProduction => "see this production",
            Action::CreateProduction => "create a production",
            Action::SetMembers => "change a production's members",
            Action::ReadRegistry => "see the tool and performer registries",
            Action::RegisterTool => "register a tool",
            Action::UpdateToolTerms => "record a tool's data terms",
            Action::RegisterPerformer => "register a performer",
            Action::ReadConsents => "see this production's consents",
            Action::RecordConsent => "record a consent",
            Action::DocumentConsent => "record a consent's signed document",
            Action::RevokeConsent => "revoke a consent",
            Action::SweepConsents => "sweep expired consents",
            Action::ReadDeclarations => "see this production's declarations",
            Action::SubmitDeclaration => "submit a declaration",
            Action::ReviseDeclaration => "revise a declaration",
            Action::RetriageDeclaration => "triage a declaration again",
            Action::Review => "approve or reject a declaration",
            Action::ReadScans => "see this production's scans",
            Action::RecordScan => "record a delivery scan",
            Action::ReadAudit => "read the audit log",
            Action::VerifyAudit => "verify the audit log",
            Action::ManageUsers => "manage users and their tokens",
            Action::ManageOwnTokens => "manage API tokens",
            Action::ShowPacks => "see the policy packs",
            Action::CheckPack => "check a policy pack",
            Action::ReassessPreview => "preview a reassessment",
            Action::ReadOutbox => "see the notification outbox",
            Action::RetryOutbox => "retry a failed notification",
        }
    }
}

/// Who a row lets in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    /// Members of the production with any of these roles (signed in or with a token).
    pub members: &'static [Role],
    /// Members with any of these roles, when they call with an API token only.
    pub token_members: &'static [Role],
    /// Accounts with any of these global roles, on any production or none.
    pub global: &'static [GlobalRole],
    /// Every account (the action touches nothing of a production's).
    pub any_account: bool,
    /// Refused to API tokens, whatever their role (a token never mints tokens).
    pub session_only: bool,
}

const NOBODY: Row = Row {
    members: &[],
    token_members: &[],
    global: &[],
    any_account: false,
    session_only: false,
};

const EVERY_MEMBER: &[Role] = &Role::ALL;

/// The role table: who may take each action. One exhaustive match, so a new action needs a row.
pub fn row(action: Action) -> Row {
    use GlobalRole::{Admin, Auditor};
    use Role::{Compliance, Coordinator, Legal, PostSupervisor, Reviewer, TalentRelations, Vendor};
    match action {
        Action::ReadProduction => Row {
            members: EVERY_MEMBER,
            global: &[Admin, Auditor],
            ..NOBODY
        },
        Action::CreateProduction | Action::SetMembers => Row {
            global: &[Admin],
            ..NOBODY
        },
        Action::ReadRegistry | Action::ShowPacks | Action::CheckPack => Row {
            any_account: true,
            ..NOBODY
        },
        Action::RegisterTool
        | Action::UpdateToolTerms
        | Action::RegisterPerformer
        | Action::SweepConsents => Row {
            global: &[Admin],
            ..NOBODY
        },
        Action::ReadConsents => Row {
            members: &[Reviewer, Legal, TalentRelations, Compliance],
            global: &[Auditor],
            ..NOBODY
        },
        Action::RecordConsent | Action::DocumentConsent | Action::RevokeConsent => Row {
            members: &[Legal, TalentRelations],
            ..NOBODY
        },
        Action::ReadDeclarations => Row {
            members: EVERY_MEMBER,
            global: &[Auditor],
            ..NOBODY
        },
        Action::SubmitDeclaration | Action::ReviseDeclaration => Row {
            members: &[Coordinator, Vendor],
            ..NOBODY
        },
        Action::RetriageDeclaration => Row {
            members: &[Coordinator, Vendor, Reviewer, Legal, TalentRelations],
            ..NOBODY
        },
        Action::Review => Row {
            members: &[Reviewer, Legal],
            ..NOBODY
        },
        Action::ReadScans => Row {
            members: &[
                Coordinator,
                Vendor,
                Reviewer,
                Legal,
                PostSupervisor,
                Compliance,
            ],
            global: &[Auditor],
            ..NOBODY
        },
        Action::RecordScan => Row {
            members: &[PostSupervisor],
            token_members: &[Vendor],
            ..NOBODY
        },
        Action::ReadAudit => Row {
            members: &[Compliance],
            global: &[Auditor],
            ..NOBODY
        },
        Action::VerifyAudit => Row {
            members: &[Compliance],
            global: &[Auditor, Admin],
            ..NOBODY
        },
        Action::ManageUsers => Row {
            global: &[Admin],
            session_only: true,
            ..NOBODY
        },
        Action::ReadOutbox | Action::RetryOutbox => Row {
            global: &[Admin],
            ..NOBODY
        },
        Action::ManageOwnTokens => Row {
            any_account: true,
            session_only: true,
            ..NOBODY
        },
        Action::ReassessPreview => Row {
            members: &[Legal, Compliance],
            global: &[Admin, Auditor],
            ..NOBODY
        },
    }
}

/// Why an action was refused, in words the person refused understands.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Denied {
    /// The action refused.
    pub action: Action,
    /// Why.
    pub message: String,
}

fn names<T: fmt::Display>(items: &[T]) -> String {
    let names: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match names.as_slice() {
        [] => "none".to_owned(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Whether `principal` may take `action`, on `production` when the action is about one.
///
/// Production roles count only when the production is given: an action about a production
/// asked without it (a listing across productions) is allowed by global roles alone, and the
/// caller then asks again for each production it would show.
pub fn authorize(
    principal: &Principal,
    action: Action,
    production: Option<&Production>,
) -> Result<(), Denied> {
    let row = row(action);
    let deny = |message: String| Err(Denied { action, message });
    if row.session_only && principal.is_token() {
        return deny(format!(
            "an API token cannot {}: sign in with a password",
            action.describe()
        ));
    }
    if row.any_account {
        return Ok(());
    }
    let global = principal.global_roles();
    if row.global.iter().any(|r| global.contains(r)) {
        return Ok(());
    }
    let Some(production) = production else {
        let mut needed: Vec<String> = row.global.iter().map(|r| r.to_string()).collect();
        if !row.members.is_empty() || !row.token_members.is_empty() {
            needed.push("a member of the production".to_owned());
        }
        return deny(format!(
            "`{}` may not {}: that needs {}",
            principal.login,
            action.describe(),
            names(&needed)
        ));
    };
    let roles = principal.roles_on(production);
    let allowed = roles.iter().any(|r| row.members.contains(r))
        || (principal.is_token() && roles.iter().any(|r| row.token_members.contains(r)));
    if allowed {
        return Ok(());
    }
    let mut needed: Vec<String> = row.members.iter().map(|r| r.to_string()).collect();
    needed.extend(
        row.token_members
            .iter()
            .map(|r| format!("{r} (with a token)")),
    );
    let have = if roles.is_empty() {
        match &principal.token {
            Some(grant)
                if !grant.productions.is_empty() && !grant.productions.contains(&production.id) =>
            {
                "this token is not for that production".to_owned()
            }
            Some(grant) => format!(
                "this token acts as `{}`, which `{}` is not there",
                grant.role, principal.login
            ),
            None => format!("`{}` is not a member of it", principal.login),
        }
    } else {
        format!("`{}` is {} there", principal.login, names(&roles))
    };
    let mut message = format!(
        "`{}` may not {} on production `{}` ({}): that needs the role {}; {have}",
        principal.login,
        action.describe(),
        production.title,
        production.id,
        names(&needed)
    );
    if !row.global.is_empty() {
        message.push_str(&format!(", or the global role {}", names(row.global)));
    }
    deny(message)
}

/// The items of a listing the principal may take `action` on, each judged on its production
/// (`None`: the production is gone, and the item is left out): the one place a listing is
/// filtered, so a coordinator or vendor sees their own productions only, whatever the surface.
pub fn visible<T>(
    principal: &Principal,
    action: Action,
    items: impl IntoIterator<Item = T>,
    production: impl Fn(&T) -> Option<&Production>,
) -> Vec<T> {
    items
        .into_iter()
        .filter(|item| {
            production(item).is_some_and(|p| authorize(principal, action, Some(p)).is_ok())
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing test stops at the error")]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::records::{Contact, Member};
    use crate::time::Timestamp;

    fn production(members: &[(&str, &[Role])]) -> Production {
        Production {
            id: ProductionId::generate(),
            title: "The Long Night".to_owned(),
            kind: greenlight_core::ProductionKind::Scripted,
            studio_contact: Contact::default(),
            overlays: Vec::new(),
            members: members
                .iter()
                .map(|(person, roles)| Member {
                    person: (*person).to_owned(),
                    name: (*person).to_owned(),
                    roles: roles.to_vec(),
                })
                .collect(),
            created_at: "2026-11-27T09:00:00Z".parse::<Timestamp>().unwrap(),
            created_by: "admin".to_owned(),
        }
    }

    /// Who may take an action, as (production role, with a token?) and global roles.
    fn allowed(action: Action) -> (BTreeSet<(&'static str, bool)>, BTreeSet<&'static str>) {
        let mut members = BTreeSet::new();
        for role in Role::ALL {
            let p = production(&[("ana", &[role])]);
            let session = Principal::session("ana", Vec::new());
            if authorize(&session, action, Some(&p)).is_ok() {
                members.insert((role.as_str(), false));
            }
            let token = Principal {
                token: Some(TokenGrant {
                    token_id: "t".to_owned(),
                    productions: vec![p.id],
                    role: TokenRole::Production(role),
                }),
                ..session
            };
            if authorize(&token, action, Some(&p)).is_ok() {
                members.insert((role.as_str(), true));
            }
        }
        let mut global = BTreeSet::new();
        for role in GlobalRole::ALL {
            let p = production(&[]);
            let principal = Principal::session("gil", vec![role]);
            if authorize(&principal, action, Some(&p)).is_ok()
                && authorize(&principal, action, None).is_ok()
            {
                global.insert(role.as_str());
            }
        }
        (members, global)
    }

    fn both(roles: &[&'static str]) -> BTreeSet<(&'static str, bool)> {
        roles
            .iter()
            .flat_map(|r| [(*r, false), (*r, true)])
            .collect()
    }

    fn check(action: Action, members: &[&'static str], global: &[&'static str]) {
        let (m, g) = allowed(action);
        assert_eq!(m, both(members), "members allowed to {action:?}");
        assert_eq!(
            g,
            global.iter().copied().collect(),
            "global roles for {action:?}"
        );
    }

    const ALL_ROLES: &[&str] = &[
        "coordinator",
        "vendor",
        "reviewer",
        "legal",
        "post_supervisor",
        "talent_relations",
        "compliance",
    ];

    #[test]
    fn read_production() {
        check(Action::ReadProduction, ALL_ROLES, &["admin", "auditor"]);
    }

    #[test]
    fn create_production_and_set_members() {
        check(Action::CreateProduction, &[], &["admin"]);
        check(Action::SetMembers, &[], &["admin"]);
    }

    #[test]
    fn registries_packs_are_read_by_every_account() {
        for action in [Action::ReadRegistry, Action::ShowPacks, Action::CheckPack] {
            check(action, ALL_ROLES, &["admin", "auditor"]);
            let nobody = Principal::session("nemo", Vec::new());
            assert!(authorize(&nobody, action, None).is_ok());
        }
    }

    #[test]
    fn registries_are_changed_by_admins() {
        for action in [
            Action::RegisterTool,
            Action::UpdateToolTerms,
            Action::RegisterPerformer,
            Action::SweepConsents,
        ] {
            check(action, &[], &["admin"]);
        }
    }

    #[test]
    fn read_consents() {
        check(
            Action::ReadConsents,
            &["reviewer", "legal", "talent_relations", "compliance"],
            &["auditor"],
        );
    }

    #[test]
    fn consents_are_recorded_by_legal_and_talent_relations() {
        for action in [
            Action::RecordConsent,
            Action::DocumentConsent,
            Action::RevokeConsent,
        ] {
            check(action, &["legal", "talent_relations"], &[]);
        }
    }

    #[test]
    fn read_declarations() {
        check(Action::ReadDeclarations, ALL_ROLES, &["auditor"]);
    }

    #[test]
    fn declarations_are_submitted_by_coordinators_and_vendors() {
        check(Action::SubmitDeclaration, &["coordinator", "vendor"], &[]);
        check(Action::ReviseDeclaration, &["coordinator", "vendor"], &[]);
    }

    #[test]
    fn retriage() {
        check(
            Action::RetriageDeclaration,
            &[
                "coordinator",
                "vendor",
                "reviewer",
                "legal",
                "talent_relations",
            ],
            &[],
        );
    }

    #[test]
    fn review_is_for_reviewers_and_legal_never_admins() {
        check(Action::Review, &["reviewer", "legal"], &[]);
        let admin = Principal::session("ada", vec![GlobalRole::Admin]);
        let p = production(&[("ada", &[Role::Reviewer])]);
        assert!(authorize(&admin, Action::Review, Some(&p)).is_ok());
        let elsewhere = production(&[]);
        let denied = authorize(&admin, Action::Review, Some(&elsewhere)).unwrap_err();
        assert!(denied.message.contains("`ada` is not a member"), "{denied}");
    }

    #[test]
    fn read_scans() {
        check(
            Action::ReadScans,
            &[
                "coordinator",
                "vendor",
                "reviewer",
                "legal",
                "post_supervisor",
                "compliance",
            ],
            &["auditor"],
        );
    }

    #[test]
    fn scans_are_recorded_by_post_supervisors_and_vendor_tokens() {
        let (members, global) = allowed(Action::RecordScan);
        let expected: BTreeSet<_> = [
            ("post_supervisor", false),
            ("post_supervisor", true),
            ("vendor", true),
        ]
        .into_iter()
        .collect();
        assert_eq!(members, expected);
        assert!(global.is_empty());
    }

    #[test]
    fn audit() {
        check(Action::ReadAudit, &["compliance"], &["auditor"]);
        check(Action::VerifyAudit, &["compliance"], &["admin", "auditor"]);
    }

    #[test]
    fn users_and_tokens() {
        let (members, global) = allowed(Action::ManageUsers);
        assert!(members.is_empty());
        assert_eq!(global, ["admin"].into_iter().collect());
        for action in [Action::ReadOutbox, Action::RetryOutbox] {
            let (members, global) = allowed(action);
            assert!(members.is_empty());
            assert_eq!(global, ["admin"].into_iter().collect());
        }
        let (members, _) = allowed(Action::ManageOwnTokens);
        let sessions: BTreeSet<_> = ALL_ROLES.iter().map(|r| (*r, false)).collect();
        assert_eq!(members, sessions, "a token never manages tokens");
    }

    #[test]
    fn reassess_preview() {
        check(
            Action::ReassessPreview,
            &["legal", "compliance"],
            &["admin", "auditor"],
        );
    }

    #[test]
    fn every_action_has_a_row_and_its_test() {
        // `row` is one exhaustive match; this also keeps `Action::ALL` complete and each row
        // reachable: every action lets someone in.
        let mut seen = BTreeSet::new();
        for action in Action::ALL {
            assert!(
                seen.insert(format!("{action:?}")),
                "{action:?} listed twice"
            );
            let (members, global) = allowed(action);
            assert!(
                !members.is_empty() || !global.is_empty(),
                "nobody may {action:?}"
            );
        }
        let source = include_str!("authz.rs");
        for action in Action::ALL {
            let needle = format!("Action::{action:?}");
            let tests = source
                .split("mod tests")
                .nth(1)
                .unwrap_or_default()
                .matches(&needle)
                .count();
            assert!(tests > 0, "no test checks the row of {action:?}");
        }
    }

    #[test]
    fn the_auditor_reads_everything_and_changes_nothing() {
        let auditor = Principal::session("aud", vec![GlobalRole::Auditor]);
        let p = production(&[]);
        for action in Action::ALL {
            let read = matches!(
                action,
                Action::ReadProduction
                    | Action::ReadRegistry
                    | Action::ReadConsents
                    | Action::ReadDeclarations
                    | Action::ReadScans
                    | Action::ReadAudit
                    | Action::VerifyAudit
                    | Action::ShowPacks
                    | Action::CheckPack
                    | Action::ReassessPreview
                    | Action::ManageOwnTokens
            );
            assert_eq!(
                authorize(&auditor, action, Some(&p)).is_ok(),
                read,
                "auditor and {action:?}"
            );
        }
    }

    #[test]
    fn a_token_stays_within_its_productions_and_its_ceiling() {
        let a = production(&[("vic", &[Role::Vendor, Role::Coordinator])]);
        let b = production(&[("vic", &[Role::Vendor])]);
        let token = Principal {
            login: "vic".to_owned(),
            roles: vec![GlobalRole::Admin],
            token: Some(TokenGrant {
                token_id: "t".to_owned(),
                productions: vec![a.id],
                role: TokenRole::Production(Role::Vendor),
            }),
        };
        assert!(authorize(&token, Action::RecordScan, Some(&a)).is_ok());
        let denied = authorize(&token, Action::RecordScan, Some(&b)).unwrap_err();
        assert!(
            denied.message.contains("not for that production"),
            "{denied}"
        );
        // The ceiling is vendor: neither the coordinator role nor the admin role comes along.
        assert_eq!(token.roles_on(&a), vec![Role::Vendor]);
        assert!(authorize(&token, Action::RegisterTool, None).is_err());
        // A role the user does not hold gives nothing.
        let reviewer_token = Principal {
            token: Some(TokenGrant {
                token_id: "t".to_owned(),
                productions: Vec::new(),
                role: TokenRole::Production(Role::Reviewer),
            }),
            ..token.clone()
        };
        let denied = authorize(&reviewer_token, Action::Review, Some(&a)).unwrap_err();
        assert!(denied.message.contains("acts as `reviewer`"), "{denied}");
        // A vendor signed in with a password records no scan.
        let session = Principal::session("vic", Vec::new());
        let denied = authorize(&session, Action::RecordScan, Some(&b)).unwrap_err();
        assert!(
            denied.message.contains("`vendor (with a token)`"),
            "{denied}"
        );
    }

    #[test]
    fn refusals_name_the_person_the_action_and_the_production() {
        let p = production(&[("cam", &[Role::Coordinator])]);
        let cam = Principal::session("cam", Vec::new());
        let denied = authorize(&cam, Action::Review, Some(&p)).unwrap_err();
        assert_eq!(
            denied.message,
            format!(
                "`cam` may not approve or reject a declaration on production `The Long Night` ({}): that needs the role `reviewer` or `legal`; `cam` is `coordinator` there",
                p.id
            )
        );
        let denied = authorize(&cam, Action::ManageUsers, None).unwrap_err();
        assert_eq!(
            denied.message,
            "`cam` may not manage users and their tokens: that needs `admin`"
        );
    }

    #[test]
    fn listings_keep_the_productions_one_may_see() {
        let mine = production(&[("cam", &[Role::Coordinator])]);
        let theirs = production(&[("vic", &[Role::Vendor])]);
        let all = vec![mine.clone(), theirs.clone()];
        let cam = Principal::session("cam", Vec::new());
        let seen = visible(&cam, Action::ReadProduction, all.clone(), |p| Some(p));
        assert_eq!(seen, vec![mine]);
        let auditor = Principal::session("aud", vec![GlobalRole::Auditor]);
        assert_eq!(
            visible(&auditor, Action::ReadProduction, all.clone(), |p| Some(p)).len(),
            2
        );
        assert!(visible(&cam, Action::ReadProduction, all, |_| None).is_empty());
    }

    #[test]
    fn token_roles_parse_by_name() {
        assert_eq!(
            "vendor".parse::<TokenRole>(),
            Ok(TokenRole::Production(Role::Vendor))
        );
        assert_eq!(
            "auditor".parse::<TokenRole>(),
            Ok(TokenRole::Global(GlobalRole::Auditor))
        );
        assert!("boss".parse::<TokenRole>().unwrap_err().contains("`boss`"));
    }
}
