//! `clearbox scan`: match an image or an SBOM against the advisory database.

mod input;

use clearbox_catalog::escape_unprintable;
use clearbox_vuln::report::vex::VexDocument;
use clearbox_vuln::report::{ReportFormat, ScanReport};
use clearbox_vuln::vex::{Suppressed, VexSet};
use clearbox_vuln::{DatabaseStatus, Severity, match_catalog_with_notes};

use crate::Outcome;
use crate::cli::{ScanArgs, ScanFormat};
use crate::commands::db::open_existing;
use crate::output::{notice, write_output};

pub(crate) fn run(args: &ScanArgs, quiet: bool) -> anyhow::Result<Outcome> {
    let fail_on: Option<Severity> = args
        .fail_on
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let database = open_existing(args.db.as_deref())?;
    let status = database.status()?;
    if status.advisories == 0 {
        anyhow::bail!(
            "the advisory database `{}` holds no advisories; load some with `clearbox db import`",
            status
                .path
                .as_ref()
                .map_or_else(String::new, |p| p.display().to_string())
        );
    }

    let stale = check_age(&status, args);
    let vex = load_vex(&args.vex)?;

    let target = input::load_target(args, quiet)?;
    let source = &target.source;
    if let (Some(sbom), Some(digest)) = (&target.sbom, &source.digest) {
        crate::commands::audit::keep_sbom(digest, &source.name, sbom);
    }
    let mut outcome = match_catalog_with_notes(&database, &target.catalog)?;
    vex.apply(&mut outcome, source.digest.as_deref());
    for suppressed in &outcome.suppressed {
        let statement = &suppressed.statement;
        tracing::info!(
            advisory = %escape_unprintable(&suppressed.finding.advisory.id),
            package = %escape_unprintable(&suppressed.finding.package.purl),
            "suppressed by `{}` {} ({})",
            escape_unprintable(&statement.document),
            statement.location(),
            statement.describe()
        );
    }
    for note in &outcome.notes {
        // Model weights and unowned executables have no advisory source; saying so on every
        // scan is information, not a problem.
        if matches!(
            note,
            clearbox_vuln::MatchNote::ModelsNotMatched { .. }
                | clearbox_vuln::MatchNote::FilesNotMatched { .. }
        ) {
            tracing::info!("{}", escape_unprintable(&note.to_string()));
        } else {
            tracing::warn!("{}", escape_unprintable(&note.to_string()));
        }
    }

    let report = ScanReport {
        source,
        database: &status,
        outcome: &outcome,
    };
    // An image dates its VEX document with its creation time, so one image gives one document.
    // An SBOM has no such time: SOURCE_DATE_EPOCH or else the current time dates it.
    let timestamp = clearbox_evidence::document_time(target.created.as_deref());
    let document = VexDocument {
        timestamp: &timestamp,
        product: target.subject.as_deref(),
    };
    let mut bytes = Vec::new();
    match args.format {
        ScanFormat::Table => ReportFormat::Table.write(&report, &mut bytes)?,
        ScanFormat::Json => ReportFormat::Json.write(&report, &mut bytes)?,
        ScanFormat::Sarif => ReportFormat::Sarif.write(&report, &mut bytes)?,
        ScanFormat::Openvex => {
            clearbox_vuln::report::vex::write_openvex(&report, &document, &mut bytes)?;
        }
        ScanFormat::CyclonedxVex => {
            clearbox_vuln::report::vex::write_cyclonedx_vex(&report, &document, &mut bytes)?;
        }
    }
    write_output(args.output.as_deref(), &bytes)?;
    report_suppressed(&outcome.suppressed);
    if stale && args.fail_on_stale {
        return Ok(Outcome::GateFailed);
    }

    if let Some(threshold) = fail_on {
        // A finding without a known severity fails the gate too: nothing shows it is below
        // the threshold.
        let failing = outcome
            .findings
            .iter()
            .filter(|f| f.status.is_vulnerable())
            .filter(|f| {
                f.advisory.severity >= threshold || f.advisory.severity == Severity::Unknown
            })
            .count();
        if failing > 0 {
            notice(&format!(
                "gate failed: {failing} findings at or above {} severity or of unknown severity \
                 (--fail-on)",
                args.fail_on.as_deref().unwrap_or_default()
            ));
            return Ok(Outcome::GateFailed);
        }
    }
    Ok(Outcome::Success)
}

/// Reports on stderr when the database is older than `--max-db-age` or its age is unknown, and
/// when records dated in the future were left out of its age. Returns whether it is stale.
fn check_age(status: &DatabaseStatus, args: &ScanArgs) -> bool {
    if let Some(future) = &status.future_dated {
        crate::output::status(&format!(
            "warning: {} modified after {}, more than a day after the current time (the latest \
             is `{}` at {}); the database age leaves them out",
            crate::commands::db::advisories(future.advisories),
            future.after,
            future.latest_id,
            future.latest_modified
        ));
    }
    let problem = match status.age(std::time::SystemTime::now()) {
        Some(age) if age <= args.max_db_age => return false,
        Some(age) => format!(
            "the newest advisory in the database was modified {} days ago ({}), more than \
             --max-db-age allows",
            age.as_secs() / 86_400,
            status.newest_modified.as_deref().unwrap_or_default()
        ),
        None => "no advisory in the database has a `modified` time up to a day from now, so \
                 the database age is unknown"
            .to_owned(),
    };
    let fix = "import current feeds with `clearbox db import`";
    // With --fail-on-stale this is why the scan fails, so --quiet does not hide it.
    if args.fail_on_stale {
        notice(&format!("error: {problem}; {fix}"));
    } else {
        crate::output::status(&format!("warning: {problem}; {fix}"));
    }
    true
}

/// Lists on stderr the findings that VEX statements suppressed, with the statement of each.
fn report_suppressed(suppressed: &[Suppressed]) {
    if suppressed.is_empty() {
        return;
    }
    let count = suppressed.len();
    let findings = if count == 1 { "finding" } else { "findings" };
    crate::output::status(&format!("{count} {findings} suppressed by VEX statements:"));
    for entry in suppressed {
        let statement = &entry.statement;
        crate::output::status(&format!(
            "  `{}` in `{}`: {} (`{}` {})",
            entry.finding.advisory.id,
            entry.finding.package.purl,
            statement.describe(),
            statement.document,
            statement.location(),
        ));
    }
}

/// Reads every `--vex` document.
fn load_vex(paths: &[std::path::PathBuf]) -> anyhow::Result<VexSet> {
    let mut vex = VexSet::new();
    for path in paths {
        let added = vex.load(path)?;
        tracing::info!(document = %path.display(), statements = added, "read VEX document");
    }
    Ok(vex)
}
