//! What a bundle must prove: who signed it, and optionally which predicate type its statement
//! has; and the artifact it must be about.

use std::fmt;

use regex::Regex;
use sha2::{Digest as _, Sha256};

use super::key::VerifierKey;
use super::time::Timestamp;

/// Who must have signed the bundle.
#[derive(Debug, Clone)]
pub enum Signer {
    /// A key the verifier holds (a "managed key" bundle).
    Key(VerifierKey),
    /// A Fulcio certificate for this identity from this OIDC issuer.
    Identity(CertificateIdentity),
}

/// The signer a Fulcio certificate must name: its subject alternative name and OIDC issuer.
#[derive(Debug, Clone)]
pub struct CertificateIdentity {
    /// The subject alternative name: a URI or an email address. One SAN entry must match.
    pub identity: ValueMatcher,
    /// The OIDC issuer URL.
    pub issuer: ValueMatcher,
}

impl CertificateIdentity {
    /// Requires exactly this SAN and this issuer.
    #[must_use]
    pub fn exact(identity: impl Into<String>, issuer: impl Into<String>) -> Self {
        CertificateIdentity {
            identity: ValueMatcher::Exact(identity.into()),
            issuer: ValueMatcher::Exact(issuer.into()),
        }
    }
}

/// The expected value of a certificate field: exact text or a pattern.
#[derive(Debug, Clone)]
pub enum ValueMatcher {
    /// The value must equal this text, byte for byte.
    Exact(String),
    /// The whole value must match this regular expression (Rust `regex` syntax). Build it with
    /// [`ValueMatcher::pattern`], which anchors it at both ends.
    Pattern(Regex),
}

impl ValueMatcher {
    /// Compiles `expression` so that it must match the whole value: `^(?:EXPRESSION)$`.
    ///
    /// cosign's `--certificate-identity-regexp` finds the expression anywhere in the value, so
    /// `github.com/org/` there also accepts `https://evil.example/github.com/org/`. Anchoring
    /// rejects that; an expression written for cosign may need a leading or trailing `.*`.
    ///
    /// The expression is compiled on its own first, so that one with an unbalanced `)` cannot
    /// close the anchoring group and match anything (`x)|(.*`).
    pub fn pattern(expression: &str) -> Result<Self, regex::Error> {
        Regex::new(expression)?;
        Regex::new(&format!("^(?:{expression})$")).map(ValueMatcher::Pattern)
    }

    /// Returns whether `value` matches.
    #[must_use]
    pub fn is_match(&self, value: &str) -> bool {
        match self {
            ValueMatcher::Exact(expected) => value == expected,
            ValueMatcher::Pattern(pattern) => pattern.is_match(value),
        }
    }
}

/// Writes `` `value` `` for an exact value and `` the pattern `^(?:…)$` `` for a pattern.
impl fmt::Display for ValueMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueMatcher::Exact(value) => write!(f, "`{value}`"),
            ValueMatcher::Pattern(pattern) => write!(f, "a value matching `{}`", pattern.as_str()),
        }
    }
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

    /// Requires a Fulcio certificate for exactly `identity` issued on a token from `issuer`.
    #[must_use]
    pub fn identity(identity: impl Into<String>, issuer: impl Into<String>) -> Self {
        Policy::new(Signer::Identity(CertificateIdentity::exact(
            identity, issuer,
        )))
    }

    /// Requires a Fulcio certificate whose SAN and issuer match `identity`.
    #[must_use]
    pub fn certificate(identity: CertificateIdentity) -> Self {
        Policy::new(Signer::Identity(identity))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_anchored_whole_value() {
        let pattern = ValueMatcher::pattern("https://github.com/acme/.*").unwrap();
        assert!(pattern.is_match("https://github.com/acme/app"));
        assert!(!pattern.is_match("https://evil.example/https://github.com/acme/app"));
        assert!(ValueMatcher::pattern("x)|(.*").is_err());
        assert!(ValueMatcher::pattern("(a").is_err());
    }
}
