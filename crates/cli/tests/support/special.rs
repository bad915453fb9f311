//! Paths that are not regular files, for the tests that check they are never opened. Shared by
//! the command-line tests and greenlight-provenance's (which include this file by path).

use std::path::Path;

/// Makes a FIFO at `path` (with the system's `mkfifo`), and a watchdog that opens it for
/// writing after a while: a scan that wrongly opened the FIFO is then let go (and reads an
/// empty file), so the test fails instead of hanging.
pub fn fifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
    let p = path.to_path_buf();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(30));
        let _ = std::fs::OpenOptions::new().write(true).open(&p);
    });
}
