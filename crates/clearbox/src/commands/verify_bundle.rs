//! `clearbox verify-attestation --bundle`: offline verification of a Sigstore bundle against an
//! artifact and a trusted root, with every check reported on stderr.
//!
//! Exit codes: 0 when every check passed; 1 when a check failed, a check could not be made, or
//! the bundle, trusted root or key file is malformed; 2 when a file cannot be read or an
//! argument is invalid. A malformed trusted root or key rejects the bundle rather than counting
//! as invalid input, as the Sigstore conformance suite expects: nothing can be trusted with it.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context;
use clearbox_attest::PublicKey;
use clearbox_attest::bundle::{
    Artifact, BundleVerification, Check, Policy, TrustedRoot, TrustedRootError,
    VerificationFailure, VerifierKey, verify_json,
};
use clearbox_attest::intoto::PredicateType;

use crate::Outcome;
use crate::cli::{BundleArgs, RegistryArgs, VerifyAttestationArgs};

/// Largest bundle read; real bundles are tens of kilobytes.
const MAX_BUNDLE_BYTES: u64 = 16 << 20;
/// Largest public key file read.
const MAX_KEY_BYTES: u64 = 64 << 10;
/// Largest artifact read, since it is held in memory whole.
const MAX_ARTIFACT_BYTES: u64 = 4 << 30;

/// Verifies the bundle at `bundle_path` with the rest of `args`.
pub(crate) fn run(args: &VerifyAttestationArgs, bundle_path: &Path) -> anyhow::Result<Outcome> {
    let bundle_args = &args.bundle;
    reject_registry_options(&args.registry)?;

    // Inputs: everything is read before anything is verified, so unreadable input exits 2.
    let predicate_type = args
        .predicate_type
        .as_deref()
        .map(|name| {
            PredicateType::from_cosign_type(name)
                .with_context(|| format!("invalid --type `{name}`"))
        })
        .transpose()?;
    let key = args.key.as_deref().map(read_key).transpose()?;
    let bundle = clearbox_oci::read_regular_file(bundle_path, MAX_BUNDLE_BYTES)
        .with_context(|| format!("failed to read the bundle `{}`", bundle_path.display()))?;
    let artifact_bytes = read_artifact(bundle_args)?;
    let artifact = match (&artifact_bytes, bundle_args.artifact_digest) {
        (Some(bytes), _) => Artifact::Bytes(bytes),
        (None, Some(digest)) => Artifact::Sha256(digest),
        (None, None) => anyhow::bail!("--bundle needs --artifact FILE or --artifact-digest"),
    };
    let root_path =
        crate::commands::trust::trusted_root_path(args.keyless.trusted_root.as_deref())?;
    let root_path = root_path.as_path();
    let root = TrustedRoot::from_file(root_path);
    if let Err(error @ TrustedRootError::Read { .. }) = root {
        return Err(anyhow::Error::new(error).context("failed to load the trusted root"));
    }
    let subject = format!(
        "`{}` for artifact sha256:{}",
        bundle_path.display(),
        hex::encode(artifact.sha256())
    );

    // Trust inputs: a malformed trusted root or key rejects.
    let root = match root {
        Ok(root) => root,
        Err(error) => {
            let reason = format!("`{}`: {error}", root_path.display());
            return Ok(reject_input(&subject, "trusted-root", &reason));
        }
    };
    let key = match key {
        Some(KeyInput::Invalid { argument, reason }) => {
            let reason = format!("`{argument}` is not a usable public key: {reason}");
            return Ok(reject_input(
                &subject,
                Check::VerificationMaterial.name(),
                &reason,
            ));
        }
        Some(KeyInput::Valid(key)) => Some(key),
        None => None,
    };
    let policy = policy(args, key, predicate_type.as_ref())?;

    // Verification.
    match verify_json(&bundle, &root, artifact, &policy) {
        Ok(verified) => report_verified(&subject, verified.get()),
        Err(failure) => {
            report_rejected(&subject, &failure);
            Ok(Outcome::GateFailed)
        }
    }
}

/// Rejects registry options, which have no effect on a bundle, so that a mistake is not hidden.
/// --insecure-registry is allowed because it may come from `CLEARBOX_INSECURE_REGISTRY`.
fn reject_registry_options(registry: &RegistryArgs) -> anyhow::Result<()> {
    if registry.ca_file.is_some() || registry.username.is_some() {
        anyhow::bail!("--ca-file and --username apply to an image, not to --bundle");
    }
    Ok(())
}

/// Reports a trust input that cannot be used, and rejects the bundle.
fn reject_input(subject: &str, check: &str, reason: &str) -> Outcome {
    stderr_line(&format!("Verification of {subject}: rejected"));
    stderr_line(&format!("  failed: {check}: {reason}"));
    Outcome::GateFailed
}

/// Builds the policy from --key (loaded as `key`) or the certificate identity options, and
/// from --type.
fn policy(
    args: &VerifyAttestationArgs,
    key: Option<VerifierKey>,
    predicate_type: Option<&PredicateType>,
) -> anyhow::Result<Policy> {
    let identity = crate::commands::trust::certificate_identity(&args.keyless)?;
    let mut policy = match (key, identity) {
        (Some(key), None) => Policy::key(key),
        (None, Some(identity)) => Policy::certificate(identity),
        _ => anyhow::bail!(
            "--bundle needs either --key PUB, or --certificate-identity ID with --certificate-oidc-issuer URL"
        ),
    };
    if let Some(predicate_type) = predicate_type {
        policy = policy.with_predicate_type(predicate_type.uri());
    }
    Ok(policy)
}

/// A --key argument that could be read.
enum KeyInput {
    Valid(VerifierKey),
    /// The file was read, but contains no usable key.
    Invalid {
        argument: String,
        reason: String,
    },
}

/// Loads a verification key: a PEM file of any type bundles use, or a P-256 key on a PKCS#11
/// token. A file or token that cannot be read is an error; a key that does not parse is
/// `KeyInput::Invalid`.
fn read_key(argument: &str) -> anyhow::Result<KeyInput> {
    let parsed = if argument.starts_with("pkcs11:") {
        let key = PublicKey::load(argument).context("failed to load the public key")?;
        VerifierKey::from_spki_der(&key.to_der())
    } else {
        let bytes = clearbox_oci::read_regular_file(Path::new(argument), MAX_KEY_BYTES)
            .with_context(|| format!("failed to read the public key `{argument}`"))?;
        let text = String::from_utf8(bytes)
            .with_context(|| format!("the public key `{argument}` is not a PEM text file"))?;
        VerifierKey::from_pem(&text)
    };
    Ok(match parsed {
        Ok(key) => KeyInput::Valid(key),
        Err(reason) => KeyInput::Invalid {
            argument: argument.to_owned(),
            reason,
        },
    })
}

fn read_artifact(args: &BundleArgs) -> anyhow::Result<Option<Vec<u8>>> {
    let Some(path) = &args.artifact else {
        return Ok(None);
    };
    // NOTE: the artifact is read whole because some checks need its bytes (Ed25519 signs the
    // artifact itself); an artifact larger than memory fails here.
    clearbox_oci::read_regular_file(path, MAX_ARTIFACT_BYTES)
        .map(Some)
        .with_context(|| format!("failed to read the artifact `{}`", path.display()))
}

/// Prints the checks on stderr and the result as JSON on stdout; a check that could not be
/// made turns the result into a rejection.
fn report_verified(subject: &str, verification: &BundleVerification) -> anyhow::Result<Outcome> {
    let complete = verification.not_checked.is_empty();
    stderr_line(&format!(
        "Verification of {subject}: {}",
        if complete {
            "verified"
        } else {
            "not verified, because some checks could not be made"
        }
    ));
    print_checks("passed", &verification.checks);
    for reason in &verification.not_checked {
        stderr_line(&format!("  not checked: {reason}"));
    }
    for note in &verification.notes {
        stderr_line(&format!("  note: {note}"));
    }
    if !complete {
        return Ok(Outcome::GateFailed);
    }

    let mut json = serde_json::to_vec_pretty(verification).context("failed to encode JSON")?;
    json.push(b'\n');
    crate::output::write_output(None, &json)?;
    Ok(Outcome::Success)
}

fn report_rejected(subject: &str, failure: &VerificationFailure) {
    stderr_line(&format!("Verification of {subject}: rejected"));
    print_checks("passed", &failure.passed_checks());
    for failed in failure.failures() {
        stderr_line(&format!("  failed: {}: {failed}", failed.check()));
    }
    for reason in failure.not_checked() {
        stderr_line(&format!("  not checked: {reason}"));
    }
}

fn print_checks(label: &str, checks: &[Check]) {
    for check in checks {
        stderr_line(&format!("  {label}: {check}"));
    }
}

fn stderr_line(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

#[cfg(test)]
mod tests {
    use clearbox_attest::bundle::SignerEvidence;

    use super::*;

    fn verification(not_checked: Vec<String>) -> BundleVerification {
        BundleVerification {
            media_type: "application/vnd.dev.sigstore.bundle.v0.3+json".to_owned(),
            content: "message-signature",
            artifact_sha256: "00".repeat(32),
            signer: SignerEvidence::PublicKey {
                algorithm: "ECDSA P-256",
                fingerprint: "sha256:00".to_owned(),
                hint: None,
            },
            statement: None,
            tlog_entries: Vec::new(),
            timestamps: Vec::new(),
            signing_times: Vec::new(),
            checks: vec![Check::Signature],
            not_checked,
            notes: Vec::new(),
        }
    }

    #[test]
    fn check_not_made_rejects() {
        // A bundle whose every other check passed.
        let result = verification(vec!["timestamp 0: the ESS attribute".to_owned()]);
        assert_eq!(
            report_verified("`b.json`", &result).unwrap(),
            Outcome::GateFailed
        );
    }
}
