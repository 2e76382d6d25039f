//! Credentials from Docker's config file, as `docker login` writes it.
//!
//! Read: `auths.<registry>.auth` (base64 of `user:password`) and `auths.<registry>.username` /
//! `password`. Keys match with or without a scheme and path, so `https://index.docker.io/v1/`
//! serves `docker.io`.
//!
//! Not supported, reported by name when a registry needs them: credential helpers
//! (`credsStore`, `credHelpers`), because running a helper program is outside what clearbox
//! does, and `identitytoken` (an OAuth refresh token), whose exchange clearbox does not
//! implement. Pass `--username` and `--password-stdin` instead.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize;

use crate::error::OciError;
use crate::registry::options::Credentials;

/// The credentials the config file stores for one registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoredCredentials {
    /// Nothing: requests go out anonymously.
    None,
    /// A user name and password.
    Basic(Credentials),
    /// Credentials exist in a form clearbox cannot use. The text names the form and the fix.
    Unusable(String),
}

#[derive(Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
}

#[derive(Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

/// A parsed Docker config file. `Debug` shows the registries it has entries for, never the
/// credentials.
#[derive(Default)]
pub(crate) struct DockerConfig {
    path: PathBuf,
    file: ConfigFile,
}

impl std::fmt::Debug for DockerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerConfig")
            .field("path", &self.path)
            .field("auths", &self.file.auths.keys().collect::<Vec<_>>())
            .field("creds_store", &self.file.creds_store)
            .field("cred_helpers", &self.file.cred_helpers)
            .finish()
    }
}

/// Maximum size of a Docker `config.json`: 1 MiB. A file of credentials for a few registries
/// is a few KiB.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

impl DockerConfig {
    /// Reads `path`, or the default location when `None`. A missing file is an empty config.
    pub(crate) fn load(path: Option<&Path>) -> Result<DockerConfig, OciError> {
        let Some(path) = path.map(Path::to_path_buf).or_else(default_path) else {
            return Ok(DockerConfig::default());
        };
        let text = match crate::file::read_regular_file(&path, MAX_CONFIG_BYTES) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(DockerConfig::default());
            }
            Err(e) => return Err(OciError::io(&path, e)),
        };
        let file = serde_json::from_slice(&text)
            .map_err(|e| OciError::json(format!("Docker config file `{}`", path.display()), e))?;
        Ok(DockerConfig { path, file })
    }

    /// Looks up the credentials stored for `registry` (`HOST[:PORT]` as in an image reference).
    pub(crate) fn credentials_for(&self, registry: &str) -> StoredCredentials {
        let names = registry_aliases(registry);
        let entry = self
            .file
            .auths
            .iter()
            .find(|(key, _)| names.contains(&normalize_key(key).as_str()))
            .map(|(_, entry)| entry);
        if let Some(entry) = entry {
            match self.decode(registry, entry) {
                StoredCredentials::None => {}
                found => return found,
            }
        }
        let helper = names
            .iter()
            .find_map(|name| self.file.cred_helpers.get(*name))
            .or(self.file.creds_store.as_ref());
        match helper {
            Some(helper) => StoredCredentials::Unusable(format!(
                "`{}` names the credential helper `docker-credential-{helper}` for `{registry}`, \
                 which clearbox does not run; pass `--username` and `--password-stdin` instead",
                self.path.display()
            )),
            None => StoredCredentials::None,
        }
    }

    fn decode(&self, registry: &str, entry: &AuthEntry) -> StoredCredentials {
        let path = self.path.display();
        if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok());
            return match decoded.as_deref().and_then(|text| text.split_once(':')) {
                Some((user, password)) => {
                    StoredCredentials::Basic(Credentials::new(user, password))
                }
                None => StoredCredentials::Unusable(format!(
                    "the `auth` value for `{registry}` in `{path}` is not base64 of \
                     `user:password`; run `docker login {registry}` again"
                )),
            };
        }
        if let (Some(user), Some(password)) = (&entry.username, &entry.password) {
            return StoredCredentials::Basic(Credentials::new(user, password));
        }
        if entry
            .identitytoken
            .as_deref()
            .is_some_and(|t| !t.is_empty())
        {
            return StoredCredentials::Unusable(format!(
                "`{path}` holds an identity token for `{registry}`, which clearbox does not \
                 support; pass `--username` and `--password-stdin` instead"
            ));
        }
        StoredCredentials::None
    }
}

/// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`.
fn default_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(PathBuf::from(home).join(".docker/config.json"))
}

/// Lists the names a registry may be stored under. Docker Hub has several.
fn registry_aliases(registry: &str) -> Vec<&str> {
    match registry {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => {
            vec!["docker.io", "index.docker.io", "registry-1.docker.io"]
        }
        other => vec![other],
    }
}

/// Strips a scheme and a path from an `auths` key: `https://index.docker.io/v1/` becomes
/// `index.docker.io`.
fn normalize_key(key: &str) -> String {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    rest.split('/').next().unwrap_or(rest).to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> DockerConfig {
        DockerConfig {
            path: PathBuf::from("/home/u/.docker/config.json"),
            file: serde_json::from_str(json).unwrap(),
        }
    }

    fn basic(user: &str, password: &str) -> StoredCredentials {
        StoredCredentials::Basic(Credentials::new(user, password))
    }

    #[test]
    fn auth_field_is_base64_user_and_password() {
        // base64("alice:pa:ss")
        let c = config(r#"{"auths":{"127.0.0.1:5000":{"auth":"YWxpY2U6cGE6c3M="}}}"#);
        assert_eq!(c.credentials_for("127.0.0.1:5000"), basic("alice", "pa:ss"));
        assert_eq!(c.credentials_for("127.0.0.1:5001"), StoredCredentials::None);
    }

    #[test]
    fn username_and_password_fields() {
        let c = config(r#"{"auths":{"https://reg.example/v2/":{"username":"u","password":"p"}}}"#);
        assert_eq!(c.credentials_for("reg.example"), basic("u", "p"));
    }

    #[test]
    fn docker_hub_legacy_key_serves_docker_io() {
        let c = config(r#"{"auths":{"https://index.docker.io/v1/":{"auth":"dTpw"}}}"#);
        assert_eq!(c.credentials_for("docker.io"), basic("u", "p"));
    }

    #[test]
    fn credential_helper_is_named() {
        let c = config(r#"{"auths":{"ghcr.example":{}},"credsStore":"desktop"}"#);
        let StoredCredentials::Unusable(reason) = c.credentials_for("ghcr.example") else {
            panic!("expected unusable credentials");
        };
        assert!(reason.contains("docker-credential-desktop"), "{reason}");
    }

    #[test]
    fn per_registry_helper_is_named() {
        let c = config(r#"{"credHelpers":{"reg.example":"ecr-login"}}"#);
        let StoredCredentials::Unusable(reason) = c.credentials_for("reg.example") else {
            panic!("expected unusable credentials");
        };
        assert!(reason.contains("docker-credential-ecr-login"), "{reason}");
        assert_eq!(c.credentials_for("other.example"), StoredCredentials::None);
    }

    #[test]
    fn inline_auth_wins_over_helper() {
        let c = config(r#"{"auths":{"reg.example":{"auth":"dTpw"}},"credsStore":"pass"}"#);
        assert_eq!(c.credentials_for("reg.example"), basic("u", "p"));
    }

    #[test]
    fn identity_token_is_reported_unsupported() {
        let c = config(r#"{"auths":{"reg.example":{"identitytoken":"abc"}}}"#);
        let StoredCredentials::Unusable(reason) = c.credentials_for("reg.example") else {
            panic!("expected unusable credentials");
        };
        assert!(reason.contains("identity token"), "{reason}");
        assert!(!reason.contains("abc"), "{reason}");
    }

    #[test]
    fn malformed_auth_is_reported() {
        let c = config(r#"{"auths":{"reg.example":{"auth":"bm9jb2xvbg=="}}}"#);
        assert!(matches!(
            c.credentials_for("reg.example"),
            StoredCredentials::Unusable(_)
        ));
    }

    #[test]
    fn debug_output_hides_credentials() {
        let c = config(
            r#"{"auths":{"reg.example":{"auth":"dTpzM2NyZXQ=","password":"s3cret","identitytoken":"tok3n"}}}"#,
        );
        let text = format!("{c:?}");
        assert!(text.contains("reg.example"), "{text}");
        for secret in ["dTpzM2NyZXQ=", "s3cret", "tok3n"] {
            assert!(!text.contains(secret), "{text}");
        }
    }

    #[test]
    fn missing_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let c = DockerConfig::load(Some(&dir.path().join("config.json"))).unwrap();
        assert_eq!(c.credentials_for("reg.example"), StoredCredentials::None);
    }
}
