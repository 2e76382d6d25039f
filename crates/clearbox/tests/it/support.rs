//! Running the binary, and finding the example image, the corpus and the validators.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The workspace root.
pub(crate) fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `clearbox ARGS` with a clean environment for the variables it reads.
pub(crate) fn clearbox(args: &[&str]) -> Output {
    clearbox_with_stdin(args, None)
}

/// Runs `clearbox ARGS`, feeding `stdin` when given.
pub(crate) fn clearbox_with_stdin(args: &[&str], stdin: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_clearbox"));
    command
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("CLEARBOX_DB")
        .env_remove("SOURCE_DATE_EPOCH")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the clearbox binary runs");
    if let Some(text) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts the exit code, showing stderr when it differs.
#[track_caller]
pub(crate) fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stderr:\n{}",
        stderr(output)
    );
}

/// Looks up an input a test needs: present → `Some`; absent → a notice and `None`, except
/// that with `CI=true` absence fails the test.
fn required(path: PathBuf, variable: &str, how: &str) -> Option<PathBuf> {
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{} is missing; {how} or set {variable}",
        path.display()
    );
    eprintln!(
        "notice: {} is missing; {how} or set {variable} to run this test",
        path.display()
    );
    None
}

/// The shared test corpus (`CLEARBOX_CORPUS`, default `../shared/corpus`).
pub(crate) fn corpus() -> Option<PathBuf> {
    let path = std::env::var_os("CLEARBOX_CORPUS")
        .map_or_else(|| workspace().join("../shared/corpus"), PathBuf::from);
    required(
        path,
        "CLEARBOX_CORPUS",
        "the shared test corpus is not there",
    )
}

/// The example image layout (`CLEARBOX_EXAMPLE_IMAGE`, default `target/example-image`).
pub(crate) fn example_image() -> Option<PathBuf> {
    let path = std::env::var_os("CLEARBOX_EXAMPLE_IMAGE")
        .map_or_else(|| workspace().join("target/example-image"), PathBuf::from);
    required(
        path,
        "CLEARBOX_EXAMPLE_IMAGE",
        "run scripts/build-example-image.sh",
    )
}

/// The validator virtual environment (`CLEARBOX_VENV`, default `.venv`).
pub(crate) fn venv() -> Option<PathBuf> {
    let path =
        std::env::var_os("CLEARBOX_VENV").map_or_else(|| workspace().join(".venv"), PathBuf::from);
    required(path, "CLEARBOX_VENV", "run scripts/setup.sh")
}

/// An advisory database with the whole PyPA and Go databases of the corpus, built once per
/// test process.
pub(crate) fn corpus_db() -> Option<&'static Path> {
    static DB: OnceLock<Option<(tempfile::TempDir, PathBuf)>> = OnceLock::new();
    DB.get_or_init(|| {
        let corpus = corpus()?;
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("advisories.db");
        let pypa = corpus.join("osv/pypa-advisory-database/vulns");
        let go = corpus.join("osv/go-vulndb/data/osv");
        let out = clearbox(&[
            "db",
            "import",
            pypa.to_str().unwrap(),
            go.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
        ]);
        assert_exit(&out, 0);
        Some((dir, db))
    })
    .as_ref()
    .map(|(_, db)| db.as_path())
}

/// Validates an SPDX document with pyspdxtools.
pub(crate) fn validate_spdx(venv: &Path, file: &Path) {
    let out = Command::new(venv.join("bin/pyspdxtools"))
        .arg("-i")
        .arg(file)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "pyspdxtools rejected {}:\n{text}",
        file.display()
    );
    assert!(
        !text.contains("validation"),
        "pyspdxtools reported problems:\n{text}"
    );
}

/// Validates a CycloneDX 1.6 document with cyclonedx-python-lib's strict JSON validator.
pub(crate) fn validate_cyclonedx(venv: &Path, file: &Path) {
    let script = "import sys\n\
        from cyclonedx.validation.json import JsonStrictValidator\n\
        from cyclonedx.schema import SchemaVersion\n\
        errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(open(sys.argv[1]).read())\n\
        print(errors if errors else 'valid')\n\
        sys.exit(1 if errors else 0)\n";
    let out = Command::new(venv.join("bin/python"))
        .args(["-c", script])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "CycloneDX validation failed for {}:\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Validates a SARIF file against the SARIF 2.1.0 JSON schema.
pub(crate) fn validate_sarif(venv: &Path, file: &Path) {
    let schema = venv.join("share/clearbox/sarif-2.1.0.json");
    let script = "import json, sys, jsonschema\n\
        schema = json.load(open(sys.argv[1]))\n\
        jsonschema.Draft202012Validator(schema).validate(json.load(open(sys.argv[2])))\n";
    let out = Command::new(venv.join("bin/python"))
        .args(["-c", script])
        .arg(&schema)
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "SARIF validation failed for {}:\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub(crate) fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

pub(crate) fn oci_ref(layout: &Path) -> String {
    format!("oci:{}:latest", layout.display())
}
