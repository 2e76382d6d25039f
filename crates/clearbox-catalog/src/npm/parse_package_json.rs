//! Parser for an installed npm package's `package.json`
//! (<https://docs.npmjs.com/cli/configuring-npm/package-json>): name, version, description,
//! licence, people, home page and repository, in every form the file format allows.

use serde_json::Value;

/// Maximum length of a name or version; npm itself limits names to 214 characters.
const MAX_FIELD_LEN: usize = 1024;

/// The fields the SBOM uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PackageJson {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) description: Option<String>,
    pub(crate) licenses: Vec<String>,
    /// `author`, else `authors`, as `Name <email> (url)`.
    pub(crate) authors: Vec<String>,
    pub(crate) homepage: Option<String>,
    /// `repository` as written, or its `url`.
    pub(crate) repository: Option<String>,
    pub(crate) private: bool,
}

/// Parses the file. Errors name what is missing or malformed.
pub(crate) fn parse_package_json(text: &[u8]) -> Result<PackageJson, String> {
    let value: Value =
        serde_json::from_slice(text).map_err(|e| format!("package.json is not valid JSON: {e}"))?;
    let Value::Object(object) = &value else {
        return Err("package.json is not a JSON object".to_owned());
    };
    let name = required(object.get("name"), "name")?;
    let version = required(object.get("version"), "version")?;
    let mut authors: Vec<String> = object.get("author").and_then(person).into_iter().collect();
    if authors.is_empty() {
        authors = people(object.get("authors"));
    }
    Ok(PackageJson {
        name,
        version,
        description: text_field(object.get("description")),
        licenses: licenses(object.get("license"), object.get("licenses")),
        authors,
        homepage: text_field(object.get("homepage")),
        repository: object.get("repository").and_then(|r| match r {
            Value::Object(o) => text_field(o.get("url")),
            other => text_field(Some(other)),
        }),
        private: object.get("private") == Some(&Value::Bool(true)),
    })
}

fn required(value: Option<&Value>, field: &str) -> Result<String, String> {
    let text = text_field(value).ok_or_else(|| format!("package.json has no `{field}`"))?;
    if text.len() > MAX_FIELD_LEN || text.chars().any(char::is_control) {
        return Err(format!("package.json has an invalid `{field}`"));
    }
    Ok(text)
}

fn text_field(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    }
}

/// Licences from `license` (a string, or the deprecated `{type, url}` object or array) and
/// the deprecated `licenses` array.
///
/// Plain strings inside `licenses` are taken as licence names too, although the format
/// documents only objects there; `["MIT"]` says MIT as plainly as `"MIT"` does.
pub(crate) fn licenses(license: Option<&Value>, licenses: Option<&Value>) -> Vec<String> {
    let mut out = Vec::new();
    for value in [license, licenses].into_iter().flatten() {
        let items: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        for item in items {
            let name = match item {
                Value::Object(o) => text_field(o.get("type")).or_else(|| text_field(o.get("name"))),
                other => text_field(Some(other)),
            };
            if let Some(name) = name
                && !out.contains(&name)
            {
                out.push(name);
            }
        }
    }
    out
}

/// Formats a person given as a string (`Name <email> (url)`) or as an object with `name`,
/// `email` and `url`.
fn person(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => text_field(Some(value)).filter(|_| !s.is_empty()),
        Value::Object(o) => {
            let name = text_field(o.get("name"))?;
            let mut out = name;
            if let Some(email) = text_field(o.get("email")) {
                out = format!("{out} <{email}>");
            }
            if let Some(url) = text_field(o.get("url")) {
                out = format!("{out} ({url})");
            }
            Some(out)
        }
        _ => None,
    }
}

/// Formats a list of people, or one person given where a list belongs.
fn people(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(person).collect(),
        Some(other) => person(other).into_iter().collect(),
        None => Vec::new(),
    }
}

/// `Name <email>` of a person string, dropping the `(url)` part, for the SBOM supplier field.
pub(crate) fn supplier(person: &str) -> String {
    match person.find(" (") {
        Some(at) if person.ends_with(')') => person[..at].trim().to_owned(),
        _ => person.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> PackageJson {
        parse_package_json(json.as_bytes()).unwrap()
    }

    #[test]
    fn license_forms() {
        let p = parse(r#"{"name":"a","version":"1","license":{"type":"ISC","url":"x"}}"#);
        assert_eq!(p.licenses, ["ISC"]);
        let p = parse(
            r#"{"name":"a","version":"1","licenses":[{"type":"MIT"},{"type":"Apache-2.0"}]}"#,
        );
        assert_eq!(p.licenses, ["MIT", "Apache-2.0"]);
        let p = parse(r#"{"name":"a","version":"1","license":"(MIT OR Apache-2.0)"}"#);
        assert_eq!(p.licenses, ["(MIT OR Apache-2.0)"]);
    }

    #[test]
    fn author_forms() {
        let p =
            parse(r#"{"name":"a","version":"1","author":{"name":"N","email":"e@x","url":"u"}}"#);
        assert_eq!(p.authors, ["N <e@x> (u)"]);
        assert_eq!(supplier(&p.authors[0]), "N <e@x>");
        let p = parse(r#"{"name":"a","version":"1","authors":["A <a@x>",{"name":"B"}]}"#);
        assert_eq!(p.authors, ["A <a@x>", "B"]);
    }

    #[test]
    fn missing_and_malformed_fields() {
        assert_eq!(
            parse_package_json(b"{}").unwrap_err(),
            "package.json has no `name`"
        );
        assert!(
            parse_package_json(b"{")
                .unwrap_err()
                .contains("not valid JSON")
        );
        assert!(
            parse_package_json(b"[]")
                .unwrap_err()
                .contains("not a JSON object")
        );
        assert!(
            parse_package_json(br#"{"name":"a\u001b[2J","version":"1"}"#)
                .unwrap_err()
                .contains("invalid")
        );
    }
}
