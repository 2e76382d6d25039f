//! Referrers of a manifest (signatures, SBOMs, attestations whose `subject` is that manifest).
//!
//! Two sources, as the distribution specification v1.1 defines them: the referrers API
//! (`GET /v2/<name>/referrers/<digest>`, an image index, paginated with `Link`), and for
//! registries without it (such as distribution 2.8, which returns 404) the referrers tag
//! schema: an image index tagged `<algorithm>-<hex>` of the subject's digest that pushers
//! keep up to date.

use std::collections::HashSet;

use reqwest::{Method, StatusCode};

use crate::digest::Digest;
use crate::error::OciError;
use crate::reference::RegistryReference;
use crate::registry::RegistryClient;
use crate::registry::auth::repository_scope;
use crate::registry::error::RegistryProblem;
use crate::registry::transport::{
    Context, Request, expect_status, header_text, next_link, read_limited,
};
use crate::spec::{Descriptor, ImageIndex, MEDIA_TYPE_OCI_INDEX, is_index_media_type};

/// Pages followed at most, which bounds a registry whose `Link` headers loop.
const MAX_PAGES: usize = 1_000;

/// Returns the tag of the referrers tag schema for `subject`: `sha256-<hex>`.
#[must_use]
pub fn referrers_tag(subject: &Digest) -> String {
    format!("{}-{}", subject.algorithm(), subject.hex())
}

impl RegistryClient {
    /// Lists the referrers of `subject` in the reference's repository through the referrers
    /// API, keeping those of `artifact_type` when given (filtered here when the registry does
    /// not report that it filtered). Returns `None` when the registry returns 404, meaning it
    /// has no referrers API, so [`referrers_from_tag`](Self::referrers_from_tag) applies.
    pub fn referrers(
        &self,
        repository: &RegistryReference,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Option<Vec<Descriptor>>, OciError> {
        let context = Context {
            registry: &repository.registry,
            subject: format!("{}@{subject}", repository.repository),
            action: "list referrers of",
        };
        let mut url = self
            .url(
                &repository.registry,
                &format!("{}/referrers/{subject}", repository.repository),
            )
            .map_err(|p| context.error(p))?;
        if let Some(artifact_type) = artifact_type {
            url.query_pairs_mut()
                .append_pair("artifactType", artifact_type);
        }
        let scopes = vec![repository_scope(&repository.repository, "pull")];
        let mut found = Vec::new();
        let mut seen = HashSet::new();
        for page in 0..MAX_PAGES {
            let request = Request::new(Method::GET, url.clone(), scopes.clone())
                .header(reqwest::header::ACCEPT, MEDIA_TYPE_OCI_INDEX);
            let response = self.send(&request, &context)?;
            if page == 0 && response.status() == StatusCode::NOT_FOUND {
                return Ok(None);
            }
            let response = expect_status(response, &[StatusCode::OK], &context)?;
            let filtered = header_text(&response, "oci-filters-applied")
                .is_some_and(|v| v.split(',').any(|f| f.trim() == "artifactType"));
            let next = next_link(&response);
            let bytes = read_limited(response, self.options.max_manifest_bytes, &context)?;
            let index: ImageIndex = serde_json::from_slice(&bytes)
                .map_err(|e| OciError::json(format!("referrers of {}", context.subject), e))?;
            found.extend(keep_type(index.manifests, artifact_type, filtered));
            seen.insert(url.to_string());
            match next {
                Some(next) if !seen.contains(next.as_str()) => url = next,
                _ => break,
            }
        }
        Ok(Some(found))
    }

    /// Reads the referrers tag schema's index for `subject` (tag `sha256-<hex>`), keeping
    /// entries of `artifact_type` when given. Returns an empty list when the tag does not
    /// exist.
    pub fn referrers_from_tag(
        &self,
        repository: &RegistryReference,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, OciError> {
        let reference = RegistryReference {
            registry: repository.registry.clone(),
            repository: repository.repository.clone(),
            tag: Some(referrers_tag(subject)),
            digest: None,
        };
        let manifest = match self.get_manifest(&reference) {
            Ok(manifest) => manifest,
            Err(OciError::Registry(e)) if matches!(e.problem, RegistryProblem::NotFound { .. }) => {
                return Ok(Vec::new());
            }
            Err(e) => return Err(e),
        };
        let what = format!(
            "referrers index {}:{}",
            reference.repository,
            referrers_tag(subject)
        );
        if !is_index_media_type(&manifest.media_type) {
            return Err(OciError::InvalidImage(format!(
                "{what} has media type `{}`, not an image index",
                manifest.media_type
            )));
        }
        let index: ImageIndex =
            serde_json::from_slice(&manifest.bytes).map_err(|e| OciError::json(what, e))?;
        Ok(keep_type(index.manifests, artifact_type, false).collect())
    }

    /// Lists referrers through the API, or from the referrers tag schema when the registry
    /// has no API.
    pub fn list_referrers(
        &self,
        repository: &RegistryReference,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, OciError> {
        match self.referrers(repository, subject, artifact_type)? {
            Some(found) => Ok(found),
            None => self.referrers_from_tag(repository, subject, artifact_type),
        }
    }
}

fn keep_type(
    manifests: Vec<Descriptor>,
    artifact_type: Option<&str>,
    already_filtered: bool,
) -> impl Iterator<Item = Descriptor> {
    let wanted = artifact_type
        .filter(|_| !already_filtered)
        .map(str::to_owned);
    manifests
        .into_iter()
        .filter(move |d| wanted.is_none() || d.artifact_type == wanted)
}
