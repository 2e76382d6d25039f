//! Images, layouts and registries shared by the artifact store tests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use clearbox_attest::cosign::{LayoutStore, RegistryStore};
use clearbox_oci::registry::{Credentials, RegistryClient, RegistryOptions};
use clearbox_oci::{Digest, RegistryReference};
use clearbox_testdata::example_image;
use clearbox_testdata::registry::{RegistryConfig, RegistryServer};
use serde_json::{Value, json};

/// The repository tests push the example image to.
pub(crate) const REPOSITORY: &str = "clearbox/example";
/// The identity that layout tests sign with.
pub(crate) const IDENTITY: &str = "registry.example/clearbox/example";

/// Copies the example image layout to `dir/image`, hard-linking the blobs (tests never write to
/// an existing blob: stores write new files and rename, and [`rewrite_file`] unlinks first).
pub(crate) fn example_layout(dir: &Path) -> Option<PathBuf> {
    let source = example_image()?;
    let target = dir.join("image");
    let blobs = target.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    for entry in std::fs::read_dir(source.join("blobs/sha256")).unwrap() {
        let entry = entry.unwrap();
        let destination = blobs.join(entry.file_name());
        if std::fs::hard_link(entry.path(), &destination).is_err() {
            std::fs::copy(entry.path(), &destination).unwrap();
        }
    }
    for file in ["index.json", "oci-layout"] {
        std::fs::copy(source.join(file), target.join(file)).unwrap();
    }
    Some(target)
}

/// The digest of the manifest tagged `tag` in a layout.
pub(crate) fn tagged_digest(layout: &Path, tag: &str) -> Digest {
    read_index(layout)["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .unwrap_or_else(|| panic!("no entry tagged `{tag}`"))["digest"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// A layout's `index.json`.
pub(crate) fn read_index(layout: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap()
}

/// Writes `bytes` as a blob of the layout and returns its digest.
pub(crate) fn write_blob(layout: &Path, bytes: &[u8]) -> Digest {
    let digest = Digest::of(bytes);
    std::fs::write(layout.join("blobs/sha256").join(digest.hex()), bytes).unwrap();
    digest
}

/// The path of a blob in a layout.
pub(crate) fn blob_path(layout: &Path, digest: &Digest) -> PathBuf {
    layout.join("blobs/sha256").join(digest.hex())
}

/// Replaces a file's content without writing through a hard link to the example image.
pub(crate) fn rewrite_file(path: &Path, bytes: &[u8]) {
    std::fs::remove_file(path).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Adds a second, tiny image (an empty config, no layers) tagged `tag` to a layout.
pub(crate) fn add_tiny_image(layout: &Path, tag: &str) -> Digest {
    let config_bytes =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let config = write_blob(layout, config_bytes);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config.to_string(), "size": config_bytes.len()},
        "layers": [],
    }))
    .unwrap();
    let digest = write_blob(layout, &manifest);
    let mut index = read_index(layout);
    index["manifests"].as_array_mut().unwrap().push(json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": digest.to_string(),
        "size": manifest.len(),
        "annotations": {"org.opencontainers.image.ref.name": tag},
    }));
    std::fs::write(
        layout.join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();
    digest
}

/// Opens the layout store for `tag`.
pub(crate) fn layout_store(layout: &Path, tag: Option<&str>) -> LayoutStore {
    LayoutStore::open(layout, tag).unwrap()
}

/// A registry with the example image pushed to `REPOSITORY:v1`.
pub(crate) struct Registry {
    pub(crate) server: RegistryServer,
    pub(crate) options: RegistryOptions,
    /// `HOST:PORT/clearbox/example`.
    pub(crate) repository: String,
    /// The example image's manifest digest.
    pub(crate) digest: Digest,
    pub(crate) credentials: Option<(String, String)>,
}

impl Registry {
    /// Starts a registry and pushes the example image, or `None` after a notice when the
    /// registry, skopeo or the example image is missing.
    pub(crate) fn with_example(config: RegistryConfig) -> Option<Registry> {
        let example = example_image()?;
        let credentials = config.htpasswd.clone();
        let server = RegistryServer::start(config)?;
        let creds = credentials.as_ref().map(|(u, p)| (u.as_str(), p.as_str()));
        server.push_layout(
            &format!("oci:{}:latest", example.display()),
            &format!("{REPOSITORY}:v1"),
            creds,
        )?;
        let options = RegistryOptions {
            insecure: if server.ca_file().is_some() {
                Vec::new()
            } else {
                vec![server.host_port()]
            },
            ca_file: server.ca_file(),
            credentials: credentials
                .as_ref()
                .map(|(user, password)| Credentials::new(user, password)),
            ..RegistryOptions::default()
        };
        let digest = tagged_digest(&example, "latest");
        Some(Registry {
            repository: format!("{}/{REPOSITORY}", server.host_port()),
            server,
            options,
            digest,
            credentials,
        })
    }

    /// A registry client with the test options.
    pub(crate) fn client(&self) -> Arc<RegistryClient> {
        Arc::new(RegistryClient::new(self.options.clone()).unwrap())
    }

    /// `HOST:PORT/clearbox/example@sha256:…`.
    pub(crate) fn image(&self) -> String {
        format!("{}@{}", self.repository, self.digest)
    }

    /// Opens the store for `reference` (relative to the registry, such as
    /// `clearbox/example:v1`).
    pub(crate) fn store(&self, reference: &str) -> RegistryStore {
        let reference: RegistryReference = format!("{}/{reference}", self.server.host_port())
            .parse()
            .unwrap();
        RegistryStore::open(self.client(), &reference).unwrap()
    }

    /// A cosign command: the subcommand words of `args`, the flags that reach this registry
    /// (HTTP or CA, credentials), then the rest of `args`, which may end with a flag whose
    /// value the caller adds.
    pub(crate) fn cosign(&self, cosign: &Path, args: &[&str]) -> Command {
        let words = args.iter().take_while(|arg| !arg.starts_with('-')).count();
        let mut command = Command::new(cosign);
        command.args(&args[..words]);
        match self.server.ca_file() {
            Some(ca) => command.arg("--registry-cacert").arg(ca),
            None => command.arg("--allow-http-registry"),
        };
        if let Some((user, password)) = &self.credentials {
            command
                .arg("--registry-username")
                .arg(user)
                .arg("--registry-password")
                .arg(password);
        }
        command.args(&args[words..]);
        command
    }

    /// The skopeo flags for reading from this registry.
    pub(crate) fn skopeo_source_flags(&self, command: &mut Command) {
        match self.server.cert_dir() {
            Some(dir) => command.arg("--src-cert-dir").arg(dir),
            None => command.arg("--src-tls-verify=false"),
        };
        if let Some((user, password)) = &self.credentials {
            command.arg("--src-creds").arg(format!("{user}:{password}"));
        }
    }

    /// The oras flags for reaching this registry.
    pub(crate) fn oras_flags(&self, command: &mut Command) {
        match self.server.ca_file() {
            Some(ca) => command.arg("--ca-file").arg(ca),
            None => command.arg("--plain-http"),
        };
        if let Some((user, password)) = &self.credentials {
            command.arg("-u").arg(user).arg("-p").arg(password);
        }
    }

    /// The file of a blob in the registry's storage.
    pub(crate) fn stored_blob(&self, digest: &Digest) -> PathBuf {
        self.server
            .storage_dir()
            .join("docker/registry/v2/blobs/sha256")
            .join(&digest.hex()[..2])
            .join(digest.hex())
            .join("data")
    }
}
