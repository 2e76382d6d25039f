//! Every transport on real third-party images from the test corpus and on archives made here.

use clearbox_oci::OciError;

use crate::support::{Layer, Store, contents, corpus, open, scan, write_layout};

#[test]
fn docker_archive_whiteout_image_from_corpus() {
    let Some(corpus) = corpus() else { return };
    let tar = corpus.join("images/go-containerregistry/pkg/v1/mutate/testdata/whiteout_image.tar");
    let reference = format!("docker-archive:{}", tar.display());
    let image = open(&reference).unwrap();
    assert_eq!(image.tags, ["bazel/pkg/v1/mutate:whiteout_image"]);
    assert_eq!(image.manifest_digest, None);
    assert_eq!(
        image.config_digest.as_ref().unwrap().to_string(),
        "sha256:decb630649c3e1256345d416b228d6c3ceb387a55120ad44dc3ec992976d28b9"
    );
    let scan = scan(&reference).unwrap();
    let files = contents(&scan);
    // Layer 1 whites out foo.txt from layer 0.
    assert!(files.contains_key("bar.txt"));
    assert!(!files.contains_key("foo.txt"));
    assert_eq!(scan.layers.len(), 3);
    assert_eq!(
        scan.layers[1].diff_id.to_string(),
        "sha256:88d2a7b2ae6dddeb3490c9370cfc070aaa1aab9c22a6fb03523787d8b21c17db"
    );
}

#[test]
fn docker_archive_in_oci_format_from_docker_25() {
    let Some(corpus) = corpus() else { return };
    let tar =
        corpus.join("images/go-containerregistry/pkg/v1/tarball/testdata/hello-world-v25.tar");
    let scan = scan(&format!("docker-archive:{}", tar.display())).unwrap();
    let hello = scan.tree.get("hello").unwrap();
    assert!(hello.is_file());
    assert!(hello.is_executable());
}

#[test]
fn docker_archive_with_several_images_needs_a_selector() {
    let Some(corpus) = corpus() else { return };
    let tar = corpus.join("images/go-containerregistry/pkg/v1/tarball/testdata/test_bundle.tar");
    let err = open(&format!("docker-archive:{}", tar.display())).unwrap_err();
    assert!(
        err.to_string()
            .contains("pick one with `:REPO:TAG` or `:@INDEX`"),
        "{err}"
    );
    let by_tag = open(&format!("docker-archive:{}:test_image_2", tar.display())).unwrap();
    assert_eq!(by_tag.tags, ["test_image_2"]);
    let by_index = open(&format!("docker-archive:{}:@0", tar.display())).unwrap();
    assert_eq!(by_index.config_digest, by_tag.config_digest);
}

#[test]
fn gzipped_docker_archive_alpine_311() {
    let Some(corpus) = corpus() else { return };
    let tar = corpus.join("images/trivy/pkg/fanal/test/testdata/alpine-311.tar.gz");
    let scan = scan(&format!("docker-archive:{}", tar.display())).unwrap();
    assert!(scan.tree.get("lib/apk/db/installed").unwrap().is_file());
    let (resolved, _) = scan.tree.resolve("bin/sh").unwrap();
    assert_eq!(resolved, "bin/busybox");
}

#[test]
fn oci_layout_without_tags_from_corpus() {
    let Some(corpus) = corpus() else { return };
    let dir = corpus.join("images/trivy/pkg/fanal/test/testdata/test.oci");
    let image = open(&format!("oci:{}", dir.display())).unwrap();
    assert_eq!(
        image.manifest_digest.unwrap().to_string(),
        "sha256:afb744871f99e0ff8e6f253244836ed34c5d805fdb096d3a205ffaf5e9073cab"
    );
    let err = open(&format!("oci:{}:nope", dir.display())).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "oci:{}:nope: no image is tagged `nope`; tags present: none",
            dir.display()
        )
    );
}

#[test]
fn broken_layouts_from_corpus_give_clear_errors() {
    let Some(corpus) = corpus() else { return };
    let base = corpus.join("images/trivy/pkg/fanal/test/testdata");
    let open_error = |name: &str| -> String {
        let dir = base.join(name);
        match open(&format!("oci:{}", dir.display())) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{name} opened"),
        }
    };
    assert!(
        open_error("test_bad_index_json.oci").starts_with("invalid index.json of oci:"),
        "{}",
        open_error("test_bad_index_json.oci")
    );
    assert_eq!(
        open_error("test_index_json_dir.oci"),
        format!(
            "`{}` is not a regular file",
            base.join("test_index_json_dir.oci/index.json").display()
        )
    );
    for name in ["test_no_valid_manifests.oci", "test_invalid_oci_image.oci"] {
        let message = open_error(name);
        assert!(!message.is_empty(), "{name}");
    }
}

#[test]
fn multi_platform_index_picks_the_platform() {
    let Some(corpus) = corpus() else { return };
    let dir = corpus.join("images/stereoscope/pkg/image/oci/testdata/multiplatform_oci_dir");
    let image = open(&format!("oci:{}", dir.display()));
    match image {
        Ok(image) => assert_eq!(image.config.architecture, "amd64"),
        Err(OciError::InvalidImage(message)) => {
            assert!(message.contains("platforms:"), "{message}");
        }
        Err(other) => panic!("{other}"),
    }
}

#[test]
fn oci_archive_made_from_a_layout() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    let tar = Layer::new().file("usr/share/x", b"hello", 0o644).bytes();
    let digest = write_layout(&layout, &[(tar, Store::Gzip)]);
    let archive = dir.path().join("image.oci.tar");
    let mut builder = tar::Builder::new(std::fs::File::create(&archive).unwrap());
    builder.append_dir_all(".", &layout).unwrap();
    builder.finish().unwrap();
    drop(builder);

    let reference = format!("oci-archive:{}:latest", archive.display());
    let image = open(&reference).unwrap();
    assert_eq!(image.manifest_digest.as_ref(), Some(&digest));
    let scan = scan(&reference).unwrap();
    assert_eq!(contents(&scan)["usr/share/x"], b"hello");
}

#[test]
fn missing_layout_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let err = open(&format!("oci:{}", dir.path().display())).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "`{}` is not an OCI image layout: index.json is missing",
            dir.path().display()
        )
    );
}

#[test]
fn cosign_tags_do_not_make_an_untagged_layout_ambiguous() {
    let dir = tempfile::tempdir().unwrap();
    let digest = write_layout(
        dir.path(),
        &[(Layer::new().file("a", b"a", 0o644).bytes(), Store::Gzip)],
    );
    // Add a second index entry tagged as cosign tags a signature.
    let index_path = dir.path().join("index.json");
    let mut index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    let mut sig = index["manifests"][0].clone();
    sig["annotations"]["org.opencontainers.image.ref.name"] =
        serde_json::Value::String(format!("sha256-{}.sig", digest.hex()));
    index["manifests"].as_array_mut().unwrap().push(sig);
    std::fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();
    let image = open(&format!("oci:{}", dir.path().display())).unwrap();
    assert_eq!(image.manifest_digest.as_ref(), Some(&digest));
    assert_eq!(image.source_tags.len(), 2);
}

/// A layout written by `cosign save` marks its entries with `kind` instead of tags; the
/// attestation entry is not a second image.
#[test]
fn cosign_saved_layout_without_tags_opens_the_image() {
    let Some(corpus) = corpus() else { return };
    let layout = corpus.join(
        "attest/slsa-verifier/cli-testdata/gha_generic_container/v2.1.0/container_workflow_dispatch",
    );
    let image = open(&format!("oci:{}", layout.display())).unwrap();
    // The index's linux/amd64 manifest, not the attestation manifest.
    assert_eq!(
        image
            .manifest_digest
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("sha256:d1fc0de9c6a33e502c488221644de1736c53d8ddb59b0e41b4946fb26af50e69")
    );
}
