//! CycloneDX VEX: any 1.4 to 1.6 document with `vulnerabilities[].analysis`
//! (<https://cyclonedx.org/docs/1.6/json/#vulnerabilities>).
//!
//! Analysis states map as `not_affected` and `false_positive` → not affected, `resolved` and
//! `resolved_with_pedigree` → fixed, `exploitable` → affected, `in_triage` → under
//! investigation. A vulnerability without `analysis` or without `analysis.state` states
//! nothing and is skipped. Rejected: a vulnerability without an `id` or with an empty one, an
//! unknown state and an unknown justification value.

use serde_json::Value;

use super::{Product, VexFormat, VexStatement, VexStatus, justification, parse_purl, text};

/// Collects `bom-ref → purl` from `metadata.component` and `components`, recursively.
fn bom_refs(value: &Value, out: &mut Vec<(String, String)>) {
    if let (Some(reference), Some(purl)) = (text(value, "bom-ref"), text(value, "purl")) {
        out.push((reference, purl));
    }
    for child in value
        .get("components")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        bom_refs(child, out);
    }
}

/// Reads the statements of a CycloneDX BOM. An error is the reason, starting with the field it
/// is about, such as `vulnerabilities[2]: …`.
pub(super) fn statements(name: &str, document: &Value) -> Result<Vec<VexStatement>, String> {
    let mut refs = Vec::new();
    if let Some(component) = document.get("metadata").and_then(|m| m.get("component")) {
        bom_refs(component, &mut refs);
    }
    bom_refs(document, &mut refs);
    let document_time = document.get("metadata").and_then(|m| text(m, "timestamp"));
    let mut out = Vec::new();
    for (index, vulnerability) in document
        .get("vulnerabilities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let at = |reason: &str| format!("vulnerabilities[{index}]: {reason}");
        let id = text(vulnerability, "id").ok_or_else(|| at("no `id`"))?;
        if id.trim().is_empty() {
            return Err(at("the vulnerability `id` is empty"));
        }
        let Some(analysis) = vulnerability.get("analysis") else {
            continue;
        };
        let status = match analysis.get("state").and_then(Value::as_str) {
            Some("not_affected" | "false_positive") => VexStatus::NotAffected,
            Some("resolved" | "resolved_with_pedigree") => VexStatus::Fixed,
            Some("exploitable") => VexStatus::Affected,
            Some("in_triage") => VexStatus::UnderInvestigation,
            None => continue,
            Some(other) => return Err(at(&format!("unknown analysis state `{other}`"))),
        };
        let justification = text(analysis, "justification");
        if let Some(label) = &justification
            && !justification::CYCLONEDX.contains(&label.as_str())
        {
            return Err(at(&format!(
                "unknown analysis justification `{label}`; expected one of {}",
                justification::CYCLONEDX.join(", ")
            )));
        }
        let aliases = vulnerability
            .get("references")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| text(r, "id"))
            .collect();
        let products = products(vulnerability, &refs).map_err(|reason| at(&reason))?;
        out.push(VexStatement {
            document: name.to_owned(),
            format: VexFormat::CycloneDx,
            index,
            vulnerability: id,
            aliases,
            status,
            justification,
            impact: text(analysis, "detail").filter(|s| !s.trim().is_empty()),
            timestamp: text(analysis, "lastUpdated")
                .or_else(|| text(vulnerability, "updated"))
                .or_else(|| document_time.clone()),
            products,
        });
    }
    Ok(out)
}

/// Resolves `affects[].ref` to package URLs. A ref that is neither a bom-ref with a purl nor a
/// purl names no package and is skipped.
fn products(vulnerability: &Value, refs: &[(String, String)]) -> Result<Vec<Product>, String> {
    let mut products = Vec::new();
    for affect in vulnerability
        .get("affects")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(reference) = text(affect, "ref") else {
            continue;
        };
        // A BOM-Link names a bom-ref after `#`; a plain ref is a bom-ref or a purl.
        let local = reference
            .rsplit_once('#')
            .map_or(reference.as_str(), |(_, r)| r);
        let purl = refs
            .iter()
            .find(|(r, _)| r == local)
            .map(|(_, purl)| purl.clone())
            .or_else(|| local.starts_with("pkg:").then(|| local.to_owned()));
        if let Some(purl) = purl {
            products.push(Product {
                purl: parse_purl(&purl)?,
                subcomponents: Vec::new(),
            });
        }
    }
    Ok(products)
}

#[cfg(test)]
mod tests {
    use super::super::VexSet;

    #[test]
    fn invalid_vulnerabilities_are_rejected() {
        let cases = [
            (
                r#"{"id": "", "analysis": {"state": "resolved"}}"#,
                "invalid VEX document `cdx.json`: vulnerabilities[0]: the vulnerability `id` is \
                 empty",
            ),
            (
                r#"{"id": "CVE-1", "analysis": {"state": "not_affected", "justification": "because"}}"#,
                "invalid VEX document `cdx.json`: vulnerabilities[0]: unknown analysis \
                 justification `because`; expected one of code_not_present, code_not_reachable, \
                 requires_configuration, requires_dependency, requires_environment, \
                 protected_by_compiler, protected_at_runtime, protected_at_perimeter, \
                 protected_by_mitigating_control",
            ),
            (
                r#"{"id": "CVE-1", "analysis": {"state": "resolved"}, "affects": [{"ref": "pkg:"}]}"#,
                "invalid VEX document `cdx.json`: vulnerabilities[0]: product `pkg:` is not a \
                 package URL: invalid package URL `pkg:`: it has no name after the type",
            ),
        ];
        for (vulnerability, expected) in cases {
            let document = format!(
                r#"{{"bomFormat": "CycloneDX", "specVersion": "1.6", "vulnerabilities": [{vulnerability}]}}"#
            );
            let message = VexSet::new()
                .add_document("cdx.json", document.as_bytes())
                .unwrap_err()
                .to_string();
            assert_eq!(message, expected, "{vulnerability}");
        }
    }
}
