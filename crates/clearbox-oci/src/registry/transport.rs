//! Sending one registry request: URLs, authentication rounds, bounded retries, and turning
//! statuses and connection failures into [`RegistryProblem`]s.
//!
//! Every request is logged at debug level with its method, the URL without its query (upload
//! URLs carry upload state there, and storage redirects carry signatures) and the status.
//! Credentials and tokens travel only in `Authorization` headers, which are marked sensitive
//! and never logged.

use std::error::Error as StdError;
use std::io::{self, Read};
use std::time::Duration;

use reqwest::blocking::Response;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use tracing::{debug, warn};

use crate::error::OciError;
use crate::registry::RegistryClient;
use crate::registry::error::{RegistryError, RegistryProblem};

/// Authentication challenges handled for one request: the first 401 sets up Basic or a
/// token, a second one may replace an expired token.
const MAX_CHALLENGES: u32 = 2;

/// One request, kept so that it can be sent again after a challenge or a transient failure.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<Vec<u8>>,
    /// Token scopes the request needs, such as `repository:app:pull`.
    pub(crate) scopes: Vec<String>,
    /// False for requests that must not be sent twice (chunk uploads).
    pub(crate) retry: bool,
}

impl Request {
    pub(crate) fn new(method: Method, url: Url, scopes: Vec<String>) -> Self {
        Request {
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            scopes,
            retry: true,
        }
    }

    pub(crate) fn header(mut self, name: reqwest::header::HeaderName, value: &str) -> Self {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.insert(name, value);
        }
        self
    }

    pub(crate) fn body(mut self, body: Vec<u8>) -> Self {
        self.body = Some(body);
        self
    }
}

/// The purpose of a request, to name it in errors.
#[derive(Debug, Clone)]
pub(crate) struct Context<'a> {
    pub(crate) registry: &'a str,
    pub(crate) subject: String,
    pub(crate) action: &'static str,
}

impl Context<'_> {
    pub(crate) fn error(&self, problem: RegistryProblem) -> OciError {
        OciError::Registry(Box::new(RegistryError {
            registry: self.registry.to_owned(),
            subject: self.subject.clone(),
            action: self.action,
            problem,
        }))
    }
}

/// The kind of `Authorization` header a request carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sent {
    Nothing,
    Basic,
    Bearer,
}

impl RegistryClient {
    /// Builds the URL of `path` below `/v2/` of `registry`, over HTTP when the registry is listed as
    /// insecure and HTTPS otherwise.
    pub(crate) fn url(&self, registry: &str, path: &str) -> Result<Url, RegistryProblem> {
        let scheme = if self.options.is_insecure(registry) {
            "http"
        } else {
            "https"
        };
        let text = format!("{scheme}://{}/v2/{path}", api_host(registry));
        Url::parse(&text)
            .map_err(|e| RegistryProblem::InvalidResponse(format!("invalid URL `{text}`: {e}")))
    }

    /// Sends a request to `context.registry`, handling up to [`MAX_CHALLENGES`]
    /// authentication challenges.
    /// Statuses other than 401 are returned as they are, except server errors that outlived
    /// the retries.
    pub(crate) fn send(&self, request: &Request, context: &Context) -> Result<Response, OciError> {
        let registry = context.registry;
        let mut challenges = 0;
        loop {
            // Authorization goes only to the registry's own host; an upload URL pointing
            // elsewhere gets none.
            let same_host = request.url.host_str() == Some(host_of_api(registry))
                && request.url.port_or_known_default() == self.port_of(registry);
            let (authorization, sent) = if same_host {
                self.authorization(registry, &request.scopes)
                    .map_err(|p| context.error(p))?
            } else {
                (None, Sent::Nothing)
            };
            let response = self
                .execute(request, authorization.as_ref())
                .map_err(|p| context.error(p))?;
            if response.status() != StatusCode::UNAUTHORIZED || !same_host {
                return Ok(response);
            }
            challenges += 1;
            if challenges > MAX_CHALLENGES {
                return Err(context.error(RegistryProblem::UnexpectedStatus {
                    status: 401,
                    message: format!("still unauthorized after {MAX_CHALLENGES} challenges"),
                }));
            }
            let values: Vec<String> = response
                .headers()
                .get_all(WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok().map(str::to_owned))
                .collect();
            self.answer_challenge(registry, &request.scopes, &values, sent, challenges)
                .map_err(|p| context.error(p))?;
        }
    }

    /// Sends `request` once, or again after a transient failure as the retry policy allows.
    /// A server error or HTTP 429 that outlives the retries becomes
    /// [`RegistryProblem::ServerError`].
    pub(crate) fn execute(
        &self,
        request: &Request,
        authorization: Option<&HeaderValue>,
    ) -> Result<Response, RegistryProblem> {
        let policy = &self.options.retry;
        let attempts = if request.retry {
            policy.max_retries.saturating_add(1)
        } else {
            1
        };
        let mut attempt = 0;
        let mut timeouts = 0;
        loop {
            attempt += 1;
            let outcome = self.send_once(request, authorization);
            if matches!(&outcome, Err(e) if e.is_timeout()) {
                timeouts += 1;
            }
            let retry_after = match &outcome {
                Ok(response) if is_transient_status(response.status()) => {
                    Some(retry_after(response.headers()))
                }
                Err(e) if e.is_timeout() && timeouts > policy.max_timeout_retries => None,
                Err(e) if is_transient_error(e) => Some(None),
                _ => None,
            };
            match (retry_after, outcome) {
                (Some(retry_after), outcome) if attempt < attempts => {
                    let wait = policy.backoff(attempt, retry_after);
                    let cause = match &outcome {
                        Ok(response) => format!("HTTP {}", response.status().as_u16()),
                        Err(e) => error_chain(e),
                    };
                    warn!(
                        method = %request.method,
                        url = %redact(&request.url),
                        attempt,
                        wait_ms = wait.as_millis(),
                        "registry request failed ({cause}); retrying"
                    );
                    std::thread::sleep(wait);
                }
                (_, Ok(response)) if is_server_error(response.status()) => {
                    let status = response.status().as_u16();
                    let message = error_body(response).message;
                    return Err(RegistryProblem::ServerError {
                        status,
                        attempts: attempt,
                        message,
                    });
                }
                (_, Ok(response)) => return Ok(response),
                (_, Err(e)) => return Err(self.transport_problem(e, attempt)),
            }
        }
    }

    fn send_once(
        &self,
        request: &Request,
        authorization: Option<&HeaderValue>,
    ) -> Result<Response, reqwest::Error> {
        let mut builder = self
            .http
            .request(request.method.clone(), request.url.clone())
            .headers(request.headers.clone());
        if let Some(value) = authorization {
            builder = builder.header(AUTHORIZATION, value.clone());
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let outcome = builder.send();
        match &outcome {
            Ok(response) => debug!(
                method = %request.method,
                url = %redact(&request.url),
                status = response.status().as_u16(),
                "registry request"
            ),
            Err(e) => debug!(
                method = %request.method,
                url = %redact(&request.url),
                error = %error_chain(e),
                "registry request failed"
            ),
        }
        outcome.map_err(reqwest::Error::without_url)
    }

    /// Sorts a connection failure into the problem that gives the user the fix.
    fn transport_problem(&self, error: reqwest::Error, attempts: u32) -> RegistryProblem {
        match find_in_chain::<rustls::Error>(&error) {
            Some(tls @ rustls::Error::InvalidCertificate(_)) => {
                RegistryProblem::UntrustedCertificate {
                    reason: tls.to_string(),
                    source: error,
                }
            }
            Some(rustls::Error::InvalidMessage(_)) => RegistryProblem::NotTls { source: error },
            Some(_) => RegistryProblem::Tls { source: error },
            None if error.is_timeout() => RegistryProblem::TimedOut {
                attempts,
                connect_seconds: self.options.connect_timeout.as_secs(),
                request_seconds: self.options.io_timeout.as_secs(),
                source: error,
            },
            None => RegistryProblem::Transport {
                attempts,
                source: error,
            },
        }
    }

    /// Returns the port requests to `registry` go to, for comparing URLs.
    fn port_of(&self, registry: &str) -> Option<u16> {
        self.url(registry, "").ok()?.port_or_known_default()
    }
}

/// Returns the host that serves the registry API. Docker Hub's API is not at `docker.io`
/// itself.
pub(crate) fn api_host(registry: &str) -> &str {
    match registry {
        "docker.io" | "index.docker.io" => "registry-1.docker.io",
        other => other,
    }
}

/// Returns the API host without its port, as `Url::host_str` gives it.
fn host_of_api(registry: &str) -> &str {
    crate::registry::options::host_of(api_host(registry))
}

/// Formats a URL for logs and messages: scheme, host, port and path, without the query.
pub(crate) fn redact(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    let _ = shown.set_password(None);
    let _ = shown.set_username("");
    shown.to_string()
}

fn is_server_error(status: StatusCode) -> bool {
    status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS
}

/// Returns true for statuses worth another attempt. 501 and 505 mean the server will never
/// handle the request.
fn is_transient_status(status: StatusCode) -> bool {
    is_server_error(status)
        && status != StatusCode::NOT_IMPLEMENTED
        && status != StatusCode::HTTP_VERSION_NOT_SUPPORTED
}

/// Connection failures worth another attempt: refused, reset, closed early or timed out.
/// TLS failures are not; they will fail the same way again.
fn is_transient_error(error: &reqwest::Error) -> bool {
    if find_in_chain::<rustls::Error>(error).is_some() || error.is_builder() {
        return false;
    }
    error.is_connect() || error.is_timeout() || error.is_request() || error.is_body()
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

/// Finds an error of type `T` in a source chain. An `io::Error`'s `source()` skips the error
/// it wraps, which is where TLS errors travel, so the walk steps into the wrapped error
/// instead.
pub(crate) fn find_in_chain<'a, T: StdError + 'static>(
    error: &'a (dyn StdError + 'static),
) -> Option<&'a T> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        current = match e.downcast_ref::<io::Error>().and_then(io::Error::get_ref) {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
    }
    None
}

/// Formats an error and its sources on one line, for logs.
pub(crate) fn error_chain(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut current = error.source();
    while let Some(e) = current {
        text.push_str(": ");
        text.push_str(&e.to_string());
        current = e.source();
    }
    text
}

/// The parts of a registry error body worth showing.
#[derive(Debug, Default)]
pub(crate) struct ErrorBody {
    /// The first error code, such as `MANIFEST_UNKNOWN`.
    pub(crate) code: Option<String>,
    /// `CODE: message` of each error, or the start of a non-JSON body.
    pub(crate) message: String,
}

#[derive(Deserialize)]
struct ErrorList {
    #[serde(default)]
    errors: Vec<ErrorEntry>,
}

#[derive(Deserialize)]
struct ErrorEntry {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// Reads the start of an error response: the distribution spec's `{"errors": [...]}` or the
/// first line of plain text.
pub(crate) fn error_body(response: Response) -> ErrorBody {
    let mut bytes = Vec::new();
    let _ = response.take(16 << 10).read_to_end(&mut bytes);
    if let Ok(list) = serde_json::from_slice::<ErrorList>(&bytes)
        && !list.errors.is_empty()
    {
        let message = list
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.code, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        return ErrorBody {
            code: Some(list.errors[0].code.clone()).filter(|c| !c.is_empty()),
            message,
        };
    }
    let text = String::from_utf8_lossy(&bytes);
    let line = text.lines().map(str::trim).find(|l| !l.is_empty());
    ErrorBody {
        code: None,
        message: line.unwrap_or_default().chars().take(200).collect(),
    }
}

/// Returns the response when its status is one of `expected`, else the problem the status
/// means. 401 reaches here only when the authentication rounds gave up without an error of
/// their own.
pub(crate) fn expect_status(
    response: Response,
    expected: &[StatusCode],
    context: &Context,
) -> Result<Response, OciError> {
    let status = response.status();
    if expected.contains(&status) {
        return Ok(response);
    }
    Err(context.error(status_problem(response)))
}

pub(crate) fn status_problem(response: Response) -> RegistryProblem {
    let status = response.status();
    let body = error_body(response);
    match status {
        StatusCode::FORBIDDEN => RegistryProblem::Denied {
            status: status.as_u16(),
            code: body.code,
        },
        StatusCode::NOT_FOUND => RegistryProblem::NotFound { code: body.code },
        // Go's TLS server answers a plain-HTTP request with this text.
        StatusCode::BAD_REQUEST if body.message.contains("HTTP request to an HTTPS server") => {
            RegistryProblem::HttpToHttpsServer
        }
        _ => RegistryProblem::UnexpectedStatus {
            status: status.as_u16(),
            message: body.message,
        },
    }
}

/// Reads a whole response body of at most `max` bytes.
pub(crate) fn read_limited(
    response: Response,
    max: u64,
    context: &Context,
) -> Result<Vec<u8>, OciError> {
    if let Some(length) = response.content_length()
        && length > max
    {
        return Err(context.error(RegistryProblem::InvalidResponse(format!(
            "the response is {length} bytes, more than the limit of {max} bytes"
        ))));
    }
    let mut bytes = Vec::new();
    response
        .take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            context.error(RegistryProblem::InvalidResponse(format!(
                "reading the body failed: {e}"
            )))
        })?;
    if bytes.len() as u64 > max {
        return Err(context.error(RegistryProblem::InvalidResponse(format!(
            "the response is more than the limit of {max} bytes"
        ))));
    }
    Ok(bytes)
}

/// A header value as text, if present and visible ASCII.
pub(crate) fn header_text<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.headers().get(name)?.to_str().ok()
}

/// Resolves a `Location` header against the URL of the request that returned it.
pub(crate) fn location(response: &Response, context: &Context) -> Result<Url, OciError> {
    let Some(value) = header_text(response, "location") else {
        return Err(context.error(RegistryProblem::InvalidResponse(
            "the response has no Location header".into(),
        )));
    };
    response.url().join(value).map_err(|e| {
        context.error(RegistryProblem::InvalidResponse(format!(
            "invalid Location header: {e}"
        )))
    })
}

/// The `rel="next"` target of the response's `Link` headers, resolved against its URL.
pub(crate) fn next_link(response: &Response) -> Option<Url> {
    let values = response
        .headers()
        .get_all("link")
        .iter()
        .filter_map(|v| v.to_str().ok());
    parse_next_link(values, response.url())
}

/// Finds `<target>; rel="next"` among `Link` header values (RFC 8288) and resolves the
/// target against `base`.
fn parse_next_link<'a>(values: impl Iterator<Item = &'a str>, base: &Url) -> Option<Url> {
    for value in values {
        for link in value.split(',') {
            let Some((target, params)) = link.trim().split_once(';') else {
                continue;
            };
            let is_next = params.split(';').any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            });
            if is_next {
                let target = target.trim().trim_start_matches('<').trim_end_matches('>');
                return base.join(target).ok();
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_drops_query_and_user_info() {
        let url = Url::parse("https://u:p@reg.example:5000/v2/a/blobs/uploads/x?_state=s").unwrap();
        assert_eq!(
            redact(&url),
            "https://reg.example:5000/v2/a/blobs/uploads/x"
        );
    }

    #[test]
    fn docker_hub_api_host() {
        assert_eq!(api_host("docker.io"), "registry-1.docker.io");
        assert_eq!(api_host("127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(host_of_api("127.0.0.1:5000"), "127.0.0.1");
    }

    #[test]
    fn next_link_resolves_relative_target() {
        let base = Url::parse("http://127.0.0.1:5000/v2/_catalog?n=2").unwrap();
        let values = [r#"</v2/_catalog?last=a%2Fb&n=2>; rel="next""#];
        let next = parse_next_link(values.into_iter(), &base).unwrap();
        assert_eq!(
            next.as_str(),
            "http://127.0.0.1:5000/v2/_catalog?last=a%2Fb&n=2"
        );
    }

    #[test]
    fn next_link_ignores_other_relations() {
        let base = Url::parse("https://reg.example/v2/a/tags/list").unwrap();
        let values = [r#"<https://reg.example/v2/a/tags/list?last=x>; rel="prev""#];
        assert_eq!(parse_next_link(values.into_iter(), &base), None);
        let several = [r#"<p>; rel="prev", <n?last=y>; rel="next""#];
        let next = parse_next_link(several.into_iter(), &base).unwrap();
        assert_eq!(next.as_str(), "https://reg.example/v2/a/tags/n?last=y");
    }

    #[test]
    fn transient_statuses() {
        assert!(is_transient_status(StatusCode::SERVICE_UNAVAILABLE));
        assert!(is_transient_status(StatusCode::TOO_MANY_REQUESTS));
        assert!(is_transient_status(StatusCode::INTERNAL_SERVER_ERROR));
        assert!(!is_transient_status(StatusCode::NOT_IMPLEMENTED));
        assert!(!is_transient_status(StatusCode::NOT_FOUND));
    }
}
