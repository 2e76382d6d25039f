//! CIS Docker Benchmark section 4 checks that need only the image: its config, manifest
//! annotations, merged filesystem and the text of its files.
//!
//! Every check reports one of four outcomes and lists the evidence it looked at, so a reader
//! can repeat it: the config field, or each offending path with its mode and layer. A check
//! that lacks the data to decide says so instead of passing. `docs/image-checks.md` lists the
//! checks and the rules each one applies.

mod config;
mod known_binaries;
mod minimal;
mod report;
mod secrets;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use clearbox_oci::{FileTree, Node, spec::ImageConfig};
use serde::Serialize;

pub use config::WRITABLE_PATHS_KEY;
pub use known_binaries::{ImageCheckOptions, KNOWN_BINARIES_ID, known_binaries};
pub use report::{ImageReport, ImageSummary, run_image_checks, run_image_checks_with};
pub use secrets::{
    FileFact, FileScanner, MAX_SCANNED_FILE_SIZE, MIN_GENERIC_ENTROPY, MIN_GENERIC_LENGTH,
    NotScanned, NotScannedReason, SecretFinding, SecretKind, SecretMatch, SecretScan, find_secrets,
    mask, passwd_text, scan_config, shannon_entropy,
};

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
    /// The facts the result rests on, one entry each.
    pub evidence: Vec<Evidence>,
    /// What to change when the check fails.
    pub remediation: &'static str,
}

/// One fact a check rests on: a sentence, and where in the image it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// The fact as one line of Markdown. Values taken from the image are code spans made by
    /// [`code`], and secret values appear only masked.
    pub text: String,
    /// True for a fact that makes the check fail, such as an offending file; false for
    /// context, such as what was searched or counted.
    pub violation: bool,
    /// Absolute path in the image's merged filesystem, for a fact about a file.
    pub path: Option<String>,
    /// 1-based line in that file, for a match inside it.
    pub line: Option<u64>,
    /// `diff_id` of the layer the file's content comes from; `None` for a root filesystem.
    pub layer: Option<String>,
    /// The config field or manifest annotation the fact is about, such as `config.User` or
    /// `annotations["org.opencontainers.image.base.digest"]`.
    pub field: Option<String>,
}

impl Evidence {
    /// Creates a fact about the image as a whole, with no location.
    #[must_use]
    pub fn note(text: impl Into<String>) -> Self {
        Evidence {
            text: text.into(),
            violation: false,
            path: None,
            line: None,
            layer: None,
            field: None,
        }
    }

    /// Creates a fact about a config field or manifest annotation.
    #[must_use]
    pub fn field(field: impl Into<String>, text: impl Into<String>) -> Self {
        Evidence {
            field: Some(field.into()),
            ..Evidence::note(text)
        }
    }

    /// Marks the fact as one that makes the check fail.
    #[must_use]
    pub fn into_violation(self) -> Self {
        Evidence {
            violation: true,
            ..self
        }
    }
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
    /// False for a root filesystem and a `docker save` archive, which have no manifest and so
    /// no annotations to check.
    pub has_manifest: bool,
    /// The image's `/etc/passwd`, to resolve a user name.
    pub passwd: Option<&'a str>,
    /// The secrets found in the config and in the files, and the files not scanned.
    pub secrets: &'a SecretScan,
}

/// Runs every image check: the CIS items in CIS order, then the others by id.
#[must_use]
pub fn check_image(facts: &ImageFacts<'_>) -> Vec<CheckResult> {
    let shells = minimal::find_shells(facts);
    vec![
        non_root_user(facts),
        base_image_pinned(facts),
        minimal::no_shell(&shells),
        minimal::no_package_manager(facts, &shells),
        healthcheck(facts),
        no_setuid_setgid(facts),
        config::no_add_from_url(facts),
        secrets::no_secrets(facts),
        no_world_writable(facts),
        config::writable_paths_declared(facts),
        config::source_and_revision(facts),
    ]
}

/// Evidence about one file: its path, mode and owner, and the layer that wrote them.
fn where_from(facts: &ImageFacts<'_>, path: &str, node: &Node) -> Evidence {
    file_evidence(
        facts,
        path,
        node.layer,
        &format!(
            "{} mode {:04o} uid {} gid {}",
            code(&format!("/{path}")),
            node.mode,
            node.uid,
            node.gid
        ),
    )
}

/// Evidence about the file at `path`: `text`, then the layer at index `layer`.
fn file_evidence(facts: &ImageFacts<'_>, path: &str, layer: usize, text: &str) -> Evidence {
    let digest = facts.layer_digests.get(layer);
    let from = digest.map_or_else(
        || "root filesystem".to_owned(),
        |d| format!("layer {layer} ({d})"),
    );
    Evidence {
        path: Some(format!("/{path}")),
        layer: digest.cloned(),
        ..Evidence::note(format!("{text}, from {from}"))
    }
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
        result.evidence.push(Evidence::note(
            "a root filesystem has no image config with a user",
        ));
        return result;
    }
    let user = facts.config.config.user.clone().unwrap_or_default();
    result.evidence.push(Evidence::field(
        "config.User",
        format!("config.User = {}", code(&user)),
    ));
    let name = user.split(':').next().unwrap_or_default();
    if name.is_empty() {
        result.outcome = CheckOutcome::Fail;
        result.evidence[0].violation = true;
        result.evidence.push(Evidence::note(
            "no user set: containers run as root (uid 0)",
        ));
        return result;
    }
    // A name is looked up in the image's /etc/passwd, as the runtime does.
    let uid = name.parse::<u64>().ok().or_else(|| {
        let found = facts.passwd.and_then(|p| uid_from_passwd(p, name));
        let text = match found {
            Some(uid) => format!("/etc/passwd maps {} to uid {uid}", code(name)),
            None => format!("{} is not in the image's /etc/passwd", code(name)),
        };
        result.evidence.push(Evidence {
            path: Some("/etc/passwd".to_owned()),
            ..Evidence::note(text)
        });
        found
    });
    match uid {
        Some(0) => {
            result.outcome = CheckOutcome::Fail;
            result.evidence.push(Evidence::note("uid 0 is root"));
        }
        Some(uid) if uid > u64::from(u32::MAX) => {
            result.outcome = CheckOutcome::Fail;
            result.evidence.push(Evidence::note(format!(
                "uid {uid} is out of range (maximum {}); container runtimes reject it",
                u32::MAX
            )));
        }
        Some(uid) => {
            result.outcome = CheckOutcome::Pass;
            result
                .evidence
                .push(Evidence::note(format!("runs as uid {uid}")));
        }
        None => {}
    }
    if result.outcome == CheckOutcome::Fail {
        result.evidence[0].violation = true;
    }
    result
}

/// Formats the field name of a manifest annotation, `annotations["KEY"]`.
fn annotation_field(key: &str) -> String {
    format!("annotations[\"{key}\"]")
}

fn base_image_pinned(facts: &ImageFacts<'_>) -> CheckResult {
    const NAME: &str = "org.opencontainers.image.base.name";
    const DIGEST: &str = "org.opencontainers.image.base.digest";
    let mut result = CheckResult {
        id: "cis-docker-4.2",
        cis: Some("4.2"),
        title: "Base image is recorded and pinned by digest",
        outcome: CheckOutcome::CouldNotCheck,
        evidence: Vec::new(),
        remediation: "Build FROM a base image referenced by digest and record it in the \
                      org.opencontainers.image.base.name and base.digest annotations.",
    };
    let name = facts.annotations.get(NAME);
    let digest = facts.annotations.get(DIGEST);
    match (name, digest) {
        (_, Some(digest)) if digest.starts_with("sha256:") => {
            result.outcome = CheckOutcome::Pass;
            result.evidence.push(Evidence::field(
                annotation_field(DIGEST),
                format!("{DIGEST} = {}", code(digest)),
            ));
            if let Some(name) = name {
                result.evidence.push(Evidence::field(
                    annotation_field(NAME),
                    format!("{NAME} = {}", code(name)),
                ));
            }
        }
        (Some(name), _) => {
            result.outcome = CheckOutcome::Fail;
            result.evidence.push(
                Evidence::field(
                    annotation_field(NAME),
                    format!(
                        "{NAME} = {} but no base.digest annotation pins it",
                        code(name)
                    ),
                )
                .into_violation(),
            );
        }
        (None, _) if !facts.has_manifest => result.evidence.push(Evidence::note(
            "the image has no manifest (a root filesystem or a docker save archive), so it has \
             no base image annotations",
        )),
        (None, _) => result.evidence.push(Evidence::note(
            "the manifest has no org.opencontainers.image.base.name or base.digest annotation, \
             so the base image is unknown",
        )),
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
            .push(Evidence::note("a root filesystem has no image config"));
        return result;
    }
    let evidence = match &facts.config.config.healthcheck {
        Some(check) => {
            result.outcome = CheckOutcome::Pass;
            Evidence::field(
                "config.Healthcheck",
                format!("config.Healthcheck = {}", code(&check.to_string())),
            )
        }
        None => {
            Evidence::field("config.Healthcheck", "config.Healthcheck is not set").into_violation()
        }
    };
    result.evidence.push(evidence);
    result
}

/// At most this many offending paths are listed; the count is always given.
const MAX_LISTED: usize = 50;

/// Appends `and N more` when `total` items exceed the [`MAX_LISTED`] that were listed.
fn note_unlisted(result: &mut CheckResult, total: usize) {
    if total > MAX_LISTED {
        result
            .evidence
            .push(Evidence::note(format!("and {} more", total - MAX_LISTED)));
    }
}

fn list_matches(
    facts: &ImageFacts<'_>,
    result: &mut CheckResult,
    predicate: impl Fn(&Node) -> bool,
    none_found: &str,
) {
    let matches: Vec<(&str, &Node)> = facts.tree.iter().filter(|(_, n)| predicate(n)).collect();
    if matches.is_empty() {
        result.outcome = CheckOutcome::Pass;
        result.evidence.push(Evidence::note(none_found));
        return;
    }
    result.outcome = CheckOutcome::Fail;
    result
        .evidence
        .push(Evidence::note(format!("{} found", matches.len())));
    for (path, node) in matches.iter().take(MAX_LISTED) {
        result
            .evidence
            .push(where_from(facts, path, node).into_violation());
    }
    note_unlisted(result, matches.len());
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
         that can be decided from the image alone, and least-privilege and traceability checks \
         that have no CIS number. Each result lists the evidence it rests on; secret values \
         appear masked.\n\n",
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
        for evidence in &r.evidence {
            let _ = writeln!(out, "- {}", evidence.text);
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
