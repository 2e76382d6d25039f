//! Distribution statements that a package is not affected or will not be fixed, read from the
//! fields that distribution advisory records use for them.
//!
//! | source | field | value | status |
//! |---|---|---|---|
//! | Debian (security tracker, via OSV) | `affected[].ecosystem_specific.urgency` | `unimportant` | not affected |
//! | Debian | `affected[].ecosystem_specific.urgency` | `end-of-life` | will not fix |
//! | Alpine secdb (imported by clearbox) | `affected[].database_specific.status` | `not_affected` (a version-`0` entry) | not affected |
//! | any | `affected[].ecosystem_specific.status` or `database_specific.status` | `not_affected`, `not-affected` | not affected |
//! | any | same | `will_not_fix`, `will-not-fix`, `wont_fix`, `ignored`, `end-of-life` | will not fix |
//!
//! Debian's security team rates an issue `unimportant` when it sees no security impact on the
//! Debian package, so clearbox reports it as not affected. NOTE: the rating is a judgement and
//! the vulnerable code may still be in the package; the status reason names the field so that
//! a reader can weigh it. `end-of-life` marks packages of a release that Debian no longer
//! supports.
//!
//! Ubuntu's OSV records leave out packages that Ubuntu rates not affected or ignored, and Red
//! Hat's and AlmaLinux's OSV records list only released fixes, so neither carries such a field.
//! Red Hat publishes its not-affected and will-not-fix states in CSAF VEX files, which the
//! importer turns into records with `database_specific.status` (the `csaf` module).

use serde_json::Value;

use crate::finding::FindingStatus;
use crate::osv::Affected;

/// The status an affected entry states for its package, with the reason to report; `None` for
/// an ordinary affected entry.
pub(crate) fn entry_status(affected: &Affected) -> Option<(FindingStatus, String)> {
    let fields = [
        ("ecosystem_specific", affected.ecosystem_specific.as_ref()),
        ("database_specific", affected.database_specific.as_ref()),
    ];
    for (object, value) in fields {
        let Some(value) = value else { continue };
        if let Some(urgency) = value.get("urgency").and_then(Value::as_str) {
            let status = match urgency {
                "unimportant" => Some(FindingStatus::NotAffected),
                "end-of-life" => Some(FindingStatus::WillNotFix),
                _ => None,
            };
            if let Some(status) = status {
                return Some((status, format!("{object}.urgency is `{urgency}`")));
            }
        }
        if let Some(text) = value.get("status").and_then(Value::as_str) {
            let status = match text.to_ascii_lowercase().as_str() {
                "not_affected" | "not-affected" => Some(FindingStatus::NotAffected),
                "will_not_fix" | "will-not-fix" | "wont_fix" | "wont-fix" | "ignored"
                | "end-of-life" => Some(FindingStatus::WillNotFix),
                _ => None,
            };
            if let Some(status) = status {
                let mut reason = format!("{object}.status is `{text}`");
                if let Some(note) = value.get("note").and_then(Value::as_str) {
                    reason.push_str(": ");
                    reason.push_str(note);
                }
                return Some((status, reason));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(ecosystem_specific: &str) -> Affected {
        serde_json::from_str(&format!(
            r#"{{"package": {{"ecosystem": "Debian:10", "name": "x"}},
                "ecosystem_specific": {ecosystem_specific}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn status_field_table() {
        let cases = [
            (
                r#"{"urgency": "unimportant"}"#,
                Some(FindingStatus::NotAffected),
            ),
            (
                r#"{"urgency": "end-of-life"}"#,
                Some(FindingStatus::WillNotFix),
            ),
            (r#"{"urgency": "low"}"#, None),
            (
                r#"{"status": "will_not_fix"}"#,
                Some(FindingStatus::WillNotFix),
            ),
            (
                r#"{"status": "not-affected"}"#,
                Some(FindingStatus::NotAffected),
            ),
            (r"{}", None),
        ];
        for (field, expected) in cases {
            assert_eq!(
                entry_status(&entry(field)).map(|s| s.0),
                expected,
                "{field}"
            );
        }
    }
}
