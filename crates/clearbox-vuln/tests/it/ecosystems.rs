//! Range boundaries per ecosystem, each on a real record of the corpus. Every case names the
//! record and why it was chosen; versions below, at and above each boundary are checked.

use clearbox_catalog::Package;
use clearbox_vuln::Database;

use crate::support::{affected_ids, corpus_db, go_module, go_stdlib, python, require};

/// Matches the package and returns whether `id` affects it.
fn affects(db: &Database, id: &str, package: Package) -> bool {
    affected_ids(db, package).contains(id)
}

fn check(db: &Database, id: &str, make: impl Fn(&str) -> Package, cases: &[(&str, bool)]) {
    for &(version, expected) in cases {
        assert_eq!(
            affects(db, id, make(version)),
            expected,
            "{id} at {version}: expected affected = {expected}"
        );
    }
}

/// PYSEC-2023-74 (`requests`): `introduced: 2.3.0`, `fixed: 2.31.0`, plus a `versions` list.
/// `2.30.0.post1` is in the range but not in the list, so it shows the range is evaluated and
/// not only the list.
#[test]
fn pypi_introduced_and_fixed() {
    let db = require!(corpus_db()).open();
    let requests = |v: &str| python("requests", v);
    check(
        &db,
        "PYSEC-2023-74",
        requests,
        &[
            ("2.2.1", false),
            ("2.3.0", true),
            ("2.30.0", true),
            ("2.30.0.post1", true),
            ("2.31.0", false),
            ("2.31.0.post1", false),
            ("2.32.0", false),
        ],
    );
}

/// PYSEC-2022-42969 (`py`): the corpus's one PyPA range closed by `last_affected: 1.11.0`, which
/// is itself affected. `1.10.0.post1` is not in its `versions` list.
#[test]
fn pypi_last_affected() {
    let db = require!(corpus_db()).open();
    check(
        &db,
        "PYSEC-2022-42969",
        |v| python("py", v),
        &[
            ("1.10.0.post1", true),
            ("1.11.0", true),
            ("1.11.0.post1", false),
            ("1.11.1", false),
        ],
    );
}

/// PYSEC-2024-1 (`gratient`): the corpus's one PyPA entry with only a `versions` list (`0.5`)
/// and no usable range. `0.5.0` equals `0.5` under PEP 440.
#[test]
fn pypi_versions_list_only() {
    let db = require!(corpus_db()).open();
    check(
        &db,
        "PYSEC-2024-1",
        |v| python("gratient", v),
        &[
            ("0.4", false),
            ("0.5", true),
            ("0.5.0", true),
            ("0.5.1", false),
        ],
    );
}

/// PYSEC-2023-72 (`pyspark`): three ranges given out of order and touching at `3.1.1` and
/// `3.2.0`, where one `fixed` and one `introduced` share a version. Also checks the PEP 503
/// name: the catalog spells the project `PySpark`.
#[test]
fn pypi_adjacent_ranges() {
    let db = require!(corpus_db()).open();
    check(
        &db,
        "PYSEC-2023-72",
        |v| python("PySpark", v),
        &[
            ("3.1.0", true),
            ("3.1.1", true),
            ("3.2.0", true),
            ("3.2.1", true),
            ("3.2.2", false),
        ],
    );
}

/// GO-2023-1751 (`stdlib`): two branches, `[0, 1.19.9)` and `[1.20.0-0, 1.20.4)`; `1.20.0-0`
/// is Go vulndb's way to include the 1.20 pre-releases.
#[test]
fn go_stdlib_branches() {
    let db = require!(corpus_db()).open();
    check(
        &db,
        "GO-2023-1751",
        |v| go_stdlib(v, "/usr/bin/age"),
        &[
            ("1.19.8", true),
            ("1.19.9", false),
            ("1.20.0-rc.1", true),
            ("1.20.0", true),
            ("1.20.3", true),
            ("1.20.4", false),
            ("1.21.0", false),
        ],
    );
}

/// GO-2020-0012 (`golang.org/x/crypto`): fixed at a pseudo-version,
/// `0.0.0-20200220183623-bac4c82f6975`. Pseudo-versions order by their timestamp.
#[test]
fn go_pseudo_version_fixed() {
    let db = require!(corpus_db()).open();
    check(
        &db,
        "GO-2020-0012",
        |v| go_module("golang.org/x/crypto", v, "/usr/bin/app"),
        &[
            ("v0.0.0-20200220183622-0000000000aa", true),
            ("v0.0.0-20200220183623-bac4c82f6975", false),
            ("v0.0.0-20200302210943-78000ba7a073", false),
            ("v0.1.0", false),
        ],
    );
}

/// GO-2021-0072 (`github.com/docker/distribution`): fixed at `2.7.0-rc.0+incompatible`. Build
/// metadata does not count in SemVer precedence, and `beta` sorts before `rc`.
#[test]
fn go_incompatible_versions() {
    let db = require!(corpus_db()).open();
    check(
        &db,
        "GO-2021-0072",
        |v| go_module("github.com/docker/distribution", v, "/usr/bin/app"),
        &[
            ("v2.6.2+incompatible", true),
            ("v2.7.0-beta.1+incompatible", true),
            ("v2.7.0-rc.0+incompatible", false),
            ("v2.7.1+incompatible", false),
        ],
    );
}

/// GO-2024-3344 (`filippo.io/age`): affects the example image's own main module.
#[test]
fn go_main_module() {
    let db = require!(corpus_db()).open();
    let ids = affected_ids(&db, go_module("filippo.io/age", "v1.1.1", "/usr/bin/age"));
    assert!(ids.contains("GO-2024-3344"), "{ids:?}");
}

/// An unparsable package version is a note, not a failure or a silent miss.
#[test]
fn invalid_package_version_is_a_note() {
    let db = require!(corpus_db()).open();
    let catalog =
        crate::support::catalog(vec![go_module("filippo.io/age", "(devel)", "/usr/bin/age")]);
    let outcome = clearbox_vuln::match_catalog_with_notes(&db, &catalog).unwrap();
    assert!(outcome.findings.is_empty());
    assert_eq!(outcome.notes.len(), 1, "{:?}", outcome.notes);
    assert!(
        matches!(&outcome.notes[0], clearbox_vuln::MatchNote::InvalidVersion { version, .. } if version == "(devel)"),
        "{:?}",
        outcome.notes
    );
}
