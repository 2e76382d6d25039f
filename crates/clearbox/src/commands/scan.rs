//! `clearbox scan`: match an image or an SBOM against the advisory database.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context;
use clearbox_catalog::{Catalog, catalog_image};
use clearbox_oci::Image;
use clearbox_vuln::report::{ReportFormat, ScanReport, ScanSource, ScanSourceKind};
use clearbox_vuln::{Severity, match_catalog_with_notes};

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

    let (source, catalog) = load_target(args, quiet)?;
    let outcome = match_catalog_with_notes(&database, &catalog)?;
    for note in &outcome.notes {
        // Model weights have no advisory source; saying so on every scan of an AI image is
        // information, not a problem.
        if matches!(note, clearbox_vuln::MatchNote::ModelsNotMatched { .. }) {
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
    let format = match args.format {
        ScanFormat::Table => ReportFormat::Table,
        ScanFormat::Json => ReportFormat::Json,
        ScanFormat::Sarif => ReportFormat::Sarif,
    };
    let mut bytes = Vec::new();
    format.write(&report, &mut bytes)?;
    write_output(args.output.as_deref(), &bytes)?;

    if let Some(threshold) = fail_on {
        // A finding without a known severity fails the gate too: nothing shows it is below
        // the threshold.
        let failing = outcome
            .findings
            .iter()
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

/// Reads the target as an SBOM file when it is one, else as an image reference.
fn load_target(args: &ScanArgs, quiet: bool) -> anyhow::Result<(ScanSource, Catalog)> {
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
        return Ok((source, catalog));
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
    Ok((source, contents.catalog))
}
