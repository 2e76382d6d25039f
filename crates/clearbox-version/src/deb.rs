//! Debian package versions (`[epoch:]upstream_version[-debian_revision]`), ordered as dpkg
//! orders them.
//!
//! The format is Debian Policy §5.6.12
//! (<https://www.debian.org/doc/debian-policy/ch-controlfields.html#version>). Ordering follows
//! dpkg's `verrevcmp`: the epoch compares as a number, then the upstream version and the
//! revision each compare as alternating runs of non-digits and digits. In a non-digit run `~`
//! sorts before everything, the end of the run next, then letters, then every other character.
//! Digit runs compare by value, and a missing revision equals `0`.
//!
//! Parsing rejects what dpkg's `parseversion` rejects (an empty version, a non-numeric or
//! too-large epoch, nothing after the colon, an empty revision after a hyphen, an empty upstream
//! version). It also rejects the two forms dpkg only warns about: an upstream version that does
//! not start with a digit, and characters outside `[A-Za-z0-9.+~-:]` (outside `[A-Za-z0-9.+~]`
//! in the revision). dpkg refuses both in package control data, so neither appears in an
//! installed-package database or a Debian advisory. Surrounding whitespace is trimmed, as dpkg
//! trims it.

use std::cmp::Ordering;

use crate::{Scheme, VersionError};

/// Largest epoch dpkg accepts (`INT_MAX`).
const MAX_EPOCH: u32 = i32::MAX as u32;

/// A parsed dpkg version.
#[derive(Debug, Clone)]
pub struct DebVersion {
    epoch: u32,
    upstream: Box<str>,
    /// Empty when the version has no hyphen; `verrevcmp` orders that the same as `0`.
    revision: Box<str>,
}

impl DebVersion {
    /// Parses a dpkg version string.
    pub fn parse(input: &str) -> Result<DebVersion, VersionError> {
        let invalid = |reason: &str| VersionError::invalid(Scheme::Deb, input, reason);
        let version = input.trim_matches(|c: char| c.is_ascii_whitespace());
        if version.is_empty() {
            return Err(invalid("version string is empty"));
        }
        if version.contains(|c: char| c.is_ascii_whitespace()) {
            return Err(invalid("version string has embedded spaces"));
        }

        // The epoch ends at the first colon; later colons belong to the upstream version.
        let (epoch, rest) = match version.split_once(':') {
            Some((epoch, rest)) => (parse_epoch(epoch).map_err(invalid)?, rest),
            None => (0, version),
        };
        if rest.is_empty() {
            return Err(invalid("nothing after colon in version number"));
        }

        // The revision starts after the last hyphen; earlier hyphens belong to the upstream.
        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((_, "")) => return Err(invalid("revision number is empty")),
            Some((upstream, revision)) => (upstream, revision),
            None => (rest, ""),
        };
        if upstream.is_empty() {
            return Err(invalid("version number is empty"));
        }
        if !upstream.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(invalid("version number does not start with a digit"));
        }
        if let Some(c) = upstream.chars().find(|&c| !is_upstream_char(c)) {
            return Err(invalid(&format!(
                "invalid character `{c}` in version number"
            )));
        }
        if let Some(c) = revision.chars().find(|&c| !is_revision_char(c)) {
            return Err(invalid(&format!(
                "invalid character `{c}` in revision number"
            )));
        }

        Ok(DebVersion {
            epoch,
            upstream: upstream.into(),
            revision: revision.into(),
        })
    }

    /// Returns the epoch, `0` when the version has none.
    #[must_use]
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// Returns the upstream version.
    #[must_use]
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    /// Returns the Debian revision, empty when the version has none.
    #[must_use]
    pub fn revision(&self) -> &str {
        &self.revision
    }
}

fn parse_epoch(epoch: &str) -> Result<u32, &'static str> {
    if epoch.is_empty() {
        return Err("epoch in version is empty");
    }
    if !epoch.bytes().all(|b| b.is_ascii_digit()) {
        return Err("epoch in version is not a number");
    }
    match epoch.parse::<u32>() {
        Ok(value) if value <= MAX_EPOCH => Ok(value),
        _ => Err("epoch in version is too big"),
    }
}

fn is_upstream_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '~' | '-' | ':')
}

fn is_revision_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '~')
}

/// Returns the weight of one character in a non-digit run, where `None` is the end of the
/// string.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// Orders two upstream versions or two revisions as dpkg's `verrevcmp` does.
fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        // Non-digit runs, character by character. The loop only advances while both sides have
        // a non-digit character of equal weight, because a digit and the end both weigh 0 and
        // every non-digit weighs something else.
        while a.get(i).is_some_and(|c| !c.is_ascii_digit())
            || b.get(j).is_some_and(|c| !c.is_ascii_digit())
        {
            let (wa, wb) = (order(a.get(i).copied()), order(b.get(j).copied()));
            if wa != wb {
                return wa.cmp(&wb);
            }
            i += 1;
            j += 1;
        }

        // Digit runs, by value.
        let start_a = i;
        while a.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let start_b = j;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        let by_value = crate::number::cmp_digits(&a[start_a..i], &b[start_b..j]);
        if by_value != Ordering::Equal {
            return by_value;
        }
    }
    Ordering::Equal
}

impl Ord for DebVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| verrevcmp(self.upstream.as_bytes(), other.upstream.as_bytes()))
            .then_with(|| verrevcmp(self.revision.as_bytes(), other.revision.as_bytes()))
    }
}

impl PartialOrd for DebVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Equality is ordering equality: `1.0-1` equals `1.00-1` and `0:1.0-0` equals `1.0`.
impl PartialEq for DebVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for DebVersion {}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        let a = DebVersion::parse(a).expect("left version parses");
        let b = DebVersion::parse(b).expect("right version parses");
        a.cmp(&b)
    }

    fn reason(input: &str) -> String {
        match DebVersion::parse(input) {
            Err(VersionError::Invalid { reason, .. }) => reason,
            other => panic!("`{input}` should be invalid, got {other:?}"),
        }
    }

    #[test]
    fn deb_ordering_table() {
        use Ordering::{Equal, Greater, Less};
        let cases = [
            ("epoch beats upstream", "1:0.1", "2.0", Greater),
            ("missing epoch is zero", "0:1.0", "1.0", Equal),
            ("tilde sorts before end", "1.0~rc1", "1.0", Less),
            ("double tilde before single", "1.0~~", "1.0~", Less),
            ("end sorts before letters", "1.0", "1.0a", Less),
            ("letters before non-letters", "1.0a", "1.0+", Less),
            ("digit runs by value", "1.9", "1.10", Less),
            ("leading zeros ignored", "1.0000-1", "1.0-1", Equal),
            ("missing revision equals zero", "1.0", "1.0-0", Equal),
            ("revision compared last", "1.0-2", "1.0-10", Less),
            ("hyphen inside upstream", "1.0-beta-1", "1.0-1", Greater),
            ("colon inside upstream", "1:1:2-1", "1:1:10-1", Less),
            ("security backport", "1.2.3-1~deb7u1", "1.2.3-1", Less),
            ("nmu after base", "1.0.8+nmu1", "1.0.8", Greater),
            (
                "uppercase before lowercase",
                "0foo~foo+Bar",
                "0foo~foo+bar",
                Less,
            ),
            (
                "huge digit runs",
                "1.99999999999999999999",
                "1.100000000000000000000",
                Less,
            ),
        ];
        for (name, a, b, expected) in cases {
            assert_eq!(cmp(a, b), expected, "{name}: {a} vs {b}");
        }
    }

    #[test]
    fn deb_accessors_split_fields() {
        let version = DebVersion::parse("2:1.0-beta-3ubuntu1").expect("version parses");
        assert_eq!(version.epoch(), 2);
        assert_eq!(version.upstream(), "1.0-beta");
        assert_eq!(version.revision(), "3ubuntu1");
    }

    #[test]
    fn deb_trims_surrounding_whitespace() {
        assert_eq!(cmp(" 1.0-1\t", "1.0-1"), Ordering::Equal);
    }

    #[test]
    fn deb_invalid_table() {
        let cases = [
            ("empty", "", "version string is empty"),
            ("only spaces", "   ", "version string is empty"),
            (
                "embedded space",
                "1.0 1",
                "version string has embedded spaces",
            ),
            ("empty epoch", ":1.0", "epoch in version is empty"),
            ("letter epoch", "a:1.0", "epoch in version is not a number"),
            (
                "negative epoch",
                "-1:1.0",
                "epoch in version is not a number",
            ),
            (
                "epoch too big",
                "2147483648:1.0",
                "epoch in version is too big",
            ),
            (
                "nothing after colon",
                "1:",
                "nothing after colon in version number",
            ),
            ("empty revision", "1.0-", "revision number is empty"),
            ("empty upstream", "-1", "version number is empty"),
            (
                "letter first",
                "a1.0",
                "version number does not start with a digit",
            ),
            (
                "underscore",
                "1.0_1",
                "invalid character `_` in version number",
            ),
            (
                "colon in revision",
                "1:1.0-1:2",
                "invalid character `:` in revision number",
            ),
            (
                "underscore in revision",
                "6.0-4.el6.x86_64",
                "invalid character `_` in revision number",
            ),
        ];
        for (name, input, expected) in cases {
            assert_eq!(reason(input), expected, "{name}: `{input}`");
        }
    }

    #[test]
    fn deb_largest_epoch_parses() {
        let version = DebVersion::parse("2147483647:1.0").expect("INT_MAX epoch parses");
        assert_eq!(version.epoch(), MAX_EPOCH);
    }
}
