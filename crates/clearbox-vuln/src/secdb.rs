//! Alpine's secdb (`secfixes` YAML, one file per release and repository, such as
//! `v3.11/main.yaml`) turned into OSV records, so it is stored and matched like any feed.
//!
//! Format: `distroversion` (`v3.11`), `reponame` (`main`), and `packages[].pkg` with `name`
//! (the aports package, which is the apk origin) and `secfixes`, a map from a package version
//! to the vulnerability ids fixed in that version. A vulnerability listed under the version `0`
//! never affected Alpine's package: maintainers "attribute a security fix to version 0" for CVEs
//! they deem irrelevant to their package, as Alpine's security team lead describes it
//! (<https://ariadne.space/2021/06/04/a-slightly-delayed-monthly-status-update/>).
//!
//! Mapping, one record per release, package and vulnerability, with the id
//! `ALPINE:<release>:<package>:<vulnerability>` (one package cannot be in two repositories of a
//! release, so ids are unique across a release's files) and the vulnerability id as alias:
//!
//! | secfixes entry | affected entry of ecosystem `Alpine:<release>` |
//! |---|---|
//! | `1.2.3-r1: [CVE-X]` | `ECOSYSTEM` range `introduced: 0`, `fixed: 1.2.3-r1` |
//! | the same id under several versions | one range fixed at the highest of them, since a later entry fixes what the earlier fix missed |
//! | `0: [CVE-X]` | no range, `database_specific.status: not_affected`: a not-affected finding for every version |
//!
//! What the secdb cannot say: vulnerabilities not fixed yet are absent from it (Alpine's OSV
//! records carry those), and it has no timestamps, so every record gets the file's
//! modification time as `modified` (the import time for zip members). That time says when the
//! file was copied, not when Alpine last changed it, so these records never count towards the
//! database's age (ids start with [`RECORD_ID_PREFIX`]).
//!
//! Items are free text in places (`CVE-2018-14468 (FrameRelay)`, `CVE 2018-16859`,
//! `CVE-2019-19451.patch`, `CVE-????-?????  XSA-295`): the id is the first `CVE-YYYY-N…` in the
//! item, else the first word made of letters, digits and hyphens that is not a placeholder.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;

use crate::osv::{FieldProblem, OsvRecord};

#[derive(Deserialize)]
struct SecDb {
    distroversion: String,
    #[serde(default)]
    reponame: Option<String>,
    #[serde(default)]
    packages: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    pkg: Pkg,
}

#[derive(Deserialize)]
struct Pkg {
    name: String,
    #[serde(default)]
    secfixes: Option<BTreeMap<String, Option<Vec<String>>>>,
}

/// Returns whether a YAML document is a secdb file, which has the top-level keys
/// `distroversion` and `packages`.
pub(crate) fn is_secdb(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    text.lines().any(|l| l.starts_with("distroversion:"))
        && String::from_utf8_lossy(bytes)
            .lines()
            .any(|l| l.starts_with("packages:"))
}

/// The records of one secdb file, and warnings about entries stored with a problem (a fixed
/// version that apk cannot parse, an item without an id). `modified` is the RFC 3339 time to
/// give every record.
pub(crate) fn records(
    bytes: &[u8],
    modified: &str,
) -> Result<(Vec<OsvRecord>, Vec<FieldProblem>), FieldProblem> {
    let secdb: SecDb = serde_saphyr::from_slice(bytes).map_err(|e| FieldProblem {
        field: String::new(),
        message: format!(
            "invalid Alpine secdb file: {}",
            e.to_string().lines().next().unwrap_or_default()
        ),
    })?;
    let release = secdb.distroversion.trim().to_owned();
    if !release.starts_with('v') {
        return Err(FieldProblem {
            field: "distroversion".to_owned(),
            message: format!("expected a release such as `v3.11`, found `{release}`"),
        });
    }
    let repository = secdb.reponame.unwrap_or_default();
    let mut warnings = Vec::new();
    let mut out = Vec::new();
    for (index, entry) in secdb.packages.iter().enumerate() {
        let field = format!("packages[{index}].pkg.secfixes");
        let fixes = collect_fixes(&entry.pkg, &field, &mut warnings);
        for (vulnerability, versions) in fixes {
            let context = Context {
                release: &release,
                repository: &repository,
                package: &entry.pkg.name,
                modified,
            };
            out.push(record(&context, &vulnerability, &versions));
        }
    }
    Ok((out, warnings))
}

/// Groups a package's secfixes by vulnerability id, with every version that lists it.
fn collect_fixes(
    pkg: &Pkg,
    field: &str,
    warnings: &mut Vec<FieldProblem>,
) -> BTreeMap<String, Vec<String>> {
    let mut fixes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (version, items) in pkg.secfixes.iter().flatten() {
        let version = version.trim();
        if version != "0" && clearbox_version::Scheme::Apk.parse(version).is_err() {
            warnings.push(FieldProblem {
                field: format!("{field}.{version}"),
                message: format!(
                    "`{version}` of `{}` is not an apk version; its ranges cannot be checked",
                    pkg.name
                ),
            });
        }
        for item in items.iter().flatten() {
            match vulnerability_id(item) {
                Some(id) => fixes.entry(id).or_default().push(version.to_owned()),
                None => warnings.push(FieldProblem {
                    field: format!("{field}.{version}"),
                    message: format!("no vulnerability id in `{item}`; entry skipped"),
                }),
            }
        }
    }
    fixes
}

struct Context<'a> {
    release: &'a str,
    repository: &'a str,
    package: &'a str,
    modified: &'a str,
}

/// Start of the id of every record made from a secdb file; Alpine's own OSV ids use a hyphen.
pub(crate) const RECORD_ID_PREFIX: &str = "ALPINE:";

fn record(context: &Context<'_>, vulnerability: &str, versions: &[String]) -> OsvRecord {
    let Context {
        release,
        repository,
        package,
        modified,
    } = context;
    let fixed = highest_version(versions.iter().filter(|v| *v != "0"));
    let source = json!({
        "source": "alpine-secdb",
        "repository": repository,
    });
    let affected = match &fixed {
        Some(fixed) => json!({
            "package": {"ecosystem": format!("Alpine:{release}"), "name": package,
                        "purl": format!("pkg:apk/alpine/{package}")},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
            "database_specific": source,
        }),
        None => json!({
            "package": {"ecosystem": format!("Alpine:{release}"), "name": package,
                        "purl": format!("pkg:apk/alpine/{package}")},
            "database_specific": {
                "source": "alpine-secdb",
                "repository": repository,
                "status": "not_affected",
                "note": "listed under version 0 in the Alpine secdb",
            },
        }),
    };
    let summary = match &fixed {
        Some(fixed) => format!("{vulnerability} fixed in {package} {fixed}"),
        None => format!("{vulnerability} does not affect Alpine's {package}"),
    };
    let value = json!({
        "id": format!("{RECORD_ID_PREFIX}{release}:{package}:{vulnerability}"),
        "modified": modified,
        "aliases": [vulnerability],
        "summary": summary,
        "affected": [affected],
        "database_specific": {"source": "alpine-secdb"},
    });
    serde_json::from_value(value).expect("a secdb record is a valid OSV record")
}

/// The highest of the versions in apk order; versions apk cannot parse sort below the rest, so
/// they are used only when nothing else is listed.
fn highest_version<'a>(versions: impl Iterator<Item = &'a String>) -> Option<String> {
    let mut best: Option<(&String, Option<clearbox_version::Version>)> = None;
    for version in versions {
        let parsed = clearbox_version::Scheme::Apk.parse(version).ok();
        let better = match (&best, &parsed) {
            (None, _) | (Some((_, None)), Some(_)) => true,
            (Some((_, Some(current))), Some(new)) => {
                new.compare(current).is_ok_and(std::cmp::Ordering::is_gt)
            }
            _ => false,
        };
        if better {
            best = Some((version, parsed));
        }
    }
    best.map(|(v, _)| v.clone())
}

/// Finds the vulnerability id in a secfixes item.
fn vulnerability_id(item: &str) -> Option<String> {
    let item = item.trim();

    // A CVE id, written `CVE-YYYY-N` or `CVE YYYY-N`.
    let upper = item.to_ascii_uppercase();
    for (start, _) in upper.match_indices("CVE") {
        let rest = &item[start + 3..];
        let rest = rest.strip_prefix(['-', ' ']).unwrap_or(rest);
        let year: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let after_year = &rest[year.len()..];
        let Some(after_dash) = after_year.strip_prefix('-') else {
            continue;
        };
        let number: String = after_dash
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if year.len() == 4 && number.len() >= 4 {
            return Some(format!("CVE-{year}-{number}"));
        }
    }

    // Otherwise the first word that looks like an id (`XSA-207`, `wnpa-sec-2017-18`).
    item.split_whitespace()
        .map(|word| {
            word.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-')
                .to_owned()
        })
        .find(|word| {
            word.chars().any(|c| c.is_ascii_digit())
                && word.chars().any(|c| c.is_ascii_alphabetic())
                && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !word.starts_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vulnerability_id_table() {
        let cases = [
            ("CVE-2019-14697", Some("CVE-2019-14697")),
            ("CVE-2018-14468 (FrameRelay)", Some("CVE-2018-14468")),
            ("CVE 2018-16859", Some("CVE-2018-16859")),
            ("CVE-2019-19451.patch", Some("CVE-2019-19451")),
            ("CVE-2017-17434-1", Some("CVE-2017-17434")),
            ("CVE-2017-12122 TALOS-2017-0488", Some("CVE-2017-12122")),
            ("CVE-????-?????  XSA-295", Some("XSA-295")),
            ("XSA-207", Some("XSA-207")),
            ("wnpa-sec-2017-18", Some("wnpa-sec-2017-18")),
            ("???", None),
        ];
        for (item, expected) in cases {
            assert_eq!(vulnerability_id(item).as_deref(), expected, "`{item}`");
        }
    }

    const SECDB: &str = "---\ndistroversion: v3.8\nreponame: main\npackages:\n  - pkg:\n      \
                         name: musl\n      secfixes:\n        1.1.19-r11:\n          - CVE-2019-14697\n        \
                         1.1.19-r10:\n          - CVE-2019-14697\n          - CVE-2018-1000001\n        \
                         \"0\":\n          - CVE-2020-0001\n        1.0:\n          - CVE-2020-0002\n";

    #[test]
    fn secdb_records_golden() {
        assert!(is_secdb(SECDB.as_bytes()));
        let (records, warnings) = records(SECDB.as_bytes(), "2020-01-01T00:00:00Z").unwrap();
        assert!(
            warnings.is_empty(),
            "{:?}",
            warnings.iter().map(|w| &w.message).collect::<Vec<_>>()
        );
        let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "ALPINE:v3.8:musl:CVE-2018-1000001",
                "ALPINE:v3.8:musl:CVE-2019-14697",
                "ALPINE:v3.8:musl:CVE-2020-0001",
                "ALPINE:v3.8:musl:CVE-2020-0002",
            ]
        );
        let fixed = |r: &OsvRecord| {
            r.affected[0]
                .ranges
                .first()
                .map(|range| range.events[1].version().to_owned())
        };
        assert_eq!(
            fixed(&records[1]).as_deref(),
            Some("1.1.19-r11"),
            "highest listed"
        );
        assert_eq!(fixed(&records[2]), None, "version 0 is not affected");
        assert_eq!(
            fixed(&records[3]).as_deref(),
            Some("1.0"),
            "an unquoted number key"
        );
        assert_eq!(records[1].aliases, ["CVE-2019-14697"]);
        assert_eq!(
            records[0].affected[0].package.as_ref().unwrap().ecosystem,
            "Alpine:v3.8"
        );
    }

    #[test]
    fn secdb_rejects_other_yaml() {
        assert!(!is_secdb(b"id: GHSA-1\nmodified: 2020-01-01T00:00:00Z\n"));
        assert!(
            records(
                b"distroversion: 3.8\npackages: []\n",
                "2020-01-01T00:00:00Z"
            )
            .is_err()
        );
    }
}
