//! Go module versions and Go toolchain versions.
//!
//! Module versions follow `golang.org/x/mod/semver`: a `v`, then SemVer 2.0.0, where `v1` and
//! `v1.2` are shorthands for `v1.0.0` and `v1.2.0` (only without pre-release or build).
//! Pseudo-versions such as `v0.0.0-20220314234659-1baeb1ce4c0b` are ordinary pre-releases there,
//! so they sort below the release they precede. Build metadata, `+incompatible` included, does
//! not affect the order. Go's vulnerability database writes the same versions without the `v`
//! (`1.20.5`), so a version without a prefix is read as if it had one.
//!
//! The Go standard library has no module version, so clearbox reports it as the package
//! `stdlib` with the toolchain version. Toolchain versions (`go1.19.8`, `go1.21rc2`,
//! `go1.9beta1`, with or without the `go` prefix) map to the SemVer form that Go's vulnerability
//! database uses. Missing minor and patch numbers become `0`, and a trailing `alphaN`, `betaN`
//! or `rcN` becomes a pre-release. So `go1.21rc2` is `v1.21.0-rc.2` and `go1.20` is `v1.20.0`
//! (Go 1.20 and earlier named the first release of a minor version `go1.20`).
//!
//! Unlike `x/mod/semver`, which orders every invalid string equal to every other and below every
//! valid version, an invalid string here is an error.
//!
//! NOTE: OSV's `"introduced": "0"` means every version, but parsed as a version `0` is
//! `v0.0.0`, which sorts above the pseudo-versions `v0.0.0-…`. Range matching has to treat that
//! event specially.

use crate::number::Number;
use crate::semver::{self, Identifier, Mode, SemverVersion};
use crate::{Scheme, VersionError};

/// A parsed Go module or toolchain version, held in its SemVer form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GoVersion {
    semver: SemverVersion,
}

/// Toolchain pre-release labels.
const TOOLCHAIN_LABELS: [&str; 3] = ["alpha", "beta", "rc"];

impl GoVersion {
    /// Parses a module version (`v1.2.3`, `1.2.3`) or a toolchain version (`go1.21rc2`).
    pub fn parse(input: &str) -> Result<GoVersion, VersionError> {
        let invalid = |reason: String| VersionError::invalid(Scheme::Go, input, reason);
        let semver = if let Some(module) = input.strip_prefix('v') {
            parse_module(module).map_err(invalid)?
        } else if let Some(toolchain) = input.strip_prefix("go") {
            parse_toolchain(toolchain).map_err(invalid)?
        } else {
            match parse_module(input) {
                Ok(semver) => semver,
                Err(module_reason) => parse_toolchain(input).map_err(|_| invalid(module_reason))?,
            }
        };
        Ok(GoVersion { semver })
    }

    /// Returns the canonical module form, `vMAJOR.MINOR.PATCH[-PRE]`, as `x/mod/semver.Canonical`
    /// writes it: shorthands are expanded and build metadata is dropped.
    #[must_use]
    pub fn canonical(&self) -> String {
        let mut text = String::from("v");
        // Writing to a `String` cannot fail.
        let _ = self.semver.write_precedence_form(&mut text);
        text
    }

    /// Returns whether the version has a pre-release part, as pseudo-versions do.
    #[must_use]
    pub fn is_prerelease(&self) -> bool {
        self.semver.is_prerelease()
    }
}

/// Parses a module version after its `v`, allowing the `v1` and `v1.2` shorthands.
fn parse_module(text: &str) -> Result<SemverVersion, String> {
    let (rest, build) = match text.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (text, None),
    };
    let (main, pre) = match rest.split_once('-') {
        Some((main, pre)) => (main, Some(pre)),
        None => (rest, None),
    };

    let parts: Vec<&str> = main.split('.').collect();
    if parts.len() > 3 {
        return Err("expected at most MAJOR.MINOR.PATCH".into());
    }
    if parts.len() < 3 && (pre.is_some() || build.is_some()) {
        return Err("a shorthand version cannot have a pre-release or build".into());
    }
    let names = ["major", "minor", "patch"];
    let mut numbers = [Number::zero(), Number::zero(), Number::zero()];
    for ((slot, part), name) in numbers.iter_mut().zip(&parts).zip(names) {
        *slot = semver::parse_number(part, Mode::Strict, name)?;
    }

    let pre = match pre {
        Some(pre) => semver::parse_prerelease(pre, Mode::Strict)?,
        None => Vec::new(),
    };
    if let Some(build) = build {
        semver::check_build(build)?;
    }
    Ok(SemverVersion::from_parts(numbers, pre, build.unwrap_or("")))
}

/// Parses a toolchain version after any `go` prefix: `1`, `1.21`, `1.21.3`, `1.21rc2`.
fn parse_toolchain(text: &str) -> Result<SemverVersion, String> {
    let label_start = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (main, label) = text.split_at(label_start);

    let parts: Vec<&str> = main.split('.').collect();
    if parts.len() > 3 {
        return Err("expected at most MAJOR.MINOR.PATCH".into());
    }
    let names = ["major", "minor", "patch"];
    let mut numbers = [Number::zero(), Number::zero(), Number::zero()];
    for ((slot, part), name) in numbers.iter_mut().zip(&parts).zip(names) {
        *slot = semver::parse_number(part, Mode::Strict, name)?;
    }

    let pre = if label.is_empty() {
        Vec::new()
    } else {
        let name = TOOLCHAIN_LABELS
            .into_iter()
            .find(|name| label.starts_with(name))
            .ok_or_else(|| format!("unknown toolchain pre-release `{label}`"))?;
        let number = semver::parse_number(&label[name.len()..], Mode::Strict, name)?;
        vec![
            Identifier::Alphanumeric(name.into()),
            Identifier::Numeric(number),
        ]
    };
    Ok(SemverVersion::from_parts(numbers, pre, ""))
}

#[cfg(test)]
mod tests {
    use std::cmp::Ordering;

    use super::*;

    fn parse(input: &str) -> GoVersion {
        GoVersion::parse(input).unwrap_or_else(|error| panic!("{error}"))
    }

    fn cmp(a: &str, b: &str) -> Ordering {
        parse(a).cmp(&parse(b))
    }

    #[test]
    fn go_ordering_table() {
        use Ordering::{Equal, Greater, Less};
        let cases = [
            ("shorthand major", "v1", "v1.0.0", Equal),
            ("shorthand minor", "v1.2", "v1.2.0", Equal),
            ("pre-release below release", "v1.2.3-pre", "v1.2.3", Less),
            (
                "pseudo-version below release",
                "v0.0.0-20220314234659-1baeb1ce4c0b",
                "v0.0.0",
                Less,
            ),
            (
                "pseudo-versions by time",
                "v1.2.4-0.20220101000000-abcdef012345",
                "v1.2.4-0.20230101000000-012345abcdef",
                Less,
            ),
            (
                "pseudo-version above base",
                "v1.2.4-0.20220101000000-abcdef012345",
                "v1.2.3",
                Greater,
            ),
            (
                "incompatible ignored",
                "v2.0.0+incompatible",
                "v2.0.0",
                Equal,
            ),
            ("osv form without v", "1.20.5", "v1.20.5", Equal),
            ("toolchain prefix", "go1.19.8", "v1.19.8", Equal),
            ("toolchain minor only", "go1.20", "v1.20.0", Equal),
            ("toolchain rc", "go1.21rc2", "1.21.0-rc.2", Equal),
            (
                "toolchain rc without prefix",
                "1.21rc2",
                "v1.21.0-rc.2",
                Equal,
            ),
            ("toolchain rc below release", "go1.21rc2", "go1.21.0", Less),
            ("toolchain beta below rc", "go1.9beta2", "go1.9rc1", Less),
            ("toolchain major only", "go1", "v1.0.0", Equal),
            ("vulndb lowest pre-release", "1.18.0-0", "go1.18beta1", Less),
            ("osv introduced zero", "0", "v0.0.0", Equal),
        ];
        for (name, a, b, expected) in cases {
            assert_eq!(cmp(a, b), expected, "{name}: {a} vs {b}");
        }
    }

    #[test]
    fn go_canonical_table() {
        let cases = [
            ("v1", "v1.0.0"),
            ("v1.2", "v1.2.0"),
            ("v1.2.3-pre+meta", "v1.2.3-pre"),
            ("v2.0.0+incompatible", "v2.0.0"),
            ("1.20.5", "v1.20.5"),
            ("go1.21rc2", "v1.21.0-rc.2"),
        ];
        for (input, expected) in cases {
            assert_eq!(parse(input).canonical(), expected, "{input}");
        }
    }

    #[test]
    fn go_invalid_table() {
        let cases = [
            ("empty", ""),
            ("word", "bad"),
            ("shorthand with pre-release", "v1-pre"),
            ("shorthand with build", "v1.2+meta"),
            ("leading zero", "v01.2.3"),
            ("pre-release leading zero", "v1.2.3-01"),
            ("four numbers", "v1.2.3.4"),
            ("empty build", "v1.2.3+"),
            ("toolchain unknown label", "go1.21xyz1"),
            ("toolchain label without number", "go1.21rc"),
            ("toolchain with v", "vgo1.21"),
            ("uppercase v", "V1.2.3"),
        ];
        for (name, input) in cases {
            assert!(GoVersion::parse(input).is_err(), "{name}: `{input}`");
        }
    }
}
