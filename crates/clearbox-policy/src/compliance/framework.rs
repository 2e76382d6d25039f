//! The framework files: which frameworks exist, their controls, and the checks in the files
//! validated when they are loaded.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::checks::is_known_check;

/// A compliance framework clearbox maps its checks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FrameworkId {
    /// Regulation (EU) 2024/1689, the EU AI Act.
    EuAiAct,
    /// NIST AI 100-1, the AI Risk Management Framework 1.0.
    NistAiRmf,
    /// Singapore's IM8 Reform control catalog.
    Im8,
    /// CIS Docker Benchmark v1.6.0, section 4.
    CisDocker,
    /// CIS Kubernetes Benchmark v1.9.0, section 5.
    CisK8s,
}

impl FrameworkId {
    /// Every framework, in report order.
    pub const ALL: [FrameworkId; 5] = [
        FrameworkId::EuAiAct,
        FrameworkId::NistAiRmf,
        FrameworkId::Im8,
        FrameworkId::CisDocker,
        FrameworkId::CisK8s,
    ];

    /// Returns the id used on the command line and in the files, such as `eu-ai-act`.
    #[must_use]
    pub fn id(self) -> &'static str {
        match self {
            FrameworkId::EuAiAct => "eu-ai-act",
            FrameworkId::NistAiRmf => "nist-ai-rmf",
            FrameworkId::Im8 => "im8",
            FrameworkId::CisDocker => "cis-docker",
            FrameworkId::CisK8s => "cis-k8s",
        }
    }

    /// Returns the framework file's text.
    fn text(self) -> &'static str {
        match self {
            FrameworkId::EuAiAct => include_str!("../../frameworks/eu-ai-act.yaml"),
            FrameworkId::NistAiRmf => include_str!("../../frameworks/nist-ai-rmf.yaml"),
            FrameworkId::Im8 => include_str!("../../frameworks/im8.yaml"),
            FrameworkId::CisDocker => include_str!("../../frameworks/cis-docker.yaml"),
            FrameworkId::CisK8s => include_str!("../../frameworks/cis-k8s.yaml"),
        }
    }

    /// Reads and validates the framework's file.
    pub fn load(self) -> Result<Framework, FrameworkError> {
        let framework: Framework =
            serde_saphyr::from_str(self.text()).map_err(|e| FrameworkError {
                framework: self,
                problem: e.to_string(),
            })?;
        framework.validate(self)?;
        Ok(framework)
    }
}

impl fmt::Display for FrameworkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for FrameworkId {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        FrameworkId::ALL
            .into_iter()
            .find(|f| f.id() == text)
            .ok_or_else(|| {
                let ids: Vec<&str> = FrameworkId::ALL.iter().map(|f| f.id()).collect();
                format!(
                    "unknown framework `{text}`; expected one of {}",
                    ids.join(", ")
                )
            })
    }
}

/// A framework file that does not parse or breaks a rule. The files are compiled in, so this
/// is a defect of the build, which the unit tests catch.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid framework file `{framework}.yaml`: {problem}")]
pub struct FrameworkError {
    /// The framework.
    pub framework: FrameworkId,
    /// The problem found.
    pub problem: String,
}

/// A framework and its controls, as its file states them.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    /// The framework's id, which must match the file's name.
    pub framework: String,
    /// Display name, such as `EU AI Act`.
    pub name: String,
    /// The document and version the controls cite.
    pub source: String,
    /// The controls, in report order.
    pub controls: Vec<Control>,
}

/// One row of the matrix: a requirement and the checks that evidence it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    /// Id, unique in its framework.
    pub id: String,
    /// The part of the framework it belongs to: an article, a function, a theme or a section.
    pub group: String,
    /// The article, subcategory, control or recommendation it cites, such as `Art. 15(5)`.
    pub cites: String,
    /// The requirement, paraphrased.
    pub title: String,
    /// The part of the requirement the checks cover, when they cover only part of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Ids of the checks that must all pass. Empty for a control clearbox cannot evidence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<String>,
    /// The reason no check can evidence the control. Required exactly when `checks` is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Framework {
    /// Checks the rules the module documentation lists.
    fn validate(&self, id: FrameworkId) -> Result<(), FrameworkError> {
        let invalid = |problem: String| FrameworkError {
            framework: id,
            problem,
        };
        if self.framework != id.id() {
            return Err(invalid(format!(
                "`framework` is `{}`, expected `{id}`",
                self.framework
            )));
        }
        if self.controls.is_empty() {
            return Err(invalid("no controls".to_owned()));
        }
        let mut ids = BTreeSet::new();
        for control in &self.controls {
            let row = |problem: &str| invalid(format!("control `{}`: {problem}", control.id));
            if !ids.insert(control.id.as_str()) {
                return Err(row("the id is used twice"));
            }
            for (field, value) in [
                ("id", &control.id),
                ("group", &control.group),
                ("cites", &control.cites),
                ("title", &control.title),
            ] {
                if value.trim().is_empty() {
                    return Err(row(&format!("`{field}` is empty")));
                }
            }
            match (control.checks.is_empty(), &control.reason) {
                (true, None) => return Err(row("needs `checks` or a `reason`")),
                (false, Some(_)) => return Err(row("has both `checks` and a `reason`")),
                (true, Some(_)) if control.scope.is_some() => {
                    return Err(row("has a `scope` but no `checks`"));
                }
                _ => {}
            }
            if let Some(unknown) = control.checks.iter().find(|c| !is_known_check(c)) {
                return Err(row(&format!("unknown check `{unknown}`")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_framework_file_loads() {
        for id in FrameworkId::ALL {
            let framework = id.load().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(framework.framework, id.id());
        }
    }

    #[test]
    fn framework_ids_parse_back() {
        for id in FrameworkId::ALL {
            assert_eq!(id.id().parse::<FrameworkId>(), Ok(id));
        }
        assert!("cis".parse::<FrameworkId>().is_err());
    }

    #[test]
    fn cis_docker_rows_cover_section_4() {
        let framework = FrameworkId::CisDocker.load().unwrap();
        let cited: Vec<&str> = framework
            .controls
            .iter()
            .map(|c| c.cites.as_str())
            .collect();
        let expected: Vec<String> = (1..=12).map(|n| format!("4.{n}")).collect();
        assert_eq!(cited, expected);
    }

    #[test]
    fn unknown_check_is_rejected() {
        let mut framework = FrameworkId::Im8.load().unwrap();
        framework.controls[0]
            .checks
            .push("no-such-check".to_owned());
        let error = framework.validate(FrameworkId::Im8).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid framework file `im8.yaml`: control `pm-6`: unknown check `no-such-check`"
        );
    }

    #[test]
    fn control_without_checks_needs_a_reason() {
        let mut framework = FrameworkId::EuAiAct.load().unwrap();
        framework.controls[0].reason = None;
        let error = framework.validate(FrameworkId::EuAiAct).unwrap_err();
        assert!(
            error
                .to_string()
                .ends_with("control `art-9-1`: needs `checks` or a `reason`"),
            "{error}"
        );
    }

    #[test]
    fn duplicate_control_id_is_rejected() {
        let mut framework = FrameworkId::CisK8s.load().unwrap();
        let first = framework.controls[0].clone();
        framework.controls.push(first);
        let error = framework.validate(FrameworkId::CisK8s).unwrap_err();
        assert!(
            error.to_string().ends_with("the id is used twice"),
            "{error}"
        );
    }
}
