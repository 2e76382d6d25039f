//! SemVer precedence against node-semver's comparison and equality tests and osv-scalibr's
//! SemVer cases, plus node-semver's list of valid and invalid versions.

use clearbox_version::Scheme;
use clearbox_version::semver::SemverVersion;

use crate::{Exceptions, Pair, Tally, check_pairs, read_pairs, read_rows};

#[test]
fn semver_corpus_pairs() {
    let Some(pairs) = read_pairs("semver.tsv") else {
        return;
    };
    // node-semver marks the rows that need its `loose` option in the note column.
    let (loose, strict): (Vec<Pair>, Vec<Pair>) = pairs
        .into_iter()
        .partition(|pair| pair.note.split(';').any(|option| option == "loose"));
    let mut tally = Tally::new("semver.tsv");

    // osv-scalibr's SemVer comparator accepts any number of dot-separated numbers; SemVer 2.0.0
    // requires exactly MAJOR.MINOR.PATCH.
    let exceptions = Exceptions::default().rejecting(
        "SemVer needs exactly three version numbers",
        &[
            "999999999999999999999999999991",
            "999999999999999999999999999999",
            "1.1.3.4.5",
        ],
    );
    check_pairs(
        &mut tally,
        &strict,
        &exceptions,
        |version| Scheme::Semver.parse(version),
        |a, b| a.compare(b).expect("versions share a scheme"),
    );
    check_pairs(
        &mut tally,
        &loose,
        &Exceptions::default(),
        SemverVersion::parse_loose,
        Ord::cmp,
    );
    tally.finish();
}

/// node-semver's valid and invalid versions; the source column names the `loose` option.
#[test]
fn semver_corpus_validity() {
    let Some(rows) = read_rows("npm-semver-validity.tsv") else {
        return;
    };
    let mut tally = Tally::new("npm-semver-validity.tsv");
    for row in &rows {
        let version = row.field(0);
        let valid = row.field(1) == "true";
        let parsed = if row.field(2).ends_with("; loose)") {
            SemverVersion::parse_loose(version).map(drop)
        } else {
            SemverVersion::parse(version).map(drop)
        };
        match (valid, parsed) {
            (true, Ok(())) | (false, Err(_)) => tally.agreed += 1,
            (true, Err(error)) => tally.fail(row.line, error.to_string()),
            (false, Ok(())) => tally.fail(row.line, format!("`{version}` parsed, but is invalid")),
        }
    }
    tally.finish();
}

/// node-semver's range-include and range-exclude fixtures; the options column names `loose` and
/// `includePrerelease`.
#[test]
fn npm_range_corpus() {
    use clearbox_version::semver::range::{RangeOptions, satisfies};

    let Some(rows) = read_rows("npm-semver-ranges.tsv") else {
        return;
    };
    let mut tally = Tally::new("npm-semver-ranges.tsv");
    for row in &rows {
        let (range, version) = (row.field(0), row.field(1));
        let expected = row.field(2) == "true";
        let options = RangeOptions {
            loose: row.field(3).split(';').any(|o| o == "loose"),
            include_prerelease: row.field(3).split(';').any(|o| o == "includePrerelease"),
        };
        let found = satisfies(version, range, options);
        if found == expected {
            tally.agreed += 1;
        } else {
            tally.fail(
                row.line,
                format!("`{version}` in `{range}` ({options:?}): expected {expected}, got {found}"),
            );
        }
    }
    tally.finish();
}
