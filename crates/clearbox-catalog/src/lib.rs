//! Finds what is inside an image: OS packages, language packages, Go binaries and model
//! weights, each with the file and layer that prove it.
//!
//! One module per ecosystem declares what it captures while layers stream and turns the
//! captures into packages; each `parse_*` file reads one file format. `docs/catalogers.md`
//! has the table of every cataloger, the files it reads and the fields it takes.
//!
//! # Supported
//! - dpkg (`status`, distroless `status.d/*`, `copyright` licences).
//! - Python distributions (`*.dist-info`, `*.egg-info`) anywhere in the filesystem.
//! - Go binaries (ELF build information: toolchain, main module, dependencies).
//! - safetensors weights with Hugging Face `config.json` and model card front matter.
//!
//! # Not yet
//! - apk, rpm, npm, Java archives, Rust binaries, and model formats other than safetensors.

#![forbid(unsafe_code)]

mod capture;
mod catalog;
mod dpkg;
mod golang;
mod model;
mod os_release;
mod package;
mod purl;
mod python;
mod text;

pub use capture::{Collector, Fact};
pub use catalog::{Contents, catalog_image, catalog_scan};
pub use golang::{BuildInfo, ElfFacts, Module};
pub use model::{CardFrontMatter, SafetensorsFacts};
pub use package::{
    Catalog, Distro, FileHash, Location, ModelCardFacts, ModelConfig, ModelFacts, Package,
    PackageKind, SourcePackage, Unknown,
};
pub use purl::{Purl, PurlError, normalize_python_name};
pub use text::printable;
