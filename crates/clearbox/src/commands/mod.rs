//! One module per command.

pub(crate) mod attach;
pub(crate) mod check;
pub(crate) mod db;
pub(crate) mod evidence;
pub(crate) mod key;
pub(crate) mod sbom;
pub(crate) mod scan;
pub(crate) mod sign;
pub(crate) mod version;

use anyhow::Context;
use clearbox_oci::registry::{Credentials, RegistryOptions};
use clearbox_oci::{ImageReference, OciError, ReadOptions, spec::Platform};

use crate::cli::{ReadArgs, RegistryArgs};

/// Parses an image reference argument.
pub(crate) fn parse_reference(text: &str) -> anyhow::Result<ImageReference> {
    Ok(text.parse::<ImageReference>()?)
}

/// Builds read options from the command line.
pub(crate) fn read_options(args: &ReadArgs) -> anyhow::Result<ReadOptions> {
    let parts: Vec<&str> = args.platform.split('/').collect();
    let (os, architecture, variant) = match parts.as_slice() {
        [os, arch] if !os.is_empty() && !arch.is_empty() => (*os, *arch, None),
        [os, arch, variant] if !os.is_empty() && !arch.is_empty() && !variant.is_empty() => {
            (*os, *arch, Some((*variant).to_owned()))
        }
        _ => anyhow::bail!(
            "invalid --platform `{}`: expected OS/ARCH or OS/ARCH/VARIANT, such as linux/amd64",
            args.platform
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
    Ok(RegistryOptions {
        insecure: args.insecure_registry.clone(),
        ca_file: args.ca_file.clone(),
        credentials,
        ..RegistryOptions::default()
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
                        "name images as oci:DIR[:TAG], oci-archive:FILE[:TAG], \
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
