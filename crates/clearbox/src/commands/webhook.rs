//! `clearbox webhook serve`: the admission webhook of `clearbox-webhook`, with the policy, keys,
//! registry options and audit store read as the other commands read them.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clearbox_webhook::{LoadedPolicy, SealConfig, ServerConfig, serve};

use crate::Outcome;
use crate::cli::{WebhookCommand, WebhookServeArgs};
use crate::commands::audit::store_url;
use crate::commands::policy::{load, verifiers};
use crate::commands::registry_options;
use crate::commands::sign::signing_key;
use crate::output::status;

pub(crate) fn run(command: &WebhookCommand, audit_store: Option<&str>) -> anyhow::Result<Outcome> {
    match command {
        WebhookCommand::Serve(args) => serve_webhook(args, audit_store),
    }
}

fn serve_webhook(args: &WebhookServeArgs, audit_store: Option<&str>) -> anyhow::Result<Outcome> {
    // The store: --store, else the one every other command appends to. Admissions are never
    // left unrecorded, so `none` is refused.
    let store = args.store.as_deref().or(audit_store);
    if store == Some("none") {
        anyhow::bail!(
            "the webhook records every decision, so the audit store cannot be `none`; name one \
             with --store URL"
        );
    }
    let store = store_url(store).context(
        "no audit store: neither XDG_STATE_HOME nor HOME is set; name one with --store URL",
    )?;

    // A registry wait longer than the request's deadline only keeps a thread busy, because the
    // image is denied at the deadline whatever the registry does later.
    let timeout = Duration::from_secs(args.timeout);
    let mut registry = registry_options(&args.registry)?;
    registry.io_timeout = registry.io_timeout.min(timeout);
    registry.connect_timeout = registry.connect_timeout.min(timeout);
    let config = ServerConfig {
        listen: args.listen,
        tls_cert: args.tls_cert.clone(),
        tls_key: args.tls_key.clone(),
        store_url: store.clone(),
        registry,
        timeout,
        cache_ttl: Duration::from_secs(args.cache_ttl),
        max_request_bytes: args.max_request_bytes,
        header_read_timeout: Duration::from_secs(args.header_read_timeout),
        max_connections: args.max_connections as usize,
        seal: seal_config(args)?,
    };

    let policy_path: PathBuf = args.policy.clone();
    let loader = Box::new(move || -> Result<LoadedPolicy, String> {
        let policy = load(&policy_path).map_err(|e| format!("{e:#}"))?;
        let verifiers = verifiers(&policy).map_err(|e| format!("{e:#}"))?;
        Ok(LoadedPolicy::new(policy, verifiers))
    });

    let sealing = match &config.seal {
        Some(seal) => format!(
            "sealed every {} records and at shutdown with key {}",
            seal.every,
            seal.key.public_key().fingerprint()
        ),
        None => "not sealed by the webhook; seal it with `clearbox audit seal`".to_owned(),
    };
    serve(config, loader, move |address, loaded| {
        status(&format!(
            "serving admission reviews on https://{address}/validate with the policy `{}` ({}); \
             decisions go to the audit store `{store}`, {sealing}",
            loaded.policy.file.display(),
            loaded.policy.digest
        ));
    })?;
    Ok(Outcome::Success)
}

/// Loads `--seal-key`, and returns `None` without it. Seals name the host as their actor, which
/// in a cluster is the pod, so that the seals of replicas sharing a store are distinguishable.
fn seal_config(args: &WebhookServeArgs) -> anyhow::Result<Option<SealConfig>> {
    let Some(argument) = &args.seal_key else {
        return Ok(None);
    };
    let key = signing_key(argument)?;
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let actor = match host.trim() {
        "" => "clearbox-webhook".to_owned(),
        host => format!("clearbox-webhook@{host}"),
    };
    Ok(Some(SealConfig {
        key: Arc::new(key),
        every: args.seal_every,
        actor,
    }))
}
