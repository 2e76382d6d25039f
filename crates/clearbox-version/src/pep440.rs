//! Python package versions, parsed and ordered by PEP 440
//! (<https://peps.python.org/pep-0440/>, now the "Version specifiers" specification at
//! <https://packaging.python.org/en/latest/specifications/version-specifiers/>).
//!
//! Accepted spellings follow the specification's normalisation rules, which pypa/packaging
//! implements:
//! - case-insensitive, surrounding whitespace and one leading `v` ignored;
//! - epoch `N!`, release `N(.N)*` with leading zeros ignored;
//! - pre-release `a`, `b`, `rc` with the spellings `alpha`, `beta`, `c`, `pre`, `preview`, an
//!   optional `-`, `_` or `.` before the label and before the number, and an implicit number 0;
//! - post-release `.postN` with the spellings `rev` and `r`, the same separators, an implicit
//!   number 0, and the implicit form `-N`;
//! - development release `.devN` with the same separators and implicit number;
//! - local version `+label`, with segments separated by `-`, `_` or `.`.
//!
//! Ordering follows the specification: epoch, then release with trailing zeros ignored
//! (`1.0 == 1.0.0`), then `.devN` of a plain release < `aN` < `bN` < `rcN` < release, then
//! post-releases, with `.devN` sorting before the same version without it. A local version
//! sorts after the same public version. Local segments compare one by one: numeric segments by
//! value and above alphanumeric ones, alphanumeric segments by bytes, and a prefix below the
//! longer label.
//!
//! Legacy (pre-PEP 440) versions such as `2004d` or `1.0-SNAPSHOT-foo` are errors, as they are in
//! pypa/packaging 22 and later. Only ASCII letters and digits are accepted, so `1.0+İ` and
//! Arabic-Indic digits are errors too.

use std::cmp::Ordering;

use crate::number::Number;
use crate::{Scheme, VersionError};

/// A parsed PEP 440 version, stored as its sort key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pep440Version {
    // NOTE: the derived ordering compares the fields in declaration order, which is the
    // specification's order; keep them in this order.
    epoch: Number,
    /// Release numbers without trailing zeros.
    release: Vec<Number>,
    pre: PreKey,
    post: Option<Number>,
    dev: DevKey,
    local: Option<Vec<LocalSegment>>,
}

/// A pre-release label, in ascending order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum PreLabel {
    Alpha,
    Beta,
    Rc,
}

/// Sort position of the pre-release part.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum PreKey {
    /// A development release of a plain release (`1.0.dev1`) sorts before its pre-releases.
    DevOfRelease,
    Pre(PreLabel, Number),
    Release,
}

/// Sort position of the development-release part.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum DevKey {
    Dev(Number),
    None,
}

/// One segment of a local version label; numeric segments sort above alphanumeric ones.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum LocalSegment {
    Alphanumeric(Box<str>),
    Numeric(Number),
}

/// Pre-release spellings, longest first so that `preview` wins over `pre`.
const PRE_LABELS: [(&str, PreLabel); 8] = [
    ("preview", PreLabel::Rc),
    ("alpha", PreLabel::Alpha),
    ("beta", PreLabel::Beta),
    ("pre", PreLabel::Rc),
    ("rc", PreLabel::Rc),
    ("a", PreLabel::Alpha),
    ("b", PreLabel::Beta),
    ("c", PreLabel::Rc),
];

/// Post-release spellings, longest first.
const POST_LABELS: [&str; 3] = ["post", "rev", "r"];

/// A cursor over the lower-cased version string.
struct Cursor<'a> {
    text: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_separator(&mut self) -> bool {
        if matches!(self.peek(), Some(b'-' | b'_' | b'.')) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_label<'l>(&mut self, labels: impl IntoIterator<Item = &'l str>) -> Option<&'l str> {
        let rest = &self.text[self.pos..];
        let label = labels
            .into_iter()
            .find(|label| rest.starts_with(label.as_bytes()))?;
        self.pos += label.len();
        Some(label)
    }

    fn digits(&mut self) -> Option<Number> {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        let digits = std::str::from_utf8(&self.text[start..self.pos]).ok()?;
        (!digits.is_empty()).then(|| Number::from_digits(digits))
    }

    /// Parses an optional separator, a label from `labels`, an optional separator and an
    /// optional number (0 when missing). Rewinds and returns `None` when no label follows.
    fn labelled_number<'l>(
        &mut self,
        labels: impl IntoIterator<Item = &'l str>,
    ) -> Option<(&'l str, Number)> {
        let start = self.pos;
        self.eat_separator();
        let Some(label) = self.eat_label(labels) else {
            self.pos = start;
            return None;
        };
        self.eat_separator();
        Some((label, self.digits().unwrap_or_else(Number::zero)))
    }
}

impl Pep440Version {
    /// Parses a PEP 440 version, accepting every spelling the specification normalises.
    pub fn parse(input: &str) -> Result<Pep440Version, VersionError> {
        let invalid = |reason: &str| VersionError::invalid(Scheme::Pep440, input, reason);
        let lowered = input.trim().to_ascii_lowercase();
        let mut cursor = Cursor {
            text: lowered.as_bytes(),
            pos: 0,
        };
        cursor.eat(b'v');

        let (epoch, release) = parse_release(&mut cursor).map_err(invalid)?;
        let pre = parse_pre(&mut cursor);
        let post = parse_post(&mut cursor);
        let dev = cursor.labelled_number(["dev"]).map(|(_, number)| number);

        // Local version label.
        let local = if cursor.eat(b'+') {
            Some(parse_local(&mut cursor).ok_or_else(|| invalid("invalid local version label"))?)
        } else {
            None
        };

        if cursor.pos != cursor.text.len() {
            let (parsed, rest) = lowered.split_at(cursor.pos);
            return Err(invalid(&format!("unexpected `{rest}` after `{parsed}`")));
        }

        let pre = match (pre, &post, &dev) {
            (Some((label, number)), _, _) => PreKey::Pre(label, number),
            (None, None, Some(_)) => PreKey::DevOfRelease,
            (None, _, _) => PreKey::Release,
        };
        Ok(Pep440Version {
            epoch,
            release,
            pre,
            post,
            dev: dev.map_or(DevKey::None, DevKey::Dev),
            local,
        })
    }

    /// Orders by public version only, ignoring local labels. PEP 440 ignores a candidate's
    /// local label when the specifier it is matched against has none.
    #[must_use]
    pub fn cmp_public(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| self.release.cmp(&other.release))
            .then_with(|| self.pre.cmp(&other.pre))
            .then_with(|| self.post.cmp(&other.post))
            .then_with(|| self.dev.cmp(&other.dev))
    }

    /// Returns whether this is a pre-release or a development release.
    #[must_use]
    pub fn is_prerelease(&self) -> bool {
        !matches!(self.pre, PreKey::Release) || matches!(self.dev, DevKey::Dev(_))
    }
}

/// Parses the optional epoch and the release numbers, dropping trailing zeros.
fn parse_release(cursor: &mut Cursor<'_>) -> Result<(Number, Vec<Number>), &'static str> {
    let mut epoch = Number::zero();
    let mut first = cursor.digits().ok_or("expected a release number")?;
    if cursor.eat(b'!') {
        epoch = first;
        first = cursor
            .digits()
            .ok_or("expected a release number after the epoch")?;
    }
    let mut release = vec![first];
    while cursor.peek() == Some(b'.')
        && cursor
            .text
            .get(cursor.pos + 1)
            .is_some_and(u8::is_ascii_digit)
    {
        cursor.pos += 1;
        release.extend(cursor.digits());
    }
    while release.last().is_some_and(Number::is_zero) {
        release.pop();
    }
    Ok((epoch, release))
}

/// Parses the pre-release part in any of its spellings.
fn parse_pre(cursor: &mut Cursor<'_>) -> Option<(PreLabel, Number)> {
    let spellings = PRE_LABELS.iter().map(|(spelling, _)| *spelling);
    let (spelling, number) = cursor.labelled_number(spellings)?;
    let label = PRE_LABELS
        .iter()
        .find(|(candidate, _)| *candidate == spelling)
        .map(|(_, label)| *label)?;
    Some((label, number))
}

/// Parses the post-release part: `-N`, or a labelled number.
fn parse_post(cursor: &mut Cursor<'_>) -> Option<Number> {
    let start = cursor.pos;
    if cursor.eat(b'-') {
        if let Some(number) = cursor.digits() {
            return Some(number);
        }
        cursor.pos = start;
    }
    cursor
        .labelled_number(POST_LABELS)
        .map(|(_, number)| number)
}

/// Parses `[a-z0-9]+` segments separated by `-`, `_` or `.`.
fn parse_local(cursor: &mut Cursor<'_>) -> Option<Vec<LocalSegment>> {
    let mut segments = Vec::new();
    loop {
        let start = cursor.pos;
        while cursor.peek().is_some_and(|b| b.is_ascii_alphanumeric()) {
            cursor.pos += 1;
        }
        let segment = std::str::from_utf8(&cursor.text[start..cursor.pos]).ok()?;
        if segment.is_empty() {
            return None;
        }
        segments.push(if segment.bytes().all(|b| b.is_ascii_digit()) {
            LocalSegment::Numeric(Number::from_digits(segment))
        } else {
            LocalSegment::Alphanumeric(segment.into())
        });
        if !cursor.eat_separator() {
            return Some(segments);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &str) -> Pep440Version {
        Pep440Version::parse(input).unwrap_or_else(|error| panic!("{error}"))
    }

    #[test]
    fn pep440_ordering_table() {
        use Ordering::{Equal, Greater, Less};
        let cases = [
            ("trailing zeros ignored", "1.0", "1.0.0", Equal),
            ("leading zeros ignored", "1.01", "1.1", Equal),
            ("epoch wins", "1!0.1", "2.0", Greater),
            ("dev of release before alpha", "1.0.dev0", "1.0a0", Less),
            ("alpha before beta", "1.0a1", "1.0b1", Less),
            ("beta before rc", "1.0b2", "1.0rc1", Less),
            ("rc before release", "1.0rc1", "1.0", Less),
            ("dev of pre-release before it", "1.0a1.dev1", "1.0a1", Less),
            ("post after release", "1.0.post1", "1.0", Greater),
            (
                "dev of post-release before it",
                "1.0.post1.dev1",
                "1.0.post1",
                Less,
            ),
            (
                "dev of post after release",
                "1.0.post1.dev1",
                "1.0",
                Greater,
            ),
            ("post of pre-release", "1.0a1.post1", "1.0a2", Less),
            ("local after public", "1.0+local", "1.0", Greater),
            ("local below next post", "1.0+local", "1.0.post0", Less),
            ("local numeric above letters", "1.0+1", "1.0+abc", Greater),
            ("local numeric by value", "1.0+10", "1.0+9", Greater),
            ("local prefix first", "1.0+1.1", "1.0+1.1.0", Less),
            ("local letters by bytes", "1.0+abc", "1.0+abd", Less),
        ];
        for (name, a, b, expected) in cases {
            assert_eq!(parse(a).cmp(&parse(b)), expected, "{name}: {a} vs {b}");
        }
    }

    #[test]
    fn pep440_normalisation_table() {
        let cases = [
            ("upper case", "1.0RC1", "1.0rc1"),
            ("alpha spelling", "1.0-alpha.1", "1.0a1"),
            ("c spelling", "1.0c1", "1.0rc1"),
            ("preview spelling", "1.0preview", "1.0rc0"),
            ("implicit pre number", "1.0b", "1.0b0"),
            ("rev spelling", "1.0-rev5", "1.0.post5"),
            ("r spelling", "1.0r", "1.0.post0"),
            ("implicit post", "1.0-5", "1.0.post5"),
            ("dev separators", "1.0_DEV-3", "1.0.dev3"),
            ("leading v", "V1.0", "1.0"),
            ("whitespace", " \t1.0\n", "1.0"),
            ("local separators", "1.0+ab-cd_01", "1.0+ab.cd.1"),
            ("epoch leading zeros", "00!1.2", "1.2"),
            ("trailing pre separator", "1.0a.", "1.0a0"),
        ];
        for (name, spelled, normal) in cases {
            assert_eq!(
                parse(spelled),
                parse(normal),
                "{name}: {spelled} vs {normal}"
            );
        }
    }

    #[test]
    fn pep440_invalid_table() {
        let cases = [
            ("empty", ""),
            ("words", "french toast"),
            ("empty local", "1.0+"),
            ("empty local segment", "1.0+a..b"),
            ("plus in local", "1.0+1+1"),
            ("space inside", "1. 0"),
            ("trailing dot", "1.0."),
            ("double dot", "1..0"),
            ("leading dot", ".1"),
            ("epoch only", "1!"),
            ("legacy", "2004d"),
            ("hyphen alone", "1.0-"),
            ("dotted pre number", "1.0a1.1"),
            ("arabic-indic digits", "\u{661}.\u{662}"),
            ("dotless i in local", "1.0+\u{130}"),
        ];
        for (name, input) in cases {
            assert!(Pep440Version::parse(input).is_err(), "{name}: `{input}`");
        }
    }

    #[test]
    fn pep440_is_prerelease() {
        assert!(parse("1.0a1").is_prerelease());
        assert!(parse("1.0.dev1").is_prerelease());
        assert!(parse("1.0.post1.dev1").is_prerelease());
        assert!(!parse("1.0.post1").is_prerelease());
        assert!(!parse("1.0+local").is_prerelease());
    }

    #[test]
    fn pep440_cmp_public_ignores_local() {
        assert_eq!(parse("1.0+abc").cmp_public(&parse("1.0")), Ordering::Equal);
        assert_eq!(parse("1.0+abc").cmp(&parse("1.0")), Ordering::Greater);
    }
}
