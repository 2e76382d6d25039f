//! The rules decided from what is stored beside an image: `signers`,
//! `attestations.slsaprovenance` and `attestations.vulnerability`.
//!
//! Checks, in order:
//! 1. `signers`: each key's signatures are verified as `clearbox verify --key` verifies them
//!    (signature over the payload, payload naming the image digest). Each identity's are
//!    verified as `clearbox verify --certificate-identity` verifies them, offline against the
//!    trusted root. With `require: any` one signer suffices, with `require: all` every key and
//!    identity must have signed;
//! 2. `attestations.slsaprovenance`: attestations whose signature verifies with one of the
//!    signer keys and whose predicate is SLSA provenance are checked against the provenance
//!    conditions; one statement that passes every check suffices;
//! 3. `attestations.vulnerability`: of the verified cosign vulnerability attestations, the one
//!    with the latest `metadata.scanFinishedOn` is checked (see [`super::vulnerability`]).
//!
//! Attestations are verified with the keys of `signers.keys` only: a policy without signer
//! keys cannot check them, and says so.

use clearbox_attest::PublicKey;
use clearbox_attest::bundle::{CertificateIdentity, TrustedRoot, ValueMatcher};
use clearbox_attest::cosign::{
    self, ArtifactStore, AttestationVerifyOptions, CosignError, KeylessPolicy, VerifiedAttestation,
    VerifyOptions,
};
use clearbox_attest::intoto::PredicateType;
use clearbox_attest::slsa::{PROVENANCE_TYPES, ProvenancePolicy, check_provenance_policy};
use tracing::debug;

use super::evaluation::{Evaluation, Outcome, Target};
use super::model::{
    IdentityMatch, IdentitySigner, KeySigner, Policy, Rule, SignerRequirement, Signers,
};
use super::parse::PolicyError;
use super::vulnerability::check_vulnerability;

/// A signer key of the policy, loaded.
#[derive(Debug, Clone)]
pub struct LoadedKey {
    /// The key as the policy names it.
    pub signer: KeySigner,
    /// The key.
    pub key: PublicKey,
}

/// Inputs of signer verification besides the policy: its keys, loaded, and the Sigstore
/// trusted root for keyless identities, or the reason there is none.
#[derive(Debug, Clone)]
pub struct Verifiers {
    /// The keys of `signers.keys`.
    pub keys: Vec<LoadedKey>,
    /// The trusted root that identity signers are verified against, or why it is unavailable;
    /// without one, identity signers could not be checked.
    pub trusted_root: Result<TrustedRoot, String>,
    /// The keys of each `signed_objects` entry, in the entries' order.
    pub object_keys: Vec<Vec<LoadedKey>>,
}

/// Loads every key of `signers.keys`, so that a missing or invalid key fails before anything
/// is read from a registry.
pub fn load_signer_keys(policy: &Policy) -> Result<Vec<LoadedKey>, PolicyError> {
    let Some(signers) = &policy.signers else {
        return Ok(Vec::new());
    };
    signers
        .keys
        .iter()
        .map(|signer| load_key(policy, signer))
        .collect()
}

/// Loads the keys of every `signed_objects` entry, one list per entry, so that a missing or
/// invalid key fails when the policy is loaded rather than at the first admission.
pub fn load_object_signer_keys(policy: &Policy) -> Result<Vec<Vec<LoadedKey>>, PolicyError> {
    policy
        .signed_objects
        .iter()
        .map(|rule| {
            rule.keys
                .iter()
                .map(|signer| load_key(policy, signer))
                .collect()
        })
        .collect()
}

fn load_key(policy: &Policy, signer: &KeySigner) -> Result<LoadedKey, PolicyError> {
    PublicKey::load(&signer.location)
        .map(|key| LoadedKey {
            signer: signer.clone(),
            key,
        })
        .map_err(|source| PolicyError::Key {
            path: policy.file.clone(),
            key: signer.written.clone(),
            source: Box::new(source),
        })
}

/// Records `signers`, `attestations.slsaprovenance` and `attestations.vulnerability`, each when
/// the policy sets it, for the image of `store`.
pub fn evaluate_store(
    policy: &Policy,
    verifiers: &Verifiers,
    store: &dyn ArtifactStore,
    target: &Target,
    now: chrono::DateTime<chrono::Utc>,
    evaluation: &mut Evaluation,
) {
    if let Some(signers) = &policy.signers {
        let (outcome, message) = check_signers(signers, verifiers, store);
        evaluation.record(policy, Rule::Signers, target, outcome, message);
    }
    if policy.slsa_provenance.is_none() && policy.vulnerability.is_none() {
        return;
    }
    let attestations = verified_attestations(&verifiers.keys, store);
    if let Some(provenance) = &policy.slsa_provenance {
        let (outcome, message) = match &attestations {
            Ok(found) => check_provenance(provenance, found, store),
            Err(reason) => (Outcome::CouldNotCheck, reason.clone()),
        };
        evaluation.record(policy, Rule::SlsaProvenance, target, outcome, message);
    }
    if let Some(rule) = &policy.vulnerability {
        let (outcome, message) = match &attestations {
            Ok(found) => check_vulnerability(rule, found, now),
            Err(reason) => (Outcome::CouldNotCheck, reason.clone()),
        };
        evaluation.record(policy, Rule::Vulnerability, target, outcome, message);
    }
}

/// Checks whether one key signed: `Ok(true)` signed, `Ok(false)` not, `Err` could not check.
fn key_signed(key: &PublicKey, store: &dyn ArtifactStore) -> Result<(bool, String), String> {
    match cosign::verify_signatures(store, key, &VerifyOptions::default()) {
        Ok(verification) => Ok((
            true,
            format!("{} signature(s) verified", verification.verified.len()),
        )),
        Err(CosignError::NoSignatures { .. }) => Ok((false, "no signatures found".to_owned())),
        Err(error @ CosignError::NoValidSignatures { .. }) => Ok((false, error.to_string())),
        Err(error) => Err(cosign::with_causes(&error)),
    }
}

/// Checks whether one identity signed, with the results [`key_signed`] returns for a key.
fn identity_signed(
    identity: &IdentitySigner,
    trusted_root: &Result<TrustedRoot, String>,
    store: &dyn ArtifactStore,
) -> Result<(bool, String), String> {
    let trusted_root = trusted_root.as_ref().map_err(Clone::clone)?;
    let signer = CertificateIdentity {
        identity: match &identity.identity {
            IdentityMatch::Exact(text) => ValueMatcher::Exact(text.clone()),
            IdentityMatch::Regexp(regex) => ValueMatcher::Pattern(regex.clone()),
        },
        issuer: ValueMatcher::Exact(identity.issuer.clone()),
    };
    let policy = KeylessPolicy {
        trusted_root,
        signer,
        now: None,
    };
    match cosign::verify_signatures_keyless(store, &policy, &VerifyOptions::default()) {
        Ok(verification) => Ok((
            true,
            format!("{} signature(s) verified", verification.verified.len()),
        )),
        Err(CosignError::NoSignatures { .. }) => Ok((false, "no signatures found".to_owned())),
        Err(error @ CosignError::NoValidSignatures { .. }) => Ok((false, error.to_string())),
        Err(error) => Err(cosign::with_causes(&error)),
    }
}

fn check_signers(
    signers: &Signers,
    verifiers: &Verifiers,
    store: &dyn ArtifactStore,
) -> (Outcome, String) {
    let mut signed = 0usize;
    let mut unknown = 0usize;
    let mut notes = Vec::new();
    for loaded in &verifiers.keys {
        let name = &loaded.signer.written;
        match key_signed(&loaded.key, store) {
            Ok((true, detail)) => {
                signed += 1;
                notes.push(format!("key `{name}` signed ({detail})"));
            }
            Ok((false, detail)) => notes.push(format!("key `{name}` did not sign: {detail}")),
            Err(reason) => {
                unknown += 1;
                notes.push(format!("key `{name}` could not be checked: {reason}"));
            }
        }
    }
    for identity in &signers.identities {
        match identity_signed(identity, &verifiers.trusted_root, store) {
            Ok((true, detail)) => {
                signed += 1;
                notes.push(format!("{identity} signed ({detail})"));
            }
            Ok((false, detail)) => notes.push(format!("{identity} did not sign: {detail}")),
            Err(reason) => {
                unknown += 1;
                notes.push(format!("{identity} could not be checked: {reason}"));
            }
        }
    }
    let total = verifiers.keys.len() + signers.identities.len();
    let outcome = match signers.require {
        SignerRequirement::Any if signed > 0 => Outcome::Passed,
        SignerRequirement::Any if unknown > 0 => Outcome::CouldNotCheck,
        SignerRequirement::All if signed == total => Outcome::Passed,
        SignerRequirement::All if signed + unknown == total => Outcome::CouldNotCheck,
        _ => Outcome::Failed,
    };
    debug!(
        signed,
        unknown,
        total,
        outcome = outcome.name(),
        "signers rule"
    );
    let message = format!(
        "{signed} of {total} signers signed (require: {}): {}",
        signers.require.name(),
        notes.join("; ")
    );
    (outcome, message)
}

/// Collects every attestation that verifies with one of the keys, or the reason none could be
/// checked.
fn verified_attestations(
    keys: &[LoadedKey],
    store: &dyn ArtifactStore,
) -> Result<Vec<VerifiedAttestation>, String> {
    if keys.is_empty() {
        return Err("the policy names no `signers.keys` to verify attestations with".to_owned());
    }
    let options = AttestationVerifyOptions::default();
    let mut found = Vec::new();
    for loaded in keys {
        match cosign::verify_attestations(store, &loaded.key, &options) {
            Ok(verification) => found.extend(verification.verified),
            Err(CosignError::NoAttestations { .. } | CosignError::NoValidAttestations { .. }) => {}
            Err(error) => return Err(cosign::with_causes(&error)),
        }
    }
    Ok(found)
}

fn check_provenance(
    policy: &ProvenancePolicy,
    attestations: &[VerifiedAttestation],
    store: &dyn ArtifactStore,
) -> (Outcome, String) {
    let digest = store.subject().digest.to_string();
    let statements: Vec<&VerifiedAttestation> = attestations
        .iter()
        .filter(|a| PROVENANCE_TYPES.contains(&a.statement.get().predicate_type()))
        .collect();
    if statements.is_empty() {
        return (
            Outcome::Failed,
            "no SLSA provenance attestation verifies with the signer keys".to_owned(),
        );
    }
    let mut failures = Vec::new();
    for attestation in &statements {
        let report = check_provenance_policy(attestation.statement.get(), &digest, policy);
        if report.passed() {
            return (
                Outcome::Passed,
                format!(
                    "the provenance at {} passed every check",
                    attestation.location
                ),
            );
        }
        let failed: Vec<String> = report.failures().map(ToString::to_string).collect();
        failures.push(format!("{}: {}", attestation.location, failed.join("; ")));
    }
    (
        Outcome::Failed,
        format!(
            "no provenance statement meets the conditions: {}",
            failures.join(" | ")
        ),
    )
}

/// Returns the predicate type URI of cosign's vulnerability attestation.
#[must_use]
pub fn vulnerability_type() -> &'static str {
    PredicateType::CosignVuln.uri()
}
