//! Parser for `direct_url.json` (PEP 610), which pip writes into a `.dist-info` directory when
//! a distribution was installed from a URL, a version control checkout or a local directory
//! rather than from an index. Specification:
//! <https://packaging.python.org/en/latest/specifications/direct-url-data-structure/>.

use serde::Deserialize;

/// The origin of a distribution installed from a URL, a checkout or a local directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DirectUrl {
    pub(crate) url: String,
    /// Version control system, such as `git`.
    pub(crate) vcs: Option<String>,
    pub(crate) commit_id: Option<String>,
    pub(crate) requested_revision: Option<String>,
    pub(crate) editable: bool,
    /// `archive_info.hash` (`sha256=...`).
    pub(crate) archive_hash: Option<String>,
}

#[derive(Deserialize)]
struct Raw {
    url: String,
    #[serde(default)]
    vcs_info: Option<RawVcs>,
    #[serde(default)]
    archive_info: Option<RawArchive>,
    #[serde(default)]
    dir_info: Option<RawDir>,
}

#[derive(Deserialize)]
struct RawVcs {
    vcs: String,
    #[serde(default)]
    commit_id: Option<String>,
    #[serde(default)]
    requested_revision: Option<String>,
}

#[derive(Deserialize)]
struct RawArchive {
    #[serde(default)]
    hash: Option<String>,
}

#[derive(Deserialize)]
struct RawDir {
    #[serde(default)]
    editable: bool,
}

/// Parses the file. Errors name what is malformed.
pub(crate) fn parse_direct_url(text: &[u8]) -> Result<DirectUrl, String> {
    let raw: Raw = serde_json::from_slice(text)
        .map_err(|e| format!("direct_url.json is not valid PEP 610 data: {e}"))?;
    if raw.url.trim().is_empty() || raw.url.chars().any(char::is_control) {
        return Err("direct_url.json has an invalid `url`".to_owned());
    }
    let vcs = raw.vcs_info;
    Ok(DirectUrl {
        url: raw.url,
        vcs: vcs.as_ref().map(|v| v.vcs.clone()),
        commit_id: vcs.as_ref().and_then(|v| v.commit_id.clone()),
        requested_revision: vcs.and_then(|v| v.requested_revision),
        editable: raw.dir_info.is_some_and(|d| d.editable),
        archive_hash: raw.archive_info.and_then(|a| a.hash),
    })
}

impl DirectUrl {
    /// The purl `vcs_url` qualifier, `VCS+URL@COMMIT`, when installed from version control.
    pub(crate) fn vcs_url(&self) -> Option<String> {
        let vcs = self.vcs.as_deref()?;
        let url = if self.url.starts_with(&format!("{vcs}+")) {
            self.url.clone()
        } else {
            format!("{vcs}+{}", self.url)
        };
        Some(match &self.commit_id {
            Some(commit) => format!("{url}@{commit}"),
            None => url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vcs_install() {
        let d = parse_direct_url(
            br#"{"url": "https://github.com/python-test/test.git", "vcs_info": {"commit_id": "aaaa", "vcs": "git"}}"#,
        )
        .unwrap();
        assert_eq!(d.vcs.as_deref(), Some("git"));
        assert_eq!(
            d.vcs_url().as_deref(),
            Some("git+https://github.com/python-test/test.git@aaaa")
        );
    }

    #[test]
    fn editable_and_archive_installs() {
        let d = parse_direct_url(br#"{"url": "file:///src/app", "dir_info": {"editable": true}}"#)
            .unwrap();
        assert!(d.editable);
        assert_eq!(d.vcs_url(), None);
        let d = parse_direct_url(
            br#"{"url": "https://x.invalid/a.whl", "archive_info": {"hash": "sha256=00"}}"#,
        )
        .unwrap();
        assert_eq!(d.archive_hash.as_deref(), Some("sha256=00"));
        assert!(parse_direct_url(b"{}").is_err());
    }
}
