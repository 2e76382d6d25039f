//! Red Hat CSAF VEX files imported beside Red Hat's OSV advisories: will-not-fix and
//! not-affected states reach findings for the RHEL release they name, products of other Red Hat
//! offerings are left out, and malformed files are rejected with the field.
//!
//! The document follows the structure Red Hat documents for its VEX files (product families
//! with CPEs, unfixed components with `pkg:rpm/redhat/NAME?arch=src`, `default_component_of`
//! relationships, `no_fix_planned` remediations), cut down to the products the test needs.

use std::path::Path;

use clearbox_catalog::PackageKind;
use clearbox_vuln::{Database, FindingStatus, Severity, match_catalog_with_notes};
use serde_json::{Value, json};

use crate::support::{corpus, db_with, distro_catalog, os_package, require};

fn product(id: &str, cpe: &str) -> Value {
    json!({"category": "product_name", "name": id,
           "product": {"name": id, "product_id": id,
                       "product_identification_helper": {"cpe": cpe}}})
}

fn component(name: &str) -> Value {
    json!({"category": "product_version", "name": name,
           "product": {"name": name, "product_id": name,
                       "product_identification_helper": {"purl": format!("pkg:rpm/redhat/{name}?arch=src")}}})
}

fn relationship(component: &str, product: &str) -> Value {
    json!({"category": "default_component_of",
           "full_product_name": {"name": format!("{component} as a component of {product}"),
                                 "product_id": format!("{product}:{component}")},
           "product_reference": component, "relates_to_product_reference": product})
}

fn document(vulnerability: &Value) -> Value {
    json!({
      "document": {
        "aggregate_severity": {"namespace": "https://access.redhat.com/security/updates/classification/",
                               "text": "important"},
        "category": "csaf_vex", "csaf_version": "2.0",
        "publisher": {"category": "vendor", "name": "Red Hat Product Security",
                      "namespace": "https://www.redhat.com"},
        "title": "kernel: example flaw",
        "tracking": {"id": "CVE-2023-20593", "initial_release_date": "2023-07-25T06:30:00+00:00",
                     "current_release_date": "2024-09-13T20:58:30+00:00", "status": "final",
                     "version": "3",
                     "revision_history": [{"date": "2024-09-13T20:58:30+00:00", "number": "3",
                                           "summary": "Last generated version"}]}
      },
      "product_tree": {"branches": [{"category": "vendor", "name": "Red Hat", "branches": [
        {"category": "product_family", "name": "Red Hat Enterprise Linux 8", "branches": [
          product("red_hat_enterprise_linux_8", "cpe:/o:redhat:enterprise_linux:8"),
          product("red_hat_enterprise_linux_9", "cpe:/o:redhat:enterprise_linux:9")]},
        {"category": "product_family", "name": "OpenShift", "branches": [
          product("openshift_4", "cpe:/a:redhat:openshift:4")]},
        {"category": "architecture", "name": "noarch", "branches": [
          component("kernel"), component("microcode_ctl"), component("linux-firmware")]}]}],
        "relationships": [
          relationship("kernel", "red_hat_enterprise_linux_8"),
          relationship("microcode_ctl", "red_hat_enterprise_linux_8"),
          relationship("linux-firmware", "red_hat_enterprise_linux_9"),
          relationship("linux-firmware", "openshift_4")]},
      "vulnerabilities": [vulnerability]
    })
}

fn vulnerability() -> Value {
    json!({
      "cve": "CVE-2023-20593",
      "notes": [{"category": "summary", "text": "hw: amd: Cross-Process Information Leak"}],
      "product_status": {
        "known_affected": ["red_hat_enterprise_linux_8:kernel",
                           "red_hat_enterprise_linux_9:linux-firmware",
                           "openshift_4:linux-firmware"],
        "known_not_affected": ["red_hat_enterprise_linux_8:microcode_ctl"]},
      "flags": [{"label": "vulnerable_code_not_present",
                 "product_ids": ["red_hat_enterprise_linux_8:microcode_ctl"]}],
      "remediations": [
        {"category": "no_fix_planned", "details": "Out of support scope",
         "product_ids": ["red_hat_enterprise_linux_8:kernel"]},
        {"category": "none_available", "details": "Affected",
         "product_ids": ["red_hat_enterprise_linux_9:linux-firmware"]}],
      "scores": [{"cvss_v3": {"vectorString": "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:C/C:H/I:N/A:N",
                              "version": "3.1", "baseScore": 6.5}, "products": []}]
    })
}

fn write(dir: &Path, name: &str, value: &Value) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    path
}

/// `(advisory id, status, reason)` of each finding for one package of a RHEL release.
fn findings(
    db: &Database,
    release: &str,
    package: (&str, &str, &str),
) -> Vec<(String, FindingStatus, Option<String>, Severity)> {
    let (name, version, source) = package;
    let catalog = distro_catalog(
        "rhel",
        release,
        vec![os_package(PackageKind::Rpm, name, version, Some(source))],
    );
    let outcome = match_catalog_with_notes(db, &catalog).expect("match");
    outcome
        .findings
        .into_iter()
        .map(|f| {
            (
                f.advisory.id,
                f.status,
                f.status_reason,
                f.advisory.severity,
            )
        })
        .collect()
}

#[test]
fn states_reach_findings_of_their_release() {
    let corpus = require!(corpus());
    let (dir, mut db) = db_with(&corpus, &["fixtures-harvested/RedHat"]);
    let file = write(
        dir.path(),
        "cve-2023-20593.json",
        &document(&vulnerability()),
    );
    let report = db.import(&file).unwrap();
    assert_eq!(report.inserted, 1, "{report:?}");
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    assert_eq!(
        report.warnings.len(),
        1,
        "the OpenShift product is left out"
    );
    assert!(
        report.warnings[0].message.contains("1 product(s) left out"),
        "{}",
        report.warnings[0].message
    );

    let kernel = findings(&db, "8.6", ("kernel-core", "4.18.0-372.9.1.el8", "kernel"));
    assert_eq!(kernel.len(), 1, "{kernel:?}");
    assert_eq!(kernel[0].0, "REDHAT:CVE-2023-20593");
    assert_eq!(kernel[0].1, FindingStatus::WillNotFix);
    assert_eq!(
        kernel[0].2.as_deref(),
        Some("database_specific.status is `will_not_fix`: Out of support scope")
    );
    assert_eq!(
        kernel[0].3,
        Severity::Medium,
        "the CVSS vector wins over the label"
    );

    let microcode = findings(
        &db,
        "8.6",
        ("microcode_ctl", "20220207-1.el8", "microcode_ctl"),
    );
    assert_eq!(microcode.len(), 1, "{microcode:?}");
    assert_eq!(microcode[0].1, FindingStatus::NotAffected);
    assert_eq!(
        microcode[0].2.as_deref(),
        Some("database_specific.status is `not_affected`: vulnerable code not present")
    );

    let firmware = findings(
        &db,
        "9.2",
        ("linux-firmware", "20230310-1.el9", "linux-firmware"),
    );
    assert_eq!(firmware.len(), 1, "{firmware:?}");
    assert_eq!(
        firmware[0].1,
        FindingStatus::Affected,
        "no fix yet, not will-not-fix"
    );

    assert!(
        findings(&db, "9.2", ("kernel-core", "5.14.0-284.el9", "kernel")).is_empty(),
        "the RHEL 8 statement does not apply to RHEL 9"
    );
    assert!(
        findings(
            &db,
            "8.6",
            ("linux-firmware", "20230310-1.el8", "linux-firmware")
        )
        .is_empty(),
        "RHEL 9 and OpenShift statements do not apply to RHEL 8"
    );

    // The OSV advisory of the same database still matches beside the CSAF record.
    let git_lfs = findings(&db, "8.6", ("git-lfs", "2.13.3-3.el8_6", "git-lfs"));
    assert_eq!(git_lfs.len(), 1);
    assert_eq!(git_lfs[0].0, "RHSA-2024:4546");

    // Importing the same file again changes nothing.
    let again = db.import(&file).unwrap();
    assert_eq!((again.inserted, again.unchanged), (0, 1));
}

#[test]
fn malformed_files_are_rejected_with_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Database::open(&dir.path().join("advisories.db")).unwrap();

    let mut undefined = vulnerability();
    undefined["product_status"]["known_affected"] = json!(["red_hat_enterprise_linux_7:kernel"]);
    let mut newer = document(&vulnerability());
    newer["document"]["csaf_version"] = json!("2.1");
    let mut two = document(&vulnerability());
    two["vulnerabilities"] = json!([vulnerability(), vulnerability()]);
    let cases = [
        (
            document(&undefined),
            "vulnerabilities[0].product_status.known_affected",
            "product id `red_hat_enterprise_linux_7:kernel` is not defined in product_tree",
        ),
        (
            newer,
            "document.csaf_version",
            "expected `2.0`, found `2.1`",
        ),
        (
            two,
            "vulnerabilities",
            "expected one vulnerability, as Red Hat publishes one file per CVE; found 2",
        ),
    ];
    for (index, (value, field, message)) in cases.into_iter().enumerate() {
        let file = write(dir.path(), &format!("case-{index}.json"), &value);
        let report = db.import(&file).unwrap();
        assert_eq!(report.inserted, 0);
        assert_eq!(report.rejected.len(), 1, "{report:?}");
        assert_eq!(report.rejected[0].field, field);
        assert_eq!(report.rejected[0].message, message);
    }
}

#[test]
fn contradictory_or_foreign_documents_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Database::open(&dir.path().join("advisories.db")).unwrap();

    let mut both = vulnerability();
    both["product_status"]["known_not_affected"] = json!([
        "red_hat_enterprise_linux_8:microcode_ctl",
        "red_hat_enterprise_linux_8:kernel"
    ]);
    let mut wrong_type = vulnerability();
    wrong_type["product_status"]["known_affected"] = json!("red_hat_enterprise_linux_8:kernel");
    let mut advisory = document(&vulnerability());
    advisory["document"]["category"] = json!("csaf_security_advisory");
    let cases = [
        (
            document(&both),
            "vulnerabilities[0].product_status",
            "product `red_hat_enterprise_linux_8:kernel` is both `known_affected` and \
             `known_not_affected`; a product has one status",
        ),
        (
            document(&wrong_type),
            "vulnerabilities[0].product_status.known_affected",
            "not an array of product ids",
        ),
        (
            advisory,
            "document.category",
            "`csaf_security_advisory`: clearbox reads CSAF VEX documents (`csaf_vex`) only; Red \
             Hat publishes them per CVE beside its security advisories",
        ),
    ];
    for (index, (value, field, message)) in cases.into_iter().enumerate() {
        let file = write(dir.path(), &format!("case-{index}.json"), &value);
        let report = db.import(&file).unwrap();
        assert_eq!(report.inserted, 0);
        assert_eq!(report.rejected.len(), 1, "{report:?}");
        assert_eq!(report.rejected[0].field, field);
        assert_eq!(report.rejected[0].message, message);
    }

    // A FIFO is refused before anything waits on it.
    let fifo = dir.path().join("feed.json");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let error = db.import(&fifo).unwrap_err();
    let cause = std::error::Error::source(&error).unwrap().to_string();
    assert!(
        cause.starts_with("not a regular file or directory"),
        "{cause}"
    );
}
