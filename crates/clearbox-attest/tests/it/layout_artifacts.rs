//! Signatures, attestations and SBOMs in OCI layouts: the round trip, merging, the form that
//! `cosign verify --local-image` reads, and every tampering case rejected with its own error.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use clearbox_attest::cosign::{
    self, ArtifactStore, AttestOptions, AttestationCheckError, AttestationVerifyOptions,
    CosignError, ReferrerSource, ReferrersMode, SbomFormat, SignOptions, SignatureCheckError,
    StoreError, VerifyOptions,
};
use clearbox_attest::dsse::Envelope;
use clearbox_attest::intoto::{PredicateType, StatementVersion};
use clearbox_attest::{KeyError, SigningKey};
use clearbox_oci::{Digest, Image, ImageReference, ReadOptions};
use serde_json::{Value, json};

use crate::fixtures::{
    IDENTITY, add_tiny_image, blob_path, example_layout, layout_store, read_index, rewrite_file,
    tagged_digest, write_blob,
};
use crate::{attest_corpus, run_failing, run_ok, tool, write};

fn sign_options() -> SignOptions {
    SignOptions {
        identity: Some(IDENTITY.to_owned()),
        ..SignOptions::default()
    }
}

fn attest_options() -> AttestOptions {
    AttestOptions {
        subject_name: Some(IDENTITY.to_owned()),
        ..AttestOptions::default()
    }
}

fn slsa_v1() -> Value {
    json!({
        "buildDefinition": {"buildType": "https://example.com/build/v1", "externalParameters": {}},
        "runDetails": {"builder": {"id": "https://example.com/builder"}}
    })
}

/// The signature check errors of a verification that found no valid signature.
fn signature_rejections(error: CosignError) -> Vec<SignatureCheckError> {
    match error {
        CosignError::NoValidSignatures { rejected, .. } => {
            rejected.into_iter().map(|r| r.error).collect()
        }
        other => panic!("expected NoValidSignatures, got {other:?}"),
    }
}

fn attestation_rejections(error: CosignError) -> Vec<AttestationCheckError> {
    match error {
        CosignError::NoValidAttestations { rejected, .. } => {
            rejected.into_iter().map(|r| r.error).collect()
        }
        other => panic!("expected NoValidAttestations, got {other:?}"),
    }
}

/// The manifest under a tag of the layout, parsed.
fn tagged_manifest(layout: &Path, tag: &str) -> Value {
    let digest = tagged_digest(layout, tag);
    serde_json::from_slice(&std::fs::read(blob_path(layout, &digest)).unwrap()).unwrap()
}

/// Replaces the manifest under `tag` with `manifest`, as an attacker with write access would.
fn retag_manifest(layout: &Path, tag: &str, manifest: &Value) {
    let bytes = serde_json::to_vec(manifest).unwrap();
    let digest = write_blob(layout, &bytes);
    let mut index = read_index(layout);
    for entry in index["manifests"].as_array_mut().unwrap() {
        if entry["annotations"]["org.opencontainers.image.ref.name"] == tag {
            entry["digest"] = json!(digest.to_string());
            entry["size"] = json!(bytes.len());
        }
    }
    std::fs::write(
        layout.join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();
}

#[test]
fn layout_sign_verify_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = example_layout(dir.path()) else {
        return;
    };
    let image = tagged_digest(&layout, "latest");
    let key = SigningKey::generate();
    let store = layout_store(&layout, Some("latest"));

    let outcome = cosign::sign(&store, &key, &sign_options()).unwrap();
    assert!(outcome.attach.added);
    assert_eq!(outcome.attach.mode, ReferrersMode::Legacy);
    let verification =
        cosign::verify_signatures(&store, &key.public_key(), &VerifyOptions::default()).unwrap();
    assert_eq!(verification.image, image);
    assert_eq!(verification.verified.len(), 1);
    assert!(verification.rejected.is_empty());
    let payload = &verification.verified[0].payload;
    assert_eq!(payload.manifest_digest(), image.to_string());
    assert_eq!(payload.docker_reference(), IDENTITY);
    assert!(!verification.identity_checked);
    assert_eq!(verification.not_checked.len(), 2);

    // The image keeps its tag and gains cosign's marker; the signature has both names.
    let index = read_index(&layout);
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        entries[0]["annotations"]["org.opencontainers.image.ref.name"],
        "latest"
    );
    assert_eq!(
        entries[0]["annotations"]["kind"],
        "dev.cosignproject.cosign/image"
    );
    let tag = format!("sha256-{}.sig", image.hex());
    assert_eq!(
        entries[1]["annotations"]["org.opencontainers.image.ref.name"],
        tag.as_str()
    );
    assert_eq!(
        entries[1]["annotations"]["kind"],
        "dev.cosignproject.cosign/sigs"
    );

    // The image still opens by tag and without one.
    for reference in [
        format!("oci:{}:latest", layout.display()),
        format!("oci:{}", layout.display()),
    ] {
        let reference: ImageReference = reference.parse().unwrap();
        let opened = Image::open(&reference, &ReadOptions::default()).unwrap();
        assert_eq!(opened.manifest_digest, Some(image.clone()), "{reference}");
    }
    // And the store opens without a tag too.
    assert_eq!(layout_store(&layout, None).subject().digest, image);
}

#[test]
fn layout_identity_required_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = example_layout(dir.path()) else {
        return;
    };
    let key = SigningKey::generate();
    let store = layout_store(&layout, Some("latest"));

    // A layout tagged `latest` names no repository.
    let error = cosign::sign(&store, &key, &SignOptions::default()).unwrap_err();
    assert!(
        matches!(error, CosignError::IdentityRequired { .. }),
        "{error:?}"
    );

    cosign::sign(&store, &key, &sign_options()).unwrap();
    let required = |identity: &str| VerifyOptions {
        identity: Some(identity.to_owned()),
        ..VerifyOptions::default()
    };
    let verification =
        cosign::verify_signatures(&store, &key.public_key(), &required(IDENTITY)).unwrap();
    assert!(verification.identity_checked);
    let error = cosign::verify_signatures(
        &store,
        &key.public_key(),
        &required("registry.example/other"),
    )
    .unwrap_err();
    let rejections = signature_rejections(error);
    assert!(
        matches!(&rejections[..], [SignatureCheckError::IdentityMismatch { claimed, .. }] if claimed == IDENTITY),
        "{rejections:?}"
    );
}

#[test]
fn layout_signing_again_appends() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = example_layout(dir.path()) else {
        return;
    };
    let store = layout_store(&layout, Some("latest"));
    let first = SigningKey::generate();
    let second = SigningKey::generate();
    let tag = format!("sha256-{}.sig", store.subject().digest.hex());

    cosign::sign(&store, &first, &sign_options()).unwrap();
    cosign::sign(&store, &second, &sign_options()).unwrap();
    assert_eq!(
        tagged_manifest(&layout, &tag)["layers"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    for key in [&first, &second] {
        let verification =
            cosign::verify_signatures(&store, &key.public_key(), &VerifyOptions::default())
                .unwrap();
        assert_eq!(verification.verified.len(), 1);
        assert_eq!(verification.rejected.len(), 1);
    }

    // The same key and payload again add nothing; other annotations make a new payload.
    let again = cosign::sign(&store, &first, &sign_options()).unwrap();
    assert!(!again.attach.added);
    assert_eq!(
        tagged_manifest(&layout, &tag)["layers"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let annotated = SignOptions {
        annotations: BTreeMap::from([("team".to_owned(), "ml".to_owned())]),
        ..sign_options()
    };
    assert!(
        cosign::sign(&store, &first, &annotated)
            .unwrap()
            .attach
            .added
    );
    assert_eq!(
        tagged_manifest(&layout, &tag)["layers"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // Only one index entry names the signatures.
    let index = read_index(&layout);
    let sig_entries = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["annotations"]["kind"] == "dev.cosignproject.cosign/sigs")
        .count();
    assert_eq!(sig_entries, 1);
}

#[test]
fn layout_required_annotations() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = example_layout(dir.path()) else {
        return;
    };
    let store = layout_store(&layout, Some("latest"));
    let key = SigningKey::generate();
    let options = SignOptions {
        annotations: BTreeMap::from([("team".to_owned(), "ml".to_owned())]),
        ..sign_options()
    };
    cosign::sign(&store, &key, &options).unwrap();

    let requiring = |name: &str, value: &str| VerifyOptions {
        annotations: BTreeMap::from([(name.to_owned(), value.to_owned())]),
        ..VerifyOptions::default()
    };
    let verification =
        cosign::verify_signatures(&store, &key.public_key(), &requiring("team", "ml")).unwrap();
    let annotations = verification.verified[0].payload.annotations().unwrap();
    assert_eq!(annotations["team"], "ml");

    let error = cosign::verify_signatures(&store, &key.public_key(), &requiring("team", "web"))
        .unwrap_err();
    let rejections = signature_rejections(error);
    assert!(
        matches!(&rejections[..], [SignatureCheckError::AnnotationMismatch { found: Some(found), .. }] if found == "ml"),
        "{rejections:?}"
    );
    let error = cosign::verify_signatures(&store, &key.public_key(), &requiring("build", "42"))
        .unwrap_err();
    assert_eq!(
        error.to_string().split(": ").last().unwrap(),
        "annotation `build` is missing, required `42`"
    );
}

#[test]
fn layout_tagged_identity_compared_whole() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = example_layout(dir.path()) else {
        return;
    };
    let key = SigningKey::generate();
    let store = layout_store(&layout, Some("latest"));
    let tagged = "registry.example/app/s3:v1";
    let options = SignOptions {
        identity: Some(tagged.to_owned()),
        ..SignOptions::default()
    };
    cosign::sign(&store, &key, &options).unwrap();
    let required = |identity: &str| VerifyOptions {
        identity: Some(identity.to_owned()),
        ..VerifyOptions::default()
    };

    // The same tag, or the repository alone, is satisfied.
    for identity in [tagged, "registry.example/app/s3"] {
        let verification =
            cosign::verify_signatures(&store, &key.public_key(), &required(identity)).unwrap();
        assert_eq!(verification.verified.len(), 1, "{identity}");
    }

    // Another tag is not, and the claim is quoted as stored.
    let error = cosign::verify_signatures(
        &store,
        &key.public_key(),
        &required("registry.example/app/s3:v2"),
    )
    .unwrap_err();
    let rejections = signature_rejections(error);
    assert_eq!(rejections.len(), 1);
    assert_eq!(
        rejections[0].to_string(),
        "the signature claims `registry.example/app/s3:v1`, not the required identity \
         `registry.example/app/s3:v2`"
    );
}

#[test]
fn layout_invalid_identity_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = example_layout(dir.path()) else {
        return;
    };
    let key = SigningKey::generate();
    let store = layout_store(&layout, Some("latest"));
    let options = SignOptions {
        identity: Some("https://registry.example/app".to_owned()),
        ..SignOptions::default()
    };
    let error = cosign::sign(&store, &key, &options).unwrap_err();
    assert_eq!(
        error.to_string(),
        "`https://registry.example/app` is not a valid identity: it has a URL scheme; write \
         REGISTRY/REPO without `https://`"
    );
    let required = VerifyOptions {
        identity: Some("registry.example/App".to_owned()),
        ..VerifyOptions::default()
    };
    let error = cosign::verify_signatures(&store, &key.public_key(), &required).unwrap_err();
    assert!(
        matches!(error, CosignError::InvalidIdentity(_)),
        "{error:?}"
    );
}

#[test]
fn layout_number_annotation_named_as_number() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = example_layout(dir.path()) else {
        return;
    };
    let store = layout_store(&layout, Some("latest"));
    let key = SigningKey::generate();
    let options = SignOptions {
        annotations: BTreeMap::from([("foo".to_owned(), "1".to_owned())]),
        ..sign_options()
    };
    let signed = cosign::sign(&store, &key, &options).unwrap().signed;
    let tag = format!("sha256-{}.sig", store.subject().digest.hex());

    // Another signer's payload with the JSON number 1, signed by the same key.
    let payload = String::from_utf8(signed.payload)
        .unwrap()
        .replace(r#""foo":"1""#, r#""foo":1"#);
    assert!(payload.contains(r#""foo":1"#), "{payload}");
    let digest = write_blob(&layout, payload.as_bytes());
    let mut manifest = tagged_manifest(&layout, &tag);
    manifest["layers"][0]["digest"] = json!(digest.to_string());
    manifest["layers"][0]["size"] = json!(payload.len());
    manifest["layers"][0]["annotations"]["dev.cosignproject.cosign/signature"] =
        json!(key.sign(payload.as_bytes()).unwrap().to_base64());
    retag_manifest(&layout, &tag, &manifest);

    let required = VerifyOptions {
        annotations: BTreeMap::from([("foo".to_owned(), "1".to_owned())]),
        ..VerifyOptions::default()
    };
    let error = cosign::verify_signatures(&store, &key.public_key(), &required).unwrap_err();
    let rejections = signature_rejections(error);
    assert_eq!(rejections.len(), 1);
    assert_eq!(
        rejections[0].to_string(),
        "annotation `foo` is the JSON number `1`, required the string `1`; -a matches string \
         values only"
    );
}

#[test]
fn layout_no_signature() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = example_layout(dir.path()) else {
        return;
    };
    let store = layout_store(&layout, Some("latest"));
    let error = cosign::verify_signatures(
        &store,
        &SigningKey::generate().public_key(),
        &VerifyOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(error, CosignError::NoSignatures { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.starts_with("no signatures found for oci:"),
        "{message}"
    );
    assert!(message.contains(".sig`"), "{message}");
}

#[test]
fn layout_wrong_key_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = example_layout(dir.path()) else {
        return;
    };
    let store = layout_store(&layout, Some("latest"));
    cosign::sign(&store, &SigningKey::generate(), &sign_options()).unwrap();
    let other = SigningKey::generate().public_key();
    let error = cosign::verify_signatures(&store, &other, &VerifyOptions::default()).unwrap_err();
    let message = error.to_string();
    let rejections = signature_rejections(error);
    assert!(
        matches!(&rejections[..], [SignatureCheckError::SignatureMismatch { fingerprint, source: KeyError::SignatureMismatch }] if *fingerprint == other.fingerprint()),
        "{rejections:?}"
    );
    assert!(
        message.starts_with("none of the 1 signature(s) of oci:"),
        "{message}"
    );
    assert!(message.contains("layer 0 of sha256:"), "{message}");
}

#[test]
fn layout_payload_blob_changed() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = example_layout(dir.path()) else {
        return;
    };
    let store = layout_store(&layout, Some("latest"));
    let key = SigningKey::generate();
    let signed = cosign::sign(&store, &key, &sign_options()).unwrap().signed;

    // The payload file now names another digest; the manifest still names the old bytes.
    let changed = String::from_utf8(signed.payload.clone())
        .unwrap()
        .replacen("sha256:", "sha256:0", 1);
    let path = blob_path(&layout, &Digest::of(&signed.payload));
    rewrite_file(&path, changed.as_bytes());
    let error = cosign::verify_signatures(&store, &key.public_key(), &VerifyOptions::default())
        .unwrap_err();
    let rejections = signature_rejections(error);
    assert!(
        matches!(&rejections[..], [SignatureCheckError::PayloadDigestMismatch { expected, .. }] if *expected == Digest::of(&signed.payload)),
        "{rejections:?}"
    );
}

#[test]
fn layout_payload_changed_with_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = example_layout(dir.path()) else {
        return;
    };
    let store = layout_store(&layout, Some("latest"));
    let key = SigningKey::generate();
    let signed = cosign::sign(&store, &key, &sign_options()).unwrap().signed;
    let tag = format!("sha256-{}.sig", store.subject().digest.hex());

    // A consistent manifest for changed payload bytes, with the old signature.
    let changed = String::from_utf8(signed.payload)
        .unwrap()
        .replace("registry.example", "evil.example");
    let digest = write_blob(&layout, changed.as_bytes());
    let mut manifest = tagged_manifest(&layout, &tag);
    manifest["layers"][0]["digest"] = json!(digest.to_string());
    manifest["layers"][0]["size"] = json!(changed.len());
    retag_manifest(&layout, &tag, &manifest);
    let error = cosign::verify_signatures(&store, &key.public_key(), &VerifyOptions::default())
        .unwrap_err();
    let rejections = signature_rejections(error);
    assert!(
        matches!(
            &rejections[..],
            [SignatureCheckError::SignatureMismatch { .. }]
        ),
        "{rejections:?}"
    );
}

#[test]
fn layout_signature_byte_flipped() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = example_layout(dir.path()) else {
        return;
    };
    let store = layout_store(&layout, Some("latest"));
    let key = SigningKey::generate();
    cosign::sign(&store, &key, &sign_options()).unwrap();
    let tag = format!("sha256-{}.sig", store.subject().digest.hex());

    let mut manifest = tagged_manifest(&layout, &tag);
    let annotation =
        &mut manifest["layers"][0]["annotations"]["dev.cosignproject.cosign/signature"];
    let mut signature = STANDARD.decode(annotation.as_str().unwrap()).unwrap();
    let last = signature.len() - 1;
    signature[last] ^= 0x01;
    *annotation = json!(STANDARD.encode(&signature));
    retag_manifest(&layout, &tag, &manifest);
    let error = cosign::verify_signatures(&store, &key.public_key(), &VerifyOptions::default())
        .unwrap_err();
    let rejections = signature_rejections(error);
    assert!(
        matches!(
            &rejections[..],
            [SignatureCheckError::SignatureMismatch { .. }]
        ),
        "{rejections:?}"
    );

    // A signature that is not base64 at all, and one removed.
    manifest["layers"][0]["annotations"]["dev.cosignproject.cosign/signature"] =
        json!("not base64!");
    retag_manifest(&layout, &tag, &manifest);
    let error = cosign::verify_signatures(&store, &key.public_key(), &VerifyOptions::default())
        .unwrap_err();
    let rejections = signature_rejections(error);
    assert!(
        matches!(
            &rejections[..],
            [SignatureCheckError::InvalidSignatureEncoding { .. }]
        ),
        "{rejections:?}"
    );
    manifest["layers"][0]["annotations"] = json!({});
    retag_manifest(&layout, &tag, &manifest);
    let error = cosign::verify_signatures(&store, &key.public_key(), &VerifyOptions::default())
        .unwrap_err();
    let rejections = signature_rejections(error);
    assert!(
        matches!(&rejections[..], [SignatureCheckError::MissingSignature]),
        "{rejections:?}"
    );
}

#[test]
fn layout_signature_of_other_image_copied() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = example_layout(dir.path()) else {
        return;
    };
    let other = add_tiny_image(&layout, "other");
    let key = SigningKey::generate();
    let other_store = layout_store(&layout, Some("other"));
    cosign::sign(&other_store, &key, &sign_options()).unwrap();

    // Copy the other image's signature manifest to this image's tag.
    let store = layout_store(&layout, Some("latest"));
    let manifest = tagged_manifest(&layout, &format!("sha256-{}.sig", other.hex()));
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let digest = write_blob(&layout, &bytes);
    let mut index = read_index(&layout);
    index["manifests"].as_array_mut().unwrap().push(json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": digest.to_string(),
        "size": bytes.len(),
        "annotations": {"org.opencontainers.image.ref.name": format!("sha256-{}.sig", store.subject().digest.hex())},
    }));
    std::fs::write(
        layout.join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();

    let error = cosign::verify_signatures(&store, &key.public_key(), &VerifyOptions::default())
        .unwrap_err();
    let rejections = signature_rejections(error);
    assert!(
        matches!(&rejections[..], [SignatureCheckError::ManifestDigestMismatch { claimed, expected }] if *claimed == other.to_string() && *expected == store.subject().digest),
        "{rejections:?}"
    );
    // The other image's own signature still verifies.
    cosign::verify_signatures(&other_store, &key.public_key(), &VerifyOptions::default()).unwrap();
}

#[test]
fn layout_signature_manifest_corrupted() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = example_layout(dir.path()) else {
        return;
    };
    let store = layout_store(&layout, Some("latest"));
    let key = SigningKey::generate();
    let outcome = cosign::sign(&store, &key, &sign_options()).unwrap();

    // The manifest file no longer hashes to the digest index.json names.
    let path = blob_path(&layout, &outcome.attach.manifest);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.push(b' ');
    rewrite_file(&path, &bytes);
    let error = cosign::verify_signatures(&store, &key.public_key(), &VerifyOptions::default())
        .unwrap_err();
    assert!(
        matches!(&error, CosignError::Store(StoreError::DigestMismatch { expected, .. }) if *expected == outcome.attach.manifest),
        "{error:?}"
    );
}

#[test]
fn layout_attest_verify_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = example_layout(dir.path()) else {
        return;
    };
    let store = layout_store(&layout, Some("latest"));
    let key = SigningKey::generate();

    cosign::attest(
        &store,
        &key,
        &PredicateType::SlsaProvenanceV1,
        slsa_v1(),
        &attest_options(),
    )
    .unwrap();
    let cyclonedx = json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1});
    cosign::attest(
        &store,
        &key,
        &PredicateType::CycloneDx,
        cyclonedx.clone(),
        &attest_options(),
    )
    .unwrap();
    // The same statement with the same key gives the same envelope, which is not added twice.
    let again = cosign::attest(
        &store,
        &key,
        &PredicateType::CycloneDx,
        cyclonedx,
        &attest_options(),
    )
    .unwrap();
    assert!(!again.added);

    let tag = format!("sha256-{}.att", store.subject().digest.hex());
    let manifest = tagged_manifest(&layout, &tag);
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2);
    assert_eq!(
        layers[0]["mediaType"],
        "application/vnd.dsse.envelope.v1+json"
    );
    assert_eq!(
        layers[0]["annotations"]["predicateType"],
        "https://slsa.dev/provenance/v1"
    );
    assert_eq!(
        layers[0]["annotations"]["dev.cosignproject.cosign/signature"],
        ""
    );
    assert_eq!(
        read_index(&layout)["manifests"][1]["annotations"]["kind"],
        "dev.cosignproject.cosign/atts"
    );

    let verification = cosign::verify_attestations(
        &store,
        &key.public_key(),
        &AttestationVerifyOptions::default(),
    )
    .unwrap();
    assert_eq!(verification.verified.len(), 2);
    let statement = &verification.verified[0].statement;
    assert_eq!(statement.version(), StatementVersion::V1);
    assert_eq!(statement.subjects()[0].name, IDENTITY);
    assert_eq!(statement.predicate(), &slsa_v1());

    let required = AttestationVerifyOptions {
        predicate_type: Some(PredicateType::CycloneDx),
    };
    let verification = cosign::verify_attestations(&store, &key.public_key(), &required).unwrap();
    assert_eq!(verification.verified.len(), 1);
    assert!(matches!(
        &verification.rejected[..],
        [r] if matches!(r.error, AttestationCheckError::PredicateTypeMismatch { .. })
    ));
}

#[test]
fn layout_attestation_of_other_predicate_type() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = example_layout(dir.path()) else {
        return;
    };
    let store = layout_store(&layout, Some("latest"));
    let key = SigningKey::generate();
    cosign::attest(
        &store,
        &key,
        &PredicateType::SlsaProvenanceV1,
        slsa_v1(),
        &attest_options(),
    )
    .unwrap();

    let required = AttestationVerifyOptions {
        predicate_type: Some(PredicateType::CycloneDx),
    };
    let error = cosign::verify_attestations(&store, &key.public_key(), &required).unwrap_err();
    let rejections = attestation_rejections(error);
    assert!(
        matches!(&rejections[..], [AttestationCheckError::PredicateTypeMismatch { expected, found }] if expected == "https://cyclonedx.org/bom" && found == "https://slsa.dev/provenance/v1"),
        "{rejections:?}"
    );
}

#[test]
fn layout_attestation_of_other_subject() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = example_layout(dir.path()) else {
        return;
    };
    let other = add_tiny_image(&layout, "other");
    let key = SigningKey::generate();
    let other_store = layout_store(&layout, Some("other"));
    cosign::attest(
        &other_store,
        &key,
        &PredicateType::SlsaProvenanceV1,
        slsa_v1(),
        &attest_options(),
    )
    .unwrap();

    // Put the other image's attestation manifest under this image's tag.
    let store = layout_store(&layout, Some("latest"));
    let manifest = tagged_manifest(&layout, &format!("sha256-{}.att", other.hex()));
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let digest = write_blob(&layout, &bytes);
    let mut index = read_index(&layout);
    index["manifests"].as_array_mut().unwrap().push(json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": digest.to_string(),
        "size": bytes.len(),
        "annotations": {"org.opencontainers.image.ref.name": format!("sha256-{}.att", store.subject().digest.hex())},
    }));
    std::fs::write(
        layout.join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();

    let error = cosign::verify_attestations(
        &store,
        &key.public_key(),
        &AttestationVerifyOptions::default(),
    )
    .unwrap_err();
    let rejections = attestation_rejections(error);
    assert!(
        matches!(&rejections[..], [AttestationCheckError::SubjectMismatch { found, .. }] if *found == [other.to_string()]),
        "{rejections:?}"
    );
}

#[test]
fn layout_attestation_payload_type_swapped() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = example_layout(dir.path()) else {
        return;
    };
    let store = layout_store(&layout, Some("latest"));
    let key = SigningKey::generate();
    cosign::attest(
        &store,
        &key,
        &PredicateType::SlsaProvenanceV1,
        slsa_v1(),
        &attest_options(),
    )
    .unwrap();
    let tag = format!("sha256-{}.att", store.subject().digest.hex());

    // Swap the envelope's payload type without re-signing, and rewrite the manifest to match.
    let mut manifest = tagged_manifest(&layout, &tag);
    let layer: Digest = manifest["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let mut envelope =
        Envelope::from_json(&std::fs::read(blob_path(&layout, &layer)).unwrap()).unwrap();
    envelope.payload_type = "application/json".to_owned();
    let bytes = envelope.to_json();
    let digest = write_blob(&layout, &bytes);
    manifest["layers"][0]["digest"] = json!(digest.to_string());
    manifest["layers"][0]["size"] = json!(bytes.len());
    retag_manifest(&layout, &tag, &manifest);

    let error = cosign::verify_attestations(
        &store,
        &key.public_key(),
        &AttestationVerifyOptions::default(),
    )
    .unwrap_err();
    let rejections = attestation_rejections(error);
    assert!(
        matches!(&rejections[..], [AttestationCheckError::PayloadTypeMismatch { found }] if found == "application/json"),
        "{rejections:?}"
    );
}

#[test]
fn layout_attestation_annotation_disagrees() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = example_layout(dir.path()) else {
        return;
    };
    let store = layout_store(&layout, Some("latest"));
    let key = SigningKey::generate();
    cosign::attest(
        &store,
        &key,
        &PredicateType::SlsaProvenanceV1,
        slsa_v1(),
        &attest_options(),
    )
    .unwrap();
    let tag = format!("sha256-{}.att", store.subject().digest.hex());
    let mut manifest = tagged_manifest(&layout, &tag);
    manifest["layers"][0]["annotations"]["predicateType"] = json!("https://cyclonedx.org/bom");
    retag_manifest(&layout, &tag, &manifest);

    let error = cosign::verify_attestations(
        &store,
        &key.public_key(),
        &AttestationVerifyOptions::default(),
    )
    .unwrap_err();
    let rejections = attestation_rejections(error);
    assert!(
        matches!(
            &rejections[..],
            [AttestationCheckError::PredicateTypeAnnotationMismatch { .. }]
        ),
        "{rejections:?}"
    );
}

#[test]
fn layout_attestation_wrong_key() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = example_layout(dir.path()) else {
        return;
    };
    let store = layout_store(&layout, Some("latest"));
    cosign::attest(
        &store,
        &SigningKey::generate(),
        &PredicateType::SlsaProvenanceV1,
        slsa_v1(),
        &attest_options(),
    )
    .unwrap();

    let error = cosign::verify_attestations(
        &store,
        &SigningKey::generate().public_key(),
        &AttestationVerifyOptions::default(),
    )
    .unwrap_err();
    let rejections = attestation_rejections(error);
    assert!(
        matches!(
            &rejections[..],
            [AttestationCheckError::SignatureMismatch(_)]
        ),
        "{rejections:?}"
    );

    // An attestation is not a signature.
    let error = cosign::verify_signatures(
        &store,
        &SigningKey::generate().public_key(),
        &VerifyOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(error, CosignError::NoSignatures { .. }),
        "{error:?}"
    );
}

#[test]
fn layout_referrer_mode() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = example_layout(dir.path()) else {
        return;
    };
    let store = layout_store(&layout, Some("latest"));
    let key = SigningKey::generate();
    let options = SignOptions {
        mode: ReferrersMode::Oci11,
        ..sign_options()
    };
    let outcome = cosign::sign(&store, &key, &options).unwrap();
    assert_eq!(outcome.attach.mode, ReferrersMode::Oci11);
    assert!(!cosign::sign(&store, &key, &options).unwrap().attach.added);

    // An untagged entry with the artifact type, as oras writes.
    let index = read_index(&layout);
    let entry = &index["manifests"][1];
    assert_eq!(
        entry["artifactType"],
        "application/vnd.dev.cosign.artifact.sig.v1+json"
    );
    assert!(entry.get("annotations").is_none(), "{entry}");
    assert_eq!(index["manifests"].as_array().unwrap().len(), 2);

    let verification =
        cosign::verify_signatures(&store, &key.public_key(), &VerifyOptions::default()).unwrap();
    assert_eq!(
        verification.verified[0].location.source,
        ReferrerSource::LayoutIndex
    );
    let found = cosign::discover(&store).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].digest, outcome.attach.manifest);
    assert_eq!(
        found[0].kind,
        Some(cosign::format::ArtifactKind::Signatures)
    );

    // oras finds it too.
    let Some(oras) = tool("oras") else { return };
    let output = run_ok(
        Command::new(oras)
            .args(["discover", "--oci-layout", "--format", "json"])
            .arg(format!("{}:latest", layout.display())),
    );
    let listed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        listed["manifests"][0]["digest"],
        outcome.attach.manifest.to_string()
    );
    assert_eq!(
        listed["manifests"][0]["artifactType"],
        "application/vnd.dev.cosign.artifact.sig.v1+json"
    );
}

#[test]
fn layout_oras_referrer_discovered() {
    let Some(oras) = tool("oras") else { return };
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = example_layout(dir.path()) else {
        return;
    };
    let image = tagged_digest(&layout, "latest");
    let note = write(dir.path(), "note.txt", "reviewed\n");
    run_ok(
        Command::new(oras)
            .current_dir(dir.path())
            .args([
                "attach",
                "--oci-layout",
                "--artifact-type",
                "application/vnd.example.review+text",
            ])
            .arg(format!("{}@{image}", layout.display()))
            .arg(format!(
                "{}:text/plain",
                note.file_name().unwrap().to_string_lossy()
            )),
    );

    let store = layout_store(&layout, Some("latest"));
    let found = cosign::discover(&store).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].artifact_type.as_deref(),
        Some("application/vnd.example.review+text")
    );
    assert_eq!(found[0].sources, [ReferrerSource::LayoutIndex]);
    assert_eq!(found[0].kind, None);
}

#[test]
fn layout_sbom_attach_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = example_layout(dir.path()) else {
        return;
    };
    let store = layout_store(&layout, Some("latest"));
    let error = cosign::download_sbom(&store).unwrap_err();
    assert!(matches!(error, CosignError::NoSbom { .. }), "{error:?}");

    let first = br#"{"spdxVersion":"SPDX-2.3"}"#;
    let second = br#"{"bomFormat":"CycloneDX"}"#;
    cosign::attach_sbom(&store, first, SbomFormat::SpdxJson, ReferrersMode::Auto).unwrap();
    cosign::attach_sbom(
        &store,
        second,
        SbomFormat::CycloneDxJson,
        ReferrersMode::Auto,
    )
    .unwrap();
    let sboms = cosign::download_sbom(&store).unwrap();
    assert_eq!(sboms.len(), 1);
    assert_eq!(sboms[0].media_type, "application/vnd.cyclonedx+json");
    assert_eq!(sboms[0].bytes, second);
    // `cosign save` does not save SBOMs, so the entry has a tag and no `kind`.
    let index = read_index(&layout);
    let entry = &index["manifests"][1];
    assert!(entry["annotations"].get("kind").is_none(), "{entry}");
}

#[test]
fn layout_verified_by_cosign_local_image() {
    let Some(cosign) = tool("cosign") else { return };
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = example_layout(dir.path()) else {
        return;
    };
    let store = layout_store(&layout, Some("latest"));
    let key = SigningKey::generate();
    cosign::sign(&store, &key, &sign_options()).unwrap();
    cosign::attest(
        &store,
        &key,
        &PredicateType::SlsaProvenanceV1,
        slsa_v1(),
        &attest_options(),
    )
    .unwrap();
    let public = write(dir.path(), "ours.pub", key.public_key().to_pem());
    let other = write(
        dir.path(),
        "other.pub",
        SigningKey::generate().public_key().to_pem(),
    );

    let verify = |subcommand: &str, key: &Path| {
        let mut command = Command::new(&cosign);
        command
            .args([
                subcommand,
                "--insecure-ignore-tlog",
                "--local-image",
                "--key",
            ])
            .arg(key);
        if subcommand == "verify-attestation" {
            command.args(["--type", "slsaprovenance1"]);
        }
        command.arg(&layout);
        command
    };
    let output = run_ok(&mut verify("verify", &public));
    let payloads: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        payloads[0]["critical"]["image"]["docker-manifest-digest"],
        store.subject().digest.to_string()
    );
    let output = run_ok(&mut verify("verify-attestation", &public));
    let envelope =
        Envelope::from_json(output.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(envelope.payload_type, "application/vnd.in-toto+json");

    // A wrong key fails, or the acceptance above proves nothing.
    let text = run_failing(&mut verify("verify", &other));
    assert!(text.contains("no matching signatures"), "{text}");
    run_failing(&mut verify("verify-attestation", &other));
}

#[test]
fn cosign_saved_corpus_layout() {
    let Some(index) = attest_corpus(
        "slsa-verifier/cli-testdata/gha_generic_container/v2.1.0/container_workflow_dispatch/index.json",
    ) else {
        return;
    };
    let layout = index.parent().unwrap();
    let store = layout_store(layout, None);
    assert_eq!(
        store.subject().digest.to_string(),
        "sha256:234e2c830c2fb31ac5671789d22adfe44d30c3ee831d01beae5e237841a13122"
    );
    assert_eq!(
        store.subject().media_type,
        "application/vnd.oci.image.index.v1+json"
    );

    // The `kind` entry is found as cosign's `.att` tag.
    let found = cosign::discover(&store).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].kind,
        Some(cosign::format::ArtifactKind::Attestations)
    );
    let attestations =
        cosign::download_attestations(&store, Some(&PredicateType::SlsaProvenanceV02)).unwrap();
    assert_eq!(attestations.len(), 1);
    let envelope = Envelope::from_json(&attestations[0].envelope).unwrap();
    assert_eq!(envelope.payload_type, "application/vnd.in-toto+json");
    assert!(
        cosign::download_attestations(&store, Some(&PredicateType::CycloneDx))
            .unwrap()
            .is_empty()
    );

    // Signed keyless by GitHub's builder: no key of ours verifies it.
    let error = cosign::verify_attestations(
        &store,
        &SigningKey::generate().public_key(),
        &AttestationVerifyOptions::default(),
    )
    .unwrap_err();
    let rejections = attestation_rejections(error);
    assert!(
        matches!(
            &rejections[..],
            [AttestationCheckError::SignatureMismatch(_)]
        ),
        "{rejections:?}"
    );
}

#[test]
fn layout_open_errors() {
    let dir = tempfile::tempdir().unwrap();
    let error = cosign::LayoutStore::open(dir.path(), None).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("the `oci-layout` file is missing"),
        "{error}"
    );
    let Some(layout) = example_layout(dir.path()) else {
        return;
    };
    let error = cosign::LayoutStore::open(&layout, Some("v2")).unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("no image is tagged `v2`; tags present: `latest`"),
        "{error}"
    );
    let latest = tagged_digest(&layout, "latest");
    let other = add_tiny_image(&layout, "other");
    let error = cosign::LayoutStore::open(&layout, None).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "oci:{}: the layout contains 2 images: `latest` ({latest}), `other` ({other}); add \
             `:TAG` or `:@DIGEST` to the reference to pick one",
            layout.display()
        )
    );
}
