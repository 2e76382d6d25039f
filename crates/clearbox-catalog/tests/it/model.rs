//! The model cataloger on real safetensors files from the corpus.

use clearbox_catalog::PackageKind;

use crate::support::{catalog_dir, corpus, place, write};

#[test]
fn complete_safetensors_with_config_and_card() {
    let Some(corpus) = corpus() else { return };
    let root = tempfile::tempdir().unwrap();
    let weights = corpus.join("models/candle/voices.safetensors");
    place(root.path(), "opt/voices/model.safetensors", &weights);
    write(
        root.path(),
        "opt/voices/config.json",
        r#"{"architectures":["VoiceModel"],"model_type":"voice","hidden_size":64}"#,
    );
    write(
        root.path(),
        "opt/voices/README.md",
        "---\nlicense: mit\npipeline_tag: text-to-speech\ndatasets:\n- librispeech\n---\n# Voices\n",
    );
    let catalog = catalog_dir(root.path());
    let model = catalog
        .packages
        .iter()
        .find(|p| p.kind == PackageKind::Model)
        .unwrap();
    assert_eq!(model.name, "voices");
    let facts = model.model.as_ref().unwrap();
    assert_eq!(facts.format, "safetensors");
    assert_eq!(facts.file_size, std::fs::metadata(&weights).unwrap().len());
    assert!(facts.tensor_count.unwrap() > 0);
    assert!(facts.problems.is_empty(), "{:?}", facts.problems);
    assert_eq!(facts.config.as_ref().unwrap().architectures, ["VoiceModel"]);
    let card = facts.card.as_ref().unwrap();
    assert_eq!(card.pipeline_tag.as_deref(), Some("text-to-speech"));
    assert_eq!(card.datasets, ["librispeech"]);
    assert_eq!(model.licenses, ["mit"]);
    // The digest is of the whole file.
    let expected = sha256_file(&weights);
    assert_eq!(model.hashes[0].value, expected);
}

#[test]
fn header_only_safetensors_is_a_partial_result() {
    let Some(corpus) = corpus() else { return };
    let root = tempfile::tempdir().unwrap();
    place(
        root.path(),
        "models/nomic/model.safetensors",
        &corpus.join("models/syft/safetensors/nomic-embed-475M.header.safetensors"),
    );
    let catalog = catalog_dir(root.path());
    let model = catalog
        .packages
        .iter()
        .find(|p| p.kind == PackageKind::Model)
        .unwrap();
    let facts = model.model.as_ref().unwrap();
    assert_eq!(facts.tensor_count, Some(148));
    assert_eq!(facts.dtypes.get("F32"), Some(&148));
    assert!(
        facts.problems.iter().any(|p| p.contains("truncated")),
        "{:?}",
        facts.problems
    );
    assert!(
        catalog
            .unknowns
            .iter()
            .any(|u| u.reason.starts_with("partial result:"))
    );
}

#[test]
fn garbage_named_safetensors_is_an_unknown_not_a_crash() {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        "m/bad.safetensors",
        "not a model at all, just text",
    );
    let catalog = catalog_dir(root.path());
    let model = catalog
        .packages
        .iter()
        .find(|p| p.kind == PackageKind::Model)
        .unwrap();
    let facts = model.model.as_ref().unwrap();
    assert_eq!(facts.tensor_count, None);
    let problems = &facts.problems;
    assert_eq!(problems.len(), 1);
    assert!(problems[0].starts_with("header length"), "{problems:?}");
}

fn sha256_file(path: &std::path::Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}
