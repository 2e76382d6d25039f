//! The canonical JSON form of a Kubernetes object, which a manifest signature covers.
//!
//! Documents are read as Kubernetes reads manifests ([`super::compose`]): `sigs.k8s.io/yaml`
//! parses with go-yaml v2, whose resolver reads unquoted `y`, `yes`, `on`, `n`, `no` and `off` as
//! booleans, `0755` as octal and `0X1F` as hex. A quoted scalar is always a string. So a
//! reformatting tool that quotes `'yes'` keeps a string a string, and one that writes `true` for
//! an unquoted `on` keeps a boolean a boolean. Unquoting a signed string that Kubernetes would
//! read as a number changes the canonical form.
//!
//! The canonical form is compact JSON with the keys of every object sorted by their UTF-8 bytes
//! and strings escaped as `serde_json` escapes them. Integers are written as integers and other
//! numbers in `serde_json`'s shortest round-trip form, so `3` and `3.0` differ. This is close to,
//! but not, RFC 8785: RFC 8785 sorts keys by UTF-16 code units and writes every number in the
//! ECMAScript form.

use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use super::compose::{ReadError, read_documents};

/// Fields that the API server sets or changes when it stores an object, removed before the
/// object is canonicalised, so that an object read back from a cluster still verifies.
pub const SERVER_FIELDS: &[&[&str]] = &[
    &["status"],
    &["metadata", "managedFields"],
    &["metadata", "resourceVersion"],
    &["metadata", "uid"],
    &["metadata", "creationTimestamp"],
    &["metadata", "generation"],
    &["metadata", "selfLink"],
    &["metadata", "deletionTimestamp"],
    &["metadata", "deletionGracePeriodSeconds"],
];

/// Annotations that clients and the API server write, removed like [`SERVER_FIELDS`].
/// `kubectl apply` stores the whole applied object, signature included, in the first.
pub const CLIENT_ANNOTATIONS: &[&str] = &["kubectl.kubernetes.io/last-applied-configuration"];

/// Parses every document of a YAML stream (or one JSON document) into JSON values as
/// Kubernetes reads them. Empty documents are left out, as [`super::super::yaml`] leaves them
/// out, so that both parses of one text list the same documents.
pub(crate) fn parse_values(text: &str) -> Result<Vec<Value>, ReadError> {
    read_documents(text)
}

/// Removes [`SERVER_FIELDS`], [`CLIENT_ANNOTATIONS`] and the annotation `signature_key` from
/// an object, then `metadata.annotations` and `metadata` when nothing is left in them, because
/// Kubernetes treats an empty map and a missing one alike. So an object signed without
/// `metadata` verifies after signing added `metadata.annotations` to it.
#[must_use]
pub fn strip(object: &Value, signature_key: &str) -> Value {
    let mut object = object.clone();
    for path in SERVER_FIELDS {
        remove_path(&mut object, path);
    }
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut)
        && let Some(annotations) = metadata
            .get_mut("annotations")
            .and_then(Value::as_object_mut)
    {
        annotations.remove(signature_key);
        for key in CLIENT_ANNOTATIONS {
            annotations.remove(*key);
        }
        if annotations.is_empty() {
            metadata.remove("annotations");
        }
    }
    if let Some(map) = object.as_object_mut()
        && map
            .get("metadata")
            .and_then(Value::as_object)
            .is_some_and(Map::is_empty)
    {
        map.remove("metadata");
    }
    object
}

fn remove_path(value: &mut Value, path: &[&str]) {
    match path {
        [] => {}
        [last] => {
            if let Some(map) = value.as_object_mut() {
                map.remove(*last);
            }
        }
        [first, rest @ ..] => {
            if let Some(child) = value.get_mut(*first) {
                remove_path(child, rest);
            }
        }
    }
}

/// Serialises a value as canonical JSON.
#[must_use]
pub fn to_canonical_json(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable();
            out.push(b'{');
            for (index, key) in keys.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_scalar(&Value::String((*key).clone()), out);
                out.push(b':');
                write_canonical(&map[key.as_str()], out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => write_scalar(scalar, out),
    }
}

fn write_scalar(value: &Value, out: &mut Vec<u8>) {
    // Writing a scalar into memory cannot fail.
    serde_json::to_writer(&mut *out, value)
        .unwrap_or_else(|error| unreachable!("JSON scalar serialisation failed: {error}"));
}

/// Copies `value` with the keys of every object in canonical order, so that serialising the copy
/// gives the same text whatever order the keys were read in.
#[must_use]
pub fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable();
            Value::Object(
                keys.into_iter()
                    .map(|key| (key.clone(), sorted(&map[key.as_str()])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        scalar => scalar.clone(),
    }
}

/// `sha256:<hex>` of the canonical JSON bytes of `value`.
#[must_use]
pub fn digest(value: &Value) -> String {
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(to_canonical_json(value)))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Value {
        parse_values(text).unwrap().remove(0)
    }

    fn canonical(text: &str) -> String {
        String::from_utf8(to_canonical_json(&one(text))).unwrap()
    }

    #[test]
    fn keys_sorted_and_compact() {
        assert_eq!(
            canonical("b: 1\na: {d: [1, x], c: null}\n"),
            r#"{"a":{"c":null,"d":[1,"x"]},"b":1}"#
        );
    }

    #[test]
    fn flow_and_block_styles_agree() {
        assert_eq!(
            canonical("a:\n  - 1\n  - 'two'\nb: {c: d}\n"),
            canonical("{\"b\": {\"c\": \"d\"}, \"a\": [1, \"two\"]}")
        );
    }

    #[test]
    fn yaml_1_1_scalars() {
        assert_eq!(
            canonical("a: yes\nb: 'yes'\nc: Off\nd: 0755\n"),
            r#"{"a":true,"b":"yes","c":false,"d":493}"#
        );
    }

    #[test]
    fn integers_and_floats_differ() {
        assert_ne!(canonical("a: 3\n"), canonical("a: 3.0\n"));
    }

    #[test]
    fn numeric_keys_become_text() {
        assert_eq!(canonical("1: x\ntrue: z\n"), r#"{"1":"x","true":"z"}"#);
    }

    #[test]
    fn strip_removes_server_fields_and_signature() {
        let object = one(
            "kind: Pod\nstatus: {phase: Running}\nmetadata:\n  name: p\n  uid: u\n  \
             resourceVersion: '5'\n  annotations:\n    sig: x\n    \
             kubectl.kubernetes.io/last-applied-configuration: '{}'\n",
        );
        let stripped = strip(&object, "sig");
        assert_eq!(
            String::from_utf8(to_canonical_json(&stripped)).unwrap(),
            r#"{"kind":"Pod","metadata":{"name":"p"}}"#
        );
    }

    #[test]
    fn strip_removes_metadata_left_empty() {
        let object = one("kind: A\nmetadata:\n  annotations:\n    sig: x\n");
        assert_eq!(
            String::from_utf8(to_canonical_json(&strip(&object, "sig"))).unwrap(),
            r#"{"kind":"A"}"#
        );
    }

    #[test]
    fn strip_keeps_other_annotations() {
        let object = one("metadata:\n  annotations:\n    sig: x\n    team: a\n");
        let stripped = strip(&object, "sig");
        assert_eq!(stripped["metadata"]["annotations"]["team"], "a");
        assert!(stripped["metadata"]["annotations"].get("sig").is_none());
    }

    #[test]
    fn infinite_number_rejected() {
        let error = parse_values("a: .inf\n").unwrap_err().to_string();
        assert!(error.contains("`.inf`"), "{error}");
    }
}
