//! CycloneDX 1.6 encoder: the strict schema accepts it, and the fields hold what the catalog says.

use std::collections::BTreeSet;

use clearbox_catalog::Catalog;
use clearbox_sbom::{Subject, to_cyclonedx_json};
use serde_json::{Value, json};

use crate::fixtures::{self, json};

fn bom() -> Value {
    json(&to_cyclonedx_json(
        &fixtures::subject(),
        &fixtures::catalog(),
    ))
}

/// Finds the component named `name` (the first, when several share it).
fn component<'a>(bom: &'a Value, name: &str) -> &'a Value {
    bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no component `{name}`"))
}

fn property<'a>(component: &'a Value, name: &str) -> Option<&'a str> {
    component["properties"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
        .map(|p| p["value"].as_str().unwrap())
}

#[test]
fn cyclonedx_passes_strict_schema() {
    let Some(venv) = clearbox_testdata::venv() else {
        return;
    };
    let bytes = to_cyclonedx_json(&fixtures::subject(), &fixtures::catalog());
    clearbox_testdata::validate_cyclonedx(&venv, &bytes).unwrap();
}

#[test]
fn cyclonedx_minimal_passes_strict_schema() {
    let Some(venv) = clearbox_testdata::venv() else {
        return;
    };
    let subject = Subject {
        reference: "dir:/tmp/rootfs".to_owned(),
        created: "2025-01-01T00:00:00Z".to_owned(),
        tool_version: "0.1.0".to_owned(),
        ..Subject::default()
    };
    let bytes = to_cyclonedx_json(&subject, &Catalog::default());
    clearbox_testdata::validate_cyclonedx(&venv, &bytes).unwrap();
    let bom = json(&bytes);
    assert_eq!(bom["components"], json!([]));
    assert!(bom["metadata"]["component"].get("purl").is_none());
    assert!(bom["metadata"]["component"].get("version").is_none());
}

#[test]
fn cyclonedx_header_and_metadata() {
    let bom = bom();
    assert_eq!(
        bom["$schema"],
        "http://cyclonedx.org/schema/bom-1.6.schema.json"
    );
    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert_eq!(bom["specVersion"], "1.6");
    assert_eq!(bom["version"], 1);
    let serial = bom["serialNumber"].as_str().unwrap();
    let uuid = serial.strip_prefix("urn:uuid:").unwrap();
    assert_eq!(uuid.len(), 36);
    assert_eq!(&uuid[14..15], "8", "UUID version 8");

    let metadata = &bom["metadata"];
    assert_eq!(metadata["timestamp"], "2025-01-01T00:00:00Z");
    assert_eq!(
        metadata["tools"],
        json!({"components": [{"type": "application", "name": "clearbox", "version": "0.1.0"}]})
    );
    let image = &metadata["component"];
    assert_eq!(image["type"], "container");
    assert_eq!(image["bom-ref"], "image-clearbox-example-ai");
    assert_eq!(image["name"], "clearbox-example-ai");
    assert_eq!(
        image["version"],
        "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    );
    assert_eq!(
        image["purl"],
        "pkg:oci/clearbox-example-ai@sha256%3A9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    );
    assert_eq!(
        property(image, "clearbox:image:reference"),
        Some("oci:target/example-image:latest")
    );
}

#[test]
fn cyclonedx_operating_system() {
    let bom = bom();
    let os = &bom["components"][0];
    assert_eq!(os["type"], "operating-system");
    assert_eq!(os["name"], "debian");
    assert_eq!(os["version"], "12");
    assert_eq!(os["description"], "Debian GNU/Linux 12 (bookworm)");
    assert_eq!(property(os, "clearbox:distro:codename"), Some("bookworm"));
}

#[test]
fn cyclonedx_dependencies_cover_components() {
    let bom = bom();
    let refs: Vec<&str> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<&str> = refs.iter().copied().collect();
    assert_eq!(unique.len(), refs.len(), "bom-refs are unique");
    assert_eq!(
        bom["dependencies"],
        json!([{"ref": "image-clearbox-example-ai", "dependsOn": refs}])
    );
}

#[test]
fn cyclonedx_deb_component() {
    let bom = bom();
    let libc = component(&bom, "libc6");
    assert_eq!(libc["type"], "library");
    assert_eq!(
        libc["purl"],
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u10?arch=amd64&distro=debian-12&upstream=glibc%402.36-9%2Bdeb12u10"
    );
    assert_eq!(
        libc["supplier"],
        json!({"name": "GNU Libc Maintainers", "contact": [{"email": "debian-glibc@lists.debian.org"}]})
    );
    assert_eq!(
        libc["licenses"],
        json!([
            {"license": {"id": "GPL-2.0-or-later"}},
            {"license": {"id": "LGPL-2.1-or-later"}},
            {"license": {"name": "public-domain"}},
        ])
    );
    assert_eq!(
        libc["evidence"],
        json!({"occurrences": [
            {"location": "/var/lib/dpkg/status"},
            {"location": "/usr/share/doc/libc6/copyright"},
        ]})
    );
    assert_eq!(
        property(libc, "clearbox:found-by"),
        Some("dpkg-db-cataloger")
    );
    assert_eq!(
        property(libc, "clearbox:location:1:path"),
        Some("/usr/share/doc/libc6/copyright")
    );
    assert_eq!(
        property(libc, "clearbox:location:0:layer"),
        Some(fixtures::BASE_LAYER)
    );
    assert_eq!(
        property(libc, "clearbox:source-package:name"),
        Some("glibc")
    );
    assert_eq!(
        component(&bom, "gcc-12-base")["licenses"],
        json!([
            {"license": {"id": "GPL-3.0-or-later"}},
            {"license": {"id": "GFDL-1.2-or-later"}},
            {"license": {"name": "Artistic"}},
            {"license": {"name": "GPL-2+ with GCC exception"}},
        ])
    );
}

#[test]
fn cyclonedx_python_and_go_components() {
    let bom = bom();
    let jinja = component(&bom, "Jinja2");
    assert_eq!(jinja["purl"], "pkg:pypi/jinja2@3.1.2");
    assert_eq!(
        jinja["externalReferences"],
        json!([{"type": "website", "url": "https://palletsprojects.com/p/jinja/"}])
    );
    assert_eq!(
        jinja["supplier"],
        json!({"name": "Armin Ronacher", "contact": [{"email": "armin.ronacher@active-4.com"}]})
    );
    assert_eq!(property(jinja, "clearbox:python:installer"), Some("pip"));
    assert_eq!(
        component(&bom, "cryptography")["licenses"],
        json!([{"expression": "Apache-2.0 OR BSD-3-Clause"}])
    );

    let stdlib = component(&bom, "stdlib");
    assert_eq!(stdlib["type"], "library");
    assert_eq!(stdlib["version"], "go1.22.1");
    assert_eq!(stdlib["purl"], "pkg:golang/stdlib@1.22.1");
    assert_eq!(
        component(&bom, "golang.org/x/crypto")["purl"],
        "pkg:golang/golang.org/x/crypto@v0.21.0"
    );
}

#[test]
fn cyclonedx_model_component() {
    let bom = bom();
    let model = component(&bom, "all-MiniLM-L6-v2");
    assert_eq!(model["type"], "machine-learning-model");
    assert_eq!(
        model["purl"],
        "pkg:huggingface/sentence-transformers/all-MiniLM-L6-v2@8b3219a92973c328a8e22fadcfa821b5dc75636a"
    );
    assert_eq!(
        model["hashes"],
        json!([{"alg": "SHA-256", "content": fixtures::MODEL_SHA256}])
    );
    assert_eq!(
        model["licenses"],
        json!([{"license": {"id": "Apache-2.0"}}])
    );
    assert_eq!(
        model["modelCard"],
        json!({"modelParameters": {
            "task": "sentence-similarity",
            "architectureFamily": "bert",
            "modelArchitecture": "BertModel",
            "datasets": [
                {"type": "dataset", "name": "s2orc"},
                {"type": "dataset", "name": "flax-sentence-embeddings/stackexchange_xml"},
                {"type": "dataset", "name": "ms_marco"},
            ],
        }})
    );
    assert_eq!(
        property(model, "clearbox:model:format"),
        Some("safetensors")
    );
    assert_eq!(property(model, "clearbox:model:tensor-count"), Some("101"));
    assert_eq!(
        property(model, "clearbox:model:parameter-count"),
        Some("22713216")
    );
    assert_eq!(property(model, "clearbox:model:dtype:F32"), Some("101"));
    assert_eq!(
        property(model, "clearbox:model:metadata:format"),
        Some("pt")
    );
    assert_eq!(
        property(model, "clearbox:model:config:hidden-size"),
        Some("384")
    );
    assert_eq!(
        property(model, "clearbox:model:card:language:0"),
        Some("en")
    );
}

#[test]
fn cyclonedx_model_with_problems() {
    let bom = bom();
    let model = component(&bom, "broken");
    assert_eq!(model["type"], "machine-learning-model");
    assert!(model.get("modelCard").is_none());
    assert!(model.get("licenses").is_none());
    assert_eq!(
        property(model, "clearbox:model:problem:0"),
        Some("header length 4096 runs past the end of the 1024-byte file")
    );
    assert_eq!(
        model["hashes"],
        json!([{"alg": "SHA-256", "content": fixtures::BROKEN_SHA256}])
    );
}

#[test]
fn cyclonedx_model_card_partial() {
    let mut catalog = fixtures::catalog();
    let model = catalog
        .packages
        .iter_mut()
        .find(|p| p.name == "all-MiniLM-L6-v2")
        .unwrap();
    let facts = model.model.as_mut().unwrap();
    facts.card = None;
    facts.config.as_mut().unwrap().model_type = None;
    let bom = json(&to_cyclonedx_json(&fixtures::subject(), &catalog));
    assert_eq!(
        component(&bom, "all-MiniLM-L6-v2")["modelCard"],
        json!({"modelParameters": {"modelArchitecture": "BertModel"}})
    );
}

#[test]
fn cyclonedx_output_is_deterministic() {
    let first = to_cyclonedx_json(&fixtures::subject(), &fixtures::catalog());
    let second = to_cyclonedx_json(&fixtures::subject(), &fixtures::catalog());
    assert_eq!(first, second);
    assert!(first.ends_with(b"}\n"));
}

#[test]
fn cyclonedx_refs_ignore_package_order() {
    let mut reversed = fixtures::catalog();
    reversed.packages.reverse();
    let original = bom();
    let reversed = json(&to_cyclonedx_json(&fixtures::subject(), &reversed));
    assert_eq!(original["serialNumber"], reversed["serialNumber"]);
    let refs = |b: &Value| -> BTreeSet<String> {
        b["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["bom-ref"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(refs(&original), refs(&reversed));
}

#[test]
fn cyclonedx_and_spdx_uuids_differ() {
    let bom = bom();
    let spdx = json(&clearbox_sbom::to_spdx_json(
        &fixtures::subject(),
        &fixtures::catalog(),
    ));
    let serial = bom["serialNumber"]
        .as_str()
        .unwrap()
        .strip_prefix("urn:uuid:")
        .unwrap();
    assert!(
        !spdx["documentNamespace"]
            .as_str()
            .unwrap()
            .ends_with(serial)
    );
}

#[test]
fn cyclonedx_sharded_gguf_with_pickle_warning() {
    let bom = bom();
    let model = component(&bom, "Tiny");
    assert_eq!(model["type"], "machine-learning-model");
    // One SHA-256 per shard, in shard order, and each shard's path, size and digest.
    assert_eq!(
        model["hashes"],
        json!([
            {"alg": "SHA-256", "content": fixtures::MODEL_SHA256},
            {"alg": "SHA-256", "content": fixtures::BROKEN_SHA256},
        ])
    );
    assert_eq!(
        property(model, "clearbox:model:file:1:sha256"),
        Some(fixtures::BROKEN_SHA256)
    );
    assert_eq!(
        property(model, "clearbox:model:file:0:path"),
        Some("/models/tiny/tiny-00001-of-00002.gguf")
    );
    // The architecture the GGUF file names is the family when no config.json states one.
    assert_eq!(
        model["modelCard"],
        json!({"modelParameters": {"architectureFamily": "llama"}})
    );
    assert_eq!(
        property(model, "clearbox:model:quantization"),
        Some("MOSTLY_Q4_K_M")
    );
    assert_eq!(
        property(model, "clearbox:model:context-length"),
        Some("2048")
    );
    assert_eq!(property(model, "clearbox:model:opset:ai.onnx"), Some("17"));
    assert_eq!(
        property(model, "clearbox:model:pickle:verdict"),
        Some("unsafe")
    );
    assert_eq!(
        property(model, "clearbox:model:pickle:unsafe-import:0"),
        Some("os.system")
    );
    assert_eq!(
        property(model, "clearbox:model:tokenizer:vocab-size"),
        Some("32000")
    );
    assert_eq!(
        property(model, "clearbox:model:warning:0"),
        Some("unsafe pickle: it imports `os.system`")
    );
}
