//! Parser for Python core metadata (`METADATA`, `PKG-INFO`): email-style headers up to the
//! first blank line. Specification:
//! <https://packaging.python.org/en/latest/specifications/core-metadata/>.

/// The fields the SBOM uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CoreMetadata {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) summary: Option<String>,
    pub(crate) home_page: Option<String>,
    pub(crate) author: Option<String>,
    /// From `License-Expression`, else a one-line `License`, else licence classifiers.
    pub(crate) licenses: Vec<String>,
}

/// Parses the header block. Errors name the missing field.
pub(crate) fn parse_metadata(text: &str) -> Result<CoreMetadata, String> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push('\n');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((key, value)) = line.split_once(':') {
            fields.push((key.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let get = |key: &str| {
        fields
            .iter()
            .find(|(k, v)| k == key && !v.is_empty() && v != "UNKNOWN")
            .map(|(_, v)| v.clone())
    };
    let name = get("name").ok_or("core metadata has no Name field")?;
    let version = get("version").ok_or("core metadata has no Version field")?;

    let licenses = if let Some(expression) = get("license-expression") {
        vec![expression]
    } else if let Some(license) = get("license").filter(|l| !l.contains('\n') && l.len() <= 100) {
        vec![license]
    } else {
        fields
            .iter()
            .filter(|(k, _)| k == "classifier")
            .filter_map(|(_, v)| v.strip_prefix("License :: "))
            .map(|v| v.rsplit(" :: ").next().unwrap_or(v).to_owned())
            .collect()
    };
    let author = get("author").or_else(|| get("author-email"));
    Ok(CoreMetadata {
        name,
        version,
        summary: get("summary"),
        home_page: get("home-page").or_else(|| {
            fields
                .iter()
                .filter(|(k, _)| k == "project-url")
                .find_map(|(_, v)| {
                    let (label, url) = v.split_once(',')?;
                    matches!(
                        label.trim().to_ascii_lowercase().as_str(),
                        "homepage" | "home"
                    )
                    .then(|| url.trim().to_owned())
                })
        }),
        author,
        licenses,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wheel_metadata() {
        let text = "Metadata-Version: 2.1\nName: Jinja2\nVersion: 2.11.2\nSummary: A very fast and expressive template engine.\n\
            Home-page: https://palletsprojects.com/p/jinja/\nAuthor: Armin Ronacher\nLicense: BSD-3-Clause\n\
            Classifier: License :: OSI Approved :: BSD License\n\nLong description: ignored\n";
        let m = parse_metadata(text).unwrap();
        assert_eq!(m.name, "Jinja2");
        assert_eq!(m.version, "2.11.2");
        assert_eq!(m.licenses, ["BSD-3-Clause"]);
        assert_eq!(m.author.as_deref(), Some("Armin Ronacher"));
    }

    #[test]
    fn licence_text_falls_back_to_classifiers() {
        let text = "Name: numpy\nVersion: 1.24.0\nLicense: Copyright (c) 2005\n        All rights reserved.\n\
            Classifier: License :: OSI Approved :: BSD License\n";
        assert_eq!(parse_metadata(text).unwrap().licenses, ["BSD License"]);
    }

    #[test]
    fn expression_wins_and_author_email_fallback() {
        let text = "Name: x\nVersion: 1\nLicense-Expression: MIT OR Apache-2.0\nLicense: MIT\nAuthor-email: A <a@example.invalid>\n";
        let m = parse_metadata(text).unwrap();
        assert_eq!(m.licenses, ["MIT OR Apache-2.0"]);
        assert_eq!(m.author.as_deref(), Some("A <a@example.invalid>"));
    }

    #[test]
    fn missing_version_is_an_error() {
        assert_eq!(
            parse_metadata("Name: x\n").unwrap_err(),
            "core metadata has no Version field"
        );
    }
}
