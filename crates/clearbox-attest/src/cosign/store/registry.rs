//! A registry repository as an artifact store, through [`RegistryClient`].
//!
//! Writing an OCI 1.1 referrer to a registry without the referrers API also updates the
//! distribution specification's fallback tag `sha256-<hex>`: pull the image index it names (or
//! start an empty one), append the new manifest's descriptor unless it is listed, sort the
//! entries by digest as go-containerregistry does (so cosign and clearbox leave the same order),
//! and push the index under the tag.
//!
//! NOTE: like go-containerregistry's, this read-modify-write uses no conditional request,
//! because distribution 2.8 supports none, so two writers at once can lose one entry.

use std::sync::Arc;

use clearbox_oci::registry::{RegistryClient, RegistryProblem, referrers_tag};
use clearbox_oci::spec::MEDIA_TYPE_OCI_INDEX;
use clearbox_oci::{Digest, OciError, RegistryReference};
use serde_json::{Map, Value, json};
use tracing::debug;

use super::{
    ArtifactStore, ArtifactWrite, FoundReferrer, Placement, ReferrerSource, StoreError,
    StoredManifest, Subject,
};
use crate::cosign::format::MANIFEST_MEDIA_TYPE;

/// The repository of a registry image and the client that reaches it.
#[derive(Debug)]
pub struct RegistryStore {
    client: Arc<RegistryClient>,
    /// The registry and repository, without tag or digest.
    repository: RegistryReference,
    subject: Subject,
}

impl RegistryStore {
    /// Resolves `reference` (its digest, else its tag) to the manifest or index it names, and
    /// opens its repository.
    pub fn open(
        client: Arc<RegistryClient>,
        reference: &RegistryReference,
    ) -> Result<RegistryStore, StoreError> {
        let manifest = client.get_manifest(reference)?;
        let subject = Subject {
            digest: manifest.digest,
            media_type: manifest.media_type,
            size: manifest.bytes.len() as u64,
        };
        debug!(reference = %reference, digest = %subject.digest, "registry store opened");
        Ok(RegistryStore {
            client,
            repository: RegistryReference {
                tag: None,
                digest: None,
                ..reference.clone()
            },
            subject,
        })
    }

    /// The client, for further requests with the same credentials and tokens.
    #[must_use]
    pub fn client(&self) -> &Arc<RegistryClient> {
        &self.client
    }

    fn by_tag(&self, tag: &str) -> RegistryReference {
        RegistryReference {
            tag: Some(tag.to_owned()),
            ..self.repository.clone()
        }
    }

    fn by_digest(&self, digest: &Digest) -> RegistryReference {
        RegistryReference {
            digest: Some(digest.clone()),
            ..self.repository.clone()
        }
    }

    /// Adds a referrer to the fallback tag's index, unless it is listed already.
    fn add_to_fallback_index(
        &self,
        write: &ArtifactWrite,
        digest: &Digest,
    ) -> Result<(), StoreError> {
        let tag = referrers_tag(&self.subject.digest);
        let what = format!(
            "referrers fallback index `{}:{tag}`",
            self.repository.repository
        );
        let invalid = |reason: String| StoreError::InvalidDocument {
            what: what.clone(),
            reason,
        };

        // Pull the index, or start an empty one.
        let mut index = match self.tagged(&tag)? {
            Some(existing) => serde_json::from_slice::<Value>(&existing.bytes)
                .map_err(|e| invalid(e.to_string()))?,
            None => json!({"schemaVersion": 2, "mediaType": MEDIA_TYPE_OCI_INDEX, "manifests": []}),
        };
        let Some(manifests) = index.get_mut("manifests").and_then(Value::as_array_mut) else {
            return Err(invalid("it has no `manifests` array".to_owned()));
        };

        // Append the descriptor, unless it is there, and sort by digest.
        let digest_text = digest.to_string();
        if manifests
            .iter()
            .any(|entry| entry.get("digest").and_then(Value::as_str) == Some(&digest_text))
        {
            debug!(%digest, "referrer already in the fallback index");
            return Ok(());
        }
        let mut entry = Map::new();
        entry.insert("mediaType".into(), MANIFEST_MEDIA_TYPE.into());
        entry.insert("size".into(), write.manifest.len().into());
        entry.insert("digest".into(), digest_text.into());
        entry.insert("artifactType".into(), write.artifact_type.clone().into());
        manifests.push(Value::Object(entry));
        manifests.sort_by_cached_key(|entry| {
            entry
                .get("digest")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        });
        let count = manifests.len();

        // Push it back under the tag.
        let bytes = serde_json::to_vec(&index).map_err(|e| invalid(e.to_string()))?;
        self.client
            .put_manifest(&self.by_tag(&tag), MEDIA_TYPE_OCI_INDEX, &bytes)?;
        debug!(%tag, referrers = count, "referrers fallback index updated");
        Ok(())
    }
}

fn is_not_found(error: &OciError) -> bool {
    matches!(error, OciError::Registry(e) if matches!(e.problem, RegistryProblem::NotFound { .. }))
}

impl ArtifactStore for RegistryStore {
    fn location(&self) -> String {
        format!(
            "docker://{}/{}",
            self.repository.registry, self.repository.repository
        )
    }

    fn subject(&self) -> &Subject {
        &self.subject
    }

    fn default_identity(&self) -> Option<String> {
        // cosign names Docker Hub `index.docker.io`, as go-containerregistry does.
        let registry = match self.repository.registry.as_str() {
            "docker.io" => "index.docker.io",
            other => other,
        };
        Some(format!("{registry}/{}", self.repository.repository))
    }

    fn has_referrers_api(&self) -> Result<bool, StoreError> {
        let listed = self
            .client
            .referrers(&self.repository, &self.subject.digest, None)?;
        Ok(listed.is_some())
    }

    fn tagged(&self, tag: &str) -> Result<Option<StoredManifest>, StoreError> {
        match self.client.get_manifest(&self.by_tag(tag)) {
            Ok(manifest) => Ok(Some(StoredManifest {
                digest: manifest.digest,
                bytes: manifest.bytes,
            })),
            Err(error) if is_not_found(&error) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    fn manifest(&self, digest: &Digest) -> Result<StoredManifest, StoreError> {
        let manifest = self.client.get_manifest(&self.by_digest(digest))?;
        Ok(StoredManifest {
            digest: manifest.digest,
            bytes: manifest.bytes,
        })
    }

    fn blob(&self, digest: &Digest, max: u64) -> Result<Vec<u8>, StoreError> {
        match self.client.read_blob(&self.repository, digest, max) {
            Ok(bytes) => Ok(bytes),
            Err(OciError::DigestMismatch {
                blob,
                expected,
                actual,
            }) => Err(StoreError::DigestMismatch {
                what: blob,
                expected,
                actual,
            }),
            Err(error) => Err(error.into()),
        }
    }

    fn referrers(&self) -> Result<Vec<FoundReferrer>, StoreError> {
        let subject = &self.subject.digest;
        let mut found = Vec::new();
        if let Some(listed) = self.client.referrers(&self.repository, subject, None)? {
            found.extend(listed.into_iter().map(|descriptor| FoundReferrer {
                descriptor,
                source: ReferrerSource::ReferrersApi,
            }));
        }
        let tagged = self
            .client
            .referrers_from_tag(&self.repository, subject, None)?;
        found.extend(tagged.into_iter().map(|descriptor| FoundReferrer {
            descriptor,
            source: ReferrerSource::FallbackTag,
        }));
        Ok(found)
    }

    fn write(&self, write: &ArtifactWrite) -> Result<Digest, StoreError> {
        // 1. Blobs first, so the manifest never names a missing blob.
        for blob in &write.blobs {
            self.client.push_blob_bytes(&self.repository, blob)?;
        }

        // 2. The manifest, by tag or by digest.
        let digest = Digest::of(&write.manifest);
        match write.placement {
            Placement::LegacyTag(kind) => {
                let tag = kind.legacy_tag(&self.subject.digest);
                self.client.put_manifest(
                    &self.by_tag(&tag),
                    MANIFEST_MEDIA_TYPE,
                    &write.manifest,
                )?;
                debug!(%tag, %digest, "artifact manifest pushed");
            }
            Placement::Referrer(_) => {
                self.client.put_manifest(
                    &self.by_digest(&digest),
                    MANIFEST_MEDIA_TYPE,
                    &write.manifest,
                )?;
                debug!(%digest, "referrer manifest pushed");

                // 3. Without the referrers API, the fallback tag lists the referrer.
                if !self.has_referrers_api()? {
                    self.add_to_fallback_index(write, &digest)?;
                }
            }
        }
        Ok(digest)
    }
}
