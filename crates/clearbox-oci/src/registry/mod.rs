//! A blocking client for the OCI distribution API: manifests, blobs, tags and referrers, with
//! Basic and token authentication, private CAs, and bounded retries.
//!
//! Implements the client side of the OCI distribution specification v1.1
//! (<https://github.com/opencontainers/distribution-spec/blob/main/spec.md>) and Docker's
//! token authentication (<https://distribution.github.io/distribution/spec/auth/token/>).
//! It is blocking because clearbox reads layers as a `Read` stream on worker threads.
//!
//! # Supported
//! - Manifests: `GET` with an `Accept` list of the OCI and Docker v2 schema 2 manifest and
//!   index types, `HEAD`, `PUT` by tag or digest. Pulled bytes are hashed and checked against
//!   the requested digest and `Docker-Content-Digest`.
//! - Blobs: streaming `GET`, `HEAD`, monolithic upload (`POST` + `PUT ?digest=`), chunked
//!   upload (`POST` + `PATCH` + `PUT`) above [`RegistryOptions::chunk_size`], cross-repository
//!   mount.
//! - Tags list and referrers API with `Link` pagination; the referrers tag schema
//!   (`sha256-<hex>`) for registries without the API.
//! - Anonymous, Basic and Bearer authentication; credentials given directly or from Docker's
//!   config file.
//! - HTTPS with the system's trust store plus an optional CA file. Plain HTTP only for
//!   registries listed as insecure, and no fallback between the two.
//!
//! # Not yet
//! - Credential helpers (`credsStore`, `credHelpers`) and identity tokens in Docker's config
//!   file: reported by name, and the request goes out anonymously.
//! - Resuming an interrupted download or upload; a failed chunk upload is not retried.
//! - Client certificates (mutual TLS).
//!
//! # Never
//! - Falling back from HTTPS to plain HTTP, or following a redirect from HTTPS to HTTP.
//! - Logging credentials, tokens or URL queries.

mod auth;
mod blobs;
mod challenge;
mod docker_config;
mod error;
mod manifests;
mod options;
mod referrers;
mod tags;
mod transport;
mod upload;

use std::path::Path;

use reqwest::redirect;

use crate::error::OciError;
use crate::reference::RegistryReference;

pub use blobs::BlobReader;
pub use error::{RegistryError, RegistryProblem};
pub use manifests::{Manifest, ManifestHead};
pub use options::{Credentials, RegistryOptions, RetryPolicy};
pub use referrers::referrers_tag;

/// Maximum redirects followed for one request; blob downloads redirect once to storage.
const MAX_REDIRECTS: usize = 5;

/// A client for OCI registries. Cheap to share: wrap it in an `Arc` and use it from many
/// threads. It caches each registry's authentication scheme and tokens.
#[derive(Debug)]
pub struct RegistryClient {
    http: reqwest::blocking::Client,
    options: RegistryOptions,
    credential_source: auth::CredentialSource,
    auth: auth::AuthCache,
}

impl RegistryClient {
    /// Builds a client: loads the CA file and the Docker config file, and sets up TLS.
    pub fn new(options: RegistryOptions) -> Result<RegistryClient, OciError> {
        // Credentials given directly replace the config file entirely.
        let docker_config = if options.credentials.is_some() {
            docker_config::DockerConfig::default()
        } else {
            docker_config::DockerConfig::load(options.docker_config.as_deref())?
        };

        let mut builder = reqwest::blocking::Client::builder()
            .user_agent(options.user_agent.clone())
            .connect_timeout(options.connect_timeout)
            .timeout(options.io_timeout)
            .redirect(redirect_policy());
        if let Some(path) = &options.ca_file {
            builder = builder.tls_certs_merge(load_ca_file(path)?);
        }
        let http = builder.build().map_err(|e| OciError::ClientSetup {
            reason: transport::error_chain(&e),
        })?;
        Ok(RegistryClient {
            http,
            credential_source: auth::CredentialSource {
                explicit: options.credentials.clone(),
                docker_config,
            },
            options,
            auth: auth::AuthCache::default(),
        })
    }

    /// Returns the options the client was built with.
    #[must_use]
    pub fn options(&self) -> &RegistryOptions {
        &self.options
    }
}

/// Follows at most [`MAX_REDIRECTS`] redirects and never one from HTTPS to HTTP. reqwest
/// drops the `Authorization` header when a redirect changes host, port or scheme.
fn redirect_policy() -> redirect::Policy {
    redirect::Policy::custom(|attempt| {
        let downgrade = attempt.url().scheme() == "http"
            && attempt.previous().iter().any(|u| u.scheme() == "https");
        if downgrade {
            attempt.error("refusing a redirect from HTTPS to plain HTTP")
        } else if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else {
            attempt.follow()
        }
    })
}

/// Maximum size of a `--ca-file`: 4 MiB, about 20 times Debian's whole CA bundle.
const MAX_CA_FILE_BYTES: u64 = 4 << 20;

fn load_ca_file(path: &Path) -> Result<Vec<reqwest::Certificate>, OciError> {
    let pem = crate::file::read_regular_file(path, MAX_CA_FILE_BYTES)
        .map_err(|e| OciError::io(path, e))?;
    let invalid = |reason: String| OciError::InvalidCaFile {
        path: path.to_owned(),
        reason,
    };
    let certificates = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| invalid(format!("not a PEM file of certificates: {e}")))?;
    if certificates.is_empty() {
        return Err(invalid("it contains no PEM certificates".into()));
    }
    Ok(certificates)
}

/// `repository:tag` or `repository@digest`, to name a reference in messages.
fn subject(reference: &RegistryReference) -> String {
    match (&reference.digest, &reference.tag) {
        (Some(digest), _) => format!("{}@{digest}", reference.repository),
        (None, Some(tag)) => format!("{}:{tag}", reference.repository),
        (None, None) => format!("{}:latest", reference.repository),
    }
}
