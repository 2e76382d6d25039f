//! Reader for rpm's own "ndb" database format (`Packages.db`, the default on SUSE since
//! 2021), as written by `lib/backend/ndb/rpmpkg.c` in rpm's source.
//!
//! Layout, all integers little-endian: a 32-byte header (`RpmP` magic, format version 0,
//! generation, number of 4 KiB slot pages), then the slot pages, whose first two 16-byte slots
//! the header occupies. Each slot is `Slot` magic, package index (0 for a free slot), block
//! offset and block count, in 16-byte blocks. A used slot points to a blob that fills its
//! blocks exactly. The blob starts with a 16-byte head (`BlbS` magic, package index, time
//! stamp, length), then holds the stored rpm header and zero padding, and ends with a 12-byte
//! tail (Adler-32 of everything before the tail, length, `BlbE` magic). Every blob's checksum
//! is verified, as rpm's own verification does.

use std::fs::File;
use std::os::unix::fs::FileExt;

const HEADER_MAGIC: &[u8; 4] = b"RpmP";
const SLOT_MAGIC: &[u8; 4] = b"Slot";
const BLOB_MAGIC: &[u8; 4] = b"BlbS";
const BLOB_TAIL_MAGIC: &[u8; 4] = b"BlbE";
const BLOB_HEAD_LEN: u64 = 16;
const BLOB_TAIL_LEN: u64 = 12;
const PAGE_SIZE: u64 = 4096;
const SLOT_LEN: usize = 16;
const BLOCK_LEN: u64 = 16;
/// rpm refuses more slot pages than this (`slotnpages` check in `rpmpkg.c`); it bounds the
/// slot table at 8 MiB.
const MAX_SLOT_PAGES: u32 = 2048;
/// Largest blob read: the size limit rpm puts on a header, plus head and tail.
const MAX_BLOB: u64 = (256 << 20) + 64;

fn le_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Reads every header blob; `on_blob` gets a blob or the reason one slot could not be read.
/// Errors mean the database could not be read at all.
pub(crate) fn read_ndb(
    file: &File,
    on_blob: &mut dyn FnMut(u64, Result<Vec<u8>, String>),
) -> Result<(), String> {
    let file_len = file
        .metadata()
        .map_err(|e| format!("failed to read the database copy: {e}"))?
        .len();

    // 1. Header.
    let mut header = [0u8; 32];
    file.read_exact_at(&mut header, 0)
        .map_err(|_| format!("not an ndb database: {file_len} bytes, shorter than its header"))?;
    if &header[0..4] != HEADER_MAGIC {
        return Err("not an ndb database: the file does not start with `RpmP`".to_owned());
    }
    let version = le_u32(&header, 4);
    if version != 0 {
        return Err(format!("ndb format version {version} is not supported"));
    }
    let pages = le_u32(&header, 12);
    if pages == 0 || pages > MAX_SLOT_PAGES {
        return Err(format!(
            "ndb header claims {pages} slot pages; 1 to {MAX_SLOT_PAGES} are valid"
        ));
    }
    let slots_len = u64::from(pages) * PAGE_SIZE;
    if slots_len > file_len {
        return Err(format!(
            "ndb database is truncated: {pages} slot pages need {slots_len} bytes, the file has \
             {file_len}"
        ));
    }

    // 2. Slot table; the header takes the first two slots.
    let mut slots = vec![0u8; slots_len as usize];
    file.read_exact_at(&mut slots, 0)
        .map_err(|e| format!("failed to read the slot pages: {e}"))?;
    for (i, slot) in slots.chunks_exact(SLOT_LEN).enumerate().skip(2) {
        if &slot[0..4] != SLOT_MAGIC {
            return Err(format!(
                "slot {i} has no `Slot` magic; the slot table is damaged"
            ));
        }
        let index = le_u32(slot, 4);
        if index == 0 {
            continue;
        }
        let offset = u64::from(le_u32(slot, 8)) * BLOCK_LEN;
        let blocks = u64::from(le_u32(slot, 12));
        on_blob(
            u64::from(index),
            read_blob(file, file_len, index, offset, blocks),
        );
    }
    Ok(())
}

/// 3. One blob: head, tail and checksum, then the stored rpm header it carries.
fn read_blob(
    file: &File,
    file_len: u64,
    index: u32,
    offset: u64,
    blocks: u64,
) -> Result<Vec<u8>, String> {
    let region_len = blocks.saturating_mul(BLOCK_LEN);
    if !(BLOB_HEAD_LEN + BLOB_TAIL_LEN..=MAX_BLOB).contains(&region_len) {
        return Err(format!(
            "blob at offset {offset} has {blocks} blocks, not a possible size"
        ));
    }
    if offset.saturating_add(region_len) > file_len {
        return Err(format!(
            "blob at offset {offset} runs past the end of the file"
        ));
    }
    let mut region = vec![0u8; region_len as usize];
    file.read_exact_at(&mut region, offset)
        .map_err(|e| format!("failed to read blob: {e}"))?;

    if &region[0..4] != BLOB_MAGIC {
        return Err(format!("blob at offset {offset} has no `BlbS` magic"));
    }
    let blob_index = le_u32(&region, 4);
    if blob_index != index {
        return Err(format!(
            "slot names package {index}, but its blob belongs to package {blob_index}"
        ));
    }

    let len = u64::from(le_u32(&region, 12));
    if (BLOB_HEAD_LEN + len + BLOB_TAIL_LEN).div_ceil(BLOCK_LEN) != blocks {
        return Err(format!(
            "blob length {len} does not match its {blocks} blocks"
        ));
    }

    let tail_at = region.len() - BLOB_TAIL_LEN as usize;
    let tail = &region[tail_at..];
    if &tail[8..12] != BLOB_TAIL_MAGIC || u64::from(le_u32(tail, 4)) != len {
        return Err(format!("blob at offset {offset} has a damaged tail"));
    }
    if adler32(&region[..tail_at]) != le_u32(tail, 0) {
        return Err(format!(
            "blob at offset {offset} does not match its checksum"
        ));
    }

    let start = BLOB_HEAD_LEN as usize;
    Ok(region[start..start + len as usize].to_vec())
}

/// Adler-32 (RFC 1950, section 8.2).
fn adler32(bytes: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 bytes is the most that can be summed before `b` could overflow 32 bits.
    for chunk in bytes.chunks(5552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn database(slots: &[(u32, u32, u32)], blobs: &[(u64, Vec<u8>)]) -> tempfile::NamedTempFile {
        let mut bytes = vec![0u8; 4096];
        bytes[0..4].copy_from_slice(HEADER_MAGIC);
        bytes[12..16].copy_from_slice(&1u32.to_le_bytes());
        for i in 2..256 {
            bytes[i * 16..i * 16 + 4].copy_from_slice(SLOT_MAGIC);
        }
        for (i, (index, offset, blocks)) in slots.iter().enumerate() {
            let at = (i + 2) * 16;
            bytes[at + 4..at + 8].copy_from_slice(&index.to_le_bytes());
            bytes[at + 8..at + 12].copy_from_slice(&offset.to_le_bytes());
            bytes[at + 12..at + 16].copy_from_slice(&blocks.to_le_bytes());
        }
        for (offset, blob) in blobs {
            let offset = *offset as usize;
            if bytes.len() < offset + blob.len() {
                bytes.resize(offset + blob.len(), 0);
            }
            bytes[offset..offset + blob.len()].copy_from_slice(blob);
        }
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&bytes).unwrap();
        file
    }

    /// A blob as rpm writes it, padded to whole blocks; returns it and its block count.
    fn blob(index: u32, payload: &[u8]) -> (Vec<u8>, u32) {
        let mut out = BLOB_MAGIC.to_vec();
        out.extend_from_slice(&index.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(payload);
        let blocks = (16 + payload.len() + 12).div_ceil(16);
        out.resize(blocks * 16 - 12, 0);
        let sum = adler32(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(BLOB_TAIL_MAGIC);
        (out, blocks as u32)
    }

    fn read(file: &tempfile::NamedTempFile) -> Result<Vec<Result<Vec<u8>, String>>, String> {
        let mut got = Vec::new();
        read_ndb(file.as_file(), &mut |_, blob| got.push(blob))?;
        Ok(got)
    }

    #[test]
    fn reads_blobs_and_reports_bad_ones() {
        let (good, good_blocks) = blob(1, b"header");
        let (foreign, foreign_blocks) = blob(7, b"x");
        let (mut damaged, damaged_blocks) = blob(4, b"header");
        damaged[20] ^= 1;
        let file = database(
            &[
                (1, 256, good_blocks),
                (2, 300, foreign_blocks),
                (3, 9_999_999, 2),
                (4, 400, damaged_blocks),
            ],
            &[(4096, good), (4800, foreign), (6400, damaged)],
        );
        let got = read(&file).unwrap();
        assert_eq!(got[0].as_deref(), Ok(&b"header"[..]));
        assert!(
            got[1]
                .as_ref()
                .unwrap_err()
                .contains("belongs to package 7")
        );
        assert!(got[2].as_ref().unwrap_err().contains("past the end"));
        assert!(got[3].as_ref().unwrap_err().contains("checksum"));
    }

    #[test]
    fn forged_blob_length_is_rejected() {
        let (mut forged, blocks) = blob(1, b"h");
        forged[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        let file = database(&[(1, 256, blocks), (1, 256, u32::MAX)], &[(4096, forged)]);
        let got = read(&file).unwrap();
        assert!(got[0].as_ref().unwrap_err().contains("does not match its"));
        assert!(got[1].as_ref().unwrap_err().contains("not a possible size"));
    }

    #[test]
    fn adler32_vector() {
        // RFC 1950's checksum of "Wikipedia", a common test vector.
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
    }

    #[test]
    fn bad_magic_and_truncation_are_errors() {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), b"bogus").unwrap();
        assert!(read(&file).unwrap_err().contains("shorter than its header"));
        std::fs::write(file.path(), [b'X'; 64]).unwrap();
        assert!(read(&file).unwrap_err().contains("RpmP"));
        let mut header = vec![0u8; 32];
        header[0..4].copy_from_slice(HEADER_MAGIC);
        header[12..16].copy_from_slice(&3u32.to_le_bytes());
        std::fs::write(file.path(), &header).unwrap();
        assert!(read(&file).unwrap_err().contains("truncated"));
    }
}
