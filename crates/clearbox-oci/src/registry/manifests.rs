//! Manifests and indexes: `GET`, `HEAD` and `PUT` on `/v2/<name>/manifests/<reference>`.

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde::Deserialize;

use crate::digest::Digest;
use crate::error::OciError;
use crate::reference::RegistryReference;
use crate::registry::auth::repository_scope;
use crate::registry::error::RegistryProblem;
use crate::registry::transport::{Context, Request, expect_status, header_text, read_limited};
use crate::registry::{RegistryClient, subject};
use crate::spec::{
    MEDIA_TYPE_DOCKER_LIST, MEDIA_TYPE_DOCKER_MANIFEST, MEDIA_TYPE_OCI_INDEX,
    MEDIA_TYPE_OCI_MANIFEST,
};

/// The media types asked for when pulling a manifest, in order of preference.
pub(crate) const MANIFEST_ACCEPT: [&str; 4] = [
    MEDIA_TYPE_OCI_MANIFEST,
    MEDIA_TYPE_OCI_INDEX,
    MEDIA_TYPE_DOCKER_MANIFEST,
    MEDIA_TYPE_DOCKER_LIST,
];

/// A manifest or index as the registry serves it.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The document's `mediaType` field, else the `Content-Type` header.
    pub media_type: String,
    /// The digest of [`bytes`](Self::bytes), computed here.
    pub digest: Digest,
    /// The document exactly as served.
    pub bytes: Vec<u8>,
}

/// The headers of a `HEAD` request for a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestHead {
    /// The `Content-Type` header.
    pub media_type: String,
    /// The requested digest, else the `Docker-Content-Digest` header.
    pub digest: Digest,
    /// The `Content-Length` header.
    pub size: u64,
}

#[derive(Deserialize)]
struct MediaTypeField {
    #[serde(default, rename = "mediaType")]
    media_type: Option<String>,
}

impl RegistryClient {
    /// Pulls the manifest or index a reference names (its digest when it has one, else its
    /// tag) and checks the bytes against the requested digest and the
    /// `Docker-Content-Digest` header. A mismatch is [`OciError::DigestMismatch`].
    pub fn get_manifest(&self, reference: &RegistryReference) -> Result<Manifest, OciError> {
        let context = manifest_context(reference, "get manifest");
        let response = self.manifest_request(Method::GET, reference, &context)?;
        let response = expect_status(response, &[StatusCode::OK], &context)?;
        let content_type = header_text(&response, "content-type").map(media_type_of);
        let served_digest = header_text(&response, "docker-content-digest").map(str::to_owned);
        let bytes = read_limited(response, self.options.max_manifest_bytes, &context)?;

        // 1. The bytes must hash to the digest asked for.
        let digest = Digest::of(&bytes);
        let what = format!("manifest {}", context.subject);
        if let Some(expected) = &reference.digest
            && *expected != digest
        {
            return Err(OciError::DigestMismatch {
                blob: what,
                expected: expected.clone(),
                actual: digest,
            });
        }

        // 2. And to the digest the registry reports in `Docker-Content-Digest`. Only sha256
        //    can be compared.
        if let Some(served) = served_digest.and_then(|d| d.parse::<Digest>().ok())
            && served != digest
        {
            return Err(OciError::DigestMismatch {
                blob: format!("{what} (`Docker-Content-Digest` header)"),
                expected: served,
                actual: digest,
            });
        }

        // 3. The media type: the document's own field wins over the header.
        let field = serde_json::from_slice::<MediaTypeField>(&bytes)
            .map_err(|e| OciError::json(&what, e))?
            .media_type;
        let Some(media_type) = field.or(content_type) else {
            return Err(context.error(RegistryProblem::InvalidResponse(
                "the manifest has neither a `mediaType` field nor a Content-Type header".into(),
            )));
        };
        Ok(Manifest {
            media_type,
            digest,
            bytes,
        })
    }

    /// Asks whether a manifest exists, without downloading it. Returns `None` on 404.
    pub fn head_manifest(
        &self,
        reference: &RegistryReference,
    ) -> Result<Option<ManifestHead>, OciError> {
        let context = manifest_context(reference, "check manifest");
        let response = self.manifest_request(Method::HEAD, reference, &context)?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let response = expect_status(response, &[StatusCode::OK], &context)?;
        let invalid = |what: &str| context.error(RegistryProblem::InvalidResponse(what.into()));
        let media_type = header_text(&response, "content-type")
            .map(media_type_of)
            .ok_or_else(|| invalid("the response has no Content-Type header"))?;
        let served = header_text(&response, "docker-content-digest")
            .map(str::parse::<Digest>)
            .transpose()?;
        let digest = reference
            .digest
            .clone()
            .or(served)
            .ok_or_else(|| invalid("the response has no Docker-Content-Digest header"))?;
        // Read the header itself: reqwest reports a length of 0 for HEAD responses.
        let size = header_text(&response, "content-length")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| invalid("the response has no Content-Length header"))?;
        Ok(Some(ManifestHead {
            media_type,
            digest,
            size,
        }))
    }

    /// Pushes a manifest under the reference's digest when it has one, else its tag. Returns
    /// the digest of `bytes`; a reference digest that differs from it is
    /// [`OciError::DigestMismatch`] before anything is sent.
    pub fn put_manifest(
        &self,
        reference: &RegistryReference,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Digest, OciError> {
        let context = manifest_context(reference, "push manifest");
        let digest = Digest::of(bytes);
        if let Some(expected) = &reference.digest
            && *expected != digest
        {
            return Err(OciError::DigestMismatch {
                blob: format!("manifest {}", context.subject),
                expected: expected.clone(),
                actual: digest,
            });
        }
        let url = self
            .url(
                &reference.registry,
                &format!(
                    "{}/manifests/{}",
                    reference.repository,
                    reference_part(reference)
                ),
            )
            .map_err(|p| context.error(p))?;
        let scopes = vec![repository_scope(&reference.repository, "pull,push")];
        let request = Request::new(Method::PUT, url, scopes)
            .header(CONTENT_TYPE, media_type)
            .body(bytes.to_vec());
        let response = self.send(&request, &context)?;
        let response = expect_status(response, &[StatusCode::CREATED], &context)?;
        if let Some(stored) =
            header_text(&response, "docker-content-digest").and_then(|d| d.parse::<Digest>().ok())
            && stored != digest
        {
            return Err(OciError::DigestMismatch {
                blob: format!("manifest {} as stored by the registry", context.subject),
                expected: digest,
                actual: stored,
            });
        }
        Ok(digest)
    }

    fn manifest_request(
        &self,
        method: Method,
        reference: &RegistryReference,
        context: &Context,
    ) -> Result<reqwest::blocking::Response, OciError> {
        let path = format!(
            "{}/manifests/{}",
            reference.repository,
            reference_part(reference)
        );
        let url = self
            .url(&reference.registry, &path)
            .map_err(|p| context.error(p))?;
        let scopes = vec![repository_scope(&reference.repository, "pull")];
        let request = Request::new(method, url, scopes).header(ACCEPT, &MANIFEST_ACCEPT.join(", "));
        self.send(&request, context)
    }
}

fn manifest_context<'a>(reference: &'a RegistryReference, action: &'static str) -> Context<'a> {
    Context {
        registry: &reference.registry,
        subject: subject(reference),
        action,
    }
}

/// The digest when the reference has one, else the tag, else `latest`.
fn reference_part(reference: &RegistryReference) -> String {
    match (&reference.digest, &reference.tag) {
        (Some(digest), _) => digest.to_string(),
        (None, Some(tag)) => tag.clone(),
        (None, None) => "latest".to_owned(),
    }
}

/// A `Content-Type` value without parameters such as `charset`.
fn media_type_of(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}
