//! Unbounded decimal numbers for version components.
//!
//! Every scheme here compares digit runs by value, and real versions carry runs longer than any
//! machine integer (dates with times, `12345678901234567890` in Maven's tests). Storing the
//! digits without leading zeros makes value order the same as (length, bytes) order, so no
//! big-integer arithmetic is needed.

use std::cmp::Ordering;
use std::fmt;

/// A non-negative decimal number of any size.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Number(Box<str>);

impl Number {
    /// Parses a run of ASCII digits. The caller checks that `digits` holds only ASCII digits;
    /// an empty run is zero.
    pub(crate) fn from_digits(digits: &str) -> Number {
        debug_assert!(digits.bytes().all(|b| b.is_ascii_digit()));
        let trimmed = digits.trim_start_matches('0');
        if trimmed.is_empty() {
            Number("0".into())
        } else {
            Number(trimmed.into())
        }
    }

    /// Returns zero.
    pub(crate) fn zero() -> Number {
        Number("0".into())
    }

    pub(crate) fn is_zero(&self) -> bool {
        &*self.0 == "0"
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Compares two ASCII digit runs by value without allocating.
pub(crate) fn cmp_digits(a: &[u8], b: &[u8]) -> Ordering {
    let a = strip_leading_zeros(a);
    let b = strip_leading_zeros(b);
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn strip_leading_zeros(digits: &[u8]) -> &[u8] {
    let start = digits
        .iter()
        .position(|&b| b != b'0')
        .unwrap_or(digits.len());
    &digits[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(digits: &str) -> Number {
        Number::from_digits(digits)
    }

    #[test]
    fn number_ignores_leading_zeros() {
        assert_eq!(num("007"), num("7"));
        assert_eq!(num("000"), Number::zero());
        assert_eq!(num(""), Number::zero());
        assert!(num("0").is_zero());
    }

    #[test]
    fn number_orders_by_value() {
        assert!(num("9") < num("10"));
        assert!(num("99999999999999999999") < num("100000000000000000000"));
        assert!(num("12") < num("13"));
    }

    #[test]
    fn cmp_digits_orders_by_value() {
        assert_eq!(cmp_digits(b"0010", b"10"), Ordering::Equal);
        assert_eq!(cmp_digits(b"9", b"10"), Ordering::Less);
        assert_eq!(cmp_digits(b"", b"0"), Ordering::Equal);
        assert_eq!(cmp_digits(b"21", b"12"), Ordering::Greater);
    }
}
