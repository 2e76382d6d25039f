//! `clearbox check k8s` and `clearbox check image`: exit codes for each gate, invalid input, and
//! the reports, with SARIF validated against the SARIF 2.1.0 schema. Manifests come from the
//! corpus's Pod Security admission fixtures, read in place, and from small files written here;
//! images are the example image and fixtures built here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::support::{
    assert_exit, clearbox, corpus, read_json, stderr, stdout, validate_sarif, venv,
};

/// A Pod Security admission fixture: `LEVEL/vVERSION/{pass,fail}/NAME`.
fn fixture(corpus: &Path, relative: &str) -> String {
    let path = corpus
        .join("k8s/pod-security-admission/testdata")
        .join(relative);
    assert!(path.is_file(), "{} is missing", path.display());
    path.to_str().unwrap().to_owned()
}

/// The 1-based line of the first line of `path` that contains `needle`.
fn line_of(path: &Path, needle: &str) -> u64 {
    let text = std::fs::read_to_string(path).unwrap();
    let index = text
        .lines()
        .position(|line| line.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` is not in {}", path.display()));
    index as u64 + 1
}

/// A Deployment with one finding for most checks: root allowed, a host port, no limits.
const WEAK_DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      containers:
      - name: app
        image: registry.example/shop/web:1.2
        securityContext:
          allowPrivilegeEscalation: true
        ports:
        - containerPort: 8080
          hostPort: 8080
";

/// A Pod that passes every check when `ghcr.io/acme` is the allowed registry.
const HARDENED_POD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: api
  namespace: shop
spec:
  serviceAccountName: api
  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    seccompProfile:
      type: RuntimeDefault
  containers:
  - name: api
    image: ghcr.io/acme/api@sha256:0d5bc2a1e1c2b4a7cf2b4e4e5f7d6c1ab1b3f9e8d7c6b5a4f3e2d1c0b9a8f7e6
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities:
        drop: [ALL]
    resources:
      requests: {cpu: 100m, memory: 64Mi}
      limits: {cpu: 500m, memory: 128Mi}
";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn help_names_the_newest_pss_version() {
    let out = clearbox(&["check", "k8s", "--help"]);
    assert_exit(&out, 0);
    let latest = clearbox_policy::k8s::Version::LATEST.to_string();
    assert!(
        stdout(&out).contains(&format!("v1.0 to {latest}, or latest")),
        "{}",
        stdout(&out)
    );
}

#[test]
fn pss_gate_exit_codes_follow_level_and_version() {
    let Some(corpus) = corpus() else { return };
    let passing = fixture(&corpus, "restricted/v1.37/pass/base.yaml");
    let out = clearbox(&["check", "k8s", "--pss", "restricted", &passing]);
    assert_exit(&out, 0);

    // Dropping no capabilities breaks restricted from v1.22 but never baseline.
    let failing = fixture(
        &corpus,
        "restricted/v1.37/fail/capabilities_restricted0.yaml",
    );
    let out = clearbox(&["check", "k8s", "--pss", "restricted", &failing]);
    assert_exit(&out, 1);
    let text = stderr(&out);
    assert!(
        text.contains("Capabilities (pss-restricted-capabilities)"),
        "{text}"
    );
    assert!(
        text.contains("`spec.containers[0].securityContext.capabilities.drop`"),
        "{text}"
    );
    let out = clearbox(&["check", "k8s", "--pss", "baseline", &failing]);
    assert_exit(&out, 0);
    let args = [
        "check",
        "k8s",
        "--pss",
        "restricted",
        "--pss-version",
        "v1.21",
    ];
    let out = clearbox(&[&args[..], &[failing.as_str()]].concat());
    assert_exit(&out, 0);
    let out = clearbox(&[
        "check",
        "k8s",
        "--pss",
        "restricted",
        "--pss-version",
        "1.22",
        &failing,
    ]);
    assert_exit(&out, 1);
}

#[test]
fn all_checks_gate_only_with_fail_on_violation() {
    let dir = tempfile::tempdir().unwrap();
    let weak = write(dir.path(), "weak.yaml", WEAK_DEPLOYMENT);
    let weak = weak.to_str().unwrap();
    let out = clearbox(&["check", "k8s", weak]);
    assert_exit(&out, 0);
    let table = stdout(&out);
    assert!(table.starts_with("Deployment/shop/web  ("), "{table}");
    assert!(table.contains("5.2.13"), "{table}");

    let out = clearbox(&["check", "k8s", "--fail-on-violation", weak]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("gate failed: 1 of 1 resources fail checks"),
        "{}",
        stderr(&out)
    );

    let hardened = write(dir.path(), "hardened.yaml", HARDENED_POD);
    let args = [
        "check",
        "k8s",
        "--fail-on-violation",
        "--allow-registry",
        "ghcr.io/acme",
    ];
    let out = clearbox(&[&args[..], &[hardened.to_str().unwrap()]].concat());
    assert_exit(&out, 0);
    let args = [
        "check",
        "k8s",
        "--fail-on-violation",
        "--allow-registry",
        "ghcr.io/other",
    ];
    let out = clearbox(&[&args[..], &[hardened.to_str().unwrap()]].concat());
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("k8s-registry-allowlist"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn invalid_input_exits_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    // The second `name` on line 4 is a duplicate key.
    let bad = write(
        dir.path(),
        "bad.yaml",
        "kind: Pod\nmetadata:\n  name: a\n  name: b\n",
    );
    let out = clearbox(&["check", "k8s", bad.to_str().unwrap()]);
    assert_exit(&out, 2);
    let text = stderr(&out);
    assert!(text.contains("invalid YAML in `"), "{text}");
    assert!(text.contains("bad.yaml`"), "{text}");
    assert!(text.contains("line 4"), "{text}");
    assert!(stdout(&out).is_empty());

    let missing = dir.path().join("missing.yaml");
    let out = clearbox(&["check", "k8s", missing.to_str().unwrap()]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));

    for args in [
        ["check", "k8s", "--pss", "privileged", "x.yaml"],
        ["check", "k8s", "--pss-version", "v2.1", "x.yaml"],
        [
            "check",
            "k8s",
            "--allow-registry",
            "https://ghcr.io",
            "x.yaml",
        ],
    ] {
        assert_exit(&clearbox(&args), 2);
    }
}

#[test]
fn directories_lists_and_json_are_read() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a/weak.yml", WEAK_DEPLOYMENT);
    write(
        dir.path(),
        "b/c/list.json",
        r#"{"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"}},
  {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly"},
   "spec": {"jobTemplate": {"spec": {"template": {"spec": {
     "containers": [{"name": "job", "image": "busybox:1.36",
       "securityContext": {"privileged": true}}]}}}}}}
]}
"#,
    );
    write(dir.path(), "notes.txt", "kind: Pod\nnot: [read\n");
    let out = clearbox(&[
        "check",
        "k8s",
        "--format",
        "json",
        dir.path().to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["report_version"], 1);
    let names: Vec<&str> = report["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["web", "nightly"]);
    assert_eq!(report["skipped_resources"][0]["kind"], "Service");
    assert_eq!(report["summary"]["resources"], 2);
    assert_eq!(report["summary"]["skipped_resources"], 1);
    assert_eq!(
        report["skipped_checks"][0]["check"],
        "k8s-registry-allowlist"
    );

    let privileged = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["check"] == "5.2.2" && r["resource"]["name"] == "nightly")
        .expect("a 5.2.2 result for the CronJob");
    assert_eq!(privileged["result"], "fail");
    assert_eq!(privileged["container"], "job");
    assert_eq!(privileged["image"], "busybox:1.36");
    assert_eq!(
        privileged["field"],
        "spec.jobTemplate.spec.template.spec.containers[0].securityContext.privileged"
    );
    assert_eq!(privileged["line"], 6);
}

#[test]
fn sarif_validates_and_points_at_the_field() {
    let Some(venv) = venv() else { return };
    let dir = tempfile::tempdir().unwrap();
    let weak = write(dir.path(), "weak.yaml", WEAK_DEPLOYMENT);
    let sarif = dir.path().join("k8s.sarif");
    let out = clearbox(&[
        "check",
        "k8s",
        "--format",
        "sarif",
        "-o",
        sarif.to_str().unwrap(),
        weak.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
    validate_sarif(&venv, &sarif);

    let doc = read_json(&sarif);
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    assert!(results.iter().all(|r| r["level"] == "error"));
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }

    // The result for allowPrivilegeEscalation points at that line, in the file's URI.
    let escalation = results
        .iter()
        .find(|r| r["ruleId"] == "5.2.6")
        .expect("a 5.2.6 result");
    let location = &escalation["locations"][0]["physicalLocation"];
    let uri = location["artifactLocation"]["uri"].as_str().unwrap();
    assert_eq!(uri, format!("file://{}", weak.display()));
    assert_eq!(
        location["region"]["startLine"].as_u64().unwrap(),
        line_of(&weak, "allowPrivilegeEscalation: true")
    );
    assert_eq!(
        escalation["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "Deployment/shop/web"
    );

    // A missing field points at its closest present parent: here the container's
    // securityContext, where readOnlyRootFilesystem belongs.
    let read_only = results
        .iter()
        .find(|r| r["ruleId"] == "k8s-read-only-root-filesystem")
        .expect("a read-only root filesystem result");
    let region = &read_only["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        region["startLine"].as_u64().unwrap(),
        line_of(&weak, "securityContext:")
    );
}

#[test]
fn sarif_of_pss_fixture_validates() {
    let (Some(corpus), Some(venv)) = (corpus(), venv()) else {
        return;
    };
    let failing = fixture(&corpus, "baseline/v1.37/fail/hostports2.yaml");
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("pss.sarif");
    let args = [
        "check", "k8s", "--pss", "baseline", "--format", "sarif", "-o",
    ];
    let out = clearbox(&[&args[..], &[sarif.to_str().unwrap(), failing.as_str()]].concat());
    assert_exit(&out, 1);
    validate_sarif(&venv, &sarif);
    let doc = read_json(&sarif);
    let results = doc["runs"][0]["results"].as_array().unwrap();
    // hostports2 sets a host port on one container and one init container.
    let lines: Vec<u64> = results
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap()
        })
        .collect();
    let path = Path::new(&failing);
    assert_eq!(
        lines,
        [
            line_of(path, "hostPort: 12345"),
            line_of(path, "hostPort: 12346")
        ]
    );
    assert!(
        results
            .iter()
            .all(|r| r["ruleId"] == "pss-baseline-host-ports")
    );
}

// `clearbox check image`: exact outcomes on the example image, the same results through every
// transport, and SARIF validated against the SARIF 2.1.0 schema. Each check that reads file
// contents or build metadata has a fixture built here: a root filesystem for `dir:`, or an OCI
// layout where the check needs a config or a manifest.

/// The check ids of `check image`, in report order.
const IMAGE_CHECKS: [&str; 11] = [
    "cis-docker-4.1",
    "cis-docker-4.2",
    "cis-docker-4.3-shell",
    "cis-docker-4.3-package-manager",
    "cis-docker-4.6",
    "cis-docker-4.8",
    "cis-docker-4.9",
    "cis-docker-4.10",
    "least-privilege-world-writable",
    "least-privilege-writable-paths",
    "traceability-source-revision",
];

/// Runs `clearbox check image REFERENCE --format json` with extra arguments; expects exit 0.
fn image_report(reference: &str, extra: &[&str]) -> serde_json::Value {
    let args = [
        &["check", "image", reference, "--format", "json"][..],
        extra,
    ]
    .concat();
    let out = clearbox(&args);
    assert_exit(&out, 0);
    serde_json::from_str(&stdout(&out)).unwrap()
}

/// Returns the result of check `id` in a JSON report.
fn image_result<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no result for {id}"))
}

fn outcome_of(report: &serde_json::Value, id: &str) -> String {
    image_result(report, id)["outcome"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Returns the evidence texts of check `id`.
fn evidence_texts(report: &serde_json::Value, id: &str) -> Vec<String> {
    image_result(report, id)["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap().to_owned())
        .collect()
}

/// Returns the evidence paths of check `id`, for the facts that name a file.
fn evidence_paths(report: &serde_json::Value, id: &str) -> Vec<String> {
    image_result(report, id)["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["path"].as_str().map(str::to_owned))
        .collect()
}

/// Writes a file of a root filesystem fixture with the given mode.
fn put_file(root: &Path, path: &str, data: &[u8], mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let full = root.join(path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(&full, data).unwrap();
    std::fs::set_permissions(&full, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn put_symlink(root: &Path, path: &str, target: &str) {
    let full = root.join(path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, full).unwrap();
}

fn dir_ref(root: &Path) -> String {
    format!("dir:{}", root.display())
}

/// Builds a layer's tar: regular files with their modes, then hard links `(path, target)`.
fn layer_tar(files: &[(&str, &[u8], u32)], hard_links: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data, mode) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(*mode);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, path, *data).unwrap();
    }
    for (path, target) in hard_links {
        let mut header = tar::Header::new_gnu();
        header.set_size(0);
        header.set_mode(0o755);
        header.set_entry_type(tar::EntryType::Link);
        builder.append_link(&mut header, path, target).unwrap();
    }
    builder.into_inner().unwrap()
}

/// Writes an OCI layout tagged `latest` with one uncompressed layer, `config` merged into a
/// minimal image config, and the manifest annotations given. Returns its `oci:` reference.
fn write_image_layout(
    dir: &Path,
    layer: &[u8],
    config: &serde_json::Value,
    annotations: &serde_json::Value,
) -> String {
    use sha2::Digest as _;
    let blob = |data: &[u8]| {
        let digest = hex::encode(sha2::Sha256::digest(data));
        std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        std::fs::write(dir.join("blobs/sha256").join(&digest), data).unwrap();
        format!("sha256:{digest}")
    };
    let layer_digest = blob(layer);
    let mut full_config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]}
    });
    for (key, value) in config.as_object().unwrap() {
        full_config[key] = value.clone();
    }
    let config_bytes = serde_json::to_vec(&full_config).unwrap();
    let config_digest = blob(&config_bytes);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": config_bytes.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": layer_digest, "size": layer.len()}],
        "annotations": annotations,
    }))
    .unwrap();
    let manifest_digest = blob(&manifest);
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest,
        "size": manifest.len(), "annotations": {"org.opencontainers.image.ref.name": "latest"}}]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    crate::support::oci_ref(dir)
}

/// Reads a blob of an OCI layout as JSON.
fn layout_blob(layout: &Path, digest: &str) -> serde_json::Value {
    let hex = digest.strip_prefix("sha256:").unwrap();
    read_json(&layout.join("blobs/sha256").join(hex))
}

#[test]
fn image_checks_on_example_image() {
    let Some(image) = crate::support::example_image() else {
        return;
    };
    let reference = crate::support::oci_ref(&image);
    let report = image_report(&reference, &[]);
    assert_eq!(report["report_version"], 1);
    let ids: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, IMAGE_CHECKS);
    let expected = [
        ("cis-docker-4.1", "pass"),
        ("cis-docker-4.2", "could-not-check"),
        ("cis-docker-4.3-shell", "pass"),
        ("cis-docker-4.3-package-manager", "pass"),
        ("cis-docker-4.6", "fail"),
        ("cis-docker-4.8", "pass"),
        ("cis-docker-4.9", "pass"),
        ("cis-docker-4.10", "pass"),
        ("least-privilege-world-writable", "pass"),
        ("least-privilege-writable-paths", "could-not-check"),
        ("traceability-source-revision", "fail"),
    ];
    for (id, outcome) in expected {
        assert_eq!(outcome_of(&report, id), outcome, "{id}");
    }
    assert_eq!(
        report["summary"],
        serde_json::json!({"checks": 11, "pass": 7, "fail": 2, "not_applicable": 0,
                           "could_not_check": 2})
    );
    assert_eq!(image_result(&report, "cis-docker-4.1")["cis"], "4.1");
    assert_eq!(
        image_result(&report, "least-privilege-writable-paths")["cis"],
        serde_json::Value::Null
    );

    // The evidence names the config field and the user.
    let user = &image_result(&report, "cis-docker-4.1")["evidence"];
    assert_eq!(user[0]["field"], "config.User");
    assert_eq!(user[1]["text"], "runs as uid 65532");
    assert_eq!(
        evidence_texts(&report, "traceability-source-revision"),
        [
            "config.Labels[\"org.opencontainers.image.source\"] = \
             `https://example.invalid/clearbox`",
            "org.opencontainers.image.revision is not set (or empty) in the config labels or \
             the manifest annotations",
        ]
    );
    assert_eq!(
        evidence_texts(&report, "cis-docker-4.9"),
        ["none of the 3 history entries runs ADD with an http:// or https:// source"]
    );

    // No secrets; the model weights are too large to scan, and the list is in path order.
    assert_eq!(report["secrets"], serde_json::json!([]));
    let not_scanned = report["not_scanned"].as_array().unwrap();
    let paths: Vec<&str> = not_scanned
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    let mut sorted = paths.clone();
    sorted.sort_unstable();
    assert_eq!(paths, sorted);
    let index = read_json(&image.join("index.json"));
    let manifest = layout_blob(&image, index["manifests"][0]["digest"].as_str().unwrap());
    let config = layout_blob(&image, manifest["config"]["digest"].as_str().unwrap());
    let weights = not_scanned
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("/model.safetensors"))
        .expect("the model weights are listed as not scanned");
    assert_eq!(weights["reason"], "too-large");
    assert_eq!(weights["size"], 90_868_376);
    assert_eq!(weights["layer"], config["rootfs"]["diff_ids"][2]);
    assert!(
        not_scanned
            .iter()
            .any(|f| f["path"] == "/usr/bin/python3.11" && f["reason"] == "too-large")
    );
    assert!(not_scanned.iter().any(|f| f["reason"] == "binary"));

    // The table ends with the counts; the gate fails only with --fail-on-violation.
    let out = clearbox(&["check", "image", &reference]);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains(
            "11 checks: 7 passed, 2 failed, 0 not applicable, 2 could not check; 0 secrets found"
        ),
        "{}",
        stdout(&out)
    );
    let out = clearbox(&["check", "image", &reference, "--fail-on-violation"]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("gate failed: 2 of 11 checks fail"), "{err}");
    assert!(
        err.contains("  cis-docker-4.6 (HEALTHCHECK is defined): "),
        "{err}"
    );
    assert!(err.contains("  traceability-source-revision ("), "{err}");
}

#[test]
fn image_checks_agree_across_transports() {
    let Some(image) = crate::support::example_image() else {
        return;
    };
    let layout = image_report(&crate::support::oci_ref(&image), &[]);
    let oci_archive = image_report(
        &format!("oci-archive:{}.oci.tar:latest", image.display()),
        &[],
    );
    assert_eq!(oci_archive["results"], layout["results"]);
    assert_eq!(oci_archive["not_scanned"], layout["not_scanned"]);
    assert_eq!(oci_archive["manifest_digest"], layout["manifest_digest"]);

    // A docker save archive has no manifest, so its annotations cannot be checked.
    let docker = image_report(
        &format!("docker-archive:{}.docker.tar", image.display()),
        &[],
    );
    assert_eq!(docker["manifest_digest"], serde_json::Value::Null);
    for id in IMAGE_CHECKS {
        if id == "cis-docker-4.2" || id == "traceability-source-revision" {
            assert_eq!(outcome_of(&docker, id), "could-not-check");
            let texts = evidence_texts(&docker, id);
            assert!(
                texts.last().unwrap().contains("the image has no manifest"),
                "{texts:?}"
            );
        } else {
            assert_eq!(image_result(&docker, id), image_result(&layout, id), "{id}");
        }
    }
}

#[test]
fn image_checks_read_from_registry() {
    use clearbox_testdata::registry::{RegistryConfig, RegistryServer};
    let Some(image) = crate::support::example_image() else {
        return;
    };
    let Some(server) = RegistryServer::start(RegistryConfig::default()) else {
        return;
    };
    let layout_ref = crate::support::oci_ref(&image);
    if server
        .push_layout(&layout_ref, "ai/example:v1", None)
        .is_none()
    {
        return;
    }
    let reference = format!("docker://{}/ai/example:v1", server.host_port());
    let report = image_report(&reference, &["--insecure-registry", &server.host_port()]);
    let layout = image_report(&layout_ref, &[]);
    assert_eq!(report["image"], reference);
    assert_eq!(report["results"], layout["results"]);
    assert_eq!(report["not_scanned"], layout["not_scanned"]);
}

/// The secrets of the fixture below, as written; none may appear in any output.
const RAW_SECRETS: [&str; 8] = [
    "AKIAQWERTYUIOPASDFGH",
    "Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0LzXcVbNm12",
    "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7",
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
    "ghp_R2d2X7q9LmN4pQ8sT1vW3yZ5aB6cD0eF1gH2",
    "glpat-Xy7Qm2Rt9Kp4Lw8Nz3Vb",
    "q8Zr2Lw9Xv4Tn7Ks1Pm3Yb6Hc",
];

/// Writes a root filesystem with one secret of each kind, a placeholder that is not one, a file
/// too large to scan and a binary.
fn secrets_rootfs(root: &Path) {
    put_file(
        root,
        "app/.env",
        b"# settings\nAWS_ACCESS_KEY_ID=AKIAQWERTYUIOPASDFGH\n\
          AWS_SECRET_ACCESS_KEY=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\n",
        0o644,
    );
    put_file(
        root,
        "app/sa.json",
        br#"{
  "type": "service_account",
  "project_id": "demo",
  "private_key_id": "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
  "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n",
  "client_email": "loader@demo.iam.gserviceaccount.com"
}
"#,
        0o600,
    );
    put_file(
        root,
        "home/dev/.ssh/id_ed25519",
        b"-----BEGIN OPENSSH PRIVATE KEY-----\n\
          b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n\
          -----END OPENSSH PRIVATE KEY-----\n",
        0o600,
    );
    put_file(
        root,
        "srv/ci.yml",
        b"github_token: ghp_R2d2X7q9LmN4pQ8sT1vW3yZ5aB6cD0eF1gH2\n\
          gitlab: glpat-Xy7Qm2Rt9Kp4Lw8Nz3Vb\n",
        0o644,
    );
    put_file(
        root,
        "srv/settings.py",
        b"SECRET_KEY = \"q8Zr2Lw9Xv4Tn7Ks1Pm3Yb6Hc\"\nAPI_KEY = \"your_api_key_here_please\"\n",
        0o644,
    );
    let mut large = b"AKIAQWERTYUIOPASDFGH\n".to_vec();
    large.resize(1024 * 1024 + 1, b'x');
    put_file(root, "var/log/big.log", &large, 0o644);
    put_file(
        root,
        "opt/blob.bin",
        b"\0\x01ghp_R2d2X7q9LmN4pQ8sT1vW3yZ5aB6cD0eF1gH2",
        0o644,
    );
}

/// The secrets of [`secrets_rootfs`]: path, line, kind, masked value and name (`-` for none).
const EXPECTED_SECRETS: [(&str, u64, &str, &str, &str); 8] = [
    ("/app/.env", 2, "aws-access-key-id", "AKIA****", "-"),
    (
        "/app/.env",
        3,
        "aws-secret-access-key",
        "Zx9Q****",
        "AWS_SECRET_ACCESS_KEY",
    ),
    (
        "/app/sa.json",
        4,
        "gcp-service-account-key",
        "0a1b****",
        "private_key_id",
    ),
    ("/app/sa.json", 5, "private-key", "MIIE****", "PRIVATE KEY"),
    (
        "/home/dev/.ssh/id_ed25519",
        2,
        "private-key",
        "b3Bl****",
        "OPENSSH PRIVATE KEY",
    ),
    ("/srv/ci.yml", 1, "github-token", "ghp_****", "-"),
    ("/srv/ci.yml", 2, "gitlab-token", "glpa****", "-"),
    (
        "/srv/settings.py",
        1,
        "high-entropy-assignment",
        "q8Zr****",
        "SECRET_KEY",
    ),
];

#[test]
fn image_secrets_are_found_and_masked() {
    let dir = tempfile::tempdir().unwrap();
    secrets_rootfs(dir.path());
    let reference = dir_ref(dir.path());
    let report = image_report(&reference, &[]);
    assert_eq!(outcome_of(&report, "cis-docker-4.10"), "fail");

    // Every secret, in path and line order, masked to its first four characters.
    let secrets: Vec<(String, u64, String, String, String)> = report["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["path"].as_str().unwrap().to_owned(),
                s["line"].as_u64().unwrap(),
                s["kind"].as_str().unwrap().to_owned(),
                s["masked"].as_str().unwrap().to_owned(),
                s["name"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, u64, String, String, String)> = EXPECTED_SECRETS
        .iter()
        .map(|(p, l, k, m, n)| {
            (
                (*p).to_owned(),
                *l,
                (*k).to_owned(),
                (*m).to_owned(),
                (*n).to_owned(),
            )
        })
        .collect();
    assert_eq!(secrets, expected);
    assert!(
        report["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["layer"].is_null())
    );

    // The evidence states that only files were scanned, and lists what was not scanned.
    let texts = evidence_texts(&report, "cis-docker-4.10");
    assert_eq!(
        texts[0],
        "a root filesystem has no image config; only its files were scanned"
    );
    assert_eq!(texts[1], "secrets found: 8");
    assert_eq!(
        texts[2],
        "`/app/.env` line 2: AWS access key id `AKIA****`, from root filesystem"
    );
    assert!(
        texts.contains(
            &"text files scanned (up to 1 MiB each): 5; files not scanned: 2 (1 larger than \
              1 MiB, 1 binary)"
                .to_owned()
        ),
        "{texts:?}"
    );
    let not_scanned: Vec<(&str, &str)> = report["not_scanned"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        not_scanned,
        [
            ("/opt/blob.bin", "binary"),
            ("/var/log/big.log", "too-large")
        ]
    );
}

#[test]
fn image_secret_values_appear_in_no_output() {
    let dir = tempfile::tempdir().unwrap();
    secrets_rootfs(dir.path());
    let reference = dir_ref(dir.path());

    // A second run gives the same bytes.
    let first = clearbox(&["check", "image", &reference, "--format", "json"]);
    let second = clearbox(&["check", "image", &reference, "--format", "json"]);
    assert_eq!(first.stdout, second.stdout);

    // No raw value in any format, nor on stderr when the gate fails.
    for format in ["table", "json", "sarif"] {
        let out = clearbox(&["check", "image", &reference, "--format", format]);
        assert_exit(&out, 0);
        let text = stdout(&out);
        for raw in RAW_SECRETS {
            assert!(!text.contains(raw), "{format} output shows `{raw}`");
        }
        assert!(text.contains("AKIA****"), "{format}: {text}");
    }
    let out = clearbox(&["check", "image", &reference, "--fail-on-violation"]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("  cis-docker-4.10 ("), "{err}");
    for raw in RAW_SECRETS {
        assert!(!err.contains(raw), "stderr shows `{raw}`");
    }
}

#[test]
fn image_busybox_sh_symlink_is_a_shell() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    put_file(root, "opt/toolbox/busybox", b"\x7fELF busybox", 0o755);
    put_symlink(root, "opt/toolbox/sh", "busybox");
    put_symlink(root, "opt/toolbox/ls", "busybox");
    put_symlink(root, "usr/local/lib/ash", "/opt/toolbox/busybox");
    put_file(root, "usr/bin/apt", b"#!/usr/bin/python3\n", 0o755);
    let report = image_report(&dir_ref(root), &[]);
    assert_eq!(outcome_of(&report, "cis-docker-4.3-shell"), "fail");
    assert_eq!(
        evidence_paths(&report, "cis-docker-4.3-shell"),
        [
            "/opt/toolbox/busybox",
            "/opt/toolbox/sh",
            "/usr/local/lib/ash"
        ]
    );
    let texts = evidence_texts(&report, "cis-docker-4.3-shell");
    assert!(
        texts[0].ends_with(
            "from root filesystem: busybox, a multi-call binary with `sh` built in and 3 applet \
             links"
        ),
        "{texts:?}"
    );
    assert_eq!(
        texts[1],
        "`/opt/toolbox/sh` is a symlink to busybox `/opt/toolbox/busybox`, which runs it as a \
         shell, from root filesystem"
    );

    // With a shell the image is not minimal, so its package manager passes, listed.
    assert_eq!(
        outcome_of(&report, "cis-docker-4.3-package-manager"),
        "pass"
    );
    assert_eq!(
        evidence_paths(&report, "cis-docker-4.3-package-manager"),
        ["/usr/bin/apt"]
    );

    // Without the links and with busybox not executable, nothing provides a shell.
    let dir = tempfile::tempdir().unwrap();
    put_file(dir.path(), "opt/toolbox/busybox", b"\x7fELF busybox", 0o644);
    let report = image_report(&dir_ref(dir.path()), &[]);
    assert_eq!(outcome_of(&report, "cis-docker-4.3-shell"), "pass");
}

#[test]
fn image_package_manager_fails_without_shell() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    put_file(root, "usr/bin/apt", b"#!apt\n", 0o755);
    put_file(root, "usr/bin/dpkg", b"not executable\n", 0o644);
    put_file(
        root,
        "usr/local/bin/pip3.11",
        b"#!/usr/bin/python3\n",
        0o755,
    );
    put_symlink(root, "usr/bin/pip", "../local/bin/pip3.11");
    put_file(root, "usr/share/doc/apt/rpm", b"docs\n", 0o755);
    let report = image_report(&dir_ref(root), &[]);
    assert_eq!(outcome_of(&report, "cis-docker-4.3-shell"), "pass");
    assert_eq!(
        outcome_of(&report, "cis-docker-4.3-package-manager"),
        "fail"
    );
    let texts = evidence_texts(&report, "cis-docker-4.3-package-manager");
    assert_eq!(
        texts[0],
        "no shell was found, so the image is minimal and its 2 package manager executables are \
         unnecessary"
    );
    assert!(texts[2].ends_with("(as `/usr/bin/pip`)"), "{texts:?}");
    assert_eq!(
        evidence_paths(&report, "cis-docker-4.3-package-manager"),
        ["/usr/bin/apt", "/usr/local/bin/pip3.11"]
    );

    // A shell makes the image not minimal: the same package managers pass, still listed.
    put_file(root, "bin/sh", b"\x7fELF sh", 0o755);
    let report = image_report(&dir_ref(root), &[]);
    assert_eq!(outcome_of(&report, "cis-docker-4.3-shell"), "fail");
    assert_eq!(
        outcome_of(&report, "cis-docker-4.3-package-manager"),
        "pass"
    );
    assert_eq!(
        evidence_texts(&report, "cis-docker-4.3-package-manager")[0],
        "the image has a shell (see cis-docker-4.3-shell), so it is not minimal and its 2 \
         package manager executables are allowed"
    );
    assert_eq!(
        evidence_paths(&report, "cis-docker-4.3-package-manager"),
        ["/usr/bin/apt", "/usr/local/bin/pip3.11"]
    );
}

/// The GitHub token in the environment of [`write_declaring_layout`]'s image.
const LAYOUT_TOKEN: &str = "ghp_R2d2X7q9LmN4pQ8sT1vW3yZ5aB6cD0eF1gH2";

/// Writes an OCI layout whose config and manifest declare everything the config checks read.
/// It has a busybox with a hard-linked `ash`, a token in the environment, an ADD from a URL
/// with credentials, volumes, writable paths, a health check, and the source, revision and base
/// image.
fn write_declaring_layout(dir: &Path) -> String {
    let layer = layer_tar(
        &[
            ("opt/bb/busybox", b"\x7fELF busybox", 0o755),
            ("app/main.py", b"print('hello')\n", 0o644),
        ],
        &[("opt/bb/ash", "opt/bb/busybox")],
    );
    let config = serde_json::json!({
        "config": {
            "User": "65532",
            "Env": ["PATH=/usr/bin", format!("GITHUB_TOKEN={LAYOUT_TOKEN}")],
            "Volumes": {"/var/lib/app": {}},
            "Labels": {
                "org.opencontainers.image.source": "https://git.example/app",
                "clearbox.writable-paths": "/tmp, /var/cache/app"
            },
            "Healthcheck": {"Test": ["CMD", "/app/health"]}
        },
        "history": [
            {"created_by": "ADD https://ci:hunter2@downloads.example/model.bin?sig=abc123 /models/ # buildkit"},
            {"created_by": "HEALTHCHECK CMD /app/health", "empty_layer": true}
        ]
    });
    let annotations = serde_json::json!({
        "org.opencontainers.image.revision": "4f1c0de",
        "org.opencontainers.image.base.name": "gcr.io/distroless/static:nonroot",
        "org.opencontainers.image.base.digest":
            "sha256:0d5bc2a1e1c2b4a7cf2b4e4e5f7d6c1ab1b3f9e8d7c6b5a4f3e2d1c0b9a8f7e6"
    });
    write_image_layout(dir, &layer, &config, &annotations)
}

#[test]
fn image_config_checks_on_built_layout() {
    let dir = tempfile::tempdir().unwrap();
    let reference = write_declaring_layout(&dir.path().join("layout"));
    let out = clearbox(&["check", "image", &reference, "--format", "json"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    for raw in [LAYOUT_TOKEN, "hunter2", "abc123"] {
        assert!(!text.contains(raw), "the report shows `{raw}`");
    }
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    let expected = [
        ("cis-docker-4.1", "pass"),
        ("cis-docker-4.2", "pass"),
        ("cis-docker-4.3-shell", "fail"),
        ("cis-docker-4.3-package-manager", "pass"),
        ("cis-docker-4.6", "pass"),
        ("cis-docker-4.8", "pass"),
        ("cis-docker-4.9", "fail"),
        ("cis-docker-4.10", "fail"),
        ("least-privilege-world-writable", "pass"),
        ("least-privilege-writable-paths", "pass"),
        ("traceability-source-revision", "pass"),
    ];
    for (id, outcome) in expected {
        assert_eq!(outcome_of(&report, id), outcome, "{id}");
    }

    // The busybox hard link, named with its layer.
    let index = read_json(&dir.path().join("layout/index.json"));
    let manifest = layout_blob(
        &dir.path().join("layout"),
        index["manifests"][0]["digest"].as_str().unwrap(),
    );
    let diff_id = manifest["layers"][0]["digest"].as_str().unwrap();
    let shell = &image_result(&report, "cis-docker-4.3-shell")["evidence"];
    assert_eq!(shell[1]["path"], "/opt/bb/ash");
    assert_eq!(shell[1]["layer"], diff_id);
    assert_eq!(
        shell[1]["text"],
        format!(
            "`/opt/bb/ash` is a hard link to busybox `/opt/bb/busybox`, which runs it as a \
             shell, from layer 0 ({diff_id})"
        )
    );

    // ADD from a URL, with the credentials and query masked.
    let add = &image_result(&report, "cis-docker-4.9")["evidence"];
    assert_eq!(add[0]["field"], "history[0].created_by");
    assert_eq!(
        add[0]["text"],
        "history[0].created_by runs ADD from `https://****@downloads.example/model.bin?****`"
    );

    // The token in the environment.
    assert_eq!(
        report["secrets"],
        serde_json::json!([{"kind": "github-token", "masked": "ghp_****",
            "name": "GITHUB_TOKEN", "path": null, "line": null, "layer": null,
            "field": "config.Env[1]"}])
    );

    // Writable paths from Volumes and the label; source from a label, revision from an
    // annotation.
    let writable: Vec<String> = image_result(&report, "least-privilege-writable-paths")["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        writable,
        [
            "config.Volumes[\"/var/lib/app\"]",
            "config.Labels[\"clearbox.writable-paths\"]",
            "config.Labels[\"clearbox.writable-paths\"]",
        ]
    );
    assert_eq!(
        evidence_texts(&report, "traceability-source-revision"),
        [
            "config.Labels[\"org.opencontainers.image.source\"] = `https://git.example/app`",
            "annotations[\"org.opencontainers.image.revision\"] = `4f1c0de`",
        ]
    );
}

#[test]
fn image_declaration_failures_on_built_layout() {
    let dir = tempfile::tempdir().unwrap();
    let layer = layer_tar(&[("app/main.py", b"print('hello')\n", 0o644)], &[]);
    let config = serde_json::json!({
        "config": {"User": "0", "Labels": {"clearbox.writable-paths": "tmp,/"}}
    });
    let reference = write_image_layout(
        &dir.path().join("layout"),
        &layer,
        &config,
        &serde_json::json!({}),
    );
    let report = image_report(&reference, &[]);
    assert_eq!(outcome_of(&report, "cis-docker-4.1"), "fail");
    assert_eq!(outcome_of(&report, "cis-docker-4.9"), "could-not-check");
    assert_eq!(
        evidence_texts(&report, "cis-docker-4.9"),
        ["the config has no history, so the build steps are unknown"]
    );
    assert_eq!(
        outcome_of(&report, "least-privilege-writable-paths"),
        "fail"
    );
    assert_eq!(
        evidence_texts(&report, "least-privilege-writable-paths"),
        [
            "config.Labels[\"clearbox.writable-paths\"]: `tmp` is not an absolute path",
            "config.Labels[\"clearbox.writable-paths\"]: `/` makes the whole root filesystem \
             writable",
        ]
    );
    assert_eq!(outcome_of(&report, "traceability-source-revision"), "fail");
    assert_eq!(
        evidence_texts(&report, "traceability-source-revision"),
        [
            "org.opencontainers.image.source and org.opencontainers.image.revision are not set (or \
          empty) in the config labels or the manifest annotations"
        ]
    );
}

#[test]
fn image_sarif_validates() {
    let Some(venv) = venv() else { return };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    secrets_rootfs(&root);
    let sarif = dir.path().join("image.sarif");
    let args = ["check", "image", "--format", "sarif", "-o"];
    let out = clearbox(&[&args[..], &[sarif.to_str().unwrap(), &dir_ref(&root)]].concat());
    assert_exit(&out, 0);
    validate_sarif(&venv, &sarif);

    let doc = read_json(&sarif);
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let rule_ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(rule_ids, IMAGE_CHECKS);
    let results = run["results"].as_array().unwrap();
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        assert_eq!(result["level"], "error");
    }

    // One result per secret, at its file and line inside the image root.
    let secrets: Vec<(&str, u64)> = results
        .iter()
        .filter(|r| r["ruleId"] == "cis-docker-4.10")
        .filter_map(|r| {
            let location = &r["locations"][0]["physicalLocation"];
            assert_eq!(location["artifactLocation"]["uriBaseId"], "IMAGE_ROOT");
            Some((
                location["artifactLocation"]["uri"].as_str()?,
                location["region"]["startLine"].as_u64()?,
            ))
        })
        .collect();
    assert_eq!(
        secrets,
        [
            ("app/.env", 2),
            ("app/.env", 3),
            ("app/sa.json", 4),
            ("app/sa.json", 5),
            ("home/dev/.ssh/id_ed25519", 2),
            ("srv/ci.yml", 1),
            ("srv/ci.yml", 2),
            ("srv/settings.py", 1),
        ]
    );

    // The example image: results only for its two failed checks.
    let Some(image) = crate::support::example_image() else {
        return;
    };
    let sarif = dir.path().join("example.sarif");
    let reference = crate::support::oci_ref(&image);
    let out = clearbox(&[&args[..], &[sarif.to_str().unwrap(), &reference]].concat());
    assert_exit(&out, 0);
    validate_sarif(&venv, &sarif);
    let doc = read_json(&sarif);
    let failed: BTreeSet<&str> = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(
        failed,
        BTreeSet::from(["cis-docker-4.6", "traceability-source-revision"])
    );
}

#[test]
fn image_invalid_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = format!("oci:{}:latest", dir.path().join("missing").display());
    for args in [
        vec!["check", "image", "nosuch:x"],
        vec!["check", "image", missing.as_str()],
        vec!["check", "image", "--format", "yaml", "dir:/"],
        vec!["check", "image"],
    ] {
        let out = clearbox(&args);
        assert_exit(&out, 2);
        assert!(stdout(&out).is_empty(), "{args:?}");
    }
    let out = clearbox(&["check", "image", &missing]);
    assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
}

#[test]
fn unknown_binary_fails_known_binaries() {
    let Some(corpus) = corpus() else {
        return;
    };
    // hello-world's only layer contains the static `/hello` binary and no package database.
    let archive =
        corpus.join("images/go-containerregistry/pkg/v1/tarball/testdata/hello-world-v25.tar");
    let reference = format!("docker-archive:{}", archive.display());

    // Without the flag the check does not run.
    let report = image_report(&reference, &[]);
    assert!(
        report["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["id"] != "clearbox-known-binaries"),
        "{report}"
    );

    let out = clearbox(&[
        "check",
        "image",
        &reference,
        "--require-known-binaries",
        "--format",
        "json",
    ]);
    assert_exit(&out, 1);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let result = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "clearbox-known-binaries")
        .expect("the check ran");
    assert_eq!(result["outcome"], "fail");
    let evidence = result["evidence"].as_array().unwrap();
    assert_eq!(evidence.len(), 1, "{evidence:?}");
    assert_eq!(evidence[0]["path"], "/hello");
    assert_eq!(evidence[0]["violation"], true);
    assert!(
        evidence[0]["layer"]
            .as_str()
            .unwrap()
            .starts_with("sha256:"),
        "{evidence:?}"
    );
    assert!(
        evidence[0]["text"].as_str().unwrap().contains("(sha256:"),
        "{evidence:?}"
    );
    let err = stderr(&out);
    assert!(
        err.contains("gate failed: 1 executable file(s) that no package accounts for"),
        "{err}"
    );
    assert!(err.contains("`/hello`"), "{err}");
}

#[test]
fn packaged_binaries_pass_known_binaries() {
    let Some(image) = crate::support::example_image() else {
        return;
    };
    // Every executable of the example image comes from a Debian package, a wheel's RECORD or
    // carries Go build information (`/usr/bin/age`).
    let report = image_report(
        &crate::support::oci_ref(&image),
        &["--require-known-binaries"],
    );
    let result = image_result(&report, "clearbox-known-binaries");
    assert_eq!(result["outcome"], "pass", "{result}");
    assert_eq!(result["evidence"].as_array().unwrap().len(), 1);
    assert_eq!(result["evidence"][0]["violation"], false);
}
