//! Python distributions installed anywhere in the image (site-packages, dist-packages,
//! virtual environments, `--target` directories).
//!
//! | file | what it gives |
//! |---|---|
//! | `*.dist-info/METADATA` | name, version, summary, licence, author, home page (wheels) |
//! | `*.egg-info/PKG-INFO`, `*.egg-info` (a file) | the same fields (setuptools installs) |
//! | `*.dist-info/RECORD` | the files the distribution installed, to mark them as owned |
//!
//! Names are normalised per PEP 503 in the purl; the package keeps the name as written.

mod parse_metadata;
mod parse_record;

use std::collections::{BTreeMap, HashMap};

use clearbox_oci::EntryInfo;

use crate::capture::{Capture, Fact, file_name, parent};
use crate::catalog::{Context, Output};
use crate::package::{Package, PackageKind};
use crate::purl::Purl;

pub(crate) use parse_metadata::parse_metadata;
pub(crate) use parse_record::parse_record;

pub(crate) const CATALOGER: &str = "python-installed-package-cataloger";

const MAX_METADATA: u64 = 4 << 20;
const MAX_RECORD: u64 = 16 << 20;

/// The distribution that installed a file.
#[derive(Debug, Clone)]
pub(crate) struct Owner {
    pub(crate) version: String,
    pub(crate) purl: Purl,
}

/// File path (relative to the root) → the distribution whose `RECORD` lists it.
pub(crate) type Owners = HashMap<String, Owner>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MetadataFile {
    DistInfo,
    EggInfoDir,
    EggInfoFile,
    Record,
}

fn classify(path: &str) -> Option<MetadataFile> {
    let dir = file_name(parent(path));
    match file_name(path) {
        "METADATA" if dir.ends_with(".dist-info") => Some(MetadataFile::DistInfo),
        "RECORD" if dir.ends_with(".dist-info") => Some(MetadataFile::Record),
        "PKG-INFO" if dir.ends_with(".egg-info") => Some(MetadataFile::EggInfoDir),
        name if name.ends_with(".egg-info") => Some(MetadataFile::EggInfoFile),
        _ => None,
    }
}

pub(crate) fn capture(entry: &EntryInfo<'_>) -> Option<Capture> {
    Some(match classify(entry.path)? {
        MetadataFile::Record => Capture::Text { max: MAX_RECORD },
        _ => Capture::Text { max: MAX_METADATA },
    })
}

/// Adds every distribution to `out` and returns which files each one owns.
pub(crate) fn catalog(ctx: &Context<'_>, out: &mut Output) -> Owners {
    let mut by_dist_info: BTreeMap<String, Owner> = BTreeMap::new();
    for (path, node, fact) in ctx.facts() {
        let Some(kind) = classify(path) else { continue };
        if kind == MetadataFile::Record {
            continue;
        }
        let Fact::Text(text) = fact else {
            out.not_text(ctx, path, node, CATALOGER, fact);
            continue;
        };
        let metadata = match parse_metadata(&String::from_utf8_lossy(text)) {
            Ok(m) => m,
            Err(reason) => {
                out.unknowns
                    .push(ctx.unknown(path, node, CATALOGER, reason));
                continue;
            }
        };
        let purl = Purl::new("pypi", None, &metadata.name, Some(&metadata.version));
        if kind == MetadataFile::DistInfo {
            by_dist_info.insert(
                parent(path).to_owned(),
                Owner {
                    version: metadata.version.clone(),
                    purl: purl.clone(),
                },
            );
        }
        let mut properties = BTreeMap::new();
        let install_dir = match kind {
            MetadataFile::EggInfoFile => parent(path),
            _ => parent(parent(path)),
        };
        properties.insert("python:install-dir".to_owned(), format!("/{install_dir}"));
        out.packages.push(Package {
            name: metadata.name,
            version: metadata.version,
            kind: PackageKind::Python,
            purl,
            licenses: metadata.licenses,
            supplier: metadata.author,
            description: metadata.summary,
            homepage: metadata.home_page,
            source: None,
            arch: None,
            found_by: CATALOGER,
            locations: vec![ctx.location(path, node)],
            hashes: Vec::new(),
            model: None,
            properties,
        });
    }
    owners(ctx, &by_dist_info, out)
}

fn owners(ctx: &Context<'_>, dists: &BTreeMap<String, Owner>, out: &mut Output) -> Owners {
    let mut owners = Owners::new();
    for (path, node, fact) in ctx.facts() {
        if classify(path) != Some(MetadataFile::Record) {
            continue;
        }
        let Some(owner) = dists.get(parent(path)) else {
            continue;
        };
        let Fact::Text(text) = fact else {
            out.not_text(ctx, path, node, CATALOGER, fact);
            continue;
        };
        let site = parent(parent(path));
        for file in parse_record(&String::from_utf8_lossy(text), site) {
            owners.insert(file, owner.clone());
        }
    }
    owners
}
