//! Hostile layers: each must be rejected with its exact error, or read without escaping the
//! root or exhausting memory.

use std::io::{Read, Write};

use clearbox_oci::{Digest, ReadOptions};

use crate::support::{Layer, Store, layout_ref, scan, scan_with, write_layout};

fn layer_digest(tar: &[u8], store: Store) -> Digest {
    Digest::of(&crate::support::compress(tar, store))
}

#[test]
fn dot_dot_entry_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let tar = Layer::new()
        .raw_header(b"../../etc/passwd", 0, b'0')
        .bytes();
    write_layout(dir.path(), &[(tar.clone(), Store::Gzip)]);
    let err = scan(&layout_ref(dir.path())).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "layer {}: entry `../../etc/passwd` escapes the image root",
            layer_digest(&tar, Store::Gzip)
        )
    );
}

#[test]
fn dot_dot_inside_path_that_stays_in_root_is_cleaned() {
    let dir = tempfile::tempdir().unwrap();
    let tar = Layer::new()
        .raw_header(b"usr/../etc/hosts", 0, b'0')
        .bytes();
    write_layout(dir.path(), &[(tar, Store::Plain)]);
    let scan = scan(&layout_ref(dir.path())).unwrap();
    assert!(scan.tree.get("etc/hosts").is_some());
}

#[test]
fn symlinks_pointing_outside_stay_inside_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let tar = Layer::new()
        .dir("etc", 0o755)
        .file("etc/os-release", b"ID=inside\n", 0o644)
        .symlink("usr/lib/os-release", "/../../../../../etc/os-release")
        .symlink("escape", "../../../../../../tmp")
        .file("escape/planted", b"x", 0o644)
        .bytes();
    write_layout(dir.path(), &[(tar, Store::Gzip)]);
    let scan = scan(&layout_ref(dir.path())).unwrap();

    let (resolved, _) = scan.tree.resolve("usr/lib/os-release").unwrap();
    assert_eq!(resolved, "etc/os-release");
    // The entry written through the symlink lands at the symlink's target inside the root.
    assert!(scan.tree.get("tmp/planted").is_some());
    assert!(scan.tree.get("escape/planted").is_none());
    assert_eq!(crate::support::contents(&scan)["tmp/planted"], b"x");
}

#[test]
fn hard_link_to_missing_target_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let tar = Layer::new()
        .hardlink("usr/bin/tool", "usr/bin/missing")
        .bytes();
    write_layout(dir.path(), &[(tar.clone(), Store::Gzip)]);
    let err = scan(&layout_ref(dir.path())).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "layer {}: hard link `usr/bin/tool` points to `usr/bin/missing`, which no earlier \
             entry or lower layer contains",
            layer_digest(&tar, Store::Gzip)
        )
    );
}

#[test]
fn hard_link_to_lower_layer_file_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let lower = Layer::new().file("bin/a", b"binary", 0o755).bytes();
    let upper = Layer::new().hardlink("bin/b", "bin/a").bytes();
    write_layout(dir.path(), &[(lower, Store::Gzip), (upper, Store::Gzip)]);
    let scan = scan(&layout_ref(dir.path())).unwrap();
    assert_eq!(crate::support::contents(&scan)["bin/b"], b"binary");
}

#[test]
fn ten_gigabyte_entry_without_its_data_is_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let tar = Layer::new()
        .raw_header(b"usr/bin/big", 10 << 30, b'0')
        .bytes();
    // The header claims 10 GiB; only one block of data follows.
    let mut tar = tar;
    tar.extend_from_slice(&[0x7f; 512]);
    write_layout(dir.path(), &[(tar.clone(), Store::Gzip)]);
    let err = scan(&layout_ref(dir.path())).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "layer {}: unexpected end of data in entry `usr/bin/big` (header declares 10737418240 bytes)",
            layer_digest(&tar, Store::Gzip)
        )
    );
}

#[test]
fn ten_gigabyte_sparse_entry_is_recorded_not_expanded() {
    let dir = tempfile::tempdir().unwrap();
    // An old-GNU sparse entry: 10 GiB logical size, one 512-byte data block, and a map with
    // a single 512-byte region at offset 0.
    let mut h = tar::Header::new_gnu();
    h.as_old_mut().name[..6].copy_from_slice(b"sparse");
    h.set_mode(0o644);
    h.set_size(512);
    h.as_old_mut().linkflag[0] = b'S';
    {
        let gnu = h.as_gnu_mut().unwrap();
        gnu.sparse[0].offset.copy_from_slice(b"00000000000\0");
        gnu.sparse[0].numbytes.copy_from_slice(b"00000001000\0");
        gnu.realsize.copy_from_slice(b"120000000000");
        gnu.isextended[0] = 0;
    }
    h.set_cksum();
    let mut tar = h.as_bytes().to_vec();
    tar.extend_from_slice(&[1u8; 512]);
    tar.extend_from_slice(&[0u8; 1024]);
    write_layout(dir.path(), &[(tar, Store::Gzip)]);

    let started = std::time::Instant::now();
    let scan = scan(&layout_ref(dir.path())).unwrap();
    let node = scan.tree.get("sparse").unwrap();
    assert_eq!(node.size, 10 << 30);
    assert!(node.sparse);
    // Sparse entries are never handed to inspectors, so nothing of the 10 GiB is produced.
    assert!(!crate::support::contents(&scan).contains_key("sparse"));
    assert!(
        started.elapsed().as_secs() < 60,
        "reading must not expand the holes"
    );
}

#[test]
fn gzip_bomb_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    // A 96 MiB file of zeros compresses about a thousandfold.
    let mut header = tar::Header::new_gnu();
    header.set_size(96 << 20);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    let mut builder = tar::Builder::new(Vec::new());
    builder
        .append_data(&mut header, "zeros", std::io::repeat(0).take(96 << 20))
        .unwrap();
    let tar = builder.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&tar).unwrap();
    let blob = gz.finish().unwrap();
    assert!(
        blob.len() < (96 << 20) / 256,
        "fixture must compress past the ratio"
    );
    write_layout(dir.path(), &[(tar, Store::Gzip)]);

    let err = match scan(&layout_ref(dir.path())) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("the gzip bomb was accepted"),
    };
    assert!(
        err.contains("decompressed data grew past 256 times the")
            && err.ends_with(
                "compressed bytes read so far (a decompression bomb?); raise --max-layer-ratio if the layer is genuine"
            ),
        "{err}"
    );

    // The same layer passes when the limit is raised.
    let relaxed = ReadOptions {
        max_expansion_ratio: 100_000,
        ..ReadOptions::default()
    };
    let scan = scan_with(&layout_ref(dir.path()), &relaxed).unwrap();
    assert_eq!(scan.tree.get("zeros").unwrap().size, 96 << 20);
}

#[test]
fn oversized_long_name_header_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let tar = Layer::new()
        .raw_header(b"././@LongLink", 8 << 30, b'L')
        .bytes();
    write_layout(dir.path(), &[(tar.clone(), Store::Gzip)]);
    let err = scan(&layout_ref(dir.path())).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "layer {}: extension header of 8589934592 bytes exceeds the limit of 1048576 bytes",
            layer_digest(&tar, Store::Gzip)
        )
    );
}

#[test]
fn too_many_entries_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut layer = Layer::new();
    for i in 0..20 {
        layer = layer.file(&format!("f{i}"), b"", 0o644);
    }
    let tar = layer.bytes();
    write_layout(dir.path(), &[(tar, Store::Plain)]);
    let options = ReadOptions {
        max_entries: 10,
        ..ReadOptions::default()
    };
    let err = scan_with(&layout_ref(dir.path()), &options).unwrap_err();
    assert!(
        err.to_string().ends_with("more than 10 filesystem entries"),
        "{err}"
    );
}

#[test]
fn hard_link_escaping_the_root_names_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let tar = Layer::new()
        .hardlink("usr/bin/hl2", "../../../../etc/shadow")
        .bytes();
    write_layout(dir.path(), &[(tar.clone(), Store::Gzip)]);
    let err = scan(&layout_ref(dir.path())).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "layer {}: hard link `usr/bin/hl2` points to `../../../../etc/shadow`, which escapes the image root",
            layer_digest(&tar, Store::Gzip)
        )
    );
}
