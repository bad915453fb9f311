//! Shell completions and manual pages, used the way a post house installs them: the bash script
//! is loaded into a real bash and asked to complete, and every page is rendered by the real `man`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test, benchmark or tool: a failure panics with its message"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn greenlight(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_greenlight"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("greenlight runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// The verbs `greenlight --help` lists (without `help`).
fn verbs() -> Vec<String> {
    let help = text(&greenlight(&["--help"]).stdout);
    let commands = help
        .split("Commands:")
        .nth(1)
        .expect("--help lists commands");
    commands
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        // a verb's line starts with two spaces; wrapped help text with more
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|v| *v != "help")
        .map(str::to_string)
        .collect()
}

/// What the bash completion offers for the words typed so far (the last one being completed).
fn bash_complete(script: &Path, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let cword = words.len() - 1;
    let prev = if cword > 0 { words[cword - 1] } else { "" };
    let program = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={cword}; _greenlight greenlight '{}' '{prev}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        words[cword],
    );
    let out = Command::new("bash")
        .args(["--norc", "-c", &program])
        .output()
        .expect("bash runs");
    assert!(out.status.success(), "bash: {}", text(&out.stderr));
    text(&out.stdout).lines().map(str::to_string).collect()
}

struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!("greenlight-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn bash_completes_verbs_options_and_values() {
    let out = greenlight(&["completions", "bash"]);
    assert!(out.status.success());
    let dir = Scratch::new("completions");
    let script = dir.0.join("greenlight.bash");
    std::fs::write(&script, &out.stdout).unwrap();

    let sc = bash_complete(&script, &["greenlight", "sc"]);
    assert_eq!(
        sc,
        ["scan", "screen", "schema", "scans"]
            .map(String::from)
            .to_vec()
    );
    let options = bash_complete(&script, &["greenlight", "scan", "--ga"]);
    assert_eq!(options, ["--gate"]);
    let nested = bash_complete(&script, &["greenlight", "production", "cr"]);
    assert_eq!(nested, ["create"]);
    let values = bash_complete(&script, &["greenlight", "scan", "--format", ""]);
    assert_eq!(values, ["text", "json"]);
    // every verb --help lists is offered after `greenlight `
    let all = bash_complete(&script, &["greenlight", ""]);
    for verb in verbs() {
        assert!(all.contains(&verb), "`{verb}` is not completed: {all:?}");
    }
}

#[test]
fn zsh_fish_elvish_and_powershell_scripts_name_every_verb() {
    for (shell, opening) in [
        ("zsh", "#compdef greenlight"),
        ("fish", "# Print an optspec"),
        ("elvish", "\nuse builtin;"),
        (
            "powershell",
            "\nusing namespace System.Management.Automation",
        ),
    ] {
        let out = greenlight(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let script = text(&out.stdout);
        assert!(
            script.trim_start().starts_with(opening.trim_start()),
            "{shell} script starts with {:?}",
            &script[..script.len().min(80)]
        );
        for verb in verbs() {
            assert!(script.contains(&verb), "{shell} script misses `{verb}`");
        }
    }
    let out = greenlight(&["completions", "tcsh"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
    assert!(text(&out.stderr).contains("tcsh"));
}

/// Renders a page with man-db, returning (text, warnings).
fn render(page: &Path) -> (String, String) {
    let out = Command::new("man")
        .args(["--warnings=w", "-l"])
        .arg(page)
        .env("MANWIDTH", "100")
        .output()
        .expect("man (man-db) is installed: apt-get install man-db");
    assert!(out.status.success(), "man -l {}", page.display());
    (text(&out.stdout), text(&out.stderr))
}

#[test]
fn man_pages_cover_every_verb_and_render_without_warnings() {
    let dir = Scratch::new("man");
    let out_dir = dir.0.join("man1");
    let out = greenlight(&["man", "--out", out_dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut printed: Vec<String> = text(&out.stdout).lines().map(str::to_string).collect();
    let mut on_disk: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    printed.sort();
    on_disk.sort();
    assert_eq!(printed, on_disk, "every page written is named, once");

    let page = |name: &str| out_dir.join(format!("{name}.1"));
    for verb in verbs() {
        assert!(
            page(&format!("greenlight-{verb}")).exists(),
            "no page for `{verb}`"
        );
    }
    for nested in [
        "greenlight-production-create",
        "greenlight-audit-verify",
        "greenlight-scans-show",
    ] {
        assert!(page(nested).exists(), "no page for `{nested}`");
    }
    for path in &on_disk {
        let (_, warnings) = render(Path::new(path));
        assert!(warnings.is_empty(), "{path}: {warnings}");
    }
    let (scan, _) = render(&page("greenlight-scan"));
    assert!(
        scan.contains("greenlight-scan - Scan files and trees"),
        "{scan}"
    );
    assert!(scan.contains("--gate"), "{scan}");
    assert!(
        scan.contains("GREENLIGHT_DB"),
        "the ledger's environment variable is shown"
    );

    let (top, _) = render(&page("greenlight"));
    for section in [
        "EXIT STATUS",
        "ENVIRONMENT",
        "FILES",
        "GREENLIGHT_AUDIT_KEY",
        "ledger.sqlite3",
    ] {
        assert!(top.contains(section), "greenlight(1) lacks {section}");
    }

    // without --out, the top page goes to stdout, and is the same page
    let stdout = greenlight(&["man"]);
    assert!(stdout.status.success());
    assert_eq!(stdout.stdout, std::fs::read(page("greenlight")).unwrap());
}
