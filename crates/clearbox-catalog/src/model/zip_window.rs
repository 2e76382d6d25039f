//! Random access to zip-based model files (PyTorch archives, `.npz`, `.keras`) that stream past
//! once.
//!
//! A zip's central directory sits at its end while the members a parser needs sit anywhere, so
//! the archive needs random access. The first [`HEAD`] bytes are copied to an unnamed temporary
//! file and the last [`TAIL`] bytes are kept in memory; a file no larger than both together is
//! available whole. Reads in the part between them fail with a message that names the gap, and
//! the parsers report the members there as not read. PyTorch writes `data.pkl` first, so its
//! pickle is in the head of a checkpoint of any size.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

/// Bytes from the start kept on disk.
pub(crate) const HEAD: u64 = 512 << 20;
/// Bytes from the end kept in memory; bounds the central directory that can be read.
pub(crate) const TAIL: usize = 16 << 20;
/// Largest central directory read, which bounds the memory the zip reader needs for its
/// entry list.
const MAX_CENTRAL_DIRECTORY: u64 = 16 << 20;

/// The kept parts of a file.
pub(crate) struct Window {
    head: File,
    head_len: u64,
    tail: Vec<u8>,
    tail_start: u64,
    size: u64,
    position: u64,
}

impl Window {
    /// Reads `content` to its end, keeping its head and tail. `prefix` contains bytes already read
    /// from the start of the file.
    pub(crate) fn capture(prefix: &[u8], content: &mut dyn Read) -> io::Result<Window> {
        Self::capture_with(prefix, content, HEAD, TAIL)
    }

    pub(crate) fn capture_with(
        prefix: &[u8],
        content: &mut dyn Read,
        head_max: u64,
        tail_max: usize,
    ) -> io::Result<Window> {
        let mut head = tempfile::tempfile()?;
        let prefix_len = (prefix.len() as u64).min(head_max);
        head.write_all(&prefix[..prefix_len as usize])?;
        let copied = io::copy(&mut content.take(head_max - prefix_len), &mut head)?;
        let head_len = prefix_len + copied;
        // Bytes of the prefix beyond the head (only with a tiny head in tests) start the tail.
        let mut tail = prefix[prefix_len as usize..].to_vec();
        let mut size = prefix.len() as u64 + copied;
        let mut buf = vec![0u8; 256 << 10];
        loop {
            let n = content.read(&mut buf)?;
            if n == 0 {
                break;
            }
            size += n as u64;
            tail.extend_from_slice(&buf[..n]);
            if tail.len() > 2 * tail_max {
                tail.drain(..tail.len() - tail_max);
            }
        }
        if tail.len() > tail_max {
            tail.drain(..tail.len() - tail_max);
        }
        Ok(Window {
            head,
            head_len,
            tail_start: size - tail.len() as u64,
            tail,
            size,
            position: 0,
        })
    }

    /// Checks the central directory's size from the end-of-central-directory record before a
    /// zip reader loads it. Returns a problem for a directory larger than the limit.
    pub(crate) fn check_central_directory(&mut self) -> Result<(), String> {
        let search = self.size.min(65_557);
        let mut end = vec![0u8; search as usize];
        self.seek(SeekFrom::Start(self.size - search))
            .and_then(|_| self.read_exact(&mut end))
            .map_err(|e| format!("the end of the zip archive could not be read: {e}"))?;
        let Some(at) = end.windows(4).rposition(|w| w == b"PK\x05\x06") else {
            return Err("not a zip archive: no end-of-central-directory record".into());
        };
        let record = &end[at..];
        if record.len() < 22 {
            return Err("truncated end-of-central-directory record".into());
        }
        let mut cd_size = u64::from(u32::from_le_bytes([
            record[12], record[13], record[14], record[15],
        ]));
        // A zip64 archive gives the real size in the zip64 record, found through the locator
        // just before this one.
        if cd_size == 0xffff_ffff && at >= 20 && &end[at - 20..at - 16] == b"PK\x06\x07" {
            let mut offset = [0u8; 8];
            offset.copy_from_slice(&end[at - 12..at - 4]);
            let mut zip64 = [0u8; 56];
            self.seek(SeekFrom::Start(u64::from_le_bytes(offset)))
                .and_then(|_| self.read_exact(&mut zip64))
                .map_err(|e| format!("the zip64 end record could not be read: {e}"))?;
            let mut size = [0u8; 8];
            size.copy_from_slice(&zip64[40..48]);
            cd_size = u64::from_le_bytes(size);
        }
        if cd_size > MAX_CENTRAL_DIRECTORY {
            return Err(format!(
                "the zip central directory is {cd_size} bytes, more than the {MAX_CENTRAL_DIRECTORY} read"
            ));
        }
        self.position = 0;
        Ok(())
    }
}

impl Read for Window {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.position >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let n = if self.position < self.head_len {
            let len = buf.len().min((self.head_len - self.position) as usize);
            self.head.seek(SeekFrom::Start(self.position))?;
            self.head.read(&mut buf[..len])?
        } else if self.position >= self.tail_start {
            let from = (self.position - self.tail_start) as usize;
            let len = buf.len().min(self.tail.len() - from);
            buf[..len].copy_from_slice(&self.tail[from..from + len]);
            len
        } else {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "bytes {}..{} of this {}-byte file were not kept: only its first {} and last {} bytes are read",
                    self.head_len,
                    self.tail_start,
                    self.size,
                    self.head_len,
                    self.tail.len()
                ),
            ));
        };
        self.position += n as u64;
        Ok(n)
    }
}

impl Seek for Window {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let position = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.position.checked_add_signed(d),
        };
        let Some(position) = position else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the file",
            ));
        };
        self.position = position;
        Ok(position)
    }
}

/// A zip archive read from a [`Window`].
pub(crate) struct Archive {
    zip: zip::ZipArchive<Window>,
}

/// One member of an archive, from the central directory.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub(crate) name: String,
    pub(crate) size: u64,
}

impl Archive {
    /// Opens the archive after checking that its central directory is within bounds.
    pub(crate) fn open(mut window: Window) -> Result<Archive, String> {
        window.check_central_directory()?;
        let zip =
            zip::ZipArchive::new(window).map_err(|e| format!("not a readable zip archive: {e}"))?;
        Ok(Archive { zip })
    }

    /// Every member, in central-directory order.
    pub(crate) fn members(&self) -> Vec<Member> {
        (0..self.zip.len())
            .filter_map(|i| {
                let entry = self.zip.by_index_data(i).ok()?;
                Some(Member {
                    name: entry.name().ok()?.into_owned(),
                    size: entry.size(),
                })
            })
            .collect()
    }

    /// Reads a whole member of at most `max` bytes.
    pub(crate) fn read(&mut self, name: &str, max: u64) -> Result<Vec<u8>, String> {
        self.with_member(name, |member| {
            let mut data = Vec::new();
            member
                .take(max + 1)
                .read_to_end(&mut data)
                .map_err(|e| format!("`{name}` could not be read: {e}"))?;
            if data.len() as u64 > max {
                return Err(format!("`{name}` is larger than the {max} bytes read"));
            }
            Ok(data)
        })?
    }

    /// Runs `read` on a member's decompressed content.
    pub(crate) fn with_member<T>(
        &mut self,
        name: &str,
        read: impl FnOnce(&mut dyn Read) -> T,
    ) -> Result<T, String> {
        let mut member = self
            .zip
            .by_name(name)
            .map_err(|e| format!("`{name}` could not be opened: {e}"))?;
        Ok(read(&mut member))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(data: &[u8], head: u64, tail: usize) -> Window {
        let (prefix, rest) = data.split_at(2);
        let mut rest = rest;
        Window::capture_with(prefix, &mut rest, head, tail).unwrap()
    }

    #[test]
    fn small_files_are_kept_whole() {
        let data: Vec<u8> = (0..100).collect();
        let mut w = window(&data, 64, 64);
        let mut all = Vec::new();
        w.read_to_end(&mut all).unwrap();
        assert_eq!(all, data);
    }

    #[test]
    fn the_gap_is_an_error_naming_it() {
        let data: Vec<u8> = (0..=255).collect();
        let mut w = window(&data, 16, 16);
        let mut buf = [0u8; 4];
        w.seek(SeekFrom::Start(250)).unwrap();
        w.read_exact(&mut buf).unwrap();
        assert_eq!(buf, [250, 251, 252, 253]);
        w.seek(SeekFrom::Start(100)).unwrap();
        let err = w.read_exact(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert!(err.to_string().contains("bytes 16..240"), "{err}");
    }

    #[test]
    fn not_a_zip() {
        let mut w = window(b"plain text, no zip here", 64, 64);
        assert!(
            w.check_central_directory()
                .unwrap_err()
                .contains("not a zip")
        );
    }
}
