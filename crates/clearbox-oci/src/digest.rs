//! Content digests (`sha256:<hex>`) and readers that compute them while data streams past.
//!
//! Only SHA-256 is accepted. The OCI image spec also registers SHA-512, but no registry or
//! builder in common use emits it, and accepting an algorithm we never verify would be worse
//! than rejecting it.

use std::fmt;
use std::io::{self, Read};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};

use crate::OciError;

/// A validated `sha256:<64 lowercase hex>` content digest.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    hex: String,
}

impl Digest {
    /// Computes the digest of a byte slice.
    #[must_use]
    pub fn of(bytes: &[u8]) -> Self {
        Digest::from_sha256(Sha256::digest(bytes).as_slice())
    }

    /// Wraps a finished SHA-256 output.
    #[must_use]
    pub fn from_sha256(raw: &[u8]) -> Self {
        Digest {
            hex: hex::encode(raw),
        }
    }

    /// The 64 hexadecimal digits without the algorithm prefix.
    #[must_use]
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The algorithm name, always `sha256`.
    #[must_use]
    pub fn algorithm(&self) -> &'static str {
        "sha256"
    }
}

impl FromStr for Digest {
    type Err = OciError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = |reason| OciError::InvalidDigest {
            digest: s.to_owned(),
            reason,
        };
        let (algorithm, hex) = s
            .split_once(':')
            .ok_or_else(|| invalid("expected `algorithm:hex`"))?;
        if algorithm != "sha256" {
            return Err(invalid("only sha256 digests are supported"));
        }
        if hex.len() != 64 {
            return Err(invalid("a sha256 digest has 64 hexadecimal digits"));
        }
        if !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(invalid("digits must be lowercase hexadecimal"));
        }
        Ok(Digest {
            hex: hex.to_owned(),
        })
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A reader that hashes and counts every byte passing through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    /// Bytes read so far.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Reads `inner` to its end, then returns the digest and byte count of everything read,
    /// with the inner reader.
    pub fn finish(mut self) -> io::Result<(Digest, u64, R)> {
        io::copy(&mut self, &mut io::sink())?;
        let digest = Digest::from_sha256(self.hasher.finalize().as_slice());
        Ok((digest, self.count, self.inner))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let s = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let d: Digest = s.parse().unwrap();
        assert_eq!(d.to_string(), s);
        assert_eq!(d, Digest::of(b""));
    }

    #[test]
    fn rejects_other_algorithms() {
        let err = "sha512:00".parse::<Digest>().unwrap_err();
        assert!(err.to_string().contains("only sha256"), "{err}");
    }

    #[test]
    fn rejects_uppercase_and_short_hex() {
        let upper = format!("sha256:{}", "A".repeat(64));
        assert!(upper.parse::<Digest>().is_err());
        assert!("sha256:abc".parse::<Digest>().is_err());
        assert!("e3b0c442".parse::<Digest>().is_err());
    }

    #[test]
    fn hashing_reader_counts_and_hashes() {
        let reader = HashingReader::new(&b"hello"[..]);
        let (digest, count, _) = reader.finish().unwrap();
        assert_eq!(count, 5);
        assert_eq!(digest, Digest::of(b"hello"));
    }
}
