//! The SLSA v1 predicate clearbox writes for a container image. `docs/provenance.md` documents
//! each field; the tests below pin the exact JSON.

use std::collections::BTreeMap;
use std::str::FromStr;

use serde_json::{Map, Value, json};

use super::ci::CiJob;

/// The source a build used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFacts {
    /// The repository URL, such as `https://github.com/acme/app`.
    pub repository: String,
    /// The full ref, such as `refs/heads/main`; `None` when the checkout names none.
    pub git_ref: Option<String>,
    /// The commit, 40 lowercase hexadecimal digits.
    pub commit: String,
    /// True when the working tree differed from the commit.
    pub dirty: bool,
}

/// The digests of the image that the statement's subject names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInputs {
    /// The config blob, `sha256:<hex>`.
    pub config: Option<String>,
    /// The layer blobs, base first, `sha256:<hex>` each.
    pub layers: Vec<String>,
}

/// A base image the build started from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseImage {
    /// The reference it is known by, such as `docker.io/library/debian:bookworm`.
    pub name: Option<String>,
    /// Its manifest or index digest, `sha256:<hex>`.
    pub digest: String,
}

/// An `--approval` that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApprovalError {
    /// A comma-separated part is not `KEY=VALUE` with a non-empty value.
    #[error("`{part}` is not KEY=VALUE with a non-empty value")]
    NotKeyValue {
        /// The part.
        part: String,
    },
    /// A key has characters other than letters, digits, `_`, `-` and `.`.
    #[error("the key `{key}` may only have letters, digits, `_`, `-` and `.`")]
    InvalidKey {
        /// The key.
        key: String,
    },
    /// A key is given twice.
    #[error("the key `{key}` is given twice")]
    DuplicateKey {
        /// The key.
        key: String,
    },
    /// No `reviewer=` is given.
    #[error("an approval needs `reviewer=NAME`, such as `ticket=CHG-1234,reviewer=alice`")]
    MissingReviewer,
}

/// A human approval of the build: `reviewer` and any other keys (`ticket`, ...), recorded in
/// `buildDefinition.externalParameters.approvals`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    fields: BTreeMap<String, String>,
}

impl Approval {
    /// Returns the reviewer who approved.
    #[must_use]
    pub fn reviewer(&self) -> &str {
        self.fields.get("reviewer").map_or("", String::as_str)
    }

    /// Returns every key and value, sorted by key.
    #[must_use]
    pub fn fields(&self) -> &BTreeMap<String, String> {
        &self.fields
    }

    fn to_json(&self) -> Value {
        Value::Object(
            self.fields
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    }
}

impl FromStr for Approval {
    type Err = ApprovalError;

    /// Parses `KEY=VALUE[,KEY=VALUE]...`; values cannot contain commas.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut fields = BTreeMap::new();
        for part in text.split(',') {
            let (key, value) = part
                .split_once('=')
                .filter(|(key, value)| !key.trim().is_empty() && !value.trim().is_empty())
                .ok_or_else(|| ApprovalError::NotKeyValue {
                    part: part.to_owned(),
                })?;
            let key = key.trim();
            if !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
            {
                return Err(ApprovalError::InvalidKey {
                    key: key.to_owned(),
                });
            }
            if fields
                .insert(key.to_owned(), value.trim().to_owned())
                .is_some()
            {
                return Err(ApprovalError::DuplicateKey {
                    key: key.to_owned(),
                });
            }
        }
        if !fields.contains_key("reviewer") {
            return Err(ApprovalError::MissingReviewer);
        }
        Ok(Approval { fields })
    }
}

/// Everything a provenance predicate records.
#[derive(Debug, Clone)]
pub struct ProvenanceInputs {
    /// `buildDefinition.buildType`; [`BUILD_TYPE`](super::BUILD_TYPE) by default.
    pub build_type: String,
    /// `runDetails.builder.id`.
    pub builder_id: String,
    /// The git source.
    pub source: SourceFacts,
    /// The image's config and layer digests.
    pub image: ImageInputs,
    /// Base images, in the order given.
    pub base_images: Vec<BaseImage>,
    /// Approvals, in the order given.
    pub approvals: Vec<Approval>,
    /// `runDetails.metadata.invocationId`.
    pub invocation_id: Option<String>,
    /// `runDetails.metadata.startedOn`, RFC 3339.
    pub started_on: Option<String>,
    /// `runDetails.metadata.finishedOn`, RFC 3339.
    pub finished_on: Option<String>,
    /// The CI job, whose identifiers go into `internalParameters.ci`.
    pub ci: Option<CiJob>,
}

impl ProvenanceInputs {
    /// Builds the `https://slsa.dev/provenance/v1` predicate.
    #[must_use]
    pub fn predicate(&self) -> Value {
        json!({
            "buildDefinition": {
                "buildType": self.build_type,
                "externalParameters": self.external_parameters(),
                "internalParameters": self.internal_parameters(),
                "resolvedDependencies": self.resolved_dependencies(),
            },
            "runDetails": self.run_details(),
        })
    }

    /// `runDetails`, without `metadata` when nothing is known about the invocation.
    fn run_details(&self) -> Value {
        let mut details = Map::new();
        details.insert("builder".into(), json!({"id": self.builder_id}));
        let metadata = self.metadata();
        if !metadata.is_empty() {
            details.insert("metadata".into(), Value::Object(metadata));
        }
        Value::Object(details)
    }

    fn external_parameters(&self) -> Value {
        let mut source = Map::new();
        source.insert("repository".into(), json!(self.source.repository));
        if let Some(git_ref) = &self.source.git_ref {
            source.insert("ref".into(), json!(git_ref));
        }
        source.insert("commit".into(), json!(self.source.commit));
        source.insert("dirty".into(), json!(self.source.dirty));
        let mut parameters = Map::new();
        parameters.insert("source".into(), Value::Object(source));
        if !self.approvals.is_empty() {
            parameters.insert(
                "approvals".into(),
                self.approvals.iter().map(Approval::to_json).collect(),
            );
        }
        Value::Object(parameters)
    }

    fn internal_parameters(&self) -> Value {
        let mut image = Map::new();
        if let Some(config) = &self.image.config {
            image.insert("config".into(), json!(config));
        }
        image.insert("layers".into(), json!(self.image.layers));
        let mut parameters = Map::new();
        parameters.insert("image".into(), Value::Object(image));
        if let Some(ci) = &self.ci {
            let mut fields = Map::new();
            fields.insert("provider".into(), json!(ci.provider.name()));
            for (name, value) in &ci.parameters {
                fields.insert(name.clone(), json!(value));
            }
            parameters.insert("ci".into(), Value::Object(fields));
        }
        Value::Object(parameters)
    }

    fn resolved_dependencies(&self) -> Value {
        let source_uri = match &self.source.git_ref {
            Some(git_ref) => format!("git+{}@{git_ref}", self.source.repository),
            None => format!("git+{}", self.source.repository),
        };
        let mut dependencies =
            vec![json!({"uri": source_uri, "digest": {"gitCommit": self.source.commit}})];
        for base in &self.base_images {
            let (algorithm, hex) = base
                .digest
                .split_once(':')
                .unwrap_or(("sha256", base.digest.as_str()));
            let mut entry = Map::new();
            entry.insert("name".into(), json!("base-image"));
            if let Some(name) = &base.name {
                entry.insert("uri".into(), json!(name));
            }
            entry.insert("digest".into(), json!({algorithm: hex}));
            dependencies.push(Value::Object(entry));
        }
        Value::Array(dependencies)
    }

    fn metadata(&self) -> Map<String, Value> {
        let mut metadata = Map::new();
        for (key, value) in [
            ("invocationId", &self.invocation_id),
            ("startedOn", &self.started_on),
            ("finishedOn", &self.finished_on),
        ] {
            if let Some(value) = value {
                metadata.insert(key.into(), json!(value));
            }
        }
        metadata
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slsa::{BUILD_TYPE, CiProvider};

    const COMMIT: &str = "8f70009fde0c94ade6ce2a054b94718c819126ec";
    const BASE: &str = "sha256:4746d26432a9117a5f58e95cb9f954ddf0de128e9d5816886514199316e4a2fb";

    fn inputs() -> ProvenanceInputs {
        ProvenanceInputs {
            build_type: BUILD_TYPE.to_owned(),
            builder_id: "https://ci.example/runners/linux".to_owned(),
            source: SourceFacts {
                repository: "https://github.com/acme/app".to_owned(),
                git_ref: Some("refs/heads/main".to_owned()),
                commit: COMMIT.to_owned(),
                dirty: false,
            },
            image: ImageInputs {
                config: Some("sha256:c0".to_owned()),
                layers: vec!["sha256:l1".to_owned(), "sha256:l2".to_owned()],
            },
            base_images: Vec::new(),
            approvals: Vec::new(),
            invocation_id: None,
            started_on: None,
            finished_on: None,
            ci: None,
        }
    }

    #[test]
    fn minimal_predicate() {
        assert_eq!(
            inputs().predicate(),
            json!({
                "buildDefinition": {
                    "buildType": BUILD_TYPE,
                    "externalParameters": {"source": {
                        "repository": "https://github.com/acme/app",
                        "ref": "refs/heads/main",
                        "commit": COMMIT,
                        "dirty": false,
                    }},
                    "internalParameters": {"image": {
                        "config": "sha256:c0",
                        "layers": ["sha256:l1", "sha256:l2"],
                    }},
                    "resolvedDependencies": [{
                        "uri": "git+https://github.com/acme/app@refs/heads/main",
                        "digest": {"gitCommit": COMMIT},
                    }],
                },
                "runDetails": {"builder": {"id": "https://ci.example/runners/linux"}},
            })
        );
    }

    #[test]
    fn full_predicate_parts() {
        let mut inputs = inputs();
        inputs.source.git_ref = None;
        inputs.source.dirty = true;
        inputs.base_images = vec![
            BaseImage {
                name: Some("docker.io/library/golang:1.21".to_owned()),
                digest: BASE.to_owned(),
            },
            BaseImage {
                name: None,
                digest: BASE.to_owned(),
            },
        ];
        inputs.approvals = vec!["ticket=CHG-1,reviewer=alice".parse().unwrap()];
        inputs.invocation_id = Some("run-7".to_owned());
        inputs.finished_on = Some("2025-01-31T09:30:00Z".to_owned());
        inputs.ci = Some(CiJob {
            provider: CiProvider::GitLabCi,
            invocation_id: None,
            started_on: None,
            repository: None,
            git_ref: None,
            commit: None,
            parameters: BTreeMap::from([("CI_JOB_ID".to_owned(), "7".to_owned())]),
        });
        let predicate = inputs.predicate();
        let definition = &predicate["buildDefinition"];
        assert_eq!(
            definition["externalParameters"]["approvals"],
            json!([{"reviewer": "alice", "ticket": "CHG-1"}])
        );
        assert_eq!(definition["externalParameters"]["source"]["dirty"], true);
        assert!(
            definition["externalParameters"]["source"]
                .get("ref")
                .is_none()
        );
        assert_eq!(
            definition["internalParameters"]["ci"],
            json!({"provider": "gitlab-ci", "CI_JOB_ID": "7"})
        );
        assert_eq!(
            definition["resolvedDependencies"],
            json!([
                {"uri": "git+https://github.com/acme/app", "digest": {"gitCommit": COMMIT}},
                {"name": "base-image", "uri": "docker.io/library/golang:1.21",
                 "digest": {"sha256": &BASE[7..]}},
                {"name": "base-image", "digest": {"sha256": &BASE[7..]}},
            ])
        );
        assert_eq!(
            predicate["runDetails"]["metadata"],
            json!({"invocationId": "run-7", "finishedOn": "2025-01-31T09:30:00Z"})
        );
    }

    #[test]
    fn approval_parsing() {
        let approval: Approval = " reviewer = bob ,ticket=CHG-9".parse().unwrap();
        assert_eq!(approval.reviewer(), "bob");
        assert_eq!(approval.fields().len(), 2);
        for (text, error) in [
            ("ticket=CHG-1", ApprovalError::MissingReviewer),
            (
                "reviewer=",
                ApprovalError::NotKeyValue {
                    part: "reviewer=".into(),
                },
            ),
            (
                "reviewer=a,,x=y",
                ApprovalError::NotKeyValue {
                    part: String::new(),
                },
            ),
            (
                "reviewer=a,reviewer=b",
                ApprovalError::DuplicateKey {
                    key: "reviewer".into(),
                },
            ),
            (
                "reviewer=a,ti cket=1",
                ApprovalError::InvalidKey {
                    key: "ti cket".into(),
                },
            ),
        ] {
            assert_eq!(text.parse::<Approval>().unwrap_err(), error, "{text}");
        }
    }
}
