//! Machine-learning model weights and the files that describe them.
//!
//! | file | what it gives |
//! |---|---|
//! | `*.safetensors` | from the header: tensor count, data types, parameter count, `__metadata__` |
//! | `*.gguf` | GGUF v2/v3 header and key-value metadata: `general.name`, `general.architecture`, `general.file_type` (quantisation), `<arch>.context_length`, `general.license`, tokenizer model and vocabulary size; tensor infos: count, parameters, tensor types |
//! | `*.onnx` | `ir_version`, opsets, producer, graph name, node count, initializers (count, elements, data types, external data), graph inputs and outputs with types and shapes |
//! | `*.pt`, `*.pth`, `*.ckpt`, `*.bin` (by magic) | PyTorch zip archive or legacy checkpoint, TorchScript archive, or a plain pickle (protocols 0 and 1, which have no magic, when the file reads as one up to `STOP`): every pickle import with a safe/unsafe verdict, tensors rebuilt, parameters, storage dtypes, storages checked against `data/*` |
//! | `*.pkl`, `*.pickle` | pickle imports and verdict |
//! | `*.keras` | `config.json` model class, name, layers, `Lambda` layers; `metadata.json` Keras version; HDF5 superblock of the weights |
//! | `*.h5`, `*.hdf5` | HDF5 signature and superblock version; the object tree is not read |
//! | `*.bin` with a ggml magic | legacy `ggml`/`ggmf`/`ggjt`/`ggla` container, version, hyperparameters where the layout is fixed, vocabulary and tensors |
//! | `*.npz` | every array's name, dtype and shape from its `.npy` header; pickles in object arrays |
//! | `*-NNNNN-of-MMMMM.<ext>` with `*.index.json` | shards grouped into one model; missing shards are problems |
//! | `config.json` beside the weights | Hugging Face `architectures`, `model_type`, sizes |
//! | `tokenizer.json` beside the weights | tokenizer model type, vocabulary size, added tokens |
//! | `README.md` beside the weights | model card front matter: task (`pipeline_tag`), licence, datasets, languages |
//! | a Python `RECORD` listing the weights | the owning distribution; weights under its test directories are reported on it |
//!
//! Every model gets the SHA-256 of each of its files. Only what these files state is reported;
//! a field no file states stays empty. Nothing is loaded or executed: pickles are read opcode by
//! opcode (see [`parse_pickle`]).

mod assemble;
mod ggml_types;
mod parse_config;
mod parse_front_matter;
mod parse_ggml;
mod parse_gguf;
mod parse_hdf5;
mod parse_keras;
mod parse_npz;
mod parse_onnx;
mod parse_pickle;
mod parse_pytorch;
mod parse_safetensors;
mod parse_shard_index;
mod parse_tokenizer;
mod protobuf;
mod stream;
mod weights;
mod zip_window;

use clearbox_oci::EntryInfo;

use crate::capture::{Capture, file_name};
use crate::package::{ModelFacts, PickleVerdict};

pub use parse_front_matter::CardFrontMatter;
pub use parse_safetensors::SafetensorsFacts;
pub use weights::WeightsFacts;

pub(crate) use assemble::catalog;
pub(crate) use parse_config::parse_config;
pub(crate) use parse_front_matter::read_front_matter;
pub(crate) use parse_pickle::PickleScanner;
pub(crate) use parse_safetensors::inspect_safetensors;
pub(crate) use parse_tokenizer::read_tokenizer;
pub(crate) use weights::{WeightFormat, inspect_weights};

pub(crate) const CATALOGER: &str = "model-file-cataloger";

/// Largest `config.json` and model card read.
const MAX_CONFIG: u64 = 1 << 20;
/// Largest shard index read.
const MAX_SHARD_INDEX: u64 = 16 << 20;
/// Problems kept per model file.
pub(crate) const MAX_PROBLEMS: usize = 20;
/// Graph inputs and outputs listed per model.
pub(crate) const MAX_LISTED: usize = 32;
/// Named arrays listed per model.
pub(crate) const MAX_TENSORS_LISTED: usize = 64;

pub(crate) fn capture(entry: &EntryInfo<'_>) -> Option<Capture> {
    let name = file_name(entry.path);
    if name.ends_with(".safetensors") {
        return Some(Capture::Safetensors);
    }
    if name.ends_with(".safetensors.index.json") || name.ends_with(".bin.index.json") {
        return Some(Capture::Text {
            max: MAX_SHARD_INDEX,
        });
    }
    if let Some(format) = weights::format_for(name) {
        return Some(Capture::Weights(format));
    }
    match name {
        "config.json" => Some(Capture::Text { max: MAX_CONFIG }),
        "README.md" if entry.size <= MAX_CONFIG => Some(Capture::ModelCard),
        "tokenizer.json" => Some(Capture::Tokenizer),
        _ => None,
    }
}

/// Adds a problem unless the file already has the maximum kept.
pub(crate) fn push_problem(facts: &mut ModelFacts, problem: String) {
    if facts.problems.len() < MAX_PROBLEMS {
        facts.problems.push(problem);
    }
}

/// Records a pickle scan, with a warning when the pickle is not known to be safe.
pub(crate) fn set_pickle(facts: &mut ModelFacts, scanner: &PickleScanner) {
    let scan = scanner.result();
    match scan.verdict {
        PickleVerdict::Safe => {}
        PickleVerdict::Unsafe => facts.warnings.push(format!(
            "unsafe pickle: it imports {}, which unpickling calls (pickle.load, torch.load with weights_only=False, numpy.load with allow_pickle=True)",
            scan.unsafe_imports
                .iter()
                .map(|i| format!("`{i}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        PickleVerdict::Unverified => facts.warnings.push(format!(
            "pickle not verified: the scan stopped before the end ({}), so imports after that point are unchecked",
            scan.incomplete.as_deref().unwrap_or("no reason recorded")
        )),
    }
    facts.pickle = Some(scan);
}
