//! Supplier strings as catalogers record them (dpkg `Maintainer`, Python `Author`), split into a
//! name and an e-mail address and classed as a person or an organisation.

/// A package supplier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Supplier {
    /// Name, on one line.
    pub(crate) name: String,
    /// E-mail address, when the string ends in `<address>` with a plausible address.
    pub(crate) email: Option<String>,
}

/// Words that mark a supplier name as a group rather than a person, matched case-insensitively
/// as whole words.
const ORGANIZATION_WORDS: &[&str] = &[
    "association",
    "authors",
    "community",
    "company",
    "consortium",
    "contributors",
    "corporation",
    "developers",
    "foundation",
    "gmbh",
    "group",
    "inc",
    "llc",
    "ltd",
    "maintainers",
    "project",
    "society",
    "team",
];

impl Supplier {
    /// Parses `Name <address>` or a bare name; `None` when nothing but blanks remain.
    pub(crate) fn parse(raw: &str) -> Option<Supplier> {
        let one_line: String = raw
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let raw = one_line.trim();
        if raw.is_empty() {
            return None;
        }
        if let Some((name, rest)) = raw.split_once('<')
            && let Some(email) = rest.strip_suffix('>')
            && is_plausible_email(email.trim())
            && !name.trim().is_empty()
        {
            return Some(Supplier {
                name: name.trim().to_owned(),
                email: Some(email.trim().to_owned()),
            });
        }
        Some(Supplier {
            name: raw.to_owned(),
            email: None,
        })
    }

    /// Returns whether the supplier looks like an organisation.
    ///
    /// NOTE: a guess from the name and address, because dpkg and Python metadata do not record it.
    /// It looks for words such as "Team" or "Maintainers" and for mailing-list addresses
    /// (`lists.…`, `…@tracker.debian.org`); anything else is taken to be a person.
    pub(crate) fn is_organization(&self) -> bool {
        let by_name = self.name.split(|c: char| !c.is_alphanumeric()).any(|word| {
            ORGANIZATION_WORDS
                .iter()
                .any(|w| w.eq_ignore_ascii_case(word))
        });
        let by_email = self.email.as_deref().is_some_and(|email| {
            let domain = email.rsplit_once('@').map_or("", |(_, d)| d);
            domain.starts_with("lists.") || domain == "tracker.debian.org"
        });
        by_name || by_email
    }
}

/// Returns whether `s` looks like `local@domain.tld` with no spaces. JSON Schema validators check
/// CycloneDX contact addresses against RFC 5321, so anything doubtful stays in the name.
fn is_plausible_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && s.chars()
            .all(|c| c == '@' || (c.is_ascii_graphic() && !"<>()[]\\,;:\"".contains(c)))
        && s.matches('@').count() == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Supplier {
        Supplier::parse(s).unwrap()
    }

    #[test]
    fn parse_name_and_email() {
        let s = parse("Debian GCC Maintainers <debian-gcc@lists.debian.org>");
        assert_eq!(s.name, "Debian GCC Maintainers");
        assert_eq!(s.email.as_deref(), Some("debian-gcc@lists.debian.org"));
        assert!(s.is_organization());
    }

    #[test]
    fn parse_person() {
        let s = parse("Josué Ortega <josue@debian.org>");
        assert_eq!(s.name, "Josué Ortega");
        assert!(!s.is_organization());
    }

    #[test]
    fn parse_without_plausible_email() {
        let s = parse("Jane Doe <jane at example dot org>");
        assert_eq!(s.name, "Jane Doe <jane at example dot org>");
        assert_eq!(s.email, None);
        assert_eq!(parse("a\nb").name, "a b");
        assert_eq!(Supplier::parse(" \t"), None);
    }

    #[test]
    fn organization_by_address() {
        assert!(parse("Debian Python Team <team+python@tracker.debian.org>").is_organization());
        assert!(parse("GNU Libc <libc-alpha@lists.example.org>").is_organization());
        assert!(!parse("Teamster Smith").is_organization());
    }
}
