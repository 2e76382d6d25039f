//! What the commands print for people: image arguments that name nothing, `--quiet`, and the
//! messages for common mistakes with keys and layouts.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{
    assert_exit, clearbox, clearbox_env, corpus, key_pair, stderr, stdout, workspace,
};

const PASSWORD: (&str, &str) = ("CLEARBOX_PASSWORD", "pw");

/// Copies a small OCI layout from the corpus (one alpine image, 16 KB) to a writable `name`.
fn small_layout(dir: &Path, name: &str) -> Option<PathBuf> {
    let source = corpus()?.join("images/trivy/pkg/fanal/test/testdata/test.oci");
    let layout = dir.join(name);
    let status = Command::new("cp")
        .args(["-r", "--no-preserve=mode"])
        .arg(&source)
        .arg(&layout)
        .status()
        .unwrap();
    assert!(status.success());
    Some(layout)
}

/// Imports the demonstration advisories, whose records are years old, into a new database.
fn demo_db(dir: &Path) -> String {
    let db = dir.join("advisories.db");
    let examples = workspace().join("examples/advisories");
    let out = clearbox(&[
        "db",
        "import",
        examples.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
    db.display().to_string()
}

#[test]
fn missing_path_is_not_a_registry_lookup() {
    let dir = tempfile::tempdir().unwrap();
    let public = dir.path().join("none.pub");
    for args in [
        vec!["sbom", "-"],
        vec!["sbom", "no-such-image-dir"],
        vec!["sbom", "ubuntu:22.04"],
        vec!["evidence", "typo/layout", "--output", "out"],
        vec!["sign", "-", "--key", "none.key"],
        vec!["verify", "missing", "--key", public.to_str().unwrap()],
        vec![
            "attest",
            "-",
            "--key",
            "none.key",
            "--predicate",
            "none.json",
        ],
        vec!["download", "signature", "-"],
    ] {
        let out = clearbox(&args);
        assert_exit(&out, 2);
        let image = if args[0] == "download" {
            args[2]
        } else {
            args[1]
        };
        let expected =
            format!("no such file or image `{image}`; use dir:PATH, oci:PATH or docker://REF");
        assert!(
            stderr(&out).contains(&expected),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(
            !stderr(&out).contains("registry"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn scan_of_missing_path_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_db(dir.path());
    let out = clearbox(&["scan", "-", "--db", &db]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("no such file or image `-`; use dir:PATH, oci:PATH or docker://REF"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bare_directory_gets_transport_hint() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_clearbox"))
        .current_dir(dir.path())
        .args(["sbom", "rootfs"])
        .output()
        .unwrap();
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("no such file or image `rootfs`"));
    std::fs::create_dir(dir.path().join("rootfs")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_clearbox"))
        .current_dir(dir.path())
        .args(["sbom", "rootfs"])
        .output()
        .unwrap();
    assert_exit(&out, 2);
    assert!(
        stderr(&out)
            .contains("`rootfs` is a local path, not an image reference; name it dir:rootfs"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn missing_oci_layout_is_named() {
    let out = clearbox(&["sbom", "oci:/nonexistent/layout:latest"]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("OCI layout directory `/nonexistent/layout` does not exist"),
        "{}",
        stderr(&out)
    );
    let out = clearbox(&["sbom", "oci-archive:/nonexistent.tar"]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("OCI archive `/nonexistent.tar` does not exist"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn key_generate_checks_directory_first() {
    let dir = tempfile::tempdir().unwrap();
    // No password variable and no terminal: asking for a password would fail with another
    // message.
    let prefix = dir.path().join("missing/cosign");
    let out = clearbox(&[
        "key",
        "generate",
        "--output-prefix",
        prefix.to_str().unwrap(),
    ]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "the directory `{}` for the key pair cannot be used",
            dir.path().join("missing").display()
        )),
        "{err}"
    );
    assert!(!err.contains("password"), "{err}");

    std::fs::write(dir.path().join("taken.pub"), "x").unwrap();
    let out = clearbox(&[
        "key",
        "generate",
        "--output-prefix",
        dir.path().join("taken").to_str().unwrap(),
    ]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("taken.pub` already exists"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("taken.key").exists());
}

#[test]
fn sign_without_identity_names_the_option() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = small_layout(dir.path(), "layout") else {
        return;
    };
    let (key, _) = key_pair(dir.path(), "signer", PASSWORD);
    let out = clearbox_env(
        &["sign", &format!("oci:{}", layout.display()), "--key", &key],
        &[PASSWORD],
    );
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("pass --identity REGISTRY/REPO"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn readable_unencrypted_key_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = small_layout(dir.path(), "layout") else {
        return;
    };
    let pem = dir.path().join("plain.pem");
    let status = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .arg("-out")
        .arg(&pem)
        .status()
        .unwrap();
    assert!(status.success());
    let reference = format!("oci:{}", layout.display());
    let sign = || {
        clearbox(&[
            "sign",
            &reference,
            "--key",
            pem.to_str().unwrap(),
            "--identity",
            "registry.example/app",
        ])
    };

    std::fs::set_permissions(&pem, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = sign();
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains(&format!(
            "warning: the private key `{}` is not encrypted and every user can read it (mode 0644)",
            pem.display()
        )),
        "{}",
        stderr(&out)
    );

    std::fs::set_permissions(&pem, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = sign();
    assert_exit(&out, 0);
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
}

#[test]
fn quiet_silences_status_lines() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = small_layout(dir.path(), "layout") else {
        return;
    };
    let (key, public) = key_pair(dir.path(), "signer", PASSWORD);
    let reference = format!("oci:{}", layout.display());
    let identity = ["--identity", "registry.example/app"];

    let signed = clearbox_env(
        &[&["-q", "sign", &reference, "--key", &key][..], &identity].concat(),
        &[PASSWORD],
    );
    assert_exit(&signed, 0);
    assert_eq!(stderr(&signed), "");

    let verified = clearbox(&["verify", &reference, "--key", &public, "--quiet"]);
    assert_exit(&verified, 0);
    assert_eq!(stderr(&verified), "");
    assert!(stdout(&verified).starts_with("[{\"critical\""));

    let package = dir.path().join("evidence");
    let evidence = clearbox(&[
        "-q",
        "evidence",
        &reference,
        "--key",
        &public,
        "--output",
        package.to_str().unwrap(),
    ]);
    assert_exit(&evidence, 0);
    assert_eq!(stderr(&evidence), "");

    // Without -q the same commands report what they did.
    let verified = clearbox(&["verify", &reference, "--key", &public]);
    assert!(
        stderr(&verified).contains("1 of 1 signatures verified"),
        "{}",
        stderr(&verified)
    );
}

#[test]
fn quiet_scan_keeps_only_the_gate_reason() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_db(dir.path());
    let rootfs = dir.path().join("rootfs");
    std::fs::create_dir(&rootfs).unwrap();
    let target = format!("dir:{}", rootfs.display());
    let scan = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            target.as_str(),
            "--db",
            db.as_str(),
            "--max-db-age",
            "1s",
        ];
        args.extend_from_slice(extra);
        clearbox(&args)
    };

    let out = scan(&[]);
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("warning: the newest advisory in the database was modified"),
        "{}",
        stderr(&out)
    );
    let out = scan(&["-q"]);
    assert_exit(&out, 0);
    assert_eq!(stderr(&out), "");
    let out = scan(&["-q", "--fail-on-stale"]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("the newest advisory in the database was modified"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn verify_names_cause_and_unchecked_identity() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = small_layout(dir.path(), "layout") else {
        return;
    };
    let (key, public) = key_pair(dir.path(), "signer", PASSWORD);
    let reference = format!("oci:{}", layout.display());
    let identity = "registry.example/app";
    assert_exit(
        &clearbox_env(
            &["sign", &reference, "--key", &key, "--identity", identity],
            &[PASSWORD],
        ),
        0,
    );

    let out = clearbox(&["verify", &reference, "--key", &public]);
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains(
            "not checked: the repository each payload claims (docker-reference), because no \
             --identity was given"
        ),
        "{}",
        stderr(&out)
    );
    let out = clearbox(&[
        "verify",
        &reference,
        "--key",
        &public,
        "--identity",
        identity,
    ]);
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains(&format!(
            "each payload names the required identity `{identity}`"
        )),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("no --identity"), "{}", stderr(&out));

    // Another key: the rejection gives the check that failed and why.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let (_, other_public) = key_pair(&other, "signer", PASSWORD);
    let out = clearbox(&["verify", &reference, "--key", &other_public]);
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("the signature does not verify over the payload with the public key"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains(": the signature does not verify with the public key"),
        "{}",
        stderr(&out)
    );
}

/// A layout directory whose name has a newline and a terminal escape, signed with annotations
/// that carry a C1 control and a line separator, which JSON keeps as they are.
#[test]
fn hostile_text_escaped_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let Some(layout) = small_layout(dir.path(), "lay\nout\u{1b}[2J") else {
        return;
    };
    let (key, public) = key_pair(dir.path(), "signer", PASSWORD);
    let reference = format!("oci:{}", layout.display());
    let annotation = "team=ml\u{2028}forged: yes\u{9b}31m";
    let out = clearbox_env(
        &[
            "sign",
            &reference,
            "--key",
            &key,
            "--identity",
            "registry.example/app",
            "-a",
            annotation,
            "-a",
            "note=\u{1b}]0;title\u{7}",
        ],
        &[PASSWORD],
    );
    assert_exit(&out, 0);
    let err = stderr(&out);
    assert!(err.contains("lay\\u{a}out\\u{1b}[2J"), "{err}");
    assert!(!err.contains('\u{1b}'), "{err}");

    // A required annotation that differs: the value found is quoted escaped.
    let out = clearbox(&["verify", &reference, "--key", &public, "-a", "note=x"]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("annotation `note` is `\\u{1b}]0;title\\u{7}`, required `x`"),
        "{err}"
    );
    assert!(!err.contains('\u{1b}'), "{err}");
    assert!(!err.contains('\u{7}'), "{err}");

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
    let err = stderr(&out);
    assert!(!err.contains('\u{1b}'), "{err}");
    assert!(err.lines().all(|l| !l.starts_with("out")), "{err}");

    let readme = std::fs::read_to_string(package.join("README.md")).unwrap();
    assert!(readme.contains("lay\\nout\\u{1b}[2J"), "{readme}");
    assert!(!readme.contains('\u{1b}'), "{readme}");
    assert!(readme.lines().all(|l| !l.starts_with("out")), "{readme}");

    let report = std::fs::read_to_string(package.join("signature-verification.txt")).unwrap();
    assert!(report.contains("lay\\u{a}out\\u{1b}[2J"), "{report}");
    assert!(
        report.contains("ml\\u{2028}forged: yes\\u{9b}31m"),
        "{report}"
    );
    for c in ['\u{1b}', '\u{2028}', '\u{9b}'] {
        assert!(!report.contains(c), "{c:?} in {report}");
    }
    assert!(report.lines().all(|l| !l.starts_with("forged")), "{report}");
}

#[test]
fn log_lines_escape_line_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("advisories\nforged: line");
    std::fs::create_dir(&source).unwrap();
    let example = std::fs::read_dir(workspace().join("examples/advisories/pypi"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::copy(&example, source.join("record.json")).unwrap();
    let db = dir.path().join("advisories.db");
    let out = clearbox(&[
        "-v",
        "db",
        "import",
        source.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);
    let err = stderr(&out);
    assert!(err.contains("advisories\\u{a}forged: line"), "{err}");
    assert!(err.lines().all(|l| !l.starts_with("forged")), "{err}");
}
