//! The operating system release, from `os-release(5)`.
//!
//! `/etc/os-release` is read first and `/usr/lib/os-release` second, as the manual page
//! prescribes; on Debian the first is a symlink to the second, resolved inside the image.

use clearbox_oci::EntryInfo;

use crate::capture::{Capture, Fact};
use crate::catalog::{Context, Output};
use crate::package::Distro;

const CATALOGER: &str = "os-release-cataloger";
const PATHS: [&str; 2] = ["etc/os-release", "usr/lib/os-release"];

pub(crate) fn capture(entry: &EntryInfo<'_>) -> Option<Capture> {
    PATHS
        .contains(&entry.path)
        .then_some(Capture::Text { max: 64 << 10 })
}

pub(crate) fn find(ctx: &Context<'_>, out: &mut Output) -> Option<Distro> {
    for path in PATHS {
        let Some((resolved, node, fact)) = ctx.fact(path) else {
            continue;
        };
        let Fact::Text(text) = fact else {
            out.not_text(ctx, &resolved, node, CATALOGER, fact);
            continue;
        };
        match parse_os_release(&String::from_utf8_lossy(text)) {
            Some(distro) => return Some(distro),
            None => out.unknowns.push(ctx.unknown(
                &resolved,
                node,
                CATALOGER,
                "os-release has no ID field",
            )),
        }
    }
    None
}

/// Parses `KEY=value` lines, with shell-style single or double quotes around values.
pub(crate) fn parse_os_release(text: &str) -> Option<Distro> {
    let mut id = None;
    let mut version_id = None;
    let mut codename = None;
    let mut pretty_name = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = unquote(value.trim());
        if value.is_empty() {
            continue;
        }
        match key {
            "ID" => id = Some(value.to_ascii_lowercase()),
            "VERSION_ID" => version_id = Some(value),
            "VERSION_CODENAME" => codename = Some(value),
            "PRETTY_NAME" => pretty_name = Some(value),
            _ => {}
        }
    }
    Some(Distro {
        id: id?,
        version_id,
        codename,
        pretty_name,
    })
}

fn unquote(value: &str) -> String {
    let inner = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')));
    match inner {
        Some(inner) => inner.replace("\\\"", "\"").replace("\\\\", "\\"),
        None => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_bookworm() {
        let text = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n\
                    VERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n";
        let d = parse_os_release(text).unwrap();
        assert_eq!(d.id, "debian");
        assert_eq!(d.version_id.as_deref(), Some("12"));
        assert_eq!(d.codename.as_deref(), Some("bookworm"));
        assert_eq!(
            d.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
    }

    #[test]
    fn missing_id_gives_none() {
        assert_eq!(parse_os_release("VERSION_ID=3.11\n"), None);
    }

    #[test]
    fn single_quotes_and_comments() {
        let d = parse_os_release("# comment\nID='alpine'\nVERSION_ID=3.11.5\n").unwrap();
        assert_eq!(d.id, "alpine");
        assert_eq!(d.version_id.as_deref(), Some("3.11.5"));
    }
}
