//! Go binaries after the changes that distributions and size-conscious builds make: stripped
//! of symbols, and stripped of section headers altogether. The inputs are copies of Debian's
//! `umoci` (installed by `scripts/setup.sh`), changed with binutils' `strip` or by clearing
//! the ELF header's section-table fields.

use std::path::Path;
use std::process::Command;

use clearbox_catalog::{Catalog, PackageKind};

use crate::support::catalog_dir;

fn umoci() -> Option<&'static Path> {
    let binary = Path::new("/usr/bin/umoci");
    if binary.exists() {
        Some(binary)
    } else {
        clearbox_testdata::skip("/usr/bin/umoci is missing; run scripts/setup.sh")
    }
}

fn stdlib_main_package(catalog: &Catalog) -> Option<&str> {
    catalog
        .packages
        .iter()
        .find(|p| p.kind == PackageKind::GoStdlib)
        .and_then(|p| p.properties.get("go:main-package"))
        .map(String::as_str)
}

/// `strip --strip-all` keeps `.go.buildinfo`, an allocated data section, so `readelf` still
/// lists it and the build information is read from it.
#[test]
fn stripped_go_binary() {
    let Some(umoci) = umoci() else { return };
    let root = tempfile::tempdir().unwrap();
    let copy = root.path().join("usr/bin/umoci");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    let status = Command::new("strip")
        .arg("--strip-all")
        .arg("-o")
        .arg(&copy)
        .arg(umoci)
        .status()
        .unwrap();
    assert!(status.success());
    let sections = Command::new("readelf")
        .args(["-S", "-W"])
        .arg(&copy)
        .output()
        .unwrap();
    let sections = String::from_utf8_lossy(&sections.stdout);
    assert!(sections.contains(".go.buildinfo"));
    assert!(!sections.contains(".symtab"));
    let catalog = catalog_dir(root.path());
    assert_eq!(
        stdlib_main_package(&catalog),
        Some("github.com/opencontainers/umoci/cmd/umoci")
    );
}

/// With the section header table cleared from the ELF header (as `sstrip` and some packers
/// leave binaries), the build information is found at the start of the writable segment.
#[test]
fn go_binary_without_section_headers() {
    let Some(umoci) = umoci() else { return };
    let mut bytes = std::fs::read(umoci).unwrap();
    assert_eq!(&bytes[..5], b"\x7fELF\x02", "a 64-bit ELF file");
    // ELF64 header: e_shoff at 0x28 (8 bytes), e_shnum at 0x3c and e_shstrndx at 0x3e.
    bytes[0x28..0x30].fill(0);
    bytes[0x3c..0x40].fill(0);
    let root = tempfile::tempdir().unwrap();
    let copy = root.path().join("usr/bin/umoci");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::write(&copy, &bytes).unwrap();
    std::fs::set_permissions(&copy, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let sections = Command::new("readelf")
        .args(["-S", "-W"])
        .arg(&copy)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&sections.stdout).contains("no sections"));
    let catalog = catalog_dir(root.path());
    assert!(catalog.unknowns.is_empty(), "{:?}", catalog.unknowns);
    assert_eq!(
        stdlib_main_package(&catalog),
        Some("github.com/opencontainers/umoci/cmd/umoci")
    );
}
