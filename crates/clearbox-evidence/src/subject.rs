//! What an SBOM or report describes, and the time it is dated with.

use clearbox_oci::{Image, ImageReference};
use clearbox_sbom::Subject;

/// Describes an image for SBOM and report headers. The time is the image's creation time, so
/// the same image always gives the same document.
#[must_use]
pub fn sbom_subject(image: &Image, tool_version: &str) -> Subject {
    let labels = image.config.config.labels.clone().unwrap_or_default();
    let name = labels
        .get("org.opencontainers.image.title")
        .cloned()
        .or_else(|| {
            image
                .tags
                .first()
                .map(|t| t.rsplit('/').next().unwrap_or(t).to_owned())
        })
        .unwrap_or_else(|| match &image.reference {
            ImageReference::OciLayout { path, .. }
            | ImageReference::OciArchive { path, .. }
            | ImageReference::DockerArchive { path, .. }
            | ImageReference::RootFs { path } => path
                .file_name()
                .map_or_else(|| "image".to_owned(), |n| n.to_string_lossy().into_owned()),
            ImageReference::Registry(r) => r.repository.clone(),
        });
    Subject {
        reference: image.reference.to_string(),
        name,
        manifest_digest: image.manifest_digest.as_ref().map(ToString::to_string),
        config_digest: image.config_digest.as_ref().map(ToString::to_string),
        created: document_time(image.config.created.as_deref()),
        tool_version: tool_version.to_owned(),
    }
}

/// A document timestamp in RFC 3339 UTC with whole seconds: `created` when given and valid,
/// else `SOURCE_DATE_EPOCH`, else the current time.
#[must_use]
pub fn document_time(created: Option<&str>) -> String {
    const FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";
    if let Some(t) = created.and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok()) {
        return t.with_timezone(&chrono::Utc).format(FORMAT).to_string();
    }
    if let Some(t) = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
    {
        return t.format(FORMAT).to_string();
    }
    chrono::Utc::now().format(FORMAT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_is_normalised_to_utc_seconds() {
        assert_eq!(
            document_time(Some("2025-01-01T02:00:00.123+02:00")),
            "2025-01-01T00:00:00Z"
        );
    }
}
