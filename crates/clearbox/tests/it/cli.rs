//! Command-line contract: the help lists what exists, usage errors exit 2, and version
//! comparison answers like `dpkg --compare-versions`.

use crate::support::{assert_exit, clearbox, clearbox_with_stdin, stderr, stdout};

#[test]
fn help_lists_exactly_the_commands_that_exist() {
    let out = clearbox(&["--help"]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    let commands: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        // Continuation lines of a wrapped description are indented further.
        .filter(|l| !l[2..].starts_with(' '))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        commands,
        [
            "evidence",
            "sbom",
            "scan",
            "db",
            "version",
            "trust",
            "key",
            "sign",
            "verify",
            "attest",
            "verify-attestation",
            "provenance",
            "build",
            "rebuild",
            "attach",
            "download",
            "check",
            "policy",
            "webhook",
            "report",
            "annotate",
            "model-attest",
            "sign-manifest",
            "verify-manifest",
            "audit",
            "rescan",
            "help"
        ]
    );
}

#[test]
fn invalid_reference_is_a_usage_error_with_a_hint() {
    let out = clearbox(&["sbom", "docker-daemon:nginx"]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(err.starts_with("error: invalid image reference `docker-daemon:nginx`: the `docker-daemon` transport is not supported"), "{err}");
    assert!(err.contains("\nhint: "), "{err}");
}

#[test]
fn unreachable_registry_is_named_in_the_error() {
    let out = clearbox(&[
        "sbom",
        "docker://127.0.0.1:1/app:latest",
        "--insecure-registry",
        "127.0.0.1:1",
    ]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("failed to get manifest `app:latest` at registry `127.0.0.1:1`"),
        "{err}"
    );
    assert!(err.contains("Connection refused"), "{err}");
}

#[test]
fn unknown_flag_exits_2() {
    assert_exit(&clearbox(&["sbom", "--no-such-flag"]), 2);
    assert_exit(&clearbox(&["evidence"]), 2);
}

#[test]
fn version_compare_orders_like_dpkg() {
    for (scheme, a, b, expected) in [
        ("deb", "2.36-9+deb12u3", "2.36-9+deb12u14", "<"),
        ("deb", "1:1.0", "2.0", ">"),
        ("pep440", "1.0.0", "1.0", "="),
        ("pep440", "2.0rc1", "2.0", "<"),
        ("go", "v1.19.8", "1.19.10", "<"),
        ("semver", "1.0.0-alpha", "1.0.0", "<"),
        ("rubygems", "1.0.a10", "1.0.a.9", ">"),
        ("nuget", "1.0.0-BETA", "1.0.0.0-beta+build", "="),
        ("packagist", "v2.0-rc1", "2.0.0-beta3", ">"),
    ] {
        let out = clearbox(&["version", "compare", "--scheme", scheme, a, b]);
        assert_exit(&out, 0);
        assert_eq!(stdout(&out).trim(), expected, "{scheme} {a} {b}");
    }
}

#[test]
fn version_compare_rejects_invalid_versions() {
    let out = clearbox(&[
        "version",
        "compare",
        "--scheme",
        "pep440",
        "1.0",
        "not a version",
    ]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("invalid pep440 version `not a version`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn version_compare_batch() {
    let out = clearbox_with_stdin(
        &["version", "compare", "--scheme", "deb", "--batch"],
        Some("1.0\t1.0-1\n1.0~rc1\t1.0\nbad version\t1\n"),
    );
    assert_exit(&out, 2);
    let lines: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(lines[0], "<");
    assert_eq!(lines[1], "<");
    assert!(
        lines[2].starts_with("error: invalid deb version `bad version`"),
        "{}",
        lines[2]
    );
    assert!(stderr(&out).contains("1 lines had an invalid version"));
}

#[test]
fn version_compare_batch_answers_every_line_in_order() {
    // An empty or blank line gets an error line of its own, so later answers stay aligned.
    let out = clearbox_with_stdin(
        &["version", "compare", "--scheme", "rpm", "--batch"],
        Some("1\t2\n\t\n\n3\t2\n"),
    );
    assert_exit(&out, 2);
    let lines: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(
        lines,
        ["<", "error: line 2 is empty", "error: line 3 is empty", ">"]
    );
    assert!(stderr(&out).contains("2 lines had an invalid version"));
}
