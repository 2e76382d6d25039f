//! `clearbox build`: build an image from a spec with `clearbox_oci::build`, write it, then its
//! SBOM and SLSA provenance beside it, and print a JSON record of the build on stdout.
//! `clearbox rebuild`: build the spec again and compare the result with an existing image.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clearbox_attest::SigningKey;
use clearbox_attest::cosign::{self, AttestOptions, ReferrersMode};
use clearbox_attest::intoto::{PredicateType, Statement, Subject};
use clearbox_catalog::catalog_image;
use clearbox_evidence::sbom_subject;
use clearbox_oci::build::{BuildSpec, BuiltImage, STAGING_TAG, WrittenImage, build};
use clearbox_oci::{Digest, Image, ImageReference, ReadOptions};
use serde_json::json;

use crate::Outcome;
use crate::cli::{BuildArgs, RebuildArgs, SbomFormat};
use crate::commands::sign::{describe, signing_key};
use crate::commands::{parse_reference, read_options, with_image};
use crate::output::{notice, status, write_output};
use crate::progress::LayerBars;

/// The largest spec file hashed for the provenance: 1 MiB, as the spec reader allows.
const MAX_SPEC_BYTES: u64 = 1 << 20;

pub(crate) fn run(args: &BuildArgs, quiet: bool) -> anyhow::Result<Outcome> {
    // 1. Arguments that can fail before anything is built.
    let spec = BuildSpec::load(&args.spec)?;
    let output: ImageReference = args
        .output
        .parse()
        .with_context(|| format!("invalid --output `{}`", args.output))?;
    if matches!(output, ImageReference::RootFs { .. }) {
        anyhow::bail!(
            "invalid --output `{}`: a build writes an image, not a root filesystem; use \
             oci:DIR, oci-archive:FILE, docker-archive:FILE or docker://REF",
            args.output
        );
    }
    if matches!(args.sbom_format, SbomFormat::Table) {
        anyhow::bail!("invalid --sbom-format table: write spdx-json or cyclonedx-json");
    }
    let options = read_options(&args.read)?;
    let key = match (&args.key, args.attest) {
        (Some(key), true) => {
            if !matches!(
                output,
                ImageReference::OciLayout { .. } | ImageReference::Registry(_)
            ) {
                anyhow::bail!(
                    "--attest stores attestations beside the image, which needs an oci: or \
                     docker:// --output, not `{}`",
                    args.output
                );
            }
            Some(signing_key(key)?)
        }
        _ => None,
    };

    // 2. The image, staged, then written. Outputs this run creates are removed again when a
    // later step fails, so that a failed build leaves none behind.
    let built = build(&spec, args.source_date_epoch, &options)
        .with_context(|| format!("failed to build `{}`", args.spec.display()))?;
    report_hardening(&built);
    let sbom_path = args
        .sbom
        .clone()
        .or_else(|| beside(&output, sbom_suffix(args.sbom_format)));
    let provenance_path = args
        .provenance
        .clone()
        .or_else(|| beside(&output, ".provenance.json"));
    check_output_paths(
        args,
        &built,
        &output,
        sbom_path.as_deref(),
        provenance_path.as_deref(),
    )?;
    let mut created = CreatedOutputs::default();
    if let Some(path) = local_path(&output) {
        created.track(path);
    }
    if let ImageReference::OciLayout { path, .. } = &output {
        created.track_index(path);
    }
    for path in [&sbom_path, &provenance_path].into_iter().flatten() {
        created.track(path);
    }
    let written = built
        .write(&output, &options.registry)
        .with_context(|| format!("failed to write `{}`", args.output))?;
    status(&format!(
        "built {} with manifest {} ({} layers, {} Debian packages)",
        written.location,
        written.digest,
        built.layers.len(),
        built.packages.len()
    ));

    // 3. The SBOM and the provenance beside it, then signed and stored beside the image.
    let subject_name = subject_name(&output);
    let evidence = write_evidence(
        args,
        &built,
        &written,
        &output,
        &subject_name,
        &options,
        quiet,
    )?;
    if let Some(key) = key {
        attest(args, &written, &evidence, &subject_name, &key, &options)?;
    }

    // 4. The record on stdout.
    let record = build_record(
        &built,
        &written,
        evidence.sbom_path.as_deref(),
        evidence.provenance_path.as_deref(),
    );
    let mut bytes = serde_json::to_vec_pretty(&record).context("failed to encode the record")?;
    bytes.push(b'\n');
    write_output(None, &bytes)?;
    created.keep();
    Ok(Outcome::Success)
}

/// Outputs to undo when the run is dropped before [`CreatedOutputs::keep`]: files and
/// directories that did not exist before it are removed, and an existing layout gets its
/// `index.json` back. Blobs added to an existing layout stay, unreferenced, and nothing pushed to
/// a registry is removed.
#[derive(Default)]
struct CreatedOutputs {
    paths: Vec<PathBuf>,
    /// The `index.json` of an existing layout and its bytes before the run.
    index: Option<(PathBuf, Vec<u8>)>,
}

impl CreatedOutputs {
    /// Records `path` for removal unless something is already there. `-` (stdout) is skipped.
    fn track(&mut self, path: &Path) {
        if path.as_os_str() != "-" && std::fs::symlink_metadata(path).is_err() {
            self.paths.push(path.to_owned());
        }
    }

    /// Records the `index.json` of `layout`, if it has one, to restore it on failure.
    fn track_index(&mut self, layout: &Path) {
        let index = layout.join("index.json");
        if let Ok(bytes) = std::fs::read(&index) {
            self.index = Some((index, bytes));
        }
    }

    /// Keeps every output: the run finished.
    fn keep(&mut self) {
        self.paths.clear();
        self.index = None;
    }
}

impl Drop for CreatedOutputs {
    fn drop(&mut self) {
        if let Some((index, bytes)) = &self.index {
            match write_output(Some(index), bytes) {
                Ok(()) => notice(&format!(
                    "restored `{}` as it was before the failed build",
                    index.display()
                )),
                Err(e) => notice(&format!(
                    "warning: failed to restore `{}` as it was before the failed build: {e:#}",
                    index.display()
                )),
            }
        }
        for path in &self.paths {
            let removed = match std::fs::symlink_metadata(path) {
                Err(_) => continue,
                Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
                Ok(_) => std::fs::remove_file(path),
            };
            match removed {
                Ok(()) => notice(&format!(
                    "removed `{}`, which the failed build had written",
                    path.display()
                )),
                Err(e) => notice(&format!(
                    "warning: failed to remove `{}`, which the failed build had written: {e}",
                    path.display()
                )),
            }
        }
    }
}

/// Rejects output files that would overwrite each other, the image, the spec or an input,
/// before anything is written.
fn check_output_paths(
    args: &BuildArgs,
    built: &BuiltImage,
    output: &ImageReference,
    sbom: Option<&Path>,
    provenance: Option<&Path>,
) -> anyhow::Result<()> {
    // Absolute and, where the file exists, with symbolic links resolved, so that two
    // spellings of one file compare equal.
    let resolve = |path: &Path| -> PathBuf {
        std::fs::canonicalize(path)
            .or_else(|_| std::path::absolute(path))
            .unwrap_or_else(|_| path.to_owned())
    };
    let mut used: Vec<(PathBuf, String)> = vec![(
        resolve(&args.spec),
        format!("the spec `{}`", args.spec.display()),
    )];
    for input in &built.inputs {
        let description = format!("the input `{}`", input.path.display());
        used.push((resolve(&input.path), description));
    }

    // An output inside a `directory` source would become part of the next build's layer.
    let directories: Vec<PathBuf> = built
        .inputs
        .iter()
        .filter(|input| input.kind == "directory")
        .map(|input| resolve(&input.path))
        .collect();

    let outputs = [
        ("--output", local_path(output)),
        ("--sbom", sbom),
        ("--provenance", provenance),
    ];
    for (option, path) in outputs {
        let Some(path) = path else { continue };
        let resolved = resolve(path);
        if let Some(directory) = directories.iter().find(|d| resolved.starts_with(d)) {
            anyhow::bail!(
                "{option} `{}` is inside the directory source `{}`, so the next build would \
                 copy it into the image; write it outside that directory",
                path.display(),
                directory.display()
            );
        }
    }

    let image = local_path(output).map(resolve);
    if let (Some(path), ImageReference::OciArchive { .. } | ImageReference::DockerArchive { .. }) =
        (&image, output)
    {
        if let Some((_, description)) = used.iter().find(|(existing, _)| existing == path) {
            anyhow::bail!(
                "--output `{}` would overwrite {description}; write the image elsewhere",
                args.output
            );
        }
        used.push((path.clone(), format!("the image `{}`", args.output)));
    }

    for (option, path) in [("--sbom", sbom), ("--provenance", provenance)] {
        let Some(path) = path else { continue };
        let resolved = resolve(path);
        if let (Some(layout), ImageReference::OciLayout { .. }) = (&image, output)
            && resolved.starts_with(layout)
        {
            anyhow::bail!(
                "{option} `{}` is inside the image layout `{}`, whose files it would \
                 overwrite or mix with; write it beside the layout",
                path.display(),
                layout.display()
            );
        }
        if let Some((_, description)) = used.iter().find(|(existing, _)| *existing == resolved) {
            anyhow::bail!(
                "{option} `{}` would overwrite {description}; give another file name",
                path.display()
            );
        }
        used.push((resolved, format!("the {option} file `{}`", path.display())));
    }
    Ok(())
}

/// Returns the path of a local output: the layout directory or the archive file.
fn local_path(output: &ImageReference) -> Option<&Path> {
    match output {
        ImageReference::OciLayout { path, .. }
        | ImageReference::OciArchive { path, .. }
        | ImageReference::DockerArchive { path, .. } => Some(path),
        ImageReference::Registry(_) | ImageReference::RootFs { .. } => None,
    }
}

/// The predicate type of a rebuild statement, described in `docs/build.md` under this anchor.
const REBUILD_TYPE: &str =
    "https://example.invalid/clearbox/blob/main/docs/build.md#rebuild-statement-v1";

/// `clearbox rebuild`: builds the spec into a staging layout and compares it with the image.
pub(crate) fn rebuild(args: &RebuildArgs) -> anyhow::Result<Outcome> {
    // 1. The image and the spec.
    let reference = parse_reference(&args.image)?;
    let options = read_options(&args.read)?;
    let image = with_image(Image::open(&reference, &options), &args.image)?;
    let spec = BuildSpec::load(&args.spec)?;
    let spec_bytes = clearbox_oci::read_regular_file(&args.spec, MAX_SPEC_BYTES)
        .with_context(|| format!("failed to read `{}`", args.spec.display()))?;

    // 2. The rebuild and the comparison.
    let built = build(&spec, args.source_date_epoch, &options)
        .with_context(|| format!("failed to build `{}`", args.spec.display()))?;
    let comparison = clearbox_oci::build::compare(&image, &built)
        .with_context(|| format!("failed to compare the rebuild with `{}`", args.image))?;
    let spec_name = args
        .spec
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let mut result = serde_json::to_value(&comparison).context("failed to encode the result")?;
    if let Some(object) = result.as_object_mut() {
        object.insert("image".into(), json!(args.image));
        object.insert(
            "spec".into(),
            json!({"uri": spec_name, "digest": {"sha256": Digest::of(&spec_bytes).hex()}}),
        );
        object.insert("sourceDateEpoch".into(), json!(built.source_date_epoch));
    }

    // 3. The statement, the JSON result and a line for people.
    if let Some(path) = &args.statement {
        let statement = Statement::new(
            vec![Subject::sha256(
                subject_name(&reference),
                &comparison.expected.to_string(),
            )],
            &PredicateType::Other(REBUILD_TYPE.to_owned()),
            result.clone(),
        )
        .context("failed to build the rebuild statement")?;
        let mut bytes = statement.to_json();
        bytes.push(b'\n');
        write_output(Some(path), &bytes)?;
    }
    let mut bytes = serde_json::to_vec_pretty(&result).context("failed to encode the result")?;
    bytes.push(b'\n');
    write_output(None, &bytes)?;
    if comparison.identical {
        status(&format!(
            "rebuild identical: {} reproduces {}",
            args.spec.display(),
            comparison.expected
        ));
        return Ok(Outcome::Success);
    }
    notice(&describe_difference(&comparison));
    Ok(Outcome::GateFailed)
}

/// Describes the first difference of a failed rebuild in one line.
fn describe_difference(comparison: &clearbox_oci::build::Comparison) -> String {
    let head = format!(
        "rebuild differs: manifest {} instead of {}",
        comparison.rebuilt, comparison.expected
    );
    let Some(layer) = &comparison.first_difference else {
        return if comparison.config_differs {
            format!("{head}; the layers are equal, the config differs")
        } else {
            format!("{head}; layers and config are equal, the manifest differs")
        };
    };
    match &layer.entry {
        Some(entry) => format!(
            "{head}; first in layer {} at `{}`: {} `{}` instead of `{}`",
            layer.layer, entry.path, entry.field, entry.rebuilt, entry.expected
        ),
        None => format!(
            "{head}; first in layer {}, whose files are equal",
            layer.layer
        ),
    }
}

/// The SBOM and provenance of a build, and where they were written.
struct Evidence {
    sbom: Vec<u8>,
    sbom_path: Option<PathBuf>,
    predicate: serde_json::Value,
    provenance_path: Option<PathBuf>,
}

/// Writes the SBOM and the provenance statement to their paths.
fn write_evidence(
    args: &BuildArgs,
    built: &BuiltImage,
    written: &WrittenImage,
    output: &ImageReference,
    subject_name: &str,
    options: &ReadOptions,
    quiet: bool,
) -> anyhow::Result<Evidence> {
    let sbom = sbom_document(
        built,
        written,
        subject_name,
        args.sbom_format,
        options,
        quiet,
    )?;
    let sbom_path = args
        .sbom
        .clone()
        .or_else(|| beside(output, sbom_suffix(args.sbom_format)));
    if let Some(path) = &sbom_path {
        write_output(Some(path), &sbom)?;
    }

    let spec_bytes = clearbox_oci::read_regular_file(&args.spec, MAX_SPEC_BYTES)
        .with_context(|| format!("failed to read `{}`", args.spec.display()))?;
    let predicate = clearbox_oci::build::provenance_predicate(
        built,
        &args.spec,
        &Digest::of(&spec_bytes),
        &args.builder_id,
        env!("CARGO_PKG_VERSION"),
    );
    let statement = Statement::new(
        vec![Subject::sha256(
            subject_name.to_owned(),
            &built.manifest_digest.to_string(),
        )],
        &PredicateType::SlsaProvenanceV1,
        predicate.clone(),
    )
    .context("failed to build the provenance statement")?;
    let provenance_path = args
        .provenance
        .clone()
        .or_else(|| beside(output, ".provenance.json"));
    if let Some(path) = &provenance_path {
        let mut bytes = statement.to_json();
        bytes.push(b'\n');
        write_output(Some(path), &bytes)?;
    }
    Ok(Evidence {
        sbom,
        sbom_path,
        predicate,
        provenance_path,
    })
}

/// Signs the provenance and the SBOM and stores them beside the written image.
fn attest(
    args: &BuildArgs,
    written: &WrittenImage,
    evidence: &Evidence,
    subject_name: &str,
    key: &SigningKey,
    options: &ReadOptions,
) -> anyhow::Result<()> {
    let image = Image::open(&written.location.parse()?, options)
        .with_context(|| format!("failed to read `{}` back", written.location))?;
    let store = cosign::open_store_for_image(&image)
        .with_context(|| format!("failed to open `{}` for attesting", written.location))?;
    let sbom_type = match args.sbom_format {
        SbomFormat::CyclonedxJson => PredicateType::CycloneDx,
        _ => PredicateType::Spdx,
    };
    let sbom: serde_json::Value =
        serde_json::from_slice(&evidence.sbom).context("the SBOM is not JSON")?;
    for (predicate_type, value) in [
        (PredicateType::SlsaProvenanceV1, evidence.predicate.clone()),
        (sbom_type, sbom),
    ] {
        let outcome = cosign::attest(
            store.as_ref(),
            key,
            &predicate_type,
            value,
            &AttestOptions {
                mode: ReferrersMode::Auto,
                subject_name: Some(subject_name.to_owned()),
            },
        )
        .with_context(|| format!("failed to attest `{}`", written.location))?;
        status(&format!(
            "attested {} ({}): {}",
            written.location,
            predicate_type.uri(),
            describe(&outcome)
        ));
    }
    Ok(())
}

/// Prints each overridden default as a warning and each change the defaults made.
fn report_hardening(built: &BuiltImage) {
    for line in &built.overrides {
        notice(&format!("warning: hardened default overridden: {line}"));
    }
    let report = &built.hardening;
    if !report.setuid_cleared.is_empty() {
        status(&format!(
            "cleared setuid and setgid bits ({}): {}",
            count_paths(report.setuid_cleared.len()),
            report.setuid_cleared.join(", ")
        ));
    }
    if !report.world_writable_cleared.is_empty() {
        status(&format!(
            "cleared the world-write bit ({}): {}",
            count_paths(report.world_writable_cleared.len()),
            report.world_writable_cleared.join(", ")
        ));
    }
}

fn count_paths(count: usize) -> String {
    if count == 1 {
        "1 path".to_owned()
    } else {
        format!("{count} paths")
    }
}

/// Catalogs the staged image and encodes its SBOM, naming the written image as its subject.
fn sbom_document(
    built: &BuiltImage,
    written: &WrittenImage,
    name: &str,
    format: SbomFormat,
    options: &ReadOptions,
    quiet: bool,
) -> anyhow::Result<Vec<u8>> {
    let staged = ImageReference::OciLayout {
        path: built.layout().to_owned(),
        tag: Some(STAGING_TAG.to_owned()),
    };
    let image = Image::open(&staged, options).context("failed to read the built image")?;
    let progress = LayerBars::for_stderr(quiet);
    let contents = catalog_image(&image, options, progress.as_ref())
        .context("failed to catalog the built image")?;
    let mut subject = sbom_subject(&image, env!("CARGO_PKG_VERSION"));
    // The staging directory is temporary; the document names where the image went.
    subject.reference.clone_from(&written.location);
    if image
        .config
        .config
        .labels
        .as_ref()
        .is_none_or(|l| !l.contains_key("org.opencontainers.image.title"))
    {
        name.clone_into(&mut subject.name);
    }
    Ok(match format {
        SbomFormat::CyclonedxJson => clearbox_sbom::to_cyclonedx_json(&subject, &contents.catalog),
        _ => clearbox_sbom::to_spdx_json(&subject, &contents.catalog),
    })
}

/// Chooses the image's name in statements and SBOMs: the repository for docker://, the
/// archive's image name, else the output's file name.
fn subject_name(output: &ImageReference) -> String {
    match output {
        ImageReference::Registry(target) => format!("{}/{}", target.registry, target.repository),
        ImageReference::DockerArchive {
            selector: Some(clearbox_oci::ArchiveSelector::Tag(name)),
            ..
        } => name.split(':').next().unwrap_or(name).to_owned(),
        ImageReference::OciLayout { path, .. }
        | ImageReference::OciArchive { path, .. }
        | ImageReference::DockerArchive { path, .. }
        | ImageReference::RootFs { path } => path
            .file_stem()
            .map_or_else(|| "image".to_owned(), |n| n.to_string_lossy().into_owned()),
    }
}

fn sbom_suffix(format: SbomFormat) -> &'static str {
    match format {
        SbomFormat::CyclonedxJson => ".cdx.json",
        _ => ".spdx.json",
    }
}

/// Appends `suffix` to a local output's path; returns `None` for docker://.
fn beside(output: &ImageReference, suffix: &str) -> Option<PathBuf> {
    let (ImageReference::OciLayout { path, .. }
    | ImageReference::OciArchive { path, .. }
    | ImageReference::DockerArchive { path, .. }) = output
    else {
        return None;
    };
    let mut text = path.as_os_str().to_owned();
    text.push(suffix);
    Some(PathBuf::from(text))
}

fn build_record(
    built: &BuiltImage,
    written: &WrittenImage,
    sbom: Option<&Path>,
    provenance: Option<&Path>,
) -> serde_json::Value {
    let mut writable = vec!["/tmp".to_owned()];
    writable.extend(built.hardening.world_writable_kept.iter().cloned());
    json!({
        "image": written.location,
        "digest": written.digest.to_string(),
        "config": built.config_digest.to_string(),
        "sourceDateEpoch": built.source_date_epoch,
        "base": built
            .base
            .as_ref()
            .map(|(name, digest)| json!({"name": name, "digest": digest.to_string()})),
        "layers": built.layers.iter().map(|l| json!({
            "digest": l.digest.to_string(),
            "diffId": l.diff_id.to_string(),
            "size": l.size,
            "mediaType": l.media_type,
            "fromBase": l.from_base,
            "createdBy": l.created_by,
        })).collect::<Vec<_>>(),
        "debianPackages": built.packages.iter().map(|p| json!({
            "name": p.name,
            "version": p.version,
            "architecture": p.architecture,
        })).collect::<Vec<_>>(),
        "hardening": {
            "overrides": built.overrides,
            "setuidCleared": built.hardening.setuid_cleared,
            "setuidKept": built.hardening.setuid_kept,
            "worldWritableCleared": built.hardening.world_writable_cleared,
            "writablePaths": writable,
            "shellsKept": built.hardening.shells_kept,
        },
        "sbom": sbom.map(|p| p.display().to_string()),
        "provenance": provenance.map(|p| p.display().to_string()),
    })
}
