//! Rust crates compiled into binaries built with `cargo auditable`, which embeds the build's
//! dependency tree in the `.dep-v0` ELF section.
//!
//! | file | what it gives |
//! |---|---|
//! | any executable ELF file with a `.dep-v0` section | every crate of the build: name, version, source, build-only or runtime, the root crate |
//!
//! Each crate becomes a `pkg:cargo/NAME@VERSION` package located at the binary; the root crate
//! carries the binary's SHA-256. Binaries built without `cargo auditable` record no crate list
//! and are not read (panic-message paths and symbol names are too unreliable to name
//! versions).

mod parse_audit_data;

use crate::capture::Fact;
use crate::catalog::{Context, Output};
use crate::package::{FileHash, Package, PackageKind};
use crate::purl::Purl;

pub(crate) use parse_audit_data::parse_audit_data;
pub use parse_audit_data::{AuditData, AuditedCrate};

pub(crate) const CATALOGER: &str = "rust-cargo-auditable-binary-cataloger";

pub(crate) fn catalog(ctx: &Context<'_>, out: &mut Output) {
    for (path, node, fact) in ctx.facts() {
        let Fact::Elf(elf) = fact else { continue };
        if let Some(problem) = &elf.rust_problem {
            out.unknowns.push(ctx.unknown(
                path,
                node,
                CATALOGER,
                format!("cargo auditable data: {problem}"),
            ));
        }
        let Some(data) = &elf.rust else { continue };
        for krate in &data.crates {
            let purl = Purl::new("cargo", None, &krate.name, Some(&krate.version));
            let mut package = Package::new(
                &krate.name,
                &krate.version,
                PackageKind::RustCrate,
                purl,
                CATALOGER,
                ctx.location(path, node),
            );
            package
                .properties
                .insert("rust:source".to_owned(), krate.source.clone());
            if krate.build_only {
                package
                    .properties
                    .insert("rust:dependency-kind".to_owned(), "build".to_owned());
            }
            if krate.root {
                package
                    .properties
                    .insert("rust:root-crate".to_owned(), "true".to_owned());
                package.hashes.push(FileHash {
                    algorithm: "SHA256",
                    value: elf.sha256.clone(),
                });
            }
            out.packages.push(package);
        }
    }
}
