//! `clearbox model-attest`, and `verify-attestation --type model|model-signing`: signed
//! statements of the model files in an image, checked against its layers.

use std::io::Write as _;

use anyhow::Context;
use clearbox_attest::SigningKey;
use clearbox_attest::cosign::{self, AttestOptions, CosignError, ReferrersMode};
use clearbox_attest::intoto::{PredicateType, Statement, Subject};
use clearbox_catalog::catalog_image;
use clearbox_model::{
    ModelError, ModelFormat, model_files, model_predicate, model_signing_predicate,
    read_governance, verify_model_attestations,
};
use clearbox_oci::{Image, ReadOptions};
use sha2::{Digest as _, Sha256};

use crate::Outcome;
use crate::cli::{ModelAttestArgs, ModelAttestFormat, RegistryArgs};
use crate::commands::annotate::annotation_keys;
use crate::commands::sign::{describe, public_key, signing_key};
use crate::commands::{parse_reference, registry_options, with_image};
use crate::output::{is_quiet, notice, status, write_output};
use crate::progress::LayerBars;

pub(crate) fn run(args: &ModelAttestArgs, quiet: bool) -> anyhow::Result<Outcome> {
    let mode: ReferrersMode = args.registry_referrers_mode.parse().map_err(|e| {
        anyhow::anyhow!(
            "invalid --registry-referrers-mode `{}`: {e}",
            args.registry_referrers_mode
        )
    })?;
    let reference = parse_reference(&args.target.image)?;
    let keys = annotation_keys(&args.keys)?;
    let format = checked_format(args)?;
    let key = signing_key(&args.key)?;

    // The image, its store, and its weight files.
    let read = ReadOptions {
        registry: registry_options(&args.target.registry)?,
        ..ReadOptions::default()
    };
    let image = with_image(Image::open(&reference, &read), &args.target.image)?;
    let store = cosign::open_store_for_image(&image)
        .with_context(|| format!("failed to open `{}`", args.target.image))?;
    let progress = LayerBars::for_stderr(quiet);
    let contents = with_image(
        catalog_image(&image, &read, progress.as_ref()),
        &args.target.image,
    )?;
    let files = model_files(&contents.scan);

    // The predicate, and for OMS the model subject listed first.
    let (predicate, leading, listed) = match format {
        ModelFormat::Clearbox => {
            let annotations = image
                .manifest
                .as_ref()
                .map(|m| m.annotations.clone())
                .unwrap_or_default();
            let governance = read_governance(&annotations, &keys);
            match &governance {
                None => notice(&format!(
                    "note: the manifest has no `{}*` annotations, so the attestation records no \
                     governance metadata; add them with `clearbox annotate IMAGE --model-card \
                     FILE` first",
                    keys.model_prefix()
                )),
                Some(record) => {
                    for problem in &record.problems {
                        notice(&format!("warning: governance annotation {problem}"));
                    }
                }
            }
            let predicate = model_predicate(&files, governance.as_ref())?;
            (
                predicate,
                Vec::new(),
                format!("{} weight files", files.len()),
            )
        }
        ModelFormat::ModelSigning => {
            let parts = model_signing_predicate(
                &image,
                &read,
                progress.as_ref(),
                &files,
                args.model_dir.as_deref(),
            )?;
            let listed = format!("{} files of `{}`", parts.files, parts.directory);
            (parts.predicate, vec![parts.model_subject], listed)
        }
    };

    let predicate_type = PredicateType::from_uri(format.predicate_type());
    if let Some(output) = &args.output {
        let bundle = model_signing_bundle(&key, &predicate_type, predicate, leading)?;
        write_output(Some(output), &bundle)?;
        let image = format!("{}@{}", store.location(), store.subject().digest);
        status(&format!(
            "wrote the model signature of {image} to `{}`: {listed} listed",
            output.display()
        ));
        return Ok(Outcome::Success);
    }
    let options = AttestOptions {
        mode,
        subject_name: args.identity.clone(),
    };
    let outcome = cosign::attest_with_subjects(
        store.as_ref(),
        &key,
        &predicate_type,
        predicate,
        leading,
        &options,
    )
    .with_context(|| format!("failed to attest `{}`", args.target.image))?;
    crate::commands::audit::note_digest(&store.subject().digest.to_string());
    status(&format!(
        "attested {}@{} ({}): {listed} listed; {}",
        store.location(),
        store.subject().digest,
        predicate_type.uri(),
        describe(&outcome)
    ));
    Ok(Outcome::Success)
}

/// Returns the predicate format, refusing options that apply to the other one.
fn checked_format(args: &ModelAttestArgs) -> anyhow::Result<ModelFormat> {
    let format = match args.format {
        ModelAttestFormat::Clearbox => ModelFormat::Clearbox,
        ModelAttestFormat::ModelSigning => ModelFormat::ModelSigning,
    };
    if args.model_dir.is_some() && format != ModelFormat::ModelSigning {
        anyhow::bail!("--model-dir applies to --format model-signing only");
    }
    if args.output.is_some() && format != ModelFormat::ModelSigning {
        anyhow::bail!(
            "--output applies to --format model-signing only; the clearbox model predicate is \
             attached to the image"
        );
    }
    Ok(format)
}

/// Signs an OMS statement whose only subject is the model, and returns it as the Sigstore
/// bundle (v0.3, no transparency log entry) that OpenSSF Model Signing writes for key-based
/// signatures: the public key is named by the SHA-256 of its PEM text, as that tool expects.
fn model_signing_bundle(
    key: &SigningKey,
    predicate_type: &PredicateType,
    predicate: serde_json::Value,
    subjects: Vec<Subject>,
) -> anyhow::Result<Vec<u8>> {
    let statement = Statement::new(subjects, predicate_type, predicate)
        .context("failed to build the model signing statement")?;
    let envelope = statement
        .sign(key)
        .context("failed to sign the model signing statement")?;
    let hint = hex::encode(Sha256::digest(key.public_key().to_pem().as_bytes()));
    let bundle = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": hint}, "tlogEntries": []},
        "dsseEnvelope": envelope,
    });
    let mut bytes = serde_json::to_vec_pretty(&bundle).context("failed to encode the bundle")?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// `verify-attestation IMAGE --type model|model-signing --key PUB`: verifies the attestations'
/// signatures, then compares each one's files with the image. Prints the report as JSON on
/// stdout and each mismatch on stderr; exit 1 when none verifies or any disagrees.
pub(crate) fn verify(
    image_argument: &str,
    key_argument: &str,
    registry: &RegistryArgs,
    format: ModelFormat,
) -> anyhow::Result<Outcome> {
    let reference = parse_reference(image_argument)?;
    let key = public_key(key_argument)?;
    let read = ReadOptions {
        registry: registry_options(registry)?,
        ..ReadOptions::default()
    };
    let image = with_image(Image::open(&reference, &read), image_argument)?;
    let store = cosign::open_store_for_image(&image)
        .with_context(|| format!("failed to open `{image_argument}`"))?;
    let progress = LayerBars::for_stderr(is_quiet());
    let contents = with_image(
        catalog_image(&image, &read, progress.as_ref()),
        image_argument,
    )?;
    let files = model_files(&contents.scan);

    let verification = match verify_model_attestations(
        store.as_ref(),
        &key,
        format,
        &image,
        &read,
        progress.as_ref(),
        &files,
    ) {
        Ok(verification) => verification,
        Err(
            error @ (ModelError::NotFound { .. }
            | ModelError::Cosign(
                CosignError::NoAttestations { .. } | CosignError::NoValidAttestations { .. },
            )),
        ) => {
            notice(&format!("model attestation verification failed: {error}"));
            return Ok(Outcome::GateFailed);
        }
        Err(other) => {
            return Err(anyhow::Error::new(other).context("model attestation verification failed"));
        }
    };

    let mut report = serde_json::to_vec_pretty(&verification.to_json())
        .context("failed to encode the report")?;
    report.push(b'\n');
    std::io::stdout()
        .lock()
        .write_all(&report)
        .context("failed to write to stdout")?;

    let agreeing = verification.checked.iter().filter(|c| c.passed()).count();
    status(&format!(
        "Verification for {}@{}: {} attestations of type {} verified with key {}; {agreeing} of \
         them agree with the image's layers",
        store.location(),
        verification.image,
        verification.checked.len(),
        format.predicate_type(),
        key.fingerprint()
    ));
    for checked in &verification.checked {
        let directory = checked
            .model_directory
            .as_ref()
            .map(|d| format!(" in `{d}`"))
            .unwrap_or_default();
        let result = if checked.passed() { "OK" } else { "FAILED" };
        status(&format!(
            "  {}: {} files listed{directory}: {result}",
            checked.location, checked.listed_files
        ));
        for problem in &checked.problems {
            notice(&format!("    problem: {problem}"));
        }
        for mismatch in &checked.mismatches {
            notice(&format!("    mismatch: {mismatch}"));
        }
    }
    for rejected in &verification.rejected {
        status(&format!("  rejected: {rejected}"));
    }
    for not_checked in &verification.not_checked {
        status(&format!("  not checked: {not_checked}"));
    }
    if verification.passed() {
        Ok(Outcome::Success)
    } else {
        Ok(Outcome::GateFailed)
    }
}
