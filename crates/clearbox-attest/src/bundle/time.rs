//! Points in time from the places a bundle states them (RFC 3339 in the trusted root, X.509
//! `UTCTime` and `GeneralizedTime`, Unix seconds in log entries, milliseconds in SCTs), and the
//! closed validity intervals of the trusted root.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Serialize, Serializer};

/// A point in time, UTC, with nanosecond precision.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    seconds: i64,
    nanos: u32,
}

impl Timestamp {
    /// The time `seconds` after the Unix epoch.
    #[must_use]
    pub fn from_unix(seconds: i64) -> Self {
        Timestamp { seconds, nanos: 0 }
    }

    /// The time `millis` milliseconds after the Unix epoch, as SCTs state it.
    pub(crate) fn from_unix_millis(millis: u64) -> Self {
        // `u64::MAX / 1000` fits in an i64.
        Timestamp {
            seconds: (millis / 1000).cast_signed(),
            nanos: (millis % 1000) as u32 * 1_000_000,
        }
    }

    /// The current system time.
    #[must_use]
    pub fn now() -> Self {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(since) => Timestamp {
                seconds: i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
                nanos: since.subsec_nanos(),
            },
            Err(before) => Timestamp {
                seconds: -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
                nanos: 0,
            },
        }
    }

    /// Seconds since the Unix epoch, rounded down.
    #[must_use]
    pub fn unix_seconds(&self) -> i64 {
        self.seconds
    }

    /// Parses an RFC 3339 date-time such as `2022-12-31T23:59:59.999Z` or
    /// `2023-04-14T00:00:00+02:00`, the form protobuf JSON gives `google.protobuf.Timestamp`.
    pub(crate) fn parse_rfc3339(text: &str) -> Result<Self, String> {
        let invalid = || format!("`{text}` is not an RFC 3339 date-time");
        let bytes = text.as_bytes();
        if bytes.len() < 20 || bytes[4] != b'-' || bytes[7] != b'-' || bytes[13] != b':' {
            return Err(invalid());
        }
        if !matches!(bytes[10], b'T' | b't') || bytes[16] != b':' {
            return Err(invalid());
        }
        let field = |range: std::ops::Range<usize>| -> Result<i64, String> {
            digits(&bytes[range]).ok_or_else(invalid)
        };
        let (year, month, day) = (field(0..4)?, field(5..7)?, field(8..10)?);
        let (hour, minute, second) = (field(11..13)?, field(14..16)?, field(17..19)?);

        // Fraction, then the offset.
        let mut rest = &bytes[19..];
        let mut nanos = 0u32;
        if rest.first() == Some(&b'.') {
            let count = rest[1..].iter().take_while(|b| b.is_ascii_digit()).count();
            if count == 0 || count > 9 {
                return Err(invalid());
            }
            nanos = fraction_nanos(&rest[1..=count]);
            rest = &rest[1 + count..];
        }
        let offset_seconds = match rest {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let hours = digits(&[*h1, *h2]).ok_or_else(invalid)?;
                let minutes = digits(&[*m1, *m2]).ok_or_else(invalid)?;
                if hours > 23 || minutes > 59 {
                    return Err(invalid());
                }
                let offset = hours * 3600 + minutes * 60;
                if *sign == b'+' { offset } else { -offset }
            }
            _ => return Err(invalid()),
        };
        let seconds = civil_to_unix(year, month, day, hour, minute, second).ok_or_else(invalid)?;
        Ok(Timestamp {
            seconds: seconds - offset_seconds,
            nanos,
        })
    }

    /// Parses an ASN.1 `GeneralizedTime` value in the DER form RFC 3161 uses for `genTime`:
    /// `YYYYMMDDHHMMSS[.f…]Z`.
    pub(crate) fn parse_generalized_time(value: &[u8]) -> Result<Self, String> {
        let invalid = || "the time is not a GeneralizedTime `YYYYMMDDHHMMSS[.fff]Z`".to_owned();
        if value.len() < 15 || value.last() != Some(&b'Z') {
            return Err(invalid());
        }
        let field = |range: std::ops::Range<usize>| digits(&value[range]).ok_or_else(invalid);
        let seconds = civil_to_unix(
            field(0..4)?,
            field(4..6)?,
            field(6..8)?,
            field(8..10)?,
            field(10..12)?,
            field(12..14)?,
        )
        .ok_or_else(invalid)?;
        let rest = &value[14..value.len() - 1];
        let nanos = match rest {
            [] => 0,
            [b'.', fraction @ ..]
                if !fraction.is_empty()
                    && fraction.len() <= 9
                    && fraction.iter().all(u8::is_ascii_digit) =>
            {
                fraction_nanos(fraction)
            }
            _ => return Err(invalid()),
        };
        Ok(Timestamp { seconds, nanos })
    }

    /// Converts an X.509 validity time.
    pub(crate) fn from_x509(time: x509_cert::time::Time) -> Self {
        let since = time.to_unix_duration();
        Timestamp {
            // X.509 times end in the year 9999, far inside i64 seconds.
            seconds: since.as_secs().cast_signed(),
            nanos: since.subsec_nanos(),
        }
    }
}

/// Writes RFC 3339 in UTC, with the fraction only when it is not zero.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(time) = chrono::DateTime::from_timestamp(self.seconds, 0) else {
            // Beyond chrono's range of about 262,000 years around the epoch.
            return write!(f, "@{}", self.seconds);
        };
        write!(f, "{}", time.format("%Y-%m-%dT%H:%M:%S"))?;
        if self.nanos != 0 {
            let fraction = format!("{:09}", self.nanos);
            write!(f, ".{}", fraction.trim_end_matches('0'))?;
        }
        f.write_str("Z")
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A closed interval `[start, end]`; no end means the interval is still open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeRange {
    /// The first instant in the interval.
    pub start: Timestamp,
    /// The last instant in the interval, if any.
    pub end: Option<Timestamp>,
}

impl TimeRange {
    /// Whether `time` is inside the interval, both ends included.
    #[must_use]
    pub fn contains(&self, time: Timestamp) -> bool {
        self.start <= time && self.end.is_none_or(|end| time <= end)
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.end {
            Some(end) => write!(f, "{} to {end}", self.start),
            None => write!(f, "{} onwards", self.start),
        }
    }
}

/// The decimal value of ASCII digits, or `None` when one is not a digit.
fn digits(bytes: &[u8]) -> Option<i64> {
    bytes.iter().try_fold(0i64, |value, byte| {
        byte.is_ascii_digit()
            .then(|| value * 10 + i64::from(byte - b'0'))
    })
}

/// Nanoseconds of a decimal fraction of 1 to 9 digits.
fn fraction_nanos(fraction: &[u8]) -> u32 {
    let mut nanos = 0u32;
    for index in 0..9 {
        let digit = fraction.get(index).map_or(0, |byte| u32::from(byte - b'0'));
        nanos = nanos * 10 + digit;
    }
    nanos
}

/// Seconds since the epoch of a proleptic Gregorian date and time, or `None` when a field is
/// out of range. A leap second (`:60`) is rejected, as X.509 and RFC 3339 in UTC do not need it
/// here.
fn civil_to_unix(
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
) -> Option<i64> {
    let date = chrono::NaiveDate::from_ymd_opt(
        i32::try_from(year).ok()?,
        u32::try_from(month).ok()?,
        u32::try_from(day).ok()?,
    )?;
    let time = date.and_hms_opt(
        u32::try_from(hour).ok()?,
        u32::try_from(minute).ok()?,
        u32::try_from(second).ok()?,
    )?;
    Some(time.and_utc().timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECONDS_PER_DAY: i64 = 86_400;

    fn rfc3339(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn rfc3339_whole_seconds() {
        assert_eq!(
            rfc3339("2023-07-12T15:56:36Z").unix_seconds(),
            1_689_177_396
        );
    }

    #[test]
    fn rfc3339_fraction_kept() {
        let time = rfc3339("2022-12-31T23:59:59.999Z");
        assert_eq!(time.unix_seconds(), 1_672_531_199);
        assert_eq!(time.to_string(), "2022-12-31T23:59:59.999Z");
    }

    #[test]
    fn rfc3339_offset_applied() {
        assert_eq!(
            rfc3339("2023-04-14T02:00:00+02:00"),
            rfc3339("2023-04-14T00:00:00Z")
        );
    }

    #[test]
    fn rfc3339_rejects_malformed() {
        for text in [
            "2023-04-14",
            "2023-04-14T00:00:00",
            "2023-02-30T00:00:00Z",
            "2023-04-14T24:00:00Z",
            "2023-04-14T00:00:00.Z",
            "2023-04-14T00:00:00.1234567890Z",
            "2023-04-14T00:00:00+2:00",
        ] {
            assert!(Timestamp::parse_rfc3339(text).is_err(), "{text}");
        }
    }

    #[test]
    fn generalized_time_with_and_without_fraction() {
        let whole = Timestamp::parse_generalized_time(b"20250612120220Z").unwrap();
        assert_eq!(whole.to_string(), "2025-06-12T12:02:20Z");
        let fraction = Timestamp::parse_generalized_time(b"20250612120220.25Z").unwrap();
        assert_eq!(fraction.to_string(), "2025-06-12T12:02:20.25Z");
        assert!(Timestamp::parse_generalized_time(b"20250612120220").is_err());
        assert!(Timestamp::parse_generalized_time(b"20250612120220.Z").is_err());
    }

    #[test]
    fn display_before_epoch_and_leap_day() {
        assert_eq!(Timestamp::from_unix(-1).to_string(), "1969-12-31T23:59:59Z");
        assert_eq!(
            Timestamp::from_unix(951_782_400).to_string(),
            "2000-02-29T00:00:00Z"
        );
    }

    #[test]
    fn civil_round_trip_over_four_centuries() {
        for days in (-200_000..200_000).step_by(97) {
            let time = Timestamp::from_unix(days * SECONDS_PER_DAY);
            assert_eq!(Timestamp::parse_rfc3339(&time.to_string()), Ok(time));
        }
    }

    #[test]
    fn civil_fields_out_of_range_rejected() {
        assert_eq!(civil_to_unix(2023, 2, 29, 0, 0, 0), None);
        assert_eq!(civil_to_unix(2024, 2, 29, 0, 0, 0), Some(1_709_164_800));
        assert_eq!(civil_to_unix(2024, 13, 1, 0, 0, 0), None);
        assert_eq!(civil_to_unix(2024, 1, 1, 24, 0, 0), None);
        assert_eq!(civil_to_unix(2024, 1, 1, 23, 59, 60), None);
    }

    #[test]
    fn millis_keep_fraction() {
        assert_eq!(
            Timestamp::from_unix_millis(1_689_177_396_123).to_string(),
            "2023-07-12T15:56:36.123Z"
        );
    }

    #[test]
    fn range_is_closed() {
        let range = TimeRange {
            start: Timestamp::from_unix(10),
            end: Some(Timestamp::from_unix(20)),
        };
        assert!(range.contains(Timestamp::from_unix(10)));
        assert!(range.contains(Timestamp::from_unix(20)));
        assert!(!range.contains(Timestamp::from_unix(21)));
        assert!(!range.contains(Timestamp::from_unix(9)));
    }
}
