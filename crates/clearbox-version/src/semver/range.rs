//! npm version ranges, as node-semver 7 reads them
//! (<https://github.com/npm/node-semver#ranges>).
//!
//! A range is a set of comparator sets joined by `||`; a version satisfies the range when it
//! satisfies every comparator of one set. Each comparator is desugared the way node-semver does:
//!
//! | range | comparators |
//! |---|---|
//! | `*`, `x`, empty | any version |
//! | `1.x`, `1` | `>=1.0.0 <2.0.0-0` |
//! | `~1.2.3` | `>=1.2.3 <1.3.0-0` |
//! | `^1.2.3`, `^0.2.3`, `^0.0.3` | `>=1.2.3 <2.0.0-0`, `>=0.2.3 <0.3.0-0`, `>=0.0.3 <0.0.4-0` |
//! | `1.2.3 - 2.3` | `>=1.2.3 <2.4.0-0` |
//! | `>1.2`, `<=1.2` | `>=1.3.0`, `<1.3.0-0` |
//! | `<*`, `>*` | no version |
//!
//! Pre-release rule: a version with a pre-release satisfies a comparator set only when some
//! comparator of that set has a pre-release on the same `MAJOR.MINOR.PATCH`, so `^1.2.3` does not
//! match `1.3.0-beta`. [`RangeOptions::include_prerelease`] turns the rule off.
//!
//! Not supported: node-semver's limit of 256 characters per range; numbers above 2^53 - 1 in a
//! range are rejected, as node-semver rejects them.

use std::cmp::Ordering;
use std::fmt;

use super::SemverVersion;
use crate::{Scheme, VersionError};

/// The two node-semver options that change how ranges read and match.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RangeOptions {
    /// node-semver's `loose`: accepts `=`, spaces and leading zeros in versions and a
    /// pre-release without its hyphen. Default: off.
    pub loose: bool,
    /// node-semver's `includePrerelease`: lets pre-releases match any set whose bounds include
    /// them. Default: off.
    pub include_prerelease: bool,
}

/// A parsed npm range.
#[derive(Debug, Clone)]
pub struct NpmRange {
    sets: Vec<Vec<Comparator>>,
    options: RangeOptions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Equal,
}

#[derive(Debug, Clone)]
enum Comparator {
    Any,
    Compare(Operator, SemverVersion),
}

/// The largest number node-semver accepts in a version: JavaScript's `MAX_SAFE_INTEGER`.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

impl NpmRange {
    /// Parses a range. Fails where node-semver's `new Range()` throws.
    pub fn parse(input: &str, options: RangeOptions) -> Result<NpmRange, VersionError> {
        let invalid = |reason: String| VersionError::invalid(Scheme::Semver, input, reason);

        // Collapse whitespace, split on `||`, parse each set.
        let collapsed = input.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut sets = Vec::new();
        for part in collapsed.split("||") {
            let set = parse_set(part.trim(), options).map_err(invalid)?;
            if !set.is_empty() {
                sets.push(set);
            }
        }
        if sets.is_empty() {
            return Err(invalid("no comparator sets".into()));
        }

        // Drop sets that match nothing unless all do, and reduce to `*` when a set is `*`.
        if sets.len() > 1 {
            let first = sets[0].clone();
            sets.retain(|set| !is_null_set(set));
            if sets.is_empty() {
                sets = vec![first];
            } else if let Some(any) = sets
                .iter()
                .find(|set| set.len() == 1 && matches!(set[0], Comparator::Any))
            {
                sets = vec![any.clone()];
            }
        }
        Ok(NpmRange { sets, options })
    }

    /// Returns whether `version` satisfies the range.
    #[must_use]
    pub fn satisfies(&self, version: &SemverVersion) -> bool {
        self.sets
            .iter()
            .any(|set| test_set(set, version, self.options.include_prerelease))
    }
}

/// node-semver's `satisfies(version, range, options)`: false when either does not parse.
#[must_use]
pub fn satisfies(version: &str, range: &str, options: RangeOptions) -> bool {
    let Ok(range) = NpmRange::parse(range, options) else {
        return false;
    };
    let parsed = if options.loose {
        SemverVersion::parse_loose(version)
    } else {
        SemverVersion::parse(version)
    };
    parsed.is_ok_and(|version| is_safe(&version) && range.satisfies(&version))
}

impl fmt::Display for NpmRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, set) in self.sets.iter().enumerate() {
            if index > 0 {
                f.write_str(" || ")?;
            }
            for (position, comparator) in set.iter().enumerate() {
                if position > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{comparator}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Comparator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (operator, version) = match self {
            Comparator::Any => return f.write_str("*"),
            Comparator::Compare(operator, version) => (operator, version),
        };
        let operator = match operator {
            Operator::Less => "<",
            Operator::LessOrEqual => "<=",
            Operator::Greater => ">",
            Operator::GreaterOrEqual => ">=",
            Operator::Equal => "",
        };
        f.write_str(operator)?;
        version.write_precedence_form(f)
    }
}

fn is_null_set(set: &[Comparator]) -> bool {
    matches!(set, [Comparator::Compare(Operator::Less, v)] if v.is_null_bound())
}

fn is_safe(version: &SemverVersion) -> bool {
    [&version.major, &version.minor, &version.patch]
        .iter()
        .all(|n| {
            n.to_string()
                .parse::<u64>()
                .is_ok_and(|n| n <= MAX_SAFE_INTEGER)
        })
}

impl SemverVersion {
    /// Whether this is `0.0.0-0`, the lowest version there is.
    fn is_null_bound(&self) -> bool {
        self.major.is_zero()
            && self.minor.is_zero()
            && self.patch.is_zero()
            && matches!(self.pre.as_slice(), [super::Identifier::Numeric(n)] if n.is_zero())
    }
}

/// node-semver's `testSet`: every comparator holds, and the pre-release rule.
fn test_set(set: &[Comparator], version: &SemverVersion, include_prerelease: bool) -> bool {
    if !set.iter().all(|comparator| comparator.test(version)) {
        return false;
    }
    if !version.is_prerelease() || include_prerelease {
        return true;
    }
    set.iter().any(|comparator| match comparator {
        Comparator::Any => false,
        Comparator::Compare(_, bound) => {
            bound.is_prerelease()
                && bound.major == version.major
                && bound.minor == version.minor
                && bound.patch == version.patch
        }
    })
}

impl Comparator {
    fn test(&self, version: &SemverVersion) -> bool {
        let Comparator::Compare(operator, bound) = self else {
            return true;
        };
        let ordering = version.cmp(bound);
        match operator {
            Operator::Less => ordering == Ordering::Less,
            Operator::LessOrEqual => ordering != Ordering::Greater,
            Operator::Greater => ordering == Ordering::Greater,
            Operator::GreaterOrEqual => ordering != Ordering::Less,
            Operator::Equal => ordering == Ordering::Equal,
        }
    }
}

/// Parses one comparator set (the text between `||`), already trimmed.
fn parse_set(text: &str, options: RangeOptions) -> Result<Vec<Comparator>, String> {
    // Hyphen ranges take the whole set; otherwise join operators to their versions.
    let tokens = match hyphen_range(text, options) {
        Some(desugared) => desugared,
        None => join_operators(text),
    };

    // Desugar carets, tildes, x-ranges and stars, as node-semver's `parseComparator` does.
    let mut comparators = Vec::new();
    for token in &tokens {
        for caret in replace_caret(token, options) {
            for tilde in replace_tilde(&caret, options) {
                for plain in replace_x_range(&tilde, options) {
                    comparators.push(replace_star(&plain));
                }
            }
        }
    }

    // Parse; `>=0.0.0` is `*`; loose mode drops what does not parse.
    let mut parsed = Vec::new();
    for text in comparators {
        let is_gte0 = if options.include_prerelease {
            text == ">=0.0.0-0"
        } else {
            text == ">=0.0.0"
        };
        let text = if is_gte0 { String::new() } else { text };
        match parse_comparator(&text, options) {
            Ok(comparator) => parsed.push(comparator),
            Err(_) if options.loose => {}
            Err(reason) => return Err(reason),
        }
    }

    // A null set replaces the whole set; `*` goes when other comparators remain.
    if let Some(null) = parsed
        .iter()
        .find(|c| is_null_set(std::slice::from_ref(*c)))
    {
        return Ok(vec![null.clone()]);
    }
    if parsed.len() > 1 {
        parsed.retain(|c| !matches!(c, Comparator::Any));
        if parsed.is_empty() {
            parsed.push(Comparator::Any);
        }
    }
    Ok(parsed)
}

/// Splits on spaces, joining an operator that stands alone (`>= 1.2.3`, `~ 1`, `^ 1`) to the
/// version after it.
fn join_operators(text: &str) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    let mut pending = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        if matches!(word, "<" | ">" | "<=" | ">=" | "=" | "~" | "~>" | "^") {
            pending.push_str(word);
            continue;
        }
        tokens.push(format!("{pending}{word}"));
        pending.clear();
    }
    if !pending.is_empty() || tokens.is_empty() {
        // An empty set is `*`, as is node-semver's empty comparator.
        tokens.push(pending);
    }
    tokens
}

/// A partial version: `1`, `1.2`, `1.x`, `1.2.3-pre+build`, with the prefix removed.
#[derive(Debug, Clone)]
struct Partial<'a> {
    major: Option<&'a str>,
    minor: Option<&'a str>,
    patch: Option<&'a str>,
    pre: Option<&'a str>,
    /// The text after any operator, as given.
    text: &'a str,
}

/// node-semver's `isX`: missing, `x`, `X` or `*`.
fn is_x(part: Option<&str>) -> bool {
    matches!(part, None | Some("x" | "X" | "*"))
}

fn number(part: Option<&str>) -> Result<u64, String> {
    let text = part.unwrap_or("0");
    match text.parse::<u64>() {
        Ok(value) if value <= MAX_SAFE_INTEGER => Ok(value),
        _ => Err(format!("version number `{text}` is too large")),
    }
}

fn plus_one(part: Option<&str>) -> Result<u64, String> {
    Ok(number(part)? + 1)
}

/// Parses node-semver's `XRANGEPLAIN` (or its loose form) covering the whole text.
fn parse_partial(text: &str, loose: bool) -> Option<Partial<'_>> {
    let rest = text.trim_start_matches(['v', '=', ' ']);
    let is_xr = |part: &str| {
        matches!(part, "x" | "X" | "*")
            || (!part.is_empty()
                && part.bytes().all(|b| b.is_ascii_digit())
                && (loose || part == "0" || !part.starts_with('0')))
    };

    // Up to three dot-separated parts; the third may carry a pre-release and build.
    let (main, tail) = split_main(rest);
    let parts: Vec<&str> = main.split('.').collect();
    if parts.len() > 3 || !parts.iter().all(|p| is_xr(p)) {
        return None;
    }
    if !tail.is_empty() && parts.len() < 3 {
        return None;
    }
    let (pre_text, build) = match tail.split_once('+') {
        Some((pre, build)) => (pre, Some(build)),
        None => (tail, None),
    };
    if let Some(build) = build
        && super::check_build(build).is_err()
    {
        return None;
    }
    let pre = match pre_text {
        "" => None,
        text => Some(parse_pre(text, loose)?),
    };
    Some(Partial {
        major: parts.first().copied(),
        minor: parts.get(1).copied(),
        patch: parts.get(2).copied(),
        pre,
        text,
    })
}

/// Splits `1.2.3-pre+b` into `1.2.3` and `-pre+b`. The main part ends at the first character
/// that is not a digit, a dot or an `x`/`X`/`*` part.
fn split_main(text: &str) -> (&str, &str) {
    let mut end = 0;
    for (index, part) in text.split('.').enumerate() {
        let start = if index == 0 { 0 } else { end + 1 };
        if start > text.len() {
            break;
        }
        let digits = part
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(part.len());
        let len = if digits == 0 && part.starts_with(['x', 'X', '*']) {
            1
        } else {
            digits
        };
        end = start + len;
        if len < part.len() || index == 2 {
            break;
        }
    }
    text.split_at(end.min(text.len()))
}

/// Checks a pre-release (with its hyphen, optional in loose mode) and returns it without the
/// hyphen.
fn parse_pre(text: &str, loose: bool) -> Option<&str> {
    let identifiers = match text.strip_prefix('-') {
        Some(rest) => rest,
        None if loose => text,
        None => return None,
    };
    let mode = if loose {
        super::Mode::Loose
    } else {
        super::Mode::Strict
    };
    super::parse_prerelease(identifiers, mode).ok()?;
    Some(identifiers)
}

/// Desugars `A - B` when the whole set is a hyphen range.
fn hyphen_range(text: &str, options: RangeOptions) -> Option<Vec<String>> {
    let (from_text, to_text) = text.split_once(" - ")?;
    let from = parse_partial(from_text.trim(), options.loose)?;
    let to = parse_partial(to_text.trim(), options.loose)?;
    let zero = if options.include_prerelease { "-0" } else { "" };
    let low = if is_x(from.major) {
        String::new()
    } else if is_x(from.minor) {
        format!(">={}.0.0{zero}", from.major?)
    } else if is_x(from.patch) {
        format!(">={}.{}.0{zero}", from.major?, from.minor?)
    } else if from.pre.is_some() {
        format!(">={}", from.text)
    } else {
        format!(">={}{zero}", from.text)
    };
    let high = if is_x(to.major) {
        String::new()
    } else if is_x(to.minor) {
        format!("<{}.0.0-0", plus_one(to.major).ok()?)
    } else if is_x(to.patch) {
        format!("<{}.{}.0-0", to.major?, plus_one(to.minor).ok()?)
    } else if let Some(pre) = to.pre {
        format!("<={}.{}.{}-{pre}", to.major?, to.minor?, to.patch?)
    } else if options.include_prerelease {
        format!(
            "<{}.{}.{}-0",
            to.major?,
            to.minor?,
            plus_one(to.patch).ok()?
        )
    } else {
        format!("<={}", to.text)
    };
    Some([low, high].into_iter().filter(|s| !s.is_empty()).collect())
}

/// node-semver's `replaceCaret`.
fn replace_caret(token: &str, options: RangeOptions) -> Vec<String> {
    let Some(partial) = token
        .strip_prefix('^')
        .and_then(|rest| parse_partial(rest, options.loose))
    else {
        return vec![token.to_owned()];
    };
    caret_bounds(&partial, options).unwrap_or_else(|_| vec![token.to_owned()])
}

fn caret_bounds(p: &Partial<'_>, options: RangeOptions) -> Result<Vec<String>, String> {
    let z = if options.include_prerelease { "-0" } else { "" };
    let (major, minor, patch) = (p.major.unwrap_or("0"), p.minor, p.patch);
    if is_x(p.major) {
        return Ok(vec![String::new()]);
    }
    let next_major = plus_one(Some(major))?;
    let bounds = if is_x(minor) {
        [format!(">={major}.0.0{z}"), format!("<{next_major}.0.0-0")]
    } else if is_x(patch) {
        let minor = minor.unwrap_or("0");
        let upper = if major == "0" {
            format!("<{major}.{}.0-0", plus_one(Some(minor))?)
        } else {
            format!("<{next_major}.0.0-0")
        };
        [format!(">={major}.{minor}.0{z}"), upper]
    } else {
        let (minor, patch) = (minor.unwrap_or("0"), patch.unwrap_or("0"));
        let lower = match p.pre {
            Some(pre) => format!(">={major}.{minor}.{patch}-{pre}"),
            None => format!(">={major}.{minor}.{patch}"),
        };
        let upper = if major != "0" {
            format!("<{next_major}.0.0-0")
        } else if minor == "0" {
            format!("<{major}.{minor}.{}-0", plus_one(Some(patch))?)
        } else {
            format!("<{major}.{}.0-0", plus_one(Some(minor))?)
        };
        [lower, upper]
    };
    Ok(bounds.into())
}

/// node-semver's `replaceTilde`; `~>` is the same as `~`.
fn replace_tilde(token: &str, options: RangeOptions) -> Vec<String> {
    let Some(partial) = token
        .strip_prefix("~>")
        .or_else(|| token.strip_prefix('~'))
        .and_then(|rest| parse_partial(rest, options.loose))
    else {
        return vec![token.to_owned()];
    };
    tilde_bounds(&partial, options).unwrap_or_else(|_| vec![token.to_owned()])
}

fn tilde_bounds(p: &Partial<'_>, options: RangeOptions) -> Result<Vec<String>, String> {
    let z = if options.include_prerelease { "-0" } else { "" };
    if is_x(p.major) {
        return Ok(vec![String::new()]);
    }
    let major = p.major.unwrap_or("0");
    if is_x(p.minor) {
        return Ok(vec![
            format!(">={major}.0.0{z}"),
            format!("<{}.0.0-0", plus_one(Some(major))?),
        ]);
    }
    let minor = p.minor.unwrap_or("0");
    let upper = format!("<{major}.{}.0-0", plus_one(Some(minor))?);
    if is_x(p.patch) {
        return Ok(vec![format!(">={major}.{minor}.0{z}"), upper]);
    }
    let patch = p.patch.unwrap_or("0");
    let lower = match p.pre {
        Some(pre) => format!(">={major}.{minor}.{patch}-{pre}"),
        None => format!(">={major}.{minor}.{patch}"),
    };
    Ok(vec![lower, upper])
}

/// node-semver's `replaceXRange`: `1.x`, `>1.2`, `<=1.x`, `*`.
fn replace_x_range(token: &str, options: RangeOptions) -> Vec<String> {
    let operator_len = token
        .find(|c: char| !matches!(c, '<' | '>' | '='))
        .unwrap_or(token.len());
    let (operator, rest) = token.split_at(operator_len);
    if !matches!(operator, "" | "<" | ">" | "<=" | ">=" | "=") {
        return vec![token.to_owned()];
    }
    let Some(partial) = parse_partial(rest, options.loose) else {
        return vec![token.to_owned()];
    };
    x_range_bounds(operator, &partial, options).unwrap_or_else(|_| vec![token.to_owned()])
}

fn x_range_bounds(
    operator: &str,
    p: &Partial<'_>,
    options: RangeOptions,
) -> Result<Vec<String>, String> {
    let x_major = is_x(p.major);
    let x_minor = x_major || is_x(p.minor);
    let x_patch = x_minor || is_x(p.patch);
    if !x_patch {
        return Ok(vec![format!("{operator}{}", p.text)]);
    }
    let operator = if operator == "=" { "" } else { operator };
    let mut pre = if options.include_prerelease { "-0" } else { "" };
    if x_major {
        return Ok(vec![if matches!(operator, "<" | ">") {
            "<0.0.0-0".to_owned()
        } else {
            "*".to_owned()
        }]);
    }
    let mut major = number(p.major)?;
    let mut minor = if x_minor { 0 } else { number(p.minor)? };
    let patch = 0;
    if !operator.is_empty() {
        let mut operator = operator;
        if operator == ">" {
            operator = ">=";
            if x_minor {
                major += 1;
                minor = 0;
            } else {
                minor += 1;
            }
        } else if operator == "<=" {
            operator = "<";
            if x_minor {
                major += 1;
            } else {
                minor += 1;
            }
        }
        if operator == "<" {
            pre = "-0";
        }
        return Ok(vec![format!("{operator}{major}.{minor}.{patch}{pre}")]);
    }
    if x_minor {
        return Ok(vec![
            format!(">={major}.0.0{pre}"),
            format!("<{}.0.0-0", major + 1),
        ]);
    }
    Ok(vec![
        format!(">={major}.{minor}.0{pre}"),
        format!("<{major}.{}.0-0", minor + 1),
    ])
}

/// node-semver's `replaceStars`: `*`, `>=*` and the like mean any version.
fn replace_star(token: &str) -> String {
    let rest = token.trim_start_matches(['<', '>']);
    let rest = rest.strip_prefix('=').unwrap_or(rest);
    if rest == "*" {
        String::new()
    } else {
        token.to_owned()
    }
}

/// Parses a desugared comparator: an operator and a full version, or empty for any version.
fn parse_comparator(text: &str, options: RangeOptions) -> Result<Comparator, String> {
    if text.is_empty() {
        return Ok(Comparator::Any);
    }
    let operator_len = text
        .find(|c: char| !matches!(c, '<' | '>' | '='))
        .unwrap_or(text.len());
    let (operator, version) = text.split_at(operator_len);
    let operator = match operator {
        "<" => Operator::Less,
        "<=" => Operator::LessOrEqual,
        ">" => Operator::Greater,
        ">=" => Operator::GreaterOrEqual,
        "" | "=" => Operator::Equal,
        other => return Err(format!("invalid operator `{other}`")),
    };
    let parsed = if options.loose {
        SemverVersion::parse_loose(version)
    } else {
        SemverVersion::parse(version.trim_start())
    };
    let version = parsed
        .ok()
        .filter(is_safe)
        .ok_or_else(|| format!("invalid comparator `{text}`"))?;
    Ok(Comparator::Compare(operator, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desugar(range: &str) -> String {
        NpmRange::parse(range, RangeOptions::default())
            .expect("range parses")
            .to_string()
    }

    #[test]
    fn npm_range_desugaring_table() {
        let cases = [
            ("^1.2.3", ">=1.2.3 <2.0.0-0"),
            ("^0.2.3", ">=0.2.3 <0.3.0-0"),
            ("^0.0.3", ">=0.0.3 <0.0.4-0"),
            ("^1.2.x", ">=1.2.0 <2.0.0-0"),
            ("^0.0.x", "<0.1.0-0"),
            ("~1.2.3", ">=1.2.3 <1.3.0-0"),
            ("~1", ">=1.0.0 <2.0.0-0"),
            ("~> 1.2", ">=1.2.0 <1.3.0-0"),
            ("1.2.3 - 2.3", ">=1.2.3 <2.4.0-0"),
            ("1.x", ">=1.0.0 <2.0.0-0"),
            (">1.2", ">=1.3.0"),
            ("<=1.2", "<1.3.0-0"),
            ("<*", "<0.0.0-0"),
            ("*", "*"),
            (">= 1.2.3 < 2", ">=1.2.3 <2.0.0-0"),
            ("1.2.3 || 2.x", "1.2.3 || >=2.0.0 <3.0.0-0"),
        ];
        for (range, expected) in cases {
            assert_eq!(desugar(range), expected, "`{range}`");
        }
    }

    #[test]
    fn npm_range_prerelease_rule() {
        let options = RangeOptions::default();
        assert!(!satisfies("1.3.0-beta", "^1.2.3", options));
        assert!(satisfies("1.2.4-beta", "^1.2.4-alpha", options));
        let include = RangeOptions {
            include_prerelease: true,
            ..options
        };
        assert!(satisfies("1.3.0-beta", "^1.2.3", include));
    }

    #[test]
    fn npm_range_invalid_table() {
        for range in ["blerg", ">=1.2.3 junk", "1.2.3.4", "~1.2.3-", ">01.2.3"] {
            assert!(
                NpmRange::parse(range, RangeOptions::default()).is_err(),
                "`{range}`"
            );
        }
    }
}
