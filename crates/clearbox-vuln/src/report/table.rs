//! A text table of findings: `SEVERITY ID PACKAGE VERSION FIXED-IN STATUS`, columns padded to the
//! widest cell and separated by two spaces. Widths count `char`s, so wide Unicode characters
//! in a package name can misalign a row; names from the supported ecosystems are ASCII.

use std::io::Write;

use clearbox_catalog::printable;

use crate::error::VulnError;
use crate::finding::Finding;

const HEADER: [&str; 6] = ["SEVERITY", "ID", "PACKAGE", "VERSION", "FIXED-IN", "STATUS"];

/// Widest cell, in characters.
const MAX_CELL: usize = 80;

/// Writes one row per finding under a header row. `FIXED-IN` lists the fixed versions joined by
/// `, `, or is empty when no fix is known.
pub fn write(findings: &[Finding], writer: &mut dyn Write) -> Result<(), VulnError> {
    let rows: Vec<[String; 6]> = findings
        .iter()
        .map(|f| {
            // Advisory and package fields come from files others wrote: escape control
            // characters and cap the width before they reach a terminal.
            [
                f.advisory.severity.name().to_owned(),
                printable(&f.advisory.id, MAX_CELL),
                printable(&f.package.name, MAX_CELL),
                printable(&f.package.version, MAX_CELL),
                printable(&f.advisory.fixed_versions.join(", "), MAX_CELL),
                f.status.name().to_owned(),
            ]
        })
        .collect();
    let mut widths = HEADER.map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    write_row(&HEADER.map(str::to_owned), &widths, writer)?;
    for row in &rows {
        write_row(row, &widths, writer)?;
    }
    Ok(())
}

fn write_row(
    row: &[String; 6],
    widths: &[usize; 6],
    writer: &mut dyn Write,
) -> Result<(), VulnError> {
    let mut line = String::new();
    for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
        if i > 0 {
            line.push_str("  ");
        }
        line.push_str(cell);
        let padding = width.saturating_sub(cell.chars().count());
        line.extend(std::iter::repeat_n(' ', padding));
    }
    let line = line.trim_end();
    writeln!(writer, "{line}").map_err(VulnError::Write)
}
