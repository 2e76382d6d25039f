//! Parser for a Hugging Face `tokenizer.json`: the tokenizer model's `type` (`BPE`,
//! `WordPiece`, `Unigram`, `WordLevel`), the number of vocabulary entries and of
//! `added_tokens`. Format reference: the `tokenizers` library's serialization of `Tokenizer`
//! (<https://huggingface.co/docs/tokenizers/api/tokenizer>).
//!
//! The file is read as a stream of JSON tokens: vocabulary entries are counted and dropped, so
//! memory does not grow with the vocabulary (tokenizers of large models reach tens of
//! megabytes).

use std::fmt;
use std::io::{self, BufReader, Read};

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::package::TokenizerFacts;

/// Largest `tokenizer.json` read.
pub(crate) const MAX_TOKENIZER: u64 = 256 << 20;

/// Reads a `tokenizer.json` and returns its facts with an empty `path`, or why it could not be
/// read. Read errors of the layer are returned as errors.
pub(crate) fn read_tokenizer(
    size: u64,
    content: &mut dyn Read,
) -> io::Result<Result<TokenizerFacts, String>> {
    if size > MAX_TOKENIZER {
        return Ok(Err(format!(
            "tokenizer.json is {size} bytes, larger than the {MAX_TOKENIZER}-byte limit"
        )));
    }
    let reader = BufReader::with_capacity(64 << 10, content.take(MAX_TOKENIZER));
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    match deserializer.deserialize_map(TokenizerVisitor) {
        Ok(facts) => Ok(Ok(facts)),
        Err(e) if e.is_io() => Err(io::Error::other(e)),
        Err(e) => Ok(Err(format!("tokenizer.json is not a tokenizer: {e}"))),
    }
}

struct TokenizerVisitor;

impl<'de> Visitor<'de> for TokenizerVisitor {
    type Value = TokenizerFacts;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a tokenizer object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TokenizerFacts, A::Error> {
        let mut facts = TokenizerFacts::default();
        let mut seen_model = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "model" => {
                    let model = map.next_value_seed(ModelSeed)?;
                    facts.model_type = model.0;
                    facts.vocab_size = model.1;
                    seen_model = true;
                }
                "added_tokens" => facts.added_tokens = Some(map.next_value_seed(Count)?),
                _ => drop(map.next_value::<IgnoredAny>()?),
            }
        }
        if !seen_model {
            return Err(serde::de::Error::custom("no `model` key"));
        }
        Ok(facts)
    }
}

/// Reads the `model` object as its `type` and vocabulary size.
struct ModelSeed;

impl<'de> serde::de::DeserializeSeed<'de> for ModelSeed {
    type Value = (Option<String>, Option<u64>);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ModelSeed {
    type Value = (Option<String>, Option<u64>);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a tokenizer model object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kind = None;
        let mut vocab = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "type" => kind = map.next_value::<Option<String>>()?,
                "vocab" => vocab = Some(map.next_value_seed(Count)?),
                _ => drop(map.next_value::<IgnoredAny>()?),
            }
        }
        Ok((kind, vocab))
    }
}

/// Counts the entries of an object or array without keeping them.
struct Count;

impl<'de> serde::de::DeserializeSeed<'de> for Count {
    type Value = u64;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<u64, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Count {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object or array")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<u64, A::Error> {
        let mut count = 0;
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {
            count += 1;
        }
        Ok(count)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<u64, A::Error> {
        let mut count = 0;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            count += 1;
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<TokenizerFacts, String> {
        read_tokenizer(text.len() as u64, &mut text.as_bytes()).unwrap()
    }

    #[test]
    fn wordpiece_and_unigram() {
        let wordpiece = read(
            r#"{"version":"1.0","added_tokens":[{"id":0,"content":"[PAD]"},{"id":100,"content":"[UNK]"}],
               "model":{"type":"WordPiece","unk_token":"[UNK]","vocab":{"[PAD]":0,"a":1,"b":2}}}"#,
        )
        .unwrap();
        assert_eq!(wordpiece.model_type.as_deref(), Some("WordPiece"));
        assert_eq!(wordpiece.vocab_size, Some(3));
        assert_eq!(wordpiece.added_tokens, Some(2));
        let unigram =
            read(r#"{"model":{"type":"Unigram","vocab":[["a",-1.0],["b",-2.0]]}}"#).unwrap();
        assert_eq!(unigram.vocab_size, Some(2));
        assert_eq!(unigram.added_tokens, None);
    }

    #[test]
    fn not_a_tokenizer() {
        assert!(
            read(r#"{"other":1}"#)
                .unwrap_err()
                .contains("no `model` key")
        );
        assert!(read("[1,2]").is_err());
        assert!(read(r#"{"model":{"vocab":{"a":1"#).is_err());
        assert!(
            read_tokenizer(MAX_TOKENIZER + 1, &mut &b""[..])
                .unwrap()
                .unwrap_err()
                .contains("limit")
        );
    }
}
