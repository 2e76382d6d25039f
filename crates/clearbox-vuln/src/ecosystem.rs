//! Which OSV ecosystems and package names a catalog's packages are looked up under: the one
//! place that maps purl types and `/etc/os-release` distributions to OSV ecosystems.
//!
//! Language packages, by purl type (<https://ossf.github.io/osv-schema/#affectedpackage-field>):
//!
//! | purl type | OSV ecosystem | name looked up | version scheme |
//! |---|---|---|---|
//! | `pypi` | `PyPI` | PEP 503 normalised name | PEP 440 |
//! | `npm` | `npm` | `@scope/name` or `name` | SemVer |
//! | `golang` | `Go` | module path, `stdlib` for the toolchain | SemVer |
//! | `cargo` | `crates.io` | crate name | SemVer |
//! | `maven` | `Maven` | `group:artifact` | Maven |
//! | `gem` | `RubyGems` | gem name | RubyGems |
//! | `nuget` | `NuGet` | package id | NuGet |
//! | `composer` | `Packagist` | `vendor/package` | Composer |
//! | `pub`, `hex`, `swift`, `cran`, `hackage` | `Pub`, `Hex`, `SwiftURL`, `CRAN`, `Hackage` | package name (`namespace/name` for `swift`) | none yet |
//!
//! OS packages, by `/etc/os-release` `ID` and `VERSION_ID`; names are source packages (dpkg
//! `Source:`, apk origin), and for rpm both the binary and the source package, because Red Hat
//! and AlmaLinux records name binary packages:
//!
//! | `ID` | ecosystems queried |
//! |---|---|
//! | `debian` | `Debian:<VERSION_ID>`, `Debian` |
//! | `ubuntu` | `Ubuntu:<V>:LTS`, `Ubuntu:<V>`, `Ubuntu:Pro:<V>:LTS`, `Ubuntu:Pro:<V>` |
//! | `alpine` | `Alpine:v<major>.<minor>` (`3.11.5` → `v3.11`) |
//! | `almalinux` | `AlmaLinux:<major>` |
//! | `rocky` | `Rocky Linux:<major>` |
//! | `rhel` | every stored `Red Hat:<product>:<version>::<stream>` whose product is `enterprise_linux` or `rhel_…` and whose version is the major or the full `VERSION_ID` |
//! | `sles`, `sles_sap`, `sled` | every stored `SUSE:<product> <major>[ SP<minor>]` |
//! | `opensuse-leap` | `openSUSE:Leap <VERSION_ID>` |
//! | `opensuse-tumbleweed` | `openSUSE:Tumbleweed` |
//!
//! Red Hat's ecosystems carry a CPE (`Red Hat:enterprise_linux:8::appstream`,
//! `Red Hat:rhel_aus:8.6::appstream`). An image does not record which repositories (CPEs) it
//! was built from, so every stored stream of the release is queried. A package found in more
//! than one stream matches each record once, since findings are merged per advisory.
//! Ubuntu Pro (ESM) records are queried too: their fixes need a Pro subscription, but an image
//! without one is still affected.

use clearbox_catalog::{Distro, Package, PackageKind, Purl, normalize_python_name};
use clearbox_version::Scheme;

/// The OSV ecosystem of a language package's purl type; `None` for OS and unknown types.
#[must_use]
pub fn ecosystem_for_purl_type(purl_type: &str) -> Option<&'static str> {
    Some(match purl_type {
        "pypi" => "PyPI",
        "npm" => "npm",
        "golang" => "Go",
        "cargo" => "crates.io",
        "maven" => "Maven",
        "gem" => "RubyGems",
        "nuget" => "NuGet",
        "composer" => "Packagist",
        "pub" => "Pub",
        "hex" => "Hex",
        "swift" => "SwiftURL",
        "cran" => "CRAN",
        "hackage" => "Hackage",
        _ => return None,
    })
}

/// The name an OSV record gives a language package, from its purl.
#[must_use]
pub fn osv_name(purl: &Purl) -> String {
    let name = purl.name.as_str();
    match (purl.ty.as_str(), purl.namespace.as_deref()) {
        ("pypi", _) => normalize_python_name(name),
        ("maven", Some(group)) => format!("{group}:{name}"),
        ("npm" | "composer" | "golang" | "swift", Some(namespace)) => format!("{namespace}/{name}"),
        _ => name.to_owned(),
    }
}

/// What one package is looked up as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lookup {
    /// Ecosystems to look up; the first is the one reported as queried.
    pub(crate) ecosystems: Vec<String>,
    /// Names to look up, in index form; the first is the one reported.
    pub(crate) names: Vec<String>,
    /// Version as compared.
    pub(crate) version: String,
    /// Scheme the version must parse with; `None` when the ecosystem has no scheme here, so
    /// only `versions` lists can match.
    pub(crate) scheme: Option<Scheme>,
}

/// Why a package has no lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NoLookup {
    /// Model weights.
    Model,
    /// An executable that no package database or build information accounts for.
    UnownedFile,
    /// An OS package of a catalog without `/etc/os-release`.
    NoDistro,
    /// An OS package of a distribution without an advisory ecosystem.
    UnsupportedDistro(String),
    /// An OS package of a distribution whose `/etc/os-release` has no `VERSION_ID`.
    NoDistroVersion(String),
    /// A purl type with no OSV ecosystem.
    UnsupportedType(String),
}

/// The ecosystems of a distribution's OS packages. `stored` lists every ecosystem in the
/// database, for the CPE- and product-named families (Red Hat, SUSE).
pub(crate) fn os_ecosystems(distro: &Distro, stored: &[String]) -> Result<Vec<String>, NoLookup> {
    let version = distro
        .version_id
        .as_deref()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| NoLookup::NoDistroVersion(distro.id.clone()));
    let major = |v: &str| v.split('.').next().unwrap_or(v).to_owned();
    Ok(match distro.id.as_str() {
        "debian" => vec![format!("Debian:{}", version?), "Debian".to_owned()],
        "ubuntu" => {
            let v = version?;
            vec![
                format!("Ubuntu:{v}:LTS"),
                format!("Ubuntu:{v}"),
                format!("Ubuntu:Pro:{v}:LTS"),
                format!("Ubuntu:Pro:{v}"),
            ]
        }
        "alpine" => {
            let v = version?;
            let release: Vec<&str> = v.split('.').take(2).collect();
            vec![format!("Alpine:v{}", release.join("."))]
        }
        "almalinux" => vec![format!("AlmaLinux:{}", major(version?))],
        "rocky" => vec![format!("Rocky Linux:{}", major(version?))],
        "rhel" => {
            let v = version?;
            let major = major(v);
            stored
                .iter()
                .filter(|e| {
                    let parts: Vec<&str> = e.split(':').collect();
                    parts.first() == Some(&"Red Hat")
                        && parts
                            .get(1)
                            .is_some_and(|p| *p == "enterprise_linux" || p.starts_with("rhel_"))
                        && parts.get(2).is_some_and(|cpe| *cpe == major || *cpe == v)
                })
                .cloned()
                .collect()
        }
        "sles" | "sles_sap" | "sled" => {
            let v = version?;
            let suffix = match v.split_once('.') {
                Some((major, minor)) if minor != "0" => format!(" {major} SP{minor}"),
                Some((major, _)) => format!(" {major}"),
                None => format!(" {v}"),
            };
            stored
                .iter()
                .filter(|e| e.starts_with("SUSE:") && e.ends_with(&suffix))
                .cloned()
                .collect()
        }
        "opensuse-leap" => vec![format!("openSUSE:Leap {}", version?)],
        "opensuse-tumbleweed" => vec!["openSUSE:Tumbleweed".to_owned()],
        other => return Err(NoLookup::UnsupportedDistro(other.to_owned())),
    })
}

/// Decides what to look `package` up as. `os` is the result of [`os_ecosystems`] for the
/// catalog's distribution.
pub(crate) fn lookup(
    package: &Package,
    os: Option<&Result<Vec<String>, NoLookup>>,
) -> Result<Lookup, NoLookup> {
    let version = package.version.as_str();
    match package.kind {
        PackageKind::Model => Err(NoLookup::Model),
        PackageKind::File => Err(NoLookup::UnownedFile),
        PackageKind::Deb | PackageKind::Apk | PackageKind::Rpm => {
            let ecosystems = os.ok_or(NoLookup::NoDistro)?.clone()?;
            Ok(os_lookup(package, ecosystems))
        }
        PackageKind::GoStdlib => Ok(Lookup {
            ecosystems: vec!["Go".to_owned()],
            names: vec!["stdlib".to_owned()],
            version: version.strip_prefix("go").unwrap_or(version).to_owned(),
            scheme: Some(Scheme::Semver),
        }),
        PackageKind::GoModule => Ok(Lookup {
            ecosystems: vec!["Go".to_owned()],
            names: vec![package.name.clone()],
            version: version.strip_prefix('v').unwrap_or(version).to_owned(),
            scheme: Some(Scheme::Semver),
        }),
        PackageKind::Python => Ok(Lookup {
            ecosystems: vec!["PyPI".to_owned()],
            names: vec![normalize_python_name(&package.name)],
            version: version.to_owned(),
            scheme: Some(Scheme::Pep440),
        }),
        // Every other kind (npm, Java, Rust crates, SBOM-only libraries) by its purl type.
        _ => {
            let purl = &package.purl;
            let ecosystem = ecosystem_for_purl_type(&purl.ty)
                .ok_or_else(|| NoLookup::UnsupportedType(purl.ty.clone()))?;
            let version = match (ecosystem, version) {
                ("npm" | "crates.io", v) => v.strip_prefix('v').unwrap_or(v),
                (_, v) => v,
            };
            Ok(Lookup {
                ecosystems: vec![ecosystem.to_owned()],
                names: vec![osv_name(purl)],
                version: version.to_owned(),
                scheme: Scheme::for_ecosystem(ecosystem),
            })
        }
    }
}

fn os_lookup(package: &Package, ecosystems: Vec<String>) -> Lookup {
    let (mut name, mut version) = match &package.source {
        Some(source) => (source.name.clone(), source.version.clone()),
        None => (package.name.clone(), package.version.clone()),
    };
    let scheme = match package.kind {
        PackageKind::Apk => Scheme::Apk,
        PackageKind::Rpm => Scheme::Rpm,
        _ => Scheme::Deb,
    };
    let mut names = vec![name.clone()];
    if package.kind == PackageKind::Rpm {
        // rpm advisories name binary packages; the source RPM is a second name. A purl's
        // `upstream` may hold the source RPM file name (`openssl-1.1.1k-7.el8.src.rpm`).
        let from_file = name
            .strip_suffix(".src.rpm")
            .and_then(split_nvr)
            .map(|(source_name, _)| source_name.to_owned());
        if let Some(source_name) = from_file {
            name = source_name;
        }
        version = rpm_version(package);
        names = vec![package.name.clone()];
        if name != package.name {
            names.push(name);
        }
    }
    Lookup {
        ecosystems,
        names,
        version,
        scheme: Some(scheme),
    }
}

/// The EVR of an rpm package, with the purl's `epoch` qualifier when the version has none.
fn rpm_version(package: &Package) -> String {
    match package.purl.qualifiers.get("epoch") {
        Some(epoch) if !package.version.contains(':') && epoch != "0" => {
            format!("{epoch}:{}", package.version)
        }
        _ => package.version.clone(),
    }
}

/// Splits `name-version-release` at its last two hyphens.
fn split_nvr(nvr: &str) -> Option<(&str, &str)> {
    let (rest, _release) = nvr.rsplit_once('-')?;
    let (name, _version) = rest.rsplit_once('-')?;
    Some((name, &nvr[name.len() + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distro(id: &str, version: Option<&str>) -> Distro {
        Distro {
            id: id.to_owned(),
            version_id: version.map(str::to_owned),
            codename: None,
            pretty_name: None,
        }
    }

    #[test]
    fn os_ecosystem_table() {
        let stored: Vec<String> = [
            "Red Hat:enterprise_linux:8::appstream",
            "Red Hat:rhel_aus:8.6::appstream",
            "Red Hat:rhel_aus:8.4::appstream",
            "Red Hat:enterprise_linux:9::baseos",
            "Red Hat:jboss_enterprise_application_platform:8",
            "SUSE:Linux Enterprise Server 15 SP4",
            "SUSE:Linux Enterprise Module for Basesystem 15 SP4",
            "SUSE:Linux Enterprise Server 15 SP5",
        ]
        .map(str::to_owned)
        .into();
        let cases: [(&str, &str, &[&str]); 8] = [
            ("debian", "12", &["Debian:12", "Debian"]),
            ("alpine", "3.11.5", &["Alpine:v3.11"]),
            ("almalinux", "9.3", &["AlmaLinux:9"]),
            ("rocky", "8.9", &["Rocky Linux:8"]),
            (
                "ubuntu",
                "22.04",
                &[
                    "Ubuntu:22.04:LTS",
                    "Ubuntu:22.04",
                    "Ubuntu:Pro:22.04:LTS",
                    "Ubuntu:Pro:22.04",
                ],
            ),
            (
                "rhel",
                "8.6",
                &[
                    "Red Hat:enterprise_linux:8::appstream",
                    "Red Hat:rhel_aus:8.6::appstream",
                ],
            ),
            (
                "sles",
                "15.4",
                &[
                    "SUSE:Linux Enterprise Server 15 SP4",
                    "SUSE:Linux Enterprise Module for Basesystem 15 SP4",
                ],
            ),
            ("opensuse-leap", "15.5", &["openSUSE:Leap 15.5"]),
        ];
        for (id, version, expected) in cases {
            let found = os_ecosystems(&distro(id, Some(version)), &stored).unwrap();
            assert_eq!(found, expected, "{id} {version}");
        }
        assert_eq!(
            os_ecosystems(&distro("debian", None), &stored),
            Err(NoLookup::NoDistroVersion("debian".to_owned()))
        );
        assert_eq!(
            os_ecosystems(&distro("arch", Some("1")), &stored),
            Err(NoLookup::UnsupportedDistro("arch".to_owned()))
        );
    }

    #[test]
    fn purl_type_table() {
        let cases = [
            ("pkg:npm/%40babel/core@7.0.0", "npm", "@babel/core"),
            (
                "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
                "Maven",
                "org.apache.logging.log4j:log4j-core",
            ),
            ("pkg:cargo/smallvec@1.6.0", "crates.io", "smallvec"),
            ("pkg:gem/rails@6.0.0", "RubyGems", "rails"),
            (
                "pkg:nuget/Newtonsoft.Json@12.0.1",
                "NuGet",
                "Newtonsoft.Json",
            ),
            (
                "pkg:composer/laravel/framework@8.0.0",
                "Packagist",
                "laravel/framework",
            ),
            ("pkg:pypi/Jinja2@2.0", "PyPI", "jinja2"),
        ];
        for (purl, ecosystem, name) in cases {
            let purl: Purl = purl.parse().unwrap();
            assert_eq!(ecosystem_for_purl_type(&purl.ty), Some(ecosystem), "{purl}");
            assert_eq!(osv_name(&purl), name, "{purl}");
        }
        assert_eq!(ecosystem_for_purl_type("deb"), None);
    }

    #[test]
    fn source_rpm_names_split() {
        assert_eq!(
            split_nvr("openssl-1.1.1k-7.el8_6"),
            Some(("openssl", "1.1.1k-7.el8_6"))
        );
        assert_eq!(split_nvr("nohyphen"), None);
    }
}
