//! Maven versions, ordered as Maven's `ComparableVersion` orders them.
//!
//! The rules are the "Version Order Specification" of the POM reference
//! (<https://maven.apache.org/pom.html#version-order-specification>) as implemented by
//! `org.apache.maven.artifact.versioning.ComparableVersion` in Maven 4:
//! - the version is lower-cased and split into items at `.`, at `-` and at every change
//!   between digits and non-digits. A `-` and a change from digits to letters open a nested
//!   list;
//! - numbers compare by value; strings are qualifiers ordered
//!   `alpha` < `beta` < `milestone` < `rc` = `cr` < `snapshot` < `""` = `ga` = `final` =
//!   `release` < `sp` < unknown qualifiers (by UTF-16 code units, as Java compares strings);
//!   `a`, `b` and `m` directly followed by a digit mean `alpha`, `beta` and `milestone`;
//! - a qualifier directly followed by digits (`rc1`, `rc-1`) is one combined item;
//! - a qualifier after a `.` is treated as if it followed a `-` (`1.0.0.RC1 < 1.0.0-RC2`);
//! - zeros before a qualifier and at the end of a list are dropped, so
//!   `1 == 1.0 == 1.0.0 == 1-0 == 1.0-ga == 1.final`.
//!
//! As in Maven, strings longer than 256 UTF-16 code units are rejected. The empty string is
//! rejected too; Maven orders it equal to `0`. Only ASCII digits count as digits. Maven also
//! treats other Unicode decimal digits as digits after a `-`, which no real version uses.

use std::cmp::Ordering;

use crate::number::Number;
use crate::{Scheme, VersionError};

/// Maven's bound on the version length, in UTF-16 code units.
const MAX_LENGTH: usize = 256;

/// A parsed Maven version.
#[derive(Debug, Clone)]
pub struct MavenVersion {
    items: Vec<Item>,
}

/// One item of a version.
#[derive(Debug, Clone)]
enum Item {
    Number(Number),
    Qualifier(Qualifier),
    /// A qualifier directly followed by a number, such as `rc1`.
    Combination(Qualifier, Number),
    /// A nested list, opened by `-` or by a change from digits to letters.
    List(Vec<Item>),
}

/// A qualifier's place in the order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Qualifier {
    /// Index in `alpha beta milestone rc snapshot "" sp`.
    Known(u8),
    Unknown(Box<str>),
}

const RELEASE: Qualifier = Qualifier::Known(5);

impl Qualifier {
    fn new(text: &str, followed_by_digit: bool) -> Qualifier {
        let text = match text {
            "a" if followed_by_digit => "alpha",
            "b" if followed_by_digit => "beta",
            "m" if followed_by_digit => "milestone",
            "cr" => "rc",
            other => other,
        };
        match text {
            "alpha" => Qualifier::Known(0),
            "beta" => Qualifier::Known(1),
            "milestone" => Qualifier::Known(2),
            "rc" => Qualifier::Known(3),
            "snapshot" => Qualifier::Known(4),
            "" | "ga" | "final" | "release" => RELEASE,
            "sp" => Qualifier::Known(6),
            other => Qualifier::Unknown(other.into()),
        }
    }
}

impl Ord for Qualifier {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Qualifier::Known(a), Qualifier::Known(b)) => a.cmp(b),
            (Qualifier::Known(_), Qualifier::Unknown(_)) => Ordering::Less,
            (Qualifier::Unknown(_), Qualifier::Known(_)) => Ordering::Greater,
            (Qualifier::Unknown(a), Qualifier::Unknown(b)) => {
                a.encode_utf16().cmp(b.encode_utf16())
            }
        }
    }
}

impl PartialOrd for Qualifier {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Item {
    /// Returns whether normalisation may drop the item: a zero or an empty list.
    fn is_null(&self) -> bool {
        match self {
            Item::Number(number) => number.is_zero(),
            Item::List(items) => items.is_empty(),
            Item::Qualifier(_) | Item::Combination(..) => false,
        }
    }

    fn starts_with_qualifier(&self) -> bool {
        matches!(self, Item::Qualifier(_) | Item::Combination(..))
    }
}

/// Builds the item for one token.
fn parse_item(is_combination: bool, is_digit: bool, token: &str) -> Item {
    if is_combination {
        let token = token.replace('-', "");
        let split = token.find(|c: char| c.is_ascii_digit()).unwrap_or(0);
        let (text, digits) = token.split_at(split);
        Item::Combination(Qualifier::new(text, true), Number::from_digits(digits))
    } else if is_digit {
        Item::Number(Number::from_digits(token))
    } else {
        Item::Qualifier(Qualifier::new(token, false))
    }
}

/// Drops zeros and empty lists that do not affect the order, then unwraps a list whose only
/// item is a list.
fn normalize(list: &mut Vec<Item>) {
    for index in (0..list.len()).rev() {
        if !list[index].is_null() {
            continue;
        }
        let droppable = match list.get(index + 1) {
            None | Some(Item::Qualifier(_)) => true,
            Some(Item::List(next)) => next.first().is_some_and(Item::starts_with_qualifier),
            Some(_) => false,
        };
        if droppable {
            list.remove(index);
        }
    }
    if let [Item::List(only)] = list.as_mut_slice() {
        *list = std::mem::take(only);
    }
}

/// The state of one parse, a port of the loop in `ComparableVersion.parseVersion`.
struct Parser {
    chars: Vec<char>,
    /// The lists being filled; the last one is the current list, and each list becomes the
    /// last item of the one before it.
    lists: Vec<Vec<Item>>,
    /// Whether the previous character was a digit.
    is_digit: bool,
    /// Whether the current token is a qualifier followed by digits.
    is_combination: bool,
    /// Start index of the current token.
    start: usize,
}

impl Parser {
    fn new(lowered: &str) -> Parser {
        Parser {
            chars: lowered.chars().collect(),
            lists: vec![Vec::new()],
            is_digit: false,
            is_combination: false,
            start: 0,
        }
    }

    fn run(mut self) -> Vec<Item> {
        let mut index = 0;
        while index < self.chars.len() {
            match self.chars[index] {
                '.' => self.on_dot(index),
                '-' => self.on_hyphen(index),
                c if c.is_ascii_digit() => self.on_digit(index),
                _ => self.on_other(index),
            }
            index += 1;
        }
        self.on_end();
        self.finish()
    }

    fn on_dot(&mut self, index: usize) {
        let item = if index == self.start {
            Item::Number(Number::zero())
        } else {
            self.token_item(index)
        };
        self.push_item(item);
        self.is_combination = false;
        self.start = index + 1;
    }

    fn on_hyphen(&mut self, index: usize) {
        if index == self.start {
            self.push_item(Item::Number(Number::zero()));
        } else {
            // A qualifier, a hyphen and digits (`rc-1`) form one combined item.
            if !self.is_digit && self.chars.get(index + 1).is_some_and(char::is_ascii_digit) {
                self.is_combination = true;
                return;
            }
            let item = self.token_item(index);
            self.push_item(item);
        }
        self.start = index + 1;
        self.open_if_not_empty();
        self.is_combination = false;
    }

    fn on_digit(&mut self, index: usize) {
        if !self.is_digit && index > self.start {
            // Letters followed by digits (`rc1`) form one combined item.
            self.is_combination = true;
            self.open_if_not_empty();
        }
        self.is_digit = true;
    }

    fn on_other(&mut self, index: usize) {
        if self.is_digit && index > self.start {
            // Digits followed by letters (`1rc`) open a nested list.
            let item = self.token_item(index);
            self.push_item(item);
            self.start = index;
            self.lists.push(Vec::new());
            self.is_combination = false;
        }
        self.is_digit = false;
    }

    fn on_end(&mut self) {
        let end = self.chars.len();
        if end > self.start {
            // A trailing qualifier after `.` is nested as if it followed `-`.
            if !self.is_digit {
                self.open_if_not_empty();
            }
            let item = self.token_item(end);
            self.push_item(item);
        }
    }

    /// Builds the item for the token from `start` to `end`.
    fn token_item(&self, end: usize) -> Item {
        let token: String = self.chars[self.start..end].iter().collect();
        parse_item(self.is_combination, self.is_digit, &token)
    }

    fn current(&mut self) -> &mut Vec<Item> {
        if self.lists.is_empty() {
            self.lists.push(Vec::new());
        }
        let last = self.lists.len() - 1;
        &mut self.lists[last]
    }

    fn push_item(&mut self, item: Item) {
        self.current().push(item);
    }

    /// Opens a nested list, unless the current list is still empty.
    fn open_if_not_empty(&mut self) {
        if !self.current().is_empty() {
            self.lists.push(Vec::new());
        }
    }

    /// Normalises the lists innermost first, nesting each into its parent.
    fn finish(mut self) -> Vec<Item> {
        let mut inner = None;
        while let Some(mut list) = self.lists.pop() {
            if let Some(inner) = inner.take() {
                list.push(Item::List(inner));
            }
            normalize(&mut list);
            inner = Some(list);
        }
        inner.unwrap_or_default()
    }
}

impl MavenVersion {
    /// Parses a Maven version. Every non-empty string up to 256 UTF-16 code units is a version.
    pub fn parse(input: &str) -> Result<MavenVersion, VersionError> {
        let invalid = |reason: &str| VersionError::invalid(Scheme::Maven, input, reason);
        if input.is_empty() {
            return Err(invalid("version string is empty"));
        }
        if input.encode_utf16().count() > MAX_LENGTH {
            return Err(invalid("version string is longer than 256 characters"));
        }
        Ok(MavenVersion {
            items: Parser::new(&input.to_lowercase()).run(),
        })
    }
}

/// Orders an item against another item or against nothing (the end of the other list).
fn cmp_item(item: &Item, other: Option<&Item>) -> Ordering {
    let Some(other) = other else {
        return cmp_with_end(item);
    };
    match (item, other) {
        (Item::Number(a), Item::Number(b)) => a.cmp(b),
        (Item::Number(_), _) => Ordering::Greater,
        (_, Item::Number(_)) => Ordering::Less,

        (Item::Qualifier(a), Item::Qualifier(b)) => a.cmp(b),
        (Item::Qualifier(a), Item::Combination(b, digits)) => match a.cmp(b) {
            Ordering::Equal if *a == RELEASE => cmp_number_with_end(digits).reverse(),
            Ordering::Equal => Ordering::Less,
            unequal => unequal,
        },
        (Item::Combination(a, digits), Item::Qualifier(b)) => match a.cmp(b) {
            Ordering::Equal if *a == RELEASE => cmp_number_with_end(digits),
            Ordering::Equal => Ordering::Greater,
            unequal => unequal,
        },
        (Item::Combination(a, x), Item::Combination(b, y)) => a.cmp(b).then_with(|| x.cmp(y)),
        (Item::Qualifier(_) | Item::Combination(..), Item::List(_)) => {
            cmp_item(other, Some(item)).reverse()
        }

        (Item::List(items), Item::Qualifier(_) | Item::Combination(..)) => {
            let first = match items.first() {
                Some(first) => cmp_item(first, Some(other)),
                None => cmp_with_end(other).reverse(),
            };
            items
                .iter()
                .skip(1)
                .fold(first, |order, next| order.then_with(|| cmp_with_end(next)))
        }
        (Item::List(a), Item::List(b)) => cmp_lists(a, b),
    }
}

/// Orders an item against the end of a list.
fn cmp_with_end(item: &Item) -> Ordering {
    match item {
        Item::Number(number) => cmp_number_with_end(number),
        Item::Qualifier(qualifier) => qualifier.cmp(&RELEASE),
        Item::Combination(qualifier, digits) => qualifier
            .cmp(&RELEASE)
            .then_with(|| cmp_number_with_end(digits)),
        Item::List(items) => items
            .iter()
            .map(cmp_with_end)
            .find(|order| order.is_ne())
            .unwrap_or(Ordering::Equal),
    }
}

fn cmp_number_with_end(number: &Number) -> Ordering {
    if number.is_zero() {
        Ordering::Equal
    } else {
        Ordering::Greater
    }
}

/// Orders two lists item by item; a missing item counts as the end of the list.
fn cmp_lists(a: &[Item], b: &[Item]) -> Ordering {
    for index in 0..a.len().max(b.len()) {
        let order = match (a.get(index), b.get(index)) {
            (Some(left), right) => cmp_item(left, right),
            (None, Some(right)) => cmp_with_end(right).reverse(),
            (None, None) => Ordering::Equal,
        };
        if order.is_ne() {
            return order;
        }
    }
    Ordering::Equal
}

impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_lists(&self.items, &other.items)
    }
}

impl PartialOrd for MavenVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Equality is ordering equality: `1.0 == 1-ga == 1.final`.
impl PartialEq for MavenVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for MavenVersion {}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        let a = MavenVersion::parse(a).expect("left version parses");
        let b = MavenVersion::parse(b).expect("right version parses");
        a.cmp(&b)
    }

    #[test]
    fn maven_ordering_table() {
        use Ordering::{Equal, Greater, Less};
        let cases = [
            ("trailing zeros", "1.0.0", "1", Equal),
            ("hyphen zero", "1-0", "1", Equal),
            ("final alias", "1.0.Final", "1.0", Equal),
            ("ga alias", "1-ga", "1", Equal),
            ("release alias", "1RELEASE", "1", Equal),
            ("cr alias", "1cr", "1rc", Equal),
            ("a shorthand", "1a1", "1-alpha-1", Equal),
            ("m shorthand", "1m3", "1-milestone-3", Equal),
            ("alpha before beta", "1-alpha", "1-beta", Less),
            ("milestone before rc", "1-milestone", "1-rc", Less),
            ("rc before snapshot", "1-rc", "1-SNAPSHOT", Less),
            ("snapshot before release", "1-SNAPSHOT", "1", Less),
            ("release before sp", "1", "1-sp", Less),
            ("sp before unknown", "1-sp", "1-abc", Less),
            ("unknown lexically", "1-abc", "1-abd", Less),
            ("number above qualifier list", "1-1", "1-abc", Greater),
            ("hyphen below dot", "1-1", "1.1", Less),
            (
                "dot qualifier is hyphen qualifier",
                "2.0.abc",
                "2-abc",
                Equal,
            ),
            ("dot qualifier below hyphen", "1.0.0.RC1", "1.0.0-RC2", Less),
            ("numbers by value", "1.10", "1.9", Greater),
            ("leading zeros", "1.01", "1.1", Equal),
            (
                "huge numbers",
                "12345678901234567890.1",
                "1234567890.1",
                Greater,
            ),
            ("digits above letters", "7", "J", Greater),
            ("case insensitive", "1-ABC", "1-abc", Equal),
            ("sp with number", "1.0.final-redhat", "1.0-sp1-redhat", Less),
        ];
        for (name, a, b, expected) in cases {
            assert_eq!(cmp(a, b), expected, "{name}: {a} vs {b}");
        }
    }

    #[test]
    fn maven_invalid_table() {
        assert!(MavenVersion::parse("").is_err(), "empty");
        assert!(MavenVersion::parse(&"1".repeat(257)).is_err(), "too long");
        assert!(
            MavenVersion::parse(&"1".repeat(256)).is_ok(),
            "longest accepted"
        );
    }
}
