//! Language packages known by purl (as SBOMs list them) against real GHSA records: npm (SEMVER
//! ranges), Maven (`ECOSYSTEM` ranges and `last_affected`), NuGet, RubyGems and Packagist
//! (`ECOSYSTEM` ranges with each ecosystem's ordering, beside `versions` lists), and an
//! ecosystem without an ordering (only listed versions, and a note).
//!
//! | record | why |
//! |---|---|
//! | `npm/GHSA-f89g-whpf-6q9m` | `i18next`, `introduced: 0`, `fixed: 1.10.3` |
//! | `npm/GHSA-mhpp-875w-9cpv` | `jquery`, pre-release `introduced: 2.1.1-0` |
//! | `Maven/GHSA-599f-7c49-w659` | `commons-text` 1.5 to 1.10.0, and a fork with `last_affected` |
//! | `github-advisory-database/GHSA-4jqc-8m5r-9rpr` | `set-value-nuget` on NuGet, `fixed: 2.0.0` |
//! | `Maven/GHSA-6xx3-rg99-gc3p` | `BouncyCastle` on NuGet, four-number versions, `fixed: 1.8.7` |
//! | `Go/GHSA-77rm-9x9h-xj3g` | `Google.Protobuf` on NuGet and `google/protobuf` on Packagist, `fixed: 3.15.0` and a `versions` list |
//! | `RubyGems/GHSA-9qj7-jvg4-qr2x` | `passenger`, two intervals written out of order |
//! | `RubyGems/GHSA-35c4-f3rq-f9g3` | `activesupport`, withdrawn |
//!
//! The Pub record is written in the test: Pub has no version ordering here.

use clearbox_vuln::{Database, MatchNote, match_catalog_with_notes};

use crate::support::{catalog, corpus, db_with, library, require};

fn ids(db: &Database, purl: &str) -> Vec<String> {
    let outcome = match_catalog_with_notes(db, &catalog(vec![library(purl)])).expect("match");
    outcome
        .findings
        .iter()
        .map(|f| f.advisory.id.clone())
        .collect()
}

#[test]
fn npm_around_fix() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(&corpus, &["fixtures-harvested/npm"]);
    assert_eq!(ids(&db, "pkg:npm/i18next@1.10.2"), ["GHSA-f89g-whpf-6q9m"]);
    assert!(ids(&db, "pkg:npm/i18next@1.10.3").is_empty());
    assert!(ids(&db, "pkg:npm/i18next@1.10.4").is_empty());
    assert_eq!(ids(&db, "pkg:npm/jquery@2.2.4"), ["GHSA-mhpp-875w-9cpv"]);
    assert!(
        ids(&db, "pkg:npm/jquery@2.1.0").is_empty(),
        "below introduced"
    );
    assert!(ids(&db, "pkg:npm/jquery@3.0.0").is_empty());
}

#[test]
fn maven_around_fix_and_last_affected() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(&corpus, &["fixtures-harvested/Maven"]);
    let text = "pkg:maven/org.apache.commons/commons-text";
    let has = |version: &str| {
        ids(&db, &format!("{text}@{version}")).contains(&"GHSA-599f-7c49-w659".to_owned())
    };
    assert!(!has("1.4"), "below introduced");
    assert!(has("1.5"), "at introduced");
    assert!(has("1.9"), "below the fix");
    assert!(!has("1.10.0"), "at the fix");
    assert!(!has("1.10.1"), "above the fix");
    let fork = "pkg:maven/com.guicedee.services/commons-text";
    let fork_has = |version: &str| {
        ids(&db, &format!("{fork}@{version}")).contains(&"GHSA-599f-7c49-w659".to_owned())
    };
    assert!(fork_has("1.2.2.1-jre17"), "at last_affected");
    assert!(fork_has("1.2.1.2-jre17"), "inside last_affected");
    assert!(!fork_has("1.2.2.2"), "above last_affected");
}

/// Returns whether matching `purl` finds `id`.
fn has(db: &Database, purl: &str, id: &str) -> bool {
    ids(db, purl).iter().any(|found| found == id)
}

#[test]
fn nuget_around_fix() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(
        &corpus,
        &["github-advisory-database/GHSA-4jqc-8m5r-9rpr.json"],
    );
    let id = "GHSA-4jqc-8m5r-9rpr";
    let package = "pkg:nuget/set-value-nuget";
    assert!(has(&db, &format!("{package}@1.9.9"), id), "below the fix");
    assert!(
        has(&db, &format!("{package}@2.0.0-RC.1"), id),
        "pre-release of the fix"
    );
    assert!(!has(&db, &format!("{package}@2.0.0"), id), "at the fix");
    assert!(
        !has(&db, &format!("{package}@2.0.0.0+build"), id),
        "the fix, spelt long"
    );
    assert!(!has(&db, &format!("{package}@2.0.1"), id), "above the fix");
}

#[test]
fn nuget_four_number_versions() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(
        &corpus,
        &["fixtures-harvested/Maven/GHSA-6xx3-rg99-gc3p.json"],
    );
    let id = "GHSA-6xx3-rg99-gc3p";
    // `1.8.6.2` is in no `versions` list: only the range can match it.
    assert!(
        has(&db, "pkg:nuget/BouncyCastle@1.8.6.2", id),
        "below the fix"
    );
    assert!(!has(&db, "pkg:nuget/BouncyCastle@1.8.7", id), "at the fix");
    assert!(
        !has(&db, "pkg:nuget/BouncyCastle@1.8.7.1", id),
        "above the fix"
    );
}

#[test]
fn nuget_range_beside_listed_versions() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(&corpus, &["fixtures-harvested/Go/GHSA-77rm-9x9h-xj3g.json"]);
    let outcome = match_catalog_with_notes(
        &db,
        &catalog(vec![library("pkg:nuget/Google.Protobuf@3.14.1")]),
    )
    .unwrap();
    assert!(outcome.notes.is_empty(), "{:?}", outcome.notes);
    assert_eq!(outcome.findings.len(), 1);
    let finding = &outcome.findings[0];
    assert_eq!(finding.advisory.id, "GHSA-77rm-9x9h-xj3g");
    assert_eq!(
        finding.matched.range, ">=0, <3.15.0",
        "3.14.1 is not listed"
    );
    assert_eq!(finding.advisory.fixed_versions, ["3.15.0"]);
    assert!(ids(&db, "pkg:nuget/Google.Protobuf@3.15.0").is_empty());
    assert!(ids(&db, "pkg:nuget/Google.Protobuf@3.15.1").is_empty());
}

#[test]
fn rubygems_around_fix() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(&corpus, &["fixtures-harvested/RubyGems"]);
    // The events list `introduced: 0, introduced: 4.0.1, fixed: 4.0.5, fixed: 3.0.21`; sorted,
    // they affect versions below 3.0.21 and from 4.0.1 below 4.0.5.
    let id = "GHSA-9qj7-jvg4-qr2x";
    let passenger = |version: &str| has(&db, &format!("pkg:gem/passenger@{version}"), id);
    assert!(passenger("3.0.20"), "below the first fix");
    assert!(!passenger("3.0.21"), "at the first fix");
    assert!(!passenger("4.0.0"), "between the intervals");
    assert!(passenger("4.0.1"), "at the second introduced");
    assert!(passenger("4.0.4"), "below the second fix");
    assert!(passenger("4.0.5.rc1"), "prerelease of the second fix");
    assert!(!passenger("4.0.5"), "at the second fix");
    assert!(!passenger("4.0.5.0"), "the second fix, spelt long");
    assert!(!passenger("4.0.6"), "above the second fix");

    // GHSA-35c4-f3rq-f9g3 is withdrawn, so it is not stored and matches nothing.
    let outcome =
        match_catalog_with_notes(&db, &catalog(vec![library("pkg:gem/activesupport@4.2.1")]))
            .unwrap();
    assert!(outcome.findings.is_empty());
    assert!(outcome.notes.is_empty(), "{:?}", outcome.notes);
}

#[test]
fn packagist_around_fix() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(&corpus, &["fixtures-harvested/Go/GHSA-77rm-9x9h-xj3g.json"]);
    let id = "GHSA-77rm-9x9h-xj3g";
    let protobuf = |version: &str| has(&db, &format!("pkg:composer/google/protobuf@{version}"), id);
    // Versions in the record's `versions` list are written `v3.14.0`; these are not listed.
    assert!(protobuf("3.14.1"), "below the fix");
    assert!(protobuf("v3.15.0-RC3"), "release candidate of the fix");
    assert!(!protobuf("3.15.0"), "at the fix");
    assert!(!protobuf("v3.15.0.0"), "the fix, spelt long");
    assert!(!protobuf("3.15.1"), "above the fix");
}

#[test]
fn ecosystem_without_ordering_matches_listed_versions() {
    let dir = tempfile::tempdir().unwrap();
    let record = serde_json::json!({
        "schema_version": "1.6.0", "id": "GHSA-test-pub0-0001", "modified": "2024-01-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "Pub", "name": "http"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "0.13.3"}]}],
            "versions": ["0.13.1"]}]
    });
    let file = dir.path().join("record.json");
    std::fs::write(&file, serde_json::to_vec(&record).unwrap()).unwrap();
    let mut db = Database::open_in_memory().unwrap();
    db.import(&file).unwrap();

    let outcome =
        match_catalog_with_notes(&db, &catalog(vec![library("pkg:pub/http@0.13.1")])).unwrap();
    assert_eq!(outcome.findings.len(), 1);
    assert_eq!(outcome.findings[0].matched.range, "listed in versions");
    assert_eq!(
        outcome.notes,
        [MatchNote::NoVersionScheme {
            ecosystem: "Pub".to_owned(),
            packages: 1
        }]
    );
    assert!(
        ids(&db, "pkg:pub/http@0.13.2").is_empty(),
        "inside the range but not listed"
    );
}

#[test]
fn unknown_purl_type_is_a_note() {
    let db = Database::open_in_memory().unwrap();
    let outcome =
        match_catalog_with_notes(&db, &catalog(vec![library("pkg:conan/zlib@1.2.13")])).unwrap();
    assert_eq!(
        outcome.notes,
        [MatchNote::UnsupportedPurlType {
            purl_type: "conan".to_owned(),
            packages: 1
        }]
    );
}
