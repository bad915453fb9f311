//! `greenlight completions SHELL` and `greenlight man`: shell completion scripts (clap_complete)
//! and manual pages (clap_mangen), both generated from the same clap definitions as `--help`, so
//! they cannot drift from the command line.

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use clap::CommandFactory as _;
use clap_complete::Shell;
use roff::{Roff, bold, roman};

use crate::exit::Exit;

/// Prints the completion script for `shell` on stdout.
pub fn completions(shell: Shell) -> anyhow::Result<Exit> {
    let mut cmd = crate::Cli::command();
    // clap_complete panics when its writer fails, so the script is built in memory and a
    // closed pipe is then an ordinary error (which exits 0, as everywhere).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "greenlight", &mut script);
    let mut out = std::io::stdout().lock();
    out.write_all(&script)?;
    out.flush()?;
    Ok(Exit::Notify)
}

/// Prints the `greenlight(1)` page on stdout, or with `out` writes it and one page per verb
/// (`greenlight-scan.1`, `greenlight-production-create.1`, …) into that directory.
pub fn man(out: Option<&Path>) -> anyhow::Result<Exit> {
    let cmd = crate::Cli::command().disable_help_subcommand(true);
    let Some(dir) = out else {
        let mut stdout = std::io::stdout().lock();
        render_top(cmd, &mut stdout)?;
        stdout.flush()?;
        return Ok(Exit::Notify);
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let mut cmd = cmd;
    cmd.build();
    let mut written = Vec::new();
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub.clone(), dir, &mut written)?;
    }
    let top = dir.join("greenlight.1");
    let mut file =
        std::fs::File::create(&top).with_context(|| format!("cannot write `{}`", top.display()))?;
    render_top(cmd, &mut file)?;
    file.flush()?;
    written.push(top);
    let mut stdout = std::io::stdout().lock();
    for path in &written {
        writeln!(stdout, "{}", path.display())?;
    }
    Ok(Exit::Notify)
}

/// One page for `cmd` and, recursively, for each of its verbs.
fn write_pages(
    cmd: clap::Command,
    dir: &Path,
    written: &mut Vec<std::path::PathBuf>,
) -> anyhow::Result<()> {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub.clone(), dir, written)?;
    }
    let path = clap_mangen::Man::new(cmd)
        .generate_to(dir)
        .with_context(|| format!("cannot write a manual page into `{}`", dir.display()))?;
    written.push(path);
    Ok(())
}

/// The top page: clap's sections, plus exit status, environment and files.
fn render_top(cmd: clap::Command, w: &mut dyn Write) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(cmd);
    man.render_title(w)?;
    man.render_name_section(w)?;
    man.render_synopsis_section(w)?;
    man.render_description_section(w)?;
    man.render_options_section(w)?;
    man.render_subcommands_section(w)?;
    extra_sections().to_writer(w)?;
    man.render_version_section(w)
}

fn extra_sections() -> Roff {
    let mut r = Roff::new();
    r.control("SH", ["EXIT STATUS"]);
    for (code, meaning) in [
        (
            "0",
            "success; for assess and declare, the strictest decision was notify; for scan, the scan ran, whatever it found",
        ),
        (
            "1",
            "a file, path or record could not be read, checked or assessed, or the ledger refused the change",
        ),
        ("2", "usage error"),
        ("3", "the strictest decision was escalate"),
        (
            "4",
            "the strictest decision was blocked; for scan --gate, an AI-flagged file is not covered by an approval in force",
        ),
    ] {
        r.control("TP", [] as [&str; 0])
            .text([bold(code)])
            .text([roman(meaning)]);
    }
    r.control("SH", ["ENVIRONMENT"]);
    for (var, meaning) in [
        (
            "GREENLIGHT_DB",
            "the ledger, as --db: a SQLite file or a postgres:// URL",
        ),
        (
            "GREENLIGHT_AUDIT_KEY",
            "the file holding the key that signs the audit log, as --audit-key",
        ),
        (
            "GREENLIGHT_USER",
            "who is acting, as --as; default: the operating system's user name",
        ),
        ("XDG_DATA_HOME", "where the default ledger lives"),
        ("NO_COLOR", "when set, output is never coloured"),
    ] {
        r.control("TP", [] as [&str; 0])
            .text([bold(var)])
            .text([roman(meaning)]);
    }
    r.control("SH", ["FILES"]);
    r.control("TP", [] as [&str; 0])
        .text([bold("$XDG_DATA_HOME/greenlight/ledger.sqlite3")])
        .text([roman(
            "the default ledger (else ~/.local/share/greenlight/ledger.sqlite3), created on first use",
        )]);
    r.control("TP", [] as [&str; 0])
        .text([bold("$XDG_DATA_HOME/greenlight/audit.key")])
        .text([roman(
            "the default audit key, beside the default ledger; never stored in the database",
        )]);
    r.control("SH", ["SEE ALSO"]);
    r.text([roman(
        "greenlight-assess(1), greenlight-scan(1), greenlight-declare(1), greenlight-audit(1), and a page for every other verb: greenlight man --out DIR",
    )]);
    r
}
