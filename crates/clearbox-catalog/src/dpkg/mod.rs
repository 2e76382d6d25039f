//! Debian packages from the dpkg database.
//!
//! | file | what it gives |
//! |---|---|
//! | `var/lib/dpkg/status` | every package with `Status: … installed` |
//! | `var/lib/dpkg/status.d/NAME` | one package per file, as distroless images write it |
//! | `usr/share/doc/NAME/copyright` | declared licences |
//!
//! Each package records its source package and version: Debian advisories are filed against
//! source packages, and a binary rebuilt without source changes (`+b1`) keeps the source
//! version. A package whose version or source version dpkg would reject is not listed; it is
//! reported as an unknown instead.

mod parse_copyright;
mod parse_status;

use clearbox_oci::EntryInfo;
use clearbox_version::deb::DebVersion;

use crate::capture::{Capture, Fact, parent};
use crate::catalog::{Context, Output};
use crate::package::{Distro, Package, PackageKind, SourcePackage};
use crate::purl::Purl;

pub(crate) use parse_copyright::parse_copyright;
pub(crate) use parse_status::{StatusEntry, parse_status};

pub(crate) const CATALOGER: &str = "dpkg-db-cataloger";

/// A status file of a full system can pass 10 MB; 64 MiB leaves room and bounds memory.
const MAX_STATUS: u64 = 64 << 20;
const MAX_COPYRIGHT: u64 = 4 << 20;

pub(crate) fn capture(entry: &EntryInfo<'_>) -> Option<Capture> {
    let path = entry.path;
    if path == "var/lib/dpkg/status" || is_status_d_entry(path) {
        return Some(Capture::Text { max: MAX_STATUS });
    }
    if path.starts_with("usr/share/doc/")
        && path.ends_with("/copyright")
        && path.matches('/').count() == 4
    {
        return Some(Capture::Text { max: MAX_COPYRIGHT });
    }
    None
}

/// Files in `status.d` are package paragraphs, except the companion lists of some writers.
fn is_status_d_entry(path: &str) -> bool {
    parent(path) == "var/lib/dpkg/status.d"
        && ![".md5sums", ".list", ".conffiles", ".preinst", ".postinst"]
            .iter()
            .any(|suffix| path.ends_with(suffix))
}

pub(crate) fn catalog(ctx: &Context<'_>, distro: Option<&Distro>, out: &mut Output) {
    for (path, node, fact) in ctx.facts() {
        if path != "var/lib/dpkg/status" && !is_status_d_entry(path) {
            continue;
        }
        let Fact::Text(text) = fact else {
            out.not_text(ctx, path, node, CATALOGER, fact);
            continue;
        };
        let text = String::from_utf8_lossy(text);
        let (entries, problems) = parse_status(&text);
        for problem in problems {
            out.unknowns
                .push(ctx.unknown(path, node, CATALOGER, problem));
        }
        for entry in entries.into_iter().filter(StatusEntry::is_installed) {
            if let Err(problem) = check_versions(&entry) {
                out.unknowns
                    .push(ctx.unknown(path, node, CATALOGER, problem));
                continue;
            }
            let licenses = licenses_of(ctx, &entry.package, out);
            out.packages
                .push(package(&entry, licenses, distro, ctx.location(path, node)));
        }
    }
}

/// Rejects a package whose version or source version dpkg itself rejects: dpkg wrote no such
/// paragraph, and advisory matching could not order the version.
fn check_versions(entry: &StatusEntry) -> Result<(), String> {
    let (_, source_version) = entry.source();
    for version in [entry.version.as_str(), source_version.as_str()] {
        DebVersion::parse(version).map_err(|e| format!("package `{}`: {e}", entry.package))?;
    }
    Ok(())
}

fn licenses_of(ctx: &Context<'_>, package: &str, out: &mut Output) -> Vec<String> {
    // Multi-arch packages keep their docs under the bare package name.
    let name = package.split(':').next().unwrap_or(package);
    let path = format!("usr/share/doc/{name}/copyright");
    match ctx.fact(&path) {
        Some((_, _, Fact::Text(text))) => parse_copyright(&String::from_utf8_lossy(text)),
        Some((resolved, node, fact)) => {
            out.not_text(ctx, &resolved, node, CATALOGER, fact);
            Vec::new()
        }
        None => Vec::new(),
    }
}

fn package(
    entry: &StatusEntry,
    licenses: Vec<String>,
    distro: Option<&Distro>,
    location: crate::package::Location,
) -> Package {
    let (source_name, source_version) = entry.source();
    let namespace = distro.map_or("debian", |d| d.id.as_str());
    let mut purl = Purl::new("deb", Some(namespace), &entry.package, Some(&entry.version));
    if let Some(arch) = &entry.architecture {
        purl = purl.with_qualifier("arch", arch);
    }
    if let Some(d) = distro
        && let Some(version_id) = &d.version_id
    {
        purl = purl.with_qualifier("distro", &format!("{}-{version_id}", d.id));
    }
    if source_name != entry.package || source_version != entry.version {
        let upstream = if source_version == entry.version {
            source_name.clone()
        } else {
            format!("{source_name}@{source_version}")
        };
        purl = purl.with_qualifier("upstream", &upstream);
    }
    let mut properties = std::collections::BTreeMap::new();
    if let Some(size) = &entry.installed_size {
        properties.insert("dpkg:installed-size-kib".to_owned(), size.clone());
    }
    Package {
        name: entry.package.clone(),
        version: entry.version.clone(),
        kind: PackageKind::Deb,
        purl,
        licenses,
        supplier: entry.maintainer.clone(),
        description: entry.description.clone(),
        homepage: entry.homepage.clone(),
        source: Some(SourcePackage {
            name: source_name,
            version: source_version,
        }),
        arch: entry.architecture.clone(),
        found_by: CATALOGER,
        locations: vec![location],
        hashes: Vec::new(),
        model: None,
        properties,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::file_name;

    #[test]
    fn status_d_companions_are_skipped() {
        assert!(is_status_d_entry(
            "var/lib/dpkg/status.d/libpython3.11-minimal"
        ));
        assert!(!is_status_d_entry("var/lib/dpkg/status.d/libc6.md5sums"));
        assert!(!is_status_d_entry("var/lib/dpkg/status.d/sub/x"));
        assert_eq!(file_name("var/lib/dpkg/status"), "status");
    }
}
