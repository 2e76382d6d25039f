//! Secrets in an image (CIS Docker 4.10): in the config's environment variables and build
//! history, and in the text of its files.
//!
//! Detectors, in the order they are tried on each text:
//! - PEM private keys: a `-----BEGIN ... PRIVATE KEY-----` line followed by at least 32
//!   base64 characters of key, with real or `\n`-escaped line breaks (as in JSON);
//! - AWS access key ids (`AKIA`, `ASIA`, `ABIA` or `ACCA` and 16 more characters) and AWS
//!   secret access keys (40 base64 characters assigned to a name such as
//!   `aws_secret_access_key`);
//! - GCP service-account key files: `"type": "service_account"` with a `private_key_id`;
//! - GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`), GitLab (`glpat-`,
//!   `gldt-`, `glrt-`, `glptt-`, `gloas-`) and Slack (`xoxb-`, `xoxp-`, `xapp-`, ...) tokens;
//! - generic assignments: a name ending in `password`, `passwd`, `passphrase`, `secret`,
//!   `token`, `credential(s)`, `api_key`, `access_key`, `private_key` or `secret_key` (any case,
//!   with or without `_` or `-`), assigned with `=`, `:`, `:=` or `=>`. The value must have
//!   [`MIN_GENERIC_LENGTH`] to 256 characters, a letter and a digit, and a Shannon entropy of at
//!   least [`MIN_GENERIC_ENTROPY`] bits per character. Random tokens of 20 letters and digits
//!   average about 4.0 bits, while words and placeholders such as `your_api_key_here` stay
//!   below 3.5.
//!
//! In environment variables a name that ends as above with any literal value is reported too,
//! whatever its entropy, because anyone who can pull the image can read the config; values that
//! start with `/` (a file path) or `$` (a reference) are not.
//!
//! Values never leave this module unmasked: a match keeps only [`mask`]'s form.
//!
//! Files larger than [`MAX_SCANNED_FILE_SIZE`] and files with a NUL byte in their first 8 KiB
//! (binaries) are not scanned, and are listed as such.

use std::collections::{BTreeSet, HashMap};
use std::io::{self, Read};
use std::sync::LazyLock;

use clearbox_oci::spec::ImageConfig;
use clearbox_oci::{ContentInspector, EntryInfo, Scan};
use regex::bytes::Regex;
use serde::Serialize;

use super::{
    CheckOutcome, CheckResult, Evidence, ImageFacts, MAX_LISTED, code, file_evidence, note_unlisted,
};

/// Largest file whose text is scanned, in bytes (1 MiB).
pub const MAX_SCANNED_FILE_SIZE: u64 = 1 << 20;

/// Bytes at the start of a file that are searched for a NUL byte to tell binaries apart.
const BINARY_SNIFF_LENGTH: usize = 8 << 10;

/// Shortest value the generic assignment rule considers, in characters.
pub const MIN_GENERIC_LENGTH: usize = 20;

/// Lowest Shannon entropy, in bits per character, of a value the generic rule reports.
pub const MIN_GENERIC_ENTROPY: f64 = 3.5;

/// Values shorter than this many characters are masked whole, since four characters would
/// give away too much of them.
const MIN_PREFIX_SHOWN_LENGTH: usize = 16;

/// The kind of secret found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SecretKind {
    /// A PEM private key.
    PrivateKey,
    /// An AWS access key id.
    AwsAccessKeyId,
    /// An AWS secret access key.
    AwsSecretAccessKey,
    /// A GCP service-account key file.
    GcpServiceAccountKey,
    /// A GitHub token.
    GithubToken,
    /// A GitLab token.
    GitlabToken,
    /// A Slack token.
    SlackToken,
    /// A high-entropy value assigned to a secret-like name.
    HighEntropyAssignment,
    /// An environment variable with a secret-like name and a literal value.
    SecretNamedVariable,
}

impl SecretKind {
    /// Returns the kind in words, for reports.
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            SecretKind::PrivateKey => "PEM private key",
            SecretKind::AwsAccessKeyId => "AWS access key id",
            SecretKind::AwsSecretAccessKey => "AWS secret access key",
            SecretKind::GcpServiceAccountKey => "GCP service account key",
            SecretKind::GithubToken => "GitHub token",
            SecretKind::GitlabToken => "GitLab token",
            SecretKind::SlackToken => "Slack token",
            SecretKind::HighEntropyAssignment => "high-entropy value of a secret-like name",
            SecretKind::SecretNamedVariable => "secret-like variable with a literal value",
        }
    }
}

/// Masks a secret value: its first four characters then `****`, or only `****` for a value
/// shorter than 16 characters.
#[must_use]
pub fn mask(value: &str) -> String {
    if value.chars().count() < MIN_PREFIX_SHOWN_LENGTH {
        return "****".to_owned();
    }
    let prefix: String = value.chars().take(4).collect();
    format!("{prefix}****")
}

/// Shannon entropy of `value` in bits per byte: 0 for one repeated byte, 4 for 16 bytes
/// equally often, at most 8.
#[must_use]
#[allow(
    clippy::cast_precision_loss,
    reason = "counts are below 2^52, which f64 holds exactly"
)]
pub fn shannon_entropy(value: &[u8]) -> f64 {
    let mut counts = [0usize; 256];
    for &byte in value {
        counts[usize::from(byte)] += 1;
    }
    let length = value.len() as f64;
    counts
        .iter()
        .filter(|&&count| count > 0)
        .map(|&count| {
            let p = count as f64 / length;
            -p * p.log2()
        })
        .sum()
}

/// One secret found in a text, with its value already masked.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SecretMatch {
    /// 1-based line of the match.
    pub line: u64,
    /// The kind of secret.
    pub kind: SecretKind,
    /// The masked value.
    pub masked: String,
    /// The assigned name, or the PEM block type, where there is one.
    pub name: Option<String>,
}

/// A pattern and which of its capture groups hold the value and the name.
struct Detector {
    kind: SecretKind,
    pattern: Regex,
    value_group: usize,
    name_group: Option<usize>,
}

/// Text between a name and its value: an optional closing quote, an assignment operator and
/// an optional opening quote.
const ASSIGNMENT: &str = r#"["']?[ \t]*(?:=|:=|:|=>)[ \t]*["']?"#;

/// Names that end in one of these words are secret-like.
const SECRET_NAME: &str = "(?:password|passwd|passphrase|secret|token|credentials?|\
                           api[_-]?key|access[_-]?key|private[_-]?key|secret[_-]?key)";

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("built-in secret patterns are valid")
}

static DETECTORS: LazyLock<Vec<Detector>> = LazyLock::new(|| {
    let line_break = r"(?:\r?\n|\\n)";
    vec![
        Detector {
            kind: SecretKind::PrivateKey,
            pattern: regex(&format!(
                "(?-u)-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----{line_break}\
                 (?:[A-Za-z-]+: [^\\r\\n\\\\]*{line_break})*{line_break}?\
                 ([A-Za-z0-9+/=]{{32,}})"
            )),
            value_group: 2,
            name_group: Some(1),
        },
        Detector {
            kind: SecretKind::AwsAccessKeyId,
            pattern: regex(r"(?-u)\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})\b"),
            value_group: 1,
            name_group: None,
        },
        Detector {
            kind: SecretKind::AwsSecretAccessKey,
            pattern: regex(&format!(
                "(?im-u)\\b((?:aws_?)?secret_?access_?key|aws_?secret_?key){ASSIGNMENT}\
                 ([A-Za-z0-9/+]{{40}})(?:[^A-Za-z0-9/+=]|$)"
            )),
            value_group: 2,
            name_group: Some(1),
        },
        Detector {
            kind: SecretKind::GithubToken,
            pattern: regex(r"(?-u)\b(gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{82})\b"),
            value_group: 1,
            name_group: None,
        },
        Detector {
            kind: SecretKind::GitlabToken,
            pattern: regex(r"(?-u)\b(gl(?:pat|dt|rt|ptt|oas)-[A-Za-z0-9_-]{20,})"),
            value_group: 1,
            name_group: None,
        },
        Detector {
            kind: SecretKind::SlackToken,
            pattern: regex(r"(?-u)\b((?:xox[abeoprs]|xapp)-[A-Za-z0-9-]{10,})"),
            value_group: 1,
            name_group: None,
        },
        Detector {
            kind: SecretKind::HighEntropyAssignment,
            pattern: regex(&format!(
                r#"(?im-u)\b([A-Za-z0-9_.-]{{0,40}}{SECRET_NAME}){ASSIGNMENT}([A-Za-z0-9+/=_.~!@#%^*-]{{{MIN_GENERIC_LENGTH},256}})(?:["'\s,;}}\]]|$)"#
            )),
            value_group: 2,
            name_group: Some(1),
        },
    ]
});

static SERVICE_ACCOUNT_TYPE: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"(?-u)"type"[ \t]*:[ \t]*"service_account""#));
static SERVICE_ACCOUNT_KEY_ID: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"(?-u)"private_key_id"[ \t]*:[ \t]*"([0-9a-f]{40})""#));
static SECRET_LIKE_NAME: LazyLock<Regex> =
    LazyLock::new(|| regex(&format!("(?i-u){SECRET_NAME}$")));

/// Returns true when a generic assignment's value looks random enough to be a secret.
fn is_random_looking(value: &[u8]) -> bool {
    value.iter().any(u8::is_ascii_alphabetic)
        && value.iter().any(u8::is_ascii_digit)
        && shannon_entropy(value) >= MIN_GENERIC_ENTROPY
}

/// 1-based line of byte `offset` in `text`.
#[allow(
    clippy::naive_bytecount,
    reason = "runs once per match, and matches are rare; not worth a dependency"
)]
fn line_at(text: &[u8], offset: usize) -> u64 {
    text[..offset].iter().filter(|&&b| b == b'\n').count() as u64 + 1
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Finds the secrets in a text, one match per line and value, sorted by line and kind.
#[must_use]
pub fn find_secrets(text: &[u8]) -> Vec<SecretMatch> {
    let mut found = Vec::new();
    for detector in DETECTORS.iter() {
        for captures in detector.pattern.captures_iter(text) {
            let Some(value) = captures.get(detector.value_group) else {
                continue;
            };
            if detector.kind == SecretKind::HighEntropyAssignment
                && !is_random_looking(value.as_bytes())
            {
                continue;
            }
            found.push(SecretMatch {
                line: line_at(text, value.start()),
                kind: detector.kind,
                masked: mask(&lossy(value.as_bytes())),
                name: detector
                    .name_group
                    .and_then(|group| captures.get(group))
                    .map(|name| lossy(name.as_bytes())),
            });
        }
    }
    if SERVICE_ACCOUNT_TYPE.is_match(text) {
        for captures in SERVICE_ACCOUNT_KEY_ID.captures_iter(text) {
            let id = &captures[1];
            found.push(SecretMatch {
                line: line_at(text, captures.get(1).map_or(0, |m| m.start())),
                kind: SecretKind::GcpServiceAccountKey,
                masked: mask(&lossy(id)),
                name: Some("private_key_id".to_owned()),
            });
        }
    }

    // A specific detector and the generic rule can match the same value; keep the first, which
    // comes from the more specific detector.
    let mut seen = BTreeSet::new();
    found.retain(|m| seen.insert((m.line, m.masked.clone())));
    found.sort();
    found
}

/// A secret found in the image, with where it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretFinding {
    /// The kind of secret.
    pub kind: SecretKind,
    /// The value's first four characters then `****` (see [`mask`]).
    pub masked: String,
    /// The assigned name, the environment variable, or the PEM block type.
    pub name: Option<String>,
    /// Absolute path of the file, for a secret in a file.
    pub path: Option<String>,
    /// 1-based line in the file.
    pub line: Option<u64>,
    /// `diff_id` of the layer the file's content comes from.
    pub layer: Option<String>,
    /// The config field, such as `config.Env[2]` or `history[4].created_by`.
    pub field: Option<String>,
}

impl SecretFinding {
    fn in_config(field: String, found: SecretMatch) -> Self {
        SecretFinding {
            kind: found.kind,
            masked: found.masked,
            name: found.name,
            path: None,
            line: None,
            layer: None,
            field: Some(field),
        }
    }
}

/// Scans the config's environment variables and build history.
#[must_use]
pub fn scan_config(config: &ImageConfig) -> Vec<SecretFinding> {
    let mut findings = Vec::new();
    for (index, variable) in config.config.env.iter().flatten().enumerate() {
        let field = format!("config.Env[{index}]");
        let matches = find_secrets(variable.as_bytes());
        let (name, value) = variable.split_once('=').unwrap_or((variable, ""));
        if matches.is_empty()
            && SECRET_LIKE_NAME.is_match(name.as_bytes())
            && !value.is_empty()
            && !value.starts_with(['/', '$'])
        {
            findings.push(SecretFinding::in_config(
                field,
                SecretMatch {
                    line: 1,
                    kind: SecretKind::SecretNamedVariable,
                    masked: mask(value),
                    name: Some(name.to_owned()),
                },
            ));
            continue;
        }
        for found in matches {
            let name = found.name.clone().or_else(|| Some(name.to_owned()));
            findings.push(SecretFinding::in_config(
                field.clone(),
                SecretMatch { name, ..found },
            ));
        }
    }
    for (index, entry) in config.history.iter().enumerate() {
        let Some(created_by) = &entry.created_by else {
            continue;
        };
        for found in find_secrets(created_by.as_bytes()) {
            findings.push(SecretFinding::in_config(
                format!("history[{index}].created_by"),
                found,
            ));
        }
    }
    findings
}

/// The facts the scanner keeps of one file.
#[derive(Debug)]
pub enum FileFact {
    /// A text file, with the secrets found in it; for `etc/passwd` also its text, to resolve
    /// user names.
    Text {
        /// The secrets, masked.
        secrets: Vec<SecretMatch>,
        /// The whole text, kept for `etc/passwd` only.
        passwd: Option<String>,
    },
    /// A file with a NUL byte in its first 8 KiB, which is not scanned.
    Binary,
}

/// The content inspector that scans every file up to [`MAX_SCANNED_FILE_SIZE`] for secrets.
#[derive(Debug, Default, Clone, Copy)]
pub struct FileScanner;

impl ContentInspector for FileScanner {
    type Fact = FileFact;

    fn wants(&self, entry: &EntryInfo<'_>) -> bool {
        entry.size > 0 && entry.size <= MAX_SCANNED_FILE_SIZE
    }

    fn inspect(
        &self,
        entry: &EntryInfo<'_>,
        content: &mut dyn Read,
    ) -> io::Result<Option<FileFact>> {
        let mut data = Vec::with_capacity(entry.size.min(MAX_SCANNED_FILE_SIZE) as usize);
        content.take(MAX_SCANNED_FILE_SIZE).read_to_end(&mut data)?;
        if data[..data.len().min(BINARY_SNIFF_LENGTH)].contains(&0) {
            return Ok(Some(FileFact::Binary));
        }
        let passwd = (entry.path == "etc/passwd").then(|| lossy(&data));
        Ok(Some(FileFact::Text {
            secrets: find_secrets(&data),
            passwd,
        }))
    }
}

/// The reason a file's text was not scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum NotScannedReason {
    /// Larger than [`MAX_SCANNED_FILE_SIZE`].
    TooLarge,
    /// A root filesystem path that could not be read.
    Unreadable,
    /// A sparse file, whose content the layer reader does not inspect.
    Sparse,
    /// A binary file: a NUL byte in its first 8 KiB.
    Binary,
}

impl NotScannedReason {
    /// Returns the reason in words.
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            NotScannedReason::TooLarge => "larger than 1 MiB",
            NotScannedReason::Unreadable => "unreadable",
            NotScannedReason::Sparse => "sparse",
            NotScannedReason::Binary => "binary",
        }
    }
}

/// A file whose text was not scanned for secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotScanned {
    /// Absolute path in the image.
    pub path: String,
    /// `diff_id` of the layer the file's content comes from; `None` for a root filesystem.
    pub layer: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// The reason it was not scanned.
    pub reason: NotScannedReason,
    /// The read error, for an unreadable path.
    pub detail: Option<String>,
}

/// The secrets found in an image and the files that were not scanned.
#[derive(Debug, Clone, Default)]
pub struct SecretScan {
    /// Every secret, config findings first, then files in path and line order.
    pub findings: Vec<SecretFinding>,
    /// Files not scanned, in path order.
    pub not_scanned: Vec<NotScanned>,
    /// Number of text files scanned.
    pub files_scanned: usize,
    /// False when there was no config to scan (a root filesystem).
    pub config_scanned: bool,
}

impl SecretScan {
    /// Collects the findings of a finished scan, after those of the config.
    #[must_use]
    pub fn from_scan(
        scan: &Scan<FileFact>,
        config_findings: Vec<SecretFinding>,
        config_scanned: bool,
    ) -> Self {
        let mut result = SecretScan {
            findings: config_findings,
            config_scanned,
            ..SecretScan::default()
        };
        let facts: HashMap<&str, &FileFact> = scan.facts().map(|(p, _, f)| (p, f)).collect();
        // A root filesystem's file that could not be read is listed once, with its error.
        let unreadable: BTreeSet<&str> = scan.unreadable.iter().map(|u| u.path.as_str()).collect();
        for (path, node) in scan.tree.iter() {
            if !node.is_file() || node.size == 0 || unreadable.contains(path) {
                continue;
            }
            let layer = scan
                .layer_digest(node.content.map_or(node.layer, |c| c.layer))
                .map(ToString::to_string);
            let reason = if node.sparse {
                NotScannedReason::Sparse
            } else if node.size > MAX_SCANNED_FILE_SIZE {
                NotScannedReason::TooLarge
            } else {
                match facts.get(path) {
                    Some(FileFact::Text { secrets, .. }) => {
                        result.files_scanned += 1;
                        for found in secrets {
                            result.findings.push(SecretFinding {
                                kind: found.kind,
                                masked: found.masked.clone(),
                                name: found.name.clone(),
                                path: Some(format!("/{path}")),
                                line: Some(found.line),
                                layer: layer.clone(),
                                field: None,
                            });
                        }
                        continue;
                    }
                    Some(FileFact::Binary) => NotScannedReason::Binary,
                    // Both readers offer every regular file, so this is not expected.
                    None => NotScannedReason::Unreadable,
                }
            };
            result.not_scanned.push(NotScanned {
                path: format!("/{path}"),
                layer,
                size: node.size,
                reason,
                detail: None,
            });
        }
        for unreadable in &scan.unreadable {
            result.not_scanned.push(NotScanned {
                path: format!("/{}", unreadable.path),
                layer: None,
                size: 0,
                reason: NotScannedReason::Unreadable,
                detail: Some(unreadable.reason.clone()),
            });
        }
        result.not_scanned.sort_by(|a, b| a.path.cmp(&b.path));
        result
    }
}

/// Returns the text of the image's `/etc/passwd`, following symlinks inside the image.
#[must_use]
pub fn passwd_text(scan: &Scan<FileFact>) -> Option<&str> {
    let (resolved, _) = scan.tree.resolve("etc/passwd")?;
    scan.facts().find_map(|(path, _, fact)| match fact {
        FileFact::Text {
            passwd: Some(text), ..
        } if path == resolved => Some(text.as_str()),
        _ => None,
    })
}

/// Evidence for one finding.
fn finding_evidence(facts: &ImageFacts<'_>, finding: &SecretFinding) -> Evidence {
    let name = finding
        .name
        .as_deref()
        .map_or_else(String::new, |name| format!(" in {}", code(name)));
    let what = format!(
        "{} {}{name}",
        finding.kind.description(),
        code(&finding.masked)
    );
    match (&finding.field, &finding.path) {
        (Some(field), _) => Evidence::field(field.clone(), format!("{field}: {what}")),
        (None, Some(path)) => {
            let relative = path.trim_start_matches('/');
            let layer = facts.tree.get(relative).map_or(usize::MAX, |node| {
                node.content.map_or(node.layer, |c| c.layer)
            });
            let line = finding.line.unwrap_or(1);
            let mut evidence = file_evidence(
                facts,
                relative,
                layer,
                &format!("{} line {line}: {what}", code(path)),
            );
            evidence.line = finding.line;
            evidence
        }
        (None, None) => Evidence::note(what),
    }
}

/// Evidence summing up the files that were not scanned, then each of them, the most
/// significant reasons first.
fn not_scanned_evidence(facts: &ImageFacts<'_>, result: &mut CheckResult) {
    let scan = facts.secrets;
    let mut counts: Vec<(NotScannedReason, usize)> = Vec::new();
    for file in &scan.not_scanned {
        match counts.iter_mut().find(|(reason, _)| *reason == file.reason) {
            Some((_, count)) => *count += 1,
            None => counts.push((file.reason, 1)),
        }
    }
    counts.sort();
    let breakdown: Vec<String> = counts
        .iter()
        .map(|(reason, count)| format!("{count} {}", reason.description()))
        .collect();
    result.evidence.push(Evidence::note(format!(
        "text files scanned (up to 1 MiB each): {}; files not scanned: {}{}",
        scan.files_scanned,
        scan.not_scanned.len(),
        if breakdown.is_empty() {
            String::new()
        } else {
            format!(" ({})", breakdown.join(", "))
        }
    )));
    let mut listed: Vec<&NotScanned> = scan.not_scanned.iter().collect();
    listed.sort_by_key(|file| file.reason);
    for file in listed.iter().take(MAX_LISTED) {
        let detail = file
            .detail
            .as_deref()
            .map_or_else(String::new, |detail| format!(": {}", code(detail)));
        let text = format!(
            "not scanned: {} ({}, {} bytes{detail})",
            code(&file.path),
            file.reason.description(),
            file.size
        );
        let relative = file.path.trim_start_matches('/');
        let evidence = match facts.tree.get(relative) {
            Some(node) if file.reason != NotScannedReason::Unreadable => {
                let layer = node.content.map_or(node.layer, |c| c.layer);
                file_evidence(facts, relative, layer, &text)
            }
            _ => Evidence {
                path: Some(file.path.clone()),
                ..Evidence::note(text)
            },
        };
        result.evidence.push(evidence);
    }
    note_unlisted(result, listed.len());
}

pub(super) fn no_secrets(facts: &ImageFacts<'_>) -> CheckResult {
    let mut result = CheckResult {
        id: "cis-docker-4.10",
        cis: Some("4.10"),
        title: "No secrets in environment variables, build history or files",
        outcome: CheckOutcome::Pass,
        evidence: Vec::new(),
        remediation: "Remove the secret from the image and rotate it; pass secrets at run time \
                      (mounted files, a secret store) and at build time with build secrets \
                      (docker build --secret), which leave no trace in layers or history.",
    };
    let scan = facts.secrets;
    if !scan.config_scanned {
        result.evidence.push(Evidence::note(
            "a root filesystem has no image config; only its files were scanned",
        ));
    }
    if !scan.findings.is_empty() {
        result.outcome = CheckOutcome::Fail;
        result.evidence.push(Evidence::note(format!(
            "secrets found: {}",
            scan.findings.len()
        )));
    }
    for finding in scan.findings.iter().take(MAX_LISTED) {
        result
            .evidence
            .push(finding_evidence(facts, finding).into_violation());
    }
    note_unlisted(&mut result, scan.findings.len());
    not_scanned_evidence(facts, &mut result);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(u64, SecretKind, String)> {
        find_secrets(text.as_bytes())
            .into_iter()
            .map(|m| (m.line, m.kind, m.masked))
            .collect()
    }

    #[test]
    fn masks_keep_four_characters_of_long_values() {
        assert_eq!(mask("AKIAZZZZZZZZZZZZZZZZ"), "AKIA****");
        assert_eq!(mask("hunter2"), "****");
        assert_eq!(mask(""), "****");
    }

    #[test]
    fn entropy_of_known_strings() {
        assert!(shannon_entropy(b"aaaaaaaa").abs() < f64::EPSILON);
        assert!((shannon_entropy(b"0123456789abcdef") - 4.0).abs() < 1e-9);
    }

    #[test]
    fn pem_private_keys_need_a_body() {
        let key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0000111122223333444455556666\n";
        assert_eq!(
            kinds(key),
            [(2, SecretKind::PrivateKey, "MIIE****".to_owned())]
        );
        let escaped =
            r#"{"private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"}"#;
        assert_eq!(kinds(escaped)[0].1, SecretKind::PrivateKey);
        // Code that names the header, as PEM parsers do, is not a key.
        assert!(kinds("HEADER = \"-----BEGIN RSA PRIVATE KEY-----\"\n").is_empty());
    }

    #[test]
    fn cloud_and_forge_tokens() {
        let text = "id = AKIAIOSFODNN7EXAMPLE\n\
                    aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n\
                    gh = ghp_16C7e42F292c6912E7710c838347Ae178B4a\n\
                    gl: glpat-abcdefghij0123456789\n\
                    slack xoxb-1234567890-abcdefghij\n";
        assert_eq!(
            kinds(text),
            [
                (1, SecretKind::AwsAccessKeyId, "AKIA****".to_owned()),
                (2, SecretKind::AwsSecretAccessKey, "wJal****".to_owned()),
                (3, SecretKind::GithubToken, "ghp_****".to_owned()),
                (4, SecretKind::GitlabToken, "glpa****".to_owned()),
                (5, SecretKind::SlackToken, "xoxb****".to_owned()),
            ]
        );
    }

    #[test]
    fn gcp_key_files_need_the_type() {
        let key_id = "0123456789abcdef0123456789abcdef01234567";
        let file =
            format!("{{\n  \"type\": \"service_account\",\n  \"private_key_id\": \"{key_id}\"\n}}");
        assert_eq!(
            kinds(&file),
            [(3, SecretKind::GcpServiceAccountKey, "0123****".to_owned())]
        );
        assert!(kinds(&format!("{{\"private_key_id\": \"{key_id}\"}}")).is_empty());
    }

    #[test]
    fn generic_assignments_need_entropy() {
        assert_eq!(
            kinds("DB_PASSWORD=\"q8Zr2Lw9Xv4Tn7Ks1Pm3\"\n")[0].1,
            SecretKind::HighEntropyAssignment
        );
        assert_eq!(kinds("clientSecret: Q2x8vN4mR7tK1pZ9wB3y")[0].2, "Q2x8****");
        assert!(kinds("api_key = \"your_api_key_here_please\"").is_empty());
        assert!(kinds("token = \"aaaaaaaaaaaaaaaaaaaaaaaa1\"").is_empty());
        assert!(kinds("max_tokens = 4096").is_empty());
        assert!(kinds("token = compute(a1b2c3d4e5f6g7h8i9j0k1)").is_empty());
    }

    #[test]
    fn environment_names_secret_literals() {
        let mut config = ImageConfig::default();
        config.config.env = Some(vec![
            "PATH=/usr/bin".to_owned(),
            "DB_PASSWORD=hunter2".to_owned(),
            "PASSWORD_FILE=/run/secrets/db".to_owned(),
            "TOKENIZERS_PARALLELISM=false".to_owned(),
            "API_TOKEN=$TOKEN".to_owned(),
            "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE".to_owned(),
        ]);
        let found = scan_config(&config);
        let summary: Vec<(&str, SecretKind, &str, &str)> = found
            .iter()
            .map(|f| {
                (
                    f.field.as_deref().unwrap(),
                    f.kind,
                    f.masked.as_str(),
                    f.name.as_deref().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "config.Env[1]",
                    SecretKind::SecretNamedVariable,
                    "****",
                    "DB_PASSWORD"
                ),
                (
                    "config.Env[5]",
                    SecretKind::AwsAccessKeyId,
                    "AKIA****",
                    "AWS_ACCESS_KEY_ID"
                ),
            ]
        );
    }
}
