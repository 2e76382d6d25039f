//! An in-memory store for unit tests, with or without a referrers API. Registries with the
//! referrers API are not available as test servers (Debian's docker-registry 2.8 has none), so
//! this is where `Auto` choosing OCI 1.1 is exercised.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use clearbox_oci::Digest;
use clearbox_oci::spec::Descriptor;

use super::{
    ArtifactStore, ArtifactWrite, FoundReferrer, Placement, ReferrerSource, StoreError,
    StoredManifest, Subject,
};
use crate::cosign::format::MANIFEST_MEDIA_TYPE;

#[derive(Debug)]
pub(crate) struct MemoryStore {
    subject: Subject,
    api: bool,
    blobs: RefCell<HashMap<Digest, Vec<u8>>>,
    tags: RefCell<HashMap<String, Digest>>,
    listed: RefCell<Vec<Descriptor>>,
}

impl MemoryStore {
    /// Creates a store whose subject is a small manifest. With `api`, it lists referrers as a
    /// registry with the referrers API does.
    pub(crate) fn new(api: bool) -> MemoryStore {
        let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}"#;
        let digest = Digest::of(manifest);
        MemoryStore {
            subject: Subject {
                digest: digest.clone(),
                media_type: MANIFEST_MEDIA_TYPE.to_owned(),
                size: manifest.len() as u64,
            },
            api,
            blobs: RefCell::new(HashMap::from([(digest, manifest.to_vec())])),
            tags: RefCell::new(HashMap::new()),
            listed: RefCell::new(Vec::new()),
        }
    }

    /// Makes `digest` the subject's digest; its manifest is not stored. For artifacts about an
    /// image whose manifest the test does not have.
    #[cfg(test)]
    pub(crate) fn with_subject_digest(mut self, digest: Digest) -> MemoryStore {
        self.subject.digest = digest;
        self
    }

    /// Lists a manifest through the referrers API, as a registry would.
    pub(crate) fn list(&self, descriptor: Descriptor) {
        self.listed.borrow_mut().push(descriptor);
    }

    /// The tags that exist.
    pub(crate) fn tags(&self) -> Vec<String> {
        self.tags.borrow().keys().cloned().collect()
    }
}

impl ArtifactStore for MemoryStore {
    fn location(&self) -> String {
        "memory://test".to_owned()
    }

    fn subject(&self) -> &Subject {
        &self.subject
    }

    fn default_identity(&self) -> Option<String> {
        Some("registry.example/test".to_owned())
    }

    fn has_referrers_api(&self) -> Result<bool, StoreError> {
        Ok(self.api)
    }

    fn tagged(&self, tag: &str) -> Result<Option<StoredManifest>, StoreError> {
        let Some(digest) = self.tags.borrow().get(tag).cloned() else {
            return Ok(None);
        };
        self.manifest(&digest).map(Some)
    }

    fn manifest(&self, digest: &Digest) -> Result<StoredManifest, StoreError> {
        let bytes = self.blob(digest, u64::MAX)?;
        Ok(StoredManifest {
            digest: digest.clone(),
            bytes,
        })
    }

    fn blob(&self, digest: &Digest, _max: u64) -> Result<Vec<u8>, StoreError> {
        self.blobs
            .borrow()
            .get(digest)
            .cloned()
            .ok_or_else(|| StoreError::InvalidDocument {
                what: digest.to_string(),
                reason: "not in the memory store".to_owned(),
            })
    }

    fn referrers(&self) -> Result<Vec<FoundReferrer>, StoreError> {
        Ok(self
            .listed
            .borrow()
            .iter()
            .map(|descriptor| FoundReferrer {
                descriptor: descriptor.clone(),
                source: ReferrerSource::ReferrersApi,
            })
            .collect())
    }

    fn write(&self, write: &ArtifactWrite) -> Result<Digest, StoreError> {
        let mut blobs = self.blobs.borrow_mut();
        for blob in write.blobs.iter().chain([&write.manifest]) {
            blobs.insert(Digest::of(blob), blob.clone());
        }
        let digest = Digest::of(&write.manifest);
        match write.placement {
            Placement::LegacyTag(kind) => {
                self.tags
                    .borrow_mut()
                    .insert(kind.legacy_tag(&self.subject.digest), digest.clone());
            }
            Placement::Referrer(_) => {
                // The registry lists a pushed referrer only when it has the API.
                if self.api {
                    self.list(Descriptor {
                        media_type: MANIFEST_MEDIA_TYPE.to_owned(),
                        digest: digest.clone(),
                        size: write.manifest.len() as u64,
                        annotations: BTreeMap::new(),
                        platform: None,
                        artifact_type: Some(write.artifact_type.clone()),
                    });
                }
            }
        }
        Ok(digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SigningKey;
    use crate::cosign::{
        ReferrersMode, SignOptions, VerifyOptions, discover, sign, verify_signatures,
    };

    #[test]
    fn auto_with_referrers_api_writes_referrer() {
        let store = MemoryStore::new(true);
        let key = SigningKey::generate();
        let outcome = sign(&store, &key, &SignOptions::default()).unwrap();
        assert_eq!(outcome.attach.mode, ReferrersMode::Oci11);
        assert!(store.tags().is_empty(), "{:?}", store.tags());

        let verification =
            verify_signatures(&store, &key.public_key(), &VerifyOptions::default()).unwrap();
        assert_eq!(
            verification.verified[0].location.source,
            ReferrerSource::ReferrersApi
        );
        assert!(
            !sign(&store, &key, &SignOptions::default())
                .unwrap()
                .attach
                .added
        );
    }

    #[test]
    fn auto_without_referrers_api_writes_tag() {
        let store = MemoryStore::new(false);
        let outcome = sign(&store, &SigningKey::generate(), &SignOptions::default()).unwrap();
        assert_eq!(outcome.attach.mode, ReferrersMode::Legacy);
        assert_eq!(
            store.tags(),
            [format!("sha256-{}.sig", store.subject().digest.hex())]
        );
    }

    #[test]
    fn discover_merges_sources() {
        let store = MemoryStore::new(false);
        let outcome = sign(&store, &SigningKey::generate(), &SignOptions::default()).unwrap();
        let manifest = store.manifest(&outcome.attach.manifest).unwrap();
        store.list(Descriptor {
            media_type: MANIFEST_MEDIA_TYPE.to_owned(),
            digest: manifest.digest.clone(),
            size: manifest.bytes.len() as u64,
            annotations: BTreeMap::new(),
            platform: None,
            artifact_type: None,
        });

        let found = discover(&store).unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].sources,
            [
                ReferrerSource::ReferrersApi,
                ReferrerSource::LegacyTag(format!("sha256-{}.sig", store.subject().digest.hex()))
            ]
        );
        assert_eq!(
            found[0].kind,
            Some(crate::cosign::format::ArtifactKind::Signatures)
        );

        // Verification reads the manifest once, under the tag.
        let key_error = verify_signatures(
            &store,
            &SigningKey::generate().public_key(),
            &VerifyOptions::default(),
        )
        .unwrap_err();
        assert!(
            key_error
                .to_string()
                .starts_with("none of the 1 signature(s)")
        );
    }
}
