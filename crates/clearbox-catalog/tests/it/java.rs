//! The Java archive cataloger on archives rebuilt from the corpus's unpacked jar metadata.
//!
//! The corpus keeps only the descriptors (`MANIFEST.MF`, `pom.properties`, `pom.xml`) that
//! trivy's and syft's test archives contain, unpacked into directories. A directory named like
//! an archive (`WEB-INF/lib/x.jar/`) was a nested archive. Each test zips such a tree back into
//! an archive, nested archives included, and catalogs it.

use std::io::{Cursor, Write};
use std::path::Path;

use clearbox_catalog::{Catalog, Package, PackageKind};
use zip::write::SimpleFileOptions;

use crate::support::{catalog_dir, corpus};

fn is_archive_name(name: &str) -> bool {
    [".jar", ".war", ".ear", ".par", ".jpi", ".hpi"]
        .iter()
        .any(|e| name.ends_with(e))
}

/// Zips a directory tree; subdirectories named like archives become nested archives.
fn zip_tree(dir: &Path) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    add_tree(&mut writer, dir, "");
    writer.finish().unwrap().into_inner()
}

fn add_tree(writer: &mut zip::ZipWriter<Cursor<Vec<u8>>>, dir: &Path, prefix: &str) {
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name().into_string().unwrap();
        let path = format!("{prefix}{name}");
        if entry.file_type().unwrap().is_dir() {
            if is_archive_name(&name) {
                writer.start_file(&path, options).unwrap();
                writer.write_all(&zip_tree(&entry.path())).unwrap();
            } else {
                add_tree(writer, &entry.path(), &format!("{path}/"));
            }
        } else {
            writer.start_file(&path, options).unwrap();
            writer
                .write_all(&std::fs::read(entry.path()).unwrap())
                .unwrap();
        }
    }
}

/// Zips entries given as `(name, bytes)`.
fn zip_entries(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// Catalogs one archive placed at `/app/NAME`.
fn catalog_archive(name: &str, bytes: &[u8]) -> Catalog {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("app")).unwrap();
    std::fs::write(root.path().join("app").join(name), bytes).unwrap();
    catalog_dir(root.path())
}

fn java(catalog: &Catalog) -> Vec<&Package> {
    catalog
        .packages
        .iter()
        .filter(|p| p.kind == PackageKind::Java)
        .collect()
}

fn coordinates(catalog: &Catalog) -> Vec<(String, String)> {
    let mut out: Vec<_> = java(catalog)
        .iter()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();
    out.sort();
    out
}

fn find<'a>(catalog: &'a Catalog, name: &str, version: &str) -> &'a Package {
    java(catalog)
        .into_iter()
        .find(|p| p.name == name && p.version == version)
        .unwrap_or_else(|| panic!("no Java package {name} {version}"))
}

/// trivy's `TestParse` expectations (`expected-packages.tsv`) for every archive, rebuilt from
/// `java-archive-metadata/trivy`. Two rows differ on purpose, because trivy asked Maven
/// Central and clearbox works offline. `test.jar`'s `org.springframework:spring-core` 5.3.3
/// came from a SHA-1 search; trivy's own offline run gives the manifest's
/// `org.springframework:Spring Framework`, which clearbox matches. The group `com.example` of
/// `heuristic-1.0.0-SNAPSHOT.jar` came from an artifact search, so clearbox gives `heuristic`
/// without a group and marks it as guessed.
#[test]
fn trivy_expected_packages() {
    let Some(corpus) = corpus() else { return };
    let base = corpus.join("pkgdb/java-archive-metadata/trivy");
    let table = std::fs::read_to_string(base.join("expected-packages.tsv")).unwrap();
    let mut expected: std::collections::BTreeMap<&str, Vec<(String, String)>> =
        std::collections::BTreeMap::new();
    for line in table.lines().skip(1) {
        let [archive, name, version] = line.split('\t').collect::<Vec<_>>()[..] else {
            panic!("bad row {line}");
        };
        let row = match (archive, name) {
            ("test.jar", "org.springframework:spring-core") => continue,
            ("heuristic-1.0.0-SNAPSHOT.jar", "com.example:heuristic") => "heuristic",
            _ => name,
        };
        expected
            .entry(archive)
            .or_default()
            .push((row.to_owned(), version.to_owned()));
    }
    assert_eq!(expected.len(), 9);
    for (archive, mut rows) in expected {
        // `maven.war` is the same blob as the corpus's `test.war`; trivy's parser test.jar is
        // the corpus's `parser-test.jar`.
        let dir = match archive {
            "maven.war" => "test.war",
            "test.jar" => "parser-test.jar",
            other => other,
        };
        let catalog = catalog_archive(archive, &zip_tree(&base.join(dir)));
        rows.sort();
        assert_eq!(coordinates(&catalog), rows, "{archive}");
        assert!(
            catalog.unknowns.is_empty(),
            "{archive}: {:?}",
            catalog.unknowns
        );
    }
}

#[test]
fn nested_archives_and_sources() {
    let Some(corpus) = corpus() else { return };
    let base = corpus.join("pkgdb/java-archive-metadata/trivy");
    let catalog = catalog_archive("nested.jar", &zip_tree(&base.join("nested.jar")));
    let nested3 = find(&catalog, "test:nested3", "0.0.3");
    assert_eq!(
        nested3.properties["java:archive"],
        "nested.jar!/META-INF/jars/nested2.jar!/META-INF/jars/nested3.jar"
    );
    assert_eq!(
        nested3.properties["java:coordinates-from"],
        "pom.properties"
    );
    assert_eq!(nested3.purl.to_string(), "pkg:maven/test/nested3@0.0.3");
    assert_eq!(nested3.locations[0].path, "/app/nested.jar");
    let outer = find(&catalog, "test:nested", "0.0.1");
    assert!(!outer.properties.contains_key("java:archive"));

    let catalog = catalog_archive("maven.war", &zip_tree(&base.join("test.war")));
    let databind = find(
        &catalog,
        "com.fasterxml.jackson.core:jackson-databind",
        "2.9.10.6",
    );
    assert_eq!(
        databind.purl.to_string(),
        "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.10.6"
    );
    assert_eq!(
        databind.properties["java:descriptor"],
        "META-INF/maven/com.fasterxml.jackson.core/jackson-databind/pom.properties"
    );
    assert_eq!(databind.found_by, "java-archive-cataloger");

    let catalog = catalog_archive(
        "heuristic-1.0.0-SNAPSHOT.jar",
        &zip_tree(&base.join("heuristic-1.0.0-SNAPSHOT.jar")),
    );
    let guessed = find(&catalog, "heuristic", "1.0.0-SNAPSHOT");
    assert_eq!(guessed.properties["java:coordinates-from"], "file-name");
    assert_eq!(guessed.properties["java:coordinates-guessed"], "true");
    assert_eq!(
        guessed.purl.to_string(),
        "pkg:maven/heuristic@1.0.0-SNAPSHOT"
    );

    let catalog = catalog_archive("test.jar", &zip_tree(&base.join("parser-test.jar")));
    let spring = find(
        &catalog,
        "org.springframework:Spring Framework",
        "2.5.6.SEC03",
    );
    assert_eq!(spring.properties["java:coordinates-from"], "manifest");
    assert_eq!(
        spring.purl.to_string(),
        "pkg:maven/org.springframework/Spring%20Framework@2.5.6.SEC03"
    );
}

/// trivy's licence cases: the Jenkins plugin manifest's `Plugin-License-Name` attributes.
#[test]
fn manifest_licences_and_vendor() {
    let Some(corpus) = corpus() else { return };
    let base = corpus.join("pkgdb/java-archive-metadata/trivy");
    let catalog = catalog_archive(
        "license-from-jenkins-plugin.jar",
        &zip_tree(&base.join("license-from-jenkins-plugin.jar")),
    );
    let plugin = find(&catalog, "com.example:jenkins-plugin", "1.0.0");
    assert_eq!(
        plugin.licenses,
        ["Apache License, Version 2.0", "MIT License"]
    );

    let catalog = catalog_archive(
        "hadoop-shaded-guava-1.1.0-SNAPSHOT.jar",
        &zip_tree(&base.join("hadoop-shaded-guava-1.1.0-SNAPSHOT.jar")),
    );
    let own = find(
        &catalog,
        "org.apache.hadoop.thirdparty:hadoop-shaded-guava",
        "1.1.0-SNAPSHOT",
    );
    assert_eq!(own.supplier.as_deref(), Some("Apache Software Foundation"));
    assert_eq!(
        own.homepage.as_deref(),
        Some("https://www.apache.org/hadoop-thirdparty/hadoop-shaded-guava/")
    );
    // The shaded artifacts are not the archive, so they take nothing from its manifest.
    assert_eq!(
        find(&catalog, "com.google.guava:guava", "29.0-jre").supplier,
        None
    );
}

/// Directory, archive name, and the expected (name, version, source) rows.
type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str, &'a str)]);

/// syft's unpacked jar metadata: directory, archive name and the expected rows.
const SYFT_JAR_CASES: &[Case<'static>] = &[
    (
        "opensaml-core-3.4.6",
        "opensaml-core-3.4.6.jar",
        &[("org.opensaml:opensaml-core", "3.4.6", "pom.properties")],
    ),
    // Only a pom.xml: its own coordinates, not its parent's artifact.
    (
        "jackson-core-2.15.2",
        "jackson-core-2.15.2.jar",
        &[(
            "com.fasterxml.jackson.core:jackson-core",
            "2.15.2",
            "pom.xml",
        )],
    ),
    (
        "api-all-2.0.0-sources",
        "api-all-2.0.0-sources.jar",
        &[
            (
                "org.apache.directory.api:api-all",
                "2.0.0",
                "pom.properties",
            ),
            (
                "org.apache.directory.api:api-asn1-api",
                "2.0.0",
                "pom.properties",
            ),
        ],
    ),
    (
        "org.multiple-thename",
        "org.multiple-thename.jar",
        &[
            ("com.multiple:thename", "10.11.12", "pom.properties"),
            ("org.multiple:thename", "10.11.12", "pom.properties"),
        ],
    ),
    (
        "micronaut-aop-4.9.11",
        "micronaut-aop-4.9.11.jar",
        &[("io.micronaut:micronaut-aop", "4.9.11", "pom.xml")],
    ),
    // No descriptor, and the vendor is a display name, not a group.
    (
        "spring-instrumentation-4.3.0-1.0",
        "spring-instrumentation-4.3.0-1.0.jar",
        &[(
            "com.newrelic.instrumentation.spring-4.3.0",
            "1.0",
            "manifest",
        )],
    ),
    // The pom.xml is not in a `META-INF/maven/GROUP/ARTIFACT` directory and the manifest
    // names nothing, so only the file name is left.
    (
        "commons-lang3-3.12.0",
        "commons-lang3-3.12.0.jar",
        &[("commons-lang3", "3.12.0", "file-name")],
    ),
    // Three shaded artifacts; none is the archive, and its manifest names nothing.
    (
        "multiple-matching-2.11.5",
        "multiple-matching-2.11.5.jar",
        &[
            (
                "org.multiple:multiple-matching-1",
                "2.11.5",
                "pom.properties",
            ),
            (
                "org.multiple:multiple-matching-2",
                "2.11.5",
                "pom.properties",
            ),
            (
                "org.multiple:multiple-matching-3",
                "2.11.5",
                "pom.properties",
            ),
        ],
    ),
    (
        "com.fasterxml.jackson.core.jackson-core-2.15.2",
        "com.fasterxml.jackson.core.jackson-core-2.15.2.jar",
        &[(
            "com.fasterxml.jackson.core:jackson-core",
            "2.15.2",
            "pom.xml",
        )],
    ),
    (
        "jenkins-plugins/gradle/2.11",
        "gradle.hpi",
        &[("org.jenkins-ci.plugins:gradle", "2.11", "manifest")],
    ),
];

/// syft's unpacked jar metadata: coordinates as each file states them.
#[test]
fn syft_jar_metadata() {
    let Some(corpus) = corpus() else { return };
    let base = corpus.join("pkgdb/syft/java/jar-metadata");
    let cases = SYFT_JAR_CASES;
    for &(dir, archive, rows) in cases {
        let catalog = catalog_archive(archive, &zip_tree(&base.join(dir)));
        let mut got: Vec<(String, String, String)> = java(&catalog)
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    p.version.clone(),
                    p.properties["java:coordinates-from"].clone(),
                )
            })
            .collect();
        got.sort();
        let mut want: Vec<(String, String, String)> = rows
            .iter()
            .map(|(n, v, s)| ((*n).to_owned(), (*v).to_owned(), (*s).to_owned()))
            .collect();
        want.sort();
        assert_eq!(got, want, "{dir}");
    }
}

/// Limits that stop zip bombs, and archives that are not zip files.
#[test]
fn hostile_archives() {
    // Nesting deeper than the limit: six archives inside each other.
    let mut inner = zip_entries(&[(
        "META-INF/maven/g/deep/pom.properties",
        b"groupId=g\nartifactId=deep\nversion=6\n",
    )]);
    for level in (0..6).rev() {
        let descriptor = format!("groupId=g\nartifactId=level{level}\nversion=1\n");
        inner = zip_entries(&[
            ("inner.jar", &inner),
            ("META-INF/maven/g/x/pom.properties", descriptor.as_bytes()),
        ]);
    }
    let catalog = catalog_archive("deep.jar", &inner);
    assert!(
        catalog
            .unknowns
            .iter()
            .any(|u| u.reason.contains("nested more than 4 archives deep")),
        "{:?}",
        catalog.unknowns
    );
    assert!(
        coordinates(&catalog)
            .iter()
            .all(|(name, _)| name != "g:deep")
    );
    assert_eq!(coordinates(&catalog).len(), 5);

    // A descriptor that expands past the text limit (5 MiB of spaces compress to a few KiB).
    let mut big = b"groupId=g\nartifactId=big\nversion=1\n".to_vec();
    big.resize(5 << 20, b' ');
    let bomb = zip_entries(&[("META-INF/maven/g/big/pom.properties", &big)]);
    assert!(bomb.len() < 64 << 10);
    let catalog = catalog_archive("bomb.jar", &bomb);
    assert!(java(&catalog).is_empty());
    assert!(
        catalog.unknowns[0]
            .reason
            .contains("larger than 4194304 bytes")
    );

    // Not a zip file, and a real archive cut short.
    let catalog = catalog_archive("bogus.jar", b"bogus");
    assert!(
        catalog.unknowns[0]
            .reason
            .contains("not a valid zip archive")
    );
    let whole = zip_entries(&[(
        "META-INF/maven/g/a/pom.properties",
        b"groupId=g\nartifactId=a\nversion=1\n",
    )]);
    let catalog = catalog_archive("cut.jar", &whole[..whole.len() - 30]);
    assert!(java(&catalog).is_empty());
    assert_eq!(catalog.unknowns.len(), 1);
}
