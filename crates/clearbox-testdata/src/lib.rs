//! Test inputs shared by every crate's tests: where the third-party corpus, the example image
//! and the validator environment are, and how to run the real validators on a document.
//!
//! Every locator follows one rule: when the input is present it returns its path; when it is
//! missing it prints a notice naming the environment variable and returns `None`, so the test
//! passes without running, except when `CI=true`, where a missing input fails the test.

#![forbid(unsafe_code)]

pub mod postgres;
pub mod registry;
pub mod softhsm;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root.
#[must_use]
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// True when `CI=true`, where every input must be present.
#[must_use]
pub fn is_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Reports a missing input: fails under CI, else prints a notice and returns `None`. The
/// notice is written to the process's stderr directly, because the test harness hides
/// `eprintln!` output of passing tests.
///
/// # Panics
///
/// When `CI=true`, with `message`.
#[must_use]
pub fn skip<T>(message: &str) -> Option<T> {
    assert!(!is_ci(), "CI=true but {message}");
    let _ = writeln!(std::io::stderr(), "notice: test skipped: {message}");
    None
}

/// A path from `variable`, else `default` under the workspace root; relative values are taken
/// from the workspace root too.
fn configured(variable: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(variable).map_or_else(|| PathBuf::from(default), PathBuf::from);
    if path.is_absolute() {
        path
    } else {
        workspace_root().join(path)
    }
}

/// The third-party test corpus: `$CLEARBOX_CORPUS`, default `../shared/corpus` from the
/// workspace root.
#[must_use]
pub fn corpus() -> Option<PathBuf> {
    let dir = configured("CLEARBOX_CORPUS", "../shared/corpus");
    if dir.join("INDEX.md").is_file() {
        return Some(dir);
    }
    skip(&format!(
        "the test corpus is not at `{}`; set CLEARBOX_CORPUS to its directory",
        dir.display()
    ))
}

/// The example image layout: `$CLEARBOX_EXAMPLE_IMAGE`, default `target/example-image`.
#[must_use]
pub fn example_image() -> Option<PathBuf> {
    let dir = configured("CLEARBOX_EXAMPLE_IMAGE", "target/example-image");
    if dir.join("index.json").is_file() {
        return Some(dir);
    }
    skip(&format!(
        "the example image is not at `{}`; run scripts/build-example-image.sh or set \
         CLEARBOX_EXAMPLE_IMAGE",
        dir.display()
    ))
}

/// The validator virtual environment that `scripts/setup.sh` creates: `$CLEARBOX_VENV`,
/// default `.venv`.
#[must_use]
pub fn venv() -> Option<PathBuf> {
    let dir = configured("CLEARBOX_VENV", ".venv");
    if dir.join("bin/python").is_file() && dir.join("bin/pyspdxtools").is_file() {
        return Some(dir);
    }
    skip(&format!(
        "the validator environment is not at `{}`; run scripts/setup.sh or set CLEARBOX_VENV",
        dir.display()
    ))
}

/// Writes `document` to a temporary `.json` file: pyspdxtools picks its parser by extension.
fn temp_json(document: &[u8]) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new()
        .suffix(".json")
        .tempfile()
        .expect("create a temporary file");
    file.write_all(document).expect("write a temporary file");
    file
}

/// Runs a validator command; `Ok` only when it exits 0 and prints nothing.
fn run_quiet(command: &mut Command, what: &str) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|e| format!("failed to run {what}: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.status.success() && text.trim().is_empty() {
        Ok(())
    } else {
        Err(format!("{what} exited with {}:\n{text}", output.status))
    }
}

/// Validates an SPDX 2.3 JSON document with `pyspdxtools -i`.
pub fn validate_spdx(venv: &Path, document: &[u8]) -> Result<(), String> {
    let file = temp_json(document);
    run_quiet(
        Command::new(venv.join("bin/pyspdxtools"))
            .arg("-i")
            .arg(file.path()),
        "pyspdxtools",
    )
}

const CYCLONEDX_CHECK: &str = r#"
import sys
from cyclonedx.validation.json import JsonStrictValidator
from cyclonedx.schema import SchemaVersion
with open(sys.argv[1], encoding="utf-8") as f:
    text = f.read()
errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text, all_errors=True)
if errors:
    for error in errors:
        print(error)
    sys.exit(1)
"#;

/// Validates a CycloneDX 1.6 JSON document with cyclonedx-python-lib's strict validator.
pub fn validate_cyclonedx(venv: &Path, document: &[u8]) -> Result<(), String> {
    let file = temp_json(document);
    run_quiet(
        Command::new(venv.join("bin/python"))
            .args(["-c", CYCLONEDX_CHECK])
            .arg(file.path()),
        "the CycloneDX validator",
    )
}

const SARIF_CHECK: &str = r"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
document = json.load(open(sys.argv[2]))
jsonschema.Draft202012Validator(schema).validate(document)
";

/// Validates a SARIF document against the SARIF 2.1.0 JSON schema that `scripts/setup.sh`
/// puts in the environment.
pub fn validate_sarif(venv: &Path, document: &[u8]) -> Result<(), String> {
    let schema = venv.join("share/clearbox/sarif-2.1.0.json");
    if !schema.is_file() {
        return Err(format!(
            "`{}` is missing; run scripts/setup.sh",
            schema.display()
        ));
    }
    let file = temp_json(document);
    run_quiet(
        Command::new(venv.join("bin/python"))
            .args(["-c", SARIF_CHECK])
            .arg(&schema)
            .arg(file.path()),
        "the SARIF schema check",
    )
}
