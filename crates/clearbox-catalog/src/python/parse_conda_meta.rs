//! Parser for the records conda writes for every installed package,
//! `ENV/conda-meta/NAME-VERSION-BUILD.json`: the package's repodata record
//! (<https://schemas.conda.io/repodata-record-1.schema.json>: `name`, `version`, `build`,
//! `subdir`, `license`, `md5`, `sha256`, `url`) plus what conda adds at install time (`channel`,
//! `files`, the paths installed relative to the environment).

use serde::Deserialize;

/// Most installed paths read from one record; the largest conda packages install a few tens
/// of thousands of files.
const MAX_FILES: usize = 500_000;

/// The fields the SBOM uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CondaPackage {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) build: Option<String>,
    /// Channel URL, such as `https://conda.anaconda.org/conda-forge/linux-64`.
    pub(crate) channel: Option<String>,
    pub(crate) subdir: Option<String>,
    pub(crate) license: Option<String>,
    /// Download URL of the package archive.
    pub(crate) url: Option<String>,
    pub(crate) sha256: Option<String>,
    pub(crate) md5: Option<String>,
    /// Installed paths, relative to the environment.
    pub(crate) files: Vec<String>,
}

#[derive(Deserialize)]
struct Raw {
    name: String,
    version: String,
    #[serde(default)]
    build: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    subdir: Option<String>,
    #[serde(default)]
    license: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    sha256: Option<String>,
    #[serde(default)]
    md5: Option<String>,
    #[serde(default)]
    files: Vec<String>,
}

/// Parses one record. Errors name what is missing or malformed.
pub(crate) fn parse_conda_meta(text: &[u8]) -> Result<CondaPackage, String> {
    let raw: Raw =
        serde_json::from_slice(text).map_err(|e| format!("conda-meta record is not valid: {e}"))?;
    for (field, value) in [("name", &raw.name), ("version", &raw.version)] {
        if value.trim().is_empty() || value.len() > 1024 || value.chars().any(char::is_control) {
            return Err(format!("conda-meta record has an invalid `{field}`"));
        }
    }
    if raw.files.len() > MAX_FILES {
        return Err(format!(
            "conda-meta record lists {} files, more than the {MAX_FILES} read",
            raw.files.len()
        ));
    }
    let text = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    Ok(CondaPackage {
        name: raw.name,
        version: raw.version,
        build: text(raw.build),
        channel: text(raw.channel),
        subdir: text(raw.subdir),
        license: text(raw.license),
        url: text(raw.url),
        sha256: text(raw.sha256),
        md5: text(raw.md5),
        files: raw.files,
    })
}

impl CondaPackage {
    /// Returns the channel's name for the purl: the path of the channel URL without the platform
    /// subdirectory (`https://conda.anaconda.org/conda-forge/linux-64` gives `conda-forge`);
    /// a channel given by name is kept.
    pub(crate) fn channel_name(&self) -> Option<String> {
        let channel = self.channel.as_deref()?;
        let Some((_, rest)) = channel.split_once("://") else {
            return Some(channel.to_owned());
        };
        let path = rest.split_once('/').map_or("", |(_, path)| path);
        let path = path.trim_end_matches('/');
        let path = match &self.subdir {
            Some(subdir) => path.strip_suffix(subdir.as_str()).unwrap_or(path),
            None => path,
        };
        let path = path.trim_end_matches('/');
        (!path.is_empty()).then(|| path.to_owned())
    }

    /// Returns the archive type for the purl, from the download URL: `conda` or `tar.bz2`.
    pub(crate) fn archive_type(&self) -> Option<&'static str> {
        let url = self.url.as_deref()?;
        if url.strip_suffix(".conda").is_some() {
            Some("conda")
        } else if url.strip_suffix(".tar.bz2").is_some() {
            Some("tar.bz2")
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORD: &str = r#"{"name": "zlib", "version": "1.2.13", "build": "hd590300_5",
        "build_number": 5, "channel": "https://conda.anaconda.org/conda-forge/linux-64",
        "subdir": "linux-64", "license": "Zlib",
        "url": "https://conda.anaconda.org/conda-forge/linux-64/zlib-1.2.13-hd590300_5.conda",
        "md5": "f36c115f1ee199da648e0597ec2047ad",
        "files": ["lib/libz.so.1.2.13", "include/zlib.h"]}"#;

    #[test]
    fn record_fields() {
        let p = parse_conda_meta(RECORD.as_bytes()).unwrap();
        assert_eq!((p.name.as_str(), p.version.as_str()), ("zlib", "1.2.13"));
        assert_eq!(p.channel_name().as_deref(), Some("conda-forge"));
        assert_eq!(p.archive_type(), Some("conda"));
        assert_eq!(p.files.len(), 2);
    }

    #[test]
    fn invalid_records() {
        assert!(parse_conda_meta(b"{\"name\": \"x\"}").is_err());
        assert!(parse_conda_meta(b"[]").is_err());
        assert!(
            parse_conda_meta(br#"{"name": "", "version": "1"}"#)
                .unwrap_err()
                .contains("name")
        );
    }
}
