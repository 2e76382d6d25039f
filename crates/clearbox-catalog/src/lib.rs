//! Finds what is inside an image: OS packages, language packages, Go binaries and model
//! weights, each with the file and layer that prove it.
//!
//! One module per ecosystem declares its cataloger; each parser reads one file format. See
//! `docs/catalogers.md` for the table of what every cataloger reads and which fields it takes.

#![forbid(unsafe_code)]

mod package;
mod purl;

pub use package::{
    Catalog, Distro, FileHash, Location, ModelCardFacts, ModelConfig, ModelFacts, Package,
    PackageKind, SourcePackage, Unknown,
};
pub use purl::{Purl, PurlError, normalize_python_name};
