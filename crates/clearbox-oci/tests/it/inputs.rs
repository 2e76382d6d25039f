//! Which image an `oci:` reference names, the platform check of single-platform images, and
//! inputs that are not regular files or are too large.

use std::path::Path;
use std::process::Command;

use clearbox_oci::spec::Platform;
use clearbox_oci::{
    Digest, FileProblem, Image, ImageReference, LayoutChoiceError, OciError, ReadOptions,
};
use serde_json::{Value, json};

use crate::support::{Layer, Store, open, write_layout};

fn read_index(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap()
}

fn write_index(dir: &Path, index: &Value) {
    std::fs::write(dir.join("index.json"), serde_json::to_vec(index).unwrap()).unwrap();
}

fn put_blob(dir: &Path, bytes: &[u8]) -> Digest {
    let digest = Digest::of(bytes);
    std::fs::write(dir.join("blobs/sha256").join(digest.hex()), bytes).unwrap();
    digest
}

/// A layout with one image tagged `latest`; returns its manifest digest.
fn one_image(dir: &Path) -> Digest {
    let tar = Layer::new().file("etc/hostname", b"box\n", 0o644).bytes();
    write_layout(dir, &[(tar, Store::Gzip)])
}

/// Adds an untagged index entry for a manifest that names `subject`, as `oras attach
/// --oci-layout` writes it; `artifact_type` goes on the entry when given.
fn add_referrer(dir: &Path, subject: &Digest, artifact_type: Option<&str>) -> Digest {
    let config = put_blob(dir, b"{}");
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.example.report",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config.to_string(), "size": 2},
        "layers": [],
        "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": subject.to_string(), "size": 1},
    }))
    .unwrap();
    let digest = put_blob(dir, &manifest);
    let mut entry = json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": digest.to_string(),
        "size": manifest.len(),
    });
    if let Some(artifact_type) = artifact_type {
        entry["artifactType"] = json!(artifact_type);
    }
    let mut index = read_index(dir);
    index["manifests"].as_array_mut().unwrap().push(entry);
    write_index(dir, &index);
    digest
}

/// Adds a second image, with its own config, tagged `tag`.
fn add_image(dir: &Path, tag: &str, architecture: &str) -> Digest {
    let config = serde_json::to_vec(&json!({
        "architecture": architecture, "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}
    }))
    .unwrap();
    let config_digest = put_blob(dir, &config);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest.to_string(), "size": config.len()},
        "layers": [],
    }))
    .unwrap();
    let digest = put_blob(dir, &manifest);
    let mut index = read_index(dir);
    index["manifests"].as_array_mut().unwrap().push(json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": digest.to_string(),
        "size": manifest.len(),
        "annotations": {"org.opencontainers.image.ref.name": tag},
    }));
    write_index(dir, &index);
    digest
}

fn choice_error(error: OciError) -> LayoutChoiceError {
    match error {
        OciError::ImageNotInLayout { reason, .. } => reason,
        other => panic!("expected ImageNotInLayout, got {other:?}"),
    }
}

#[test]
fn referrer_entries_not_images() {
    let dir = tempfile::tempdir().unwrap();
    let image = one_image(dir.path());
    // One referrer listed with `artifactType`, one known only by the `subject` of its manifest.
    add_referrer(dir.path(), &image, Some("application/vnd.example.report"));
    add_referrer(dir.path(), &image, None);

    let opened = open(&format!("oci:{}", dir.path().display())).unwrap();
    assert_eq!(opened.manifest_digest.as_ref(), Some(&image));
    assert_eq!(opened.subject_digest.as_ref(), Some(&image));
}

#[test]
fn two_images_untagged_lists_both() {
    let dir = tempfile::tempdir().unwrap();
    let first = one_image(dir.path());
    let second = add_image(dir.path(), "other", "amd64");
    add_referrer(dir.path(), &first, Some("application/vnd.example.report"));

    let reference = format!("oci:{}", dir.path().display());
    let error = open(&reference).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{reference}: the layout contains 2 images: `latest` ({first}), `other` ({second}); add \
             `:TAG` or `:@DIGEST` to the reference to pick one"
        )
    );
    assert_eq!(
        choice_error(error),
        LayoutChoiceError::Ambiguous {
            images: vec![
                (Some("latest".to_owned()), first),
                (Some("other".to_owned()), second),
            ]
        }
    );
}

#[test]
fn image_named_by_digest() {
    let dir = tempfile::tempdir().unwrap();
    one_image(dir.path());
    let second = add_image(dir.path(), "other", "amd64");

    let opened = open(&format!("oci:{}:@{second}", dir.path().display())).unwrap();
    assert_eq!(opened.manifest_digest.as_ref(), Some(&second));
    assert_eq!(opened.tags, ["other"]);

    let missing = Digest::of(b"not in the layout");
    let error = open(&format!("oci:{}:@{missing}", dir.path().display())).unwrap_err();
    assert_eq!(
        choice_error(error),
        LayoutChoiceError::DigestNotFound { digest: missing }
    );
    let error = open(&format!("oci:{}:@sha256:12", dir.path().display())).unwrap_err();
    assert_eq!(
        choice_error(error),
        LayoutChoiceError::InvalidDigest {
            text: "sha256:12".to_owned()
        }
    );
}

#[test]
fn tag_not_found_lists_tags() {
    let dir = tempfile::tempdir().unwrap();
    one_image(dir.path());
    let reference = format!("oci:{}:v2", dir.path().display());
    let error = open(&reference).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("{reference}: no image is tagged `v2`; tags present: `latest`")
    );
}

fn open_for(dir: &Path, platform: &str, require_platform: bool) -> Result<Image, OciError> {
    let (os, architecture) = platform.split_once('/').unwrap();
    let options = ReadOptions {
        platform: Platform {
            os: os.to_owned(),
            architecture: architecture.to_owned(),
            variant: None,
        },
        require_platform,
        ..ReadOptions::default()
    };
    let reference: ImageReference = format!("oci:{}:latest", dir.display()).parse().unwrap();
    Image::open(&reference, &options)
}

#[test]
fn single_platform_image_other_platform() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = one_image(dir.path());

    let error = open_for(dir.path(), "linux/arm64", true).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "manifest {manifest} is a single-platform image for `linux/amd64` (from its config), \
             not the requested `linux/arm64`; request `linux/amd64` or no platform"
        )
    );
    assert!(
        matches!(&error, OciError::PlatformMismatch { found, requested, .. } if found == "linux/amd64" && requested == "linux/arm64"),
        "{error:?}"
    );

    // The platform it is built for, or no request, reads it.
    let image = open_for(dir.path(), "linux/amd64", true).unwrap();
    assert_eq!(image.manifest_digest.as_ref(), Some(&manifest));
    let image = open_for(dir.path(), "linux/arm64", false).unwrap();
    assert_eq!(image.config.architecture, "amd64");
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

/// Finds the problem inside an `OciError::Io`.
fn file_problem(error: &OciError) -> &FileProblem {
    match error {
        OciError::Io { source, .. } => {
            FileProblem::of(source).unwrap_or_else(|| panic!("no FileProblem in {error:?}"))
        }
        other => panic!("expected Io, got {other:?}"),
    }
}

#[test]
fn fifo_layer_blob_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let tar = Layer::new().file("a", b"a", 0o644).bytes();
    write_layout(dir.path(), &[(tar.clone(), Store::Gzip)]);
    let blob = dir
        .path()
        .join("blobs/sha256")
        .join(Digest::of(&crate::support::compress(&tar, Store::Gzip)).hex());
    std::fs::remove_file(&blob).unwrap();
    mkfifo(&blob);

    let error = crate::support::scan(&format!("oci:{}:latest", dir.path().display()))
        .expect_err("a FIFO layer must fail the scan");
    let text = format!("{error}: {}", std::error::Error::source(&error).unwrap());
    assert!(
        matches!(
            file_problem(&error),
            FileProblem::NotRegular { kind: "a FIFO" }
        ),
        "{text}"
    );
    assert_eq!(
        text,
        format!(
            "failed to read `{}`: it is a FIFO, not a regular file; pass a regular file",
            blob.display()
        )
    );
}

#[test]
fn fifo_archive_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("image.tar");
    mkfifo(&fifo);
    for transport in ["oci-archive", "docker-archive"] {
        let error = open(&format!("{transport}:{}", fifo.display())).unwrap_err();
        assert!(
            matches!(
                file_problem(&error),
                FileProblem::NotRegular { kind: "a FIFO" }
            ),
            "{transport}: {error:?}"
        );
    }
}

#[test]
fn huge_sparse_ca_file_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::File::create(&ca)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let options = clearbox_oci::registry::RegistryOptions {
        ca_file: Some(ca.clone()),
        ..clearbox_oci::registry::RegistryOptions::default()
    };
    let error = clearbox_oci::registry::RegistryClient::new(options).unwrap_err();
    assert!(
        matches!(
            file_problem(&error),
            FileProblem::TooLarge {
                size: 1_073_741_824,
                limit: 4_194_304
            }
        ),
        "{error:?}"
    );
}
