//! Writing command output: to stdout, or atomically to a file (a temporary file in the same
//! directory, renamed into place), so a failed run never leaves a half-written file. Status
//! lines for people go to stderr, one line each, with text from images and signatures escaped
//! so that it cannot start a line of its own or send terminal escape sequences.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use clearbox_catalog::escape_unprintable;

/// Set by `--quiet`: status lines are not printed.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Turns status lines off (`--quiet`) or on. Default on.
pub(crate) fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Returns whether `--quiet` was given.
pub(crate) fn is_quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Prints a status line on stderr unless `--quiet` was given. Control characters and other
/// line-breaking or direction-changing characters in `text` are printed as `\u{..}` escapes.
pub(crate) fn status(text: &str) {
    if !is_quiet() {
        notice(text);
    }
}

/// Log output on stderr (`tracing_subscriber::fmt`), which writes each event as one line in one
/// call. Line breaks and other characters that [`escape_unprintable`] escapes are escaped inside
/// the line, because fields quote file names and reasons from images and advisories. ESC is
/// kept: the formatter uses it for colours and already escapes it in field values.
pub(crate) struct LogWriter;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LogWriter
    }
}

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let (line, end) = match text.strip_suffix('\n') {
            Some(line) => (line, "\n"),
            None => (&*text, ""),
        };
        let escaped: Vec<_> = line.split('\u{1b}').map(escape_unprintable).collect();
        let mut out = escaped.join("\u{1b}");
        out.push_str(end);
        std::io::stderr().lock().write_all(out.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Prints a line on stderr even with `--quiet`: the reason for a failed gate, which the exit
/// code alone does not give. Escaped as [`status`] escapes.
pub(crate) fn notice(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{}", escape_unprintable(text));
}

/// Writes `bytes` to `path`, or to stdout when `path` is `None` or `-`.
///
/// A regular file (or a new one) is replaced atomically: the bytes go to a temporary file in
/// the same directory, which is then renamed over it, so readers never see half a file. A
/// symbolic link is followed, and its target is written, not the link replaced. A FIFO or a
/// character device (`/dev/stdout`, a named pipe) cannot be replaced, so it is written in
/// place. A directory or other special file is an error.
pub(crate) fn write_output(path: Option<&Path>, bytes: &[u8]) -> anyhow::Result<()> {
    match path {
        None => write_stdout(bytes),
        Some(p) if p.as_os_str() == "-" => write_stdout(bytes),
        Some(given) => {
            let resolved;
            let path = match std::fs::symlink_metadata(given) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    resolved = std::fs::canonicalize(given).with_context(|| {
                        format!(
                            "`{}` is a symbolic link whose target cannot be resolved",
                            given.display()
                        )
                    })?;
                    resolved.as_path()
                }
                _ => given,
            };
            if let Ok(meta) = std::fs::metadata(path) {
                use std::os::unix::fs::FileTypeExt as _;
                let kind = meta.file_type();
                if kind.is_fifo() || kind.is_char_device() {
                    let mut file = std::fs::OpenOptions::new()
                        .write(true)
                        .open(path)
                        .with_context(|| format!("failed to open `{}`", given.display()))?;
                    return file
                        .write_all(bytes)
                        .with_context(|| format!("failed to write `{}`", given.display()));
                }
                if !kind.is_file() {
                    anyhow::bail!(
                        "`{}` is not a regular file (a directory, socket or block device); give \
                         a file name for the output",
                        given.display()
                    );
                }
            }
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
