//! The commands that print and exit: `--completions`, `--man`, `--list-rules`, `--explain`,
//! `--show-config`.

use std::io::{self, Write};
use std::path::Path;

use clap::CommandFactory;

use super::args::Args;
use crate::rules::{Rule, RULES};
use crate::settings::{nested_configurations, Settings};
use crate::sources::releases::{today, ReleaseTable};

pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) -> io::Result<()> {
    let mut command = Args::command();
    clap_complete::generate(shell, &mut command, "unroot", out);
    Ok(())
}

pub fn man(out: &mut dyn Write) -> io::Result<()> {
    clap_mangen::Man::new(Args::command()).render(out)
}

pub fn list_rules(out: &mut dyn Write, releases: Option<&ReleaseTable>) -> io::Result<()> {
    for rule in RULES {
        let same = if rule.aliases.is_empty() {
            String::new()
        } else {
            format!("  (same as {})", rule.aliases.join(", "))
        };
        writeln!(out, "{:<16} {}{same}", rule.name, rule.summary)?;
    }
    writeln!(out)?;
    writeln!(out, "{}", release_table_note(releases))
}

pub fn explain(
    rule: &Rule,
    releases: Option<&ReleaseTable>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut text = crate::rules::docs::explanation(rule);
    if rule.reads_release_table {
        text.push_str(&format!("\n{}\n", release_table_note(releases)));
    }
    out.write_all(text.as_bytes())
}

/// Which Node.js release table is in use, and its date.
fn release_table_note(releases: Option<&ReleaseTable>) -> String {
    let (table, source) = match releases {
        Some(table) => (table, "from --node-release-table"),
        None => (ReleaseTable::builtin(), "shipped with unroot"),
    };
    let mut note = format!("Node.js release table: {} ({source})", table.date);
    if let Some(stale) = table.staleness(&today()) {
        note.push_str(&format!("; {stale}"));
    }
    note
}

/// The configuration that governs `path`; for a directory (`walked`), also the configuration
/// files below it that govern the files below them.
pub fn show_config(
    settings: &Settings,
    path: &Path,
    walked: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut text = settings.config.render();
    if walked && path.is_dir() {
        let nested = nested_configurations(path);
        if !nested.is_empty() {
            text.push_str("# these govern the files below them instead:\n");
            for file in nested {
                let file = file
                    .strip_prefix(".")
                    .unwrap_or(&file)
                    .display()
                    .to_string();
                text.push_str(&format!("#   {file}\n"));
            }
        }
    }
    out.write_all(text.as_bytes())
}
