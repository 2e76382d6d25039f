//! `clearbox report`: the compliance matrix of one image, or of two images side by side.

use anyhow::Context;
use clearbox_evidence::{AssessOptions, Comparison, Matrix, assess};
use clearbox_policy::compliance::FrameworkId;
use clearbox_policy::k8s::{K8sOptions, K8sReport, check_paths};

use crate::Outcome;
use crate::cli::{ReportArgs, ReportFormat};
use crate::commands::{parse_reference, read_options};
use crate::output::{status, write_output};
use crate::progress::LayerBars;

pub(crate) fn run(args: &ReportArgs, quiet: bool) -> anyhow::Result<Outcome> {
    // Parse everything, and check the manifests, before reading an image.
    let frameworks = selected_frameworks(&args.framework);
    let options = AssessOptions {
        db_path: args.db.clone(),
        read: read_options(&args.read)?,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        key: args.key.clone(),
    };
    let k8s = if args.k8s.is_empty() {
        None
    } else {
        let report = check_paths(&args.k8s, &K8sOptions::default())
            .context("failed to check the Kubernetes manifests given with --k8s")?;
        Some(report)
    };

    // Build the matrix or the comparison, and write it.
    let bytes = match (&args.compare, &args.image) {
        (Some(pair), _) => {
            let [a, b] = pair.as_slice() else {
                anyhow::bail!("--compare needs exactly two images");
            };
            let first = matrix_for(a, &options, k8s.as_ref(), &frameworks, quiet)?;
            let second = matrix_for(b, &options, k8s.as_ref(), &frameworks, quiet)?;
            let comparison = Comparison::new(&first, &second);
            match args.format {
                ReportFormat::Json => comparison.to_json(),
                ReportFormat::Md => comparison.to_markdown().into_bytes(),
                ReportFormat::Html => comparison.to_html().into_bytes(),
            }
        }
        (None, Some(image)) => {
            let matrix = matrix_for(image, &options, k8s.as_ref(), &frameworks, quiet)?;
            match args.format {
                ReportFormat::Json => matrix.to_json(),
                ReportFormat::Md => matrix.to_markdown().into_bytes(),
                ReportFormat::Html => matrix.to_html().into_bytes(),
            }
        }
        // clap requires one of the two.
        (None, None) => anyhow::bail!("report needs an IMAGE or --compare IMAGE_A IMAGE_B"),
    };
    write_output(args.output.as_deref(), &bytes)?;
    Ok(Outcome::Success)
}

/// Returns the frameworks named with --framework in report order, each once, or all of them
/// when none is named.
fn selected_frameworks(names: &[String]) -> Vec<FrameworkId> {
    if names.is_empty() || names.iter().any(|n| n == "all") {
        return FrameworkId::ALL.to_vec();
    }
    FrameworkId::ALL
        .into_iter()
        .filter(|id| {
            names.iter().any(|name| {
                name == id.id()
                    || (name == "cis" && matches!(id, FrameworkId::CisDocker | FrameworkId::CisK8s))
            })
        })
        .collect()
}

/// Assesses one image and prints its control counts per framework on stderr.
fn matrix_for(
    image: &str,
    options: &AssessOptions,
    k8s: Option<&K8sReport>,
    frameworks: &[FrameworkId],
    quiet: bool,
) -> anyhow::Result<Matrix> {
    let reference = parse_reference(image)?;
    let progress = LayerBars::for_stderr(quiet);
    let assessment = assess(&reference, options, progress.as_ref())
        .with_context(|| format!("failed to assess `{image}`"))?;
    let matrix = assessment.matrix(k8s, frameworks)?;
    status(&format!("{image}:"));
    for framework in &matrix.frameworks {
        let counts = framework.summary;
        status(&format!(
            "  {}: {} satisfied, {} not satisfied, {} not evidenced",
            framework.name, counts.satisfied, counts.not_satisfied, counts.not_evidenced
        ));
    }
    Ok(matrix)
}
