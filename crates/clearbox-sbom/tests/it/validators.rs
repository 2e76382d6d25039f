//! The real validators: `pyspdxtools` for SPDX and cyclonedx-python-lib's strict JSON schema
//! validator for CycloneDX, from the virtual environment `scripts/setup.sh` creates.
//!
//! The environment is `$CLEARBOX_VENV`, else `.venv` at the workspace root. When it is missing
//! the validating tests print a notice and pass, unless `CI=true`, where they fail.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::Command;

/// Locates the validator environment. Returns `None`, after a notice, when it is missing outside
/// CI.
#[allow(
    clippy::print_stderr,
    reason = "the skip notice must reach whoever runs the tests"
)]
pub(crate) fn venv() -> Option<PathBuf> {
    let dir = std::env::var_os("CLEARBOX_VENV").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv"),
        PathBuf::from,
    );
    if dir.join("bin/python").exists() && dir.join("bin/pyspdxtools").exists() {
        return Some(dir);
    }
    let message = format!(
        "validator environment not found at `{}`: run scripts/setup.sh or set CLEARBOX_VENV",
        dir.display()
    );
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
    eprintln!("note: skipping validation, {message}");
    None
}

fn temp_json(bytes: &[u8]) -> tempfile::NamedTempFile {
    // pyspdxtools picks its parser by file extension.
    let mut file = tempfile::Builder::new()
        .suffix(".json")
        .tempfile()
        .expect("create temporary file");
    file.write_all(bytes).expect("write temporary file");
    file
}

/// Runs `pyspdxtools -i FILE`. Returns `Err` with its output unless it exits 0 and prints nothing.
pub(crate) fn pyspdxtools(venv: &std::path::Path, document: &[u8]) -> Result<(), String> {
    let file = temp_json(document);
    let output = Command::new(venv.join("bin/pyspdxtools"))
        .arg("-i")
        .arg(file.path())
        .output()
        .expect("run pyspdxtools");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.status.success() && text.trim().is_empty() {
        Ok(())
    } else {
        Err(format!(
            "pyspdxtools exited with {}:\n{text}",
            output.status
        ))
    }
}

const CYCLONEDX_SCRIPT: &str = r#"
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

/// Validates against the CycloneDX 1.6 strict JSON schema. Returns `Err` with every schema error.
pub(crate) fn cyclonedx(venv: &std::path::Path, bom: &[u8]) -> Result<(), String> {
    let file = temp_json(bom);
    let output = Command::new(venv.join("bin/python"))
        .arg("-c")
        .arg(CYCLONEDX_SCRIPT)
        .arg(file.path())
        .output()
        .expect("run python");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.status.success() && text.trim().is_empty() {
        Ok(())
    } else {
        Err(format!(
            "CycloneDX validation exited with {}:\n{text}",
            output.status
        ))
    }
}
