//! Python installs beyond core metadata: where a distribution came from (`direct_url.json`),
//! conda environments (`conda-meta/*.json`), and the installed files that `RECORD` and conda
//! list, which are then not listed as unowned.

use std::path::Path;

use clearbox_catalog::{Catalog, Package, PackageKind};

use crate::support::{catalog_dir, corpus, place, write};

fn kind(catalog: &Catalog, kind: PackageKind) -> Vec<&Package> {
    catalog.packages.iter().filter(|p| p.kind == kind).collect()
}

/// syft's `nested/dist-name/dist-info` fixture, installed from a git checkout. The corpus's
/// `dist-info` directory is renamed to `*.dist-info`, the name pip gives it.
#[test]
fn syft_direct_url_from_git() {
    let Some(corpus) = corpus() else { return };
    let from = corpus.join("pkgdb/syft/python/site-packages/nested/dist-name/dist-info");
    let root = tempfile::tempdir().unwrap();
    let dist_info = "usr/lib/python3/dist-packages/dist_name-1.0.dist-info";
    for name in ["METADATA", "RECORD", "direct_url.json"] {
        place(
            root.path(),
            &format!("{dist_info}/{name}"),
            &from.join(name),
        );
    }
    let catalog = catalog_dir(root.path());
    assert!(catalog.unknowns.is_empty(), "{:?}", catalog.unknowns);
    let python = kind(&catalog, PackageKind::Python);
    assert_eq!(python.len(), 1);
    let p = python[0];
    assert_eq!(
        p.properties["python:direct-url"],
        "https://github.com/python-test/test.git"
    );
    assert_eq!(p.properties["python:vcs"], "git");
    assert_eq!(
        p.properties["python:vcs-commit-id"],
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    );
    assert_eq!(
        p.purl.qualifiers["vcs_url"],
        "git+https://github.com/python-test/test.git@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    );
    assert!(p.purl.to_string().starts_with("pkg:pypi/"));
}

#[test]
fn broken_direct_url_is_an_unknown() {
    let root = tempfile::tempdir().unwrap();
    let dist_info = "usr/lib/python3/dist-packages/a-1.0.dist-info";
    write(
        root.path(),
        &format!("{dist_info}/METADATA"),
        "Name: a\nVersion: 1.0\n",
    );
    write(
        root.path(),
        &format!("{dist_info}/direct_url.json"),
        "{\"vcs_info\": 1}",
    );
    let catalog = catalog_dir(root.path());
    let python = kind(&catalog, PackageKind::Python);
    assert_eq!(python[0].purl.to_string(), "pkg:pypi/a@1.0");
    assert_eq!(catalog.unknowns.len(), 1);
    assert!(catalog.unknowns[0].reason.contains("PEP 610"));
}

/// A conda environment under `/opt/conda` with one package record (the record's fields follow
/// conda's repodata record schema plus the `files` and `channel` that conda adds at install
/// time). Its executable is owned; an executable nothing lists is not.
#[test]
fn conda_package_owns_its_files() {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        "opt/conda/conda-meta/zlib-1.2.13-hd590300_5.json",
        r#"{"name": "zlib", "version": "1.2.13", "build": "hd590300_5", "build_number": 5,
            "channel": "https://conda.anaconda.org/conda-forge/linux-64", "subdir": "linux-64",
            "license": "Zlib", "md5": "f36c115f1ee199da648e0597ec2047ad",
            "url": "https://conda.anaconda.org/conda-forge/linux-64/zlib-1.2.13-hd590300_5.conda",
            "files": ["bin/zpipe", "lib/libz.so.1.2.13"]}"#,
    );
    write(
        root.path(),
        "opt/conda/conda-meta/broken.json",
        "{\"name\": \"x\"}",
    );
    place(root.path(), "opt/conda/bin/zpipe", Path::new("/bin/true"));
    place(root.path(), "opt/conda/bin/stray", Path::new("/bin/true"));
    let catalog = catalog_dir(root.path());
    let conda = kind(&catalog, PackageKind::Conda);
    assert_eq!(conda.len(), 1);
    let zlib = conda[0];
    assert_eq!(
        zlib.purl.to_string(),
        "pkg:conda/zlib@1.2.13?build=hd590300_5&channel=conda-forge&subdir=linux-64&type=conda"
    );
    assert_eq!(zlib.licenses, ["Zlib"]);
    assert_eq!(zlib.properties["conda:environment"], "/opt/conda");
    assert_eq!(zlib.found_by, "conda-meta-package-cataloger");
    let unowned: Vec<&str> = kind(&catalog, PackageKind::File)
        .iter()
        .map(|p| p.locations[0].path.as_str())
        .collect();
    assert_eq!(unowned, ["/opt/conda/bin/stray"]);
    assert_eq!(catalog.unknowns.len(), 1);
    assert_eq!(
        catalog.unknowns[0].path,
        "/opt/conda/conda-meta/broken.json"
    );
}

/// A console script installed by pip is listed in `RECORD` (as `../../../bin/NAME`), so an
/// ELF executable there is owned.
#[test]
fn record_owns_installed_executables() {
    let root = tempfile::tempdir().unwrap();
    let dist_info = "usr/local/lib/python3.11/site-packages/tool-2.0.dist-info";
    write(
        root.path(),
        &format!("{dist_info}/METADATA"),
        "Name: tool\nVersion: 2.0\n",
    );
    write(
        root.path(),
        &format!("{dist_info}/RECORD"),
        "../../../bin/tool,sha256=x,1\ntool-2.0.dist-info/METADATA,,\n",
    );
    place(root.path(), "usr/local/bin/tool", Path::new("/bin/true"));
    let catalog = catalog_dir(root.path());
    assert!(
        kind(&catalog, PackageKind::File).is_empty(),
        "{:?}",
        catalog.packages
    );
}
