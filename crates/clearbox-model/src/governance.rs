//! Governance metadata of a model and its OCI annotations.
//!
//! | card field | annotation key (default prefixes) |
//! |---|---|
//! | `name` | `org.opencontainers.image.title` |
//! | `version` | `org.opencontainers.image.version` |
//! | `description` | `org.opencontainers.image.description` |
//! | `license` | `org.opencontainers.image.licenses` |
//! | (the image config's `created`) | `org.opencontainers.image.created` |
//! | `trained_date` | `dev.clearbox.model.trained-date` |
//! | `training_data_version` | `dev.clearbox.model.training-data-version` |
//! | `bias_scan.status` | `dev.clearbox.model.bias-scan.status` |
//! | `bias_scan.date` | `dev.clearbox.model.bias-scan.date` |
//! | `baseline_accuracy` | `dev.clearbox.model.baseline-accuracy` |
//! | `drift_threshold` | `dev.clearbox.model.drift-threshold` |
//! | `patch_sla_days` | `dev.clearbox.model.patch-sla-days` |
//! | `approvers` | `dev.clearbox.model.approvers`, joined with `, ` |
//!
//! The standard keys are those of the OCI image specification's pre-defined annotations
//! (`annotations.md`); both prefixes can be changed with [`AnnotationKeys::new`]. Reading the
//! annotations back ([`read_governance`]) applies the card's validation to their values.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::card::{FieldProblem, validate_card};

/// Default prefix of the standard keys (`title`, `version`, `created`, …).
pub const STANDARD_PREFIX: &str = "org.opencontainers.image.";
/// Default prefix of the model keys.
pub const MODEL_PREFIX: &str = "dev.clearbox.model.";

/// The result of a model's bias scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BiasScanStatus {
    /// The scan ran and found no bias beyond the accepted limits.
    Passed,
    /// The scan ran and found bias beyond the accepted limits.
    Failed,
    /// The scan ran, found bias, and someone accepted the risk.
    Waived,
    /// No scan ran.
    NotRun,
}

impl BiasScanStatus {
    /// The names a card uses, in the order of the variants.
    pub const NAMES: [&'static str; 4] = ["passed", "failed", "waived", "not-run"];

    /// Returns the name a card and an annotation use.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            BiasScanStatus::Passed => "passed",
            BiasScanStatus::Failed => "failed",
            BiasScanStatus::Waived => "waived",
            BiasScanStatus::NotRun => "not-run",
        }
    }

    /// Parses a name; `None` for anything else.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        [
            BiasScanStatus::Passed,
            BiasScanStatus::Failed,
            BiasScanStatus::Waived,
            BiasScanStatus::NotRun,
        ]
        .into_iter()
        .find(|status| status.name() == name)
    }
}

/// When a bias scan ran and what it found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BiasScan {
    /// The result.
    pub status: BiasScanStatus,
    /// The day it ran; `None` only when it did not run.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "optional_date_text"
    )]
    pub date: Option<NaiveDate>,
}

/// Validated governance metadata of one model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Governance {
    /// The model's name.
    pub name: String,
    /// The model's version.
    pub version: String,
    /// A one-paragraph description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The model's licence, ideally an SPDX expression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// The day training finished.
    #[serde(serialize_with = "date_text")]
    pub trained_date: NaiveDate,
    /// The version of the training data set.
    pub training_data_version: String,
    /// The bias scan.
    pub bias_scan: BiasScan,
    /// Accuracy measured at release, from 0 to 1.
    pub baseline_accuracy: f64,
    /// The drop in accuracy, as a fraction above 0 and at most 1, that counts as drift.
    pub drift_threshold: f64,
    /// Days allowed to patch a vulnerability in the model's image.
    pub patch_sla_days: u32,
    /// The people who approved the release.
    pub approvers: Vec<String>,
}

/// Writes a date as RFC 3339 `YYYY-MM-DD`.
#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's serialize_with passes a reference to the field"
)]
fn date_text<S: serde::Serializer>(date: &NaiveDate, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(date)
}

#[allow(
    clippy::ref_option,
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's serialize_with passes a reference to the field"
)]
fn optional_date_text<S: serde::Serializer>(
    date: &Option<NaiveDate>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match date {
        Some(date) => serializer.collect_str(date),
        None => serializer.serialize_none(),
    }
}

/// The prefixes of the annotation keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnotationKeys {
    standard: String,
    model: String,
}

impl Default for AnnotationKeys {
    /// `org.opencontainers.image.` and `dev.clearbox.model.`.
    fn default() -> Self {
        AnnotationKeys {
            standard: STANDARD_PREFIX.to_owned(),
            model: MODEL_PREFIX.to_owned(),
        }
    }
}

/// The card field, the key suffix and the prefix kind of every annotation, in writing order.
/// `created` has no card field: it comes from the image config.
const KEYS: [(&str, &str, Prefix); 13] = [
    ("name", "title", Prefix::Standard),
    ("version", "version", Prefix::Standard),
    ("description", "description", Prefix::Standard),
    ("license", "licenses", Prefix::Standard),
    ("", "created", Prefix::Standard),
    ("trained_date", "trained-date", Prefix::Model),
    (
        "training_data_version",
        "training-data-version",
        Prefix::Model,
    ),
    ("bias_scan.status", "bias-scan.status", Prefix::Model),
    ("bias_scan.date", "bias-scan.date", Prefix::Model),
    ("baseline_accuracy", "baseline-accuracy", Prefix::Model),
    ("drift_threshold", "drift-threshold", Prefix::Model),
    ("patch_sla_days", "patch-sla-days", Prefix::Model),
    ("approvers", "approvers", Prefix::Model),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prefix {
    Standard,
    Model,
}

impl AnnotationKeys {
    /// Prefixes for the standard and the model keys. Each must be ASCII letters, digits, `.`,
    /// `-`, `_` and `/`, and end with `.` or `/`, as in `com.example.model.`.
    pub fn new(standard: &str, model: &str) -> Result<Self, String> {
        for (flag, prefix) in [("--prefix", standard), ("--model-prefix", model)] {
            let allowed = |c: char| c.is_ascii_alphanumeric() || ".-_/".contains(c);
            if prefix.is_empty() || !prefix.chars().all(allowed) {
                return Err(format!(
                    "invalid {flag} `{prefix}`: use ASCII letters, digits, `.`, `-`, `_` and `/`, \
                     in reverse domain notation such as `com.example.model.`"
                ));
            }
            if !prefix.ends_with(['.', '/']) {
                return Err(format!(
                    "invalid {flag} `{prefix}`: it must end with `.` or `/`, such as `{prefix}.`"
                ));
            }
        }
        if standard == model {
            return Err(format!(
                "--prefix and --model-prefix are both `{standard}`; the model keys need their own \
                 prefix so that `version` and `title` cannot collide"
            ));
        }
        Ok(AnnotationKeys {
            standard: standard.to_owned(),
            model: model.to_owned(),
        })
    }

    /// Returns the prefix of the standard keys.
    #[must_use]
    pub fn standard_prefix(&self) -> &str {
        &self.standard
    }

    /// Returns the prefix of the model keys.
    #[must_use]
    pub fn model_prefix(&self) -> &str {
        &self.model
    }

    fn key(&self, suffix: &str, prefix: Prefix) -> String {
        match prefix {
            Prefix::Standard => format!("{}{suffix}", self.standard),
            Prefix::Model => format!("{}{suffix}", self.model),
        }
    }

    /// Returns every key these prefixes give, in writing order.
    #[must_use]
    pub fn all(&self) -> Vec<String> {
        KEYS.iter()
            .map(|(_, suffix, prefix)| self.key(suffix, *prefix))
            .collect()
    }
}

impl Governance {
    /// Builds the annotations that record this metadata, with `created` (the image config's creation
    /// time) when given. Optional fields that are absent give no annotation.
    #[must_use]
    pub fn to_annotations(
        &self,
        keys: &AnnotationKeys,
        created: Option<&str>,
    ) -> BTreeMap<String, String> {
        let mut values: BTreeMap<&str, String> = BTreeMap::new();
        values.insert("name", self.name.clone());
        values.insert("version", self.version.clone());
        if let Some(description) = &self.description {
            values.insert("description", description.clone());
        }
        if let Some(license) = &self.license {
            values.insert("license", license.clone());
        }
        if let Some(created) = created {
            values.insert("", created.to_owned());
        }
        values.insert("trained_date", self.trained_date.to_string());
        values.insert("training_data_version", self.training_data_version.clone());
        values.insert("bias_scan.status", self.bias_scan.status.name().to_owned());
        if let Some(date) = self.bias_scan.date {
            values.insert("bias_scan.date", date.to_string());
        }
        values.insert("baseline_accuracy", self.baseline_accuracy.to_string());
        values.insert("drift_threshold", self.drift_threshold.to_string());
        values.insert("patch_sla_days", self.patch_sla_days.to_string());
        values.insert("approvers", self.approvers.join(", "));
        KEYS.iter()
            .filter_map(|(field, suffix, prefix)| {
                let value = values.remove(field)?;
                Some((keys.key(suffix, *prefix), value))
            })
            .collect()
    }
}

/// Governance metadata read back from a manifest's annotations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GovernanceRecord {
    /// The annotations with a governance key, as stored.
    pub annotations: BTreeMap<String, String>,
    /// The metadata, when the annotations hold a valid set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Governance>,
    /// The image's creation time as the `created` annotation states it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The reasons the annotations are not a valid set, each naming its annotation key.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

impl GovernanceRecord {
    /// Converts the record to JSON.
    #[must_use]
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_else(|error| json!({"error": error.to_string()}))
    }
}

/// Reads the governance annotations of a manifest; `None` when it has no model key (so no
/// `clearbox annotate` ran with these prefixes). Standard keys alone do not count, because
/// images carry `title` and `version` for other reasons.
#[must_use]
pub fn read_governance(
    annotations: &BTreeMap<String, String>,
    keys: &AnnotationKeys,
) -> Option<GovernanceRecord> {
    let has_model_key = annotations.keys().any(|k| k.starts_with(&keys.model));
    if !has_model_key {
        return None;
    }

    // Rebuild a card from the annotations, so the card's checks apply to their values.
    let mut card = Map::new();
    let mut found = BTreeMap::new();
    let mut created = None;
    for (field, suffix, prefix) in KEYS {
        let key = keys.key(suffix, prefix);
        let Some(value) = annotations.get(&key) else {
            continue;
        };
        found.insert(key.clone(), value.clone());
        if field.is_empty() {
            created = Some(value.clone());
            continue;
        }
        insert_card_field(&mut card, field, value);
    }
    let mut problems = Vec::new();
    let fields = match validate_card(&Value::Object(card)) {
        Ok(governance) => Some(governance),
        Err(found_problems) => {
            problems = found_problems
                .iter()
                .map(|p| describe_problem(p, keys))
                .collect();
            None
        }
    };
    Some(GovernanceRecord {
        annotations: found,
        fields,
        created,
        problems,
    })
}

/// Puts an annotation value into the card field it came from, converting numbers and lists.
fn insert_card_field(card: &mut Map<String, Value>, field: &str, value: &str) {
    let converted = match field {
        "baseline_accuracy" | "drift_threshold" | "patch_sla_days" => value
            .parse::<serde_json::Number>()
            .map_or_else(|_| Value::String(value.to_owned()), Value::Number),
        "approvers" => Value::Array(
            value
                .split(',')
                .map(|a| Value::String(a.trim().to_owned()))
                .collect(),
        ),
        _ => Value::String(value.to_owned()),
    };
    match field.split_once('.') {
        Some((parent, child)) => {
            let entry = card
                .entry(parent)
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(object) = entry.as_object_mut() {
                object.insert(child.to_owned(), converted);
            }
        }
        None => {
            card.insert(field.to_owned(), converted);
        }
    }
}

/// Restates a card problem for annotations, naming the annotation key instead of the card field.
fn describe_problem(problem: &FieldProblem, keys: &AnnotationKeys) -> String {
    let top = problem
        .field
        .split(['.', '['])
        .next()
        .unwrap_or(&problem.field);
    let key = KEYS
        .iter()
        .find(|(field, _, _)| *field == problem.field)
        .or_else(|| {
            KEYS.iter()
                .find(|(field, _, _)| field.split('.').next() == Some(top))
        })
        .map(|(_, suffix, prefix)| keys.key(suffix, *prefix));
    match key {
        Some(key) if problem.message.starts_with("missing") => {
            format!("`{key}`: missing; annotate the image with a complete model card")
        }
        Some(key) => format!("`{key}` ({}): {}", problem.field, problem.message),
        None => problem.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn governance() -> Governance {
        crate::card::validate_card(&json!({
            "name": "all-MiniLM-L6-v2",
            "version": "1.0.0",
            "trained_date": "2021-08-30",
            "training_data_version": "pairs-2021-08",
            "bias_scan": {"status": "passed", "date": "2024-05-01"},
            "baseline_accuracy": 0.842,
            "drift_threshold": 0.05,
            "patch_sla_days": 30,
            "approvers": ["alice@example.com", "Bob Example"]
        }))
        .unwrap()
    }

    #[test]
    fn annotations_with_default_prefixes() {
        let annotations =
            governance().to_annotations(&AnnotationKeys::default(), Some("2025-01-01T00:00:00Z"));
        let expected: BTreeMap<String, String> = [
            ("org.opencontainers.image.title", "all-MiniLM-L6-v2"),
            ("org.opencontainers.image.version", "1.0.0"),
            ("org.opencontainers.image.created", "2025-01-01T00:00:00Z"),
            ("dev.clearbox.model.trained-date", "2021-08-30"),
            ("dev.clearbox.model.training-data-version", "pairs-2021-08"),
            ("dev.clearbox.model.bias-scan.status", "passed"),
            ("dev.clearbox.model.bias-scan.date", "2024-05-01"),
            ("dev.clearbox.model.baseline-accuracy", "0.842"),
            ("dev.clearbox.model.drift-threshold", "0.05"),
            ("dev.clearbox.model.patch-sla-days", "30"),
            (
                "dev.clearbox.model.approvers",
                "alice@example.com, Bob Example",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(annotations, expected);
    }

    #[test]
    fn annotations_read_back() {
        let keys = AnnotationKeys::new("com.acme.", "com.acme.model/").unwrap();
        let annotations = governance().to_annotations(&keys, None);
        assert!(annotations.contains_key("com.acme.model/bias-scan.status"));
        let record = read_governance(&annotations, &keys).unwrap();
        assert_eq!(record.fields, Some(governance()));
        assert!(record.problems.is_empty());
        assert_eq!(record.annotations, annotations);
        // Other prefixes see nothing.
        assert_eq!(
            read_governance(&annotations, &AnnotationKeys::default()),
            None
        );
    }

    #[test]
    fn bad_annotation_is_named_by_key() {
        let keys = AnnotationKeys::default();
        let mut annotations = governance().to_annotations(&keys, None);
        annotations.insert(
            "dev.clearbox.model.baseline-accuracy".to_owned(),
            "high".to_owned(),
        );
        annotations.remove("dev.clearbox.model.approvers");
        let record = read_governance(&annotations, &keys).unwrap();
        assert_eq!(record.fields, None);
        assert_eq!(
            record.problems,
            [
                "`dev.clearbox.model.baseline-accuracy` (baseline_accuracy): expected a number from 0 to 1, such as 0.92, found the text `high`",
                "`dev.clearbox.model.approvers`: missing; annotate the image with a complete model card",
            ]
        );
    }

    #[test]
    fn prefixes_are_checked() {
        assert!(AnnotationKeys::new("org.opencontainers.image.", "dev.clearbox.model.").is_ok());
        assert_eq!(
            AnnotationKeys::new("com.acme", "dev.clearbox.model.").unwrap_err(),
            "invalid --prefix `com.acme`: it must end with `.` or `/`, such as `com.acme.`"
        );
        assert!(
            AnnotationKeys::new("org.opencontainers.image.", "dev clearbox.")
                .unwrap_err()
                .starts_with("invalid --model-prefix `dev clearbox.`")
        );
        assert!(AnnotationKeys::new("a.", "a.").is_err());
    }
}
