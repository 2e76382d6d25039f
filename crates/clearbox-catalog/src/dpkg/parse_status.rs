//! Parser for dpkg's `status` file format: paragraphs of `Field: value` lines separated by
//! blank lines, continuation lines starting with a space or tab (deb-control(5)).

/// One package paragraph.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StatusEntry {
    pub(crate) package: String,
    pub(crate) version: String,
    pub(crate) status: Option<String>,
    pub(crate) source_field: Option<String>,
    pub(crate) architecture: Option<String>,
    pub(crate) maintainer: Option<String>,
    pub(crate) installed_size: Option<String>,
    pub(crate) homepage: Option<String>,
    pub(crate) description: Option<String>,
}

impl StatusEntry {
    /// True when the package's files are on disk: every package state except `not-installed`
    /// and `config-files` (only conffiles left after removal). `Status` is `WANT FLAG STATE`,
    /// so a package selected for removal (`deinstall ok installed`) is still installed, and so
    /// is one whose triggers have not run yet (`install ok triggers-pending`). Distroless
    /// `status.d` files sometimes omit `Status`; their packages are installed by construction,
    /// and an empty `Status` is read the same way.
    pub(crate) fn is_installed(&self) -> bool {
        match &self.status {
            None => true,
            Some(status) => !matches!(
                status.split_whitespace().last(),
                Some("not-installed" | "config-files")
            ),
        }
    }

    /// Source package name and version: `Source: NAME (VERSION)`, `Source: NAME`, or the
    /// binary package's own name and version.
    pub(crate) fn source(&self) -> (String, String) {
        let Some(field) = self
            .source_field
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            return (self.package.clone(), self.version.clone());
        };
        match field.split_once('(') {
            Some((name, rest)) => {
                let version = rest.trim_end().trim_end_matches(')').trim();
                (name.trim().to_owned(), version.to_owned())
            }
            None => (field.to_owned(), self.version.clone()),
        }
    }
}

/// Parses every paragraph. Paragraphs without `Package` or `Version` are reported as problems
/// and skipped; the rest are returned.
pub(crate) fn parse_status(text: &str) -> (Vec<StatusEntry>, Vec<String>) {
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for (index, paragraph) in paragraphs(text).into_iter().enumerate() {
        let mut entry = StatusEntry::default();
        let mut description = None;
        for (field, value) in paragraph {
            let first_line = value.lines().next().unwrap_or("").trim().to_owned();
            match field.to_ascii_lowercase().as_str() {
                "package" => entry.package = first_line,
                "version" => entry.version = first_line,
                "status" => entry.status = Some(first_line),
                "source" => entry.source_field = Some(first_line),
                "architecture" => entry.architecture = Some(first_line),
                "maintainer" => entry.maintainer = Some(first_line),
                "installed-size" => entry.installed_size = Some(first_line),
                "homepage" => entry.homepage = Some(first_line),
                "description" => description = Some(first_line),
                _ => {}
            }
        }
        entry.description = description.filter(|d| !d.is_empty());
        if entry.package.is_empty() || entry.version.is_empty() {
            problems.push(format!(
                "paragraph {} has no {} field",
                index + 1,
                if entry.package.is_empty() {
                    "Package"
                } else {
                    "Version"
                }
            ));
            continue;
        }
        entries.push(entry);
    }
    (entries, problems)
}

/// Splits into paragraphs of `(field, value)` with continuation lines joined by newlines.
fn paragraphs(text: &str) -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut current: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = current.last_mut() {
                value.push('\n');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((field, value)) = line.split_once(':') {
            current.push((field.trim().to_owned(), value.trim().to_owned()));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Package: libc6\nStatus: install ok installed\nSource: glibc\n\
        Version: 2.36-9+deb12u10\nArchitecture: amd64\nMaintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>\n\
        Description: GNU C Library: Shared libraries\n Contains the standard libraries.\n\n\
        Package: removed\nStatus: deinstall ok config-files\nVersion: 1.0\n\n\
        Package: libssl3\nStatus: install ok installed\nSource: openssl (3.0.15-1~deb12u1)\n\
        Version: 3.0.15-1~deb12u1+b1\n";

    #[test]
    fn parses_paragraphs_and_status() {
        let (entries, problems) = parse_status(STATUS);
        assert!(problems.is_empty());
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].package, "libc6");
        assert_eq!(
            entries[0].description.as_deref(),
            Some("GNU C Library: Shared libraries")
        );
        assert!(entries[0].is_installed());
        assert!(!entries[1].is_installed());
    }

    #[test]
    fn installed_states() {
        let entry = |status: &str| StatusEntry {
            status: Some(status.to_owned()),
            ..StatusEntry::default()
        };
        for status in [
            "install ok installed",
            "deinstall ok installed",
            "hold ok installed",
            "install ok triggers-pending",
            "install ok triggers-awaited",
            "install ok half-configured",
            "install ok unpacked",
            "install reinstreq half-installed",
        ] {
            assert!(entry(status).is_installed(), "{status}");
        }
        for status in [
            "deinstall ok config-files",
            "purge ok not-installed",
            "unknown ok not-installed",
        ] {
            assert!(!entry(status).is_installed(), "{status}");
        }
        assert!(StatusEntry::default().is_installed());
        assert!(entry("").is_installed());
    }

    #[test]
    fn source_with_and_without_version() {
        let (entries, _) = parse_status(STATUS);
        assert_eq!(
            entries[0].source(),
            ("glibc".into(), "2.36-9+deb12u10".into())
        );
        assert_eq!(
            entries[2].source(),
            ("openssl".into(), "3.0.15-1~deb12u1".into())
        );
    }

    #[test]
    fn paragraph_without_version_is_a_problem() {
        let (entries, problems) = parse_status("Package: x\n\nPackage: y\nVersion: 1\n");
        assert_eq!(entries.len(), 1);
        assert_eq!(problems, ["paragraph 1 has no Version field"]);
    }
}
