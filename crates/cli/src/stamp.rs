//! `greenlight keys create|import|show` and `greenlight stamp`: the studio's signing key, and
//! approvals signed into files as C2PA Content Credentials. Certificates, signing and
//! verification are `greenlight-provenance`'s (`stamp`); the approval's standing and the
//! audited record of each stamp are the ledger's. This file reads and writes key files,
//! talks to the ledger and prints.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use greenlight_provenance::stamp::{
    self, APPROVAL_LABEL, Algorithm, CertInfo, SigningKey, TrustList,
};
use greenlight_store::{ApprovalId, AssetScope, NewStamp, Stamp, require_in_force};
use serde::Serialize;

use crate::Format;
use crate::exit::Exit;
use crate::ledger::common::parse_id;
use crate::ledger::{Access, Context, Global};

/// The signing certificate chain, end-entity first.
const CHAIN_FILE: &str = "signer.pem";
/// The signing key (mode 0600).
const KEY_FILE: &str = "signer.key";
/// The trust list verifiers use: CA anchors and signer certificates.
const TRUST_FILE: &str = "trust.pem";

/// Where the keys are: `--keys DIR`.
#[derive(Clone, Debug, Args)]
pub struct KeysDir {
    /// The directory holding the signing chain (signer.pem), its key (signer.key, mode 0600)
    /// and the trust list (trust.pem). Default: $XDG_CONFIG_HOME/greenlight/keys
    /// (~/.config/greenlight/keys).
    #[arg(long = "keys", env = "GREENLIGHT_KEYS", value_name = "DIR")]
    dir: Option<PathBuf>,
}

impl KeysDir {
    fn path(&self) -> anyhow::Result<PathBuf> {
        match &self.dir {
            Some(d) if !d.as_os_str().is_empty() => Ok(d.clone()),
            _ => default_keys_dir().context(
                "no keys directory: pass --keys DIR or set GREENLIGHT_KEYS (HOME is not set)",
            ),
        }
    }
}

/// The default keys directory, when one can be named.
pub fn default_keys_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("GREENLIGHT_KEYS").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(config.join("greenlight").join("keys"))
}

/// The trust list a scan verifies stamps against by default: the keys directory's, when it
/// has one.
pub fn default_trust_list() -> Option<PathBuf> {
    default_keys_dir()
        .map(|d| d.join(TRUST_FILE))
        .filter(|p| p.is_file())
}

/// A signing algorithm, as typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Alg {
    /// ECDSA P-256 with SHA-256.
    Es256,
    /// Ed25519.
    Ed25519,
}

/// `greenlight keys …`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a local test certificate chain (a root and a signing certificate) and its key.
    ///
    /// Fit for C2PA signing, but no public CA stands behind it: verifiers trust it only
    /// through the trust list, to which the root is added.
    Create {
        #[command(flatten)]
        keys: KeysDir,
        /// The signer's common name.
        #[arg(long, default_value = "greenlight test signer")]
        name: String,
        /// The signer's organization (C2PA verifiers expect one).
        #[arg(long, default_value = "greenlight test studio")]
        organization: String,
        /// Days the certificates are valid.
        #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=3650))]
        days: u32,
        /// The signing algorithm.
        #[arg(long, value_enum, default_value_t = Alg::Es256)]
        alg: Alg,
    },
    /// Import the studio's signing certificate chain (PEM, signing certificate first) and
    /// its private key (PEM), issued by the studio's CA.
    Import {
        #[command(flatten)]
        keys: KeysDir,
        /// The certificate chain, PEM.
        #[arg(long, value_name = "PEM")]
        chain: PathBuf,
        /// The private key, PEM (PKCS #8 or SEC 1; P-256 or Ed25519).
        #[arg(long, value_name = "PEM")]
        key: PathBuf,
        /// CA certificates (or signer certificates) to add to the trust list. Default: the
        /// chain's last certificate, when it is a CA.
        #[arg(long, value_name = "PEM")]
        trust: Option<PathBuf>,
    },
    /// The trust list verifiers check stamps against (trust.pem in the keys directory):
    /// add, list and remove CA and signer certificates.
    Trust {
        #[command(subcommand)]
        command: TrustCommand,
    },
    /// Show the signing certificate (subject, algorithm, fingerprint, validity), its chain
    /// and the trust list.
    Show {
        #[command(flatten)]
        keys: KeysDir,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

/// `greenlight keys trust …`.
#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Add certificates (PEM: a studio's CA, or a signer certificate trusted as it is);
    /// those already on the list are skipped.
    Add {
        #[command(flatten)]
        keys: KeysDir,
        /// The certificates, PEM.
        #[arg(value_name = "PEM")]
        pem: PathBuf,
    },
    /// List the trusted certificates: subject, CA or signer, fingerprint, validity.
    List {
        #[command(flatten)]
        keys: KeysDir,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Remove a certificate, named by its sha256 fingerprint (as `keys trust list` prints it).
    Remove {
        #[command(flatten)]
        keys: KeysDir,
        /// The certificate's sha256 fingerprint (64 hex digits).
        #[arg(value_name = "SHA256")]
        fingerprint: String,
    },
}

/// `greenlight stamp FILE... --approval ID`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("place").required(true).multiple(true).args(["out", "sidecar"])))]
pub struct StampArgs {
    /// Files to stamp; each is only read.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// The approval to stamp (it must be in force).
    #[arg(long, value_name = "ID")]
    approval: String,
    /// Write each stamped copy into DIR (created if missing), under its own name.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Write the manifest as a `.c2pa` sidecar (beside the copy in --out, else beside the
    /// original) instead of embedding it. Formats that cannot embed one always get a sidecar.
    #[arg(long)]
    sidecar: bool,
    #[command(flatten)]
    keys: KeysDir,
    /// Output format: text for people, json (one stamp record per line) for programs.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

fn read(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {what} `{}`", path.display()))
}

/// Writes a new file, refusing to replace one; `private` makes it mode 0600.
fn write_new(path: &Path, bytes: &[u8], private: bool) -> anyhow::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut f = options.open(path).with_context(|| {
        format!(
            "cannot write `{}` (an existing key is never replaced)",
            path.display()
        )
    })?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write `{}`", path.display()))
}

/// Adds certificates to the trust list (created when missing), skipping those already on it.
fn add_trust(dir: &Path, pem: &[u8]) -> anyhow::Result<usize> {
    let path = dir.join(TRUST_FILE);
    let mut have = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read `{}`", path.display())),
    };
    let known: Vec<String> = if have.is_empty() {
        Vec::new()
    } else {
        stamp::certificates(&have)
            .with_context(|| format!("the trust list `{}`", path.display()))?
            .into_iter()
            .map(|c| c.sha256)
            .collect()
    };
    let new = stamp::certificates(pem)?;
    let mut added = 0;
    let blocks = pem_blocks(pem);
    for (cert, block) in new.iter().zip(blocks) {
        if !known.contains(&cert.sha256) {
            have.extend_from_slice(block.as_bytes());
            added += 1;
        }
    }
    std::fs::write(&path, &have).with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(added)
}

/// The PEM certificate blocks of a text, in order.
fn pem_blocks(pem: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(pem);
    let mut out = Vec::new();
    let mut rest = text.as_ref();
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    while let Some(start) = rest.find(BEGIN) {
        let Some(after) = rest.get(start..) else {
            break;
        };
        let Some(end) = after.find(END) else { break };
        let stop = end + END.len();
        out.push(format!("{}\n", after.get(..stop).unwrap_or_default()));
        rest = after.get(stop..).unwrap_or_default();
    }
    out
}

/// Runs `keys`.
pub fn keys(command: KeysCommand) -> anyhow::Result<Exit> {
    match command {
        KeysCommand::Create {
            keys,
            name,
            organization,
            days,
            alg,
        } => {
            let dir = keys.path()?;
            let algorithm = match alg {
                Alg::Es256 => Algorithm::Es256,
                Alg::Ed25519 => Algorithm::Ed25519,
            };
            refuse_existing_key(&dir)?;
            let chain = stamp::create_test_chain(&name, &organization, days, algorithm)?;
            create_dir(&dir)?;
            write_new(&dir.join(KEY_FILE), chain.key_pem.as_bytes(), true)?;
            write_new(&dir.join(CHAIN_FILE), chain.chain_pem.as_bytes(), false)?;
            add_trust(&dir, chain.root_pem.as_bytes())?;
            eprintln!(
                "created a test signing chain in `{}` (the root is on trust.pem)",
                dir.display()
            );
            show(&dir, Format::Text)
        }
        KeysCommand::Import {
            keys,
            chain,
            key,
            trust,
        } => {
            let dir = keys.path()?;
            let chain_pem = read(&chain, "the certificate chain")?;
            let key_pem = read(&key, "the private key")?;
            SigningKey::from_pem(&chain_pem, &key_pem)
                .with_context(|| format!("`{}` with `{}`", chain.display(), key.display()))?;
            let anchors = match &trust {
                Some(t) => read(t, "the trust certificates")?,
                None => {
                    let certs = stamp::certificates(&chain_pem)?;
                    let blocks = pem_blocks(&chain_pem);
                    match (certs.last(), blocks.last()) {
                        (Some(top), Some(block)) if certs.len() > 1 && top.is_ca => {
                            block.clone().into_bytes()
                        }
                        _ => bail!(
                            "the chain has no CA certificate to trust: name the studio's CA with --trust PEM"
                        ),
                    }
                }
            };
            stamp::certificates(&anchors).context("the trust certificates")?;
            refuse_existing_key(&dir)?;
            create_dir(&dir)?;
            write_new(&dir.join(KEY_FILE), &key_pem, true)?;
            write_new(&dir.join(CHAIN_FILE), &chain_pem, false)?;
            add_trust(&dir, &anchors)?;
            show(&dir, Format::Text)
        }
        KeysCommand::Trust { command } => trust(command),
        KeysCommand::Show { keys, format } => show(&keys.path()?, format),
    }
}

fn trust(command: TrustCommand) -> anyhow::Result<Exit> {
    match command {
        TrustCommand::Add { keys, pem } => {
            let dir = keys.path()?;
            let bytes = read(&pem, "the certificates")?;
            stamp::certificates(&bytes).with_context(|| format!("`{}`", pem.display()))?;
            create_dir(&dir)?;
            let added = add_trust(&dir, &bytes)?;
            eprintln!(
                "added {added} certificate(s) to `{}`",
                dir.join(TRUST_FILE).display()
            );
            Ok(Exit::Notify)
        }
        TrustCommand::List { keys, format } => {
            let path = keys.path()?.join(TRUST_FILE);
            let certs = trusted(&path)?;
            let mut out = std::io::stdout().lock();
            match format {
                Format::Json => {
                    for c in &certs {
                        serde_json::to_writer(&mut out, c)?;
                        writeln!(out)?;
                    }
                }
                Format::Text => {
                    for c in &certs {
                        writeln!(
                            out,
                            "{} ({}) sha256 {} valid {} to {}",
                            c.subject,
                            if c.is_ca { "CA" } else { "signer" },
                            c.sha256,
                            c.not_before,
                            c.not_after
                        )?;
                    }
                }
            }
            Ok(Exit::Notify)
        }
        TrustCommand::Remove { keys, fingerprint } => {
            let want = fingerprint.trim().to_ascii_lowercase();
            if want.len() != 64 || !want.bytes().all(|b| b.is_ascii_hexdigit()) {
                bail!("`{fingerprint}` is not a sha256 fingerprint (64 hex digits)");
            }
            let path = keys.path()?.join(TRUST_FILE);
            let bytes = read(&path, "the trust list")?;
            let certs = stamp::certificates(&bytes)
                .with_context(|| format!("the trust list `{}`", path.display()))?;
            let blocks = pem_blocks(&bytes);
            if !certs.iter().any(|c| c.sha256 == want) {
                bail!(
                    "no certificate with sha256 `{want}` is on the trust list `{}`",
                    path.display()
                );
            }
            let kept: String = certs
                .iter()
                .zip(&blocks)
                .filter(|(c, _)| c.sha256 != want)
                .map(|(_, b)| b.as_str())
                .collect();
            // A new file renamed into place: the list is never left half-written.
            let scratch = path.with_extension("pem.new");
            std::fs::write(&scratch, kept.as_bytes())
                .and_then(|()| std::fs::rename(&scratch, &path))
                .with_context(|| format!("cannot write `{}`", path.display()))?;
            eprintln!("removed sha256 {want} from `{}`", path.display());
            Ok(Exit::Notify)
        }
    }
}

/// The certificates of a trust list file (none when it is missing or empty).
fn trusted(path: &Path) -> anyhow::Result<Vec<CertInfo>> {
    match std::fs::read(path) {
        Ok(b) if !b.is_empty() => {
            stamp::certificates(&b).with_context(|| format!("the trust list `{}`", path.display()))
        }
        Ok(_) => Ok(Vec::new()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("cannot read `{}`", path.display())),
    }
}

fn refuse_existing_key(dir: &Path) -> anyhow::Result<()> {
    for f in [KEY_FILE, CHAIN_FILE] {
        let p = dir.join(f);
        if p.exists() {
            bail!(
                "`{}` already exists: an existing key is never replaced (move it away first)",
                p.display()
            );
        }
    }
    Ok(())
}

fn create_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

#[derive(Serialize)]
struct KeysView {
    dir: String,
    algorithm: String,
    signer: CertInfo,
    chain: Vec<CertInfo>,
    trust: Vec<CertInfo>,
    key_mode: Option<String>,
}

fn load_key(dir: &Path) -> anyhow::Result<SigningKey> {
    let chain = read(&dir.join(CHAIN_FILE), "the signing chain").map_err(|e| {
        e.context(format!(
            "no signing key in `{}`: run `greenlight keys create` or `greenlight keys import`",
            dir.display()
        ))
    })?;
    let key = read(&dir.join(KEY_FILE), "the signing key")?;
    SigningKey::from_pem(&chain, &key)
        .with_context(|| format!("the signing key in `{}`", dir.display()))
}

fn show(dir: &Path, format: Format) -> anyhow::Result<Exit> {
    let key = load_key(dir)?;
    let chain = stamp::certificates(&read(&dir.join(CHAIN_FILE), "the signing chain")?)?;
    let trust = match std::fs::read(dir.join(TRUST_FILE)) {
        Ok(b) if !b.is_empty() => stamp::certificates(&b).context("the trust list")?,
        _ => Vec::new(),
    };
    #[cfg(unix)]
    let key_mode = {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(dir.join(KEY_FILE))
            .ok()
            .map(|m| format!("{:o}", m.permissions().mode() & 0o777))
    };
    #[cfg(not(unix))]
    let key_mode = None;
    let view = KeysView {
        dir: dir.display().to_string(),
        algorithm: key.algorithm().name().to_string(),
        signer: key.signer().clone(),
        chain,
        trust,
        key_mode,
    };
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            serde_json::to_writer(&mut out, &view)?;
            writeln!(out)?;
        }
        Format::Text => {
            let s = &view.signer;
            writeln!(out, "signer:      {}", s.subject)?;
            writeln!(out, "issuer:      {}", s.issuer)?;
            writeln!(out, "algorithm:   {}", view.algorithm)?;
            writeln!(out, "fingerprint: sha256 {}", s.sha256)?;
            writeln!(out, "valid:       {} to {}", s.not_before, s.not_after)?;
            writeln!(
                out,
                "key:         {}{}",
                dir.join(KEY_FILE).display(),
                view.key_mode
                    .as_deref()
                    .map_or_else(String::new, |m| format!(" (mode {m})"))
            )?;
            writeln!(out, "chain:       {} certificates", view.chain.len())?;
            writeln!(out, "trust list:  {}", dir.join(TRUST_FILE).display())?;
            for t in &view.trust {
                writeln!(
                    out,
                    "  {} ({}, sha256 {})",
                    t.subject,
                    if t.is_ca { "CA" } else { "signer" },
                    t.sha256
                )?;
            }
        }
    }
    Ok(Exit::Notify)
}

/// Runs `stamp`.
pub fn stamp(global: &Global, args: StampArgs) -> anyhow::Result<Exit> {
    let approval: ApprovalId = parse_id(&args.approval).map_err(anyhow::Error::msg)?;
    let key = load_key(&args.keys.path()?)?;
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out)
            .with_context(|| format!("cannot create `{}`", out.display()))?;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let cx = Context::open(global, Access::Write).await?;
        let result = stamp_files(&cx, approval, &key, &args).await;
        cx.ledger().store().close().await;
        result
    })
}

async fn stamp_files(
    cx: &Context,
    approval: ApprovalId,
    key: &SigningKey,
    args: &StampArgs,
) -> anyhow::Result<Exit> {
    let actor = cx.actor()?.to_owned();
    let standing = cx.ledger().approval_standing(approval).await?;
    require_in_force(&standing)?;
    let a = &standing.approval;
    let decision = standing.decision.as_ref();
    let assertion = serde_json::json!({
        "approval_id": a.id,
        "declaration_id": a.declaration_id,
        "declaration_version": a.declaration_version,
        "production_id": standing.declaration.production_id,
        "reviewer": a.reviewer,
        "decided_at": a.decided_at,
        "conditions": a.conditions,
        "scope": a.scope.iter().map(|s| match s {
            AssetScope::Glob(g) => g.clone(),
            AssetScope::Sha256(h) => format!("sha256:{h}"),
        }).collect::<Vec<_>>(),
        "expires_at": a.expires_at,
        "decision": {
            "id": a.decision_id,
            "level": decision.map(|d| d.decision.level),
        },
        "pack": decision.map(|d| serde_json::json!({
            "id": d.decision.policy.id,
            "version": d.decision.policy.version,
            "sha256": d.decision.policy.sha256,
        })),
        "stamped_by": actor,
    });
    let mut err = anstream::stderr();
    let mut new = Vec::new();
    let mut failed = 0usize;
    for file in &args.files {
        let media_out = match (&args.out, file.file_name()) {
            (Some(dir), Some(name)) => Some(dir.join(name)),
            (Some(_), None) => {
                writeln!(err, "error: `{}` names no file", file.display())?;
                failed += 1;
                continue;
            }
            (None, _) => None,
        };
        match stamp::stamp_file(file, media_out.as_deref(), args.sidecar, key, &assertion) {
            Ok(done) => new.push(NewStamp {
                source_path: file.display().to_string(),
                output_path: done.media.as_ref().map(|p| p.display().to_string()),
                sidecar_path: done.sidecar.as_ref().map(|p| p.display().to_string()),
                format: done.format.to_string(),
                sha256_before: done.sha256_before,
                sha256_after: done.sha256_after,
                sidecar_sha256: done.sidecar_sha256,
                manifest: done.manifest,
                signer: key.signer().subject.clone(),
                signer_sha256: key.signer().sha256.clone(),
            }),
            Err(e) => {
                writeln!(err, "error: {e}")?;
                failed += 1;
            }
        }
    }
    if !new.is_empty() {
        let recorded = cx
            .ledger()
            .record_stamps(&actor, approval, new)
            .await
            .context("the stamped files were written but not recorded in the ledger")?;
        print_stamps(&recorded, args.format)?;
    }
    Ok(if failed > 0 {
        Exit::Error
    } else {
        Exit::Notify
    })
}

fn print_stamps(stamps: &[Stamp], format: Format) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for s in stamps {
        match format {
            Format::Json => {
                serde_json::to_writer(&mut out, s)?;
                writeln!(out)?;
            }
            Format::Text => {
                let wrote = match (&s.output_path, &s.sidecar_path) {
                    (Some(o), Some(c)) => format!("{o} + sidecar {c}"),
                    (Some(o), None) => format!("{o} (embedded)"),
                    (None, Some(c)) => format!("sidecar {c}"),
                    (None, None) => String::from("?"),
                };
                writeln!(out, "{} → {wrote}", s.source_path)?;
                writeln!(
                    out,
                    "  stamp {} of approval {} ({APPROVAL_LABEL}), sha256 {} → {}",
                    s.id, s.approval_id, s.sha256_before, s.sha256_after
                )?;
            }
        }
    }
    Ok(())
}

/// The trust list a scan verifies stamps against: `path`, else the keys directory's.
pub fn load_trust(path: Option<&Path>) -> anyhow::Result<Option<TrustList>> {
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => match default_trust_list() {
            Some(p) => p,
            None => return Ok(None),
        },
    };
    let pem = read(&path, "the stamp trust list")?;
    Ok(Some(TrustList::from_pem(&pem).with_context(|| {
        format!("the stamp trust list `{}`", path.display())
    })?))
}
