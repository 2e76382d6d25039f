//! Language packages known by purl (as SBOMs list them) against real GHSA records: npm (SEMVER
//! ranges), Maven (`ECOSYSTEM` ranges and `last_affected`), NuGet (only listed versions, since
//! clearbox has no NuGet ordering) and RubyGems (no ordering: a note, no finding).
//!
//! | record | why |
//! |---|---|
//! | `npm/GHSA-f89g-whpf-6q9m` | `i18next`, `introduced: 0`, `fixed: 1.10.3` |
//! | `npm/GHSA-mhpp-875w-9cpv` | `jquery`, pre-release `introduced: 2.1.1-0` |
//! | `Maven/GHSA-599f-7c49-w659` | `commons-text` 1.5 to 1.10.0, and a fork with `last_affected` |
//! | `Go/GHSA-77rm-9x9h-xj3g` | `Google.Protobuf` on NuGet with a `versions` list |
//! | `RubyGems/GHSA-35c4-f3rq-f9g3` | `activesupport`, three ranges |

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

#[test]
fn nuget_listed_versions_only() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(&corpus, &["fixtures-harvested/Go/GHSA-77rm-9x9h-xj3g.json"]);
    let outcome = match_catalog_with_notes(
        &db,
        &catalog(vec![library("pkg:nuget/Google.Protobuf@3.14.0")]),
    )
    .unwrap();
    assert_eq!(outcome.findings.len(), 1);
    assert_eq!(outcome.findings[0].matched.range, "listed in versions");
    assert_eq!(
        outcome.notes,
        [MatchNote::NoVersionScheme {
            ecosystem: "NuGet".to_owned(),
            packages: 1
        }]
    );
    assert!(ids(&db, "pkg:nuget/Google.Protobuf@3.15.0").is_empty());
}

#[test]
fn rubygems_without_scheme_is_a_note() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(&corpus, &["fixtures-harvested/RubyGems"]);
    let outcome =
        match_catalog_with_notes(&db, &catalog(vec![library("pkg:gem/activesupport@4.2.1")]))
            .unwrap();
    assert!(outcome.findings.is_empty());
    assert_eq!(
        outcome.notes,
        [MatchNote::NoVersionScheme {
            ecosystem: "RubyGems".to_owned(),
            packages: 1
        }]
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
