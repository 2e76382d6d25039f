//! The signature store against inputs that changed or were tampered with. The cases are a tag
//! moved after the image was read, layouts with referrers or several images, files that are
//! FIFOs or huge, manifests with too many layers, blobs missing or corrupt under an identical
//! signature, an oversized SBOM, and statements that name a digest algorithm twice.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use clearbox_attest::cosign::format::{
    ArtifactDescriptor, ArtifactManifest, MAX_ARTIFACT_LAYERS, SIMPLE_SIGNING_MEDIA_TYPE,
};
use clearbox_attest::cosign::{
    self, ArtifactStore, AttestOptions, AttestationCheckError, AttestationVerifyOptions,
    CosignError, LayoutStore, MAX_SBOM_BYTES, ReferrersMode, SbomFormat, SignOptions,
    SignatureCheckError, StoreError, VerifyOptions,
};
use clearbox_attest::intoto::{PredicateType, Statement, StatementError};
use clearbox_attest::{KeyError, PublicKey, SigningKey, dsse};
use clearbox_oci::spec::MEDIA_TYPE_OCI_MANIFEST;
use clearbox_oci::{Digest, FileProblem, Image, ImageReference, ReadOptions, RegistryReference};
use clearbox_testdata::registry::RegistryConfig;
use serde_json::{Value, json};

use crate::fixtures::{IDENTITY, REPOSITORY, Registry, blob_path, read_index, write_blob};

fn sign_options() -> SignOptions {
    SignOptions {
        identity: Some(IDENTITY.to_owned()),
        ..SignOptions::default()
    }
}

fn write_index(layout: &Path, index: &Value) {
    std::fs::write(
        layout.join("index.json"),
        serde_json::to_vec(index).unwrap(),
    )
    .unwrap();
}

/// Creates a layout with no entries.
fn empty_layout(dir: &Path) -> PathBuf {
    let layout = dir.join("layout");
    std::fs::create_dir_all(layout.join("blobs/sha256")).unwrap();
    std::fs::write(
        layout.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    write_index(&layout, &json!({"schemaVersion": 2, "manifests": []}));
    layout
}

/// Builds the config and manifest of an image without layers, made distinct by `marker`.
fn image_manifest(marker: &str) -> (Vec<u8>, Vec<u8>) {
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": MEDIA_TYPE_OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": Digest::of(config).to_string(), "size": config.len()},
        "layers": [],
        "annotations": {"test.marker": marker},
    }))
    .unwrap();
    (config.to_vec(), manifest)
}

/// Adds an image to a layout, tagged `tag` when given; returns its digest.
fn add_image(layout: &Path, marker: &str, tag: Option<&str>) -> Digest {
    let (config, manifest) = image_manifest(marker);
    write_blob(layout, &config);
    let digest = write_blob(layout, &manifest);
    let mut entry = json!({
        "mediaType": MEDIA_TYPE_OCI_MANIFEST,
        "digest": digest.to_string(),
        "size": manifest.len(),
    });
    if let Some(tag) = tag {
        entry["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
    }
    let mut index = read_index(layout);
    index["manifests"].as_array_mut().unwrap().push(entry);
    write_index(layout, &index);
    digest
}

/// Adds an OCI 1.1 referrer of `subject` as an untagged entry, listed with `artifactType` or
/// known only by the `subject` field of its manifest.
fn add_referrer(layout: &Path, subject: &Digest, listed_type: bool) {
    let config = write_blob(layout, b"{}");
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": MEDIA_TYPE_OCI_MANIFEST,
        "artifactType": "application/vnd.example.report",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config.to_string(), "size": 2},
        "layers": [],
        "subject": {"mediaType": MEDIA_TYPE_OCI_MANIFEST, "digest": subject.to_string(), "size": 1},
    }))
    .unwrap();
    let digest = write_blob(layout, &manifest);
    let mut entry = json!({
        "mediaType": MEDIA_TYPE_OCI_MANIFEST,
        "digest": digest.to_string(),
        "size": manifest.len(),
    });
    if listed_type {
        entry["artifactType"] = json!("application/vnd.example.report");
    }
    let mut index = read_index(layout);
    index["manifests"].as_array_mut().unwrap().push(entry);
    write_index(layout, &index);
}

fn open_image(reference: &str) -> Image {
    let reference: ImageReference = reference.parse().unwrap();
    Image::open(&reference, &ReadOptions::default()).unwrap()
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

/// Creates a sparse file of `size` bytes.
fn sparse_file(path: &Path, size: u64) {
    std::fs::File::create(path).unwrap().set_len(size).unwrap();
}

/// Reads the digest and parsed manifest that a tag of the layout names.
fn tagged_manifest(layout: &Path, tag: &str) -> (Digest, Value) {
    let index = read_index(layout);
    let digest: Digest = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .unwrap_or_else(|| panic!("no entry tagged `{tag}`"))["digest"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let manifest =
        serde_json::from_slice(&std::fs::read(blob_path(layout, &digest)).unwrap()).unwrap();
    (digest, manifest)
}

/// Replaces the manifest under `tag` with `manifest`.
fn retag(layout: &Path, tag: &str, manifest: &Value) {
    let bytes = serde_json::to_vec(manifest).unwrap();
    let digest = write_blob(layout, &bytes);
    let mut index = read_index(layout);
    for entry in index["manifests"].as_array_mut().unwrap() {
        if entry["annotations"]["org.opencontainers.image.ref.name"] == tag {
            entry["digest"] = json!(digest.to_string());
            entry["size"] = json!(bytes.len());
        }
    }
    write_index(layout, &index);
}

#[test]
fn layout_referrers_ignored_alike() {
    let dir = tempfile::tempdir().unwrap();
    let layout = empty_layout(dir.path());
    let image = add_image(&layout, "image", None);
    add_referrer(&layout, &image, true);
    add_referrer(&layout, &image, false);

    let reference = format!("oci:{}", layout.display());
    let opened = open_image(&reference);
    assert_eq!(opened.subject_digest.as_ref(), Some(&image));
    let store = LayoutStore::open(&layout, None).unwrap();
    assert_eq!(store.subject().digest, image);
    let store = cosign::open_store_for_image(&opened).unwrap();
    assert_eq!(store.subject().digest, image);
}

#[test]
fn layout_two_images_rejected_alike() {
    let dir = tempfile::tempdir().unwrap();
    let layout = empty_layout(dir.path());
    let first = add_image(&layout, "first", Some("v1"));
    let second = add_image(&layout, "second", None);
    add_referrer(&layout, &first, true);

    let expected = format!(
        "the layout contains 2 images: `v1` ({first}), {second} (untagged); add `:TAG` or \
         `:@DIGEST` to the reference to pick one"
    );
    let reference: ImageReference = format!("oci:{}", layout.display()).parse().unwrap();
    let reader_error = Image::open(&reference, &ReadOptions::default()).unwrap_err();
    assert_eq!(
        reader_error.to_string(),
        format!("oci:{}: {expected}", layout.display())
    );
    let store_error = LayoutStore::open(&layout, None).unwrap_err();
    assert!(
        matches!(&store_error, StoreError::ImageNotFound { reason, .. } if *reason == expected),
        "{store_error}"
    );

    // Either image by digest, in both.
    let by_digest = format!("@{second}");
    let store = LayoutStore::open(&layout, Some(&by_digest)).unwrap();
    assert_eq!(store.subject().digest, second);
    let opened = open_image(&format!("oci:{}:{by_digest}", layout.display()));
    assert_eq!(opened.manifest_digest.as_ref(), Some(&second));
}

#[test]
fn layout_tag_moved_after_read() {
    let dir = tempfile::tempdir().unwrap();
    let layout = empty_layout(dir.path());
    let read = add_image(&layout, "read", Some("latest"));
    let image = open_image(&format!("oci:{}:latest", layout.display()));

    // Move `latest` to another image; the one read stays listed, untagged.
    let moved = add_image(&layout, "moved", None);
    let mut index = read_index(&layout);
    for entry in index["manifests"].as_array_mut().unwrap() {
        if entry["digest"] == moved.to_string() {
            entry["annotations"] = json!({"org.opencontainers.image.ref.name": "latest"});
        } else {
            entry.as_object_mut().unwrap().remove("annotations");
        }
    }
    write_index(&layout, &index);

    let store = cosign::open_store_for_image(&image).unwrap();
    assert_eq!(store.subject().digest, read);
    let by_tag = LayoutStore::open(&layout, Some("latest")).unwrap();
    assert_eq!(by_tag.subject().digest, moved);

    // With the image read gone from index.json, the store refuses rather than pick another.
    let mut index = read_index(&layout);
    index["manifests"]
        .as_array_mut()
        .unwrap()
        .retain(|entry| entry["digest"] != read.to_string());
    write_index(&layout, &index);
    let error = cosign::open_store_for_image(&image).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "oci:{}:latest: index.json no longer lists the image {read} that was read; the \
             layout changed meanwhile, so run the command again",
            layout.display()
        )
    );
}

#[test]
fn registry_tag_moved_after_read() {
    let Some(registry) = Registry::with_example(RegistryConfig::default()) else {
        return;
    };
    let options = ReadOptions {
        registry: registry.options.clone(),
        ..ReadOptions::default()
    };
    let reference: ImageReference = format!("docker://{}:v1", registry.repository)
        .parse()
        .unwrap();
    let image = Image::open(&reference, &options).unwrap();
    assert_eq!(image.subject_digest.as_ref(), Some(&registry.digest));

    // Sign the image read, then push another image under the same tag.
    let key = SigningKey::generate();
    let store = cosign::open_store_for_image(&image).unwrap();
    cosign::sign(store.as_ref(), &key, &SignOptions::default()).unwrap();
    let client = registry.client();
    let (config, manifest) = image_manifest("moved");
    let repository: RegistryReference = registry.repository.parse().unwrap();
    client.push_blob_bytes(&repository, &config).unwrap();
    let tag: RegistryReference = format!("{}:v1", registry.repository).parse().unwrap();
    let moved = client
        .put_manifest(&tag, MEDIA_TYPE_OCI_MANIFEST, &manifest)
        .unwrap();
    assert_ne!(moved, registry.digest);

    // The store for the image read still verifies that image; the tag now names the other.
    let store = cosign::open_store_for_image(&image).unwrap();
    assert_eq!(store.subject().digest, registry.digest);
    let verification =
        cosign::verify_signatures(store.as_ref(), &key.public_key(), &VerifyOptions::default())
            .unwrap();
    assert_eq!(verification.image, registry.digest);
    let by_tag = registry.store(&format!("{REPOSITORY}:v1"));
    assert_eq!(by_tag.subject().digest, moved);
    let error = cosign::verify_signatures(&by_tag, &key.public_key(), &VerifyOptions::default())
        .unwrap_err();
    assert!(matches!(error, CosignError::NoSignatures { .. }), "{error}");
}

/// The file problem behind a key error.
fn key_file_problem(error: &KeyError) -> &FileProblem {
    match error {
        KeyError::Read { source, .. } => {
            FileProblem::of(source).unwrap_or_else(|| panic!("no file problem in {error:?}"))
        }
        other => panic!("expected KeyError::Read, got {other:?}"),
    }
}

#[test]
fn key_from_fifo_or_huge_file_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("key.pub");
    mkfifo(&fifo);
    let error = PublicKey::load(fifo.to_str().unwrap()).unwrap_err();
    assert!(
        matches!(
            key_file_problem(&error),
            FileProblem::NotRegular { kind: "a FIFO" }
        ),
        "{error:?}"
    );
    let error = SigningKey::load(fifo.to_str().unwrap(), || unreachable!()).unwrap_err();
    assert!(
        matches!(
            key_file_problem(&error),
            FileProblem::NotRegular { kind: "a FIFO" }
        ),
        "{error:?}"
    );

    let huge = dir.path().join("huge.key");
    sparse_file(&huge, 1 << 30);
    let error = PublicKey::load(huge.to_str().unwrap()).unwrap_err();
    assert!(
        matches!(
            key_file_problem(&error),
            FileProblem::TooLarge {
                size: 1_073_741_824,
                limit: 65_536
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        std::error::Error::source(&error).unwrap().to_string(),
        "it is 1073741824 bytes, more than the limit of 65536 bytes (64 KiB)"
    );
}

#[test]
fn layout_fifo_and_huge_files_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let layout = empty_layout(dir.path());
    add_image(&layout, "image", Some("latest"));
    let store = LayoutStore::open(&layout, Some("latest")).unwrap();
    let key = SigningKey::generate();
    let outcome = cosign::sign(&store, &key, &sign_options()).unwrap();
    let payload = Digest::of(&outcome.signed.payload);

    // The payload blob replaced by a FIFO: rejected, not waited on.
    let path = blob_path(&layout, &payload);
    std::fs::remove_file(&path).unwrap();
    mkfifo(&path);
    let error = cosign::verify_signatures(&store, &key.public_key(), &VerifyOptions::default())
        .unwrap_err();
    let CosignError::NoValidSignatures { rejected, .. } = error else {
        panic!("expected NoValidSignatures, got {error:?}");
    };
    assert_eq!(rejected.len(), 1);
    match &rejected[0].error {
        SignatureCheckError::PayloadUnreadable(StoreError::Io { source, .. }) => assert!(
            matches!(
                FileProblem::of(source),
                Some(FileProblem::NotRegular { kind: "a FIFO" })
            ),
            "{source}"
        ),
        other => panic!("expected PayloadUnreadable, got {other:?}"),
    }

    // A huge sparse payload blob: rejected at the 16 MiB payload limit before reading.
    std::fs::remove_file(&path).unwrap();
    sparse_file(&path, 1 << 30);
    let error = cosign::verify_signatures(&store, &key.public_key(), &VerifyOptions::default())
        .unwrap_err();
    let CosignError::NoValidSignatures { rejected, .. } = error else {
        panic!("expected NoValidSignatures, got {error:?}");
    };
    assert!(
        matches!(
            &rejected[0].error,
            SignatureCheckError::PayloadUnreadable(StoreError::TooLarge {
                size: 1_073_741_824,
                limit: 16_777_216,
                ..
            })
        ),
        "{:?}",
        rejected[0].error
    );

    // A huge sparse index.json: rejected at the 4 MiB manifest limit.
    std::fs::remove_file(layout.join("index.json")).unwrap();
    sparse_file(&layout.join("index.json"), 1 << 30);
    let error = LayoutStore::open(&layout, Some("latest")).unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::TooLarge {
                size: 1_073_741_824,
                limit: 4_194_304,
                ..
            }
        ),
        "{error:?}"
    );
}

/// A signature layer of the store's image by `key`, as `sign` writes it.
fn signature_layer(store: &LayoutStore, key: &SigningKey) -> ArtifactDescriptor {
    let outcome = cosign::sign(store, key, &sign_options()).unwrap();
    let mut layer = ArtifactDescriptor::of(SIMPLE_SIGNING_MEDIA_TYPE, &outcome.signed.payload);
    layer.annotations.insert(
        "dev.cosignproject.cosign/signature".to_owned(),
        outcome.signed.signature.to_base64(),
    );
    layer
}

/// Puts a signature manifest of `count` copies of `layer` under the image's `.sig` tag.
fn put_signature_manifest(
    layout: &Path,
    store: &LayoutStore,
    layer: &ArtifactDescriptor,
    count: usize,
) {
    let (manifest, config) = ArtifactManifest::legacy(vec![layer.clone(); count]);
    write_blob(layout, &config);
    let manifest: Value = serde_json::from_slice(&manifest.to_json()).unwrap();
    retag(
        layout,
        &format!("sha256-{}.sig", store.subject().digest.hex()),
        &manifest,
    );
}

#[test]
fn signature_manifest_layer_limit() {
    let dir = tempfile::tempdir().unwrap();
    let layout = empty_layout(dir.path());
    add_image(&layout, "image", Some("latest"));
    let store = LayoutStore::open(&layout, Some("latest")).unwrap();
    let key = SigningKey::generate();
    let layer = signature_layer(&store, &key);

    // One layer over the limit: the manifest is rejected, not walked.
    put_signature_manifest(&layout, &store, &layer, MAX_ARTIFACT_LAYERS + 1);
    let error = cosign::verify_signatures(&store, &key.public_key(), &VerifyOptions::default())
        .unwrap_err();
    let CosignError::NoValidSignatures { rejected, .. } = error else {
        panic!("expected NoValidSignatures, got {error:?}");
    };
    assert_eq!(rejected.len(), 1);
    assert!(
        matches!(&rejected[0].error, SignatureCheckError::InvalidManifest { reason } if reason == "the manifest lists 1001 layers, more than the limit of 1000"),
        "{:?}",
        rejected[0].error
    );

    // At the limit, it verifies, but another signature cannot be appended.
    put_signature_manifest(&layout, &store, &layer, MAX_ARTIFACT_LAYERS);
    let verification =
        cosign::verify_signatures(&store, &key.public_key(), &VerifyOptions::default()).unwrap();
    assert_eq!(verification.verified.len(), MAX_ARTIFACT_LAYERS);
    let other = SigningKey::generate();
    let error = cosign::sign(&store, &other, &sign_options()).unwrap_err();
    let tag = format!("sha256-{}.sig", store.subject().digest.hex());
    assert!(
        matches!(&error, CosignError::TooManyLayers { location, limit: 1000 } if *location == format!("oci:{}:{tag}", layout.display())),
        "{error:?}"
    );
}

#[test]
fn sign_again_restores_payload_blob() {
    let dir = tempfile::tempdir().unwrap();
    let layout = empty_layout(dir.path());
    add_image(&layout, "image", Some("latest"));
    let store = LayoutStore::open(&layout, Some("latest")).unwrap();
    let key = SigningKey::generate();
    let first = cosign::sign(&store, &key, &sign_options()).unwrap();
    let payload = first.signed.payload.clone();
    let path = blob_path(&layout, &Digest::of(&payload));

    for damage in ["missing", "corrupt"] {
        match damage {
            "missing" => std::fs::remove_file(&path).unwrap(),
            _ => std::fs::write(&path, vec![b'x'; payload.len()]).unwrap(),
        }
        let again = cosign::sign(&store, &key, &sign_options()).unwrap();
        assert!(
            again.attach.added,
            "{damage}: the blob must be written again"
        );
        assert_eq!(again.attach.manifest, first.attach.manifest, "{damage}");
        assert_eq!(std::fs::read(&path).unwrap(), payload, "{damage}");
        let verification =
            cosign::verify_signatures(&store, &key.public_key(), &VerifyOptions::default())
                .unwrap();
        assert_eq!(verification.verified.len(), 1, "{damage}");
    }

    // Intact now, so signing again writes nothing.
    let again = cosign::sign(&store, &key, &sign_options()).unwrap();
    assert!(!again.attach.added);
}

#[test]
fn layout_blob_with_wrong_content_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let layout = empty_layout(dir.path());
    add_image(&layout, "image", Some("latest"));
    let store = LayoutStore::open(&layout, Some("latest")).unwrap();
    let sbom = br#"{"spdxVersion":"SPDX-2.3"}"#;
    let path = blob_path(&layout, &Digest::of(sbom));
    cosign::attach_sbom(&store, sbom, SbomFormat::SpdxJson, ReferrersMode::Legacy).unwrap();

    // Same size and name, other content: the next write must replace it, not keep it.
    std::fs::write(&path, vec![b' '; sbom.len()]).unwrap();
    cosign::attach_sbom(&store, sbom, SbomFormat::SpdxJson, ReferrersMode::Legacy).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), sbom);
    let downloaded = cosign::download_sbom(&store).unwrap();
    assert_eq!(downloaded.len(), 1);
    assert_eq!(downloaded[0].bytes, sbom);
}

#[test]
fn sbom_over_limit_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let layout = empty_layout(dir.path());
    add_image(&layout, "image", Some("latest"));
    let store = LayoutStore::open(&layout, Some("latest")).unwrap();
    let sbom = vec![b' '; usize::try_from(MAX_SBOM_BYTES).unwrap() + 1];
    let error = cosign::attach_sbom(&store, &sbom, SbomFormat::SpdxJson, ReferrersMode::Legacy)
        .unwrap_err();
    assert!(
        matches!(
            error,
            CosignError::SbomTooLarge {
                size: 67_108_865,
                limit: 67_108_864
            }
        ),
        "{error:?}"
    );
    let index = read_index(&layout);
    assert_eq!(index["manifests"].as_array().unwrap().len(), 1);
}

/// A statement about `subject` whose digest object names `sha256` twice: first `decoy`, then
/// the subject's own digest, which a parser keeping the last value would accept.
fn statement_with_repeated_sha256(decoy: &Digest, subject: &Digest) -> String {
    format!(
        r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"{IDENTITY}","digest":{{"sha256":"{}","sha256":"{}"}}}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{{}}}}"#,
        decoy.hex(),
        subject.hex()
    )
}

#[test]
fn statement_repeated_sha256_rejected() {
    let decoy = Digest::of(b"decoy");
    let subject = Digest::of(b"subject");
    let text = statement_with_repeated_sha256(&decoy, &subject);
    let error = Statement::from_json(text.as_bytes()).unwrap_err();
    assert!(
        matches!(&error, StatementError::InvalidJson(_)),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("the subject digest names `sha256` twice"),
        "{message}"
    );
}

#[test]
fn attestation_repeated_sha256_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let layout = empty_layout(dir.path());
    add_image(&layout, "image", Some("latest"));
    let store = LayoutStore::open(&layout, Some("latest")).unwrap();
    let key = SigningKey::generate();
    let options = AttestOptions {
        subject_name: Some(IDENTITY.to_owned()),
        ..AttestOptions::default()
    };
    cosign::attest(
        &store,
        &key,
        &PredicateType::SlsaProvenanceV1,
        json!({}),
        &options,
    )
    .unwrap();

    // Replace the envelope with one, validly signed, over the repeated-key statement.
    let tag = format!("sha256-{}.att", store.subject().digest.hex());
    let (_, mut manifest) = tagged_manifest(&layout, &tag);
    let statement = statement_with_repeated_sha256(&Digest::of(b"decoy"), &store.subject().digest);
    let envelope = dsse::sign("application/vnd.in-toto+json", statement.as_bytes(), &key).unwrap();
    assert_eq!(
        STANDARD.decode(&envelope.payload).unwrap(),
        statement.as_bytes()
    );
    let bytes = envelope.to_json();
    let digest = write_blob(&layout, &bytes);
    manifest["layers"][0]["digest"] = json!(digest.to_string());
    manifest["layers"][0]["size"] = json!(bytes.len());
    retag(&layout, &tag, &manifest);

    let error = cosign::verify_attestations(
        &store,
        &key.public_key(),
        &AttestationVerifyOptions::default(),
    )
    .unwrap_err();
    let CosignError::NoValidAttestations { rejected, .. } = error else {
        panic!("expected NoValidAttestations, got {error:?}");
    };
    assert_eq!(rejected.len(), 1);
    match &rejected[0].error {
        AttestationCheckError::InvalidStatement(StatementError::InvalidJson(source)) => assert!(
            source
                .to_string()
                .contains("the subject digest names `sha256` twice"),
            "{source}"
        ),
        other => panic!("expected InvalidStatement, got {other:?}"),
    }
}
