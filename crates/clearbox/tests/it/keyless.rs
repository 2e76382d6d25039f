//! Keyless verification: `verify` and `verify-attestation IMAGE` with a certificate identity,
//! and `trust import`.
//!
//! Attestations use a real one: slsa-github-generator's keyless SLSA provenance in a layout
//! that `cosign save` wrote, checked against the Sigstore public-good trusted root of the
//! corpus. No real keyless image *signature* is in the corpus, so signatures use a test PKI
//! built here with `openssl`. A CA takes the place of Fulcio, the leaf certificate has an embedded
//! SCT from a test CT log, a Rekor key signs the signed entry timestamp, and a timestamp
//! authority signs RFC 3161 timestamps. Each check gets a test that makes it fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::support::{assert_exit, clearbox, clearbox_env, corpus, stderr, stdout};

const SIGNER: &str = "signer@example.com";
const ISSUER: &str = "https://issuer.example";
const REPOSITORY: &str = "registry.example/app";

// ---------------------------------------------------------------------------------------------
// Real data: slsa-github-generator's keyless SLSA provenance, saved by cosign.

const SLSA_LAYOUT: &str =
    "attest/slsa-verifier/cli-testdata/gha_generic_container/v2.1.0/container_workflow_dispatch";
/// The SAN of the layout's certificate (`openssl x509 -ext subjectAltName` on the
/// `dev.sigstore.cosign/certificate` annotation).
const SLSA_IDENTITY: &str = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.1.0";
/// Its OIDC issuer extension.
const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
/// The public-good trusted root whose 2022 Fulcio CA and CT log cover the certificate's date,
/// 2025-02-25.
const PUBLIC_GOOD_ROOT: &str = "attest/sigstore-go/examples/trusted-root-public-good.json";

fn slsa_verify(layout: &Path, root: &Path, identity: &[&str]) -> Output {
    let image = format!("oci:{}", layout.display());
    let mut args = vec![
        "verify-attestation",
        &image,
        "--trusted-root",
        root.to_str().unwrap(),
        "--type",
        "slsaprovenance",
    ];
    args.extend_from_slice(identity);
    clearbox(&args)
}

fn exact_identity() -> [&'static str; 4] {
    [
        "--certificate-identity",
        SLSA_IDENTITY,
        "--certificate-oidc-issuer",
        GITHUB_ISSUER,
    ]
}

#[test]
fn slsa_layout_attestation_verified() {
    let Some(corpus) = corpus() else { return };
    let output = slsa_verify(
        &corpus.join(SLSA_LAYOUT),
        &corpus.join(PUBLIC_GOOD_ROOT),
        &exact_identity(),
    );
    assert_exit(&output, 0);
    // stdout has the signed statement only, not the envelope around it.
    let statement: Value = serde_json::from_str(stdout(&output).lines().next().unwrap()).unwrap();
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v0.1");
    assert_eq!(
        statement["predicateType"],
        "https://slsa.dev/provenance/v0.2"
    );
    assert!(statement.get("payloadType").is_none(), "{statement}");
    assert!(statement.get("signatures").is_none(), "{statement}");
    let text = stderr(&output);
    assert!(text.contains("1 of 1 attestations verified"), "{text}");
    assert!(
        text.contains(&format!("certificate for `{SLSA_IDENTITY}`")),
        "{text}"
    );
    assert!(
        text.contains("signed at 2025-02-25T21:58:"),
        "the Rekor integrated time is the signing time: {text}"
    );
    assert!(text.contains("signed-entry-timestamp"), "{text}");
    assert!(text.contains("certificate-transparency"), "{text}");
}

#[test]
fn slsa_layout_wrong_identity_rejected() {
    let Some(corpus) = corpus() else { return };
    let other = SLSA_IDENTITY.replace("generator_container_slsa3", "generator_generic_slsa3");
    let output = slsa_verify(
        &corpus.join(SLSA_LAYOUT),
        &corpus.join(PUBLIC_GOOD_ROOT),
        &[
            "--certificate-identity",
            &other,
            "--certificate-oidc-issuer",
            GITHUB_ISSUER,
        ],
    );
    assert_rejected(&output, "[identity] the certificate identity is");
}

#[test]
fn slsa_layout_wrong_issuer_rejected() {
    let Some(corpus) = corpus() else { return };
    let output = slsa_verify(
        &corpus.join(SLSA_LAYOUT),
        &corpus.join(PUBLIC_GOOD_ROOT),
        &[
            "--certificate-identity",
            SLSA_IDENTITY,
            "--certificate-oidc-issuer",
            "https://accounts.google.com",
        ],
    );
    assert_rejected(
        &output,
        &format!("[oidc-issuer] the certificate's OIDC issuer is `{GITHUB_ISSUER}`"),
    );
}

#[test]
fn slsa_layout_identity_regexp() {
    let Some(corpus) = corpus() else { return };
    let layout = corpus.join(SLSA_LAYOUT);
    let root = corpus.join(PUBLIC_GOOD_ROOT);
    let regexp = |identity: &str, issuer: &str| {
        slsa_verify(
            &layout,
            &root,
            &[
                "--certificate-identity-regexp",
                identity,
                "--certificate-oidc-issuer-regexp",
                issuer,
            ],
        )
    };

    // A pattern for the whole SAN and issuer passes.
    let output = regexp(
        r"https://github\.com/slsa-framework/slsa-github-generator/\.github/workflows/.+@refs/tags/v2\..*",
        r"https://token\.actions\.githubusercontent\.com",
    );
    assert_exit(&output, 0);

    // Part of the SAN does not: the pattern must match the whole value.
    let output = regexp(
        "slsa-framework/slsa-github-generator",
        r"https://token\.actions\.githubusercontent\.com",
    );
    assert_rejected(&output, "[identity]");
    assert!(
        stderr(&output).contains("a value matching"),
        "{}",
        stderr(&output)
    );

    // Another tag does not.
    let output = regexp(
        r"https://github\.com/slsa-framework/.*@refs/tags/v1\..*",
        r"https://token\.actions\.githubusercontent\.com",
    );
    assert_rejected(&output, "[identity]");

    // An expression that does not compile is named with its problem on one line.
    let output = regexp("x)|(.*", r"https://token\.actions\.githubusercontent\.com");
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains(
            "invalid --certificate-identity-regexp `x)|(.*`: unopened group at character 2; \
             fix the regular expression\n"
        ),
        "{}",
        stderr(&output)
    );
}

#[test]
fn slsa_layout_tampered_payload_rejected() {
    let Some(corpus) = corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    copy_dir(&corpus.join(SLSA_LAYOUT), &layout);

    // Change the statement and store the envelope under its new digest, so the layer's
    // descriptor still matches and only the signature can notice.
    let mut index = read_json(&layout.join("index.json"));
    let atts = index["manifests"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|entry| entry["annotations"]["kind"] == "dev.cosignproject.cosign/atts")
        .unwrap();
    let mut manifest = read_json(&blob_path(&layout, atts["digest"].as_str().unwrap()));
    let mut envelope = read_json(&blob_path(
        &layout,
        manifest["layers"][0]["digest"].as_str().unwrap(),
    ));
    let statement = STANDARD
        .decode(envelope["payload"].as_str().unwrap())
        .unwrap();
    let tampered = String::from_utf8(statement)
        .unwrap()
        .replace("refs/heads/main", "refs/heads/evil");
    envelope["payload"] = json!(STANDARD.encode(tampered));
    let (digest, size) = write_blob(&layout, &serde_json::to_vec(&envelope).unwrap());
    manifest["layers"][0]["digest"] = json!(digest);
    manifest["layers"][0]["size"] = json!(size);
    let (digest, size) = write_blob(&layout, &serde_json::to_vec(&manifest).unwrap());
    atts["digest"] = json!(digest);
    atts["size"] = json!(size);
    std::fs::write(
        layout.join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();

    let output = slsa_verify(&layout, &corpus.join(PUBLIC_GOOD_ROOT), &exact_identity());
    assert_rejected(&output, "[signature] the signature over");
    assert!(
        stderr(&output).contains("[tlog-body]"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn slsa_layout_root_without_issuing_ca_rejected() {
    let Some(corpus) = corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut root = read_json(&corpus.join(PUBLIC_GOOD_ROOT));

    // Keep only the 2021 CA, whose key did not issue the 2025 certificate.
    root["certificateAuthorities"]
        .as_array_mut()
        .unwrap()
        .retain(|authority| authority["validFor"]["end"].is_string());
    assert_eq!(root["certificateAuthorities"].as_array().unwrap().len(), 1);
    let path = dir.path().join("trusted_root.json");
    std::fs::write(&path, serde_json::to_vec(&root).unwrap()).unwrap();

    let output = slsa_verify(&corpus.join(SLSA_LAYOUT), &path, &exact_identity());
    assert_rejected(
        &output,
        "[certificate-chain] the signing certificate does not chain to the trusted root",
    );
}

// ---------------------------------------------------------------------------------------------
// Image signatures signed with a test PKI.

#[test]
fn keyless_signature_with_set_verified() {
    let Some(pki) = Pki::new() else { return };
    let layout = pki.signed_layout(&Signing::default());
    let output = verify_layout(&layout, &pki.trusted_root(&RootParts::all()), &identity());
    assert_exit(&output, 0);
    let payloads: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        payloads[0]["critical"]["image"]["docker-manifest-digest"],
        layout.image_digest
    );
    let text = stderr(&output);
    assert!(text.contains("1 of 1 signatures verified"), "{text}");
    assert!(
        text.contains(&format!("certificate for `{SIGNER}` from `{ISSUER}`")),
        "{text}"
    );
    assert!(
        text.contains("(tlog entry 0 (https://rekor.test))"),
        "{text}"
    );
}

#[test]
fn keyless_signature_with_timestamp_only_verified() {
    let Some(pki) = Pki::new() else { return };
    let layout = pki.signed_layout(&Signing {
        rekor: Rekor::None,
        timestamp: true,
        ..Signing::default()
    });
    let output = verify_layout(&layout, &pki.trusted_root(&RootParts::all()), &identity());
    assert_exit(&output, 0);
    let text = stderr(&output);
    assert!(
        text.contains("(timestamp 0 (test tsa (clearbox test)))"),
        "{text}"
    );
    assert!(text.contains("signed-timestamp"), "{text}");
}

#[test]
fn keyless_signature_without_time_rejected() {
    let Some(pki) = Pki::new() else { return };
    let layout = pki.signed_layout(&Signing {
        rekor: Rekor::None,
        ..Signing::default()
    });
    let output = verify_layout(&layout, &pki.trusted_root(&RootParts::all()), &identity());
    assert_rejected(
        &output,
        "[signing-time] no verified time: the signature needs a signed entry timestamp (Rekor) \
         or an RFC 3161 timestamp",
    );
}

#[test]
fn keyless_signature_wrong_identity_rejected() {
    let Some(pki) = Pki::new() else { return };
    let layout = pki.signed_layout(&Signing::default());
    let output = verify_layout(
        &layout,
        &pki.trusted_root(&RootParts::all()),
        &[
            "--certificate-identity",
            "other@example.com",
            "--certificate-oidc-issuer",
            ISSUER,
        ],
    );
    assert_rejected(
        &output,
        &format!("[identity] the certificate identity is `{SIGNER}`, expected `other@example.com`"),
    );
}

#[test]
fn keyless_signature_wrong_issuer_rejected() {
    let Some(pki) = Pki::new() else { return };
    let layout = pki.signed_layout(&Signing::default());
    let output = verify_layout(
        &layout,
        &pki.trusted_root(&RootParts::all()),
        &[
            "--certificate-identity",
            SIGNER,
            "--certificate-oidc-issuer",
            "https://other.example",
        ],
    );
    assert_rejected(
        &output,
        &format!(
            "[oidc-issuer] the certificate's OIDC issuer is `{ISSUER}`, expected \
             `https://other.example`"
        ),
    );
}

#[test]
fn keyless_signature_regexp_whole_value() {
    let Some(pki) = Pki::new() else { return };
    let layout = pki.signed_layout(&Signing::default());
    let root = pki.trusted_root(&RootParts::all());
    let output = verify_layout(
        &layout,
        &root,
        &[
            "--certificate-identity-regexp",
            r".*@example\.com",
            "--certificate-oidc-issuer",
            ISSUER,
        ],
    );
    assert_exit(&output, 0);
    let output = verify_layout(
        &layout,
        &root,
        &[
            "--certificate-identity-regexp",
            "signer",
            "--certificate-oidc-issuer",
            ISSUER,
        ],
    );
    assert_rejected(&output, "[identity]");
    let output = verify_layout(
        &layout,
        &root,
        &[
            "--certificate-identity",
            SIGNER,
            "--certificate-oidc-issuer-regexp",
            r"https://issuer\.other",
        ],
    );
    assert_rejected(&output, "[oidc-issuer]");
}

#[test]
fn keyless_signature_tampered_payload_rejected() {
    let Some(pki) = Pki::new() else { return };
    let layout = pki.signed_layout(&Signing {
        tamper_payload: true,
        ..Signing::default()
    });
    let output = verify_layout(&layout, &pki.trusted_root(&RootParts::all()), &identity());
    assert_rejected(&output, "[signature] the signature over");
    assert!(
        stderr(&output).contains("[tlog-body]"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn keyless_signature_untrusted_ca_rejected() {
    let Some(pki) = Pki::new() else { return };
    let layout = pki.signed_layout(&Signing::default());
    let root = pki.trusted_root(&RootParts {
        other_ca: true,
        ..RootParts::all()
    });
    let output = verify_layout(&layout, &root, &identity());
    assert_rejected(
        &output,
        "[certificate-chain] the signing certificate does not chain to the trusted root",
    );
}

#[test]
fn keyless_signature_unknown_ct_log_rejected() {
    let Some(pki) = Pki::new() else { return };
    let layout = pki.signed_layout(&Signing::default());
    let root = pki.trusted_root(&RootParts {
        ct_log: false,
        ..RootParts::all()
    });
    let output = verify_layout(&layout, &root, &identity());
    assert_rejected(
        &output,
        "[certificate-transparency] no embedded SCT verifies",
    );
}

#[test]
fn keyless_signature_set_by_other_key_rejected() {
    let Some(pki) = Pki::new() else { return };
    let layout = pki.signed_layout(&Signing {
        rekor: Rekor::SignedBy("ct.key"),
        ..Signing::default()
    });
    let output = verify_layout(&layout, &pki.trusted_root(&RootParts::all()), &identity());
    assert_rejected(
        &output,
        "[signed-entry-timestamp] tlog entry 0: the signed entry timestamp does not verify",
    );
}

#[test]
fn keyless_signature_expired_certificate_rejected() {
    let Some(pki) = Pki::new() else { return };
    // Rekor vouches for a time three days before the certificate's notBefore.
    let layout = pki.signed_layout(&Signing {
        rekor: Rekor::At(unix_now() - 3 * 86_400),
        ..Signing::default()
    });
    let output = verify_layout(&layout, &pki.trusted_root(&RootParts::all()), &identity());
    assert_rejected(
        &output,
        "[signing-time] the signing certificate was not valid at",
    );
}

#[test]
fn keyless_signature_other_image_rejected() {
    let Some(pki) = Pki::new() else { return };
    let layout = pki.signed_layout(&Signing {
        payload_digest: Some(format!("sha256:{}", "0".repeat(64))),
        ..Signing::default()
    });
    let output = verify_layout(&layout, &pki.trusted_root(&RootParts::all()), &identity());
    assert_rejected(&output, "the signature is for sha256:0000");
}

#[test]
fn keyless_key_based_signature_rejected() {
    let Some(pki) = Pki::new() else { return };
    let layout = pki.signed_layout(&Signing {
        certificate: false,
        ..Signing::default()
    });
    let output = verify_layout(&layout, &pki.trusted_root(&RootParts::all()), &identity());
    assert_rejected(&output, "the layer has no signing certificate");
}

/// The predicate type of a cosign image signature in the bundle format.
const SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";

#[test]
fn bundle_signature_verified() {
    let Some(pki) = Pki::new() else { return };
    let layout = pki.bundle_layout(SIGN_PREDICATE, true);
    let output = verify_layout(&layout, &pki.trusted_root(&RootParts::all()), &identity());
    assert_exit(&output, 0);
    let statements: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(statements[0]["predicateType"], SIGN_PREDICATE);
    assert_eq!(
        statements[0]["subject"][0]["digest"]["sha256"],
        layout.image_digest["sha256:".len()..]
    );
    let text = stderr(&output);
    assert!(text.contains("1 of 1 signatures verified"), "{text}");
    assert!(text.contains("(layout index)"), "{text}");
}

#[test]
fn bundle_signature_wrong_identity_rejected() {
    let Some(pki) = Pki::new() else { return };
    let layout = pki.bundle_layout(SIGN_PREDICATE, true);
    let output = verify_layout(
        &layout,
        &pki.trusted_root(&RootParts::all()),
        &[
            "--certificate-identity",
            "other@example.com",
            "--certificate-oidc-issuer",
            ISSUER,
        ],
    );
    assert_rejected(&output, "[identity] the certificate identity is");
}

#[test]
fn bundle_signature_repository_unavailable() {
    let Some(pki) = Pki::new() else { return };
    let layout = pki.bundle_layout(SIGN_PREDICATE, true);
    let mut args = identity().to_vec();
    args.extend(["--identity", REPOSITORY]);
    let output = verify_layout(&layout, &pki.trusted_root(&RootParts::all()), &args);
    assert_rejected(
        &output,
        "is required, but a Sigstore bundle signature's statement names only the image digest",
    );
}

#[test]
fn bundle_attestation_not_a_signature() {
    let Some(pki) = Pki::new() else { return };
    let root = pki.trusted_root(&RootParts::all());
    let layout = pki.bundle_layout("https://slsa.dev/provenance/v1", true);

    // The annotation marks it as an attestation, so verify does not read it.
    let output = verify_layout(&layout, &root, &identity());
    assert_rejected(&output, "no signatures found");

    // verify-attestation does.
    let image = layout.reference();
    let mut args = vec![
        "verify-attestation",
        image.as_str(),
        "--trusted-root",
        root.to_str().unwrap(),
        "--type",
        "slsaprovenance1",
    ];
    args.extend(identity());
    assert_exit(&clearbox(&args), 0);

    // Without the annotation verify reads it, and rejects it by its statement.
    let layout = pki.bundle_layout("https://slsa.dev/provenance/v1", false);
    let output = verify_layout(&layout, &root, &identity());
    assert_rejected(
        &output,
        "the Sigstore bundle is not an image signature: its statement has the predicate type \
         `https://slsa.dev/provenance/v1`",
    );
}

#[test]
fn keyless_and_key_conflict() {
    let output = clearbox(&[
        "verify",
        "oci:/nonexistent",
        "--key",
        "k.pub",
        "--certificate-identity",
        SIGNER,
        "--certificate-oidc-issuer",
        ISSUER,
    ]);
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("cannot be used with"),
        "{}",
        stderr(&output)
    );
}

// ---------------------------------------------------------------------------------------------
// trust import and the default trusted root.

#[test]
fn trusted_root_imported_and_used_by_default() {
    let Some(pki) = Pki::new() else { return };
    let layout = pki.signed_layout(&Signing::default());
    let config = tempfile::tempdir().unwrap();
    let env = [("XDG_CONFIG_HOME", config.path().to_str().unwrap())];
    let image = layout.reference();
    let verify_args = [
        "verify",
        image.as_str(),
        "--certificate-identity",
        SIGNER,
        "--certificate-oidc-issuer",
        ISSUER,
    ];

    // Nothing installed: the error names the options.
    let output = clearbox_env(&verify_args, &env);
    assert_exit(&output, 2);
    let text = stderr(&output);
    assert!(
        text.contains("no trusted root: pass --trusted-root FILE"),
        "{text}"
    );
    assert!(text.contains("clearbox trust import FILE"), "{text}");

    // An invalid file is rejected and installs nothing.
    let bad = pki.dir.path().join("bad.json");
    std::fs::write(&bad, br#"{"mediaType":"application/json"}"#).unwrap();
    let output = clearbox_env(&["trust", "import", bad.to_str().unwrap()], &env);
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("unsupported trusted root media type"),
        "{}",
        stderr(&output)
    );
    let installed = config.path().join("clearbox/trusted_root.json");
    assert!(!installed.exists());

    // A valid one is installed byte for byte and used.
    let root = pki.trusted_root(&RootParts::all());
    let output = clearbox_env(&["trust", "import", root.to_str().unwrap()], &env);
    assert_exit(&output, 0);
    assert_eq!(
        std::fs::read(&installed).unwrap(),
        std::fs::read(&root).unwrap()
    );
    assert_exit(&clearbox_env(&verify_args, &env), 0);

    // Importing another one replaces it.
    let other = pki.trusted_root(&RootParts {
        other_ca: true,
        ..RootParts::all()
    });
    assert_exit(
        &clearbox_env(&["trust", "import", other.to_str().unwrap()], &env),
        0,
    );
    assert_rejected(&clearbox_env(&verify_args, &env), "[certificate-chain]");
}

/// A change made to a trusted root's JSON.
type RootEdit = Box<dyn Fn(&mut Value)>;

/// `trust import` rejects a root that can verify no keyless signature, naming the missing part,
/// and installs nothing.
#[test]
fn trust_import_rejects_unusable_roots() {
    let Some(pki) = Pki::new() else { return };
    let complete: Value =
        serde_json::from_slice(&std::fs::read(pki.trusted_root(&RootParts::all())).unwrap())
            .unwrap();
    let config = tempfile::tempdir().unwrap();
    let env = [("XDG_CONFIG_HOME", config.path().to_str().unwrap())];
    let installed = config.path().join("clearbox/trusted_root.json");
    let ended = json!({"start": "2020-01-01T00:00:00Z", "end": "2021-01-01T00:00:00Z"});
    let cases: [(&str, RootEdit, &str); 5] = [
        (
            "no-ca",
            Box::new(|root| root["certificateAuthorities"] = json!([])),
            "`certificateAuthorities` is empty, so no signing certificate can chain to it",
        ),
        (
            "no-ctlog",
            Box::new(|root| root["ctlogs"] = json!([])),
            "`ctlogs` is empty, so no certificate's SCT can be checked",
        ),
        (
            "no-tlog",
            Box::new(|root| root["tlogs"] = json!([])),
            "`tlogs` is empty, so no transparency log entry can be checked",
        ),
        (
            "bad-key",
            Box::new(|root| root["tlogs"][0]["publicKey"]["rawBytes"] = json!("AAAA")),
            "no key in `tlogs` can be used (`tlogs[0].publicKey`: ",
        ),
        (
            "ended",
            Box::new(move |root| {
                root["certificateAuthorities"][0]["validFor"] = ended.clone();
            }),
            "every `validFor` in `certificateAuthorities` ended (the last at \
             2021-01-01T00:00:00Z), so no signing certificate can chain to it for a signature \
             made now",
        ),
    ];
    for (name, edit, gap) in &cases {
        let mut root = complete.clone();
        edit(&mut root);
        let path = pki.dir.path().join(format!("{name}.json"));
        std::fs::write(&path, serde_json::to_vec(&root).unwrap()).unwrap();
        let output = clearbox_env(&["trust", "import", path.to_str().unwrap()], &env);
        assert_exit(&output, 2);
        let expected = format!(
            "error: `{}` cannot verify keyless signatures: {gap}",
            path.display()
        );
        assert!(
            stderr(&output).starts_with(&expected),
            "{name}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).ends_with(
                "; import a complete, current trusted root (for the Sigstore public-good \
                 instance, trusted_root.json from the Sigstore TUF repository)\n"
            ),
            "{name}: {}",
            stderr(&output)
        );
        assert!(!installed.exists(), "{name}");
    }
}

/// `verify-attestation --bundle` takes the identity patterns and the installed trusted root.
#[test]
fn bundle_mode_regexp_and_installed_root() {
    let Some(corpus) = corpus() else { return };
    let dir = corpus.join("attest/cosign");
    let bundle = dir.join("oci-attestation.sigstore.json");
    let config = tempfile::tempdir().unwrap();
    let env = [("XDG_CONFIG_HOME", config.path().to_str().unwrap())];
    let root = dir.join("trusted_root_pgi.json");
    assert_exit(
        &clearbox_env(&["trust", "import", root.to_str().unwrap()], &env),
        0,
    );
    let verify = |identity: &str| {
        clearbox_env(
            &[
                "verify-attestation",
                "--bundle",
                bundle.to_str().unwrap(),
                "--artifact-digest",
                "sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4",
                "--certificate-identity-regexp",
                identity,
                "--certificate-oidc-issuer",
                "https://github.com/login/oauth",
            ],
            &env,
        )
    };
    let output = verify(r".*@soyland\.com");
    assert_exit(&output, 0);
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["signer"]["identities"][0], "cody@soyland.com");
    let output = verify("soyland");
    assert_exit(&output, 1);
    assert!(
        stderr(&output)
            .contains("failed: identity: the certificate identity is `cody@soyland.com`"),
        "{}",
        stderr(&output)
    );
}

// ---------------------------------------------------------------------------------------------
// Helpers.

fn identity() -> [&'static str; 4] {
    [
        "--certificate-identity",
        SIGNER,
        "--certificate-oidc-issuer",
        ISSUER,
    ]
}

/// Asserts exit code 1 and that stderr names `reason`.
#[track_caller]
fn assert_rejected(output: &Output, reason: &str) {
    assert_exit(output, 1);
    let text = stderr(output);
    assert!(text.contains(reason), "expected `{reason}` in:\n{text}");
}

fn unix_now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn blob_path(layout: &Path, digest: &str) -> PathBuf {
    layout.join("blobs/sha256").join(&digest["sha256:".len()..])
}

/// Writes a blob into the layout; returns its digest and size.
fn write_blob(layout: &Path, bytes: &[u8]) -> (String, usize) {
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(bytes)));
    std::fs::create_dir_all(layout.join("blobs/sha256")).unwrap();
    std::fs::write(blob_path(layout, &digest), bytes).unwrap();
    (digest, bytes.len())
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Which parts the trusted root lists.
struct RootParts {
    ct_log: bool,
    /// Lists a CA that did not issue the signing certificate instead of the one that did.
    other_ca: bool,
}

impl RootParts {
    fn all() -> Self {
        RootParts {
            ct_log: true,
            other_ca: false,
        }
    }
}

/// Where the signed entry timestamp comes from.
#[derive(Clone, Copy)]
enum Rekor {
    /// None: the layer has no `dev.sigstore.cosign/bundle` annotation.
    None,
    /// Signed by the Rekor key at the current time.
    Now,
    /// Signed by the Rekor key for this integrated time.
    At(i64),
    /// Signed at the current time by another key of the PKI directory.
    SignedBy(&'static str),
}

/// How the test signature is made.
struct Signing {
    rekor: Rekor,
    timestamp: bool,
    certificate: bool,
    /// The digest the payload names instead of the image's.
    payload_digest: Option<String>,
    /// Change the payload after signing.
    tamper_payload: bool,
}

impl Default for Signing {
    fn default() -> Self {
        Signing {
            rekor: Rekor::Now,
            timestamp: false,
            certificate: true,
            payload_digest: None,
            tamper_payload: false,
        }
    }
}

/// An OCI layout with a one-manifest image and its signature.
struct SignedLayout {
    path: PathBuf,
    image_digest: String,
}

impl SignedLayout {
    fn reference(&self) -> String {
        format!("oci:{}:latest", self.path.display())
    }
}

/// The test PKI: keys and certificates in a temporary directory, made with `openssl`.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    /// Creates the CA, the signing certificate with its SCT, the CT log, Rekor and timestamp
    /// authority keys. `None` (a skip) when `openssl` is missing.
    fn new() -> Option<Pki> {
        if Command::new("openssl").arg("version").output().is_err() {
            return clearbox_testdata::skip("openssl is missing; install it to test keyless");
        }
        let pki = Pki {
            dir: tempfile::tempdir().unwrap(),
        };
        for name in ["ca", "other-ca", "leaf", "ct", "rekor", "tsa"] {
            pki.openssl(&[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                &format!("{name}.key"),
            ]);
        }
        pki.self_signed("ca", "/O=clearbox test/CN=test fulcio");
        pki.self_signed("other-ca", "/O=clearbox test/CN=other fulcio");
        pki.issue(
            "leaf",
            "/O=clearbox test/CN=signer",
            &[
                "basicConstraints=critical,CA:FALSE",
                "keyUsage=critical,digitalSignature",
                "extendedKeyUsage=codeSigning",
                &format!("subjectAltName=critical,email:{SIGNER}"),
                &format!("1.3.6.1.4.1.57264.1.8=ASN1:UTF8String:{ISSUER}"),
            ],
        );
        pki.issue(
            "tsa",
            "/O=clearbox test/CN=test tsa",
            &[
                "basicConstraints=critical,CA:FALSE",
                "keyUsage=critical,digitalSignature",
                "extendedKeyUsage=critical,timeStamping",
            ],
        );
        pki.embed_sct();
        Some(pki)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn openssl(&self, args: &[&str]) -> Vec<u8> {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    }

    fn self_signed(&self, name: &str, subject: &str) {
        self.openssl(&[
            "req",
            "-x509",
            "-new",
            "-key",
            &format!("{name}.key"),
            "-subj",
            subject,
            "-days",
            "30",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-out",
            &format!("{name}.pem"),
        ]);
        self.openssl(&[
            "x509",
            "-in",
            &format!("{name}.pem"),
            "-outform",
            "DER",
            "-out",
            &format!("{name}.der"),
        ]);
    }

    /// Issues `NAME.der` for `NAME.key` from the CA with these extensions.
    fn issue(&self, name: &str, subject: &str, extensions: &[&str]) {
        std::fs::write(
            self.path(&format!("{name}.ext")),
            extensions.join("\n") + "\n",
        )
        .unwrap();
        self.openssl(&[
            "req",
            "-new",
            "-key",
            &format!("{name}.key"),
            "-subj",
            subject,
            "-out",
            &format!("{name}.csr"),
        ]);
        self.openssl(&[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-set_serial",
            "4660",
            "-days",
            "1",
            "-extfile",
            &format!("{name}.ext"),
            "-outform",
            "DER",
            "-out",
            &format!("{name}.der"),
        ]);
        self.openssl(&[
            "x509",
            "-inform",
            "DER",
            "-in",
            &format!("{name}.der"),
            "-out",
            &format!("{name}.pem"),
        ]);
    }

    /// Signs `data` with `KEY.key`; returns the DER ECDSA signature.
    fn sign(&self, key: &str, data: &[u8]) -> Vec<u8> {
        let input = self.path("to-sign.bin");
        std::fs::write(&input, data).unwrap();
        self.openssl(&[
            "dgst",
            "-sha256",
            "-sign",
            &format!("{key}.key"),
            input.to_str().unwrap(),
        ])
    }

    /// Returns the DER `SubjectPublicKeyInfo` of `NAME.key`.
    fn spki(&self, name: &str) -> Vec<u8> {
        self.openssl(&[
            "pkey",
            "-in",
            &format!("{name}.key"),
            "-pubout",
            "-outform",
            "DER",
        ])
    }

    /// Replaces `leaf.der` with the same certificate plus an SCT list extension whose SCT the
    /// test CT log signed over the certificate without that extension (RFC 6962 section 3.2),
    /// re-signed by the CA.
    fn embed_sct(&self) {
        let leaf = std::fs::read(self.path("leaf.der")).unwrap();
        let elements = der_elements(der_content(&leaf));
        let &[tbs, algorithm, _] = elements.as_slice() else {
            panic!("the leaf is not a certificate");
        };

        // The SCT over the precertificate entry.
        let timestamp_ms = u64::try_from(unix_now()).unwrap() * 1000;
        let issuer_key_hash = Sha256::digest(self.spki("ca"));
        let mut signed = vec![0u8, 0];
        signed.extend(timestamp_ms.to_be_bytes());
        signed.extend([0u8, 1]);
        signed.extend(issuer_key_hash);
        signed.extend(&u32::try_from(tbs.len()).unwrap().to_be_bytes()[1..]);
        signed.extend(tbs);
        signed.extend([0u8, 0]);
        let signature = self.sign("ct", &signed);
        let mut sct = vec![0u8];
        sct.extend(Sha256::digest(self.spki("ct")));
        sct.extend(timestamp_ms.to_be_bytes());
        sct.extend([0u8, 0, 4, 3]);
        sct.extend(u16::try_from(signature.len()).unwrap().to_be_bytes());
        sct.extend(&signature);
        let mut list = u16::try_from(sct.len()).unwrap().to_be_bytes().to_vec();
        list.extend(&sct);
        let mut list_with_length = u16::try_from(list.len()).unwrap().to_be_bytes().to_vec();
        list_with_length.extend(&list);

        // The extension, appended to the TBSCertificate's extensions.
        let oid = [
            0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02,
        ];
        let mut extension = oid.to_vec();
        extension.extend(der(0x04, &der(0x04, &list_with_length)));
        let extension = der(0x30, &extension);
        let mut fields = Vec::new();
        for field in der_elements(der_content(tbs)) {
            if field[0] == 0xa3 {
                let mut extensions = der_content(der_content(field)).to_vec();
                extensions.extend(&extension);
                fields.extend(der(0xa3, &der(0x30, &extensions)));
            } else {
                fields.extend(field);
            }
        }
        let new_tbs = der(0x30, &fields);

        // Signed again by the CA.
        let signature = self.sign("ca", &new_tbs);
        let mut bits = vec![0u8];
        bits.extend(signature);
        let mut certificate = new_tbs;
        certificate.extend(algorithm);
        certificate.extend(der(0x03, &bits));
        let certificate = der(0x30, &certificate);
        std::fs::write(self.path("leaf.der"), &certificate).unwrap();
        self.openssl(&[
            "x509", "-inform", "DER", "-in", "leaf.der", "-out", "leaf.pem",
        ]);
    }

    /// Writes a trusted root with these parts; returns its path.
    fn trusted_root(&self, parts: &RootParts) -> PathBuf {
        let start = "2020-01-01T00:00:00Z";
        let log = |name: &str, url: &str| {
            let spki = self.spki(name);
            json!({
                "baseUrl": url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": STANDARD.encode(&spki),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": {"start": start}
                },
                "logId": {"keyId": STANDARD.encode(Sha256::digest(&spki))}
            })
        };
        let authority = |name: &str, common_name: &str| {
            json!({
                "subject": {"organization": "clearbox test", "commonName": common_name},
                "certChain": {"certificates": [
                    {"rawBytes": STANDARD.encode(std::fs::read(self.path(&format!("{name}.der"))).unwrap())}
                ]},
                "validFor": {"start": start}
            })
        };
        let ca = if parts.other_ca {
            authority("other-ca", "other fulcio")
        } else {
            authority("ca", "test fulcio")
        };
        let ctlogs = if parts.ct_log {
            vec![log("ct", "https://ct.test")]
        } else {
            Vec::new()
        };
        let root = json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [log("rekor", "https://rekor.test")],
            "certificateAuthorities": [ca],
            "ctlogs": ctlogs,
            "timestampAuthorities": [authority("ca", "test tsa")]
        });
        let path = self.path(&format!("root-{}-{}.json", parts.ct_log, parts.other_ca));
        std::fs::write(&path, serde_json::to_vec_pretty(&root).unwrap()).unwrap();
        path
    }

    /// Writes an OCI layout with an image tagged `latest` and a keyless signature of it under
    /// cosign's `sha256-<hex>.sig` tag.
    fn signed_layout(&self, signing: &Signing) -> SignedLayout {
        let (path, image_digest, image_size) = self.image_layout();

        // The signature layer.
        let claimed = signing
            .payload_digest
            .clone()
            .unwrap_or_else(|| image_digest.clone());
        let payload = format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"{REPOSITORY}"}},"image":{{"docker-manifest-digest":"{claimed}"}},"type":"cosign container image signature"}},"optional":null}}"#
        );
        let signature = self.sign("leaf", payload.as_bytes());
        let mut annotations = serde_json::Map::new();
        annotations.insert(
            "dev.cosignproject.cosign/signature".into(),
            json!(STANDARD.encode(&signature)),
        );
        if signing.certificate {
            let pem = std::fs::read_to_string(self.path("leaf.pem")).unwrap();
            let chain = std::fs::read_to_string(self.path("ca.pem")).unwrap();
            annotations.insert("dev.sigstore.cosign/certificate".into(), json!(pem));
            annotations.insert("dev.sigstore.cosign/chain".into(), json!(chain));
            if let Some(bundle) = self.rekor_bundle(signing.rekor, &payload, &signature, &pem) {
                annotations.insert("dev.sigstore.cosign/bundle".into(), json!(bundle));
            }
            if signing.timestamp {
                annotations.insert(
                    "dev.sigstore.cosign/rfc3161timestamp".into(),
                    json!(self.timestamp(&signature)),
                );
            }
        }
        let stored = if signing.tamper_payload {
            payload.replace(REPOSITORY, "registry.example/evil")
        } else {
            payload
        };
        let (layer_digest, layer_size) = write_blob(&path, stored.as_bytes());
        let config = format!(
            r#"{{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{{"created":"0001-01-01T00:00:00Z"}}],"os":"","rootfs":{{"type":"layers","diff_ids":["{layer_digest}"]}},"config":{{}}}}"#
        );
        let (sig_config_digest, sig_config_size) = write_blob(&path, config.as_bytes());
        let signature_manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": sig_config_size, "digest": sig_config_digest},
            "layers": [{
                "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                "size": layer_size,
                "digest": layer_digest,
                "annotations": annotations
            }]
        });
        let (sig_digest, sig_size) =
            write_blob(&path, &serde_json::to_vec(&signature_manifest).unwrap());

        // The index: the image tagged `latest`, the signature under cosign's tag.
        let tag = format!("sha256-{}.sig", &image_digest["sha256:".len()..]);
        let index = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": image_digest, "size": image_size,
                 "annotations": {"org.opencontainers.image.ref.name": "latest"}},
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sig_digest, "size": sig_size,
                 "annotations": {"org.opencontainers.image.ref.name": tag}}
            ]
        });
        std::fs::write(path.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
        SignedLayout { path, image_digest }
    }

    /// Writes a new OCI layout with an image of one config and no layers; returns the layout,
    /// the image's manifest digest and its size.
    fn image_layout(&self) -> (PathBuf, String, usize) {
        let path = self.dir.path().join("layout");
        if path.exists() {
            std::fs::remove_dir_all(&path).unwrap();
        }
        std::fs::create_dir_all(&path).unwrap();
        std::fs::write(
            path.join("oci-layout"),
            br#"{"imageLayoutVersion":"1.0.0"}"#,
        )
        .unwrap();
        let (config_digest, config_size) = write_blob(
            &path,
            br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}}"#,
        );
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
            "layers": []
        });
        let (digest, size) = write_blob(&path, &serde_json::to_vec(&manifest).unwrap());
        (path, digest, size)
    }

    /// Writes an OCI layout with an image tagged `latest` and, as an OCI 1.1 referrer, a
    /// Sigstore bundle (v0.1, with a signed entry timestamp) whose DSSE statement about the
    /// image has `predicate_type`. The referrer is laid out as cosign's bundle format lays it
    /// out, with the predicate type annotation when `annotate` is set.
    fn bundle_layout(&self, predicate_type: &str, annotate: bool) -> SignedLayout {
        let (path, image_digest, image_size) = self.image_layout();

        // The statement in a DSSE envelope signed with the leaf key.
        let statement = json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"digest": {"sha256": &image_digest["sha256:".len()..]}}],
            "predicateType": predicate_type,
            "predicate": {}
        });
        let payload = serde_json::to_vec(&statement).unwrap();
        let payload_type = "application/vnd.in-toto+json";
        let mut pae = format!(
            "DSSEv1 {} {payload_type} {} ",
            payload_type.len(),
            payload.len()
        )
        .into_bytes();
        pae.extend(&payload);
        let signature = self.sign("leaf", &pae);

        // The Rekor `dsse` entry and its signed entry timestamp.
        let pem = std::fs::read_to_string(self.path("leaf.pem")).unwrap();
        let body = json!({
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {
                "payloadHash": {"algorithm": "sha256", "value": hex::encode(Sha256::digest(&payload))},
                "signatures": [{"signature": STANDARD.encode(&signature), "verifier": STANDARD.encode(&pem)}]
            }
        });
        let body = STANDARD.encode(serde_json::to_vec(&body).unwrap());
        let time = unix_now();
        let log_id = Sha256::digest(self.spki("rekor"));
        let signed = format!(
            r#"{{"body":"{body}","integratedTime":{time},"logID":"{}","logIndex":7}}"#,
            hex::encode(log_id)
        );
        let set = STANDARD.encode(self.sign("rekor", signed.as_bytes()));
        let leaf = std::fs::read(self.path("leaf.der")).unwrap();
        let bundle = json!({
            "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1",
            "verificationMaterial": {
                "x509CertificateChain": {"certificates": [{"rawBytes": STANDARD.encode(&leaf)}]},
                "tlogEntries": [{
                    "logIndex": "7",
                    "logId": {"keyId": STANDARD.encode(log_id)},
                    "kindVersion": {"kind": "dsse", "version": "0.0.1"},
                    "integratedTime": time.to_string(),
                    "inclusionPromise": {"signedEntryTimestamp": set},
                    "canonicalizedBody": body
                }]
            },
            "dsseEnvelope": {
                "payload": STANDARD.encode(&payload),
                "payloadType": payload_type,
                "signatures": [{"sig": STANDARD.encode(&signature), "keyid": ""}]
            }
        });

        // The referrer: an empty config, the bundle as its layer, the image as subject.
        let bundle_type = "application/vnd.dev.sigstore.bundle.v0.3+json";
        let (bundle_digest, bundle_size) = write_blob(&path, &serde_json::to_vec(&bundle).unwrap());
        let (empty_digest, _) = write_blob(&path, b"{}");
        let mut annotations = json!({"dev.sigstore.bundle.content": "dsse-envelope"});
        if annotate {
            annotations["dev.sigstore.bundle.predicateType"] = json!(predicate_type);
        }
        let referrer = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": bundle_type,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "size": 2, "digest": empty_digest},
            "layers": [{"mediaType": bundle_type, "size": bundle_size, "digest": bundle_digest}],
            "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": image_size, "digest": image_digest},
            "annotations": annotations
        });
        let (referrer_digest, referrer_size) =
            write_blob(&path, &serde_json::to_vec(&referrer).unwrap());
        let index = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": image_digest, "size": image_size,
                 "annotations": {"org.opencontainers.image.ref.name": "latest"}},
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": referrer_digest,
                 "size": referrer_size, "artifactType": bundle_type}
            ]
        });
        std::fs::write(path.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
        SignedLayout { path, image_digest }
    }

    /// cosign's `dev.sigstore.cosign/bundle` annotation: a `hashedrekord` entry for the
    /// signature and its signed entry timestamp.
    fn rekor_bundle(
        &self,
        rekor: Rekor,
        payload: &str,
        signature: &[u8],
        certificate_pem: &str,
    ) -> Option<String> {
        let (time, key) = match rekor {
            Rekor::None => return None,
            Rekor::Now => (unix_now(), "rekor"),
            Rekor::At(time) => (time, "rekor"),
            Rekor::SignedBy(key) => (unix_now(), key.trim_end_matches(".key")),
        };
        let body = json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": hex::encode(Sha256::digest(payload))}},
                "signature": {
                    "content": STANDARD.encode(signature),
                    "publicKey": {"content": STANDARD.encode(certificate_pem)}
                }
            }
        });
        let body = STANDARD.encode(serde_json::to_vec(&body).unwrap());
        let log_id = hex::encode(Sha256::digest(self.spki("rekor")));
        // RFC 8785 form: keys sorted, no spaces.
        let signed = format!(
            r#"{{"body":"{body}","integratedTime":{time},"logID":"{log_id}","logIndex":42}}"#
        );
        let set = STANDARD.encode(self.sign(key, signed.as_bytes()));
        Some(
            json!({
                "SignedEntryTimestamp": set,
                "Payload": {"body": body, "integratedTime": time, "logIndex": 42, "logID": log_id}
            })
            .to_string(),
        )
    }

    /// cosign's `dev.sigstore.cosign/rfc3161timestamp` annotation: a response from the test
    /// timestamp authority over the signature bytes, with an ESS signing-certificate-v2.
    fn timestamp(&self, signature: &[u8]) -> String {
        std::fs::write(self.path("signature.bin"), signature).unwrap();
        std::fs::write(
            self.path("tsa.cnf"),
            "[tsa]\ndefault_tsa = tsa_config\n[tsa_config]\nserial = tsaserial\n\
             crypto_device = builtin\nsigner_digest = sha256\ndefault_policy = 1.2.3.4.1\n\
             digests = sha256\naccuracy = secs:1\nordering = no\ntsa_name = no\n\
             ess_cert_id_chain = no\ness_cert_id_alg = sha256\n",
        )
        .unwrap();
        std::fs::write(self.path("tsaserial"), "01\n").unwrap();
        self.openssl(&[
            "ts",
            "-query",
            "-data",
            "signature.bin",
            "-sha256",
            "-cert",
            "-no_nonce",
            "-out",
            "request.tsq",
        ]);
        self.openssl(&[
            "ts",
            "-reply",
            "-config",
            "tsa.cnf",
            "-queryfile",
            "request.tsq",
            "-signer",
            "tsa.pem",
            "-inkey",
            "tsa.key",
            "-out",
            "response.tsr",
        ]);
        let response = std::fs::read(self.path("response.tsr")).unwrap();
        json!({"SignedRFC3161Timestamp": STANDARD.encode(response)}).to_string()
    }
}

/// Runs `verify` on the layout's image with this trusted root and identity options.
fn verify_layout(layout: &SignedLayout, root: &Path, identity: &[&str]) -> Output {
    let image = layout.reference();
    let mut args = vec![
        "verify",
        image.as_str(),
        "--trusted-root",
        root.to_str().unwrap(),
    ];
    args.extend_from_slice(identity);
    clearbox(&args)
}

/// Encodes a DER element.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let length = content.len();
    if length < 0x80 {
        out.push(u8::try_from(length).unwrap());
    } else {
        let bytes: Vec<u8> = length
            .to_be_bytes()
            .into_iter()
            .skip_while(|byte| *byte == 0)
            .collect();
        out.push(0x80 | u8::try_from(bytes.len()).unwrap());
        out.extend(bytes);
    }
    out.extend(content);
    out
}

/// Returns the length of a DER element's header and of its content.
fn der_header(input: &[u8]) -> (usize, usize) {
    let first = usize::from(input[1]);
    if first < 0x80 {
        return (2, first);
    }
    let count = first & 0x7f;
    let length = input[2..2 + count]
        .iter()
        .fold(0usize, |length, byte| (length << 8) | usize::from(*byte));
    (2 + count, length)
}

/// Returns the content of the DER element at the start of `input`.
fn der_content(input: &[u8]) -> &[u8] {
    let (header, length) = der_header(input);
    &input[header..header + length]
}

/// Returns the elements, whole, of a DER content.
fn der_elements(mut content: &[u8]) -> Vec<&[u8]> {
    let mut elements = Vec::new();
    while !content.is_empty() {
        let (header, length) = der_header(content);
        elements.push(&content[..header + length]);
        content = &content[header + length..];
    }
    elements
}
