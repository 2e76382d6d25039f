//! The ids a framework file may name in `checks`: the evidence package's own checks, the image
//! checks and the Kubernetes checks.

use crate::k8s::{Control, cis, images, rbac};

/// A check that the evidence package makes from its own files, such as whether signatures
/// verified. `clearbox-evidence` decides each one; the ids and titles live here so that the
/// framework files can be validated against them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvidenceCheck {
    /// Stable id, such as `signature-verified`.
    pub id: &'static str,
    /// The requirement a pass meets.
    pub title: &'static str,
}

/// The evidence package's checks.
pub const EVIDENCE_CHECKS: [EvidenceCheck; 9] = [
    EvidenceCheck {
        id: "sbom",
        title: "An SBOM (SPDX 2.3 and CycloneDX 1.6) lists the image's packages",
    },
    EvidenceCheck {
        id: "vulnerability-scan",
        title: "The packages were matched against an advisory database",
    },
    EvidenceCheck {
        id: "no-critical-high-vulnerabilities",
        title: "No known critical, high or unrated vulnerability",
    },
    EvidenceCheck {
        id: "signature-verified",
        title: "A signature on the image verifies with the key given",
    },
    EvidenceCheck {
        id: "provenance-verified",
        title: "SLSA provenance for the image verifies with the key given",
    },
    EvidenceCheck {
        id: "model-inventory",
        title: "Every model's weight files are listed with their SHA-256",
    },
    EvidenceCheck {
        id: "model-card-datasets",
        title: "Every model has a model card in the image that names its training data sets",
    },
    EvidenceCheck {
        id: "image-identity",
        title: "The image is identified by a content digest",
    },
    EvidenceCheck {
        id: "evidence-manifest",
        title: "manifest.json records the SHA-256 of every file of the evidence package",
    },
];

/// Ids of the image checks, in the order `check_image` returns them.
pub const IMAGE_CHECKS: [&str; 11] = [
    "cis-docker-4.1",
    "cis-docker-4.2",
    "cis-docker-4.3-shell",
    "cis-docker-4.3-package-manager",
    "cis-docker-4.6",
    "cis-docker-4.8",
    "cis-docker-4.9",
    "cis-docker-4.10",
    "least-privilege-world-writable",
    "least-privilege-writable-paths",
    "traceability-source-revision",
];

/// Lists every Kubernetes check as `(id, title)`: CIS items and clearbox's pod spec checks,
/// image reference checks, RBAC checks, then Pod Security Standards controls.
pub fn k8s_checks() -> impl Iterator<Item = (&'static str, &'static str)> {
    cis::CHECKS
        .iter()
        .chain(images::CHECKS.iter())
        .chain(rbac::CHECKS.iter())
        .map(|info| (info.id, info.title))
        .chain(
            Control::ALL
                .iter()
                .map(|control| (control.id(), control.title())),
        )
}

/// True for an id a framework file may name.
#[must_use]
pub fn is_known_check(id: &str) -> bool {
    EVIDENCE_CHECKS.iter().any(|check| check.id == id)
        || IMAGE_CHECKS.contains(&id)
        || k8s_checks().any(|(known, _)| known == id)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use clearbox_oci::FileTree;
    use clearbox_oci::spec::ImageConfig;

    use super::*;
    use crate::{ImageFacts, SecretScan, check_image};

    #[test]
    fn image_check_ids_match_check_image() {
        let config = ImageConfig::default();
        let annotations = BTreeMap::new();
        let tree = FileTree::default();
        let secrets = SecretScan::default();
        let facts = ImageFacts {
            config: &config,
            annotations: &annotations,
            tree: &tree,
            layer_digests: &[],
            has_config: false,
            has_manifest: false,
            passwd: None,
            secrets: &secrets,
        };
        let ids: Vec<&str> = check_image(&facts).iter().map(|r| r.id).collect();
        assert_eq!(ids, IMAGE_CHECKS);
    }

    #[test]
    fn check_ids_are_unique() {
        let mut ids: Vec<&str> = EVIDENCE_CHECKS
            .iter()
            .map(|c| c.id)
            .chain(IMAGE_CHECKS)
            .chain(k8s_checks().map(|(id, _)| id))
            .collect();
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), count);
    }
}
