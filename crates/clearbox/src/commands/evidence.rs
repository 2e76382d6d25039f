//! `clearbox evidence`: write the evidence package, or verify one.

use std::io::Write;

use anyhow::Context;
use clearbox_catalog::escape_unprintable;
use clearbox_evidence::{EvidenceOptions, verify_package, write_evidence};

use crate::Outcome;
use crate::cli::{EvidenceArgs, EvidenceCommand};
use crate::commands::{parse_reference, read_options};
use crate::output::status;
use crate::progress::LayerBars;

pub(crate) fn run(args: &EvidenceArgs, quiet: bool) -> anyhow::Result<Outcome> {
    if let Some(EvidenceCommand::Verify { dir }) = &args.command {
        return verify(dir);
    }
    // clap requires both when no subcommand is given.
    let (Some(image), Some(output)) = (&args.image, &args.output) else {
        anyhow::bail!("evidence needs an IMAGE and --output DIR");
    };
    let reference = parse_reference(image)?;
    let options = EvidenceOptions {
        output: output.clone(),
        force: args.force,
        db_path: args.db.clone(),
        read: read_options(&args.read)?,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        key: args.key.clone(),
        provenance_policy: args
            .policy
            .as_ref()
            .map(|path| crate::commands::provenance::load_policy(path).map(|p| (path.clone(), p)))
            .transpose()?,
    };
    let progress = LayerBars::for_stderr(quiet);
    let summary = write_evidence(&reference, &options, progress.as_ref())
        .with_context(|| format!("failed to write the evidence package for `{image}`"))?;

    status(&format!("wrote {}", summary.output.display()));
    for line in &summary.summary {
        status(&format!("  {line}"));
    }
    for file in summary.files.iter().filter(|f| !f.produced) {
        status(&format!("  not produced: {}: {}", file.name, file.note));
    }
    Ok(Outcome::Success)
}

fn verify(dir: &std::path::Path) -> anyhow::Result<Outcome> {
    let (manifest, report) = verify_package(dir)
        .with_context(|| format!("failed to verify the evidence package `{}`", dir.display()))?;
    // The package may come from anyone: names and values read from it are escaped so that none
    // can print a line of its own.
    let mut out = std::io::stdout().lock();
    let mut line = |text: String| {
        let _ = writeln!(out, "{}", escape_unprintable(&text));
    };
    line(format!("package: {}", dir.display()));
    line(format!("image: {}", manifest.image));
    if let Some(digest) = &manifest.manifest_digest {
        line(format!("manifest digest: {digest}"));
    }
    line(format!(
        "generated: {} by {}",
        manifest.generated_at, manifest.generator
    ));
    line(format!("manifest.json sha256: {}", report.manifest_sha256));
    for name in &report.intact {
        line(format!("ok        {name}"));
    }
    for (name, found) in &report.modified {
        line(format!("MODIFIED  {name} ({found})"));
    }
    for name in &report.missing {
        line(format!("MISSING   {name}"));
    }
    for name in &report.unlisted {
        line(format!("UNLISTED  {name}"));
    }
    for problem in &report.inconsistent {
        line(format!("MISMATCH  {problem}"));
    }
    if report.is_intact() {
        line(format!(
            "result: intact ({} files match manifest.json; compare its sha256 above with the \
             value recorded when the package was written)",
            report.intact.len()
        ));
        Ok(Outcome::Success)
    } else {
        line(format!(
            "result: NOT intact ({} modified, {} missing, {} unlisted, {} mismatched)",
            report.modified.len(),
            report.missing.len(),
            report.unlisted.len(),
            report.inconsistent.len()
        ));
        Ok(Outcome::GateFailed)
    }
}
