//! Reading a policy file: YAML (or JSON) into the raw shape, then every value checked, with all
//! problems reported together, each with its line.

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use clearbox_attest::bundle::regex_problem;
use clearbox_attest::slsa::ProvenancePolicy;
use regex::Regex;
use serde_saphyr::Spanned;
use sha2::{Digest as _, Sha256};

use super::model::{
    API_VERSION, AnnotationRule, AnnotationValue, DEFAULT_SIGNED_KINDS, Exception, IdentityMatch,
    IdentitySigner, KIND, KeySigner, MaxSeverity, Policy, Rule, SignedObjectsRule,
    SignerRequirement, Signers, VulnerabilityRule,
};
use super::pattern::Glob;
use super::raw::{
    RawAnnotation, RawAttestations, RawException, RawIdentity, RawPolicy, RawSignedObjects,
    RawSigners, RawVulnerability,
};
use crate::k8s::RegistryPrefix;

/// The largest policy file read, 1 MiB: far above any hand-written policy, and a bound on the
/// work an untrusted file can cause.
pub const MAX_POLICY_BYTES: u64 = 1024 * 1024;

/// A policy file that cannot be read or is not a valid policy.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The file could not be read.
    #[error("failed to read the policy `{}`", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not UTF-8 text.
    #[error("the policy `{}` is not UTF-8 text", .0.display())]
    NotUtf8(PathBuf),
    /// Not YAML or JSON of the policy's shape: a syntax error, a misspelt or unknown field, a
    /// value of the wrong type. The parser's message names the field and its line.
    #[error("invalid policy `{}`: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// Well-formed, but values are unusable: every problem found, each with its line.
    #[error("invalid policy `{}`: {}", path.display(), join(problems))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The problems, in file order.
        problems: Vec<Problem>,
    },
    /// A key of `signers.keys` could not be loaded.
    #[error("failed to load the key `{key}` named in the policy `{}`", path.display())]
    Key {
        /// The policy file.
        path: PathBuf,
        /// The key as the policy writes it.
        key: String,
        /// The underlying error, boxed because it is large.
        #[source]
        source: Box<clearbox_attest::KeyError>,
    },
}

/// One unusable value of a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The 1-based line of the value, or of its closest enclosing field.
    pub line: u64,
    /// The problem, and the value to write instead.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

fn join(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Reads and parses the policy file at `path`.
pub fn read_policy(path: &Path) -> Result<Policy, PolicyError> {
    let bytes = clearbox_oci::read_regular_file(path, MAX_POLICY_BYTES).map_err(|source| {
        PolicyError::Read {
            path: path.to_owned(),
            source,
        }
    })?;
    parse_policy(path, &bytes)
}

/// Parses policy text read from `path`. Relative key paths are resolved against `path`'s
/// directory, and the digest is computed over `bytes` exactly.
pub fn parse_policy(path: &Path, bytes: &[u8]) -> Result<Policy, PolicyError> {
    let text = std::str::from_utf8(bytes).map_err(|_| PolicyError::NotUtf8(path.to_owned()))?;
    let options = serde_saphyr::options! {
        strict_booleans: true,
        with_snippet: false,
    };
    let raw: RawPolicy =
        serde_saphyr::from_str_with_options(text, options).map_err(|e| PolicyError::Syntax {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
    let mut checker = Checker {
        base: path.parent().unwrap_or(Path::new("")).to_owned(),
        problems: Vec::new(),
    };
    let policy = checker.policy(raw, path, &sha256(bytes));
    if checker.problems.is_empty() {
        Ok(policy)
    } else {
        checker.problems.sort_by_key(|p| p.line);
        Err(PolicyError::Invalid {
            path: path.to_owned(),
            problems: checker.problems,
        })
    }
}

/// True when `bytes` is a YAML or JSON mapping with an `apiVersion` key: a policy file rather
/// than a provenance policy (`docs/provenance.md`), which has none.
#[must_use]
pub fn declares_api_version(bytes: &[u8]) -> bool {
    // Unknown fields are ignored here: only the presence of `apiVersion` matters.
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "apiVersion")]
        api_version: Option<serde::de::IgnoredAny>,
    }

    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    serde_saphyr::from_str::<Probe>(text).is_ok_and(|probe| probe.api_version.is_some())
}

/// `sha256:` and the hex SHA-256 of `bytes`.
fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn line<T>(spanned: &Spanned<T>) -> u64 {
    spanned.referenced.line()
}

/// Collects the problems of one file while building the policy.
struct Checker {
    base: PathBuf,
    problems: Vec<Problem>,
}

impl Checker {
    fn problem(&mut self, line: u64, message: impl Into<String>) {
        self.problems.push(Problem {
            line,
            message: message.into(),
        });
    }

    fn policy(&mut self, raw: RawPolicy, path: &Path, digest: &str) -> Policy {
        if raw.api_version.value != API_VERSION {
            self.problem(
                line(&raw.api_version),
                format!(
                    "unsupported `apiVersion` `{}`; this clearbox reads `{API_VERSION}`",
                    raw.api_version.value
                ),
            );
        }
        if raw.kind.value != KIND {
            self.problem(
                line(&raw.kind),
                format!(
                    "`kind` is `{}`; a policy file has `kind: {KIND}`",
                    raw.kind.value
                ),
            );
        }
        let sets_a_rule = raw.trusted_registries.is_some()
            || raw.signers.is_some()
            || raw.attestations.is_some()
            || raw.annotations.is_some()
            || raw.signed_objects.is_some()
            || raw.deny_latest_tag
            || raw.require_digest;
        let (slsa_provenance, vulnerability) = match raw.attestations {
            Some(attestations) => self.attestations(attestations),
            None => (None, None),
        };
        let mut policy = Policy {
            file: path.to_owned(),
            digest: digest.to_owned(),
            trusted_registries: raw.trusted_registries.map(|r| self.registries(r)),
            signers: raw.signers.map(|s| self.signers(s)),
            slsa_provenance,
            vulnerability,
            annotations: raw
                .annotations
                .map(|a| self.annotations(a))
                .unwrap_or_default(),
            signed_objects: raw
                .signed_objects
                .map(|s| self.signed_objects(s))
                .unwrap_or_default(),
            deny_latest_tag: raw.deny_latest_tag,
            require_digest: raw.require_digest,
            exceptions: Vec::new(),
        };
        if !sets_a_rule {
            self.problem(
                1,
                "the policy sets no rule; set at least one of `trusted_registries`, `signers`, \
                 `attestations`, `annotations`, `signed_objects`, `deny_latest_tag` and \
                 `require_digest`",
            );
        }
        policy.exceptions = raw
            .exceptions
            .into_iter()
            .filter_map(|e| self.exception(e, &policy))
            .collect();
        policy
    }

    fn registries(&mut self, raw: Spanned<Vec<Spanned<String>>>) -> Vec<RegistryPrefix> {
        if raw.value.is_empty() {
            self.problem(
                line(&raw),
                "`trusted_registries` is empty, which would reject every image; list \
                 HOST[/REPO] prefixes or remove it",
            );
        }
        raw.value
            .into_iter()
            .filter_map(|entry| match entry.value.parse::<RegistryPrefix>() {
                Ok(prefix) => Some(prefix),
                Err(message) => {
                    self.problem(line(&entry), message);
                    None
                }
            })
            .collect()
    }

    fn signers(&mut self, raw: Spanned<RawSigners>) -> Signers {
        let at = line(&raw);
        let RawSigners {
            require,
            keys,
            identities,
        } = raw.value;
        let require = match require {
            None => SignerRequirement::Any,
            Some(text) => match text.value.as_str() {
                "any" => SignerRequirement::Any,
                "all" => SignerRequirement::All,
                other => {
                    self.problem(
                        line(&text),
                        format!("`signers.require` is `{other}`; write `any` or `all`"),
                    );
                    SignerRequirement::Any
                }
            },
        };
        if keys.is_none() && identities.is_none() {
            self.problem(
                at,
                "`signers` lists neither `keys` nor `identities`; name at least one signer",
            );
        }
        let keys = keys
            .map(|k| self.keys(k, "signers.keys"))
            .unwrap_or_default();
        let identities = identities.map(|i| self.identities(i)).unwrap_or_default();
        Signers {
            require,
            keys,
            identities,
        }
    }

    /// Reads the key list of the field `field` (`signers.keys`, `signed_objects[].signers.keys`).
    fn keys(&mut self, raw: Spanned<Vec<Spanned<String>>>, field: &str) -> Vec<KeySigner> {
        if raw.value.is_empty() {
            self.problem(
                line(&raw),
                format!("`{field}` is empty; list public key files or pkcs11: URIs, or remove it"),
            );
        }
        let mut keys = Vec::new();
        for key in raw.value {
            let written = key.value.trim().to_owned();
            if written.is_empty() {
                self.problem(line(&key), format!("a `{field}` entry is empty"));
                continue;
            }
            let location = if written.starts_with("pkcs11:") {
                written.clone()
            } else {
                self.base.join(&written).to_string_lossy().into_owned()
            };
            if keys.iter().any(|k: &KeySigner| k.location == location) {
                // With `require: all`, a repeated key would count one signature twice.
                self.problem(
                    line(&key),
                    format!("`{field}` lists `{written}` twice; list each key once"),
                );
                continue;
            }
            keys.push(KeySigner { written, location });
        }
        keys
    }

    fn identities(&mut self, raw: Spanned<Vec<Spanned<RawIdentity>>>) -> Vec<IdentitySigner> {
        if raw.value.is_empty() {
            self.problem(
                line(&raw),
                "`signers.identities` is empty; list identities with their issuer, or remove it",
            );
        }
        raw.value
            .into_iter()
            .filter_map(|entry| self.identity(line(&entry), entry.value))
            .collect()
    }

    fn identity(&mut self, at: u64, raw: RawIdentity) -> Option<IdentitySigner> {
        let identity = match (raw.identity, raw.identity_regexp) {
            (Some(text), None) if !text.trim().is_empty() => IdentityMatch::Exact(text),
            (None, Some(text)) if !text.trim().is_empty() => {
                // Compiled alone first, so that an unbalanced `)` cannot escape the anchors.
                match Regex::new(&text).and_then(|_| Regex::new(&format!("^(?:{text})$"))) {
                    Ok(regex) => IdentityMatch::Regexp(regex),
                    Err(e) => {
                        self.problem(
                            at,
                            format!(
                                "`identity_regexp` `{text}` does not compile: {}",
                                regex_problem(&e)
                            ),
                        );
                        return None;
                    }
                }
            }
            (Some(_), Some(_)) => {
                self.problem(
                    at,
                    "an identity sets both `identity` and `identity_regexp`; keep one",
                );
                return None;
            }
            _ => {
                self.problem(
                    at,
                    "an identity needs a non-empty `identity` or `identity_regexp`",
                );
                return None;
            }
        };
        match raw.issuer {
            Some(issuer) if !issuer.trim().is_empty() => Some(IdentitySigner { identity, issuer }),
            _ => {
                self.problem(
                    at,
                    "an identity needs its OIDC `issuer`, such as \
                     `https://token.actions.githubusercontent.com`",
                );
                None
            }
        }
    }

    fn attestations(
        &mut self,
        raw: Spanned<RawAttestations>,
    ) -> (Option<ProvenancePolicy>, Option<VulnerabilityRule>) {
        let at = line(&raw);
        let RawAttestations {
            slsaprovenance,
            vulnerability,
        } = raw.value;
        if slsaprovenance.is_none() && vulnerability.is_none() {
            self.problem(
                at,
                "`attestations` names no attestation type; set `slsaprovenance` or \
                 `vulnerability`, or remove it",
            );
        }
        let provenance = slsaprovenance.and_then(|raw| {
            let at = line(&raw);
            // The provenance policy parser reads JSON as YAML, so the conditions go through it
            // unchanged and keep its checks and its messages.
            let json = serde_json::to_string(&raw.value).expect("plain structs serialize");
            match ProvenancePolicy::parse(&json) {
                Ok(policy) => Some(policy),
                Err(error) => {
                    let message = error.to_string();
                    let message = message
                        .strip_prefix("invalid provenance policy: ")
                        .unwrap_or(&message);
                    self.problem(at, format!("`attestations.slsaprovenance`: {message}"));
                    None
                }
            }
        });
        let vulnerability = vulnerability.map(|raw| self.vulnerability(raw));
        (provenance, vulnerability)
    }

    fn vulnerability(&mut self, raw: Spanned<RawVulnerability>) -> VulnerabilityRule {
        let at = line(&raw);
        let RawVulnerability {
            max_severity,
            max_db_age,
        } = raw.value;
        if max_severity.is_none() && max_db_age.is_none() {
            self.problem(
                at,
                "`attestations.vulnerability` sets neither `max_severity` nor `max_db_age`",
            );
        }
        let max_severity = max_severity.and_then(|text| {
            let parsed = MaxSeverity::from_name(&text.value);
            if parsed.is_none() {
                self.problem(
                    line(&text),
                    format!(
                        "unknown severity `{}` in `max_severity`; write one of {}",
                        text.value,
                        MaxSeverity::NAMES.join(", ")
                    ),
                );
            }
            parsed
        });
        let max_db_age = max_db_age.and_then(|text| {
            let age = parse_age(&text.value);
            if age.is_none() {
                self.problem(
                    line(&text),
                    format!(
                        "`max_db_age` `{}` is not a duration; write a positive number of days \
                         or hours, such as `7d` or `36h`",
                        text.value
                    ),
                );
            }
            age.map(|age| (age, text.value))
        });
        VulnerabilityRule {
            max_severity,
            max_db_age,
        }
    }

    fn annotations(&mut self, raw: Spanned<Vec<Spanned<RawAnnotation>>>) -> Vec<AnnotationRule> {
        if raw.value.is_empty() {
            self.problem(
                line(&raw),
                "`annotations` is empty; list required annotation keys or remove it",
            );
        }
        let mut rules = Vec::new();
        for entry in raw.value {
            let at = line(&entry);
            let RawAnnotation {
                key,
                value,
                pattern,
            } = entry.value;
            if key.trim().is_empty() {
                self.problem(at, "an annotation has an empty `key`");
                continue;
            }
            let value = match (value, pattern) {
                (None, None) => AnnotationValue::Any,
                (Some(value), None) => AnnotationValue::Exact(value),
                (None, Some(pattern)) => match Regex::new(&pattern) {
                    Ok(regex) => AnnotationValue::Pattern(regex),
                    Err(e) => {
                        self.problem(
                            at,
                            format!(
                                "the `pattern` of annotation `{key}` does not compile: {}",
                                regex_problem(&e)
                            ),
                        );
                        continue;
                    }
                },
                (Some(_), Some(_)) => {
                    self.problem(
                        at,
                        format!("annotation `{key}` sets both `value` and `pattern`; keep one"),
                    );
                    continue;
                }
            };
            rules.push(AnnotationRule { key, value });
        }
        rules
    }

    fn signed_objects(
        &mut self,
        raw: Spanned<Vec<Spanned<RawSignedObjects>>>,
    ) -> Vec<SignedObjectsRule> {
        if raw.value.is_empty() {
            self.problem(
                line(&raw),
                "`signed_objects` is empty; list entries with `namespaces` and `signers`, or \
                 remove it",
            );
        }
        raw.value
            .into_iter()
            .filter_map(|entry| self.signed_objects_entry(entry))
            .collect()
    }

    /// Checks one `signed_objects` entry; `None` when it has a problem, which is recorded.
    fn signed_objects_entry(
        &mut self,
        raw: Spanned<RawSignedObjects>,
    ) -> Option<SignedObjectsRule> {
        let at = line(&raw);
        let problems_before = self.problems.len();
        let RawSignedObjects {
            namespaces,
            kinds,
            signers,
            required_claims,
        } = raw.value;
        let namespaces = self.signed_namespaces(at, namespaces);
        let kinds = kinds.map_or_else(
            || DEFAULT_SIGNED_KINDS.map(str::to_owned).to_vec(),
            |kinds| self.signed_kinds(kinds),
        );
        let keys = if let Some(signers) = signers {
            self.object_signers(signers)
        } else {
            self.problem(
                at,
                "the `signed_objects` entry names no `signers`; list the public keys that sign \
                 manifests under `signers.keys`",
            );
            Vec::new()
        };
        let required_claims = self.required_claims(required_claims);
        if self.problems.len() > problems_before {
            return None;
        }
        Some(SignedObjectsRule {
            namespaces,
            kinds,
            keys,
            required_claims,
            line: usize::try_from(at).unwrap_or(usize::MAX),
        })
    }

    fn signed_namespaces(
        &mut self,
        at: u64,
        raw: Option<Spanned<Vec<Spanned<String>>>>,
    ) -> Vec<Glob> {
        let Some(raw) = raw.filter(|list| !list.value.is_empty()) else {
            self.problem(
                at,
                "the `signed_objects` entry names no `namespaces`; list namespace names or globs \
                 such as `team-*` (`*` covers every namespace)",
            );
            return Vec::new();
        };
        raw.value
            .into_iter()
            .filter_map(|entry| match Glob::new(entry.value.trim()) {
                Ok(glob) => Some(glob),
                Err(message) => {
                    self.problem(
                        line(&entry),
                        format!("a `signed_objects` namespace `{}`: {message}", entry.value),
                    );
                    None
                }
            })
            .collect()
    }

    fn signed_kinds(&mut self, raw: Spanned<Vec<Spanned<String>>>) -> Vec<String> {
        if raw.value.is_empty() {
            self.problem(
                line(&raw),
                format!(
                    "`signed_objects` `kinds` is empty; list kinds such as `Deployment`, or \
                     remove `kinds` to cover {}",
                    DEFAULT_SIGNED_KINDS.join(", ")
                ),
            );
        }
        let mut kinds: Vec<String> = Vec::new();
        for entry in raw.value {
            let kind = entry.value.trim();
            // Kinds are compared with the request's `kind` exactly, as `kind:` writes them.
            let is_kind = kind.starts_with(|c: char| c.is_ascii_uppercase())
                && kind.chars().all(|c| c.is_ascii_alphanumeric());
            if !is_kind {
                self.problem(
                    line(&entry),
                    format!(
                        "`{kind}` in `signed_objects` `kinds` is not a Kubernetes kind; write it \
                         as the object's `kind:` field does, such as `Deployment`"
                    ),
                );
            } else if kinds.iter().any(|k| k == kind) {
                self.problem(
                    line(&entry),
                    format!("`signed_objects` `kinds` lists `{kind}` twice; list it once"),
                );
            } else {
                kinds.push(kind.to_owned());
            }
        }
        kinds
    }

    /// Reads the signers of a `signed_objects` entry: keys only, since a manifest signature
    /// is a DSSE envelope signed with a key and carries no certificate to match an identity.
    fn object_signers(&mut self, raw: Spanned<RawSigners>) -> Vec<KeySigner> {
        let at = line(&raw);
        let RawSigners {
            require,
            keys,
            identities,
        } = raw.value;
        if let Some(require) = require
            && require.value != "any"
        {
            self.problem(
                line(&require),
                format!(
                    "`signed_objects` `signers.require` is `{}`; an object carries one \
                     signature, so one key suffices: remove `require` or write `any`",
                    require.value
                ),
            );
        }
        if let Some(identities) = identities {
            self.problem(
                line(&identities),
                "`signed_objects` signers cannot be keyless `identities`: `clearbox \
                 sign-manifest` signs with a key and the signature carries no certificate; list \
                 the public keys under `signers.keys`",
            );
        }
        if let Some(keys) = keys {
            self.keys(keys, "signed_objects.signers.keys")
        } else {
            self.problem(
                at,
                "the `signed_objects` `signers` lists no `keys`; list the public keys that sign \
                 manifests",
            );
            Vec::new()
        }
    }

    fn required_claims(&mut self, raw: Vec<Spanned<String>>) -> Vec<String> {
        let mut claims: Vec<String> = Vec::new();
        for entry in raw {
            let claim = entry.value.trim();
            if claim.is_empty() || claim.contains('=') {
                self.problem(
                    line(&entry),
                    format!(
                        "`{claim}` in `required_claims` is not a claim name; write the KEY of \
                         `clearbox sign-manifest --claim KEY=VALUE`, such as `approver`"
                    ),
                );
            } else if claims.iter().any(|c| c == claim) {
                self.problem(
                    line(&entry),
                    format!("`required_claims` lists `{claim}` twice; list it once"),
                );
            } else {
                claims.push(claim.to_owned());
            }
        }
        claims
    }

    fn exception(&mut self, raw: Spanned<RawException>, policy: &Policy) -> Option<Exception> {
        let at = line(&raw);
        let RawException {
            rule,
            image,
            resource,
            expires,
            reason,
        } = raw.value;
        let problems_before = self.problems.len();
        let parsed_rule = Rule::from_name(&rule.value);
        match parsed_rule {
            None => self.problem(
                line(&rule),
                format!(
                    "unknown rule `{}` in an exception; write one of {}",
                    rule.value,
                    Rule::ALL.map(Rule::name).join(", ")
                ),
            ),
            Some(known) if !policy.sets(known) => self.problem(
                line(&rule),
                format!(
                    "the exception waives `{known}`, which this policy does not set; remove the \
                     exception or set the rule"
                ),
            ),
            Some(_) => {}
        }
        if image.is_none() && resource.is_none() {
            self.problem(
                at,
                "the exception names no `image` or `resource` pattern; name what it applies to",
            );
        }
        let mut glob = |field: &str, value: Option<Spanned<String>>| {
            value.and_then(|text| match Glob::new(&text.value) {
                Ok(glob) => Some(glob),
                Err(message) => {
                    self.problem(line(&text), format!("the exception's `{field}`: {message}"));
                    None
                }
            })
        };
        let image = glob("image", image);
        let resource = glob("resource", resource);
        let parsed_expires = NaiveDate::parse_from_str(expires.value.trim(), "%Y-%m-%d");
        if parsed_expires.is_err() {
            self.problem(
                line(&expires),
                format!(
                    "`expires` `{}` is not a date; write YYYY-MM-DD, such as `2027-03-31`",
                    expires.value
                ),
            );
        }
        let reason = reason.unwrap_or_default();
        if reason.trim().is_empty() {
            self.problem(
                at,
                "the exception has no `reason`; say why the rule is waived",
            );
        }
        if self.problems.len() > problems_before {
            return None;
        }
        Some(Exception {
            rule: parsed_rule?,
            image,
            resource,
            expires: parsed_expires.ok()?,
            reason: reason.trim().to_owned(),
            line: usize::try_from(at).unwrap_or(usize::MAX),
        })
    }
}

/// Reads `7d` or `36h` as a duration; zero and other units are rejected.
fn parse_age(text: &str) -> Option<chrono::Duration> {
    let text = text.trim();
    let (number, hours_per_unit) = if let Some(days) = text.strip_suffix('d') {
        (days, 24)
    } else {
        (text.strip_suffix('h')?, 1)
    };
    let count: i64 = number.parse().ok().filter(|n| *n > 0)?;
    chrono::Duration::try_hours(count.checked_mul(hours_per_unit)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "apiVersion: clearbox.dev/v1\nkind: Policy\n";

    fn parse(text: &str) -> Result<Policy, PolicyError> {
        parse_policy(Path::new("/policies/prod.yaml"), text.as_bytes())
    }

    fn problems(text: &str) -> Vec<String> {
        match parse(text) {
            Err(PolicyError::Invalid { problems, .. }) => {
                problems.iter().map(ToString::to_string).collect()
            }
            other => panic!("expected problems for {text:?}, got {other:?}"),
        }
    }

    #[test]
    fn repeated_signer_key_is_a_problem() {
        let text = format!("{BASE}signers:\n  require: all\n  keys: [a.pub, a.pub]\n");
        let found = problems(&text);
        assert!(
            found
                .iter()
                .any(|p| p.contains("`signers.keys` lists `a.pub` twice; list each key once")),
            "{found:?}"
        );
    }

    fn syntax(text: &str) -> String {
        match parse(text) {
            Err(PolicyError::Syntax { message, .. }) => message,
            other => panic!("expected a syntax error for {text:?}, got {other:?}"),
        }
    }

    #[test]
    fn full_policy_parses() {
        let text = format!(
            "{BASE}trusted_registries: [ghcr.io/acme, 'registry.example:5000']\n\
             signers:\n  require: all\n  keys: [keys/release.pub, 'pkcs11:token=t;object=k']\n  \
             identities:\n    - identity_regexp: '^https://github.com/acme/'\n      \
             issuer: https://token.actions.githubusercontent.com\n\
             attestations:\n  slsaprovenance:\n    builders: [https://ci.example/builder]\n    \
             source: {{repository: github.com/acme/app, ref_pattern: 'refs/heads/main'}}\n  \
             vulnerability: {{max_severity: high, max_db_age: 7d}}\n\
             annotations:\n  - key: org.opencontainers.image.source\n    pattern: '^https://'\n  \
             - key: team\n    value: ml\n\
             deny_latest_tag: true\nrequire_digest: true\n\
             exceptions:\n  - rule: require_digest\n    image: ghcr.io/acme/legacy*\n    \
             expires: 2027-03-31\n    reason: rebuilt by digest in Q1\n"
        );
        let policy = parse(&text).unwrap();
        assert_eq!(policy.trusted_registries.as_ref().unwrap().len(), 2);
        let signers = policy.signers.as_ref().unwrap();
        assert_eq!(signers.require, SignerRequirement::All);
        assert_eq!(signers.keys[0].location, "/policies/keys/release.pub");
        assert_eq!(signers.keys[1].location, "pkcs11:token=t;object=k");
        assert_eq!(signers.identities.len(), 1);
        assert!(policy.slsa_provenance.is_some());
        let vulnerability = policy.vulnerability.as_ref().unwrap();
        assert_eq!(vulnerability.max_severity, Some(MaxSeverity::High));
        assert_eq!(
            vulnerability.max_db_age.as_ref().unwrap().0,
            chrono::Duration::days(7)
        );
        assert_eq!(policy.annotations.len(), 2);
        assert_eq!(policy.exceptions[0].rule, Rule::RequireDigest);
        assert_eq!(policy.exceptions[0].line, 23);
        assert_eq!(policy.rules().count(), 7);
        assert_eq!(policy.digest, sha256(text.as_bytes()));
        assert_eq!(policy.digest.len(), 7 + 64);
    }

    #[test]
    fn unknown_field_named_with_line() {
        let message = syntax(&format!("{BASE}deny_latest_tags: true\n"));
        assert!(message.contains("deny_latest_tags"), "{message}");
        assert!(message.contains("line 3"), "{message}");
        let message = syntax(&format!(
            "{BASE}signers:\n  keys: [a.pub]\n  requires: all\n"
        ));
        assert!(message.contains("requires"), "{message}");
        assert!(message.contains("line 5"), "{message}");
    }

    #[test]
    fn semantic_problems_listed_with_lines() {
        let text = format!(
            "{BASE}trusted_registries: []\n\
             signers:\n  keys: []\n\
             attestations:\n  vulnerability: {{max_severity: severe, max_db_age: 0d}}\n\
             exceptions:\n  - rule: signers\n    image: '*'\n    expires: 2027-02-30\n    \
             reason: ''\n  - rule: no_such_rule\n    resource: x\n    expires: 2027-01-01\n    \
             reason: r\n"
        );
        assert_eq!(
            problems(&text),
            [
                "line 3: `trusted_registries` is empty, which would reject every image; list \
                 HOST[/REPO] prefixes or remove it",
                "line 5: `signers.keys` is empty; list public key files or pkcs11: URIs, or \
                 remove it",
                "line 7: unknown severity `severe` in `max_severity`; write one of none, low, \
                 medium, high, critical",
                "line 7: `max_db_age` `0d` is not a duration; write a positive number of days or \
                 hours, such as `7d` or `36h`",
                "line 9: the exception has no `reason`; say why the rule is waived",
                "line 11: `expires` `2027-02-30` is not a date; write YYYY-MM-DD, such as \
                 `2027-03-31`",
                "line 13: unknown rule `no_such_rule` in an exception; write one of \
                 trusted_registries, deny_latest_tag, require_digest, annotations, \
                 signed_objects, signers, attestations.slsaprovenance, \
                 attestations.vulnerability",
            ]
        );
    }

    #[test]
    fn version_kind_and_empty_policy() {
        assert_eq!(
            problems("apiVersion: clearbox.dev/v2\nkind: Pod\n"),
            [
                "line 1: unsupported `apiVersion` `clearbox.dev/v2`; this clearbox reads \
                 `clearbox.dev/v1`",
                "line 1: the policy sets no rule; set at least one of `trusted_registries`, \
                 `signers`, `attestations`, `annotations`, `signed_objects`, `deny_latest_tag` \
                 and `require_digest`",
                "line 2: `kind` is `Pod`; a policy file has `kind: Policy`",
            ]
        );
        let message = syntax("kind: Policy\ndeny_latest_tag: true\n");
        assert!(message.contains("apiVersion"), "{message}");
    }

    #[test]
    fn provenance_conditions_checked_by_provenance_parser() {
        let text = format!("{BASE}attestations:\n  slsaprovenance:\n    builders: []\n");
        assert_eq!(
            problems(&text),
            [
                "line 5: `attestations.slsaprovenance`: `builders` is empty; list the builder IDs \
              whose provenance is trusted"
            ]
        );
        let message = syntax(&format!(
            "{BASE}attestations:\n  slsaprovenance:\n    builders: [a]\n    source: {{repo: x}}\n"
        ));
        assert!(message.contains("repo"), "{message}");
    }

    #[test]
    fn exception_for_unset_rule_rejected() {
        let text = format!(
            "{BASE}deny_latest_tag: true\nexceptions:\n  - rule: require_digest\n    \
             image: x\n    expires: 2027-01-01\n    reason: r\n"
        );
        assert_eq!(
            problems(&text),
            [
                "line 5: the exception waives `require_digest`, which this policy does not set; \
              remove the exception or set the rule"
            ]
        );
    }

    #[test]
    fn identity_problems() {
        let text = format!(
            "{BASE}signers:\n  require: some\n  identities:\n    - identity: a\n      \
             identity_regexp: b\n      issuer: i\n    - identity: a\n    - identity_regexp: '('\n      \
             issuer: i\n"
        );
        let found = problems(&text);
        assert_eq!(found.len(), 4, "{found:?}");
        assert_eq!(
            found[0],
            "line 4: `signers.require` is `some`; write `any` or `all`"
        );
        assert!(
            found[1].starts_with("line 6: an identity sets both"),
            "{found:?}"
        );
        assert!(
            found[2].starts_with("line 9: an identity needs its OIDC `issuer`"),
            "{found:?}"
        );
        assert!(
            found[3].starts_with("line 10: `identity_regexp` `(` does not compile"),
            "{found:?}"
        );
    }

    #[test]
    fn signed_objects_parse() {
        let text = format!(
            "{BASE}signed_objects:\n  - namespaces: [prod, 'team-*']\n    signers:\n      \
             keys: [keys/manifests.pub]\n    required_claims: [approver, ticket]\n  \
             - namespaces: ['*']\n    kinds: [ConfigMap]\n    signers: {{require: any, keys: \
             ['pkcs11:token=t;object=m']}}\n"
        );
        let policy = parse(&text).unwrap();
        assert!(policy.sets(Rule::SignedObjects));
        let [first, second] = policy.signed_objects.as_slice() else {
            panic!("expected two entries");
        };
        assert_eq!(first.line, 4);
        assert_eq!(first.kinds, DEFAULT_SIGNED_KINDS);
        assert_eq!(first.keys[0].location, "/policies/keys/manifests.pub");
        assert_eq!(first.required_claims, ["approver", "ticket"]);
        assert!(first.covers("prod", "Deployment"));
        assert!(first.covers("team-ml", "Pod"));
        assert!(!first.covers("production", "Deployment"));
        assert!(!first.covers("prod", "ConfigMap"));
        assert!(
            first.covers("prod", "ReplicaSet"),
            "made from a covered Deployment"
        );
        assert!(!second.covers("prod", "ReplicaSet"));
        assert_eq!(second.line, 8);
        assert!(second.covers("anything", "ConfigMap"));
        assert!(second.required_claims.is_empty());
        let chosen = policy
            .signed_objects_rule(Some("prod"), "ConfigMap")
            .unwrap();
        assert_eq!(chosen.line, 8);
        assert!(policy.signed_objects_rule(None, "Deployment").is_none());
    }

    #[test]
    fn signed_objects_problems_listed_with_lines() {
        let text = format!(
            "{BASE}signed_objects:\n  - kinds: []\n    signers:\n      keys: [a.pub]\n  \
             - namespaces: [prod]\n    kinds: [deployment, Job, Job]\n    signers:\n      \
             require: all\n      keys: [a.pub]\n      identities:\n        - identity: a\n          \
             issuer: i\n    required_claims: ['', approver=alice, ticket, ticket]\n  \
             - namespaces: [prod]\n"
        );
        assert_eq!(
            problems(&text),
            [
                "line 4: the `signed_objects` entry names no `namespaces`; list namespace names \
                 or globs such as `team-*` (`*` covers every namespace)",
                "line 4: `signed_objects` `kinds` is empty; list kinds such as `Deployment`, or \
                 remove `kinds` to cover Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod",
                "line 8: `deployment` in `signed_objects` `kinds` is not a Kubernetes kind; \
                 write it as the object's `kind:` field does, such as `Deployment`",
                "line 8: `signed_objects` `kinds` lists `Job` twice; list it once",
                "line 10: `signed_objects` `signers.require` is `all`; an object carries one \
                 signature, so one key suffices: remove `require` or write `any`",
                "line 13: `signed_objects` signers cannot be keyless `identities`: `clearbox \
                 sign-manifest` signs with a key and the signature carries no certificate; list \
                 the public keys under `signers.keys`",
                "line 15: `` in `required_claims` is not a claim name; write the KEY of \
                 `clearbox sign-manifest --claim KEY=VALUE`, such as `approver`",
                "line 15: `approver=alice` in `required_claims` is not a claim name; write the \
                 KEY of `clearbox sign-manifest --claim KEY=VALUE`, such as `approver`",
                "line 15: `required_claims` lists `ticket` twice; list it once",
                "line 16: the `signed_objects` entry names no `signers`; list the public keys \
                 that sign manifests under `signers.keys`",
            ]
        );
        let message = syntax(&format!(
            "{BASE}signed_objects:\n  - namespaces: [prod]\n    namespace: [dev]\n"
        ));
        assert!(message.contains("namespace"), "{message}");
        assert!(message.contains("line 5"), "{message}");
    }

    #[test]
    fn signed_objects_exception_accepted() {
        let text = format!(
            "{BASE}signed_objects:\n  - namespaces: [prod]\n    signers: {{keys: [a.pub]}}\n\
             exceptions:\n  - rule: signed_objects\n    resource: Deployment/prod/legacy-*\n    \
             expires: 2027-01-01\n    reason: signed from the next release on\n"
        );
        let policy = parse(&text).unwrap();
        assert_eq!(policy.exceptions[0].rule, Rule::SignedObjects);
    }

    #[test]
    fn ages() {
        assert_eq!(parse_age("36h"), Some(chrono::Duration::hours(36)));
        assert_eq!(parse_age("2d"), Some(chrono::Duration::hours(48)));
        assert_eq!(parse_age("2w"), None);
        assert_eq!(parse_age("-1d"), None);
        assert_eq!(parse_age("d"), None);
    }
}
