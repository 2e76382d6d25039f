//! OS packages against real distribution records: Alpine, Debian, Ubuntu, Red Hat and
//! AlmaLinux, each just below, at and above the fixed version, and the distribution statements
//! that make a finding not affected.
//!
//! | record | why |
//! |---|---|
//! | `Alpine/CVE-2022-27449` | Alpine record naming the origin `mariadb` in six releases |
//! | `Debian/DSA-3029-1` | Debian source package with a `+wheezy` fixed version |
//! | `Debian/CVE-2024-1013` | `ecosystem_specific.urgency: unimportant`, no fix: not affected |
//! | `Debian/CVE-2024-3847` | `urgency: low`, no fix: affected in every version |
//! | `Ubuntu/UBUNTU-CVE-2025-38094` | `Ubuntu:Pro:14.04:LTS` ecosystem |
//! | `RedHat/RHSA-2024_4546` | CPE-named `Red Hat:rhel_aus:8.6::appstream` streams, epoch `0:` |
//! | `almalinux-osv/.../ALSA-2026:19180` | AlmaLinux binary package names |

use clearbox_catalog::PackageKind;
use clearbox_vuln::{Database, FindingStatus, MatchOutcome, match_catalog_with_notes};

use crate::support::{corpus, db_with, distro_catalog, os_package, require};

fn scan(
    db: &Database,
    id: &str,
    release: &str,
    kind: PackageKind,
    packages: &[(&str, &str, &str)],
) -> MatchOutcome {
    let packages = packages
        .iter()
        .map(|(name, version, source)| os_package(kind, name, version, Some(source)))
        .collect();
    match_catalog_with_notes(db, &distro_catalog(id, release, packages)).expect("match")
}

/// The advisory ids found for one package version.
fn ids(
    db: &Database,
    id: &str,
    release: &str,
    kind: PackageKind,
    package: (&str, &str, &str),
) -> Vec<String> {
    let outcome = scan(db, id, release, kind, &[package]);
    assert!(outcome.notes.is_empty(), "{:?}", outcome.notes);
    outcome
        .findings
        .iter()
        .map(|f| f.advisory.id.clone())
        .collect()
}

#[test]
fn alpine_origin_around_fix() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(&corpus, &["fixtures-harvested/Alpine"]);
    let found = |version| {
        ids(
            &db,
            "alpine",
            "3.12.4",
            PackageKind::Apk,
            ("mariadb-client", version, "mariadb"),
        )
    };
    assert_eq!(found("10.4.24-r0"), ["CVE-2022-27449"], "below the fix");
    assert!(found("10.4.25-r0").is_empty(), "at the fix");
    assert!(found("10.4.26-r0").is_empty(), "above the fix");
    // Another release has another fixed version.
    let v313 = ids(
        &db,
        "alpine",
        "3.13.1",
        PackageKind::Apk,
        ("mariadb", "10.5.15-r0", "mariadb"),
    );
    assert_eq!(v313, ["CVE-2022-27449"]);
    let finding = &scan(
        &db,
        "alpine",
        "3.12.0",
        PackageKind::Apk,
        &[("mariadb", "10.4.24-r0", "mariadb")],
    )
    .findings[0];
    assert_eq!(finding.matched.ecosystem, "Alpine:v3.12");
    assert_eq!(finding.advisory.fixed_versions, ["10.4.25-r0"]);
}

#[test]
fn debian_source_around_fix() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(&corpus, &["fixtures-harvested/Debian"]);
    let found = |version| {
        ids(
            &db,
            "debian",
            "7",
            PackageKind::Deb,
            ("nginx-full", version, "nginx"),
        )
    };
    assert_eq!(found("1.2.1-2.2+wheezy2"), ["DSA-3029-1"]);
    assert!(found("1.2.1-2.2+wheezy3").is_empty());
    assert!(found("1.2.1-2.2+wheezy4").is_empty());
}

#[test]
fn debian_unimportant_is_not_affected() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(&corpus, &["fixtures-harvested/Debian"]);
    let outcome = scan(
        &db,
        "debian",
        "10",
        PackageKind::Deb,
        &[
            ("unixodbc", "2.3.6-0.1", "unixodbc"),
            ("chromium", "90.0-1", "chromium"),
        ],
    );
    let status = |id: &str| {
        let finding = outcome
            .findings
            .iter()
            .find(|f| f.advisory.id == id)
            .expect("finding");
        (finding.status, finding.status_reason.clone())
    };
    let (unixodbc, reason) = status("CVE-2024-1013");
    assert_eq!(unixodbc, FindingStatus::NotAffected);
    assert_eq!(
        reason.as_deref(),
        Some("ecosystem_specific.urgency is `unimportant`")
    );
    assert_eq!(status("CVE-2024-3847").0, FindingStatus::Affected);
    assert!(!FindingStatus::NotAffected.is_vulnerable());
}

#[test]
fn ubuntu_pro_ecosystem() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(&corpus, &["fixtures-harvested/Ubuntu"]);
    let outcome = scan(
        &db,
        "ubuntu",
        "14.04",
        PackageKind::Deb,
        &[("linux-image-3.13.0-100-generic", "3.13.0-100.147", "linux")],
    );
    assert_eq!(outcome.findings.len(), 1, "{:?}", outcome.notes);
    assert_eq!(
        outcome.findings[0].matched.ecosystem,
        "Ubuntu:Pro:14.04:LTS"
    );
    assert_eq!(outcome.findings[0].advisory.id, "UBUNTU-CVE-2025-38094");
    assert!(
        ids(
            &db,
            "ubuntu",
            "16.04",
            PackageKind::Deb,
            ("linux", "4.4.0-1.1", "linux")
        )
        .is_empty()
    );
}

#[test]
fn redhat_cpe_streams_around_fix() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(&corpus, &["fixtures-harvested/RedHat"]);
    let found = |release, version| {
        ids(
            &db,
            "rhel",
            release,
            PackageKind::Rpm,
            ("git-lfs", version, "git-lfs-2.13.3-3.el8_6.src.rpm"),
        )
    };
    assert_eq!(found("8.6", "2.13.3-3.el8_6"), ["RHSA-2024:4546"]);
    assert!(found("8.6", "2.13.3-3.el8_6.1").is_empty(), "at the fix");
    assert!(found("8.6", "0:2.13.3-4.el8_6").is_empty(), "above the fix");
    assert!(
        found("8.4", "2.13.3-3.el8_6").is_empty(),
        "8.4 has no such stream"
    );
}

#[test]
fn almalinux_binary_names_around_fix() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(&corpus, &["almalinux-osv"]);
    let found = |version| {
        ids(
            &db,
            "almalinux",
            "9.4",
            PackageKind::Rpm,
            (
                "gstreamer1-plugins-bad-free",
                version,
                "gstreamer1-plugins-bad-free",
            ),
        )
    };
    assert!(found("1.22.12-6.el9").contains(&"ALSA-2026:19180".to_owned()));
    assert!(!found("1.22.12-7.el9_8").contains(&"ALSA-2026:19180".to_owned()));
    assert!(!found("1.22.12-8.el9").contains(&"ALSA-2026:19180".to_owned()));
}
