//! Errors of registry requests: what was asked of which registry, and why it failed with what
//! to do about it.

/// A registry request that failed. Its [`Display`](std::fmt::Display) names the operation, the
/// repository and reference, and the registry. Its source, the [`problem`](Self::problem),
/// gives the cause and the fix.
#[derive(Debug, thiserror::Error)]
#[error("failed to {action} `{subject}` at registry `{registry}`")]
pub struct RegistryError {
    /// The registry, `HOST[:PORT]` as in the image reference.
    pub registry: String,
    /// The repository with its tag or digest, or the blob digest.
    pub subject: String,
    /// The operation, such as `get manifest` or `upload blob`.
    pub action: &'static str,
    /// The cause.
    #[source]
    pub problem: RegistryProblem,
}

/// The cause of a failed registry request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryProblem {
    /// The registry requires authentication and no usable credentials were available.
    #[error(
        "authentication required (HTTP 401){}; log in with `--username` and \
         `--password-stdin`, or with `docker login {registry}`",
        note.as_ref().map(|n| format!(": {n}")).unwrap_or_default()
    )]
    AuthenticationRequired {
        /// The registry, for the suggested `docker login` command.
        registry: String,
        /// The reason stored credentials could not be used, when there were some.
        note: Option<String>,
    },

    /// The registry or its token server rejected the credentials.
    #[error(
        "{by} rejected the credentials of user `{username}` (HTTP 401); check the user name \
         and password"
    )]
    CredentialsRejected {
        /// `the registry` or `the token server <url>`.
        by: String,
        /// The user name sent (never the password).
        username: String,
    },

    /// The registry rejected a token its token server had just issued, which points to a
    /// mismatch between the two (issuer, audience or signing certificate).
    #[error(
        "the registry rejected the token issued by `{realm}` (HTTP 401); the registry and its \
         token server disagree on the issuer, service or signing certificate"
    )]
    TokenRejected {
        /// The token server URL.
        realm: String,
    },

    /// The credentials are valid but lack access to the repository.
    #[error(
        "access denied (HTTP {status}{}); the account may lack permission for this \
         repository, or the repository name may be wrong",
        code_suffix(code.as_deref())
    )]
    Denied {
        /// 401 with `insufficient_scope`, or 403.
        status: u16,
        /// The registry's error code, such as `DENIED`.
        code: Option<String>,
    },

    /// The repository, tag, digest or endpoint does not exist.
    #[error(
        "not found (HTTP 404{}); check the repository name and the tag or digest",
        code_suffix(code.as_deref())
    )]
    NotFound {
        /// The registry's error code, such as `MANIFEST_UNKNOWN` or `NAME_UNKNOWN`.
        code: Option<String>,
    },

    /// A plain-HTTP request reached a registry that serves HTTPS.
    #[error(
        "the registry serves HTTPS but was contacted over plain HTTP because it is listed as \
         insecure; remove it from `--insecure-registry`"
    )]
    HttpToHttpsServer,

    /// The registry's certificate is not trusted.
    #[error(
        "the registry's TLS certificate is not trusted ({reason}); if the registry uses a \
         private CA, pass its certificate with `--ca-file`"
    )]
    UntrustedCertificate {
        /// The TLS library's reason, such as `UnknownIssuer`.
        reason: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },

    /// The TLS handshake got something that is not TLS back, such as a plain-HTTP server's
    /// answer.
    #[error(
        "the registry did not complete a TLS handshake, so it may serve plain HTTP; for a \
         plain-HTTP registry on a trusted network such as loopback, pass \
         `--insecure-registry HOST:PORT`"
    )]
    NotTls {
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },

    /// Another TLS failure.
    #[error("the TLS connection failed")]
    Tls {
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },

    /// The registry did not accept the connection or send a response within the configured
    /// timeouts, after the retries allowed for timeouts.
    #[error(
        "the registry did not respond within {request_seconds} s (connect timeout \
         {connect_seconds} s) in {attempts} attempt(s); check that it is reachable, or raise \
         `--registry-timeout`"
    )]
    TimedOut {
        /// Attempts made.
        attempts: u32,
        /// Time allowed to connect, in seconds.
        connect_seconds: u64,
        /// Time allowed for the response headers and for each read of the body, in seconds.
        request_seconds: u64,
        /// The last error.
        #[source]
        source: reqwest::Error,
    },

    /// The connection failed or broke, after the configured retries.
    #[error("request failed after {attempts} attempt(s)")]
    Transport {
        /// Attempts made.
        attempts: u32,
        /// The last error.
        #[source]
        source: reqwest::Error,
    },

    /// The registry kept answering with a server error or HTTP 429, after the configured
    /// retries.
    #[error(
        "the registry returned HTTP {status} after {attempts} attempt(s){}",
        message_suffix(message)
    )]
    ServerError {
        /// The last status.
        status: u16,
        /// Attempts made.
        attempts: u32,
        /// The registry's error message, if any.
        message: String,
    },

    /// Any other unexpected status.
    #[error("unexpected HTTP {status}{}", message_suffix(message))]
    UnexpectedStatus {
        /// The status.
        status: u16,
        /// The registry's error message, if any.
        message: String,
    },

    /// The registry requested a kind of authentication clearbox does not support.
    #[error("unsupported authentication challenge `{0}`; only Basic and Bearer are supported")]
    UnsupportedChallenge(String),

    /// The token server is reached over plain HTTP though its own host and port are not listed
    /// as insecure, which would expose the credentials.
    #[error(
        "the token server `{realm}` named by registry `{registry}` uses plain HTTP and \
         `{authority}` is not listed as insecure; pass `--insecure-registry {authority}` if \
         credentials may travel unencrypted to it"
    )]
    InsecureTokenServer {
        /// The token server URL.
        realm: String,
        /// The token server's `HOST:PORT`, the entry that would allow it.
        authority: String,
        /// The registry whose challenge named the token server.
        registry: String,
    },

    /// A response is malformed: bad JSON, a missing header, a body over the size limit.
    #[error("invalid response: {0}")]
    InvalidResponse(String),

    /// A blob's content does not match the digest it is uploaded under.
    #[error("the content hashes to {actual}, not to the digest given")]
    UploadDigestMismatch {
        /// The digest of the bytes read.
        actual: crate::Digest,
    },

    /// Reading the data to upload failed.
    #[error("failed to read the data to upload")]
    UploadSource(#[source] std::io::Error),
}

fn code_suffix(code: Option<&str>) -> String {
    code.map(|c| format!(", {c}")).unwrap_or_default()
}

fn message_suffix(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant that needs no live connection, with the text users see.
    #[test]
    fn messages_are_lowercase_without_period() {
        let problems = [
            RegistryProblem::AuthenticationRequired {
                registry: "reg.example".into(),
                note: Some("`config.json` names the credential helper `x`".into()),
            },
            RegistryProblem::CredentialsRejected {
                by: "the registry".into(),
                username: "alice".into(),
            },
            RegistryProblem::TokenRejected {
                realm: "https://auth.example/token".into(),
            },
            RegistryProblem::Denied {
                status: 403,
                code: Some("DENIED".into()),
            },
            RegistryProblem::NotFound { code: None },
            RegistryProblem::HttpToHttpsServer,
            RegistryProblem::ServerError {
                status: 503,
                attempts: 4,
                message: String::new(),
            },
            RegistryProblem::UnexpectedStatus {
                status: 418,
                message: "teapot".into(),
            },
            RegistryProblem::UnsupportedChallenge("Negotiate".into()),
            RegistryProblem::InsecureTokenServer {
                realm: "http://auth.example/token".into(),
                authority: "auth.example".into(),
                registry: "reg.example".into(),
            },
            RegistryProblem::InvalidResponse("the response has no Location header".into()),
            RegistryProblem::UploadDigestMismatch {
                actual: crate::Digest::of(b""),
            },
            RegistryProblem::UploadSource(std::io::Error::other("disk gone")),
        ];
        for problem in problems {
            let text = problem.to_string();
            assert!(text.starts_with(char::is_lowercase), "{text}");
            assert!(!text.ends_with('.'), "{text}");
        }
    }

    #[test]
    fn not_found_names_the_error_code() {
        let problem = RegistryProblem::NotFound {
            code: Some("MANIFEST_UNKNOWN".into()),
        };
        assert_eq!(
            problem.to_string(),
            "not found (HTTP 404, MANIFEST_UNKNOWN); check the repository name and the tag or \
             digest"
        );
    }

    #[test]
    fn registry_error_names_action_subject_and_registry() {
        let error = RegistryError {
            registry: "127.0.0.1:5000".into(),
            subject: "app:v1".into(),
            action: "get manifest",
            problem: RegistryProblem::NotFound { code: None },
        };
        assert_eq!(
            error.to_string(),
            "failed to get manifest `app:v1` at registry `127.0.0.1:5000`"
        );
    }
}
