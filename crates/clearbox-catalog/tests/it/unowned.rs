//! Executables that no package accounts for, with dpkg's file lists as the ownership
//! evidence, and the example image's own unowned executables.

use std::path::Path;

use clearbox_catalog::{Catalog, Fact, PackageKind, catalog_image};
use clearbox_oci::{Image, ImageReference, NoProgress, ReadOptions};

use crate::support::{catalog_dir, place, write};

fn unowned(catalog: &Catalog) -> Vec<&str> {
    catalog
        .packages
        .iter()
        .filter(|p| p.kind == PackageKind::File)
        .map(|p| p.locations[0].path.as_str())
        .collect()
}

/// Distroless `status.d/*.md5sums` and classic `info/*.list` files own what they name; the
/// one executable neither names is listed with its digest, size and mode.
#[test]
fn dpkg_lists_own_their_files() {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        "var/lib/dpkg/status.d/coreutils.md5sums",
        "d41d8cd98f00b204e9800998ecf8427e  usr/bin/true\n",
    );
    write(
        root.path(),
        "var/lib/dpkg/info/bash.list",
        "/.\n/usr\n/usr/bin\n/usr/bin/bash\n",
    );
    place(root.path(), "usr/bin/true", Path::new("/bin/true"));
    place(root.path(), "usr/bin/bash", Path::new("/bin/true"));
    place(root.path(), "opt/app/server", Path::new("/bin/true"));
    // Not executable, and not ELF: neither is looked at.
    write(root.path(), "opt/app/run.sh", "#!/bin/sh\n");
    let catalog = catalog_dir(root.path());
    assert_eq!(unowned(&catalog), ["/opt/app/server"]);
    let server = catalog
        .packages
        .iter()
        .find(|p| p.kind == PackageKind::File)
        .unwrap();
    let digest = sha256_of(Path::new("/bin/true"));
    assert_eq!(server.hashes[0].value, digest);
    assert_eq!(server.name, "server");
    assert_eq!(server.version, "");
    assert_eq!(
        server.purl.to_string(),
        format!("pkg:generic/server?checksum=sha256:{digest}")
    );
    assert_eq!(
        server.properties["file:size"],
        std::fs::metadata("/bin/true").unwrap().len().to_string()
    );
    assert_eq!(server.properties["file:mode"], "755");
    assert_eq!(server.found_by, "elf-unowned-file-cataloger");
}

/// On a merged-`/usr` system `/bin` is a symlink to `usr/bin`; a list naming `/bin/ls` owns
/// the file at `/usr/bin/ls`.
#[test]
fn ownership_follows_symlinks() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("usr/bin")).unwrap();
    std::os::unix::fs::symlink("usr/bin", root.path().join("bin")).unwrap();
    write(root.path(), "var/lib/dpkg/info/coreutils.list", "/bin/ls\n");
    place(root.path(), "usr/bin/ls", Path::new("/bin/true"));
    let catalog = catalog_dir(root.path());
    assert!(unowned(&catalog).is_empty(), "{:?}", catalog.packages);
}

/// Two copies of one unowned binary are one package found twice.
#[test]
fn identical_copies_merge() {
    let root = tempfile::tempdir().unwrap();
    place(root.path(), "opt/a/tool", Path::new("/bin/true"));
    place(root.path(), "opt/b/tool", Path::new("/bin/true"));
    let catalog = catalog_dir(root.path());
    let files: Vec<_> = catalog
        .packages
        .iter()
        .filter(|p| p.kind == PackageKind::File)
        .collect();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].locations.len(), 2);
}

/// The example image is a distroless Debian image whose dpkg `status.d/*.md5sums` files own
/// the Debian executables and whose wheels' `RECORD` files own their extension modules. Of its
/// 51 executable ELF files (the dynamic loader, `libc.so.6`, `python3.11`, `age` and
/// `age-keygen` from Debian packages, and 46 extension modules and bundled libraries from
/// wheels), none is unowned.
#[test]
fn example_image_has_no_unowned_executables() {
    let Some(layout) = clearbox_testdata::example_image() else {
        return;
    };
    let reference: ImageReference = format!("oci:{}:latest", layout.display()).parse().unwrap();
    let image = Image::open(&reference, &ReadOptions::default()).unwrap();
    let contents = catalog_image(&image, &ReadOptions::default(), &NoProgress).unwrap();
    let executables = contents
        .scan
        .facts()
        .filter(|(_, _, fact)| matches!(fact, Fact::Elf(_)))
        .count();
    assert_eq!(executables, 51);
    assert!(
        unowned(&contents.catalog).is_empty(),
        "{:?}",
        unowned(&contents.catalog)
    );
}

fn sha256_of(path: &Path) -> String {
    let output = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8(output.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}
