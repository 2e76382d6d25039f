//! Parser for GGUF v2 and v3 files: the header (magic, version, tensor count, key-value
//! count), every metadata key-value pair, and every tensor info; the tensor data is only
//! hashed. Specification: ggml's `docs/gguf.md`
//! (<https://github.com/ggml-org/ggml/blob/master/docs/gguf.md>).
//!
//! Reads the stream once and keeps bounded state: scalar values and the first strings of
//! string arrays are kept, large arrays (tokenizer vocabularies) are counted and skipped.
//! Not supported: GGUF v1 (32-bit counts) and big-endian files, which are reported as problems.

use std::collections::BTreeMap;
use std::io::BufRead;

use crate::model::ggml_types::{file_type_name, tensor_type};
use crate::model::stream::{ParseError, Source, invalid, shown};
use crate::model::{MAX_PROBLEMS, push_problem};
use crate::package::{ModelFacts, TokenizerFacts};

/// Metadata entries kept per file; further ones are counted in `gguf.kv_count` only.
const MAX_METADATA: usize = 128;
/// Characters kept of a metadata string value.
const MAX_VALUE_CHARS: usize = 256;
/// Strings kept of a string array.
const MAX_ARRAY_STRINGS: usize = 32;
/// The specification limits keys to 65,535 bytes and tensor names to 64; longer names are read
/// up to this many bytes.
const MAX_KEY_BYTES: u64 = 65_535;
/// Nesting depth of arrays inside arrays that is followed.
const MAX_ARRAY_DEPTH: u32 = 4;
/// Alignment of tensor data when `general.alignment` is absent.
const DEFAULT_ALIGNMENT: u64 = 32;

/// One metadata value, with strings and arrays cut to the limits above.
enum Value {
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Bool(bool),
    Text(String),
    Array {
        element: u32,
        len: u64,
        texts: Vec<String>,
    },
}

impl Value {
    fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::Unsigned(v) => Some(v),
            Value::Signed(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(text) => Some(text),
            _ => None,
        }
    }

    fn shown(&self) -> String {
        match self {
            Value::Unsigned(v) => v.to_string(),
            Value::Signed(v) => v.to_string(),
            Value::Float(v) => v.to_string(),
            Value::Bool(v) => v.to_string(),
            Value::Text(text) => text.clone(),
            Value::Array {
                element,
                len,
                texts,
            } if *element == STRING && !texts.is_empty() && *len <= MAX_ARRAY_STRINGS as u64 => {
                texts.join(", ")
            }
            Value::Array { element, len, .. } => {
                format!("array of {len} {}", type_name(*element))
            }
        }
    }
}

const STRING: u32 = 8;
const ARRAY: u32 = 9;

fn type_name(kind: u32) -> &'static str {
    match kind {
        0 => "uint8",
        1 => "int8",
        2 => "uint16",
        3 => "int16",
        4 => "uint32",
        5 => "int32",
        6 => "float32",
        7 => "bool",
        STRING => "string",
        ARRAY => "array",
        10 => "uint64",
        11 => "int64",
        12 => "float64",
        _ => "unknown",
    }
}

/// Bytes of one value of a fixed-size type.
fn fixed_size(kind: u32) -> Option<u64> {
    Some(match kind {
        0 | 1 | 7 => 1,
        2 | 3 => 2,
        4..=6 => 4,
        10..=12 => 8,
        _ => return None,
    })
}

/// Parses a GGUF file from its first byte, filling `facts` as it goes so that a file that
/// stops early still yields what came before.
pub(crate) fn parse_gguf<R: BufRead>(
    src: &mut Source<R>,
    file_size: u64,
    facts: &mut ModelFacts,
) -> Result<(), ParseError> {
    // 1. Header.
    if &src.bytes::<4>()? != b"GGUF" {
        return invalid("not a GGUF file: the magic is not `GGUF`");
    }
    let version = src.u32()?;
    match version {
        2 | 3 => {}
        1 => return invalid("GGUF version 1 is not supported (its counts are 32-bit)"),
        v if v.swap_bytes() == 2 || v.swap_bytes() == 3 => {
            return invalid("big-endian GGUF files are not supported");
        }
        v => return invalid(format!("unknown GGUF version {v}")),
    }
    facts.format_version = Some(version.to_string());
    let tensor_count = src.u64()?;
    let kv_count = src.u64()?;
    facts.tensor_count = Some(tensor_count);
    facts
        .metadata
        .insert("gguf.kv_count".to_owned(), kv_count.to_string());

    // 2. Metadata key-value pairs.
    let header = read_metadata(src, kv_count, facts)?;

    // 3. Tensor infos.
    read_tensor_infos(src, tensor_count, file_size, header.alignment, facts)?;
    Ok(())
}

/// What the tensor infos need from the metadata.
struct Header {
    alignment: u64,
}

fn read_metadata<R: BufRead>(
    src: &mut Source<R>,
    kv_count: u64,
    facts: &mut ModelFacts,
) -> Result<Header, ParseError> {
    let mut state = MetadataState {
        alignment: DEFAULT_ALIGNMENT,
        context_lengths: BTreeMap::new(),
        tokenizer: TokenizerFacts::default(),
    };
    let result = read_pairs(src, kv_count, facts, &mut state);

    // Pairs read before a problem still count.
    if let Some(arch) = &facts.architecture {
        facts.context_length = state.context_lengths.get(arch).copied();
    }
    if state.tokenizer != TokenizerFacts::default() {
        facts.tokenizer = Some(state.tokenizer);
    }
    result?;
    Ok(Header {
        alignment: state.alignment,
    })
}

/// What the metadata pairs set besides `facts`.
struct MetadataState {
    alignment: u64,
    context_lengths: BTreeMap<String, u64>,
    tokenizer: TokenizerFacts,
}

fn read_pairs<R: BufRead>(
    src: &mut Source<R>,
    kv_count: u64,
    facts: &mut ModelFacts,
    state: &mut MetadataState,
) -> Result<(), ParseError> {
    // Each pair takes at least 12 bytes, so a hostile count ends at the end of the file.
    for index in 0..kv_count {
        let key_len = src.u64()?;
        if key_len > MAX_KEY_BYTES {
            return invalid(format!(
                "metadata key {index} is {key_len} bytes long, more than the 65,535 allowed"
            ));
        }
        let key =
            String::from_utf8_lossy(&src.prefix(key_len, MAX_KEY_BYTES as usize)?).into_owned();
        let kind = src.u32()?;
        let value = read_value(src, kind, 0).map_err(|e| in_key(e, &key))?;
        match key.as_str() {
            "general.architecture" => facts.architecture = value.as_text().map(str::to_owned),
            "general.name" => facts.name = value.as_text().map(str::to_owned),
            "general.file_type" => facts.quantization = value.as_u64().map(file_type_name),
            "general.alignment" => match value.as_u64() {
                Some(a) if a > 0 && a % 8 == 0 => state.alignment = a,
                _ => push_problem(
                    facts,
                    format!(
                        "`general.alignment` is `{}`, not a multiple of 8",
                        shown(&value.shown())
                    ),
                ),
            },
            "tokenizer.ggml.model" => {
                state.tokenizer.model_type = value.as_text().map(str::to_owned);
            }
            "tokenizer.ggml.tokens" => {
                if let Value::Array { len, .. } = value {
                    state.tokenizer.vocab_size = Some(len);
                }
            }
            _ => {}
        }
        if let Some(arch_key) = key.strip_suffix(".context_length")
            && let Some(length) = value.as_u64()
        {
            state.context_lengths.insert(arch_key.to_owned(), length);
        }
        if facts.metadata.len() < MAX_METADATA {
            facts.metadata.insert(key, value.shown());
        }
    }
    Ok(())
}

/// Names the key in a problem found while reading its value.
fn in_key(error: ParseError, key: &str) -> ParseError {
    match error {
        ParseError::Format(message) => {
            ParseError::Format(format!("metadata `{}`: {message}", shown(key)))
        }
        io @ ParseError::Io(_) => io,
    }
}

fn read_value<R: BufRead>(src: &mut Source<R>, kind: u32, depth: u32) -> Result<Value, ParseError> {
    Ok(match kind {
        0 => Value::Unsigned(src.u8()?.into()),
        1 => Value::Signed(i8::from_le_bytes(src.bytes()?).into()),
        2 => Value::Unsigned(src.u16()?.into()),
        3 => Value::Signed(i16::from_le_bytes(src.bytes()?).into()),
        4 => Value::Unsigned(src.u32()?.into()),
        5 => Value::Signed(src.i32()?.into()),
        6 => Value::Float(f32::from_le_bytes(src.bytes()?).into()),
        7 => match src.u8()? {
            0 => Value::Bool(false),
            1 => Value::Bool(true),
            b => return invalid(format!("boolean value is {b}, not 0 or 1")),
        },
        STRING => Value::Text(read_string(src)?),
        ARRAY => read_array(src, depth)?,
        10 => Value::Unsigned(src.u64()?),
        11 => Value::Signed(i64::from_le_bytes(src.bytes()?)),
        12 => Value::Float(f64::from_le_bytes(src.bytes()?)),
        other => return invalid(format!("unknown value type {other}")),
    })
}

/// Reads a string, keeping its first characters.
fn read_string<R: BufRead>(src: &mut Source<R>) -> Result<String, ParseError> {
    let len = src.u64()?;
    let kept = src.prefix(len, MAX_VALUE_CHARS * 4)?;
    let mut text = String::from_utf8_lossy(&kept).into_owned();
    if text.chars().count() > MAX_VALUE_CHARS || (kept.len() as u64) < len {
        text = text.chars().take(MAX_VALUE_CHARS).collect();
        text.push('…');
    }
    Ok(text)
}

fn read_array<R: BufRead>(src: &mut Source<R>, depth: u32) -> Result<Value, ParseError> {
    let element = src.u32()?;
    let len = src.u64()?;
    let mut texts = Vec::new();
    if let Some(size) = fixed_size(element) {
        // A length claiming more bytes than any file contains ends as a truncation problem.
        let bytes = len
            .checked_mul(size)
            .ok_or_else(|| ParseError::Format(format!("array of {len} values overflows")))?;
        src.skip(bytes)?;
    } else if element == STRING {
        // Each string takes at least 8 bytes, so a hostile length ends at the end of the file.
        for _ in 0..len {
            let text = read_string(src)?;
            if texts.len() < MAX_ARRAY_STRINGS {
                texts.push(text);
            }
        }
    } else if element == ARRAY {
        if depth >= MAX_ARRAY_DEPTH {
            return invalid(format!("arrays nested more than {MAX_ARRAY_DEPTH} deep"));
        }
        for _ in 0..len {
            read_array(src, depth + 1)?;
        }
    } else {
        return invalid(format!("array of unknown value type {element}"));
    }
    Ok(Value::Array {
        element,
        len,
        texts,
    })
}

fn read_tensor_infos<R: BufRead>(
    src: &mut Source<R>,
    tensor_count: u64,
    file_size: u64,
    alignment: u64,
    facts: &mut ModelFacts,
) -> Result<(), ParseError> {
    let mut parameters = 0u64;
    let mut data_end = 0u64;
    let mut dtypes: BTreeMap<String, u64> = BTreeMap::new();
    // Each info takes at least 24 bytes, so a hostile count ends at the end of the file.
    for index in 0..tensor_count {
        let name_len = src.u64()?;
        if name_len > MAX_KEY_BYTES {
            return invalid(format!("tensor {index} has a {name_len}-byte name"));
        }
        let name = String::from_utf8_lossy(&src.prefix(name_len, 256)?).into_owned();
        let dims = src.u32()?;
        if dims > 8 {
            return invalid(format!("tensor `{}` has {dims} dimensions", shown(&name)));
        }
        let mut elements = 1u64;
        for _ in 0..dims {
            elements = elements.checked_mul(src.u64()?).ok_or_else(|| {
                ParseError::Format(format!(
                    "tensor `{}` has a shape whose element count overflows",
                    shown(&name)
                ))
            })?;
        }
        let kind = src.u32()?;
        let offset = src.u64()?;
        parameters = parameters.saturating_add(elements);
        let Some(tensor) = tensor_type(kind) else {
            *dtypes.entry(format!("type {kind}")).or_default() += 1;
            push_problem(
                facts,
                format!("tensor `{}` has the unknown type {kind}", shown(&name)),
            );
            continue;
        };
        *dtypes.entry(tensor.name.to_owned()).or_default() += 1;
        if offset % alignment != 0 {
            push_problem(
                facts,
                format!(
                    "tensor `{}` starts at offset {offset}, not a multiple of the alignment {alignment}",
                    shown(&name)
                ),
            );
        }
        match tensor.bytes(elements) {
            Some(bytes) => data_end = data_end.max(offset.saturating_add(bytes)),
            None => push_problem(
                facts,
                format!(
                    "tensor `{}` has {elements} elements, not whole {} blocks",
                    shown(&name),
                    tensor.name
                ),
            ),
        }
    }
    facts.dtypes = dtypes;
    facts.parameter_count = Some(parameters);

    // Tensor data starts at the next multiple of the alignment after the infos.
    let data_start = src.position().div_ceil(alignment).saturating_mul(alignment);
    let needed = data_start.saturating_add(data_end);
    if tensor_count > 0 && needed > file_size {
        push_problem(
            facts,
            format!(
                "tensor data runs to byte {needed}, but the file has {file_size} bytes (truncated file?)"
            ),
        );
    }
    debug_assert!(facts.problems.len() <= MAX_PROBLEMS);
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds GGUF files for tests.
    #[derive(Default)]
    pub(crate) struct GgufBuilder {
        kvs: Vec<u8>,
        kv_count: u64,
        infos: Vec<u8>,
        tensor_count: u64,
    }

    fn string(out: &mut Vec<u8>, text: &str) {
        out.extend_from_slice(&(text.len() as u64).to_le_bytes());
        out.extend_from_slice(text.as_bytes());
    }

    impl GgufBuilder {
        pub(crate) fn text(mut self, key: &str, value: &str) -> Self {
            string(&mut self.kvs, key);
            self.kvs.extend_from_slice(&STRING.to_le_bytes());
            string(&mut self.kvs, value);
            self.kv_count += 1;
            self
        }

        pub(crate) fn u32(mut self, key: &str, value: u32) -> Self {
            string(&mut self.kvs, key);
            self.kvs.extend_from_slice(&4u32.to_le_bytes());
            self.kvs.extend_from_slice(&value.to_le_bytes());
            self.kv_count += 1;
            self
        }

        pub(crate) fn strings(mut self, key: &str, values: &[&str]) -> Self {
            string(&mut self.kvs, key);
            self.kvs.extend_from_slice(&ARRAY.to_le_bytes());
            self.kvs.extend_from_slice(&STRING.to_le_bytes());
            self.kvs
                .extend_from_slice(&(values.len() as u64).to_le_bytes());
            for value in values {
                string(&mut self.kvs, value);
            }
            self.kv_count += 1;
            self
        }

        /// Adds an array header that claims `len` float32 values but contains none.
        pub(crate) fn huge_array(mut self, key: &str, len: u64) -> Self {
            string(&mut self.kvs, key);
            self.kvs.extend_from_slice(&ARRAY.to_le_bytes());
            self.kvs.extend_from_slice(&6u32.to_le_bytes());
            self.kvs.extend_from_slice(&len.to_le_bytes());
            self.kv_count += 1;
            self
        }

        pub(crate) fn tensor(mut self, name: &str, dims: &[u64], kind: u32, offset: u64) -> Self {
            string(&mut self.infos, name);
            self.infos
                .extend_from_slice(&(dims.len() as u32).to_le_bytes());
            for d in dims {
                self.infos.extend_from_slice(&d.to_le_bytes());
            }
            self.infos.extend_from_slice(&kind.to_le_bytes());
            self.infos.extend_from_slice(&offset.to_le_bytes());
            self.tensor_count += 1;
            self
        }

        /// The file with `data` bytes of tensor data after 32-byte alignment padding.
        pub(crate) fn build(&self, data: usize) -> Vec<u8> {
            let mut out = b"GGUF".to_vec();
            out.extend_from_slice(&3u32.to_le_bytes());
            out.extend_from_slice(&self.tensor_count.to_le_bytes());
            out.extend_from_slice(&self.kv_count.to_le_bytes());
            out.extend_from_slice(&self.kvs);
            out.extend_from_slice(&self.infos);
            if data > 0 {
                out.resize(out.len().div_ceil(32) * 32 + data, 0);
            }
            out
        }
    }

    pub(crate) fn parse(bytes: &[u8]) -> (ModelFacts, Option<String>) {
        let mut facts = ModelFacts::default();
        let mut src = Source::new(bytes);
        let problem = match parse_gguf(&mut src, bytes.len() as u64, &mut facts) {
            Ok(()) => None,
            Err(ParseError::Format(p)) => Some(p),
            Err(ParseError::Io(e)) => panic!("{e}"),
        };
        (facts, problem)
    }

    fn llama() -> GgufBuilder {
        GgufBuilder::default()
            .text("general.architecture", "llama")
            .text("general.name", "Tiny Llama")
            .u32("general.file_type", 15)
            .u32("llama.context_length", 4096)
            .text("tokenizer.ggml.model", "llama")
            .strings("tokenizer.ggml.tokens", &["<unk>", "<s>", "</s>"])
            .tensor("token_embd.weight", &[256, 4], 12, 0)
            .tensor("output_norm.weight", &[256], 0, 576)
    }

    #[test]
    fn header_metadata_and_tensors() {
        // 256 x 4 Q4_K elements are 4 blocks of 144 bytes; 256 F32 are 1,024 bytes from 576.
        let (facts, problem) = parse(&llama().build(576 + 1024));
        assert_eq!(problem, None);
        assert_eq!(facts.format_version.as_deref(), Some("3"));
        assert_eq!(facts.architecture.as_deref(), Some("llama"));
        assert_eq!(facts.name.as_deref(), Some("Tiny Llama"));
        assert_eq!(facts.quantization.as_deref(), Some("MOSTLY_Q4_K_M"));
        assert_eq!(facts.context_length, Some(4096));
        assert_eq!(facts.tensor_count, Some(2));
        assert_eq!(facts.parameter_count, Some(1280));
        assert_eq!(facts.dtypes["Q4_K"], 1);
        assert_eq!(facts.dtypes["F32"], 1);
        assert_eq!(facts.metadata["gguf.kv_count"], "6");
        assert_eq!(facts.metadata["tokenizer.ggml.tokens"], "<unk>, <s>, </s>");
        let tokenizer = facts.tokenizer.unwrap();
        assert_eq!(tokenizer.model_type.as_deref(), Some("llama"));
        assert_eq!(tokenizer.vocab_size, Some(3));
        assert!(facts.problems.is_empty(), "{:?}", facts.problems);
    }

    #[test]
    fn truncated_tensor_data_is_a_problem() {
        let (facts, problem) = parse(&llama().build(100));
        assert_eq!(problem, None);
        assert_eq!(facts.problems.len(), 1);
        assert!(
            facts.problems[0].contains("truncated"),
            "{:?}",
            facts.problems
        );
    }

    #[test]
    fn file_cut_inside_metadata_keeps_earlier_pairs() {
        let bytes = llama().build(0);
        let (facts, problem) = parse(&bytes[..100]);
        assert_eq!(
            problem.as_deref(),
            Some("metadata `general.name`: file ends before the structure it declares")
        );
        assert_eq!(facts.architecture.as_deref(), Some("llama"));
        assert_eq!(facts.name, None);
    }

    #[test]
    fn huge_array_claim_is_bounded() {
        // The header says 2^40 float32 values (4 TiB) follow; the file has none.
        let bytes = GgufBuilder::default()
            .huge_array("tokenizer.ggml.scores", 1 << 40)
            .build(0);
        let (_, problem) = parse(&bytes);
        assert_eq!(
            problem.as_deref(),
            Some(
                "metadata `tokenizer.ggml.scores`: file ends 0 bytes into a 4398046511104-byte field"
            )
        );
        let overflow = GgufBuilder::default()
            .huge_array("x", u64::MAX / 2)
            .build(0);
        assert!(parse(&overflow).1.unwrap().contains("overflows"));
    }

    #[test]
    fn wrong_magic_and_versions() {
        assert!(parse(b"GGML\x03\0\0\0").1.unwrap().contains("magic"));
        assert!(parse(b"GGUF\x01\0\0\0").1.unwrap().contains("version 1"));
        assert!(parse(b"GGUF\0\0\0\x03").1.unwrap().contains("big-endian"));
    }
}
