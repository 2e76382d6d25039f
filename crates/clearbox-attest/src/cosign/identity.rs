//! The identity a signature claims: its payload's `docker-reference`, validated with the
//! grammar of Docker references and compared after Docker Hub normalisation.
//!
//! Grammar (distribution's `reference` package): `[HOST[:PORT]/]PATH[:TAG][@DIGEST]`. The first
//! component is a host only when it contains `.` or `:` or is `localhost`. Each path component is
//! lowercase letters and digits joined by `.`, `_`, `__` or dashes. A tag is at most 128 of
//! `A-Za-z0-9_.-`, not starting with `.` or `-`. A URL scheme is never part of it.
//!
//! Docker Hub names have several spellings. As cosign and skopeo resolve them, `alpine`,
//! `docker.io/alpine`, `index.docker.io/library/alpine` and `docker.io/library/alpine` are all
//! the repository `docker.io/library/alpine`. Other registries are compared as written.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

/// Docker Hub's canonical registry name.
const DOCKER_HUB: &str = "docker.io";

/// Maximum length of the name without tag or digest, as distribution's `NameTotalLengthMax`.
const MAX_NAME_LENGTH: usize = 255;

static HOST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$",
    )
    .expect("the host pattern is valid")
});

static PATH_COMPONENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$").expect("the path pattern is valid")
});

static TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$").expect("the tag pattern is valid")
});

static DIGEST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[A-Za-z0-9=_-]+$")
        .expect("the digest pattern is valid")
});

/// A `docker-reference` that does not follow the grammar of Docker references.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid identity: {rule}")]
pub struct IdentityError {
    /// The text as given.
    pub value: String,
    /// The rule it breaks.
    pub rule: String,
}

/// A parsed identity: registry, repository path and optional tag or digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl Identity {
    /// Parses `[HOST[:PORT]/]PATH[:TAG][@DIGEST]`, normalising Docker Hub names.
    ///
    /// # Errors
    ///
    /// [`IdentityError`] naming the value and the rule it breaks.
    pub fn parse(text: &str) -> Result<Identity, IdentityError> {
        let invalid = |rule: String| IdentityError {
            value: text.to_owned(),
            rule,
        };
        if text.contains("://") {
            return Err(invalid(
                "it has a URL scheme; write REGISTRY/REPO without `https://`".into(),
            ));
        }

        // Digest, then tag: a tag's `:` comes after the last `/`, a port's before it.
        let (name, digest) = match text.split_once('@') {
            Some((name, digest)) => {
                if !DIGEST.is_match(digest) {
                    return Err(invalid(format!(
                        "the digest `{digest}` is not ALGORITHM:HEX, such as `sha256:` and 64 hex \
                         digits"
                    )));
                }
                (name, Some(digest.to_owned()))
            }
            None => (text, None),
        };
        let (name, tag) = match name.rfind(':') {
            Some(i) if !name[i..].contains('/') => (&name[..i], Some(name[i + 1..].to_owned())),
            _ => (name, None),
        };
        if let Some(tag) = &tag
            && !TAG.is_match(tag)
        {
            return Err(invalid(format!(
                "the tag `{tag}` must be 1 to 128 of `A-Z a-z 0-9 _ . -`, not starting with `.` \
                 or `-`"
            )));
        }
        if name.is_empty() {
            return Err(invalid("the repository is empty".into()));
        }
        if name.len() > MAX_NAME_LENGTH {
            return Err(invalid(format!(
                "the name is {} characters, more than {MAX_NAME_LENGTH}",
                name.len()
            )));
        }

        // Registry host, then the repository path.
        let (registry, path) = match name.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':', '[']) || first == "localhost" => {
                if !HOST.is_match(first) {
                    return Err(invalid(format!(
                        "the registry `{first}` is not HOST or HOST:PORT"
                    )));
                }
                (first, rest)
            }
            _ => (DOCKER_HUB, name),
        };
        for component in path.split('/') {
            if !PATH_COMPONENT.is_match(component) {
                return Err(invalid(format!(
                    "the repository path component `{component}` must be lowercase letters and \
                     digits, joined by `.`, `_`, `__` or `-`"
                )));
            }
        }

        // Docker Hub: one registry name, and `library/` for official images.
        let registry = match registry {
            "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB,
            other => other,
        };
        let repository = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_owned()
        };
        Ok(Identity {
            registry: registry.to_owned(),
            repository,
            tag,
            digest,
        })
    }

    /// Returns true when the identity names a tag or a digest besides the repository.
    #[must_use]
    pub fn is_pinned(&self) -> bool {
        self.tag.is_some() || self.digest.is_some()
    }

    /// Returns true when `claimed` satisfies this required identity: the same repository, and
    /// when this identity has a tag or digest, the same tag and digest too.
    #[must_use]
    pub fn is_satisfied_by(&self, claimed: &Identity) -> bool {
        let same_repository =
            self.registry == claimed.registry && self.repository == claimed.repository;
        if !self.is_pinned() {
            return same_repository;
        }
        same_repository && self.tag == claimed.tag && self.digest == claimed.digest
    }
}

impl fmt::Display for Identity {
    /// Writes the normalised form, such as `docker.io/library/alpine:3.20`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Identity {
        Identity::parse(text).unwrap()
    }

    fn rule(text: &str) -> String {
        Identity::parse(text).unwrap_err().rule
    }

    #[test]
    fn docker_hub_spellings_are_one_repository() {
        let required = parse("alpine");
        for claimed in [
            "alpine",
            "docker.io/alpine",
            "index.docker.io/library/alpine",
            "docker.io/library/alpine",
            "docker.io/library/alpine:3.20",
        ] {
            assert!(required.is_satisfied_by(&parse(claimed)), "{claimed}");
        }
        assert_eq!(
            parse("index.docker.io/alpine").to_string(),
            "docker.io/library/alpine"
        );
        assert!(!required.is_satisfied_by(&parse("docker.io/other/alpine")));
        assert!(!required.is_satisfied_by(&parse("ghcr.io/alpine")));
    }

    #[test]
    fn tagged_identity_compares_the_tag() {
        let required = parse("R.example/app/s3:v1");
        assert!(required.is_satisfied_by(&parse("R.example/app/s3:v1")));
        assert!(!required.is_satisfied_by(&parse("R.example/app/s3:v2")));
        assert!(!required.is_satisfied_by(&parse("R.example/app/s3")));
        let untagged = parse("R.example/app/s3");
        assert!(untagged.is_satisfied_by(&parse("R.example/app/s3:v2")));
    }

    #[test]
    fn digest_identity_compares_the_digest() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let other = format!("sha256:{}", "b".repeat(64));
        let required = parse(&format!("127.0.0.1:5000/app@{digest}"));
        assert!(required.is_satisfied_by(&parse(&format!("127.0.0.1:5000/app@{digest}"))));
        assert!(!required.is_satisfied_by(&parse(&format!("127.0.0.1:5000/app@{other}"))));
        assert!(!required.is_satisfied_by(&parse("127.0.0.1:5000/app")));
    }

    #[test]
    fn port_is_not_a_tag() {
        let identity = parse("127.0.0.1:5000/app");
        assert_eq!(identity.registry, "127.0.0.1:5000");
        assert_eq!(identity.repository, "app");
        assert_eq!(identity.tag, None);
    }

    #[test]
    fn invalid_identities_name_the_rule() {
        assert_eq!(
            rule("https://r.example/a"),
            "it has a URL scheme; write REGISTRY/REPO without `https://`"
        );
        assert_eq!(
            rule("r.example/ABC"),
            "the repository path component `ABC` must be lowercase letters and digits, joined by \
             `.`, `_`, `__` or `-`"
        );
        assert_eq!(
            rule("r.example/a:-v1"),
            "the tag `-v1` must be 1 to 128 of `A-Z a-z 0-9 _ . -`, not starting with `.` or `-`"
        );
        assert_eq!(
            rule("bad_host.example:x/a"),
            "the registry `bad_host.example:x` is not HOST or HOST:PORT"
        );
        assert_eq!(
            rule("r.example//a"),
            "the repository path component `` must be lowercase letters and digits, joined by \
             `.`, `_`, `__` or `-`"
        );
        assert_eq!(
            rule("r.example/a@sha256"),
            "the digest `sha256` is not ALGORITHM:HEX, such as `sha256:` and 64 hex digits"
        );
        assert_eq!(rule(""), "the repository is empty");
    }
}
