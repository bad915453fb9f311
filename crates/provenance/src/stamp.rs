//! Stamps: approvals that travel with the file, as C2PA Content Credentials.
//!
//! A stamp is a C2PA manifest signed with a studio's key whose active manifest holds an
//! [`APPROVAL_LABEL`] assertion (the approval's and declaration's ids, reviewer, conditions,
//! scope, expiry, the decision's level and the pack's id, version and sha256). The file's
//! existing manifest becomes its parent ingredient, with its actions kept; formats the c2pa
//! crate cannot embed into (OpenEXR, DPX, MXF) get a `.c2pa` sidecar instead.
//!
//! This module has three parts:
//! - keys: [`create_test_chain`] makes a local certificate chain fit for C2PA signing (a root
//!   and an end-entity certificate with `digitalSignature` key usage and the C2PA and
//!   email-protection extended key usages), [`SigningKey`] checks a chain and its private key,
//!   [`certificates`] describes the certificates of a PEM bundle, [`TrustList`] is a
//!   verifier's list of signer certificates or CA anchors;
//! - signing: [`stamp_file`] writes a stamped copy (or a sidecar), never touching the input;
//! - verification: [`Verifier::inspect`] reads a stamp back with the c2pa crate's `Reader`,
//!   validating the signature and the hashes of the media, and checking the signer against the
//!   trust list. The scanner calls it only for files whose store names the assertion
//!   ([`names_stamp`]), so files without a stamp pay nothing.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Cursor, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Private};
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectKeyIdentifier,
};
use openssl::x509::{X509, X509Builder, X509NameBuilder, X509NameRef};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::evidence::{Evidence, Kind, Signal, Strength};
use crate::formats::{self, Format};

/// The label of greenlight's approval assertion.
pub const APPROVAL_LABEL: &str = "org.greenlight.approval";

/// The C2PA claim-signing extended key usage.
const C2PA_SIGNING_EKU: &str = "1.3.6.1.4.1.62558.2.1";

/// Why a key, a certificate, a trust list or a stamp could not be used or made.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StampError(String);

impl StampError {
    fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

type Result<T> = std::result::Result<T, StampError>;

fn ssl(what: &str) -> impl Fn(openssl::error::ErrorStack) -> StampError + '_ {
    move |e| StampError(format!("{what}: {e}"))
}

/// A signing algorithm greenlight signs stamps with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// Ed25519.
    Ed25519,
}

impl Algorithm {
    /// The name C2PA gives it.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Es256 => "es256",
            Algorithm::Ed25519 => "ed25519",
        }
    }

    fn c2pa(self) -> c2pa::SigningAlg {
        match self {
            Algorithm::Es256 => c2pa::SigningAlg::Es256,
            Algorithm::Ed25519 => c2pa::SigningAlg::Ed25519,
        }
    }

    fn of_key(key: &PKey<Private>) -> Result<Self> {
        match key.id() {
            Id::EC => {
                let curve = key
                    .ec_key()
                    .ok()
                    .and_then(|k| k.group().curve_name())
                    .ok_or_else(|| StampError::new("the EC key's curve is not a named curve"))?;
                if curve == Nid::X9_62_PRIME256V1 {
                    Ok(Algorithm::Es256)
                } else {
                    Err(StampError(format!(
                        "the EC key is on {}, not P-256: greenlight signs with ES256 or Ed25519",
                        curve.short_name().unwrap_or("an unknown curve")
                    )))
                }
            }
            Id::ED25519 => Ok(Algorithm::Ed25519),
            _ => Err(StampError::new(
                "the private key is neither P-256 nor Ed25519: greenlight signs with ES256 or Ed25519",
            )),
        }
    }
}

/// What a certificate says of itself.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CertInfo {
    /// The subject, as `CN=…, O=…`.
    pub subject: String,
    /// The issuer, the same way.
    pub issuer: String,
    /// The public key's algorithm (`es256`, `ed25519`, or what else it is).
    pub algorithm: String,
    /// The sha256 of the certificate's DER, lowercase hex.
    pub sha256: String,
    /// First instant of validity, as OpenSSL prints it.
    pub not_before: String,
    /// Last instant of validity.
    pub not_after: String,
    /// Whether it is a CA certificate.
    pub is_ca: bool,
}

fn name_text(name: &X509NameRef) -> String {
    name.entries()
        .map(|e| {
            let key = e.object().nid().short_name().unwrap_or("?");
            let value = e.data().to_string().unwrap_or_default();
            format!("{key}={value}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe(cert: &X509) -> Result<CertInfo> {
    let der = cert.to_der().map_err(ssl("certificate"))?;
    let algorithm = match cert.public_key() {
        Ok(k) => match Algorithm::of_key_public(&k) {
            Some(a) => a.name().to_string(),
            None => format!("{:?}", k.id()).to_lowercase(),
        },
        Err(_) => "unknown".to_string(),
    };
    let is_ca = x509_parser::parse_x509_certificate(&der)
        .map(|(_, c)| c.tbs_certificate.is_ca())
        .unwrap_or(false);
    Ok(CertInfo {
        subject: name_text(cert.subject_name()),
        issuer: name_text(cert.issuer_name()),
        algorithm,
        sha256: hex_of(&Sha256::digest(&der)),
        not_before: cert.not_before().to_string(),
        not_after: cert.not_after().to_string(),
        is_ca,
    })
}

impl Algorithm {
    fn of_key_public(key: &PKey<openssl::pkey::Public>) -> Option<Self> {
        match key.id() {
            Id::EC => key
                .ec_key()
                .ok()
                .and_then(|k| k.group().curve_name())
                .filter(|c| *c == Nid::X9_62_PRIME256V1)
                .map(|_| Algorithm::Es256),
            Id::ED25519 => Some(Algorithm::Ed25519),
            _ => None,
        }
    }
}

fn hex_of(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Every certificate of a PEM bundle, described; an error when it holds none or one does not
/// parse.
pub fn certificates(pem: &[u8]) -> Result<Vec<CertInfo>> {
    let certs = X509::stack_from_pem(pem).map_err(ssl("not a PEM certificate bundle"))?;
    if certs.is_empty() {
        return Err(StampError::new("no certificate in the PEM text"));
    }
    certs.iter().map(describe).collect()
}

/// A signer's certificate chain (end-entity first) and its private key, checked: the key
/// is P-256 or Ed25519 and belongs to the first certificate, which is an end-entity
/// certificate C2PA accepts for signing.
pub struct SigningKey {
    chain_pem: Vec<u8>,
    key_pem: Vec<u8>,
    algorithm: Algorithm,
    signer: CertInfo,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm)
            .field("signer", &self.signer.subject)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Checks a chain (PEM, end-entity first) and a private key (PEM, PKCS #8 or SEC 1).
    pub fn from_pem(chain_pem: &[u8], key_pem: &[u8]) -> Result<Self> {
        let chain =
            X509::stack_from_pem(chain_pem).map_err(ssl("the certificate chain is not PEM"))?;
        let Some(leaf) = chain.first() else {
            return Err(StampError::new(
                "the certificate chain holds no certificate",
            ));
        };
        let key = PKey::private_key_from_pem(key_pem)
            .map_err(ssl("the private key is not a PEM private key"))?;
        let algorithm = Algorithm::of_key(&key)?;
        let public = leaf.public_key().map_err(ssl("the certificate's key"))?;
        if !public.public_eq(&key) {
            return Err(StampError::new(
                "the private key does not belong to the chain's first certificate",
            ));
        }
        let der = leaf.to_der().map_err(ssl("certificate"))?;
        check_signer_profile(&der)?;
        Ok(Self {
            chain_pem: chain_pem.to_vec(),
            key_pem: key_pem.to_vec(),
            algorithm,
            signer: describe(leaf)?,
        })
    }

    /// The algorithm it signs with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The signing certificate.
    pub fn signer(&self) -> &CertInfo {
        &self.signer
    }

    fn c2pa_signer(&self) -> Result<c2pa::BoxedSigner> {
        c2pa::create_signer::from_keys(&self.chain_pem, &self.key_pem, self.algorithm.c2pa(), None)
            .map_err(|e| StampError(format!("the c2pa crate refused the key: {e}")))
    }
}

/// What C2PA asks of a signing certificate, checked before anything is signed so that the
/// problem is named here rather than found by every verifier.
fn check_signer_profile(der: &[u8]) -> Result<()> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| StampError(format!("the signing certificate does not parse: {e}")))?;
    let tbs = &cert.tbs_certificate;
    if tbs.is_ca() {
        return Err(StampError::new(
            "the chain's first certificate is a CA certificate: C2PA signs with an end-entity certificate",
        ));
    }
    match tbs.key_usage() {
        Ok(Some(ku)) if ku.value.digital_signature() && !ku.value.key_cert_sign() => {}
        _ => {
            return Err(StampError::new(
                "the signing certificate lacks the digitalSignature key usage (or may sign certificates)",
            ));
        }
    }
    match tbs.extended_key_usage() {
        Ok(Some(eku))
            if !eku.value.any
                && (eku.value.email_protection
                    || eku.value.other.iter().any(|o| {
                        o.to_id_string() == C2PA_SIGNING_EKU
                            || o.to_id_string() == "1.3.6.1.5.5.7.3.36"
                    })) => {}
        _ => {
            return Err(StampError::new(
                "the signing certificate has no extended key usage C2PA accepts (C2PA claim signing, document signing or email protection)",
            ));
        }
    }
    Ok(())
}

/// A certificate chain made locally, for tests and trials: a root CA (kept out of the chain's
/// trust by nothing but the verifier's trust list) and an end-entity signing certificate.
pub struct TestChain {
    /// The end-entity certificate, then the root, PEM.
    pub chain_pem: String,
    /// The end-entity certificate's private key, PKCS #8 PEM.
    pub key_pem: String,
    /// The root certificate, PEM: what a verifier puts on its trust list.
    pub root_pem: String,
}

fn name(common_name: &str, organization: &str) -> Result<openssl::x509::X509Name> {
    let mut n = X509NameBuilder::new().map_err(ssl("name"))?;
    n.append_entry_by_nid(Nid::COMMONNAME, common_name)
        .map_err(ssl("the common name"))?;
    n.append_entry_by_nid(Nid::ORGANIZATIONNAME, organization)
        .map_err(ssl("the organization"))?;
    Ok(n.build())
}

fn serial() -> Result<Asn1Integer> {
    let mut bn = BigNum::new().map_err(ssl("serial"))?;
    bn.rand(127, MsbOption::MAYBE_ZERO, false)
        .map_err(ssl("serial"))?;
    bn.to_asn1_integer().map_err(ssl("serial"))
}

fn p256() -> Result<PKey<Private>> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).map_err(ssl("P-256"))?;
    let key = EcKey::generate(&group).map_err(ssl("P-256 key"))?;
    PKey::from_ec_key(key).map_err(ssl("P-256 key"))
}

/// Makes a root CA and an end-entity signing certificate for `common_name` of
/// `organization`, valid for `days` from now, the end-entity key of `algorithm`.
pub fn create_test_chain(
    common_name: &str,
    organization: &str,
    days: u32,
    algorithm: Algorithm,
) -> Result<TestChain> {
    if common_name.trim().is_empty() || organization.trim().is_empty() {
        return Err(StampError::new(
            "a signer needs a common name and an organization",
        ));
    }
    if days == 0 || days > 3650 {
        return Err(StampError::new(
            "a test certificate is valid for 1 to 3650 days",
        ));
    }
    let root_key = p256()?;
    let root_name = name(&format!("{organization} test root"), organization)?;
    let mut root = X509Builder::new().map_err(ssl("root"))?;
    root.set_version(2).map_err(ssl("root"))?;
    let root_serial = serial()?;
    root.set_serial_number(&root_serial).map_err(ssl("root"))?;
    root.set_subject_name(&root_name).map_err(ssl("root"))?;
    root.set_issuer_name(&root_name).map_err(ssl("root"))?;
    root.set_pubkey(&root_key).map_err(ssl("root"))?;
    let start = Asn1Time::days_from_now(0).map_err(ssl("validity"))?;
    let root_end = Asn1Time::days_from_now(days.saturating_add(1)).map_err(ssl("validity"))?;
    root.set_not_before(&start).map_err(ssl("root"))?;
    root.set_not_after(&root_end).map_err(ssl("root"))?;
    let bc = BasicConstraints::new()
        .critical()
        .ca()
        .build()
        .map_err(ssl("root"))?;
    root.append_extension(bc).map_err(ssl("root"))?;
    let ku = KeyUsage::new()
        .critical()
        .key_cert_sign()
        .crl_sign()
        .build()
        .map_err(ssl("root"))?;
    root.append_extension(ku).map_err(ssl("root"))?;
    let ski = SubjectKeyIdentifier::new()
        .build(&root.x509v3_context(None, None))
        .map_err(ssl("root"))?;
    root.append_extension(ski).map_err(ssl("root"))?;
    let aki = AuthorityKeyIdentifier::new()
        .keyid(true)
        .build(&root.x509v3_context(None, None))
        .map_err(ssl("root"))?;
    root.append_extension(aki).map_err(ssl("root"))?;
    root.sign(&root_key, MessageDigest::sha256())
        .map_err(ssl("root"))?;
    let root = root.build();

    let leaf_key = match algorithm {
        Algorithm::Es256 => p256()?,
        Algorithm::Ed25519 => PKey::generate_ed25519().map_err(ssl("Ed25519 key"))?,
    };
    let mut leaf = X509Builder::new().map_err(ssl("certificate"))?;
    leaf.set_version(2).map_err(ssl("certificate"))?;
    let leaf_serial = serial()?;
    leaf.set_serial_number(&leaf_serial)
        .map_err(ssl("certificate"))?;
    let leaf_name = name(common_name, organization)?;
    leaf.set_subject_name(&leaf_name)
        .map_err(ssl("certificate"))?;
    leaf.set_issuer_name(root.subject_name())
        .map_err(ssl("certificate"))?;
    leaf.set_pubkey(&leaf_key).map_err(ssl("certificate"))?;
    let end = Asn1Time::days_from_now(days).map_err(ssl("validity"))?;
    leaf.set_not_before(&start).map_err(ssl("certificate"))?;
    leaf.set_not_after(&end).map_err(ssl("certificate"))?;
    let bc = BasicConstraints::new()
        .critical()
        .build()
        .map_err(ssl("certificate"))?;
    leaf.append_extension(bc).map_err(ssl("certificate"))?;
    let ku = KeyUsage::new()
        .critical()
        .digital_signature()
        .build()
        .map_err(ssl("certificate"))?;
    leaf.append_extension(ku).map_err(ssl("certificate"))?;
    let eku = ExtendedKeyUsage::new()
        .email_protection()
        .other(C2PA_SIGNING_EKU)
        .build()
        .map_err(ssl("certificate"))?;
    leaf.append_extension(eku).map_err(ssl("certificate"))?;
    let ski = SubjectKeyIdentifier::new()
        .build(&leaf.x509v3_context(Some(&root), None))
        .map_err(ssl("certificate"))?;
    leaf.append_extension(ski).map_err(ssl("certificate"))?;
    let aki = AuthorityKeyIdentifier::new()
        .keyid(true)
        .build(&leaf.x509v3_context(Some(&root), None))
        .map_err(ssl("certificate"))?;
    leaf.append_extension(aki).map_err(ssl("certificate"))?;
    leaf.sign(&root_key, MessageDigest::sha256())
        .map_err(ssl("certificate"))?;
    let leaf = leaf.build();

    let pem = |c: &X509| -> Result<String> {
        let bytes = c.to_pem().map_err(ssl("PEM"))?;
        String::from_utf8(bytes).map_err(|_| StampError::new("PEM is not text"))
    };
    let root_pem = pem(&root)?;
    let key_pem = String::from_utf8(
        leaf_key
            .private_key_to_pem_pkcs8()
            .map_err(ssl("the private key"))?,
    )
    .map_err(|_| StampError::new("PEM is not text"))?;
    Ok(TestChain {
        chain_pem: format!("{}{root_pem}", pem(&leaf)?),
        key_pem,
        root_pem,
    })
}

/// A verifier's trust list: CA certificates a signer's chain may lead to, and signer
/// certificates trusted as they are.
#[derive(Clone, Debug, Default)]
pub struct TrustList {
    anchors: String,
    signers: String,
    entries: Vec<CertInfo>,
}

impl TrustList {
    /// Reads a PEM bundle: each CA certificate becomes an anchor, each other certificate an
    /// allowed signer.
    pub fn from_pem(pem: &[u8]) -> Result<Self> {
        let certs = X509::stack_from_pem(pem).map_err(ssl("the trust list is not PEM"))?;
        if certs.is_empty() {
            return Err(StampError::new("the trust list holds no certificate"));
        }
        let mut list = TrustList::default();
        for cert in &certs {
            let info = describe(cert)?;
            let text = String::from_utf8(cert.to_pem().map_err(ssl("PEM"))?)
                .map_err(|_| StampError::new("PEM is not text"))?;
            if info.is_ca {
                list.anchors.push_str(&text);
            } else {
                list.signers.push_str(&text);
            }
            list.entries.push(info);
        }
        Ok(list)
    }

    /// The certificates on it.
    pub fn entries(&self) -> &[CertInfo] {
        &self.entries
    }
}

/// Where a stamp went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamped {
    /// The stamped media written (a copy with the manifest embedded, or an unchanged copy
    /// beside a sidecar), if any.
    pub media: Option<PathBuf>,
    /// The sidecar written, if any.
    pub sidecar: Option<PathBuf>,
    /// The container, as the scanner names it.
    pub format: &'static str,
    /// The sha256 of the file before stamping.
    pub sha256_before: String,
    /// The sha256 of the stamped media (the same as before for a sidecar).
    pub sha256_after: String,
    /// The sha256 of the sidecar, if any.
    pub sidecar_sha256: Option<String>,
    /// The label of the manifest written.
    pub manifest: Option<String>,
}

/// Whether the c2pa crate can embed a manifest into a file of this format.
pub fn can_embed(format: Format) -> bool {
    let mime = format.mime();
    // The c2pa crate reads manifests in PDF but cannot write one into it: a PDF gets a sidecar.
    !matches!(format, Format::C2pa | Format::Pdf)
        && c2pa::Builder::supported_mime_types()
            .iter()
            .any(|m| m == mime)
}

/// The type a file's manifest is signed under. The c2pa crate has a reader but no writer for
/// PDF, and refuses to sign even a sidecar under a type it cannot write; a sidecar's claim
/// hashes the whole file as bytes whatever its type, so a PDF's is signed as opaque bytes and
/// verifies against the PDF read as `application/pdf`.
fn sign_mime(format: Format) -> &'static str {
    match format {
        Format::Pdf => "application/octet-stream",
        other => other.mime(),
    }
}

fn sha256_file(path: &Path) -> Result<String> {
    let mut f = File::open(path)
        .map_err(|e| StampError(format!("cannot read `{}`: {e}", path.display())))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)
        .map_err(|e| StampError(format!("cannot read `{}`: {e}", path.display())))?;
    Ok(hex_of(&h.finalize()))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (
        a.canonicalize(),
        b.parent().map(Path::canonicalize),
        b.file_name(),
    ) {
        (Ok(a), Some(Ok(dir)), Some(name)) => a == dir.join(name),
        _ => false,
    }
}

/// A file being written beside its final place, renamed into it once complete, removed if
/// dropped before.
struct Scratch {
    path: PathBuf,
    done: bool,
}

impl Scratch {
    fn beside(target: &Path) -> Result<(Scratch, File)> {
        let dir = target.parent().unwrap_or(Path::new("."));
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path = dir.join(format!(".{name}.greenlight-{}", std::process::id()));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| StampError(format!("cannot write `{}`: {e}", path.display())))?;
        Ok((Scratch { path, done: false }, file))
    }

    fn finish(mut self, file: File, target: &Path) -> Result<()> {
        file.sync_all()
            .map_err(|e| StampError(format!("cannot write `{}`: {e}", self.path.display())))?;
        drop(file);
        std::fs::rename(&self.path, target)
            .map_err(|e| StampError(format!("cannot write `{}`: {e}", target.display())))?;
        self.done = true;
        Ok(())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn refuse_existing(target: &Path, input: &Path) -> Result<()> {
    if same_file(input, target) {
        return Err(StampError(format!(
            "`{}` is the original: a stamp never modifies it in place",
            target.display()
        )));
    }
    if target.exists() {
        return Err(StampError(format!(
            "`{}` already exists; it is not overwritten",
            target.display()
        )));
    }
    Ok(())
}

/// The media file a `.c2pa` sidecar belongs to: the regular file beside it with the same
/// name and another extension (the first by name when there are several).
pub fn media_of_sidecar(sidecar: &Path) -> Option<PathBuf> {
    let stem = sidecar.file_stem()?;
    let dir = match sidecar.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_stem() == Some(stem)
                && p.extension()
                    .is_some_and(|e| !e.eq_ignore_ascii_case("c2pa"))
                && std::fs::metadata(p).is_ok_and(|m| m.is_file())
        })
        .collect();
    found.sort();
    found.into_iter().next()
}

/// The sidecar's path for a media file: its name with the extension `.c2pa`, as the scanner
/// looks for it.
pub fn sidecar_path(media: &Path) -> PathBuf {
    media.with_extension("c2pa")
}

/// Stamps `input` with `assertion` (the [`APPROVAL_LABEL`] assertion's JSON) signed by `key`.
///
/// `media_out` is where a stamped copy goes; `sidecar` asks for a `.c2pa` sidecar instead of
/// an embedded manifest (beside `media_out`, which then receives an unchanged copy, or beside
/// the input when there is no `media_out`). A format the c2pa crate cannot embed into always
/// gets a sidecar. The input is only read; nothing existing is overwritten.
pub fn stamp_file(
    input: &Path,
    media_out: Option<&Path>,
    sidecar: bool,
    key: &SigningKey,
    assertion: &Value,
) -> Result<Stamped> {
    let meta = std::fs::metadata(input)
        .map_err(|e| StampError(format!("cannot read `{}`: {e}", input.display())))?;
    if !meta.is_file() {
        return Err(StampError(format!(
            "`{}` is not a regular file",
            input.display()
        )));
    }
    let mut src = File::open(input)
        .map_err(|e| StampError(format!("cannot read `{}`: {e}", input.display())))?;
    let mut head = [0u8; 64];
    let mut got = 0;
    while got < head.len() {
        let slot = head.get_mut(got..).unwrap_or_default();
        match src.read(slot) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => {
                return Err(StampError(format!(
                    "cannot read `{}`: {e}",
                    input.display()
                )));
            }
        }
    }
    let format = formats::sniff(head.get(..got).unwrap_or_default())
        .map(|(_, f)| f)
        .ok_or_else(|| {
            StampError(format!(
                "`{}` is not a media format greenlight reads",
                input.display()
            ))
        })?;
    if format == Format::C2pa {
        return Err(StampError(format!(
            "`{}` is a manifest store, not media",
            input.display()
        )));
    }
    let embed = !sidecar && can_embed(format);
    if !embed && media_out.is_none() && !sidecar {
        return Err(StampError(format!(
            "`{}` ({}) cannot hold an embedded manifest: ask for a sidecar",
            input.display(),
            format.name()
        )));
    }
    let sidecar_target = (!embed).then(|| sidecar_path(media_out.unwrap_or(input)));
    if let Some(m) = media_out {
        refuse_existing(m, input)?;
    }
    if let Some(s) = &sidecar_target {
        refuse_existing(s, input)?;
    }
    let sha256_before = sha256_file(input)?;

    let quiet = || {
        c2pa::Context::new()
            .with_settings(
                serde_json::json!({
                    "verify": {
                        "verify_after_sign": false,
                        "verify_after_reading": false,
                        "remote_manifest_fetch": false,
                        "ocsp_fetch": false
                    }
                })
                .to_string()
                .as_str(),
            )
            .map_err(|e| StampError(format!("c2pa settings: {e}")))
    };
    let context = quiet()?;
    let mut builder = c2pa::Builder::from_context(context);
    let mut generator = c2pa::ClaimGeneratorInfo::new("greenlight");
    generator.set_version(env!("CARGO_PKG_VERSION"));
    builder.set_claim_generator_info(generator);
    builder.set_intent(c2pa::BuilderIntent::Edit);
    builder
        .add_assertion(APPROVAL_LABEL, assertion)
        .map_err(|e| StampError(format!("the approval assertion: {e}")))?;
    builder.set_no_embed(!embed);
    let signer = key.c2pa_signer()?;

    // The stamped media goes to a scratch file beside its target, renamed once complete; a
    // sidecar-only stamp still needs a destination stream, beside the sidecar.
    let scratch_target = media_out
        .map(Path::to_path_buf)
        .or_else(|| sidecar_target.clone())
        .ok_or_else(|| StampError::new("nowhere to write the stamp"))?;
    let (scratch, mut dest) = Scratch::beside(&scratch_target)?;
    src.rewind()
        .map_err(|e| StampError(format!("cannot read `{}`: {e}", input.display())))?;
    let mut reader = BufReader::new(src);
    let store = guarded(|| {
        let mime = sign_mime(format);
        if mime != format.mime() {
            // Signed under another type, the file's own manifest must still be its parent:
            // read it under the file's real type.
            builder
                .add_ingredient_from_stream(
                    serde_json::json!({ "relationship": "parentOf" }).to_string(),
                    format.mime(),
                    &mut reader,
                )
                .map_err(|e| format!("its manifest as the parent ingredient: {e}"))?;
            reader.rewind().map_err(|e| e.to_string())?;
        }
        builder
            .sign(signer.as_ref(), mime, &mut reader, &mut dest)
            .map_err(|e| e.to_string())
    })
    .map_err(|e| StampError(format!("cannot stamp `{}`: {e}", input.display())))?;
    let manifest = c2pa::Reader::from_context(quiet()?)
        .with_manifest_data_and_stream(&store, "application/c2pa", Cursor::new(Vec::<u8>::new()))
        .ok()
        .and_then(|r| r.active_label().map(str::to_string));

    let mut out = Stamped {
        media: None,
        sidecar: None,
        format: format.name(),
        sha256_before: sha256_before.clone(),
        sha256_after: sha256_before,
        sidecar_sha256: None,
        manifest,
    };
    if let Some(m) = media_out {
        dest.flush()
            .map_err(|e| StampError(format!("cannot write `{}`: {e}", m.display())))?;
        scratch.finish(dest, m)?;
        out.sha256_after = sha256_file(m)?;
        out.media = Some(m.to_path_buf());
    } else {
        drop(dest);
        drop(scratch);
    }
    if let Some(s) = sidecar_target {
        let (scratch, mut file) = Scratch::beside(&s)?;
        file.write_all(&store)
            .map_err(|e| StampError(format!("cannot write `{}`: {e}", s.display())))?;
        scratch.finish(file, &s)?;
        out.sidecar_sha256 = Some(hex_of(&Sha256::digest(&store)));
        out.sidecar = Some(s);
    }
    Ok(out)
}

/// Runs a call into the c2pa crate so that a panic inside it becomes an error.
fn guarded<T>(
    f: impl FnOnce() -> std::result::Result<T, String>,
) -> std::result::Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err("the c2pa crate failed (internal panic)".to_string()))
}

/// Whether a raw manifest store names greenlight's approval assertion: the cheap test that
/// decides whether a file's stamp is verified.
pub fn names_stamp(store: &[u8]) -> bool {
    memchr::memmem::find(store, APPROVAL_LABEL.as_bytes()).is_some()
}

/// How a stamp's signature stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StampSignature {
    /// The signature and the media's hashes verify.
    Valid,
    /// They do not: the file or its manifest changed after signing.
    Tampered,
}

/// What a file's stamp says, verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StampFacts {
    /// The approval it names (`approval_id` of the assertion).
    pub approval_id: Option<String>,
    /// The assertion as signed.
    pub assertion: Value,
    /// Whether the signature and the hashes verify.
    pub signature: StampSignature,
    /// Whether the signer is on the trust list (false without one).
    pub trusted: bool,
    /// The signing certificate, when the manifest carries a readable one.
    pub signer: Option<CertInfo>,
    /// The validation failure codes of the active manifest.
    pub failures: Vec<String>,
}

impl StampFacts {
    /// The evidence item the scanner reports: context, never AI evidence by itself. Its
    /// detail reads `approval ID, signature valid|tampered, signer trusted|untrusted, signed
    /// by SUBJECT (sha256 FINGERPRINT)`, in that order, so the delivery gate can read it back.
    pub fn evidence(&self, source: &str) -> Evidence {
        let signer = match &self.signer {
            Some(s) => format!("signed by {} (sha256 {})", s.subject, s.sha256),
            None => "signer unknown".to_string(),
        };
        let mut detail = format!(
            "approval {}, signature {}, signer {}, {signer}",
            self.approval_id.as_deref().unwrap_or("unnamed"),
            match self.signature {
                StampSignature::Valid => "valid",
                StampSignature::Tampered => "tampered",
            },
            if self.trusted { "trusted" } else { "untrusted" },
        );
        if self.signature == StampSignature::Tampered && !self.failures.is_empty() {
            detail.push_str(&format!(": {}", self.failures.join(", ")));
        }
        Evidence {
            kind: Kind::GreenlightStamp,
            detail,
            source: source.to_string(),
            strength: Strength::Definitive,
            signal: Signal::Context,
        }
    }
}

/// Reads and verifies stamps with the c2pa crate's `Reader`, against a trust list.
pub struct Verifier {
    context: Arc<c2pa::Context>,
    has_trust: bool,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("has_trust", &self.has_trust)
            .finish_non_exhaustive()
    }
}

fn is_trust_code(c: &str) -> bool {
    c.starts_with("signingCredential.") || c.starts_with("timeStamp.") || c.starts_with("cawg.")
}

impl Verifier {
    /// A verifier trusting the signers and anchors of `trust` (none: every signer untrusted).
    pub fn new(trust: Option<&TrustList>) -> Result<Self> {
        let mut settings = serde_json::json!({
            "verify": {
                "verify_after_reading": true,
                "verify_trust": true,
                "remote_manifest_fetch": false,
                "ocsp_fetch": false
            }
        });
        if let (Some(t), Some(obj)) = (trust, settings.as_object_mut()) {
            let mut trust = serde_json::Map::new();
            if !t.anchors.is_empty() {
                trust.insert("trust_anchors".into(), Value::String(t.anchors.clone()));
            }
            if !t.signers.is_empty() {
                trust.insert("allowed_list".into(), Value::String(t.signers.clone()));
            }
            obj.insert("trust".into(), Value::Object(trust));
        }
        let context = c2pa::Context::new()
            .with_settings(settings.to_string().as_str())
            .map_err(|e| StampError(format!("the trust list was refused: {e}")))?;
        Ok(Self {
            context: context.into_shared(),
            has_trust: trust.is_some(),
        })
    }

    /// Reads the stamp of an asset (its embedded store, or `sidecar` against it): `None` when
    /// its active manifest holds no approval assertion.
    pub fn inspect(
        &self,
        mime: &str,
        stream: impl Read + Seek + Send,
        sidecar: Option<&[u8]>,
    ) -> Option<StampFacts> {
        let reader = c2pa::Reader::from_shared_context(&self.context);
        let reader = guarded(|| {
            match sidecar {
                Some(store) => reader.with_manifest_data_and_stream(store, mime, stream),
                None => reader.with_stream(mime, stream),
            }
            .map_err(|e| e.to_string())
        });
        let reader = match reader {
            Ok(r) => r,
            Err(e) => {
                // A store that names the assertion but cannot be read back is not a stamp that
                // verifies.
                return Some(StampFacts {
                    approval_id: None,
                    assertion: Value::Null,
                    signature: StampSignature::Tampered,
                    trusted: false,
                    signer: None,
                    failures: vec![e],
                });
            }
        };
        let manifest = reader.active_manifest()?;
        let assertion: Value = manifest.find_assertion(APPROVAL_LABEL).ok()?;
        let mut failures = Vec::new();
        let mut trusted_code = false;
        if let Some(active) = reader
            .validation_results()
            .and_then(|r| r.active_manifest())
        {
            for s in active.failure() {
                failures.push(s.code().to_string());
            }
            trusted_code = active
                .success()
                .iter()
                .any(|s| s.code() == "signingCredential.trusted");
        }
        let signature = if failures.iter().any(|c| !is_trust_code(c)) {
            StampSignature::Tampered
        } else {
            StampSignature::Valid
        };
        let signer = manifest
            .signature_info()
            .and_then(|s| X509::stack_from_pem(s.cert_chain().as_bytes()).ok())
            .and_then(|chain| chain.first().and_then(|c| describe(c).ok()));
        let trusted = self.has_trust
            && signature == StampSignature::Valid
            && trusted_code
            && !failures.iter().any(|c| c.starts_with("signingCredential."));
        Some(StampFacts {
            approval_id: assertion
                .get("approval_id")
                .and_then(Value::as_str)
                .map(str::to_string),
            assertion,
            signature,
            trusted,
            signer,
            failures,
        })
    }

    /// Reads the stamp of a file on disk, and its `.c2pa` sidecar when it has one.
    pub fn inspect_file(&self, path: &Path) -> Result<Option<StampFacts>> {
        let mut f = File::open(path)
            .map_err(|e| StampError(format!("cannot read `{}`: {e}", path.display())))?;
        let mut head = [0u8; 64];
        let n = f
            .read(&mut head)
            .map_err(|e| StampError(format!("cannot read `{}`: {e}", path.display())))?;
        let format = formats::sniff(head.get(..n).unwrap_or_default())
            .map(|(_, f)| f)
            .ok_or_else(|| StampError(format!("`{}`: unknown format", path.display())))?;
        f.rewind()
            .map_err(|e| StampError(format!("cannot read `{}`: {e}", path.display())))?;
        let side = sidecar_path(path);
        let sidecar = std::fs::read(&side).ok();
        Ok(self.inspect(format.mime(), BufReader::new(f), sidecar.as_deref()))
    }
}

impl Verifier {
    /// The scanner's hook for a `.c2pa` file itself: a sidecar that holds a stamp is verified
    /// against its media beside it (the regular file of the same name with another
    /// extension) and carries the same evidence item, so that the gate judges the sidecar by
    /// the stamp it holds, as it judges its media.
    pub(crate) fn sidecar_hook(&self, path: &Path, store: &[u8], evidence: &mut Vec<Evidence>) {
        if !names_stamp(store) {
            return;
        }
        let Some(media) = media_of_sidecar(path) else {
            return;
        };
        // The media's sidecar is this file: `inspect_file` reads the stamp from it.
        if let Ok(Some(facts)) = self.inspect_file(&media) {
            let name = media.file_name().unwrap_or_default().to_string_lossy();
            evidence.push(facts.evidence(&format!("sidecar of `{name}`")));
        }
    }

    /// The scanner's hook: when the file's store (embedded, else its sidecar, even beside an
    /// embedded store that is not a stamp) names the approval assertion, verifies the stamp
    /// and adds its evidence item.
    pub(crate) fn scan_hook<R: Read + Seek + Send>(
        &self,
        format: Format,
        embedded: &[formats::StoreLocation],
        sidecar: Option<&[u8]>,
        reopen: &dyn Fn() -> std::io::Result<R>,
        evidence: &mut Vec<Evidence>,
    ) {
        // A sidecar scanned by itself has no media to verify against: its media file shows it.
        if format == Format::C2pa {
            return;
        }
        let named = |l: &formats::StoreLocation| match l {
            formats::StoreLocation::Bytes(b) => names_stamp(b),
            formats::StoreLocation::InAsset => true,
        };
        // A file whose own manifest is not a stamp may still have one beside it: a PDF's
        // stamp is always a sidecar, whatever manifest the PDF carries.
        let (store, source) = if embedded.iter().any(named) {
            (None, "active manifest")
        } else {
            match sidecar {
                Some(s) if names_stamp(s) => (Some(s), "sidecar active manifest"),
                _ => return,
            }
        };
        let Ok(stream) = reopen() else { return };
        if let Some(facts) = self.inspect(format.mime(), stream, store) {
            evidence.push(facts.evidence(source));
        }
    }
}
