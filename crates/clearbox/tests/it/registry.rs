//! The evidence package for an image read from a real registry over TLS with a password.

use std::collections::BTreeSet;

use clearbox_testdata::registry::{RegistryConfig, RegistryServer};

use crate::support::{assert_exit, clearbox_with_stdin, example_image, oci_ref, read_json, stderr};

fn purls(bom: &serde_json::Value) -> BTreeSet<String> {
    bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["purl"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn evidence_from_tls_registry_with_login_matches_the_layout() {
    let Some(image) = example_image() else { return };
    let Some(server) = RegistryServer::start(RegistryConfig {
        tls: true,
        htpasswd: Some(("auditor".into(), "s3cret".into())),
        token_auth: None,
    }) else {
        return;
    };
    if server
        .push_layout(
            &oci_ref(&image),
            "ai/example:v1",
            Some(("auditor", "s3cret")),
        )
        .is_none()
    {
        return;
    }
    let reference = format!("docker://{}/ai/example:v1", server.host_port());
    let ca = server.ca_file().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("evidence");
    let out = clearbox_with_stdin(
        &[
            "evidence",
            &reference,
            "--output",
            package.to_str().unwrap(),
            "--ca-file",
            ca.to_str().unwrap(),
            "--username",
            "auditor",
            "--password-stdin",
        ],
        Some("s3cret\n"),
    );
    assert_exit(&out, 0);
    assert!(
        !stderr(&out).contains("s3cret"),
        "the password must not be printed"
    );

    // Same manifest digest and the same inventory as reading the layout directly.
    let metadata = read_json(&package.join("image-metadata.json"));
    let index = read_json(&image.join("index.json"));
    assert_eq!(metadata["manifest_digest"], index["manifests"][0]["digest"]);
    let from_registry = read_json(&package.join("sbom.cdx.json"));
    let layout =
        crate::support::clearbox(&["sbom", &oci_ref(&image), "--format", "cyclonedx-json"]);
    assert_exit(&layout, 0);
    let from_layout: serde_json::Value = serde_json::from_slice(&layout.stdout).unwrap();
    assert_eq!(purls(&from_registry), purls(&from_layout));

    // The wrong password is refused with the registry named.
    let out = clearbox_with_stdin(
        &[
            "sbom",
            &reference,
            "--ca-file",
            ca.to_str().unwrap(),
            "--username",
            "auditor",
            "--password-stdin",
        ],
        Some("wrong\n"),
    );
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains(&server.host_port()),
        "{}",
        stderr(&out)
    );
    assert!(
        !stderr(&out).contains("wrong"),
        "the password must not be printed"
    );
}
