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

#[test]
fn single_platform_image_other_platform() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    escaping_layout(&layout);
    let index = crate::support::read_json(&layout.join("index.json"));
    let manifest = index["manifests"][0]["digest"].as_str().unwrap();
    let reference = format!("oci:{}:latest", layout.display());

    let out = clearbox(&["sbom", &reference, "--platform", "linux/arm64"]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "manifest {manifest} is a single-platform image for `linux/amd64` (from its config), \
             not the requested `linux/arm64`; request `linux/amd64` or no platform"
        )),
        "{err}"
    );
}

#[test]
fn untagged_two_image_layout_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    escaping_layout(&layout);

    // A second image: another manifest under another tag.
    let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;
    let second = sha256(manifest);
    std::fs::write(layout.join("blobs/sha256").join(&second), manifest).unwrap();
    let mut index = crate::support::read_json(&layout.join("index.json"));
    let first = index["manifests"][0]["digest"].as_str().unwrap().to_owned();
    index["manifests"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{second}"),
            "size": manifest.len(),
            "annotations": {"org.opencontainers.image.ref.name": "other"},
        }));
    std::fs::write(
        layout.join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();

    let output = dir.path().join("evidence");
    let out = clearbox(&[
        "evidence",
        &format!("oci:{}", layout.display()),
        "--output",
        output.to_str().unwrap(),
    ]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "the layout contains 2 images: `latest` ({first}), `other` (sha256:{second}); add \
             `:TAG` or `:@DIGEST` to the reference to pick one"
        )),
        "{err}"
    );
    assert!(!output.exists());
}

#[test]
fn fifo_key_and_oversized_sbom_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    escaping_layout(&layout);
    let reference = format!("oci:{}:latest", layout.display());

    // A FIFO as the public key: an error naming it, not a wait for a writer.
    let fifo = dir.path().join("cosign.pub");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let out = clearbox(&["verify", &reference, "--key", fifo.to_str().unwrap()]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("it is a FIFO, not a regular file; pass a regular file"),
        "{err}"
    );

    // An SBOM one byte over 64 MiB, sparse so the test writes nothing.
    let sbom = dir.path().join("sbom.spdx.json");
    std::fs::File::create(&sbom)
        .unwrap()
        .set_len((64 << 20) + 1)
        .unwrap();
    let out = clearbox(&[
        "attach",
        "sbom",
        &reference,
        "--sbom",
        sbom.to_str().unwrap(),
    ]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains(&format!("failed to read the SBOM `{}`", sbom.display())),
        "{err}"
    );
    assert!(
        err.contains("it is 67108865 bytes, more than the limit of 67108864 bytes (64 MiB)"),
        "{err}"
    );
}
