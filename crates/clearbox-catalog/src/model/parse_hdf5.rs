//! Parser for the HDF5 superblock of `.h5` files (legacy Keras models, `model.weights.h5` inside
//! `.keras` archives): the signature, the superblock version, the sizes of offsets and lengths,
//! and the end-of-file address, which shows a truncated file. Specification: the HDF5 File
//! Format Specification, section II.A "Disk Format: Level 0A - Format Signature and Superblock"
//! (<https://docs.hdfgroup.org/hdf5/develop/_f_m_t3.html>).
//!
//! Not read: the object tree (groups, datasets, attributes), so neither tensor counts nor a
//! Keras `model_config` attribute are reported for HDF5 files. Reading them needs the B-tree,
//! heap and object-header formats of the specification, which this parser does not implement.

use std::io::BufRead;

use crate::model::stream::{ParseError, Source, invalid};

/// The 8-byte format signature.
const SIGNATURE: [u8; 8] = *b"\x89HDF\r\n\x1a\n";

/// Offsets the superblock may start at: 0, then 512 and each power of two after it, for files
/// with a user block. Offsets up to this one are searched.
const MAX_SUPERBLOCK_OFFSET: u64 = 1 << 20;

/// What the superblock states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Superblock {
    /// Where the signature starts (the size of the user block).
    pub(crate) offset: u64,
    pub(crate) version: u8,
    pub(crate) offset_size: u8,
    pub(crate) length_size: u8,
    /// End-of-file address, relative to the base address (the superblock's start by default).
    pub(crate) end_of_file: Option<u64>,
}

impl Superblock {
    /// Returns a problem when the file is shorter than the superblock states.
    pub(crate) fn truncation(&self, file_size: u64) -> Option<String> {
        let end = self.offset.checked_add(self.end_of_file?)?;
        (end > file_size).then(|| {
            format!(
                "HDF5 superblock says the file ends at byte {end}, but it has {file_size} bytes (truncated file?)"
            )
        })
    }
}

/// Reads the superblock from the start of `src`.
pub(crate) fn read_superblock<R: BufRead>(src: &mut Source<R>) -> Result<Superblock, ParseError> {
    let mut offset = 0u64;
    loop {
        if src.bytes::<8>()? == SIGNATURE {
            break;
        }
        let next = if offset == 0 { 512 } else { offset * 2 };
        if next > MAX_SUPERBLOCK_OFFSET {
            return invalid("not an HDF5 file: no format signature");
        }
        src.skip(next - offset - 8)?;
        offset = next;
    }
    let version = src.u8()?;
    let (offset_size, length_size, end_of_file) = match version {
        0 | 1 => {
            // Free-space, root-group and shared-header versions, a reserved byte, then sizes.
            src.skip(4)?;
            let offset_size = src.u8()?;
            let length_size = src.u8()?;
            // Reserved, two K values, consistency flags, and (v1) indexed-storage K and reserved.
            src.skip(if version == 0 { 9 } else { 13 })?;
            // Base address and free-space address precede the end-of-file address.
            let end = read_addresses(src, offset_size, 3)?;
            (offset_size, length_size, end)
        }
        2 | 3 => {
            let offset_size = src.u8()?;
            let length_size = src.u8()?;
            src.skip(1)?;
            // Base address and superblock extension address precede it.
            let end = read_addresses(src, offset_size, 3)?;
            (offset_size, length_size, end)
        }
        other => return invalid(format!("unknown HDF5 superblock version {other}")),
    };
    Ok(Superblock {
        offset,
        version,
        offset_size,
        length_size,
        end_of_file,
    })
}

/// Reads `count` addresses and returns the last, or `None` for an offset size other than 4 or
/// 8 or the undefined address (all bits set).
fn read_addresses<R: BufRead>(
    src: &mut Source<R>,
    size: u8,
    count: u32,
) -> Result<Option<u64>, ParseError> {
    let mut last = None;
    for _ in 0..count {
        last = match size {
            4 => Some(u64::from(src.u32()?)).filter(|&a| a != u64::from(u32::MAX)),
            8 => Some(src.u64()?).filter(|&a| a != u64::MAX),
            _ => return Ok(None),
        };
    }
    Ok(last)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a version 0 superblock with 8-byte offsets that states the file is `end` bytes long.
    pub(crate) fn superblock_v0(end: u64) -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        out.extend_from_slice(&[0, 0, 0, 0, 0, 8, 8, 0]);
        out.extend_from_slice(&[4, 0, 16, 0, 0, 0, 0, 0]);
        out.extend_from_slice(&0u64.to_le_bytes());
        out.extend_from_slice(&u64::MAX.to_le_bytes());
        out.extend_from_slice(&end.to_le_bytes());
        out.extend_from_slice(&u64::MAX.to_le_bytes());
        out
    }

    #[test]
    fn version_0_superblock() {
        let bytes = superblock_v0(96);
        let sb = read_superblock(&mut Source::new(&bytes[..])).unwrap();
        assert_eq!(sb.version, 0);
        assert_eq!(sb.offset_size, 8);
        assert_eq!(sb.end_of_file, Some(96));
        assert_eq!(sb.truncation(96), None);
        assert!(sb.truncation(80).unwrap().contains("truncated"));
    }

    #[test]
    fn user_block_and_version_2() {
        let mut bytes = vec![0u8; 512];
        bytes.extend_from_slice(&SIGNATURE);
        bytes.extend_from_slice(&[2, 8, 8, 0]);
        for address in [0u64, u64::MAX, 4096, 48] {
            bytes.extend_from_slice(&address.to_le_bytes());
        }
        let sb = read_superblock(&mut Source::new(&bytes[..])).unwrap();
        assert_eq!(sb.offset, 512);
        assert_eq!(sb.version, 2);
        assert_eq!(sb.end_of_file, Some(4096));
    }

    #[test]
    fn not_hdf5() {
        assert!(read_superblock(&mut Source::new(&b"hello"[..])).is_err());
        let text = vec![b'x'; 4096];
        assert!(read_superblock(&mut Source::new(&text[..])).is_err());
    }
}
