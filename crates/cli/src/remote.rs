//! The remote delivery gate: `greenlight scan DELIVERABLES --server URL --token T
//! --production X --gate [--record]`.
//!
//! The files are scanned here; what crosses the network is evidence only: each flagged,
//! unreadable or skipped file's paths, hash, verdict, evidence items, error and notes, never
//! a byte of its content. Reports are posted in batches (at most the server's `max_files`,
//! and well under its body limit), so memory stays bounded however large the delivery: at
//! most one batch of reports waits here. The server judges each file with the same
//! `greenlight_store::GateRun` the local gate uses, and answers each file's standing, which
//! is printed then; with `--record` it writes each batch into the ledger as it comes and,
//! at the end, counts the gate's result again from what it recorded.
//!
//! Calls (`ureq`, TLS through rustls with the Mozilla roots):
//!
//! | call | when |
//! |---|---|
//! | `GET /api/v1/gate?production=X` | first: the production, its approvals, the batch limits |
//! | `POST /api/v1/productions/{id}/scans` | with `--record`: begin the scan |
//! | `POST /api/v1/scans/{id}/files` | with `--record`: a batch, judged and recorded |
//! | `POST /api/v1/gate` | without `--record`: a batch, judged only |
//! | `POST /api/v1/scans/{id}/finish` | with `--record`: the counts; the gate's result |
//!
//! The token goes in the `Authorization` header only; it is never printed, logged or put in
//! an error message.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use greenlight_provenance::{FileReport, Summary};
use greenlight_store::{FileEvidence, GateTally, Judgement};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::gate::{
    Emit, GateHeader, GateOptions, Recorded, absolute_roots, counts_of, evidence_of, scanner_name,
};

/// An API token, kept out of every debug dump and message.
#[derive(Clone)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

/// Reads `--token` (or `GREENLIGHT_TOKEN`).
pub fn parse_token(text: &str) -> Result<Token, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the token is empty".to_owned());
    }
    if text.chars().any(|c| c.is_control() || c == ' ') {
        return Err("the token holds spaces or control characters".to_owned());
    }
    Ok(Token(text.to_owned()))
}

/// The server to ask, and the token to ask with.
#[derive(Clone, Debug)]
pub struct Server {
    /// The server's base URL (`https://greenlight.studio.example`).
    pub url: String,
    /// The API token.
    pub token: Token,
}

/// The longest evidence detail, error or note sent, in bytes; longer ones are cut.
const MAX_TEXT: usize = 4096;
/// The most evidence items sent for one file.
const MAX_ITEMS: usize = 64;
/// The most bytes of files one batch body holds (the server's body limit may be lower).
const MAX_BATCH_BYTES: usize = 512 * 1024;
/// How long one call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// What the server says of the production's gate.
#[derive(Debug, Deserialize)]
struct GateInfo {
    production: ProductionRef,
    approvals: usize,
    in_force: usize,
    hashes: bool,
    #[serde(default)]
    problems: Vec<String>,
    max_files: usize,
    max_bytes: usize,
}

#[derive(Debug, Deserialize)]
struct ProductionRef {
    id: String,
    title: String,
}

/// A recorded scan, as the server answers it.
#[derive(Debug, Deserialize)]
struct ScanAnswer {
    id: String,
    production_id: String,
    passed: bool,
}

/// A judged batch.
#[derive(Debug, Deserialize)]
struct BatchAnswer {
    files: Vec<Option<Judgement>>,
}

/// A file as posted: evidence, never content.
#[derive(Debug, Serialize)]
struct FileBody<'a> {
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    relative_path: Option<&'a str>,
    verdict: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    evidence: Vec<ItemBody<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<&'a str>,
}

#[derive(Debug, Serialize)]
struct ItemBody<'a> {
    kind: &'a str,
    detail: &'a str,
    source: &'a str,
}

/// `text` cut to at most [`MAX_TEXT`] bytes, on a character boundary.
fn cut(text: &str) -> &str {
    if text.len() <= MAX_TEXT {
        return text;
    }
    let mut end = MAX_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

/// The JSON of one file as posted.
fn file_json(file: &FileEvidence) -> anyhow::Result<String> {
    let body = FileBody {
        path: &file.path,
        relative_path: file.relative_path.as_deref(),
        verdict: file.verdict.as_str(),
        sha256: file.sha256.as_deref(),
        evidence: file
            .evidence
            .iter()
            .take(MAX_ITEMS)
            .map(|e| ItemBody {
                kind: &e.kind,
                detail: cut(&e.detail),
                source: cut(&e.source),
            })
            .collect(),
        error: file.error.as_deref().map(cut),
        notes: file.notes.iter().take(MAX_ITEMS).map(|n| cut(n)).collect(),
    };
    Ok(serde_json::to_string(&body)?)
}

/// The gate through a server's API.
pub struct Remote {
    agent: ureq::Agent,
    base: String,
    token: Token,
    options: GateOptions,
    header: GateHeader,
    roots: Vec<PathBuf>,
    /// The scan being recorded, with `--record`.
    scan: Option<String>,
    max_files: usize,
    max_bytes: usize,
    /// Reports waiting for their batch to be judged, with their JSON.
    pending: Vec<(FileReport, String)>,
    pending_bytes: usize,
    tally: GateTally,
    /// The first failure: nothing more is posted, and `finish` reports it.
    failed: Option<anyhow::Error>,
}

impl Remote {
    /// Asks the server for the production's gate and, with `--record`, begins the scan.
    pub fn open(
        server: Server,
        options: GateOptions,
        roots: &[PathBuf],
        verified: bool,
    ) -> anyhow::Result<Remote> {
        let base = server.url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            bail!("--server `{base}` is not an http:// or https:// URL");
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(CALL_TIMEOUT))
            .user_agent(format!("greenlight/{}", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let mut remote = Remote {
            agent,
            base,
            token: server.token,
            header: GateHeader {
                production_id: String::new(),
                title: String::new(),
                approvals: 0,
                in_force: 0,
                problems: Vec::new(),
                hashes: false,
            },
            roots: roots.to_vec(),
            scan: None,
            max_files: 1,
            max_bytes: MAX_BATCH_BYTES,
            pending: Vec::new(),
            pending_bytes: 0,
            tally: GateTally::default(),
            failed: None,
            options,
        };
        let url = format!("{}/api/v1/gate", remote.base);
        let info: GateInfo = remote.answer(
            "the production's gate",
            remote
                .agent
                .get(&url)
                .query("production", &remote.options.production)
                .header("Authorization", remote.bearer())
                .call(),
        )?;
        remote.max_files = info.max_files.clamp(1, greenlight_store::MAX_SCAN_BATCH);
        // Room for the envelope and for one file longer than the rest.
        remote.max_bytes = (info.max_bytes / 2).clamp(1, MAX_BATCH_BYTES);
        remote.header = GateHeader {
            production_id: info.production.id,
            title: info.production.title,
            approvals: info.approvals,
            in_force: info.in_force,
            problems: info.problems,
            hashes: info.hashes,
        };
        if remote.options.record {
            let body = serde_json::json!({
                "scanner": scanner_name(),
                "roots": absolute_roots(roots),
                "verified": verified,
                "strict": remote.options.strict,
            });
            let url = format!(
                "{}/api/v1/productions/{}/scans",
                remote.base, remote.header.production_id
            );
            let begun: ScanAnswer = remote.post("begin the scan", &url, body.to_string())?;
            remote.scan = Some(begun.id);
        }
        Ok(remote)
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.token.0)
    }

    /// The production and its approvals.
    pub fn header(&self) -> &GateHeader {
        &self.header
    }

    /// The scan's options.
    pub fn options(&self) -> &GateOptions {
        &self.options
    }

    /// The server's judgements so far.
    pub fn tally(&self) -> GateTally {
        self.tally
    }

    /// Whether a call failed, so that some files went unjudged.
    pub fn incomplete(&self) -> bool {
        self.failed.is_some()
    }

    /// Takes one report: a file the gate does not look at and the server need not hear of
    /// is emitted now; the others wait for their batch.
    pub fn take(&mut self, report: FileReport, emit: &mut Emit<'_>) {
        let evidence = evidence_of(&report, &self.roots);
        if !evidence.kept() || self.failed.is_some() {
            emit(&report, None);
            return;
        }
        let json = match file_json(&evidence) {
            Ok(json) => json,
            Err(e) => {
                self.failed = Some(e.context(format!("cannot encode `{}`", report.path)));
                emit(&report, None);
                return;
            }
        };
        if !self.pending.is_empty() && self.pending_bytes + json.len() > self.max_bytes {
            self.flush(emit);
        }
        self.pending_bytes += json.len() + 1;
        self.pending.push((report, json));
        if self.pending.len() >= self.max_files {
            self.flush(emit);
        }
    }

    /// Posts the waiting reports as one batch, and emits each with the server's judgement.
    pub fn flush(&mut self, emit: &mut Emit<'_>) {
        if self.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        self.pending_bytes = 0;
        if self.failed.is_some() {
            for (report, _) in &pending {
                emit(report, None);
            }
            return;
        }
        let files = pending
            .iter()
            .map(|(_, json)| json.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let answer: anyhow::Result<BatchAnswer> = match &self.scan {
            Some(scan) => {
                let url = format!("{}/api/v1/scans/{scan}/files", self.base);
                self.post(
                    "a batch of the scan's files",
                    &url,
                    format!("{{\"files\":[{files}]}}"),
                )
            }
            None => {
                let url = format!("{}/api/v1/gate", self.base);
                let head = serde_json::json!({
                    "production": self.header.production_id,
                    "strict": self.options.strict,
                });
                let head = head.to_string();
                let head = head.strip_suffix('}').unwrap_or(&head);
                self.post(
                    "a batch of files to judge",
                    &url,
                    format!("{head},\"files\":[{files}]}}"),
                )
            }
        };
        let judgements = match answer {
            Ok(answer) if answer.files.len() == pending.len() => answer.files,
            Ok(answer) => {
                self.failed = Some(anyhow!(
                    "the server judged {} files of a batch of {}",
                    answer.files.len(),
                    pending.len()
                ));
                Vec::new()
            }
            Err(e) => {
                self.failed = Some(e);
                Vec::new()
            }
        };
        let mut judgements = judgements.into_iter();
        for (report, _) in &pending {
            let judgement = judgements.next().flatten();
            if let Some(j) = &judgement {
                self.tally.count(j);
            }
            emit(report, judgement.as_ref());
        }
    }

    /// Posts the last batch and, with `--record`, the counts: the server's record.
    pub fn finish(mut self, summary: &Summary) -> anyhow::Result<Option<Recorded>> {
        self.flush(&mut |_, _| {});
        if let Some(e) = self.failed.take() {
            return Err(match &self.scan {
                Some(scan) => e.context(format!(
                    "the server could not judge every file: scan {scan} stays in progress"
                )),
                None => e.context("the server could not judge every file"),
            });
        }
        let Some(scan) = &self.scan else {
            return Ok(None);
        };
        let url = format!("{}/api/v1/scans/{scan}/finish", self.base);
        let body = serde_json::json!({ "counts": counts_of(summary) });
        let done: ScanAnswer = self.post("finish the scan", &url, body.to_string())?;
        Ok(Some(Recorded {
            id: done.id,
            production_id: done.production_id,
            passed: done.passed,
        }))
    }

    fn post<T: DeserializeOwned>(&self, what: &str, url: &str, body: String) -> anyhow::Result<T> {
        self.answer(
            what,
            self.agent
                .post(url)
                .header("Authorization", self.bearer())
                .content_type("application/json")
                .send(body),
        )
    }

    /// The answer's JSON, or an error that says what went wrong in words: the server could
    /// not be reached, the token was refused or lacks the scope, or the server's problem
    /// document's detail.
    fn answer<T: DeserializeOwned>(
        &self,
        what: &str,
        sent: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> anyhow::Result<T> {
        let mut response = sent.map_err(|e| {
            anyhow!(
                "cannot reach the greenlight server at `{}` ({what}): {e}",
                self.base
            )
        })?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .with_context(|| format!("cannot read the server's answer ({what})"))?;
        if (200..300).contains(&status) {
            return serde_json::from_str(&text).with_context(|| {
                format!("the server's answer ({what}) is not what greenlight expects")
            });
        }
        let detail = problem_detail(&text);
        match status {
            401 => bail!(
                "the server refused the token (401): {detail}; check --token or GREENLIGHT_TOKEN"
            ),
            403 => bail!("the token lacks the scope to {what} (403): {detail}"),
            _ => bail!("the server answered {status} ({what}): {detail}"),
        }
    }
}

/// A problem document's detail and the items it lists, or the start of a body that is none.
fn problem_detail(text: &str) -> String {
    #[derive(Deserialize)]
    struct Problem {
        detail: String,
        #[serde(default)]
        errors: Vec<Item>,
    }
    #[derive(Deserialize)]
    struct Item {
        #[serde(default)]
        field: Option<String>,
        message: String,
    }
    match serde_json::from_str::<Problem>(text) {
        Ok(problem) => {
            let mut out = problem.detail;
            for item in problem.errors {
                match item.field {
                    Some(field) => out.push_str(&format!("; `{field}`: {}", item.message)),
                    None => out.push_str(&format!("; {}", item.message)),
                }
            }
            out
        }
        Err(_) => {
            let text = text.trim();
            if text.is_empty() {
                "no detail".to_owned()
            } else {
                text.chars().take(200).collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_cut_on_a_character_boundary() {
        let long = "é".repeat(MAX_TEXT);
        let cut = cut(&long);
        assert!(cut.len() <= MAX_TEXT);
        assert!(cut.chars().all(|c| c == 'é'));
        assert_eq!(super::cut("short"), "short");
    }

    #[test]
    fn a_token_is_never_shown() {
        let token = parse_token("glt_secret").map_err(|e| e.to_string());
        assert!(!format!("{token:?}").contains("secret"));
        assert!(parse_token("  ").is_err());
    }

    #[test]
    fn a_problem_document_is_read_into_words() {
        let text = r#"{"type":"x","title":"t","status":403,"detail":"no","errors":[{"field":"files","message":"too many"}]}"#;
        assert_eq!(problem_detail(text), "no; `files`: too many");
        assert_eq!(problem_detail(""), "no detail");
    }
}
