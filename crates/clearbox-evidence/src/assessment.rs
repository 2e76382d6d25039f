//! Everything the evidence package is made of, computed without writing anything: the catalog,
//! the vulnerability scan, the signatures and attestations, and the image checks. `clearbox
//! report` builds its compliance matrix from this; `write_evidence` makes the same steps and
//! writes a file for each.

use std::path::PathBuf;

use clearbox_catalog::{Contents, catalog_image};
use clearbox_oci::{Image, ImageReference, Progress, ReadOptions};
use clearbox_policy::CheckResult;
use clearbox_policy::compliance::FrameworkId;
use clearbox_policy::k8s::K8sReport;
use tracing::info;

use crate::attestations::{self, ArtifactEvidence};
use crate::matrix::{Inputs, Matrix};
use crate::vulns::{self, VulnerabilityScan};
use crate::{EvidenceError, load_inputs, run_checks, sbom_subject};

/// How to assess an image.
#[derive(Debug, Clone)]
pub struct AssessOptions {
    /// The advisory database; `None` uses the default location, and a missing default makes
    /// the scan "not run".
    pub db_path: Option<PathBuf>,
    /// Limits for reading the image.
    pub read: ReadOptions,
    /// The version named in the report.
    pub tool_version: String,
    /// Public key (PEM file or `pkcs11:` URI) to verify signatures and attestations with.
    /// Without one, the signature and provenance checks do not run.
    pub key: Option<String>,
}

/// The results of every step for one image.
pub struct Assessment {
    image: Image,
    contents: Contents,
    scan: VulnerabilityScan,
    artifacts: ArtifactEvidence,
    checks: Vec<CheckResult>,
    tool_version: String,
}

/// Reads, catalogs, scans, verifies and checks the image, as `write_evidence` does.
pub fn assess(
    reference: &ImageReference,
    options: &AssessOptions,
    progress: &dyn Progress,
) -> Result<Assessment, EvidenceError> {
    let key = load_inputs(options.db_path.as_deref(), options.key.as_deref())?;

    // Read and catalog the image.
    let image = Image::open(reference, &options.read)?;
    info!(image = %reference, layers = image.layers.len(), "reading image");
    let contents = catalog_image(&image, &options.read, progress)?;

    // Scan, verify and check.
    let subject = sbom_subject(&image, &options.tool_version);
    let scan = vulns::scan(
        &contents.catalog,
        options.db_path.as_deref(),
        &subject,
        &options.tool_version,
    )?;
    let artifacts = attestations::collect(&image, key.as_ref(), None);
    let checks = run_checks(&image, &options.read, progress)?;
    Ok(Assessment {
        image,
        contents,
        scan,
        artifacts,
        checks,
        tool_version: options.tool_version.clone(),
    })
}

impl Assessment {
    /// Builds the compliance matrix for `frameworks`, with the Kubernetes checks of `k8s` when
    /// manifests were checked. The evidence manifest check does not run, because a report
    /// written alone has no package.
    pub fn matrix(
        &self,
        k8s: Option<&K8sReport>,
        frameworks: &[FrameworkId],
    ) -> Result<Matrix, EvidenceError> {
        let inputs = Inputs {
            image: &self.image,
            catalog: &self.contents.catalog,
            scan: &self.scan,
            artifacts: &self.artifacts,
            checks: &self.checks,
            k8s,
            in_package: false,
            tool_version: &self.tool_version,
        };
        Ok(Matrix::build(&inputs, frameworks)?)
    }
}
