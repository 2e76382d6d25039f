//! Signatures on Kubernetes manifests: each object carries a DSSE envelope in the annotation
//! [`ANNOTATION`], signed over the canonical JSON form of the object without that annotation.
//!
//! Signing reads a manifest file, signs every object (each item of a `List`, not the list
//! itself), and writes each envelope into its object's annotations without changing the rest of
//! the text ([`edit`]). Verifying checks every object against a public key and names the first
//! field that differs from what was signed ([`diff`]).
//!
//! The payload ([`SignedPayload`]) contains the object's canonical form ([`canonical`]), its SHA-256
//! digest and the signer's claims (such as `approver` and `ticket`). Carrying the whole object
//! costs annotation space (Kubernetes allows 256 KiB of annotations per object), and buys a
//! verifier the ability to name the changed field instead of only reporting a mismatch.
//!
//! # Supported
//! - YAML streams with several documents, JSON files, `List` objects (each item is signed).
//! - Reformatting that keeps the meaning: key order, indentation, block or flow style,
//!   comments, quoting, and the fields in [`canonical::SERVER_FIELDS`] and
//!   [`canonical::CLIENT_ANNOTATIONS`].
//! - Keys in files and on PKCS#11 tokens, as `clearbox sign` takes them.
//!
//! # Not yet
//! - Objects as a validating admission webhook receives them: the API server has filled in
//!   defaults (`dnsPolicy`, `terminationMessagePath`, ...) by then, which change the canonical
//!   form. Verify the files that are applied, before they are applied.
//! - Replacing a signature inside a flow mapping (`annotations: {...}`); remove it and sign
//!   again.

pub mod canonical;
pub mod compose;
pub mod diff;
mod edit;
mod resolve;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use clearbox_attest::dsse::{self, DsseError, Envelope};
use clearbox_attest::{PublicKey, SigningKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::manifest::{K8sError, parse_manifest};
use super::workload::ResourceRef;
use super::yaml::{self, Node};
pub use compose::{MAX_NODES, ReadError};
pub use diff::{Change, ChangeKind};
use edit::{LineIndex, apply, set_annotation};

/// The annotation that contains an object's signature envelope.
pub const ANNOTATION: &str = "signature.clearbox.dev/dsse";
/// The DSSE payload type of a manifest signature.
pub const PAYLOAD_TYPE: &str = "application/vnd.clearbox.signed-manifest.v1+json";
/// The `_type` of the payload.
pub const PAYLOAD_SCHEMA: &str = "https://clearbox.dev/signed-manifest/v1";
/// Kubernetes' limit on the total size of an object's annotation keys and values, in bytes.
pub const MAX_ANNOTATIONS_BYTES: usize = 256 << 10;

/// An error that stops a manifest from being signed or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The file is not valid YAML or JSON.
    #[error(transparent)]
    Manifest(#[from] K8sError),
    /// The file is valid YAML, but a value has no JSON form.
    #[error("invalid manifest `{}`: {message}", path.display())]
    NoJsonForm {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// The file is valid YAML, but part of it has no meaning to Kubernetes that can be signed:
    /// a tag, a plain scalar that YAML readers disagree on, an unusable key.
    #[error("`{}` line {}: {reason}", path.display(), reason.line())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The part that cannot be read, and the change to make.
        reason: ReadError,
    },
    /// The file uses a YAML feature whose meaning parsers disagree on.
    #[error(
        "`{}` line {line} has a `<<` merge key, which signed manifests do not accept: YAML \
         parsers disagree on whether a merged value or a field written beside it wins, so \
         what was signed may not be what the API server applies; write the fields out",
        path.display()
    )]
    MergeKey {
        /// The file.
        path: PathBuf,
        /// The line of the merge key.
        line: usize,
    },
    /// The file has no Kubernetes object.
    #[error("`{}` has no Kubernetes object (a mapping with `kind`)", path.display())]
    NoObjects {
        /// The file.
        path: PathBuf,
    },
    /// A document is not a Kubernetes object.
    #[error(
        "the document at `{}` line {line} is not a Kubernetes object (no `kind`); remove it or \
         move it to another file", path.display()
    )]
    NotAnObject {
        /// The file.
        path: PathBuf,
        /// The first line of the document.
        line: u32,
    },
    /// The annotation cannot be written into an object.
    #[error("cannot add the signature to {resource} at `{}` line {line}: {reason}", path.display())]
    CannotAnnotate {
        /// The file.
        path: PathBuf,
        /// `kind/namespace/name`.
        resource: String,
        /// The first line of the object.
        line: u32,
        /// The reason.
        reason: String,
    },
    /// The annotations would exceed what Kubernetes accepts.
    #[error(
        "the signature of {resource} would bring its annotations to {size} bytes, over \
         Kubernetes' limit of {MAX_ANNOTATIONS_BYTES}; the signature carries the whole object, \
         so move large data (such as ConfigMap contents) to an object that is not signed"
    )]
    AnnotationsTooLarge {
        /// `kind/namespace/name`.
        resource: String,
        /// The total annotation size with the signature.
        size: usize,
    },
    /// Signing failed.
    #[error("failed to sign {resource}")]
    Sign {
        /// `kind/namespace/name`.
        resource: String,
        /// The signing error.
        #[source]
        source: DsseError,
    },
    /// The signed text did not verify; the annotation was written in the wrong place.
    #[error("the signed text of {resource} does not verify ({reason}); the file was not written")]
    SelfCheck {
        /// `kind/namespace/name`.
        resource: String,
        /// The verification result.
        reason: String,
    },
}

/// The signed statement about one object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedPayload {
    /// [`PAYLOAD_SCHEMA`].
    #[serde(rename = "_type")]
    pub schema: String,
    /// The object's identity, for people reading the payload.
    pub object: ObjectName,
    /// `{"sha256": "<hex>"}` of the canonical form.
    pub digest: BTreeMap<String, String>,
    /// The signer's claims, such as `approver` and `ticket`.
    pub claims: BTreeMap<String, String>,
    /// The canonical form of the object that was signed.
    pub canonical: Value,
}

/// The identity fields of an object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectName {
    /// `apiVersion`.
    pub api_version: Option<String>,
    /// `kind`.
    pub kind: String,
    /// `metadata.namespace`.
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: Option<String>,
}

/// A manifest with every object signed.
#[derive(Debug, Clone)]
pub struct SignedManifest {
    /// The new text of the file.
    pub text: String,
    /// The objects signed, in file order, with their lines in the new text.
    pub objects: Vec<ResourceRef>,
}

/// The verification result of one object.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectVerdict {
    /// The object.
    pub resource: ResourceRef,
    /// The verification outcome.
    pub outcome: VerifyOutcome,
}

/// The verification outcome of one object.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum VerifyOutcome {
    /// The signature verified and the object is what was signed.
    Verified {
        /// The signed claims.
        claims: BTreeMap<String, String>,
        /// `sha256:<hex>` of the canonical form.
        digest: String,
    },
    /// The object has no signature annotation.
    Unsigned,
    /// The document is not a Kubernetes object.
    NotAnObject,
    /// The signature is malformed or does not verify with the key.
    Invalid {
        /// The reason.
        reason: String,
    },
    /// The signature verified, but the object differs from what was signed.
    Changed {
        /// Every difference, in canonical key order; never empty.
        changes: Vec<Change>,
    },
}

impl VerifyOutcome {
    /// True for [`VerifyOutcome::Verified`].
    #[must_use]
    pub fn is_verified(&self) -> bool {
        matches!(self, VerifyOutcome::Verified { .. })
    }
}

impl fmt::Display for VerifyOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyOutcome::Verified { digest, .. } => write!(f, "verified as {digest}"),
            VerifyOutcome::Unsigned => write!(f, "unsigned (no `{ANNOTATION}` annotation)"),
            VerifyOutcome::NotAnObject => f.write_str("not a Kubernetes object (no `kind`)"),
            VerifyOutcome::Invalid { reason } => f.write_str(reason),
            VerifyOutcome::Changed { changes } => {
                let Some(first) = changes.first() else {
                    return f.write_str("changed since signing");
                };
                if first.path.is_empty() {
                    f.write_str("the object")?;
                } else {
                    write!(f, "`{}`", first.path)?;
                }
                write!(f, " {} since signing", first.kind.name())?;
                match changes.len() - 1 {
                    0 => Ok(()),
                    more => write!(f, " (and {more} more field(s))"),
                }
            }
        }
    }
}

/// One object of a file: its tree with locations and its JSON value.
struct Object<'a> {
    node: &'a Node,
    value: &'a Value,
    resource: ResourceRef,
}

/// Lists the objects of a file parsed twice, with locations (`nodes`) and as JSON (`values`).
/// Documents that are not objects come back as `Err` with their location.
fn read_objects<'a>(
    path: &Path,
    nodes: &'a [Node],
    values: &'a [Value],
) -> Result<Vec<Result<Object<'a>, ResourceRef>>, SignatureError> {
    if nodes.len() != values.len() {
        return Err(SignatureError::NoJsonForm {
            path: path.to_owned(),
            message: format!(
                "{} documents read with locations but {} as JSON",
                nodes.len(),
                values.len()
            ),
        });
    }
    let mut objects = Vec::new();
    for (node, value) in nodes.iter().zip(values) {
        push_objects(path, node, value, &mut objects);
    }
    Ok(objects)
}

fn push_objects<'a>(
    path: &Path,
    node: &'a Node,
    value: &'a Value,
    objects: &mut Vec<Result<Object<'a>, ResourceRef>>,
) {
    let resource = resource_ref(path, node, value);
    if value.get("kind").and_then(Value::as_str).is_none() {
        objects.push(Err(resource));
        return;
    }
    // `List`, `PodList` and the like: each item is an object of its own when applied. kubectl
    // takes any object with an `items` sequence for a list, whatever its kind, so do the same.
    if let (Some(Value::Array(items)), Some(yaml::Value::Sequence(item_nodes))) = (
        value.get("items"),
        node.get("items").map(|items| &items.value),
    ) && items.len() == item_nodes.len()
    {
        for (item_node, item) in item_nodes.iter().zip(items) {
            push_objects(path, item_node, item, objects);
        }
        return;
    }
    objects.push(Ok(Object {
        node,
        value,
        resource,
    }));
}

fn resource_ref(path: &Path, node: &Node, value: &Value) -> ResourceRef {
    let text = |pointer: &str| {
        value
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    ResourceRef {
        kind: text("/kind").unwrap_or_default(),
        namespace: text("/metadata/namespace"),
        name: text("/metadata/name")
            .or_else(|| text("/metadata/generateName"))
            .unwrap_or_else(|| "(unnamed)".to_owned()),
        file: path.to_owned(),
        line: node.location.line,
    }
}

fn parse(path: &Path, text: &str) -> Result<(Vec<Node>, Vec<Value>), SignatureError> {
    let nodes = parse_manifest(path, text)?.documents;
    let values = canonical::parse_values(text).map_err(|reason| SignatureError::Unreadable {
        path: path.to_owned(),
        reason,
    })?;
    Ok((nodes, values))
}

/// Refuses a `<<` merge key anywhere in `text` (a block or flow mapping key). The scan is
/// textual, so a block scalar line that starts with `<<:` is refused too, which errs on the
/// safe side.
fn reject_merge_keys(path: &Path, text: &str) -> Result<(), SignatureError> {
    for (index, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("<<") {
            let before = rest[..at].chars().next_back();
            let after = rest[at + 2..].trim_start();
            let key_start =
                before.is_none_or(|c| c.is_whitespace() || matches!(c, '{' | ',' | '-' | '?'));
            if key_start && after.starts_with(':') {
                return Err(SignatureError::MergeKey {
                    path: path.to_owned(),
                    line: index + 1,
                });
            }
            rest = &rest[at + 2..];
        }
    }
    Ok(())
}

/// Signs every object of the manifest `text` read from `path`, and returns the new text.
///
/// Every document must be a Kubernetes object. The result is verified with the key's public half
/// before it is returned, so a misplaced annotation is an error and not a file that fails later.
pub fn sign_manifest(
    path: &Path,
    text: &str,
    key: &SigningKey,
    claims: &BTreeMap<String, String>,
) -> Result<SignedManifest, SignatureError> {
    reject_merge_keys(path, text)?;
    let (nodes, values) = parse(path, text)?;
    let objects = read_objects(path, &nodes, &values)?;
    if objects.is_empty() {
        return Err(SignatureError::NoObjects {
            path: path.to_owned(),
        });
    }
    let index = LineIndex::new(text);
    let mut edits = Vec::with_capacity(objects.len());
    for object in objects {
        let object = object.map_err(|resource| SignatureError::NotAnObject {
            path: path.to_owned(),
            line: resource.line,
        })?;
        let annotation = sign_object(&object, key, claims)?;
        let edit =
            set_annotation(&index, object.node, ANNOTATION, &annotation).map_err(|problem| {
                SignatureError::CannotAnnotate {
                    path: path.to_owned(),
                    resource: object.resource.display_name(),
                    line: object.resource.line,
                    reason: problem.0,
                }
            })?;
        edits.push(edit);
    }
    let text = apply(text, edits);

    // Check the result as a verifier will see it; its objects have their new lines.
    let mut signed = Vec::new();
    let verdicts = verify_manifest(path, &text, &key.public_key()).map_err(|error| {
        // Two objects that share `metadata` through a YAML alias get two annotations in one
        // mapping, which no parser accepts.
        SignatureError::SelfCheck {
            resource: "the file".to_owned(),
            reason: format!("{error}; expand YAML aliases in `metadata` and sign again"),
        }
    })?;
    for verdict in verdicts {
        if !verdict.outcome.is_verified() {
            return Err(SignatureError::SelfCheck {
                resource: verdict.resource.display_name(),
                reason: verdict.outcome.to_string(),
            });
        }
        signed.push(verdict.resource);
    }
    Ok(SignedManifest {
        text,
        objects: signed,
    })
}

/// Signs one object and returns the annotation value: the DSSE envelope as compact JSON.
fn sign_object(
    object: &Object<'_>,
    key: &SigningKey,
    claims: &BTreeMap<String, String>,
) -> Result<String, SignatureError> {
    let stripped = canonical::strip(object.value, ANNOTATION);
    let digest = canonical::digest(&stripped);
    let text = |pointer: &str| {
        stripped
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let payload = SignedPayload {
        schema: PAYLOAD_SCHEMA.to_owned(),
        object: ObjectName {
            api_version: text("/apiVersion"),
            kind: object.resource.kind.clone(),
            namespace: text("/metadata/namespace"),
            name: text("/metadata/name"),
        },
        digest: BTreeMap::from([(
            "sha256".to_owned(),
            digest.trim_start_matches("sha256:").to_owned(),
        )]),
        claims: claims.clone(),
        canonical: canonical::sorted(&stripped),
    };
    // Serialising a payload of strings and JSON values cannot fail.
    let bytes = serde_json::to_vec(&payload)
        .unwrap_or_else(|error| unreachable!("payload serialisation failed: {error}"));
    let envelope =
        dsse::sign(PAYLOAD_TYPE, &bytes, key).map_err(|source| SignatureError::Sign {
            resource: object.resource.display_name(),
            source,
        })?;
    let annotation = String::from_utf8(envelope.to_json())
        .unwrap_or_else(|error| unreachable!("JSON is UTF-8: {error}"));

    // Kubernetes rejects an object whose annotation keys and values exceed 256 KiB in total.
    let others: usize = object
        .value
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .map(|annotations| {
            annotations
                .iter()
                .filter(|(key, _)| key.as_str() != ANNOTATION)
                .map(|(key, value)| key.len() + value.as_str().map_or(0, str::len))
                .sum()
        })
        .unwrap_or_default();
    let size = others + ANNOTATION.len() + annotation.len();
    if size > MAX_ANNOTATIONS_BYTES {
        return Err(SignatureError::AnnotationsTooLarge {
            resource: object.resource.display_name(),
            size,
        });
    }
    Ok(annotation)
}

/// Verifies every object of the manifest `text` read from `path` with `key`.
///
/// An error means the file could not be read as a manifest; each object's result, failures
/// included, is in the list.
pub fn verify_manifest(
    path: &Path,
    text: &str,
    key: &PublicKey,
) -> Result<Vec<ObjectVerdict>, SignatureError> {
    reject_merge_keys(path, text)?;
    let (nodes, values) = parse(path, text)?;
    let objects = read_objects(path, &nodes, &values)?;
    if objects.is_empty() {
        return Err(SignatureError::NoObjects {
            path: path.to_owned(),
        });
    }
    Ok(objects
        .into_iter()
        .map(|object| match object {
            Ok(object) => ObjectVerdict {
                outcome: verify_object(object.value, key),
                resource: object.resource,
            },
            Err(resource) => ObjectVerdict {
                resource,
                outcome: VerifyOutcome::NotAnObject,
            },
        })
        .collect())
}

/// Verifies one object.
///
/// Checks, in order:
/// 1. the object has the annotation [`ANNOTATION`] with a string value;
/// 2. the value is a DSSE envelope;
/// 3. a signature of the envelope verifies with `key` over the PAE of the payload, whose type is
///    [`PAYLOAD_TYPE`];
/// 4. the payload is a [`SignedPayload`] of schema [`PAYLOAD_SCHEMA`];
/// 5. the payload's canonical object hashes to the payload's digest;
/// 6. the object in the file, stripped as for signing, hashes to that digest too. When it does
///    not, the canonical objects are compared field by field.
fn verify_object(value: &Value, key: &PublicKey) -> VerifyOutcome {
    let invalid = |reason: String| VerifyOutcome::Invalid { reason };

    // 1. The annotation.
    let Some(annotation) = value
        .pointer("/metadata/annotations")
        .and_then(|annotations| annotations.get(ANNOTATION))
    else {
        return VerifyOutcome::Unsigned;
    };
    let Some(annotation) = annotation.as_str() else {
        return invalid(format!("the `{ANNOTATION}` annotation is not a string"));
    };

    // 2. The envelope.
    let envelope = match Envelope::from_json(annotation.as_bytes()) {
        Ok(envelope) => envelope,
        Err(error) => return invalid(error.to_string()),
    };

    // 3. The signature over the PAE.
    let verified = match dsse::verify(&envelope, key, Some(PAYLOAD_TYPE)) {
        Ok(verified) => verified,
        Err(error) => return invalid(error.to_string()),
    };

    // 4. The payload.
    let payload: SignedPayload = match serde_json::from_slice(verified.body()) {
        Ok(payload) => payload,
        Err(error) => return invalid(format!("the signed payload is invalid: {error}")),
    };
    if payload.schema != PAYLOAD_SCHEMA {
        return invalid(format!(
            "the signed payload has `_type` `{}`, expected `{PAYLOAD_SCHEMA}`",
            payload.schema
        ));
    }

    // 5. The payload's own digest.
    let signed_digest = canonical::digest(&payload.canonical);
    let claimed = payload.digest.get("sha256").map(String::as_str);
    if claimed != signed_digest.strip_prefix("sha256:") {
        return invalid(format!(
            "the signed payload's digest `sha256:{}` does not match its object `{signed_digest}`",
            claimed.unwrap_or_default()
        ));
    }
    tracing::debug!(digest = %signed_digest, "manifest signature verified");

    // 6. The object in the file.
    let current = canonical::strip(value, ANNOTATION);
    if canonical::digest(&current) == signed_digest {
        return VerifyOutcome::Verified {
            claims: payload.claims,
            digest: signed_digest,
        };
    }
    let mut changes = diff::changes(&payload.canonical, &current);
    if changes.is_empty() {
        changes.push(Change {
            path: String::new(),
            kind: ChangeKind::Changed,
        });
    }
    VerifyOutcome::Changed { changes }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPLOYMENT: &str = "\
# web tier
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: web
        image: nginx:1.27
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: a}
  data: {on: yes}
";

    fn claims() -> BTreeMap<String, String> {
        BTreeMap::from([("approver".to_owned(), "alice".to_owned())])
    }

    fn verify(text: &str, key: &PublicKey) -> Vec<VerifyOutcome> {
        verify_manifest(Path::new("m.yaml"), text, key)
            .unwrap()
            .into_iter()
            .map(|v| v.outcome)
            .collect()
    }

    #[test]
    fn sign_then_verify() {
        let key = SigningKey::generate();
        let signed = sign_manifest(Path::new("m.yaml"), DEPLOYMENT, &key, &claims()).unwrap();
        assert_eq!(signed.objects.len(), 2);
        assert!(signed.text.starts_with("# web tier\n"));
        let outcomes = verify(&signed.text, &key.public_key());
        assert_eq!(outcomes.len(), 2);
        for outcome in outcomes {
            let VerifyOutcome::Verified { claims, .. } = outcome else {
                panic!("expected verified, got {outcome:?}");
            };
            assert_eq!(claims["approver"], "alice");
        }
    }

    #[test]
    fn merge_keys_rejected() {
        let key = SigningKey::generate();
        let signed = sign_manifest(Path::new("m.yaml"), DEPLOYMENT, &key, &claims()).unwrap();
        // A merge written after the field: one YAML parser keeps the field, another the merge.
        let edited = signed.text.replace(
            "        image: nginx:1.27\n",
            "        image: nginx:1.27\n        <<: {image: \"evil.example/miner:latest\"}\n",
        );
        let error = verify_manifest(Path::new("m.yaml"), &edited, &key.public_key())
            .unwrap_err()
            .to_string();
        assert!(error.contains("has a `<<` merge key"), "{error}");
        for text in ["a: {<<: *b}", "- <<: *b", "x:\n  <<   : *b"] {
            assert!(
                reject_merge_keys(Path::new("m.yaml"), text).is_err(),
                "{text}"
            );
        }
        for text in ["run: cat <<EOF", "a: \"<<\"", "s: x<<: y"] {
            assert!(
                reject_merge_keys(Path::new("m.yaml"), text).is_ok(),
                "{text}"
            );
        }
        let error = sign_manifest(
            Path::new("m.yaml"),
            "kind: A\n<<: {b: 1}\n",
            &key,
            &claims(),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("line 2"), "{error}");
    }

    #[test]
    fn any_object_with_items_is_a_list() {
        let key = SigningKey::generate();
        let text = "kind: ConfigMap\nmetadata: {name: a}\nitems:\n- kind: Secret\n  metadata: {name: evil}\n";
        let signed = sign_manifest(Path::new("m.yaml"), text, &key, &claims()).unwrap();
        assert_eq!(signed.objects.len(), 1);
        assert_eq!(signed.objects[0].kind, "Secret");
        assert_eq!(signed.objects[0].name, "evil");
    }

    #[test]
    fn signing_twice_replaces() {
        let key = SigningKey::generate();
        let once = sign_manifest(Path::new("m.yaml"), DEPLOYMENT, &key, &claims()).unwrap();
        let twice = sign_manifest(Path::new("m.yaml"), &once.text, &key, &claims()).unwrap();
        assert_eq!(once.text, twice.text, "file keys sign deterministically");
    }

    #[test]
    fn changed_field_named() {
        let key = SigningKey::generate();
        let signed = sign_manifest(Path::new("m.yaml"), DEPLOYMENT, &key, &claims()).unwrap();
        let edited = signed.text.replace("replicas: 2", "replicas: 3");
        let outcomes = verify(&edited, &key.public_key());
        let VerifyOutcome::Changed { changes } = &outcomes[0] else {
            panic!("expected changed, got {:?}", outcomes[0]);
        };
        assert_eq!(changes[0].path, "spec.replicas");
        assert!(outcomes[1].is_verified());
    }

    #[test]
    fn other_key_rejected() {
        let key = SigningKey::generate();
        let signed = sign_manifest(Path::new("m.yaml"), DEPLOYMENT, &key, &claims()).unwrap();
        let outcomes = verify(&signed.text, &SigningKey::generate().public_key());
        assert!(
            matches!(&outcomes[0], VerifyOutcome::Invalid { reason } if reason.contains("none of the envelope"))
        );
    }

    #[test]
    fn unsigned_object_reported() {
        let key = SigningKey::generate();
        let outcomes = verify(DEPLOYMENT, &key.public_key());
        assert_eq!(outcomes, [VerifyOutcome::Unsigned, VerifyOutcome::Unsigned]);
    }

    #[test]
    fn shared_metadata_alias_rejected() {
        let text = "kind: List\nitems:\n- kind: A\n  metadata: &m\n    name: a\n- kind: B\n  \
                    metadata: *m\n";
        let key = SigningKey::generate();
        let error = sign_manifest(Path::new("m.yaml"), text, &key, &claims()).unwrap_err();
        assert!(matches!(error, SignatureError::SelfCheck { .. }), "{error}");
        assert!(error.to_string().contains("expand YAML aliases"), "{error}");
    }

    #[test]
    fn unquoted_string_changes_field() {
        let key = SigningKey::generate();
        let text = "kind: ConfigMap\nmetadata: {name: c}\ndata:\n  hex: \"0X1F\"\n  \
                    digits: \"1_0\"\n  octal: \"0O17\"\n  word: \"yes\"\n";
        let signed = sign_manifest(Path::new("m.yaml"), text, &key, &claims()).unwrap();
        for (quoted, field) in [
            ("\"0X1F\"", "data.hex"),
            ("\"1_0\"", "data.digits"),
            ("\"0O17\"", "data.octal"),
            ("\"yes\"", "data.word"),
        ] {
            let edited = signed.text.replace(quoted, quoted.trim_matches('"'));
            let outcomes = verify(&edited, &key.public_key());
            let VerifyOutcome::Changed { changes } = &outcomes[0] else {
                panic!("{quoted}: expected changed, got {:?}", outcomes[0]);
            };
            assert_eq!(changes.len(), 1, "{quoted}");
            assert_eq!(changes[0].path, field, "{quoted}");
            assert_eq!(
                outcomes[0].to_string(),
                format!("`{field}` changed since signing"),
                "{quoted}"
            );
        }
    }

    #[test]
    fn requoted_number_still_verifies_as_number() {
        let key = SigningKey::generate();
        let text = "kind: ConfigMap\nmetadata: {name: c}\nspec:\n  port: 0x1F\n";
        let signed = sign_manifest(Path::new("m.yaml"), text, &key, &claims()).unwrap();
        let decimal = signed.text.replace("0x1F", "31");
        assert!(verify(&decimal, &key.public_key())[0].is_verified());
    }

    #[test]
    fn object_without_metadata_signed() {
        let key = SigningKey::generate();
        let text = "apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n";
        let signed = sign_manifest(Path::new("m.yaml"), text, &key, &claims()).unwrap();
        assert!(
            signed
                .text
                .starts_with("metadata:\n  annotations:\n    signature.clearbox.dev/dsse: "),
            "{}",
            signed.text
        );
        assert!(
            signed
                .text
                .ends_with("apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n")
        );
        let outcomes = verify(&signed.text, &key.public_key());
        assert!(outcomes[0].is_verified(), "{:?}", outcomes[0]);
    }

    #[test]
    fn tagged_value_rejected_with_line() {
        let key = SigningKey::generate();
        let text = "kind: ConfigMap\nmetadata: {name: c}\ndata:\n  a: !foo 3\n";
        let error = sign_manifest(Path::new("m.yaml"), text, &key, &claims()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`m.yaml` line 4: the tag `!foo` is not accepted in a signed manifest, because what \
             it means to Kubernetes is not established; remove the tag (quote the value if it is \
             meant as a string)"
        );
        let error = verify_manifest(Path::new("m.yaml"), text, &key.public_key()).unwrap_err();
        assert!(
            matches!(error, SignatureError::Unreadable { .. }),
            "{error}"
        );
    }

    #[test]
    fn big_integer_rejected_with_quote_it() {
        let key = SigningKey::generate();
        let text = "kind: ConfigMap\nmetadata: {name: c}\nspec:\n  n: 18446744073709551616\n";
        let error = sign_manifest(Path::new("m.yaml"), text, &key, &claims()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`m.yaml` line 4: the plain scalar `18446744073709551616` is an integer beyond 64 \
             bits, which Kubernetes' YAML readers do not read alike; quote it if it is meant as \
             a string"
        );
    }

    #[test]
    fn outcome_messages() {
        let outcomes = [
            VerifyOutcome::Unsigned,
            VerifyOutcome::NotAnObject,
            VerifyOutcome::Changed {
                changes: vec![
                    Change {
                        path: "spec.replicas".to_owned(),
                        kind: ChangeKind::Changed,
                    },
                    Change {
                        path: "metadata".to_owned(),
                        kind: ChangeKind::Added,
                    },
                ],
            },
            VerifyOutcome::Changed {
                changes: vec![Change {
                    path: String::new(),
                    kind: ChangeKind::Changed,
                }],
            },
        ];
        let texts: Vec<String> = outcomes.iter().map(ToString::to_string).collect();
        assert_eq!(
            texts,
            [
                "unsigned (no `signature.clearbox.dev/dsse` annotation)",
                "not a Kubernetes object (no `kind`)",
                "`spec.replicas` changed since signing (and 1 more field(s))",
                "the object changed since signing",
            ]
        );
    }

    #[test]
    fn document_without_kind_rejected() {
        let key = SigningKey::generate();
        let error = sign_manifest(Path::new("m.yaml"), "a: 1\n", &key, &claims()).unwrap_err();
        assert!(
            matches!(error, SignatureError::NotAnObject { line: 1, .. }),
            "{error}"
        );
    }
}
