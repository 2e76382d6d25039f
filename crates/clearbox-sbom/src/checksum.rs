//! File digests as each format names them.

use clearbox_catalog::FileHash;

/// One digest algorithm: the SPDX 2.3 name (which the catalog uses), the CycloneDX 1.6 name and
/// the length of a hexadecimal value.
struct Algorithm {
    spdx: &'static str,
    cyclonedx: &'static str,
    hex_len: usize,
}

const ALGORITHMS: &[Algorithm] = &[
    Algorithm {
        spdx: "MD5",
        cyclonedx: "MD5",
        hex_len: 32,
    },
    Algorithm {
        spdx: "SHA1",
        cyclonedx: "SHA-1",
        hex_len: 40,
    },
    Algorithm {
        spdx: "SHA256",
        cyclonedx: "SHA-256",
        hex_len: 64,
    },
    Algorithm {
        spdx: "SHA384",
        cyclonedx: "SHA-384",
        hex_len: 96,
    },
    Algorithm {
        spdx: "SHA512",
        cyclonedx: "SHA-512",
        hex_len: 128,
    },
];

/// A digest both formats can carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Checksum<'a> {
    /// SPDX algorithm name, such as `SHA256`.
    pub(crate) spdx: &'static str,
    /// CycloneDX algorithm name, such as `SHA-256`.
    pub(crate) cyclonedx: &'static str,
    /// Lowercase hexadecimal value.
    pub(crate) value: &'a str,
}

/// Checks a catalog digest. Returns `None` for an algorithm outside the table or a value that
/// is not lowercase hexadecimal of the algorithm's length, because both validators reject those.
pub(crate) fn checked(hash: &FileHash) -> Option<Checksum<'_>> {
    let algorithm = ALGORITHMS.iter().find(|a| a.spdx == hash.algorithm)?;
    let valid = hash.value.len() == algorithm.hex_len
        && hash
            .value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    valid.then_some(Checksum {
        spdx: algorithm.spdx,
        cyclonedx: algorithm.cyclonedx,
        value: &hash.value,
    })
}

/// Returns the catalog (SPDX) name for an algorithm named in either format, such as `SHA-256` or
/// `SHA256`.
pub(crate) fn catalog_algorithm(name: &str) -> Option<&'static str> {
    ALGORITHMS
        .iter()
        .find(|a| a.spdx.eq_ignore_ascii_case(name) || a.cyclonedx.eq_ignore_ascii_case(name))
        .map(|a| a.spdx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(algorithm: &'static str, value: &str) -> FileHash {
        FileHash {
            algorithm,
            value: value.to_owned(),
        }
    }

    #[test]
    fn checked_accepts_lowercase_hex() {
        let h = hash("SHA256", &"ab".repeat(32));
        assert_eq!(checked(&h).unwrap().cyclonedx, "SHA-256");
    }

    #[test]
    fn checked_rejects_bad_values() {
        assert_eq!(checked(&hash("SHA256", &"AB".repeat(32))), None);
        assert_eq!(checked(&hash("SHA256", "abc")), None);
        assert_eq!(checked(&hash("CRC32", "abcd1234")), None);
    }

    #[test]
    fn catalog_names() {
        assert_eq!(catalog_algorithm("SHA-256"), Some("SHA256"));
        assert_eq!(catalog_algorithm("sha1"), Some("SHA1"));
        assert_eq!(catalog_algorithm("BLAKE3"), None);
    }
}
