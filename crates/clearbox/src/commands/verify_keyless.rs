//! `clearbox verify` and `verify-attestation IMAGE` with a certificate identity instead of
//! --key: keyless verification of an image's signatures and attestations against a trusted
//! root, offline.
//!
//! Output matches the key-based commands: the verified payloads (a JSON array) or envelopes
//! (one per line) on stdout, the checks on stderr. Exit codes: 0 when a signature or
//! attestation passed; 1 when there is none or none passed; 2 when the image or trusted root
//! cannot be read or an argument is invalid.

use std::io::Write as _;

use anyhow::Context;
use clearbox_attest::bundle::{BundleVerification, CertificateIdentity, SignerEvidence};
use clearbox_attest::cosign::{self, AttestationVerifyOptions, KeylessPolicy, VerifyOptions};
use clearbox_attest::intoto::PredicateType;

use crate::Outcome;
use crate::cli::{VerifyArgs, VerifyAttestationArgs};
use crate::commands::sign::{gate_or_error, open_image_store, open_store, report_statement_checks};
use crate::commands::{parse_reference, trust};
use crate::output::status;

/// Verifies the image's signatures against `signer`.
pub(crate) fn verify(
    args: &VerifyArgs,
    signer: CertificateIdentity,
    options: &VerifyOptions,
) -> anyhow::Result<Outcome> {
    parse_reference(&args.target.image)?;
    let root = trust::load_trusted_root(args.keyless.trusted_root.as_deref())?;
    let store = open_store(&args.target)?;
    let policy = KeylessPolicy {
        trusted_root: &root,
        signer,
        now: None,
    };
    let verification = match cosign::verify_signatures_keyless(store.as_ref(), &policy, options) {
        Ok(verification) => verification,
        Err(error) => return gate_or_error(error, "keyless verification"),
    };

    // Payloads on stdout as one JSON array, as the key-based verify prints them.
    crate::commands::sign::print_payloads(
        verification
            .verified
            .iter()
            .map(|s| s.payload_bytes.as_slice()),
    )?;

    status(&format!(
        "Verification for {}@{}: {} of {} signatures verified with a certificate for {} from {}",
        store.location(),
        verification.image,
        verification.verified.len(),
        verification.verified.len() + verification.rejected.len(),
        policy.signer.identity,
        policy.signer.issuer,
    ));
    for signature in &verification.verified {
        report_signer(&signature.location.to_string(), &signature.signer);
    }
    crate::commands::sign::report_claim_checks(
        options,
        verification.identity_checked,
        &verification.rejected,
        "the repository each simple-signing payload claims (docker-reference), because no \
         --identity was given; bundle statements claim none",
    );
    Ok(Outcome::Success)
}

/// Verifies the image's attestations against `signer`.
pub(crate) fn verify_attestation(
    image: &str,
    args: &VerifyAttestationArgs,
    signer: CertificateIdentity,
) -> anyhow::Result<Outcome> {
    if args.policy.is_some() {
        anyhow::bail!(
            "--policy checks provenance verified with --key; with a certificate identity, run \
             verify-attestation without --policy"
        );
    }
    let predicate_type = args
        .predicate_type
        .as_deref()
        .map(PredicateType::from_cosign_type)
        .transpose()
        .context("invalid --type")?;
    let root = trust::load_trusted_root(args.keyless.trusted_root.as_deref())?;
    let store = open_image_store(image, &args.registry)?;
    let policy = KeylessPolicy {
        trusted_root: &root,
        signer,
        now: None,
    };
    let options = AttestationVerifyOptions { predicate_type };
    let verification = match cosign::verify_attestations_keyless(store.as_ref(), &policy, &options)
    {
        Ok(verification) => verification,
        Err(error) => return gate_or_error(error, "keyless attestation verification"),
    };
    // Only the signed statement is printed: the envelope's other fields are not covered by the
    // signature.
    let mut out = std::io::stdout().lock();
    for attestation in &verification.verified {
        out.write_all(&attestation.statement.get().to_json())
            .and_then(|()| writeln!(out))
            .context("failed to write to stdout")?;
    }

    status(&format!(
        "Verification for {}@{}: {} of {} attestations verified with a certificate for {} from {}",
        store.location(),
        verification.image,
        verification.verified.len(),
        verification.verified.len() + verification.rejected.len(),
        policy.signer.identity,
        policy.signer.issuer,
    ));
    for attestation in &verification.verified {
        report_signer(&attestation.location.to_string(), &attestation.signer);
    }
    report_statement_checks(options.predicate_type.as_ref(), &verification.rejected);
    Ok(Outcome::Success)
}

/// Lists who signed one layer, the times that vouch for it and the checks that passed.
fn report_signer(location: &str, verification: &BundleVerification) {
    if let SignerEvidence::Certificate {
        identities,
        oidc_issuer,
        certificate_authority,
        ..
    } = &verification.signer
    {
        status(&format!(
            "  - {location}: certificate for `{}` from `{oidc_issuer}`, issued by {certificate_authority}",
            identities.join("`, `")
        ));
    }
    for time in &verification.signing_times {
        status(&format!(
            "    signed at {} ({}); the certificate was valid then",
            time.time, time.source
        ));
    }
    let checks: Vec<&str> = verification
        .checks
        .iter()
        .map(|check| check.name())
        .collect();
    status(&format!("    passed: {}", checks.join(", ")));
    for note in &verification.notes {
        status(&format!("    note: {note}"));
    }
}
