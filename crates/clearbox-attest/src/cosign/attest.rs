//! Attesting an image as `cosign attest --key --type T --predicate F` does: an in-toto
//! statement about the image's digest, signed into a DSSE envelope, stored as a layer with the
//! `predicateType` annotation and an empty `dev.cosignproject.cosign/signature` annotation.
//!
//! The statement is v1 (`https://in-toto.io/Statement/v1`); cosign 2.5 still writes v0.1, and
//! both tools verify either. Its subject `name` is the repository, as cosign writes it.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::attach::{AttachOutcome, Merge, NewArtifact, attach, is_same_layer};
use super::error::CosignError;
use super::format::{
    ArtifactDescriptor, ArtifactKind, DSSE_MEDIA_TYPE, PREDICATE_TYPE_ANNOTATION,
    SIGNATURE_ANNOTATION,
};
use super::referrers::ReferrersMode;
use super::store::ArtifactStore;
use crate::bundle::Timestamp;
use crate::intoto::{PredicateType, Statement, Subject};
use crate::keys::SigningKey;

/// A predicate file that cannot be the predicate of its type.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PredicateError {
    /// The file is not JSON, but only the `custom` type wraps arbitrary text.
    #[error(
        "the predicate is not valid JSON, which a `{predicate_type}` predicate must be; use \
         --type custom to attest arbitrary text"
    )]
    NotJson {
        /// The predicate type URI.
        predicate_type: String,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// The file is JSON `null`, which records nothing for a named type.
    #[error("the predicate is JSON `null`; a `{predicate_type}` predicate must be a JSON object")]
    Null {
        /// The predicate type URI.
        predicate_type: String,
    },
}

/// Builds the predicate from the bytes of a predicate file, as `cosign attest --predicate F`
/// does (observed with cosign 2.5.0-2+b5 from Debian trixie):
///
/// - `custom` (`https://cosign.sigstore.dev/attestation/v1`) wraps the file's text, JSON or
///   not, as `{"Data": TEXT, "Timestamp": "YYYY-MM-DDTHH:MM:SSZ"}` with `now` in UTC to the
///   second. Bytes that are not UTF-8 become U+FFFD, as in cosign.
/// - A predicate type given as a URI takes the file's JSON as it is. `null` is kept (the
///   statement then has no predicate); arrays and other non-objects fail later in
///   [`Statement::new`], as cosign rejects them.
/// - The named types (`slsaprovenance`, `spdx`, `cyclonedx`, `vuln`, `openvex`, `link`) take
///   the file's JSON, which must not be `null`. cosign 2.5 stores `null` for `spdxjson`,
///   `cyclonedx` and `openvex` and an empty vulnerability report for `vuln`, none of which
///   records anything about the image.
pub fn predicate_from_file(
    predicate_type: &PredicateType,
    bytes: &[u8],
    now: Timestamp,
) -> Result<Value, PredicateError> {
    if *predicate_type == PredicateType::CosignCustom {
        let whole_seconds = Timestamp::from_unix(now.unix_seconds());
        return Ok(json!({
            "Data": String::from_utf8_lossy(bytes),
            "Timestamp": whole_seconds.to_string(),
        }));
    }
    let predicate: Value =
        serde_json::from_slice(bytes).map_err(|source| PredicateError::NotJson {
            predicate_type: predicate_type.uri().to_owned(),
            source,
        })?;
    if predicate.is_null() && !matches!(predicate_type, PredicateType::Other(_)) {
        return Err(PredicateError::Null {
            predicate_type: predicate_type.uri().to_owned(),
        });
    }
    Ok(predicate)
}

/// Settings of [`attest`].
#[derive(Debug, Clone, Default)]
pub struct AttestOptions {
    /// The referrers mode, which decides where the attestation is stored. Default
    /// [`ReferrersMode::Auto`].
    pub mode: ReferrersMode,
    /// The statement subject's `name`. Default: the store's
    /// [`default_identity`](super::ArtifactStore::default_identity), the repository, as cosign
    /// writes it; a layout without one fails with [`CosignError::IdentityRequired`].
    pub subject_name: Option<String>,
}

/// Signs a statement that `predicate` (of `predicate_type`) holds for the store's image and
/// stores the envelope. `predicate` must be a JSON object.
///
/// In legacy mode the attestation is appended to the manifest under `sha256-<hex>.att`, as
/// cosign appends. An envelope with the same bytes and annotations as one there already is not
/// added twice. A key that signs deterministically (file keys here) gives the same bytes for
/// the same statement.
pub fn attest(
    store: &dyn ArtifactStore,
    key: &SigningKey,
    predicate_type: &PredicateType,
    predicate: Value,
    options: &AttestOptions,
) -> Result<AttachOutcome, CosignError> {
    attest_with_subjects(store, key, predicate_type, predicate, Vec::new(), options)
}

/// Like [`attest`], with `leading` subjects listed before the image in the statement, for
/// predicates whose specification fixes the first subject (OpenSSF Model Signing names the
/// model there). The image is always a subject, so verification still binds the statement to
/// the image's digest.
pub fn attest_with_subjects(
    store: &dyn ArtifactStore,
    key: &SigningKey,
    predicate_type: &PredicateType,
    predicate: Value,
    leading: Vec<Subject>,
    options: &AttestOptions,
) -> Result<AttachOutcome, CosignError> {
    // 1. The statement about this digest.
    let name = options
        .subject_name
        .clone()
        .or_else(|| store.default_identity())
        .ok_or_else(|| CosignError::IdentityRequired {
            location: store.location(),
        })?;
    let mut subjects = leading;
    subjects.push(Subject::sha256(name, &store.subject().digest.to_string()));
    let statement =
        Statement::new(subjects, predicate_type, predicate).map_err(CosignError::Statement)?;

    // 2. The envelope and its layer.
    let envelope = statement
        .sign(key)
        .map_err(CosignError::Envelope)?
        .to_json();
    let mut layer = ArtifactDescriptor::of(DSSE_MEDIA_TYPE, &envelope);
    layer.annotations = BTreeMap::from([
        (SIGNATURE_ANNOTATION.to_owned(), String::new()),
        (
            PREDICATE_TYPE_ANNOTATION.to_owned(),
            predicate_type.uri().to_owned(),
        ),
    ]);

    // 3. Stored beside the image.
    let is_duplicate = |existing: &ArtifactDescriptor| is_same_layer(existing, &layer);
    let artifact = NewArtifact {
        kind: ArtifactKind::Attestations,
        layer: layer.clone(),
        blob: envelope,
    };
    attach(store, artifact, options.mode, &Merge::Append(&is_duplicate))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-01-02T03:04:05.5Z, which cosign writes without the fraction.
    fn now() -> Timestamp {
        Timestamp::from_unix_millis(1_704_164_645_500)
    }

    fn build(type_name: &str, bytes: &[u8]) -> Result<Value, PredicateError> {
        let predicate_type = PredicateType::from_cosign_type(type_name).unwrap();
        predicate_from_file(&predicate_type, bytes, now())
    }

    #[test]
    fn custom_wraps_text_with_timestamp() {
        let predicate = build("custom", b"hello\nworld").unwrap();
        assert_eq!(
            predicate,
            json!({"Data": "hello\nworld", "Timestamp": "2024-01-02T03:04:05Z"})
        );
    }

    #[test]
    fn custom_wraps_json_as_text() {
        let predicate = build("custom", br#"{"a":1}"#).unwrap();
        assert_eq!(predicate["Data"], r#"{"a":1}"#);
    }

    #[test]
    fn custom_replaces_invalid_utf8() {
        let predicate = build("custom", b"\xff\xfeab").unwrap();
        assert_eq!(predicate["Data"], "\u{fffd}\u{fffd}ab");
    }

    #[test]
    fn uri_type_embeds_json() {
        let predicate = build("https://example.com/p/v1", br#"{"a":[1,2]}"#).unwrap();
        assert_eq!(predicate, json!({"a": [1, 2]}));
        assert_eq!(
            build("https://example.com/p/v1", b"null").unwrap(),
            Value::Null
        );
    }

    #[test]
    fn uri_type_rejects_text() {
        let error = build("https://example.com/p/v1", b"not json").unwrap_err();
        assert!(matches!(error, PredicateError::NotJson { .. }), "{error:?}");
    }

    #[test]
    fn named_types_reject_null() {
        for name in [
            "slsaprovenance",
            "slsaprovenance1",
            "spdxjson",
            "cyclonedx",
            "vuln",
            "openvex",
            "link",
        ] {
            let error = build(name, b" null\n").unwrap_err();
            assert!(matches!(error, PredicateError::Null { .. }), "{name}");
        }
    }
}
