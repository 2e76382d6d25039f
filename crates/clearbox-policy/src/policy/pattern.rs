//! Globs for exception targets: `*` matches any run of characters, `/` and `:` included, and
//! `?` one character. Everything else matches itself, and the whole text must match.

use std::fmt;

use regex::Regex;

/// A compiled glob.
#[derive(Debug, Clone)]
pub struct Glob {
    text: String,
    regex: Regex,
}

impl Glob {
    /// Compiles `text`. Fails on an empty pattern, which would match nothing.
    pub fn new(text: &str) -> Result<Glob, String> {
        if text.trim().is_empty() {
            return Err("the pattern is empty".to_owned());
        }
        let mut source = String::from("^");
        for c in text.chars() {
            match c {
                '*' => source.push_str(".*"),
                '?' => source.push('.'),
                other => source.push_str(&regex::escape(&other.to_string())),
            }
        }
        source.push('$');
        let regex =
            Regex::new(&source).map_err(|e| format!("the pattern does not compile: {e}"))?;
        Ok(Glob {
            text: text.to_owned(),
            regex,
        })
    }

    /// True when the whole of `text` matches.
    #[must_use]
    pub fn matches(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(text: &str) -> Glob {
        Glob::new(text).unwrap()
    }

    #[test]
    fn star_crosses_slashes_and_colons() {
        assert!(glob("ghcr.io/acme/*").matches("ghcr.io/acme/team/app:v1"));
        assert!(!glob("ghcr.io/acme/*").matches("ghcr.io/acme-evil/app"));
        assert!(glob("Deployment/prod/*").matches("Deployment/prod/web"));
    }

    #[test]
    fn dots_are_literal() {
        assert!(!glob("ghcr.io/app").matches("ghcrXio/app"));
        assert!(glob("app?").matches("app1"));
        assert!(!glob("app?").matches("app12"));
    }

    #[test]
    fn empty_pattern_rejected() {
        assert_eq!(Glob::new(" ").unwrap_err(), "the pattern is empty");
    }
}
