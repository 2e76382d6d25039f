//! Signatures, attestations and SLSA provenance stored beside the image, found and, when the
//! package is written with a public key, verified.
//!
//! Images in a registry (`docker://`) and in an OCI layout (`oci:`) can carry cosign artefacts;
//! archives and root filesystems cannot, and the files say so. Without a key, what was found
//! is listed but reported as not verified: nothing in the package claims a check that did not
//! run.

use std::fmt::Write as _;

use clearbox_attest::PublicKey;
use clearbox_attest::cosign::format::ArtifactKind;
use clearbox_attest::cosign::{
    self, ArtifactStore, AttestationVerifyOptions, CosignError, Referrer, VerifyOptions,
};
use clearbox_oci::{Image, ImageReference};
use serde_json::{Value, json};

/// SLSA provenance predicate types: v0.2 and v1.
const SLSA_TYPES: [&str; 2] = [
    "https://slsa.dev/provenance/v0.2",
    "https://slsa.dev/provenance/v1",
];

/// Everything learnt about the artefacts beside the image.
pub(crate) struct ArtifactEvidence {
    /// Where the search looked, or why it could not.
    pub(crate) searched: Vec<String>,
    /// Artefacts found, whatever their state.
    pub(crate) found: Vec<Referrer>,
    /// Signature verification with the key, when a key was given and signatures exist.
    pub(crate) signatures: Option<Result<SignatureSummary, String>>,
    /// Attestation verification with the key.
    pub(crate) attestations: Option<Result<AttestationSummary, String>>,
    /// Fingerprint of the verifying key.
    pub(crate) key: Option<String>,
    /// True when the image's source can hold artefacts at all.
    pub(crate) store_available: bool,
}

pub(crate) struct SignatureSummary {
    pub(crate) verified: Vec<Value>,
    pub(crate) rejected: Vec<String>,
    pub(crate) not_checked: Vec<&'static str>,
}

pub(crate) struct AttestationSummary {
    /// Verified statements: predicate type and the statement JSON.
    pub(crate) verified: Vec<(String, Value)>,
    pub(crate) rejected: Vec<String>,
    pub(crate) not_checked: Vec<&'static str>,
}

/// Looks for artefacts beside the image and verifies them with `key` when given.
pub(crate) fn collect(
    image: &Image,
    registry: &clearbox_oci::registry::RegistryOptions,
    key: Option<&PublicKey>,
) -> ArtifactEvidence {
    let mut evidence = ArtifactEvidence {
        searched: Vec::new(),
        found: Vec::new(),
        signatures: None,
        attestations: None,
        key: key.map(PublicKey::fingerprint),
        store_available: false,
    };
    let reference = match &image.reference {
        ImageReference::Registry(_) | ImageReference::OciLayout { .. } => image.reference.clone(),
        other => {
            evidence.searched.push(format!(
                "nothing: {other} is an archive or a root filesystem, which cannot carry \
                 signatures or attestations; sign the image in a registry or an OCI layout"
            ));
            return evidence;
        }
    };
    let store = match cosign::open_store(&reference, registry) {
        Ok(store) => store,
        Err(e) => {
            evidence.searched.push(format!(
                "nothing: the signature store could not be opened: {e}"
            ));
            return evidence;
        }
    };
    evidence.store_available = true;
    evidence.searched.push(format!(
        "cosign tags sha256-<hex>.sig, .att and .sbom, the OCI 1.1 referrers and the referrers \
         fallback tag of {}@{}",
        store.location(),
        store.subject().digest
    ));
    match cosign::discover(store.as_ref()) {
        Ok(found) => evidence.found = found,
        Err(e) => evidence.searched.push(format!("the search failed: {e}")),
    }
    if let Some(key) = key {
        evidence.signatures = Some(verify_signatures(store.as_ref(), key));
        evidence.attestations = Some(verify_attestations(store.as_ref(), key));
    }
    evidence
}

fn verify_signatures(
    store: &dyn ArtifactStore,
    key: &PublicKey,
) -> Result<SignatureSummary, String> {
    match cosign::verify_signatures(store, key, &VerifyOptions::default()) {
        Ok(v) => Ok(SignatureSummary {
            verified: v
                .verified
                .iter()
                .map(|s| serde_json::from_slice(&s.payload.get().to_json()).unwrap_or(Value::Null))
                .collect(),
            rejected: v
                .rejected
                .iter()
                .map(|r| format!("{}: {}", r.location, r.error))
                .collect(),
            not_checked: v.not_checked,
        }),
        Err(e) => Err(failure(&e)),
    }
}

fn verify_attestations(
    store: &dyn ArtifactStore,
    key: &PublicKey,
) -> Result<AttestationSummary, String> {
    match cosign::verify_attestations(store, key, &AttestationVerifyOptions::default()) {
        Ok(v) => Ok(AttestationSummary {
            verified: v
                .verified
                .iter()
                .map(|a| {
                    let statement = a.statement.get();
                    let value = serde_json::from_slice(&statement.to_json()).unwrap_or(Value::Null);
                    (statement.predicate_type().to_owned(), value)
                })
                .collect(),
            rejected: v
                .rejected
                .iter()
                .map(|r| format!("{}: {}", r.location, r.error))
                .collect(),
            not_checked: v.not_checked,
        }),
        Err(e) => Err(failure(&e)),
    }
}

fn failure(error: &CosignError) -> String {
    error.to_string()
}

impl ArtifactEvidence {
    fn count(&self, kind: ArtifactKind) -> usize {
        self.found.iter().filter(|r| r.kind == Some(kind)).count()
    }

    /// Whether the signature file holds a real verification result.
    pub(crate) fn signatures_checked(&self) -> bool {
        self.signatures.is_some()
    }

    /// Verified SLSA provenance statements.
    fn provenance(&self) -> Vec<&Value> {
        match &self.attestations {
            Some(Ok(summary)) => summary
                .verified
                .iter()
                .filter(|(t, _)| SLSA_TYPES.contains(&t.as_str()))
                .map(|(_, v)| v)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether verified SLSA provenance exists.
    pub(crate) fn has_provenance(&self) -> bool {
        !self.provenance().is_empty()
    }

    pub(crate) fn summary_line(&self) -> String {
        let signatures = match &self.signatures {
            Some(Ok(s)) => format!(
                "{} verified with key {}",
                s.verified.len(),
                self.key.as_deref().unwrap_or("")
            ),
            Some(Err(reason)) => format!("NOT VERIFIED ({reason})"),
            None => format!(
                "{} signature manifests found, not verified (no --key given)",
                self.count(ArtifactKind::Signatures)
            ),
        };
        let provenance = if self.has_provenance() {
            format!(
                "{} verified SLSA provenance statements",
                self.provenance().len()
            )
        } else {
            "no verified SLSA provenance".to_owned()
        };
        format!("Signatures: {signatures}. Provenance: {provenance}.")
    }
}

/// Renders `signature-verification.txt`.
pub(crate) fn signature_report(image: &Image, evidence: &ArtifactEvidence) -> String {
    let digest = image
        .manifest_digest
        .as_ref()
        .map_or_else(|| "(no manifest digest)".to_owned(), ToString::to_string);
    let result = match &evidence.signatures {
        Some(Ok(s)) => format!("VERIFIED ({} signatures verified)", s.verified.len()),
        Some(Err(_)) => "FAILED".to_owned(),
        None => "NOT VERIFIED".to_owned(),
    };
    let mut out = String::new();
    let _ = writeln!(out, "Signature verification\n======================\n");
    let _ = writeln!(out, "Image:            {}", image.reference);
    let _ = writeln!(out, "Manifest digest:  {digest}");
    if let Some(key) = &evidence.key {
        let _ = writeln!(out, "Key:              {key} (SHA-256 of the public key)");
    }
    let _ = writeln!(out, "Result:           {result}\n");
    let _ = writeln!(out, "Searched:");
    for place in &evidence.searched {
        let _ = writeln!(out, "  - {place}");
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Found: {} signature manifests, {} attestation manifests, {} SBOMs, {} other referrers.\n",
        evidence.count(ArtifactKind::Signatures),
        evidence.count(ArtifactKind::Attestations),
        evidence.count(ArtifactKind::Sbom),
        evidence.found.iter().filter(|r| r.kind.is_none()).count()
    );
    match &evidence.signatures {
        Some(Ok(summary)) => {
            let _ = writeln!(out, "Checks made for each verified signature:");
            let _ = writeln!(
                out,
                "  - the ECDSA P-256 signature verifies over the exact payload bytes with the key"
            );
            let _ = writeln!(
                out,
                "  - the payload is a cosign simple-signing document naming this manifest digest"
            );
            let _ = writeln!(out, "\nVerified payloads:");
            for payload in &summary.verified {
                let _ = writeln!(out, "  {payload}");
            }
            for rejected in &summary.rejected {
                let _ = writeln!(out, "Rejected: {rejected}");
            }
            let _ = writeln!(out, "\nChecks not made:");
            for check in &summary.not_checked {
                let _ = writeln!(out, "  - {check}");
            }
        }
        Some(Err(reason)) => {
            let _ = writeln!(out, "No signature verified with the key: {reason}");
        }
        None if !evidence.store_available => {
            let _ = writeln!(
                out,
                "No signature can be stored with this kind of image source."
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

/// Renders `slsa-provenance.json`: verified statements only, never unverified content.
pub(crate) fn provenance_report(image: &Image, evidence: &ArtifactEvidence) -> Value {
    let attestations = evidence.count(ArtifactKind::Attestations);
    let (status, reason) = match &evidence.attestations {
        _ if evidence.has_provenance() => ("verified", "the statements below passed every check with the key".to_owned()),
        Some(Ok(_)) => ("not-found", "attestations verified with the key, but none is SLSA provenance".to_owned()),
        Some(Err(reason)) => ("not-verified", reason.clone()),
        None if attestations > 0 => (
            "found-not-verified",
            "attestations exist beside the image but no --key was given, so their content is not reported".to_owned(),
        ),
        None => ("not-found", "no attestation was found beside the image".to_owned()),
    };
    let not_checked: Vec<&str> = match &evidence.attestations {
        Some(Ok(summary)) => summary.not_checked.clone(),
        _ => Vec::new(),
    };
    json!({
        "status": status,
        "reason": reason,
        "image": image.reference.to_string(),
        "manifest_digest": image.manifest_digest.as_ref().map(ToString::to_string),
        "key": evidence.key,
        "searched": evidence.searched,
        "attestation_manifests_found": attestations,
        "checks_not_made": not_checked,
        "provenance": evidence.provenance(),
    })
}

/// Renders `attestations.json`: every attestation's predicate type and state.
pub(crate) fn attestations_report(evidence: &ArtifactEvidence) -> Value {
    let (verified, rejected, error) = match &evidence.attestations {
        Some(Ok(summary)) => (
            summary
                .verified
                .iter()
                .map(|(t, v)| json!({"predicateType": t, "statement": v}))
                .collect(),
            summary.rejected.clone(),
            None,
        ),
        Some(Err(reason)) => (Vec::new(), Vec::new(), Some(reason.clone())),
        None => (Vec::new(), Vec::new(), None),
    };
    json!({
        "key": evidence.key,
        "verified": verified,
        "rejected": rejected,
        "error": error,
        "found": evidence.found.iter().map(|r| json!({
            "digest": r.digest.to_string(),
            "artifact_type": r.artifact_type,
            "kind": r.kind.map(ArtifactKind::suffix),
            "sources": r.sources.iter().map(ToString::to_string).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}
