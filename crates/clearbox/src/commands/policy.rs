//! `clearbox policy init`, and the policy file applied by `verify --policy`, `check image
//! --policy` and `check k8s --policy` (`docs/policy.md`).
//!
//! Each evaluation prints one line per rule result on stderr, and a command that evaluates an
//! image's signatures (`verify`) prints the evaluation as JSON on stdout. A failed result, or
//! one that could not be checked, makes the exit code 1; an active exception turns it into
//! "waived", shown with its reason.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clearbox_attest::cosign;
use clearbox_attest::slsa::ProvenancePolicy;
use clearbox_oci::{Image, ReadOptions};
use clearbox_policy::policy::{
    API_VERSION, Evaluation, ImageSubject, KIND, KeySigner, MAX_POLICY_BYTES,
    Outcome as RuleOutcome, Policy, Rule, SignerRequirement, Signers, StarterPolicy, Verdict,
    Verifiers, declares_api_version, evaluate_annotations, evaluate_manifests, evaluate_reference,
    evaluate_store, image_annotations, load_object_signer_keys, load_signer_keys, parse_policy,
    read_policy,
};

use crate::Outcome;
use crate::cli::{PolicyCommand, PolicyInitArgs, VerifyArgs};
use crate::commands::{parse_reference, registry_options, with_image};
use crate::output::status;

/// Reason `check` gives for not evaluating the rules on signatures and attestations.
const VERIFIED_ELSEWHERE: &str = "signatures and attestations are evaluated by `clearbox verify --policy` and `clearbox \
     evidence --policy`";

pub(crate) fn run(command: &PolicyCommand) -> anyhow::Result<Outcome> {
    match command {
        PolicyCommand::Init(args) => init(args),
    }
}

fn init(args: &PolicyInitArgs) -> anyhow::Result<Outcome> {
    // Every key must load, so the policy does not name a key that cannot verify anything.
    let mut keys = Vec::new();
    for key in &args.keys {
        clearbox_attest::PublicKey::load(key)
            .with_context(|| format!("failed to load the public key `{key}`"))?;
        if key.starts_with("pkcs11:") {
            keys.push(key.clone());
        } else {
            // The policy resolves relative paths against its own directory, which is unknown
            // while it goes to stdout, so the path is written absolute.
            let absolute = std::path::absolute(key)
                .with_context(|| format!("failed to resolve the key path `{key}`"))?;
            keys.push(absolute.to_string_lossy().into_owned());
        }
    }
    let starter = StarterPolicy {
        registries: args.registries.clone(),
        keys,
        max_severity: args.max_severity,
    };
    std::io::stdout()
        .lock()
        .write_all(starter.to_yaml().as_bytes())
        .context("failed to write to stdout")?;
    Ok(Outcome::Success)
}

/// Reads the policy file, with its path in every error.
pub(crate) fn load(path: &Path) -> anyhow::Result<Policy> {
    Ok(read_policy(path)?)
}

/// The policy file with its verifiers, and the provenance policy, that `evidence` applies.
pub(crate) type EvidencePolicies = (
    Option<(Policy, Verifiers)>,
    Option<(PathBuf, ProvenancePolicy)>,
);

/// Reads `evidence --policy FILE`. A file with `apiVersion` is a policy file, loaded with its
/// signer keys, and its provenance conditions also go to `slsa-provenance.json` when a key is
/// given. Any other file is a provenance policy, which needs `--key`.
pub(crate) fn load_for_evidence(path: &Path, has_key: bool) -> anyhow::Result<EvidencePolicies> {
    let bytes = clearbox_oci::read_regular_file(path, MAX_POLICY_BYTES)
        .with_context(|| format!("failed to read the policy `{}`", path.display()))?;
    if declares_api_version(&bytes) {
        let policy = parse_policy(path, &bytes)?;
        let provenance = policy
            .slsa_provenance
            .clone()
            .filter(|_| has_key)
            .map(|p| (path.to_owned(), p));
        let verifiers = verifiers(&policy)?;
        return Ok((Some((policy, verifiers)), provenance));
    }
    if !has_key {
        anyhow::bail!(
            "`{}` has no `apiVersion`, so it is read as a provenance policy, which needs --key; \
             give --key, or add `apiVersion: {API_VERSION}` and `kind: {KIND}` to write a policy \
             file (docs/policy.md)",
            path.display()
        );
    }
    let provenance = crate::commands::provenance::load_policy(path)?;
    Ok((None, Some((path.to_owned(), provenance))))
}

/// Loads the policy's signer keys, failing when one cannot be read. When the policy names
/// keyless identities, it also loads the installed Sigstore trusted root. Without one, those
/// identities could not be checked.
pub(crate) fn verifiers(policy: &Policy) -> anyhow::Result<Verifiers> {
    let keys = load_signer_keys(policy)?;
    let has_identities = policy
        .signers
        .as_ref()
        .is_some_and(|s| !s.identities.is_empty());
    let trusted_root = if has_identities {
        crate::commands::trust::load_trusted_root(None).map_err(|e| format!("{e:#}"))
    } else {
        Err("the policy names no keyless identities".to_owned())
    };
    let object_keys = load_object_signer_keys(policy)?;
    Ok(Verifiers {
        keys,
        trusted_root,
        object_keys,
    })
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// `verify IMAGE --policy FILE`.
pub(crate) fn verify(args: &VerifyArgs, path: &Path) -> anyhow::Result<Outcome> {
    // 1. Read the reference, the policy and its keys; nothing is contacted yet.
    let reference = parse_reference(&args.target.image)?;
    let mut policy = load(path)?;
    match (&policy.signers, &args.key) {
        (Some(_), Some(key)) => anyhow::bail!(
            "the policy `{}` names its signers, so --key `{key}` is not used; leave out --key \
             or remove `signers` from the policy",
            path.display()
        ),
        (None, Some(key)) => {
            policy.signers = Some(Signers {
                require: SignerRequirement::Any,
                keys: vec![KeySigner {
                    written: key.clone(),
                    location: key.clone(),
                }],
                identities: Vec::new(),
            });
        }
        (None, None) => anyhow::bail!(
            "the policy `{}` names no signers; add `signers` to it or give --key PUB",
            path.display()
        ),
        (Some(_), None) => {}
    }
    let verifiers = verifiers(&policy)?;

    // 2. The rules on the reference, and the registry allowlist before any network access.
    let mut evaluation = Evaluation::new(&policy, today());
    let subject = ImageSubject::from_reference(&reference);
    evaluate_reference(&policy, &subject, &mut evaluation);
    let untrusted = evaluation
        .results
        .iter()
        .any(|r| r.rule == Rule::TrustedRegistries && r.outcome == RuleOutcome::Failed);
    if untrusted {
        for rule in [
            Rule::Annotations,
            Rule::Signers,
            Rule::SlsaProvenance,
            Rule::Vulnerability,
        ] {
            evaluation.skip(
                &policy,
                rule,
                "the image is not from a trusted registry, so its registry was not contacted",
            );
        }
        return report(&policy, &evaluation, &args.target.image, true);
    }

    // 3. Open the image's signature store; the manifest and config are read only when the
    //    policy requires annotations.
    let registry = registry_options(&args.target.registry)?;
    let store = if policy.annotations.is_empty() {
        cosign::open_store(&reference, &registry)
            .with_context(|| format!("failed to open `{}`", args.target.image))?
    } else {
        let options = ReadOptions {
            registry,
            ..ReadOptions::default()
        };
        let image = with_image(Image::open(&reference, &options), &args.target.image)?;
        evaluate_annotations(
            &policy,
            &subject.target,
            Ok(&image_annotations(&image)),
            &mut evaluation,
        );
        cosign::open_store_for_image(&image)
            .with_context(|| format!("failed to open `{}`", args.target.image))?
    };

    // 4. Signers and attestations.
    evaluate_store(
        &policy,
        &verifiers,
        store.as_ref(),
        &subject.target,
        chrono::Utc::now(),
        &mut evaluation,
    );
    report(&policy, &evaluation, &args.target.image, true)
}

/// Applies the registry allowlist of `check image --policy` before the image is opened.
/// `Ok(None)` means it passed (or was waived), so the caller goes on to open the image.
pub(crate) fn check_reference(
    policy: &Policy,
    reference: &clearbox_oci::ImageReference,
    image: &str,
) -> anyhow::Result<Option<Outcome>> {
    let mut evaluation = Evaluation::new(policy, today());
    evaluate_reference(
        policy,
        &ImageSubject::from_reference(reference),
        &mut evaluation,
    );
    let untrusted = evaluation
        .results
        .iter()
        .any(|r| r.rule == Rule::TrustedRegistries && r.outcome == RuleOutcome::Failed);
    if !untrusted {
        return Ok(None);
    }
    evaluation.skip(
        policy,
        Rule::Annotations,
        "the image is not from a trusted registry, so it was not read",
    );
    skip_signature_rules(policy, &mut evaluation);
    report(policy, &evaluation, image, false).map(Some)
}

/// `check image --policy` once the image is open.
pub(crate) fn check_image(policy: &Policy, image: &Image, name: &str) -> anyhow::Result<Outcome> {
    let mut evaluation = Evaluation::new(policy, today());
    let subject = ImageSubject::from_reference(&image.reference);
    evaluate_reference(policy, &subject, &mut evaluation);
    evaluate_annotations(
        policy,
        &subject.target,
        Ok(&image_annotations(image)),
        &mut evaluation,
    );
    skip_signature_rules(policy, &mut evaluation);
    report(policy, &evaluation, name, false)
}

/// `check k8s --policy`.
pub(crate) fn check_manifests(
    policy: &Policy,
    paths: &[std::path::PathBuf],
) -> anyhow::Result<Outcome> {
    let files = clearbox_policy::k8s::manifest::collect_files(paths)?
        .iter()
        .map(|path| clearbox_policy::k8s::manifest::read_file(path))
        .collect::<Result<Vec<_>, _>>()?;
    let evaluation = evaluate_manifests(policy, &files, today());
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    report(policy, &evaluation, &names.join(", "), false)
}

fn skip_signature_rules(policy: &Policy, evaluation: &mut Evaluation) {
    for rule in [Rule::Signers, Rule::SlsaProvenance, Rule::Vulnerability] {
        evaluation.skip(policy, rule, VERIFIED_ELSEWHERE);
    }
}

/// Prints the results on stderr (and with `json` the evaluation on stdout), and returns the
/// gate's outcome.
fn report(
    policy: &Policy,
    evaluation: &Evaluation,
    subject: &str,
    json: bool,
) -> anyhow::Result<Outcome> {
    if json {
        let mut text = serde_json::to_string_pretty(&evaluation.to_json(policy))
            .context("failed to encode the evaluation")?;
        text.push('\n');
        std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .context("failed to write to stdout")?;
    }
    status(&format!(
        "policy `{}` ({}) on {subject}:",
        policy.file.display(),
        policy.digest
    ));
    for line in evaluation.lines() {
        status(&format!("  {line}"));
    }
    let unmet: Vec<&str> = evaluation
        .unmet_rules()
        .into_iter()
        .map(Rule::name)
        .collect();
    match evaluation.verdict() {
        Verdict::Passed => {
            status("policy passed");
            Ok(Outcome::Success)
        }
        Verdict::Failed => {
            status(&format!("policy failed: {}", unmet.join(", ")));
            Ok(Outcome::GateFailed)
        }
        Verdict::Incomplete => {
            status(&format!(
                "policy not met: could not check {}",
                unmet.join(", ")
            ));
            Ok(Outcome::GateFailed)
        }
    }
}
