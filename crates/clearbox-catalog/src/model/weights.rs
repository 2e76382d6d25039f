//! Capturing model files other than safetensors: choosing a parser from the file name, checking
//! it against the file's magic bytes, and hashing the whole file while the parser reads what it
//! needs.
//!
//! Streaming formats (GGUF, ggml, ONNX, pickles, HDF5) are parsed as they pass. Zip-based
//! formats (PyTorch archives, `.npz`, `.keras`) need random access and are read from a
//! [`Window`]. A `.bin` file is a model only when its magic says so (ggml, GGUF, a PyTorch zip
//! or pickle), or when it reads as a pickle up to its `STOP` opcode, because protocols 0 and 1
//! have no magic. Other `.bin` files yield no fact, except executables, which go to the Go
//! cataloger.

use std::io::{self, Read};

use clearbox_oci::EntryInfo;
use serde::Serialize;

use crate::capture::Fact;
use crate::golang;
use crate::model::parse_ggml::{container, parse_ggml};
use crate::model::parse_gguf::parse_gguf;
use crate::model::parse_hdf5::read_superblock;
use crate::model::parse_keras::{is_keras, parse_keras};
use crate::model::parse_npz::parse_npz;
use crate::model::parse_onnx::parse_onnx;
use crate::model::parse_pytorch::{data_pickle, parse_pickle_file, parse_torch_zip};
use crate::model::push_problem;
use crate::model::stream::{HashingReader, ParseError, source, split_problem};
use crate::model::zip_window::{Archive, Window};
use crate::package::ModelFacts;

/// The parser a file name asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WeightFormat {
    /// `.gguf`.
    Gguf,
    /// `.onnx`.
    Onnx,
    /// `.pt`, `.pth`, `.ckpt`: a PyTorch zip archive or a pickle.
    PyTorch,
    /// `.pkl`, `.pickle`.
    Pickle,
    /// `.keras`.
    Keras,
    /// `.h5`, `.hdf5`.
    Hdf5,
    /// `.npz`.
    Npz,
    /// `.bin`: whatever the magic shows, or nothing.
    Sniffed,
}

/// Returns the parser for a file name, `None` for files that are not model weights.
pub(crate) fn format_for(name: &str) -> Option<WeightFormat> {
    let extension = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match extension.as_str() {
        "gguf" => WeightFormat::Gguf,
        "onnx" => WeightFormat::Onnx,
        "pt" | "pth" | "ckpt" => WeightFormat::PyTorch,
        "pkl" | "pickle" => WeightFormat::Pickle,
        "keras" => WeightFormat::Keras,
        "h5" | "hdf5" => WeightFormat::Hdf5,
        "npz" => WeightFormat::Npz,
        "bin" => WeightFormat::Sniffed,
        _ => return None,
    })
}

/// What was learnt from one model file.
#[derive(Debug, Clone, Serialize)]
pub struct WeightsFacts {
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the whole file, lowercase hexadecimal.
    pub sha256: String,
    /// Facts the file states; `problems` contains why parsing stopped early, if it did.
    pub facts: ModelFacts,
}

/// The container the first bytes show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Magic {
    Gguf,
    Ggml,
    Zip,
    Pickle,
    Hdf5,
    Elf,
    Unknown,
}

fn magic(prefix: &[u8]) -> Magic {
    match prefix {
        [b'G', b'G', b'U', b'F', ..] => Magic::Gguf,
        p if container(p).is_some() => Magic::Ggml,
        [b'P', b'K', 3, 4, ..] | [b'P', b'K', 5, 6, ..] => Magic::Zip,
        [0x80, 2..=5, ..] => Magic::Pickle,
        [0x89, b'H', b'D', b'F', ..] => Magic::Hdf5,
        [0x7f, b'E', b'L', b'F', ..] => Magic::Elf,
        _ => Magic::Unknown,
    }
}

/// Reads up to `buf.len()` bytes, fewer only at the end of the file.
fn read_prefix(content: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = content.read(&mut buf[filled..])?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

/// Captures a model file. Returns `None` for a `.bin` file that is no model.
pub(crate) fn inspect_weights(
    entry: &EntryInfo<'_>,
    format: WeightFormat,
    content: &mut dyn Read,
) -> io::Result<Option<Fact>> {
    let mut buf = [0u8; 16];
    let len = read_prefix(content, &mut buf)?;
    let prefix = &buf[..len];
    let found = magic(prefix);

    // 1. Decide which parser runs, from the name and the magic.
    let parser = match (format, found) {
        (WeightFormat::Sniffed, Magic::Elf) if entry.mode & 0o111 != 0 => {
            let mut whole = prefix.chain(content);
            return Ok(golang::inspect_elf(entry, &mut whole)?.map(Fact::Elf));
        }
        (WeightFormat::Sniffed, Magic::Elf | Magic::Hdf5) => return Ok(None),
        (WeightFormat::Gguf, _) | (WeightFormat::Sniffed, Magic::Gguf) => Parser::Gguf,
        (WeightFormat::Sniffed, Magic::Ggml) => Parser::Ggml,
        (WeightFormat::Sniffed | WeightFormat::PyTorch, Magic::Zip) => Parser::TorchZip,
        (WeightFormat::Sniffed | WeightFormat::PyTorch | WeightFormat::Pickle, Magic::Pickle) => {
            Parser::Pickle
        }
        (WeightFormat::Npz, _) => Parser::Npz,
        (WeightFormat::Keras, _) => Parser::Keras,
        (WeightFormat::Hdf5, _) => Parser::Hdf5,
        (WeightFormat::Onnx, _) => Parser::Onnx,
        (WeightFormat::Sniffed, Magic::Unknown) | (WeightFormat::PyTorch, _) => {
            Parser::UnmarkedPickle
        }
        (WeightFormat::Pickle, _) => Parser::Pickle,
    };

    // 2. Parse while hashing.
    let mut whole = prefix.chain(content);
    let mut reader = HashingReader::new(&mut whole);
    let mut facts = ModelFacts {
        format: parser.format().to_owned(),
        ..ModelFacts::default()
    };
    let zip_formats = matches!(parser, Parser::TorchZip | Parser::Npz | Parser::Keras);
    if zip_formats {
        let window = Window::capture(&[], &mut reader)?;
        let (size, sha256) = reader.finish()?;
        let keep = read_zip(parser, window, format, &mut facts);
        if !keep {
            return Ok(None);
        }
        return Ok(Some(Fact::Weights(Box::new(WeightsFacts {
            size,
            sha256,
            facts,
        }))));
    }
    let problem = {
        let mut src = source(&mut reader);
        split_problem(match parser {
            Parser::Gguf => parse_gguf(&mut src, entry.size, &mut facts),
            Parser::Ggml => parse_ggml(&mut src, &mut facts),
            Parser::Onnx => parse_onnx(&mut src, &mut facts),
            Parser::Pickle => parse_pickle_file(&mut src, &mut facts),
            // Protocols 0 and 1 start with no `PROTO` opcode: the file is a pickle only when it
            // reads as one up to its `STOP` opcode.
            Parser::UnmarkedPickle => match parse_pickle_file(&mut src, &mut facts) {
                Err(ParseError::Format(_)) if format == WeightFormat::Sniffed => return Ok(None),
                Err(ParseError::Format(_)) => {
                    facts = ModelFacts {
                        format: "pytorch".to_owned(),
                        ..ModelFacts::default()
                    };
                    Err(ParseError::Format(
                        "neither a zip archive nor a pickle: not a PyTorch checkpoint".into(),
                    ))
                }
                result => result,
            },
            Parser::Hdf5 => read_hdf5(&mut src, entry.size, &mut facts),
            Parser::TorchZip | Parser::Npz | Parser::Keras => unreachable!("zip formats"),
        })?
    };
    if let Some(problem) = problem {
        push_problem(&mut facts, problem);
    }
    let (size, sha256) = reader.finish()?;
    Ok(Some(Fact::Weights(Box::new(WeightsFacts {
        size,
        sha256,
        facts,
    }))))
}

/// The parser chosen for a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parser {
    Gguf,
    Ggml,
    Onnx,
    Pickle,
    /// A pickle without a `PROTO` opcode (protocol 0 or 1). When the file does not read as one,
    /// a `.bin` file is no model and a `.pt`, `.pth` or `.ckpt` file is no PyTorch checkpoint.
    UnmarkedPickle,
    Hdf5,
    TorchZip,
    Npz,
    Keras,
}

impl Parser {
    /// The format reported before the parser refines it (`torchscript`, legacy `pytorch`).
    fn format(self) -> &'static str {
        match self {
            Parser::Gguf => "gguf",
            Parser::Ggml => "ggml",
            Parser::Onnx => "onnx",
            Parser::Pickle | Parser::UnmarkedPickle => "pickle",
            Parser::Hdf5 => "hdf5",
            Parser::TorchZip => "pytorch",
            Parser::Npz => "npz",
            Parser::Keras => "keras",
        }
    }
}

/// Parses a zip-based format; returns `false` for a sniffed `.bin` zip that is no checkpoint.
fn read_zip(parser: Parser, window: Window, format: WeightFormat, facts: &mut ModelFacts) -> bool {
    let mut archive = match Archive::open(window) {
        Ok(archive) => archive,
        Err(problem) => {
            push_problem(facts, problem);
            return format != WeightFormat::Sniffed;
        }
    };
    let members = archive.members();
    match parser {
        Parser::TorchZip => {
            if format == WeightFormat::Sniffed && data_pickle(&members).is_none() {
                return false;
            }
            match parse_torch_zip(&mut archive, &members, facts) {
                Ok(()) => {}
                Err(ParseError::Format(problem)) => push_problem(facts, problem),
                Err(ParseError::Io(e)) => {
                    push_problem(facts, format!("the archive could not be read: {e}"));
                }
            }
        }
        Parser::Npz => parse_npz(&mut archive, &members, facts),
        Parser::Keras => {
            if !is_keras(&members) {
                push_problem(
                    facts,
                    "zip archive without `config.json` and `metadata.json`: not a .keras model"
                        .to_owned(),
                );
            }
            parse_keras(&mut archive, &members, facts);
        }
        _ => {}
    }
    true
}

fn read_hdf5<R: io::BufRead>(
    src: &mut crate::model::stream::Source<R>,
    file_size: u64,
    facts: &mut ModelFacts,
) -> Result<(), ParseError> {
    let superblock = read_superblock(src)?;
    facts.format_version = Some(format!("superblock v{}", superblock.version));
    facts.metadata.insert(
        "hdf5.objects".to_owned(),
        "not read: the HDF5 object tree is not parsed".to_owned(),
    );
    if superblock.offset > 0 {
        facts
            .metadata
            .insert("hdf5.user_block".to_owned(), superblock.offset.to_string());
    }
    if let Some(problem) = superblock.truncation(file_size) {
        push_problem(facts, problem);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_name() {
        assert_eq!(format_for("a.GGUF"), Some(WeightFormat::Gguf));
        assert_eq!(format_for("pytorch_model.bin"), Some(WeightFormat::Sniffed));
        assert_eq!(format_for("x.pth"), Some(WeightFormat::PyTorch));
        assert_eq!(format_for("x.json"), None);
        assert_eq!(format_for("bin"), None);
    }

    #[test]
    fn magics() {
        assert_eq!(magic(b"GGUF\x03"), Magic::Gguf);
        assert_eq!(magic(b"lmgg"), Magic::Ggml);
        assert_eq!(magic(b"PK\x03\x04"), Magic::Zip);
        assert_eq!(magic(b"\x80\x02c"), Magic::Pickle);
        assert_eq!(magic(b"\x80\x09"), Magic::Unknown);
        assert_eq!(magic(b""), Magic::Unknown);
    }
}
