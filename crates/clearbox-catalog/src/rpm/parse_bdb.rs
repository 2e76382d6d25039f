//! Read-only reader for the Berkeley DB hash database that rpm used before 4.16 (`Packages`):
//! no librpm or libdb, only the page layouts of Berkeley DB's `dbinc/db_page.h`.
//!
//! Page 0 is the hash metadata page. It has the magic `0x061561` at byte 12 (byte-swapped when
//! the database was written on a big-endian machine), the page size at 20, encryption at 24,
//! page type 8 at 25 and the last page number at 32. Hash pages (type 13, or 2 for the unsorted
//! pages of RHEL 5) carry a 26-byte page header, a count of index slots at byte 20 and the
//! slots at byte 26: two-byte offsets to key and value items, in pairs. rpm stores each header
//! as an off-page value (item type 3: page number at +4, total length at +8) in a chain of
//! overflow pages (type 7), each holding `HOFFSET` (byte 22) bytes after its 26-byte header
//! and linking to the next page at byte 16.
//!
//! Every page number is checked against the last page, every overflow chain is followed at
//! most once per page (a loop is an error), and a value is never longer than its declared
//! length, so a damaged or forged database gives errors and partial results.

use std::collections::HashSet;
use std::fs::File;
use std::os::unix::fs::FileExt;

const HASH_MAGIC: u32 = 0x0006_1561;
const PAGE_HEADER_LEN: usize = 26;
const TYPE_HASH_UNSORTED: u8 = 2;
const TYPE_OVERFLOW: u8 = 7;
const TYPE_HASH_META: u8 = 8;
const TYPE_HASH: u8 = 13;
const ITEM_OFFPAGE: u8 = 3;
const OFFPAGE_LEN: usize = 12;
/// Largest value read, the size limit rpm puts on a header.
const MAX_VALUE: u32 = 256 << 20;

/// An open database: its page size, byte order and last page.
struct Pages<'a> {
    file: &'a File,
    page_size: usize,
    last_page: u32,
    /// Pages present in the file; fewer than `last_page + 1` when it is truncated.
    present: u32,
    swapped: bool,
}

impl Pages<'_> {
    fn u16(&self, page: &[u8], at: usize) -> u16 {
        let bytes = [page[at], page[at + 1]];
        if self.swapped {
            u16::from_be_bytes(bytes)
        } else {
            u16::from_le_bytes(bytes)
        }
    }

    fn u32(&self, page: &[u8], at: usize) -> u32 {
        read_u32(page, at, self.swapped)
    }

    fn read(&self, number: u32) -> Result<Vec<u8>, String> {
        if number > self.last_page {
            return Err(format!(
                "page {number} is past the last page {}",
                self.last_page
            ));
        }
        if number >= self.present {
            return Err(format!("page {number} is missing from the truncated file"));
        }
        let mut page = vec![0u8; self.page_size];
        self.file
            .read_exact_at(&mut page, u64::from(number) * self.page_size as u64)
            .map_err(|e| format!("failed to read page {number}: {e}"))?;
        Ok(page)
    }
}

fn read_u32(bytes: &[u8], at: usize, swapped: bool) -> u32 {
    let b = [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
    if swapped {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    }
}

/// Reads every header blob; `on_blob` gets a blob or the reason one value could not be read.
/// Errors mean the database could not be read at all, or, for a truncated file, only in part.
pub(crate) fn read_bdb(
    file: &File,
    on_blob: &mut dyn FnMut(u64, Result<Vec<u8>, String>),
) -> Result<(), String> {
    let pages = open(file)?;
    let mut record = 0u64;
    for number in 0..pages.present {
        let page = pages.read(number)?;
        if !matches!(page[25], TYPE_HASH | TYPE_HASH_UNSORTED) {
            continue;
        }
        let slots = usize::from(pages.u16(&page, 20));
        if slots % 2 != 0 || PAGE_HEADER_LEN + 2 * slots > pages.page_size {
            on_blob(
                record,
                Err(format!(
                    "hash page {number} has an invalid slot count {slots}"
                )),
            );
            continue;
        }
        // Odd slots hold values; even slots hold the keys (package numbers).
        for slot in (1..slots).step_by(2) {
            let offset = usize::from(pages.u16(&page, PAGE_HEADER_LEN + 2 * slot));
            // Small values stored on the page itself are not package headers.
            if page.get(offset) != Some(&ITEM_OFFPAGE) {
                continue;
            }
            record += 1;
            let Some(item) = page.get(offset..offset + OFFPAGE_LEN) else {
                on_blob(
                    record,
                    Err(format!(
                        "hash page {number}: slot {slot} points past the page"
                    )),
                );
                continue;
            };
            let first = pages.u32(item, 4);
            let len = pages.u32(item, 8);
            on_blob(record, read_overflow(&pages, first, len));
        }
    }
    if pages.present <= pages.last_page {
        return Err(format!(
            "Berkeley DB database is truncated: {} of {} pages present; packages on the missing \
             pages are not listed",
            pages.present,
            u64::from(pages.last_page) + 1
        ));
    }
    Ok(())
}

/// Checks the metadata page.
fn open(file: &File) -> Result<Pages<'_>, String> {
    let mut meta = [0u8; 512];
    file.read_exact_at(&mut meta, 0)
        .map_err(|_| "not a Berkeley DB database: shorter than its 512-byte metadata page")?;
    let swapped = match read_u32(&meta, 12, false) {
        HASH_MAGIC => false,
        magic if magic.swap_bytes() == HASH_MAGIC => true,
        _ => return Err("not a Berkeley DB hash database: wrong magic number".to_owned()),
    };
    let page_size = read_u32(&meta, 20, swapped) as usize;
    if !page_size.is_power_of_two() || !(512..=65536).contains(&page_size) {
        return Err(format!("Berkeley DB page size {page_size} is not valid"));
    }
    if meta[24] != 0 {
        return Err("the Berkeley DB database is encrypted".to_owned());
    }
    if meta[25] != TYPE_HASH_META {
        return Err(format!(
            "page 0 has type {}, not a hash metadata page",
            meta[25]
        ));
    }
    let last_page = read_u32(&meta, 32, swapped);
    let len = file
        .metadata()
        .map_err(|e| format!("failed to read the database copy: {e}"))?
        .len();
    let present = u32::try_from(len / page_size as u64)
        .unwrap_or(u32::MAX)
        .min(last_page.saturating_add(1));
    Ok(Pages {
        file,
        page_size,
        last_page,
        present,
        swapped,
    })
}

/// Follows an overflow chain from `first`, collecting `len` bytes.
fn read_overflow(pages: &Pages<'_>, first: u32, len: u32) -> Result<Vec<u8>, String> {
    if len > MAX_VALUE {
        return Err(format!(
            "value of {len} bytes is larger than any rpm header"
        ));
    }
    let len = len as usize;
    let mut value = Vec::with_capacity(len.min(pages.page_size * 64));
    let mut visited = HashSet::new();
    let mut number = first;
    while value.len() < len {
        if number == 0 {
            return Err(format!(
                "overflow chain from page {first} ends after {} of {len} bytes",
                value.len()
            ));
        }
        if !visited.insert(number) {
            return Err(format!(
                "overflow chain from page {first} loops back to page {number}"
            ));
        }
        let page = pages.read(number)?;
        if page[25] != TYPE_OVERFLOW {
            return Err(format!(
                "page {number} in the overflow chain from page {first} has type {}",
                page[25]
            ));
        }
        let on_page = usize::from(pages.u16(&page, 22));
        let Some(bytes) = page.get(PAGE_HEADER_LEN..PAGE_HEADER_LEN + on_page) else {
            return Err(format!("overflow page {number} claims {on_page} bytes"));
        };
        let take = (len - value.len()).min(bytes.len());
        value.extend_from_slice(&bytes[..take]);
        number = pages.u32(&page, 16);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const PAGE: usize = 512;

    /// Builds a database with one hash page (page 1) whose single value starts an overflow
    /// chain at page 2; `chain` gives each overflow page's next page and payload.
    fn database(chain: &[(u32, &[u8])], value_len: u32) -> tempfile::NamedTempFile {
        let last = 1 + chain.len() as u32;
        let mut bytes = vec![0u8; PAGE * (last as usize + 1)];
        bytes[12..16].copy_from_slice(&HASH_MAGIC.to_le_bytes());
        bytes[20..24].copy_from_slice(&(PAGE as u32).to_le_bytes());
        bytes[25] = TYPE_HASH_META;
        bytes[32..36].copy_from_slice(&last.to_le_bytes());
        let hash = &mut bytes[PAGE..2 * PAGE];
        hash[25] = TYPE_HASH;
        hash[20..22].copy_from_slice(&2u16.to_le_bytes());
        // Key item at 400 (on-page, ignored), value item at 450.
        hash[26..28].copy_from_slice(&400u16.to_le_bytes());
        hash[28..30].copy_from_slice(&450u16.to_le_bytes());
        hash[400] = 1;
        hash[450] = ITEM_OFFPAGE;
        hash[454..458].copy_from_slice(&2u32.to_le_bytes());
        hash[458..462].copy_from_slice(&value_len.to_le_bytes());
        for (i, (next, payload)) in chain.iter().enumerate() {
            let page = &mut bytes[(2 + i) * PAGE..(3 + i) * PAGE];
            page[25] = TYPE_OVERFLOW;
            page[16..20].copy_from_slice(&next.to_le_bytes());
            page[22..24].copy_from_slice(&(payload.len() as u16).to_le_bytes());
            page[26..26 + payload.len()].copy_from_slice(payload);
        }
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&bytes).unwrap();
        file
    }

    fn read(file: &tempfile::NamedTempFile) -> Result<Vec<Result<Vec<u8>, String>>, String> {
        let mut got = Vec::new();
        read_bdb(file.as_file(), &mut |_, blob| got.push(blob))?;
        Ok(got)
    }

    #[test]
    fn follows_overflow_chain() {
        let file = database(&[(3, b"hello "), (0, b"world")], 11);
        assert_eq!(read(&file).unwrap(), [Ok(b"hello world".to_vec())]);
    }

    #[test]
    fn loop_in_overflow_chain_is_an_error() {
        let file = database(&[(3, b"ab"), (2, b"cd")], 1000);
        let got = read(&file).unwrap();
        assert!(
            got[0]
                .as_ref()
                .unwrap_err()
                .contains("loops back to page 2")
        );
    }

    #[test]
    fn short_chain_and_bad_page_numbers_are_errors() {
        let file = database(&[(0, b"ab")], 10);
        let got = read(&file).unwrap();
        assert!(got[0].as_ref().unwrap_err().contains("ends after 2"));
        let file = database(&[(77, b"ab")], 10);
        let got = read(&file).unwrap();
        assert!(got[0].as_ref().unwrap_err().contains("past the last page"));
    }

    #[test]
    fn truncated_and_foreign_files_are_errors() {
        let file = database(&[(0, b"ab")], 2);
        let bytes = std::fs::read(file.path()).unwrap();
        std::fs::write(file.path(), &bytes[..bytes.len() - 1]).unwrap();
        assert!(
            read(&file)
                .unwrap_err()
                .contains("truncated: 2 of 3 pages present")
        );
        std::fs::write(file.path(), b"bogus").unwrap();
        assert!(read(&file).unwrap_err().contains("512-byte"));
        std::fs::write(file.path(), [0u8; 600]).unwrap();
        assert!(read(&file).unwrap_err().contains("magic"));
    }
}
