//! `clearbox check`: benchmark checks. `check image` checks an image, `check k8s` checks
//! Kubernetes manifests.

use std::io::Write as _;

use clearbox_oci::Image;
use clearbox_policy::k8s::{
    CheckResult, K8sOptions, K8sReport, Level, PssSelection, Version, check_paths, sarif, table,
};
use clearbox_policy::{
    CheckOutcome, ImageCheckOptions, ImageReport, KNOWN_BINARIES_ID, run_image_checks_with,
};

use crate::Outcome;
use crate::cli::{CheckCommand, CheckFormat, CheckImageArgs, CheckK8sArgs, PssLevel};
use crate::commands::{parse_reference, read_options, with_image};
use crate::output::write_output;
use crate::progress::LayerBars;

/// Failures listed on stderr when a gate fails; the report has all of them.
const MAX_LISTED: usize = 50;

pub(crate) fn run(command: &CheckCommand, quiet: bool) -> anyhow::Result<Outcome> {
    match command {
        CheckCommand::Image(args) => image(args, quiet),
        CheckCommand::K8s(args) => k8s(args),
    }
}

fn image(args: &CheckImageArgs, quiet: bool) -> anyhow::Result<Outcome> {
    // Read and check; an invalid reference or an unreadable image is an error (exit 2). A
    // policy's registry allowlist is applied before the image is read.
    let reference = parse_reference(&args.image)?;
    let policy = args
        .policy
        .as_deref()
        .map(crate::commands::policy::load)
        .transpose()?;
    if let Some(policy) = &policy
        && let Some(outcome) =
            crate::commands::policy::check_reference(policy, &reference, &args.image)?
    {
        return Ok(outcome);
    }
    let options = read_options(&args.read)?;
    let image = with_image(Image::open(&reference, &options), &args.image)?;
    let progress = LayerBars::for_stderr(quiet);
    let checks = ImageCheckOptions {
        require_known_binaries: args.require_known_binaries,
    };
    let report = with_image(
        run_image_checks_with(&image, &options, progress.as_ref(), &checks),
        &args.image,
    )?;

    // Write the report.
    let mut bytes = Vec::new();
    match args.format {
        CheckFormat::Table => report.write_table(&mut bytes)?,
        CheckFormat::Json => report.write_json(&mut bytes)?,
        CheckFormat::Sarif => report.write_sarif(&mut bytes)?,
    }
    write_output(args.output.as_deref(), &bytes)?;

    // Apply the gates.
    let policy_outcome = match &policy {
        Some(policy) => crate::commands::policy::check_image(policy, &image, &args.image)?,
        None => Outcome::Success,
    };
    if args.fail_on_violation && report.has_failures() {
        report_image_gate(&report);
        return Ok(Outcome::GateFailed);
    }
    // --require-known-binaries gates on its own check, with or without --fail-on-violation.
    if let Some(check) = report
        .results
        .iter()
        .find(|r| r.id == KNOWN_BINARIES_ID && r.outcome == CheckOutcome::Fail)
    {
        report_unknown_binaries(check);
        return Ok(Outcome::GateFailed);
    }
    Ok(policy_outcome)
}

/// Lists on stderr each failed check with the first fact that fails it.
fn report_image_gate(report: &ImageReport) {
    let summary = report.summary();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "gate failed: {} of {} checks fail (--fail-on-violation)",
        summary.fail, summary.checks
    );
    for check in report
        .results
        .iter()
        .filter(|r| r.outcome == CheckOutcome::Fail)
    {
        let fact = check
            .evidence
            .iter()
            .find(|e| e.violation)
            .or(check.evidence.first())
            .map_or("", |e| e.text.as_str());
        let line = format!("  {} ({}): {fact}", check.id, check.title);
        let _ = writeln!(err, "{}", escape_controls(&line));
    }
}

/// Lists on stderr each executable that nothing accounts for.
fn report_unknown_binaries(check: &clearbox_policy::CheckResult) {
    let files: Vec<_> = check.evidence.iter().filter(|e| e.violation).collect();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "gate failed: {} executable file(s) that no package accounts for \
         (--require-known-binaries)",
        files.len()
    );
    for evidence in files.iter().take(MAX_LISTED) {
        let _ = writeln!(err, "  {}", escape_controls(&evidence.text));
    }
}

/// Replaces control characters with `?`, so that text from an image cannot rewrite the terminal.
fn escape_controls(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn k8s(args: &CheckK8sArgs) -> anyhow::Result<Outcome> {
    let level = match args.pss {
        Some(PssLevel::Baseline) => Level::Baseline,
        Some(PssLevel::Restricted) | None => Level::Restricted,
    };
    if args.pss_version.is_newer_than_known() {
        warn(&format!(
            "Pod Security Standards {} is newer than the newest version clearbox implements; \
             the {} rules are applied",
            args.pss_version,
            Version::LATEST
        ));
    }
    let options = K8sOptions {
        allowed_registries: args.allowed_registries.clone(),
        pss: PssSelection {
            level,
            version: args.pss_version,
        },
        pss_only: args.pss.is_some(),
    };

    // Read and check; invalid YAML is an error (exit 2) naming the file and line.
    let policy = args
        .policy
        .as_deref()
        .map(crate::commands::policy::load)
        .transpose()?;
    let report = check_paths(&args.paths, &options)?;
    if report.resources.is_empty() {
        warn(&format!(
            "no Pods or workloads with pod templates found in {} files",
            report.files.len()
        ));
    }

    // Write the report.
    let mut bytes = Vec::new();
    match args.format {
        CheckFormat::Table => table::write(&report, &mut bytes)?,
        CheckFormat::Json => report.write_json(&mut bytes)?,
        CheckFormat::Sarif => sarif::write(&report, &mut bytes)?,
    }
    write_output(args.output.as_deref(), &bytes)?;

    // Apply the gates.
    let policy_outcome = match &policy {
        Some(policy) => crate::commands::policy::check_manifests(policy, &args.paths)?,
        None => Outcome::Success,
    };
    let gate = if options.pss_only {
        Some(format!(
            "violate Pod Security Standards {level} at {}",
            args.pss_version.min(Version::LATEST)
        ))
    } else if args.fail_on_violation {
        Some("fail checks (--fail-on-violation)".to_owned())
    } else {
        None
    };
    match gate {
        Some(what) if report.has_failures() => {
            report_gate(&report, &what);
            Ok(Outcome::GateFailed)
        }
        _ => Ok(policy_outcome),
    }
}

/// Lists on stderr the resources that failed, naming each check (or control) and field.
fn report_gate(report: &K8sReport, what: &str) {
    let summary = report.summary();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "gate failed: {} of {} resources {what}",
        summary.failed_resources, summary.resources
    );
    for failure in report.failures().take(MAX_LISTED) {
        let _ = writeln!(err, "  {}", describe(report, failure));
    }
    if summary.failed > MAX_LISTED {
        let _ = writeln!(
            err,
            "  and {} more failures in the report",
            summary.failed - MAX_LISTED
        );
    }
}

/// `Deployment/ns/web: Capabilities (pss-restricted-capabilities) at FIELD (file:line): message`.
fn describe(report: &K8sReport, failure: &CheckResult) -> String {
    let title = report
        .check_info(failure.check)
        .map_or(failure.check, |info| info.title);
    let resource = &failure.resource;
    format!(
        "{}: {title} ({}) at `{}` ({}:{}): {}",
        resource.display_name(),
        failure.check,
        failure.field,
        resource.file.display(),
        failure.line,
        failure.message
    )
    .chars()
    .map(|c| if c.is_control() { '?' } else { c })
    .collect()
}

fn warn(message: &str) {
    crate::output::status(&format!("warning: {message}"));
}
