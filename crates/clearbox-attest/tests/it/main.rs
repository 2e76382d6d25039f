//! Integration tests: keys and signatures against cosign 2.5, skopeo 1.18, OpenSSL and `SoftHSM`,
//! the DSSE specification's test vector, third-party keys and envelopes from the corpus, and
//! image signatures, attestations and referrers in OCI layouts and a real registry, checked
//! against cosign 2.5, skopeo 1.18 and oras 1.2.

mod cosign;
mod dsse;
mod files;
mod fixtures;
mod hsm_artifacts;
mod layout_artifacts;
mod password;
mod provenance_policy;
mod registry_artifacts;
mod softhsm;
mod store_inputs;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use clearbox_testdata::{corpus, skip, workspace_root};

/// A tool that `scripts/fetch-trixie-tools.sh` puts in `tools/bin`, or `None` after a notice.
fn tool(name: &str) -> Option<PathBuf> {
    let path = workspace_root().join("tools/bin").join(name);
    if path.is_file() {
        return Some(path);
    }
    skip(&format!(
        "`{}` is missing; run scripts/fetch-trixie-tools.sh (scripts/setup.sh runs it)",
        path.display()
    ))
}

/// A file of the shared corpus's `attest/` directory, or `None` after a notice.
fn attest_corpus(relative: &str) -> Option<PathBuf> {
    let path = corpus()?.join("attest").join(relative);
    assert!(path.is_file(), "the corpus has no `{}`", path.display());
    Some(path)
}

/// Runs `command`; the output when it exits 0, else a panic with its output.
fn run_ok(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("failed to run {command:?}: {error}"));
    assert!(
        output.status.success(),
        "{command:?} exited with {}:\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs `command`, which must fail; its combined output.
fn run_failing(command: &mut Command) -> String {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("failed to run {command:?}: {error}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !output.status.success(),
        "{command:?} succeeded but must fail:\n{text}"
    );
    text
}

/// Set in processes that [`rerun_in_child`] starts.
const CHILD_ENV: &str = "CLEARBOX_ATTEST_TEST_CHILD";

/// Whether this process is a child that [`rerun_in_child`] started.
fn is_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

/// Runs the test `test` of this binary again in a child process and checks that exactly that
/// one test ran and passed. `configure` sets up the child's environment. With `detach`, the child
/// runs under `setsid -w`, so it has no controlling terminal.
fn rerun_in_child(test: &str, detach: bool, configure: impl FnOnce(&mut Command)) {
    let binary = std::env::current_exe().expect("locate the test binary");
    let mut command = if detach {
        let mut setsid = Command::new("setsid");
        setsid.arg("-w").arg(binary);
        setsid
    } else {
        Command::new(binary)
    };
    command
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1");
    configure(&mut command);
    let output = command.output().expect("run the test binary again");
    let transcript = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && transcript.contains(" 1 passed"),
        "the child process for `{test}` exited with {}:\n{transcript}",
        output.status
    );
}

/// Writes `contents` to `dir/name` and returns the path.
fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write a test file");
    path
}
