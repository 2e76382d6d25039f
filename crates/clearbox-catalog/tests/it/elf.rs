//! Go binaries after the changes that distributions and size-conscious builds make: stripped
//! of symbols, and stripped of section headers altogether. The inputs are copies of Debian's
//! `umoci` (installed by `scripts/setup.sh`), a position-dependent executable, and the binaries
//! of Debian's `age` package (cached by `scripts/build-example-image.sh`), which are
//! position-independent executables (PIE). They are changed with binutils' `strip` or by
//! clearing the ELF header's section-table fields.

use std::path::{Path, PathBuf};
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

/// Writes `binary` to `root/relative` with its section header table cleared from the ELF
/// header, as `sstrip` and some packers leave binaries, and checks that `readelf` finds no
/// sections in it.
fn write_without_section_headers(binary: &Path, root: &Path, relative: &str) {
    let mut bytes = std::fs::read(binary).unwrap();
    assert_eq!(&bytes[..5], b"\x7fELF\x02", "a 64-bit ELF file");
    // ELF64 header: e_shoff at 0x28 (8 bytes), e_shnum at 0x3c and e_shstrndx at 0x3e.
    bytes[0x28..0x30].fill(0);
    bytes[0x3c..0x40].fill(0);
    let copy = root.join(relative);
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::write(&copy, &bytes).unwrap();
    std::fs::set_permissions(&copy, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let sections = Command::new("readelf")
        .args(["-S", "-W"])
        .arg(&copy)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&sections.stdout).contains("no sections"));
}

/// Without section headers, the build information is found by searching the writable segment.
#[test]
fn go_binary_without_section_headers() {
    let Some(umoci) = umoci() else { return };
    let root = tempfile::tempdir().unwrap();
    write_without_section_headers(umoci, root.path(), "usr/bin/umoci");
    let catalog = catalog_dir(root.path());
    assert!(catalog.unknowns.is_empty(), "{:?}", catalog.unknowns);
    assert_eq!(
        stdlib_main_package(&catalog),
        Some("github.com/opencontainers/umoci/cmd/umoci")
    );
}

/// Debian bookworm's `age` package from the download cache of `scripts/build-example-image.sh`
/// (`$CLEARBOX_CACHE`, default `~/.cache/clearbox/example-image`).
fn cached_age_deb() -> Option<PathBuf> {
    let cache = std::env::var_os("CLEARBOX_CACHE").map_or_else(
        || {
            let home = std::env::var_os("HOME").unwrap_or_default();
            Path::new(&home).join(".cache/clearbox/example-image")
        },
        PathBuf::from,
    );
    let debs = cache.join("debs");
    let found = std::fs::read_dir(&debs).ok().and_then(|entries| {
        entries.filter_map(Result::ok).map(|e| e.path()).find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("age_") && n.ends_with("_amd64.deb"))
        })
    });
    found.or_else(|| {
        clearbox_testdata::skip(&format!(
            "no age_*_amd64.deb in `{}`; run scripts/build-example-image.sh or set CLEARBOX_CACHE",
            debs.display()
        ))
    })
}

/// Unpacks a `.deb` file's data into `root` with `dpkg-deb -x`.
fn unpack_deb(deb: &Path, root: &Path) {
    let status = Command::new("dpkg-deb")
        .arg("-x")
        .arg(deb)
        .arg(root)
        .status()
        .unwrap();
    assert!(status.success());
}

/// The Go toolchain version a `.deb` file's `Built-Using` field names, such as `1.19.8`.
fn deb_built_using_go(deb: &Path) -> String {
    let out = Command::new("dpkg-deb")
        .arg("-f")
        .arg(deb)
        .arg("Built-Using")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let start = text
        .find("golang-1.")
        .expect("Built-Using names a Go toolchain");
    let version = text[start..].split("(= ").nth(1).unwrap();
    version.split(['-', ')']).next().unwrap().to_owned()
}

/// ELF `e_type` 3 (`ET_DYN`) with a program interpreter is a position-independent executable.
fn is_pie(binary: &Path) -> bool {
    let bytes = std::fs::read(binary).unwrap();
    let header = Command::new("readelf")
        .arg("-l")
        .arg(binary)
        .output()
        .unwrap();
    u16::from_le_bytes([bytes[16], bytes[17]]) == 3
        && String::from_utf8_lossy(&header.stdout).contains("INTERP")
}

/// Debian builds `age` as stripped PIE binaries: both are read, and no file is left unowned.
#[test]
fn stripped_pie_go_binaries() {
    let Some(deb) = cached_age_deb() else { return };
    let root = tempfile::tempdir().unwrap();
    unpack_deb(&deb, root.path());
    for name in ["age", "age-keygen"] {
        let binary = root.path().join("usr/bin").join(name);
        assert!(
            is_pie(&binary),
            "{name} is a position-independent executable"
        );
        let sections = Command::new("readelf")
            .args(["-S", "-W"])
            .arg(&binary)
            .output()
            .unwrap();
        let sections = String::from_utf8_lossy(&sections.stdout);
        assert!(sections.contains(".go.buildinfo"), "{name}");
        assert!(!sections.contains(".symtab"), "{name} is stripped");
    }

    let catalog = catalog_dir(root.path());
    assert!(catalog.unknowns.is_empty(), "{:?}", catalog.unknowns);
    let kinds: Vec<PackageKind> = catalog.packages.iter().map(|p| p.kind).collect();
    assert_eq!(kinds, [PackageKind::GoStdlib], "{:?}", catalog.packages);

    let stdlib = &catalog.packages[0];
    assert_eq!(stdlib.version, deb_built_using_go(&deb));
    let mut paths: Vec<&str> = stdlib.locations.iter().map(|l| l.path.as_str()).collect();
    paths.sort_unstable();
    assert_eq!(paths, ["/usr/bin/age", "/usr/bin/age-keygen"]);
    assert_eq!(
        stdlib_main_package(&catalog),
        Some("filippo.io/age/cmd/age")
    );
}

/// A PIE linked by the system linker puts `.data.rel.ro`, `.got` and `.data` before
/// `.go.buildinfo` in the writable segment, over a megabyte in `age`, so without section
/// headers the whole segment is searched.
#[test]
fn pie_go_binary_without_section_headers() {
    let Some(deb) = cached_age_deb() else { return };
    let unpacked = tempfile::tempdir().unwrap();
    unpack_deb(&deb, unpacked.path());
    let root = tempfile::tempdir().unwrap();
    write_without_section_headers(
        &unpacked.path().join("usr/bin/age"),
        root.path(),
        "usr/bin/age",
    );
    let catalog = catalog_dir(root.path());
    assert!(catalog.unknowns.is_empty(), "{:?}", catalog.unknowns);
    assert_eq!(
        stdlib_main_package(&catalog),
        Some("filippo.io/age/cmd/age")
    );
    let stdlib = catalog
        .packages
        .iter()
        .find(|p| p.kind == PackageKind::GoStdlib)
        .unwrap();
    assert_eq!(stdlib.version, deb_built_using_go(&deb));
    assert_eq!(
        stdlib.properties["go:toolchain"],
        format!("go{}", stdlib.version)
    );
}
