//! The table for people: one block per resource with its failed results, then a summary line.
//!
//! Passed results are counted, not listed; the JSON and SARIF reports carry all of them. Values
//! taken from manifests (names, images, messages that quote fields) have control characters
//! escaped and are cut at [`MAX_CELL`] characters, so a hostile file cannot rewrite the
//! terminal.

use std::fmt::Write as _;
use std::io::Write;

use super::results::{CheckResult, K8sReport, Outcome};

/// Widest cell, in characters.
const MAX_CELL: usize = 120;

const HEADER: [&str; 5] = ["CHECK", "CONTAINER", "LINE", "FIELD", "MESSAGE"];

/// Writes the table.
pub fn write(report: &K8sReport, writer: &mut dyn Write) -> std::io::Result<()> {
    let mut out = String::new();
    // Results are recorded resource by resource, so each resource's results are adjacent.
    for results in report.results.chunk_by(|a, b| a.resource == b.resource) {
        let resource = &results[0].resource;
        let failed: Vec<&CheckResult> = results
            .iter()
            .filter(|r| r.result == Outcome::Fail)
            .collect();
        let _ = writeln!(
            out,
            "{}  ({}:{})",
            printable(&resource.display_name()),
            printable(&resource.file.to_string_lossy()),
            resource.line
        );
        if !failed.is_empty() {
            write_rows(&failed, &mut out);
        }
        let passed = results.len() - failed.len();
        let _ = writeln!(out, "  {} failed, {passed} passed\n", failed.len());
    }
    write_summary(report, &mut out);
    writer.write_all(out.as_bytes())
}

fn write_rows(failed: &[&CheckResult], out: &mut String) {
    let rows: Vec<[String; 5]> = failed
        .iter()
        .map(|r| {
            [
                r.check.to_owned(),
                printable(r.container.as_deref().unwrap_or("-")),
                r.line.to_string(),
                printable(&r.field),
                printable(&r.message),
            ]
        })
        .collect();
    let mut widths = HEADER.map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    write_row(&HEADER.map(str::to_owned), &widths, out);
    for row in &rows {
        write_row(row, &widths, out);
    }
}

fn write_row(row: &[String; 5], widths: &[usize; 5], out: &mut String) {
    let mut line = String::from(" ");
    for (cell, width) in row.iter().zip(widths) {
        line.push(' ');
        line.push_str(cell);
        line.extend(std::iter::repeat_n(
            ' ',
            width.saturating_sub(cell.chars().count()) + 1,
        ));
    }
    let _ = writeln!(out, "{}", line.trim_end());
}

fn write_summary(report: &K8sReport, out: &mut String) {
    let summary = report.summary();
    let scope = if report.pss_only {
        format!(
            "Pod Security Standards {} at {}",
            report.pss.level, report.pss.version
        )
    } else {
        format!("{} checks", report.checks.len())
    };
    let _ = writeln!(
        out,
        "{scope}: {} of {} resources failed; {} results failed, {} passed; {} objects of other \
         kinds skipped",
        summary.failed_resources,
        summary.resources,
        summary.failed,
        summary.passed,
        summary.skipped_resources
    );
    for skipped in &report.skipped_checks {
        if !report.pss_only && !skipped.check.starts_with("pss-") {
            let _ = writeln!(out, "not checked: {} ({})", skipped.check, skipped.reason);
        }
    }
}

/// Escapes control characters and cuts the text at [`MAX_CELL`] characters.
fn printable(text: &str) -> String {
    let mut cell = String::new();
    for (count, c) in text.chars().enumerate() {
        if count == MAX_CELL {
            cell.push('…');
            break;
        }
        if c.is_control() {
            let _ = write!(cell, "\\u{{{:x}}}", u32::from(c));
        } else {
            cell.push(c);
        }
    }
    cell
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("a\u{1b}[2Jb\n"), "a\\u{1b}[2Jb\\u{a}");
    }

    #[test]
    fn long_cells_are_cut() {
        let text = "x".repeat(MAX_CELL + 10);
        assert_eq!(printable(&text).chars().count(), MAX_CELL + 1);
    }
}
