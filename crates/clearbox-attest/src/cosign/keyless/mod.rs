//! Keyless verification of an image's signatures and attestations: each carries a Fulcio
//! certificate instead of being checked with a key the verifier holds, as `cosign verify
//! --certificate-identity ID --certificate-oidc-issuer URL` checks them.
//!
//! Two layouts are read:
//!
//! - cosign's legacy layout: `.sig` and `.att` layers (or their OCI 1.1 referrers) with the
//!   certificate, Rekor signed entry timestamp and RFC 3161 timestamp in the annotations
//!   [`CERTIFICATE_ANNOTATION`], [`REKOR_BUNDLE_ANNOTATION`] and [`TIMESTAMP_ANNOTATION`].
//! - Sigstore bundles stored as OCI 1.1 referrers of type
//!   `application/vnd.dev.sigstore.bundle.v0.3+json`, as cosign stores them in the bundle
//!   format (the default of cosign 3). Each contains a DSSE envelope with an in-toto statement
//!   about the image. A signature's statement has the predicate type [`SIGN_PREDICATE_TYPE`];
//!   the referrer's `dev.sigstore.bundle.predicateType` annotation sorts the referrers into
//!   signatures and attestations before anything is verified.
//!
//! Checks, for each layer (the failure is the `KeylessChecks` variant of
//! [`SignatureCheckError`] or [`AttestationCheckError`], naming each failed
//! [`Check`](crate::bundle::Check)):
//!
//! 1. the layer is read and matches its descriptor, as for key-based verification;
//! 2. the layer has a signing certificate (a layer without one is rejected as key-based);
//! 3. [`bundle::verify`](crate::bundle::verify) checks the certificate, the signature, the
//!    Rekor entry and the RFC 3161 timestamp against the trusted root. It requires a code-signing
//!    leaf that chains to a Fulcio CA of the root, an embedded SCT from a CT log of the root, and
//!    the SAN and OIDC issuer the caller requires. The signature must verify over the payload
//!    (the DSSE PAE for attestations), the entry's body and signed entry timestamp must match,
//!    and the certificate must be valid at every verified time. A layer with neither a signed
//!    entry timestamp nor an RFC 3161 timestamp fails `signing-time`, because nothing proves
//!    when the short-lived certificate was used;
//! 4. a check that could not be made rejects the layer;
//! 5. the payload's claims, as for key-based verification: for a signature, the image digest,
//!    the required repository and annotations; for an attestation, the subject, the predicate
//!    type and the layer's `predicateType` annotation. A bundle signature's statement has only
//!    the image digest, so requiring a repository or annotations rejects it.
//!
//! The image passes when at least one layer passes every check. The chain annotation and Fulcio
//! extensions other than the SAN and issuer are not used.

pub(crate) mod annotations;

use clearbox_oci::Digest;
use tracing::debug;

use super::error::{ArtifactLocation, AttestationCheckError, CosignError, SignatureCheckError};
use super::format::{ArtifactDescriptor, ArtifactKind, ArtifactManifest};
use super::identity::Identity;
use super::referrers::{FoundManifest, artifact_manifests, check_layers};
use super::store::{ArtifactStore, MAX_PAYLOAD_BYTES, StoreError};
use super::verify::{VerifyOptions, check_claims, layer_signature, read_payload};
use super::verify_attestation::{AttestationVerifyOptions, check_statement, read_envelope};
use super::{Rejected, StoredManifest};
use crate::Verified;
use crate::bundle::{
    self, Artifact, Bundle, BundleVerification, CertificateIdentity, Content, Policy, Timestamp,
    TrustedRoot, VerificationFailure,
};
use crate::dsse::Envelope;
use crate::intoto::{PAYLOAD_TYPE, Statement};
use crate::simple_signing::SimpleSigning;

pub use annotations::{
    AnnotationError, CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, REKOR_BUNDLE_ANNOTATION,
    TIMESTAMP_ANNOTATION,
};

/// Artifact and layer media types of a Sigstore bundle stored as an OCI 1.1 referrer.
pub const BUNDLE_MEDIA_TYPES: [&str; 2] = [
    "application/vnd.dev.sigstore.bundle.v0.3+json",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
];

/// The predicate type of the statement in an image signature of the bundle format.
pub const SIGN_PREDICATE_TYPE: &str = "https://sigstore.dev/cosign/sign/v1";

/// The manifest annotation of a bundle referrer that names its statement's predicate type.
const BUNDLE_PREDICATE_ANNOTATION: &str = "dev.sigstore.bundle.predicateType";

/// The trust anchors and signer that keyless verification requires, besides the checks of each
/// kind.
#[derive(Debug, Clone)]
pub struct KeylessPolicy<'a> {
    /// The Fulcio CAs, Rekor logs, CT logs and timestamp authorities to trust.
    pub trusted_root: &'a TrustedRoot,
    /// The SAN and OIDC issuer the signing certificate must have.
    pub signer: CertificateIdentity,
    /// The current time, which integrated times and timestamps must not be after. Default
    /// (`None`): the system clock.
    pub now: Option<Timestamp>,
}

impl KeylessPolicy<'_> {
    fn bundle_policy(&self) -> Policy {
        let policy = Policy::certificate(self.signer.clone());
        match self.now {
            Some(now) => policy.with_current_time(now),
            None => policy,
        }
    }
}

/// The signed content of an image signature.
#[derive(Debug, Clone)]
pub enum SignedPayload {
    /// cosign's simple signing payload, from the legacy layout.
    SimpleSigning(Verified<SimpleSigning>),
    /// An in-toto statement of type [`SIGN_PREDICATE_TYPE`], from a Sigstore bundle.
    Statement(Verified<Statement>),
}

/// A signature that passed every keyless check.
#[derive(Debug, Clone)]
pub struct KeylessSignature {
    /// The verified payload.
    pub payload: SignedPayload,
    /// The payload exactly as signed: the simple signing JSON, or the statement JSON of a
    /// bundle.
    pub payload_bytes: Vec<u8>,
    /// The signer and the proof of signing time: the certificate's identities and issuer, the
    /// log entries and timestamps, and every check that passed.
    pub signer: Verified<BundleVerification>,
    /// The signature's location.
    pub location: ArtifactLocation,
}

/// The result of [`verify_signatures_keyless`]: at least one verified signature.
#[derive(Debug)]
pub struct KeylessSignatureVerification {
    /// The image's digest.
    pub image: Digest,
    /// The signatures that passed every check; never empty.
    pub verified: Vec<KeylessSignature>,
    /// The signatures that failed a check, key-based ones included.
    pub rejected: Vec<Rejected<SignatureCheckError>>,
    /// Whether the claimed repository was checked (only when [`VerifyOptions::identity`] is
    /// set).
    pub identity_checked: bool,
}

/// An attestation that passed every keyless check.
#[derive(Debug, Clone)]
pub struct KeylessAttestation {
    /// The verified statement.
    pub statement: Verified<Statement>,
    /// The DSSE envelope: as stored for a legacy layer, re-encoded from a Sigstore bundle.
    pub envelope: Vec<u8>,
    /// The signer and the proof of signing time, as for [`KeylessSignature::signer`].
    pub signer: Verified<BundleVerification>,
    /// The attestation's location.
    pub location: ArtifactLocation,
}

/// The result of [`verify_attestations_keyless`]: at least one verified attestation.
#[derive(Debug)]
pub struct KeylessAttestationVerification {
    /// The image's digest.
    pub image: Digest,
    /// The attestations that passed every check; never empty.
    pub verified: Vec<KeylessAttestation>,
    /// The attestations that failed a check.
    pub rejected: Vec<Rejected<AttestationCheckError>>,
}

/// Verifies the store's image's signatures against a certificate identity; see the module
/// documentation for the checks. Fails with [`CosignError::NoSignatures`] when there is none
/// and with [`CosignError::NoValidSignatures`] when none passes.
pub fn verify_signatures_keyless(
    store: &dyn ArtifactStore,
    policy: &KeylessPolicy<'_>,
    options: &VerifyOptions,
) -> Result<KeylessSignatureVerification, CosignError> {
    let image = store.subject().digest.clone();
    let image_name = format!("{}@{image}", store.location());
    let required_identity = options
        .identity
        .as_deref()
        .map(Identity::parse)
        .transpose()?;
    let bundle_policy = policy.bundle_policy();

    let (mut manifests, mut searched) = artifact_manifests(store, ArtifactKind::Signatures)?;
    manifests.extend(bundle_manifests(store, ArtifactKind::Signatures)?);
    searched.push(format!(
        "referrers of type `{}` with predicate type `{SIGN_PREDICATE_TYPE}`",
        BUNDLE_MEDIA_TYPES[0]
    ));
    let (passed, rejected) = check_layers(
        manifests,
        |reason| SignatureCheckError::InvalidManifest { reason },
        |layer| {
            if BUNDLE_MEDIA_TYPES.contains(&layer.media_type.as_str()) {
                return check_bundle_signature(store, layer, policy, &bundle_policy, options);
            }

            // 1-2. The payload and the certificate.
            let payload = read_payload(store, layer)?;
            if !annotations::has_certificate(&layer.annotations) {
                return Err(SignatureCheckError::NoCertificate);
            }
            let signature = layer_signature(layer)?;

            // 3-4. Certificate, signature, log entry and timestamp.
            let bundle = annotations::signature_bundle(&layer.annotations, signature)?;
            let signer = verify_complete(
                &bundle,
                policy.trusted_root,
                Artifact::Bytes(&payload),
                &bundle_policy,
            )
            .map_err(|problem| match problem {
                Problem::Failed(failure) => SignatureCheckError::KeylessChecks(failure),
                Problem::NotChecked(reasons) => SignatureCheckError::KeylessChecksNotMade(reasons),
            })?;

            // 5. The payload's claims.
            let parsed =
                SimpleSigning::parse(&payload).map_err(SignatureCheckError::InvalidPayload)?;
            let verified = Verified::new(parsed);
            check_claims(&verified, &image, required_identity.as_ref(), options)?;
            Ok((SignedPayload::SimpleSigning(verified), payload, signer))
        },
    );
    let verified: Vec<KeylessSignature> = passed
        .into_iter()
        .map(
            |((payload, payload_bytes, signer), location)| KeylessSignature {
                payload,
                payload_bytes,
                signer,
                location,
            },
        )
        .collect();

    // No manifest, or manifests without layers: nothing to check.
    let rejected = crate::cosign::error::require_valid_signatures(
        verified.len(),
        &image_name,
        searched,
        rejected,
    )?;
    Ok(KeylessSignatureVerification {
        image,
        verified,
        rejected,
        identity_checked: options.identity.is_some(),
    })
}

/// Verifies the store's image's attestations against a certificate identity: legacy layers
/// with keyless annotations, and Sigstore bundles stored as referrers. See the module
/// documentation for the checks. Fails with [`CosignError::NoAttestations`] when there is none
/// and with [`CosignError::NoValidAttestations`] when none passes.
pub fn verify_attestations_keyless(
    store: &dyn ArtifactStore,
    policy: &KeylessPolicy<'_>,
    options: &AttestationVerifyOptions,
) -> Result<KeylessAttestationVerification, CosignError> {
    let image = store.subject().digest.clone();
    let image_name = format!("{}@{image}", store.location());
    let bundle_policy = policy.bundle_policy();
    let image_sha256 = sha256_bytes(&image);

    let (mut manifests, mut searched) = artifact_manifests(store, ArtifactKind::Attestations)?;
    manifests.extend(bundle_manifests(store, ArtifactKind::Attestations)?);
    searched.push(format!("referrers of type `{}`", BUNDLE_MEDIA_TYPES[0]));

    let (passed, rejected) = check_layers(
        manifests,
        |reason| AttestationCheckError::InvalidManifest { reason },
        |layer| {
            // 1-2. The envelope or bundle, and the certificate.
            let (bundle, envelope_bytes) = if BUNDLE_MEDIA_TYPES
                .contains(&layer.media_type.as_str())
            {
                read_bundle_layer(store, layer).map_err(BlobProblem::into_attestation_error)?
            } else {
                let bytes = read_envelope(store, layer)?;
                if !annotations::has_certificate(&layer.annotations) {
                    return Err(AttestationCheckError::NoCertificate);
                }
                let envelope =
                    Envelope::from_json(&bytes).map_err(AttestationCheckError::InvalidEnvelope)?;
                let bundle = annotations::attestation_bundle(&layer.annotations, envelope, &bytes)?;
                (bundle, bytes)
            };

            // 3-4. Certificate, signature over the PAE, log entry and timestamp.
            let signer = verify_complete(
                &bundle,
                policy.trusted_root,
                Artifact::Sha256(image_sha256),
                &bundle_policy,
            )
            .map_err(|problem| match problem {
                Problem::Failed(failure) => AttestationCheckError::KeylessChecks(failure),
                Problem::NotChecked(reasons) => {
                    AttestationCheckError::KeylessChecksNotMade(reasons)
                }
            })?;

            // 5. The statement's claims.
            let statement = verified_statement(&bundle).map_err(|problem| match problem {
                StatementProblem::NotDsse => AttestationCheckError::UnexpectedMediaType {
                    found: format!("{} (a message signature)", BUNDLE_MEDIA_TYPES[0]),
                },
                StatementProblem::PayloadType(found) => {
                    AttestationCheckError::PayloadTypeMismatch { found }
                }
                StatementProblem::Invalid(error) => AttestationCheckError::InvalidStatement(error),
            })?;
            check_statement(&statement, layer, &image, options)?;
            Ok((statement, envelope_bytes, signer))
        },
    );
    let verified: Vec<KeylessAttestation> = passed
        .into_iter()
        .map(
            |((statement, envelope, signer), location)| KeylessAttestation {
                statement,
                envelope,
                signer,
                location,
            },
        )
        .collect();

    // No manifest, or manifests without layers: nothing to check.
    let rejected = crate::cosign::error::require_valid_attestations(
        verified.len(),
        &image_name,
        searched,
        rejected,
    )?;
    Ok(KeylessAttestationVerification {
        image,
        verified,
        rejected,
    })
}

/// The reason a bundle did not verify completely.
enum Problem {
    Failed(VerificationFailure),
    NotChecked(Vec<String>),
}

/// Runs the bundle verifier and rejects a result with checks that could not be made.
fn verify_complete(
    bundle: &Bundle,
    root: &TrustedRoot,
    artifact: Artifact<'_>,
    policy: &Policy,
) -> Result<Verified<BundleVerification>, Problem> {
    let verified = bundle::verify(bundle, root, artifact, policy).map_err(Problem::Failed)?;
    if !verified.not_checked.is_empty() {
        return Err(Problem::NotChecked(verified.not_checked.clone()));
    }
    debug!(checks = verified.checks.len(), "keyless checks passed");
    Ok(verified)
}

/// Checks a Sigstore bundle layer as an image signature: checks 1 to 4 as for attestations,
/// then a statement of type [`SIGN_PREDICATE_TYPE`] about the image.
fn check_bundle_signature(
    store: &dyn ArtifactStore,
    layer: &ArtifactDescriptor,
    policy: &KeylessPolicy<'_>,
    bundle_policy: &Policy,
    options: &VerifyOptions,
) -> Result<(SignedPayload, Vec<u8>, Verified<BundleVerification>), SignatureCheckError> {
    let image = &store.subject().digest;

    // 1-4. The bundle, verified with the image's digest as the artifact.
    let (bundle, _) = read_bundle_layer(store, layer).map_err(BlobProblem::into_signature_error)?;
    let signer = verify_complete(
        &bundle,
        policy.trusted_root,
        Artifact::Sha256(sha256_bytes(image)),
        bundle_policy,
    )
    .map_err(|problem| match problem {
        Problem::Failed(failure) => SignatureCheckError::KeylessChecks(failure),
        Problem::NotChecked(reasons) => SignatureCheckError::KeylessChecksNotMade(reasons),
    })?;

    // 5. A signature statement about this image; it claims nothing else.
    let statement = verified_statement(&bundle).map_err(|problem| {
        SignatureCheckError::NotASignatureBundle {
            reason: match problem {
                StatementProblem::NotDsse => "it holds a message signature".to_owned(),
                StatementProblem::PayloadType(found) => format!("its payload type is `{found}`"),
                StatementProblem::Invalid(error) => format!("its statement is invalid: {error}"),
            },
        }
    })?;
    if statement.predicate_type() != SIGN_PREDICATE_TYPE {
        return Err(SignatureCheckError::NotASignatureBundle {
            reason: format!(
                "its statement has the predicate type `{}`",
                statement.predicate_type()
            ),
        });
    }
    if statement.subject_with_sha256(&image.to_string()).is_none() {
        return Err(SignatureCheckError::ManifestDigestMismatch {
            claimed: statement
                .subjects()
                .iter()
                .filter_map(|s| s.digest.get("sha256").map(|hex| format!("sha256:{hex}")))
                .collect::<Vec<_>>()
                .join(", "),
            expected: image.clone(),
        });
    }
    if let Some(identity) = &options.identity {
        return Err(SignatureCheckError::ClaimNotInBundle {
            claim: format!("the repository `{identity}` (--identity)"),
        });
    }
    if let Some(name) = options.annotations.keys().next() {
        return Err(SignatureCheckError::ClaimNotInBundle {
            claim: format!("the annotation `{name}` (-a)"),
        });
    }
    let bytes = statement.to_json();
    Ok((SignedPayload::Statement(statement), bytes, signer))
}

/// The reason a verified bundle has no usable statement.
enum StatementProblem {
    NotDsse,
    PayloadType(String),
    Invalid(crate::intoto::StatementError),
}

/// Parses the statement of a DSSE bundle that just verified. The bundle verifier has checked
/// the signature over the PAE and that the payload is an in-toto statement naming the image.
fn verified_statement(bundle: &Bundle) -> Result<Verified<Statement>, StatementProblem> {
    let Content::Dsse {
        envelope, payload, ..
    } = &bundle.content
    else {
        return Err(StatementProblem::NotDsse);
    };
    if envelope.payload_type != PAYLOAD_TYPE {
        return Err(StatementProblem::PayloadType(envelope.payload_type.clone()));
    }
    let statement = Statement::from_json(payload).map_err(StatementProblem::Invalid)?;
    Ok(Verified::new(statement))
}

/// The reason a layer's blob could not be read as a bundle.
enum BlobProblem {
    Unreadable(StoreError),
    DigestMismatch { expected: Digest, actual: Digest },
    SizeMismatch { expected: u64, actual: u64 },
    Format(VerificationFailure),
}

impl BlobProblem {
    fn into_signature_error(self) -> SignatureCheckError {
        match self {
            BlobProblem::Unreadable(error) => SignatureCheckError::PayloadUnreadable(error),
            BlobProblem::DigestMismatch { expected, actual } => {
                SignatureCheckError::PayloadDigestMismatch { expected, actual }
            }
            BlobProblem::SizeMismatch { expected, actual } => {
                SignatureCheckError::PayloadSizeMismatch { expected, actual }
            }
            BlobProblem::Format(failure) => SignatureCheckError::KeylessChecks(failure),
        }
    }

    fn into_attestation_error(self) -> AttestationCheckError {
        match self {
            BlobProblem::Unreadable(error) => AttestationCheckError::EnvelopeUnreadable(error),
            BlobProblem::DigestMismatch { expected, actual } => {
                AttestationCheckError::EnvelopeDigestMismatch { expected, actual }
            }
            BlobProblem::SizeMismatch { expected, actual } => {
                AttestationCheckError::EnvelopeSizeMismatch { expected, actual }
            }
            BlobProblem::Format(failure) => AttestationCheckError::KeylessChecks(failure),
        }
    }
}

/// Reads a Sigstore bundle layer; returns the bundle and its envelope as JSON (empty for a
/// message signature).
fn read_bundle_layer(
    store: &dyn ArtifactStore,
    layer: &ArtifactDescriptor,
) -> Result<(Bundle, Vec<u8>), BlobProblem> {
    let bytes = store
        .blob(&layer.digest, MAX_PAYLOAD_BYTES)
        .map_err(|error| match error {
            StoreError::DigestMismatch {
                expected, actual, ..
            } => BlobProblem::DigestMismatch { expected, actual },
            other => BlobProblem::Unreadable(other),
        })?;
    if bytes.len() as u64 != layer.size {
        return Err(BlobProblem::SizeMismatch {
            expected: layer.size,
            actual: bytes.len() as u64,
        });
    }
    let bundle = Bundle::from_json(&bytes).map_err(|error| {
        BlobProblem::Format(VerificationFailure::single(bundle::Failure::Format(error)))
    })?;
    let envelope = match &bundle.content {
        Content::Dsse { envelope, .. } => envelope.to_json(),
        Content::Message { .. } => Vec::new(),
    };
    Ok((bundle, envelope))
}

/// Lists the OCI 1.1 referrers of the image that contain Sigstore bundles of `kind`. Those
/// whose `dev.sigstore.bundle.predicateType` annotation is [`SIGN_PREDICATE_TYPE`] are
/// signatures, the others attestations. Without the annotation, a referrer is listed for both,
/// and its statement decides after verification.
fn bundle_manifests(
    store: &dyn ArtifactStore,
    kind: ArtifactKind,
) -> Result<Vec<FoundManifest>, CosignError> {
    let mut found = Vec::new();
    for listed in store.referrers()? {
        if let Some(listed_type) = &listed.descriptor.artifact_type
            && !BUNDLE_MEDIA_TYPES.contains(&listed_type.as_str())
        {
            continue;
        }
        let stored: StoredManifest = store.manifest(&listed.descriptor.digest)?;
        let parsed = ArtifactManifest::from_json(&stored.bytes).map_err(|e| e.to_string());
        let wanted = match &parsed {
            Ok(manifest) => {
                let predicate_type = manifest
                    .annotations
                    .get(BUNDLE_PREDICATE_ANNOTATION)
                    .map(String::as_str);
                let is_signature = predicate_type == Some(SIGN_PREDICATE_TYPE);
                let of_kind = match kind {
                    ArtifactKind::Signatures => predicate_type.is_none() || is_signature,
                    _ => !is_signature,
                };
                of_kind && BUNDLE_MEDIA_TYPES.contains(&manifest.effective_artifact_type())
            }
            Err(_) => listed.descriptor.artifact_type.is_some(),
        };
        if wanted {
            found.push(FoundManifest {
                source: listed.source,
                stored,
                parsed,
            });
        }
    }
    debug!(
        ?kind,
        manifests = found.len(),
        "Sigstore bundle referrers found"
    );
    Ok(found)
}

/// Decodes a `sha256:` digest to its 32 bytes. Another algorithm gives zeros, which no
/// subject matches.
fn sha256_bytes(digest: &Digest) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    if digest.algorithm() == "sha256"
        && let Ok(decoded) = hex::decode(digest.hex())
        && decoded.len() == 32
    {
        bytes.copy_from_slice(&decoded);
    }
    bytes
}

#[cfg(test)]
mod tests {
    use clearbox_oci::Digest;

    use super::*;
    use crate::bundle::ValueMatcher;
    use crate::cosign::format::ArtifactKind;
    use crate::cosign::store::memory::MemoryStore;
    use crate::cosign::{ArtifactWrite, Placement};

    /// The image that `attest/cosign/oci-attestation.sigstore.json` of the corpus is about: its
    /// statement's subject, which cosign attested in a test registry.
    const BUNDLE_SUBJECT: &str =
        "sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4";
    const BUNDLE_IDENTITY: &str = "cody@soyland.com";
    const BUNDLE_ISSUER: &str = "https://github.com/login/oauth";

    /// Builds a store whose image has the corpus bundle as an OCI 1.1 referrer, and loads the
    /// trusted root the bundle verifies with.
    fn bundle_store() -> Option<(MemoryStore, TrustedRoot)> {
        let dir = clearbox_testdata::corpus()?.join("attest/cosign");
        let bundle = std::fs::read(dir.join("oci-attestation.sigstore.json")).unwrap();
        let root = TrustedRoot::from_file(&dir.join("trusted_root_pgi.json")).unwrap();
        let digest: Digest = BUNDLE_SUBJECT.parse().unwrap();
        let store = MemoryStore::new(true).with_subject_digest(digest.clone());

        // The manifest cosign's bundle specification describes: an empty config, the bundle
        // as the only layer, and the image as subject.
        let empty = b"{}".to_vec();
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": BUNDLE_MEDIA_TYPES[0],
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "size": 2, "digest": Digest::of(&empty).to_string()},
            "layers": [{"mediaType": BUNDLE_MEDIA_TYPES[0], "size": bundle.len(), "digest": Digest::of(&bundle).to_string()}],
            "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 1, "digest": BUNDLE_SUBJECT}
        });
        store
            .write(&ArtifactWrite {
                blobs: vec![bundle, empty],
                manifest: serde_json::to_vec(&manifest).unwrap(),
                artifact_type: BUNDLE_MEDIA_TYPES[0].to_owned(),
                placement: Placement::Referrer(ArtifactKind::Attestations),
            })
            .unwrap();
        Some((store, root))
    }

    fn policy<'a>(root: &'a TrustedRoot, identity: &str) -> KeylessPolicy<'a> {
        KeylessPolicy {
            trusted_root: root,
            signer: CertificateIdentity {
                identity: ValueMatcher::Exact(identity.to_owned()),
                issuer: ValueMatcher::Exact(BUNDLE_ISSUER.to_owned()),
            },
            now: None,
        }
    }

    #[test]
    fn bundle_referrer_attestation_verified() {
        let Some((store, root)) = bundle_store() else {
            return;
        };
        let verification = verify_attestations_keyless(
            &store,
            &policy(&root, BUNDLE_IDENTITY),
            &AttestationVerifyOptions::default(),
        )
        .unwrap();
        assert_eq!(verification.verified.len(), 1);
        let attestation = &verification.verified[0];
        assert_eq!(
            attestation.statement.predicate_type(),
            "https://cosign.sigstore.dev/attestation/v1"
        );
        assert_eq!(
            attestation.location.source,
            crate::cosign::ReferrerSource::ReferrersApi
        );
        let envelope = Envelope::from_json(&attestation.envelope).unwrap();
        assert_eq!(envelope.payload_type, PAYLOAD_TYPE);
    }

    #[test]
    fn bundle_referrer_wrong_identity_rejected() {
        let Some((store, root)) = bundle_store() else {
            return;
        };
        let error = verify_attestations_keyless(
            &store,
            &policy(&root, "someone@example.com"),
            &AttestationVerifyOptions::default(),
        )
        .unwrap_err();
        let CosignError::NoValidAttestations { rejected, .. } = error else {
            panic!("{error}");
        };
        assert!(
            rejected[0]
                .reason()
                .starts_with("keyless verification failed: [identity]"),
            "{}",
            rejected[0].reason()
        );
    }

    #[test]
    fn bundle_referrer_other_image_rejected() {
        let Some((store, root)) = bundle_store() else {
            return;
        };
        let store = store.with_subject_digest(Digest::of(b"another image"));
        // The referrer is still listed, but its statement names another image.
        let error = verify_attestations_keyless(
            &store,
            &policy(&root, BUNDLE_IDENTITY),
            &AttestationVerifyOptions::default(),
        )
        .unwrap_err();
        let CosignError::NoValidAttestations { rejected, .. } = error else {
            panic!("{error}");
        };
        assert!(
            rejected[0].reason().contains("[dsse-subject]"),
            "{}",
            rejected[0].reason()
        );
    }
}
