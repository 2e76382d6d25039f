//! Writing command output: to stdout, or atomically to a file (a temporary file in the same
//! directory, renamed into place), so a failed run never leaves a half-written file.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::Context;

/// Writes `bytes` to `path`, or to stdout when `path` is `None` or `-`.
pub(crate) fn write_output(path: Option<&Path>, bytes: &[u8]) -> anyhow::Result<()> {
    match path {
        None => write_stdout(bytes),
        Some(p) if p.as_os_str() == "-" => write_stdout(bytes),
        Some(path) => {
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            let mut temp = tempfile::NamedTempFile::new_in(dir).with_context(|| {
                format!("failed to create a temporary file in `{}`", dir.display())
            })?;
            // Temporary files are created 0600; the output is an ordinary readable file.
            temp.write_all(bytes)
                .and_then(|()| {
                    temp.as_file()
                        .set_permissions(std::fs::Permissions::from_mode(0o644))
                })
                .and_then(|()| temp.as_file().sync_all())
                .with_context(|| format!("failed to write `{}`", path.display()))?;
            temp.persist(path)
                .with_context(|| format!("failed to write `{}`", path.display()))?;
            Ok(())
        }
    }
}

fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        // A closed pipe (`clearbox sbom … | head`) is not an error worth reporting.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("failed to write to stdout"),
    }
}
