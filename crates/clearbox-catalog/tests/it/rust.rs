//! The Rust cataloger on real ELF binaries carrying a `cargo auditable` section.
//!
//! `cargo auditable` is not installed here, so each test binary is made the way it stores its
//! data: a copy of the machine's `/bin/true` (a real ELF executable) with a `.dep-v0` section
//! holding zlib-compressed dependency JSON, added with binutils'
//! `objcopy --add-section .dep-v0=FILE --set-section-flags .dep-v0=noload,readonly`.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use clearbox_catalog::{Catalog, PackageKind};
use flate2::Compression;
use flate2::write::ZlibEncoder;

use crate::support::catalog_dir;

/// Writes `/bin/true` with a `.dep-v0` section of `section` to `to`; `None` when binutils is
/// missing.
fn auditable_binary(section: &[u8], to: &Path) -> Option<()> {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("dep-v0");
    std::fs::write(&data, section).unwrap();
    let status = Command::new("objcopy")
        .arg("--add-section")
        .arg(format!(".dep-v0={}", data.display()))
        .args(["--set-section-flags", ".dep-v0=noload,readonly"])
        .arg("/bin/true")
        .arg(to)
        .status();
    match status {
        Ok(status) if status.success() => Some(()),
        _ => clearbox_testdata::skip("objcopy (binutils) is needed to build the test binary"),
    }
}

fn compress(json: &str) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(json.as_bytes()).unwrap();
    encoder.finish().unwrap()
}

fn catalog_binary(section: &[u8]) -> Option<Catalog> {
    let root = tempfile::tempdir().unwrap();
    let bin = root.path().join("usr/local/bin");
    std::fs::create_dir_all(&bin).unwrap();
    auditable_binary(section, &bin.join("app"))?;
    Some(catalog_dir(root.path()))
}

const AUDIT_JSON: &str = r#"{"packages":[
    {"name":"app","version":"0.3.1","source":"local","dependencies":[1,2,3],"root":true},
    {"name":"serde","version":"1.0.210","source":"crates.io","dependencies":[2]},
    {"name":"serde_derive","version":"1.0.210","source":"crates.io","kind":"build"},
    {"name":"private-dep","version":"2.0.0","source":"git"}
]}"#;

#[test]
fn auditable_binary_lists_its_crates() {
    let Some(catalog) = catalog_binary(&compress(AUDIT_JSON)) else {
        return;
    };
    assert!(catalog.unknowns.is_empty(), "{:?}", catalog.unknowns);
    let mut crates: Vec<(String, String, String)> = catalog
        .packages
        .iter()
        .filter(|p| p.kind == PackageKind::RustCrate)
        .map(|p| (p.name.clone(), p.version.clone(), p.purl.to_string()))
        .collect();
    crates.sort();
    assert_eq!(
        crates,
        [
            ("app".into(), "0.3.1".into(), "pkg:cargo/app@0.3.1".into()),
            (
                "private-dep".into(),
                "2.0.0".into(),
                "pkg:cargo/private-dep@2.0.0".into()
            ),
            (
                "serde".into(),
                "1.0.210".into(),
                "pkg:cargo/serde@1.0.210".into()
            ),
            (
                "serde_derive".into(),
                "1.0.210".into(),
                "pkg:cargo/serde_derive@1.0.210".into()
            ),
        ]
    );
    let root_crate = catalog.packages.iter().find(|p| p.name == "app").unwrap();
    assert_eq!(root_crate.properties["rust:root-crate"], "true");
    assert_eq!(root_crate.properties["rust:source"], "local");
    assert_eq!(root_crate.hashes.len(), 1);
    assert_eq!(root_crate.locations[0].path, "/usr/local/bin/app");
    assert_eq!(root_crate.found_by, "rust-cargo-auditable-binary-cataloger");
    let derive = catalog
        .packages
        .iter()
        .find(|p| p.name == "serde_derive")
        .unwrap();
    assert_eq!(derive.properties["rust:dependency-kind"], "build");
    // Its build information accounts for the binary, so it is not an unowned file.
    assert!(catalog.packages.iter().all(|p| p.kind != PackageKind::File));
}

/// A damaged section is reported, and the binary is then listed as an unowned file.
#[test]
fn damaged_section_is_an_unknown() {
    let cases: [(&[u8], &str); 3] = [
        (b"not zlib at all", "not valid zlib data"),
        (&compress("{\"packages\": 7}"), "not the expected JSON"),
        (
            &compress(
                r#"{"packages":[{"name":"a","version":"1","source":"local","dependencies":[9]}]}"#,
            ),
            "names dependency 9",
        ),
    ];
    for (section, reason) in cases {
        let Some(catalog) = catalog_binary(section) else {
            return;
        };
        assert!(
            catalog
                .packages
                .iter()
                .all(|p| p.kind != PackageKind::RustCrate),
            "{reason}"
        );
        assert_eq!(catalog.unknowns.len(), 1, "{reason}");
        assert!(
            catalog.unknowns[0].reason.contains(reason),
            "{:?}",
            catalog.unknowns
        );
        assert!(catalog.packages.iter().any(|p| p.kind == PackageKind::File));
    }
}

/// A compressed bomb: 9 MiB of spaces in a few KiB of section.
#[test]
fn compressed_bomb_is_stopped() {
    let bomb = compress(&" ".repeat(9 << 20));
    let Some(catalog) = catalog_binary(&bomb) else {
        return;
    };
    assert!(
        catalog.unknowns[0]
            .reason
            .contains("expands to more than 8388608 bytes"),
        "{:?}",
        catalog.unknowns
    );
}
