//! OpenVEX documents: 0.2.0 (<https://github.com/openvex/spec/blob/main/OPENVEX-SPEC.md>) and
//! the 0.0.1 spellings (`vulnerability` as a string, products as strings, statement-level
//! `subcomponents`).
//!
//! Rejected, as the specification requires: an `@context` other than the OpenVEX context, a
//! statement without a vulnerability name, an unknown status or justification label, and a
//! `not_affected` statement with neither a `justification` nor an `impact_statement`.

use clearbox_catalog::Purl;
use serde_json::Value;

use super::{Product, VexFormat, VexStatement, VexStatus, justification, parse_purl, text};

/// The `@context` values of the OpenVEX versions this reader accepts. Documents of version
/// 0.0.1 use the unversioned one or the one with `v0.0.1`.
const CONTEXTS: [&str; 3] = [
    "https://openvex.dev/ns/v0.2.0",
    "https://openvex.dev/ns/v0.0.1",
    "https://openvex.dev/ns",
];

/// Reads the statements of an OpenVEX document. An error is the reason, starting with the
/// field it is about, such as `statements[2]: …`.
pub(super) fn statements(name: &str, document: &Value) -> Result<Vec<VexStatement>, String> {
    check_context(document)?;
    let document_time = text(document, "timestamp");
    let statements = document
        .get("statements")
        .and_then(Value::as_array)
        .ok_or("`statements` is not an array")?;
    let mut out = Vec::new();
    for (index, statement) in statements.iter().enumerate() {
        let at = |reason: &str| format!("statements[{index}]: {reason}");
        let (id, aliases) = vulnerability(statement).map_err(|reason| at(&reason))?;
        let status = match statement.get("status").and_then(Value::as_str) {
            Some("not_affected") => VexStatus::NotAffected,
            Some("affected") => VexStatus::Affected,
            Some("fixed") => VexStatus::Fixed,
            Some("under_investigation") => VexStatus::UnderInvestigation,
            Some(other) => return Err(at(&format!("unknown status `{other}`"))),
            None => return Err(at("no `status`")),
        };
        let justification = text(statement, "justification");
        if let Some(label) = &justification
            && !justification::OPENVEX.contains(&label.as_str())
        {
            return Err(at(&format!(
                "unknown justification `{label}`; expected one of {}",
                justification::OPENVEX.join(", ")
            )));
        }
        let impact = text(statement, "impact_statement").filter(|s| !s.trim().is_empty());
        if status == VexStatus::NotAffected && justification.is_none() && impact.is_none() {
            return Err(at(
                "status `not_affected` needs a `justification` or an `impact_statement` that \
                 says why the product is not affected",
            ));
        }
        let products = products(statement).map_err(|reason| at(&reason))?;
        out.push(VexStatement {
            document: name.to_owned(),
            format: VexFormat::OpenVex,
            index,
            vulnerability: id,
            aliases,
            status,
            justification,
            impact,
            timestamp: text(statement, "timestamp").or_else(|| document_time.clone()),
            products,
        });
    }
    Ok(out)
}

fn check_context(document: &Value) -> Result<(), String> {
    let expected = || format!("expected `{}`", CONTEXTS[0]);
    match document.get("@context") {
        None => Err(format!("no `@context`; {}", expected())),
        Some(Value::String(context)) if CONTEXTS.contains(&context.as_str()) => Ok(()),
        Some(Value::String(context)) => Err(format!(
            "`@context` is `{context}`, which is not an OpenVEX context; {}, or `{}` or `{}` \
             for OpenVEX 0.0.1",
            expected(),
            CONTEXTS[1],
            CONTEXTS[2]
        )),
        Some(_) => Err(format!("`@context` is not a string; {}", expected())),
    }
}

/// Reads the vulnerability's name and aliases: `"vulnerability": "CVE-…"` (0.0.1) or
/// `"vulnerability": {"name": …, "aliases": […]}`.
fn vulnerability(statement: &Value) -> Result<(String, Vec<String>), String> {
    let vulnerability = statement.get("vulnerability").ok_or("no `vulnerability`")?;
    let (id, aliases) = match vulnerability {
        Value::String(id) => (id.clone(), Vec::new()),
        object => {
            let id = text(object, "name").ok_or("`vulnerability` has no `name`")?;
            let aliases = object
                .get("aliases")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            (id, aliases)
        }
    };
    if id.trim().is_empty() {
        return Err("the vulnerability name is empty".to_owned());
    }
    Ok((id, aliases))
}

/// Reads the products with their subcomponents; statement-level `subcomponents` (0.0.1) apply
/// to every product.
fn products(statement: &Value) -> Result<Vec<Product>, String> {
    let shared = subcomponents(statement)?;
    let mut products = Vec::new();
    for product in statement
        .get("products")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let purl = product_purl(product).ok_or("a product has no `@id`")?;
        let mut subcomponents = subcomponents(product)?;
        subcomponents.extend(shared.iter().cloned());
        products.push(Product {
            purl: parse_purl(purl)?,
            subcomponents,
        });
    }
    Ok(products)
}

fn subcomponents(value: &Value) -> Result<Vec<Purl>, String> {
    value
        .get("subcomponents")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(product_purl)
        .map(parse_purl)
        .collect()
}

/// A product or subcomponent: `{"@id": purl}`, `{"identifiers": {"purl": …}}` or a string.
fn product_purl(value: &Value) -> Option<&str> {
    value.as_str().or_else(|| {
        value
            .get("identifiers")
            .and_then(|i| i.get("purl"))
            .and_then(Value::as_str)
            .or_else(|| value.get("@id").and_then(Value::as_str))
    })
}

#[cfg(test)]
mod tests {
    use super::super::VexSet;

    /// Reads a one-statement document and returns the error message.
    fn error_of(statement: &str) -> String {
        let document = format!(
            r#"{{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{statement}]}}"#
        );
        VexSet::new()
            .add_document("vex.json", document.as_bytes())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn not_affected_needs_a_reason() {
        assert_eq!(
            error_of(
                r#"{"vulnerability": {"name": "CVE-1"}, "products": [], "status": "not_affected"}"#
            ),
            "invalid VEX document `vex.json`: statements[0]: status `not_affected` needs a \
             `justification` or an `impact_statement` that says why the product is not affected"
        );
        let with_impact = r#"{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [
            {"vulnerability": "CVE-1", "products": [], "status": "not_affected",
             "impact_statement": "the parser is never called"}]}"#;
        assert_eq!(
            VexSet::new()
                .add_document("a.json", with_impact.as_bytes())
                .unwrap(),
            1
        );
    }

    #[test]
    fn statement_errors_name_file_once_and_index() {
        let cases = [
            (
                r#"{"vulnerability": {"name": ""}, "products": [], "status": "fixed"}"#,
                "invalid VEX document `vex.json`: statements[0]: the vulnerability name is empty",
            ),
            (
                r#"{"vulnerability": " ", "products": [], "status": "fixed"}"#,
                "invalid VEX document `vex.json`: statements[0]: the vulnerability name is empty",
            ),
            (
                r#"{"vulnerability": "CVE-1", "products": [{"@id": "npm/x"}], "status": "fixed"}"#,
                "invalid VEX document `vex.json`: statements[0]: product `npm/x` is not a \
                 package URL: invalid package URL `npm/x`: it does not start with `pkg:`",
            ),
            (
                r#"{"vulnerability": "CVE-1", "products": [], "status": "not_affected", "justification": "trust_me"}"#,
                "invalid VEX document `vex.json`: statements[0]: unknown justification \
                 `trust_me`; expected one of component_not_present, \
                 vulnerable_code_not_present, vulnerable_code_not_in_execute_path, \
                 vulnerable_code_cannot_be_controlled_by_adversary, \
                 inline_mitigations_already_exist",
            ),
            (
                r#"{"vulnerability": "CVE-1", "products": [], "status": "maybe"}"#,
                "invalid VEX document `vex.json`: statements[0]: unknown status `maybe`",
            ),
        ];
        for (statement, expected) in cases {
            let message = error_of(statement);
            assert_eq!(message, expected, "{statement}");
            assert_eq!(message.matches("vex.json").count(), 1, "{message}");
        }
    }

    #[test]
    fn context_is_checked() {
        let document = |context: &str| {
            format!(
                r#"{{{context} "statements": [{{"vulnerability": "CVE-1", "products": [],
                   "status": "fixed"}}]}}"#
            )
        };
        let read =
            |context: &str| VexSet::new().add_document("vex.json", document(context).as_bytes());
        assert_eq!(
            read(r#""@context": "https://openvex.dev/ns/v0.2.0","#).unwrap(),
            1
        );
        assert_eq!(read(r#""@context": "https://openvex.dev/ns","#).unwrap(), 1);
        assert_eq!(
            read("").unwrap_err().to_string(),
            "invalid VEX document `vex.json`: no `@context`; expected \
             `https://openvex.dev/ns/v0.2.0`"
        );
        assert_eq!(
            read(r#""@context": "https://example.com/ns","#)
                .unwrap_err()
                .to_string(),
            "invalid VEX document `vex.json`: `@context` is `https://example.com/ns`, which is \
             not an OpenVEX context; expected `https://openvex.dev/ns/v0.2.0`, or \
             `https://openvex.dev/ns/v0.0.1` or `https://openvex.dev/ns` for OpenVEX 0.0.1"
        );
        assert_eq!(
            read(r#""@context": 2,"#).unwrap_err().to_string(),
            "invalid VEX document `vex.json`: `@context` is not a string; expected \
             `https://openvex.dev/ns/v0.2.0`"
        );
    }
}
