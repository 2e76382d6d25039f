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
    // Every input line gets one output line, an empty or undecodable one an error line, so
    // that answers stay aligned with their inputs.
    for (number, line) in stdin.split(b'\n').enumerate() {
        let line = line.context("failed to read stdin")?;
        let line_number = number + 1;
        let result = match std::str::from_utf8(&line) {
            Err(_) => Err(format!("line {line_number} is not valid UTF-8")),
            Ok(text) if text.trim().is_empty() => Err(format!("line {line_number} is empty")),
            Ok(text) => match text.split_once('\t') {
                Some((a, b)) => clearbox_version::compare(scheme, a, b)
                    .map(symbol)
                    .map_err(|e| e.to_string()),
                None => Err(format!(
                    "line {line_number} has no tab between the two versions"
                )),
            },
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
