//! The package's `README.md`: what each file is, which requirements it supports, and what is
//! missing and why. The image reference, summary lines and notes can quote text from the image
//! and its signatures, so control and line-breaking characters in them are escaped.

use std::fmt::Write as _;

use clearbox_catalog::escape_unprintable;
use clearbox_policy::code;

use crate::FileRecord;

/// A requirement a file supports, with the framework's own numbering.
struct Support {
    file: &'static str,
    what: &'static str,
    supports: &'static [&'static str],
}

/// The mapping from each file to the requirements it gives evidence for. Article and function
/// names follow Regulation (EU) 2024/1689 (AI Act), NIST AI 100-1 (AI RMF 1.0), Singapore's
/// IM8 policy areas, and CIS Docker Benchmark v1.6.0.
const SUPPORT: &[Support] = &[
    Support {
        file: "image-metadata.json",
        what: "Identity of the assessed image: reference, manifest and config digests (and `index_digest`, the index the platform manifest was chosen from, when the reference named one), creation time, user, entrypoint, labels, annotations, every layer with its stored and uncompressed digests, and the files the catalogers selected but could not read. `model_governance` holds the model card recorded with `clearbox annotate` (name, version, trained date, training data version, bias scan, baseline accuracy, drift threshold, patch SLA, approvers), checked as a model card is; these annotations are unsigned unless a model attestation carries them.",
        supports: &[
            "EU AI Act Art. 11 and Annex IV: technical documentation names the exact version of the system",
            "EU AI Act Art. 10: data governance, the training data version and the bias examination (scan date and result) stated for the deployed model",
            "NIST AI RMF GOVERN 2.1 (who approved the release) and MEASURE 2.11 (bias evaluated and the result documented)",
            "NIST AI RMF MAP: the system and its components are identified",
            "IM8 audit trail: every other file is tied to one image digest",
        ],
    },
    Support {
        file: "sbom.spdx.json",
        what: "Software bill of materials in SPDX 2.3: OS packages, Python packages, Go modules and standard library, and model weights with their SHA-256 and tensor facts, each with the file and layer that prove it.",
        supports: &[
            "EU AI Act Art. 11 and Annex IV: components and their versions",
            "EU AI Act Art. 10: which model weights are deployed, and the datasets their model card names",
            "NIST AI RMF MAP 4.1 and GOVERN 6.1: third-party software and data components are mapped",
            "IM8 source transparency",
        ],
    },
    Support {
        file: "sbom.cdx.json",
        what: "The same inventory in CycloneDX 1.6, with models as `machine-learning-model` components carrying a model card built only from the files in the image.",
        supports: &[
            "EU AI Act Art. 10 and Art. 11 (as sbom.spdx.json)",
            "NIST AI RMF MAP 4.1",
            "IM8 source transparency",
        ],
    },
    Support {
        file: "vulnerabilities.json",
        what: "Every known vulnerability matched against the inventory, with severity, CVSS score where the advisory gives a vector, fixed versions, and the advisory database's state.",
        supports: &[
            "EU AI Act Art. 15: cybersecurity, known vulnerabilities identified",
            "EU AI Act Art. 9: risks identified and evaluated",
            "NIST AI RMF MEASURE 2.7: security and resilience evaluated",
            "CIS Docker 4.4: images scanned for vulnerabilities",
        ],
    },
    Support {
        file: "critical-vulnerabilities.json",
        what: "The critical and high findings only: what to fix first.",
        supports: &[
            "NIST AI RMF MANAGE: risk treatment prioritised",
            "EU AI Act Art. 9",
        ],
    },
    Support {
        file: "vulnerability-scan.sarif",
        what: "The findings in SARIF 2.1.0 for code-scanning dashboards.",
        supports: &["EU AI Act Art. 15", "NIST AI RMF MEASURE 2.7"],
    },
    Support {
        file: "signature-verification.txt",
        what: "Whether the image is signed, and whether each signature verified with the key given, or why they could not be checked; for an image read through an index, signatures made for the platform manifest digest and for the index digest, each shown with the digest it names (cosign-compatible, key-based; no transparency-log check, and the repository a signature claims is not checked).",
        supports: &[
            "EU AI Act Art. 15: protection against unauthorised alteration",
            "IM8 non-repudiation",
            "CIS Docker 4.5: content trust",
        ],
    },
    Support {
        file: "slsa-provenance.json",
        what: "SLSA build provenance whose signature verified with the key given: who says they built the image, from which source commit. Signature verified; content not checked: no policy is applied to the builder or source it names.",
        supports: &[
            "EU AI Act Art. 17: quality management, build and design control",
            "IM8 source transparency",
            "NIST AI RMF GOVERN: accountability for the system's origin",
        ],
    },
    Support {
        file: "policy-evaluation.json",
        what: "The policy file given with `--policy` (docs/policy.md) evaluated on the image: the SHA-256 of the policy file, and each rule (trusted registries, tag and digest rules, annotations, signers, attestation conditions) with its result (`passed`, `failed`, `could-not-check` or `waived` with the exception's reason), the expired exceptions, and the overall `result`. Without `--policy`, `status` is `not-run`.",
        supports: &[
            "EU AI Act Art. 17: quality management, the release criteria applied to this version",
            "NIST AI RMF MANAGE 1.3: responses to risks are documented, each exception with its reason and expiry date",
            "IM8 audit trail: which policy version admitted the image",
        ],
    },
    Support {
        file: "attestations.json",
        what: "Every attestation found beside the image, with its predicate type and whether it verified with the key: SBOM, vulnerability, SLSA and other in-toto statements. `result` is `verified`, `failed` or `not-checked`; `rejected` lists each attestation that failed a check with its reason and predicate type; `found` lists each artefact manifest with the digest it names and, for attestations, the predicate types of its layers.",
        supports: &[
            "EU AI Act Art. 11 and Annex IV: signed statements about how the system was built",
            "IM8 non-repudiation: each statement is signed",
        ],
    },
    Support {
        file: "model-attestation.json",
        what: "Signed model attestations (clearbox's `https://clearbox.dev/model/v1`, listing every weight file of the image with its layer, SHA-256, size and format, and the governance annotations; and OpenSSF Model Signing v1.0 for one model directory), verified with the key given, and every listed digest compared with the file the image's layers hold; unlisted weight files are reported. Not produced without a key, or when no attestation verified or one disagrees with the image.",
        supports: &[
            "EU AI Act Art. 10: data governance, the deployed weights are the ones whose training data and bias scan the signed governance fields describe",
            "EU AI Act Art. 15: protection against unauthorised alteration of the model",
            "NIST AI RMF MAP 4.1 and MANAGE 3.2: third-party and in-house models are tracked by digest",
            "IM8 non-repudiation: the list of model files is signed",
        ],
    },
    Support {
        file: "cis-compliance.md",
        what: "CIS Docker Benchmark section 4 checks decided from the image (user, base image, shells and package managers, HEALTHCHECK, setuid files, ADD from URLs, secrets with their values masked) and least-privilege and traceability checks, each with its result and the evidence.",
        supports: &[
            "CIS Docker Benchmark v1.6.0 section 4",
            "IM8 least privilege",
            "EU AI Act Art. 15: cybersecurity",
        ],
    },
    Support {
        file: "compliance-matrix.json",
        what: "Every control of the EU AI Act, NIST AI RMF 1.0, Singapore IM8, CIS Docker section 4 and CIS Kubernetes section 5 that clearbox maps, with its status (satisfied, not satisfied, not evidenced), the reason, the checks behind it and the files holding their evidence. A control no check can evidence is listed as not evidenced, with why.",
        supports: &[
            "EU AI Act Art. 9, 10, 11, 15 and 17, NIST AI RMF GOVERN, MAP, MEASURE and MANAGE, IM8, CIS Docker Benchmark v1.6.0 section 4, CIS Kubernetes Benchmark v1.9.0 section 5: one row per control",
        ],
    },
    Support {
        file: "compliance-matrix.md",
        what: "The same matrix as Markdown tables, one per framework, then every check with its result.",
        supports: &["As compliance-matrix.json"],
    },
    Support {
        file: "report.html",
        what: "The matrix as one self-contained page for auditors (no scripts, nothing fetched): the summary per framework, vulnerabilities by severity and the SBOM by component type as charts, the signature and provenance status, and links to the files of this package.",
        supports: &["As compliance-matrix.json"],
    },
    Support {
        file: "manifest.json",
        what: "SHA-256 and size of every other file. `clearbox evidence verify DIR` checks them and prints the manifest's own SHA-256; record that value, or sign the manifest with `clearbox evidence IMAGE --sign-key KEY` (written as `manifest.json.sig`, checked by `clearbox evidence verify DIR --key PUB`), to detect a rewritten manifest.",
        supports: &[
            "IM8 audit trail: changes to the package after it was written are detected, given a recorded manifest digest",
        ],
    },
];

/// Evidence that a complete answer needs but that this package does not hold, and why.
const NOT_IN_PACKAGE: &[(&str, &str)] = &[
    (
        "Deployment history (which version ran when)",
        "recorded by an admission controller at deployment time, not derivable from the image",
    ),
    (
        "Kubernetes workload checks (Pod Security, CIS Kubernetes)",
        "they examine deployment manifests, which are not part of the image; `clearbox report IMAGE --k8s FILE` adds their results to a compliance matrix",
    ),
];

pub(crate) fn render(
    image: &str,
    digest: Option<&str>,
    files: &[FileRecord],
    summary: &[String],
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Evidence package\n");
    let _ = writeln!(out, "Image: {}  ", code(image));
    match digest {
        Some(digest) => {
            let _ = writeln!(out, "Manifest digest: {}\n", code(digest));
        }
        None => {
            let _ = writeln!(
                out,
                "Manifest digest: none (the source stores no manifest)\n"
            );
        }
    }
    if !summary.is_empty() {
        let _ = writeln!(out, "## Summary\n");
        for line in summary {
            let _ = writeln!(out, "- {}", escape_unprintable(line));
        }
        out.push('\n');
    }

    let _ = writeln!(out, "## Files\n");
    let _ = writeln!(out, "| file | status | contents |\n|---|---|---|");
    for support in SUPPORT {
        let status = files
            .iter()
            .find(|f| f.name == support.file)
            .map_or("produced", |f| {
                if f.produced {
                    "produced"
                } else {
                    "**not produced**"
                }
            });
        let _ = writeln!(out, "| `{}` | {status} | {} |", support.file, support.what);
    }

    let _ = writeln!(out, "\n## Requirements each file supports\n");
    for support in SUPPORT {
        let _ = writeln!(out, "### `{}`\n", support.file);
        for s in support.supports {
            let _ = writeln!(out, "- {s}");
        }
        out.push('\n');
    }

    let _ = writeln!(out, "## Missing evidence and why\n");
    let missing: Vec<&FileRecord> = files.iter().filter(|f| !f.produced).collect();
    for file in &missing {
        let _ = writeln!(out, "- `{}`: {}", file.name, escape_unprintable(&file.note));
    }
    for (what, why) in NOT_IN_PACKAGE {
        let _ = writeln!(out, "- {what}: {why}.");
    }
    out
}
