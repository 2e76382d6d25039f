//! Declared licences from a Debian `copyright` file.
//!
//! Machine-readable files (DEP-5, first line `Format:`) name licences in `License:` fields;
//! the first line of each field is a short name or an `or`/`and` expression of short names.
//! Free-form files are searched for references to `/usr/share/common-licenses/NAME`.
//! Names are returned as Debian writes them (`GPL-2+`, `Expat`); mapping to SPDX identifiers
//! happens where the SBOM is written. Specification:
//! <https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/>.

use std::collections::BTreeSet;

/// Returns the distinct licence names the file declares, sorted.
pub(crate) fn parse_copyright(text: &str) -> Vec<String> {
    let mut names = BTreeSet::new();
    for line in text.lines() {
        let Some(value) = line.strip_prefix("License:") else {
            continue;
        };
        // `GPL-2+ with OpenSSL exception` declares GPL-2+; the exception is not a licence.
        let value = value.split(" with ").next().unwrap_or_default();
        let tokens: Vec<&str> = value
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|t| !t.is_empty() && !matches!(*t, "or" | "and"))
            .collect();
        // A field whose first line is prose ("By obtaining, using …") holds licence text, not
        // names; it is skipped whole rather than mined for words.
        if !tokens.is_empty() && tokens.iter().all(|t| is_short_name(t)) {
            names.extend(tokens.into_iter().map(str::to_owned));
        }
    }
    for (i, _) in text.match_indices("/usr/share/common-licenses/") {
        let rest = &text[i + "/usr/share/common-licenses/".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '+'))
            .collect();
        let name = name.trim_end_matches('.');
        if is_short_name(name) {
            names.insert(name.to_owned());
        }
    }
    names.into_iter().collect()
}

/// Licence short names without a digit, `-`, `+` or `.` that Debian copyright files use.
const PLAIN_NAMES: [&str; 16] = [
    "Expat",
    "Zlib",
    "zlib",
    "Artistic",
    "OpenSSL",
    "SSLeay",
    "Unicode",
    "curl",
    "Ruby",
    "Python",
    "Sleepycat",
    "Unlicense",
    "Autoconf",
    "permissive",
    "Libpng",
    "libpng",
];

/// A licence short name, told from an English word by its shape: it has a digit, `-`, `+`,
/// `.` or `_` (`GPL-2+`, `LGPL-2.1`, `public-domain`), is an acronym of two or more capitals
/// (`MIT`, `BSD`, `PD`), or is one of the plain names Debian uses.
fn is_short_name(token: &str) -> bool {
    let well_formed = token.len() <= 64
        && token
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-' | '_'));
    if !well_formed {
        return false;
    }
    let marked = token
        .chars()
        .any(|c| c.is_ascii_digit() || matches!(c, '.' | '+' | '-' | '_'));
    let acronym = token.chars().filter(char::is_ascii_uppercase).count() >= 2;
    marked || acronym || PLAIN_NAMES.contains(&token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dep5_fields_and_expressions() {
        let text = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n\
            Files: *\nLicense: MPL-1.1 or GPL-2 or LGPL-2.1\n\nFiles: x\nLicense: GPL-2+ with OpenSSL exception\n\n\
            License: MPL-1.1\n [LICENSE TEXT]\n";
        assert_eq!(
            parse_copyright(text),
            ["GPL-2", "GPL-2+", "LGPL-2.1", "MPL-1.1"]
        );
    }

    #[test]
    fn licence_text_in_field_is_not_a_name() {
        let text = "License: Permission is hereby granted, free of charge\nLicense: Expat\n\
            License: By obtaining, using, and/or copying this software\n\
            License: see above, some license as Python.\nLicense: PD\n";
        assert_eq!(parse_copyright(text), ["Expat", "PD"]);
    }

    #[test]
    fn free_form_common_licenses_reference() {
        let text = "On Debian systems, the complete text of the GNU General Public License\n\
            can be found in /usr/share/common-licenses/GPL-2.\n";
        assert_eq!(parse_copyright(text), ["GPL-2"]);
    }
}
