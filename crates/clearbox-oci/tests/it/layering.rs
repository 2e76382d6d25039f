//! Layers applied in order: whiteouts, opaque directories, overwrites, layer attribution, and
//! digest checks on every blob.

use clearbox_oci::{EntryKind, OciError};

use crate::support::{Layer, Store, contents, layout_ref, scan, write_layout};

#[test]
fn whiteouts_opaque_dirs_and_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let base = Layer::new()
        .dir("etc", 0o755)
        .file("etc/keep", b"base", 0o644)
        .file("etc/gone", b"base", 0o644)
        .dir("opt/app", 0o755)
        .file("opt/app/old", b"old", 0o644)
        .file("replace", b"v1", 0o644)
        .bytes();
    let top = Layer::new()
        .file("etc/.wh.gone", b"", 0o644)
        .file("opt/app/.wh..wh..opq", b"", 0o644)
        .file("opt/app/new", b"new", 0o644)
        .file("replace", b"v2", 0o600)
        .bytes();
    write_layout(dir.path(), &[(base, Store::Gzip), (top, Store::Zstd)]);
    let scan = scan(&layout_ref(dir.path())).unwrap();
    let files = contents(&scan);

    assert_eq!(files["etc/keep"], b"base");
    assert!(scan.tree.get("etc/gone").is_none());
    assert!(scan.tree.get("opt/app/old").is_none());
    assert_eq!(files["opt/app/new"], b"new");
    assert!(scan.tree.get("opt/app").unwrap().is_dir());
    assert_eq!(files["replace"], b"v2");
    let replaced = scan.tree.get("replace").unwrap();
    assert_eq!(replaced.mode, 0o600);
    assert_eq!(replaced.layer, 1);
    assert_eq!(scan.tree.get("etc/keep").unwrap().layer, 0);
    assert!(scan.tree.iter().all(|(p, _)| !p.contains(".wh.")));
}

#[test]
fn layer_summaries_record_both_digests() {
    let dir = tempfile::tempdir().unwrap();
    let tar = Layer::new().file("a", b"a", 0o644).bytes();
    write_layout(
        dir.path(),
        &[(tar.clone(), Store::Gzip), (tar.clone(), Store::Plain)],
    );
    let scan = scan(&layout_ref(dir.path())).unwrap();
    assert_eq!(scan.layers.len(), 2);
    assert_eq!(scan.layers[0].diff_id, clearbox_oci::Digest::of(&tar));
    assert_eq!(scan.layers[1].digest, clearbox_oci::Digest::of(&tar));
    assert_eq!(scan.layers[0].compression.name(), "gzip");
    assert_eq!(scan.layers[1].uncompressed_size, tar.len() as u64);
}

#[test]
fn tampered_layer_blob_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let tar = Layer::new().file("a", b"original", 0o644).bytes();
    write_layout(dir.path(), &[(tar.clone(), Store::Plain)]);
    let digest = clearbox_oci::Digest::of(&tar);
    let blob = dir.path().join("blobs/sha256").join(digest.hex());
    let mut bytes = std::fs::read(&blob).unwrap();
    let at = bytes.windows(8).position(|w| w == b"original").unwrap();
    bytes[at] = b'O';
    std::fs::write(&blob, &bytes).unwrap();

    let err = scan(&layout_ref(dir.path())).unwrap_err();
    assert!(matches!(err, OciError::DigestMismatch { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "digest mismatch for layer 0 (stored blob): expected {digest}, content hashes to {}",
            clearbox_oci::Digest::of(&bytes)
        )
    );
}

#[test]
fn tampered_manifest_is_rejected_before_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_layout(dir.path(), &[(Layer::new().bytes(), Store::Plain)]);
    let path = dir.path().join("blobs/sha256").join(manifest.hex());
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.push(b' ');
    std::fs::write(&path, &bytes).unwrap();
    let err = crate::support::open(&layout_ref(dir.path())).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "digest mismatch for manifest blob: expected {manifest}, content hashes to {}",
            clearbox_oci::Digest::of(&bytes)
        )
    );
}

#[test]
fn wrong_diff_id_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let tar = Layer::new().file("a", b"a", 0o644).bytes();
    let claimed = clearbox_oci::Digest::of(b"some other layer");
    crate::support::write_layout_with(
        dir.path(),
        &[(tar.clone(), Store::Gzip)],
        &serde_json::json!({}),
        Some(std::slice::from_ref(&claimed)),
    );
    let err = scan(&layout_ref(dir.path())).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "digest mismatch for layer 0 (uncompressed content, config diff_id): expected \
             {claimed}, content hashes to {}",
            clearbox_oci::Digest::of(&tar)
        )
    );
}

#[test]
fn entry_kinds_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let tar = Layer::new()
        .dir("d", 0o755)
        .symlink("l", "d")
        .raw_header(b"fifo", 0, b'6')
        .file("s", b"x", 0o4755)
        .bytes();
    write_layout(dir.path(), &[(tar, Store::Plain)]);
    let scan = scan(&layout_ref(dir.path())).unwrap();
    assert_eq!(scan.tree.get("d").unwrap().kind, EntryKind::Directory);
    assert_eq!(scan.tree.get("l").unwrap().kind, EntryKind::Symlink);
    assert_eq!(scan.tree.get("fifo").unwrap().kind, EntryKind::Fifo);
    assert_eq!(scan.tree.get("s").unwrap().mode, 0o4755);
}

#[test]
fn config_without_diff_ids_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let tar = Layer::new().file("a", b"a", 0o644).bytes();
    crate::support::write_layout_with(
        dir.path(),
        &[(tar, Store::Gzip)],
        &serde_json::json!({}),
        Some(&[]),
    );
    let err = crate::support::open(&layout_ref(dir.path()))
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with("lists 1 layers but its config lists 0 diff_ids"),
        "{err}"
    );
}
