//! What a minimal image leaves out (CIS Docker 4.3, "unnecessary packages"): shells, busybox
//! shell applets, and package managers.
//!
//! An image counts as *minimal* here when no shell is found in it. A shell-less image cannot
//! run a package manager's maintainer scripts, so a package manager left in it is dead weight
//! that an attacker could still use. In an image with a shell it is reported but passes.
//! Only executables are looked at, by name: a package manager's library (Python's `pip`
//! module without a `pip` script) is not found.

use std::collections::{BTreeSet, HashMap};

use clearbox_oci::{ContentId, EntryKind, Node};

use super::{
    CheckOutcome, CheckResult, Evidence, ImageFacts, MAX_LISTED, code, file_evidence,
    note_unlisted, where_from,
};

/// Shells and multi-call binaries that provide one.
const SHELLS: [&str; 7] = ["sh", "bash", "dash", "ash", "zsh", "ksh", "busybox"];

/// Directories searched for [`SHELLS`].
const SHELL_DIRS: [&str; 5] = ["bin", "usr/bin", "sbin", "usr/sbin", "usr/local/bin"];

/// Busybox applet names that start a shell.
const BUSYBOX_SHELL_APPLETS: [&str; 3] = ["sh", "ash", "hush"];

/// Package manager executables; `pip` followed by a version (`pip3.11`) counts too.
const PACKAGE_MANAGERS: [&str; 10] = [
    "apt", "apt-get", "dpkg", "apk", "rpm", "dnf", "yum", "microdnf", "pip", "pip3",
];

/// Base name of a path.
fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Evidence for each shell in the image; empty when it has none.
pub(super) fn find_shells(facts: &ImageFacts<'_>) -> Vec<Evidence> {
    let mut found = Vec::new();
    // Paths already reported, as resolved files or as the links that named them.
    let mut reported = BTreeSet::new();

    // Shells by name in the usual directories.
    for dir in SHELL_DIRS {
        for shell in SHELLS {
            let path = format!("{dir}/{shell}");
            let Some((resolved, node)) = facts.tree.resolve(&path) else {
                continue;
            };
            if !node.is_file() || !node.is_executable() || reported.contains(&resolved) {
                continue;
            }
            let mut evidence = where_from(facts, &resolved, node);
            if resolved != path {
                evidence.text = format!("{} (as {})", evidence.text, code(&format!("/{path}")));
            }
            found.push(evidence);
            reported.insert(resolved);
            reported.insert(path);
        }
    }

    // Busybox binaries anywhere, and their shell applets under any name and directory.
    busybox_shells(facts, &mut reported, &mut found);
    found
}

/// Adds each busybox binary that provides a shell, and each `sh`, `ash` or `hush` link to one
/// (symlink or hard link) that is not reported yet.
fn busybox_shells(
    facts: &ImageFacts<'_>,
    reported: &mut BTreeSet<String>,
    found: &mut Vec<Evidence>,
) {
    let binaries: Vec<(&str, &Node)> = facts
        .tree
        .iter()
        .filter(|(path, node)| node.is_file() && file_name(path) == "busybox")
        .collect();
    if binaries.is_empty() {
        return;
    }
    let by_path: HashMap<&str, usize> = binaries
        .iter()
        .enumerate()
        .map(|(index, (path, _))| (*path, index))
        .collect();
    let by_content: HashMap<ContentId, usize> = binaries
        .iter()
        .enumerate()
        .filter_map(|(index, (_, node))| Some((node.content?, index)))
        .collect();

    // Every link to a busybox binary is an applet; the shell applets are kept for evidence.
    let mut applets = vec![0usize; binaries.len()];
    let mut shell_links: Vec<(&str, &Node, &'static str, usize)> = Vec::new();
    for (path, node) in facts.tree.iter() {
        let link = if node.kind == EntryKind::Symlink {
            facts
                .tree
                .resolve(path)
                .and_then(|(resolved, _)| by_path.get(resolved.as_str()).copied())
                .map(|index| ("a symlink", index))
        } else if node.is_file() && !by_path.contains_key(path) {
            node.content
                .and_then(|content| by_content.get(&content).copied())
                .map(|index| ("a hard link", index))
        } else {
            None
        };
        let Some((kind, index)) = link else { continue };
        applets[index] += 1;
        if BUSYBOX_SHELL_APPLETS.contains(&file_name(path)) {
            shell_links.push((path, node, kind, index));
        }
    }

    // The binaries: executable ones provide `busybox sh` even without links.
    for (index, (path, node)) in binaries.iter().enumerate() {
        let has_shell_link = shell_links.iter().any(|link| link.3 == index);
        if !(node.is_executable() || has_shell_link) || reported.contains(*path) {
            continue;
        }
        let mut evidence = where_from(facts, path, node);
        evidence.text = format!(
            "{}: busybox, a multi-call binary with `sh` built in and {} applet links",
            evidence.text, applets[index]
        );
        found.push(evidence);
        reported.insert((*path).to_owned());
    }
    for (path, node, kind, index) in shell_links {
        if reported.contains(path) {
            continue;
        }
        let text = format!(
            "{} is {kind} to busybox {}, which runs it as a shell",
            code(&format!("/{path}")),
            code(&format!("/{}", binaries[index].0))
        );
        found.push(file_evidence(facts, path, node.layer, &text));
        reported.insert(path.to_owned());
    }
}

pub(super) fn no_shell(shells: &[Evidence]) -> CheckResult {
    let mut result = CheckResult {
        id: "cis-docker-4.3-shell",
        cis: Some("4.3"),
        title: "No shell in the image (minimal image without unnecessary packages)",
        outcome: CheckOutcome::Pass,
        evidence: Vec::new(),
        remediation: "Remove shells and busybox from the final image, for example by building \
                      on a distroless base; use a debug image variant for troubleshooting.",
    };
    if shells.is_empty() {
        result.evidence.push(Evidence::note(format!(
            "none of {} found as executables in /bin, /usr/bin, /sbin, /usr/sbin, /usr/local/bin, \
             and no busybox binary or busybox {} link anywhere",
            SHELLS.join(", "),
            BUSYBOX_SHELL_APPLETS.join(", ")
        )));
        return result;
    }
    result.outcome = CheckOutcome::Fail;
    result.evidence.extend(
        shells
            .iter()
            .take(MAX_LISTED)
            .map(|shell| shell.clone().into_violation()),
    );
    note_unlisted(&mut result, shells.len());
    result
}

/// Returns true for the executable names in [`PACKAGE_MANAGERS`] and `pip` with a version.
fn is_package_manager(name: &str) -> bool {
    if PACKAGE_MANAGERS.contains(&name) {
        return true;
    }
    name.strip_prefix("pip").is_some_and(|version| {
        version.starts_with(|c: char| c.is_ascii_digit())
            && !version.ends_with('.')
            && version.chars().all(|c| c.is_ascii_digit() || c == '.')
    })
}

/// Evidence for each package manager executable in a `bin` or `sbin` directory.
fn find_package_managers(facts: &ImageFacts<'_>) -> Vec<Evidence> {
    let mut found = Vec::new();
    let mut seen = BTreeSet::new();
    for (path, _) in facts.tree.iter() {
        let mut components = path.rsplit('/');
        let name = components.next().unwrap_or_default();
        if !matches!(components.next(), Some("bin" | "sbin")) || !is_package_manager(name) {
            continue;
        }
        let Some((resolved, node)) = facts.tree.resolve(path) else {
            continue;
        };
        if !node.is_file() || !node.is_executable() || !seen.insert(resolved.clone()) {
            continue;
        }
        let mut evidence = where_from(facts, &resolved, node);
        if resolved != path {
            evidence.text = format!("{} (as {})", evidence.text, code(&format!("/{path}")));
        }
        found.push(evidence);
    }
    found
}

pub(super) fn no_package_manager(facts: &ImageFacts<'_>, shells: &[Evidence]) -> CheckResult {
    let mut result = CheckResult {
        id: "cis-docker-4.3-package-manager",
        cis: Some("4.3"),
        title: "No package manager left in a minimal (shell-less) image",
        outcome: CheckOutcome::Pass,
        evidence: Vec::new(),
        remediation: "Remove the package manager in the final build stage, or copy only the \
                      application and its libraries into a distroless base.",
    };
    let found = find_package_managers(facts);
    if found.is_empty() {
        result.evidence.push(Evidence::note(format!(
            "none of {}, pip<version> found as executables in a bin or sbin directory",
            PACKAGE_MANAGERS.join(", ")
        )));
        return result;
    }
    let minimal = shells.is_empty();
    let note = if minimal {
        result.outcome = CheckOutcome::Fail;
        format!(
            "no shell was found, so the image is minimal and its {} package manager executables \
             are unnecessary",
            found.len()
        )
    } else {
        format!(
            "the image has a shell (see cis-docker-4.3-shell), so it is not minimal and its {} \
             package manager executables are allowed",
            found.len()
        )
    };
    result.evidence.push(Evidence::note(note));
    let total = found.len();
    result
        .evidence
        .extend(found.into_iter().take(MAX_LISTED).map(|evidence| Evidence {
            violation: minimal,
            ..evidence
        }));
    note_unlisted(&mut result, total);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_manager_names() {
        assert!(is_package_manager("apt-get"));
        assert!(is_package_manager("microdnf"));
        assert!(is_package_manager("pip3.11"));
        assert!(is_package_manager("pip2"));
        assert!(!is_package_manager("pip-compile"));
        assert!(!is_package_manager("pipx"));
        assert!(!is_package_manager("pip3."));
        assert!(!is_package_manager("rpm2cpio"));
    }
}
