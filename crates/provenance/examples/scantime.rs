//! Where a scan's time goes, file by file: scans every regular file under the given paths
//! `ROUNDS` times (default 20) on one thread, after one warm-up scan, and prints the median
//! time per scan of each file and the total per extension, slowest first, with the bytes each
//! scan read. A profiling aid for `scripts/bench-scan.sh --corpus`:
//!
//! ```sh
//! cargo run --release -p greenlight-provenance --example scantime -- ../shared/corpus/c2pa-rs
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20)
        .max(1);
    let mut files = Vec::new();
    for root in std::env::args().skip(1) {
        for e in walkdir::WalkDir::new(root)
            .sort_by_file_name()
            .into_iter()
            .flatten()
        {
            if e.file_type().is_file() {
                files.push(e.into_path());
            }
        }
    }
    let Ok(scanner) = greenlight_provenance::Scanner::new(greenlight_provenance::ScanOptions {
        threads: 1,
        ..Default::default()
    }) else {
        eprintln!("cannot set up the scanner");
        std::process::exit(1);
    };
    let mut rows: Vec<(f64, PathBuf, u64, String)> = Vec::new();
    for f in &files {
        let warm = scanner.scan_file(f);
        let mut times = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let t = Instant::now();
            let r = scanner.scan_file(f);
            times.push(t.elapsed().as_secs_f64() * 1e6);
            std::hint::black_box(r);
        }
        times.sort_by(f64::total_cmp);
        let median = times.get(times.len() / 2).copied().unwrap_or_default();
        let verdict = warm.verdict.name().to_string();
        rows.push((median, f.clone(), warm.bytes_read, verdict));
    }
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    let total: f64 = rows.iter().map(|r| r.0).sum();
    println!(
        "{:>10} {:>6} {:>10}  {:<16} file",
        "µs/scan", "share", "bytes", "verdict"
    );
    for (t, f, bytes, verdict) in &rows {
        println!(
            "{t:10.1} {:5.1}% {bytes:10}  {verdict:<16} {}",
            100.0 * t / total,
            f.display()
        );
    }
    let mut by_ext: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    for (t, f, _, _) in &rows {
        let ext = f
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let e = by_ext.entry(ext).or_default();
        e.0 += t;
        e.1 += 1;
    }
    let mut by_ext: Vec<_> = by_ext.into_iter().collect();
    by_ext.sort_by(|a, b| b.1.0.total_cmp(&a.1.0));
    println!("\n{:>10} {:>6} {:>6}  extension", "µs", "share", "files");
    for (ext, (t, n)) in by_ext {
        println!("{t:10.1} {:5.1}% {n:6}  {ext}", 100.0 * t / total);
    }
    println!("\n{total:10.1} µs per pass over {} files", rows.len());
}
