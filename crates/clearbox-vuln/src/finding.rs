//! What a scan reports: findings, and notes on what could not be matched.

use std::fmt;

use clearbox_catalog::{Location, PackageKind};
use serde::{Deserialize, Serialize};

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
    /// What the advisory source says about this package: only [`FindingStatus::Affected`]
    /// findings count as vulnerable.
    pub status: FindingStatus,
    /// Why the status is not `affected`: the advisory field and value it came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
}

/// A finding's status as its advisory source states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FindingStatus {
    /// The package version is in an affected range.
    Affected,
    /// The distribution states it will not fix the vulnerability in this release.
    WillNotFix,
    /// The distribution states that its package is not affected.
    NotAffected,
}

impl FindingStatus {
    /// The status as reports spell it: `affected`, `will-not-fix`, `not-affected`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            FindingStatus::Affected => "affected",
            FindingStatus::WillNotFix => "will-not-fix",
            FindingStatus::NotAffected => "not-affected",
        }
    }

    /// Whether the finding counts as a vulnerability (for gates and severity counts).
    #[must_use]
    pub fn is_vulnerable(self) -> bool {
        self == FindingStatus::Affected
    }
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
    /// The catalog has OS packages but no `/etc/os-release`, so the distribution release, and
    /// with it the OSV ecosystem, is unknown.
    NoDistro {
        /// OS packages not matched.
        packages: usize,
    },
    /// The catalog's distribution has no advisory ecosystem in this matcher.
    UnsupportedDistro {
        /// `ID` from `/etc/os-release`.
        distro: String,
        /// Packages not matched.
        packages: usize,
    },
    /// `/etc/os-release` has no `VERSION_ID` (Debian testing or unstable, Alpine edge), so the
    /// release is unknown.
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
    /// The ecosystem has no version ordering here, so only versions listed one by one in
    /// advisories can match; ranges are not checked.
    NoVersionScheme {
        /// The OSV ecosystem.
        ecosystem: String,
        /// Packages of that ecosystem.
        packages: usize,
    },
    /// Packages whose purl type has no OSV ecosystem.
    UnsupportedPurlType {
        /// The purl type, such as `conan`.
        purl_type: String,
        /// Packages of that type.
        packages: usize,
    },
    /// Executables that no package accounts for have no name or version to look up.
    FilesNotMatched {
        /// Such files in the catalog.
        packages: usize,
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
        /// Package URL.
        purl: String,
        /// The parser's message.
        reason: String,
    },
}

impl fmt::Display for MatchNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MatchNote::NoDistro { packages } => write!(
                f,
                "{packages} OS packages not matched: the image has no `/etc/os-release`, so \
                 the distribution release is unknown"
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
            MatchNote::NoVersionScheme {
                ecosystem,
                packages,
            } => write!(
                f,
                "{packages} {ecosystem} packages matched only against versions that advisories \
                 list one by one: clearbox has no {ecosystem} version ordering, so ranges are \
                 not checked"
            ),
            MatchNote::UnsupportedPurlType {
                purl_type,
                packages,
            } => write!(
                f,
                "{packages} packages of purl type `{purl_type}` not matched: no advisory \
                 ecosystem for that type"
            ),
            MatchNote::FilesNotMatched { packages } => write!(
                f,
                "{packages} executables not matched: no package database or build information \
                 names them"
            ),
            MatchNote::ModelsNotMatched { packages } => write!(
                f,
                "{packages} models not matched: there is no advisory source for model weights"
            ),
            MatchNote::RangeSkipped {
                advisory,
                package,
                reason,
                ..
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
    /// Findings that a VEX statement marked `not_affected` or `fixed`, with the statement; see
    /// [`crate::vex::VexSet::apply`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suppressed: Vec<crate::vex::Suppressed>,
}
