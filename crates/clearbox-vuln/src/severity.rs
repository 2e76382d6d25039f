//! Severity of an advisory: from a CVSS vector when the record has one, else from the database's
//! own label.
//!
//! Order of preference, first match wins:
//! 1. a CVSS v4.0 vector, because FIRST made v4.0 the current standard in 2023 and a record that
//!    carries both was given its v4.0 vector later;
//! 2. a CVSS v3.1 or v3.0 vector;
//! 3. a CVSS v2.0 vector;
//! 4. the GitHub advisory label `database_specific.severity` (`LOW`, `MODERATE`, `HIGH`,
//!    `CRITICAL`) or an Ubuntu priority (`Ubuntu` severity type);
//! 5. [`Severity::Unknown`].
//!
//! Within each step the matched package's `affected[].severity` comes before the record's
//! top-level `severity`, because it describes that package. Vectors the `cvss` crate cannot
//! parse are skipped (logged at debug).
//!
//! Scores map to ratings with the CVSS v3.x/v4.0 qualitative scale that NVD also uses: 0.1–3.9
//! low, 4.0–6.9 medium, 7.0–8.9 high, 9.0–10.0 critical. A score of 0.0 is CVSS "none" and
//! becomes [`Severity::Unknown`]. CVSS v2.0 has no critical rating: 7.0–10.0 is high.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};
use tracing::debug;

use crate::osv::SeverityScore;

/// Severity rating of a vulnerability, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Severity {
    /// No score or label, or a CVSS score of 0.0.
    #[default]
    Unknown,
    /// CVSS 0.1–3.9.
    Low,
    /// CVSS 4.0–6.9; GitHub's `MODERATE`.
    Medium,
    /// CVSS 7.0–8.9.
    High,
    /// CVSS 9.0–10.0.
    Critical,
}

impl Severity {
    /// Every severity from most to least severe, the order reports list them in.
    pub const DESCENDING: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Unknown,
    ];

    /// Lowercase name: `unknown`, `low`, `medium`, `high`, `critical`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Severity::Unknown => "unknown",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Rates a CVSS v3.x or v4.0 score.
    #[must_use]
    pub fn from_score(score: f64) -> Severity {
        if score >= 9.0 {
            Severity::Critical
        } else if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else if score > 0.0 {
            Severity::Low
        } else {
            Severity::Unknown
        }
    }

    /// Rates a CVSS v2.0 score, whose scale stops at high.
    fn from_v2_score(score: f64) -> Severity {
        Severity::from_score(score).min(Severity::High)
    }

    /// Reads a database label: GitHub's `LOW`/`MODERATE`/`HIGH`/`CRITICAL`, Ubuntu's
    /// priorities or Red Hat's ratings (`Important` is high), in any case.
    fn from_label(label: &str) -> Option<Severity> {
        Some(match label.to_ascii_lowercase().as_str() {
            "low" | "negligible" => Severity::Low,
            "moderate" | "medium" => Severity::Medium,
            "high" | "important" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Severity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// A string that is not a severity name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown severity `{0}`; expected one of unknown, low, medium, high, critical")]
pub struct ParseSeverityError(String);

impl FromStr for Severity {
    type Err = ParseSeverityError;

    /// Accepts the lowercase names that [`Severity::name`] returns.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::DESCENDING
            .into_iter()
            .find(|severity| severity.name() == s)
            .ok_or_else(|| ParseSeverityError(s.to_owned()))
    }
}

/// A CVSS vector with the base score computed from it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CvssScore {
    /// CVSS version: `2.0`, `3.0`, `3.1` or `4.0`.
    pub version: String,
    /// The vector as the record gives it.
    pub vector: String,
    /// Base score, 0.0–10.0, computed by the `cvss` crate.
    pub base_score: f64,
}

/// Severity and score chosen for one advisory and package.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Assessment {
    pub(crate) severity: Severity,
    pub(crate) cvss: Option<CvssScore>,
}

/// Scores one CVSS vector of any version. Returns `None` for a vector the `cvss` crate rejects
/// or that lacks one of its version's base metrics (the crate scores such partial vectors).
#[must_use]
pub fn score_cvss(vector: &str) -> Option<CvssScore> {
    let vector = vector.trim();
    if !has_base_metrics(vector) {
        debug!(vector, "skipping CVSS vector without all base metrics");
        return None;
    }
    let parsed = if vector.starts_with("CVSS:4.") {
        // Threat, environmental and supplemental metrics change a v4.0 score, so only the
        // base metrics are scored to get the base score (CVSS-B).
        cvss::Cvss::from_str(&v4_base_vector(vector))
    } else {
        cvss::Cvss::from_str(vector)
    };
    let parsed = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            debug!(vector, error = %e, "skipping CVSS vector the cvss crate rejects");
            return None;
        }
    };
    let version = match &parsed {
        cvss::Cvss::CvssV20(_) => "2.0",
        cvss::Cvss::CvssV30(_) => "3.0",
        cvss::Cvss::CvssV31(_) => "3.1",
        cvss::Cvss::CvssV40(_) => "4.0",
        _ => return None,
    };
    Some(CvssScore {
        version: version.to_owned(),
        vector: vector.to_owned(),
        base_score: parsed.score(),
    })
}

const V2_BASE: [&str; 6] = ["AV", "AC", "Au", "C", "I", "A"];
const V3_BASE: [&str; 8] = ["AV", "AC", "PR", "UI", "S", "C", "I", "A"];
const V4_BASE: [&str; 11] = [
    "AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA",
];

/// Whether the vector names every base metric of its version.
fn has_base_metrics(vector: &str) -> bool {
    let required: &[&str] = if vector.starts_with("CVSS:4.") {
        &V4_BASE
    } else if vector.starts_with("CVSS:3.") {
        &V3_BASE
    } else {
        &V2_BASE
    };
    let present: Vec<&str> = vector
        .split('/')
        .filter_map(|part| part.split_once(':').map(|(metric, _)| metric))
        .collect();
    required.iter().all(|metric| present.contains(metric))
}

/// Keeps the `CVSS:4.0` prefix and the eleven base metrics of a v4.0 vector.
fn v4_base_vector(vector: &str) -> String {
    vector
        .split('/')
        .enumerate()
        .filter(|(i, part)| {
            *i == 0
                || part
                    .split_once(':')
                    .is_some_and(|(metric, _)| V4_BASE.contains(&metric))
        })
        .map(|(_, part)| part)
        .collect::<Vec<_>>()
        .join("/")
}

/// Picks the severity for an advisory from the matched package's scores, the record's scores
/// and the record's `database_specific`, in the order the module documentation gives.
#[cfg(test)]
pub(crate) fn assess(
    package_scores: &[&SeverityScore],
    record_scores: &[SeverityScore],
    database_specific: Option<&serde_json::Value>,
) -> Assessment {
    let label = database_specific
        .and_then(|d| d.get("severity"))
        .and_then(serde_json::Value::as_str);
    assess_with_label(package_scores, record_scores, label)
}

/// Picks the severity like [`assess`], given the record's `database_specific.severity` label
/// instead of the whole object.
pub(crate) fn assess_with_label(
    package_scores: &[&SeverityScore],
    record_scores: &[SeverityScore],
    label: Option<&str>,
) -> Assessment {
    let scores: Vec<&SeverityScore> = package_scores
        .iter()
        .copied()
        .chain(record_scores.iter())
        .collect();

    // Steps 1 to 3: CVSS vectors by version preference.
    for kind in ["CVSS_V4", "CVSS_V3", "CVSS_V2"] {
        for score in scores.iter().filter(|s| s.kind == kind) {
            if let Some(cvss) = score_cvss(&score.score) {
                let severity = if cvss.version == "2.0" {
                    Severity::from_v2_score(cvss.base_score)
                } else {
                    Severity::from_score(cvss.base_score)
                };
                return Assessment {
                    severity,
                    cvss: Some(cvss),
                };
            }
        }
    }

    // Step 4: labels.
    let label = label.and_then(Severity::from_label).or_else(|| {
        scores
            .iter()
            .filter(|s| s.kind == "Ubuntu")
            .find_map(|s| Severity::from_label(&s.score))
    });
    Assessment {
        severity: label.unwrap_or_default(),
        cvss: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(kind: &str, value: &str) -> SeverityScore {
        SeverityScore {
            kind: kind.into(),
            score: value.into(),
        }
    }

    #[test]
    fn from_score_boundaries() {
        assert_eq!(Severity::from_score(0.0), Severity::Unknown);
        assert_eq!(Severity::from_score(0.1), Severity::Low);
        assert_eq!(Severity::from_score(3.9), Severity::Low);
        assert_eq!(Severity::from_score(4.0), Severity::Medium);
        assert_eq!(Severity::from_score(6.9), Severity::Medium);
        assert_eq!(Severity::from_score(7.0), Severity::High);
        assert_eq!(Severity::from_score(8.9), Severity::High);
        assert_eq!(Severity::from_score(9.0), Severity::Critical);
        assert_eq!(Severity::from_score(10.0), Severity::Critical);
    }

    #[test]
    fn order_and_names() {
        assert!(Severity::Unknown < Severity::Low);
        assert!(Severity::High < Severity::Critical);
        for severity in Severity::DESCENDING {
            assert_eq!(severity.name().parse::<Severity>().unwrap(), severity);
        }
        assert!("Critical".parse::<Severity>().is_err());
        assert!("moderate".parse::<Severity>().is_err());
    }

    #[test]
    fn v4_preferred_over_v3() {
        let scores = [
            score("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            score(
                "CVSS_V4",
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N",
            ),
        ];
        let assessment = assess(&[], &scores, None);
        assert_eq!(assessment.cvss.unwrap().version, "4.0");
    }

    #[test]
    fn package_scores_come_first() {
        let record = [score(
            "CVSS_V3",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        )];
        let package = score("CVSS_V3", "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N");
        let assessment = assess(&[&package], &record, None);
        assert_eq!(assessment.severity, Severity::Low);
    }

    #[test]
    fn invalid_vector_falls_through_to_label() {
        let scores = [score("CVSS_V3", "CVSS:3.1/AV:X")];
        let label = serde_json::json!({"severity": "MODERATE"});
        let assessment = assess(&[], &scores, Some(&label));
        assert_eq!(assessment.severity, Severity::Medium);
        assert!(assessment.cvss.is_none());
    }

    #[test]
    fn v2_caps_at_high() {
        let assessment = assess(&[], &[score("CVSS_V2", "AV:N/AC:L/Au:N/C:C/I:C/A:C")], None);
        assert!((assessment.cvss.unwrap().base_score - 10.0).abs() < f64::EPSILON);
        assert_eq!(assessment.severity, Severity::High);
    }

    #[test]
    fn v4_threat_metrics_do_not_change_base_score() {
        let base = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
        let with_threat = format!("{base}/E:U");
        let a = score_cvss(base).unwrap();
        let b = score_cvss(&with_threat).unwrap();
        assert!((a.base_score - b.base_score).abs() < f64::EPSILON);
        assert_eq!(b.vector, with_threat);
    }
}
