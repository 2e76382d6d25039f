//! Uploading blobs: monolithic (`POST` then `PUT ?digest=`), chunked (`POST`, one `PATCH` per
//! chunk, then `PUT ?digest=`), and cross-repository mounts (`POST ?mount=&from=`), as the
//! distribution specification's "Pushing blobs" section describes.

use std::io::Read;

use reqwest::header::{CONTENT_RANGE, CONTENT_TYPE};
use reqwest::{Method, StatusCode, Url};
use tracing::debug;

use crate::digest::{Digest, HashingReader};
use crate::error::OciError;
use crate::reference::RegistryReference;
use crate::registry::RegistryClient;
use crate::registry::auth::repository_scope;
use crate::registry::blobs::blob_context;
use crate::registry::error::RegistryProblem;
use crate::registry::transport::{Context, Request, expect_status, header_text, location};

const OCTET_STREAM: &str = "application/octet-stream";

impl RegistryClient {
    /// Uploads a blob to the reference's repository, unless the repository already has it.
    /// Data shorter than [`chunk_size`](crate::registry::RegistryOptions::chunk_size) goes in
    /// one request; longer data in chunks of that size, one held in memory at a time. The
    /// data is hashed while it is read and the upload is cancelled when it does not match
    /// `digest`.
    pub fn push_blob(
        &self,
        repository: &RegistryReference,
        digest: &Digest,
        data: &mut dyn Read,
    ) -> Result<(), OciError> {
        let context = blob_context(repository, digest, "upload blob");
        if self.head_blob(repository, digest)?.is_some() {
            debug!(registry = %repository.registry, %digest, "blob already present; upload skipped");
            return Ok(());
        }

        // Open an upload session; the registry may ask for larger chunks.
        let (mut location, min_chunk) = self.start_upload(repository, &context)?;
        let chunk_size = self.options.chunk_size.max(min_chunk).max(1);
        let mut reader = HashingReader::new(data);
        let mut chunk = read_chunk(&mut reader, chunk_size, &context)?;

        // Send the chunks, unless everything fits in the closing request.
        let body = if chunk.len() < chunk_size {
            chunk
        } else {
            let mut offset = 0u64;
            while !chunk.is_empty() {
                let length = chunk.len() as u64;
                location = self.patch_chunk(&location, offset, chunk, repository, &context)?;
                offset += length;
                chunk = read_chunk(&mut reader, chunk_size, &context)?;
            }
            Vec::new()
        };

        // Check the digest, then close the session with it.
        let (actual, _, _) = reader
            .finish()
            .map_err(|e| context.error(RegistryProblem::UploadSource(e)))?;
        if actual != *digest {
            self.cancel_upload(&location, repository, &context);
            return Err(context.error(RegistryProblem::UploadDigestMismatch { actual }));
        }
        let mut url = location;
        url.query_pairs_mut()
            .append_pair("digest", &digest.to_string());
        let request = Request::new(Method::PUT, url, push_scopes(repository))
            .header(CONTENT_TYPE, OCTET_STREAM)
            .body(body);
        let response = self.send(&request, &context)?;
        expect_status(response, &[StatusCode::CREATED], &context)?;
        Ok(())
    }

    /// Uploads bytes as a blob and returns their digest.
    pub fn push_blob_bytes(
        &self,
        repository: &RegistryReference,
        data: &[u8],
    ) -> Result<Digest, OciError> {
        let digest = Digest::of(data);
        self.push_blob(repository, &digest, &mut &data[..])?;
        Ok(digest)
    }

    /// Asks the registry to link a blob of the repository `from` (same registry) into the
    /// reference's repository without uploading it. Returns false when the registry declined
    /// (it does not have the blob, or does not mount), in which case the caller uploads it.
    pub fn mount_blob(
        &self,
        repository: &RegistryReference,
        from: &str,
        digest: &Digest,
    ) -> Result<bool, OciError> {
        let context = blob_context(repository, digest, "mount blob");
        let mut url = self
            .url(
                &repository.registry,
                &format!("{}/blobs/uploads/", repository.repository),
            )
            .map_err(|p| context.error(p))?;
        url.query_pairs_mut()
            .append_pair("mount", &digest.to_string())
            .append_pair("from", from);
        let mut scopes = push_scopes(repository);
        scopes.push(repository_scope(from, "pull"));
        let request = Request::new(Method::POST, url, scopes).body(Vec::new());
        let response = self.send(&request, &context)?;
        let response = expect_status(
            response,
            &[StatusCode::CREATED, StatusCode::ACCEPTED],
            &context,
        )?;
        if response.status() == StatusCode::CREATED {
            return Ok(true);
        }
        // 202: the registry opened an ordinary upload session instead; close it.
        if let Ok(session) = location(&response, &context) {
            self.cancel_upload(&session, repository, &context);
        }
        Ok(false)
    }

    /// Opens an upload session; returns its URL and the registry's minimum chunk size.
    fn start_upload(
        &self,
        repository: &RegistryReference,
        context: &Context,
    ) -> Result<(Url, usize), OciError> {
        let url = self
            .url(
                &repository.registry,
                &format!("{}/blobs/uploads/", repository.repository),
            )
            .map_err(|p| context.error(p))?;
        let request = Request::new(Method::POST, url, push_scopes(repository)).body(Vec::new());
        let response = self.send(&request, context)?;
        let response = expect_status(response, &[StatusCode::ACCEPTED], context)?;
        let min_chunk = header_text(&response, "oci-chunk-min-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Ok((location(&response, context)?, min_chunk))
    }

    /// Sends one chunk starting at byte `offset`; returns the session URL for the next
    /// request. Never retried: the registry may have stored part of the chunk.
    fn patch_chunk(
        &self,
        session: &Url,
        offset: u64,
        chunk: Vec<u8>,
        repository: &RegistryReference,
        context: &Context,
    ) -> Result<Url, OciError> {
        let end = offset + chunk.len() as u64 - 1;
        let mut request = Request::new(Method::PATCH, session.clone(), push_scopes(repository))
            .header(CONTENT_TYPE, OCTET_STREAM)
            .header(CONTENT_RANGE, &format!("{offset}-{end}"))
            .body(chunk);
        request.retry = false;
        let response = self.send(&request, context)?;
        let response = expect_status(response, &[StatusCode::ACCEPTED], context)?;
        debug!(registry = %repository.registry, offset, end, "uploaded a blob chunk");
        location(&response, context)
    }

    /// Cancels an upload session, logging a failure: the registry drops stale sessions
    /// itself.
    fn cancel_upload(&self, session: &Url, repository: &RegistryReference, context: &Context) {
        let request = Request::new(Method::DELETE, session.clone(), push_scopes(repository));
        match self.send(&request, context) {
            Ok(response) => debug!(status = response.status().as_u16(), "upload cancelled"),
            Err(e) => debug!(error = %e, "cancelling the upload failed"),
        }
    }
}

fn push_scopes(repository: &RegistryReference) -> Vec<String> {
    vec![repository_scope(&repository.repository, "pull,push")]
}

/// Reads up to `size` bytes, fewer only at the end of the data.
fn read_chunk(reader: &mut dyn Read, size: usize, context: &Context) -> Result<Vec<u8>, OciError> {
    let mut chunk = Vec::with_capacity(size);
    Read::take(&mut *reader, size as u64)
        .read_to_end(&mut chunk)
        .map_err(|e| context.error(RegistryProblem::UploadSource(e)))?;
    Ok(chunk)
}
