//! The scan benchmark's floor: walk a tree and, for every regular file, open it and read its
//! first 64 KiB, on one thread per core (as `greenlight scan` uses). Prints the file count and
//! the bytes read. Built with plain `rustc -O`; standard library only.

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

fn main() {
    let roots: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let dirs = Mutex::new(roots);
    let pending = AtomicU64::new(0);
    let (files, bytes) = (AtomicU64::new(0), AtomicU64::new(0));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut buf = vec![0u8; 64 << 10];
                loop {
                    // Taking a directory and counting it as pending happen under one lock, so
                    // "nothing queued and nothing pending" means the walk is over.
                    let next = match dirs.lock() {
                        Ok(mut d) => match d.pop() {
                            Some(dir) => {
                                pending.fetch_add(1, Ordering::AcqRel);
                                Some(dir)
                            }
                            None if pending.load(Ordering::Acquire) == 0 => return,
                            None => None,
                        },
                        Err(_) => return,
                    };
                    let Some(dir) = next else {
                        std::thread::yield_now();
                        continue;
                    };
                    if let Ok(meta) = std::fs::symlink_metadata(&dir) {
                        if meta.is_file() {
                            read_head(&dir, &mut buf, &files, &bytes);
                        } else if meta.is_dir() {
                            for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                                match e.file_type() {
                                    Ok(t) if t.is_dir() => {
                                        if let Ok(mut d) = dirs.lock() {
                                            d.push(e.path());
                                        }
                                    }
                                    Ok(t) if t.is_file() => {
                                        read_head(&e.path(), &mut buf, &files, &bytes)
                                    }
                                    _ => {}
                                }
                            }
                        }
                    }
                    pending.fetch_sub(1, Ordering::AcqRel);
                }
            });
        }
    });
    println!(
        "{} files, {} bytes read",
        files.into_inner(),
        bytes.into_inner()
    );
}

fn read_head(path: &std::path::Path, buf: &mut [u8], files: &AtomicU64, bytes: &AtomicU64) {
    let Ok(mut f) = File::open(path) else { return };
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    files.fetch_add(1, Ordering::Relaxed);
    bytes.fetch_add(n as u64, Ordering::Relaxed);
}
