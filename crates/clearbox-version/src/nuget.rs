//! NuGet versions, ordered as `NuGetVersion` and `VersionComparer.Default` of `NuGet.Versioning`
//! (in the NuGet/NuGet.Client repository) order them.
//!
//! Parsing follows `NuGetVersion.TryParse`:
//! - whitespace around the version is ignored;
//! - one to four numbers separated by `.`; missing ones are `0`, so `1 == 1.0 == 1.0.0.0`.
//!   Leading zeros are allowed (`1.0.01 == 1.0.1`) and each number is at most 2147483647, the
//!   largest value of .NET's `System.Version` parts;
//! - an optional pre-release after `-`: labels separated by `.`, each non-empty and made of
//!   `[0-9A-Za-z-]`, and a label of digits only has no leading zero;
//! - optional build metadata after `+`, with the same characters; leading zeros are allowed.
//!
//! Ordering compares the four numbers by value first. Then a version without a pre-release sorts
//! above one with it, and two pre-releases compare label by label. A label that .NET's
//! `int.TryParse` reads as a number compares by that value and below any other label. Other
//! labels compare case-insensitively (`1.0.0-BETA == 1.0.0-beta`). A shorter list of labels
//! that is a prefix of a longer one sorts first. Build metadata is ignored.
//!
//! .NET's `System.Version` also accepts whitespace and a sign inside each number (`1. 2`,
//! `+1.0`). nuget.org never publishes such versions, and they are rejected here.

use std::cmp::Ordering;

use crate::{Scheme, VersionError};

/// The largest value of a `System.Version` part, `int.MaxValue`.
const MAX_NUMBER: u32 = 2_147_483_647;

/// A parsed NuGet version.
#[derive(Debug, Clone)]
pub struct NuGetVersion {
    /// Major, minor, patch and revision.
    numbers: [u32; 4],
    /// Pre-release labels; empty for a release.
    labels: Vec<Label>,
}

/// A pre-release label. The variant order is the sort order: numbers below text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Label {
    /// A label that .NET's `int.TryParse` reads as a 32-bit integer, a leading `-` included.
    Number(i32),
    /// Any other label, upper-cased so that byte order is NuGet's case-insensitive order.
    Text(Box<str>),
}

impl Label {
    fn new(text: &str) -> Label {
        let digits = text.strip_prefix('-').unwrap_or(text);
        if !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && let Ok(number) = text.parse::<i32>()
        {
            return Label::Number(number);
        }
        Label::Text(text.to_ascii_uppercase().into())
    }
}

impl NuGetVersion {
    /// Parses a version as `NuGetVersion.TryParse` does.
    pub fn parse(input: &str) -> Result<NuGetVersion, VersionError> {
        let invalid = |reason: String| VersionError::invalid(Scheme::NuGet, input, reason);
        let text = input.trim();
        if text.is_empty() {
            return Err(invalid("empty version".into()));
        }

        // Split `NUMBERS[-LABELS][+METADATA]`: the first `-` or `+` ends the numbers.
        let (rest, metadata) = match text.split_once('+') {
            Some((rest, metadata)) => (rest, Some(metadata)),
            None => (text, None),
        };
        let (numbers, labels) = match rest.split_once('-') {
            Some((numbers, labels)) => (numbers, Some(labels)),
            None => (rest, None),
        };

        let numbers = parse_numbers(numbers).map_err(invalid)?;
        let labels = match labels {
            Some(labels) => parse_labels(labels).map_err(invalid)?,
            None => Vec::new(),
        };
        if let Some(metadata) = metadata {
            check_metadata(metadata).map_err(invalid)?;
        }
        Ok(NuGetVersion { numbers, labels })
    }

    /// Returns whether the version has a pre-release part.
    #[must_use]
    pub fn is_prerelease(&self) -> bool {
        !self.labels.is_empty()
    }
}

/// Parses one to four numbers separated by `.`.
fn parse_numbers(text: &str) -> Result<[u32; 4], String> {
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() > 4 {
        return Err("more than four numbers; NuGet versions have at most four".into());
    }
    let mut numbers = [0; 4];
    for (slot, part) in numbers.iter_mut().zip(&parts) {
        if part.is_empty() {
            return Err("missing number: expected one to four numbers separated by `.`".into());
        }
        if !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("`{part}` is not a number"));
        }
        *slot = part
            .parse::<u32>()
            .ok()
            .filter(|&number| number <= MAX_NUMBER)
            .ok_or_else(|| {
                format!("`{part}` is above {MAX_NUMBER}, the largest number NuGet allows")
            })?;
    }
    Ok(numbers)
}

/// Parses the pre-release labels after the `-`.
fn parse_labels(text: &str) -> Result<Vec<Label>, String> {
    text.split('.')
        .map(|label| {
            check_identifier(label, "pre-release label")?;
            if label.len() > 1
                && label.starts_with('0')
                && label.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(format!("pre-release label `{label}` has a leading zero"));
            }
            Ok(Label::new(label))
        })
        .collect()
}

/// Checks the build metadata after the `+`; its value does not affect the order.
fn check_metadata(text: &str) -> Result<(), String> {
    text.split('.')
        .try_for_each(|identifier| check_identifier(identifier, "build metadata identifier"))
}

/// Checks that a label or metadata identifier is non-empty and made of `[0-9A-Za-z-]`.
fn check_identifier(identifier: &str, kind: &str) -> Result<(), String> {
    if identifier.is_empty() {
        return Err(format!("empty {kind}"));
    }
    match identifier
        .chars()
        .find(|&c| !c.is_ascii_alphanumeric() && c != '-')
    {
        Some(c) => Err(format!(
            "invalid character `{c}` in {kind} `{identifier}`: only letters, digits and `-` are allowed"
        )),
        None => Ok(()),
    }
}

impl Ord for NuGetVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.numbers.cmp(&other.numbers).then_with(|| {
            match (self.labels.is_empty(), other.labels.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.labels.cmp(&other.labels),
            }
        })
    }
}

impl PartialOrd for NuGetVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for NuGetVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for NuGetVersion {}

#[cfg(test)]
mod tests {
    use std::cmp::Ordering::{self, Equal, Greater, Less};

    use super::*;

    fn parse(input: &str) -> NuGetVersion {
        NuGetVersion::parse(input).unwrap_or_else(|error| panic!("{error}"))
    }

    fn cmp(a: &str, b: &str) -> Ordering {
        parse(a).cmp(&parse(b))
    }

    #[test]
    fn nuget_ordering_table() {
        let cases = [
            ("one number", "1", "1.0.0.0", Equal),
            ("missing numbers are zero", "1.2", "1.2.0", Equal),
            ("leading zeros", "1.0.01", "1.0.1.0", Equal),
            ("revision above release", "1.0.0.1", "1.0.0", Greater),
            ("pre-release below release", "1.0.0-beta", "1.0.0", Less),
            (
                "revision pre-release above patch",
                "1.0.0.1-alpha",
                "1.0.0",
                Greater,
            ),
            ("labels case-insensitive", "1.0.0-BETA", "1.0.0-beta", Equal),
            ("metadata ignored", "1.0.0+abc", "1.0.0+def", Equal),
            (
                "metadata ignored on pre-release",
                "1.0.0-rc+A",
                "1.0.0-RC",
                Equal,
            ),
            ("prefix labels first", "1.0.0-beta", "1.0.0-beta.1", Less),
            (
                "numeric labels by value",
                "1.0.0-beta.2",
                "1.0.0-beta.10",
                Less,
            ),
            ("numeric label below text", "1.0.0-1", "1.0.0-a", Less),
            (
                "text labels by characters",
                "1.0.0-beta2",
                "1.0.0-beta10",
                Greater,
            ),
            ("dash below digits", "1.0.0-a-b", "1.0.0-a0", Less),
            ("negative label is a number", "1.0.0--1", "1.0.0-0", Less),
            (
                "label above int range is text",
                "1.0.0-2147483648",
                "1.0.0-a",
                Less,
            ),
            (
                "label above int range above numbers",
                "1.0.0-2147483648",
                "1.0.0-2147483647",
                Greater,
            ),
            ("largest number", "2147483647.0", "2147483646.9", Greater),
            ("whitespace around ignored", " 1.0.0 ", "1.0.0", Equal),
        ];
        for (name, a, b, expected) in cases {
            assert_eq!(cmp(a, b), expected, "{name}: {a} vs {b}");
            assert_eq!(cmp(b, a), expected.reverse(), "{name}: {b} vs {a}");
        }
    }

    #[test]
    fn nuget_prerelease() {
        assert!(parse("1.0.0-alpha").is_prerelease());
        assert!(!parse("1.0.0+alpha").is_prerelease());
    }

    #[test]
    fn nuget_invalid_table() {
        let cases = [
            ("empty", ""),
            ("blank", " "),
            ("five numbers", "1.2.3.4.5"),
            ("empty number", "1..2"),
            ("trailing dot", "1.2."),
            ("leading v", "v1.0.0"),
            ("number too large", "2147483648.0"),
            ("sign", "+1.0"),
            ("inner space", "1. 2"),
            ("empty pre-release", "1.0.0-"),
            ("empty label", "1.0.0-beta..1"),
            ("label leading zero", "1.0.0-01"),
            ("label underscore", "1.0.0-beta_1"),
            ("empty metadata", "1.0.0+"),
            ("empty metadata identifier", "1.0.0+a..b"),
            ("second plus", "1.0.0+a+b"),
            ("dash only", "-1.0"),
        ];
        for (name, input) in cases {
            assert!(
                NuGetVersion::parse(input).is_err(),
                "{name}: `{input}` should be rejected"
            );
        }
    }

    #[test]
    fn nuget_accepts_metadata_leading_zero() {
        assert_eq!(cmp("1.0.0+01", "1.0.0"), Equal);
        assert_eq!(cmp("1.0.0-0a", "1.0.0-0A"), Equal, "`0a` is not numeric");
    }

    #[test]
    fn nuget_error_message() {
        let error = NuGetVersion::parse("1.0.0-01").expect_err("leading zero");
        assert_eq!(
            error.to_string(),
            "invalid nuget version `1.0.0-01`: pre-release label `01` has a leading zero"
        );
    }
}
