//! One module per command.

pub(crate) mod annotate;
pub(crate) mod attach;
pub(crate) mod audit;
pub(crate) mod build;
pub(crate) mod check;
pub(crate) mod db;
pub(crate) mod evidence;
pub(crate) mod key;
pub(crate) mod manifest_sign;
pub(crate) mod model_attest;
pub(crate) mod policy;
pub(crate) mod provenance;
pub(crate) mod report;
pub(crate) mod rescan;
pub(crate) mod sbom;
pub(crate) mod scan;
pub(crate) mod sign;
pub(crate) mod trust;
pub(crate) mod verify_bundle;
pub(crate) mod verify_keyless;
pub(crate) mod version;
pub(crate) mod webhook;

use std::path::Path;

use anyhow::Context;
use clearbox_catalog::escape_unprintable;
use clearbox_oci::registry::{Credentials, RegistryOptions};
use clearbox_oci::{ImageReference, OciError, ReadOptions, spec::Platform};

use crate::cli::{ReadArgs, RegistryArgs};

/// Transports that `ImageReference` reads before the first `:`, the unsupported ones included
/// so that they get their own error.
const TRANSPORTS: [&str; 9] = [
    "oci",
    "oci-archive",
    "docker-archive",
    "dir",
    "docker-daemon",
    "containers-storage",
    "ostree",
    "sif",
    "tarball",
];

/// Parses an image reference argument, and checks that a local image exists.
///
/// Text with no transport that names no registry (`app`, `ubuntu:22.04`, `-`, `./image`) is
/// rejected without contacting a registry: it is far more often a mistyped path than a Docker
/// Hub image, which `docker://app` still names.
pub(crate) fn parse_reference(text: &str) -> anyhow::Result<ImageReference> {
    let escaped = escape_unprintable(text);
    if !has_transport(text) && !names_registry(text) {
        if Path::new(text).exists() {
            anyhow::bail!(
                "`{escaped}` is a local path, not an image reference; name it dir:{escaped} (root \
                 filesystem), oci:{escaped} (OCI layout), oci-archive:{escaped} or \
                 docker-archive:{escaped} (archive)"
            );
        }
        anyhow::bail!("no such file or image `{escaped}`; use dir:PATH, oci:PATH or docker://REF");
    }
    let reference = text.parse::<ImageReference>()?;
    check_local_source(&reference)?;
    Ok(reference)
}

fn has_transport(text: &str) -> bool {
    text.starts_with("docker://")
        || text
            .split_once(':')
            .is_some_and(|(transport, _)| TRANSPORTS.contains(&transport))
}

/// Returns true when `text` starts with a registry host, as Docker decides it: a first path
/// component with a `.`, a `:` (port) or `[` (IPv6), or `localhost`, followed by a `/`. The
/// components `.` and `..` are directories, not hosts.
fn names_registry(text: &str) -> bool {
    let text = text.strip_prefix("docker://").unwrap_or(text);
    match text.split_once('/') {
        Some((first, _)) if first != "." && first != ".." => {
            first.contains(['.', ':', '[']) || first == "localhost"
        }
        _ => false,
    }
}

/// Fails with a plain message when the layout, archive or root filesystem is missing, before
/// anything tries to read it.
fn check_local_source(reference: &ImageReference) -> anyhow::Result<()> {
    let (path, what) = match reference {
        ImageReference::OciLayout { path, .. } => (path, "OCI layout directory"),
        ImageReference::OciArchive { path, .. } => (path, "OCI archive"),
        ImageReference::DockerArchive { path, .. } => (path, "Docker archive"),
        ImageReference::RootFs { path } => (path, "root filesystem directory"),
        ImageReference::Registry(_) => return Ok(()),
    };
    let escaped = escape_unprintable(&path.to_string_lossy()).into_owned();
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            anyhow::bail!("{what} `{escaped}` does not exist; check the path")
        }
        Ok(meta) if matches!(reference, ImageReference::OciLayout { .. }) && !meta.is_dir() => {
            anyhow::bail!(
                "`{escaped}` is not a directory, but oci: names an OCI layout directory; use \
                 oci-archive:{escaped} for a tar file"
            )
        }
        _ => Ok(()),
    }
}

/// The platform picked from a multi-platform image when `--platform` is not given.
const DEFAULT_PLATFORM: &str = "linux/amd64";

/// Builds read options from the command line.
pub(crate) fn read_options(args: &ReadArgs) -> anyhow::Result<ReadOptions> {
    let platform = args.platform.as_deref().unwrap_or(DEFAULT_PLATFORM);
    let parts: Vec<&str> = platform.split('/').collect();
    let (os, architecture, variant) = match parts.as_slice() {
        [os, arch] if !os.is_empty() && !arch.is_empty() => (*os, *arch, None),
        [os, arch, variant] if !os.is_empty() && !arch.is_empty() && !variant.is_empty() => {
            (*os, *arch, Some((*variant).to_owned()))
        }
        _ => anyhow::bail!(
            "invalid --platform `{platform}`: expected OS/ARCH or OS/ARCH/VARIANT, such as \
             linux/amd64"
        ),
    };
    if args.max_layer_ratio == 0 {
        anyhow::bail!("invalid --max-layer-ratio 0: the ratio must be at least 1");
    }
    Ok(ReadOptions {
        registry: registry_options(&args.registry)?,
        platform: Platform {
            os: os.to_owned(),
            architecture: architecture.to_owned(),
            variant,
        },
        require_platform: args.platform.is_some(),
        max_expansion_ratio: args.max_layer_ratio,
        ..ReadOptions::default()
    })
}

/// Builds registry options from the command line. The password is read from stdin here, once.
pub(crate) fn registry_options(args: &RegistryArgs) -> anyhow::Result<RegistryOptions> {
    let credentials = match &args.username {
        Some(username) if args.password_stdin => {
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .context("failed to read the password from stdin")?;
            let password = password.trim_end_matches(['\r', '\n']);
            if password.is_empty() {
                anyhow::bail!("--password-stdin read an empty password");
            }
            Some(Credentials::new(username.clone(), password))
        }
        _ => None,
    };
    let defaults = RegistryOptions::default();
    let timeout = std::time::Duration::from_secs(args.registry_timeout);
    Ok(RegistryOptions {
        insecure: args.insecure_registry.clone(),
        ca_file: args.ca_file.clone(),
        credentials,
        connect_timeout: defaults.connect_timeout.min(timeout),
        io_timeout: timeout,
        ..defaults
    })
}

/// A hint for errors with a common fix.
pub(crate) fn hint_for(error: &anyhow::Error) -> Option<String> {
    for cause in error.chain() {
        if let Some(oci) = cause.downcast_ref::<OciError>() {
            match oci {
                OciError::UnsupportedTransport { .. } => {
                    return Some(
                        "copy the image to a local layout first, for example \
                         `skopeo copy docker://REF oci:DIR:TAG`, then pass oci:DIR:TAG"
                            .into(),
                    );
                }
                OciError::InvalidReference { .. } => {
                    return Some(
                        "name images as oci:DIR[:TAG|:@DIGEST], oci-archive:FILE[:TAG], \
                         docker-archive:FILE[:REPO:TAG|:@INDEX], dir:ROOTFS or \
                         docker://REGISTRY/REPO[:TAG|@DIGEST]"
                            .into(),
                    );
                }
                _ => {}
            }
        }
    }
    None
}

/// Adds the image reference to an error's context.
pub(crate) fn with_image<T>(result: Result<T, OciError>, image: &str) -> anyhow::Result<T> {
    result.with_context(|| format!("failed to read image `{image}`"))
}
