//! Alias merging with the Go database and the harvested GitHub records for Go modules, which
//! describe some of the same vulnerabilities under GHSA ids.

use clearbox_vuln::{Finding, Severity, match_catalog_with_notes};

use crate::support::{GO_VULNDB, catalog, corpus, db_with, go_module, require};

fn finding<'a>(findings: &'a [Finding], id: &str) -> &'a Finding {
    findings
        .iter()
        .find(|f| f.advisory.id == id)
        .unwrap_or_else(|| panic!("no finding {id}"))
}

/// GO-2023-1571 lists GHSA-vvpx-j8f3-3w6h among its aliases. Both fix `golang.org/x/net` in
/// 0.7.0 and neither has a CVSS vector, so the smaller id stays and the other is merged.
/// GO-2023-2102 (CVE-2023-39325) and GHSA-qppj-fm5r-hxr3 (CVE-2023-44487) share no id, so
/// they stay apart.
#[test]
fn aliased_records_merge() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(&corpus, &[GO_VULNDB, "fixtures-harvested/Go"]);
    let catalog = catalog(vec![go_module(
        "golang.org/x/net",
        "v0.6.0",
        "/usr/bin/app",
    )]);
    let findings = match_catalog_with_notes(&db, &catalog).unwrap().findings;

    let merged = finding(&findings, "GHSA-vvpx-j8f3-3w6h");
    assert_eq!(merged.advisory.merged_ids, ["GO-2023-1571"]);
    assert!(merged.advisory.aliases.contains(&"GO-2023-1571".to_owned()));
    assert!(
        merged
            .advisory
            .aliases
            .contains(&"CVE-2022-41723".to_owned())
    );
    assert_eq!(merged.advisory.severity, Severity::High);
    assert_eq!(merged.advisory.fixed_versions, ["v0.7.0"]);
    assert!(findings.iter().all(|f| f.advisory.id != "GO-2023-1571"));

    assert!(
        finding(&findings, "GO-2023-2102")
            .advisory
            .merged_ids
            .is_empty()
    );
    assert!(
        finding(&findings, "GHSA-qppj-fm5r-hxr3")
            .advisory
            .merged_ids
            .is_empty()
    );
}

/// GO-2021-0053 and GHSA-c3h9-896r-86jm name each other through CVE-2021-3121 and the GHSA id.
#[test]
fn shared_alias_merges_once_per_package() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(&corpus, &[GO_VULNDB, "fixtures-harvested/Go"]);
    let catalog = catalog(vec![
        go_module("github.com/gogo/protobuf", "v1.3.1", "/usr/bin/a"),
        go_module("github.com/gogo/protobuf", "v1.3.1", "/usr/bin/b"),
    ]);
    let findings = match_catalog_with_notes(&db, &catalog).unwrap().findings;
    let protobuf: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.advisory.id == "GHSA-c3h9-896r-86jm")
        .collect();
    assert_eq!(protobuf.len(), 2, "one finding per package entry");
    for f in protobuf {
        assert_eq!(f.advisory.merged_ids, ["GO-2021-0053"]);
    }
}
