//! Check results in the form the matrix uses, and the status of a control computed from them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::framework::Control;

/// The outcome of one check in one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckStatus {
    /// The check ran and passed.
    Pass,
    /// The check ran and failed.
    Fail,
    /// The check ran and does not apply to this image or these manifests.
    NotApplicable,
    /// The check did not run or could not decide, and the detail gives the reason.
    NotRun,
}

impl CheckStatus {
    /// Returns the label used in reports.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Fail => "fail",
            CheckStatus::NotApplicable => "not applicable",
            CheckStatus::NotRun => "not run",
        }
    }
}

/// One check's result, with the facts behind it and the files that hold them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckRun {
    /// The check id.
    pub id: String,
    /// The requirement a pass meets.
    pub title: String,
    /// The outcome.
    pub status: CheckStatus,
    /// One line: what was found, or why the check did not run.
    pub detail: String,
    /// Names of the evidence package's files that hold the evidence, or of the manifest files
    /// the Kubernetes checks read.
    pub evidence: Vec<String>,
}

/// The status of a control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ControlStatus {
    /// Every check behind the control ran and passed.
    Satisfied,
    /// A check behind the control failed.
    NotSatisfied,
    /// No check can evidence the control, or a check behind it did not run or did not apply.
    NotEvidenced,
}

impl ControlStatus {
    /// Returns the label used in reports.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            ControlStatus::Satisfied => "satisfied",
            ControlStatus::NotSatisfied => "not satisfied",
            ControlStatus::NotEvidenced => "not evidenced",
        }
    }
}

/// A control's status and the reason for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlOutcome {
    /// The status.
    pub status: ControlStatus,
    /// Why: the checks that failed or did not run, with their details, or the framework file's
    /// reason for a control no check can evidence.
    pub reason: String,
}

/// Checks named one by one in a reason when they share a detail; more are counted instead.
const MAX_NAMED: usize = 3;

/// Computes a control's status from the runs of its checks, by the rules in the module
/// documentation. A check with no run counts as not run.
#[must_use]
pub fn evaluate(control: &Control, runs: &BTreeMap<&str, &CheckRun>) -> ControlOutcome {
    // 1. Nothing can evidence the control.
    if control.checks.is_empty() {
        return ControlOutcome {
            status: ControlStatus::NotEvidenced,
            reason: control.reason.clone().unwrap_or_default(),
        };
    }
    // Checks with the same detail are named together, such as every Kubernetes check when no
    // manifests were given.
    let with = |status: CheckStatus| -> Vec<String> {
        let mut groups: Vec<(Vec<&str>, &str)> = Vec::new();
        for id in &control.checks {
            let run = runs.get(id.as_str());
            if run.map_or(CheckStatus::NotRun, |r| r.status) != status {
                continue;
            }
            let detail = run.map_or("no result", |r| r.detail.as_str());
            match groups.iter_mut().find(|(_, d)| *d == detail) {
                Some((ids, _)) => ids.push(id),
                None => groups.push((vec![id], detail)),
            }
        }
        groups
            .into_iter()
            .map(|(ids, detail)| {
                // A long list is in the control's checks already; its size is enough here.
                if ids.len() > MAX_NAMED {
                    format!("{} checks: {detail}", ids.len())
                } else {
                    format!("{}: {detail}", ids.join(", "))
                }
            })
            .collect()
    };

    // 2. A check failed.
    let failed = with(CheckStatus::Fail);
    if !failed.is_empty() {
        return ControlOutcome {
            status: ControlStatus::NotSatisfied,
            reason: format!("failed: {}", failed.join("; ")),
        };
    }

    // 3. A check did not run, or none applied.
    let not_run = with(CheckStatus::NotRun);
    if !not_run.is_empty() {
        return ControlOutcome {
            status: ControlStatus::NotEvidenced,
            reason: format!("not run: {}", not_run.join("; ")),
        };
    }
    let not_applicable = with(CheckStatus::NotApplicable);
    let passed = with(CheckStatus::Pass);
    if passed.is_empty() {
        return ControlOutcome {
            status: ControlStatus::NotEvidenced,
            reason: format!(
                "no check applies to this input: {}",
                not_applicable.join("; ")
            ),
        };
    }

    // 4. Every check that applies passed.
    let mut reason = format!("passed: {}", passed.join("; "));
    if !not_applicable.is_empty() {
        let _ = write!(reason, "; not applicable: {}", not_applicable.join("; "));
    }
    ControlOutcome {
        status: ControlStatus::Satisfied,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn control(checks: &[&str]) -> Control {
        Control {
            id: "c".to_owned(),
            group: "g".to_owned(),
            cites: "1".to_owned(),
            title: "t".to_owned(),
            scope: None,
            checks: checks.iter().map(|&c| c.to_owned()).collect(),
            reason: checks.is_empty().then(|| "outside the image".to_owned()),
        }
    }

    fn run(id: &str, status: CheckStatus) -> CheckRun {
        CheckRun {
            id: id.to_owned(),
            title: String::new(),
            status,
            detail: format!("{id} detail"),
            evidence: Vec::new(),
        }
    }

    fn status_of(checks: &[&str], runs: &[CheckRun]) -> ControlOutcome {
        let runs: BTreeMap<&str, &CheckRun> = runs.iter().map(|r| (r.id.as_str(), r)).collect();
        evaluate(&control(checks), &runs)
    }

    #[test]
    fn no_checks_is_not_evidenced_with_the_reason() {
        let outcome = status_of(&[], &[]);
        assert_eq!(outcome.status, ControlStatus::NotEvidenced);
        assert_eq!(outcome.reason, "outside the image");
    }

    #[test]
    fn all_pass_is_satisfied() {
        let runs = [run("a", CheckStatus::Pass), run("b", CheckStatus::Pass)];
        let outcome = status_of(&["a", "b"], &runs);
        assert_eq!(outcome.status, ControlStatus::Satisfied);
        assert_eq!(outcome.reason, "passed: a: a detail; b: b detail");
    }

    #[test]
    fn failure_wins_over_check_not_run() {
        let runs = [run("a", CheckStatus::NotRun), run("b", CheckStatus::Fail)];
        let outcome = status_of(&["a", "b"], &runs);
        assert_eq!(outcome.status, ControlStatus::NotSatisfied);
        assert_eq!(outcome.reason, "failed: b: b detail");
    }

    #[test]
    fn check_not_run_is_not_evidenced() {
        let runs = [run("a", CheckStatus::Pass), run("b", CheckStatus::NotRun)];
        let outcome = status_of(&["a", "b"], &runs);
        assert_eq!(outcome.status, ControlStatus::NotEvidenced);
        assert_eq!(outcome.reason, "not run: b: b detail");
    }

    #[test]
    fn missing_result_counts_as_not_run() {
        let runs = [run("a", CheckStatus::Pass)];
        let outcome = status_of(&["a", "missing"], &runs);
        assert_eq!(outcome.status, ControlStatus::NotEvidenced);
        assert_eq!(outcome.reason, "not run: missing: no result");
    }

    #[test]
    fn checks_with_one_detail_are_named_together() {
        let same = |id: &str| CheckRun {
            detail: "no manifests".to_owned(),
            ..run(id, CheckStatus::NotRun)
        };
        let runs = [same("a"), run("b", CheckStatus::NotRun), same("c")];
        let outcome = status_of(&["a", "b", "c"], &runs);
        assert_eq!(outcome.reason, "not run: a, c: no manifests; b: b detail");
    }

    #[test]
    fn many_checks_with_one_detail_are_counted() {
        let ids = ["a", "b", "c", "d"];
        let runs: Vec<CheckRun> = ids
            .iter()
            .map(|id| CheckRun {
                detail: "no manifests".to_owned(),
                ..run(id, CheckStatus::NotRun)
            })
            .collect();
        let outcome = status_of(&ids, &runs);
        assert_eq!(outcome.reason, "not run: 4 checks: no manifests");
    }

    #[test]
    fn only_not_applicable_is_not_evidenced() {
        let runs = [run("a", CheckStatus::NotApplicable)];
        let outcome = status_of(&["a"], &runs);
        assert_eq!(outcome.status, ControlStatus::NotEvidenced);
        assert_eq!(
            outcome.reason,
            "no check applies to this input: a: a detail"
        );
    }

    #[test]
    fn pass_with_not_applicable_is_satisfied() {
        let runs = [
            run("a", CheckStatus::Pass),
            run("b", CheckStatus::NotApplicable),
        ];
        let outcome = status_of(&["a", "b"], &runs);
        assert_eq!(outcome.status, ControlStatus::Satisfied);
        assert_eq!(
            outcome.reason,
            "passed: a: a detail; not applicable: b: b detail"
        );
    }
}
