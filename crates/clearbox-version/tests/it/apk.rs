//! apk-tools ordering against apk-tools' own tests and about 14,000 real versions from Alpine's
//! security database, plus apk-tools' list of valid and invalid versions.

use clearbox_version::Scheme;

use crate::{Exceptions, Tally, check_file, read_rows};

/// Strings that osv-scalibr's test list orders, as older or lenient apk-tools releases did, but
/// that apk-tools' version grammar (`apk-package(5)`, and the `apk-validity.tsv` rows) rejects.
fn scalibr_invalid() -> Exceptions {
    Exceptions::default()
        .rejecting(
            "`-` must start a revision `-rN` with a number, and nothing may follow it",
            &[
                "1-r",
                "1-r-0",
                "1-r-1",
                "1-r-2",
                "1-ruff",
                "1-ruff1",
                "1-ruff2",
                "1--ruff1",
                "1-r0-1",
                "1-r0-2",
                "1-r0-ruff1",
                "1-r0-ruff2",
            ],
        )
        .rejecting(
            "a `.` must be followed by a number",
            &[
                "0.r1",
                "0..1..0",
                "0..1..1",
                "0...1...0",
                "0...1...1",
                "0...1...0.r1",
                "0...1...0.r2",
                "0...1...0r1",
                "0...1...0r2",
                "0..8",
                "0...8",
                "0.8.21.r1",
                "0.8.21.r2",
                "10.2.22.r0",
                "10.2.24.r0",
            ],
        )
        .rejecting(
            "a version must start with a digit",
            &[".1", ".2", "a", "b", "c"],
        )
        .rejecting("letters must be lower case", &["1.2.0A", "1.2.0D"])
        .rejecting("only one letter may follow a number", &["1.0bc"])
        .rejecting("unknown suffix", &["1.2_blah", "1.2_csv2", "23_foo"])
}

#[test]
fn apk_corpus_pairs() {
    check_file("apk.tsv", Scheme::Apk, &scalibr_invalid());
}

/// apk-tools' list of valid and invalid version strings.
#[test]
fn apk_corpus_validity() {
    let Some(rows) = read_rows("apk-validity.tsv") else {
        return;
    };
    let mut tally = Tally::new("apk-validity.tsv");
    for row in &rows {
        let version = row.field(0);
        let valid = row.field(1) == "true";
        let parsed = Scheme::Apk.parse(version);
        if version == "0.1a1" {
            // apk-tools 3 rejects digits after the letter, but apk-tools 2 accepts them and
            // Alpine's security database uses the form (`6.6.2p1-r0`), so this crate accepts it.
            if parsed.is_ok() {
                tally.documented += 1;
            } else {
                tally.fail(row.line, "`0.1a1` should parse as an apk-tools 2 version");
            }
            continue;
        }
        match (valid, parsed) {
            (true, Ok(_)) | (false, Err(_)) => tally.agreed += 1,
            (true, Err(error)) => tally.fail(row.line, error.to_string()),
            (false, Ok(_)) => tally.fail(row.line, format!("`{version}` parsed, but is invalid")),
        }
    }
    tally.finish();
}
