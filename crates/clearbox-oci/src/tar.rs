//! A streaming reader for the tar formats found in image layers: POSIX ustar, GNU (long names,
//! old-style sparse files) and PAX extended headers.
//!
//! It exists beside the `tar` crate because layers are untrusted input: that crate reads GNU
//! long-name and PAX headers into memory whatever size they declare, so a small gzip layer can
//! claim a multi-gigabyte name. Here every extension header is capped, every numeric field is
//! checked, and the reader never seeks, so it works on a decompressing stream.
//!
//! Not supported: multi-volume archives (`M`, `V`) and PAX global headers (`g`), whose content
//! is skipped. Sparse entries are reported with their logical size but their content is not
//! reassembled; callers see `sparse == true` and should not inspect them.
//!
//! Format reference: POSIX.1-2017 `pax` "ustar Interchange Format" and the GNU tar manual,
//! "Basic Tar Format".

use std::io::{self, Read};

use crate::error::LayerProblem;

const BLOCK: u64 = 512;

/// What kind of filesystem object an entry describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A hard link to an earlier entry or a file in a lower layer.
    HardLink,
    /// A symbolic link.
    Symlink,
    /// A character device.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// A directory.
    Directory,
    /// A named pipe.
    Fifo,
}

impl EntryKind {
    /// The kind in words, for messages.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            EntryKind::File => "regular file",
            EntryKind::HardLink => "hard link",
            EntryKind::Symlink => "symlink",
            EntryKind::CharDevice => "character device",
            EntryKind::BlockDevice => "block device",
            EntryKind::Directory => "directory",
            EntryKind::Fifo => "named pipe",
        }
    }
}

/// One entry header, after applying any GNU long-name and PAX extension headers before it.
#[derive(Debug, Clone)]
pub(crate) struct TarHeader {
    pub(crate) name: String,
    pub(crate) kind: EntryKind,
    pub(crate) mode: u32,
    pub(crate) uid: u64,
    pub(crate) gid: u64,
    /// Logical size of the file (for sparse files, the size with holes filled in).
    pub(crate) size: u64,
    /// Bytes of data that follow the header in the stream.
    pub(crate) data_len: u64,
    /// Offset of the first data byte in the stream.
    pub(crate) data_offset: u64,
    pub(crate) mtime: i64,
    pub(crate) link_name: Option<String>,
    pub(crate) sparse: bool,
}

/// Limits that keep a hostile archive from exhausting memory.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TarLimits {
    /// Maximum length of an entry name or link target, after extensions.
    pub(crate) max_name_len: usize,
    /// Maximum size of one GNU long-name or PAX extension header.
    pub(crate) max_extension_len: u64,
}

/// A pull reader of tar entries.
pub(crate) struct TarReader<R> {
    inner: R,
    limits: TarLimits,
    /// Offset of the next unread byte.
    offset: u64,
    /// Data bytes of the current entry not yet read by the caller.
    remaining: u64,
    /// Padding after the current entry's data.
    padding: u64,
    /// Description of the current entry, for truncation messages.
    current: String,
    finished: bool,
}

#[derive(Default)]
struct Extensions {
    name: Option<String>,
    link_name: Option<String>,
    size: Option<u64>,
    uid: Option<u64>,
    gid: Option<u64>,
    mtime: Option<i64>,
    sparse_name: Option<String>,
    sparse_real_size: Option<u64>,
    sparse: bool,
}

impl<R: Read> TarReader<R> {
    pub(crate) fn new(inner: R, limits: TarLimits) -> Self {
        TarReader {
            inner,
            limits,
            offset: 0,
            remaining: 0,
            padding: 0,
            current: String::new(),
            finished: false,
        }
    }

    /// Returns the next entry, or `None` at the end-of-archive marker or a clean end of data.
    pub(crate) fn next_entry(&mut self) -> Result<Option<TarHeader>, LayerProblem> {
        if self.finished {
            return Ok(None);
        }
        self.skip_rest()?;
        let mut ext = Extensions::default();
        loop {
            let header_offset = self.offset;
            let Some(block) = self.read_header_block()? else {
                self.finished = true;
                return Ok(None);
            };
            if block.iter().all(|&b| b == 0) {
                // One zero block ends the archive for our purposes; GNU tar accepts a lone one
                // too. Whatever follows is drained by the caller for the digest.
                self.finished = true;
                return Ok(None);
            }
            verify_checksum(&block, header_offset)?;
            let typeflag = block[156];
            let size = parse_numeric(&block[124..136], header_offset, "size")?;
            match typeflag {
                b'L' => ext.name = Some(self.read_extension_string(size, "GNU long name")?),
                b'K' => ext.link_name = Some(self.read_extension_string(size, "GNU long link")?),
                b'x' => {
                    let data = self.read_extension(size, "PAX header")?;
                    apply_pax(&data, &mut ext, header_offset)?;
                }
                b'g' => self.skip_bytes(padded(size), "PAX global header")?,
                _ => {
                    return self
                        .finish_header(&block, header_offset, size, ext)
                        .map(Some);
                }
            }
        }
    }

    /// Reader over the current entry's data. Reading past the data returns end of file.
    pub(crate) fn content(&mut self) -> EntryContent<'_, R> {
        EntryContent { tar: self }
    }

    /// Consumes the reader and returns the underlying stream, positioned after the last entry
    /// read (or after the end-of-archive block).
    pub(crate) fn into_inner(self) -> R {
        self.inner
    }

    fn finish_header(
        &mut self,
        block: &[u8; 512],
        header_offset: u64,
        raw_size: u64,
        ext: Extensions,
    ) -> Result<TarHeader, LayerProblem> {
        let typeflag = block[156];
        let gnu = &block[257..265] == b"ustar  \0";
        let mut name = ext.sparse_name.or(ext.name).unwrap_or_else(|| {
            let base = c_string(&block[0..100]);
            let prefix = if gnu {
                String::new()
            } else {
                c_string(&block[345..500])
            };
            if prefix.is_empty() {
                base
            } else {
                format!("{prefix}/{base}")
            }
        });
        let link_name = ext.link_name.or_else(|| {
            let l = c_string(&block[157..257]);
            (!l.is_empty()).then_some(l)
        });
        if typeflag == b'5' || typeflag == b'D' {
            while name.ends_with('/') && name.len() > 1 {
                name.pop();
            }
        }
        for len in [name.len(), link_name.as_ref().map_or(0, String::len)] {
            if len > self.limits.max_name_len {
                return Err(LayerProblem::NameTooLong {
                    len,
                    limit: self.limits.max_name_len,
                });
            }
        }

        let kind = match typeflag {
            b'0' | b'\0' | b'7' | b'S' => EntryKind::File,
            b'1' => EntryKind::HardLink,
            b'2' => EntryKind::Symlink,
            b'3' => EntryKind::CharDevice,
            b'4' => EntryKind::BlockDevice,
            b'5' | b'D' => EntryKind::Directory,
            b'6' => EntryKind::Fifo,
            other => {
                return Err(LayerProblem::InvalidHeader {
                    offset: header_offset,
                    reason: format!("unsupported entry type {:?} for `{name}`", other as char),
                });
            }
        };
        let data_len = ext.size.unwrap_or(raw_size);
        let mut size = data_len;
        let mut sparse = ext.sparse;
        if typeflag == b'S' {
            // Old GNU sparse format: the real size sits at byte 483, and extension blocks
            // with more sparse map entries follow while the `isextended` flag is set.
            sparse = true;
            size = parse_numeric(&block[483..495], header_offset, "GNU sparse real size")?;
            let mut extended = block[482] != 0;
            while extended {
                let Some(next) = self.read_header_block()? else {
                    return Err(LayerProblem::Truncated(format!(
                        "GNU sparse map of `{name}`"
                    )));
                };
                extended = next[504] != 0;
            }
        }
        if let Some(real) = ext.sparse_real_size {
            size = real;
        }
        // Hard links, symlinks, directories and devices carry no data even if a size is set,
        // except that some writers put a size on hard links; the data, if any, is skipped.
        let mode = parse_numeric(&block[100..108], header_offset, "mode")? as u32 & 0o7777;
        let header = TarHeader {
            kind,
            mode,
            uid: match ext.uid {
                Some(v) => v,
                None => parse_numeric(&block[108..116], header_offset, "uid")?,
            },
            gid: match ext.gid {
                Some(v) => v,
                None => parse_numeric(&block[116..124], header_offset, "gid")?,
            },
            size: if kind == EntryKind::File { size } else { 0 },
            data_len,
            data_offset: self.offset,
            mtime: match ext.mtime {
                Some(v) => v,
                None => parse_signed(&block[136..148], header_offset, "mtime")?,
            },
            link_name,
            sparse,
            name,
        };
        self.remaining = data_len;
        self.padding = padded(data_len) - data_len;
        self.current = format!(
            "entry `{}` (header declares {} bytes)",
            header.name, header.data_len
        );
        Ok(header)
    }

    fn read_header_block(&mut self) -> Result<Option<[u8; 512]>, LayerProblem> {
        let mut block = [0u8; 512];
        let mut filled = 0;
        while filled < block.len() {
            match self.inner.read(&mut block[filled..]) {
                Ok(0) if filled == 0 => return Ok(None),
                Ok(0) => {
                    return Err(LayerProblem::Truncated(format!(
                        "tar header at byte offset {}",
                        self.offset
                    )));
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(map_read_error(e)),
            }
        }
        self.offset += BLOCK;
        Ok(Some(block))
    }

    fn read_extension(&mut self, size: u64, what: &str) -> Result<Vec<u8>, LayerProblem> {
        if size > self.limits.max_extension_len {
            return Err(LayerProblem::ExtensionTooLarge {
                size,
                limit: self.limits.max_extension_len,
            });
        }
        let mut data = vec![0u8; size as usize];
        read_exact_or(&mut self.inner, &mut data, || what.to_owned())?;
        self.offset += size;
        self.skip_bytes(padded(size) - size, what)?;
        Ok(data)
    }

    fn read_extension_string(&mut self, size: u64, what: &str) -> Result<String, LayerProblem> {
        let data = self.read_extension(size, what)?;
        Ok(c_string(&data))
    }

    fn skip_rest(&mut self) -> Result<(), LayerProblem> {
        let n = self.remaining + self.padding;
        self.remaining = 0;
        self.padding = 0;
        let what = std::mem::take(&mut self.current);
        self.skip_bytes(n, &what)
    }

    fn skip_bytes(&mut self, n: u64, what: &str) -> Result<(), LayerProblem> {
        let copied =
            io::copy(&mut (&mut self.inner).take(n), &mut io::sink()).map_err(map_read_error)?;
        self.offset += copied;
        if copied < n {
            return Err(LayerProblem::Truncated(what.to_owned()));
        }
        Ok(())
    }
}

/// The data of the current entry.
pub(crate) struct EntryContent<'a, R> {
    tar: &'a mut TarReader<R>,
}

impl<R: Read> Read for EntryContent<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.tar.remaining == 0 {
            return Ok(0);
        }
        let max = buf
            .len()
            .min(usize::try_from(self.tar.remaining).unwrap_or(usize::MAX));
        let n = self.tar.inner.read(&mut buf[..max])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                LayerProblem::Truncated(self.tar.current.clone()),
            ));
        }
        self.tar.remaining -= n as u64;
        self.tar.offset += n as u64;
        Ok(n)
    }
}

/// Maps a read error back to the layer problem it carries, if our own readers raised it.
pub(crate) fn map_read_error(e: io::Error) -> LayerProblem {
    if e.get_ref()
        .is_some_and(<dyn std::error::Error + Send + Sync>::is::<LayerProblem>)
    {
        let inner = e.into_inner().expect("checked above");
        return *inner.downcast::<LayerProblem>().expect("checked above");
    }
    LayerProblem::Io(e)
}

fn read_exact_or(
    r: &mut impl Read,
    buf: &mut [u8],
    what: impl Fn() -> String,
) -> Result<(), LayerProblem> {
    match r.read_exact(buf) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(LayerProblem::Truncated(what())),
        Err(e) => Err(map_read_error(e)),
    }
}

fn padded(n: u64) -> u64 {
    n.div_ceil(BLOCK) * BLOCK
}

fn c_string(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

fn verify_checksum(block: &[u8; 512], offset: u64) -> Result<(), LayerProblem> {
    let stored = parse_numeric(&block[148..156], offset, "checksum")?;
    let unsigned: u64 = block
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(b)
            }
        })
        .sum();
    // Some old writers summed signed bytes; accept either as GNU tar does.
    let signed: i64 = block
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                i64::from(b.cast_signed())
            }
        })
        .sum();
    if stored == unsigned || i64::try_from(stored).is_ok_and(|s| s == signed) {
        Ok(())
    } else {
        Err(LayerProblem::InvalidHeader {
            offset,
            reason: format!("checksum {stored} does not match computed {unsigned}"),
        })
    }
}

/// Parses an octal field, or a base-256 field when the high bit of the first byte is set.
fn parse_numeric(field: &[u8], offset: u64, name: &str) -> Result<u64, LayerProblem> {
    let invalid = |reason: &str| LayerProblem::InvalidHeader {
        offset,
        reason: format!("{name} field {reason}"),
    };
    if field.first().is_some_and(|&b| b & 0x80 != 0) {
        if field[0] == 0xff {
            return Err(invalid("is negative"));
        }
        let mut value: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            value = value
                .checked_mul(256)
                .and_then(|v| v.checked_add(u64::from(b)))
                .ok_or_else(|| invalid("overflows 64 bits"))?;
        }
        return Ok(value);
    }
    let text: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|&b| b == b' ' || b == 0)
        .take_while(|&b| b != b' ' && b != 0)
        .collect();
    if text.is_empty() {
        return Ok(0);
    }
    let mut value: u64 = 0;
    for b in text {
        if !(b'0'..=b'7').contains(&b) {
            return Err(invalid("is not octal"));
        }
        value = value
            .checked_mul(8)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or_else(|| invalid("overflows 64 bits"))?;
    }
    Ok(value)
}

fn parse_signed(field: &[u8], offset: u64, name: &str) -> Result<i64, LayerProblem> {
    if field.first() == Some(&0xff) {
        // Base-256 negative: two's complement over the whole field.
        let mut value: i64 = -1;
        for &b in field {
            value = (value << 8) | i64::from(b);
        }
        return Ok(value);
    }
    let v = parse_numeric(field, offset, name)?;
    i64::try_from(v).map_err(|_| LayerProblem::InvalidHeader {
        offset,
        reason: format!("{name} field overflows"),
    })
}

fn apply_pax(data: &[u8], ext: &mut Extensions, offset: u64) -> Result<(), LayerProblem> {
    let invalid = |reason: String| LayerProblem::InvalidHeader { offset, reason };
    let mut rest = data;
    while !rest.is_empty() {
        // Each record is "LEN key=value\n", where LEN counts the whole record.
        let space = rest
            .iter()
            .position(|&b| b == b' ')
            .ok_or_else(|| invalid("PAX record without a length".into()))?;
        let len: usize = std::str::from_utf8(&rest[..space])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid("PAX record length is not a number".into()))?;
        if len <= space + 1 || len > rest.len() || rest[len - 1] != b'\n' {
            return Err(invalid(format!("PAX record length {len} is inconsistent")));
        }
        let record = &rest[space + 1..len - 1];
        rest = &rest[len..];
        let Some(eq) = record.iter().position(|&b| b == b'=') else {
            return Err(invalid("PAX record without `=`".into()));
        };
        let key = String::from_utf8_lossy(&record[..eq]);
        let value = String::from_utf8_lossy(&record[eq + 1..]).into_owned();
        let number = |v: &str| -> Result<u64, LayerProblem> {
            v.parse()
                .map_err(|_| invalid(format!("PAX `{key}` value `{v}` is not a number")))
        };
        match key.as_ref() {
            "path" => ext.name = Some(value),
            "linkpath" => ext.link_name = Some(value),
            "size" => ext.size = Some(number(&value)?),
            "uid" => ext.uid = Some(number(&value)?),
            "gid" => ext.gid = Some(number(&value)?),
            // Fractional seconds are dropped; clearbox reports whole seconds.
            "mtime" => {
                let whole = value.split('.').next().unwrap_or("0");
                ext.mtime = Some(whole.parse().map_err(|_| {
                    invalid(format!("PAX `mtime` value `{value}` is not a number"))
                })?);
            }
            "GNU.sparse.name" => {
                ext.sparse = true;
                ext.sparse_name = Some(value);
            }
            "GNU.sparse.realsize" | "GNU.sparse.size" => {
                ext.sparse = true;
                ext.sparse_real_size = Some(number(&value)?);
            }
            "GNU.sparse.major" | "GNU.sparse.minor" | "GNU.sparse.map" => ext.sparse = true,
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: TarLimits = TarLimits {
        max_name_len: 4096,
        max_extension_len: 1 << 20,
    };

    fn build(f: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        f(&mut b);
        b.into_inner().unwrap()
    }

    fn file(b: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]) {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, name, data).unwrap();
    }

    fn entries(data: &[u8]) -> Vec<(TarHeader, Vec<u8>)> {
        let mut r = TarReader::new(data, LIMITS);
        let mut out = Vec::new();
        while let Some(h) = r.next_entry().unwrap() {
            let mut content = Vec::new();
            r.content().read_to_end(&mut content).unwrap();
            out.push((h, content));
        }
        out
    }

    #[test]
    fn reads_files_and_content() {
        let data = build(|b| {
            file(b, "etc/hostname", b"box\n");
            file(b, "etc/empty", b"");
        });
        let e = entries(&data);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].0.name, "etc/hostname");
        assert_eq!(e[0].0.mode, 0o644);
        assert_eq!(e[0].1, b"box\n");
        assert_eq!(e[1].0.size, 0);
    }

    #[test]
    fn gnu_long_names_are_applied() {
        let long = format!("usr/{}/file", "d".repeat(300));
        let data = build(|b| file(b, &long, b"x"));
        let e = entries(&data);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].0.name, long);
    }

    #[test]
    fn pax_path_and_size_are_applied() {
        let long = format!("opt/{}/f", "p".repeat(200));
        let data = build(|b| {
            let mut h = tar::Header::new_ustar();
            h.set_size(3);
            h.set_mode(0o755);
            b.append_data(&mut h, &long, &b"abc"[..]).unwrap();
        });
        let e = entries(&data);
        assert_eq!(e[0].0.name, long);
        assert_eq!(e[0].1, b"abc");
    }

    #[test]
    fn symlinks_and_hardlinks_keep_targets() {
        let data = build(|b| {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            b.append_link(&mut h, "bin/sh", "/bin/dash").unwrap();
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Link);
            h.set_size(0);
            b.append_link(&mut h, "bin/hl", "bin/dash").unwrap();
        });
        let e = entries(&data);
        assert_eq!(e[0].0.kind, EntryKind::Symlink);
        assert_eq!(e[0].0.link_name.as_deref(), Some("/bin/dash"));
        assert_eq!(e[1].0.kind, EntryKind::HardLink);
        assert_eq!(e[1].0.link_name.as_deref(), Some("bin/dash"));
    }

    #[test]
    fn truncated_data_is_an_error() {
        let mut data = build(|b| file(b, "big", &[7u8; 2000]));
        data.truncate(512 + 100);
        let mut r = TarReader::new(&data[..], LIMITS);
        r.next_entry().unwrap().unwrap();
        let err = r.next_entry().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unexpected end of data in entry `big` (header declares 2000 bytes)"
        );
    }

    #[test]
    fn bad_checksum_is_an_error() {
        let mut data = build(|b| file(b, "f", b"x"));
        data[0] = b'g';
        let err = TarReader::new(&data[..], LIMITS).next_entry().unwrap_err();
        assert!(err.to_string().contains("checksum"), "{err}");
    }

    #[test]
    fn oversized_long_name_header_is_rejected_before_reading() {
        let mut h = tar::Header::new_gnu();
        h.as_gnu_mut().unwrap().name[..13].copy_from_slice(b"././@LongLink");
        h.set_entry_type(tar::EntryType::GNULongName);
        h.set_size(10 << 30);
        h.set_cksum();
        let data = h.as_bytes().to_vec();
        let err = TarReader::new(&data[..], LIMITS).next_entry().unwrap_err();
        assert_eq!(
            err.to_string(),
            "extension header of 10737418240 bytes exceeds the limit of 1048576 bytes"
        );
    }

    #[test]
    fn octal_and_base256_numbers() {
        assert_eq!(parse_numeric(b"0000644\0", 0, "mode").unwrap(), 0o644);
        assert_eq!(parse_numeric(b"  17 \0", 0, "x").unwrap(), 0o17);
        let mut big = [0u8; 12];
        big[0] = 0x80;
        big[7] = 0x02;
        big[8] = 0x80;
        assert_eq!(parse_numeric(&big, 0, "size").unwrap(), 0x0002_8000_0000);
        assert!(parse_numeric(b"0009\0", 0, "x").is_err());
    }
}
