//! Writing a built image to its output transport.
//!
//! - `oci:DIR[:TAG]`: blobs copied into `DIR/blobs/sha256/`, then `index.json` replaced by a
//!   rename, with any entry of the same tag (default `latest`) replaced. A new directory becomes
//!   a layout.
//! - `oci-archive:FILE[:TAG]`: a tar of such a layout.
//! - `docker-archive:FILE[:NAME:TAG]`: `docker save`'s format: `manifest.json`, the config as
//!   `<hex>.json` and each layer uncompressed as `<diff_id hex>.tar`.
//! - `docker://REGISTRY/REPO[:TAG]`: blobs pushed, then the manifest, under the tag or by digest.
//!
//! Archive files are tars with entries in a fixed order, mode `0644` (directories `0755`),
//! owner `0:0` and the source date as mtime, so they are as reproducible as the image. Each
//! archive is written to a temporary file beside it and renamed into place.

use std::fs::File;
use std::io::{self, BufWriter, Read as _, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::Digest;
use crate::build::error::BuildError;
use crate::build::{BuiltImage, manifest_descriptor, single_index};
use crate::reference::{ArchiveSelector, ImageReference, RegistryReference};
use crate::registry::{RegistryClient, RegistryOptions};
use crate::spec::{ANNOTATION_REF_NAME, ImageIndex, MEDIA_TYPE_OCI_MANIFEST};

const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;
const DEFAULT_TAG: &str = "latest";

/// Where a built image was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenImage {
    /// The output as a reference that reads the image back.
    pub location: String,
    /// The manifest digest.
    pub digest: Digest,
}

/// Writes `oci-layout` and an `index.json` with the one entry into a layout directory.
pub(crate) fn write_layout_files(
    root: &Path,
    entry: &crate::spec::Descriptor,
) -> Result<(), BuildError> {
    let layout = root.join("oci-layout");
    std::fs::write(&layout, OCI_LAYOUT).map_err(|e| BuildError::write(&layout, e))?;
    let index = single_index(entry.clone());
    let bytes = serde_json::to_vec(&index)
        .map_err(|e| BuildError::write("index.json", io::Error::other(e)))?;
    let path = root.join("index.json");
    std::fs::write(&path, bytes).map_err(|e| BuildError::write(&path, e))
}

impl BuiltImage {
    /// Writes the image to `output`, as the module documentation describes for each transport.
    pub fn write(
        &self,
        output: &ImageReference,
        registry: &RegistryOptions,
    ) -> Result<WrittenImage, BuildError> {
        let location = match output {
            ImageReference::OciLayout { path, tag } => {
                let tag = tag_or_default(tag.as_deref(), output)?;
                self.write_layout(path, tag)?;
                format!("oci:{}:{tag}", path.display())
            }
            ImageReference::OciArchive { path, tag } => {
                let tag = tag_or_default(tag.as_deref(), output)?;
                self.write_oci_archive(path, tag)?;
                format!("oci-archive:{}:{tag}", path.display())
            }
            ImageReference::DockerArchive { path, selector } => {
                let name = match selector {
                    None => None,
                    Some(ArchiveSelector::Tag(name)) => Some(name.as_str()),
                    Some(ArchiveSelector::Index(_)) => {
                        return Err(BuildError::UnsupportedOutput {
                            reference: output.to_string(),
                        });
                    }
                };
                self.write_docker_archive(path, name)?;
                format!("docker-archive:{}", path.display())
            }
            ImageReference::Registry(target) => self.push(target, registry)?,
            ImageReference::RootFs { .. } => {
                return Err(BuildError::UnsupportedOutput {
                    reference: output.to_string(),
                });
            }
        };
        Ok(WrittenImage {
            location,
            digest: self.manifest_digest.clone(),
        })
    }

    /// The blob digests of the image: layers, config, manifest.
    fn blob_digests(&self) -> Vec<Digest> {
        let mut digests: Vec<Digest> = self.layers.iter().map(|l| l.digest.clone()).collect();
        digests.push(self.config_digest.clone());
        digests.push(self.manifest_digest.clone());
        digests
    }

    fn staged_blob(&self, digest: &Digest) -> PathBuf {
        self.layout().join("blobs/sha256").join(digest.hex())
    }

    fn write_layout(&self, root: &Path, tag: &str) -> Result<(), BuildError> {
        // 1. The directory: new, empty, or an existing layout.
        let index_path = root.join("index.json");
        let existing = match std::fs::read(&index_path) {
            Ok(bytes) => Some(serde_json::from_slice::<ImageIndex>(&bytes).map_err(|e| {
                BuildError::Output {
                    path: index_path.clone(),
                    reason: format!("it is not an OCI image index: {e}"),
                }
            })?),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(BuildError::read(&index_path, e)),
        };
        if existing.is_none()
            && root.exists()
            && std::fs::read_dir(root)
                .map_err(|e| BuildError::read(root, e))?
                .next()
                .is_some()
        {
            return Err(BuildError::Output {
                path: root.to_owned(),
                reason: "it exists and is not an OCI image layout; name a new or empty directory"
                    .into(),
            });
        }
        let blobs = root.join("blobs/sha256");
        std::fs::create_dir_all(&blobs).map_err(|e| BuildError::write(&blobs, e))?;
        let layout = root.join("oci-layout");
        if !layout.exists() {
            std::fs::write(&layout, OCI_LAYOUT).map_err(|e| BuildError::write(&layout, e))?;
        }

        // 2. The blobs, each copied under a temporary name and renamed.
        for digest in self.blob_digests() {
            let target = blobs.join(digest.hex());
            if target.is_file() {
                continue;
            }
            let temp = tempfile::NamedTempFile::new_in(&blobs)
                .map_err(|e| BuildError::write(&blobs, e))?;
            std::fs::copy(self.staged_blob(&digest), temp.path())
                .map_err(|e| BuildError::write(&target, e))?;
            set_readable(temp.path())?;
            temp.persist(&target)
                .map_err(|e| BuildError::write(&target, e.error))?;
        }

        // 3. The index, with this tag moved to the new manifest.
        let entry = manifest_descriptor(&self.manifest_digest, self.manifest.len(), tag);
        let index = match existing {
            Some(mut index) => {
                index.manifests.retain(|m| {
                    m.annotations.get(ANNOTATION_REF_NAME).map(String::as_str) != Some(tag)
                });
                index.manifests.push(entry);
                index
            }
            None => single_index(entry),
        };
        let bytes = serde_json::to_vec(&index)
            .map_err(|e| BuildError::write(&index_path, io::Error::other(e)))?;
        let temp = tempfile::NamedTempFile::new_in(root).map_err(|e| BuildError::write(root, e))?;
        std::fs::write(temp.path(), bytes).map_err(|e| BuildError::write(&index_path, e))?;
        set_readable(temp.path())?;
        temp.persist(&index_path)
            .map_err(|e| BuildError::write(&index_path, e.error))?;
        Ok(())
    }

    fn write_oci_archive(&self, path: &Path, tag: &str) -> Result<(), BuildError> {
        let entry = manifest_descriptor(&self.manifest_digest, self.manifest.len(), tag);
        let index = serde_json::to_vec(&single_index(entry))
            .map_err(|e| BuildError::write(path, io::Error::other(e)))?;
        self.write_archive(path, |archive| {
            archive.file("oci-layout", OCI_LAYOUT)?;
            archive.file("index.json", &index)?;
            archive.directory("blobs")?;
            archive.directory("blobs/sha256")?;
            for digest in self.blob_digests() {
                let name = format!("blobs/sha256/{}", digest.hex());
                archive.file_from(&name, &self.staged_blob(&digest))?;
            }
            Ok(())
        })
    }

    fn write_docker_archive(&self, path: &Path, name: Option<&str>) -> Result<(), BuildError> {
        let config_name = format!("{}.json", self.config_digest.hex());
        let layer_names: Vec<String> = self
            .layers
            .iter()
            .map(|l| format!("{}.tar", l.diff_id.hex()))
            .collect();
        let repo_tags: Vec<String> = name
            .map(|n| {
                if n.contains(':') {
                    n.to_owned()
                } else {
                    format!("{n}:{DEFAULT_TAG}")
                }
            })
            .into_iter()
            .collect();
        let manifest = serde_json::json!([{
            "Config": config_name,
            "RepoTags": repo_tags,
            "Layers": layer_names,
        }]);
        let manifest = serde_json::to_vec(&manifest)
            .map_err(|e| BuildError::write(path, io::Error::other(e)))?;
        self.write_archive(path, |archive| {
            archive.file(
                &config_name,
                &std::fs::read(self.staged_blob(&self.config_digest))?,
            )?;
            let mut written = std::collections::BTreeSet::new();
            for (layer, name) in self.layers.iter().zip(&layer_names) {
                if written.insert(name.clone()) {
                    archive.uncompressed_layer(name, &self.staged_blob(&layer.digest))?;
                }
            }
            archive.file("manifest.json", &manifest)
        })
    }

    /// Writes an archive to a temporary file beside `path` and renames it into place.
    fn write_archive(
        &self,
        path: &Path,
        fill: impl FnOnce(&mut ArchiveWriter) -> io::Result<()>,
    ) -> Result<(), BuildError> {
        // The rename below would replace a device or FIFO (`/dev/null`) with the archive.
        if let Ok(meta) = std::fs::symlink_metadata(path)
            && !meta.is_file()
        {
            return Err(BuildError::Output {
                path: path.to_owned(),
                reason: "it exists and is not a regular file; give the name of a new or regular \
                         file"
                    .into(),
            });
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let temp = tempfile::NamedTempFile::new_in(dir).map_err(|e| BuildError::write(dir, e))?;
        let handle = temp.reopen().map_err(|e| BuildError::write(path, e))?;
        let mut archive = ArchiveWriter {
            builder: tar::Builder::new(BufWriter::new(handle)),
            mtime: self.source_date_epoch,
        };
        fill(&mut archive).map_err(|e| BuildError::write(path, e))?;
        let mut writer = archive
            .builder
            .into_inner()
            .map_err(|e| BuildError::write(path, e))?;
        writer.flush().map_err(|e| BuildError::write(path, e))?;
        drop(writer);
        set_readable(temp.path())?;
        temp.persist(path)
            .map_err(|e| BuildError::write(path, e.error))?;
        Ok(())
    }

    fn push(
        &self,
        target: &RegistryReference,
        options: &RegistryOptions,
    ) -> Result<String, BuildError> {
        if target.digest.is_some() {
            return Err(BuildError::UnsupportedOutput {
                reference: format!("docker://{target}"),
            });
        }
        let client = Arc::new(RegistryClient::new(options.clone())?);
        for digest in self.blob_digests() {
            if digest == self.manifest_digest {
                continue;
            }
            let path = self.staged_blob(&digest);
            let mut file = File::open(&path).map_err(|e| BuildError::read(&path, e))?;
            client.push_blob(target, &digest, &mut file)?;
        }
        let destination = RegistryReference {
            tag: Some(target.tag.clone().unwrap_or_else(|| DEFAULT_TAG.to_owned())),
            ..target.clone()
        };
        client.put_manifest(&destination, MEDIA_TYPE_OCI_MANIFEST, &self.manifest)?;
        Ok(format!("docker://{destination}"))
    }
}

fn tag_or_default<'a>(
    tag: Option<&'a str>,
    output: &ImageReference,
) -> Result<&'a str, BuildError> {
    match tag {
        None => Ok(DEFAULT_TAG),
        Some(tag) if tag.starts_with('@') => Err(BuildError::UnsupportedOutput {
            reference: output.to_string(),
        }),
        Some(tag) => Ok(tag),
    }
}

/// Makes an output file `0644`: temporary files are created `0600`.
fn set_readable(path: &Path) -> Result<(), BuildError> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
        .map_err(|e| BuildError::write(path, e))
}

/// A tar writer with fixed headers for archive outputs.
struct ArchiveWriter {
    builder: tar::Builder<BufWriter<File>>,
    mtime: u64,
}

impl ArchiveWriter {
    fn header(&self, kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(self.mtime);
        header.set_size(size);
        header
    }

    fn directory(&mut self, name: &str) -> io::Result<()> {
        let mut header = self.header(tar::EntryType::Directory, 0o755, 0);
        self.builder
            .append_data(&mut header, format!("{name}/"), io::empty())
    }

    fn file(&mut self, name: &str, bytes: &[u8]) -> io::Result<()> {
        let mut header = self.header(tar::EntryType::Regular, 0o644, bytes.len() as u64);
        self.builder.append_data(&mut header, name, bytes)
    }

    fn file_from(&mut self, name: &str, path: &Path) -> io::Result<()> {
        let file = File::open(path)?;
        let size = file.metadata()?.len();
        let mut header = self.header(tar::EntryType::Regular, 0o644, size);
        self.builder.append_data(&mut header, name, file)
    }

    /// Adds a gzip layer blob decompressed: `docker save` stores layers as plain tars.
    fn uncompressed_layer(&mut self, name: &str, blob: &Path) -> io::Result<()> {
        let open = || -> io::Result<Box<dyn io::Read>> {
            let mut head = [0u8; 4];
            let n = File::open(blob)?.read(&mut head)?;
            let compression = crate::layer::Compression::sniff(&head[..n]);
            Ok(Box::new(compression.decoder(File::open(blob)?)?))
        };
        // The size goes into the header before the data, so the blob is decompressed twice.
        let size = io::copy(&mut open()?, &mut io::sink())?;
        let mut header = self.header(tar::EntryType::Regular, 0o644, size);
        self.builder.append_data(&mut header, name, open()?)
    }
}
