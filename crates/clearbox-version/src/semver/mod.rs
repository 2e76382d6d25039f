//! Semantic versions (<https://semver.org/spec/v2.0.0.html>), as npm and crates.io use them.
//!
//! [`SemverVersion::parse`] is strict: `MAJOR.MINOR.PATCH[-PRE][+BUILD]`, numbers without
//! leading zeros, pre-release identifiers from `[0-9A-Za-z-]` with no leading zeros in numeric
//! ones, non-empty build identifiers. Like node-semver's default (non-loose) parser it also trims
//! surrounding whitespace and accepts one leading `v`; SemVer itself allows neither.
//!
//! [`SemverVersion::parse_loose`] follows node-semver's `loose` option: any run of `v`, `=` and
//! whitespace before the version, leading zeros in numbers, and a pre-release without its
//! hyphen (`1.2.3beta`).
//!
//! Precedence follows SemVer §11. Major, minor and patch compare by value, and a version with a
//! pre-release sorts below the same version without one. Pre-release identifiers compare one by
//! one: numeric ones by value and below alphanumeric ones, alphanumeric ones by ASCII order, and
//! a prefix below the longer list. Build metadata is ignored, so `1.0.0+a == 1.0.0+b`.
//!
//! Numbers may have any length. node-semver rejects numbers above 2^53 - 1 and strings longer
//! than 256 characters, but nothing in SemVer limits them.
//!
//! npm ranges (`^1.2.3 || >=2 <3`) are in [`range`].

use std::cmp::Ordering;
use std::fmt;

use crate::number::Number;
use crate::{Scheme, VersionError};

pub mod range;

pub use range::{NpmRange, RangeOptions};

/// A parsed semantic version.
#[derive(Debug, Clone)]
pub struct SemverVersion {
    major: Number,
    minor: Number,
    patch: Number,
    pre: Vec<Identifier>,
    build: Box<str>,
}

/// A pre-release identifier; numeric identifiers sort below alphanumeric ones.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Identifier {
    Numeric(Number),
    Alphanumeric(Box<str>),
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identifier::Numeric(number) => number.fmt(f),
            Identifier::Alphanumeric(text) => f.write_str(text),
        }
    }
}

/// The grammar a parse follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Strict,
    Loose,
}

impl SemverVersion {
    /// Parses a version strictly (see the module documentation for the two extensions).
    pub fn parse(input: &str) -> Result<SemverVersion, VersionError> {
        let trimmed = input.trim();
        let text = trimmed.strip_prefix('v').unwrap_or(trimmed);
        parse_with(text, Mode::Strict)
            .map_err(|reason| VersionError::invalid(Scheme::Semver, input, reason))
    }

    /// Parses a version as node-semver does with `{ loose: true }`.
    pub fn parse_loose(input: &str) -> Result<SemverVersion, VersionError> {
        let text = input
            .trim()
            .trim_start_matches(|c: char| c == 'v' || c == '=' || c.is_whitespace());
        parse_with(text, Mode::Loose)
            .map_err(|reason| VersionError::invalid(Scheme::Semver, input, reason))
    }

    pub(crate) fn from_parts(
        [major, minor, patch]: [Number; 3],
        pre: Vec<Identifier>,
        build: &str,
    ) -> SemverVersion {
        SemverVersion {
            major,
            minor,
            patch,
            pre,
            build: build.into(),
        }
    }

    /// Returns whether the version has a pre-release part.
    #[must_use]
    pub fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }

    /// Returns the build metadata without its `+`, empty when there is none.
    #[must_use]
    pub fn build(&self) -> &str {
        &self.build
    }

    /// Writes `MAJOR.MINOR.PATCH[-PRE]`, the version without build metadata.
    pub(crate) fn write_precedence_form(&self, out: &mut impl fmt::Write) -> fmt::Result {
        write!(out, "{}.{}.{}", self.major, self.minor, self.patch)?;
        for (index, identifier) in self.pre.iter().enumerate() {
            out.write_char(if index == 0 { '-' } else { '.' })?;
            write!(out, "{identifier}")?;
        }
        Ok(())
    }
}

/// Parses `MAJOR.MINOR.PATCH[-PRE][+BUILD]` after any prefix is removed.
fn parse_with(text: &str, mode: Mode) -> Result<SemverVersion, String> {
    let (rest, build) = match text.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (text, None),
    };
    if let Some(build) = build {
        check_build(build)?;
    }

    // The main version ends at the first character that is neither a digit nor a dot.
    let main_end = rest
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(rest.len());
    let (main, pre_text) = rest.split_at(main_end);
    let numbers: Vec<&str> = main.split('.').collect();
    let [major, minor, patch] = numbers.as_slice() else {
        return Err("expected MAJOR.MINOR.PATCH".into());
    };
    let numbers = [
        parse_number(major, mode, "major")?,
        parse_number(minor, mode, "minor")?,
        parse_number(patch, mode, "patch")?,
    ];

    let pre = match (pre_text, mode) {
        ("", _) => Vec::new(),
        (text, Mode::Strict) => match text.strip_prefix('-') {
            Some(identifiers) => parse_prerelease(identifiers, mode)?,
            None => return Err(format!("unexpected `{text}` after the patch number")),
        },
        // node-semver's loose pattern makes the hyphen optional, and an identifier may itself
        // start with a hyphen (`1.2.3-` has the pre-release `-`).
        (text, Mode::Loose) => text
            .strip_prefix('-')
            .and_then(|identifiers| parse_prerelease(identifiers, mode).ok())
            .map_or_else(|| parse_prerelease(text, mode), Ok)?,
    };
    Ok(SemverVersion::from_parts(numbers, pre, build.unwrap_or("")))
}

/// Parses one of the three version numbers.
pub(crate) fn parse_number(text: &str, mode: Mode, name: &str) -> Result<Number, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{name} version must be a number"));
    }
    if mode == Mode::Strict && text.len() > 1 && text.starts_with('0') {
        return Err(format!("{name} version has a leading zero"));
    }
    Ok(Number::from_digits(text))
}

/// Parses dot-separated pre-release identifiers.
pub(crate) fn parse_prerelease(text: &str, mode: Mode) -> Result<Vec<Identifier>, String> {
    text.split('.')
        .map(|identifier| {
            if identifier.is_empty() {
                return Err("empty pre-release identifier".to_owned());
            }
            if !identifier.bytes().all(is_identifier_byte) {
                return Err(format!("invalid pre-release identifier `{identifier}`"));
            }
            if !identifier.bytes().all(|b| b.is_ascii_digit()) {
                return Ok(Identifier::Alphanumeric(identifier.into()));
            }
            if mode == Mode::Strict && identifier.len() > 1 && identifier.starts_with('0') {
                return Err(format!(
                    "numeric pre-release identifier `{identifier}` has a leading zero"
                ));
            }
            Ok(Identifier::Numeric(Number::from_digits(identifier)))
        })
        .collect()
}

/// Checks dot-separated build identifiers.
pub(crate) fn check_build(text: &str) -> Result<(), String> {
    for identifier in text.split('.') {
        if identifier.is_empty() {
            return Err("empty build identifier".into());
        }
        if !identifier.bytes().all(is_identifier_byte) {
            return Err(format!("invalid build identifier `{identifier}`"));
        }
    }
    Ok(())
}

fn is_identifier_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

impl Ord for SemverVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.major
            .cmp(&other.major)
            .then_with(|| self.minor.cmp(&other.minor))
            .then_with(|| self.patch.cmp(&other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.pre.cmp(&other.pre),
            })
    }
}

impl PartialOrd for SemverVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Equality is precedence equality, so build metadata is ignored: `1.0.0+a == 1.0.0+b`.
impl PartialEq for SemverVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SemverVersion {}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        let a = SemverVersion::parse(a).expect("left version parses");
        let b = SemverVersion::parse(b).expect("right version parses");
        a.cmp(&b)
    }

    #[test]
    fn semver_ordering_table() {
        use Ordering::{Equal, Greater, Less};
        let cases = [
            ("patch by value", "1.0.10", "1.0.9", Greater),
            ("minor before patch", "1.1.0", "1.0.99", Greater),
            ("pre-release below release", "1.0.0-alpha", "1.0.0", Less),
            (
                "longer pre-release list",
                "1.0.0-alpha",
                "1.0.0-alpha.1",
                Less,
            ),
            (
                "numeric below alphanumeric",
                "1.0.0-alpha.1",
                "1.0.0-alpha.beta",
                Less,
            ),
            ("numeric by value", "1.0.0-beta.2", "1.0.0-beta.11", Less),
            ("alphanumeric by ascii", "1.0.0-beta", "1.0.0-Beta", Greater),
            ("digits inside alphanumeric", "1.2.3-r100", "1.2.3-r2", Less),
            ("build ignored", "1.0.0+a", "1.0.0+b", Equal),
            ("leading v", "v1.2.3", "1.2.3", Equal),
            (
                "huge numbers",
                "1.2.99999999999999999999",
                "1.2.100000000000000000000",
                Less,
            ),
        ];
        for (name, a, b, expected) in cases {
            assert_eq!(cmp(a, b), expected, "{name}: {a} vs {b}");
        }
    }

    #[test]
    fn semver_invalid_table() {
        let cases = [
            ("empty", ""),
            ("two numbers", "1.2"),
            ("four numbers", "1.2.3.4"),
            ("leading zero", "01.2.3"),
            ("numeric pre leading zero", "1.2.3-01"),
            ("empty pre", "1.2.3-"),
            ("empty pre identifier", "1.2.3-a..b"),
            ("empty build", "1.2.3+"),
            ("bad build char", "1.2.3+a_b"),
            ("pre without hyphen", "1.2.3beta"),
            ("equals prefix", "=1.2.3"),
            ("words", "hello, world"),
        ];
        for (name, input) in cases {
            assert!(SemverVersion::parse(input).is_err(), "{name}: `{input}`");
        }
    }

    #[test]
    fn semver_loose_table() {
        let cases = [
            ("equals prefix", "=1.2.3", "1.2.3"),
            ("spaced v prefix", " v 1.2.3 ", "1.2.3"),
            ("leading zeros", "01.02.03", "1.2.3"),
            ("pre without hyphen", "1.2.3beta", "1.2.3-beta"),
            ("numeric pre leading zero", "1.2.3-01", "1.2.3-1"),
        ];
        for (name, loose, strict) in cases {
            let loose = SemverVersion::parse_loose(loose).expect("loose version parses");
            let strict = SemverVersion::parse(strict).expect("strict version parses");
            assert_eq!(loose, strict, "{name}");
        }
    }

    #[test]
    fn semver_loose_hyphen_identifier() {
        let version = SemverVersion::parse_loose("1.2.3-").expect("loose version parses");
        assert!(version.is_prerelease());
    }

    #[test]
    fn semver_build_accessor() {
        let version = SemverVersion::parse("1.2.3-rc.1+build.5").expect("version parses");
        assert_eq!(version.build(), "build.5");
        let mut text = String::new();
        version
            .write_precedence_form(&mut text)
            .expect("writing to a string succeeds");
        assert_eq!(text, "1.2.3-rc.1");
    }
}
