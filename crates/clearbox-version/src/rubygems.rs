//! RubyGems versions, ordered as `Gem::Version#<=>` orders them.
//!
//! The rules are those of `Gem::Version` in RubyGems 3.3 (`lib/rubygems/version.rb`):
//! - a version matches `[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?`, and
//!   whitespace around it is ignored. So `1.0.a1` and `1.0-rc.1` are versions, `1beta` and
//!   `v1.0` are not;
//! - every `-` reads as `.pre.`, so `1.0-rc1` is `1.0.pre.rc1`;
//! - the segments are the runs of digits and the runs of letters, so `1.0.a10` and `1.0.a.10`
//!   are both `1 0 a 10`;
//! - zeros at the end of the segments before the first letter run, and at the end of the
//!   segments from the first letter run on, are dropped: `1.0.0 == 1` and `1.0.a.0 == 1.a`;
//! - segments compare pairwise, a missing segment counting as `0`. Numbers compare by value
//!   and letter runs byte by byte (so `B < a`), and a letter run sorts below any number. A
//!   version with a letter is a prerelease: `1.0.a` sorts below `1.0`, and `1.0.b1` above
//!   `1.0.a.2`.
//!
//! `Gem::Version` reads an empty or blank string as `0`; here it is rejected, because an empty
//! package version is missing data rather than version 0.

use std::cmp::Ordering;

use crate::number::Number;
use crate::{Scheme, VersionError};

/// A parsed RubyGems version, held as its canonical segments.
#[derive(Debug, Clone)]
pub struct RubyGemsVersion {
    segments: Vec<Segment>,
}

/// One segment. The variant order is the sort order: letter runs below numbers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Segment {
    Letters(Box<str>),
    Number(Number),
}

impl Segment {
    fn is_zero(&self) -> bool {
        matches!(self, Segment::Number(number) if number.is_zero())
    }
}

/// Returns whether `c` is whitespace for Ruby's `\s`.
fn is_ruby_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

impl RubyGemsVersion {
    /// Parses a version as `Gem::Version.new` does, except that an empty string is an error.
    pub fn parse(input: &str) -> Result<RubyGemsVersion, VersionError> {
        let invalid = |reason: String| VersionError::invalid(Scheme::RubyGems, input, reason);
        let text = input.trim_matches(is_ruby_space);
        if text.is_empty() {
            return Err(invalid("empty version".into()));
        }
        check_syntax(text).map_err(invalid)?;
        Ok(RubyGemsVersion {
            segments: canonical(split_segments(text)),
        })
    }

    /// Returns whether the version is a prerelease: whether it contains a letter.
    #[must_use]
    pub fn is_prerelease(&self) -> bool {
        self.segments
            .iter()
            .any(|segment| matches!(segment, Segment::Letters(_)))
    }
}

/// Checks `text` against `Gem::Version`'s pattern.
fn check_syntax(text: &str) -> Result<(), String> {
    let (release, prerelease) = match text.split_once('-') {
        Some((release, prerelease)) => (release, Some(prerelease)),
        None => (text, None),
    };

    let mut parts = release.split('.');
    let first = parts.next().unwrap_or_default();
    if !first.starts_with(|c: char| c.is_ascii_digit()) {
        return Err("a version starts with a number, as in `1.0`".into());
    }
    if let Some(at) = first.find(|c: char| !c.is_ascii_digit()) {
        let rest = &first[at..];
        let c = rest.chars().next().unwrap_or_default();
        let hint = if rest.chars().all(|c| c.is_ascii_alphanumeric()) {
            format!(
                "; put a `.` before the letters, as in `{}.{rest}`",
                &first[..at]
            )
        } else {
            String::new()
        };
        return Err(format!(
            "invalid character `{c}` in the first segment `{first}`, which holds only digits{hint}"
        ));
    }
    for part in parts {
        if part.is_empty() {
            return Err("empty segment between two `.`".into());
        }
        if let Some(c) = part.chars().find(|c| !c.is_ascii_alphanumeric()) {
            return Err(format!(
                "invalid character `{c}`: segments before a `-` hold only letters and digits"
            ));
        }
    }

    let Some(prerelease) = prerelease else {
        return Ok(());
    };
    for part in prerelease.split('.') {
        if part.is_empty() {
            return Err("empty segment after `-`".into());
        }
        if let Some(c) = part
            .chars()
            .find(|&c| !c.is_ascii_alphanumeric() && c != '-')
        {
            return Err(format!(
                "invalid character `{c}`: segments after a `-` hold only letters, digits and `-`"
            ));
        }
    }
    Ok(())
}

/// Splits a valid version into its runs of digits and of letters. Each `-` adds the letter run
/// `pre`, because `Gem::Version` replaces `-` with `.pre.` before splitting.
fn split_segments(text: &str) -> Vec<Segment> {
    let mut segments = Vec::new();
    let mut run_start = 0;
    let bytes = text.as_bytes();
    for (index, &byte) in bytes.iter().enumerate() {
        let ends_run = match bytes.get(index + 1) {
            Some(next) => {
                !next.is_ascii_alphanumeric() || next.is_ascii_digit() != byte.is_ascii_digit()
            }
            None => true,
        };
        if byte == b'-' {
            segments.push(Segment::Letters("pre".into()));
            run_start = index + 1;
        } else if byte == b'.' {
            run_start = index + 1;
        } else if ends_run {
            let run = &text[run_start..=index];
            segments.push(if byte.is_ascii_digit() {
                Segment::Number(Number::from_digits(run))
            } else {
                Segment::Letters(run.into())
            });
            run_start = index + 1;
        }
    }
    segments
}

/// Drops the zeros that end the numeric segments (those before the first letter run) and the
/// zeros that end the rest, as `Gem::Version#canonical_segments` does.
fn canonical(mut segments: Vec<Segment>) -> Vec<Segment> {
    let letters_start = segments
        .iter()
        .position(|segment| matches!(segment, Segment::Letters(_)))
        .unwrap_or(segments.len());
    let mut rest = segments.split_off(letters_start);
    while segments.last().is_some_and(Segment::is_zero) {
        segments.pop();
    }
    while rest.last().is_some_and(Segment::is_zero) {
        rest.pop();
    }
    segments.append(&mut rest);
    segments
}

impl Ord for RubyGemsVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let zero = Segment::Number(Number::zero());
        let length = self.segments.len().max(other.segments.len());
        (0..length)
            .map(|index| {
                let left = self.segments.get(index).unwrap_or(&zero);
                let right = other.segments.get(index).unwrap_or(&zero);
                left.cmp(right)
            })
            .find(|order| order.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

impl PartialOrd for RubyGemsVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for RubyGemsVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for RubyGemsVersion {}

#[cfg(test)]
mod tests {
    use std::cmp::Ordering::{self, Equal, Greater, Less};

    use super::*;

    fn parse(input: &str) -> RubyGemsVersion {
        RubyGemsVersion::parse(input).unwrap_or_else(|error| panic!("{error}"))
    }

    fn cmp(a: &str, b: &str) -> Ordering {
        parse(a).cmp(&parse(b))
    }

    #[test]
    fn rubygems_ordering_table() {
        let cases = [
            ("numbers by value", "3.2", "3.10", Less),
            ("trailing zeros dropped", "1.0.0", "1", Equal),
            ("leading zeros ignored", "1.01", "1.1", Equal),
            ("letter run below release", "1.2.4.beta", "1.2.4", Less),
            ("letter run below zero", "1.0.a", "1.0.0", Less),
            ("letter run below patch", "1.0.a", "1.0.0.1", Less),
            ("digits split from letters", "1.0.a10", "1.0.a.10", Equal),
            ("prerelease numbers by value", "1.0.a9", "1.0.a10", Less),
            ("letters byte by byte", "1.0.b1", "1.0.a.2", Greater),
            ("uppercase below lowercase", "1.0.B", "1.0.a", Less),
            ("zeros before letters dropped", "1.0.0.a", "1.a", Equal),
            ("zeros after letters dropped", "1.a.0", "1.a", Equal),
            ("inner zeros kept", "1.a.0.1", "1.a.1", Less),
            ("dash reads as pre", "1.0-rc1", "1.0.pre.rc1", Equal),
            ("dash prerelease below release", "1.0-1", "1.0", Less),
            ("whitespace around ignored", " 1.0\t", "1.0", Equal),
            (
                "long numbers",
                "99999999999999999999999999",
                "100000000000000000000000000",
                Less,
            ),
        ];
        for (name, a, b, expected) in cases {
            assert_eq!(cmp(a, b), expected, "{name}: {a} vs {b}");
            assert_eq!(cmp(b, a), expected.reverse(), "{name}: {b} vs {a}");
        }
    }

    #[test]
    fn rubygems_prerelease() {
        assert!(parse("1.0.a").is_prerelease());
        assert!(parse("1.0-1").is_prerelease(), "`-` adds the letters `pre`");
        assert!(!parse("1.0.0").is_prerelease());
    }

    #[test]
    fn rubygems_invalid_table() {
        let cases = [
            ("empty", ""),
            ("blank", "  "),
            ("letters first", "beta"),
            ("leading v", "v1.0"),
            ("letters glued to first number", "1beta"),
            ("empty segment", "1..0"),
            ("trailing dot", "1.0."),
            ("leading dot", ".1"),
            ("underscore", "1.0_1"),
            ("plus", "1.0+build"),
            ("empty after dash", "1.0-"),
            ("empty segment after dash", "1.0-a..b"),
            ("inner space", "1. 0"),
            ("non-ascii digit", "1.\u{0663}"),
        ];
        for (name, input) in cases {
            assert!(
                RubyGemsVersion::parse(input).is_err(),
                "{name}: `{input}` should be rejected"
            );
        }
    }

    #[test]
    fn rubygems_error_message() {
        let error = RubyGemsVersion::parse("1.0_1").expect_err("`_` is invalid");
        assert_eq!(
            error.to_string(),
            "invalid rubygems version `1.0_1`: invalid character `_`: segments before a `-` \
             hold only letters and digits"
        );
        let error = RubyGemsVersion::parse("1beta").expect_err("letters need a `.`");
        assert_eq!(
            error.to_string(),
            "invalid rubygems version `1beta`: invalid character `b` in the first segment \
             `1beta`, which holds only digits; put a `.` before the letters, as in `1.beta`"
        );
        let error = RubyGemsVersion::parse("1+2").expect_err("`+` is invalid");
        assert_eq!(
            error.to_string(),
            "invalid rubygems version `1+2`: invalid character `+` in the first segment `1+2`, \
             which holds only digits"
        );
    }
}
