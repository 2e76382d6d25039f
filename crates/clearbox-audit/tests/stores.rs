//! The same checks on both stores: SQLite in a temporary directory and a real PostgreSQL 15
//! server started by the test. Chains, tampering, seals, concurrent writers and the rescan
//! tables behave alike.

use clearbox_attest::SigningKey;
use clearbox_audit::{Event, KnownFinding, Store};
use clearbox_testdata::postgres::PostgresServer;

fn event(decision: &str) -> Event {
    Event {
        kind: "admission".to_owned(),
        actor: "request-1".to_owned(),
        workload: Some("prod/Deployment/api".to_owned()),
        image: Some("registry.example/api:2".to_owned()),
        digest: Some(format!("sha256:{}", "cd".repeat(32))),
        decision: decision.to_owned(),
        reasons: vec!["signed by the release key".to_owned()],
        policy_digest: Some(format!("sha256:{}", "ef".repeat(32))),
        ..Event::default()
    }
}

/// Runs every check against the store at `url`, which must be empty.
fn suite(url: &str) {
    let mut store = Store::open(url).unwrap();
    for index in 0..3 {
        store.append(&event(&format!("allowed-{index}"))).unwrap();
    }
    let key = SigningKey::generate();
    store.seal(&key, "webhook").unwrap();
    store.append(&event("denied")).unwrap();
    let result = store.verify(Some(&key.public_key())).unwrap();
    assert!(result.intact(), "{result:?}");
    assert_eq!(
        (result.records, result.sealed_through, result.unsealed),
        (5, Some(4), 1)
    );

    // Writers on four connections keep one chain.
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                let mut store = Store::open(url).unwrap();
                for _ in 0..10 {
                    store.append(&event("allowed")).unwrap();
                }
            });
        }
    });
    let result = store.verify(None).unwrap();
    assert!(result.intact(), "{result:?}");
    assert_eq!(result.records, 45);

    // Tampering is found at the changed record, and a removed one is named.
    store
        .execute_raw(
            "UPDATE audit_record SET record = replace(record, 'allowed-1', 'denied') \
             WHERE seq = 2",
        )
        .unwrap();
    let problem = store.verify(None).unwrap().problem.unwrap();
    assert_eq!(
        problem.to_string(),
        "row 2 (record 2): modified: its content does not match its hash"
    );
    store
        .execute_raw("DELETE FROM audit_record WHERE seq = 2")
        .unwrap();
    let problem = store.verify(None).unwrap().problem.unwrap();
    assert_eq!(
        problem.to_string(),
        "row 3 (record 3): record 2 is missing here: records were removed or reordered"
    );

    // The rescan tables.
    let digest = format!("sha256:{}", "01".repeat(32));
    store
        .put_sbom(&digest, "registry.example/api:2", "{}")
        .unwrap();
    store
        .put_sbom(
            &digest,
            "registry.example/api:3",
            "{\"bomFormat\": \"CycloneDX\"}",
        )
        .unwrap();
    let sboms = store.sboms(None).unwrap();
    assert_eq!(sboms.len(), 1);
    assert_eq!(sboms[0].reference, "registry.example/api:3");
    let finding = KnownFinding {
        digest: digest.clone(),
        advisory: "GHSA-j8r2-6x86-q33q".to_owned(),
        package: "pkg:pypi/requests@2.30.0".to_owned(),
        aliases: vec!["CVE-2023-32681".to_owned(), "PYSEC-2023-74".to_owned()],
        first_seen: "2026-12-04T00:00:00Z".to_owned(),
    };
    store
        .add_findings(&[finding.clone(), finding.clone()])
        .unwrap();
    assert_eq!(store.known_findings(&digest).unwrap().len(), 1);
    assert_eq!(
        store.findings_of("CVE-2023-32681").unwrap(),
        std::slice::from_ref(&finding)
    );
    assert_eq!(store.findings_of("GHSA-j8r2-6x86-q33q").unwrap().len(), 1);
    assert!(store.findings_of("CVE-2023-3268").unwrap().is_empty());
}

#[test]
fn sqlite_store_suite() {
    let dir = tempfile::tempdir().unwrap();
    suite(&format!(
        "sqlite://{}",
        dir.path().join("audit.db").display()
    ));
}

#[test]
fn postgres_store_suite() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    suite(&server.url());
    drop(server);
}
