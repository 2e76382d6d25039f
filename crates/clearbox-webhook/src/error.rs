//! Errors that stop the webhook from starting or serving. An error while handling one request
//! never stops the server, because it denies that request with the reason.

use std::path::PathBuf;

/// The reasons the webhook cannot start or stopped serving.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The policy file or its keys cannot be loaded.
    #[error("failed to load the policy: {0}")]
    Policy(String),
    /// The audit store cannot be opened.
    #[error(transparent)]
    Audit(#[from] clearbox_audit::AuditError),
    /// The certificate or key cannot be read or does not form a TLS configuration.
    #[error("failed to load the TLS certificate `{cert}` and key `{key}`")]
    Tls {
        /// `--tls-cert`.
        cert: PathBuf,
        /// `--tls-key`.
        key: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The last seal at shutdown failed, so the records since the previous seal are unsealed.
    #[error(
        "the audit store could not be sealed at shutdown ({0}); the records since its last seal \
         stay unsealed until `clearbox audit seal --key KEY` seals them"
    )]
    FinalSeal(String),
    /// The runtime, the listening socket or the server failed.
    #[error("the server failed on `{listen}`")]
    Serve {
        /// `--listen`.
        listen: std::net::SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}
