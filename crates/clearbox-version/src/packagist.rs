//! Packagist versions, normalised as Composer normalises them and ordered as Composer orders
//! normalised versions.
//!
//! Normalisation follows `VersionParser::normalize` of composer/semver 3.3:
//! - whitespace around the version is ignored, and so is build metadata after `+`;
//! - a number version is an optional `v`, one to four numbers, and an optional stability suffix,
//!   padded to four numbers: `v1.2` is `1.2.0.0`. The first number has at most five digits,
//!   because longer ones are read as dates;
//! - a date version is four digits, one to six groups of two digits and an optional group of
//!   one to three digits. The groups are separated by nothing, `.`, `:` or `-`, and each
//!   separator becomes `.`, so `2010-01-02` is `2010.01.02`;
//! - the stability suffix is `alpha` or `a`, `beta` or `b`, `RC`, `patch`, `pl` or `p`,
//!   optionally followed by numbers, and optionally by `dev`, in any case: `1.0.0-b.2` is
//!   `1.0.0.0-beta2` and `1.0rc1-dev` is `1.0.0.0-RC1-dev`. A suffix spelt exactly `stable`
//!   is dropped together with everything after it;
//! - a branch is `dev-NAME`, or `master`, `trunk` or `default`; a numbered branch such as
//!   `2.1.x-dev` becomes `2.1.9999999.9999999-dev`.
//!
//! Composer compares normalised versions with PHP's `version_compare`
//! (`Constraint::versionCompare`), and so does this module. The parts are the runs of digits
//! and of letters, compared pairwise, and numbers compare by value. Words rank `dev` < `alpha` <
//! `beta` < `RC` < a number < `patch`, and a word outside PHP's list (`stable` spelt in another
//! case) ranks below `dev`. When one version runs out of parts, a remaining number makes the
//! longer version greater, and a remaining word compares with the end as a number would. So
//! `1.0.0.0-dev` < `1.0.0.0-alpha1` < `1.0.0.0-RC1` < `1.0.0.0` < `1.0.0.0-patch1`, and
//! `1.0.0.0-beta1-dev` < `1.0.0.0-beta1`.
//!
//! Branches: Composer's `Comparator` places `dev-NAME` below every numbered version, because
//! PHP ranks the word `dev` below a number, and this module does the same. Composer does not
//! order two different branches against each other, so comparing them is an error here.
//!
//! NOTE: a branch such as `dev-main` therefore lies inside every OSV range that starts at
//! `0`, although the branch may contain the fix. Composer's requirement matching never lets a
//! branch satisfy a range (`Constraint::versionCompare` without `$compareBranches`).
//!
//! Differences from Composer, each deliberate:
//! - `1.0 as 2.0` aliases and `@dev`-style stability flags are requirement syntax, which
//!   `normalize` strips and which no package version carries; they are rejected;
//! - PHP reads each number with `strtol`, so all numbers above 9223372036854775807 compare
//!   equal there; here they compare by value.

use std::cmp::Ordering;
use std::sync::LazyLock;

use regex::{Captures, Regex};

use crate::number::Number;
use crate::{Scheme, VersionError};

/// Composer's stability suffix, shared by number and date versions: the word (group 1 of the
/// suffix), its numbers (group 2) and `dev` (group 3). composer/semver writes `\d++` and
/// `*+`; the possessive forms change nothing here, because nothing after them matches a digit.
const MODIFIER: &str =
    r"[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?[0-9]+)*)?)?([.-]?dev)?";

/// `v1.2.3.4` with a suffix; groups 1 to 4 are the numbers.
static NUMBER_VERSION: LazyLock<Regex> = LazyLock::new(|| {
    let pattern = format!(r"(?i-u)^v?([0-9]{{1,5}})(\.[0-9]+)?(\.[0-9]+)?(\.[0-9]+)?{MODIFIER}$");
    Regex::new(&pattern).expect("the number version pattern is valid")
});

/// `2010-01-02` with a suffix; group 1 is the date.
static DATE_VERSION: LazyLock<Regex> = LazyLock::new(|| {
    let pattern = format!(
        r"(?i-u)^v?([0-9]{{4}}(?:[.:-]?[0-9]{{2}}){{1,6}}(?:[.:-]?[0-9]{{1,3}})?){MODIFIER}$"
    );
    Regex::new(&pattern).expect("the date version pattern is valid")
});

/// A numbered branch name before its `-dev`, such as `2.1.x`.
static NUMBERED_BRANCH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i-u)^v?([0-9]+)(\.(?:[0-9]+|x|\*))?(\.(?:[0-9]+|x|\*))?(\.(?:[0-9]+|x|\*))?$")
        .expect("the numbered branch pattern is valid")
});

/// The stability words PHP's `version_compare` ranks, in the order PHP checks them. A word
/// takes the rank of the first entry it starts with, and a number ranks as `#`.
const SPECIAL_FORMS: [(&str, i8); 10] = [
    ("dev", 0),
    ("alpha", 1),
    ("a", 1),
    ("beta", 2),
    ("b", 2),
    ("RC", 3),
    ("rc", 3),
    ("#", NUMBER_RANK),
    ("pl", 5),
    ("p", 5),
];

/// The rank of a number against a word.
const NUMBER_RANK: i8 = 4;

/// A parsed Packagist version.
#[derive(Debug, Clone)]
pub struct PackagistVersion {
    normalized: Box<str>,
    form: Form,
}

#[derive(Debug, Clone)]
enum Form {
    /// A number or date version, or a numbered branch, split into its parts.
    Numbered(Vec<Part>),
    /// `dev-NAME`.
    Branch,
}

/// A run of digits or of letters in a normalised version.
#[derive(Debug, Clone)]
enum Part {
    Number(Number),
    /// A word, held as its `version_compare` rank.
    Word(i8),
}

impl Part {
    fn rank(&self) -> i8 {
        match self {
            Part::Number(_) => NUMBER_RANK,
            Part::Word(rank) => *rank,
        }
    }
}

/// Returns whether `c` is whitespace that PHP's `trim` removes.
fn is_php_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\0' | '\x0b')
}

/// Returns whether `c` is whitespace for PCRE's `\s`.
fn is_pcre_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

impl PackagistVersion {
    /// Parses and normalises a version as Composer's `VersionParser::normalize` does, except
    /// that aliases and stability flags are rejected.
    pub fn parse(input: &str) -> Result<PackagistVersion, VersionError> {
        let invalid = |reason: String| VersionError::invalid(Scheme::Packagist, input, reason);
        let text = input.trim_matches(is_php_space);
        if text.is_empty() {
            return Err(invalid("empty version".into()));
        }
        if is_alias(text) {
            return Err(invalid(
                "`as` aliases belong in requirements, not in package versions".into(),
            ));
        }
        if has_stability_flag(text) {
            return Err(invalid(
                "stability flags such as `@dev` belong in requirements, not in package versions"
                    .into(),
            ));
        }

        let normalized = normalize(text).map_err(invalid)?;
        let form = if normalized.starts_with("dev-") {
            Form::Branch
        } else {
            Form::Numbered(split_parts(&normalized))
        };
        Ok(PackagistVersion {
            normalized: normalized.into(),
            form,
        })
    }

    /// Returns the version as Composer normalises it, such as `1.2.0.0-beta1` or `dev-main`.
    #[must_use]
    pub fn normalized(&self) -> &str {
        &self.normalized
    }

    /// Orders two versions. Two different `dev-NAME` branches have no order, which is an error.
    pub fn compare(&self, other: &PackagistVersion) -> Result<Ordering, VersionError> {
        match (&self.form, &other.form) {
            (Form::Numbered(left), Form::Numbered(right)) => Ok(compare_parts(left, right)),
            (Form::Branch, Form::Numbered(_)) => Ok(Ordering::Less),
            (Form::Numbered(_), Form::Branch) => Ok(Ordering::Greater),
            (Form::Branch, Form::Branch) if self.normalized == other.normalized => {
                Ok(Ordering::Equal)
            }
            (Form::Branch, Form::Branch) => Err(VersionError::Unordered {
                scheme: Scheme::Packagist.name(),
                left: self.normalized.to_string(),
                right: other.normalized.to_string(),
                reason: "Composer does not order two branches; compare each with a numbered \
                         version instead"
                    .into(),
            }),
        }
    }
}

/// Returns whether `text` is `SOURCE as TARGET`, Composer's alias syntax.
fn is_alias(text: &str) -> bool {
    let words: Vec<&str> = text.split(' ').filter(|word| !word.is_empty()).collect();
    let is_version_word = |word: &str| !word.contains(|c: char| c == ',' || is_pcre_space(c));
    matches!(words.as_slice(), [source, "as", target]
        if is_version_word(source) && is_version_word(target))
}

/// Returns whether `text` ends in a stability flag such as `@beta`.
fn has_stability_flag(text: &str) -> bool {
    text.rsplit_once('@').is_some_and(|(_, flag)| {
        ["stable", "RC", "beta", "alpha", "dev"]
            .iter()
            .any(|stability| flag.eq_ignore_ascii_case(stability))
    })
}

/// Normalises a trimmed version without alias or stability flag, or returns why it is invalid.
fn normalize(text: &str) -> Result<String, String> {
    // Branches: `master`, `trunk` and `default` are the old spellings of `dev-master` and so on.
    if matches!(text, "master" | "trunk" | "default") {
        return Ok(format!("dev-{text}"));
    }
    if let Some(name) = text
        .get(..4)
        .filter(|prefix| prefix.eq_ignore_ascii_case("dev-"))
        .and_then(|_| text.get(4..))
    {
        return Ok(format!("dev-{name}"));
    }

    // Number and date versions, after removing build metadata.
    let text = strip_metadata(text);
    if let Some(captures) = NUMBER_VERSION.captures(text) {
        let mut version = captures[1].to_owned();
        for group in 2..=4 {
            version.push_str(captures.get(group).map_or(".0", |m| m.as_str()));
        }
        return Ok(add_suffix(version, &captures, 5));
    }
    if let Some(captures) = DATE_VERSION.captures(text) {
        let version = captures[1].replace(|c: char| !c.is_ascii_digit(), ".");
        return Ok(add_suffix(version, &captures, 2));
    }

    // Numbered branches such as `2.1.x-dev`.
    if let Some(name) = dev_branch_name(text) {
        if let Some(version) = normalize_numbered_branch(name) {
            return Ok(version);
        }
        return Err(format!(
            "a branch named `{name}` is written `dev-{name}`; only numbered branches such as \
             `2.1.x-dev` end in `-dev`"
        ));
    }
    Err(
        "expected a version such as `1.2.3`, `v1.2.3-beta1` or `2.1.x-dev`, or a branch such \
         as `dev-main`"
            .into(),
    )
}

/// Removes `+METADATA` when the version before it has no `,` or whitespace and the metadata
/// has no whitespace, as Composer does; otherwise the `+` stays and makes the version invalid.
fn strip_metadata(text: &str) -> &str {
    let has_space = |part: &str| part.contains(is_pcre_space);
    match text.split_once('+') {
        Some((version, metadata))
            if !version.is_empty()
                && !version.contains(',')
                && !has_space(version)
                && !metadata.is_empty()
                && !has_space(metadata) =>
        {
            version
        }
        _ => text,
    }
}

/// Appends the normalised stability suffix whose groups start at `first_group`.
fn add_suffix(mut version: String, captures: &Captures<'_>, first_group: usize) -> String {
    if let Some(word) = captures.get(first_group) {
        // composer/semver checks the exact spelling; `STABLE` is kept as an unknown word.
        if word.as_str() == "stable" {
            return version;
        }
        version.push('-');
        version.push_str(&expand_stability(word.as_str()));
        if let Some(numbers) = captures.get(first_group + 1) {
            version.push_str(numbers.as_str().trim_start_matches(['.', '-']));
        }
    }
    if captures
        .get(first_group + 2)
        .is_some_and(|dev| !dev.as_str().is_empty())
    {
        version.push_str("-dev");
    }
    version
}

/// Spells a stability word as Composer's normalised versions do.
fn expand_stability(word: &str) -> String {
    let word = word.to_ascii_lowercase();
    match word.as_str() {
        "a" => "alpha".into(),
        "b" => "beta".into(),
        "p" | "pl" => "patch".into(),
        "rc" => "RC".into(),
        _ => word,
    }
}

/// Returns the branch name before a final `dev`, `-dev` or `.dev`, in any case.
fn dev_branch_name(text: &str) -> Option<&str> {
    let cut = text.len().checked_sub(3)?;
    let suffix = text.get(cut..)?;
    if !suffix.eq_ignore_ascii_case("dev") {
        return None;
    }
    let name = &text[..cut];
    Some(name.strip_suffix(['.', '-']).unwrap_or(name))
}

/// Normalises a numbered branch name (`2.1`, `v2.x`, `2.1.*`) to `2.1.9999999.9999999-dev`.
fn normalize_numbered_branch(name: &str) -> Option<String> {
    let captures = NUMBERED_BRANCH.captures(name.trim_matches(is_php_space))?;
    let mut version = captures[1].to_owned();
    for group in 2..=4 {
        let part = captures.get(group).map_or(".x", |m| m.as_str());
        version.push_str(&part.replace(['x', 'X', '*'], "9999999"));
    }
    version.push_str("-dev");
    Some(version)
}

/// Splits a normalised number version into its runs of digits and of letters, as PHP's
/// `version_compare` does after putting a `.` between them.
fn split_parts(normalized: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let bytes = normalized.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        let is_digit = bytes[start].is_ascii_digit();
        if !bytes[start].is_ascii_alphanumeric() {
            start += 1;
            continue;
        }
        let end = bytes[start..]
            .iter()
            .position(|b| !b.is_ascii_alphanumeric() || b.is_ascii_digit() != is_digit)
            .map_or(bytes.len(), |length| start + length);
        let run = &normalized[start..end];
        parts.push(if is_digit {
            Part::Number(Number::from_digits(run))
        } else {
            Part::Word(special_form_rank(run))
        });
        start = end;
    }
    parts
}

/// Ranks a word as PHP's `version_compare` does: by the first special form it starts with,
/// and below all of them when it starts with none.
fn special_form_rank(word: &str) -> i8 {
    SPECIAL_FORMS
        .iter()
        .find(|(form, _)| word.starts_with(form))
        .map_or(-1, |&(_, rank)| rank)
}

/// Orders two normalised number versions part by part, as PHP's `version_compare` does.
fn compare_parts(left: &[Part], right: &[Part]) -> Ordering {
    for (a, b) in left.iter().zip(right) {
        let order = match (a, b) {
            (Part::Number(a), Part::Number(b)) => a.cmp(b),
            _ => a.rank().cmp(&b.rank()),
        };
        if order.is_ne() {
            return order;
        }
    }
    // A remaining number makes its version greater; a remaining word compares with the end as a
    // number would.
    let remainder = |part: Option<&Part>| match part {
        Some(Part::Number(_)) => Ordering::Greater,
        Some(Part::Word(rank)) => rank.cmp(&NUMBER_RANK),
        None => Ordering::Equal,
    };
    match left.len().cmp(&right.len()) {
        Ordering::Greater => remainder(left.get(right.len())),
        Ordering::Less => remainder(right.get(left.len())).reverse(),
        Ordering::Equal => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use std::cmp::Ordering::{self, Equal, Greater, Less};

    use super::*;

    fn parse(input: &str) -> PackagistVersion {
        PackagistVersion::parse(input).unwrap_or_else(|error| panic!("{error}"))
    }

    fn cmp(a: &str, b: &str) -> Ordering {
        parse(a)
            .compare(&parse(b))
            .unwrap_or_else(|error| panic!("{error}"))
    }

    #[test]
    fn packagist_normalize_table() {
        let cases = [
            ("1.0.0", "1.0.0.0"),
            ("v1.2", "1.2.0.0"),
            ("V1.2", "1.2.0.0"),
            ("1.2.3.4", "1.2.3.4"),
            (" 1.0.0 ", "1.0.0.0"),
            ("1.0.0+build.5", "1.0.0.0"),
            ("00.01.03.04", "00.01.03.04"),
            ("10.4.13-beta", "10.4.13.0-beta"),
            ("10.4.13beta2", "10.4.13.0-beta2"),
            ("10.4.13-beta.2", "10.4.13.0-beta2"),
            ("1.25.0-b.2.1", "1.25.0.0-beta2.1"),
            ("10.4.13-b", "10.4.13.0-beta"),
            ("1.0.0-rc1", "1.0.0.0-RC1"),
            ("1.0.0.rc2", "1.0.0.0-RC2"),
            ("1.0pl1", "1.0.0.0-patch1"),
            ("1.0-p", "1.0.0.0-patch"),
            ("1.0-alpha3-dev", "1.0.0.0-alpha3-dev"),
            ("1.0-dev", "1.0.0.0-dev"),
            ("1.0.0-stable", "1.0.0.0"),
            ("1.0.0-stable-dev", "1.0.0.0"),
            ("1.0.0-STABLE", "1.0.0.0-stable"),
            ("2010-01-02", "2010.01.02"),
            ("20100102-203040", "20100102.203040"),
            ("20100102-203040-p1", "20100102.203040-patch1"),
            ("v20100102", "20100102"),
            ("201903.0-p2", "201903.0-patch2"),
            ("1.x-dev", "1.9999999.9999999.9999999-dev"),
            ("2.1.x-dev", "2.1.9999999.9999999-dev"),
            ("v2.1.*-dev", "2.1.9999999.9999999-dev"),
            ("1.0.0.x-DEV", "1.0.0.9999999-dev"),
            ("dev-master", "dev-master"),
            ("DEV-feature/foo", "dev-feature/foo"),
            ("master", "dev-master"),
            ("dev-feature+issue-1", "dev-feature+issue-1"),
        ];
        for (input, expected) in cases {
            assert_eq!(parse(input).normalized(), expected, "`{input}`");
        }
    }

    #[test]
    fn packagist_ordering_table() {
        let cases = [
            ("padded numbers", "1.0", "1.0.0", Equal),
            ("leading v", "v1.0.0", "1.0.0", Equal),
            ("leading zeros", "1.01", "1.1", Equal),
            ("dev below alpha", "1.0-dev", "1.0a1", Less),
            ("alpha below beta", "1.0a1", "1.0b1", Less),
            ("beta below RC", "1.0b1", "1.0RC1", Less),
            ("RC below release", "1.0rc1", "1.0", Less),
            ("release below patch", "1.0", "1.0pl1", Less),
            ("RC numbers by value", "1.0RC2", "1.0RC10", Less),
            (
                "dev of a beta below the beta",
                "1.0-beta1-dev",
                "1.0-beta1",
                Less,
            ),
            (
                "dev of a beta above the alpha",
                "1.0-beta1-dev",
                "1.0-alpha9",
                Greater,
            ),
            ("unknown word below dev", "1.0-STABLE", "1.0-dev", Less),
            ("metadata ignored", "1.0.0+a", "1.0.0+b", Equal),
            ("branch below number", "dev-main", "0.0.0.1", Less),
            ("branch below dev number", "dev-main", "1.0.x-dev", Less),
            (
                "numbered branch above its releases",
                "1.0.x-dev",
                "1.0.99",
                Greater,
            ),
            (
                "numbered branch below next minor",
                "1.0.x-dev",
                "1.1.0-alpha1",
                Less,
            ),
            ("date above number", "20100102", "2.0.0", Greater),
            ("extra date part above", "2010-01-02", "2010.01.02", Less),
            (
                "long numbers",
                "1.99999999999999999999",
                "1.99999999999999999998",
                Greater,
            ),
        ];
        for (name, a, b, expected) in cases {
            assert_eq!(cmp(a, b), expected, "{name}: {a} vs {b}");
            assert_eq!(cmp(b, a), expected.reverse(), "{name}: {b} vs {a}");
        }
    }

    #[test]
    fn packagist_branches() {
        assert_eq!(cmp("dev-main", "dev-main"), Equal);
        let error = parse("dev-main")
            .compare(&parse("dev-feature"))
            .expect_err("two branches have no order");
        assert!(
            matches!(
                error,
                VersionError::Unordered {
                    scheme: "packagist",
                    ..
                }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn packagist_invalid_table() {
        let cases = [
            ("empty", ""),
            ("letters", "a"),
            ("unknown suffix", "1.0.0-meh"),
            ("maven snapshot", "1.0.1-SNAPSHOT"),
            ("five numbers", "1.0.0.0.0"),
            ("number after dash", "1.0.0-1"),
            ("php build number", "4.3-2RC1"),
            ("hash", "1.2.3.#"),
            ("seven digit number", "1234567.1"),
            ("thirty digits", "999999999999999999999999999991"),
            ("branch suffix", "feature-dev"),
            ("metadata with space", "1.0.0+foo bar"),
            ("inner space", "1.0 .2"),
            ("alias", "1.0.0 as 2.0.0"),
            ("branch alias", "dev-master as 1.0.x-dev"),
            ("stability flag", "1.0.0@beta"),
            ("branch stability flag", "dev-master@dev"),
            ("less than", "1.0.0<1.0.5-dev"),
            ("non-ascii digit", "1.\u{0663}"),
        ];
        for (name, input) in cases {
            assert!(
                PackagistVersion::parse(input).is_err(),
                "{name}: `{input}` should be rejected"
            );
        }
    }

    #[test]
    fn packagist_error_messages() {
        let error = PackagistVersion::parse("feature-dev").expect_err("not numbered");
        assert_eq!(
            error.to_string(),
            "invalid packagist version `feature-dev`: a branch named `feature` is written \
             `dev-feature`; only numbered branches such as `2.1.x-dev` end in `-dev`"
        );
    }
}
