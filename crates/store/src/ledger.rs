//! The [`Ledger`]: every business rule of the ledger, in one place, over any [`Store`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use ed25519_dalek::VerifyingKey;
use greenlight_core::{Decision, Declaration, Level};
use serde::Serialize;

use crate::audit::{self, AuditEntry, AuditKey, GENESIS_HASH, VerifyReport};
use crate::backend::{Kind, Row, Store, WriteTx};
use crate::error::{Result, Rule, StoreError};
use crate::gate::{
    ApprovalIndex, ApprovalState, FileEvidence, FileVerdict, GateRun, GateTally, Judgement,
    StampSigners, compile_glob,
};
use crate::ids::{
    ApprovalId, ConsentId, DecisionId, DeclarationId, NotificationId, PerformerId, ProductionId,
    ScanId, ToolId,
};
use crate::outbox::{self, OutboxChannels};
use crate::records::{
    Approval, AssetScope, Block, Consent, ConsentStatus, ConsentTerms, DataTerms,
    DeclarationVersion, Member, NewConsent, NewPerformer, NewProduction, NewReview, NewScan,
    NewTool, Notification, Page, Performer, Production, Record, Revocation, Role, ScanBatch,
    ScanCounts, ScanFile, ScanOutcome, ScanRecord, ScanState, ScannedFile, StoredDecision,
    StoredDeclaration, Tool, Verdict, needs_consent,
};
use crate::resolve::{self, Registry};
use crate::time::{Clock, Timestamp};

/// The most records one page returns.
pub const MAX_PAGE: u32 = 1_000;

/// The most files one batch of a recorded scan holds.
pub const MAX_SCAN_BATCH: usize = 1_000;

/// What submitting (or re-triaging) a declaration recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct Submission {
    /// The declaration version.
    pub declaration: StoredDeclaration,
    /// Its decision.
    pub decision: StoredDecision,
    /// For a notify-level use, the record that it was shared with the studio contact.
    pub notification: Option<Notification>,
}

/// A batch of a scan's files judged and recorded ([`Ledger::append_judged_scan_files`]).
#[derive(Clone, Debug, PartialEq)]
pub struct JudgedBatch {
    /// Each file's judgement, in the order given; `None` for files the gate does not look at.
    pub judgements: Vec<Option<Judgement>>,
    /// The batch written: `None` when no file of it is kept (none flagged or unreadable).
    pub batch: Option<ScanBatch>,
}

/// The ledger: records, rules and the audit log over a [`Store`].
///
/// Every change runs in one write transaction that also appends its audit
/// entries and a signed checkpoint; nothing changes without a trace.
pub struct Ledger<S: Store + ?Sized> {
    store: Arc<S>,
    clock: Arc<dyn Clock>,
    key: Arc<AuditKey>,
    outbox: OutboxChannels,
}

impl<S: Store + ?Sized> Clone for Ledger<S> {
    fn clone(&self) -> Self {
        Ledger {
            store: Arc::clone(&self.store),
            clock: Arc::clone(&self.clock),
            key: Arc::clone(&self.key),
            outbox: self.outbox,
        }
    }
}

pub(crate) fn parse<R: Record>(row: Row) -> Result<R> {
    serde_json::from_str(&row.body).map_err(|e| {
        StoreError::Other(format!(
            "{} `{}` is unreadable: {e}",
            R::KIND.as_str(),
            row.id
        ))
    })
}

fn not_found<R: Record>(id: impl ToString) -> StoreError {
    StoreError::NotFound {
        kind: R::KIND.as_str(),
        id: id.to_string(),
    }
}

fn require(ok: bool, message: impl FnOnce() -> String) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid(Rule::BadInput, message()))
    }
}

/// What every review (an approval, a rejection, a request for changes) checks first: the
/// declaration, its production and the decision in force, provided the writer's actor is a
/// reviewer or legal member of the production who submitted no version of it.
pub(crate) async fn review_target(
    w: &mut Writer,
    id: DeclarationId,
) -> Result<(StoredDeclaration, Production, StoredDecision)> {
    let declaration: StoredDeclaration = w.must(id).await?;
    let versions = w.children::<DeclarationVersion>(declaration.id).await?;
    if versions.iter().any(|v| v.0.submitted_by == w.actor) {
        return Err(StoreError::invalid(
            Rule::SelfReview,
            format!(
                "{} submitted declaration `{}` and cannot review it",
                w.actor, declaration.id
            ),
        ));
    }
    let production: Production = w.must(declaration.production_id).await?;
    let reviews = production.members.iter().any(|m| {
        m.person == w.actor
            && m.roles
                .iter()
                .any(|r| matches!(r, Role::Reviewer | Role::Legal))
    });
    if !reviews {
        return Err(StoreError::invalid(
            Rule::NotReviewer,
            format!(
                "{} is not a reviewer of production `{}` ({}): only its members with the reviewer or legal role review its declarations",
                w.actor, production.title, production.id
            ),
        ));
    }
    let decision = w.current_decision(&declaration).await?.ok_or_else(|| {
        StoreError::invalid(
            Rule::NotEscalated,
            format!(
                "declaration `{}` version {} has no decision yet",
                declaration.id, declaration.version
            ),
        )
    })?;
    Ok((declaration, production, decision))
}

/// Where an approval stands at `now`, given its declaration's current decision.
pub(crate) fn approval_state(
    approval: &Approval,
    current: Option<&StoredDecision>,
    now: Timestamp,
) -> ApprovalState {
    match (current, approval.expires_at) {
        _ if approval.verdict == Verdict::Rejected => ApprovalState::Rejected,
        (Some(current), _) if current.id != approval.decision_id => ApprovalState::Superseded,
        (None, _) => ApprovalState::Superseded,
        (Some(current), _) if current.level() == Level::Blocked => ApprovalState::Withdrawn,
        (_, Some(end)) if end <= now => ApprovalState::Expired { at: end },
        _ => ApprovalState::InForce,
    }
}

fn is_sha256(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// One write transaction and the audit entries it appends.
pub(crate) struct Writer {
    pub(crate) tx: Box<dyn WriteTx>,
    pub(crate) actor: String,
    pub(crate) at: Timestamp,
    at_text: String,
    first_seq: i64,
    next_seq: i64,
    prev_hash: String,
}

impl Writer {
    pub(crate) async fn load<R: Record>(&mut self, id: &str) -> Result<Option<R>> {
        self.tx.get(R::KIND, id).await?.map(parse).transpose()
    }

    pub(crate) async fn must<R: Record>(&mut self, id: impl ToString) -> Result<R> {
        let id = id.to_string();
        self.load(&id).await?.ok_or_else(|| not_found::<R>(id))
    }

    pub(crate) async fn children<R: Record>(&mut self, parent: impl ToString) -> Result<Vec<R>> {
        let rows = self.tx.children(R::KIND, &parent.to_string()).await?;
        rows.into_iter().map(parse).collect()
    }

    /// Writes the record and appends its audit entry (nothing when unchanged).
    pub(crate) async fn save<R: Record>(&mut self, record: &R) -> Result<()> {
        let body = serde_json::to_string(record).map_err(StoreError::other)?;
        let id = record.key();
        let before = self.tx.get(R::KIND, &id).await?.map(|row| row.body);
        if before.as_deref() == Some(body.as_str()) {
            return Ok(());
        }
        let row = Row {
            id: id.clone(),
            parent: record.parent(),
            body: body.clone(),
        };
        self.tx.put(R::KIND, &row).await?;
        let mut entry = AuditEntry {
            seq: self.next_seq,
            at: self.at_text.clone(),
            actor: self.actor.clone(),
            action: if before.is_some() { "update" } else { "create" }.to_owned(),
            kind: R::KIND.as_str().to_owned(),
            record_id: id,
            before,
            after: Some(body),
            prev_hash: self.prev_hash.clone(),
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        self.tx.append(&entry).await?;
        self.prev_hash = entry.hash;
        self.next_seq += 1;
        Ok(())
    }

    /// Signs the new head and commits.
    pub(crate) async fn commit(mut self, key: &AuditKey) -> Result<()> {
        if self.next_seq > self.first_seq {
            let checkpoint = key.checkpoint(self.next_seq - 1, &self.prev_hash, &self.at_text);
            self.tx.add_checkpoint(&checkpoint).await?;
        }
        self.tx.commit().await
    }

    /// The registry records a declaration names, as this transaction sees them.
    async fn registry(&mut self, declaration: &Declaration) -> Result<Registry> {
        let mut registry = Registry::default();
        for id in resolve::named_tools(declaration)? {
            if let Some(tool) = self.load::<Tool>(&id.to_string()).await? {
                registry.tools.insert(id, tool);
            }
        }
        for id in resolve::named_performers(declaration)? {
            if let Some(performer) = self.load::<Performer>(&id.to_string()).await? {
                let consents = self.children::<Consent>(id).await?;
                registry.performers.insert(id, (performer, consents));
            }
        }
        if !resolve::unnamed_performers(declaration).is_empty() {
            let rows = self.tx.all(Kind::Performer).await?;
            let registered: Vec<Performer> = rows.into_iter().map(parse).collect::<Result<_>>()?;
            for performer in registry.add_named(declaration, &registered) {
                let consents = self.children::<Consent>(performer.id).await?;
                registry
                    .performers
                    .insert(performer.id, (performer.clone(), consents));
            }
        }
        Ok(registry)
    }

    /// The current decision of a declaration: the latest on its latest version.
    pub(crate) async fn current_decision(
        &mut self,
        declaration: &StoredDeclaration,
    ) -> Result<Option<StoredDecision>> {
        let decisions = self.children::<StoredDecision>(declaration.id).await?;
        Ok(decisions
            .into_iter()
            .rev()
            .find(|d| d.declaration_version == declaration.version))
    }
}

impl<S: Store + ?Sized> Ledger<S> {
    /// A ledger over `store`, reading the time from `clock` and signing
    /// checkpoints with `key`.
    pub fn new(store: Arc<S>, clock: Arc<dyn Clock>, key: AuditKey) -> Self {
        Ledger {
            store,
            clock,
            key: Arc::new(key),
            outbox: OutboxChannels::default(),
        }
    }

    /// This ledger enqueuing notifications on `channels` (none by default): each change that
    /// notifies writes its outbox rows in its own transaction.
    pub fn with_outbox(mut self, channels: OutboxChannels) -> Self {
        self.outbox = channels;
        self
    }

    /// The channels this ledger enqueues notifications on.
    pub fn outbox_channels(&self) -> OutboxChannels {
        self.outbox
    }

    /// The backend.
    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    /// The time, as the ledger's clock gives it.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The key that signs this ledger's checkpoints.
    pub(crate) fn key(&self) -> &AuditKey {
        &self.key
    }

    /// The public key that verifies this ledger's checkpoints.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    pub(crate) async fn begin(&self, actor: &str) -> Result<Writer> {
        require(!actor.trim().is_empty(), || "the actor is empty".to_owned())?;
        let mut tx = self.store.begin().await?;
        let (last, prev_hash) = tx.head().await?.unwrap_or((0, GENESIS_HASH.to_owned()));
        let at = self.clock.now();
        Ok(Writer {
            tx,
            actor: actor.to_owned(),
            at,
            at_text: at.to_string(),
            first_seq: last + 1,
            next_seq: last + 1,
            prev_hash,
        })
    }

    // ----- reads -------------------------------------------------------------

    pub(crate) async fn get<R: Record>(&self, id: impl ToString) -> Result<R> {
        let id = id.to_string();
        match self.store.get(R::KIND, &id).await? {
            Some(row) => parse(row),
            None => Err(not_found::<R>(id)),
        }
    }

    pub(crate) async fn all_children<R: Record>(&self, parent: impl ToString) -> Result<Vec<R>> {
        let parent = parent.to_string();
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let rows = self
                .store
                .page(R::KIND, Some(&parent), after.as_deref(), MAX_PAGE)
                .await?;
            let Some(last) = rows.last() else { break };
            after = Some(last.id.clone());
            for row in rows {
                out.push(parse(row)?);
            }
        }
        Ok(out)
    }

    /// One write that stores a new record, built with the transaction's actor and time.
    async fn create<R: Record>(
        &self,
        actor: &str,
        build: impl FnOnce(&Writer) -> R + Send,
    ) -> Result<R> {
        let mut w = self.begin(actor).await?;
        let record = build(&w);
        w.save(&record).await?;
        w.commit(&self.key).await?;
        Ok(record)
    }

    /// One write that changes a stored record in place.
    pub(crate) async fn update<R: Record>(
        &self,
        actor: &str,
        id: impl ToString + Send,
        change: impl FnOnce(&mut R) + Send,
    ) -> Result<R> {
        let mut w = self.begin(actor).await?;
        let mut record: R = w.must(id).await?;
        change(&mut record);
        w.save(&record).await?;
        w.commit(&self.key).await?;
        Ok(record)
    }

    /// The key that signs the audit log's checkpoints.
    pub(crate) fn audit_key(&self) -> &AuditKey {
        &self.key
    }

    /// Every record of a kind, in id order, read a page at a time.
    pub(crate) async fn every<R: Record>(&self) -> Result<Vec<R>> {
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.page_of::<R>(None, after.as_deref(), MAX_PAGE).await?;
            all.extend(page.items);
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(all),
            }
        }
    }

    pub(crate) async fn page_of<R: Record>(
        &self,
        parent: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<R>> {
        let limit = limit.clamp(1, MAX_PAGE);
        let rows = self.store.page(R::KIND, parent, after, limit).await?;
        let full = rows.len() == limit as usize;
        let next = if full {
            rows.last().map(|r| r.id.clone())
        } else {
            None
        };
        let items = rows.into_iter().map(parse).collect::<Result<_>>()?;
        Ok(Page { items, next })
    }

    /// A production.
    pub async fn production(&self, id: ProductionId) -> Result<Production> {
        self.get(id).await
    }

    /// A page of productions, in creation order.
    pub async fn productions(&self, after: Option<&str>, limit: u32) -> Result<Page<Production>> {
        self.page_of(None, after, limit).await
    }

    /// A registered tool.
    pub async fn tool(&self, id: ToolId) -> Result<Tool> {
        self.get(id).await
    }

    /// A page of registered tools, in registration order.
    pub async fn tools(&self, after: Option<&str>, limit: u32) -> Result<Page<Tool>> {
        self.page_of(None, after, limit).await
    }

    /// A registered performer.
    pub async fn performer(&self, id: PerformerId) -> Result<Performer> {
        self.get(id).await
    }

    /// A page of registered performers, in registration order.
    pub async fn performers(&self, after: Option<&str>, limit: u32) -> Result<Page<Performer>> {
        self.page_of(None, after, limit).await
    }

    /// A consent.
    pub async fn consent(&self, id: ConsentId) -> Result<Consent> {
        self.get(id).await
    }

    /// Every consent of a performer, oldest first.
    pub async fn consents(&self, performer: PerformerId) -> Result<Vec<Consent>> {
        self.all_children(performer).await
    }

    /// A declaration's latest version.
    pub async fn declaration(&self, id: DeclarationId) -> Result<StoredDeclaration> {
        self.get(id).await
    }

    /// One version of a declaration.
    pub async fn declaration_version(
        &self,
        id: DeclarationId,
        version: u32,
    ) -> Result<StoredDeclaration> {
        let version: DeclarationVersion = self.get(DeclarationVersion::key_of(id, version)).await?;
        Ok(version.0)
    }

    /// Every version of a declaration, first to latest.
    pub async fn declaration_versions(&self, id: DeclarationId) -> Result<Vec<StoredDeclaration>> {
        let versions: Vec<DeclarationVersion> = self.all_children(id).await?;
        Ok(versions.into_iter().map(|v| v.0).collect())
    }

    /// A page of a production's declarations (latest versions), in submission order.
    ///
    /// Pass the previous page's `next` as `after`; paging is by key, so every
    /// page costs the same however deep it is.
    pub async fn declarations(
        &self,
        production: ProductionId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<StoredDeclaration>> {
        self.page_of(Some(&production.to_string()), after, limit)
            .await
    }

    /// Every decision on a declaration, oldest first.
    pub async fn decisions(&self, declaration: DeclarationId) -> Result<Vec<StoredDecision>> {
        self.all_children(declaration).await
    }

    /// The decision in force: the latest on the declaration's latest version.
    pub async fn current_decision(&self, declaration: DeclarationId) -> Result<StoredDecision> {
        let stored = self.declaration(declaration).await?;
        self.decisions(declaration)
            .await?
            .into_iter()
            .rev()
            .find(|d| d.declaration_version == stored.version)
            .ok_or_else(|| not_found::<StoredDecision>(format!("for declaration {declaration}")))
    }

    /// Every approval and rejection of a declaration, oldest first.
    pub async fn approvals(&self, declaration: DeclarationId) -> Result<Vec<Approval>> {
        self.all_children(declaration).await
    }

    /// The approvals in force for a declaration now: approved, unexpired,
    /// given on its latest version and its current decision, and that
    /// decision not blocked since (e.g. by a revoked consent).
    pub async fn approvals_in_force(&self, declaration: DeclarationId) -> Result<Vec<Approval>> {
        let now = self.now();
        let current = match self.current_decision(declaration).await {
            Ok(decision) => decision,
            Err(StoreError::NotFound { .. }) => return Ok(Vec::new()),
            Err(other) => return Err(other),
        };
        if current.level() == Level::Blocked {
            return Ok(Vec::new());
        }
        Ok(self
            .approvals(declaration)
            .await?
            .into_iter()
            .filter(|a| {
                a.verdict == Verdict::Approved
                    && a.decision_id == current.id
                    && a.expires_at.is_none_or(|end| now < end)
            })
            .collect())
    }

    /// Every approval and rejection given to a production's declarations,
    /// each in its state now, ready for the delivery gate to match files
    /// against.
    pub async fn approval_index(&self, production: ProductionId) -> Result<ApprovalIndex> {
        let _: Production = self.get(production).await?;
        let now = self.now();
        // The production's declarations (their latest versions), a page at a time; then every
        // review in the ledger, a page at a time, kept when it is of one of them. Reviews are
        // few next to declarations, so this reads far fewer rows than asking per declaration.
        let mut versions: HashMap<DeclarationId, u32> = HashMap::new();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .declarations(production, after.as_deref(), MAX_PAGE)
                .await?;
            versions.extend(page.items.iter().map(|d| (d.id, d.version)));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let mut reviews: BTreeMap<DeclarationId, Vec<Approval>> = BTreeMap::new();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .page_of::<Approval>(None, after.as_deref(), MAX_PAGE)
                .await?;
            for approval in page.items {
                if versions.contains_key(&approval.declaration_id) {
                    reviews
                        .entry(approval.declaration_id)
                        .or_default()
                        .push(approval);
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let mut index = ApprovalIndex::default();
        for (declaration, approvals) in reviews {
            let version = versions.get(&declaration).copied();
            let current = self
                .decisions(declaration)
                .await?
                .into_iter()
                .rev()
                .find(|d| Some(d.declaration_version) == version);
            for approval in approvals {
                let state = approval_state(&approval, current.as_ref(), now);
                index.add(approval, state);
            }
        }
        Ok(index)
    }

    /// A production named by its id or its exact title; a title that several productions
    /// share is refused, naming their ids.
    pub async fn find_production(&self, text: &str) -> Result<Production> {
        if let Ok(id) = text.parse::<ProductionId>() {
            return self.production(id).await;
        }
        let mut found = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.productions(after.as_deref(), MAX_PAGE).await?;
            found.extend(page.items.into_iter().filter(|p| p.title == text));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        match found.len() {
            0 => Err(StoreError::NotFound {
                kind: "production",
                id: text.to_owned(),
            }),
            1 => Ok(found.remove(0)),
            _ => {
                let ids: Vec<String> = found.iter().map(|p| p.id.to_string()).collect();
                Err(StoreError::invalid(
                    Rule::BadInput,
                    format!(
                        "several productions are titled `{text}`: name one by its id ({})",
                        ids.join(", ")
                    ),
                ))
            }
        }
    }

    /// Judges files against a production's approvals as they stand now, recording nothing:
    /// the delivery gate without `--record`. `None` for the files the gate does not look at.
    /// The evidence comes from elsewhere, so a stamp's signer is trusted only when `signers`
    /// names it, whatever the evidence says.
    pub async fn judge_files(
        &self,
        production: ProductionId,
        strict: bool,
        files: &[FileEvidence],
        signers: &StampSigners,
    ) -> Result<Vec<Option<Judgement>>> {
        check_evidence(files)?;
        let mut run = GateRun::new(self.approval_index(production).await?, strict);
        Ok(files
            .iter()
            .map(|f| run.judge(&signers.rejudge(f)))
            .collect())
    }

    /// A recorded scan.
    pub async fn scan(&self, id: ScanId) -> Result<ScanRecord> {
        self.get(id).await
    }

    /// A page of a recorded scan's files, in the order they were recorded, after row `after`
    /// (`next` is the last row's number). Scans recorded before files were kept as rows page
    /// through the files in their body the same way.
    pub async fn scan_files(
        &self,
        scan: ScanId,
        after: Option<u64>,
        limit: u32,
    ) -> Result<Page<ScanFile>> {
        let limit = limit.clamp(1, MAX_PAGE);
        let after = after.unwrap_or(0);
        let record = self.scan(scan).await?;
        let items: Vec<ScanFile> = if record.files.is_empty() {
            let after = i64::try_from(after).unwrap_or(i64::MAX);
            let rows = self
                .store
                .scan_file_page(&scan.to_string(), after, limit)
                .await?;
            rows.into_iter()
                .map(|row| {
                    let file = serde_json::from_str(&row.body).map_err(|e| {
                        StoreError::Other(format!(
                            "file {} of scan `{scan}` is unreadable: {e}",
                            row.seq
                        ))
                    })?;
                    let seq = u64::try_from(row.seq).map_err(StoreError::other)?;
                    Ok(ScanFile { seq, file })
                })
                .collect::<Result<_>>()?
        } else {
            (1u64..)
                .zip(record.files)
                .skip_while(|(seq, _)| *seq <= after)
                .take(limit as usize)
                .map(|(seq, file)| ScanFile { seq, file })
                .collect()
        };
        let next = if items.len() == limit as usize {
            items.last().map(|f| f.seq.to_string())
        } else {
            None
        };
        Ok(Page { items, next })
    }

    /// A page of a production's recorded scans, oldest first.
    pub async fn scans(
        &self,
        production: ProductionId,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<ScanRecord>> {
        self.page_of(Some(&production.to_string()), after, limit)
            .await
    }

    /// Every notification of a declaration, oldest first.
    pub async fn notifications(&self, declaration: DeclarationId) -> Result<Vec<Notification>> {
        self.all_children(declaration).await
    }

    /// Audit entries after `after` (a `seq`), at most `limit`.
    pub async fn audit_entries(&self, after: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>> {
        self.store.audit_page(after, limit.clamp(1, MAX_PAGE)).await
    }

    /// Verifies the audit log against this ledger's own key.
    pub async fn verify(&self) -> Result<VerifyReport> {
        audit::verify(&*self.store, &self.key.verifying_key()).await
    }

    /// Fills a declaration in from the registry, as triage would see it now.
    pub async fn resolve(
        &self,
        production: ProductionId,
        declaration: &Declaration,
    ) -> Result<resolve::Resolution> {
        let mut registry = Registry::default();
        for id in resolve::named_tools(declaration)? {
            match self.tool(id).await {
                Ok(tool) => {
                    registry.tools.insert(id, tool);
                }
                Err(StoreError::NotFound { .. }) => {}
                Err(other) => return Err(other),
            }
        }
        for id in resolve::named_performers(declaration)? {
            match self.performer(id).await {
                Ok(performer) => {
                    let consents = self.consents(id).await?;
                    registry.performers.insert(id, (performer, consents));
                }
                Err(StoreError::NotFound { .. }) => {}
                Err(other) => return Err(other),
            }
        }
        if !resolve::unnamed_performers(declaration).is_empty() {
            let registered: Vec<Performer> = self.every().await?;
            for performer in registry.add_named(declaration, &registered) {
                let consents = self.consents(performer.id).await?;
                registry
                    .performers
                    .insert(performer.id, (performer.clone(), consents));
            }
        }
        resolve::resolve(declaration, production, &registry, self.now())
    }

    // ----- productions, tools, performers ------------------------------------

    /// Creates a production.
    pub async fn create_production(&self, actor: &str, new: NewProduction) -> Result<Production> {
        require(!new.title.trim().is_empty(), || {
            "a production needs a title".to_owned()
        })?;
        require(!new.studio_contact.email.trim().is_empty(), || {
            "a production needs a studio contact (notify-level uses are shared with them)"
                .to_owned()
        })?;
        check_members(&new.members)?;
        self.create(actor, |w| Production {
            id: ProductionId::generate(),
            title: new.title,
            kind: new.kind,
            studio_contact: new.studio_contact,
            members: new.members,
            overlays: Vec::new(),
            created_at: w.at,
            created_by: w.actor.clone(),
        })
        .await
    }

    /// Replaces a production's members.
    pub async fn set_members(
        &self,
        actor: &str,
        production: ProductionId,
        members: Vec<Member>,
    ) -> Result<Production> {
        check_members(&members)?;
        self.update(actor, production, |p: &mut Production| p.members = members)
            .await
    }

    /// Replaces the overlay packs that apply to a production (its unions and
    /// release territories), by pack id, in stacking order.
    pub async fn set_overlays(
        &self,
        actor: &str,
        production: ProductionId,
        overlays: Vec<String>,
    ) -> Result<Production> {
        check_overlays(&overlays)?;
        self.update(actor, production, |p: &mut Production| {
            p.overlays = overlays
        })
        .await
    }

    /// Registers a tool with its data terms.
    pub async fn register_tool(&self, actor: &str, new: NewTool) -> Result<Tool> {
        require(
            !new.vendor.trim().is_empty() && !new.product.trim().is_empty(),
            || "a tool needs a vendor and a product".to_owned(),
        )?;
        self.create(actor, |w| Tool {
            id: ToolId::generate(),
            vendor: new.vendor,
            product: new.product,
            version: new.version,
            licence_tier: new.licence_tier,
            terms: new.terms,
            registered_at: w.at,
            registered_by: w.actor.clone(),
        })
        .await
    }

    /// Records a new review of a tool's data terms.
    pub async fn update_tool_terms(
        &self,
        actor: &str,
        tool: ToolId,
        terms: DataTerms,
    ) -> Result<Tool> {
        self.update(actor, tool, |t: &mut Tool| t.terms = terms)
            .await
    }

    /// Registers a performer.
    pub async fn register_performer(&self, actor: &str, new: NewPerformer) -> Result<Performer> {
        require(!new.name.trim().is_empty(), || {
            "a performer needs a name".to_owned()
        })?;
        require(new.deceased || new.estate.is_none(), || {
            "only a deceased performer has an estate that consents".to_owned()
        })?;
        self.create(actor, |w| Performer {
            id: PerformerId::generate(),
            name: new.name,
            union: new.union,
            deceased: new.deceased,
            estate: new.estate,
            registered_at: w.at,
            registered_by: w.actor.clone(),
        })
        .await
    }

    // ----- consents ------------------------------------------------------------

    /// Records a performer's consent (documented or pending).
    pub async fn record_consent(&self, actor: &str, new: NewConsent) -> Result<Consent> {
        self.record_consent_with_terms(actor, new, ConsentTerms::default())
            .await
    }

    /// Records a performer's consent with what it says of the replica
    /// (kind, signed separately, representation): a declaration naming the
    /// performer is then triaged with those answers.
    pub async fn record_consent_with_terms(
        &self,
        actor: &str,
        new: NewConsent,
        terms: ConsentTerms,
    ) -> Result<Consent> {
        require(new.status != ConsentStatus::Revoked, || {
            "a consent is recorded documented or pending; revoke it afterwards".to_owned()
        })?;
        require(!new.scope.description.trim().is_empty(), || {
            "a consent needs a reasonably specific description of the intended use".to_owned()
        })?;
        require(!new.given_by.trim().is_empty(), || {
            "a consent needs who gave it".to_owned()
        })?;
        if let Some(hash) = &new.document_sha256 {
            require(is_sha256(hash), || {
                format!("`{hash}` is not a sha256 (64 lowercase hex digits)")
            })?;
        }
        require(
            new.status != ConsentStatus::Documented || new.document_sha256.is_some(),
            || "a documented consent needs the sha256 of the signed document".to_owned(),
        )?;
        let mut w = self.begin(actor).await?;
        if let Some(end) = new.expires_at {
            require(end > w.at, || {
                format!("the consent expires in the past ({end})")
            })?;
        }
        let performer: Performer = w.must(new.performer_id).await?;
        let _: Production = w.must(new.scope.production_id).await?;
        if performer.deceased {
            let allowed = match &performer.estate {
                Some(estate) => estate == &new.given_by,
                None => !performer.union.is_empty() && performer.union == new.given_by,
            };
            require(allowed, || {
                format!(
                    "{} is deceased: consent comes from the estate ({}), or the union when there is none",
                    performer.name,
                    performer.estate.as_deref().unwrap_or("none recorded")
                )
            })?;
        }
        let consent = Consent {
            id: ConsentId::generate(),
            performer_id: new.performer_id,
            kind: new.kind,
            scope: new.scope,
            given_by: new.given_by,
            status: new.status,
            expires_at: new.expires_at,
            document_sha256: new.document_sha256,
            recorded_at: w.at,
            recorded_by: w.actor.clone(),
            revocation: None,
            terms,
        };
        w.save(&consent).await?;
        w.commit(&self.key).await?;
        Ok(consent)
    }

    /// Records the signed document of a pending consent: it becomes documented.
    pub async fn document_consent(
        &self,
        actor: &str,
        consent: ConsentId,
        document_sha256: &str,
    ) -> Result<Consent> {
        require(is_sha256(document_sha256), || {
            format!("`{document_sha256}` is not a sha256 (64 lowercase hex digits)")
        })?;
        let mut w = self.begin(actor).await?;
        let mut record: Consent = w.must(consent).await?;
        if record.status != ConsentStatus::Pending {
            return Err(StoreError::invalid(
                Rule::AlreadyDone,
                format!("consent `{consent}` is not pending"),
            ));
        }
        record.status = ConsentStatus::Documented;
        record.document_sha256 = Some(document_sha256.to_owned());
        w.save(&record).await?;
        w.commit(&self.key).await?;
        Ok(record)
    }

    /// Revokes a consent. Every decision that relied on it turns back to
    /// blocked, saying why; those decisions are returned.
    pub async fn revoke_consent(
        &self,
        actor: &str,
        consent: ConsentId,
        reason: &str,
    ) -> Result<(Consent, Vec<StoredDecision>)> {
        require(!reason.trim().is_empty(), || {
            "a revocation needs a reason".to_owned()
        })?;
        let mut w = self.begin(actor).await?;
        let mut record: Consent = w.must(consent).await?;
        if record.status == ConsentStatus::Revoked {
            return Err(StoreError::invalid(
                Rule::AlreadyDone,
                format!("consent `{consent}` is already revoked"),
            ));
        }
        record.status = ConsentStatus::Revoked;
        record.revocation = Some(Revocation {
            at: w.at,
            by: w.actor.clone(),
            reason: reason.to_owned(),
        });
        w.save(&record).await?;
        let why = format!(
            "consent `{}` ({}) was revoked on {} by {}: {reason}; the use needs documented consent again (C3a, M4)",
            record.id,
            record.kind.as_str(),
            w.at,
            w.actor
        );
        let blocked = block_affected(&mut w, &record, &why).await?;
        outbox::notify_revoked(&mut w, self.outbox, &record, &blocked).await?;
        w.commit(&self.key).await?;
        Ok((record, blocked))
    }

    /// Finds documented consents that have expired and turns the decisions
    /// that relied on them back to blocked, saying why. Safe to run often.
    pub async fn sweep_expired_consents(&self, actor: &str) -> Result<Vec<StoredDecision>> {
        let now = self.now();
        let mut expired = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let rows = self
                .store
                .page(Kind::Consent, None, after.as_deref(), MAX_PAGE)
                .await?;
            let Some(last) = rows.last() else { break };
            after = Some(last.id.clone());
            for row in rows {
                let consent: Consent = parse(row)?;
                if consent.status == ConsentStatus::Documented && consent.expired(now) {
                    expired.push(consent.id);
                }
            }
        }
        if expired.is_empty() {
            return Ok(Vec::new());
        }
        let mut w = self.begin(actor).await?;
        let mut blocked = Vec::new();
        for id in expired {
            let consent: Consent = w.must(id).await?;
            let why = format!(
                "consent `{}` ({}) expired on {}; the use needs documented consent again (C3a, M4)",
                consent.id,
                consent.kind.as_str(),
                consent
                    .expires_at
                    .map(|e| e.to_string())
                    .unwrap_or_default()
            );
            blocked.extend(block_affected(&mut w, &consent, &why).await?);
        }
        w.commit(&self.key).await?;
        Ok(blocked)
    }

    // ----- declarations and decisions -----------------------------------------

    /// Submits a new declaration for a production. `triage` is handed the
    /// declaration filled in from the registry and returns the decision; both
    /// are recorded, and a notify-level use is recorded as shared with the
    /// studio contact, all in one transaction.
    pub async fn submit_declaration<F>(
        &self,
        actor: &str,
        production: ProductionId,
        declaration: Declaration,
        triage: F,
    ) -> Result<Submission>
    where
        F: FnOnce(&Declaration) -> Decision + Send,
    {
        let mut w = self.begin(actor).await?;
        let production: Production = w.must(production).await?;
        let submission = submit(&mut w, &production, None, declaration, triage).await?;
        outbox::notify_submission(&mut w, self.outbox, &production, &submission).await?;
        w.commit(&self.key).await?;
        Ok(submission)
    }

    /// Submits many declarations for one production in one transaction (an import).
    pub async fn submit_declarations<F>(
        &self,
        actor: &str,
        production: ProductionId,
        declarations: Vec<Declaration>,
        mut triage: F,
    ) -> Result<Vec<Submission>>
    where
        F: FnMut(&Declaration) -> Decision + Send,
    {
        let mut w = self.begin(actor).await?;
        let production: Production = w.must(production).await?;
        let mut out = Vec::with_capacity(declarations.len());
        for declaration in declarations {
            let submission = submit(&mut w, &production, None, declaration, &mut triage).await?;
            outbox::notify_submission(&mut w, self.outbox, &production, &submission).await?;
            out.push(submission);
        }
        w.commit(&self.key).await?;
        Ok(out)
    }

    /// Submits a new version of a declaration; earlier versions are kept.
    pub async fn revise_declaration<F>(
        &self,
        actor: &str,
        id: DeclarationId,
        declaration: Declaration,
        triage: F,
    ) -> Result<Submission>
    where
        F: FnOnce(&Declaration) -> Decision + Send,
    {
        let mut w = self.begin(actor).await?;
        let current: StoredDeclaration = w.must(id).await?;
        let production: Production = w.must(current.production_id).await?;
        let submission = submit(&mut w, &production, Some(current), declaration, triage).await?;
        outbox::notify_submission(&mut w, self.outbox, &production, &submission).await?;
        w.commit(&self.key).await?;
        Ok(submission)
    }

    /// Triage again the latest version of a declaration against the registry
    /// as it stands now (e.g. once a missing consent is recorded).
    pub async fn retriage<F>(&self, actor: &str, id: DeclarationId, triage: F) -> Result<Submission>
    where
        F: FnOnce(&Declaration) -> Decision + Send,
    {
        let mut w = self.begin(actor).await?;
        let current: StoredDeclaration = w.must(id).await?;
        let production: Production = w.must(current.production_id).await?;
        let (decision, notification) = decide(&mut w, &production, &current, triage).await?;
        w.commit(&self.key).await?;
        Ok(Submission {
            declaration: current,
            decision,
            notification,
        })
    }

    // ----- reviews --------------------------------------------------------------

    /// A reviewer approves or rejects the latest version of an escalated
    /// declaration.
    ///
    /// Refused when the reviewer is not a member of the declaration's production with the
    /// reviewer or legal role ([`Rule::NotReviewer`]), when the reviewer submitted any version
    /// of it, when the decision is notify (nothing to approve), and, for an approval, when the
    /// decision is blocked or a consent it relied on has since lapsed.
    pub async fn review(&self, reviewer: &str, review: NewReview) -> Result<Approval> {
        let mut w = self.begin(reviewer).await?;
        let now = w.at;
        let (declaration, production, decision) =
            review_target(&mut w, review.declaration_id).await?;
        let mut blockers: Vec<String> = decision.blocks.iter().map(|b| b.reason.clone()).collect();
        blockers.extend(
            decision
                .decision
                .findings
                .iter()
                .filter(|f| f.level == Level::Blocked)
                .map(|f| {
                    format!(
                        "{} ({}): {} {}",
                        f.rule,
                        f.cites.join(", "),
                        f.reason,
                        f.remedy
                    )
                }),
        );
        blockers.extend(lapsed_consents(&mut w, &declaration, &decision, now).await?);
        let level = if blockers.is_empty() {
            decision.level()
        } else {
            Level::Blocked
        };
        if level == Level::Notify {
            return Err(StoreError::invalid(
                Rule::NotEscalated,
                format!(
                    "declaration `{}` is notify-level: it needs no approval",
                    declaration.id
                ),
            ));
        }
        if review.verdict == Verdict::Approved {
            if level == Level::Blocked {
                return Err(StoreError::invalid(
                    Rule::Blocked,
                    format!(
                        "declaration `{}` is blocked until its missing precondition is recorded: {}",
                        declaration.id,
                        blockers.join("; ")
                    ),
                ));
            }
            require(!review.scope.is_empty(), || {
                "an approval needs a scope: asset path globs or content hashes".to_owned()
            })?;
            for scope in &review.scope {
                match scope {
                    AssetScope::Glob(glob) => {
                        require(!glob.trim().is_empty(), || "an empty path glob".to_owned())?;
                        compile_glob(glob)
                            .map_err(|message| StoreError::invalid(Rule::BadInput, message))?;
                    }
                    AssetScope::Sha256(hash) => require(is_sha256(hash), || {
                        format!("`{hash}` is not a sha256 (64 lowercase hex digits)")
                    })?,
                }
            }
        }
        if let Some(end) = review.expires_at {
            require(end > now, || {
                format!("the approval expires in the past ({end})")
            })?;
        }
        let approval = Approval {
            id: ApprovalId::generate(),
            declaration_id: declaration.id,
            declaration_version: declaration.version,
            decision_id: decision.id,
            verdict: review.verdict,
            reviewer: w.actor.clone(),
            conditions: review.conditions,
            scope: review.scope,
            expires_at: review.expires_at,
            note: review.note,
            decided_at: now,
        };
        w.save(&approval).await?;
        outbox::notify_decided(&mut w, self.outbox, &production, &declaration, &approval).await?;
        w.commit(&self.key).await?;
        Ok(approval)
    }

    // ----- delivery scans ----------------------------------------------------

    /// Begins recording a delivery scan of a production's deliverables: the header (scanner
    /// and version, paths, options), in progress. Its files follow in batches
    /// ([`Ledger::append_scan_files`]) and [`Ledger::finish_scan`] ends it; a scan that is
    /// never finished stays in progress, never passing.
    pub async fn begin_scan(&self, actor: &str, new: NewScan) -> Result<ScanRecord> {
        require(!new.scanner.trim().is_empty(), || {
            "a scan record needs the scanner's name and version".to_owned()
        })?;
        require(!new.roots.is_empty(), || {
            "a scan record needs the paths that were scanned".to_owned()
        })?;
        let mut w = self.begin(actor).await?;
        let _: Production = w.must(new.production_id).await?;
        require(new.started_at <= w.at, || {
            format!("the scan starts in the future ({})", new.started_at)
        })?;
        let record = ScanRecord {
            id: ScanId::generate(),
            scan: new,
            state: ScanState::InProgress,
            passed: false,
            counts: ScanCounts::default(),
            files: Vec::new(),
            recorded_at: w.at,
            recorded_by: w.actor.clone(),
            finished_at: None,
        };
        w.save(&record).await?;
        w.commit(&self.key).await?;
        Ok(record)
    }

    /// Adds a batch of flagged or unreadable files (at most [`MAX_SCAN_BATCH`]) to a scan in
    /// progress, as rows numbered on from the last batch, in one transaction with one audit
    /// entry: the [`ScanBatch`] holding the digest of the rows.
    pub async fn append_scan_files(
        &self,
        actor: &str,
        scan: ScanId,
        files: &[ScannedFile],
    ) -> Result<ScanBatch> {
        require(!files.is_empty(), || {
            "a batch of scan files is empty".to_owned()
        })?;
        require(files.len() <= MAX_SCAN_BATCH, || {
            format!(
                "a batch holds at most {MAX_SCAN_BATCH} files, not {}",
                files.len()
            )
        })?;
        let mut bodies = Vec::with_capacity(files.len());
        for file in files {
            require(!file.path.is_empty(), || {
                "a scanned file has no path".to_owned()
            })?;
            if let Some(hash) = &file.sha256 {
                require(is_sha256(hash), || {
                    format!("`{hash}` (for `{}`) is not a sha256", file.path)
                })?;
            }
            bodies.push(serde_json::to_string(file).map_err(StoreError::other)?);
        }
        let mut w = self.begin(actor).await?;
        let record: ScanRecord = w.must(scan).await?;
        require_in_progress(&record)?;
        let key = scan.to_string();
        let last = w.tx.last_scan_file(&key).await?.unwrap_or(0);
        let mut rows = Vec::with_capacity(bodies.len());
        let mut seq = last;
        for body in bodies {
            seq += 1;
            rows.push((seq, body));
        }
        let first = u64::try_from(last).map_err(StoreError::other)? + 1;
        let batch = ScanBatch {
            scan_id: scan,
            first,
            last: u64::try_from(seq).map_err(StoreError::other)?,
            sha256: ScanBatch::digest(
                rows.iter()
                    .map(|(n, body)| (u64::try_from(*n).unwrap_or_default(), body.as_str())),
            ),
        };
        w.tx.put_scan_files(&key, &rows).await?;
        w.save(&batch).await?;
        w.commit(&self.key).await?;
        Ok(batch)
    }

    /// Judges a batch of a scan's files (at most [`MAX_SCAN_BATCH`]) against its
    /// production's approvals as they stand now, and appends the flagged and unreadable ones
    /// as one audited batch ([`Ledger::append_scan_files`]): the delivery gate with
    /// `--record`, as a server runs it for a remote scanner. As for
    /// [`Ledger::judge_files`], a stamp's signer is trusted only when `signers` names it (the
    /// recorded evidence says so too).
    pub async fn append_judged_scan_files(
        &self,
        actor: &str,
        scan: ScanId,
        files: &[FileEvidence],
        signers: &StampSigners,
    ) -> Result<JudgedBatch> {
        require(!files.is_empty(), || {
            "a batch of scan files is empty".to_owned()
        })?;
        check_evidence(files)?;
        let record = self.scan(scan).await?;
        require_in_progress(&record)?;
        let index = self.approval_index(record.scan.production_id).await?;
        let mut run = GateRun::new(index, record.scan.strict);
        let mut judgements = Vec::with_capacity(files.len());
        let mut rows = Vec::new();
        for file in files {
            let file = signers.rejudge(file);
            let judgement = run.judge(&file);
            rows.extend(GateRun::row(&file, judgement.as_ref()));
            judgements.push(judgement);
        }
        let batch = if rows.is_empty() {
            None
        } else {
            Some(self.append_scan_files(actor, scan, &rows).await?)
        };
        Ok(JudgedBatch { judgements, batch })
    }

    /// Finishes a scan whose files were judged as they were appended
    /// ([`Ledger::append_judged_scan_files`]): the gate's counts and result are counted
    /// again from the recorded rows, never taken from the scanner, and the scanner's
    /// `counts` of flagged, unreadable and skipped files must match the rows (a batch that
    /// never arrived is found here). Its approved, unapproved and expired counts are ignored.
    pub async fn finish_judged_scan(
        &self,
        actor: &str,
        scan: ScanId,
        counts: ScanCounts,
    ) -> Result<ScanRecord> {
        let record = self.scan(scan).await?;
        require_in_progress(&record)?;
        let mut tally = GateTally::default();
        let mut seen = ScanCounts::default();
        let (mut rows, mut other) = (0u64, 0u64);
        let mut after = None;
        loop {
            let page = self.scan_files(scan, after, MAX_PAGE).await?;
            for f in &page.items {
                tally.count_row(&f.file, record.scan.strict);
                let slot = match FileVerdict::from_name(&f.file.verdict) {
                    Some(FileVerdict::AiGenerated) => &mut seen.ai_generated,
                    Some(FileVerdict::AiEdited) => &mut seen.ai_edited,
                    Some(FileVerdict::AiPossible) => &mut seen.ai_possible,
                    Some(FileVerdict::Error) => &mut seen.error,
                    Some(FileVerdict::Skipped) => &mut seen.skipped,
                    Some(FileVerdict::NoAiEvidence | FileVerdict::Unsupported) | None => &mut other,
                };
                *slot += 1;
                rows += 1;
                after = Some(f.seq);
            }
            if page.next.is_none() {
                break;
            }
        }
        for (field, given, recorded) in [
            ("ai_generated", counts.ai_generated, seen.ai_generated),
            ("ai_edited", counts.ai_edited, seen.ai_edited),
            ("ai_possible", counts.ai_possible, seen.ai_possible),
            ("error", counts.error, seen.error),
            ("skipped", counts.skipped, seen.skipped),
        ] {
            require(given == recorded, || {
                format!(
                    "counts.{field}: the scan counts {given} {field} files, but {recorded} were posted"
                )
            })?;
        }
        let outcome = tally.outcome(&counts);
        self.finish_scan_with(actor, scan, outcome, Some(rows))
            .await
    }

    /// Finishes a scan in progress with its counts and whether the gate passed.
    pub async fn finish_scan(
        &self,
        actor: &str,
        scan: ScanId,
        outcome: ScanOutcome,
    ) -> Result<ScanRecord> {
        self.finish_scan_with(actor, scan, outcome, None).await
    }

    /// [`Ledger::finish_scan`], refused when the scan does not hold exactly `rows` files
    /// (files appended since they were counted).
    async fn finish_scan_with(
        &self,
        actor: &str,
        scan: ScanId,
        outcome: ScanOutcome,
        rows: Option<u64>,
    ) -> Result<ScanRecord> {
        let mut w = self.begin(actor).await?;
        let mut record: ScanRecord = w.must(scan).await?;
        require_in_progress(&record)?;
        let listed = w.tx.last_scan_file(&scan.to_string()).await?.unwrap_or(0);
        let listed = u64::try_from(listed).unwrap_or(u64::MAX);
        if let Some(rows) = rows
            && rows != listed
        {
            return Err(StoreError::Conflict(format!(
                "files were added to scan `{scan}` while it was being finished: finish it again"
            )));
        }
        require(listed <= outcome.counts.files, || {
            format!(
                "the scan lists {listed} files but counts {} scanned",
                outcome.counts.files
            )
        })?;
        record.state = ScanState::Complete;
        record.passed = outcome.passed;
        record.counts = outcome.counts;
        record.finished_at = Some(w.at);
        w.save(&record).await?;
        w.commit(&self.key).await?;
        Ok(record)
    }
}

/// The checks of posted evidence the record would otherwise only make for kept files.
fn check_evidence(files: &[FileEvidence]) -> Result<()> {
    require(files.len() <= MAX_SCAN_BATCH, || {
        format!(
            "a batch holds at most {MAX_SCAN_BATCH} files, not {}",
            files.len()
        )
    })?;
    for file in files {
        require(!file.path.is_empty(), || {
            "a scanned file has no path".to_owned()
        })?;
        if let Some(hash) = &file.sha256 {
            require(is_sha256(hash), || {
                format!("`{hash}` (for `{}`) is not a sha256", file.path)
            })?;
        }
    }
    Ok(())
}

fn require_in_progress(record: &ScanRecord) -> Result<()> {
    if record.state == ScanState::InProgress {
        Ok(())
    } else {
        Err(StoreError::invalid(
            Rule::AlreadyDone,
            format!("scan `{}` is already finished", record.id),
        ))
    }
}

/// Overlay ids are pack ids: 1 to 64 of `a-z`, `0-9`, `-`, `.`, `_`, each once.
fn check_overlays(overlays: &[String]) -> Result<()> {
    require(overlays.len() <= 32, || {
        "at most 32 overlays apply to a production".to_owned()
    })?;
    for (i, id) in overlays.iter().enumerate() {
        let well_formed = !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'_')
            })
            && !id.starts_with(['.', '-']);
        require(well_formed, || {
            format!(
                "`{}` is not a pack id (lowercase letters, digits, `-`, `.`, `_`)",
                id.escape_debug()
            )
        })?;
        require(!overlays.iter().take(i).any(|o| o == id), || {
            format!("overlay `{id}` is named twice")
        })?;
    }
    Ok(())
}

fn check_members(members: &[Member]) -> Result<()> {
    let mut seen = HashSet::new();
    for member in members {
        require(!member.person.trim().is_empty(), || {
            "a member needs a person (login or e-mail)".to_owned()
        })?;
        require(seen.insert(member.person.as_str()), || {
            format!("member `{}` is listed twice", member.person)
        })?;
    }
    Ok(())
}

fn check_production(production: &Production, declaration: &Declaration) -> Result<()> {
    if declaration.production == production.title
        || declaration.production == production.id.to_string()
    {
        Ok(())
    } else {
        Err(StoreError::invalid(
            Rule::WrongProduction,
            format!(
                "the declaration is for `{}`, not for production `{}` ({})",
                declaration.production, production.title, production.id
            ),
        ))
    }
}

async fn submit<F>(
    w: &mut Writer,
    production: &Production,
    current: Option<StoredDeclaration>,
    declaration: Declaration,
    triage: F,
) -> Result<Submission>
where
    F: FnOnce(&Declaration) -> Decision + Send,
{
    check_production(production, &declaration)?;
    let stored = StoredDeclaration {
        id: current
            .as_ref()
            .map_or_else(DeclarationId::generate, |c| c.id),
        production_id: production.id,
        version: current.as_ref().map_or(1, |c| c.version.saturating_add(1)),
        declaration,
        submitted_by: w.actor.clone(),
        submitted_at: w.at,
    };
    w.save(&stored).await?;
    w.save(&DeclarationVersion(stored.clone())).await?;
    let (decision, notification) = decide(w, production, &stored, triage).await?;
    Ok(Submission {
        declaration: stored,
        decision,
        notification,
    })
}

async fn decide<F>(
    w: &mut Writer,
    production: &Production,
    stored: &StoredDeclaration,
    triage: F,
) -> Result<(StoredDecision, Option<Notification>)>
where
    F: FnOnce(&Declaration) -> Decision + Send,
{
    let registry = w.registry(&stored.declaration).await?;
    let resolution = resolve::resolve(&stored.declaration, production.id, &registry, w.at)?;
    let decision = triage(&resolution.declaration);
    let record = StoredDecision {
        id: DecisionId::generate(),
        declaration_id: stored.id,
        declaration_version: stored.version,
        resolved: (resolution.declaration != stored.declaration).then_some(resolution.declaration),
        resolution: resolution.notes,
        performers: resolution.performers,
        decision,
        decided_at: w.at,
        decided_by: w.actor.clone(),
        blocks: Vec::new(),
    };
    w.save(&record).await?;
    let links: Vec<String> = record.performers.iter().map(|p| p.to_string()).collect();
    w.tx.set_performer_links(&stored.id.to_string(), &links)
        .await?;
    let notification = if record.level() == Level::Notify {
        let notification = Notification {
            id: NotificationId::generate(),
            production_id: production.id,
            declaration_id: stored.id,
            declaration_version: stored.version,
            decision_id: record.id,
            contact: production.studio_contact.clone(),
            shared_at: w.at,
        };
        w.save(&notification).await?;
        Some(notification)
    } else {
        None
    };
    Ok((record, notification))
}

/// Registered performers of a decision whose consent is no longer in force at `now`.
async fn lapsed_consents(
    w: &mut Writer,
    declaration: &StoredDeclaration,
    decision: &StoredDecision,
    now: Timestamp,
) -> Result<Vec<String>> {
    let mut lapsed = Vec::new();
    let triaged = decision.triaged(&declaration.declaration);
    for performer in &triaged.performers {
        let Some(id) = performer.id.as_deref() else {
            continue;
        };
        if !needs_consent(performer.use_)
            || performer.consent != greenlight_core::Consent::Documented
        {
            continue;
        }
        let consents = w.children::<Consent>(id).await?;
        let (state, _) = resolve::consent_for(
            &consents,
            declaration.production_id,
            performer,
            &triaged.media,
            now,
        );
        if state != greenlight_core::Consent::Documented {
            lapsed.push(format!(
                "the consent of performer `{id}` ({}) is no longer in force (revoked or expired)",
                performer.name
            ));
        }
    }
    Ok(lapsed)
}

/// Turns back to blocked every current decision that relied on `consent`
/// and has no other consent in force for the same use.
async fn block_affected(
    w: &mut Writer,
    consent: &Consent,
    why: &str,
) -> Result<Vec<StoredDecision>> {
    let performer_id = consent.performer_id.to_string();
    let consents = w.children::<Consent>(&performer_id).await?;
    let mut blocked = Vec::new();
    for declaration_id in w.tx.declarations_naming(&performer_id).await? {
        let declaration: StoredDeclaration = w.must(&declaration_id).await?;
        let Some(mut decision) = w.current_decision(&declaration).await? else {
            continue;
        };
        if decision
            .blocks
            .iter()
            .any(|b| b.consent_id == Some(consent.id))
        {
            continue;
        }
        let triaged = decision.triaged(&declaration.declaration);
        let media = &triaged.media;
        let affected = triaged.performers.iter().any(|p| {
            p.id.as_deref() == Some(performer_id.as_str())
                && needs_consent(p.use_)
                && consent.applies_to(declaration.production_id, p.use_, media)
                && resolve::consent_for(&consents, declaration.production_id, p, media, w.at).0
                    != greenlight_core::Consent::Documented
        });
        if !affected {
            continue;
        }
        decision.blocks.push(Block {
            at: w.at,
            consent_id: Some(consent.id),
            reason: why.to_owned(),
        });
        w.save(&decision).await?;
        blocked.push(decision);
    }
    Ok(blocked)
}

/// A record serialized the way the ledger stores it (for tests and tools).
pub fn body_of<R: Serialize>(record: &R) -> Result<String> {
    serde_json::to_string(record).map_err(StoreError::other)
}
