//! RPM versions (`[epoch:]version[-release]`, the EVR), ordered as rpm 4.15 and later order
//! them.
//!
//! The epoch compares as a number (missing is `0`), then the version and the release each
//! compare with `rpmvercmp`. That algorithm splits a string into runs of ASCII digits and runs
//! of ASCII letters. Every other character only separates runs, except for two:
//! - `~` sorts before everything, even the end of the string, so `1.0~rc1 < 1.0`;
//! - `^` sorts after the end of the string but before any further run, so
//!   `1.0 < 1.0^git1 < 1.0.1`.
//!
//! A digit run beats a letter run, digit runs compare by value and letter runs by bytes. When
//! one string runs out, the one with characters left is greater. rpm's own cases are in
//! <https://github.com/rpm-software-management/rpm/blob/master/tests/rpmvercmp.at>; `^` needs
//! rpm 4.15 or later (`rpmlib(CaretInVersions)`).
//!
//! The split follows rpm's `parseEVR`: an epoch is a run of digits directly followed by a colon
//! at the start (an empty run is epoch `0`), and the release starts after the last hyphen. A
//! colon anywhere else is part of the version, where `rpmvercmp` treats it as a separator.
//!
//! Unlike rpm's dependency matching, where a missing release matches every release, a version
//! without a release sorts before the same version with any release (even an empty one, as in
//! `1-`). Installed packages and advisories both carry full EVRs, so the difference only shows
//! when comparing bare versions.
//!
//! Parsing rejects an empty string, an empty version, and whitespace or control characters.
//! rpm itself accepts any other byte; non-ASCII letters such as `α` are separators for it and
//! here.

use std::cmp::Ordering;

use crate::number::{Number, cmp_digits};
use crate::{Scheme, VersionError};

/// A parsed rpm EVR.
#[derive(Debug, Clone)]
pub struct RpmVersion {
    epoch: Number,
    version: Box<str>,
    release: Option<Box<str>>,
}

impl RpmVersion {
    /// Parses an `[epoch:]version[-release]` string.
    pub fn parse(input: &str) -> Result<RpmVersion, VersionError> {
        let invalid = |reason: &str| VersionError::invalid(Scheme::Rpm, input, reason);
        if input.is_empty() {
            return Err(invalid("version string is empty"));
        }
        if let Some(c) = input.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid(&format!(
                "whitespace or control character {c:?} in version"
            )));
        }

        // Epoch: the leading digit run, when a colon follows it.
        let digits_end = input
            .bytes()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(input.len());
        let (epoch, rest) = match input[digits_end..].strip_prefix(':') {
            Some(rest) => (Number::from_digits(&input[..digits_end]), rest),
            None => (Number::zero(), input),
        };

        // Release: everything after the last hyphen.
        let (version, release) = match rest.rsplit_once('-') {
            Some((version, release)) => (version, Some(release)),
            None => (rest, None),
        };
        if version.is_empty() {
            return Err(invalid("version part is empty"));
        }

        Ok(RpmVersion {
            epoch,
            version: version.into(),
            release: release.map(Into::into),
        })
    }

    /// Returns the version part, without epoch and release.
    #[must_use]
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Returns the release part, if the string had a hyphen.
    #[must_use]
    pub fn release(&self) -> Option<&str> {
        self.release.as_deref()
    }
}

impl Ord for RpmVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| rpmvercmp(&self.version, &other.version))
            .then_with(|| match (&self.release, &other.release) {
                (Some(a), Some(b)) => rpmvercmp(a, b),
                (a, b) => a.is_some().cmp(&b.is_some()),
            })
    }
}

impl PartialOrd for RpmVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Equality is ordering equality: `1.0-1` equals `1.00-1` and `1_0` equals `1.0`.
impl PartialEq for RpmVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for RpmVersion {}

fn is_separator(c: u8) -> bool {
    !c.is_ascii_alphanumeric() && c != b'~' && c != b'^'
}

/// Orders two version or release strings as rpm's `rpmvercmp` does.
#[must_use]
pub fn rpmvercmp(left: &str, right: &str) -> Ordering {
    if left == right {
        return Ordering::Equal;
    }
    let (a, b) = (left.as_bytes(), right.as_bytes());
    let (mut i, mut j) = (0, 0);
    loop {
        while a.get(i).copied().is_some_and(is_separator) {
            i += 1;
        }
        while b.get(j).copied().is_some_and(is_separator) {
            j += 1;
        }
        let (ca, cb) = (a.get(i).copied(), b.get(j).copied());

        // `~` sorts before everything, including the end.
        if ca == Some(b'~') || cb == Some(b'~') {
            if ca != Some(b'~') {
                return Ordering::Greater;
            }
            if cb != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }

        // `^` sorts after the end but before any further run.
        if ca == Some(b'^') || cb == Some(b'^') {
            match (ca, cb) {
                (Some(b'^'), Some(b'^')) => {}
                // The left side ended, or has `^` where the right side has a run.
                (None, _) | (Some(b'^'), Some(_)) => return Ordering::Less,
                _ => return Ordering::Greater,
            }
            i += 1;
            j += 1;
            continue;
        }

        if ca.is_none() || cb.is_none() {
            // One side ran out: the side with characters left is greater.
            return ca.is_some().cmp(&cb.is_some());
        }
        let by_run = cmp_runs(a, &mut i, b, &mut j);
        if by_run != Ordering::Equal {
            return by_run;
        }
    }
}

/// Compares the run at `a[*i..]` with the run at `b[*j..]` and moves both past them. The left
/// run's first byte, an ASCII letter or digit, sets the kind of both runs.
fn cmp_runs(a: &[u8], i: &mut usize, b: &[u8], j: &mut usize) -> Ordering {
    let is_numeric = a[*i].is_ascii_digit();
    let in_run = |c: &u8| {
        if is_numeric {
            c.is_ascii_digit()
        } else {
            c.is_ascii_alphabetic()
        }
    };
    let start_a = *i;
    while a.get(*i).is_some_and(in_run) {
        *i += 1;
    }
    let start_b = *j;
    while b.get(*j).is_some_and(in_run) {
        *j += 1;
    }
    if start_b == *j {
        // The right side has a run of the other kind; digits beat letters.
        return if is_numeric {
            Ordering::Greater
        } else {
            Ordering::Less
        };
    }
    let (run_a, run_b) = (&a[start_a..*i], &b[start_b..*j]);
    if is_numeric {
        cmp_digits(run_a, run_b)
    } else {
        run_a.cmp(run_b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        let a = RpmVersion::parse(a).expect("left version parses");
        let b = RpmVersion::parse(b).expect("right version parses");
        a.cmp(&b)
    }

    #[test]
    fn rpm_ordering_table() {
        use Ordering::{Equal, Greater, Less};
        let cases = [
            ("numeric by value", "1.10", "1.9", Greater),
            ("leading zeros ignored", "10.0001", "10.1", Equal),
            ("digits beat letters", "1.0.1", "1.0.a", Greater),
            ("letters by bytes", "1.0a", "1.0b", Less),
            ("extra run wins", "2.0.1", "2.0", Greater),
            ("trailing letters win", "2.0.1a", "2.0.1", Greater),
            ("separators are equivalent", "2_0", "2.0", Equal),
            ("trailing separator ignored", "1.", "1", Equal),
            ("tilde before end", "1.0~rc1", "1.0", Less),
            ("tilde before tilde run", "1.0~rc1~git123", "1.0~rc1", Less),
            ("caret after end", "1.0^git1", "1.0", Greater),
            ("caret before next run", "1.0^git1", "1.0.1", Less),
            ("caret after tilde", "1.0~rc1^git1", "1.0~rc1", Greater),
            ("epoch wins", "1:1.0", "2.0", Greater),
            ("missing epoch is zero", "0:1.0-1", "1.0-1", Equal),
            ("epoch by value", "013:5", "004:2", Greater),
            ("release compared last", "1.0-2", "1.0-10", Less),
            ("missing release sorts first", "1.0", "1.0-0", Less),
            ("missing release before empty release", "1", "1-", Less),
            ("colon after letters is no epoch", "a:1", "b:1", Less),
            ("non-ascii letters are separators", "1.1.α", "1.1.β", Equal),
            (
                "kernel releases",
                "3.10.0-229.el7",
                "3.10.0-229.1.2.el7",
                Less,
            ),
        ];
        for (name, a, b, expected) in cases {
            assert_eq!(cmp(a, b), expected, "{name}: {a} vs {b}");
        }
    }

    #[test]
    fn rpm_parse_splits_evr() {
        let version = RpmVersion::parse("2:1.0-beta-3.el9").expect("version parses");
        assert_eq!(version.epoch.to_string(), "2");
        assert_eq!(version.version(), "1.0-beta");
        assert_eq!(version.release(), Some("3.el9"));
    }

    #[test]
    fn rpm_empty_epoch_is_zero() {
        let version = RpmVersion::parse(":1.0").expect("version parses");
        assert!(version.epoch.is_zero());
        assert_eq!(version.version(), "1.0");
    }

    #[test]
    fn rpm_invalid_table() {
        let cases = [
            ("empty", ""),
            ("only epoch", "1:"),
            ("only release", "-1"),
            ("space", "1.0 -1"),
            ("newline", "1.0\n"),
        ];
        for (name, input) in cases {
            assert!(RpmVersion::parse(input).is_err(), "{name}: `{input:?}`");
        }
    }

    #[test]
    fn rpmvercmp_raw_strings() {
        assert_eq!(rpmvercmp("1.0", "1.0"), Ordering::Equal);
        assert_eq!(rpmvercmp("", "0"), Ordering::Less);
        assert_eq!(rpmvercmp("1-2-3-4", "1"), Ordering::Greater);
    }
}
