//! `verify-attestation --bundle` on every bundle-verify case of the Sigstore conformance suite,
//! on real bundles from cosign, sigstore-python and slsa-verifier, and on invalid input.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use sha2::{Digest as _, Sha256};

use crate::support::{assert_exit, clearbox, corpus, stderr, stdout};

/// The conformance suite's default identity and issuer (its bundle-verify README).
const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

/// The number of case directories in the corpus copy of the suite.
const CASE_COUNT: usize = 70;

/// Cases whose exit code differs from the expected one because clearbox lacks a feature, with
/// the reason. The test fails when this list is not exact, so a case that starts to pass must
/// be removed from it.
const KNOWN_GAPS: &[(&str, &str)] = &[];

/// The check that each `_fail` case must fail, from the case's README. A case rejected for
/// another reason (an unreadable file, the wrong trusted root) fails the test.
const FAILED_CHECKS: &[(&str, &str)] = &[
    ("bundle-empty-certificate-chain_fail", "bundle-format"),
    ("bundle-from-wrong-instance_fail", "certificate-chain"),
    ("bundle-invalid-base64-signature_fail", "bundle-format"),
    ("bundle-malformed-json_fail", "bundle-format"),
    ("bundle-negative-log-index_fail", "bundle-format"),
    ("bundle-unknown-version_fail", "bundle-format"),
    ("bundle-with-root-cert_fail", "certificate-chain"),
    ("checkpoint-bad-keyhint_fail", "checkpoint"),
    ("checkpoint-wrong-roothash_fail", "checkpoint"),
    ("dsse-invalid-sig_fail", "signature"),
    ("dsse-mismatch-envelope_fail", "tlog-body"),
    ("dsse-mismatch-sig_fail", "tlog-body"),
    ("inclusion-proof-corrupted-hash_fail", "inclusion-proof"),
    ("incorrect-public-key_fail", "tlog-body"),
    ("integrated-time-in-future_fail", "signing-time"),
    ("intoto-expired-certificate_fail", "signing-time"),
    ("intoto-log-entry-mismatch_fail", "tlog-body"),
    ("intoto-missing-inclusion-proof_fail", "tlog-entry"),
    (
        "intoto-set-outside-signing-cert-validity_fail",
        "signing-time",
    ),
    (
        "intoto-tsa-timestamp-outside-cert-validity_fail",
        "signing-time",
    ),
    ("invalid-checkpoint-signature_fail", "checkpoint"),
    ("invalid-ct-key_fail", "certificate-transparency"),
    ("invalid-inclusion-proof_fail", "inclusion-proof"),
    ("managed-key-no-key_fail", "verification-material"),
    ("managed-key-wrong-key_fail", "verification-material"),
    ("message-digest-mismatch_fail", "artifact-digest"),
    ("rekor2-checkpoint-missing-log-signature_fail", "checkpoint"),
    ("rekor2-checkpoint-missing-origin_fail", "checkpoint"),
    ("rekor2-checkpoint-missing-root-hash_fail", "checkpoint"),
    ("rekor2-checkpoint-missing-size_fail", "checkpoint"),
    ("rekor2-checkpoint-no-matching-signature_fail", "checkpoint"),
    ("rekor2-dsse-invalid-sig_fail", "signature"),
    ("rekor2-dsse-mismatch-envelope_fail", "tlog-body"),
    ("rekor2-dsse-mismatch-sig_fail", "tlog-body"),
    ("rekor2-no-inclusion-proof_fail", "tlog-entry"),
    ("rekor2-no-timestamp_fail", "signing-time"),
    (
        "rekor2-timestamp-outside-trust-root-tsa-validity_fail",
        "signed-timestamp",
    ),
    (
        "rekor2-timestamp-outside-tsa-cert-validity_fail",
        "signed-timestamp",
    ),
    ("rekor2-timestamp-payload-mismatch_fail", "signed-timestamp"),
    (
        "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail",
        "signed-timestamp",
    ),
    (
        "rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail",
        "signed-timestamp",
    ),
    ("rekor2-timestamp-with-incorrect-time_fail", "signing-time"),
    ("set-invalid-signature_fail", "signed-entry-timestamp"),
    ("signature-mismatch_fail", "signature"),
    (
        "trust-root-tlog-missing-validity-start_fail",
        "trusted-root",
    ),
    ("wrong-hashedrekord-artifact_fail", "tlog-body"),
    ("wrong-hashedrekord-cert-and-sig_fail", "tlog-body"),
    ("wrong-hashedrekord-entry_fail", "tlog-body"),
    ("wrong-material_fail", "artifact-digest"),
];

fn suite(corpus: &Path) -> PathBuf {
    corpus.join("attest/sigstore-conformance/test-assets/bundle-verify")
}

/// Writes the Sigstore public-good production trusted root, which the suite uses for cases
/// without a `trusted_root.json`, to a temporary file once, and returns its path.
///
/// The corpus has no unmodified copy that is recent enough. sigstore-go's example root predates
/// the production timestamp authority (timestamp.sigstore.dev, trusted from 2025-07-04) that
/// `managed-key-happy-path` needs. The case `trust-root-tlog-validity-end-inclusive` contains an
/// export of the production root, and its README names one change, an end of validity on the
/// `rekor.sigstore.dev` key. Removing that end restores the export.
fn production_root(corpus: &Path) -> &'static Path {
    static ROOT: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = ROOT.get_or_init(|| {
        let source = suite(corpus).join("trust-root-tlog-validity-end-inclusive/trusted_root.json");
        let mut root: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&source).unwrap()).unwrap();
        let tlogs = root["tlogs"].as_array_mut().unwrap();
        let rekor = tlogs
            .iter_mut()
            .find(|log| log["baseUrl"] == "https://rekor.sigstore.dev")
            .expect("the export lists rekor.sigstore.dev");
        let valid_for = rekor["publicKey"]["validFor"].as_object_mut().unwrap();
        assert_eq!(valid_for["end"], "2023-07-12T15:56:36Z", "the modified end");
        valid_for.remove("end");
        let dir = crate::support::process_tempdir();
        let path = dir.path().join("trusted_root.json");
        std::fs::write(&path, serde_json::to_vec(&root).unwrap()).unwrap();
        (dir, path)
    });
    path
}

/// Runs one conformance case with the suite's defaults for files the case does not have.
fn run_case(corpus: &Path, case: &Path) -> Output {
    let optional = |name: &str| Some(case.join(name)).filter(|path| path.is_file());
    let text = |name: &str| optional(name).map(|path| std::fs::read_to_string(path).unwrap());
    let root =
        optional("trusted_root.json").unwrap_or_else(|| production_root(corpus).to_path_buf());
    let artifact = optional("artifact").unwrap_or_else(|| suite(corpus).join("a.txt"));

    let mut args: Vec<String> = vec![
        "verify-attestation".into(),
        "--bundle".into(),
        case.join("bundle.sigstore.json").display().to_string(),
        "--trusted-root".into(),
        root.display().to_string(),
        "--artifact".into(),
        artifact.display().to_string(),
    ];
    if let Some(key) = optional("key.pub") {
        args.extend(["--key".into(), key.display().to_string()]);
    } else {
        let identity = text("identity").unwrap_or_else(|| IDENTITY.to_owned());
        let issuer = text("issuer").unwrap_or_else(|| ISSUER.to_owned());
        args.extend([
            "--certificate-identity".into(),
            identity.trim().to_owned(),
            "--certificate-oidc-issuer".into(),
            issuer.trim().to_owned(),
        ]);
    }
    clearbox(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Collects the check names of the `failed:` lines on stderr.
fn failed_checks(output: &Output) -> Vec<String> {
    stderr(output)
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("failed: "))
        .map(|rest| rest.split(':').next().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn conformance_bundle_verify_cases() {
    let Some(corpus) = corpus() else { return };
    let mut cases: Vec<PathBuf> = std::fs::read_dir(suite(&corpus))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), CASE_COUNT, "case directories");
    let expected_failures: BTreeMap<&str, &str> = FAILED_CHECKS.iter().copied().collect();

    let mut unexpected: BTreeMap<String, String> = BTreeMap::new();
    let mut wrong_check: Vec<String> = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_str().unwrap().to_owned();
        let output = run_case(&corpus, case);
        // `_fail` cases must be rejected (1), others verified (0).
        let expected = i32::from(name.ends_with("_fail"));
        if output.status.code() != Some(expected) {
            unexpected.insert(name, stderr(&output));
            continue;
        }
        if expected == 0 {
            // A verified bundle prints its result, with every check it made.
            let result: serde_json::Value = serde_json::from_str(&stdout(&output))
                .unwrap_or_else(|error| panic!("{name}: stdout is not JSON: {error}"));
            let checks = result["checks"].as_array().unwrap();
            assert!(checks.contains(&"signature".into()), "{name}: {checks:?}");
            assert!(checks.contains(&"tlog-body".into()), "{name}: {checks:?}");
            assert_eq!(result["not_checked"], serde_json::json!([]), "{name}");
            assert!(stderr(&output).contains(": verified\n"), "{name}");
        } else {
            let check = expected_failures
                .get(name.as_str())
                .unwrap_or_else(|| panic!("{name}: no expected failed check is listed"));
            let found = failed_checks(&output);
            if !found.iter().any(|found| found == check) {
                wrong_check.push(format!("{name}: expected {check}, failed {found:?}"));
            }
            assert!(
                stdout(&output).is_empty(),
                "{name}: a rejection prints no result"
            );
        }
    }

    let gaps: BTreeMap<&str, &str> = KNOWN_GAPS.iter().copied().collect();
    let unexpected_names: Vec<&str> = unexpected.keys().map(String::as_str).collect();
    let gap_names: Vec<&str> = gaps.keys().copied().collect();
    assert_eq!(
        unexpected_names, gap_names,
        "cases with an unexpected exit code differ from KNOWN_GAPS; their stderr:\n{unexpected:#?}"
    );
    assert!(wrong_check.is_empty(), "{wrong_check:#?}");
    assert_eq!(
        expected_failures.len(),
        cases
            .iter()
            .filter(|case| case.to_str().unwrap().ends_with("_fail"))
            .count(),
        "FAILED_CHECKS lists every _fail case"
    );
}

/// Runs `verify-attestation --bundle BUNDLE --trusted-root ROOT` with `rest`.
fn verify_bundle(bundle: &Path, root: &Path, rest: &[&str]) -> Output {
    let bundle = bundle.display().to_string();
    let root = root.display().to_string();
    let mut args = vec![
        "verify-attestation",
        "--bundle",
        &bundle,
        "--trusted-root",
        &root,
    ];
    args.extend_from_slice(rest);
    clearbox(&args)
}

/// Asserts a rejection (exit 1) whose failed checks include `check`.
#[track_caller]
fn assert_rejected_by(output: &Output, check: &str) {
    assert_exit(output, 1);
    let failed = failed_checks(output);
    assert!(
        failed.iter().any(|found| found == check),
        "expected {check} to fail, failed {failed:?}:\n{}",
        stderr(output)
    );
}

/// Checks that the bundle verified and parses its JSON result.
#[track_caller]
fn verified(output: &Output) -> serde_json::Value {
    assert_exit(output, 0);
    serde_json::from_str(&stdout(output)).expect("stdout is the JSON result")
}

const GITHUB_OAUTH: &str = "https://github.com/login/oauth";

/// sigstore-python's test assets: `NAME` signed as `NAME{suffix}`, most on the staging instance.
struct PythonAssets {
    dir: PathBuf,
    /// The staging root from the TUF repository the assets ship.
    staging: PathBuf,
    production: PathBuf,
}

impl PythonAssets {
    fn new(corpus: &Path) -> Self {
        let dir = corpus.join("attest/sigstore-python/test-assets");
        PythonAssets {
            staging: dir.join(
                "staging-tuf/targets/ed6a9cf4e7c2e3297a4b5974fce0d17132f03c63512029d7aa3a402b43acab49.trusted_root.json",
            ),
            production: dir.join("trusted_root/trustedroot.v1.json"),
            dir,
        }
    }

    fn verify(&self, name: &str, suffix: &str, root: &Path, identity: &str) -> Output {
        let artifact = self.dir.join(name).display().to_string();
        verify_bundle(
            &self.dir.join(format!("{name}{suffix}")),
            root,
            &[
                "--artifact",
                &artifact,
                "--certificate-identity",
                identity,
                "--certificate-oidc-issuer",
                GITHUB_OAUTH,
            ],
        )
    }
}

#[test]
fn sigstore_python_bundles_verify() {
    let Some(corpus) = corpus() else { return };
    let assets = PythonAssets::new(&corpus);
    let staging = &assets.staging;

    // v0.1 with an inclusion promise and proof.
    let result = verified(&assets.verify("bundle.txt", ".sigstore", staging, "a@tny.town"));
    assert_eq!(
        result["media_type"],
        "application/vnd.dev.sigstore.bundle+json;version=0.1"
    );
    assert_eq!(result["signer"]["identities"][0], "a@tny.town");
    assert_eq!(
        result["tlog_entries"][0]["log"],
        "https://rekor.sigstage.dev"
    );
    assert_eq!(result["tlog_entries"][0]["inclusion_promise"], true);

    // v0.3 with a checkpoint.
    let william = "william@yossarian.net";
    let result = verified(&assets.verify("bundle_v3.txt", ".sigstore", staging, william));
    let checkpoint = result["tlog_entries"][0]["checkpoint"].as_str().unwrap();
    assert!(
        checkpoint.starts_with("rekor.sigstage.dev - "),
        "{checkpoint}"
    );

    // Rekor v2: no integrated time, so the RFC 3161 timestamp is the signing time.
    let output = assets.verify(
        "staging-rekor-v2.txt",
        ".sigstore.json",
        staging,
        "jku@goto.fi",
    );
    let result = verified(&output);
    assert_eq!(result["tlog_entries"][0]["version"], "0.0.2");
    assert_eq!(result["timestamps"].as_array().unwrap().len(), 1);
    let source = result["signing_times"][0]["source"].as_str().unwrap();
    assert!(source.starts_with("timestamp 0"), "{source}");
}

/// The bundles sigstore-python's own tests reject, each with the check that must fail.
#[test]
fn sigstore_python_bundles_rejected() {
    let Some(corpus) = corpus() else { return };
    let assets = PythonAssets::new(&corpus);
    let (staging, production) = (&assets.staging, &assets.production);
    let cases = [
        (
            "bundle_no_checkpoint.txt",
            ".sigstore",
            staging,
            "tlog-entry",
        ),
        (
            "bundle_cve_2022_36056.txt",
            ".sigstore",
            staging,
            "tlog-body",
        ),
        (
            "bundle_invalid_version.txt",
            ".sigstore",
            staging,
            "bundle-format",
        ),
        (
            "bundle_no_cert_v1.txt",
            ".sigstore",
            production,
            "bundle-format",
        ),
        (
            "bundle_v3_no_signed_time.txt",
            ".sigstore.json",
            production,
            "signing-time",
        ),
    ];
    for (name, suffix, root, check) in cases {
        let output = assets.verify(name, suffix, root, "william@yossarian.net");
        assert_rejected_by(&output, check);
    }
}

/// cosign's attestation bundle for an image in a registry: the artifact is the image manifest,
/// given by digest.
#[test]
fn cosign_image_attestation_bundle() {
    let Some(corpus) = corpus() else { return };
    let cosign = corpus.join("attest/cosign");
    let digest = "sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4";
    let identity_args = [
        "--certificate-identity",
        "cody@soyland.com",
        "--certificate-oidc-issuer",
        GITHUB_OAUTH,
    ];
    let bundle = cosign.join("oci-attestation.sigstore.json");
    let root = cosign.join("trusted_root_pgi.json");

    let mut args = vec!["--artifact-digest", digest];
    args.extend_from_slice(&identity_args);
    let result = verified(&verify_bundle(&bundle, &root, &args));
    assert_eq!(result["content"], "dsse-envelope");
    assert_eq!(
        result["statement"]["predicate_type"],
        "https://cosign.sigstore.dev/attestation/v1"
    );
    assert_eq!(result["statement"]["subject"], "127.0.0.1:60943/repo");
    assert_eq!(result["tlog_entries"][0]["kind"], "dsse");

    // Another image digest is not the statement's subject.
    let mut args = vec![
        "--artifact-digest",
        "sha256:0000000000000000000000000000000000000000000000000000000000000000",
    ];
    args.extend_from_slice(&identity_args);
    assert_rejected_by(&verify_bundle(&bundle, &root, &args), "dsse-subject");

    // A predicate type other than the statement's.
    let mut args = vec!["--artifact-digest", digest, "--type", "slsaprovenance1"];
    args.extend_from_slice(&identity_args);
    assert_rejected_by(&verify_bundle(&bundle, &root, &args), "dsse-subject");
}

/// slsa-github-generator provenance from slsa-verifier's tests. Its `intoto` log entry has no
/// payload in the body, only the payload hash. The artifacts were not copied into the corpus,
/// so the subject's digest is given instead of the file.
#[test]
fn slsa_verifier_provenance_bundle() {
    let Some(corpus) = corpus() else { return };
    let testdata = corpus.join("attest/slsa-verifier/verifiers-internal/gha/testdata/bundle");
    let root = corpus.join("attest/sigstore-go/examples/trusted-root-public-good.json");
    let args = [
        "--artifact-digest",
        "sha256:2e38b952523576057f5ca8cf6d179ad6b66f6d0221b9a0eb621caf3507773c71",
        "--certificate-identity",
        "https://github.com/laurentsimon/slsa-delegator/.github/workflows/delegator_generic_slsa3.yml@refs/heads/main",
        "--certificate-oidc-issuer",
        ISSUER,
    ];

    // As published, the chain includes the Fulcio root, which only the trusted root may
    // provide.
    let output = verify_bundle(&testdata.join("attestation.intoto.sigstore"), &root, &args);
    assert_rejected_by(&output, "certificate-chain");
    assert_eq!(failed_checks(&output), ["certificate-chain"]);

    // The chain beyond the leaf is signed by nothing in the bundle, so dropping it leaves a
    // bundle that must verify.
    let dir = tempfile::tempdir().unwrap();
    let leaf_only = |name: &str| {
        let mut bundle: serde_json::Value =
            serde_json::from_slice(&std::fs::read(testdata.join(name)).unwrap()).unwrap();
        let chain = bundle["verificationMaterial"]["x509CertificateChain"]["certificates"]
            .as_array_mut()
            .unwrap();
        assert_eq!(chain.len(), 3, "{name}: leaf, intermediate and root");
        chain.truncate(1);
        let path = dir.path().join(name);
        std::fs::write(&path, serde_json::to_vec(&bundle).unwrap()).unwrap();
        path
    };
    let result = verified(&verify_bundle(
        &leaf_only("attestation.intoto.sigstore"),
        &root,
        &args,
    ));
    assert_eq!(result["tlog_entries"][0]["kind"], "intoto");
    assert_eq!(
        result["statement"]["predicate_type"],
        "https://slsa.dev/provenance/v1.0?draft"
    );

    // Its log entry records another payload.
    let output = verify_bundle(&leaf_only("mismatch-tlog.intoto.sigstore"), &root, &args);
    assert_rejected_by(&output, "tlog-body");
}

/// Verifies the bundle of the conformance case `happy-path-v0.3` with the options in `rest`.
fn happy_path_v03(corpus: &Path, rest: &[&str]) -> Output {
    let case = suite(corpus).join("happy-path-v0.3");
    verify_bundle(
        &case.join("bundle.sigstore.json"),
        production_root(corpus),
        rest,
    )
}

#[test]
fn bundle_artifact_digest_and_identity() {
    let Some(corpus) = corpus() else { return };
    let artifact = suite(&corpus).join("a.txt");
    let digest = format!(
        "sha256:{}",
        hex::encode(Sha256::digest(std::fs::read(&artifact).unwrap()))
    );
    let identity = [
        "--certificate-identity",
        IDENTITY,
        "--certificate-oidc-issuer",
        ISSUER,
    ];

    // The digest replaces the file.
    let mut args = vec!["--artifact-digest", digest.as_str()];
    args.extend_from_slice(&identity);
    let output = happy_path_v03(&corpus, &args);
    let result = verified(&output);
    assert_eq!(
        result["artifact_sha256"],
        digest.trim_start_matches("sha256:")
    );
    for check in ["signature", "identity", "inclusion-proof", "checkpoint"] {
        assert!(
            stderr(&output).contains(&format!("  passed: {check}\n")),
            "{check}: {}",
            stderr(&output)
        );
    }

    // Another identity: the failed checks are named, and the others still listed as passed.
    let output = happy_path_v03(
        &corpus,
        &[
            "--artifact-digest",
            &digest,
            "--certificate-identity",
            "someone@example.com",
            "--certificate-oidc-issuer",
            ISSUER,
        ],
    );
    assert_rejected_by(&output, "identity");
    assert_eq!(failed_checks(&output), ["identity"]);
    assert!(stderr(&output).contains("  passed: signature\n"));
    assert!(stdout(&output).is_empty());

    // Another issuer.
    let output = happy_path_v03(
        &corpus,
        &[
            "--artifact-digest",
            &digest,
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            GITHUB_OAUTH,
        ],
    );
    assert_eq!(failed_checks(&output), ["oidc-issuer"]);

    // A key for a certificate bundle.
    let key = suite(&corpus).join("managed-key-happy-path/key.pub");
    let key = key.display().to_string();
    let output = happy_path_v03(&corpus, &["--artifact-digest", &digest, "--key", &key]);
    assert_rejected_by(&output, "verification-material");
}

#[test]
fn bundle_invalid_input_exits_2() {
    let Some(corpus) = corpus() else { return };
    let case = suite(&corpus).join("happy-path-v0.3");
    let bundle = case.join("bundle.sigstore.json").display().to_string();
    let artifact = suite(&corpus).join("a.txt").display().to_string();
    let root = production_root(&corpus).display().to_string();
    let identity = [
        "--certificate-identity",
        IDENTITY,
        "--certificate-oidc-issuer",
        ISSUER,
    ];
    let run = |extra: &[&str]| {
        let mut args = vec!["verify-attestation"];
        args.extend_from_slice(extra);
        clearbox(&args)
    };
    let with_identity = |extra: &[&str]| {
        let mut args = extra.to_vec();
        args.extend_from_slice(&identity);
        run(&args)
    };

    // No trusted root: there is no default.
    let output = with_identity(&["--bundle", &bundle, "--artifact", &artifact]);
    assert_exit(&output, 2);
    assert!(
        stderr(&output).contains("--trusted-root"),
        "{}",
        stderr(&output)
    );

    // No artifact.
    let output = with_identity(&["--bundle", &bundle, "--trusted-root", &root]);
    assert_exit(&output, 2);

    // No signer.
    let output = run(&[
        "--bundle",
        &bundle,
        "--trusted-root",
        &root,
        "--artifact",
        &artifact,
    ]);
    assert_exit(&output, 2);

    // An identity without an issuer.
    let output = run(&[
        "--bundle",
        &bundle,
        "--trusted-root",
        &root,
        "--artifact",
        &artifact,
        "--certificate-identity",
        IDENTITY,
    ]);
    assert_exit(&output, 2);

    // A digest that is not sha256:HEX of 32 bytes.
    for digest in ["sha512:00", "sha256:zz", "sha256:00"] {
        let output = with_identity(&[
            "--bundle",
            &bundle,
            "--trusted-root",
            &root,
            "--artifact-digest",
            digest,
        ]);
        assert_exit(&output, 2);
    }

    // An image and a bundle.
    let output = with_identity(&[
        "oci:/nonexistent",
        "--bundle",
        &bundle,
        "--trusted-root",
        &root,
        "--artifact",
        &artifact,
    ]);
    assert_exit(&output, 2);
}

#[test]
fn bundle_unreadable_file_exits_2() {
    let Some(corpus) = corpus() else { return };
    let case = suite(&corpus).join("happy-path-v0.3");
    let bundle = case.join("bundle.sigstore.json").display().to_string();
    let artifact = suite(&corpus).join("a.txt").display().to_string();
    let root = production_root(&corpus).display().to_string();
    let with_identity = |extra: &[&str]| {
        let mut args = vec!["verify-attestation"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&[
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
        ]);
        clearbox(&args)
    };

    // Files that cannot be read name their path.
    let missing = case.join("missing.json").display().to_string();
    for (option, position) in [("--bundle", 1), ("--trusted-root", 3), ("--artifact", 5)] {
        let mut args = vec![
            "--bundle",
            bundle.as_str(),
            "--trusted-root",
            root.as_str(),
            "--artifact",
            artifact.as_str(),
        ];
        args[position] = &missing;
        let output = with_identity(&args);
        assert_exit(&output, 2);
        assert!(
            stderr(&output).contains("missing.json"),
            "{option}: {}",
            stderr(&output)
        );
    }

    // A FIFO in place of any file is refused instead of waiting for a writer.
    let scratch = tempfile::tempdir().unwrap();
    let fifo = scratch.path().join("pipe");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let fifo = fifo.display().to_string();
    for (option, position) in [("--bundle", 1), ("--trusted-root", 3), ("--artifact", 5)] {
        let mut args = vec![
            "--bundle",
            bundle.as_str(),
            "--trusted-root",
            root.as_str(),
            "--artifact",
            artifact.as_str(),
        ];
        args[position] = &fifo;
        let output = with_identity(&args);
        assert_exit(&output, 2);
        assert!(
            stderr(&output).contains("FIFO"),
            "{option}: {}",
            stderr(&output)
        );
    }

    // A registry option has no effect on a bundle.
    let output = with_identity(&[
        "--bundle",
        &bundle,
        "--trusted-root",
        &root,
        "--artifact",
        &artifact,
        "--ca-file",
        &root,
    ]);
    assert_exit(&output, 2);
}
