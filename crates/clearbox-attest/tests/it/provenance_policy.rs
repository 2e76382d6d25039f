//! Provenance policies on real provenance from slsa-verifier's test data: GitHub-built v0.2 and
//! v1 envelopes, a cosign-saved container attestation, Google Cloud Build v0.1 statements and
//! npm bundles. These are signed by keys and certificates the tests do not hold, so the
//! statements are taken out of their envelopes unverified and the policy checks run alone.
//! Expected builder IDs and source repositories are the ones slsa-verifier's own tests pass for
//! the same files.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use clearbox_attest::dsse::Envelope;
use clearbox_attest::intoto::Statement;
use clearbox_attest::slsa::{
    PolicyReport, ProvenanceFacts, ProvenancePolicy, ProvenanceVersion, check_provenance_policy,
};
use serde_json::Value;

use crate::corpus;

const GENERIC_BUILDER: &str = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml";
const CONTAINER_BUILDER: &str = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml";
const GCB_BUILDER: &str = "https://cloudbuild.googleapis.com/GoogleHostedWorker";
const EXAMPLE_PACKAGE: &str = "github.com/slsa-framework/example-package";

fn testdata() -> Option<PathBuf> {
    Some(corpus()?.join("attest/slsa-verifier/cli-testdata"))
}

fn decode(payload: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(payload)
        .unwrap()
}

/// Parses the statement of a DSSE envelope, or of the `dsseEnvelope` of a Sigstore bundle.
fn statement_of(json: &Value) -> Result<Statement, String> {
    let envelope = json.get("dsseEnvelope").unwrap_or(json);
    let envelope: Envelope =
        serde_json::from_value(envelope.clone()).map_err(|e| format!("not DSSE: {e}"))?;
    if envelope.payload_type != "application/vnd.in-toto+json" {
        return Err(format!("payload type {}", envelope.payload_type));
    }
    let payload = base64::engine::general_purpose::STANDARD
        .decode(&envelope.payload)
        .map_err(|e| e.to_string())?;
    Statement::from_json(&payload).map_err(|e| e.to_string())
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn envelope_statement(path: &Path) -> Statement {
    statement_of(&read_json(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parses the statement of the first provenance in a `gcloud ... --show-provenance` file.
fn gcb_statement(path: &Path) -> Statement {
    let json = read_json(path);
    let envelope = &json["provenance_summary"]["provenance"][0]["envelope"];
    Statement::from_json(&decode(envelope["payload"].as_str().unwrap())).unwrap()
}

/// Parses the statements of an npm registry attestations file, in file order.
fn npm_statements(path: &Path) -> Vec<Statement> {
    read_json(path)["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| statement_of(&a["bundle"]).unwrap())
        .collect()
}

fn policy(yaml: &str) -> ProvenancePolicy {
    ProvenancePolicy::parse(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"))
}

/// Returns each check's outcome, in report order.
fn outcomes(report: &PolicyReport) -> Vec<&'static str> {
    report.checks.iter().map(|c| c.outcome.as_str()).collect()
}

fn failed(report: &PolicyReport) -> Vec<&'static str> {
    report.failures().map(|c| c.name).collect()
}

fn read_digest(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap().trim().to_owned()
}

/// Lists every `*.intoto.jsonl` file under `dir`, sorted.
fn jsonl_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(".intoto.jsonl") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn all_github_envelopes_parse_as_provenance() {
    let Some(dir) = testdata() else {
        return;
    };
    let files = jsonl_files(&dir);
    assert_eq!(files.len(), 128);
    let mut v0_2 = 0;
    let mut v1 = 0;
    for file in &files {
        let statement = envelope_statement(file);
        match ProvenanceFacts::read(&statement).map(|f| f.version) {
            Some(ProvenanceVersion::V0_2) => v0_2 += 1,
            Some(ProvenanceVersion::V1) => v1 += 1,
            other => panic!("{}: {other:?}", file.display()),
        }
    }
    // The corpus index counts 123 v0.2 and 5 v1 statements: 115 plain DSSE envelopes and 13
    // Sigstore bundles (8 of them v0.2).
    assert_eq!((v0_2, v1), (123, 5));
}

#[test]
fn gha_generic_workflow_dispatch() {
    let Some(dir) = testdata() else {
        return;
    };
    let statement = envelope_statement(
        &dir.join("gha_generic/v1.2.1/binary-linux-amd64-workflow_dispatch.intoto.jsonl"),
    );
    let digest = "sha256:ec8ff1bb40da2a36e3e9113dd7a5dd452c5125f7013e849519c0754b3c9fda89";
    let commit = "02b5d0f71cdd13f5b3e8f30fb7a5c35acccc1051";

    // slsa-verifier: "valid main branch set" with the generic builder.
    let report = check_provenance_policy(
        &statement,
        digest,
        &policy(&format!(
            "builders: ['{GENERIC_BUILDER}']\n\
             source: {{repository: '{EXAMPLE_PACKAGE}', ref_pattern: refs/heads/main, commit: {commit}}}\n"
        )),
    );
    assert_eq!(
        outcomes(&report),
        [
            "passed",
            "passed",
            "passed",
            "passed",
            "not-required",
            "passed",
            "passed",
            "not-required"
        ]
    );
    assert_eq!(
        report.check("source-repository").unwrap().detail,
        "`invocation.configSource` and `materials[0]` name \
         `https://github.com/slsa-framework/example-package`"
    );

    // A pinned builder version: the one that built it, then another.
    for (builder, outcome) in [
        (format!("{GENERIC_BUILDER}@v1.2.1"), "passed"),
        (format!("{GENERIC_BUILDER}@refs/tags/v1.2.1"), "passed"),
        (format!("{GENERIC_BUILDER}@v1.2.0"), "failed"),
        (
            "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/not-trusted.yml"
                .to_owned(),
            "failed",
        ),
    ] {
        let report = check_provenance_policy(
            &statement,
            digest,
            &policy(&format!("builders: ['{builder}']")),
        );
        assert_eq!(report.check("builder").unwrap().outcome.as_str(), outcome, "{builder}");
    }

    // slsa-verifier: "wrong source prepend A", "wrong branch master", and a tag.
    let report = check_provenance_policy(
        &statement,
        "sha256:0000000000000000000000000000000000000000000000000000000000000000",
        &policy(&format!(
            "builders: ['{GENERIC_BUILDER}']\n\
             source: {{repository: github.com/laurentsimon/slsa-verifier-test-gen, \
             ref_pattern: refs/heads/master, commit: 0000000000000000000000000000000000000000}}\n\
             approvals: {{required: 1}}\n"
        )),
    );
    assert_eq!(
        failed(&report),
        [
            "subject",
            "source-repository",
            "source-ref",
            "source-commit",
            "approvals"
        ]
    );
    assert_eq!(
        report.check("source-repository").unwrap().detail,
        "`invocation.configSource` names `https://github.com/slsa-framework/example-package`; \
         `materials[0]` names `https://github.com/slsa-framework/example-package`, not \
         `https://github.com/laurentsimon/slsa-verifier-test-gen`"
    );
    assert_eq!(
        report.check("approvals").unwrap().detail,
        "0 approval(s) found, 1 required"
    );
}

#[test]
fn gha_generic_tag_push() {
    let Some(dir) = testdata() else {
        return;
    };
    let statement = envelope_statement(
        &dir.join("gha_generic/v1.2.1/binary-linux-amd64-push-v14.2.intoto.jsonl"),
    );
    let digest = format!("sha256:{}", statement.subjects()[0].digest["sha256"]);
    for (pattern, outcome) in [
        ("refs/tags/v14*", "passed"),
        ("refs/tags/v14.2", "passed"),
        ("'^refs/tags/v[0-9]+\\.[0-9]+$'", "passed"),
        ("refs/tags/v13.0.29", "failed"),
        ("refs/heads/*", "failed"),
    ] {
        let report = check_provenance_policy(
            &statement,
            &digest,
            &policy(&format!(
                "builders: ['{GENERIC_BUILDER}']\nsource: {{ref_pattern: {pattern}}}\n"
            )),
        );
        assert_eq!(
            report.check("source-ref").unwrap().outcome.as_str(),
            outcome,
            "{pattern}"
        );
        assert!(report.check("subject").unwrap().outcome.as_str() == "passed");
    }
    // The tag `v14.2` read as a semantic version, as slsa-verifier's `--source-versioned-tag`
    // reads it: missing parts are 0.
    for (expected, outcome) in [
        ("v14", "passed"),
        ("v14.2", "passed"),
        ("v14.2.0", "passed"),
        ("v14.2.1", "failed"),
        ("v14.3", "failed"),
        ("v13", "failed"),
    ] {
        let report = check_provenance_policy(
            &statement,
            &digest,
            &policy(&format!(
                "builders: ['{GENERIC_BUILDER}']\nsource: {{versioned_tag: {expected}}}\n"
            )),
        );
        assert_eq!(
            report
                .check("source-versioned-tag")
                .unwrap()
                .outcome
                .as_str(),
            outcome,
            "{expected}"
        );
    }
}

#[test]
fn gha_generic_container_layout_attestation() {
    let Some(dir) = testdata() else {
        return;
    };
    let base = dir.join("gha_generic_container/v2.1.0");
    let layout = base.join("container_workflow_dispatch");
    // The attestation is the only layer of the manifest the layout marks as `atts`.
    let index = read_json(&layout.join("index.json"));
    let atts = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["annotations"]["kind"] == "dev.cosignproject.cosign/atts")
        .unwrap();
    let blob = |digest: &str| layout.join("blobs/sha256").join(&digest[7..]);
    let manifest = read_json(&blob(atts["digest"].as_str().unwrap()));
    let statement = envelope_statement(&blob(manifest["layers"][0]["digest"].as_str().unwrap()));
    let digest = read_digest(&base.join("container_workflow_dispatch.digest"));

    let report = check_provenance_policy(
        &statement,
        &digest,
        &policy(&format!(
            "builders: ['{CONTAINER_BUILDER}@v2.1.0']\n\
             source:\n  repository: https://{EXAMPLE_PACKAGE}\n  ref_pattern: refs/heads/main\n  \
             commit: 4d329c75e7ec1725f7c9ce917a8799d408d06be3\n"
        )),
    );
    assert!(report.passed(), "{:?}", report.checks);
    assert_eq!(
        report.check("subject").unwrap().detail,
        "a subject has the digest \
         `sha256:234e2c830c2fb31ac5671789d22adfe44d30c3ee831d01beae5e237841a13122`"
    );

    // The generic generator did not build it.
    let report = check_provenance_policy(
        &statement,
        &digest,
        &policy(&format!("builders: ['{GENERIC_BUILDER}']")),
    );
    assert_eq!(failed(&report), ["builder"]);
}

#[test]
fn gcb_v0_2_commit_uri() {
    let Some(dir) = testdata() else {
        return;
    };
    let dir = dir.join("gcb_container/v0.2");
    let statement = gcb_statement(&dir.join("gcloud-container-github.json"));
    let digest = read_digest(&dir.join("gcloud-container-github.digest"));
    let facts = ProvenanceFacts::read(&statement).unwrap();
    assert_eq!(facts.version, ProvenanceVersion::V0_1);

    // slsa-verifier's Test_VerifyBuilder and Test_VerifySourceURI cases for this file.
    for (builder, outcome) in [
        (GCB_BUILDER.to_owned(), "passed"),
        (format!("{GCB_BUILDER}@v0.2"), "passed"),
        (format!("{GCB_BUILDER}@v0.1"), "failed"),
        (
            "https://cloudbuild.googleapis.com/GoogleHostedWorke".to_owned(),
            "failed",
        ),
        (
            "http://cloudbuild.googleapis.com/GoogleHostedWorker@v0.2".to_owned(),
            "failed",
        ),
    ] {
        let report = check_provenance_policy(
            &statement,
            &digest,
            &policy(&format!("builders: ['{builder}']")),
        );
        assert_eq!(
            report.check("builder").unwrap().outcome.as_str(),
            outcome,
            "{builder}"
        );
    }
    for (repository, outcome) in [
        ("https://github.com/laurentsimon/gcb-tests", "passed"),
        ("https://github.com/laurentsimon/gcb-tests2", "failed"),
        ("https://github.com/wrong/gcb-tests", "failed"),
        ("http://github.com/laurentsimon/gcb-tests", "failed"),
        (
            "https://github.com/laurentsimon/gcb-tests/commit/fbbb98765e85ad464302dc5977968104d36e455e",
            "failed",
        ),
    ] {
        let report = check_provenance_policy(
            &statement,
            &digest,
            &policy(&format!(
                "builders: ['{GCB_BUILDER}']\nsource: {{repository: '{repository}'}}\n"
            )),
        );
        assert_eq!(
            report.check("source-repository").unwrap().outcome.as_str(),
            outcome,
            "{repository}"
        );
    }

    // The commit is in the material's path; there is no ref.
    let report = check_provenance_policy(
        &statement,
        &digest,
        &policy(&format!(
            "builders: ['{GCB_BUILDER}']\n\
             source: {{commit: fbbb98765e85ad464302dc5977968104d36e455e, ref_pattern: refs/heads/main}}\n"
        )),
    );
    assert_eq!(failed(&report), ["source-ref"]);
    assert_eq!(
        report.check("source-ref").unwrap().detail,
        "the provenance names no source ref to match `refs/heads/main`"
    );
}

#[test]
fn gcb_v0_3_sources_and_tampered_payloads() {
    let Some(dir) = testdata() else {
        return;
    };
    let dir = dir.join("gcb_container/v0.3");
    let digest = read_digest(&dir.join("gcloud-container-github.digest"));
    let github = policy(&format!(
        "builders: ['{GCB_BUILDER}@v0.3']\n\
         source: {{repository: 'https://github.com/laurentsimon/gcb-tests', \
         commit: 01ce393d04eb6df2a7b2b3e95d4126e687afb7ae}}\n"
    ));
    let report = check_provenance_policy(
        &gcb_statement(&dir.join("gcloud-container-github.json")),
        &digest,
        &github,
    );
    assert_eq!(
        outcomes(&report),
        [
            "passed",
            "passed",
            "passed",
            "not-required",
            "not-required",
            "passed",
            "passed",
            "not-required"
        ]
    );

    // The same statement with its builder or subject changed: each fails only its check.
    let report = check_provenance_policy(
        &gcb_statement(&dir.join("gcloud-container-mismatch-payload-builderid.json")),
        &digest,
        &github,
    );
    assert_eq!(failed(&report), ["builder"]);
    let report = check_provenance_policy(
        &gcb_statement(&dir.join("gcloud-container-mismatch-payload-digest.json")),
        &digest,
        &github,
    );
    assert_eq!(failed(&report), ["subject"]);

    // A build from a tagged git source, and one from a Cloud Storage source whose
    // generation fragment is not part of the location.
    let statement = gcb_statement(&dir.join("gcloud-container-github-tag.json"));
    let report = check_provenance_policy(
        &statement,
        &read_digest(&dir.join("gcloud-container-github-tag.digest")),
        &policy(&format!(
            "builders: ['{GCB_BUILDER}']\nsource: {{repository: '{EXAMPLE_PACKAGE}', \
             commit: c750fd73a1669b095df7c74da9f1ff2032f926c9}}\n"
        )),
    );
    assert!(report.passed(), "{:?}", report.checks);
    let statement = gcb_statement(&dir.join("gcloud-container-gcs.json"));
    let bucket = "gs://slsa-tooling_cloudbuild/source/1663616632.078353-fc7db143dcc64b5f9fe71d0497125ca1.tgz";
    for (repository, outcome) in [
        (bucket.to_owned(), "passed"),
        (format!("{bucket}#1663616635134845"), "failed"),
        ("gs://slsa-tooling_cloudbuild/source".to_owned(), "failed"),
    ] {
        let report = check_provenance_policy(
            &statement,
            &read_digest(&dir.join("gcloud-container-gcs.digest")),
            &policy(&format!(
                "builders: ['{GCB_BUILDER}']\nsource: {{repository: '{repository}'}}\n"
            )),
        );
        assert_eq!(
            outcomes(&report)[..3],
            ["passed", "passed", outcome],
            "{repository}"
        );
    }
}

#[test]
fn npm_provenance_v1_and_v0_2() {
    let Some(dir) = testdata() else {
        return;
    };
    let dir = dir.join("npm/gha");

    // v1: the second attestation; the first is npm's publish attestation.
    let statements = npm_statements(&dir.join("provenance-npm-test-cli-v1-prega.tgz.json"));
    let digest = format!("sha512:{}", statements[1].subjects()[0].digest["sha512"]);
    let v1 = policy(
        "builders: ['https://github.com/actions/runner/github-hosted']\n\
         source:\n  repository: github.com/sigstore/sigstore-js\n  ref_pattern: refs/heads/main\n  \
         commit: 46e7056ff9912ebfee5298d94024895a9fea76c0\n",
    );
    let report = check_provenance_policy(&statements[1], &digest, &v1);
    assert!(report.passed(), "{:?}", report.checks);
    assert_eq!(
        report.check("source-repository").unwrap().detail,
        "`buildDefinition.resolvedDependencies[0]` and \
         `buildDefinition.externalParameters.workflow` name `https://github.com/sigstore/sigstore-js`"
    );
    let report = check_provenance_policy(&statements[0], &digest, &v1);
    assert_eq!(
        failed(&report),
        [
            "builder",
            "source-repository",
            "source-ref",
            "source-versioned-tag",
            "source-commit",
            "source-clean",
            "approvals"
        ]
    );
    assert_eq!(
        report.check("builder").unwrap().detail,
        "the predicate type `https://github.com/npm/attestation/tree/main/specs/publish/v0.1` is \
         not SLSA provenance v0.1, v0.2 or v1"
    );
    // A sha256 of the same artifact is not the digest the subject records.
    let report = check_provenance_policy(
        &statements[1],
        "sha256:f06fbf5c353cc0db093904b9cac0d53b412d83dff6b80e6047d9786708a38e5c",
        &v1,
    );
    assert_eq!(failed(&report), ["subject"]);

    // v0.2 from the same runner, published from a tag.
    let statements = npm_statements(&dir.join("supreme-googles-cli-v02-tag.tgz.json"));
    let digest = format!("sha512:{}", statements[1].subjects()[0].digest["sha512"]);
    let report = check_provenance_policy(
        &statements[1],
        &digest,
        &policy(
            "builders: ['https://github.com/actions/runner']\n\
             source: {repository: github.com/trishankatdatadog/supreme-goggles, \
             ref_pattern: 'refs/tags/v1.*', commit: 38ebf99444e033b2f1550c9aaaeacd62d02a12ba}\n",
        ),
    );
    assert!(report.passed(), "{:?}", report.checks);
    // The GitHub-hosted runner ID of v1 provenance is another builder.
    let report = check_provenance_policy(&statements[1], &digest, &v1);
    assert_eq!(
        failed(&report),
        [
            "builder",
            "source-repository",
            "source-ref",
            "source-commit"
        ]
    );
}

#[test]
fn bazel_central_registry_v1_bundles() {
    let Some(dir) = testdata() else {
        return;
    };
    let module = envelope_statement(&dir.join("bcr/MODULE.bazel.intoto.jsonl"));
    let tarball = envelope_statement(&dir.join("bcr/rules_lint-v1.3.1.tar.gz.intoto.jsonl"));
    let publish = policy(
        "builders: ['https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@v0.0.1']\n\
         source: {repository: github.com/aspect-build/rules_lint, ref_pattern: refs/heads/publish-to-bcr, \
         commit: 8f70009fde0c94ade6ce2a054b94718c819126ec}\n",
    );
    let digest = |s: &Statement| format!("sha256:{}", s.subjects()[0].digest["sha256"]);
    let report = check_provenance_policy(&module, &digest(&module), &publish);
    assert!(report.passed(), "{:?}", report.checks);
    // The release tarball was attested by the ruleset workflow, not the publishing one.
    let report = check_provenance_policy(&tarball, &digest(&tarball), &publish);
    assert_eq!(failed(&report), ["builder"]);
    assert_eq!(
        report.check("builder").unwrap().detail,
        "`https://github.com/bazel-contrib/.github/.github/workflows/release_ruleset.yaml@refs/tags/v7.1.0` \
         is not one of the allowed builders \
         (`https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@v0.0.1`)"
    );
}
