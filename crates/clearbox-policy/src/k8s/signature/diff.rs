//! The fields in which two JSON objects differ, named by field path
//! (`spec.template.spec.containers[0].image`) as the Kubernetes checks name them.

use serde_json::Value;

use crate::k8s::field::join_key;

/// One difference between the signed object and the object in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The field path, such as `spec.replicas`; empty for the whole object.
    pub path: String,
    /// The kind of change.
    pub kind: ChangeKind,
}

/// The kind of change to a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// The field is in the file but was not signed.
    Added,
    /// The field was signed but is missing from the file.
    Removed,
    /// The field has another value.
    Changed,
}

impl ChangeKind {
    /// `added`, `removed` or `changed`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        }
    }
}

/// Lists the differences between `signed` and `current`: object keys in sorted order, array
/// items by index, and a value of another type (or another scalar) as one change at its path.
#[must_use]
pub fn changes(signed: &Value, current: &Value) -> Vec<Change> {
    let mut found = Vec::new();
    compare("", signed, current, &mut found);
    found
}

fn compare(path: &str, signed: &Value, current: &Value, found: &mut Vec<Change>) {
    match (signed, current) {
        (Value::Object(before), Value::Object(after)) => {
            let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
            keys.sort_unstable();
            keys.dedup();
            for key in keys {
                let child = join_key(path, key);
                match (before.get(key.as_str()), after.get(key.as_str())) {
                    (Some(b), Some(a)) => compare(&child, b, a, found),
                    (Some(_), None) => found.push(change(child, ChangeKind::Removed)),
                    (None, Some(_)) => found.push(change(child, ChangeKind::Added)),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(before), Value::Array(after)) => {
            for index in 0..before.len().max(after.len()) {
                let child = format!("{path}[{index}]");
                match (before.get(index), after.get(index)) {
                    (Some(b), Some(a)) => compare(&child, b, a, found),
                    (Some(_), None) => found.push(change(child, ChangeKind::Removed)),
                    (None, Some(_)) => found.push(change(child, ChangeKind::Added)),
                    (None, None) => {}
                }
            }
        }
        (before, after) if before != after => {
            found.push(change(path.to_owned(), ChangeKind::Changed));
        }
        _ => {}
    }
}

fn change(path: String, kind: ChangeKind) -> Change {
    Change { path, kind }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn paths(signed: &Value, current: &Value) -> Vec<(String, ChangeKind)> {
        changes(signed, current)
            .into_iter()
            .map(|c| (c.path, c.kind))
            .collect()
    }

    #[test]
    fn equal_objects_have_no_changes() {
        let object = json!({"a": [1, {"b": 2}]});
        assert!(changes(&object, &object).is_empty());
    }

    #[test]
    fn nested_value_changed() {
        let signed = json!({"spec": {"containers": [{"image": "a:1"}]}});
        let current = json!({"spec": {"containers": [{"image": "a:2"}]}});
        assert_eq!(
            paths(&signed, &current),
            [("spec.containers[0].image".to_owned(), ChangeKind::Changed)]
        );
    }

    #[test]
    fn array_item_added() {
        let signed = json!({"c": [{"name": "a"}]});
        let current = json!({"c": [{"name": "a"}, {"name": "b"}]});
        assert_eq!(
            paths(&signed, &current),
            [("c[1]".to_owned(), ChangeKind::Added)]
        );
    }

    #[test]
    fn keys_reported_in_sorted_order() {
        let signed = json!({"b": 1, "a": 1});
        let current = json!({"c": 1});
        assert_eq!(
            paths(&signed, &current),
            [
                ("a".to_owned(), ChangeKind::Removed),
                ("b".to_owned(), ChangeKind::Removed),
                ("c".to_owned(), ChangeKind::Added),
            ]
        );
    }

    #[test]
    fn annotation_keys_bracketed() {
        let signed = json!({"metadata": {"annotations": {"a.b/c": "x"}}});
        let current = json!({"metadata": {"annotations": {"a.b/c": "y"}}});
        assert_eq!(
            changes(&signed, &current)[0].path,
            "metadata.annotations[\"a.b/c\"]"
        );
    }
}
