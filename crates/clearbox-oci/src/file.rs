//! Reading local input files whole, with a size limit, and only when they are regular files.
//!
//! A path given on the command line or found in a layout may name a FIFO (opening it blocks
//! until a writer appears), a device such as `/dev/zero` (reading never ends), or a sparse file
//! of any apparent size. [`open_regular_file`] opens without blocking and checks the file type
//! of what it opened, so a path replaced by a FIFO between a check and the open cannot hang the
//! reader. [`read_regular_file`] then reads at most the limit, even from a file that grows.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

/// The reason a file was not read.
#[derive(Debug)]
#[non_exhaustive]
pub enum FileProblem {
    /// The path names something other than a regular file.
    NotRegular {
        /// The kind of file: `a directory`, `a FIFO`, `a character device` …
        kind: &'static str,
    },
    /// The file is larger than the limit.
    TooLarge {
        /// Its size in bytes (at least `limit + 1` for a file that grew while read).
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
}

impl fmt::Display for FileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileProblem::NotRegular { kind } => {
                write!(f, "it is {kind}, not a regular file; pass a regular file")
            }
            FileProblem::TooLarge { size, limit } => {
                write!(
                    f,
                    "it is {size} bytes, more than the limit of {limit} bytes"
                )?;
                match whole_units(*limit) {
                    Some(units) => write!(f, " ({units})"),
                    None => Ok(()),
                }
            }
        }
    }
}

impl std::error::Error for FileProblem {}

impl FileProblem {
    fn into_io(self) -> io::Error {
        let kind = match self {
            FileProblem::NotRegular { .. } => io::ErrorKind::InvalidInput,
            FileProblem::TooLarge { .. } => io::ErrorKind::FileTooLarge,
        };
        io::Error::new(kind, self)
    }

    /// Finds the problem inside an error that this module returned, if there is one.
    #[must_use]
    pub fn of(error: &io::Error) -> Option<&FileProblem> {
        error.get_ref()?.downcast_ref()
    }
}

/// Formats a size in GiB, MiB or KiB when it is a whole number of one of them.
fn whole_units(bytes: u64) -> Option<String> {
    [("GiB", 30), ("MiB", 20), ("KiB", 10)]
        .into_iter()
        .find(|(_, shift)| bytes >= 1 << shift && bytes.is_multiple_of(1 << shift))
        .map(|(unit, shift)| format!("{} {unit}", bytes >> shift))
}

/// Opens `path` for reading if it is a regular file (after following symlinks) and returns it
/// with its size. Anything else is an error of kind `InvalidInput` carrying
/// [`FileProblem::NotRegular`]. The open does not block on a FIFO.
pub fn open_regular_file(path: &Path) -> io::Result<(File, u64)> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        // Without O_NONBLOCK, opening a FIFO waits for a writer. It changes nothing for reads
        // of regular files.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(FileProblem::NotRegular {
            kind: describe_type(metadata.file_type()),
        }
        .into_io());
    }
    Ok((file, metadata.len()))
}

/// Reads the regular file at `path` whole, if it has at most `limit` bytes. A larger file is an
/// error of kind `FileTooLarge` carrying [`FileProblem::TooLarge`], raised before anything is
/// read when the size is known up front.
pub fn read_regular_file(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let (file, size) = open_regular_file(path)?;
    if size > limit {
        return Err(FileProblem::TooLarge { size, limit }.into_io());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(FileProblem::TooLarge {
            size: bytes.len() as u64,
            limit,
        }
        .into_io());
    }
    Ok(bytes)
}

fn describe_type(file_type: std::fs::FileType) -> &'static str {
    if file_type.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_named_in_whole_units() {
        assert_eq!(whole_units(64 << 10).as_deref(), Some("64 KiB"));
        assert_eq!(whole_units(4 << 20).as_deref(), Some("4 MiB"));
        assert_eq!(whole_units(1 << 30).as_deref(), Some("1 GiB"));
        assert_eq!(whole_units(1000), None);
    }

    #[test]
    fn file_at_the_limit_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"1234").unwrap();
        assert_eq!(read_regular_file(&path, 4).unwrap(), b"1234");
        let error = read_regular_file(&path, 3).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::FileTooLarge);
        assert_eq!(
            error.to_string(),
            "it is 4 bytes, more than the limit of 3 bytes"
        );
    }

    #[test]
    fn directory_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let error = read_regular_file(dir.path(), 10).unwrap_err();
        assert_eq!(
            error.to_string(),
            "it is a directory, not a regular file; pass a regular file"
        );
    }
}
