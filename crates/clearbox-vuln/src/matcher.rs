//! Matching a catalog's packages against the advisory database.
//!
//! | package kind | OSV ecosystem | name looked up | version compared |
//! |---|---|---|---|
//! | Python | `PyPI` | PEP 503 normalised name | as found, PEP 440 |
//! | Go module | `Go` | module path | without the leading `v`; pseudo-versions kept |
//! | Go standard library | `Go` | `stdlib` | as found, without a `go` prefix |
//! | Debian | `Debian:<VERSION_ID>` and `Debian` | source package (else binary) name | source version |
//! | model | not matched | | |
//!
//! A version is affected when it is listed in an entry's `versions` or lies in one of its
//! ranges (see the `range` module). `SEMVER` ranges are compared with the SemVer scheme after
//! removing a leading `v`. `ECOSYSTEM` ranges use the ecosystem's scheme from
//! [`Scheme::for_ecosystem`]. `GIT` ranges are skipped because they need the repository's
//! history. A range whose versions do not parse is skipped and logged at debug; a package
//! version that does not parse is reported as [`MatchNote::InvalidVersion`] and not matched.
//!
//! Merge rule: one finding per advisory id and package. When several matching records describe
//! one vulnerability (one lists the other's id in `aliases`, or both list a common alias such
//! as a CVE id; OSV aliases are symmetric and transitive), the finding keeps one record:
//! the one whose matching interval ends in a `fixed` version, then one ending in
//! `last_affected`, then one with a CVSS vector, then the smallest id. The other ids go to
//! `aliases` and `merged_ids`. When the kept record has no severity, the severity of the next
//! record in that order that has one is used.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use clearbox_catalog::{Catalog, Package, PackageKind, normalize_python_name};
use clearbox_version::{Scheme, Version, VersionError};
use tracing::{debug, info, warn};

use crate::error::VulnError;
use crate::finding::{AdvisoryRef, Finding, MatchDetail, MatchNote, MatchOutcome, PackageRef};
use crate::osv::{Affected, OsvRecord, RangeKind};
use crate::range::{self, RangeHit};
use crate::severity::{self, Assessment, Severity};
use crate::store::{Database, index_name};

/// Matches every package of `catalog` and returns the findings, sorted by severity (most
/// severe first), package name, version and advisory id.
///
/// Notes on what could not be matched are logged at warn level and otherwise dropped; use
/// [`match_catalog_with_notes`] to put them in a report.
pub fn match_catalog(db: &Database, catalog: &Catalog) -> Result<Vec<Finding>, VulnError> {
    let outcome = match_catalog_with_notes(db, catalog)?;
    for note in &outcome.notes {
        warn!(%note, "package not matched against advisories");
    }
    Ok(outcome.findings)
}

/// Matches every package of `catalog` and returns the findings with notes on what could not
/// be matched.
pub fn match_catalog_with_notes(
    db: &Database,
    catalog: &Catalog,
) -> Result<MatchOutcome, VulnError> {
    // Decide what to look up for each package, then match, then sort.
    let (queries, mut notes) = plan(catalog);
    info!(
        packages = catalog.packages.len(),
        matchable = queries.len(),
        "matching packages against advisories"
    );
    let mut findings = Vec::new();
    for (package, query) in &queries {
        match_package(db, package, query, &mut findings, &mut notes)?;
    }
    findings.sort_by(|a, b| {
        b.advisory
            .severity
            .cmp(&a.advisory.severity)
            .then_with(|| a.package.name.cmp(&b.package.name))
            .then_with(|| a.package.version.cmp(&b.package.version))
            .then_with(|| a.advisory.id.cmp(&b.advisory.id))
            .then_with(|| a.package.purl.cmp(&b.package.purl))
    });
    info!(
        findings = findings.len(),
        notes = notes.len(),
        "matching finished"
    );
    Ok(MatchOutcome { findings, notes })
}

/// Lookup keys for one package.
#[derive(Debug)]
struct Query {
    /// Ecosystems to look up; the first is the one reported as queried.
    ecosystems: Vec<String>,
    /// Name as looked up.
    name: String,
    /// Version as compared.
    version: String,
    /// Scheme the version must parse with for the package to be matched.
    scheme: Scheme,
}

fn plan(catalog: &Catalog) -> (Vec<(&Package, Query)>, Vec<MatchNote>) {
    let mut notes = Vec::new();
    let count = |kind| catalog.packages.iter().filter(|p| p.kind == kind).count();
    let debs = count(PackageKind::Deb);
    let debian_ecosystem = debian_ecosystem(catalog, debs, &mut notes);
    let models = count(PackageKind::Model);
    if models > 0 {
        notes.push(MatchNote::ModelsNotMatched { packages: models });
    }
    let queries = catalog
        .packages
        .iter()
        .filter_map(|p| query_for(p, debian_ecosystem.as_deref()).map(|q| (p, q)))
        .collect();
    (queries, notes)
}

/// Derives the OSV ecosystem of the catalog's Debian release. When there is none and the catalog
/// has Debian packages, adds a note that says why.
fn debian_ecosystem(catalog: &Catalog, debs: usize, notes: &mut Vec<MatchNote>) -> Option<String> {
    let note = match &catalog.distro {
        None => MatchNote::NoDistro { packages: debs },
        Some(distro) if distro.id == "debian" => {
            if let Some(version_id) = &distro.version_id {
                return Some(format!("Debian:{version_id}"));
            }
            MatchNote::NoDistroVersion {
                distro: distro.id.clone(),
                packages: debs,
            }
        }
        Some(distro) => MatchNote::UnsupportedDistro {
            distro: distro.id.clone(),
            packages: debs,
        },
    };
    if debs > 0 {
        notes.push(note);
    }
    None
}

fn query_for(package: &Package, debian_ecosystem: Option<&str>) -> Option<Query> {
    let version = package.version.as_str();
    let (ecosystems, name, version, scheme) = match package.kind {
        PackageKind::Python => (
            vec!["PyPI".to_owned()],
            normalize_python_name(&package.name),
            version.to_owned(),
            Scheme::Pep440,
        ),
        PackageKind::GoModule => (
            vec!["Go".to_owned()],
            package.name.clone(),
            strip_v(version).to_owned(),
            Scheme::Semver,
        ),
        PackageKind::GoStdlib => (
            vec!["Go".to_owned()],
            "stdlib".to_owned(),
            version.strip_prefix("go").unwrap_or(version).to_owned(),
            Scheme::Semver,
        ),
        PackageKind::Deb => {
            let ecosystem = debian_ecosystem?;
            let (name, version) = match &package.source {
                Some(source) => (source.name.clone(), source.version.clone()),
                None => (package.name.clone(), version.to_owned()),
            };
            (
                vec![ecosystem.to_owned(), "Debian".to_owned()],
                name,
                version,
                Scheme::Deb,
            )
        }
        PackageKind::Model => return None,
    };
    Some(Query {
        ecosystems,
        name,
        version,
        scheme,
    })
}

fn strip_v(version: &str) -> &str {
    version.strip_prefix('v').unwrap_or(version)
}

/// A version written the way `scheme` parses it: SemVer without `v`, Go with `v`.
pub(crate) fn spell(scheme: Scheme, version: &str) -> String {
    match scheme {
        Scheme::Semver => strip_v(version).to_owned(),
        Scheme::Go if !version.starts_with('v') => format!("v{version}"),
        _ => version.to_owned(),
    }
}

/// The package version parsed once with each scheme that a record needs.
struct ParsedVersions<'a> {
    raw: &'a str,
    parsed: HashMap<Scheme, Result<Version, VersionError>>,
}

impl ParsedVersions<'_> {
    fn get(&mut self, scheme: Scheme) -> Result<&Version, &VersionError> {
        self.parsed
            .entry(scheme)
            .or_insert_with(|| scheme.parse(&spell(scheme, self.raw)))
            .as_ref()
    }
}

fn match_package(
    db: &Database,
    package: &Package,
    query: &Query,
    findings: &mut Vec<Finding>,
    notes: &mut Vec<MatchNote>,
) -> Result<(), VulnError> {
    let mut versions = ParsedVersions {
        raw: &query.version,
        parsed: HashMap::new(),
    };
    if let Err(e) = versions.get(query.scheme) {
        notes.push(MatchNote::InvalidVersion {
            package: package.name.clone(),
            version: package.version.clone(),
            ecosystem: query.ecosystems[0].clone(),
            reason: e.to_string(),
        });
        return Ok(());
    }

    // Collect the records of every ecosystem looked up, once per id.
    let mut records = BTreeMap::new();
    for ecosystem in &query.ecosystems {
        for record in db.advisories_for_package(ecosystem, &query.name)? {
            records.entry(record.id.clone()).or_insert(record);
        }
    }
    let mut skipped = Vec::new();
    let candidates: Vec<Candidate> = records
        .into_values()
        .filter_map(|record| match_record(record, query, &mut versions, &mut skipped))
        .collect();
    notes.extend(
        skipped
            .into_iter()
            .map(|(advisory, reason)| MatchNote::RangeSkipped {
                advisory,
                package: package.name.clone(),
                reason,
            }),
    );
    debug!(
        package = %package.name,
        version = %package.version,
        candidates = candidates.len(),
        "matched package"
    );
    findings.extend(
        merge_aliases(candidates)
            .into_iter()
            .map(|group| group.into_finding(package, query)),
    );
    Ok(())
}

/// A record that affects the package, before alias merging.
struct Candidate {
    record: OsvRecord,
    ecosystem: String,
    range: String,
    fixed_versions: Vec<String>,
    /// 2 when the interval ends in `fixed`, 1 in `last_affected`, 0 when open or listed.
    specificity: u8,
    assessment: Assessment,
}

/// Matches one record; ranges whose versions do not parse are added to `skipped` as
/// `(advisory id, reason)` and do not match.
fn match_record(
    record: OsvRecord,
    query: &Query,
    versions: &mut ParsedVersions<'_>,
    skipped: &mut Vec<(String, String)>,
) -> Option<Candidate> {
    let mut hits: Vec<(RangeHit, &str)> = Vec::new();
    let mut listed_in: Option<&str> = None;
    let mut package_scores = Vec::new();
    for affected in &record.affected {
        let Some(package) = &affected.package else {
            continue;
        };
        let ecosystem = package.ecosystem.as_str();
        if !query.ecosystems.iter().any(|e| e == ecosystem)
            || index_name(ecosystem, &package.name) != query.name
        {
            continue;
        }
        let before = hits.len();
        for (i, range) in affected.ranges.iter().enumerate() {
            match evaluate_range(&record.id, i, range, ecosystem, versions) {
                Ok(Some(hit)) => hits.push((hit, ecosystem)),
                Ok(None) => {}
                Err(reason) => skipped.push((record.id.clone(), reason)),
            }
        }
        let listed = is_listed(affected, query, versions);
        if listed && listed_in.is_none() {
            listed_in = Some(ecosystem);
        }
        if hits.len() > before || listed {
            package_scores.extend(affected.severity.iter());
        }
    }

    let (range, ecosystem) = match (hits.first(), listed_in) {
        (Some((hit, ecosystem)), _) => (hit.description.clone(), (*ecosystem).to_owned()),
        (None, Some(ecosystem)) => ("listed in versions".to_owned(), ecosystem.to_owned()),
        (None, None) => return None,
    };
    let (fixed_versions, specificity) = summarize_hits(&hits);
    let assessment = severity::assess(
        &package_scores,
        &record.severity,
        record.database_specific.as_ref(),
    );
    Some(Candidate {
        record,
        ecosystem,
        range,
        fixed_versions,
        specificity,
        assessment,
    })
}

/// Collects the distinct fixed versions of the matching ranges and the merge rule's
/// specificity: 2 when a range ends in `fixed`, 1 in `last_affected`, else 0.
fn summarize_hits(hits: &[(RangeHit, &str)]) -> (Vec<String>, u8) {
    let mut fixed_versions: Vec<String> = Vec::new();
    let mut specificity = 0;
    for (hit, _) in hits {
        if let Some(fixed) = &hit.fixed {
            specificity = 2;
            if !fixed_versions.contains(fixed) {
                fixed_versions.push(fixed.clone());
            }
        } else if hit.last_affected.is_some() {
            specificity = specificity.max(1);
        }
    }
    (fixed_versions, specificity)
}

/// Evaluates one range. `Ok(None)` when it does not apply or cannot apply (a `GIT` range, an
/// ecosystem without a scheme); `Err` with the reason when a version in the range is invalid.
fn evaluate_range(
    id: &str,
    index: usize,
    range: &crate::osv::Range,
    ecosystem: &str,
    versions: &mut ParsedVersions<'_>,
) -> Result<Option<RangeHit>, String> {
    let scheme = match range.kind {
        RangeKind::Git => return Ok(None),
        RangeKind::Semver => Scheme::Semver,
        RangeKind::Ecosystem => {
            let Some(scheme) = Scheme::for_ecosystem(ecosystem) else {
                debug!(
                    advisory = id,
                    range = index,
                    ecosystem,
                    "no version scheme; range skipped"
                );
                return Ok(None);
            };
            scheme
        }
    };
    let version = match versions.get(scheme) {
        Ok(version) => version,
        Err(e) => {
            debug!(advisory = id, range = index, error = %e, "package version invalid for range");
            return Ok(None);
        }
    };
    let result = range::evaluate(
        &range.events,
        version,
        |s| scheme.parse(&spell(scheme, s)),
        Version::compare,
    );
    result.map_err(|e| {
        debug!(advisory = id, range = index, error = %e, "range version invalid; range skipped");
        format!("range {index}: {e}")
    })
}

/// Whether the version is in the entry's `versions` list: equal as text, or equal under the
/// package's scheme (PEP 440 `1.0` equals `1.0.0`).
fn is_listed(affected: &Affected, query: &Query, versions: &mut ParsedVersions<'_>) -> bool {
    if affected.versions.is_empty() {
        return false;
    }
    let spelled = spell(query.scheme, &query.version);
    if affected
        .versions
        .iter()
        .any(|v| spell(query.scheme, v) == spelled)
    {
        return true;
    }
    let Ok(version) = versions.get(query.scheme) else {
        return false;
    };
    affected.versions.iter().any(|listed| {
        query
            .scheme
            .parse(&spell(query.scheme, listed))
            .and_then(|listed| version.compare(&listed))
            .is_ok_and(std::cmp::Ordering::is_eq)
    })
}

/// Records describing one vulnerability: the one kept and the ones merged into it, in merge
/// order.
struct Group {
    primary: Candidate,
    others: Vec<Candidate>,
}

/// Groups candidates that share an id or alias and orders each group by the merge rule.
fn merge_aliases(candidates: Vec<Candidate>) -> Vec<Group> {
    // Union-find over candidates, joined by any shared identifier.
    let mut parent: Vec<usize> = (0..candidates.len()).collect();
    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (i, candidate) in candidates.iter().enumerate() {
        let record = &candidate.record;
        for identifier in std::iter::once(&record.id).chain(&record.aliases) {
            match owner.get(identifier.as_str()) {
                Some(&j) => {
                    let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                    parent[a] = b;
                }
                None => {
                    owner.insert(identifier, i);
                }
            }
        }
    }
    let roots: Vec<usize> = (0..candidates.len())
        .map(|i| root(&mut parent, i))
        .collect();

    let mut groups: BTreeMap<usize, Vec<Candidate>> = BTreeMap::new();
    for (candidate, group) in candidates.into_iter().zip(roots) {
        groups.entry(group).or_default().push(candidate);
    }
    groups
        .into_values()
        .filter_map(|mut members| {
            members.sort_by(|a, b| {
                b.specificity
                    .cmp(&a.specificity)
                    .then_with(|| {
                        b.assessment
                            .cvss
                            .is_some()
                            .cmp(&a.assessment.cvss.is_some())
                    })
                    .then_with(|| a.record.id.cmp(&b.record.id))
            });
            if members.len() > 1 {
                debug!(
                    primary = %members[0].record.id,
                    merged = ?members[1..].iter().map(|m| &m.record.id).collect::<Vec<_>>(),
                    "merged aliased advisories"
                );
            }
            let mut members = members.into_iter();
            let primary = members.next()?;
            Some(Group {
                primary,
                others: members.collect(),
            })
        })
        .collect()
}

/// Writes fixed versions the way the catalog writes the package's version. Go module versions
/// get back the `v` that OSV records leave out, so `v0.6.0` is fixed in `v0.7.0`.
fn respell_fixed(package: &Package, fixed: Vec<String>) -> Vec<String> {
    if package.kind != PackageKind::GoModule || !package.version.starts_with('v') {
        return fixed;
    }
    fixed
        .into_iter()
        .map(|v| {
            if v.starts_with('v') {
                v
            } else {
                format!("v{v}")
            }
        })
        .collect()
}

/// Finds the representative of `i`'s set in a union-find forest, halving paths on the way.
fn root(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

impl Group {
    fn into_finding(self, package: &Package, query: &Query) -> Finding {
        let Group { primary, others } = self;
        let merged_ids: Vec<String> = others.iter().map(|m| m.record.id.clone()).collect();
        let aliases: BTreeSet<String> = primary
            .record
            .aliases
            .iter()
            .chain(others.iter().flat_map(|m| &m.record.aliases))
            .chain(&merged_ids)
            .filter(|a| **a != primary.record.id)
            .cloned()
            .collect();
        let assessment = if primary.assessment.severity == Severity::Unknown {
            others
                .iter()
                .map(|m| &m.assessment)
                .find(|a| a.severity != Severity::Unknown)
                .unwrap_or(&primary.assessment)
                .clone()
        } else {
            primary.assessment.clone()
        };
        let record = primary.record;
        Finding {
            advisory: AdvisoryRef {
                id: record.id,
                aliases: aliases.into_iter().collect(),
                merged_ids,
                summary: record.summary,
                severity: assessment.severity,
                cvss: assessment.cvss,
                fixed_versions: respell_fixed(package, primary.fixed_versions),
                published: record.published,
                modified: record.modified,
                references: record.references,
            },
            package: PackageRef {
                name: package.name.clone(),
                version: package.version.clone(),
                ecosystem: query.ecosystems[0].clone(),
                purl: package.purl.to_string(),
                locations: package.locations.clone(),
                kind: package.kind,
            },
            matched: MatchDetail {
                ecosystem: primary.ecosystem,
                name: query.name.clone(),
                version: query.version.clone(),
                range: primary.range,
            },
        }
    }
}
