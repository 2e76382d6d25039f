//! The Kubernetes Pod Security Standards, `baseline` and `restricted`, for every version from
//! v1.0 to v1.37 (<https://kubernetes.io/docs/concepts/security/pod-security-standards/>).
//!
//! Each control is a function of the pod spec, its template's annotations and the version. The
//! version decides which controls apply and, inside some controls, what is allowed:
//!
//! | control | level | from | changes |
//! |---|---|---|---|
//! | `HostProcess`, Host Namespaces, Privileged, Capabilities, `HostPath` Volumes, Host Ports, `AppArmor` | baseline | v1.0 | |
//! | `SELinux` | baseline | v1.0 | type `container_engine_t` allowed from v1.31 |
//! | /proc Mount Type | baseline | v1.0 | any type allowed with `hostUsers: false` from v1.35 |
//! | Seccomp | baseline | v1.0 | annotations before v1.19, `seccompProfile` fields from v1.19 |
//! | Sysctls | baseline | v1.0 | allowed names added in v1.27, v1.29, v1.32 and v1.37 |
//! | Host Probes / Lifecycle Hooks | baseline | v1.34 | |
//! | Volume Types, Running as Non-root | restricted | v1.0 | |
//! | Privilege Escalation | restricted | v1.8 | Windows pods exempt from v1.25 |
//! | Seccomp | restricted | v1.19 | Windows pods exempt from v1.25 |
//! | Capabilities | restricted | v1.22 | Windows pods exempt from v1.25 |
//! | Running as Non-root user | restricted | v1.23 | |
//! | /proc Mount Type | restricted | v1.35 | `Default` only, even with `hostUsers: false` |
//!
//! `restricted` includes every `baseline` control. The upstream admission controller's fixtures
//! (`pod-security-admission/test/testdata`) are the test oracle: every fixture's verdict is
//! asserted at its level and version.
//!
//! A field with a value of the wrong type (a string where a boolean belongs) violates the control
//! that reads it: the API server would reject the pod, and nothing shows it is safe.
//!
//! Two parts of the admission controller are not implemented. The
//! `UserNamespacesPodSecurityStandards` feature gate (off by default) relaxes `runAsNonRoot` and
//! `runAsUser` for pods with `hostUsers: false`. Exemptions by user, namespace or runtime class
//! are cluster configuration, not manifest content.

mod baseline;
mod restricted;

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::field::{Field, Typed};
use super::workload::{Container, PodSpec};
use super::yaml::Location;

/// A Pod Security Standards level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Prevents known privilege escalations.
    Baseline,
    /// Follows current pod hardening practice; includes every baseline control.
    Restricted,
}

impl Level {
    /// `baseline` or `restricted`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Level {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "baseline" => Ok(Level::Baseline),
            "restricted" => Ok(Level::Restricted),
            _ => Err(format!(
                "invalid Pod Security Standards level `{text}`: expected `baseline` or `restricted`"
            )),
        }
    }
}

/// A Kubernetes minor version, `v1.N`, naming a version of the standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    minor: u32,
}

impl Version {
    /// The newest version whose rules are implemented.
    pub const LATEST: Version = Version { minor: 37 };

    /// `v1.minor`.
    #[must_use]
    pub const fn new(minor: u32) -> Self {
        Version { minor }
    }

    /// The minor number.
    #[must_use]
    pub fn minor(self) -> u32 {
        self.minor
    }

    /// Every version from v1.0 to [`Version::LATEST`].
    pub fn all() -> impl Iterator<Item = Version> {
        (0..=Self::LATEST.minor).map(Version::new)
    }

    /// True when this version is newer than any whose rules are implemented. Such a version is
    /// evaluated with the newest rules, as the admission controller does.
    #[must_use]
    pub fn is_newer_than_known(self) -> bool {
        self > Self::LATEST
    }

    fn at_least(self, minor: u32) -> bool {
        self.minor >= minor
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v1.{}", self.minor)
    }
}

impl Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl FromStr for Version {
    type Err = String;

    /// Parses `v1.N`, `1.N` or `latest`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text == "latest" {
            return Ok(Version::LATEST);
        }
        text.strip_prefix('v')
            .unwrap_or(text)
            .strip_prefix("1.")
            .and_then(|minor| {
                let digits = !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit());
                digits.then(|| minor.parse().ok()).flatten()
            })
            .map(Version::new)
            .ok_or_else(|| {
                format!(
                    "invalid Pod Security Standards version `{text}`: expected `v1.N` (such as \
                     `{}`) or `latest`",
                    Version::LATEST
                )
            })
    }
}

/// A control of the standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Control {
    /// Windows `hostProcess` containers are not allowed.
    HostProcess,
    /// No host network, PID or IPC namespace.
    HostNamespaces,
    /// No privileged containers.
    Privileged,
    /// Only the default capabilities may be added.
    CapabilitiesBaseline,
    /// No hostPath volumes.
    HostPathVolumes,
    /// No host ports.
    HostPorts,
    /// Probes and lifecycle hooks may not name a host.
    HostProbes,
    /// No `AppArmor` profile other than the runtime default or a localhost profile.
    AppArmor,
    /// No custom `SELinux` user or role, and only the container types.
    SeLinux,
    /// Only the default `/proc` mount, unless the pod has its own user namespace.
    ProcMountBaseline,
    /// The seccomp profile is not `Unconfined`.
    SeccompBaseline,
    /// Only namespaced, isolated sysctls.
    Sysctls,
    /// Only volume types that cannot reach the node.
    VolumeTypes,
    /// `allowPrivilegeEscalation: false` on every container.
    PrivilegeEscalation,
    /// `runAsNonRoot: true` for every container.
    RunAsNonRoot,
    /// No `runAsUser: 0`.
    RunAsUser,
    /// A `RuntimeDefault` or `Localhost` seccomp profile for every container.
    SeccompRestricted,
    /// Every container drops `ALL` and adds at most `NET_BIND_SERVICE`.
    CapabilitiesRestricted,
    /// Only the default `/proc` mount, whatever the user namespace.
    ProcMountRestricted,
}

impl Control {
    /// Every control, baseline first, in the order of the standard's text.
    pub const ALL: [Control; 19] = [
        Control::HostProcess,
        Control::HostNamespaces,
        Control::Privileged,
        Control::CapabilitiesBaseline,
        Control::HostPathVolumes,
        Control::HostPorts,
        Control::HostProbes,
        Control::AppArmor,
        Control::SeLinux,
        Control::ProcMountBaseline,
        Control::SeccompBaseline,
        Control::Sysctls,
        Control::VolumeTypes,
        Control::PrivilegeEscalation,
        Control::RunAsNonRoot,
        Control::RunAsUser,
        Control::SeccompRestricted,
        Control::CapabilitiesRestricted,
        Control::ProcMountRestricted,
    ];

    /// The check id, `pss-<level>-<control>`, such as `pss-baseline-host-namespaces`.
    #[must_use]
    pub fn id(self) -> &'static str {
        match self {
            Control::HostProcess => "pss-baseline-host-process",
            Control::HostNamespaces => "pss-baseline-host-namespaces",
            Control::Privileged => "pss-baseline-privileged",
            Control::CapabilitiesBaseline => "pss-baseline-capabilities",
            Control::HostPathVolumes => "pss-baseline-host-path-volumes",
            Control::HostPorts => "pss-baseline-host-ports",
            Control::HostProbes => "pss-baseline-host-probes",
            Control::AppArmor => "pss-baseline-apparmor",
            Control::SeLinux => "pss-baseline-selinux",
            Control::ProcMountBaseline => "pss-baseline-proc-mount",
            Control::SeccompBaseline => "pss-baseline-seccomp",
            Control::Sysctls => "pss-baseline-sysctls",
            Control::VolumeTypes => "pss-restricted-volume-types",
            Control::PrivilegeEscalation => "pss-restricted-privilege-escalation",
            Control::RunAsNonRoot => "pss-restricted-run-as-non-root",
            Control::RunAsUser => "pss-restricted-run-as-user",
            Control::SeccompRestricted => "pss-restricted-seccomp",
            Control::CapabilitiesRestricted => "pss-restricted-capabilities",
            Control::ProcMountRestricted => "pss-restricted-proc-mount",
        }
    }

    /// The control's name in the standard's text.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Control::HostProcess => "HostProcess",
            Control::HostNamespaces => "Host Namespaces",
            Control::Privileged => "Privileged Containers",
            Control::CapabilitiesBaseline | Control::CapabilitiesRestricted => "Capabilities",
            Control::HostPathVolumes => "HostPath Volumes",
            Control::HostPorts => "Host Ports",
            Control::HostProbes => "Host Probes / Lifecycle Hooks",
            Control::AppArmor => "AppArmor",
            Control::SeLinux => "SELinux",
            Control::ProcMountBaseline | Control::ProcMountRestricted => "/proc Mount Type",
            Control::SeccompBaseline | Control::SeccompRestricted => "Seccomp",
            Control::Sysctls => "Sysctls",
            Control::VolumeTypes => "Volume Types",
            Control::PrivilegeEscalation => "Privilege Escalation",
            Control::RunAsNonRoot => "Running as Non-root",
            Control::RunAsUser => "Running as Non-root user",
        }
    }

    /// The level that defines the control.
    #[must_use]
    pub fn level(self) -> Level {
        if self >= Control::VolumeTypes {
            Level::Restricted
        } else {
            Level::Baseline
        }
    }

    /// The first version of the standard with the control.
    #[must_use]
    pub fn since(self) -> Version {
        Version::new(match self {
            Control::HostProbes => 34,
            Control::PrivilegeEscalation => 8,
            Control::SeccompRestricted => 19,
            Control::CapabilitiesRestricted => 22,
            Control::RunAsUser => 23,
            Control::ProcMountRestricted => 35,
            _ => 0,
        })
    }

    /// True when a pod evaluated at `level` and `version` is held to this control.
    #[must_use]
    pub fn applies(self, level: Level, version: Version) -> bool {
        self.level() <= level && version >= self.since()
    }

    /// True for the controls that Windows pods are exempt from, from v1.25.
    fn exempts_windows(self) -> bool {
        matches!(
            self,
            Control::PrivilegeEscalation
                | Control::SeccompRestricted
                | Control::CapabilitiesRestricted
        )
    }
}

/// One place where a pod breaks a control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The field path, such as `spec.containers[0].securityContext.privileged`.
    pub field: String,
    /// Location of the field, or of its closest present parent.
    pub location: Location,
    /// The container, when the field belongs to one.
    pub container: Option<String>,
    /// The container's image, when the field belongs to a container with one.
    pub image: Option<String>,
    /// The problem, such as `must be false`.
    pub message: String,
}

/// The outcome of one control for one pod.
#[derive(Debug, Clone)]
pub struct ControlOutcome {
    /// The control.
    pub control: Control,
    /// Empty when the pod meets the control.
    pub violations: Vec<Violation>,
    /// The reason the control passed without a look at the pod, such as the Windows exemption.
    pub exemption: Option<&'static str>,
}

/// Evaluates `pod` against every control of `level` at `version`, in the order of
/// [`Control::ALL`].
#[must_use]
pub fn evaluate(pod: &PodSpec<'_>, level: Level, version: Version) -> Vec<ControlOutcome> {
    let version = version.min(Version::LATEST);
    Control::ALL
        .iter()
        .filter(|control| control.applies(level, version))
        .map(|&control| evaluate_control(pod, control, version))
        .collect()
}

/// Evaluates one control.
#[must_use]
pub fn evaluate_control(pod: &PodSpec<'_>, control: Control, version: Version) -> ControlOutcome {
    if control.exempts_windows() && version.at_least(25) && pod.is_windows() {
        return ControlOutcome {
            control,
            violations: Vec::new(),
            exemption: Some("Windows pods (`spec.os.name: windows`) are exempt from v1.25"),
        };
    }
    let mut found = Violations::default();
    if control.level() == Level::Baseline {
        baseline::check(control, pod, version, &mut found);
    } else {
        restricted::check(control, pod, &mut found);
    }
    ControlOutcome {
        control,
        violations: found.0,
        exemption: None,
    }
}

/// The violations a control found so far.
#[derive(Debug, Default)]
struct Violations(Vec<Violation>);

impl Violations {
    /// Records that `field` breaks the control.
    fn add(&mut self, field: &Field<'_>, container: Option<&Container<'_>>, message: String) {
        self.0.push(Violation {
            field: field.path().to_owned(),
            location: field.location(),
            container: container.map(|c| c.name.clone()),
            image: container.and_then(|c| c.image.map(str::to_owned)),
            message,
        });
    }

    /// Records a violation when a boolean field is `true` or not a boolean.
    fn forbid_true(&mut self, field: &Field<'_>, container: Option<&Container<'_>>) {
        match field.as_bool() {
            Typed::Value(true) => self.add(field, container, "must be unset or false".to_owned()),
            Typed::Invalid => self.add(field, container, "must be a boolean".to_owned()),
            Typed::Value(false) | Typed::Absent => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        assert_eq!("v1.25".parse::<Version>(), Ok(Version::new(25)));
        assert_eq!("1.0".parse::<Version>(), Ok(Version::new(0)));
        assert_eq!("latest".parse::<Version>(), Ok(Version::LATEST));
        assert!("v2.1".parse::<Version>().is_err());
        assert!("v1.".parse::<Version>().is_err());
        assert!("v1.+3".parse::<Version>().is_err());
        assert_eq!(Version::new(7).to_string(), "v1.7");
    }

    #[test]
    fn levels_parse() {
        assert_eq!("restricted".parse::<Level>(), Ok(Level::Restricted));
        assert!("privileged".parse::<Level>().is_err());
    }

    #[test]
    fn restricted_includes_baseline_controls() {
        let latest = Version::LATEST;
        assert!(Control::Privileged.applies(Level::Restricted, latest));
        assert!(!Control::RunAsNonRoot.applies(Level::Baseline, latest));
        assert!(!Control::RunAsUser.applies(Level::Restricted, Version::new(22)));
        assert!(Control::RunAsUser.applies(Level::Restricted, Version::new(23)));
    }

    #[test]
    fn control_ids_are_unique() {
        let mut ids: Vec<&str> = Control::ALL.iter().map(|c| c.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), Control::ALL.len());
    }
}
