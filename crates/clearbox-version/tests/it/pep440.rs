//! PEP 440 ordering against pypa/packaging's tests and about 12,000 real versions from PyPI
//! advisories, plus packaging's list of invalid versions.

use clearbox_version::Scheme;

use crate::{Exceptions, Tally, check_file, read_rows};

/// Real PyPI release names that are not PEP 440 versions. osv-scalibr orders them as legacy
/// versions below every valid one; pypa/packaging 22 and later raises `InvalidVersion` for them,
/// and so does this crate.
const LEGACY: &[&str] = &[
    "-class.-jw.util.version.Version-",
    "-class.-jw.util.version.version-dev",
    "-class.-jw.util.version.version-pre",
    "-class.-jw.util.version.version-preview",
    "0.0.1-test1",
    "0.1-bulbasaur",
    "0.1-charmander",
    "0.3.1-p1",
    "0.3m1",
    "0.3m2",
    "0.3m3",
    "0.3m4",
    "0.3m5",
    "0.4.0-p1",
    "0.4m1",
    "0.4m2",
    "0.4m3",
    "0.4m4",
    "0.4m5",
    "0.5m1",
    "0.5m2",
    "0.5m3",
    "0.5m4",
    "0.5m5",
    "0.6m1",
    "0.6m2",
    "0.6m3",
    "0.6m4",
    "0.6m5",
    "0.6m6",
    "0.7.1.fix1",
    "0.7.10p1",
    "0.7.11p1",
    "0.7.11p2",
    "0.7.11p3",
    "0.7.4.svn.r2010",
    "0.8.1p1",
    "0.8.3p1",
    "0.8.4p1",
    "0.8.4p2",
    "0.8.6p1",
    "0.8.7p1",
    "0.9-doduo",
    "0.9-eevee",
    "0.9-fearow",
    "0.9-gyarados",
    "0.9-horsea",
    "0.9-ivysaur",
    "1.0beta6.1",
    "1.3.1-STAGING",
    "2.0.0-final",
    "2.0.1rc2-git",
    "2013-01-21T20:33:09+0100",
    "2013-01-23T17:11:52+0100",
    "2013-02-01T20:50:46+0100",
    "2013-02-02T19:59:03+0100",
    "2013-02-02T20:23:17+0100",
    "2013-02-08T17:40:57+0000",
    "2013-03-27T16:32:26+0100",
    "2013-05-09T12:47:53+0200",
    "2013-05-10T17:55:56+0200",
    "2013-05-14T20:16:05+0200",
    "2013-06-01T10:32:51+0200",
    "2013-07-19T09:11:08+0000",
    "2013-08-12T21:48:56+0200",
    "2013-09-11T19-27-10",
    "2013-12-23T17-51-15",
    "2014-01-12T15-52-10",
    "4.11-final",
    "5.0-final",
    "a3",
    "trunk",
];

#[test]
fn pep440_corpus_pairs() {
    let exceptions = Exceptions::default().rejecting("legacy version, not PEP 440", LEGACY);
    check_file("pep440.tsv", Scheme::Pep440, &exceptions);
}

/// pypa/packaging's invalid versions must all be rejected.
#[test]
fn pep440_corpus_invalid() {
    let Some(rows) = read_rows("pep440-invalid.tsv") else {
        return;
    };
    let mut tally = Tally::new("pep440-invalid.tsv");
    for row in &rows {
        let version = row.field(0);
        match Scheme::Pep440.parse(version) {
            Err(_) => tally.agreed += 1,
            Ok(_) => tally.fail(row.line, format!("`{version}` parsed, but is invalid")),
        }
    }
    tally.finish();
}
