//! Registry tests against a real `docker-registry` (distribution 2.8) started on 127.0.0.1 by
//! `clearbox_testdata::registry`: reading images over `docker://`, pushing, listing, referrers,
//! authentication and error reporting. Nothing here imitates the registry; the only stand-in is
//! a TCP proxy in front of it that fails chosen connections.

mod errors;
mod proxy;
mod push;
mod read;

use std::error::Error;
use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use clearbox_oci::registry::{RegistryClient, RegistryOptions, RetryPolicy};
use clearbox_oci::spec::{MEDIA_TYPE_OCI_MANIFEST, Platform};
use clearbox_oci::{ContentInspector, Digest, EntryInfo, Node, RegistryReference};
use clearbox_testdata::registry::{RegistryConfig, RegistryServer};

use crate::support::Layer;

pub(crate) const USER: &str = "alice";
pub(crate) const PASSWORD: &str = "correct horse";

pub(crate) fn plain() -> RegistryConfig {
    RegistryConfig::default()
}

pub(crate) fn tls() -> RegistryConfig {
    RegistryConfig {
        tls: true,
        ..RegistryConfig::default()
    }
}

pub(crate) fn htpasswd() -> RegistryConfig {
    RegistryConfig {
        tls: true,
        htpasswd: Some((USER.into(), PASSWORD.into())),
        ..RegistryConfig::default()
    }
}

pub(crate) fn token() -> RegistryConfig {
    RegistryConfig {
        token_auth: Some((USER.into(), PASSWORD.into())),
        ..RegistryConfig::default()
    }
}

/// Options that reach `server`: plain HTTP when it has no TLS, its CA otherwise, no Docker
/// config file, and quick retries.
pub(crate) fn options_for(server: &RegistryServer) -> RegistryOptions {
    let insecure = match server.ca_file() {
        // The token server of a plain registry is on another port of the same host.
        None => vec!["127.0.0.1".to_owned()],
        Some(_) => Vec::new(),
    };
    RegistryOptions {
        insecure,
        ca_file: server.ca_file(),
        docker_config: Some(no_docker_config()),
        retry: quick_retries(),
        ..RegistryOptions::default()
    }
}

pub(crate) fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        max_timeout_retries: 1,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
    }
}

/// Returns a Docker config path that does not exist, so that the machine's own is never read.
pub(crate) fn no_docker_config() -> PathBuf {
    std::env::temp_dir().join("clearbox-test-no-docker-config/config.json")
}

pub(crate) fn reference(server: &RegistryServer, name: &str) -> RegistryReference {
    format!("{}/{name}", server.host_port()).parse().unwrap()
}

/// Formats an error and all its sources on one line, as the CLI prints them.
pub(crate) fn chain(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

/// Digests of a small image pushed by [`push_small_image`].
pub(crate) struct Pushed {
    pub(crate) manifest: Digest,
    pub(crate) manifest_bytes: Vec<u8>,
    pub(crate) layer: Digest,
    pub(crate) layer_bytes: Vec<u8>,
}

/// Bytes that do not compress or repeat, `len` of them.
pub(crate) fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            // xorshift64
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Pushes a one-layer image (one file, `app/data.bin`, of `file_len` bytes) with the client,
/// under the tag of `target`.
pub(crate) fn push_small_image(
    client: &RegistryClient,
    target: &RegistryReference,
    file_len: usize,
) -> Pushed {
    let layer = Layer::new()
        .dir("app/", 0o755)
        .file("app/data.bin", &noise(file_len, file_len as u64), 0o644)
        .bytes();
    let layer_digest = client.push_blob_bytes(target, &layer).unwrap();
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [layer_digest.to_string()]}
    });
    let config = serde_json::to_vec(&config).unwrap();
    let config_digest = client.push_blob_bytes(target, &config).unwrap();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MEDIA_TYPE_OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest.to_string(), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": layer_digest.to_string(), "size": layer.len()}],
    });
    let manifest = serde_json::to_vec(&manifest).unwrap();
    let digest = client
        .put_manifest(target, MEDIA_TYPE_OCI_MANIFEST, &manifest)
        .unwrap();
    Pushed {
        manifest: digest,
        manifest_bytes: manifest,
        layer: layer_digest,
        layer_bytes: layer,
    }
}

/// Reads no file contents; the tests compare metadata and digests.
pub(crate) struct Nothing;

impl ContentInspector for Nothing {
    type Fact = ();

    fn wants(&self, _entry: &EntryInfo<'_>) -> bool {
        false
    }

    fn inspect(
        &self,
        _entry: &EntryInfo<'_>,
        _content: &mut dyn Read,
    ) -> std::io::Result<Option<()>> {
        Ok(None)
    }
}

/// What two reads of one image must agree on for one path.
pub(crate) fn describe(path: &str, node: &Node) -> String {
    format!(
        "{path} {:?} {:o} {}:{} {} {} {:?}",
        node.kind, node.mode, node.uid, node.gid, node.size, node.layer, node.link_target
    )
}

pub(crate) fn linux_amd64() -> Platform {
    Platform {
        architecture: "amd64".into(),
        os: "linux".into(),
        variant: None,
    }
}
