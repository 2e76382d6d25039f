//! Signatures, attestations and SLSA provenance stored beside the image, found and, when the
//! package is written with a public key, verified.
//!
//! Images in a registry (`docker://`) and in an OCI layout (`oci:`) are searched for cosign
//! artefacts; an image read through an index is searched at the platform manifest's digest and
//! at the index's, and each artefact is reported with the digest it names. An oci-archive can
//! hold artefacts but is not searched; a docker-archive or a root filesystem cannot hold them;
//! the files say which. With a key, each kind ends verified, failed, or not checked (a store
//! that could not be read is never reported as a failed signature). Without a key, what was found
//! is listed but reported as not verified: nothing in the package claims a check that did not
//! run. With a key, the checks not made are listed too: the repository a signature claims, the
//! content of each predicate, and the transparency log. With a provenance policy as well, each
//! verified SLSA provenance statement is checked against it and every check is recorded.
//!
//! Payloads, claims and rejection reasons come from the artefacts' authors, so the text
//! file escapes control and line-breaking characters in them (`\u{..}`); the JSON files rely on
//! JSON's own escaping.

use std::fmt::Write as _;
use std::path::PathBuf;

use clearbox_attest::PublicKey;
use clearbox_attest::cosign::format::ArtifactKind;
use clearbox_attest::cosign::format::PREDICATE_TYPE_ANNOTATION;
use clearbox_attest::cosign::{
    self, ArtifactStore, AttestationCheckError, AttestationVerifyOptions, CosignError, Referrer,
    Rejected, VerifyOptions, with_causes,
};
use clearbox_attest::slsa::{PolicyReport, ProvenancePolicy, check_provenance_policy};
use clearbox_catalog::escape_unprintable;
use clearbox_oci::{Digest, Image, ImageReference};
use serde_json::{Value, json};

/// The check on signatures that the package never makes: `evidence` takes no identity.
const IDENTITY_NOT_CHECKED: &str = "the repository each signature payload claims \
    (docker-reference): not checked, because `clearbox evidence` requires no identity; check it \
    with `clearbox verify IMAGE --key PUB --identity REGISTRY/REPO`";
/// The check on attestations that the package never makes: it applies no policy.
const CONTENT_NOT_CHECKED: &str = "the content of each attestation's predicate: not checked; no \
    policy was applied to the builder, source or build parameters it states";
/// The part of each predicate that a provenance policy leaves unchecked.
const BEYOND_POLICY_NOT_CHECKED: &str = "the content of each attestation's predicate beyond the \
    provenance policy's checks (subject, builder, source, approvals): not checked; the build \
    parameters and the predicates of other types were not examined";

/// SLSA provenance predicate types: v0.2 and v1.
const SLSA_TYPES: [&str; 2] = [
    "https://slsa.dev/provenance/v0.2",
    "https://slsa.dev/provenance/v1",
];

/// The reason an oci-archive's artefacts are not listed.
pub(crate) const ARCHIVE_NOT_READ: &str = "signatures and attestations in archives are not read; \
    an oci-archive can hold them in its index.json, so unpack it with `tar -xf` and give the \
    directory as `oci:DIR`";
/// The reason a docker-archive's or root filesystem's artefacts are not listed.
pub(crate) const CANNOT_CARRY: &str = "this image source (a docker-archive or a root filesystem) \
    cannot carry signatures or attestations; sign the image in a registry or an OCI layout";

/// Everything learnt about the artefacts beside the image.
pub(crate) struct ArtifactEvidence {
    /// Where the search looked, or why it could not.
    pub(crate) searched: Vec<String>,
    /// Artefacts found, whatever their state.
    pub(crate) found: Vec<FoundArtifact>,
    /// Signature verification with the key, when a key was given.
    pub(crate) signatures: Option<Verification<VerifiedPayload>>,
    /// Attestation verification with the key, when a key was given.
    pub(crate) attestations: Option<Verification<VerifiedStatement>>,
    /// Fingerprint of the verifying key.
    pub(crate) key: Option<String>,
    /// True when a signature store of the image could be opened.
    pub(crate) store_available: bool,
    /// Why the image's source is not searched at all: an archive or a root filesystem.
    pub(crate) unsearched: Option<&'static str>,
    /// The provenance policy file, when one was applied.
    pub(crate) policy_file: Option<PathBuf>,
}

/// An artefact found beside the image, and the digest it is about.
pub(crate) struct FoundArtifact {
    /// The digest the artefact names: the platform manifest's or the index's.
    pub(crate) subject: String,
    pub(crate) referrer: Referrer,
    /// For attestation manifests, each layer's `predicateType` annotation.
    pub(crate) predicate_types: Vec<String>,
}

/// The three outcomes of checking signatures or attestations with a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// At least one passed every check.
    Verified,
    /// Every store could be read, and nothing passed.
    Failed,
    /// Nothing passed, and a store could not be read, so the result is unknown.
    NotChecked,
}

impl Outcome {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Outcome::Verified => "verified",
            Outcome::Failed => "failed",
            Outcome::NotChecked => "not-checked",
        }
    }
}

/// The results of checking one kind of artefact with the key, over every digest checked.
pub(crate) struct Verification<V> {
    pub(crate) verified: Vec<V>,
    pub(crate) rejected: Vec<RejectedArtifact>,
    pub(crate) not_checked: Vec<&'static str>,
    /// Why a digest's store could not be read, as `DIGEST: REASON`.
    pub(crate) unreadable: Vec<String>,
    /// The verifier's message for each digest with nothing of this kind.
    pub(crate) none_found: Vec<String>,
}

impl<V> Verification<V> {
    fn new() -> Self {
        Verification {
            verified: Vec::new(),
            rejected: Vec::new(),
            not_checked: Vec::new(),
            unreadable: Vec::new(),
            none_found: Vec::new(),
        }
    }

    pub(crate) fn outcome(&self) -> Outcome {
        if !self.verified.is_empty() {
            Outcome::Verified
        } else if self.unreadable.is_empty() {
            Outcome::Failed
        } else {
            Outcome::NotChecked
        }
    }

    /// Why nothing verified: each store that could not be read, or else each rejection and
    /// each digest with nothing found.
    pub(crate) fn reason(&self) -> String {
        if !self.unreadable.is_empty() {
            return format!(
                "the signature store could not be read: {}",
                self.unreadable.join("; ")
            );
        }
        let mut parts: Vec<String> = self
            .rejected
            .iter()
            .map(|r| format!("{} (for {}): {}", r.location, r.subject, r.reason))
            .collect();
        parts.extend(self.none_found.iter().cloned());
        parts.join("; ")
    }

    fn add_not_checked(&mut self, checks: &[&'static str]) {
        for check in checks {
            if !self.not_checked.contains(check) {
                self.not_checked.push(check);
            }
        }
    }
}

/// A verified signature: the digest its payload names and its stored bytes, as text.
pub(crate) struct VerifiedPayload {
    pub(crate) subject: String,
    pub(crate) payload: String,
}

/// A verified attestation.
pub(crate) struct VerifiedStatement {
    /// The digest the statement was stored for and names.
    pub(crate) subject: String,
    pub(crate) predicate_type: String,
    pub(crate) statement: Value,
    /// The provenance policy's report, when a policy was given and the statement is SLSA
    /// provenance.
    pub(crate) policy_report: Option<PolicyReport>,
}

/// A signature or attestation that failed a check.
pub(crate) struct RejectedArtifact {
    /// The digest it was stored for.
    pub(crate) subject: String,
    pub(crate) location: String,
    pub(crate) reason: String,
    /// For attestations, the layer's `predicateType` annotation, when readable.
    pub(crate) predicate_type: Option<String>,
}

/// Looks for artefacts beside the image and verifies them with `key` when given, checking
/// verified SLSA provenance against `policy` when given too.
///
/// An image read through an index is checked for both digests: the platform manifest's and the
/// index's, since cosign signs whichever digest it was given.
pub(crate) fn collect(
    image: &Image,
    key: Option<&PublicKey>,
    policy: Option<&(PathBuf, ProvenancePolicy)>,
) -> ArtifactEvidence {
    let policy = policy.filter(|_| key.is_some());
    let mut evidence = ArtifactEvidence {
        searched: Vec::new(),
        found: Vec::new(),
        signatures: key.map(|_| Verification::new()),
        attestations: key.map(|_| Verification::new()),
        key: key.map(PublicKey::fingerprint),
        store_available: false,
        unsearched: None,
        policy_file: policy.map(|(path, _)| path.clone()),
    };
    let unsearched = match &image.reference {
        ImageReference::Registry(_) | ImageReference::OciLayout { .. } => None,
        ImageReference::OciArchive { .. } => Some(ARCHIVE_NOT_READ),
        _ => Some(CANNOT_CARRY),
    };
    if let Some(reason) = unsearched {
        evidence.searched.push(format!("nothing: {reason}"));
        evidence.unsearched = Some(reason);
        evidence.signatures = None;
        evidence.attestations = None;
        return evidence;
    }

    // The subjects are the digests the image was read at, so a tag moved since cannot make the
    // package describe one image and verify the signatures of another.
    let mut stores = Vec::new();
    if let (Some(store), Some(digest)) = (
        cosign::open_store_for_platform(image),
        &image.manifest_digest,
    ) {
        stores.push(("platform manifest", digest.to_string(), store));
    }
    if let Some(digest) = &image.subject_digest {
        let role = if stores.is_empty() {
            "manifest"
        } else {
            "index"
        };
        stores.push((
            role,
            digest.to_string(),
            cosign::open_store_for_image(image),
        ));
    } else {
        let store = cosign::open_store_for_image(image);
        let digest = store.as_ref().map_or_else(
            |_| "(no digest)".to_owned(),
            |s| s.subject().digest.to_string(),
        );
        stores.push(("manifest", digest, store));
    }
    for (role, digest, store) in stores {
        match store {
            Ok(store) => {
                evidence.store_available = true;
                collect_from(&mut evidence, role, store.as_ref(), key, policy);
            }
            Err(e) => {
                let reason = format!(
                    "the signature store of the {role} {digest} could not be opened: {}",
                    with_causes(&e)
                );
                evidence.searched.push(format!("nothing: {reason}"));
                let unreadable = format!("{digest}: {}", with_causes(&e));
                if let Some(s) = &mut evidence.signatures {
                    s.unreadable.push(unreadable.clone());
                }
                if let Some(a) = &mut evidence.attestations {
                    a.unreadable.push(unreadable);
                }
            }
        }
    }
    evidence
}

/// Lists and verifies the artefacts of one store: the platform manifest's or the index's.
fn collect_from(
    evidence: &mut ArtifactEvidence,
    role: &str,
    store: &dyn ArtifactStore,
    key: Option<&PublicKey>,
    policy: Option<&(PathBuf, ProvenancePolicy)>,
) {
    let subject = store.subject().digest.to_string();
    evidence.searched.push(format!(
        "for the {role}: cosign tags sha256-<hex>.sig, .att and .sbom, the OCI 1.1 referrers \
         and the referrers fallback tag of {}@{subject}",
        store.location()
    ));
    match cosign::discover(store) {
        Ok(found) => {
            for referrer in found {
                let predicate_types = if referrer.kind == Some(ArtifactKind::Attestations) {
                    layer_predicate_types(store, &referrer.digest)
                        .into_iter()
                        .flatten()
                        .collect()
                } else {
                    Vec::new()
                };
                evidence.found.push(FoundArtifact {
                    subject: subject.clone(),
                    referrer,
                    predicate_types,
                });
            }
        }
        Err(e) => evidence.searched.push(format!(
            "the search for the {role} {subject} failed: {}",
            with_causes(&e)
        )),
    }
    let Some(key) = key else { return };
    if let Some(summary) = &mut evidence.signatures {
        verify_signatures(summary, store, key);
    }
    if let Some(summary) = &mut evidence.attestations {
        verify_attestations(summary, store, key, policy.map(|(_, policy)| policy));
    }
}

/// Each layer's `predicateType` annotation of the attestation manifest `digest`; empty when the
/// manifest cannot be read.
fn layer_predicate_types(store: &dyn ArtifactStore, digest: &Digest) -> Vec<Option<String>> {
    let Ok(manifest) = store.manifest(digest) else {
        return Vec::new();
    };
    let Ok(value) = serde_json::from_slice::<Value>(&manifest.bytes) else {
        return Vec::new();
    };
    value["layers"]
        .as_array()
        .map(|layers| {
            layers
                .iter()
                .map(|l| {
                    l["annotations"][PREDICATE_TYPE_ANNOTATION]
                        .as_str()
                        .map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn rejected_artifact<E: std::error::Error>(
    subject: &str,
    rejected: &Rejected<E>,
    predicate_type: Option<String>,
) -> RejectedArtifact {
    RejectedArtifact {
        subject: subject.to_owned(),
        location: rejected.location.to_string(),
        reason: rejected.reason(),
        predicate_type,
    }
}

fn verify_signatures(
    summary: &mut Verification<VerifiedPayload>,
    store: &dyn ArtifactStore,
    key: &PublicKey,
) {
    let subject = store.subject().digest.to_string();
    let reject = |r: &Rejected<_>| rejected_artifact(&subject, r, None);
    match cosign::verify_signatures(store, key, &VerifyOptions::default()) {
        Ok(v) => {
            summary
                .verified
                .extend(v.verified.iter().map(|s| VerifiedPayload {
                    subject: subject.clone(),
                    payload: String::from_utf8_lossy(&s.payload_bytes).into_owned(),
                }));
            summary.rejected.extend(v.rejected.iter().map(reject));
            summary.add_not_checked(&v.not_checked);
        }
        Err(CosignError::NoValidSignatures { rejected, .. }) => {
            summary.rejected.extend(rejected.iter().map(reject));
        }
        Err(e @ CosignError::NoSignatures { .. }) => summary.none_found.push(with_causes(&e)),
        Err(e) => summary
            .unreadable
            .push(format!("{subject}: {}", with_causes(&e))),
    }
}

fn verify_attestations(
    summary: &mut Verification<VerifiedStatement>,
    store: &dyn ArtifactStore,
    key: &PublicKey,
    policy: Option<&ProvenancePolicy>,
) {
    let subject = store.subject().digest.to_string();
    let reject = |r: &Rejected<AttestationCheckError>| {
        let predicate_type = r.location.layer.and_then(|layer| {
            layer_predicate_types(store, &r.location.manifest)
                .into_iter()
                .nth(layer)
                .flatten()
        });
        rejected_artifact(&subject, r, predicate_type)
    };
    match cosign::verify_attestations(store, key, &AttestationVerifyOptions::default()) {
        Ok(v) => {
            for a in &v.verified {
                let statement = a.statement.get();
                let predicate_type = statement.predicate_type().to_owned();
                let policy_report = policy
                    .filter(|_| SLSA_TYPES.contains(&predicate_type.as_str()))
                    .map(|policy| {
                        check_provenance_policy(&a.statement, &v.image.to_string(), policy)
                    });
                summary.verified.push(VerifiedStatement {
                    subject: subject.clone(),
                    statement: serde_json::from_slice(&statement.to_json()).unwrap_or(Value::Null),
                    predicate_type,
                    policy_report,
                });
            }
            summary.rejected.extend(v.rejected.iter().map(reject));
            summary.add_not_checked(&v.not_checked);
        }
        Err(CosignError::NoValidAttestations { rejected, .. }) => {
            summary.rejected.extend(rejected.iter().map(reject));
        }
        Err(e @ CosignError::NoAttestations { .. }) => summary.none_found.push(with_causes(&e)),
        Err(e) => summary
            .unreadable
            .push(format!("{subject}: {}", with_causes(&e))),
    }
}

impl ArtifactEvidence {
    pub(crate) fn count(&self, kind: ArtifactKind) -> usize {
        self.found
            .iter()
            .filter(|f| f.referrer.kind == Some(kind))
            .count()
    }

    /// Returns whether the signature file contains a verification result (verified or failed),
    /// rather than a missing key or a store that could not be read.
    pub(crate) fn signatures_checked(&self) -> bool {
        self.signatures
            .as_ref()
            .is_some_and(|s| s.outcome() != Outcome::NotChecked)
    }

    /// Verified SLSA provenance statements.
    pub(crate) fn provenance(&self) -> Vec<&Value> {
        self.provenance_with_reports()
            .into_iter()
            .map(|(v, _)| v)
            .collect()
    }

    /// Verified SLSA provenance statements with their policy reports.
    fn provenance_with_reports(&self) -> Vec<(&Value, Option<&PolicyReport>)> {
        match &self.attestations {
            Some(summary) => summary
                .verified
                .iter()
                .filter(|v| SLSA_TYPES.contains(&v.predicate_type.as_str()))
                .map(|v| (&v.statement, v.policy_report.as_ref()))
                .collect(),
            None => Vec::new(),
        }
    }

    /// Returns whether a verified provenance statement passed the policy, or `None` when no
    /// policy ran.
    pub(crate) fn policy_passed(&self) -> Option<bool> {
        self.policy_file.as_ref()?;
        let reports: Vec<&PolicyReport> = self
            .provenance_with_reports()
            .into_iter()
            .filter_map(|(_, report)| report)
            .collect();
        Some(reports.iter().any(|r| r.passed()))
    }

    /// Whether verified SLSA provenance exists.
    pub(crate) fn has_provenance(&self) -> bool {
        !self.provenance().is_empty()
    }

    /// Lists the checks not made on verified attestations: their content, and what the
    /// verifier lists.
    fn attestation_checks_not_made(&self) -> Vec<&'static str> {
        let content = if self.policy_file.is_some() {
            BEYOND_POLICY_NOT_CHECKED
        } else {
            CONTENT_NOT_CHECKED
        };
        match &self.attestations {
            Some(summary) if summary.outcome() == Outcome::Verified => std::iter::once(content)
                .chain(summary.not_checked.iter().copied())
                .collect(),
            _ => Vec::new(),
        }
    }

    pub(crate) fn summary_line(&self) -> String {
        let signatures = match &self.signatures {
            Some(s) if s.outcome() == Outcome::Verified => format!(
                "{} verified with key {} (the repository they claim was not checked)",
                s.verified.len(),
                self.key.as_deref().unwrap_or("")
            ),
            Some(s) if s.outcome() == Outcome::NotChecked => {
                format!("NOT CHECKED ({})", s.reason())
            }
            Some(s) => format!("NOT VERIFIED ({})", s.reason()),
            None if self.unsearched.is_some() => {
                "not searched (see signature-verification.txt)".to_owned()
            }
            None => format!(
                "{} signature manifests found, not verified (no --key given)",
                self.count(ArtifactKind::Signatures)
            ),
        };
        let provenance = if self.has_provenance() {
            let content = match (self.policy_passed(), &self.policy_file) {
                (Some(true), Some(file)) => format!("policy `{}` passed", file.display()),
                (Some(false), Some(file)) => format!(
                    "policy `{}` FAILED ({})",
                    file.display(),
                    self.failed_policy_checks().join(", ")
                ),
                _ => "content not checked".to_owned(),
            };
            format!(
                "{} SLSA provenance statements, signature verified; {content}",
                self.provenance().len()
            )
        } else {
            "no SLSA provenance with a verified signature".to_owned()
        };
        format!("Signatures: {signatures}. Provenance: {provenance}.")
    }
}

impl ArtifactEvidence {
    /// Returns the names of the policy checks that failed, each once, in report order.
    fn failed_policy_checks(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        for (_, report) in self.provenance_with_reports() {
            for check in report.into_iter().flat_map(PolicyReport::failures) {
                if !names.contains(&check.name) {
                    names.push(check.name);
                }
            }
        }
        names
    }

    /// Builds the `policy` object of `slsa-provenance.json`: the file, whether a statement
    /// passed, and every check of every provenance statement, in the order of `provenance`.
    fn policy_json(&self) -> Value {
        let (Some(file), Some(passed)) = (&self.policy_file, self.policy_passed()) else {
            return Value::Null;
        };
        let statements: Vec<Value> = self
            .provenance_with_reports()
            .into_iter()
            .map(|(_, report)| match report {
                Some(report) => json!({
                    "passed": report.passed(),
                    "checks": report.checks.iter().map(|c| json!({
                        "name": c.name,
                        "result": c.outcome.as_str(),
                        "detail": c.detail,
                    })).collect::<Vec<_>>(),
                }),
                None => Value::Null,
            })
            .collect();
        json!({
            "file": file.display().to_string(),
            "result": if passed { "passed" } else { "failed" },
            "failed_checks": self.failed_policy_checks(),
            "statements": statements,
        })
    }
}

/// Appends `text` as one line, with control and line-breaking characters escaped.
fn push_line(out: &mut String, text: &str) {
    out.push_str(&escape_unprintable(text));
    out.push('\n');
}

/// Renders `signature-verification.txt`.
pub(crate) fn signature_report(image: &Image, evidence: &ArtifactEvidence) -> String {
    let digest = image
        .manifest_digest
        .as_ref()
        .map_or_else(|| "(no manifest digest)".to_owned(), ToString::to_string);
    let result = match &evidence.signatures {
        Some(s) => match s.outcome() {
            Outcome::Verified => match s.verified.len() {
                1 => "VERIFIED (1 signature verified)".to_owned(),
                count => format!("VERIFIED ({count} signatures verified)"),
            },
            Outcome::Failed => "FAILED (no signature verified with the key)".to_owned(),
            Outcome::NotChecked => "NOT CHECKED (the signature store could not be read)".to_owned(),
        },
        None => "NOT VERIFIED".to_owned(),
    };
    let mut out = String::new();
    let _ = writeln!(out, "Signature verification\n======================\n");
    push_line(&mut out, &format!("Image:            {}", image.reference));
    push_line(&mut out, &format!("Manifest digest:  {digest}"));
    if let Some(index) = index_digest(image) {
        push_line(&mut out, &format!("Index digest:     {index}"));
    }
    if let Some(key) = &evidence.key {
        push_line(
            &mut out,
            &format!("Key:              {key} (SHA-256 of the public key)"),
        );
    }
    let _ = writeln!(out, "Result:           {result}\n");
    let _ = writeln!(out, "Searched:");
    for place in &evidence.searched {
        push_line(&mut out, &format!("  - {place}"));
    }
    let _ = writeln!(out);
    if evidence.signatures.as_ref().map(Verification::outcome) == Some(Outcome::NotChecked)
        && evidence.found.is_empty()
    {
        let _ = writeln!(
            out,
            "Found: not known, because the signature store could not be read.\n"
        );
    } else {
        let _ = writeln!(
            out,
            "Found: {} signature manifests, {} attestation manifests, {} SBOMs, {} other \
             referrers.\n",
            evidence.count(ArtifactKind::Signatures),
            evidence.count(ArtifactKind::Attestations),
            evidence.count(ArtifactKind::Sbom),
            evidence
                .found
                .iter()
                .filter(|f| f.referrer.kind.is_none())
                .count()
        );
    }
    match &evidence.signatures {
        Some(summary) => write_checked(&mut out, summary),
        None if evidence.unsearched.is_some() => {
            push_line(
                &mut out,
                &format!("Not searched: {}.", evidence.unsearched.unwrap_or_default()),
            );
        }
        None => {
            let _ = writeln!(
                out,
                "No key was given, so nothing was verified and nothing here proves who published\n\
                 the image. Write the package with --key PUB to verify the signatures."
            );
        }
    }
    out
}

/// Returns the digest of the index the image was read through, when it differs from the
/// manifest's.
pub(crate) fn index_digest(image: &Image) -> Option<String> {
    image
        .subject_digest
        .as_ref()
        .filter(|d| Some(*d) != image.manifest_digest.as_ref())
        .map(ToString::to_string)
}

/// Writes the checks made and not made, the verified payloads as stored with the digest each
/// names, the rejections, and the stores that could not be read.
fn write_checked(out: &mut String, summary: &Verification<VerifiedPayload>) {
    for reason in &summary.unreadable {
        push_line(out, &format!("Could not check the signatures of {reason}"));
    }
    if summary.outcome() != Outcome::Verified {
        for rejected in &summary.rejected {
            push_line(
                out,
                &format!(
                    "Rejected (for {}): {}: {}",
                    rejected.subject, rejected.location, rejected.reason
                ),
            );
        }
        for none in &summary.none_found {
            push_line(out, &format!("Not found: {none}"));
        }
        return;
    }
    let _ = writeln!(out, "Checks made for each verified signature:");
    let _ = writeln!(
        out,
        "  - the ECDSA P-256 signature verifies over the exact payload bytes with the key"
    );
    let _ = writeln!(
        out,
        "  - the payload is a cosign simple-signing document naming the digest it was stored \
         for (below)"
    );
    let _ = writeln!(out, "\nVerified payloads, as stored:");
    for verified in &summary.verified {
        push_line(
            out,
            &format!("  for {}: {}", verified.subject, verified.payload),
        );
    }
    for rejected in &summary.rejected {
        push_line(
            out,
            &format!(
                "Rejected (for {}): {}: {}",
                rejected.subject, rejected.location, rejected.reason
            ),
        );
    }
    let _ = writeln!(out, "\nChecks not made:");
    push_line(out, &format!("  - {IDENTITY_NOT_CHECKED}"));
    for check in &summary.not_checked {
        push_line(out, &format!("  - {check}"));
    }
}

/// Renders `slsa-provenance.json`: verified statements only, never unverified content.
pub(crate) fn provenance_report(image: &Image, evidence: &ArtifactEvidence) -> Value {
    let attestations = evidence.count(ArtifactKind::Attestations);
    let (status, reason) = match &evidence.attestations {
        _ if evidence.has_provenance() && evidence.policy_passed() == Some(true) => (
            "policy-passed",
            "signature verified and the provenance policy passed: a statement below is signed by \
             the key, names this image's digest, and passed every check of the policy (see \
             policy)"
                .to_owned(),
        ),
        _ if evidence.has_provenance() && evidence.policy_passed() == Some(false) => (
            "policy-failed",
            format!(
                "signature verified, but no statement passed the provenance policy; failed \
                 checks: {}",
                evidence.failed_policy_checks().join(", ")
            ),
        ),
        _ if evidence.has_provenance() => (
            "signature-verified",
            "signature verified; content not checked: each statement below is signed by the key \
             and names this image's digest, but no policy was applied to what it says (see \
             checks_not_made)"
                .to_owned(),
        ),
        Some(a) if a.outcome() == Outcome::Verified => (
            "not-found",
            "attestations verified with the key, but none is SLSA provenance".to_owned(),
        ),
        Some(a) if a.outcome() == Outcome::NotChecked => ("not-checked", a.reason()),
        Some(a) => ("not-verified", a.reason()),
        None if attestations > 0 => (
            "found-not-verified",
            "attestations exist beside the image but no --key was given, so their content is not reported".to_owned(),
        ),
        None if evidence.unsearched.is_some() => (
            "not-searched",
            evidence.unsearched.unwrap_or_default().to_owned(),
        ),
        None => ("not-found", "no attestation was found beside the image".to_owned()),
    };
    let not_checked = evidence.attestation_checks_not_made();
    json!({
        "status": status,
        "reason": reason,
        "image": image.reference.to_string(),
        "manifest_digest": image.manifest_digest.as_ref().map(ToString::to_string),
        "index_digest": index_digest(image),
        "key": evidence.key,
        "searched": evidence.searched,
        "attestation_manifests_found": attestations,
        "checks_not_made": not_checked,
        "provenance": evidence.provenance(),
        "policy": evidence.policy_json(),
    })
}

/// Renders `attestations.json`: every attestation's predicate type and state. `result` is
/// `verified`, `failed` or `not-checked` with a key, and null without one; each rejected
/// attestation is listed with its reason and predicate type.
pub(crate) fn attestations_report(evidence: &ArtifactEvidence) -> Value {
    let (result, verified, rejected, error) = match &evidence.attestations {
        Some(summary) => (
            Some(summary.outcome().as_str()),
            summary
                .verified
                .iter()
                .map(|v| {
                    json!({
                        "subject": v.subject,
                        "predicateType": v.predicate_type,
                        "statement": v.statement,
                    })
                })
                .collect(),
            summary
                .rejected
                .iter()
                .map(|r| {
                    json!({
                        "subject": r.subject,
                        "location": r.location,
                        "predicateType": r.predicate_type,
                        "reason": r.reason,
                    })
                })
                .collect(),
            (summary.outcome() != Outcome::Verified).then(|| summary.reason()),
        ),
        None => (
            None,
            Vec::new(),
            Vec::new(),
            evidence.unsearched.map(str::to_owned),
        ),
    };
    json!({
        "key": evidence.key,
        "result": result,
        "verified": verified,
        "checks_not_made": evidence.attestation_checks_not_made(),
        "rejected": rejected,
        "error": error,
        "found": evidence.found.iter().map(|f| json!({
            "subject": f.subject,
            "digest": f.referrer.digest.to_string(),
            "artifact_type": f.referrer.artifact_type,
            "kind": f.referrer.kind.map(ArtifactKind::suffix),
            "predicate_types": f.predicate_types,
            "sources": f.referrer.sources.iter().map(ToString::to_string).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}
