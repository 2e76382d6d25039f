//! A throwaway `SoftHSM` 2 token for PKCS#11 tests: a temporary token directory, a configuration
//! file naming it, and one initialised token with user PIN [`USER_PIN`] and SO PIN [`SO_PIN`].
//!
//! `SoftHSM` reads its configuration from `SOFTHSM2_CONF` when a process first initialises the
//! module, and never again. A test cannot set that variable in its own process without `unsafe`
//! (`std::env::set_var`), and tests share a process. So [`run_isolated`] runs the test a second
//! time in a child process of the test binary with the variable set, and the test body runs only
//! there. Commands that run a program against the token (`softhsm2-util`, the product's binary)
//! get the variable from [`SoftHsm::command`].
//!
//! When `SoftHSM` is missing the test prints a notice and passes without running, except under
//! `CI=true`, where it fails (see [`crate::skip`]).

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The module path Debian's `softhsm2` package installs.
pub const DEFAULT_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// The user PIN of every token made here.
pub const USER_PIN: &str = "1234";
/// The security officer PIN of every token made here.
pub const SO_PIN: &str = "5678";

/// Set in the child process, to the token directory; its presence marks the child.
const CHILD_DIR_ENV: &str = "CLEARBOX_SOFTHSM_CHILD_DIR";
const CHILD_LABEL_ENV: &str = "CLEARBOX_SOFTHSM_CHILD_LABEL";

/// A `SoftHSM` configuration with one initialised token.
#[derive(Debug)]
pub struct SoftHsm {
    /// Owns the directory in the parent process; `None` in the child, which only borrows it.
    _dir: Option<tempfile::TempDir>,
    root: PathBuf,
    module: PathBuf,
    label: String,
}

impl SoftHsm {
    /// The module: `$CLEARBOX_SOFTHSM_MODULE`, default [`DEFAULT_MODULE`].
    fn module_path() -> PathBuf {
        std::env::var_os("CLEARBOX_SOFTHSM_MODULE")
            .map_or_else(|| PathBuf::from(DEFAULT_MODULE), PathBuf::from)
    }

    /// Creates a configuration in a new temporary directory and initialises a token labelled
    /// `label`. Returns `None` (after a notice) when `SoftHSM` is not installed.
    ///
    /// # Panics
    ///
    /// When `SoftHSM` is installed but initialising the token fails, and under `CI=true` when it
    /// is not installed.
    #[must_use]
    pub fn start(label: &str) -> Option<SoftHsm> {
        let module = SoftHsm::module_path();
        if !module.is_file() {
            return crate::skip(&format!(
                "the SoftHSM module `{}` is missing; apt-get install softhsm2, or set \
                 CLEARBOX_SOFTHSM_MODULE",
                module.display()
            ));
        }
        if Command::new("softhsm2-util")
            .arg("--version")
            .output()
            .is_err()
        {
            return crate::skip("`softhsm2-util` is not on PATH; apt-get install softhsm2");
        }

        let dir = tempfile::tempdir().expect("create a temporary directory");
        let root = dir.path().to_owned();
        let hsm = SoftHsm {
            _dir: Some(dir),
            root,
            module,
            label: label.to_owned(),
        };
        std::fs::create_dir(hsm.token_dir()).expect("create the token directory");
        std::fs::write(
            hsm.conf(),
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                hsm.token_dir().display()
            ),
        )
        .expect("write the SoftHSM configuration");
        let output = hsm
            .command("softhsm2-util")
            .args(["--init-token", "--free", "--label", label])
            .args(["--pin", USER_PIN, "--so-pin", SO_PIN])
            .output()
            .expect("run softhsm2-util");
        assert!(
            output.status.success(),
            "softhsm2-util --init-token failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        Some(hsm)
    }

    /// The token in the child process that [`SoftHsm::run_in_child`] started; `None` in any
    /// other process.
    ///
    /// # Panics
    ///
    /// When the child's environment names the token directory but not the token label, which
    /// [`SoftHsm::child_env`] always sets together.
    #[must_use]
    pub fn in_child() -> Option<SoftHsm> {
        let root = PathBuf::from(std::env::var_os(CHILD_DIR_ENV)?);
        let label = std::env::var(CHILD_LABEL_ENV).expect("the child has the token label");
        Some(SoftHsm {
            _dir: None,
            root,
            module: SoftHsm::module_path(),
            label,
        })
    }

    fn token_dir(&self) -> PathBuf {
        self.root.join("tokens")
    }

    /// The configuration file, for `SOFTHSM2_CONF`.
    #[must_use]
    pub fn conf(&self) -> PathBuf {
        self.root.join("softhsm2.conf")
    }

    /// The PKCS#11 module.
    #[must_use]
    pub fn module(&self) -> &Path {
        &self.module
    }

    /// The token label.
    #[must_use]
    pub fn label(&self) -> &str {
        &self.label
    }

    /// A scratch directory next to the token, removed with it.
    #[must_use]
    pub fn scratch_dir(&self) -> &Path {
        &self.root
    }

    /// `pkcs11:token=LABEL;object=OBJECT?module-path=MODULE&pin-value=1234`. `object` and the
    /// label are used as they are, so they must not need percent-encoding.
    #[must_use]
    pub fn uri(&self, object: &str) -> String {
        format!("{}&pin-value={USER_PIN}", self.uri_without_pin(object))
    }

    /// [`SoftHsm::uri`] without the PIN.
    #[must_use]
    pub fn uri_without_pin(&self, object: &str) -> String {
        format!(
            "pkcs11:token={};object={object}?module-path={}",
            self.label,
            self.module.display()
        )
    }

    /// A command for `program` with `SOFTHSM2_CONF` pointing at this token's configuration.
    #[must_use]
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new(program);
        command.env("SOFTHSM2_CONF", self.conf());
        command
    }

    /// Imports a PKCS#8 PEM key pair into the token with `softhsm2-util --import` under the
    /// label `object` and the id `id_hex` (hexadecimal, such as `0a0b`).
    pub fn import_key(&self, pem: &Path, object: &str, id_hex: &str) -> Result<(), String> {
        let output = self
            .command("softhsm2-util")
            .arg("--import")
            .arg(pem)
            .args(["--token", &self.label, "--label", object, "--id", id_hex])
            .args(["--pin", USER_PIN])
            .output()
            .map_err(|error| format!("failed to run softhsm2-util: {error}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "softhsm2-util --import exited with {}: {}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }

    /// The environment a child process needs to reach this token, both through `SoftHSM`
    /// (`SOFTHSM2_CONF`) and through [`SoftHsm::in_child`]. For tests that build their own child
    /// command; most use [`SoftHsm::run_in_child`].
    #[must_use]
    pub fn child_env(&self) -> Vec<(&'static str, OsString)> {
        vec![
            ("SOFTHSM2_CONF", self.conf().into_os_string()),
            (CHILD_DIR_ENV, self.root.clone().into_os_string()),
            (CHILD_LABEL_ENV, OsString::from(&self.label)),
            (
                "CLEARBOX_SOFTHSM_MODULE",
                self.module.clone().into_os_string(),
            ),
        ]
    }

    /// Runs the test named `test` (its path in the test binary, such as `softhsm::signs`) again
    /// in a child process of the current test binary, with `SOFTHSM2_CONF` set to this token's
    /// configuration.
    ///
    /// # Panics
    ///
    /// When the child fails, or when it ran no test (a misspelt name), with the child's output.
    pub fn run_in_child(&self, test: &str) {
        let binary = std::env::current_exe().expect("locate the test binary");
        let output = Command::new(binary)
            .args([test, "--exact", "--nocapture", "--test-threads=1"])
            .envs(self.child_env())
            .output()
            .expect("run the test binary again");
        let transcript = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            output.status.success() && transcript.contains(" 1 passed"),
            "the child process for `{test}` exited with {} (it must run exactly one test):\n{transcript}",
            output.status
        );
    }
}

/// Runs `body` with a fresh `SoftHSM` token labelled `label`, in a child process of the test binary
/// so that `SOFTHSM2_CONF` is set before the module is first loaded. `test` is the calling test's
/// path in the test binary (such as `softhsm::signs`).
///
/// In the parent process this starts the token and runs the child; in the child it runs `body`.
/// When `SoftHSM` is missing it returns after a notice (and fails under `CI=true`).
///
/// # Panics
///
/// When the child process fails; `body` panics in the child are reported with its output.
pub fn run_isolated(test: &str, label: &str, body: impl FnOnce(&SoftHsm)) {
    if let Some(hsm) = SoftHsm::in_child() {
        body(&hsm);
        return;
    }
    if let Some(hsm) = SoftHsm::start(label) {
        hsm.run_in_child(test);
    }
}
