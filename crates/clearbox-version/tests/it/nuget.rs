//! NuGet ordering against osv-scalibr's `NuGet.Versioning` cases.

use clearbox_version::Scheme;

use crate::{Exceptions, check_file};

#[test]
fn nuget_corpus_pairs() {
    // NuGet keeps the numbers of a version in .NET's `System.Version`, whose parts are 32-bit
    // integers, so `NuGetVersion.TryParse` fails for these 30-digit numbers. The corpus orders
    // them by value, but this crate rejects them as NuGet does.
    let exceptions = Exceptions::default().rejecting(
        "NuGet version numbers are at most 2147483647",
        &[
            "999999999999999999999999999991",
            "999999999999999999999999999999",
            "999999999999999999999999999991.999999999999999999999999999991.999999999999999999999999999991",
            "999999999999999999999999999999.999999999999999999999999999991.999999999999999999999999999991",
        ],
    );
    check_file("nuget.tsv", Scheme::NuGet, &exceptions);
}
