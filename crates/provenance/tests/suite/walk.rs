//! Tree walking: every regular file reported once, symlinks skipped unless asked, unreadable
//! entries reported without stopping the walk, and the JSON shape of a report.

use super::special::fifo;
use greenlight_provenance::{ScanOptions, Scanner, Verdict};
use std::path::{Path, PathBuf};

pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p =
            std::env::temp_dir().join(format!("greenlight-prov-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn walks_a_tree_in_parallel_and_skips_symlinks() {
    let dir = TempDir::new("walk");
    let sub = dir.path().join("VFX/ep103");
    std::fs::create_dir_all(&sub).unwrap();
    for i in 0..50 {
        std::fs::write(
            sub.join(format!("f{i}.png")),
            super::fixtures::png(&[], &[]),
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("notes.txt"), "hello").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&sub, dir.path().join("link")).unwrap();
    let s = Scanner::new(ScanOptions {
        threads: 4,
        ..ScanOptions::default()
    })
    .unwrap();
    let mut seen = Vec::new();
    let summary = s.scan_tree(&[dir.path().to_path_buf()], |r| seen.push(r));
    assert_eq!(summary.files, 51);
    assert_eq!(summary.no_ai_evidence, 50);
    assert_eq!(summary.unsupported, 1);
    #[cfg(unix)]
    assert_eq!(summary.symlinks_skipped, 1);

    #[cfg(unix)]
    {
        let s = Scanner::new(ScanOptions {
            follow_symlinks: true,
            ..ScanOptions::default()
        })
        .unwrap();
        let summary = s.scan_tree(&[dir.path().to_path_buf()], |_| {});
        assert_eq!(summary.files, 101);
    }
}

#[test]
fn missing_path_is_reported_and_the_scan_goes_on() {
    let dir = TempDir::new("missing");
    std::fs::write(dir.path().join("a.png"), super::fixtures::png(&[], &[])).unwrap();
    let s = Scanner::new(ScanOptions::default()).unwrap();
    let mut reports = Vec::new();
    let summary = s.scan_tree(&[dir.path().join("nope"), dir.path().to_path_buf()], |r| {
        reports.push(r)
    });
    assert_eq!(summary.error, 1);
    assert_eq!(summary.no_ai_evidence, 1);
    let err = reports
        .iter()
        .find(|r| r.verdict == Verdict::Error)
        .unwrap();
    assert!(
        err.error
            .as_deref()
            .unwrap_or_default()
            .contains("cannot read")
    );
}

#[test]
fn report_json_has_the_contract_fields() {
    let r = super::fixtures::scan(
        "x.png",
        &super::fixtures::png(&[(b"tEXt", b"fooocus_scheme\0fooocus".to_vec())], &[]),
    );
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["path"], "x.png");
    assert_eq!(v["format"], "png");
    assert_eq!(v["verdict"], "ai_generated");
    let e = &v["evidence"][0];
    for k in ["kind", "detail", "source", "strength"] {
        assert!(e.get(k).is_some(), "evidence lacks `{k}`: {e}");
    }
    assert_eq!(e["kind"], "generator_metadata");
    for k in ["present", "integrity", "trust"] {
        assert!(v["c2pa"].get(k).is_some(), "c2pa lacks `{k}`");
    }
    assert_eq!(v["c2pa"]["present"], false);
    assert_eq!(v["c2pa"]["integrity"], "none");
}

#[test]
fn per_file_byte_cap_stops_a_reader_and_says_so() {
    // generator text after 1 MiB of image data: the data is skipped, the 4 KiB text is too much
    let big = vec![0u8; 1 << 20];
    let text = format!("parameters\0{}Steps: 20, Sampler: Euler", "x".repeat(4096));
    let png = super::fixtures::png(&[(b"IDAT", big)], &[(b"tEXt", text.into_bytes())]);
    let s = Scanner::new(ScanOptions {
        max_bytes_per_file: 1024,
        ..ScanOptions::default()
    })
    .unwrap();
    let r = s.scan_bytes("capped.png", &png);
    assert_eq!(r.verdict, Verdict::Error);
    assert!(
        r.error
            .as_deref()
            .unwrap_or_default()
            .contains("read limit"),
        "{:?}",
        r.error
    );
    assert!(r.bytes_read <= 1024);
    let r = super::fixtures::scan("uncapped.png", &png);
    assert_eq!(r.verdict, Verdict::AiGenerated);
}

#[test]
fn files_are_never_modified() {
    let dir = TempDir::new("readonly");
    let p = dir.path().join("a.png");
    let bytes = super::fixtures::png(&[(b"tEXt", b"fooocus_scheme\0fooocus".to_vec())], &[]);
    std::fs::write(&p, &bytes).unwrap();
    let before = std::fs::metadata(&p).unwrap().modified().unwrap();
    let s = Scanner::new(ScanOptions {
        verify: true,
        ..ScanOptions::default()
    })
    .unwrap();
    let _ = s.scan_file(&p);
    assert_eq!(std::fs::read(&p).unwrap(), bytes);
    assert_eq!(std::fs::metadata(&p).unwrap().modified().unwrap(), before);
}

#[test]
fn text_form_names_verdict_format_and_evidence() {
    let r = super::fixtures::scan(
        "x.png",
        &super::fixtures::png(&[(b"tEXt", b"fooocus_scheme\0fooocus".to_vec())], &[]),
    );
    let t = r.to_string();
    assert!(t.starts_with("x.png: ai_generated (png)"), "{t}");
    assert!(t.contains("Fooocus"), "{t}");
}

#[cfg(unix)]
#[test]
fn a_path_that_is_not_utf8_is_shown_as_display_shows_it() {
    use std::os::unix::ffi::OsStrExt;
    let dir = TempDir::new("lossy");
    let p = dir
        .path()
        .join(std::ffi::OsStr::from_bytes(b"plate\xff\xfe-01.png"));
    std::fs::write(&p, super::fixtures::png(&[], &[])).unwrap();
    let s = Scanner::new(ScanOptions::default()).unwrap();
    assert_eq!(s.scan_file(&p).path, p.display().to_string());
    let mut paths = Vec::new();
    s.scan_tree(&[dir.path().to_path_buf()], |r| paths.push(r.path));
    assert_eq!(paths, vec![p.display().to_string()]);
}

#[test]
fn fifos_sockets_and_devices_are_skipped_with_their_kind_never_opened() {
    let dir = TempDir::new("special");
    std::fs::write(dir.path().join("a.png"), super::fixtures::png(&[], &[])).unwrap();
    let pipe = dir.path().join("pipe");
    fifo(&pipe);
    // a FIFO where a sidecar would be is not opened either
    fifo(&dir.path().join("a.c2pa"));
    let _socket = std::os::unix::net::UnixListener::bind(dir.path().join("sock")).unwrap();
    let scanner = Scanner::new(ScanOptions::default()).unwrap();
    let mut reports = Vec::new();
    let summary = scanner.scan_tree(&[dir.path().to_path_buf()], |r| reports.push(r));
    reports.sort_by(|a, b| a.path.cmp(&b.path));
    let verdicts: Vec<_> = reports.iter().map(|r| r.verdict).collect();
    assert_eq!(
        verdicts,
        [
            Verdict::Skipped,
            Verdict::NoAiEvidence,
            Verdict::Skipped,
            Verdict::Skipped
        ],
        "{reports:?}"
    );
    assert_eq!((summary.files, summary.skipped), (4, 3), "{summary:?}");
    assert!(reports[1].path.ends_with("a.png"), "{reports:?}");
    assert!(
        reports[1].evidence.is_empty() && !reports[1].c2pa.present,
        "{:?}",
        reports[1]
    );
    for (r, kind) in [&reports[0], &reports[2], &reports[3]]
        .into_iter()
        .zip(["FIFO", "FIFO", "socket"])
    {
        assert_eq!(
            r.notes,
            [format!("not a regular file: {kind}, not opened")],
            "{r:?}"
        );
        assert_eq!(
            (r.format, r.bytes_read, r.error.as_deref()),
            (None, 0, None)
        );
        let json = serde_json::to_value(r).unwrap();
        assert_eq!(json["verdict"], "skipped");
    }

    // given by itself: as a root of a walk, and to scan_file
    let mut roots = Vec::new();
    let summary = scanner.scan_tree(std::slice::from_ref(&pipe), |r| roots.push(r));
    assert_eq!((summary.files, summary.skipped), (1, 1), "{roots:?}");
    assert_eq!(roots[0].path, pipe.to_string_lossy());
    let r = scanner.scan_file(&pipe);
    assert_eq!(r.verdict, Verdict::Skipped, "{r:?}");
    let r = scanner.scan_file(Path::new("/dev/null"));
    assert_eq!(r.verdict, Verdict::Skipped, "{r:?}");
    assert_eq!(
        r.notes,
        ["not a regular file: character device, not opened"]
    );
    assert!(
        r.to_string()
            .contains("not a regular file: character device"),
        "{r}"
    );
}
