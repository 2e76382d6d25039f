//! dpkg ordering against dpkg's own tests, go-deb-version's tests and about 14,000 real
//! versions from Debian advisories.

use clearbox_version::Scheme;

use crate::{Exceptions, check_file};

#[test]
fn deb_corpus_pairs() {
    let exceptions = Exceptions::default()
        // dpkg's C test builds this version object directly, without parsing. dpkg's parser
        // rejects the upstream version `a` in package control data, and so does this crate.
        .rejecting(
            "upstream version does not start with a digit",
            &["0:a-0", "0:b-0"],
        )
        // go-deb-version tests rpm-style strings. dpkg allows only alphanumerics and `.+~` in a
        // revision, so `x86_64` makes these invalid Debian versions.
        .rejecting(
            "`_` is not allowed in a Debian revision",
            &[
                "6.0-4.el6.x86_64",
                "6.0-5.el6.x86_64",
                "6.1-3.el6.x86_64",
                "7.0-4.el6.x86_64",
            ],
        );
    check_file("debian.tsv", Scheme::Deb, &exceptions);
}
