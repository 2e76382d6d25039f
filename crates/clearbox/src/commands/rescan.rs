//! `clearbox rescan`: match every SBOM kept in the audit store against the current advisory
//! database, and report the findings no earlier rescan reported.

use std::collections::BTreeSet;
use std::io::Write as _;

use anyhow::Context;
use chrono::{SecondsFormat, Utc};
use clearbox_audit::{KnownFinding, Store};
use clearbox_vuln::{Severity, match_catalog_with_notes};
use serde_json::json;

use crate::Outcome;
use crate::cli::RescanArgs;
use crate::commands::audit::{open_store, store_url};
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
    let sboms = store.sboms(args.shard)?;

    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut out = std::io::stdout().lock();
    let mut new_total = 0usize;
    let mut failing = 0usize;
    for stored in &sboms {
        let catalog = match clearbox_sbom::read_sbom(stored.sbom.as_bytes()) {
            Ok((_, catalog)) => catalog,
            Err(error) => {
                notice(&format!(
                    "warning: the stored SBOM of {} cannot be read, so it was not rescanned: \
                     {error}",
                    stored.digest
                ));
                continue;
            }
        };
        let outcome = match_catalog_with_notes(&database, &catalog)?;

        let known = store.known_findings(&stored.digest)?;
        let mut seen = BTreeSet::new();
        let mut new = Vec::new();
        for finding in outcome.findings.iter().filter(|f| f.status.is_vulnerable()) {
            let key = (finding.advisory.id.clone(), finding.package.purl.clone());
            if known.contains(&key) || !seen.insert(key) {
                continue;
            }
            let severity = finding.advisory.severity;
            if fail_on
                .is_some_and(|threshold| severity >= threshold || severity == Severity::Unknown)
            {
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
            new.push(KnownFinding {
                digest: stored.digest.clone(),
                advisory: finding.advisory.id.clone(),
                package: finding.package.purl.clone(),
                aliases: finding.advisory.aliases.clone(),
                first_seen: now.clone(),
            });
        }
        store.add_findings(&new)?;
        new_total += new.len();
    }

    status(&format!(
        "rescanned {} stored images against {advisories} advisories: {new_total} new findings",
        sboms.len()
    ));
    if failing > 0 {
        notice(&format!(
            "{failing} new findings are at or above --fail-on {} (or of unknown severity)",
            args.fail_on.as_deref().unwrap_or_default()
        ));
        return Ok(Outcome::GateFailed);
    }
    Ok(Outcome::Success)
}
