//! RubyGems ordering against osv-scalibr's `Gem::Version` cases and about 4,100 real versions
//! from RubyGems advisories.

use clearbox_version::Scheme;

use crate::{Exceptions, check_file};

#[test]
fn rubygems_corpus_pairs() {
    // The corpus orders `1beta` below `1`, as a prerelease. RubyGems 3.3 wants a `.` or `-`
    // before letters (`Gem::Version::VERSION_PATTERN`) and raises "Malformed version number
    // string" for these, and so does this crate.
    let exceptions = Exceptions::default().rejecting(
        "`Gem::Version` rejects letters straight after the first number",
        &["1beta", "1gamma"],
    );
    check_file("rubygems.tsv", Scheme::RubyGems, &exceptions);
}
