//! The policy file as written, before its values are checked. Every struct rejects unknown
//! fields, so that a misspelt key is an error naming it and its line instead of a rule that
//! silently does not apply. Values the checks in [`super::parse`] report on keep their position.

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPolicy {
    #[serde(rename = "apiVersion")]
    pub(super) api_version: Spanned<String>,
    pub(super) kind: Spanned<String>,
    #[serde(default)]
    pub(super) trusted_registries: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub(super) signers: Option<Spanned<RawSigners>>,
    #[serde(default)]
    pub(super) attestations: Option<Spanned<RawAttestations>>,
    #[serde(default)]
    pub(super) annotations: Option<Spanned<Vec<Spanned<RawAnnotation>>>>,
    #[serde(default)]
    pub(super) signed_objects: Option<Spanned<Vec<Spanned<RawSignedObjects>>>>,
    #[serde(default)]
    pub(super) deny_latest_tag: bool,
    #[serde(default)]
    pub(super) require_digest: bool,
    #[serde(default)]
    pub(super) exceptions: Vec<Spanned<RawException>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSigners {
    #[serde(default)]
    pub(super) require: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) keys: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub(super) identities: Option<Spanned<Vec<Spanned<RawIdentity>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIdentity {
    #[serde(default)]
    pub(super) identity: Option<String>,
    #[serde(default)]
    pub(super) identity_regexp: Option<String>,
    #[serde(default)]
    pub(super) issuer: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAttestations {
    #[serde(default)]
    pub(super) slsaprovenance: Option<Spanned<RawProvenance>>,
    #[serde(default)]
    pub(super) vulnerability: Option<Spanned<RawVulnerability>>,
}

/// The provenance conditions, in the shape of the provenance policy file of
/// `clearbox_attest::slsa::ProvenancePolicy`, which checks them. It is written back as JSON for
/// that parser, so the two formats cannot drift apart in meaning.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProvenance {
    pub(super) builders: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) source: Option<RawSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) approvals: Option<RawApprovals>,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) repository: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) ref_pattern: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) commit: Option<String>,
    #[serde(default)]
    pub(super) allow_dirty: bool,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApprovals {
    pub(super) required: u32,
    #[serde(default)]
    pub(super) reviewers: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawVulnerability {
    #[serde(default)]
    pub(super) max_severity: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) max_db_age: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAnnotation {
    pub(super) key: String,
    #[serde(default)]
    pub(super) value: Option<String>,
    #[serde(default)]
    pub(super) pattern: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSignedObjects {
    #[serde(default)]
    pub(super) namespaces: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub(super) kinds: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub(super) signers: Option<Spanned<RawSigners>>,
    #[serde(default)]
    pub(super) required_claims: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawException {
    pub(super) rule: Spanned<String>,
    #[serde(default)]
    pub(super) image: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) resource: Option<Spanned<String>>,
    pub(super) expires: Spanned<String>,
    #[serde(default)]
    pub(super) reason: Option<String>,
}
