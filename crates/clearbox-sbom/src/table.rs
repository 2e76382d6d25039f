//! The package table for people: `NAME`, `VERSION` and `TYPE` in aligned columns.
//!
//! Rows are sorted by name (ignoring case), version and type. Packages that give the same row,
//! such as two copies of one Python package at different paths, are shown once with a
//! `(+N duplicates)` note, so the row count matches the number of distinct packages.
//!
//! Names and versions come from the image, so control characters are escaped and cells are
//! cut at 80 characters. Columns are aligned by character count, which is exact for Latin, Greek and Cyrillic names
//! but not for double-width CJK characters.

use std::fmt::Write as _;

use clearbox_catalog::{Catalog, printable};

/// Widest cell, in characters. Longer names and versions, which only a malformed or hostile
/// image has, are cut with `…` so one row cannot widen every other.
const MAX_CELL: usize = 80;

/// Formats the catalog as a table with a header line and one line per distinct package; only
/// the header when the catalog is empty.
#[must_use]
pub fn to_table(catalog: &Catalog) -> String {
    let cells: Vec<[String; 3]> = catalog
        .packages
        .iter()
        .map(|p| {
            [
                printable(&p.name, MAX_CELL),
                printable(&p.version, MAX_CELL),
                p.kind.name().to_owned(),
            ]
        })
        .collect();
    let mut rows: Vec<[&str; 3]> = cells
        .iter()
        .map(|[name, version, kind]| [name.as_str(), version.as_str(), kind.as_str()])
        .collect();
    // Case-insensitive by name first, so `Jinja2` sorts among the `j`s.
    rows.sort_unstable_by(|a, b| (a[0].to_lowercase(), a).cmp(&(b[0].to_lowercase(), b)));

    // Merge equal rows, counting the copies.
    let mut merged: Vec<([&str; 3], usize)> = Vec::with_capacity(rows.len());
    for row in rows {
        match merged.last_mut() {
            Some((last, copies)) if *last == row => *copies += 1,
            _ => merged.push((row, 1)),
        }
    }

    let header = ["NAME", "VERSION", "TYPE"];
    let mut widths = header.map(|h| h.chars().count());
    for (row, _) in &merged {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }

    let mut out = String::new();
    write_row(&mut out, &widths, header, None);
    for (row, copies) in merged {
        let note = match copies {
            1 => None,
            2 => Some("(+1 duplicate)".to_owned()),
            n => Some(format!("(+{} duplicates)", n - 1)),
        };
        write_row(&mut out, &widths, row, note.as_deref());
    }
    out
}

fn write_row(out: &mut String, widths: &[usize; 3], cells: [&str; 3], note: Option<&str>) {
    let mut line = String::new();
    for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
        if i > 0 {
            line.push_str("  ");
        }
        line.push_str(cell);
        if i + 1 < cells.len() {
            let pad = width - cell.chars().count();
            line.extend(std::iter::repeat_n(' ', pad));
        }
    }
    if let Some(note) = note {
        let _ = write!(line, "  {note}");
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use clearbox_catalog::{Package, PackageKind, Purl};

    use super::*;

    fn package(name: &str, version: &str, kind: PackageKind) -> Package {
        Package {
            name: name.to_owned(),
            version: version.to_owned(),
            kind,
            purl: Purl::new("generic", None, name, Some(version)),
            licenses: vec![],
            supplier: None,
            description: None,
            homepage: None,
            source: None,
            arch: None,
            found_by: "test",
            locations: vec![],
            hashes: vec![],
            model: None,
            properties: BTreeMap::new(),
        }
    }

    #[test]
    fn table_sorted_and_aligned() {
        let catalog = Catalog {
            packages: vec![
                package("zlib1g", "1:1.2.13.dfsg-1", PackageKind::Deb),
                package("certifi", "2024.2.2", PackageKind::Python),
                package("certifi", "2024.2.2", PackageKind::Python),
                package("naïve", "1", PackageKind::Python),
            ],
            ..Catalog::default()
        };
        assert_eq!(
            to_table(&catalog),
            "NAME     VERSION          TYPE\n\
             certifi  2024.2.2         python  (+1 duplicate)\n\
             naïve    1                python\n\
             zlib1g   1:1.2.13.dfsg-1  deb\n"
        );
    }

    #[test]
    fn table_empty_has_header() {
        assert_eq!(to_table(&Catalog::default()), "NAME  VERSION  TYPE\n");
    }
}
