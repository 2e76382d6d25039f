//! Justification labels of `not_affected` statements in the two VEX formats, their words for
//! people, and the mapping between the formats.
//!
//! OpenVEX 0.2.0 labels: <https://github.com/openvex/spec/blob/main/OPENVEX-SPEC.md#status-justifications>.
//! CycloneDX 1.4 to 1.6 `analysis.justification`:
//! <https://cyclonedx.org/docs/1.6/json/#vulnerabilities_items_analysis_justification>.
//!
//! Where a label has no counterpart in the other format (CycloneDX `requires_configuration`,
//! OpenVEX `vulnerable_code_cannot_be_controlled_by_adversary`), the mapping returns `None` and
//! a writer states the reason in words instead.

use super::VexFormat;

/// OpenVEX justification labels.
pub(crate) const OPENVEX: [&str; 5] = [
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
];

/// CycloneDX justification values.
pub(crate) const CYCLONEDX: [&str; 9] = [
    "code_not_present",
    "code_not_reachable",
    "requires_configuration",
    "requires_dependency",
    "requires_environment",
    "protected_by_compiler",
    "protected_at_runtime",
    "protected_at_perimeter",
    "protected_by_mitigating_control",
];

/// `(OpenVEX label, CycloneDX value)` pairs that state the same reason.
const OPENVEX_TO_CYCLONEDX: [(&str, &str); 4] = [
    ("component_not_present", "code_not_present"),
    ("vulnerable_code_not_present", "code_not_present"),
    ("vulnerable_code_not_in_execute_path", "code_not_reachable"),
    (
        "inline_mitigations_already_exist",
        "protected_by_mitigating_control",
    ),
];

/// `(CycloneDX value, OpenVEX label)` pairs that state the same reason.
const CYCLONEDX_TO_OPENVEX: [(&str, &str); 4] = [
    ("code_not_present", "vulnerable_code_not_present"),
    ("code_not_reachable", "vulnerable_code_not_in_execute_path"),
    ("protected_by_compiler", "inline_mitigations_already_exist"),
    ("protected_at_runtime", "inline_mitigations_already_exist"),
];

/// Writes a label in words: `vulnerable_code_not_present` → `vulnerable code not present`.
pub(crate) fn words(label: &str) -> String {
    label.replace('_', " ")
}

/// Returns the OpenVEX label for a label of `format`, when one states the same reason.
pub(crate) fn to_openvex(format: VexFormat, label: &str) -> Option<&'static str> {
    match format {
        VexFormat::OpenVex => OPENVEX.iter().copied().find(|l| *l == label),
        VexFormat::CycloneDx => find(&CYCLONEDX_TO_OPENVEX, label),
    }
}

/// Returns the CycloneDX value for a label of `format`, when one states the same reason.
pub(crate) fn to_cyclonedx(format: VexFormat, label: &str) -> Option<&'static str> {
    match format {
        VexFormat::OpenVex => find(&OPENVEX_TO_CYCLONEDX, label),
        VexFormat::CycloneDx => CYCLONEDX.iter().copied().find(|l| *l == label),
    }
}

fn find(pairs: &[(&str, &'static str)], label: &str) -> Option<&'static str> {
    pairs
        .iter()
        .find(|(from, _)| *from == label)
        .map(|(_, to)| *to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_labels_exist_in_target_format() {
        for (openvex, cyclonedx) in OPENVEX_TO_CYCLONEDX {
            assert!(OPENVEX.contains(&openvex), "{openvex}");
            assert!(CYCLONEDX.contains(&cyclonedx), "{cyclonedx}");
        }
        for (cyclonedx, openvex) in CYCLONEDX_TO_OPENVEX {
            assert!(CYCLONEDX.contains(&cyclonedx), "{cyclonedx}");
            assert!(OPENVEX.contains(&openvex), "{openvex}");
        }
    }

    #[test]
    fn mapping_table() {
        let cases = [
            (
                VexFormat::OpenVex,
                "vulnerable_code_not_present",
                Some("vulnerable_code_not_present"),
                Some("code_not_present"),
            ),
            (
                VexFormat::OpenVex,
                "vulnerable_code_cannot_be_controlled_by_adversary",
                Some("vulnerable_code_cannot_be_controlled_by_adversary"),
                None,
            ),
            (
                VexFormat::CycloneDx,
                "code_not_reachable",
                Some("vulnerable_code_not_in_execute_path"),
                Some("code_not_reachable"),
            ),
            (
                VexFormat::CycloneDx,
                "requires_configuration",
                None,
                Some("requires_configuration"),
            ),
            (VexFormat::CycloneDx, "not_a_label", None, None),
        ];
        for (format, label, openvex, cyclonedx) in cases {
            assert_eq!(to_openvex(format, label), openvex, "{label} to OpenVEX");
            assert_eq!(
                to_cyclonedx(format, label),
                cyclonedx,
                "{label} to CycloneDX"
            );
        }
    }

    #[test]
    fn labels_read_as_words() {
        assert_eq!(
            words("vulnerable_code_not_present"),
            "vulnerable code not present"
        );
        assert_eq!(words("code_not_reachable"), "code not reachable");
    }
}
