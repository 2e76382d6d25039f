//! The JSON Canonicalization Scheme (RFC 8785), which Rekor applies to the payload of a signed
//! entry timestamp before signing it.
//!
//! Object members are sorted by their names' UTF-16 code units, strings are escaped as
//! ECMAScript's `JSON.stringify` escapes them, and numbers are written as ECMAScript's
//! `Number.prototype.toString` writes an IEEE 754 double. Integers beyond 2^53 are written
//! exactly as given, which is what an implementation working on integers does; RFC 8785 would
//! first round them to a double.

use std::fmt::Write as _;

use serde_json::Value;

/// The canonical serialization of `value`.
#[must_use]
pub(crate) fn to_canonical_json(value: &Value) -> Vec<u8> {
    let mut out = String::new();
    write_value(&mut out, value);
    out.into_bytes()
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => write_number(out, number),
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(members) => {
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            sorted.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (index, (name, member)) in sorted.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_string(out, name);
                out.push(':');
                write_value(out, member);
            }
            out.push('}');
        }
    }
}

fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            control if u32::from(control) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(control));
            }
            other => out.push(other),
        }
    }
    out.push('"');
}

fn write_number(out: &mut String, number: &serde_json::Number) {
    if let Some(integer) = number.as_i64() {
        let _ = write!(out, "{integer}");
    } else if let Some(integer) = number.as_u64() {
        let _ = write!(out, "{integer}");
    } else if let Some(float) = number.as_f64() {
        write_double(out, float);
    }
}

/// Writes a finite double as ECMAScript's `Number::toString(10)` does (ECMA-262 section
/// 6.1.6.1.20): the shortest digits that round-trip, plain notation for exponents from -6 to
/// 20, and `d.ddde±n` otherwise.
fn write_double(out: &mut String, value: f64) {
    if value == 0.0 {
        // Negative zero is written as `0` too.
        out.push('0');
        return;
    }
    if value < 0.0 {
        out.push('-');
    }

    // Rust's `{:e}` gives the shortest round-trip digits: `d[.ddd]e<exp>`.
    let scientific = format!("{:e}", value.abs());
    let (mantissa, exponent) = scientific
        .split_once('e')
        .unwrap_or((scientific.as_str(), "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exponent: i32 = exponent.parse().unwrap_or(0);
    // ECMA-262's n: the position of the decimal point relative to the digits.
    let point = exponent + 1;
    let count = i32::try_from(digits.len()).unwrap_or(i32::MAX);

    if count <= point && point <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', point.abs_diff(count) as usize));
    } else if 0 < point && point <= 21 {
        let (whole, fraction) = digits.split_at(point.unsigned_abs() as usize);
        out.push_str(whole);
        out.push('.');
        out.push_str(fraction);
    } else if -6 < point && point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', point.unsigned_abs() as usize));
        out.push_str(&digits);
    } else {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        let shown = point - 1;
        let _ = write!(out, "e{}{}", if shown < 0 { '-' } else { '+' }, shown.abs());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(text: &str) -> String {
        String::from_utf8(to_canonical_json(&serde_json::from_str(text).unwrap())).unwrap()
    }

    fn double(value: f64) -> String {
        let mut out = String::new();
        write_double(&mut out, value);
        out
    }

    #[test]
    fn rekor_payload_keys_sorted() {
        assert_eq!(
            canonical(r#"{"logIndex":1,"logID":"ab","integratedTime":2,"body":"eA=="}"#),
            r#"{"body":"eA==","integratedTime":2,"logID":"ab","logIndex":1}"#
        );
    }

    #[test]
    fn sorting_uses_utf16_code_units() {
        // U+1F600 is the surrogate pair D83D DE00, which sorts before U+FB33 in UTF-16 but
        // after it in UTF-8 and in code points.
        assert_eq!(
            canonical("{\"\u{fb33}\":1,\"\u{1f600}\":2,\"a\":3}"),
            "{\"a\":3,\"\u{1f600}\":2,\"\u{fb33}\":1}"
        );
    }

    #[test]
    fn strings_escaped_like_json_stringify() {
        assert_eq!(
            canonical(r#""\u0001\b\t\n\f\r\"\\/\u007f\u20ac""#),
            "\"\\u0001\\b\\t\\n\\f\\r\\\"\\\\/\u{7f}\u{20ac}\""
        );
    }

    #[test]
    fn whitespace_removed_and_arrays_kept_in_order() {
        assert_eq!(
            canonical("{ \"b\" : [ 3 , true , null ], \"a\" : {} }"),
            r#"{"a":{},"b":[3,true,null]}"#
        );
    }

    // The number examples of RFC 8785 appendix B.
    #[test]
    fn doubles_written_as_ecmascript() {
        for (value, expected) in [
            (0.0, "0"),
            (-0.0, "0"),
            (5e-324, "5e-324"),
            (1.797_693_134_862_315_7e308, "1.7976931348623157e+308"),
            (9_007_199_254_740_992.0, "9007199254740992"),
            (295_147_905_179_352_830_000.0, "295147905179352830000"),
            (1e21, "1e+21"),
            (1e-7, "1e-7"),
            (0.000_001, "0.000001"),
            (333_333_333.333_333_3, "333333333.3333333"),
            (-1.5, "-1.5"),
            (4.5, "4.5"),
            (2e-3, "0.002"),
            (1e30, "1e+30"),
        ] {
            assert_eq!(double(value), expected, "{value:e}");
        }
    }
}
