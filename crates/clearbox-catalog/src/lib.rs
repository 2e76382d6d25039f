//! Finds what is inside an image: OS packages, language packages, Go binaries and model
//! weights, each with the file and layer that prove it.
//!
//! One module per ecosystem declares what it captures while layers stream and turns the
//! captures into packages; each `parse_*` file reads one file format. `docs/catalogers.md`
//! has the table of every cataloger, the files it reads and the fields it takes.
//!
//! # Supported
//! - dpkg (`status`, distroless `status.d/*`, `copyright` licences).
//! - apk (`lib/apk/db/installed`).
//! - rpm (SQLite, ndb and Berkeley DB databases read without librpm; the CBL-Mariner
//!   distroless manifest).
//! - Python distributions (`*.dist-info`, `*.egg-info`) anywhere in the filesystem, with
//!   `direct_url.json`; conda packages (`conda-meta/*.json`).
//! - npm packages installed in `node_modules`, and `package-lock.json` v1 to v3 where no
//!   `node_modules` directory sits beside it.
//! - Java archives (`.jar`, `.war`, `.ear`, `.par`, `.jpi`, `.hpi`) and the archives nested
//!   in them: Maven coordinates from `pom.properties`, `pom.xml` or `MANIFEST.MF`.
//! - Go binaries (ELF build information: toolchain, main module, dependencies).
//! - Rust binaries built with `cargo auditable` (the `.dep-v0` section).
//! - Executable ELF files that no package database, manifest or build information accounts
//!   for, as packages of kind `file`.
//! - Model weights: safetensors (also sharded, with their index), GGUF v2/v3, ONNX, PyTorch
//!   checkpoints and TorchScript archives, pickles (imports checked against an allowlist,
//!   never unpickled), `.keras`, HDF5 superblocks, legacy ggml containers and `.npz`; with
//!   Hugging Face `config.json`, `tokenizer.json` and model card front matter.
//!
//! # Not yet
//! - yarn and pnpm lockfiles, Gradle lockfiles, Rust binaries built without `cargo auditable`,
//!   rpm's LMDB backend.
//! - Model formats: `TensorFlow` `SavedModel` and `TFLite`, Core ML, `OpenVINO` IR, `TensorRT`
//!   engines, joblib, `ExecuTorch`; the HDF5 object tree (so no tensor counts for `.h5` files); the
//!   `code/` of TorchScript archives.

#![forbid(unsafe_code)]

mod apk;
mod capture;
mod catalog;
mod dpkg;
mod golang;
mod java;
mod model;
mod npm;
mod os_release;
mod package;
mod purl;
mod python;
mod rpm;
mod rust;
mod text;
mod unowned;

pub use capture::{Collector, Fact, SpooledFile};
pub use catalog::{Contents, catalog_image, catalog_scan};
pub use golang::{BuildInfo, ElfFacts, Module};
pub use model::{CardFrontMatter, SafetensorsFacts, WeightsFacts};
pub use package::{
    Catalog, Distro, FileHash, Location, ModelCardFacts, ModelConfig, ModelFacts, ModelFile,
    Package, PackageKind, PickleScan, PickleVerdict, SourcePackage, TokenizerFacts, Unknown,
};
pub use purl::{Purl, PurlError, normalize_python_name};
pub use rust::{AuditData, AuditedCrate};
pub use text::{escape_unprintable, printable};
