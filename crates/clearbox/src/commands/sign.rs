//! `clearbox sign`, `verify`, `attest` and `verify-attestation`: cosign-compatible signatures
//! and attestations, stored beside the image in its registry or layout.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use anyhow::Context;
use clearbox_attest::bundle::Timestamp;
use clearbox_attest::cosign::{
    self, ArtifactStore, AttestOptions, AttestationVerifyOptions, CosignError, ReferrersMode,
    SignOptions, VerifyOptions,
};
use clearbox_attest::intoto::PredicateType;
use clearbox_attest::keys::{Password, PasswordPurpose};
use clearbox_attest::{PublicKey, SigningKey};

use crate::Outcome;
use crate::cli::{
    AttestArgs, RegistryArgs, SignArgs, TargetArgs, VerifyArgs, VerifyAttestationArgs,
};
use crate::commands::{parse_reference, registry_options};
use crate::output::{notice, status};

/// Opens the store of signatures for the image the arguments name.
pub(crate) fn open_store(target: &TargetArgs) -> anyhow::Result<Box<dyn ArtifactStore>> {
    open_image_store(&target.image, &target.registry)
}

pub(crate) fn open_image_store(
    image: &str,
    registry: &RegistryArgs,
) -> anyhow::Result<Box<dyn ArtifactStore>> {
    let reference = parse_reference(image)?;
    let options = registry_options(registry)?;
    cosign::open_store(&reference, &options).with_context(|| format!("failed to open `{image}`"))
}

pub(crate) fn signing_key(argument: &str) -> anyhow::Result<SigningKey> {
    // The password callback runs only for an encrypted key file.
    let password_requested = Cell::new(false);
    let key = SigningKey::load(argument, || {
        password_requested.set(true);
        Password::from_environment_or_terminal(PasswordPurpose::Decrypt)
    })
    .context("failed to load the signing key")?;
    if !password_requested.get() && !argument.starts_with("pkcs11:") {
        warn_if_readable_by_others(Path::new(argument));
    }
    Ok(key)
}

/// Warns when an unencrypted private key file can be read by users other than its owner's
/// group, as a key made with `openssl genpkey` under the usual umask 022 can.
fn warn_if_readable_by_others(path: &Path) {
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o004 != 0 {
        notice(&format!(
            "warning: the private key `{}` is not encrypted and every user can read it (mode \
             {mode:04o}); run `chmod 600 {}`, or encrypt it with `clearbox key generate`",
            path.display(),
            path.display()
        ));
    }
}

pub(crate) fn public_key(argument: &str) -> anyhow::Result<PublicKey> {
    PublicKey::load(argument).context("failed to load the public key")
}

fn referrers_mode(text: &str) -> anyhow::Result<ReferrersMode> {
    text.parse()
        .map_err(|e| anyhow::anyhow!("invalid --registry-referrers-mode `{text}`: {e}"))
}

/// Collects the -a pairs; a key given twice is an error, because only one value can be signed
/// or required.
fn annotations(pairs: &[(String, String)]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut map = BTreeMap::new();
    for (key, value) in pairs {
        if let Some(first) = map.insert(key.clone(), value.clone()) {
            anyhow::bail!(
                "annotation key `{key}` is given twice with -a (`{key}={first}` and \
                 `{key}={value}`); give each key once"
            );
        }
    }
    Ok(map)
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

pub(crate) fn sign(args: &SignArgs) -> anyhow::Result<Outcome> {
    let mode = referrers_mode(&args.registry_referrers_mode)?;
    // A mistyped image or annotation fails before anyone types the key's password.
    parse_reference(&args.target.image)?;
    let annotations = annotations(&args.annotations)?;
    let key = signing_key(&args.key)?;
    let store = open_store(&args.target)?;
    let options = SignOptions {
        mode,
        identity: args.identity.clone(),
        annotations,
    };
    let outcome = cosign::sign(store.as_ref(), &key, &options)
        .with_context(|| format!("failed to sign `{}`", args.target.image))?;
    crate::commands::audit::note_digest(&store.subject().digest.to_string());
    status(&format!(
        "signed {}@{}: {}",
        store.location(),
        store.subject().digest,
        describe(&outcome.attach)
    ));
    Ok(Outcome::Success)
}

/// Rejects --trusted-root with --key on an image, where no certificate is checked, so that the
/// option is not silently ignored.
fn reject_unused_trusted_root(keyless: &crate::cli::KeylessArgs) -> anyhow::Result<()> {
    if let Some(path) = &keyless.trusted_root {
        anyhow::bail!(
            "--trusted-root `{}` applies to keyless verification; add --certificate-identity and \
             --certificate-oidc-issuer, or remove --trusted-root to verify with --key",
            path.display()
        );
    }
    Ok(())
}

/// A failed verification is a gate failure (exit 1) when the image was readable: no
/// signatures, or none that verifies. Anything else is an error (exit 2).
pub(crate) fn gate_or_error(error: CosignError, what: &str) -> anyhow::Result<Outcome> {
    match error {
        CosignError::NoSignatures { .. }
        | CosignError::NoValidSignatures { .. }
        | CosignError::NoAttestations { .. }
        | CosignError::NoValidAttestations { .. } => {
            notice(&format!("{what} failed: {error}"));
            Ok(Outcome::GateFailed)
        }
        other => Err(anyhow::Error::new(other).context(format!("{what} failed"))),
    }
}

pub(crate) fn verify(args: &VerifyArgs) -> anyhow::Result<Outcome> {
    if let Some(policy) = &args.policy {
        return crate::commands::policy::verify(args, policy);
    }
    parse_reference(&args.target.image)?;
    let annotations = annotations(&args.annotations)?;
    let options = VerifyOptions {
        identity: args.identity.clone(),
        annotations,
    };
    if let Some(signer) = crate::commands::trust::certificate_identity(&args.keyless)? {
        return crate::commands::verify_keyless::verify(args, signer, &options);
    }
    reject_unused_trusted_root(&args.keyless)?;
    // clap requires --key without a certificate identity.
    let Some(key) = &args.key else {
        anyhow::bail!(
            "verify needs --key PUB, or --certificate-identity with --certificate-oidc-issuer"
        );
    };
    let key = public_key(key)?;
    let store = open_store(&args.target)?;
    let verification = match cosign::verify_signatures(store.as_ref(), &key, &options) {
        Ok(verification) => verification,
        Err(error) => return gate_or_error(error, "verification"),
    };

    // The checks on stderr.
    print_payloads(
        verification
            .verified
            .iter()
            .map(|s| s.payload_bytes.as_slice()),
    )?;
    status(&format!(
        "Verification for {}@{}: {} of {} signatures verified with key {}",
        store.location(),
        verification.image,
        verification.verified.len(),
        verification.verified.len() + verification.rejected.len(),
        key.fingerprint()
    ));
    status("  - each signature was checked over its payload with the key");
    report_claim_checks(
        &options,
        verification.identity_checked,
        &verification.rejected,
        "the repository each payload claims (docker-reference), because no --identity was \
         given; anyone holding the key can sign for any repository",
    );
    for not_checked in &verification.not_checked {
        status(&format!("  not checked: {not_checked}"));
    }
    Ok(Outcome::Success)
}

pub(crate) fn attest(args: &AttestArgs) -> anyhow::Result<Outcome> {
    let mode = referrers_mode(&args.registry_referrers_mode)?;
    parse_reference(&args.target.image)?;
    let predicate_type = PredicateType::from_cosign_type(&args.predicate_type)
        .with_context(|| format!("invalid --type `{}`", args.predicate_type))?;
    // The predicate goes into the DSSE envelope, so it has the envelope's size limit.
    let text = clearbox_oci::read_regular_file(&args.predicate, cosign::MAX_PAYLOAD_BYTES)
        .with_context(|| format!("failed to read `{}`", args.predicate.display()))?;
    let predicate = cosign::predicate_from_file(&predicate_type, &text, Timestamp::now())
        .with_context(|| format!("invalid predicate file `{}`", args.predicate.display()))?;
    let key = signing_key(&args.key)?;
    let store = open_store(&args.target)?;
    let options = AttestOptions {
        mode,
        subject_name: args.identity.clone(),
    };
    let outcome = cosign::attest(store.as_ref(), &key, &predicate_type, predicate, &options)
        .with_context(|| format!("failed to attest `{}`", args.target.image))?;
    crate::commands::audit::note_digest(&store.subject().digest.to_string());
    status(&format!(
        "attested {}@{} ({}): {}",
        store.location(),
        store.subject().digest,
        predicate_type.uri(),
        describe(&outcome)
    ));
    Ok(Outcome::Success)
}

/// Verifies an image's attestations, or with --bundle a Sigstore bundle (`verify_bundle`).
pub(crate) fn verify_attestation(args: &VerifyAttestationArgs) -> anyhow::Result<Outcome> {
    if let Some(bundle) = &args.bundle.bundle {
        return crate::commands::verify_bundle::run(args, bundle);
    }
    if let (Some(image), Some(signer)) = (
        &args.image,
        crate::commands::trust::certificate_identity(&args.keyless)?,
    ) {
        return crate::commands::verify_keyless::verify_attestation(image, args, signer);
    }
    reject_unused_trusted_root(&args.keyless)?;
    // clap requires IMAGE, and --key without --bundle or a certificate identity.
    let (Some(image), Some(key)) = (&args.image, &args.key) else {
        anyhow::bail!("verify-attestation needs IMAGE and --key PUB, or --bundle FILE");
    };
    if let Some(policy) = &args.policy {
        return crate::commands::provenance::verify(image, key, args, policy);
    }
    if let Some(format) = args
        .predicate_type
        .as_deref()
        .and_then(clearbox_model::ModelFormat::from_type_argument)
    {
        return crate::commands::model_attest::verify(image, key, &args.registry, format);
    }
    let predicate_type = args
        .predicate_type
        .as_deref()
        .map(PredicateType::from_cosign_type)
        .transpose()
        .context("invalid --type")?;
    let key = public_key(key)?;
    let store = open_image_store(image, &args.registry)?;
    let options = AttestationVerifyOptions { predicate_type };
    let verification = match cosign::verify_attestations(store.as_ref(), &key, &options) {
        Ok(verification) => verification,
        Err(error) => return gate_or_error(error, "attestation verification"),
    };
    // Only the signed statement is printed: the envelope's other fields (signature key ids, any
    // extra members) are not covered by the signature.
    let mut out = std::io::stdout().lock();
    for attestation in &verification.verified {
        out.write_all(&attestation.statement.get().to_json())
            .and_then(|()| writeln!(out))
            .context("failed to write to stdout")?;
    }
    status(&format!(
        "Verification for {}@{}: {} of {} attestations verified with key {}",
        store.location(),
        verification.image,
        verification.verified.len(),
        verification.verified.len() + verification.rejected.len(),
        key.fingerprint()
    ));
    status(
        "  - each envelope's signature was checked over the DSSE PAE of its payload with the key",
    );
    report_statement_checks(options.predicate_type.as_ref(), &verification.rejected);
    for not_checked in &verification.not_checked {
        status(&format!("  not checked: {not_checked}"));
    }
    Ok(Outcome::Success)
}

/// Prints verified payloads on stdout as one JSON array, as cosign prints them: each payload
/// is the bytes its signature covers.
pub(crate) fn print_payloads<'a>(payloads: impl Iterator<Item = &'a [u8]>) -> anyhow::Result<()> {
    let mut array = b"[".to_vec();
    for (index, payload) in payloads.enumerate() {
        if index > 0 {
            array.push(b',');
        }
        array.extend_from_slice(payload);
    }
    array.extend_from_slice(b"]\n");
    std::io::stdout()
        .lock()
        .write_all(&array)
        .context("failed to write to stdout")
}

/// Prints the claim checks that every verified signature passed, the rejected signatures, and
/// `unchecked_identity` when no repository was required.
pub(crate) fn report_claim_checks(
    options: &VerifyOptions,
    identity_checked: bool,
    rejected: &[cosign::Rejected<cosign::SignatureCheckError>],
    unchecked_identity: &str,
) {
    status("  - each payload names this image's manifest digest");
    if let Some(identity) = options.identity.as_deref().filter(|_| identity_checked) {
        status(&format!(
            "  - each payload names the required identity `{identity}`"
        ));
    }
    if !options.annotations.is_empty() {
        status("  - each payload has the required annotations (-a)");
    }
    for rejected in rejected {
        status(&format!(
            "  rejected: {}: {}",
            rejected.location,
            rejected.reason()
        ));
    }
    if !identity_checked {
        status(&format!("  not checked: {unchecked_identity}"));
    }
}

/// Reports the checks every verified attestation passed besides its signature (subject and
/// predicate type), the rejected attestations, and what no check covers.
pub(crate) fn report_statement_checks<E: std::error::Error>(
    predicate_type: Option<&PredicateType>,
    rejected: &[cosign::Rejected<E>],
) {
    status("  - each statement names this image's manifest digest as a subject");
    match predicate_type {
        Some(predicate_type) => status(&format!(
            "  - each statement has the required predicate type {}",
            predicate_type.uri()
        )),
        None => status(
            "  not checked: the predicate type, because no --type was given; statements of any \
             type were accepted",
        ),
    }
    for rejected in rejected {
        status(&format!(
            "  rejected: {}: {}",
            rejected.location,
            rejected.reason()
        ));
    }
    status("  not checked: the content of each predicate; no policy was applied to it");
}
