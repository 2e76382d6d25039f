//! Parser for dpkg's per-package file lists. `info/PACKAGE.list` lists one absolute path per
//! line, directories included, and `PACKAGE.md5sums` lists `MD5  PATH` lines with paths
//! relative to the root (dpkg(1), `dpkg-deb` control files).

/// Returns the paths named, as written (absolute or relative to the root).
pub(crate) fn parse_dpkg_files(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim_end_matches('\r');
            if line.starts_with('/') {
                return Some(line.to_owned());
            }
            // An md5sums line: 32 hexadecimal digits, whitespace, then the path.
            let (digest, rest) = line.split_at_checked(32)?;
            if !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            let path = rest.trim_start_matches([' ', '\t']);
            (!path.is_empty() && path.len() < rest.len()).then(|| path.to_owned())
        })
        .filter(|path| path != "/.")
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_and_md5sums_lines() {
        let list = "/.\n/usr\n/usr/bin/ls\n";
        assert_eq!(parse_dpkg_files(list), ["/usr", "/usr/bin/ls"]);
        let md5sums = "d41d8cd98f00b204e9800998ecf8427e  usr/lib/x86_64-linux-gnu/libz.so.1.2.13\n\
                       not a line\n\
                       d41d8cd98f00b204e9800998ecf8427e  usr/share/doc/a b/x\n";
        assert_eq!(
            parse_dpkg_files(md5sums),
            [
                "usr/lib/x86_64-linux-gnu/libz.so.1.2.13",
                "usr/share/doc/a b/x"
            ]
        );
    }
}
