//! The ledger's records as the API serves them, and what the routes share: reading ids from
//! paths, the cursor of a listing, finding a record's production.
//!
//! The server owns these shapes (the store's records are not API types): each view is built
//! from its record and documented for OpenAPI. Times are RFC 3339 text; a declaration and a
//! decision are `greenlight-core`'s own (the `Declaration` and `Decision` components).

use std::fmt::Display;
use std::future::Future;
use std::str::FromStr;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use greenlight_core::{Decision, Declaration, Level};
use greenlight_store::{
    Action, Approval, AssetScope, AuditEntry, Block, Consent, Contact, DataTerms, Kind, Ledger,
    Member, Notification, Page, Performer, Production, ProductionId, Role, Store, StoreError,
    StoredDecision, StoredDeclaration, Submission, Tool,
};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::{Ref, RefOr, Schema};

use crate::auth::Caller;
use crate::error::ApiError;

/// How many records a page holds when the request does not say.
pub const DEFAULT_LIMIT: u32 = 100;

/// A page of a listing: `?after=` (the `next` of the previous page) and `?limit=`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cursor {
    /// The `next` of the previous page; absent for the first.
    pub after: Option<String>,
    /// At most this many (1 to 1000, default 100).
    pub limit: Option<u32>,
}

impl Cursor {
    /// The page size asked for, checked.
    pub fn limit(&self) -> Result<u32, ApiError> {
        page_limit(self.limit)
    }
}

/// A page size, checked: 1 to 1000, default 100.
pub fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=greenlight_store::MAX_PAGE).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::invalid_field(
            "limit",
            format!(
                "a page holds 1 to {} records, not {n}",
                greenlight_store::MAX_PAGE
            ),
        )),
    }
}

/// Whose records a listing holds, and so how the caller is checked before its page is read.
#[derive(Debug)]
pub enum Sees<'a, R> {
    /// Records of no production (the registries, the accounts): the caller must be allowed
    /// the action as such.
    Anyone(Action),
    /// Records of one production: the caller must be allowed the action on it.
    Production(Action, &'a Production),
    /// Records of many productions: each is kept when the caller may take the action on its
    /// production (`authz::visible`), so a page may hold fewer than `limit` and still have a
    /// `next`.
    Each(Action, fn(&R) -> Option<&Production>),
}

/// A page of records the caller may see, rendered: the views and the cursor of the next page.
#[derive(Debug)]
pub struct Listed<V> {
    /// The views, in the listing's order.
    pub items: Vec<V>,
    /// The cursor of the next page; `None` on the last.
    pub next: Option<String>,
}

/// The one way a route lists records: the caller is authorized ([`Sees`]) before anything is
/// read, the cursor's `limit` is checked, `fetch` reads the page (`after`, `limit`), and each
/// record the caller may see becomes its view through `render`.
pub async fn visible_page<'c, R, V, Fut>(
    caller: &Caller,
    sees: Sees<'_, R>,
    cursor: &'c Cursor,
    fetch: impl FnOnce(Option<&'c str>, u32) -> Fut,
    render: impl FnMut(R) -> V,
) -> Result<Listed<V>, ApiError>
where
    Fut: Future<Output = greenlight_store::Result<Page<R>>>,
{
    match &sees {
        Sees::Anyone(action) => caller.authorize(*action, None)?,
        Sees::Production(action, production) => caller.authorize(*action, Some(production))?,
        Sees::Each(..) => {}
    }
    let limit = cursor.limit()?;
    let page = fetch(cursor.after.as_deref(), limit).await?;
    let items = match sees {
        Sees::Each(action, production_of) => {
            greenlight_store::visible(&caller.principal, action, page.items, production_of)
        }
        Sees::Anyone(_) | Sees::Production(..) => page.items,
    };
    let items = items.into_iter().map(render).collect();
    Ok(Listed {
        items,
        next: page.next,
    })
}

/// A record's JSON as the ledger stores it, served as it is: a listing of records whose stored
/// shape is their view's (a declaration: [`DeclarationView`], which a test holds it to) need
/// not read each one into types and write it out again. It is checked to be JSON when read.
#[derive(Debug)]
pub struct StoredJson(String);

/// A page of the records of `kind` under `parent` as their stored JSON, with the cursor of the
/// next page (the last id, when the page is full), as `Ledger`'s own pages have it.
pub async fn stored_page(
    ledger: &Ledger<dyn Store>,
    kind: Kind,
    parent: &str,
    after: Option<&str>,
    limit: u32,
) -> greenlight_store::Result<Page<StoredJson>> {
    let limit = limit.clamp(1, greenlight_store::MAX_PAGE);
    let rows = ledger
        .store()
        .page(kind, Some(parent), after, limit)
        .await?;
    let next = if rows.len() == limit as usize {
        rows.last().map(|row| row.id.clone())
    } else {
        None
    };
    let items = rows
        .into_iter()
        .map(|row| match serde_json::from_str::<IgnoredAny>(&row.body) {
            Ok(_) => Ok(StoredJson(row.body)),
            Err(e) => Err(StoreError::Other(format!(
                "{kind} `{}` is unreadable: {e}",
                row.id
            ))),
        })
        .collect::<greenlight_store::Result<_>>()?;
    Ok(Page { items, next })
}

/// The answer of a listing of stored JSON: `{"FIELD": [records…], "next": "…"}` (no `next` on
/// the last page), the shape of the listing's documented type.
pub fn stored_list(field: &str, items: &[StoredJson], next: Option<&str>) -> Response {
    let body = stored_list_body(field, items, next);
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn stored_list_body(field: &str, items: &[StoredJson], next: Option<&str>) -> String {
    let size = items.iter().map(|i| i.0.len() + 1).sum::<usize>();
    let mut body = String::with_capacity(size + field.len() + 64);
    body.push_str("{\"");
    body.push_str(field);
    body.push_str("\":[");
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            body.push(',');
        }
        body.push_str(&item.0);
    }
    body.push(']');
    if let Some(next) = next {
        body.push_str(",\"next\":");
        body.push_str(&serde_json::Value::String(next.to_owned()).to_string());
    }
    body.push('}');
    body
}

/// An id from the path (or the body), read into its type; a malformed one is a 422 naming
/// `field`.
pub fn parse_id<T>(field: &str, text: &str) -> Result<T, ApiError>
where
    T: FromStr,
    T::Err: Display,
{
    text.parse::<T>()
        .map_err(|e| ApiError::invalid_field(field, format!("`{text}` is not an id: {e}")))
}

/// A production by id or exact title (as the CLI takes it), for a declaration that names its
/// production; a title that matches none or several is a 422 naming `field`.
pub async fn find_production(
    ledger: &Ledger<dyn Store>,
    field: &str,
    text: &str,
) -> Result<Production, ApiError> {
    if let Ok(id) = text.parse::<ProductionId>() {
        return match ledger.production(id).await {
            Ok(production) => Ok(production),
            Err(StoreError::NotFound { .. }) => Err(ApiError::invalid_field(
                field,
                format!("no production has the id `{id}`"),
            )),
            Err(other) => Err(other.into()),
        };
    }
    let mut matches = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = ledger
            .productions(after.as_deref(), greenlight_store::MAX_PAGE)
            .await?;
        matches.extend(page.items.into_iter().filter(|p| p.title == text));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    match matches.len() {
        1 => Ok(matches.remove(0)),
        0 => Err(ApiError::invalid_field(
            field,
            format!("no production is titled `{text}`: name it by its id"),
        )),
        _ => Err(ApiError::invalid_field(
            field,
            format!(
                "several productions are titled `{text}`: name one by its id ({})",
                matches
                    .iter()
                    .map(|p| p.id.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// The `Declaration` component (`greenlight-core`'s JSON Schema).
pub fn declaration_ref() -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name("Declaration"))
}

/// The `Decision` component (`greenlight-core`'s JSON Schema).
pub fn decision_ref() -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name("Decision"))
}

/// Whom notify-level uses are shared with.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactView {
    /// Their name.
    #[serde(default)]
    pub name: String,
    /// Their email address.
    pub email: String,
}

impl From<&Contact> for ContactView {
    fn from(c: &Contact) -> Self {
        ContactView {
            name: c.name.clone(),
            email: c.email.clone(),
        }
    }
}

impl From<ContactView> for Contact {
    fn from(c: ContactView) -> Self {
        Contact {
            name: c.name,
            email: c.email,
        }
    }
}

/// A member of a production and their roles on it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberView {
    /// Their login.
    pub person: String,
    /// Their display name.
    #[serde(default)]
    pub name: String,
    /// `coordinator`, `vendor`, `reviewer`, `legal`, `post_supervisor`, `talent_relations`,
    /// `compliance`.
    #[schema(value_type = Vec<String>)]
    pub roles: Vec<Role>,
}

impl From<&Member> for MemberView {
    fn from(m: &Member) -> Self {
        MemberView {
            person: m.person.clone(),
            name: m.name.clone(),
            roles: m.roles.clone(),
        }
    }
}

impl From<MemberView> for Member {
    fn from(m: MemberView) -> Self {
        Member {
            person: m.person,
            name: m.name,
            roles: m.roles,
        }
    }
}

/// A production.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductionView {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// `scripted`, `documentary`, `unscripted`, `animation`, `advertising`, `other`.
    #[schema(value_type = String)]
    pub kind: greenlight_core::ProductionKind,
    /// Whom notify-level uses are shared with.
    pub studio_contact: ContactView,
    /// Who works on it, with their roles.
    pub members: Vec<MemberView>,
    /// The overlay packs that apply to it, by pack id, in stacking order.
    pub overlays: Vec<String>,
    /// When it was created.
    pub created_at: String,
    /// Who created it.
    pub created_by: String,
}

impl From<&Production> for ProductionView {
    fn from(p: &Production) -> Self {
        ProductionView {
            id: p.id.to_string(),
            title: p.title.clone(),
            kind: p.kind,
            studio_contact: ContactView::from(&p.studio_contact),
            members: p.members.iter().map(MemberView::from).collect(),
            overlays: p.overlays.clone(),
            created_at: p.created_at.to_string(),
            created_by: p.created_by.clone(),
        }
    }
}

/// A tool's data terms: each `yes`, `no` or `unsure`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TermsView {
    /// The vendor trains on what is sent.
    #[schema(value_type = String)]
    pub trains_on_inputs: greenlight_core::Answer,
    /// The vendor keeps what is sent.
    #[schema(value_type = String)]
    pub retains_inputs: greenlight_core::Answer,
    /// The vendor resells what is sent.
    #[schema(value_type = String)]
    pub resells_inputs: greenlight_core::Answer,
    /// Used under an enterprise agreement with the studio.
    #[schema(value_type = String)]
    pub enterprise_agreement: greenlight_core::Answer,
    /// The data terms were negotiated with the vendor.
    #[schema(value_type = String)]
    pub terms_negotiated: greenlight_core::Answer,
    /// Who reviewed the terms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviewed_by: Option<String>,
    /// When.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviewed_at: Option<String>,
}

impl From<&DataTerms> for TermsView {
    fn from(t: &DataTerms) -> Self {
        TermsView {
            trains_on_inputs: t.trains_on_inputs,
            retains_inputs: t.retains_inputs,
            resells_inputs: t.resells_inputs,
            enterprise_agreement: t.enterprise_agreement,
            terms_negotiated: t.terms_negotiated,
            reviewed_by: t.reviewed_by.clone(),
            reviewed_at: t.reviewed_at.map(|t| t.to_string()),
        }
    }
}

/// A registered tool.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToolView {
    /// Its id: a declaration may name it instead of describing it.
    pub id: String,
    /// The vendor.
    pub vendor: String,
    /// The product.
    pub product: String,
    /// The version reviewed.
    pub version: String,
    /// The licence tier reviewed.
    pub licence_tier: String,
    /// Its data terms, as last reviewed.
    pub terms: TermsView,
    /// When it was registered.
    pub registered_at: String,
    /// Who registered it.
    pub registered_by: String,
}

impl From<&Tool> for ToolView {
    fn from(t: &Tool) -> Self {
        ToolView {
            id: t.id.to_string(),
            vendor: t.vendor.clone(),
            product: t.product.clone(),
            version: t.version.clone(),
            licence_tier: t.licence_tier.clone(),
            terms: TermsView::from(&t.terms),
            registered_at: t.registered_at.to_string(),
            registered_by: t.registered_by.clone(),
        }
    }
}

/// A registered performer.
#[derive(Debug, Serialize, ToSchema)]
pub struct PerformerView {
    /// Their id: a declaration may name them by it.
    pub id: String,
    /// Their name.
    pub name: String,
    /// Their union, empty when none.
    pub union: String,
    /// Whether they are deceased.
    pub deceased: bool,
    /// The estate that consents for a deceased performer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estate: Option<String>,
    /// When they were registered.
    pub registered_at: String,
    /// Who registered them.
    pub registered_by: String,
}

impl From<&Performer> for PerformerView {
    fn from(p: &Performer) -> Self {
        PerformerView {
            id: p.id.to_string(),
            name: p.name.clone(),
            union: p.union.clone(),
            deceased: p.deceased,
            estate: p.estate.clone(),
            registered_at: p.registered_at.to_string(),
            registered_by: p.registered_by.clone(),
        }
    }
}

/// A revocation: when, by whom, why.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevocationView {
    /// When.
    pub at: String,
    /// By whom.
    pub by: String,
    /// Why.
    pub reason: String,
}

/// A performer's consent for one production and kind of use.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentView {
    /// Its id.
    pub id: String,
    /// The performer.
    pub performer_id: String,
    /// `employment_replica`, `independent_replica`, `background_replica`,
    /// `synthetic_performer`, `digital_alteration`.
    pub kind: String,
    /// The production it is for.
    pub production_id: String,
    /// The media it covers (empty: all).
    #[schema(value_type = Vec<String>)]
    pub media: Vec<greenlight_core::Medium>,
    /// The intended use, reasonably specific.
    pub description: String,
    /// Who gave it: the performer, their estate or union.
    pub given_by: String,
    /// `documented`, `pending`, `revoked`.
    #[schema(value_type = String)]
    pub status: greenlight_store::ConsentStatus,
    /// When it ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// The sha256 of the signed document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_sha256: Option<String>,
    /// When it was recorded.
    pub recorded_at: String,
    /// Who recorded it.
    pub recorded_by: String,
    /// Its revocation, if revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation: Option<RevocationView>,
}

impl From<&Consent> for ConsentView {
    fn from(c: &Consent) -> Self {
        ConsentView {
            id: c.id.to_string(),
            performer_id: c.performer_id.to_string(),
            kind: c.kind.as_str().to_owned(),
            production_id: c.scope.production_id.to_string(),
            media: c.scope.media.clone(),
            description: c.scope.description.clone(),
            given_by: c.given_by.clone(),
            status: c.status,
            expires_at: c.expires_at.map(|t| t.to_string()),
            document_sha256: c.document_sha256.clone(),
            recorded_at: c.recorded_at.to_string(),
            recorded_by: c.recorded_by.clone(),
            revocation: c.revocation.as_ref().map(|r| RevocationView {
                at: r.at.to_string(),
                by: r.by.clone(),
                reason: r.reason.clone(),
            }),
        }
    }
}

/// One version of a declaration, as submitted.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeclarationView {
    /// The declaration's id (the same for every version).
    pub id: String,
    /// Its production.
    pub production_id: String,
    /// The version, from 1.
    pub version: u32,
    /// The declaration as submitted.
    #[schema(schema_with = declaration_ref)]
    pub declaration: Declaration,
    /// Who submitted this version.
    pub submitted_by: String,
    /// When.
    pub submitted_at: String,
}

impl From<&StoredDeclaration> for DeclarationView {
    fn from(d: &StoredDeclaration) -> Self {
        DeclarationView {
            id: d.id.to_string(),
            production_id: d.production_id.to_string(),
            version: d.version,
            declaration: d.declaration.clone(),
            submitted_by: d.submitted_by.clone(),
            submitted_at: d.submitted_at.to_string(),
        }
    }
}

/// A decision turned back to blocked after it was made (a consent revoked or expired).
#[derive(Debug, Serialize, ToSchema)]
pub struct BlockView {
    /// When.
    pub at: String,
    /// The consent that lapsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent_id: Option<String>,
    /// Why.
    pub reason: String,
}

impl From<&Block> for BlockView {
    fn from(b: &Block) -> Self {
        BlockView {
            at: b.at.to_string(),
            consent_id: b.consent_id.map(|c| c.to_string()),
            reason: b.reason.clone(),
        }
    }
}

/// A decision on a version of a declaration.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionView {
    /// Its id.
    pub id: String,
    /// The declaration.
    pub declaration_id: String,
    /// The version decided on.
    pub declaration_version: u32,
    /// The level in force: the triage's, or `blocked` once a consent it relied on lapsed.
    #[schema(value_type = String)]
    pub level: Level,
    /// The triage: level, findings, the policy that gave it.
    #[schema(schema_with = decision_ref)]
    pub decision: Decision,
    /// What the registry filled in before triage (tools' terms, consents).
    pub resolution: Vec<String>,
    /// Blocks added since.
    pub blocks: Vec<BlockView>,
    /// When it was decided.
    pub decided_at: String,
    /// Who asked for it.
    pub decided_by: String,
}

impl From<&StoredDecision> for DecisionView {
    fn from(d: &StoredDecision) -> Self {
        DecisionView {
            id: d.id.to_string(),
            declaration_id: d.declaration_id.to_string(),
            declaration_version: d.declaration_version,
            level: d.level(),
            decision: d.decision.clone(),
            resolution: d.resolution.clone(),
            blocks: d.blocks.iter().map(BlockView::from).collect(),
            decided_at: d.decided_at.to_string(),
            decided_by: d.decided_by.clone(),
        }
    }
}

/// A notify-level use shared with the studio contact.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    /// Its id.
    pub id: String,
    /// The production.
    pub production_id: String,
    /// The declaration.
    pub declaration_id: String,
    /// Its version.
    pub declaration_version: u32,
    /// The decision shared.
    pub decision_id: String,
    /// Whom it was shared with.
    pub contact: ContactView,
    /// When.
    pub shared_at: String,
}

impl From<&Notification> for NotificationView {
    fn from(n: &Notification) -> Self {
        NotificationView {
            id: n.id.to_string(),
            production_id: n.production_id.to_string(),
            declaration_id: n.declaration_id.to_string(),
            declaration_version: n.declaration_version,
            decision_id: n.decision_id.to_string(),
            contact: ContactView::from(&n.contact),
            shared_at: n.shared_at.to_string(),
        }
    }
}

/// What submitting, revising or triaging a declaration again recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmissionView {
    /// The declaration version.
    pub declaration: DeclarationView,
    /// Its decision.
    pub decision: DecisionView,
    /// For a notify-level use, the record that it was shared with the studio contact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification: Option<NotificationView>,
}

impl From<&Submission> for SubmissionView {
    fn from(s: &Submission) -> Self {
        SubmissionView {
            declaration: DeclarationView::from(&s.declaration),
            decision: DecisionView::from(&s.decision),
            notification: s.notification.as_ref().map(NotificationView::from),
        }
    }
}

/// A scope as written: a path glob, or `sha256:` and a content hash.
pub fn scope_text(scope: &AssetScope) -> String {
    match scope {
        AssetScope::Glob(glob) => glob.clone(),
        AssetScope::Sha256(hash) => format!("sha256:{hash}"),
    }
}

/// A scope from its text: `sha256:HEX` is a content hash, anything else a path glob.
pub fn scope_of(text: &str) -> AssetScope {
    match text.strip_prefix("sha256:") {
        Some(hash) => AssetScope::Sha256(hash.to_owned()),
        None => AssetScope::Glob(text.to_owned()),
    }
}

/// An approval or rejection.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalView {
    /// Its id.
    pub id: String,
    /// The declaration.
    pub declaration_id: String,
    /// The version reviewed.
    pub declaration_version: u32,
    /// The decision reviewed.
    pub decision_id: String,
    /// `approved` or `rejected`.
    #[schema(value_type = String)]
    pub verdict: greenlight_store::Verdict,
    /// Who reviewed.
    pub reviewer: String,
    /// Conditions of the approval.
    pub conditions: Vec<String>,
    /// The assets it covers: path globs, or `sha256:` and a content hash.
    pub scope: Vec<String>,
    /// When it ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// The reviewer's note.
    pub note: String,
    /// When.
    pub decided_at: String,
}

impl From<&Approval> for ApprovalView {
    fn from(a: &Approval) -> Self {
        ApprovalView {
            id: a.id.to_string(),
            declaration_id: a.declaration_id.to_string(),
            declaration_version: a.declaration_version,
            decision_id: a.decision_id.to_string(),
            verdict: a.verdict,
            reviewer: a.reviewer.clone(),
            conditions: a.conditions.clone(),
            scope: a.scope.iter().map(scope_text).collect(),
            expires_at: a.expires_at.map(|t| t.to_string()),
            note: a.note.clone(),
            decided_at: a.decided_at.to_string(),
        }
    }
}

/// One entry of the audit log, with any secret left out.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    /// Its position, from 1, with no gaps.
    pub seq: i64,
    /// When.
    pub at: String,
    /// Who made the change.
    pub actor: String,
    /// `create` or `update`.
    pub action: String,
    /// The kind of record changed.
    pub kind: String,
    /// The record's id.
    pub record_id: String,
    /// The record's JSON before, absent when created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// The record's JSON after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

impl From<AuditEntry> for AuditEntryView {
    fn from(e: AuditEntry) -> Self {
        let e = e.redacted();
        AuditEntryView {
            seq: e.seq,
            at: e.at,
            actor: e.actor,
            action: e.action,
            kind: e.kind,
            record_id: e.record_id,
            before: e.before,
            after: e.after,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failing test stops at the error")]
mod tests {
    use greenlight_core::SourceFormat;
    use greenlight_store::{DeclarationId, Timestamp, body_of};

    use super::*;

    /// A listing serves declarations as the ledger stores them: that must be exactly what
    /// `DeclarationView` documents and the other routes render.
    #[test]
    fn a_stored_declaration_has_the_shape_of_its_view() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/m4-de-aging-consent.toml"
        ))
        .unwrap();
        let stored = StoredDeclaration {
            id: DeclarationId::generate(),
            production_id: ProductionId::generate(),
            version: 3,
            declaration: Declaration::parse(&text, SourceFormat::Toml).unwrap(),
            submitted_by: "cam".to_owned(),
            submitted_at: Timestamp::from_datetime(chrono::Utc::now()),
        };
        let view = serde_json::to_value(DeclarationView::from(&stored)).unwrap();
        let body: serde_json::Value = serde_json::from_str(&body_of(&stored).unwrap()).unwrap();
        assert_eq!(view, body);

        let page = [
            StoredJson(body_of(&stored).unwrap()),
            StoredJson(body_of(&stored).unwrap()),
        ];
        let listed: serde_json::Value =
            serde_json::from_str(&stored_list_body("declarations", &page, Some("a\"b"))).unwrap();
        assert_eq!(
            listed,
            serde_json::json!({"declarations": [view.clone(), view], "next": "a\"b"})
        );
        let last: serde_json::Value =
            serde_json::from_str(&stored_list_body("declarations", &[], None)).unwrap();
        assert_eq!(last, serde_json::json!({"declarations": []}));
    }
}
