//! Parsers for the Maven descriptors that `maven-archiver` writes into archives:
//! `META-INF/maven/GROUP/ARTIFACT/pom.properties` (Java properties: `groupId`, `artifactId`,
//! `version`) and the `pom.xml` beside it.
//!
//! `pom.xml` is read with a small tokenizer that handles elements, text, comments, CDATA and the
//! five predefined entities, and nothing else: no DTDs, no external entities, no namespaces
//! beyond dropping a prefix, so a hostile document can neither fetch nor expand anything. It
//! takes only the project's own coordinates (falling back to the parent's group and version, as
//! Maven inherits them) and its licence names.

use std::collections::BTreeMap;

/// Deepest element nesting read from a `pom.xml`; real documents stay under 15.
const MAX_DEPTH: usize = 64;

/// Maven coordinates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Gav {
    pub(crate) group_id: String,
    pub(crate) artifact_id: String,
    pub(crate) version: String,
}

/// Parses a Java properties file (`java.util.Properties#load`): `key=value`, `key: value` or
/// `key value`, `#` and `!` comments, backslash line continuations and escapes.
pub(crate) fn parse_properties(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut logical = String::new();
    for line in text.lines() {
        let line = line.trim_start_matches([' ', '\t', '\u{c}']);
        if logical.is_empty() && (line.starts_with('#') || line.starts_with('!')) {
            continue;
        }
        // An odd number of trailing backslashes continues the line.
        let trailing = line.len() - line.trim_end_matches('\\').len();
        if trailing % 2 == 1 {
            logical.push_str(&line[..line.len() - 1]);
            continue;
        }
        logical.push_str(line);
        let (key, value) = split_property(&logical);
        if !key.is_empty() {
            out.entry(key).or_insert(value);
        }
        logical.clear();
    }
    out
}

/// Splits a logical line at the first unescaped `=`, `:` or whitespace, then drops the
/// whitespace and at most one `=` or `:` that follow.
fn split_property(line: &str) -> (String, String) {
    let mut key = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => key.push(unescape(&mut chars)),
            '=' | ':' | ' ' | '\t' | '\u{c}' => {
                while chars
                    .peek()
                    .is_some_and(|c| matches!(c, ' ' | '\t' | '\u{c}'))
                {
                    chars.next();
                }
                if c.is_whitespace() && matches!(chars.peek(), Some('=' | ':')) {
                    chars.next();
                    while chars
                        .peek()
                        .is_some_and(|c| matches!(c, ' ' | '\t' | '\u{c}'))
                    {
                        chars.next();
                    }
                }
                break;
            }
            c => key.push(c),
        }
    }
    let mut value = String::new();
    while let Some(c) = chars.next() {
        if c == '\\' {
            value.push(unescape(&mut chars));
        } else {
            value.push(c);
        }
    }
    (key, value)
}

fn unescape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> char {
    match chars.next() {
        Some('t') => '\t',
        Some('n') => '\n',
        Some('r') => '\r',
        Some('f') => '\u{c}',
        Some('u') => {
            let hex: String = (0..4).filter_map(|_| chars.next()).collect();
            u32::from_str_radix(&hex, 16)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{fffd}')
        }
        Some(other) => other,
        None => '\\',
    }
}

/// Returns the coordinates in a `pom.properties`, when all three are present.
pub(crate) fn parse_pom_properties(text: &str) -> Option<Gav> {
    let properties = parse_properties(text);
    let get = |key: &str| {
        properties
            .get(key)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    Some(Gav {
        group_id: get("groupId")?,
        artifact_id: get("artifactId")?,
        version: get("version")?,
    })
}

/// The project's own coordinates and licences, as a `pom.xml` states them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PomXml {
    /// Complete coordinates, with the parent's group and version filled in; `None` when the
    /// version is a property reference that cannot be resolved from the document.
    pub(crate) gav: Option<Gav>,
    pub(crate) licenses: Vec<String>,
}

/// Parses a `pom.xml`. Errors name the malformed markup.
pub(crate) fn parse_pom_xml(text: &str) -> Result<PomXml, String> {
    let mut fields: BTreeMap<&'static str, String> = BTreeMap::new();
    let mut licenses = Vec::new();
    walk_xml(text, &mut |path, value| {
        let key = match path {
            ["project", "groupId"] => "group",
            ["project", "artifactId"] => "artifact",
            ["project", "version"] => "version",
            ["project", "parent", "groupId"] => "parent-group",
            ["project", "parent", "version"] => "parent-version",
            ["project", "licenses", "license", "name"] => {
                licenses.push(value.trim().to_owned());
                return;
            }
            _ => return,
        };
        fields.entry(key).or_insert_with(|| value.trim().to_owned());
    })?;
    let field = |key: &str| fields.get(key).filter(|v| !v.is_empty()).cloned();
    let version = field("version").or_else(|| field("parent-version"));
    // `${project.parent.version}` and its older spelling name the parent's version.
    let version = match version.as_deref() {
        Some("${project.parent.version}" | "${parent.version}") => field("parent-version"),
        _ => version,
    };
    let gav = match (
        field("group").or_else(|| field("parent-group")),
        field("artifact"),
        version,
    ) {
        (Some(group_id), Some(artifact_id), Some(version))
            if ![&group_id, &artifact_id, &version]
                .iter()
                .any(|v| v.contains("${")) =>
        {
            Some(Gav {
                group_id,
                artifact_id,
                version,
            })
        }
        _ => None,
    };
    licenses.retain(|l| !l.is_empty());
    Ok(PomXml { gav, licenses })
}

/// Calls `on_text` with the element path and text of every text node.
fn walk_xml(text: &str, on_text: &mut dyn FnMut(&[&str], &str)) -> Result<(), String> {
    let mut stack: Vec<&str> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let Some(open) = rest.find('<') else {
            emit(&stack, rest, on_text);
            break;
        };
        emit(&stack, &rest[..open], on_text);
        rest = &rest[open..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = skip_past(after, "-->")?;
        } else if let Some(after) = rest.strip_prefix("<![CDATA[") {
            let end = after.find("]]>").ok_or("unterminated CDATA section")?;
            if !stack.is_empty() {
                on_text(&stack, &after[..end]);
            }
            rest = &after[end + 3..];
        } else if let Some(after) = rest.strip_prefix("<?") {
            rest = skip_past(after, "?>")?;
        } else if let Some(after) = rest.strip_prefix("<!") {
            // A DOCTYPE; its internal subset is skipped, never interpreted.
            rest = skip_past(after, ">")?;
        } else if let Some(after) = rest.strip_prefix("</") {
            let end = after.find('>').ok_or("unterminated end tag")?;
            let name = local_name(after[..end].trim());
            if stack.pop() != Some(name) {
                return Err(format!("end tag `{name}` does not match its start tag"));
            }
            rest = &after[end + 1..];
        } else {
            let end = tag_end(rest).ok_or("unterminated start tag")?;
            let inner = &rest[1..end];
            let self_closing = inner.ends_with('/');
            let name = local_name(
                inner
                    .trim_end_matches('/')
                    .split(|c: char| c.is_whitespace())
                    .next()
                    .unwrap_or(""),
            );
            if name.is_empty() {
                return Err("start tag without a name".to_owned());
            }
            if !self_closing {
                if stack.len() == MAX_DEPTH {
                    return Err(format!("elements nested deeper than {MAX_DEPTH} levels"));
                }
                stack.push(name);
            }
            rest = &rest[end + 1..];
        }
    }
    Ok(())
}

fn emit(stack: &[&str], text: &str, on_text: &mut dyn FnMut(&[&str], &str)) {
    if !stack.is_empty() && !text.trim().is_empty() {
        on_text(stack, &decode_entities(text));
    }
}

fn skip_past<'a>(text: &'a str, end: &str) -> Result<&'a str, String> {
    let at = text.find(end).ok_or_else(|| format!("missing `{end}`"))?;
    Ok(&text[at + end.len()..])
}

/// Finds the `>` that ends a start tag, skipping `>` inside quoted attribute values.
fn tag_end(text: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

fn local_name(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// Replaces the predefined entities and character references; anything else stays as written.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';').filter(|&e| e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .map(|h| u32::from_str_radix(h, 16))
                .or_else(|| entity.strip_prefix('#').map(str::parse::<u32>))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        if let Some(c) = decoded {
            out.push(c);
            rest = &rest[end + 1..];
        } else {
            out.push('&');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_separators_and_escapes() {
        let p = parse_properties(
            "#c\n! c\ngroupId:org.anchore\nartifactId: example-java=app-maven\nversion=   0.1.0:something\nkey value\nmulti=a\\\n  b\nu=\\u0041\n",
        );
        assert_eq!(p["groupId"], "org.anchore");
        assert_eq!(p["artifactId"], "example-java=app-maven");
        assert_eq!(p["version"], "0.1.0:something");
        assert_eq!(p["key"], "value");
        assert_eq!(p["multi"], "ab");
        assert_eq!(p["u"], "A");
    }

    #[test]
    fn pom_xml_own_coordinates_not_dependencies() {
        let pom = parse_pom_xml(
            "<?xml version=\"1.0\"?><!-- c --><project><parent><groupId>p.g</groupId><version>9</version></parent>\
             <artifactId>a</artifactId><dependencies><dependency><groupId>x</groupId><artifactId>y</artifactId>\
             <version>1</version></dependency></dependencies><licenses><license><name>Apache &amp; MIT</name>\
             </license></licenses></project>",
        )
        .unwrap();
        let gav = pom.gav.unwrap();
        assert_eq!(
            (
                gav.group_id.as_str(),
                gav.artifact_id.as_str(),
                gav.version.as_str()
            ),
            ("p.g", "a", "9")
        );
        assert_eq!(pom.licenses, ["Apache & MIT"]);
    }

    #[test]
    fn unresolved_property_gives_no_coordinates() {
        let pom = parse_pom_xml(
            "<project><groupId>g</groupId><artifactId>a</artifactId><version>${revision}</version></project>",
        )
        .unwrap();
        assert_eq!(pom.gav, None);
    }

    #[test]
    fn malformed_xml_is_an_error() {
        assert!(parse_pom_xml("<project><a></b></project>").is_err());
        assert!(parse_pom_xml("<project><!-- open").is_err());
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(parse_pom_xml(&deep).unwrap_err().contains("deeper"));
    }
}
