//! `clearbox version compare`: how clearbox orders two versions of a scheme.

use std::cmp::Ordering;
use std::io::{BufRead, Write};

use anyhow::Context;
use clearbox_version::Scheme;

use crate::Outcome;
use crate::cli::VersionCommand;

pub(crate) fn run(command: &VersionCommand) -> anyhow::Result<Outcome> {
    let VersionCommand::Compare {
        scheme,
        batch,
        left,
        right,
    } = command;
    let scheme = Scheme::from_name(scheme).with_context(|| format!("unknown scheme `{scheme}`"))?;
    if *batch {
        return compare_batch(scheme);
    }
    let (Some(left), Some(right)) = (left, right) else {
        anyhow::bail!("version compare needs two versions, or --batch");
    };
    let ordering = clearbox_version::compare(scheme, left, right)?;
    writeln!(std::io::stdout(), "{}", symbol(ordering)).context("failed to write to stdout")?;
    Ok(Outcome::Success)
}

fn symbol(ordering: Ordering) -> &'static str {
    match ordering {
        Ordering::Less => "<",
        Ordering::Equal => "=",
        Ordering::Greater => ">",
    }
}

fn compare_batch(scheme: Scheme) -> anyhow::Result<Outcome> {
    let stdin = std::io::stdin().lock();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut failed = 0usize;
    for (number, line) in stdin.lines().enumerate() {
        let line = line.context("failed to read stdin")?;
        if line.trim().is_empty() {
            continue;
        }
        let result = match line.split_once('\t') {
            Some((a, b)) => clearbox_version::compare(scheme, a, b)
                .map(symbol)
                .map_err(|e| e.to_string()),
            None => Err(format!(
                "line {} has no tab between the two versions",
                number + 1
            )),
        };
        match result {
            Ok(s) => writeln!(out, "{s}"),
            Err(reason) => {
                failed += 1;
                writeln!(out, "error: {reason}")
            }
        }
        .context("failed to write to stdout")?;
    }
    out.flush().context("failed to write to stdout")?;
    if failed > 0 {
        anyhow::bail!("{failed} lines had an invalid version");
    }
    Ok(Outcome::Success)
}
