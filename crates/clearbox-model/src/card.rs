//! The model card file that `clearbox annotate` reads: YAML or JSON, validated field by field
//! into [`Governance`]. `docs/model-governance.md` documents the fields and
//! `docs/model-card.schema.json` is their JSON Schema.
//!
//! The document is read into a JSON value first and each field checked by hand. So every
//! problem is reported at once with the field's name, and YAML's unquoted numbers
//! (`version: 1.10` is the number 1.1) get a message that asks to quote them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::governance::{BiasScan, BiasScanStatus, Governance};

/// Largest model card read: 1 MiB. A card is a few hundred bytes.
pub const MAX_CARD_BYTES: u64 = 1 << 20;

/// Maximum length of a text field, in characters. Annotation values have no limit of their own, but a
/// registry accepts manifests of at most 4 MiB.
const MAX_TEXT_CHARS: usize = 4096;

/// Largest patch SLA: ten years, in days.
const MAX_PATCH_SLA_DAYS: u64 = 3650;

/// The fields a card may have, in the order the documentation lists them.
const FIELDS: [&str; 11] = [
    "name",
    "version",
    "description",
    "license",
    "trained_date",
    "training_data_version",
    "bias_scan",
    "baseline_accuracy",
    "drift_threshold",
    "patch_sla_days",
    "approvers",
];

/// One problem with one field of a card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// The field, such as `bias_scan.date` or `approvers[1]`.
    pub field: String,
    /// The problem, and what to write instead.
    pub message: String,
}

impl std::fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}`: {}", self.field, self.message)
    }
}

/// A model card that could not be read or is invalid.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CardError {
    /// The file could not be read.
    #[error("failed to read the model card `{}`", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not YAML or JSON.
    #[error("the model card `{}` is not valid {format}: {reason}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// `YAML` or `JSON`.
        format: &'static str,
        /// The parser's message.
        reason: String,
    },
    /// Fields are missing or have invalid values.
    #[error(
        "the model card `{}` is invalid: {}",
        path.display(),
        problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem found.
        problems: Vec<FieldProblem>,
    },
}

/// Reads and validates the model card at `path`: JSON when its name ends in `.json`, else YAML.
pub fn read_card(path: &Path) -> Result<Governance, CardError> {
    let bytes = clearbox_oci::read_regular_file(path, MAX_CARD_BYTES).map_err(|source| {
        CardError::Read {
            path: path.to_owned(),
            source,
        }
    })?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let document = if is_json {
        serde_json::from_slice::<Value>(&bytes).map_err(|e| CardError::Syntax {
            path: path.to_owned(),
            format: "JSON",
            reason: e.to_string(),
        })?
    } else {
        serde_saphyr::from_slice::<Value>(&bytes).map_err(|e| CardError::Syntax {
            path: path.to_owned(),
            format: "YAML",
            reason: e.to_string(),
        })?
    };
    validate_card(&document).map_err(|problems| CardError::Invalid {
        path: path.to_owned(),
        problems,
    })
}

/// Validates a card already parsed into JSON; returns every problem when it is invalid.
pub fn validate_card(document: &Value) -> Result<Governance, Vec<FieldProblem>> {
    let Some(object) = document.as_object() else {
        return Err(vec![FieldProblem {
            field: "(document)".to_owned(),
            message: format!("expected a mapping of fields, found {}", describe(document)),
        }]);
    };
    let mut card = Fields {
        object,
        problems: Vec::new(),
    };

    // Unknown fields, which are most often typing mistakes.
    let known: BTreeSet<&str> = FIELDS.into_iter().collect();
    for key in object.keys().filter(|k| !known.contains(k.as_str())) {
        card.problem(
            key,
            format!("unknown field; the fields are {}", FIELDS.join(", ")),
        );
    }

    let name = card.text("name", true);
    let version = card.text("version", true);
    let description = card.text("description", false);
    let license = card.text("license", false);
    let trained_date = card.date("trained_date");
    let training_data_version = card.text("training_data_version", true);
    let bias_scan = card.bias_scan(trained_date);
    let baseline_accuracy = card.fraction("baseline_accuracy", true);
    let drift_threshold = card.fraction("drift_threshold", false);
    let patch_sla_days = card.patch_sla();
    let approvers = card.approvers();

    match (
        name,
        version,
        trained_date,
        training_data_version,
        bias_scan,
        baseline_accuracy,
        drift_threshold,
        patch_sla_days,
        approvers,
    ) {
        (
            Some(name),
            Some(version),
            Some(trained_date),
            Some(training_data_version),
            Some(bias_scan),
            Some(baseline_accuracy),
            Some(drift_threshold),
            Some(patch_sla_days),
            Some(approvers),
        ) if card.problems.is_empty() => Ok(Governance {
            name,
            version,
            description,
            license,
            trained_date,
            training_data_version,
            bias_scan,
            baseline_accuracy,
            drift_threshold,
            patch_sla_days,
            approvers,
        }),
        _ => Err(card.problems),
    }
}

/// The card's fields and the problems found so far.
struct Fields<'a> {
    object: &'a Map<String, Value>,
    problems: Vec<FieldProblem>,
}

impl Fields<'_> {
    fn problem(&mut self, field: &str, message: String) {
        self.problems.push(FieldProblem {
            field: field.to_owned(),
            message,
        });
    }

    /// Returns a field's value, and records a problem when a required one is missing or null.
    fn value(&mut self, field: &str, required: bool) -> Option<&Value> {
        match self.object.get(field) {
            Some(Value::Null) | None => {
                if required {
                    self.problem(field, "missing; this field is required".to_owned());
                }
                None
            }
            Some(_) => self.object.get(field),
        }
    }

    /// Reads a text field: a non-empty string without control characters.
    fn text(&mut self, field: &str, required: bool) -> Option<String> {
        let value = self.value(field, required)?.clone();
        let result = check_text(&value);
        self.keep(field, result)
    }

    fn keep<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.problem(field, message);
                None
            }
        }
    }

    /// Reads a required RFC 3339 full-date.
    fn date(&mut self, field: &str) -> Option<NaiveDate> {
        let value = self.value(field, true)?.clone();
        let result = check_date(&value);
        self.keep(field, result)
    }

    /// Reads a number from 0 to 1: inclusive for an accuracy, above 0 for a threshold.
    fn fraction(&mut self, field: &str, zero_allowed: bool) -> Option<f64> {
        let value = self.value(field, true)?.clone();
        let result = check_fraction(&value, zero_allowed);
        self.keep(field, result)
    }

    fn patch_sla(&mut self) -> Option<u32> {
        let field = "patch_sla_days";
        let value = self.value(field, true)?.clone();
        let result = match value.as_u64() {
            Some(days) if (1..=MAX_PATCH_SLA_DAYS).contains(&days) => Ok(days as u32),
            Some(days) => Err(format!(
                "{days} is out of range; give the days allowed to patch a vulnerability, from 1 \
                 to {MAX_PATCH_SLA_DAYS}"
            )),
            None => Err(format!(
                "expected a whole number of days, such as 30, found {}",
                describe(&value)
            )),
        };
        self.keep(field, result)
    }

    fn bias_scan(&mut self, trained: Option<NaiveDate>) -> Option<BiasScan> {
        let value = self.value("bias_scan", true)?.clone();
        let Some(scan) = value.as_object() else {
            self.problem(
                "bias_scan",
                format!(
                    "expected a mapping with `status` and `date`, found {}",
                    describe(&value)
                ),
            );
            return None;
        };
        for key in scan
            .keys()
            .filter(|k| !["status", "date"].contains(&k.as_str()))
        {
            self.problem(
                &format!("bias_scan.{key}"),
                "unknown field; the fields are status, date".to_owned(),
            );
        }

        // The status, then the date, which `not-run` may leave out.
        let status = match scan.get("status") {
            None | Some(Value::Null) => {
                self.problem(
                    "bias_scan.status",
                    "missing; this field is required".to_owned(),
                );
                None
            }
            Some(status) => {
                let result = status
                    .as_str()
                    .and_then(BiasScanStatus::parse)
                    .ok_or_else(|| {
                        format!(
                            "{} is not a status; use one of {}",
                            describe(status),
                            BiasScanStatus::NAMES.join(", ")
                        )
                    });
                self.keep("bias_scan.status", result)
            }
        };
        let date = match scan.get("date") {
            None | Some(Value::Null) => {
                if status.is_some_and(|s| s != BiasScanStatus::NotRun) {
                    self.problem(
                        "bias_scan.date",
                        "missing; a scan that ran needs the date it ran".to_owned(),
                    );
                }
                None
            }
            Some(date) => {
                let result = check_date(date);
                self.keep("bias_scan.date", result)
            }
        };
        if let (Some(date), Some(trained)) = (date, trained)
            && date < trained
        {
            self.problem(
                "bias_scan.date",
                format!(
                    "{date} is before `trained_date` {trained}; a scan examines a trained model"
                ),
            );
            return None;
        }
        Some(BiasScan {
            status: status?,
            date,
        })
    }

    fn approvers(&mut self) -> Option<Vec<String>> {
        let field = "approvers";
        let value = self.value(field, true)?.clone();
        let Some(list) = value.as_array() else {
            self.problem(
                field,
                format!(
                    "expected a list of names or e-mail addresses, found {}",
                    describe(&value)
                ),
            );
            return None;
        };
        if list.is_empty() {
            self.problem(
                field,
                "the list is empty; name at least one approver".to_owned(),
            );
            return None;
        }
        let mut approvers = Vec::new();
        let mut seen = BTreeSet::new();
        for (index, entry) in list.iter().enumerate() {
            let field = format!("{field}[{index}]");
            let result = check_text(entry).and_then(|text| {
                if text.contains(',') {
                    Err(format!(
                        "`{text}` contains a comma, which separates approvers in the annotation; \
                         write the name without it"
                    ))
                } else if !seen.insert(text.clone()) {
                    Err(format!("`{text}` is listed twice"))
                } else {
                    Ok(text)
                }
            });
            if let Some(text) = self.keep(&field, result) {
                approvers.push(text);
            }
        }
        (approvers.len() == list.len()).then_some(approvers)
    }
}

/// Checks a text value: a non-empty string of at most [`MAX_TEXT_CHARS`] characters without
/// control characters, with surrounding whitespace removed.
fn check_text(value: &Value) -> Result<String, String> {
    let Some(text) = value.as_str() else {
        let hint = if value.is_number() {
            "; quote it, because YAML reads an unquoted 1.10 as the number 1.1"
        } else {
            ""
        };
        return Err(format!("expected text, found {}{hint}", describe(value)));
    };
    let text = text.trim();
    if text.is_empty() {
        return Err("the text is empty".to_owned());
    }
    if text.chars().any(char::is_control) {
        return Err("the text contains a control character, such as a line break".to_owned());
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(format!(
            "the text is longer than {MAX_TEXT_CHARS} characters"
        ));
    }
    Ok(text.to_owned())
}

/// Checks an RFC 3339 full-date, `YYYY-MM-DD`.
pub(crate) fn check_date(value: &Value) -> Result<NaiveDate, String> {
    let Some(text) = value.as_str() else {
        return Err(format!(
            "expected an RFC 3339 date such as 2024-05-01, found {}",
            describe(value)
        ));
    };
    let shape_ok = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    let date = shape_ok
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten();
    date.ok_or_else(|| {
        format!("`{text}` is not an RFC 3339 date; write YYYY-MM-DD, such as 2024-05-01")
    })
}

/// Checks a number from 0 to 1; 0 itself only when `zero_allowed`.
pub(crate) fn check_fraction(value: &Value, zero_allowed: bool) -> Result<f64, String> {
    let range = if zero_allowed {
        "from 0 to 1, such as 0.92"
    } else {
        "above 0 and at most 1, such as 0.05"
    };
    let Some(number) = value.as_f64() else {
        return Err(format!(
            "expected a number {range}, found {}",
            describe(value)
        ));
    };
    let in_range = number <= 1.0 && (number > 0.0 || (zero_allowed && number == 0.0));
    if !in_range || !number.is_finite() {
        return Err(format!(
            "{number} is out of range; give a fraction {range} (not a percentage)"
        ));
    }
    Ok(number)
}

/// Describes a value for messages: its JSON type and, for scalars, the value.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "nothing".to_owned(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the text `{s}`"),
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "a mapping".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn valid() -> Value {
        json!({
            "name": "all-MiniLM-L6-v2",
            "version": "1.0.0",
            "description": "Sentence embeddings",
            "license": "Apache-2.0",
            "trained_date": "2021-08-30",
            "training_data_version": "sentence-pairs-2021-08",
            "bias_scan": {"status": "passed", "date": "2024-05-01"},
            "baseline_accuracy": 0.842,
            "drift_threshold": 0.05,
            "patch_sla_days": 30,
            "approvers": ["alice@example.com", "Bob Example"]
        })
    }

    fn problems(card: &Value) -> Vec<String> {
        validate_card(card)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn with(field: &str, value: Value) -> Value {
        let mut card = valid();
        card[field] = value;
        card
    }

    #[test]
    fn valid_card_gives_every_field() {
        let governance = validate_card(&valid()).unwrap();
        assert_eq!(governance.name, "all-MiniLM-L6-v2");
        assert_eq!(governance.version, "1.0.0");
        assert_eq!(governance.trained_date.to_string(), "2021-08-30");
        assert_eq!(governance.bias_scan.status, BiasScanStatus::Passed);
        assert_eq!(governance.bias_scan.date.unwrap().to_string(), "2024-05-01");
        assert!((governance.baseline_accuracy - 0.842).abs() < f64::EPSILON);
        assert_eq!(governance.patch_sla_days, 30);
        assert_eq!(governance.approvers, ["alice@example.com", "Bob Example"]);
    }

    #[test]
    fn missing_fields_are_each_named() {
        assert_eq!(
            problems(&json!({"name": "m"})),
            [
                "`version`: missing; this field is required",
                "`trained_date`: missing; this field is required",
                "`training_data_version`: missing; this field is required",
                "`bias_scan`: missing; this field is required",
                "`baseline_accuracy`: missing; this field is required",
                "`drift_threshold`: missing; this field is required",
                "`patch_sla_days`: missing; this field is required",
                "`approvers`: missing; this field is required",
            ]
        );
    }

    #[test]
    fn dates_must_be_rfc3339_dates() {
        for bad in [
            "2021-13-01",
            "2021-02-30",
            "30.08.2021",
            "2021-8-30",
            "2021-08-30T00:00:00Z",
        ] {
            let card = with("trained_date", json!(bad));
            assert_eq!(
                problems(&card),
                [format!(
                    "`trained_date`: `{bad}` is not an RFC 3339 date; write YYYY-MM-DD, such as \
                     2024-05-01"
                )],
                "{bad}"
            );
        }
    }

    #[test]
    fn accuracy_outside_zero_to_one_is_rejected() {
        assert_eq!(
            problems(&with("baseline_accuracy", json!(84.2))),
            [
                "`baseline_accuracy`: 84.2 is out of range; give a fraction from 0 to 1, such as 0.92 (not a percentage)"
            ]
        );
        assert_eq!(
            problems(&with("baseline_accuracy", json!(-0.1))),
            [
                "`baseline_accuracy`: -0.1 is out of range; give a fraction from 0 to 1, such as 0.92 (not a percentage)"
            ]
        );
        assert!(validate_card(&with("baseline_accuracy", json!(0))).is_ok());
        assert!(validate_card(&with("baseline_accuracy", json!(1))).is_ok());
        assert_eq!(
            problems(&with("drift_threshold", json!(0))),
            [
                "`drift_threshold`: 0 is out of range; give a fraction above 0 and at most 1, such as 0.05 (not a percentage)"
            ]
        );
        assert_eq!(
            problems(&with("baseline_accuracy", json!("high"))),
            [
                "`baseline_accuracy`: expected a number from 0 to 1, such as 0.92, found the text `high`"
            ]
        );
    }

    #[test]
    fn numeric_version_gets_quoting_hint() {
        assert_eq!(
            problems(&with("version", json!(1.1))),
            [
                "`version`: expected text, found the number 1.1; quote it, because YAML reads an unquoted 1.10 as the number 1.1"
            ]
        );
    }

    #[test]
    fn bias_scan_rules() {
        let scan = |value: Value| problems(&with("bias_scan", value));
        assert_eq!(
            scan(json!({"status": "ok", "date": "2024-05-01"})),
            [
                "`bias_scan.status`: the text `ok` is not a status; use one of passed, failed, waived, not-run"
            ]
        );
        assert_eq!(
            scan(json!({"status": "failed"})),
            ["`bias_scan.date`: missing; a scan that ran needs the date it ran"]
        );
        assert_eq!(
            scan(json!({"status": "passed", "date": "2020-01-01"})),
            [
                "`bias_scan.date`: 2020-01-01 is before `trained_date` 2021-08-30; a scan examines a trained model"
            ]
        );
        assert_eq!(
            scan(json!({"status": "passed", "date": "2024-05-01", "tool": "x"})),
            ["`bias_scan.tool`: unknown field; the fields are status, date"]
        );
        let not_run = validate_card(&with("bias_scan", json!({"status": "not-run"}))).unwrap();
        assert_eq!(not_run.bias_scan.status, BiasScanStatus::NotRun);
        assert_eq!(not_run.bias_scan.date, None);
    }

    #[test]
    fn approvers_rules() {
        assert_eq!(
            problems(&with("approvers", json!([]))),
            ["`approvers`: the list is empty; name at least one approver"]
        );
        assert_eq!(
            problems(&with("approvers", json!(["a", "Doe, Jane", "a", ""]))),
            [
                "`approvers[1]`: `Doe, Jane` contains a comma, which separates approvers in the annotation; write the name without it",
                "`approvers[2]`: `a` is listed twice",
                "`approvers[3]`: the text is empty",
            ]
        );
        assert_eq!(
            problems(&with("approvers", json!("alice"))),
            ["`approvers`: expected a list of names or e-mail addresses, found the text `alice`"]
        );
    }

    #[test]
    fn patch_sla_range() {
        assert_eq!(
            problems(&with("patch_sla_days", json!(0))),
            [
                "`patch_sla_days`: 0 is out of range; give the days allowed to patch a vulnerability, from 1 to 3650"
            ]
        );
        assert_eq!(
            problems(&with("patch_sla_days", json!("30d"))),
            ["`patch_sla_days`: expected a whole number of days, such as 30, found the text `30d`"]
        );
    }

    #[test]
    fn unknown_and_control_characters() {
        let mut card = valid();
        card["trainned_date"] = json!("2021-08-30");
        card["name"] = json!("line\nbreak");
        assert_eq!(
            problems(&card),
            [
                "`trainned_date`: unknown field; the fields are name, version, description, license, trained_date, training_data_version, bias_scan, baseline_accuracy, drift_threshold, patch_sla_days, approvers",
                "`name`: the text contains a control character, such as a line break",
            ]
        );
    }

    #[test]
    fn yaml_card_with_unquoted_dates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("card.yaml");
        std::fs::write(
            &path,
            "name: m\nversion: \"2\"\ntrained_date: 2021-08-30\ntraining_data_version: v1\n\
             bias_scan:\n  status: waived\n  date: 2021-09-01\nbaseline_accuracy: 0.9\n\
             drift_threshold: 0.1\npatch_sla_days: 14\napprovers:\n  - alice\n",
        )
        .unwrap();
        let governance = read_card(&path).unwrap();
        assert_eq!(governance.trained_date.to_string(), "2021-08-30");
        assert_eq!(governance.bias_scan.status, BiasScanStatus::Waived);
    }

    #[test]
    fn syntax_error_names_file_and_format() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("card.json");
        std::fs::write(&path, "{\"name\": ").unwrap();
        let error = read_card(&path).unwrap_err().to_string();
        assert!(
            error.starts_with(&format!(
                "the model card `{}` is not valid JSON: ",
                path.display()
            )),
            "{error}"
        );
    }
}
