//! Debian matching on the harvested Debian records: DSA-3029-1 (`nginx` in `Debian:7`, fixed in
//! `1.2.1-2.2+wheezy3`), CVE-2024-1013 (`unixodbc` in `Debian:10`, no fix) and CVE-2024-3847
//! (`chromium` in `Debian:10` and `Debian:11`, no fix), copied from osv.dev and osv-scanner test
//! fixtures.

use std::collections::BTreeSet;

use clearbox_catalog::{Catalog, Distro};
use clearbox_vuln::{MatchNote, match_catalog_with_notes};

use crate::support::{catalog, corpus, db_with, deb, debian_catalog, require};

fn matched(db: &clearbox_vuln::Database, catalog: &Catalog) -> BTreeSet<(String, String)> {
    let outcome = match_catalog_with_notes(db, catalog).unwrap();
    assert!(outcome.notes.is_empty(), "{:?}", outcome.notes);
    outcome
        .findings
        .iter()
        .map(|f| (f.package.name.clone(), f.advisory.id.clone()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

/// The binary packages `nginx-full` and `nginx-common` are built from source `nginx`, which
/// the advisory names; the match goes through the source name and version.
#[test]
fn source_package_matches_binary() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(&corpus, &["fixtures-harvested/Debian"]);
    let catalog = debian_catalog(
        "7",
        vec![
            deb(
                "nginx-full",
                "1.2.1-2.2+wheezy2",
                Some(("nginx", "1.2.1-2.2+wheezy2")),
            ),
            deb(
                "nginx-common",
                "1.2.1-2.2+wheezy3",
                Some(("nginx", "1.2.1-2.2+wheezy3")),
            ),
            deb(
                "nginx-light",
                "1.2.1-2.2+wheezy4",
                Some(("nginx", "1.2.1-2.2+wheezy4")),
            ),
        ],
    );
    assert_eq!(
        matched(&db, &catalog),
        pairs(&[("nginx-full", "DSA-3029-1")])
    );

    let outcome = match_catalog_with_notes(&db, &catalog).unwrap();
    let finding = &outcome.findings[0];
    assert_eq!(finding.package.ecosystem, "Debian:7");
    assert_eq!(finding.matched.name, "nginx");
    assert_eq!(finding.matched.version, "1.2.1-2.2+wheezy2");
    assert_eq!(finding.matched.range, ">=0, <1.2.1-2.2+wheezy3");
    assert_eq!(finding.advisory.fixed_versions, ["1.2.1-2.2+wheezy3"]);
}

/// The release decides the ecosystem: `unixodbc` is only listed for Debian 10, `chromium` for
/// 10 and 11. A package without a source entry is looked up by its own name.
#[test]
fn release_selects_ecosystem() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(&corpus, &["fixtures-harvested/Debian"]);
    let packages = || {
        vec![
            deb("libodbc1", "2.3.6-0.1", Some(("unixodbc", "2.3.6-0.1"))),
            deb("chromium", "120.0.6099.224-1~deb11u1", None),
        ]
    };
    assert_eq!(
        matched(&db, &debian_catalog("10", packages())),
        pairs(&[("chromium", "CVE-2024-3847"), ("libodbc1", "CVE-2024-1013")])
    );
    assert_eq!(
        matched(&db, &debian_catalog("11", packages())),
        pairs(&[("chromium", "CVE-2024-3847")])
    );
    assert!(matched(&db, &debian_catalog("12", packages())).is_empty());
}

#[test]
fn no_distro_is_a_note() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(&corpus, &["fixtures-harvested/Debian"]);
    let catalog = catalog(vec![deb(
        "nginx-full",
        "1.2.1-2.2+wheezy2",
        Some(("nginx", "1.2.1-2.2+wheezy2")),
    )]);
    let outcome = match_catalog_with_notes(&db, &catalog).unwrap();
    assert!(outcome.findings.is_empty());
    assert_eq!(outcome.notes, [MatchNote::NoDistro { packages: 1 }]);
}

#[test]
fn other_distro_is_a_note() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(&corpus, &["fixtures-harvested/Debian"]);
    let mut catalog = debian_catalog("7", vec![deb("nginx", "1.2.1-2.2+wheezy2", None)]);
    catalog.distro = Some(Distro {
        id: "arch".to_owned(),
        version_id: Some("20240101".to_owned()),
        codename: None,
        pretty_name: None,
    });
    let outcome = match_catalog_with_notes(&db, &catalog).unwrap();
    assert!(outcome.findings.is_empty());
    assert_eq!(
        outcome.notes,
        [MatchNote::UnsupportedDistro {
            distro: "arch".to_owned(),
            packages: 1
        }]
    );
}
