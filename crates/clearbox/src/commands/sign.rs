//! `clearbox sign`, `verify`, `attest` and `verify-attestation`: cosign-compatible signatures
//! and attestations, stored beside the image in its registry or layout.

use std::collections::BTreeMap;
use std::io::Write as _;

use anyhow::Context;
use clearbox_attest::cosign::{
    self, ArtifactStore, AttestOptions, AttestationVerifyOptions, CosignError, ReferrersMode,
    SignOptions, VerifyOptions,
};
use clearbox_attest::intoto::PredicateType;
use clearbox_attest::keys::{Password, PasswordPurpose};
use clearbox_attest::{PublicKey, SigningKey};

use crate::Outcome;
use crate::cli::{AttestArgs, SignArgs, TargetArgs, VerifyArgs, VerifyAttestationArgs};
use crate::commands::{parse_reference, registry_options};

/// Opens the store of signatures for the image the arguments name.
pub(crate) fn open_store(target: &TargetArgs) -> anyhow::Result<Box<dyn ArtifactStore>> {
    let reference = parse_reference(&target.image)?;
    let options = registry_options(&target.registry)?;
    cosign::open_store(&reference, &options)
        .with_context(|| format!("failed to open `{}`", target.image))
}

pub(crate) fn signing_key(argument: &str) -> anyhow::Result<SigningKey> {
    SigningKey::load(argument, || {
        Password::from_environment_or_terminal(PasswordPurpose::Decrypt)
    })
    .context("failed to load the signing key")
}

pub(crate) fn public_key(argument: &str) -> anyhow::Result<PublicKey> {
    PublicKey::load(argument).context("failed to load the public key")
}

fn referrers_mode(text: &str) -> anyhow::Result<ReferrersMode> {
    text.parse()
        .map_err(|e| anyhow::anyhow!("invalid --registry-referrers-mode `{text}`: {e}"))
}

fn annotations(pairs: &[(String, String)]) -> BTreeMap<String, String> {
    pairs.iter().cloned().collect()
}

/// Says where an artifact went and whether it was new.
pub(crate) fn describe(outcome: &cosign::AttachOutcome) -> String {
    let mode = match outcome.mode {
        ReferrersMode::Oci11 => "OCI 1.1 referrer",
        _ => "cosign tag",
    };
    if outcome.added {
        format!(
            "stored in {} ({mode}, manifest {})",
            outcome.location, outcome.manifest
        )
    } else {
        format!(
            "already present in {} ({mode}); nothing written",
            outcome.location
        )
    }
}

fn stderr_line(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

pub(crate) fn sign(args: &SignArgs) -> anyhow::Result<Outcome> {
    let mode = referrers_mode(&args.registry_referrers_mode)?;
    let key = signing_key(&args.key)?;
    let store = open_store(&args.target)?;
    let options = SignOptions {
        mode,
        identity: args.identity.clone(),
        annotations: annotations(&args.annotations),
    };
    let outcome = cosign::sign(store.as_ref(), &key, &options)
        .with_context(|| format!("failed to sign `{}`", args.target.image))?;
    stderr_line(&format!(
        "signed {}@{}: {}",
        store.location(),
        store.subject().digest,
        describe(&outcome.attach)
    ));
    Ok(Outcome::Success)
}

/// A failed verification is a gate failure (exit 1) when the image was readable: no
/// signatures, or none that verifies. Anything else is an error (exit 2).
fn gate_or_error(error: CosignError, what: &str) -> anyhow::Result<Outcome> {
    match error {
        CosignError::NoSignatures { .. }
        | CosignError::NoValidSignatures { .. }
        | CosignError::NoAttestations { .. }
        | CosignError::NoValidAttestations { .. } => {
            stderr_line(&format!("{what} failed: {error}"));
            Ok(Outcome::GateFailed)
        }
        other => Err(anyhow::Error::new(other).context(format!("{what} failed"))),
    }
}

pub(crate) fn verify(args: &VerifyArgs) -> anyhow::Result<Outcome> {
    let key = public_key(&args.key)?;
    let store = open_store(&args.target)?;
    let options = VerifyOptions {
        identity: args.identity.clone(),
        annotations: annotations(&args.annotations),
    };
    let verification = match cosign::verify_signatures(store.as_ref(), &key, &options) {
        Ok(verification) => verification,
        Err(error) => return gate_or_error(error, "verification"),
    };

    // Payloads on stdout, as cosign prints them; the checks on stderr.
    let payloads: Vec<serde_json::Value> = verification
        .verified
        .iter()
        .map(|v| {
            serde_json::from_slice(&v.payload.get().to_json()).expect("payloads are JSON objects")
        })
        .collect();
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, &payloads).context("failed to write to stdout")?;
    writeln!(out).context("failed to write to stdout")?;
    stderr_line(&format!(
        "Verification for {}@{}: {} of {} signatures verified with key {}",
        store.location(),
        verification.image,
        verification.verified.len(),
        verification.verified.len() + verification.rejected.len(),
        key.fingerprint()
    ));
    stderr_line("  - each signature was checked over its payload with the key");
    stderr_line("  - each payload names this image's manifest digest");
    if verification.identity_checked {
        stderr_line("  - each payload names the required repository");
    }
    for rejected in &verification.rejected {
        stderr_line(&format!(
            "  rejected: {}: {}",
            rejected.location, rejected.error
        ));
    }
    for not_checked in &verification.not_checked {
        stderr_line(&format!("  not checked: {not_checked}"));
    }
    Ok(Outcome::Success)
}

pub(crate) fn attest(args: &AttestArgs) -> anyhow::Result<Outcome> {
    let mode = referrers_mode(&args.registry_referrers_mode)?;
    let predicate_type = PredicateType::from_cosign_type(&args.predicate_type)
        .with_context(|| format!("invalid --type `{}`", args.predicate_type))?;
    let text = std::fs::read(&args.predicate)
        .with_context(|| format!("failed to read `{}`", args.predicate.display()))?;
    let predicate: serde_json::Value = serde_json::from_slice(&text)
        .with_context(|| format!("`{}` is not valid JSON", args.predicate.display()))?;
    let key = signing_key(&args.key)?;
    let store = open_store(&args.target)?;
    let options = AttestOptions {
        mode,
        subject_name: args.identity.clone(),
    };
    let outcome = cosign::attest(store.as_ref(), &key, &predicate_type, predicate, &options)
        .with_context(|| format!("failed to attest `{}`", args.target.image))?;
    stderr_line(&format!(
        "attested {}@{} ({}): {}",
        store.location(),
        store.subject().digest,
        predicate_type.uri(),
        describe(&outcome)
    ));
    Ok(Outcome::Success)
}

pub(crate) fn verify_attestation(args: &VerifyAttestationArgs) -> anyhow::Result<Outcome> {
    let predicate_type = args
        .predicate_type
        .as_deref()
        .map(PredicateType::from_cosign_type)
        .transpose()
        .context("invalid --type")?;
    let key = public_key(&args.key)?;
    let store = open_store(&args.target)?;
    let options = AttestationVerifyOptions { predicate_type };
    let verification = match cosign::verify_attestations(store.as_ref(), &key, &options) {
        Ok(verification) => verification,
        Err(error) => return gate_or_error(error, "attestation verification"),
    };
    let mut out = std::io::stdout().lock();
    for attestation in &verification.verified {
        out.write_all(&attestation.envelope)
            .and_then(|()| writeln!(out))
            .context("failed to write to stdout")?;
    }
    stderr_line(&format!(
        "Verification for {}@{}: {} of {} attestations verified with key {}",
        store.location(),
        verification.image,
        verification.verified.len(),
        verification.verified.len() + verification.rejected.len(),
        key.fingerprint()
    ));
    for rejected in &verification.rejected {
        stderr_line(&format!(
            "  rejected: {}: {}",
            rejected.location, rejected.error
        ));
    }
    for not_checked in &verification.not_checked {
        stderr_line(&format!("  not checked: {not_checked}"));
    }
    Ok(Outcome::Success)
}
