//! What a bundle must prove: who signed it, and optionally which predicate type its statement
//! has; and the artifact it must be about.

use sha2::{Digest as _, Sha256};

use super::key::VerifierKey;
use super::time::Timestamp;

/// Who must have signed the bundle.
#[derive(Debug, Clone)]
pub enum Signer {
    /// A key the verifier holds (a "managed key" bundle).
    Key(VerifierKey),
    /// A Fulcio certificate for this identity from this OIDC issuer.
    Identity {
        /// The exact subject alternative name: a URI or an email address.
        identity: String,
        /// The exact OIDC issuer URL.
        issuer: String,
    },
}

/// The requirements a bundle is verified against.
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) signer: Signer,
    pub(crate) predicate_type: Option<String>,
    pub(crate) now: Option<Timestamp>,
}

impl Policy {
    /// Requires a signature by `key`.
    #[must_use]
    pub fn key(key: VerifierKey) -> Self {
        Policy::new(Signer::Key(key))
    }

    /// Requires a Fulcio certificate for `identity` issued on a token from `issuer`.
    #[must_use]
    pub fn identity(identity: impl Into<String>, issuer: impl Into<String>) -> Self {
        Policy::new(Signer::Identity {
            identity: identity.into(),
            issuer: issuer.into(),
        })
    }

    fn new(signer: Signer) -> Self {
        Policy {
            signer,
            predicate_type: None,
            now: None,
        }
    }

    /// Requires a DSSE bundle's in-toto statement to have this predicate type URI. Default: any
    /// predicate type. Message-signature bundles have no statement and ignore it.
    #[must_use]
    pub fn with_predicate_type(mut self, uri: impl Into<String>) -> Self {
        self.predicate_type = Some(uri.into());
        self
    }

    /// Uses `now` as the current time, against which integrated times must not lie in the
    /// future. Default: the system clock when verification starts.
    #[must_use]
    pub fn with_current_time(mut self, now: Timestamp) -> Self {
        self.now = Some(now);
        self
    }
}

/// The artifact a bundle is verified against.
#[derive(Debug, Clone, Copy)]
pub enum Artifact<'a> {
    /// The artifact's bytes: every check can run.
    Bytes(&'a [u8]),
    /// Only the artifact's SHA-256 digest. Checks that need another digest, or the bytes
    /// themselves (an Ed25519 signature over the artifact), fail with a message saying so.
    Sha256([u8; 32]),
}

impl Artifact<'_> {
    /// Returns the artifact's SHA-256 digest, hashing the bytes when the artifact has them.
    #[must_use]
    pub fn sha256(&self) -> [u8; 32] {
        match self {
            Artifact::Bytes(bytes) => Sha256::digest(bytes).into(),
            Artifact::Sha256(digest) => *digest,
        }
    }

    pub(crate) fn bytes(&self) -> Option<&[u8]> {
        match self {
            Artifact::Bytes(bytes) => Some(bytes),
            Artifact::Sha256(_) => None,
        }
    }
}
