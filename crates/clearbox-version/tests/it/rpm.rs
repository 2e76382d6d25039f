//! rpm ordering against rpm's `rpmvercmp.at`, go-rpm-version's 4,500 `rpmvercmp` cases and
//! osv-scalibr's Red Hat cases.

use std::cmp::Ordering;

use clearbox_version::{Scheme, rpm::rpmvercmp};

use crate::{Exceptions, Pair, Tally, check_pairs, read_pairs, symbol};

/// Notes of rows whose source compared whole strings with `rpmvercmp`, not EVRs.
const RPMVERCMP_NOTES: [&str; 2] = [
    "rpmvercmp on version strings",
    "rpmvercmp (version string, no epoch handling)",
];

#[test]
fn rpm_corpus_pairs() {
    let Some(pairs) = read_pairs("rpm.tsv") else {
        return;
    };
    let (raw, evr): (Vec<Pair>, Vec<Pair>) = pairs
        .into_iter()
        .partition(|pair| RPMVERCMP_NOTES.contains(&pair.note.as_str()));
    let mut tally = Tally::new("rpm.tsv");

    // Rows from osv-scalibr's EVR comparator go through the EVR parser; rows whose source
    // called `rpmvercmp` on whole strings are checked with `rpmvercmp` itself.
    check_pairs(
        &mut tally,
        &evr,
        &Exceptions::default(),
        |version| Scheme::Rpm.parse(version),
        |a, b| a.compare(b).expect("versions share a scheme"),
    );
    for pair in &raw {
        check_rpmvercmp(&mut tally, pair);
    }
    tally.finish();

    // The `rpmvercmp` rows again, as EVRs. Two kinds have no EVR answer: the empty string is no
    // EVR, and an EVR splits at its last `-` into version and release, so `1-2-3-4` is version
    // `1-2-3` and release `4` (below `1.2.3.4`), while `rpmvercmp` reads `-` as a separator like
    // `.` (the two are equal).
    let mut as_evr = Tally::new("rpm.tsv (rpmvercmp rows as EVRs)");
    let (whole_string, evr_compatible): (Vec<Pair>, Vec<Pair>) =
        raw.into_iter().partition(|pair| {
            [&pair.left, &pair.right]
                .iter()
                .any(|v| v.is_empty() || v.contains('-'))
        });
    check_pairs(
        &mut as_evr,
        &evr_compatible,
        &Exceptions::default(),
        |version| Scheme::Rpm.parse(version),
        |a, b| a.compare(b).expect("versions share a scheme"),
    );
    for pair in &whole_string {
        let mut as_documented = true;
        for version in [&pair.left, &pair.right] {
            let parsed = Scheme::Rpm.parse(version);
            if version.is_empty() == parsed.is_ok() {
                as_evr.fail(
                    pair.line,
                    format!(
                        "`{version}`: expected {}",
                        if version.is_empty() {
                            "an error"
                        } else {
                            "an EVR"
                        }
                    ),
                );
                as_documented = false;
            }
        }
        if as_documented {
            as_evr.documented += 1;
        }
    }
    as_evr.finish();
}

fn check_rpmvercmp(tally: &mut Tally, pair: &Pair) {
    let forward = rpmvercmp(&pair.left, &pair.right);
    let backward = rpmvercmp(&pair.right, &pair.left);
    if forward == pair.expected && backward == pair.expected.reverse() {
        tally.agreed += 1;
    } else {
        tally.fail(
            pair.line,
            format!(
                "rpmvercmp: expected `{}` {} `{}`, got {}",
                pair.left,
                symbol(pair.expected),
                pair.right,
                symbol(forward)
            ),
        );
    }
}

#[test]
fn rpm_evr_differs_from_rpmvercmp_on_hyphens() {
    let evr = clearbox_version::compare(Scheme::Rpm, "1-2-3-4", "1.2.3.4").expect("both parse");
    assert_eq!(evr, Ordering::Less);
    assert_eq!(rpmvercmp("1-2-3-4", "1.2.3.4"), Ordering::Equal);
}
