//! Signing commands end to end against a real registry, checked by the real cosign.

use std::path::{Path, PathBuf};
use std::process::Command;

use clearbox_testdata::registry::{RegistryConfig, RegistryServer};

use crate::support::{
    assert_exit, clearbox_env, example_image, key_pair, oci_ref, stderr, stdout, workspace,
};

const PASSWORD: (&str, &str) = ("CLEARBOX_PASSWORD", "correct horse");

fn cosign() -> Option<PathBuf> {
    let path = workspace().join("tools/bin/cosign");
    if path.is_file() {
        Some(path)
    } else {
        clearbox_testdata::skip("tools/bin/cosign is missing; run scripts/setup.sh")
    }
}

/// The key pair, image reference and registry a signing test works against.
struct Session {
    host: String,
    reference: String,
    key: String,
    public: String,
    dir: tempfile::TempDir,
}

impl Session {
    fn run(&self, args: &[&str]) -> std::process::Output {
        let mut full: Vec<&str> = args.to_vec();
        full.extend(["--insecure-registry", &self.host]);
        clearbox_env(&full, &[PASSWORD])
    }

    fn cosign(&self, cosign: &Path, args: &[&str]) {
        let out = Command::new(cosign)
            .args(args)
            .args([
                "--key",
                &self.public,
                "--insecure-ignore-tlog",
                "--allow-insecure-registry",
            ])
            .arg(format!("{}/ai/app:v1", self.host))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cosign {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn sign_verify_attest_against_cosign() {
    let (Some(image), Some(cosign)) = (example_image(), cosign()) else {
        return;
    };
    let Some(server) = RegistryServer::start(RegistryConfig {
        tls: false,
        htpasswd: None,
        token_auth: None,
    }) else {
        return;
    };
    if server
        .push_layout(&oci_ref(&image), "ai/app:v1", None)
        .is_none()
    {
        return;
    }
    let host = server.host_port();
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = key_pair(dir.path(), "ours", PASSWORD);
    let session = Session {
        reference: format!("docker://{host}/ai/app:v1"),
        host,
        key,
        public,
        dir,
    };
    check_signature(&session, &cosign, &image);
    check_attestation(&session, &cosign);
    check_attached_sbom(&session);
}

/// Sign with an annotation; cosign accepts the signature, and so do we, with the payload
/// naming the image digest.
fn check_signature(session: &Session, cosign: &Path, image: &Path) {
    let reference = session.reference.as_str();
    assert_exit(
        &session.run(&["sign", reference, "--key", &session.key, "-a", "team=ml"]),
        0,
    );
    session.cosign(cosign, &["verify", "-a", "team=ml"]);

    let out = session.run(&[
        "verify",
        reference,
        "--key",
        &session.public,
        "-a",
        "team=ml",
    ]);
    assert_exit(&out, 0);
    let payloads: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let index = crate::support::read_json(&image.join("index.json"));
    assert_eq!(
        payloads[0]["critical"]["image"]["docker-manifest-digest"],
        index["manifests"][0]["digest"]
    );
    assert_eq!(payloads[0]["optional"]["team"], "ml");

    // Another key, a missing annotation: exit 1 with the reason.
    let (_, other_public) = key_pair(session.dir.path(), "other", PASSWORD);
    let out = session.run(&["verify", reference, "--key", &other_public]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("verification failed"),
        "{}",
        stderr(&out)
    );
    let out = session.run(&[
        "verify",
        reference,
        "--key",
        &session.public,
        "-a",
        "team=web",
    ]);
    assert_exit(&out, 1);
}

/// An SLSA v1 attestation, verified by us and by cosign; asking for another type fails.
fn check_attestation(session: &Session, cosign: &Path) {
    let reference = session.reference.as_str();
    let predicate = session.dir.path().join("provenance.json");
    std::fs::write(&predicate, r#"{"buildDefinition":{"buildType":"https://example.invalid/build","externalParameters":{}},"runDetails":{"builder":{"id":"https://example.invalid/builder"}}}"#).unwrap();
    assert_exit(
        &session.run(&[
            "attest",
            reference,
            "--key",
            &session.key,
            "--type",
            "slsaprovenance1",
            "--predicate",
            predicate.to_str().unwrap(),
        ]),
        0,
    );
    let verify = |kind: &str| {
        session.run(&[
            "verify-attestation",
            reference,
            "--key",
            &session.public,
            "--type",
            kind,
        ])
    };
    let out = verify("slsaprovenance1");
    assert_exit(&out, 0);
    // stdout has the signed statement only, not the envelope around it.
    let statement: serde_json::Value =
        serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    assert_eq!(statement["predicateType"], "https://slsa.dev/provenance/v1");
    assert!(statement.get("signatures").is_none(), "{statement}");
    session.cosign(cosign, &["verify-attestation", "--type", "slsaprovenance1"]);
    assert_exit(&verify("vuln"), 1);
}

/// An SBOM attached and downloaded byte for byte; signatures downloaded in cosign's shape.
fn check_attached_sbom(session: &Session) {
    let reference = session.reference.as_str();
    let sbom = session.dir.path().join("sbom.spdx.json");
    std::fs::write(&sbom, b"{\"spdxVersion\":\"SPDX-2.3\"}").unwrap();
    assert_exit(
        &session.run(&[
            "attach",
            "sbom",
            reference,
            "--sbom",
            sbom.to_str().unwrap(),
        ]),
        0,
    );
    let out = session.run(&["download", "sbom", reference]);
    assert_exit(&out, 0);
    assert_eq!(out.stdout, std::fs::read(&sbom).unwrap());
    let out = session.run(&["download", "signature", reference]);
    assert_exit(&out, 0);
    let line: serde_json::Value =
        serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    assert!(
        line["Base64Signature"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
}

#[test]
fn cosign_signature_verified_by_clearbox() {
    let (Some(image), Some(cosign)) = (example_image(), cosign()) else {
        return;
    };
    let Some(server) = RegistryServer::start(RegistryConfig {
        tls: false,
        htpasswd: None,
        token_auth: None,
    }) else {
        return;
    };
    if server
        .push_layout(&oci_ref(&image), "ai/app:v2", None)
        .is_none()
    {
        return;
    }
    let host = server.host_port();
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new(&cosign)
        .current_dir(dir.path())
        .env("COSIGN_PASSWORD", "pw")
        .args(["generate-key-pair"])
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let signed = Command::new(&cosign)
        .env("COSIGN_PASSWORD", "pw")
        .args(["sign", "-a", "note=<b>", "--key"])
        .arg(dir.path().join("cosign.key"))
        .args(["--tlog-upload=false", "--allow-insecure-registry", "--yes"])
        .arg(format!("{host}/ai/app:v2"))
        .output()
        .unwrap();
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
    let public = dir.path().join("cosign.pub");
    let out = clearbox_env(
        &[
            "verify",
            &format!("docker://{host}/ai/app:v2"),
            "--key",
            public.to_str().unwrap(),
            "--insecure-registry",
            &host,
        ],
        &[],
    );
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("1 of 1 signatures verified"),
        "{}",
        stderr(&out)
    );

    // The payload printed is the one stored, byte for byte: cosign writes `<` as `\u003c`.
    let stored = download_payload(&format!("docker://{host}/ai/app:v2"), &host);
    assert!(
        String::from_utf8_lossy(&stored).contains("\\u003cb\\u003e"),
        "{}",
        String::from_utf8_lossy(&stored)
    );
    let mut expected = b"[".to_vec();
    expected.extend_from_slice(&stored);
    expected.extend_from_slice(b"]\n");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&expected)
    );
}

/// Returns the payload of the first signature that `clearbox download signature` lists.
fn download_payload(reference: &str, host: &str) -> Vec<u8> {
    use base64::Engine as _;
    let out = clearbox_env(
        &[
            "download",
            "signature",
            reference,
            "--insecure-registry",
            host,
        ],
        &[],
    );
    assert_exit(&out, 0);
    let line: serde_json::Value =
        serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    base64::engine::general_purpose::STANDARD
        .decode(line["Payload"].as_str().unwrap())
        .unwrap()
}

/// Downloads every attestation on `reference` and decodes the statement in each envelope.
fn downloaded_statements(reference: &str, host: &str) -> Vec<serde_json::Value> {
    use base64::Engine as _;
    let out = clearbox_env(
        &[
            "download",
            "attestation",
            reference,
            "--insecure-registry",
            host,
        ],
        &[],
    );
    assert_exit(&out, 0);
    stdout(&out)
        .lines()
        .map(|line| {
            let envelope: serde_json::Value = serde_json::from_str(line).unwrap();
            let payload = base64::engine::general_purpose::STANDARD
                .decode(envelope["payload"].as_str().unwrap())
                .unwrap();
            serde_json::from_slice(&payload).unwrap()
        })
        .collect()
}

/// `YYYY-MM-DDTHH:MM:SSZ`, the form Go's `time.RFC3339` gives a UTC time.
fn is_rfc3339_utc_seconds(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 20
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            10 => *b == b'T',
            13 | 16 => *b == b':',
            19 => *b == b'Z',
            _ => b.is_ascii_digit(),
        })
}

#[test]
fn custom_predicate_has_cosign_shape() {
    let (Some(corpus), Some(cosign)) = (crate::support::corpus(), cosign()) else {
        return;
    };
    let Some(server) = RegistryServer::start(RegistryConfig::default()) else {
        return;
    };
    let layout = corpus.join("images/trivy/pkg/fanal/test/testdata/test.oci");
    if server
        .push_layout(&format!("oci:{}", layout.display()), "t/app:v1", None)
        .is_none()
    {
        return;
    }
    let host = server.host_port();
    let reference = format!("docker://{host}/t/app:v1");
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = key_pair(dir.path(), "ours", PASSWORD);
    let text = "line one\nline \"two\" <not json>\n";
    let predicate = dir.path().join("notes.txt");
    std::fs::write(&predicate, text).unwrap();

    // cosign's attestation, then ours, of the same text file.
    let generated = Command::new(&cosign)
        .current_dir(dir.path())
        .env("COSIGN_PASSWORD", "pw")
        .arg("generate-key-pair")
        .output()
        .unwrap();
    assert!(generated.status.success());
    let attested = Command::new(&cosign)
        .env("COSIGN_PASSWORD", "pw")
        .args(["attest", "--type", "custom", "--predicate"])
        .arg(&predicate)
        .arg("--key")
        .arg(dir.path().join("cosign.key"))
        .args(["--tlog-upload=false", "--allow-insecure-registry", "--yes"])
        .arg(format!("{host}/t/app:v1"))
        .output()
        .unwrap();
    assert!(
        attested.status.success(),
        "{}",
        String::from_utf8_lossy(&attested.stderr)
    );
    let ours = clearbox_env(
        &[
            "attest",
            &reference,
            "--key",
            &key,
            "--type",
            "custom",
            "--predicate",
            predicate.to_str().unwrap(),
            "--insecure-registry",
            &host,
        ],
        &[PASSWORD],
    );
    assert_exit(&ours, 0);

    let statements = downloaded_statements(&reference, &host);
    assert_eq!(statements.len(), 2, "{statements:?}");
    for statement in &statements {
        assert_eq!(
            statement["predicateType"],
            "https://cosign.sigstore.dev/attestation/v1"
        );
        let predicate = statement["predicate"].as_object().unwrap();
        let keys: Vec<&String> = predicate.keys().collect();
        assert_eq!(keys, ["Data", "Timestamp"], "{statement}");
        assert_eq!(predicate["Data"], text);
        let timestamp = predicate["Timestamp"].as_str().unwrap();
        assert!(is_rfc3339_utc_seconds(timestamp), "{timestamp}");
    }

    // cosign accepts our custom attestation.
    let verified = Command::new(&cosign)
        .args(["verify-attestation", "--type", "custom", "--key", &public])
        .args(["--insecure-ignore-tlog", "--allow-insecure-registry"])
        .arg(format!("{host}/t/app:v1"))
        .output()
        .unwrap();
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
}

#[test]
fn uri_predicate_embedded_and_null_rejected() {
    let Some(corpus) = crate::support::corpus() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    let copied = Command::new("cp")
        .args(["-r", "--no-preserve=mode"])
        .arg(corpus.join("images/trivy/pkg/fanal/test/testdata/test.oci"))
        .arg(&layout)
        .status()
        .unwrap();
    assert!(copied.success());
    let reference = format!("oci:{}", layout.display());
    let (key, public) = key_pair(dir.path(), "ours", PASSWORD);
    let attest = |kind: &str, contents: &str| {
        let file = dir.path().join("predicate");
        std::fs::write(&file, contents).unwrap();
        clearbox_env(
            &[
                "attest",
                &reference,
                "--key",
                &key,
                "--identity",
                "registry.example/app",
                "--type",
                kind,
                "--predicate",
                file.to_str().unwrap(),
            ],
            &[PASSWORD],
        )
    };

    for kind in [
        "slsaprovenance",
        "slsaprovenance1",
        "spdxjson",
        "cyclonedx",
        "vuln",
    ] {
        let out = attest(kind, "null");
        assert_exit(&out, 2);
        assert!(
            stderr(&out).contains("the predicate is JSON `null`"),
            "{kind}: {}",
            stderr(&out)
        );
    }
    let out = attest("https://example.com/model-card/v1", "plain text");
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("is not valid JSON"),
        "{}",
        stderr(&out)
    );

    let out = attest(
        "https://example.com/model-card/v1",
        r#"{"model":"m","metrics":{"f1":0.9}}"#,
    );
    assert_exit(&out, 0);
    let out = clearbox_env(
        &[
            "verify-attestation",
            &reference,
            "--key",
            &public,
            "--type",
            "https://example.com/model-card/v1",
        ],
        &[],
    );
    assert_exit(&out, 0);
    let statement: serde_json::Value =
        serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    assert_eq!(
        statement["predicate"],
        serde_json::json!({"model": "m", "metrics": {"f1": 0.9}})
    );
    assert!(
        stderr(&out).contains("not checked: the content of each predicate"),
        "{}",
        stderr(&out)
    );
}
