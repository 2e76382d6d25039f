//! Alpine packages from apk-tools' installed database.
//!
//! | file | what it gives |
//! |---|---|
//! | `lib/apk/db/installed` | every installed package: `P` name, `V` version, `A` arch, `o` origin, `L` licence, `T` description, `U` URL, `m` maintainer, `c` commit, `C` checksum, `S`/`I` sizes, `t` build time |
//!
//! The origin is the source package: Alpine advisories (secdb and OSV) name the aports package,
//! such as `openssl` for `libssl1.1`. A record without `o:` is its own origin.
//!
//! Purl: `pkg:apk/alpine/NAME@VERSION?arch=ARCH&distro=alpine-VERSION_ID&upstream=ORIGIN`, with
//! `upstream` only when the origin differs from the name, as the deb purls do.

mod parse_installed;

use std::collections::BTreeMap;

use clearbox_oci::EntryInfo;

use crate::capture::{Capture, Fact};
use crate::catalog::{Context, Output};
use crate::package::{Distro, Location, Package, PackageKind, SourcePackage};
use crate::purl::Purl;

pub(crate) use parse_installed::{InstalledEntry, parse_installed};

pub(crate) const CATALOGER: &str = "apk-db-cataloger";

const INSTALLED: &str = "lib/apk/db/installed";

/// The database lists every file of every package; a large system stays under a few MB, so
/// 64 MiB leaves room and bounds memory.
const MAX_INSTALLED: u64 = 64 << 20;

pub(crate) fn capture(entry: &EntryInfo<'_>) -> Option<Capture> {
    (entry.path == INSTALLED).then_some(Capture::Text { max: MAX_INSTALLED })
}

pub(crate) fn catalog(ctx: &Context<'_>, distro: Option<&Distro>, out: &mut Output) {
    let Some((path, node, fact)) = ctx.fact(INSTALLED) else {
        return;
    };
    let Fact::Text(text) = fact else {
        out.not_text(ctx, &path, node, CATALOGER, fact);
        return;
    };
    let (entries, problems) = parse_installed(&String::from_utf8_lossy(text));
    for problem in problems {
        out.unknowns
            .push(ctx.unknown(&path, node, CATALOGER, problem));
    }
    for entry in &entries {
        out.packages
            .push(package(entry, distro, ctx.location(&path, node)));
    }
}

pub(crate) fn package(
    entry: &InstalledEntry,
    distro: Option<&Distro>,
    location: Location,
) -> Package {
    let origin = entry.origin.clone().unwrap_or_else(|| entry.name.clone());
    let namespace = distro.map_or("alpine", |d| d.id.as_str());
    let mut purl = Purl::new("apk", Some(namespace), &entry.name, Some(&entry.version));
    if let Some(arch) = &entry.arch {
        purl = purl.with_qualifier("arch", arch);
    }
    if let Some(d) = distro
        && let Some(version_id) = &d.version_id
    {
        purl = purl.with_qualifier("distro", &format!("{}-{version_id}", d.id));
    }
    if origin != entry.name {
        purl = purl.with_qualifier("upstream", &origin);
    }
    let mut properties = BTreeMap::new();
    let fields = [
        ("apk:checksum", &entry.checksum),
        ("apk:commit", &entry.commit),
        ("apk:size", &entry.size),
        ("apk:installed-size", &entry.installed_size),
        ("apk:build-time", &entry.build_time),
    ];
    for (name, value) in fields {
        if let Some(value) = value {
            properties.insert(name.to_owned(), value.clone());
        }
    }
    Package {
        name: entry.name.clone(),
        version: entry.version.clone(),
        kind: PackageKind::Apk,
        purl,
        licenses: entry.license.iter().cloned().collect(),
        supplier: entry.maintainer.clone(),
        description: entry.description.clone(),
        homepage: entry.url.clone(),
        source: Some(SourcePackage {
            name: origin,
            version: entry.version.clone(),
        }),
        arch: entry.arch.clone(),
        found_by: CATALOGER,
        locations: vec![location],
        hashes: Vec::new(),
        model: None,
        properties,
    }
}
