//! Checks decided from what the image config and manifest declare: the build history (CIS
//! Docker 4.9, `ADD` from a URL), where the container writes, and where the image was built
//! from.

use super::secrets::find_secrets;
use super::{CheckOutcome, CheckResult, Evidence, ImageFacts, annotation_field, code};

/// The label or annotation that lists the paths a container writes to, for images that do
/// not declare them as `VOLUME`s: absolute paths separated by commas. An empty value declares
/// that the container writes nowhere.
pub const WRITABLE_PATHS_KEY: &str = "clearbox.writable-paths";

/// The OCI annotation keys (also used as labels) that name the source repository and revision.
const SOURCE_KEY: &str = "org.opencontainers.image.source";
const REVISION_KEY: &str = "org.opencontainers.image.revision";

/// Maximum length of a URL quoted in evidence, in characters.
const MAX_QUOTED: usize = 200;

/// Returns the remote sources of an `ADD` instruction recorded in a history entry's
/// `created_by`.
///
/// `BuildKit` records `ADD [--flag...] SRC... DEST # buildkit`; the classic builder records
/// `/bin/sh -c #(nop) ADD SRC in DEST`. A source counts as remote when it starts with
/// `http://` or `https://` in any case, as Docker decides.
fn remote_add_sources(created_by: &str) -> Vec<&str> {
    let command = created_by.trim_start();
    let command = command.strip_prefix("/bin/sh -c").unwrap_or(command);
    let command = command.trim_start();
    let command = command.strip_prefix("#(nop)").unwrap_or(command);
    let mut words = command.split_whitespace();
    if !words
        .next()
        .is_some_and(|word| word.eq_ignore_ascii_case("ADD"))
    {
        return Vec::new();
    }
    words
        .filter(|word| !word.starts_with("--"))
        .filter(|word| {
            let lower = word.to_ascii_lowercase();
            lower.starts_with("http://") || lower.starts_with("https://")
        })
        .collect()
}

/// Formats a URL for evidence, with its user information and query masked, because they often
/// carry tokens.
fn masked_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (authority, path) = rest.find('/').map_or((rest, ""), |at| rest.split_at(at));
    let host = authority
        .rsplit_once('@')
        .map_or_else(|| authority.to_owned(), |(_, host)| format!("****@{host}"));
    let path = path
        .split_once('?')
        .map_or_else(|| path.to_owned(), |(path, _)| format!("{path}?****"));
    let url = format!("{scheme}://{host}{path}");
    // A token in the path (`/ghp_.../file`) is hidden with the rest of the path.
    let url = if find_secrets(url.as_bytes()).is_empty() {
        url
    } else {
        format!("{scheme}://{host}/****")
    };
    url.chars().take(MAX_QUOTED).collect()
}

pub(super) fn no_add_from_url(facts: &ImageFacts<'_>) -> CheckResult {
    let mut result = CheckResult {
        id: "cis-docker-4.9",
        cis: Some("4.9"),
        title: "No ADD from a remote URL in the build history",
        outcome: CheckOutcome::CouldNotCheck,
        evidence: Vec::new(),
        remediation: "Download files in an earlier build stage with a pinned checksum (or use \
                      `ADD --checksum=`), then COPY them into the image.",
    };
    if !facts.has_config {
        result
            .evidence
            .push(Evidence::note("a root filesystem has no image config"));
        return result;
    }
    let history = &facts.config.history;
    if history.is_empty() {
        result.evidence.push(Evidence::field(
            "history",
            "the config has no history, so the build steps are unknown",
        ));
        return result;
    }
    result.outcome = CheckOutcome::Pass;
    for (index, entry) in history.iter().enumerate() {
        let sources = remote_add_sources(entry.created_by.as_deref().unwrap_or_default());
        for url in sources {
            result.outcome = CheckOutcome::Fail;
            result.evidence.push(
                Evidence::field(
                    format!("history[{index}].created_by"),
                    format!(
                        "history[{index}].created_by runs ADD from {}",
                        code(&masked_url(url))
                    ),
                )
                .into_violation(),
            );
        }
    }
    if result.outcome == CheckOutcome::Pass {
        result.evidence.push(Evidence::field(
            "history",
            format!(
                "none of the {} history entries runs ADD with an http:// or https:// source",
                history.len()
            ),
        ));
    }
    result
}

/// Looks `key` up in the config labels, else in the manifest annotations, and returns the field
/// and the value.
fn label_or_annotation<'a>(facts: &ImageFacts<'a>, key: &str) -> Option<(String, &'a str)> {
    let label = facts
        .config
        .config
        .labels
        .as_ref()
        .and_then(|labels| labels.get(key))
        .map(|value| (format!("config.Labels[\"{key}\"]"), value.as_str()));
    label.or_else(|| {
        facts
            .annotations
            .get(key)
            .map(|value| (annotation_field(key), value.as_str()))
    })
}

pub(super) fn writable_paths_declared(facts: &ImageFacts<'_>) -> CheckResult {
    let mut result = CheckResult {
        id: "least-privilege-writable-paths",
        cis: None,
        title: "Writable paths are declared, so the container can run with a read-only root \
                filesystem",
        outcome: CheckOutcome::CouldNotCheck,
        evidence: Vec::new(),
        remediation: "Declare each directory the container writes to with VOLUME, or list them \
                      in the clearbox.writable-paths label (absolute paths separated by commas), \
                      so that it can run with a read-only root filesystem and those paths \
                      mounted.",
    };
    if !facts.has_config {
        result
            .evidence
            .push(Evidence::note("a root filesystem has no image config"));
        return result;
    }

    // Collect the declared paths with the field that declares each.
    let mut declared: Vec<(String, String)> = Vec::new();
    for volume in facts.config.config.volumes.iter().flat_map(|v| v.keys()) {
        declared.push((format!("config.Volumes[\"{volume}\"]"), volume.clone()));
    }
    let listed = label_or_annotation(facts, WRITABLE_PATHS_KEY);
    if let Some((field, value)) = &listed {
        for path in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            declared.push((field.clone(), path.to_owned()));
        }
        if value.trim().is_empty() {
            result.evidence.push(Evidence::field(
                field.clone(),
                format!("{field} is empty: the container writes nowhere"),
            ));
        }
    }
    if declared.is_empty() && listed.is_none() {
        result.evidence.push(Evidence::field(
            "config.Volumes",
            format!(
                "config.Volumes is not set and no {WRITABLE_PATHS_KEY} label or annotation lists \
                 writable paths, so nothing shows where the container writes or whether it can \
                 run with a read-only root filesystem"
            ),
        ));
        return result;
    }

    // A relative path or the root itself makes a read-only root filesystem impossible.
    result.outcome = CheckOutcome::Pass;
    for (field, path) in declared {
        let problem = if !path.starts_with('/') {
            Some("is not an absolute path")
        } else if path.trim_end_matches('/').is_empty() {
            Some("makes the whole root filesystem writable")
        } else {
            None
        };
        let evidence = match problem {
            Some(problem) => {
                result.outcome = CheckOutcome::Fail;
                let text = format!("{field}: {} {problem}", code(&path));
                Evidence::field(field, text).into_violation()
            }
            None => Evidence::field(
                field.clone(),
                format!("{field}: {} is writable", code(&path)),
            ),
        };
        result.evidence.push(evidence);
    }
    result
}

pub(super) fn source_and_revision(facts: &ImageFacts<'_>) -> CheckResult {
    let mut result = CheckResult {
        id: "traceability-source-revision",
        cis: None,
        title: "Image names its source repository and revision",
        outcome: CheckOutcome::CouldNotCheck,
        evidence: Vec::new(),
        remediation: "Set the org.opencontainers.image.source and org.opencontainers.image.revision \
                      labels or annotations at build time, for example with docker buildx build \
                      --label or --annotation.",
    };
    if !facts.has_config && !facts.has_manifest {
        result.evidence.push(Evidence::note(
            "a root filesystem has no image config labels or manifest annotations",
        ));
        return result;
    }
    let mut missing = Vec::new();
    for key in [SOURCE_KEY, REVISION_KEY] {
        match label_or_annotation(facts, key) {
            Some((field, value)) if !value.trim().is_empty() => {
                result.evidence.push(Evidence::field(
                    field.clone(),
                    format!("{field} = {}", code(value)),
                ));
            }
            _ => missing.push(key),
        }
    }
    if missing.is_empty() {
        result.outcome = CheckOutcome::Pass;
        return result;
    }
    let text = format!(
        "{} {} not set (or empty) in the config labels{}",
        missing.join(" and "),
        if missing.len() == 1 { "is" } else { "are" },
        if facts.has_manifest {
            " or the manifest annotations"
        } else {
            "; the image has no manifest (a docker save archive), so its annotations are unknown"
        }
    );
    if facts.has_manifest {
        result.outcome = CheckOutcome::Fail;
        result.evidence.push(Evidence::note(text).into_violation());
    } else {
        result.evidence.push(Evidence::note(text));
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_sources_in_both_history_forms() {
        assert_eq!(
            remote_add_sources("ADD --chmod=755 https://example.com/a.tgz /opt/ # buildkit"),
            ["https://example.com/a.tgz"]
        );
        assert_eq!(
            remote_add_sources("/bin/sh -c #(nop) ADD HTTP://example.com/b in /b"),
            ["HTTP://example.com/b"]
        );
        assert!(remote_add_sources("/bin/sh -c #(nop) ADD file:0123abcd in / ").is_empty());
        assert!(remote_add_sources("RUN /bin/sh -c curl https://example.com # ADD").is_empty());
        assert!(remote_add_sources("COPY https://example.com /x").is_empty());
    }

    #[test]
    fn urls_are_masked() {
        assert_eq!(
            masked_url("https://user:tok@example.com/a.tgz?sig=abc"),
            "https://****@example.com/a.tgz?****"
        );
        assert_eq!(
            masked_url("http://example.com/plain"),
            "http://example.com/plain"
        );
        assert_eq!(
            masked_url("https://example.com/ghp_R2d2X7q9LmN4pQ8sT1vW3yZ5aB6cD0eF1gH2/a.tgz"),
            "https://example.com/****"
        );
    }
}
