//! `clearbox sbom`: catalog an image and write its SBOM.

use clearbox_catalog::{catalog_image, escape_unprintable};
use clearbox_evidence::sbom_subject;
use clearbox_oci::Image;

use crate::Outcome;
use crate::cli::{SbomArgs, SbomFormat};
use crate::commands::{parse_reference, read_options, with_image};
use crate::output::write_output;
use crate::progress::LayerBars;

pub(crate) fn run(args: &SbomArgs, quiet: bool) -> anyhow::Result<Outcome> {
    let reference = parse_reference(&args.image)?;
    let options = read_options(&args.read)?;
    let image = with_image(Image::open(&reference, &options), &args.image)?;
    let progress = LayerBars::for_stderr(quiet);
    let contents = with_image(
        catalog_image(&image, &options, progress.as_ref()),
        &args.image,
    )?;
    for unknown in &contents.catalog.unknowns {
        tracing::warn!(
            path = %escape_unprintable(&unknown.path),
            cataloger = unknown.cataloger,
            "{}",
            escape_unprintable(&unknown.reason)
        );
    }
    let subject = sbom_subject(&image, env!("CARGO_PKG_VERSION"));
    let bytes = match args.format {
        SbomFormat::SpdxJson => clearbox_sbom::to_spdx_json(&subject, &contents.catalog),
        SbomFormat::CyclonedxJson => clearbox_sbom::to_cyclonedx_json(&subject, &contents.catalog),
        SbomFormat::Table => clearbox_sbom::to_table(&contents.catalog).into_bytes(),
    };
    write_output(args.output.as_deref(), &bytes)?;
    Ok(Outcome::Success)
}
