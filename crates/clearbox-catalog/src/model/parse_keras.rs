//! Parser for Keras 3 `.keras` archives: a zip with `config.json` (the model's serialized
//! configuration), `metadata.json` (`keras_version`, `date_saved`) and the weights in
//! `model.weights.h5`. Format reference: `keras/src/saving/saving_lib.py` in Keras.
//!
//! From the configuration: the model class, its name, the number of layers, and `Lambda`
//! layers, whose serialized Python bytecode runs when the model is loaded with
//! `safe_mode=False`. Of the weights file only the HDF5 superblock is read (see
//! [`parse_hdf5`](super::parse_hdf5)).

use std::io::BufReader;

use serde_json::Value;

use crate::model::parse_hdf5::read_superblock;
use crate::model::push_problem;
use crate::model::stream::{Source, shown};
use crate::model::zip_window::{Archive, Member};
use crate::package::ModelFacts;

/// Largest `config.json` or `metadata.json` read.
const MAX_JSON: u64 = 16 << 20;
/// Deepest nesting of the configuration searched for layers.
const MAX_DEPTH: usize = 64;

/// Whether a zip archive's members are those of a `.keras` file.
pub(crate) fn is_keras(members: &[Member]) -> bool {
    members.iter().any(|m| m.name == "config.json")
        && members.iter().any(|m| m.name == "metadata.json")
}

/// Parses a `.keras` archive whose members are `members`.
pub(crate) fn parse_keras(archive: &mut Archive, members: &[Member], facts: &mut ModelFacts) {
    "keras".clone_into(&mut facts.format);

    // 1. metadata.json.
    match read_json(archive, "metadata.json") {
        Ok(metadata) => {
            if let Some(version) = metadata.get("keras_version").and_then(Value::as_str) {
                facts.producer = Some(format!("Keras {version}"));
            }
            if let Some(date) = metadata.get("date_saved").and_then(Value::as_str) {
                facts
                    .metadata
                    .insert("keras.date_saved".to_owned(), date.to_owned());
            }
        }
        Err(problem) => push_problem(facts, problem),
    }

    // 2. config.json.
    match read_json(archive, "config.json") {
        Ok(config) => read_config(&config, facts),
        Err(problem) => push_problem(facts, problem),
    }

    // 3. The weights' superblock.
    let weights: Vec<&Member> = members
        .iter()
        .filter(|m| m.name.starts_with("model.weights."))
        .collect();
    for member in weights {
        facts.metadata.insert(
            format!("keras.{}", member.name),
            format!("{} bytes", member.size),
        );
        if !member.name.to_ascii_lowercase().ends_with(".h5") {
            continue;
        }
        let superblock = archive.with_member(&member.name, |content| {
            read_superblock(&mut Source::new(BufReader::new(content)))
        });
        match superblock {
            Ok(Ok(sb)) => {
                facts.format_version = Some(format!("weights in HDF5, superblock v{}", sb.version));
                if let Some(problem) = sb.truncation(member.size) {
                    push_problem(facts, format!("`{}`: {problem}", member.name));
                }
            }
            Ok(Err(_)) => push_problem(facts, format!("`{}` is not an HDF5 file", member.name)),
            Err(problem) => push_problem(facts, problem),
        }
    }
}

fn read_json(archive: &mut Archive, name: &str) -> Result<Value, String> {
    let bytes = archive.read(name, MAX_JSON)?;
    serde_json::from_slice(&bytes).map_err(|e| format!("`{name}` is not valid JSON: {e}"))
}

fn read_config(config: &Value, facts: &mut ModelFacts) {
    facts.architecture = config
        .get("class_name")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let inner = config.get("config");
    if let Some(name) = inner.and_then(|c| c.get("name")).and_then(Value::as_str) {
        facts
            .metadata
            .insert("keras.name".to_owned(), name.to_owned());
    }
    if let Some(layers) = inner
        .and_then(|c| c.get("layers"))
        .and_then(Value::as_array)
    {
        facts
            .metadata
            .insert("keras.layers".to_owned(), layers.len().to_string());
    }
    let mut lambdas = Vec::new();
    find_lambdas(config, 0, &mut lambdas);
    if !lambdas.is_empty() {
        facts.warnings.push(format!(
            "Keras config has {} Lambda layer(s) ({}), whose Python bytecode runs when the model is loaded with safe_mode=False",
            lambdas.len(),
            lambdas.join(", ")
        ));
    }
}

/// Collects the names of `Lambda` layers anywhere in the configuration.
fn find_lambdas(value: &Value, depth: usize, out: &mut Vec<String>) {
    if depth > MAX_DEPTH {
        return;
    }
    match value {
        Value::Object(map) => {
            if map.get("class_name").and_then(Value::as_str) == Some("Lambda") {
                let name = map
                    .get("config")
                    .and_then(|c| c.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or("unnamed");
                if out.len() < 16 {
                    out.push(format!("`{}`", shown(name)));
                }
            }
            for child in map.values() {
                find_lambdas(child, depth + 1, out);
            }
        }
        Value::Array(items) => {
            for child in items {
                find_lambdas(child, depth + 1, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_facts_and_lambda_layers() {
        let config: Value = serde_json::from_str(
            r#"{"class_name":"Sequential","config":{"name":"seq","layers":[
                {"class_name":"Dense","config":{"name":"d"}},
                {"class_name":"Lambda","config":{"name":"shell","function":{"class_name":"__lambda__"}}}]}}"#,
        )
        .unwrap();
        let mut facts = ModelFacts::default();
        read_config(&config, &mut facts);
        assert_eq!(facts.architecture.as_deref(), Some("Sequential"));
        assert_eq!(facts.metadata["keras.name"], "seq");
        assert_eq!(facts.metadata["keras.layers"], "2");
        assert_eq!(facts.warnings.len(), 1);
        assert!(
            facts.warnings[0].contains("`shell`"),
            "{:?}",
            facts.warnings
        );
    }
}
