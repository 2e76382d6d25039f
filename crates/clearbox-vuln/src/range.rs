//! Whether a version lies in one OSV range, following the schema's evaluation pseudocode
//! (<https://ossf.github.io/osv-schema/#evaluation>).
//!
//! The evaluator is generic over the version type and its comparison, so the matcher passes
//! `clearbox-version` schemes and the tests pass integers.
//!
//! Tie rule: the schema sorts events by version but does not say how to order two events at
//! one version. Real records have them (PYSEC-2023-72 for `pyspark` lists `fixed: 3.2.0` and
//! `introduced: 3.2.0`, meaning `[3.1.1, 3.2.0)` and `[3.2.0, 3.2.2)`). At equal versions
//! `fixed` and `last_affected` sort before `introduced`, so adjacent ranges join: the version
//! where one range ends and the next begins is affected.

use std::cmp::Ordering;
use std::fmt::Write;

use crate::osv::Event;

/// A version found inside a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RangeHit {
    /// The interval that contains the version, such as `>=2.3.0, <2.31.0`.
    pub(crate) description: String,
    /// The `fixed` event that closes the interval, when there is one.
    pub(crate) fixed: Option<String>,
    /// The `last_affected` event that closes the interval, when there is one.
    pub(crate) last_affected: Option<String>,
}

/// An event's version after parsing, with the schema's two special values.
enum Bound<V> {
    /// `introduced: "0"`: before every version.
    Zero,
    /// A `limit` containing `*`: after every version.
    Infinity,
    Version(V),
}

struct Parsed<'a, V> {
    event: &'a Event,
    bound: Bound<V>,
}

/// Evaluates one range for `version`. `parse` reads the events' versions and `compare` orders
/// two parsed versions; an error from either means the range cannot be evaluated.
pub(crate) fn evaluate<V, E>(
    events: &[Event],
    version: &V,
    parse: impl Fn(&str) -> Result<V, E>,
    compare: impl Fn(&V, &V) -> Result<Ordering, E>,
) -> Result<Option<RangeHit>, E> {
    // Parse every event, then check limits, sort, and sweep the timeline.
    let mut parsed = Vec::with_capacity(events.len());
    for event in events {
        let bound = match event {
            Event::Introduced(v) if v == "0" => Bound::Zero,
            Event::Limit(v) if v.contains('*') => Bound::Infinity,
            _ => Bound::Version(parse(event.version())?),
        };
        parsed.push(Parsed { event, bound });
    }
    let order = |a: &Bound<V>, b: &Bound<V>| -> Result<Ordering, E> {
        Ok(match (a, b) {
            (Bound::Zero, Bound::Zero) | (Bound::Infinity, Bound::Infinity) => Ordering::Equal,
            (Bound::Zero, _) | (_, Bound::Infinity) => Ordering::Less,
            (_, Bound::Zero) | (Bound::Infinity, _) => Ordering::Greater,
            (Bound::Version(a), Bound::Version(b)) => compare(a, b)?,
        })
    };
    let target = Bound::Version(version);
    let cmp_target = |bound: &Bound<V>| -> Result<Ordering, E> {
        match (bound, &target) {
            (Bound::Version(b), Bound::Version(v)) => compare(v, b),
            (Bound::Zero, _) => Ok(Ordering::Greater),
            (Bound::Infinity, _) => Ok(Ordering::Less),
            _ => Ok(Ordering::Equal),
        }
    };

    // Limits: with any `limit` event, the version must be below at least one of them.
    let (all_limits, mut parsed): (Vec<_>, Vec<_>) = parsed
        .into_iter()
        .partition(|p| matches!(p.event, Event::Limit(_)));
    let mut limits = Vec::new();
    for p in &all_limits {
        if cmp_target(&p.bound)? == Ordering::Less {
            limits.push(p);
        }
    }
    if !all_limits.is_empty() && limits.is_empty() {
        return Ok(None);
    }

    // Sort by version, ends of ranges before starts at equal versions (the tie rule).
    let mut failure = None;
    parsed.sort_by(|a, b| match order(&a.bound, &b.bound) {
        Ok(Ordering::Equal) => tie_rank(a.event).cmp(&tie_rank(b.event)),
        Ok(ordering) => ordering,
        Err(e) => {
            failure.get_or_insert(e);
            Ordering::Equal
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }

    // Sweep: the last `introduced` at or below the version opens the interval.
    let mut vulnerable = false;
    let mut lower = 0;
    for (i, p) in parsed.iter().enumerate() {
        let relation = cmp_target(&p.bound)?;
        match p.event {
            Event::Introduced(_) if relation != Ordering::Less => {
                vulnerable = true;
                lower = i;
            }
            Event::Fixed(_) if relation != Ordering::Less => vulnerable = false,
            Event::LastAffected(_) if relation == Ordering::Greater => vulnerable = false,
            _ => {}
        }
    }
    if !vulnerable {
        return Ok(None);
    }
    let upper = parsed[lower + 1..]
        .iter()
        .find(|p| matches!(p.event, Event::Fixed(_) | Event::LastAffected(_)));
    let mut description = format!(">={}", parsed[lower].event.version());
    let (mut fixed, mut last_affected) = (None, None);
    match upper.map(|p| p.event) {
        Some(Event::Fixed(v)) => {
            let _ = write!(description, ", <{v}");
            fixed = Some(v.clone());
        }
        Some(Event::LastAffected(v)) => {
            let _ = write!(description, ", <={v}");
            last_affected = Some(v.clone());
        }
        _ => {}
    }
    if let Some(limit) = lowest_limit(&limits, &order) {
        let _ = write!(description, ", <{limit} (limit)");
    }
    Ok(Some(RangeHit {
        description,
        fixed,
        last_affected,
    }))
}

/// The lowest finite limit above the version, for the description.
fn lowest_limit<'a, V, E>(
    limits: &[&Parsed<'a, V>],
    order: &impl Fn(&Bound<V>, &Bound<V>) -> Result<Ordering, E>,
) -> Option<&'a str> {
    let mut lowest: Option<&Parsed<'a, V>> = None;
    for &limit in limits {
        if matches!(limit.bound, Bound::Infinity) {
            continue;
        }
        if lowest.is_none_or(|l| order(&limit.bound, &l.bound).is_ok_and(Ordering::is_lt)) {
            lowest = Some(limit);
        }
    }
    lowest.map(|l| l.event.version())
}

fn tie_rank(event: &Event) -> u8 {
    match event {
        Event::Fixed(_) | Event::LastAffected(_) => 0,
        Event::Introduced(_) => 1,
        Event::Limit(_) => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intro(v: &str) -> Event {
        Event::Introduced(v.into())
    }
    fn fixed(v: &str) -> Event {
        Event::Fixed(v.into())
    }
    fn last(v: &str) -> Event {
        Event::LastAffected(v.into())
    }
    fn limit(v: &str) -> Event {
        Event::Limit(v.into())
    }

    /// Evaluates with integer versions.
    fn eval(events: &[Event], version: u32) -> Option<RangeHit> {
        evaluate(
            events,
            &version,
            |s| s.parse::<u32>().map_err(|e| e.to_string()),
            |a, b| Ok(a.cmp(b)),
        )
        .unwrap()
    }

    fn hit(events: &[Event], version: u32) -> bool {
        eval(events, version).is_some()
    }

    #[test]
    fn introduced_zero_to_fixed() {
        let events = [intro("0"), fixed("5")];
        assert!(hit(&events, 0));
        assert!(hit(&events, 4));
        assert!(!hit(&events, 5));
        assert!(!hit(&events, 6));
        let h = eval(&events, 4).unwrap();
        assert_eq!(h.description, ">=0, <5");
        assert_eq!(h.fixed.as_deref(), Some("5"));
    }

    #[test]
    fn introduced_bound_is_inclusive() {
        let events = [intro("3"), fixed("5")];
        assert!(!hit(&events, 2));
        assert!(hit(&events, 3));
    }

    #[test]
    fn last_affected_is_inclusive() {
        let events = [intro("0"), last("5")];
        assert!(hit(&events, 5));
        assert!(!hit(&events, 6));
        assert_eq!(eval(&events, 5).unwrap().description, ">=0, <=5");
        assert_eq!(
            eval(&events, 5).unwrap().last_affected.as_deref(),
            Some("5")
        );
    }

    #[test]
    fn unsorted_events_are_sorted() {
        let events = [fixed("20"), intro("10"), fixed("5"), intro("0")];
        assert!(hit(&events, 4));
        assert!(!hit(&events, 7));
        assert!(hit(&events, 15));
        assert_eq!(eval(&events, 15).unwrap().fixed.as_deref(), Some("20"));
    }

    #[test]
    fn open_ended_range() {
        let events = [intro("7")];
        assert!(hit(&events, 1000));
        assert_eq!(eval(&events, 7).unwrap().description, ">=7");
        assert!(eval(&events, 7).unwrap().fixed.is_none());
    }

    #[test]
    fn limit_bounds_range() {
        let events = [intro("0"), limit("5")];
        assert!(hit(&events, 4));
        assert!(!hit(&events, 5));
        assert_eq!(eval(&events, 4).unwrap().description, ">=0, <5 (limit)");
        let unlimited = [intro("0"), limit("*")];
        assert!(hit(&unlimited, 1000));
    }

    #[test]
    fn any_limit_admits() {
        let events = [intro("0"), limit("3"), limit("9")];
        assert!(hit(&events, 8));
        assert!(!hit(&events, 9));
    }

    #[test]
    fn adjacent_ranges_join_at_tie() {
        // The shape of PYSEC-2023-72: [0,11) [12,13) [11,12) with 11 and 12 repeated.
        let events = [
            intro("0"),
            fixed("11"),
            intro("12"),
            fixed("13"),
            intro("11"),
            fixed("12"),
        ];
        for v in [10, 11, 12] {
            assert!(hit(&events, v), "{v}");
        }
        assert!(!hit(&events, 13));
        assert_eq!(eval(&events, 12).unwrap().description, ">=12, <13");
    }

    #[test]
    fn parse_error_is_returned() {
        let result = evaluate(
            &[intro("0"), fixed("x")],
            &1_u32,
            |s| s.parse::<u32>().map_err(|e| e.to_string()),
            |a, b| Ok(a.cmp(b)),
        );
        assert!(result.is_err());
    }
}
