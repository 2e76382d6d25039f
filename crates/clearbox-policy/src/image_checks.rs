//! CIS Docker Benchmark section 4 checks that need only the image: its config, manifest
//! annotations and merged filesystem.
//!
//! Every check reports one of four outcomes and lists the evidence it looked at, so a reader
//! can repeat it: the config field, or each offending path with its mode and layer. A check
//! that lacks the data to decide says so instead of passing.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use clearbox_oci::{FileTree, Node, spec::ImageConfig};
use serde::Serialize;

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckOutcome {
    /// The image meets the requirement.
    Pass,
    /// The image does not meet it.
    Fail,
    /// The requirement does not apply to this image.
    NotApplicable,
    /// The image lacks the data to decide.
    CouldNotCheck,
}

impl CheckOutcome {
    /// The label used in reports.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            CheckOutcome::Pass => "pass",
            CheckOutcome::Fail => "fail",
            CheckOutcome::NotApplicable => "not applicable",
            CheckOutcome::CouldNotCheck => "could not check",
        }
    }
}

/// The result of one check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// Stable check id, such as `cis-docker-4.1`.
    pub id: &'static str,
    /// CIS Docker Benchmark recommendation number, when the check has one.
    pub cis: Option<&'static str>,
    /// What the check requires.
    pub title: &'static str,
    /// The outcome.
    pub outcome: CheckOutcome,
    /// What was looked at, one line per fact.
    pub evidence: Vec<String>,
    /// What to change when the check fails.
    pub remediation: &'static str,
}

/// What the checks read from an image.
#[derive(Debug, Clone, Copy)]
pub struct ImageFacts<'a> {
    /// The image config; the default (empty) config for a root filesystem.
    pub config: &'a ImageConfig,
    /// Manifest annotations; empty when there is no manifest.
    pub annotations: &'a BTreeMap<String, String>,
    /// The merged filesystem.
    pub tree: &'a FileTree,
    /// `diff_id` of each layer, to name where a file came from.
    pub layer_digests: &'a [String],
    /// False for a root filesystem, which has no config to check.
    pub has_config: bool,
    /// The image's `/etc/passwd`, to resolve a user name.
    pub passwd: Option<&'a str>,
}

/// Runs every image check, in CIS order.
#[must_use]
pub fn check_image(facts: &ImageFacts<'_>) -> Vec<CheckResult> {
    vec![
        non_root_user(facts),
        base_image_pinned(facts),
        no_shell(facts),
        healthcheck(facts),
        no_setuid_setgid(facts),
        no_world_writable(facts),
    ]
}

fn where_from(facts: &ImageFacts<'_>, path: &str, node: &Node) -> String {
    let layer = facts.layer_digests.get(node.layer).map_or_else(
        || "root filesystem".to_owned(),
        |d| format!("layer {} ({d})", node.layer),
    );
    format!(
        "{} mode {:04o} uid {} gid {}, from {layer}",
        code(&format!("/{path}")),
        node.mode,
        node.uid,
        node.gid
    )
}

/// Renders a value taken from the image as a Markdown code span that cannot break out of its
/// line: control characters (newlines, escape sequences) become visible escapes, and the span
/// is fenced with more backticks than the value contains in a row (CommonMark 6.1).
#[must_use]
pub fn code(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' => escaped.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(escaped, "\\u{{{:x}}}", u32::from(c));
            }
            c => escaped.push(c),
        }
    }
    let longest_run = escaped.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    if longest_run == 0 {
        format!("{fence}{escaped}{fence}")
    } else {
        format!("{fence} {escaped} {fence}")
    }
}

/// Looks a user name up in `/etc/passwd` text and returns its uid.
fn uid_from_passwd(passwd: &str, user: &str) -> Option<u64> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let uid = fields.nth(1)?;
        if name == user { uid.parse().ok() } else { None }
    })
}

fn non_root_user(facts: &ImageFacts<'_>) -> CheckResult {
    let mut result = CheckResult {
        id: "cis-docker-4.1",
        cis: Some("4.1"),
        title: "Image runs as a non-root user",
        outcome: CheckOutcome::CouldNotCheck,
        evidence: Vec::new(),
        remediation: "Set USER in the image config to a numeric non-zero uid, such as 65532:65532.",
    };
    if !facts.has_config {
        result
            .evidence
            .push("a root filesystem has no image config with a user".into());
        return result;
    }
    let user = facts.config.config.user.clone().unwrap_or_default();
    result
        .evidence
        .push(format!("config.User = {}", code(&user)));
    let name = user.split(':').next().unwrap_or_default();
    if name.is_empty() {
        result.outcome = CheckOutcome::Fail;
        result
            .evidence
            .push("no user set: containers run as root (uid 0)".into());
        return result;
    }
    // A name is looked up in the image's /etc/passwd, as the runtime does.
    let uid = name.parse::<u64>().ok().or_else(|| {
        let found = facts.passwd.and_then(|p| uid_from_passwd(p, name));
        match found {
            Some(uid) => result
                .evidence
                .push(format!("/etc/passwd maps {} to uid {uid}", code(name))),
            None => result
                .evidence
                .push(format!("{} is not in the image's /etc/passwd", code(name))),
        }
        found
    });
    match uid {
        Some(0) => {
            result.outcome = CheckOutcome::Fail;
            result.evidence.push("uid 0 is root".into());
        }
        Some(uid) if uid > u64::from(u32::MAX) => {
            result.outcome = CheckOutcome::Fail;
            result.evidence.push(format!(
                "uid {uid} is out of range (maximum {}); container runtimes reject it",
                u32::MAX
            ));
        }
        Some(uid) => {
            result.outcome = CheckOutcome::Pass;
            result.evidence.push(format!("runs as uid {uid}"));
        }
        None => {}
    }
    result
}

fn base_image_pinned(facts: &ImageFacts<'_>) -> CheckResult {
    let mut result = CheckResult {
        id: "cis-docker-4.2",
        cis: Some("4.2"),
        title: "Base image is recorded and pinned by digest",
        outcome: CheckOutcome::CouldNotCheck,
        evidence: Vec::new(),
        remediation: "Build FROM a base image referenced by digest and record it in the \
                      org.opencontainers.image.base.name and base.digest annotations.",
    };
    let name = facts.annotations.get("org.opencontainers.image.base.name");
    let digest = facts
        .annotations
        .get("org.opencontainers.image.base.digest");
    match (name, digest) {
        (_, Some(digest)) if digest.starts_with("sha256:") => {
            result.outcome = CheckOutcome::Pass;
            result.evidence.push(format!(
                "org.opencontainers.image.base.digest = {}",
                code(digest)
            ));
            if let Some(name) = name {
                result.evidence.push(format!(
                    "org.opencontainers.image.base.name = {}",
                    code(name)
                ));
            }
        }
        (Some(name), _) => {
            result.outcome = CheckOutcome::Fail;
            result.evidence.push(format!(
                "org.opencontainers.image.base.name = {} but no base.digest annotation pins it",
                code(name)
            ));
        }
        (None, _) => result.evidence.push(
            "the manifest has no org.opencontainers.image.base.name or base.digest annotation, \
             so the base image is unknown"
                .into(),
        ),
    }
    result
}

/// Shells and multi-call binaries that provide one.
const SHELLS: [&str; 7] = ["sh", "bash", "dash", "ash", "zsh", "ksh", "busybox"];

fn no_shell(facts: &ImageFacts<'_>) -> CheckResult {
    let mut result = CheckResult {
        id: "cis-docker-4.3-shell",
        cis: Some("4.3"),
        title: "No shell in the image (minimal image without unnecessary packages)",
        outcome: CheckOutcome::Pass,
        evidence: Vec::new(),
        remediation: "Remove shells and busybox from the final image, for example by building \
                      on a distroless base; use a debug image variant for troubleshooting.",
    };
    let mut seen = std::collections::BTreeSet::new();
    for dir in ["bin", "usr/bin", "sbin", "usr/sbin", "usr/local/bin"] {
        for shell in SHELLS {
            let path = format!("{dir}/{shell}");
            let Some((resolved, node)) = facts.tree.resolve(&path) else {
                continue;
            };
            if !node.is_file() || !node.is_executable() || !seen.insert(resolved.clone()) {
                continue;
            }
            result.outcome = CheckOutcome::Fail;
            let via = if resolved == path {
                String::new()
            } else {
                format!(" (as {})", code(&format!("/{path}")))
            };
            result
                .evidence
                .push(format!("{}{via}", where_from(facts, &resolved, node)));
        }
    }
    if result.outcome == CheckOutcome::Pass {
        result.evidence.push(format!(
            "none of {} found as executables in /bin, /usr/bin, /sbin, /usr/sbin, /usr/local/bin",
            SHELLS.join(", ")
        ));
    }
    result
}

fn healthcheck(facts: &ImageFacts<'_>) -> CheckResult {
    let mut result = CheckResult {
        id: "cis-docker-4.6",
        cis: Some("4.6"),
        title: "HEALTHCHECK is defined",
        outcome: CheckOutcome::Fail,
        evidence: Vec::new(),
        remediation: "Add a HEALTHCHECK to the image, or define liveness and readiness probes \
                      where the image runs on Kubernetes (which ignores HEALTHCHECK).",
    };
    if !facts.has_config {
        result.outcome = CheckOutcome::CouldNotCheck;
        result
            .evidence
            .push("a root filesystem has no image config".into());
        return result;
    }
    match &facts.config.config.healthcheck {
        Some(check) => {
            result.outcome = CheckOutcome::Pass;
            result
                .evidence
                .push(format!("config.Healthcheck = {}", code(&check.to_string())));
        }
        None => result.evidence.push("config.Healthcheck is not set".into()),
    }
    result
}

/// At most this many offending paths are listed; the count is always given.
const MAX_LISTED: usize = 50;

fn list_matches(
    facts: &ImageFacts<'_>,
    result: &mut CheckResult,
    predicate: impl Fn(&Node) -> bool,
    none_found: &str,
) {
    let matches: Vec<(&str, &Node)> = facts.tree.iter().filter(|(_, n)| predicate(n)).collect();
    if matches.is_empty() {
        result.outcome = CheckOutcome::Pass;
        result.evidence.push(none_found.to_owned());
        return;
    }
    result.outcome = CheckOutcome::Fail;
    result.evidence.push(format!("{} found", matches.len()));
    for (path, node) in matches.iter().take(MAX_LISTED) {
        result.evidence.push(where_from(facts, path, node));
    }
    if matches.len() > MAX_LISTED {
        result
            .evidence
            .push(format!("and {} more", matches.len() - MAX_LISTED));
    }
}

fn no_setuid_setgid(facts: &ImageFacts<'_>) -> CheckResult {
    let mut result = CheckResult {
        id: "cis-docker-4.8",
        cis: Some("4.8"),
        title: "No setuid or setgid files",
        outcome: CheckOutcome::Pass,
        evidence: Vec::new(),
        remediation: "Remove the setuid and setgid bits (chmod u-s,g-s) or the files in the \
                      image build.",
    };
    list_matches(
        facts,
        &mut result,
        |n| n.is_file() && n.mode & 0o6000 != 0,
        "no regular file has the setuid or setgid bit",
    );
    result
}

fn no_world_writable(facts: &ImageFacts<'_>) -> CheckResult {
    let mut result = CheckResult {
        id: "least-privilege-world-writable",
        cis: None,
        title: "No world-writable files, and world-writable directories are sticky",
        outcome: CheckOutcome::Pass,
        evidence: Vec::new(),
        remediation: "Remove write permission for others (chmod o-w), or set the sticky bit on \
                      shared directories such as /tmp.",
    };
    list_matches(
        facts,
        &mut result,
        |n| {
            let writable = n.mode & 0o002 != 0;
            (n.is_file() && writable) || (n.is_dir() && writable && n.mode & 0o1000 == 0)
        },
        "no world-writable file, and every world-writable directory has the sticky bit",
    );
    result
}

/// Renders results as a Markdown report.
#[must_use]
pub fn render_markdown(image: &str, results: &[CheckResult]) -> String {
    let mut out = String::new();
    out.push_str("# CIS Docker Benchmark image checks\n\n");
    let _ = write!(out, "Image: {}\n\n", code(image));
    out.push_str(
        "Checks from CIS Docker Benchmark v1.6.0 section 4 (container images and build file) \
         that can be decided from the image alone. Each result lists the evidence it rests on.\n\n",
    );
    out.push_str("| check | CIS | requirement | result |\n|---|---|---|---|\n");
    for r in results {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | **{}** |",
            r.id,
            r.cis.unwrap_or("–"),
            r.title,
            r.outcome.label()
        );
    }
    for r in results {
        let _ = write!(out, "\n## {} — {}\n\n", r.id, r.title);
        let _ = write!(out, "Result: **{}**\n\nEvidence:\n\n", r.outcome.label());
        for line in &r.evidence {
            let _ = writeln!(out, "- {line}");
        }
        if r.outcome == CheckOutcome::Fail {
            let _ = writeln!(out, "\nRemediation: {}", r.remediation);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_cannot_break_lines_or_fences() {
        assert_eq!(code("65532"), "`65532`");
        assert_eq!(code("root`\n\n## forged"), "`` root`\\n\\n## forged ``");
        assert_eq!(code("a\u{1b}[2Jb"), "`a\\u{1b}[2Jb`");
        assert!(!code("x\ny\rz").contains('\n'));
    }
}
