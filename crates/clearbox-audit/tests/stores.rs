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
        digest: Some(image_digest()),
        decision: decision.to_owned(),
        reasons: vec!["signed by the release key".to_owned()],
        policy_digest: Some(format!("sha256:{}", "ef".repeat(32))),
        ..Event::default()
    }
}

fn image_digest() -> String {
    format!("sha256:{}", "cd".repeat(32))
}

/// Runs every check against the store at `url`, which must be empty.
fn suite(url: &str) {
    let mut store = Store::open(url).unwrap();
    chain_and_concurrent_writers(&mut store, url);
    batches(&mut store, url);
    tampering(&mut store);
    rescan_tables(&mut store);
}

/// Leaves 45 records, the fourth a seal.
fn chain_and_concurrent_writers(store: &mut Store, url: &str) {
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
}

/// Leaves 108 records, the last from a batch of three.
fn batches(store: &mut Store, url: &str) {
    // Both backends take a lock timeout; appends go on as before.
    store
        .set_lock_timeout(std::time::Duration::from_millis(2500))
        .unwrap();

    // A batch is stored as returned, each record following the one before it.
    let batch = store
        .append_all(&[event("batch-0"), event("batch-1"), event("batch-2")])
        .unwrap();
    let seqs: Vec<u64> = batch.iter().map(|record| record.seq).collect();
    assert_eq!(seqs, [46, 47, 48]);
    assert_eq!(Some(&batch[1].prev), batch[0].hash.as_ref());
    assert_eq!(Some(&batch[2].prev), batch[1].hash.as_ref());
    assert_eq!(batch[2].decision, "batch-2");
    let stored = store.records_for_digest(&image_digest()).unwrap();
    assert_eq!(stored.len(), 47, "every record but the seal");
    assert_eq!(stored[44..], batch[..]);
    assert!(store.append_all(&[]).unwrap().is_empty());

    // Batches on four connections keep one chain too.
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                let mut store = Store::open(url).unwrap();
                for _ in 0..5 {
                    let batch = store
                        .append_all(&[event("batch-0"), event("batch-1"), event("batch-2")])
                        .unwrap();
                    assert_eq!(batch[1].seq, batch[0].seq + 1);
                    assert_eq!(batch[2].seq, batch[0].seq + 2);
                }
            });
        }
    });
    let result = store.verify(None).unwrap();
    assert!(result.intact(), "{result:?}");
    assert_eq!(result.records, 108);
}

fn tampering(store: &mut Store) {
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

    // A damaged last record rejects a batch as a whole.
    store
        .execute_raw(
            "UPDATE audit_record SET record = replace(record, 'batch-2', 'allowed') \
             WHERE seq = (SELECT max(seq) FROM audit_record)",
        )
        .unwrap();
    let error = store
        .append_all(&[event("allowed"), event("denied")])
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("its last record cannot be extended"),
        "{error}"
    );
    assert!(error.contains("record 108 does not match"), "{error}");
    assert_eq!(
        store.records_for_digest(&image_digest()).unwrap().len(),
        106
    );
    assert!(store.append(&event("allowed")).is_err());
}

fn rescan_tables(store: &mut Store) {
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

    // Several findings in one call are all recorded.
    let findings: Vec<KnownFinding> = ["pkg:pypi/idna@3.6", "pkg:pypi/urllib3@1.26.0"]
        .into_iter()
        .map(|package| KnownFinding {
            package: package.to_owned(),
            advisory: "GHSA-0000-0000-0000".to_owned(),
            aliases: Vec::new(),
            ..finding.clone()
        })
        .collect();
    store.add_findings(&findings).unwrap();
    let known = store.known_findings(&digest).unwrap();
    assert_eq!(known.len(), 3);
    assert!(known.contains(&(
        "GHSA-0000-0000-0000".to_owned(),
        "pkg:pypi/idna@3.6".to_owned()
    )));
    assert_eq!(store.findings_of("GHSA-0000-0000-0000").unwrap(), findings);

    // Shards split the stored SBOMs by the last hex digits of their digest.
    let digests: Vec<String> = (0..4)
        .map(|n| format!("sha256:{}{n:08x}", "02".repeat(28)))
        .collect();
    for digest in &digests {
        store
            .put_sbom(digest, "registry.example/api:4", "{}")
            .unwrap();
    }
    let even = store.sbom_digests(Some((0, 2))).unwrap();
    let odd = store.sbom_digests(Some((1, 2))).unwrap();
    assert_eq!(even, [digests[0].clone(), digests[2].clone()]);
    assert_eq!(
        odd,
        [digest.clone(), digests[1].clone(), digests[3].clone()]
    );
    assert_eq!(store.sbom_digests(None).unwrap().len(), 5);
    let shard: Vec<String> = store
        .sboms(Some((0, 2)))
        .unwrap()
        .into_iter()
        .map(|stored| stored.digest)
        .collect();
    assert_eq!(shard, even);
    let stored = store.sbom(&digests[1]).unwrap().unwrap();
    assert_eq!(stored.reference, "registry.example/api:4");
    assert_eq!(stored.sbom, "{}");
    assert_eq!(
        store.sbom(&format!("sha256:{}", "03".repeat(32))).unwrap(),
        None
    );
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
