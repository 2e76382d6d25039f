//! Parser for the build information the Go linker embeds in binaries
//! (`runtime/debug.BuildInfo`; format as read by Go's `debug/buildinfo` package).
//!
//! Layout: a 32-byte header starting with the magic `\xff Go buildinf:`, then the pointer size
//! and a flags byte. With flag bit 1 set (Go 1.18 and later) two length-prefixed strings
//! follow the header: the toolchain version and the module information. Without it, the
//! header holds two pointers to Go string headers somewhere in the binary's memory image.
//! The module information is tab-separated lines: `path`, `mod`, `dep`, `=>` (replaces the
//! previous `dep`) and `build`.

use std::fs::File;
use std::os::unix::fs::FileExt;

use object::read::ReadCache;
use object::{Object, ObjectSection, ObjectSegment, SegmentFlags};
use serde::Serialize;

const MAGIC: &[u8] = b"\xff Go buildinf:";
const HEADER_LEN: usize = 32;
/// Strings in a binary are never this long; a larger length means the data is not build info.
const MAX_STRING: u64 = 16 << 20;
/// Bytes read at a time when a writable segment is searched for the build information.
const SEARCH_CHUNK: usize = 1 << 20;
/// Maximum bytes kept after the magic: the header and two strings of the largest accepted
/// length, each with its varint length.
const MAX_BLOCK: u64 = HEADER_LEN as u64 + 2 * (10 + MAX_STRING);
/// `PF_W`, the ELF program header flag of a writable segment.
const PF_W: u32 = 0x2;

/// A module of the build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Module {
    /// Module path.
    pub path: String,
    /// Module version, `(devel)` for a main module built outside module mode.
    pub version: String,
    /// The `h1:` checksum from `go.sum`, when recorded.
    pub sum: Option<String>,
    /// The module that replaced this one (`replace` directive).
    pub replace: Option<Box<Module>>,
}

/// The build information of one binary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BuildInfo {
    /// Toolchain version, such as `go1.19.8`.
    pub go_version: String,
    /// Import path of the main package.
    pub path: Option<String>,
    /// The main module.
    pub main: Option<Module>,
    /// Dependencies in the order listed.
    pub deps: Vec<Module>,
    /// Build settings, `key → value`.
    pub settings: Vec<(String, String)>,
    /// Lines that were not used, with the reason: malformed module paths and versions, and
    /// modules past the limit.
    pub problems: Vec<String>,
}

/// Most modules read from one binary. Real programs list a few hundred; the cap keeps a forged
/// build information block from flooding the SBOM.
const MAX_MODULES: usize = 10_000;
/// Longest module path or version accepted.
const MAX_FIELD_LEN: usize = 1024;

/// Reads the build information of an ELF file. `Ok(None)` means the file is not a Go binary.
pub(crate) fn parse_buildinfo(file: File) -> Result<Option<BuildInfo>, String> {
    // A second handle for searching segments chunk by chunk: reads through the cache stay in
    // memory for as long as the cache lives.
    let raw = file
        .try_clone()
        .map_err(|e| format!("failed to reopen the file: {e}"))?;
    let cache = ReadCache::new(file);
    let elf = object::File::parse(&cache).map_err(|e| format!("invalid ELF file: {e}"))?;
    let Some(header) = find_header(&elf, &raw)? else {
        return Ok(None);
    };
    let (go_version, modinfo) = read_strings(&elf, &header)?;
    if go_version.is_empty() {
        return Ok(None);
    }
    let mut info = parse_modinfo(&String::from_utf8_lossy(strip_sentinels(&modinfo)));
    info.go_version = String::from_utf8_lossy(&go_version).into_owned();
    Ok(Some(info))
}

/// The 32-byte header and the section data that follows it.
#[derive(Debug)]
struct Header {
    bytes: Vec<u8>,
}

fn find_header<'a>(
    elf: &object::File<'a, &'a ReadCache<File>>,
    raw: &File,
) -> Result<Option<Header>, String> {
    if let Some(section) = elf.section_by_name(".go.buildinfo") {
        let data = section
            .data()
            .map_err(|e| format!("unreadable .go.buildinfo section: {e}"))?;
        if data.starts_with(MAGIC) && data.len() >= HEADER_LEN {
            return Ok(Some(Header {
                bytes: data.to_vec(),
            }));
        }
        return Err(".go.buildinfo section does not start with the build info magic".into());
    }
    for name in [".data", ".noptrdata"] {
        let Some(section) = elf.section_by_name(name) else {
            continue;
        };
        let data = section
            .data()
            .map_err(|e| format!("unreadable {name} section: {e}"))?;
        let found = (0..data.len().saturating_sub(HEADER_LEN))
            .step_by(16)
            .find(|&i| data[i..].starts_with(MAGIC));
        if let Some(start) = found {
            return Ok(Some(Header {
                bytes: data[start..].to_vec(),
            }));
        }
    }
    // Without section headers (removed by size-stripping tools and some packers), search the
    // writable loadable segments. The build information is not always near the start: in a
    // position-independent executable linked by the system linker, `.data.rel.ro`, `.got` and
    // `.data` come first, over a megabyte in Debian's `age`.
    if elf.sections().next().is_none() {
        for segment in elf.segments() {
            let writable = matches!(
                segment.flags(),
                SegmentFlags::Elf { p_flags, .. } if p_flags.0 & PF_W != 0
            );
            if !writable {
                continue;
            }
            let (offset, size) = segment.file_range();
            if let Some(header) = search_segment(raw, offset, size, segment.address())? {
                return Ok(Some(header));
            }
        }
    }
    Ok(None)
}

/// Searches the `size` bytes of a segment at file `offset`, loaded at `address`, for the magic
/// at a 16-byte aligned address (the linker aligns the block so), reading one chunk at a time.
fn search_segment(
    file: &File,
    offset: u64,
    size: u64,
    address: u64,
) -> Result<Option<Header>, String> {
    // Each read overlaps the next by the magic's length, so a magic across a chunk boundary is
    // still found.
    let mut chunk = vec![0; SEARCH_CHUNK + MAGIC.len()];
    let mut pos = 0;
    while pos < size {
        let want = (size - pos).min(chunk.len() as u64) as usize;
        let read = read_full_at(file, &mut chunk[..want], offset.saturating_add(pos))?;
        let first = ((16 - (address.wrapping_add(pos) % 16)) % 16) as usize;
        let found = (first..read.saturating_sub(MAGIC.len() - 1))
            .step_by(16)
            .find(|&i| chunk[i..read].starts_with(MAGIC) && pos + (i + HEADER_LEN) as u64 <= size);
        if let Some(i) = found {
            let start = pos + i as u64;
            let mut bytes = vec![0; (size - start).min(MAX_BLOCK) as usize];
            let read = read_full_at(file, &mut bytes, offset.saturating_add(start))?;
            if read < HEADER_LEN {
                return Err(format!(
                    "build info header at offset {:#x} is cut off by the end of the file",
                    offset.saturating_add(start)
                ));
            }
            bytes.truncate(read);
            return Ok(Some(Header { bytes }));
        }
        if read < want {
            break;
        }
        pos += SEARCH_CHUNK as u64;
    }
    Ok(None)
}

/// Reads into `buf` from file offset `at` until it is full or the file ends; returns the
/// number of bytes read.
fn read_full_at(file: &File, buf: &mut [u8], at: u64) -> Result<usize, String> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], at.saturating_add(done as u64)) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(format!(
                    "failed to read at offset {:#x}: {e}",
                    at.saturating_add(done as u64)
                ));
            }
        }
    }
    Ok(done)
}

/// The toolchain version and the module information, as raw bytes: the module information
/// is framed by sentinels that are not UTF-8.
fn read_strings<'a>(
    elf: &object::File<'a, &'a ReadCache<File>>,
    header: &Header,
) -> Result<(Vec<u8>, Vec<u8>), String> {
    let bytes = &header.bytes;
    let ptr_size = usize::from(bytes[14]);
    let flags = bytes[15];
    if flags & 0x2 != 0 {
        let mut rest = &bytes[HEADER_LEN..];
        let version = read_varint_string(&mut rest)?;
        let modinfo = read_varint_string(&mut rest)?;
        return Ok((version, modinfo));
    }
    // NOTE: the pointers are read as the file stores them; relocations are not applied, so a
    // position-independent binary of Go 1.17 or older whose pointer slots are left for the
    // dynamic loader to fill is not read.
    if ptr_size != 4 && ptr_size != 8 {
        return Err(format!(
            "build info pointer size {ptr_size} is neither 4 nor 8"
        ));
    }
    let big_endian = flags & 0x1 != 0;
    let read_ptr = |data: &[u8]| -> Option<u64> {
        let raw = data.get(..ptr_size)?;
        let mut value = 0u64;
        for i in 0..ptr_size {
            let byte = if big_endian {
                raw[i]
            } else {
                raw[ptr_size - 1 - i]
            };
            value = (value << 8) | u64::from(byte);
        }
        Some(value)
    };
    let mut strings = Vec::new();
    for slot in 0..2 {
        let at = 16 + slot * ptr_size;
        let header_addr = read_ptr(&bytes[at..]).ok_or("build info header is truncated")?;
        let string_header = read_at(elf, header_addr, 2 * ptr_size as u64)?;
        let data_addr = read_ptr(&string_header).ok_or("string header is truncated")?;
        let len = read_ptr(&string_header[ptr_size..]).ok_or("string header is truncated")?;
        if len > MAX_STRING {
            return Err(format!("build info string length {len} is implausible"));
        }
        strings.push(read_at(elf, data_addr, len)?);
    }
    let modinfo = strings.pop().unwrap_or_default();
    let version = strings.pop().unwrap_or_default();
    Ok((version, modinfo))
}

/// Reads `len` bytes at virtual address `addr` from the section that contains it.
fn read_at<'a>(
    elf: &object::File<'a, &'a ReadCache<File>>,
    addr: u64,
    len: u64,
) -> Result<Vec<u8>, String> {
    for section in elf.sections() {
        let start = section.address();
        if addr < start || addr.saturating_add(len) > start.saturating_add(section.size()) {
            continue;
        }
        let data = section
            .data()
            .map_err(|e| format!("unreadable section: {e}"))?;
        let offset = (addr - start) as usize;
        if let Some(slice) = data.get(offset..offset + len as usize) {
            return Ok(slice.to_vec());
        }
    }
    for segment in elf.segments() {
        if let Ok(Some(slice)) = segment.data_range(addr, len) {
            return Ok(slice.to_vec());
        }
    }
    Err(format!(
        "address {addr:#x} is not inside any section or segment"
    ))
}

fn read_varint_string(rest: &mut &[u8]) -> Result<Vec<u8>, String> {
    let mut len: u64 = 0;
    let mut shift = 0;
    loop {
        let (&byte, tail) = rest.split_first().ok_or("build info string is truncated")?;
        *rest = tail;
        len |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 63 {
            return Err("build info string length overflows".into());
        }
    }
    if len > MAX_STRING || len as usize > rest.len() {
        return Err(format!(
            "build info string length {len} runs past the section"
        ));
    }
    let (value, tail) = rest.split_at(len as usize);
    *rest = tail;
    Ok(value.to_vec())
}

/// Since Go 1.18 the module information is wrapped in 16-byte sentinels.
fn strip_sentinels(modinfo: &[u8]) -> &[u8] {
    if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' {
        &modinfo[16..modinfo.len() - 16]
    } else {
        modinfo
    }
}

/// Accepts a module whose path and version could be real; the reason otherwise. Module paths
/// are ASCII letters, digits and `-._~+/` in non-empty elements other than `.` and `..`, as
/// Go's module path rules allow (`+` for import paths); a replacement may be a local
/// directory starting with `./` or `../`, or an absolute one.
fn checked(module: Module, replacement: bool) -> Result<Module, String> {
    let shown = |s: &str| s.chars().take(80).collect::<String>();
    let path = &module.path;
    let local =
        replacement && (path.starts_with("./") || path.starts_with("../") || path.starts_with('/'));
    let path_ok = !path.is_empty()
        && path.len() <= MAX_FIELD_LEN
        && (local
            || (path
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~+/".contains(c))
                && path
                    .split('/')
                    .all(|e| !e.is_empty() && e != "." && e != "..")));
    if !path_ok {
        return Err(format!("invalid module path `{}`", shown(path)));
    }
    let version = &module.version;
    let version_ok = version.len() <= MAX_FIELD_LEN
        && (version.is_empty() || version.chars().all(|c| c.is_ascii_graphic()));
    if !version_ok {
        return Err(format!(
            "invalid version `{}` of module `{}`",
            shown(version),
            shown(path)
        ));
    }
    Ok(module)
}

/// Parses the module information lines.
pub(crate) fn parse_modinfo(text: &str) -> BuildInfo {
    let mut info = BuildInfo::default();
    let module = |fields: &[&str]| Module {
        path: fields.first().copied().unwrap_or_default().to_owned(),
        version: fields.get(1).copied().unwrap_or_default().to_owned(),
        sum: fields
            .get(2)
            .filter(|s| !s.is_empty())
            .map(|s| (*s).to_owned()),
        replace: None,
    };
    let mut truncated = false;
    for line in text.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["path", path] => info.path = Some((*path).to_owned()),
            ["mod", rest @ ..] => match checked(module(rest), false) {
                Ok(main) => info.main = Some(main),
                Err(problem) => info.problems.push(problem),
            },
            ["dep", ..] if info.deps.len() >= MAX_MODULES => truncated = true,
            ["dep", rest @ ..] => match checked(module(rest), false) {
                Ok(dep) => info.deps.push(dep),
                Err(problem) => info.problems.push(problem),
            },
            ["=>", rest @ ..] => {
                let replacement = match checked(module(rest), true) {
                    Ok(m) => Box::new(m),
                    Err(problem) => {
                        info.problems.push(problem);
                        continue;
                    }
                };
                if let Some(last) = info.deps.last_mut() {
                    last.replace = Some(replacement);
                } else if let Some(main) = info.main.as_mut() {
                    main.replace = Some(replacement);
                }
            }
            ["build", setting] => {
                if let Some((k, v)) = setting.split_once('=') {
                    info.settings
                        .push((k.to_owned(), v.trim_matches('"').to_owned()));
                }
            }
            _ => {}
        }
    }
    if truncated {
        info.problems.push(format!(
            "more than {MAX_MODULES} dependencies; the rest are not listed"
        ));
    }
    info
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    #[test]
    fn modinfo_lines() {
        let text = "path\tfilippo.io/age/cmd/age\nmod\tfilippo.io/age\t(devel)\t\n\
            dep\tgolang.org/x/crypto\tv0.1.0\th1:abc=\n=>\t./crypto\t(devel)\t\n\
            dep\tgolang.org/x/sys\tv0.2.0\th1:def=\nbuild\t-compiler=gc\nbuild\tCGO_ENABLED=0\n";
        let info = parse_modinfo(text);
        assert_eq!(info.path.as_deref(), Some("filippo.io/age/cmd/age"));
        assert_eq!(info.main.as_ref().unwrap().version, "(devel)");
        assert_eq!(info.deps.len(), 2);
        assert_eq!(info.deps[0].replace.as_ref().unwrap().path, "./crypto");
        assert_eq!(info.deps[1].sum.as_deref(), Some("h1:def="));
        assert_eq!(info.settings[1], ("CGO_ENABLED".into(), "0".into()));
    }

    #[test]
    fn malformed_module_lines_become_problems() {
        let text = "dep\t\t\t\ndep\t../../../etc\tv1.0.0\t\ndep\tgolang.org/x/net\tv0.1.0 bad\t\n\
            dep\tgolang.org/x/net\tv0.1.0\th1:x=\n";
        let info = parse_modinfo(text);
        assert_eq!(info.deps.len(), 1);
        assert_eq!(info.deps[0].path, "golang.org/x/net");
        assert_eq!(
            info.problems,
            [
                "invalid module path ``",
                "invalid module path `../../../etc`",
                "invalid version `v0.1.0 bad` of module `golang.org/x/net`",
            ]
        );
    }

    #[test]
    fn dependency_count_is_capped() {
        let mut text = String::new();
        for i in 0..MAX_MODULES + 5 {
            let _ = writeln!(text, "dep\texample.com/m{i}\tv1.0.0\t");
        }
        let info = parse_modinfo(&text);
        assert_eq!(info.deps.len(), MAX_MODULES);
        assert_eq!(
            info.problems,
            [format!(
                "more than {MAX_MODULES} dependencies; the rest are not listed"
            )]
        );
    }

    #[test]
    fn sentinels_are_stripped() {
        let inner = b"path\tx\n";
        let mut wrapped = b"0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6".to_vec();
        wrapped.extend_from_slice(inner);
        wrapped.extend_from_slice(b"\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2");
        assert_eq!(strip_sentinels(&wrapped), inner);
        assert_eq!(strip_sentinels(b"short"), b"short");
    }

    /// A file of `len` zero bytes with the magic and a header's worth of bytes at `at`.
    fn file_with_magic(len: usize, at: usize) -> File {
        let mut bytes = vec![0u8; len];
        bytes[at..at + MAGIC.len()].copy_from_slice(MAGIC);
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, &bytes).unwrap();
        file
    }

    #[test]
    fn segment_search_across_chunks() {
        let len = 3 * SEARCH_CHUNK;
        // A segment loaded at address 8 has its 16-byte aligned addresses at file offsets
        // 8 mod 16, so this magic is aligned and runs across the first chunk boundary.
        let at = SEARCH_CHUNK - 8;
        let file = file_with_magic(len, at);
        let header = search_segment(&file, 0, len as u64, 8).unwrap().unwrap();
        assert!(header.bytes.starts_with(MAGIC));
        assert_eq!(header.bytes.len(), len - at);
        // Loaded at address 0, the same bytes are not aligned.
        assert!(search_segment(&file, 0, len as u64, 0).unwrap().is_none());
        // In the last chunk.
        let file = file_with_magic(len, 2 * SEARCH_CHUNK + 32);
        let header = search_segment(&file, 0, len as u64, 0).unwrap().unwrap();
        assert_eq!(header.bytes.len(), SEARCH_CHUNK - 32);
    }

    #[test]
    fn segment_search_needs_a_whole_header() {
        let file = file_with_magic(4096, 4096 - 16);
        assert!(search_segment(&file, 0, 4096, 0).unwrap().is_none());
        // The segment claims more bytes than the file has.
        let file = file_with_magic(4096, 4096 - 16);
        let error = search_segment(&file, 0, 8192, 0).unwrap_err();
        assert!(error.contains("cut off by the end of the file"), "{error}");
    }

    #[test]
    fn varint_strings() {
        let data = [4u8, b'g', b'o', b'1', b'x', 0];
        let mut rest = &data[..];
        assert_eq!(read_varint_string(&mut rest).unwrap(), b"go1x");
        assert_eq!(read_varint_string(&mut rest).unwrap(), b"");
        let mut bad = &[200u8, 1, b'a'][..];
        assert!(read_varint_string(&mut bad).is_err());
    }
}
