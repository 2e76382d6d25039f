//! The rules decided from an image's reference and metadata alone: `trusted_registries`,
//! `deny_latest_tag`, `require_digest` and `annotations`. The first three need nothing but the
//! reference, so a command can apply them before it contacts a registry.

use std::collections::BTreeMap;

use clearbox_oci::{ImageReference, RegistryReference};

use super::evaluation::{Evaluation, Outcome, Target};
use super::model::{AnnotationRule, AnnotationValue, Policy, Rule};

/// The image an evaluation is about.
#[derive(Debug, Clone)]
pub struct ImageSubject {
    /// The registry reference, `None` for local layouts and archives.
    pub registry: Option<RegistryReference>,
    /// The tag of a local layout or archive, or `@DIGEST` for a layout entry named by digest.
    pub local_tag: Option<String>,
    /// An OCI layout or archive named without a tag or digest, which reads the image tagged
    /// `latest` or the only image there is.
    pub untagged_layout: bool,
    /// The target results name.
    pub target: Target,
}

impl ImageSubject {
    /// Describes the image `reference` names.
    #[must_use]
    pub fn from_reference(reference: &ImageReference) -> Self {
        match reference {
            ImageReference::Registry(registry) => Self::from_registry(registry.clone(), None),
            ImageReference::OciLayout { tag, .. } | ImageReference::OciArchive { tag, .. } => {
                ImageSubject {
                    registry: None,
                    local_tag: tag.clone(),
                    untagged_layout: tag.is_none(),
                    target: Target {
                        image: Some(reference.to_string()),
                        ..Target::default()
                    },
                }
            }
            ImageReference::DockerArchive { .. } | ImageReference::RootFs { .. } => ImageSubject {
                registry: None,
                local_tag: None,
                untagged_layout: false,
                target: Target {
                    image: Some(reference.to_string()),
                    ..Target::default()
                },
            },
        }
    }

    /// Describes a registry image, optionally inside a Kubernetes resource.
    #[must_use]
    pub fn from_registry(registry: RegistryReference, resource: Option<String>) -> Self {
        let target = Target {
            image: Some(registry.to_string()),
            repository: Some(format!("{}/{}", registry.registry, registry.repository)),
            resource,
        };
        ImageSubject {
            registry: Some(registry),
            local_tag: None,
            untagged_layout: false,
            target,
        }
    }
}

/// Records `trusted_registries`, `deny_latest_tag` and `require_digest` for `image`, each when
/// the policy sets it.
pub fn evaluate_reference(policy: &Policy, image: &ImageSubject, evaluation: &mut Evaluation) {
    let target = &image.target;
    if let Some(prefixes) = &policy.trusted_registries {
        let (outcome, message) = trusted_registry(prefixes, image);
        evaluation.record(policy, Rule::TrustedRegistries, target, outcome, message);
    }
    if policy.deny_latest_tag {
        let tag = image
            .registry
            .as_ref()
            .and_then(|r| r.tag.as_deref())
            .or(image.local_tag.as_deref());
        let (outcome, message) = match tag {
            Some("latest") => (
                Outcome::Failed,
                "the image is named by the tag `latest` (or by no tag, which means `latest`); \
                 name a release tag or a digest"
                    .to_owned(),
            ),
            Some(tag) => (Outcome::Passed, format!("the tag is `{tag}`")),
            None if image.untagged_layout => (
                Outcome::Failed,
                "the layout is named without a tag, so the image tagged `latest` (or its only \
                 image) is read; name a release tag or @DIGEST"
                    .to_owned(),
            ),
            None => (
                Outcome::Passed,
                "the image is named without a tag".to_owned(),
            ),
        };
        evaluation.record(policy, Rule::DenyLatestTag, target, outcome, message);
    }
    if policy.require_digest {
        let digest = match (&image.registry, &image.local_tag) {
            (Some(registry), _) => registry.digest.as_ref().map(ToString::to_string),
            (None, Some(tag)) => tag.strip_prefix('@').map(str::to_owned),
            (None, None) => None,
        };
        let (outcome, message) = match digest {
            Some(digest) => (Outcome::Passed, format!("the image is named by `{digest}`")),
            None => (
                Outcome::Failed,
                "the image is not named by digest; name it as REPO@sha256:…".to_owned(),
            ),
        };
        evaluation.record(policy, Rule::RequireDigest, target, outcome, message);
    }
}

fn trusted_registry(
    prefixes: &[crate::k8s::RegistryPrefix],
    image: &ImageSubject,
) -> (Outcome, String) {
    let list = prefixes
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let Some(registry) = &image.registry else {
        return (
            Outcome::CouldNotCheck,
            "a local image names no registry; evaluate the image by its registry reference \
             (docker://HOST/REPO)"
                .to_owned(),
        );
    };
    let name = format!("{}/{}", registry.registry, registry.repository);
    match prefixes
        .iter()
        .find(|p| p.allows(&registry.registry, &registry.repository))
    {
        Some(prefix) => (
            Outcome::Passed,
            format!("`{name}` is inside the trusted `{prefix}`"),
        ),
        None => (
            Outcome::Failed,
            format!("`{name}` is not inside any trusted registry ({list})"),
        ),
    }
}

/// Records `annotations` for a subject whose annotations are `found`, or could not check when
/// they are unknown (`None`, with the reason).
pub fn evaluate_annotations(
    policy: &Policy,
    target: &Target,
    found: Result<&BTreeMap<String, String>, &str>,
    evaluation: &mut Evaluation,
) {
    if policy.annotations.is_empty() {
        return;
    }
    let found = match found {
        Ok(found) => found,
        Err(reason) => {
            evaluation.record(
                policy,
                Rule::Annotations,
                target,
                Outcome::CouldNotCheck,
                reason,
            );
            return;
        }
    };
    let problems: Vec<String> = policy
        .annotations
        .iter()
        .filter_map(|rule| annotation_problem(rule, found))
        .collect();
    if problems.is_empty() {
        let keys = policy
            .annotations
            .iter()
            .map(|r| format!("`{}`", r.key))
            .collect::<Vec<_>>()
            .join(", ");
        evaluation.record(
            policy,
            Rule::Annotations,
            target,
            Outcome::Passed,
            format!("has {keys} as required"),
        );
    } else {
        evaluation.record(
            policy,
            Rule::Annotations,
            target,
            Outcome::Failed,
            problems.join("; "),
        );
    }
}

fn annotation_problem(rule: &AnnotationRule, found: &BTreeMap<String, String>) -> Option<String> {
    let key = &rule.key;
    let Some(value) = found.get(key) else {
        return Some(format!("annotation `{key}` is missing"));
    };
    match &rule.value {
        AnnotationValue::Any => None,
        AnnotationValue::Exact(expected) if value == expected => None,
        AnnotationValue::Exact(expected) => {
            Some(format!("annotation `{key}` is `{value}`, not `{expected}`"))
        }
        AnnotationValue::Pattern(regex) if regex.is_match(value) => None,
        AnnotationValue::Pattern(regex) => Some(format!(
            "annotation `{key}` is `{value}`, which does not match `{}`",
            regex.as_str()
        )),
    }
}

/// The annotations an image rule reads: the manifest's annotations, then the config's labels
/// for keys the manifest does not set.
#[must_use]
pub fn image_annotations(image: &clearbox_oci::Image) -> BTreeMap<String, String> {
    let mut found = image.config.config.labels.clone().unwrap_or_default();
    if let Some(manifest) = &image.manifest {
        found.extend(manifest.annotations.clone());
    }
    found
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::NaiveDate;

    use super::*;
    use crate::policy::{Verdict, parse_policy};

    const POLICY: &str = "apiVersion: clearbox.dev/v1\nkind: Policy\n\
        trusted_registries: [ghcr.io/acme]\ndeny_latest_tag: true\nrequire_digest: true\n\
        annotations:\n  - key: team\n    value: ml\n\
        exceptions:\n\
        \x20 - rule: require_digest\n    image: ghcr.io/acme/legacy*\n    expires: 2027-01-31\n    \
        reason: rebuilt by digest in January\n\
        \x20 - rule: trusted_registries\n    image: docker.io/library/*\n    expires: 2026-11-30\n    \
        reason: migration finished\n";

    fn policy() -> Policy {
        parse_policy(Path::new("policy.yaml"), POLICY.as_bytes()).unwrap()
    }

    fn evaluate(reference: &str, today: NaiveDate) -> Evaluation {
        let policy = policy();
        let mut evaluation = Evaluation::new(&policy, today);
        let subject = ImageSubject::from_reference(&reference.parse().unwrap());
        evaluate_reference(&policy, &subject, &mut evaluation);
        evaluation
    }

    fn outcomes(evaluation: &Evaluation) -> Vec<(&'static str, &'static str)> {
        evaluation
            .results
            .iter()
            .map(|r| (r.rule.name(), r.outcome.name()))
            .collect()
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn trusted_image_by_digest_passes() {
        let evaluation = evaluate(
            "docker://ghcr.io/acme/app:v1@sha256:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
            day("2026-12-04"),
        );
        assert_eq!(
            outcomes(&evaluation),
            [
                ("trusted_registries", "passed"),
                ("deny_latest_tag", "passed"),
                ("require_digest", "passed")
            ]
        );
        assert_eq!(evaluation.verdict(), Verdict::Passed);
    }

    #[test]
    fn untrusted_latest_image_fails_each_rule() {
        let evaluation = evaluate("docker://ghcr.io/acme-evil/app", day("2026-12-04"));
        assert_eq!(
            outcomes(&evaluation),
            [
                ("trusted_registries", "failed"),
                ("deny_latest_tag", "failed"),
                ("require_digest", "failed")
            ]
        );
        assert_eq!(
            evaluation.results[0].message,
            "`ghcr.io/acme-evil/app` is not inside any trusted registry (`ghcr.io/acme`)"
        );
        assert_eq!(evaluation.verdict(), Verdict::Failed);
    }

    #[test]
    fn active_exception_waives_until_end_of_day() {
        for (today, outcome) in [("2027-01-31", "waived"), ("2027-02-01", "failed")] {
            let evaluation = evaluate("docker://ghcr.io/acme/legacy-api:v3", day(today));
            let digest = &evaluation.results[2];
            assert_eq!(digest.rule, Rule::RequireDigest);
            assert_eq!(digest.outcome.name(), outcome, "{today}");
            if outcome == "waived" {
                let exception = digest.exception.as_ref().unwrap();
                assert_eq!(exception.reason, "rebuilt by digest in January");
                assert_eq!(exception.line, 10);
                assert_eq!(evaluation.verdict(), Verdict::Passed);
            } else {
                assert_eq!(digest.expired_exceptions, ["line 10, expired 2027-01-31"]);
                assert_eq!(evaluation.expired_exceptions.len(), 2);
            }
        }
    }

    #[test]
    fn expired_exception_listed_and_not_applied() {
        let evaluation = evaluate("docker://nginx:1.27", day("2026-12-04"));
        let registry = &evaluation.results[0];
        assert_eq!(registry.outcome, Outcome::Failed);
        assert_eq!(registry.expired_exceptions, ["line 14, expired 2026-11-30"]);
        assert_eq!(evaluation.expired_exceptions.len(), 1);
        assert_eq!(
            evaluation.expired_exceptions[0].rule,
            Rule::TrustedRegistries
        );
        let json = evaluation.to_json(&policy());
        assert_eq!(json["expired_exceptions"][0]["line"], 14);
        assert_eq!(json["result"], "failed");
    }

    #[test]
    fn local_image_registry_could_not_check() {
        let evaluation = evaluate("oci:/tmp/layout:latest", day("2026-12-04"));
        assert_eq!(
            outcomes(&evaluation),
            [
                ("trusted_registries", "could-not-check"),
                ("deny_latest_tag", "failed"),
                ("require_digest", "failed")
            ]
        );
    }

    #[test]
    fn annotations_checked_by_value() {
        let policy = policy();
        let target = Target::default();
        let mut evaluation = Evaluation::new(&policy, day("2026-12-04"));
        let mut found = BTreeMap::new();
        evaluate_annotations(&policy, &target, Ok(&found), &mut evaluation);
        found.insert("team".to_owned(), "web".to_owned());
        evaluate_annotations(&policy, &target, Ok(&found), &mut evaluation);
        found.insert("team".to_owned(), "ml".to_owned());
        evaluate_annotations(&policy, &target, Ok(&found), &mut evaluation);
        evaluate_annotations(&policy, &target, Err("no manifest"), &mut evaluation);
        let messages: Vec<(&str, &str)> = evaluation
            .results
            .iter()
            .map(|r| (r.outcome.name(), r.message.as_str()))
            .collect();
        assert_eq!(
            messages,
            [
                ("failed", "annotation `team` is missing"),
                ("failed", "annotation `team` is `web`, not `ml`"),
                ("passed", "has `team` as required"),
                ("could-not-check", "no manifest"),
            ]
        );
    }
}
