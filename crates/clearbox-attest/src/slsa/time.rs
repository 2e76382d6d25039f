//! RFC 3339 times for `startedOn` and `finishedOn`, which SLSA writes in UTC.

use chrono::{DateTime, SecondsFormat, Utc};

/// A time that is not RFC 3339.
#[derive(Debug, thiserror::Error)]
#[error("`{value}` is not an RFC 3339 time such as `2025-01-31T09:30:00Z`")]
pub struct TimeError {
    /// The text given.
    pub value: String,
    /// The parser's reason.
    #[source]
    pub source: chrono::ParseError,
}

/// Parses an RFC 3339 time with any offset and returns it in UTC with a `Z`, keeping fractional
/// seconds only when they are not zero: `2025-01-31T10:30:00+01:00` becomes
/// `2025-01-31T09:30:00Z`.
pub fn parse_rfc3339(text: &str) -> Result<String, TimeError> {
    let time = DateTime::parse_from_rfc3339(text.trim()).map_err(|source| TimeError {
        value: text.to_owned(),
        source,
    })?;
    Ok(time
        .with_timezone(&Utc)
        .to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_utc() {
        assert_eq!(
            parse_rfc3339("2025-01-31T10:30:00+01:00").unwrap(),
            "2025-01-31T09:30:00Z"
        );
        assert_eq!(
            parse_rfc3339("2025-01-31T09:30:00.250Z").unwrap(),
            "2025-01-31T09:30:00.250Z"
        );
    }

    #[test]
    fn other_formats_rejected() {
        for text in ["2025-01-31", "yesterday", "2025-01-31 09:30:00", ""] {
            let error = parse_rfc3339(text).unwrap_err();
            assert!(
                error.to_string().starts_with(&format!("`{text}`")),
                "{error}"
            );
        }
    }
}
