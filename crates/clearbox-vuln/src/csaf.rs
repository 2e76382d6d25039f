//! Red Hat's CSAF 2.0 VEX files (`document.category` `csaf_vex`, one file per CVE) turned into
//! OSV records. Red Hat's OSV advisories leave out two states: packages Red Hat will not fix, and
//! packages it states are not affected. These records store and match both.
//!
//! Format (<https://docs.oasis-open.org/csaf/csaf/v2.0/csaf-v2.0.html>, and Red Hat's profile
//! of it at <https://redhatproductsecurity.github.io/security-data-guidelines/csaf-vex/>): the
//! product tree names each product (a Red Hat release, identified by a CPE such as
//! `cpe:/o:redhat:enterprise_linux:8::baseos`) and each component (a source RPM, identified by a
//! purl such as `pkg:rpm/redhat/kernel?arch=src`). A relationship joins one component to one
//! product under a new product id, such as `red_hat_enterprise_linux_8:kernel`, and
//! `vulnerabilities[].product_status` lists those ids by state.
//!
//! Mapping: one record per file, with the id `REDHAT:<CVE>` and the CVE as alias. Each
//! relationship becomes an affected entry of ecosystem `Red Hat:<CPE product>:<CPE version>…`
//! (the CPE without `cpe:/o:redhat:`), named by the component's source package:
//!
//! | product status | remediation | affected entry |
//! |---|---|---|
//! | `known_affected` | `no_fix_planned` | every version (`introduced: 0`, no fix), `database_specific.status: will_not_fix`, with Red Hat's words (`Will not fix`, `Out of support scope`) as the note |
//! | `known_affected` | anything else (`none_available`: affected or deferred) | every version, no status |
//! | `known_not_affected` | | every version, `database_specific.status: not_affected`, with the flag's label as the note |
//! | `fixed` | | left out: the fix is in Red Hat's OSV advisory (RHSA) for it |
//! | `under_investigation` | | left out: Red Hat has not decided |
//!
//! Relationships whose product is not a Red Hat Enterprise Linux release (the CPE product is
//! neither `enterprise_linux` nor `rhel_…`) and components without an rpm purl are left out
//! and counted in a warning, so that a layered product's statement cannot apply to a plain RHEL
//! image. The record's `modified` is `document.tracking.current_release_date`; its severity
//! label is `document.aggregate_severity.text`, and the first CVSS v3 vector in `scores`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::osv::{FieldProblem, OsvRecord};

/// Prefix of the ids of records made from CSAF VEX files.
pub(crate) const RECORD_ID_PREFIX: &str = "REDHAT:";

/// Returns whether a JSON document is a CSAF document (`document.category` `csaf_…`). Only
/// `csaf_vex` ones are read; [`record`] rejects the others by name.
pub(crate) fn is_csaf(value: &Value) -> bool {
    value
        .pointer("/document/category")
        .and_then(Value::as_str)
        .is_some_and(|category| category.starts_with("csaf_"))
}

/// The meaning of each product id in the tree.
#[derive(Default)]
struct Tree {
    /// Component product id → source package name, for rpm components.
    components: BTreeMap<String, Option<String>>,
    /// Product id → CPE.
    cpes: BTreeMap<String, String>,
    /// Relationship product id → (component product id, product id).
    relationships: BTreeMap<String, (String, String)>,
}

/// Turns one CSAF VEX file into a record, with warnings about what it left out. The record is
/// `None` when the file has no state clearbox stores (only fixed or under-investigation
/// products).
pub(crate) fn record(
    document: &Value,
) -> Result<(Option<OsvRecord>, Vec<FieldProblem>), FieldProblem> {
    let (vulnerability, cve, modified) = header(document)?;
    check_statuses(vulnerability)?;
    let tree = Tree::read(document);
    let mut warnings = Vec::new();
    let affected = affected_entries(&tree, vulnerability, &mut warnings)?;
    if affected.is_empty() {
        return Ok((None, warnings));
    }
    let record = record_of(document, vulnerability, cve, modified, &affected)?;
    Ok((Some(record), warnings))
}

fn problem(field: &str, message: String) -> FieldProblem {
    FieldProblem {
        field: field.to_owned(),
        message,
    }
}

/// Checks the document's category, version and date, and returns its one vulnerability, CVE
/// and `current_release_date`.
fn header(document: &Value) -> Result<(&Value, &str, &str), FieldProblem> {
    let category = document
        .pointer("/document/category")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if category != "csaf_vex" {
        return Err(problem(
            "document.category",
            format!(
                "`{category}`: clearbox reads CSAF VEX documents (`csaf_vex`) only; Red Hat \
                 publishes them per CVE beside its security advisories"
            ),
        ));
    }
    let version = document
        .pointer("/document/csaf_version")
        .and_then(Value::as_str);
    if version != Some("2.0") {
        return Err(problem(
            "document.csaf_version",
            format!(
                "expected `2.0`, found {}",
                version.map_or("nothing".to_owned(), |v| format!("`{v}`"))
            ),
        ));
    }
    let modified = document
        .pointer("/document/tracking/current_release_date")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            problem(
                "document.tracking.current_release_date",
                "missing; a CSAF document must give the time of its current release".to_owned(),
            )
        })?;
    let vulnerabilities = document
        .get("vulnerabilities")
        .and_then(Value::as_array)
        .ok_or_else(|| problem("vulnerabilities", "not an array".to_owned()))?;
    let [vulnerability] = vulnerabilities.as_slice() else {
        return Err(problem(
            "vulnerabilities",
            format!(
                "expected one vulnerability, as Red Hat publishes one file per CVE; found {}",
                vulnerabilities.len()
            ),
        ));
    };
    let cve = vulnerability
        .get("cve")
        .and_then(Value::as_str)
        .filter(|cve| cve.starts_with("CVE-"))
        .ok_or_else(|| {
            problem(
                "vulnerabilities[0].cve",
                "missing or not a CVE id such as `CVE-2023-20593`".to_owned(),
            )
        })?;
    Ok((vulnerability, cve, modified))
}

/// Checks that every status lists product ids, and that no product is both not affected and
/// something else.
fn check_statuses(vulnerability: &Value) -> Result<(), FieldProblem> {
    for status_field in [
        "known_affected",
        "known_not_affected",
        "fixed",
        "under_investigation",
    ] {
        if let Some(value) = vulnerability.pointer(&format!("/product_status/{status_field}"))
            && !value
                .as_array()
                .is_some_and(|ids| ids.iter().all(Value::is_string))
        {
            return Err(problem(
                &format!("vulnerabilities[0].product_status.{status_field}"),
                "not an array of product ids".to_owned(),
            ));
        }
    }
    let listed = |status_field: &str| -> std::collections::BTreeSet<&str> {
        vulnerability
            .pointer(&format!("/product_status/{status_field}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect()
    };
    let not_affected = listed("known_not_affected");
    for other in ["known_affected", "fixed", "under_investigation"] {
        if let Some(id) = listed(other).intersection(&not_affected).next() {
            return Err(problem(
                "vulnerabilities[0].product_status",
                format!(
                    "product `{id}` is both `{other}` and `known_not_affected`; a product has one \
                     status"
                ),
            ));
        }
    }
    Ok(())
}

/// Returns the affected entries of the known-affected and known-not-affected RHEL products,
/// and warns about the products left out.
fn affected_entries(
    tree: &Tree,
    vulnerability: &Value,
    warnings: &mut Vec<FieldProblem>,
) -> Result<Vec<Value>, FieldProblem> {
    let notes = remediation_notes(vulnerability);
    let flags = flag_labels(vulnerability);
    let mut affected = Vec::new();
    let mut left_out = 0usize;
    for status_field in ["known_affected", "known_not_affected"] {
        let field = format!("vulnerabilities[0].product_status.{status_field}");
        let ids = vulnerability
            .pointer(&format!("/product_status/{status_field}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str);
        for id in ids {
            let Some((ecosystem, package)) = tree.resolve(id) else {
                if !tree.relationships.contains_key(id)
                    && !tree.components.contains_key(id)
                    && !tree.cpes.contains_key(id)
                {
                    return Err(problem(
                        &field,
                        format!("product id `{id}` is not defined in product_tree"),
                    ));
                }
                left_out += 1;
                continue;
            };
            let database_specific = if status_field == "known_not_affected" {
                let mut value = json!({"source": "redhat-csaf-vex", "status": "not_affected"});
                if let Some(label) = flags.get(id) {
                    value["note"] = json!(label.replace('_', " "));
                }
                value
            } else if let Some(details) = notes.get(id) {
                json!({"source": "redhat-csaf-vex", "status": "will_not_fix", "note": details})
            } else {
                json!({"source": "redhat-csaf-vex"})
            };
            affected.push(json!({
                "package": {"ecosystem": ecosystem, "name": package,
                            "purl": format!("pkg:rpm/redhat/{package}")},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
                "database_specific": database_specific,
            }));
        }
    }
    if left_out > 0 {
        warnings.push(problem(
            "product_tree",
            format!(
                "{left_out} product(s) left out: not a Red Hat Enterprise Linux release or not \
                 an rpm component"
            ),
        ));
    }
    Ok(affected)
}

/// Builds the OSV record of the file from its affected entries.
fn record_of(
    document: &Value,
    vulnerability: &Value,
    cve: &str,
    modified: &str,
    affected: &[Value],
) -> Result<OsvRecord, FieldProblem> {
    let mut database_specific = json!({"source": "redhat-csaf-vex"});
    if let Some(label) = document
        .pointer("/document/aggregate_severity/text")
        .and_then(Value::as_str)
    {
        database_specific["severity"] = json!(label);
    }
    let severity: Vec<Value> = vulnerability
        .get("scores")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|score| {
            score
                .pointer("/cvss_v3/vectorString")
                .and_then(Value::as_str)
        })
        .take(1)
        .map(|vector| json!({"type": "CVSS_V3", "score": vector}))
        .collect();
    let summary = vulnerability
        .get("notes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|note| note.get("category").and_then(Value::as_str) == Some("summary"))
        .and_then(|note| note.get("text"))
        .and_then(Value::as_str);
    let mut value = json!({
        "id": format!("{RECORD_ID_PREFIX}{cve}"),
        "modified": modified,
        "aliases": [cve],
        "affected": affected,
        "database_specific": database_specific,
        "references": [{"type": "ADVISORY",
                        "url": format!("https://access.redhat.com/security/cve/{cve}")}],
    });
    if let Some(summary) = summary {
        value["summary"] = json!(summary);
    }
    if !severity.is_empty() {
        value["severity"] = Value::Array(severity);
    }
    let record = serde_json::from_value(value).map_err(|e| {
        problem(
            "",
            format!("could not be turned into an advisory record: {e}"),
        )
    })?;
    Ok(record)
}

/// Product id → Red Hat's words for `no_fix_planned` remediations.
fn remediation_notes(vulnerability: &Value) -> BTreeMap<String, String> {
    let mut notes = BTreeMap::new();
    for remediation in vulnerability
        .get("remediations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if remediation.get("category").and_then(Value::as_str) != Some("no_fix_planned") {
            continue;
        }
        let details = remediation
            .get("details")
            .and_then(Value::as_str)
            .unwrap_or("no fix planned");
        for id in product_ids(remediation) {
            notes.insert(id.to_owned(), details.to_owned());
        }
    }
    notes
}

/// Product id → the justification label of a `known_not_affected` flag.
fn flag_labels(vulnerability: &Value) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    for flag in vulnerability
        .get("flags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(label) = flag.get("label").and_then(Value::as_str) else {
            continue;
        };
        for id in product_ids(flag) {
            labels.insert(id.to_owned(), label.to_owned());
        }
    }
    labels
}

fn product_ids(value: &Value) -> impl Iterator<Item = &str> {
    value
        .get("product_ids")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// Nesting depth at which the product tree walk stops; CSAF trees are a few levels deep.
const MAX_DEPTH: usize = 32;

impl Tree {
    /// Reads the product tree: products, components and relationships.
    fn read(document: &Value) -> Tree {
        let mut tree = Tree::default();
        if let Some(branches) = document
            .pointer("/product_tree/branches")
            .and_then(Value::as_array)
        {
            for branch in branches {
                tree.walk(branch, 0);
            }
        }
        for product in document
            .pointer("/product_tree/full_product_names")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            tree.walk(&json!({"product": product}), 0);
        }
        for relationship in document
            .pointer("/product_tree/relationships")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let id = relationship
                .pointer("/full_product_name/product_id")
                .and_then(Value::as_str);
            let component = relationship
                .get("product_reference")
                .and_then(Value::as_str);
            let product = relationship
                .get("relates_to_product_reference")
                .and_then(Value::as_str);
            if let (Some(id), Some(component), Some(product)) = (id, component, product) {
                tree.relationships
                    .insert(id.to_owned(), (component.to_owned(), product.to_owned()));
            }
        }
        tree
    }

    fn walk(&mut self, branch: &Value, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        if let Some(product) = branch.get("product")
            && let Some(id) = product.get("product_id").and_then(Value::as_str)
        {
            let helper = product.get("product_identification_helper");
            if let Some(cpe) = helper.and_then(|h| h.get("cpe")).and_then(Value::as_str) {
                self.cpes.insert(id.to_owned(), cpe.to_owned());
            } else {
                let package = helper
                    .and_then(|h| h.get("purl"))
                    .and_then(Value::as_str)
                    .and_then(|purl| purl.parse::<clearbox_catalog::Purl>().ok())
                    .filter(|purl| purl.ty == "rpm")
                    .map(|purl| purl.name);
                self.components.insert(id.to_owned(), package);
            }
        }
        for child in branch
            .get("branches")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.walk(child, depth + 1);
        }
    }

    /// Returns the OSV ecosystem and package name of a relationship product id, when its
    /// product is a RHEL release and its component an rpm.
    fn resolve(&self, id: &str) -> Option<(String, String)> {
        let (component, product) = self.relationships.get(id)?;
        let package = self.components.get(component)?.clone()?;
        let ecosystem = rhel_ecosystem(self.cpes.get(product)?)?;
        Some((ecosystem, package))
    }
}

/// Converts a RHEL product's CPE to its OSV ecosystem:
/// `cpe:/o:redhat:enterprise_linux:8::baseos` → `Red Hat:enterprise_linux:8::baseos`. Other
/// products give `None`.
fn rhel_ecosystem(cpe: &str) -> Option<String> {
    let rest = cpe
        .strip_prefix("cpe:/o:redhat:")
        .or_else(|| cpe.strip_prefix("cpe:/a:redhat:"))?;
    let product = rest.split(':').next()?;
    let version = rest.split(':').nth(1)?;
    let is_rhel = product == "enterprise_linux" || product.starts_with("rhel_");
    (is_rhel && !version.is_empty()).then(|| format!("Red Hat:{rest}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rhel_ecosystems() {
        let cases = [
            (
                "cpe:/o:redhat:enterprise_linux:8::baseos",
                Some("Red Hat:enterprise_linux:8::baseos"),
            ),
            (
                "cpe:/a:redhat:rhel_eus:9.2::appstream",
                Some("Red Hat:rhel_eus:9.2::appstream"),
            ),
            (
                "cpe:/o:redhat:enterprise_linux:6",
                Some("Red Hat:enterprise_linux:6"),
            ),
            ("cpe:/a:redhat:openshift:4.14::el9", None),
            (
                "cpe:/a:redhat:jboss_enterprise_application_platform:7",
                None,
            ),
            ("cpe:/o:redhat:enterprise_linux", None),
            ("cpe:/o:debian:debian_linux:12", None),
        ];
        for (cpe, expected) in cases {
            assert_eq!(rhel_ecosystem(cpe).as_deref(), expected, "{cpe}");
        }
    }
}
