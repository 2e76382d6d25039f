//! `clearbox scan`: match an image or an SBOM against the advisory database.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context;
use clearbox_catalog::{Catalog, catalog_image};
use clearbox_oci::Image;
use clearbox_vuln::report::{ReportFormat, ScanReport, ScanSource, ScanSourceKind};
use clearbox_vuln::vex::VexSet;
use clearbox_vuln::{DatabaseStatus, Severity, match_catalog_with_notes};

use crate::Outcome;
use crate::cli::{ScanArgs, ScanFormat};
use crate::commands::db::open_existing;
use crate::commands::{parse_reference, read_options, with_image};
use crate::output::write_output;
use crate::progress::LayerBars;

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

    let (source, catalog, created) = load_target(args, quiet)?;
    let mut outcome = match_catalog_with_notes(&database, &catalog)?;
    vex.apply(&mut outcome, source.digest.as_deref());
    for suppressed in &outcome.suppressed {
        let statement = &suppressed.statement;
        tracing::info!(
            advisory = %suppressed.finding.advisory.id,
            package = %suppressed.finding.package.purl,
            "suppressed by `{}` statement {} ({:?})",
            statement.document,
            statement.index,
            statement.status
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
            tracing::info!("{note}");
        } else {
            tracing::warn!("{note}");
        }
    }

    let report = ScanReport {
        source: &source,
        database: &status,
        outcome: &outcome,
    };
    // VEX documents take their time from the image, so one image gives one document.
    let timestamp = created.unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned());
    let mut bytes = Vec::new();
    match args.format {
        ScanFormat::Table => ReportFormat::Table.write(&report, &mut bytes)?,
        ScanFormat::Json => ReportFormat::Json.write(&report, &mut bytes)?,
        ScanFormat::Sarif => ReportFormat::Sarif.write(&report, &mut bytes)?,
        ScanFormat::Openvex => {
            clearbox_vuln::report::vex::write_openvex(&report, &timestamp, &mut bytes)?;
        }
        ScanFormat::CyclonedxVex => {
            clearbox_vuln::report::vex::write_cyclonedx_vex(&report, &timestamp, &mut bytes)?;
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
            let _ = writeln!(
                std::io::stderr(),
                "gate failed: {failing} findings at or above {} severity or of unknown severity \
                 (--fail-on)",
                args.fail_on.as_deref().unwrap_or_default()
            );
            return Ok(Outcome::GateFailed);
        }
    }
    Ok(Outcome::Success)
}

/// Warns on stderr when the newest advisory is older than `--max-db-age`; returns whether it
/// is.
fn check_age(status: &DatabaseStatus, args: &ScanArgs) -> bool {
    let Some(age) = status.age(std::time::SystemTime::now()) else {
        return false;
    };
    if age <= args.max_db_age {
        return false;
    }
    let days = age.as_secs() / 86_400;
    let _ = writeln!(
        std::io::stderr(),
        "warning: the newest advisory in the database was modified {days} days ago ({}), more \
         than --max-db-age allows; import current feeds with `clearbox db import`",
        status.newest_modified.as_deref().unwrap_or_default()
    );
    true
}

/// Lists on stderr the findings that VEX statements suppressed, with the statement of each.
fn report_suppressed(suppressed: &[clearbox_vuln::vex::Suppressed]) {
    if suppressed.is_empty() {
        return;
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "{} findings suppressed by VEX statements:",
        suppressed.len()
    );
    for entry in suppressed {
        let statement = &entry.statement;
        let justification = statement
            .justification
            .as_deref()
            .map_or_else(String::new, |j| format!(" ({j})"));
        let _ = writeln!(
            err,
            "  `{}` in `{}`: {:?} by `{}` statement {}{justification}",
            entry.finding.advisory.id,
            entry.finding.package.purl,
            statement.status,
            statement.document,
            statement.index,
        );
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

/// The scan's source, its catalog, and the image's creation time when it has one.
type Target = (ScanSource, Catalog, Option<String>);

/// Reads the target as an SBOM file when it is one, else as an image reference.
fn load_target(args: &ScanArgs, quiet: bool) -> anyhow::Result<Target> {
    let path = Path::new(&args.target);
    if path.is_file() {
        let bytes =
            std::fs::read(path).with_context(|| format!("failed to read `{}`", path.display()))?;
        let (format, catalog) = clearbox_sbom::read_sbom(&bytes)
            .with_context(|| format!("`{}` is not a readable SBOM", path.display()))?;
        tracing::info!(sbom = %path.display(), format = %format, packages = catalog.packages.len(), "read SBOM");
        // Entries that could not become packages are not scanned; say which.
        for unknown in catalog.unknowns.iter().take(20) {
            tracing::warn!(entry = %unknown.path, "not scanned: {}", unknown.reason);
        }
        if catalog.unknowns.len() > 20 {
            tracing::warn!(
                "{} more SBOM entries not scanned",
                catalog.unknowns.len() - 20
            );
        }
        let source = ScanSource {
            kind: ScanSourceKind::Sbom,
            name: args.target.clone(),
            digest: Some(clearbox_oci::Digest::of(&bytes).to_string()),
        };
        return Ok((source, catalog, None));
    }
    let reference = parse_reference(&args.target)?;
    let options = read_options(&args.read)?;
    let image = with_image(Image::open(&reference, &options), &args.target)?;
    let progress = LayerBars::for_stderr(quiet);
    let contents = with_image(
        catalog_image(&image, &options, progress.as_ref()),
        &args.target,
    )?;
    let source = ScanSource {
        kind: ScanSourceKind::Image,
        name: reference.to_string(),
        digest: image
            .manifest_digest
            .as_ref()
            .or(image.config_digest.as_ref())
            .map(ToString::to_string),
    };
    Ok((source, contents.catalog, image.config.created.clone()))
}
