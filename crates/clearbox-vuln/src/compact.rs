//! The compact forms of a record that the database stores beside the record, so that matching
//! reads and parses only what it needs instead of whole records.
//!
//! - Per affected package (ecosystem and index name, see [`index_name`]), the record's entries
//!   for that package. Each entry keeps its position in `affected`, its ranges (a `GIT` range
//!   keeps only its type, because matching never evaluates one), its `versions`, its severity
//!   scores, and the distribution status that the `status` module reads from its
//!   `ecosystem_specific` and `database_specific` objects.
//! - Per record, the fields a finding reports (`aliases`, `summary`, `published`, `modified`,
//!   `references`) and the ones its severity comes from (`severity` and the
//!   `database_specific.severity` label).
//!
//! Both are JSON, derived from the validated record at import or by the schema migration and
//! never written on their own. The database's schema version covers their layout, so a change
//! here needs a new schema version and a migration.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Deref;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::finding::FindingStatus;
use crate::osv::{OsvRecord, Range, RangeKind, Reference, SeverityScore};
use crate::status::entry_status;
use crate::store::index_name;

/// What matching reads from one affected entry.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct MatchEntry<'a> {
    /// Position of the entry in the record's `affected` list.
    pub(crate) index: usize,
    /// The entry's ranges in record order; `GIT` ranges have no events.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) ranges: Vec<Range>,
    /// The entry's `versions` list.
    #[serde(default, borrow, skip_serializing_if = "Vec::is_empty")]
    pub(crate) versions: Vec<Text<'a>>,
    /// The entry's severity scores.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) severity: Vec<SeverityScore>,
    /// The distribution's statement about the package, with the reason to report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) status: Option<(FindingStatus, String)>,
}

/// The record fields that a finding reports or takes its severity from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ReportFields {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) published: Option<String>,
    /// `modified` as the record writes it, not normalised.
    pub(crate) modified: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) references: Vec<Reference>,
    /// The record-level severity scores.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) severity: Vec<SeverityScore>,
    /// `database_specific.severity` when it is a string, such as GitHub's `MODERATE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) severity_label: Option<String>,
}

impl ReportFields {
    /// Copies the reported fields of `record`.
    pub(crate) fn of(record: &OsvRecord) -> ReportFields {
        let severity_label = record
            .database_specific
            .as_ref()
            .and_then(|d| d.get("severity"))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        ReportFields {
            aliases: record.aliases.clone(),
            summary: record.summary.clone(),
            published: record.published.clone(),
            modified: record.modified.clone(),
            references: record.references.clone(),
            severity: record.severity.clone(),
            severity_label,
        }
    }
}

/// The match entries of one record for one package, ready to store.
pub(crate) struct PackageEntries<'r> {
    pub(crate) ecosystem: &'r str,
    pub(crate) ecosystem_base: &'r str,
    /// The package name in index form.
    pub(crate) name: String,
    /// A JSON array of [`MatchEntry`] in record order.
    pub(crate) entries: String,
}

/// Groups the affected entries of `record` by ecosystem and index name, in key order. Entries
/// without a package (only `GIT` ranges) are left out, as no lookup can reach them.
pub(crate) fn package_entries(
    record: &OsvRecord,
) -> Result<Vec<PackageEntries<'_>>, serde_json::Error> {
    let mut groups: BTreeMap<(&str, String), Vec<MatchEntry<'_>>> = BTreeMap::new();
    for (index, affected) in record.affected.iter().enumerate() {
        let Some(package) = &affected.package else {
            continue;
        };
        let entry = MatchEntry {
            index,
            ranges: affected.ranges.iter().map(match_range).collect(),
            versions: affected
                .versions
                .iter()
                .map(|v| Text(Cow::Borrowed(v)))
                .collect(),
            severity: affected.severity.clone(),
            status: entry_status(affected),
        };
        let key = (
            package.ecosystem.as_str(),
            index_name(&package.ecosystem, &package.name),
        );
        groups.entry(key).or_default().push(entry);
    }
    groups
        .into_iter()
        .map(|((ecosystem, name), entries)| {
            Ok(PackageEntries {
                ecosystem,
                ecosystem_base: crate::osv::ecosystem_base(ecosystem),
                name,
                entries: serde_json::to_string(&entries)?,
            })
        })
        .collect()
}

/// A range as matching needs it: without `repo` and `database_specific`, and without the
/// commit events of a `GIT` range.
fn match_range(range: &Range) -> Range {
    Range {
        kind: range.kind,
        repo: None,
        events: if range.kind == RangeKind::Git {
            Vec::new()
        } else {
            range.events.clone()
        },
        database_specific: None,
    }
}

/// A string read from stored JSON, borrowed from the JSON text when it has no escapes. A
/// `versions` list of a PyPI record can have hundreds of entries, and borrowing them saves an
/// allocation each.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Text<'a>(Cow<'a, str>);

impl Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl Serialize for Text<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Text<'a>, D::Error> {
        deserializer.deserialize_str(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Borrowed(value)))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Owned(value.to_owned())))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Owned(value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::osv::parse_json;

    const RECORD: &str = r#"{"id": "X-1", "modified": "2024-01-02T03:04:05Z",
        "aliases": ["CVE-2024-1"], "details": "long text",
        "database_specific": {"severity": "HIGH", "other": 1},
        "affected": [
          {"package": {"ecosystem": "PyPI", "name": "Foo.Bar"},
           "ranges": [{"type": "GIT", "repo": "https://example.org/r",
                       "events": [{"introduced": "0"}, {"fixed": "abc"}]},
                      {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2"}]}],
           "versions": ["1.0", "1.\"5"]},
          {"package": {"ecosystem": "Debian:12", "name": "foo"},
           "ecosystem_specific": {"urgency": "unimportant"}},
          {"package": {"ecosystem": "PyPI", "name": "foo-bar"}, "versions": ["3.0"]}
        ]}"#;

    #[test]
    fn entries_group_by_package() {
        let record = parse_json(RECORD.as_bytes()).unwrap();
        let groups = package_entries(&record).unwrap();
        let keys: Vec<(&str, &str, &str)> = groups
            .iter()
            .map(|g| (g.ecosystem, g.ecosystem_base, g.name.as_str()))
            .collect();
        assert_eq!(
            keys,
            [("Debian:12", "Debian", "foo"), ("PyPI", "PyPI", "foo-bar")]
        );
        let debian: Vec<MatchEntry<'_>> = serde_json::from_str(&groups[0].entries).unwrap();
        assert_eq!(debian[0].index, 1);
        let status = debian[0].status.as_ref().map(|s| s.0);
        assert_eq!(status, Some(FindingStatus::NotAffected));
    }

    #[test]
    fn entries_keep_order_and_ranges() {
        let record = parse_json(RECORD.as_bytes()).unwrap();
        let groups = package_entries(&record).unwrap();
        let pypi: Vec<MatchEntry<'_>> = serde_json::from_str(&groups[1].entries).unwrap();
        let indexes: Vec<usize> = pypi.iter().map(|e| e.index).collect();
        assert_eq!(indexes, [0, 2]);
        let kinds: Vec<RangeKind> = pypi[0].ranges.iter().map(|r| r.kind).collect();
        assert_eq!(kinds, [RangeKind::Git, RangeKind::Ecosystem]);
        assert!(pypi[0].ranges[0].events.is_empty());
        assert_eq!(
            pypi[0].ranges[1].events,
            record.affected[0].ranges[1].events
        );
    }

    #[test]
    fn versions_borrow_unless_escaped() {
        let record = parse_json(RECORD.as_bytes()).unwrap();
        let groups = package_entries(&record).unwrap();
        let pypi: Vec<MatchEntry<'_>> = serde_json::from_str(&groups[1].entries).unwrap();
        let versions = &pypi[0].versions;
        assert_eq!(&*versions[0], "1.0");
        assert_eq!(&*versions[1], "1.\"5");
        assert!(matches!(versions[0].0, Cow::Borrowed(_)));
        assert!(matches!(versions[1].0, Cow::Owned(_)));
    }

    #[test]
    fn report_fields_keep_label() {
        let record = parse_json(RECORD.as_bytes()).unwrap();
        let fields = ReportFields::of(&record);
        assert_eq!(fields.aliases, ["CVE-2024-1"]);
        assert_eq!(fields.severity_label.as_deref(), Some("HIGH"));
        let text = serde_json::to_string(&fields).unwrap();
        assert!(!text.contains("long text"), "{text}");
        let back: ReportFields = serde_json::from_str(&text).unwrap();
        assert_eq!(back.modified, "2024-01-02T03:04:05Z");
    }
}
