//! Matching a catalog's packages against the advisory database.
//!
//! The `ecosystem` module decides which ecosystems and names each package is looked up under.
//! A version is affected when it is listed in an entry's `versions` or lies in one of its
//! ranges (see the `range` module). `SEMVER` ranges are compared with the SemVer scheme after
//! removing a leading `v`. `ECOSYSTEM` ranges use the ecosystem's scheme from
//! [`Scheme::for_ecosystem`]. `GIT` ranges are skipped because they need the repository's
//! history. A range whose versions do not parse is skipped and reported as
//! [`MatchNote::RangeSkipped`]; a package version that does not parse is reported as
//! [`MatchNote::InvalidVersion`] and not matched.
//!
//! Matching reads the compact form of each record that the database stores per package (see
//! the `compact` module) and never parses whole records.
//!
//! Distribution states: an affected entry that states the package is not affected or will not
//! be fixed (see the `status` module) gives a finding with that status instead of
//! `affected`. An entry with such a state and no ranges or versions (Alpine secdb's version-`0`
//! entries) applies to every version.
//!
//! Merge rule: one finding per advisory id and package. When several matching records describe
//! one vulnerability (one lists the other's id in `aliases`, or both list a common alias such
//! as a CVE id; OSV aliases are symmetric and transitive), the finding keeps one record:
//! the one whose matching interval ends in a `fixed` version, then one ending in
//! `last_affected`, then one with a CVSS vector, then the smallest id. The other ids go to
//! `aliases` and `merged_ids`. When the kept record has no severity, the severity of the next
//! record in that order that has one is used. The merged finding is `affected` when any of its
//! records says so, since one source's statement does not cancel another's.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use clearbox_catalog::{Catalog, Package, PackageKind};
use clearbox_version::{Scheme, Version, VersionError};
use tracing::{debug, info, warn};

use crate::compact::{MatchEntry, ReportFields, Text};
use crate::ecosystem::{self, Lookup, NoLookup};
use crate::error::VulnError;
use crate::finding::{
    AdvisoryRef, Finding, FindingStatus, MatchDetail, MatchNote, MatchOutcome, PackageRef,
};
use crate::osv::{RangeKind, SeverityScore};
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
    // One read transaction for the whole match: every lookup sees the same database state
    // while an import commits, and SQLite takes its file locks once instead of per lookup.
    // Nothing is written, so dropping it at the end only releases the locks.
    let _snapshot = db.conn.unchecked_transaction()?;

    // Decide what to look up for each package, then match, then sort.
    let (lookups, mut notes) = plan(db, catalog)?;
    info!(
        packages = catalog.packages.len(),
        matchable = lookups.len(),
        "matching packages against advisories"
    );
    let mut findings = Vec::new();
    let mut cache = HashMap::new();
    for (package, lookup) in &lookups {
        match_package(db, package, lookup, &mut cache, &mut findings, &mut notes)?;
    }
    findings.sort_by(|a, b| {
        a.status
            .cmp(&b.status)
            .then_with(|| b.advisory.severity.cmp(&a.advisory.severity))
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
    Ok(MatchOutcome {
        findings,
        notes,
        suppressed: Vec::new(),
    })
}

type Plan<'a> = (Vec<(&'a Package, Lookup)>, Vec<MatchNote>);

fn plan<'a>(db: &Database, catalog: &'a Catalog) -> Result<Plan<'a>, VulnError> {
    // OS ecosystems come from the distribution; Red Hat and SUSE need the stored names.
    let os = match &catalog.distro {
        Some(distro) => {
            let stored = if matches!(distro.id.as_str(), "rhel" | "sles" | "sles_sap" | "sled") {
                db.ecosystems()?
            } else {
                Vec::new()
            };
            Some(ecosystem::os_ecosystems(distro, &stored))
        }
        None => None,
    };

    let mut lookups = Vec::new();
    let mut skipped: BTreeMap<NoLookupKey, usize> = BTreeMap::new();
    let mut schemeless: BTreeMap<String, usize> = BTreeMap::new();
    for package in &catalog.packages {
        match ecosystem::lookup(package, os.as_ref()) {
            Ok(lookup) => {
                if lookup.scheme.is_none() {
                    *schemeless.entry(lookup.ecosystems[0].clone()).or_default() += 1;
                }
                lookups.push((package, lookup));
            }
            Err(reason) => *skipped.entry(NoLookupKey(reason)).or_default() += 1,
        }
    }

    let mut notes: Vec<MatchNote> = skipped
        .into_iter()
        .map(|(NoLookupKey(reason), packages)| match reason {
            NoLookup::Model => MatchNote::ModelsNotMatched { packages },
            NoLookup::UnownedFile => MatchNote::FilesNotMatched { packages },
            NoLookup::NoDistro => MatchNote::NoDistro { packages },
            NoLookup::UnsupportedDistro(distro) => {
                MatchNote::UnsupportedDistro { distro, packages }
            }
            NoLookup::NoDistroVersion(distro) => MatchNote::NoDistroVersion { distro, packages },
            NoLookup::UnsupportedType(purl_type) => MatchNote::UnsupportedPurlType {
                purl_type,
                packages,
            },
        })
        .collect();
    notes.extend(
        schemeless
            .into_iter()
            .map(|(ecosystem, packages)| MatchNote::NoVersionScheme {
                ecosystem,
                packages,
            }),
    );
    Ok((lookups, notes))
}

/// Orders [`NoLookup`] reasons for grouping.
#[derive(PartialEq, Eq)]
struct NoLookupKey(NoLookup);

impl NoLookupKey {
    fn rank(&self) -> (u8, &str) {
        match &self.0 {
            NoLookup::Model => (4, ""),
            NoLookup::UnownedFile => (5, ""),
            NoLookup::NoDistro => (0, ""),
            NoLookup::UnsupportedDistro(d) => (1, d),
            NoLookup::NoDistroVersion(d) => (2, d),
            NoLookup::UnsupportedType(t) => (3, t),
        }
    }
}

impl PartialOrd for NoLookupKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for NoLookupKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank().cmp(&other.rank())
    }
}

fn strip_v(version: &str) -> &str {
    version.strip_prefix('v').unwrap_or(version)
}

/// A version written the way `scheme` parses it: SemVer without `v`, Go with `v`.
pub(crate) fn spell(scheme: Scheme, version: &str) -> Cow<'_, str> {
    match scheme {
        Scheme::Semver => Cow::Borrowed(strip_v(version)),
        Scheme::Go if !version.starts_with('v') => Cow::Owned(format!("v{version}")),
        _ => Cow::Borrowed(version),
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

/// Candidates per lookup, so packages that share a source package (the binaries of one
/// Debian source) are matched once.
type Cache = HashMap<(Vec<String>, Vec<String>, String), Vec<Candidate>>;

fn match_package(
    db: &Database,
    package: &Package,
    lookup: &Lookup,
    cache: &mut Cache,
    findings: &mut Vec<Finding>,
    notes: &mut Vec<MatchNote>,
) -> Result<(), VulnError> {
    let mut versions = ParsedVersions {
        raw: &lookup.version,
        parsed: HashMap::new(),
    };
    if let Some(scheme) = lookup.scheme
        && let Err(e) = versions.get(scheme)
    {
        notes.push(MatchNote::InvalidVersion {
            package: package.name.clone(),
            version: package.version.clone(),
            ecosystem: lookup.ecosystems[0].clone(),
            reason: e.to_string(),
        });
        return Ok(());
    }

    let key = (
        lookup.ecosystems.clone(),
        lookup.names.clone(),
        lookup.version.clone(),
    );
    if !cache.contains_key(&key) {
        let candidates = find_candidates(db, package, lookup, &mut versions, notes)?;
        cache.insert(key.clone(), candidates);
    }
    let candidates = &cache[&key];
    debug!(
        package = %package.name,
        version = %package.version,
        candidates = candidates.len(),
        "matched package"
    );
    findings.extend(
        merge_aliases(candidates)
            .into_iter()
            .map(|group| group.to_finding(package, lookup)),
    );
    Ok(())
}

/// The stored rows of one advisory for one lookup.
struct StoredAdvisory<'l> {
    /// [`ReportFields`] as JSON.
    report: String,
    /// The entries of each package row (a JSON array of [`MatchEntry`]) with the row's
    /// ecosystem.
    rows: Vec<(&'l str, String)>,
}

/// Reads the package rows of every ecosystem and name looked up, groups them by advisory id,
/// and keeps the advisories that affect the version.
fn find_candidates(
    db: &Database,
    package: &Package,
    lookup: &Lookup,
    versions: &mut ParsedVersions<'_>,
    notes: &mut Vec<MatchNote>,
) -> Result<Vec<Candidate>, VulnError> {
    let mut advisories: BTreeMap<String, StoredAdvisory<'_>> = BTreeMap::new();
    let mut queried = HashSet::new();
    for ecosystem in &lookup.ecosystems {
        for name in &lookup.names {
            let name = index_name(ecosystem, name);
            if !queried.insert((ecosystem.as_str(), name.clone())) {
                continue;
            }
            for row in db.package_rows(ecosystem, &name)? {
                let report = row.report;
                advisories
                    .entry(row.advisory_id)
                    .or_insert_with(|| StoredAdvisory {
                        report,
                        rows: Vec::new(),
                    })
                    .rows
                    .push((ecosystem, row.entries));
            }
        }
    }
    let mut skipped = Vec::new();
    let mut candidates = Vec::new();
    for (id, advisory) in advisories {
        if let Some(candidate) = match_advisory(id, &advisory, lookup, versions, &mut skipped)? {
            candidates.push(candidate);
        }
    }
    notes.extend(
        skipped
            .into_iter()
            .map(|(advisory, reason)| MatchNote::RangeSkipped {
                advisory,
                package: package.name.clone(),
                purl: package.purl.to_string(),
                reason,
            }),
    );
    Ok(candidates)
}

/// An advisory that affects the package, before alias merging.
struct Candidate {
    id: String,
    report: ReportFields,
    ecosystem: String,
    range: String,
    fixed_versions: Vec<String>,
    /// 2 when the interval ends in `fixed`, 1 in `last_affected`, 0 when open or listed.
    specificity: u8,
    assessment: Assessment,
    /// The distribution's statement, when the matching entry has one.
    status: Option<(FindingStatus, String)>,
}

/// What matched in one advisory's entries.
#[derive(Default)]
struct EntryHits<'e> {
    hits: Vec<(RangeHit, &'e str)>,
    listed_in: Option<&'e str>,
    /// An entry with a distribution status and nothing to evaluate.
    stated_in: Option<&'e str>,
    status: Option<(FindingStatus, String)>,
    package_scores: Vec<&'e SeverityScore>,
}

/// Matches one advisory; ranges whose versions do not parse are added to `skipped` as
/// `(advisory id, reason)` and do not match. The report fields are parsed only for a match.
fn match_advisory(
    id: String,
    advisory: &StoredAdvisory<'_>,
    lookup: &Lookup,
    versions: &mut ParsedVersions<'_>,
    skipped: &mut Vec<(String, String)>,
) -> Result<Option<Candidate>, VulnError> {
    let corrupt = |source| VulnError::CorruptRecord {
        id: id.clone(),
        source,
    };

    // Parse the entries of every row and put them back in record order.
    let mut entries: Vec<(&str, MatchEntry<'_>)> = Vec::new();
    for (ecosystem, text) in &advisory.rows {
        let parsed: Vec<MatchEntry<'_>> = serde_json::from_str(text).map_err(corrupt)?;
        entries.extend(parsed.into_iter().map(|entry| (*ecosystem, entry)));
    }
    entries.sort_by_key(|(_, entry)| entry.index);

    let found = match_entries(&id, &entries, lookup, versions, skipped);
    let (range, ecosystem) = match (found.hits.first(), found.listed_in, found.stated_in) {
        (Some((hit, ecosystem)), _, _) => (hit.description.clone(), (*ecosystem).to_owned()),
        (None, Some(ecosystem), _) => ("listed in versions".to_owned(), ecosystem.to_owned()),
        (None, None, Some(ecosystem)) => ("every version".to_owned(), ecosystem.to_owned()),
        (None, None, None) => return Ok(None),
    };
    let (fixed_versions, specificity) = summarize_hits(&found.hits);
    let report: ReportFields = serde_json::from_str(&advisory.report).map_err(corrupt)?;
    let assessment = severity::assess_with_label(
        &found.package_scores,
        &report.severity,
        report.severity_label.as_deref(),
    );
    Ok(Some(Candidate {
        id,
        report,
        ecosystem,
        range,
        fixed_versions,
        specificity,
        assessment,
        status: found.status,
    }))
}

/// Evaluates the entries of one advisory in record order.
fn match_entries<'e>(
    id: &str,
    entries: &'e [(&'e str, MatchEntry<'e>)],
    lookup: &Lookup,
    versions: &mut ParsedVersions<'_>,
    skipped: &mut Vec<(String, String)>,
) -> EntryHits<'e> {
    let mut found = EntryHits::default();
    for (ecosystem, entry) in entries {
        let before = found.hits.len();
        for (i, range) in entry.ranges.iter().enumerate() {
            match evaluate_range(id, i, range, ecosystem, versions) {
                Ok(Some(hit)) => found.hits.push((hit, ecosystem)),
                Ok(None) => {}
                Err(reason) => skipped.push((id.to_owned(), reason)),
            }
        }
        // A range hit already decides the entry; comparing every listed version is the
        // costliest step of matching (PyPI entries list hundreds).
        let listed = found.hits.len() == before && is_listed(&entry.versions, lookup, versions);
        if listed && found.listed_in.is_none() {
            found.listed_in = Some(ecosystem);
        }
        let stated = entry.status.is_some() && entry.ranges.is_empty() && entry.versions.is_empty();
        if stated && found.stated_in.is_none() {
            found.stated_in = Some(ecosystem);
        }
        if found.hits.len() > before || listed || stated {
            found.package_scores.extend(entry.severity.iter());
            if found.status.is_none() {
                found.status.clone_from(&entry.status);
            }
        }
    }
    found
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

/// Whether the version is in an entry's `versions` list: equal as text, or equal under the
/// package's scheme (PEP 440 `1.0` equals `1.0.0`).
fn is_listed(listed: &[Text<'_>], lookup: &Lookup, versions: &mut ParsedVersions<'_>) -> bool {
    if listed.is_empty() {
        return false;
    }
    let Some(scheme) = lookup.scheme else {
        return listed.iter().any(|v| **v == lookup.version);
    };
    let spelled = spell(scheme, &lookup.version);
    if listed.iter().any(|v| spell(scheme, v) == spelled) {
        return true;
    }
    let Ok(version) = versions.get(scheme) else {
        return false;
    };
    listed.iter().any(|listed| {
        scheme
            .parse(&spell(scheme, listed))
            .and_then(|listed| version.compare(&listed))
            .is_ok_and(std::cmp::Ordering::is_eq)
    })
}

/// Records describing one vulnerability: the one kept and the ones merged into it, in merge
/// order.
struct Group<'c> {
    primary: &'c Candidate,
    others: Vec<&'c Candidate>,
}

/// Groups candidates that share an id or alias and orders each group by the merge rule.
fn merge_aliases(candidates: &[Candidate]) -> Vec<Group<'_>> {
    // Union-find over candidates, joined by any shared identifier.
    let mut parent: Vec<usize> = (0..candidates.len()).collect();
    let mut owner: HashMap<&str, usize> = HashMap::new();
    for (i, candidate) in candidates.iter().enumerate() {
        for identifier in std::iter::once(&candidate.id).chain(&candidate.report.aliases) {
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

    let mut groups: BTreeMap<usize, Vec<&Candidate>> = BTreeMap::new();
    for (candidate, group) in candidates.iter().zip(roots) {
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
                    .then_with(|| a.id.cmp(&b.id))
            });
            if members.len() > 1 {
                debug!(
                    primary = %members[0].id,
                    merged = ?members[1..].iter().map(|m| &m.id).collect::<Vec<_>>(),
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

impl Group<'_> {
    /// Builds the finding, copying the fields it reports from the records.
    fn to_finding(&self, package: &Package, lookup: &Lookup) -> Finding {
        let Group { primary, others } = self;
        // Affected when any member says so; otherwise the kept record's statement.
        let (status, status_reason) =
            if primary.status.is_none() || others.iter().any(|m| m.status.is_none()) {
                (FindingStatus::Affected, None)
            } else {
                primary
                    .status
                    .clone()
                    .map_or((FindingStatus::Affected, None), |(s, r)| (s, Some(r)))
            };
        let merged_ids: Vec<String> = others.iter().map(|m| m.id.clone()).collect();
        let aliases: BTreeSet<String> = primary
            .report
            .aliases
            .iter()
            .chain(others.iter().flat_map(|m| &m.report.aliases))
            .chain(&merged_ids)
            .filter(|a| **a != primary.id)
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
        let record = &primary.report;
        Finding {
            advisory: AdvisoryRef {
                id: primary.id.clone(),
                aliases: aliases.into_iter().collect(),
                merged_ids,
                summary: record.summary.clone(),
                severity: assessment.severity,
                cvss: assessment.cvss,
                fixed_versions: respell_fixed(package, primary.fixed_versions.clone()),
                published: record.published.clone(),
                modified: record.modified.clone(),
                references: record.references.clone(),
            },
            package: PackageRef {
                name: package.name.clone(),
                version: package.version.clone(),
                ecosystem: lookup.ecosystems[0].clone(),
                purl: package.purl.to_string(),
                locations: package.locations.clone(),
                kind: package.kind,
            },
            matched: MatchDetail {
                ecosystem: primary.ecosystem.clone(),
                name: lookup.names[0].clone(),
                version: lookup.version.clone(),
                range: primary.range.clone(),
            },
            status,
            status_reason,
        }
    }
}
