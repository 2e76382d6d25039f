//! The three image transports of the example image, and `dir:`, give the same inventory.

use std::collections::BTreeSet;

use crate::support::{assert_exit, clearbox, example_image, oci_ref};

fn purls(reference: &str) -> BTreeSet<String> {
    let out = clearbox(&["sbom", reference, "--format", "cyclonedx-json"]);
    assert_exit(&out, 0);
    let bom: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["purl"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn oci_layout_and_both_archives_agree() {
    let Some(image) = example_image() else { return };
    let layout = purls(&oci_ref(&image));
    assert!(layout.len() >= 49, "{}", layout.len());
    let oci_archive = purls(&format!("oci-archive:{}.oci.tar:latest", image.display()));
    let docker_archive = purls(&format!("docker-archive:{}.docker.tar", image.display()));
    assert_eq!(layout, oci_archive);
    assert_eq!(layout, docker_archive);
}

#[test]
fn docker_archive_has_no_manifest_digest() {
    let Some(image) = example_image() else { return };
    let out = clearbox(&[
        "sbom",
        &format!("docker-archive:{}.docker.tar", image.display()),
        "--format",
        "cyclonedx-json",
    ]);
    assert_exit(&out, 0);
    let bom: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The image component is still named; without a manifest there is no digest version.
    assert_eq!(bom["metadata"]["component"]["name"], "clearbox-example-ai");
}

#[test]
fn docker_archive_short_name_matches_normalised_tag() {
    let Some(image) = example_image() else { return };
    let short = purls(&format!(
        "docker-archive:{}.docker.tar:clearbox-example-ai:latest",
        image.display()
    ));
    let by_index = purls(&format!("docker-archive:{}.docker.tar:@0", image.display()));
    assert_eq!(short, by_index);
}
