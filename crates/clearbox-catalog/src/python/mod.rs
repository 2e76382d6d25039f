//! Python distributions installed anywhere in the image (site-packages, dist-packages,
//! virtual environments, `--target` directories).
//!
//! | file | what it gives |
//! |---|---|
//! | `*.dist-info/METADATA` | name, version, summary, licence, author, home page (wheels) |
//! | `*.egg-info/PKG-INFO`, `*.egg-info` (a file) | the same fields (setuptools installs) |
//! | `*.dist-info/RECORD` | the files the distribution installed, to mark them as owned |
//! | `*.dist-info/direct_url.json` | the URL it was installed from; for version control installs the system and commit, also as the purl's `vcs_url` qualifier |
//! | `ENV/conda-meta/*.json` | conda packages: name, version, build, channel, subdir, licence, archive digests, and the installed files, marked as owned |
//!
//! Names are normalised per PEP 503 in the purl; the package keeps the name as written.

mod parse_conda_meta;
mod parse_direct_url;
mod parse_metadata;
mod parse_record;

use std::collections::{BTreeMap, HashMap};

use clearbox_oci::EntryInfo;

use crate::capture::{Capture, Fact, file_name, parent};
use crate::catalog::{Context, Output};
use crate::package::{Package, PackageKind};
use crate::purl::Purl;

use parse_conda_meta::parse_conda_meta;
use parse_direct_url::parse_direct_url;
pub(crate) use parse_metadata::parse_metadata;
pub(crate) use parse_record::parse_record;

pub(crate) const CATALOGER: &str = "python-installed-package-cataloger";
pub(crate) const CONDA_CATALOGER: &str = "conda-meta-package-cataloger";

const MAX_METADATA: u64 = 4 << 20;
const MAX_RECORD: u64 = 16 << 20;
/// A conda record lists every installed path; the largest packages reach a few MiB.
const MAX_CONDA_META: u64 = 64 << 20;

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
    DirectUrl,
    CondaMeta,
}

fn classify(path: &str) -> Option<MetadataFile> {
    let dir = file_name(parent(path));
    match file_name(path) {
        "METADATA" if dir.ends_with(".dist-info") => Some(MetadataFile::DistInfo),
        "RECORD" if dir.ends_with(".dist-info") => Some(MetadataFile::Record),
        "PKG-INFO" if dir.ends_with(".egg-info") => Some(MetadataFile::EggInfoDir),
        name if name.ends_with(".egg-info") => Some(MetadataFile::EggInfoFile),
        "direct_url.json" if dir.ends_with(".dist-info") => Some(MetadataFile::DirectUrl),
        name if dir == "conda-meta"
            && std::path::Path::new(name)
                .extension()
                .is_some_and(|e| e == "json") =>
        {
            Some(MetadataFile::CondaMeta)
        }
        _ => None,
    }
}

pub(crate) fn capture(entry: &EntryInfo<'_>) -> Option<Capture> {
    Some(match classify(entry.path)? {
        MetadataFile::Record => Capture::Text { max: MAX_RECORD },
        MetadataFile::CondaMeta => Capture::Text {
            max: MAX_CONDA_META,
        },
        _ => Capture::Text { max: MAX_METADATA },
    })
}

/// Adds every distribution to `out` and returns which files each one owns.
pub(crate) fn catalog(ctx: &Context<'_>, out: &mut Output) -> Owners {
    let mut by_dist_info: BTreeMap<String, Owner> = BTreeMap::new();
    for (path, node, fact) in ctx.facts() {
        let Some(kind) = classify(path) else { continue };
        if matches!(
            kind,
            MetadataFile::Record | MetadataFile::DirectUrl | MetadataFile::CondaMeta
        ) {
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
        let mut purl = Purl::new("pypi", None, &metadata.name, Some(&metadata.version));
        let mut properties = BTreeMap::new();
        if kind == MetadataFile::DistInfo {
            purl = direct_url(ctx, parent(path), purl, &mut properties, out);
        }
        if kind == MetadataFile::DistInfo {
            by_dist_info.insert(
                parent(path).to_owned(),
                Owner {
                    version: metadata.version.clone(),
                    purl: purl.clone(),
                },
            );
        }
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
    conda(ctx, out);
    owners(ctx, &by_dist_info, out)
}

/// Reads the `direct_url.json` beside a `METADATA` into properties, and returns the purl with
/// a `vcs_url` qualifier when the distribution came from version control.
fn direct_url(
    ctx: &Context<'_>,
    dist_info: &str,
    purl: Purl,
    properties: &mut BTreeMap<String, String>,
    out: &mut Output,
) -> Purl {
    let path = format!("{dist_info}/direct_url.json");
    let Some((resolved, node, fact)) = ctx.fact(&path) else {
        return purl;
    };
    let Fact::Text(text) = fact else {
        out.not_text(ctx, &resolved, node, CATALOGER, fact);
        return purl;
    };

    let origin = match parse_direct_url(text) {
        Ok(origin) => origin,
        Err(reason) => {
            out.unknowns
                .push(ctx.unknown(&resolved, node, CATALOGER, reason));
            return purl;
        }
    };

    let mut put = |key: &str, value: Option<&String>| {
        if let Some(value) = value {
            properties.insert(format!("python:{key}"), value.clone());
        }
    };
    put("direct-url", Some(&origin.url));
    put("vcs", origin.vcs.as_ref());
    put("vcs-commit-id", origin.commit_id.as_ref());
    put("vcs-requested-revision", origin.requested_revision.as_ref());
    put("archive-hash", origin.archive_hash.as_ref());
    if origin.editable {
        properties.insert("python:editable".to_owned(), "true".to_owned());
    }

    match origin.vcs_url() {
        Some(vcs_url) => purl.with_qualifier("vcs_url", &vcs_url),
        None => purl,
    }
}

/// Adds every conda package and marks its installed files as owned.
fn conda(ctx: &Context<'_>, out: &mut Output) {
    for (path, node, fact) in ctx.facts() {
        if classify(path) != Some(MetadataFile::CondaMeta) {
            continue;
        }
        let Fact::Text(text) = fact else {
            out.not_text(ctx, path, node, CONDA_CATALOGER, fact);
            continue;
        };
        let record = match parse_conda_meta(text) {
            Ok(record) => record,
            Err(reason) => {
                out.unknowns
                    .push(ctx.unknown(path, node, CONDA_CATALOGER, reason));
                continue;
            }
        };
        // Installed paths are relative to the environment, the directory above `conda-meta`.
        let environment = parent(parent(path));
        for file in &record.files {
            out.owned.add_file(&format!("{environment}/{file}"));
        }
        out.packages.push(conda_package(
            &record,
            ctx.location(path, node),
            environment,
        ));
    }
}

fn conda_package(
    record: &parse_conda_meta::CondaPackage,
    location: crate::package::Location,
    environment: &str,
) -> Package {
    let mut purl = Purl::new("conda", None, &record.name, Some(&record.version));
    for (key, value) in [
        ("build", record.build.clone()),
        ("channel", record.channel_name()),
        ("subdir", record.subdir.clone()),
        ("type", record.archive_type().map(str::to_owned)),
    ] {
        if let Some(value) = value {
            purl = purl.with_qualifier(key, &value);
        }
    }
    let mut package = Package::new(
        &record.name,
        &record.version,
        PackageKind::Conda,
        purl,
        CONDA_CATALOGER,
        location,
    );
    package.licenses = record.license.iter().cloned().collect();
    let properties = &mut package.properties;
    properties.insert("conda:environment".to_owned(), format!("/{environment}"));
    for (key, value) in [
        ("conda:channel", &record.channel),
        ("conda:url", &record.url),
        ("conda:sha256", &record.sha256),
        ("conda:md5", &record.md5),
    ] {
        if let Some(value) = value {
            properties.insert(key.to_owned(), value.clone());
        }
    }
    package
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
            out.owned.add_file(&file);
            owners.insert(file, owner.clone());
        }
    }
    owners
}
