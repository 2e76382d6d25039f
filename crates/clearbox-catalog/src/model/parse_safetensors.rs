//! Parser for safetensors weights: an 8-byte little-endian header length, a JSON header
//! mapping tensor names to `{dtype, shape, data_offsets}` plus an optional `__metadata__`
//! string map, then the tensor data. Specification:
//! <https://github.com/huggingface/safetensors#format>.
//!
//! The whole file streams through SHA-256; only the header is kept.

use std::collections::BTreeMap;
use std::io::{self, Read};

use clearbox_oci::EntryInfo;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

/// The format caps the header at 100 MB.
const MAX_HEADER: u64 = 100_000_000;

/// What was learnt from one safetensors file.
#[derive(Debug, Clone, Serialize)]
pub struct SafetensorsFacts {
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the whole file, lowercase hexadecimal.
    pub sha256: String,
    /// The parsed header, or why it could not be parsed.
    pub header: Result<SafetensorsHeader, String>,
}

/// Facts from the header.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SafetensorsHeader {
    /// Number of tensors.
    pub tensor_count: u64,
    /// Sum over tensors of the product of their shape.
    pub parameter_count: u64,
    /// Tensor count per data type.
    pub dtypes: BTreeMap<String, u64>,
    /// The `__metadata__` map.
    pub metadata: BTreeMap<String, String>,
    /// Inconsistencies found, such as offsets past the end of the file.
    pub problems: Vec<String>,
}

pub(crate) fn inspect_safetensors(
    entry: &EntryInfo<'_>,
    content: &mut dyn Read,
) -> io::Result<SafetensorsFacts> {
    let mut hasher = Sha256::new();
    let mut reader = HashTee {
        inner: content,
        hasher: &mut hasher,
        count: 0,
    };
    let header = read_header(&mut reader, entry.size)?;
    io::copy(&mut reader, &mut io::sink())?;
    let size = reader.count;
    Ok(SafetensorsFacts {
        size,
        sha256: hex::encode(hasher.finalize()),
        header,
    })
}

struct HashTee<'a, 'h> {
    inner: &'a mut dyn Read,
    hasher: &'h mut Sha256,
    count: u64,
}

impl Read for HashTee<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// Reads and checks the header; read errors are returned, format problems go in the result.
fn read_header(
    reader: &mut HashTee<'_, '_>,
    file_size: u64,
) -> io::Result<Result<SafetensorsHeader, String>> {
    let mut len_bytes = [0u8; 8];
    if let Err(e) = reader.read_exact(&mut len_bytes) {
        return if e.kind() == io::ErrorKind::UnexpectedEof {
            Ok(Err("file is shorter than the 8-byte header length".into()))
        } else {
            Err(e)
        };
    }
    let len = u64::from_le_bytes(len_bytes);
    if len > MAX_HEADER {
        return Ok(Err(format!(
            "header length {len} exceeds the format's 100 MB limit"
        )));
    }
    if len > file_size.saturating_sub(8) {
        return Ok(Err(format!(
            "header length {len} runs past the end of the {file_size}-byte file"
        )));
    }
    let mut json = vec![0u8; len as usize];
    reader.read_exact(&mut json)?;
    let data_len = file_size - 8 - len;
    Ok(parse_header(&json, data_len))
}

/// Parses the JSON header and checks every tensor against the `data_len` bytes that follow.
pub(crate) fn parse_header(json: &[u8], data_len: u64) -> Result<SafetensorsHeader, String> {
    let value: serde_json::Value =
        serde_json::from_slice(json).map_err(|e| format!("header is not valid JSON: {e}"))?;
    let map = value.as_object().ok_or("header is not a JSON object")?;
    let mut header = SafetensorsHeader::default();
    let mut max_end = 0u64;
    for (name, tensor) in map {
        if name == "__metadata__" {
            let meta = tensor
                .as_object()
                .ok_or("`__metadata__` is not an object")?;
            for (k, v) in meta {
                let v = v
                    .as_str()
                    .ok_or_else(|| format!("`__metadata__.{k}` is not a string"))?;
                header.metadata.insert(k.clone(), v.to_owned());
            }
            continue;
        }
        let dtype = tensor["dtype"]
            .as_str()
            .ok_or_else(|| format!("tensor `{name}` has no dtype"))?;
        let shape: Vec<u64> = tensor["shape"]
            .as_array()
            .ok_or_else(|| format!("tensor `{name}` has no shape"))?
            .iter()
            .map(|d| {
                d.as_u64()
                    .ok_or_else(|| format!("tensor `{name}` has a non-integer dimension"))
            })
            .collect::<Result<_, _>>()?;
        let offsets = tensor["data_offsets"]
            .as_array()
            .filter(|o| o.len() == 2)
            .and_then(|o| Some((o[0].as_u64()?, o[1].as_u64()?)))
            .ok_or_else(|| format!("tensor `{name}` has no valid data_offsets"))?;
        let elements = shape
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| format!("tensor `{name}` has a shape whose element count overflows"))?;

        header.tensor_count += 1;
        header.parameter_count = header
            .parameter_count
            .checked_add(elements)
            .ok_or("parameter count overflows")?;
        *header.dtypes.entry(dtype.to_owned()).or_default() += 1;
        if offsets.1 < offsets.0 {
            header
                .problems
                .push(format!("tensor `{name}` ends before it starts"));
        }
        if let Some(bits) = dtype_bits(dtype) {
            let expected = elements.checked_mul(bits).map(|b| b.div_ceil(8));
            if expected != Some(offsets.1.saturating_sub(offsets.0)) {
                header.problems.push(format!(
                    "tensor `{name}` has {} bytes of data, its {dtype} shape needs {}",
                    offsets.1.saturating_sub(offsets.0),
                    expected.map_or_else(|| "more than 2^64".to_owned(), |e| e.to_string())
                ));
            }
        }
        max_end = max_end.max(offsets.1);
    }
    if max_end > data_len {
        header.problems.push(format!(
            "tensor data offsets run to byte {max_end}, but the file holds {data_len} bytes of \
             tensor data (truncated file?)"
        ));
    }
    header.problems.truncate(20);
    Ok(header)
}

/// Bits per element of each safetensors dtype; `None` for a dtype this list does not know.
fn dtype_bits(dtype: &str) -> Option<u64> {
    Some(match dtype {
        "BOOL" | "U8" | "I8" | "F8_E4M3" | "F8_E5M2" | "F8_E8M0" => 8,
        "U16" | "I16" | "F16" | "BF16" => 16,
        "U32" | "I32" | "F32" => 32,
        "U64" | "I64" | "F64" | "C64" => 64,
        "F6_E2M3" | "F6_E3M2" => 6,
        "F4" => 4,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(json: &str, data_len: u64) -> SafetensorsHeader {
        parse_header(json.as_bytes(), data_len).unwrap()
    }

    #[test]
    fn counts_tensors_parameters_and_dtypes() {
        let h = header(
            r#"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},
               "b":{"dtype":"I64","shape":[4],"data_offsets":[24,56]}}"#,
            56,
        );
        assert_eq!(h.tensor_count, 2);
        assert_eq!(h.parameter_count, 10);
        assert_eq!(h.dtypes["F32"], 1);
        assert_eq!(h.metadata["format"], "pt");
        assert!(h.problems.is_empty(), "{:?}", h.problems);
    }

    #[test]
    fn truncated_data_is_a_problem() {
        let h = header(
            r#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#,
            8,
        );
        assert_eq!(h.problems.len(), 1);
        assert!(h.problems[0].contains("truncated"), "{}", h.problems[0]);
    }

    #[test]
    fn wrong_size_for_shape_is_a_problem() {
        let h = header(
            r#"{"a":{"dtype":"F16","shape":[4],"data_offsets":[0,4]}}"#,
            4,
        );
        assert_eq!(
            h.problems,
            ["tensor `a` has 4 bytes of data, its F16 shape needs 8"]
        );
    }

    #[test]
    fn malformed_headers_are_errors() {
        assert!(parse_header(b"[1]", 0).is_err());
        assert!(
            parse_header(br#"{"a":{"dtype":"F32"}}"#, 0)
                .unwrap_err()
                .contains("no shape")
        );
        assert!(parse_header(b"{not json", 0).is_err());
    }
}
