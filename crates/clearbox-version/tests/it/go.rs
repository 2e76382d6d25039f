//! Go module version ordering and canonical forms against golang.org/x/mod/semver's tests.

use clearbox_version::Scheme;
use clearbox_version::go::GoVersion;

use crate::{Exceptions, Tally, check_file, read_rows};

/// Versions that `go-semver-canonical.tsv` marks invalid (an empty canonical form).
fn invalid_versions() -> Vec<String> {
    let Some(rows) = read_rows("go-semver-canonical.tsv") else {
        return Vec::new();
    };
    rows.into_iter()
        .filter(|row| row.field(1).is_empty())
        .map(|row| row.field(0).to_owned())
        .collect()
}

#[test]
fn go_corpus_pairs() {
    // x/mod/semver orders invalid versions equal to each other and below every valid version.
    // Here an invalid version is an error, so rows with one check that it is rejected.
    let invalid = invalid_versions();
    let invalid: Vec<&str> = invalid.iter().map(String::as_str).collect();
    let exceptions = Exceptions::default().rejecting("invalid Go module version", &invalid);
    check_file("go.tsv", Scheme::Go, &exceptions);
}

#[test]
fn go_corpus_canonical() {
    let Some(rows) = read_rows("go-semver-canonical.tsv") else {
        return;
    };
    let mut tally = Tally::new("go-semver-canonical.tsv");
    for row in &rows {
        let (input, expected) = (row.field(0), row.field(1));
        match (GoVersion::parse(input), expected) {
            (Err(_), "") => tally.agreed += 1,
            (Ok(version), "") => tally.fail(
                row.line,
                format!(
                    "`{input}` parsed as `{}`, but is invalid",
                    version.canonical()
                ),
            ),
            (Err(error), _) => tally.fail(row.line, error.to_string()),
            (Ok(version), expected) if version.canonical() == expected => tally.agreed += 1,
            (Ok(version), expected) => tally.fail(
                row.line,
                format!(
                    "`{input}`: expected `{expected}`, got `{}`",
                    version.canonical()
                ),
            ),
        }
    }
    tally.finish();
}
