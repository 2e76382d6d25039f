//! `clearbox db import` and `clearbox db status`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clearbox_vuln::{Database, DatabaseStatus, default_db_path};

use crate::Outcome;
use crate::cli::DbCommand;

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

/// Opens an existing database, refusing to create an empty one where a scan expects data.
pub(crate) fn open_existing(db: Option<&Path>) -> anyhow::Result<Database> {
    let path = db_path(db)?;
    if !path.exists() {
        anyhow::bail!(
            "no advisory database at `{}`; load advisories first with `clearbox db import SOURCE... --db {}`",
            path.display(),
            path.display()
        );
    }
    Database::open(&path).with_context(|| format!("failed to open `{}`", path.display()))
}

fn import(sources: &[PathBuf], db: Option<&Path>) -> anyhow::Result<Outcome> {
    let path = db_path(db)?;
    let mut database =
        Database::open(&path).with_context(|| format!("failed to open `{}`", path.display()))?;
    let mut err = std::io::stderr().lock();
    let mut rejected_total = 0usize;
    for source in sources {
        let report = database
            .import(source)
            .with_context(|| format!("failed to import `{}`", source.display()))?;
        for problem in &report.rejected {
            let _ = writeln!(err, "warning: rejected {problem}");
        }
        rejected_total += report.rejected.len();
        let _ = writeln!(
            err,
            "imported {}: {} records, {} new, {} replaced, {} unchanged, {} older kept, {} withdrawn skipped, {} rejected",
            report.source.display(),
            report.records,
            report.inserted,
            report.replaced,
            report.unchanged,
            report.older,
            report.withdrawn,
            report.rejected.len()
        );
    }
    let status = database.status()?;
    let _ = writeln!(
        err,
        "database {}: {} advisories{}",
        path.display(),
        status.advisories,
        if rejected_total > 0 {
            format!("; {rejected_total} records rejected, listed above")
        } else {
            String::new()
        }
    );
    Ok(Outcome::Success)
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
