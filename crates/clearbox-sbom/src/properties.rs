//! The `clearbox:` name–value properties both encoders attach to packages: the facts that have no
//! field of their own in SPDX 2.3 or CycloneDX 1.6.
//!
//! CycloneDX writes them as component `properties`; SPDX writes each as a package annotation
//! whose comment is `name=value`. The readers parse them back, so a document clearbox wrote
//! keeps its locations and cataloger ids. List items carry a zero-based index in the name
//! (`clearbox:location:0:path`) so that values may contain any character.
//!
//! | name | value |
//! | --- | --- |
//! | `clearbox:package-type` | package kind, as `PackageKind::name` spells it: `deb`, `rpm`, `python`, `npm`, `java`, `rust-crate`, `conda`, `go-module`, `go-stdlib`, `model`, `file`, … |
//! | `clearbox:found-by` | cataloger id |
//! | `clearbox:location:N:path`, `clearbox:location:N:layer` | file and layer `diff_id` |
//! | `clearbox:source-package:name`, `…:version` | Debian source package |
//! | `clearbox:model:format`, `…:file-size`, `…:tensor-count`, `…:parameter-count` | file |
//! | `clearbox:model:dtype:<TYPE>` | tensors of that data type |
//! | `clearbox:model:metadata:<KEY>` | free-form metadata the file states (safetensors `__metadata__`, GGUF key-value pairs, ONNX `metadata_props`) |
//! | `clearbox:model:name`, `…:format-version`, `…:architecture`, `…:quantization`, `…:context-length`, `…:producer`, `…:node-count` | facts the weight file states |
//! | `clearbox:model:opset:<DOMAIN>` | ONNX operator set version |
//! | `clearbox:model:input:N`, `clearbox:model:output:N`, `clearbox:model:tensor:N` | graph inputs and outputs, named arrays (`name: type[shape]`) |
//! | `clearbox:model:pickle:verdict`, `…:pickle:protocol`, `…:pickle:import:N`, `…:pickle:unsafe-import:N`, `…:pickle:incomplete` | what loading a pickle would import: `safe`, `unsafe` or `unverified` |
//! | `clearbox:model:tokenizer:…` | tokenizer path, type, vocabulary size, added tokens |
//! | `clearbox:model:file:N:path`, `…:size`, `…:sha256` | each file of a model stored in several (shards) |
//! | `clearbox:model:config:…`, `clearbox:model:card:…` | `config.json` and model card facts |
//! | `clearbox:model:warning:N` | a risk the weights carry, such as an unsafe pickle |
//! | `clearbox:model:problem:N` | a problem found in the weights |
//! | `clearbox:<KEY>` | every entry of the package's own `properties` map |

use clearbox_catalog::{
    Distro, ModelCardFacts, ModelConfig, ModelFacts, Package, PickleScan, TokenizerFacts,
};

/// Prefix of every property name clearbox writes.
pub(crate) const PREFIX: &str = "clearbox:";
/// Package kind, as [`PackageKind::name`](clearbox_catalog::PackageKind::name) spells it. SPDX
/// has no other field that distinguishes a model from a file.
pub(crate) const PACKAGE_TYPE: &str = "clearbox:package-type";
/// Cataloger that found the package.
pub(crate) const FOUND_BY: &str = "clearbox:found-by";
/// Prefix of `clearbox:location:N:path` and `clearbox:location:N:layer`.
pub(crate) const LOCATION: &str = "clearbox:location:";
/// Source package name.
pub(crate) const SOURCE_NAME: &str = "clearbox:source-package:name";
/// Source package version.
pub(crate) const SOURCE_VERSION: &str = "clearbox:source-package:version";
/// Distribution code name, such as `bookworm`.
pub(crate) const DISTRO_CODENAME: &str = "clearbox:distro:codename";
/// Distribution `PRETTY_NAME`.
pub(crate) const DISTRO_PRETTY_NAME: &str = "clearbox:distro:pretty-name";
/// Prefix of every model fact.
pub(crate) const MODEL: &str = "clearbox:model:";

/// A property list under construction.
#[derive(Debug, Default)]
pub(crate) struct Properties(Vec<(String, String)>);

impl Properties {
    fn push(&mut self, name: impl Into<String>, value: impl std::fmt::Display) {
        self.0.push((name.into(), value.to_string()));
    }

    fn push_opt(&mut self, name: &str, value: Option<&impl std::fmt::Display>) {
        if let Some(value) = value {
            self.push(name, value);
        }
    }

    fn push_list(&mut self, name: &str, values: &[String]) {
        for (i, value) in values.iter().enumerate() {
            self.push(format!("{name}:{i}"), value);
        }
    }

    /// Returns the properties in the order they were added.
    pub(crate) fn into_vec(self) -> Vec<(String, String)> {
        self.0
    }
}

/// Lists the properties of one package: kind, cataloger, locations, source package, model facts,
/// then the package's own properties in key order.
pub(crate) fn package_properties(package: &Package) -> Vec<(String, String)> {
    let mut out = Properties::default();
    out.push(PACKAGE_TYPE, package.kind.name());
    out.push(FOUND_BY, package.found_by);
    for (i, location) in package.locations.iter().enumerate() {
        out.push(format!("{LOCATION}{i}:path"), &location.path);
        out.push_opt(&format!("{LOCATION}{i}:layer"), location.layer.as_ref());
    }
    if let Some(source) = &package.source {
        out.push(SOURCE_NAME, &source.name);
        out.push(SOURCE_VERSION, &source.version);
    }
    if let Some(model) = &package.model {
        push_model(&mut out, model);
    }
    for (key, value) in &package.properties {
        out.push(format!("{PREFIX}{key}"), value);
    }
    out.into_vec()
}

/// Returns whether `name` is one of the model facts [`package_properties`] writes, as opposed to a
/// package property whose own key starts with `model:`, such as `model:owned-by`.
pub(crate) fn is_model_fact(name: &str) -> bool {
    let Some(fact) = name.strip_prefix(MODEL) else {
        return false;
    };
    matches!(
        fact,
        "format"
            | "file-size"
            | "tensor-count"
            | "parameter-count"
            | "name"
            | "format-version"
            | "architecture"
            | "quantization"
            | "context-length"
            | "producer"
            | "node-count"
    ) || [
        "dtype:",
        "metadata:",
        "config:",
        "card:",
        "problem:",
        "warning:",
        "opset:",
        "input:",
        "output:",
        "tensor:",
        "pickle:",
        "tokenizer:",
        "file:",
    ]
    .iter()
    .any(|prefix| fact.starts_with(prefix))
}

fn push_model(out: &mut Properties, model: &ModelFacts) {
    out.push(format!("{MODEL}format"), &model.format);
    out.push(format!("{MODEL}file-size"), model.file_size);
    if let Some(tensors) = model.tensor_count {
        out.push(format!("{MODEL}tensor-count"), tensors);
    }
    if let Some(parameters) = model.parameter_count {
        out.push(format!("{MODEL}parameter-count"), parameters);
    }
    for (dtype, count) in &model.dtypes {
        out.push(format!("{MODEL}dtype:{dtype}"), count);
    }
    for (key, value) in &model.metadata {
        out.push(format!("{MODEL}metadata:{key}"), value);
    }
    push_file_facts(out, model);
    if let Some(pickle) = &model.pickle {
        push_pickle(out, pickle);
    }
    if let Some(tokenizer) = &model.tokenizer {
        push_tokenizer(out, tokenizer);
    }
    // A model in one file has its path in the locations and its digest in the hashes.
    if model.files.len() > 1 {
        for (i, file) in model.files.iter().enumerate() {
            out.push(format!("{MODEL}file:{i}:path"), &file.path);
            out.push(format!("{MODEL}file:{i}:size"), file.size);
            out.push(format!("{MODEL}file:{i}:sha256"), &file.sha256);
        }
    }
    if let Some(config) = &model.config {
        push_config(out, config);
    }
    if let Some(card) = &model.card {
        push_card(out, card);
    }
    out.push_list(&format!("{MODEL}warning"), &model.warnings);
    out.push_list(&format!("{MODEL}problem"), &model.problems);
}

fn push_file_facts(out: &mut Properties, model: &ModelFacts) {
    let name = |field: &str| format!("{MODEL}{field}");
    out.push_opt(&name("name"), model.name.as_ref());
    out.push_opt(&name("format-version"), model.format_version.as_ref());
    out.push_opt(&name("architecture"), model.architecture.as_ref());
    out.push_opt(&name("quantization"), model.quantization.as_ref());
    out.push_opt(&name("context-length"), model.context_length.as_ref());
    out.push_opt(&name("producer"), model.producer.as_ref());
    for (domain, version) in &model.opsets {
        out.push(format!("{MODEL}opset:{domain}"), version);
    }
    out.push_opt(&name("node-count"), model.node_count.as_ref());
    out.push_list(&name("input"), &model.inputs);
    out.push_list(&name("output"), &model.outputs);
    out.push_list(&name("tensor"), &model.tensors);
}

fn push_pickle(out: &mut Properties, pickle: &PickleScan) {
    let name = |field: &str| format!("{MODEL}pickle:{field}");
    out.push(name("verdict"), pickle.verdict.name());
    out.push_opt(&name("protocol"), pickle.protocol.as_ref());
    out.push_list(&name("import"), &pickle.imports);
    out.push_list(&name("unsafe-import"), &pickle.unsafe_imports);
    out.push_opt(&name("incomplete"), pickle.incomplete.as_ref());
}

fn push_tokenizer(out: &mut Properties, tokenizer: &TokenizerFacts) {
    let name = |field: &str| format!("{MODEL}tokenizer:{field}");
    out.push(name("path"), &tokenizer.path);
    out.push_opt(&name("type"), tokenizer.model_type.as_ref());
    out.push_opt(&name("vocab-size"), tokenizer.vocab_size.as_ref());
    out.push_opt(&name("added-tokens"), tokenizer.added_tokens.as_ref());
}

fn push_config(out: &mut Properties, config: &ModelConfig) {
    let name = |field: &str| format!("{MODEL}config:{field}");
    out.push(name("path"), &config.path);
    out.push_list(&name("architecture"), &config.architectures);
    out.push_opt(&name("model-type"), config.model_type.as_ref());
    out.push_opt(&name("hidden-size"), config.hidden_size.as_ref());
    out.push_opt(
        &name("num-hidden-layers"),
        config.num_hidden_layers.as_ref(),
    );
    out.push_opt(
        &name("num-attention-heads"),
        config.num_attention_heads.as_ref(),
    );
    out.push_opt(&name("vocab-size"), config.vocab_size.as_ref());
    out.push_opt(
        &name("max-position-embeddings"),
        config.max_position_embeddings.as_ref(),
    );
    out.push_opt(&name("name-or-path"), config.name_or_path.as_ref());
}

fn push_card(out: &mut Properties, card: &ModelCardFacts) {
    let name = |field: &str| format!("{MODEL}card:{field}");
    out.push(name("path"), &card.path);
    out.push_opt(&name("pipeline-tag"), card.pipeline_tag.as_ref());
    out.push_opt(&name("license"), card.license.as_ref());
    out.push_list(&name("dataset"), &card.datasets);
    out.push_list(&name("language"), &card.languages);
    out.push_opt(&name("library-name"), card.library_name.as_ref());
    out.push_list(&name("base-model"), &card.base_models);
}

/// Lists the facts about the operating system that the SBOM fields do not hold.
pub(crate) fn distro_properties(distro: &Distro) -> Vec<(String, String)> {
    let mut out = Properties::default();
    out.push_opt(DISTRO_CODENAME, distro.codename.as_ref());
    out.push_opt(DISTRO_PRETTY_NAME, distro.pretty_name.as_ref());
    out.into_vec()
}

/// Lists the facts about the image that the SBOM fields do not hold.
pub(crate) fn image_properties(subject: &crate::Subject) -> Vec<(String, String)> {
    let mut out = Properties::default();
    out.push("clearbox:image:reference", &subject.reference);
    out.push_opt(
        "clearbox:image:manifest-digest",
        subject.manifest_digest.as_ref(),
    );
    out.push_opt(
        "clearbox:image:config-digest",
        subject.config_digest.as_ref(),
    );
    out.into_vec()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use clearbox_catalog::{Location, PackageKind, Purl};

    use super::*;

    fn package() -> Package {
        Package {
            name: "x".into(),
            version: "1".into(),
            kind: PackageKind::Python,
            purl: Purl::new("pypi", None, "x", Some("1")),
            licenses: vec![],
            supplier: None,
            description: None,
            homepage: None,
            source: None,
            arch: None,
            found_by: "python-installed-package-cataloger",
            locations: vec![
                Location {
                    path: "/a".into(),
                    layer: Some("sha256:aa".into()),
                },
                Location {
                    path: "/b".into(),
                    layer: None,
                },
            ],
            hashes: vec![],
            model: None,
            properties: BTreeMap::from([("z".into(), "1".into()), ("a".into(), "2".into())]),
        }
    }

    #[test]
    fn package_properties_order() {
        let names: Vec<String> = package_properties(&package())
            .into_iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        assert_eq!(
            names,
            [
                "clearbox:package-type=python",
                "clearbox:found-by=python-installed-package-cataloger",
                "clearbox:location:0:path=/a",
                "clearbox:location:0:layer=sha256:aa",
                "clearbox:location:1:path=/b",
                "clearbox:a=2",
                "clearbox:z=1",
            ]
        );
    }

    #[test]
    fn model_facts_told_from_package_properties() {
        assert!(is_model_fact("clearbox:model:tensor-count"));
        assert!(is_model_fact("clearbox:model:dtype:F32"));
        assert!(is_model_fact("clearbox:model:pickle:verdict"));
        assert!(is_model_fact("clearbox:model:opset:ai.onnx"));
        assert!(!is_model_fact("clearbox:model:owned-by"));
        assert!(!is_model_fact("clearbox:found-by"));
    }
}
