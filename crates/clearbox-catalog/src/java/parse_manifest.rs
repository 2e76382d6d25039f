//! Parser for the main section of a JAR manifest (`META-INF/MANIFEST.MF`): `Name: value`
//! lines up to the first empty line, ended by CRLF, LF or CR, with long values continued on
//! lines that start with one space (JAR File Specification, "Manifest Specification").
//! Sections after the first empty line describe single entries and are not read.

use std::collections::BTreeMap;

use super::parse_pom::Gav;

/// The main attributes. The specification compares names case-insensitively, so they are
/// stored lowercase.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Manifest {
    attributes: BTreeMap<String, String>,
}

pub(crate) fn parse_manifest(text: &str) -> Manifest {
    let mut attributes = BTreeMap::new();
    let mut current: Option<String> = None;
    let lines = text.split("\r\n").flat_map(|l| l.split(['\n', '\r']));
    for line in lines {
        if line.is_empty() {
            break;
        }
        if let Some(more) = line.strip_prefix(' ') {
            if let Some(current) = current.as_mut() {
                current.push_str(more);
            }
            continue;
        }
        if let Some(done) = current.replace(line.to_owned()) {
            add(&mut attributes, &done);
        }
    }
    if let Some(done) = current {
        add(&mut attributes, &done);
    }
    Manifest { attributes }
}

fn add(attributes: &mut BTreeMap<String, String>, line: &str) {
    if let Some((name, value)) = line.split_once(':') {
        let value = value.trim();
        if !value.is_empty() {
            attributes
                .entry(name.trim().to_ascii_lowercase())
                .or_insert_with(|| value.to_owned());
        }
    }
}

impl Manifest {
    /// Returns the value of an attribute, skipping the `%key` placeholders that bundle
    /// localisation leaves in unlocalised manifests.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.attributes
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
            .filter(|v| !v.starts_with('%'))
    }

    fn first(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|n| self.get(n))
    }

    /// Guesses coordinates from the manifest, when a name and a version are present. A Jenkins
    /// plugin names all three exactly (`Group-Id`, `Short-Name`, `Plugin-Version`, as the HPI
    /// packaging writes them). Otherwise the group comes from `Implementation-Vendor-Id`, else
    /// the `Bundle-SymbolicName` without its last dot-separated part, else a vendor name. The
    /// name and version come from the `Implementation-`, `Specification-` or `Bundle-`
    /// attributes. These are the precedences trivy's offline JAR parser uses. A group candidate
    /// with whitespace (a vendor's display name such as `JBoss by Red Hat`) is no Maven group,
    /// so the group is left empty then.
    pub(crate) fn coordinates(&self) -> Option<Gav> {
        if let (Some(group), Some(artifact), Some(version)) = (
            self.get("Group-Id"),
            self.get("Short-Name"),
            self.get("Plugin-Version"),
        ) {
            return Some(Gav {
                group_id: group.to_owned(),
                artifact_id: artifact.to_owned(),
                version: version.to_owned(),
            });
        }
        let symbolic = self.get("Bundle-SymbolicName").map(|symbolic| {
            // `Bundle-SymbolicName: name;singleton:=true` carries directives after `;`.
            let symbolic = symbolic.split(';').next().unwrap_or(symbolic).trim();
            symbolic
                .rsplit_once('.')
                .map_or(symbolic, |(prefix, _)| prefix)
        });
        let group = self
            .get("Implementation-Vendor-Id")
            .or(symbolic)
            .or_else(|| self.first(&["Implementation-Vendor", "Specification-Vendor"]))
            .filter(|group| !group.contains(char::is_whitespace))
            .unwrap_or_default();
        let artifact =
            self.first(&["Implementation-Title", "Specification-Title", "Bundle-Name"])?;
        let version = self.first(&[
            "Implementation-Version",
            "Specification-Version",
            "Bundle-Version",
        ])?;
        Some(Gav {
            group_id: group.to_owned(),
            artifact_id: artifact.to_owned(),
            version: version.to_owned(),
        })
    }

    /// Licences declared by Jenkins plugins (`Plugin-License-Name`, `-2`, …) or bundles
    /// (`Bundle-License`, a comma-separated list whose entries may carry `;` attributes).
    pub(crate) fn licenses(&self) -> Vec<String> {
        let mut plugin: Vec<(u32, &str)> = self
            .attributes
            .iter()
            .filter_map(|(name, value)| {
                let rest = name.strip_prefix("plugin-license-name")?;
                let order = match rest.strip_prefix('-') {
                    Some(n) => n.parse().ok()?,
                    None if rest.is_empty() => 1,
                    None => return None,
                };
                Some((order, value.as_str()))
            })
            .collect();
        if !plugin.is_empty() {
            plugin.sort_unstable();
            return plugin.into_iter().map(|(_, v)| v.to_owned()).collect();
        }
        let Some(bundle) = self.get("Bundle-License") else {
            return Vec::new();
        };
        split_unquoted(bundle, ',')
            .into_iter()
            .filter_map(|entry| {
                let name = split_unquoted(entry, ';')[0]
                    .trim()
                    .trim_matches('"')
                    .trim();
                (!name.is_empty() && name != "<<EXTERNAL>>").then(|| name.to_owned())
            })
            .collect()
    }

    /// `Implementation-Vendor`, else `Bundle-Vendor`.
    pub(crate) fn vendor(&self) -> Option<&str> {
        self.first(&["Implementation-Vendor", "Bundle-Vendor"])
    }

    /// `Implementation-URL`, else `Bundle-DocURL`.
    pub(crate) fn url(&self) -> Option<&str> {
        self.first(&["Implementation-URL", "Bundle-DocURL"])
    }
}

/// Splits at `separator` outside double quotes.
fn split_unquoted(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == separator && !quoted {
            parts.push(&text[start..i]);
            start = i + 1;
        }
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_lines_and_sections() {
        let m = parse_manifest(
            "Manifest-Version: 1.0\r\nImplementation-URL: https://example.invalid/hadoop-sh\r\n aded-guava/\r\n\r\nName: x\r\nImplementation-Title: other\r\n",
        );
        assert_eq!(
            m.get("implementation-url"),
            Some("https://example.invalid/hadoop-shaded-guava/")
        );
        assert_eq!(m.get("Implementation-Title"), None);
    }

    #[test]
    fn coordinates_precedence() {
        let m = parse_manifest(
            "Implementation-Title: Spring Framework\nImplementation-Version: 2.5.6.SEC03\nBundle-SymbolicName: org.springframework.core\n",
        );
        let gav = m.coordinates().unwrap();
        assert_eq!(gav.group_id, "org.springframework");
        assert_eq!(gav.artifact_id, "Spring Framework");
        assert_eq!(parse_manifest("Bundle-Name: %name\n").coordinates(), None);
    }

    #[test]
    fn license_attributes() {
        let m = parse_manifest(
            "Plugin-License-Name-2: MIT License\nPlugin-License-Name: Apache License, Version 2.0\n",
        );
        assert_eq!(m.licenses(), ["Apache License, Version 2.0", "MIT License"]);
        let m = parse_manifest(
            "Bundle-License: \"Apache-2.0\";link=\"https://x\", EPL-2.0;description=\"a, b\"\n",
        );
        assert_eq!(m.licenses(), ["Apache-2.0", "EPL-2.0"]);
    }
}
