//! The facts a policy checks, read from SLSA provenance v0.1, v0.2 or v1 where slsa-verifier
//! reads them.
//!
//! | fact | v0.1 (Cloud Build) | v0.2 | v1 |
//! |---|---|---|---|
//! | builder | `builder.id` | `builder.id` | `runDetails.builder.id` |
//! | source | `materials[0]` | `invocation.configSource`, `materials[0]` | `buildDefinition.resolvedDependencies[0]`, and `externalParameters.workflow` (GitHub Actions), `externalParameters.source` (clearbox, container-based builds) |
//! | approvals | — | `invocation.parameters.approvals` | `buildDefinition.externalParameters.approvals` |
//! | dirty tree | — | — | `buildDefinition.externalParameters.source.dirty` |
//!
//! Each source location is read as a URI `[git+]URL[@REF]` with a digest (`sha1` or
//! `gitCommit`): `git+https://github.com/acme/app@refs/heads/main` names the repository
//! `https://github.com/acme/app` and the ref `refs/heads/main`. Cloud Build's older form
//! `https://github.com/acme/app/commit/<sha>` names the commit in the path, and a `#fragment`
//! (Cloud Storage generations) is not part of the repository.

use serde_json::Value;

use super::build::Approval;
use crate::intoto::Statement;

/// The version of SLSA provenance, from the predicate type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProvenanceVersion {
    /// `https://slsa.dev/provenance/v0.1`.
    V0_1,
    /// `https://slsa.dev/provenance/v0.2`.
    V0_2,
    /// `https://slsa.dev/provenance/v1`.
    V1,
}

/// One place where the provenance names its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceClaim {
    /// The field it was read from, such as `invocation.configSource`.
    pub field: &'static str,
    /// The repository, normalised as the module documentation describes.
    pub repository: String,
    /// The full ref, when the field names one.
    pub git_ref: Option<String>,
    /// The commit, lowercase, when the field names one.
    pub commit: Option<String>,
}

/// The facts read from one provenance statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenanceFacts {
    /// The provenance version.
    pub version: ProvenanceVersion,
    /// The builder ID; `None` when the field is missing or not a string.
    pub builder_id: Option<String>,
    /// The places that name the source, in the order of the table above.
    pub sources: Vec<SourceClaim>,
    /// The clearbox dirty-tree flag, when present.
    pub dirty: Option<bool>,
    /// The approvals, or why the field is malformed. Empty when absent.
    pub approvals: Result<Vec<Approval>, String>,
}

impl ProvenanceFacts {
    /// Reads the facts of a provenance statement; `None` when its predicate type is not SLSA
    /// provenance v0.1, v0.2 or v1.
    #[must_use]
    pub fn read(statement: &Statement) -> Option<Self> {
        let version = match statement.predicate_type() {
            "https://slsa.dev/provenance/v0.1" => ProvenanceVersion::V0_1,
            "https://slsa.dev/provenance/v0.2" => ProvenanceVersion::V0_2,
            "https://slsa.dev/provenance/v1" => ProvenanceVersion::V1,
            _ => return None,
        };
        let predicate = statement.predicate();
        let text = |pointer: &str| {
            predicate
                .pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let facts = match version {
            ProvenanceVersion::V0_1 => ProvenanceFacts {
                version,
                builder_id: text("/builder/id"),
                sources: claims(&[("materials[0]", predicate.pointer("/materials/0"))]),
                dirty: None,
                approvals: Ok(Vec::new()),
            },
            ProvenanceVersion::V0_2 => ProvenanceFacts {
                version,
                builder_id: text("/builder/id"),
                sources: claims(&[
                    (
                        "invocation.configSource",
                        predicate.pointer("/invocation/configSource"),
                    ),
                    ("materials[0]", predicate.pointer("/materials/0")),
                ]),
                dirty: None,
                approvals: approvals(predicate.pointer("/invocation/parameters/approvals")),
            },
            ProvenanceVersion::V1 => {
                let external = predicate.pointer("/buildDefinition/externalParameters");
                ProvenanceFacts {
                    version,
                    builder_id: text("/runDetails/builder/id"),
                    sources: claims(&[
                        (
                            "buildDefinition.resolvedDependencies[0]",
                            predicate.pointer("/buildDefinition/resolvedDependencies/0"),
                        ),
                        (
                            "buildDefinition.externalParameters.workflow",
                            external.and_then(|e| e.get("workflow")),
                        ),
                        (
                            "buildDefinition.externalParameters.source",
                            external.and_then(|e| e.get("source")),
                        ),
                    ]),
                    dirty: external
                        .and_then(|e| e.pointer("/source/dirty"))
                        .and_then(Value::as_bool),
                    approvals: approvals(external.and_then(|e| e.get("approvals"))),
                }
            }
        };
        Some(facts)
    }
}

fn claims(fields: &[(&'static str, Option<&Value>)]) -> Vec<SourceClaim> {
    fields
        .iter()
        .filter_map(|(field, value)| claim(field, (*value)?))
        .collect()
}

/// Reads one source location: a resource descriptor or configSource (`uri` + `digest`), a
/// GitHub workflow (`repository` + `ref`), or clearbox's source (`repository`, `ref`,
/// `commit`).
fn claim(field: &'static str, value: &Value) -> Option<SourceClaim> {
    let text = |key: &str| value.get(key).and_then(Value::as_str);
    let (repository, mut git_ref, mut commit) = if let Some(uri) = text("uri") {
        split_source_uri(uri)
    } else {
        let repository = text("repository")?;
        let (repository, uri_ref, uri_commit) = split_source_uri(repository);
        (repository, uri_ref, uri_commit)
    };
    if let Some(value_ref) = text("ref") {
        git_ref = Some(value_ref.to_owned());
    }
    let digest = value.get("digest");
    let digest_commit = ["gitCommit", "sha1"]
        .iter()
        .find_map(|key| digest.and_then(|d| d.get(*key)).and_then(Value::as_str))
        .or_else(|| text("commit"));
    if let Some(found) = digest_commit {
        commit = Some(found.to_ascii_lowercase());
    }
    Some(SourceClaim {
        field,
        repository,
        git_ref,
        commit,
    })
}

/// Splits `[git+]URL[@REF][#FRAGMENT]` into the normalised repository, the ref and a commit
/// named by a `/commit/<sha>` path suffix.
fn split_source_uri(uri: &str) -> (String, Option<String>, Option<String>) {
    let uri = uri.strip_prefix("git+").unwrap_or(uri);
    let uri = uri.split_once('#').map_or(uri, |(before, _)| before);
    // The ref follows the first `@` after the host, so `ssh://git@host/repo` keeps its user.
    let path_start = uri.find("://").map_or(0, |i| i + 3);
    let path_start = uri[path_start..]
        .find('/')
        .map_or(uri.len(), |i| path_start + i);
    let (location, git_ref) = match uri[path_start..].find('@') {
        Some(at) => (
            &uri[..path_start + at],
            Some(uri[path_start + at + 1..].to_owned()),
        ),
        None => (uri, None),
    };
    let (location, commit) = match location.rsplit_once("/commit/") {
        Some((repository, sha)) if is_hex_commit(sha) => {
            (repository, Some(sha.to_ascii_lowercase()))
        }
        _ => (location, None),
    };
    (normalise_repository(location), git_ref, commit)
}

fn is_hex_commit(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Normalises a repository URL for comparison: no `git+`, a scheme (`https://` when none is
/// given, as slsa-verifier adds it), and no trailing `/` or `.git`.
pub(crate) fn normalise_repository(text: &str) -> String {
    let text = text.trim();
    let text = text.strip_prefix("git+").unwrap_or(text);
    let with_scheme = if text.contains("://") {
        text.to_owned()
    } else {
        format!("https://{text}")
    };
    let trimmed = with_scheme.trim_end_matches('/');
    trimmed.strip_suffix(".git").unwrap_or(trimmed).to_owned()
}

fn approvals(value: Option<&Value>) -> Result<Vec<Approval>, String> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let Some(entries) = value.as_array() else {
        return Err("`approvals` is not an array".to_owned());
    };
    entries
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            let fields = entry
                .as_object()
                .ok_or_else(|| format!("approval {index} is not an object"))?;
            let text = fields
                .iter()
                .map(|(key, value)| match value.as_str() {
                    Some(value) if !value.contains(',') => Ok(format!("{key}={value}")),
                    _ => Err(format!(
                        "approval {index}: `{key}` is not a string without commas"
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?
                .join(",");
            text.parse::<Approval>()
                .map_err(|error| format!("approval {index}: {error}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_uris() {
        let sha = "fbbb98765e85ad464302dc5977968104d36e455e";
        for (uri, repository, git_ref, commit) in [
            (
                "git+https://github.com/acme/app@refs/heads/main",
                "https://github.com/acme/app",
                Some("refs/heads/main"),
                None,
            ),
            (
                "https://github.com/acme/app",
                "https://github.com/acme/app",
                None,
                None,
            ),
            (
                &format!("https://github.com/acme/app/commit/{sha}") as &str,
                "https://github.com/acme/app",
                None,
                Some(sha),
            ),
            (
                "gs://bucket/source/1.tgz#1663616635134845",
                "gs://bucket/source/1.tgz",
                None,
                None,
            ),
            (
                "git+ssh://git@git.example/acme/app.git@refs/tags/v1",
                "ssh://git@git.example/acme/app",
                Some("refs/tags/v1"),
                None,
            ),
            (
                "github.com/acme/app@refs/heads/x",
                "https://github.com/acme/app",
                Some("refs/heads/x"),
                None,
            ),
        ] {
            let (found_repository, found_ref, found_commit) = split_source_uri(uri);
            assert_eq!(found_repository, repository, "{uri}");
            assert_eq!(found_ref.as_deref(), git_ref, "{uri}");
            assert_eq!(found_commit.as_deref(), commit, "{uri}");
        }
    }

    #[test]
    fn repository_normalisation() {
        for text in [
            "github.com/acme/app",
            "https://github.com/acme/app/",
            "git+https://github.com/acme/app.git",
        ] {
            assert_eq!(normalise_repository(text), "https://github.com/acme/app");
        }
        assert_eq!(
            normalise_repository("http://github.com/acme/app"),
            "http://github.com/acme/app"
        );
    }

    #[test]
    fn malformed_approvals() {
        for (value, reason) in [
            (serde_json::json!({}), "`approvals` is not an array"),
            (serde_json::json!(["x"]), "approval 0 is not an object"),
            (
                serde_json::json!([{"reviewer": 1}]),
                "approval 0: `reviewer` is not a string without commas",
            ),
            (
                serde_json::json!([{"ticket": "T-1"}]),
                "approval 0: an approval needs `reviewer=NAME`, such as \
                 `ticket=CHG-1234,reviewer=alice`",
            ),
        ] {
            assert_eq!(approvals(Some(&value)).unwrap_err(), reason);
        }
    }
}
