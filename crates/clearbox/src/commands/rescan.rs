//! `clearbox rescan`: match every SBOM kept in the audit store against the current advisory
//! database, and report the findings no earlier rescan reported.

use std::collections::BTreeSet;
use std::io::Write;

use anyhow::Context;
use chrono::{SecondsFormat, Utc};
use clearbox_audit::{KnownFinding, Store, StoredSbom};
use clearbox_vuln::{Finding, Severity, match_catalog_with_notes};
use serde_json::json;

use crate::Outcome;
use crate::cli::RescanArgs;
use crate::commands::audit::{open_store, require_existing, store_argument, store_url};
use crate::commands::db::open_existing;
use crate::output::{notice, status};

pub(crate) fn run(args: &RescanArgs) -> anyhow::Result<Outcome> {
    let fail_on: Option<Severity> = args
        .fail_on
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let database = open_existing(args.db.as_deref())?;
    let advisories = database.status()?.advisories;
    // A rescan reads the store, so a mistyped path must not create an empty one that passes.
    let argument = args.store.clone().or_else(store_argument);
    require_existing(argument.as_deref())?;
    let store = match &args.store {
        Some(url) => store_url(Some(url))
            .map(|url| Store::open(&url))
            .transpose()?,
        None => open_store()?,
    };
    let Some(mut store) = store else {
        anyhow::bail!(
            "rescan reads the SBOMs kept in the audit store, which `none` turns off; give the \
             store's URL with --store"
        );
    };
    // Only the digests are listed up front. Each SBOM is read when its turn comes, so one
    // document at a time is in memory, whatever the size of the store.
    let digests = store.sbom_digests(args.shard)?;

    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut out = std::io::stdout().lock();
    let mut new_total = 0usize;
    let mut failing = 0usize;
    let mut unreadable = 0usize;
    for digest in &digests {
        // `None`: the SBOM was removed from the store after the digests were listed.
        let Some(stored) = store.sbom(digest)? else {
            continue;
        };
        let catalog = match clearbox_sbom::read_sbom(stored.sbom.as_bytes()) {
            Ok((_, catalog)) => catalog,
            Err(error) => {
                notice(&format!(
                    "warning: the stored SBOM of {} cannot be read, so it was not rescanned: \
                     {error}",
                    stored.digest
                ));
                unreadable += 1;
                continue;
            }
        };
        let outcome = match_catalog_with_notes(&database, &catalog)?;

        let (new, gated) = report_new_findings(
            &mut store,
            &stored,
            &outcome.findings,
            fail_on,
            &now,
            &mut out,
        )?;
        failing += gated;
        new_total += new;
    }

    status(&format!(
        "rescanned {} stored images against {advisories} advisories: {new_total} new findings",
        digests.len() - unreadable
    ));
    // A gate cannot pass on images it could not check.
    if unreadable > 0 && fail_on.is_some() {
        notice(&format!(
            "{unreadable} stored SBOMs could not be read (see the warnings above), so --fail-on \
             cannot vouch for their images; store them again with `clearbox scan IMAGE`"
        ));
        return Ok(Outcome::GateFailed);
    }
    if failing > 0 {
        notice(&format!(
            "{failing} new findings are at or above --fail-on {} (or of unknown severity)",
            args.fail_on.as_deref().unwrap_or_default()
        ));
        return Ok(Outcome::GateFailed);
    }
    Ok(Outcome::Success)
}

/// Prints the vulnerable findings that no earlier rescan reported for `stored` as JSON lines
/// and records them in the store in one transaction. Returns how many were new and how many of
/// those meet `fail_on`.
fn report_new_findings(
    store: &mut Store,
    stored: &StoredSbom,
    findings: &[Finding],
    fail_on: Option<Severity>,
    now: &str,
    out: &mut impl Write,
) -> anyhow::Result<(usize, usize)> {
    let known = store.known_findings(&stored.digest)?;
    let mut seen = BTreeSet::new();
    let mut failing = 0;
    let mut reported = 0;
    let mut new = Vec::new();
    for finding in findings.iter().filter(|f| f.status.is_vulnerable()) {
        let key = (finding.advisory.id.clone(), finding.package.purl.clone());
        if known.contains(&key) || !seen.insert(key) {
            continue;
        }
        let severity = finding.advisory.severity;
        let gated =
            fail_on.is_some_and(|threshold| severity >= threshold || severity == Severity::Unknown);
        if gated {
            failing += 1;
        }
        let line = json!({
            "digest": stored.digest,
            "reference": stored.reference,
            "advisory": finding.advisory.id,
            "aliases": finding.advisory.aliases,
            "package": finding.package.purl,
            "name": finding.package.name,
            "version": finding.package.version,
            "severity": severity.name(),
            "fixed_versions": finding.advisory.fixed_versions,
        });
        writeln!(out, "{line}").context("failed to write to stdout")?;
        reported += 1;
        // A finding that fails the gate is not remembered, so that a retried job reports it
        // and fails again until it is fixed or a VEX statement suppresses it.
        if gated {
            continue;
        }
        new.push(KnownFinding {
            digest: stored.digest.clone(),
            advisory: finding.advisory.id.clone(),
            package: finding.package.purl.clone(),
            aliases: finding.advisory.aliases.clone(),
            first_seen: now.to_owned(),
        });
    }
    store.add_findings(&new)?;
    Ok((reported, failing))
}
