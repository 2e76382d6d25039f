//! Showing text from an image to a person: package names and versions come from files the
//! image's author wrote, so they are made safe before they reach a terminal or a table.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Returns `text` with control characters (newlines, terminal escape sequences) shown as
/// `\u{..}` escapes and cut to `max_chars` characters with a trailing `…`.
#[must_use]
pub fn printable(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars * 4));
    for (count, c) in text.chars().enumerate() {
        if count == max_chars {
            out.push('…');
            break;
        }
        push_escaped(&mut out, c);
    }
    out
}

/// Returns `text` with every character that can make one line read as several, or reorder
/// the text on screen, shown as a `\u{..}` escape: control characters (newlines, carriage
/// returns, terminal escape sequences), line and paragraph separators, and Unicode's
/// bidirectional and zero-width formatting characters. Other text, backslashes included, is
/// unchanged, and text without such characters is returned without copying.
#[must_use]
pub fn escape_unprintable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unprintable) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

fn push_escaped(out: &mut String, c: char) {
    if is_unprintable(c) {
        let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
    } else {
        out.push(c);
    }
}

/// Control characters, and the format characters that break lines (U+2028, U+2029), change
/// the direction of the text after them (U+061C, U+200E, U+200F, U+202A to U+202E, U+2066 to
/// U+2069) or take no space (U+200B to U+200D, U+2060 to U+2064, U+FEFF).
fn is_unprintable(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2069}'
                | '\u{feff}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_truncates() {
        assert_eq!(printable("urllib3", 40), "urllib3");
        assert_eq!(printable("a\u{1b}[2Jb\nc", 40), "a\\u{1b}[2Jb\\u{a}c");
        assert_eq!(printable("abcdef", 3), "abc…");
    }

    #[test]
    fn escape_unprintable_cases() {
        assert!(matches!(
            escape_unprintable("registry.example/app"),
            Cow::Borrowed("registry.example/app")
        ));
        assert_eq!(escape_unprintable("a\nb\r\tc"), "a\\u{a}b\\u{d}\\u{9}c");
        assert_eq!(escape_unprintable("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(escape_unprintable("x\u{2028}y"), "x\\u{2028}y");
        assert_eq!(escape_unprintable("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(
            escape_unprintable("a\u{200b}b\u{feff}"),
            "a\\u{200b}b\\u{feff}"
        );
        assert_eq!(escape_unprintable("é \\n ü"), "é \\n ü");
    }
}
