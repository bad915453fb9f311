//! Prints the NDJSON scan result of every file under the given paths (`--verify` to validate).

fn main() {
    let mut opts = greenlight_provenance::ScanOptions::default();
    let mut paths = Vec::new();
    for a in std::env::args().skip(1) {
        if a == "--verify" {
            opts.verify = true;
        } else {
            paths.push(std::path::PathBuf::from(a));
        }
    }
    let Ok(scanner) = greenlight_provenance::Scanner::new(opts) else {
        eprintln!("cannot set up the scanner");
        std::process::exit(1);
    };
    let summary = scanner.scan_tree(&paths, |r| {
        println!("{}", serde_json::to_string(&r).unwrap_or_default());
    });
    eprintln!("{}", serde_json::to_string(&summary).unwrap_or_default());
}
