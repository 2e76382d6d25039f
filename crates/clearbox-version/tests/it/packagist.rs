//! Packagist ordering against osv-scalibr's cases (PHP's `version_compare` tests, composer/semver's
//! `ComparatorTest`) and about 10,600 real versions from Packagist advisories.
//!
//! Most rows follow PHP's `version_compare` on the strings as written, after removing a leading
//! `v`. Composer first normalises both versions (`VersionParser::normalize`) and rejects what it
//! cannot normalise. This crate does the same, so the rows below differ by design.

use std::cmp::Ordering::{Equal, Greater, Less};

use clearbox_version::Scheme;

use crate::{Exceptions, check_file};

#[test]
fn packagist_corpus_pairs() {
    let exceptions = Exceptions::default()
        .rejecting(
            "PHP's `version_compare` test strings: Composer accepts no number straight after `-` \
             and no `#`",
            &[
                "4.3-2",
                "4.3-2RC1",
                "4.3-2RC2",
                "4.3-2beta1",
                "4.3-2beta5",
                "1.2.3.#",
                "1.2.3.#.1",
                "1.2.3.#.p3",
                "1.2.3.#.beta",
            ],
        )
        .rejecting(
            "Composer reads a first number of more than five digits as a date, and 30 digits \
             are no date",
            &[
                "999999999999999999999999999991",
                "999999999999999999999999999999",
                "999999999999999999999999999991.999999999999999999999999999991.999999999999999999999999999991",
                "999999999999999999999999999999.999999999999999999999999999991.999999999999999999999999999991",
            ],
        )
        .rejecting(
            "not a Composer version: `test` and `post` are no stability words, and `dev` takes \
             no number",
            &[
                "0.0.1-test1",
                "1.5.1.dev100",
                "1.5.1.dev101",
                "3.0.0b1.post1",
                "3.0.0b1.post2",
                "3.0.0b2.post1",
                "3.0.0b2.post2",
                "3.1.0.post1",
                "3.2.0rc1.post1",
                "3.5.0.post1",
                "3.5.2.post1",
            ],
        )
        .reordering(
            "Composer pads versions to four numbers, so `v3.0` is the release `3.0.0.0`; \
             `version_compare` on the raw strings puts the one with fewer numbers first",
            &[
                ("1.0.0", Equal, "1.0"),
                ("v3.0", Greater, "v3.0.0-beta"),
                ("v3.4", Greater, "v3.4.0-alpha"),
                ("v4-beta4", Greater, "v4.0-alpha"),
                ("v4.4", Greater, "v4.4.0-beta"),
                ("v6.5", Greater, "v6.5.0-beta-0"),
                ("v6.6", Greater, "v6.6.0-beta"),
            ],
        )
        .reordering(
            "Composer lower-cases stability words; `version_compare` knows only `alpha` and \
             `beta` and ranks `ALPHA` and `BETA` as equal unknown words",
            &[
                ("v1.9.0-ALPHA.1", Less, "v1.9.0-BETA.1"),
                ("v1.9.0-BETA.1", Greater, "v1.9.0-ALPHA.2"),
                ("v1.9.0-ALPHA.2", Less, "v1.9.0-BETA.2"),
            ],
        )
        .reordering(
            "Composer drops a `-stable` suffix, so `5.1.0-stable` is the release; \
             `version_compare` ranks the unknown word `stable` below `beta`",
            &[("5.1.0-stable", Greater, "5.1.0-beta2")],
        );
    check_file("packagist.tsv", Scheme::Packagist, &exceptions);
}
