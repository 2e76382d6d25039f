//! The evidence package: one folder an auditor can read, proving what is in an image, what is
//! known to be vulnerable in it, whether it is signed, and what it runs as.
//!
//! The package is written to a temporary directory beside the target and renamed into place
//! when complete, so a failed run never leaves a partial package. A file that could not be
//! produced is still written and says why; nothing in the package claims a check that did not
//! run.

#![forbid(unsafe_code)]

mod assessment;
mod attestations;
mod manifest;
mod matrix;
mod metadata;
mod model;
mod output_dir;
mod policy_evaluation;
mod readme;
mod signature;
mod subject;
mod vulns;

use std::path::{Path, PathBuf};

use clearbox_catalog::{Contents, catalog_image};
use clearbox_oci::{Image, ImageReference, OciError, Progress, ReadOptions};
use clearbox_policy::compliance::FrameworkId;
use clearbox_policy::{CheckOutcome, render_markdown, run_image_checks};
use tracing::info;

pub use assessment::{AssessOptions, Assessment, assess};
pub use manifest::{
    EvidenceManifest, FORMAT_VERSIONS, FormatVersion, MANIFEST_FILE, MANIFEST_FORMAT,
    ManifestEntry, REQUIRED_FILES, VerifyReport, format_version, verify_package,
};
pub use matrix::{
    Comparison, ControlRow, FrameworkReport, ImageIdentity, MATRIX_VERSION, Matrix, Overview,
    StatusCounts, VulnerabilityOverview,
};
pub use signature::{SIGNATURE_FILE, SignatureCheck};
pub use subject::{document_time, sbom_subject};
pub use vulns::VulnerabilityScan;

/// An error while writing or checking an evidence package.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvidenceError {
    /// The image could not be read.
    #[error(transparent)]
    Image(#[from] OciError),
    /// The output path exists and is not a directory.
    #[error("output `{}` exists and is not a directory", .0.display())]
    OutputNotDirectory(PathBuf),
    /// The output directory exists and has files in it.
    #[error("output directory `{}` is not empty; choose another or pass --force to replace it", .0.display())]
    OutputNotEmpty(PathBuf),
    /// `--force` was given for a directory that is not an earlier evidence package.
    #[error("output directory `{}` is not an evidence package, so --force does not replace it: {reason}; choose another directory or empty it yourself", dir.display())]
    OutputNotPackage {
        /// The output directory.
        dir: PathBuf,
        /// What makes it something other than a package.
        reason: String,
    },
    /// The output path is a symbolic link.
    #[error("output `{}` is a symbolic link; give the directory's real path", .0.display())]
    OutputIsSymlink(PathBuf),
    /// The output directory is the working directory or one of its ancestors.
    #[error("output directory `{}` is the working directory or contains it; choose a directory below it", .0.display())]
    OutputIsWorkingDirectory(PathBuf),
    /// The staging directory beside the output could not be created.
    #[error("failed to create a staging directory in `{}`; the output must be in a writable directory", dir.display())]
    Staging {
        /// The directory that would hold it.
        dir: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The advisory database named with `--db` does not exist.
    #[error("no advisory database at `{}`; import advisories with `clearbox db import SOURCE... --db {}` or leave out --db", .0.display(), .0.display())]
    DatabaseMissing(PathBuf),
    /// A file could not be read or written.
    #[error("failed to access `{}`", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The package's manifest is unreadable or malformed.
    #[error("invalid evidence manifest `{}`: {reason}", path.display())]
    InvalidManifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The advisory database could not be used.
    #[error(transparent)]
    Vulnerabilities(#[from] clearbox_vuln::VulnError),
    /// The verifying key could not be loaded.
    #[error("failed to load the verifying key")]
    Key(#[source] clearbox_attest::KeyError),
    /// The signing key failed to sign `manifest.json`, so no package was written.
    #[error("failed to sign manifest.json with {origin}; no package was written")]
    Sign {
        /// The key's file or PKCS#11 URI, PIN redacted.
        origin: String,
        /// The underlying error.
        #[source]
        source: clearbox_attest::KeyError,
    },
    /// A compliance framework file compiled into the binary is invalid.
    #[error(transparent)]
    Framework(#[from] clearbox_policy::compliance::FrameworkError),
}

impl EvidenceError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        EvidenceError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// How to write the package.
#[derive(Debug, Clone)]
pub struct EvidenceOptions {
    /// The directory to create.
    pub output: PathBuf,
    /// Replace a non-empty output directory. Default false.
    pub force: bool,
    /// The advisory database; `None` uses the default location.
    pub db_path: Option<PathBuf>,
    /// Limits for reading the image.
    pub read: ReadOptions,
    /// The version written into every file.
    pub tool_version: String,
    /// Public key (PEM file or `pkcs11:` URI) to verify signatures and attestations with.
    /// Without one, they are listed but reported as not verified.
    pub key: Option<String>,
    /// A provenance policy and the file it was read from: verified SLSA provenance is checked
    /// against it and each check is recorded in `slsa-provenance.json`. Used only with `key`.
    pub provenance_policy: Option<(PathBuf, clearbox_attest::slsa::ProvenancePolicy)>,
    /// A policy file to evaluate on the image, with its signer keys and trusted root already
    /// loaded; the result goes to `policy-evaluation.json`. Default `None`: the file records
    /// that no policy was evaluated.
    pub policy: Option<(
        clearbox_policy::policy::Policy,
        clearbox_policy::policy::Verifiers,
    )>,
    /// Private key that signs `manifest.json` into `manifest.json.sig`. Default `None`: the
    /// package is not signed.
    pub sign_key: Option<std::sync::Arc<clearbox_attest::SigningKey>>,
}

/// One file of the package and whether it holds the evidence it is named for.
#[derive(Debug, Clone)]
pub struct FileRecord {
    /// File name inside the package.
    pub name: &'static str,
    /// False when the file only explains why the evidence is missing.
    pub produced: bool,
    /// Why it was not produced, or a one-line summary.
    pub note: String,
}

/// What was written.
#[derive(Debug, Clone)]
pub struct EvidenceSummary {
    /// The package directory.
    pub output: PathBuf,
    /// Every file, manifest last.
    pub files: Vec<FileRecord>,
    /// Number of packages in the SBOM.
    pub packages: usize,
    /// Summary lines, also written to the package README.
    pub summary: Vec<String>,
    /// The image's manifest digest, when the image has one.
    pub digest: Option<String>,
}

/// Checks that a database named with --db exists (a missing default one makes the scan "not
/// run") and loads the verifying key, so that bad input fails before the image is read.
pub(crate) fn load_inputs(
    db_path: Option<&Path>,
    key: Option<&str>,
) -> Result<Option<clearbox_attest::PublicKey>, EvidenceError> {
    if let Some(db) = db_path
        && !db.exists()
    {
        return Err(EvidenceError::DatabaseMissing(db.to_owned()));
    }
    key.map(clearbox_attest::PublicKey::load)
        .transpose()
        .map_err(EvidenceError::Key)
}

/// Reads the image, catalogs it, scans it, checks it, and writes the package.
pub fn write_evidence(
    reference: &ImageReference,
    options: &EvidenceOptions,
    progress: &dyn Progress,
) -> Result<EvidenceSummary, EvidenceError> {
    // Reject an unusable output, database or key before reading anything.
    let key = load_inputs(options.db_path.as_deref(), options.key.as_deref())?;
    let staged = output_dir::StagedDir::new(&options.output, options.force)?;

    // Read and catalog the image.
    let image = Image::open(reference, &options.read)?;
    info!(image = %reference, layers = image.layers.len(), "reading image");
    let contents = catalog_image(&image, &options.read, progress)?;
    info!(
        packages = contents.catalog.packages.len(),
        "cataloged image"
    );

    let mut package = Package::new(&staged);
    let mut summary = Vec::new();

    // Identity and inventory.
    let metadata = metadata::image_metadata(
        &image,
        &contents.scan.layers,
        contents.catalog.distro.as_ref(),
        &contents.catalog.unknowns,
    );
    package.json("image-metadata.json", &metadata, true, "")?;
    let subject = sbom_subject(&image, &options.tool_version);
    package.bytes(
        "sbom.spdx.json",
        &clearbox_sbom::to_spdx_json(&subject, &contents.catalog),
        true,
        "",
    )?;
    package.bytes(
        "sbom.cdx.json",
        &clearbox_sbom::to_cyclonedx_json(&subject, &contents.catalog),
        true,
        "",
    )?;
    summary.push(inventory_line(&contents));

    // Vulnerabilities.
    let scan = vulns::scan(
        &contents.catalog,
        options.db_path.as_deref(),
        &subject,
        &options.tool_version,
    )?;
    summary.push(scan.summary_line());
    for (name, bytes) in scan.files() {
        package.bytes(name, &bytes, scan.ran(), &scan.not_run_reason())?;
    }

    // Signatures, provenance and image checks.
    let (signature_line, artifacts) = write_signature_files(
        &image,
        key.as_ref(),
        options.provenance_policy.as_ref(),
        &mut package,
    )?;
    summary.push(signature_line);
    let evaluation = policy_evaluation::evaluate(&image, options.policy.as_ref());
    package.json(
        policy_evaluation::FILE,
        &evaluation.document,
        evaluation.produced,
        &evaluation.note,
    )?;
    summary.push(evaluation.summary);
    let model = model::model_attestation(&image, &contents, key.as_ref(), &options.read, progress);
    package.json(
        "model-attestation.json",
        &model.document,
        model.produced,
        &model.note,
    )?;
    summary.push(model.summary);
    let (checks_line, checks) = write_checks(&image, &options.read, progress, &mut package)?;
    summary.push(checks_line);

    // The compliance matrix, from the results above.
    let inputs = matrix::Inputs {
        image: &image,
        catalog: &contents.catalog,
        scan: &scan,
        artifacts: &artifacts,
        checks: &checks,
        k8s: None,
        in_package: true,
        tool_version: &options.tool_version,
    };
    summary.push(write_matrix(&inputs, &mut package)?);

    // README and manifest last, so the manifest covers the README.
    let digest = image.manifest_digest.as_ref().map(ToString::to_string);
    let readme = readme::render(
        &image.reference.to_string(),
        digest.as_deref(),
        &package.records,
        &summary,
    );
    package.bytes("README.md", readme.as_bytes(), true, "")?;
    package.finish(
        &image,
        digest.clone(),
        &options.tool_version,
        options.sign_key.as_deref(),
    )?;

    Ok(EvidenceSummary {
        files: package.records,
        output: staged.commit()?,
        packages: contents.catalog.packages.len(),
        summary,
        digest,
    })
}

/// Writes `signature-verification.txt`, `slsa-provenance.json` and `attestations.json`, and
/// returns the summary line and what was found.
fn write_signature_files(
    image: &Image,
    key: Option<&clearbox_attest::PublicKey>,
    policy: Option<&(PathBuf, clearbox_attest::slsa::ProvenancePolicy)>,
    package: &mut Package<'_>,
) -> Result<(String, attestations::ArtifactEvidence), EvidenceError> {
    let evidence = attestations::collect(image, key, policy);
    let not_checked;
    let not_verified = if let Some(reason) = evidence.unsearched {
        reason
    } else if let Some(summary) = evidence
        .signatures
        .as_ref()
        .filter(|s| s.outcome() == attestations::Outcome::NotChecked)
    {
        not_checked = format!("the signatures could not be checked: {}", summary.reason());
        &not_checked
    } else {
        "no --key was given, so the signatures found were not verified"
    };
    let checked = evidence.signatures_checked();
    package.bytes(
        "signature-verification.txt",
        attestations::signature_report(image, &evidence).as_bytes(),
        checked,
        not_verified,
    )?;
    package.json(
        "slsa-provenance.json",
        &attestations::provenance_report(image, &evidence),
        evidence.has_provenance(),
        if checked {
            "no SLSA provenance attestation whose signature verified with the key"
        } else {
            not_verified
        },
    )?;
    package.json(
        "attestations.json",
        &attestations::attestations_report(&evidence),
        checked,
        not_verified,
    )?;
    Ok((evidence.summary_line(), evidence))
}

/// Writes `cis-compliance.md` and returns the summary line and the results.
fn write_checks(
    image: &Image,
    options: &ReadOptions,
    progress: &dyn Progress,
    package: &mut Package<'_>,
) -> Result<(String, Vec<clearbox_policy::CheckResult>), EvidenceError> {
    let checks = run_checks(image, options, progress)?;
    let failed = checks
        .iter()
        .filter(|c| c.outcome == CheckOutcome::Fail)
        .count();
    package.bytes(
        "cis-compliance.md",
        render_markdown(&image.reference.to_string(), &checks).as_bytes(),
        true,
        "",
    )?;
    let line = format!(
        "CIS image checks: {} run, {failed} failed ({}).",
        checks.len(),
        checks
            .iter()
            .map(|c| format!("{} {}", c.id, c.outcome.label()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok((line, checks))
}

/// Writes `compliance-matrix.json`, `compliance-matrix.md` and `report.html` for every
/// framework, and returns the summary line.
fn write_matrix(
    inputs: &matrix::Inputs<'_>,
    package: &mut Package<'_>,
) -> Result<String, EvidenceError> {
    let matrix = Matrix::build(inputs, &FrameworkId::ALL)?;
    package.bytes("compliance-matrix.json", &matrix.to_json(), true, "")?;
    package.bytes(
        "compliance-matrix.md",
        matrix.to_markdown().as_bytes(),
        true,
        "",
    )?;
    package.bytes("report.html", matrix.to_html().as_bytes(), true, "")?;
    let counts: Vec<String> = matrix
        .frameworks
        .iter()
        .map(|f| {
            format!(
                "{} {} satisfied, {} not satisfied, {} not evidenced",
                f.name, f.summary.satisfied, f.summary.not_satisfied, f.summary.not_evidenced
            )
        })
        .collect();
    Ok(format!("Compliance matrix: {}.", counts.join("; ")))
}

fn inventory_line(contents: &Contents) -> String {
    let mut counts = std::collections::BTreeMap::new();
    for p in &contents.catalog.packages {
        *counts.entry(p.kind.name()).or_insert(0usize) += 1;
    }
    let by_kind: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let unknowns = contents.catalog.unknowns.len();
    format!(
        "Inventory: {} packages ({}); {unknowns} files could not be read (listed under `unreadable_files` in image-metadata.json).",
        contents.catalog.packages.len(),
        by_kind.join(", ")
    )
}

/// Runs the image checks, as `clearbox check image` does.
///
/// NOTE: this reads the image's layers a second time after cataloging, because the checks scan
/// every file's text for secrets and the catalogers' scan keeps only the files they parse. A
/// scan that fed both would need `Scan` to split one inspector's facts in two.
pub fn run_checks(
    image: &Image,
    options: &ReadOptions,
    progress: &dyn Progress,
) -> Result<Vec<clearbox_policy::CheckResult>, OciError> {
    Ok(run_image_checks(image, options, progress)?.results)
}

/// Files written so far and their manifest entries.
struct Package<'a> {
    staged: &'a output_dir::StagedDir,
    records: Vec<FileRecord>,
    entries: std::collections::BTreeMap<String, ManifestEntry>,
}

impl<'a> Package<'a> {
    fn new(staged: &'a output_dir::StagedDir) -> Self {
        Package {
            staged,
            records: Vec::new(),
            entries: std::collections::BTreeMap::new(),
        }
    }

    fn bytes(
        &mut self,
        name: &'static str,
        bytes: &[u8],
        produced: bool,
        note: &str,
    ) -> Result<(), EvidenceError> {
        self.staged.write(name, bytes)?;
        self.entries
            .insert(name.to_owned(), manifest::entry_for(bytes));
        self.records.push(FileRecord {
            name,
            produced,
            note: note.to_owned(),
        });
        Ok(())
    }

    fn json(
        &mut self,
        name: &'static str,
        value: &serde_json::Value,
        produced: bool,
        note: &str,
    ) -> Result<(), EvidenceError> {
        let mut bytes = serde_json::to_vec_pretty(value).expect("JSON values always serialize");
        bytes.push(b'\n');
        self.bytes(name, &bytes, produced, note)
    }

    /// Writes `manifest.json` and, with `sign_key`, `manifest.json.sig` over its exact bytes.
    /// Both go to the staging directory, so a failed signature leaves no package.
    fn finish(
        &mut self,
        image: &Image,
        digest: Option<String>,
        version: &str,
        sign_key: Option<&clearbox_attest::SigningKey>,
    ) -> Result<(), EvidenceError> {
        let manifest = EvidenceManifest {
            format: MANIFEST_FORMAT.to_owned(),
            generator: format!("clearbox {version}"),
            generated_at: document_time(None),
            image: image.reference.to_string(),
            manifest_digest: digest,
            files: self.entries.clone(),
        };
        let mut bytes = serde_json::to_vec_pretty(&manifest).expect("manifest always serializes");
        bytes.push(b'\n');
        self.staged.write(MANIFEST_FILE, &bytes)?;
        self.records.push(FileRecord {
            name: MANIFEST_FILE,
            produced: true,
            note: String::new(),
        });
        if let Some(key) = sign_key {
            let signature =
                signature::sign_manifest(key, &bytes).map_err(|source| EvidenceError::Sign {
                    origin: key.origin(),
                    source,
                })?;
            self.staged.write(SIGNATURE_FILE, &signature)?;
            self.records.push(FileRecord {
                name: SIGNATURE_FILE,
                produced: true,
                note: String::new(),
            });
        }
        Ok(())
    }
}
