//! Parser for the legacy ggml containers that GGUF replaced: `ggml` (unversioned), `ggmf`,
//! `ggjt` (versions 1 to 3) and `ggla` (LoRA adapters). Each starts with its magic as a
//! little-endian `u32`, so the first bytes read `lmgg`, `fmgg`, `tjgg` and `algg`. Format
//! reference: the "Historical State of Affairs" section of ggml's `docs/gguf.md`, llama.cpp's
//! `llama.h` (`LLAMA_FILE_MAGIC_*`) and whisper.cpp's `whisper_model_load`.
//!
//! Hyperparameters are read where the container fixes their layout:
//! - `ggmf` and `ggjt` are llama.cpp's: `n_vocab, n_embd, n_mult, n_head, n_layer, n_rot,
//!   ftype`, then the vocabulary with scores;
//! - `ggla` stores the LoRA rank and alpha;
//! - the unversioned `ggml` container is shared by whisper.cpp, the ggml examples and early
//!   llama.cpp and does not say which wrote it. Its whisper.cpp layout (eleven hyperparameters
//!   and a mel filter bank whose first count repeats `n_mels`) is recognised by that
//!   repetition and read to the last tensor; other layouts are reported as not recognised.
//!
//! Tensors are walked (dims, name, type, data) where their sizes are today's ggml sizes: the
//! whisper.cpp layout, `ggjt` version 3 and `ggla`. Earlier `ggmf`/`ggjt` quantised blocks had
//! other sizes, so their tensors are not walked.

use std::collections::BTreeMap;
use std::io::BufRead;

use crate::model::ggml_types::{file_type_name, tensor_type};
use crate::model::push_problem;
use crate::model::stream::{ParseError, Source, invalid, shown};
use crate::package::{ModelFacts, TokenizerFacts};

/// llama.cpp and whisper.cpp store `ftype + 1000 * quantization_version`.
const QNT_VERSION_FACTOR: i32 = 1000;

/// The whisper.cpp hyperparameter names, in file order.
const WHISPER_HPARAMS: [&str; 11] = [
    "n_vocab",
    "n_audio_ctx",
    "n_audio_state",
    "n_audio_head",
    "n_audio_layer",
    "n_text_ctx",
    "n_text_state",
    "n_text_head",
    "n_text_layer",
    "n_mels",
    "ftype",
];

/// The llama.cpp hyperparameter names of `ggmf` and `ggjt`.
const LLAMA_HPARAMS: [&str; 7] = [
    "n_vocab", "n_embd", "n_mult", "n_head", "n_layer", "n_rot", "ftype",
];

/// Returns the container name of a legacy ggml magic, such as `ggjt` for `tjgg`.
pub(crate) fn container(magic: &[u8]) -> Option<&'static str> {
    Some(match magic.get(..4)? {
        b"lmgg" => "ggml",
        b"fmgg" => "ggmf",
        b"tjgg" => "ggjt",
        b"algg" => "ggla",
        _ => return None,
    })
}

/// Parses a legacy ggml file from its first byte.
pub(crate) fn parse_ggml<R: BufRead>(
    src: &mut Source<R>,
    facts: &mut ModelFacts,
) -> Result<(), ParseError> {
    let magic = src.bytes::<4>()?;
    let Some(kind) = container(&magic) else {
        return invalid("not a ggml file: unknown magic");
    };
    "ggml".clone_into(&mut facts.format);
    match kind {
        "ggml" => parse_unversioned(src, facts),
        "ggla" => {
            let version = src.u32()?;
            facts.format_version = Some(format!("ggla v{version}"));
            facts.architecture = Some("lora".to_owned());
            let rank = src.i32()?;
            let alpha = src.i32()?;
            facts
                .metadata
                .insert("ggml.lora_r".to_owned(), rank.to_string());
            facts
                .metadata
                .insert("ggml.lora_alpha".to_owned(), alpha.to_string());
            walk_tensors(src, facts, true)
        }
        _ => {
            let version = src.u32()?;
            facts.format_version = Some(format!("{kind} v{version}"));
            facts.architecture = Some("llama".to_owned());
            let hparams = read_hparams(src, &LLAMA_HPARAMS, facts)?;
            let vocab = read_vocab(src, hparams[0], true)?;
            set_vocab(facts, vocab);
            if kind == "ggjt" && version == 3 {
                walk_tensors(src, facts, true)
            } else {
                facts.metadata.insert(
                    "ggml.tensors".to_owned(),
                    format!("not read: {kind} v{version} quantised blocks have older sizes"),
                );
                Ok(())
            }
        }
    }
}

fn parse_unversioned<R: BufRead>(
    src: &mut Source<R>,
    facts: &mut ModelFacts,
) -> Result<(), ParseError> {
    facts.format_version = Some("ggml (unversioned)".to_owned());
    let mut values = [0i32; 11];
    for value in &mut values {
        *value = src.i32()?;
    }
    let n_mel = src.i32()?;
    let n_fft = src.i32()?;
    // whisper.cpp writes the mel filter bank's row count right after `n_mels`; that repetition
    // identifies its layout.
    if !(n_mel == values[9] && n_mel > 0 && (1..=1 << 16).contains(&n_fft)) {
        facts.metadata.insert(
            "ggml.layout".to_owned(),
            "not recognised: the unversioned ggml container does not say which program wrote it"
                .to_owned(),
        );
        return Ok(());
    }
    facts.architecture = Some("whisper".to_owned());
    facts
        .metadata
        .insert("ggml.layout".to_owned(), "whisper.cpp".to_owned());
    for (name, value) in WHISPER_HPARAMS.iter().zip(values) {
        facts
            .metadata
            .insert(format!("whisper.{name}"), value.to_string());
    }
    facts.quantization = Some(file_type_name(
        u64::try_from(values[10] % QNT_VERSION_FACTOR).unwrap_or(u64::MAX),
    ));
    facts.context_length = u64::try_from(values[5]).ok();
    facts
        .metadata
        .insert("whisper.mel_filters".to_owned(), format!("{n_mel}x{n_fft}"));
    let filter_bytes = u64::try_from(i64::from(n_mel) * i64::from(n_fft) * 4).unwrap_or(0);
    src.skip(filter_bytes)?;
    let n_vocab = src.i32()?;
    let vocab = read_vocab(src, n_vocab, false)?;
    set_vocab(facts, vocab);
    walk_tensors(src, facts, false)
}

fn read_hparams<R: BufRead>(
    src: &mut Source<R>,
    names: &[&str],
    facts: &mut ModelFacts,
) -> Result<Vec<i32>, ParseError> {
    let mut values = Vec::with_capacity(names.len());
    for name in names {
        let value = src.i32()?;
        facts
            .metadata
            .insert(format!("llama.{name}"), value.to_string());
        values.push(value);
    }
    if let Some(&ftype) = values.last() {
        facts.quantization = Some(file_type_name(
            u64::try_from(ftype % QNT_VERSION_FACTOR).unwrap_or(u64::MAX),
        ));
    }
    Ok(values)
}

/// Reads `count` vocabulary entries (`u32` length, bytes, and a `f32` score when `scores`).
fn read_vocab<R: BufRead>(
    src: &mut Source<R>,
    count: i32,
    scores: bool,
) -> Result<u64, ParseError> {
    let Ok(count) = u64::try_from(count) else {
        return invalid(format!("vocabulary size {count} is negative"));
    };
    // Each entry takes at least 4 bytes, so a hostile count ends at the end of the file.
    for _ in 0..count {
        let len = src.u32()?;
        src.skip(u64::from(len) + if scores { 4 } else { 0 })?;
    }
    Ok(count)
}

fn set_vocab(facts: &mut ModelFacts, vocab: u64) {
    facts.tokenizer = Some(TokenizerFacts {
        vocab_size: Some(vocab),
        ..TokenizerFacts::default()
    });
}

/// Walks tensor headers and data to the end of the file.
fn walk_tensors<R: BufRead>(
    src: &mut Source<R>,
    facts: &mut ModelFacts,
    aligned: bool,
) -> Result<(), ParseError> {
    let mut count = 0u64;
    let mut parameters = 0u64;
    let mut dtypes: BTreeMap<String, u64> = BTreeMap::new();
    let result = (|| {
        while !src.at_end()? {
            let dims = src.i32()?;
            let name_len = src.i32()?;
            let kind = src.i32()?;
            if !(1..=4).contains(&dims) || !(0..=4096).contains(&name_len) {
                return invalid(format!(
                    "tensor {count} header is invalid ({dims} dimensions, {name_len}-byte name)"
                ));
            }
            let mut elements = 1u64;
            for _ in 0..dims {
                let dim = u64::try_from(src.i32()?).unwrap_or(0);
                elements = elements.saturating_mul(dim);
            }
            let name =
                String::from_utf8_lossy(&src.prefix(u64::try_from(name_len).unwrap_or(0), 256)?)
                    .into_owned();
            let Some(tensor) = u32::try_from(kind).ok().and_then(tensor_type) else {
                return invalid(format!(
                    "tensor `{}` has the unknown type {kind}",
                    shown(&name)
                ));
            };
            let Some(bytes) = tensor.bytes(elements) else {
                return invalid(format!(
                    "tensor `{}` has {elements} elements, not whole {} blocks",
                    shown(&name),
                    tensor.name
                ));
            };
            if aligned {
                let padding = src.position().next_multiple_of(32) - src.position();
                src.skip(padding)?;
            }
            src.skip(bytes)?;
            count += 1;
            parameters = parameters.saturating_add(elements);
            *dtypes.entry(tensor.name.to_owned()).or_default() += 1;
        }
        Ok(())
    })();
    facts.tensor_count = Some(count);
    facts.parameter_count = Some(parameters);
    facts.dtypes = dtypes;
    if let Err(ParseError::Format(problem)) = &result {
        push_problem(facts, problem.clone());
        return Ok(());
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> (ModelFacts, Option<String>) {
        let mut facts = ModelFacts::default();
        let problem = match parse_ggml(&mut Source::new(bytes), &mut facts) {
            Ok(()) => None,
            Err(ParseError::Format(p)) => Some(p),
            Err(ParseError::Io(e)) => panic!("{e}"),
        };
        (facts, problem)
    }

    fn i32s(out: &mut Vec<u8>, values: &[i32]) {
        for v in values {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }

    /// A whisper.cpp file with a 2x3 filter bank, two tokens and one F32 tensor of 4 elements.
    fn whisper() -> Vec<u8> {
        let mut out = b"lmgg".to_vec();
        i32s(&mut out, &[3, 1500, 384, 6, 4, 448, 384, 6, 4, 2, 1]);
        i32s(&mut out, &[2, 3]);
        out.extend_from_slice(&[0; 24]);
        i32s(&mut out, &[2, 1]);
        out.push(b'a');
        i32s(&mut out, &[2]);
        out.extend_from_slice(b"bc");
        i32s(&mut out, &[1, 4, 0, 4]);
        out.extend_from_slice(b"bias");
        out.extend_from_slice(&[0; 16]);
        out
    }

    #[test]
    fn whisper_layout() {
        let (facts, problem) = parse(&whisper());
        assert_eq!(problem, None);
        assert_eq!(facts.architecture.as_deref(), Some("whisper"));
        assert_eq!(facts.metadata["whisper.n_vocab"], "3");
        assert_eq!(facts.quantization.as_deref(), Some("MOSTLY_F16"));
        assert_eq!(facts.context_length, Some(448));
        assert_eq!(facts.tokenizer.unwrap().vocab_size, Some(2));
        assert_eq!(facts.tensor_count, Some(1));
        assert_eq!(facts.parameter_count, Some(4));
        assert!(facts.problems.is_empty(), "{:?}", facts.problems);
    }

    #[test]
    fn cut_tensor_is_a_problem() {
        let bytes = whisper();
        let (facts, problem) = parse(&bytes[..bytes.len() - 4]);
        assert_eq!(problem, None);
        assert_eq!(facts.tensor_count, Some(0));
        assert_eq!(facts.problems.len(), 1);
    }

    #[test]
    fn unrecognised_unversioned_layout() {
        let mut bytes = b"lmgg".to_vec();
        i32s(&mut bytes, &[10, 3200, 8, 2, 1, 16, 64, 8, 4, 3, 8, 1, 2]);
        let (facts, problem) = parse(&bytes);
        assert_eq!(problem, None);
        assert!(facts.metadata["ggml.layout"].starts_with("not recognised"));
        assert_eq!(facts.architecture, None);
    }

    #[test]
    fn ggjt_v3_llama_and_lora() {
        let mut bytes = b"tjgg".to_vec();
        i32s(&mut bytes, &[3, 2, 4096, 256, 32, 32, 128, 1002]);
        for token in ["a", "b"] {
            i32s(&mut bytes, &[1]);
            bytes.extend_from_slice(token.as_bytes());
            bytes.extend_from_slice(&0f32.to_le_bytes());
        }
        let (facts, problem) = parse(&bytes);
        assert_eq!(problem, None);
        assert_eq!(facts.format_version.as_deref(), Some("ggjt v3"));
        assert_eq!(facts.quantization.as_deref(), Some("MOSTLY_Q4_0"));
        assert_eq!(facts.metadata["llama.n_embd"], "4096");
        assert_eq!(facts.tensor_count, Some(0));

        let mut lora = b"algg".to_vec();
        i32s(&mut lora, &[1, 8, 16]);
        let (facts, _) = parse(&lora);
        assert_eq!(facts.metadata["ggml.lora_r"], "8");
        assert_eq!(facts.architecture.as_deref(), Some("lora"));
    }

    #[test]
    fn negative_vocab_and_wrong_magic() {
        let mut bytes = b"fmgg".to_vec();
        i32s(&mut bytes, &[1, -5, 1, 1, 1, 1, 1, 0]);
        assert!(parse(&bytes).1.unwrap().contains("negative"));
        assert!(parse(b"GGUF").1.unwrap().contains("unknown magic"));
    }
}
