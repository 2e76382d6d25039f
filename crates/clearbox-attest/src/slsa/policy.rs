//! Provenance policies and checking a statement against one, as slsa-verifier checks
//! provenance: the subject, the builder, the source, and the approvals clearbox records.
//!
//! ```yaml
//! builders:
//!   - https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml
//! source:
//!   repository: github.com/slsa-framework/example-package
//!   ref_pattern: refs/tags/v*
//!   versioned_tag: v1.2
//!   commit: 6cf671f47f3752f97b9f5bff511e37b938fe10d2
//! approvals:
//!   required: 1
//!   reviewers: [alice, bob]
//! ```
//!
//! Checks, in the order reported (names in backticks):
//!
//! 1. `subject`: a subject's digest, of the image digest's algorithm, equals it;
//! 2. `builder`: the builder ID matches an entry of `builders`: the part before `@` equal, and
//!    when the entry has a version after `@`, that too (`v1.2.0` also matches
//!    `refs/tags/v1.2.0`), as slsa-verifier's `--builder-id` matches;
//! 3. `source-repository`: every place that names the source names `source.repository`;
//! 4. `source-ref`: every ref named matches `source.ref_pattern`;
//! 5. `source-versioned-tag`: every ref named is a tag `refs/tags/vX.Y.Z` whose semantic
//!    version agrees with `source.versioned_tag` in the parts that gives, as slsa-verifier's
//!    `--source-versioned-tag`: `v1` takes any 1.x.y, `v1.2` any 1.2.y, `v1.2.3` only 1.2.3
//!    (pre-release included; build metadata only when given);
//! 6. `source-commit`: every commit named equals `source.commit`;
//! 7. `source-clean`: the provenance does not record a dirty working tree, unless
//!    `source.allow_dirty` is true;
//! 8. `approvals`: at least `approvals.required` different reviewers (from `reviewers` when
//!    given) approved.
//!
//! A check the policy does not ask for is reported as not required, never as passed. Fields
//! the provenance lacks fail the checks that need them.

use std::collections::BTreeSet;
use std::fmt;

use regex::Regex;
use serde::Deserialize;
use tracing::debug;

use super::facts::{ProvenanceFacts, SourceClaim, normalise_repository};
use crate::intoto::Statement;

/// A policy file that is not a valid policy.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// Not YAML or JSON of the policy's shape.
    #[error("invalid provenance policy: {0}")]
    Syntax(String),
    /// A value is unusable.
    #[error("invalid provenance policy: {0}")]
    Invalid(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    builders: Vec<String>,
    #[serde(default)]
    source: Option<RawSource>,
    #[serde(default)]
    approvals: Option<RawApprovals>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    #[serde(default)]
    repository: Option<String>,
    #[serde(default)]
    ref_pattern: Option<String>,
    #[serde(default)]
    versioned_tag: Option<String>,
    #[serde(default)]
    commit: Option<String>,
    #[serde(default)]
    allow_dirty: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApprovals {
    required: u32,
    #[serde(default)]
    reviewers: Vec<String>,
}

/// A ref pattern: a glob, or with a leading `^` a regular expression.
#[derive(Debug, Clone)]
struct RefPattern {
    text: String,
    regex: Regex,
}

impl RefPattern {
    fn parse(text: &str) -> Result<Self, PolicyError> {
        let source = if text.starts_with('^') {
            text.to_owned()
        } else {
            glob_to_regex(text)
        };
        let regex = Regex::new(&source).map_err(|e| {
            PolicyError::Invalid(format!(
                "`source.ref_pattern` `{text}` does not compile: {}",
                crate::bundle::regex_problem(&e)
            ))
        })?;
        Ok(RefPattern {
            text: text.to_owned(),
            regex,
        })
    }

    fn matches(&self, git_ref: &str) -> bool {
        self.regex.is_match(git_ref)
    }
}

/// Translates a ref glob into an anchored regular expression. `*` matches any run of
/// characters but `/`, `**` any run, and `?` one character but `/`, as in GitHub Actions branch
/// filters.
fn glob_to_regex(glob: &str) -> String {
    let mut out = String::from("^");
    let mut chars = glob.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                out.push_str(".*");
            }
            '*' => out.push_str("[^/]*"),
            '?' => out.push_str("[^/]"),
            other => out.push_str(&regex::escape(&other.to_string())),
        }
    }
    out.push('$');
    out
}

/// A provenance policy; see the module documentation for the file format.
#[derive(Debug, Clone)]
pub struct ProvenancePolicy {
    builders: Vec<String>,
    repository: Option<String>,
    ref_pattern: Option<RefPattern>,
    versioned_tag: Option<(String, TagVersion)>,
    commit: Option<String>,
    check_clean: bool,
    approvals: Option<(u32, Vec<String>)>,
}

impl ProvenancePolicy {
    /// Parses a policy from YAML or JSON text. Unknown keys are rejected, so that a misspelt
    /// key cannot turn a check off.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let raw: RawPolicy =
            serde_saphyr::from_str(text).map_err(|e| PolicyError::Syntax(e.to_string()))?;
        Self::validate(raw)
    }

    fn validate(raw: RawPolicy) -> Result<Self, PolicyError> {
        let invalid = |text: String| Err(PolicyError::Invalid(text));
        if raw.builders.is_empty() {
            return invalid(
                "`builders` is empty; list the builder IDs whose provenance is trusted".into(),
            );
        }
        for builder in &raw.builders {
            if builder.trim().is_empty() || builder.split('@').count() > 2 || builder.ends_with('@')
            {
                return invalid(format!(
                    "builder `{builder}` is not an ID with at most one `@VERSION`"
                ));
            }
        }
        let mut policy = ProvenancePolicy {
            builders: raw.builders,
            repository: None,
            ref_pattern: None,
            versioned_tag: None,
            commit: None,
            check_clean: false,
            approvals: None,
        };
        if let Some(source) = raw.source {
            if source.repository.is_none()
                && source.ref_pattern.is_none()
                && source.versioned_tag.is_none()
                && source.commit.is_none()
            {
                return invalid(
                    "`source` has none of `repository`, `ref_pattern`, `versioned_tag` and \
                     `commit`"
                        .into(),
                );
            }
            if let Some(text) = source.versioned_tag {
                let Some(version) = TagVersion::parse(&text) else {
                    return invalid(format!(
                        "`source.versioned_tag` `{text}` is not a semantic version such as \
                         `v1`, `v1.2` or `v1.2.3`"
                    ));
                };
                policy.versioned_tag = Some((text, version));
            }
            policy.repository = source.repository.as_deref().map(normalise_repository);
            policy.ref_pattern = source
                .ref_pattern
                .as_deref()
                .map(RefPattern::parse)
                .transpose()?;
            if let Some(commit) = source.commit {
                let lower = commit.trim().to_ascii_lowercase();
                if !(matches!(lower.len(), 40 | 64) && lower.bytes().all(|b| b.is_ascii_hexdigit()))
                {
                    return invalid(format!(
                        "`source.commit` `{commit}` is not a full 40- or 64-digit commit hash"
                    ));
                }
                policy.commit = Some(lower);
            }
            policy.check_clean = !source.allow_dirty;
        }
        if let Some(approvals) = raw.approvals {
            if approvals.required == 0 {
                return invalid(
                    "`approvals.required` is 0; remove `approvals` to require none".into(),
                );
            }
            if approvals.reviewers.iter().any(|r| r.trim().is_empty()) {
                return invalid("`approvals.reviewers` has an empty name".into());
            }
            let distinct: BTreeSet<&String> = approvals.reviewers.iter().collect();
            if !approvals.reviewers.is_empty() && distinct.len() < approvals.required as usize {
                return invalid(format!(
                    "`approvals.required` is {} but `approvals.reviewers` names only {} reviewers",
                    approvals.required,
                    distinct.len()
                ));
            }
            policy.approvals = Some((approvals.required, approvals.reviewers));
        }
        Ok(policy)
    }
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckOutcome {
    /// The check ran and passed.
    Passed,
    /// The check ran and failed.
    Failed,
    /// The policy does not ask for it, so it did not run.
    NotRequired,
}

impl CheckOutcome {
    /// Returns `passed`, `failed` or `not-required`.
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            CheckOutcome::Passed => "passed",
            CheckOutcome::Failed => "failed",
            CheckOutcome::NotRequired => "not-required",
        }
    }
}

/// One named check and what it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyCheck {
    /// The check's name, such as `builder`.
    pub name: &'static str,
    /// Its outcome.
    pub outcome: CheckOutcome,
    /// The values compared, or the reason the check failed.
    pub detail: String,
}

impl fmt::Display for PolicyCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.name,
            self.outcome.as_str(),
            self.detail
        )
    }
}

/// Every check of one statement against a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyReport {
    /// The checks, in the order the module documentation lists them.
    pub checks: Vec<PolicyCheck>,
}

impl PolicyReport {
    /// True when no check failed.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.checks
            .iter()
            .all(|c| c.outcome != CheckOutcome::Failed)
    }

    /// Returns the checks that failed.
    pub fn failures(&self) -> impl Iterator<Item = &PolicyCheck> {
        self.checks
            .iter()
            .filter(|c| c.outcome == CheckOutcome::Failed)
    }

    /// Returns the check named `name`.
    #[must_use]
    pub fn check(&self, name: &str) -> Option<&PolicyCheck> {
        self.checks.iter().find(|c| c.name == name)
    }
}

/// Checks a statement against a policy for the artifact with `digest` (`ALGORITHM:HEX`, such as
/// `sha256:…` for an image, `sha512:…` for an npm tarball). Call it only on a statement whose
/// signature verified. A statement that is not SLSA provenance fails every check.
#[must_use]
pub fn check_provenance_policy(
    statement: &Statement,
    digest: &str,
    policy: &ProvenancePolicy,
) -> PolicyReport {
    let mut checks = vec![check_subject(statement, digest)];
    let Some(facts) = ProvenanceFacts::read(statement) else {
        let detail = format!(
            "the predicate type `{}` is not SLSA provenance v0.1, v0.2 or v1",
            statement.predicate_type()
        );
        for name in [
            "builder",
            "source-repository",
            "source-ref",
            "source-versioned-tag",
            "source-commit",
            "source-clean",
            "approvals",
        ] {
            checks.push(failed(name, detail.clone()));
        }
        return PolicyReport { checks };
    };
    checks.push(check_builder(&facts, &policy.builders));
    checks.push(match &policy.repository {
        Some(expected) => check_repository(&facts.sources, expected),
        None => not_required("source-repository"),
    });
    checks.push(match &policy.ref_pattern {
        Some(pattern) => check_ref(&facts.sources, pattern),
        None => not_required("source-ref"),
    });
    checks.push(match &policy.versioned_tag {
        Some((text, version)) => check_versioned_tag(&facts.sources, text, version),
        None => not_required("source-versioned-tag"),
    });
    checks.push(match &policy.commit {
        Some(expected) => check_commit(&facts.sources, expected),
        None => not_required("source-commit"),
    });
    checks.push(check_clean(&facts, policy.check_clean));
    checks.push(match &policy.approvals {
        Some((required, reviewers)) => check_approvals(&facts, *required, reviewers),
        None => not_required("approvals"),
    });
    for check in &checks {
        debug!(check = check.name, outcome = check.outcome.as_str(), detail = %check.detail, "provenance policy check");
    }
    PolicyReport { checks }
}

fn passed(name: &'static str, detail: String) -> PolicyCheck {
    PolicyCheck {
        name,
        outcome: CheckOutcome::Passed,
        detail,
    }
}

fn failed(name: &'static str, detail: String) -> PolicyCheck {
    PolicyCheck {
        name,
        outcome: CheckOutcome::Failed,
        detail,
    }
}

fn not_required(name: &'static str) -> PolicyCheck {
    PolicyCheck {
        name,
        outcome: CheckOutcome::NotRequired,
        detail: "the policy does not require it".to_owned(),
    }
}

fn check_subject(statement: &Statement, digest: &str) -> PolicyCheck {
    let (algorithm, hex) = digest.split_once(':').unwrap_or(("sha256", digest));
    let hex = hex.to_ascii_lowercase();
    if statement
        .subjects()
        .iter()
        .any(|s| s.digest.get(algorithm) == Some(&hex))
    {
        return passed(
            "subject",
            format!("a subject has the digest `{algorithm}:{hex}`"),
        );
    }
    let found: Vec<String> = statement
        .subjects()
        .iter()
        .flat_map(|s| s.digest.iter().map(|(a, h)| format!("`{a}:{h}`")))
        .collect();
    failed(
        "subject",
        format!(
            "no subject has the digest `{algorithm}:{hex}`; the subjects have {}",
            found.join(", ")
        ),
    )
}

fn check_builder(facts: &ProvenanceFacts, allowed: &[String]) -> PolicyCheck {
    let Some(id) = facts.builder_id.as_deref().filter(|id| !id.is_empty()) else {
        return failed("builder", "the provenance names no builder ID".to_owned());
    };
    if allowed.iter().any(|entry| builder_matches(id, entry)) {
        return passed("builder", format!("`{id}` is an allowed builder"));
    }
    failed(
        "builder",
        format!(
            "`{id}` is not one of the allowed builders ({})",
            allowed
                .iter()
                .map(|b| format!("`{b}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}

/// Applies slsa-verifier's loose builder match. The names must be equal, and an entry's version
/// must equal the builder's version or `refs/tags/` followed by the entry's version.
fn builder_matches(id: &str, entry: &str) -> bool {
    let parts: Vec<&str> = id.split('@').collect();
    let (name, version) = match parts.as_slice() {
        [name] => (*name, None),
        [name, version] if !version.is_empty() => (*name, Some(*version)),
        _ => return false,
    };
    match entry.split_once('@') {
        None => entry == name,
        Some((entry_name, entry_version)) => {
            entry_name == name
                && version.is_some_and(|v| {
                    v == entry_version || v.strip_prefix("refs/tags/") == Some(entry_version)
                })
        }
    }
}

fn check_repository(sources: &[SourceClaim], expected: &str) -> PolicyCheck {
    if sources.is_empty() {
        return failed(
            "source-repository",
            "the provenance names no source repository".to_owned(),
        );
    }
    let wrong: Vec<String> = sources
        .iter()
        .filter(|s| s.repository != expected)
        .map(|s| format!("`{}` names `{}`", s.field, s.repository))
        .collect();
    if wrong.is_empty() {
        passed(
            "source-repository",
            format!("{} name `{expected}`", fields(sources.iter())),
        )
    } else {
        failed(
            "source-repository",
            format!("{}, not `{expected}`", wrong.join("; ")),
        )
    }
}

fn check_ref(sources: &[SourceClaim], pattern: &RefPattern) -> PolicyCheck {
    let named: Vec<&SourceClaim> = sources.iter().filter(|s| s.git_ref.is_some()).collect();
    if named.is_empty() {
        return failed(
            "source-ref",
            format!(
                "the provenance names no source ref to match `{}`",
                pattern.text
            ),
        );
    }
    let wrong: Vec<String> = named
        .iter()
        .filter_map(|s| {
            let git_ref = s.git_ref.as_deref().unwrap_or_default();
            (!pattern.matches(git_ref)).then(|| format!("`{}` names `{git_ref}`", s.field))
        })
        .collect();
    if wrong.is_empty() {
        let refs: BTreeSet<&str> = named.iter().filter_map(|s| s.git_ref.as_deref()).collect();
        passed(
            "source-ref",
            format!(
                "{} match `{}`",
                refs.iter()
                    .map(|r| format!("`{r}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                pattern.text
            ),
        )
    } else {
        failed(
            "source-ref",
            format!(
                "{}, which does not match `{}`",
                wrong.join("; "),
                pattern.text
            ),
        )
    }
}

/// A semantic version as a tag writes it (`v1`, `v1.2`, `v1.2.3-rc.1+build.5`), keeping which
/// parts were given.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TagVersion {
    major: u64,
    minor: Option<u64>,
    patch: Option<u64>,
    prerelease: Option<String>,
    build: Option<String>,
}

impl TagVersion {
    fn parse(text: &str) -> Option<TagVersion> {
        let rest = text.strip_prefix('v')?;
        let (rest, build) = match rest.split_once('+') {
            Some((rest, build)) => (rest, Some(build.to_owned())),
            None => (rest, None),
        };
        let (core, prerelease) = match rest.split_once('-') {
            Some((core, pre)) => (core, Some(pre.to_owned())),
            None => (rest, None),
        };
        let number = |part: &str| -> Option<u64> {
            let valid = !part.is_empty()
                && part.bytes().all(|b| b.is_ascii_digit())
                && (part == "0" || !part.starts_with('0'));
            valid.then(|| part.parse().ok()).flatten()
        };

        let identifiers_valid = |text: &Option<String>| {
            text.as_deref().is_none_or(|t| {
                t.split('.').all(|id| {
                    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                })
            })
        };

        let mut parts = core.split('.');
        let major = number(parts.next()?)?;
        let minor = parts.next().map(number);
        let patch = parts.next().map(number);
        if parts.next().is_some()
            || minor == Some(None)
            || patch == Some(None)
            || !identifiers_valid(&prerelease)
            || !identifiers_valid(&build)
            || ((prerelease.is_some() || build.is_some()) && patch.is_none())
        {
            return None;
        }
        Some(TagVersion {
            major,
            minor: minor.flatten(),
            patch: patch.flatten(),
            prerelease,
            build,
        })
    }

    /// Whether `self`, a tag's version, agrees with `expected` in every part `expected` gives.
    fn agrees_with(&self, expected: &TagVersion) -> bool {
        self.major == expected.major
            && expected.minor.is_none_or(|m| self.minor.unwrap_or(0) == m)
            && expected.patch.is_none_or(|p| {
                self.patch.unwrap_or(0) == p && self.prerelease == expected.prerelease
            })
            && expected
                .build
                .as_ref()
                .is_none_or(|b| self.build.as_ref() == Some(b))
    }
}

fn check_versioned_tag(sources: &[SourceClaim], text: &str, expected: &TagVersion) -> PolicyCheck {
    let named: Vec<&SourceClaim> = sources.iter().filter(|s| s.git_ref.is_some()).collect();
    if named.is_empty() {
        return failed(
            "source-versioned-tag",
            format!("the provenance names no source ref to compare with `{text}`"),
        );
    }
    let mut wrong = Vec::new();
    for source in &named {
        let git_ref = source.git_ref.as_deref().unwrap_or_default();
        let reason = match git_ref.strip_prefix("refs/tags/") {
            None => Some("not a tag"),
            Some(tag) => match TagVersion::parse(tag) {
                None => Some("not a semantic version tag"),
                Some(version) if !version.agrees_with(expected) => Some("another version"),
                Some(_) => None,
            },
        };
        if let Some(reason) = reason {
            wrong.push(format!("`{}` names `{git_ref}`, {reason}", source.field));
        }
    }
    if wrong.is_empty() {
        let refs: BTreeSet<&str> = named.iter().filter_map(|s| s.git_ref.as_deref()).collect();
        passed(
            "source-versioned-tag",
            format!(
                "{} agree with `{text}`",
                refs.iter()
                    .map(|r| format!("`{r}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    } else {
        failed(
            "source-versioned-tag",
            format!(
                "{}; expected a tag agreeing with `{text}`",
                wrong.join("; ")
            ),
        )
    }
}

fn check_commit(sources: &[SourceClaim], expected: &str) -> PolicyCheck {
    let named: Vec<&SourceClaim> = sources.iter().filter(|s| s.commit.is_some()).collect();
    if named.is_empty() {
        return failed(
            "source-commit",
            "the provenance names no source commit".to_owned(),
        );
    }
    let wrong: Vec<String> = named
        .iter()
        .filter(|s| s.commit.as_deref() != Some(expected))
        .map(|s| {
            format!(
                "`{}` names `{}`",
                s.field,
                s.commit.as_deref().unwrap_or_default()
            )
        })
        .collect();
    if wrong.is_empty() {
        passed(
            "source-commit",
            format!("{} name `{expected}`", fields(named.into_iter())),
        )
    } else {
        failed(
            "source-commit",
            format!("{}, not `{expected}`", wrong.join("; ")),
        )
    }
}

fn fields<'a>(sources: impl Iterator<Item = &'a SourceClaim>) -> String {
    sources
        .map(|s| format!("`{}`", s.field))
        .collect::<Vec<_>>()
        .join(" and ")
}

fn check_clean(facts: &ProvenanceFacts, required: bool) -> PolicyCheck {
    if !required {
        return not_required("source-clean");
    }
    match facts.dirty {
        Some(true) => failed(
            "source-clean",
            "the provenance records a working tree that differed from the commit \
             (`externalParameters.source.dirty`); set `source.allow_dirty: true` to accept it"
                .to_owned(),
        ),
        Some(false) => passed(
            "source-clean",
            "the provenance records a clean working tree".to_owned(),
        ),
        None => passed(
            "source-clean",
            "the provenance records no dirty working tree".to_owned(),
        ),
    }
}

fn check_approvals(facts: &ProvenanceFacts, required: u32, reviewers: &[String]) -> PolicyCheck {
    let approvals = match &facts.approvals {
        Ok(approvals) => approvals,
        Err(reason) => {
            return failed(
                "approvals",
                format!("the approvals are malformed: {reason}"),
            );
        }
    };
    let counted: BTreeSet<&str> = approvals
        .iter()
        .map(super::build::Approval::reviewer)
        .filter(|r| reviewers.is_empty() || reviewers.iter().any(|allowed| allowed == r))
        .collect();
    let list = counted
        .iter()
        .map(|r| format!("`{r}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let from = if reviewers.is_empty() {
        String::new()
    } else {
        " of the listed reviewers".to_owned()
    };
    if counted.len() >= required as usize {
        passed(
            "approvals",
            format!("{list} approved ({required} required{from})"),
        )
    } else {
        failed(
            "approvals",
            format!(
                "{} approval(s){from} found, {required} required{}",
                counted.len(),
                if list.is_empty() {
                    String::new()
                } else {
                    format!(": {list}")
                }
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    const DIGEST: &str = "sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
    const COMMIT: &str = "8f70009fde0c94ade6ce2a054b94718c819126ec";

    fn statement(predicate_type: &str, predicate: &Value) -> Statement {
        Statement::from_json(
            &serde_json::to_vec(&json!({
                "_type": "https://in-toto.io/Statement/v1",
                "subject": [{"name": "app", "digest": {"sha256": &DIGEST[7..]}}],
                "predicateType": predicate_type,
                "predicate": predicate,
            }))
            .unwrap(),
        )
        .unwrap()
    }

    fn clearbox_v1(dirty: bool, approvals: &Value) -> Statement {
        statement(
            "https://slsa.dev/provenance/v1",
            &json!({
                "buildDefinition": {
                    "buildType": "x",
                    "externalParameters": {
                        "source": {"repository": "https://github.com/acme/app",
                                   "ref": "refs/heads/main", "commit": COMMIT, "dirty": dirty},
                        "approvals": approvals,
                    },
                    "resolvedDependencies": [{"uri": "git+https://github.com/acme/app@refs/heads/main",
                                              "digest": {"gitCommit": COMMIT}}],
                },
                "runDetails": {"builder": {"id": "https://ci.example/builder@v2"}},
            }),
        )
    }

    fn outcomes(report: &PolicyReport) -> Vec<(&'static str, &'static str)> {
        report
            .checks
            .iter()
            .map(|c| (c.name, c.outcome.as_str()))
            .collect()
    }

    fn policy(text: &str) -> ProvenancePolicy {
        ProvenancePolicy::parse(text).unwrap()
    }

    #[test]
    fn clearbox_statement_passes_full_policy() {
        let report = check_provenance_policy(
            &clearbox_v1(false, &json!([{"reviewer": "alice"}, {"reviewer": "bob"}])),
            DIGEST,
            &policy(&format!(
                "builders: [https://ci.example/builder]\n\
                 source: {{repository: github.com/acme/app, ref_pattern: refs/heads/*, commit: {COMMIT}}}\n\
                 approvals: {{required: 2, reviewers: [alice, bob, carol]}}\n"
            )),
        );
        assert_eq!(
            outcomes(&report),
            [
                ("subject", "passed"),
                ("builder", "passed"),
                ("source-repository", "passed"),
                ("source-ref", "passed"),
                ("source-versioned-tag", "not-required"),
                ("source-commit", "passed"),
                ("source-clean", "passed"),
                ("approvals", "passed"),
            ]
        );
        assert!(report.passed());
        assert_eq!(
            report.check("source-repository").unwrap().detail,
            "`buildDefinition.resolvedDependencies[0]` and \
             `buildDefinition.externalParameters.source` name `https://github.com/acme/app`"
        );
        assert_eq!(
            report.check("approvals").unwrap().detail,
            "`alice`, `bob` approved (2 required of the listed reviewers)"
        );
    }

    #[test]
    fn every_failure_named() {
        let report = check_provenance_policy(
            &clearbox_v1(true, &json!([{"reviewer": "mallory"}])),
            "sha256:0000000000000000000000000000000000000000000000000000000000000000",
            &policy(
                "builders: ['https://ci.example/builder@v1']\n\
                 source:\n  repository: https://github.com/acme/other\n  ref_pattern: '^refs/tags/v[0-9]+$'\n  \
                 commit: 0123456789abcdef0123456789abcdef01234567\n\
                 approvals: {required: 1, reviewers: [alice]}\n",
            ),
        );
        assert_eq!(
            report.failures().map(|c| c.name).collect::<Vec<_>>(),
            [
                "subject",
                "builder",
                "source-repository",
                "source-ref",
                "source-commit",
                "source-clean",
                "approvals"
            ]
        );
        assert_eq!(
            report.check("source-ref").unwrap().detail,
            "`buildDefinition.resolvedDependencies[0]` names `refs/heads/main`; \
             `buildDefinition.externalParameters.source` names `refs/heads/main`, which does not \
             match `^refs/tags/v[0-9]+$`"
        );
        assert_eq!(
            report.check("approvals").unwrap().detail,
            "0 approval(s) of the listed reviewers found, 1 required"
        );
    }

    #[test]
    fn checks_not_asked_for_are_not_required() {
        let report = check_provenance_policy(
            &clearbox_v1(true, &json!([])),
            DIGEST,
            &policy("{\"builders\": [\"https://ci.example/builder@refs/tags/v2\"]}"),
        );
        assert_eq!(
            outcomes(&report),
            [
                ("subject", "passed"),
                ("builder", "failed"),
                ("source-repository", "not-required"),
                ("source-ref", "not-required"),
                ("source-versioned-tag", "not-required"),
                ("source-commit", "not-required"),
                ("source-clean", "not-required"),
                ("approvals", "not-required"),
            ]
        );
    }

    #[test]
    fn builder_matching() {
        let id = "https://github.com/o/r/.github/workflows/b.yml@refs/tags/v1.2.0";
        for (entry, expected) in [
            ("https://github.com/o/r/.github/workflows/b.yml", true),
            (
                "https://github.com/o/r/.github/workflows/b.yml@v1.2.0",
                true,
            ),
            (
                "https://github.com/o/r/.github/workflows/b.yml@refs/tags/v1.2.0",
                true,
            ),
            (
                "https://github.com/o/r/.github/workflows/b.yml@v1.2.1",
                false,
            ),
            ("https://github.com/o/r/.github/workflows/b.ym", false),
            ("http://github.com/o/r/.github/workflows/b.yml", false),
        ] {
            assert_eq!(builder_matches(id, entry), expected, "{entry}");
        }
        assert!(!builder_matches("https://b@v1@v2", "https://b"));
        assert!(!builder_matches("https://b", "https://b@v1"));
    }

    #[test]
    fn versioned_tags_agree_in_the_parts_given() {
        let cases = [
            ("v1", "v1.4.2", true),
            ("v1", "v2.0.0", false),
            ("v1.2", "v1.2.9", true),
            ("v1.2", "v1.3.0", false),
            ("v1.2.3", "v1.2.3", true),
            ("v1.2.3", "v1.2.3+build.7", true),
            ("v1.2.3", "v1.2.3-rc.1", false),
            ("v1.2.3-rc.1", "v1.2.3-rc.1", true),
            ("v1.2.3+build.7", "v1.2.3+build.8", false),
            ("v1.2.0", "v1.2", true),
            ("v1.0", "v1", true),
        ];
        for (expected, tag, agrees) in cases {
            let expected_version = TagVersion::parse(expected).unwrap();
            let version = TagVersion::parse(tag).unwrap();
            assert_eq!(
                version.agrees_with(&expected_version),
                agrees,
                "{tag} against {expected}"
            );
        }
        for invalid in [
            "1.2.3", "v", "v1.2.3.4", "v01.2", "v1.x", "v1-rc", "v1.2.3-", "v1..2",
        ] {
            assert_eq!(TagVersion::parse(invalid), None, "{invalid}");
        }
    }

    #[test]
    fn versioned_tag_check_names_the_ref() {
        let tagged = |git_ref: &str| {
            statement(
                "https://slsa.dev/provenance/v1",
                &json!({
                    "buildDefinition": {"buildType": "x", "externalParameters": {
                        "source": {"repository": "https://github.com/acme/app",
                                   "ref": git_ref, "commit": COMMIT}}},
                    "runDetails": {"builder": {"id": "https://ci.example/builder"}}}),
            )
        };
        let policy =
            policy("builders: [https://ci.example/builder]\nsource:\n  versioned_tag: v1.2\n");
        let check = |git_ref: &str| {
            check_provenance_policy(&tagged(git_ref), DIGEST, &policy)
                .check("source-versioned-tag")
                .unwrap()
                .clone()
        };
        assert_eq!(check("refs/tags/v1.2.7").outcome, CheckOutcome::Passed);
        let wrong = check("refs/tags/v1.3.0");
        assert_eq!(wrong.outcome, CheckOutcome::Failed);
        assert_eq!(
            wrong.detail,
            "`buildDefinition.externalParameters.source` names `refs/tags/v1.3.0`, another \
             version; expected a tag agreeing with `v1.2`"
        );
        assert!(check("refs/heads/main").detail.contains("not a tag"));
        assert!(
            check("refs/tags/release-1.2")
                .detail
                .contains("not a semantic version tag")
        );
        assert!(matches!(
            ProvenancePolicy::parse("builders: [x]\nsource:\n  versioned_tag: 1.2\n"),
            Err(PolicyError::Invalid(_))
        ));
    }

    #[test]
    fn ref_globs() {
        let pattern = RefPattern::parse("refs/tags/v*").unwrap();
        assert!(pattern.matches("refs/tags/v1.2.0"));
        assert!(!pattern.matches("refs/tags/v1/evil"));
        assert!(!pattern.matches("refs/heads/refs/tags/v1"));
        let pattern = RefPattern::parse("refs/heads/**").unwrap();
        assert!(pattern.matches("refs/heads/release/1.0"));
        let pattern = RefPattern::parse("refs/heads/rel?").unwrap();
        assert!(pattern.matches("refs/heads/rel1"));
        assert!(!pattern.matches("refs/heads/rel12"));
        let pattern = RefPattern::parse("refs/heads/a.b").unwrap();
        assert!(!pattern.matches("refs/heads/aXb"));
    }

    #[test]
    fn invalid_policies() {
        for (text, message) in [
            (
                "builders: []",
                "`builders` is empty; list the builder IDs whose provenance is trusted",
            ),
            (
                "builders: ['a@b@c']",
                "builder `a@b@c` is not an ID with at most one `@VERSION`",
            ),
            (
                "builders: [a]\nsource: {allow_dirty: true}",
                "`source` has none of `repository`, `ref_pattern`, `versioned_tag` and `commit`",
            ),
            (
                "builders: [a]\nsource: {commit: abc}",
                "`source.commit` `abc` is not a full 40- or 64-digit commit hash",
            ),
            (
                "builders: [a]\nsource: {ref_pattern: '^('}",
                "`source.ref_pattern` `^(` does not compile",
            ),
            (
                "builders: [a]\napprovals: {required: 0}",
                "`approvals.required` is 0; remove `approvals` to require none",
            ),
            (
                "builders: [a]\napprovals: {required: 2, reviewers: [x, x]}",
                "`approvals.required` is 2 but `approvals.reviewers` names only 1 reviewers",
            ),
        ] {
            let error = ProvenancePolicy::parse(text).unwrap_err().to_string();
            assert!(error.contains(message), "{text}: {error}");
        }
        for text in ["builder: [a]", "builders: [a]\nsource: {repo: x}", "- a"] {
            assert!(
                matches!(ProvenancePolicy::parse(text), Err(PolicyError::Syntax(_))),
                "{text}"
            );
        }
    }

    #[test]
    fn other_predicate_fails_every_check() {
        let report = check_provenance_policy(
            &statement("https://spdx.dev/Document", &json!({})),
            DIGEST,
            &policy("builders: [a]"),
        );
        assert_eq!(report.failures().count(), 7);
        assert_eq!(
            report.check("subject").unwrap().outcome,
            CheckOutcome::Passed
        );
    }
}
