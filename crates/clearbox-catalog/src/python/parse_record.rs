//! Parser for a wheel's `RECORD`: CSV rows of `path,hash,size`, paths relative to the
//! directory holding the `.dist-info` (PEP 376, PEP 627). Paths may climb out of it with `..`
//! (console scripts in `bin/`).

use clearbox_oci::normalize_entry_name;

/// Returns the root-relative paths of the files listed, resolved against `site_dir`.
pub(crate) fn parse_record(text: &str, site_dir: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let path = first_csv_field(line)?;
            if path.is_empty() {
                return None;
            }
            let joined = if path.starts_with('/') {
                path
            } else {
                format!("{site_dir}/{path}")
            };
            normalize_entry_name(&joined)
        })
        .collect()
}

/// The first field of a CSV row, honouring double quotes as Python's `csv` module writes them.
fn first_csv_field(line: &str) -> Option<String> {
    if let Some(rest) = line.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    out.push('"');
                    chars.next();
                } else {
                    return Some(out);
                }
            } else {
                out.push(c);
            }
        }
        None
    } else {
        Some(line.split(',').next().unwrap_or_default().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_relative_and_quoted_paths() {
        let text = "pkg/__init__.py,sha256=abc,10\n\"pkg/a,b.txt\",,\n../../../bin/tool,,\npkg-1.0.dist-info/RECORD,,\n";
        let files = parse_record(text, "usr/lib/python3/dist-packages");
        assert_eq!(
            files,
            [
                "usr/lib/python3/dist-packages/pkg/__init__.py",
                "usr/lib/python3/dist-packages/pkg/a,b.txt",
                "usr/bin/tool",
                "usr/lib/python3/dist-packages/pkg-1.0.dist-info/RECORD",
            ]
        );
    }
}
