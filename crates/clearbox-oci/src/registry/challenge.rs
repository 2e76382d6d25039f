//! `WWW-Authenticate` challenges of a registry's 401 responses (RFC 7235 syntax).
//!
//! Registries send `Basic realm="…"` or, with token authentication,
//! `Bearer realm="…",service="…",scope="…"` as described in Docker's token authentication
//! specification (<https://distribution.github.io/distribution/spec/auth/token/>). Other
//! schemes (Digest, Negotiate) are not supported and are reported as such.

use std::collections::BTreeMap;

/// A challenge clearbox supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    /// Send the user name and password with every request.
    Basic,
    /// Fetch a token from `realm` and send it as `Authorization: Bearer`.
    Bearer(BearerChallenge),
}

/// The parameters of a `Bearer` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BearerChallenge {
    /// The token server URL.
    pub(crate) realm: String,
    /// The `service` to name in the token request.
    pub(crate) service: Option<String>,
    /// The scope the registry wants, such as `repository:app:pull`.
    pub(crate) scope: Option<String>,
    /// The OAuth error code, such as `insufficient_scope` when a token lacks access.
    pub(crate) error: Option<String>,
}

/// Picks the challenge to meet from the values of every `WWW-Authenticate` header: Bearer
/// before Basic. Returns `None` when no header holds a supported challenge.
pub(crate) fn select_challenge<'a>(values: impl Iterator<Item = &'a str>) -> Option<Challenge> {
    let mut basic = false;
    for value in values {
        match parse_challenge(value) {
            Some(Challenge::Bearer(bearer)) => return Some(Challenge::Bearer(bearer)),
            Some(Challenge::Basic) => basic = true,
            None => {}
        }
    }
    basic.then_some(Challenge::Basic)
}

/// Parses one challenge; `None` for an unsupported scheme or a Bearer challenge without a
/// realm.
pub(crate) fn parse_challenge(value: &str) -> Option<Challenge> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut params = parse_params(rest);
    let realm = params.remove("realm").filter(|r| !r.is_empty())?;
    Some(Challenge::Bearer(BearerChallenge {
        realm,
        service: params.remove("service"),
        scope: params.remove("scope"),
        error: params.remove("error"),
    }))
}

/// Parses `name=value, name="quoted, value"` pairs; names are lowercased.
fn parse_params(text: &str) -> BTreeMap<String, String> {
    let mut params = BTreeMap::new();
    let mut chars = text.chars().peekable();
    loop {
        // Skip separators, then read a name up to `=`.
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if name.is_empty() {
            return params;
        }

        // Read a quoted string with backslash escapes, or a token up to the next comma.
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    other => value.push(other),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != ',') {
                value.push(c);
            }
            value.truncate(value.trim_end().len());
        }
        params.insert(name.trim().to_ascii_lowercase(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer(value: &str) -> BearerChallenge {
        match parse_challenge(value) {
            Some(Challenge::Bearer(b)) => b,
            other => panic!("{value} parsed as {other:?}"),
        }
    }

    #[test]
    fn bearer_with_all_parameters() {
        let b = bearer(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(b.realm, "https://auth.example/token");
        assert_eq!(b.service.as_deref(), Some("registry.example"));
        assert_eq!(b.scope.as_deref(), Some("repository:a/b:pull,push"));
        assert_eq!(b.error, None);
    }

    #[test]
    fn bearer_with_error_and_unquoted_values() {
        let b = bearer(r#"bearer realm=http://127.0.0.1:9/t, error="insufficient_scope""#);
        assert_eq!(b.realm, "http://127.0.0.1:9/t");
        assert_eq!(b.error.as_deref(), Some("insufficient_scope"));
    }

    #[test]
    fn quoted_value_with_escaped_quote() {
        let b = bearer(r#"Bearer realm="a\"b",service="s""#);
        assert_eq!(b.realm, "a\"b");
        assert_eq!(b.service.as_deref(), Some("s"));
    }

    #[test]
    fn bearer_without_realm_is_unsupported() {
        assert_eq!(parse_challenge(r#"Bearer service="s""#), None);
    }

    #[test]
    fn basic_and_unknown_schemes() {
        assert_eq!(
            parse_challenge(r#"Basic realm="registry""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge("Negotiate"), None);
    }

    #[test]
    fn bearer_preferred_over_basic() {
        let values = [r#"Basic realm="r""#, r#"Bearer realm="https://t""#];
        let chosen = select_challenge(values.into_iter());
        assert!(matches!(chosen, Some(Challenge::Bearer(_))));
        assert_eq!(select_challenge(["Digest x"].into_iter()), None);
    }
}
