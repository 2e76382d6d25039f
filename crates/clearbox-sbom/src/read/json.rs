//! JSON access that remembers where it is, so that every error names the failing field as a
//! path such as `packages[3].externalRefs[0].referenceLocator`.
//!
//! Optional fields that are `null` count as missing: some tools write `null` for "unknown".

use serde_json::Value;

use crate::SbomError;

/// A JSON value and its path from the document root.
#[derive(Debug, Clone)]
pub(super) struct Node<'a> {
    value: &'a Value,
    path: String,
}

impl<'a> Node<'a> {
    /// Wraps the document root, whose path is empty.
    pub(super) fn root(value: &'a Value) -> Node<'a> {
        Node {
            value,
            path: String::new(),
        }
    }

    /// Returns the path of this value, such as `components[2].purl`.
    pub(super) fn path(&self) -> &str {
        &self.path
    }

    /// Builds an [`SbomError::InvalidField`] for this value.
    pub(super) fn invalid(&self, reason: impl Into<String>) -> SbomError {
        SbomError::InvalidField {
            field: self.path.clone(),
            reason: reason.into(),
        }
    }

    fn child_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// Returns the member `key` of this object, or `None` when this is not an object or the
    /// member is missing or `null`.
    pub(super) fn get(&self, key: &str) -> Option<Node<'a>> {
        let value = self.value.as_object()?.get(key)?;
        (!value.is_null()).then(|| Node {
            value,
            path: self.child_path(key),
        })
    }

    /// Checks that this value is an object.
    pub(super) fn expect_object(&self) -> Result<(), SbomError> {
        if self.value.is_object() {
            Ok(())
        } else {
            Err(self.wrong_type("an object"))
        }
    }

    /// Returns this value as a string.
    pub(super) fn as_str(&self) -> Result<&'a str, SbomError> {
        self.value
            .as_str()
            .ok_or_else(|| self.wrong_type("a string"))
    }

    /// Returns this array's elements, or an error when this is not an array.
    pub(super) fn elements(&self) -> Result<Vec<Node<'a>>, SbomError> {
        let items = self
            .value
            .as_array()
            .ok_or_else(|| self.wrong_type("an array"))?;
        Ok(items
            .iter()
            .enumerate()
            .map(|(i, value)| Node {
                value,
                path: format!("{}[{i}]", self.path),
            })
            .collect())
    }

    /// Returns the string member `key`, or `None` when it is missing.
    pub(super) fn opt_str(&self, key: &str) -> Result<Option<&'a str>, SbomError> {
        self.get(key).map(|n| n.as_str()).transpose()
    }

    /// Returns the string member `key`, which must be present.
    pub(super) fn req_str(&self, key: &str) -> Result<&'a str, SbomError> {
        self.required(key)?.as_str()
    }

    /// Returns the member `key`, which must be present and not `null`.
    pub(super) fn required(&self, key: &str) -> Result<Node<'a>, SbomError> {
        self.get(key).ok_or_else(|| SbomError::InvalidField {
            field: self.child_path(key),
            reason: "required field is missing".to_owned(),
        })
    }

    /// Returns the elements of the array member `key`, or none when it is missing.
    pub(super) fn opt_array(&self, key: &str) -> Result<Vec<Node<'a>>, SbomError> {
        self.get(key)
            .map_or_else(|| Ok(Vec::new()), |n| n.elements())
    }

    /// Returns the elements of the array member `key` after checking that each is an object.
    pub(super) fn opt_objects(&self, key: &str) -> Result<Vec<Node<'a>>, SbomError> {
        let nodes = self.opt_array(key)?;
        for node in &nodes {
            node.expect_object()?;
        }
        Ok(nodes)
    }

    fn wrong_type(&self, expected: &str) -> SbomError {
        self.invalid(format!(
            "expected {expected}, found {}",
            describe(self.value)
        ))
    }
}

/// Names the JSON type of a value with its article, for messages.
pub(super) fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn paths_name_fields() {
        let value = json!({"packages": [{"name": 1}]});
        let root = Node::root(&value);
        let package = &root.opt_array("packages").unwrap()[0];
        assert_eq!(package.path(), "packages[0]");
        let err = package.req_str("name").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid SBOM field `packages[0].name`: expected a string, found a number"
        );
        let err = package.req_str("SPDXID").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid SBOM field `packages[0].SPDXID`: required field is missing"
        );
    }

    #[test]
    fn null_is_missing() {
        let value = json!({"a": null});
        let root = Node::root(&value);
        assert_eq!(root.opt_str("a").unwrap(), None);
        assert!(root.opt_array("a").unwrap().is_empty());
    }

    #[test]
    fn objects_checked() {
        let value = json!({"components": ["x"]});
        let err = Node::root(&value).opt_objects("components").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid SBOM field `components[0]`: expected an object, found a string"
        );
    }
}
