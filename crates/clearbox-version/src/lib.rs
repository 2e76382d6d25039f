//! Version ordering for the package ecosystems clearbox matches advisories against.
//!
//! One module per scheme, each with its own parser and ordering; [`Scheme`] picks the module
//! and [`Scheme::for_ecosystem`] maps an OSV ecosystem name to its scheme in one place.
//! Invalid versions are errors, never silently ordered. A [`Version`] keeps its parsed form, so
//! matching one version against many advisory ranges parses it once.
//!
//! # Supported
//!
//! - [`deb`]: dpkg versions, validated as dpkg validates package control data.
//! - [`rpm`]: rpm EVRs, with `~` and the `^` of rpm 4.15 and later.
//! - [`apk`]: apk-tools versions, including commit hashes and apk-tools 2's `1.2.3p1` form.
//! - [`pep440`]: PEP 440, with every spelling the specification normalises.
//! - [`semver`]: SemVer 2.0.0 with node-semver's leading `v`, plus node-semver's loose grammar
//!   through [`semver::SemverVersion::parse_loose`], and npm ranges in [`semver::range`].
//! - [`go`]: Go module versions with and without the `v`, and Go toolchain versions.
//! - [`maven`]: Maven 4's `ComparableVersion`. Maven 3.8 and earlier order some versions
//!   differently (`2.9.0-1` and `2.9.0.RC1`, `3.2.0rc2` and `3.2.0-rc.1`).
//! - [`rubygems`]: `Gem::Version`, with prerelease letters and trailing zeros.
//! - [`nuget`]: `NuGet.Versioning`, with four numbers and case-insensitive pre-release labels.
//! - [`packagist`]: Composer's normalisation and its `version_compare` order, with stability
//!   suffixes and `-dev` branches. Two different `dev-NAME` branches have no order, so comparing
//!   them is an error.
//!
//! # Not yet
//!
//! - PEP 440 specifiers and Maven, NuGet and Composer ranges; only npm ranges are parsed.
//! - Pub, CRAN and Hackage versions.
//!
//! # Never
//!
//! - Ordering an invalid version. `x/mod/semver` puts invalid strings below every valid one,
//!   osv-scalibr orders legacy Python versions, and older apk-tools compare any string. Such an
//!   order would decide whether an advisory matches, so parsing fails instead and the caller
//!   reports the version.
//! - Comparing versions of different schemes.

#![forbid(unsafe_code)]

use std::cmp::Ordering;
use std::fmt;

pub mod apk;
pub mod deb;
pub mod go;
pub mod maven;
pub mod nuget;
pub mod packagist;
pub mod pep440;
pub mod rpm;
pub mod rubygems;
pub mod semver;

mod number;

/// A version ordering scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scheme {
    /// Debian and Ubuntu (dpkg).
    Deb,
    /// Red Hat, AlmaLinux, Rocky Linux, SUSE (rpm).
    Rpm,
    /// Alpine (apk-tools).
    Apk,
    /// Python (PEP 440).
    Pep440,
    /// SemVer 2.0.0 (npm, crates.io).
    Semver,
    /// Go modules (semver with a `v` prefix, pseudo-versions, `+incompatible`).
    Go,
    /// Maven (`ComparableVersion`).
    Maven,
    /// RubyGems (`Gem::Version`).
    RubyGems,
    /// NuGet (`NuGet.Versioning`).
    NuGet,
    /// Packagist (Composer).
    Packagist,
}

/// Why a version could not be parsed or compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VersionError {
    /// The string is not a valid version of the scheme.
    #[error("invalid {scheme} version `{version}`: {reason}")]
    Invalid {
        /// Scheme name.
        scheme: &'static str,
        /// The version as given.
        version: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The scheme does not order the two versions against each other, such as two Composer
    /// branches.
    #[error("cannot order {scheme} versions `{left}` and `{right}`: {reason}")]
    Unordered {
        /// Scheme name.
        scheme: &'static str,
        /// The left version.
        left: String,
        /// The right version.
        right: String,
        /// The reason the scheme has no order for them.
        reason: String,
    },
    /// Two versions of different schemes were compared.
    #[error("cannot compare versions of different schemes (`{left}` and `{right}`)")]
    SchemeMismatch {
        /// Scheme of the left version.
        left: &'static str,
        /// Scheme of the right version.
        right: &'static str,
    },
}

impl Scheme {
    /// Every scheme, in the order `--help` lists them.
    pub const ALL: [Scheme; 10] = [
        Scheme::Deb,
        Scheme::Rpm,
        Scheme::Apk,
        Scheme::Pep440,
        Scheme::Semver,
        Scheme::Go,
        Scheme::Maven,
        Scheme::RubyGems,
        Scheme::NuGet,
        Scheme::Packagist,
    ];

    /// The scheme's command-line name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Deb => "deb",
            Scheme::Rpm => "rpm",
            Scheme::Apk => "apk",
            Scheme::Pep440 => "pep440",
            Scheme::Semver => "semver",
            Scheme::Go => "go",
            Scheme::Maven => "maven",
            Scheme::RubyGems => "rubygems",
            Scheme::NuGet => "nuget",
            Scheme::Packagist => "packagist",
        }
    }

    /// Looks a scheme up by its command-line name or a common alias (`dpkg`, `pypi`, `npm`,
    /// `gem`, `composer`).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Scheme> {
        Some(match name.to_ascii_lowercase().as_str() {
            "deb" | "dpkg" | "debian" => Scheme::Deb,
            "rpm" => Scheme::Rpm,
            "apk" | "alpine" => Scheme::Apk,
            "pep440" | "python" | "pypi" => Scheme::Pep440,
            "semver" | "npm" | "cargo" | "crates.io" => Scheme::Semver,
            "go" | "golang" => Scheme::Go,
            "maven" => Scheme::Maven,
            "rubygems" | "gem" => Scheme::RubyGems,
            "nuget" => Scheme::NuGet,
            "packagist" | "composer" => Scheme::Packagist,
            _ => return None,
        })
    }

    /// The scheme of an OSV ecosystem name. The part after `:` (a release, such as
    /// `Debian:12`) does not change the scheme.
    #[must_use]
    pub fn for_ecosystem(ecosystem: &str) -> Option<Scheme> {
        let base = ecosystem.split(':').next().unwrap_or_default();
        Some(match base {
            "Debian" | "Ubuntu" => Scheme::Deb,
            "AlmaLinux" | "Rocky Linux" | "Red Hat" | "SUSE" | "openSUSE" | "Mageia"
            | "openEuler" | "Azure Linux" => Scheme::Rpm,
            "Alpine" | "Wolfi" | "Chainguard" => Scheme::Apk,
            "PyPI" => Scheme::Pep440,
            "npm" | "crates.io" => Scheme::Semver,
            "Go" => Scheme::Go,
            "Maven" => Scheme::Maven,
            "RubyGems" => Scheme::RubyGems,
            "NuGet" => Scheme::NuGet,
            "Packagist" => Scheme::Packagist,
            _ => return None,
        })
    }

    /// Parses a version of this scheme.
    pub fn parse(self, version: &str) -> Result<Version, VersionError> {
        let parsed = match self {
            Scheme::Deb => ParsedVersion::Deb(deb::DebVersion::parse(version)?),
            Scheme::Rpm => ParsedVersion::Rpm(rpm::RpmVersion::parse(version)?),
            Scheme::Apk => ParsedVersion::Apk(apk::ApkVersion::parse(version)?),
            Scheme::Pep440 => ParsedVersion::Pep440(pep440::Pep440Version::parse(version)?),
            Scheme::Semver => ParsedVersion::Semver(semver::SemverVersion::parse(version)?),
            Scheme::Go => ParsedVersion::Go(go::GoVersion::parse(version)?),
            Scheme::Maven => ParsedVersion::Maven(maven::MavenVersion::parse(version)?),
            Scheme::RubyGems => ParsedVersion::RubyGems(rubygems::RubyGemsVersion::parse(version)?),
            Scheme::NuGet => ParsedVersion::NuGet(nuget::NuGetVersion::parse(version)?),
            Scheme::Packagist => {
                ParsedVersion::Packagist(packagist::PackagistVersion::parse(version)?)
            }
        };
        Ok(Version {
            raw: version.to_owned(),
            parsed,
        })
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl VersionError {
    /// Builds an [`VersionError::Invalid`] for `version` of `scheme`.
    pub(crate) fn invalid(scheme: Scheme, version: &str, reason: impl Into<String>) -> Self {
        VersionError::Invalid {
            scheme: scheme.name(),
            version: version.to_owned(),
            reason: reason.into(),
        }
    }
}

/// The parsed form of a version, one variant per scheme.
///
/// Comparing two parsed forms costs no further parsing, so a caller that matches one package
/// version against many advisory ranges parses each string once.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ParsedVersion {
    /// A dpkg version.
    Deb(deb::DebVersion),
    /// An rpm EVR.
    Rpm(rpm::RpmVersion),
    /// An apk-tools version.
    Apk(apk::ApkVersion),
    /// A PEP 440 version.
    Pep440(pep440::Pep440Version),
    /// A SemVer 2.0.0 version.
    Semver(semver::SemverVersion),
    /// A Go module or toolchain version.
    Go(go::GoVersion),
    /// A Maven version.
    Maven(maven::MavenVersion),
    /// A RubyGems version.
    RubyGems(rubygems::RubyGemsVersion),
    /// A NuGet version.
    NuGet(nuget::NuGetVersion),
    /// A Packagist version, normalised.
    Packagist(packagist::PackagistVersion),
}

impl ParsedVersion {
    /// Returns the scheme of this parsed form.
    #[must_use]
    pub fn scheme(&self) -> Scheme {
        match self {
            ParsedVersion::Deb(_) => Scheme::Deb,
            ParsedVersion::Rpm(_) => Scheme::Rpm,
            ParsedVersion::Apk(_) => Scheme::Apk,
            ParsedVersion::Pep440(_) => Scheme::Pep440,
            ParsedVersion::Semver(_) => Scheme::Semver,
            ParsedVersion::Go(_) => Scheme::Go,
            ParsedVersion::Maven(_) => Scheme::Maven,
            ParsedVersion::RubyGems(_) => Scheme::RubyGems,
            ParsedVersion::NuGet(_) => Scheme::NuGet,
            ParsedVersion::Packagist(_) => Scheme::Packagist,
        }
    }
}

/// A parsed version that remembers its scheme and its original spelling.
#[derive(Debug, Clone)]
pub struct Version {
    raw: String,
    parsed: ParsedVersion,
}

impl Version {
    /// The scheme it was parsed with.
    #[must_use]
    pub fn scheme(&self) -> Scheme {
        self.parsed.scheme()
    }

    /// The version as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Returns the parsed form.
    #[must_use]
    pub fn parsed(&self) -> &ParsedVersion {
        &self.parsed
    }

    /// Orders two versions of the same scheme. Fails for versions of different schemes and for
    /// two versions the scheme does not order, such as two Composer branches.
    pub fn compare(&self, other: &Version) -> Result<Ordering, VersionError> {
        match (&self.parsed, &other.parsed) {
            (ParsedVersion::Deb(a), ParsedVersion::Deb(b)) => Ok(a.cmp(b)),
            (ParsedVersion::Rpm(a), ParsedVersion::Rpm(b)) => Ok(a.cmp(b)),
            (ParsedVersion::Apk(a), ParsedVersion::Apk(b)) => Ok(a.cmp(b)),
            (ParsedVersion::Pep440(a), ParsedVersion::Pep440(b)) => Ok(a.cmp(b)),
            (ParsedVersion::Semver(a), ParsedVersion::Semver(b)) => Ok(a.cmp(b)),
            (ParsedVersion::Go(a), ParsedVersion::Go(b)) => Ok(a.cmp(b)),
            (ParsedVersion::Maven(a), ParsedVersion::Maven(b)) => Ok(a.cmp(b)),
            (ParsedVersion::RubyGems(a), ParsedVersion::RubyGems(b)) => Ok(a.cmp(b)),
            (ParsedVersion::NuGet(a), ParsedVersion::NuGet(b)) => Ok(a.cmp(b)),
            (ParsedVersion::Packagist(a), ParsedVersion::Packagist(b)) => a.compare(b),
            (a, b) => Err(VersionError::SchemeMismatch {
                left: a.scheme().name(),
                right: b.scheme().name(),
            }),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// Parses both strings with `scheme` and orders them.
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Result<Ordering, VersionError> {
    scheme.parse(a)?.compare(&scheme.parse(b)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_names_round_trip() {
        for scheme in Scheme::ALL {
            assert_eq!(Scheme::from_name(scheme.name()), Some(scheme), "{scheme}");
        }
        assert_eq!(Scheme::from_name("PyPI"), Some(Scheme::Pep440));
        assert_eq!(Scheme::from_name("gem"), Some(Scheme::RubyGems));
        assert_eq!(Scheme::from_name("composer"), Some(Scheme::Packagist));
        assert_eq!(Scheme::from_name("pub"), None);
    }

    #[test]
    fn scheme_for_ecosystem_table() {
        let cases = [
            ("Debian:12", Some(Scheme::Deb)),
            ("Ubuntu:22.04:LTS", Some(Scheme::Deb)),
            ("Red Hat", Some(Scheme::Rpm)),
            ("Alpine:v3.19", Some(Scheme::Apk)),
            ("PyPI", Some(Scheme::Pep440)),
            ("npm", Some(Scheme::Semver)),
            ("crates.io", Some(Scheme::Semver)),
            ("Go", Some(Scheme::Go)),
            ("Maven", Some(Scheme::Maven)),
            ("RubyGems", Some(Scheme::RubyGems)),
            ("NuGet", Some(Scheme::NuGet)),
            ("Packagist", Some(Scheme::Packagist)),
            ("Pub", None),
            ("", None),
        ];
        for (ecosystem, expected) in cases {
            assert_eq!(Scheme::for_ecosystem(ecosystem), expected, "`{ecosystem}`");
        }
    }

    #[test]
    fn version_keeps_spelling_and_scheme() {
        let version = Scheme::Pep440.parse("1.0-RC1").expect("version parses");
        assert_eq!(version.as_str(), "1.0-RC1");
        assert_eq!(version.to_string(), "1.0-RC1");
        assert_eq!(version.scheme(), Scheme::Pep440);
        assert!(matches!(version.parsed(), ParsedVersion::Pep440(_)));
    }

    #[test]
    fn compare_orders_each_scheme() {
        let cases = [
            (Scheme::Deb, "1.0~rc1-1", "1.0-1"),
            (Scheme::Rpm, "1.0~rc1-1.el9", "1.0-1.el9"),
            (Scheme::Apk, "1.0_rc1-r0", "1.0-r0"),
            (Scheme::Pep440, "1.0rc1", "1.0"),
            (Scheme::Semver, "1.0.0-rc.1", "1.0.0"),
            (Scheme::Go, "v1.0.0-rc.1", "v1.0.0"),
            (Scheme::Maven, "1.0-RC1", "1.0"),
            (Scheme::RubyGems, "1.0.rc1", "1.0"),
            (Scheme::NuGet, "1.0.0-rc.1", "1.0.0"),
            (Scheme::Packagist, "1.0.0-RC1", "1.0.0"),
        ];
        for (scheme, lower, higher) in cases {
            assert_eq!(
                compare(scheme, lower, higher),
                Ok(Ordering::Less),
                "{scheme}"
            );
            assert_eq!(
                compare(scheme, higher, lower),
                Ok(Ordering::Greater),
                "{scheme}"
            );
            assert_eq!(
                compare(scheme, lower, lower),
                Ok(Ordering::Equal),
                "{scheme}"
            );
        }
    }

    #[test]
    fn compare_rejects_scheme_mismatch() {
        let deb = Scheme::Deb.parse("1.0").expect("deb version parses");
        let rpm = Scheme::Rpm.parse("1.0").expect("rpm version parses");
        assert_eq!(
            deb.compare(&rpm),
            Err(VersionError::SchemeMismatch {
                left: "deb",
                right: "rpm"
            })
        );
    }

    #[test]
    fn compare_reports_invalid_version() {
        let error = compare(Scheme::Semver, "1.0", "1.0.0").expect_err("`1.0` is not SemVer");
        assert!(matches!(
            error,
            VersionError::Invalid {
                scheme: "semver",
                ..
            }
        ));
    }

    #[test]
    fn error_messages() {
        let invalid =
            VersionError::invalid(Scheme::Deb, "1:", "nothing after colon in version number");
        assert_eq!(
            invalid.to_string(),
            "invalid deb version `1:`: nothing after colon in version number"
        );
        let mismatch = VersionError::SchemeMismatch {
            left: "deb",
            right: "rpm",
        };
        assert_eq!(
            mismatch.to_string(),
            "cannot compare versions of different schemes (`deb` and `rpm`)"
        );
        let unordered = VersionError::Unordered {
            scheme: "packagist",
            left: "dev-main".into(),
            right: "dev-next".into(),
            reason: "Composer does not order two branches".into(),
        };
        assert_eq!(
            unordered.to_string(),
            "cannot order packagist versions `dev-main` and `dev-next`: Composer does not order \
             two branches"
        );
    }
}
