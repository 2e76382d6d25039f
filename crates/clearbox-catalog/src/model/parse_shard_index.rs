//! Parser for the index of sharded Hugging Face weights (`model.safetensors.index.json`,
//! `pytorch_model.bin.index.json`): `weight_map` names the shard file holding each tensor and
//! `metadata.total_size` states the bytes of tensor data. Format reference: `transformers`'
//! `save_pretrained` with `max_shard_size`
//! (<https://huggingface.co/docs/transformers/main/en/big_models>).

use std::collections::BTreeMap;

/// Shard files listed per index, at most; a larger index is a problem.
const MAX_SHARDS: usize = 100_000;

/// What an index states.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ShardIndex {
    /// Shard file name → number of tensors the index places in it.
    pub(crate) files: BTreeMap<String, u64>,
    /// `metadata.total_size`.
    pub(crate) total_size: Option<u64>,
}

impl ShardIndex {
    /// Tensors named by the index.
    pub(crate) fn tensor_count(&self) -> u64 {
        self.files.values().sum()
    }
}

/// Parses an index file.
pub(crate) fn parse_shard_index(text: &[u8]) -> Result<ShardIndex, String> {
    let value: serde_json::Value =
        serde_json::from_slice(text).map_err(|e| format!("shard index is not valid JSON: {e}"))?;
    let Some(map) = value
        .get("weight_map")
        .and_then(serde_json::Value::as_object)
    else {
        return Err("shard index has no `weight_map` object".into());
    };
    let mut index = ShardIndex {
        total_size: value
            .get("metadata")
            .and_then(|m| m.get("total_size"))
            .and_then(serde_json::Value::as_u64),
        ..ShardIndex::default()
    };
    for (tensor, file) in map {
        let Some(file) = file.as_str() else {
            return Err(format!(
                "shard index maps tensor `{}` to something other than a file name",
                crate::text::printable(tensor, 120)
            ));
        };
        if !index.files.contains_key(file) && index.files.len() == MAX_SHARDS {
            return Err(format!("shard index names more than {MAX_SHARDS} files"));
        }
        *index.files.entry(file.to_owned()).or_default() += 1;
    }
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_map_by_file() {
        let index = parse_shard_index(
            br#"{"metadata":{"total_size":1000},"weight_map":{
                "a.weight":"model-00001-of-00002.safetensors",
                "b.weight":"model-00002-of-00002.safetensors",
                "c.weight":"model-00002-of-00002.safetensors"}}"#,
        )
        .unwrap();
        assert_eq!(index.total_size, Some(1000));
        assert_eq!(index.files["model-00002-of-00002.safetensors"], 2);
        assert_eq!(index.tensor_count(), 3);
    }

    #[test]
    fn malformed_indexes() {
        assert!(parse_shard_index(b"{").is_err());
        assert!(parse_shard_index(br#"{"metadata":{}}"#).is_err());
        assert!(parse_shard_index(br#"{"weight_map":{"a":1}}"#).is_err());
    }
}
