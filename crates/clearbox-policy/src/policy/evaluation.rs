//! Results of evaluating a policy: one result per rule and subject, exceptions applied, and the
//! JSON form written to `policy-evaluation.json` and printed by the commands.
//!
//! A result is passed, failed, could not check (the rule needs something that is missing or not
//! supported), or waived (failed or could not check, and an active exception matches). An
//! exception applies through its `expires` day in UTC. An expired exception changes no result;
//! it is listed under `expired_exceptions`, and each result it would have waived names it.

use std::fmt::Write as _;
use std::path::PathBuf;

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::model::{Exception, Policy, Rule};

/// The outcome of one rule for one subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The subject meets the rule.
    Passed,
    /// The subject does not meet the rule.
    Failed,
    /// The rule could not be decided; this never counts as passed.
    CouldNotCheck,
    /// The rule failed or could not be checked, and an active exception waives it.
    Waived,
}

impl Outcome {
    /// `passed`, `failed`, `could-not-check` or `waived`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::CouldNotCheck => "could-not-check",
            Outcome::Waived => "waived",
        }
    }
}

/// The subject of a result: an image, a Kubernetes resource, or both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// The image reference as `HOST/REPO[:TAG][@DIGEST]`, or the local reference as given.
    pub image: Option<String>,
    /// `HOST/REPO` alone, which exception patterns are also matched against.
    pub repository: Option<String>,
    /// `Kind/namespace/name` of a Kubernetes resource.
    pub resource: Option<String>,
}

impl Target {
    /// Returns the subject as results print it: the resource, then the image.
    #[must_use]
    pub fn display(&self) -> String {
        match (&self.resource, &self.image) {
            (Some(resource), Some(image)) => format!("{resource} image {image}"),
            (Some(resource), None) => resource.clone(),
            (None, Some(image)) => image.clone(),
            (None, None) => "(no subject)".to_owned(),
        }
    }

    fn is_matched_by(&self, exception: &Exception) -> bool {
        let image_matches = exception.image.as_ref().map(|glob| {
            self.image.as_deref().is_some_and(|i| glob.matches(i))
                || self.repository.as_deref().is_some_and(|r| glob.matches(r))
        });
        let resource_matches = exception
            .resource
            .as_ref()
            .map(|glob| self.resource.as_deref().is_some_and(|r| glob.matches(r)));
        match (image_matches, resource_matches) {
            (None, None) => false,
            (image, resource) => image.unwrap_or(true) && resource.unwrap_or(true),
        }
    }
}

/// An exception that changed a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedException {
    /// Its line in the policy file.
    pub line: usize,
    /// Its reason.
    pub reason: String,
    /// Its last day.
    pub expires: NaiveDate,
    /// The result before the exception: failed or could not check.
    pub waived: Outcome,
}

/// The outcome of one rule for one subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleResult {
    /// The rule.
    pub rule: Rule,
    /// The subject of the result.
    pub target: Target,
    /// The outcome, after exceptions.
    pub outcome: Outcome,
    /// The values compared, or why it failed or could not be checked.
    pub message: String,
    /// The exception that waived it.
    pub exception: Option<AppliedException>,
    /// Expired exceptions that match it, as `line N, expired YYYY-MM-DD`.
    pub expired_exceptions: Vec<String>,
}

/// A rule the policy sets that this evaluation did not evaluate, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotEvaluated {
    /// The rule.
    pub rule: Rule,
    /// Why, and which command evaluates it.
    pub reason: String,
}

/// The whole evaluation of a policy against one image or a set of manifests.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The policy file.
    pub policy_file: PathBuf,
    /// `sha256:` and the hex SHA-256 of the policy file.
    pub policy_digest: String,
    /// The day exceptions were compared with, in UTC.
    pub evaluated_on: NaiveDate,
    /// Every result, in the order the rules were evaluated.
    pub results: Vec<RuleResult>,
    /// Rules set but not evaluated here.
    pub not_evaluated: Vec<NotEvaluated>,
    /// Exceptions past their `expires` day, which no longer apply.
    pub expired_exceptions: Vec<Exception>,
}

/// The overall result of an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every evaluated result passed or was waived.
    Passed,
    /// At least one result failed.
    Failed,
    /// None failed, but at least one could not be checked.
    Incomplete,
}

impl Verdict {
    /// `passed`, `failed` or `incomplete`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed => "failed",
            Verdict::Incomplete => "incomplete",
        }
    }
}

impl Evaluation {
    /// Starts an evaluation of `policy` on `today` (UTC).
    #[must_use]
    pub fn new(policy: &Policy, today: NaiveDate) -> Self {
        Evaluation {
            policy_file: policy.file.clone(),
            policy_digest: policy.digest.clone(),
            evaluated_on: today,
            results: Vec::new(),
            not_evaluated: Vec::new(),
            expired_exceptions: policy
                .exceptions
                .iter()
                .filter(|e| !e.is_active_on(today))
                .cloned()
                .collect(),
        }
    }

    /// Records a result, applying the first active exception for its rule that matches
    /// `target`.
    pub fn record(
        &mut self,
        policy: &Policy,
        rule: Rule,
        target: &Target,
        outcome: Outcome,
        message: impl Into<String>,
    ) {
        let mut result = RuleResult {
            rule,
            target: target.clone(),
            outcome,
            message: message.into(),
            exception: None,
            expired_exceptions: Vec::new(),
        };
        if matches!(outcome, Outcome::Failed | Outcome::CouldNotCheck) {
            let matching = policy
                .exceptions
                .iter()
                .filter(|e| e.rule == rule && target.is_matched_by(e));
            for exception in matching {
                if exception.is_active_on(self.evaluated_on) {
                    result.exception.get_or_insert(AppliedException {
                        line: exception.line,
                        reason: exception.reason.clone(),
                        expires: exception.expires,
                        waived: outcome,
                    });
                } else {
                    result.expired_exceptions.push(format!(
                        "line {}, expired {}",
                        exception.line, exception.expires
                    ));
                }
            }
            if result.exception.is_some() {
                result.outcome = Outcome::Waived;
            }
        }
        self.results.push(result);
    }

    /// Records that `rule`, if the policy sets it, is not evaluated here.
    pub fn skip(&mut self, policy: &Policy, rule: Rule, reason: &str) {
        if policy.sets(rule) {
            self.not_evaluated.push(NotEvaluated {
                rule,
                reason: reason.to_owned(),
            });
        }
    }

    /// Returns the overall result.
    #[must_use]
    pub fn verdict(&self) -> Verdict {
        if self.results.iter().any(|r| r.outcome == Outcome::Failed) {
            Verdict::Failed
        } else if self
            .results
            .iter()
            .any(|r| r.outcome == Outcome::CouldNotCheck)
        {
            Verdict::Incomplete
        } else {
            Verdict::Passed
        }
    }

    /// Returns the rules whose results include a failure or a could-not-check, each once.
    #[must_use]
    pub fn unmet_rules(&self) -> Vec<Rule> {
        let mut rules: Vec<Rule> = self
            .results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Failed | Outcome::CouldNotCheck))
            .map(|r| r.rule)
            .collect();
        rules.sort();
        rules.dedup();
        rules
    }

    /// Returns one line per result, for stderr: `failed  signers: message (subject)`, with the
    /// exception's reason for waived results, then the rules not evaluated and the expired
    /// exceptions.
    #[must_use]
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for result in &self.results {
            let mut line = format!(
                "{:<15} {}: {} ({})",
                result.outcome.name(),
                result.rule,
                result.message,
                result.target.display()
            );
            if let Some(exception) = &result.exception {
                let _ = write!(
                    line,
                    "; {} waived by the exception at line {} until {}: {}",
                    exception.waived.name(),
                    exception.line,
                    exception.expires,
                    exception.reason
                );
            }
            for expired in &result.expired_exceptions {
                let _ = write!(line, "; a matching exception no longer applies ({expired})");
            }
            lines.push(line);
        }
        for skipped in &self.not_evaluated {
            lines.push(format!(
                "{:<15} {}: {}",
                "not-evaluated", skipped.rule, skipped.reason
            ));
        }
        for exception in &self.expired_exceptions {
            lines.push(format!(
                "{:<15} {}: {}",
                "expired",
                exception.describe(),
                exception.reason
            ));
        }
        lines
    }

    /// Returns the evaluation as the JSON document of `policy-evaluation.json`.
    #[must_use]
    pub fn to_json(&self, policy: &Policy) -> Value {
        let rules: Vec<Value> = policy
            .rules()
            .map(|rule| {
                let skipped = self.not_evaluated.iter().find(|s| s.rule == rule);
                let outcomes: Vec<Outcome> = self
                    .results
                    .iter()
                    .filter(|r| r.rule == rule)
                    .map(|r| r.outcome)
                    .collect();
                let summary = if skipped.is_some() {
                    "not-evaluated"
                } else if outcomes.contains(&Outcome::Failed) {
                    "failed"
                } else if outcomes.contains(&Outcome::CouldNotCheck) {
                    "could-not-check"
                } else if outcomes.is_empty() {
                    "no-subjects"
                } else if outcomes.contains(&Outcome::Waived) {
                    "waived"
                } else {
                    "passed"
                };
                let mut value = json!({"rule": rule.name(), "result": summary});
                if let Some(skipped) = skipped {
                    value["reason"] = json!(skipped.reason);
                }
                value
            })
            .collect();
        let results: Vec<Value> = self.results.iter().map(result_json).collect();
        let expired: Vec<Value> = self.expired_exceptions.iter().map(exception_json).collect();
        json!({
            "policy": {
                "file": self.policy_file.to_string_lossy(),
                "digest": self.policy_digest,
            },
            "evaluated_on": self.evaluated_on.to_string(),
            "result": self.verdict().name(),
            "rules": rules,
            "results": results,
            "expired_exceptions": expired,
        })
    }
}

fn result_json(result: &RuleResult) -> Value {
    let mut value = json!({
        "rule": result.rule.name(),
        "subject": result.target.display(),
        "result": result.outcome.name(),
        "message": result.message,
    });
    if let Some(image) = &result.target.image {
        value["image"] = json!(image);
    }
    if let Some(resource) = &result.target.resource {
        value["resource"] = json!(resource);
    }
    if let Some(exception) = &result.exception {
        value["exception"] = json!({
            "line": exception.line,
            "reason": exception.reason,
            "expires": exception.expires.to_string(),
            "waived": exception.waived.name(),
        });
    }
    if !result.expired_exceptions.is_empty() {
        value["expired_exceptions"] = json!(result.expired_exceptions);
    }
    value
}

fn exception_json(exception: &Exception) -> Value {
    let mut value = json!({
        "line": exception.line,
        "rule": exception.rule.name(),
        "expires": exception.expires.to_string(),
        "reason": exception.reason,
    });
    if let Some(image) = &exception.image {
        value["image"] = json!(image.to_string());
    }
    if let Some(resource) = &exception.resource {
        value["resource"] = json!(resource.to_string());
    }
    value
}
