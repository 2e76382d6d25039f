//! Severity from CVSS vectors and from GitHub severity labels.

use clearbox_vuln::{Severity, match_catalog_with_notes, score_cvss};

use crate::support::{catalog, corpus, db_with, go_module, require};

/// The CVSS v3.1 specification's "network, no privileges, high impact" vector scores 9.8.
#[test]
fn cvss_v31_critical() {
    let score = score_cvss("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").unwrap();
    assert_eq!(score.version, "3.1");
    assert!((score.base_score - 9.8).abs() < f64::EPSILON, "{score:?}");
    assert_eq!(Severity::from_score(score.base_score), Severity::Critical);
}

/// The v4.0 vector of GHSA-86jx-wr74-xr74 (a harvested Maven record), whose base score FIRST's
/// calculator gives as 9.3.
#[test]
fn cvss_v40_critical() {
    let vector = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
    let score = score_cvss(vector).unwrap();
    assert_eq!(score.version, "4.0");
    assert!((score.base_score - 9.3).abs() < f64::EPSILON, "{score:?}");
    assert_eq!(Severity::from_score(score.base_score), Severity::Critical);
}

#[test]
fn invalid_vector_has_no_score() {
    assert!(score_cvss("CVSS:3.1/AV:N").is_none());
    assert!(score_cvss("not a vector").is_none());
}

/// Harvested Go records: GHSA-qgc7-mgm3-q253 (`golang.org/x/image`) and GHSA-2h6c-j3gf-xp9r
/// (`github.com/ipfs/go-bitfield`) carry only a `database_specific.severity` label (`LOW`,
/// `MODERATE`); GHSA-qppj-fm5r-hxr3 (`golang.org/x/net`) carries a v3.1 and a v4.0 vector,
/// and the v4.0 one is used.
#[test]
fn severity_sources_in_findings() {
    let corpus = require!(corpus());
    let (_dir, db) = db_with(&corpus, &["fixtures-harvested/Go"]);
    let catalog = catalog(vec![
        go_module("golang.org/x/image", "v0.4.0", "/usr/bin/app"),
        go_module("github.com/ipfs/go-bitfield", "v1.0.0", "/usr/bin/app"),
        go_module("golang.org/x/net", "v0.16.0", "/usr/bin/app"),
    ]);
    let findings = match_catalog_with_notes(&db, &catalog).unwrap().findings;
    let by_id = |id: &str| {
        findings
            .iter()
            .find(|f| f.advisory.id == id)
            .unwrap_or_else(|| panic!("no finding for {id}: {findings:#?}"))
    };

    let image = by_id("GHSA-qgc7-mgm3-q253");
    assert_eq!(image.advisory.severity, Severity::Low);
    assert!(image.advisory.cvss.is_none());
    assert_eq!(
        by_id("GHSA-2h6c-j3gf-xp9r").advisory.severity,
        Severity::Medium
    );

    let net = by_id("GHSA-qppj-fm5r-hxr3");
    let cvss = net.advisory.cvss.as_ref().unwrap();
    assert_eq!(cvss.version, "4.0");
    assert_eq!(net.advisory.severity, Severity::from_score(cvss.base_score));
    assert_eq!(net.advisory.fixed_versions, ["v0.17.0"]);
}

#[test]
fn fail_on_names_parse() {
    assert_eq!("critical".parse::<Severity>().unwrap(), Severity::Critical);
    assert_eq!("unknown".parse::<Severity>().unwrap(), Severity::Unknown);
    let err = "severe".parse::<Severity>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown severity `severe`; expected one of unknown, low, medium, high, critical"
    );
}
