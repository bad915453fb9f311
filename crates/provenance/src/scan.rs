//! Scanning: one file ([`Scanner::scan_file`]) or whole trees ([`Scanner::scan_tree`]) on all
//! cores, streaming reports through bounded channels so memory stays flat whatever the tree.

use crate::evidence::{self, Evidence, Kind, Signal, Strength};
use crate::formats::{self, Format, Metadata, SNIFF_LEN, StoreLocation};
use crate::manifest::{C2paSummary, Engine, EngineError, Integrity};
use crate::report::{FileReport, Summary, Verdict};
use crate::source::{ReadSeek, Source};
use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

/// How to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Run full C2PA validation (hashes, signature, trust) on files that carry a manifest.
    pub verify: bool,
    /// PEM bundle of trusted signer roots, used by `verify`.
    pub trust_anchors: Option<String>,
    /// Follow symbolic links while walking (off by default).
    pub follow_symlinks: bool,
    /// Look for a `.c2pa` sidecar next to each file.
    pub sidecars: bool,
    /// Cap on bytes a container reader may read from one file.
    pub max_bytes_per_file: u64,
    /// Cap on time a container reader may spend on one file.
    pub max_time_per_file: Duration,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Compute the sha256 of every file flagged `ai_generated`, `ai_edited` or `ai_possible`
    /// (the whole file, uncapped), so that approvals scoped by content hash can be matched.
    pub hash_flagged: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            verify: false,
            trust_anchors: None,
            follow_symlinks: false,
            sidecars: true,
            max_bytes_per_file: 256 << 20,
            max_time_per_file: Duration::from_secs(20),
            threads: 0,
            hash_flagged: false,
        }
    }
}

/// Why a scan could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    /// The C2PA engine rejected its settings (for example a malformed trust list).
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// A configured scanner; cheap to share between threads.
pub struct Scanner {
    opts: ScanOptions,
    engine: Engine,
}

/// The sha256 of a file's whole content, lowercase hex.
fn sha256_of(path: &Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        let Some(chunk) = buf.get(..n) else { break };
        if chunk.is_empty() {
            break;
        }
        hasher.update(chunk);
    }
    Ok(format!("{:x}", hasher.finalize()))
}

fn read_head(r: &mut dyn ReadSeek) -> std::io::Result<Vec<u8>> {
    let mut head = vec![0u8; SNIFF_LEN];
    let mut n = 0usize;
    while let Some(buf) = head.get_mut(n..) {
        if buf.is_empty() {
            break;
        }
        let k = r.read(buf)?;
        if k == 0 {
            break;
        }
        n = n.saturating_add(k);
    }
    head.truncate(n);
    r.seek(SeekFrom::Start(0))?;
    Ok(head)
}

impl Scanner {
    /// Builds a scanner.
    pub fn new(opts: ScanOptions) -> Result<Self, ScanError> {
        let engine = Engine::new(opts.trust_anchors.as_deref())?;
        Ok(Self { opts, engine })
    }

    /// The options in force.
    pub fn options(&self) -> &ScanOptions {
        &self.opts
    }

    /// Scans one file. Never panics; failures become `verdict: error`.
    pub fn scan_file(&self, path: &Path) -> FileReport {
        let shown = path.display().to_string();
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) => return FileReport::error(shown, format!("cannot open: {e}")),
        };
        let mut r = BufReader::with_capacity(64 << 10, file);
        let sidecar = if self.opts.sidecars {
            self.sidecar_for(path)
        } else {
            None
        };
        let reopen = || File::open(path);
        let mut report = self.scan_stream(shown, &mut r, sidecar, &reopen);
        if self.opts.hash_flagged && report.verdict.is_flagged() {
            match sha256_of(path) {
                Ok(hash) => report.sha256 = Some(hash),
                Err(e) => report
                    .notes
                    .push(format!("cannot hash the file's content: {e}")),
            }
        }
        report
    }

    /// Scans bytes held in memory (tests, fuzzing, or callers that already read a file).
    pub fn scan_bytes(&self, name: &str, data: &[u8]) -> FileReport {
        let mut c = Cursor::new(data);
        let reopen = || Ok(Cursor::new(data));
        self.scan_stream(name.to_string(), &mut c, None, &reopen)
    }

    fn sidecar_for(&self, path: &Path) -> Option<(PathBuf, Vec<u8>)> {
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("c2pa"))
        {
            return None;
        }
        let side = path.with_extension("c2pa");
        let f = File::open(&side).ok()?;
        let mut v = Vec::new();
        f.take(self.opts.max_bytes_per_file)
            .read_to_end(&mut v)
            .ok()?;
        Some((side, v))
    }

    fn scan_stream<R: Read + Seek + Send>(
        &self,
        path: String,
        r: &mut dyn ReadSeek,
        sidecar: Option<(PathBuf, Vec<u8>)>,
        reopen: &dyn Fn() -> std::io::Result<R>,
    ) -> FileReport {
        let head = match read_head(r) {
            Ok(h) => h,
            Err(e) => return FileReport::error(path, format!("cannot read: {e}")),
        };
        let mut report = FileReport {
            path,
            format: None,
            verdict: Verdict::NoAiEvidence,
            evidence: Vec::new(),
            c2pa: C2paSummary::default(),
            notes: Vec::new(),
            error: None,
            bytes_read: 0,
            sha256: None,
        };
        let mut meta = Metadata::default();
        let mut format = None;
        if let Some((reader, f)) = formats::sniff(&head) {
            format = Some(f);
            let deadline = Instant::now().checked_add(self.opts.max_time_per_file);
            match Source::new(r, self.opts.max_bytes_per_file, deadline) {
                Ok(mut src) => {
                    if let Err(e) = reader.read(f, &mut src, &mut meta) {
                        report.error = Some(e.to_string());
                    }
                    report.bytes_read = src.bytes_read();
                }
                Err(e) => report.error = Some(e.to_string()),
            }
            if let Some(refined) = meta.refined {
                format = Some(refined);
            }
        }
        report.format = format.map(Format::name);
        let pointers = evidence::from_metadata(&meta, &mut report.evidence);
        report.notes.append(&mut meta.notes);

        // C2PA: embedded stores first, then a sidecar.
        let mut c2pa = C2paSummary::default();
        for loc in &meta.c2pa {
            c2pa.present = true;
            c2pa.location = Some("embedded".to_string());
            let facts = match (loc, format) {
                (StoreLocation::Bytes(b), _) => self.engine.read_store(b),
                (StoreLocation::InAsset, Some(f)) => match reopen() {
                    Ok(s) => self.engine.read_asset(f.mime(), s),
                    Err(e) => Err(e.to_string()),
                },
                (StoreLocation::InAsset, None) => Err("unknown container".to_string()),
            };
            self.apply_facts(facts, "", &mut c2pa, &mut report.evidence);
        }
        let mut sidecar_bytes = None;
        if let Some((side, bytes)) = sidecar {
            report.evidence.push(Evidence {
                kind: Kind::SidecarManifest,
                detail: side.display().to_string(),
                source: "sidecar".to_string(),
                strength: Strength::Definitive,
                signal: Signal::Context,
            });
            if !c2pa.present {
                c2pa.present = true;
                c2pa.location = Some("sidecar".to_string());
                let facts = self.engine.read_store(&bytes);
                self.apply_facts(facts, "sidecar ", &mut c2pa, &mut report.evidence);
                sidecar_bytes = Some(bytes);
            }
        }
        if !c2pa.present {
            if let Some(url) = pointers.remote.first() {
                c2pa.integrity = Integrity::Remote;
                c2pa.remote_url = Some(url.clone());
                report.evidence.push(Evidence {
                    kind: Kind::RemoteManifest,
                    detail: format!("remote manifest at {url} (not fetched)"),
                    source: "XMP dcterms:provenance".to_string(),
                    strength: Strength::Definitive,
                    signal: Signal::Context,
                });
            } else if let Some(p) = pointers.embedded.first() {
                c2pa.integrity = Integrity::Stripped;
                report.evidence.push(Evidence {
                    kind: Kind::StrippedManifest,
                    detail: format!(
                        "XMP points at an embedded manifest ({p}) that is no longer in the file"
                    ),
                    source: "XMP dcterms:provenance".to_string(),
                    strength: Strength::Definitive,
                    signal: Signal::Context,
                });
            }
        }
        if self.opts.verify && c2pa.present && c2pa.integrity == Integrity::NotChecked {
            match format {
                Some(Format::C2pa) | None => report.notes.push(
                    "a standalone manifest store cannot be verified without its asset".to_string(),
                ),
                Some(f) => match reopen() {
                    Ok(s) => {
                        let store = sidecar_bytes.as_deref().or_else(|| {
                            meta.c2pa.iter().find_map(|l| match l {
                                StoreLocation::Bytes(b) => Some(b.as_slice()),
                                StoreLocation::InAsset => None,
                            })
                        });
                        let v = self
                            .engine
                            .verify(f.mime(), s, sidecar_bytes.as_deref(), store);
                        report.notes.extend(v.notes);
                        c2pa.integrity = v.integrity;
                        c2pa.trust = v.trust;
                        c2pa.failures = v.failures;
                        if v.error.is_some() {
                            c2pa.error = v.error;
                        }
                    }
                    Err(e) => c2pa.error = Some(format!("cannot reopen for verification: {e}")),
                },
            }
        }
        report.c2pa = c2pa;
        report.verdict = match format {
            None if report.evidence.is_empty() => Verdict::Unsupported,
            _ => {
                // AI evidence found before a read failure stands; otherwise the failure does.
                let v = Verdict::from_evidence(&report.evidence);
                if v == Verdict::NoAiEvidence && report.error.is_some() {
                    Verdict::Error
                } else {
                    v
                }
            }
        };
        report
    }

    fn apply_facts(
        &self,
        facts: Result<crate::manifest::StoreFacts, String>,
        prefix: &str,
        c2pa: &mut C2paSummary,
        evidence: &mut Vec<Evidence>,
    ) {
        match facts {
            Ok(f) => {
                if c2pa.integrity != Integrity::Unreadable {
                    c2pa.integrity = Integrity::NotChecked;
                }
                c2pa.active_manifest = f.active;
                c2pa.generator = f.generator;
                c2pa.manifests = c2pa.manifests.saturating_add(f.manifests);
                for mut e in f.evidence {
                    if !prefix.is_empty() {
                        e.source = format!("{prefix}{}", e.source);
                    }
                    evidence.push(e);
                }
            }
            Err(e) => {
                c2pa.integrity = Integrity::Unreadable;
                c2pa.error = Some(e);
            }
        }
    }

    /// Walks `roots` and scans every regular file on all cores, calling `each` with every
    /// report as it is ready (in no fixed order). Memory use does not grow with the tree.
    pub fn scan_tree(&self, roots: &[PathBuf], mut each: impl FnMut(FileReport)) -> Summary {
        let threads = match self.opts.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let (path_tx, path_rx) =
            mpsc::sync_channel::<Result<PathBuf, FileReport>>(threads.saturating_mul(16));
        let (report_tx, report_rx) = mpsc::sync_channel::<FileReport>(threads.saturating_mul(16));
        let path_rx = Mutex::new(path_rx);
        let mut summary = Summary::default();
        let symlinks = std::sync::atomic::AtomicU64::new(0);
        std::thread::scope(|s| {
            let follow = self.opts.follow_symlinks;
            let symlinks = &symlinks;
            s.spawn(move || {
                for root in roots {
                    for entry in walkdir::WalkDir::new(root).follow_links(follow) {
                        let item = match entry {
                            Ok(e) if e.file_type().is_file() => Ok(e.into_path()),
                            Ok(e) if e.path_is_symlink() && !follow => {
                                symlinks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                continue;
                            }
                            Ok(_) => continue,
                            Err(e) => {
                                let p = e.path().map_or_else(
                                    || root.display().to_string(),
                                    |p| p.display().to_string(),
                                );
                                Err(FileReport::error(p, format!("cannot read: {e}")))
                            }
                        };
                        if path_tx.send(item).is_err() {
                            return;
                        }
                    }
                }
            });
            for _ in 0..threads {
                let tx = report_tx.clone();
                let rx = &path_rx;
                s.spawn(move || {
                    loop {
                        let next = match rx.lock() {
                            Ok(guard) => guard.recv(),
                            Err(_) => return,
                        };
                        let report = match next {
                            Ok(Ok(p)) => self.scan_file(&p),
                            Ok(Err(r)) => r,
                            Err(_) => return,
                        };
                        if tx.send(report).is_err() {
                            return;
                        }
                    }
                });
            }
            drop(report_tx);
            for r in report_rx {
                summary.add(&r);
                each(r);
            }
        });
        summary.symlinks_skipped = symlinks.into_inner();
        summary
    }
}

/// Scans a file or a tree with `opts`, calling `each` per file; returns the counts.
pub fn scan_path(
    path: &Path,
    opts: &ScanOptions,
    each: impl FnMut(FileReport),
) -> Result<Summary, ScanError> {
    let scanner = Scanner::new(opts.clone())?;
    Ok(scanner.scan_tree(&[path.to_path_buf()], each))
}
