//! `clearbox check k8s`: exit codes for each gate, invalid input, and the reports, with SARIF
//! validated against the SARIF 2.1.0 schema. Manifests come from the corpus's Pod Security
//! admission fixtures, read in place, and from small files written here.

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
