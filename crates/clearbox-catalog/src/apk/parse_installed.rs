//! Parses apk-tools' installed database, `lib/apk/db/installed`.
//!
//! The file is a list of package records separated by blank lines. Each line is one field: a
//! single-letter key, a colon and the value (format:
//! <https://wiki.alpinelinux.org/wiki/Apk_spec#Installed_Database_V2>). Keys may repeat: the
//! file list (`F:` directories, `R:` files, `Z:` file checksums) repeats per file. Only the
//! package-level fields are kept.

/// One package record of the installed database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct InstalledEntry {
    /// `P`: package name.
    pub(crate) name: String,
    /// `V`: version.
    pub(crate) version: String,
    /// `A`: architecture.
    pub(crate) arch: Option<String>,
    /// `o`: origin, the aports package it was built from (the source package).
    pub(crate) origin: Option<String>,
    /// `L`: licence as written, such as `MIT` or `GPL-2.0-only`.
    pub(crate) license: Option<String>,
    /// `T`: one-line description.
    pub(crate) description: Option<String>,
    /// `U`: project URL.
    pub(crate) url: Option<String>,
    /// `m`: maintainer.
    pub(crate) maintainer: Option<String>,
    /// `c`: aports commit the package was built from.
    pub(crate) commit: Option<String>,
    /// `C`: checksum of the package's control section: `Q1` and base64 SHA-1, or `Q2` and
    /// base64 SHA-256.
    pub(crate) checksum: Option<String>,
    /// `S`: package file size in bytes.
    pub(crate) size: Option<String>,
    /// `I`: installed size in bytes.
    pub(crate) installed_size: Option<String>,
    /// `t`: build time, Unix seconds.
    pub(crate) build_time: Option<String>,
}

/// Parses the whole file. Records without a name or version are not packages that apk could
/// have installed; each is returned as a problem and left out.
pub(crate) fn parse_installed(text: &str) -> (Vec<InstalledEntry>, Vec<String>) {
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    let mut current = InstalledEntry::default();
    let mut fields = 0usize;
    let mut start_line = 1;
    for (index, line) in text.lines().chain(std::iter::once("")).enumerate() {
        if line.trim().is_empty() {
            if fields > 0 {
                finish(
                    std::mem::take(&mut current),
                    start_line,
                    &mut entries,
                    &mut problems,
                );
            }
            fields = 0;
            start_line = index + 2;
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            problems.push(format!(
                "line {}: no `KEY:` prefix in `{}`",
                index + 1,
                short(line)
            ));
            continue;
        };
        fields += 1;
        let value = value.trim();
        let slot = match key {
            "P" => {
                value.clone_into(&mut current.name);
                continue;
            }
            "V" => {
                value.clone_into(&mut current.version);
                continue;
            }
            "A" => &mut current.arch,
            "o" => &mut current.origin,
            "L" => &mut current.license,
            "T" => &mut current.description,
            "U" => &mut current.url,
            "m" => &mut current.maintainer,
            "c" => &mut current.commit,
            "C" => &mut current.checksum,
            "S" => &mut current.size,
            "I" => &mut current.installed_size,
            "t" => &mut current.build_time,
            _ => continue,
        };
        if !value.is_empty() {
            *slot = Some(value.to_owned());
        }
    }
    (entries, problems)
}

fn finish(
    entry: InstalledEntry,
    line: usize,
    entries: &mut Vec<InstalledEntry>,
    problems: &mut Vec<String>,
) {
    match (entry.name.is_empty(), entry.version.is_empty()) {
        (false, false) => entries.push(entry),
        (true, _) => problems.push(format!("record at line {line} has no package name (`P:`)")),
        (false, true) => problems.push(format!(
            "package `{}` at line {line} has no version (`V:`); not cataloged",
            entry.name
        )),
    }
}

fn short(line: &str) -> String {
    crate::text::printable(line, 80)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = "C:Q1abc=\nP:musl\nV:1.1.24-r2\nA:x86_64\no:musl\nL:MIT\n\
                       F:lib\nR:libc.musl-x86_64.so.1\n\nP:libssl1.1\nV:1.1.1d-r3\no:openssl\n";

    #[test]
    fn installed_golden() {
        let (entries, problems) = parse_installed(TWO);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].name, "musl");
        assert_eq!(entries[0].checksum.as_deref(), Some("Q1abc="));
        assert_eq!(entries[0].license.as_deref(), Some("MIT"));
        assert_eq!(entries[1].origin.as_deref(), Some("openssl"));
        assert_eq!(entries[1].arch, None);
    }

    #[test]
    fn record_without_version_is_a_problem() {
        let (entries, problems) = parse_installed("P:ok\nV:1-r0\n\nP:broken\nA:x86_64\n");
        assert_eq!(entries.len(), 1);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("`broken`"), "{}", problems[0]);
    }

    #[test]
    fn corrupt_lines_are_problems() {
        let (entries, problems) = parse_installed("garbage without a key\n\n\n");
        assert!(entries.is_empty());
        assert_eq!(problems.len(), 1);
    }
}
