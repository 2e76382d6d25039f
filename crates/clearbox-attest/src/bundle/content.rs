//! The signed content against the artifact: a message signature over the artifact's digest, or
//! a DSSE envelope whose in-toto statement names the artifact as a subject.
//!
//! A message-signature bundle's `messageDigest` is a hint the signer wrote; it must still equal
//! the artifact's digest, so a bundle never describes one artifact while verifying another.

use super::entry_body::ArtifactDigests;
use super::error::Failure;
use super::evidence::StatementEvidence;
use super::key::{HashAlgorithm, VerifierKey};
use super::model::Content;
use crate::dsse::pae;
use crate::intoto::{self, Statement};

/// Checks the message digest against the artifact (message-signature bundles only).
pub(crate) fn check_message_digest(
    content: &Content,
    artifact: &ArtifactDigests<'_>,
    failures: &mut Vec<Failure>,
) {
    let Content::Message {
        digest: Some((algorithm, digest)),
        ..
    } = content
    else {
        return;
    };
    match artifact.digest(*algorithm) {
        Some(actual) if actual == *digest => {}
        Some(actual) => failures.push(Failure::MessageDigestMismatch {
            bundle: format!("{}:{}", algorithm.name(), hex::encode(digest)),
            artifact: format!("{}:{}", algorithm.name(), hex::encode(actual)),
        }),
        None => failures.push(Failure::ArtifactUnavailable(format!(
            "the bundle's message digest is {}; only the artifact's SHA-256 digest is known",
            algorithm.name()
        ))),
    }
}

/// Verifies the signature with `key`: over the artifact for a message signature, over the PAE
/// of the payload for a DSSE envelope.
pub(crate) fn check_signature(
    content: &Content,
    key: &VerifierKey,
    artifact: &ArtifactDigests<'_>,
    failures: &mut Vec<Failure>,
) {
    let result = match content {
        Content::Message { digest, signature } => {
            let what = "the artifact";
            let hash = digest
                .as_ref()
                .map_or_else(|| key.default_hash(), |(algorithm, _)| *algorithm);
            let outcome = if key.is_ed25519() {
                artifact
                    .bytes
                    .ok_or_else(|| {
                        "an Ed25519 signature covers the artifact's bytes, which were not given"
                            .to_owned()
                    })
                    .and_then(|bytes| key.verify(bytes, signature, hash))
            } else {
                artifact
                    .digest(hash)
                    .ok_or_else(|| {
                        format!(
                            "the signature uses {}; only the artifact's SHA-256 digest is known",
                            hash.name()
                        )
                    })
                    .and_then(|digest| key.verify_digest(&digest, signature, hash))
            };
            outcome.map_err(|reason| (what, reason))
        }
        Content::Dsse {
            envelope,
            payload,
            signature,
        } => key
            .verify(
                &pae(&envelope.payload_type, payload),
                signature,
                key.default_hash(),
            )
            .map_err(|reason| ("the DSSE envelope's PAE", reason)),
    };
    if let Err((what, reason)) = result {
        failures.push(Failure::SignatureInvalid { what, reason });
    }
}

/// Checks that a DSSE envelope holds an in-toto statement with the artifact as a subject and,
/// when required, the predicate type.
pub(crate) fn check_statement(
    content: &Content,
    artifact: &ArtifactDigests<'_>,
    predicate_type: Option<&str>,
    failures: &mut Vec<Failure>,
) -> Option<StatementEvidence> {
    let Content::Dsse {
        envelope, payload, ..
    } = content
    else {
        return None;
    };
    if envelope.payload_type != intoto::PAYLOAD_TYPE {
        failures.push(Failure::NotInToto {
            found: envelope.payload_type.clone(),
        });
        return None;
    }
    let statement = match Statement::from_json(payload) {
        Ok(statement) => statement,
        Err(error) => {
            failures.push(Failure::InvalidStatement(error.to_string()));
            return None;
        }
    };
    if let Some(expected) = predicate_type
        && statement.predicate_type() != expected
    {
        failures.push(Failure::PredicateTypeMismatch {
            expected: expected.to_owned(),
            found: statement.predicate_type().to_owned(),
        });
    }
    let subject = statement.subjects().iter().find(|subject| {
        [
            HashAlgorithm::Sha256,
            HashAlgorithm::Sha384,
            HashAlgorithm::Sha512,
        ]
        .into_iter()
        .any(|algorithm| {
            let stated = subject.digest.get(algorithm.name());
            let actual = artifact.digest(algorithm);
            matches!((stated, actual), (Some(stated), Some(actual))
                    if stated.eq_ignore_ascii_case(&hex::encode(&actual)))
        })
    });
    let Some(subject) = subject else {
        failures.push(Failure::SubjectMismatch {
            digest: hex::encode(artifact.sha256),
        });
        return None;
    };
    Some(StatementEvidence {
        predicate_type: statement.predicate_type().to_owned(),
        subject: subject.name.clone(),
    })
}
