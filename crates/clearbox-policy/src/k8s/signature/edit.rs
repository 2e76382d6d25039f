//! Writing the signature annotation into manifest text without touching anything else: the
//! comments, key order, quoting and layout of the rest of the file stay as they were.
//!
//! Each edit is placed from the locations the parser reports ([`Node::location`] is the first key
//! of a block mapping and the `{` of a flow mapping):
//!
//! | `metadata.annotations` | edit |
//! |---|---|
//! | a block mapping | a new entry before its first key, at the same indentation |
//! | a flow mapping (JSON) | a new entry after its `{` |
//! | missing, `metadata` a block mapping | `annotations:` with the entry, before the first key of `metadata` |
//! | missing, `metadata` a flow mapping | `"annotations": {...}` after its `{` |
//! | missing with `metadata` | `metadata:` with both, before the first key of the object |
//!
//! A signature already in a block mapping is replaced: its key line and the lines after it that
//! are indented deeper (a value folded over lines) are removed. In a flow mapping only a
//! double-quoted value, the form signing writes there, is replaced. Another form there, and an
//! `annotations: null`, are errors that name the change to make.

use crate::k8s::yaml::{Location, Node, Value};

/// One change to the text: remove `remove` bytes at `offset`, then insert `insert` there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Edit {
    pub(crate) offset: usize,
    pub(crate) remove: usize,
    pub(crate) insert: String,
}

/// Byte offsets of line starts, to turn parser locations into offsets.
pub(crate) struct LineIndex<'t> {
    text: &'t str,
    starts: Vec<usize>,
    newline: &'static str,
}

impl<'t> LineIndex<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(index, _)| index + 1))
            .collect();
        let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
        LineIndex {
            text,
            starts,
            newline,
        }
    }

    /// Converts a 1-based line and column (counted in characters) to a byte offset.
    fn offset(&self, location: Location) -> Option<usize> {
        let line = usize::try_from(location.line).ok()?.checked_sub(1)?;
        let start = *self.starts.get(line)?;
        let column = usize::try_from(location.column).ok()?.checked_sub(1)?;
        let rest = &self.text[start..];
        match rest.char_indices().nth(column) {
            Some((index, _)) => Some(start + index),
            None if rest.chars().count() == column => Some(self.text.len()),
            None => None,
        }
    }

    fn line_start(&self, location: Location) -> Option<usize> {
        let line = usize::try_from(location.line).ok()?.checked_sub(1)?;
        self.starts.get(line).copied()
    }

    /// Returns the byte at `offset`, when there is one.
    fn byte_at(&self, offset: usize) -> Option<u8> {
        self.text.as_bytes().get(offset).copied()
    }
}

/// The reason the annotation cannot be written into an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EditProblem(pub(crate) String);

/// Plans the edit that sets annotation `key` to `value` (the annotation's string) in `object`.
pub(crate) fn set_annotation(
    index: &LineIndex<'_>,
    object: &Node,
    key: &str,
    value: &str,
) -> Result<Edit, EditProblem> {
    let Some(metadata) = object.entry("metadata") else {
        return insert_entry(
            index,
            object,
            "metadata",
            &Nested::Two("annotations", key, value),
        );
    };
    let metadata = &metadata.value;
    if !matches!(metadata.value, Value::Mapping(_)) {
        return Err(EditProblem(
            "`metadata` is not a mapping; a Kubernetes object needs one".to_owned(),
        ));
    }
    let Some(annotations) = metadata.entry("annotations") else {
        return insert_entry(index, metadata, "annotations", &Nested::One(key, value));
    };
    let annotations = &annotations.value;
    match &annotations.value {
        Value::Mapping(_) => {}
        Value::Null => {
            return Err(EditProblem(
                "`metadata.annotations` is empty (null); write `annotations: {}` or remove the \
                 line, then sign again"
                    .to_owned(),
            ));
        }
        _ => {
            return Err(EditProblem(
                "`metadata.annotations` is not a mapping".to_owned(),
            ));
        }
    }
    if let Some(existing) = annotations.entry(key) {
        let flow = index
            .offset(annotations.location)
            .and_then(|offset| index.byte_at(offset))
            == Some(b'{');
        if flow {
            return replace_flow_value(index, &existing.value, key, value);
        }
        return replace_block_entry(index, existing.key_location, key, value);
    }
    insert_entry(index, annotations, key, &Nested::Scalar(value))
}

/// The value under the new key. Keys and values are raw text, quoted when written.
enum Nested<'a> {
    /// A string value.
    Scalar(&'a str),
    /// A mapping with one entry.
    One(&'a str, &'a str),
    /// A mapping with one key whose value is a mapping with one entry.
    Two(&'a str, &'a str, &'a str),
}

/// Inserts `key` with `nested` as the first entry of the mapping `map`.
fn insert_entry(
    index: &LineIndex<'_>,
    map: &Node,
    key: &str,
    nested: &Nested<'_>,
) -> Result<Edit, EditProblem> {
    let Value::Mapping(entries) = &map.value else {
        return Err(EditProblem("expected a mapping".to_owned()));
    };
    let start = index
        .offset(map.location)
        .ok_or_else(|| EditProblem("the parser reported a location outside the file".to_owned()))?;

    // A flow mapping (JSON, or `{...}` in YAML) starts at its `{`.
    if index.byte_at(start) == Some(b'{') {
        let q = json_string;
        let flow = match nested {
            Nested::Scalar(value) => format!("{}: {}", q(key), q(value)),
            Nested::One(k, v) => format!("{}: {{{}: {}}}", q(key), q(k), q(v)),
            Nested::Two(k1, k2, v) => {
                format!("{}: {{{}: {{{}: {}}}}}", q(key), q(k1), q(k2), q(v))
            }
        };
        let separator = if entries.is_empty() { "" } else { ", " };
        return Ok(Edit {
            offset: start + 1,
            remove: 0,
            insert: format!("{flow}{separator}"),
        });
    }

    // A block mapping starts at its first key, so the new entry goes in front of it at its
    // column. This also works when a `- ` sequence indicator precedes the key on its line.
    let column = usize::try_from(map.location.column)
        .unwrap_or(1)
        .saturating_sub(1);
    let indent = " ".repeat(column);
    let nl = index.newline;
    let (k, q) = (yaml_key, json_string);
    let block = match nested {
        Nested::Scalar(value) => format!("{}: {}{nl}", k(key), q(value)),
        Nested::One(k1, v) => format!("{}:{nl}{indent}  {}: {}{nl}", k(key), k(k1), q(v)),
        Nested::Two(k1, k2, v) => format!(
            "{}:{nl}{indent}  {}:{nl}{indent}    {}: {}{nl}",
            k(key),
            k(k1),
            k(k2),
            q(v)
        ),
    };
    Ok(Edit {
        offset: start,
        remove: 0,
        insert: format!("{block}{indent}"),
    })
}

/// Replaces the entry of `key` in the block mapping `annotations`, including any lines its value
/// is folded over.
fn replace_block_entry(
    index: &LineIndex<'_>,
    key_location: Location,
    key: &str,
    value: &str,
) -> Result<Edit, EditProblem> {
    let start = index
        .line_start(key_location)
        .ok_or_else(|| EditProblem("the parser reported a location outside the file".to_owned()))?;
    let key_indent = usize::try_from(key_location.column)
        .unwrap_or(1)
        .saturating_sub(1);

    // The entry ends at the first later line that is not blank and is indented no deeper than
    // the key: a sibling, a parent, or a document marker.
    let line = usize::try_from(key_location.line).unwrap_or(usize::MAX);
    let end = index
        .starts
        .iter()
        .skip(line)
        .copied()
        .find(|&offset| {
            let text = &index.text[offset..];
            let text = text.split('\n').next().unwrap_or_default();
            let content = text.trim_start_matches(' ');
            let blank = content.trim().is_empty();
            !blank && text.len() - content.len() <= key_indent
        })
        .unwrap_or(index.text.len());
    let indent = " ".repeat(key_indent);
    let nl = index.newline;
    Ok(Edit {
        offset: start,
        remove: end - start,
        insert: format!("{indent}{}: {}{nl}", yaml_key(key), json_string(value)),
    })
}

/// Replaces a double-quoted value in a flow mapping, which is how signing writes it there.
fn replace_flow_value(
    index: &LineIndex<'_>,
    existing: &Node,
    key: &str,
    value: &str,
) -> Result<Edit, EditProblem> {
    let unsupported = || {
        EditProblem(format!(
            "`metadata.annotations` is a flow mapping (`{{...}}`) whose `{key}` annotation is \
             not a double-quoted string; remove that annotation, then sign again"
        ))
    };
    let start = index.offset(existing.location).ok_or_else(unsupported)?;
    if index.byte_at(start) != Some(b'"') {
        return Err(unsupported());
    }

    // The closing quote is the first `"` after the opening one that no backslash escapes.
    let bytes = index.text.as_bytes();
    let mut position = start + 1;
    while position < bytes.len() {
        match bytes[position] {
            b'\\' => position += 2,
            b'"' => {
                return Ok(Edit {
                    offset: start,
                    remove: position + 1 - start,
                    insert: json_string(value),
                });
            }
            _ => position += 1,
        }
    }
    Err(unsupported())
}

/// Writes a mapping key as plain YAML when it is a plain word or an annotation key
/// (`signature.clearbox.dev/dsse`), else as a double-quoted scalar.
fn yaml_key(text: &str) -> String {
    let plain = text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'/' | b'-' | b'_'));
    if plain {
        text.to_owned()
    } else {
        json_string(text)
    }
}

/// Writes a JSON string literal, which is also a YAML double-quoted scalar.
fn json_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// Applies edits that do not overlap, from the last to the first so that offsets stay valid.
pub(crate) fn apply(text: &str, mut edits: Vec<Edit>) -> String {
    edits.sort_by_key(|edit| std::cmp::Reverse(edit.offset));
    let mut out = text.to_owned();
    for edit in edits {
        out.replace_range(edit.offset..edit.offset + edit.remove, &edit.insert);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::yaml::parse_documents;

    const KEY: &str = "sig.example/x";

    fn sign(text: &str) -> String {
        let docs = parse_documents(text).unwrap();
        let index = LineIndex::new(text);
        let edits = docs
            .iter()
            .map(|doc| set_annotation(&index, doc, KEY, "v").unwrap())
            .collect();
        apply(text, edits)
    }

    #[test]
    fn block_annotations_get_a_first_entry() {
        assert_eq!(
            sign("kind: A\nmetadata:\n  annotations:\n    a: b # note\n  name: n\n"),
            "kind: A\nmetadata:\n  annotations:\n    sig.example/x: \"v\"\n    a: b # note\n  name: n\n"
        );
    }

    #[test]
    fn block_metadata_gets_annotations() {
        assert_eq!(
            sign("kind: A\nmetadata:\n  name: n\n"),
            "kind: A\nmetadata:\n  annotations:\n    sig.example/x: \"v\"\n  name: n\n"
        );
    }

    #[test]
    fn missing_metadata_added() {
        assert_eq!(
            sign("kind: A\n"),
            "metadata:\n  annotations:\n    sig.example/x: \"v\"\nkind: A\n"
        );
    }

    #[test]
    fn flow_mappings_edited_after_brace() {
        assert_eq!(
            sign("{\"kind\": \"A\", \"metadata\": {\"annotations\": {}}}"),
            "{\"kind\": \"A\", \"metadata\": {\"annotations\": {\"sig.example/x\": \"v\"}}}"
        );
        assert_eq!(
            sign("{\"kind\": \"A\", \"metadata\": {\"name\": \"n\"}}"),
            "{\"kind\": \"A\", \"metadata\": {\"annotations\": {\"sig.example/x\": \"v\"}, \"name\": \"n\"}}"
        );
    }

    #[test]
    fn list_item_after_dash() {
        let text = "items:\n- kind: A\n";
        let doc = parse_documents(text).unwrap().remove(0);
        let Value::Sequence(items) = &doc.get("items").unwrap().value else {
            panic!("expected a sequence");
        };
        let edit = set_annotation(&LineIndex::new(text), &items[0], KEY, "v").unwrap();
        assert_eq!(
            apply(text, vec![edit]),
            "items:\n- metadata:\n    annotations:\n      sig.example/x: \"v\"\n  kind: A\n"
        );
    }

    #[test]
    fn existing_folded_signature_replaced() {
        let text = "metadata:\n  annotations:\n    sig.example/x: \"old\n      more\"\n    a: b\n";
        assert_eq!(
            sign(text),
            "metadata:\n  annotations:\n    sig.example/x: \"v\"\n    a: b\n"
        );
    }

    #[test]
    fn last_signature_in_file_replaced() {
        assert_eq!(
            sign("metadata:\n  annotations:\n    sig.example/x: old\n"),
            "metadata:\n  annotations:\n    sig.example/x: \"v\"\n"
        );
    }

    #[test]
    fn flow_signature_replaced() {
        assert_eq!(
            sign("metadata: {annotations: {a: b, sig.example/x: \"o\\\"ld\"}}\n"),
            "metadata: {annotations: {a: b, sig.example/x: \"v\"}}\n"
        );
    }

    #[test]
    fn crlf_kept() {
        assert_eq!(
            sign("kind: A\r\nmetadata:\r\n  name: n\r\n"),
            "kind: A\r\nmetadata:\r\n  annotations:\r\n    sig.example/x: \"v\"\r\n  name: n\r\n"
        );
    }

    #[test]
    fn null_annotations_rejected() {
        let text = "metadata:\n  annotations:\n  name: n\n";
        let doc = parse_documents(text).unwrap().remove(0);
        let error = set_annotation(&LineIndex::new(text), &doc, KEY, "v").unwrap_err();
        assert!(error.0.contains("empty (null)"), "{}", error.0);
    }
}
