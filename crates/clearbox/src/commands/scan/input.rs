//! The scan target: an SBOM file, read with a size limit and with the package URL of what it
//! describes, or an image.

use std::path::Path;

use anyhow::Context;
use clearbox_catalog::{Catalog, Purl, catalog_image, escape_unprintable};
use clearbox_oci::Image;
use clearbox_vuln::report::{ScanSource, ScanSourceKind};
use serde_json::Value;

use crate::cli::ScanArgs;
use crate::commands::{parse_reference, read_options, with_image};
use crate::progress::LayerBars;

/// Maximum size of an SBOM file: 256 MiB. The SBOM is parsed whole in memory, and the CycloneDX
/// SBOM of the example image (50 components) has 101 KiB.
pub(super) const MAX_SBOM_BYTES: u64 = 256 * 1024 * 1024;

/// Maximum number of SBOM entries that could not become packages listed one by one.
const MAX_LISTED_UNKNOWNS: usize = 20;

/// The catalog and description of a scan target.
pub(super) struct Target {
    pub(super) source: ScanSource,
    pub(super) catalog: Catalog,
    /// The image's creation time, when the target is an image that has one.
    pub(super) created: Option<String>,
    /// The package URL of what an SBOM describes, when the SBOM names one.
    pub(super) subject: Option<String>,
    /// For an image: its CycloneDX SBOM, kept in the audit store for rescans.
    pub(super) sbom: Option<Vec<u8>>,
}

/// Reads the target as an SBOM file when a file of that name exists, else as an image
/// reference.
pub(super) fn load_target(args: &ScanArgs, quiet: bool) -> anyhow::Result<Target> {
    let path = Path::new(&args.target);
    // A FIFO or a device is read as a file too, so that the read reports it instead of the
    // name being taken for an image reference.
    if std::fs::metadata(path).is_ok_and(|m| !m.is_dir()) {
        return load_sbom(path, &args.target);
    }
    let reference = parse_reference(&args.target)?;
    let options = read_options(&args.read)?;
    let image = with_image(Image::open(&reference, &options), &args.target)?;
    let progress = LayerBars::for_stderr(quiet);
    let contents = with_image(
        catalog_image(&image, &options, progress.as_ref()),
        &args.target,
    )?;
    let source = ScanSource {
        kind: ScanSourceKind::Image,
        name: reference.to_string(),
        digest: image
            .manifest_digest
            .as_ref()
            .or(image.config_digest.as_ref())
            .map(ToString::to_string),
    };
    let subject = clearbox_evidence::sbom_subject(&image, env!("CARGO_PKG_VERSION"));
    let sbom = clearbox_sbom::to_cyclonedx_json(&subject, &contents.catalog);
    Ok(Target {
        source,
        catalog: contents.catalog,
        created: image.config.created.clone(),
        subject: None,
        sbom: Some(sbom),
    })
}

fn load_sbom(path: &Path, name: &str) -> anyhow::Result<Target> {
    let bytes = clearbox_oci::read_regular_file(path, MAX_SBOM_BYTES)
        .with_context(|| format!("cannot read SBOM `{}`", path.display()))?;
    let (format, catalog) = clearbox_sbom::read_sbom(&bytes)
        .with_context(|| format!("`{}` is not a readable SBOM", path.display()))?;
    tracing::info!(sbom = %path.display(), format = %format, packages = catalog.packages.len(), "read SBOM");
    // Entries that could not become packages are not scanned, so list them.
    for unknown in catalog.unknowns.iter().take(MAX_LISTED_UNKNOWNS) {
        tracing::warn!(
            entry = %escape_unprintable(&unknown.path),
            "not scanned: {}",
            escape_unprintable(&unknown.reason)
        );
    }
    if catalog.unknowns.len() > MAX_LISTED_UNKNOWNS {
        tracing::warn!(
            "{} more SBOM entries not scanned",
            catalog.unknowns.len() - MAX_LISTED_UNKNOWNS
        );
    }
    // NOTE: the SBOM readers return no subject, so the document is parsed a second time for
    // it. The size limit bounds the cost.
    let subject = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|document| sbom_subject(&document));
    let source = ScanSource {
        kind: ScanSourceKind::Sbom,
        name: name.to_owned(),
        digest: Some(clearbox_oci::Digest::of(&bytes).to_string()),
    };
    Ok(Target {
        source,
        catalog,
        created: None,
        sbom: None,
        subject,
    })
}

/// Returns the package URL of what an SBOM describes: CycloneDX `metadata.component`, or the
/// one package that the SPDX document `DESCRIBES`. Its `purl` when it has a valid one, else
/// `pkg:oci/NAME@DIGEST` for a container whose version is an image digest.
fn sbom_subject(document: &Value) -> Option<String> {
    let (name, purl, version, is_container) =
        if let Some(component) = document.pointer("/metadata/component") {
            (
                component.get("name")?.as_str()?,
                component.get("purl").and_then(Value::as_str),
                component.get("version").and_then(Value::as_str),
                component.get("type").and_then(Value::as_str) == Some("container"),
            )
        } else {
            let package = spdx_described_package(document)?;
            let purl = package
                .get("externalRefs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|r| r.get("referenceType").and_then(Value::as_str) == Some("purl"))
                .and_then(|r| r.get("referenceLocator"))
                .and_then(Value::as_str);
            (
                package.get("name")?.as_str()?,
                purl,
                package.get("versionInfo").and_then(Value::as_str),
                package.get("primaryPackagePurpose").and_then(Value::as_str) == Some("CONTAINER"),
            )
        };
    if let Some(purl) = purl.filter(|p| p.parse::<Purl>().is_ok()) {
        return Some(purl.to_owned());
    }
    let digest = version.filter(|v| is_container && v.starts_with("sha256:"))?;
    let name = name.rsplit('/').next()?.split([':', '@']).next()?;
    let purl = Purl::new("oci", None, &name.to_ascii_lowercase(), Some(digest));
    Some(purl.to_string())
}

/// The package that an SPDX document describes, when it describes exactly one.
fn spdx_described_package(document: &Value) -> Option<&Value> {
    let mut described: Vec<&str> = document
        .get("documentDescribes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let relationships = document.get("relationships").and_then(Value::as_array);
    for relationship in relationships.into_iter().flatten() {
        let field = |key: &str| relationship.get(key).and_then(Value::as_str);
        if field("spdxElementId") == Some("SPDXRef-DOCUMENT")
            && field("relationshipType") == Some("DESCRIBES")
            && let Some(id) = field("relatedSpdxElement")
        {
            described.push(id);
        }
    }
    described.sort_unstable();
    described.dedup();
    let [id] = described.as_slice() else {
        return None;
    };
    document
        .get("packages")?
        .as_array()?
        .iter()
        .find(|p| p.get("SPDXID").and_then(Value::as_str) == Some(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cyclonedx_subject_is_its_purl() {
        let document = serde_json::json!({"metadata": {"component": {
            "type": "container", "name": "app", "purl": "pkg:oci/app@sha256%3Aab"}}});
        assert_eq!(
            sbom_subject(&document).as_deref(),
            Some("pkg:oci/app@sha256%3Aab")
        );
    }

    #[test]
    fn container_digest_makes_an_oci_purl() {
        let document = serde_json::json!({"metadata": {"component": {
            "type": "container", "name": "registry.example/team/App:1.0",
            "version": "sha256:ab"}}});
        assert_eq!(
            sbom_subject(&document).as_deref(),
            Some("pkg:oci/app@sha256:ab")
        );
        let application = serde_json::json!({"metadata": {"component": {
            "type": "application", "name": "app", "version": "sha256:ab"}}});
        assert_eq!(sbom_subject(&application), None);
    }

    #[test]
    fn spdx_subject_is_the_described_package() {
        let document = serde_json::json!({
            "packages": [
                {"SPDXID": "SPDXRef-a", "name": "a", "externalRefs": [
                    {"referenceType": "purl", "referenceLocator": "pkg:pypi/a@1"}]},
                {"SPDXID": "SPDXRef-img", "name": "img", "versionInfo": "sha256:cd",
                 "primaryPackagePurpose": "CONTAINER"}],
            "relationships": [{"spdxElementId": "SPDXRef-DOCUMENT",
                               "relationshipType": "DESCRIBES",
                               "relatedSpdxElement": "SPDXRef-img"}]});
        assert_eq!(
            sbom_subject(&document).as_deref(),
            Some("pkg:oci/img@sha256:cd")
        );
        let two = serde_json::json!({
            "documentDescribes": ["SPDXRef-a", "SPDXRef-img"],
            "packages": document["packages"]});
        assert_eq!(sbom_subject(&two), None);
    }
}
