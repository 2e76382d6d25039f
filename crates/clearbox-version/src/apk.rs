//! Alpine package versions, ordered as apk-tools orders them.
//!
//! The format, from apk-tools' `apk-package(5)`, is
//! `number{.number}...{letter}{_suffix{number}}...{~hash}{-r#}`: dot-separated numbers, one
//! lower-case letter, suffixes from `alpha beta pre rc` (below the plain release) and
//! `cvs svn git hg p` (above it), a commit hash of lower-case hex digits, and the package
//! revision `-rN`.
//!
//! One extension: a letter may be followed by more numbers, as in `6.6.2p1-r0`. apk-tools 2
//! accepts this form and Alpine's security database uses it (opensmtpd `6.6.2p1-r0` in Alpine
//! 3.11). apk-tools 3 rejects it. Here it parses as the numbers, then the letter, then the
//! further numbers.
//!
//! Ordering walks both versions part by part. Parts of the same kind compare by value:
//! - the first number and numbers after a letter by value;
//! - a number after a dot, when either side starts with `0`, as a decimal fraction, so
//!   `1.001 < 1.01 < 1.1`. apk-tools' own cases `8.2.0 < 8.2.001` and `8.2.0015 < 8.2.002`
//!   agree with this rule;
//! - suffixes by the list order above, and their numbers, the revision and letters by value;
//! - commit hashes by bytes.
//!
//! At the first pair of parts of different kinds, a pre-release suffix (`alpha beta pre rc`)
//! makes its side lower. Otherwise the side that continues with an earlier kind of part (number,
//! letter, suffix, suffix number, hash, revision, end) is greater, so `1.2.1 > 1.2`,
//! `1.2_p1 > 1.2` and `1.2-r1 > 1.2`.
//!
//! Every other string is an error, among them upper-case letters, unknown suffixes (`_foo`),
//! `-r` without a number and anything after the revision.

use std::cmp::Ordering;

use crate::number::Number;
use crate::{Scheme, VersionError};

/// A parsed apk-tools version.
#[derive(Debug, Clone)]
pub struct ApkVersion {
    parts: Vec<Part>,
}

/// One part of a version, in the order the parts may appear.
#[derive(Debug, Clone)]
enum Part {
    /// A number; `after_dot` is false for the first number and numbers that follow a letter.
    Number {
        digits: Box<str>,
        after_dot: bool,
    },
    Letter(u8),
    Suffix(Suffix),
    SuffixNumber(Number),
    Hash(Box<str>),
    Revision(Number),
}

/// A version suffix, declared in ascending order; the plain release sits between `Rc` and
/// `Cvs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Suffix {
    Alpha,
    Beta,
    Pre,
    Rc,
    Cvs,
    Svn,
    Git,
    Hg,
    P,
}

impl Suffix {
    fn from_name(name: &str) -> Option<Suffix> {
        Some(match name {
            "alpha" => Suffix::Alpha,
            "beta" => Suffix::Beta,
            "pre" => Suffix::Pre,
            "rc" => Suffix::Rc,
            "cvs" => Suffix::Cvs,
            "svn" => Suffix::Svn,
            "git" => Suffix::Git,
            "hg" => Suffix::Hg,
            "p" => Suffix::P,
            _ => return None,
        })
    }

    fn is_pre_release(self) -> bool {
        self <= Suffix::Rc
    }
}

impl Part {
    /// The rank of the part's kind; the end of a version ranks after every part.
    fn kind(&self) -> u8 {
        match self {
            Part::Number { .. } => 0,
            Part::Letter(_) => 1,
            Part::Suffix(_) => 2,
            Part::SuffixNumber(_) => 3,
            Part::Hash(_) => 4,
            Part::Revision(_) => 5,
        }
    }
}

const END_KIND: u8 = 6;

/// A cursor over the version string.
struct Cursor<'a> {
    input: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.input.as_bytes().get(self.pos).copied()
    }

    fn take_while(&mut self, accept: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&accept) {
            self.pos += 1;
        }
        &self.input[start..self.pos]
    }
}

impl ApkVersion {
    /// Parses an apk-tools version string.
    pub fn parse(input: &str) -> Result<ApkVersion, VersionError> {
        let invalid = |reason: String| VersionError::invalid(Scheme::Apk, input, reason);
        if input.is_empty() {
            return Err(invalid("version string is empty".into()));
        }
        let mut cursor = Cursor { input, pos: 0 };
        let mut parts = Vec::new();

        parse_numbers(&mut cursor, &mut parts).map_err(invalid)?;
        parse_suffixes(&mut cursor, &mut parts).map_err(invalid)?;

        // Commit hash.
        if cursor.peek() == Some(b'~') {
            cursor.pos += 1;
            let hash = cursor.take_while(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
            if hash.is_empty() {
                return Err(invalid(
                    "`~` must be followed by a lower-case hex hash".into(),
                ));
            }
            parts.push(Part::Hash(hash.into()));
        }

        // Package revision.
        if cursor.peek() == Some(b'-') {
            cursor.pos += 1;
            if cursor.peek() != Some(b'r') {
                return Err(invalid("`-` must start a revision `-rN`".into()));
            }
            cursor.pos += 1;
            let digits = cursor.take_while(|b| b.is_ascii_digit());
            if digits.is_empty() {
                return Err(invalid("revision `-r` has no number".into()));
            }
            parts.push(Part::Revision(Number::from_digits(digits)));
        }

        if let Some(rest) = input.get(cursor.pos..).filter(|rest| !rest.is_empty()) {
            return Err(invalid(format!(
                "unexpected `{rest}` at byte {}",
                cursor.pos
            )));
        }
        Ok(ApkVersion { parts })
    }
}

/// Parses the numbers and letters before the first suffix.
fn parse_numbers(cursor: &mut Cursor<'_>, parts: &mut Vec<Part>) -> Result<(), String> {
    let first = cursor.take_while(|b| b.is_ascii_digit());
    if first.is_empty() {
        return Err("version must start with a digit".into());
    }
    parts.push(Part::Number {
        digits: first.into(),
        after_dot: false,
    });
    loop {
        let after_letter = matches!(parts.last(), Some(Part::Letter(_)));
        match cursor.peek() {
            Some(b'.') if after_letter => return Err("a letter cannot be followed by `.`".into()),
            Some(b'.') => {
                cursor.pos += 1;
                let digits = cursor.take_while(|b| b.is_ascii_digit());
                if digits.is_empty() {
                    return Err("`.` must be followed by a number".into());
                }
                parts.push(Part::Number {
                    digits: digits.into(),
                    after_dot: true,
                });
            }
            Some(letter @ b'a'..=b'z') if after_letter => {
                return Err(format!(
                    "a second letter `{}` follows a letter",
                    char::from(letter)
                ));
            }
            Some(letter @ b'a'..=b'z') => {
                cursor.pos += 1;
                parts.push(Part::Letter(letter));
            }
            Some(b'0'..=b'9') => {
                // Only reachable after a letter: apk-tools 2 form such as `6.6.2p1`.
                let digits = cursor.take_while(|b| b.is_ascii_digit());
                parts.push(Part::Number {
                    digits: digits.into(),
                    after_dot: false,
                });
            }
            _ => return Ok(()),
        }
    }
}

/// Parses `_suffix{number}` parts.
fn parse_suffixes(cursor: &mut Cursor<'_>, parts: &mut Vec<Part>) -> Result<(), String> {
    while cursor.peek() == Some(b'_') {
        cursor.pos += 1;
        let name = cursor.take_while(|b| b.is_ascii_lowercase());
        if name.is_empty() {
            return Err("`_` must be followed by a suffix name".into());
        }
        let suffix = Suffix::from_name(name).ok_or_else(|| format!("unknown suffix `_{name}`"))?;
        parts.push(Part::Suffix(suffix));
        let digits = cursor.take_while(|b| b.is_ascii_digit());
        if !digits.is_empty() {
            parts.push(Part::SuffixNumber(Number::from_digits(digits)));
        }
    }
    Ok(())
}

/// Orders two parts of the same kind.
fn cmp_same_kind(a: &Part, b: &Part) -> Ordering {
    match (a, b) {
        (
            Part::Number {
                digits: x,
                after_dot,
            },
            Part::Number { digits: y, .. },
        ) => {
            if *after_dot && (x.starts_with('0') || y.starts_with('0')) {
                // A decimal fraction: trailing zeros do not change its value.
                x.trim_end_matches('0').cmp(y.trim_end_matches('0'))
            } else {
                crate::number::cmp_digits(x.as_bytes(), y.as_bytes())
            }
        }
        (Part::Letter(x), Part::Letter(y)) => x.cmp(y),
        (Part::Suffix(x), Part::Suffix(y)) => x.cmp(y),
        (Part::SuffixNumber(x), Part::SuffixNumber(y)) | (Part::Revision(x), Part::Revision(y)) => {
            x.cmp(y)
        }
        (Part::Hash(x), Part::Hash(y)) => x.cmp(y),
        _ => a.kind().cmp(&b.kind()),
    }
}

fn is_pre_release(part: Option<&Part>) -> bool {
    matches!(part, Some(Part::Suffix(suffix)) if suffix.is_pre_release())
}

impl Ord for ApkVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let mut index = 0;
        let (a, b) = loop {
            let (a, b) = (self.parts.get(index), other.parts.get(index));
            match (a, b) {
                (Some(x), Some(y)) if x.kind() == y.kind() => {
                    let by_value = cmp_same_kind(x, y);
                    if by_value != Ordering::Equal {
                        return by_value;
                    }
                }
                _ => break (a, b),
            }
            index += 1;
        };

        // The parts differ in kind, or one side or both ended.
        if is_pre_release(a) {
            return Ordering::Less;
        }
        if is_pre_release(b) {
            return Ordering::Greater;
        }
        let kind_a = a.map_or(END_KIND, Part::kind);
        let kind_b = b.map_or(END_KIND, Part::kind);
        kind_b.cmp(&kind_a)
    }
}

impl PartialOrd for ApkVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Equality is ordering equality: `1-r01` equals `1-r1`.
impl PartialEq for ApkVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for ApkVersion {}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        let a = ApkVersion::parse(a).expect("left version parses");
        let b = ApkVersion::parse(b).expect("right version parses");
        a.cmp(&b)
    }

    #[test]
    fn apk_ordering_table() {
        use Ordering::{Equal, Greater, Less};
        let cases = [
            ("numbers by value", "1.10", "1.9", Greater),
            ("more numbers win", "1.2.1", "1.2", Greater),
            ("zero component counts", "1.0.0", "1.0", Greater),
            ("letter after number", "1.2a", "1.2", Greater),
            ("letters by value", "1.2b", "1.2a", Greater),
            ("pre-release suffix below release", "1.2_rc1", "1.2", Less),
            ("pre-release suffix below letter", "1.2_alpha", "1.2a", Less),
            (
                "post-release suffix above release",
                "1.2_p1",
                "1.2",
                Greater,
            ),
            ("suffix order", "1.2_svn2", "1.2_git1", Less),
            ("suffix number", "1.3_alpha2", "1.3_alpha10", Less),
            ("post-release below next number", "1.2_p1", "1.2.1", Less),
            ("revision above none", "1.2-r1", "1.2", Greater),
            ("revision by value", "1-r01", "1-r1", Equal),
            ("revision after suffix", "1.2_rc1-r5", "1.2-r0", Less),
            ("fraction with leading zero", "8.2.0", "8.2.001", Less),
            ("fraction digit by digit", "8.2.0015", "8.2.002", Less),
            ("first number has no fraction", "006", "1.06-r6", Greater),
            ("letter digits extension", "6.6.2p1", "6.6.2p2", Less),
            ("letter above suffix", "6.6.2p1", "6.6.2_p1", Greater),
            ("hash by bytes", "1.0~1234", "1.0~2345", Less),
            ("hash above end", "1.0~abc", "1.0", Greater),
            (
                "timestamps in suffix",
                "1.0_pre20191002222144",
                "1.0_pre20210530193627",
                Less,
            ),
        ];
        for (name, a, b, expected) in cases {
            assert_eq!(cmp(a, b), expected, "{name}: {a} vs {b}");
        }
    }

    #[test]
    fn apk_valid_table() {
        for input in [
            "1.2",
            "0.1_pre2",
            "0.1_pre2~1234abcd",
            "0.1_p1_pre2",
            "0.1_git20240101_pre1",
            "2.3.0b-r4",
            "1.8.31p1-r1",
        ] {
            assert!(ApkVersion::parse(input).is_ok(), "`{input}` should parse");
        }
    }

    #[test]
    fn apk_invalid_table() {
        let cases = [
            ("empty", ""),
            ("two letters", "0.1bc"),
            ("dot after letter", "0.1a.1"),
            ("empty hash", "0.1_pre2~"),
            ("non-hex hash", "0.1_pre2~1234xbcd"),
            ("suffix after hash", "0.1_pre2~1234abcd_pre1"),
            ("hash after revision", "0.1_pre2-r1~1234abcd"),
            ("unknown suffix", "0.1_foobar1"),
            ("hyphen without r", "0.1-pre1.1"),
            ("revision without number", "0.1-r"),
            ("suffix after revision", "0.1-r2_pre1"),
            ("two revisions", "0.1-r2-r3"),
            ("dot in revision", "0.1-r2.1"),
            ("leading dot", ".1"),
            ("letter only", "a"),
            ("empty suffix", "0.1_"),
            ("double underscore", "0.1__alpha"),
            ("number as suffix", "0.1_1_alpha"),
            ("upper-case letter", "1.2.0A"),
            ("double dot", "0..8"),
        ];
        for (name, input) in cases {
            assert!(ApkVersion::parse(input).is_err(), "{name}: `{input}`");
        }
    }

    #[test]
    fn apk_error_names_problem() {
        let error = ApkVersion::parse("1.0_foo").expect_err("unknown suffix is invalid");
        assert_eq!(
            error.to_string(),
            "invalid apk version `1.0_foo`: unknown suffix `_foo`"
        );
    }
}
