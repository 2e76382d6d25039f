//! `clearbox evidence`: write the evidence package, or verify one.

use std::io::Write;

use anyhow::Context;
use clearbox_catalog::escape_unprintable;
use clearbox_evidence::{
    EvidenceOptions, SIGNATURE_FILE, SignatureCheck, VerifyReport, verify_package, write_evidence,
};

use crate::Outcome;
use crate::cli::{EvidenceArgs, EvidenceCommand};
use crate::commands::{parse_reference, read_options};
use crate::output::status;
use crate::progress::LayerBars;

pub(crate) fn run(args: &EvidenceArgs, quiet: bool) -> anyhow::Result<Outcome> {
    if let Some(EvidenceCommand::Verify { dir, key }) = &args.command {
        return verify(dir, key.as_deref());
    }
    // clap requires both when no subcommand is given.
    let (Some(image), Some(output)) = (&args.image, &args.output) else {
        anyhow::bail!("evidence needs an IMAGE and --output DIR");
    };
    let reference = parse_reference(image)?;
    let (policy, provenance_policy) = match &args.policy {
        Some(path) => crate::commands::policy::load_for_evidence(path, args.key.is_some())?,
        None => (None, None),
    };
    // The signing key is loaded (and its password asked for) after the other arguments are
    // checked and before the image is read.
    let sign_key = args
        .sign_key
        .as_deref()
        .map(crate::commands::sign::signing_key)
        .transpose()?
        .map(std::sync::Arc::new);
    let options = EvidenceOptions {
        output: output.clone(),
        force: args.force,
        db_path: args.db.clone(),
        read: read_options(&args.read)?,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        key: args.key.clone(),
        provenance_policy,
        policy,
        sign_key,
    };
    let signer = options
        .sign_key
        .as_ref()
        .map(|key| key.public_key().fingerprint());
    let progress = LayerBars::for_stderr(quiet);
    let summary = write_evidence(&reference, &options, progress.as_ref())
        .with_context(|| format!("failed to write the evidence package for `{image}`"))?;

    if let Some(digest) = &summary.digest {
        crate::commands::audit::note_digest(digest);
        if let Ok(sbom) = std::fs::read(summary.output.join("sbom.cdx.json")) {
            crate::commands::audit::keep_sbom(digest, image, &sbom);
        }
    }
    status(&format!("wrote {}", summary.output.display()));
    if let Some(fingerprint) = signer {
        status(&format!(
            "  signed manifest.json into {SIGNATURE_FILE} with key {fingerprint}"
        ));
    }
    for line in &summary.summary {
        status(&format!("  {line}"));
    }
    for file in summary.files.iter().filter(|f| !f.produced) {
        status(&format!("  not produced: {}: {}", file.name, file.note));
    }
    Ok(Outcome::Success)
}

fn verify(dir: &std::path::Path, key: Option<&str>) -> anyhow::Result<Outcome> {
    let key = key.map(crate::commands::sign::public_key).transpose()?;
    let (manifest, report) = verify_package(dir, key.as_ref())
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
    line(signature_line(&report.signature));
    line(result_line(&report));
    if report.is_intact() {
        Ok(Outcome::Success)
    } else {
        Ok(Outcome::GateFailed)
    }
}

/// Describes what checking `manifest.json.sig` found, in one line.
fn signature_line(check: &SignatureCheck) -> String {
    let file = SIGNATURE_FILE;
    match check {
        SignatureCheck::Verified { key } => {
            format!("signature ok {file}: verifies over manifest.json with key {key}")
        }
        SignatureCheck::NotChecked => format!(
            "signature NOT CHECKED: {file} is present but no --key was given; pass the signer's \
             public key with --key to check it"
        ),
        SignatureCheck::Missing => format!(
            "SIGNATURE MISSING {file}: --key was given but the package has no {file}; sign \
             packages with `clearbox evidence IMAGE --sign-key KEY`"
        ),
        SignatureCheck::Invalid { reason } => {
            format!("SIGNATURE INVALID {file}: {reason}")
        }
        SignatureCheck::Mismatch { key } => format!(
            "SIGNATURE MISMATCH {file} does not verify over manifest.json with key {key}: \
             manifest.json changed after signing, or another key signed it"
        ),
        SignatureCheck::Unsigned => format!("signature none: the package has no {file}"),
        other => format!("signature {other:?}"),
    }
}

fn result_line(report: &VerifyReport) -> String {
    if report.is_intact() {
        let anchor = match &report.signature {
            SignatureCheck::Verified { .. } => ", whose signature verifies with the key given",
            _ => "; compare its sha256 above with the value recorded when the package was written",
        };
        return format!(
            "result: intact ({} files match manifest.json{anchor})",
            report.intact.len()
        );
    }
    let signature = if report.signature.is_failure() {
        ", signature failed"
    } else {
        ""
    };
    format!(
        "result: NOT intact ({} modified, {} missing, {} unlisted, {} mismatched{signature})",
        report.modified.len(),
        report.missing.len(),
        report.unlisted.len(),
        report.inconsistent.len()
    )
}
