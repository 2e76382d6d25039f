//! What a scan reports: findings, and notes on what could not be matched.

use std::fmt;

use clearbox_catalog::{Location, PackageKind};
use serde::Serialize;

use crate::osv::Reference;
use crate::severity::{CvssScore, Severity};

/// One advisory that affects one package.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The advisory.
    pub advisory: AdvisoryRef,
    /// The affected package as the catalog found it.
    pub package: PackageRef,
    /// What was looked up and which range matched.
    pub matched: MatchDetail,
}

/// The advisory side of a finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdvisoryRef {
    /// Advisory id.
    pub id: String,
    /// Other ids of the same vulnerability, sorted: the record's aliases plus the ids of
    /// records merged into this finding.
    pub aliases: Vec<String>,
    /// Ids of other stored records that matched the same package and describe the same
    /// vulnerability, merged into this finding; see the matcher's merge rule.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub merged_ids: Vec<String>,
    /// One-line summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Severity.
    pub severity: Severity,
    /// The CVSS vector the severity came from, when it came from one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cvss: Option<CvssScore>,
    /// Versions that fix the vulnerability for this package's version, spelled like the
    /// package's version (Go modules with a leading `v`); empty when none is known.
    pub fixed_versions: Vec<String>,
    /// RFC 3339 publication time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// RFC 3339 time of the record's last change.
    pub modified: String,
    /// Links from the record.
    pub references: Vec<Reference>,
}

/// The package side of a finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PackageRef {
    /// Name as the catalog found it (the binary package name for Debian).
    pub name: String,
    /// Version as the catalog found it.
    pub version: String,
    /// The OSV ecosystem queried: `PyPI`, `Go`, `Debian:12`.
    pub ecosystem: String,
    /// Package URL.
    pub purl: String,
    /// Files that prove the package, with their layers.
    pub locations: Vec<Location>,
    /// Package kind.
    pub kind: PackageKind,
}

/// How a finding was matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchDetail {
    /// The ecosystem of the record's affected entry, such as `Debian:12`.
    pub ecosystem: String,
    /// The name looked up: the normalised PyPI name, the Go module path, `stdlib`, or the
    /// Debian source package name.
    pub name: String,
    /// The version compared: for Go without the `v`, for Debian the source version.
    pub version: String,
    /// The matching interval, such as `>=0, <2.31.0`, or `listed in versions`.
    pub range: String,
}

/// Something the matcher could not check, returned beside the findings so that a report can
/// say what it did not cover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum MatchNote {
    /// The catalog has Debian packages but no `/etc/os-release`, so the Debian release, and
    /// with it the OSV ecosystem, is unknown.
    NoDistro {
        /// Debian packages not matched.
        packages: usize,
    },
    /// The catalog's distribution has no advisory ecosystem in this matcher.
    UnsupportedDistro {
        /// `ID` from `/etc/os-release`.
        distro: String,
        /// Packages not matched.
        packages: usize,
    },
    /// The distribution is Debian but `/etc/os-release` has no `VERSION_ID` (testing or
    /// unstable).
    NoDistroVersion {
        /// `ID` from `/etc/os-release`.
        distro: String,
        /// Packages not matched.
        packages: usize,
    },
    /// A package version that the ecosystem's version scheme cannot parse.
    InvalidVersion {
        /// Package name.
        package: String,
        /// The version as found.
        version: String,
        /// The ecosystem queried.
        ecosystem: String,
        /// The parser's message.
        reason: String,
    },
    /// Model weights have no advisory source.
    ModelsNotMatched {
        /// Models in the catalog.
        packages: usize,
    },
    /// An advisory names the package, but one of its ranges has a version the ecosystem's
    /// scheme cannot parse, so that range could not be checked.
    RangeSkipped {
        /// Advisory id.
        advisory: String,
        /// Package name.
        package: String,
        /// The parser's message.
        reason: String,
    },
}

impl fmt::Display for MatchNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MatchNote::NoDistro { packages } => write!(
                f,
                "{packages} Debian packages not matched: the image has no `/etc/os-release`, so \
                 the Debian release is unknown"
            ),
            MatchNote::UnsupportedDistro { distro, packages } => write!(
                f,
                "{packages} OS packages not matched: no advisory source for distribution \
                 `{distro}`"
            ),
            MatchNote::NoDistroVersion { distro, packages } => write!(
                f,
                "{packages} OS packages not matched: `/etc/os-release` of `{distro}` has no \
                 `VERSION_ID`"
            ),
            MatchNote::InvalidVersion {
                package,
                version,
                ecosystem,
                reason,
            } => write!(
                f,
                "`{package}` {version} not matched: invalid {ecosystem} version: {reason}"
            ),
            MatchNote::ModelsNotMatched { packages } => write!(
                f,
                "{packages} models not matched: there is no advisory source for model weights"
            ),
            MatchNote::RangeSkipped {
                advisory,
                package,
                reason,
            } => write!(
                f,
                "advisory `{advisory}` names `{package}` but a range of it could not be checked: \
                 {reason}"
            ),
        }
    }
}

/// Findings and notes of one scan.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MatchOutcome {
    /// Findings sorted by severity (most severe first), package name, version and advisory id.
    pub findings: Vec<Finding>,
    /// What was not matched and why.
    pub notes: Vec<MatchNote>,
}
