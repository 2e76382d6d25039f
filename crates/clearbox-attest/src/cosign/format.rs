//! The documents cosign stores beside an image, written byte for byte as cosign 2.5 writes them:
//! the artifact manifest, its config blob, and the names (tags, layout annotations, artifact
//! types) under which they are stored.
//!
//! Field order follows go-containerregistry's structs, which cosign marshals: a descriptor is
//! `mediaType`, `size`, `digest`, `annotations`; annotation keys are sorted, as Go sorts map keys.
//! With the same layers, [`ArtifactManifest::legacy`] therefore produces the same manifest and
//! config digests as cosign.

use std::collections::BTreeMap;

use clearbox_oci::Digest;
use serde::{Deserialize, Serialize};

/// Media type of a simple signing payload layer.
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Media type of a DSSE envelope layer (an attestation).
pub const DSSE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
/// Layer annotation holding the base64 DER signature over a simple signing payload. Empty on
/// DSSE layers, whose signatures are inside the envelope.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// Layer annotation naming the predicate type of the statement in a DSSE layer.
pub const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";
/// Config media type of a tag-stored (legacy) artifact manifest.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
/// Media type of every artifact manifest cosign writes.
pub const MANIFEST_MEDIA_TYPE: &str = clearbox_oci::spec::MEDIA_TYPE_OCI_MANIFEST;

/// The index.json annotation by which `cosign save` marks the entries of its layout.
pub const LAYOUT_KIND_ANNOTATION: &str = "kind";
/// `kind` of the saved image when it is an image manifest.
pub const LAYOUT_KIND_IMAGE: &str = "dev.cosignproject.cosign/image";
/// `kind` of the saved image when it is an image index.
pub const LAYOUT_KIND_IMAGE_INDEX: &str = "dev.cosignproject.cosign/imageIndex";
/// `kind` of the signature manifest.
pub const LAYOUT_KIND_SIGNATURES: &str = "dev.cosignproject.cosign/sigs";
/// `kind` of the attestation manifest.
pub const LAYOUT_KIND_ATTESTATIONS: &str = "dev.cosignproject.cosign/atts";

/// Maximum number of layers in an artifact manifest read or written: 1000. Each layer is one
/// signature or attestation, and verifying one may read a blob of up to
/// [`MAX_PAYLOAD_BYTES`](super::MAX_PAYLOAD_BYTES), so the limit bounds the work a manifest can
/// cause. cosign appends one layer per signing, so a real manifest stays far below it.
pub const MAX_ARTIFACT_LAYERS: usize = 1000;

/// An artifact manifest that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// The manifest is not JSON of the manifest shape.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// The manifest lists more layers than [`MAX_ARTIFACT_LAYERS`].
    #[error("the manifest lists {count} layers, more than the limit of {limit}")]
    TooManyLayers {
        /// The number of layers listed.
        count: usize,
        /// The limit.
        limit: usize,
    },
}

/// cosign's fixed creation time for artifact configs: Go's zero time.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// The kind of artifact a manifest contains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArtifactKind {
    /// Simple signing payloads with their signatures.
    Signatures,
    /// DSSE envelopes holding in-toto statements.
    Attestations,
    /// An SBOM document stored as it is (cosign's deprecated `attach sbom`).
    Sbom,
}

impl ArtifactKind {
    /// The suffix of cosign's tag: `sig`, `att` or `sbom`.
    #[must_use]
    pub fn suffix(self) -> &'static str {
        match self {
            ArtifactKind::Signatures => "sig",
            ArtifactKind::Attestations => "att",
            ArtifactKind::Sbom => "sbom",
        }
    }

    /// cosign's tag for this kind of artifact about `subject`: `sha256-<hex>.sig`, `.att` or
    /// `.sbom`.
    #[must_use]
    pub fn legacy_tag(self, subject: &Digest) -> String {
        format!(
            "{}-{}.{}",
            subject.algorithm(),
            subject.hex(),
            self.suffix()
        )
    }

    /// The OCI 1.1 artifact type cosign gives this kind:
    /// `application/vnd.dev.cosign.artifact.<suffix>.v1+json`.
    #[must_use]
    pub fn artifact_type(self) -> &'static str {
        match self {
            ArtifactKind::Signatures => "application/vnd.dev.cosign.artifact.sig.v1+json",
            ArtifactKind::Attestations => "application/vnd.dev.cosign.artifact.att.v1+json",
            ArtifactKind::Sbom => "application/vnd.dev.cosign.artifact.sbom.v1+json",
        }
    }

    /// The `kind` annotation `cosign save` gives this manifest in a layout; `None` for SBOMs,
    /// which `cosign save` does not save.
    #[must_use]
    pub fn layout_kind(self) -> Option<&'static str> {
        match self {
            ArtifactKind::Signatures => Some(LAYOUT_KIND_SIGNATURES),
            ArtifactKind::Attestations => Some(LAYOUT_KIND_ATTESTATIONS),
            ArtifactKind::Sbom => None,
        }
    }

    /// The kind whose legacy tag `tag` is for `subject`, if any.
    #[must_use]
    pub fn of_legacy_tag(tag: &str, subject: &Digest) -> Option<Self> {
        ArtifactKind::ALL
            .into_iter()
            .find(|kind| kind.legacy_tag(subject) == tag)
    }

    /// The kind whose artifact type is `artifact_type`, if any.
    #[must_use]
    pub fn of_artifact_type(artifact_type: &str) -> Option<Self> {
        ArtifactKind::ALL
            .into_iter()
            .find(|kind| kind.artifact_type() == artifact_type)
    }

    /// Every kind, in the order cosign's tags are listed.
    pub const ALL: [ArtifactKind; 3] = [
        ArtifactKind::Signatures,
        ArtifactKind::Attestations,
        ArtifactKind::Sbom,
    ];
}

/// A descriptor in an artifact manifest, in go-containerregistry's field order. Unknown fields
/// (`urls`, `data`, `platform`) are dropped on reading, as cosign drops them when it rewrites a
/// manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactDescriptor {
    /// The blob's media type.
    pub media_type: String,
    /// The blob's size in bytes.
    pub size: u64,
    /// The blob's digest.
    pub digest: Digest,
    /// Annotations, sorted by key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl ArtifactDescriptor {
    /// Describes `bytes` as a blob of `media_type`.
    #[must_use]
    pub fn of(media_type: &str, bytes: &[u8]) -> Self {
        ArtifactDescriptor {
            media_type: media_type.to_owned(),
            size: bytes.len() as u64,
            digest: Digest::of(bytes),
            annotations: BTreeMap::new(),
        }
    }
}

/// An OCI image manifest used as a cosign artifact: the signatures, attestations or SBOM of one
/// image, one per layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactManifest {
    /// Always 2.
    pub schema_version: u32,
    /// `application/vnd.oci.image.manifest.v1+json` in what cosign writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The artifact type of an OCI 1.1 referrer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The config blob.
    pub config: ArtifactDescriptor,
    /// The artifacts, oldest first.
    #[serde(default)]
    pub layers: Vec<ArtifactDescriptor>,
    /// The image this manifest is about, on OCI 1.1 referrers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<ArtifactDescriptor>,
    /// Annotations on the manifest.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl ArtifactManifest {
    /// Parses a manifest read from a registry or layout, of at most [`MAX_ARTIFACT_LAYERS`]
    /// layers.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ManifestError> {
        let manifest: ArtifactManifest = serde_json::from_slice(bytes)?;
        if manifest.layers.len() > MAX_ARTIFACT_LAYERS {
            return Err(ManifestError::TooManyLayers {
                count: manifest.layers.len(),
                limit: MAX_ARTIFACT_LAYERS,
            });
        }
        Ok(manifest)
    }

    /// The manifest cosign stores under a `sha256-<hex>.sig|att|sbom` tag, with its config blob:
    /// the config names each layer as a `diff_id`, and the manifest has no subject.
    #[must_use]
    pub fn legacy(layers: Vec<ArtifactDescriptor>) -> (Self, Vec<u8>) {
        let config = config_blob(&layers);
        let manifest = ArtifactManifest {
            schema_version: 2,
            media_type: Some(MANIFEST_MEDIA_TYPE.to_owned()),
            artifact_type: None,
            config: ArtifactDescriptor::of(CONFIG_MEDIA_TYPE, &config),
            layers,
            subject: None,
            annotations: BTreeMap::new(),
        };
        (manifest, config)
    }

    /// An OCI 1.1 referrer of `subject` holding one artifact, with its config blob. The config
    /// is cosign's config blob with the artifact type as its media type, as cosign 2.5's
    /// `--registry-referrers-mode oci-1-1` writes it; unlike cosign, the manifest also states
    /// `artifactType`, so that tools that do not derive the type from the config find it.
    #[must_use]
    pub fn referrer(
        kind: ArtifactKind,
        layer: ArtifactDescriptor,
        subject: ArtifactDescriptor,
    ) -> (Self, Vec<u8>) {
        let layers = vec![layer];
        let config = config_blob(&layers);
        let manifest = ArtifactManifest {
            schema_version: 2,
            media_type: Some(MANIFEST_MEDIA_TYPE.to_owned()),
            artifact_type: Some(kind.artifact_type().to_owned()),
            config: ArtifactDescriptor::of(kind.artifact_type(), &config),
            layers,
            subject: Some(subject),
            annotations: BTreeMap::new(),
        };
        (manifest, config)
    }

    /// The compact JSON encoding.
    #[must_use]
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising strings, numbers and maps into memory cannot fail.
        serde_json::to_vec(self)
            .unwrap_or_else(|error| unreachable!("manifest serialisation failed: {error}"))
    }

    /// The artifact type: the `artifactType` field, else the config media type, as the OCI image
    /// specification 1.1 defines it for referrers.
    #[must_use]
    pub fn effective_artifact_type(&self) -> &str {
        self.artifact_type
            .as_deref()
            .unwrap_or(&self.config.media_type)
    }
}

/// cosign's config blob for an artifact manifest with these layers.
fn config_blob(layers: &[ArtifactDescriptor]) -> Vec<u8> {
    #[derive(Serialize)]
    #[allow(
        clippy::struct_field_names,
        reason = "the field names are those of the OCI image config"
    )]
    struct Config<'a> {
        architecture: &'a str,
        created: &'a str,
        history: Vec<History<'a>>,
        os: &'a str,
        rootfs: RootFs<'a>,
        config: BTreeMap<String, String>,
    }
    #[derive(Serialize)]
    struct History<'a> {
        created: &'a str,
    }
    #[derive(Serialize)]
    struct RootFs<'a> {
        #[serde(rename = "type")]
        kind: &'a str,
        diff_ids: Vec<&'a Digest>,
    }

    let config = Config {
        architecture: "",
        created: ZERO_TIME,
        history: layers
            .iter()
            .map(|_| History { created: ZERO_TIME })
            .collect(),
        os: "",
        rootfs: RootFs {
            kind: "layers",
            diff_ids: layers.iter().map(|layer| &layer.digest).collect(),
        },
        config: BTreeMap::new(),
    };
    // Serialising strings into memory cannot fail.
    serde_json::to_vec(&config)
        .unwrap_or_else(|error| unreachable!("config serialisation failed: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    // What cosign 2.5 pushed for `cosign sign --key` of 127.0.0.1:5055/demo/app@sha256:0381…:
    // the payload, the config blob and the manifest, byte for byte.
    const PAYLOAD: &str = r#"{"critical":{"identity":{"docker-reference":"127.0.0.1:5055/demo/app"},"image":{"docker-manifest-digest":"sha256:03811e2115d58e4b4b66963e140963d7aa6d3339f921ebbdcc4905280ad1ad2a"},"type":"cosign container image signature"},"optional":null}"#;
    const SIGNATURE: &str = "MEUCIGrk0l4tknlLux22rv58Q6vrouMK2xVkcaBeKP/iQy/8AiEAiFIM6ySxD9SbECa5iuIiCVtlXZtMCVYxRhaEhT3jGSQ=";
    const CONFIG: &str = r#"{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["sha256:48610e4ff8891d9e7d503e42c5df21fef584fbe159868392dfed5c25f2338083"]},"config":{}}"#;
    const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":233,"digest":"sha256:91b52f4888c7351791e42c16edc8852f6330d8c33884d2ca5d70df132895c939"},"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":239,"digest":"sha256:48610e4ff8891d9e7d503e42c5df21fef584fbe159868392dfed5c25f2338083","annotations":{"dev.cosignproject.cosign/signature":"MEUCIGrk0l4tknlLux22rv58Q6vrouMK2xVkcaBeKP/iQy/8AiEAiFIM6ySxD9SbECa5iuIiCVtlXZtMCVYxRhaEhT3jGSQ="}}]}"#;

    fn signature_layer() -> ArtifactDescriptor {
        let mut layer = ArtifactDescriptor::of(SIMPLE_SIGNING_MEDIA_TYPE, PAYLOAD.as_bytes());
        layer
            .annotations
            .insert(SIGNATURE_ANNOTATION.to_owned(), SIGNATURE.to_owned());
        layer
    }

    #[test]
    fn legacy_manifest_matches_cosign_bytes() {
        let (manifest, config) = ArtifactManifest::legacy(vec![signature_layer()]);
        assert_eq!(String::from_utf8(config).unwrap(), CONFIG);
        assert_eq!(String::from_utf8(manifest.to_json()).unwrap(), MANIFEST);
    }

    #[test]
    fn cosign_manifest_round_trips() {
        let parsed = ArtifactManifest::from_json(MANIFEST.as_bytes()).unwrap();
        assert_eq!(parsed.to_json(), MANIFEST.as_bytes());
        assert_eq!(
            parsed.effective_artifact_type(),
            "application/vnd.oci.image.config.v1+json"
        );
    }

    #[test]
    fn referrer_manifest_states_artifact_type_and_subject() {
        let subject = ArtifactDescriptor::of(MANIFEST_MEDIA_TYPE, b"{}");
        let (manifest, config) =
            ArtifactManifest::referrer(ArtifactKind::Signatures, signature_layer(), subject);
        assert_eq!(String::from_utf8(config).unwrap(), CONFIG);
        let text = String::from_utf8(manifest.to_json()).unwrap();
        assert!(
            text.starts_with(
                r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.dev.cosign.artifact.sig.v1+json","config":{"mediaType":"application/vnd.dev.cosign.artifact.sig.v1+json","size":233,"#
            ),
            "{text}"
        );
        assert!(
            text.ends_with(r#""subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}}"#),
            "{text}"
        );
    }

    #[test]
    fn two_layer_config_lists_both() {
        let second = ArtifactDescriptor::of(SIMPLE_SIGNING_MEDIA_TYPE, b"x");
        let (_, config) = ArtifactManifest::legacy(vec![signature_layer(), second]);
        let text = String::from_utf8(config).unwrap();
        assert!(
            text.contains(r#""history":[{"created":"0001-01-01T00:00:00Z"},{"created":"0001-01-01T00:00:00Z"}]"#),
            "{text}"
        );
        assert!(text.contains("2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"));
    }

    #[test]
    fn tags_and_artifact_types() {
        let digest: Digest =
            "sha256:03811e2115d58e4b4b66963e140963d7aa6d3339f921ebbdcc4905280ad1ad2a"
                .parse()
                .unwrap();
        let tag = ArtifactKind::Attestations.legacy_tag(&digest);
        assert_eq!(
            tag,
            "sha256-03811e2115d58e4b4b66963e140963d7aa6d3339f921ebbdcc4905280ad1ad2a.att"
        );
        assert_eq!(
            ArtifactKind::of_legacy_tag(&tag, &digest),
            Some(ArtifactKind::Attestations)
        );
        assert_eq!(
            ArtifactKind::of_artifact_type("application/vnd.dev.cosign.artifact.sbom.v1+json"),
            Some(ArtifactKind::Sbom)
        );
    }
}
