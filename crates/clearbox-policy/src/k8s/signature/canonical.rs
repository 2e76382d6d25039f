//! The canonical JSON form of a Kubernetes object, which a manifest signature covers.
//!
//! Documents are read with the scalar rules of YAML 1.1, as Kubernetes reads manifests:
//! `YAMLToJSON` of `sigs.k8s.io/yaml` parses with go-yaml v2, whose resolver (`resolve.go`)
//! reads unquoted `y`, `yes`, `on`, `n`, `no` and `off` as booleans and `0755` as octal. A quoted
//! scalar is always a string. So a reformatting tool that quotes `'yes'` keeps a string a string,
//! and one that writes `true` for an unquoted `on` keeps a boolean a boolean.
//!
//! NOTE: serde-saphyr also reads other capitalisations (`yEs`) as booleans, which go-yaml v2
//! reads as strings.
//!
//! The canonical form is compact JSON with the keys of every object sorted by their UTF-8 bytes
//! and strings escaped as `serde_json` escapes them. Integers are written as integers and other
//! numbers in `serde_json`'s shortest round-trip form, so `3` and `3.0` differ. This is close to,
//! but not, RFC 8785: RFC 8785 sorts keys by UTF-16 code units and writes every number in the
//! ECMAScript form.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

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

/// Parses every document of a YAML stream (or one JSON document) into JSON values, with the
/// scalar rules of YAML 1.1. Empty documents are left out, as [`super::super::yaml`] leaves them
/// out, so that both parses of one text list the same documents.
pub(crate) fn parse_values(text: &str) -> Result<Vec<Value>, String> {
    let options = serde_saphyr::options! {
        strict_booleans: false,
        legacy_octal_numbers: true,
        with_snippet: false,
    };
    let documents: Vec<JsonValue> =
        serde_saphyr::from_multiple_with_options(text, options).map_err(|e| e.to_string())?;
    Ok(documents.into_iter().map(|d| d.0).collect())
}

/// Removes [`SERVER_FIELDS`], [`CLIENT_ANNOTATIONS`] and the annotation `signature_key` from
/// an object, and `metadata.annotations` when nothing is left in it, because Kubernetes treats an
/// empty map and a missing one alike.
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

/// A JSON value read from YAML with mapping keys converted to text, as the Kubernetes YAML to
/// JSON conversion converts them.
struct JsonValue(Value);

impl<'de> Deserialize<'de> for JsonValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor).map(JsonValue)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
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
        deserializer.deserialize_any(JsonVisitor)
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(value)
            .map(Value::Number)
            .ok_or_else(|| {
                E::custom(format!(
                    "the number {value} has no JSON form; quote it if it is meant as a string"
                ))
            })
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(JsonValue(item)) = access.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(JsonValue(key)) = access.next_key()? {
            let key = match key {
                Value::String(text) => text,
                Value::Null => "null".to_owned(),
                Value::Bool(_) | Value::Number(_) => key.to_string(),
                Value::Array(_) | Value::Object(_) => {
                    return Err(de::Error::custom("a mapping key must be a scalar"));
                }
            };
            let JsonValue(value) = access.next_value()?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
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
    fn strip_keeps_other_annotations() {
        let object = one("metadata:\n  annotations:\n    sig: x\n    team: a\n");
        let stripped = strip(&object, "sig");
        assert_eq!(stripped["metadata"]["annotations"]["team"], "a");
        assert!(stripped["metadata"]["annotations"].get("sig").is_none());
    }

    #[test]
    fn infinite_number_rejected() {
        let error = parse_values("a: .inf\n").unwrap_err();
        assert!(error.contains(".inf"), "{error}");
    }
}
