//! Signing inputs that are rejected before anything is written, what verify and
//! verify-attestation report as checked, and a registry that never responds.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::support::{assert_exit, clearbox, clearbox_env, key_pair, stderr};

const PASSWORD: (&str, &str) = ("CLEARBOX_PASSWORD", "correct horse");

/// Writes a one-image OCI layout tagged `latest` with an empty layer; signing reads only its
/// manifest.
pub(crate) fn tiny_layout(dir: &Path) -> String {
    use sha2::Digest as _;
    let blob = |data: &[u8]| {
        let digest = hex::encode(sha2::Sha256::digest(data));
        std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        std::fs::write(dir.join("blobs/sha256").join(&digest), data).unwrap();
        format!("sha256:{digest}")
    };
    let layer = vec![0u8; 1024];
    let layer_digest = blob(&layer);
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]}
    }))
    .unwrap();
    let config_digest = blob(&config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": layer_digest, "size": layer.len()}],
    }))
    .unwrap();
    let manifest_digest = blob(&manifest);
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest,
        "size": manifest.len(), "annotations": {"org.opencontainers.image.ref.name": "latest"}}]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    format!("oci:{}:latest", dir.display())
}

fn sign(image: &str, key: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["sign", image, "--key", key];
    args.extend_from_slice(extra);
    clearbox_env(&args, &[PASSWORD])
}

#[test]
fn sign_identity_not_a_docker_reference() {
    let cases = [
        (
            "https://r.example/a",
            "`https://r.example/a` is not a valid identity: it has a URL scheme; write \
             REGISTRY/REPO without `https://`",
        ),
        (
            "r.example/ABC",
            "`r.example/ABC` is not a valid identity: the repository path component `ABC` must \
             be lowercase letters and digits, joined by `.`, `_`, `__` or `-`",
        ),
        (
            "r.example/a@sha256:0000000000000000000000000000000000000000000000000000000000000000",
            "names a digest; give REGISTRY/REPO[:TAG], since the image digest is checked on its own",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let image = tiny_layout(dir.path());
    let (key, public) = key_pair(dir.path(), "signer", PASSWORD);
    for (identity, message) in cases {
        let out = sign(&image, &key, &["--identity", identity]);
        assert_exit(&out, 2);
        assert!(stderr(&out).contains(message), "{}", stderr(&out));
        let out = clearbox(&["verify", &image, "--key", &public, "--identity", identity]);
        assert_exit(&out, 2);
        assert!(stderr(&out).contains(message), "{}", stderr(&out));
    }
    // Nothing was signed.
    let index = std::fs::read_to_string(dir.path().join("index.json")).unwrap();
    assert!(!index.contains(".sig"), "{index}");
}

#[test]
fn verify_identity_with_tag_and_docker_hub_names() {
    let dir = tempfile::tempdir().unwrap();
    let image = tiny_layout(dir.path());
    let (key, public) = key_pair(dir.path(), "signer", PASSWORD);
    assert_exit(
        &sign(&image, &key, &["--identity", "registry.example/app/s3:v1"]),
        0,
    );
    let verify =
        |identity: &str| clearbox(&["verify", &image, "--key", &public, "--identity", identity]);

    let out = verify("registry.example/app/s3:v1");
    assert_exit(&out, 0);
    assert!(
        stderr(&out)
            .contains("  - each payload names the required identity `registry.example/app/s3:v1`"),
        "{}",
        stderr(&out)
    );
    assert_exit(&verify("registry.example/app/s3"), 0);
    let out = verify("registry.example/app/s3:v2");
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains(
            "the signature claims `registry.example/app/s3:v1`, not the required identity \
             `registry.example/app/s3:v2`"
        ),
        "{}",
        stderr(&out)
    );

    // Docker Hub spellings of one repository.
    let hub = tempfile::tempdir().unwrap();
    let image = tiny_layout(hub.path());
    assert_exit(&sign(&image, &key, &["--identity", "alpine"]), 0);
    for identity in [
        "alpine",
        "docker.io/alpine",
        "index.docker.io/library/alpine",
        "docker.io/library/alpine",
    ] {
        let out = clearbox(&["verify", &image, "--key", &public, "--identity", identity]);
        assert_exit(&out, 0);
    }
    let out = clearbox(&[
        "verify",
        &image,
        "--key",
        &public,
        "--identity",
        "docker.io/other/alpine",
    ]);
    assert_exit(&out, 1);
}

#[test]
fn repeated_annotation_key_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let image = tiny_layout(dir.path());
    let (key, public) = key_pair(dir.path(), "signer", PASSWORD);
    let message = "annotation key `k` is given twice with -a (`k=1` and `k=2`); give each key once";
    let out = sign(
        &image,
        &key,
        &[
            "--identity",
            "registry.example/app",
            "-a",
            "k=1",
            "-a",
            "k=2",
        ],
    );
    assert_exit(&out, 2);
    assert!(stderr(&out).contains(message), "{}", stderr(&out));
    let out = clearbox(&["verify", &image, "--key", &public, "-a", "k=1", "-a", "k=2"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains(message), "{}", stderr(&out));
}

#[test]
fn key_prefix_without_file_name_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("dd");
    std::fs::create_dir(&keys).unwrap();
    let prefix = format!("{}/", keys.display());
    let out = clearbox_env(
        &["key", "generate", "--output-prefix", &prefix],
        &[PASSWORD],
    );
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains(&format!(
            "`{prefix}` does not end in a file name, so the keys would be the hidden files \
             `.key` and `.pub`; give a prefix such as `{prefix}cosign`"
        )),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_dir(&keys).unwrap().count(), 0);
}

#[test]
fn wrong_password_names_its_variable() {
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = key_pair(dir.path(), "signer", PASSWORD);
    let image = tiny_layout(dir.path());
    let cases = [
        (
            vec![
                ("CLEARBOX_PASSWORD", "wrong"),
                ("COSIGN_PASSWORD", "correct horse"),
            ],
            "the password from CLEARBOX_PASSWORD (read before COSIGN_PASSWORD) is wrong",
        ),
        (
            vec![("COSIGN_PASSWORD", "wrong")],
            "the password from COSIGN_PASSWORD is wrong",
        ),
    ];
    for (env, message) in cases {
        let mut command = Command::new(env!("CARGO_BIN_EXE_clearbox"));
        command
            .args(["sign", &image, "--key", &key])
            .env_remove("CLEARBOX_PASSWORD")
            .env_remove("COSIGN_PASSWORD")
            .envs(env)
            .stdin(Stdio::null());
        let out = command.output().unwrap();
        assert_exit(&out, 2);
        assert!(stderr(&out).contains(message), "{}", stderr(&out));
    }
}

#[test]
fn verify_attestation_lists_checks() {
    let dir = tempfile::tempdir().unwrap();
    let image = tiny_layout(dir.path());
    let (key, public) = key_pair(dir.path(), "signer", PASSWORD);
    let predicate = dir.path().join("provenance.json");
    std::fs::write(&predicate, r#"{"buildDefinition":{"buildType":"https://example.invalid/build","externalParameters":{}},"runDetails":{"builder":{"id":"https://example.invalid/builder"}}}"#).unwrap();
    let out = clearbox_env(
        &[
            "attest",
            &image,
            "--key",
            &key,
            "--identity",
            "registry.example/app",
            "--type",
            "slsaprovenance1",
            "--predicate",
            predicate.to_str().unwrap(),
        ],
        &[PASSWORD],
    );
    assert_exit(&out, 0);
    let checked = [
        "  - each envelope's signature was checked over the DSSE PAE of its payload with the key",
        "  - each statement names this image's manifest digest as a subject",
    ];

    let out = clearbox(&[
        "verify-attestation",
        &image,
        "--key",
        &public,
        "--type",
        "slsaprovenance1",
    ]);
    assert_exit(&out, 0);
    let text = stderr(&out);
    for line in checked {
        assert!(text.contains(line), "{text}");
    }
    assert!(
        text.contains(
            "  - each statement has the required predicate type https://slsa.dev/provenance/v1"
        ),
        "{text}"
    );

    let out = clearbox(&["verify-attestation", &image, "--key", &public]);
    assert_exit(&out, 0);
    let text = stderr(&out);
    for line in checked {
        assert!(text.contains(line), "{text}");
    }
    assert!(
        text.contains("  not checked: the predicate type, because no --type was given"),
        "{text}"
    );
}

/// verify-attestation prints the signed statement only: fields added to the stored envelope
/// outside the signature (an extra member, a changed key id) verify but are not printed.
#[test]
fn verify_attestation_prints_signed_statement_only() {
    use sha2::Digest as _;

    let dir = tempfile::tempdir().unwrap();
    let image = tiny_layout(dir.path());
    let (key, public) = key_pair(dir.path(), "signer", PASSWORD);
    let predicate = dir.path().join("predicate.json");
    std::fs::write(&predicate, r#"{"checked":"yes"}"#).unwrap();
    let out = clearbox_env(
        &[
            "attest",
            &image,
            "--key",
            &key,
            "--identity",
            "registry.example/app",
            "--type",
            "https://example.invalid/check/v1",
            "--predicate",
            predicate.to_str().unwrap(),
        ],
        &[PASSWORD],
    );
    assert_exit(&out, 0);

    // Add unsigned content to the stored envelope and store it under its new digest.
    let blobs = dir.path().join("blobs/sha256");
    let read = |digest: &str| -> serde_json::Value {
        serde_json::from_slice(
            &std::fs::read(blobs.join(digest.trim_start_matches("sha256:"))).unwrap(),
        )
        .unwrap()
    };
    let write = |value: &serde_json::Value| {
        let bytes = serde_json::to_vec(value).unwrap();
        let digest = hex::encode(sha2::Sha256::digest(&bytes));
        std::fs::write(blobs.join(&digest), &bytes).unwrap();
        (format!("sha256:{digest}"), bytes.len())
    };
    let mut index = read_index(dir.path());
    let mut replaced = 0;
    for entry in index["manifests"].as_array_mut().unwrap() {
        let mut manifest = read(entry["digest"].as_str().unwrap());
        let Some(layers) = manifest["layers"].as_array_mut() else {
            continue;
        };
        let Some(layer) = layers
            .iter_mut()
            .find(|layer| layer["mediaType"] == "application/vnd.dsse.envelope.v1+json")
        else {
            continue;
        };
        let mut envelope = read(layer["digest"].as_str().unwrap());
        envelope["comment"] = serde_json::json!("unsigned text");
        envelope["signatures"][0]["keyid"] = serde_json::json!("forged-keyid");
        let (digest, size) = write(&envelope);
        layer["digest"] = serde_json::json!(digest);
        layer["size"] = serde_json::json!(size);
        let (digest, size) = write(&manifest);
        entry["digest"] = serde_json::json!(digest);
        entry["size"] = serde_json::json!(size);
        replaced += 1;
    }
    assert_eq!(replaced, 1, "one attestation manifest in the layout");
    std::fs::write(
        dir.path().join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();

    let out = clearbox(&["verify-attestation", &image, "--key", &public]);
    assert_exit(&out, 0);
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    let statement: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(
        statement["predicateType"],
        "https://example.invalid/check/v1"
    );
    assert_eq!(
        statement["predicate"],
        serde_json::json!({"checked": "yes"})
    );
    assert_eq!(
        statement.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["_type", "subject", "predicateType", "predicate"]
    );
    assert!(!stdout.contains("unsigned text"), "{stdout}");
    assert!(!stdout.contains("forged-keyid"), "{stdout}");
}

fn read_index(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap()
}

/// A TCP server on loopback that accepts connections and never responds.
struct SilentServer {
    child: Child,
    port: u16,
}

impl SilentServer {
    fn start() -> SilentServer {
        let script = "import socket\n\
                      s = socket.socket()\n\
                      s.bind(('127.0.0.1', 0))\n\
                      s.listen(16)\n\
                      print(s.getsockname()[1], flush=True)\n\
                      held = []\n\
                      while True:\n    held.append(s.accept()[0])\n";
        let mut child = Command::new("python3")
            .args(["-c", script])
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().expect("the server prints its port");
        SilentServer { child, port }
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn silent_registry_times_out() {
    let server = SilentServer::start();
    let host = format!("127.0.0.1:{}", server.port);
    let out = clearbox(&[
        "download",
        "signature",
        &format!("docker://{host}/app:v1"),
        "--insecure-registry",
        &host,
        "--registry-timeout",
        "1",
    ]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains(
            "the registry did not respond within 1 s (connect timeout 1 s) in 2 attempt(s); \
             check that it is reachable, or raise `--registry-timeout`"
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn registry_timeout_must_be_positive() {
    let out = clearbox(&[
        "download",
        "signature",
        "docker://127.0.0.1:1/app:v1",
        "--registry-timeout",
        "0",
    ]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("`0` is not a whole number of seconds from 1 to 3600"),
        "{}",
        stderr(&out)
    );
}
