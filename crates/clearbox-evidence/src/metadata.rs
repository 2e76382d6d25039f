//! `image-metadata.json`: what the image is, as its manifest, config and layers state it.

use clearbox_catalog::{Distro, Unknown};
use clearbox_oci::{Image, LayerSummary};
use serde::Serialize;
use serde_json::Value;

/// Environment variable names whose values are masked: they commonly hold credentials.
const SECRET_MARKERS: [&str; 6] = ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "CREDENTIAL", "KEY"];

#[derive(Serialize)]
struct LayerRecord<'a> {
    index: usize,
    media_type: Option<&'a str>,
    digest: String,
    size: u64,
    diff_id: String,
    uncompressed_size: u64,
    compression: &'static str,
    entries: usize,
    created_by: Option<&'a str>,
}

/// Builds the metadata document.
pub(crate) fn image_metadata(
    image: &Image,
    layers: &[LayerSummary],
    distro: Option<&Distro>,
    unknowns: &[Unknown],
) -> Value {
    let config = &image.config.config;
    let history: Vec<_> = image
        .config
        .history
        .iter()
        .filter(|h| !h.empty_layer)
        .collect();
    let layer_records: Vec<LayerRecord<'_>> = layers
        .iter()
        .map(|l| LayerRecord {
            index: l.index,
            media_type: image
                .layers
                .get(l.index)
                .and_then(|i| i.media_type.as_deref()),
            digest: l.digest.to_string(),
            size: l.size,
            diff_id: l.diff_id.to_string(),
            uncompressed_size: l.uncompressed_size,
            compression: l.compression.name(),
            entries: l.entries,
            created_by: history.get(l.index).and_then(|h| h.created_by.as_deref()),
        })
        .collect();
    let annotations = image
        .manifest
        .as_ref()
        .map(|m| m.annotations.clone())
        .unwrap_or_default();
    serde_json::json!({
        "reference": image.reference.to_string(),
        "tags": image.tags,
        "manifest_digest": image.manifest_digest.as_ref().map(ToString::to_string),
        "index_digest": crate::attestations::index_digest(image),
        "manifest_digest_note": image.manifest_digest.is_none().then_some(
            "this source stores no image manifest (docker save archive or root filesystem); \
             the config digest identifies the image"),
        "config_digest": image.config_digest.as_ref().map(ToString::to_string),
        "created": image.config.created,
        "architecture": image.config.architecture,
        "os": image.config.os,
        "user": config.user,
        "entrypoint": config.entrypoint,
        "cmd": config.cmd,
        "working_dir": config.working_dir,
        "env": config.env.as_ref().map(|env| mask_env(env)),
        "exposed_ports": config.exposed_ports.as_ref().map(|p| p.keys().cloned().collect::<Vec<_>>()),
        "healthcheck": config.healthcheck,
        "labels": config.labels.clone().unwrap_or_default(),
        "annotations": annotations,
        "model_governance": crate::model::governance(image),
        "distro": distro,
        "layers": layer_records,
        "unreadable_files": unknowns,
    })
}

fn mask_env(env: &[String]) -> Vec<String> {
    env.iter()
        .map(|entry| match entry.split_once('=') {
            Some((key, _))
                if SECRET_MARKERS
                    .iter()
                    .any(|m| key.to_ascii_uppercase().contains(m)) =>
            {
                format!("{key}=<masked>")
            }
            _ => entry.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_env_are_masked() {
        let env = vec![
            "PATH=/usr/bin".to_owned(),
            "API_TOKEN=abc".to_owned(),
            "AWS_SECRET_ACCESS_KEY=x".to_owned(),
        ];
        assert_eq!(
            mask_env(&env),
            [
                "PATH=/usr/bin",
                "API_TOKEN=<masked>",
                "AWS_SECRET_ACCESS_KEY=<masked>"
            ]
        );
    }
}
