//! Checks on the image each container names: pull policy, digest pinning, and the registry
//! allowlist.
//!
//! Image names are normalised as Docker does (`nginx` is `docker.io/library/nginx:latest`), and
//! `index.docker.io` and `registry-1.docker.io` count as `docker.io`. A name that is no valid
//! reference (a template placeholder such as `${IMAGE}`, upper case in the repository) fails
//! every image check: nothing shows where it would be pulled from.

use std::fmt;
use std::str::FromStr;

use clearbox_oci::RegistryReference;

use super::field::Typed;
use super::results::{CheckInfo, Recorder, Standard};
use super::workload::{Container, PodSpec};

pub(crate) const PULL_POLICY: CheckInfo = CheckInfo {
    id: "k8s-image-pull-policy",
    title: "Images are pulled on every start (imagePullPolicy: Always) or pinned by digest",
    standard: Standard::Clearbox,
};
pub(crate) const DIGEST: CheckInfo = CheckInfo {
    id: "k8s-image-digest",
    title: "Images are referenced by digest",
    standard: Standard::Clearbox,
};
pub(crate) const REGISTRY: CheckInfo = CheckInfo {
    id: "k8s-registry-allowlist",
    title: "Images come from an allowed registry or repository",
    standard: Standard::Clearbox,
};

/// The checks of this module, in the order they run.
pub(crate) const CHECKS: [CheckInfo; 3] = [PULL_POLICY, DIGEST, REGISTRY];

/// Docker Hub's other host names.
const DOCKER_HUB_ALIASES: &[&str] = &["index.docker.io", "registry-1.docker.io"];

fn canonical_host(host: &str) -> String {
    let host = host.to_ascii_lowercase();
    if DOCKER_HUB_ALIASES.contains(&host.as_str()) {
        "docker.io".to_owned()
    } else {
        host
    }
}

/// A registry host, or a host and repository prefix, that images may come from:
/// `ghcr.io`, `registry.example:5000`, `docker.io/library`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryPrefix {
    host: String,
    path: Option<String>,
}

impl RegistryPrefix {
    /// True when `registry/repository` is inside this prefix. Matching is by whole path
    /// segments: `ghcr.io/acme` allows `ghcr.io/acme/app` but not `ghcr.io/acme-evil/app`.
    #[must_use]
    pub fn allows(&self, registry: &str, repository: &str) -> bool {
        if canonical_host(registry) != self.host {
            return false;
        }
        match &self.path {
            None => true,
            Some(prefix) => {
                repository == prefix
                    || repository
                        .strip_prefix(prefix.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            }
        }
    }
}

impl FromStr for RegistryPrefix {
    type Err = String;

    /// Parses `HOST[/REPO]`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: &str| format!("invalid registry `{text}`: {reason}");
        if text.contains("://") {
            return Err(invalid(
                "give the host without a scheme, such as `ghcr.io/acme`",
            ));
        }
        let trimmed = text.trim_end_matches('/');
        let (host, path) = match trimmed.split_once('/') {
            Some((host, path)) => (host, Some(path)),
            None => (trimmed, None),
        };
        if host.is_empty() || host.contains(['@', ' ']) {
            return Err(invalid("expected HOST[/REPO], such as `ghcr.io/acme`"));
        }
        if path.is_some_and(|p| p.split('/').any(str::is_empty) || p.contains([':', '@'])) {
            return Err(invalid(
                "the repository part must be a path without a tag or digest",
            ));
        }
        Ok(RegistryPrefix {
            host: canonical_host(host),
            path: path.map(str::to_owned),
        })
    }
}

impl fmt::Display for RegistryPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.host)?;
        if let Some(path) = &self.path {
            write!(f, "/{path}")?;
        }
        Ok(())
    }
}

/// Runs the image checks on every container. The registry check runs only when `allowed` is
/// not empty.
pub(crate) fn check(pod: &PodSpec<'_>, allowed: &[RegistryPrefix], recorder: &mut Recorder<'_>) {
    for container in &pod.containers {
        let image = container.field.get("image");
        let parsed = match image.as_str() {
            Typed::Value(name) => name.parse::<RegistryReference>().map_err(|e| e.to_string()),
            Typed::Absent => Err("the container names no image".to_owned()),
            Typed::Invalid => Err("`image` is not a string".to_owned()),
        };
        pull_policy(container, parsed.as_ref(), recorder);
        digest(container, parsed.as_ref(), recorder);
        if !allowed.is_empty() {
            registry(container, parsed.as_ref(), allowed, recorder);
        }
    }
}

fn pull_policy(
    container: &Container<'_>,
    image: Result<&RegistryReference, &String>,
    recorder: &mut Recorder<'_>,
) {
    let field = container.field.get("imagePullPolicy");
    let c = Some(container);
    let explicit = match field.as_str() {
        Typed::Value(policy) => Some(policy),
        Typed::Absent => None,
        Typed::Invalid => {
            recorder.fail(&PULL_POLICY, &field, c, "the value is not a string");
            return;
        }
    };
    if explicit == Some("Always") {
        recorder.pass(&PULL_POLICY, &field, c, "Always");
        return;
    }
    let image = match image {
        Ok(image) => image,
        Err(reason) => {
            recorder.fail(&PULL_POLICY, &field, c, format!("not Always, and {reason}"));
            return;
        }
    };
    if image.digest.is_some() {
        recorder.pass(&PULL_POLICY, &field, c, "the image is pinned by digest");
        return;
    }
    // The API server defaults the policy to Always for `:latest` and untagged images.
    let message = match explicit {
        Some(policy) => format!("{policy}, and the image is not pinned by digest"),
        None if image.tag.as_deref() == Some("latest") => {
            recorder.pass(
                &PULL_POLICY,
                &field,
                c,
                "unset, which means Always for `:latest`",
            );
            return;
        }
        None => "unset, which means IfNotPresent for a tagged image, and the image is not \
                 pinned by digest"
            .to_owned(),
    };
    recorder.fail(&PULL_POLICY, &field, c, message);
}

fn digest(
    container: &Container<'_>,
    image: Result<&RegistryReference, &String>,
    recorder: &mut Recorder<'_>,
) {
    let field = container.field.get("image");
    let c = Some(container);
    let reference = match image {
        Ok(reference) => reference,
        Err(reason) => {
            recorder.fail(&DIGEST, &field, c, reason.as_str());
            return;
        }
    };
    if let Some(digest) = &reference.digest {
        recorder.pass(&DIGEST, &field, c, format!("pinned to {digest}"));
    } else {
        let tag = reference.tag.as_deref().unwrap_or("latest");
        let message = format!("referenced by tag `{tag}`, which can be moved");
        recorder.fail(&DIGEST, &field, c, message);
    }
}

fn registry(
    container: &Container<'_>,
    image: Result<&RegistryReference, &String>,
    allowed: &[RegistryPrefix],
    recorder: &mut Recorder<'_>,
) {
    let field = container.field.get("image");
    let c = Some(container);
    let reference = match image {
        Ok(reference) => reference,
        Err(reason) => {
            recorder.fail(&REGISTRY, &field, c, reason.as_str());
            return;
        }
    };
    let source = format!(
        "{}/{}",
        canonical_host(&reference.registry),
        reference.repository
    );
    let allowing = allowed
        .iter()
        .find(|prefix| prefix.allows(&reference.registry, &reference.repository));
    if let Some(prefix) = allowing {
        recorder.pass(&REGISTRY, &field, c, format!("`{source}` is in `{prefix}`"));
    } else {
        let list: Vec<String> = allowed.iter().map(ToString::to_string).collect();
        let message = format!("`{source}` is not under {}", list.join(", "));
        recorder.fail(&REGISTRY, &field, c, message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(text: &str) -> RegistryPrefix {
        text.parse().unwrap()
    }

    #[test]
    fn prefixes_match_whole_segments() {
        let acme = prefix("ghcr.io/acme");
        assert!(acme.allows("ghcr.io", "acme/app"));
        assert!(acme.allows("GHCR.io", "acme"));
        assert!(!acme.allows("ghcr.io", "acme-evil/app"));
        assert!(!acme.allows("quay.io", "acme/app"));
    }

    #[test]
    fn docker_hub_aliases_match() {
        assert!(prefix("index.docker.io/library").allows("docker.io", "library/nginx"));
        assert!(prefix("docker.io").allows("registry-1.docker.io", "x/y"));
    }

    #[test]
    fn hosts_with_ports_parse() {
        assert_eq!(
            prefix("registry.example:5000/").to_string(),
            "registry.example:5000"
        );
    }

    #[test]
    fn invalid_prefixes_are_rejected() {
        for text in [
            "https://ghcr.io",
            "",
            "/acme",
            "ghcr.io//x",
            "ghcr.io/app:1",
        ] {
            assert!(text.parse::<RegistryPrefix>().is_err(), "{text}");
        }
    }
}
