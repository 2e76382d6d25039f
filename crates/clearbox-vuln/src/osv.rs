//! OSV records: serde types, parsing from JSON and YAML, and the checks an imported record must
//! pass.
//!
//! Implements the OSV schema 1.6 (<https://ossf.github.io/osv-schema/>). The types keep
//! `ecosystem` as a string, so records of ecosystems this crate does not match (or that did not
//! exist when it was written) still import. Free-form objects (`database_specific`,
//! `ecosystem_specific`, `credits`) stay `serde_json::Value`.
//!
//! Deliberately not checked: that packages and versions exist in their registries (the OSV
//! linter's `P0001`-style checks need the network), and the id prefix against the list of known
//! databases.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize};

/// One OSV advisory record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OsvRecord {
    /// `schema_version`, such as `1.6.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<String>,
    /// Advisory id, such as `PYSEC-2023-74` or `GO-2023-1751`.
    pub id: String,
    /// RFC 3339 time of the last change. Of two records with one id, the later one is
    /// authoritative.
    pub modified: String,
    /// RFC 3339 publication time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// RFC 3339 time the record was withdrawn; withdrawn records are not imported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    /// Ids of the same vulnerability in other databases.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub aliases: Vec<String>,
    /// Ids of related but different vulnerabilities.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub related: Vec<String>,
    /// Ids of upstream vulnerabilities this record includes.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub upstream: Vec<String>,
    /// One-line summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Description in CommonMark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Severity scores of the whole record.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub severity: Vec<SeverityScore>,
    /// Affected packages and versions.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub affected: Vec<Affected>,
    /// Links to advisories, fixes and reports.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub references: Vec<Reference>,
    /// Credits, kept as written.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub credits: Vec<serde_json::Value>,
    /// Database-defined fields; GitHub advisories put a `severity` label here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

/// A severity score: a CVSS vector or an ecosystem's own rating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityScore {
    /// `CVSS_V2`, `CVSS_V3`, `CVSS_V4` or `Ubuntu`; other values are kept and ignored.
    #[serde(rename = "type")]
    pub kind: String,
    /// The vector or rating.
    pub score: String,
}

/// One affected package with its affected versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    /// The package; absent in entries that only describe `GIT` ranges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<AffectedPackage>,
    /// Severity scores for this package only.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub severity: Vec<SeverityScore>,
    /// Affected version ranges.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ranges: Vec<Range>,
    /// Affected versions listed one by one.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub versions: Vec<String>,
    /// Ecosystem-defined fields, such as the Go symbols that are affected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem_specific: Option<serde_json::Value>,
    /// Database-defined fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

/// The package an [`Affected`] entry describes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedPackage {
    /// OSV ecosystem, with an optional release after `:` (`PyPI`, `Go`, `Debian:12`).
    pub ecosystem: String,
    /// Package name as the ecosystem defines it: a PyPI project, a Go module path, a Debian
    /// source package.
    pub name: String,
    /// Package URL without a version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

impl AffectedPackage {
    /// Returns the ecosystem without its release suffix: `Debian` for `Debian:12`.
    #[must_use]
    pub fn ecosystem_base(&self) -> &str {
        ecosystem_base(&self.ecosystem)
    }
}

/// Returns the ecosystem without its release suffix: `Debian` for `Debian:12`.
#[must_use]
pub fn ecosystem_base(ecosystem: &str) -> &str {
    ecosystem.split(':').next().unwrap_or(ecosystem)
}

/// A range of affected versions as a timeline of events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Range {
    /// How to order the versions in `events`.
    #[serde(rename = "type")]
    pub kind: RangeKind,
    /// Repository URL; required for `GIT` ranges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// The timeline, in any order.
    pub events: Vec<Event>,
    /// Database-defined fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

/// The ordering a [`Range`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RangeKind {
    /// SemVer 2.0.0 precedence, versions without a leading `v`.
    Semver,
    /// The ecosystem's own version ordering.
    Ecosystem,
    /// Git commits; needs the repository's history, so the matcher does not evaluate it.
    Git,
}

impl RangeKind {
    /// Returns the name the schema uses: `SEMVER`, `ECOSYSTEM`, `GIT`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            RangeKind::Semver => "SEMVER",
            RangeKind::Ecosystem => "ECOSYSTEM",
            RangeKind::Git => "GIT",
        }
    }
}

/// One point of a range's timeline. The schema allows exactly one key per event object, which
/// serde's externally tagged enums enforce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// The vulnerability starts at this version; `"0"` means before every version.
    Introduced(String),
    /// The first version without the vulnerability.
    Fixed(String),
    /// The last version with the vulnerability.
    LastAffected(String),
    /// An upper bound on the range; `"*"` means none.
    Limit(String),
}

impl Event {
    /// The event's version string.
    #[must_use]
    pub fn version(&self) -> &str {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
        }
    }

    /// Returns the key the schema uses: `introduced`, `fixed`, `last_affected`, `limit`.
    #[must_use]
    pub fn key(&self) -> &'static str {
        match self {
            Event::Introduced(_) => "introduced",
            Event::Fixed(_) => "fixed",
            Event::LastAffected(_) => "last_affected",
            Event::Limit(_) => "limit",
        }
    }
}

/// A link about the vulnerability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    /// `ADVISORY`, `ARTICLE`, `FIX`, `WEB` and so on.
    #[serde(rename = "type")]
    pub kind: String,
    /// The URL.
    pub url: String,
}

/// A problem with one field of a record: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldProblem {
    /// Field path such as `affected[0].ranges[1].events`; empty for the whole document.
    pub(crate) field: String,
    /// Description of the problem, in lowercase.
    pub(crate) message: String,
}

impl FieldProblem {
    fn new(field: impl Into<String>, message: impl Into<String>) -> FieldProblem {
        FieldProblem {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Parses a JSON document into a record; errors name the field path.
pub(crate) fn parse_json(bytes: &[u8]) -> Result<OsvRecord, FieldProblem> {
    let kind = match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => Some("an array"),
        Some(b'"') => Some("a string"),
        Some(b'0'..=b'9' | b'-') => Some("a number"),
        Some(b't' | b'f') => Some("a boolean"),
        Some(b'n') => Some("null"),
        _ => None,
    };
    if let Some(kind) = kind {
        return Err(FieldProblem::new(
            "",
            format!(
                "the file holds {kind}, not an OSV record; clearbox reads one record (a JSON \
                 object) per file, as osv.dev's all.zip stores them"
            ),
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let record: OsvRecord = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let message = e.inner().to_string();
        FieldProblem::new(field_of(e.path(), &message), message)
    })?;
    deserializer
        .end()
        .map_err(|e| FieldProblem::new("", e.to_string()))?;
    Ok(record)
}

/// Parses a YAML document into a record; errors name the field path.
///
/// Versions are read into `String` fields, so a plain scalar such as `1.10` keeps its text
/// instead of becoming the float `1.1`.
pub(crate) fn parse_yaml(bytes: &[u8]) -> Result<OsvRecord, FieldProblem> {
    let mut field = String::new();
    serde_saphyr::with_deserializer_from_slice(bytes, |deserializer| {
        serde_path_to_error::deserialize(deserializer).map_err(|e| {
            field = field_of(e.path(), &e.inner().to_string());
            e.into_inner()
        })
    })
    .map_err(|e| FieldProblem::new(field, first_line(&e.to_string())))
}

/// Names the field a serde error is about. For a missing field serde reports the path of the
/// object that lacks it, so the field's name is taken from the message and appended.
fn field_of(path: &serde_path_to_error::Path, message: &str) -> String {
    let mut field = path.to_string();
    if field == "." {
        field.clear();
    }
    if let Some(name) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        if !field.is_empty() {
            field.push('.');
        }
        field.push_str(name);
    }
    field
}

/// Returns the first line of a parser message, because serde-saphyr adds a source snippet on
/// later lines.
fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or_default().trim().to_owned()
}

/// Parses an RFC 3339 time and writes it in UTC with nine fractional digits, so that the text
/// order of two normalised times is their time order.
pub(crate) fn normalize_time(value: &str) -> Option<String> {
    let time = DateTime::parse_from_rfc3339(value).ok()?;
    Some(
        time.with_timezone(&Utc)
            .to_rfc3339_opts(SecondsFormat::Nanos, true),
    )
}

impl OsvRecord {
    /// Checks what the schema requires beyond types. Returns the problems that do not stop the
    /// record from being used (warnings), or the first one that does.
    ///
    /// Rejected:
    /// - an empty `id`;
    /// - a `modified`, `published` or `withdrawn` time that is not RFC 3339;
    /// - a package with an empty `ecosystem` or `name`;
    /// - a range without events, without an `introduced` event, or with both `fixed` and
    ///   `last_affected`, and a `GIT` range without `repo`;
    /// - an empty version in an event or in `versions`.
    ///
    /// Warned about: a range whose events repeat a version (the OSV linter's "distinct" rule),
    /// because the order of two events at one version changes the result; see the matcher's
    /// tie rule.
    pub(crate) fn validate(&self) -> Result<Checked, FieldProblem> {
        if self.id.trim().is_empty() {
            return Err(FieldProblem::new("id", "empty"));
        }
        let Some(modified) = normalize_time(&self.modified) else {
            return Err(FieldProblem::new(
                "modified",
                format!("`{}` is not an RFC 3339 time", self.modified),
            ));
        };
        for (name, value) in [
            ("published", &self.published),
            ("withdrawn", &self.withdrawn),
        ] {
            if let Some(value) = value
                && normalize_time(value).is_none()
            {
                return Err(FieldProblem::new(
                    name,
                    format!("`{value}` is not an RFC 3339 time"),
                ));
            }
        }
        let mut warnings = Vec::new();
        unscored_vectors("severity", &self.severity, &mut warnings);
        for (i, affected) in self.affected.iter().enumerate() {
            validate_affected(&format!("affected[{i}]"), affected, &mut warnings)?;
            unscored_vectors(
                &format!("affected[{i}].severity"),
                &affected.severity,
                &mut warnings,
            );
        }
        Ok(Checked { modified, warnings })
    }
}

/// Warns about CVSS vectors that cannot be scored: the severity then falls back to the record's
/// label or becomes unknown, which a reader should not take for a low one.
fn unscored_vectors(field: &str, scores: &[SeverityScore], warnings: &mut Vec<FieldProblem>) {
    for (i, score) in scores.iter().enumerate() {
        if score.kind.starts_with("CVSS_") && crate::severity::score_cvss(&score.score).is_none() {
            warnings.push(FieldProblem::new(
                format!("{field}[{i}].score"),
                format!(
                    "`{}` is not a complete CVSS vector; it is ignored for the severity",
                    score.score.chars().take(120).collect::<String>()
                ),
            ));
        }
    }
}

/// Result of [`OsvRecord::validate`] for a record that may be stored.
#[derive(Debug)]
pub(crate) struct Checked {
    /// `modified` normalised with [`normalize_time`].
    pub(crate) modified: String,
    /// Problems that do not stop the record from being used.
    pub(crate) warnings: Vec<FieldProblem>,
}

fn validate_affected(
    field: &str,
    affected: &Affected,
    warnings: &mut Vec<FieldProblem>,
) -> Result<(), FieldProblem> {
    if let Some(package) = &affected.package {
        if package.ecosystem.trim().is_empty() {
            return Err(FieldProblem::new(
                format!("{field}.package.ecosystem"),
                "empty",
            ));
        }
        if package.name.trim().is_empty() {
            return Err(FieldProblem::new(format!("{field}.package.name"), "empty"));
        }
    }
    if let Some(i) = affected.versions.iter().position(String::is_empty) {
        return Err(FieldProblem::new(
            format!("{field}.versions[{i}]"),
            "empty version",
        ));
    }
    let ecosystem = affected.package.as_ref().map(|p| p.ecosystem.as_str());
    for (i, range) in affected.ranges.iter().enumerate() {
        let field = format!("{field}.ranges[{i}]");
        validate_range(&field, range)?;
        unparsable_versions(&field, range, ecosystem, warnings);
        if has_repeated_version(range) {
            warnings.push(FieldProblem::new(
                format!("{field}.events"),
                "two events name the same version",
            ));
        }
    }
    Ok(())
}

/// Warns about event versions the range's scheme cannot parse: the matcher skips such a range
/// (and says so), so the record is stored but that range never matches.
fn unparsable_versions(
    field: &str,
    range: &Range,
    ecosystem: Option<&str>,
    warnings: &mut Vec<FieldProblem>,
) {
    let scheme = match range.kind {
        RangeKind::Git => return,
        RangeKind::Semver => clearbox_version::Scheme::Semver,
        RangeKind::Ecosystem => match ecosystem.and_then(clearbox_version::Scheme::for_ecosystem) {
            Some(scheme) => scheme,
            None => return,
        },
    };
    for (j, event) in range.events.iter().enumerate() {
        let version = event.version();
        let special = matches!(
            (event, version),
            (Event::Introduced(_), "0") | (Event::Limit(_), "*")
        );
        if special {
            continue;
        }
        if let Err(e) = scheme.parse(&crate::matcher::spell(scheme, version)) {
            warnings.push(FieldProblem::new(
                format!("{field}.events[{j}].{}", event.key()),
                format!("{e}; matching skips this range"),
            ));
        }
    }
}

fn validate_range(field: &str, range: &Range) -> Result<(), FieldProblem> {
    let events_field = format!("{field}.events");
    if range.kind == RangeKind::Git && range.repo.as_ref().is_none_or(String::is_empty) {
        return Err(FieldProblem::new(
            format!("{field}.repo"),
            "missing; a GIT range needs the repository URL",
        ));
    }
    if range.events.is_empty() {
        return Err(FieldProblem::new(events_field, "empty"));
    }
    if !range
        .events
        .iter()
        .any(|e| matches!(e, Event::Introduced(_)))
    {
        return Err(FieldProblem::new(
            events_field,
            "no `introduced` event; the schema requires at least one",
        ));
    }
    let has_fixed = range.events.iter().any(|e| matches!(e, Event::Fixed(_)));
    let has_last = range
        .events
        .iter()
        .any(|e| matches!(e, Event::LastAffected(_)));
    if has_fixed && has_last {
        return Err(FieldProblem::new(
            events_field,
            "both `fixed` and `last_affected` events; the schema allows only one of them",
        ));
    }
    if let Some(i) = range.events.iter().position(|e| e.version().is_empty()) {
        return Err(FieldProblem::new(
            format!("{field}.events[{i}]"),
            "empty version",
        ));
    }
    Ok(())
}

fn has_repeated_version(range: &Range) -> bool {
    let mut seen = std::collections::HashSet::new();
    range.events.iter().any(|e| !seen.insert(e.version()))
}

/// Deserializes `null` as the type's default, as some feeds write `"aliases": null`.
fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Result<OsvRecord, FieldProblem> {
        parse_json(text.as_bytes())
    }

    const MINIMAL: &str = r#"{"id":"X-1","modified":"2024-01-02T03:04:05Z"}"#;

    #[test]
    fn minimal_record_parses() {
        let record = json(MINIMAL).unwrap();
        assert_eq!(record.id, "X-1");
        assert!(record.affected.is_empty());
        assert_eq!(record.validate().unwrap().warnings, Vec::new());
    }

    #[test]
    fn non_object_document_named() {
        let array = format!("  [{MINIMAL}]");
        let cases = [
            (array.as_str(), "an array"),
            ("\"X-1\"", "a string"),
            ("42", "a number"),
            ("null", "null"),
        ];
        for (text, kind) in cases {
            let err = json(text).unwrap_err();
            assert_eq!(
                err.message,
                format!(
                    "the file holds {kind}, not an OSV record; clearbox reads one record (a JSON \
                     object) per file, as osv.dev's all.zip stores them"
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn missing_modified_names_field() {
        let err = json(r#"{"id":"X-1"}"#).unwrap_err();
        assert!(err.message.contains("missing field `modified`"), "{err:?}");
        assert_eq!(err.field, "modified");
        let nested = r#"{"id":"X","modified":"2024-01-02T03:04:05Z","affected":[{"package":
            {"ecosystem":"PyPI"}}]}"#;
        assert_eq!(json(nested).unwrap_err().field, "affected[0].package.name");
    }

    #[test]
    fn event_with_two_keys_is_rejected() {
        let text = r#"{"id":"X","modified":"2024-01-02T03:04:05Z","affected":[{"ranges":[
            {"type":"SEMVER","events":[{"introduced":"0","fixed":"1.0.2"}]}]}]}"#;
        let err = json(text).unwrap_err();
        assert_eq!(err.field, "affected[0].ranges[0].events[0]");
    }

    #[test]
    fn unknown_range_type_names_field() {
        let text = r#"{"id":"X","modified":"2024-01-02T03:04:05Z","affected":[{"ranges":[
            {"type":"CALVER","events":[{"introduced":"0"}]}]}]}"#;
        let err = json(text).unwrap_err();
        assert_eq!(err.field, "affected[0].ranges[0].type");
        assert!(err.message.contains("CALVER"), "{err:?}");
    }

    #[test]
    fn null_lists_read_as_empty() {
        let text = r#"{"id":"X","modified":"2024-01-02T03:04:05Z","aliases":null}"#;
        assert!(json(text).unwrap().aliases.is_empty());
    }

    #[test]
    fn yaml_plain_scalars_keep_text() {
        let text = "id: X\nmodified: '2024-01-02T03:04:05Z'\naffected:\n- package:\n    \
                    name: a\n    ecosystem: PyPI\n  versions:\n  - 1.10\n  ranges:\n  - type: \
                    ECOSYSTEM\n    events:\n    - introduced: 0\n    - fixed: 1.20\n";
        let record = parse_yaml(text.as_bytes()).unwrap();
        assert_eq!(record.affected[0].versions, ["1.10"]);
        let events = &record.affected[0].ranges[0].events;
        assert_eq!(events[0], Event::Introduced("0".into()));
        assert_eq!(events[1], Event::Fixed("1.20".into()));
    }

    #[test]
    fn yaml_error_names_field() {
        let text = "id: X\nmodified: '2024-01-02T03:04:05Z'\naffected:\n- ranges:\n  - type: \
                    SEMVER\n    events:\n    - fixd: 1.0\n";
        let err = parse_yaml(text.as_bytes()).unwrap_err();
        assert_eq!(err.field, "affected[0].ranges[0].events[0]");
        assert!(!err.message.contains('\n'));
    }

    #[test]
    fn validate_rejects_range_without_introduced() {
        let text = r#"{"id":"X","modified":"2024-01-02T03:04:05Z","affected":[{"ranges":[
            {"type":"GIT","repo":"r","events":[{"fixed":"a"}]}]}]}"#;
        let err = json(text).unwrap().validate().unwrap_err();
        assert_eq!(err.field, "affected[0].ranges[0].events");
    }

    #[test]
    fn validate_rejects_fixed_with_last_affected() {
        let text = r#"{"id":"X","modified":"2024-01-02T03:04:05Z","affected":[{"ranges":[
            {"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"2"},{"last_affected":"1"}]}
            ]}]}"#;
        let err = json(text).unwrap().validate().unwrap_err();
        assert!(err.message.contains("last_affected"), "{err:?}");
    }

    #[test]
    fn validate_rejects_bad_time() {
        let text = r#"{"id":"X","modified":"yesterday"}"#;
        assert_eq!(
            json(text).unwrap().validate().unwrap_err().field,
            "modified"
        );
    }

    #[test]
    fn validate_warns_on_repeated_version() {
        let text = r#"{"id":"X","modified":"2024-01-02T03:04:05Z","affected":[{"ranges":[
            {"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1"},{"introduced":"1"}]}
            ]}]}"#;
        let warnings = json(text).unwrap().validate().unwrap().warnings;
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].field, "affected[0].ranges[0].events");
    }

    #[test]
    fn normalized_times_sort_as_text() {
        let a = normalize_time("2024-01-02T03:04:05Z").unwrap();
        let b = normalize_time("2024-01-02T03:04:05.5Z").unwrap();
        let c = normalize_time("2024-01-02T05:04:05+01:00").unwrap();
        assert!(a < b);
        assert!(b < c);
        assert_eq!(a, "2024-01-02T03:04:05.000000000Z");
    }
}
