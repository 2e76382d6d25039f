//! SARIF 2.1.0 output of the Kubernetes checks
//! (<https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html>).
//!
//! One run whose driver is `clearbox`. Every check that ran is a rule: `id` is the check id,
//! `shortDescription` its title, `properties.tags` its standard. Checks that did not run are left
//! out. Every failed result is a SARIF result of level `error`:
//! - `locations[0].physicalLocation`: the manifest file and a region at the line and column of
//!   the failing field, or of its closest present parent when the field is missing. A relative
//!   path stays relative, with `uriBaseId` `%SRCROOT%` (the directory clearbox ran in); an
//!   absolute path becomes a `file://` URI. Both are percent-encoded as RFC 3986 requires;
//! - `locations[0].logicalLocations`: the resource as `kind/namespace/name`;
//! - `properties`: the field path, container and image.
//!
//! Passed results are not written: SARIF consumers treat every result as a finding.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use serde_json::{Value, json};

use super::results::{CheckResult, K8sReport, Standard};

const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const PSS_URI: &str = "https://kubernetes.io/docs/concepts/security/pod-security-standards/";

/// Writes the report as a SARIF 2.1.0 log with a trailing newline.
pub fn write(report: &K8sReport, writer: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *writer, &to_value(report))?;
    writeln!(writer)
}

/// Builds the SARIF log as a JSON value.
#[must_use]
pub fn to_value(report: &K8sReport) -> Value {
    let rule_index: BTreeMap<&str, usize> = report
        .checks
        .iter()
        .enumerate()
        .map(|(index, check)| (check.id, index))
        .collect();
    let rules: Vec<Value> = report
        .checks
        .iter()
        .map(|check| {
            let tag = match check.standard {
                Standard::CisKubernetes => "cis-kubernetes",
                Standard::PodSecurityStandards => "pod-security-standards",
                Standard::Clearbox => "clearbox",
            };
            let mut rule = json!({
                "id": check.id,
                "shortDescription": { "text": check.title },
                "properties": { "tags": ["security", "kubernetes", tag] },
            });
            if check.standard == Standard::PodSecurityStandards {
                rule["helpUri"] = json!(PSS_URI);
            }
            rule
        })
        .collect();
    let results: Vec<Value> = report
        .failures()
        .map(|failure| result(failure, rule_index.get(failure.check).copied()))
        .collect();
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "clearbox",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": env!("CARGO_PKG_REPOSITORY"),
                    "rules": rules,
                }
            },
            "results": results,
        }]
    })
}

fn result(failure: &CheckResult, rule_index: Option<usize>) -> Value {
    let resource = &failure.resource;
    let mut location = json!({ "uri": file_uri(&resource.file) });
    if !resource.file.is_absolute() {
        location["uriBaseId"] = json!("%SRCROOT%");
    }
    let container = failure
        .container
        .as_deref()
        .map_or_else(String::new, |name| format!(" container `{name}`"));
    let message = format!(
        "{}{container}: `{}` {}",
        resource.display_name(),
        failure.field,
        failure.message
    );
    let mut properties = json!({ "field": failure.field });
    if let Some(container) = &failure.container {
        properties["container"] = json!(container);
    }
    if let Some(image) = &failure.image {
        properties["image"] = json!(image);
    }
    let mut value = json!({
        "ruleId": failure.check,
        "level": "error",
        "message": { "text": message },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": location,
                "region": {
                    "startLine": failure.line.max(1),
                    "startColumn": failure.column.max(1),
                },
            },
            "logicalLocations": [{
                "fullyQualifiedName": resource.display_name(),
                "kind": "resource",
            }],
        }],
        "properties": properties,
    });
    if let Some(index) = rule_index {
        value["ruleIndex"] = json!(index);
    }
    value
}

/// Converts a path to a URI: `file://` plus the percent-encoded absolute path, or a relative
/// reference. Every byte outside RFC 3986's unreserved set and the path punctuation
/// `/!$&'()*+,;=:@` is percent-encoded; a path that is not UTF-8 is read lossily first.
pub(crate) fn file_uri(path: &Path) -> String {
    let text = path.to_string_lossy();
    let mut uri = String::with_capacity(text.len() + 8);
    if path.is_absolute() {
        uri.push_str("file://");
    }
    for &byte in text.as_bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            let _ = write!(uri, "%{byte:02X}");
        }
    }
    // In a relative reference, a first segment with `:` would read as a URI scheme.
    if !path.is_absolute() && uri.split('/').next().is_some_and(|s| s.contains(':')) {
        uri.insert_str(0, "./");
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_paths_become_file_uris() {
        assert_eq!(
            file_uri(Path::new("/srv/k8s/a b.yaml")),
            "file:///srv/k8s/a%20b.yaml"
        );
    }

    #[test]
    fn relative_paths_stay_relative() {
        assert_eq!(file_uri(Path::new("deploy/web.yaml")), "deploy/web.yaml");
        assert_eq!(file_uri(Path::new("a:b.yaml")), "./a:b.yaml");
        assert_eq!(file_uri(Path::new("100%.yaml")), "100%25.yaml");
    }
}
