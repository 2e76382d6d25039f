//! `clearbox report` and the compliance files of the evidence package. The tests check exact
//! control statuses on the example image with the demonstration advisories, the JSON shape and
//! Kubernetes manifests. They render the HTML page in headless Chromium, check that hostile
//! annotations are escaped, and compare a standard image with a hardened one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::support::{
    assert_exit, clearbox, clearbox_env, example_image, oci_ref, read_json, stderr, stdout,
    workspace,
};

/// Returns an advisory database with the demonstration advisories of `examples/advisories`,
/// built once per test process.
fn demo_db() -> &'static Path {
    static DB: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, db) = DB.get_or_init(|| {
        let dir = crate::support::process_tempdir();
        let db = dir.path().join("advisories.db");
        let advisories = workspace().join("examples/advisories");
        let out = clearbox(&[
            "db",
            "import",
            advisories.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
        ]);
        assert_exit(&out, 0);
        (dir, db)
    });
    db
}

/// Runs `clearbox report IMAGE --db DEMO --format json ARGS` and parses the matrix.
fn report_json(image: &str, args: &[&str]) -> Value {
    let db = demo_db().to_str().unwrap();
    let out = clearbox(&[&["report", image, "--db", db, "--format", "json"], args].concat());
    assert_exit(&out, 0);
    serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("not JSON: {e}"))
}

fn framework<'a>(matrix: &'a Value, id: &str) -> &'a Value {
    matrix["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no framework {id}"))
}

fn control<'a>(matrix: &'a Value, framework_id: &str, id: &str) -> &'a Value {
    framework(matrix, framework_id)["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no control {framework_id}/{id}"))
}

fn check<'a>(matrix: &'a Value, id: &str) -> &'a Value {
    matrix["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id}"))
}

/// Asserts a control's status, showing the control when it differs.
#[track_caller]
fn assert_status(matrix: &Value, framework_id: &str, id: &str, expected: &str) {
    let row = control(matrix, framework_id, id);
    assert_eq!(row["status"], expected, "{framework_id}/{id}: {row}");
}

/// Returns the counts of satisfied, not satisfied and not evidenced controls.
fn counts(matrix: &Value, framework_id: &str) -> [u64; 3] {
    let summary = &framework(matrix, framework_id)["summary"];
    [
        summary["satisfied"].as_u64().unwrap(),
        summary["not_satisfied"].as_u64().unwrap(),
        summary["not_evidenced"].as_u64().unwrap(),
    ]
}

#[test]
fn report_statuses_on_example_image() {
    let Some(image) = example_image() else { return };
    let matrix = report_json(&oci_ref(&image), &[]);

    // Counts per framework.
    assert_eq!(counts(&matrix, "eu-ai-act"), [5, 2, 9]);
    assert_eq!(counts(&matrix, "nist-ai-rmf"), [4, 1, 9]);
    assert_eq!(counts(&matrix, "im8"), [6, 2, 9]);
    assert_eq!(counts(&matrix, "cis-docker"), [5, 2, 5]);
    assert_eq!(counts(&matrix, "cis-k8s"), [0, 0, 26]);

    // The scan ran and found critical and high findings.
    assert_status(&matrix, "eu-ai-act", "art-9-2-a", "satisfied");
    assert_status(&matrix, "eu-ai-act", "art-9-2-d", "not-satisfied");
    assert_status(
        &matrix,
        "eu-ai-act",
        "art-15-5-vulnerabilities",
        "not-satisfied",
    );
    assert_status(&matrix, "nist-ai-rmf", "measure-2.7", "satisfied");
    assert_status(&matrix, "nist-ai-rmf", "manage-1.3", "not-satisfied");
    assert_status(&matrix, "im8", "st-5", "not-satisfied");
    assert_status(&matrix, "cis-docker", "4.4", "not-satisfied");
    assert_eq!(
        control(&matrix, "eu-ai-act", "art-9-2-d")["reason"],
        "failed: no-critical-high-vulnerabilities: 1 critical, 5 high, 3 of unknown severity \
         (3 medium and 0 low not counted)"
    );

    // The model is pinned and its card names data sets.
    assert_status(&matrix, "eu-ai-act", "art-10-2-origin", "satisfied");
    assert_status(&matrix, "nist-ai-rmf", "manage-3.2", "satisfied");

    // Without --key the signature checks do not run, so nothing resting on them is evidenced.
    assert_status(&matrix, "eu-ai-act", "art-15-5-integrity", "not-evidenced");
    assert_status(&matrix, "im8", "sc-7", "not-evidenced");
    assert_status(&matrix, "cis-docker", "4.12", "not-evidenced");
    assert_eq!(
        control(&matrix, "im8", "sc-7")["reason"],
        "not run: signature-verified: no --key was given, so no signature was verified \
         (0 manifests found)"
    );

    // Image checks: non-root user passes, HEALTHCHECK and source labels fail, base image
    // could not be checked.
    assert_status(&matrix, "cis-docker", "4.1", "satisfied");
    assert_status(&matrix, "cis-docker", "4.6", "not-satisfied");
    assert_status(&matrix, "cis-docker", "4.2", "not-evidenced");
    assert_status(&matrix, "im8", "sc-1", "not-satisfied");
    assert_status(&matrix, "im8", "is-4", "satisfied");
    assert_status(&matrix, "im8", "ac-1-image", "satisfied");

    // Rows no check can evidence keep the file's reason.
    assert_status(&matrix, "cis-docker", "4.5", "not-evidenced");
    assert!(
        control(&matrix, "cis-docker", "4.5")["reason"]
            .as_str()
            .unwrap()
            .starts_with("A setting of the Docker client on the host")
    );
    assert!(
        control(&matrix, "cis-docker", "4.5")["checks"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // A report written alone has no package manifest.
    assert_status(&matrix, "eu-ai-act", "art-17-1-k", "not-evidenced");
    assert_eq!(check(&matrix, "evidence-manifest")["status"], "not-run");

    // Without --k8s every Kubernetes row is not evidenced.
    assert_status(&matrix, "cis-k8s", "5.2.2", "not-evidenced");
    assert_status(&matrix, "im8", "is-3-workload", "not-evidenced");

    // Checks and the overview.
    assert_eq!(
        check(&matrix, "no-critical-high-vulnerabilities")["status"],
        "fail"
    );
    assert_eq!(check(&matrix, "sbom")["status"], "pass");
    assert_eq!(check(&matrix, "model-inventory")["status"], "pass");
    assert_eq!(check(&matrix, "cis-docker-4.2")["status"], "not-run");
    let vulnerabilities = &matrix["overview"]["vulnerabilities"];
    assert_eq!(vulnerabilities["critical"], 1);
    assert_eq!(vulnerabilities["high"], 5);
    assert_eq!(vulnerabilities["medium"], 3);
    assert_eq!(vulnerabilities["low"], 0);
    assert_eq!(vulnerabilities["unknown"], 3);
    let by_type = &matrix["overview"]["packages_by_type"];
    assert_eq!(by_type["deb"], 39);
    assert_eq!(by_type["python"], 8);
    assert_eq!(by_type["model"], 1);
    assert_eq!(by_type["go-stdlib"], 1);
    assert_eq!(matrix["overview"]["signature"]["status"], "not-run");
}

#[test]
fn report_json_shape() {
    let Some(image) = example_image() else { return };
    let matrix = report_json(&oci_ref(&image), &["--framework", "eu-ai-act,cis"]);
    let keys =
        |value: &Value| -> Vec<String> { value.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(
        keys(&matrix),
        [
            "matrix_version",
            "generator",
            "image",
            "overview",
            "checks",
            "frameworks"
        ]
    );
    assert_eq!(matrix["matrix_version"], 1);
    assert_eq!(
        keys(&matrix["image"]),
        [
            "reference",
            "manifest_digest",
            "config_digest",
            "created",
            "labels",
            "annotations"
        ]
    );
    let index = read_json(&image.join("index.json"));
    assert_eq!(
        matrix["image"]["manifest_digest"],
        index["manifests"][0]["digest"]
    );

    // `cis` names both CIS benchmarks, in report order.
    let ids: Vec<&str> = matrix["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["eu-ai-act", "cis-docker", "cis-k8s"]);
    let eu = framework(&matrix, "eu-ai-act");
    assert_eq!(keys(eu), ["id", "name", "source", "summary", "controls"]);
    assert_eq!(eu["name"], "EU AI Act");

    // A row with checks has a scope, evidence files and no file reason; a row without has
    // neither scope nor checks.
    let row = control(&matrix, "eu-ai-act", "art-9-2-a");
    assert_eq!(
        keys(row),
        [
            "id", "group", "cites", "title", "scope", "status", "reason", "checks", "evidence"
        ]
    );
    assert_eq!(row["cites"], "Art. 9(2)(a)");
    assert_eq!(
        row["checks"],
        serde_json::json!(["sbom", "vulnerability-scan"])
    );
    assert_eq!(
        row["evidence"],
        serde_json::json!([
            "sbom.spdx.json",
            "sbom.cdx.json",
            "vulnerabilities.json",
            "vulnerability-scan.sarif"
        ])
    );
    let unmapped = control(&matrix, "eu-ai-act", "art-9-1");
    assert!(unmapped.get("scope").is_none());
    assert_eq!(unmapped["checks"], serde_json::json!([]));

    // Only the checks the selected frameworks name are listed, each with this shape.
    let check_ids: Vec<&str> = matrix["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(check_ids.contains(&"pss-restricted-seccomp"));
    assert!(!check_ids.contains(&"least-privilege-writable-paths"));
    assert_eq!(
        keys(check(&matrix, "sbom")),
        ["id", "title", "status", "detail", "evidence"]
    );
    for value in matrix["checks"].as_array().unwrap() {
        let status = value["status"].as_str().unwrap();
        assert!(
            ["pass", "fail", "not-applicable", "not-run"].contains(&status),
            "{value}"
        );
    }

    // An unknown framework is a usage error.
    let out = clearbox(&["report", &oci_ref(&image), "--framework", "iso-42001"]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("iso-42001"), "{}", stderr(&out));
}

/// A Pod that passes every Kubernetes check but the registry allowlist, which needs
/// `--allow-registry`.
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
    imagePullPolicy: Always
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities:
        drop: [ALL]
    resources:
      requests: {cpu: 100m, memory: 64Mi}
      limits: {cpu: 500m, memory: 128Mi}
";

/// A Deployment whose container is privileged.
const PRIVILEGED_DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: agent
  namespace: ops
spec:
  template:
    spec:
      containers:
      - name: agent
        image: registry.example/ops/agent:1.0
        securityContext:
          privileged: true
";

#[test]
fn report_with_k8s_manifests() {
    let Some(image) = example_image() else { return };
    let dir = tempfile::tempdir().unwrap();
    let hardened = dir.path().join("hardened.yaml");
    std::fs::write(&hardened, HARDENED_POD).unwrap();
    let matrix = report_json(
        &oci_ref(&image),
        &[
            "--framework",
            "cis-k8s,im8",
            "--k8s",
            hardened.to_str().unwrap(),
        ],
    );
    for id in [
        "5.1.5",
        "5.1.6",
        "5.2.2",
        "5.2.7",
        "5.2.10",
        "5.7.2",
        "5.7.4",
        "5.2-restricted",
    ] {
        assert_status(&matrix, "cis-k8s", id, "satisfied");
    }
    assert_status(&matrix, "cis-k8s", "5.2.1", "not-evidenced");
    assert_status(&matrix, "im8", "is-3-workload", "satisfied");
    assert_status(&matrix, "im8", "ac-1-workload", "satisfied");
    assert_eq!(
        counts(&matrix, "cis-k8s"),
        [19, 0, 7],
        "{}",
        framework(&matrix, "cis-k8s")
    );
    assert_eq!(
        check(&matrix, "5.2.2")["evidence"],
        serde_json::json!([hardened.to_str().unwrap()])
    );
    assert_eq!(
        matrix["overview"]["k8s_files"],
        serde_json::json!([hardened.to_str().unwrap()])
    );

    // A privileged container fails 5.2.2, naming the object, field and line.
    let privileged = dir.path().join("privileged.yaml");
    std::fs::write(&privileged, PRIVILEGED_DEPLOYMENT).unwrap();
    let matrix = report_json(
        &oci_ref(&image),
        &[
            "--framework",
            "cis-k8s",
            "--k8s",
            privileged.to_str().unwrap(),
        ],
    );
    assert_status(&matrix, "cis-k8s", "5.2.2", "not-satisfied");
    assert_status(&matrix, "cis-k8s", "5.2-restricted", "not-satisfied");
    assert_eq!(
        control(&matrix, "cis-k8s", "5.2.2")["reason"],
        "failed: 5.2.2: 1 of 1 results failed; first: Deployment/ops/agent container `agent` \
         spec.template.spec.containers[0].securityContext.privileged (line 13): the container \
         is privileged"
    );

    // A manifest that does not parse is an error before any image is read.
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "kind: [").unwrap();
    let out = clearbox(&[
        "report",
        &oci_ref(&image),
        "--k8s",
        broken.to_str().unwrap(),
    ]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("failed to check the Kubernetes manifests given with --k8s"),
        "{}",
        stderr(&out)
    );
}

/// Copies the example layout to `dir` and adds `annotations` to its image manifest, storing
/// the new manifest as a blob and pointing `index.json` at it.
fn annotated_copy(image: &Path, dir: &Path, annotations: &[(&str, &str)]) -> PathBuf {
    let layout = dir.join("layout");
    let copy = Command::new("cp")
        .arg("-a")
        .arg(image)
        .arg(&layout)
        .status()
        .unwrap();
    assert!(copy.success());

    // Add the annotations to the manifest and store it under its new digest.
    let mut index = read_json(&layout.join("index.json"));
    let entry = &mut index["manifests"][0];
    let digest = entry["digest"].as_str().unwrap().to_owned();
    let blobs = layout.join("blobs/sha256");
    let mut manifest = read_json(&blobs.join(digest.trim_start_matches("sha256:")));
    let map = manifest
        .as_object_mut()
        .unwrap()
        .entry("annotations")
        .or_insert_with(|| serde_json::json!({}));
    for (key, value) in annotations {
        map[*key] = Value::from(*value);
    }
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let hex = hex::encode(Sha256::digest(&bytes));
    std::fs::write(blobs.join(&hex), &bytes).unwrap();

    // Point index.json at it.
    entry["digest"] = Value::from(format!("sha256:{hex}"));
    entry["size"] = Value::from(bytes.len());
    std::fs::write(
        layout.join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();
    layout
}

#[test]
fn report_escapes_html_in_annotations() {
    let Some(image) = example_image() else { return };
    let dir = tempfile::tempdir().unwrap();
    let hostile = "<script>alert(1)</script>";
    let layout = annotated_copy(
        &image,
        dir.path(),
        &[("org.example.note", hostile), ("org.example.<b>key", "a|b")],
    );
    let db = demo_db().to_str().unwrap();
    let reference = oci_ref(&layout);

    // HTML: the value shows as text, and the page has no script element.
    let out = clearbox(&["report", &reference, "--db", db, "--format", "html"]);
    assert_exit(&out, 0);
    let html = stdout(&out);
    assert!(!html.contains("<script"), "the page holds a script element");
    assert!(
        html.contains("<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>"),
        "the annotation is not shown escaped"
    );
    assert!(html.contains("<code>org.example.&lt;b&gt;key</code>"));
    assert!(!html.contains("<b>"));

    // Markdown and JSON carry it in their own escaping.
    let out = clearbox(&["report", &reference, "--db", db, "--format", "json"]);
    let matrix: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(matrix["image"]["annotations"]["org.example.note"], hostile);
}

/// Locates Chromium: `$CLEARBOX_CHROMIUM`, default `/usr/bin/chromium` (Debian's `chromium`
/// package, which `scripts/setup.sh` installs). When it is missing the test is skipped, or
/// fails under `CI=true`.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("CLEARBOX_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    if path.is_file() {
        return Some(path);
    }
    clearbox_testdata::skip(&format!(
        "Chromium is not at `{}`; run scripts/setup.sh or set CLEARBOX_CHROMIUM",
        path.display()
    ))
}

/// Runs headless Chromium on `page` with `mode` (`--dump-dom` or `--screenshot=FILE`).
fn run_chromium(chromium: &Path, page: &Path, mode: &str) -> std::process::Output {
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(mode)
        .arg("--window-size=1280,2000")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "chromium failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Extracts the text of an HTML document: tags become spaces, the page's entities are decoded
/// and runs of white space are collapsed.
fn page_text(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn evidence_report_html_renders_in_chromium() {
    let Some(image) = example_image() else { return };
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("evidence");
    let db = demo_db().to_str().unwrap();
    let out = clearbox(&[
        "evidence",
        &oci_ref(&image),
        "--db",
        db,
        "--output",
        package.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
    let page = package.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();

    // Self-contained: no script, no stylesheet or image fetched, no link leaving the package.
    for forbidden in [
        "<script", "<link", "<img", "<iframe", "src=", "url(", "@import",
    ] {
        assert!(
            !html.contains(forbidden),
            "report.html contains `{forbidden}`"
        );
    }
    for href in html.split("href=\"").skip(1) {
        let target = &href[..href.find('"').unwrap()];
        assert!(
            target.starts_with('#') || package.join(target).is_file(),
            "link `{target}` leaves the package"
        );
    }

    // The rendered page names every framework with its counts, and the charts' numbers.
    let dom = run_chromium(&chromium, &page, "--dump-dom");
    let text = page_text(&String::from_utf8_lossy(&dom.stdout));
    for row in [
        "EU AI Act Regulation (EU) 2024/1689 (Artificial Intelligence Act), Chapter III, \
         Section 2 and Article 17 6 2 8",
        "NIST AI RMF 1.0 NIST AI 100-1, Artificial Intelligence Risk Management Framework \
         (AI RMF 1.0), January 2023 4 1 9",
        "Singapore IM8 IM8 Reform control catalog, version 2024.05.30-2 (GovTech Singapore) 7 2 8",
        "CIS Docker Benchmark CIS Docker Benchmark v1.6.0, section 4 5 2 5",
        "CIS Kubernetes Benchmark CIS Kubernetes Benchmark v1.9.0 (Kubernetes 1.27 to 1.29), \
         section 5 0 0 26",
        "1 critical, 5 high, 3 medium, 0 low, 3 of unknown severity",
        "49 packages in sbom.spdx.json and sbom.cdx.json",
        "Signature not run no --key was given",
        "org.opencontainers.image.title clearbox-example-ai",
    ] {
        assert!(
            text.contains(row),
            "the page does not show `{row}`:\n{text}"
        );
    }
    assert!(
        html.contains("<title>Vulnerabilities by severity</title>"),
        "no severity chart"
    );

    // A screenshot is a 1280x2000 PNG.
    let shot = dir.path().join("report.png");
    run_chromium(
        &chromium,
        &page,
        &format!("--screenshot={}", shot.display()),
    );
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&png[12..16], b"IHDR");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1280, 2000));
}

#[test]
fn evidence_package_holds_the_matrix() {
    let Some(image) = example_image() else { return };
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("evidence");
    let db = demo_db().to_str().unwrap();
    let out = clearbox(&[
        "evidence",
        &oci_ref(&image),
        "--db",
        db,
        "--output",
        package.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);

    // Inside a package the manifest check passes, so the record-keeping rows are satisfied.
    let matrix = read_json(&package.join("compliance-matrix.json"));
    assert_eq!(check(&matrix, "evidence-manifest")["status"], "pass");
    assert_status(&matrix, "eu-ai-act", "art-17-1-k", "satisfied");
    assert_status(&matrix, "im8", "lm-2", "satisfied");
    assert_eq!(counts(&matrix, "eu-ai-act"), [6, 2, 8]);

    // The Markdown matrix links the evidence files and the manifest lists all three files.
    let markdown = std::fs::read_to_string(package.join("compliance-matrix.md")).unwrap();
    assert!(
        markdown.contains(
            "| `4.6` | 4.6 | A HEALTHCHECK instruction is added to the image | **not satisfied** | \
         failed: cis-docker-4.6: config.Healthcheck is not set | `cis-docker-4.6` | \
         [cis-compliance.md](cis-compliance.md) |"
        ),
        "{markdown}"
    );
    let manifest = read_json(&package.join("manifest.json"));
    for name in [
        "compliance-matrix.json",
        "compliance-matrix.md",
        "report.html",
    ] {
        assert!(manifest["files"][name].is_object(), "manifest lacks {name}");
    }
    let readme = std::fs::read_to_string(package.join("README.md")).unwrap();
    assert!(readme.contains("| `report.html` | produced |"), "{readme}");
    assert!(
        stderr(&out)
            .contains("Compliance matrix: EU AI Act 6 satisfied, 2 not satisfied, 8 not evidenced"),
        "{}",
        stderr(&out)
    );
}

/// Generates a key pair in `dir` and signs `reference` with it; returns the public key's path.
fn sign(dir: &Path, reference: &str) -> String {
    let password = [("CLEARBOX_PASSWORD", "pw")];
    let prefix = dir.join("signer");
    let out = clearbox_env(
        &[
            "key",
            "generate",
            "--output-prefix",
            prefix.to_str().unwrap(),
        ],
        &password,
    );
    assert_exit(&out, 0);
    let key = dir.join("signer.key");
    let out = clearbox_env(
        &[
            "sign",
            reference,
            "--key",
            key.to_str().unwrap(),
            "--identity",
            "registry.example/ai/app",
        ],
        &password,
    );
    assert_exit(&out, 0);
    dir.join("signer.pub").display().to_string()
}

#[test]
fn report_compares_standard_and_hardened_images() {
    let Some(image) = example_image() else { return };
    let dir = tempfile::tempdir().unwrap();

    // The hardened image pins its base image, names its source and revision, and is signed.
    let hardened = annotated_copy(
        &image,
        dir.path(),
        &[
            (
                "org.opencontainers.image.base.name",
                "docker.io/library/debian:12",
            ),
            (
                "org.opencontainers.image.base.digest",
                "sha256:b6507e340c43553136f5078284c8c68d86ec8262b1724dde73c325e8d3dcdeba",
            ),
            (
                "org.opencontainers.image.revision",
                "0123456789abcdef0123456789abcdef01234567",
            ),
        ],
    );
    let hardened_ref = oci_ref(&hardened);
    let public = sign(dir.path(), &hardened_ref);
    let standard_ref = oci_ref(&image);
    let db = demo_db().to_str().unwrap();
    let args = [
        "report",
        "--compare",
        &standard_ref,
        &hardened_ref,
        "--db",
        db,
        "--key",
        &public,
    ];

    // JSON: statuses per image, control by control.
    let out = clearbox(&[&args[..], &["--format", "json"]].concat());
    assert_exit(&out, 0);
    let comparison: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(comparison["a"]["reference"], standard_ref);
    assert_eq!(comparison["b"]["reference"], hardened_ref);
    let rows: BTreeMap<(String, String), (String, String)> = comparison["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| {
            f["controls"].as_array().unwrap().iter().map(move |c| {
                (
                    (
                        f["id"].as_str().unwrap().to_owned(),
                        c["id"].as_str().unwrap().to_owned(),
                    ),
                    (
                        c["a"].as_str().unwrap().to_owned(),
                        c["b"].as_str().unwrap().to_owned(),
                    ),
                )
            })
        })
        .collect();
    let status = |framework: &str, id: &str| rows[&(framework.to_owned(), id.to_owned())].clone();
    let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    // With a key, the unsigned image fails the signature check; the signed one passes it.
    assert_eq!(status("im8", "sc-7"), pair("not-satisfied", "satisfied"));
    assert_eq!(
        status("cis-docker", "4.12"),
        pair("not-satisfied", "satisfied")
    );
    assert_eq!(
        status("cis-docker", "4.2"),
        pair("not-evidenced", "satisfied")
    );
    assert_eq!(status("im8", "sc-1"), pair("not-satisfied", "satisfied"));
    // The same packages, so the same vulnerabilities.
    assert_eq!(
        status("cis-docker", "4.4"),
        pair("not-satisfied", "not-satisfied")
    );
    assert_eq!(status("cis-docker", "4.1"), pair("satisfied", "satisfied"));

    // Markdown: one row per control, changed statuses in bold.
    let out = clearbox(&args);
    assert_exit(&out, 0);
    let markdown = stdout(&out);
    assert!(
        markdown.contains(&format!("A: `{standard_ref}`")),
        "{markdown}"
    );
    assert!(
        markdown.contains(
            "| `4.2` | 4.2 | Containers use only trusted base images | **not evidenced** | \
             **satisfied** |"
        ),
        "{markdown}"
    );
    assert!(
        markdown.contains(
            "| `4.1` | 4.1 | A user is created for the container, so that it does not run as \
             root | satisfied | satisfied |"
        ),
        "{markdown}"
    );
}
