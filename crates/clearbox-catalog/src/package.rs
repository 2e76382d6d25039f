//! The package model every cataloger fills and every encoder and matcher reads.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::purl::Purl;

/// What kind of thing a package is; decides the purl type, the SBOM component type and the
/// advisory ecosystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PackageKind {
    /// A Debian package from the dpkg database.
    Deb,
    /// A Python distribution (`*.dist-info`, `*.egg-info`).
    Python,
    /// A Go module compiled into a binary.
    GoModule,
    /// The Go standard library a binary was built with.
    GoStdlib,
    /// Machine-learning model weights.
    Model,
}

impl PackageKind {
    /// The name used in tables and JSON.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            PackageKind::Deb => "deb",
            PackageKind::Python => "python",
            PackageKind::GoModule => "go-module",
            PackageKind::GoStdlib => "go-stdlib",
            PackageKind::Model => "model",
        }
    }
}

/// Where a package was found: the file that proves it and the layer that file came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Location {
    /// Absolute path inside the image, starting with `/`.
    pub path: String,
    /// `diff_id` of the layer holding the file; `None` for a root filesystem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
}

/// A content digest of a package's main file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct FileHash {
    /// Algorithm name as SPDX spells it: `SHA256`.
    pub algorithm: &'static str,
    /// Lowercase hexadecimal value.
    pub value: String,
}

/// The source package an OS package was built from. Debian advisories name source packages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourcePackage {
    /// Source package name.
    pub name: String,
    /// Source version; the binary version when the database gives none.
    pub version: String,
}

/// One package, module or model found in an image.
#[derive(Debug, Clone, Serialize)]
pub struct Package {
    /// Name as the ecosystem spells it (dpkg `Package`, Python `Name`, Go module path).
    pub name: String,
    /// Version as the ecosystem spells it.
    pub version: String,
    /// What kind of package this is.
    pub kind: PackageKind,
    /// Package URL.
    pub purl: Purl,
    /// Licences as declared: SPDX identifiers where the source uses or maps to one, otherwise
    /// the name as written. Empty when nothing declares a licence.
    pub licenses: Vec<String>,
    /// Who supplies it (dpkg `Maintainer`, Python `Author`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier: Option<String>,
    /// One-line description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Project home page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    /// For OS packages, the source package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<SourcePackage>,
    /// Architecture, for OS packages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// Id of the cataloger that found it, such as `dpkg-db-cataloger`.
    pub found_by: &'static str,
    /// The files that prove it, with their layers.
    pub locations: Vec<Location>,
    /// Digests of the package's main file (model weights, binaries).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hashes: Vec<FileHash>,
    /// Facts about model weights; only for [`PackageKind::Model`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelFacts>,
    /// Further facts as `name → value`, written to SBOM properties with a `clearbox:` prefix.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, String>,
}

/// What the files of a model prove about it. Every field comes from a file; nothing is guessed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ModelFacts {
    /// Weight file format, such as `safetensors`.
    pub format: String,
    /// Size of the weight file in bytes.
    pub file_size: u64,
    /// Number of tensors in the header; `None` when the header could not be read.
    pub tensor_count: Option<u64>,
    /// Total parameters: the sum over tensors of the product of their shapes; `None` when the
    /// header could not be read.
    pub parameter_count: Option<u64>,
    /// Tensor count per data type, such as `F32 → 104`.
    pub dtypes: BTreeMap<String, u64>,
    /// The header's free-form `__metadata__` map.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// Facts from a Hugging Face `config.json` beside the weights.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<ModelConfig>,
    /// Facts from the model card (`README.md` front matter) beside the weights.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card: Option<ModelCardFacts>,
    /// Problems found in the file, such as a header whose offsets run past the end. A model
    /// with problems is reported as a partial result.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// Facts from a Hugging Face `config.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ModelConfig {
    /// Path of the file inside the image.
    pub path: String,
    /// `architectures`, such as `BertModel`.
    pub architectures: Vec<String>,
    /// `model_type`, such as `bert`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_type: Option<String>,
    /// `hidden_size`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden_size: Option<u64>,
    /// `num_hidden_layers`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_hidden_layers: Option<u64>,
    /// `num_attention_heads`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_attention_heads: Option<u64>,
    /// `vocab_size`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vocab_size: Option<u64>,
    /// `max_position_embeddings`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_position_embeddings: Option<u64>,
    /// `_name_or_path`: where the weights were loaded from when the config was saved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_or_path: Option<String>,
}

/// Facts from a model card's YAML front matter.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ModelCardFacts {
    /// Path of the card inside the image.
    pub path: String,
    /// `pipeline_tag`, the task, such as `sentence-similarity`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline_tag: Option<String>,
    /// `license`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// `datasets`: training data the card names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<String>,
    /// `language`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// `library_name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub library_name: Option<String>,
    /// `base_model`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub base_models: Vec<String>,
}

/// The operating system named by `/etc/os-release`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Distro {
    /// `ID`, such as `debian`.
    pub id: String,
    /// `VERSION_ID`, such as `12`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// `VERSION_CODENAME`, such as `bookworm`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codename: Option<String>,
    /// `PRETTY_NAME`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pretty_name: Option<String>,
}

/// Something a cataloger could not read, kept so the report can say what it missed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Unknown {
    /// Absolute path inside the image.
    pub path: String,
    /// `diff_id` of the layer; `None` for a root filesystem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// Cataloger that tried.
    pub cataloger: &'static str,
    /// What went wrong.
    pub reason: String,
}

/// Everything the catalogers found in one image.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Catalog {
    /// The operating system, when `/etc/os-release` names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distro: Option<Distro>,
    /// Packages sorted by kind, name, version and first location.
    pub packages: Vec<Package>,
    /// Files the catalogers could not read.
    pub unknowns: Vec<Unknown>,
}
