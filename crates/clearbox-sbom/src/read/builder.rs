//! Turns the entries a format reader found into a catalog: packages from purls, unknowns for
//! the rest, and the operating system.

use std::collections::BTreeMap;

use clearbox_catalog::{
    Catalog, Distro, Location, Package, PackageKind, Purl, SourcePackage, Unknown,
};

use super::Entry;
use crate::properties::{
    DISTRO_CODENAME, DISTRO_PRETTY_NAME, FOUND_BY, LOCATION, PACKAGE_TYPE, PREFIX, SOURCE_NAME,
    SOURCE_VERSION, is_model_fact,
};

/// A catalog under construction.
pub(super) struct Builder {
    reader: &'static str,
    packages: Vec<Package>,
    unknowns: Vec<Unknown>,
    distro_from_purl: Option<Distro>,
    distro_from_entry: Option<Distro>,
}

impl Builder {
    pub(super) fn new(reader: &'static str) -> Builder {
        Builder {
            reader,
            packages: Vec::new(),
            unknowns: Vec::new(),
            distro_from_purl: None,
            distro_from_entry: None,
        }
    }

    /// Adds an operating-system entry: its name is the distribution id.
    pub(super) fn add_operating_system(&mut self, entry: &Entry) {
        if self.distro_from_entry.is_none() && !entry.name.is_empty() {
            let id = entry.name.to_ascii_lowercase();
            self.distro_from_entry = Some(Distro {
                version_id: entry.version.as_deref().map(|v| distro_version(&id, v)),
                codename: entry.property(DISTRO_CODENAME).map(str::to_owned),
                pretty_name: entry
                    .property(DISTRO_PRETTY_NAME)
                    .map(str::to_owned)
                    .or_else(|| entry.description.clone()),
                id,
            });
        }
    }

    /// Adds an entry as a package, or as an unknown when it cannot be one.
    pub(super) fn add(&mut self, entry: Entry) {
        let locations = locations(&entry);
        if let Some(reason) = &entry.invalid_purl {
            self.unknown(&entry, &locations, reason.clone());
            return;
        }
        let Some(purl) = entry.purl.clone() else {
            if !entry.is_subject {
                let reason = format!("`{}` has no package URL", entry.name);
                self.unknown(&entry, &locations, reason);
            }
            return;
        };
        let Some(kind) = kind(&entry, &purl) else {
            if !entry.is_subject {
                let reason = format!(
                    "`{}` has package URL type `{}`, which clearbox does not read yet: `{purl}`",
                    entry.name, purl.ty
                );
                self.unknown(&entry, &locations, reason);
            }
            return;
        };
        if self.distro_from_purl.is_none()
            && let Some(distro) = purl.qualifiers.get("distro")
        {
            self.distro_from_purl = Some(parse_distro_qualifier(distro));
        }
        let package = build_package(entry, purl, kind, locations, self.reader);
        self.packages.push(package);
    }

    fn unknown(&mut self, entry: &Entry, locations: &[Location], reason: String) {
        let first = locations.first();
        self.unknowns.push(Unknown {
            path: first.map_or_else(|| entry.field.clone(), |l| l.path.clone()),
            layer: first.and_then(|l| l.layer.clone()),
            cataloger: self.reader,
            reason,
        });
    }

    pub(super) fn finish(mut self) -> Catalog {
        let distro = match (self.distro_from_purl, self.distro_from_entry) {
            (Some(mut from_purl), Some(from_entry)) => {
                if from_purl.id == from_entry.id {
                    from_purl.codename = from_entry.codename;
                    from_purl.pretty_name = from_entry.pretty_name;
                }
                Some(from_purl)
            }
            (from_purl, from_entry) => from_purl.or(from_entry),
        };
        self.packages.sort_by(|a, b| {
            let first = |p: &Package| p.locations.first().map(|l| l.path.clone());
            (a.kind, &a.name, &a.version, first(a)).cmp(&(b.kind, &b.name, &b.version, first(b)))
        });
        self.unknowns.sort();
        Catalog {
            distro,
            packages: self.packages,
            unknowns: self.unknowns,
        }
    }
}

fn kind(entry: &Entry, purl: &Purl) -> Option<PackageKind> {
    if entry.is_model || entry.property(PACKAGE_TYPE) == Some(PackageKind::Model.name()) {
        return Some(PackageKind::Model);
    }
    if entry.property(PACKAGE_TYPE) == Some(PackageKind::File.name()) {
        return Some(PackageKind::File);
    }
    match purl.ty.as_str() {
        "deb" => Some(PackageKind::Deb),
        "apk" => Some(PackageKind::Apk),
        "rpm" => Some(PackageKind::Rpm),
        "npm" => Some(PackageKind::Npm),
        "maven" => Some(PackageKind::Java),
        "cargo" => Some(PackageKind::RustCrate),
        "conda" => Some(PackageKind::Conda),
        "gem" | "nuget" | "composer" => Some(PackageKind::Library),
        "pypi" => Some(PackageKind::Python),
        "golang" if purl.name == "stdlib" && purl.namespace.is_none() => {
            Some(PackageKind::GoStdlib)
        }
        "golang" => Some(PackageKind::GoModule),
        "huggingface" | "mlflow" => Some(PackageKind::Model),
        _ => None,
    }
}

fn build_package(
    entry: Entry,
    purl: Purl,
    kind: PackageKind,
    locations: Vec<Location>,
    reader: &'static str,
) -> Package {
    // The purl names what advisories are matched against, so it decides the name and version.
    // The SBOM's own spelling is kept when it says the same thing (`Jinja2` for
    // `pkg:pypi/jinja2`, `go1.22.1` for `pkg:golang/stdlib@1.22.1`); a name or version that
    // says something else is kept only as a property. Models keep the SBOM's name, since
    // their generic purls carry no meaningful one.
    // Go modules and scoped npm packages are named by path, Maven artifacts by
    // `group:artifact`, as the catalogers name them.
    let purl_name = match &purl.namespace {
        Some(namespace) if matches!(kind, PackageKind::GoModule | PackageKind::Npm) => {
            format!("{namespace}/{}", purl.name)
        }
        Some(group) if kind == PackageKind::Java => format!("{group}:{}", purl.name),
        _ => purl.name.clone(),
    };
    let declared_name = entry.name.trim().to_owned();
    let mut extra = Vec::new();
    let name = if declared_name.is_empty() {
        purl_name
    } else if kind == PackageKind::Model || same_name(&declared_name, &purl_name, kind) {
        declared_name
    } else {
        extra.push(("sbom:declared-name".to_owned(), declared_name));
        purl_name
    };
    let declared_version = entry.version.clone().filter(|v| !v.is_empty());
    let mut version = match (declared_version, &purl.version) {
        (Some(declared), Some(from_purl)) if !same_version(&declared, from_purl) => {
            extra.push(("sbom:declared-version".to_owned(), declared));
            from_purl.clone()
        }
        (Some(declared), _) => declared,
        (None, from_purl) => from_purl.clone().unwrap_or_default(),
    };

    // Trivy writes a Debian or rpm epoch as a purl qualifier and leaves it out of the version.
    if matches!(kind, PackageKind::Deb | PackageKind::Rpm)
        && let Some(epoch) = purl.qualifiers.get("epoch")
        && !version.starts_with(&format!("{epoch}:"))
        && epoch != "0"
    {
        version = format!("{epoch}:{version}");
    }

    // The purl's `upstream` qualifier names the source package of apk and rpm packages too;
    // for rpm it is the source RPM's file name.
    let source = match kind {
        PackageKind::Deb | PackageKind::Apk => Some(deb_source(&entry, &purl, &name, &version)),
        PackageKind::Rpm => rpm_source(&entry, &purl, &version),
        _ => None,
    };
    let mut properties = kept_properties(&entry.properties);
    properties.extend(extra);
    Package {
        arch: purl.qualifiers.get("arch").cloned(),
        properties,
        name,
        version,
        kind,
        purl,
        licenses: entry.licenses,
        supplier: entry.supplier,
        description: entry.description,
        homepage: entry.homepage,
        source,
        found_by: reader,
        locations,
        hashes: entry.hashes,
        model: None,
    }
}

/// Whether a declared name is the purl's name spelled differently: the same after PEP 503
/// normalisation for Python, the same ignoring case for Debian packages.
fn same_name(declared: &str, name: &str, kind: PackageKind) -> bool {
    match kind {
        PackageKind::Python => clearbox_catalog::normalize_python_name(declared) == *name,
        PackageKind::Deb => declared.eq_ignore_ascii_case(name),
        _ => declared == name,
    }
}

/// Whether a declared version is the purl's version spelled differently: the Go toolchain's
/// `go` prefix, or a Debian epoch that the purl carries as a qualifier.
fn same_version(declared: &str, from_purl: &str) -> bool {
    declared == from_purl
        || declared.strip_prefix("go") == Some(from_purl)
        || from_purl.strip_prefix("go") == Some(declared)
        || declared
            .split_once(':')
            .is_some_and(|(_, rest)| rest == from_purl)
        || from_purl
            .split_once(':')
            .is_some_and(|(_, rest)| rest == declared)
}

/// Finds the Debian source package in the first of: the purl `upstream` qualifier
/// (`name@version` or `name`), clearbox properties, trivy properties, SPDX `sourceInfo`.
///
/// When none names one, the source package is the binary package, as dpkg treats a missing
/// `Source` field. A source without a version has the binary version.
fn deb_source(entry: &Entry, purl: &Purl, name: &str, version: &str) -> SourcePackage {
    let source = |n: &str, v: Option<&str>| SourcePackage {
        name: n.to_owned(),
        version: v.filter(|v| !v.is_empty()).unwrap_or(version).to_owned(),
    };
    if let Some(upstream) = purl.qualifiers.get("upstream") {
        return match upstream.split_once('@') {
            Some((n, v)) => source(n, Some(v)),
            None => source(upstream, None),
        };
    }
    if let Some(n) = entry.property(SOURCE_NAME) {
        return source(n, entry.property(SOURCE_VERSION));
    }
    if let Some(n) = entry.property("aquasecurity:trivy:SrcName") {
        let v = entry.property("aquasecurity:trivy:SrcVersion");
        let epoch = entry
            .property("aquasecurity:trivy:SrcEpoch")
            .filter(|e| !e.is_empty() && *e != "0");
        return match (epoch, v) {
            (Some(epoch), Some(v)) => source(n, Some(&format!("{epoch}:{v}"))),
            _ => source(n, v),
        };
    }
    if let Some((n, v)) = entry.source_info.as_deref().and_then(parse_source_info) {
        return source(n, Some(v));
    }
    source(name, None)
}

/// Finds an rpm's source package in clearbox properties, else in the purl's `upstream`
/// qualifier, a source RPM file name (`NAME-VERSION-RELEASE.src.rpm`). The source version
/// takes the binary's epoch, as both come from one spec file.
fn rpm_source(entry: &Entry, purl: &Purl, version: &str) -> Option<SourcePackage> {
    if let Some(name) = entry.property(SOURCE_NAME) {
        return Some(SourcePackage {
            name: name.to_owned(),
            version: entry.property(SOURCE_VERSION).unwrap_or(version).to_owned(),
        });
    }
    let file = purl.qualifiers.get("upstream")?;
    let stem = file
        .strip_suffix(".src.rpm")
        .or_else(|| file.strip_suffix(".nosrc.rpm"))?;
    let (rest, release) = stem.rsplit_once('-')?;
    let (name, source_version) = rest.rsplit_once('-')?;
    if name.is_empty() || source_version.is_empty() || release.is_empty() {
        return None;
    }
    let epoch = version.split_once(':').map(|(epoch, _)| epoch);
    Some(SourcePackage {
        name: name.to_owned(),
        version: match epoch {
            Some(epoch) => format!("{epoch}:{source_version}-{release}"),
            None => format!("{source_version}-{release}"),
        },
    })
}

/// Parses the SPDX `sourceInfo` that clearbox (`built from source package X version Y`) and
/// trivy (`built package from: X Y`) write.
fn parse_source_info(info: &str) -> Option<(&str, &str)> {
    if let Some(rest) = info.strip_prefix("built from source package ") {
        return rest.split_once(" version ");
    }
    if let Some(rest) = info.strip_prefix("built package from: ") {
        return rest.split_once(' ');
    }
    None
}

/// Collects the package's locations from clearbox properties, syft properties, trivy properties and
/// CycloneDX evidence, in that order, one per path. Paths get a leading `/` where the tool
/// wrote them relative to the image root.
fn locations(entry: &Entry) -> Vec<Location> {
    let mut out: Vec<Location> = Vec::new();
    for (prefix, layer_field) in [(LOCATION, "layer"), ("syft:location:", "layerID")] {
        let mut indexed: BTreeMap<usize, (Option<&str>, Option<&str>)> = BTreeMap::new();
        for (name, value) in &entry.properties {
            let Some((index, field)) = name
                .strip_prefix(prefix)
                .and_then(|rest| rest.split_once(':'))
            else {
                continue;
            };
            let Ok(index) = index.parse::<usize>() else {
                continue;
            };
            let slot = indexed.entry(index).or_default();
            if field == "path" {
                slot.0 = Some(value);
            } else if field == layer_field {
                slot.1 = Some(value);
            }
        }
        for (path, layer) in indexed.into_values() {
            if let Some(path) = path {
                push_location(&mut out, path, layer);
            }
        }
    }
    if let Some(path) = entry.property("aquasecurity:trivy:FilePath") {
        push_location(
            &mut out,
            path,
            entry.property("aquasecurity:trivy:LayerDiffID"),
        );
    }
    for location in &entry.locations {
        push_location(&mut out, &location.path, location.layer.as_deref());
    }
    out
}

fn push_location(out: &mut Vec<Location>, path: &str, layer: Option<&str>) {
    if path.is_empty() {
        return;
    }
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    if !out.iter().any(|l| l.path == path) {
        out.push(Location {
            path,
            layer: layer.filter(|l| !l.is_empty()).map(str::to_owned),
        });
    }
}

/// Collects the package's own properties from a clearbox document: the `clearbox:` properties
/// that no other field takes, without the prefix.
fn kept_properties(properties: &[(String, String)]) -> BTreeMap<String, String> {
    properties
        .iter()
        .filter(|(name, _)| {
            name != PACKAGE_TYPE
                && name != FOUND_BY
                && name != SOURCE_NAME
                && name != SOURCE_VERSION
                && !name.starts_with(LOCATION)
                && !is_model_fact(name)
        })
        .filter_map(|(name, value)| Some((name.strip_prefix(PREFIX)?.to_owned(), value.clone())))
        .collect()
}

/// Parses a purl `distro` qualifier such as `debian-12` or `ubuntu-22.04` into an id and a
/// version. A qualifier without a numeric suffix is an id only.
fn parse_distro_qualifier(qualifier: &str) -> Distro {
    let (id, version) = match qualifier.rsplit_once('-') {
        Some((id, version)) if version.starts_with(|c: char| c.is_ascii_digit()) => {
            (id, Some(version))
        }
        _ => (qualifier, None),
    };
    let id = id.to_ascii_lowercase();
    Distro {
        version_id: version.map(|v| distro_version(&id, v)),
        id,
        codename: None,
        pretty_name: None,
    }
}

/// Converts a distribution version to its `VERSION_ID` form.
///
/// Debian's `os-release` gives only the major release (`12`), which is what Debian advisories
/// are keyed by, while trivy writes the point release from `/etc/debian_version` (`12.5`).
fn distro_version(id: &str, version: &str) -> String {
    if id == "debian" {
        version.split('.').next().unwrap_or(version).to_owned()
    } else {
        version.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distro_qualifiers() {
        let d = parse_distro_qualifier("debian-12");
        assert_eq!(
            (d.id.as_str(), d.version_id.as_deref()),
            ("debian", Some("12"))
        );
        let d = parse_distro_qualifier("debian-12.5");
        assert_eq!(d.version_id.as_deref(), Some("12"));
        let d = parse_distro_qualifier("ubuntu-22.04");
        assert_eq!(d.version_id.as_deref(), Some("22.04"));
        let d = parse_distro_qualifier("opensuse-leap-15.5");
        assert_eq!(
            (d.id.as_str(), d.version_id.as_deref()),
            ("opensuse-leap", Some("15.5"))
        );
        let d = parse_distro_qualifier("bookworm");
        assert_eq!((d.id.as_str(), d.version_id), ("bookworm", None));
    }

    #[test]
    fn source_infos() {
        assert_eq!(
            parse_source_info("built from source package glibc version 2.36-9+deb12u10"),
            Some(("glibc", "2.36-9+deb12u10"))
        );
        assert_eq!(
            parse_source_info("built package from: gcc-12 12.2.0-14"),
            Some(("gcc-12", "12.2.0-14"))
        );
        assert_eq!(
            parse_source_info("acquired package info from DPKG DB"),
            None
        );
    }

    #[test]
    fn locations_merge_sources() {
        let entry = Entry {
            properties: vec![
                ("syft:location:0:path".into(), "/var/lib/dpkg/status".into()),
                ("syft:location:0:layerID".into(), "sha256:aa".into()),
                ("aquasecurity:trivy:FilePath".into(), "usr/lib/x".into()),
            ],
            locations: vec![Location {
                path: "/var/lib/dpkg/status".into(),
                layer: None,
            }],
            ..Entry::default()
        };
        let locations = locations(&entry);
        assert_eq!(locations.len(), 2);
        assert_eq!(locations[0].layer.as_deref(), Some("sha256:aa"));
        assert_eq!(locations[1].path, "/usr/lib/x");
    }
}
