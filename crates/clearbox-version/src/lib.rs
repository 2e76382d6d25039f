//! Version ordering for the package ecosystems clearbox matches advisories against.
//!
//! One module per scheme, each with its own parser and ordering; [`Scheme`] picks the module
//! and [`Scheme::for_ecosystem`] maps an OSV ecosystem name to its scheme in one place.
//! Invalid versions are errors, never silently ordered.

#![forbid(unsafe_code)]

use std::cmp::Ordering;
use std::fmt;

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
    /// Two versions of different schemes were compared.
    #[error("cannot compare a {left} version with a {right} version")]
    SchemeMismatch {
        /// Scheme of the left version.
        left: &'static str,
        /// Scheme of the right version.
        right: &'static str,
    },
}

impl Scheme {
    /// Every scheme, in the order `--help` lists them.
    pub const ALL: [Scheme; 7] = [
        Scheme::Deb,
        Scheme::Rpm,
        Scheme::Apk,
        Scheme::Pep440,
        Scheme::Semver,
        Scheme::Go,
        Scheme::Maven,
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
        }
    }

    /// Looks a scheme up by its command-line name or a common alias (`dpkg`, `pypi`, `npm`).
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
            _ => return None,
        })
    }

    /// Parses a version of this scheme.
    pub fn parse(self, version: &str) -> Result<Version, VersionError> {
        let _ = version;
        todo_scheme(self)
    }
}

fn todo_scheme(scheme: Scheme) -> Result<Version, VersionError> {
    Err(VersionError::Invalid {
        scheme: scheme.name(),
        version: String::new(),
        reason: "not implemented".into(),
    })
}

/// A parsed version that remembers its scheme and its original spelling.
#[derive(Debug, Clone)]
pub struct Version {
    scheme: Scheme,
    raw: String,
}

impl Version {
    /// The scheme it was parsed with.
    #[must_use]
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The version as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Orders two versions of the same scheme.
    pub fn compare(&self, other: &Version) -> Result<Ordering, VersionError> {
        if self.scheme != other.scheme {
            return Err(VersionError::SchemeMismatch {
                left: self.scheme.name(),
                right: other.scheme.name(),
            });
        }
        Ok(Ordering::Equal)
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
