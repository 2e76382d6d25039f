//! Parser for the YAML front matter of a Hugging Face model card (`README.md` starting with a
//! `---` line). Specification of the keys: <https://huggingface.co/docs/hub/model-cards>.

use std::io::{self, Read};

use serde::Serialize;

use crate::package::ModelCardFacts;

/// Model card keys clearbox reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CardFrontMatter {
    /// `pipeline_tag`.
    pub pipeline_tag: Option<String>,
    /// `license`.
    pub license: Option<String>,
    /// `datasets`.
    pub datasets: Vec<String>,
    /// `language`.
    pub languages: Vec<String>,
    /// `library_name`.
    pub library_name: Option<String>,
    /// `base_model`.
    pub base_models: Vec<String>,
}

impl CardFrontMatter {
    pub(crate) fn into_facts(self, path: String) -> ModelCardFacts {
        ModelCardFacts {
            path,
            pipeline_tag: self.pipeline_tag,
            license: self.license,
            datasets: self.datasets,
            languages: self.languages,
            library_name: self.library_name,
            base_models: self.base_models,
        }
    }

    fn is_empty(&self) -> bool {
        *self == CardFrontMatter::default()
    }
}

/// Reads a README and returns its front matter. A README without front matter, or whose
/// front matter names none of the model card keys, is `Err` with the reason, so that only
/// READMEs beside model weights are reported.
pub(crate) fn read_front_matter(
    content: &mut dyn Read,
) -> io::Result<Result<CardFrontMatter, String>> {
    let mut text = String::new();
    let mut bytes = Vec::new();
    content.read_to_end(&mut bytes)?;
    text.push_str(&String::from_utf8_lossy(&bytes));
    Ok(parse_front_matter(&text))
}

pub(crate) fn parse_front_matter(text: &str) -> Result<CardFrontMatter, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return Err("model card has no YAML front matter".into());
    };
    let end = rest
        .find("\n---")
        .ok_or("model card front matter has no closing `---` line")?;
    let yaml = &rest[..end];
    let value: serde_json::Value = serde_saphyr::from_str(yaml)
        .map_err(|e| format!("model card front matter is not valid YAML: {e}"))?;
    let text_field = |key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let list = |key: &str| -> Vec<String> {
        match value.get(key) {
            Some(serde_json::Value::String(s)) => vec![s.clone()],
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    let front = CardFrontMatter {
        pipeline_tag: text_field("pipeline_tag"),
        license: text_field("license"),
        datasets: list("datasets"),
        languages: list("language"),
        library_name: text_field("library_name"),
        base_models: list("base_model"),
    };
    if front.is_empty() {
        return Err("model card front matter names no model card keys".into());
    }
    Ok(front)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minilm_card() {
        let text = "---\nlanguage: en\nlicense: apache-2.0\nlibrary_name: sentence-transformers\n\
            datasets:\n- s2orc\n- ms_marco\npipeline_tag: sentence-similarity\n---\n\n# all-MiniLM-L6-v2\n";
        let f = parse_front_matter(text).unwrap();
        assert_eq!(f.pipeline_tag.as_deref(), Some("sentence-similarity"));
        assert_eq!(f.license.as_deref(), Some("apache-2.0"));
        assert_eq!(f.datasets, ["s2orc", "ms_marco"]);
        assert_eq!(f.languages, ["en"]);
    }

    #[test]
    fn readme_without_front_matter() {
        assert!(parse_front_matter("# Title\n").is_err());
        assert!(parse_front_matter("---\ntitle: x\n---\n").is_err());
        assert!(
            parse_front_matter("---\nlicense: [\n---\n")
                .unwrap_err()
                .contains("YAML")
        );
    }
}
