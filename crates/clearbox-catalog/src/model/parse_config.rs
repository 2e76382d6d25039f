//! Parser for a Hugging Face `config.json`: the model's architecture and sizes.
//! A `config.json` that is not a model config (no `architectures` and no `model_type`) is
//! ignored, since many unrelated tools write files of that name.

use crate::package::ModelConfig;

/// Returns the config's facts, `Ok(None)` for a JSON file that is not a model config.
pub(crate) fn parse_config(text: &[u8], path: &str) -> Result<Option<ModelConfig>, String> {
    let value: serde_json::Value =
        serde_json::from_slice(text).map_err(|e| format!("config.json is not valid JSON: {e}"))?;
    let Some(map) = value.as_object() else {
        return Ok(None);
    };
    let architectures: Vec<String> = map
        .get("architectures")
        .and_then(|a| a.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let text_field = |key: &str| map.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let number = |key: &str| map.get(key).and_then(serde_json::Value::as_u64);
    let model_type = text_field("model_type");
    if architectures.is_empty() && model_type.is_none() {
        return Ok(None);
    }
    Ok(Some(ModelConfig {
        path: path.to_owned(),
        architectures,
        model_type,
        hidden_size: number("hidden_size"),
        num_hidden_layers: number("num_hidden_layers"),
        num_attention_heads: number("num_attention_heads"),
        vocab_size: number("vocab_size"),
        max_position_embeddings: number("max_position_embeddings"),
        name_or_path: text_field("_name_or_path"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bert_config() {
        let text =
            br#"{"_name_or_path":"nreimers/MiniLM-L6-H384-uncased","architectures":["BertModel"],
            "hidden_size":384,"model_type":"bert","num_hidden_layers":6,"vocab_size":30522}"#;
        let c = parse_config(text, "/m/config.json").unwrap().unwrap();
        assert_eq!(c.architectures, ["BertModel"]);
        assert_eq!(c.model_type.as_deref(), Some("bert"));
        assert_eq!(c.hidden_size, Some(384));
        assert_eq!(c.num_hidden_layers, Some(6));
    }

    #[test]
    fn unrelated_config_is_ignored() {
        assert_eq!(
            parse_config(br#"{"compilerOptions":{}}"#, "/x").unwrap(),
            None
        );
        assert!(parse_config(b"{", "/x").is_err());
    }
}
