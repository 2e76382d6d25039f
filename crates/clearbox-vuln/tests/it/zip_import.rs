//! Importing an osv.dev-style `all.zip`, built here from corpus records with the zip crate.

use std::fs;
use std::io::Write;

use clearbox_vuln::{Database, SourceKind};

use crate::support::{GO_VULNDB, affected_ids, corpus, go_module, osv, require};

#[test]
fn all_zip_import() {
    let corpus = require!(corpus());
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("all.zip");

    // The first 50 Go records by name, a README, a directory entry and one malformed record.
    let mut names: Vec<_> = fs::read_dir(osv(&corpus, GO_VULNDB))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names.truncate(50);
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut writer = zip::ZipWriter::new(fs::File::create(&zip_path).unwrap());
    for name in &names {
        writer.start_file(name.as_str(), deflated).unwrap();
        writer
            .write_all(&fs::read(osv(&corpus, &format!("{GO_VULNDB}/{name}"))).unwrap())
            .unwrap();
    }
    writer.start_file("README.md", deflated).unwrap();
    writer.write_all(b"not a record").unwrap();
    writer.add_directory("nested/", deflated).unwrap();
    writer.start_file("nested/bad.json", deflated).unwrap();
    let malformed = osv(
        &corpus,
        "osv-schema/osv-linter-testdata/nointroduced-CVE-2023-41045.json",
    );
    writer.write_all(&fs::read(malformed).unwrap()).unwrap();
    writer.finish().unwrap();

    let mut db = Database::open(&dir.path().join("a.db")).unwrap();
    let report = db.import(&zip_path).unwrap();
    assert_eq!(report.kind, SourceKind::Zip);
    assert_eq!(report.records, 51);
    assert_eq!(report.inserted, 50);
    assert_eq!(report.rejected.len(), 1);
    let rejected = &report.rejected[0];
    assert_eq!(rejected.file, zip_path);
    assert_eq!(rejected.member.as_deref(), Some("nested/bad.json"));
    assert_eq!(rejected.field, "affected[0].ranges[0].events");
    println!(
        "all.zip: {} records, {} stored, {} withdrawn, rejected: {}",
        report.records, report.inserted, report.withdrawn, rejected
    );

    // Provenance: the feed is the archive with its digest.
    let status = db.status().unwrap();
    assert_eq!(status.advisories, report.inserted);
    assert_eq!(status.feeds.len(), 1);
    assert_eq!(status.feeds[0].kind, "zip");
    assert_eq!(status.feeds[0].sha256.as_deref().map(str::len), Some(64));

    // A record from the archive is matched: GO-2020-0012 (golang.org/x/crypto) is among the
    // first 50.
    assert!(names.contains(&"GO-2020-0012.json".to_owned()));
    let old_crypto = go_module(
        "golang.org/x/crypto",
        "v0.0.0-20200115085410-6d4e4cb37c7d",
        "/app",
    );
    let ids = affected_ids(&db, old_crypto);
    assert!(ids.contains("GO-2020-0012"), "{ids:?}");
}
