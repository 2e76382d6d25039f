//! Running every cataloger over a scanned image.
//!
//! Order matters where one cataloger uses another's result: the OS release comes first
//! (Debian purls carry the distro), Python before models (a model file owned by a Python
//! distribution takes that distribution's version).

use std::collections::{BTreeMap, HashMap};

use clearbox_oci::{Image, Node, OciError, Progress, ReadOptions, Scan};

use crate::capture::{Collector, Fact};
use crate::package::{Catalog, Location, Package, Unknown};
use crate::unowned::Ownership;
use crate::{apk, dpkg, golang, java, model, npm, os_release, python, rpm, rust, unowned};

/// An image's merged filesystem, its layers, and what the catalogers found in it.
#[derive(Debug)]
pub struct Contents {
    /// The packages, distro and unknowns.
    pub catalog: Catalog,
    /// The filesystem view and layer summaries, for checks that look at files.
    pub scan: Scan<Fact>,
}

impl Contents {
    /// The captured text of a small system file (`etc/passwd`, `etc/os-release`), following
    /// symlinks inside the image.
    #[must_use]
    pub fn text(&self, path: &str) -> Option<&[u8]> {
        let (resolved, _) = self.scan.tree.resolve(path)?;
        self.scan.facts().find_map(|(p, _, fact)| match fact {
            Fact::Text(text) if p == resolved => Some(text.as_slice()),
            _ => None,
        })
    }
}

/// Reads the image and catalogs everything in it.
pub fn catalog_image(
    image: &Image,
    options: &ReadOptions,
    progress: &dyn Progress,
) -> Result<Contents, OciError> {
    let scan = image.scan(&Collector::new(), options, progress)?;
    let catalog = catalog_scan(&scan);
    Ok(Contents { catalog, scan })
}

/// Runs every cataloger over a finished scan.
#[must_use]
pub fn catalog_scan(scan: &Scan<Fact>) -> Catalog {
    let ctx = Context::new(scan);
    let mut out = Output::default();

    let distro = os_release::find(&ctx, &mut out);
    dpkg::catalog(&ctx, distro.as_ref(), &mut out);
    apk::catalog(&ctx, distro.as_ref(), &mut out);
    rpm::catalog(&ctx, distro.as_ref(), &mut out);
    let owners = python::catalog(&ctx, &mut out);
    model::catalog(&ctx, &owners, &mut out);
    golang::catalog(&ctx, &mut out);
    rust::catalog(&ctx, &mut out);
    npm::catalog(&ctx, &mut out);
    java::catalog(&ctx, &mut out);
    // Last: it lists the executables that none of the catalogers above accounted for.
    unowned::catalog(&ctx, &mut out);
    report_unread_special_files(&ctx, &mut out);
    for skipped in &scan.unreadable {
        out.unknowns.push(Unknown {
            path: format!("/{}", skipped.path),
            layer: None,
            cataloger: "rootfs-reader",
            reason: skipped.reason.clone(),
        });
    }

    let packages = merge_duplicates(out.packages);
    let mut unknowns = out.unknowns;
    unknowns.sort();
    unknowns.dedup();
    Catalog {
        distro,
        packages,
        unknowns,
    }
}

/// Lists metadata paths that hold something other than a regular file, such as a `METADATA`
/// that is a symlink or a FIFO: the catalogers read regular files only, and a package whose
/// metadata they skipped must not vanish without a trace. Symlinks that resolve to a file a
/// cataloger read (Debian's `etc/os-release`) are fine.
fn report_unread_special_files(ctx: &Context<'_>, out: &mut Output) {
    for (path, node) in ctx.scan.tree.iter() {
        if node.is_file() || node.is_dir() {
            continue;
        }
        let info = clearbox_oci::EntryInfo {
            path,
            kind: clearbox_oci::EntryKind::File,
            mode: 0o644,
            size: 0,
            layer: node.layer,
        };
        if Collector::capture_for(&info).is_none() || ctx.fact(path).is_some() {
            continue;
        }
        let reason = match &node.link_target {
            Some(target) => format!(
                "symlink to `{}` that leads to no file the catalogers read; not followed",
                target.chars().take(200).collect::<String>()
            ),
            None => format!(
                "{} where a regular file was expected; not read",
                node.kind.describe()
            ),
        };
        out.unknowns
            .push(ctx.unknown(path, node, "catalog", reason));
    }
}

/// Lookups over the scan shared by all catalogers.
pub(crate) struct Context<'a> {
    scan: &'a Scan<Fact>,
    by_path: HashMap<&'a str, (&'a Node, &'a Fact)>,
}

impl<'a> Context<'a> {
    fn new(scan: &'a Scan<Fact>) -> Self {
        let by_path = scan
            .facts()
            .map(|(path, node, fact)| (path, (node, fact)))
            .collect();
        Context { scan, by_path }
    }

    /// Every captured fact, in path order.
    pub(crate) fn facts(&self) -> impl Iterator<Item = (&'a str, &'a Node, &'a Fact)> + '_ {
        self.scan.facts()
    }

    /// The fact captured for `path`, following symlinks inside the image.
    pub(crate) fn fact(&self, path: &str) -> Option<(String, &'a Node, &'a Fact)> {
        if let Some(&(node, fact)) = self.by_path.get(path) {
            return Some((path.to_owned(), node, fact));
        }
        let (resolved, _) = self.scan.tree.resolve(path)?;
        let &(node, fact) = self.by_path.get(resolved.as_str())?;
        Some((resolved, node, fact))
    }

    /// Returns the path of the file or directory that `path` names once symlinks inside the
    /// image are followed, or `None` when nothing is there.
    pub(crate) fn resolve(&self, path: &str) -> Option<String> {
        self.scan.tree.resolve(path).map(|(resolved, _)| resolved)
    }

    /// Returns whether a directory exists at `path`, following symlinks inside the image.
    pub(crate) fn is_dir(&self, path: &str) -> bool {
        self.scan
            .tree
            .resolve(path)
            .is_some_and(|(_, node)| node.is_dir())
    }

    /// The location of a file for evidence: absolute path and layer `diff_id`.
    pub(crate) fn location(&self, path: &str, node: &Node) -> Location {
        // A regular file's bytes may come from a lower layer through a hard link.
        let layer_index = node.content.map_or(node.layer, |c| c.layer);
        let layer = self.scan.layer_digest(layer_index).map(ToString::to_string);
        Location {
            path: format!("/{path}"),
            layer,
        }
    }

    /// An unknown for a file a cataloger could not read.
    pub(crate) fn unknown(
        &self,
        path: &str,
        node: &Node,
        cataloger: &'static str,
        reason: impl Into<String>,
    ) -> Unknown {
        let location = self.location(path, node);
        Unknown {
            path: location.path,
            layer: location.layer,
            cataloger,
            reason: reason.into(),
        }
    }
}

/// What catalogers add to.
#[derive(Default)]
pub(crate) struct Output {
    pub(crate) packages: Vec<Package>,
    pub(crate) unknowns: Vec<Unknown>,
    /// Files and directories that a package database or manifest lists as installed.
    pub(crate) owned: Ownership,
}

impl Output {
    /// Records a captured file that exceeded its size limit, or any other non-text capture
    /// where text was expected.
    pub(crate) fn not_text(
        &mut self,
        ctx: &Context<'_>,
        path: &str,
        node: &Node,
        cataloger: &'static str,
        fact: &Fact,
    ) {
        let reason = match fact {
            Fact::TooLarge { size, limit } => {
                format!("file is {size} bytes, larger than the {limit}-byte limit for this file")
            }
            _ => "file was not captured as text".to_owned(),
        };
        self.unknowns
            .push(ctx.unknown(path, node, cataloger, reason));
    }
}

/// Merges packages with the same kind, purl and cataloger into one with every location; a Go
/// module linked into two binaries is one package found twice. Models merge only when their
/// files were also read as the same format with the same pickle verdict. Identical bytes saved as
/// `model.safetensors` and as `pytorch_model.bin` are two models, so the pickle verdict of the
/// second stays in the SBOM.
fn merge_duplicates(packages: Vec<Package>) -> Vec<Package> {
    type Key = (
        crate::PackageKind,
        String,
        String,
        &'static str,
        Option<(String, Option<&'static str>)>,
    );
    let mut merged: BTreeMap<Key, Package> = BTreeMap::new();
    for package in packages {
        let model = package.model.as_ref().map(|facts| {
            let verdict = facts.pickle.as_ref().map(|scan| scan.verdict.name());
            (facts.format.clone(), verdict)
        });
        let key = (
            package.kind,
            package.name.clone(),
            package.purl.to_string(),
            package.found_by,
            model,
        );
        match merged.get_mut(&key) {
            Some(existing) => existing.locations.extend(package.locations),
            None => {
                merged.insert(key, package);
            }
        }
    }
    let mut packages: Vec<Package> = merged.into_values().collect();
    for package in &mut packages {
        package.locations.sort();
        package.locations.dedup();
    }
    packages.sort_by(|a, b| {
        (a.kind, &a.name, &a.version, a.locations.first()).cmp(&(
            b.kind,
            &b.name,
            &b.version,
            b.locations.first(),
        ))
    });
    packages
}
