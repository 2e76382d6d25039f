//! A cursor into a document that keeps the field path (`spec.containers[0].securityContext`) and
//! the location of the deepest field that exists, so that a result about a missing field points
//! at the closest place where it belongs.

use super::yaml::{Location, Node, Value};

/// A field of a document that may or may not be present.
#[derive(Debug, Clone)]
pub struct Field<'a> {
    node: Option<&'a Node>,
    path: String,
    location: Location,
}

/// A field read as a type: missing (or `null`), a value of that type, or a value of another
/// type, which the Kubernetes API would reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typed<T> {
    /// The field is missing or `null`.
    Absent,
    /// The field has a value of the requested type.
    Value(T),
    /// The field has a value of another type.
    Invalid,
}

impl<T> Typed<T> {
    /// Returns the value, or `None` when the field is absent or invalid.
    pub fn value(self) -> Option<T> {
        match self {
            Typed::Value(value) => Some(value),
            Typed::Absent | Typed::Invalid => None,
        }
    }
}

/// The spellings that YAML 1.1 reads as booleans (<https://yaml.org/type/bool.html>). The parser
/// keeps all but `true` and `false` as strings; a boolean field accepts them all.
const YAML_1_1_TRUE: &[&str] = &["y", "Y", "yes", "Yes", "YES", "on", "On", "ON"];
const YAML_1_1_FALSE: &[&str] = &["n", "N", "no", "No", "NO", "off", "Off", "OFF"];

impl<'a> Field<'a> {
    /// A cursor at `node`, whose path is `path` (empty for a document root).
    #[must_use]
    pub fn root(node: &'a Node, path: &str) -> Self {
        Field {
            node: Some(node),
            path: path.to_owned(),
            location: node.location,
        }
    }

    /// The field `key` of this mapping.
    #[must_use]
    pub fn get(&self, key: &str) -> Field<'a> {
        let entry = self.node.and_then(|node| node.entry(key));
        Field {
            node: entry.map(|e| &e.value),
            path: join_key(&self.path, key),
            location: entry.map_or(self.location, |e| e.key_location),
        }
    }

    /// A path of keys, as `get` one after another.
    #[must_use]
    pub fn at(&self, keys: &[&str]) -> Field<'a> {
        keys.iter().fold(self.clone(), |field, key| field.get(key))
    }

    /// The node, when the field is present and not `null`.
    #[must_use]
    pub fn node(&self) -> Option<&'a Node> {
        self.node.filter(|node| !node.is_null())
    }

    /// True when the field is present and not `null`.
    #[must_use]
    pub fn is_present(&self) -> bool {
        self.node().is_some()
    }

    /// The field path, such as `spec.containers[0].securityContext.privileged`.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Where the field is, or where its closest present parent is.
    #[must_use]
    pub fn location(&self) -> Location {
        self.location
    }

    /// The field as a boolean.
    #[must_use]
    pub fn as_bool(&self) -> Typed<bool> {
        match self.node().map(|n| &n.value) {
            None => Typed::Absent,
            Some(Value::Bool(value)) => Typed::Value(*value),
            Some(Value::String(text)) if YAML_1_1_TRUE.contains(&text.as_str()) => {
                Typed::Value(true)
            }
            Some(Value::String(text)) if YAML_1_1_FALSE.contains(&text.as_str()) => {
                Typed::Value(false)
            }
            Some(_) => Typed::Invalid,
        }
    }

    /// The field as a string.
    #[must_use]
    pub fn as_str(&self) -> Typed<&'a str> {
        match self.node().map(|n| &n.value) {
            None => Typed::Absent,
            Some(Value::String(text)) => Typed::Value(text.as_str()),
            Some(_) => Typed::Invalid,
        }
    }

    /// The field as an integer. A float with no fractional part counts, as JSON numbers do.
    #[must_use]
    pub fn as_i64(&self) -> Typed<i64> {
        match self.node().map(|n| &n.value) {
            None => Typed::Absent,
            Some(Value::Integer(value)) => Typed::Value(*value),
            #[allow(
                clippy::cast_possible_truncation,
                reason = "the value is whole and inside the i64 range, checked first"
            )]
            Some(Value::Float(value)) if value.fract() == 0.0 && value.abs() < 9.2e18 => {
                Typed::Value(*value as i64)
            }
            Some(_) => Typed::Invalid,
        }
    }

    /// The elements of a sequence field.
    #[must_use]
    pub fn items(&self) -> Typed<Vec<Field<'a>>> {
        match self.node().map(|n| &n.value) {
            None => Typed::Absent,
            Some(Value::Sequence(items)) => Typed::Value(
                items
                    .iter()
                    .enumerate()
                    .map(|(index, node)| Field {
                        node: Some(node),
                        path: format!("{}[{index}]", self.path),
                        location: node.location,
                    })
                    .collect(),
            ),
            Some(_) => Typed::Invalid,
        }
    }

    /// The keys and fields of a mapping field, in document order.
    #[must_use]
    pub fn entries(&self) -> Typed<Vec<(&'a str, Field<'a>)>> {
        match self.node().map(|n| &n.value) {
            None => Typed::Absent,
            Some(Value::Mapping(entries)) => Typed::Value(
                entries
                    .iter()
                    .map(|entry| {
                        let field = Field {
                            node: Some(&entry.value),
                            path: join_key(&self.path, &entry.key),
                            location: entry.key_location,
                        };
                        (entry.key.as_str(), field)
                    })
                    .collect(),
            ),
            Some(_) => Typed::Invalid,
        }
    }

    /// The strings of a sequence field, or `Invalid` when it is no sequence or contains a
    /// non-string.
    #[must_use]
    pub fn strings(&self) -> Typed<Vec<(&'a str, Field<'a>)>> {
        match self.items() {
            Typed::Absent => Typed::Absent,
            Typed::Invalid => Typed::Invalid,
            Typed::Value(items) => {
                let mut strings = Vec::with_capacity(items.len());
                for item in items {
                    match item.as_str() {
                        Typed::Value(text) => strings.push((text, item)),
                        Typed::Absent | Typed::Invalid => return Typed::Invalid,
                    }
                }
                Typed::Value(strings)
            }
        }
    }
}

/// Appends `key` to a field path, in brackets when it contains characters that would make the
/// path ambiguous (annotation and label keys).
pub(crate) fn join_key(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'));
    match (path.is_empty(), plain) {
        (true, true) => key.to_owned(),
        (false, true) => format!("{path}.{key}"),
        (_, false) => format!("{path}[{}]", serde_json::Value::from(key)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::yaml::parse_documents;

    fn doc(text: &str) -> Node {
        parse_documents(text).unwrap().remove(0)
    }

    #[test]
    fn missing_field_keeps_parent_location() {
        let node = doc("spec:\n  securityContext:\n    runAsUser: 1\n");
        let root = Field::root(&node, "");
        let field = root.at(&["spec", "securityContext", "runAsNonRoot"]);
        assert!(!field.is_present());
        assert_eq!(field.path(), "spec.securityContext.runAsNonRoot");
        assert_eq!(field.location().line, 2);
    }

    #[test]
    fn sequence_items_get_indexed_paths() {
        let node = doc("spec:\n  containers:\n  - name: a\n  - name: b\n");
        let items = Field::root(&node, "").at(&["spec", "containers"]).items();
        let Typed::Value(items) = items else {
            panic!("expected a sequence");
        };
        assert_eq!(items[1].get("name").path(), "spec.containers[1].name");
        assert_eq!(items[1].get("name").location().line, 4);
    }

    #[test]
    fn annotation_keys_are_quoted() {
        let node = doc("metadata:\n  annotations:\n    a.b/c: x\n");
        let field = Field::root(&node, "").at(&["metadata", "annotations", "a.b/c"]);
        assert_eq!(field.path(), "metadata.annotations[\"a.b/c\"]");
    }

    #[test]
    fn booleans_accept_yaml_1_1_spellings() {
        let node = doc("a: yes\nb: off\nc: 1\nd: null\n");
        let root = Field::root(&node, "");
        assert_eq!(root.get("a").as_bool(), Typed::Value(true));
        assert_eq!(root.get("b").as_bool(), Typed::Value(false));
        assert_eq!(root.get("c").as_bool(), Typed::Invalid);
        assert_eq!(root.get("d").as_bool(), Typed::Absent);
    }
}
