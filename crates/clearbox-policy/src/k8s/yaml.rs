//! YAML and JSON documents as trees whose nodes keep their line and column, so that a result can
//! point at the field it is about.
//!
//! serde-saphyr parses the text (JSON is read as YAML 1.2 flow syntax, which also lets `#`
//! comments through, as `kubectl` does). Every node is deserialised through
//! `serde_saphyr::Spanned`, which records the node's start. Mapping keys are spanned too, so a
//! field is located at its key rather than at its value.
//!
//! Parsing choices, each matching what the Kubernetes API server accepts:
//! - only `true` and `false` (any case variant YAML 1.2 allows) are read as booleans by the
//!   parser, so that a string field keeps its text; [`Field::as_bool`](super::field::Field)
//!   accepts the other YAML 1.1 spellings (`yes`, `on`, ...) where a boolean is expected;
//! - duplicate keys are an error; `<<` merge keys are applied; anchors do not cross `---`;
//! - serde-saphyr's default budgets (nesting depth, alias count, event count) bound the work an
//!   untrusted file can cause.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// A position in a file: 1-based line and column, counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Location {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl Location {
    fn of(location: serde_saphyr::Location) -> Self {
        // Files with more than 4 billion lines are beyond the parser's event budget.
        Location {
            line: u32::try_from(location.line()).unwrap_or(u32::MAX),
            column: u32::try_from(location.column()).unwrap_or(u32::MAX),
        }
    }
}

/// One node of a document, with where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Start of the node: a scalar's first character, a block mapping's first key.
    pub location: Location,
}

/// The value of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`, `~` or an empty value.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer that fits in 64 bits.
    Integer(i64),
    /// Any other number.
    Float(f64),
    /// A string, including every scalar that resolves to no other type.
    String(String),
    /// A sequence.
    Sequence(Vec<Node>),
    /// A mapping, in document order.
    Mapping(Vec<Entry>),
}

/// One key and value of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key as text; numeric and boolean keys are converted to their text, as the Kubernetes
    /// YAML-to-JSON conversion does.
    pub key: String,
    /// Start of the key.
    pub key_location: Location,
    /// The value.
    pub value: Node,
}

impl Node {
    /// Returns the value of `key` when this node is a mapping that contains it.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|entry| &entry.value)
    }

    /// Returns the entry of `key` when this node is a mapping that contains it.
    #[must_use]
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Mapping(entries) => entries.iter().find(|entry| entry.key == key),
            _ => None,
        }
    }

    /// Returns the text of a string node.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(text) => Some(text),
            _ => None,
        }
    }

    /// True for a `null` node.
    #[must_use]
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }
}

/// A document that is not valid YAML, with where the parser stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Location of the error, when the parser reports one.
    pub location: Option<Location>,
    /// The parser's message, which ends with the position.
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Parses every document of a YAML stream (or one JSON document). Empty documents are left out.
pub fn parse_documents(text: &str) -> Result<Vec<Node>, SyntaxError> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
        with_snippet: false,
    };
    let documents: Vec<Spanned<Value>> = serde_saphyr::from_multiple_with_options(text, options)
        .map_err(|error| SyntaxError {
            location: error.location().map(Location::of),
            message: message(&error),
        })?;
    Ok(documents.into_iter().map(into_node).collect())
}

/// Returns the parser's message, reworded where serde-saphyr's own names a Rust type or option
/// of its API instead of the problem in the document.
fn message(error: &serde_saphyr::Error) -> String {
    let at = |location: &serde_saphyr::Location| {
        format!(" at line {}, column {}", location.line(), location.column())
    };
    match error.without_snippet() {
        serde_saphyr::Error::DuplicateMappingKey { key, location } => {
            let key = key
                .as_deref()
                .map_or_else(String::new, |key| format!(" `{key}`"));
            format!(
                "duplicate mapping key{key}{}; a key may appear once in a mapping, so remove \
                 one of them",
                at(location)
            )
        }
        serde_saphyr::Error::RecursiveReferencesRequireWeakTypes { location } => format!(
            "an alias refers to the node that contains it{}, which makes the value endless; \
             remove the alias",
            at(location)
        ),
        serde_saphyr::Error::NonFiniteFloat { value, location } => format!(
            "`{value}` is a NaN or infinite number{}, which has no JSON form; quote it if it is \
             meant as a string",
            at(location)
        ),
        serde_saphyr::Error::Budget { breach, location } => {
            format!(
                "{}{}; split the file into smaller files",
                budget_text(breach),
                at(location)
            )
        }
        other => other.to_string(),
    }
}

/// Describes a breached parser limit with the limit's value (serde-saphyr's defaults, which
/// [`parse_documents`] keeps).
fn budget_text(breach: &serde_saphyr::budget::BudgetBreach) -> String {
    use serde_saphyr::budget::BudgetBreach;

    let limits = serde_saphyr::Budget::default();
    let (what, limit) = match breach {
        BudgetBreach::Nodes { .. } => (
            "YAML nodes (scalars, sequences and mappings)",
            limits.max_nodes,
        ),
        BudgetBreach::Events { .. } => ("parser events", limits.max_events),
        BudgetBreach::Aliases { .. } => ("aliases (`*name`)", limits.max_aliases),
        BudgetBreach::Anchors { .. } => ("anchors (`&name`)", limits.max_anchors),
        BudgetBreach::Depth { .. } => ("levels of nesting", limits.max_depth),
        BudgetBreach::Documents { .. } => ("documents", limits.max_documents),
        BudgetBreach::ScalarBytes { .. } => ("bytes of scalar text", limits.max_total_scalar_bytes),
        BudgetBreach::MergeKeys { .. } => ("`<<` merge keys", limits.max_merge_keys),
        BudgetBreach::AliasAnchorRatio { aliases, anchors } => {
            return format!(
                "the file uses {aliases} aliases of {anchors} anchors, more than {} aliases per \
                 anchor, as YAML alias bombs do",
                limits.alias_anchor_ratio_multiplier
            );
        }
        _ => return "the file exceeds a size limit of the YAML parser".to_owned(),
    };
    format!("the file has more than {limit} {what}, the most that is read")
}

fn into_node(spanned: Spanned<Value>) -> Node {
    Node {
        value: spanned.value,
        location: Location::of(spanned.referenced),
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Value::deserialize(deserializer)
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Integer(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Value, E> {
        // Integers beyond i64 are no valid value of any Kubernetes integer field.
        #[allow(
            clippy::cast_precision_loss,
            reason = "only values beyond i64::MAX reach the float, and they are kept as floats"
        )]
        Ok(i64::try_from(value).map_or(Value::Float(value as f64), Value::Integer))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        Ok(Value::Float(value))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = access.next_element::<Spanned<Value>>()? {
            items.push(into_node(item));
        }
        Ok(Value::Sequence(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = access.next_key::<Spanned<Key>>()? {
            let value = access.next_value::<Spanned<Value>>()?;
            entries.push(Entry {
                key: key.value.0,
                key_location: Location::of(key.referenced),
                value: into_node(value),
            });
        }
        Ok(Value::Mapping(entries))
    }
}

/// A mapping key: any scalar, as text.
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a scalar mapping key")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
        Ok(Key("null".to_owned()))
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Key, E> {
        Ok(Key(value.to_string()))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Key, E> {
        Ok(Key(value.to_string()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Key, E> {
        Ok(Key(value.to_string()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Key, E> {
        Ok(Key(value.to_string()))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Key, E> {
        Ok(Key(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Key, E> {
        Ok(Key(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<Node> {
        parse_documents(text).expect("valid YAML")
    }

    #[test]
    fn keys_are_located_at_their_line() {
        let docs = parse("kind: Pod\nspec:\n  hostNetwork: true\n");
        let entry = docs[0].get("spec").unwrap().entry("hostNetwork").unwrap();
        assert_eq!(entry.key_location, Location { line: 3, column: 3 });
        assert_eq!(entry.value.value, Value::Bool(true));
    }

    #[test]
    fn documents_start_at_their_first_key() {
        let docs = parse("# comment\n---\nkind: A\n---\n---\n\nkind: B\n");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].location.line, 3);
        assert_eq!(docs[1].location.line, 7);
    }

    #[test]
    fn yaml_1_1_booleans_stay_strings() {
        let docs = parse("a: yes\nb: on\nc: True\n");
        assert_eq!(docs[0].get("a").unwrap().as_str(), Some("yes"));
        assert_eq!(docs[0].get("b").unwrap().as_str(), Some("on"));
        assert_eq!(docs[0].get("c").unwrap().value, Value::Bool(true));
    }

    #[test]
    fn json_with_comments_parses() {
        let docs = parse("# note\n{\"kind\": \"Pod\",\n \"spec\": {\"a\": [1, 2]}}\n");
        let spec = docs[0].get("spec").unwrap();
        assert_eq!(spec.location.line, 3);
        let Value::Sequence(items) = &spec.get("a").unwrap().value else {
            panic!("expected a sequence");
        };
        assert_eq!(items[1].value, Value::Integer(2));
    }

    #[test]
    fn merge_keys_apply() {
        let docs = parse("base: &b {x: 1}\nitem:\n  <<: *b\n  y: 2\n");
        let item = docs[0].get("item").unwrap();
        assert_eq!(item.get("x").unwrap().value, Value::Integer(1));
    }

    #[test]
    fn duplicate_keys_are_rejected_with_position() {
        let error = parse_documents("a: 1\na: 2\n").unwrap_err();
        assert_eq!(error.location, Some(Location { line: 2, column: 1 }));
        assert!(error.message.contains("duplicate"), "{}", error.message);
    }

    #[test]
    fn duplicate_key_message_names_key() {
        let error = parse_documents("a: 1\na: 2\n").unwrap_err();
        assert_eq!(
            error.message,
            "duplicate mapping key `a` at line 2, column 1; a key may appear once in a mapping, \
             so remove one of them"
        );
    }

    #[test]
    fn recursive_alias_message_names_fix() {
        let error = parse_documents("a: &x [*x]\n").unwrap_err();
        assert_eq!(
            error.message,
            "an alias refers to the node that contains it at line 1, column 8, which makes the \
             value endless; remove the alias"
        );
    }

    #[test]
    fn infinite_number_message_says_quote_it() {
        let error = parse_documents("a: 1\nb: 1e400\n").unwrap_err();
        assert_eq!(
            error.message,
            "`1e400` is a NaN or infinite number at line 2, column 4, which has no JSON form; \
             quote it if it is meant as a string"
        );
    }

    #[test]
    fn node_limit_message_names_limit() {
        use std::fmt::Write as _;

        let mut text = String::from("a:\n");
        for index in 0..125_001 {
            writeln!(text, "  k{index}: v").unwrap();
        }
        let error = parse_documents(&text).unwrap_err();
        assert!(
            error.message.starts_with(
                "the file has more than 250000 YAML nodes (scalars, sequences and mappings), \
                 the most that is read at line "
            ),
            "{}",
            error.message
        );
        assert!(
            error
                .message
                .ends_with("; split the file into smaller files"),
            "{}",
            error.message
        );
    }

    #[test]
    fn unclosed_flow_sequence_is_rejected() {
        let error = parse_documents("a: [1\n").unwrap_err();
        assert_eq!(error.location.map(|l| l.line), Some(1));
    }

    #[test]
    fn numeric_keys_become_text() {
        let docs = parse("1: x\n");
        assert_eq!(docs[0].get("1").unwrap().as_str(), Some("x"));
    }
}
