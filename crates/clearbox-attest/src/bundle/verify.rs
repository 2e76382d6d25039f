//! Offline verification of a bundle against a trusted root, an artifact and a policy.
//!
//! Checks, in order (each named by its [`Check`] in reports); every check runs that can, so a
//! failed verification lists all failed checks rather than the first:
//!
//! 1. **Verification material** fits the policy: a key bundle needs a key, a certificate
//!    bundle an identity and issuer.
//! 2. **Signing certificate** (certificate bundles): a code-signing leaf
//!    (`signing-certificate`); no root in the bundle's chain and a path to a Fulcio CA of the
//!    trusted root (`certificate-chain`); an embedded SCT from a CT log of the trusted root
//!    (`certificate-transparency`); the expected SAN (`identity`) and OIDC issuer
//!    (`oidc-issuer`).
//! 3. **Content**: the message digest is the artifact's (`artifact-digest`); the signature
//!    verifies with the certificate's or the given key (`signature`); a DSSE statement names
//!    the artifact as subject (`dsse-subject`).
//! 4. **Transparency log entries**, each (see `tlog`): `tlog-entry`, `tlog-body`,
//!    `signed-entry-timestamp`, `inclusion-proof`, `checkpoint`, `integrated-time`.
//! 5. **RFC 3161 timestamps**, each (see `timestamp`): `signed-timestamp`.
//! 6. **Signing time**: the verified times are the integrated times signed by an inclusion
//!    promise and the times of verified RFC 3161 timestamps. A certificate bundle needs at least
//!    one, and the certificate, its CA chain and the CA's trusted interval must cover each.
//!    Rekor v2 entries, which have no integrated time, have their log key's interval checked
//!    at the timestamp times.

use super::certificate::{self, Certificate};
use super::chain::{self, CertificatePath};
use super::content;
use super::entry_body::{self, ArtifactDigests, Claimed};
use super::error::{Check, Failure, VerificationFailure};
use super::evidence::{BundleVerification, SignerEvidence, TimeEvidence, TimestampEvidence};
use super::identity;
use super::key::VerifierKey;
use super::model::{Bundle, Content, Material};
use super::policy::{Artifact, CertificateIdentity, Policy, Signer};
use super::sct;
use super::time::Timestamp;
use super::timestamp;
use super::tlog;
use super::trusted_root::TrustedRoot;
use crate::Verified;

/// What a verification returns.
pub type VerifiedBundle = Verified<BundleVerification>;

/// Parses `bundle_json` and verifies it; a malformed bundle fails the `bundle-format` check.
pub fn verify_json(
    bundle_json: &[u8],
    root: &TrustedRoot,
    artifact: Artifact<'_>,
    policy: &Policy,
) -> Result<VerifiedBundle, VerificationFailure> {
    let bundle = Bundle::from_json(bundle_json)
        .map_err(|error| VerificationFailure::single(Failure::Format(error)))?;
    verify(&bundle, root, artifact, policy)
}

/// Verifies `bundle` as the module documentation describes.
pub fn verify(
    bundle: &Bundle,
    root: &TrustedRoot,
    artifact: Artifact<'_>,
    policy: &Policy,
) -> Result<VerifiedBundle, VerificationFailure> {
    let mut run = Run {
        failures: Vec::new(),
        // The bundle parsed, so its format passed.
        ran: vec![Check::BundleFormat],
        not_checked: Vec::new(),
        notes: Vec::new(),
        now: policy.now.unwrap_or_else(Timestamp::now),
    };
    let digests = ArtifactDigests {
        sha256: artifact.sha256(),
        bytes: artifact.bytes(),
    };

    // 1-2. Verification material and signing certificate.
    run.ran.push(Check::VerificationMaterial);
    let signer = match (&bundle.material, &policy.signer) {
        (Material::PublicKey { .. }, Signer::Key(key)) => SignerState::Key(key),
        (Material::Certificate { leaf, rest }, Signer::Identity(expected)) => run
            .certificate(leaf, rest, expected, root)
            .map_or(SignerState::Unusable, |state| {
                SignerState::Certificate(Box::new(state))
            }),
        (Material::PublicKey { hint }, Signer::Identity(_)) => {
            run.failures
                .push(Failure::KeyRequired { hint: hint.clone() });
            SignerState::Unusable
        }
        (Material::Certificate { .. }, Signer::Key(_)) => {
            run.failures.push(Failure::IdentityRequired);
            SignerState::Unusable
        }
    };

    // 3. Content against the artifact.
    let statement = run.content(bundle, &signer, &digests, policy);

    // 4. Transparency log entries.
    let claimed = Claimed {
        content: &bundle.content,
        signer: match &signer {
            SignerState::Certificate(state) => entry_body::Signer::Certificate(state.leaf.der()),
            SignerState::Key(key) => entry_body::Signer::Key(key.der()),
            SignerState::Unusable => entry_body::Signer::Unknown,
        },
        artifact: digests,
    };
    run.note_tlog_checks(bundle);
    let tlog = tlog::verify_entries(
        &bundle.tlog_entries,
        bundle.version,
        root,
        &claimed,
        run.now,
        &mut run.failures,
    );
    run.notes.extend(tlog.notes.iter().cloned());

    // 5. RFC 3161 timestamps.
    let timestamps = run.timestamps(bundle, root);

    // 6. Signing time.
    let mut times = tlog.signed_times.clone();
    times.extend(
        timestamps
            .iter()
            .enumerate()
            .map(|(index, timestamp)| TimeEvidence {
                source: format!("timestamp {index} ({})", timestamp.authority),
                time: timestamp.time,
            }),
    );
    run.log_keys_at_timestamp_times(&tlog.untimed, &timestamps);
    if let SignerState::Certificate(state) = &signer {
        run.signing_times(state, &times);
    }

    // Result.
    if !run.failures.is_empty() {
        return Err(VerificationFailure {
            failures: run.failures,
            checks: run.ran,
            not_checked: run.not_checked,
        });
    }
    let checks = run.ran.clone();
    Ok(Verified::new(BundleVerification {
        media_type: bundle.media_type.clone(),
        content: match bundle.content {
            Content::Message { .. } => "message-signature",
            Content::Dsse { .. } => "dsse-envelope",
        },
        artifact_sha256: hex::encode(digests.sha256),
        signer: signer.evidence(&bundle.material),
        statement,
        tlog_entries: tlog.evidence,
        timestamps,
        signing_times: times,
        checks,
        not_checked: run.not_checked,
        notes: run.notes,
    }))
}

/// The signer as far as it could be established.
enum SignerState<'a> {
    Certificate(Box<CertificateState<'a>>),
    Key(&'a VerifierKey),
    /// The material does not fit the policy or the certificate does not parse.
    Unusable,
}

struct CertificateState<'a> {
    leaf: Certificate,
    key: Option<VerifierKey>,
    paths: Vec<CertificatePath<'a>>,
    identities: Vec<String>,
    issuer: String,
    scts: Vec<TimeEvidence>,
}

impl SignerState<'_> {
    fn key(&self) -> Option<&VerifierKey> {
        match self {
            SignerState::Certificate(state) => state.key.as_ref(),
            SignerState::Key(key) => Some(key),
            SignerState::Unusable => None,
        }
    }

    /// Called only after every check passed, so a certificate has a path.
    fn evidence(&self, material: &Material) -> SignerEvidence {
        match self {
            SignerState::Certificate(state) => {
                let validity = state.leaf.validity();
                SignerEvidence::Certificate {
                    identities: state.identities.clone(),
                    oidc_issuer: state.issuer.clone(),
                    certificate_authority: state
                        .paths
                        .first()
                        .map(|path| path.authority.name.clone())
                        .unwrap_or_default(),
                    fingerprint: state.leaf.fingerprint(),
                    not_before: validity.start,
                    not_after: validity.end.unwrap_or(validity.start),
                    scts: state.scts.clone(),
                }
            }
            SignerState::Key(key) => SignerEvidence::PublicKey {
                algorithm: key.algorithm(),
                fingerprint: key.fingerprint(),
                hint: match material {
                    Material::PublicKey { hint } => hint.clone(),
                    Material::Certificate { .. } => None,
                },
            },
            SignerState::Unusable => SignerEvidence::PublicKey {
                algorithm: "none",
                fingerprint: String::new(),
                hint: None,
            },
        }
    }
}

/// The state of one verification: failures so far, the checks that ran, what was skipped.
struct Run {
    failures: Vec<Failure>,
    ran: Vec<Check>,
    /// Checks that apply but could not be made.
    not_checked: Vec<String>,
    /// Data in the bundle that no check uses, by design.
    notes: Vec<String>,
    now: Timestamp,
}

impl Run {
    fn ran(&mut self, check: Check) {
        if !self.ran.contains(&check) {
            self.ran.push(check);
        }
    }

    /// Step 2: the signing certificate, its chain, SCTs and identity.
    fn certificate<'a>(
        &mut self,
        leaf_der: &[u8],
        rest: &[Vec<u8>],
        expected: &CertificateIdentity,
        root: &'a TrustedRoot,
    ) -> Option<CertificateState<'a>> {
        // Profile.
        self.ran(Check::SigningCertificate);
        let leaf = match Certificate::from_der(leaf_der) {
            Ok(leaf) => leaf,
            Err(reason) => {
                self.failures.push(Failure::InvalidCertificate(reason));
                return None;
            }
        };
        if let Err(reason) = leaf_profile(&leaf) {
            self.failures.push(Failure::CertificateProfile(reason));
        }
        let key = match leaf.public_key() {
            Ok(key) => Some(key),
            Err(reason) => {
                self.failures.push(Failure::CertificateProfile(format!(
                    "has an unusable key: {reason}"
                )));
                None
            }
        };

        // Chain.
        self.ran(Check::CertificateChain);
        self.bundle_chain(rest);
        let paths = match chain::paths(&leaf, &root.certificate_authorities) {
            Ok(paths) => paths,
            Err(reason) => {
                self.failures.push(Failure::UntrustedCertificate(reason));
                Vec::new()
            }
        };

        // SCT, against the issuer of the first path.
        self.ran(Check::CertificateTransparency);
        let mut scts = Vec::new();
        if let Some(issuer_certificate) = paths.first().and_then(|path| path.issuers.first()) {
            match sct::verify_embedded(&leaf, issuer_certificate, root) {
                Ok(verified) => {
                    scts = verified
                        .into_iter()
                        .map(|sct| TimeEvidence {
                            source: sct.log,
                            time: sct.time,
                        })
                        .collect();
                }
                Err(reason) => self.failures.push(Failure::Sct(reason)),
            }
        }

        // Identity and issuer.
        self.ran(Check::Identity);
        let identities = leaf.san_identities().unwrap_or_else(|reason| {
            self.failures.push(Failure::CertificateProfile(reason));
            Vec::new()
        });
        if !identities
            .iter()
            .any(|found| expected.identity.is_match(found))
        {
            self.failures.push(Failure::IdentityMismatch {
                expected: expected.identity.to_string(),
                found: identities.clone(),
            });
        }
        self.ran(Check::OidcIssuer);
        let found_issuer = identity::oidc_issuer(&leaf).unwrap_or_else(|reason| {
            self.failures.push(Failure::CertificateProfile(reason));
            None
        });
        if !found_issuer
            .as_deref()
            .is_some_and(|found| expected.issuer.is_match(found))
        {
            self.failures.push(Failure::IssuerMismatch {
                expected: expected.issuer.to_string(),
                found: found_issuer.clone(),
            });
        }

        Some(CertificateState {
            leaf,
            key,
            paths,
            identities,
            issuer: found_issuer.unwrap_or_default(),
            scts,
        })
    }

    /// Rejects a root in the bundle's chain; other certificates there are not used.
    fn bundle_chain(&mut self, rest: &[Vec<u8>]) {
        for der in rest {
            match Certificate::from_der(der) {
                Ok(certificate) if certificate.is_self_signed() => {
                    self.failures.push(Failure::RootInBundleChain {
                        subject: certificate.subject(),
                    });
                }
                Ok(certificate) => self.notes.push(format!(
                    "the bundle's chain certificate `{}` is not used; the path is built from the trusted root",
                    certificate.subject()
                )),
                Err(reason) => self.failures.push(Failure::InvalidCertificate(format!(
                    "a certificate of the bundle's chain: {reason}"
                ))),
            }
        }
    }

    /// Step 3: message digest, signature and DSSE statement.
    fn content(
        &mut self,
        bundle: &Bundle,
        signer: &SignerState<'_>,
        digests: &ArtifactDigests<'_>,
        policy: &Policy,
    ) -> Option<super::evidence::StatementEvidence> {
        if let Content::Message {
            digest: Some(_), ..
        } = &bundle.content
        {
            self.ran(Check::ArtifactDigest);
            content::check_message_digest(&bundle.content, digests, &mut self.failures);
        }
        if let Some(key) = signer.key() {
            self.ran(Check::Signature);
            content::check_signature(&bundle.content, key, digests, &mut self.failures);
        }
        if matches!(bundle.content, Content::Dsse { .. }) {
            self.ran(Check::DsseSubject);
        }
        content::check_statement(
            &bundle.content,
            digests,
            policy.predicate_type.as_deref(),
            &mut self.failures,
        )
    }

    /// Records which log checks step 4 runs.
    fn note_tlog_checks(&mut self, bundle: &Bundle) {
        self.ran(Check::TlogEntry);
        self.ran(Check::TlogBody);
        let entries = &bundle.tlog_entries;
        if entries
            .iter()
            .any(|entry| entry.inclusion_promise.is_some())
        {
            self.ran(Check::SignedEntryTimestamp);
        }
        if entries.iter().any(|entry| entry.inclusion_proof.is_some()) {
            self.ran(Check::InclusionProof);
        }
        if entries.iter().any(|entry| {
            entry
                .inclusion_proof
                .as_ref()
                .is_some_and(|proof| proof.checkpoint.is_some())
        }) {
            self.ran(Check::Checkpoint);
        }
        self.ran(Check::IntegratedTime);
    }

    /// Step 5: every RFC 3161 timestamp.
    fn timestamps(&mut self, bundle: &Bundle, root: &TrustedRoot) -> Vec<TimestampEvidence> {
        let mut verified = Vec::new();
        for (index, response) in bundle.timestamps.iter().enumerate() {
            self.ran(Check::SignedTimestamp);
            match timestamp::verify(response, bundle.timestamped_bytes(), root) {
                Ok(timestamp) if timestamp.time > self.now => {
                    self.failures.push(Failure::TimestampInvalid {
                        index,
                        reason: format!(
                            "the time {} is in the future (now {})",
                            timestamp.time, self.now
                        ),
                    });
                }
                Ok(timestamp) => {
                    self.not_checked.extend(
                        timestamp
                            .not_checked
                            .into_iter()
                            .map(|note| format!("timestamp {index}: {note}")),
                    );
                    verified.push(TimestampEvidence {
                        authority: timestamp.authority,
                        time: timestamp.time,
                    });
                }
                Err(reason) => self
                    .failures
                    .push(Failure::TimestampInvalid { index, reason }),
            }
        }
        verified
    }

    /// Step 6, for entries without an integrated time: the log key at the timestamp times.
    fn log_keys_at_timestamp_times(
        &mut self,
        untimed: &[(usize, &super::trusted_root::LogInstance)],
        timestamps: &[TimestampEvidence],
    ) {
        for (entry, log) in untimed {
            if timestamps.is_empty() {
                self.not_checked.push(format!(
                    "tlog entry {entry}: the log key's trusted period is not checked, because no time is verified"
                ));
            }
            for timestamp in timestamps {
                if !log.valid_for.contains(timestamp.time) {
                    self.failures.push(Failure::LogKeyNotValid {
                        entry: *entry,
                        time: timestamp.time,
                        range: log.valid_for,
                    });
                }
            }
        }
    }

    /// Step 6: at least one verified time, and the certificate path valid at each.
    fn signing_times(&mut self, state: &CertificateState<'_>, times: &[TimeEvidence]) {
        self.ran(Check::SigningTime);
        if times.is_empty() {
            self.failures.push(Failure::NoVerifiedTime);
            return;
        }
        if state.paths.is_empty() {
            // The chain failure is reported already; check the leaf's own validity.
            for time in times {
                let validity = state.leaf.validity();
                if !validity.contains(time.time) {
                    self.failures.push(Failure::OutsideCertificateValidity {
                        source_name: time.source.clone(),
                        time: time.time,
                        reason: format!("the certificate is valid {validity}"),
                    });
                }
            }
            return;
        }
        for time in times {
            let reasons: Vec<String> = state
                .paths
                .iter()
                .map(|path| chain::valid_at(&state.leaf, path, time.time))
                .filter_map(Result::err)
                .collect();
            if reasons.len() == state.paths.len() {
                self.failures.push(Failure::OutsideCertificateValidity {
                    source_name: time.source.clone(),
                    time: time.time,
                    reason: reasons.join("; "),
                });
            }
        }
    }
}

/// Checks that a signing certificate is a leaf for code signing.
fn leaf_profile(leaf: &Certificate) -> Result<(), String> {
    if leaf
        .basic_constraints()?
        .is_some_and(|constraints| constraints.ca)
    {
        return Err("is a CA certificate, not a signing certificate".to_owned());
    }
    if !leaf
        .key_usage()?
        .is_some_and(|usage| usage.digital_signature())
    {
        return Err("lacks the digitalSignature key usage".to_owned());
    }
    if !leaf
        .extended_key_usage()?
        .contains(&certificate::CODE_SIGNING)
    {
        return Err("lacks the codeSigning extended key usage".to_owned());
    }
    let unknown = leaf.unknown_critical_extensions();
    if !unknown.is_empty() {
        return Err(format!(
            "has unsupported critical extensions {}",
            unknown.join(", ")
        ));
    }
    Ok(())
}
