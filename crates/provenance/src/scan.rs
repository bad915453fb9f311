//! Scanning: one file ([`Scanner::scan_file`]) or whole trees ([`Scanner::scan_tree`]) on all
//! cores, streaming reports through bounded queues so memory stays flat whatever the tree.
//!
//! A tree scan has one walker thread, a worker per core and the caller's thread. The walker
//! lists directories and hands files to the workers in batches through a bounded queue; a worker
//! takes a share of what is queued (all of it split between the workers when little is queued,
//! so a few slow files still spread over every core), scans it with one reused read buffer, and
//! sends the reports back in batches. The walker also notes which names in each directory end in
//! `.c2pa`, so a file without a sidecar costs no failed open.

use crate::evidence::{self, Evidence, Kind, Signal, Strength};
use crate::formats::{self, Format, Metadata, SNIFF_LEN, StoreLocation};
use crate::manifest::{C2paSummary, Engine, EngineError, Integrity};
use crate::report::{FileReport, Summary, Verdict};
use crate::source::{FileReader, ReadSeek, Source};
use std::collections::{HashSet, VecDeque};
use std::ffi::OsString;
use std::fs::File;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
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
    /// The stamps' trust list was refused.
    #[error(transparent)]
    Stamp(#[from] crate::stamp::StampError),
}

/// A configured scanner; cheap to share between threads.
pub struct Scanner {
    opts: ScanOptions,
    engine: Engine,
    stamps: crate::stamp::Verifier,
}

/// Opens a file for reading. On Unix without waiting: should a FIFO have taken the place of a
/// regular file since it was looked at, reading it ends at once instead of blocking.
fn open_for_reading(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// The sha256 of a file's whole content, lowercase hex.
fn sha256_of(path: &Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut file = open_for_reading(path)?;
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

/// The first [`SNIFF_LEN`] bytes of a stream (fewer if it is shorter) and how many there are;
/// the stream is left at its start.
fn read_head(r: &mut dyn ReadSeek) -> std::io::Result<([u8; SNIFF_LEN], usize)> {
    let mut head = [0u8; SNIFF_LEN];
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
    r.seek(SeekFrom::Start(0))?;
    Ok((head, n))
}

/// What a file that is not a regular file is, for people ("FIFO", "character device", …).
fn special_kind(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "FIFO";
        }
        if t.is_socket() {
            return "socket";
        }
        if t.is_char_device() {
            return "character device";
        }
        if t.is_block_device() {
            return "block device";
        }
    }
    if t.is_dir() {
        "directory"
    } else if t.is_symlink() {
        "symbolic link"
    } else {
        "special file"
    }
}

/// Files the walker queues at a time.
const WALK_BATCH: usize = 64;
/// Most files a worker takes from the queue at a time.
const TAKE_MAX: usize = 32;
/// Longest a worker holds finished reports before sending them on.
const REPORT_DELAY: Duration = Duration::from_millis(50);
/// Most `.c2pa` names noted for one directory; beyond, its files look on disk.
const MAX_SIDECAR_NAMES: usize = 4096;

/// What the walk knows of the `.c2pa` files beside a file.
#[derive(Clone)]
enum Sidecars {
    /// Nothing (a file given by itself, or a directory that could not be listed or has too
    /// many): look on disk.
    Unknown,
    /// The names ending in `.c2pa` in the file's directory when it was listed.
    Listed(Arc<HashSet<OsString>>),
}

impl Sidecars {
    /// Lists `dir` and notes the names ending in `.c2pa`.
    fn of_dir(dir: &Path) -> Self {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Sidecars::Unknown;
        };
        let mut names = HashSet::new();
        for entry in entries {
            let Ok(entry) = entry else {
                return Sidecars::Unknown;
            };
            let name = entry.file_name();
            if name.as_encoded_bytes().ends_with(b".c2pa") {
                if names.len() >= MAX_SIDECAR_NAMES {
                    return Sidecars::Unknown;
                }
                names.insert(name);
            }
        }
        Sidecars::Listed(Arc::new(names))
    }

    /// Whether the directory was listed and holds no `.c2pa` name at all.
    fn is_none(&self) -> bool {
        matches!(self, Sidecars::Listed(names) if names.is_empty())
    }

    /// Whether a sidecar called `name` may exist (then it is opened to find out).
    fn may_hold(&self, name: Option<&std::ffi::OsStr>) -> bool {
        match self {
            Sidecars::Unknown => true,
            Sidecars::Listed(names) => name.is_some_and(|n| names.contains(n)),
        }
    }
}

/// One unit of work for a tree scan's workers.
enum Job {
    /// A regular file to scan, with what the walk knows of its sidecars.
    File(PathBuf, Sidecars),
    /// A walk error or a path that is not a regular file, already a report.
    Failed(Box<FileReport>),
}

/// The bounded queue between the walker and the workers.
struct JobQueue {
    state: Mutex<QueueState>,
    /// Signalled when jobs are added or the walk ends.
    filled: Condvar,
    /// Signalled when jobs are taken or the workers are gone.
    drained: Condvar,
    /// Most jobs queued at once.
    cap: usize,
    workers: usize,
}

struct QueueState {
    jobs: VecDeque<Job>,
    /// The walk is over: no more jobs will come.
    closed: bool,
    /// Workers waiting for jobs.
    idle: usize,
    /// Workers still running.
    alive: usize,
    /// Whether the walker waits for room.
    walker_waiting: bool,
}

impl JobQueue {
    fn new(workers: usize) -> Self {
        Self {
            state: Mutex::new(QueueState {
                jobs: VecDeque::new(),
                closed: false,
                idle: 0,
                alive: workers,
                walker_waiting: false,
            }),
            filled: Condvar::new(),
            drained: Condvar::new(),
            cap: workers.saturating_mul(4).saturating_mul(WALK_BATCH),
            workers,
        }
    }

    /// Queues every job of `batch` (leaving it empty), waiting for room. Returns false when
    /// no worker is left to take them.
    fn push(&self, batch: &mut Vec<Job>) -> bool {
        let Ok(mut st) = self.state.lock() else {
            return false;
        };
        while st.alive > 0 && st.jobs.len() >= self.cap {
            st.walker_waiting = true;
            st = match self.drained.wait(st) {
                Ok(st) => st,
                Err(_) => return false,
            };
            st.walker_waiting = false;
        }
        if st.alive == 0 {
            return false;
        }
        st.jobs.extend(batch.drain(..));
        if st.idle > 0 {
            self.filled.notify_all();
        }
        true
    }

    /// Ends the walk.
    fn close(&self) {
        if let Ok(mut st) = self.state.lock() {
            st.closed = true;
        }
        self.filled.notify_all();
    }

    /// Moves a share of the queued jobs into `out`, waiting for some. Returns false when the
    /// walk is over and nothing is left.
    fn take(&self, out: &mut Vec<Job>) -> bool {
        let Ok(mut st) = self.state.lock() else {
            return false;
        };
        loop {
            if !st.jobs.is_empty() {
                let n = st
                    .jobs
                    .len()
                    .div_ceil(self.workers.max(1))
                    .clamp(1, TAKE_MAX);
                let n = n.min(st.jobs.len());
                out.extend(st.jobs.drain(..n));
                if st.walker_waiting {
                    self.drained.notify_one();
                }
                return true;
            }
            if st.closed {
                return false;
            }
            st.idle = st.idle.saturating_add(1);
            st = match self.filled.wait(st) {
                Ok(st) => st,
                Err(_) => return false,
            };
            st.idle = st.idle.saturating_sub(1);
        }
    }

    /// Records that a worker stopped (also when it unwinds), so the walker never waits for it.
    fn worker_done(&self) {
        if let Ok(mut st) = self.state.lock() {
            st.alive = st.alive.saturating_sub(1);
        }
        self.drained.notify_all();
    }
}

/// Calls [`JobQueue::close`] when the walker ends, however it ends, so no worker waits on.
struct CloseGuard<'a>(&'a JobQueue);

impl Drop for CloseGuard<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// Calls [`JobQueue::worker_done`] when a worker ends, however it ends.
struct WorkerGuard<'a>(&'a JobQueue);

impl Drop for WorkerGuard<'_> {
    fn drop(&mut self) {
        self.0.worker_done();
    }
}

impl Scanner {
    /// Builds a scanner.
    pub fn new(opts: ScanOptions) -> Result<Self, ScanError> {
        let engine = Engine::new(opts.trust_anchors.as_deref())?;
        let stamps = crate::stamp::Verifier::new(None)?;
        Ok(Self {
            opts,
            engine,
            stamps,
        })
    }

    /// Verifies greenlight stamps against `trust` (signer certificates and CA anchors):
    /// without it every stamp's signer is reported untrusted.
    pub fn with_stamp_trust(mut self, trust: &crate::stamp::TrustList) -> Result<Self, ScanError> {
        self.stamps = crate::stamp::Verifier::new(Some(trust))?;
        Ok(self)
    }

    /// Builds a scanner that reads every C2PA store with the c2pa crate's `Reader` instead of
    /// the fast path: the reference the fast path is tested against.
    pub fn reference(opts: ScanOptions) -> Result<Self, ScanError> {
        let engine = Engine::reference(opts.trust_anchors.as_deref())?;
        let stamps = crate::stamp::Verifier::new(None)?;
        Ok(Self {
            opts,
            engine,
            stamps,
        })
    }

    /// The options in force.
    pub fn options(&self) -> &ScanOptions {
        &self.opts
    }

    /// Scans one file. Never panics; failures become `verdict: error`, and a path that is not
    /// a regular file (a FIFO, a socket, a device) is `verdict: skipped`, never opened.
    pub fn scan_file(&self, path: &Path) -> FileReport {
        let mut buf = Vec::new();
        self.scan_path(path, None, &Sidecars::Unknown, &mut buf)
    }

    /// Scans one file through the read buffer `buf`. `regular` is what the caller already knows
    /// of the file's type (`Some(true)` for a regular file found by a walk), `sidecars` what it
    /// knows of the `.c2pa` files beside it.
    fn scan_path(
        &self,
        path: &Path,
        regular: Option<bool>,
        sidecars: &Sidecars,
        buf: &mut Vec<u8>,
    ) -> FileReport {
        // The same text as `path.display()`, without going through the formatter.
        let shown = path.to_string_lossy().into_owned();
        // A path given by itself is looked at before it is opened: opening a FIFO blocks.
        if regular.is_none() {
            match std::fs::metadata(path) {
                Ok(m) if !m.is_file() => {
                    return FileReport::skipped(shown, special_kind(&m.file_type()));
                }
                Ok(_) => {}
                Err(e) => return FileReport::error(shown, format!("cannot open: {e}")),
            }
        }
        let file = match open_for_reading(path) {
            Ok(f) => f,
            Err(e) => return FileReport::error(shown, format!("cannot open: {e}")),
        };
        // Only regular files get this far.
        let mut r = FileReader::new(file, buf, true);
        let sidecar = if self.opts.sidecars {
            self.sidecar_for(path, sidecars)
        } else {
            None
        };
        let reopen = || open_for_reading(path);
        let mut report = self.scan_stream(shown, &mut r, sidecar, &reopen);
        if report.format == Some(Format::C2pa.name())
            && let Ok(f) = open_for_reading(path)
        {
            let mut store = Vec::new();
            if f.take(self.opts.max_bytes_per_file)
                .read_to_end(&mut store)
                .is_ok()
            {
                self.stamps.sidecar_hook(path, &store, &mut report.evidence);
            }
        }
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

    fn sidecar_for(&self, path: &Path, known: &Sidecars) -> Option<(PathBuf, Vec<u8>)> {
        if known.is_none()
            || path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("c2pa"))
        {
            return None;
        }
        let side = path.with_extension("c2pa");
        if !known.may_hold(side.file_name()) {
            return None;
        }
        // Only a regular file is opened (a FIFO named `x.c2pa` would block).
        if !std::fs::metadata(&side).is_ok_and(|m| m.is_file()) {
            return None;
        }
        let f = open_for_reading(&side).ok()?;
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
        let (head, head_len) = match read_head(r) {
            Ok(h) => h,
            Err(e) => return FileReport::error(path, format!("cannot read: {e}")),
        };
        let head = head.get(..head_len).unwrap_or_default();
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
        if let Some((reader, f)) = formats::sniff(head) {
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
        let mut beside = None;
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
            } else {
                // The embedded store speaks for the file; the sidecar may still hold its stamp.
                beside = Some(bytes);
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
        // A greenlight stamp (only files whose store names its assertion) is verified here.
        if let Some(f) = format {
            self.stamps.scan_hook(
                f,
                &meta.c2pa,
                sidecar_bytes.as_deref().or(beside.as_deref()),
                reopen,
                &mut report.evidence,
            );
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
                evidence.push(evidence::malformed_item(
                    format!("{prefix}C2PA store"),
                    &format!("C2PA store malformed: {e}"),
                ));
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
        let queue = JobQueue::new(threads);
        let (report_tx, report_rx) =
            mpsc::sync_channel::<Vec<FileReport>>(threads.saturating_mul(4));
        let mut summary = Summary::default();
        let symlinks = AtomicU64::new(0);
        std::thread::scope(|s| {
            let (queue, symlinks) = (&queue, &symlinks);
            s.spawn(move || {
                let _close = CloseGuard(queue);
                self.walk(roots, queue, symlinks);
            });
            for _ in 0..threads {
                let tx = report_tx.clone();
                s.spawn(move || self.work(queue, &tx));
            }
            drop(report_tx);
            for batch in report_rx {
                for r in batch {
                    summary.add(&r);
                    each(r);
                }
            }
        });
        summary.symlinks_skipped = symlinks.into_inner();
        summary
    }

    /// The walker: queues every regular file under `roots` (and every walk error, and a skipped
    /// report for every FIFO, socket or device) in batches.
    fn walk(&self, roots: &[PathBuf], queue: &JobQueue, symlinks: &AtomicU64) {
        let follow = self.opts.follow_symlinks;
        let mut batch = Vec::with_capacity(WALK_BATCH);
        // The sidecar names of the directories on the current path, by depth.
        let mut dirs: Vec<Sidecars> = Vec::new();
        for root in roots {
            for entry in walkdir::WalkDir::new(root).follow_links(follow) {
                let job = match entry {
                    Ok(e) if e.file_type().is_file() => {
                        let sidecars = match e.depth().checked_sub(1) {
                            Some(parent) if self.opts.sidecars => {
                                dirs.get(parent).cloned().unwrap_or(Sidecars::Unknown)
                            }
                            _ => Sidecars::Unknown,
                        };
                        Job::File(e.into_path(), sidecars)
                    }
                    // A FIFO, socket or device: reported, never opened (a FIFO would block).
                    Ok(e) if !e.file_type().is_dir() && (follow || !e.file_type().is_symlink()) => {
                        let shown = e.path().to_string_lossy().into_owned();
                        Job::Failed(Box::new(FileReport::skipped(
                            shown,
                            special_kind(&e.file_type()),
                        )))
                    }
                    Ok(e) => {
                        let depth = e.depth();
                        // A directory (or a root the walk descends into) is about to be walked.
                        if self.opts.sidecars && (e.file_type().is_dir() || depth == 0) {
                            dirs.truncate(depth);
                            dirs.resize(depth, Sidecars::Unknown);
                            dirs.push(Sidecars::of_dir(e.path()));
                        }
                        if e.path_is_symlink() && !follow {
                            symlinks.fetch_add(1, Ordering::Relaxed);
                        }
                        continue;
                    }
                    Err(e) => {
                        let p = e.path().map_or_else(
                            || root.display().to_string(),
                            |p| p.display().to_string(),
                        );
                        Job::Failed(Box::new(FileReport::error(p, format!("cannot read: {e}"))))
                    }
                };
                batch.push(job);
                if batch.len() >= WALK_BATCH && !queue.push(&mut batch) {
                    return;
                }
            }
        }
        if !batch.is_empty() {
            queue.push(&mut batch);
        }
    }

    /// A worker: scans what it takes from `queue` and sends the reports on in batches.
    fn work(&self, queue: &JobQueue, tx: &mpsc::SyncSender<Vec<FileReport>>) {
        let _guard = WorkerGuard(queue);
        let mut buf = Vec::new();
        let mut jobs = Vec::with_capacity(TAKE_MAX);
        while queue.take(&mut jobs) {
            let mut reports = Vec::with_capacity(jobs.len());
            let mut since = Instant::now();
            for job in jobs.drain(..) {
                reports.push(match job {
                    Job::File(path, sidecars) => {
                        self.scan_path(&path, Some(true), &sidecars, &mut buf)
                    }
                    Job::Failed(r) => *r,
                });
                // Slow files: pass on what is done rather than hold it back.
                if since.elapsed() >= REPORT_DELAY {
                    if tx.send(std::mem::take(&mut reports)).is_err() {
                        return;
                    }
                    since = Instant::now();
                }
            }
            if !reports.is_empty() && tx.send(reports).is_err() {
                return;
            }
        }
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

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]
mod tests {
    use super::*;

    /// A FIFO that takes a file's place after the walk saw it is read as an empty file at once.
    /// (Were it opened blocking, the writer below would let it go after a while with bytes.)
    #[test]
    fn a_fifo_opened_for_reading_does_not_wait_for_a_writer() {
        let path = std::env::temp_dir().join(format!("greenlight-fifo-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let made = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap();
        assert!(made.success());
        let p = path.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(20));
            if let Ok(mut w) = std::fs::OpenOptions::new().write(true).open(&p) {
                let _ = std::io::Write::write_all(&mut w, b"late");
            }
        });
        let mut f = open_for_reading(&path).expect("opens");
        let mut buf = [0u8; 16];
        let n = f.read(&mut buf).expect("reads");
        let _ = std::fs::remove_file(&path);
        assert_eq!(n, 0, "read {:?}", buf.get(..n));
    }
}
