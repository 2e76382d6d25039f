//! `clearbox attach sbom` and `clearbox download sbom|signature|attestation`.

use std::io::Write as _;

use anyhow::Context;
use clearbox_attest::cosign::{self, SbomFormat};
use clearbox_attest::intoto::PredicateType;

use crate::Outcome;
use crate::cli::{AttachCommand, DownloadCommand};
use crate::commands::sign::open_store;

pub(crate) fn attach(command: &AttachCommand) -> anyhow::Result<Outcome> {
    let AttachCommand::Sbom {
        target,
        sbom,
        sbom_type,
        input_format,
        registry_referrers_mode,
    } = command;
    let mode = registry_referrers_mode.parse().map_err(|e| {
        anyhow::anyhow!("invalid --registry-referrers-mode `{registry_referrers_mode}`: {e}")
    })?;
    let file_name = sbom
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let format = SbomFormat::from_cosign_flags(sbom_type, input_format.as_deref(), &file_name)
        .map_err(|e| anyhow::anyhow!("invalid --type or --input-format: {e}"))?;
    let bytes = clearbox_oci::read_regular_file(sbom, cosign::MAX_SBOM_BYTES)
        .with_context(|| format!("failed to read the SBOM `{}`", sbom.display()))?;
    let store = open_store(target)?;
    let outcome = cosign::attach_sbom(store.as_ref(), &bytes, format, mode)
        .with_context(|| format!("failed to attach the SBOM to `{}`", target.image))?;
    crate::output::status(&format!(
        "attached {} to {}@{}: {}",
        format.media_type(),
        store.location(),
        store.subject().digest,
        crate::commands::sign::describe(&outcome)
    ));
    Ok(Outcome::Success)
}

pub(crate) fn download(command: &DownloadCommand) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    match command {
        DownloadCommand::Sbom { target } => {
            let store = open_store(target)?;
            let sboms = cosign::download_sbom(store.as_ref())?;
            if sboms.is_empty() {
                anyhow::bail!("no SBOM is attached to `{}`", target.image);
            }
            for sbom in sboms {
                out.write_all(&sbom.bytes)
                    .context("failed to write to stdout")?;
            }
        }
        DownloadCommand::Signature { target } => {
            let store = open_store(target)?;
            let signatures = cosign::download_signatures(store.as_ref())?;
            if signatures.is_empty() {
                anyhow::bail!("no signature is attached to `{}`", target.image);
            }
            for signature in signatures {
                writeln!(out, "{}", signature.to_cosign_json())
                    .context("failed to write to stdout")?;
            }
        }
        DownloadCommand::Attestation {
            target,
            predicate_type,
        } => {
            let predicate_type = predicate_type
                .as_deref()
                .map(PredicateType::from_cosign_type)
                .transpose()
                .context("invalid --predicate-type")?;
            let store = open_store(target)?;
            let attestations =
                cosign::download_attestations(store.as_ref(), predicate_type.as_ref())?;
            if attestations.is_empty() {
                anyhow::bail!("no attestation is attached to `{}`", target.image);
            }
            for attestation in attestations {
                out.write_all(&attestation.envelope)
                    .and_then(|()| writeln!(out))
                    .context("failed to write to stdout")?;
            }
        }
    }
    Ok(Outcome::Success)
}
