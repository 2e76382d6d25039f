//! Authentication: anonymous, Basic, and Bearer tokens from the registry's token server.
//!
//! Implements the client side of Docker's token authentication
//! (<https://distribution.github.io/distribution/spec/auth/token/>):
//!
//! 1. A request goes out anonymously, or with what the registry asked for before.
//! 2. A 401 carries `WWW-Authenticate`. `Basic` means resending with the credentials.
//!    `Bearer realm=…,service=…,scope=…` means `GET realm?service=…&scope=…`, with Basic
//!    credentials when there are some, and resending with the token from the JSON response
//!    (`token`, or its OAuth 2 name `access_token`).
//! 3. Tokens are cached per registry and scope set until shortly before `expires_in` (60 s
//!    when absent, as the specification says); later requests for a cached scope skip the
//!    401 round.
//!
//! Not supported: the OAuth 2 refresh-token flow (`POST` to the realm with an identity token)
//! and schemes other than Basic and Bearer.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use std::io::Read;

use reqwest::blocking::Response;
use reqwest::header::{ACCEPT, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use tracing::{debug, warn};

use crate::registry::RegistryClient;
use crate::registry::challenge::{BearerChallenge, Challenge, select_challenge};
use crate::registry::docker_config::{DockerConfig, StoredCredentials};
use crate::registry::error::RegistryProblem;
use crate::registry::options::Credentials;
use crate::registry::transport::{Request, Sent, error_body, redact};

/// Tokens are dropped this long before they expire, so that one does not lapse in flight.
const EXPIRY_MARGIN: Duration = Duration::from_secs(10);

/// Lifetime of a token whose response has no `expires_in`, per the token specification.
const DEFAULT_TOKEN_LIFETIME: u64 = 60;

/// Maximum size of a token server's response.
const MAX_TOKEN_RESPONSE: u64 = 1 << 20;

/// Per-registry authentication state: the scheme each registry asked for, and its tokens.
#[derive(Debug, Default)]
pub(crate) struct AuthCache {
    registries: Mutex<HashMap<String, RegistryAuth>>,
}

#[derive(Debug, Default)]
struct RegistryAuth {
    scheme: Scheme,
    /// Tokens by scope set (the scopes sorted and joined with spaces).
    tokens: HashMap<String, CachedToken>,
    /// Set once a warning about unusable stored credentials has been logged.
    warned: bool,
}

#[derive(Debug, Default, Clone)]
enum Scheme {
    /// No challenge seen yet: requests go out anonymously.
    #[default]
    Unknown,
    Basic,
    Bearer(BearerChallenge),
}

#[derive(Clone)]
struct CachedToken {
    header: HeaderValue,
    expires: Instant,
}

impl std::fmt::Debug for CachedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedToken")
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

/// The sources of a client's credentials: given directly, else Docker's config file.
#[derive(Debug)]
pub(crate) struct CredentialSource {
    pub(crate) explicit: Option<Credentials>,
    pub(crate) docker_config: DockerConfig,
}

impl CredentialSource {
    /// Looks up the credentials for `registry`, or the reason stored ones cannot be used.
    fn lookup(&self, registry: &str) -> StoredCredentials {
        match &self.explicit {
            Some(credentials) => StoredCredentials::Basic(credentials.clone()),
            None => self.docker_config.credentials_for(registry),
        }
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl RegistryClient {
    /// Returns the `Authorization` header for a request to `registry` that needs `scopes`,
    /// fetching a token first when the registry uses tokens and none is cached.
    pub(crate) fn authorization(
        &self,
        registry: &str,
        scopes: &[String],
    ) -> Result<(Option<HeaderValue>, Sent), RegistryProblem> {
        let key = scope_key(scopes);
        let scheme = {
            let mut registries = self.lock_auth();
            let entry = registries.entry(registry.to_owned()).or_default();
            if let Some(token) = entry.tokens.get(&key)
                && token.expires > Instant::now()
            {
                return Ok((Some(token.header.clone()), Sent::Bearer));
            }
            entry.scheme.clone()
        };
        match scheme {
            Scheme::Unknown => Ok((None, Sent::Nothing)),
            Scheme::Basic => match self.credentials(registry) {
                (Some(credentials), _) => Ok((Some(basic_header(&credentials)), Sent::Basic)),
                (None, _) => Ok((None, Sent::Nothing)),
            },
            Scheme::Bearer(challenge) => {
                let header = self.fetch_token(registry, &challenge, scopes)?;
                Ok((Some(header), Sent::Bearer))
            }
        }
    }

    /// Acts on a 401: records the scheme and fetches a token, or returns the problem to
    /// report when the challenge cannot be met. `round` counts the 401s of this request.
    pub(crate) fn answer_challenge(
        &self,
        registry: &str,
        scopes: &[String],
        www_authenticate: &[String],
        sent: Sent,
        round: u32,
    ) -> Result<(), RegistryProblem> {
        let Some(challenge) = select_challenge(www_authenticate.iter().map(String::as_str)) else {
            return Err(match www_authenticate.first() {
                Some(value) => RegistryProblem::UnsupportedChallenge(value.clone()),
                None => RegistryProblem::UnexpectedStatus {
                    status: 401,
                    message: "no WWW-Authenticate header".into(),
                },
            });
        };
        let (credentials, note) = self.credentials(registry);
        match challenge {
            Challenge::Basic => {
                let Some(credentials) = credentials else {
                    return Err(authentication_required(registry, note));
                };
                if sent == Sent::Basic || round > 1 {
                    return Err(RegistryProblem::CredentialsRejected {
                        by: "the registry".into(),
                        username: credentials.username,
                    });
                }
                debug!(registry, "registry asks for Basic authentication");
                self.set_scheme(registry, Scheme::Basic);
                Ok(())
            }
            Challenge::Bearer(bearer) => {
                if sent == Sent::Bearer {
                    // A token was sent and refused: it lacks the scope, or the registry does
                    // not accept this token server's tokens. A second refusal ends it.
                    self.forget_token(registry, scopes);
                    if bearer.error.as_deref() == Some("insufficient_scope") {
                        return Err(match credentials {
                            None => authentication_required(registry, note),
                            Some(_) => RegistryProblem::Denied {
                                status: 401,
                                code: bearer.error,
                            },
                        });
                    }
                    if round > 1 {
                        return Err(RegistryProblem::TokenRejected {
                            realm: bearer.realm,
                        });
                    }
                }
                debug!(registry, realm = %bearer.realm, "registry asks for a bearer token");
                let mut wanted = scopes.to_vec();
                if let Some(scope) = &bearer.scope
                    && !wanted.contains(scope)
                {
                    wanted.push(scope.clone());
                }
                self.set_scheme(registry, Scheme::Bearer(bearer.clone()));
                self.fetch_token(registry, &bearer, &wanted)?;
                if wanted.len() != scopes.len() {
                    // Cache the token under the request's own scopes too, so that the retry
                    // finds it.
                    self.copy_token(registry, &wanted, scopes);
                }
                Ok(())
            }
        }
    }

    /// Gets a token for `scopes` from the challenge's realm and caches it.
    fn fetch_token(
        &self,
        registry: &str,
        challenge: &BearerChallenge,
        scopes: &[String],
    ) -> Result<HeaderValue, RegistryProblem> {
        // Ask the token server, with Basic credentials when there are some.
        let url = self.token_url(registry, challenge, scopes)?;
        let (credentials, note) = self.credentials(registry);
        let request = Request::new(Method::GET, url, Vec::new()).header(ACCEPT, "application/json");
        let authorization = credentials.as_ref().map(basic_header);
        let response = self.execute(&request, authorization.as_ref())?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(match credentials {
                Some(credentials) => RegistryProblem::CredentialsRejected {
                    by: format!("the token server `{}`", challenge.realm),
                    username: credentials.username,
                },
                None => authentication_required(registry, note),
            });
        }
        if status != StatusCode::OK {
            let body = error_body(response);
            return Err(RegistryProblem::UnexpectedStatus {
                status: status.as_u16(),
                message: format!("from the token server: {}", body.message),
            });
        }

        // Cache the token until shortly before it expires.
        let (header, lifetime) = read_token(response)?;
        let expires = Instant::now() + lifetime.saturating_sub(EXPIRY_MARGIN);
        debug!(
            registry,
            scopes = %scope_key(scopes),
            lifetime_s = lifetime.as_secs(),
            "got a registry token"
        );
        let token = CachedToken {
            header: header.clone(),
            expires,
        };
        self.lock_auth()
            .entry(registry.to_owned())
            .or_default()
            .tokens
            .insert(scope_key(scopes), token);
        Ok(header)
    }

    /// Builds the realm URL with `service` and `scope` parameters. A plain-HTTP realm is used only
    /// when its own host and port are listed as insecure: listing the registry does not extend to
    /// a token server on another port or host, because the Basic credentials go there.
    fn token_url(
        &self,
        registry: &str,
        challenge: &BearerChallenge,
        scopes: &[String],
    ) -> Result<Url, RegistryProblem> {
        let mut url = Url::parse(&challenge.realm).map_err(|e| {
            RegistryProblem::InvalidResponse(format!(
                "the token server URL `{}` is invalid: {e}",
                challenge.realm
            ))
        })?;
        if url.scheme() != "https" && !self.is_insecure_realm(&url) {
            return Err(RegistryProblem::InsecureTokenServer {
                realm: redact(&url),
                authority: realm_authority(&url),
                registry: registry.to_owned(),
            });
        }
        {
            let mut query = url.query_pairs_mut();
            if let Some(service) = &challenge.service {
                query.append_pair("service", service);
            }
            for scope in scopes {
                query.append_pair("scope", scope);
            }
        }
        Ok(url)
    }

    /// Returns true when the realm's `HOST:PORT` (or `HOST` for the default port) is listed as
    /// insecure. A bare `HOST` entry lists every port of that host.
    fn is_insecure_realm(&self, url: &Url) -> bool {
        let authority = realm_authority(url);
        let host = url.host_str().unwrap_or_default();
        let with_default_port = url
            .port_or_known_default()
            .map(|port| format!("{host}:{port}"));
        self.options.is_insecure(&authority)
            || with_default_port.is_some_and(|entry| self.options.is_insecure(&entry))
    }

    /// Looks up the credentials for `registry`; without usable ones, returns the reason
    /// stored ones cannot be used and logs it once per registry.
    fn credentials(&self, registry: &str) -> (Option<Credentials>, Option<String>) {
        match self.credential_source.lookup(registry) {
            StoredCredentials::Basic(credentials) => (Some(credentials), None),
            StoredCredentials::None => (None, None),
            StoredCredentials::Unusable(reason) => {
                let mut registries = self.lock_auth();
                let entry = registries.entry(registry.to_owned()).or_default();
                if !entry.warned {
                    entry.warned = true;
                    warn!(registry, "{reason}; continuing without credentials");
                }
                (None, Some(reason))
            }
        }
    }

    fn set_scheme(&self, registry: &str, scheme: Scheme) {
        self.lock_auth()
            .entry(registry.to_owned())
            .or_default()
            .scheme = scheme;
    }

    fn forget_token(&self, registry: &str, scopes: &[String]) {
        if let Some(entry) = self.lock_auth().get_mut(registry) {
            entry.tokens.remove(&scope_key(scopes));
        }
    }

    fn copy_token(&self, registry: &str, from: &[String], to: &[String]) {
        let mut registries = self.lock_auth();
        let Some(entry) = registries.get_mut(registry) else {
            return;
        };
        if let Some(token) = entry.tokens.get(&scope_key(from)).cloned() {
            entry.tokens.insert(scope_key(to), token);
        }
    }

    fn lock_auth(&self) -> std::sync::MutexGuard<'_, HashMap<String, RegistryAuth>> {
        self.auth
            .registries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Reads a token server's JSON response: the `Authorization` header to send, marked sensitive,
/// and the token's lifetime.
fn read_token(response: Response) -> Result<(HeaderValue, Duration), RegistryProblem> {
    let invalid = |what: String| RegistryProblem::InvalidResponse(what);
    let mut bytes = Vec::new();
    response
        .take(MAX_TOKEN_RESPONSE)
        .read_to_end(&mut bytes)
        .map_err(|e| invalid(format!("reading the token server's response failed: {e}")))?;
    let answer: TokenResponse = serde_json::from_slice(&bytes).map_err(|e| {
        invalid(format!(
            "the token server's response is not valid JSON: {e}"
        ))
    })?;
    let token = answer
        .token
        .or(answer.access_token)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            invalid("the token server's response has neither `token` nor `access_token`".into())
        })?;
    let mut header = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| invalid("the token contains characters invalid in a header".into()))?;
    header.set_sensitive(true);
    let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(DEFAULT_TOKEN_LIFETIME));
    Ok((header, lifetime))
}

/// Formats the realm's `HOST:PORT`, or `HOST` when the URL has no explicit port.
fn realm_authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

fn authentication_required(registry: &str, note: Option<String>) -> RegistryProblem {
    RegistryProblem::AuthenticationRequired {
        registry: registry.to_owned(),
        note,
    }
}

/// `Basic base64(user:password)`, marked sensitive so that it is never logged.
fn basic_header(credentials: &Credentials) -> HeaderValue {
    let encoded = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", credentials.username, credentials.password));
    let mut header = HeaderValue::from_str(&format!("Basic {encoded}"))
        .unwrap_or_else(|_| HeaderValue::from_static("Basic"));
    header.set_sensitive(true);
    header
}

/// The cache key of a scope set: sorted, deduplicated, space-separated.
fn scope_key(scopes: &[String]) -> String {
    let mut sorted: Vec<&str> = scopes.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted.dedup();
    sorted.join(" ")
}

/// The scope for `actions` (`pull`, `pull,push`) on a repository.
pub(crate) fn repository_scope(repository: &str, actions: &str) -> String {
    format!("repository:{repository}:{actions}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_answer_accepts_either_field() {
        let a: TokenResponse = serde_json::from_str(r#"{"token":"t1","expires_in":300}"#).unwrap();
        assert_eq!(a.token.as_deref(), Some("t1"));
        assert_eq!(a.expires_in, Some(300));
        let b: TokenResponse = serde_json::from_str(r#"{"access_token":"t2"}"#).unwrap();
        assert_eq!(b.token.or(b.access_token).as_deref(), Some("t2"));
    }

    #[test]
    fn scope_key_is_order_independent() {
        let a = scope_key(&["repository:b:pull".into(), "repository:a:pull".into()]);
        let b = scope_key(&["repository:a:pull".into(), "repository:b:pull".into()]);
        assert_eq!(a, b);
        assert_eq!(a, "repository:a:pull repository:b:pull");
    }

    #[test]
    fn basic_header_encodes_and_is_sensitive() {
        let header = basic_header(&Credentials::new("u", "p"));
        assert_eq!(header.to_str().unwrap(), "Basic dTpw");
        assert!(header.is_sensitive());
    }
}
