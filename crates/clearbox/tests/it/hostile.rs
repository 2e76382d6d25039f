//! Hostile images through the command line: a clear error, exit 2, and no output left.

use std::io::Write;

use crate::support::{assert_exit, clearbox, stderr};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn sha256(data: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(data))
}

/// An OCI layout with one gzip layer whose tar names `../../etc/passwd`.
fn escaping_layout(dir: &std::path::Path) -> String {
    let mut header = tar::Header::new_gnu();
    header.as_old_mut().name[..16].copy_from_slice(b"../../etc/passwd");
    header.set_size(4);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    let mut tar = header.as_bytes().to_vec();
    tar.extend_from_slice(b"pwn\n");
    tar.resize(512 * 4, 0);
    let layer = gzip(&tar);
    let blob = |data: &[u8]| {
        let digest = sha256(data);
        std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        std::fs::write(dir.join("blobs/sha256").join(&digest), data).unwrap();
        format!("sha256:{digest}")
    };
    let layer_digest = blob(&layer);
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{}", sha256(&tar))]}
    }))
    .unwrap();
    let config_digest = blob(&config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": layer.len()}]
    }))
    .unwrap();
    let manifest_digest = blob(&manifest);
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    std::fs::write(
        dir.join("index.json"),
        serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest,
            "size": manifest.len(), "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}))
        .unwrap(),
    )
    .unwrap();
    layer_digest
}

#[test]
fn escaping_layer_fails_the_evidence_run_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    let layer = escaping_layout(&layout);
    let output = dir.path().join("evidence");
    let out = clearbox(&[
        "evidence",
        &format!("oci:{}:latest", layout.display()),
        "--output",
        output.to_str().unwrap(),
    ]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "layer {layer}: entry `../../etc/passwd` escapes the image root"
        )),
        "{err}"
    );
    assert!(!output.exists());
}

/// Runs the binary as the unprivileged user `nobody`, so that permissions apply even when the
/// tests run as root.
fn clearbox_as_nobody(args: &[&str]) -> std::process::Output {
    std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_clearbox"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

#[test]
fn unreadable_directory_is_listed_and_the_scan_goes_on() {
    let root = tempfile::Builder::new()
        .prefix("clearbox-rootfs-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(
        root.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let site = root
        .path()
        .join("usr/lib/python3/dist-packages/pkg-1.0.dist-info");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(site.join("METADATA"), "Name: pkg\nVersion: 1.0\n").unwrap();
    let private = root.path().join("home/private");
    std::fs::create_dir_all(&private).unwrap();
    for dir in [
        root.path().join("usr"),
        root.path().join("usr/lib"),
        root.path().join("usr/lib/python3"),
        root.path().join("usr/lib/python3/dist-packages"),
        site.clone(),
        root.path().join("home"),
    ] {
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
    }
    std::fs::set_permissions(
        site.join("METADATA"),
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    std::fs::set_permissions(
        &private,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    // The test binary must be reachable by `nobody`; skip where the checkout is not.
    let probe = clearbox_as_nobody(&["--version"]);
    if !probe.status.success() {
        let _: Option<()> =
            clearbox_testdata::skip("the clearbox binary is not executable by user nobody here");
        return;
    }
    let out = clearbox_as_nobody(&[
        "sbom",
        &format!("dir:{}", root.path().display()),
        "--format",
        "table",
    ]);
    assert_exit(&out, 0);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("pkg"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("/home/private"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("directory not read: Permission denied"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn table_cells_are_escaped_and_capped() {
    let root = tempfile::tempdir().unwrap();
    let long = "x".repeat(5000);
    let site = root.path().join("app/evil-1.0.dist-info");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(
        site.join("METADATA"),
        format!("Name: \u{1b}[2J{long}\nVersion: 1.0\n"),
    )
    .unwrap();
    let out = clearbox(&[
        "sbom",
        &format!("dir:{}", root.path().display()),
        "--format",
        "table",
    ]);
    assert_exit(&out, 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains('\u{1b}'),
        "the escape character reached the terminal"
    );
    let row = text.lines().nth(1).unwrap();
    assert!(row.starts_with("\\u{1b}[2Jxxx"), "{row}");
    assert!(
        row.chars().count() < 200,
        "{} characters",
        row.chars().count()
    );
}

#[test]
fn evidence_verify_rejects_links_and_required_file_removal() {
    let Some(image) = crate::support::example_image() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("evidence");
    let out = clearbox(&[
        "evidence",
        &crate::support::oci_ref(&image),
        "--output",
        package.to_str().unwrap(),
    ]);
    assert_exit(&out, 0);

    // A symlink to an endless file is not read.
    std::fs::remove_file(package.join("cis-compliance.md")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", package.join("cis-compliance.md")).unwrap();
    // A required file removed together with its manifest entry is still missed.
    std::fs::remove_file(package.join("critical-vulnerabilities.json")).unwrap();
    let manifest_path = package.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    manifest["files"]
        .as_object_mut()
        .unwrap()
        .remove("critical-vulnerabilities.json");
    std::fs::write(&manifest_path, serde_json::to_vec(&manifest).unwrap()).unwrap();

    let out = clearbox(&["evidence", "verify", package.to_str().unwrap()]);
    assert_exit(&out, 1);
    let text = crate::support::stdout(&out);
    assert!(
        text.contains("MODIFIED  cis-compliance.md (not a regular file)"),
        "{text}"
    );
    assert!(
        text.contains(
            "MISSING   critical-vulnerabilities.json (required, not listed in the manifest)"
        ),
        "{text}"
    );
    assert!(text.contains("manifest.json sha256: "), "{text}");
}

#[test]
fn explicit_missing_database_is_an_error_for_evidence_too() {
    let Some(image) = crate::support::example_image() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = clearbox(&[
        "evidence",
        &crate::support::oci_ref(&image),
        "--db",
        dir.path().join("typo.db").to_str().unwrap(),
        "--output",
        dir.path().join("evidence").to_str().unwrap(),
    ]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("no advisory database at"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("evidence").exists());
}

#[test]
fn working_directory_is_not_an_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_clearbox"))
        .current_dir(dir.path())
        .args(["evidence", "dir:.", "--output", ".", "--force"])
        .output()
        .unwrap();
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("is the working directory or contains it"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing is left behind"
    );
}
