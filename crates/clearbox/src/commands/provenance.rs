//! `clearbox provenance` writes SLSA provenance v1 for an image from its git checkout, and can
//! sign it and store it beside the image. `verify-attestation --policy` checks verified
//! provenance against a provenance policy.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context;
use clearbox_attest::cosign::{
    self, AttestOptions, AttestationVerifyOptions, ReferrersMode, VerifiedAttestation,
};
use clearbox_attest::intoto::{PredicateType, Statement, Subject};
use clearbox_attest::slsa::{
    BUILD_TYPE, BaseImage, CiJob, GitCheckout, ImageInputs, PROVENANCE_TYPES, PolicyReport,
    ProvenanceInputs, ProvenancePolicy, SourceFacts, check_provenance_policy, parse_rfc3339,
};
use clearbox_oci::{Image, ImageReference, ReadOptions};

use crate::Outcome;
use crate::cli::{ProvenanceArgs, VerifyAttestationArgs};
use crate::commands::sign::{describe, gate_or_error, open_image_store, public_key, signing_key};
use crate::commands::{parse_reference, read_options, with_image};
use crate::output::{notice, status, write_output};

/// The largest policy file read: far more than any list of builders and reviewers needs.
const MAX_POLICY_BYTES: u64 = 1024 * 1024;

/// The annotations that name an image's base (OCI image spec, pre-defined annotation keys).
const BASE_DIGEST_ANNOTATION: &str = "org.opencontainers.image.base.digest";
const BASE_NAME_ANNOTATION: &str = "org.opencontainers.image.base.name";

pub(crate) fn run(args: &ProvenanceArgs) -> anyhow::Result<Outcome> {
    // 1. Arguments that can fail without reading anything.
    let reference = parse_reference(&args.image)?;
    let options = read_options(&args.read)?;
    check_uri("--builder-id", &args.builder_id)?;
    let build_type = args
        .build_type
        .clone()
        .unwrap_or_else(|| BUILD_TYPE.to_owned());
    check_uri("--build-type", &build_type)?;
    let time = |flag: &str, value: &Option<String>| {
        value
            .as_deref()
            .map(parse_rfc3339)
            .transpose()
            .with_context(|| format!("invalid {flag}"))
    };
    let started_on = time("--started-on", &args.started_on)?;
    let finished_on = time("--finished-on", &args.finished_on)?;
    let key = match (&args.key, args.attest) {
        (Some(key), true) => Some(signing_key(key)?),
        _ => None,
    };

    // 2. The source checkout and the CI job.
    let ci = CiJob::detect(|name| std::env::var(name).ok());
    let source = source_facts(&args.source, ci.as_ref(), args.allow_dirty)?;

    // 3. The image and its base images.
    let image = with_image(Image::open(&reference, &options), &args.image)?;
    let Some(digest) = image
        .subject_digest
        .clone()
        .or(image.manifest_digest.clone())
    else {
        anyhow::bail!(
            "`{}` has no manifest digest for the statement's subject; write provenance for an \
             oci:, oci-archive: or docker:// image",
            args.image
        );
    };
    let bases = base_images(&image, &args.bases, &options)?;
    let subject_name = subject_name(args, &image)?;

    // 4. The statement.
    let predicate = ProvenanceInputs {
        build_type,
        builder_id: args.builder_id.clone(),
        source,
        image: ImageInputs {
            config: image.config_digest.as_ref().map(ToString::to_string),
            layers: image
                .layers
                .iter()
                .filter_map(|layer| layer.digest.as_ref().map(ToString::to_string))
                .collect(),
        },
        base_images: bases,
        approvals: args.approvals.clone(),
        invocation_id: args
            .invocation_id
            .clone()
            .or_else(|| ci.as_ref().and_then(|job| job.invocation_id.clone())),
        started_on: started_on.or_else(|| ci.as_ref().and_then(|job| job.started_on.clone())),
        finished_on,
        ci,
    }
    .predicate();
    let statement = Statement::new(
        vec![Subject::sha256(subject_name.clone(), &digest.to_string())],
        &PredicateType::SlsaProvenanceV1,
        predicate.clone(),
    )
    .context("failed to build the provenance statement")?;
    let mut json = statement.to_json();
    json.push(b'\n');
    write_output(args.output.as_deref(), &json)?;

    // 5. Signed and stored beside the image, as `attest --type slsaprovenance1` stores it.
    if let Some(key) = key {
        let store = cosign::open_store_for_image(&image)
            .with_context(|| format!("failed to open `{}` for attesting", args.image))?;
        let outcome = cosign::attest(
            store.as_ref(),
            &key,
            &PredicateType::SlsaProvenanceV1,
            predicate,
            &AttestOptions {
                mode: ReferrersMode::Auto,
                subject_name: Some(subject_name),
            },
        )
        .with_context(|| format!("failed to attest `{}`", args.image))?;
        crate::commands::audit::note_digest(&store.subject().digest.to_string());
        status(&format!(
            "attested {}@{} ({}): {}",
            store.location(),
            store.subject().digest,
            PredicateType::SlsaProvenanceV1.uri(),
            describe(&outcome)
        ));
    }
    Ok(Outcome::Success)
}

/// Accepts an absolute URI in outline: a scheme of letters, digits, `+`, `-` and `.` starting
/// with a letter, a colon, and no whitespace.
fn check_uri(flag: &str, value: &str) -> anyhow::Result<()> {
    let valid = value.split_once(':').is_some_and(|(scheme, rest)| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            && !rest.is_empty()
    }) && !value.chars().any(char::is_whitespace);
    if valid {
        Ok(())
    } else {
        anyhow::bail!("invalid {flag} `{value}`: expected a URI such as https://ci.example/builder")
    }
}

/// Reads the source facts from the checkout, with the CI job filling in a missing remote or
/// ref.
fn source_facts(dir: &Path, ci: Option<&CiJob>, allow_dirty: bool) -> anyhow::Result<SourceFacts> {
    let checkout = GitCheckout::read(dir).context("failed to read the source checkout")?;
    if checkout.is_dirty() && !allow_dirty {
        let more = if checkout.more_dirty_paths {
            ", ..."
        } else {
            ""
        };
        anyhow::bail!(
            "the working tree of `{}` differs from commit {} ({}{more}), so the commit does \
             not describe what was built; commit the changes, or pass --allow-dirty to record \
             `dirty: true`",
            dir.display(),
            checkout.commit,
            checkout
                .dirty_paths
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    let Some(repository) = checkout
        .repository
        .clone()
        .or_else(|| ci.and_then(|job| job.repository.clone()))
    else {
        anyhow::bail!(
            "`{}` has no git remote to name the source repository by; add one with `git remote \
             add origin URL`",
            dir.display()
        );
    };
    let git_ref = checkout
        .head_ref
        .clone()
        .or_else(|| ci.and_then(|job| job.git_ref.clone()))
        .or_else(|| checkout.tags_at_head.first().cloned());
    if git_ref.is_none() {
        notice(&format!(
            "warning: `HEAD` of `{}` is detached and no branch or tag names commit {}; the \
             provenance names no ref, so a policy's ref_pattern cannot match it",
            dir.display(),
            checkout.commit
        ));
    }
    if let Some(ci_commit) = ci.and_then(|job| job.commit.as_deref())
        && !ci_commit.eq_ignore_ascii_case(&checkout.commit)
    {
        notice(&format!(
            "warning: the CI job was started for commit {ci_commit}, but `{}` is at {}; the \
             provenance names the checkout's commit",
            dir.display(),
            checkout.commit
        ));
    }
    Ok(SourceFacts {
        repository,
        git_ref,
        dirty: checkout.is_dirty(),
        commit: checkout.commit,
    })
}

/// Collects the base images: each --base resolved to its digest, else the image's base
/// annotations.
fn base_images(
    image: &Image,
    bases: &[String],
    options: &ReadOptions,
) -> anyhow::Result<Vec<BaseImage>> {
    if !bases.is_empty() {
        return bases
            .iter()
            .map(|text| resolve_base(text, options))
            .collect();
    }
    let annotations = image.manifest.as_ref().map(|m| &m.annotations);
    let digest = annotations.and_then(|a| a.get(BASE_DIGEST_ANNOTATION));
    let name = annotations.and_then(|a| a.get(BASE_NAME_ANNOTATION));
    match (digest, name) {
        (Some(digest), name) => {
            let parsed: clearbox_oci::Digest = digest.parse().with_context(|| {
                format!("the image's `{BASE_DIGEST_ANNOTATION}` annotation `{digest}` is invalid")
            })?;
            Ok(vec![BaseImage {
                name: name.cloned(),
                digest: parsed.to_string(),
            }])
        }
        (None, Some(name)) => {
            let mut base =
                resolve_base(&format!("docker://{name}"), options).with_context(|| {
                    format!(
                        "failed to resolve the base image `{name}` that the image's \
                     `{BASE_NAME_ANNOTATION}` annotation names; pass --base IMAGE"
                    )
                })?;
            base.name = Some(name.clone());
            Ok(vec![base])
        }
        (None, None) => Ok(Vec::new()),
    }
}

/// Opens a base image and takes the digest signatures would name. Only registry references are
/// recorded by name; a local layout's path means nothing to a reader of the provenance.
fn resolve_base(text: &str, options: &ReadOptions) -> anyhow::Result<BaseImage> {
    let reference = parse_reference(text)?;
    let base = with_image(Image::open(&reference, options), text)?;
    let Some(digest) = base.subject_digest.or(base.manifest_digest) else {
        anyhow::bail!(
            "the base image `{text}` has no manifest digest; name it as oci:, oci-archive: or \
             docker://"
        );
    };
    let name = match &reference {
        ImageReference::Registry(target) => Some(target.to_string()),
        _ => None,
    };
    Ok(BaseImage {
        name,
        digest: digest.to_string(),
    })
}

/// Chooses the statement subject's name: --identity, else the image's repository.
fn subject_name(args: &ProvenanceArgs, image: &Image) -> anyhow::Result<String> {
    if let Some(identity) = &args.identity {
        return Ok(identity.clone());
    }
    let name = match &image.reference {
        ImageReference::Registry(_) => image
            .registry_reference()
            .map(|r| format!("{}/{}", r.registry, r.repository)),
        ImageReference::OciLayout { .. } => cosign::open_store_for_image(image)
            .ok()
            .and_then(|store| store.default_identity()),
        _ => None,
    };
    name.ok_or_else(|| {
        anyhow::anyhow!(
            "`{}` names no repository for the statement's subject; pass --identity \
             REGISTRY/REPO",
            args.image
        )
    })
}

/// Returns the predicate types that `--type` admits with `--policy`.
fn provenance_types(type_argument: Option<&str>) -> anyhow::Result<Vec<&'static str>> {
    let Some(text) = type_argument else {
        return Ok(PROVENANCE_TYPES.to_vec());
    };
    let types = match text {
        "slsaprovenance" => vec![PROVENANCE_TYPES[1], PROVENANCE_TYPES[2]],
        "slsaprovenance02" => vec![PROVENANCE_TYPES[1]],
        "slsaprovenance1" => vec![PROVENANCE_TYPES[2]],
        uri => PROVENANCE_TYPES
            .iter()
            .copied()
            .filter(|t| *t == uri)
            .collect(),
    };
    if types.is_empty() {
        anyhow::bail!(
            "invalid --type `{text}`: --policy checks SLSA provenance; use slsaprovenance, \
             slsaprovenance02, slsaprovenance1 or a provenance URI"
        );
    }
    Ok(types)
}

/// `verify-attestation IMAGE --key PUB --policy FILE`: the signature checks of
/// `verify-attestation`, then the policy on each verified provenance statement. Passes when at
/// least one statement passes every check.
pub(crate) fn verify(
    image: &str,
    key: &str,
    args: &VerifyAttestationArgs,
    policy_path: &Path,
) -> anyhow::Result<Outcome> {
    let types = provenance_types(args.predicate_type.as_deref())?;
    let policy = load_policy(policy_path)?;
    parse_reference(image)?;
    let key = public_key(key)?;
    let store = open_image_store(image, &args.registry)?;
    let verification = match cosign::verify_attestations(
        store.as_ref(),
        &key,
        &AttestationVerifyOptions::default(),
    ) {
        Ok(verification) => verification,
        Err(error) => return gate_or_error(error, "attestation verification"),
    };
    let digest = verification.image.to_string();
    let provenance: Vec<&VerifiedAttestation> = verification
        .verified
        .iter()
        .filter(|a| types.contains(&a.statement.predicate_type()))
        .collect();
    if provenance.is_empty() {
        notice(&format!(
            "provenance policy failed: none of the {} attestations of {}@{digest} that verified \
             with key {} is SLSA provenance of type {}",
            verification.verified.len(),
            store.location(),
            key.fingerprint(),
            types.join(" or ")
        ));
        return Ok(Outcome::GateFailed);
    }

    let reports: Vec<PolicyReport> = provenance
        .iter()
        .map(|a| check_provenance_policy(&a.statement, &digest, &policy))
        .collect();
    let passed = reports.iter().filter(|r| r.passed()).count();
    let print: fn(&str) = if passed > 0 { status } else { notice };
    print(&format!(
        "Provenance policy {} for {}@{digest}: {passed} of {} SLSA provenance statements \
         verified with key {} passed",
        policy_path.display(),
        store.location(),
        provenance.len(),
        key.fingerprint()
    ));
    for (attestation, report) in provenance.iter().zip(&reports) {
        print(&format!(
            "  {} ({}):",
            attestation.location,
            attestation.statement.predicate_type()
        ));
        for check in &report.checks {
            print(&format!(
                "    {:<12} {}: {}",
                check.outcome.as_str(),
                check.name,
                check.detail
            ));
        }
    }
    if passed == 0 {
        let failed: Vec<&str> = reports
            .iter()
            .flat_map(|r| r.failures().map(|c| c.name))
            .collect();
        notice(&format!(
            "provenance policy failed: {}",
            dedup(&failed).join(", ")
        ));
        return Ok(Outcome::GateFailed);
    }

    // The statements that passed, as verify-attestation prints them: the signed statement only.
    let mut out = std::io::stdout().lock();
    for (attestation, report) in provenance.iter().zip(&reports) {
        if report.passed() {
            out.write_all(&attestation.statement.get().to_json())
                .and_then(|()| writeln!(out))
                .context("failed to write to stdout")?;
        }
    }
    Ok(Outcome::Success)
}

pub(crate) fn load_policy(path: &Path) -> anyhow::Result<ProvenancePolicy> {
    let bytes = clearbox_oci::read_regular_file(path, MAX_POLICY_BYTES)
        .with_context(|| format!("failed to read the policy `{}`", path.display()))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("the policy `{}` is not UTF-8 text", path.display()))?;
    ProvenancePolicy::parse(&text).with_context(|| format!("invalid policy `{}`", path.display()))
}

fn dedup<'a>(names: &[&'a str]) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for name in names {
        if !out.contains(name) {
            out.push(name);
        }
    }
    out
}
