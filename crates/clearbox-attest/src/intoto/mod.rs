//! in-toto attestation statements (<https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md>):
//! the layer inside a DSSE envelope that binds a predicate to subjects by digest.
//!
//! ```json
//! {"_type":"https://in-toto.io/Statement/v1",
//!  "subject":[{"name":"registry.example/app","digest":{"sha256":"…"}}],
//!  "predicateType":"https://slsa.dev/provenance/v1","predicate":{…}}
//! ```
//!
//! New statements are v1. Reading accepts v1 and v0.1 (`https://in-toto.io/Statement/v0.1`),
//! which cosign 2.5 still writes and slsa-github-generator wrote. Unknown fields are ignored, as
//! the specification's parsing rules require. A v1 predicate must be a JSON object when present.
//! A v0.1 predicate may be any JSON value, because cosign's `--type spdx` stores the SPDX
//! tag-value document as a JSON string.
//!
//! Subject digests with the algorithms `sha256`, `sha384` and `sha512` must be lowercase hex of
//! the right length; other algorithms (`gitCommit`, `dirHash`, …) are kept unchecked.

mod predicate_type;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::debug;

pub use predicate_type::PredicateType;

use crate::Verified;
use crate::dsse::{self, DsseError, Envelope, Payload};
use crate::keys::SigningKey;

/// The DSSE payload type of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// `_type` of a v1 statement.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// `_type` of a v0.1 statement.
pub const STATEMENT_V0_1: &str = "https://in-toto.io/Statement/v0.1";

/// An error while building or reading a statement.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatementError {
    /// The statement is not JSON of the statement shape.
    #[error("invalid in-toto statement: {0}")]
    InvalidJson(#[source] serde_json::Error),
    /// `_type` names no supported statement version.
    #[error(
        "unsupported in-toto statement type `{found}`; expected `{STATEMENT_V1}` or `{STATEMENT_V0_1}`"
    )]
    UnknownStatementType {
        /// The `_type` found.
        found: String,
    },
    /// The DSSE payload type is not in-toto's.
    #[error("DSSE payload type `{found}` is not `{PAYLOAD_TYPE}`")]
    NotInToto {
        /// The payload type found.
        found: String,
    },
    /// `subject` is empty.
    #[error("the in-toto statement has no subjects")]
    NoSubjects,
    /// A subject is unusable.
    #[error("in-toto subject {index}: {reason}")]
    InvalidSubject {
        /// Position in `subject`, from 0.
        index: usize,
        /// The reason it is invalid.
        reason: String,
    },
    /// `predicateType` is empty.
    #[error("the in-toto statement has an empty `predicateType`")]
    MissingPredicateType,
    /// A v1 predicate is not a JSON object.
    #[error("the predicate of a v1 in-toto statement must be a JSON object, found {found}")]
    PredicateNotObject {
        /// The JSON type found.
        found: &'static str,
    },
    /// A `--type` value is neither a known name nor a URI.
    #[error(
        "predicate type `{value}` is neither a known name ({}) nor an absolute URI",
        PredicateType::cosign_names().join(", ")
    )]
    InvalidPredicateType {
        /// The value given.
        value: String,
    },
}

/// The statement format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementVersion {
    /// `https://in-toto.io/Statement/v1`.
    V1,
    /// `https://in-toto.io/Statement/v0.1`.
    V0_1,
}

impl StatementVersion {
    /// The `_type` URI.
    #[must_use]
    pub fn uri(self) -> &'static str {
        match self {
            StatementVersion::V1 => STATEMENT_V1,
            StatementVersion::V0_1 => STATEMENT_V0_1,
        }
    }
}

/// A software artifact the statement is about, identified by digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// A name for the artifact; empty when the producer left it unset.
    #[serde(default)]
    pub name: String,
    /// Digests by algorithm name, such as `sha256` → lowercase hex. Reading rejects an object
    /// that names an algorithm twice.
    #[serde(deserialize_with = "digest_set")]
    pub digest: BTreeMap<String, String>,
}

/// Reads a subject's `digest` object, rejecting a repeated algorithm. JSON parsers disagree on
/// which of two values for one key wins, so a statement with `"sha256"` twice could name one
/// artifact to this verifier and another to the next tool.
fn digest_set<'de, D>(deserializer: D) -> Result<BTreeMap<String, String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct DigestVisitor;

    impl<'de> serde::de::Visitor<'de> for DigestVisitor {
        type Value = BTreeMap<String, String>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object of digests by algorithm")
        }

        fn visit_map<A>(self, mut map: A) -> Result<Self::Value, A::Error>
        where
            A: serde::de::MapAccess<'de>,
        {
            let mut digests = BTreeMap::new();
            while let Some((algorithm, value)) = map.next_entry::<String, String>()? {
                if digests.contains_key(&algorithm) {
                    return Err(serde::de::Error::custom(format_args!(
                        "the subject digest names `{algorithm}` twice"
                    )));
                }
                digests.insert(algorithm, value);
            }
            Ok(digests)
        }
    }

    deserializer.deserialize_map(DigestVisitor)
}

impl Subject {
    /// A subject named `name` with the SHA-256 digest `sha256:<hex>` (or bare `<hex>`).
    #[must_use]
    pub fn sha256(name: impl Into<String>, digest: &str) -> Self {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        Subject {
            name: name.into(),
            digest: BTreeMap::from([("sha256".to_owned(), hex.to_owned())]),
        }
    }
}

/// An in-toto statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    version: StatementVersion,
    subjects: Vec<Subject>,
    predicate_type: String,
    predicate: Value,
}

#[derive(Serialize, Deserialize)]
struct Wire {
    #[serde(rename = "_type")]
    statement_type: String,
    subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    predicate_type: String,
    #[serde(default, skip_serializing_if = "Value::is_null")]
    predicate: Value,
}

impl Statement {
    /// A v1 statement about `subjects`. `predicate` must be a JSON object, or `Value::Null` for
    /// none.
    pub fn new(
        subjects: Vec<Subject>,
        predicate_type: &PredicateType,
        predicate: Value,
    ) -> Result<Self, StatementError> {
        let statement = Statement {
            version: StatementVersion::V1,
            subjects,
            predicate_type: predicate_type.uri().to_owned(),
            predicate,
        };
        statement.validate()?;
        Ok(statement)
    }

    /// Parses a v1 or v0.1 statement. The result is not verified; use
    /// [`Statement::from_verified`] for statements from a DSSE envelope.
    pub fn from_json(bytes: &[u8]) -> Result<Self, StatementError> {
        let wire: Wire = serde_json::from_slice(bytes).map_err(StatementError::InvalidJson)?;
        let version = match wire.statement_type.as_str() {
            STATEMENT_V1 => StatementVersion::V1,
            STATEMENT_V0_1 => StatementVersion::V0_1,
            _ => {
                return Err(StatementError::UnknownStatementType {
                    found: wire.statement_type,
                });
            }
        };
        let statement = Statement {
            version,
            subjects: wire.subject,
            predicate_type: wire.predicate_type,
            predicate: wire.predicate,
        };
        statement.validate()?;
        Ok(statement)
    }

    /// Parses the statement in a verified DSSE payload, keeping the proof. Checks that the
    /// payload type is `application/vnd.in-toto+json` first.
    pub fn from_verified(
        payload: Verified<Payload>,
    ) -> Result<Verified<Statement>, StatementError> {
        payload.try_map(|payload| {
            if payload.payload_type() != PAYLOAD_TYPE {
                return Err(StatementError::NotInToto {
                    found: payload.payload_type().to_owned(),
                });
            }
            let statement = Statement::from_json(payload.body())?;
            debug!(predicate_type = %statement.predicate_type, "in-toto statement parsed");
            Ok(statement)
        })
    }

    /// The compact JSON encoding, fields in the specification's order.
    #[must_use]
    pub fn to_json(&self) -> Vec<u8> {
        let wire = Wire {
            statement_type: self.version.uri().to_owned(),
            subject: self.subjects.clone(),
            predicate_type: self.predicate_type.clone(),
            predicate: self.predicate.clone(),
        };
        // Serialising strings and JSON values into memory cannot fail.
        serde_json::to_vec(&wire)
            .unwrap_or_else(|error| unreachable!("statement serialisation failed: {error}"))
    }

    /// Signs the statement into a DSSE envelope with payload type `application/vnd.in-toto+json`.
    pub fn sign(&self, key: &SigningKey) -> Result<Envelope, DsseError> {
        dsse::sign(PAYLOAD_TYPE, &self.to_json(), key)
    }

    /// The statement format version.
    #[must_use]
    pub fn version(&self) -> StatementVersion {
        self.version
    }

    /// The subjects.
    #[must_use]
    pub fn subjects(&self) -> &[Subject] {
        &self.subjects
    }

    /// The predicate type URI, as written in the statement.
    #[must_use]
    pub fn predicate_type(&self) -> &str {
        &self.predicate_type
    }

    /// The predicate; `Value::Null` when absent.
    #[must_use]
    pub fn predicate(&self) -> &Value {
        &self.predicate
    }

    /// The first subject whose `sha256` digest is `digest` (`sha256:<hex>` or bare hex).
    #[must_use]
    pub fn subject_with_sha256(&self, digest: &str) -> Option<&Subject> {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        self.subjects.iter().find(|subject| {
            subject
                .digest
                .get("sha256")
                .is_some_and(|value| value == hex)
        })
    }

    fn validate(&self) -> Result<(), StatementError> {
        if self.subjects.is_empty() {
            return Err(StatementError::NoSubjects);
        }
        for (index, subject) in self.subjects.iter().enumerate() {
            check_subject(subject)
                .map_err(|reason| StatementError::InvalidSubject { index, reason })?;
        }
        if self.predicate_type.is_empty() {
            return Err(StatementError::MissingPredicateType);
        }
        if self.version == StatementVersion::V1
            && !self.predicate.is_object()
            && !self.predicate.is_null()
        {
            return Err(StatementError::PredicateNotObject {
                found: json_type(&self.predicate),
            });
        }
        Ok(())
    }
}

fn check_subject(subject: &Subject) -> Result<(), String> {
    if subject.digest.is_empty() {
        return Err("`digest` is empty; every subject needs at least one digest".to_owned());
    }
    for (algorithm, value) in &subject.digest {
        let hex_len = match algorithm.as_str() {
            "sha256" => 64,
            "sha384" => 96,
            "sha512" => 128,
            _ => {
                if value.is_empty() {
                    return Err(format!("the `{algorithm}` digest is empty"));
                }
                continue;
            }
        };
        if value.len() != hex_len
            || !value
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(format!(
                "the `{algorithm}` digest `{value}` is not {hex_len} lowercase hexadecimal digits"
            ));
        }
    }
    Ok(())
}

fn json_type(value: &Value) -> &'static str {
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
    use super::*;
    use serde_json::json;

    const HEX: &str = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

    fn statement_json(statement_type: &str, subject: &Value, predicate: &Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "_type": statement_type,
            "subject": subject,
            "predicateType": "https://example.com/p/v1",
            "predicate": predicate,
        }))
        .unwrap()
    }

    fn subject() -> Value {
        json!([{"name": "blob", "digest": {"sha256": HEX}}])
    }

    #[test]
    fn new_statement_json() {
        let statement = Statement::new(
            vec![Subject::sha256("blob", &format!("sha256:{HEX}"))],
            &PredicateType::SlsaProvenanceV1,
            json!({"buildDefinition": {}}),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(statement.to_json()).unwrap(),
            format!(
                r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"blob","digest":{{"sha256":"{HEX}"}}}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{{"buildDefinition":{{}}}}}}"#
            )
        );
    }

    #[test]
    fn absent_predicate_omitted() {
        let statement = Statement::new(
            vec![Subject::sha256("b", HEX)],
            &PredicateType::OpenVex,
            Value::Null,
        )
        .unwrap();
        let text = String::from_utf8(statement.to_json()).unwrap();
        assert!(!text.contains("predicate\""), "{text}");
        assert_eq!(Statement::from_json(text.as_bytes()).unwrap(), statement);
    }

    #[test]
    fn v0_1_string_predicate_accepted() {
        let text = statement_json(STATEMENT_V0_1, &subject(), &json!("SPDXVersion: SPDX-2.3"));
        let statement = Statement::from_json(&text).unwrap();
        assert_eq!(statement.version(), StatementVersion::V0_1);
        assert_eq!(statement.predicate(), &json!("SPDXVersion: SPDX-2.3"));
    }

    #[test]
    fn v1_string_predicate_rejected() {
        let text = statement_json(STATEMENT_V1, &subject(), &json!("text"));
        let error = Statement::from_json(&text).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the predicate of a v1 in-toto statement must be a JSON object, found a string"
        );
    }

    #[test]
    fn unknown_statement_type_rejected() {
        let text = statement_json("https://in-toto.io/Statement/v2", &subject(), &json!({}));
        assert!(matches!(
            Statement::from_json(&text).unwrap_err(),
            StatementError::UnknownStatementType { .. }
        ));
    }

    #[test]
    fn empty_subjects_rejected() {
        let text = statement_json(STATEMENT_V1, &json!([]), &json!({}));
        assert!(matches!(
            Statement::from_json(&text).unwrap_err(),
            StatementError::NoSubjects
        ));
    }

    #[test]
    fn subject_digest_checks() {
        for (digest, reason) in [
            (
                json!({}),
                "`digest` is empty; every subject needs at least one digest",
            ),
            (
                json!({"sha256": "ABC"}),
                "the `sha256` digest `ABC` is not 64 lowercase hexadecimal digits",
            ),
            (json!({"gitCommit": ""}), "the `gitCommit` digest is empty"),
        ] {
            let text = statement_json(
                STATEMENT_V1,
                &json!([{"name": "x", "digest": digest}]),
                &json!({}),
            );
            match Statement::from_json(&text).unwrap_err() {
                StatementError::InvalidSubject {
                    index: 0,
                    reason: found,
                } => assert_eq!(found, reason),
                other => panic!("expected InvalidSubject, got {other:?}"),
            }
        }
    }

    #[test]
    fn other_digest_algorithms_kept() {
        let subject = json!([{"digest": {"gitCommit": "abc123", "sha256": HEX}}]);
        let statement =
            Statement::from_json(&statement_json(STATEMENT_V1, &subject, &json!({}))).unwrap();
        assert_eq!(statement.subjects()[0].name, "");
        assert!(
            statement
                .subject_with_sha256(&format!("sha256:{HEX}"))
                .is_some()
        );
        assert!(statement.subject_with_sha256("sha256:00").is_none());
    }

    #[test]
    fn empty_predicate_type_rejected() {
        let text = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"}}],"predicateType":""}"#;
        assert!(matches!(
            Statement::from_json(text).unwrap_err(),
            StatementError::MissingPredicateType
        ));
    }

    #[test]
    fn missing_subject_field_rejected() {
        let error = Statement::from_json(
            br#"{"_type":"https://in-toto.io/Statement/v1","predicateType":"x"}"#,
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("missing field `subject`"),
            "{error}"
        );
    }
}
