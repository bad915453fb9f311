//! The binary on a real ledger, reached as a user reaches it: `--db`, `--audit-key`, `--as`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use greenlight_store_tests::Fixture;
use serde_json::Value;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The binary, with nothing from the caller's environment choosing the
/// ledger, the key or the actor.
pub fn bare() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_greenlight"));
    command
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("GREENLIGHT_DB")
        .env_remove("GREENLIGHT_AUDIT_KEY")
        .env_remove("GREENLIGHT_USER");
    command
}

/// One ledger, reached the way a user reaches it: `--db` and `--audit-key`.
pub struct Cli<'a> {
    pub fixture: &'a Fixture,
}

/// What a run printed, and how it ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "not one JSON value ({e}):\n{}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }

    pub fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    pub fn expect(self, code: i32, what: &str) -> Run {
        assert_eq!(
            self.code, code,
            "{what}: exit {}, expected {code}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }
}

pub fn finish(output: Output) -> Run {
    Run {
        code: output.status.code().expect("exited"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

impl Cli<'_> {
    pub fn run(&self, actor: &str, args: &[&str]) -> Run {
        let output = bare()
            .arg("--db")
            .arg(&self.fixture.target)
            .arg("--audit-key")
            .arg(&self.fixture.key_path)
            .args(["--as", actor])
            .args(args)
            .output()
            .expect("greenlight runs");
        finish(output)
    }

    pub fn id_of(&self, actor: &str, args: &[&str]) -> String {
        let mut args = args.to_vec();
        args.extend(["--format", "json"]);
        let run = self.run(actor, &args).expect(0, &args.join(" "));
        run.json()["id"].as_str().unwrap().to_owned()
    }

    /// The audit log, read as `actor`.
    pub fn audit_entries(&self, actor: &str) -> Vec<Value> {
        self.run(actor, &["audit", "log", "--format", "json"])
            .expect(0, "audit log")
            .json_lines()
    }
}
