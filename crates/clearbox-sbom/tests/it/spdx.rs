//! SPDX 2.3 encoder: pyspdxtools accepts it, and the fields hold what the catalog says.

use std::collections::BTreeSet;

use clearbox_catalog::Catalog;
use clearbox_sbom::{Subject, to_spdx_json};
use serde_json::{Value, json};

use crate::fixtures::{self, json};

fn document() -> Value {
    json(&to_spdx_json(&fixtures::subject(), &fixtures::catalog()))
}

/// Finds the package entry named `name` (the first, when several share it).
fn package<'a>(document: &'a Value, name: &str) -> &'a Value {
    document["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no package `{name}`"))
}

fn annotations(package: &Value) -> Vec<String> {
    package["annotations"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|a| a["comment"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn spdx_passes_pyspdxtools() {
    let Some(venv) = clearbox_testdata::venv() else {
        return;
    };
    let bytes = to_spdx_json(&fixtures::subject(), &fixtures::catalog());
    clearbox_testdata::validate_spdx(&venv, &bytes).unwrap();
}

#[test]
fn spdx_minimal_passes_pyspdxtools() {
    let Some(venv) = clearbox_testdata::venv() else {
        return;
    };
    let subject = Subject {
        reference: "dir:/tmp/rootfs".to_owned(),
        created: "2025-01-01T00:00:00Z".to_owned(),
        tool_version: "0.1.0".to_owned(),
        ..Subject::default()
    };
    let bytes = to_spdx_json(&subject, &Catalog::default());
    clearbox_testdata::validate_spdx(&venv, &bytes).unwrap();
    let document = json(&bytes);
    assert_eq!(document["name"], "dir:/tmp/rootfs");
    assert_eq!(document["packages"].as_array().unwrap().len(), 1);
    assert!(document["packages"][0].get("externalRefs").is_none());
    assert!(document.get("hasExtractedLicensingInfos").is_none());
}

#[test]
fn spdx_document_header() {
    let document = document();
    assert_eq!(document["spdxVersion"], "SPDX-2.3");
    assert_eq!(document["dataLicense"], "CC0-1.0");
    assert_eq!(document["SPDXID"], "SPDXRef-DOCUMENT");
    assert_eq!(document["name"], "clearbox-example-ai");
    assert_eq!(
        document["creationInfo"],
        json!({"created": "2025-01-01T00:00:00Z", "creators": ["Tool: clearbox-0.1.0"]})
    );
    let namespace = document["documentNamespace"].as_str().unwrap();
    let uuid = namespace
        .strip_prefix("https://spdx.org/spdxdocs/clearbox-example-ai-")
        .unwrap();
    assert_eq!(uuid.len(), 36);
    assert_eq!(&uuid[14..15], "8", "UUID version 8");
    assert!(
        matches!(&uuid[19..20], "8" | "9" | "a" | "b"),
        "RFC variant"
    );
}

#[test]
fn spdx_image_package() {
    let document = document();
    let image = &document["packages"][0];
    assert_eq!(image["SPDXID"], "SPDXRef-Image-clearbox-example-ai");
    assert_eq!(image["primaryPackagePurpose"], "CONTAINER");
    assert_eq!(
        image["versionInfo"],
        "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    );
    assert_eq!(
        image["externalRefs"][0]["referenceLocator"],
        "pkg:oci/clearbox-example-ai@sha256%3A9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    );
    assert!(image.get("checksums").is_none());
}

#[test]
fn spdx_relationships() {
    let document = document();
    let relationships = document["relationships"].as_array().unwrap();
    assert_eq!(
        relationships[0],
        json!({
            "spdxElementId": "SPDXRef-DOCUMENT",
            "relationshipType": "DESCRIBES",
            "relatedSpdxElement": "SPDXRef-Image-clearbox-example-ai"
        })
    );
    let contained: Vec<&str> = relationships[1..]
        .iter()
        .inspect(|r| assert_eq!(r["relationshipType"], "CONTAINS"))
        .inspect(|r| assert_eq!(r["spdxElementId"], "SPDXRef-Image-clearbox-example-ai"))
        .map(|r| r["relatedSpdxElement"].as_str().unwrap())
        .collect();
    let packages: Vec<&str> = document["packages"].as_array().unwrap()[1..]
        .iter()
        .map(|p| p["SPDXID"].as_str().unwrap())
        .collect();
    assert_eq!(contained, packages);
}

#[test]
fn spdx_ids_unique_for_shared_purl() {
    let document = document();
    let ids: Vec<&str> = document["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["SPDXID"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len());

    let certifi: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|id| id.starts_with("SPDXRef-Package-python-certifi-"))
        .collect();
    assert_eq!(certifi.len(), 2);
    for id in ids {
        assert!(
            id.strip_prefix("SPDXRef-")
                .unwrap()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'),
            "{id}"
        );
    }
}

#[test]
fn spdx_deb_package() {
    let document = document();
    let libc = package(&document, "libc6");
    assert_eq!(libc["versionInfo"], "2.36-9+deb12u10");
    assert_eq!(
        libc["supplier"],
        "Organization: GNU Libc Maintainers (debian-glibc@lists.debian.org)"
    );
    assert_eq!(
        libc["externalRefs"],
        json!([{
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": "pkg:deb/debian/libc6@2.36-9%2Bdeb12u10?arch=amd64&distro=debian-12&upstream=glibc%402.36-9%2Bdeb12u10"
        }])
    );
    assert_eq!(
        libc["licenseDeclared"],
        "GPL-2.0-or-later AND LGPL-2.1-or-later AND LicenseRef-public-domain"
    );
    assert_eq!(libc["licenseConcluded"], "NOASSERTION");
    assert_eq!(libc["downloadLocation"], "NOASSERTION");
    assert_eq!(libc["filesAnalyzed"], false);
    assert_eq!(libc["primaryPackagePurpose"], "LIBRARY");
    assert_eq!(
        libc["sourceInfo"],
        "built from source package glibc version 2.36-9+deb12u10"
    );
    let comment = libc["comment"].as_str().unwrap();
    assert!(comment.starts_with(
        "Found by dpkg-db-cataloger.\nLocation: /var/lib/dpkg/status (layer sha256:1a5d"
    ));
    assert!(annotations(libc).contains(&"clearbox:source-package:name=glibc".to_owned()));

    let zlib = package(&document, "zlib1g");
    assert_eq!(zlib["supplier"], "Person: Mark Brown (broonie@debian.org)");
    assert_eq!(zlib["licenseDeclared"], "Zlib");
    assert_eq!(package(&document, "libexpat1")["licenseDeclared"], "MIT");
}

#[test]
fn spdx_python_packages() {
    let document = document();
    let jinja = package(&document, "Jinja2");
    assert_eq!(
        jinja["externalRefs"][0]["referenceLocator"],
        "pkg:pypi/jinja2@3.1.2"
    );
    assert_eq!(jinja["homepage"], "https://palletsprojects.com/p/jinja/");
    assert_eq!(
        jinja["description"],
        "Un moteur de gabarits — rapide, sûr ✓ (模板引擎)"
    );
    assert_eq!(jinja["licenseDeclared"], "BSD-3-Clause");
    assert!(annotations(jinja).contains(&"clearbox:python:installer=pip".to_owned()));
    assert_eq!(
        package(&document, "cryptography")["licenseDeclared"],
        "Apache-2.0 OR BSD-3-Clause"
    );
    assert_eq!(
        package(&document, "naïve-ünïcode")["licenseDeclared"],
        "LicenseRef-Licence-Libre-du-Qu-bec-R-ciprocit-forte-LiLiQ-R"
    );
}

#[test]
fn spdx_license_refs_defined() {
    let document = document();
    let defined: Vec<&str> = document["hasExtractedLicensingInfos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|info| info["licenseId"].as_str().unwrap())
        .collect();
    assert_eq!(
        defined,
        [
            "LicenseRef-Artistic",
            "LicenseRef-GPL-2-with-GCC-exception",
            "LicenseRef-Licence-Libre-du-Qu-bec-R-ciprocit-forte-LiLiQ-R",
            "LicenseRef-public-domain",
        ]
    );
    let public_domain = &document["hasExtractedLicensingInfos"][3];
    assert_eq!(public_domain["name"], "public-domain");
    assert_eq!(
        public_domain["extractedText"],
        "The licence name `public-domain` as declared in package metadata. The licence text was not extracted."
    );
    assert_eq!(
        public_domain["comment"],
        "Declared by: libc6 2.36-9+deb12u10 (/var/lib/dpkg/status); tzdata 2024a-0+deb12u1 (/var/lib/dpkg/status)."
    );

    // Every reference used is defined.
    for package in document["packages"].as_array().unwrap() {
        let declared = package["licenseDeclared"].as_str().unwrap();
        for term in declared.split([' ', '(', ')']) {
            if term.starts_with("LicenseRef-") {
                assert!(defined.contains(&term), "{term} is not defined");
            }
        }
    }
}

#[test]
fn spdx_license_ref_clash_gets_suffix() {
    let mut catalog = fixtures::catalog();
    catalog.packages[0].licenses = vec!["Foo Bar".to_owned(), "foo-bar".to_owned()];
    let document = json(&to_spdx_json(&fixtures::subject(), &catalog));
    let declared = document["packages"][2]["licenseDeclared"].as_str().unwrap();
    let terms: Vec<&str> = declared.split(" AND ").collect();
    assert_eq!(terms.len(), 2);
    assert_ne!(terms[0], terms[1]);
    assert!(terms[0].starts_with("LicenseRef-Foo-Bar-"), "{declared}");
    assert!(terms[1].starts_with("LicenseRef-foo-bar-"), "{declared}");
}

#[test]
fn spdx_model_package() {
    let document = document();
    let model = package(&document, "all-MiniLM-L6-v2");
    assert_eq!(model["primaryPackagePurpose"], "FILE");
    assert_eq!(
        model["checksums"],
        json!([{"algorithm": "SHA256", "checksumValue": fixtures::MODEL_SHA256}])
    );
    assert_eq!(model["licenseDeclared"], "Apache-2.0");
    assert_eq!(
        model["comment"],
        "Found by safetensors-model-cataloger.\n\
         Location: /models/all-MiniLM-L6-v2/model.safetensors (layer sha256:2b6e8c8f1a0d5c4f9e3b7a2d1c0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f)\n\
         Model weights: safetensors format, 90868376 bytes, 101 tensors, 22713216 parameters.\n\
         Tensors by data type: F32 101.\n\
         Architecture: BertModel.\n\
         Model type: bert.\n\
         Task: sentence-similarity.\n\
         Datasets: s2orc, flax-sentence-embeddings/stackexchange_xml, ms_marco."
    );
    let annotations = annotations(model);
    for expected in [
        "clearbox:model:tensor-count=101",
        "clearbox:model:parameter-count=22713216",
        "clearbox:model:dtype:F32=101",
        "clearbox:model:config:architecture:0=BertModel",
        "clearbox:model:card:pipeline-tag=sentence-similarity",
        "clearbox:model:card:dataset:2=ms_marco",
    ] {
        assert!(annotations.contains(&expected.to_owned()), "{expected}");
    }
    assert_eq!(model["annotations"][0]["annotator"], "Tool: clearbox-0.1.0");
    assert_eq!(model["annotations"][0]["annotationType"], "OTHER");
}

#[test]
fn spdx_model_with_problems() {
    let document = document();
    let model = package(&document, "broken");
    let comment = model["comment"].as_str().unwrap();
    assert!(comment.ends_with(
        "Problem: header length 4096 runs past the end of the 1024-byte file\n\
         Problem: no tensors could be read"
    ));
    assert!(!comment.contains("Task:"));
    assert!(
        annotations(model)
            .contains(&"clearbox:model:problem:1=no tensors could be read".to_owned())
    );
    assert_eq!(model["licenseDeclared"], "NOASSERTION");
}

#[test]
fn spdx_output_is_deterministic() {
    let first = to_spdx_json(&fixtures::subject(), &fixtures::catalog());
    let second = to_spdx_json(&fixtures::subject(), &fixtures::catalog());
    assert_eq!(first, second);
    assert!(first.ends_with(b"}\n"));
}

#[test]
fn spdx_ids_ignore_package_order() {
    let mut reversed = fixtures::catalog();
    reversed.packages.reverse();
    let original = document();
    let reversed = json(&to_spdx_json(&fixtures::subject(), &reversed));
    assert_eq!(original["documentNamespace"], reversed["documentNamespace"]);
    assert_eq!(
        original["hasExtractedLicensingInfos"],
        reversed["hasExtractedLicensingInfos"]
    );
    let ids = |d: &Value| -> BTreeSet<String> {
        d["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["SPDXID"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&original), ids(&reversed));
}

#[test]
fn spdx_namespace_changes_with_content() {
    let mut subject = fixtures::subject();
    let original = document();
    subject.created = "2025-01-02T00:00:00Z".to_owned();
    let later = json(&to_spdx_json(&subject, &fixtures::catalog()));
    assert_ne!(original["documentNamespace"], later["documentNamespace"]);

    let mut catalog = fixtures::catalog();
    catalog.packages.pop();
    let fewer = json(&to_spdx_json(&fixtures::subject(), &catalog));
    assert_ne!(original["documentNamespace"], fewer["documentNamespace"]);
}
