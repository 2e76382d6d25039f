//! Parser for safetensors weights: an 8-byte little-endian header length, a JSON header
//! mapping tensor names to `{dtype, shape, data_offsets}` plus an optional `__metadata__`
//! string map, then the tensor data. Specification:
//! <https://github.com/huggingface/safetensors#format>.
//!
//! The whole file streams through SHA-256; only the header is kept.

use std::collections::BTreeMap;
use std::io::{self, Read};

use clearbox_oci::EntryInfo;
use serde::{Deserialize, Serialize};
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
    // Reads of 1 MiB: `io::copy` reads 8 KiB at a time, one system call each from a file.
    let mut buffer = vec![0; 1 << 20];
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
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

/// Most problems kept per file; the count of tensors still covers every tensor.
const MAX_PROBLEMS: usize = 20;

/// Parses the JSON header and checks every tensor against the `data_len` bytes that follow.
///
/// The header is read as a stream of `name → tensor` entries, each summarised and dropped, so
/// memory does not grow with the number of tensors (a header may declare millions).
pub(crate) fn parse_header(json: &[u8], data_len: u64) -> Result<SafetensorsHeader, String> {
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let summary = HeaderSummary::deserialize(&mut deserializer)
        .map_err(|e| format!("invalid header: {e}"))?;
    deserializer
        .end()
        .map_err(|e| format!("invalid header: {e}"))?;
    let HeaderSummary {
        mut header,
        max_end,
    } = summary;
    if max_end > data_len {
        header.problems.push(format!(
            "tensor data offsets run to byte {max_end}, but the file holds {data_len} bytes of \
             tensor data (truncated file?)"
        ));
    }
    header.problems.truncate(MAX_PROBLEMS);
    Ok(header)
}

/// One tensor's entry in the header.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TensorEntry {
    dtype: String,
    shape: Vec<u64>,
    data_offsets: (u64, u64),
}

/// The running summary of a header.
struct HeaderSummary {
    header: SafetensorsHeader,
    max_end: u64,
}

impl<'de> Deserialize<'de> for HeaderSummary {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(HeaderVisitor)
    }
}

struct HeaderVisitor;

impl<'de> serde::de::Visitor<'de> for HeaderVisitor {
    type Value = HeaderSummary;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object of tensor names")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> Result<HeaderSummary, A::Error> {
        let mut summary = HeaderSummary {
            header: SafetensorsHeader::default(),
            max_end: 0,
        };
        // Names are remembered as 64-bit hashes only, to find duplicates in bounded memory.
        let mut seen = std::collections::HashSet::new();
        while let Some(name) = map.next_key::<String>()? {
            if !seen.insert(hash_name(&name)) {
                summary.problem(format!("tensor `{}` is named twice", shown(&name)));
            }
            if name == "__metadata__" {
                summary.header.metadata = map.next_value()?;
                continue;
            }
            let tensor: TensorEntry = map
                .next_value()
                .map_err(|e| serde::de::Error::custom(format!("tensor `{}`: {e}", shown(&name))))?;
            summary
                .add(&name, &tensor)
                .map_err(serde::de::Error::custom)?;
        }
        Ok(summary)
    }
}

impl HeaderSummary {
    fn problem(&mut self, problem: String) {
        if self.header.problems.len() < MAX_PROBLEMS {
            self.header.problems.push(problem);
        }
    }

    fn add(&mut self, name: &str, tensor: &TensorEntry) -> Result<(), String> {
        let name = shown(name);
        let elements = tensor
            .shape
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| format!("tensor `{name}` has a shape whose element count overflows"))?;
        let header = &mut self.header;
        header.tensor_count += 1;
        header.parameter_count = header
            .parameter_count
            .checked_add(elements)
            .ok_or("parameter count overflows")?;
        let dtype = &tensor.dtype;
        let (begin, end) = tensor.data_offsets;
        if !header.dtypes.contains_key(dtype) && dtype_bits(dtype).is_none() {
            let problem = format!("tensor `{name}` has the unknown dtype `{}`", shown(dtype));
            self.problem(problem);
        }
        *self.header.dtypes.entry(dtype.clone()).or_default() += 1;
        if end < begin {
            self.problem(format!("tensor `{name}` ends before it starts"));
        }
        if let Some(bits) = dtype_bits(dtype) {
            let expected = elements.checked_mul(bits).map(|b| b.div_ceil(8));
            if expected != Some(end.saturating_sub(begin)) {
                self.problem(format!(
                    "tensor `{name}` has {} bytes of data, its {dtype} shape needs {}",
                    end.saturating_sub(begin),
                    expected.map_or_else(|| "more than 2^64".to_owned(), |e| e.to_string())
                ));
            }
        }
        self.max_end = self.max_end.max(end);
        Ok(())
    }
}

fn hash_name(name: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut hasher);
    hasher.finish()
}

/// A name from the file, cut short for messages.
fn shown(name: &str) -> String {
    let mut out: String = name.chars().take(120).collect();
    if out.len() < name.len() {
        out.push('…');
    }
    out
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
    fn unknown_dtypes_and_duplicate_names_are_problems() {
        let h = header(
            r#"{"a":{"dtype":"EVIL","shape":[1],"data_offsets":[0,1]},
               "a":{"dtype":"F32","shape":[1],"data_offsets":[1,5]}}"#,
            5,
        );
        assert_eq!(h.tensor_count, 2);
        assert_eq!(
            h.problems,
            [
                "tensor `a` has the unknown dtype `EVIL`",
                "tensor `a` is named twice"
            ]
        );
    }

    #[test]
    fn malformed_headers_are_errors() {
        assert!(parse_header(b"[1]", 0).is_err());
        let err = parse_header(br#"{"a":{"dtype":"F32"}}"#, 0).unwrap_err();
        assert!(err.contains("tensor `a`: missing field `shape`"), "{err}");
        assert!(parse_header(b"{not json", 0).is_err());
    }
}
