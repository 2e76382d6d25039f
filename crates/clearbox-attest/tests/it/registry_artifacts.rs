//! Signatures, attestations, SBOMs and referrers in Debian's docker-registry 2.8, checked both
//! ways against cosign 2.5, skopeo 1.18 and oras 1.2, over plain HTTP and over TLS with Basic
//! authentication. docker-registry 2.8 has no referrers API, so OCI 1.1 referrers go through
//! the fallback tag.

use std::path::{Path, PathBuf};
use std::process::Command;

use clearbox_attest::cosign::format::{ArtifactDescriptor, ArtifactManifest};
use clearbox_attest::cosign::{
    self, ArtifactStore, AttestOptions, AttestationVerifyOptions, CosignError, LayoutStore,
    ReferrerSource, ReferrersMode, SbomFormat, SignOptions, SignatureCheckError, StoreError,
    VerifyOptions,
};
use clearbox_attest::intoto::{PredicateType, StatementVersion};
use clearbox_attest::keys::Password;
use clearbox_attest::{PublicKey, SigningKey};
use clearbox_oci::registry::referrers_tag;
use clearbox_oci::{Digest, OciError, RegistryReference};
use clearbox_testdata::example_image;
use clearbox_testdata::registry::RegistryConfig;
use serde_json::{Value, json};

use crate::fixtures::{REPOSITORY, Registry};
use crate::{run_failing, run_ok, tool, write};

const PASSWORD: &str = "correct horse";
const TAG: &str = "clearbox/example:v1";

/// The tools every test here needs, or `None` after a notice.
fn tools() -> Option<(PathBuf, PathBuf, PathBuf)> {
    Some((tool("cosign")?, tool("skopeo")?, tool("oras")?))
}

/// `cosign generate-key-pair` in `dir`: (`cosign.key`, `cosign.pub`).
fn cosign_keys(cosign: &Path, dir: &Path) -> (PathBuf, PathBuf) {
    run_ok(
        Command::new(cosign)
            .current_dir(dir)
            .env("COSIGN_PASSWORD", PASSWORD)
            .args(["generate-key-pair", "--output-key-prefix", "cosign"]),
    );
    (dir.join("cosign.key"), dir.join("cosign.pub"))
}

/// `skopeo generate-sigstore-key` in `dir`: (`skopeo.private`, `skopeo.pub`, passphrase file).
fn skopeo_keys(skopeo: &Path, dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let passphrase = write(dir, "skopeo-passphrase", PASSWORD);
    run_ok(
        Command::new(skopeo)
            .args(["generate-sigstore-key", "--output-prefix"])
            .arg(dir.join("skopeo"))
            .arg("--passphrase-file")
            .arg(&passphrase),
    );
    (
        dir.join("skopeo.private"),
        dir.join("skopeo.pub"),
        passphrase,
    )
}

/// A generated key and its public key written to `dir/name.pub`.
fn our_key(dir: &Path, name: &str) -> (SigningKey, PathBuf) {
    let key = SigningKey::generate();
    let public = write(dir, &format!("{name}.pub"), key.public_key().to_pem());
    (key, public)
}

/// `registries.d` telling skopeo to use sigstore attachments everywhere.
fn registries_d(dir: &Path) -> PathBuf {
    let registries = dir.join("registries.d");
    std::fs::create_dir_all(&registries).unwrap();
    write(
        &registries,
        "default.yaml",
        "default-docker:\n  use-sigstore-attachments: true\n",
    );
    registries
}

/// Runs `skopeo copy` of the example image from the registry to a layout under a policy that
/// requires a sigstore signature by `public`, accepting cosign's repository-only identity.
fn skopeo_verified_copy(skopeo: &Path, registry: &Registry, dir: &Path, public: &Path) -> Command {
    let policy = json!({
        "default": [{"type": "reject"}],
        "transports": {"docker": {registry.server.host_port(): [{
            "type": "sigstoreSigned",
            "keyPath": public,
            "signedIdentity": {"type": "matchRepository"},
        }]}},
    });
    let policy = write(dir, "policy.json", policy.to_string());
    let target = tempfile::tempdir_in(dir).unwrap().keep();
    let mut command = Command::new(skopeo);
    command
        .args(["copy", "--quiet", "--remove-signatures", "--policy"])
        .arg(&policy)
        .arg("--registries.d")
        .arg(registries_d(dir));
    registry.skopeo_source_flags(&mut command);
    command
        .arg(format!("docker://{}:v1", registry.repository))
        .arg(format!("oci:{}:copy", target.display()));
    command
}

/// `cosign verify --key public` of the example image; returns the payloads printed.
fn cosign_verify(cosign: &Path, registry: &Registry, public: &Path) -> Value {
    let mut command = registry.cosign(cosign, &["verify", "--insecure-ignore-tlog", "--key"]);
    command.arg(public).arg(registry.image());
    serde_json::from_slice(&run_ok(&mut command).stdout).unwrap()
}

/// `cosign sign --key private` of the example image.
fn cosign_sign(cosign: &Path, registry: &Registry, private: &Path, extra: &[&str]) {
    let mut command = registry.cosign(cosign, &["sign", "--tlog-upload=false", "--yes"]);
    command
        .env("COSIGN_PASSWORD", PASSWORD)
        .env("COSIGN_EXPERIMENTAL", "1")
        .args(extra)
        .arg("--key")
        .arg(private)
        .arg(registry.image());
    run_ok(&mut command);
}

/// `oras discover --format json` of the example image.
fn oras_discover(oras: &Path, registry: &Registry) -> Value {
    let mut command = Command::new(oras);
    command.args(["discover", "--format", "json"]);
    registry.oras_flags(&mut command);
    command.arg(registry.image());
    serde_json::from_slice(&run_ok(&mut command).stdout).unwrap()
}

fn slsa_v02() -> Value {
    json!({
        "builder": {"id": "https://example.com/builder@v1"},
        "buildType": "https://example.com/build/v1",
        "invocation": {"configSource": {}}
    })
}

fn slsa_v1() -> Value {
    json!({
        "buildDefinition": {"buildType": "https://example.com/build/v1", "externalParameters": {}},
        "runDetails": {"builder": {"id": "https://example.com/builder"}}
    })
}

fn cyclonedx() -> Value {
    json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": []})
}

/// The manifest under a tag of the example's repository, as served.
fn fetch_tag(registry: &Registry, tag: &str) -> Option<Vec<u8>> {
    let store = registry.store(TAG);
    store.tagged(tag).unwrap().map(|m| m.bytes)
}

#[test]
fn registry_signature_verified_by_cosign_and_skopeo() {
    let Some((cosign, skopeo, _)) = tools() else {
        return;
    };
    let Some(registry) = Registry::with_example(RegistryConfig::default()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = our_key(dir.path(), "ours");
    let (_, other) = our_key(dir.path(), "other");
    let store = registry.store(TAG);

    // Auto on a registry without the referrers API writes cosign's tag, and no fallback tag.
    let outcome = cosign::sign(&store, &key, &SignOptions::default()).unwrap();
    assert_eq!(outcome.attach.mode, ReferrersMode::Legacy);
    assert!(
        outcome
            .attach
            .location
            .ends_with(&format!("sha256-{}.sig", registry.digest.hex()))
    );
    assert!(fetch_tag(&registry, &referrers_tag(&registry.digest)).is_none());
    let payload = String::from_utf8(outcome.signed.payload.clone()).unwrap();
    assert!(
        payload.contains(&format!("\"docker-reference\":\"{}\"", registry.repository)),
        "{payload}"
    );

    // cosign accepts it, and only with our key.
    let payloads = cosign_verify(&cosign, &registry, &public);
    assert_eq!(
        payloads[0]["critical"]["image"]["docker-manifest-digest"],
        registry.digest.to_string()
    );
    let mut wrong = registry.cosign(&cosign, &["verify", "--insecure-ignore-tlog", "--key"]);
    wrong.arg(&other).arg(registry.image());
    let text = run_failing(&mut wrong);
    assert!(text.contains("no matching signatures"), "{text}");

    // skopeo accepts it under a sigstoreSigned policy, and only with our key.
    run_ok(&mut skopeo_verified_copy(
        &skopeo,
        &registry,
        dir.path(),
        &public,
    ));
    let text = run_failing(&mut skopeo_verified_copy(
        &skopeo,
        &registry,
        dir.path(),
        &other,
    ));
    assert!(
        text.contains("cryptographic signature verification failed"),
        "{text}"
    );
}

#[test]
fn registry_cosign_and_skopeo_signatures_verified_by_us() {
    let Some((cosign, skopeo, _)) = tools() else {
        return;
    };
    let Some(example) = example_image() else {
        return;
    };
    let Some(registry) = Registry::with_example(RegistryConfig::default()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (cosign_private, cosign_public) = cosign_keys(&cosign, dir.path());
    let (skopeo_private, skopeo_public, passphrase) = skopeo_keys(&skopeo, dir.path());
    let sig_tag = format!("sha256-{}.sig", registry.digest.hex());

    // cosign signs; the manifest it pushed is the one we build for the same layer.
    cosign_sign(&cosign, &registry, &cosign_private, &[]);
    let pushed = fetch_tag(&registry, &sig_tag).unwrap();
    let parsed = ArtifactManifest::from_json(&pushed).unwrap();
    let (rebuilt, _) = ArtifactManifest::legacy(parsed.layers.clone());
    assert_eq!(
        String::from_utf8(rebuilt.to_json()).unwrap(),
        String::from_utf8(pushed).unwrap()
    );

    // skopeo signs while pushing the same image again, and appends.
    let mut command = Command::new(&skopeo);
    command
        .args([
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            "--registries.d",
        ])
        .arg(registries_d(dir.path()))
        .arg("--sign-by-sigstore-private-key")
        .arg(&skopeo_private)
        .arg("--sign-passphrase-file")
        .arg(&passphrase)
        .arg(format!("oci:{}:latest", example.display()))
        .arg(format!("docker://{}:v1", registry.repository));
    run_ok(&mut command);

    let store = registry.store(TAG);
    let cosign_key = PublicKey::from_file(&cosign_public).unwrap();
    let skopeo_key = PublicKey::from_file(&skopeo_public).unwrap();
    let by_cosign =
        cosign::verify_signatures(&store, &cosign_key, &VerifyOptions::default()).unwrap();
    assert_eq!(by_cosign.verified.len(), 1);
    assert_eq!(by_cosign.rejected.len(), 1);
    assert_eq!(by_cosign.verified[0].location.layer, Some(0));
    // skopeo's identity keeps the tag; the identity check compares repositories.
    let identity = VerifyOptions {
        identity: Some(registry.repository.clone()),
        ..VerifyOptions::default()
    };
    let by_skopeo = cosign::verify_signatures(&store, &skopeo_key, &identity).unwrap();
    assert_eq!(by_skopeo.verified.len(), 1);
    assert_eq!(
        by_skopeo.verified[0].payload.docker_reference(),
        format!("{}:v1", registry.repository)
    );
    assert!(
        by_skopeo.verified[0]
            .payload
            .annotations()
            .unwrap()
            .contains_key("creator")
    );

    // We append to what cosign and skopeo wrote; both of theirs still verify, in cosign too.
    let (ours, ours_public) = our_key(dir.path(), "ours");
    cosign::sign(&store, &ours, &SignOptions::default()).unwrap();
    let manifest: Value = serde_json::from_slice(&fetch_tag(&registry, &sig_tag).unwrap()).unwrap();
    assert_eq!(manifest["layers"].as_array().unwrap().len(), 3);
    for public in [&cosign_public, &skopeo_public, &ours_public] {
        let payloads = cosign_verify(&cosign, &registry, public);
        assert_eq!(
            payloads.as_array().unwrap().len(),
            1,
            "{}",
            public.display()
        );
    }
    // And cosign appends to ours.
    cosign_sign(&cosign, &registry, &cosign_private, &["-a", "team=ml"]);
    let manifest: Value = serde_json::from_slice(&fetch_tag(&registry, &sig_tag).unwrap()).unwrap();
    assert_eq!(manifest["layers"].as_array().unwrap().len(), 4);
    cosign::verify_signatures(&store, &ours.public_key(), &VerifyOptions::default()).unwrap();
}

#[test]
fn registry_keys_from_cosign_and_skopeo_sign() {
    let Some((cosign, skopeo, _)) = tools() else {
        return;
    };
    let Some(registry) = Registry::with_example(RegistryConfig::default()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (cosign_private, cosign_public) = cosign_keys(&cosign, dir.path());
    let (skopeo_private, skopeo_public, _) = skopeo_keys(&skopeo, dir.path());
    let store = registry.store(TAG);

    for (private, public) in [
        (&cosign_private, &cosign_public),
        (&skopeo_private, &skopeo_public),
    ] {
        let key = SigningKey::from_file(private, || Ok(Password::new(PASSWORD))).unwrap();
        assert!(
            cosign::sign(&store, &key, &SignOptions::default())
                .unwrap()
                .attach
                .added
        );
        let payloads = cosign_verify(&cosign, &registry, public);
        assert_eq!(
            payloads.as_array().unwrap().len(),
            1,
            "{}",
            public.display()
        );
    }
}

#[test]
fn registry_attestations_both_ways() {
    let Some((cosign, _, _)) = tools() else {
        return;
    };
    let Some(registry) = Registry::with_example(RegistryConfig::default()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (ours, ours_public) = our_key(dir.path(), "ours");
    let (cosign_private, cosign_public) = cosign_keys(&cosign, dir.path());
    let store = registry.store(TAG);
    let cases = [
        (
            "slsaprovenance02",
            PredicateType::SlsaProvenanceV02,
            slsa_v02(),
        ),
        (
            "slsaprovenance1",
            PredicateType::SlsaProvenanceV1,
            slsa_v1(),
        ),
        ("cyclonedx", PredicateType::CycloneDx, cyclonedx()),
    ];

    // Ours, verified by cosign for each type.
    for (_, predicate_type, predicate) in &cases {
        cosign::attest(
            &store,
            &ours,
            predicate_type,
            predicate.clone(),
            &AttestOptions::default(),
        )
        .unwrap();
    }
    for (name, _, _) in &cases {
        let mut command = registry.cosign(
            &cosign,
            &[
                "verify-attestation",
                "--insecure-ignore-tlog",
                "--type",
                name,
                "--key",
            ],
        );
        command.arg(&ours_public).arg(registry.image());
        let output = run_ok(&mut command);
        assert!(!output.stdout.is_empty(), "{name}");
    }

    // cosign's, verified by us for each type.
    for (name, _, predicate) in &cases {
        let file = write(dir.path(), &format!("{name}.json"), predicate.to_string());
        let mut command = registry.cosign(
            &cosign,
            &[
                "attest",
                "--tlog-upload=false",
                "--yes",
                "--type",
                name,
                "--key",
            ],
        );
        command
            .env("COSIGN_PASSWORD", PASSWORD)
            .arg(&cosign_private)
            .arg("--predicate")
            .arg(&file)
            .arg(registry.image());
        run_ok(&mut command);
    }
    let cosign_key = PublicKey::from_file(&cosign_public).unwrap();
    for (name, predicate_type, _) in &cases {
        let options = AttestationVerifyOptions {
            predicate_type: Some(predicate_type.clone()),
        };
        let verification = cosign::verify_attestations(&store, &cosign_key, &options).unwrap();
        assert_eq!(verification.verified.len(), 1, "{name}");
        let statement = &verification.verified[0].statement;
        assert_eq!(statement.version(), StatementVersion::V0_1, "{name}");
        assert_eq!(statement.subjects()[0].name, registry.repository, "{name}");
        // Ours with another type and cosign's other types are rejected with the reason.
        assert_eq!(verification.rejected.len(), 5, "{name}");
    }

    // Our own still verify among cosign's.
    let verification = cosign::verify_attestations(
        &store,
        &ours.public_key(),
        &AttestationVerifyOptions::default(),
    )
    .unwrap();
    assert_eq!(verification.verified.len(), 3);
    assert!(
        verification
            .verified
            .iter()
            .all(|v| v.statement.version() == StatementVersion::V1)
    );
}

#[test]
fn registry_tls_with_basic_auth() {
    let Some((cosign, skopeo, oras)) = tools() else {
        return;
    };
    let config = RegistryConfig {
        tls: true,
        htpasswd: Some(("clearbox".to_owned(), "s3cret".to_owned())),
        token_auth: None,
    };
    let Some(registry) = Registry::with_example(config) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (ours, ours_public) = our_key(dir.path(), "ours");
    let (cosign_private, cosign_public) = cosign_keys(&cosign, dir.path());
    let store = registry.store(TAG);

    // Ours, through TLS with credentials, verified by cosign and skopeo.
    cosign::sign(&store, &ours, &SignOptions::default()).unwrap();
    cosign::attest(
        &store,
        &ours,
        &PredicateType::SlsaProvenanceV1,
        slsa_v1(),
        &AttestOptions::default(),
    )
    .unwrap();
    cosign_verify(&cosign, &registry, &ours_public);
    let mut command = registry.cosign(
        &cosign,
        &[
            "verify-attestation",
            "--insecure-ignore-tlog",
            "--type",
            "slsaprovenance1",
            "--key",
        ],
    );
    command.arg(&ours_public).arg(registry.image());
    run_ok(&mut command);
    run_ok(&mut skopeo_verified_copy(
        &skopeo,
        &registry,
        dir.path(),
        &ours_public,
    ));

    // cosign's, verified by us.
    cosign_sign(&cosign, &registry, &cosign_private, &[]);
    let cosign_key = PublicKey::from_file(&cosign_public).unwrap();
    let verification =
        cosign::verify_signatures(&store, &cosign_key, &VerifyOptions::default()).unwrap();
    assert_eq!(verification.verified.len(), 1);

    // An OCI 1.1 referrer through TLS, listed by oras.
    let options = SignOptions {
        mode: ReferrersMode::Oci11,
        ..SignOptions::default()
    };
    let outcome = cosign::sign(&store, &ours, &options).unwrap();
    let listed = oras_discover(&oras, &registry);
    assert_eq!(
        listed["manifests"][0]["digest"],
        outcome.attach.manifest.to_string()
    );

    // Without the password the registry refuses.
    let anonymous = clearbox_oci::registry::RegistryOptions {
        credentials: None,
        docker_config: Some(dir.path().join("no-config.json")),
        ..registry.options.clone()
    };
    let client =
        std::sync::Arc::new(clearbox_oci::registry::RegistryClient::new(anonymous).unwrap());
    let reference: RegistryReference = format!("{}:v1", registry.repository).parse().unwrap();
    let error = cosign::RegistryStore::open(client, &reference).unwrap_err();
    assert!(
        error.to_string().contains("failed to get manifest"),
        "{error}"
    );
}

/// The `artifactType` of each referrer `oras discover` listed.
fn artifact_types(listed: &Value) -> Vec<String> {
    listed["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["artifactType"].as_str().unwrap().to_owned())
        .collect()
}

/// `oras attach` of a text file with the artifact type `application/vnd.example.review+text`.
fn oras_attach(oras: &Path, registry: &Registry, dir: &Path) {
    write(dir, "review.txt", "reviewed\n");
    let mut command = Command::new(oras);
    command.current_dir(dir).args([
        "attach",
        "--artifact-type",
        "application/vnd.example.review+text",
    ]);
    registry.oras_flags(&mut command);
    command.arg(registry.image()).arg("review.txt:text/plain");
    run_ok(&mut command);
}

/// The entries of the example image's referrers fallback index, checked to be sorted by digest
/// as go-containerregistry sorts them.
fn fallback_index_entries(registry: &Registry) -> Vec<Value> {
    let bytes = fetch_tag(registry, &referrers_tag(&registry.digest)).unwrap();
    let index: Value = serde_json::from_slice(&bytes).unwrap();
    let entries = index["manifests"].as_array().unwrap().clone();
    let digests: Vec<&str> = entries
        .iter()
        .map(|e| e["digest"].as_str().unwrap())
        .collect();
    let mut sorted = digests.clone();
    sorted.sort_unstable();
    assert_eq!(digests, sorted);
    entries
}

#[test]
fn registry_referrers_with_oras() {
    let Some((cosign, _, oras)) = tools() else {
        return;
    };
    let Some(registry) = Registry::with_example(RegistryConfig::default()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (ours, ours_public) = our_key(dir.path(), "ours");
    let store = registry.store(TAG);

    // oras attaches a referrer (fallback tag on docker-registry 2.8); we discover it.
    oras_attach(&oras, &registry, dir.path());
    let found = cosign::discover(&store).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].sources, [ReferrerSource::FallbackTag]);
    assert_eq!(
        found[0].artifact_type.as_deref(),
        Some("application/vnd.example.review+text")
    );
    assert!(
        found[0]
            .annotations
            .contains_key("org.opencontainers.image.created")
    );
    let oras_referrer = found[0].digest.clone();

    // We add an OCI 1.1 signature, attestation and SBOM; the fallback index keeps oras's entry.
    let sign_oci11 = SignOptions {
        mode: ReferrersMode::Oci11,
        ..SignOptions::default()
    };
    let signed = cosign::sign(&store, &ours, &sign_oci11).unwrap();
    assert_eq!(signed.attach.mode, ReferrersMode::Oci11);
    assert!(
        !cosign::sign(&store, &ours, &sign_oci11)
            .unwrap()
            .attach
            .added
    );
    let attest_oci11 = AttestOptions {
        mode: ReferrersMode::Oci11,
        ..AttestOptions::default()
    };
    cosign::attest(
        &store,
        &ours,
        &PredicateType::SlsaProvenanceV1,
        slsa_v1(),
        &attest_oci11,
    )
    .unwrap();
    let sbom = br#"{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT"}"#;
    cosign::attach_sbom(&store, sbom, SbomFormat::SpdxJson, ReferrersMode::Oci11).unwrap();

    let entries = fallback_index_entries(&registry);
    assert_eq!(entries.len(), 4);
    let oras_entry = entries
        .iter()
        .find(|e| e["digest"] == oras_referrer.to_string())
        .unwrap();
    assert!(oras_entry["annotations"]["org.opencontainers.image.created"].is_string());

    // oras lists all four; cosign verifies the signature referrer.
    let listed = oras_discover(&oras, &registry);
    let types = artifact_types(&listed);
    for expected in [
        "application/vnd.example.review+text",
        "application/vnd.dev.cosign.artifact.sig.v1+json",
        "application/vnd.dev.cosign.artifact.att.v1+json",
        "application/vnd.dev.cosign.artifact.sbom.v1+json",
    ] {
        assert!(
            types.iter().any(|t| t == expected),
            "{expected} missing from {types:?}"
        );
    }
    let mut command = registry.cosign(
        &cosign,
        &[
            "verify",
            "--insecure-ignore-tlog",
            "--experimental-oci11",
            "--key",
        ],
    );
    command.arg(&ours_public).arg(registry.image());
    run_ok(&mut command);

    // And we find and verify each through the fallback tag.
    let verification =
        cosign::verify_signatures(&store, &ours.public_key(), &VerifyOptions::default()).unwrap();
    assert_eq!(
        verification.verified[0].location.source,
        ReferrerSource::FallbackTag
    );
    let attestations = cosign::verify_attestations(
        &store,
        &ours.public_key(),
        &AttestationVerifyOptions::default(),
    )
    .unwrap();
    assert_eq!(attestations.verified.len(), 1);
    let sboms = cosign::download_sbom(&store).unwrap();
    assert_eq!(sboms[0].bytes, sbom);
    assert_eq!(sboms[0].media_type, "text/spdx+json");
    assert_eq!(cosign::discover(&store).unwrap().len(), 4);
}

#[test]
fn registry_cosign_oci11_signature_verified_by_us() {
    let Some((cosign, _, _)) = tools() else {
        return;
    };
    let Some(registry) = Registry::with_example(RegistryConfig::default()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (cosign_private, cosign_public) = cosign_keys(&cosign, dir.path());
    cosign_sign(
        &cosign,
        &registry,
        &cosign_private,
        &["--registry-referrers-mode=oci-1-1"],
    );
    let store = registry.store(TAG);

    // cosign's referrer has no `artifactType` field; the fallback index lists its type.
    let found = cosign::discover(&store).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].kind,
        Some(cosign::format::ArtifactKind::Signatures)
    );
    let manifest: Value =
        serde_json::from_slice(&store.manifest(&found[0].digest).unwrap().bytes).unwrap();
    assert!(manifest.get("artifactType").is_none(), "{manifest}");
    assert_eq!(manifest["subject"]["digest"], registry.digest.to_string());

    let key = PublicKey::from_file(&cosign_public).unwrap();
    let verification = cosign::verify_signatures(&store, &key, &VerifyOptions::default()).unwrap();
    assert_eq!(verification.verified.len(), 1);
    assert_eq!(
        verification.verified[0].location.source,
        ReferrerSource::FallbackTag
    );
}

#[test]
fn registry_tampering_rejected() {
    let Some((_, _, oras)) = tools() else { return };
    let Some(registry) = Registry::with_example(RegistryConfig::default()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = our_key(dir.path(), "ours");
    let store = registry.store(TAG);

    // No signature yet.
    let error = cosign::verify_signatures(&store, &key.public_key(), &VerifyOptions::default())
        .unwrap_err();
    assert!(
        matches!(error, CosignError::NoSignatures { .. }),
        "{error:?}"
    );

    // Another artifact in the repository, signed, its signature copied to this image's tag.
    write(dir.path(), "other.txt", "another artifact\n");
    let mut command = Command::new(&oras);
    command.current_dir(dir.path()).arg("push");
    registry.oras_flags(&mut command);
    command
        .arg(format!("{}:other", registry.repository))
        .arg("other.txt:text/plain");
    run_ok(&mut command);
    let other = registry.store(&format!("{REPOSITORY}:other"));
    cosign::sign(&other, &key, &SignOptions::default()).unwrap();
    let copied = other
        .tagged(&format!("sha256-{}.sig", other.subject().digest.hex()))
        .unwrap()
        .unwrap();
    let target: RegistryReference = format!(
        "{}:sha256-{}.sig",
        registry.repository,
        registry.digest.hex()
    )
    .parse()
    .unwrap();
    registry
        .client()
        .put_manifest(
            &target,
            "application/vnd.oci.image.manifest.v1+json",
            &copied.bytes,
        )
        .unwrap();
    let error = cosign::verify_signatures(&store, &key.public_key(), &VerifyOptions::default())
        .unwrap_err();
    let CosignError::NoValidSignatures { rejected, .. } = error else {
        panic!("{error:?}")
    };
    assert!(
        matches!(&rejected[..], [r] if matches!(&r.error, SignatureCheckError::ManifestDigestMismatch { claimed, .. } if *claimed == other.subject().digest.to_string())),
        "{rejected:?}"
    );

    // Our own signature, then its payload blob corrupted in the registry's storage.
    let outcome = cosign::sign(&store, &key, &SignOptions::default()).unwrap();
    cosign::verify_signatures(&store, &key.public_key(), &VerifyOptions::default()).unwrap();
    let payload = Digest::of(&outcome.signed.payload);
    let path = registry.stored_blob(&payload);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[10] ^= 0x20;
    std::fs::write(&path, &bytes).unwrap();
    let error = cosign::verify_signatures(&store, &key.public_key(), &VerifyOptions::default())
        .unwrap_err();
    let CosignError::NoValidSignatures { rejected, .. } = error else {
        panic!("{error:?}")
    };
    assert!(
        rejected.iter().any(|r| matches!(&r.error, SignatureCheckError::PayloadDigestMismatch { expected, .. } if *expected == payload)),
        "{rejected:?}"
    );

    // The signature manifest corrupted in storage: the pull fails on its digest.
    let path = registry.stored_blob(&outcome.attach.manifest);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.push(b'\n');
    std::fs::write(&path, &bytes).unwrap();
    let error = cosign::verify_signatures(&store, &key.public_key(), &VerifyOptions::default())
        .unwrap_err();
    assert!(
        matches!(
            &error,
            CosignError::Store(StoreError::Oci(OciError::DigestMismatch { .. }))
        ),
        "{error:?}"
    );
}

#[test]
fn cosign_save_verified_by_us() {
    let Some((cosign, _, _)) = tools() else {
        return;
    };
    let Some(registry) = Registry::with_example(RegistryConfig::default()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (cosign_private, cosign_public) = cosign_keys(&cosign, dir.path());
    cosign_sign(&cosign, &registry, &cosign_private, &[]);
    let predicate = write(dir.path(), "predicate.json", slsa_v1().to_string());
    let mut command = registry.cosign(
        &cosign,
        &[
            "attest",
            "--tlog-upload=false",
            "--yes",
            "--type",
            "slsaprovenance1",
            "--key",
        ],
    );
    command
        .env("COSIGN_PASSWORD", PASSWORD)
        .arg(&cosign_private)
        .arg("--predicate")
        .arg(&predicate)
        .arg(registry.image());
    run_ok(&mut command);
    let saved = dir.path().join("saved");
    let mut command = registry.cosign(&cosign, &["save", "--dir"]);
    command.arg(&saved).arg(registry.image());
    run_ok(&mut command);

    // cosign's layout: untagged entries marked by `kind`.
    let store = LayoutStore::open(&saved, None).unwrap();
    assert_eq!(store.subject().digest, registry.digest);
    let key = PublicKey::from_file(&cosign_public).unwrap();
    let verification = cosign::verify_signatures(&store, &key, &VerifyOptions::default()).unwrap();
    assert_eq!(
        verification.verified[0].location.source,
        ReferrerSource::LegacyTag(format!("sha256-{}.sig", registry.digest.hex()))
    );
    cosign::verify_attestations(&store, &key, &AttestationVerifyOptions::default()).unwrap();

    // We add our signature to the saved layout (a layout names no repository, so the identity
    // is given); cosign accepts both keys there.
    let (ours, ours_public) = our_key(dir.path(), "ours");
    let options = SignOptions {
        identity: Some(registry.repository.clone()),
        ..SignOptions::default()
    };
    cosign::sign(&store, &ours, &options).unwrap();
    for public in [&cosign_public, &ours_public] {
        let output = run_ok(
            Command::new(&cosign)
                .args(["verify", "--insecure-ignore-tlog", "--local-image", "--key"])
                .arg(public)
                .arg(&saved),
        );
        let payloads: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(
            payloads.as_array().unwrap().len(),
            1,
            "{}",
            public.display()
        );
    }
    let index: Value =
        serde_json::from_slice(&std::fs::read(saved.join("index.json")).unwrap()).unwrap();
    let kinds: Vec<&str> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["annotations"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "dev.cosignproject.cosign/sigs")
            .count(),
        1,
        "{kinds:?}"
    );
}

/// The newline-terminated lines of `output`, sorted.
fn sorted_lines(output: &[u8]) -> Vec<&[u8]> {
    assert!(
        output.ends_with(b"\n"),
        "output does not end with a newline"
    );
    let mut lines: Vec<&[u8]> = output[..output.len() - 1].split(|b| *b == b'\n').collect();
    lines.sort_unstable();
    lines
}

#[test]
fn registry_downloads_match_cosign() {
    let Some((cosign, _, _)) = tools() else {
        return;
    };
    let Some(registry) = Registry::with_example(RegistryConfig::default()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = registry.store(TAG);
    let (first, _) = our_key(dir.path(), "first");
    let (second, _) = our_key(dir.path(), "second");
    cosign::sign(&store, &first, &SignOptions::default()).unwrap();
    cosign::sign(&store, &second, &SignOptions::default()).unwrap();
    cosign::attest(
        &store,
        &first,
        &PredicateType::SlsaProvenanceV1,
        slsa_v1(),
        &AttestOptions::default(),
    )
    .unwrap();
    cosign::attest(
        &store,
        &first,
        &PredicateType::CycloneDx,
        cyclonedx(),
        &AttestOptions::default(),
    )
    .unwrap();
    let sbom = b"SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\n";
    cosign::attach_sbom(
        &store,
        sbom,
        SbomFormat::SpdxTagValue,
        ReferrersMode::Legacy,
    )
    .unwrap();

    let download = |what: &str, extra: &[&str]| {
        let mut command = registry.cosign(&cosign, &["download", what]);
        command.args(extra).arg(registry.image());
        run_ok(&mut command).stdout
    };

    // Signatures: one JSON line each, byte for byte. cosign fetches layers concurrently and
    // prints them in no fixed order, so the lines are compared sorted.
    let ours: Vec<String> = cosign::download_signatures(&store)
        .unwrap()
        .iter()
        .map(|s| s.to_cosign_json() + "\n")
        .collect();
    assert_eq!(ours.len(), 2);
    assert_eq!(
        sorted_lines(&download("signature", &[])),
        sorted_lines(ours.concat().as_bytes())
    );

    // Attestations: each envelope and a newline, also filtered by predicate type.
    let envelopes = |predicate_type: Option<&PredicateType>| -> Vec<u8> {
        cosign::download_attestations(&store, predicate_type)
            .unwrap()
            .into_iter()
            .flat_map(|a| [a.envelope, b"\n".to_vec()].concat())
            .collect()
    };
    assert_eq!(
        sorted_lines(&download("attestation", &[])),
        sorted_lines(&envelopes(None))
    );
    let cyclonedx_only = envelopes(Some(&PredicateType::CycloneDx));
    assert_eq!(sorted_lines(&cyclonedx_only).len(), 1);
    assert_eq!(
        download(
            "attestation",
            &["--predicate-type", "https://cyclonedx.org/bom"]
        ),
        cyclonedx_only
    );

    // SBOM: the bytes as they are; and one cosign attaches comes back to us.
    assert_eq!(download("sbom", &[]), sbom);
    let file = write(
        dir.path(),
        "bom.xml",
        "<bom xmlns=\"http://cyclonedx.org/schema/bom/1.6\"/>\n",
    );
    let mut command = registry.cosign(
        &cosign,
        &["attach", "sbom", "--type", "cyclonedx", "--sbom"],
    );
    command.arg(&file).arg(registry.image());
    run_ok(&mut command);
    let sboms = cosign::download_sbom(&store).unwrap();
    assert_eq!(sboms.len(), 1);
    assert_eq!(sboms[0].media_type, "application/vnd.cyclonedx+xml");
    assert_eq!(sboms[0].bytes, std::fs::read(&file).unwrap());
}

#[test]
fn registry_descriptor_of_layer_matches() {
    // The layer descriptor of a signature has cosign's field order.
    let layer = ArtifactDescriptor::of("text/plain", b"x");
    assert_eq!(
        String::from_utf8(serde_json::to_vec(&layer).unwrap()).unwrap(),
        r#"{"mediaType":"text/plain","size":1,"digest":"sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"}"#
    );
}
