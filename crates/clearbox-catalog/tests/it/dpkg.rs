//! The dpkg cataloger on distroless `status.d` files from the corpus.

use clearbox_catalog::PackageKind;

use crate::support::{catalog_dir, corpus, write};

#[test]
fn distroless_status_d_with_copyright() {
    let Some(corpus) = corpus() else { return };
    let root = corpus.join("pkgdb/syft/debian/image-distroless-deb");
    let catalog = catalog_dir(&root);
    let debs: Vec<_> = catalog
        .packages
        .iter()
        .filter(|p| p.kind == PackageKind::Deb)
        .collect();
    assert_eq!(debs.len(), 1, "{debs:?}");
    let sqlite = debs[0];
    assert_eq!(sqlite.name, "libsqlite3-0");
    assert_eq!(sqlite.version, "3.34.1-3");
    assert_eq!(sqlite.arch.as_deref(), Some("arm64"));
    let source = sqlite.source.as_ref().unwrap();
    assert_eq!(
        (source.name.as_str(), source.version.as_str()),
        ("sqlite3", "3.34.1-3")
    );
    assert_eq!(
        sqlite.purl.to_string(),
        "pkg:deb/debian/libsqlite3-0@3.34.1-3?arch=arm64&upstream=sqlite3"
    );
    assert_eq!(
        sqlite.locations[0].path,
        "/var/lib/dpkg/status.d/libsqlite3-0"
    );
    assert_eq!(sqlite.locations[0].layer, None);
    assert!(
        !sqlite.licenses.is_empty(),
        "the copyright file declares licences"
    );
}

#[test]
fn os_release_symlink_to_host_path_reads_the_rootfs_copy() {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        "usr/lib/os-release",
        "ID=debian\nVERSION_ID=\"12\"\n",
    );
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    // An absolute link: followed naively it would read the machine's own /etc/os-release.
    std::os::unix::fs::symlink("/usr/lib/os-release", root.path().join("etc/os-release")).unwrap();
    write(
        root.path(),
        "var/lib/dpkg/status",
        "Package: zlib1g\nStatus: install ok installed\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\nArchitecture: amd64\n",
    );
    let catalog = catalog_dir(root.path());
    let distro = catalog.distro.unwrap();
    assert_eq!(distro.id, "debian");
    assert_eq!(distro.version_id.as_deref(), Some("12"));
    assert_eq!(
        catalog.packages[0].purl.to_string(),
        "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12&upstream=zlib"
    );
}

#[test]
fn os_release_link_out_of_rootfs_finds_nothing() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::os::unix::fs::symlink("/etc/debian_version", root.path().join("etc/os-release")).unwrap();
    let catalog = catalog_dir(root.path());
    assert_eq!(catalog.distro, None);
}
