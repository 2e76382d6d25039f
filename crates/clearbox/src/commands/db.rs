//! `clearbox db import` and `clearbox db status`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clearbox_vuln::{Database, DatabaseStatus, ImportReport, default_db_path};

use crate::Outcome;
use crate::cli::DbCommand;
use crate::output::notice;

pub(crate) fn run(command: &DbCommand) -> anyhow::Result<Outcome> {
    match command {
        DbCommand::Import { sources, db } => import(sources, db.as_deref()),
        DbCommand::Status { db, json } => status(db.as_deref(), *json),
    }
}

/// The database path from `--db`, else the default location.
pub(crate) fn db_path(db: Option<&Path>) -> anyhow::Result<PathBuf> {
    match db {
        Some(path) => Ok(path.to_owned()),
        None => default_db_path()
            .context("no advisory database location: set HOME or XDG_DATA_HOME, or pass --db"),
    }
}

/// Opens an existing database, refusing to create an empty one where a scan expects data. Every
/// error names the path once: the database's errors carry it.
pub(crate) fn open_existing(db: Option<&Path>) -> anyhow::Result<Database> {
    let path = db_path(db)?;
    if !path.exists() {
        anyhow::bail!(
            "no advisory database at `{}`; load advisories first with `clearbox db import SOURCE... --db {}`",
            path.display(),
            path.display()
        );
    }
    Ok(Database::open(&path)?)
}

fn import(sources: &[PathBuf], db: Option<&Path>) -> anyhow::Result<Outcome> {
    let path = db_path(db)?;
    let mut database = Database::open(&path)?;
    let mut rejected_total = 0usize;
    let mut all_rejected = Vec::new();
    for source in sources {
        let report = database
            .import(source)
            .with_context(|| format!("failed to import `{}`", source.display()))?;
        let accepted =
            report.inserted + report.replaced + report.unchanged + report.older + report.withdrawn;
        if accepted == 0 && !report.rejected.is_empty() {
            all_rejected.push(report.source.clone());
        } else {
            for problem in &report.rejected {
                crate::output::status(&format!("warning: rejected {problem}"));
            }
        }
        rejected_total += report.rejected.len();
        crate::output::status(&format!(
            "imported {}: {} records, {} new, {} replaced, {} unchanged, {} older kept, {} withdrawn skipped, {} rejected",
            report.source.display(),
            report.records,
            report.inserted,
            report.replaced,
            report.unchanged,
            report.older,
            report.withdrawn,
            report.rejected.len()
        ));
        if all_rejected.last() == Some(&report.source) {
            report_all_rejected(&report);
        }
    }
    let status = database.status()?;
    crate::output::status(&format!(
        "database {}: {} advisories{}",
        path.display(),
        status.advisories,
        if rejected_total > 0 {
            format!("; {rejected_total} records rejected (see above)")
        } else {
            String::new()
        }
    ));
    if !all_rejected.is_empty() {
        return Ok(Outcome::GateFailed);
    }
    Ok(Outcome::Success)
}

/// Maximum number of reasons shown when every record of a source was rejected.
const SHOWN_REJECTIONS: usize = 5;

/// Prints, even with `--quiet`, that a source had no usable record: the count and the first
/// few reasons. Such a source is most likely not an advisory feed, or one in another format.
fn report_all_rejected(report: &ImportReport) {
    notice(&format!(
        "error: all {} records of `{}` were rejected, so nothing was imported from it; check \
         that it is an OSV, Alpine secdb or Red Hat CSAF VEX feed. The first reasons:",
        report.rejected.len(),
        report.source.display()
    ));
    for problem in report.rejected.iter().take(SHOWN_REJECTIONS) {
        notice(&format!("  {problem}"));
    }
    if report.rejected.len() > SHOWN_REJECTIONS {
        notice(&format!(
            "  and {} more",
            report.rejected.len() - SHOWN_REJECTIONS
        ));
    }
}

fn status(db: Option<&Path>, json: bool) -> anyhow::Result<Outcome> {
    let database = open_existing(db)?;
    let status = database.status()?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &status).context("failed to write to stdout")?;
        writeln!(out).context("failed to write to stdout")?;
    } else {
        write_status_table(&status, &mut out).context("failed to write to stdout")?;
    }
    Ok(Outcome::Success)
}

fn write_status_table(status: &DatabaseStatus, out: &mut dyn Write) -> std::io::Result<()> {
    if let Some(path) = &status.path {
        writeln!(out, "database:        {}", path.display())?;
    }
    writeln!(out, "advisories:      {}", status.advisories)?;
    writeln!(
        out,
        "newest modified: {} ({})",
        status.newest_modified.as_deref().unwrap_or("-"),
        status
            .newest_modified
            .as_deref()
            .map_or_else(|| "-".to_owned(), age_in_days)
    )?;
    if let Some(future) = &status.future_dated {
        writeln!(
            out,
            "future-dated:    {} modified after {}, left out of the newest modified time and \
             the age (latest: `{}` at {})",
            advisories(future.advisories),
            future.after,
            future.latest_id,
            future.latest_modified
        )?;
    }
    writeln!(
        out,
        "last import:     {}",
        status.last_import.as_deref().unwrap_or("-")
    )?;
    writeln!(out)?;
    let width = status
        .ecosystems
        .iter()
        .map(|e| e.ecosystem.len())
        .max()
        .unwrap_or(9)
        .max(9);
    writeln!(out, "{:<width$}  ADVISORIES", "ECOSYSTEM")?;
    for e in &status.ecosystems {
        writeln!(out, "{:<width$}  {}", e.ecosystem, e.advisories)?;
    }
    if !status.feeds.is_empty() {
        writeln!(out)?;
        writeln!(out, "SOURCES")?;
        for feed in &status.feeds {
            let age = feed
                .newest_modified
                .as_deref()
                .map_or_else(|| "-".to_owned(), age_in_days);
            writeln!(
                out,
                "{} ({}, {} advisories stored, newest modified {} ({age}), {} records read, {} \
                 rejected, imported {})",
                feed.source,
                feed.kind,
                feed.advisories,
                feed.newest_modified.as_deref().unwrap_or("-"),
                feed.records,
                feed.rejected,
                feed.imported_at
            )?;
        }
    }
    Ok(())
}

/// Writes how long ago an RFC 3339 time was, in whole days: `412 days old`.
fn age_in_days(time: &str) -> String {
    match clearbox_vuln::age_of(time, std::time::SystemTime::now()) {
        Some(age) => format!("{} days old", age.as_secs() / 86_400),
        None => "age unknown".to_owned(),
    }
}

/// Writes a count of advisories: `1 advisory`, `2 advisories`.
pub(crate) fn advisories(count: u64) -> String {
    if count == 1 {
        "1 advisory".to_owned()
    } else {
        format!("{count} advisories")
    }
}
