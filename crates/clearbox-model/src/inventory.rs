//! The model weight files of a scanned image, with the digest and size measured while their
//! layer streamed, and the facts their format's parser read.
//!
//! A weight file is one the model cataloger hashed: safetensors, GGUF, ONNX, PyTorch, pickle,
//! Keras, HDF5, ggml and `.npz` files, and `.bin` files whose first bytes show one of these
//! formats (see `clearbox_catalog`'s model module). Only files still visible in the merged
//! filesystem count.

use clearbox_catalog::Fact;
use clearbox_oci::Scan;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// One weight file of an image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFileRecord {
    /// Absolute path inside the image.
    pub path: String,
    /// `diff_id` of the layer that contains the file; `None` for a root filesystem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// SHA-256 of the whole file, lowercase hexadecimal.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// The format, such as `safetensors` or `gguf`.
    pub format: String,
    /// What the format's parser read: tensor count, parameters, data types, metadata,
    /// problems.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub facts: Value,
}

/// Every weight file of the scanned image, in path order.
#[must_use]
pub fn model_files(scan: &Scan<Fact>) -> Vec<ModelFileRecord> {
    scan.facts()
        .filter_map(|(path, node, fact)| {
            let (size, sha256, format, facts) = match fact {
                Fact::Safetensors(weights) => {
                    let facts = match &weights.header {
                        Ok(header) => json!({
                            "tensor_count": header.tensor_count,
                            "parameter_count": header.parameter_count,
                            "dtypes": header.dtypes,
                            "metadata": header.metadata,
                            "problems": header.problems,
                        }),
                        Err(reason) => json!({"problems": [reason]}),
                    };
                    (
                        weights.size,
                        weights.sha256.clone(),
                        "safetensors".to_owned(),
                        facts,
                    )
                }
                Fact::Weights(weights) => (
                    weights.size,
                    weights.sha256.clone(),
                    weights.facts.format.clone(),
                    format_facts(&weights.facts),
                ),
                _ => return None,
            };
            Some(ModelFileRecord {
                path: format!("/{path}"),
                layer: scan.layer_digest(node.layer).map(ToString::to_string),
                sha256,
                size,
                format,
                facts: without_empty(facts),
            })
        })
        .collect()
}

/// The parser's facts without the fields the record states already.
fn format_facts(facts: &clearbox_catalog::ModelFacts) -> Value {
    let mut value = serde_json::to_value(facts).unwrap_or(Value::Null);
    if let Some(object) = value.as_object_mut() {
        object.remove("format");
        object.remove("file_size");
    }
    value
}

/// Drops null values, empty lists and empty objects at the top level, since they carry no information.
fn without_empty(value: Value) -> Value {
    let Value::Object(object) = value else {
        return value;
    };
    let kept: Map<String, Value> = object
        .into_iter()
        .filter(|(_, v)| match v {
            Value::Null => false,
            Value::Array(a) => !a.is_empty(),
            Value::Object(o) => !o.is_empty(),
            _ => true,
        })
        .collect();
    Value::Object(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_facts_are_dropped() {
        let facts = without_empty(json!({
            "tensor_count": 3, "dtypes": {}, "problems": [], "name": null, "metadata": {"a": "b"}
        }));
        assert_eq!(facts, json!({"tensor_count": 3, "metadata": {"a": "b"}}));
    }
}
