//! The Go cataloger on real Go binaries from Debian packages installed by the setup script.

use clearbox_catalog::PackageKind;

use crate::support::{catalog_dir, place};

/// Debian's umoci 0.4.7 (bookworm) records `Built-Using: golang-1.19 (= 1.19.8-2)`.
#[test]
fn debian_umoci_binary() {
    let binary = std::path::Path::new("/usr/bin/umoci");
    if !binary.exists() {
        let _: Option<()> =
            clearbox_testdata::skip("/usr/bin/umoci is missing; run scripts/setup.sh");
        return;
    }
    let expected = built_using_go("umoci");
    let root = tempfile::tempdir().unwrap();
    place(root.path(), "usr/bin/umoci", binary);
    let catalog = catalog_dir(root.path());
    let stdlib = catalog
        .packages
        .iter()
        .find(|p| p.kind == PackageKind::GoStdlib)
        .unwrap();
    assert!(
        stdlib.version.starts_with(&expected),
        "{} vs {expected}",
        stdlib.version
    );
    assert_eq!(
        stdlib.purl.to_string(),
        format!("pkg:golang/stdlib@{}", stdlib.version)
    );
    assert_eq!(stdlib.locations[0].path, "/usr/bin/umoci");
    // Debian builds umoci outside module mode, so the binary lists no modules, only its
    // main package.
    assert_eq!(
        stdlib.properties["go:main-package"],
        "github.com/opencontainers/umoci/cmd/umoci"
    );
    assert_eq!(stdlib.properties["go:toolchain"], format!("go{expected}"));
    let modules = catalog
        .packages
        .iter()
        .filter(|p| p.kind == PackageKind::GoModule)
        .count();
    assert_eq!(modules, 0);
}

#[test]
fn non_go_executable_gives_no_go_package() {
    let root = tempfile::tempdir().unwrap();
    place(root.path(), "bin/true", std::path::Path::new("/bin/true"));
    let catalog = catalog_dir(root.path());
    // No package database owns the copy, so it is listed as an unowned file, and only that.
    let kinds: Vec<PackageKind> = catalog.packages.iter().map(|p| p.kind).collect();
    assert_eq!(kinds, [PackageKind::File], "{:?}", catalog.packages);
    assert!(catalog.unknowns.is_empty(), "{:?}", catalog.unknowns);
}

/// The Go toolchain version from the package's `Built-Using` field, such as `1.19.8`.
fn built_using_go(package: &str) -> String {
    let out = std::process::Command::new("dpkg-query")
        .args(["-W", "-f=${Built-Using}", package])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let start = text
        .find("golang-1.")
        .expect("Built-Using names a Go toolchain");
    let rest = &text[start..];
    let version = rest.split("(= ").nth(1).unwrap();
    version.split(['-', ')']).next().unwrap().to_owned()
}
