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
    /// An Alpine package from the apk database.
    Apk,
    /// An RPM package from the rpm database or a CBL-Mariner container manifest.
    Rpm,
    /// A Python distribution (`*.dist-info`, `*.egg-info`).
    Python,
    /// A Go module compiled into a binary.
    GoModule,
    /// The Go standard library a binary was built with.
    GoStdlib,
    /// Machine-learning model weights.
    Model,
    /// A language package known from its package URL only (npm, Cargo, Maven, RubyGems, NuGet,
    /// Composer), as an SBOM lists it; the purl type names the ecosystem.
    Library,
    /// An npm package installed in `node_modules` or listed in a `package-lock.json`.
    Npm,
    /// A Java archive or an artifact shaded into one, named by its Maven coordinates.
    Java,
    /// A Rust crate compiled into a binary built with `cargo auditable`.
    RustCrate,
    /// A conda package installed in an environment (`conda-meta/*.json`).
    Conda,
    /// An executable ELF file that no package database, manifest or build information accounts
    /// for.
    File,
}

impl PackageKind {
    /// The name used in tables and JSON.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            PackageKind::Deb => "deb",
            PackageKind::Apk => "apk",
            PackageKind::Rpm => "rpm",
            PackageKind::Python => "python",
            PackageKind::GoModule => "go-module",
            PackageKind::GoStdlib => "go-stdlib",
            PackageKind::Model => "model",
            PackageKind::Library => "library",
            PackageKind::Npm => "npm",
            PackageKind::Java => "java",
            PackageKind::RustCrate => "rust-crate",
            PackageKind::Conda => "conda",
            PackageKind::File => "file",
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

impl Package {
    /// Creates a package with the fields every cataloger sets and every other field empty.
    pub(crate) fn new(
        name: impl Into<String>,
        version: impl Into<String>,
        kind: PackageKind,
        purl: Purl,
        found_by: &'static str,
        location: Location,
    ) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            kind,
            purl,
            licenses: Vec::new(),
            supplier: None,
            description: None,
            homepage: None,
            source: None,
            arch: None,
            found_by,
            locations: vec![location],
            hashes: Vec::new(),
            model: None,
            properties: BTreeMap::new(),
        }
    }
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
    /// Free-form metadata the file states: the safetensors `__metadata__` map, GGUF scalar
    /// key-value pairs, ONNX `metadata_props`, Keras `metadata.json`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// The model's name as the file states it, such as GGUF `general.name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Version of the file format, such as `3` for GGUF v3 or the ONNX IR version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format_version: Option<String>,
    /// Architecture the file names, such as GGUF `general.architecture` (`llama`) or the Keras
    /// model class (`Sequential`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// Quantisation the file names, such as GGUF `general.file_type` (`MOSTLY_Q4_K_M`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantization: Option<String>,
    /// Context length in tokens, such as GGUF `<architecture>.context_length`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_length: Option<u64>,
    /// Tool that wrote the file, such as ONNX `producer_name` and `producer_version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub producer: Option<String>,
    /// ONNX operator sets imported: domain (`ai.onnx` for the default one) → version.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub opsets: BTreeMap<String, u64>,
    /// Number of nodes in the ONNX main graph.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_count: Option<u64>,
    /// Graph inputs that are not initializers, as `name: type[shape]`; at most 32 are kept.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<String>,
    /// Graph outputs, as `name: type[shape]`; at most 32 are kept.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<String>,
    /// Named arrays of formats that hold a few (`.npz`), as `name: dtype[shape]`; at most 64.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tensors: Vec<String>,
    /// What loading the file would import, for formats that are Python pickles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pickle: Option<PickleScan>,
    /// Facts from the tokenizer: a `tokenizer.json` beside the weights, or GGUF `tokenizer.*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokenizer: Option<TokenizerFacts>,
    /// Every file of the model with its size and digest, in shard order; one entry for a model
    /// stored in one file.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<ModelFile>,
    /// Facts from a Hugging Face `config.json` beside the weights.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<ModelConfig>,
    /// Facts from the model card (`README.md` front matter) beside the weights.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card: Option<ModelCardFacts>,
    /// Risks the files carry that are not format problems: an unsafe pickle import, a Keras
    /// `Lambda` layer. Each is also reported as an unknown, so that audits see it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Problems found in the file, such as a header whose offsets run past the end. A model
    /// with problems is reported as a partial result.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// One file of a model.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ModelFile {
    /// Absolute path inside the image.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the whole file, lowercase hexadecimal.
    pub sha256: String,
}

/// Whether loading a pickle could run code other than rebuilding tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PickleVerdict {
    /// Every opcode was read and every import is on the allowlist of tensor-rebuilding
    /// callables.
    Safe,
    /// The pickle imports a callable outside the allowlist, which unpickling would call.
    Unsafe,
    /// The scan stopped early (malformed or truncated pickle, or a limit was hit) before it
    /// found an import outside the allowlist; the rest is unchecked.
    Unverified,
}

impl PickleVerdict {
    /// The name used in properties: `safe`, `unsafe`, `unverified`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            PickleVerdict::Safe => "safe",
            PickleVerdict::Unsafe => "unsafe",
            PickleVerdict::Unverified => "unverified",
        }
    }
}

/// What a pickle imports, read from its opcodes without executing any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PickleScan {
    /// The verdict.
    pub verdict: PickleVerdict,
    /// Highest protocol stated by a `PROTO` opcode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<u8>,
    /// Every distinct import (`GLOBAL`, `STACK_GLOBAL`, `INST`) as `module.name`, in order of
    /// first use; at most 256 are kept.
    pub imports: Vec<String>,
    /// The imports outside the allowlist.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unsafe_imports: Vec<String>,
    /// Why the scan stopped early, for [`PickleVerdict::Unverified`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
}

/// Facts about a model's tokenizer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TokenizerFacts {
    /// Path of the file they come from inside the image.
    pub path: String,
    /// Tokenizer model type, such as `WordPiece`, `BPE` (`tokenizer.json` `model.type`) or
    /// `gpt2` (GGUF `tokenizer.ggml.model`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_type: Option<String>,
    /// Entries in the vocabulary (`model.vocab`, GGUF `tokenizer.ggml.tokens`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vocab_size: Option<u64>,
    /// Entries in `added_tokens`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub added_tokens: Option<u64>,
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
