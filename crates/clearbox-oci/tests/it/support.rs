//! Builds OCI image layouts from hand-made layers, with correct digests unless a test breaks
//! them on purpose.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;

use clearbox_oci::{
    ContentInspector, Digest, EntryInfo, Image, ImageReference, NoProgress, OciError, ReadOptions,
    Scan,
};

/// How to store a layer.
#[derive(Clone, Copy)]
pub(crate) enum Store {
    Plain,
    Gzip,
    Zstd,
}

/// A tar stream under construction.
pub(crate) struct Layer {
    builder: tar::Builder<Vec<u8>>,
}

impl Layer {
    pub(crate) fn new() -> Self {
        Layer {
            builder: tar::Builder::new(Vec::new()),
        }
    }

    pub(crate) fn file(mut self, path: &str, data: &[u8], mode: u32) -> Self {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_entry_type(tar::EntryType::Regular);
        self.builder.append_data(&mut h, path, data).unwrap();
        self
    }

    pub(crate) fn dir(mut self, path: &str, mode: u32) -> Self {
        let mut h = tar::Header::new_gnu();
        h.set_size(0);
        h.set_mode(mode);
        h.set_entry_type(tar::EntryType::Directory);
        self.builder.append_data(&mut h, path, &[][..]).unwrap();
        self
    }

    pub(crate) fn symlink(mut self, path: &str, target: &str) -> Self {
        let mut h = tar::Header::new_gnu();
        h.set_size(0);
        h.set_mode(0o777);
        h.set_entry_type(tar::EntryType::Symlink);
        self.builder.append_link(&mut h, path, target).unwrap();
        self
    }

    pub(crate) fn hardlink(mut self, path: &str, target: &str) -> Self {
        let mut h = tar::Header::new_gnu();
        h.set_size(0);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Link);
        self.builder.append_link(&mut h, path, target).unwrap();
        self
    }

    /// Appends a raw 512-byte header block with a fixed-up checksum and no data.
    pub(crate) fn raw_header(mut self, name: &[u8], size: u64, typeflag: u8) -> Self {
        let mut h = tar::Header::new_gnu();
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.set_size(size);
        h.set_mode(0o755);
        h.as_old_mut().linkflag[0] = typeflag;
        h.set_cksum();
        self.builder.get_mut().extend_from_slice(h.as_bytes());
        self
    }

    pub(crate) fn bytes(self) -> Vec<u8> {
        self.builder.into_inner().unwrap()
    }
}

pub(crate) fn compress(tar: &[u8], store: Store) -> Vec<u8> {
    match store {
        Store::Plain => tar.to_vec(),
        Store::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            e.write_all(tar).unwrap();
            e.finish().unwrap()
        }
        Store::Zstd => zstd::encode_all(tar, 3).unwrap(),
    }
}

fn media_type(store: Store) -> &'static str {
    match store {
        Store::Plain => "application/vnd.oci.image.layer.v1.tar",
        Store::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
        Store::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
    }
}

fn put_blob(dir: &Path, data: &[u8]) -> Digest {
    let digest = Digest::of(data);
    let path = dir.join("blobs/sha256").join(digest.hex());
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, data).unwrap();
    digest
}

/// Writes an OCI layout with one image tagged `latest`; returns the manifest digest.
pub(crate) fn write_layout(dir: &Path, layers: &[(Vec<u8>, Store)]) -> Digest {
    write_layout_with(dir, layers, &serde_json::json!({}), None)
}

/// As [`write_layout`], with extra manifest annotations.
pub(crate) fn write_layout_with(
    dir: &Path,
    layers: &[(Vec<u8>, Store)],
    annotations: &serde_json::Value,
    diff_ids_override: Option<&[Digest]>,
) -> Digest {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let mut descriptors = Vec::new();
    let mut diff_ids = Vec::new();
    for (tar, store) in layers {
        let blob = compress(tar, *store);
        let digest = put_blob(dir, &blob);
        diff_ids.push(Digest::of(tar).to_string());
        descriptors.push(serde_json::json!({
            "mediaType": media_type(*store), "digest": digest.to_string(), "size": blob.len()
        }));
    }
    if let Some(ids) = diff_ids_override {
        diff_ids = ids.iter().map(ToString::to_string).collect();
    }
    let config = serde_json::json!({
        "created": "2025-01-01T00:00:00Z", "architecture": "amd64", "os": "linux",
        "config": {"User": "65532"},
        "rootfs": {"type": "layers", "diff_ids": diff_ids}
    });
    let config_bytes = serde_json::to_vec(&config).unwrap();
    let config_digest = put_blob(dir, &config_bytes);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest.to_string(), "size": config_bytes.len()},
        "layers": descriptors,
        "annotations": annotations,
    });
    let manifest_bytes = serde_json::to_vec(&manifest).unwrap();
    let manifest_digest = put_blob(dir, &manifest_bytes);
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest.to_string(), "size": manifest_bytes.len(),
            "annotations": {"org.opencontainers.image.ref.name": "latest"}
        }]
    });
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    manifest_digest
}

/// Keeps every regular file's content.
pub(crate) struct KeepAll;

impl ContentInspector for KeepAll {
    type Fact = Vec<u8>;

    fn wants(&self, _entry: &EntryInfo<'_>) -> bool {
        true
    }

    fn inspect(
        &self,
        _entry: &EntryInfo<'_>,
        content: &mut dyn Read,
    ) -> std::io::Result<Option<Vec<u8>>> {
        let mut data = Vec::new();
        content.take(1 << 20).read_to_end(&mut data)?;
        Ok(Some(data))
    }
}

pub(crate) fn open(reference: &str) -> Result<Image, OciError> {
    let reference: ImageReference = reference.parse().unwrap();
    Image::open(&reference, &ReadOptions::default())
}

pub(crate) fn scan(reference: &str) -> Result<Scan<Vec<u8>>, OciError> {
    scan_with(reference, &ReadOptions::default())
}

pub(crate) fn scan_with(reference: &str, options: &ReadOptions) -> Result<Scan<Vec<u8>>, OciError> {
    let image = open(reference)?;
    image.scan(&KeepAll, options, &NoProgress)
}

/// Path → content of every visible file with a fact.
pub(crate) fn contents(scan: &Scan<Vec<u8>>) -> HashMap<String, Vec<u8>> {
    scan.facts()
        .map(|(p, _, f)| (p.to_owned(), f.clone()))
        .collect()
}

pub(crate) fn layout_ref(dir: &Path) -> String {
    format!("oci:{}:latest", dir.display())
}

pub(crate) use clearbox_testdata::corpus;
