//! npm packages: those installed in `node_modules` directories, and those a
//! `package-lock.json` lists where nothing is installed beside it.
//!
//! | file | what it gives |
//! |---|---|
//! | `**/node_modules/NAME/package.json`, `**/node_modules/@SCOPE/NAME/package.json` | name, version, description, licence, author (supplier), home page, repository, `private` |
//! | `**/package-lock.json` outside `node_modules`, when no `node_modules` directory sits beside it | name, version, licence, `resolved`, `integrity` of every non-development package, and the project itself |
//!
//! An installed package's directory counts as owned by it, so executables inside it are not
//! listed as unowned files. A project's own `package.json` outside `node_modules` is not a
//! package of the image, so it is not read. Neither are `package.json` files deeper inside a
//! package, such as `dist/esm/package.json`, which only sets the module type.
//! Purls follow purl-spec's npm type: `pkg:npm/%40scope/name@version`.

mod parse_package_json;
mod parse_package_lock;

use clearbox_oci::{EntryInfo, Node};

use crate::capture::{Capture, Fact, file_name, parent};
use crate::catalog::{Context, Output};
use crate::package::{Package, PackageKind};
use crate::purl::Purl;

use parse_package_json::{parse_package_json, supplier};
use parse_package_lock::parse_package_lock;

pub(crate) const INSTALLED_CATALOGER: &str = "npm-installed-package-cataloger";
pub(crate) const LOCK_CATALOGER: &str = "npm-package-lock-cataloger";

const MAX_PACKAGE_JSON: u64 = 4 << 20;
/// Lockfiles of large monorepos reach tens of MiB.
const MAX_LOCKFILE: u64 = 64 << 20;

/// Returns whether `path` is the `package.json` at the root of an installed package.
fn is_installed_manifest(path: &str) -> bool {
    if file_name(path) != "package.json" {
        return false;
    }
    let package_dir = parent(path);
    let holder = parent(package_dir);
    let holder = if file_name(holder).starts_with('@') {
        parent(holder)
    } else {
        holder
    };
    file_name(holder) == "node_modules" && !file_name(package_dir).starts_with(['.', '@'])
}

/// Returns whether `path` is a project's lockfile, not one shipped inside an installed package.
fn is_lockfile(path: &str) -> bool {
    file_name(path) == "package-lock.json"
        && !path.starts_with("node_modules/")
        && !path.contains("/node_modules/")
}

pub(crate) fn capture(entry: &EntryInfo<'_>) -> Option<Capture> {
    if is_installed_manifest(entry.path) {
        Some(Capture::Text {
            max: MAX_PACKAGE_JSON,
        })
    } else if is_lockfile(entry.path) {
        Some(Capture::Text { max: MAX_LOCKFILE })
    } else {
        None
    }
}

pub(crate) fn catalog(ctx: &Context<'_>, out: &mut Output) {
    for (path, node, fact) in ctx.facts() {
        if is_installed_manifest(path) {
            installed(ctx, path, node, fact, out);
        } else if is_lockfile(path) {
            let beside = format!("{}/node_modules", parent(path));
            let beside = beside.trim_start_matches('/');
            // What is installed is the better evidence; the lockfile may list packages that
            // were pruned or never installed.
            if ctx.is_dir(beside) {
                continue;
            }
            lockfile(ctx, path, node, fact, out);
        }
    }
}

fn purl(name: &str, version: &str) -> Purl {
    match name.split_once('/') {
        Some((scope, rest)) if scope.starts_with('@') => {
            Purl::new("npm", Some(scope), rest, Some(version))
        }
        _ => Purl::new("npm", None, name, Some(version)),
    }
}

fn installed(ctx: &Context<'_>, path: &str, node: &Node, fact: &Fact, out: &mut Output) {
    let Fact::Text(text) = fact else {
        out.not_text(ctx, path, node, INSTALLED_CATALOGER, fact);
        return;
    };
    let manifest = match parse_package_json(text) {
        Ok(manifest) => manifest,
        Err(reason) => {
            out.unknowns
                .push(ctx.unknown(path, node, INSTALLED_CATALOGER, reason));
            return;
        }
    };
    out.owned.add_dir(parent(path));
    let mut package = Package::new(
        &manifest.name,
        &manifest.version,
        PackageKind::Npm,
        purl(&manifest.name, &manifest.version),
        INSTALLED_CATALOGER,
        ctx.location(path, node),
    );
    package.licenses = manifest.licenses;
    package.supplier = manifest.authors.first().map(|a| supplier(a));
    package.description = manifest.description;
    package.homepage = manifest.homepage;
    if !manifest.authors.is_empty() {
        package
            .properties
            .insert("npm:author".to_owned(), manifest.authors.join(", "));
    }
    if let Some(repository) = manifest.repository {
        package
            .properties
            .insert("npm:repository".to_owned(), repository);
    }
    if manifest.private {
        package
            .properties
            .insert("npm:private".to_owned(), "true".to_owned());
    }
    out.packages.push(package);
}

fn lockfile(ctx: &Context<'_>, path: &str, node: &Node, fact: &Fact, out: &mut Output) {
    let Fact::Text(text) = fact else {
        out.not_text(ctx, path, node, LOCK_CATALOGER, fact);
        return;
    };
    let lock = match parse_package_lock(text) {
        Ok(lock) => lock,
        Err(reason) => {
            out.unknowns
                .push(ctx.unknown(path, node, LOCK_CATALOGER, reason));
            return;
        }
    };
    for problem in lock.problems.into_iter().take(100) {
        out.unknowns
            .push(ctx.unknown(path, node, LOCK_CATALOGER, problem));
    }
    for locked in lock.packages {
        let mut package = Package::new(
            &locked.name,
            &locked.version,
            PackageKind::Npm,
            purl(&locked.name, &locked.version),
            LOCK_CATALOGER,
            ctx.location(path, node),
        );
        package.licenses = locked.licenses;
        if let Some(resolved) = locked.resolved {
            package
                .properties
                .insert("npm:resolved".to_owned(), resolved);
        }
        if let Some(integrity) = locked.integrity {
            package
                .properties
                .insert("npm:integrity".to_owned(), integrity);
        }
        if locked.root {
            package
                .properties
                .insert("npm:lockfile-project".to_owned(), "true".to_owned());
        }
        out.packages.push(package);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requested_paths() {
        assert!(is_installed_manifest("app/node_modules/ms/package.json"));
        assert!(is_installed_manifest(
            "node_modules/@babel/parser/package.json"
        ));
        assert!(is_installed_manifest(
            "node_modules/express/node_modules/debug/package.json"
        ));
        assert!(!is_installed_manifest("app/package.json"));
        assert!(!is_installed_manifest(
            "node_modules/x/dist/esm/package.json"
        ));
        assert!(!is_installed_manifest("node_modules/.bin/package.json"));
        assert!(!is_installed_manifest("node_modules/@scope/package.json"));
        assert!(is_lockfile("app/package-lock.json"));
        assert!(is_lockfile("package-lock.json"));
        assert!(!is_lockfile("app/node_modules/x/package-lock.json"));
        assert!(!is_lockfile("app/node_modules/.package-lock.json"));
    }

    #[test]
    fn scoped_purls() {
        assert_eq!(
            purl("@actions/core", "1.6.0").to_string(),
            "pkg:npm/%40actions/core@1.6.0"
        );
        assert_eq!(purl("ms", "2.1.1").to_string(), "pkg:npm/ms@2.1.1");
    }
}
