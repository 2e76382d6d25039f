//! Container images as clearbox reads them: references in skopeo's transport syntax, OCI image
//! layouts and archives, `docker save` archives and unpacked root filesystems, merged into one
//! filesystem view with whiteouts applied.
//!
//! # Supported
//! - Transports `oci:`, `oci-archive:`, `docker-archive:`, `dir:` and `docker://` (see
//!   [`ImageReference`]); registries through [`registry::RegistryClient`], configured by
//!   [`ReadOptions::registry`].
//! - Layers as plain tar, gzip or zstd, told apart by their first bytes.
//! - OCI and Docker v2 schema 2 manifests, nested indexes with platform selection.
//! - Every blob checked: manifests and configs against their descriptors before parsing,
//!   layers against the stored digest and the config's `diff_id` while streaming.
//! - Annotations added to an OCI image manifest in a layout or a registry, which moves the
//!   reference to the new digest ([`annotate_manifest`]).
//!
//! # Not yet
//! - Registry credential helpers and identity tokens; see [`registry`].
//!
//! # Never
//! - Extracting layers to disk. Layers stream through memory once; callers see file contents
//!   only through a [`ContentInspector`], so a hostile entry name cannot write anywhere.
//! - Following symlinks out of the image root.

#![forbid(unsafe_code)]

mod annotate;
pub mod build;
mod digest;
mod error;
mod file;
mod fs;
mod image;
mod layer;
mod layout;
mod options;
mod reference;
pub mod registry;
mod rootfs;
mod scan;
pub mod spec;
mod store;
mod tar;

pub use annotate::{AnnotateError, AnnotateOutcome, annotate_manifest};
pub use digest::{Digest, HashingReader};
pub use error::{LayerProblem, OciError};
pub use file::{FileProblem, open_regular_file, read_regular_file};
pub use fs::{ContentId, FileTree, Node, normalize_entry_name};
pub use image::{Image, LayerInfo};
pub use layer::{Compression, ContentInspector, EntryInfo};
pub use layout::{COSIGN_KIND_ANNOTATION, LayoutChoiceError, choose_layout_image};
pub use options::{NoProgress, Progress, ReadOptions};
pub use reference::{ArchiveSelector, ImageReference, RegistryReference};
pub use scan::{LayerSummary, Scan, Unreadable};
pub use tar::EntryKind;
