//! Downloading blobs: `GET` and `HEAD` on `/v2/<name>/blobs/<digest>`.
//!
//! A download is a `Read` stream whose digest the caller checks while reading, as the layer
//! pipeline does. [`RegistryClient::read_blob`] reads small blobs whole and checks them.

use std::io::{self, Read};

use reqwest::blocking::Response;
use reqwest::{Method, StatusCode};

use crate::digest::Digest;
use crate::error::OciError;
use crate::reference::RegistryReference;
use crate::registry::RegistryClient;
use crate::registry::auth::repository_scope;
use crate::registry::error::RegistryProblem;
use crate::registry::transport::{Context, Request, expect_status, header_text, read_limited};

/// A blob download in progress. Reading it yields the blob's bytes unchecked.
#[derive(Debug)]
pub struct BlobReader {
    response: Response,
    size: Option<u64>,
}

impl BlobReader {
    /// Returns the size from `Content-Length`, when the registry sent one.
    #[must_use]
    pub fn size(&self) -> Option<u64> {
        self.size
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.response.read(buf)
    }
}

impl RegistryClient {
    /// Starts downloading a blob of the reference's repository (its tag and digest are
    /// ignored). The bytes are not checked; hash them while reading.
    pub fn get_blob(
        &self,
        repository: &RegistryReference,
        digest: &Digest,
    ) -> Result<BlobReader, OciError> {
        let context = blob_context(repository, digest, "get blob");
        let response = self.blob_request(Method::GET, repository, digest, &context)?;
        let response = expect_status(response, &[StatusCode::OK], &context)?;
        let size = response.content_length();
        Ok(BlobReader { response, size })
    }

    /// Starts downloading a blob whose size the registry must state, as the layer pipeline
    /// compares it with the manifest before reading.
    pub(crate) fn get_blob_sized(
        &self,
        repository: &RegistryReference,
        digest: &Digest,
    ) -> Result<(BlobReader, u64), OciError> {
        let reader = self.get_blob(repository, digest)?;
        // NOTE: a registry or storage redirect that streams without Content-Length is
        // rejected here, though the layer digest check would still protect the content.
        let Some(size) = reader.size else {
            let context = blob_context(repository, digest, "get blob");
            return Err(context.error(RegistryProblem::InvalidResponse(
                "the response has no Content-Length header".into(),
            )));
        };
        Ok((reader, size))
    }

    /// Downloads a whole blob of at most `max` bytes and checks it against `digest`.
    pub fn read_blob(
        &self,
        repository: &RegistryReference,
        digest: &Digest,
        max: u64,
    ) -> Result<Vec<u8>, OciError> {
        let context = blob_context(repository, digest, "get blob");
        let response = self.blob_request(Method::GET, repository, digest, &context)?;
        let response = expect_status(response, &[StatusCode::OK], &context)?;
        let bytes = read_limited(response, max, &context)?;
        let actual = Digest::of(&bytes);
        if actual != *digest {
            return Err(OciError::DigestMismatch {
                blob: format!("blob {}", context.subject),
                expected: digest.clone(),
                actual,
            });
        }
        Ok(bytes)
    }

    /// Asks whether a blob exists in the repository; returns its size, or `None` on 404.
    pub fn head_blob(
        &self,
        repository: &RegistryReference,
        digest: &Digest,
    ) -> Result<Option<u64>, OciError> {
        let context = blob_context(repository, digest, "check blob");
        let response = self.blob_request(Method::HEAD, repository, digest, &context)?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let response = expect_status(response, &[StatusCode::OK], &context)?;
        // Read the header itself: reqwest reports a length of 0 for HEAD responses.
        let size = header_text(&response, "content-length")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| {
                context.error(RegistryProblem::InvalidResponse(
                    "the response has no Content-Length header".into(),
                ))
            })?;
        Ok(Some(size))
    }

    fn blob_request(
        &self,
        method: Method,
        repository: &RegistryReference,
        digest: &Digest,
        context: &Context,
    ) -> Result<Response, OciError> {
        let path = format!("{}/blobs/{digest}", repository.repository);
        let url = self
            .url(&repository.registry, &path)
            .map_err(|p| context.error(p))?;
        let scopes = vec![repository_scope(&repository.repository, "pull")];
        self.send(&Request::new(method, url, scopes), context)
    }
}

pub(crate) fn blob_context<'a>(
    repository: &'a RegistryReference,
    digest: &Digest,
    action: &'static str,
) -> Context<'a> {
    Context {
        registry: &repository.registry,
        subject: format!("{}@{digest}", repository.repository),
        action,
    }
}
