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
        "--db",
        dir.path().join("none.db").to_str().unwrap(),
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
