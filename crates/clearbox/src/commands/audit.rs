//! The audit store: a record appended after every sign, attest (`attest`, `model-attest`,
//! `provenance --attest`) and evidence run, and the `audit` commands that check, seal and export
//! it (`clearbox-audit` has the format).

use std::io::Write as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::Context;
use clearbox_audit::{Event, Store, verify_segment};

use crate::Outcome;
use crate::cli::{AuditCommand, Cli, Command};
use crate::commands::sign::{public_key, signing_key};
use crate::output::{notice, status, write_output};

/// The image digest the running command worked on, for its audit record.
static DIGEST: Mutex<Option<String>> = Mutex::new(None);

/// The `--audit-store` argument, for commands that keep SBOMs in the store.
static STORE_ARGUMENT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

/// Remembers the `--audit-store` argument for [`keep_sbom`].
pub(crate) fn set_store_argument(argument: Option<&str>) {
    let _ = STORE_ARGUMENT.set(argument.map(str::to_owned));
}

/// Returns the `--audit-store` argument, `None` when it was not given.
pub(crate) fn store_argument() -> Option<String> {
    STORE_ARGUMENT.get().cloned().flatten()
}

/// Fails when the SQLite store that `argument` names does not exist, so that reading commands
/// never create the store a mistyped path names.
pub(crate) fn require_existing(argument: Option<&str>) -> anyhow::Result<()> {
    if let Some(url) = store_url(argument) {
        let path = url.strip_prefix("sqlite://").unwrap_or(&url);
        if !url.starts_with("postgres") && !std::path::Path::new(path).exists() {
            anyhow::bail!(
                "there is no audit store at `{path}`; check the path, or the default \
                 $XDG_STATE_HOME/clearbox/audit.db when --audit-store is not given"
            );
        }
    }
    Ok(())
}

/// Opens the audit store the command line names, `None` when it is turned off.
pub(crate) fn open_store() -> anyhow::Result<Option<Store>> {
    let argument = STORE_ARGUMENT.get().cloned().flatten();
    let Some(url) = store_url(argument.as_deref()) else {
        return Ok(None);
    };
    Ok(Some(Store::open(&url)?))
}

/// Keeps an image's CycloneDX SBOM in the audit store for `clearbox rescan`. A failure is a
/// warning and leaves the command's own result unchanged.
pub(crate) fn keep_sbom(digest: &str, reference: &str, sbom: &[u8]) {
    let stored = open_store().and_then(|store| {
        let Some(mut store) = store else {
            return Ok(false);
        };
        store.put_sbom(digest, reference, &String::from_utf8_lossy(sbom))?;
        Ok(true)
    });
    match stored {
        Ok(true) => tracing::info!(digest, "stored the SBOM in the audit store for rescans"),
        Ok(false) => {}
        Err(error) => notice(&format!(
            "warning: the SBOM of {digest} was not stored for rescans: {error:#}"
        )),
    }
}

/// Records the manifest digest of the image the command signed, attested or assessed.
pub(crate) fn note_digest(digest: &str) {
    if let Ok(mut slot) = DIGEST.lock() {
        *slot = Some(digest.to_owned());
    }
}

/// Returns the audit store's URL: `--audit-store` or `CLEARBOX_AUDIT_STORE`, else
/// `$XDG_STATE_HOME/clearbox/audit.db` (`~/.local/state` when unset). `None` when it is turned
/// off with `none`, or no home directory is known.
pub(crate) fn store_url(argument: Option<&str>) -> Option<String> {
    match argument {
        Some(url) if url.eq_ignore_ascii_case("none") => None,
        Some(url) => Some(url.to_owned()),
        None => {
            let state = std::env::var_os("XDG_STATE_HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .or_else(|| {
                    std::env::var_os("HOME")
                        .filter(|v| !v.is_empty())
                        .map(|home| PathBuf::from(home).join(".local/state"))
                })?;
            Some(state.join("clearbox/audit.db").display().to_string())
        }
    }
}

/// Returns the user running the command: `$USER`, `$LOGNAME`, or `uid:N`.
fn actor() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| match std::fs::metadata("/proc/self") {
            Ok(meta) => format!("uid:{}", meta.uid()),
            Err(_) => "unknown".to_owned(),
        })
}

/// Appends the audit record of a sign, attest or evidence run, and passes `result` on. When the
/// record cannot be written the command fails with exit code 2, saying that its action itself
/// completed, so that no run goes unrecorded in silence.
pub(crate) fn record(cli: &Cli, result: anyhow::Result<Outcome>) -> anyhow::Result<Outcome> {
    let (kind, image, done) = match &cli.command {
        Command::Sign(args) => ("sign", args.target.image.clone(), "signed"),
        Command::Attest(args) => ("attest", args.target.image.clone(), "attested"),
        Command::ModelAttest(args) if args.output.is_none() => {
            ("attest", args.target.image.clone(), "attested")
        }
        Command::Provenance(args) if args.attest => ("attest", args.image.clone(), "attested"),
        Command::Evidence(args) if args.command.is_none() => (
            "evidence",
            args.image.clone().unwrap_or_default(),
            "written",
        ),
        _ => return result,
    };
    let Some(url) = store_url(cli.audit_store.as_deref()) else {
        return result;
    };
    let (decision, reasons) = match &result {
        Ok(Outcome::Success) => (done.to_owned(), Vec::new()),
        Ok(Outcome::GateFailed) => ("gate-failed".to_owned(), Vec::new()),
        Err(error) => (
            "failed".to_owned(),
            error.chain().map(ToString::to_string).collect(),
        ),
    };
    let event = Event {
        kind: kind.to_owned(),
        actor: actor(),
        image: Some(image),
        digest: DIGEST.lock().ok().and_then(|slot| slot.clone()),
        decision,
        reasons,
        ..Event::default()
    };
    match Store::open(&url).and_then(|mut store| store.append(&event)) {
        Ok(_) => result,
        Err(error) => {
            let action = if result.is_ok() {
                format!("the {kind} run completed")
            } else {
                format!("the {kind} run failed")
            };
            if let Err(original) = &result {
                crate::report_error(original);
            }
            Err(anyhow::Error::new(error).context(format!(
                "{action}, but its audit record could not be written; fix the store or choose \
                 another with --audit-store URL"
            )))
        }
    }
}

pub(crate) fn run(command: &AuditCommand, store: Option<&str>) -> anyhow::Result<Outcome> {
    let open = || -> anyhow::Result<Store> {
        let url = store_url(store).ok_or_else(|| {
            anyhow::anyhow!(
                "no audit store: it is turned off with `none`, or neither XDG_STATE_HOME nor \
                 HOME is set; name one with --audit-store URL"
            )
        })?;
        Ok(Store::open(&url)?)
    };
    let open_existing = || -> anyhow::Result<Store> {
        require_existing(store)?;
        open()
    };
    match command {
        AuditCommand::Verify {
            segment,
            key,
            require_sealed,
            json,
        } => {
            let key = key.as_deref().map(public_key).transpose()?;
            let result = if let Some(path) = segment {
                verify_segment(path, key.as_ref())
                    .with_context(|| format!("failed to verify `{}`", path.display()))?
            } else {
                let mut store = open_existing()?;
                store
                    .verify(key.as_ref())
                    .with_context(|| format!("failed to verify `{}`", store.location()))?
            };
            report_verification(&result, key.as_ref(), *require_sealed, *json)
        }
        AuditCommand::Seal { key } => {
            // A store with no records cannot be sealed, so a mistyped path is not created.
            let mut store = open_existing()?;
            let key = signing_key(key)?;
            let record = store
                .seal(&key, &actor())
                .with_context(|| format!("failed to seal `{}`", store.location()))?;
            status(&format!(
                "sealed `{}` up to record {} with key {}",
                store.location(),
                record.seq - 1,
                key.public_key().fingerprint()
            ));
            Ok(Outcome::Success)
        }
        AuditCommand::Query { advisory, image } => {
            if let Some(digest) = image {
                digest.parse::<clearbox_oci::Digest>().map_err(|e| {
                    anyhow::anyhow!(
                        "{e}; give --image the full manifest digest, as `clearbox verify` prints it"
                    )
                })?;
            }
            let mut store = open_existing()?;
            let value = match (advisory, image) {
                (Some(advisory), _) => query_advisory(&mut store, advisory)?,
                (None, Some(digest)) => serde_json::json!({
                    "image": digest,
                    "records": store.records_for_digest(digest)?,
                }),
                (None, None) => unreachable!("clap requires --advisory or --image"),
            };
            let mut text = serde_json::to_vec_pretty(&value)?;
            text.push(b'\n');
            std::io::stdout()
                .lock()
                .write_all(&text)
                .context("failed to write to stdout")?;
            Ok(Outcome::Success)
        }
        AuditCommand::Export { from, to, output } => {
            let mut store = open_existing()?;
            let mut bytes = Vec::new();
            let count = store
                .export(*from, *to, &mut bytes)
                .with_context(|| format!("failed to export from `{}`", store.location()))?;
            write_output(Some(output), &bytes)?;
            status(&format!(
                "wrote {count} records of `{}` to `{}`",
                store.location(),
                output.display()
            ));
            Ok(Outcome::Success)
        }
    }
}

/// Lists the stored images with a finding of `advisory`, and for each the workloads that
/// admitted it with the first and last time, and every record about it.
fn query_advisory(store: &mut Store, advisory: &str) -> anyhow::Result<serde_json::Value> {
    let findings = store.findings_of(advisory)?;
    let mut images = serde_json::Map::new();
    for finding in &findings {
        let entry = images
            .entry(finding.digest.clone())
            .or_insert_with(|| serde_json::json!({"packages": [], "admitted": {}, "records": []}));
        entry["packages"]
            .as_array_mut()
            .expect("packages is an array")
            .push(serde_json::json!({
                "package": finding.package,
                "advisory": finding.advisory,
                "first_seen": finding.first_seen,
            }));
    }
    for (digest, entry) in &mut images {
        let records = store.records_for_digest(digest)?;
        let mut admitted = serde_json::Map::new();
        for record in records
            .iter()
            .filter(|r| r.kind == "admission" && r.decision == "allowed")
        {
            let workload = record
                .workload
                .clone()
                .unwrap_or_else(|| "unknown".to_owned());
            let span = admitted
                .entry(workload)
                .or_insert_with(|| serde_json::json!({"first": record.time, "last": record.time}));
            span["last"] = serde_json::json!(record.time);
        }
        entry["admitted"] = serde_json::Value::Object(admitted);
        entry["records"] = serde_json::to_value(&records)?;
    }
    Ok(serde_json::json!({"advisory": advisory, "images": images}))
}

/// Prints a verification (as JSON too with `json`) and turns it into the exit outcome: a broken
/// chain fails, and so does a key that seals nothing.
fn report_verification(
    result: &clearbox_audit::Verification,
    key: Option<&clearbox_attest::PublicKey>,
    require_sealed: bool,
    json: bool,
) -> anyhow::Result<Outcome> {
    if json {
        let mut text = serde_json::to_vec_pretty(result)?;
        text.push(b'\n');
        std::io::stdout()
            .lock()
            .write_all(&text)
            .context("failed to write to stdout")?;
    }
    let kind = if result.segment { "segment" } else { "store" };
    if let Some(problem) = &result.problem {
        notice(&format!(
            "audit {kind} `{}`: {} records verified, then {problem}",
            result.location, result.records
        ));
        return Ok(Outcome::GateFailed);
    }
    let other_keys = if result.seals_other_key > 0 {
        format!(
            "; {} seals by other keys not checked",
            result.seals_other_key
        )
    } else {
        String::new()
    };
    if require_sealed && result.sealed_through.is_some() && result.unsealed > 0 {
        notice(&format!(
            "audit {kind} `{}`: the chain of {} records is intact, but the {} records after \
             the last seal (record {}) are not sealed, and --require-sealed asks for a store \
             sealed to its end{other_keys}; records after a seal can be changed or removed \
             unnoticed",
            result.location,
            result.records,
            result.unsealed,
            result.sealed_through.unwrap_or_default()
        ));
        return Ok(Outcome::GateFailed);
    }
    let seals = match (key, result.sealed_through) {
        (Some(_), Some(seq)) => format!(
            "{} seals verified, the last at record {seq}; {} records after it are not sealed yet",
            result.seals_verified, result.unsealed
        ),
        (Some(key), None) => {
            notice(&format!(
                "audit {kind} `{}`: the chain of {} records is intact, but no record is sealed by \
                 key {}, so nothing shows the records are as its holder wrote them; seal the \
                 store with `clearbox audit seal --key KEY`",
                result.location,
                result.records,
                key.fingerprint()
            ));
            return Ok(Outcome::GateFailed);
        }
        (None, _) => format!(
            "{} seals not checked: give --key to check them",
            result.seals_unchecked
        ),
    };
    status(&format!(
        "audit {kind} `{}`: the chain of {} records is intact; {seals}{other_keys}",
        result.location, result.records
    ));
    Ok(Outcome::Success)
}
