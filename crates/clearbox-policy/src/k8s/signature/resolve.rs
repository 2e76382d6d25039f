//! The type of an untagged plain scalar as Kubernetes reads it: YAML 1.1 as go-yaml v2 resolves
//! it.
//!
//! `sigs.k8s.io/yaml` (which `kubectl` and the API server use to turn YAML into JSON) parses with
//! go-yaml v2, whose `resolve()` in `resolve.go` decides the type of a plain scalar from its
//! text. A quoted or block scalar is always a string and never reaches this module. The rules,
//! in go-yaml's order:
//!
//! 1. An empty scalar is null.
//! 2. Only a scalar that starts with one of `+-0123456789yYnNtTfFoO~.` can be anything but a
//!    string.
//! 3. Exact spellings: `y Y yes Yes YES true True TRUE on On ON` are true, `n N no No NO false
//!    False FALSE off Off OFF` are false, `~ null Null NULL` are null, and `.nan`, `.inf`,
//!    `+.inf`, `-.inf` (each also as `.NaN`/`.NAN`, `.Inf`/`.INF`) are non-finite floats. Other
//!    capitalisations (`yEs`, `nULL`) are strings.
//! 4. A scalar that starts with `.` is a float when Go's `strconv.ParseFloat` accepts it.
//! 5. A scalar that starts with a sign or digit: timestamps (`2001-12-14`) become their text,
//!    so they are strings here. Otherwise every `_` is removed, and the rest is tried as a Go
//!    integer literal: `strconv.ParseInt` with base 0 takes an optional sign, then `0b`/`0B`
//!    binary, `0o`/`0O` or a leading `0` octal, `0x`/`0X` hex, else decimal. Next it is tried
//!    as a decimal float matching `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`, and
//!    last, after a `0b` or `-0b` prefix, as a binary integer with an optional sign.
//! 6. Anything else is a string. Sexagesimal numbers (`1:20`) are deliberately not resolved.
//!
//! Where the result cannot be written as JSON (non-finite floats) or where go-yaml versions or Go
//! library details may disagree (integers beyond 64 bits, which the `sigs.k8s.io/yaml` fork of
//! go-yaml reads as big integers and upstream go-yaml v2 as floats or strings; floats that
//! overflow or underflow; underscores in a float that starts with `.`), the scalar is
//! [`Unresolved`] and the caller rejects the document.

/// The type and value of a plain scalar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Resolved {
    /// Null.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// A finite float.
    Float(f64),
    /// The scalar's text as a string.
    Str,
}

/// The reason a plain scalar has no single, JSON-representable meaning for Kubernetes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unresolved {
    /// A NaN or infinity, which Kubernetes' YAML-to-JSON conversion cannot write.
    NonFinite,
    /// An integer beyond 64 bits, which go-yaml versions read differently.
    OutOfRange,
    /// A float whose text is beyond the range of a 64-bit float.
    FloatRange,
    /// A float spelling with `_` that only Go's float parser accepts.
    Underscore,
}

impl Unresolved {
    /// Returns the reason as text that follows "the plain scalar `...` " in a message.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Unresolved::NonFinite => {
                "is a NaN or infinite float, which Kubernetes cannot convert to JSON"
            }
            Unresolved::OutOfRange => {
                "is an integer beyond 64 bits, which Kubernetes' YAML readers do not read alike"
            }
            Unresolved::FloatRange => {
                "is a float beyond the range of a 64-bit float, which Kubernetes may read as \
                 another value or as a string"
            }
            Unresolved::Underscore => {
                "is a float spelling with `_` whose value Kubernetes' YAML reader may not agree on"
            }
        }
    }
}

/// Resolves an untagged plain scalar with go-yaml v2's rules (see the module documentation).
pub(crate) fn resolve_plain(text: &str) -> Result<Resolved, Unresolved> {
    // 1. and 2.: the first character decides what the scalar may be.
    let Some(first) = text.bytes().next() else {
        return Ok(Resolved::Null);
    };
    let numeric = match first {
        b'+' | b'-' | b'0'..=b'9' => true,
        b'.' | b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => false,
        _ => return Ok(Resolved::Str),
    };

    // 3. Exact spellings.
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Ok(Resolved::Bool(true));
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Ok(Resolved::Bool(false));
        }
        "~" | "null" | "Null" | "NULL" => return Ok(Resolved::Null),
        ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF"
        | "-.inf" | "-.Inf" | "-.INF" => return Err(Unresolved::NonFinite),
        _ => {}
    }

    // 4. and 5.
    if numeric {
        resolve_number(text)
    } else if first == b'.' {
        resolve_dot_float(text)
    } else {
        Ok(Resolved::Str)
    }
}

/// Rule 4: `strconv.ParseFloat` on a scalar that starts with `.`, which accepts only
/// `.digits` with an optional exponent (and Go's digit separators, rejected here).
fn resolve_dot_float(text: &str) -> Result<Resolved, Unresolved> {
    if text.contains('_') {
        return Err(Unresolved::Underscore);
    }
    if is_yaml_style_float(text) {
        return finite_float(text);
    }
    Ok(Resolved::Str)
}

/// Rule 5 for a scalar that starts with a sign or digit.
fn resolve_number(text: &str) -> Result<Resolved, Unresolved> {
    let plain: String = text.chars().filter(|&c| c != '_').collect();

    // `strconv.ParseInt(plain, 0, 64)`; go-yaml then tries `ParseUint`, which succeeds only
    // where `ParseInt` is out of range.
    match parse_go_int(&plain, None) {
        Ok(value) => return Ok(Resolved::Int(value)),
        Err(IntError::Range) => return Err(Unresolved::OutOfRange),
        Err(IntError::Syntax) => {}
    }

    // The decimal float pattern, then `strconv.ParseFloat`.
    if is_yaml_style_float(&plain) {
        return finite_float(&plain);
    }

    // `0b` and `-0b` prefixes with `strconv.ParseInt(rest, 2, 64)`, which also takes a sign
    // after the prefix (`0b-101` is -5).
    let binary = if let Some(rest) = plain.strip_prefix("0b") {
        Some(parse_go_int(rest, Some(2)))
    } else {
        plain
            .strip_prefix("-0b")
            .map(|rest| parse_go_int(&format!("-{rest}"), Some(2)))
    };
    match binary {
        Some(Ok(value)) => Ok(Resolved::Int(value)),
        Some(Err(IntError::Range)) => Err(Unresolved::OutOfRange),
        Some(Err(IntError::Syntax)) | None => Ok(Resolved::Str),
    }
}

/// Parses a float the pattern accepted. A value beyond the range of `f64` is rejected because
/// Go returns an error there and go-yaml falls back to a string. A value rounded to zero is
/// rejected because Go's handling of it is not established here.
fn finite_float(text: &str) -> Result<Resolved, Unresolved> {
    let Ok(value) = text.parse::<f64>() else {
        return Ok(Resolved::Str);
    };
    if !value.is_finite() {
        return Err(Unresolved::FloatRange);
    }
    let mantissa = text.split(['e', 'E']).next().unwrap_or_default();
    if value == 0.0 && mantissa.bytes().any(|b| matches!(b, b'1'..=b'9')) {
        return Err(Unresolved::FloatRange);
    }
    Ok(Resolved::Float(value))
}

/// Matches `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`, go-yaml's `yamlStyleFloat`.
fn is_yaml_style_float(text: &str) -> bool {
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let rest = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], Some(&rest[at + 1..])),
        None => (rest, None),
    };
    let mantissa_ok = if let Some(fraction) = mantissa.strip_prefix('.') {
        !fraction.is_empty() && digits(fraction) == fraction.len()
    } else {
        let whole = digits(mantissa);
        let after = &mantissa[whole..];
        whole > 0
            && (after.is_empty()
                || after
                    .strip_prefix('.')
                    .is_some_and(|f| digits(f) == f.len()))
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e) == e.len()
    });
    mantissa_ok && exponent_ok
}

/// The kind of error Go's `strconv.ParseInt` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IntError {
    Syntax,
    Range,
}

/// Go's `strconv.ParseInt(text, base, 64)` on text without `_`: an optional sign, then digits
/// in `base`, or with `base` `None` (Go's base 0) after an optional `0b`, `0o`, `0x` (any case)
/// or `0` prefix.
fn parse_go_int(text: &str, base: Option<u32>) -> Result<i64, IntError> {
    let (negative, body) = match text.as_bytes().first() {
        Some(b'+') => (false, &text[1..]),
        Some(b'-') => (true, &text[1..]),
        _ => (false, text),
    };
    let magnitude = parse_go_uint(body, base)?;
    let limit = 1_u64 << 63;
    if negative {
        if magnitude > limit {
            return Err(IntError::Range);
        }
        // `0 - magnitude` fits: magnitude is at most 2^63.
        Ok(0_i64.wrapping_sub_unsigned(magnitude))
    } else {
        i64::try_from(magnitude).map_err(|_| IntError::Range)
    }
}

/// Go's `strconv.ParseUint(text, base, 64)` on text without `_`; see [`parse_go_int`].
fn parse_go_uint(text: &str, base: Option<u32>) -> Result<u64, IntError> {
    if text.is_empty() {
        return Err(IntError::Syntax);
    }
    let (base, digits) = match base {
        Some(base) => (base, text),
        None => base_prefix(text),
    };
    let mut value: u64 = 0;
    for byte in digits.bytes() {
        let digit = char::from(byte)
            .to_digit(36)
            .filter(|&digit| digit < base)
            .ok_or(IntError::Syntax)?;
        // Go reports the overflow at the first digit that causes it, before later bad digits.
        value = value
            .checked_mul(u64::from(base))
            .and_then(|value| value.checked_add(u64::from(digit)))
            .ok_or(IntError::Range)?;
    }
    Ok(value)
}

/// Splits Go's base-0 prefix off `text`: `0b`, `0o`, `0x` in any case when a digit may follow,
/// else a leading `0` for octal, else decimal.
fn base_prefix(text: &str) -> (u32, &str) {
    let bytes = text.as_bytes();
    if bytes.first() != Some(&b'0') {
        return (10, text);
    }
    if bytes.len() >= 3 {
        match bytes[1].to_ascii_lowercase() {
            b'b' => return (2, &text[2..]),
            b'o' => return (8, &text[2..]),
            b'x' => return (16, &text[2..]),
            _ => {}
        }
    }
    (8, &text[1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    use Resolved::{Bool, Float, Int, Null, Str};

    /// Each plain scalar with the value go-yaml v2 gives it: YAML 1.1 as go-yaml v2 resolves it
    /// (`resolve()` in go-yaml v2's `resolve.go`, with Go 1.13+ `strconv`), or why it is rejected.
    const CASES: &[(&str, Result<Resolved, Unresolved>)] = &[
        // Integers with Go's base prefixes, in any case.
        ("0X1F", Ok(Int(31))),
        ("0x1f", Ok(Int(31))),
        ("-0x1F", Ok(Int(-31))),
        ("+0x1F", Ok(Int(31))),
        ("0B101", Ok(Int(5))),
        ("0b101", Ok(Int(5))),
        ("-0b101", Ok(Int(-5))),
        ("0b-101", Ok(Int(-5))),
        ("0O17", Ok(Int(15))),
        ("0o17", Ok(Int(15))),
        ("0755", Ok(Int(493))),
        ("0", Ok(Int(0))),
        ("-0", Ok(Int(0))),
        ("+12", Ok(Int(12))),
        ("-12", Ok(Int(-12))),
        ("9223372036854775807", Ok(Int(i64::MAX))),
        ("-9223372036854775808", Ok(Int(i64::MIN))),
        // Underscores are removed before numbers are parsed.
        ("1_0", Ok(Int(10))),
        ("1__0", Ok(Int(10))),
        ("1_", Ok(Int(1))),
        ("0b1_0", Ok(Int(2))),
        ("0x_1F", Ok(Int(31))),
        ("1.5_0", Ok(Float(1.5))),
        ("_1", Ok(Str)),
        // Decimal floats; a leading zero that is no octal number falls through to a float.
        ("1.5", Ok(Float(1.5))),
        ("1.", Ok(Float(1.0))),
        ("1e3", Ok(Float(1000.0))),
        ("1E+3", Ok(Float(1000.0))),
        ("-.5", Ok(Float(-0.5))),
        ("+.5", Ok(Float(0.5))),
        (".5", Ok(Float(0.5))),
        (".5e1", Ok(Float(5.0))),
        ("08", Ok(Float(8.0))),
        ("09.5", Ok(Float(9.5))),
        ("3.0", Ok(Float(3.0))),
        // Not numbers.
        ("0x", Ok(Str)),
        ("0b", Ok(Str)),
        ("0b2", Ok(Str)),
        ("0o8", Ok(Str)),
        ("1:20", Ok(Str)),
        ("190:20:30", Ok(Str)),
        ("2001-12-14", Ok(Str)),
        ("2001-12-14t21:59:43.10-05:00", Ok(Str)),
        ("1.2.3", Ok(Str)),
        ("1e", Ok(Str)),
        ("+", Ok(Str)),
        ("-", Ok(Str)),
        (".", Ok(Str)),
        ("..5", Ok(Str)),
        ("+inf", Ok(Str)),
        ("inf", Ok(Str)),
        ("0x1p3", Ok(Str)),
        ("12abc", Ok(Str)),
        // Booleans: exactly these spellings.
        ("y", Ok(Bool(true))),
        ("Y", Ok(Bool(true))),
        ("yes", Ok(Bool(true))),
        ("Yes", Ok(Bool(true))),
        ("YES", Ok(Bool(true))),
        ("on", Ok(Bool(true))),
        ("On", Ok(Bool(true))),
        ("ON", Ok(Bool(true))),
        ("true", Ok(Bool(true))),
        ("True", Ok(Bool(true))),
        ("TRUE", Ok(Bool(true))),
        ("n", Ok(Bool(false))),
        ("N", Ok(Bool(false))),
        ("no", Ok(Bool(false))),
        ("No", Ok(Bool(false))),
        ("NO", Ok(Bool(false))),
        ("off", Ok(Bool(false))),
        ("Off", Ok(Bool(false))),
        ("OFF", Ok(Bool(false))),
        ("false", Ok(Bool(false))),
        ("False", Ok(Bool(false))),
        ("FALSE", Ok(Bool(false))),
        ("yEs", Ok(Str)),
        ("oN", Ok(Str)),
        ("tRUE", Ok(Str)),
        ("nO", Ok(Str)),
        ("OfF", Ok(Str)),
        // Null.
        ("", Ok(Null)),
        ("~", Ok(Null)),
        ("null", Ok(Null)),
        ("Null", Ok(Null)),
        ("NULL", Ok(Null)),
        ("nULL", Ok(Str)),
        ("~~", Ok(Str)),
        // Non-finite floats have no JSON form.
        (".inf", Err(Unresolved::NonFinite)),
        (".Inf", Err(Unresolved::NonFinite)),
        (".INF", Err(Unresolved::NonFinite)),
        ("+.inf", Err(Unresolved::NonFinite)),
        ("-.Inf", Err(Unresolved::NonFinite)),
        (".nan", Err(Unresolved::NonFinite)),
        (".NaN", Err(Unresolved::NonFinite)),
        (".NAN", Err(Unresolved::NonFinite)),
        (".iNF", Ok(Str)),
        (".Nan", Ok(Str)),
        // Values on which go-yaml versions or Go's parsers may disagree.
        ("9223372036854775808", Err(Unresolved::OutOfRange)),
        ("18446744073709551615", Err(Unresolved::OutOfRange)),
        ("99999999999999999999", Err(Unresolved::OutOfRange)),
        ("0x1FFFFFFFFFFFFFFFF", Err(Unresolved::OutOfRange)),
        ("1e400", Err(Unresolved::FloatRange)),
        ("1e-400", Err(Unresolved::FloatRange)),
        (".5_0", Err(Unresolved::Underscore)),
        // Strings that start with other characters.
        ("abc", Ok(Str)),
        ("<<", Ok(Str)),
        ("nginx:1.27", Ok(Str)),
    ];

    #[test]
    fn plain_scalars_resolve_as_go_yaml_v2() {
        for (text, expected) in CASES {
            assert_eq!(resolve_plain(text), *expected, "`{text}`");
        }
    }

    #[test]
    fn yaml_style_float_pattern() {
        for text in ["1", "1.", "1.5", ".5", "-1e5", "+1.5E-3", "00.5"] {
            assert!(is_yaml_style_float(text), "`{text}`");
        }
        for text in ["", ".", "e5", "1e", "1.5.5", "0x1", "1_0", "++1", "1e+"] {
            assert!(!is_yaml_style_float(text), "`{text}`");
        }
    }
}
