//! `clearbox provenance` on git checkouts made with the git command line, and
//! `verify-attestation --policy` and `evidence --policy` on what it attests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use clearbox_attest::intoto::Statement;
use clearbox_attest::slsa::{BUILD_TYPE, ProvenancePolicy, check_provenance_policy};
use serde_json::{Value, json};

use crate::support::{assert_exit, example_image, read_json, stderr, stdout};

const PASSWORD: &str = "pw";
const BUILDER: &str = "https://ci.example/builders/linux@v2";
const IDENTITY: &str = "registry.example/acme/app";

/// Runs clearbox with only the variables given, so that CI variables of the machine running
/// the tests cannot change the provenance.
fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clearbox"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("CLEARBOX_PASSWORD", PASSWORD)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Runs git in `dir`, with a fixed identity and no user or system configuration.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.invalid",
        ])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Creates a checkout with one commit on `main`, a remote whose URL carries credentials, and an
/// ignored build directory. Returns its path and the commit.
fn checkout(dir: &Path) -> (PathBuf, String) {
    let repo = dir.join("src");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    std::fs::write(repo.join("Dockerfile"), "FROM scratch\n").unwrap();
    std::fs::write(repo.join(".gitignore"), "build/\n").unwrap();
    git(&repo, &["add", "Dockerfile", ".gitignore"]);
    git(&repo, &["commit", "-q", "-m", "first"]);
    git(
        &repo,
        &[
            "remote",
            "add",
            "origin",
            "https://ci-token:s3cret@git.example/acme/app.git",
        ],
    );
    std::fs::create_dir_all(repo.join("build")).unwrap();
    std::fs::write(repo.join("build/output.bin"), "ignored").unwrap();
    let commit = git(&repo, &["rev-parse", "HEAD"]);
    (repo, commit)
}

/// Copies the example layout to `dir/image`, hard-linking the blobs, which nothing rewrites.
fn layout_copy(image: &Path, dir: &Path) -> PathBuf {
    let target = dir.join("image");
    let blobs = target.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    for entry in std::fs::read_dir(image.join("blobs/sha256")).unwrap() {
        let entry = entry.unwrap();
        let destination = blobs.join(entry.file_name());
        if std::fs::hard_link(entry.path(), &destination).is_err() {
            std::fs::copy(entry.path(), &destination).unwrap();
        }
    }
    for file in ["index.json", "oci-layout"] {
        std::fs::copy(image.join(file), target.join(file)).unwrap();
    }
    target
}

/// Reads the example image's manifest digest and manifest.
fn example_manifest(image: &Path) -> (String, Value) {
    let index = read_json(&image.join("index.json"));
    let digest = index["manifests"][0]["digest"].as_str().unwrap().to_owned();
    let manifest = read_json(&image.join("blobs/sha256").join(&digest[7..]));
    (digest, manifest)
}

fn statement(out: &Output) -> Value {
    assert_exit(out, 0);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(out)))
}

#[test]
fn provenance_of_clean_checkout_has_exact_fields() {
    let Some(image) = example_image() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (repo, commit) = checkout(dir.path());
    let reference = format!("oci:{}:latest", image.display());
    let out = run(
        &[
            "provenance",
            &reference,
            "--source",
            repo.to_str().unwrap(),
            "--builder-id",
            BUILDER,
            "--identity",
            IDENTITY,
            "--approval",
            "ticket=CHG-1234,reviewer=alice",
            "--approval",
            "reviewer=bob",
            "--started-on",
            "2025-01-31T10:30:00+01:00",
            "--finished-on",
            "2025-01-31T09:41:07Z",
            "--invocation-id",
            "build-42",
        ],
        &[],
    );
    let found = statement(&out);
    let (digest, manifest) = example_manifest(&image);
    let layers: Vec<&Value> = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["digest"])
        .collect();
    assert_eq!(
        found,
        json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": IDENTITY, "digest": {"sha256": &digest[7..]}}],
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": {
                "buildDefinition": {
                    "buildType": BUILD_TYPE,
                    "externalParameters": {
                        "source": {
                            "repository": "https://git.example/acme/app",
                            "ref": "refs/heads/main",
                            "commit": commit,
                            "dirty": false,
                        },
                        "approvals": [
                            {"reviewer": "alice", "ticket": "CHG-1234"},
                            {"reviewer": "bob"},
                        ],
                    },
                    "internalParameters": {"image": {
                        "config": manifest["config"]["digest"],
                        "layers": layers,
                    }},
                    "resolvedDependencies": [{
                        "uri": "git+https://git.example/acme/app@refs/heads/main",
                        "digest": {"gitCommit": commit},
                    }],
                },
                "runDetails": {
                    "builder": {"id": BUILDER},
                    "metadata": {
                        "invocationId": "build-42",
                        "startedOn": "2025-01-31T09:30:00Z",
                        "finishedOn": "2025-01-31T09:41:07Z",
                    },
                },
            },
        })
    );
    assert!(!stdout(&out).contains("s3cret"));

    // The statement is valid in-toto, and a policy for this source passes it.
    let parsed = Statement::from_json(&out.stdout).unwrap();
    let policy = ProvenancePolicy::parse(&format!(
        "builders: [https://ci.example/builders/linux]\n\
         source: {{repository: git.example/acme/app, ref_pattern: refs/heads/main, commit: {commit}}}\n\
         approvals: {{required: 2, reviewers: [alice, bob]}}\n"
    ))
    .unwrap();
    let report = check_provenance_policy(&parsed, &digest, &policy);
    assert!(report.passed(), "{:?}", report.checks);
}

#[test]
fn provenance_refuses_dirty_tree_unless_allowed() {
    let Some(image) = example_image() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (repo, commit) = checkout(dir.path());
    let reference = format!("oci:{}:latest", image.display());
    let args = |extra: &[&'static str]| {
        let mut args = vec![
            "provenance".to_owned(),
            reference.clone(),
            "--source".to_owned(),
            repo.display().to_string(),
            "--builder-id".to_owned(),
            BUILDER.to_owned(),
            "--identity".to_owned(),
            IDENTITY.to_owned(),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args
    };
    let call = |extra: &[&'static str]| {
        let args = args(extra);
        run(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[])
    };

    // An ignored file leaves the tree clean.
    assert_eq!(
        statement(&call(&[]))["predicate"]["buildDefinition"]["externalParameters"]["source"]["dirty"],
        false
    );

    // A modified tracked file, a staged new file and an untracked file each make it dirty.
    std::fs::write(repo.join("Dockerfile"), "FROM debian\n").unwrap();
    std::fs::write(repo.join("staged.txt"), "x").unwrap();
    git(&repo, &["add", "staged.txt"]);
    std::fs::write(repo.join("untracked.txt"), "x").unwrap();
    let out = call(&[]);
    assert_exit(&out, 2);
    assert!(out.stdout.is_empty());
    assert_eq!(
        stderr(&out).lines().next().unwrap(),
        format!(
            "error: the working tree of `{}` differs from commit {commit} (`Dockerfile`, \
             `staged.txt`, `untracked.txt`), so the commit does not describe what was built; \
             commit the changes, or pass --allow-dirty to record `dirty: true`",
            repo.display()
        )
    );

    let found = statement(&call(&["--allow-dirty"]));
    assert_eq!(
        found["predicate"]["buildDefinition"]["externalParameters"]["source"],
        json!({"repository": "https://git.example/acme/app", "ref": "refs/heads/main",
               "commit": commit, "dirty": true})
    );
    // A policy rejects dirty provenance unless it allows it.
    let parsed = Statement::from_json(&serde_json::to_vec(&found).unwrap()).unwrap();
    let digest = format!(
        "sha256:{}",
        found["subject"][0]["digest"]["sha256"].as_str().unwrap()
    );
    let strict = ProvenancePolicy::parse(&format!(
        "builders: ['{BUILDER}']\nsource: {{commit: {commit}}}"
    ))
    .unwrap();
    let report = check_provenance_policy(&parsed, &digest, &strict);
    assert_eq!(
        report.failures().map(|c| c.name).collect::<Vec<_>>(),
        ["source-clean"]
    );
    let lenient = ProvenancePolicy::parse(&format!(
        "builders: ['{BUILDER}']\nsource: {{commit: {commit}, allow_dirty: true}}"
    ))
    .unwrap();
    assert!(check_provenance_policy(&parsed, &digest, &lenient).passed());
}

#[test]
fn provenance_from_ci_variables() {
    let Some(image) = example_image() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (repo, commit) = checkout(dir.path());
    let reference = format!("oci:{}:latest", image.display());
    // A detached checkout without a remote, as some CI checkouts are.
    git(&repo, &["checkout", "-q", "--detach"]);
    git(&repo, &["remote", "remove", "origin"]);
    let base = [
        "provenance",
        &reference,
        "--source",
        repo.to_str().unwrap(),
        "--builder-id",
        BUILDER,
        "--identity",
        IDENTITY,
    ];

    let github = [
        ("GITHUB_RUN_ID", "9116405766"),
        ("GITHUB_RUN_ATTEMPT", "1"),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_REPOSITORY", "acme/app"),
        ("GITHUB_REF", "refs/tags/v1.4.0"),
        ("GITHUB_SHA", commit.as_str()),
        ("GITHUB_EVENT_NAME", "push"),
        ("GITHUB_TOKEN", "ghs_not_recorded"),
    ];
    let out = run(&base, &github);
    let found = statement(&out);
    let predicate = &found["predicate"];
    assert_eq!(
        predicate["buildDefinition"]["externalParameters"]["source"],
        json!({"repository": "https://github.com/acme/app", "ref": "refs/tags/v1.4.0",
               "commit": commit, "dirty": false})
    );
    assert_eq!(
        predicate["buildDefinition"]["internalParameters"]["ci"],
        json!({"provider": "github-actions", "GITHUB_EVENT_NAME": "push",
               "GITHUB_REF": "refs/tags/v1.4.0", "GITHUB_REPOSITORY": "acme/app",
               "GITHUB_RUN_ATTEMPT": "1", "GITHUB_RUN_ID": "9116405766"})
    );
    assert_eq!(
        predicate["runDetails"]["metadata"],
        json!({"invocationId": "https://github.com/acme/app/actions/runs/9116405766/attempts/1"})
    );
    assert!(!stdout(&out).contains("ghs_not_recorded"));

    // GitLab: the job's start time, unless --started-on is given; arguments win.
    let gitlab = [
        ("CI_JOB_ID", "7046507"),
        (
            "CI_JOB_URL",
            "https://gitlab.example/acme/app/-/jobs/7046507",
        ),
        ("CI_JOB_STARTED_AT", "2024-03-01T10:00:05+01:00"),
        ("CI_PROJECT_URL", "https://gitlab.example/acme/app"),
        ("CI_COMMIT_BRANCH", "release"),
        ("CI_PIPELINE_ID", "1234"),
    ];
    let found = statement(&run(&base, &gitlab));
    assert_eq!(
        found["predicate"]["runDetails"]["metadata"],
        json!({"invocationId": "https://gitlab.example/acme/app/-/jobs/7046507",
               "startedOn": "2024-03-01T09:00:05Z"})
    );
    assert_eq!(
        found["predicate"]["buildDefinition"]["resolvedDependencies"][0]["uri"],
        "git+https://gitlab.example/acme/app@refs/heads/release"
    );
    let mut with_args = base.to_vec();
    with_args.extend([
        "--started-on",
        "2024-03-01T08:59:00Z",
        "--invocation-id",
        "mine",
    ]);
    let found = statement(&run(&with_args, &gitlab));
    assert_eq!(
        found["predicate"]["runDetails"]["metadata"],
        json!({"invocationId": "mine", "startedOn": "2024-03-01T08:59:00Z"})
    );

    // Outside CI, a checkout without a remote names no repository.
    let out = run(&base, &[]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("has no git remote to name the source repository by; add one"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn provenance_base_images() {
    let Some(image) = example_image() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (repo, commit) = checkout(dir.path());
    let (example_digest, manifest) = example_manifest(&image);
    let common = |reference: &str| {
        vec![
            "provenance".to_owned(),
            reference.to_owned(),
            "--source".to_owned(),
            repo.display().to_string(),
            "--builder-id".to_owned(),
            BUILDER.to_owned(),
            "--identity".to_owned(),
            IDENTITY.to_owned(),
        ]
    };
    let call = |args: Vec<String>| run(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    let dependencies =
        |found: &Value| found["predicate"]["buildDefinition"]["resolvedDependencies"].clone();
    let source = json!({"uri": "git+https://git.example/acme/app@refs/heads/main",
                        "digest": {"gitCommit": commit}});

    // --base resolves a local layout to its digest; a local path is not recorded as its name.
    let mut args = common(&format!("oci:{}:latest", image.display()));
    args.extend([
        "--base".to_owned(),
        format!("oci:{}:latest", image.display()),
    ]);
    assert_eq!(
        dependencies(&statement(&call(args))),
        json!([source, {"name": "base-image", "digest": {"sha256": &example_digest[7..]}}])
    );

    // The base annotations of the image's manifest, written into a copy of the layout.
    let layout = layout_copy(&image, dir.path());
    let base_digest = "sha256:4746d26432a9117a5f58e95cb9f954ddf0de128e9d5816886514199316e4a2fb";
    let mut annotated = manifest.clone();
    annotated["annotations"] = json!({
        "org.opencontainers.image.base.digest": base_digest,
        "org.opencontainers.image.base.name": "docker.io/library/golang:1.21",
    });
    let bytes = serde_json::to_vec(&annotated).unwrap();
    let digest = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    std::fs::write(layout.join("blobs/sha256").join(&digest), &bytes).unwrap();
    let mut index = read_json(&layout.join("index.json"));
    index["manifests"][0]["digest"] = json!(format!("sha256:{digest}"));
    index["manifests"][0]["size"] = json!(bytes.len());
    std::fs::write(
        layout.join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();
    let found = statement(&call(common(&format!("oci:{}:latest", layout.display()))));
    assert_eq!(found["subject"][0]["digest"]["sha256"], digest);
    assert_eq!(
        dependencies(&found),
        json!([source, {"name": "base-image", "uri": "docker.io/library/golang:1.21",
                        "digest": {"sha256": &base_digest[7..]}}])
    );
}

#[test]
fn provenance_argument_errors() {
    let Some(image) = example_image() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (repo, _) = checkout(dir.path());
    let reference = format!("oci:{}:latest", image.display());
    let source = repo.to_str().unwrap();
    for (args, message) in [
        (
            vec!["--builder-id", "not a uri"],
            "error: invalid --builder-id `not a uri`: expected a URI such as \
             https://ci.example/builder",
        ),
        (
            vec!["--builder-id", BUILDER, "--started-on", "yesterday"],
            "error: invalid --started-on",
        ),
        (
            vec!["--builder-id", BUILDER, "--approval", "ticket=CHG-1"],
            "an approval needs `reviewer=NAME`",
        ),
        (
            vec!["--builder-id", BUILDER, "--attest"],
            "the following required arguments were not provided",
        ),
    ] {
        let mut full = vec![
            "provenance",
            &reference,
            "--source",
            source,
            "--identity",
            IDENTITY,
        ];
        full.extend(args);
        let out = run(&full, &[]);
        assert_exit(&out, 2);
        assert!(stderr(&out).contains(message), "{full:?}: {}", stderr(&out));
    }
    // A directory outside any repository.
    let out = run(
        &[
            "provenance",
            &reference,
            "--source",
            dir.path().to_str().unwrap(),
            "--builder-id",
            BUILDER,
            "--identity",
            IDENTITY,
        ],
        &[("GIT_CEILING_DIRECTORIES", dir.path().to_str().unwrap())],
    );
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("is not inside a git checkout"),
        "{}",
        stderr(&out)
    );
}

/// A layout with provenance attested by `provenance --attest`, the key pair, and the commit.
struct Attested {
    dir: tempfile::TempDir,
    reference: String,
    public: String,
    commit: String,
    statement: Value,
}

fn attested(image: &Path) -> Attested {
    let dir = tempfile::tempdir().unwrap();
    let (repo, commit) = checkout(dir.path());
    let layout = layout_copy(image, dir.path());
    let reference = format!("oci:{}:latest", layout.display());
    for name in ["signer", "other"] {
        let prefix = dir.path().join(name);
        assert_exit(
            &run(
                &[
                    "key",
                    "generate",
                    "--output-prefix",
                    prefix.to_str().unwrap(),
                ],
                &[],
            ),
            0,
        );
    }
    let output = dir.path().join("provenance.json");
    let out = run(
        &[
            "provenance",
            &reference,
            "--source",
            repo.to_str().unwrap(),
            "--builder-id",
            BUILDER,
            "--identity",
            IDENTITY,
            "--approval",
            "ticket=CHG-7,reviewer=alice",
            "--output",
            output.to_str().unwrap(),
            "--attest",
            "--key",
            dir.path().join("signer.key").to_str().unwrap(),
        ],
        &[],
    );
    assert_exit(&out, 0);
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out).contains("(https://slsa.dev/provenance/v1): stored in"),
        "{}",
        stderr(&out)
    );
    Attested {
        public: dir.path().join("signer.pub").display().to_string(),
        statement: read_json(&output),
        dir,
        reference,
        commit,
    }
}

fn write_policy(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn attested_provenance_verifies_and_meets_policy() {
    let Some(image) = example_image() else { return };
    let attested = attested(&image);
    let reference = attested.reference.as_str();

    // The stored attestation is the statement written to --output.
    let out = run(
        &[
            "verify-attestation",
            reference,
            "--key",
            &attested.public,
            "--type",
            "slsaprovenance1",
        ],
        &[],
    );
    assert_exit(&out, 0);
    assert_eq!(
        serde_json::from_str::<Value>(stdout(&out).lines().next().unwrap()).unwrap(),
        attested.statement
    );

    // A policy that the provenance meets, in YAML; --type slsaprovenance admits v1 here.
    let passing = write_policy(
        attested.dir.path(),
        "pass.yaml",
        &format!(
            "builders:\n  - https://ci.example/builders/linux@v2\n\
             source:\n  repository: https://git.example/acme/app\n  ref_pattern: refs/heads/*\n  \
             commit: {}\n\
             approvals:\n  required: 1\n  reviewers: [alice]\n",
            attested.commit
        ),
    );
    let out = run(
        &[
            "verify-attestation",
            reference,
            "--key",
            &attested.public,
            "--type",
            "slsaprovenance",
            "--policy",
            &passing,
        ],
        &[],
    );
    assert_exit(&out, 0);
    assert_eq!(stdout(&out).lines().count(), 1);
    let text = stderr(&out);
    for line in [
        "1 of 1 SLSA provenance statements verified with key",
        "    passed       subject: a subject has the digest `sha256:",
        "    passed       builder: `https://ci.example/builders/linux@v2` is an allowed builder",
        "    passed       source-ref: `refs/heads/main` match `refs/heads/*`",
        "    passed       approvals: `alice` approved (1 required of the listed reviewers)",
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }

    // A policy it fails, in JSON: each failed check named, exit 1, nothing on stdout.
    let failing = write_policy(
        attested.dir.path(),
        "fail.json",
        r#"{"builders": ["https://ci.example/builders/other"],
            "source": {"repository": "github.com/acme/app", "ref_pattern": "refs/tags/v*"},
            "approvals": {"required": 2}}"#,
    );
    let out = run(
        &[
            "verify-attestation",
            reference,
            "--key",
            &attested.public,
            "--policy",
            &failing,
        ],
        &[],
    );
    assert_exit(&out, 1);
    assert!(out.stdout.is_empty());
    let text = stderr(&out);
    assert!(
        text.ends_with(
            "provenance policy failed: builder, source-repository, source-ref, approvals\n"
        ),
        "{text}"
    );
    assert!(text.contains("    not-required source-commit: the policy does not require it"));

    // The wrong key verifies nothing; a --type that is not provenance is refused.
    let other = attested.dir.path().join("other.pub");
    let out = run(
        &[
            "verify-attestation",
            reference,
            "--key",
            other.to_str().unwrap(),
            "--policy",
            &passing,
        ],
        &[],
    );
    assert_exit(&out, 1);
    let out = run(
        &[
            "verify-attestation",
            reference,
            "--key",
            &attested.public,
            "--type",
            "spdx",
            "--policy",
            &passing,
        ],
        &[],
    );
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("--policy checks SLSA provenance"));
}

#[test]
fn evidence_records_provenance_policy_checks() {
    let Some(image) = example_image() else { return };
    let attested = attested(&image);
    let passing = write_policy(
        attested.dir.path(),
        "pass.yaml",
        &format!(
            "builders: [https://ci.example/builders/linux]\nsource: {{commit: {}}}\n",
            attested.commit
        ),
    );
    let failing = write_policy(
        attested.dir.path(),
        "fail.yaml",
        "builders: [https://ci.example/builders/linux]\napprovals: {required: 2}\n",
    );
    for (policy, result) in [(&passing, "passed"), (&failing, "failed")] {
        let package = attested.dir.path().join(format!("evidence-{result}"));
        // XDG_DATA_HOME contains no advisory database, so the package records the scan as not run.
        let out = run(
            &[
                "evidence",
                &attested.reference,
                "--key",
                &attested.public,
                "--policy",
                policy,
                "--output",
                package.to_str().unwrap(),
            ],
            &[("XDG_DATA_HOME", attested.dir.path().to_str().unwrap())],
        );
        assert_exit(&out, 0);
        assert!(
            stderr(&out).contains(&if result == "passed" {
                format!("policy `{policy}` passed")
            } else {
                format!("policy `{policy}` FAILED (approvals)")
            }),
            "{}",
            stderr(&out)
        );
        let report = read_json(&package.join("slsa-provenance.json"));
        assert_eq!(report["status"], format!("policy-{result}"));
        assert_eq!(report["policy"]["file"], policy.as_str());
        assert_eq!(report["policy"]["result"], result);
        let checks = &report["policy"]["statements"][0]["checks"];
        let names: Vec<(&str, &str)> = checks
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["name"].as_str().unwrap(), c["result"].as_str().unwrap()))
            .collect();
        let expected = if result == "passed" {
            vec![
                ("subject", "passed"),
                ("builder", "passed"),
                ("source-repository", "not-required"),
                ("source-ref", "not-required"),
                ("source-versioned-tag", "not-required"),
                ("source-commit", "passed"),
                ("source-clean", "passed"),
                ("approvals", "not-required"),
            ]
        } else {
            vec![
                ("subject", "passed"),
                ("builder", "passed"),
                ("source-repository", "not-required"),
                ("source-ref", "not-required"),
                ("source-versioned-tag", "not-required"),
                ("source-commit", "not-required"),
                ("source-clean", "not-required"),
                ("approvals", "failed"),
            ]
        };
        assert_eq!(names, expected);
        let failed: Vec<&str> = if result == "passed" {
            vec![]
        } else {
            vec!["approvals"]
        };
        assert_eq!(report["policy"]["failed_checks"], json!(failed));
        assert_eq!(report["provenance"][0], attested.statement);
    }
}
