//! The Python cataloger on corpus `site-packages` trees.

use clearbox_catalog::PackageKind;

use crate::support::{catalog_dir, corpus, write};

#[test]
fn corpus_site_packages() {
    let Some(corpus) = corpus() else { return };
    let root = corpus.join("pkgdb/syft/python/site-packages");
    let catalog = catalog_dir(&root);
    let python: Vec<_> = catalog
        .packages
        .iter()
        .filter(|p| p.kind == PackageKind::Python)
        .collect();
    assert!(!python.is_empty());
    for p in &python {
        assert!(p.purl.to_string().starts_with("pkg:pypi/"), "{}", p.purl);
        assert_eq!(
            p.purl.name,
            clearbox_catalog::normalize_python_name(&p.name)
        );
        assert!(!p.version.is_empty());
    }
}

#[test]
fn dist_info_and_record_ownership() {
    let root = tempfile::tempdir().unwrap();
    let site = "usr/lib/python3/dist-packages";
    write(
        root.path(),
        &format!("{site}/Jinja2-2.11.2.dist-info/METADATA"),
        "Metadata-Version: 2.1\nName: Jinja2\nVersion: 2.11.2\nLicense: BSD-3-Clause\n\nbody\n",
    );
    write(
        root.path(),
        &format!("{site}/Jinja2-2.11.2.dist-info/RECORD"),
        "jinja2/__init__.py,sha256=x,1\nJinja2-2.11.2.dist-info/METADATA,,\n",
    );
    write(
        root.path(),
        &format!("{site}/broken-1.0.dist-info/METADATA"),
        "Name: broken\n",
    );
    let catalog = catalog_dir(root.path());
    let jinja = catalog
        .packages
        .iter()
        .find(|p| p.name == "Jinja2")
        .unwrap();
    assert_eq!(jinja.purl.to_string(), "pkg:pypi/jinja2@2.11.2");
    assert_eq!(jinja.licenses, ["BSD-3-Clause"]);
    assert_eq!(jinja.properties["python:install-dir"], format!("/{site}"));
    let unknown = catalog
        .unknowns
        .iter()
        .find(|u| u.path.contains("broken"))
        .unwrap();
    assert_eq!(unknown.reason, "core metadata has no Version field");
}

#[test]
fn metadata_symlink_and_fifo_are_unknowns() {
    let root = tempfile::tempdir().unwrap();
    let site = root.path().join("usr/lib/python3/dist-packages");
    std::fs::create_dir_all(site.join("a-1.0.dist-info")).unwrap();
    std::fs::create_dir_all(site.join("b-1.0.dist-info")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", site.join("a-1.0.dist-info/METADATA")).unwrap();
    let fifo = site.join("b-1.0.dist-info/METADATA");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let catalog = catalog_dir(root.path());
    assert!(catalog.packages.is_empty());
    let reasons: Vec<(&str, &str)> = catalog
        .unknowns
        .iter()
        .map(|u| (u.path.as_str(), u.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            (
                "/usr/lib/python3/dist-packages/a-1.0.dist-info/METADATA",
                "symlink to `/etc/passwd` that leads to no file the catalogers read; not followed"
            ),
            (
                "/usr/lib/python3/dist-packages/b-1.0.dist-info/METADATA",
                "named pipe where a regular file was expected; not read"
            ),
        ]
    );
}
