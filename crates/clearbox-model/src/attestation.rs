//! Model attestations: building the predicate from an image, and checking a verified one
//! against the files in the image's layers.
//!
//! Two predicates are supported ([`ModelFormat`]):
//!
//! - `https://clearbox.dev/model/v1`: every weight file of the image (path, layer, SHA-256,
//!   size, format, format facts) and the governance annotations of its manifest;
//! - `https://model_signing/signature/v1.0`: OpenSSF Model Signing for one model directory
//!   (see [`model_signing`](crate::model_signing)).
//!
//! Checking one verified attestation of the clearbox type compares its files with the image's
//! weight files by path ([`compare_files`]). For the OMS type:
//!
//! 1. the serialization must be `files` with SHA-256;
//! 2. the first subject's digest must be the root digest of the resources;
//! 3. the model directory is the directory `D` where `D/NAME` is a weight file of the image for
//!    a listed resource `NAME`. Every file under `D` is hashed in a second pass over the layers,
//!    and the candidate with the fewest mismatches is reported;
//! 4. every listed file must be under `D` with its digest, and every file under `D` must be
//!    listed (apart from the ignored paths). Files outside `D` are outside the predicate's
//!    scope, as in the specification's verification procedure.
//!
//! An attestation passes when its list and the image agree exactly: for the clearbox type, no
//! weight file anywhere in the image may be unlisted; for the OMS type, no file of `D`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use clearbox_attest::PublicKey;
use clearbox_attest::cosign::{
    self, ArtifactStore, AttestationCheckError, AttestationVerifyOptions, CosignError,
    VerifiedAttestation,
};
use clearbox_attest::intoto::{PredicateType, Subject};
use clearbox_oci::{Image, OciError, Progress, ReadOptions};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tracing::debug;

use crate::check::{Mismatch, compare_files};
use crate::governance::GovernanceRecord;
use crate::inventory::ModelFileRecord;
use crate::model_signing::{
    DirectoryFiles, DirectoryHasher, MODEL_SIGNING_PREDICATE_TYPE, ModelSigningPredicate,
    compare_directory,
};

/// The predicate type of clearbox's model attestation.
pub const MODEL_PREDICATE_TYPE: &str = "https://clearbox.dev/model/v1";

/// An error while building or checking a model attestation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// Signing or verifying failed, or no attestation verified.
    #[error(transparent)]
    Cosign(#[from] CosignError),
    /// No attestation of the predicate type is stored beside the image; attestations of other
    /// types may be.
    #[error(
        "no attestation of type `{predicate_type}` is stored beside {image}; create one with \
         `clearbox model-attest`"
    )]
    NotFound {
        /// The predicate type looked for.
        predicate_type: &'static str,
        /// The image, as `LOCATION@DIGEST`.
        image: String,
    },
    /// The image could not be read for the model directory's files.
    #[error(transparent)]
    Image(#[from] OciError),
    /// The image contains no weight file, so there is nothing to attest.
    #[error(
        "the image holds no model weight files (safetensors, GGUF, ONNX, PyTorch, pickle, Keras, \
         HDF5, ggml or .npz), so there is nothing to attest"
    )]
    NoModelFiles,
    /// The model directory is not given and the weight files are in several directories.
    #[error(
        "the weight files are in {} directories ({}); choose the model directory with \
         --model-dir",
        directories.len(),
        list_some(directories)
    )]
    AmbiguousDirectory {
        /// The directories that hold weight files.
        directories: Vec<String>,
    },
    /// The model directory given is unusable.
    #[error("invalid model directory `{directory}`: {reason}")]
    InvalidDirectory {
        /// The directory as given.
        directory: String,
        /// The problem.
        reason: String,
    },
}

/// The predicate of a model attestation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelFormat {
    /// clearbox's own predicate, [`MODEL_PREDICATE_TYPE`].
    Clearbox,
    /// OpenSSF Model Signing v1.0, [`MODEL_SIGNING_PREDICATE_TYPE`].
    ModelSigning,
}

impl ModelFormat {
    /// Returns the predicate type URI.
    #[must_use]
    pub fn predicate_type(self) -> &'static str {
        match self {
            ModelFormat::Clearbox => MODEL_PREDICATE_TYPE,
            ModelFormat::ModelSigning => MODEL_SIGNING_PREDICATE_TYPE,
        }
    }

    /// Returns the name `--format` takes: `clearbox` or `model-signing`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ModelFormat::Clearbox => "clearbox",
            ModelFormat::ModelSigning => "model-signing",
        }
    }

    /// Returns the format a `verify-attestation --type` value names: `model` or the clearbox URI,
    /// `model-signing` or the OMS URI; `None` for other types.
    #[must_use]
    pub fn from_type_argument(text: &str) -> Option<Self> {
        match text {
            "model" | MODEL_PREDICATE_TYPE => Some(ModelFormat::Clearbox),
            "model-signing" | MODEL_SIGNING_PREDICATE_TYPE => Some(ModelFormat::ModelSigning),
            _ => None,
        }
    }
}

/// clearbox's model predicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelPredicate {
    /// Every weight file of the image, in path order.
    pub files: Vec<ModelFileRecord>,
    /// The governance annotations of the image's manifest, when it has any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub governance: Option<Value>,
}

/// Builds clearbox's predicate from the image's weight files and governance annotations.
pub fn model_predicate(
    files: &[ModelFileRecord],
    governance: Option<&GovernanceRecord>,
) -> Result<Value, ModelError> {
    if files.is_empty() {
        return Err(ModelError::NoModelFiles);
    }
    let predicate = ModelPredicate {
        files: files.to_vec(),
        governance: governance.map(GovernanceRecord::to_json),
    };
    Ok(serde_json::to_value(&predicate).unwrap_or(Value::Null))
}

/// An OMS predicate for one model directory of an image, with its model subject.
#[derive(Debug, Clone)]
pub struct ModelSigningParts {
    /// The predicate JSON.
    pub predicate: Value,
    /// The statement's first subject: the directory's base name and the root digest.
    pub model_subject: Subject,
    /// The model directory, absolute in the image.
    pub directory: String,
    /// The number of files listed.
    pub files: usize,
}

/// Builds the OMS predicate for the model directory `requested`, or for the one directory that
/// contains every weight file. Reads the layers a second time to hash every file of the
/// directory. Symbolic links and other special files in it are an error, as the specification
/// asks of a signer that does not follow links.
pub fn model_signing_predicate(
    image: &Image,
    read: &ReadOptions,
    progress: &dyn Progress,
    files: &[ModelFileRecord],
    requested: Option<&str>,
) -> Result<ModelSigningParts, ModelError> {
    let directory = choose_directory(files, requested)?;
    let hasher = DirectoryHasher::new(std::slice::from_ref(&directory));
    let scan = image.scan(&hasher, read, progress)?;
    let found = hasher.collect(&scan);
    let (present, others) = found.under(&directory);
    if let Some((name, what)) = others.iter().next() {
        return Err(ModelError::InvalidDirectory {
            directory,
            reason: format!(
                "`{name}` is {what}; OpenSSF Model Signing without allow_symlinks signs regular \
                 files only"
            ),
        });
    }
    let mut listed = BTreeMap::new();
    let empty = ModelSigningPredicate::from_files(&BTreeMap::new());
    for (name, (sha256, _)) in present {
        if !empty.is_ignored(&name) {
            listed.insert(name, sha256);
        }
    }
    let predicate = ModelSigningPredicate::from_files(&listed);
    let name = directory.rsplit('/').next().unwrap_or(&directory);
    let Some(model_subject) = predicate.model_subject(name) else {
        unreachable!("digests computed here are hexadecimal")
    };
    Ok(ModelSigningParts {
        predicate: serde_json::to_value(&predicate).unwrap_or(Value::Null),
        model_subject,
        files: listed.len(),
        directory,
    })
}

/// Chooses the model directory: the one requested, checked, or the only directory that contains
/// every weight file (the shallowest one when the others are below it).
fn choose_directory(
    files: &[ModelFileRecord],
    requested: Option<&str>,
) -> Result<String, ModelError> {
    if files.is_empty() {
        return Err(ModelError::NoModelFiles);
    }
    let parent = |path: &str| path.rsplit_once('/').map_or("/", |(dir, _)| dir).to_owned();
    let directories: BTreeSet<String> = files.iter().map(|f| parent(&f.path)).collect();
    let Some(requested) = requested else {
        let outer = directories.iter().find(|outer| {
            directories
                .iter()
                .all(|d| d == *outer || d.starts_with(&format!("{outer}/")))
        });
        return match outer {
            Some(outer) if outer != "/" && !outer.is_empty() => Ok(outer.clone()),
            _ => Err(ModelError::AmbiguousDirectory {
                directories: directories.into_iter().collect(),
            }),
        };
    };
    let invalid = |reason: String| ModelError::InvalidDirectory {
        directory: requested.to_owned(),
        reason,
    };
    let normal = requested.trim_end_matches('/');
    if !normal.starts_with('/')
        || normal.len() < 2
        || normal
            .split('/')
            .skip(1)
            .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err(invalid(
            "give an absolute path inside the image below `/`, without `.` or `..`, such as \
             /models/minilm"
                .to_owned(),
        ));
    }
    let prefix = format!("{normal}/");
    if !files.iter().any(|f| f.path.starts_with(&prefix)) {
        return Err(invalid(format!(
            "no weight file is below it, so a verifier could not find it again; the weight files \
             are in {}",
            directories
                .iter()
                .map(|d| format!("`{d}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(normal.to_owned())
}

/// One verified attestation of the requested type, checked against the image.
#[derive(Debug, Clone, Serialize)]
pub struct CheckedAttestation {
    /// The attestation's location in the store.
    pub location: String,
    /// The statement, as signed.
    pub statement: Value,
    /// For OMS, the model directory the files were compared in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_directory: Option<String>,
    /// The number of files the predicate lists.
    pub listed_files: usize,
    /// The reasons the predicate could not be compared at all.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// Each disagreement with the image.
    pub mismatches: Vec<Mismatch>,
}

impl CheckedAttestation {
    /// Returns true when the predicate was compared and agrees with the image.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.problems.is_empty() && self.mismatches.is_empty()
    }
}

/// The result of [`verify_model_attestations`].
#[derive(Debug, Clone, Serialize)]
pub struct ModelVerification {
    /// The image's digest, which the attestations name.
    pub image: String,
    /// The predicate type checked.
    pub predicate_type: &'static str,
    /// Every attestation of that type whose signature verified, with its comparison.
    pub checked: Vec<CheckedAttestation>,
    /// Attestations that failed signature or subject verification, with the reason.
    /// Attestations of other predicate types are left out.
    pub rejected: Vec<String>,
    /// Checks not made.
    pub not_checked: Vec<&'static str>,
}

impl ModelVerification {
    /// Returns true when at least one attestation was checked and every one agrees with the
    /// image.
    #[must_use]
    pub fn passed(&self) -> bool {
        !self.checked.is_empty() && self.checked.iter().all(CheckedAttestation::passed)
    }
}

/// Verifies the model attestations of `format` stored beside the image with `key`. Then it
/// compares each with the image's weight files `files`, from the scan that read the image (see
/// the module documentation). Fails with [`ModelError::NotFound`] when no attestation of the
/// type is stored, and with [`CosignError::NoValidAttestations`] when none of them verifies.
pub fn verify_model_attestations(
    store: &dyn ArtifactStore,
    key: &PublicKey,
    format: ModelFormat,
    image: &Image,
    read: &ReadOptions,
    progress: &dyn Progress,
    files: &[ModelFileRecord],
) -> Result<ModelVerification, ModelError> {
    let options = AttestationVerifyOptions {
        predicate_type: Some(PredicateType::from_uri(format.predicate_type())),
    };
    let image_name = format!("{}@{}", store.location(), store.subject().digest);
    let not_found = || ModelError::NotFound {
        predicate_type: format.predicate_type(),
        image: image_name.clone(),
    };
    let verification = match cosign::verify_attestations(store, key, &options) {
        Ok(verification) => verification,
        Err(CosignError::NoAttestations { .. }) => return Err(not_found()),
        Err(CosignError::NoValidAttestations { rejected, .. })
            if rejected.iter().all(|r| {
                matches!(r.error, AttestationCheckError::PredicateTypeMismatch { .. })
            }) =>
        {
            return Err(not_found());
        }
        Err(other) => return Err(other.into()),
    };
    let checked = match format {
        ModelFormat::Clearbox => verification
            .verified
            .iter()
            .map(|a| check_clearbox(a, files))
            .collect(),
        ModelFormat::ModelSigning => {
            check_model_signing(&verification.verified, image, read, progress, files)?
        }
    };
    Ok(ModelVerification {
        image: verification.image.to_string(),
        predicate_type: format.predicate_type(),
        checked,
        rejected: verification
            .rejected
            .iter()
            .filter(|r| !matches!(r.error, AttestationCheckError::PredicateTypeMismatch { .. }))
            .map(|r| format!("{}: {}", r.location, r.reason()))
            .collect(),
        not_checked: verification.not_checked,
    })
}

fn statement_json(attestation: &VerifiedAttestation) -> Value {
    serde_json::from_slice(&attestation.statement.to_json()).unwrap_or(Value::Null)
}

fn check_clearbox(
    attestation: &VerifiedAttestation,
    files: &[ModelFileRecord],
) -> CheckedAttestation {
    let mut checked = CheckedAttestation {
        location: attestation.location.to_string(),
        statement: statement_json(attestation),
        model_directory: None,
        listed_files: 0,
        problems: Vec::new(),
        mismatches: Vec::new(),
    };
    match serde_json::from_value::<ModelPredicate>(attestation.statement.predicate().clone()) {
        Ok(predicate) => {
            checked.listed_files = predicate.files.len();
            checked.mismatches = compare_files(&predicate.files, files);
        }
        Err(error) => checked.problems.push(format!(
            "the predicate is not a {MODEL_PREDICATE_TYPE} predicate: {error}"
        )),
    }
    debug!(location = %checked.location, mismatches = checked.mismatches.len(), "model attestation compared");
    checked
}

/// A parsed OMS predicate and the model directories it could be about.
struct OmsCandidate {
    checked: CheckedAttestation,
    predicate: Option<ModelSigningPredicate>,
    roots: Vec<String>,
}

fn check_model_signing(
    verified: &[VerifiedAttestation],
    image: &Image,
    read: &ReadOptions,
    progress: &dyn Progress,
    files: &[ModelFileRecord],
) -> Result<Vec<CheckedAttestation>, ModelError> {
    // 1-3. Parse each predicate and find its candidate directories.
    let mut candidates: Vec<OmsCandidate> = verified
        .iter()
        .map(|attestation| oms_candidate(attestation, files))
        .collect();

    // One more pass over the layers hashes every candidate directory at once.
    let roots: Vec<String> = candidates
        .iter()
        .flat_map(|c| c.roots.iter().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let found = if roots.is_empty() {
        DirectoryFiles::default()
    } else {
        let hasher = DirectoryHasher::new(&roots);
        let scan = image.scan(&hasher, read, progress)?;
        hasher.collect(&scan)
    };

    // 4. Compare in each candidate and keep the closest.
    for candidate in &mut candidates {
        let Some(predicate) = &candidate.predicate else {
            continue;
        };
        let best = candidate
            .roots
            .iter()
            .map(|root| (root, compare_directory(predicate, root, &found)))
            .min_by_key(|(_, mismatches)| mismatches.len());
        if let Some((root, mismatches)) = best {
            candidate.checked.model_directory = Some(root.clone());
            candidate.checked.mismatches = mismatches;
        }
    }
    Ok(candidates.into_iter().map(|c| c.checked).collect())
}

fn oms_candidate(attestation: &VerifiedAttestation, files: &[ModelFileRecord]) -> OmsCandidate {
    let mut checked = CheckedAttestation {
        location: attestation.location.to_string(),
        statement: statement_json(attestation),
        model_directory: None,
        listed_files: 0,
        problems: Vec::new(),
        mismatches: Vec::new(),
    };
    let predicate = match serde_json::from_value::<ModelSigningPredicate>(
        attestation.statement.predicate().clone(),
    ) {
        Ok(predicate) => predicate,
        Err(error) => {
            checked.problems.push(format!(
                "the predicate is not a {MODEL_SIGNING_PREDICATE_TYPE} predicate: {error}"
            ));
            return OmsCandidate {
                checked,
                predicate: None,
                roots: Vec::new(),
            };
        }
    };
    checked.listed_files = predicate.resources.len();

    // 1. What this checker can reproduce.
    if let Err(reason) = predicate.check_supported() {
        checked.problems.push(reason);
    }

    // 2. The model subject's digest.
    let subject = attestation.statement.subjects().first();
    match (
        subject.and_then(|s| s.digest.get("sha256")),
        predicate.root_digest(),
    ) {
        (Some(stated), Some(root)) if *stated == root => {}
        (stated, root) => checked.problems.push(format!(
            "the first subject's sha256 ({}) is not the root digest of the listed resources ({})",
            stated.map_or("none", String::as_str),
            root.as_deref().unwrap_or("a digest is not hexadecimal")
        )),
    }

    // 3. Directories D where D/NAME is a weight file of the image.
    let roots: BTreeSet<String> = files
        .iter()
        .flat_map(|file| {
            predicate.resources.iter().filter_map(move |resource| {
                let root = file.path.strip_suffix(&resource.name)?.strip_suffix('/')?;
                (!root.is_empty()).then(|| root.to_owned())
            })
        })
        .collect();
    if roots.is_empty() && checked.problems.is_empty() {
        checked.problems.push(
            "no weight file of the image is at a path ending in a listed resource name, so the \
             model directory was not found"
                .to_owned(),
        );
    }
    let roots = if checked.problems.is_empty() {
        roots.into_iter().collect()
    } else {
        Vec::new()
    };
    OmsCandidate {
        checked,
        predicate: Some(predicate),
        roots,
    }
}

impl ModelVerification {
    /// Converts the verification to JSON, with its overall result under `passed`.
    #[must_use]
    pub fn to_json(&self) -> Value {
        json!({
            "image": self.image,
            "predicate_type": self.predicate_type,
            "passed": self.passed(),
            "checked": self.checked,
            "rejected": self.rejected,
            "not_checked": self.not_checked,
        })
    }
}

/// Lists the first ten directories in backquotes, then how many more there are.
fn list_some(directories: &[String]) -> String {
    const SHOWN: usize = 10;
    let mut text = directories
        .iter()
        .take(SHOWN)
        .map(|d| format!("`{d}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if directories.len() > SHOWN {
        let _ = write!(text, " and {} more", directories.len() - SHOWN);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_lists_are_cut_at_ten() {
        let directories: Vec<String> = (0..13).map(|i| format!("/m{i}")).collect();
        let text = list_some(&directories);
        assert!(text.starts_with("`/m0`, `/m1`"), "{text}");
        assert!(text.ends_with("`/m9` and 3 more"), "{text}");
        assert_eq!(list_some(&directories[..2]), "`/m0`, `/m1`");
    }
}
