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

/// Describes why a regular expression does not compile, on one line: the problem and the
/// character it was found at (`unopened group at character 2`), where the regex crate's own
/// message spans several lines with the expression and a caret.
#[must_use]
pub fn regex_problem(error: &regex::Error) -> String {
    match error {
        regex::Error::Syntax(text) => {
            let lines: Vec<&str> = text.lines().collect();
            // The first line is a title, the second the expression indented by four spaces,
            // the third a caret under the problem, the last `error: <problem>`.
            let problem = lines
                .last()
                .map(|line| line.trim().trim_start_matches("error:").trim())
                .filter(|line| !line.is_empty())
                .unwrap_or("invalid syntax");
            let column = lines
                .iter()
                .skip(2)
                .find_map(|line| line.find('^'))
                .and_then(|at| at.checked_sub(3));
            match column {
                Some(column) => format!("{problem} at character {column}"),
                None => problem.to_owned(),
            }
        }
        regex::Error::CompiledTooBig(limit) => {
            format!("the compiled expression would exceed {limit} bytes; simplify it")
        }
        other => other.to_string().replace('\n', " "),
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
    fn regex_problem_is_one_line() {
        // Built at run time: a literal would be rejected by clippy's `invalid_regex`.
        let unbalanced = String::from("x)|(.*");
        let error = Regex::new(&unbalanced).unwrap_err();
        assert_eq!(regex_problem(&error), "unopened group at character 2");
        let error = Regex::new("a{99999}{99999}").unwrap_err();
        assert!(
            !regex_problem(&error).contains('\n'),
            "{}",
            regex_problem(&error)
        );
    }

    #[test]
    fn pattern_anchored_whole_value() {
        let pattern = ValueMatcher::pattern("https://github.com/acme/.*").unwrap();
        assert!(pattern.is_match("https://github.com/acme/app"));
        assert!(!pattern.is_match("https://evil.example/https://github.com/acme/app"));
        assert!(ValueMatcher::pattern("x)|(.*").is_err());
        assert!(ValueMatcher::pattern("(a").is_err());
    }
}
