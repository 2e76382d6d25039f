//! Maven ordering against Maven's `ComparableVersionTest` and about 14,700 real versions from
//! Maven advisories.

use std::cmp::Ordering::Greater;

use clearbox_version::Scheme;

use crate::{Exceptions, check_file};

#[test]
fn maven_corpus_pairs() {
    let exceptions = Exceptions::default()
        // osv-scalibr generated its list with Maven 3.8's ComparableVersion. Maven 4, whose
        // tests are in the same file and whose order this crate follows, reads letters followed
        // by digits (`rc2`, `sec10`, `beta-1`) as one item that sorts above the bare qualifier,
        // and a qualifier after `.` like one after `-`, so these pairs change order.
        .reordering(
            "Maven 4 orders this pair differently from Maven 3.8",
            &[
                ("3.2.0rc2", Greater, "3.2.0-rc.1"),
                ("1.0.0-RC16", Greater, "1.0.0.RC8-beta"),
                ("1.0.0-gradle-rework-beta3", Greater, "1.0.0.RC7-3"),
                ("2.9.0-1", Greater, "2.9.0.RC1"),
                ("6.1.12.rc5", Greater, "6.1.12rc1"),
                ("1.0.0-beta11", Greater, "1.0.0-beta.6"),
                ("1.1.31.sec10", Greater, "1.1.31_noneautotype"),
                ("1.1.34.sec10", Greater, "1.1.34_noneautotype"),
                ("1.1.46.sec10", Greater, "1.1.46_noneautotype"),
                ("1.2.8.sec10_noneautotype", Greater, "1.2.8_noneautotype"),
                ("1.2.31.sec10", Greater, "1.2.31_noneautotype"),
                ("1.2.48.sec10", Greater, "1.2.48_noneautotype"),
                ("1.2.50.sec10", Greater, "1.2.50_noneautotype"),
                ("1.2.54.sec10", Greater, "1.2.54_noneautotype"),
                ("1.2.57.sec10", Greater, "1.2.57_noneautotype"),
                ("1.2.60.sec10", Greater, "1.2.60_noneautotype"),
                ("1.2.67.sec10", Greater, "1.2.67_noneautotype"),
                ("1.0.0rc0", Greater, "1.0.beta8"),
                ("1.5.9.RC1", Greater, "1.5.9-RC0"),
                ("3.5.0-CR-2", Greater, "3.5.0.Beta-1"),
                ("1.1.0-01-glassfish", Greater, "1.1.0.Beta1"),
                ("v3.7.0rc2", Greater, "v3.7.0-rc.3"),
                // osv-scalibr's own test: Maven 3 reads `bar-1` and `baz-0` as a qualifier
                // and a nested number, which makes the two equal. Maven 4 reads them as the
                // combined items `bar1` and `baz0`, and `baz0` sorts above the bare `baz`.
                ("1-1.foo-bar-1-baz-0.1", Greater, "1-1.foo-bar1baz-.1"),
            ],
        )
        // osv-scalibr's own comparator drops `ga` before a number. Maven 3.8, 3.9 and 4 all
        // keep it, so `1-1` (a number) sorts above `1-ga-1` (a qualifier).
        .reordering(
            "every Maven release orders `1-1` above `1-ga-1`",
            &[("1-1", Greater, "1-ga-1")],
        );
    check_file("maven.tsv", Scheme::Maven, &exceptions);
}
