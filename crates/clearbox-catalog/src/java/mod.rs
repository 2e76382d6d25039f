//! Java archives and the archives nested in them, named by their Maven coordinates.
//!
//! | file | what it gives |
//! |---|---|
//! | `*.jar`, `*.war`, `*.ear`, `*.par`, `*.jpi`, `*.hpi` anywhere | every `pom.properties` (group, artifact, version); `META-INF/maven/G/A/pom.xml` coordinates where no `pom.properties` is beside it, and its licence names; `META-INF/MANIFEST.MF` coordinates, vendor, URL and licences (`Plugin-License-Name*`, `Bundle-License`) for the archive itself; the file name as a last resort |
//!
//! Each artifact becomes a package named `GROUP:ARTIFACT` (the Maven coordinates OSV and
//! Maven Central use) with purl `pkg:maven/GROUP/ARTIFACT@VERSION`, located at the archive
//! file in the image; `java:archive` names the nested archive inside it, and
//! `java:coordinates-from` says which file gave the coordinates (`file-name` marks a guess).
//! Archives are copied to temporary files and walked with the bounds in
//! [`parse_archive`](self::parse_archive).
//!
//! Not done: looking coordinates up on Maven Central by SHA-1 (clearbox works offline), and
//! reading class files.

mod parse_archive;
mod parse_manifest;
mod parse_pom;

use clearbox_oci::{EntryInfo, Node};

use crate::capture::{Capture, Fact, SpooledFile, file_name};
use crate::catalog::{Context, Output};
use crate::package::{Package, PackageKind};
use crate::purl::Purl;

use parse_archive::{GavSource, JavaArtifact, is_java_archive, parse_archive};

pub(crate) const CATALOGER: &str = "java-archive-cataloger";

/// Application archives of a few hundred MiB exist; the copy goes to a temporary file, so the
/// limit bounds local disk use.
const MAX_ARCHIVE: u64 = 2 << 30;
/// Problems reported per archive before the rest are counted in one line.
const MAX_PROBLEMS: usize = 50;

pub(crate) fn capture(entry: &EntryInfo<'_>) -> Option<Capture> {
    is_java_archive(file_name(entry.path)).then_some(Capture::Spool { max: MAX_ARCHIVE })
}

pub(crate) fn catalog(ctx: &Context<'_>, out: &mut Output) {
    for (path, node, fact) in ctx.facts() {
        if !is_java_archive(file_name(path)) {
            continue;
        }
        match fact {
            Fact::Spooled(copy) => read_archive(ctx, path, node, copy, out),
            _ => out.not_text(ctx, path, node, CATALOGER, fact),
        }
    }
}

fn read_archive(ctx: &Context<'_>, path: &str, node: &Node, copy: &SpooledFile, out: &mut Output) {
    let file = match copy.open() {
        Ok(file) => file,
        Err(e) => {
            out.unknowns.push(ctx.unknown(
                path,
                node,
                CATALOGER,
                format!("failed to open the archive copy: {e}"),
            ));
            return;
        }
    };
    let scan = parse_archive(file, file_name(path));
    let total = scan.problems.len();
    for problem in scan.problems.into_iter().take(MAX_PROBLEMS) {
        out.unknowns
            .push(ctx.unknown(path, node, CATALOGER, problem));
    }
    if total > MAX_PROBLEMS {
        out.unknowns.push(ctx.unknown(
            path,
            node,
            CATALOGER,
            format!("{} more problems not listed", total - MAX_PROBLEMS),
        ));
    }
    for artifact in &scan.artifacts {
        out.packages.push(package(artifact, ctx, path, node));
    }
}

fn package(artifact: &JavaArtifact, ctx: &Context<'_>, path: &str, node: &Node) -> Package {
    let (name, namespace) = if artifact.group_id.is_empty() {
        (artifact.artifact_id.clone(), None)
    } else {
        (
            format!("{}:{}", artifact.group_id, artifact.artifact_id),
            Some(artifact.group_id.as_str()),
        )
    };
    // NOTE: purl-spec's maven type expects a namespace; a guess from the file name has none,
    // so its purl cannot name the artifact on Maven Central.
    let purl = Purl::new(
        "maven",
        namespace,
        &artifact.artifact_id,
        Some(&artifact.version),
    );
    let mut package = Package::new(
        name,
        &artifact.version,
        PackageKind::Java,
        purl,
        CATALOGER,
        ctx.location(path, node),
    );
    package.licenses.clone_from(&artifact.licenses);
    package.supplier.clone_from(&artifact.vendor);
    package.homepage.clone_from(&artifact.url);
    let properties = &mut package.properties;
    properties.insert(
        "java:coordinates-from".to_owned(),
        artifact.source.name().to_owned(),
    );
    if artifact.source == GavSource::FileName {
        properties.insert("java:coordinates-guessed".to_owned(), "true".to_owned());
    }
    if let Some(evidence) = &artifact.evidence {
        properties.insert("java:descriptor".to_owned(), evidence.clone());
    }
    if let Some(nested) = &artifact.nested_in {
        properties.insert("java:archive".to_owned(), nested.clone());
    }
    package
}
