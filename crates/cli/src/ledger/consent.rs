//! `greenlight consent record|document|revoke|list`: performers' consents,
//! each kept with the sha256 of its signed document.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Subcommand;
use greenlight_core::{Answer, Medium, ReplicaKind, Representation};
use greenlight_store::{
    Consent, ConsentId, ConsentKind, ConsentScope, ConsentStatus, ConsentTerms, Kind, NewConsent,
    PerformerId, ProductionId, StoredDecision, Timestamp, sha256_hex,
};
use serde::Serialize;

use super::Context;
use super::common::{
    self, Output, field, json_line, name_of, parse_id, parse_name, parse_time, table,
};
use crate::exit::Exit;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Record a performer's consent to one kind of use in one production.
    Record {
        /// The performer's id.
        #[arg(long, value_parser = parse_id::<PerformerId>)]
        performer: PerformerId,
        /// The production it applies to (id or exact title).
        #[arg(long)]
        production: String,
        /// The kind of use: employment_replica, independent_replica,
        /// background_replica, synthetic_performer, digital_alteration.
        #[arg(long, value_parser = parse_name::<ConsentKind>)]
        kind: ConsentKind,
        /// The media it covers (image, video, audio, voice, text, 3d);
        /// repeat or separate with commas. None given: all media.
        #[arg(long, value_delimiter = ',', value_parser = parse_name::<Medium>)]
        media: Vec<Medium>,
        /// A reasonably specific description of the intended use.
        #[arg(long)]
        description: String,
        /// Who gave it: the performer, or for a deceased performer the estate.
        #[arg(long = "given-by")]
        given_by: String,
        /// The signed consent document; its sha256 is recorded (the file stays where it is).
        #[arg(long, value_name = "FILE", required_unless_present = "pending")]
        document: Option<PathBuf>,
        /// Consent was asked for but not yet given.
        #[arg(long, conflicts_with = "document")]
        pending: bool,
        /// When it lapses (date or RFC 3339 time); never when left out.
        #[arg(long, value_name = "DATE", value_parser = parse_time)]
        expires: Option<Timestamp>,
        /// The consent's terms: the kind of replica consented to (employment_based,
        /// independently_created, background, synthetic, none). Unsure when left out.
        #[arg(long = "replica-kind", value_name = "KIND", value_parser = parse_name::<ReplicaKind>)]
        replica_kind: Option<ReplicaKind>,
        /// The consent's terms: signed separately from standard terms (yes, no, unsure).
        #[arg(long = "separately-signed", value_name = "ANSWER", value_parser = parse_name::<Answer>)]
        separately_signed: Option<Answer>,
        /// The consent's terms: who negotiated them for the performer (counsel, union,
        /// none). Unsure when left out.
        #[arg(long, value_name = "WHO", value_parser = parse_name::<Representation>)]
        representation: Option<Representation>,
        #[command(flatten)]
        output: Output,
    },
    /// Record the signed document of a pending consent: it becomes documented.
    Document {
        /// The consent's id.
        #[arg(value_parser = parse_id::<ConsentId>)]
        consent: ConsentId,
        /// The signed document; its sha256 is recorded.
        #[arg(long, value_name = "FILE")]
        document: PathBuf,
        #[command(flatten)]
        output: Output,
    },
    /// Revoke a consent: every decision that relied on it turns back to blocked.
    Revoke {
        /// The consent's id.
        #[arg(value_parser = parse_id::<ConsentId>)]
        consent: ConsentId,
        /// Why.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        output: Output,
    },
    /// Find documented consents that have expired and turn the decisions that
    /// relied on them back to blocked. Safe to run often (e.g. daily).
    Sweep {
        #[command(flatten)]
        output: Output,
    },
    /// List consents: one performer's, or everyone's.
    List {
        /// Only this performer's.
        #[arg(long, value_parser = parse_id::<PerformerId>)]
        performer: Option<PerformerId>,
        #[command(flatten)]
        output: Output,
    },
}

pub fn writes(command: &Command) -> bool {
    !matches!(command, Command::List { .. })
}

#[derive(Serialize)]
struct Revoked<'a> {
    consent: &'a Consent,
    blocked: Vec<BlockedDecision>,
}

#[derive(Serialize)]
struct BlockedDecision {
    declaration_id: String,
    decision_id: String,
}

fn hash_file(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read the consent document `{}`", path.display()))?;
    Ok(sha256_hex(&bytes))
}

pub async fn run(cx: &Context, command: Command) -> anyhow::Result<Exit> {
    let mut out = common::stdout();
    match command {
        Command::Record {
            performer,
            production,
            kind,
            media,
            description,
            given_by,
            document,
            pending,
            expires,
            replica_kind,
            separately_signed,
            representation,
            output,
        } => {
            let production = common::production(&cx.ledger, &production).await?;
            let document_sha256 = document.as_deref().map(hash_file).transpose()?;
            let new = NewConsent {
                performer_id: performer,
                kind,
                scope: ConsentScope {
                    production_id: production.id,
                    media,
                    description,
                },
                given_by,
                status: if pending {
                    ConsentStatus::Pending
                } else {
                    ConsentStatus::Documented
                },
                expires_at: expires,
                document_sha256,
            };
            let terms = ConsentTerms {
                replica_kind: replica_kind.unwrap_or_default(),
                separately_signed: separately_signed.unwrap_or_default(),
                representation: representation.unwrap_or_default(),
            };
            let consent = cx
                .ledger
                .record_consent_with_terms(cx.actor()?, new, terms)
                .await?;
            if output.json() {
                json_line(&mut out, &consent)?;
            } else {
                writeln!(out, "recorded consent {}", consent.id)?;
                show(&mut out, &consent, &production.title)?;
            }
        }
        Command::Document {
            consent,
            document,
            output,
        } => {
            let hash = hash_file(&document)?;
            let consent = cx
                .ledger
                .document_consent(cx.actor()?, consent, &hash)
                .await?;
            if output.json() {
                json_line(&mut out, &consent)?;
            } else {
                writeln!(out, "consent {} is documented (sha256 {hash})", consent.id)?;
            }
        }
        Command::Revoke {
            consent,
            reason,
            output,
        } => {
            let (consent, blocked) = cx
                .ledger
                .revoke_consent(cx.actor()?, consent, &reason)
                .await?;
            if output.json() {
                json_line(
                    &mut out,
                    &Revoked {
                        consent: &consent,
                        blocked: blocked.iter().map(brief).collect(),
                    },
                )?;
            } else {
                writeln!(out, "revoked consent {}: {reason}", consent.id)?;
                if blocked.is_empty() {
                    writeln!(out, "no current decision relied on it")?;
                }
                for decision in &blocked {
                    writeln!(
                        out,
                        "declaration {} is blocked again (decision {})",
                        decision.declaration_id, decision.id
                    )?;
                }
            }
        }
        Command::Sweep { output } => {
            let blocked = cx.ledger.sweep_expired_consents(cx.actor()?).await?;
            if output.json() {
                for decision in &blocked {
                    json_line(&mut out, &brief(decision))?;
                }
            } else if blocked.is_empty() {
                writeln!(out, "no decision relied on an expired consent")?;
            } else {
                for decision in &blocked {
                    writeln!(
                        out,
                        "declaration {} is blocked: a consent it relied on expired (decision {})",
                        decision.declaration_id, decision.id
                    )?;
                }
            }
        }
        Command::List { performer, output } => {
            let consents: Vec<Consent> = match performer {
                Some(id) => {
                    cx.ledger.performer(id).await?;
                    cx.ledger.consents(id).await?
                }
                None => common::all_of(&cx.ledger, Kind::Consent, None).await?,
            };
            if output.json() {
                for consent in &consents {
                    json_line(&mut out, consent)?;
                }
            } else {
                consent_table(cx, &mut out, &consents).await?;
            }
        }
    }
    out.flush()?;
    Ok(Exit::Notify)
}

fn brief(decision: &StoredDecision) -> BlockedDecision {
    BlockedDecision {
        declaration_id: decision.declaration_id.to_string(),
        decision_id: decision.id.to_string(),
    }
}

/// The state a person reads: documented, pending, revoked or expired.
fn state(consent: &Consent, now: Timestamp) -> String {
    if consent.status == ConsentStatus::Revoked {
        "revoked".to_owned()
    } else if consent.expired(now) {
        "expired".to_owned()
    } else {
        name_of(&consent.status)
    }
}

fn media_text(media: &[Medium]) -> String {
    if media.is_empty() {
        "all media".to_owned()
    } else {
        media.iter().map(name_of).collect::<Vec<_>>().join(",")
    }
}

/// A table of consents (header and rows), naming performers and productions.
pub async fn consent_table(
    cx: &Context,
    out: &mut impl Write,
    consents: &[Consent],
) -> anyhow::Result<()> {
    let now = cx.ledger.now();
    let mut performers: HashMap<PerformerId, String> = HashMap::new();
    let mut productions: HashMap<ProductionId, String> = HashMap::new();
    for consent in consents {
        if let Entry::Vacant(slot) = performers.entry(consent.performer_id) {
            slot.insert(cx.ledger.performer(consent.performer_id).await?.name);
        }
        let production = consent.scope.production_id;
        if let Entry::Vacant(slot) = productions.entry(production) {
            slot.insert(cx.ledger.production(production).await?.title);
        }
    }
    let rows: Vec<Vec<String>> = consents
        .iter()
        .map(|c| {
            vec![
                c.id.to_string(),
                state(c, now),
                name_of(&c.kind),
                c.expires_at
                    .map_or_else(|| "never".to_owned(), |e| e.to_string()),
                media_text(&c.scope.media),
                performers.get(&c.performer_id).cloned().unwrap_or_default(),
                productions
                    .get(&c.scope.production_id)
                    .cloned()
                    .unwrap_or_default(),
            ]
        })
        .collect();
    table(
        out,
        &[
            "id",
            "state",
            "kind",
            "expires",
            "media",
            "performer",
            "production",
        ],
        &rows,
    )?;
    Ok(())
}

fn show(out: &mut impl Write, consent: &Consent, production: &str) -> std::io::Result<()> {
    field(out, "performer", consent.performer_id)?;
    field(out, "production", production)?;
    field(out, "kind", name_of(&consent.kind))?;
    field(out, "media", media_text(&consent.scope.media))?;
    field(out, "use", &consent.scope.description)?;
    field(out, "given by", &consent.given_by)?;
    field(out, "status", name_of(&consent.status))?;
    field(
        out,
        "expires",
        consent
            .expires_at
            .map_or_else(|| "never".to_owned(), |e| e.to_string()),
    )?;
    if let Some(hash) = &consent.document_sha256 {
        field(out, "document", format!("sha256 {hash}"))?;
    }
    if !consent.terms.is_unsure() {
        let t = &consent.terms;
        field(
            out,
            "terms",
            format!(
                "replica {}, signed separately {}, representation {}",
                name_of(&t.replica_kind),
                name_of(&t.separately_signed),
                name_of(&t.representation)
            ),
        )?;
    }
    Ok(())
}
