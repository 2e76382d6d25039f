//! Parser for the package headers that the rpm database stores, one blob per installed package.
//!
//! A stored header is an rpm header without its 8-byte magic: a big-endian index length `il`
//! and data length `dl`, then `il` 16-byte index entries (tag, type, offset into the data
//! section, count), then `dl` bytes of data. The first entry may be a region tag (61, 62 or
//! 63) whose 16-byte trailer in the data section gives the number of entries in the signed,
//! immutable region; entries after the region ("dribbles", such as the install time) replace
//! region entries with the same tag. Format: <https://rpm.org/docs/latest/manual/format_header.html>
//! and `docs/manual/hregions.md` in rpm's source.
//!
//! Every offset, count and string is checked against the blob before use, so a truncated or
//! forged header gives an error, never a read out of bounds. Signature verification is not
//! done: the header is read as stored.

use std::collections::HashMap;

use crate::rpm::parse_signature::{describe_signature, hash_name};

/// Most index entries rpm accepts in one header (`HEADER_TAGS_MAX` in rpm's `header.c`).
const MAX_INDEX_ENTRIES: usize = 0xffff;
/// Largest data section rpm accepts (`HEADER_DATA_MAX`, 256 MiB).
const MAX_DATA_LEN: usize = 0x0fff_ffff;
const ENTRY_LEN: usize = 16;

const TAG_HEADER_IMAGE: u32 = 61;
const TAG_HEADER_IMMUTABLE: u32 = 63;
const TAG_SIGPGP: u32 = 259;
const TAG_SIGMD5: u32 = 261;
const TAG_SIGGPG: u32 = 262;
const TAG_DSAHEADER: u32 = 267;
const TAG_RSAHEADER: u32 = 268;
const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_SUMMARY: u32 = 1004;
const TAG_INSTALLTIME: u32 = 1008;
const TAG_SIZE: u32 = 1009;
const TAG_VENDOR: u32 = 1011;
const TAG_LICENSE: u32 = 1014;
const TAG_URL: u32 = 1020;
const TAG_ARCH: u32 = 1022;
const TAG_OLDFILENAMES: u32 = 1027;
const TAG_SOURCERPM: u32 = 1044;
const TAG_DIRINDEXES: u32 = 1116;
const TAG_BASENAMES: u32 = 1117;
const TAG_DIRNAMES: u32 = 1118;
const TAG_LONGSIZE: u32 = 5009;
const TAG_FILEDIGESTALGO: u32 = 5011;
const TAG_MODULARITYLABEL: u32 = 5096;

/// rpm's data types (`rpmTagType`).
const TYPE_NULL: u32 = 0;
const TYPE_CHAR: u32 = 1;
const TYPE_INT8: u32 = 2;
const TYPE_INT16: u32 = 3;
const TYPE_INT32: u32 = 4;
const TYPE_INT64: u32 = 5;
const TYPE_STRING: u32 = 6;
const TYPE_BIN: u32 = 7;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// The fields of one installed package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RpmHeader {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) release: String,
    pub(crate) epoch: Option<u32>,
    pub(crate) arch: Option<String>,
    /// Source RPM file name, such as `util-linux-2.32.1-42.el8_8.src.rpm`.
    pub(crate) source_rpm: Option<String>,
    pub(crate) license: Option<String>,
    pub(crate) vendor: Option<String>,
    pub(crate) summary: Option<String>,
    pub(crate) url: Option<String>,
    /// Installed size in bytes (`LONGSIZE`, else `SIZE`).
    pub(crate) size: Option<u64>,
    /// MD5 of the header and payload as the package was built, lowercase hexadecimal.
    pub(crate) sigmd5: Option<String>,
    pub(crate) modularity_label: Option<String>,
    /// When the package was installed, in seconds since the Unix epoch.
    pub(crate) install_time: Option<u32>,
    /// The signature as `rpm -qi` describes it, such as `RSA/SHA256, Mon Apr  3 18:10:39 2023,
    /// Key ID 199e2f91fd431d51`; not verified.
    pub(crate) signature: Option<String>,
    /// Hash algorithm of the file digests, such as `SHA256`.
    pub(crate) file_digest_algorithm: Option<String>,
    /// Absolute paths of the files the package installed.
    pub(crate) files: Vec<String>,
    /// Parts of the header that were skipped, such as a file with a bad directory index.
    pub(crate) problems: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    ty: u32,
    offset: usize,
    count: usize,
    /// Length of the value in bytes, checked to lie inside the data section.
    len: usize,
}

/// A header whose index has been checked against its data section.
struct Header<'a> {
    data: &'a [u8],
    entries: HashMap<u32, Entry>,
}

/// Parses a stored header blob.
pub(crate) fn parse_header(blob: &[u8]) -> Result<RpmHeader, String> {
    let header = Header::parse(blob)?;
    let name = header.string(TAG_NAME)?.ok_or("header has no NAME tag")?;
    let version = header
        .string(TAG_VERSION)?
        .ok_or("header has no VERSION tag")?;
    let release = header
        .string(TAG_RELEASE)?
        .ok_or("header has no RELEASE tag")?;
    let size = match header.u64(TAG_LONGSIZE)? {
        Some(size) => Some(size),
        None => header.u32(TAG_SIZE)?.map(u64::from),
    };
    let mut problems = Vec::new();
    let files = header.files(&mut problems)?;
    let signature = header.signature().unwrap_or_else(|problem| {
        problems.push(format!("signature not read: {problem}"));
        None
    });
    let file_digest_algorithm = header
        .u32(TAG_FILEDIGESTALGO)?
        .map(|id| hash_name(u8::try_from(id).unwrap_or(u8::MAX)));
    Ok(RpmHeader {
        name,
        version,
        release,
        epoch: header.u32(TAG_EPOCH)?,
        arch: header.string(TAG_ARCH)?,
        source_rpm: none_if_unset(header.string(TAG_SOURCERPM)?),
        license: none_if_unset(header.string(TAG_LICENSE)?),
        vendor: none_if_unset(header.string(TAG_VENDOR)?),
        summary: header.string(TAG_SUMMARY)?,
        url: header.string(TAG_URL)?,
        size,
        sigmd5: header.bin(TAG_SIGMD5)?.map(hex::encode),
        modularity_label: header.string(TAG_MODULARITYLABEL)?,
        install_time: header.u32(TAG_INSTALLTIME)?,
        signature,
        file_digest_algorithm,
        files,
        problems,
    })
}

/// rpm prints an unset string as `(none)`; some databases store that text itself.
fn none_if_unset(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty() && v != "(none)")
}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

impl<'a> Header<'a> {
    /// Checks the intro, every index entry and the region trailer.
    fn parse(blob: &'a [u8]) -> Result<Header<'a>, String> {
        // 1. Intro: entry count and data length, within rpm's own limits and the blob.
        if blob.len() < 8 {
            return Err(format!(
                "header is truncated: {} bytes, shorter than the 8-byte intro",
                blob.len()
            ));
        }
        let il = be_u32(blob, 0) as usize;
        let dl = be_u32(blob, 4) as usize;
        if il == 0 || il > MAX_INDEX_ENTRIES {
            return Err(format!(
                "header has {il} index entries; rpm allows 1 to {MAX_INDEX_ENTRIES}"
            ));
        }
        if dl > MAX_DATA_LEN {
            return Err(format!(
                "header data section is {dl} bytes, larger than rpm's {MAX_DATA_LEN}-byte limit"
            ));
        }
        let data_start = 8 + il * ENTRY_LEN;
        let needed = data_start + dl;
        if blob.len() < needed {
            return Err(format!(
                "header is truncated: its index and data need {needed} bytes, the blob has {}",
                blob.len()
            ));
        }
        let data = &blob[data_start..needed];

        // 2. Index entries: known type, offset inside the data, aligned, value inside the data.
        let mut entries = HashMap::with_capacity(il);
        for i in 0..il {
            let at = 8 + i * ENTRY_LEN;
            let tag = be_u32(blob, at);
            let ty = be_u32(blob, at + 4);
            let offset = be_u32(blob, at + 8) as usize;
            let count = be_u32(blob, at + 12) as usize;
            if i == 0 && (TAG_HEADER_IMAGE..=TAG_HEADER_IMMUTABLE).contains(&tag) {
                check_region(data, il, tag, ty, offset, count)?;
                continue;
            }
            let entry = check_entry(data, i, tag, ty, offset, count)?;
            if entry.ty != TYPE_NULL {
                // Entries after the region (dribbles) come later in the index and replace
                // region entries with the same tag, as rpm's header import does.
                entries.insert(tag, entry);
            }
        }
        Ok(Header { data, entries })
    }

    fn value(&self, tag: u32, types: &[u32]) -> Result<Option<(Entry, &'a [u8])>, String> {
        let Some(&entry) = self.entries.get(&tag) else {
            return Ok(None);
        };
        if !types.contains(&entry.ty) {
            return Err(format!(
                "tag {tag} has type {}, expected one of {types:?}",
                entry.ty
            ));
        }
        Ok(Some((
            entry,
            &self.data[entry.offset..entry.offset + entry.len],
        )))
    }

    /// Reads a `STRING`, or the first string of an `I18NSTRING` (the untranslated text).
    fn string(&self, tag: u32) -> Result<Option<String>, String> {
        let Some((_, bytes)) = self.value(tag, &[TYPE_STRING, TYPE_I18NSTRING])? else {
            return Ok(None);
        };
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        Ok(Some(String::from_utf8_lossy(&bytes[..end]).into_owned()))
    }

    fn string_array(&self, tag: u32) -> Result<Option<Vec<String>>, String> {
        let Some((entry, bytes)) = self.value(tag, &[TYPE_STRING_ARRAY])? else {
            return Ok(None);
        };
        let strings = bytes
            .split(|&b| b == 0)
            .take(entry.count)
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect();
        Ok(Some(strings))
    }

    fn u32(&self, tag: u32) -> Result<Option<u32>, String> {
        Ok(self.u32_array(tag)?.and_then(|v| v.first().copied()))
    }

    fn u32_array(&self, tag: u32) -> Result<Option<Vec<u32>>, String> {
        let Some((_, bytes)) = self.value(tag, &[TYPE_INT32])? else {
            return Ok(None);
        };
        Ok(Some(bytes.chunks_exact(4).map(|c| be_u32(c, 0)).collect()))
    }

    fn u64(&self, tag: u32) -> Result<Option<u64>, String> {
        let Some((_, bytes)) = self.value(tag, &[TYPE_INT64])? else {
            return Ok(None);
        };
        Ok(bytes
            .get(..8)
            .map(|b| u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])))
    }

    fn bin(&self, tag: u32) -> Result<Option<&'a [u8]>, String> {
        Ok(self.value(tag, &[TYPE_BIN])?.map(|(_, bytes)| bytes))
    }

    /// Describes the first signature that `rpm -qi` would show: the header-only DSA or RSA
    /// signature, else the header-and-payload GPG or PGP one.
    fn signature(&self) -> Result<Option<String>, String> {
        for tag in [TAG_DSAHEADER, TAG_RSAHEADER, TAG_SIGGPG, TAG_SIGPGP] {
            if let Some(packet) = self.bin(tag)? {
                return describe_signature(packet).map(Some);
            }
        }
        Ok(None)
    }

    /// Lists the installed file paths: `DIRNAMES[DIRINDEXES[i]] + BASENAMES[i]` (rpm 4), else
    /// `OLDFILENAMES` (rpm 3).
    fn files(&self, problems: &mut Vec<String>) -> Result<Vec<String>, String> {
        let Some(basenames) = self.string_array(TAG_BASENAMES)? else {
            return Ok(self.string_array(TAG_OLDFILENAMES)?.unwrap_or_default());
        };
        let dirnames = self.string_array(TAG_DIRNAMES)?.unwrap_or_default();
        let indexes = self.u32_array(TAG_DIRINDEXES)?.unwrap_or_default();
        if indexes.len() != basenames.len() {
            problems.push(format!(
                "file list skipped: {} base names but {} directory indexes",
                basenames.len(),
                indexes.len()
            ));
            return Ok(Vec::new());
        }
        let mut files = Vec::with_capacity(basenames.len());
        let mut bad = 0usize;
        for (base, &index) in basenames.iter().zip(&indexes) {
            match dirnames.get(index as usize) {
                Some(dir) => files.push(format!("{dir}{base}")),
                None => bad += 1,
            }
        }
        if bad > 0 {
            problems.push(format!(
                "{bad} files skipped: their directory index is past the {} directory names",
                dirnames.len()
            ));
        }
        Ok(files)
    }
}

/// Checks a region entry and its trailer: a 16-byte `BIN` trailer inside the data whose
/// negative offset counts the region's index entries.
fn check_region(
    data: &[u8],
    il: usize,
    tag: u32,
    ty: u32,
    offset: usize,
    count: usize,
) -> Result<(), String> {
    if ty != TYPE_BIN || count != ENTRY_LEN {
        return Err(format!(
            "region tag {tag} has type {ty} and count {count}, expected BIN and 16"
        ));
    }
    let Some(trailer) = offset
        .checked_add(ENTRY_LEN)
        .and_then(|end| data.get(offset..end))
    else {
        return Err(format!(
            "region tag {tag} points past the {}-byte data section",
            data.len()
        ));
    };
    let trailer_tag = be_u32(trailer, 0);
    let trailer_type = be_u32(trailer, 4);
    // The trailer's offset is the negated size of the region's index, in bytes.
    let region_size = (be_u32(trailer, 8).cast_signed()).unsigned_abs() as usize;
    if !(TAG_HEADER_IMAGE..=TAG_HEADER_IMMUTABLE).contains(&trailer_tag) || trailer_type != TYPE_BIN
    {
        return Err(format!("region tag {tag} has an invalid trailer"));
    }
    if !region_size.is_multiple_of(ENTRY_LEN) || region_size / ENTRY_LEN > il {
        return Err(format!(
            "region tag {tag} claims {region_size} bytes of index, the index has {il} entries"
        ));
    }
    Ok(())
}

fn check_entry(
    data: &[u8],
    index: usize,
    tag: u32,
    ty: u32,
    offset: usize,
    count: usize,
) -> Result<Entry, String> {
    let bad = |what: &str| format!("index entry {index} (tag {tag}): {what}");
    let size = match ty {
        TYPE_NULL | TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING => 0,
        TYPE_CHAR | TYPE_INT8 | TYPE_BIN => 1,
        TYPE_INT16 => 2,
        TYPE_INT32 => 4,
        TYPE_INT64 => 8,
        _ => return Err(bad(&format!("unknown data type {ty}"))),
    };
    if offset > data.len() {
        return Err(bad(&format!(
            "offset {offset} is past the {}-byte data section",
            data.len()
        )));
    }
    if size > 1 && !offset.is_multiple_of(size) {
        return Err(bad(&format!(
            "offset {offset} is not aligned to {size} bytes"
        )));
    }
    // Every element takes at least one byte, so a count above the data length is forged.
    if count == 0 || count > data.len() {
        return Err(bad(&format!(
            "count {count} does not fit the {}-byte data section",
            data.len()
        )));
    }
    if ty == TYPE_STRING && count != 1 {
        return Err(bad("a STRING value must have count 1"));
    }
    let len = match ty {
        TYPE_NULL => 0,
        TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING => strings_len(&data[offset..], count)
            .ok_or_else(|| {
                bad(&format!(
                    "{count} strings do not end inside the data section"
                ))
            })?,
        _ => size * count,
    };
    if offset + len > data.len() {
        return Err(bad(&format!(
            "value of {len} bytes at offset {offset} runs past the {}-byte data section",
            data.len()
        )));
    }
    Ok(Entry {
        ty,
        offset,
        count,
        len,
    })
}

/// Length of `count` NUL-terminated strings at the start of `bytes`, terminators included.
fn strings_len(bytes: &[u8], count: usize) -> Option<usize> {
    let mut len = 0;
    for _ in 0..count {
        let end = bytes.get(len..)?.iter().position(|&b| b == 0)?;
        len += end + 1;
    }
    Some(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a stored header from `(tag, type, value bytes, count)` entries, aligning values.
    fn blob(entries: &[(u32, u32, Vec<u8>, u32)]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data: Vec<u8> = Vec::new();
        for (tag, ty, value, count) in entries {
            let align = match *ty {
                TYPE_INT16 => 2,
                TYPE_INT32 => 4,
                TYPE_INT64 => 8,
                _ => 1,
            };
            while !data.len().is_multiple_of(align) {
                data.push(0);
            }
            index.extend_from_slice(&tag.to_be_bytes());
            index.extend_from_slice(&ty.to_be_bytes());
            index.extend_from_slice(&(data.len() as u32).to_be_bytes());
            index.extend_from_slice(&count.to_be_bytes());
            data.extend_from_slice(value);
        }
        let mut out = Vec::new();
        out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend(index);
        out.extend(data);
        out
    }

    fn string(tag: u32, s: &str) -> (u32, u32, Vec<u8>, u32) {
        (tag, TYPE_STRING, format!("{s}\0").into_bytes(), 1)
    }

    fn minimal() -> Vec<(u32, u32, Vec<u8>, u32)> {
        vec![
            string(TAG_NAME, "hello"),
            string(TAG_VERSION, "0.0.1"),
            string(TAG_RELEASE, "rls"),
            (TAG_EPOCH, TYPE_INT32, 1u32.to_be_bytes().to_vec(), 1),
            (
                TAG_DIRINDEXES,
                TYPE_INT32,
                [0u32.to_be_bytes(), 1u32.to_be_bytes()].concat(),
                2,
            ),
            (
                TAG_BASENAMES,
                TYPE_STRING_ARRAY,
                b"hello\0README\0".to_vec(),
                2,
            ),
            (
                TAG_DIRNAMES,
                TYPE_STRING_ARRAY,
                b"/usr/bin/\0/usr/share/doc/hello/\0".to_vec(),
                2,
            ),
        ]
    }

    #[test]
    fn minimal_header_with_files() {
        let header = parse_header(&blob(&minimal())).unwrap();
        assert_eq!(header.name, "hello");
        assert_eq!(header.epoch, Some(1));
        assert_eq!(
            header.files,
            ["/usr/bin/hello", "/usr/share/doc/hello/README"]
        );
        assert!(header.problems.is_empty());
    }

    #[test]
    fn every_truncation_is_an_error() {
        let full = blob(&minimal());
        for len in 0..full.len() {
            assert!(parse_header(&full[..len]).is_err(), "{len} bytes");
        }
    }

    #[test]
    fn count_past_data_is_rejected() {
        let mut entries = minimal();
        entries[5].3 = 1_000_000;
        let err = parse_header(&blob(&entries)).unwrap_err();
        assert!(err.contains("does not fit"), "{err}");
    }

    #[test]
    fn offset_past_data_is_rejected() {
        let mut bytes = blob(&minimal());
        // Offset field of the first index entry.
        bytes[8 + 8..8 + 12].copy_from_slice(&0x7fff_0000u32.to_be_bytes());
        let err = parse_header(&bytes).unwrap_err();
        assert!(err.contains("past the"), "{err}");
    }

    #[test]
    fn forged_index_length_is_rejected() {
        let mut bytes = blob(&minimal());
        bytes[0..4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(parse_header(&bytes).unwrap_err().contains("index entries"));
    }

    #[test]
    fn region_trailer_past_data_is_rejected() {
        let mut entries = minimal();
        entries.insert(
            0,
            (
                TAG_HEADER_IMMUTABLE,
                TYPE_BIN,
                vec![0; 16],
                ENTRY_LEN as u32,
            ),
        );
        let mut bytes = blob(&entries);
        bytes[8 + 8..8 + 12].copy_from_slice(&0x00ff_0000u32.to_be_bytes());
        assert!(parse_header(&bytes).unwrap_err().contains("region tag 63"));
    }

    #[test]
    fn bad_directory_index_is_a_problem() {
        let mut entries = minimal();
        entries[4].2 = [0u32.to_be_bytes(), 9u32.to_be_bytes()].concat();
        let header = parse_header(&blob(&entries)).unwrap();
        assert_eq!(header.files, ["/usr/bin/hello"]);
        assert_eq!(header.problems.len(), 1);
    }

    /// go-rpmdb's `blob.bin`: a Fedora 35 header with an immutable region, as the database
    /// stores it. Its fourth file names directory index 4 of only 4 directory names, so that
    /// file is skipped and reported.
    #[test]
    fn go_rpmdb_blob() {
        let Some(corpus) = clearbox_testdata::corpus() else {
            return;
        };
        let blob = std::fs::read(corpus.join("pkgdb/go-rpmdb/testdata/blob.bin")).unwrap();
        let header = parse_header(&blob).unwrap();
        assert_eq!(header.name, "publicsuffix-list-dafsa");
        assert_eq!(header.version, "20210518");
        assert_eq!(header.release, "2.fc35");
        assert_eq!(
            header.files,
            [
                "/usr/share/licenses/publicsuffix-list-dafsa",
                "/usr/share/licenses/publicsuffix-list-dafsa/COPYING",
                "/usr/share/publicsuffix"
            ]
        );
        assert_eq!(
            header.problems,
            ["1 files skipped: their directory index is past the 4 directory names"]
        );
    }

    #[test]
    fn wrong_type_is_an_error() {
        let mut entries = minimal();
        entries[3] = string(TAG_EPOCH, "1");
        assert!(parse_header(&blob(&entries)).unwrap_err().contains("type"));
    }
}
