//! The checked policy: what each rule requires, with every value already validated.

use std::fmt;
use std::path::PathBuf;

use chrono::NaiveDate;
use clearbox_attest::slsa::ProvenancePolicy;
use regex::Regex;

use super::pattern::Glob;
use crate::k8s::RegistryPrefix;

/// The `apiVersion` this parser reads.
pub const API_VERSION: &str = "clearbox.dev/v1";
/// The `kind` of a policy document.
pub const KIND: &str = "Policy";

/// A rule of the policy, named as the field that sets it. Exceptions and results use these
/// names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// `trusted_registries`: the image comes from one of the listed registries or repositories.
    TrustedRegistries,
    /// `deny_latest_tag`: the image is not named by the tag `latest` (or by no tag at all).
    DenyLatestTag,
    /// `require_digest`: the image is named by digest.
    RequireDigest,
    /// `signers`: the image is signed by the required signers.
    Signers,
    /// `attestations.slsaprovenance`: a verified SLSA provenance attestation meets the
    /// conditions.
    SlsaProvenance,
    /// `attestations.vulnerability`: a verified vulnerability scan attestation meets the
    /// conditions.
    Vulnerability,
    /// `annotations`: the image or resource has the required annotations.
    Annotations,
    /// `signed_objects`: a Kubernetes object carries a manifest signature by a listed key, with
    /// the required claims.
    SignedObjects,
}

impl Rule {
    /// Every rule, in the order results list them.
    pub const ALL: [Rule; 8] = [
        Rule::TrustedRegistries,
        Rule::DenyLatestTag,
        Rule::RequireDigest,
        Rule::Annotations,
        Rule::SignedObjects,
        Rule::Signers,
        Rule::SlsaProvenance,
        Rule::Vulnerability,
    ];

    /// Returns the rule's name, which is the policy field that sets it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Rule::TrustedRegistries => "trusted_registries",
            Rule::DenyLatestTag => "deny_latest_tag",
            Rule::RequireDigest => "require_digest",
            Rule::Signers => "signers",
            Rule::SlsaProvenance => "attestations.slsaprovenance",
            Rule::Vulnerability => "attestations.vulnerability",
            Rule::Annotations => "annotations",
            Rule::SignedObjects => "signed_objects",
        }
    }

    /// Looks a rule up by its name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|rule| rule.name() == name)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A parsed and validated policy file.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The file it was read from, as given.
    pub file: PathBuf,
    /// `sha256:` and the hex SHA-256 of the file's bytes, recorded with every evaluation.
    pub digest: String,
    /// Registries and repositories images may come from; `None` when the rule is not set.
    pub trusted_registries: Option<Vec<RegistryPrefix>>,
    /// Required signers; `None` when the rule is not set.
    pub signers: Option<Signers>,
    /// Conditions on verified SLSA provenance; `None` when the rule is not set.
    pub slsa_provenance: Option<ProvenancePolicy>,
    /// Conditions on a verified vulnerability scan; `None` when the rule is not set.
    pub vulnerability: Option<VulnerabilityRule>,
    /// Required annotations; empty when the rule is not set.
    pub annotations: Vec<AnnotationRule>,
    /// Kubernetes objects that must be signed, in file order; empty when the rule is not set.
    pub signed_objects: Vec<SignedObjectsRule>,
    /// Whether an image named by the tag `latest`, or by neither tag nor digest, fails.
    pub deny_latest_tag: bool,
    /// Whether an image not named by digest fails.
    pub require_digest: bool,
    /// Waivers of single rules for matching images or resources, expired ones included.
    pub exceptions: Vec<Exception>,
}

impl Policy {
    /// True when the policy sets `rule`.
    #[must_use]
    pub fn sets(&self, rule: Rule) -> bool {
        match rule {
            Rule::TrustedRegistries => self.trusted_registries.is_some(),
            Rule::DenyLatestTag => self.deny_latest_tag,
            Rule::RequireDigest => self.require_digest,
            Rule::Signers => self.signers.is_some(),
            Rule::SlsaProvenance => self.slsa_provenance.is_some(),
            Rule::Vulnerability => self.vulnerability.is_some(),
            Rule::Annotations => !self.annotations.is_empty(),
            Rule::SignedObjects => !self.signed_objects.is_empty(),
        }
    }

    /// Returns the first `signed_objects` entry that covers an object of `kind` in `namespace`.
    /// A cluster-scoped object (no namespace) is never covered.
    #[must_use]
    pub fn signed_objects_rule(
        &self,
        namespace: Option<&str>,
        kind: &str,
    ) -> Option<&SignedObjectsRule> {
        let namespace = namespace?;
        self.signed_objects
            .iter()
            .find(|rule| rule.covers(namespace, kind))
    }

    /// Returns the rules the policy sets, in [`Rule::ALL`] order.
    pub fn rules(&self) -> impl Iterator<Item = Rule> + '_ {
        Rule::ALL.into_iter().filter(|rule| self.sets(*rule))
    }
}

/// Whether any one required signer suffices or every one must have signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignerRequirement {
    /// At least one of the signers signed (`require: any`, the default).
    Any,
    /// Every signer signed (`require: all`).
    All,
}

impl SignerRequirement {
    /// `any` or `all`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            SignerRequirement::Any => "any",
            SignerRequirement::All => "all",
        }
    }
}

/// The `signers` rule.
#[derive(Debug, Clone)]
pub struct Signers {
    /// Whether any or all must have signed.
    pub require: SignerRequirement,
    /// Public keys.
    pub keys: Vec<KeySigner>,
    /// Keyless (certificate) identities.
    pub identities: Vec<IdentitySigner>,
}

/// A public key a signature must verify with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySigner {
    /// The value as the policy writes it: a PEM file path or a `pkcs11:` URI.
    pub written: String,
    /// Argument of `clearbox_attest::PublicKey::load`: the URI, or the file path resolved
    /// against the policy file's directory.
    pub location: String,
}

/// A keyless signer: the certificate's subject (an email address or URI) and its OIDC issuer.
#[derive(Debug, Clone)]
pub struct IdentitySigner {
    /// The subject, exactly or as a regular expression.
    pub identity: IdentityMatch,
    /// The OIDC issuer the certificate must name, exactly.
    pub issuer: String,
}

/// Matcher of a keyless identity.
#[derive(Debug, Clone)]
pub enum IdentityMatch {
    /// `identity`: equal to this text.
    Exact(String),
    /// `identity_regexp`: the whole identity matches this regular expression, compiled as
    /// `^(?:EXPRESSION)$` as `clearbox verify --certificate-identity-regexp` compiles it.
    Regexp(Regex),
}

impl fmt::Display for IdentitySigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.identity {
            IdentityMatch::Exact(text) => write!(f, "identity `{text}`")?,
            IdentityMatch::Regexp(regex) => write!(f, "identity matching `{}`", regex.as_str())?,
        }
        write!(f, " from issuer `{}`", self.issuer)
    }
}

/// The highest vulnerability severity an image may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MaxSeverity {
    /// No finding of any severity.
    None,
    /// Low findings only.
    Low,
    /// Up to medium.
    Medium,
    /// Up to high.
    High,
    /// Any rated finding; findings of unknown severity still fail.
    Critical,
}

impl MaxSeverity {
    /// The names the policy file accepts, lowest first.
    pub const NAMES: [&'static str; 5] = ["none", "low", "medium", "high", "critical"];

    /// Reads one of [`MaxSeverity::NAMES`].
    #[must_use]
    pub fn from_name(name: &str) -> Option<MaxSeverity> {
        Some(match name {
            "none" => MaxSeverity::None,
            "low" => MaxSeverity::Low,
            "medium" => MaxSeverity::Medium,
            "high" => MaxSeverity::High,
            "critical" => MaxSeverity::Critical,
            _ => return None,
        })
    }

    /// Returns the name as written in the policy.
    #[must_use]
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// The `attestations.vulnerability` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VulnerabilityRule {
    /// The highest severity allowed; `None` when not set.
    pub max_severity: Option<MaxSeverity>,
    /// The oldest the advisory database may be, and the text it was written as.
    pub max_db_age: Option<(chrono::Duration, String)>,
}

/// One required annotation.
#[derive(Debug, Clone)]
pub struct AnnotationRule {
    /// The annotation key.
    pub key: String,
    /// Requirement on its value.
    pub value: AnnotationValue,
}

/// Requirement on an annotation's value.
#[derive(Debug, Clone)]
pub enum AnnotationValue {
    /// Any value, empty included.
    Any,
    /// Exactly this text.
    Exact(String),
    /// A value matching this regular expression (unanchored unless it anchors itself).
    Pattern(Regex),
}

/// The kinds a `signed_objects` entry covers when it lists none: the workload kinds that
/// people write, not the `ReplicaSet`s and Pods that controllers make from them.
pub const DEFAULT_SIGNED_KINDS: [&str; 6] = [
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "Pod",
];

/// One `signed_objects` entry: objects of these kinds in these namespaces must carry a manifest
/// signature (`clearbox sign-manifest`) that verifies with one of the keys and signs every
/// required claim.
#[derive(Debug, Clone)]
pub struct SignedObjectsRule {
    /// Namespaces, each an exact name or a glob such as `team-*`.
    pub namespaces: Vec<Glob>,
    /// Kinds, compared exactly (`Deployment`); [`DEFAULT_SIGNED_KINDS`] when not written.
    pub kinds: Vec<String>,
    /// The keys a signature may verify with; one suffices.
    pub keys: Vec<KeySigner>,
    /// Claims the signature must carry with a non-empty value, such as `approver`.
    pub required_claims: Vec<String>,
    /// The line of the entry in the policy file, which denials name.
    pub line: usize,
}

/// Kinds that a controller makes from another kind, with that kind: a `Deployment`'s
/// `ReplicaSet`s and a `CronJob`'s `Job`s. An entry that covers the second covers the first, so
/// that a `ReplicaSet` or `Job` written by hand cannot run Pods that no signature covers.
pub const MADE_FROM: [(&str, &str); 2] = [("ReplicaSet", "Deployment"), ("Job", "CronJob")];

impl SignedObjectsRule {
    /// True when the entry covers `kind` (see [`SignedObjectsRule::covers_kind`]) and a
    /// namespace pattern matches `namespace`.
    #[must_use]
    pub fn covers(&self, namespace: &str, kind: &str) -> bool {
        self.covers_kind(kind) && self.namespaces.iter().any(|n| n.matches(namespace))
    }

    /// True when the entry lists `kind`, or lists the kind a controller makes it from
    /// ([`MADE_FROM`]).
    #[must_use]
    pub fn covers_kind(&self, kind: &str) -> bool {
        let listed = |kind: &str| self.kinds.iter().any(|k| k == kind);
        listed(kind)
            || MADE_FROM
                .iter()
                .any(|(made, from)| *made == kind && listed(from))
    }

    /// `signed_objects entry at line N`, the name denials and records give the entry.
    #[must_use]
    pub fn describe(&self) -> String {
        format!("`signed_objects` entry at line {}", self.line)
    }
}

/// A waiver of one rule for matching images or resources until a date.
#[derive(Debug, Clone)]
pub struct Exception {
    /// The rule it waives.
    pub rule: Rule,
    /// Images it applies to: a glob over `HOST/REPO[:TAG][@DIGEST]`.
    pub image: Option<Glob>,
    /// Kubernetes resources it applies to: a glob over `Kind/namespace/name` (`Kind/name`
    /// without a namespace).
    pub resource: Option<Glob>,
    /// The last day it applies, in UTC.
    pub expires: NaiveDate,
    /// Reason the rule is waived, shown with every result it changes.
    pub reason: String,
    /// The line of the exception in the policy file.
    pub line: usize,
}

impl Exception {
    /// True on and before `expires`, false from the day after.
    #[must_use]
    pub fn is_active_on(&self, today: NaiveDate) -> bool {
        today <= self.expires
    }

    /// `exception at line N`, with what it matches.
    #[must_use]
    pub fn describe(&self) -> String {
        let target = match (&self.image, &self.resource) {
            (Some(image), Some(resource)) => format!("image `{image}`, resource `{resource}`"),
            (Some(image), None) => format!("image `{image}`"),
            (None, Some(resource)) => format!("resource `{resource}`"),
            (None, None) => "nothing".to_owned(),
        };
        format!(
            "exception for `{}` on {target} (line {}, expires {})",
            self.rule, self.line, self.expires
        )
    }
}
