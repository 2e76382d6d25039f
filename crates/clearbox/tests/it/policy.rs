//! The policy file. Its JSON Schema and the parser agree on the documented examples, on `policy
//! init` output and on invalid files. The starter policy gates signed images in a real registry
//! through `verify --policy`, and `check` and `evidence` apply the same file.

use std::path::{Path, PathBuf};
use std::process::Command;

use clearbox_policy::policy::{PolicyError, Rule, parse_policy};
use clearbox_testdata::registry::{RegistryConfig, RegistryServer};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::support::{
    assert_exit, clearbox, clearbox_env, corpus, key_pair, read_json, stderr, stdout, venv,
    workspace,
};

const PASSWORD: (&str, &str) = ("CLEARBOX_PASSWORD", "policy test");

/// Validates each file against the schema and prints one JSON line per file with its errors.
/// `PyYAML` reads YAML 1.1, which turns unquoted dates into date objects; clearbox reads YAML 1.2,
/// where they stay strings, so the timestamp resolver is removed.
const SCHEMA_CHECK: &str = r"
import json, sys, yaml, jsonschema
class Loader(yaml.SafeLoader):
    pass
Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != 'tag:yaml.org,2002:timestamp']
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(
    schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
for path in sys.argv[2:]:
    document = yaml.load(open(path), Loader=Loader)
    errors = [error.message for error in validator.iter_errors(document)]
    print(json.dumps({'file': path, 'errors': errors}))
";

/// Returns the schema errors of each file, in order.
fn schema_errors(venv: &Path, files: &[PathBuf]) -> Vec<Vec<String>> {
    let output = Command::new(venv.join("bin/python"))
        .args(["-c", SCHEMA_CHECK])
        .arg(workspace().join("docs/policy.schema.json"))
        .args(files)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the schema check failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), files.len());
    lines
        .iter()
        .map(|line| {
            line["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap().to_owned())
                .collect()
        })
        .collect()
}

/// Extracts the YAML examples of docs/policy.md that are whole policy files.
fn documented_examples() -> Vec<String> {
    let text = std::fs::read_to_string(workspace().join("docs/policy.md")).unwrap();
    text.split("```yaml\n")
        .skip(1)
        .filter_map(|block| block.split_once("```").map(|(body, _)| body))
        .filter(|body| body.starts_with("apiVersion:"))
        .map(str::to_owned)
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn sha256_of(path: &Path) -> String {
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
    )
}

/// Runs `policy init` and returns the policy text.
fn init_policy(args: &[&str]) -> String {
    let mut full = vec!["policy", "init"];
    full.extend_from_slice(args);
    let out = clearbox(&full);
    assert_exit(&out, 0);
    stdout(&out)
}

#[test]
fn documented_examples_and_init_valid() {
    let Some(venv) = venv() else { return };
    let dir = tempfile::tempdir().unwrap();
    let examples = documented_examples();
    assert!(!examples.is_empty(), "docs/policy.md has no policy example");
    let mut files: Vec<PathBuf> = examples
        .iter()
        .enumerate()
        .map(|(i, text)| write(dir.path(), &format!("example-{i}.yaml"), text))
        .collect();
    let (_, public) = key_pair(dir.path(), "release", PASSWORD);
    let init = init_policy(&[
        "--registry",
        "ghcr.io/acme",
        "--registry",
        "127.0.0.1:5000/team",
        "--key",
        &public,
        "--max-severity",
        "high",
    ]);
    assert!(init.contains(&format!("    - \"{public}\"\n")), "{init}");
    files.push(write(dir.path(), "init.yaml", &init));

    for (file, errors) in files.iter().zip(schema_errors(&venv, &files)) {
        assert!(errors.is_empty(), "{}: {errors:?}", file.display());
        let bytes = std::fs::read(file).unwrap();
        let policy =
            parse_policy(file, &bytes).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(policy.digest, sha256_of(file));
    }
    let policy = parse_policy(&files[files.len() - 1], init.as_bytes()).unwrap();
    let rules: Vec<&str> = policy.rules().map(Rule::name).collect();
    assert_eq!(
        rules,
        [
            "trusted_registries",
            "signers",
            "attestations.vulnerability"
        ]
    );
    assert_eq!(policy.signers.unwrap().keys[0].location, public);
}

#[test]
fn invalid_policies_rejected_by_schema_and_parser() {
    let Some(venv) = venv() else { return };
    let head = "apiVersion: clearbox.dev/v1\nkind: Policy\n";
    // (file text, message the parser gives, whether the schema can see the problem too)
    let cases: Vec<(String, &str, bool)> = vec![
        (
            format!("{head}deny_latest_tags: true\n"),
            "unknown field `deny_latest_tags`",
            true,
        ),
        (
            format!("{head}signers:\n  keys: []\n"),
            "line 4: `signers.keys` is empty; list public key files or pkcs11: URIs, or remove it",
            true,
        ),
        (
            format!(
                "{head}deny_latest_tag: true\nexceptions:\n  - rule: deny_latest_tag\n    \
                 image: '*'\n    expires: 2027-02-30\n    reason: r\n"
            ),
            "line 7: `expires` `2027-02-30` is not a date; write YYYY-MM-DD",
            true,
        ),
        (
            format!("{head}attestations:\n  vulnerability:\n    max_severity: severe\n"),
            "line 5: unknown severity `severe` in `max_severity`",
            true,
        ),
        (
            format!(
                "{head}deny_latest_tag: true\nexceptions:\n  - rule: latest\n    image: x\n    \
                 expires: 2027-01-01\n    reason: r\n"
            ),
            "line 5: unknown rule `latest` in an exception",
            true,
        ),
        (
            format!(
                "{head}deny_latest_tag: true\nexceptions:\n  - rule: require_digest\n    \
                 image: x\n    expires: 2027-01-01\n    reason: r\n"
            ),
            "line 5: the exception waives `require_digest`, which this policy does not set",
            false,
        ),
        (
            format!("{head}annotations:\n  - key: team\n    value: ml\n    pattern: '^m'\n"),
            "line 4: annotation `team` sets both `value` and `pattern`; keep one",
            true,
        ),
        (
            "apiVersion: clearbox.dev/v2\nkind: Policy\nrequire_digest: true\n".to_owned(),
            "line 1: unsupported `apiVersion` `clearbox.dev/v2`",
            true,
        ),
        (
            format!("{head}deny_latest_tag: false\n"),
            "line 1: the policy sets no rule",
            true,
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = cases
        .iter()
        .enumerate()
        .map(|(i, (text, _, _))| write(dir.path(), &format!("invalid-{i}.yaml"), text))
        .collect();
    let schema = schema_errors(&venv, &files);
    for (((text, message, schema_sees_it), file), errors) in cases.iter().zip(&files).zip(schema) {
        let error = parse_policy(file, text.as_bytes()).unwrap_err();
        assert!(
            matches!(
                error,
                PolicyError::Syntax { .. } | PolicyError::Invalid { .. }
            ),
            "{error:?}"
        );
        let message_text = error.to_string();
        assert!(message_text.contains(message), "{text}\n{message_text}");
        assert!(
            message_text.contains(&file.display().to_string()),
            "{message_text}"
        );
        assert_eq!(!errors.is_empty(), *schema_sees_it, "{text}\n{errors:?}");
    }

    // The command line reports the same message and exits 2.
    let out = clearbox(&[
        "check",
        "k8s",
        dir.path().to_str().unwrap(),
        "--policy",
        files[1].to_str().unwrap(),
    ]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains(cases[1].1), "{}", stderr(&out));
}

/// A registry with the corpus test image pushed as `trusted/app:v1`, `trusted/unsigned:v1` and
/// `other/app:v1`, the first and last signed with the key pair.
struct SignedRegistry {
    server: RegistryServer,
    dir: tempfile::TempDir,
    public: String,
}

impl SignedRegistry {
    fn start() -> Option<SignedRegistry> {
        let corpus = corpus()?;
        let server = RegistryServer::start(RegistryConfig::default())?;
        let layout = corpus.join("images/trivy/pkg/fanal/test/testdata/test.oci");
        let source = format!("oci:{}", layout.display());
        for target in ["trusted/app:v1", "trusted/unsigned:v1", "other/app:v1"] {
            server.push_layout(&source, target, None)?;
        }
        let dir = tempfile::tempdir().unwrap();
        let (key, public) = key_pair(dir.path(), "release", PASSWORD);
        let registry = SignedRegistry {
            server,
            dir,
            public,
        };
        for image in ["trusted/app:v1", "other/app:v1"] {
            let out = registry.run(&["sign", &registry.image(image), "--key", &key]);
            assert_exit(&out, 0);
        }
        Some(registry)
    }

    fn image(&self, name: &str) -> String {
        format!("docker://{}/{name}", self.server.host_port())
    }

    /// Runs clearbox with plain HTTP allowed to the test registry, and with a configuration
    /// directory that contains no Sigstore trusted root.
    fn run(&self, args: &[&str]) -> std::process::Output {
        let host = self.server.host_port();
        let config = self.dir.path().join("config");
        let mut full = args.to_vec();
        full.extend(["--insecure-registry", &host]);
        clearbox_env(
            &full,
            &[PASSWORD, ("XDG_CONFIG_HOME", config.to_str().unwrap())],
        )
    }
}

fn result_of<'a>(evaluation: &'a Value, rule: &str) -> &'a str {
    evaluation["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == rule)
        .and_then(|r| r["result"].as_str())
        .unwrap_or_else(|| panic!("no rule {rule} in {evaluation}"))
}

#[test]
fn init_policy_gates_images_in_registry() {
    let Some(registry) = SignedRegistry::start() else {
        return;
    };
    let host = registry.server.host_port();
    let policy_text = init_policy(&[
        "--registry",
        &format!("{host}/trusted"),
        "--key",
        &registry.public,
    ]);
    let policy = write(registry.dir.path(), "policy.yaml", &policy_text);
    let policy = policy.to_str().unwrap();

    // Signed by the key and from the trusted repository: passes, with the digest recorded.
    let out = registry.run(&[
        "verify",
        &registry.image("trusted/app:v1"),
        "--policy",
        policy,
    ]);
    assert_exit(&out, 0);
    let evaluation: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(evaluation["result"], "passed");
    assert_eq!(result_of(&evaluation, "trusted_registries"), "passed");
    assert_eq!(result_of(&evaluation, "signers"), "passed");
    assert_eq!(
        evaluation["policy"]["digest"],
        sha256_of(Path::new(policy)).as_str()
    );
    assert!(
        stderr(&out).ends_with("policy passed\n"),
        "{}",
        stderr(&out)
    );

    // Unsigned: the signers rule fails by name.
    let out = registry.run(&[
        "verify",
        &registry.image("trusted/unsigned:v1"),
        "--policy",
        policy,
    ]);
    assert_exit(&out, 1);
    let text = stderr(&out);
    assert!(
        text.contains("  failed          signers: 0 of 1 signers signed (require: any)"),
        "{text}"
    );
    assert!(text.ends_with("policy failed: signers\n"), "{text}");

    // Signed, but from another repository: the allowlist fails and the rest is not evaluated.
    let out = registry.run(&[
        "verify",
        &registry.image("other/app:v1"),
        "--policy",
        policy,
    ]);
    assert_exit(&out, 1);
    let evaluation: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result_of(&evaluation, "trusted_registries"), "failed");
    assert_eq!(result_of(&evaluation, "signers"), "not-evaluated");
    assert!(
        stderr(&out).ends_with("policy failed: trusted_registries\n"),
        "{}",
        stderr(&out)
    );

    // Another host is rejected before it is contacted: `.invalid` names never resolve, so any
    // network access would end in an error (exit 2) instead of the gate.
    let out = registry.run(&[
        "verify",
        "docker://registry.invalid/trusted/app:v1",
        "--policy",
        policy,
    ]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains(
            "failed          trusted_registries: `registry.invalid/trusted/app` is not inside \
             any trusted registry"
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn verify_policy_key_option() {
    let Some(registry) = SignedRegistry::start() else {
        return;
    };
    let host = registry.server.host_port();
    let policy_text = init_policy(&[
        "--registry",
        &format!("{host}/trusted"),
        "--key",
        &registry.public,
    ]);
    let policy = write(registry.dir.path(), "policy.yaml", &policy_text);
    let policy = policy.to_str().unwrap();

    // --key is refused when the policy names signers, and supplies one when it names none.
    let out = registry.run(&[
        "verify",
        &registry.image("trusted/app:v1"),
        "--policy",
        policy,
        "--key",
        &registry.public,
    ]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("names its signers"),
        "{}",
        stderr(&out)
    );
    let registries_only = write(
        registry.dir.path(),
        "registries.yaml",
        &format!(
            "apiVersion: clearbox.dev/v1\nkind: Policy\ntrusted_registries: ['{host}/trusted']\n"
        ),
    );
    let out = registry.run(&[
        "verify",
        &registry.image("trusted/app:v1"),
        "--policy",
        registries_only.to_str().unwrap(),
        "--key",
        &registry.public,
    ]);
    assert_exit(&out, 0);
    let out = registry.run(&[
        "verify",
        &registry.image("trusted/app:v1"),
        "--policy",
        registries_only.to_str().unwrap(),
    ]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("names no signers"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn identity_signers_never_pass_unchecked() {
    let Some(registry) = SignedRegistry::start() else {
        return;
    };
    let host = registry.server.host_port();
    let policy = |require: &str| {
        let text = format!(
            "apiVersion: clearbox.dev/v1\nkind: Policy\ntrusted_registries: ['{host}/trusted']\n\
             signers:\n  require: {require}\n  keys: [release.pub]\n  identities:\n    \
             - identity: https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main\n      \
             issuer: https://token.actions.githubusercontent.com\n"
        );
        write(registry.dir.path(), &format!("{require}.yaml"), &text)
    };

    // Every signer required: the key signed, but without a trusted root the identity could not
    // be checked, so the policy is not met.
    let all = policy("all");
    let out = registry.run(&[
        "verify",
        &registry.image("trusted/app:v1"),
        "--policy",
        all.to_str().unwrap(),
    ]);
    assert_exit(&out, 1);
    let evaluation: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(evaluation["result"], "incomplete");
    assert_eq!(result_of(&evaluation, "signers"), "could-not-check");
    let message = evaluation["results"][1]["message"].as_str().unwrap();
    assert!(
        message.starts_with("1 of 2 signers signed (require: all): key `release.pub` signed"),
        "{message}"
    );
    assert!(
        message.contains(
            "identity `https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main` \
             from issuer `https://token.actions.githubusercontent.com` could not be checked: no \
             trusted root"
        ),
        "{message}"
    );
    assert!(
        stderr(&out).ends_with("policy not met: could not check signers\n"),
        "{}",
        stderr(&out)
    );

    // Any signer: the key's signature suffices.
    let any = policy("any");
    let out = registry.run(&[
        "verify",
        &registry.image("trusted/app:v1"),
        "--policy",
        any.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
}

#[test]
fn check_image_applies_annotations() {
    let Some(registry) = SignedRegistry::start() else {
        return;
    };
    let host = registry.server.host_port();
    let policy = write(
        registry.dir.path(),
        "policy.yaml",
        &format!(
            "apiVersion: clearbox.dev/v1\nkind: Policy\ntrusted_registries: ['{host}/trusted']\n\
             signers:\n  keys: [release.pub]\n\
             annotations:\n  - key: com.example.team\n"
        ),
    );
    let policy = policy.to_str().unwrap();
    let out = registry.run(&[
        "check",
        "image",
        &registry.image("trusted/app:v1"),
        "--policy",
        policy,
    ]);
    assert_exit(&out, 1);
    let text = stderr(&out);
    assert!(
        text.contains("  passed          trusted_registries:"),
        "{text}"
    );
    assert!(
        text.contains("  failed          annotations: annotation `com.example.team` is missing"),
        "{text}"
    );
    assert!(
        text.contains("  not-evaluated   signers: signatures and attestations are evaluated by"),
        "{text}"
    );
    assert!(text.ends_with("policy failed: annotations\n"), "{text}");

    // The allowlist fails before the image is read: nothing is checked, so stdout is empty.
    let out = registry.run(&[
        "check",
        "image",
        "docker://registry.invalid/app:v1",
        "--policy",
        policy,
    ]);
    assert_exit(&out, 1);
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out).ends_with("policy failed: trusted_registries\n"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn check_k8s_applies_exceptions() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write(
        dir.path(),
        "policy.yaml",
        "apiVersion: clearbox.dev/v1\nkind: Policy\n\
         trusted_registries: [ghcr.io/acme]\n\
         deny_latest_tag: true\n\
         annotations:\n  - key: team\n\
         exceptions:\n\
         \x20 - rule: deny_latest_tag\n    resource: Deployment/prod/web*\n    \
         expires: 2999-12-31\n    reason: pinned in the next release\n\
         \x20 - rule: trusted_registries\n    image: docker.io/library/*\n    \
         expires: 2020-01-01\n    reason: mirror not ready\n",
    );
    let manifests = dir.path().join("manifests");
    std::fs::create_dir(&manifests).unwrap();
    write(
        &manifests,
        "web.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: prod\n  \
         annotations: {team: web}\nspec:\n  template:\n    spec:\n      containers:\n      \
         - name: web\n        image: ghcr.io/acme/web:latest\n",
    );
    let policy = policy.to_str().unwrap();
    let out = clearbox(&[
        "check",
        "k8s",
        manifests.to_str().unwrap(),
        "--policy",
        policy,
    ]);
    assert_exit(&out, 0);
    let text = stderr(&out);
    assert!(
        text.contains(
            "  waived          deny_latest_tag: the image is named by the tag `latest` (or by no \
             tag, which means `latest`); name a release tag or a digest (Deployment/prod/web \
             container web image ghcr.io/acme/web:latest); failed waived by the exception at \
             line 8 until 2999-12-31: pinned in the next release"
        ),
        "{text}"
    );
    assert!(
        text.contains("  expired         exception for `trusted_registries` on image `docker.io/library/*` (line 12, expires 2020-01-01): mirror not ready"),
        "{text}"
    );
    assert!(text.ends_with("policy passed\n"), "{text}");

    // An image from Docker Hub without annotations: the expired exception does not apply.
    write(
        &manifests,
        "cache.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: cache\nspec:\n  containers:\n  \
         - name: redis\n    image: redis:7\n",
    );
    let out = clearbox(&[
        "check",
        "k8s",
        manifests.to_str().unwrap(),
        "--policy",
        policy,
    ]);
    assert_exit(&out, 1);
    let text = stderr(&out);
    assert!(
        text.contains(
            "  failed          trusted_registries: `docker.io/library/redis` is not inside any \
             trusted registry (`ghcr.io/acme`) (Pod/cache container redis image \
             docker.io/library/redis:7); a matching exception no longer applies (line 12, \
             expired 2020-01-01)"
        ),
        "{text}"
    );
    assert!(
        text.contains("  failed          annotations: annotation `team` is missing (Pod/cache)"),
        "{text}"
    );
    assert!(
        text.ends_with("policy failed: trusted_registries, annotations\n"),
        "{text}"
    );
}

#[test]
fn evidence_records_policy_evaluation() {
    let Some(registry) = SignedRegistry::start() else {
        return;
    };
    let host = registry.server.host_port();
    let policy_text = init_policy(&[
        "--registry",
        &format!("{host}/trusted"),
        "--key",
        &registry.public,
    ]);
    let policy = write(registry.dir.path(), "policy.yaml", &policy_text);
    let cases = [
        ("trusted/app:v1", Some(&policy), "passed"),
        ("trusted/unsigned:v1", Some(&policy), "failed"),
        ("trusted/app:v1", None, "not-run"),
    ];
    for (index, (image, policy, expected)) in cases.into_iter().enumerate() {
        let package = registry.dir.path().join(format!("evidence-{index}"));
        let reference = registry.image(image);
        let mut args = vec![
            "evidence",
            &reference,
            "--output",
            package.to_str().unwrap(),
        ];
        if let Some(policy) = policy {
            args.extend(["--policy", policy.to_str().unwrap()]);
        }
        let out = registry.run(&args);
        assert_exit(&out, 0);
        let evaluation = read_json(&package.join("policy-evaluation.json"));
        let manifest = read_json(&package.join("manifest.json"));
        assert_eq!(
            manifest["files"]["policy-evaluation.json"]["sha256"].as_str(),
            Some(&sha256_of(&package.join("policy-evaluation.json"))[7..]),
            "policy-evaluation.json is listed in manifest.json"
        );
        if expected == "not-run" {
            assert_eq!(evaluation["status"], "not-run");
            assert_eq!(
                evaluation["reason"],
                "no --policy was given, so no policy was evaluated"
            );
            assert!(
                stderr(&out).contains("not produced: policy-evaluation.json"),
                "{}",
                stderr(&out)
            );
            continue;
        }
        let policy = policy.unwrap();
        assert_eq!(evaluation["status"], "evaluated");
        assert_eq!(evaluation["result"], expected);
        assert_eq!(evaluation["policy"]["digest"], sha256_of(policy).as_str());
        assert_eq!(result_of(&evaluation, "trusted_registries"), "passed");
        assert_eq!(result_of(&evaluation, "signers"), expected);
        assert!(
            evaluation["manifest_digest"]
                .as_str()
                .is_some_and(|d| d.starts_with("sha256:")),
            "{evaluation}"
        );
        let verify = clearbox(&["evidence", "verify", package.to_str().unwrap()]);
        assert_exit(&verify, 0);
    }
}

#[test]
fn evidence_provenance_policy_needs_key() {
    let Some(corpus) = corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let provenance = write(
        dir.path(),
        "provenance.yaml",
        "builders: [https://ci.example/builder]\n",
    );
    let layout = corpus.join("images/trivy/pkg/fanal/test/testdata/test.oci");
    let package = dir.path().join("evidence");
    let out = clearbox(&[
        "evidence",
        &format!("oci:{}", layout.display()),
        "--policy",
        provenance.to_str().unwrap(),
        "--output",
        package.to_str().unwrap(),
    ]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains(
            "has no `apiVersion`, so it is read as a provenance policy, which needs --key; give \
             --key, or add `apiVersion: clearbox.dev/v1` and `kind: Policy`"
        ),
        "{}",
        stderr(&out)
    );
    assert!(!package.exists());
}

/// A workload whose containers cannot be read, or a container without an image, is not a pass:
/// the images the reference rules would check are unknown.
#[test]
fn check_k8s_policy_unreadable_containers_could_not_check() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write(
        dir.path(),
        "policy.yaml",
        "apiVersion: clearbox.dev/v1\nkind: Policy\ntrusted_registries: [ghcr.io/acme]\n",
    );
    for (name, containers) in [
        (
            "mapping.yaml",
            "containers: {name: c, image: evil.example/x}",
        ),
        ("noimage.yaml", "containers:\n      - name: c"),
    ] {
        let manifests = dir.path().join(name.trim_end_matches(".yaml"));
        std::fs::create_dir(&manifests).unwrap();
        write(
            &manifests,
            name,
            &format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  \
                 template:\n    spec:\n      {containers}\n"
            ),
        );
        let out = clearbox(&[
            "check",
            "k8s",
            manifests.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
        ]);
        assert_exit(&out, 1);
        assert!(
            stderr(&out).contains("could-not-check"),
            "{name}: {}",
            stderr(&out)
        );
    }
}
