//! Kubernetes objects read from a YAML stream into JSON values the way Kubernetes reads them, for
//! the canonical form that a manifest signature covers.
//!
//! `kubectl` and the API server turn YAML into JSON with `sigs.k8s.io/yaml`, which parses with
//! go-yaml v2 and then converts mapping keys to strings. This module builds the same JSON from
//! the parser's events, which carry each scalar's style and tag:
//! - a quoted or block scalar is a string; an untagged plain scalar is resolved by
//!   [`resolve_plain`] (YAML 1.1 as go-yaml v2 resolves it);
//! - mapping keys become strings: booleans as `true`/`false`, integers in decimal. Null, float
//!   and collection keys are rejected, as are two keys that become the same string (`1` and
//!   `"1"`, `yes` and `on`), which Kubernetes would merge in an undefined order;
//! - aliases are expanded; a `<<` merge key is rejected;
//! - documents that are empty or null are left out, as [`crate::k8s::yaml`] leaves them out.
//!
//! Anything whose meaning this module cannot establish is an error that names the line and
//! what to change, never a guess: explicit tags other than `!!str` on a scalar, and the plain
//! scalars that [`resolve_plain`] reports as [`Unresolved`].

use std::collections::HashMap;

use serde_json::{Map, Value};
use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, Span, Tag};

use super::resolve::{Resolved, Unresolved, resolve_plain};

/// The maximum number of nodes (scalars, sequences and mappings) in one file, with each alias
/// counted as the nodes it repeats. It is serde-saphyr's default, which the location-keeping
/// reader in [`crate::k8s::yaml`] applies too.
pub const MAX_NODES: usize = 250_000;

/// The prefix of YAML's core tags, written `!!` in a document.
const CORE_TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// A reason a YAML stream cannot be read as Kubernetes reads it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The text is not valid YAML.
    #[error("invalid YAML: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// The parser's message.
        message: String,
    },
    /// A plain scalar has no single JSON meaning for Kubernetes.
    #[error("the plain scalar `{text}` {reason}; quote it if it is meant as a string")]
    Unresolved {
        /// 1-based line.
        line: usize,
        /// The scalar as written.
        text: String,
        /// Why.
        reason: &'static str,
    },
    /// A node has an explicit tag.
    #[error(
        "the tag `{tag}` is not accepted in a signed manifest, because what it means to Kubernetes \
         is not established; remove the tag (quote the value if it is meant as a string)"
    )]
    Tag {
        /// 1-based line.
        line: usize,
        /// The tag as `!!name` or `!name`.
        tag: String,
    },
    /// A mapping key that Kubernetes cannot turn into a JSON object key.
    #[error("the mapping key `{key}` is {what}, which Kubernetes rejects as an object key; {fix}")]
    Key {
        /// 1-based line.
        line: usize,
        /// The key as written or as JSON.
        key: String,
        /// The kind of key, such as `a float`.
        what: &'static str,
        /// The change to make.
        fix: &'static str,
    },
    /// Two keys of one mapping become the same string.
    #[error(
        "the mapping key `{key}` is in the mapping twice once keys are read as Kubernetes reads \
         them (`1` and `\"1\"`, `yes` and `on` are the same key), so which value wins is \
         undefined; remove one"
    )]
    DuplicateKey {
        /// 1-based line of the second key.
        line: usize,
        /// The key as a string.
        key: String,
    },
    /// A `<<` merge key.
    #[error(
        "`<<` merge keys are not accepted in a signed manifest, because YAML parsers disagree on \
         whether a merged value or a field written beside it wins; write the fields out"
    )]
    MergeKey {
        /// 1-based line.
        line: usize,
    },
    /// A character that Kubernetes' YAML reader takes for a line break and this one does not.
    #[error(
        "the character {name} is a line break to Kubernetes' YAML reader (go-yaml), which folds \
         it, but not to this one; write it as an escape in a double-quoted string (`\\{escape}`) \
         or remove it"
    )]
    LineBreak {
        /// 1-based line.
        line: usize,
        /// The character's code point and name.
        name: &'static str,
        /// The double-quoted escape that writes it.
        escape: char,
    },
    /// A plain scalar that starts with `?`, which go-yaml reads as a key indicator in flow
    /// collections.
    #[error(
        "the plain scalar `{text}` starts with `?`, which Kubernetes' YAML reader (go-yaml) takes \
         for a mapping key inside `[...]` and `{{...}}`; quote it"
    )]
    QuestionMark {
        /// 1-based line.
        line: usize,
        /// The scalar as written.
        text: String,
    },
    /// Too many nodes.
    #[error(
        "the file has more than {MAX_NODES} YAML nodes (scalars, sequences and mappings, with \
         aliases expanded); split it into several files"
    )]
    TooManyNodes {
        /// 1-based line where the limit was reached.
        line: usize,
    },
}

impl ReadError {
    /// Returns the 1-based line the error is about.
    #[must_use]
    pub fn line(&self) -> usize {
        match self {
            ReadError::Syntax { line, .. }
            | ReadError::Unresolved { line, .. }
            | ReadError::Tag { line, .. }
            | ReadError::Key { line, .. }
            | ReadError::DuplicateKey { line, .. }
            | ReadError::MergeKey { line }
            | ReadError::LineBreak { line, .. }
            | ReadError::QuestionMark { line, .. }
            | ReadError::TooManyNodes { line } => *line,
        }
    }
}

/// Reads every non-empty document of `text` as JSON, as Kubernetes reads it.
pub(crate) fn read_documents(text: &str) -> Result<Vec<Value>, ReadError> {
    // go-yaml v2 breaks lines at NEL, LS and PS as YAML 1.1 specifies; the parser here follows
    // YAML 1.2, where they are ordinary characters. The two readers would disagree on the
    // text of any scalar containing one, so none is accepted.
    for (line, text) in text.split('\n').enumerate() {
        let found = text.chars().find_map(|c| match c {
            '\u{85}' => Some(("U+0085 (next line)", 'N')),
            '\u{2028}' => Some(("U+2028 (line separator)", 'L')),
            '\u{2029}' => Some(("U+2029 (paragraph separator)", 'P')),
            _ => None,
        });
        if let Some((name, escape)) = found {
            return Err(ReadError::LineBreak {
                line: line + 1,
                name,
                escape,
            });
        }
    }
    let mut composer = Composer::default();
    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|error| ReadError::Syntax {
            line: error.marker().line(),
            message: error.info(),
        })?;
        composer.event(event, span)?;
    }
    Ok(composer.documents)
}

/// A collection being built.
enum Frame {
    Sequence {
        items: Vec<Value>,
        anchor: usize,
        first_node: usize,
    },
    Mapping {
        map: Map<String, Value>,
        /// The key read, waiting for its value, with its line.
        key: Option<(String, usize)>,
        anchor: usize,
        first_node: usize,
    },
}

/// A finished node on its way to its parent.
struct Node {
    value: Value,
    line: usize,
    /// An untagged plain `<<`, which go-yaml takes for a merge key.
    is_merge: bool,
    /// The scalar's text as written, for messages about keys.
    text: Option<String>,
}

#[derive(Default)]
struct Composer {
    documents: Vec<Value>,
    stack: Vec<Frame>,
    root: Option<Value>,
    /// Anchored values with their node counts, by the parser's anchor id.
    anchors: HashMap<usize, (Value, usize)>,
    nodes: usize,
}

impl Composer {
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), ReadError> {
        let line = span.start.line();
        match event {
            Event::DocumentStart(..) => {
                self.anchors.clear();
                self.root = None;
            }
            Event::DocumentEnd => {
                if let Some(root) = self.root.take()
                    && !root.is_null()
                {
                    self.documents.push(root);
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.count(1, line)?;
                let node = scalar(&text, style, tag.as_deref(), line)?;
                if anchor != 0 {
                    self.anchors.insert(anchor, (node.value.clone(), 1));
                }
                self.add(node)?;
            }
            Event::SequenceStart(_, anchor, tag) => {
                self.start(false, anchor, tag.as_deref(), line)?;
            }
            Event::MappingStart(_, anchor, tag) => {
                self.start(true, anchor, tag.as_deref(), line)?;
            }
            Event::SequenceEnd | Event::MappingEnd => self.end_collection(line)?,
            Event::Alias(anchor) => {
                let Some((value, size)) = self.anchors.get(&anchor).cloned() else {
                    return Err(ReadError::Syntax {
                        line,
                        message: "an alias refers to no anchor before it in its document".into(),
                    });
                };
                self.count(size, line)?;
                self.add(Node {
                    value,
                    line,
                    is_merge: false,
                    text: None,
                })?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Starts a sequence or (with `mapping`) a mapping.
    fn start(
        &mut self,
        mapping: bool,
        anchor: usize,
        tag: Option<&Tag>,
        line: usize,
    ) -> Result<(), ReadError> {
        if let Some(tag) = tag {
            return Err(ReadError::Tag {
                line,
                tag: tag_text(tag),
            });
        }
        let first_node = self.nodes;
        self.count(1, line)?;
        self.stack.push(if mapping {
            Frame::Mapping {
                map: Map::new(),
                key: None,
                anchor,
                first_node,
            }
        } else {
            Frame::Sequence {
                items: Vec::new(),
                anchor,
                first_node,
            }
        });
        Ok(())
    }

    fn count(&mut self, nodes: usize, line: usize) -> Result<(), ReadError> {
        self.nodes = self.nodes.saturating_add(nodes);
        if self.nodes > MAX_NODES {
            return Err(ReadError::TooManyNodes { line });
        }
        Ok(())
    }

    fn end_collection(&mut self, line: usize) -> Result<(), ReadError> {
        let (value, anchor, first_node) = match self.stack.pop() {
            Some(Frame::Sequence {
                items,
                anchor,
                first_node,
            }) => (Value::Array(items), anchor, first_node),
            Some(Frame::Mapping {
                map,
                anchor,
                first_node,
                ..
            }) => (Value::Object(map), anchor, first_node),
            None => {
                return Err(ReadError::Syntax {
                    line,
                    message: "a collection ends that did not start".into(),
                });
            }
        };
        if anchor != 0 {
            self.anchors
                .insert(anchor, (value.clone(), self.nodes - first_node));
        }
        self.add(Node {
            value,
            line,
            is_merge: false,
            text: None,
        })
    }

    /// Adds a finished node to the collection being built, or makes it the document's root.
    fn add(&mut self, node: Node) -> Result<(), ReadError> {
        match self.stack.last_mut() {
            None => self.root = Some(node.value),
            Some(Frame::Sequence { items, .. }) => items.push(node.value),
            Some(Frame::Mapping { map, key, .. }) => match key.take() {
                None => {
                    let line = node.line;
                    *key = Some((key_text(node)?, line));
                }
                Some((name, line)) => {
                    if map.contains_key(&name) {
                        return Err(ReadError::DuplicateKey { line, key: name });
                    }
                    map.insert(name, node.value);
                }
            },
        }
        Ok(())
    }
}

/// Reads a scalar as Kubernetes reads it.
fn scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
    line: usize,
) -> Result<Node, ReadError> {
    let string = |text: &str| Node {
        value: Value::String(text.to_owned()),
        line,
        is_merge: false,
        text: Some(text.to_owned()),
    };
    if let Some(tag) = tag {
        if tag.handle() == CORE_TAG_PREFIX && tag.suffix() == "str" {
            return Ok(string(text));
        }
        return Err(ReadError::Tag {
            line,
            tag: tag_text(tag),
        });
    }
    if style != ScalarStyle::Plain {
        return Ok(string(text));
    }
    if text.starts_with('?') {
        return Err(ReadError::QuestionMark {
            line,
            text: text.to_owned(),
        });
    }
    let unresolved = |reason: Unresolved| ReadError::Unresolved {
        line,
        text: text.to_owned(),
        reason: reason.reason(),
    };
    let value = match resolve_plain(text).map_err(unresolved)? {
        Resolved::Null => Value::Null,
        Resolved::Bool(value) => Value::Bool(value),
        Resolved::Int(value) => Value::from(value),
        Resolved::Float(value) => serde_json::Number::from_f64(value)
            .map(Value::Number)
            .ok_or_else(|| unresolved(Unresolved::NonFinite))?,
        Resolved::Str => Value::String(text.to_owned()),
    };
    Ok(Node {
        value,
        line,
        is_merge: text == "<<",
        text: Some(text.to_owned()),
    })
}

/// Converts a mapping key to a JSON object key, as `sigs.k8s.io/yaml` converts it.
fn key_text(node: Node) -> Result<String, ReadError> {
    if node.is_merge {
        return Err(ReadError::MergeKey { line: node.line });
    }
    let written = node.text.unwrap_or_else(|| node.value.to_string());
    let reject = |what, fix| ReadError::Key {
        line: node.line,
        key: written.clone(),
        what,
        fix,
    };
    match node.value {
        Value::String(text) => Ok(text),
        Value::Bool(value) => Ok(value.to_string()),
        Value::Number(number) if number.is_i64() => Ok(number.to_string()),
        // `sigs.k8s.io/yaml` writes float keys in Go's shortest float32 form, which is not
        // reproduced here.
        Value::Number(_) => Err(reject("a float", "quote it to keep the text as written")),
        Value::Null => Err(reject("null", "write a name, or quote it")),
        Value::Array(_) | Value::Object(_) => {
            Err(reject("a sequence or mapping", "use a string key"))
        }
    }
}

/// Writes a tag as a document would: `!!name` for core tags, else as resolved.
fn tag_text(tag: &Tag) -> String {
    match tag.handle() {
        CORE_TAG_PREFIX => format!("!!{}", tag.suffix()),
        handle => format!("{handle}{}", tag.suffix()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn read(text: &str) -> Vec<Value> {
        read_documents(text).expect("readable")
    }

    #[test]
    fn styles_and_plain_resolution() {
        let docs = read(
            "a: 0X1F\nb: \"0X1F\"\nc: '1_0'\nd: 1_0\ne: |\n  0x1F\nf: >-\n  yes\ng: yes\nh: ~\n\
             i: !!str 3\nj: 1:20\nk: [0o17, \"x\", 0755]\n",
        );
        assert_eq!(
            docs,
            [json!({
                "a": 31, "b": "0X1F", "c": "1_0", "d": 10, "e": "0x1F\n", "f": "yes", "g": true,
                "h": null, "i": "3", "j": "1:20", "k": [15, "x", 493]
            })]
        );
    }

    #[test]
    fn keys_become_strings() {
        assert_eq!(
            read("1: a\non: b\n0x10: c\n'x': d\n"),
            [json!({"1": "a", "true": "b", "16": "c", "x": "d"})]
        );
    }

    #[test]
    fn keys_equal_as_strings_rejected() {
        for (text, key) in [
            ("1: a\n\"1\": b\n", "1"),
            ("yes: a\non: b\n", "true"),
            ("0x1F: a\n31: b\n", "31"),
        ] {
            let error = read_documents(text).unwrap_err();
            assert_eq!(
                error,
                ReadError::DuplicateKey {
                    line: 2,
                    key: key.to_owned()
                },
                "{text}"
            );
        }
    }

    #[test]
    fn unusable_keys_rejected() {
        for (text, what) in [
            ("~: a\n", "null"),
            ("1.5: a\n", "a float"),
            ("[a]: b\n", "a sequence or mapping"),
        ] {
            let error = read_documents(text).unwrap_err();
            assert!(
                matches!(&error, ReadError::Key { what: found, line: 1, .. } if *found == what),
                "{text}: {error:?}"
            );
        }
    }

    #[test]
    fn tags_rejected_with_line() {
        for (text, tag) in [
            ("a: 1\nb: !foo 3\n", "!foo"),
            ("a: 1\nb: !!int 3\n", "!!int"),
            ("a: 1\nb: !!map {c: 1}\n", "!!map"),
            ("a: 1\nb: !bar [1]\n", "!bar"),
        ] {
            let error = read_documents(text).unwrap_err();
            assert_eq!(
                error,
                ReadError::Tag {
                    line: 2,
                    tag: tag.to_owned()
                },
                "{text}"
            );
            assert!(error.to_string().contains("remove the tag"), "{error}");
        }
    }

    #[test]
    fn unresolved_scalar_names_line_and_text() {
        let error = read_documents("a: 1\nb: .inf\n").unwrap_err();
        assert_eq!(error.line(), 2);
        assert_eq!(
            error.to_string(),
            "the plain scalar `.inf` is a NaN or infinite float, which Kubernetes cannot convert \
             to JSON; quote it if it is meant as a string"
        );
    }

    #[test]
    fn aliases_expand_and_count() {
        assert_eq!(
            read("a: &x {b: 0x1F}\nc: *x\n"),
            [json!({"a": {"b": 31}, "c": {"b": 31}})]
        );
        // Each alias of a 10-node sequence adds 10 nodes.
        let mut text = String::from("a: &x [1, 2, 3, 4, 5, 6, 7, 8, 9]\nb: [");
        text.push_str(&vec!["*x"; 30_000].join(", "));
        text.push_str("]\n");
        let error = read_documents(&text).unwrap_err();
        assert!(
            matches!(error, ReadError::TooManyNodes { line: 2 }),
            "{error:?}"
        );
    }

    #[test]
    fn go_yaml_line_breaks_rejected() {
        for (text, name) in [
            ("a: \"x\u{85}y\"\n", "U+0085"),
            ("a: b\nc: 'x\u{2028}y'\n", "U+2028"),
            ("a: x\u{2029}y\n", "U+2029"),
        ] {
            let error = read_documents(text).unwrap_err();
            assert!(error.to_string().contains(name), "{text:?}: {error}");
        }
        let error = read_documents("a: b\nc: 'x\u{2028}y'\n").unwrap_err();
        assert_eq!(error.line(), 2);
        // Escapes in double-quoted strings write the same characters and are read alike.
        assert_eq!(
            read(r#"a: "x\Ly""#),
            [serde_json::json!({"a": "x\u{2028}y"})]
        );
    }

    #[test]
    fn plain_question_mark_rejected() {
        for text in ["args: [?x]\n", "a: ?x\n"] {
            let error = read_documents(text).unwrap_err();
            assert!(
                matches!(&error, ReadError::QuestionMark { text, line: 1 } if text == "?x"),
                "{text:?}: {error}"
            );
        }
        assert_eq!(read("a: [\"?x\"]\n"), [serde_json::json!({"a": ["?x"]})]);
    }

    #[test]
    fn merge_key_rejected() {
        let error = read_documents("a: &x {b: 1}\nc:\n  <<: *x\n").unwrap_err();
        assert_eq!(error, ReadError::MergeKey { line: 3 });
        assert_eq!(read("'<<': 1\n"), [json!({"<<": 1})]);
    }

    #[test]
    fn empty_and_null_documents_left_out() {
        assert_eq!(
            read("---\n---\n~\n---\nkind: A\n---\nnull\n"),
            [json!({"kind": "A"})]
        );
    }
}
