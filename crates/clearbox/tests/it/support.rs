//! Running the binary, and finding the example image, the corpus and the validators.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// Runs `clearbox ARGS` with a clean environment for the variables it reads.
pub(crate) fn clearbox(args: &[&str]) -> Output {
    clearbox_with_stdin(args, None)
}

/// Runs `clearbox ARGS`, feeding `stdin` when given.
pub(crate) fn clearbox_with_stdin(args: &[&str], stdin: Option<&str>) -> Output {
    clearbox_full(args, stdin, &[])
}

/// Runs `clearbox ARGS` with extra environment variables.
pub(crate) fn clearbox_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    clearbox_full(args, None, env)
}

fn clearbox_full(args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
    // The default advisory database lives under XDG_DATA_HOME; an empty directory keeps a
    // database on the machine from changing what the tests see.
    static DATA_HOME: OnceLock<tempfile::TempDir> = OnceLock::new();
    let data_home = DATA_HOME.get_or_init(process_tempdir);
    let mut command = Command::new(env!("CARGO_BIN_EXE_clearbox"));
    command
        .args(args)
        .env("XDG_DATA_HOME", data_home.path())
        .env("XDG_STATE_HOME", data_home.path())
        .env_remove("CLEARBOX_AUDIT_STORE")
        .env_remove("RUST_LOG")
        .env_remove("CLEARBOX_DB")
        .env_remove("SOURCE_DATE_EPOCH")
        .envs(env.iter().copied())
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

pub(crate) use clearbox_testdata::{corpus, example_image, venv, workspace_root as workspace};

/// Creates a temporary directory for data kept for the whole test process (in a `static`).
///
/// nextest runs each test in a process of its own, and a `static` is never dropped, so such
/// directories are never removed. They go under `target/test-tmp`, which scripts/test.sh
/// empties before each run, instead of accumulating in the system's temporary directory.
pub(crate) fn process_tempdir() -> tempfile::TempDir {
    let parent = workspace().join("target/test-tmp");
    std::fs::create_dir_all(&parent).unwrap();
    tempfile::tempdir_in(parent).unwrap()
}

/// An advisory database with the whole PyPA and Go databases of the corpus, built once per
/// test process.
pub(crate) fn corpus_db() -> Option<&'static Path> {
    static DB: OnceLock<Option<(tempfile::TempDir, PathBuf)>> = OnceLock::new();
    DB.get_or_init(|| {
        let corpus = corpus()?;
        let dir = process_tempdir();
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

/// Validates an SPDX document file with pyspdxtools.
#[track_caller]
pub(crate) fn validate_spdx(venv: &Path, file: &Path) {
    let document = std::fs::read(file).unwrap();
    if let Err(problem) = clearbox_testdata::validate_spdx(venv, &document) {
        panic!("{} is not valid SPDX: {problem}", file.display());
    }
}

/// Validates a CycloneDX 1.6 document file.
#[track_caller]
pub(crate) fn validate_cyclonedx(venv: &Path, file: &Path) {
    let document = std::fs::read(file).unwrap();
    if let Err(problem) = clearbox_testdata::validate_cyclonedx(venv, &document) {
        panic!("{} is not valid CycloneDX 1.6: {problem}", file.display());
    }
}

/// Validates a SARIF file against the SARIF 2.1.0 schema.
#[track_caller]
pub(crate) fn validate_sarif(venv: &Path, file: &Path) {
    let document = std::fs::read(file).unwrap();
    if let Err(problem) = clearbox_testdata::validate_sarif(venv, &document) {
        panic!("{} is not valid SARIF 2.1.0: {problem}", file.display());
    }
}

pub(crate) fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

pub(crate) fn oci_ref(layout: &Path) -> String {
    format!("oci:{}:latest", layout.display())
}

/// Generates a key pair named `name` in `dir` with the password in `password` (a
/// `CLEARBOX_PASSWORD` variable and its value); returns the private and public key paths.
pub(crate) fn key_pair(dir: &Path, name: &str, password: (&str, &str)) -> (String, String) {
    let prefix = dir.join(name);
    let out = clearbox_env(
        &[
            "key",
            "generate",
            "--output-prefix",
            prefix.to_str().unwrap(),
        ],
        &[password],
    );
    assert_exit(&out, 0);
    (
        format!("{}.key", prefix.display()),
        format!("{}.pub", prefix.display()),
    )
}
