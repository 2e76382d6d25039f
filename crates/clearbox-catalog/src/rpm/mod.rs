//! RPM packages from the rpm database, read without librpm.
//!
//! | file | what it gives |
//! |---|---|
//! | `var/lib/rpm/rpmdb.sqlite` (also under `usr/lib/sysimage/rpm/`, `usr/share/rpm/`) | SQLite database (rpm 4.16 and later): one stored header per package |
//! | `var/lib/rpm/Packages.db` (same directories) | rpm's "ndb" database (SUSE) |
//! | `var/lib/rpm/Packages` (same directories) | Berkeley DB hash database (rpm before 4.16) |
//! | `var/lib/rpmmanifest/container-manifest-2` | CBL-Mariner distroless manifest: name, version, epoch, arch, vendor, size, source RPM |
//!
//! From each header: name, epoch, version, release, arch, source RPM, licence, vendor
//! (supplier), summary, URL, installed size, SIGMD5, modularity label, install time and file
//! digest algorithm. The signature's algorithms, date and key ID are taken as `rpm -qi` shows
//! them. The installed file list marks those files as owned. The purl namespace is the distribution from
//! `os-release`, as purl-spec's rpm type prescribes: `rhel` becomes `redhat`, `opensuse-*`
//! becomes `opensuse` and `sles*` becomes `suse`. Without `os-release` the purl has none.
//!
//! Not done: verifying signatures (the key ID says who the package claims signed it), reading
//! dependencies (`Provides`, `Requires`), and the LMDB backend some distributions tried
//! briefly.

mod parse_bdb;
mod parse_header;
mod parse_manifest;
mod parse_ndb;
mod parse_signature;
mod parse_sqlite;

use std::collections::BTreeMap;

use clearbox_oci::{EntryInfo, Node};

use crate::capture::{Capture, Fact, SpooledFile, file_name, parent};
use crate::catalog::{Context, Output};
use crate::package::{Distro, Location, Package, PackageKind, SourcePackage};
use crate::purl::Purl;

use parse_header::{RpmHeader, parse_header};
use parse_manifest::parse_manifest;

pub(crate) const DB_CATALOGER: &str = "rpm-db-cataloger";
pub(crate) const MANIFEST_CATALOGER: &str = "rpm-manifest-cataloger";

/// Directories of the rpm database: the traditional one, the one SUSE and Fedora moved to, and
/// the one some older images use.
const DB_DIRS: [&str; 3] = ["var/lib/rpm", "usr/lib/sysimage/rpm", "usr/share/rpm"];
const MANIFEST: &str = "var/lib/rpmmanifest/container-manifest-2";

/// The rpm database of a full distribution is a few hundred MiB at most. The copy goes to a
/// temporary file, so the limit bounds local disk use, not memory.
const MAX_DATABASE: u64 = 1 << 30;
const MAX_MANIFEST: u64 = 16 << 20;
/// Problems reported per database before the rest are counted in one line, so that a
/// damaged database cannot flood the report.
const MAX_PROBLEMS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Database {
    Sqlite,
    Ndb,
    BerkeleyDb,
}

fn database(path: &str) -> Option<Database> {
    if !DB_DIRS.contains(&parent(path)) {
        return None;
    }
    match file_name(path) {
        "rpmdb.sqlite" => Some(Database::Sqlite),
        "Packages.db" => Some(Database::Ndb),
        "Packages" => Some(Database::BerkeleyDb),
        _ => None,
    }
}

pub(crate) fn capture(entry: &EntryInfo<'_>) -> Option<Capture> {
    if database(entry.path).is_some() {
        return Some(Capture::Spool { max: MAX_DATABASE });
    }
    (entry.path == MANIFEST).then_some(Capture::Text { max: MAX_MANIFEST })
}

pub(crate) fn catalog(ctx: &Context<'_>, distro: Option<&Distro>, out: &mut Output) {
    for (path, node, fact) in ctx.facts() {
        if let Some(kind) = database(path) {
            match fact {
                Fact::Spooled(copy) => read_database(ctx, distro, path, node, kind, copy, out),
                _ => out.not_text(ctx, path, node, DB_CATALOGER, fact),
            }
        } else if path == MANIFEST {
            let Fact::Text(text) = fact else {
                out.not_text(ctx, path, node, MANIFEST_CATALOGER, fact);
                continue;
            };
            let (headers, problems) = parse_manifest(&String::from_utf8_lossy(text));
            for problem in problems.into_iter().take(MAX_PROBLEMS) {
                out.unknowns
                    .push(ctx.unknown(path, node, MANIFEST_CATALOGER, problem));
            }
            for header in &headers {
                out.packages.push(package(
                    header,
                    distro,
                    ctx.location(path, node),
                    MANIFEST_CATALOGER,
                ));
            }
        }
    }
}

/// Reads one database: every header becomes a package, every unreadable record an unknown.
fn read_database(
    ctx: &Context<'_>,
    distro: Option<&Distro>,
    path: &str,
    node: &Node,
    kind: Database,
    copy: &SpooledFile,
    out: &mut Output,
) {
    let location = ctx.location(path, node);
    let mut problems = Vec::new();
    let mut on_blob = |record: u64, blob: Result<Vec<u8>, String>| {
        let header = match blob.and_then(|blob| parse_header(&blob)) {
            Ok(header) => header,
            Err(reason) => {
                problems.push(format!("package record {record}: {reason}"));
                return;
            }
        };
        for problem in &header.problems {
            problems.push(format!("package `{}`: {problem}", header.name));
        }
        for file in &header.files {
            out.owned.add_file(file);
        }
        out.packages
            .push(package(&header, distro, location.clone(), DB_CATALOGER));
    };
    let result = match kind {
        Database::Sqlite => parse_sqlite::read_sqlite(copy.path(), &mut on_blob),
        Database::Ndb => copy
            .open()
            .map_err(|e| format!("failed to open the database copy: {e}"))
            .and_then(|file| parse_ndb::read_ndb(&file, &mut on_blob)),
        Database::BerkeleyDb => copy
            .open()
            .map_err(|e| format!("failed to open the database copy: {e}"))
            .and_then(|file| parse_bdb::read_bdb(&file, &mut on_blob)),
    };
    if let Err(reason) = result {
        problems.push(reason);
    }
    let total = problems.len();
    for problem in problems.into_iter().take(MAX_PROBLEMS) {
        out.unknowns
            .push(ctx.unknown(path, node, DB_CATALOGER, problem));
    }
    if total > MAX_PROBLEMS {
        out.unknowns.push(ctx.unknown(
            path,
            node,
            DB_CATALOGER,
            format!("{} more problems not listed", total - MAX_PROBLEMS),
        ));
    }
}

/// Returns the purl namespace for a distribution id, as purl-spec's rpm examples spell vendors.
fn namespace(id: &str) -> &str {
    match id {
        "rhel" => "redhat",
        id if id.starts_with("opensuse") => "opensuse",
        id if id.starts_with("sles") || id == "sled" => "suse",
        id => id,
    }
}

fn package(
    header: &RpmHeader,
    distro: Option<&Distro>,
    location: Location,
    found_by: &'static str,
) -> Package {
    let version_release = format!("{}-{}", header.version, header.release);
    let version = match header.epoch {
        Some(epoch) => format!("{epoch}:{version_release}"),
        None => version_release.clone(),
    };
    // purl-spec puts the epoch in a qualifier, not in the version.
    let mut purl = Purl::new(
        "rpm",
        distro.map(|d| namespace(&d.id)),
        &header.name,
        Some(&version_release),
    );
    if let Some(arch) = &header.arch {
        purl = purl.with_qualifier("arch", arch);
    }
    if let Some(epoch) = header.epoch {
        purl = purl.with_qualifier("epoch", &epoch.to_string());
    }
    if let Some(d) = distro
        && let Some(version_id) = &d.version_id
    {
        purl = purl.with_qualifier("distro", &format!("{}-{version_id}", d.id));
    }
    if let Some(srpm) = &header.source_rpm {
        purl = purl.with_qualifier("upstream", srpm);
    }

    let mut properties = BTreeMap::new();
    if let Some(size) = header.size {
        properties.insert("rpm:size".to_owned(), size.to_string());
    }
    if let Some(sigmd5) = &header.sigmd5 {
        properties.insert("rpm:sigmd5".to_owned(), sigmd5.clone());
    }
    if let Some(label) = &header.modularity_label {
        properties.insert("rpm:modularity-label".to_owned(), label.clone());
    }
    if let Some(srpm) = &header.source_rpm {
        properties.insert("rpm:source-rpm".to_owned(), srpm.clone());
    }
    if let Some(time) = header.install_time {
        properties.insert("rpm:install-time".to_owned(), time.to_string());
    }
    if let Some(signature) = &header.signature {
        properties.insert("rpm:signature".to_owned(), signature.clone());
    }
    if let Some(algorithm) = &header.file_digest_algorithm {
        properties.insert("rpm:file-digest-algorithm".to_owned(), algorithm.clone());
    }

    let mut package = Package::new(
        &header.name,
        version,
        PackageKind::Rpm,
        purl,
        found_by,
        location,
    );
    package.licenses = header.license.iter().cloned().collect();
    package.supplier.clone_from(&header.vendor);
    package.description.clone_from(&header.summary);
    package.homepage.clone_from(&header.url);
    package.arch.clone_from(&header.arch);
    package.source =
        header
            .source_rpm
            .as_deref()
            .and_then(parse_source_rpm)
            .map(|(name, version)| SourcePackage {
                name,
                // A source RPM and the binaries built from it share the spec file's epoch.
                version: match header.epoch {
                    Some(epoch) => format!("{epoch}:{version}"),
                    None => version,
                },
            });
    package.properties = properties;
    package
}

/// Splits a source RPM file name, `NAME-VERSION-RELEASE.src.rpm`, into the name and
/// `VERSION-RELEASE`.
pub(crate) fn parse_source_rpm(file: &str) -> Option<(String, String)> {
    let stem = file
        .strip_suffix(".src.rpm")
        .or_else(|| file.strip_suffix(".nosrc.rpm"))?;
    let (rest, release) = stem.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    if name.is_empty() || version.is_empty() || release.is_empty() {
        return None;
    }
    Some((name.to_owned(), format!("{version}-{release}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requested_paths() {
        for path in [
            "var/lib/rpm/rpmdb.sqlite",
            "var/lib/rpm/Packages.db",
            "var/lib/rpm/Packages",
            "usr/lib/sysimage/rpm/Packages.db",
            "usr/share/rpm/Packages",
        ] {
            assert!(database(path).is_some(), "{path}");
        }
        for path in [
            "var/lib/rpm/Basenames",
            "opt/var/lib/rpm/Packages",
            "var/lib/rpm/sub/Packages",
        ] {
            assert!(database(path).is_none(), "{path}");
        }
    }

    #[test]
    fn source_rpm_names() {
        assert_eq!(
            parse_source_rpm("util-linux-2.32.1-42.el8_8.src.rpm"),
            Some(("util-linux".to_owned(), "2.32.1-42.el8_8".to_owned()))
        );
        assert_eq!(parse_source_rpm("bogus.src.rpm"), None);
        assert_eq!(parse_source_rpm("a-1-2.rpm"), None);
    }

    #[test]
    fn namespaces() {
        assert_eq!(namespace("rhel"), "redhat");
        assert_eq!(namespace("opensuse-leap"), "opensuse");
        assert_eq!(namespace("sles"), "suse");
        assert_eq!(namespace("mariner"), "mariner");
    }
}
