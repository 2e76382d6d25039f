//! Showing text from an image to a person: package names and versions come from files the
//! image's author wrote, so they are made safe before they reach a terminal or a table.

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
        if c.is_control() {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
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
}
