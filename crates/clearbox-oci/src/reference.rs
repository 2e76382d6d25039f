//! Image references in skopeo's transport syntax.
//!
//! | form | meaning |
//! |---|---|
//! | `oci:DIR[:TAG\|:@DIGEST]` | an OCI image layout directory |
//! | `oci-archive:FILE[:TAG\|:@DIGEST]` | a tar file holding an OCI image layout |
//! | `docker-archive:FILE[:REF\|@INDEX]` | a `docker save` tar file |
//! | `dir:ROOTFS` | an unpacked root filesystem (not skopeo's `dir:` blob directory) |
//! | `docker://REGISTRY/REPO[:TAG\|@DIGEST]` or the same without `docker://` | a registry |
//!
//! As in skopeo, the path ends at the first `:` after the transport, so a path cannot contain a
//! colon.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::{Digest, OciError};

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageReference {
    /// `oci:DIR[:TAG]`.
    OciLayout {
        /// The layout directory.
        path: PathBuf,
        /// The tag (`org.opencontainers.image.ref.name`), or `@DIGEST` naming an `index.json`
        /// entry by digest, if given; see [`choose_layout_image`](crate::choose_layout_image).
        tag: Option<String>,
    },
    /// `oci-archive:FILE[:TAG]`.
    OciArchive {
        /// The tar file.
        path: PathBuf,
        /// The tag, if given.
        tag: Option<String>,
    },
    /// `docker-archive:FILE[:REF|@INDEX]`.
    DockerArchive {
        /// The tar file.
        path: PathBuf,
        /// Which image of a multi-image archive.
        selector: Option<ArchiveSelector>,
    },
    /// `dir:ROOTFS`.
    RootFs {
        /// The unpacked root filesystem.
        path: PathBuf,
    },
    /// `docker://REGISTRY/REPO[:TAG|@DIGEST]`.
    Registry(RegistryReference),
}

/// Picks one image out of a `docker save` archive that holds several.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveSelector {
    /// A repository tag listed in the archive's `RepoTags`.
    Tag(String),
    /// A zero-based position in the archive's `manifest.json`.
    Index(usize),
}

/// A registry image reference, normalised as Docker does (`nginx` is
/// `docker.io/library/nginx:latest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryReference {
    /// Registry host, with port if any.
    pub registry: String,
    /// Repository path inside the registry.
    pub repository: String,
    /// Tag, if given; `latest` when neither tag nor digest is given.
    pub tag: Option<String>,
    /// Digest, if given.
    pub digest: Option<Digest>,
}

const DEFAULT_REGISTRY: &str = "docker.io";

impl FromStr for ImageReference {
    type Err = OciError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: &str| OciError::InvalidReference {
            reference: s.to_owned(),
            reason: reason.to_owned(),
        };
        if let Some(rest) = s.strip_prefix("docker://") {
            return RegistryReference::parse(rest)
                .map(ImageReference::Registry)
                .map_err(|reason| invalid(&reason));
        }
        let Some((transport, rest)) = s.split_once(':') else {
            return RegistryReference::parse(s)
                .map(ImageReference::Registry)
                .map_err(|reason| invalid(&reason));
        };
        let (path, suffix) = match rest.split_once(':') {
            Some((path, suffix)) => (path, Some(suffix)),
            None => (rest, None),
        };
        if matches!(transport, "oci" | "oci-archive" | "docker-archive" | "dir") && path.is_empty()
        {
            return Err(invalid("the path is empty"));
        }
        let tag = suffix.map(str::to_owned);
        match transport {
            "oci" => Ok(ImageReference::OciLayout {
                path: path.into(),
                tag: non_empty(tag, &invalid)?,
            }),
            "oci-archive" => Ok(ImageReference::OciArchive {
                path: path.into(),
                tag: non_empty(tag, &invalid)?,
            }),
            "docker-archive" => {
                let selector = match suffix {
                    None => None,
                    Some(index) if index.starts_with('@') => {
                        let n = index[1..]
                            .parse()
                            .map_err(|_| invalid("`@INDEX` must be a non-negative integer"))?;
                        Some(ArchiveSelector::Index(n))
                    }
                    Some("") => return Err(invalid("the image name after `:` is empty")),
                    Some(tag) => Some(ArchiveSelector::Tag(tag.to_owned())),
                };
                Ok(ImageReference::DockerArchive {
                    path: path.into(),
                    selector,
                })
            }
            "dir" => Ok(ImageReference::RootFs { path: rest.into() }),
            "docker-daemon" | "containers-storage" | "ostree" | "sif" | "tarball" => {
                Err(invalid(&format!(
                    "the `{transport}` transport is not supported; use oci:, oci-archive:, \
                     docker-archive:, dir: or docker://"
                )))
            }
            // `localhost:5000/repo:tag`, `registry.example:443/repo` and `ubuntu:22.04`.
            _ => RegistryReference::parse(s)
                .map(ImageReference::Registry)
                .map_err(|reason| invalid(&reason)),
        }
    }
}

fn non_empty(
    tag: Option<String>,
    invalid: &dyn Fn(&str) -> OciError,
) -> Result<Option<String>, OciError> {
    match tag {
        Some(t) if t.is_empty() => Err(invalid("the tag after `:` is empty")),
        other => Ok(other),
    }
}

impl FromStr for RegistryReference {
    type Err = OciError;

    /// Parses `REGISTRY/REPO[:TAG|@DIGEST]`, with or without `docker://`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let rest = s.strip_prefix("docker://").unwrap_or(s);
        RegistryReference::parse(rest).map_err(|reason| OciError::InvalidReference {
            reference: s.to_owned(),
            reason,
        })
    }
}

impl RegistryReference {
    /// Parses a registry reference without a transport prefix, as Docker normalises it.
    pub(crate) fn parse(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Err("the reference is empty".into());
        }
        let (name, digest) = match s.split_once('@') {
            Some((name, digest)) => (
                name,
                Some(digest.parse::<Digest>().map_err(|e| e.to_string())?),
            ),
            None => (s, None),
        };
        // A tag follows the last `:` only if that colon comes after the last `/`; before it, the
        // colon separates a registry port.
        let (name, tag) = match name.rfind(':') {
            Some(i) if !name[i..].contains('/') => (&name[..i], Some(name[i + 1..].to_owned())),
            _ => (name, None),
        };
        if let Some(tag) = &tag {
            let valid = !tag.is_empty()
                && tag.len() <= 128
                && tag
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
                && !tag.starts_with(['.', '-']);
            if !valid {
                return Err(format!("`{tag}` is not a valid tag"));
            }
        }
        let (registry, repository) = match name.split_once('/') {
            Some((first, rest))
                if first.contains(['.', ':']) || first == "localhost" || first.contains('[') =>
            {
                (first.to_owned(), rest.to_owned())
            }
            _ if name.contains('/') => (DEFAULT_REGISTRY.to_owned(), name.to_owned()),
            _ => (DEFAULT_REGISTRY.to_owned(), format!("library/{name}")),
        };
        if repository.is_empty() || !repository.split('/').all(valid_path_component) {
            return Err(format!(
                "`{repository}` is not a valid repository name: each `/`-separated part is \
                 lowercase letters and digits joined by single `.` or `_`, `__`, or dashes, so \
                 `.` and `..` parts are not allowed"
            ));
        }
        let tag = if tag.is_none() && digest.is_none() {
            Some("latest".to_owned())
        } else {
            tag
        };
        Ok(RegistryReference {
            registry,
            repository,
            tag,
            digest,
        })
    }
}

/// Returns whether `part` is a path component as the OCI distribution specification defines it:
/// `[a-z0-9]+` runs joined by `.`, `_`, `__` or one or more `-`. Relative parts (`.`, `..`)
/// fail, so a name cannot climb out of a repository prefix that a policy trusts.
fn valid_path_component(part: &str) -> bool {
    let bytes = part.as_bytes();
    let alphanumeric = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !bytes.first().is_some_and(|&b| alphanumeric(b))
        || !bytes.last().is_some_and(|&b| alphanumeric(b))
    {
        return false;
    }
    let mut index = 0;
    while index < bytes.len() {
        if alphanumeric(bytes[index]) {
            index += 1;
            continue;
        }
        let start = index;
        while index < bytes.len() && !alphanumeric(bytes[index]) {
            index += 1;
        }
        let separator = &part[start..index];
        let valid = matches!(separator, "." | "_" | "__") || separator.bytes().all(|b| b == b'-');
        if !valid {
            return false;
        }
    }
    true
}

impl fmt::Display for RegistryReference {
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

impl fmt::Display for ImageReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageReference::OciLayout { path, tag } => {
                write!(f, "oci:{}", path.display())?;
                tag.iter().try_for_each(|t| write!(f, ":{t}"))
            }
            ImageReference::OciArchive { path, tag } => {
                write!(f, "oci-archive:{}", path.display())?;
                tag.iter().try_for_each(|t| write!(f, ":{t}"))
            }
            ImageReference::DockerArchive { path, selector } => {
                write!(f, "docker-archive:{}", path.display())?;
                match selector {
                    None => Ok(()),
                    Some(ArchiveSelector::Tag(t)) => write!(f, ":{t}"),
                    Some(ArchiveSelector::Index(i)) => write!(f, ":@{i}"),
                }
            }
            ImageReference::RootFs { path } => write!(f, "dir:{}", path.display()),
            ImageReference::Registry(r) => write!(f, "docker://{r}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> ImageReference {
        s.parse().unwrap()
    }

    fn registry(s: &str) -> RegistryReference {
        match parse(s) {
            ImageReference::Registry(r) => r,
            other => panic!("{s} parsed as {other:?}"),
        }
    }

    #[test]
    fn oci_layout_with_and_without_tag() {
        assert_eq!(
            parse("oci:target/img:latest"),
            ImageReference::OciLayout {
                path: "target/img".into(),
                tag: Some("latest".into())
            }
        );
        assert_eq!(
            parse("oci:img"),
            ImageReference::OciLayout {
                path: "img".into(),
                tag: None
            }
        );
    }

    #[test]
    fn docker_archive_selectors() {
        assert_eq!(
            parse("docker-archive:a.tar:@1"),
            ImageReference::DockerArchive {
                path: "a.tar".into(),
                selector: Some(ArchiveSelector::Index(1))
            }
        );
        assert_eq!(
            parse("docker-archive:a.tar:busybox:latest"),
            ImageReference::DockerArchive {
                path: "a.tar".into(),
                selector: Some(ArchiveSelector::Tag("busybox:latest".into()))
            }
        );
    }

    #[test]
    fn rootfs_keeps_colons_in_path() {
        assert_eq!(
            parse("dir:/tmp/a:b"),
            ImageReference::RootFs {
                path: "/tmp/a:b".into()
            }
        );
    }

    #[test]
    fn registry_normalisation() {
        let r = registry("nginx");
        assert_eq!(r.to_string(), "docker.io/library/nginx:latest");
        let r = registry("docker://127.0.0.1:5000/ai/model:v1");
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "ai/model");
        assert_eq!(r.tag.as_deref(), Some("v1"));
        let r = registry("localhost:5000/app");
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(r.tag.as_deref(), Some("latest"));
        let d = format!("registry.example/app@sha256:{}", "a".repeat(64));
        let r = registry(&d);
        assert_eq!(r.tag, None);
        assert!(r.digest.is_some());
    }

    #[test]
    fn rejects_bad_references() {
        for bad in [
            "oci:",
            "oci:dir:",
            "docker-archive:x.tar:@one",
            "Nginx",
            "docker-daemon:x",
            "a/b:",
            "registry.example/acme/../evil/app:v1",
            "registry.example/acme/./app",
            "registry.example/acme/.hidden",
            "registry.example/a..b",
            "registry.example/a-/b",
            "registry.example/_a",
            "registry.example/a___b",
        ] {
            assert!(
                bad.parse::<ImageReference>().is_err(),
                "{bad} should be rejected"
            );
        }
    }

    #[test]
    fn path_components_follow_the_distribution_grammar() {
        for good in ["a", "a.b", "a_b", "a__b", "a-b", "a---b", "ab12.c-d_e__f"] {
            assert!(valid_path_component(good), "{good}");
        }
        for bad in [
            "", ".", "..", "-a", "a-", ".a", "a.", "a..b", "a._b", "a___b", "A",
        ] {
            assert!(!valid_path_component(bad), "{bad}");
        }
    }
}
