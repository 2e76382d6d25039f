//! Signatures, attestations and SLSA provenance stored beside the image, found and, when the
//! package is written with a public key, verified.
//!
//! Images in a registry (`docker://`) and in an OCI layout (`oci:`) can carry cosign artefacts;
//! archives and root filesystems cannot, and the files say so. Without a key, what was found
//! is listed but reported as not verified: nothing in the package claims a check that did not
//! run. With a key, the checks not made are listed too: the repository a signature claims, the
//! content of each predicate, and the transparency log.
//!
//! Payloads, claims and rejection reasons come from the artefacts' authors, so the text
//! file escapes control and line-breaking characters in them (`\u{..}`); the JSON files rely on
//! JSON's own escaping.

use std::fmt::Write as _;

use clearbox_attest::PublicKey;
use clearbox_attest::cosign::format::ArtifactKind;
use clearbox_attest::cosign::{
    self, ArtifactStore, AttestationVerifyOptions, Referrer, VerifyOptions, with_causes,
};
use clearbox_catalog::escape_unprintable;
use clearbox_oci::{Image, ImageReference};
use serde_json::{Value, json};

/// The check on signatures that the package never makes: `evidence` takes no identity.
const IDENTITY_NOT_CHECKED: &str = "the repository each signature payload claims \
    (docker-reference): not checked, because `clearbox evidence` requires no identity; check it \
    with `clearbox verify IMAGE --key PUB --identity REGISTRY/REPO`";
/// The check on attestations that the package never makes: it applies no policy.
const CONTENT_NOT_CHECKED: &str = "the content of each attestation's predicate: not checked; no \
    policy was applied to the builder, source or build parameters it states";

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
    /// Each verified payload's stored bytes, as text.
    pub(crate) verified: Vec<String>,
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
pub(crate) fn collect(image: &Image, key: Option<&PublicKey>) -> ArtifactEvidence {
    let mut evidence = ArtifactEvidence {
        searched: Vec::new(),
        found: Vec::new(),
        signatures: None,
        attestations: None,
        key: key.map(PublicKey::fingerprint),
        store_available: false,
    };
    match &image.reference {
        ImageReference::Registry(_) | ImageReference::OciLayout { .. } => {}
        other => {
            evidence.searched.push(format!(
                "nothing: {other} is an archive or a root filesystem, which cannot carry \
                 signatures or attestations; sign the image in a registry or an OCI layout"
            ));
            return evidence;
        }
    }
    // The subject is the digest the image was read at, so a tag moved since cannot make the
    // package describe one image and verify the signatures of another.
    let store = match cosign::open_store_for_image(image) {
        Ok(store) => store,
        Err(e) => {
            evidence.searched.push(format!(
                "nothing: the signature store could not be opened: {}",
                with_causes(&e)
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
        Err(e) => evidence
            .searched
            .push(format!("the search failed: {}", with_causes(&e))),
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
                .map(|s| String::from_utf8_lossy(&s.payload_bytes).into_owned())
                .collect(),
            rejected: v
                .rejected
                .iter()
                .map(|r| format!("{}: {}", r.location, r.reason()))
                .collect(),
            not_checked: v.not_checked,
        }),
        Err(e) => Err(with_causes(&e)),
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
                .map(|r| format!("{}: {}", r.location, r.reason()))
                .collect(),
            not_checked: v.not_checked,
        }),
        Err(e) => Err(with_causes(&e)),
    }
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

    /// Lists the checks not made on verified attestations: their content, and what the
    /// verifier lists.
    fn attestation_checks_not_made(&self) -> Vec<&'static str> {
        match &self.attestations {
            Some(Ok(summary)) => std::iter::once(CONTENT_NOT_CHECKED)
                .chain(summary.not_checked.iter().copied())
                .collect(),
            _ => Vec::new(),
        }
    }

    pub(crate) fn summary_line(&self) -> String {
        let signatures = match &self.signatures {
            Some(Ok(s)) => format!(
                "{} verified with key {} (the repository they claim was not checked)",
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
                "{} SLSA provenance statements, signature verified; content not checked",
                self.provenance().len()
            )
        } else {
            "no SLSA provenance with a verified signature".to_owned()
        };
        format!("Signatures: {signatures}. Provenance: {provenance}.")
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
        Some(Ok(s)) => format!("VERIFIED ({} signatures verified)", s.verified.len()),
        Some(Err(_)) => "FAILED".to_owned(),
        None => "NOT VERIFIED".to_owned(),
    };
    let mut out = String::new();
    let _ = writeln!(out, "Signature verification\n======================\n");
    push_line(&mut out, &format!("Image:            {}", image.reference));
    push_line(&mut out, &format!("Manifest digest:  {digest}"));
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
    let _ = writeln!(
        out,
        "Found: {} signature manifests, {} attestation manifests, {} SBOMs, {} other referrers.\n",
        evidence.count(ArtifactKind::Signatures),
        evidence.count(ArtifactKind::Attestations),
        evidence.count(ArtifactKind::Sbom),
        evidence.found.iter().filter(|r| r.kind.is_none()).count()
    );
    match &evidence.signatures {
        Some(Ok(summary)) => write_verified(&mut out, summary),
        Some(Err(reason)) => {
            push_line(
                &mut out,
                &format!("No signature verified with the key: {reason}"),
            );
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

/// Writes the checks made and not made, the verified payloads as stored, and the rejections.
fn write_verified(out: &mut String, summary: &SignatureSummary) {
    let _ = writeln!(out, "Checks made for each verified signature:");
    let _ = writeln!(
        out,
        "  - the ECDSA P-256 signature verifies over the exact payload bytes with the key"
    );
    let _ = writeln!(
        out,
        "  - the payload is a cosign simple-signing document naming this manifest digest"
    );
    let _ = writeln!(out, "\nVerified payloads, as stored:");
    for payload in &summary.verified {
        push_line(out, &format!("  {payload}"));
    }
    for rejected in &summary.rejected {
        push_line(out, &format!("Rejected: {rejected}"));
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
        _ if evidence.has_provenance() => (
            "signature-verified",
            "signature verified; content not checked: each statement below is signed by the key \
             and names this image's digest, but no policy was applied to what it says (see \
             checks_not_made)"
                .to_owned(),
        ),
        Some(Ok(_)) => ("not-found", "attestations verified with the key, but none is SLSA provenance".to_owned()),
        Some(Err(reason)) => ("not-verified", reason.clone()),
        None if attestations > 0 => (
            "found-not-verified",
            "attestations exist beside the image but no --key was given, so their content is not reported".to_owned(),
        ),
        None => ("not-found", "no attestation was found beside the image".to_owned()),
    };
    let not_checked = evidence.attestation_checks_not_made();
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
        "checks_not_made": evidence.attestation_checks_not_made(),
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
