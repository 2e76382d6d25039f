//! Parser for npm's `package-lock.json`, lockfile versions 1 to 3
//! (<https://docs.npmjs.com/cli/configuring-npm/package-lock-json>).
//!
//! Versions 2 and 3 list every installed package in `packages`, keyed by its path, such as
//! `node_modules/a/node_modules/b`, and `""` is the project itself. An entry's `name` is set
//! when it differs from the path, as for aliases (`"case-alias": npm:case@1.6.3`). Version 1
//! nests `dependencies` objects instead and writes an alias into the version
//! (`npm:case@1.6.3`). Both are read; version 2 files carry both forms and `packages` wins.
//!
//! Development dependencies (`"dev": true`) are left out, as they are not installed in a
//! production image. Symlinked workspace entries (`"link": true`) are left out too, because
//! the entry they point to is listed under its own path.

use serde_json::{Map, Value};

use super::parse_package_json::licenses;

/// Most packages read from one lockfile; large applications list a few thousand.
const MAX_PACKAGES: usize = 200_000;

/// One package that the lockfile lists as installed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LockedPackage {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) licenses: Vec<String>,
    pub(crate) resolved: Option<String>,
    pub(crate) integrity: Option<String>,
    /// The project the lockfile belongs to (`packages[""]`).
    pub(crate) root: bool,
}

/// The packages of a lockfile and the entries that could not be read.
#[derive(Debug, Default)]
pub(crate) struct Lockfile {
    pub(crate) packages: Vec<LockedPackage>,
    pub(crate) problems: Vec<String>,
}

/// Parses a lockfile. Errors mean the file is not a lockfile at all.
pub(crate) fn parse_package_lock(text: &[u8]) -> Result<Lockfile, String> {
    let value: Value = serde_json::from_slice(text)
        .map_err(|e| format!("package-lock.json is not valid JSON: {e}"))?;
    let Value::Object(top) = &value else {
        return Err("package-lock.json is not a JSON object".to_owned());
    };
    let mut lock = Lockfile::default();
    if let Some(Value::Object(packages)) = top.get("packages") {
        read_packages(top, packages, &mut lock);
    } else if let Some(Value::Object(dependencies)) = top.get("dependencies") {
        read_dependencies(dependencies, "", &mut lock);
    } else {
        return Err("package-lock.json has neither `packages` nor `dependencies`".to_owned());
    }
    if lock.packages.len() > MAX_PACKAGES {
        lock.problems.push(format!(
            "{} packages listed; only the first {MAX_PACKAGES} are reported",
            lock.packages.len()
        ));
        lock.packages.truncate(MAX_PACKAGES);
    }
    Ok(lock)
}

fn text(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn is_true(entry: &Map<String, Value>, key: &str) -> bool {
    entry.get(key) == Some(&Value::Bool(true))
}

/// Lockfile versions 2 and 3.
fn read_packages(top: &Map<String, Value>, packages: &Map<String, Value>, lock: &mut Lockfile) {
    for (key, entry) in packages {
        if lock.packages.len() > MAX_PACKAGES {
            return;
        }
        let Value::Object(entry) = entry else {
            lock.problems
                .push(format!("entry `{key}` is not an object"));
            continue;
        };
        if is_true(entry, "dev") || is_true(entry, "link") {
            continue;
        }
        let root = key.is_empty();
        // Entries outside `node_modules` are workspace members; their packages are the
        // project's own code, listed by the workspace's own lockfile entry `""`.
        let Some(at) = key.rfind("node_modules/") else {
            if root && let Some(package) = root_package(top, entry) {
                lock.packages.push(package);
            }
            continue;
        };
        let from_path = &key[at + "node_modules/".len()..];
        let name = text(entry.get("name")).unwrap_or_else(|| from_path.to_owned());
        let Some(version) = text(entry.get("version")) else {
            lock.problems.push(format!("entry `{key}` has no version"));
            continue;
        };
        lock.packages.push(LockedPackage {
            name,
            version,
            licenses: licenses(entry.get("license"), None),
            resolved: text(entry.get("resolved")),
            integrity: text(entry.get("integrity")),
            root,
        });
    }
}

/// The project itself: `packages[""]`, with the top-level name and version as fallbacks.
fn root_package(top: &Map<String, Value>, entry: &Map<String, Value>) -> Option<LockedPackage> {
    let name = text(entry.get("name")).or_else(|| text(top.get("name")))?;
    let version = text(entry.get("version")).or_else(|| text(top.get("version")))?;
    Some(LockedPackage {
        name,
        version,
        licenses: licenses(entry.get("license"), None),
        root: true,
        ..LockedPackage::default()
    })
}

/// Lockfile version 1: nested `dependencies`; `path` names the parent for messages.
fn read_dependencies(dependencies: &Map<String, Value>, path: &str, lock: &mut Lockfile) {
    for (key, entry) in dependencies {
        if lock.packages.len() > MAX_PACKAGES {
            return;
        }
        let entry_path = if path.is_empty() {
            key.clone()
        } else {
            format!("{path} > {key}")
        };
        let Value::Object(entry) = entry else {
            lock.problems
                .push(format!("dependency `{entry_path}` is not an object"));
            continue;
        };
        // Everything below a development dependency is a development dependency too.
        if is_true(entry, "dev") {
            continue;
        }
        let Some(version) = text(entry.get("version")) else {
            lock.problems
                .push(format!("dependency `{entry_path}` has no version"));
            continue;
        };
        let (name, version) = match alias(&version) {
            Some((name, version)) => (name.to_owned(), version.to_owned()),
            None => (key.clone(), version),
        };
        lock.packages.push(LockedPackage {
            name,
            version,
            licenses: Vec::new(),
            resolved: text(entry.get("resolved")),
            integrity: text(entry.get("integrity")),
            root: false,
        });
        if let Some(Value::Object(nested)) = entry.get("dependencies") {
            read_dependencies(nested, &entry_path, lock);
        }
    }
}

/// Splits an alias version `npm:NAME@VERSION` (the name may be scoped, `@scope/name`).
fn alias(version: &str) -> Option<(&str, &str)> {
    let spec = version.strip_prefix("npm:")?;
    // A scoped name starts with `@`, so the separator is the first `@` after the first byte.
    let at = spec.get(1..)?.find('@')? + 1;
    Some((&spec[..at], &spec[at + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases() {
        assert_eq!(alias("npm:case@1.6.3"), Some(("case", "1.6.3")));
        assert_eq!(
            alias("npm:@bundled-es-modules/chai@4.2.2"),
            Some(("@bundled-es-modules/chai", "4.2.2"))
        );
        assert_eq!(alias("1.6.3"), None);
        assert_eq!(alias("npm:nover"), None);
        assert_eq!(alias("npm:"), None);
    }

    #[test]
    fn entries_without_version_are_problems() {
        let lock = parse_package_lock(
            br#"{"lockfileVersion":3,"packages":{"node_modules/a":{},"node_modules/b":{"version":"1.0.0"}}}"#,
        )
        .unwrap();
        assert_eq!(lock.packages.len(), 1);
        assert_eq!(lock.problems, ["entry `node_modules/a` has no version"]);
    }

    #[test]
    fn not_a_lockfile() {
        assert!(
            parse_package_lock(b"{broken}")
                .unwrap_err()
                .contains("JSON")
        );
        assert!(parse_package_lock(b"{}").unwrap_err().contains("neither"));
    }
}
