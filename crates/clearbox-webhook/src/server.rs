//! The HTTPS server: routes, request size limit, TLS, and the signals it reacts to.
//!
//! | route | response |
//! |---|---|
//! | `POST /validate` | the `AdmissionReview` response; 400 for a malformed body, 413 for one over the limit |
//! | `GET /healthz` | 200 while the process serves |
//! | `GET /readyz` | 200 once the policy, the audit store and the certificate are loaded |
//! | `GET /metrics` | Prometheus text format |
//!
//! SIGHUP reloads the policy file and the certificate, each on its own: one that fails to load
//! is logged and the one in force stays. SIGTERM and SIGINT stop accepting connections, let
//! requests in progress finish for up to 10 seconds, and then seal the audit store when a seal
//! key is set (`writer.rs`).
//!
//! `header_read_timeout` closes slow and silent clients. It bounds three waits:
//! 1. the TLS handshake (the rustls acceptor's `handshake_timeout`);
//! 2. the first request's headers, including hyper's HTTP/1 or HTTP/2 detection, which has no
//!    timeout of its own (axum-server's `first_request_timeout`);
//! 3. the headers of each later HTTP/1 request, which also ends idle keep-alive connections
//!    (hyper's `header_read_timeout`).
//!
//!
//! A request body must arrive within `--timeout` of the headers, else the response is 408 and
//! the connection closes. An HTTP/2 connection that has sent its first request stays open while
//! idle, and the cap on connections (`listener.rs`) bounds those.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest as _, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use axum_server::{Handle, Server};
use clearbox_oci::registry::RegistryOptions;
use tokio::signal::unix::{SignalKind, signal};
use tracing::{info, warn};

use crate::admission::{Admission, Decision, decide};
use crate::cache::VerificationCache;
use crate::error::WebhookError;
use crate::listener::{LimitedAddress, LimitedListener};
use crate::metrics::{Counter, Metrics};
use crate::record;
use crate::review::{AdmissionRequest, parse_review, response};
use crate::state::{CurrentPolicy, LoadedPolicy, PolicyLoader};
use crate::writer::{AuditWriter, SealConfig};

/// How long requests in progress may run after SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Most cached verification results kept; each is a few hundred bytes.
const CACHE_ENTRIES: usize = 10_000;

/// The server's settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address and port to listen on; port 0 picks a free port, which `on_ready` receives.
    pub listen: SocketAddr,
    /// PEM certificate chain served to the API server.
    pub tls_cert: PathBuf,
    /// PEM private key of the certificate.
    pub tls_key: PathBuf,
    /// The audit store every decision is appended to: `sqlite://PATH` or a path.
    pub store_url: String,
    /// How to reach registries for signatures and attestations.
    pub registry: RegistryOptions,
    /// Time from a request's arrival by which verification must be done; an image not
    /// verified by then is denied. Keep it below the webhook's `timeoutSeconds` so that the
    /// API server receives the reason.
    pub timeout: Duration,
    /// How long verification results stay cached.
    pub cache_ttl: Duration,
    /// Largest request body accepted, in bytes; larger ones get 413.
    pub max_request_bytes: usize,
    /// Maximum wait for a client's TLS handshake, its first request's headers, and the headers
    /// of each later HTTP/1 request. A client that takes longer is disconnected.
    pub header_read_timeout: Duration,
    /// Maximum number of connections open at once, idle ones included. Further ones wait in
    /// the kernel's listen queue until one closes. Each open connection costs a task, a socket,
    /// and the buffers of rustls and hyper.
    pub max_connections: usize,
    /// How to seal the audit store; `None` leaves sealing to `clearbox audit seal`.
    pub seal: Option<SealConfig>,
}

struct AppState {
    policy: CurrentPolicy,
    loader: Box<PolicyLoader>,
    registry: Arc<RegistryOptions>,
    cache: Arc<VerificationCache>,
    metrics: Arc<Metrics>,
    audit: AuditWriter,
    timeout: Duration,
    max_request_bytes: usize,
}

/// Loads the policy, opens the audit store, and serves until SIGTERM or SIGINT. `on_ready`
/// receives the bound address and the policy once the server accepts connections.
pub fn serve(
    config: ServerConfig,
    loader: Box<PolicyLoader>,
    on_ready: impl FnOnce(SocketAddr, &LoadedPolicy) + Send + 'static,
) -> Result<(), WebhookError> {
    let serve_error = |source| WebhookError::Serve {
        listen: config.listen,
        source,
    };
    let initial = loader().map_err(WebhookError::Policy)?;
    let metrics = Arc::new(Metrics::default());
    let audit = AuditWriter::open(
        &config.store_url,
        config.seal.clone(),
        config.timeout,
        Arc::clone(&metrics),
    )?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(serve_error)?;
    let state = Arc::new(AppState {
        policy: CurrentPolicy::new(initial),
        loader,
        registry: Arc::new(config.registry.clone()),
        cache: Arc::new(VerificationCache::new(config.cache_ttl, CACHE_ENTRIES)),
        metrics,
        audit,
        timeout: config.timeout,
        max_request_bytes: config.max_request_bytes,
    });
    runtime.block_on(run(config, state, on_ready))
}

async fn run(
    config: ServerConfig,
    state: Arc<AppState>,
    on_ready: impl FnOnce(SocketAddr, &LoadedPolicy) + Send + 'static,
) -> Result<(), WebhookError> {
    let serve_error = |source| WebhookError::Serve {
        listen: config.listen,
        source,
    };
    let tls = RustlsConfig::from_pem_file(&config.tls_cert, &config.tls_key)
        .await
        .map_err(|source| WebhookError::Tls {
            cert: config.tls_cert.clone(),
            key: config.tls_key.clone(),
            source,
        })?;
    let app = Router::new()
        .route("/validate", post(validate))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(|| async { "ready\n" }))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(config.max_request_bytes))
        .with_state(Arc::clone(&state));

    // The listener with its connection cap, and the three waits for slow clients.
    let listener = LimitedListener::bind(
        config.listen,
        config.max_connections,
        Arc::clone(&state.metrics),
    )
    .map_err(serve_error)?;
    let acceptor = RustlsAcceptor::new(tls.clone()).handshake_timeout(config.header_read_timeout);
    let mut server = Server::from_listener(listener)
        .acceptor(acceptor)
        .first_request_timeout(config.header_read_timeout);
    server
        .http_builder()
        .http1()
        .header_read_timeout(config.header_read_timeout);

    // Signals, the ready callback, and the periodic seals.
    let handle: Handle<LimitedAddress> = Handle::new();
    watch_signals(Arc::clone(&state), handle.clone(), tls, &config)?;
    let ready = handle.clone();
    let ready_state = Arc::clone(&state);
    tokio::spawn(async move {
        if let Some(LimitedAddress(address)) = ready.listening().await {
            info!(%address, "listening");
            on_ready(address, &ready_state.policy.get());
        }
    });
    state.audit.start_sealing();

    // Serve until SIGTERM or SIGINT and the requests in progress have finished, then seal.
    let outcome = server
        .handle(handle)
        .serve(app.into_make_service())
        .await
        .map_err(serve_error);
    let sealed = state.audit.finish().await;
    outcome?;
    sealed.map_err(WebhookError::FinalSeal)?;
    info!("stopped");
    Ok(())
}

/// Starts the tasks that reload on SIGHUP and stop on SIGTERM or SIGINT.
fn watch_signals(
    state: Arc<AppState>,
    handle: Handle<LimitedAddress>,
    tls: RustlsConfig,
    config: &ServerConfig,
) -> Result<(), WebhookError> {
    let listen = config.listen;
    let install = |kind| signal(kind).map_err(|source| WebhookError::Serve { listen, source });
    let mut hangup = install(SignalKind::hangup())?;
    let mut terminate = install(SignalKind::terminate())?;
    let mut interrupt = install(SignalKind::interrupt())?;
    let (cert, key) = (config.tls_cert.clone(), config.tls_key.clone());
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            reload(&state);
            match tls.reload_from_pem_file(&cert, &key).await {
                Ok(()) => info!(cert = %cert.display(), "reloaded the TLS certificate"),
                Err(error) => warn!(
                    cert = %cert.display(),
                    %error,
                    "failed to reload the TLS certificate; the one in force stays"
                ),
            }
        }
    });
    tokio::spawn(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        info!("stopping: no new connections, requests in progress may finish");
        handle.graceful_shutdown(Some(SHUTDOWN_GRACE));
    });
    Ok(())
}

/// Loads the policy again; a policy that fails to load is logged and the old one stays.
fn reload(state: &AppState) {
    match (state.loader)() {
        Ok(loaded) => {
            info!(
                policy = %loaded.policy.file.display(),
                digest = %loaded.policy.digest,
                "reloaded the policy"
            );
            state.policy.replace(loaded);
            state.cache.clear();
            state.metrics.increment(Counter::ReloadSucceeded);
        }
        Err(error) => {
            let current = state.policy.get();
            warn!(
                %error,
                digest = %current.policy.digest,
                "failed to reload the policy; the one in force stays"
            );
            state.metrics.increment(Counter::ReloadFailed);
        }
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let mut response = state.metrics.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// `POST /validate`.
async fn validate(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let start = tokio::time::Instant::now();
    let (status, response) = match read_body(&state, request).await {
        Err((status, reason)) => {
            warn!(status = status.as_u16(), %reason, "rejected a request body");
            (status, plain(status, &reason))
        }
        Ok(body) => match parse_review(&body) {
            Err(error) => {
                warn!(%error, "rejected a malformed AdmissionReview");
                let status = StatusCode::BAD_REQUEST;
                (status, plain(status, &error.to_string()))
            }
            Ok(request) => (StatusCode::OK, admit(&state, &request, start).await),
        },
    };
    state
        .metrics
        .observe_request(status.as_u16(), start.elapsed());
    response
}

/// Reads the request body, at most `max_request_bytes` of it.
///
/// A body whose `Content-Length` is over the limit is rejected before any of it is read. hyper
/// sends `100 Continue` only once the body is read, so a client that waits for it (curl does
/// for bodies over 1 MiB) never sends the body. Otherwise the server would close the connection
/// with the body unread, the kernel would respond to the client's further data with a reset,
/// and the client could lose the 413 response.
async fn read_body(state: &AppState, request: Request) -> Result<Bytes, (StatusCode, String)> {
    let limit = state.max_request_bytes;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if let Some(length) = declared.filter(|length| *length > limit as u64) {
        return Err((
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the request body of {length} bytes is over the limit of {limit} bytes; raise \
                 --max-request-bytes if the API server sends objects this large"
            ),
        ));
    }
    // A client that sends headers and then stalls would hold its connection past the
    // header-read timeout; the body must arrive within the admission deadline.
    let timeout = state.timeout;
    match tokio::time::timeout(timeout, Bytes::from_request(request, &())).await {
        Ok(body) => body.map_err(|rejection| (rejection.status(), rejection.body_text())),
        Err(_) => Err((
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {timeout:?} of its headers (--timeout)"
            ),
        )),
    }
}

/// Decides and records one admission, and returns the response.
async fn admit(
    state: &AppState,
    request: &AdmissionRequest,
    start: tokio::time::Instant,
) -> Response {
    let loaded = state.policy.get();
    let admission = Admission {
        loaded: Arc::clone(&loaded),
        registry: Arc::clone(&state.registry),
        cache: Arc::clone(&state.cache),
        metrics: Arc::clone(&state.metrics),
        deadline: start + state.timeout,
        timeout: state.timeout,
    };
    let mut decision: Decision = decide(&admission, request).await;
    let events = record::events(request, &decision, &loaded.policy.digest);
    if let Err(error) = state.audit.append(events).await {
        warn!(uid = %request.uid, %error, "denied an admission whose audit record failed");
        state.metrics.increment(Counter::AuditError);
        decision.deny(&format!(
            "denied because the decision could not be recorded in the audit store ({error}); \
             the webhook admits nothing unrecorded, so fix the store"
        ));
    }
    state.metrics.increment(if decision.allowed {
        Counter::Allowed
    } else {
        Counter::Denied
    });
    info!(
        uid = %request.uid,
        workload = decision.workload.as_deref().unwrap_or("-"),
        allowed = decision.allowed,
        message = %decision.message,
        "admission"
    );
    let body = response(&request.uid, decision.allowed, &decision.message);
    let mut response = body.to_string().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn plain(status: StatusCode, message: &str) -> Response {
    (status, format!("{message}\n")).into_response()
}
