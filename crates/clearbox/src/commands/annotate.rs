//! `clearbox annotate`: a model card recorded as annotations on an image manifest.

use std::io::Write as _;

use anyhow::Context;
use clearbox_model::{AnnotationKeys, CardError, read_card};
use clearbox_oci::{Image, ReadOptions, annotate_manifest};

use crate::Outcome;
use crate::cli::{AnnotateArgs, AnnotationPrefixArgs};
use crate::commands::{parse_reference, registry_options, with_image};
use crate::output::{notice, status};

/// Parses the `--prefix` and `--model-prefix` options.
pub(crate) fn annotation_keys(args: &AnnotationPrefixArgs) -> anyhow::Result<AnnotationKeys> {
    AnnotationKeys::new(&args.prefix, &args.model_prefix).map_err(anyhow::Error::msg)
}

pub(crate) fn run(args: &AnnotateArgs) -> anyhow::Result<Outcome> {
    let reference = parse_reference(&args.target.image)?;
    let keys = annotation_keys(&args.keys)?;

    // The card first, so an invalid one fails before any registry is contacted.
    let governance = match read_card(&args.model_card) {
        Ok(governance) => governance,
        Err(CardError::Invalid { path, problems }) => {
            for problem in &problems {
                notice(&format!("  {problem}"));
            }
            anyhow::bail!(
                "the model card `{}` is invalid: {} problems, listed above; fix them and run the \
                 command again (the fields are described in docs/model-governance.md)",
                path.display(),
                problems.len()
            );
        }
        Err(other) => return Err(other.into()),
    };

    // The image config's creation time becomes the `created` annotation.
    let registry = registry_options(&args.target.registry)?;
    let read = ReadOptions {
        registry: registry.clone(),
        ..ReadOptions::default()
    };
    let image = with_image(Image::open(&reference, &read), &args.target.image)?;
    let annotations = governance.to_annotations(&keys, image.config.created.as_deref());

    let outcome = annotate_manifest(&reference, &annotations, &registry)
        .with_context(|| format!("failed to annotate `{}`", args.target.image))?;
    std::io::stdout()
        .lock()
        .write_all(format!("{}\n", outcome.digest).as_bytes())
        .context("failed to write to stdout")?;
    if outcome.is_unchanged() {
        status(&format!(
            "{}: the manifest {} has these {} annotations already; nothing written",
            outcome.location,
            outcome.digest,
            annotations.len()
        ));
        return Ok(Outcome::Success);
    }
    status(&format!(
        "annotated {}: {} annotations; manifest {} replaced by {}",
        outcome.location,
        annotations.len(),
        outcome.previous,
        outcome.digest
    ));
    for (key, old) in &outcome.replaced {
        status(&format!("  replaced `{key}` (was `{old}`)"));
    }
    status(&format!(
        "  signatures and attestations of {} do not apply to {}; sign and attest the new digest",
        outcome.previous, outcome.digest
    ));
    Ok(Outcome::Success)
}
