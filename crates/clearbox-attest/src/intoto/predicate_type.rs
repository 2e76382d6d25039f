//! Predicate type URIs and the short names cosign's `--type` flag accepts for them.
//!
//! | `--type` | URI |
//! |---|---|
//! | `slsaprovenance`, `slsaprovenance02` | `https://slsa.dev/provenance/v0.2` |
//! | `slsaprovenance1` | `https://slsa.dev/provenance/v1` |
//! | `spdx`, `spdxjson` | `https://spdx.dev/Document` |
//! | `cyclonedx` | `https://cyclonedx.org/bom` |
//! | `vuln` | `https://cosign.sigstore.dev/attestation/vuln/v1` |
//! | `openvex` | `https://openvex.dev/ns` |
//! | `custom` | `https://cosign.sigstore.dev/attestation/v1` |
//! | `link` | `https://in-toto.io/Link/v1` |
//!
//! Source: the `PredicateTypeMap` of cosign's `cmd/cosign/cli/options/predicate.go` and the
//! constants it names in in-toto-golang and cosign's `pkg/cosign/attestation`. Each row was
//! checked against cosign 2.5 by running `cosign attest-blob --type NAME` and reading the
//! statement's `predicateType`. Note that plain `slsaprovenance` still means SLSA v0.2 there.
//!
//! Any other `--type` value must be an absolute URI (`scheme:rest`) and is used as it is.
//! cosign 2.5's `attest-blob` accepts any string, and older cosign also mapped `cyclonedxxml`.
//! Both are rejected here, because the in-toto specification requires a URI.

use std::fmt;
use std::str::FromStr;

use super::StatementError;

/// The type of an in-toto predicate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PredicateType {
    /// SLSA Provenance v0.2.
    SlsaProvenanceV02,
    /// SLSA Provenance v1.
    SlsaProvenanceV1,
    /// An SPDX document.
    Spdx,
    /// A CycloneDX BOM.
    CycloneDx,
    /// cosign's vulnerability scan predicate.
    CosignVuln,
    /// An `OpenVEX` document.
    OpenVex,
    /// cosign's custom predicate, which wraps arbitrary data with a timestamp.
    CosignCustom,
    /// An in-toto link.
    InTotoLink,
    /// Any other predicate, by URI.
    Other(String),
}

/// cosign's `--type` names and the variants they map to, in the order cosign's help lists them.
const COSIGN_NAMES: [(&str, PredicateType); 10] = [
    ("slsaprovenance", PredicateType::SlsaProvenanceV02),
    ("slsaprovenance02", PredicateType::SlsaProvenanceV02),
    ("slsaprovenance1", PredicateType::SlsaProvenanceV1),
    ("link", PredicateType::InTotoLink),
    ("spdx", PredicateType::Spdx),
    ("spdxjson", PredicateType::Spdx),
    ("cyclonedx", PredicateType::CycloneDx),
    ("vuln", PredicateType::CosignVuln),
    ("openvex", PredicateType::OpenVex),
    ("custom", PredicateType::CosignCustom),
];

impl PredicateType {
    /// Parses a cosign `--type` value: one of the short names, or an absolute URI.
    pub fn from_cosign_type(value: &str) -> Result<Self, StatementError> {
        if let Some((_, known)) = COSIGN_NAMES.iter().find(|(name, _)| *name == value) {
            return Ok(known.clone());
        }
        if is_absolute_uri(value) {
            return Ok(PredicateType::from_uri(value));
        }
        Err(StatementError::InvalidPredicateType {
            value: value.to_owned(),
        })
    }

    /// The variant for a predicate type URI read from a statement; unknown URIs become
    /// [`PredicateType::Other`].
    #[must_use]
    pub fn from_uri(uri: &str) -> Self {
        [
            PredicateType::SlsaProvenanceV02,
            PredicateType::SlsaProvenanceV1,
            PredicateType::Spdx,
            PredicateType::CycloneDx,
            PredicateType::CosignVuln,
            PredicateType::OpenVex,
            PredicateType::CosignCustom,
            PredicateType::InTotoLink,
        ]
        .into_iter()
        .find(|known| known.uri() == uri)
        .unwrap_or_else(|| PredicateType::Other(uri.to_owned()))
    }

    /// The predicate type URI.
    #[must_use]
    pub fn uri(&self) -> &str {
        match self {
            PredicateType::SlsaProvenanceV02 => "https://slsa.dev/provenance/v0.2",
            PredicateType::SlsaProvenanceV1 => "https://slsa.dev/provenance/v1",
            PredicateType::Spdx => "https://spdx.dev/Document",
            PredicateType::CycloneDx => "https://cyclonedx.org/bom",
            PredicateType::CosignVuln => "https://cosign.sigstore.dev/attestation/vuln/v1",
            PredicateType::OpenVex => "https://openvex.dev/ns",
            PredicateType::CosignCustom => "https://cosign.sigstore.dev/attestation/v1",
            PredicateType::InTotoLink => "https://in-toto.io/Link/v1",
            PredicateType::Other(uri) => uri,
        }
    }

    /// The `--type` short names, in the order cosign's help lists them, for help text.
    #[must_use]
    pub fn cosign_names() -> Vec<&'static str> {
        COSIGN_NAMES.iter().map(|(name, _)| *name).collect()
    }
}

impl FromStr for PredicateType {
    type Err = StatementError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        PredicateType::from_cosign_type(value)
    }
}

impl fmt::Display for PredicateType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.uri())
    }
}

/// An RFC 3986 absolute URI in outline: a scheme (`ALPHA *(ALPHA / DIGIT / "+" / "-" / ".")`),
/// a colon, a non-empty rest, and no whitespace or control characters anywhere.
fn is_absolute_uri(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once(':') else {
        return false;
    };
    let mut scheme_chars = scheme.chars();
    scheme_chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme_chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && !rest.is_empty()
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosign_names_map_to_uris() {
        let table = [
            ("slsaprovenance", "https://slsa.dev/provenance/v0.2"),
            ("slsaprovenance02", "https://slsa.dev/provenance/v0.2"),
            ("slsaprovenance1", "https://slsa.dev/provenance/v1"),
            ("link", "https://in-toto.io/Link/v1"),
            ("spdx", "https://spdx.dev/Document"),
            ("spdxjson", "https://spdx.dev/Document"),
            ("cyclonedx", "https://cyclonedx.org/bom"),
            ("vuln", "https://cosign.sigstore.dev/attestation/vuln/v1"),
            ("openvex", "https://openvex.dev/ns"),
            ("custom", "https://cosign.sigstore.dev/attestation/v1"),
        ];
        for (name, uri) in table {
            assert_eq!(
                PredicateType::from_cosign_type(name).unwrap().uri(),
                uri,
                "{name}"
            );
        }
        assert_eq!(PredicateType::cosign_names().len(), table.len());
    }

    #[test]
    fn known_uri_maps_back_to_variant() {
        assert_eq!(
            PredicateType::from_cosign_type("https://slsa.dev/provenance/v1").unwrap(),
            PredicateType::SlsaProvenanceV1
        );
    }

    #[test]
    fn other_uri_used_as_is() {
        let parsed = PredicateType::from_cosign_type("https://example.com/model-card/v1").unwrap();
        assert_eq!(
            parsed,
            PredicateType::Other("https://example.com/model-card/v1".to_owned())
        );
        assert_eq!(parsed.to_string(), "https://example.com/model-card/v1");
        assert!(PredicateType::from_cosign_type("urn:example:predicate").is_ok());
    }

    #[test]
    fn non_uri_rejected() {
        for value in [
            "cyclonedxxml",
            "",
            "sbom",
            "1http://x",
            "https:",
            "https://a b",
            ":x",
        ] {
            let error = PredicateType::from_cosign_type(value).unwrap_err();
            assert!(
                matches!(error, StatementError::InvalidPredicateType { .. }),
                "{value}: {error:?}"
            );
        }
    }

    #[test]
    fn error_lists_names() {
        let error = PredicateType::from_cosign_type("sbom").unwrap_err();
        assert_eq!(
            error.to_string(),
            "predicate type `sbom` is neither a known name (slsaprovenance, slsaprovenance02, \
             slsaprovenance1, link, spdx, spdxjson, cyclonedx, vuln, openvex, custom) nor an \
             absolute URI"
        );
    }
}
